//! One shard: its keyspace, its stats, its mailbox task and its hold gate.
//!
//! All of a shard's state lives on its executor thread. Connection tasks of that executor run
//! commands on local keys inline; other shards reach it only through its mailbox.

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::commands::{self, Ctx, Run};
use crate::protocol::{Out, Proto};
use crate::runtime::mailbox::MailboxReceiver;
use crate::runtime::Server;
use crate::server::client::ClientInfo;
use crate::storage::{entry::LRU_MASK, now_ms, Db, Entry};
use crate::util::clock;

pub const DATABASES: usize = 16;

/// `Shard::quiet` bits.
pub const QUIET_WATCH: u8 = 1;
pub const QUIET_READY: u8 = 2;

/// Work run on a held shard by the coordinator.
pub type Step = Box<dyn FnOnce(&mut Shard) + Send>;

pub enum ShardMsg {
    /// A pipeline segment's commands of one connection for this shard.
    Batch(Batch),
    /// Stop all other work on this shard and run only `steps` until the sender is dropped.
    Hold {
        steps: mpsc::UnboundedReceiver<Step>,
    },
    /// Run one closure as a single message (WATCH registrations, a single-shard EXEC).
    Run(Step),
}

/// Commands forwarded from another shard's connection. Arguments are copied into one buffer
/// (the connection's read buffer cannot cross threads); the replies come back already encoded,
/// with the end offset of each command's reply.
pub struct Batch {
    pub db: usize,
    pub proto: Proto,
    pub now: u64,
    pub cmds: Forwarded,
    pub reply: oneshot::Sender<(Vec<u8>, Vec<usize>)>,
}

/// Commands copied for another shard: three flat vectors per batch, no allocation per command.
#[derive(Default)]
pub struct Forwarded {
    data: Vec<u8>,
    /// Byte ranges of `data`, one per argument.
    args: Vec<Range<usize>>,
    /// (command index, range of `args` holding its arguments)
    cmds: Vec<(usize, Range<usize>)>,
}

impl Forwarded {
    pub fn push(&mut self, cmd: usize, argv: &[&[u8]]) {
        let first = self.args.len();
        for a in argv {
            let at = self.data.len();
            self.data.extend_from_slice(a);
            self.args.push(at..self.data.len());
        }
        self.cmds.push((cmd, first..self.args.len()));
    }

    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }
}

#[derive(Default, Clone, Debug)]
pub struct ShardStats {
    pub expired_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub total_commands: u64,
    pub total_connections: u64,
    pub rejected_connections: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub total_error_replies: u64,
    pub unexpected_error_replies: u64,
    pub expire_cycle_cpu_ms: u64,
}

/// Rolling per-second rates, as Redis's instantaneous_* metrics: the mean of the last 16 samples,
/// one per cron tick.
#[derive(Default, Clone, Debug)]
pub struct Rates {
    /// (commands, input bytes, output bytes) per second, per sample.
    samples: [(u64, u64, u64); 16],
    next: usize,
    last: Option<(std::time::Instant, u64, u64, u64)>,
}

impl Rates {
    fn sample(&mut self, stats: &ShardStats) {
        let now = std::time::Instant::now();
        let cur = (
            stats.total_commands,
            stats.net_input_bytes,
            stats.net_output_bytes,
        );
        if let Some((t, c, i, o)) = self.last {
            let ms = now.duration_since(t).as_millis().max(1) as u64;
            let per_sec = |a: u64, b: u64| a.saturating_sub(b) * 1000 / ms;
            self.samples[self.next] = (per_sec(cur.0, c), per_sec(cur.1, i), per_sec(cur.2, o));
            self.next = (self.next + 1) % self.samples.len();
        }
        self.last = Some((now, cur.0, cur.1, cur.2));
    }

    /// (ops/s, input bytes/s, output bytes/s).
    pub fn current(&self) -> (u64, u64, u64) {
        let n = self.samples.len() as u64;
        let sum = self
            .samples
            .iter()
            .fold((0, 0, 0), |a, s| (a.0 + s.0, a.1 + s.1, a.2 + s.2));
        (sum.0 / n, sum.1 / n, sum.2 / n)
    }
}

