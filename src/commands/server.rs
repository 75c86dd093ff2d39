//! Connection and server commands (PING, SELECT, HELLO, INFO, CONFIG, CLIENT, COMMAND...).
//!
//! Container commands (CLIENT, CONFIG, COMMAND, FUNCTION) dispatch to their subcommands here,
//! with Redis's per-subcommand arity errors. COMMAND INFO/DOCS combine the command table with
//! Redis 7.0's own command documentation (key specs, tips, arguments, subcommands), kept as data
//! at the end of this file.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::protocol::{Out, Proto, Reply};
use crate::runtime::shard::{CmdStat, Shard, ShardStats, DATABASES};
use crate::server::config::{self, Config, PARAMS};
use crate::server::conn::{ConnCtx, Effect};
use crate::util::glob::glob_match;
use crate::util::num::parse_i64;

pub(super) type ConnResult = Result<Effect, CmdError>;

/// The version we report (HELLO, INFO): clients check it for features, and we match Redis 7.0.
pub const REDIS_VERSION: &str = "7.0.15";

#[allow(clippy::too_many_arguments)]
pub(super) const fn conn(
    name: &'static str,
    arity: i32,
    flags: u32,
    categories: &'static str,
    group: &'static str,
    summary: &'static str,
    since: &'static str,
    f: super::ConnFn,
) -> Command {
    let run = Run::Conn(f);
    Command::new(
        name,
        arity,
        flags,
        (0, 0, 0),
        categories,
        group,
        summary,
        since,
        run,
    )
}

#[rustfmt::skip]
pub fn commands() -> Vec<Command> {
    vec![
        Command::new("ping", -1, FAST, (0, 0, 0), "@fast @connection", "connection", "Ping the server", "1.0.0", Run::Data(ping, Route::Keys)),
        conn("echo", 2, LOADING | STALE | FAST, "@fast @connection", "connection", "Echo the given string", "1.0.0", echo),
        conn("select", 2, LOADING | STALE | FAST, "@fast @connection", "connection", "Change the selected database for the current connection", "1.0.0", select),
        conn("quit", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, "@fast @connection", "connection", "Close the connection", "1.0.0", quit),
        conn("hello", -1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, "@fast @connection", "connection", "Handshake with Redis", "6.0.0", hello),
        conn("auth", -2, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, "@fast @connection", "connection", "Authenticate to the server", "1.0.0", auth),
        conn("reset", 1, NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY, "@fast @connection", "connection", "Reset the connection", "6.2.0", reset),
        conn("time", 1, LOADING | STALE | FAST, "@fast", "server", "Return the current server time", "2.6.0", time),
        conn("dbsize", 1, READONLY | FAST, "@keyspace @read @fast", "server", "Return the number of keys in the selected database", "1.0.0", dbsize),
        conn("flushall", -1, WRITE, "@keyspace @write @slow @dangerous", "server", "Remove all keys from all databases", "1.0.0", flushall),
        conn("shutdown", -1, ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY, "@admin @slow @dangerous", "server", "Synchronously save the dataset to disk and then shut down the server", "1.0.0", shutdown),
        conn("debug", -2, ADMIN | NOSCRIPT | LOADING | STALE, "@admin @slow @dangerous", "server", "A container for debugging commands", "1.0.0", debug),
        conn("info", -1, LOADING | STALE, "@slow @dangerous", "server", "Get information and statistics about the server", "1.0.0", info),
        conn("command", -1, LOADING | STALE, "@slow @connection", "server", "Get array of Redis command details", "2.8.13", command),
        conn("config", -2, 0, "@slow", "server", "A container for server configuration commands", "2.0.0", config_cmd),
        conn("client", -2, 0, "@slow", "connection", "A container for client connection commands", "2.4.0", client),
        conn("function", -2, 0, "@slow", "scripting", "A container for function commands", "7.0.0", function),
    ]
}

// ---------------------------------------------------------------------------------------------
// Small connection commands
// ---------------------------------------------------------------------------------------------

fn ping(_ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    match argv.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(argv[1]),
        _ => return Err(CmdError::new(super::arity_error("ping"))),
    }
    Ok(())
}

fn echo(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    out.bulk(argv[1]);
    Ok(Effect::Done)
}

fn select(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    // Redis reads an `int`: anything outside i32 is "not an integer", not "out of range".
    let db = args::int(argv[1])?;
    if db < i32::MIN as i64 || db > i32::MAX as i64 {
        return Err(err::NOT_INT);
    }
    if !(0..DATABASES as i64).contains(&db) {
        return Err(err::DB_INDEX);
    }
    c.db = db as usize;
    c.info.borrow_mut().db = c.db;
    out.ok();
    Ok(Effect::Done)
}

fn quit(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    out.ok();
    Ok(Effect::Close)
}

