//! MULTI/EXEC/WATCH on the connection side: the queue, the watched keys, and EXEC's two paths.
//!
//! - All keys (queued and watched) on one shard, data commands only: the whole EXEC, the WATCH
//!   check included, is one closure run on that shard (inline when it is this connection's
//!   shard, else one mailbox message): atomic because a shard runs one message at a time.
//! - Keys on several shards, or connection commands (SELECT, FLUSHALL, INFO...) queued: the
//!   connection asks the coordinator to hold the shards involved (all of them when a connection
//!   command is queued), checks the watched keys on their shards, then runs each command on its
//!   shard as a step of the hold, in order, and releases. Holds are queued by the coordinator in
//!   arrival order, so transactions never deadlock with each other or with cross-shard commands;
//!   a client that goes away drops the hold with its task.
//!
//! WATCH registers the key on its shard (`Shard::watched`), which bumps the key's version on every
//! write; EXEC fails when a version moved, or when a key that existed at WATCH time has expired
//! since (as Redis 7's isWatchedKeyExpired).

use futures::channel::oneshot;
use futures::future::join_all;
use std::collections::BTreeSet;

use super::conn::{ConnCtx, Effect};
use crate::commands::{self, Route, Run};
use crate::protocol::Out;
use crate::runtime::coordinator::{self, CoordMsg, SaveKind};
use crate::runtime::shard::{Shard, ShardMsg};
use crate::runtime::slot::key_shard;
use crate::storage::now_ms;

pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";

/// A command queued after MULTI.
pub struct Queued {
    pub cmd: usize,
    pub args: Vec<Vec<u8>>,
}

#[derive(Default)]
pub struct MultiState {
    pub queued: Vec<Queued>,
    /// A command was refused while queueing: EXEC answers EXECABORT.
    pub aborted: bool,
}

/// One WATCHed key, as seen at WATCH time.
pub struct WatchedKey {
    pub shard: usize,
    pub db: usize,
    pub key: Vec<u8>,
    pub version: u64,
    pub existed: bool,
}

/// (db, key, version, existed) of the watched keys of one shard.
type Checks = Vec<(usize, Vec<u8>, u64, bool)>;

/// Whether no watched key of this shard changed since WATCH.
fn unchanged(sh: &Shard, checks: &Checks, now: u64) -> bool {
    checks.iter().all(|(db, key, version, existed)| {
        sh.watched.version(*db, key) == Some(*version)
            && !(*existed && sh.dbs[*db].peek(key, now).is_none())
    })
}

/// Runs `f` on shard `s`: inline when it is this connection's shard (after any hold there), else
/// as one message. None if the shard is gone (shutdown).
async fn on_shard<R: Send + 'static>(
    ctx: &ConnCtx,
    s: usize,
    f: impl FnOnce(&mut Shard) -> R + Send + 'static,
) -> Option<R> {
    let local = &ctx.local;
    if s == ctx.shard {
        local.gate.wait_open().await;
        let r = f(&mut local.shard.borrow_mut());
        return Some(r);
    }
    let (tx, rx) = oneshot::channel();
    let msg = ShardMsg::Run(Box::new(move |sh: &mut Shard| {
        let _ = tx.send(f(sh));
    }));
    local.server.mailboxes[s].send(msg).ok()?;
    rx.await.ok()
}

/// WATCH: registers each key on its shard and remembers the version it has now.
pub async fn watch(ctx: &mut ConnCtx, keys: Vec<Vec<u8>>) {
    let nshards = ctx.local.server.nshards;
    let db = ctx.db;
    let now = now_ms();
    let mut by_shard: Vec<(usize, Vec<Vec<u8>>)> = Vec::new();
    for k in keys {
        // Watching a key twice is watching it once, as Redis.
        if ctx.watched.iter().any(|w| w.db == db && w.key == k) {
            continue;
        }
        let s = key_shard(&k, nshards);
        match by_shard.iter_mut().find(|(x, _)| *x == s) {
            Some((_, v)) => {
                if !v.contains(&k) {
                    v.push(k)
                }
            }
            None => by_shard.push((s, vec![k])),
        }
    }
    for (s, keys) in by_shard {
        let seen = on_shard(ctx, s, move |sh: &mut Shard| {
            keys.into_iter()
                .map(|k| {
                    let version = sh.watched.watch(db, &k);
                    let existed = sh.dbs[db].peek(&k, now).is_some();
                    (k, version, existed)
                })
                .collect::<Vec<_>>()
        })
        .await;
        for (key, version, existed) in seen.into_iter().flatten() {
            ctx.watched.push(WatchedKey {
                shard: s,
                db,
                key,
                version,
                existed,
            });
        }
    }
}

