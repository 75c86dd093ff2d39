//! String commands (Redis's t_string.c).

use super::{args, arity_error, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;
use crate::storage::Entry;
use crate::util::num::{format_i64, incr_by_float, parse_i64, IncrFloatError};

/// The largest string a command may build (proto-max-bulk-len, live).
use crate::runtime::proto_max_bulk_len;

#[allow(clippy::too_many_arguments)]
const fn data(
    name: &'static str,
    arity: i32,
    flags: u32,
    first: i32,
    last: i32,
    step: i32,
    categories: &'static str,
    summary: &'static str,
    since: &'static str,
    f: super::DataFn,
) -> Command {
    let run = Run::Data(f, Route::Keys);
    Command::new(
        name,
        arity,
        flags,
        (first, last, step),
        categories,
        "string",
        summary,
        since,
        run,
    )
}

pub fn commands() -> Vec<Command> {
    const RW: &str = "@write @string @slow";
    const RWF: &str = "@write @string @fast";
    const RO: &str = "@read @string @slow";
    const ROF: &str = "@read @string @fast";
    vec![
        data(
            "get",
            2,
            READONLY | FAST,
            1,
            1,
            1,
            ROF,
            "Get the value of a key",
            "1.0.0",
            get,
        ),
        data(
            "set",
            -3,
            WRITE | DENYOOM,
            1,
            1,
            1,
            RW,
            "Set the string value of a key",
            "1.0.0",
            set,
        ),
        data(
            "getdel",
            2,
            WRITE | FAST,
            1,
            1,
            1,
            RWF,
            "Get the value of a key and delete the key",
            "6.2.0",
            getdel,
        ),
        data(
            "getex",
            -2,
            WRITE | FAST,
            1,
            1,
            1,
            RWF,
            "Get the value of a key and optionally set its expiration",
            "6.2.0",
            getex,
        ),
        data(
            "setnx",
            3,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Set the value of a key, only if the key does not exist",
            "1.0.0",
            setnx,
        ),
        data(
            "setex",
            4,
            WRITE | DENYOOM,
            1,
            1,
            1,
            RW,
            "Set the value and expiration of a key",
            "2.0.0",
            setex,
        ),
        data(
            "psetex",
            4,
            WRITE | DENYOOM,
            1,
            1,
            1,
            RW,
            "Set the value and expiration in milliseconds of a key",
            "2.6.0",
            psetex,
        ),
        data(
            "mget",
            -2,
            READONLY | FAST,
            1,
            -1,
            1,
            ROF,
            "Get the values of all the given keys",
            "1.0.0",
            mget,
        ),
        data(
            "mset",
            -3,
            WRITE | DENYOOM,
            1,
            -1,
            2,
            RW,
            "Set multiple keys to multiple values",
            "1.0.1",
            mset,
        ),
        data(
            "msetnx",
            -3,
            WRITE | DENYOOM,
            1,
            -1,
            2,
            RW,
            "Set multiple keys to multiple values, only if none of the keys exist",
            "1.0.1",
            msetnx,
        ),
        data(
            "append",
            3,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Append a value to a key",
            "2.0.0",
            append,
        ),
        data(
            "strlen",
            2,
            READONLY | FAST,
            1,
            1,
            1,
            ROF,
            "Get the length of the value stored in a key",
            "2.2.0",
            strlen,
        ),
        data(
            "getrange",
            4,
            READONLY,
            1,
            1,
            1,
            RO,
            "Get a substring of the string stored at a key",
            "2.4.0",
            getrange,
        ),
        data(
            "substr",
            4,
            READONLY,
            1,
            1,
            1,
            RO,
            "Get a substring of the string stored at a key",
            "1.0.0",
            getrange,
        ),
        data(
            "setrange",
            4,
            WRITE | DENYOOM,
            1,
            1,
            1,
            RW,
            "Overwrite part of a string at key starting at the specified offset",
            "2.2.0",
            setrange,
        ),
        data(
            "incr",
            2,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Increment the integer value of a key by one",
            "1.0.0",
            incr,
        ),
        data(
            "decr",
            2,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Decrement the integer value of a key by one",
            "1.0.0",
            decr,
        ),
        data(
            "incrby",
            3,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Increment the integer value of a key by the given amount",
            "1.0.0",
            incrby,
        ),
        data(
            "decrby",
            3,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Decrement the integer value of a key by the given number",
            "1.0.0",
            decrby,
        ),
        data(
            "incrbyfloat",
            3,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Increment the float value of a key by the given amount",
            "2.6.0",
            incrbyfloat,
        ),
        data(
            "getset",
            3,
            WRITE | DENYOOM | FAST,
            1,
            1,
            1,
            RWF,
            "Set the string value of a key and return its old value",
            "1.0.0",
            getset,
        ),
        data(
            "lcs",
            -3,
            READONLY,
            1,
            2,
            1,
            RO,
            "Find longest common substring",
            "7.0.0",
            lcs,
        ),
    ]
}

/// Replies with a key's value (nil if absent), counting the hit or miss: Redis's getGenericCommand.
/// WRONGTYPE (nothing written) if the key holds another type.
fn reply_value(ctx: &mut Ctx, key: &[u8], out: &mut Out) -> Result<bool, CmdError> {
    match ctx.lookup_read_str(key)? {
        Some(e) => {
            out.bulk(e.value());
            Ok(true)
        }
        None => {
            out.null();
            Ok(false)
        }
    }
}

fn get(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    reply_value(ctx, argv[1], out)?;
    Ok(())
}

/// How an expire argument is given.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpKind {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// The options of SET and GETEX (Redis's parseExtendedStringArgumentsOrReply).
#[derive(Default)]
struct ExtOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpKind, &'a [u8])>,
}

