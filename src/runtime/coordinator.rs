//! The coordinator: one task on shard 0's executor that orders all work spanning shards.
//!
//! A cross-shard operation *holds* every shard it touches: once a shard reaches the hold in its
//! mailbox, it runs only that operation's steps until released, and its local connections wait.
//! An operation runs in two phases: a first step on every shard (copy the keys out, or the whole
//! work of a global operation), awaited; then a last step (write back) sent with the release, not
//! awaited: anything that reaches the shard afterwards queues behind it, so nobody can see the
//! state before the write-back once the client has its reply. A cross-shard MGET therefore never
//! sees half of a cross-shard MSET.
//!
//! The coordinator queues the holds of each operation, in arrival order, before looking at the
//! next one, so every shard meets holds in the same order: operation k waits only for operations
//! before it, and holds never deadlock, while later operations' holds are already queued (several
//! operations are in flight at once). Single-shard commands never come here.
//!
//! Multi-key commands run generically: the keys are copied from their shards into a scratch
//! shard, the ordinary single-shard handler runs there, and the keys it changed are written back.
//! Every multi-key command therefore has exactly one implementation.

use futures::channel::{mpsc, oneshot};
use futures::future::join_all;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::persistence::snapshot::{self, SaveJob, SaveTarget};
use crate::server::log;

use crate::protocol::{Out, Proto, Reply};
use crate::runtime::mailbox::MailboxReceiver;
use crate::runtime::shard::{Shard, ShardMsg, Step};
use crate::runtime::Server;
use crate::storage::Entry;

/// Work run on every shard; the replies come back in shard order.
pub type GlobalOp = Arc<dyn Fn(&mut Shard) -> Reply + Send + Sync>;

pub enum CoordMsg {
    /// A data command whose keys live on several shards.
    MultiKey {
        db: usize,
        proto: Proto,
        now: u64,
        cmd: usize,
        args: Vec<Vec<u8>>,
        /// (shard, db, key) of every key the command touches.
        keys: Vec<(usize, usize, Vec<u8>)>,
        reply: oneshot::Sender<Vec<u8>>,
    },
    /// Run `op` on all shards atomically (FLUSHALL, DBSIZE, KEYS, INFO...).
    Global {
        op: GlobalOp,
        reply: oneshot::Sender<Vec<Reply>>,
    },
    /// As Global, for a write (FLUSHALL, FLUSHDB, SWAPDB): `argv` goes to replicas (in `db`)
    /// while every shard is still held.
    GlobalWrite {
        op: GlobalOp,
        reply: oneshot::Sender<Vec<Reply>>,
        db: usize,
        argv: Vec<Vec<u8>>,
    },
    /// A replica's full resync: a point-in-time snapshot of every shard, streamed as an RDB;
    /// the reply says at which replication offset it was taken (None: shutting down).
    ReplSnapshot {
        slot: Arc<crate::replication::master::Slot>,
        reply: oneshot::Sender<Option<crate::replication::master::SnapshotStart>>,
    },
    /// SAVE, BGSAVE [SCHEDULE]: the reply is the status line, or the error.
    Save {
        kind: SaveKind,
        reply: oneshot::Sender<Result<&'static str, String>>,
    },
    /// Hold `shards` (ascending) for a multi-shard EXEC: the holder gets the handle and runs
    /// its steps; dropping the handle releases the shards.
    Hold {
        shards: Vec<usize>,
        reply: oneshot::Sender<Held>,
    },
    /// Hold `shards`, run each shard's part of a transaction as the hold's first step, release
    /// once every part is done, and answer the parts' results (in `work`'s order). One message
    /// instead of a hold handed back to the connection: half the cross-thread hops.
    HoldRun {
        shards: Vec<usize>,
        work: Vec<(usize, Part)>,
        reply: oneshot::Sender<Vec<PartResult>>,
    },
    /// SHUTDOWN, SIGTERM, SIGINT: save first when asked to (`save`), or by default when save
    /// points are configured (`save` None); then stop. An error means the server goes on.
    Shutdown {
        save: Option<bool>,
        force: bool,
        reply: Option<oneshot::Sender<Result<(), String>>>,
    },
}

