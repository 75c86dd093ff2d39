//! Replication commands: REPLCONF, PSYNC, SYNC (a replica talking to us), WAIT, ROLE,
//! REPLICAOF/SLAVEOF. The work is in src/replication/.

use super::server::conn;
use super::{err, CmdError, Command};
use crate::commands::args::is;
use crate::commands::flags::*;
use crate::protocol::Out;
use crate::replication::master::{Psync, ReplEffect};
use crate::server::conn::{ConnCtx, Effect};
use crate::util::num::parse_i64;

type ConnResult = Result<Effect, CmdError>;

#[rustfmt::skip]
pub fn commands() -> Vec<Command> {
    vec![
        conn("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, "@admin @slow @dangerous", "server", "An internal command for configuring the replication stream", "3.0.0", replconf),
        conn("psync", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, "@admin @slow @dangerous", "server", "Internal command used for replication", "2.8.0", psync),
        conn("sync", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, "@admin @slow @dangerous", "server", "Internal command used for replication", "1.0.0", sync),
        conn("wait", 3, NOSCRIPT, "@slow @connection", "generic", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", "3.0.0", wait),
        conn("replicaof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, "@admin @slow @dangerous", "server", "Make the server a replica of another instance, or promote it as master.", "5.0.0", replicaof),
        conn("slaveof", 3, ADMIN | NOSCRIPT | STALE | NO_ASYNC_LOADING, "@admin @slow @dangerous", "server", "Make the server a replica of another instance, or promote it as master.", "1.0.0", replicaof),
        conn("role", 1, NOSCRIPT | LOADING | STALE | FAST, "@admin @fast @dangerous", "server", "Return the role of the instance in the context of replication", "2.8.12", role),
    ]
}

/// REPLCONF <option> <value> ...: what a replica says about itself before PSYNC. ACK and
/// GETACK from a connection that is not a replica's link are ignored without a reply, as Redis.
fn replconf(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if argv.len().is_multiple_of(2) {
        return Err(err::SYNTAX);
    }
    let mut info = c.info.borrow_mut();
    let r = info.replica.get_or_insert_with(Box::default);
    for pair in argv[1..].chunks_exact(2) {
        let (opt, val) = (pair[0], pair[1]);
        if is(opt, "listening-port") {
            r.listening_port = parse_i64(val).ok_or(err::NOT_INT)?;
        } else if is(opt, "ip-address") {
            // NET_HOST_STR_LEN
            if val.len() >= 256 {
                return Err(CmdError::new(format!(
                    "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                    val.len()
                )));
            }
            r.ip = Some(String::from_utf8_lossy(val).into_owned());
        } else if is(opt, "capa") {
            if is(val, "eof") {
                r.capa_eof = true;
            } else if is(val, "psync2") {
                r.capa_psync2 = true;
            }
        } else if is(opt, "ack") || is(opt, "getack") {
            return Ok(Effect::Done);
        } else if is(opt, "rdb-only") {
            match parse_i64(val) {
                None => return Err(err::NOT_INT),
                Some(v @ 0..=1) => r.rdb_only = v == 1,
                Some(_) => {
                    return Err(CmdError::new(
                        "ERR value is out of range, value must between 0 and 1",
                    ))
                }
            }
        } else {
            return Err(CmdError::new(format!(
                "ERR Unrecognized REPLCONF option: {}",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    out.ok();
    Ok(Effect::Done)
}

/// Common checks of SYNC and PSYNC; then the connection loop hands the socket over.
fn start_sync(c: &mut ConnCtx, out: &mut Out, req: Psync) -> ConnResult {
    let server = c.local.server.clone();
    if server.replica.is_replica() && !server.replica.link_up() {
        out.error("NOMASTERLINK Can't SYNC while not connected with my master");
        return Ok(Effect::Done);
    }
    if !out.buf.is_empty() {
        return Err(CmdError::new(
            "ERR SYNC and PSYNC are invalid with pending output",
        ));
    }
    let mut info = c.info.borrow_mut();
    if info.is_replica() {
        return Ok(Effect::Done);
    }
    info.replica.get_or_insert_with(Box::default).psync = Some(req);
    Ok(Effect::Close)
}

/// PSYNC replid offset: partial resync from the backlog when possible, else full.
fn psync(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let offset = parse_i64(argv[2]).ok_or(err::NOT_INT)?;
    let replid = String::from_utf8_lossy(argv[1]).into_owned();
    start_sync(c, out, Psync::Psync { replid, offset })
}

/// SYNC: the old protocol (a full resync without the +FULLRESYNC line).
fn sync(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    start_sync(c, out, Psync::Sync)
}

/// WAIT numreplicas timeout.
fn wait(c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    if c.local.server.replica.is_replica() {
        return Err(CmdError::new("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let numreplicas = parse_i64(argv[1]).ok_or(err::NOT_INT)?;
    let timeout = parse_i64(argv[2]).ok_or(err::NOT_INT)?;
    if timeout < 0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    Ok(Effect::Repl(ReplEffect::Wait {
        numreplicas,
        timeout_ms: timeout as u64,
    }))
}

/// REPLICAOF host port | NO ONE.
fn replicaof(c: &mut ConnCtx, argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let server = c.local.server.clone();
    let target = if is(argv[1], "no") && is(argv[2], "one") {
        None
    } else {
        let port = parse_i64(argv[2])
            .filter(|p| (0..=65535).contains(p))
            .ok_or_else(|| CmdError::new("ERR Invalid master port"))?;
        let host = String::from_utf8_lossy(argv[1]).into_owned();
        Some((host, port as u16))
    };
    if let Some(t) = &target {
        if server.replica.master_target().as_ref() == Some(t) {
            out.simple("OK Already connected to specified master");
            return Ok(Effect::Done);
        }
    }
    crate::replication::replica::set_master(&server, target).map_err(CmdError::new)?;
    out.ok();
    Ok(Effect::Done)
}

/// ROLE: ["master", offset, [[ip, port, offset]...]] or ["slave", host, port, state, offset].
fn role(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    let server = c.local.server.clone();
    if let Some((host, port)) = server.replica.master_target() {
        out.array(5);
        out.bulk(b"slave");
        out.bulk(host.as_bytes());
        out.int(port as i64);
        out.bulk(if server.replica.link_up() {
            b"connected"
        } else {
            b"connect"
        });
        out.int(server.replica.applied_offset().map_or(-1, |o| o as i64));
        return Ok(Effect::Done);
    }
    let (offset, replicas) = crate::replication::master::role_master(&server);
    out.array(3);
    out.bulk(b"master");
    out.int(offset as i64);
    out.array(replicas.len());
    for (ip, port, ack) in replicas {
        out.array(3);
        out.bulk(ip.as_bytes());
        out.bulk(port.to_string().as_bytes());
        out.bulk(ack.to_string().as_bytes());
    }
    Ok(Effect::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows agree with Redis 7.0.15's COMMAND output (command_docs.tsv).
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
            assert_eq!((f[3], f[4], f[5]), ("0", "0", "0"), "{}", c.name);
            assert_eq!(f[6], c.categories, "{}", c.name);
            assert_eq!(f[9], c.summary, "{}", c.name);
            assert_eq!(f[10], c.since, "{}", c.name);
            assert_eq!(f[11], c.group, "{}", c.name);
        }
    }
}
