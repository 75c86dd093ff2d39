//! One client connection: read, parse every complete command, run them in order, write all
//! replies with one write.
//!
//! Commands on keys of this shard run inline. Commands for other shards are gathered per shard
//! (one batch message each) and sent together at the end of the pipeline segment; their replies
//! are reassembled in command order. Connection commands and commands whose keys span shards
//! (which go to the coordinator) end a segment: everything before them has run first.
//!
//! Ordering: a connection's commands on the same shard (so on the same key) run in order. Within
//! one pipelined segment, commands on different shards run concurrently, as they would against a
//! Redis Cluster; a pipeline on one shard (`--shards 1`, or co-located `{hashtag}` keys) keeps
//! the strict order of a single Redis.

use futures::channel::oneshot;
use futures::future::{join_all, select, Either};
use futures::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use std::cell::RefCell;
use std::future::poll_fn;
use std::ops::Range;
use std::pin::pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::commands::{self, CmdResult, Command, Route, Run};
use crate::protocol::{parse, Arg, Limits, Out, ParsedCommands, Proto, Reply};
use crate::runtime::coordinator::{CoordMsg, GlobalOp};
use crate::runtime::shard::{Batch, Forwarded, Local, ShardMsg};
use crate::runtime::slot::key_shard;
use crate::server::client::ClientInfo;
use crate::storage::now_ms;

const READ_BUF: usize = 16 * 1024;

/// Merges the per-shard replies of a global operation into the client's reply.
pub type MergeFn = Box<dyn FnOnce(&mut ConnCtx, Vec<Reply>, &mut Out) -> CmdResult>;

/// What a connection command asks the connection loop to do after it returns.
pub enum Effect {
    Done,
    /// Reply, then close (QUIT).
    Close,
    /// Pause this connection (DEBUG SLEEP).
    Sleep(Duration),
    /// Run `op` on every shard atomically through the coordinator, then `merge` the replies.
    Global {
        op: GlobalOp,
        merge: MergeFn,
        /// FLUSHALL: then stop a save in progress and, with save points, save the now empty
        /// dataset, as Redis does (else a restart would bring the flushed keys back).
        then_reset_rdb: bool,
    },
    /// Stop the server (SHUTDOWN), saving first when `save` says so (None: when save points are
    /// configured). A failed save answers the error and the server goes on, unless `force`.
    Shutdown {
        save: Option<bool>,
        force: bool,
    },
    /// SAVE / BGSAVE [SCHEDULE], run by the coordinator; the reply is a status line or an error.
    Save(crate::runtime::coordinator::SaveKind),
    /// EXEC: run the queued transaction (src/server/transaction.rs).
    Exec,
    /// WATCH these keys (in the connection's db); the reply is +OK.
    Watch(Vec<Vec<u8>>),
    /// Replication work that waits (WAIT): src/replication/master.rs.
    Repl(crate::replication::master::ReplEffect),
}

impl Effect {
    pub fn global(
        op: impl Fn(&mut crate::runtime::shard::Shard) -> Reply + Send + Sync + 'static,
        merge: impl FnOnce(&mut ConnCtx, Vec<Reply>, &mut Out) -> CmdResult + 'static,
    ) -> Effect {
        Effect::Global {
            op: std::sync::Arc::new(op),
            merge: Box::new(merge),
            then_reset_rdb: false,
        }
    }
}

/// A connection's state as connection commands see it.
pub struct ConnCtx {
    pub local: Rc<Local>,
    pub info: Rc<RefCell<ClientInfo>>,
    pub id: u64,
    pub shard: usize,
    pub db: usize,
    pub proto: Proto,
    /// False until AUTH/HELLO AUTH when `requirepass` was set at connect time.
    pub authenticated: bool,
    /// Between MULTI and EXEC/DISCARD: the queued commands.
    pub multi: Option<super::transaction::MultiState>,
    /// Keys WATCHed since the last EXEC/DISCARD/UNWATCH.
    pub watched: Vec<super::transaction::WatchedKey>,
}