/// One shard's part of a transaction: its replies and where each ends.
pub type Part = Box<dyn FnOnce(&mut Shard) -> PartResult + Send>;
pub type PartResult = (Vec<u8>, Vec<usize>);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveKind {
    /// SAVE: answer once the file is written.
    Save,
    Bgsave,
    /// BGSAVE SCHEDULE: run after the save in progress, if any.
    BgsaveSchedule,
    /// After FLUSHALL: stop the save in progress (its view is obsolete) and, when save points
    /// are configured, save the empty dataset; answers once done, whatever the outcome.
    AfterFlush,
    /// DEBUG RELOAD: save (unless `save` is false), then replace the dataset with the file's.
    Reload {
        save: bool,
    },
}

/// The coordinator's view of saves: at most one at a time, as Redis's one child.
#[derive(Default)]
struct Saves {
    /// Id of the save in progress and its cancel flag.
    running: Option<(u64, Arc<AtomicBool>)>,
    next_id: u64,
    scheduled: bool,
    /// Who waits for the save in progress to finish (SAVE, shutdown).
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
}

/// The holds of one operation; dropping it releases the shards.
pub struct Held {
    steps: Vec<(usize, mpsc::UnboundedSender<Step>)>,
    /// A transaction's writes, collected from its steps and sent to replicas as one
    /// MULTI/EXEC unit when it releases (src/replication/master.rs).
    sink: Option<Arc<crate::replication::master::Sink>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Before the shards are released (the senders drop after this).
        if let Some(s) = self.sink.take() {
            crate::replication::master::finish_sink(&s);
        }
    }
}

impl Held {
    /// Queues a hold on each shard. Returns at once: a shard runs the steps once it reaches the
    /// hold in its mailbox.
    pub(crate) fn request(server: &Server, shards: &[usize]) -> Option<Held> {
        let mut steps = Vec::with_capacity(shards.len());
        for &s in shards {
            let (tx, rx) = mpsc::unbounded();
            server.mailboxes[s]
                .send(ShardMsg::Hold { steps: rx })
                .ok()?;
            steps.push((s, tx));
        }
        Some(Held { steps, sink: None })
    }

    /// Collects what the held steps write into one replication unit (transactions).
    fn collect_writes(&mut self) {
        self.sink = crate::replication::master::new_sink();
    }

    /// Where writes made while holding go (None: straight to the backlog).
    pub fn sink(&self) -> Option<&Arc<crate::replication::master::Sink>> {
        self.sink.as_ref()
    }

    /// Queues `f` on held shard `shard`; the receiver yields its result.
    pub fn on<R: Send + 'static>(
        &self,
        shard: usize,
        f: impl FnOnce(&mut Shard) -> R + Send + 'static,
    ) -> oneshot::Receiver<R> {
        let (tx, rx) = oneshot::channel();
        let sink = self.sink.clone();
        self.send_step(shard, move |sh: &mut Shard| {
            // The step's writes join the transaction's before anyone hears it is done.
            if let Some(s) = &sink {
                crate::replication::master::attach(sh, s);
            }
            let r = f(sh);
            if sink.is_some() {
                crate::replication::master::detach(sh);
            }
            let _ = tx.send(r);
        });
        rx
    }

    /// Queues `f` on held shard `shard` without waiting for it.
    pub fn post(&self, shard: usize, f: impl FnOnce(&mut Shard) + Send + 'static) {
        let sink = self.sink.clone();
        self.send_step(shard, move |sh: &mut Shard| {
            if let Some(s) = &sink {
                crate::replication::master::attach(sh, s);
            }
            f(sh);
            if sink.is_some() {
                crate::replication::master::detach(sh);
            }
        });
    }

    fn send_step(&self, shard: usize, f: impl FnOnce(&mut Shard) + Send + 'static) {
        if let Some((_, sender)) = self.steps.iter().find(|(s, _)| *s == shard) {
            let _ = sender.unbounded_send(Box::new(f));
        }
    }
}