/// UNWATCH, EXEC, DISCARD, RESET, disconnect: drops this connection's watches (without waiting:
/// a later WATCH reaches each shard after these).
pub fn unwatch_all(ctx: &mut ConnCtx) {
    let watched = std::mem::take(&mut ctx.watched);
    release(ctx, watched);
}

fn release(ctx: &ConnCtx, watched: Vec<WatchedKey>) {
    if watched.is_empty() {
        return;
    }
    // (shard, [(db, key)])
    type ByShard = Vec<(usize, Vec<(usize, Vec<u8>)>)>;
    let mut by_shard: ByShard = Vec::new();
    for w in watched {
        match by_shard.iter_mut().find(|(s, _)| *s == w.shard) {
            Some((_, v)) => v.push((w.db, w.key)),
            None => by_shard.push((w.shard, vec![(w.db, w.key)])),
        }
    }
    for (s, keys) in by_shard {
        let f = move |sh: &mut Shard| {
            for (db, k) in &keys {
                sh.watched.unwatch(*db, k);
            }
        };
        if s == ctx.shard {
            if let Ok(mut sh) = ctx.local.shard.try_borrow_mut() {
                f(&mut sh);
                continue;
            }
        }
        let _ = ctx.local.server.mailboxes[s].send(ShardMsg::Run(Box::new(f)));
    }
}

/// Where a queued data command runs: its keys' shard, Some(None) for no keys (any shard), None
/// for keys on several shards.
fn command_shard(cmd: usize, args: &[&[u8]], nshards: usize) -> Option<Option<usize>> {
    let c = &commands::table()[cmd];
    let Run::Data(_, route) = c.run else {
        return Some(None);
    };
    if let Route::Custom(f) = route {
        return Some(f(args, nshards));
    }
    let mut dest = None;
    for i in c.key_positions(args) {
        let Some(k) = args.get(i) else { break };
        let s = key_shard(k, nshards);
        match dest {
            None => dest = Some(s),
            Some(d) if d != s => return None,
            _ => {}
        }
    }
    Some(dest)
}

/// EXEC. Returns true if the connection must close (server shutting down).
pub async fn exec(ctx: &mut ConnCtx, out: &mut Out) -> bool {
    let multi = ctx.multi.take().unwrap_or_default();
    let watched = std::mem::take(&mut ctx.watched);
    if multi.aborted {
        release(ctx, watched);
        let mut sh = ctx.local.shard.borrow_mut();
        sh.record_error(EXECABORT);
        // Redis counts an aborted EXEC as a failed call.
        if let Some((i, _)) = commands::lookup(b"exec") {
            sh.cmd_stats[i].failed_calls += 1;
        }
        drop(sh);
        out.error(EXECABORT);
        return false;
    }
    let server = ctx.local.server.clone();
    let nshards = server.nshards;
    let table = commands::table();

    // Which shards the transaction touches, and whether it needs the general path.
    let mut shards = BTreeSet::new();
    let mut general = false;
    for q in &multi.queued {
        let argv: Vec<&[u8]> = q.args.iter().map(|a| &a[..]).collect();
        match table[q.cmd].run {
            Run::Conn(_) => general = true,
            Run::Data(..) => match command_shard(q.cmd, &argv, nshards) {
                Some(Some(s)) => {
                    shards.insert(s);
                }
                Some(None) => {}
                None => {
                    general = true;
                    for i in table[q.cmd].key_positions(&argv) {
                        if let Some(k) = argv.get(i) {
                            shards.insert(key_shard(k, nshards));
                        }
                    }
                }
            },
        }
    }
    for w in &watched {
        shards.insert(w.shard);
    }
    let now = now_ms();
    let single = !general && (nshards == 1 || shards.len() <= 1);
    let closed = if single {
        let s = if nshards == 1 {
            ctx.shard
        } else {
            shards.first().copied().unwrap_or(ctx.shard)
        };
        exec_on_one_shard(ctx, s, multi, &watched, now, out).await
    } else {
        let held: Vec<usize> = if multi
            .queued
            .iter()
            .any(|q| matches!(table[q.cmd].run, Run::Conn(_)))
        {
            (0..nshards).collect()
        } else {
            shards.into_iter().collect()
        };
        exec_held(ctx, held, multi, &watched, now, out).await
    };
    release(ctx, watched);
    closed
}

