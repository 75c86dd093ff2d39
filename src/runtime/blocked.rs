//! Clients blocked on keys (XREAD BLOCK, XREADGROUP BLOCK), per shard.
//!
//! A blocked client registers a waiter on the shard owning each key it waits on; the waiters of
//! one client share a [`BlockToken`]. When a command changes a key that has waiters, the shard
//! serves them in the order they blocked (FIFO per key, as Redis): the first shard to *claim*
//! the token answers the client, and the client's other waiters are dead from then on (they are
//! removed when the client cleans up, and skipped if met before that). A client that times out
//! or disconnects claims its own token first, so it is never answered twice.
//!
//! Serving is deferred while a transaction runs or the shard is held (Redis serves blocked
//! clients after the whole EXEC): `defer` collects the keys, `serve_ready` runs them after.

use futures::channel::oneshot;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::commands::stream_read::{self, WaitFor};
use crate::protocol::Proto;
use crate::runtime::shard::{Shard, DATABASES};

/// One blocked client, shared by its waiters on every shard.
pub struct BlockToken {
    claimed: AtomicBool,
    reply: Mutex<Option<oneshot::Sender<Vec<u8>>>>,
}

impl BlockToken {
    /// A token and the receiver of the reply that will unblock its client.
    pub fn new() -> (Arc<BlockToken>, oneshot::Receiver<Vec<u8>>) {
        let (tx, rx) = oneshot::channel();
        let t = BlockToken {
            claimed: AtomicBool::new(false),
            reply: Mutex::new(Some(tx)),
        };
        (Arc::new(t), rx)
    }

    /// True for the one caller that gets to answer the client (or to time it out).
    pub fn claim(&self) -> bool {
        !self.claimed.swap(true, Ordering::AcqRel)
    }

    pub fn is_claimed(&self) -> bool {
        self.claimed.load(Ordering::Acquire)
    }

    /// Sends the reply (the claimer only).
    pub fn answer(&self, reply: Vec<u8>) {
        let tx = self.reply.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(tx) = tx {
            let _ = tx.send(reply);
        }
    }
}

/// One client's wait on one key.
pub struct Waiter {
    pub token: Arc<BlockToken>,
    pub proto: Proto,
    /// Entries per reply (XREAD's COUNT; Redis serves a blocked client at most 1000 without it).
    pub count: usize,
    pub wait: WaitFor,
}

/// A shard's blocked clients, by (db, key).
pub struct Blocked {
    keys: Vec<HashMap<Vec<u8>, VecDeque<Waiter>, ahash::RandomState>>,
    waiters: usize,
    /// Keys changed since the last `serve_ready`, in the order they changed.
    ready: Vec<(usize, Vec<u8>)>,
    /// While a transaction runs or the shard is held: collect, serve later.
    pub defer: bool,
}

impl Default for Blocked {
    fn default() -> Self {
        Blocked {
            keys: (0..DATABASES).map(|_| HashMap::default()).collect(),
            waiters: 0,
            ready: Vec::new(),
            defer: false,
        }
    }
}

