//! A hash table split into segments by the top bits of the key's hash (extendible hashing).
//!
//! Why segments: a segment covers one contiguous range of hash space, so SCAN can use a hash
//! position as its cursor and visit every key present throughout the scan even while the table
//! grows (a split only refines ranges); growth rehashes one segment at a time, never the whole
//! table at once; and the active-expiry sweep walks one bounded segment per step.

use hashbrown::HashTable;
use std::sync::OnceLock;

use super::entry::Entry;

/// A segment splits when it reaches this many entries: 7/8 of 4096 buckets, hashbrown's load limit,
/// so a full segment never resizes its buckets beyond 4096.
const SEG_MAX: usize = 3584;

/// One process-wide hasher: every shard and db hashes alike, so cursors mean the same everywhere.
fn hasher() -> &'static ahash::RandomState {
    static H: OnceLock<ahash::RandomState> = OnceLock::new();
    H.get_or_init(ahash::RandomState::new)
}

#[inline]
pub fn hash_key(key: &[u8]) -> u64 {
    hasher().hash_one(key)
}

/// hashbrown takes its bucket index from the low bits and its tag from the top 7 bits; the top
/// bits are the same for every key of a segment, so feed it the hash rotated.
#[inline]
fn inner(h: u64) -> u64 {
    h.rotate_left(32)
}

#[inline]
fn inner_of(e: &Entry) -> u64 {
    inner(hash_key(e.key()))
}

struct Segment {
    /// Local depth: the segment holds the hashes whose top `depth` bits equal `prefix`.
    depth: u32,
    prefix: u64,
    map: HashTable<Entry>,
}

impl Segment {
    /// First hash of the range after this segment's, or None at the end of hash space.
    fn end(&self) -> Option<u64> {
        if self.depth == 0 {
            return None;
        }
        let shift = 64 - self.depth;
        (self.prefix + 1)
            .checked_shl(shift)
            .filter(|_| self.prefix + 1 < (1u64 << self.depth))
    }
}

/// What [`Table::get_live`] found.
pub enum Lookup<'a> {
    Live(&'a mut Entry),
    /// The key had expired and was removed.
    Expired(Entry),
    Missing,
}

pub struct Table {
    /// 2^global_depth slots, each the index of the segment covering that hash prefix.
    dir: Vec<u32>,
    global_depth: u32,
    segs: Vec<Segment>,
    len: usize,
}

impl Default for Table {
    fn default() -> Self {
        Table::new()
    }
}

impl Table {
    pub fn new() -> Table {
        Table {
            dir: vec![0],
            global_depth: 0,
            segs: vec![Segment {
                depth: 0,
                prefix: 0,
                map: HashTable::new(),
            }],
            len: 0,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn seg_index(&self, h: u64) -> usize {
        if self.global_depth == 0 {
            0
        } else {
            self.dir[(h >> (64 - self.global_depth)) as usize] as usize
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let h = hash_key(key);
        self.segs[self.seg_index(h)]
            .map
            .find(inner(h), |e| e.key() == key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let h = hash_key(key);
        let s = self.seg_index(h);
        self.segs[s].map.find_mut(inner(h), |e| e.key() == key)
    }

    /// One probe for a read: the live entry, or the expired one removed (lazy expiry), or None.
    #[inline]
    pub fn get_live(&mut self, key: &[u8], now: u64) -> Lookup<'_> {
        let h = hash_key(key);
        let s = self.seg_index(h);
        match self.segs[s].map.find_entry(inner(h), |e| e.key() == key) {
            Ok(o) if o.get().is_expired(now) => {
                self.len -= 1;
                Lookup::Expired(o.remove().0)
            }
            Ok(o) => Lookup::Live(o.into_mut()),
            Err(_) => Lookup::Missing,
        }
    }

    /// Inserts or replaces; returns the replaced entry.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        let h = hash_key(entry.key());
        let mut s = self.seg_index(h);
        if self.segs[s].map.len() >= SEG_MAX {
            // Split first unless the key is already there (a replace never grows the segment).
            if self.segs[s]
                .map
                .find(inner(h), |e| e.key() == entry.key())
                .is_none()
            {
                self.split(s);
                s = self.seg_index(h);
            }
        }
        let map = &mut self.segs[s].map;
        match map.entry(inner(h), |e| e.key() == entry.key(), inner_of) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                Some(std::mem::replace(o.get_mut(), entry))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(entry);
                self.len += 1;
                None
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = hash_key(key);
        let s = self.seg_index(h);
        match self.segs[s].map.find_entry(inner(h), |e| e.key() == key) {
            Ok(o) => {
                self.len -= 1;
                Some(o.remove().0)
            }
            Err(_) => None,
        }
    }

    fn split(&mut self, s: usize) {
        if self.segs[s].depth == self.global_depth {
            // Double the directory: slot i of the new one covers prefix i, whose parent is i/2.
            let old = std::mem::take(&mut self.dir);
            self.dir = old.iter().flat_map(|&x| [x, x]).collect();
            self.global_depth += 1;
        }
        let depth = self.segs[s].depth + 1;
        let prefix = self.segs[s].prefix << 1;
        let bit = 1u64 << (64 - depth);
        // Rebuild both halves into fresh tables: removing half the entries in place would leave
        // tombstones that make hashbrown double the old table on the next inserts.
        let mut lower = HashTable::with_capacity(SEG_MAX);
        let mut upper = HashTable::with_capacity(SEG_MAX);
        let seg = &mut self.segs[s];
        seg.depth = depth;
        seg.prefix = prefix;
        for e in std::mem::take(&mut seg.map) {
            let h = hash_key(e.key());
            let half = if h & bit != 0 { &mut upper } else { &mut lower };
            half.insert_unique(inner(h), e, inner_of);
        }
        seg.map = lower;
        let new_index = self.segs.len() as u32;
        self.segs.push(Segment {
            depth,
            prefix: prefix | 1,
            map: upper,
        });
        // The directory slots of the upper half now point at the new segment.
        let span = 1usize << (self.global_depth - depth);
        let first = ((prefix | 1) as usize) * span;
        for slot in &mut self.dir[first..first + span] {
            *slot = new_index;
        }
    }

    pub fn clear(&mut self) {
        *self = Table::new();
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.segs.iter().flat_map(|s| s.map.iter())
    }

    /// Every entry, mutably (taking a snapshot's references marks each entry).
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&mut Entry)) {
        for s in &mut self.segs {
            for e in s.map.iter_mut() {
                f(e);
            }
        }
    }