/// Parses options from `argv[start..]`. `is_set` selects SET's options (NX XX GET KEEPTTL)
/// instead of GETEX's (PERSIST). Every conflicting combination is a syntax error, as in Redis;
/// repeating the same expire option is allowed (the last one wins).
fn parse_ext<'a>(argv: &[&'a [u8]], start: usize, is_set: bool) -> Result<ExtOpts<'a>, CmdError> {
    let mut o = ExtOpts::default();
    let mut j = start;
    while j < argv.len() {
        let a = argv[j];
        let next = argv.get(j + 1).copied();
        let kind = if args::is(a, "EX") {
            Some(ExpKind::Ex)
        } else if args::is(a, "PX") {
            Some(ExpKind::Px)
        } else if args::is(a, "EXAT") {
            Some(ExpKind::ExAt)
        } else if args::is(a, "PXAT") {
            Some(ExpKind::PxAt)
        } else {
            None
        };
        if let Some(kind) = kind {
            let other = matches!(o.expire, Some((k, _)) if k != kind);
            match next {
                Some(v) if !o.keepttl && !o.persist && !other => {
                    o.expire = Some((kind, v));
                    j += 2;
                    continue;
                }
                _ => return Err(err::SYNTAX),
            }
        }
        if is_set && args::is(a, "NX") && !o.xx {
            o.nx = true;
        } else if is_set && args::is(a, "XX") && !o.nx {
            o.xx = true;
        } else if is_set && args::is(a, "GET") {
            o.get = true;
        } else if is_set && args::is(a, "KEEPTTL") && o.expire.is_none() {
            o.keepttl = true;
        } else if !is_set && args::is(a, "PERSIST") && o.expire.is_none() {
            o.persist = true;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// The absolute expire time (ms) an expire argument asks for (Redis's
/// getExpireMillisecondsOrReply): non-positive or overflowing times are refused.
fn expire_time(now: u64, kind: ExpKind, arg: &[u8], cmd: &str) -> Result<u64, CmdError> {
    let n = args::int(arg)?;
    let secs = matches!(kind, ExpKind::Ex | ExpKind::ExAt);
    if n <= 0 || (secs && n > i64::MAX / 1000) {
        return Err(err::invalid_expire(cmd));
    }
    let ms = if secs { n * 1000 } else { n };
    let at = if matches!(kind, ExpKind::Ex | ExpKind::Px) {
        ms.checked_add(i64::try_from(now).unwrap_or(i64::MAX))
    } else {
        Some(ms)
    };
    match at {
        Some(at) if at > 0 => Ok(at as u64),
        _ => Err(err::invalid_expire(cmd)),
    }
}

/// What SET replies when it stores / when NX or XX stops it (SETNX answers 1 / 0).
#[derive(Clone, Copy)]
enum SetReply {
    Ok,
    One,
}

/// Redis's setGenericCommand.
fn set_generic(
    ctx: &mut Ctx,
    key: &[u8],
    value: &[u8],
    o: &ExtOpts,
    cmd: &str,
    reply: SetReply,
    out: &mut Out,
) -> CmdResult {
    let at = match o.expire {
        Some((kind, arg)) => Some(expire_time(ctx.now, kind, arg, cmd)?),
        None => None,
    };
    if o.get {
        reply_value(ctx, key, out)?;
    }
    // Some(old TTL) when the key exists; a plain SET skips this lookup (the hot path).
    let old = if o.nx || o.xx || o.keepttl {
        ctx.lookup(key).map(|e| e.expire_at())
    } else {
        None
    };
    let found = old.is_some();
    if (o.nx && found) || (o.xx && !found) {
        if !o.get {
            match reply {
                SetReply::Ok => out.null(),
                SetReply::One => out.int(0),
            }
        }
        return Ok(());
    }
    let expire = if o.keepttl { old.flatten() } else { at };
    // An expire time already past is stored as is: like Redis, the key is gone at its next
    // access (or sweep), and counts as expired then.
    ctx.set(key, value, expire);
    if !o.get {
        match reply {
            SetReply::Ok => out.ok(),
            SetReply::One => out.int(1),
        }
    }
    Ok(())
}

fn set(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let o = parse_ext(argv, 3, true)?;
    set_generic(ctx, argv[1], argv[2], &o, "set", SetReply::Ok, out)
}

fn setnx(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let o = ExtOpts {
        nx: true,
        ..ExtOpts::default()
    };
    set_generic(ctx, argv[1], argv[2], &o, "setnx", SetReply::One, out)
}

fn setex(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let o = ExtOpts {
        expire: Some((ExpKind::Ex, argv[2])),
        ..ExtOpts::default()
    };
    set_generic(ctx, argv[1], argv[3], &o, "setex", SetReply::Ok, out)
}

fn psetex(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let o = ExtOpts {
        expire: Some((ExpKind::Px, argv[2])),
        ..ExtOpts::default()
    };
    set_generic(ctx, argv[1], argv[3], &o, "psetex", SetReply::Ok, out)
}

fn getex(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let o = parse_ext(argv, 2, false)?;
    let key = argv[1];
    if ctx.lookup_read_str(key)?.is_none() {
        out.null();
        return Ok(());
    }
    // The expire time is checked only once the key is known to exist, as in Redis.
    let at = match o.expire {
        Some((kind, arg)) => Some((kind, expire_time(ctx.now, kind, arg, "getex")?)),
        None => None,
    };
    if let Some(e) = ctx.lookup(key) {
        out.bulk(e.value());
    }
    match at {
        Some((ExpKind::ExAt | ExpKind::PxAt, at)) if at <= ctx.now => {
            ctx.remove(key);
        }
        Some((_, at)) => {
            ctx.db().set_expire(key, Some(at));
            ctx.shard.dirty += 1;
        }
        None if o.persist => {
            let volatile = ctx.lookup(key).is_some_and(|e| e.expire_at().is_some());
            if volatile {
                ctx.db().set_expire(key, None);
                ctx.shard.dirty += 1;
            }
        }
        None => {}
    }
    Ok(())
}

fn getdel(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    if reply_value(ctx, argv[1], out)? {
        ctx.remove(argv[1]);
    }
    Ok(())
}

fn getset(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    reply_value(ctx, argv[1], out)?;
    ctx.set(argv[1], argv[2], None);
    Ok(())
}

fn mget(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    out.array(argv.len() - 1);
    for k in &argv[1..] {
        // MGET answers nil for keys of another type, no error.
        match ctx.lookup_read(k) {
            Some(e) if e.is_string() => out.bulk(e.value()),
            _ => out.null(),
        }
    }
    Ok(())
}

fn mset(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::new(arity_error("mset")));
    }
    for kv in argv[1..].chunks_exact(2) {
        ctx.set(kv[0], kv[1], None);
    }
    out.ok();
    Ok(())
}