/// Redis's rule for client names (CLIENT SETNAME, HELLO SETNAME): printable ASCII, no spaces.
fn valid_name(name: &[u8]) -> bool {
    name.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

const BAD_NAME: &str = "ERR Client names cannot contain spaces, newlines or special characters.";

fn set_name(c: &mut ConnCtx, name: &[u8]) -> Result<(), CmdError> {
    if !valid_name(name) {
        return Err(CmdError::new(BAD_NAME));
    }
    c.info.borrow_mut().name = name.to_vec();
    Ok(())
}

/// Checks `AUTH user pass` against the only user we have, `default` (password = requirepass,
/// any password when requirepass is empty, as Redis's nopass default user).
fn check_auth(c: &ConnCtx, user: &[u8], pass: &[u8]) -> Result<(), CmdError> {
    let required = c.local.server.config().get("requirepass").to_string();
    if user == b"default" && (required.is_empty() || required.as_bytes() == pass) {
        Ok(())
    } else {
        Err(CmdError::new(
            "WRONGPASS invalid username-password pair or user is disabled.",
        ))
    }
}

/// AUTH [username] password, for the default user and `requirepass` (ACL users come later).
fn auth(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let (user, pass): (&[u8], &[u8]) = match argv.len() {
        2 => (b"default", argv[1]),
        3 => (argv[1], argv[2]),
        _ => return Err(err::SYNTAX),
    };
    if argv.len() == 2 && c.local.server.config().get("requirepass").is_empty() {
        return Err(CmdError::new(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    check_auth(c, user, pass)?;
    c.authenticated = true;
    out.ok();
    Ok(Effect::Done)
}

fn hello(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let mut ver = None;
    if argv.len() >= 2 {
        let v = parse_i64(argv[1]).ok_or_else(|| {
            CmdError::new("ERR Protocol version is not an integer or out of range")
        })?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::new("NOPROTO unsupported protocol version"));
        }
        ver = Some(v);
    }
    let mut auth = None;
    let mut name = None;
    let mut j = 2;
    while j < argv.len() {
        let more = argv.len() - 1 - j;
        if args::is(argv[j], "AUTH") && more >= 2 {
            auth = Some((argv[j + 1], argv[j + 2]));
            j += 3;
        } else if args::is(argv[j], "SETNAME") && more >= 1 {
            name = Some(argv[j + 1]);
            j += 2;
        } else {
            return Err(CmdError::new(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(argv[j])
            )));
        }
    }
    match auth {
        Some((user, pass)) => {
            check_auth(c, user, pass)?;
            c.authenticated = true;
        }
        None if !c.authenticated => return Err(CmdError::new(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        )),
        None => {}
    }
    if let Some(n) = name {
        set_name(c, n)?;
    }
    if let Some(v) = ver {
        c.proto = if v == 3 { Proto::Resp3 } else { Proto::Resp2 };
        c.info.borrow_mut().proto = c.proto;
    }
    out.proto = c.proto;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if c.proto == Proto::Resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(c.id as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(Effect::Done)
}

fn reset(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    // As Redis's RESET: back to RESP2, db 0, no name, no client flags.
    c.proto = Proto::Resp2;
    c.db = 0;
    {
        let mut i = c.info.borrow_mut();
        i.proto = Proto::Resp2;
        i.db = 0;
        i.name.clear();
        i.no_evict = false;
        i.no_touch = false;
    }
    // And out of any transaction, with no key watched.
    c.multi = None;
    crate::server::transaction::unwatch_all(c);
    out.proto = Proto::Resp2;
    out.simple("RESET");
    Ok(Effect::Done)
}

fn time(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    out.array(2);
    out.bulk(now.as_secs().to_string().as_bytes());
    out.bulk(now.subsec_micros().to_string().as_bytes());
    Ok(Effect::Done)
}

fn sum_ints(replies: &[Reply]) -> i64 {
    replies
        .iter()
        .map(|r| if let Reply::Int(n) = r { *n } else { 0 })
        .fold(0i64, |a, b| a.saturating_add(b))
}

fn dbsize(c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    let db = c.db;
    Ok(Effect::global(
        move |sh| Reply::Int(sh.dbs[db].len() as i64),
        |_c, replies, out| {
            out.int(sum_ints(&replies));
            Ok(())
        },
    ))
}

fn flushall(_c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    // FLUSHALL [ASYNC|SYNC]: both free at once here (nothing is large enough to need a thread).
    match argv.len() {
        1 => {}
        2 if args::is(argv[1], "ASYNC") || args::is(argv[1], "SYNC") => {}
        _ => return Err(err::SYNTAX),
    }
    let mut effect = Effect::global(
        |sh| {
            let mut removed = 0u64;
            let now = crate::storage::now_ms();
            for db in 0..DATABASES {
                sh.touch_watched_db(db, now);
            }
            for d in sh.dbs.iter_mut() {
                removed += d.len() as u64;
                d.clear();
            }
            // Redis adds the keys removed, plus one for the command itself.
            sh.dirty += removed + u64::from(sh.index == 0);
            Reply::Ok
        },
        |_c, _r, out| {
            out.ok();
            Ok(())
        },
    );
    if let Effect::Global { then_reset_rdb, .. } = &mut effect {
        *then_reset_rdb = true;
    }
    Ok(effect)
}

fn shutdown(_c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    let (mut nosave, mut save, mut abort, mut other) = (false, false, false, false);
    let mut force = false;
    for a in &argv[1..] {
        if args::is(a, "NOSAVE") {
            nosave = true;
        } else if args::is(a, "SAVE") {
            save = true;
        } else if args::is(a, "NOW") {
            other = true;
        } else if args::is(a, "FORCE") {
            other = true;
            force = true;
        } else if args::is(a, "ABORT") {
            abort = true;
        } else {
            return Err(err::SYNTAX);
        }
    }
    if (abort && (nosave || save || other)) || (nosave && save) {
        return Err(err::SYNTAX);
    }
    if abort {
        // Our shutdown never waits (no replicas to catch up), so there is never one to abort.
        return Err(CmdError::new("ERR No shutdown in progress."));
    }
    crate::server::log::warning("User requested shutdown...");
    let save = if nosave {
        Some(false)
    } else if save {
        Some(true)
    } else {
        None
    };
    Ok(Effect::Shutdown { save, force })
}

/// Whether a protected action (enable-debug-command, enable-protected-configs) is allowed for
/// this client: "yes", or "local" and the client is on the loopback interface.
fn protected_allowed(c: &ConnCtx, param: &str) -> bool {
    let v = c.local.server.config().get(param).to_string();
    match v.as_str() {
        "yes" => true,
        "local" => {
            let addr = c.info.borrow().addr.clone();
            addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("::1")
        }
        _ => false,
    }
}

fn help_reply(out: &mut Out, cmd: &str, lines: &[&str]) {
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for l in lines {
        out.simple(l);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

fn subcommand_syntax_error(sub: &[u8], cmd: &str) -> CmdError {
    CmdError::new(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&sub[..sub.len().min(128)]),
        cmd
    ))
}

fn debug(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if !protected_allowed(c, "enable-debug-command") {
        return Err(CmdError::new("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = argv[1];
    if args::is(sub, "HELP") && argv.len() == 2 {
        help_reply(
            out,
            "DEBUG",
            &[
                "RELOAD [NOSAVE]",
                "    Save the RDB on disk and reload it back to memory. With NOSAVE, load the",
                "    file on disk without saving first.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
            ],
        );
        return Ok(Effect::Done);
    }
    if args::is(sub, "RELOAD") {
        let mut save = true;
        for a in &argv[2..] {
            if args::is(a, "NOSAVE") {
                save = false;
            } else if !args::is(a, "NOFLUSH") && !args::is(a, "MERGE") {
                return Err(CmdError::new(
                    "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                ));
            } else {
                return Err(CmdError::new(
                    "ERR DEBUG RELOAD MERGE and NOFLUSH are not supported by shoal",
                ));
            }
        }
        return Ok(Effect::Save(
            crate::runtime::coordinator::SaveKind::Reload { save },
        ));
    }
    if args::is(sub, "SLEEP") && argv.len() == 3 {
        // Redis parses with strtod and ignores what does not parse ("x" sleeps 0 s).
        let secs = leading_f64(argv[2]);
        // Capped at ~3 years: timers overflow on absurd durations, and no one waits that long.
        const MAX_SLEEP: Duration = Duration::from_secs(100_000_000);
        let d = if secs.is_finite() && secs > 0.0 {
            Duration::try_from_secs_f64(secs).map_or(MAX_SLEEP, |d| d.min(MAX_SLEEP))
        } else {
            Duration::ZERO
        };
        out.ok();
        return Ok(Effect::Sleep(d));
    }
    Err(subcommand_syntax_error(sub, "DEBUG"))
}

/// The longest leading decimal float of `s` (C strtod without hex/inf), 0 if none.
fn leading_f64(s: &[u8]) -> f64 {
    let t = std::str::from_utf8(s).unwrap_or("").trim_start();
    let mut best = 0.0;
    for end in (1..=t.len().min(64)).rev() {
        if !t.is_char_boundary(end) {
            continue;
        }
        let p = &t[..end];
        if p.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        {
            if let Ok(v) = p.parse::<f64>() {
                best = v;
                break;
            }
        }
    }
    best
}

// ---------------------------------------------------------------------------------------------
// Container commands: subcommand dispatch
// ---------------------------------------------------------------------------------------------

struct Sub {
    name: &'static str,
    arity: i32,
    run: super::ConnFn,
}

/// Runs `argv[1]` of container `container` (lower case) from `subs`, with Redis's errors for
/// unknown subcommands and wrong arity, and records it for CLIENT LIST's `cmd=`.
fn dispatch(
    c: &mut ConnCtx,
    argv: &[&[u8]],
    out: &mut Out,
    container: &'static str,
    subs: &[Sub],
) -> ConnResult {
    let name = argv[1];
    let Some(s) = subs
        .iter()
        .find(|s| name.eq_ignore_ascii_case(s.name.as_bytes()))
    else {
        return Err(CmdError::new(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(&name[..name.len().min(128)]),
            container.to_ascii_uppercase()
        )));
    };
    {
        let mut i = c.info.borrow_mut();
        i.sub_cmd = Some((i.last_cmd, s.name));
    }
    let n = argv.len() as i32;
    if (s.arity > 0 && n != s.arity) || n < -s.arity {
        return Err(CmdError::new(format!(
            "ERR wrong number of arguments for '{}|{}' command",
            container, s.name
        )));
    }
    (s.run)(c, argv, out)
}

// ---------------------------------------------------------------------------------------------
// FUNCTION: no scripting engine yet, so the library set is always empty.
// ---------------------------------------------------------------------------------------------

const FUNCTION_SUBS: &[Sub] = &[
    Sub {
        name: "list",
        arity: -2,
        run: function_list,
    },
    Sub {
        name: "flush",
        arity: -2,
        run: function_flush,
    },
    Sub {
        name: "stats",
        arity: 2,
        run: function_stats,
    },
    Sub {
        name: "delete",
        arity: 3,
        run: function_delete,
    },
    Sub {
        name: "kill",
        arity: 2,
        run: function_kill,
    },
    Sub {
        name: "dump",
        arity: 2,
        run: function_dump,
    },
    Sub {
        name: "help",
        arity: 2,
        run: function_help,
    },
];

fn function(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    dispatch(c, argv, out, "function", FUNCTION_SUBS)
}

fn function_list(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let (mut with_code, mut lib) = (false, false);
    let mut i = 2;
    while i < argv.len() {
        if !with_code && args::is(argv[i], "WITHCODE") {
            with_code = true;
        } else if !lib && args::is(argv[i], "LIBRARYNAME") {
            if i + 1 >= argv.len() {
                return Err(CmdError::new("ERR library name argument was not given"));
            }
            lib = true;
            i += 1;
        } else {
            return Err(CmdError::new(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(argv[i])
            )));
        }
        i += 1;
    }
    out.array(0);
    Ok(Effect::Done)
}

fn function_flush(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    match argv.len() {
        2 => {}
        3 if args::is(argv[2], "ASYNC") || args::is(argv[2], "SYNC") => {}
        3 => {
            return Err(CmdError::new(
                "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
            ))
        }
        _ => return Err(subcommand_syntax_error(argv[1], "FUNCTION")),
    }
    out.ok();
    Ok(Effect::Done)
}

fn function_stats(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    out.map(2);
    out.bulk(b"running_script");
    out.null();
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.int(0);
    out.bulk(b"functions_count");
    out.int(0);
    Ok(Effect::Done)
}

fn function_delete(_c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    Err(CmdError::new("ERR Library not found"))
}

fn function_kill(_c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    Err(CmdError::new("NOTBUSY No scripts in execution right now."))
}

fn function_dump(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    // The payload of an empty library set: RDB version 10 and the CRC64 of those two bytes.
    out.bulk(b"\x0a\x00\x5d\x9b\x5c\x40\x0f\x7f\xa2\xda");
    Ok(Effect::Done)
}

fn function_help(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    help_reply(
        out,
        "FUNCTION",
        &[
            "DELETE <LIBRARY NAME>",
            "    Delete the given library.",
            "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
            "    Return general information on all the libraries:",
            "    * Library name",
            "    * The engine used to run the Library",
            "    * Library description",
            "    * Functions list",
            "    * Library code (if WITHCODE is given)",
            "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
            "STATS",
            "    Return information about the current function running:",
            "    * Function name",
            "    * Command used to run the function",
            "    * Duration in MS that the function is running",
            "    If no function is running, return nil",
            "    In addition, returns a list of available engines.",
            "KILL",
            "    Kill the current running function.",
            "FLUSH [ASYNC|SYNC]",
            "    Delete all the libraries.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the libraries.",
            "    * SYNC: Synchronously flush the libraries.",
            "DUMP",
            "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        ],
    );
    Ok(Effect::Done)
}

// ---------------------------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------------------------

const CONFIG_SUBS: &[Sub] = &[
    Sub {
        name: "get",
        arity: -3,
        run: config_get,
    },
    Sub {
        name: "set",
        arity: -4,
        run: config_set,
    },
    Sub {
        name: "resetstat",
        arity: 2,
        run: config_resetstat,
    },
    Sub {
        name: "help",
        arity: 2,
        run: config_help,
    },
];

fn config_cmd(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    dispatch(c, argv, out, "config", CONFIG_SUBS)
}

fn config_get(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let cfg = c.local.server.config();
    // (name as replied, param index); a parameter matched twice is replied once.
    let mut found: Vec<(String, usize)> = Vec::new();
    for pat in &argv[2..] {
        if !pat.iter().any(|b| b"[*?".contains(b)) {
            // A plain name: Redis replies with the name as the client wrote it.
            let name = String::from_utf8_lossy(pat);
            if let Some(i) = config::param_index(&name) {
                if !found.iter().any(|f| f.1 == i) {
                    found.push((name.into_owned(), i));
                }
            }
            continue;
        }
        for (i, p) in PARAMS.iter().enumerate() {
            if !found.iter().any(|f| f.1 == i) && glob_match(pat, p.name.as_bytes(), true) {
                found.push((p.name.to_string(), i));
            }
        }
    }
    out.map(found.len());
    for (name, i) in &found {
        out.bulk(name.as_bytes());
        out.bulk(cfg.get_index(*i).as_bytes());
    }
    Ok(Effect::Done)
}

fn config_set(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if !argv.len().is_multiple_of(2) {
        return Err(err::SYNTAX);
    }
    let pairs: Vec<(String, String)> = argv[2..]
        .chunks_exact(2)
        .map(|p| {
            (
                String::from_utf8_lossy(p[0]).into_owned(),
                String::from_utf8_lossy(p[1]).into_owned(),
            )
        })
        .collect();
    // First pass as Redis: unknown names win over every other error, then the first
    // immutable / protected / duplicate parameter.
    let mut seen: Vec<usize> = Vec::new();
    let mut first_err: Option<CmdError> = None;
    for (name, _) in &pairs {
        let Some(i) = config::param_index(name) else {
            if first_err.is_some() {
                continue;
            }
            return Err(CmdError::new(format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            )));
        };
        if first_err.is_some() {
            continue;
        }
        let p = &PARAMS[i];
        let why = if p.immutable {
            Some("can't set immutable config")
        } else if config::PROTECTED.contains(&p.name)
            && !protected_allowed(c, "enable-protected-configs")
        {
            Some("can't set protected config")
        } else if seen.contains(&i) {
            Some("duplicate parameter")
        } else {
            None
        };
        if let Some(why) = why {
            first_err = Some(CmdError::new(format!(
                "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
            )));
        }
        seen.push(i);
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    // Set all on a copy, so a failure leaves the configuration untouched.
    let server = c.local.server.clone();
    let mut new: Config = server.config().clone();
    for (name, value) in &pairs {
        if let Err(why) = new.set(name, value) {
            let canonical = config::param_index(name).map_or(name.as_str(), |i| PARAMS[i].name);
            return Err(CmdError::new(format!(
                "ERR CONFIG SET failed (possibly related to argument '{canonical}') - {why}"
            )));
        }
    }
    let level = new.get("loglevel").to_string();
    *server.config.write().unwrap_or_else(|e| e.into_inner()) = new;
    server.refresh_config();
    crate::server::log::set_level(&level);
    out.ok();
    Ok(Effect::Done)
}

/// The highest used_memory INFO has seen (Redis tracks it continuously; we sample on INFO).
static PEAK_MEMORY: AtomicU64 = AtomicU64::new(0);

fn config_resetstat(_c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    PEAK_MEMORY.store(0, Ordering::Relaxed);
    Ok(Effect::global(
        |sh| {
            sh.stats = ShardStats::default();
            sh.rates = Default::default();
            for s in sh.cmd_stats.iter_mut() {
                *s = CmdStat::default();
            }
            sh.error_stats.clear();
            Reply::Ok
        },
        |_c, _r, out| {
            out.ok();
            Ok(())
        },
    ))
}

fn config_help(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    help_reply(
        out,
        "CONFIG",
        &[
            "GET <pattern>",
            "    Return parameters matching the glob-like <pattern> and their values.",
            "SET <directive> <value>",
            "    Set the configuration <directive> to <value>.",
            "RESETSTAT",
            "    Reset statistics reported by the INFO command.",
        ],
    );
    Ok(Effect::Done)
}

// ---------------------------------------------------------------------------------------------
// INFO
// ---------------------------------------------------------------------------------------------

/// Sections in Redis's order; `true` = part of the default set.
const SECTIONS: &[(&str, bool)] = &[
    ("server", true),
    ("clients", true),
    ("memory", true),
    ("persistence", true),
    ("stats", true),
    ("replication", true),
    ("cpu", true),
    ("modules", true),
    ("commandstats", false),
    ("errorstats", true),
    ("cluster", true),
    ("keyspace", true),
];

/// Per-shard counters INFO sums, in this order, then (keys, expires) per db, then
/// (calls, usec, rejected, failed) per command.
fn shard_counters(sh: &Shard) -> Vec<u64> {
    let st = &sh.stats;
    let mut v = vec![
        st.expired_keys,
        st.keyspace_hits,
        st.keyspace_misses,
        st.total_commands,
        st.total_connections,
        st.rejected_connections,
        st.net_input_bytes,
        st.net_output_bytes,
        st.total_error_replies,
        st.unexpected_error_replies,
        st.expire_cycle_cpu_ms,
        sh.dirty,
        sh.rates.current().0,
        sh.rates.current().1,
        sh.rates.current().2,
    ];
    for d in &sh.dbs {
        v.push(d.len() as u64);
        v.push(d.volatile_len() as u64);
    }
    for c in &sh.cmd_stats {
        v.extend([c.calls, c.nanos / 1000, c.rejected_calls, c.failed_calls]);
    }
    v
}
const N_STATS: usize = 15;

/// What every shard reports for INFO: its counters packed as little-endian u64s (one
/// allocation) and its error counts.
fn info_snapshot(sh: &mut Shard) -> Reply {
    let bytes: Vec<u8> = shard_counters(sh)
        .into_iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let errors = sh
        .error_stats
        .iter()
        .map(|(code, n)| Reply::Array(vec![Reply::bulk(code), Reply::Int(*n as i64)]))
        .collect();
    Reply::Array(vec![Reply::Bulk(bytes), Reply::Array(errors)])
}

/// The shards' numbers added up.
#[derive(Default)]
struct Totals {
    counters: Vec<u64>,
    errors: Vec<(String, u64)>,
}

fn merge_snapshots(replies: &[Reply]) -> Totals {
    let mut t = Totals::default();
    for r in replies {
        let Reply::Array(parts) = r else { continue };
        if let Some(Reply::Bulk(bytes)) = parts.first() {
            let vals = bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
            if t.counters.is_empty() {
                t.counters = vals.collect();
            } else {
                for (a, b) in t.counters.iter_mut().zip(vals) {
                    *a = a.saturating_add(b);
                }
            }
        }
        if let Some(Reply::Array(errs)) = parts.get(1) {
            for e in errs {
                let Reply::Array(pair) = e else { continue };
                let (Some(Reply::Bulk(code)), Some(Reply::Int(n))) = (pair.first(), pair.get(1))
                else {
                    continue;
                };
                let code = String::from_utf8_lossy(code).into_owned();
                let n = (*n).max(0) as u64;
                match t.errors.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, m)) => *m += n,
                    None => t.errors.push((code, n)),
                }
            }
        }
    }
    t.errors.sort();
    t
}

impl Totals {
    fn stat(&self, i: usize) -> u64 {
        self.counters.get(i).copied().unwrap_or(0)
    }
    fn keyspace(&self, db: usize) -> (u64, u64) {
        (self.stat(N_STATS + 2 * db), self.stat(N_STATS + 2 * db + 1))
    }
    fn cmd(&self, i: usize) -> [u64; 4] {
        let at = N_STATS + 2 * DATABASES + 4 * i;
        [
            self.stat(at),
            self.stat(at + 1),
            self.stat(at + 2),
            self.stat(at + 3),
        ]
    }
}

fn info(_c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    let mut wanted = vec![false; SECTIONS.len()];
    if argv.len() == 1 {
        for (w, s) in wanted.iter_mut().zip(SECTIONS) {
            *w = s.1;
        }
    }
    for a in &argv[1..] {
        let a = String::from_utf8_lossy(a).to_ascii_lowercase();
        for (w, s) in wanted.iter_mut().zip(SECTIONS) {
            match a.as_str() {
                "all" | "everything" => *w = true,
                "default" => *w |= s.1,
                name => *w |= name == s.0,
            }
        }
    }
    Ok(Effect::global(info_snapshot, move |c, replies, out| {
        let totals = merge_snapshots(&replies);
        let text = info_text(c, &wanted, &totals);
        out.verbatim(text.as_bytes());
        Ok(())
    }))
}

/// Redis's bytesToHuman.
fn human_bytes(n: u64) -> String {
    let d = n as f64;
    const K: f64 = 1024.0;
    if n < 1024 {
        format!("{n}B")
    } else if d < K * K {
        format!("{:.2}K", d / K)
    } else if d < K * K * K {
        format!("{:.2}M", d / (K * K))
    } else if d < K * K * K * K {
        format!("{:.2}G", d / (K * K * K))
    } else if d < K * K * K * K * K {
        format!("{:.2}T", d / (K * K * K * K))
    } else if d < K * K * K * K * K * K {
        format!("{:.2}P", d / (K * K * K * K * K))
    } else {
        format!("{n}B")
    }
}

/// Resident set size of the process. shoal has no allocator accounting, so INFO's used_memory is
/// the RSS (/proc/self/statm), like used_memory_rss.
pub fn rss_bytes() -> u64 {
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = if page > 0 { page as u64 } else { 4096 };
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages.saturating_mul(page))
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb.saturating_mul(1024))
}

fn rusage(who: libc::c_int) -> (String, String) {
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut r) } != 0 {
        return ("0.000000".into(), "0.000000".into());
    }
    let f = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (f(r.ru_stime), f(r.ru_utime))
}

