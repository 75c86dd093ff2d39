//! Consumer-group commands (Redis's t_stream.c, second half): XGROUP, XACK, XPENDING, XCLAIM,
//! XAUTOCLAIM, and XINFO (STREAM, GROUPS, CONSUMERS).
//!
//! The group logic lives in `storage::stream` (group.rs); this file parses arguments in Redis
//! 7.0.15's order (so the same error wins when several apply), words the errors as it does, and
//! shapes the replies. XGROUP and XINFO are containers like OBJECT: routed by the key after the
//! subcommand, their subcommand names and arities checked here.

use std::borrow::Cow;

use super::stream::{as_stream, as_stream_mut, stream_err, write_entry, write_id};
use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::Out;
use crate::storage::stream::{ClaimOptions, Group, Stream, StreamId};
use crate::storage::Entry;
use crate::util::num::parse_i64;

#[allow(clippy::too_many_arguments)]
const fn keyed(
    name: &'static str,
    arity: i32,
    flags: u32,
    categories: &'static str,
    summary: &'static str,
    since: &'static str,
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
        since,
        Run::Data(f, Route::Keys),
    )
}

/// A container (no keys of its own, as COMMAND INFO shows); its subcommands' key is argv[2].
const fn container(name: &'static str, summary: &'static str, f: super::DataFn) -> Command {
    Command::new(
        name,
        -2,
        0,
        (0, 0, 0),
        "@slow",
        "stream",
        summary,
        "5.0.0",
        Run::Data(f, Route::Custom(sub_key_route)),
    )
    .with_movable_keys(super::subcommand_key)
}

pub fn commands() -> Vec<Command> {
    const RWF: &str = "@write @stream @fast";
    vec![
        container("xgroup", "A container for consumer groups commands", xgroup),
        container(
            "xinfo",
            "A container for stream introspection commands",
            xinfo,
        ),
        keyed(
            "xack",
            -4,
            WRITE | FAST,
            RWF,
            "Marks a pending message as correctly processed, effectively removing it from the \
             pending entries list of the consumer group. Return value of the command is the \
             number of messages successfully acknowledged, that is, the IDs we were actually \
             able to resolve in the PEL.",
            "5.0.0",
            xack,
        ),
        keyed(
            "xpending",
            -3,
            READONLY,
            "@read @stream @slow",
            "Return information and entries from a stream consumer group pending entries list, \
             that are messages fetched but never acknowledged.",
            "5.0.0",
            xpending,
        ),
        keyed(
            "xclaim",
            -6,
            WRITE | FAST,
            RWF,
            "Changes (or acquires) ownership of a message in a consumer group, as if the \
             message was delivered to the specified consumer.",
            "5.0.0",
            xclaim,
        ),
        keyed(
            "xautoclaim",
            -6,
            WRITE | FAST,
            RWF,
            "Changes (or acquires) ownership of messages in a consumer group, as if the \
             messages were delivered to the specified consumer.",
            "6.2.0",
            xautoclaim,
        ),
    ]
}

// ---- shared pieces ---------------------------------------------------------------------------

fn sub_key_route(argv: &[&[u8]], nshards: usize) -> Option<usize> {
    argv.get(2)
        .map(|k| crate::runtime::slot::key_shard(k, nshards))
}

/// An argument as Redis's `%s` prints it: C string functions stop at a NUL byte.
fn cstr(a: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(until_nul(a))
}

/// `%.128s`: a C string cut to 128 bytes.
fn cstr128(a: &[u8]) -> Cow<'_, str> {
    cstr(&a[..a.len().min(128)])
}

/// The bytes C string functions see: up to the first NUL.
fn until_nul(a: &[u8]) -> &[u8] {
    let end = a.iter().position(|&b| b == 0).unwrap_or(a.len());
    &a[..end]
}

fn is_dollar(a: &[u8]) -> bool {
    until_nul(a) == b"$"
}

/// An option name, compared as Redis does (`strcasecmp`, so a NUL ends the argument).
fn opt(a: &[u8], name: &str) -> bool {
    until_nul(a).eq_ignore_ascii_case(name.as_bytes())
}