pub async fn coordinator_task(server: Arc<Server>, rx: MailboxReceiver<CoordMsg>) {
    let all: Vec<usize> = (0..server.nshards).collect();
    let saves = Rc::new(RefCell::new(Saves::default()));
    glommio::spawn_local(save_points_task(server.clone(), saves.clone())).detach();
    while let Some(msg) = rx.recv().await {
        match msg {
            CoordMsg::HoldRun {
                shards,
                work,
                reply,
            } => {
                let Some(mut held) = Held::request(&server, &shards) else {
                    continue;
                };
                held.collect_writes();
                let parts: Vec<_> = work.into_iter().map(|(s, f)| held.on(s, f)).collect();
                glommio::spawn_local(async move {
                    let results = join_all(parts).await;
                    drop(held);
                    if results.iter().all(|r| r.is_ok()) {
                        let _ = reply.send(results.into_iter().flatten().collect());
                    }
                })
                .detach();
            }
            CoordMsg::Hold { shards, reply } => {
                if let Some(mut held) = Held::request(&server, &shards) {
                    held.collect_writes();
                    let _ = reply.send(held);
                }
            }
            CoordMsg::ReplSnapshot { slot, reply } if server.replica.is_replica() => {
                // Chained replication: the barrier must find the link between two reads of
                // its master's stream, so the offset it fed describes the data. (Not awaited
                // here: the link may be waiting for this loop.)
                let server = server.clone();
                let all = all.clone();
                glommio::spawn_local(async move {
                    let _pause = server.replica.quiesce().await;
                    repl_snapshot(&server, &all, slot, reply);
                })
                .detach();
            }
            CoordMsg::ReplSnapshot { slot, reply } => repl_snapshot(&server, &all, slot, reply),
            CoordMsg::Save { kind, reply } => {
                if kind == SaveKind::AfterFlush {
                    cancel_save(&server, &saves);
                    if snapshot::save_points(server.config().get("save")).is_empty() {
                        let _ = reply.send(Ok("OK"));
                        continue;
                    }
                    let (tx, rx) = oneshot::channel();
                    start_save_as(&server, &saves, Some(tx), false, false);
                    glommio::spawn_local(async move {
                        let _ = rx.await;
                        let _ = reply.send(Ok("OK"));
                    })
                    .detach();
                    continue;
                }
                if let SaveKind::Reload { save } = kind {
                    let saved = if save {
                        cancel_save(&server, &saves);
                        let (tx, rx) = oneshot::channel();
                        start_save(&server, &saves, Some(tx), false);
                        Some(rx)
                    } else {
                        None
                    };
                    glommio::spawn_local(reload(server.clone(), saved, reply)).detach();
                    continue;
                }
                let busy = saves.borrow().running.is_some();
                let r = match (kind, busy) {
                    (SaveKind::BgsaveSchedule, true) => {
                        saves.borrow_mut().scheduled = true;
                        Ok("Background saving scheduled")
                    }
                    (_, true) => Err("ERR Background save already in progress".to_string()),
                    (SaveKind::Save, false) => {
                        let (tx, rx) = oneshot::channel();
                        start_save(&server, &saves, Some(tx), false);
                        glommio::spawn_local(async move {
                            let r = match rx.await {
                                Ok(Ok(())) => Ok("OK"),
                                // Redis answers a failed SAVE with a bare "-ERR".
                                _ => Err("ERR".to_string()),
                            };
                            let _ = reply.send(r);
                        })
                        .detach();
                        continue;
                    }
                    (_, false) => {
                        start_save(&server, &saves, None, true);
                        Ok("Background saving started")
                    }
                };
                let _ = reply.send(r);
            }
            CoordMsg::Shutdown { save, force, reply } => {
                let save = save.unwrap_or_else(|| {
                    !snapshot::save_points(server.config().get("save")).is_empty()
                });
                if !save {
                    cancel_save(&server, &saves);
                    server.begin_shutdown();
                    if let Some(r) = reply {
                        let _ = r.send(Ok(()));
                    }
                    continue;
                }
                // A save in progress holds an older view: stop it and save what is there now.
                cancel_save(&server, &saves);
                log::notice("Saving the final RDB snapshot before exiting.");
                let (tx, rx) = oneshot::channel();
                start_save(&server, &saves, Some(tx), false);
                let server = server.clone();
                glommio::spawn_local(async move {
                    let r = rx.await.unwrap_or_else(|_| Err("save abandoned".into()));
                    if r.is_ok() || force {
                        server.begin_shutdown();
                        if let Some(reply) = reply {
                            let _ = reply.send(Ok(()));
                        }
                    } else {
                        log::warning("Error trying to save the DB, can't exit.");
                        if let Some(reply) = reply {
                            let _ = reply
                                .send(Err("ERR Errors trying to SHUTDOWN. Check logs.".into()));
                        }
                    }
                })
                .detach();
            }
            CoordMsg::Global { op, reply } => global(&server, &all, op, reply, None),
            CoordMsg::GlobalWrite {
                op,
                reply,
                db,
                argv,
            } => global(&server, &all, op, reply, Some((db, argv))),
            CoordMsg::MultiKey {
                db,
                proto,
                now,
                cmd,
                args,
                keys,
                reply,
            } => {
                let mut shards: Vec<usize> = keys.iter().map(|k| k.0).collect();
                shards.sort_unstable();
                shards.dedup();
                let Some(held) = Held::request(&server, &shards) else {
                    let _ = reply.send(b"-ERR server is shutting down\r\n".to_vec());
                    continue;
                };
                let fetches = fetch(&held, &shards, &keys, now);
                let nshards = server.nshards;
                glommio::spawn_local(async move {
                    let fetched: Vec<Fetched> = join_all(fetches)
                        .await
                        .into_iter()
                        .flatten()
                        .flatten()
                        .collect();
                    let out = run_multi_key(&held, nshards, db, proto, now, cmd, args, fetched);
                    drop(held);
                    let _ = reply.send(out);
                })
                .detach();
            }
        }
    }
}