/// The single-shard path: one closure on shard `s` checks the watches and runs every command.
async fn exec_on_one_shard(
    ctx: &mut ConnCtx,
    s: usize,
    multi: MultiState,
    watched: &[WatchedKey],
    now: u64,
    out: &mut Out,
) -> bool {
    let checks: Checks = watched
        .iter()
        .map(|w| (w.db, w.key.clone(), w.version, w.existed))
        .collect();
    let (db, proto) = (ctx.db, ctx.proto);
    let r = on_shard(ctx, s, move |sh: &mut Shard| {
        if !unchanged(sh, &checks, now) {
            return None;
        }
        let mut o = Out::new(proto);
        o.array(multi.queued.len());
        let mut argv: Vec<&[u8]> = Vec::new();
        // Blocked clients see the transaction's writes whole, after EXEC.
        let was = sh.defer_serving();
        // Replicas get its writes as one MULTI ... EXEC.
        sh.prop.begin_unit();
        for q in &multi.queued {
            argv.clear();
            argv.extend(q.args.iter().map(|a| &a[..]));
            sh.execute(db, now, q.cmd, &argv, &mut o);
        }
        sh.prop.end_unit();
        sh.resume_serving(was, now);
        Some(o.buf)
    })
    .await;
    ctx.local
        .server
        .exec_single_shard
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match r {
        None => true,
        Some(None) => {
            out.null_array();
            false
        }
        Some(Some(bytes)) => {
            out.buf.extend_from_slice(&bytes);
            false
        }
    }
}

/// Where each queued command runs, when every one is a single-shard data command (then each
/// shard can run its own commands in one step, all shards at once: commands on different shards
/// touch disjoint keys, so only the order within a shard matters).
fn part_targets(multi: &MultiState, shards: &[usize], nshards: usize) -> Option<Vec<usize>> {
    let table = commands::table();
    let first = shards.first().copied().unwrap_or(0);
    multi
        .queued
        .iter()
        .map(|q| {
            if matches!(table[q.cmd].run, Run::Conn(_)) {
                return None;
            }
            let argv: Vec<&[u8]> = q.args.iter().map(|a| &a[..]).collect();
            command_shard(q.cmd, &argv, nshards)
                .map(|s| s.filter(|s| shards.contains(s)).unwrap_or(first))
        })
        .collect()
}

/// Each shard's part: its commands, in order, with where each reply ends.
fn parts(
    ctx: &ConnCtx,
    multi: MultiState,
    targets: &[usize],
    now: u64,
) -> Vec<(usize, coordinator::Part)> {
    let (db, proto) = (ctx.db, ctx.proto);
    // Each command keeps its place in the transaction: replicas get them in that order.
    let mut per_shard: Vec<(usize, Vec<(usize, Queued)>)> = Vec::new();
    for (i, (q, &s)) in multi.queued.into_iter().zip(targets).enumerate() {
        match per_shard.iter_mut().find(|(x, _)| *x == s) {
            Some((_, v)) => v.push((i, q)),
            None => per_shard.push((s, vec![(i, q)])),
        }
    }
    per_shard
        .into_iter()
        .map(|(s, cmds)| {
            let f: coordinator::Part = Box::new(move |sh: &mut Shard| {
                let mut o = Out::new(proto);
                let mut ends = Vec::with_capacity(cmds.len());
                let mut argv: Vec<&[u8]> = Vec::new();
                for (i, q) in &cmds {
                    argv.clear();
                    argv.extend(q.args.iter().map(|a| &a[..]));
                    sh.prop.set_order(*i);
                    sh.execute(db, now, q.cmd, &argv, &mut o);
                    ends.push(o.buf.len());
                }
                sh.prop.clear_order();
                (o.buf, ends)
            });
            (s, f)
        })
        .collect()
}

/// Writes the parts' replies in command order; false if a part is missing.
fn reassemble(targets: &[usize], results: Vec<coordinator::PartResult>, out: &mut Out) -> bool {
    // Parts come back in the order of their first command's shard.
    let mut order: Vec<usize> = Vec::new();
    for &s in targets {
        if !order.contains(&s) {
            order.push(s);
        }
    }
    let mut cursors: Vec<(usize, coordinator::PartResult, usize)> = order
        .into_iter()
        .zip(results)
        .map(|(s, r)| (s, r, 0))
        .collect();
    for &s in targets {
        let Some((_, (bytes, ends), next)) = cursors.iter_mut().find(|(x, _, _)| *x == s) else {
            return false;
        };
        let start = if *next == 0 { 0 } else { ends[*next - 1] };
        let end = ends.get(*next).copied().unwrap_or(bytes.len());
        out.buf.extend_from_slice(&bytes[start..end]);
        *next += 1;
    }
    true
}

