//! The connection's side of XREAD / XREADGROUP when they may block or their keys span shards.
//!
//! The read runs on the shards owning the keys: in one step when they are all on one shard
//! (inline when that is the connection's own), else under a hold of every owner shard taken
//! through the coordinator, so the read sees one point in time, in three steps: resolve every
//! key (errors first, nothing changed), read, and, when nothing was there and BLOCK was given,
//! register a waiter on each shard. Registering inside the same step (or hold) as the read means
//! no write can slip in between and be missed.
//!
//! A blocked connection then waits for the first of: a shard serving it (the reply arrives
//! complete), the timeout (a glommio timer; BLOCK 0 has none), the client disconnecting (a
//! MSG_PEEK receive that completes with 0 bytes), or CLIENT KILL. Nothing polls: an idle blocked
//! client costs no CPU. Afterwards it removes its waiters from every shard.

use futures::channel::oneshot;
use futures::future::{select, Either};
use glommio::net::TcpStream;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::commands::stream_read::{self, ReadArgs, WaitFor, Want};
use crate::commands::{self, Command, Ctx};
use crate::protocol::{Out, Proto};
use crate::runtime::blocked::{BlockToken, Waiter};
use crate::runtime::coordinator::CoordMsg;
use crate::runtime::shard::{Shard, ShardMsg};
use crate::runtime::slot::key_shard;

use super::conn::ConnCtx;

/// Whether the connection runs this command itself (rather than as a plain data command): a
/// blocking command with BLOCK, or one whose keys span shards.
pub fn takes_own_path(cmd: &Command, argv: &[&[u8]], spans_shards: bool) -> bool {
    if cmd.flags & commands::flags::BLOCKING == 0 {
        return false;
    }
    spans_shards || stream_read::parse(argv).is_ok_and(|a| a.block.is_some())
}

/// What one read needs on a shard, shared by its steps.
struct Job {
    args: ReadArgs,
    argv: Vec<Vec<u8>>,
    db: usize,
    proto: Proto,
    now: u64,
}

impl Job {
    fn with_ctx<R>(&self, sh: &mut Shard, f: impl FnOnce(&mut Ctx, &[&[u8]]) -> R) -> R {
        let argv: Vec<&[u8]> = self.argv.iter().map(|a| &a[..]).collect();
        let mut ctx = Ctx {
            shard: sh,
            db: self.db,
            now: self.now,
        };
        f(&mut ctx, &argv)
    }

    /// Phase 1 for `keys` (indices among the command's keys): the first error, by key order.
    fn resolve(
        &self,
        sh: &mut Shard,
        keys: &[usize],
    ) -> Result<Vec<(usize, Want)>, (usize, String)> {
        self.with_ctx(sh, |ctx, argv| {
            keys.iter()
                .map(|&i| {
                    stream_read::resolve(ctx, &self.args, argv, i)
                        .map(|w| (i, w))
                        .map_err(|e| (i, e.0.into_owned()))
                })
                .collect()
        })
    }

    /// Phase 2: each served key's reply element.
    fn read(&self, sh: &mut Shard, wants: &[(usize, Want)]) -> Vec<(usize, Vec<u8>)> {
        self.with_ctx(sh, |ctx, argv| {
            let mut served = Vec::new();
            for &(i, w) in wants {
                let mut o = Out::new(self.proto);
                if stream_read::read(ctx, &self.args, argv, i, w, &mut o) {
                    served.push((i, o.buf));
                }
            }
            served
        })
    }

    /// Phase 3: a waiter per key.
    fn register(&self, sh: &mut Shard, wants: &[(usize, Want)], token: &Arc<BlockToken>) {
        for &(i, w) in wants {
            if let Some(wait) = WaitFor::new(&self.args, w) {
                let key = &self.argv[self.args.streams_at + i];
                sh.blocked.add(
                    self.db,
                    key,
                    Waiter {
                        token: token.clone(),
                        proto: self.proto,
                        count: WaitFor::count(&self.args),
                        wait,
                    },
                );
            }
        }
    }

    /// All three phases on one shard holding `keys`.
    fn run(&self, sh: &mut Shard, keys: &[usize], token: Option<&Arc<BlockToken>>) -> Outcome {
        let wants = match self.resolve(sh, keys) {
            Ok(w) => w,
            Err((_, e)) => return Outcome::Error(e),
        };
        let served = self.read(sh, &wants);
        if !served.is_empty() {
            return Outcome::Served(served);
        }
        match token {
            Some(t) => {
                self.register(sh, &wants, t);
                Outcome::Blocked
            }
            None => Outcome::Nothing,
        }
    }

    fn key(&self, i: usize) -> &[u8] {
        &self.argv[self.args.streams_at + i]
    }
}