/// Runs `op` on every shard at once; a write (`prop`) goes to replicas before the release.
fn global(
    server: &Arc<Server>,
    all: &[usize],
    op: GlobalOp,
    reply: oneshot::Sender<Vec<Reply>>,
    prop: Option<(usize, Vec<Vec<u8>>)>,
) {
    let Some(held) = Held::request(server, all) else {
        return;
    };
    let results: Vec<_> = all
        .iter()
        .map(|&s| {
            let op = op.clone();
            held.on(s, move |sh| {
                let r = op(sh);
                // FLUSHALL, SWAPDB, DEBUG RELOAD...: any key may have changed.
                sh.blocked.signal_all();
                r
            })
        })
        .collect();
    glommio::spawn_local(async move {
        let replies = join_all(results).await;
        if let Some((db, argv)) = prop {
            let argv: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
            crate::replication::master::propagate_command(held.sink(), db, &argv);
        }
        drop(held);
        let _ = reply.send(
            replies
                .into_iter()
                .map(|r| r.unwrap_or(Reply::Null))
                .collect(),
        );
    })
    .detach();
}

/// A replica's full resync: the barrier holds every shard; each appends what it ran so far to
/// the backlog and takes its snapshot references; the backlog offset read while all are held is
/// the snapshot's. The shards then serialise in the background into a writer thread producing
/// the RDB stream for the replica's task.
fn repl_snapshot(
    server: &Arc<Server>,
    all: &[usize],
    slot: Arc<crate::replication::master::Slot>,
    reply: oneshot::Sender<Option<crate::replication::master::SnapshotStart>>,
) {
    let compress = server.config().bool("rdbcompression");
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, chunks) = snapshot::start_stream_writer(
        server.nshards,
        cancel.clone(),
        crate::commands::server::rss_bytes(),
    );
    let job = SaveJob {
        tx,
        cancel: cancel.clone(),
        compress,
        // Not a save: its progress stays out of INFO persistence.
        stats: Arc::new(snapshot::PersistStats::new(server.nshards, 0)),
    };
    let Some(held) = Held::request(server, all) else {
        cancel.store(true, Ordering::Relaxed);
        return;
    };
    let now = crate::storage::now_ms();
    let parts: Vec<_> = all
        .iter()
        .map(|&s| {
            let job = job.clone();
            held.on(s, move |sh: &mut Shard| {
                crate::replication::master::flush_shard(sh);
                snapshot::begin_on_shard(sh, now, job);
            })
        })
        .collect();
    drop(job);
    let server = server.clone();
    glommio::spawn_local(async move {
        let ok = join_all(parts).await.iter().all(|p| p.is_ok());
        let point = ok.then(|| crate::replication::master::snapshot_point(&server, &slot));
        drop(held);
        match point {
            Some((replid, offset)) => {
                let _ = reply.send(Some(crate::replication::master::SnapshotStart {
                    replid,
                    offset,
                    chunks,
                    cancel,
                }));
            }
            None => {
                cancel.store(true, Ordering::Relaxed);
                let _ = reply.send(None);
            }
        }
    })
    .detach();
}