fn uname() -> (String, usize) {
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return ("Linux".into(), 64);
    }
    let s = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (
        format!("{} {} {}", s(&u.sysname), s(&u.release), s(&u.machine)),
        usize::BITS as usize,
    )
}

fn info_text(c: &ConnCtx, wanted: &[bool], t: &Totals) -> String {
    let server = &c.local.server;
    let cfg = server.config().clone();
    let mut s = String::with_capacity(4096);
    let mut sections = 0;
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_micros();
    for (i, (name, _)) in SECTIONS.iter().enumerate() {
        if !wanted[i] {
            continue;
        }
        if sections > 0 {
            s.push_str("\r\n");
        }
        sections += 1;
        // `w!` appends one "field:value\r\n" line.
        macro_rules! w {
            ($($arg:tt)*) => {{
                let _ = write!(s, $($arg)*);
                s.push_str("\r\n");
            }};
        }
        match *name {
            "server" => {
                let uptime = server.started.elapsed().as_secs();
                let (os, bits) = uname();
                let hz = cfg.int("hz");
                w!("# Server");
                w!("redis_version:{REDIS_VERSION}");
                w!("redis_git_sha1:00000000");
                w!("redis_git_dirty:0");
                w!("redis_build_id:0");
                w!("redis_mode:standalone");
                w!("os:{os}");
                w!("arch_bits:{bits}");
                w!("monotonic_clock:POSIX clock_gettime");
                w!("multiplexing_api:io_uring");
                w!("atomicvar_api:c11-builtin");
                w!("gcc_version:0.0.0");
                w!("process_id:{}", std::process::id());
                w!("process_supervised:no");
                w!("run_id:{}", server.run_id);
                w!("tcp_port:{}", server.port);
                w!("server_time_usec:{now_us}");
                w!("uptime_in_seconds:{uptime}");
                w!("uptime_in_days:{}", uptime / 86400);
                w!("hz:{}", hz.clamp(1, 500));
                w!("configured_hz:{hz}");
                w!("lru_clock:{}", crate::runtime::shard::lru_clock_now());
                w!(
                    "executable:{}",
                    std::env::current_exe()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
                w!("config_file:");
                w!("io_threads_active:0");
                w!("shoal_version:{}", env!("CARGO_PKG_VERSION"));
                w!("shards:{}", server.nshards);
            }
            "clients" => {
                w!("# Clients");
                w!(
                    "connected_clients:{}",
                    server.connected_clients.load(Ordering::Relaxed)
                );
                w!("cluster_connections:0");
                w!("maxclients:{}", cfg.int("maxclients"));
                w!("client_recent_max_input_buffer:0");
                w!("client_recent_max_output_buffer:0");
                w!(
                    "blocked_clients:{}",
                    server.blocked_clients.load(Ordering::Relaxed)
                );
                w!("tracking_clients:0");
                w!("clients_in_timeout_table:0");
            }
            "memory" => {
                let used = rss_bytes();
                let peak = PEAK_MEMORY.fetch_max(used, Ordering::Relaxed).max(used);
                let total = total_system_memory();
                let maxmem = cfg.int("maxmemory").max(0) as u64;
                w!("# Memory");
                w!("used_memory:{used}");
                w!("used_memory_human:{}", human_bytes(used));
                w!("used_memory_rss:{used}");
                w!("used_memory_rss_human:{}", human_bytes(used));
                w!("used_memory_peak:{peak}");
                w!("used_memory_peak_human:{}", human_bytes(peak));
                w!(
                    "used_memory_peak_perc:{:.2}%",
                    if peak > 0 {
                        used as f64 * 100.0 / peak as f64
                    } else {
                        0.0
                    }
                );
                w!("total_system_memory:{total}");
                w!("total_system_memory_human:{}", human_bytes(total));
                w!("used_memory_lua:0");
                w!("used_memory_scripts:0");
                w!("number_of_cached_scripts:0");
                w!("number_of_functions:0");
                w!("number_of_libraries:0");
                w!("maxmemory:{maxmem}");
                w!("maxmemory_human:{}", human_bytes(maxmem));
                w!("maxmemory_policy:{}", cfg.get("maxmemory-policy"));
                w!("mem_fragmentation_ratio:1.00");
                w!("mem_fragmentation_bytes:0");
                w!("mem_not_counted_for_evict:0");
                w!("mem_replication_backlog:0");
                w!("mem_clients_slaves:0");
                w!("mem_clients_normal:0");
                w!("mem_aof_buffer:0");
                w!("mem_allocator:libc");
                w!("active_defrag_running:0");
                w!("lazyfree_pending_objects:0");
                w!("lazyfreed_objects:0");
            }
            "persistence" => {
                w!("# Persistence");
                w!("loading:0");
                w!("async_loading:0");
                w!("current_cow_peak:0");
                w!("current_cow_size:0");
                w!("current_cow_size_age:0");
                w!("current_fork_perc:0.00");
                let ps = &server.persist;
                let saving = ps.in_progress.load(Ordering::Relaxed);
                let (processed, total) = if saving {
                    (
                        ps.keys_processed.load(Ordering::Relaxed),
                        ps.keys_total.load(Ordering::Relaxed),
                    )
                } else {
                    (0, 0)
                };
                w!("current_save_keys_processed:{processed}");
                w!("current_save_keys_total:{total}");
                w!(
                    "rdb_changes_since_last_save:{}",
                    t.stat(11)
                        .saturating_sub(ps.saved_dirty.load(Ordering::Relaxed))
                );
                w!("rdb_bgsave_in_progress:{}", u8::from(saving));
                w!("rdb_last_save_time:{}", ps.lastsave.load(Ordering::Relaxed));
                w!(
                    "rdb_last_bgsave_status:{}",
                    if ps.last_ok.load(Ordering::Relaxed) {
                        "ok"
                    } else {
                        "err"
                    }
                );
                w!(
                    "rdb_last_bgsave_time_sec:{}",
                    ps.last_time_sec.load(Ordering::Relaxed)
                );
                let current = if saving {
                    let started = ps.started_ms.load(Ordering::Relaxed);
                    (crate::storage::now_ms().saturating_sub(started) / 1000) as i64
                } else {
                    -1
                };
                w!("rdb_current_bgsave_time_sec:{current}");
                w!("rdb_saves:{}", ps.saves.load(Ordering::Relaxed));
                w!("rdb_last_cow_size:0");
                w!(
                    "rdb_last_load_keys_expired:{}",
                    ps.load_keys_expired.load(Ordering::Relaxed)
                );
                w!(
                    "rdb_last_load_keys_loaded:{}",
                    ps.load_keys_loaded.load(Ordering::Relaxed)
                );
                w!("aof_enabled:{}", u8::from(cfg.bool("appendonly")));
                w!("aof_rewrite_in_progress:0");
                w!("aof_rewrite_scheduled:0");
                w!("aof_last_rewrite_time_sec:-1");
                w!("aof_current_rewrite_time_sec:-1");
                w!("aof_last_bgrewrite_status:ok");
                w!("aof_rewrites:0");
                w!("aof_rewrites_consecutive_failures:0");
                w!("aof_last_write_status:ok");
                w!("aof_last_cow_size:0");
                w!("module_fork_in_progress:0");
                w!("module_fork_last_cow_size:0");
            }
            "stats" => {
                w!("# Stats");
                w!("total_connections_received:{}", t.stat(4));
                w!("total_commands_processed:{}", t.stat(3));
                w!("instantaneous_ops_per_sec:{}", t.stat(12));
                w!("total_net_input_bytes:{}", t.stat(6));
                w!("total_net_output_bytes:{}", t.stat(7));
                w!("total_net_repl_input_bytes:0");
                w!(
                    "total_net_repl_output_bytes:{}",
                    server.master.net_output.load(Ordering::Relaxed)
                );
                w!("instantaneous_input_kbps:{:.2}", t.stat(13) as f64 / 1024.0);
                w!(
                    "instantaneous_output_kbps:{:.2}",
                    t.stat(14) as f64 / 1024.0
                );
                w!("instantaneous_input_repl_kbps:0.00");
                w!("instantaneous_output_repl_kbps:0.00");
                w!("rejected_connections:{}", t.stat(5));
                w!(
                    "sync_full:{}",
                    server.master.sync_full.load(Ordering::Relaxed)
                );
                w!(
                    "sync_partial_ok:{}",
                    server.master.sync_partial_ok.load(Ordering::Relaxed)
                );
                w!(
                    "sync_partial_err:{}",
                    server.master.sync_partial_err.load(Ordering::Relaxed)
                );
                w!("expired_keys:{}", t.stat(0));
                w!("expired_stale_perc:0.00");
                w!("expired_time_cap_reached_count:0");
                w!("expire_cycle_cpu_milliseconds:{}", t.stat(10));
                w!("evicted_keys:0");
                w!("evicted_clients:0");
                w!("total_eviction_exceeded_time:0");
                w!("current_eviction_exceeded_time:0");
                w!("keyspace_hits:{}", t.stat(1));
                w!("keyspace_misses:{}", t.stat(2));
                w!("pubsub_channels:0");
                w!("pubsub_patterns:0");
                w!("pubsubshard_channels:0");
                w!("latest_fork_usec:0");
                w!("total_forks:0");
                w!("migrate_cached_sockets:0");
                w!("slave_expires_tracked_keys:0");
                w!("active_defrag_hits:0");
                w!("active_defrag_misses:0");
                w!("active_defrag_key_hits:0");
                w!("active_defrag_key_misses:0");
                w!("total_active_defrag_time:0");
                w!("current_active_defrag_time:0");
                w!("tracking_total_keys:0");
                w!("tracking_total_items:0");
                w!("tracking_total_prefixes:0");
                w!("unexpected_error_replies:{}", t.stat(9));
                w!("total_error_replies:{}", t.stat(8));
                w!("dump_payload_sanitizations:0");
                w!("total_reads_processed:0");
                w!("total_writes_processed:0");
                w!("io_threaded_reads_processed:0");
                w!("io_threaded_writes_processed:0");
                w!("reply_buffer_shrinks:0");
                w!("reply_buffer_expands:0");
                // shoal's own: how transactions ran (one message on one shard, or held shards).
                w!(
                    "shoal_exec_single_shard:{}",
                    server.exec_single_shard.load(Ordering::Relaxed)
                );
                w!(
                    "shoal_exec_multi_shard:{}",
                    server.exec_multi_shard.load(Ordering::Relaxed)
                );
            }
            "replication" => {
                w!("# Replication");
                crate::replication::master::info(server, &mut s);
            }
            "cpu" => {
                let (sys, user) = rusage(libc::RUSAGE_SELF);
                let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
                let (msys, muser) = rusage(libc::RUSAGE_THREAD);
                w!("# CPU");
                w!("used_cpu_sys:{sys}");
                w!("used_cpu_user:{user}");
                w!("used_cpu_sys_children:{csys}");
                w!("used_cpu_user_children:{cuser}");
                w!("used_cpu_sys_main_thread:{msys}");
                w!("used_cpu_user_main_thread:{muser}");
            }
            "modules" => w!("# Modules"),
            "commandstats" => {
                w!("# Commandstats");
                for (i, cmd) in super::table().iter().enumerate() {
                    let [calls, usec, rejected, failed] = t.cmd(i);
                    if calls == 0 && rejected == 0 && failed == 0 {
                        continue;
                    }
                    let per = if calls > 0 {
                        usec as f64 / calls as f64
                    } else {
                        0.0
                    };
                    w!(
                        "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per:.2},rejected_calls={rejected},failed_calls={failed}",
                        cmd.name
                    );
                }
            }
            "errorstats" => {
                w!("# Errorstats");
                for (code, n) in &t.errors {
                    w!("errorstat_{code}:count={n}");
                }
            }
            "cluster" => {
                w!("# Cluster");
                w!("cluster_enabled:0");
            }
            "keyspace" => {
                w!("# Keyspace");
                for db in 0..DATABASES {
                    let (keys, expires) = t.keyspace(db);
                    if keys > 0 {
                        w!("db{db}:keys={keys},expires={expires},avg_ttl=0");
                    }
                }
            }
            _ => {}
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// CLIENT
// ---------------------------------------------------------------------------------------------

const CLIENT_SUBS: &[Sub] = &[
    Sub {
        name: "id",
        arity: 2,
        run: client_id,
    },
    Sub {
        name: "info",
        arity: 2,
        run: client_info,
    },
    Sub {
        name: "list",
        arity: -2,
        run: client_list,
    },
    Sub {
        name: "kill",
        arity: -3,
        run: client_kill,
    },
    Sub {
        name: "setname",
        arity: 3,
        run: client_setname,
    },
    Sub {
        name: "getname",
        arity: 2,
        run: client_getname,
    },
    Sub {
        name: "setinfo",
        arity: 4,
        run: client_setinfo,
    },
    Sub {
        name: "no-evict",
        arity: 3,
        run: client_no_evict,
    },
    Sub {
        name: "no-touch",
        arity: 3,
        run: client_no_touch,
    },
    Sub {
        name: "help",
        arity: 2,
        run: client_help,
    },
];

fn client(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    dispatch(c, argv, out, "client", CLIENT_SUBS)
}

fn client_id(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(c.id as i64);
    Ok(Effect::Done)
}

fn client_info(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let mut line = c.info.borrow().line();
    line.push('\n');
    out.verbatim(line.as_bytes());
    Ok(Effect::Done)
}

fn client_getname(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let i = c.info.borrow();
    if i.name.is_empty() {
        out.null();
    } else {
        out.bulk(&i.name);
    }
    Ok(Effect::Done)
}

fn client_setname(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    set_name(c, argv[2])?;
    out.ok();
    Ok(Effect::Done)
}

fn client_setinfo(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let attr = String::from_utf8_lossy(argv[2]).into_owned();
    let lib_name = args::is(argv[2], "LIB-NAME");
    if !lib_name && !args::is(argv[2], "LIB-VER") {
        return Err(CmdError::new(format!("ERR Unrecognized option '{attr}'")));
    }
    if !valid_name(argv[3]) {
        return Err(CmdError::new(format!(
            "ERR {attr} cannot contain spaces, newlines or special characters."
        )));
    }
    let mut i = c.info.borrow_mut();
    if lib_name {
        i.lib_name = argv[3].to_vec();
    } else {
        i.lib_ver = argv[3].to_vec();
    }
    out.ok();
    Ok(Effect::Done)
}

fn on_off(a: &[u8]) -> Result<bool, CmdError> {
    if args::is(a, "ON") {
        Ok(true)
    } else if args::is(a, "OFF") {
        Ok(false)
    } else {
        Err(err::SYNTAX)
    }
}

fn client_no_evict(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    c.info.borrow_mut().no_evict = on_off(argv[2])?;
    out.ok();
    Ok(Effect::Done)
}

fn client_no_touch(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    c.info.borrow_mut().no_touch = on_off(argv[2])?;
    out.ok();
    Ok(Effect::Done)
}

/// Redis's client types; every shoal client is `normal` (no replication, no pub/sub yet).
/// A CLIENT LIST/KILL TYPE: normal, replica (a replica's link to us), or a kind we never
/// have (master, pubsub).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    None,
}

impl ClientType {
    fn matches(self, ci: &crate::server::client::ClientInfo) -> bool {
        match self {
            ClientType::Normal => !ci.is_replica(),
            ClientType::Replica => ci.is_replica(),
            ClientType::None => false,
        }
    }
}

fn client_type(a: &[u8]) -> Result<ClientType, CmdError> {
    if args::is(a, "normal") {
        Ok(ClientType::Normal)
    } else if args::is(a, "slave") || args::is(a, "replica") {
        Ok(ClientType::Replica)
    } else if ["master", "pubsub"].iter().any(|t| args::is(a, t)) {
        Ok(ClientType::None)
    } else {
        Err(CmdError::new(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(a)
        )))
    }
}

fn client_list(_c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    // As Redis 7.0: no filter, TYPE <type>, or ID <id> [<id> ...] (listed in the order given).
    let mut ids: Option<Vec<u64>> = None;
    let mut kind: Option<ClientType> = None;
    if argv.len() == 4 && args::is(argv[2], "TYPE") {
        kind = Some(client_type(argv[3])?);
    } else if argv.len() > 3 && args::is(argv[2], "ID") {
        let mut v = Vec::new();
        for a in &argv[3..] {
            let id = parse_i64(a).ok_or_else(|| CmdError::new("ERR Invalid client ID"))?;
            // No client has an id below 1: keep the slot so the order stays, never matching.
            v.push(if id < 1 { 0 } else { id as u64 });
        }
        ids = Some(v);
    } else if argv.len() != 2 {
        return Err(err::SYNTAX);
    }
    Ok(Effect::global(
        move |sh| {
            Reply::Array(
                sh.clients
                    .iter()
                    .filter(|ci| !ci.borrow().killed.get())
                    .filter(|ci| kind.is_none_or(|k| k.matches(&ci.borrow())))
                    .map(|ci| {
                        let ci = ci.borrow();
                        Reply::Array(vec![
                            Reply::Int(ci.id as i64),
                            Reply::Bulk(ci.line().into_bytes()),
                        ])
                    })
                    .collect(),
            )
        },
        move |_c, replies, out| {
            let mut lines: Vec<(u64, Vec<u8>)> = Vec::new();
            for r in replies {
                let Reply::Array(items) = r else { continue };
                for it in items {
                    if let Reply::Array(p) = it {
                        if let (Some(Reply::Int(id)), Some(Reply::Bulk(l))) = (p.first(), p.get(1))
                        {
                            lines.push((*id as u64, l.clone()));
                        }
                    }
                }
            }
            lines.sort_by_key(|l| l.0);
            let mut text = Vec::new();
            let mut add = |l: &[u8]| {
                text.extend_from_slice(l);
                text.push(b'\n');
            };
            match &ids {
                Some(ids) => {
                    for id in ids {
                        if let Ok(i) = lines.binary_search_by_key(id, |l| l.0) {
                            add(&lines[i].1);
                        }
                    }
                }
                None => lines.iter().for_each(|l| add(&l.1)),
            }
            out.verbatim(&text);
            Ok(())
        },
    ))
}

/// CLIENT KILL's filters; every client is authenticated as `default`.
#[derive(Clone, Default)]
struct KillFilter {
    addr: Option<String>,
    laddr: Option<String>,
    id: Option<u64>,
    /// TYPE, if given.
    kind: Option<ClientType>,
    skip: Option<u64>,
}

fn client_kill(c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    let mut f = KillFilter::default();
    let old_form = argv.len() == 3;
    if old_form {
        f.addr = Some(String::from_utf8_lossy(argv[2]).into_owned());
    } else {
        let mut skipme = true;
        let mut i = 2;
        while i < argv.len() {
            let (opt, Some(val)) = (argv[i], argv.get(i + 1)) else {
                return Err(err::SYNTAX);
            };
            if args::is(opt, "ID") {
                match parse_i64(val) {
                    Some(id) if id >= 1 => f.id = Some(id as u64),
                    _ => return Err(CmdError::new("ERR client-id should be greater than 0")),
                }
            } else if args::is(opt, "TYPE") {
                f.kind = Some(client_type(val)?);
            } else if args::is(opt, "ADDR") {
                f.addr = Some(String::from_utf8_lossy(val).into_owned());
            } else if args::is(opt, "LADDR") {
                f.laddr = Some(String::from_utf8_lossy(val).into_owned());
            } else if args::is(opt, "USER") {
                if *val != b"default" {
                    return Err(CmdError::new(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(val)
                    )));
                }
            } else if args::is(opt, "SKIPME") {
                if args::is(val, "YES") {
                    skipme = true;
                } else if args::is(val, "NO") {
                    skipme = false;
                } else {
                    return Err(err::SYNTAX);
                }
            } else {
                return Err(err::SYNTAX);
            }
            i += 2;
        }
        if skipme {
            f.skip = Some(c.id);
        }
    }
    Ok(Effect::global(
        move |sh| {
            let mut killed = 0;
            for ci in &sh.clients {
                let mut ci = ci.borrow_mut();
                // A client already killed is on its way out: not killed twice, not counted.
                let hit = !ci.killed.get()
                    && f.kind.is_none_or(|k| k.matches(&ci))
                    && f.addr.as_ref().is_none_or(|a| *a == ci.addr)
                    && f.laddr.as_ref().is_none_or(|a| *a == ci.laddr)
                    && f.id.is_none_or(|id| id == ci.id)
                    && f.skip != Some(ci.id);
                if hit {
                    // A client killing itself gets its reply first: the connection closes
                    // after writing it.
                    ci.kill();
                    killed += 1;
                }
            }
            Reply::Int(killed)
        },
        move |_c, replies, out| {
            let n = sum_ints(&replies);
            if old_form {
                if n == 0 {
                    return Err(CmdError::new("ERR No such client"));
                }
                out.ok();
            } else {
                out.int(n);
            }
            Ok(())
        },
    ))
}

fn client_help(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    help_reply(
        out,
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    );
    Ok(Effect::Done)
}

// ---------------------------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------------------------

/// One command or subcommand of Redis 7.0's own documentation (see DOCS at the end of the file).
struct Doc {
    name: &'static str,
    arity: i32,
    flags: &'static str,
    first: i32,
    last: i32,
    step: i32,
    categories: &'static str,
    tips: &'static str,
    specs: &'static str,
    summary: &'static str,
    since: &'static str,
    group: &'static str,
    complexity: &'static str,
    doc_flags: &'static str,
    deprecated_since: &'static str,
    replaced_by: &'static str,
    /// `version~text` entries joined by `^`.
    history: &'static str,
    args: &'static str,
}

fn docs() -> &'static HashMap<&'static str, Doc> {
    static D: OnceLock<HashMap<&'static str, Doc>> = OnceLock::new();
    D.get_or_init(|| {
        DOCS.lines()
            .chain(EXTRA_DOCS.lines())
            .filter_map(|l| {
                let f: Vec<&'static str> = l.split('\t').collect();
                if f.len() != 18 {
                    return None;
                }
                let n = |s: &str| s.parse::<i32>().unwrap_or(0);
                Some((
                    f[0],
                    Doc {
                        name: f[0],
                        arity: n(f[1]),
                        flags: f[2],
                        first: n(f[3]),
                        last: n(f[4]),
                        step: n(f[5]),
                        categories: f[6],
                        tips: f[7],
                        specs: f[8],
                        summary: f[9],
                        since: f[10],
                        group: f[11],
                        complexity: f[12],
                        doc_flags: f[13],
                        deprecated_since: f[14],
                        replaced_by: f[15],
                        history: f[16],
                        args: f[17],
                    },
                ))
            })
            .collect()
    })
}

/// Subcommands we implement for our own containers; other containers (added by other command
/// families) show all of Redis's.
const OWN_CONTAINERS: &[(&str, &[Sub])] = &[
    ("client", CLIENT_SUBS),
    ("config", CONFIG_SUBS),
    ("command", COMMAND_SUBS),
    ("function", FUNCTION_SUBS),
];

/// The error Redis gives before running a container command (OBJECT, CONFIG...) whose
/// subcommand is unknown or has the wrong arity; None when it would run. Inside MULTI, this is
/// checked while queueing (Redis looks subcommands up before queueing).
pub fn subcommand_error(cmd: &Command, argv: &[&[u8]]) -> Option<String> {
    // Most commands are not containers: answer those without walking the docs (this runs for
    // every command queued in MULTI).
    static CONTAINERS: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    let containers = CONTAINERS.get_or_init(|| {
        docs()
            .keys()
            .filter_map(|n| n.split_once('|').map(|(c, _)| c))
            .collect()
    });
    if argv.len() < 2 || !containers.contains(cmd.name) {
        return None;
    }
    let subs = subcommands(cmd.name);
    if subs.is_empty() {
        return None;
    }
    let sub = argv[1];
    let Some(d) = subs.iter().find(|d| {
        d.name
            .split_once('|')
            .is_some_and(|(_, s)| sub.eq_ignore_ascii_case(s.as_bytes()))
    }) else {
        return Some(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(&sub[..sub.len().min(128)]),
            cmd.name.to_ascii_uppercase()
        ));
    };
    let n = argv.len() as i32;
    if (d.arity > 0 && n != d.arity) || n < -d.arity {
        return Some(format!(
            "ERR wrong number of arguments for '{}' command",
            d.name
        ));
    }
    None
}

