//! One connection to the master: handshake, PSYNC, the snapshot of a full resync, then the
//! command stream until the link drops.
//!
//! Every wait (connect, a reply, the next bytes) also ends when REPLICAOF moves on, when the
//! master client is killed (CLIENT KILL) or at shutdown, and after `repl-timeout` seconds of
//! silence. The stream is applied a read at a time: a read is never interrupted half applied,
//! so the applied offset always describes the data.

use futures::channel::oneshot;
use futures::future::{join_all, select, Either};
use futures::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use std::cell::RefCell;
use std::future::poll_fn;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::link_apply::Applier;
use super::{History, LinkState};
use crate::persistence::load::Loaded;
use crate::protocol::{parse, Limits, ParsedCommands};
use crate::replication::master;
use crate::runtime::coordinator::CoordMsg;
use crate::runtime::shard::{Local, Shard, DATABASES};
use crate::runtime::Server;
use crate::server::client::ClientInfo;
use crate::server::log;

/// Reads of the link: large, as a snapshot streams through them.
const READ_CHUNK: usize = 64 * 1024;
/// REPLCONF ACK every second, as Redis's replicationCron.
const ACK_PERIOD: Duration = Duration::from_secs(1);
/// Length of the EOF mark of a diskless transfer (`$EOF:<40 bytes>`).
const EOF_MARK_LEN: usize = 40;

/// Why a link ended.
enum End {
    /// REPLICAOF moved on, the master client was killed, or shutdown.
    Stopped,
    /// No answer within the deadline.
    Timeout,
    Failed(String),
}

impl From<String> for End {
    fn from(s: String) -> End {
        End::Failed(s)
    }
}

/// What ends every wait of the link besides its own event.
struct Stop {
    server: std::sync::Arc<Server>,
    generation: u64,
    /// The master client, once registered (CLIENT KILL ends the link).
    info: Option<Rc<RefCell<ClientInfo>>>,
}

impl Stop {
    fn stopped(&self) -> bool {
        self.server.is_shutting_down()
            || self.server.replica.generation() != self.generation
            || self.info.as_ref().is_some_and(|i| i.borrow().killed.get())
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.stopped() {
                return Poll::Ready(());
            }
            self.server.replica.bell.register(cx.waker());
            if let Some(i) = &self.info {
                i.borrow_mut().waker = Some(cx.waker().clone());
            }
            if self.stopped() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// The socket and its read buffer (`buf[start..end]` is unread).
struct Io {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Io {
    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Reads more bytes (at least one) before `deadline`.
    async fn fill(&mut self, stop: &Stop, deadline: Instant) -> Result<usize, End> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                // A command larger than the buffer: the master's stream has no size limit.
                let grown = self.buf.len() * 2;
                self.buf.resize(grown, 0);
            }
        }
        let Io {
            stream, buf, end, ..
        } = self;
        let read = pin!(stream.read(&mut buf[*end..]));
        let stopped = pin!(stop.wait());
        let timer = pin!(glommio::timer::sleep(
            deadline.saturating_duration_since(Instant::now())
        ));
        match select(read, select(stopped, timer)).await {
            Either::Left((Ok(0), _)) => Err(End::Failed("Connection lost with the master".into())),
            Either::Left((Ok(n), _)) => {
                *end += n;
                Ok(n)
            }
            Either::Left((Err(e), _)) => {
                Err(End::Failed(format!("Error reading from MASTER: {e}")))
            }
            Either::Right((Either::Left(_), _)) => Err(End::Stopped),
            Either::Right((Either::Right(_), _)) => Err(End::Timeout),
        }
    }

    /// The next line, without its "\r\n".
    async fn line(&mut self, stop: &Stop, deadline: Instant) -> Result<Vec<u8>, End> {
        loop {
            if let Some(p) = self.pending().iter().position(|&b| b == b'\n') {
                let mut l = self.buf[self.start..self.start + p].to_vec();
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                self.start += p + 1;
                return Ok(l);
            }
            if self.pending().len() > 64 * 1024 {
                return Err(End::Failed(
                    "Protocol error: too long line from MASTER".into(),
                ));
            }
            self.fill(stop, deadline).await?;
        }
    }

