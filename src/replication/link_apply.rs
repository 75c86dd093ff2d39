//! Applying the master's command stream to the shards.
//!
//! Per shard in order: a read's single-shard commands are gathered per shard (one batch message
//! each; shard 0's, the link's own, run inline) and sent together; anything else (a command
//! whose keys span shards, a connection command such as SELECT or FLUSHALL, EXEC) first waits
//! for what was sent before it, then runs alone. MULTI ... EXEC is queued and run by the
//! transaction machinery, atomically. Nothing is answered, except REPLCONF GETACK.
//!
//! Offsets count bytes as Redis does: a command counts once it ran, so the commands of an open
//! MULTI count only at its EXEC, and GETACK answers the offset of everything before it.

use futures::channel::oneshot;
use futures::future::join_all;
use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use crate::commands::{self, Command, Route, Run};
use crate::protocol::{Arg, Out, ParsedCommands, Proto};
use crate::replication::master;
use crate::runtime::coordinator::CoordMsg;
use crate::runtime::shard::{Batch, Forwarded, Local, ShardMsg};
use crate::runtime::slot::key_shard;
use crate::server::client::ClientInfo;
use crate::server::conn::{ConnCtx, Effect};
use crate::server::log;
use crate::server::transaction::{self, Queued};
use crate::storage::now_ms;

/// The stream is over for this link (the server is shutting down).
pub(super) struct Gone;

pub(super) struct Applier {
    /// The master client's connection state: its selected db, its open MULTI.
    ctx: ConnCtx,
    /// Replies, discarded (only errors are looked at, to be logged).
    out: Out,
    /// Commands gathered for other shards, not yet sent.
    pending: Vec<(usize, Forwarded)>,
    /// Stream offset of everything applied.
    applied: u64,
    /// Bytes consumed but not applied yet: an open MULTI's.
    carry: Vec<u8>,
    /// Errors the stream's commands got (logged, throttled).
    errors: u64,
}

/// Where a command runs.
enum Dest {
    Shard(usize),
    /// Keys on several shards.
    Multi,
}

impl Applier {
    pub(super) fn new(
        local: Rc<Local>,
        info: Rc<RefCell<ClientInfo>>,
        applied: u64,
        db: usize,
    ) -> Applier {
        let id = info.borrow().id;
        Applier {
            ctx: ConnCtx {
                shard: local.index(),
                local,
                info,
                id,
                db,
                proto: Proto::Resp2,
                authenticated: true,
                multi: None,
                watched: Vec::new(),
            },
            out: Out::new(Proto::Resp2),
            pending: Vec::new(),
            applied,
            carry: Vec::new(),
            errors: 0,
        }
    }

    /// The offset of everything applied (REPLCONF ACK, slave_repl_offset).
    pub(super) fn applied(&self) -> u64 {
        self.applied
    }

    /// The offset of everything read, given the bytes read but not parsed yet.
    pub(super) fn read_offset(&self, unparsed: usize) -> u64 {
        self.applied + self.carry.len() as u64 + unparsed as u64
    }

    /// The database selected at the applied offset.
    pub(super) fn db(&self) -> usize {
        self.ctx.db
    }

    /// Applies the parsed commands of `buf` (which end at `consumed`), or those before
    /// `stop()` says to stop. Returns the offsets to acknowledge, one per REPLCONF GETACK, in
    /// order, and where in `buf` it stopped (`consumed` when it applied everything).
    pub(super) async fn apply(
        &mut self,
        buf: &[u8],
        parsed: &ParsedCommands,
        mut consumed: usize,
        stop: &dyn Fn() -> bool,
    ) -> Result<(Vec<u64>, usize), Gone> {
        let now = now_ms();
        let mut acks = Vec::new();
        // End (in `buf`) of the last command after which no MULTI was open.
        let mut settled: Option<usize> = None;
        let mut prev_end = 0usize;
        let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
        for range in &parsed.commands {
            argv.clear();
            argv.extend(parsed.args[range.clone()].iter().map(|a| match a {
                Arg::Buf(r) => &buf[r.clone()],
                Arg::Scratch(r) => &parsed.scratch[r.clone()],
            }));
            if stop() {
                consumed = prev_end;
                break;
            }
            let end = command_end(buf, parsed, range, prev_end).min(consumed);
            prev_end = end;
            if is_getack(&argv) && self.ctx.multi.is_none() {
                self.flush(now).await?;
                let before = settled.map_or(0, |s| self.carry.len() + s);
                acks.push(self.applied + before as u64);
            } else {
                self.run(&argv, now).await?;
            }
            if self.ctx.multi.is_none() {
                settled = Some(end);
            }
        }
        self.flush(now).await?;
        match settled {
            Some(s) => {
                let server = &self.ctx.local.server;
                // Chained replicas get exactly what we applied, as it came.
                if !self.carry.is_empty() {
                    master::feed_from_master(server, &self.carry);
                }
                master::feed_from_master(server, &buf[..s]);
                self.applied += (self.carry.len() + s) as u64;
                self.carry.clear();
                self.carry.extend_from_slice(&buf[s..consumed]);
            }
            None => self.carry.extend_from_slice(&buf[..consumed]),
        }
        if self.out.buf.capacity() > 1 << 20 {
            self.out = Out::new(Proto::Resp2);
        }
        Ok((acks, consumed))
    }

