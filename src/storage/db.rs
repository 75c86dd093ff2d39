//! One logical database (SELECT n) of one shard.

use super::entry::Entry;
use super::table::{Lookup, Table};

#[derive(Default)]
pub struct Db {
    table: Table,
    /// Keys carrying a TTL (INFO keyspace `expires=`; the sweep skips dbs without any).
    volatile: usize,
    /// Next segment the active-expiry sweep visits.
    sweep_cursor: usize,
    /// Keys removed because they had expired, while replicas need to hear of it (each becomes
    /// a DEL in the replication stream: src/replication/master.rs).
    expired_log: Vec<Vec<u8>>,
}

/// What one active-expiry step did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SweepStats {
    pub examined: usize,
    pub expired: usize,
}

impl Db {
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    /// Looks a key up, deleting it first if it has expired (lazy expiry). The bool says whether an
    /// expired key was removed, for the `expired_keys` stat.
    #[inline]
    pub fn lookup(&mut self, key: &[u8], now: u64) -> (Option<&mut Entry>, bool) {
        match self.table.get_live(key, now) {
            Lookup::Live(e) => (Some(e), false),
            Lookup::Expired(_) => {
                // Only keys with a TTL can expire.
                self.volatile -= 1;
                if crate::replication::master::propagating() {
                    self.expired_log.push(key.to_vec());
                }
                (None, true)
            }
            Lookup::Missing => (None, false),
        }
    }

    /// Records that `key` was removed because it had expired (for replication).
    #[inline]
    pub fn note_expired(&mut self, key: &[u8]) {
        if crate::replication::master::propagating() {
            self.expired_log.push(key.to_vec());
        }
    }

    pub fn has_expired_log(&self) -> bool {
        !self.expired_log.is_empty()
    }

    pub fn take_expired_log(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.expired_log)
    }

    /// A read that neither expires nor touches (for internal checks such as TYPE in SCAN).
    pub fn peek(&self, key: &[u8], now: u64) -> Option<&Entry> {
        self.table.get(key).filter(|e| !e.is_expired(now))
    }

    /// Inserts or replaces an entry, keeping the volatile count right.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        if entry.expire_at().is_some() {
            self.volatile += 1;
        }
        let old = self.table.insert(entry);
        if let Some(o) = &old {
            if o.expire_at().is_some() {
                self.volatile -= 1;
            }
        }
        old
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let old = self.table.remove(key);
        if let Some(o) = &old {
            if o.expire_at().is_some() {
                self.volatile -= 1;
            }
        }
        old
    }

    /// Sets or clears a present key's expiry. Returns false if the key is absent.
    pub fn set_expire(&mut self, key: &[u8], at: Option<u64>) -> bool {
        let Some(e) = self.table.get_mut(key) else {
            return false;
        };
        let was = e.expire_at().is_some();
        e.set_expire_at(at);
        match (was, at.is_some()) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        true
    }

    pub fn clear(&mut self) {
        let log = std::mem::take(&mut self.expired_log);
        *self = Db::default();
        self.expired_log = log;
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.table.iter()
    }

    pub fn for_each_mut(&mut self, f: impl FnMut(&mut Entry)) {
        self.table.for_each_mut(f)
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    /// A random live key, if any (RANDOMKEY). `rand` supplies random numbers.
    pub fn random_key(&self, now: u64, mut rand: impl FnMut() -> u64) -> Option<Vec<u8>> {
        if self.table.is_empty() {
            return None;
        }
        let segs = self.table.segment_count();
        // Sample non-empty segments a few times, then fall back to a full walk, so a db of only
        // expired keys still answers (with nil) in bounded time.
        for _ in 0..64 {
            let s = (rand() % segs as u64) as usize;
            let n = self.table.segment_len(s);
            if n == 0 {
                continue;
            }
            let pick = (rand() % n as u64) as usize;
            if let Some(e) = self.table.segment_entries(s).nth(pick) {
                if !e.is_expired(now) {
                    return Some(e.key().to_vec());
                }
            }
        }
        self.iter()
            .find(|e| !e.is_expired(now))
            .map(|e| e.key().to_vec())
    }

    /// One active-expiry step: removes expired entries of the next segment.
    pub fn sweep_step(&mut self, now: u64) -> SweepStats {
        let segs = self.table.segment_count();
        if segs == 0 || self.volatile == 0 {
            return SweepStats::default();
        }
        let i = self.sweep_cursor % segs;
        self.sweep_cursor = (i + 1) % segs;
        let mut expired_volatile = 0;
        let log = crate::replication::master::propagating();
        let expired_log = &mut self.expired_log;
        let (examined, expired) = self.table.retain_segment(i, |e| {
            let dead = e.is_expired(now);
            expired_volatile += dead as usize;
            if dead && log {
                expired_log.push(e.key().to_vec());
            }
            !dead
        });
        self.volatile -= expired_volatile;
        SweepStats { examined, expired }
    }

    pub fn segment_count(&self) -> usize {
        self.table.segment_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lazy_expiry_and_volatile_count() {
        let mut db = Db::default();
        db.insert(Entry::new(b"a", b"1", Some(100), 0));
        db.insert(Entry::new(b"b", b"2", None, 0));
        assert_eq!(db.volatile_len(), 1);
        assert!(db.lookup(b"a", 99).0.is_some());
        let (e, expired) = db.lookup(b"a", 100);
        assert!(e.is_none() && expired);
        assert_eq!(db.len(), 1);
        assert_eq!(db.volatile_len(), 0);
        assert!(db.set_expire(b"b", Some(5)));
        assert_eq!(db.volatile_len(), 1);
        db.insert(Entry::new(b"b", b"3", None, 0));
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn sweep_reclaims_without_access() {
        let mut db = Db::default();
        for i in 0..10_000u32 {
            let exp = if i % 2 == 0 { Some(10) } else { None };
            db.insert(Entry::new(format!("k{i}").as_bytes(), b"v", exp, 0));
        }
        let mut total = 0;
        for _ in 0..db.segment_count() {
            total += db.sweep_step(11).expired;
        }
        assert_eq!(total, 5_000);
        assert_eq!(db.len(), 5_000);
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn random_key_finds_live_keys() {
        let mut db = Db::default();
        let mut x = 1u64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        assert!(db.random_key(0, &mut rand).is_none());
        db.insert(Entry::new(b"only", b"v", None, 0));
        assert_eq!(db.random_key(0, &mut rand).unwrap(), b"only");
    }
}
