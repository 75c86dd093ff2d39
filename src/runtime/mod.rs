//! Executors, shards, cross-shard messaging and the coordinator.
//!
//! One glommio executor per shard; each binds the port itself (SO_REUSEPORT) so the kernel spreads
//! connections over cores, and each owns its keyspace outright. See docs/architecture.md.

pub mod blocked;
pub mod coordinator;
pub mod mailbox;
pub mod shard;
pub mod slot;
pub mod uring_shim;

use futures::task::AtomicWaker;
use glommio::{LocalExecutorPoolBuilder, PoolPlacement};
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::server::client::ClientInfo;
use crate::server::config::Config;
use crate::server::log;
use coordinator::CoordMsg;
use mailbox::{mailbox, MailboxReceiver, MailboxSender};
use shard::{HoldGate, Local, Shard, ShardMsg};

/// proto-max-bulk-len, readable from data commands without a handle on `Server` (the largest
/// string SETRANGE/APPEND/SETBIT may build). Kept in sync by `Server::refresh_config`.
static PROTO_MAX_BULK_LEN: AtomicU64 = AtomicU64::new(512 * 1024 * 1024);

#[inline]
pub fn proto_max_bulk_len() -> u64 {
    PROTO_MAX_BULK_LEN.load(Ordering::Relaxed)
}

/// `rdbcompression`, for DUMP; kept in sync the same way.
static RDB_COMPRESSION: AtomicBool = AtomicBool::new(true);

#[inline]
pub fn rdb_compression() -> bool {
    RDB_COMPRESSION.load(Ordering::Relaxed)
}

/// `stream-node-max-bytes` / `stream-node-max-entries`, for XADD; kept in sync the same way.
static STREAM_NODE_MAX_BYTES: AtomicU64 = AtomicU64::new(4096);
static STREAM_NODE_MAX_ENTRIES: AtomicU64 = AtomicU64::new(100);

#[inline]
pub fn stream_node_limits() -> crate::storage::stream::NodeLimits {
    crate::storage::stream::NodeLimits {
        max_bytes: STREAM_NODE_MAX_BYTES.load(Ordering::Relaxed),
        max_entries: STREAM_NODE_MAX_ENTRIES.load(Ordering::Relaxed),
    }
}

/// State shared by all shards: mailboxes, configuration, process-wide counters.
pub struct Server {
    pub nshards: usize,
    pub mailboxes: Vec<MailboxSender<ShardMsg>>,
    pub coordinator: MailboxSender<CoordMsg>,
    pub config: RwLock<Config>,
    pub next_client_id: AtomicU64,
    pub connected_clients: AtomicUsize,
    /// Clients waiting in a blocking command (INFO clients blocked_clients).
    pub blocked_clients: AtomicUsize,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    pub port: u16,
    /// Hot-path copies of configuration values, kept in sync by CONFIG SET.
    proto_max_bulk_len: AtomicU64,
    query_buffer_limit: AtomicU64,
    shutdown: AtomicBool,
    shutdown_bells: Vec<AtomicWaker>,
    /// EXECs that ran as one message on one shard, and through holds on several (INFO stats).
    pub exec_single_shard: AtomicU64,
    pub exec_multi_shard: AtomicU64,
    /// Save state and counters (INFO persistence, LASTSAVE, save points).
    pub persist: Arc<crate::persistence::snapshot::PersistStats>,
    /// Replication, master side (backlog, replicas) and replica side (the link to a master).
    pub master: crate::replication::master::MasterState,
    pub replica: crate::replication::replica::ReplicaState,
}

impl Server {
    pub fn proto_max_bulk_len(&self) -> u64 {
        self.proto_max_bulk_len.load(Ordering::Relaxed)
    }

    pub fn query_buffer_limit(&self) -> u64 {
        self.query_buffer_limit.load(Ordering::Relaxed)
    }

    /// Re-reads the hot-path configuration values after CONFIG SET.
    pub fn refresh_config(&self) {
        let c = self.config.read().unwrap_or_else(|e| e.into_inner());
        self.proto_max_bulk_len
            .store(c.int("proto-max-bulk-len") as u64, Ordering::Relaxed);
        PROTO_MAX_BULK_LEN.store(c.int("proto-max-bulk-len") as u64, Ordering::Relaxed);
        RDB_COMPRESSION.store(c.bool("rdbcompression"), Ordering::Relaxed);
        STREAM_NODE_MAX_BYTES.store(
            c.int("stream-node-max-bytes").max(0) as u64,
            Ordering::Relaxed,
        );
        STREAM_NODE_MAX_ENTRIES.store(
            c.int("stream-node-max-entries").max(0) as u64,
            Ordering::Relaxed,
        );
        self.query_buffer_limit
            .store(c.int("client-query-buffer-limit") as u64, Ordering::Relaxed);
        self.master
            .refresh_config(c.int("repl-backlog-size").max(0) as u64);
    }

