//! XREAD and XREADGROUP (Redis's xreadCommand), and serving clients blocked on streams.
//!
//! A read runs in two phases, as in Redis: `resolve` checks every key (type, group) and parses
//! its ID, so an error anywhere changes nothing; then `read` serves the keys that have something.
//! The pieces run wherever the keys are:
//! - all keys on one shard and no BLOCK (or inside MULTI, where nothing blocks): the data
//!   command below, like any other;
//! - BLOCK, or keys on several shards: the connection drives the phases on each owner shard
//!   (src/server/blocking.rs) and, when nothing is there, registers a waiter per key;
//! - a waiter is served by `serve` when its key changes (src/runtime/blocked.rs).

use super::stream::{as_stream, as_stream_mut, stream_err, write_id};
use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;
use crate::runtime::blocked::Waiter;
use crate::runtime::shard::Shard;
use crate::storage::stream::{EntryRef, StreamId};

pub fn commands() -> Vec<Command> {
    vec![
        Command::new(
            "xread",
            -4,
            READONLY | BLOCKING,
            (0, 0, 0),
            "@read @stream @slow @blocking",
            "stream",
            "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
            "5.0.0",
            Run::Data(xread, Route::Keys),
        )
        .with_movable_keys(xread_keys),
        Command::new(
            "xreadgroup",
            -7,
            WRITE | BLOCKING,
            (0, 0, 0),
            "@write @stream @slow @blocking",
            "stream",
            "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
            "5.0.0",
            Run::Data(xread, Route::Keys),
        )
        .with_movable_keys(xreadgroup_keys),
    ]
}

/// Redis's key spec: the keys follow the STREAMS keyword, searched from `from`; the IDs are the
/// second half of what follows it.
fn streams_keys(args: &[&[u8]], from: usize) -> std::ops::Range<usize> {
    match (from..args.len()).find(|&i| args::is(args[i], "streams")) {
        Some(i) => {
            let n = (args.len() - i - 1) / 2;
            i + 1..i + 1 + n
        }
        None => 0..0,
    }
}

fn xread_keys(args: &[&[u8]]) -> std::ops::Range<usize> {
    streams_keys(args, 1)
}

fn xreadgroup_keys(args: &[&[u8]]) -> std::ops::Range<usize> {
    streams_keys(args, 4)
}

/// A blocked client served without COUNT gets at most this many entries (Redis's
/// XREAD_BLOCKED_DEFAULT_COUNT), so a low ID does not flood it.
const BLOCKED_DEFAULT_COUNT: usize = 1000;

/// XREAD / XREADGROUP's options.
#[derive(Clone, Debug)]
pub struct ReadArgs {
    /// XREADGROUP's GROUP group consumer.
    pub group: Option<(Vec<u8>, Vec<u8>)>,
    pub noack: bool,
    /// COUNT; 0 for none.
    pub count: usize,
    /// BLOCK milliseconds (0: forever).
    pub block: Option<u64>,
    /// Index in argv of the first key.
    pub streams_at: usize,
    pub nkeys: usize,
}

impl ReadArgs {
    pub fn key<'a>(&self, argv: &[&'a [u8]], i: usize) -> &'a [u8] {
        argv[self.streams_at + i]
    }

    fn id<'a>(&self, argv: &[&'a [u8]], i: usize) -> &'a [u8] {
        argv[self.streams_at + self.nkeys + i]
    }
}