    /// The next non-empty line: a master sends newlines to keep the link alive while it
    /// prepares the snapshot.
    async fn reply(&mut self, stop: &Stop, deadline: Instant) -> Result<Vec<u8>, End> {
        loop {
            let l = self.line(stop, deadline).await?;
            if !l.is_empty() {
                return Ok(l);
            }
        }
    }

    async fn send(&mut self, bytes: &[u8], stop: &Stop, timeout: Duration) -> Result<(), End> {
        let write = pin!(self.stream.write_all(bytes));
        let stopped = pin!(stop.wait());
        let timer = pin!(glommio::timer::sleep(timeout));
        match select(write, select(stopped, timer)).await {
            Either::Left((Ok(()), _)) => Ok(()),
            Either::Left((Err(e), _)) => Err(End::Failed(format!("Error writing to MASTER: {e}"))),
            Either::Right((Either::Left(_), _)) => Err(End::Stopped),
            Either::Right((Either::Right(_), _)) => Err(End::Timeout),
        }
    }
}

/// A command as RESP.
fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Resolves `host:port` (on a thread when it is a name: DNS must not stall the shard).
async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let (tx, rx) = oneshot::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("shoal-resolve".into())
        .spawn(move || {
            use std::net::ToSocketAddrs;
            let r = (name.as_str(), port)
                .to_socket_addrs()
                .map_err(|e| e.to_string())
                .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()));
            let _ = tx.send(r);
        })
        .map_err(|e| e.to_string())?;
    rx.await
        .unwrap_or_else(|_| Err("the resolver thread stopped".into()))
        .map_err(|e| format!("Unable to resolve {host}: {e}"))
}

/// Runs one link to `host:port` until it ends. Returns whether it reached the stream (the
/// reconnection backoff starts over then).
pub(super) async fn run(local: &Rc<Local>, generation: u64, host: &str, port: u16) -> bool {
    let mut link = Link {
        local: local.clone(),
        server: local.server.clone(),
        generation,
        streamed: false,
    };
    let mut stop = Stop {
        server: local.server.clone(),
        generation,
        info: None,
    };
    match link.go(host, port, &mut stop).await {
        Ok(()) | Err(End::Stopped) => {}
        Err(End::Timeout) => log::warning(&format!(
            "Timeout connecting to the MASTER {host}:{port}..."
        )),
        Err(End::Failed(msg)) => log::warning(&msg),
    }
    link.streamed
}

struct Link {
    local: Rc<Local>,
    server: std::sync::Arc<Server>,
    generation: u64,
    streamed: bool,
}