/// Whether this call writes: the command's write flag, or for a container (XGROUP, CONFIG...)
/// its subcommand's, as Redis flags subcommands (XGROUP CREATE writes, XINFO STREAM reads).
pub fn writes(cmd: &Command, argv: &[&[u8]]) -> bool {
    if cmd.flags & WRITE != 0 {
        return true;
    }
    if cmd.first_key != 0 || argv.len() < 2 {
        return false;
    }
    subcommands(cmd.name).iter().any(|d| {
        d.name
            .split_once('|')
            .is_some_and(|(_, s)| argv[1].eq_ignore_ascii_case(s.as_bytes()))
            && d.flags.split(' ').any(|f| f == "write")
    })
}

/// The subcommands COMMAND shows for table command `name`, sorted by name.
fn subcommands(name: &str) -> Vec<&'static Doc> {
    let prefix = format!("{name}|");
    let own = OWN_CONTAINERS.iter().find(|(n, _)| *n == name);
    let mut v: Vec<&'static Doc> = docs()
        .values()
        .filter(|d| d.name.starts_with(&prefix))
        .filter(|d| {
            own.is_none_or(|(_, subs)| subs.iter().any(|s| d.name[prefix.len()..] == *s.name))
        })
        .collect();
    v.sort_by_key(|d| d.name);
    v
}