enum Outcome {
    Error(String),
    Served(Vec<(usize, Vec<u8>)>),
    Nothing,
    Blocked,
}

/// Runs XREAD / XREADGROUP for the connection. Returns true when the connection must close.
pub async fn stream_read(
    ctx: &mut ConnCtx,
    idx: usize,
    argv: &[&[u8]],
    now: u64,
    out: &mut Out,
    sock: &TcpStream,
) -> bool {
    let started = Instant::now();
    let local = ctx.local.clone();
    let server = local.server.clone();
    let args = match stream_read::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            fail(ctx, idx, &e.0, out, started);
            return false;
        }
    };
    let nshards = server.nshards;
    let block = args.block;
    let job = Arc::new(Job {
        argv: argv.iter().map(|a| a.to_vec()).collect(),
        args,
        db: ctx.db,
        proto: ctx.proto,
        now,
    });
    let owners: Vec<usize> = (0..job.args.nkeys)
        .map(|i| key_shard(job.key(i), nshards))
        .collect();
    let mut shards = owners.clone();
    shards.sort_unstable();
    shards.dedup();
    let (token, rx) = match block {
        Some(_) => {
            let (t, rx) = BlockToken::new();
            (Some(t), Some(rx))
        }
        None => (None, None),
    };

    let outcome = if shards.len() <= 1 {
        let s = shards.first().copied().unwrap_or(ctx.shard);
        let keys: Vec<usize> = (0..job.args.nkeys).collect();
        if s == ctx.shard {
            local.gate.wait_open().await;
            let mut sh = local.shard.borrow_mut();
            job.run(&mut sh, &keys, token.as_ref())
        } else {
            let (tx, reply) = oneshot::channel();
            let (j, t) = (job.clone(), token.clone());
            let step = Box::new(move |sh: &mut Shard| {
                let _ = tx.send(j.run(sh, &keys, t.as_ref()));
            });
            if server.mailboxes[s].send(ShardMsg::Run(step)).is_err() {
                return true;
            }
            match reply.await {
                Ok(o) => o,
                Err(_) => return true,
            }
        }
    } else {
        match held_read(ctx, &job, &shards, &owners, token.as_ref()).await {
            Some(o) => o,
            None => return true,
        }
    };

    {
        let mut sh = local.shard.borrow_mut();
        sh.stats.total_commands += 1;
        let st = &mut sh.cmd_stats[idx];
        st.calls += 1;
        st.nanos += started.elapsed().as_nanos() as u64;
    }
    match outcome {
        Outcome::Error(e) => {
            let mut sh = local.shard.borrow_mut();
            sh.cmd_stats[idx].failed_calls += 1;
            sh.record_error(&e);
            out.error(&e);
            false
        }
        Outcome::Served(mut served) => {
            served.sort_by_key(|(i, _)| *i);
            stream_read::reply_header(out, served.len());
            for (_, b) in served {
                out.buf.extend_from_slice(&b);
            }
            false
        }
        Outcome::Nothing => {
            out.null_array();
            false
        }
        Outcome::Blocked => match (token, rx) {
            (Some(token), Some(rx)) => {
                let timeout = block.unwrap_or(0);
                wait(ctx, &job, &owners, token, rx, timeout, out, sock).await
            }
            _ => false,
        },
    }
}

/// Keys on several shards: hold them all, resolve everywhere, then read, then register.
async fn held_read(
    ctx: &ConnCtx,
    job: &Arc<Job>,
    shards: &[usize],
    owners: &[usize],
    token: Option<&Arc<BlockToken>>,
) -> Option<Outcome> {
    let server = &ctx.local.server;
    let (tx, rx) = oneshot::channel();
    let msg = CoordMsg::Hold {
        shards: shards.to_vec(),
        reply: tx,
    };
    server.coordinator.send(msg).ok()?;
    let held = rx.await.ok()?;
    let keys_of = |s: usize| -> Vec<usize> {
        owners
            .iter()
            .enumerate()
            .filter(|(_, &o)| o == s)
            .map(|(i, _)| i)
            .collect()
    };
    let mut resolved = Vec::new();
    for &s in shards {
        let (j, keys) = (job.clone(), keys_of(s));
        resolved.push((s, held.on(s, move |sh: &mut Shard| j.resolve(sh, &keys))));
    }
    let mut wants: Vec<(usize, Vec<(usize, Want)>)> = Vec::new();
    let mut first_err: Option<(usize, String)> = None;
    for (s, r) in resolved {
        match r.await.ok()? {
            Ok(w) => wants.push((s, w)),
            Err((i, e)) => {
                if first_err.as_ref().is_none_or(|(j, _)| i < *j) {
                    first_err = Some((i, e));
                }
            }
        }
    }
    if let Some((_, e)) = first_err {
        return Some(Outcome::Error(e));
    }
    let mut reads = Vec::new();
    for (s, w) in &wants {
        let (j, w) = (job.clone(), w.clone());
        reads.push(held.on(*s, move |sh: &mut Shard| j.read(sh, &w)));
    }
    let mut served = Vec::new();
    for r in reads {
        served.extend(r.await.ok()?);
    }
    if !served.is_empty() {
        return Some(Outcome::Served(served));
    }
    let Some(token) = token else {
        return Some(Outcome::Nothing);
    };
    let mut regs = Vec::new();
    for (s, w) in wants {
        let (j, t) = (job.clone(), token.clone());
        regs.push(held.on(s, move |sh: &mut Shard| j.register(sh, &w, &t)));
    }
    for r in regs {
        r.await.ok()?;
    }
    drop(held);
    Some(Outcome::Blocked)
}