/// Checks a container's subcommand the way Redis does before running it: unknown names and
/// wrong arities (`subs` holds each name with its arity, Redis's convention) are refused.
fn subcommand(argv: &[&[u8]], subs: &[(&'static str, i32)]) -> Result<&'static str, CmdError> {
    let container = String::from_utf8_lossy(argv[0]).to_ascii_lowercase();
    let Some(&(name, arity)) = subs.iter().find(|(n, _)| args::is(argv[1], n)) else {
        return Err(CmdError::new(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            cstr128(argv[1]),
            container.to_ascii_uppercase()
        )));
    };
    let n = argv.len() as i32;
    if (arity >= 0 && n != arity) || n < -arity {
        return Err(CmdError::new(super::arity_error(&format!(
            "{container}|{name}"
        ))));
    }
    Ok(name)
}

/// Redis's `addReplySubcommandSyntaxError`.
fn subcommand_syntax(argv: &[&[u8]]) -> CmdError {
    CmdError::new(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        cstr128(argv[1]),
        String::from_utf8_lossy(argv[0]).to_ascii_uppercase()
    ))
}

/// Redis's `addReplyHelp`: a header naming the command, the lines, and HELP itself.
fn help(out: &mut Out, command: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// "NOGROUP No such consumer group 'g' for key name 'k'" (XGROUP, XINFO CONSUMERS).
fn no_group_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::new(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        cstr(group),
        cstr(key)
    ))
}

/// "NOGROUP No such key 'k' or consumer group 'g'" (XPENDING, XCLAIM, XAUTOCLAIM).
fn no_key_or_group(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::new(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        cstr(key),
        cstr(group)
    ))
}

fn parse_strict_id(a: &[u8]) -> Result<StreamId, CmdError> {
    StreamId::parse_strict(a, 0).map_err(stream_err)
}

/// An integer argument with the command's own error text.
fn int_or(a: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    parse_i64(a).ok_or(CmdError(Cow::Borrowed(msg)))
}

/// The stream at `key` for reading (hits and misses counted, no copy under a snapshot).
fn read_stream<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c Stream>, CmdError> {
    match ctx.lookup_read(key) {
        None => Ok(None),
        Some(e) => as_stream(e).map(Some).ok_or(err::WRONGTYPE),
    }
}

fn stream_of(e: &mut Entry) -> Result<&mut Stream, CmdError> {
    as_stream_mut(e).ok_or(err::WRONGTYPE)
}

// ---- XGROUP ----------------------------------------------------------------------------------

const XGROUP_SUBS: &[(&str, i32)] = &[
    ("create", -5),
    ("createconsumer", 5),
    ("delconsumer", 5),
    ("destroy", 4),
    ("help", 2),
    ("setid", -5),
];

const XGROUP_HELP: &[&str] = &[
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
];

const XGROUP_NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that \
     for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