#[derive(Default, Clone, Copy, Debug)]
pub struct CmdStat {
    pub calls: u64,
    /// Time spent, in ns (INFO shows microseconds; per-call sums in µs would round GETs to 0).
    pub nanos: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

pub struct Shard {
    pub index: usize,
    pub nshards: usize,
    pub dbs: Vec<Db>,
    pub stats: ShardStats,
    /// Per command (index into the command table).
    pub cmd_stats: Vec<CmdStat>,
    /// Error replies by error code prefix (INFO errorstats).
    pub error_stats: Vec<(String, u64)>,
    /// Writes since the last save (rdb_changes_since_last_save).
    pub dirty: u64,
    /// Seconds clock for entries' LRU field (24 bits, wrapping, as Redis).
    pub lru_clock: u32,
    rng: u64,
    pub rates: Rates,
    /// Keys some connection WATCHes, with their version (see `touch_watched`).
    pub watched: Watched,
    /// Clients blocked on keys of this shard (XREAD BLOCK...).
    pub blocked: crate::runtime::blocked::Blocked,
    /// Set by the running command: its changes do not count for WATCH (`QUIET_WATCH`) or do
    /// not make blocked readers ready (`QUIET_READY`), as Redis signals only some writes.
    pub quiet: u8,
    /// Connections accepted by this shard, for CLIENT LIST / KILL.
    pub clients: Vec<Rc<RefCell<ClientInfo>>>,
    /// Writes executed here and not yet in the replication backlog (src/replication/master.rs).
    pub prop: crate::replication::master::ShardProp,
}

impl Shard {
    pub fn new(index: usize, nshards: usize) -> Shard {
        Shard {
            index,
            nshards,
            dbs: (0..DATABASES).map(|_| Db::default()).collect(),
            stats: ShardStats::default(),
            cmd_stats: vec![CmdStat::default(); commands::table().len()],
            error_stats: Vec::new(),
            dirty: 0,
            lru_clock: lru_clock_now(),
            rng: 0x9E37_79B9_7F4A_7C15 ^ (index as u64 + 1).wrapping_mul(now_ms() | 1),
            rates: Rates::default(),
            watched: Watched::default(),
            blocked: Default::default(),
            quiet: 0,
            clients: Vec::new(),
            prop: Default::default(),
        }
    }