fn msetnx(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    if argv.len().is_multiple_of(2) {
        return Err(CmdError::new(arity_error("msetnx")));
    }
    // All or nothing: one existing key and none is set (across shards the coordinator runs this
    // on a scratch shard holding every key, so it stays atomic).
    if argv[1..].iter().step_by(2).any(|k| ctx.exists(k)) {
        out.int(0);
        return Ok(());
    }
    for kv in argv[1..].chunks_exact(2) {
        ctx.set(kv[0], kv[1], None);
    }
    out.int(1);
    Ok(())
}

/// Redis's checkStringLength: `len + add` must fit proto-max-bulk-len.
fn check_len(len: u64, add: u64) -> CmdResult {
    match len.checked_add(add) {
        Some(t) if t <= proto_max_bulk_len() => Ok(()),
        _ => Err(err::STRING_TOO_LONG),
    }
}

fn append(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let (key, add) = (argv[1], argv[2]);
    let new = match ctx.lookup_str(key)? {
        None => None,
        Some(e) => {
            let old = e.value();
            check_len(old.len() as u64, add.len() as u64)?;
            let mut v = Vec::with_capacity(old.len() + add.len());
            v.extend_from_slice(old);
            v.extend_from_slice(add);
            // An appended string is raw-encoded in Redis; the TTL stays.
            Some(e.with_value(&v))
        }
    };
    let len = match new {
        Some(e) => {
            let n = e.value().len();
            ctx.insert(e);
            n
        }
        None => {
            ctx.set(key, add, None);
            add.len()
        }
    };
    out.int(len as i64);
    Ok(())
}