/// Runs the parts through one coordinator message (no watches to check first).
async fn exec_parts(
    ctx: &mut ConnCtx,
    shards: Vec<usize>,
    multi: MultiState,
    targets: Vec<usize>,
    now: u64,
    out: &mut Out,
) -> bool {
    let server = ctx.local.server.clone();
    let n = multi.queued.len();
    let work = parts(ctx, multi, &targets, now);
    let (tx, rx) = oneshot::channel();
    let msg = CoordMsg::HoldRun {
        shards,
        work,
        reply: tx,
    };
    if server.coordinator.send(msg).is_err() {
        return true;
    }
    let Ok(results) = rx.await else { return true };
    server
        .exec_multi_shard
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    out.array(n);
    !reassemble(&targets, results, out)
}

/// The multi-shard path: hold `shards` through the coordinator, check, run each command on its
/// shard in order, release.
async fn exec_held(
    ctx: &mut ConnCtx,
    shards: Vec<usize>,
    multi: MultiState,
    watched: &[WatchedKey],
    now: u64,
    out: &mut Out,
) -> bool {
    let server = ctx.local.server.clone();
    let nshards = server.nshards;
    if watched.is_empty() {
        if let Some(targets) = part_targets(&multi, &shards, nshards) {
            return exec_parts(ctx, shards, multi, targets, now, out).await;
        }
    }
    let (tx, rx) = oneshot::channel();
    let msg = CoordMsg::Hold {
        shards: shards.clone(),
        reply: tx,
    };
    if server.coordinator.send(msg).is_err() {
        return true;
    }
    let Ok(held) = rx.await else { return true };
    server
        .exec_multi_shard
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);

    // The watch check, on every shard holding watched keys, before anything runs.
    let mut checks = Vec::new();
    for &s in &shards {
        let mine: Checks = watched
            .iter()
            .filter(|w| w.shard == s)
            .map(|w| (w.db, w.key.clone(), w.version, w.existed))
            .collect();
        if !mine.is_empty() {
            checks.push(held.on(s, move |sh: &mut Shard| unchanged(sh, &mine, now)));
        }
    }
    if !join_all(checks).await.into_iter().all(|r| r == Ok(true)) {
        drop(held);
        out.null_array();
        return false;
    }

    let table = commands::table();
    let first = shards.first().copied().unwrap_or(0);
    out.array(multi.queued.len());

    if let Some(targets) = part_targets(&multi, &shards, nshards) {
        let parts = parts(ctx, multi, &targets, now);
        let runs: Vec<_> = parts.into_iter().map(|(s, f)| held.on(s, f)).collect();
        let results = join_all(runs).await;
        drop(held);
        let mut r = Vec::with_capacity(results.len());
        for x in results {
            match x {
                Ok(x) => r.push(x),
                Err(_) => return true,
            }
        }
        return !reassemble(&targets, r, out);
    }
    let mut reset_rdb = false;
    let mut reload = None;
    for q in multi.queued {
        let argv: Vec<&[u8]> = q.args.iter().map(|a| &a[..]).collect();
        match table[q.cmd].run {
            Run::Data(..) => {
                let (db, proto, cmd) = (ctx.db, ctx.proto, q.cmd);
                match command_shard(cmd, &argv, nshards) {
                    Some(s) => {
                        let s = s.filter(|s| shards.contains(s)).unwrap_or(first);
                        let args = q.args;
                        let r = held
                            .on(s, move |sh: &mut Shard| {
                                let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
                                let mut o = Out::new(proto);
                                sh.execute(db, now, cmd, &argv, &mut o);
                                o.buf
                            })
                            .await;
                        match r {
                            Ok(bytes) => out.buf.extend_from_slice(&bytes),
                            Err(_) => return true,
                        }
                    }
                    None => {
                        // Keys on several shards: the cross-shard machinery, inside our hold.
                        let c = &table[cmd];
                        let keys: Vec<(usize, usize, Vec<u8>)> = c
                            .key_positions(&argv)
                            .filter_map(|i| argv.get(i).map(|k| (i, k)))
                            .map(|(i, k)| {
                                let d = commands::keyspace::key_db(c, &argv, i, db);
                                (key_shard(k, nshards), d, k.to_vec())
                            })
                            .collect();
                        let mut cmd_shards: Vec<usize> = keys.iter().map(|k| k.0).collect();
                        cmd_shards.sort_unstable();
                        cmd_shards.dedup();
                        let fetched: Vec<coordinator::Fetched> =
                            join_all(coordinator::fetch(&held, &cmd_shards, &keys, now))
                                .await
                                .into_iter()
                                .flatten()
                                .flatten()
                                .collect();
                        let bytes = coordinator::run_multi_key(
                            &held, nshards, db, proto, now, cmd, q.args, fetched,
                        );
                        out.buf.extend_from_slice(&bytes);
                    }
                }
            }
            Run::Conn(f) => {
                // Every shard is held: global effects run on them directly (asking the
                // coordinator would queue behind our own hold).
                let effect = match f(ctx, &argv, out) {
                    Ok(e) => e,
                    Err(e) => {
                        let mut sh = ctx.local.shard.borrow_mut();
                        sh.cmd_stats[q.cmd].failed_calls += 1;
                        sh.record_error(&e.0);
                        drop(sh);
                        out.error(&e.0);
                        Effect::Done
                    }
                };
                match effect {
                    Effect::Done | Effect::Close => {}
                    Effect::Sleep(d) => glommio::timer::sleep(d).await,
                    Effect::Global {
                        op,
                        merge,
                        then_reset_rdb,
                    } => {
                        let replies: Vec<_> = (0..nshards)
                            .map(|s| {
                                let op = op.clone();
                                held.on(s, move |sh: &mut Shard| {
                                    let r = op(sh);
                                    sh.blocked.signal_all();
                                    r
                                })
                            })
                            .collect();
                        let replies = join_all(replies)
                            .await
                            .into_iter()
                            .map(|r| r.unwrap_or(crate::protocol::Reply::Null))
                            .collect();
                        if let Err(e) = merge(ctx, replies, out) {
                            ctx.local.shard.borrow_mut().record_error(&e.0);
                            out.error(&e.0);
                        }
                        if table[q.cmd].is_write() {
                            // FLUSHALL, FLUSHDB, SWAPDB: in the transaction's unit.
                            crate::replication::master::propagate_command(
                                held.sink(),
                                ctx.db,
                                &argv,
                            );
                        }
                        reset_rdb |= then_reset_rdb;
                    }
                    Effect::Save(SaveKind::Bgsave) | Effect::Save(SaveKind::BgsaveSchedule) => {
                        // Inside EXEC Redis always schedules the save (it starts after EXEC).
                        let (tx, rx) = oneshot::channel();
                        let msg = CoordMsg::Save {
                            kind: SaveKind::BgsaveSchedule,
                            reply: tx,
                        };
                        if server.coordinator.send(msg).is_err() {
                            return true;
                        }
                        match rx.await {
                            Ok(Ok(_)) => out.simple("Background saving scheduled"),
                            Ok(Err(e)) => out.error(&e),
                            Err(_) => return true,
                        }
                    }
                    Effect::Repl(crate::replication::master::ReplEffect::Wait { .. }) => {
                        // WAIT in a transaction does not wait: the count now, as Redis.
                        out.int(crate::replication::master::acked_now(&server));
                    }
                    Effect::Save(SaveKind::Reload { save }) => {
                        // The reload needs a barrier of its own: it runs once our hold is gone.
                        // The data it loads is what the transaction leaves, as in Redis.
                        reload = Some(save);
                        out.ok();
                    }
                    _ => {
                        // Anything that waits for a barrier of its own would wait for us.
                        out.error("ERR Command not allowed inside a transaction");
                    }
                }
                let mut sh = ctx.local.shard.borrow_mut();
                sh.stats.total_commands += 1;
                sh.cmd_stats[q.cmd].calls += 1;
            }
        }
        out.proto = ctx.proto;
    }
    drop(held);
    if let Some(save) = reload {
        let (tx, rx) = oneshot::channel();
        let msg = CoordMsg::Save {
            kind: SaveKind::Reload { save },
            reply: tx,
        };
        if server.coordinator.send(msg).is_ok() {
            let _ = rx.await;
        }
    }
    if reset_rdb {
        let (tx, rx) = oneshot::channel();
        let msg = CoordMsg::Save {
            kind: SaveKind::AfterFlush,
            reply: tx,
        };
        if server.coordinator.send(msg).is_ok() {
            let _ = rx.await;
        }
    }
    false
}