fn xgroup(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let sub = subcommand(argv, XGROUP_SUBS)?;
    if sub == "help" {
        help(out, "XGROUP", XGROUP_HELP);
        return Ok(());
    }
    // Options first (CREATE and SETID), then the key, then the group: Redis's order.
    let mut mkstream = false;
    let mut entries_read: Option<u64> = None;
    let mut i = 5;
    while i < argv.len() {
        if sub == "create" && opt(argv[i], "mkstream") {
            mkstream = true;
            i += 1;
        } else if matches!(sub, "create" | "setid")
            && opt(argv[i], "entriesread")
            && i + 1 < argv.len()
        {
            let n = args::int(argv[i + 1])?;
            if n < -1 {
                return Err(CmdError::new(
                    "ERR value for ENTRIESREAD must be positive or -1",
                ));
            }
            entries_read = u64::try_from(n).ok();
            i += 2;
        } else {
            return Err(subcommand_syntax(argv));
        }
    }
    let (key, group) = (argv[2], argv[3]);
    let now = ctx.now;
    let stream = match ctx.lookup(key) {
        Some(e) => Some(stream_of(e)?),
        None => None,
    };
    let Some(stream) = stream else {
        if !mkstream {
            return Err(CmdError::new(XGROUP_NEEDS_KEY));
        }
        // Only CREATE takes MKSTREAM: a new stream, if the rest is valid.
        if argv.len() > 8 {
            return Err(subcommand_syntax(argv));
        }
        let at = if is_dollar(argv[4]) {
            StreamId::MIN
        } else {
            parse_strict_id(argv[4])?
        };
        let mut s = Stream::new();
        s.create_group(group, at, entries_read)
            .map_err(stream_err)?;
        let lru = ctx.shard.lru_clock;
        ctx.insert(Entry::new_obj(key, Box::new(s), None, lru));
        ctx.shard.dirty += 1;
        // A new key is a modification for WATCH (the container carries no write flag, so
        // the generic signalling does not see it).
        let db = ctx.db;
        ctx.shard.watched.touch(db, key);
        out.ok();
        return Ok(());
    };
    let exists = stream.group(group).is_some();
    if !exists && matches!(sub, "setid" | "createconsumer" | "delconsumer") {
        return Err(no_group_for_key(key, group));
    }
    let changed = match sub {
        "create" if argv.len() <= 8 => {
            let at = if is_dollar(argv[4]) {
                stream.last_id()
            } else {
                parse_strict_id(argv[4])?
            };
            stream
                .create_group(group, at, entries_read)
                .map_err(stream_err)?;
            out.ok();
            true
        }
        "setid" if argv.len() == 5 || argv.len() == 7 => {
            let at = if is_dollar(argv[4]) {
                stream.last_id()
            } else {
                StreamId::parse(argv[4], 0).map_err(stream_err)?
            };
            // The group exists (checked above).
            let _ = stream.set_group_id(group, at, entries_read);
            out.ok();
            true
        }
        "destroy" => {
            let destroyed = stream.destroy_group(group);
            out.int(i64::from(destroyed));
            destroyed
        }
        "createconsumer" => {
            let created = stream
                .create_consumer(group, argv[4], now)
                .map_err(|_| no_group_for_key(key, group))?;
            out.int(i64::from(created));
            created
        }
        "delconsumer" => {
            let existed = stream
                .group(group)
                .is_some_and(|g| g.consumer(argv[4]).is_some());
            let pending = stream
                .delete_consumer(group, argv[4])
                .map_err(|_| no_group_for_key(key, group))?;
            out.int(pending as i64);
            existed
        }
        _ => return Err(subcommand_syntax(argv)),
    };
    if changed {
        ctx.shard.dirty += 1;
    }
    // Only DESTROY wakes blocked readers (to tell them NOGROUP); moving a group's cursor
    // back must not serve them, as in Redis.
    if sub != "destroy" {
        ctx.not_ready();
    }
    Ok(())
}

// ---- XACK ------------------------------------------------------------------------------------

fn xack(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    // As Redis: group bookkeeping is no modification for WATCH, and readies no reader.
    ctx.not_modified();
    ctx.not_ready();
    let (key, group) = (argv[1], argv[2]);
    let Some(e) = ctx.lookup_read(key) else {
        out.int(0);
        return Ok(());
    };
    if as_stream(e).ok_or(err::WRONGTYPE)?.group(group).is_none() {
        out.int(0);
        return Ok(());
    }
    // All IDs are checked before any is acknowledged: all or nothing.
    let ids = argv[3..]
        .iter()
        .map(|a| parse_strict_id(a))
        .collect::<Result<Vec<_>, _>>()?;
    let acked = stream_of(e)?.ack(group, &ids);
    ctx.shard.dirty += acked;
    out.int(acked as i64);
    Ok(())
}

// ---- XPENDING --------------------------------------------------------------------------------

/// XPENDING's range form: `[IDLE min-idle] start end count [consumer]`.
struct PendingRange<'a> {
    min_idle: i64,
    start: StreamId,
    end: StreamId,
    count: usize,
    consumer: Option<&'a [u8]>,
}