    pub fn rand(&mut self) -> u64 {
        // xorshift64*: fast, good enough for sampling.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Runs one data command on this shard, recording its stats; an error becomes the reply.
    #[inline]
    pub fn execute(&mut self, db: usize, now: u64, cmd: usize, args: &[&[u8]], out: &mut Out) {
        let Run::Data(f, _) = commands::table()[cmd].run else {
            return;
        };
        let start = clock::ticks();
        let dirty = self.dirty;
        let before = if self.watched.is_empty() {
            Vec::new()
        } else {
            self.watched_before(db, now, cmd, args)
        };
        self.quiet = 0;
        // Replication: one relaxed load unless a replica ever connected.
        let repl = crate::replication::master::propagating();
        let (expired, pre) = if repl {
            (
                self.stats.expired_keys,
                crate::replication::master::before(self, db, now, cmd, args),
            )
        } else {
            (0, None)
        };
        let r = f(
            &mut Ctx {
                shard: self,
                db,
                now,
            },
            args,
            out,
        );
        if repl {
            crate::replication::master::capture(self, db, now, cmd, args, dirty, expired, pre);
        }
        if self.dirty != dirty && !self.watched.is_empty() && self.quiet & QUIET_WATCH == 0 {
            self.touch_command_keys(db, now, cmd, args, before);
        }
        if !self.blocked.is_empty() && self.quiet & QUIET_READY == 0 {
            self.signal_command_keys(db, now, cmd, args);
        }
        let nanos = clock::nanos_between(start, clock::ticks());
        self.stats.total_commands += 1;
        let st = &mut self.cmd_stats[cmd];
        st.calls += 1;
        st.nanos += nanos;
        if let Err(e) = r {
            st.failed_calls += 1;
            self.record_error(&e.0);
            out.error(&e.0);
        }
    }

    /// A write command changed something: WATCHers of its keys must see EXEC fail. The keys
    /// come from the command table, so every write command is covered; a multi-key write that
    /// changed only some of its keys touches all of them (Redis touches only the changed ones).
    #[cold]
    fn touch_command_keys(
        &mut self,
        db: usize,
        now: u64,
        cmd: usize,
        args: &[&[u8]],
        before: Vec<(usize, Option<Entry>)>,
    ) {
        let c = &commands::table()[cmd];
        if c.flags & commands::flags::WRITE == 0 {
            return;
        }
        // A multi-key write leaves alone a watched key that was missing and still is (DEL a b
        // with only a present): Redis signals only the keys it wrote. A key present before and
        // after counts as written even when its value is the same (MSET of the same value), as
        // in Redis.
        let untouched: Vec<usize> = before
            .iter()
            .filter(|(i, old)| {
                let d = commands::keyspace::key_db(c, args, *i, db);
                old.is_none()
                    && args
                        .get(*i)
                        .and_then(|k| self.dbs[d].peek(k, now))
                        .is_none()
            })
            .map(|(i, _)| *i)
            .collect();
        let skip = |i: usize| untouched.contains(&i);
        // Keys a write only reads (COPY's and BITOP's sources) do not change.
        let only_dest = matches!(c.name, "copy" | "bitop");
        for i in c.key_positions(args) {
            if (only_dest && i != 2) || skip(i) {
                continue;
            }
            if let Some(k) = args.get(i) {
                let d = commands::keyspace::key_db(c, args, i, db);
                self.watched.touch(d, k);
            }
        }
        // MOVE writes its key in the target db too.
        if c.name == "move" {
            if let (Some(k), Some(to)) = (
                args.get(1),
                args.get(2).and_then(|a| crate::util::num::parse_i64(a)),
            ) {
                if (0..DATABASES as i64).contains(&to) {
                    self.watched.touch(to as usize, k);
                }
            }
        }
    }

    /// For a multi-key write: (key position, entry before) of its watched keys, to tell which of
    /// them the write changed.
    #[cold]
    fn watched_before(
        &self,
        db: usize,
        now: u64,
        cmd: usize,
        args: &[&[u8]],
    ) -> Vec<(usize, Option<Entry>)> {
        let c = &commands::table()[cmd];
        if c.flags & commands::flags::WRITE == 0 || c.key_positions(args).nth(1).is_none() {
            return Vec::new();
        }
        c.key_positions(args)
            .filter_map(|i| {
                let k = args.get(i)?;
                let d = commands::keyspace::key_db(c, args, i, db);
                self.watched.version(d, k)?;
                Some((i, self.dbs[d].peek(k, now).cloned()))
            })
            .collect()
    }

    /// FLUSHDB/FLUSHALL/SWAPDB on `db`: watched keys that exist there change.
    pub fn touch_watched_db(&mut self, db: usize, now: u64) {
        if self.watched.is_empty() {
            return;
        }
        let present: Vec<Vec<u8>> = self
            .watched
            .keys_in(db)
            .filter(|k| self.dbs[db].peek(k, now).is_some())
            .map(|k| k.to_vec())
            .collect();
        for k in present {
            self.watched.touch(db, &k);
        }
    }

    /// Appends the writes recorded for replicas to the backlog (see src/replication/master.rs).
    #[inline]
    pub fn flush_propagation(&mut self) {
        if !self.prop.is_empty() || crate::replication::master::propagating() {
            crate::replication::master::flush_shard(self);
        }
    }

    /// Counts an error reply by its code (the first word), as INFO errorstats does.
    pub fn record_error(&mut self, msg: &str) {
        self.stats.total_error_replies += 1;
        let code = msg.split(' ').next().unwrap_or("ERR");
        if let Some((_, n)) = self.error_stats.iter_mut().find(|(c, _)| c == code) {
            *n += 1;
        } else if self.error_stats.len() < 128 {
            self.error_stats.push((code.to_string(), 1));
        }
    }

    /// A command refused before running (arity, unknown...): counted as rejected.
    pub fn record_rejected(&mut self, cmd: Option<usize>, msg: &str) {
        if let Some(c) = cmd {
            self.cmd_stats[c].rejected_calls += 1;
        }
        self.record_error(msg);
    }
}

/// Watched keys of one shard: (db, key) -> (watchers, version). A version changes whenever the
/// key is written; EXEC compares it with the version seen at WATCH time.
#[derive(Default)]
pub struct Watched {
    map: ahash::AHashMap<(usize, Vec<u8>), (u32, u64)>,
    seq: u64,
}

impl Watched {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Registers one more watcher; returns the key's current version.
    pub fn watch(&mut self, db: usize, key: &[u8]) -> u64 {
        let e = self.map.entry((db, key.to_vec())).or_insert((0, 0));
        e.0 += 1;
        e.1
    }

