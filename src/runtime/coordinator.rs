//! The coordinator: one task on shard 0's executor that serialises work spanning shards.
//!
//! A cross-shard operation *holds* every shard it touches (each stops all other work once it
//! reaches the hold message), runs its steps, then releases them. The coordinator runs one such
//! operation at a time, so holds never deadlock, and a cross-shard MGET can never observe half of
//! a cross-shard MSET. Single-shard commands never come here.
//!
//! Multi-key commands run generically: the keys are copied from their shards into a scratch
//! shard, the ordinary single-shard handler runs there, and the keys it changed are written back.
//! Every multi-key command therefore has exactly one implementation.

use futures::channel::{mpsc, oneshot};
use futures::future::join_all;
use std::sync::Arc;

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
}

/// The shards held for one operation; dropping it releases them.
struct Held {
    steps: Vec<(usize, mpsc::UnboundedSender<Step>)>,
}

impl Held {
    async fn acquire(server: &Server, shards: &[usize]) -> Option<Held> {
        let mut steps = Vec::with_capacity(shards.len());
        let mut acks = Vec::with_capacity(shards.len());
        for &s in shards {
            let (tx, rx) = mpsc::unbounded();
            let (ack_tx, ack_rx) = oneshot::channel();
            server.mailboxes[s]
                .send(ShardMsg::Hold {
                    steps: rx,
                    held: ack_tx,
                })
                .ok()?;
            steps.push((s, tx));
            acks.push(ack_rx);
        }
        for r in join_all(acks).await {
            r.ok()?;
        }
        Some(Held { steps })
    }

    /// Runs `f` on held shard `shard` and returns its result.
    async fn on<R: Send + 'static>(
        &self,
        shard: usize,
        f: impl FnOnce(&mut Shard) -> R + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = oneshot::channel();
        let sender = &self.steps.iter().find(|(s, _)| *s == shard)?.1;
        sender
            .unbounded_send(Box::new(move |sh: &mut Shard| {
                let _ = tx.send(f(sh));
            }))
            .ok()?;
        rx.await.ok()
    }
}

pub async fn coordinator_task(server: Arc<Server>, rx: MailboxReceiver<CoordMsg>) {
    while let Some(msg) = rx.recv().await {
        match msg {
            CoordMsg::Global { op, reply } => {
                let all: Vec<usize> = (0..server.nshards).collect();
                let Some(held) = Held::acquire(&server, &all).await else {
                    continue;
                };
                let replies = join_all(all.iter().map(|&s| {
                    let op = op.clone();
                    held.on(s, move |sh| op(sh))
                }))
                .await;
                drop(held);
                let _ = reply.send(
                    replies
                        .into_iter()
                        .map(|r| r.unwrap_or(Reply::Null))
                        .collect(),
                );
            }
            CoordMsg::MultiKey {
                db,
                proto,
                now,
                cmd,
                args,
                keys,
                reply,
            } => {
                let out = run_multi_key(&server, db, proto, now, cmd, args, keys).await;
                let _ = reply.send(out);
            }
        }
    }
}

/// A key's entry as copied out of its shard, or None if absent.
type Snapshot = Option<Entry>;

async fn run_multi_key(
    server: &Server,
    db: usize,
    proto: Proto,
    now: u64,
    cmd: usize,
    args: Vec<Vec<u8>>,
    keys: Vec<(usize, usize, Vec<u8>)>,
) -> Vec<u8> {
    let mut shards: Vec<usize> = keys.iter().map(|k| k.0).collect();
    shards.sort_unstable();
    shards.dedup();
    let Some(held) = Held::acquire(server, &shards).await else {
        return b"-ERR server is shutting down\r\n".to_vec();
    };

    // 1. Copy every key out of its shard.
    let fetches = shards.iter().map(|&s| {
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
                .collect::<Vec<_>>()
        })
    });
    let fetched: Vec<(usize, usize, Vec<u8>, Snapshot)> = join_all(fetches)
        .await
        .into_iter()
        .flatten()
        .flatten()
        .collect();

    // 2. Run the command on a scratch shard holding just those keys.
    let mut scratch = Shard::new(0, server.nshards);
    for (_, d, _, snap) in &fetched {
        if let Some(e) = snap {
            scratch.dbs[*d].insert(e.clone());
        }
    }
    scratch.lru_clock = crate::runtime::shard::lru_clock_now();
    let mut out = Out::new(proto);
    let argv: Vec<&[u8]> = args.iter().map(|a| &a[..]).collect();
    scratch.execute(db, now, cmd, &argv, &mut out);

    // 3. Write back what changed, per shard, and fold the command's stats into its shard 0 entry.
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
    let applies = shards.iter().zip(writes).enumerate().map(|(i, (&s, w))| {
        held.on(s, move |sh: &mut Shard| {
            for (d, key, snap) in w {
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
        })
    });
    join_all(applies).await;
    drop(held);
    out.buf
}