fn parse_pending_range<'a>(argv: &[&'a [u8]]) -> Result<Option<PendingRange<'a>>, CmdError> {
    let n = argv.len();
    if n == 3 {
        return Ok(None);
    }
    if !(6..=9).contains(&n) {
        return Err(err::SYNTAX);
    }
    let mut at = 3;
    let mut min_idle = 0;
    if opt(argv[3], "idle") {
        min_idle = args::int(argv[4])?;
        if n < 8 {
            return Err(err::SYNTAX);
        }
        at = 5;
    }
    // Redis reads the count before the IDs; arguments past the consumer are ignored.
    let count = args::int(argv[at + 2])?.max(0);
    let start = StreamId::parse_range_start(argv[at]).map_err(stream_err)?;
    let end = StreamId::parse_range_end(argv[at + 1]).map_err(stream_err)?;
    Ok(Some(PendingRange {
        min_idle,
        start,
        end,
        count: usize::try_from(count).unwrap_or(usize::MAX),
        consumer: argv.get(at + 3).copied(),
    }))
}

fn xpending(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let range = parse_pending_range(argv)?;
    let (key, group) = (argv[1], argv[2]);
    let now = ctx.now;
    let stream = read_stream(ctx, key)?;
    let Some(stream) = stream.filter(|s| s.group(group).is_some()) else {
        return Err(no_key_or_group(key, group));
    };
    let Some(r) = range else {
        let summary = stream
            .pending_summary(group)
            .map_err(|_| no_key_or_group(key, group))?;
        out.array(4);
        out.int(summary.count as i64);
        match summary.range {
            None => {
                out.null();
                out.null();
                out.null_array();
            }
            Some((first, last)) => {
                write_id(out, first);
                write_id(out, last);
                out.array(summary.consumers.len());
                for (name, n) in &summary.consumers {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(*n as i64);
                }
            }
        }
        return Ok(());
    };
    let lines = stream
        .pending_range(group, r.start, r.end, r.count, r.consumer, r.min_idle, now)
        .map_err(|_| no_key_or_group(key, group))?;
    out.array(lines.len());
    for p in &lines {
        out.array(4);
        write_id(out, p.id);
        out.bulk(p.consumer);
        out.int(p.idle_ms as i64);
        out.int(p.delivery_count as i64);
    }
    Ok(())
}

// ---- XCLAIM, XAUTOCLAIM ----------------------------------------------------------------------

/// XCLAIM's IDs (up to the first argument that is not one) and options.
fn parse_claim(argv: &[&[u8]], now: u64) -> Result<(Vec<StreamId>, ClaimOptions), CmdError> {
    let mut ids = Vec::new();
    let mut j = 5;
    while j < argv.len() {
        match StreamId::parse_strict(argv[j], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        j += 1;
    }
    let mut opts = ClaimOptions::default();
    let mut retry_count: i64 = -1;
    while j < argv.len() {
        let word = argv[j];
        let more = j + 1 < argv.len();
        if opt(word, "force") {
            opts.force = true;
        } else if opt(word, "justid") {
            opts.justid = true;
        } else if opt(word, "idle") && more {
            j += 1;
            let idle = int_or(argv[j], "ERR Invalid IDLE option argument for XCLAIM")?;
            opts.delivery_time_ms = Some((now as i64).wrapping_sub(idle));
        } else if opt(word, "time") && more {
            j += 1;
            let at = int_or(argv[j], "ERR Invalid TIME option argument for XCLAIM")?;
            opts.delivery_time_ms = Some(at);
        } else if opt(word, "retrycount") && more {
            j += 1;
            retry_count = int_or(argv[j], "ERR Invalid RETRYCOUNT option argument for XCLAIM")?;
        } else if opt(word, "lastid") && more {
            j += 1;
            opts.last_id = Some(parse_strict_id(argv[j])?);
        } else {
            return Err(CmdError::new(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                cstr(word)
            )));
        }
        j += 1;
    }
    // A negative count is Redis's "not given" (the delivery count is then incremented).
    opts.retry_count = u64::try_from(retry_count).ok();
    Ok((ids, opts))
}