impl ConnCtx {
    /// A command was refused while a transaction is open: EXEC will answer EXECABORT.
    fn flag_transaction(&mut self) {
        if let Some(m) = self.multi.as_mut() {
            m.aborted = true;
        }
    }
}

/// Commands for one other shard in the current pipeline segment.
struct Pending {
    shard: usize,
    cmds: Forwarded,
}

/// Where one command's reply is, from the segment's first forwarded command on.
enum Piece {
    /// Bytes of `Fanout::local`.
    Local(Range<usize>),
    /// The next reply of batch i.
    Remote(usize),
}

/// The forwarded part of a pipeline segment. Until the first command is forwarded, local
/// replies go straight to the connection's `Out`; after it, they wait in `local` so replies can
/// be written in command order.
#[derive(Default)]
struct Fanout {
    batches: Vec<Pending>,
    order: Vec<Piece>,
    local: Vec<u8>,
}

impl Fanout {
    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn push(&mut self, shard: usize, cmd: usize, argv: &[&[u8]]) {
        let i = match self.batches.iter().position(|b| b.shard == shard) {
            Some(i) => i,
            None => {
                self.batches.push(Pending {
                    shard,
                    cmds: Forwarded::default(),
                });
                self.batches.len() - 1
            }
        };
        self.batches[i].cmds.push(cmd, argv);
        self.order.push(Piece::Remote(i));
    }
}

