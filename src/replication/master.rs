//! The master side of replication: propagation, the backlog, replicas, WAIT.
//!
//! Propagation starts when the first replica connects (until then nothing is recorded: the
//! hot path pays one relaxed load, `propagating()`). From then on:
//! - every shard encodes the writes it executes (`capture`, from `Shard::execute`) into its
//!   `ShardProp`, and appends them to the backlog when the message or batch it runs ends, before
//!   the client gets its reply (`flush_shard`); the backlog is one byte stream with one offset
//!   (backlog.rs), behind a mutex, so every append lands in real-time order: a cross-shard
//!   operation appends while it holds its shards, after their earlier writes and before their
//!   later ones;
//! - a transaction held across shards collects its commands in a `Sink` (each held step attaches
//!   the shard to it) and appends them as one MULTI ... EXEC unit when it releases;
//! - replica connections (handed over by the connection loop after PSYNC/SYNC) each run a task
//!   that copies the backlog from the replica's offset to its socket and reads its ACKs.
//!
//! A full resync takes a point-in-time snapshot of every shard (the coordinator's barrier: each
//! shard flushes its pending writes inside the barrier step, so the backlog offset read while all
//! shards are held is exactly the snapshot's) and streams the RDB to the replica, then the stream
//! from that offset.

use futures::channel::oneshot;
use futures::future::{join_all, select, Either};
use futures::task::AtomicWaker;
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::future::poll_fn;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Poll, Waker};
use std::time::Duration;

use super::backlog::{self, Backlog, Pending};
use super::propagate;
use crate::commands::{self, Command};
use crate::protocol::{parse, Arg, Limits, ParsedCommands};
use crate::runtime::coordinator::CoordMsg;
use crate::runtime::shard::{Local, Shard, ShardMsg, DATABASES};
use crate::runtime::Server;
use crate::server::client::ClientInfo;
use crate::server::log;
use crate::storage::now_ms;

/// Whether shards record their writes (a backlog exists and this server is not a replica).
static PROPAGATE: AtomicBool = AtomicBool::new(false);

/// The server, for shard-side code that has no handle on it (the backlog lives there).
static SERVER: OnceLock<Arc<Server>> = OnceLock::new();

/// A replica further behind than this is disconnected (Redis's client-output-buffer-limit for
/// replicas: 256mb hard).
const REPLICA_HARD_LIMIT: u64 = 256 << 20;

/// Most bytes copied out of the backlog per socket write.
const SEND_CHUNK: usize = 256 * 1024;

#[inline]
pub fn propagating() -> bool {
    PROPAGATE.load(Ordering::Relaxed)
}

/// Called once at start-up, before any shard runs.
pub fn install(server: &Arc<Server>) {
    let _ = SERVER.set(server.clone());
}

fn server() -> Option<&'static Arc<Server>> {
    SERVER.get()
}

/// 40 random hex digits (replication IDs, the EOF mark of a diskless transfer).
pub fn random_hex40() -> String {
    let mut seed = now_ms() ^ (std::process::id() as u64).rotate_left(32);
    let mut extra = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        if f.read_exact(&mut extra).is_ok() {
            seed ^= u64::from_le_bytes(extra);
        }
    }
    seed ^= COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    seed |= 1;
    (0..40)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from_digit((seed % 16) as u32, 16).unwrap_or('0')
        })
        .collect()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

const ZERO_ID: &str = "0000000000000000000000000000000000000000";

// ---------------------------------------------------------------------------------------------
// Master state.

/// A replica's progress (INFO `state=`).
const WAIT_BGSAVE: u8 = 0;
const SEND_BULK: u8 = 1;
const ONLINE: u8 = 2;

/// One connected replica, shared between its connection task and the backlog.
pub struct Slot {
    pub id: u64,
    pub ip: String,
    pub port: i64,
    state: AtomicU8,
    /// Offset of the last stream byte handed to its socket.
    sent: AtomicU64,
    /// Offset it acknowledged (REPLCONF ACK), and when (ms).
    ack: AtomicU64,
    ack_ms: AtomicU64,
    acked: AtomicBool,
    kill: AtomicBool,
    waker: AtomicWaker,
}

impl Slot {
    fn new(id: u64, ip: String, port: i64) -> Slot {
        Slot {
            id,
            ip,
            port,
            state: AtomicU8::new(WAIT_BGSAVE),
            sent: AtomicU64::new(0),
            ack: AtomicU64::new(0),
            ack_ms: AtomicU64::new(now_ms()),
            acked: AtomicBool::new(false),
            kill: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }
    }

    fn kill(&self) {
        self.kill.store(true, Ordering::Relaxed);
        self.waker.wake();
    }

    fn online(&self) -> bool {
        self.state.load(Ordering::Relaxed) == ONLINE
    }
}

struct Inner {
    replid: String,
    replid2: String,
    /// Offset up to which replid2 is valid (+1), or -1.
    second_offset: i64,
    backlog: Option<Backlog>,
    replicas: Vec<Arc<Slot>>,
    backlog_size: u64,
    /// The stream offset right after the last GETACK we sent (a second WAIT before anything
    /// else was written does not send another).
    getack_end: u64,
}

/// Master-side state, shared by all shards (`Server::master`).
pub struct MasterState {
    inner: Mutex<Inner>,
    /// master_repl_offset, readable without the lock.
    offset: AtomicU64,
    /// WAIT callers waiting for ACKs.
    waiters: Mutex<Vec<Waker>>,
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
    pub net_output: AtomicU64,
}