/// Removes the master client from shard 0's registry however the link ends.
struct Registered {
    local: Rc<Local>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        if let Ok(mut sh) = self.local.shard.try_borrow_mut() {
            sh.clients.retain(|c| c.borrow().id != self.id);
        }
        self.local
            .server
            .connected_clients
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Link {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.server.config().int("repl-timeout").max(1) as u64)
    }

    async fn go(&mut self, host: &str, port: u16, stop: &mut Stop) -> Result<(), End> {
        let st = &self.server.replica;
        st.set_link(self.generation, LinkState::Handshake);
        log::notice(&format!("Connecting to MASTER {host}:{port}"));
        let timeout = self.timeout();
        let addr = resolve(host, port).await?;
        let stream = {
            let connect = pin!(TcpStream::connect_timeout(addr, timeout));
            let stopped = pin!(stop.wait());
            match select(connect, stopped).await {
                Either::Left((Ok(s), _)) => s,
                Either::Left((Err(e), _)) => {
                    return Err(End::Failed(format!(
                        "Error condition on socket for SYNC: {host}:{port}: {e}"
                    )))
                }
                Either::Right(_) => return Err(End::Stopped),
            }
        };
        let _ = stream.set_nodelay(true);
        log::notice("MASTER <-> REPLICA sync started");
        let mut io = Io {
            stream,
            buf: vec![0u8; READ_CHUNK],
            start: 0,
            end: 0,
        };
        let deadline = || Instant::now() + timeout;

        // PING first: the master must answer before it gets anything else. An auth error is
        // fine here (AUTH comes next).
        io.send(&resp(&[b"PING"]), stop, timeout).await?;
        let r = io.reply(stop, deadline()).await?;
        if r.first() == Some(&b'-')
            && !r.starts_with(b"-NOAUTH")
            && !r.starts_with(b"-NOPERM")
            && !r.starts_with(b"-ERR operation not permitted")
        {
            return Err(End::Failed(format!(
                "Error reply to PING from master: '{}'",
                String::from_utf8_lossy(&r)
            )));
        }
        log::notice("Master replied to PING, replication can continue...");
        let (user, pass) = {
            let c = self.server.config();
            (
                c.get("masteruser").to_string(),
                c.get("masterauth").to_string(),
            )
        };
        if !pass.is_empty() {
            let cmd = if user.is_empty() {
                resp(&[b"AUTH", pass.as_bytes()])
            } else {
                resp(&[b"AUTH", user.as_bytes(), pass.as_bytes()])
            };
            io.send(&cmd, stop, timeout).await?;
            let r = io.reply(stop, deadline()).await?;
            if r.first() == Some(&b'-') {
                return Err(End::Failed(format!(
                    "Unable to AUTH to MASTER: {}",
                    String::from_utf8_lossy(&r)
                )));
            }
        }
        let my_port = self.server.port.to_string();
        io.send(
            &resp(&[b"REPLCONF", b"listening-port", my_port.as_bytes()]),
            stop,
            timeout,
        )
        .await?;
        let r = io.reply(stop, deadline()).await?;
        if r.first() == Some(&b'-') {
            log::notice(&format!(
                "(Non critical) Master does not understand REPLCONF listening-port: {}",
                String::from_utf8_lossy(&r)
            ));
        }
        io.send(
            &resp(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]),
            stop,
            timeout,
        )
        .await?;
        let r = io.reply(stop, deadline()).await?;
        if r.first() == Some(&b'-') {
            log::notice(&format!(
                "(Non critical) Master does not understand REPLCONF capa: {}",
                String::from_utf8_lossy(&r)
            ));
        }

        // PSYNC: continue the history we follow, or ask for everything.
        let history = st.lock().history.clone();
        let psync = match &history {
            Some(h) => {
                log::notice(&format!(
                    "Trying a partial resynchronization (request {}:{}).",
                    h.replid,
                    h.offset + 1
                ));
                resp(&[
                    b"PSYNC",
                    h.replid.as_bytes(),
                    (h.offset + 1).to_string().as_bytes(),
                ])
            }
            None => {
                log::notice("Partial resynchronization not possible (no cached master)");
                resp(&[b"PSYNC", b"?", b"-1"])
            }
        };
        io.send(&psync, stop, timeout).await?;
        let r = io.reply(stop, deadline()).await?;
        let reply = String::from_utf8_lossy(&r).into_owned();
        let history = if let Some(rest) = reply.strip_prefix("+FULLRESYNC") {
            let mut w = rest.split_whitespace();
            let (Some(replid), Some(offset)) = (w.next(), w.next().and_then(|o| o.parse().ok()))
            else {
                return Err(End::Failed(format!(
                    "Master replied with wrong +FULLRESYNC syntax: {reply}"
                )));
            };
            log::notice(&format!("Full resync from master: {replid}:{offset}"));
            self.full_sync(&mut io, stop, replid, offset).await?
        } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
            let Some(mut h) = history else {
                return Err(End::Failed(
                    "Master accepted a partial resync we did not ask for".into(),
                ));
            };
            if let Some(id) = rest.split_whitespace().next() {
                if id != h.replid {
                    // The master was promoted and has a new history, which continues ours.
                    log::notice(&format!(
                        "Master replication ID changed to {id}; continuing from it"
                    ));
                    h.replid = id.to_string();
                }
            }
            h.read_offset = h.offset;
            log::notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            h
        } else if reply.starts_with("-NOMASTERLINK") || reply.starts_with("-LOADING") {
            return Err(End::Failed(format!(
                "Master is currently unable to PSYNC but should be in the future: {reply}"
            )));
        } else {
            return Err(End::Failed(format!(
                "Unexpected reply to PSYNC from master: {reply}"
            )));
        };
        {
            let mut g = st.lock();
            if g.generation != self.generation {
                return Err(End::Stopped);
            }
            g.history = Some(history.clone());
        }
        self.stream(io, stop, history).await
    }

    /// Receives the snapshot, loads it, and swaps it in on every shard. Returns the history
    /// the stream continues.
    async fn full_sync(
        &self,
        io: &mut Io,
        stop: &Stop,
        replid: &str,
        offset: u64,
    ) -> Result<History, End> {
        let st = &self.server.replica;
        st.set_link(self.generation, LinkState::Transfer);
        let timeout = self.timeout();
        // The master may send newlines while its snapshot is being prepared.
        let head = io.reply(stop, Instant::now() + timeout).await?;
        if head.first() == Some(&b'-') {
            return Err(End::Failed(format!(
                "MASTER aborted replication with an error: {}",
                String::from_utf8_lossy(&head[1..])
            )));
        }
        if head.first() != Some(&b'$') {
            return Err(End::Failed(format!(
                "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?",
                String::from_utf8_lossy(&head)
            )));
        }
        let payload = match head.strip_prefix(b"$EOF:") {
            Some(m) if m.len() >= EOF_MARK_LEN => Payload::Marked(m[..EOF_MARK_LEN].to_vec()),
            _ => match std::str::from_utf8(&head[1..])
                .ok()
                .and_then(|s| s.parse().ok())
            {
                Some(n) => Payload::Sized(n),
                None => {
                    return Err(End::Failed(format!(
                        "Bad snapshot length from MASTER: {}",
                        String::from_utf8_lossy(&head)
                    )))
                }
            },
        };
        let size = match payload {
            Payload::Sized(n) => Some(n),
            Payload::Marked(_) => None,
        };
        match size {
            Some(n) => log::notice(&format!(
                "MASTER <-> REPLICA sync: receiving {n} bytes from master, loading them as they come"
            )),
            None => log::notice(
                "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF, loading it as it comes",
            ),
        }
        {
            let mut g = st.lock();
            if g.generation == self.generation {
                g.transfer_size = size;
                g.transfer_read = 0;
                g.transfer_last_io = Some(Instant::now());
            }
        }
        let (nshards, dir, dbfilename, verify) = {
            let c = self.server.config();
            (
                self.server.nshards,
                PathBuf::from(c.get("dir")),
                c.get("dbfilename").to_string(),
                c.bool("rdbchecksum"),
            )
        };
        let writer = SnapshotWriter::start(dir, dbfilename, nshards, verify)?;

        // Bytes already read past the header belong to the payload.
        let mut got: u64 = io.pending().len() as u64;
        self.note_transfer(got);
        match payload {
            Payload::Sized(total) => {
                let mut left = total;
                loop {
                    let take = left.min(io.pending().len() as u64) as usize;
                    if take > 0 {
                        writer.write(io.buf[io.start..io.start + take].to_vec())?;
                        io.start += take;
                        left -= take as u64;
                    }
                    if left == 0 {
                        break;
                    }
                    let n = io.fill(stop, Instant::now() + timeout).await?;
                    got += n as u64;
                    self.note_transfer(got.min(total));
                }
            }
            Payload::Marked(mark) => {
                // The mark ends the payload; hold the last bytes back until we know they are
                // not part of it.
                let mut held: Vec<u8> = Vec::new();
                loop {
                    held.extend_from_slice(io.pending());
                    io.start = io.end;
                    if let Some(p) = find(&held, &mark) {
                        let rest = held.split_off(p);
                        writer.write(held)?;
                        // Anything after the mark is the stream: give it back to the reader.
                        let after = &rest[EOF_MARK_LEN..];
                        io.start = 0;
                        io.end = after.len();
                        if io.buf.len() < after.len() {
                            io.buf.resize(after.len(), 0);
                        }
                        io.buf[..after.len()].copy_from_slice(after);
                        break;
                    }
                    if held.len() > EOF_MARK_LEN {
                        let keep = held.split_off(held.len() - EOF_MARK_LEN);
                        writer.write(std::mem::replace(&mut held, keep))?;
                    }
                    let n = io.fill(stop, Instant::now() + timeout).await?;
                    got += n as u64;
                    self.note_transfer(got);
                }
            }
        }
        let loaded = {
            let done = pin!(writer.finish());
            let stopped = pin!(stop.wait());
            match select(done, stopped).await {
                Either::Left((r, _)) => r?,
                Either::Right(_) => return Err(End::Stopped),
            }
        };
        if stop.stopped() {
            return Err(End::Stopped);
        }
        log::notice("MASTER <-> REPLICA sync: Flushing old data");
        self.install(loaded).await?;
        master::adopt_master_history(&self.server, replid, offset);
        log::notice("MASTER <-> REPLICA sync: Finished with success");
        Ok(History {
            replid: replid.to_string(),
            offset,
            read_offset: offset,
            db: 0,
        })
    }

    fn note_transfer(&self, read: u64) {
        let mut g = self.server.replica.lock();
        if g.generation == self.generation {
            g.transfer_read = read;
            g.transfer_last_io = Some(Instant::now());
        }
    }

    /// Replaces every shard's databases with the loaded ones, all shards held at once (as
    /// DEBUG RELOAD): no client sees half of the old dataset and half of the new.
    async fn install(&self, loaded: Loaded) -> Result<(), End> {
        let server = &self.server;
        server
            .persist
            .load_keys_loaded
            .store(loaded.keys_loaded, Ordering::Relaxed);
        server
            .persist
            .load_keys_expired
            .store(loaded.keys_expired, Ordering::Relaxed);
        let all: Vec<usize> = (0..server.nshards).collect();
        let (tx, rx) = oneshot::channel();
        server
            .coordinator
            .send(CoordMsg::Hold {
                shards: all,
                reply: tx,
            })
            .map_err(|_| End::Stopped)?;
        let held = rx.await.map_err(|_| End::Stopped)?;
        let steps: Vec<_> = loaded
            .shards
            .into_iter()
            .enumerate()
            .map(|(s, dbs)| {
                held.on(s, move |sh: &mut Shard| {
                    // Watched keys present now change, as with Redis's flush before loading.
                    let now = crate::storage::now_ms();
                    for db in 0..DATABASES {
                        sh.touch_watched_db(db, now);
                    }
                    sh.dbs = dbs;
                    sh.blocked.signal_all();
                })
            })
            .collect();
        let done = join_all(steps).await;
        drop(held);
        if done.iter().any(|r| r.is_err()) {
            return Err(End::Stopped);
        }
        Ok(())
    }

    /// Registers the master client and applies the stream until the link ends.
    async fn stream(&mut self, mut io: Io, stop: &mut Stop, history: History) -> Result<(), End> {
        let server = self.server.clone();
        let st = &server.replica;
        let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
        let (peer, me, fd) = {
            use std::os::unix::io::AsRawFd;
            (
                io.stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                io.stream
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
                io.stream.as_raw_fd(),
            )
        };
        let info = Rc::new(RefCell::new(ClientInfo::new(id, peer, me, fd)));
        info.borrow_mut().db = history.db;
        server.connected_clients.fetch_add(1, Ordering::Relaxed);
        self.local.shard.borrow_mut().clients.push(info.clone());
        let _registered = Registered {
            local: self.local.clone(),
            id,
        };
        stop.info = Some(info.clone());

        let mut applier = Applier::new(self.local.clone(), info, history.offset, history.db);
        {
            let mut g = st.lock();
            if g.generation != self.generation {
                return Err(End::Stopped);
            }
            g.link = LinkState::Up;
            g.last_io = Some(Instant::now());
        }
        self.streamed = true;
        let timeout = self.timeout();
        // The first ACK at once: a diskless master sends the stream only after it.
        let ack = |off: u64| resp(&[b"REPLCONF", b"ACK", off.to_string().as_bytes()]);
        io.send(&ack(applier.applied()), stop, timeout).await?;
        let mut next_ack = Instant::now() + ACK_PERIOD;
        let mut last_io = Instant::now();
        let mut parsed = ParsedCommands::default();
        loop {
            if !io.pending().is_empty() {
                parsed.clear();
                let limits = Limits {
                    max_bulk_len: server.proto_max_bulk_len(),
                    ..Limits::default()
                };
                let (consumed, perr) = parse(io.pending(), &limits, &mut parsed);
                let chunk = &io.buf[io.start..io.end];
                // REPLICAOF moving on stops the stream between two commands, as it would
                // between two of Redis's event-loop turns.
                let moved = || st.generation() != self.generation;
                let applying = st.enter_apply().await;
                let applied = applier.apply(chunk, &parsed, consumed, &moved).await;
                drop(applying);
                let (acks, used) = applied.map_err(|_| End::Stopped)?;
                io.start += used;
                self.record(&history.replid, &applier, io.pending().len());
                for a in acks {
                    io.send(&ack(a), stop, timeout).await?;
                }
                if used < consumed {
                    return Err(End::Stopped);
                }
                if let Some(e) = perr {
                    return Err(End::Failed(format!(
                        "Protocol error from MASTER: {}; dropping the link",
                        e.0
                    )));
                }
            }
            let deadline = next_ack.min(last_io + timeout);
            match io.fill(stop, deadline).await {
                Ok(_) => {
                    last_io = Instant::now();
                    let mut g = st.lock();
                    if g.generation == self.generation {
                        g.last_io = Some(last_io);
                    }
                    if let Some(h) = g.history.as_mut().filter(|h| h.replid == history.replid) {
                        h.read_offset = applier.read_offset(io.pending().len());
                    }
                }
                Err(End::Timeout) => {}
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            if now >= next_ack {
                io.send(&ack(applier.applied()), stop, timeout).await?;
                next_ack = now + ACK_PERIOD;
            }
            if now.duration_since(last_io) >= timeout {
                return Err(End::Failed(
                    "MASTER timeout: no data nor PING received...".into(),
                ));
            }
        }
    }

    /// Records the applied offset: a partial resync continues from it, INFO shows it. Still
    /// recorded after REPLICAOF moved to another master (the history is what the data holds,
    /// and the next PSYNC asks for what follows it), but not after NO ONE dropped it.
    fn record(&self, replid: &str, applier: &Applier, unparsed: usize) {
        let mut g = self.server.replica.lock();
        if let Some(h) = g.history.as_mut().filter(|h| h.replid == replid) {
            h.offset = applier.applied();
            h.read_offset = applier.read_offset(unparsed);
            h.db = applier.db();
        }
    }
}