fn strlen(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let n = ctx.lookup_read_str(argv[1])?.map_or(0, |e| e.value().len());
    out.int(n as i64);
    Ok(())
}

fn getrange(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let mut start = args::int(argv[2])?;
    let mut end = args::int(argv[3])?;
    let Some(e) = ctx.lookup_read_str(argv[1])? else {
        out.bulk(b"");
        return Ok(());
    };
    let v = e.value();
    let len = v.len() as i64;
    if start < 0 && end < 0 && start > end {
        out.bulk(b"");
        return Ok(());
    }
    // Negative indexes count from the end; len is far from i64's limits, so no overflow.
    if start < 0 {
        start += len;
    }
    if end < 0 {
        end += len;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        out.bulk(b"");
    } else {
        out.bulk(&v[start as usize..=end as usize]);
    }
    Ok(())
}

fn setrange(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let (key, val) = (argv[1], argv[3]);
    let offset = args::int(argv[2])?;
    if offset < 0 {
        return Err(CmdError::new("ERR offset is out of range"));
    }
    let offset = offset as u64;
    let lru = ctx.shard.lru_clock;
    let new = match ctx.lookup_str(key)? {
        None => {
            if val.is_empty() {
                out.int(0);
                return Ok(());
            }
            check_len(offset, val.len() as u64)?;
            let mut v = vec![0u8; offset as usize + val.len()];
            v[offset as usize..].copy_from_slice(val);
            // Redis builds it as a raw string, whatever its content.
            let mut e = Entry::new(key, &v, None, lru);
            e.set_raw();
            e
        }
        Some(e) => {
            let olen = e.value().len();
            if val.is_empty() {
                out.int(olen as i64);
                return Ok(());
            }
            check_len(offset, val.len() as u64)?;
            let (off, end) = (offset as usize, offset as usize + val.len());
            if end <= olen {
                e.value_mut()[off..end].copy_from_slice(val);
                ctx.shard.dirty += 1;
                out.int(olen as i64);
                return Ok(());
            }
            let mut v = Vec::with_capacity(end);
            v.extend_from_slice(e.value());
            v.resize(end, 0);
            v[off..].copy_from_slice(val);
            e.with_value(&v)
        }
    };
    let n = new.value().len();
    ctx.insert(new);
    out.int(n as i64);
    Ok(())
}