    pub fn segment_count(&self) -> usize {
        self.segs.len()
    }

    /// Removes the entries of segment `i` (by storage order, for sweeps) for which `f` is false.
    /// Returns (examined, removed).
    pub fn retain_segment(
        &mut self,
        i: usize,
        mut f: impl FnMut(&Entry) -> bool,
    ) -> (usize, usize) {
        let Some(seg) = self.segs.get_mut(i) else {
            return (0, 0);
        };
        let before = seg.map.len();
        seg.map.retain(|e| f(e));
        let removed = before - seg.map.len();
        self.len -= removed;
        (before, removed)
    }

    /// Entries of one segment, for random sampling.
    pub fn segment_entries(&self, i: usize) -> impl Iterator<Item = &Entry> {
        self.segs.get(i).into_iter().flat_map(|s| s.map.iter())
    }

    pub fn segment_len(&self, i: usize) -> usize {
        self.segs.get(i).map_or(0, |s| s.map.len())
    }

    /// One SCAN step from hash position `pos`: calls `visit` for entries with hash >= pos in
    /// ascending hash order until at least `count` entries were visited (entries sharing the
    /// cursor's granularity are never split across calls). Returns the next position, or None
    /// when the end of hash space was reached. `granularity_bits` low bits of positions are
    /// dropped by the caller's cursor encoding, so entries are grouped by `hash >> bits`.
    pub fn scan(
        &self,
        mut pos: u64,
        count: usize,
        granularity_bits: u32,
        mut visit: impl FnMut(&Entry),
    ) -> Option<u64> {
        let mut visited = 0usize;
        let mut batch: Vec<(u64, &Entry)> = Vec::new();
        loop {
            let seg = &self.segs[self.seg_index(pos)];
            batch.clear();
            batch.extend(
                seg.map
                    .iter()
                    .map(|e| (hash_key(e.key()) >> granularity_bits, e))
                    .filter(|(h, _)| *h >= pos >> granularity_bits),
            );
            batch.sort_unstable_by_key(|(h, _)| *h);
            let mut i = 0;
            while i < batch.len() {
                let group = batch[i].0;
                while i < batch.len() && batch[i].0 == group {
                    visit(batch[i].1);
                    visited += 1;
                    i += 1;
                }
                if visited >= count && i < batch.len() {
                    return Some(batch[i].0 << granularity_bits);
                }
            }
            pos = seg.end()?;
            if visited >= count {
                return Some(pos);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn insert_get_remove_across_splits() {
        let mut t = Table::new();
        for i in 0..20_000 {
            assert!(t.insert(Entry::new(&key(i), b"v", None, 0)).is_none());
        }
        assert_eq!(t.len(), 20_000);
        assert!(t.segment_count() > 4);
        for i in 0..20_000 {
            assert_eq!(t.get(&key(i)).map(|e| e.value()), Some(&b"v"[..]));
        }
        assert!(t.insert(Entry::new(&key(7), b"w", None, 0)).is_some());
        assert_eq!(t.get(&key(7)).unwrap().value(), b"w");
        for i in 0..10_000 {
            assert!(t.remove(&key(i)).is_some());
        }
        assert_eq!(t.len(), 10_000);
        assert!(t.get(&key(3)).is_none());
        assert_eq!(t.iter().count(), 10_000);
    }

    #[test]
    fn scan_visits_every_key_present_throughout_while_growing() {
        let mut t = Table::new();
        for i in 0..5_000 {
            t.insert(Entry::new(&key(i), b"v", None, 0));
        }
        let mut seen = HashSet::new();
        let mut pos = 0u64;
        let mut next_new = 100_000;
        loop {
            let r = t.scan(pos, 10, 10, |e| {
                seen.insert(e.key().to_vec());
            });
            // Grow the table between calls, forcing splits mid-scan.
            for _ in 0..50 {
                t.insert(Entry::new(&key(next_new), b"v", None, 0));
                next_new += 1;
            }
            match r {
                Some(p) => {
                    assert!(p >= pos, "cursor went backwards");
                    pos = p
                }
                None => break,
            }
        }
        for i in 0..5_000 {
            assert!(seen.contains(&key(i)), "missed key {i}");
        }
    }

    #[test]
    fn scan_returns_about_count() {
        let mut t = Table::new();
        for i in 0..1000 {
            t.insert(Entry::new(&key(i), b"v", None, 0));
        }
        let mut n = 0;
        let next = t.scan(0, 10, 10, |_| n += 1);
        assert!(next.is_some());
        assert!((10..=12).contains(&n), "{n}");
    }
}
