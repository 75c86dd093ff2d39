//! The replica side of replication: the link to a master (../shared/design.md section 6).
//!
//! One task on shard 0's executor (`supervise`) owns the link: it connects, does the handshake,
//! loads the master's snapshot (full resync) or continues its stream (partial resync), applies
//! the stream to the shards (link_apply.rs), answers REPLCONF GETACK, sends an ACK every
//! second, and reconnects with backoff when the link drops. REPLICAOF runs on any shard: it
//! changes the target in `ReplicaState` and wakes the task, which drops its link at its next
//! safe point (never in the middle of applying a chunk of the stream).

#[path = "link.rs"]
mod link;
#[path = "link_apply.rs"]
mod link_apply;

use futures::task::AtomicWaker;
use std::fmt::Write as _;
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::shard::Local;
use crate::runtime::Server;
use crate::server::log;

/// Reconnection backoff: the first retry after 100 ms, doubling up to 1 s.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Replica-side state (`Server::replica`): the configured master and the link's state.
#[derive(Default)]
pub struct ReplicaState {
    /// Whether a master is configured: read on every client write (the READONLY gate).
    active: AtomicBool,
    inner: Mutex<Inner>,
    /// `Inner::generation`, readable without the lock (checked between the stream's commands).
    generation: AtomicU64,
    /// Wakes the link task (REPLICAOF changed the target, a pause ended).
    bell: AtomicWaker,
    /// Pauses of the stream's application asked for (`quiesce`), and whether the link is
    /// applying a read right now.
    pauses: AtomicUsize,
    applying: AtomicBool,
    pause_waiters: Mutex<Vec<Waker>>,
}

/// The link applies a read while it lives (however that ends).
struct Applying<'a> {
    st: &'a ReplicaState,
}

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        self.st.leave_apply();
    }
}

/// While it lives, the link applies nothing (see `ReplicaState::quiesce`).
pub struct ApplyPause<'a> {
    st: &'a ReplicaState,
}