/// Parses the options, as Redis does: left to right, STREAMS ends them.
pub fn parse(argv: &[&[u8]]) -> Result<ReadArgs, CmdError> {
    let group_cmd = argv.first().is_some_and(|n| args::is(n, "xreadgroup"));
    let mut a = ReadArgs {
        group: None,
        noack: false,
        count: 0,
        block: None,
        streams_at: 0,
        nkeys: 0,
    };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - i - 1;
        let o = argv[i];
        if args::is(o, "block") && more > 0 {
            i += 1;
            let t = crate::util::num::parse_i64(argv[i]).ok_or(CmdError::new(
                "ERR timeout is not an integer or out of range",
            ))?;
            if t < 0 {
                return Err(CmdError::new("ERR timeout is negative"));
            }
            a.block = Some(t as u64);
        } else if args::is(o, "count") && more > 0 {
            i += 1;
            let n = args::int(argv[i])?;
            a.count = n.max(0) as usize;
        } else if args::is(o, "streams") && more > 0 {
            a.streams_at = i + 1;
            let n = argv.len() - a.streams_at;
            if !n.is_multiple_of(2) {
                return Err(CmdError::new(
                    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
                ));
            }
            a.nkeys = n / 2;
            break;
        } else if args::is(o, "group") && more >= 2 {
            if !group_cmd {
                return Err(CmdError::new(
                    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            a.group = Some((argv[i + 1].to_vec(), argv[i + 2].to_vec()));
            i += 2;
        } else if args::is(o, "noack") {
            if !group_cmd {
                return Err(CmdError::new(
                    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
                ));
            }
            a.noack = true;
        } else {
            return Err(err::SYNTAX);
        }
        i += 1;
    }
    if a.streams_at == 0 {
        return Err(err::SYNTAX);
    }
    if group_cmd && a.group.is_none() {
        return Err(CmdError::new("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(a)
}

/// What a key is read from, once resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// XREAD: entries after this ID (`$` and `+` resolved).
    After(StreamId),
    /// XREADGROUP `>`: entries never delivered to the group.
    New,
    /// XREADGROUP with an ID: the consumer's pending entries after it.
    History(StreamId),
}

/// Checks key `i` and parses its ID (the first phase): WRONGTYPE, NOGROUP and ID errors.
pub fn resolve(ctx: &mut Ctx, a: &ReadArgs, argv: &[&[u8]], i: usize) -> Result<Want, CmdError> {
    let key = a.key(argv, i);
    let id = a.id(argv, i);
    let s = ctx.lookup_stream_read(key)?;
    if let Some((g, _)) = &a.group {
        if s.as_ref().is_none_or(|s| s.group(g).is_none()) {
            return Err(CmdError::new(format!(
                "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                String::from_utf8_lossy(key),
                String::from_utf8_lossy(g)
            )));
        }
    }
    let grouped = a.group.is_some();
    match id {
        b"$" => {
            if grouped {
                return Err(CmdError::new(
                    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
                ));
            }
            Ok(Want::After(s.map_or(StreamId::MIN, |s| s.last_id())))
        }
        b">" => {
            if !grouped {
                return Err(CmdError::new(
                    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
                ));
            }
            Ok(Want::New)
        }
        // XREAD's `+` (Redis 7.4): the last entry, i.e. anything after the one before it.
        b"+" if !grouped => Ok(Want::After(
            s.and_then(|s| s.last_id().prev()).unwrap_or(StreamId::MIN),
        )),
        _ => {
            let id = StreamId::parse_strict(id, 0).map_err(stream_err)?;
            Ok(if grouped {
                Want::History(id)
            } else {
                Want::After(id)
            })
        }
    }
}

/// Serves key `i` if it has something for the reader (the second phase): appends the reply's
/// element for it (`[key, entries]`; in RESP3 the key and entries of a map) and returns true.
pub fn read(
    ctx: &mut Ctx,
    a: &ReadArgs,
    argv: &[&[u8]],
    i: usize,
    want: Want,
    out: &mut Out,
) -> bool {
    let key = a.key(argv, i);
    let now = ctx.now;
    let Some(e) = ctx.lookup(key) else {
        return false;
    };
    match want {
        Want::After(gt) => {
            let Some(s) = as_stream(e) else { return false };
            if s.last_entry().is_none_or(|l| l.id <= gt) {
                return false;
            }
            element_key(out, key);
            write_entries(
                out,
                s.range(gt.next().unwrap_or(StreamId::MAX), StreamId::MAX),
                a.count,
            );
            true
        }
        Want::New => {
            let Some((g, c)) = &a.group else { return false };
            let Some(s) = as_stream_mut(e) else {
                return false;
            };
            let Ok(items) = s.read_group_new(g, c, a.count, a.noack, now) else {
                return false;
            };
            if items.is_empty() {
                return false;
            }
            element_key(out, key);
            out.array(items.len());
            for it in &items {
                super::stream::write_entry(out, it);
            }
            ctx.shard.dirty += 1;
            true
        }
        Want::History(id) => {
            let Some((g, c)) = &a.group else { return false };
            let Some(s) = as_stream_mut(e) else {
                return false;
            };
            // Redis serves from the ID plus one; past the largest ID it wraps to 0-0.
            let from = id.next().unwrap_or(StreamId::MIN);
            let Ok(items) = s.read_group_history(g, c, from, a.count, now) else {
                return false;
            };
            element_key(out, key);
            out.array(items.len());
            for (id, entry) in &items {
                match entry {
                    Some(e) => super::stream::write_entry(out, e),
                    None => {
                        // Deleted since delivery: the ID with a null in place of the fields.
                        out.array(2);
                        write_id(out, *id);
                        out.null_array();
                    }
                }
            }
            ctx.shard.dirty += 1;
            true
        }
    }
}

fn element_key(out: &mut Out, key: &[u8]) {
    if !out.resp3() {
        out.array(2);
    }
    out.bulk(key);
}

fn write_entries<'a>(out: &mut Out, entries: impl Iterator<Item = EntryRef<'a>>, count: usize) {
    let limit = if count == 0 { usize::MAX } else { count };
    // The count is only known at the end: write the entries aside, then the header.
    let mut body = Out::new(out.proto);
    let mut n = 0;
    for e in entries.take(limit) {
        super::stream::write_entry(&mut body, &e);
        n += 1;
    }
    out.array(n);
    out.buf.extend_from_slice(&body.buf);
}

/// The reply's header for `n` served keys: an array of pairs, or a RESP3 map.
pub fn reply_header(out: &mut Out, n: usize) {
    if out.resp3() {
        out.map(n);
    } else {
        out.array(n);
    }
}

/// XREAD / XREADGROUP on one shard holding every key, without blocking: inside MULTI, or when
/// no BLOCK was given (the connection handles the other cases).
fn xread(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let a = parse(argv)?;
    // XREADGROUP's delivery is no modification for WATCH in Redis, nor does it ready anyone.
    ctx.not_modified();
    ctx.not_ready();
    let mut wants = Vec::with_capacity(a.nkeys);
    for i in 0..a.nkeys {
        wants.push(resolve(ctx, &a, argv, i)?);
    }
    let mut body = Out::new(out.proto);
    let mut n = 0;
    for (i, &w) in wants.iter().enumerate() {
        if read(ctx, &a, argv, i, w, &mut body) {
            n += 1;
        }
    }
    if n == 0 {
        out.null_array();
    } else {
        reply_header(out, n);
        out.buf.extend_from_slice(&body.buf);
    }
    Ok(())
}

/// What a blocked client waits for on one key.
pub enum WaitFor {
    /// XREAD: an entry after this ID.
    Stream { after: StreamId },
    /// XREADGROUP `>`: an entry the group has not delivered yet.
    Group {
        group: Vec<u8>,
        consumer: Vec<u8>,
        noack: bool,
    },
}

impl WaitFor {
    /// The waiter for a resolved key, or None when the key cannot make a reader wait (history
    /// reads are always served at once).
    pub fn new(a: &ReadArgs, want: Want) -> Option<WaitFor> {
        match (want, &a.group) {
            (Want::After(after), _) => Some(WaitFor::Stream { after }),
            (Want::New, Some((g, c))) => Some(WaitFor::Group {
                group: g.clone(),
                consumer: c.clone(),
                noack: a.noack,
            }),
            _ => None,
        }
    }

    pub fn count(a: &ReadArgs) -> usize {
        if a.count == 0 {
            BLOCKED_DEFAULT_COUNT
        } else {
            a.count
        }
    }
}

/// Serves one waiter on `key` after the key changed: the whole reply for its client, or None
/// to keep it waiting. Claims the waiter's token before answering (another shard, or the
/// client's timeout, may have got there first: then None, and the token says so).
pub fn serve(sh: &mut Shard, db: usize, key: &[u8], now: u64, w: &Waiter) -> Option<Vec<u8>> {
    let (e, expired) = sh.dbs[db].lookup(key, now);
    let mut out = Out::new(w.proto);
    let mut dirty = false;
    match &w.wait {
        WaitFor::Stream { after } => {
            // Redis compares with the stream's last ID (deleted entries included) and then
            // replies with whatever is left after `after`, possibly nothing.
            let s = as_stream(e?)?;
            if s.last_id() <= *after || !w.token.claim() {
                return None;
            }
            reply_header(&mut out, 1);
            element_key(&mut out, key);
            write_entries(
                &mut out,
                s.range(after.next().unwrap_or(StreamId::MAX), StreamId::MAX),
                w.count,
            );
        }
        WaitFor::Group {
            group,
            consumer,
            noack,
        } => {
            let Some(s) = e.and_then(as_stream_mut) else {
                if !w.token.claim() {
                    return None;
                }
                out.error("UNBLOCKED the stream key no longer exists");
                return Some(out.buf);
            };
            let Some(g) = s.group(group) else {
                if !w.token.claim() {
                    return None;
                }
                out.error("NOGROUP the consumer group this client was blocked on no longer exists");
                return Some(out.buf);
            };
            let ready = s.last_entry().is_some_and(|l| l.id > g.last_id());
            if !ready || !w.token.claim() {
                return None;
            }
            let items = s
                .read_group_new(group, consumer, w.count, *noack, now)
                .unwrap_or_default();
            reply_header(&mut out, 1);
            element_key(&mut out, key);
            out.array(items.len());
            for it in &items {
                super::stream::write_entry(&mut out, it);
            }
            dirty = true;
        }
    }
    if expired {
        sh.stats.expired_keys += 1;
    }
    if dirty {
        sh.dirty += 1;
    }
    Some(out.buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<&[u8]> {
        line.split(' ').map(|w| w.as_bytes()).collect()
    }

    #[test]
    fn keys_follow_streams_whatever_the_options() {
        let a = argv("XREAD COUNT 2 BLOCK 0 STREAMS a b 0 0");
        assert_eq!(xread_keys(&a), 6..8);
        let a = argv("XREADGROUP GROUP g c NOACK STREAMS k >");
        assert_eq!(xreadgroup_keys(&a), 6..7);
        // No STREAMS: no keys (the command then answers a syntax error).
        assert_eq!(xread_keys(&argv("XREAD COUNT 2")), 0..0);
        // An odd count: the keys are the first half, rounded down.
        assert_eq!(xread_keys(&argv("XREAD STREAMS a b 0")), 2..3);
    }

    #[test]
    fn options_parse_as_redis_does() {
        let a = parse(&argv("XREAD COUNT -3 BLOCK 100 STREAMS a b 0 $")).unwrap();
        assert_eq!(
            (a.count, a.block, a.streams_at, a.nkeys),
            (0, Some(100), 6, 2)
        );
        let a = parse(&argv("xreadgroup group g c noack count 5 streams k >")).unwrap();
        assert_eq!(a.group, Some((b"g".to_vec(), b"c".to_vec())));
        assert!(a.noack);
        assert_eq!(a.count, 5);
        let e = |l: &str| parse(&argv(l)).unwrap_err().0.into_owned();
        assert_eq!(e("XREAD BLOCK -1 STREAMS a 0"), "ERR timeout is negative");
        assert_eq!(e("XREAD COUNT 1"), "ERR syntax error");
        assert_eq!(
            e("XREADGROUP COUNT 1 STREAMS a 0"),
            "ERR Missing GROUP option for XREADGROUP"
        );
        assert!(e("XREAD STREAMS a b 0").starts_with("ERR Unbalanced XREAD list"));
        assert!(e("XREAD NOACK STREAMS a 0").contains("NOACK option is only supported"));
        // The value of COUNT is never mistaken for STREAMS.
        let a = parse(&argv("XREAD COUNT 1 STREAMS streams 0")).unwrap();
        assert_eq!((a.streams_at, a.nkeys), (4, 1));
    }
}