fn xclaim(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    // As Redis: group bookkeeping is no modification for WATCH, and readies no reader.
    ctx.not_modified();
    ctx.not_ready();
    let (key, group, consumer) = (argv[1], argv[2], argv[3]);
    let now = ctx.now;
    let Some(e) = ctx.lookup_read(key) else {
        return Err(no_key_or_group(key, group));
    };
    if as_stream(e).ok_or(err::WRONGTYPE)?.group(group).is_none() {
        return Err(no_key_or_group(key, group));
    }
    let min_idle = int_or(argv[4], "ERR Invalid min-idle-time argument for XCLAIM")?.max(0);
    let (ids, opts) = parse_claim(argv, now)?;
    let stream = stream_of(e)?;
    let before = group_state(stream, group);
    let claimed = stream
        .claim(group, consumer, min_idle as u64, &ids, &opts, now)
        .map_err(|_| no_key_or_group(key, group))?;
    out.array(claimed.len());
    for entry in &claimed {
        if opts.justid {
            write_id(out, entry.id);
        } else {
            write_entry(out, entry);
        }
    }
    let changes = claimed.len() as u64;
    let after = group_state(stream, group);
    ctx.shard.dirty += changes + state_changes(before, after);
    Ok(())
}

/// A group's pending count and last delivered ID, to tell whether a claim changed them beyond
/// the entries it returns (dropped deleted entries, LASTID).
fn group_state(s: &Stream, group: &[u8]) -> (usize, StreamId) {
    s.group(group)
        .map_or((0, StreamId::MIN), |g| (g.pending_count(), g.last_id()))
}

fn state_changes(before: (usize, StreamId), after: (usize, StreamId)) -> u64 {
    before.0.abs_diff(after.0) as u64 + u64::from(before.1 != after.1)
}

/// Redis caps XAUTOCLAIM's COUNT so its scratch arrays cannot overflow.
const AUTOCLAIM_MAX_COUNT: i64 = i64::MAX / 16;

