//! Keyspace commands (Redis's db.c, expire.c and the key parts of object.c).
//!
//! Key commands run on the shard owning their keys (multi-key ones through the coordinator);
//! commands over the whole keyspace (KEYS, FLUSHDB, SWAPDB, RANDOMKEY) run on every shard at
//! once as global operations; SCAN walks the shards one after the other, its cursor naming the
//! shard it is on.

use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::{Out, Reply};
use crate::runtime::shard::DATABASES;
use crate::server::conn::{ConnCtx, Effect};
use crate::storage::Entry;
use crate::util::glob::glob_match;

#[allow(clippy::too_many_arguments)]
const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    first: i32,
    last: i32,
    categories: &'static str,
    group: &'static str,
    summary: &'static str,
    since: &'static str,
    run: Run,
) -> Command {
    let step = if first > 0 { 1 } else { 0 };
    Command::new(
        name,
        arity,
        flags,
        (first, last, step),
        categories,
        group,
        summary,
        since,
        run,
    )
}

const fn keys(f: super::DataFn) -> Run {
    Run::Data(f, Route::Keys)
}

pub fn commands() -> Vec<Command> {
    const G: &str = "generic";
    vec![
        cmd("del", -2, WRITE, 1, -1, "@keyspace @write @slow", G, "Deletes one or more keys.", "1.0.0", keys(del)),
        cmd("unlink", -2, WRITE | FAST, 1, -1, "@keyspace @write @fast", G, "Asynchronously deletes one or more keys.", "4.0.0", keys(del)),
        cmd("exists", -2, READONLY | FAST, 1, -1, "@keyspace @read @fast", G, "Determines whether one or more keys exist.", "1.0.0", keys(exists)),
        cmd("touch", -2, READONLY | FAST, 1, -1, "@keyspace @read @fast", G, "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1", keys(touch)),
        cmd("expire", -3, WRITE | FAST, 1, 1, "@keyspace @write @fast", G, "Sets the expiration time of a key in seconds.", "1.0.0", keys(expire)),
        cmd("pexpire", -3, WRITE | FAST, 1, 1, "@keyspace @write @fast", G, "Sets the expiration time of a key in milliseconds.", "2.6.0", keys(pexpire)),
        cmd("expireat", -3, WRITE | FAST, 1, 1, "@keyspace @write @fast", G, "Sets the expiration time of a key to a Unix timestamp.", "1.2.0", keys(expireat)),
        cmd("pexpireat", -3, WRITE | FAST, 1, 1, "@keyspace @write @fast", G, "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", keys(pexpireat)),
        cmd("ttl", 2, READONLY | FAST, 1, 1, "@keyspace @read @fast", G, "Returns the expiration time in seconds of a key.", "1.0.0", keys(ttl)),
        cmd("pttl", 2, READONLY | FAST, 1, 1, "@keyspace @read @fast", G, "Returns the expiration time in milliseconds of a key.", "2.6.0", keys(pttl)),
        cmd("expiretime", 2, READONLY | FAST, 1, 1, "@keyspace @read @fast", G, "Returns the expiration time of a key as a Unix timestamp.", "7.0.0", keys(expiretime)),
        cmd("pexpiretime", 2, READONLY | FAST, 1, 1, "@keyspace @read @fast", G, "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", keys(pexpiretime)),
        cmd("persist", 2, WRITE | FAST, 1, 1, "@keyspace @write @fast", G, "Removes the expiration time of a key.", "2.2.0", keys(persist)),
        cmd("type", 2, READONLY | FAST, 1, 1, "@keyspace @read @fast", G, "Determines the type of value stored at a key.", "1.0.0", keys(type_cmd)),
        cmd("randomkey", 1, READONLY, 0, 0, "@keyspace @read @slow", G, "Returns a random key name from the database.", "1.0.0", Run::Conn(randomkey)),
        cmd("rename", 3, WRITE, 1, 2, "@keyspace @write @slow", G, "Renames a key and overwrites the destination.", "1.0.0", keys(rename)),
        cmd("renamenx", 3, WRITE | FAST, 1, 2, "@keyspace @write @fast", G, "Renames a key only when the target key name doesn't exist.", "1.0.0", keys(renamenx)),
        cmd("copy", -3, WRITE | DENYOOM, 1, 2, "@keyspace @write @slow", G, "Copies the value of a key to a new key.", "6.2.0", keys(copy)),
        cmd("move", 3, WRITE | FAST, 1, 1, "@keyspace @write @fast", G, "Moves a key to another database.", "1.0.0", keys(move_cmd)),
        cmd("object", -2, 0, 0, 0, "@slow", G, "A container for object introspection commands.", "2.2.3", Run::Data(object, Route::Custom(sub_key_route))).with_movable_keys(super::subcommand_key),
        cmd("memory", -2, 0, 0, 0, "@slow", "server", "A container for memory diagnostics commands.", "4.0.0", Run::Data(memory, Route::Custom(sub_key_route))).with_movable_keys(super::subcommand_key),
        cmd("keys", 2, READONLY, 0, 0, "@keyspace @read @slow @dangerous", G, "Returns all key names that match a pattern.", "1.0.0", Run::Conn(keys_cmd)),
        cmd("flushdb", -1, WRITE, 0, 0, "@keyspace @write @slow @dangerous", "server", "Remove all keys from the current database.", "1.0.0", Run::Conn(flushdb)),
        cmd("swapdb", 3, WRITE | FAST, 0, 0, "@keyspace @write @fast @dangerous", "server", "Swaps two Redis databases.", "4.0.0", Run::Conn(swapdb)),
        cmd("scan", -2, READONLY, 0, 0, "@keyspace @read @slow", G, "Iterates over the key names in the database.", "2.8.0", Run::Data(scan, Route::Custom(scan_route))),
    ]
}