/// INCR and friends: the value must be a 64-bit integer; the TTL stays.
fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64, out: &mut Out) -> CmdResult {
    let lru = ctx.shard.lru_clock;
    let (old, expire) = match ctx.lookup_str(key)? {
        None => (0, None),
        Some(e) => (parse_i64(e.value()).ok_or(err::NOT_INT)?, e.expire_at()),
    };
    let new = old.checked_add(delta).ok_or(err::OVERFLOW)?;
    let mut s = Vec::with_capacity(20);
    format_i64(new, &mut s);
    ctx.insert(Entry::new(key, &s, expire, lru));
    out.int(new);
    Ok(())
}

fn incr(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    incr_by(ctx, argv[1], 1, out)
}

fn decr(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    incr_by(ctx, argv[1], -1, out)
}

fn incrby(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let d = args::int(argv[2])?;
    incr_by(ctx, argv[1], d, out)
}

fn decrby(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let d = args::int(argv[2])?;
    // -i64::MIN does not exist.
    let d = d
        .checked_neg()
        .ok_or_else(|| CmdError::new("ERR decrement would overflow"))?;
    incr_by(ctx, argv[1], d, out)
}

fn incrbyfloat(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let key = argv[1];
    let lru = ctx.shard.lru_clock;
    // Redis adds in x87 long double; incr_by_float reproduces its digits exactly.
    let (res, expire) = match ctx.lookup_str(key)? {
        None => (incr_by_float(b"0", argv[2]), None),
        Some(e) => (incr_by_float(e.value(), argv[2]), e.expire_at()),
    };
    let s = match res {
        Ok(s) => s,
        Err(IncrFloatError::NanOrInfinity) => {
            return Err(CmdError::new("ERR increment would produce NaN or Infinity"))
        }
        Err(_) => return Err(err::NOT_FLOAT),
    };
    let mut e = Entry::new(key, &s, expire, lru);
    // Redis stores INCRBYFLOAT results as strings (embstr), never int-encoded.
    e.set_no_int();
    ctx.insert(e);
    out.bulk(&s);
    Ok(())
}