    pub fn unwatch(&mut self, db: usize, key: &[u8]) {
        let k = (db, key.to_vec());
        if let Some(e) = self.map.get_mut(&k) {
            e.0 -= 1;
            if e.0 == 0 {
                self.map.remove(&k);
            }
        }
    }

    pub fn version(&self, db: usize, key: &[u8]) -> Option<u64> {
        // A lookup by borrowed parts would need a custom key type; watched sets are small.
        self.map.get(&(db, key.to_vec())).map(|e| e.1)
    }

    pub fn touch(&mut self, db: usize, key: &[u8]) {
        if let Some(e) = self.map.get_mut(&(db, key.to_vec())) {
            self.seq += 1;
            e.1 = self.seq;
        }
    }

    fn keys_in(&self, db: usize) -> impl Iterator<Item = &[u8]> {
        self.map
            .keys()
            .filter(move |(d, _)| *d == db)
            .map(|(_, k)| &k[..])
    }
}

pub fn lru_clock_now() -> u32 {
    ((now_ms() / 1000) as u32) & LRU_MASK
}

/// Closed while the coordinator holds this shard: local connections wait before running commands.
#[derive(Default)]
pub struct HoldGate {
    held: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
}

impl HoldGate {
    pub fn is_held(&self) -> bool {
        self.held.get()
    }

    fn close(&self) {
        self.held.set(true);
    }

    /// Reopens the gate; returns whether connections were waiting on it.
    fn open(&self) -> bool {
        self.held.set(false);
        let mut waiters = self.waiters.borrow_mut();
        let any = !waiters.is_empty();
        for w in waiters.drain(..) {
            w.wake();
        }
        any
    }