const SAME_OBJECT: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "ERR source and destination objects are the same",
));
const INVALID_CURSOR: CmdError = CmdError(std::borrow::Cow::Borrowed("ERR invalid cursor"));
/// Redis's getIntFromObjectOrReply error for a valid long long outside the C int range.
const INT_RANGE: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "ERR value is out of range, value must between -2147483648 and 2147483647",
));

/// getIntFromObjectOrReply: a long long that must also fit a C int.
fn int32(a: &[u8]) -> Result<i64, CmdError> {
    let v = args::int(a)?;
    if i32::try_from(v).is_err() {
        return Err(INT_RANGE);
    }
    Ok(v)
}

/// A database index argument as MOVE and COPY ... DB read it.
fn db_index(a: &[u8]) -> Result<usize, CmdError> {
    let v = int32(a)?;
    if !(0..DATABASES as i64).contains(&v) {
        return Err(err::DB_INDEX);
    }
    Ok(v as usize)
}

/// A read lookup that counts keyspace hits/misses but keeps the LRU clock (Redis's
/// lookupKeyReadWithFlags(LOOKUP_NOTOUCH): TTL, TYPE, EXISTS, OBJECT).
fn lookup_notouch<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Option<&'c mut Entry> {
    let now = ctx.now;
    let shard = &mut *ctx.shard;
    let (e, expired) = shard.dbs[ctx.db].lookup(key, now);
    if expired {
        shard.stats.expired_keys += 1;
    }
    if e.is_some() {
        shard.stats.keyspace_hits += 1;
    } else {
        shard.stats.keyspace_misses += 1;
    }
    e
}