    pub fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for b in &self.shutdown_bells {
            b.wake();
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Resolves once shutdown has begun (for shard `index`'s accept loop).
    async fn shutdown_signal(&self, index: usize) {
        poll_fn(|cx| {
            if self.is_shutting_down() {
                return Poll::Ready(());
            }
            self.shutdown_bells[index].register(cx.waker());
            if self.is_shutting_down() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// 40 hex digits from `seed` (run_id).
fn hex_id(mut seed: u64) -> String {
    (0..40)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from_digit((seed % 16) as u32, 16).unwrap_or('0')
        })
        .collect()
}

/// Refuses a port another process already listens on: SO_REUSEPORT would otherwise let a stale
/// server silently share it.
fn probe_port(bind: &[String], port: u16) -> Result<(), String> {
    for addr in bind {
        if let Err(e) = std::net::TcpListener::bind((addr.as_str(), port)) {
            return Err(format!(
                "Could not create server TCP listening socket {addr}:{port}: bind: {e}"
            ));
        }
    }
    Ok(())
}

/// Raises RLIMIT_MEMLOCK's soft limit toward what glommio's rings need.
fn raise_memlock() {
    const WANT: u64 = 8 << 20;
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) == 0 && r.rlim_cur < WANT {
            r.rlim_cur = WANT.min(r.rlim_max);
            libc::setrlimit(libc::RLIMIT_MEMLOCK, &r);
        }
        if libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) == 0 && r.rlim_cur < 512 * 1024 {
            log::warning(&format!(
                "RLIMIT_MEMLOCK is {} bytes; io_uring needs at least 512 KiB per shard. Raise it with `ulimit -l`.",
                r.rlim_cur
            ));
        }
    }
}

/// Raises RLIMIT_NOFILE's soft limit to what `maxclients` needs, as Redis does, so a busy server
/// does not fail accepts with EMFILE at the usual default of 1024.
fn raise_nofile(maxclients: u64) {
    // Redis reserves 32 descriptors for itself; shards need a few each for their rings.
    let want = maxclients.saturating_add(128);
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < want {
            let old = r.rlim_cur;
            r.rlim_cur = want.min(r.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
            if r.rlim_cur < want {
                log::warning(&format!(
                    "You requested maxclients of {maxclients} requiring at least {want} max file descriptors; the limit is {} (was {old}).",
                    r.rlim_cur
                ));
            }
        }
    }
}

/// Starts the shards and serves until shutdown. Returns the process exit code.
pub fn run(config: Config) -> i32 {
    let nshards = config.int("shards").max(1) as usize;
    let bind: Vec<String> = config
        .get("bind")
        .split_whitespace()
        .map(String::from)
        .collect();
    if bind.is_empty() {
        log::warning("no address to listen on: --bind is empty");
        return 1;
    }
    let mut port = config.int("port") as u16;
    if port == 0 {
        // Pick a free port once, so every shard binds the same one.
        match std::net::TcpListener::bind((bind[0].as_str(), 0)).and_then(|l| l.local_addr()) {
            Ok(a) => port = a.port(),
            Err(e) => {
                log::warning(&format!("could not pick a port: {e}"));
                return 1;
            }
        }
    } else if let Err(e) = probe_port(&bind, port) {
        log::warning(&e);
        return 1;
    }
    raise_memlock();
    raise_nofile(config.int("maxclients").max(1) as u64);

    // The dataset is loaded before any shard starts: no client sees a partial one.
    let rdb_path = std::path::Path::new(config.get("dir")).join(config.get("dbfilename"));
    let loaded =
        match crate::persistence::load::load_file(&rdb_path, nshards, config.bool("rdbchecksum")) {
            Ok(l) => l,
            Err(e) => {
                log::warning(&format!("Fatal error loading the DB: {e}. Exiting."));
                return 1;
            }
        };

    let mut receivers = Vec::new();
    let mut mailboxes = Vec::new();
    for _ in 0..nshards {
        let (tx, rx) = mailbox::<ShardMsg>();
        mailboxes.push(tx);
        receivers.push(Some(rx));
    }
    let (coord_tx, coord_rx) = mailbox::<CoordMsg>();
    let seed = crate::storage::now_ms() ^ (std::process::id() as u64).rotate_left(32);
    let server = Arc::new(Server {
        nshards,
        mailboxes,
        coordinator: coord_tx,
        config: RwLock::new(config),
        next_client_id: AtomicU64::new(1),
        connected_clients: AtomicUsize::new(0),
        blocked_clients: AtomicUsize::new(0),
        started: Instant::now(),
        started_unix_ms: crate::storage::now_ms(),
        run_id: hex_id(seed),
        port,
        proto_max_bulk_len: AtomicU64::new(0),
        query_buffer_limit: AtomicU64::new(0),
        shutdown: AtomicBool::new(false),
        shutdown_bells: (0..nshards).map(|_| AtomicWaker::new()).collect(),
        exec_single_shard: AtomicU64::new(0),
        exec_multi_shard: AtomicU64::new(0),
        persist: Arc::new(crate::persistence::snapshot::PersistStats::new(
            nshards,
            crate::storage::now_ms(),
        )),
        master: Default::default(),
        replica: Default::default(),
    });
    crate::replication::master::install(&server);
    server.refresh_config();
    crate::replication::replica::init(&server);
    server
        .persist
        .load_keys_loaded
        .store(loaded.keys_loaded, Ordering::Relaxed);
    server
        .persist
        .load_keys_expired
        .store(loaded.keys_expired, Ordering::Relaxed);
    let preloaded: Vec<Option<Vec<crate::storage::Db>>> =
        loaded.shards.into_iter().map(Some).collect();

    // glommio has no signal handling: a thread turns SIGINT/SIGTERM into a shutdown.
    {
        let server = server.clone();
        match signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTERM,
        ]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    for sig in signals.forever() {
                        let name = if sig == signal_hook::consts::SIGINT {
                            "SIGINT"
                        } else {
                            "SIGTERM"
                        };
                        log::notice(&format!("Received {name} scheduling shutdown..."));
                        // The coordinator saves first when save points are configured; if that
                        // fails the server goes on, and another signal tries again.
                        let msg = CoordMsg::Shutdown {
                            save: None,
                            force: false,
                            reply: None,
                        };
                        if server.coordinator.send(msg).is_err() {
                            server.begin_shutdown();
                        }
                    }
                });
            }
            Err(e) => log::warning(&format!("could not install signal handlers: {e}")),
        }
    }

    let shared = Arc::new(Mutex::new((receivers, Some(coord_rx), 0usize, preloaded)));
    let placement = if nshards <= std::thread::available_parallelism().map_or(1, |n| n.get()) {
        PoolPlacement::MaxSpread(nshards, None)
    } else {
        PoolPlacement::Unbound(nshards)
    };
    let pool = LocalExecutorPoolBuilder::new(placement)
        .io_memory(512 * 1024)
        .ring_depth(1024)
        .name("shoal-shard")
        .on_all_shards({
            let server = server.clone();
            let shared = shared.clone();
            move || async move {
                let (index, rx, coord, dbs) = {
                    let mut g = shared.lock().unwrap_or_else(|e| e.into_inner());
                    let index = g.2;
                    g.2 += 1;
                    let rx = g.0[index].take();
                    let coord = if index == 0 { g.1.take() } else { None };
                    let dbs = g.3.get_mut(index).and_then(|d| d.take());
                    (index, rx, coord, dbs)
                };
                if let Some(rx) = rx {
                    shard_main(index, server, rx, coord, bind, dbs).await;
                }
            }
        });
    let pool = match pool {
        Ok(p) => p,
        Err(e) => {
            let mut r = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit only writes the struct we pass.
            unsafe { libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut r) };
            log::warning(&format!(
                "could not start the shard executors: {e} (RLIMIT_MEMLOCK is {} bytes; io_uring needs about 1 MiB per shard: raise it with `ulimit -l`, or use fewer --shards)",
                r.rlim_cur
            ));
            return 1;
        }
    };
    let mut code = 0;
    for r in pool.join_all() {
        if let Err(e) = r {
            log::warning(&format!("shard failed: {e}"));
            code = 1;
        }
    }
    crate::persistence::snapshot::wait_for_writers(Duration::from_secs(2));
    log::notice("Redis is now ready to exit, bye bye...");
    code
}