/// Command flags in the order Redis prints them. The table has the common ones; Redis's
/// documentation adds those the table cannot express (movablekeys, skip_monitor...).
const FLAG_ORDER: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

fn table_flags(cmd: &Command, doc: Option<&Doc>) -> Vec<&'static str> {
    let mine: Vec<&str> = super::flags::NAMES
        .iter()
        .filter(|(bit, _)| cmd.flags & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    let table_known: Vec<&str> = super::flags::NAMES.iter().map(|(_, n)| *n).collect();
    let extra: Vec<&str> = doc
        .map(|d| {
            d.flags
                .split_whitespace()
                .filter(|f| !table_known.contains(f))
                .collect()
        })
        .unwrap_or_default();
    FLAG_ORDER
        .iter()
        .copied()
        .filter(|f| mine.contains(f) || extra.contains(f))
        .collect()
}

/// A key spec derived from first/last/step, in the DOCS format, for commands Redis does not
/// document.
fn derived_spec(cmd: &Command) -> String {
    if cmd.first_key <= 0 {
        return String::new();
    }
    let flags = if cmd.flags & WRITE != 0 {
        "RW update"
    } else {
        "RO access"
    };
    let last = if cmd.last_key < 0 {
        cmd.last_key
    } else {
        cmd.last_key - cmd.first_key
    };
    format!(
        "{flags};i={};r={last}={}=0;",
        cmd.first_key,
        cmd.step.max(1)
    )
}