/// A key's entry as copied out of its shard, or None if absent.
pub type Snapshot = Option<Entry>;

/// (shard, db, key, entry before the command).
pub type Fetched = (usize, usize, Vec<u8>, Snapshot);

/// Queues, on each held shard, a step copying out that shard's keys.
pub fn fetch(
    held: &Held,
    shards: &[usize],
    keys: &[(usize, usize, Vec<u8>)],
    now: u64,
) -> Vec<oneshot::Receiver<Vec<Fetched>>> {
    shards
        .iter()
        .map(|&s| {
            let mine: Vec<(usize, Vec<u8>)> = keys
                .iter()
                .filter(|k| k.0 == s)
                .map(|k| (k.1, k.2.clone()))
                .collect();
            held.on(s, move |sh: &mut Shard| {
                mine.into_iter()
                    .map(|(d, key)| {
                        let snap: Snapshot = sh.dbs[d].peek(&key, now).cloned();
                        (s, d, key, snap)
                    })
                    .collect()
            })
        })
        .collect()
}

/// Runs the command on a scratch shard holding the fetched keys, queues the write-back of what
/// changed on each held shard, and returns the encoded reply.
#[allow(clippy::too_many_arguments)]
pub fn run_multi_key(
    held: &Held,
    nshards: usize,
    db: usize,
    proto: Proto,
    now: u64,
    cmd: usize,
    args: Vec<Vec<u8>>,
    fetched: Vec<Fetched>,
) -> Vec<u8> {
    let shards: Vec<usize> = held.steps.iter().map(|(s, _)| *s).collect();
    let mut scratch = Shard::new(0, nshards);
    for (_, d, _, snap) in &fetched {
        if let Some(e) = snap {
            scratch.dbs[*d].insert(e.clone());
        }
    }
    scratch.lru_clock = crate::runtime::shard::lru_clock_now();
    let mut out = Out::new(proto);
    let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    scratch.execute(db, now, cmd, &argv, &mut out);
    // What it wrote goes to replicas now, while its shards are held.
    crate::replication::master::propagate_scratch(held.sink(), &mut scratch);

    // Write back what changed, per shard, and fold the command's stats into the first shard's.
    let stats = scratch.cmd_stats[cmd];
    let mut writes: Vec<Vec<(usize, Vec<u8>, Snapshot)>> = vec![Vec::new(); shards.len()];
    for (s, d, key, before) in &fetched {
        let after: Snapshot = scratch.dbs[*d].peek(key, now).cloned();
        let changed = match (before, &after) {
            (None, None) => false,
            (Some(b), Some(a)) => !b.same_data(a),
            _ => true,
        };
        if changed {
            let i = shards.iter().position(|x| x == s).unwrap_or(0);
            writes[i].push((*d, key.clone(), after));
        }
    }
    let dirty = scratch.dirty;
    let (hits, misses, expired) = (
        scratch.stats.keyspace_hits,
        scratch.stats.keyspace_misses,
        scratch.stats.expired_keys,
    );
    for (i, (&s, w)) in shards.iter().zip(writes).enumerate() {
        if w.is_empty() && i != 0 {
            continue;
        }
        held.post(s, move |sh: &mut Shard| {
            for (d, key, snap) in w {
                sh.watched.touch(d, &key);
                sh.blocked.signal(d, &key);
                match snap {
                    Some(e) => {
                        sh.dbs[d].insert(e);
                    }
                    None => {
                        sh.dbs[d].remove(&key);
                    }
                }
            }
            if i == 0 {
                sh.dirty += dirty;
                sh.stats.total_commands += 1;
                sh.stats.keyspace_hits += hits;
                sh.stats.keyspace_misses += misses;
                sh.stats.expired_keys += expired;
                let st = &mut sh.cmd_stats[cmd];
                st.calls += stats.calls;
                st.nanos += stats.nanos;
                st.failed_calls += stats.failed_calls;
            }
        });
    }
    out.buf
}