fn lcs(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let mut value = |k: &[u8]| -> Result<Vec<u8>, CmdError> {
        match ctx.lookup_read(k) {
            Some(e) if !e.is_string() => Err(CmdError::new(
                "ERR The specified keys must contain string values",
            )),
            Some(e) => Ok(e.value().to_vec()),
            None => Ok(Vec::new()),
        }
    };
    let a = value(argv[1])?;
    let b = value(argv[2])?;
    let (mut getidx, mut getlen, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let o = argv[j];
        if args::is(o, "IDX") {
            getidx = true;
        } else if args::is(o, "LEN") {
            getlen = true;
        } else if args::is(o, "WITHMATCHLEN") {
            withmatchlen = true;
        } else if args::is(o, "MINMATCHLEN") && j + 1 < argv.len() {
            minmatchlen = args::int(argv[j + 1])?.max(0);
            j += 1;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    if getidx && getlen {
        return Err(CmdError::new(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return Err(CmdError::new("ERR String too long for LCS"));
    }
    let (alen, blen) = (a.len(), b.len());
    // The DP table is (alen+1)*(blen+1) u32s; Redis refuses it above proto-max-bulk-len.
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > proto_max_bulk_len() {
        return Err(CmdError::new(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let mut t: Vec<u32> = Vec::new();
    if t.try_reserve_exact(cells as usize).is_err() {
        return Err(CmdError::new(
            "ERR Insufficient memory, failed allocating transient memory for LCS",
        ));
    }
    t.resize(cells as usize, 0);
    let w = blen + 1;
    for i in 1..=alen {
        for j in 1..=blen {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let total = t[alen * w + blen];
    if getlen && !getidx {
        out.int(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the LCS and its matching ranges exactly as Redis does
    // (same tie-break, same range grouping), so IDX replies come out identical.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    // (a_start, a_end, b_start, b_end, len) of each emitted range.
    let mut ranges: Vec<(usize, usize, usize, usize, usize)> = Vec::new();
    let (mut i, mut j) = (alen, blen);
    let unset = alen;
    let (mut as_, mut ae, mut bs, mut be) = (unset, 0usize, 0usize, 0usize);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if as_ == unset {
                as_ = i - 1;
                ae = i - 1;
                bs = j - 1;
                be = j - 1;
            } else if as_ == i && bs == j {
                as_ -= 1;
                bs -= 1;
            } else {
                emit = true;
            }
            if as_ == 0 || bs == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if as_ != unset {
                emit = true;
            }
        }
        if emit {
            let mlen = ae.wrapping_sub(as_).wrapping_add(1);
            if minmatchlen == 0 || mlen as i64 >= minmatchlen {
                ranges.push((as_, ae, bs, be, mlen));
            }
            as_ = unset;
        }
    }
    if !getidx {
        out.bulk(&result);
        return Ok(());
    }
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for (as_, ae, bs, be, mlen) in ranges {
        out.array(if withmatchlen { 3 } else { 2 });
        out.array(2);
        out.int(as_ as i64);
        out.int(ae as i64);
        out.array(2);
        out.int(bs as i64);
        out.int(be as i64);
        if withmatchlen {
            out.int(mlen as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(name: &str) -> Command {
        commands()
            .into_iter()
            .find(|c| c.name == name)
            .expect("command")
    }

    #[test]
    fn key_specs_and_flags_follow_redis() {
        for (name, first, last, step) in [
            ("mset", 1, -1, 2),
            ("msetnx", 1, -1, 2),
            ("mget", 1, -1, 1),
            ("lcs", 1, 2, 1),
            ("get", 1, 1, 1),
        ] {
            let c = find(name);
            assert_eq!(
                (c.first_key, c.last_key, c.step),
                (first, last, step),
                "{name}"
            );
        }
        assert_eq!(
            find("mset").key_positions(&[b"x"; 5]).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(
            find("lcs").key_positions(&[b"x"; 5]).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert_eq!(find("getdel").flags, WRITE | FAST);
        assert_eq!(find("setnx").flags, WRITE | DENYOOM | FAST);
        assert_eq!(find("getrange").flags, READONLY);
        assert_eq!(find("incrbyfloat").categories, "@write @string @fast");
    }

    #[test]
    fn option_parser_rejects_conflicts() {
        let p = |a: &[&[u8]], set| parse_ext(a, 0, set).is_ok();
        assert!(p(&[b"NX", b"GET", b"EX", b"1", b"EX", b"2"], true));
        assert!(!p(&[b"NX", b"XX"], true));
        assert!(!p(&[b"EX"], true));
        assert!(!p(&[b"EX", b"1", b"PXAT", b"1"], true));
        assert!(!p(&[b"KEEPTTL", b"PX", b"1"], true));
        assert!(!p(&[b"PERSIST"], true));
        assert!(p(&[b"PERSIST"], false));
        assert!(!p(&[b"NX"], false));
        assert!(!p(&[b"PERSIST", b"EX", b"1"], false));
    }

    #[test]
    fn expire_times_are_checked_for_overflow() {
        let now = 1_700_000_000_000;
        assert_eq!(
            expire_time(now, ExpKind::Ex, b"10", "set"),
            Ok(now + 10_000)
        );
        assert_eq!(expire_time(now, ExpKind::PxAt, b"5", "set"), Ok(5));
        assert!(expire_time(now, ExpKind::Ex, b"0", "set").is_err());
        assert!(expire_time(now, ExpKind::Ex, b"9223372036854776", "set").is_err());
        assert!(expire_time(now, ExpKind::Px, b"9223372036854775807", "set").is_err());
        assert_eq!(
            expire_time(now, ExpKind::ExAt, b"-1", "getex"),
            Err(err::invalid_expire("getex"))
        );
    }
}