/// What COMMAND INFO prints for one command or subcommand.
struct Info<'a> {
    name: &'a str,
    arity: i32,
    flags: Vec<&'a str>,
    first: i32,
    last: i32,
    step: i32,
    categories: &'a str,
    tips: &'a str,
    specs: String,
    subs: Vec<&'static Doc>,
}

fn table_info(cmd: &'static Command) -> Info<'static> {
    let doc = docs().get(cmd.name);
    Info {
        name: cmd.name,
        arity: cmd.arity,
        flags: table_flags(cmd, doc),
        first: cmd.first_key,
        last: cmd.last_key,
        step: cmd.step,
        categories: cmd.categories,
        tips: doc.map_or("", |d| d.tips),
        specs: doc.map_or_else(|| derived_spec(cmd), |d| d.specs.to_string()),
        subs: subcommands(cmd.name),
    }
}

fn doc_info(d: &'static Doc) -> Info<'static> {
    Info {
        name: d.name,
        arity: d.arity,
        flags: d.flags.split_whitespace().collect(),
        first: d.first,
        last: d.last,
        step: d.step,
        categories: d.categories,
        tips: d.tips,
        specs: d.specs.to_string(),
        subs: Vec::new(),
    }
}

fn write_words_set(out: &mut Out, words: &str) {
    let w: Vec<&str> = words.split_whitespace().collect();
    out.set(w.len());
    for x in w {
        out.simple(x);
    }
}

/// One parsed key spec: flags, begin_search, find_keys, notes.
struct KeySpec<'a> {
    flags: &'a str,
    bs: Vec<&'a str>,
    fk: Vec<&'a str>,
    notes: &'a str,
}

fn key_specs(specs: &str) -> Vec<KeySpec<'_>> {
    specs
        .split('|')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut p = s.splitn(4, ';');
            let flags = p.next().unwrap_or("");
            let bs = p.next().unwrap_or("u").split('=').collect();
            let fk = p.next().unwrap_or("u").split('=').collect();
            KeySpec {
                flags,
                bs,
                fk,
                notes: p.next().unwrap_or(""),
            }
        })
        .collect()
}