/// How the snapshot's end is known: its size up front, or the diskless form's end mark.
enum Payload {
    Sized(u64),
    Marked(Vec<u8>),
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Loads the snapshot on a thread as it arrives (parsing overlaps the transfer), writing it to
/// a temp file as it goes; the file becomes `dbfilename` once it loaded whole (as a Redis
/// replica keeps its master's snapshot), so a file that cannot be loaded never replaces ours.
struct SnapshotWriter {
    tx: std::sync::mpsc::Sender<Option<Vec<u8>>>,
    done: oneshot::Receiver<Result<Loaded, String>>,
}

impl SnapshotWriter {
    fn start(
        dir: PathBuf,
        dbfilename: String,
        nshards: usize,
        verify: bool,
    ) -> Result<SnapshotWriter, End> {
        let (tx, rx) = std::sync::mpsc::channel::<Option<Vec<u8>>>();
        let (done_tx, done) = oneshot::channel();
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let temp = dir.join(format!(
            "temp-repl-{}-{}.rdb",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::thread::Builder::new()
            .name("shoal-repl-load".into())
            .spawn(move || {
                let r =
                    receive_and_load(rx, &temp, &dir.join(&dbfilename), nshards, verify, || {
                        done_tx.is_canceled()
                    });
                if let Err(e) = &r {
                    let _ = std::fs::remove_file(&temp);
                    log::warning(&format!(
                        "MASTER <-> REPLICA sync: failed loading the snapshot from the master: {e}"
                    ));
                }
                let _ = done_tx.send(r);
            })
            .map_err(|e| End::Failed(format!("can't start the snapshot loader: {e}")))?;
        Ok(SnapshotWriter { tx, done })
    }

    fn write(&self, chunk: Vec<u8>) -> Result<(), End> {
        if chunk.is_empty() {
            return Ok(());
        }
        // A send fails once the loader gave up; it logged why.
        self.tx
            .send(Some(chunk))
            .map_err(|_| End::Failed("MASTER <-> REPLICA sync: the snapshot loader stopped".into()))
    }

    async fn finish(self) -> Result<Loaded, End> {
        // A closed channel means the loader already stopped: its error is in `done`.
        let _ = self.tx.send(None);
        match self.done.await {
            Ok(Ok(l)) => Ok(l),
            Ok(Err(e)) => Err(End::Failed(format!(
                "MASTER <-> REPLICA sync: failed loading the snapshot from the master: {e}"
            ))),
            Err(_) => Err(End::Failed("the snapshot loader stopped".into())),
        }
    }
}

/// The snapshot's bytes as they arrive from the link, copied to the temp file as they are read.
struct Incoming {
    rx: std::sync::mpsc::Receiver<Option<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    /// The link sent its end marker (None).
    ended: bool,
    file: std::io::BufWriter<std::fs::File>,
}

impl Incoming {
    fn next_chunk(&mut self) -> std::io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        match self.rx.recv() {
            Ok(Some(c)) => {
                self.file.write_all(&c)?;
                self.chunk = c;
                self.pos = 0;
                Ok(true)
            }
            Ok(None) => {
                self.ended = true;
                Ok(false)
            }
            // The link ended before the payload did.
            Err(_) => Err(std::io::Error::other("transfer abandoned")),
        }
    }
}

impl std::io::Read for Incoming {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.chunk.len() {
            if !self.next_chunk()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn receive_and_load(
    rx: std::sync::mpsc::Receiver<Option<Vec<u8>>>,
    temp: &std::path::Path,
    dest: &std::path::Path,
    nshards: usize,
    verify: bool,
    abandoned: impl Fn() -> bool,
) -> Result<Loaded, String> {
    let file = std::fs::File::create(temp).map_err(|e| {
        format!("Opening the temp file needed for MASTER <-> REPLICA synchronization: {e}")
    })?;
    let mut input = Incoming {
        rx,
        chunk: Vec::new(),
        pos: 0,
        ended: false,
        file: std::io::BufWriter::with_capacity(1 << 20, file),
    };
    let loaded = load_keys(&mut input, nshards, verify)?;
    // Whatever follows the RDB's end (nothing, from a sane master) is kept in the file too.
    while input
        .next_chunk()
        .map_err(|e| format!("Write error writing the DB file {}: {e}", temp.display()))?
    {}
    let file = input.file.into_inner().map_err(|e| e.to_string())?;
    file.sync_all()
        .map_err(|e| format!("Failed trying to sync the temp DB to disk: {e}"))?;
    drop(file);
    if abandoned() {
        return Err("transfer abandoned".into());
    }
    std::fs::rename(temp, dest).map_err(|e| {
        format!(
            "Failed trying to rename the temp DB into {}: {e}",
            dest.display()
        )
    })?;
    Ok(loaded)
}

/// Reads an RDB into per-shard databases, as the start-up load does (keys already expired are
/// dropped; a duplicated key is an error).
fn load_keys(src: impl std::io::Read, nshards: usize, verify: bool) -> Result<Loaded, String> {
    use crate::runtime::shard::lru_clock_now;
    use crate::storage::entry::LRU_MASK;
    let started = Instant::now();
    let mut loader =
        crate::persistence::rdb::Loader::new(src, verify).map_err(|e| e.to_string())?;
    let mut shards: Vec<Vec<crate::storage::Db>> = (0..nshards)
        .map(|_| (0..DATABASES).map(|_| Default::default()).collect())
        .collect();
    let now = crate::storage::now_ms();
    let clock = lru_clock_now();
    let (mut loaded, mut expired) = (0u64, 0u64);
    while let Some(k) = loader.next_key().map_err(|e| e.to_string())? {
        if matches!(k.expire_ms, Some(t) if t <= now) {
            expired += 1;
            continue;
        }
        let idle = k.idle_secs.unwrap_or(0).min(LRU_MASK as u64) as u32;
        let lru = clock.wrapping_sub(idle) & LRU_MASK;
        let shard = crate::runtime::slot::key_shard(&k.key, nshards);
        let entry = k.value.into_entry(&k.key, k.expire_ms, lru);
        if shards[shard][k.db].insert(entry).is_some() {
            return Err(format!(
                "duplicated key '{}' in DB {}",
                String::from_utf8_lossy(&k.key),
                k.db
            ));
        }
        loaded += 1;
    }
    if loader.skipped_functions() > 0 {
        log::warning(&format!(
            "skipped {} function libraries (FUNCTION2) of the master's snapshot: shoal has no scripting",
            loader.skipped_functions()
        ));
    }
    log::notice(&format!(
        "Done loading RDB, keys loaded: {loaded}, keys expired: {expired}."
    ));
    log::notice(&format!(
        "MASTER <-> REPLICA sync: snapshot received and loaded in {:.3} seconds",
        started.elapsed().as_secs_f64()
    ));
    Ok(Loaded {
        shards,
        keys_loaded: loaded,
        keys_expired: expired,
    })
}