/// Starts a save: writer thread, barrier on every shard, then the shards serialise in the
/// background. `waiter` hears the outcome.
fn start_save(
    server: &Arc<Server>,
    saves: &Rc<RefCell<Saves>>,
    waiter: Option<oneshot::Sender<Result<(), String>>>,
    background: bool,
) {
    start_save_as(server, saves, waiter, background, true)
}

/// As start_save; `counted` says whether the save counts in rdb_saves (Redis counts every SAVE
/// and BGSAVE started, failed ones too, but not the save FLUSHALL makes).
fn start_save_as(
    server: &Arc<Server>,
    saves: &Rc<RefCell<Saves>>,
    waiter: Option<oneshot::Sender<Result<(), String>>>,
    background: bool,
    counted: bool,
) {
    let (target, rss) = {
        let c = server.config();
        (
            SaveTarget {
                dir: c.get("dir").into(),
                dbfilename: c.get("dbfilename").to_string(),
                compress: c.bool("rdbcompression"),
                checksum: c.bool("rdbchecksum"),
            },
            crate::commands::server::rss_bytes(),
        )
    };
    let stats = server.persist.clone();
    let cancel = Arc::new(AtomicBool::new(false));
    let id = {
        let mut s = saves.borrow_mut();
        s.next_id += 1;
        s.running = Some((s.next_id, cancel.clone()));
        s.waiters.extend(waiter);
        s.next_id
    };
    let started = Instant::now();
    let now = crate::storage::now_ms();
    stats.in_progress.store(true, Ordering::Relaxed);
    if counted {
        stats.saves.fetch_add(1, Ordering::Relaxed);
    }
    stats.started_ms.store(now, Ordering::Relaxed);
    stats.last_try_ms.store(now, Ordering::Relaxed);
    stats.keys_processed.store(0, Ordering::Relaxed);
    stats.keys_total.store(0, Ordering::Relaxed);
    if background {
        log::notice("Background saving started");
    }
    let compress = target.compress;
    let (tx, done) = snapshot::start_writer(target, server.nshards, cancel.clone(), rss);
    let job = SaveJob {
        tx,
        cancel: cancel.clone(),
        compress,
        stats: stats.clone(),
    };
    let all: Vec<usize> = (0..server.nshards).collect();
    let barrier = Held::request(server, &all).map(|held| {
        let parts: Vec<_> = all
            .iter()
            .map(|&s| {
                let job = job.clone();
                held.on(s, move |sh: &mut Shard| {
                    snapshot::begin_on_shard(sh, now, job)
                })
            })
            .collect();
        (held, parts)
    });
    drop(job);
    let saves = saves.clone();
    let server = server.clone();
    glommio::spawn_local(async move {
        let mut dirty = 0;
        let mut barrier_ok = false;
        if let Some((held, parts)) = barrier {
            let parts = join_all(parts).await;
            drop(held);
            barrier_ok = parts.iter().all(|p| p.is_ok());
            let mut keys = 0;
            for (d, k) in parts.into_iter().flatten() {
                dirty += d;
                keys += k;
            }
            stats.keys_total.store(keys, Ordering::Relaxed);
        }
        if !barrier_ok {
            cancel.store(true, Ordering::Relaxed);
        }
        let r = done
            .await
            .unwrap_or_else(|_| Err("the RDB writer thread stopped".into()));
        let mut s = saves.borrow_mut();
        if cancel.load(Ordering::Relaxed) && s.running.as_ref().map(|r| r.0) != Some(id) {
            // Superseded (shutdown): the newer save owns the state and its waiters.
            return;
        }
        snapshot::finish(&stats, started, dirty, &r, background);

        s.running = None;
        for w in s.waiters.drain(..) {
            let _ = w.send(r.clone().map(|_| ()));
        }
        if std::mem::take(&mut s.scheduled) {
            drop(s);
            start_save(&server, &saves, None, true);
        }
    })
    .detach();
}