fn xautoclaim(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    // As Redis: group bookkeeping is no modification for WATCH, and readies no reader.
    ctx.not_modified();
    ctx.not_ready();
    let (key, group, consumer) = (argv[1], argv[2], argv[3]);
    let now = ctx.now;
    // Redis looks the key up first, then reports argument errors before a wrong type.
    let found = ctx.lookup_read(key);
    let min_idle = int_or(argv[4], "ERR Invalid min-idle-time argument for XAUTOCLAIM")?.max(0);
    let start = StreamId::parse_range_start(argv[5]).map_err(stream_err)?;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < argv.len() {
        if opt(argv[j], "count") && j + 1 < argv.len() {
            count = parse_i64(argv[j + 1])
                .filter(|n| (1..=AUTOCLAIM_MAX_COUNT).contains(n))
                .ok_or(CmdError(Cow::Borrowed("ERR COUNT must be > 0")))?;
            j += 1;
        } else if opt(argv[j], "justid") {
            justid = true;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    let Some(e) = found else {
        return Err(no_key_or_group(key, group));
    };
    let stream = stream_of(e)?;
    let result = stream
        .autoclaim(
            group,
            consumer,
            min_idle as u64,
            start,
            usize::try_from(count).unwrap_or(usize::MAX),
            justid,
            now,
        )
        .map_err(|_| no_key_or_group(key, group))?;
    out.array(3);
    write_id(out, result.next);
    out.array(result.claimed.len());
    for entry in &result.claimed {
        if justid {
            write_id(out, entry.id);
        } else {
            write_entry(out, entry);
        }
    }
    out.array(result.deleted.len());
    for id in &result.deleted {
        write_id(out, *id);
    }
    ctx.shard.dirty += (result.claimed.len() + result.deleted.len()) as u64;
    Ok(())
}

// ---- XINFO -----------------------------------------------------------------------------------

const XINFO_SUBS: &[(&str, i32)] = &[("consumers", 4), ("groups", 3), ("help", 2), ("stream", -3)];

const XINFO_HELP: &[&str] = &[
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
];

/// XINFO STREAM FULL's default COUNT.
const FULL_DEFAULT_COUNT: i64 = 10;

fn xinfo(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let sub = subcommand(argv, XINFO_SUBS)?;
    if sub == "help" {
        help(out, "XINFO", XINFO_HELP);
        return Ok(());
    }
    let key = argv[2];
    let now = ctx.now;
    let Some(stream) = read_stream(ctx, key)? else {
        return Err(err::NO_SUCH_KEY);
    };
    match sub {
        "consumers" => {
            let group = stream
                .group(argv[3])
                .ok_or_else(|| no_group_for_key(key, argv[3]))?;
            out.array(group.consumer_count());
            for c in group.consumers() {
                out.map(3);
                out.bulk(b"name");
                out.bulk(c.name());
                out.bulk(b"pending");
                out.int(c.pending_count() as i64);
                out.bulk(b"idle");
                out.int(idle_ms(now, c.seen_time_ms()));
            }
        }
        "groups" => {
            out.array(stream.group_count());
            for (name, g) in stream.groups() {
                out.map(6);
                out.bulk(b"name");
                out.bulk(name);
                out.bulk(b"consumers");
                out.int(g.consumer_count() as i64);
                out.bulk(b"pending");
                out.int(g.pending_count() as i64);
                out.bulk(b"last-delivered-id");
                write_id(out, g.last_id());
                write_group_counters(out, stream, g);
            }
        }
        _ => {
            let full = match &argv[3..] {
                [] => None,
                [f] if opt(f, "full") => Some(FULL_DEFAULT_COUNT),
                [f, c, n] if opt(f, "full") && opt(c, "count") => {
                    let n = args::int(n)?;
                    Some(if n < 0 { FULL_DEFAULT_COUNT } else { n })
                }
                _ => return Err(subcommand_syntax(argv)),
            };
            stream_info(out, stream, full);
        }
    }
    Ok(())
}

/// Milliseconds since `then`, never negative (a clock set back reads as 0).
fn idle_ms(now: u64, then: u64) -> i64 {
    (now as i64).wrapping_sub(then as i64).max(0)
}

/// `entries-read` and `lag`, nil when unknown.
fn write_group_counters(out: &mut Out, s: &Stream, g: &Group) {
    out.bulk(b"entries-read");
    match g.entries_read() {
        Some(n) => out.int(n as i64),
        None => out.null(),
    }
    out.bulk(b"lag");
    match s.lag(g) {
        Some(n) => out.int(n),
        None => out.null(),
    }
}

/// XINFO STREAM, or with FULL (`Some(count)`, 0 meaning everything) its long form.
fn stream_info(out: &mut Out, s: &Stream, full: Option<i64>) {
    out.map(if full.is_some() { 9 } else { 10 });
    out.bulk(b"length");
    out.int(s.len() as i64);
    out.bulk(b"radix-tree-keys");
    out.int(s.block_count() as i64);
    out.bulk(b"radix-tree-nodes");
    out.int(radix_tree_nodes(s) as i64);
    out.bulk(b"last-generated-id");
    write_id(out, s.last_id());
    out.bulk(b"max-deleted-entry-id");
    write_id(out, s.max_deleted_entry_id());
    out.bulk(b"entries-added");
    out.int(s.entries_added() as i64);
    out.bulk(b"recorded-first-entry-id");
    write_id(out, s.first_id());
    let Some(count) = full else {
        out.bulk(b"groups");
        out.int(s.group_count() as i64);
        out.bulk(b"first-entry");
        match s.first_entry() {
            Some(e) => write_entry(out, &e),
            None => out.null(),
        }
        out.bulk(b"last-entry");
        match s.last_entry() {
            Some(e) => write_entry(out, &e),
            None => out.null(),
        }
        return;
    };
    let limit = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    out.bulk(b"entries");
    let entries: Vec<_> = s.range(StreamId::MIN, StreamId::MAX).take(limit).collect();
    out.array(entries.len());
    for e in &entries {
        write_entry(out, e);
    }
    out.bulk(b"groups");
    out.array(s.group_count());
    for (name, g) in s.groups() {
        out.map(7);
        out.bulk(b"name");
        out.bulk(name);
        out.bulk(b"last-delivered-id");
        write_id(out, g.last_id());
        write_group_counters(out, s, g);
        out.bulk(b"pel-count");
        out.int(g.pending_count() as i64);
        out.bulk(b"pending");
        out.array(g.pending_count().min(limit));
        for (id, p) in g.pending().take(limit) {
            out.array(4);
            write_id(out, id);
            out.bulk(g.owner(p));
            out.int(p.delivery_time_ms() as i64);
            out.int(p.delivery_count() as i64);
        }
        out.bulk(b"consumers");
        out.array(g.consumer_count());
        for c in g.consumers() {
            out.map(4);
            out.bulk(b"name");
            out.bulk(c.name());
            out.bulk(b"seen-time");
            out.int(c.seen_time_ms() as i64);
            out.bulk(b"pel-count");
            out.int(c.pending_count() as i64);
            out.bulk(b"pending");
            out.array(c.pending_count().min(limit));
            for id in c.pending().take(limit) {
                out.array(3);
                write_id(out, id);
                let (at, n) = g
                    .pending_entry(id)
                    .map_or((0, 0), |p| (p.delivery_time_ms(), p.delivery_count()));
                out.int(at as i64);
                out.int(n as i64);
            }
        }
    }
}

/// Redis's `radix-tree-nodes`: the node count of its radix tree (rax) holding one 16-byte
/// big-endian key per block. Rax keeps its tree compressed (inserts split nodes, removals merge
/// single-child chains back), so the count depends only on the keys: one node per branch point,
/// one per run of bytes shared below a branch, one per key end, and the root.
fn radix_tree_nodes(s: &Stream) -> usize {
    let keys: Vec<[u8; 16]> = s.nodes().map(|n| rax_key(n.master_id)).collect();
    if keys.is_empty() {
        return 1;
    }
    subtree_nodes(&keys, 0)
}

fn rax_key(id: StreamId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.ms.to_be_bytes());
    k[8..].copy_from_slice(&id.seq.to_be_bytes());
    k
}

/// Nodes of the subtree holding `keys` (sorted, distinct, non-empty) from byte `depth` on.
fn subtree_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let (first, last) = (&keys[0], &keys[keys.len() - 1]);
    let shared = (depth..16).take_while(|&i| first[i] == last[i]).count();
    if shared == 0 {
        return branch_nodes(keys, depth);
    }
    // A compressed node for the shared run, then the key end or a branch.
    let below = depth + shared;
    1 + if below == 16 {
        1
    } else {
        branch_nodes(keys, below)
    }
}

