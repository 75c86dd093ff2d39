//! Stream commands (Redis's t_stream.c): XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID,
//! and the shared pieces the other stream families use (lookups with WRONGTYPE, entry replies).
//! The value itself lives in `storage::stream`; consumer groups' commands are in
//! `stream_group.rs`, XREAD/XREADGROUP (blocking included) in `stream_read.rs`.

use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;
use crate::storage::stream::{AddId, EntryRef, Stream, StreamError, StreamId, Trim};
use crate::storage::Entry;

#[allow(clippy::too_many_arguments)]
const fn data(
    name: &'static str,
    arity: i32,
    flags: u32,
    categories: &'static str,
    summary: &'static str,
    f: super::DataFn,
) -> Command {
    Command::new(
        name,
        arity,
        flags,
        (1, 1, 1),
        categories,
        "stream",
        summary,
        "5.0.0",
        Run::Data(f, Route::Keys),
    )
}

pub fn commands() -> Vec<Command> {
    const RWF: &str = "@write @stream @fast";
    const RW: &str = "@write @stream @slow";
    const ROF: &str = "@read @stream @fast";
    const RO: &str = "@read @stream @slow";
    vec![
        data(
            "xadd",
            -5,
            WRITE | DENYOOM | FAST,
            RWF,
            "Appends a new entry to a stream",
            xadd,
        ),
        data(
            "xlen",
            2,
            READONLY | FAST,
            ROF,
            "Return the number of entries in a stream",
            xlen,
        ),
        data(
            "xrange",
            -4,
            READONLY,
            RO,
            "Return a range of elements in a stream, with IDs matching the specified IDs interval",
            xrange,
        ),
        data(
            "xrevrange",
            -4,
            READONLY,
            RO,
            "Return a range of elements in a stream, with IDs matching the specified IDs \
             interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
            xrevrange,
        ),
        data(
            "xdel",
            -3,
            WRITE | FAST,
            RWF,
            "Removes the specified entries from the stream. Returns the number of items \
             actually deleted, that may be different from the number of IDs passed in case \
             certain IDs do not exist.",
            xdel,
        ),
        data(
            "xtrim",
            -4,
            WRITE,
            RW,
            "Trims the stream to (approximately if '~' is passed) a certain size",
            xtrim,
        ),
        data(
            "xsetid",
            -3,
            WRITE | DENYOOM | FAST,
            RWF,
            "An internal command for replicating stream values",
            xsetid,
        ),
    ]
}

/// A stream error as a command error (its text is Redis's).
pub fn stream_err(e: StreamError) -> CmdError {
    CmdError::new(e.message())
}

impl<'a> Ctx<'a> {
    /// The stream at `key` (lazy expiry, LRU touched); WRONGTYPE for another type.
    pub fn lookup_stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        match self.lookup(key) {
            None => Ok(None),
            Some(e) => as_stream_mut(e).map(Some).ok_or(err::WRONGTYPE),
        }
    }

    /// `lookup_stream` counting keyspace hits and misses (read commands).
    pub fn lookup_stream_read(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        match self.lookup_read(key) {
            None => Ok(None),
            Some(e) => as_stream_mut(e).map(Some).ok_or(err::WRONGTYPE),
        }
    }

    /// `lookup_stream_read` for commands that only read: no copy of the stream under a
    /// snapshot (a BGSAVE in progress), which `as_stream_mut` would make.
    pub fn lookup_stream_ro(&mut self, key: &[u8]) -> Result<Option<&Stream>, CmdError> {
        match self.lookup_read(key) {
            None => Ok(None),
            Some(e) => as_stream(e).map(Some).ok_or(err::WRONGTYPE),
        }
    }
}

/// The stream in an entry, or None for another type. Copies the entry first under a snapshot
/// (`obj_mut`), so use `as_stream` for reads.
pub fn as_stream_mut(e: &mut crate::storage::Entry) -> Option<&mut Stream> {
    // Checked on the shared reference first: `obj_mut` copies a snapshotted entry.
    e.obj()?.as_any().downcast_ref::<Stream>()?;
    e.obj_mut()?.as_any_mut().downcast_mut::<Stream>()
}