fn spec_int(v: &[&str], i: usize) -> i64 {
    v.get(i).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn write_key_specs(out: &mut Out, specs: &str) {
    let specs = key_specs(specs);
    out.set(specs.len());
    for s in &specs {
        out.map(if s.notes.is_empty() { 3 } else { 4 });
        if !s.notes.is_empty() {
            out.bulk(b"notes");
            out.bulk(s.notes.as_bytes());
        }
        out.bulk(b"flags");
        write_words_set(out, s.flags);
        out.bulk(b"begin_search");
        out.map(2);
        out.bulk(b"type");
        match s.bs.first().copied() {
            Some("i") => {
                out.bulk(b"index");
                out.bulk(b"spec");
                out.map(1);
                out.bulk(b"index");
                out.int(spec_int(&s.bs, 1));
            }
            Some("k") => {
                out.bulk(b"keyword");
                out.bulk(b"spec");
                out.map(2);
                out.bulk(b"keyword");
                out.bulk(s.bs.get(1).unwrap_or(&"").as_bytes());
                out.bulk(b"startfrom");
                out.int(spec_int(&s.bs, 2));
            }
            _ => {
                out.bulk(b"unknown");
                out.bulk(b"spec");
                out.map(0);
            }
        }
        out.bulk(b"find_keys");
        out.map(2);
        out.bulk(b"type");
        let (kind, names): (&[u8], [&[u8]; 3]) = match s.fk.first().copied() {
            Some("r") => (b"range", [b"lastkey", b"keystep", b"limit"]),
            Some("n") => (b"keynum", [b"keynumidx", b"firstkey", b"keystep"]),
            _ => (b"unknown", [b"", b"", b""]),
        };
        out.bulk(kind);
        out.bulk(b"spec");
        if kind == b"unknown" {
            out.map(0);
        } else {
            out.map(3);
            for (i, n) in names.iter().enumerate() {
                out.bulk(n);
                out.int(spec_int(&s.fk, i + 1));
            }
        }
    }
}

fn write_info(out: &mut Out, i: &Info) {
    out.array(10);
    out.bulk(i.name.as_bytes());
    out.int(i.arity as i64);
    out.set(i.flags.len());
    for f in &i.flags {
        out.simple(f);
    }
    out.int(i.first as i64);
    out.int(i.last as i64);
    out.int(i.step as i64);
    write_words_set(out, i.categories);
    // Tips are bulk strings, unlike flags and categories.
    let tips: Vec<&str> = i.tips.split_whitespace().collect();
    out.set(tips.len());
    for t in tips {
        out.bulk(t.as_bytes());
    }
    write_key_specs(out, &i.specs);
    if i.subs.is_empty() {
        out.set(0);
    } else {
        out.array(i.subs.len());
        for s in &i.subs {
            write_info(out, &doc_info(s));
        }
    }
}

/// One documented argument, parsed from the compact DOCS form
/// `name;type;key_spec_index;token;since;deprecated_since;flags(children,...)`.
struct ArgDoc<'a> {
    fields: [&'a str; 7],
    children: Vec<ArgDoc<'a>>,
}

fn parse_args(s: &str) -> Vec<ArgDoc<'_>> {
    fn list<'a>(s: &'a str, pos: &mut usize) -> Vec<ArgDoc<'a>> {
        let b = s.as_bytes();
        let mut v = Vec::new();
        while *pos < b.len() {
            let start = *pos;
            while *pos < b.len() && !b"(),".contains(&b[*pos]) {
                *pos += 1;
            }
            let mut fields = [""; 7];
            for (i, f) in s[start..*pos].splitn(7, ';').enumerate() {
                fields[i] = f;
            }
            let mut children = Vec::new();
            if *pos < b.len() && b[*pos] == b'(' {
                *pos += 1;
                children = list(s, pos);
                if *pos < b.len() && b[*pos] == b')' {
                    *pos += 1;
                }
            }
            v.push(ArgDoc { fields, children });
            match b.get(*pos) {
                Some(b',') => *pos += 1,
                _ => break,
            }
        }
        v
    }
    if s.is_empty() {
        return Vec::new();
    }
    list(s, &mut 0)
}

fn write_args(out: &mut Out, args: &[ArgDoc]) {
    out.array(args.len());
    for a in args {
        let [name, typ, ksi, token, since, dep, flags] = a.fields;
        let typ = match typ {
            "s" => "string",
            "i" => "integer",
            "d" => "double",
            "k" => "key",
            "p" => "pattern",
            "u" => "unix-time",
            "t" => "pure-token",
            "o" => "oneof",
            "b" => "block",
            other => other,
        };
        let n = 2
            + [ksi, token, since, dep, flags]
                .iter()
                .filter(|f| !f.is_empty())
                .count()
            + usize::from(!a.children.is_empty());
        out.map(n);
        out.bulk(b"name");
        out.bulk(name.as_bytes());
        out.bulk(b"type");
        out.bulk(typ.as_bytes());
        if !ksi.is_empty() {
            out.bulk(b"key_spec_index");
            out.int(ksi.parse().unwrap_or(0));
        }
        if !token.is_empty() {
            out.bulk(b"token");
            // `""` stands for an empty token (MIGRATE's empty key).
            out.bulk(if token == "\"\"" {
                b""
            } else {
                token.as_bytes()
            });
        }
        if !since.is_empty() {
            out.bulk(b"since");
            out.bulk(since.as_bytes());
        }
        if !dep.is_empty() {
            out.bulk(b"deprecated_since");
            out.bulk(dep.as_bytes());
        }
        if !flags.is_empty() {
            out.bulk(b"flags");
            out.set(flags.len());
            for f in flags.chars() {
                out.simple(match f {
                    'o' => "optional",
                    'm' => "multiple",
                    _ => "multiple_token",
                });
            }
        }
        if !a.children.is_empty() {
            out.bulk(b"arguments");
            write_args(out, &a.children);
        }
    }
}