pub async fn serve(local: Rc<Local>, mut stream: TcpStream, info: Rc<RefCell<ClientInfo>>) {
    let server = local.server.clone();
    let id = info.borrow().id;
    let mut ctx = ConnCtx {
        shard: local.index(),
        local: local.clone(),
        info: info.clone(),
        id,
        db: 0,
        proto: Proto::Resp2,
        authenticated: server.config().get("requirepass").is_empty(),
        multi: None,
        watched: Vec::new(),
    };
    let mut rbuf = vec![0u8; READ_BUF];
    let (mut start, mut end) = (0usize, 0usize);
    let mut parsed = ParsedCommands::default();
    let mut out = Out::new(Proto::Resp2);
    loop {
        if end == rbuf.len() {
            if start > 0 {
                rbuf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            } else {
                let limit = server.query_buffer_limit();
                if rbuf.len() as u64 >= limit {
                    // Redis closes a client whose query buffer passes client-query-buffer-limit.
                    break;
                }
                let grown = (rbuf.len() * 2).min(limit as usize);
                rbuf.resize(grown, 0);
            }
        }
        let n = match read_or_killed(&mut stream, &mut rbuf[end..], &info).await {
            Some(n) if n > 0 => n,
            _ => break,
        };
        end += n;
        {
            let mut i = info.borrow_mut();
            i.last_interaction = Instant::now();
            i.query_buf = end - start;
        }
        local.shard.borrow_mut().stats.net_input_bytes += n as u64;

        parsed.clear();
        let limits = Limits {
            max_bulk_len: server.proto_max_bulk_len(),
            ..Limits::default()
        };
        let (consumed, perr) = parse(&rbuf[start..end], &limits, &mut parsed);
        out.proto = ctx.proto;
        let mut close = run_commands(&mut ctx, &rbuf[start..end], &parsed, &mut out, &stream).await;
        // Writes run here go to replicas before their replies go out.
        if crate::replication::master::propagating() {
            local.shard.borrow_mut().flush_propagation();
        }
        start += consumed;
        if start == end {
            start = 0;
            end = 0;
            if rbuf.len() > 4 * READ_BUF {
                rbuf = vec![0u8; READ_BUF];
            }
        }
        if let Some(e) = perr {
            out.error(&e.0);
            local.shard.borrow_mut().record_error(&e.0);
            close = true;
        }
        if !out.buf.is_empty() {
            let written = out.buf.len();
            if !write_or_killed(&mut stream, &out.buf, &info).await {
                break;
            }
            local.shard.borrow_mut().stats.net_output_bytes += written as u64;
            out.buf.clear();
            if out.buf.capacity() > 1 << 20 {
                out.buf = Vec::new();
            }
        }
        if close || info.borrow().killed.get() {
            break;
        }
    }
    // PSYNC/SYNC: the connection is now a replica's link (its replies before were written).
    let handoff = info.borrow().replica.clone().filter(|r| r.psync.is_some());
    if let Some(r) = handoff {
        crate::replication::master::serve_replica(local.clone(), &mut stream, info.clone(), r)
            .await;
    }
    let _ = stream.shutdown(std::net::Shutdown::Both).await;
    // A client that goes away mid-transaction leaves nothing behind: its queue goes with ctx,
    // its watches are dropped here.
    super::transaction::unwatch_all(&mut ctx);
    local
        .shard
        .borrow_mut()
        .clients
        .retain(|c| c.borrow().id != id);
    server
        .connected_clients
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

/// Resolves once the connection is killed (CLIENT KILL, `timeout`, shutdown).
pub(super) fn killed(info: &Rc<RefCell<ClientInfo>>) -> impl std::future::Future<Output = ()> + '_ {
    poll_fn(move |cx| {
        let mut i = info.borrow_mut();
        if i.killed.get() {
            Poll::Ready(())
        } else {
            i.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    })
}

/// Reads, or returns None when the connection was killed or failed.
async fn read_or_killed(
    stream: &mut TcpStream,
    buf: &mut [u8],
    info: &Rc<RefCell<ClientInfo>>,
) -> Option<usize> {
    match select(pin!(stream.read(buf)), pin!(killed(info))).await {
        Either::Left((r, _)) => r.ok(),
        Either::Right(_) => None,
    }
}

/// Writes all of `buf`; false when the connection failed or was killed meanwhile (a client
/// that stops reading its replies must not keep its connection alive past CLIENT KILL).
async fn write_or_killed(
    stream: &mut TcpStream,
    buf: &[u8],
    info: &Rc<RefCell<ClientInfo>>,
) -> bool {
    match select(pin!(stream.write_all(buf)), pin!(killed(info))).await {
        Either::Left((r, _)) => r.is_ok(),
        Either::Right(_) => false,
    }
}

/// Where a data command runs.
enum Target {
    Local,
    Shard(usize),
    /// Keys on several shards: (shard, db, key) of each.
    Multi,
}

fn target(cmd: &Command, argv: &[&[u8]], nshards: usize, me: usize) -> Target {
    if nshards == 1 {
        return Target::Local;
    }
    let mut dest: Option<usize> = None;
    for i in cmd.key_positions(argv) {
        let Some(k) = argv.get(i) else { break };
        let s = key_shard(k, nshards);
        match dest {
            None => dest = Some(s),
            Some(d) if d != s => return Target::Multi,
            _ => {}
        }
    }
    match dest {
        Some(s) if s != me => Target::Shard(s),
        _ => Target::Local,
    }
}

/// Runs every parsed command in order; returns true if the connection must close afterwards.
async fn run_commands(
    ctx: &mut ConnCtx,
    buf: &[u8],
    parsed: &ParsedCommands,
    out: &mut Out,
    sock: &TcpStream,
) -> bool {
    let local = ctx.local.clone();
    let server = local.server.clone();
    let nshards = server.nshards;
    let mut now = now_ms();
    let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
    let mut fan = Fanout::default();
    for range in &parsed.commands {
        argv.clear();
        argv.extend(parsed.args[range.clone()].iter().map(|a| match a {
            Arg::Buf(r) => &buf[r.clone()],
            Arg::Scratch(r) => &parsed.scratch[r.clone()],
        }));
        let Some(&name) = argv.first() else { continue };
        let Some((idx, cmd)) = commands::lookup(name) else {
            flush(&mut fan, ctx, out).await;
            let msg = commands::unknown_command_error(&argv);
            local.shard.borrow_mut().record_rejected(None, &msg);
            out.error(&msg);
            ctx.flag_transaction();
            continue;
        };
        if !cmd.arity_ok(argv.len()) {
            flush(&mut fan, ctx, out).await;
            let msg = commands::arity_error(cmd.name);
            reject(ctx, out, idx, &msg);
            continue;
        }
        if !ctx.authenticated && cmd.flags & commands::flags::NO_AUTH == 0 {
            flush(&mut fan, ctx, out).await;
            reject(ctx, out, idx, "NOAUTH Authentication required.");
            continue;
        }
        if !server
            .persist
            .last_ok
            .load(std::sync::atomic::Ordering::Relaxed)
            && (commands::server::writes(cmd, &argv) || cmd.name == "ping")
            && writes_refused(&server)
        {
            flush(&mut fan, ctx, out).await;
            reject(ctx, out, idx, MISCONF);
            continue;
        }
        if server.replica.is_replica() && readonly_refused(&server, ctx, cmd, &argv) {
            flush(&mut fan, ctx, out).await;
            reject(ctx, out, idx, READONLY);
            continue;
        }
        if ctx.multi.is_some()
            && !matches!(
                cmd.name,
                "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
            )
        {
            flush(&mut fan, ctx, out).await;
            if cmd.flags & commands::flags::NO_MULTI != 0 {
                reject(
                    ctx,
                    out,
                    idx,
                    "ERR Command not allowed inside a transaction",
                );
                continue;
            }
            // Redis looks subcommands up before queueing: unknown ones and wrong arities are
            // refused now, and EXEC then aborts.
            if let Some(msg) = commands::server::subcommand_error(cmd, &argv) {
                reject(ctx, out, idx, &msg);
                continue;
            }
            if let Some(m) = ctx.multi.as_mut() {
                m.queued.push(super::transaction::Queued {
                    cmd: idx,
                    args: argv.iter().map(|a| a.to_vec()).collect(),
                });
            }
            out.simple("QUEUED");
            continue;
        }
        ctx.info.borrow_mut().last_cmd = idx;
        match cmd.run {
            Run::Data(_, route) => {
                let t = match route {
                    Route::Keys => target(cmd, &argv, nshards, ctx.shard),
                    Route::Custom(f) => match f(&argv, nshards) {
                        Some(s) if s != ctx.shard => Target::Shard(s),
                        _ => Target::Local,
                    },
                };
                if cmd.flags & commands::flags::BLOCKING != 0
                    && super::blocking::takes_own_path(cmd, &argv, matches!(t, Target::Multi))
                {
                    flush(&mut fan, ctx, out).await;
                    if super::blocking::stream_read(ctx, idx, &argv, now, out, sock).await {
                        return true;
                    }
                    // The wait may have been long: later commands get a fresh clock.
                    now = now_ms();
                    continue;
                }
                match t {
                    Target::Local => {
                        local.gate.wait_open().await;
                        let mut shard = local.shard.borrow_mut();
                        if fan.is_empty() {
                            shard.execute(ctx.db, now, idx, &argv, out);
                        } else {
                            let start = fan.local.len();
                            let mut o = Out {
                                buf: std::mem::take(&mut fan.local),
                                proto: out.proto,
                            };
                            shard.execute(ctx.db, now, idx, &argv, &mut o);
                            fan.local = o.buf;
                            fan.order.push(Piece::Local(start..fan.local.len()));
                        }
                    }
                    Target::Shard(s) => fan.push(s, idx, &argv),
                    Target::Multi => {
                        flush(&mut fan, ctx, out).await;
                        // COPY ... DB n: its destination key lives in db n.
                        let keys = cmd
                            .key_positions(&argv)
                            .filter_map(|i| argv.get(i).map(|k| (i, k)))
                            .map(|(i, k)| {
                                let db = commands::keyspace::key_db(cmd, &argv, i, ctx.db);
                                (key_shard(k, nshards), db, k.to_vec())
                            })
                            .collect();
                        let (tx, rx) = oneshot::channel();
                        let msg = CoordMsg::MultiKey {
                            db: ctx.db,
                            proto: ctx.proto,
                            now,
                            cmd: idx,
                            args: argv.iter().map(|a| a.to_vec()).collect(),
                            keys,
                            reply: tx,
                        };
                        if server.coordinator.send(msg).is_err() {
                            return true;
                        }
                        match rx.await {
                            Ok(bytes) => out.buf.extend_from_slice(&bytes),
                            Err(_) => return true,
                        }
                    }
                }
            }
            Run::Conn(f) => {
                flush(&mut fan, ctx, out).await;
                let start = Instant::now();
                let r = f(ctx, &argv, out);
                let effect = match r {
                    Ok(e) => e,
                    Err(e) => {
                        let mut shard = local.shard.borrow_mut();
                        shard.cmd_stats[idx].failed_calls += 1;
                        shard.record_error(&e.0);
                        out.error(&e.0);
                        Effect::Done
                    }
                };
                let mut close = false;
                match effect {
                    Effect::Done => {}
                    Effect::Close => close = true,
                    Effect::Sleep(d) => {
                        glommio::timer::sleep(d).await;
                        // Later commands of the pipeline run after the sleep (expiry included).
                        now = now_ms();
                    }
                    Effect::Global {
                        op,
                        merge,
                        then_reset_rdb,
                    } => {
                        let (tx, rx) = oneshot::channel();
                        // FLUSHALL, FLUSHDB, SWAPDB go to replicas as they came.
                        let msg = if cmd.is_write() {
                            CoordMsg::GlobalWrite {
                                op,
                                reply: tx,
                                db: ctx.db,
                                argv: argv.iter().map(|a| a.to_vec()).collect(),
                            }
                        } else {
                            CoordMsg::Global { op, reply: tx }
                        };
                        if server.coordinator.send(msg).is_err() {
                            return true;
                        }
                        let Ok(replies) = rx.await else { return true };
                        if let Err(e) = merge(ctx, replies, out) {
                            local.shard.borrow_mut().record_error(&e.0);
                            out.error(&e.0);
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
                    Effect::Shutdown { save, force } => {
                        let (tx, rx) = oneshot::channel();
                        let msg = CoordMsg::Shutdown {
                            save,
                            force,
                            reply: Some(tx),
                        };
                        if server.coordinator.send(msg).is_err() {
                            server.begin_shutdown();
                            return true;
                        }
                        match rx.await {
                            Ok(Err(e)) => {
                                local.shard.borrow_mut().record_error(&e);
                                out.error(&e);
                            }
                            _ => close = true,
                        }
                    }
                    Effect::Exec => {
                        if super::transaction::exec(ctx, out).await {
                            return true;
                        }
                    }
                    Effect::Watch(keys) => {
                        super::transaction::watch(ctx, keys).await;
                        out.ok();
                    }
                    Effect::Repl(e) => crate::replication::master::run_effect(ctx, e, out).await,
                    Effect::Save(kind) => {
                        let (tx, rx) = oneshot::channel();
                        if server
                            .coordinator
                            .send(CoordMsg::Save { kind, reply: tx })
                            .is_err()
                        {
                            return true;
                        }
                        match rx.await {
                            Ok(Ok(status)) => out.simple(status),
                            Ok(Err(e)) => {
                                local.shard.borrow_mut().record_error(&e);
                                out.error(&e);
                            }
                            Err(_) => return true,
                        }
                    }
                }
                out.proto = ctx.proto;
                let mut shard = local.shard.borrow_mut();
                shard.stats.total_commands += 1;
                let st = &mut shard.cmd_stats[idx];
                st.calls += 1;
                st.nanos += start.elapsed().as_nanos() as u64;
                if close {
                    return true;
                }
            }
        }
    }
    flush(&mut fan, ctx, out).await;
    false
}

/// Refuses a command before it runs. Inside MULTI this flags the transaction; a refused EXEC
/// (EXEC x, NOAUTH, MISCONF) answers EXECABORT, in MULTI or not, and discards any transaction,
/// as Redis's execCommandAbort.
fn reject(ctx: &mut ConnCtx, out: &mut Out, idx: usize, msg: &str) {
    if commands::table()[idx].name == "exec" {
        ctx.multi = None;
        super::transaction::unwatch_all(ctx);
        let why = msg.strip_prefix("ERR ").unwrap_or(msg);
        let msg = format!("EXECABORT Transaction discarded because of: {why}");
        ctx.local
            .shard
            .borrow_mut()
            .record_rejected(Some(idx), &msg);
        out.error(&msg);
        return;
    }
    ctx.local.shard.borrow_mut().record_rejected(Some(idx), msg);
    out.error(msg);
    ctx.flag_transaction();
}

const MISCONF: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

const READONLY: &str = "READONLY You can't write against a read only replica.";

/// A replica with replica-read-only refuses clients' writes (its master's stream does not come
/// through here), and an EXEC whose queue holds a write (queued before it became a replica),
/// as Redis.
#[cold]
fn readonly_refused(
    server: &crate::runtime::Server,
    ctx: &ConnCtx,
    cmd: &Command,
    argv: &[&[u8]],
) -> bool {
    if !server.config().bool("replica-read-only") {
        return false;
    }
    if commands::server::writes(cmd, argv) {
        return true;
    }
    cmd.name == "exec"
        && ctx.multi.as_ref().is_some_and(|m| {
            m.queued.iter().any(|q| {
                let args: Vec<&[u8]> = q.args.iter().map(|a| &a[..]).collect();
                commands::server::writes(&commands::table()[q.cmd], &args)
            })
        })
}

/// After a failed save, Redis refuses writes (and PING, so monitoring notices) while save points
/// are configured and stop-writes-on-bgsave-error is on, until a save succeeds.
#[cold]
fn writes_refused(server: &crate::runtime::Server) -> bool {
    let c = server.config();
    c.bool("stop-writes-on-bgsave-error") && !c.get("save").is_empty()
}

/// Sends the segment's batches to their shards together and writes every reply in command order.
async fn flush(fan: &mut Fanout, ctx: &ConnCtx, out: &mut Out) {
    if fan.is_empty() {
        return;
    }
    let server = &ctx.local.server;
    let now = now_ms();
    let replies = join_all(fan.batches.drain(..).map(|p| {
        let (tx, rx) = oneshot::channel();
        let sent = server.mailboxes[p.shard].send(ShardMsg::Batch(Batch {
            db: ctx.db,
            proto: ctx.proto,
            now,
            cmds: p.cmds,
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
    // Per batch: its replies (bytes, end of each command's reply), and how many were written.
    type Replies = Option<(Vec<u8>, Vec<usize>)>;
    let mut cursors: Vec<(Replies, usize)> = replies.into_iter().map(|r| (r, 0)).collect();
    for piece in fan.order.drain(..) {
        match piece {
            Piece::Local(r) => out.buf.extend_from_slice(&fan.local[r]),
            Piece::Remote(i) => match &mut cursors[i] {
                (Some((bytes, ends)), next) => {
                    let start = if *next == 0 { 0 } else { ends[*next - 1] };
                    let end = ends.get(*next).copied().unwrap_or(bytes.len());
                    out.buf.extend_from_slice(&bytes[start..end]);
                    *next += 1;
                }
                (None, _) => out.error("ERR server is shutting down"),
            },
        }
    }
    fan.local.clear();
}