async fn shard_main(
    index: usize,
    server: Arc<Server>,
    rx: MailboxReceiver<ShardMsg>,
    coord: Option<MailboxReceiver<CoordMsg>>,
    bind: Vec<String>,
    dbs: Option<Vec<crate::storage::Db>>,
) {
    let mut shard = Shard::new(index, server.nshards);
    if let Some(dbs) = dbs {
        shard.dbs = dbs;
    }
    let local = Rc::new(Local {
        shard: RefCell::new(shard),
        gate: HoldGate::default(),
        server: server.clone(),
    });
    glommio::spawn_local(shard::mailbox_task(local.clone(), rx)).detach();
    let stop = Rc::new(Cell::new(false));
    glommio::spawn_local(shard::cron_task(local.clone(), stop.clone())).detach();
    if let Some(c) = coord {
        glommio::spawn_local(coordinator::coordinator_task(server.clone(), c)).detach();
        // The link to a master (--replicaof, REPLICAOF) lives next to the coordinator.
        glommio::spawn_local(crate::replication::replica::supervise(local.clone())).detach();
        // PINGs to replicas, replica timeouts.
        glommio::spawn_local(crate::replication::master::cron(server.clone())).detach();
    }
    let mut listeners = Vec::new();
    let backlog = server.config().int("tcp-backlog") as i32;
    for addr in &bind {
        match listen(addr, server.port, backlog) {
            Ok(l) => listeners.push(l),
            Err(e) => {
                log::warning(&format!(
                    "Could not create server TCP listening socket {addr}:{}: {e}",
                    server.port
                ));
                server.begin_shutdown();
                return;
            }
        }
    }
    if index == 0 {
        log::notice(&format!(
            "shoal {} started: {} shard(s), port {}",
            env!("CARGO_PKG_VERSION"),
            server.nshards,
            server.port
        ));
        let (coop, total) = uring_shim::rings_with_coop_taskrun();
        log::verbose(&format!(
            "io_uring rings with COOP_TASKRUN so far: {coop}/{total}"
        ));
        log::notice("Ready to accept connections tcp");
    }
    let accepts: Vec<_> = listeners
        .into_iter()
        .map(|l| glommio::spawn_local(accept_loop(local.clone(), l)))
        .collect();
    server.shutdown_signal(index).await;
    stop.set(true);
    for a in accepts {
        a.cancel().await;
    }
    // Close this shard's connections, then give them a moment to go.
    let clients: Vec<_> = local.shard.borrow().clients.clone();
    for c in clients {
        c.borrow_mut().kill();
    }
    for _ in 0..50 {
        if local.shard.borrow().clients.is_empty() {
            break;
        }
        glommio::timer::sleep(Duration::from_millis(10)).await;
    }
}