    /// Runs (or queues, or gathers) one command of the stream.
    async fn run(&mut self, argv: &[&[u8]], now: u64) -> Result<(), Gone> {
        let Some(&name) = argv.first() else {
            return Ok(());
        };
        let Some((idx, cmd)) = commands::lookup(name) else {
            self.flush(now).await?;
            let msg = commands::unknown_command_error(argv);
            self.refused(argv, &msg);
            return Ok(());
        };
        if !cmd.arity_ok(argv.len()) {
            self.flush(now).await?;
            self.refused(argv, &commands::arity_error(cmd.name));
            return Ok(());
        }
        if let Some(m) = self.ctx.multi.as_mut() {
            if !matches!(
                cmd.name,
                "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
            ) {
                m.queued.push(Queued {
                    cmd: idx,
                    args: argv.iter().map(|a| a.to_vec()).collect(),
                });
                return Ok(());
            }
        }
        // REPLCONF from the master (other than GETACK) asks nothing of a replica.
        if cmd.name == "replconf" {
            return Ok(());
        }
        self.ctx.info.borrow_mut().last_cmd = idx;
        let nshards = self.ctx.local.server.nshards;
        match cmd.run {
            Run::Data(_, route) => {
                let dest = match route {
                    Route::Keys => keys_dest(cmd, argv, nshards),
                    Route::Custom(f) => Dest::Shard(f(argv, nshards).unwrap_or(self.ctx.shard)),
                };
                match dest {
                    Dest::Shard(s) if s == self.ctx.shard => {
                        let local = self.ctx.local.clone();
                        local.gate.wait_open().await;
                        let start = self.out.buf.len();
                        local.shard.borrow_mut().execute(
                            self.ctx.db,
                            now,
                            idx,
                            argv,
                            &mut self.out,
                        );
                        self.check(start, cmd.name);
                    }
                    Dest::Shard(s) => {
                        let i = match self.pending.iter().position(|p| p.0 == s) {
                            Some(i) => i,
                            None => {
                                self.pending.push((s, Forwarded::default()));
                                self.pending.len() - 1
                            }
                        };
                        self.pending[i].1.push(idx, argv);
                    }
                    Dest::Multi => {
                        self.flush(now).await?;
                        self.multi_key(idx, cmd, argv, now).await?;
                    }
                }
            }
            Run::Conn(f) => {
                self.flush(now).await?;
                let start = self.out.buf.len();
                let effect = match f(&mut self.ctx, argv, &mut self.out) {
                    Ok(e) => e,
                    Err(e) => {
                        self.out.error(&e.0);
                        Effect::Done
                    }
                };
                self.effect(effect).await?;
                self.check(start, cmd.name);
                let local = &self.ctx.local;
                let mut sh = local.shard.borrow_mut();
                sh.stats.total_commands += 1;
                sh.cmd_stats[idx].calls += 1;
            }
        }
        self.out.buf.clear();
        Ok(())
    }

    /// Carries out what a connection command asked for. Only what a master's stream holds is
    /// done (FLUSHALL/FLUSHDB/SWAPDB, EXEC); nothing that would stop the server or wait.
    async fn effect(&mut self, effect: Effect) -> Result<(), Gone> {
        let server = self.ctx.local.server.clone();
        match effect {
            Effect::Global {
                op,
                merge,
                then_reset_rdb,
            } => {
                let (tx, rx) = oneshot::channel();
                server
                    .coordinator
                    .send(CoordMsg::Global { op, reply: tx })
                    .map_err(|_| Gone)?;
                let replies = rx.await.map_err(|_| Gone)?;
                if let Err(e) = merge(&mut self.ctx, replies, &mut self.out) {
                    self.out.error(&e.0);
                }
                if then_reset_rdb {
                    let (tx, rx) = oneshot::channel();
                    let msg = CoordMsg::Save {
                        kind: crate::runtime::coordinator::SaveKind::AfterFlush,
                        reply: tx,
                    };
                    if server.coordinator.send(msg).is_ok() {
                        let _ = rx.await;
                    }
                }
            }
            Effect::Exec => {
                if transaction::exec(&mut self.ctx, &mut self.out).await {
                    return Err(Gone);
                }
            }
            Effect::Done
            | Effect::Close
            | Effect::Sleep(_)
            | Effect::Watch(_)
            | Effect::Shutdown { .. }
            | Effect::Save(_)
            | Effect::Repl(_) => {}
        }
        Ok(())
    }

