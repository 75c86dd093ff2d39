//! What CLIENT LIST / CLIENT INFO show about a connection, shared between the connection task and
//! its shard's client registry.

use std::cell::Cell;
use std::task::Waker;
use std::time::Instant;

use crate::protocol::Proto;

pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Vec<u8>,
    pub lib_name: Vec<u8>,
    pub lib_ver: Vec<u8>,
    pub created: Instant,
    pub last_interaction: Instant,
    pub db: usize,
    pub proto: Proto,
    /// Command-table index of the last command run (`cmd=` field); usize::MAX before any.
    pub last_cmd: usize,
    /// Subcommand of a container command (CLIENT, CONFIG...), shown as `cmd=client|list` while
    /// `.0` is still `last_cmd`.
    pub sub_cmd: Option<(usize, &'static str)>,
    /// CLIENT NO-EVICT / NO-TOUCH (flags `e` and `T`).
    pub no_evict: bool,
    pub no_touch: bool,
    /// Blocked in XREAD BLOCK and the like (flag `b`).
    pub blocked: bool,
    pub query_buf: usize,
    pub output_mem: usize,
    /// Set by CLIENT KILL / shutdown; the connection closes on its next turn.
    pub killed: Cell<bool>,
    pub waker: Option<Waker>,
    /// What REPLCONF told us, and the PSYNC/SYNC that made this connection a replica's link.
    pub replica: Option<Box<crate::replication::master::ReplicaConn>>,
}

impl ClientInfo {
    pub fn new(id: u64, addr: String, laddr: String, fd: i32) -> ClientInfo {
        let now = Instant::now();
        ClientInfo {
            id,
            addr,
            laddr,
            fd,
            name: Vec::new(),
            lib_name: Vec::new(),
            lib_ver: Vec::new(),
            created: now,
            last_interaction: now,
            db: 0,
            proto: Proto::Resp2,
            last_cmd: usize::MAX,
            sub_cmd: None,
            no_evict: false,
            no_touch: false,
            blocked: false,
            query_buf: 0,
            output_mem: 0,
            killed: Cell::new(false),
            waker: None,
            replica: None,
        }
    }

    /// A replica's link (after PSYNC/SYNC): CLIENT LIST flag S, CLIENT KILL TYPE replica.
    pub fn is_replica(&self) -> bool {
        self.replica.as_ref().is_some_and(|r| r.psync.is_some())
    }

    /// Marks the connection for closing and wakes its task.
    pub fn kill(&mut self) {
        self.killed.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// The `cmd=` field: the last command, with its subcommand for containers (`client|list`).
    pub fn cmd_name(&self) -> String {
        let Some(c) = crate::commands::table().get(self.last_cmd) else {
            return "NULL".to_string();
        };
        match self.sub_cmd {
            Some((i, sub)) if i == self.last_cmd => format!("{}|{}", c.name, sub),
            _ => c.name.to_string(),
        }
    }

    /// The `flags=` field: Redis prints one letter per flag, or `N` for none.
    fn flags(&self) -> String {
        let mut f = String::new();
        if self.is_replica() {
            f.push('S');
        }
        if self.blocked {
            f.push('b');
        }
        if self.no_evict {
            f.push('e');
        }
        if self.no_touch {
            f.push('T');
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// One line of CLIENT LIST, with Redis 7.0's fields in its order (7.0 has no lib-name/lib-ver).
    pub fn line(&self) -> String {
        let now = Instant::now();
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            String::from_utf8_lossy(&self.name),
            now.duration_since(self.created).as_secs(),
            now.duration_since(self.last_interaction).as_secs(),
            self.flags(),
            self.db,
            self.query_buf,
            16384usize.saturating_sub(self.query_buf),
            self.output_mem,
            16384 + self.query_buf + self.output_mem,
            self.cmd_name(),
            if self.proto == Proto::Resp3 { 3 } else { 2 },
        )
    }
}