/// Stops the save in progress, if any; its waiters hear that it was aborted.
fn cancel_save(server: &Server, saves: &Rc<RefCell<Saves>>) {
    let mut s = saves.borrow_mut();
    if let Some((_, cancel)) = s.running.take() {
        cancel.store(true, Ordering::Relaxed);
        server.persist.in_progress.store(false, Ordering::Relaxed);
        log::notice("Killing the background save in progress");
        for w in s.waiters.drain(..) {
            let _ = w.send(Err("save aborted".into()));
        }
    }
}

/// Fires save points (`save <seconds> <changes>`), as Redis's serverCron: a save starts when
/// at least `changes` writes happened and `seconds` passed since the last save. After a failed
/// save, the next try waits 5 seconds (CONFIG_BGSAVE_RETRY_DELAY).
async fn save_points_task(server: Arc<Server>, saves: Rc<RefCell<Saves>>) {
    loop {
        glommio::timer::sleep(Duration::from_millis(100)).await;
        if server.is_shutting_down() {
            return;
        }
        if saves.borrow().running.is_some() {
            continue;
        }
        let points = snapshot::save_points(server.config().get("save"));
        if points.is_empty() {
            continue;
        }
        let st = &server.persist;
        let changes = st.changes_since_save();
        let now = crate::storage::now_ms();
        let since_save = (now / 1000).saturating_sub(st.lastsave.load(Ordering::Relaxed));
        let retry_ok = st.last_ok.load(Ordering::Relaxed)
            || now.saturating_sub(st.last_try_ms.load(Ordering::Relaxed)) > 5000;
        if let Some((secs, ch)) = points
            .iter()
            .find(|(secs, ch)| changes >= *ch && since_save > *secs)
        {
            if retry_ok {
                log::notice(&format!("{ch} changes in {secs} seconds. Saving..."));
                start_save(&server, &saves, None, true);
            }
        }
    }
}

/// DEBUG RELOAD: after the save (if any), reads the file on a thread, then swaps every shard's
/// databases for the loaded ones while all shards are held.
async fn reload(
    server: Arc<Server>,
    saved: Option<oneshot::Receiver<Result<(), String>>>,
    reply: oneshot::Sender<Result<&'static str, String>>,
) {
    if let Some(rx) = saved {
        if !matches!(rx.await, Ok(Ok(()))) {
            let _ = reply.send(Err("ERR Error trying to save the RDB dump".into()));
            return;
        }
    }
    let (path, verify) = {
        let c = server.config();
        (
            std::path::Path::new(c.get("dir")).join(c.get("dbfilename")),
            c.bool("rdbchecksum"),
        )
    };
    let nshards = server.nshards;
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("shoal-load".into())
        .spawn(move || {
            let _ = tx.send(crate::persistence::load::load_file(&path, nshards, verify));
        });
    let loaded = match spawned {
        Ok(_) => rx
            .await
            .unwrap_or_else(|_| Err("the loader thread stopped".into())),
        Err(e) => Err(e.to_string()),
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            log::warning(&format!("DEBUG RELOAD: {e}"));
            let _ = reply.send(Err(
                "ERR Error trying to load the RDB dump, check server logs.".into(),
            ));
            return;
        }
    };
    let all: Vec<usize> = (0..nshards).collect();
    let Some(held) = Held::request(&server, &all) else {
        let _ = reply.send(Err("ERR server is shutting down".into()));
        return;
    };
    let steps: Vec<_> = loaded
        .shards
        .into_iter()
        .enumerate()
        .map(|(s, dbs)| {
            held.on(s, move |sh: &mut Shard| {
                // The dataset is replaced: watched keys present now change, as Redis's flush.
                let now = crate::storage::now_ms();
                for db in 0..crate::runtime::shard::DATABASES {
                    sh.touch_watched_db(db, now);
                }
                sh.dbs = dbs;
                sh.blocked.signal_all();
            })
        })
        .collect();
    join_all(steps).await;
    drop(held);
    log::warning("DB reloaded by DEBUG RELOAD");
    let _ = reply.send(Ok("OK"));
}