/// A branching node at byte `depth` and its children's subtrees.
fn branch_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    let mut n = 1;
    let mut rest = keys;
    while let Some(head) = rest.first() {
        let len = rest.iter().take_while(|k| k[depth] == head[depth]).count();
        n += subtree_nodes(&rest[..len], depth + 1);
        rest = &rest[len..];
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Proto;
    use crate::runtime::shard::Shard;

    fn run(sh: &mut Shard, now: u64, args: &[&str]) -> String {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let (idx, _) = super::super::lookup(argv[0]).unwrap();
        let mut out = Out::new(Proto::Resp2);
        sh.execute(0, now, idx, &argv, &mut out);
        String::from_utf8_lossy(&out.buf).into_owned()
    }

    /// Rows agree with Redis 7.0.15's COMMAND output (command_docs.tsv): arity, flags, keys,
    /// categories.
    #[test]
    fn rows_follow_redis() {
        let docs = include_str!("command_docs.tsv");
        for c in commands() {
            let line = docs
                .lines()
                .find(|l| l.split('\t').next() == Some(c.name))
                .unwrap_or_else(|| panic!("no docs for {}", c.name));
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f[1], c.arity.to_string(), "{}", c.name);
            let flags: Vec<&str> = crate::commands::flags::NAMES
                .iter()
                .filter(|(bit, _)| c.flags & bit != 0)
                .map(|(_, n)| *n)
                .collect();
            assert_eq!(f[2], flags.join(" "), "{}", c.name);
            assert_eq!(
                (f[3], f[4], f[5]),
                (
                    c.first_key.to_string().as_str(),
                    c.last_key.to_string().as_str(),
                    c.step.to_string().as_str()
                ),
                "{}",
                c.name
            );
            assert_eq!(f[6], c.categories, "{}", c.name);
        }
        for (container, subs) in [("xgroup", XGROUP_SUBS), ("xinfo", XINFO_SUBS)] {
            for (name, arity) in subs {
                let full = format!("{container}|{name}");
                let line = docs
                    .lines()
                    .find(|l| l.split('\t').next() == Some(full.as_str()))
                    .unwrap_or_else(|| panic!("no docs for {full}"));
                assert_eq!(line.split('\t').nth(1), Some(arity.to_string().as_str()));
            }
        }
    }

    #[test]
    fn radix_tree_node_counts() {
        let keys = |ids: &[(u64, u64)]| -> Vec<[u8; 16]> {
            let mut v: Vec<_> = ids
                .iter()
                .map(|&(m, s)| rax_key(StreamId::new(m, s)))
                .collect();
            v.sort();
            v
        };
        // One key: the root holds all 16 bytes, then the key's node.
        assert_eq!(subtree_nodes(&keys(&[(1, 0)]), 0), 2);
        // Differing in the last byte: shared run, branch, two key ends.
        assert_eq!(subtree_nodes(&keys(&[(1, 0), (1, 1)]), 0), 4);
        // Differing in the middle: shared run, branch, two (run + end) children.
        assert_eq!(subtree_nodes(&keys(&[(1, 0), (2, 0)]), 0), 6);
        // Differing at the first byte: the root branches.
        assert_eq!(subtree_nodes(&keys(&[(0, 0), (1 << 56, 0)]), 0), 5);
        // Three keys branching at one byte.
        assert_eq!(subtree_nodes(&keys(&[(1, 0), (1, 1), (1, 2)]), 0), 5);
    }

    #[test]
    fn group_commands_on_one_shard() {
        let mut sh = Shard::new(0, 1);
        let now = 1_000_000;
        assert_eq!(
            run(
                &mut sh,
                now,
                &["xgroup", "create", "s", "g", "$", "MKSTREAM"]
            ),
            "+OK\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xgroup", "create", "s", "g", "$"]),
            "-BUSYGROUP Consumer Group name already exists\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xgroup", "createconsumer", "s", "g", "c"]),
            ":1\r\n"
        );
        assert_eq!(
            run(&mut sh, now + 5, &["xinfo", "consumers", "s", "g"]),
            "*1\r\n*6\r\n$4\r\nname\r\n$1\r\nc\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:5\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xpending", "s", "g"]),
            "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xpending", "s", "nog"]),
            "-NOGROUP No such key 's' or consumer group 'nog'\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xgroup", "setid", "s", "nog", "0"]),
            "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"
        );
        assert_eq!(
            run(
                &mut sh,
                now,
                &["xclaim", "s", "g", "c", "0", "1-0", "FORCE"]
            ),
            "*0\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xautoclaim", "s", "g", "c", "0", "0"]),
            "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"
        );
        assert_eq!(run(&mut sh, now, &["xack", "s", "g", "1-0"]), ":0\r\n");
        assert_eq!(
            run(&mut sh, now, &["xinfo", "stream", "s"]),
            "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"
        );
        assert_eq!(
            run(&mut sh, now, &["xgroup", "destroy", "s", "g"]),
            ":1\r\n"
        );
        assert_eq!(run(&mut sh, now, &["xinfo", "groups", "s"]), "*0\r\n");
        assert_eq!(
            run(&mut sh, now, &["xinfo", "groups", "nokey"]),
            "-ERR no such key\r\n"
        );
    }
}