impl Drop for ApplyPause<'_> {
    fn drop(&mut self) {
        if self.st.pauses.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.st.bell.wake();
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum LinkState {
    /// Not connected (or not a replica).
    #[default]
    Down,
    /// Connecting, handshake, waiting for the PSYNC reply.
    Handshake,
    /// Receiving the snapshot, or loading it.
    Transfer,
    /// Streaming: the master's commands are applied as they come.
    Up,
}

/// The master's history this replica follows: what PSYNC asks to continue from.
#[derive(Clone, Debug)]
struct History {
    replid: String,
    /// Bytes of the stream applied (Redis's reploff): commands of an open MULTI not included.
    offset: u64,
    /// Bytes of the stream read (read_reploff).
    read_offset: u64,
    /// The database the stream had selected at `offset` (a partial resync continues in it: the
    /// master does not send SELECT again).
    db: usize,
}

#[derive(Default)]
struct Inner {
    target: Option<(String, u16)>,
    /// Bumped on every REPLICAOF: a link of an older generation stops.
    generation: u64,
    history: Option<History>,
    link: LinkState,
    /// Unix seconds when the link last went down (None: never up since we became a replica).
    down_since: Option<u64>,
    /// Last read from the master while the link is up.
    last_io: Option<Instant>,
    /// Snapshot transfer: total size (None with the EOF-mark form), bytes read, last read.
    transfer_size: Option<u64>,
    transfer_read: u64,
    transfer_last_io: Option<Instant>,
}

impl ReplicaState {
    /// Whether this server replicates a master (clients' writes are refused).
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The configured master (REPLICAOF answers "+OK Already connected to specified master"
    /// when asked for the same one).
    pub fn master_target(&self) -> Option<(String, u16)> {
        self.lock().target.clone()
    }

    /// Whether the link is up (streaming).
    pub fn link_up(&self) -> bool {
        self.lock().link == LinkState::Up
    }

    /// The stream offset applied so far (slave_repl_offset), if any history is followed.
    pub fn applied_offset(&self) -> Option<u64> {
        self.lock().history.as_ref().map(|h| h.offset)
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Bumps the generation (under the lock): a link of an older one stops.
    fn bump(&self, g: &mut Inner) {
        g.generation += 1;
        self.generation.store(g.generation, Ordering::SeqCst);
    }

    /// For a snapshot taken for our own replicas while we replicate a master (chained
    /// replication): resolves once the link is between two reads of the stream, and keeps it
    /// there while the returned guard lives. Everything applied is then fed to our backlog and
    /// nothing is in flight, so the backlog offset describes the data exactly. Hold it only
    /// while queueing the snapshot's barrier: anything the link does afterwards queues behind
    /// it. Resolves at once when no link applies anything.
    pub async fn quiesce(&self) -> ApplyPause<'_> {
        self.pauses.fetch_add(1, Ordering::SeqCst);
        let pause = ApplyPause { st: self };
        poll_fn(|cx| {
            if !self.applying.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            self.pause_waiters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(cx.waker().clone());
            if self.applying.load(Ordering::SeqCst) {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        pause
    }

    /// The link is about to apply a read: waits while a pause is asked for. The read is
    /// applied while the returned guard lives.
    async fn enter_apply(&self) -> Applying<'_> {
        loop {
            self.applying.store(true, Ordering::SeqCst);
            if self.pauses.load(Ordering::SeqCst) == 0 {
                return Applying { st: self };
            }
            self.leave_apply();
            poll_fn(|cx| {
                if self.pauses.load(Ordering::SeqCst) == 0 {
                    return Poll::Ready(());
                }
                self.bell.register(cx.waker());
                if self.pauses.load(Ordering::SeqCst) == 0 {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
        }
    }

    /// The link applied its read (and fed it on): pauses asked for may proceed.
    fn leave_apply(&self) {
        self.applying.store(false, Ordering::SeqCst);
        let waiters =
            std::mem::take(&mut *self.pause_waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for w in waiters {
            w.wake();
        }
    }

    /// Resolves once REPLICAOF changed the target since `generation`, or at shutdown.
    async fn changed(&self, server: &Server, generation: u64) {
        poll_fn(|cx| {
            if server.is_shutting_down() || self.generation() != generation {
                return Poll::Ready(());
            }
            self.bell.register(cx.waker());
            if server.is_shutting_down() || self.generation() != generation {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }

    /// Sets the link state, if REPLICAOF did not move on meanwhile.
    fn set_link(&self, generation: u64, state: LinkState) {
        let mut g = self.lock();
        if g.generation != generation {
            return;
        }
        if state == LinkState::Down && g.link != LinkState::Down {
            g.down_since = Some(crate::storage::now_ms() / 1000);
        }
        if state != LinkState::Transfer {
            g.transfer_size = None;
            g.transfer_read = 0;
            g.transfer_last_io = None;
        }
        if state != LinkState::Up {
            g.last_io = None;
        }
        g.link = state;
    }
}

/// Parses a `replicaof` value ("HOST PORT", or empty for none).
pub fn parse_target(value: &str) -> Option<(String, u16)> {
    let mut words = value.split_whitespace();
    let host = words.next()?;
    let port = words.next()?.parse::<u16>().ok()?;
    if words.next().is_some() || host.eq_ignore_ascii_case("no") {
        return None;
    }
    Some((host.to_string(), port))
}

/// At start-up, before any client is served: `--replicaof` makes this server a replica at once
/// (so no client write gets in before the READONLY gate is up).
pub fn init(server: &Server) {
    let target = parse_target(server.config().get("replicaof"));
    if let Some(t) = target {
        let mut g = server.replica.lock();
        g.target = Some(t);
        server.replica.bump(&mut g);
        server.replica.active.store(true, Ordering::Relaxed);
    }
}

/// REPLICAOF host port (Some) or NO ONE (None); also `--replicaof` at start-up.
///
/// To a new master: the link drops and connects there, asking to continue the history it
/// followed (the new master may be a promoted sibling); the dataset is replaced only if that
/// master answers with a full resync. NO ONE: the link stops, the data stays, and this server
/// becomes a master with a new replication ID.
pub fn set_master(server: &Arc<Server>, target: Option<(String, u16)>) -> Result<(), String> {
    let st = &server.replica;
    {
        let mut g = st.lock();
        if g.target == target {
            return Ok(());
        }
        let was_master = g.target.is_none();
        st.bump(&mut g);
        g.link = LinkState::Down;
        g.transfer_size = None;
        g.transfer_read = 0;
        g.transfer_last_io = None;
        g.last_io = None;
        match &target {
            None => {
                log::notice("MASTER MODE enabled (user request from REPLICAOF NO ONE)");
                // The data is ours from here on: what we followed no longer describes it.
                g.history = None;
                g.down_since = None;
                st.active.store(false, Ordering::Relaxed);
            }
            Some((host, port)) => {
                if was_master {
                    // Our own history (as Redis's replicationCacheMasterUsingMyself): a master
                    // that continues it (a replica of ours, promoted) resyncs us partially;
                    // any other answers with a full resync.
                    let m = &server.master;
                    let offset = m.offset();
                    g.history = Some(History {
                        replid: m.replid(),
                        offset,
                        read_offset: offset,
                        db: 0,
                    });
                    g.down_since = None;
                }
                log::notice(&format!(
                    "Connecting to MASTER {host}:{port} (REPLICAOF {host} {port} enabled)"
                ));
                st.active.store(true, Ordering::Relaxed);
            }
        }
        g.target = target.clone();
    }
    if target.is_none() {
        crate::replication::master::shift_replid(server);
    }
    {
        let value = target
            .as_ref()
            .map(|(h, p)| format!("{h} {p}"))
            .unwrap_or_default();
        let mut c = server.config.write().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = c.set("replicaof", &value) {
            log::warning(&format!("replicaof {value:?}: {e}"));
        }
    }
    st.bell.wake();
    Ok(())
}

/// The replica's part of INFO replication, in Redis's order: role:slave, master_host,
/// master_port, master_link_status, master_last_io_seconds_ago, master_sync_in_progress,
/// slave_read_repl_offset, slave_repl_offset, the transfer's progress while one runs,
/// master_link_down_since_seconds while the link is down, slave_priority, slave_read_only,
/// replica_announced. A master gets role:master only.
pub fn info_fields(server: &Server, out: &mut String) {
    let g = server.replica.lock();
    let Some((host, port)) = &g.target else {
        out.push_str("role:master\r\n");
        return;
    };
    let (priority, read_only, announced) = {
        let c = server.config();
        (
            c.int("replica-priority"),
            c.bool("replica-read-only"),
            c.bool("replica-announced"),
        )
    };
    let now = Instant::now();
    let secs = |t: Option<Instant>| t.map_or(-1, |t| now.duration_since(t).as_secs() as i64);
    let (offset, read_offset) = g
        .history
        .as_ref()
        .map_or((1, 1), |h| (h.offset, h.read_offset));
    let _ = write!(
        out,
        "role:slave\r\nmaster_host:{host}\r\nmaster_port:{port}\r\nmaster_link_status:{}\r\n\
         master_last_io_seconds_ago:{}\r\nmaster_sync_in_progress:{}\r\n\
         slave_read_repl_offset:{read_offset}\r\nslave_repl_offset:{offset}\r\n",
        if g.link == LinkState::Up {
            "up"
        } else {
            "down"
        },
        if g.link == LinkState::Up {
            secs(g.last_io)
        } else {
            -1
        },
        (g.link == LinkState::Transfer) as u8,
    );
    if g.link == LinkState::Transfer {
        // The EOF-mark form has no size up front: Redis shows -1 and the bytes read so far.
        let total = g.transfer_size.map_or(-1, |s| s as i64);
        let read = g.transfer_read as i64;
        let perc = if total > 0 {
            read as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "master_sync_total_bytes:{total}\r\nmaster_sync_read_bytes:{read}\r\n\
             master_sync_left_bytes:{}\r\nmaster_sync_perc:{perc:.2}\r\n\
             master_sync_last_io_seconds_ago:{}\r\n",
            total - read,
            secs(g.transfer_last_io).max(0),
        );
    }
    if g.link != LinkState::Up {
        let since = g.down_since.map_or(-1, |t| {
            (crate::storage::now_ms() / 1000).saturating_sub(t) as i64
        });
        let _ = write!(out, "master_link_down_since_seconds:{since}\r\n");
    }
    let _ = write!(
        out,
        "slave_priority:{priority}\r\nslave_read_only:{}\r\nreplica_announced:{}\r\n",
        read_only as u8, announced as u8
    );
}

/// The link task, on shard 0's executor for the server's whole life: follows the configured
/// master, reconnecting with backoff.
pub async fn supervise(local: Rc<Local>) {
    let server = local.server.clone();
    let st = &server.replica;
    let mut backoff = MIN_BACKOFF;
    loop {
        if server.is_shutting_down() {
            return;
        }
        let (generation, target) = {
            let g = st.lock();
            (g.generation, g.target.clone())
        };
        let Some((host, port)) = target else {
            st.changed(&server, generation).await;
            continue;
        };
        let streamed = link::run(&local, generation, &host, port).await;
        st.set_link(generation, LinkState::Down);
        if streamed {
            backoff = MIN_BACKOFF;
        }
        if server.is_shutting_down() {
            return;
        }
        if st.generation() != generation {
            continue;
        }
        let wait = std::pin::pin!(glommio::timer::sleep(backoff));
        let change = std::pin::pin!(st.changed(&server, generation));
        futures::future::select(wait, change).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