impl Default for MasterState {
    fn default() -> Self {
        MasterState {
            inner: Mutex::new(Inner {
                replid: random_hex40(),
                replid2: ZERO_ID.to_string(),
                second_offset: -1,
                backlog: None,
                replicas: Vec::new(),
                backlog_size: 1 << 20,
                getack_end: 0,
            }),
            offset: AtomicU64::new(0),
            waiters: Mutex::new(Vec::new()),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
            net_output: AtomicU64::new(0),
        }
    }
}

impl MasterState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// master_replid.
    pub fn replid(&self) -> String {
        self.lock().replid.clone()
    }

    /// master_repl_offset.
    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::Acquire)
    }

    /// Replicas connected, in any state (connected_slaves).
    pub fn replica_count(&self) -> usize {
        self.lock().replicas.len()
    }

    /// Bytes appended: the offset moves, replicas are woken, old bytes are trimmed.
    fn after_append(&self, g: &mut Inner) {
        let Some(b) = g.backlog.as_mut() else {
            return;
        };
        let offset = b.offset;
        self.offset.store(offset, Ordering::Release);
        let mut keep = g.backlog_size.max(1);
        for r in &g.replicas {
            let behind = offset.saturating_sub(r.sent.load(Ordering::Relaxed));
            if behind > REPLICA_HARD_LIMIT + g.backlog_size {
                if !r.kill.load(Ordering::Relaxed) {
                    log::warning(&format!(
                        "Client id={} addr={} is a replica more than {} bytes behind: closing it (client-output-buffer-limit)",
                        r.id, r.ip, REPLICA_HARD_LIMIT
                    ));
                    r.kill();
                }
                continue;
            }
            keep = keep.max(behind);
            if behind > 0 {
                r.waker.wake();
            }
        }
        b.trim(keep);
    }

    fn append_pending(&self, p: &Pending, upto: usize) {
        let mut g = self.lock();
        if let Some(b) = g.backlog.as_mut() {
            b.append(p, upto);
            self.after_append(&mut g);
        }
    }

    /// Appends bytes that belong to no database (PING), as Redis's replicationFeedSlaves(-1).
    fn append_raw(&self, bytes: &[u8]) {
        let mut g = self.lock();
        if let Some(b) = g.backlog.as_mut() {
            b.put(bytes);
            self.after_append(&mut g);
        }
    }

    /// Appends a unit of commands, wrapped in MULTI/EXEC when there are several.
    fn append_unit(&self, mut p: Pending) {
        if p.is_empty() {
            return;
        }
        p.close_from(0);
        let n = p.marks.len();
        self.append_pending(&p, n);
    }

    fn wake_waiters(&self) {
        let ws = std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|e| e.into_inner()));
        for w in ws {
            w.wake();
        }
    }

    /// Online replicas whose acknowledged offset reaches `offset`.
    fn count_acked(&self, offset: u64) -> i64 {
        self.lock()
            .replicas
            .iter()
            .filter(|r| r.online() && r.ack.load(Ordering::Relaxed) >= offset)
            .count() as i64
    }

    /// Creates the backlog for the first replica: a new history starts (new ID, no ID2), as
    /// Redis does when it has no past history to offer.
    fn ensure_backlog(&self, g: &mut Inner, is_replica: bool) {
        if g.backlog.is_some() {
            return;
        }
        if !is_replica {
            g.replid = random_hex40();
            g.replid2 = ZERO_ID.to_string();
            g.second_offset = -1;
        }
        let offset = self.offset.load(Ordering::Relaxed);
        g.backlog = Some(Backlog::new(offset));
        log::notice(&format!(
            "Replication backlog created, my new replication IDs are '{}' and '{}'",
            g.replid, g.replid2
        ));
        if !is_replica {
            PROPAGATE.store(true, Ordering::Relaxed);
        }
    }

    fn remove(&self, slot: &Arc<Slot>) {
        self.lock().replicas.retain(|r| !Arc::ptr_eq(r, slot));
        self.wake_waiters();
    }

    /// Re-reads repl-backlog-size (CONFIG SET).
    pub fn refresh_config(&self, backlog_size: u64) {
        let mut g = self.lock();
        if g.backlog_size != backlog_size {
            g.backlog_size = backlog_size.max(16 * 1024);
            self.after_append(&mut g);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shard side.

/// A shard's writes not yet in the backlog.
#[derive(Default)]
pub struct ShardProp {
    pending: Pending,
    /// Inside a unit (a transaction): commands are not closed one by one.
    depth: u32,
    unit_start: usize,
    /// While held by a transaction spanning shards: where this shard's commands go.
    sink: Option<Arc<Sink>>,
}

impl ShardProp {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// A transaction starts: its commands are one unit (MULTI ... EXEC if more than one).
    pub fn begin_unit(&mut self) {
        if self.depth == 0 {
            self.unit_start = self.pending.marks.len();
        }
        self.depth += 1;
    }

    /// The next commands are number `i` of a transaction whose shards run their parts at once.
    pub fn set_order(&mut self, i: usize) {
        self.pending.order = i.min(u32::MAX as usize - 1) as u32;
    }

    pub fn clear_order(&mut self) {
        self.pending.order = backlog::NO_ORDER;
    }

    pub fn end_unit(&mut self) {
        if self.depth == 0 {
            return;
        }
        self.depth -= 1;
        if self.depth == 0 && self.sink.is_none() {
            let start = self.unit_start.min(self.pending.marks.len());
            self.pending.close_from(start);
        }
    }
}

/// The commands of a transaction held across shards, in the order they ran.
#[derive(Default)]
pub struct Sink(Mutex<Pending>);

impl Sink {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A sink for a transaction about to hold shards, if propagating.
pub fn new_sink() -> Option<Arc<Sink>> {
    propagating().then(|| Arc::new(Sink::default()))
}

/// A held step starts on `sh`: its earlier writes go to the backlog, the step's to the sink.
pub fn attach(sh: &mut Shard, sink: &Arc<Sink>) {
    flush_shard(sh);
    sh.prop.sink = Some(sink.clone());
    sh.prop.begin_unit();
}

/// The held step is over: what it wrote joins the sink.
pub fn detach(sh: &mut Shard) {
    if let Some(s) = sh.prop.sink.take() {
        s.lock().take_ops_from(&mut sh.prop.pending);
    }
    sh.prop.depth = sh.prop.depth.saturating_sub(1);
}

/// The transaction releases its shards: its commands go to the backlog as one unit.
pub fn finish_sink(sink: &Arc<Sink>) {
    let mut p = std::mem::take(&mut *sink.lock());
    p.sort_by_order();
    if let Some(s) = server() {
        if !s.replica.is_replica() {
            s.master.append_unit(p);
        }
    }
}

/// A command run outside any shard's execute (FLUSHALL, FLUSHDB, SWAPDB: global operations;
/// a cross-shard command's scratch run): into the sink when a transaction holds, else straight
/// to the backlog. Called while the shards concerned are held.
pub fn propagate_command(sink: Option<&Arc<Sink>>, db: usize, argv: &[&[u8]]) {
    if !propagating() {
        return;
    }
    let mut p = Pending::default();
    p.op(db, argv);
    propagate_pending(sink, p);
}

/// A scratch shard's recorded commands (cross-shard commands), as `propagate_command`.
pub fn propagate_scratch(sink: Option<&Arc<Sink>>, scratch: &mut Shard) {
    if scratch.prop.is_empty() {
        return;
    }
    let p = std::mem::take(&mut scratch.prop.pending);
    propagate_pending(sink, p);
}

fn propagate_pending(sink: Option<&Arc<Sink>>, mut p: Pending) {
    match sink {
        Some(s) => s.lock().take_ops_from(&mut p),
        None => {
            if let Some(s) = server() {
                if !s.replica.is_replica() {
                    s.master.append_unit(p);
                }
            }
        }
    }
}

/// Before a write runs (while propagating): what its propagation needs from the state before.
#[inline]
pub fn before(
    sh: &Shard,
    db: usize,
    now: u64,
    cmd: usize,
    args: &[&[u8]],
) -> Option<Box<propagate::Before>> {
    let c = &commands::table()[cmd];
    if c.flags & commands::flags::WRITE == 0 || !c.name.starts_with('x') {
        return None;
    }
    propagate::before(&sh.dbs, db, now, c.name, args)
}

/// After a command ran (while propagating): records the deletions of keys it found expired and
/// the command itself if it changed the dataset, as Redis 7.0 propagates them (one unit).
#[allow(clippy::too_many_arguments)]
pub fn capture(
    sh: &mut Shard,
    db: usize,
    now: u64,
    cmd: usize,
    args: &[&[u8]],
    dirty_before: u64,
    expired_before: u64,
    before: Option<Box<propagate::Before>>,
) {
    let start = sh.prop.pending.marks.len();
    if sh.stats.expired_keys != expired_before {
        take_expired(sh);
    }
    if sh.dirty != dirty_before {
        let c: &Command = &commands::table()[cmd];
        if commands::server::writes(c, args) {
            propagate::command(&mut sh.prop.pending, &sh.dbs, db, now, c.name, args, before);
        }
    }
    if sh.prop.depth == 0 {
        sh.prop.pending.close_from(start);
    }
}

/// A blocked XREADGROUP about to be served (outside `Shard::execute`): the command it amounts
/// to and the group's state before, while propagating.
pub fn before_blocked_read(
    sh: &Shard,
    db: usize,
    key: &[u8],
    now: u64,
    wait: &crate::commands::stream_read::WaitFor,
) -> Option<(Vec<Vec<u8>>, Box<propagate::Before>)> {
    if !propagating() {
        return None;
    }
    let crate::commands::stream_read::WaitFor::Group {
        group,
        consumer,
        noack,
    } = wait
    else {
        return None;
    };
    let mut argv: Vec<Vec<u8>> = vec![
        b"XREADGROUP".to_vec(),
        b"GROUP".to_vec(),
        group.clone(),
        consumer.clone(),
    ];
    if *noack {
        argv.push(b"NOACK".to_vec());
    }
    argv.extend([b"STREAMS".to_vec(), key.to_vec(), b">".to_vec()]);
    let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
    let before = propagate::before(&sh.dbs, db, now, "xreadgroup", &refs)?;
    Some((argv, before))
}

/// The blocked read was served: what it delivered goes to replicas as XREADGROUP would.
pub fn after_blocked_read(
    sh: &mut Shard,
    db: usize,
    now: u64,
    read: Option<(Vec<Vec<u8>>, Box<propagate::Before>)>,
) {
    let Some((argv, before)) = read else {
        return;
    };
    let refs: Vec<&[u8]> = argv.iter().map(|a| &a[..]).collect();
    let start = sh.prop.pending.marks.len();
    propagate::command(
        &mut sh.prop.pending,
        &sh.dbs,
        db,
        now,
        "xreadgroup",
        &refs,
        Some(before),
    );
    if sh.prop.depth == 0 {
        sh.prop.pending.close_from(start);
    }
}

/// Keys the shard found expired (lazily or in its sweep): each a DEL.
fn take_expired(sh: &mut Shard) {
    for d in 0..DATABASES {
        if !sh.dbs[d].has_expired_log() {
            continue;
        }
        for key in sh.dbs[d].take_expired_log() {
            sh.prop.pending.op(d, &[b"DEL", &key]);
        }
    }
}

/// Active expiry: each expired key becomes its own DEL unit.
pub fn expired_by_cron(sh: &mut Shard) {
    if sh.prop.depth > 0 {
        return;
    }
    take_expired(sh);
}

/// Appends the shard's recorded writes to the backlog (the end of a message, a batch, a
/// connection's pipeline segment): before anyone hears of them.
pub fn flush_shard(sh: &mut Shard) {
    if sh.prop.depth == 0 && propagating() {
        take_expired(sh);
    }
    if sh.prop.pending.is_empty() {
        return;
    }
    if let Some(sink) = sh.prop.sink.clone() {
        sink.lock().take_ops_from(&mut sh.prop.pending);
        return;
    }
    let upto = if sh.prop.depth > 0 {
        sh.prop.unit_start.min(sh.prop.pending.marks.len())
    } else {
        sh.prop.pending.marks.len()
    };
    if upto == 0 {
        return;
    }
    if let Some(s) = server() {
        // A replica's shards apply its master's stream, which is passed on verbatim instead.
        if !s.replica.is_replica() {
            s.master.append_pending(&sh.prop.pending, upto);
        }
    }
    sh.prop.pending.consume(upto);
    sh.prop.unit_start = sh.prop.unit_start.saturating_sub(upto);
}

// ---------------------------------------------------------------------------------------------
// Chained replication and role changes (called by the replica side).

/// Appends bytes of the stream received from our own master to our backlog and passes them on
/// to our replicas (chained replication: a replica proxies its master's stream verbatim).
/// Call it for bytes whose commands were applied (or queued to their shards) already, so that a
/// snapshot taken for a sub-replica agrees with the offset.
pub fn feed_from_master(server: &Server, bytes: &[u8]) {
    let m = &server.master;
    let mut g = m.lock();
    if g.backlog.is_none() {
        let offset = m.offset.load(Ordering::Relaxed);
        g.backlog = Some(Backlog::new(offset));
    }
    if let Some(b) = g.backlog.as_mut() {
        b.put(bytes);
        // What the master selected is unknown to us from here.
        b.db = None;
    }
    m.after_append(&mut g);
}

/// After a full sync from a master: adopt its replication ID and offset, so our own replicas
/// can continue from it (as Redis does), and clear the backlog.
pub fn adopt_master_history(server: &Server, replid: &str, offset: u64) {
    PROPAGATE.store(false, Ordering::Relaxed);
    let m = &server.master;
    let mut g = m.lock();
    g.replid = replid.to_string();
    g.replid2 = ZERO_ID.to_string();
    g.second_offset = -1;
    g.backlog = Some(Backlog::new(offset));
    m.offset.store(offset, Ordering::Release);
    // Our replicas hold a dataset that is gone: they must resync with us.
    for r in &g.replicas {
        r.kill();
    }
}

/// REPLICAOF NO ONE: the old ID becomes master_replid2 (valid up to the current offset,
/// second_repl_offset), and a new ID starts.
pub fn shift_replid(server: &Server) {
    let m = &server.master;
    let mut g = m.lock();
    let offset = m.offset.load(Ordering::Relaxed);
    g.replid2 = std::mem::replace(&mut g.replid, random_hex40());
    g.second_offset = offset as i64 + 1;
    if let Some(b) = g.backlog.as_mut() {
        b.db = None;
    }
    log::notice(&format!(
        "Setting secondary replication ID to {}, valid up to offset: {}. New replication ID is {}",
        g.replid2, g.second_offset, g.replid
    ));
    // Our replicas learn the new ID by reconnecting (a partial resync: ID2 covers them).
    for r in &g.replicas {
        r.kill();
    }
    PROPAGATE.store(g.backlog.is_some(), Ordering::Relaxed);
}

// ---------------------------------------------------------------------------------------------
// Replica connections.

/// What a connection told us about itself before PSYNC (REPLCONF), and the PSYNC it sent.
#[derive(Default, Clone, Debug)]
pub struct ReplicaConn {
    pub listening_port: i64,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub rdb_only: bool,
    pub psync: Option<Psync>,
}

#[derive(Clone, Debug)]
pub enum Psync {
    /// PSYNC replid offset (offset: the first byte the replica wants).
    Psync { replid: String, offset: i64 },
    /// SYNC: a full resync, with no +FULLRESYNC line.
    Sync,
}

/// What the coordinator hands a full resync: the snapshot's point and its RDB bytes.
pub struct SnapshotStart {
    pub replid: String,
    pub offset: u64,
    pub chunks: futures::channel::mpsc::Receiver<Result<Vec<u8>, String>>,
    pub cancel: Arc<AtomicBool>,
}

/// Called by the coordinator while every shard is held for a replica's snapshot (every shard
/// has flushed its writes): the snapshot's offset; the replica's stream starts there.
pub fn snapshot_point(server: &Server, slot: &Arc<Slot>) -> (String, u64) {
    let m = &server.master;
    let mut g = m.lock();
    let offset = g.backlog.as_ref().map_or(0, |b| b.offset);
    slot.sent.store(offset, Ordering::Relaxed);
    slot.state.store(SEND_BULK, Ordering::Relaxed);
    if let Some(b) = g.backlog.as_mut() {
        // The new replica's stream must select its database first (Redis's slaveseldb = -1).
        b.db = None;
    }
    (g.replid.clone(), offset)
}

/// The IP part of a peer address ("1.2.3.4:5678", "[::1]:5678").
fn peer_ip(addr: &str) -> String {
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// Resolves once the connection is killed (CLIENT KILL, shutdown).
fn killed(info: &Rc<RefCell<ClientInfo>>) -> impl std::future::Future<Output = ()> + '_ {
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

/// Serves a connection that sent PSYNC or SYNC, until the link ends. The connection loop has
/// written every reply before it.
pub async fn serve_replica(
    local: Rc<Local>,
    stream: &mut glommio::net::TcpStream,
    info: Rc<RefCell<ClientInfo>>,
    conn: Box<ReplicaConn>,
) {
    let server = local.server.clone();
    let Some(req) = conn.psync.clone() else {
        return;
    };
    let (id, addr) = {
        let i = info.borrow();
        (i.id, i.addr.clone())
    };
    let ip = conn.ip.clone().unwrap_or_else(|| peer_ip(&addr));
    let slot = Arc::new(Slot::new(id, ip, conn.listening_port));
    // Replicas are not clients in INFO's connected_clients.
    server
        .connected_clients
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    {
        let s = session(&server, stream, &slot, &conn, req);
        let k = killed(&info);
        let _ = select(pin!(s), pin!(k)).await;
    }
    server.master.remove(&slot);
    log::notice(&format!(
        "Connection with replica {}:{} lost.",
        slot.ip, slot.port
    ));
    server
        .connected_clients
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Decides between partial and full resync (registering the replica), as Redis's
/// masterTryPartialResynchronization: the line to send for a partial one.
fn try_partial(server: &Server, req: &Psync, slot: &Arc<Slot>, psync2: bool) -> Option<String> {
    let Psync::Psync { replid, offset } = req else {
        return None;
    };
    let m = &server.master;
    let mut g = m.lock();
    let id_ok = replid.eq_ignore_ascii_case(&g.replid)
        || (replid.eq_ignore_ascii_case(&g.replid2) && *offset <= g.second_offset);
    let in_range = g
        .backlog
        .as_ref()
        .is_some_and(|b| *offset >= b.first as i64 && *offset <= b.offset as i64 + 1);
    if !id_ok || !in_range {
        if replid != "?" {
            m.sync_partial_err.fetch_add(1, Ordering::Relaxed);
            if !id_ok {
                log::notice(&format!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                    g.replid, g.replid2
                ));
            } else {
                log::notice(&format!(
                    "Unable to partial resync with replica {}:{} for lack of backlog (Replica request was: {offset}).",
                    slot.ip, slot.port
                ));
            }
        } else {
            log::notice(&format!(
                "Full resync requested by replica {}:{}",
                slot.ip, slot.port
            ));
        }
        return None;
    }
    slot.sent
        .store((*offset - 1).max(0) as u64, Ordering::Relaxed);
    slot.state.store(ONLINE, Ordering::Relaxed);
    slot.acked.store(true, Ordering::Relaxed);
    g.replicas.push(slot.clone());
    m.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
    let backlog_bytes = g
        .backlog
        .as_ref()
        .map_or(0, |b| b.offset + 1 - *offset as u64);
    log::notice(&format!(
        "Partial resynchronization request from {}:{} accepted. Sending {backlog_bytes} bytes of backlog starting from offset {offset}.",
        slot.ip, slot.port
    ));
    Some(if psync2 {
        format!("+CONTINUE {}\r\n", g.replid)
    } else {
        "+CONTINUE\r\n".to_string()
    })
}

async fn session(
    server: &Arc<Server>,
    stream: &mut glommio::net::TcpStream,
    slot: &Arc<Slot>,
    conn: &ReplicaConn,
    req: Psync,
) {
    let m = &server.master;
    let is_replica = server.replica.is_replica();
    let mut wait_first_ack = false;
    if let Some(line) = try_partial(server, &req, slot, conn.capa_psync2) {
        if stream.write_all(line.as_bytes()).await.is_err() {
            return;
        }
    } else {
        m.sync_full.fetch_add(1, Ordering::Relaxed);
        {
            let mut g = m.lock();
            m.ensure_backlog(&mut g, is_replica);
            // Until its snapshot's offset is known, it pins the backlog from here.
            let offset = g.backlog.as_ref().map_or(0, |b| b.offset);
            slot.sent.store(offset, Ordering::Relaxed);
            g.replicas.push(slot.clone());
        }
        log::notice(&format!(
            "Replica {}:{} asks for synchronization",
            slot.ip, slot.port
        ));
        let (tx, rx) = oneshot::channel();
        let msg = CoordMsg::ReplSnapshot {
            slot: slot.clone(),
            reply: tx,
        };
        if server.coordinator.send(msg).is_err() {
            return;
        }
        let Ok(Some(mut snap)) = rx.await else {
            return;
        };
        // Dropped before the transfer ends (the replica went away): the writer thread stops.
        struct Cancel(Arc<AtomicBool>);
        impl Drop for Cancel {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _cancel = Cancel(snap.cancel.clone());
        log::notice(&format!(
            "Starting BGSAVE for SYNC with target: {}",
            if conn.capa_eof {
                "replicas sockets"
            } else {
                "disk"
            }
        ));
        if matches!(req, Psync::Psync { .. }) {
            let line = format!("+FULLRESYNC {} {}\r\n", snap.replid, snap.offset);
            if stream.write_all(line.as_bytes()).await.is_err() {
                return;
            }
        }
        let mut sent = 0u64;
        if conn.capa_eof {
            let mark = random_hex40();
            let head = format!("$EOF:{mark}\r\n");
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            while let Some(chunk) = snap.chunks.next().await {
                let Ok(chunk) = chunk else { return };
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len() as u64;
            }
            if stream.write_all(mark.as_bytes()).await.is_err() {
                return;
            }
            // The replica reads the payload in blocks and looks for the mark at the end of
            // what it read: the stream waits for its first ACK (after it loaded the payload),
            // as Redis's repl_start_cmd_stream_on_ack.
            wait_first_ack = true;
        } else {
            let mut rdb = Vec::new();
            while let Some(chunk) = snap.chunks.next().await {
                let Ok(chunk) = chunk else { return };
                rdb.extend_from_slice(&chunk);
            }
            let head = format!("${}\r\n", rdb.len());
            if stream.write_all(head.as_bytes()).await.is_err()
                || stream.write_all(&rdb).await.is_err()
            {
                return;
            }
            sent = rdb.len() as u64;
        }
        m.net_output.fetch_add(sent, Ordering::Relaxed);
        log::notice(&format!(
            "Synchronization with replica {}:{} succeeded ({sent} bytes of RDB)",
            slot.ip, slot.port
        ));
        if conn.rdb_only {
            return;
        }
        slot.ack_ms.store(now_ms(), Ordering::Relaxed);
        slot.state.store(ONLINE, Ordering::Relaxed);
    }
    let (rd, wr) = stream.split();
    let reader = read_acks(rd, slot, m);
    let writer = write_stream(wr, slot, m, wait_first_ack);
    let _ = select(pin!(reader), pin!(writer)).await;
}

/// Reads what the replica sends: REPLCONF ACK <offset> (the rest is ignored).
async fn read_acks<R: futures::AsyncRead + Unpin>(mut rd: R, slot: &Slot, m: &MasterState) {
    let mut buf = vec![0u8; 4096];
    let (mut start, mut end) = (0usize, 0usize);
    let mut parsed = ParsedCommands::default();
    let limits = Limits::default();
    loop {
        if end == buf.len() {
            if start > 0 {
                buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            } else if buf.len() < 1 << 20 {
                buf.resize(buf.len() * 2, 0);
            } else {
                return;
            }
        }
        let n = match rd.read(&mut buf[end..]).await {
            Ok(n) if n > 0 => n,
            _ => return,
        };
        end += n;
        parsed.clear();
        let (consumed, err) = parse(&buf[start..end], &limits, &mut parsed);
        for r in &parsed.commands {
            let argv: Vec<&[u8]> = parsed.args[r.clone()]
                .iter()
                .map(|a| match a {
                    Arg::Buf(x) => &buf[start + x.start..start + x.end],
                    Arg::Scratch(x) => &parsed.scratch[x.clone()],
                })
                .collect();
            if argv.len() >= 3
                && argv[0].eq_ignore_ascii_case(b"replconf")
                && argv[1].eq_ignore_ascii_case(b"ack")
            {
                if let Some(off) = crate::util::num::parse_i64(argv[2]) {
                    let off = off.max(0) as u64;
                    slot.ack.fetch_max(off, Ordering::Relaxed);
                    slot.ack_ms.store(now_ms(), Ordering::Relaxed);
                    if !slot.acked.swap(true, Ordering::Relaxed) {
                        slot.waker.wake();
                    }
                    m.wake_waiters();
                }
            }
        }
        if err.is_some() {
            return;
        }
        start += consumed;
        if start == end {
            start = 0;
            end = 0;
        }
    }
}

/// Copies the stream from the replica's offset to its socket as it grows.
async fn write_stream<W: futures::AsyncWrite + Unpin>(
    mut wr: W,
    slot: &Slot,
    m: &MasterState,
    mut wait_ack: bool,
) {
    let mut chunk = Vec::with_capacity(SEND_CHUNK);
    loop {
        let go = poll_fn(|cx| {
            let ready = |wait_ack: bool| {
                if slot.kill.load(Ordering::Relaxed) {
                    return Some(false);
                }
                if wait_ack && !slot.acked.load(Ordering::Relaxed) {
                    return None;
                }
                (m.offset() > slot.sent.load(Ordering::Relaxed)).then_some(true)
            };
            if let Some(r) = ready(wait_ack) {
                return Poll::Ready(r);
            }
            slot.waker.register(cx.waker());
            match ready(wait_ack) {
                Some(r) => Poll::Ready(r),
                None => Poll::Pending,
            }
        })
        .await;
        if !go {
            return;
        }
        wait_ack = false;
        chunk.clear();
        {
            let g = m.lock();
            let from = slot.sent.load(Ordering::Relaxed) + 1;
            let ok = g
                .backlog
                .as_ref()
                .and_then(|b| b.read_from(from, SEND_CHUNK, &mut chunk));
            if ok.is_none() {
                log::warning(&format!(
                    "Replica {}:{} fell out of the backlog: closing its link",
                    slot.ip, slot.port
                ));
                return;
            }
        }
        if chunk.is_empty() {
            continue;
        }
        if wr.write_all(&chunk).await.is_err() {
            return;
        }
        slot.sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        m.net_output
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Periodic work, WAIT.

/// Replication work a connection waits for (`Effect::Repl`).
pub enum ReplEffect {
    /// WAIT numreplicas timeout (ms, 0: forever).
    Wait { numreplicas: i64, timeout_ms: u64 },
}

/// Replicas that acknowledged the whole stream so far (WAIT inside a transaction).
pub fn acked_now(server: &Server) -> i64 {
    let m = &server.master;
    m.count_acked(m.offset())
}

/// Carries out a `ReplEffect` for the connection loop.
pub async fn run_effect(
    ctx: &mut crate::server::conn::ConnCtx,
    e: ReplEffect,
    out: &mut crate::protocol::Out,
) {
    match e {
        ReplEffect::Wait {
            numreplicas,
            timeout_ms,
        } => {
            let local = ctx.local.clone();
            ctx.info.borrow_mut().blocked = true;
            let n = {
                let w = wait(&local, numreplicas, timeout_ms);
                let k = killed(&ctx.info);
                match select(pin!(w), pin!(k)).await {
                    Either::Left((n, _)) => Some(n),
                    Either::Right(_) => None,
                }
            };
            ctx.info.borrow_mut().blocked = false;
            if let Some(n) = n {
                out.int(n);
            }
        }
    }
}

/// The master's cron, on shard 0's executor: PING every repl-ping-replica-period seconds while
/// replicas are connected, replicas silent for longer than repl-timeout dropped.
pub async fn cron(server: Arc<Server>) {
    let mut last_ping = std::time::Instant::now();
    loop {
        glommio::timer::sleep(Duration::from_millis(100)).await;
        if server.is_shutting_down() {
            return;
        }
        let (period, timeout) = {
            let c = server.config();
            (
                c.int("repl-ping-replica-period").max(1) as u64,
                c.int("repl-timeout").max(1) as u64,
            )
        };
        let m = &server.master;
        if m.replica_count() == 0 {
            last_ping = std::time::Instant::now();
            continue;
        }
        if last_ping.elapsed() >= Duration::from_secs(period) {
            last_ping = std::time::Instant::now();
            // A replica passes its master's stream on and adds nothing of its own.
            if !server.replica.is_replica() {
                m.append_raw(backlog::PING);
            }
        }
        let now = now_ms();
        for r in m.lock().replicas.iter() {
            if r.online() && now.saturating_sub(r.ack_ms.load(Ordering::Relaxed)) > timeout * 1000 {
                log::warning(&format!(
                    "Disconnecting timedout replica (streaming sync): {}:{}",
                    r.ip, r.port
                ));
                r.kill();
            }
        }
    }
}

/// WAIT numreplicas timeout: the number of replicas that acknowledged every write this
/// connection made (the stream up to now: every shard first appends what it ran, so writes the
/// client made on other shards count), waiting up to `timeout_ms` (0: forever) for
/// `numreplicas` of them, with REPLCONF GETACK sent to hurry them.
pub async fn wait(local: &Rc<Local>, numreplicas: i64, timeout_ms: u64) -> i64 {
    let server = local.server.clone();
    let m = &server.master;
    let drains: Vec<_> = (0..server.nshards)
        .map(|s| {
            let (tx, rx) = oneshot::channel::<()>();
            let f = move |sh: &mut Shard| {
                flush_shard(sh);
                let _ = tx.send(());
            };
            let sent = server.mailboxes[s].send(ShardMsg::Run(Box::new(f)));
            async move {
                if sent.is_ok() {
                    let _ = rx.await;
                }
            }
        })
        .collect();
    join_all(drains).await;
    let target = m.offset();
    let count = m.count_acked(target);
    if count >= numreplicas {
        return count;
    }
    {
        let mut guard = m.lock();
        let g: &mut Inner = &mut guard;
        let offset = g.backlog.as_ref().map(|b| b.offset);
        if let Some(offset) = offset {
            if g.getack_end != offset && !g.replicas.is_empty() {
                if let Some(b) = g.backlog.as_mut() {
                    b.put(backlog::GETACK);
                    g.getack_end = b.offset;
                }
                m.after_append(g);
            }
        }
    }
    let deadline =
        (timeout_ms > 0).then(|| std::time::Instant::now() + Duration::from_millis(timeout_ms));
    let acked = poll_fn(|cx| {
        let n = m.count_acked(target);
        if n >= numreplicas {
            return Poll::Ready(n);
        }
        m.waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(cx.waker().clone());
        let n = m.count_acked(target);
        if n >= numreplicas {
            Poll::Ready(n)
        } else {
            Poll::Pending
        }
    });
    match deadline {
        None => acked.await,
        Some(d) => {
            let left = d.saturating_duration_since(std::time::Instant::now());
            let timer = glommio::timer::sleep(left);
            match select(pin!(acked), pin!(timer)).await {
                Either::Left((n, _)) => n,
                Either::Right(_) => m.count_acked(target),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// INFO, ROLE.

/// INFO replication, after the role line and a replica's fields (replica::info_fields).
pub fn info(server: &Server, out: &mut String) {
    crate::replication::replica::info_fields(server, out);
    let m = &server.master;
    let g = m.lock();
    let now = now_ms();
    let _ = write!(out, "connected_slaves:{}\r\n", g.replicas.len());
    for (i, r) in g.replicas.iter().enumerate() {
        let state = match r.state.load(Ordering::Relaxed) {
            WAIT_BGSAVE => "wait_bgsave",
            SEND_BULK => "send_bulk",
            _ => "online",
        };
        let lag = now.saturating_sub(r.ack_ms.load(Ordering::Relaxed)) / 1000;
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state={state},offset={},lag={lag}\r\n",
            r.ip,
            r.port,
            r.ack.load(Ordering::Relaxed)
        );
    }
    let offset = m.offset();
    let (first, histlen) = g
        .backlog
        .as_ref()
        .map_or((0, 0), |b| (b.first, b.histlen()));
    let _ = write!(
        out,
        "master_failover_state:no-failover\r\nmaster_replid:{}\r\nmaster_replid2:{}\r\n\
         master_repl_offset:{offset}\r\nsecond_repl_offset:{}\r\nrepl_backlog_active:{}\r\n\
         repl_backlog_size:{}\r\nrepl_backlog_first_byte_offset:{first}\r\n\
         repl_backlog_histlen:{histlen}\r\n",
        g.replid,
        g.replid2,
        g.second_offset,
        g.backlog.is_some() as u8,
        g.backlog_size,
    );
}

/// ROLE on a master: its offset and its online replicas (ip, port, acknowledged offset).
pub fn role_master(server: &Server) -> (u64, Vec<(String, i64, u64)>) {
    let m = &server.master;
    let g = m.lock();
    let list = g
        .replicas
        .iter()
        .filter(|r| r.online())
        .map(|r| (r.ip.clone(), r.port, r.ack.load(Ordering::Relaxed)))
        .collect();
    (m.offset(), list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Out, Proto};

    fn exec(sh: &mut Shard, now: u64, args: &[&str]) {
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        let (idx, _) = commands::lookup(argv[0]).unwrap();
        sh.execute(0, now, idx, &argv, &mut Out::new(Proto::Resp2));
    }

    fn taken(sh: &mut Shard) -> String {
        let mut b = Backlog::new(0);
        b.db = Some(0);
        let n = sh.prop.pending.marks.len();
        b.append(&sh.prop.pending, n);
        sh.prop.pending.clear();
        let mut out = Vec::new();
        b.read_from(1, usize::MAX, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What Redis 7.0 sends for writes meeting expired keys, and for a transaction: the DELs
    /// first, the unit wrapped in MULTI/EXEC when it holds more than one command.
    #[test]
    fn expired_keys_and_transactions_as_redis_propagates_them() {
        // Global, but harmless to other tests: their shards only record.
        PROPAGATE.store(true, Ordering::Relaxed);
        let mut sh = Shard::new(0, 1);
        exec(&mut sh, 1_000, &["set", "k", "v", "PX", "100"]);
        assert_eq!(
            taken(&mut sh),
            "*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$4\r\n1100\r\n"
        );
        exec(&mut sh, 1_000, &["set", "j", "1", "PX", "100"]);
        exec(&mut sh, 1_000, &["set", "g", "1", "PX", "100"]);
        taken(&mut sh);
        // A write on an expired key: MULTI, DEL, the write, EXEC.
        exec(&mut sh, 2_000, &["incr", "k"]);
        assert_eq!(
            taken(&mut sh),
            "*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n*2\r\n$4\r\nincr\r\n$1\r\nk\r\n\
             *1\r\n$4\r\nEXEC\r\n"
        );
        // A read: the DEL alone. A DEL of expired keys: their DELs only.
        exec(&mut sh, 2_000, &["get", "g"]);
        assert_eq!(taken(&mut sh), "*2\r\n$3\r\nDEL\r\n$1\r\ng\r\n");
        exec(&mut sh, 2_000, &["del", "j", "nosuch"]);
        assert_eq!(taken(&mut sh), "*2\r\n$3\r\nDEL\r\n$1\r\nj\r\n");
        // A transaction: one unit; a failed or read-only command adds nothing.
        sh.prop.begin_unit();
        exec(&mut sh, 2_000, &["set", "a", "1"]);
        exec(&mut sh, 2_000, &["get", "a"]);
        exec(&mut sh, 2_000, &["incr", "a"]);
        exec(&mut sh, 2_000, &["incrbyfloat", "a", "x"]);
        sh.prop.end_unit();
        assert_eq!(
            taken(&mut sh),
            "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n\
             *2\r\n$4\r\nincr\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n"
        );
        sh.prop.begin_unit();
        exec(&mut sh, 2_000, &["set", "a", "1"]);
        sh.prop.end_unit();
        assert_eq!(taken(&mut sh), "*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n");
    }

    #[test]
    fn peer_ips() {
        assert_eq!(peer_ip("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(peer_ip("[::1]:5000"), "::1");
        assert_eq!(random_hex40().len(), 40);
        assert_ne!(random_hex40(), random_hex40());
    }
}