/// The stream in an entry, for reading.
pub fn as_stream(e: &crate::storage::Entry) -> Option<&Stream> {
    e.obj()?.as_any().downcast_ref::<Stream>()
}

/// One entry as Redis replies it: `[id, [field, value, ...]]`.
pub fn write_entry(out: &mut Out, e: &EntryRef<'_>) {
    out.array(2);
    write_id(out, e.id);
    out.array(e.field_count() * 2);
    for (f, v) in e.fields() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// An ID as a bulk string ("ms-seq"), formatted on the stack.
pub fn write_id(out: &mut Out, id: StreamId) {
    let mut buf = [0u8; ID_MAX_LEN];
    out.bulk(format_id(id, &mut buf));
}

/// The longest ID text: two 20-digit numbers and the dash.
pub const ID_MAX_LEN: usize = 41;

/// `ms-seq` in `buf`, without allocating.
pub fn format_id(id: StreamId, buf: &mut [u8; ID_MAX_LEN]) -> &[u8] {
    let mut at = ID_MAX_LEN;
    for (i, mut v) in [id.seq, id.ms].into_iter().enumerate() {
        if i == 1 {
            at -= 1;
            buf[at] = b'-';
        }
        loop {
            at -= 1;
            buf[at] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
    }
    &buf[at..]
}

/// An argument as Redis's C string functions see it (strcasecmp, `opt[1] == '\0'`): up to
/// its first NUL byte.
fn c_str(a: &[u8]) -> &[u8] {
    match a.iter().position(|&b| b == 0) {
        Some(i) => &a[..i],
        None => a,
    }
}

/// `strcasecmp(arg, opt) == 0`.
fn c_is(a: &[u8], opt: &str) -> bool {
    args::is(c_str(a), opt)
}

/// What XADD's and XTRIM's options say (Redis's `streamAddTrimArgs`).
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// Most entries one trim removes; 0 for no bound.
    limit: u64,
    no_mkstream: bool,
    /// XADD: the ID and where it is (`args.len()` when the options ran out before one).
    id: AddId,
    id_pos: usize,
}

/// Redis's `streamParseAddOrTrimArgsOrReply`: same options, same order of checks, same texts.
fn parse_add_trim(a: &[&[u8]], xadd: bool) -> Result<AddTrimArgs, CmdError> {
    let mut p = AddTrimArgs {
        trim: None,
        approx: false,
        limit: 0,
        no_mkstream: false,
        id: AddId::Auto,
        id_pos: a.len(),
    };
    let mut limit_given = false;
    let mut i = 2;
    while i < a.len() {
        let more = a.len() - 1 - i;
        let opt = a[i];
        if xadd && c_str(opt) == b"*" {
            // The common case, first: an automatic ID.
            p.id_pos = i;
            break;
        }
        let maxlen = c_is(opt, "maxlen");
        if (maxlen || c_is(opt, "minid")) && more > 0 {
            if p.trim.is_some() {
                return Err(CmdError::new(
                    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
                ));
            }
            p.approx = false;
            if more >= 2 {
                match c_str(a[i + 1]) {
                    b"~" => {
                        p.approx = true;
                        i += 1;
                    }
                    b"=" => i += 1,
                    _ => {}
                }
            }
            let threshold = a[i + 1];
            p.trim = Some(if maxlen {
                let n = args::int(threshold)?;
                if n < 0 {
                    return Err(CmdError::new("ERR The MAXLEN argument must be >= 0."));
                }
                Trim::MaxLen(n as u64)
            } else {
                Trim::MinId(StreamId::parse_strict(threshold, 0).map_err(stream_err)?)
            });
            i += 2;
        } else if c_is(opt, "limit") && more > 0 {
            let n = args::int(a[i + 1])?;
            if n < 0 {
                return Err(CmdError::new("ERR The LIMIT argument must be >= 0."));
            }
            p.limit = n as u64;
            limit_given = true;
            i += 2;
        } else if xadd && c_is(opt, "nomkstream") {
            p.no_mkstream = true;
            i += 1;
        } else if xadd {
            // Not an option: the ID, or a bad one.
            p.id = AddId::parse(opt).map_err(stream_err)?;
            p.id_pos = i;
            break;
        } else {
            return Err(err::SYNTAX);
        }
    }
    if p.limit != 0 && p.trim.is_none() {
        return Err(CmdError::new(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && p.trim.is_none() {
        return Err(CmdError::new(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !p.approx {
            return Err(CmdError::new(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if p.approx {
        // Bounds the work of one approximate trim to about a hundred nodes, as Redis does.
        p.limit = crate::runtime::stream_node_limits()
            .max_entries
            .saturating_mul(100);
    }
    Ok(p)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] <*|id> field value ...
fn xadd(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    let p = parse_add_trim(a, true)?;
    let fields_at = p.id_pos + 1;
    if fields_at >= a.len() || (a.len() - fields_at) % 2 == 1 {
        return Err(CmdError::new(
            "ERR wrong number of arguments for 'xadd' command",
        ));
    }
    // Before the lookup, so that no empty stream is created.
    crate::storage::stream::check_add_id(p.id).map_err(stream_err)?;
    let pairs = &a[fields_at..];
    let limits = crate::runtime::stream_node_limits();
    let now = ctx.now;
    let added = match ctx.lookup_stream(a[1])? {
        Some(s) => {
            let r = s.add(p.id, pairs, now, limits);
            if let (Ok(_), Some(trim)) = (r, p.trim) {
                s.trim(trim, p.approx, p.limit);
            }
            if r.is_ok() {
                // One change, trimmed entries or not, as Redis counts it.
                ctx.shard.dirty += 1;
            }
            r
        }
        None if p.no_mkstream => {
            out.null();
            return Ok(());
        }
        None => {
            let mut s = Stream::new();
            let r = s.add(p.id, pairs, now, limits);
            if let (Ok(_), Some(trim)) = (r, p.trim) {
                s.trim(trim, p.approx, p.limit);
            }
            // Redis creates the key before appending: a failed append leaves it, empty.
            // Inserting counts the one change.
            let lru = ctx.shard.lru_clock;
            ctx.insert(Entry::new_obj(a[1], Box::new(s), None, lru));
            r
        }
    };
    write_id(out, added.map_err(stream_err)?);
    Ok(())
}

/// XLEN key
fn xlen(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    let n = ctx.lookup_stream_ro(a[1])?.map_or(0, |s| s.len());
    out.int(n as i64);
    Ok(())
}

/// XRANGE key start end [COUNT n]
fn xrange(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    range_command(ctx, a, out, false)
}

/// XREVRANGE key end start [COUNT n]
fn xrevrange(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    range_command(ctx, a, out, true)
}

/// Redis's `xrangeGenericCommand`: bounds parsed start first, then COUNT, then the key.
fn range_command(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out, rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev { (a[3], a[2]) } else { (a[2], a[3]) };
    let start = StreamId::parse_range_start(start_arg).map_err(stream_err)?;
    let end = StreamId::parse_range_end(end_arg).map_err(stream_err)?;
    // None: no COUNT; a negative COUNT counts as 0.
    let mut count: Option<u64> = None;
    let mut i = 4;
    while i < a.len() {
        if c_is(a[i], "count") && i + 1 < a.len() {
            count = Some(args::int(a[i + 1])?.max(0) as u64);
            i += 2;
        } else {
            return Err(err::SYNTAX);
        }
    }
    let Some(s) = ctx.lookup_stream_ro(a[1])? else {
        out.array(0);
        return Ok(());
    };
    let limit = match count {
        Some(0) => {
            out.null_array();
            return Ok(());
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => usize::MAX,
    };
    // The entries go straight into the reply; the array header, whose length is known only
    // at the end, is put in front of them then.
    let at = out.buf.len();
    let written = if rev {
        write_entries(out, s.range_rev(start, end).take(limit))
    } else {
        write_entries(out, s.range(start, end).take(limit))
    };
    let mut header = [0u8; 24];
    let header = array_header(written, &mut header);
    out.buf.splice(at..at, header.iter().copied());
    Ok(())
}

fn write_entries<'a>(out: &mut Out, entries: impl Iterator<Item = EntryRef<'a>>) -> usize {
    let mut n = 0;
    for e in entries {
        write_entry(out, &e);
        n += 1;
    }
    n
}

/// `*<n>\r\n` in `buf` (an array header is the same in RESP2 and RESP3).
fn array_header(n: usize, buf: &mut [u8; 24]) -> &[u8] {
    let mut at = buf.len() - 2;
    buf[at..].copy_from_slice(b"\r\n");
    let mut v = n;
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    at -= 1;
    buf[at] = b'*';
    &buf[at..]
}

/// XDEL key id [id ...]
fn xdel(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    // As Redis: the key first (a missing key answers 0 whatever the IDs), then every ID is
    // checked before any is deleted.
    match ctx.lookup(a[1]) {
        None => {
            out.int(0);
            return Ok(());
        }
        Some(e) if as_stream(e).is_none() => return Err(err::WRONGTYPE),
        Some(_) => {}
    }
    let ids = a[2..]
        .iter()
        .map(|id| StreamId::parse_strict(id, 0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(stream_err)?;
    let deleted = match ctx.lookup_stream(a[1])? {
        Some(s) => s.delete(&ids),
        None => 0,
    };
    // Redis counts each deleted entry as a change (and signals nothing when none went).
    ctx.shard.dirty += deleted;
    // Removing entries readies no blocked reader.
    ctx.not_ready();
    out.int(deleted as i64);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
fn xtrim(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    let p = parse_add_trim(a, false)?;
    let Some(trim) = p.trim else {
        return Err(err::SYNTAX);
    };
    let removed = match ctx.lookup_stream(a[1])? {
        Some(s) => s.trim(trim, p.approx, p.limit),
        None => 0,
    };
    ctx.shard.dirty += removed;
    ctx.not_ready();
    out.int(removed as i64);
    Ok(())
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id]
fn xsetid(ctx: &mut Ctx, a: &[&[u8]], out: &mut Out) -> CmdResult {
    let id = StreamId::parse_strict(a[2], 0).map_err(stream_err)?;
    let mut entries_added = None;
    let mut max_deleted = None;
    let mut i = 3;
    while i < a.len() {
        let more = i + 1 < a.len();
        if c_is(a[i], "entriesadded") && more {
            let n = args::int(a[i + 1])?;
            if n < 0 {
                return Err(CmdError::new("ERR entries_added must be positive"));
            }
            entries_added = Some(n as u64);
        } else if c_is(a[i], "maxdeletedid") && more {
            let max = StreamId::parse_strict(a[i + 1], 0).map_err(stream_err)?;
            crate::storage::stream::check_set_id_args(id, Some(max)).map_err(stream_err)?;
            max_deleted = Some(max);
        } else {
            return Err(err::SYNTAX);
        }
        i += 2;
    }
    let Some(s) = ctx.lookup_stream(a[1])? else {
        return Err(err::NO_SUCH_KEY);
    };
    s.set_id(id, entries_added, max_deleted)
        .map_err(stream_err)?;
    ctx.shard.dirty += 1;
    // Redis's XSETID neither signals WATCH nor serves blocked readers.
    ctx.not_modified();
    ctx.not_ready();
    out.ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_format_on_the_stack() {
        let mut buf = [0u8; ID_MAX_LEN];
        assert_eq!(format_id(StreamId::new(0, 0), &mut buf), b"0-0");
        assert_eq!(
            format_id(StreamId::new(1526919030474, 55), &mut buf),
            b"1526919030474-55"
        );
        assert_eq!(
            format_id(StreamId::MAX, &mut buf),
            b"18446744073709551615-18446744073709551615"
        );
    }

    #[test]
    fn array_headers() {
        let mut buf = [0u8; 24];
        assert_eq!(array_header(0, &mut buf), b"*0\r\n");
        assert_eq!(array_header(1234, &mut buf), b"*1234\r\n");
        assert_eq!(
            array_header(usize::MAX, &mut buf),
            format!("*{}\r\n", usize::MAX).as_bytes()
        );
    }
}
