//! SAVE, BGSAVE, LASTSAVE: the commands of Redis's rdb.c. The saving itself is the
//! coordinator's (src/runtime/coordinator.rs) and src/persistence/snapshot.rs's.

use std::sync::atomic::Ordering;

use super::server::{conn, ConnResult};
use super::{args, err, flags::*, Command};
use crate::protocol::Out;
use crate::runtime::coordinator::SaveKind;
use crate::server::conn::{ConnCtx, Effect};

#[rustfmt::skip]
pub fn commands() -> Vec<Command> {
    vec![
        conn("save", 1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING | NO_MULTI, "@admin @slow @dangerous", "server", "Synchronously save the dataset to disk", "1.0.0", save),
        conn("bgsave", -1, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, "@admin @slow @dangerous", "server", "Asynchronously save the dataset to disk", "1.0.0", bgsave),
        conn("lastsave", 1, LOADING | STALE | FAST, "@admin @fast @dangerous", "server", "Get the UNIX time stamp of the last successful save to disk", "1.0.0", lastsave),
    ]
}

/// SAVE: the caller waits for the file; other clients and shards go on (unlike Redis, where SAVE
/// blocks the whole server).
fn save(_c: &mut ConnCtx, _argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    Ok(Effect::Save(SaveKind::Save))
}

fn bgsave(_c: &mut ConnCtx, argv: &[&[u8]], _out: &mut Out) -> ConnResult {
    match argv.len() {
        1 => Ok(Effect::Save(SaveKind::Bgsave)),
        2 if args::is(argv[1], "SCHEDULE") => Ok(Effect::Save(SaveKind::BgsaveSchedule)),
        _ => Err(err::SYNTAX),
    }
}

fn lastsave(c: &mut ConnCtx, _argv: &[&[u8]], out: &mut Out) -> ConnResult {
    out.int(c.local.server.persist.lastsave.load(Ordering::Relaxed) as i64);
    Ok(Effect::Done)
}