/// A listening socket with SO_REUSEPORT (every shard binds the port) and SO_REUSEADDR (a restart
/// must not fail on the previous run's TIME_WAIT connections, which glommio's own bind does).
fn listen(addr: &str, port: u16, backlog: i32) -> std::io::Result<glommio::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    use std::net::ToSocketAddrs;
    use std::os::unix::io::{FromRawFd, IntoRawFd};
    let sa = (addr, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let sk = Socket::new(Domain::for_address(sa), Type::STREAM, Some(Protocol::TCP))?;
    sk.set_reuse_address(true)?;
    sk.set_reuse_port(true)?;
    if sa.is_ipv6() {
        sk.set_only_v6(true)?;
    }
    sk.bind(&sa.into())?;
    sk.listen(backlog)?;
    // SAFETY: a bound, listening socket whose ownership moves into the listener.
    Ok(unsafe { glommio::net::TcpListener::from_raw_fd(sk.into_raw_fd()) })
}

/// TCP keepalive as Redis sets it (`tcp-keepalive` seconds): dead peers are noticed.
fn set_keepalive(stream: &glommio::net::TcpStream, secs: u64) {
    use std::os::unix::io::AsRawFd;
    // SAFETY: the fd belongs to `stream`, which outlives this borrow.
    let fd = unsafe { std::os::unix::io::BorrowedFd::borrow_raw(stream.as_raw_fd()) };
    let ka = socket2::TcpKeepalive::new()
        .with_time(Duration::from_secs(secs))
        .with_interval(Duration::from_secs((secs / 3).max(1)))
        .with_retries(3);
    let _ = socket2::SockRef::from(&fd).set_tcp_keepalive(&ka);
}

async fn accept_loop(local: Rc<Local>, listener: glommio::net::TcpListener) {
    let server = local.server.clone();
    loop {
        let stream = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                log::verbose(&format!("accept: {e}"));
                glommio::timer::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let keepalive = server.config().int("tcp-keepalive");
        if keepalive > 0 {
            set_keepalive(&stream, keepalive as u64);
        }
        let maxclients = server.config().int("maxclients") as usize;
        local.shard.borrow_mut().stats.total_connections += 1;
        if server.connected_clients.load(Ordering::Relaxed) >= maxclients {
            local.shard.borrow_mut().stats.rejected_connections += 1;
            glommio::spawn_local(async move {
                use futures::AsyncWriteExt;
                let mut s = stream;
                let _ = s.write_all(b"-ERR max number of clients reached\r\n").await;
            })
            .detach();
            continue;
        }
        server.connected_clients.fetch_add(1, Ordering::Relaxed);
        let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
        let addr = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let laddr = stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let fd = {
            use std::os::unix::io::AsRawFd;
            stream.as_raw_fd()
        };
        let info = Rc::new(RefCell::new(ClientInfo::new(id, addr, laddr, fd)));
        local.shard.borrow_mut().clients.push(info.clone());
        glommio::spawn_local(crate::server::conn::serve(local.clone(), stream, info)).detach();
    }
}