/// COMMAND DOCS for one command or subcommand.
fn write_docs(
    out: &mut Out,
    summary: &str,
    since: &str,
    group: &str,
    doc: Option<&Doc>,
    subs: &[&'static Doc],
) {
    let d = |f: fn(&Doc) -> &'static str| doc.map_or("", f);
    let complexity = d(|x| x.complexity);
    let doc_flags = d(|x| x.doc_flags);
    let deprecated = d(|x| x.deprecated_since);
    let replaced = d(|x| x.replaced_by);
    let history = d(|x| x.history);
    let args = parse_args(d(|x| x.args));
    let n = 1
        + [
            summary, since, complexity, doc_flags, deprecated, replaced, history,
        ]
        .iter()
        .filter(|f| !f.is_empty())
        .count()
        + usize::from(!args.is_empty())
        + usize::from(!subs.is_empty());
    out.map(n);
    for (k, v) in [
        ("summary", summary),
        ("since", since),
        ("group", group),
        ("complexity", complexity),
    ] {
        if !v.is_empty() || k == "group" {
            out.bulk(k.as_bytes());
            out.bulk(v.as_bytes());
        }
    }
    if !doc_flags.is_empty() {
        out.bulk(b"doc_flags");
        write_words_set(out, doc_flags);
    }
    for (k, v) in [("deprecated_since", deprecated), ("replaced_by", replaced)] {
        if !v.is_empty() {
            out.bulk(k.as_bytes());
            out.bulk(v.as_bytes());
        }
    }
    if !history.is_empty() {
        // A set of [version, text] pairs, as Redis replies it.
        let entries: Vec<&str> = history.split('^').collect();
        out.bulk(b"history");
        out.set(entries.len());
        for e in entries {
            let (version, text) = e.split_once('~').unwrap_or((e, ""));
            out.array(2);
            out.bulk(version.as_bytes());
            out.bulk(text.as_bytes());
        }
    }
    if !args.is_empty() {
        out.bulk(b"arguments");
        write_args(out, &args);
    }
    if !subs.is_empty() {
        out.bulk(b"subcommands");
        out.map(subs.len());
        for s in subs {
            out.bulk(s.name.as_bytes());
            write_docs(out, s.summary, s.since, s.group, Some(s), &[]);
        }
    }
}

/// A command name as COMMAND INFO/DOCS accept it: `get`, or `config|get` for a subcommand.
enum Found {
    Table(&'static Command),
    Sub(&'static Doc),
}

fn find_command(name: &[u8]) -> Option<Found> {
    let name = String::from_utf8_lossy(name).to_ascii_lowercase();
    match name.split_once('|') {
        None => super::lookup(name.as_bytes()).map(|(_, c)| Found::Table(c)),
        Some((container, _)) => {
            super::lookup(container.as_bytes())?;
            subcommands(container)
                .into_iter()
                .find(|d| d.name == name)
                .map(Found::Sub)
        }
    }
}

const COMMAND_SUBS: &[Sub] = &[
    Sub {
        name: "count",
        arity: 2,
        run: command_count,
    },
    Sub {
        name: "info",
        arity: -2,
        run: command_info,
    },
    Sub {
        name: "docs",
        arity: -2,
        run: command_docs,
    },
    Sub {
        name: "list",
        arity: -2,
        run: command_list,
    },
    Sub {
        name: "getkeys",
        arity: -4,
        run: command_getkeys,
    },
    Sub {
        name: "getkeysandflags",
        arity: -4,
        run: command_getkeysandflags,
    },
    Sub {
        name: "help",
        arity: 2,
        run: command_help,
    },
];

fn command(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if argv.len() == 1 {
        return command_info(c, argv, out);
    }
    dispatch(c, argv, out, "command", COMMAND_SUBS)
}

fn command_count(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(super::table().len() as i64);
    Ok(Effect::Done)
}

fn command_info(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if argv.len() <= 2 {
        let t = super::table();
        out.array(t.len());
        for cmd in t {
            write_info(out, &table_info(cmd));
        }
        return Ok(Effect::Done);
    }
    out.array(argv.len() - 2);
    for name in &argv[2..] {
        match find_command(name) {
            Some(Found::Table(cmd)) => write_info(out, &table_info(cmd)),
            Some(Found::Sub(d)) => write_info(out, &doc_info(d)),
            None => out.null(),
        }
    }
    Ok(Effect::Done)
}

/// Redis 7.0's own summary, since and group win over the table's for the commands Redis has, so
/// COMMAND DOCS matches it byte for byte; shoal-only commands use the table's.
fn write_table_docs(out: &mut Out, cmd: &'static Command) {
    out.bulk(cmd.name.as_bytes());
    let subs = subcommands(cmd.name);
    let doc = docs().get(cmd.name);
    let (summary, since, group) = doc.map_or((cmd.summary, cmd.since, cmd.group), |d| {
        (d.summary, d.since, d.group)
    });
    write_docs(out, summary, since, group, doc, &subs);
}

fn command_docs(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if argv.len() <= 2 {
        let t = super::table();
        out.map(t.len());
        for cmd in t {
            write_table_docs(out, cmd);
        }
        return Ok(Effect::Done);
    }
    // Unknown names are left out, as Redis does.
    let found: Vec<Found> = argv[2..].iter().filter_map(|n| find_command(n)).collect();
    out.map(found.len());
    for f in found {
        match f {
            Found::Table(cmd) => write_table_docs(out, cmd),
            Found::Sub(d) => {
                out.bulk(d.name.as_bytes());
                write_docs(out, d.summary, d.since, d.group, Some(d), &[]);
            }
        }
    }
    Ok(Effect::Done)
}

fn command_list(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    enum Filter {
        All,
        None,
        Category(String),
        Pattern(Vec<u8>),
    }
    let filter = match argv.len() {
        2 => Filter::All,
        5 if args::is(argv[2], "FILTERBY") => {
            let v = argv[4];
            if args::is(argv[3], "MODULE") {
                Filter::None
            } else if args::is(argv[3], "ACLCAT") {
                Filter::Category(format!(
                    "@{}",
                    String::from_utf8_lossy(v).to_ascii_lowercase()
                ))
            } else if args::is(argv[3], "PATTERN") {
                Filter::Pattern(v.to_vec())
            } else {
                return Err(err::SYNTAX);
            }
        }
        _ => return Err(err::SYNTAX),
    };
    let keep = |name: &str, cats: &str| match &filter {
        Filter::All => true,
        Filter::None => false,
        Filter::Category(c) => cats.split_whitespace().any(|x| x.eq_ignore_ascii_case(c)),
        Filter::Pattern(p) => glob_match(p, name.as_bytes(), true),
    };
    let mut names: Vec<&str> = Vec::new();
    for cmd in super::table() {
        if keep(cmd.name, cmd.categories) {
            names.push(cmd.name);
        }
        for s in subcommands(cmd.name) {
            if keep(s.name, s.categories) {
                names.push(s.name);
            }
        }
    }
    out.array(names.len());
    for n in names {
        out.bulk(n.as_bytes());
    }
    Ok(Effect::Done)
}

/// Positions of the keys of `argv` (a full command) with their flags, following the key specs
/// as Redis's getKeysUsingKeySpecs does. `None` when the specs do not fit the arguments.
fn keys_by_specs<'a>(specs: &'a str, argv: &[&[u8]]) -> Option<Vec<(usize, &'a str)>> {
    let argc = argv.len() as i64;
    let mut keys = Vec::new();
    for s in key_specs(specs) {
        if s.flags.split_whitespace().any(|f| f == "not_key") {
            continue;
        }
        let mut first = match s.bs.first().copied() {
            Some("i") => spec_int(&s.bs, 1),
            Some("k") => {
                let kw = s.bs.get(1).copied().unwrap_or("");
                let from = spec_int(&s.bs, 2);
                let (start, end) = if from > 0 {
                    (from, argc - 1)
                } else {
                    (argc + from, 1)
                };
                // As Redis: scan from `start` toward `end`, `end` itself excluded.
                let mut found = 0;
                let mut i = start;
                while i != end && i >= 1 && i < argc {
                    if argv[i as usize].eq_ignore_ascii_case(kw.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i += if start <= end { 1 } else { -1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            // Unknown specs (keys named by data, e.g. SORT BY): nothing to find here.
            _ => continue,
        };
        let (last, step) = match s.fk.first().copied() {
            Some("r") => {
                let (lastkey, step, limit) =
                    (spec_int(&s.fk, 1), spec_int(&s.fk, 2), spec_int(&s.fk, 3));
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, step)
            }
            Some("n") => {
                let (idx, firstkey, step) =
                    (spec_int(&s.fk, 1), spec_int(&s.fk, 2), spec_int(&s.fk, 3));
                if idx >= argc - first {
                    return None;
                }
                let numkeys = parse_i64(argv[(first + idx) as usize]).filter(|n| *n >= 0)?;
                first += firstkey;
                (first.saturating_add(numkeys) - 1, step)
            }
            _ => continue,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let step = step.max(1);
        let mut i = first;
        while i <= last {
            keys.push((i as usize, s.flags));
            i += step;
        }
    }
    Some(keys)
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS.
fn get_keys(argv: &[&[u8]], out: &mut Out, with_flags: bool) -> ConnResult {
    let full = &argv[2..];
    let invalid = || CmdError::new("ERR Invalid command specified");
    let (_, cmd) = super::lookup(full[0]).ok_or_else(invalid)?;
    let subs = subcommands(cmd.name);
    // (arity, specs, no_mandatory_keys) of the command or of its subcommand.
    let (arity, specs, optional) = if !subs.is_empty() && full.len() >= 2 {
        let want = format!(
            "{}|{}",
            cmd.name,
            String::from_utf8_lossy(full[1]).to_ascii_lowercase()
        );
        let d = subs
            .into_iter()
            .find(|d| d.name == want)
            .ok_or_else(invalid)?;
        (
            d.arity,
            d.specs.to_string(),
            d.flags.contains("no_mandatory_keys"),
        )
    } else {
        let info = table_info(cmd);
        (
            cmd.arity,
            info.specs,
            info.flags.contains(&"no_mandatory_keys"),
        )
    };
    if specs.is_empty() {
        return Err(CmdError::new("ERR The command has no key arguments"));
    }
    let n = full.len() as i32;
    if (arity > 0 && arity != n) || n < -arity {
        return Err(CmdError::new(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys = match keys_by_specs(&specs, full) {
        Some(k) if !k.is_empty() => k,
        _ if optional => Vec::new(),
        _ => return Err(CmdError::new("ERR Invalid arguments specified for command")),
    };
    out.array(keys.len());
    for (pos, flags) in keys {
        if with_flags {
            out.array(2);
            out.bulk(full[pos]);
            write_words_set(out, flags);
        } else {
            out.bulk(full[pos]);
        }
    }
    Ok(Effect::Done)
}

fn command_getkeys(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    get_keys(argv, out, false)
}

fn command_getkeysandflags(_c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    get_keys(argv, out, true)
}

fn command_help(_c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    help_reply(
        out,
        "COMMAND",
        &[
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "GETKEYSANDFLAGS <full-command>",
            "    Return the keys and the access flags from a full Redis command.",
        ],
    );
    Ok(Effect::Done)
}

// ---------------------------------------------------------------------------------------------
// Redis 7.0.15's command documentation, one command or subcommand per line, tab-separated:
// name, arity, flags, first key, last key, step, ACL categories, tips, key specs, summary, since,
// group, complexity, doc flags, deprecated since, replaced by, history (`version~text` joined by
// `^`), arguments.
// Key specs: `flags;begin_search;find_keys;notes` joined by `|`, begin_search `i=pos`,
// `k=keyword=startfrom` or `u`, find_keys `r=lastkey=step=limit`, `n=idx=first=step` or `u`.
// Arguments: `name;type;key_spec_index;token;since;deprecated_since;flags(children)` joined by `,`,
// types s(tring) i(nteger) d(ouble) k(ey) p(attern) u(nix-time) t(pure-token) o(neof) b(lock),
// flags o(ptional) m(ultiple) t (multiple_token). Recorded from a redis-server 7.0.15 (BSD-3-Clause)
// answering COMMAND INFO and COMMAND DOCS, so our replies match what clients such as redis-cli
// expect; the data lives in command_docs.tsv.
// ---------------------------------------------------------------------------------------------

/// Subcommands Redis 7.2 added that we implement (CLIENT SETINFO, CLIENT NO-TOUCH).
const EXTRA_DOCS: &str = r##"client|setinfo	4	noscript loading stale	0	0	0	@slow @connection	request_policy:all_nodes response_policy:all_succeeded		Sets information specific to the client or connection.	7.2.0	connection	O(1)					attr;o;;;;;(libname;s;;LIB-NAME;;;,libver;s;;LIB-VER;;;)
client|no-touch	3	noscript loading stale	0	0	0	@slow @connection			Controls whether commands sent by the client affect the LRU/LFU of accessed keys.	7.2.0	connection	O(1)					enabled;o;;;;;(on;t;;ON;;;,off;t;;OFF;;;)
"##;

const DOCS: &str = include_str!("command_docs.tsv");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_parse_and_match_our_subcommand_arities() {
        assert!(docs().len() > 300);
        for (container, subs) in OWN_CONTAINERS {
            for s in *subs {
                let name = format!("{container}|{}", s.name);
                let d = docs()
                    .get(name.as_str())
                    .unwrap_or_else(|| panic!("no docs for {name}"));
                assert_eq!(d.arity, s.arity, "{name}");
            }
        }
    }

    #[test]
    fn args_round_trip_the_compact_form() {
        let a = parse_args(
            "key;k;0;;;;,condition;o;;;2.6.12;;o(nx;t;;NX;;;,xx;t;;XX;;;),get;t;;GET;6.2.0;;o",
        );
        assert_eq!(a.len(), 3);
        assert_eq!(a[1].children.len(), 2);
        assert_eq!(a[1].children[1].fields[3], "XX");
        assert_eq!(a[2].fields[6], "o");
        assert!(parse_args("").is_empty());
        // Malformed input never panics.
        for s in ["(", ")", ",,", "a(b(c", ";;;;;;;;;;"] {
            let _ = parse_args(s);
        }
    }

    #[test]
    fn keys_follow_specs() {
        let argv: Vec<&[u8]> = vec![b"mset", b"a", b"1", b"b", b"2"];
        let k = keys_by_specs("OW update;i=1;r=-1=2=0;", &argv).unwrap();
        assert_eq!(k.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 3]);
        let argv: Vec<&[u8]> = vec![b"eval", b"s", b"2", b"k1", b"k2", b"x"];
        let k = keys_by_specs("RW;i=2;n=0=1=1;", &argv).unwrap();
        assert_eq!(k.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 4]);
        let argv: Vec<&[u8]> = vec![b"eval", b"s", b"99"];
        assert!(keys_by_specs("RW;i=2;n=0=1=1;", &argv).is_none());
        let argv: Vec<&[u8]> = vec![b"migrate", b"h", b"p", b"", b"0", b"5", b"KEYS", b"a", b"b"];
        let k = keys_by_specs("RW;i=3;r=0=1=0;|RW;k=KEYS=-2;r=-1=1=0;", &argv).unwrap();
        assert_eq!(k.iter().map(|x| x.0).collect::<Vec<_>>(), vec![3, 7, 8]);
    }
}