/// Waits for the reply, the timeout, a disconnect or CLIENT KILL; then removes the waiters.
#[allow(clippy::too_many_arguments)]
async fn wait(
    ctx: &mut ConnCtx,
    job: &Arc<Job>,
    owners: &[usize],
    token: Arc<BlockToken>,
    rx: oneshot::Receiver<Vec<u8>>,
    timeout_ms: u64,
    out: &mut Out,
    sock: &TcpStream,
) -> bool {
    let server = ctx.local.server.clone();
    server.blocked_clients.fetch_add(1, Ordering::Relaxed);
    ctx.info.borrow_mut().blocked = true;
    let info = ctx.info.clone();
    let timer = async {
        if timeout_ms == 0 {
            std::future::pending::<()>().await
        } else {
            glommio::timer::sleep(Duration::from_millis(timeout_ms)).await
        }
    };
    let gone = async {
        // The client's next bytes (pipelined commands) wait until we are done; only an orderly
        // close (0 bytes) or an error ends the wait. Once bytes are there, stop watching.
        let mut b = [0u8; 1];
        match sock.peek(&mut b).await {
            Ok(0) | Err(_) => {}
            Ok(_) => std::future::pending::<()>().await,
        }
    };
    let (timer, gone, killed) = (pin!(timer), pin!(gone), pin!(super::conn::killed(&info)));
    let stop = select(timer, select(gone, killed));
    let mut close = false;
    let reply = match select(rx, pin!(stop)).await {
        Either::Left((r, _)) => r.ok(),
        Either::Right((which, rx)) => {
            let disconnected = matches!(which, Either::Right(_));
            if token.claim() {
                close = disconnected;
                None
            } else {
                // A shard claimed it first: its reply is on the way.
                rx.await.ok()
            }
        }
    };
    match reply {
        Some(bytes) => {
            if bytes.first() == Some(&b'-') {
                let msg = String::from_utf8_lossy(&bytes[1..bytes.len().saturating_sub(2)]);
                ctx.local.shard.borrow_mut().record_error(&msg);
            }
            out.buf.extend_from_slice(&bytes);
        }
        None if !close => out.null_array(),
        None => {}
    }
    unregister(ctx, job, owners, &token);
    ctx.info.borrow_mut().blocked = false;
    server.blocked_clients.fetch_sub(1, Ordering::Relaxed);
    close
}

/// Removes the client's waiters from every shard that has them (the one that served it already
/// did); remote shards get a message, not awaited.
fn unregister(ctx: &ConnCtx, job: &Arc<Job>, owners: &[usize], token: &Arc<BlockToken>) {
    let mut shards = owners.to_vec();
    shards.sort_unstable();
    shards.dedup();
    for s in shards {
        let keys: Vec<Vec<u8>> = owners
            .iter()
            .enumerate()
            .filter(|(_, &o)| o == s)
            .map(|(i, _)| job.key(i).to_vec())
            .collect();
        let db = job.db;
        if s == ctx.shard {
            ctx.local
                .shard
                .borrow_mut()
                .blocked
                .remove(token, db, &keys);
        } else {
            let t = token.clone();
            let step = Box::new(move |sh: &mut Shard| sh.blocked.remove(&t, db, &keys));
            let _ = ctx.local.server.mailboxes[s].send(ShardMsg::Run(step));
        }
    }
}

fn fail(ctx: &ConnCtx, idx: usize, msg: &str, out: &mut Out, started: Instant) {
    let mut sh = ctx.local.shard.borrow_mut();
    sh.stats.total_commands += 1;
    let st = &mut sh.cmd_stats[idx];
    st.calls += 1;
    st.failed_calls += 1;
    st.nanos += started.elapsed().as_nanos() as u64;
    sh.record_error(msg);
    out.error(msg);
}