    /// A command whose keys span shards, through the coordinator (as a client's).
    async fn multi_key(
        &mut self,
        idx: usize,
        cmd: &Command,
        argv: &[&[u8]],
        now: u64,
    ) -> Result<(), Gone> {
        let server = self.ctx.local.server.clone();
        let nshards = server.nshards;
        let keys = cmd
            .key_positions(argv)
            .filter_map(|i| argv.get(i).map(|k| (i, k)))
            .map(|(i, k)| {
                let db = commands::keyspace::key_db(cmd, argv, i, self.ctx.db);
                (key_shard(k, nshards), db, k.to_vec())
            })
            .collect();
        let (tx, rx) = oneshot::channel();
        let msg = CoordMsg::MultiKey {
            db: self.ctx.db,
            proto: Proto::Resp2,
            now,
            cmd: idx,
            args: argv.iter().map(|a| a.to_vec()).collect(),
            keys,
            reply: tx,
        };
        server.coordinator.send(msg).map_err(|_| Gone)?;
        let reply = rx.await.map_err(|_| Gone)?;
        if reply.first() == Some(&b'-') {
            self.log_error(&reply, cmd.name);
        }
        Ok(())
    }

    /// Sends the gathered batches and waits until every shard ran its part.
    async fn flush(&mut self, now: u64) -> Result<(), Gone> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let server = self.ctx.local.server.clone();
        let db = self.ctx.db;
        let replies = join_all(self.pending.drain(..).map(|(s, cmds)| {
            let (tx, rx) = oneshot::channel();
            let sent = server.mailboxes[s].send(ShardMsg::Batch(Batch {
                db,
                proto: Proto::Resp2,
                now,
                cmds,
                reply: tx,
            }));
            async move {
                match sent {
                    Ok(()) => rx.await.ok(),
                    Err(_) => None,
                }
            }
        }))
        .await;
        for r in replies {
            let Some((bytes, ends)) = r else {
                return Err(Gone);
            };
            let mut start = 0;
            for end in ends {
                if bytes.get(start) == Some(&b'-') {
                    let e = bytes[start..end].to_vec();
                    self.log_error(&e, "(forwarded)");
                }
                start = end;
            }
        }
        Ok(())
    }

    /// Logs the error the command whose reply starts at `start` got, if any.
    fn check(&mut self, start: usize, name: &str) {
        if self.out.buf.get(start) == Some(&b'-') {
            let e = self.out.buf[start..].to_vec();
            self.log_error(&e, name);
        }
    }

    /// A command refused before running (unknown, wrong arity).
    fn refused(&mut self, argv: &[&[u8]], msg: &str) {
        let name = String::from_utf8_lossy(argv.first().copied().unwrap_or(b"")).into_owned();
        self.log_error(format!("-{msg}\r\n").as_bytes(), &name);
    }

    /// Redis logs the errors its master's commands get (the master never hears of them); the
    /// log is throttled here, as a stream of commands shoal lacks would flood it.
    fn log_error(&mut self, reply: &[u8], name: &str) {
        self.errors += 1;
        if self.errors <= 16 || self.errors.is_power_of_two() {
            let text = String::from_utf8_lossy(reply);
            let text = text.trim_start_matches('-').trim_end();
            log::warning(&format!(
                "== CRITICAL == This replica is sending an error to its master: '{text}' after processing the command '{name}' ({} such errors so far)",
                self.errors
            ));
        }
    }
}

/// REPLCONF GETACK: the master asks for our offset.
fn is_getack(argv: &[&[u8]]) -> bool {
    argv.len() >= 2
        && argv[0].eq_ignore_ascii_case(b"replconf")
        && argv[1].eq_ignore_ascii_case(b"getack")
}

/// Where a data command routed by its keys runs.
fn keys_dest(cmd: &Command, argv: &[&[u8]], nshards: usize) -> Dest {
    let mut dest: Option<usize> = None;
    for i in cmd.key_positions(argv) {
        let Some(k) = argv.get(i) else { break };
        let s = key_shard(k, nshards);
        match dest {
            None => dest = Some(s),
            Some(d) if d != s => return Dest::Multi,
            _ => {}
        }
    }
    Dest::Shard(dest.unwrap_or(0))
}

/// Where the command whose arguments are `parsed.args[range]` ends in `buf` (the parser gives
/// arguments, not command bounds). A multibulk ends two bytes after its last argument; an
/// inline command (never sent by a master, but accepted) at its line's end.
fn command_end(
    buf: &[u8],
    parsed: &ParsedCommands,
    range: &Range<usize>,
    prev_end: usize,
) -> usize {
    let line_end = |from: usize| {
        buf.get(from..)
            .and_then(|b| b.iter().position(|&c| c == b'\n'))
            .map_or(buf.len(), |p| from + p + 1)
    };
    let multibulk = buf.get(prev_end) == Some(&b'*');
    match range.end.checked_sub(1).and_then(|i| parsed.args.get(i)) {
        Some(Arg::Buf(r)) if multibulk => (r.end + 2).min(buf.len()),
        Some(Arg::Buf(r)) => line_end(r.end),
        _ => line_end(prev_end),
    }
}