    /// Resolves at once unless the shard is held.
    #[inline]
    pub async fn wait_open(&self) {
        if !self.held.get() {
            return;
        }
        poll_fn(|cx| {
            if self.held.get() {
                self.waiters.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await
    }
}

/// Returns Pending once (after scheduling itself again), so tasks already woken run first.
async fn yield_once() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// What a shard's executor shares among its tasks.
pub struct Local {
    pub shard: RefCell<Shard>,
    pub gate: HoldGate,
    pub server: Arc<Server>,
}

impl Local {
    pub fn index(&self) -> usize {
        self.shard.borrow().index
    }
}

/// Serves the shard's mailbox until every sender is gone.
pub async fn mailbox_task(local: Rc<Local>, rx: MailboxReceiver<ShardMsg>) {
    while let Some(msg) = rx.recv().await {
        match msg {
            ShardMsg::Batch(b) => {
                local.gate.wait_open().await;
                let mut out = Out::new(b.proto);
                let mut shard = local.shard.borrow_mut();
                let mut argv: Vec<&[u8]> = Vec::with_capacity(8);
                let f = &b.cmds;
                let mut ends = Vec::with_capacity(f.len());
                for (cmd, args) in &f.cmds {
                    argv.clear();
                    argv.extend(f.args[args.clone()].iter().map(|r| &f.data[r.clone()]));
                    shard.execute(b.db, b.now, *cmd, &argv, &mut out);
                    ends.push(out.buf.len());
                }
                drop(argv);
                // Replicas hear of the writes before the client does (WAIT counts them).
                shard.flush_propagation();
                let _ = b.reply.send((out.buf, ends));
            }
            ShardMsg::Run(f) => {
                local.gate.wait_open().await;
                let mut shard = local.shard.borrow_mut();
                f(&mut shard);
                shard.flush_propagation();
            }
            ShardMsg::Hold { mut steps } => {
                local.gate.close();
                // Blocked clients are served once the hold's work is all done (an EXEC's
                // writes are seen whole, as Redis serves them after EXEC).
                let was = {
                    let mut shard = local.shard.borrow_mut();
                    // What ran before the hold goes to replicas before what runs in it.
                    shard.flush_propagation();
                    shard.defer_serving()
                };
                while let Some(step) = steps.next().await {
                    let mut shard = local.shard.borrow_mut();
                    step(&mut shard);
                    shard.flush_propagation();
                }
                local.shard.borrow_mut().resume_serving(was, now_ms());
                if local.gate.open() {
                    // Let the connections that waited run before a queued hold closes the gate
                    // again: under a steady stream of cross-shard work they would starve.
                    yield_once().await;
                }
            }
        }
    }
}

/// The shard's periodic work, `hz` times a second (Redis's serverCron, per shard):
/// - active expiry (Redis's activeExpireCycle, adapted): sweep segments of dbs that hold volatile
///   keys; keep going while more than 10% of what was examined had expired, within a 25 ms
///   budget, so a burst of expiring keys is reclaimed fast and a quiet shard costs ~nothing;
/// - closing clients idle for longer than `timeout` seconds (when set), once a second.
pub async fn cron_task(local: Rc<Local>, stop: Rc<Cell<bool>>) {
    const BUDGET: Duration = Duration::from_millis(25);
    const MIN_EXAMINE: usize = 2000;
    let mut last_client_sweep = Instant::now();
    while !stop.get() {
        let (hz, timeout) = {
            let c = local.server.config();
            (
                c.int("hz").clamp(1, 500) as u64,
                c.int("timeout").max(0) as u64,
            )
        };
        glommio::timer::sleep(Duration::from_millis(1000 / hz)).await;
        if timeout > 0 && last_client_sweep.elapsed() >= Duration::from_secs(1) {
            last_client_sweep = Instant::now();
            close_idle_clients(&local, Duration::from_secs(timeout));
        }
        local.gate.wait_open().await;
        let start = Instant::now();
        let mut shard = local.shard.borrow_mut();
        shard.lru_clock = lru_clock_now();
        if let Some(d) = local.server.persist.shard_dirty.get(shard.index) {
            d.store(shard.dirty, std::sync::atomic::Ordering::Relaxed);
        }
        let stats = shard.stats.clone();
        shard.rates.sample(&stats);
        let now = now_ms();
        let mut expired_total = 0;
        for db in 0..DATABASES {
            let mut examined = 0;
            loop {
                let d = &mut shard.dbs[db];
                if d.volatile_len() == 0 {
                    break;
                }
                let st = d.sweep_step(now);
                examined += st.examined;
                expired_total += st.expired;
                let stale = st.examined > 0 && st.expired * 10 > st.examined;
                if examined >= d.len().min(MIN_EXAMINE) && !stale {
                    break;
                }
                if start.elapsed() > BUDGET || examined >= d.len() * 2 + 16 {
                    break;
                }
            }
        }
        shard.stats.expired_keys += expired_total as u64;
        if crate::replication::master::propagating() || !shard.prop.is_empty() {
            // Keys the sweep expired go to replicas as DELs.
            crate::replication::master::expired_by_cron(&mut shard);
            shard.flush_propagation();
        }
        if expired_total > 0 && !shard.blocked.is_empty() {
            // Keys clients block on may have expired (XREADGROUP readers are then told).
            shard.blocked.signal_all();
            shard.serve_ready(now);
        }
        shard.stats.expire_cycle_cpu_ms += start.elapsed().as_millis() as u64;
    }
}

/// Kills this shard's clients idle for longer than `timeout` (the `timeout` parameter).
fn close_idle_clients(local: &Local, timeout: Duration) {
    let shard = local.shard.borrow();
    for c in &shard.clients {
        let idle = c.borrow().last_interaction.elapsed();
        if idle > timeout {
            c.borrow_mut().kill();
        }
    }
}