impl Blocked {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.waiters == 0
    }

    /// Waiters registered on this shard (dead ones not yet removed included).
    pub fn len(&self) -> usize {
        self.waiters
    }

    pub fn add(&mut self, db: usize, key: &[u8], w: Waiter) {
        let Some(m) = self.keys.get_mut(db) else {
            return;
        };
        match m.get_mut(key) {
            Some(q) => q.push_back(w),
            None => {
                m.insert(key.to_vec(), VecDeque::from([w]));
            }
        }
        self.waiters += 1;
    }

    /// Removes `token`'s waiters on these keys (the client was answered, timed out or left).
    pub fn remove(&mut self, token: &Arc<BlockToken>, db: usize, keys: &[Vec<u8>]) {
        let Some(m) = self.keys.get_mut(db) else {
            return;
        };
        for k in keys {
            if let Some(q) = m.get_mut(&k[..]) {
                let before = q.len();
                q.retain(|w| !Arc::ptr_eq(&w.token, token));
                self.waiters -= before - q.len();
                if q.is_empty() {
                    m.remove(&k[..]);
                }
            }
        }
    }

    /// Notes that `key` changed, if anyone waits on it.
    #[inline]
    pub fn signal(&mut self, db: usize, key: &[u8]) {
        if self.waiters == 0 {
            return;
        }
        let waited = self.keys.get(db).is_some_and(|m| m.contains_key(key));
        if waited && !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push((db, key.to_vec()));
        }
    }

    /// Notes every key with waiters as changed (FLUSHALL, SWAPDB, expiry sweeps...).
    pub fn signal_all(&mut self) {
        for (db, m) in self.keys.iter().enumerate() {
            for k in m.keys() {
                if !self.ready.iter().any(|(d, r)| *d == db && r == k) {
                    self.ready.push((db, k.clone()));
                }
            }
        }
    }
}

impl Shard {
    /// After a command: keys it wrote that clients wait on are served (unless deferred).
    #[cold]
    pub(crate) fn signal_command_keys(&mut self, db: usize, now: u64, cmd: usize, args: &[&[u8]]) {
        let c = &crate::commands::table()[cmd];
        // A read changes nothing, unless its lookup expired the key (then XREADGROUP readers
        // are told the key is gone).
        let read_only = c.flags & crate::commands::flags::READONLY != 0;
        for i in c.key_positions(args) {
            if let Some(k) = args.get(i) {
                let d = crate::commands::keyspace::key_db(c, args, i, db);
                if read_only && self.dbs[d].peek(k, now).is_some() {
                    continue;
                }
                self.blocked.signal(d, k);
            }
        }
        if c.name == "move" {
            // The key arrives in another db, where someone may wait for it.
            self.blocked.signal_all();
        }
        if !self.blocked.defer {
            self.serve_ready(now);
        }
    }

    /// Serves the waiters of every key noted as changed, each key's in the order they blocked.
    pub fn serve_ready(&mut self, now: u64) {
        while !self.blocked.ready.is_empty() {
            let ready = std::mem::take(&mut self.blocked.ready);
            for (db, key) in ready {
                self.serve_key(db, &key, now);
            }
        }
    }

    fn serve_key(&mut self, db: usize, key: &[u8], now: u64) {
        let Some(mut queue) = self.blocked.keys.get_mut(db).and_then(|m| m.remove(key)) else {
            return;
        };
        let before = queue.len();
        let mut kept = VecDeque::with_capacity(queue.len());
        while let Some(w) = queue.pop_front() {
            if w.token.is_claimed() {
                continue;
            }
            // Replicas get what a served XREADGROUP delivered (src/replication/master.rs).
            let read = crate::replication::master::before_blocked_read(self, db, key, now, &w.wait);
            match stream_read::serve(self, db, key, now, &w) {
                Some(reply) => {
                    crate::replication::master::after_blocked_read(self, db, now, read);
                    w.token.answer(reply)
                }
                None if w.token.is_claimed() => {}
                None => kept.push_back(w),
            }
        }
        self.blocked.waiters -= before - kept.len();
        if !kept.is_empty() {
            if let Some(m) = self.blocked.keys.get_mut(db) {
                // Waiters that registered while we served (none today) go after the old ones.
                if let Some(newer) = m.remove(key) {
                    kept.extend(newer);
                }
                m.insert(key.to_vec(), kept);
            }
        }
    }

    /// Begins a stretch (a transaction, a hold) after which blocked clients are served.
    pub fn defer_serving(&mut self) -> bool {
        std::mem::replace(&mut self.blocked.defer, true)
    }

    /// Ends it: serves what changed meanwhile. `was` is `defer_serving`'s result (nesting).
    pub fn resume_serving(&mut self, was: bool, now: u64) {
        self.blocked.defer = was;
        if !was && !self.blocked.ready.is_empty() {
            self.serve_ready(now);
        }
    }
}