/// A stored expiry as Redis's signed milliseconds.
fn expire_i64(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

fn del(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let n = argv[1..].iter().filter(|k| ctx.remove(k).is_some()).count();
    out.int(n as i64);
    Ok(())
}

fn exists(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    // Every argument counts, duplicates included (EXISTS k k is 2).
    let n = argv[1..]
        .iter()
        .filter(|k| lookup_notouch(ctx, k).is_some())
        .count();
    out.int(n as i64);
    Ok(())
}

fn touch(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let n = argv[1..]
        .iter()
        .filter(|k| ctx.lookup_read(k).is_some())
        .count();
    out.int(n as i64);
    Ok(())
}

// ---- expiry ----------------------------------------------------------------------------------

const EXPIRE_NX: u8 = 1;
const EXPIRE_XX: u8 = 2;
const EXPIRE_GT: u8 = 4;
const EXPIRE_LT: u8 = 8;

/// The NX/XX/GT/LT options after EXPIRE's time (parseExtendedExpireArgumentsOrReply).
fn expire_flags(opts: &[&[u8]]) -> Result<u8, CmdError> {
    let mut f = 0;
    for o in opts {
        f |= if args::is(o, "nx") {
            EXPIRE_NX
        } else if args::is(o, "xx") {
            EXPIRE_XX
        } else if args::is(o, "gt") {
            EXPIRE_GT
        } else if args::is(o, "lt") {
            EXPIRE_LT
        } else {
            return Err(CmdError::new(format!(
                "ERR Unsupported option {}",
                String::from_utf8_lossy(o)
            )));
        };
    }
    if f & EXPIRE_NX != 0 && f & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT) != 0 {
        return Err(CmdError::new(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f & EXPIRE_GT != 0 && f & EXPIRE_LT != 0 {
        return Err(CmdError::new(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    Ok(f)
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (expireGenericCommand). `relative`: the time is added to
/// now; `seconds`: it is in seconds.
fn expire_generic(
    ctx: &mut Ctx,
    argv: &[&[u8]],
    out: &mut Out,
    relative: bool,
    seconds: bool,
) -> CmdResult {
    let name = if seconds { "expire" } else { "pexpire" };
    let name = if relative {
        name.to_string()
    } else {
        format!("{name}at")
    };
    let flags = expire_flags(&argv[3..])?;
    let mut when = args::int(argv[2])?;
    if seconds {
        when = when
            .checked_mul(1000)
            .ok_or_else(|| err::invalid_expire(&name))?;
    }
    if relative {
        let base = i64::try_from(ctx.now).unwrap_or(i64::MAX);
        when = when
            .checked_add(base)
            .ok_or_else(|| err::invalid_expire(&name))?;
    }
    let key = argv[1];
    let Some(e) = ctx.lookup(key) else {
        out.int(0);
        return Ok(());
    };
    // -1: no expiry, which GT treats as infinite and LT as never less.
    let current = e.expire_at().map_or(-1, expire_i64);
    let refuse = (flags & EXPIRE_NX != 0 && current != -1)
        || (flags & EXPIRE_XX != 0 && current == -1)
        || (flags & EXPIRE_GT != 0 && (when <= current || current == -1))
        || (flags & EXPIRE_LT != 0 && current != -1 && when >= current);
    if refuse {
        out.int(0);
        return Ok(());
    }
    if when <= expire_i64(ctx.now) {
        // A time already past deletes the key (and says 1, as Redis).
        ctx.remove(key);
    } else {
        // when > now >= 0 here, so the cast is exact.
        ctx.db().set_expire(key, Some(when as u64));
        ctx.shard.dirty += 1;
    }
    out.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    expire_generic(ctx, argv, out, true, true)
}

fn pexpire(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    expire_generic(ctx, argv, out, true, false)
}

fn expireat(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    expire_generic(ctx, argv, out, false, true)
}

fn pexpireat(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    expire_generic(ctx, argv, out, false, false)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME (ttlGenericCommand): -2 no key, -1 no expiry.
fn ttl_generic(
    ctx: &mut Ctx,
    argv: &[&[u8]],
    out: &mut Out,
    ms: bool,
    absolute: bool,
) -> CmdResult {
    let now = expire_i64(ctx.now);
    let Some(e) = lookup_notouch(ctx, argv[1]) else {
        out.int(-2);
        return Ok(());
    };
    let Some(at) = e.expire_at() else {
        out.int(-1);
        return Ok(());
    };
    let at = expire_i64(at);
    let t = if absolute {
        at
    } else {
        at.saturating_sub(now).max(0)
    };
    // Seconds round to nearest, as Redis's (ttl+500)/1000 (computed wide: no overflow).
    let v = if ms {
        t
    } else {
        ((t as i128 + 500) / 1000) as i64
    };
    out.int(v);
    Ok(())
}

fn ttl(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, argv, out, false, false)
}

fn pttl(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, argv, out, true, false)
}

fn expiretime(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, argv, out, false, true)
}

fn pexpiretime(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    ttl_generic(ctx, argv, out, true, true)
}

fn persist(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let had = matches!(ctx.lookup(argv[1]), Some(e) if e.expire_at().is_some());
    if had {
        ctx.db().set_expire(argv[1], None);
        ctx.shard.dirty += 1;
    }
    out.int(had as i64);
    Ok(())
}

fn type_cmd(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let t = lookup_notouch(ctx, argv[1]).map_or("none", |e| e.type_name());
    out.simple(t);
    Ok(())
}

// ---- rename, copy, move ----------------------------------------------------------------------

/// A copy of an entry under another key name, keeping value, expiry, encoding and LRU.
fn renamed(e: &Entry, key: &[u8], lru: u32) -> Entry {
    let mut n = e.with_key(key);
    n.touch(lru);
    n
}

fn rename_generic(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out, nx: bool) -> CmdResult {
    let (src, dst) = (argv[1], argv[2]);
    if ctx.lookup(src).is_none() {
        return Err(err::NO_SUCH_KEY);
    }
    if src == dst {
        // Renaming a key to itself changes nothing, once it is known to exist.
        if nx {
            out.int(0);
        } else {
            out.ok();
        }
        return Ok(());
    }
    if ctx.lookup(dst).is_some() && nx {
        out.int(0);
        return Ok(());
    }
    let db = ctx.db();
    let Some(old) = db.remove(src) else {
        return Err(err::NO_SUCH_KEY);
    };
    // Replaces any destination: the moved value keeps its TTL, encoding and LRU.
    db.insert(renamed(&old, dst, old.lru()));
    ctx.shard.dirty += 1;
    if nx {
        out.int(1);
    } else {
        out.ok();
    }
    Ok(())
}

fn rename(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    rename_generic(ctx, argv, out, false)
}

fn renamenx(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    rename_generic(ctx, argv, out, true)
}

/// COPY's options: (destination db if given, REPLACE). Later DB options win, as in Redis.
fn copy_options(argv: &[&[u8]]) -> Result<(Option<usize>, bool), CmdError> {
    let (mut db, mut replace) = (None, false);
    let mut j = 3;
    while j < argv.len() {
        if args::is(argv[j], "replace") {
            replace = true;
        } else if args::is(argv[j], "db") && j + 1 < argv.len() {
            db = Some(db_index(argv[j + 1])?);
            j += 1;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    Ok((db, replace))
}

/// The database of key argument `pos` of a multi-shard command, for the coordinator's key list:
/// COPY's destination lives in the db named by its DB option; every other key in the client's.
/// (An invalid option gives the client's db; the command then fails with the option's error.)
pub fn key_db(cmd: &Command, argv: &[&[u8]], pos: usize, cur_db: usize) -> usize {
    if cmd.name == "copy" && pos == 2 {
        if let Ok((Some(db), _)) = copy_options(argv) {
            return db;
        }
    }
    cur_db
}

fn copy(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let (src, dst) = (argv[1], argv[2]);
    let (dst_db, replace) = copy_options(argv)?;
    let dst_db = dst_db.unwrap_or(ctx.db);
    if dst_db == ctx.db && src == dst {
        return Err(SAME_OBJECT);
    }
    let lru = ctx.shard.lru_clock;
    let Some(e) = ctx.lookup_read(src) else {
        out.int(0);
        return Ok(());
    };
    // The copy is a new object: same value, encoding and expiry, a fresh LRU clock.
    let new = renamed(e, dst, lru);
    let now = ctx.now;
    let (existing, expired) = ctx.shard.dbs[dst_db].lookup(dst, now);
    let exists = existing.is_some();
    if expired {
        ctx.shard.stats.expired_keys += 1;
    }
    if exists && !replace {
        out.int(0);
        return Ok(());
    }
    ctx.shard.dbs[dst_db].insert(new);
    ctx.shard.dirty += 1;
    out.int(1);
    Ok(())
}

fn move_cmd(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let key = argv[1];
    let dst_db = db_index(argv[2])?;
    if dst_db == ctx.db {
        return Err(SAME_OBJECT);
    }
    if ctx.lookup(key).is_none() {
        out.int(0);
        return Ok(());
    }
    // Same key, so the same shard: the destination db is right here.
    let now = ctx.now;
    let (existing, expired) = ctx.shard.dbs[dst_db].lookup(key, now);
    let exists = existing.is_some();
    if expired {
        ctx.shard.stats.expired_keys += 1;
    }
    if exists {
        out.int(0);
        return Ok(());
    }
    let Some(e) = ctx.db().remove(key) else {
        out.int(0);
        return Ok(());
    };
    ctx.shard.dbs[dst_db].insert(e);
    ctx.shard.dirty += 1;
    out.int(1);
    Ok(())
}

// ---- OBJECT, MEMORY --------------------------------------------------------------------------

/// OBJECT and MEMORY are containers (no keys of their own, as COMMAND INFO shows); their key
/// subcommands take the key at argv[2], which picks the shard.
fn sub_key_route(argv: &[&[u8]], nshards: usize) -> Option<usize> {
    argv.get(2)
        .map(|k| crate::runtime::slot::key_shard(k, nshards))
}

/// "ERR unknown subcommand 'x'. Try OBJECT HELP." (argv[0] upper-cased as typed, the
/// subcommand cut to 128 bytes, as Redis).
fn unknown_subcommand(argv: &[&[u8]]) -> CmdError {
    let sub = argv.get(1).copied().unwrap_or(b"");
    CmdError::new(format!(
        "ERR unknown subcommand '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        String::from_utf8_lossy(argv[0]).to_uppercase()
    ))
}

fn sub_arity(container: &str, sub: &str) -> CmdError {
    CmdError::new(super::arity_error(&format!("{container}|{sub}")))
}

fn help(out: &mut Out, lines: &[&str]) {
    out.array(lines.len());
    for l in lines {
        out.simple(l);
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis shares the integer objects 0..9999; their refcount reads as INT_MAX.
const OBJ_SHARED_INTEGERS: i64 = 10_000;
const OBJ_SHARED_REFCOUNT: i64 = i32::MAX as i64;

fn object(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let sub = argv[1];
    if args::is(sub, "help") {
        if argv.len() != 2 {
            return Err(sub_arity("object", "help"));
        }
        help(out, OBJECT_HELP);
        return Ok(());
    }
    let name = ["encoding", "freq", "idletime", "refcount"]
        .into_iter()
        .find(|n| args::is(sub, n))
        .ok_or_else(|| unknown_subcommand(argv))?;
    if argv.len() != 3 {
        return Err(sub_arity("object", name));
    }
    let clock = ctx.shard.lru_clock;
    let Some(e) = lookup_notouch(ctx, argv[2]) else {
        out.null();
        return Ok(());
    };
    match name {
        "encoding" => out.bulk(e.encoding().as_bytes()),
        "freq" => {
            // No LFU policy exists here, so frequency is never tracked.
            return Err(CmdError::new(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            ));
        }
        "idletime" => {
            // Both clocks are seconds in 24 bits; the entry's may be "ahead" after a wrap.
            let lru = e.lru();
            let idle = if clock >= lru {
                clock - lru
            } else {
                clock + (crate::storage::entry::LRU_MASK - lru)
            };
            out.int(idle as i64);
        }
        _ => {
            let shared = e.is_string()
                && e.encoding() == "int"
                && crate::util::num::parse_i64(e.value())
                    .is_some_and(|v| (0..OBJ_SHARED_INTEGERS).contains(&v));
            out.int(if shared { OBJ_SHARED_REFCOUNT } else { 1 });
        }
    }
    Ok(())
}

const MEMORY_HELP: &[&str] = &[
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
];

fn memory(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let sub = argv[1];
    if args::is(sub, "usage") {
        if argv.len() < 3 {
            return Err(sub_arity("memory", "usage"));
        }
        let mut j = 3;
        while j < argv.len() {
            if args::is(argv[j], "samples") && j + 1 < argv.len() {
                // Only strings exist, so the sample count changes nothing but must be valid.
                if args::int(argv[j + 1])? < 0 {
                    return Err(err::SYNTAX);
                }
                j += 2;
            } else {
                return Err(err::SYNTAX);
            }
        }
        // As Redis's dictFind: a logically expired key not yet reclaimed still has a size.
        match ctx.db().table().get(argv[2]) {
            Some(e) => out.int(e.mem_usage() as i64),
            None => out.null(),
        }
        return Ok(());
    }
    let name = ["help", "purge", "malloc-stats"]
        .into_iter()
        .find(|n| args::is(sub, n))
        .ok_or_else(|| unknown_subcommand(argv))?;
    if argv.len() != 2 {
        return Err(sub_arity("memory", name));
    }
    match name {
        "help" => help(out, MEMORY_HELP),
        "purge" => out.ok(),
        // What Redis answers when not built with jemalloc.
        _ => out.bulk(b"Stats not supported for the current allocator"),
    }
    Ok(())
}

// ---- global: KEYS, FLUSHDB, SWAPDB, RANDOMKEY ------------------------------------------------

fn keys_cmd(c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> Result<Effect, CmdError> {
    let db = c.db;
    let pattern = argv[1].to_vec();
    let now = crate::storage::now_ms();
    Ok(Effect::global(
        move |sh| {
            let all = pattern == b"*";
            Reply::Array(
                sh.dbs[db]
                    .iter()
                    .filter(|e| !e.is_expired(now) && (all || glob_match(&pattern, e.key(), false)))
                    .map(|e| Reply::Bulk(e.key().to_vec()))
                    .collect(),
            )
        },
        |_c, replies, out| {
            let n = replies
                .iter()
                .map(|r| if let Reply::Array(v) = r { v.len() } else { 0 })
                .sum();
            out.array(n);
            for r in &replies {
                if let Reply::Array(v) = r {
                    for k in v {
                        out.reply(k);
                    }
                }
            }
            Ok(())
        },
    ))
}

fn flushdb(c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> Result<Effect, CmdError> {
    // ASYNC and SYNC both free at once; anything else is a syntax error.
    if argv.len() > 2
        || (argv.len() == 2 && !args::is(argv[1], "async") && !args::is(argv[1], "sync"))
    {
        return Err(err::SYNTAX);
    }
    let db = c.db;
    Ok(Effect::global(
        move |sh| {
            sh.dirty += sh.dbs[db].len() as u64;
            sh.touch_watched_db(db, crate::storage::now_ms());
            sh.dbs[db].clear();
            Reply::Ok
        },
        |_c, _r, out| {
            out.ok();
            Ok(())
        },
    ))
}

fn swapdb(_c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> Result<Effect, CmdError> {
    let parse = |a: &[u8], msg: &'static str| -> Result<i64, CmdError> {
        crate::util::num::parse_i64(a)
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or(CmdError::new(msg))
    };
    let a = parse(argv[1], "ERR invalid first DB index")?;
    let b = parse(argv[2], "ERR invalid second DB index")?;
    let range = 0..DATABASES as i64;
    if !range.contains(&a) || !range.contains(&b) {
        return Err(err::DB_INDEX);
    }
    let (a, b) = (a as usize, b as usize);
    // Every shard swaps under one global hold, so no client sees half a swap.
    Ok(Effect::global(
        move |sh| {
            if a != b {
                // Watched keys present in either db change (Redis's touchAllWatchedKeysInDb).
                let now = crate::storage::now_ms();
                sh.touch_watched_db(a, now);
                sh.touch_watched_db(b, now);
                sh.dbs.swap(a, b);
                sh.touch_watched_db(a, now);
                sh.touch_watched_db(b, now);
            }
            sh.dirty += 1;
            Reply::Ok
        },
        |_c, _r, out| {
            out.ok();
            Ok(())
        },
    ))
}

fn randomkey(c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> Result<Effect, CmdError> {
    let db = c.db;
    let now = crate::storage::now_ms();
    Ok(Effect::global(
        move |sh| {
            let len = sh.dbs[db].len() as i64;
            // Seeded from the shard's generator (which cannot be borrowed beside the db).
            let mut seed = sh.rand() | 1;
            let key = sh.dbs[db].random_key(now, || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            });
            match key {
                // The shard's key count weights the pick, so every key is about as likely.
                Some(k) => Reply::Array(vec![Reply::Bulk(k), Reply::Int(len)]),
                None => Reply::Null,
            }
        },
        |c, replies, out| {
            let picks: Vec<(&Reply, u64)> = replies
                .iter()
                .filter_map(|r| match r {
                    Reply::Array(v) => match v.as_slice() {
                        [k, Reply::Int(n)] => Some((k, (*n).max(1) as u64)),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            let total: u64 = picks.iter().map(|p| p.1).sum();
            if total == 0 {
                out.null();
                return Ok(());
            }
            let mut r = c.local.shard.borrow_mut().rand() % total;
            for (k, w) in &picks {
                if r < *w {
                    out.reply(k);
                    return Ok(());
                }
                r -= w;
            }
            out.null();
            Ok(())
        },
    ))
}

// ---- SCAN ------------------------------------------------------------------------------------

/// Cursor layout: the top bits name the shard, the rest is the shard's hash position with its
/// low GRANULARITY bits dropped (Table::scan never splits keys that share them).
const SHARD_BITS: u32 = 10;
const POS_BITS: u32 = 64 - SHARD_BITS;
const POS_MASK: u64 = (1 << POS_BITS) - 1;
const GRANULARITY: u32 = SHARD_BITS;

/// The cursor as Redis reads it (strtoul: optional sign, '-' wraps around, no leading space,
/// nothing after the digits, the empty string is 0).
fn parse_cursor(a: &[u8]) -> Option<u64> {
    let (neg, digits) = match a.first() {
        Some(b'-') => (true, &a[1..]),
        Some(b'+') => (false, &a[1..]),
        _ => (false, a),
    };
    if a.is_empty() {
        return Some(0);
    }
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn scan_route(argv: &[&[u8]], nshards: usize) -> Option<usize> {
    let shard = (parse_cursor(argv.get(1)?)? >> POS_BITS) as usize;
    (shard < nshards).then_some(shard)
}

fn scan(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let cursor = parse_cursor(argv[1]).ok_or(INVALID_CURSOR)?;
    let (mut count, mut pattern, mut typ): (usize, Option<&[u8]>, Option<&[u8]>) = (10, None, None);
    let mut i = 2;
    while i < argv.len() {
        let more = i + 1 < argv.len();
        if args::is(argv[i], "count") && more {
            let n = args::int(argv[i + 1])?;
            if n < 1 {
                return Err(err::SYNTAX);
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args::is(argv[i], "match") && more {
            // "*" matches everything: no need to match.
            pattern = Some(argv[i + 1]).filter(|p| *p != b"*");
        } else if args::is(argv[i], "type") && more {
            typ = Some(argv[i + 1]);
        } else {
            return Err(err::SYNTAX);
        }
        i += 2;
    }
    let shard = (cursor >> POS_BITS) as usize;
    let nshards = ctx.shard.nshards;
    if shard >= nshards || shard != ctx.shard.index {
        // A cursor past the last shard: the iteration is over.
        out.array(2);
        out.bulk(b"0");
        out.array(0);
        return Ok(());
    }
    let now = ctx.now;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut expired: Vec<Vec<u8>> = Vec::new();
    let shard_ref = &mut *ctx.shard;
    let stats = &mut shard_ref.stats;
    let next = shard_ref.dbs[ctx.db].table().scan(
        (cursor & POS_MASK) << GRANULARITY,
        count,
        GRANULARITY,
        |e| {
            if let Some(p) = pattern {
                if !glob_match(p, e.key(), false) {
                    return;
                }
            }
            if e.is_expired(now) {
                expired.push(e.key().to_vec());
                return;
            }
            if let Some(t) = typ {
                // Redis looks each candidate up to learn its type (a keyspace hit).
                stats.keyspace_hits += 1;
                if !t.eq_ignore_ascii_case(e.type_name().as_bytes()) {
                    return;
                }
            }
            keys.push(e.key().to_vec());
        },
    );
    // Expired keys met on the way are reclaimed, as Redis's expireIfNeeded does.
    for k in &expired {
        if ctx.db().remove(k).is_some() {
            ctx.db().note_expired(k);
            ctx.shard.stats.expired_keys += 1;
        }
    }
    let next_cursor = match next {
        Some(pos) => ((shard as u64) << POS_BITS) | (pos >> GRANULARITY),
        None if shard + 1 < nshards => ((shard + 1) as u64) << POS_BITS,
        None => 0,
    };
    out.array(2);
    out.bulk(next_cursor.to_string().as_bytes());
    out.array(keys.len());
    for k in &keys {
        out.bulk(k);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parses_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1 "), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b"x"), None);
    }

    #[test]
    fn scan_route_reads_the_shard() {
        let c = format!("{}", (3u64 << POS_BITS) | 12345);
        assert_eq!(scan_route(&[b"scan", c.as_bytes()], 4), Some(3));
        assert_eq!(scan_route(&[b"scan", c.as_bytes()], 2), None);
        assert_eq!(scan_route(&[b"scan", b"0"], 4), Some(0));
        assert_eq!(scan_route(&[b"scan", b"bad"], 4), None);
    }

    #[test]
    fn copy_destination_db() {
        let (_, copy) = super::super::lookup(b"copy").unwrap();
        let argv: Vec<&[u8]> = vec![b"copy", b"a", b"b", b"db", b"3"];
        assert_eq!(key_db(copy, &argv, 2, 0), 3);
        assert_eq!(key_db(copy, &argv, 1, 0), 0);
        let argv: Vec<&[u8]> = vec![b"copy", b"a", b"b", b"db", b"x"];
        assert_eq!(key_db(copy, &argv, 2, 5), 5);
    }
}
