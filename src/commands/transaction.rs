//! MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c). Queueing happens in the connection
//! loop (src/server/conn.rs); EXEC and WATCH run in src/server/transaction.rs.

use super::server::{conn, ConnResult};
use super::{flags::*, CmdError, Command, Run};
use crate::protocol::Out;
use crate::server::conn::{ConnCtx, Effect};
use crate::server::transaction::{self, MultiState};

#[rustfmt::skip]
pub fn commands() -> Vec<Command> {
    vec![
        conn("multi", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, "@fast @transaction", "transactions", "Mark the start of a transaction block", "1.2.0", multi),
        conn("exec", 1, NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG, "@slow @transaction", "transactions", "Execute all commands issued after MULTI", "1.2.0", exec),
        conn("discard", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, "@fast @transaction", "transactions", "Discard all commands issued after MULTI", "2.0.0", discard),
        Command::new("watch", -2, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, (1, -1, 1), "@fast @transaction", "transactions", "Watch the given keys to determine execution of the MULTI/EXEC block", "2.2.0", Run::Conn(watch)),
        conn("unwatch", 1, NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY, "@fast @transaction", "transactions", "Forget about all watched keys", "2.2.0", unwatch),
    ]
}

fn multi(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if c.multi.is_some() {
        return Err(CmdError::new("ERR MULTI calls can not be nested"));
    }
    c.multi = Some(MultiState::default());
    out.ok();
    Ok(Effect::Done)
}

fn exec(c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    if c.multi.is_none() {
        return Err(CmdError::new("ERR EXEC without MULTI"));
    }
    Ok(Effect::Exec)
}

fn discard(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    if c.multi.take().is_none() {
        return Err(CmdError::new("ERR DISCARD without MULTI"));
    }
    transaction::unwatch_all(c);
    out.ok();
    Ok(Effect::Done)
}

fn watch(c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    if c.multi.is_some() {
        return Err(CmdError::new("ERR WATCH inside MULTI is not allowed"));
    }
    Ok(Effect::Watch(
        argv[1..].iter().map(|k| k.to_vec()).collect(),
    ))
}

fn unwatch(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    transaction::unwatch_all(c);
    out.ok();
    Ok(Effect::Done)
}
