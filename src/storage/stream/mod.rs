//! The Redis stream value: an append-only log of entries with IDs, plus
//! consumer groups, with Redis 7.0.15's semantics (t_stream.c). This module
//! is pure data structure: no command parsing beyond IDs, no replies, no
//! clock (callers pass `now_ms`).
//!
//! Entries live in blocks of up to a node's worth of entries ([`NodeLimits`],
//! Redis's `stream-node-max-bytes` / `stream-node-max-entries`), kept in a
//! `BTreeMap` keyed by each block's first ID, the role Redis's radix tree of
//! listpacks plays. A block packs its entries into one byte vector with IDs
//! delta-encoded and field names shared with the block's first entry (see
//! `block.rs`); deletion flags entries in place. Blocks break exactly where
//! Redis's listpacks would, because approximate trimming (`~`) removes whole
//! blocks and its results are visible to clients.
//!
//! Iteration walks blocks and entries the way Redis's stream iterator does
//! (see [`Stream::range`]), so even the odd cases agree: after XSETID moves
//! the last ID back behind deleted entries, new entries follow those
//! tombstones inside a block. The tests replay random command sequences on
//! a live redis-server and compare every reply and XINFO field.
//!
//! Costs: append amortised O(1) (plus O(log n) when a block starts); range
//! O(log n + block + k) either direction (a block is decoded front to back,
//! so a reverse walk decodes each block it touches in full); lookup by ID
//! O(log n + block).

mod block;
mod group;
mod id;
pub mod object;

#[cfg(test)]
mod tests;

use std::collections::{btree_map, BTreeMap};
use std::mem::size_of;

pub use block::{EntryRef, Fields, NodeLimits};
pub use group::{
    AutoClaim, ClaimOptions, Consumer, Group, NoSuchGroup, PendingEntry, PendingInfo,
    PendingSummary,
};
pub use id::{AddId, StreamError, StreamId};

use block::{raw_len, Block, Cursor, RawEntry, LISTPACK_MAX_SIZE};

/// How XTRIM / XADD's trimming option bounds the stream.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Trim {
    /// MAXLEN: keep at most this many entries.
    MaxLen(u64),
    /// MINID: drop entries with an ID below this one.
    MinId(StreamId),
}

/// A stream value.
#[derive(Clone, Default)]
pub struct Stream {
    log: Log,
    /// By name; a BTreeMap of byte strings iterates in the order of Redis's
    /// radix tree, which XINFO GROUPS shows.
    groups: BTreeMap<Box<[u8]>, Group>,
}

/// The entries and the counters describing them; kept apart from the groups
/// so group operations can read entries while updating a group.
#[derive(Clone, Default)]
struct Log {
    blocks: BTreeMap<StreamId, Block>,
    /// Live entries.
    length: u64,
    /// The last ID ever added (or set by XSETID); may be deleted.
    last_id: StreamId,
    /// The first live entry's ID, 0-0 when empty (Redis keeps it as a field;
    /// the lag estimate reads it).
    first_id: StreamId,
    /// The largest ID deleted by XDEL (trimming does not count).
    max_deleted_entry_id: StreamId,
    /// Entries ever added (or as set by XSETID).
    entries_added: u64,
}

impl Stream {
    pub fn new() -> Stream {
        Stream::default()
    }

    /// Number of entries (XLEN).
    pub fn len(&self) -> u64 {
        self.log.length
    }

    pub fn is_empty(&self) -> bool {
        self.log.length == 0
    }

    /// The last generated ID (XINFO `last-generated-id`; what `$` means).
    pub fn last_id(&self) -> StreamId {
        self.log.last_id
    }

    /// XINFO `recorded-first-entry-id`: the first entry's ID, 0-0 if empty.
    pub fn first_id(&self) -> StreamId {
        self.log.first_id
    }

    /// The first ID stored, deleted entries (tombstones) included (Redis's
    /// `streamGetEdgeID(s, 1, 0, ..)`: what an approximate MINID trim is propagated as).
    pub fn first_stored_id(&self) -> Option<StreamId> {
        self.log.blocks.keys().next().copied()
    }

    /// XINFO `max-deleted-entry-id`.
    pub fn max_deleted_entry_id(&self) -> StreamId {
        self.log.max_deleted_entry_id
    }

    /// XINFO `entries-added`.
    pub fn entries_added(&self) -> u64 {
        self.log.entries_added
    }

    /// Number of blocks (XINFO `radix-tree-keys`: Redis has one key per
    /// listpack and our blocks break where its listpacks do).
    pub fn block_count(&self) -> usize {
        self.log.blocks.len()
    }

    /// XADD: appends an entry and returns its ID. `pairs` alternates field
    /// and value (an odd trailing element is ignored; the command checks
    /// arity). The checks run in Redis's order, so the same error wins.
    pub fn add(
        &mut self,
        id: AddId,
        pairs: &[&[u8]],
        now_ms: u64,
        limits: NodeLimits,
    ) -> Result<StreamId, StreamError> {
        check_add_id(id)?;
        let log = &mut self.log;
        if log.last_id == StreamId::MAX {
            return Err(StreamError::IdExhausted);
        }
        let last = log.last_id;
        let new_id = match id {
            AddId::Explicit(id) => id,
            AddId::AutoSeq(ms) if ms == last.ms => match last.next() {
                // Redis 7.0.15 answers the used-up sequence with this text.
                Some(next) if next.ms == ms => next,
                _ => return Err(StreamError::ElementsTooLarge),
            },
            AddId::AutoSeq(ms) => StreamId::new(ms, 0),
            AddId::Auto if now_ms > last.ms => StreamId::new(now_ms, 0),
            AddId::Auto => last.next().ok_or(StreamError::IdExhausted)?,
        };
        if new_id <= last {
            return Err(StreamError::IdNotGreater);
        }
        let pairs = &pairs[..pairs.len() & !1];
        if raw_len(pairs) > LISTPACK_MAX_SIZE {
            return Err(StreamError::ElementsTooLarge);
        }
        let appended = match log.blocks.last_entry() {
            Some(mut tail) if tail.get().accepts(pairs, limits) => {
                let key = *tail.key();
                tail.get_mut().append(key, new_id, pairs);
                true
            }
            Some(mut tail) => {
                tail.get_mut().seal();
                false
            }
            None => false,
        };
        if !appended {
            log.blocks.insert(new_id, Block::new(new_id, pairs));
        }
        log.length += 1;
        log.entries_added += 1;
        log.last_id = new_id;
        if log.length == 1 {
            log.first_id = new_id;
        }
        Ok(new_id)
    }

    /// The entry with this ID, if present.
    pub fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        self.log.get(id)
    }

    pub fn contains(&self, id: StreamId) -> bool {
        self.log.get(id).is_some()
    }

    /// The first entry (XINFO `first-entry`).
    pub fn first_entry(&self) -> Option<EntryRef<'_>> {
        self.log.range(StreamId::MIN, StreamId::MAX).next()
    }

    /// The last entry (XINFO `last-entry`).
    pub fn last_entry(&self) -> Option<EntryRef<'_>> {
        self.log.range_rev(StreamId::MIN, StreamId::MAX).next()
    }

    /// Entries with `start <= id <= end`, ascending (XRANGE; COUNT is
    /// `.take(n)`). Bounds are inclusive: see [`StreamId::parse_range_start`].
    /// Like Redis, the walk starts at the block keyed at or before `start`
    /// and ends at the first live entry above `end`.
    pub fn range(&self, start: StreamId, end: StreamId) -> Range<'_> {
        self.log.range(start, end)
    }

    /// Entries with `start <= id <= end`, descending (XREVRANGE). Like
    /// Redis, the walk starts at the block keyed at or before `end` and ends
    /// at the first live entry below `start`.
    pub fn range_rev(&self, start: StreamId, end: StreamId) -> RevRange<'_> {
        self.log.range_rev(start, end)
    }

    /// XDEL: deletes the entries with these IDs and returns how many
    /// existed. Updates the max deleted ID and the first ID as Redis does.
    pub fn delete(&mut self, ids: &[StreamId]) -> u64 {
        let log = &mut self.log;
        let mut deleted = 0;
        let mut first_deleted = false;
        for &id in ids {
            if log.delete_one(id) {
                deleted += 1;
                first_deleted |= id == log.first_id;
                if id > log.max_deleted_entry_id {
                    log.max_deleted_entry_id = id;
                }
            }
        }
        if deleted > 0 {
            if log.length == 0 {
                log.first_id = StreamId::MIN;
            } else if first_deleted {
                log.first_id = log.first_live_id();
            }
        }
        deleted
    }

    /// XTRIM (and XADD's trimming): removes entries from the head and
    /// returns how many. `approx` (`~`) removes whole blocks only, stopping at
    /// the first block that cannot go entirely; `limit` (0: none) stops before
    /// a block that would take the count above it. Same algorithm as Redis's
    /// `streamTrim`, so the same entries go. Exact MINID trimming can leave
    /// a block of tombstones only, as in Redis (later appends may go into it).
    pub fn trim(&mut self, trim: Trim, approx: bool, limit: u64) -> u64 {
        let log = &mut self.log;
        let mut removed = 0u64;
        loop {
            if let Trim::MaxLen(max) = trim {
                if log.length <= max {
                    break;
                }
            }
            let Some(mut head) = log.blocks.first_entry() else {
                break;
            };
            let key = *head.key();
            let block = head.get_mut();
            let entries = u64::from(block.live);
            if limit != 0 && removed + entries > limit {
                break;
            }
            let whole = match trim {
                Trim::MaxLen(max) => log.length - entries >= max,
                Trim::MinId(min) => block.last < min,
            };
            if whole {
                head.remove();
                log.length -= entries;
                removed += entries;
                continue;
            }
            if approx {
                break;
            }
            // Flag entries of this block until the bound is met; the next
            // entries of the stream are all in this block or later.
            let mut cursor = block.cursor(key);
            let mut to_delete = Vec::new();
            let mut length = log.length;
            while let Some(raw) = cursor.next_raw() {
                let stop = match trim {
                    Trim::MaxLen(max) => length <= max,
                    Trim::MinId(min) => raw.id >= min,
                };
                if stop {
                    break;
                }
                if !raw.is_deleted() {
                    to_delete.push(raw.tag_pos);
                    length -= 1;
                }
            }
            for tag_pos in to_delete {
                block.mark_deleted(tag_pos);
            }
            removed += log.length - length;
            log.length = length;
            break;
        }
        log.first_id = if log.length == 0 {
            StreamId::MIN
        } else {
            log.first_live_id()
        };
        removed
    }

    /// XSETID. `max_deleted` of 0-0 is ignored, as in Redis. Checks in
    /// Redis 7.0.15's order (it has no check against the current max
    /// deleted ID; 7.2 added one).
    pub fn set_id(
        &mut self,
        id: StreamId,
        entries_added: Option<u64>,
        max_deleted: Option<StreamId>,
    ) -> Result<(), StreamError> {
        check_set_id_args(id, max_deleted)?;
        let log = &mut self.log;
        if log.length > 0 {
            if id < log.last_live_id() {
                return Err(StreamError::SetIdBelowTop);
            }
            if matches!(entries_added, Some(added) if added < log.length) {
                return Err(StreamError::EntriesAddedBelowLength);
            }
        }
        log.last_id = id;
        if let Some(added) = entries_added {
            log.entries_added = added;
        }
        if let Some(max) = max_deleted.filter(|m| !m.is_zero()) {
            log.max_deleted_entry_id = max;
        }
        Ok(())
    }

    /// Sets the counters kept beside the entries, for loading a stream
    /// saved elsewhere (RDB): the entries are added first, then this.
    pub fn restore_metadata(
        &mut self,
        last_id: StreamId,
        entries_added: u64,
        max_deleted_entry_id: StreamId,
    ) {
        self.log.last_id = last_id;
        self.log.entries_added = entries_added;
        self.log.max_deleted_entry_id = max_deleted_entry_id;
    }

    /// The group's lag (XINFO GROUPS `lag`): entries not yet delivered to
    /// it, or `None` (nil) when deletions make it unknowable. Redis 7.0's
    /// `streamReplyWithCGLag`; negative when ENTRIESREAD was set too high.
    pub fn lag(&self, group: &Group) -> Option<i64> {
        let log = &self.log;
        if log.entries_added == 0 {
            return Some(0);
        }
        let read = match group.entries_read() {
            Some(read) if !log.has_tombstones_from(group.last_id()) => read,
            _ => log.estimate_entries_read(group.last_id())?,
        };
        Some((log.entries_added as i64).wrapping_sub(read as i64))
    }

    /// Bytes used, estimated: the blocks' buffers, the B-tree holding them,
    /// and the groups.
    pub fn mem_usage(&self) -> usize {
        let blocks: usize = self.log.blocks.values().map(Block::heap_bytes).sum();
        let tree = btree_bytes(
            self.log.blocks.len(),
            size_of::<StreamId>() + size_of::<Block>(),
        );
        let groups: usize = self
            .groups
            .iter()
            .map(|(name, g)| name.len() + g.mem_usage())
            .sum();
        let group_tree = btree_bytes(
            self.groups.len(),
            size_of::<Box<[u8]>>() + size_of::<Group>(),
        );
        size_of::<Stream>() + blocks + tree + groups + group_tree
    }

    /// Heap capacity of the entry buffers alone (for measuring the encoding).
    pub fn entry_bytes(&self) -> usize {
        self.log.blocks.values().map(Block::heap_bytes).sum()
    }
}

/// Heap bytes of a `BTreeMap` with `len` slots of `slot` bytes. Keys
/// inserted in ascending order (IDs, mostly) leave nodes about half full:
/// measured 1.9 times the slot size per slot.
pub(super) fn btree_bytes(len: usize, slot: usize) -> usize {
    len * slot * 19 / 10
}

/// The XADD checks that need no stream: Redis rejects `0-0` before it
/// looks the key up (so no empty stream is created).
pub fn check_add_id(id: AddId) -> Result<(), StreamError> {
    if id == AddId::Explicit(StreamId::MIN) {
        return Err(StreamError::ZeroId);
    }
    Ok(())
}

/// The XSETID checks that need no stream (Redis makes them while parsing,
/// before the key lookup).
pub fn check_set_id_args(id: StreamId, max_deleted: Option<StreamId>) -> Result<(), StreamError> {
    match max_deleted {
        Some(max) if id < max => Err(StreamError::SetIdBelowMaxDeleted),
        _ => Ok(()),
    }
}

impl Log {
    fn range(&self, start: StreamId, end: StreamId) -> Range<'_> {
        Range {
            raw: self.raw_range(start, end),
        }
    }

    /// Redis's forward `streamIterator`: from the block keyed at or before
    /// `start` (the first block if none), entries in stored order,
    /// tombstones and entries below `start` skipped, ending at the first
    /// live entry above `end`. Stored order is ID order except after XSETID
    /// moved the last ID back behind a deleted entry; following Redis's walk
    /// keeps even those cases identical.
    fn raw_range(&self, start: StreamId, end: StreamId) -> RawRange<'_> {
        let from = if start.is_zero() {
            None
        } else {
            self.blocks.range(..=start).next_back().map(|(k, _)| *k)
        };
        let blocks = match from {
            _ if start > end => None,
            Some(key) => Some(self.blocks.range(key..)),
            None => Some(self.blocks.range(..)),
        };
        RawRange {
            blocks,
            cursor: None,
            start,
            end,
        }
    }

    /// Redis's reverse `streamIterator`: from the block keyed at or before
    /// `end` (the last block if none), entries in reverse stored order,
    /// tombstones and entries above `end` skipped, ending at the first live
    /// entry below `start`.
    fn range_rev(&self, start: StreamId, end: StreamId) -> RevRange<'_> {
        let upto = if end.is_zero() {
            None
        } else {
            self.blocks.range(..=end).next_back().map(|(k, _)| *k)
        };
        let blocks = match upto {
            _ if start > end => None,
            Some(key) => Some(self.blocks.range(..=key)),
            None => Some(self.blocks.range(..)),
        };
        RevRange {
            blocks,
            pending: Vec::new(),
            data: &[],
            start,
            end,
        }
    }

    /// Where the live entry with this ID is (Redis finds it with a one-ID
    /// iteration too).
    fn locate(&self, id: StreamId) -> Option<(StreamId, &Block, RawEntry)> {
        self.raw_range(id, id).next()
    }

    fn get(&self, id: StreamId) -> Option<EntryRef<'_>> {
        let (_, block, raw) = self.locate(id)?;
        Some(EntryRef::new(&block.data, &raw))
    }

    /// Redis's `streamDeleteItem` / `streamIteratorRemoveEntry`: a block
    /// whose last live entry goes is dropped.
    fn delete_one(&mut self, id: StreamId) -> bool {
        let Some((key, _, raw)) = self.locate(id) else {
            return false;
        };
        let Some(block) = self.blocks.get_mut(&key) else {
            return false;
        };
        if block.live == 1 {
            self.blocks.remove(&key);
        } else {
            block.mark_deleted(raw.tag_pos);
        }
        self.length -= 1;
        true
    }

    fn first_live_id(&self) -> StreamId {
        self.range(StreamId::MIN, StreamId::MAX)
            .next()
            .map_or(StreamId::MIN, |e| e.id)
    }

    /// Redis's `streamLastValidID`: the last entry not deleted (0-0 if none).
    fn last_live_id(&self) -> StreamId {
        self.range_rev(StreamId::MIN, StreamId::MAX)
            .next()
            .map_or(StreamId::MIN, |e| e.id)
    }

    /// Redis's `streamRangeHasTombstones(s, start, NULL)`: whether an entry
    /// at or after `start` may have been deleted.
    fn has_tombstones_from(&self, start: StreamId) -> bool {
        let max_del = self.max_deleted_entry_id;
        if self.length == 0 || max_del.is_zero() || self.first_id > max_del {
            return false;
        }
        start <= max_del
    }

    /// Redis 7.0.15's `streamEstimateDistanceFromFirstEverEntry`: how many
    /// entries a reader that has reached `id` has read, when that can be
    /// known; `None` otherwise (SCG_INVALID_ENTRIES_READ).
    fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        let max_del = self.max_deleted_entry_id;
        if max_del.is_zero() || max_del < self.first_id {
            // Nothing deleted among the entries still here.
            // Wrapping, as Redis's unsigned arithmetic: a loaded stream may
            // claim fewer entries added than it holds.
            let before_first = self.entries_added.wrapping_sub(self.length);
            if id < self.first_id {
                return Some(before_first);
            }
            if id == self.first_id {
                return Some(before_first.wrapping_add(1));
            }
        }
        None
    }
}

/// Forward walk yielding live entries in range with their block.
struct RawRange<'a> {
    blocks: Option<btree_map::Range<'a, StreamId, Block>>,
    cursor: Option<(StreamId, &'a Block, Cursor<'a>)>,
    start: StreamId,
    end: StreamId,
}

impl<'a> Iterator for RawRange<'a> {
    type Item = (StreamId, &'a Block, RawEntry);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((key, block, cursor)) = &mut self.cursor {
                while let Some(raw) = cursor.next_raw() {
                    if raw.is_deleted() || raw.id < self.start {
                        continue;
                    }
                    if raw.id > self.end {
                        self.blocks = None;
                        self.cursor = None;
                        return None;
                    }
                    return Some((*key, *block, raw));
                }
                self.cursor = None;
            }
            let (key, block) = self.blocks.as_mut()?.next()?;
            self.cursor = Some((*key, block, block.cursor(*key)));
        }
    }
}

/// Ascending iterator over live entries in an inclusive ID range.
pub struct Range<'a> {
    raw: RawRange<'a>,
}

impl<'a> Iterator for Range<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        let (_, block, raw) = self.raw.next()?;
        Some(EntryRef::new(&block.data, &raw))
    }
}

/// Descending iterator over live entries in an inclusive ID range.
pub struct RevRange<'a> {
    /// Blocks still to visit, consumed from the back.
    blocks: Option<btree_map::Range<'a, StreamId, Block>>,
    /// The current block's live entries up to `end`, in stored order;
    /// popped from the back.
    pending: Vec<RawEntry>,
    data: &'a [u8],
    start: StreamId,
    end: StreamId,
}

impl<'a> Iterator for RevRange<'a> {
    type Item = EntryRef<'a>;

    fn next(&mut self) -> Option<EntryRef<'a>> {
        loop {
            if let Some(raw) = self.pending.pop() {
                if raw.id < self.start {
                    self.blocks = None;
                    self.pending.clear();
                    return None;
                }
                return Some(EntryRef::new(self.data, &raw));
            }
            let (key, block) = self.blocks.as_mut()?.next_back()?;
            let mut cursor = block.cursor(*key);
            while let Some(raw) = cursor.next_raw() {
                // What the backward walk would skip need not be kept.
                if !raw.is_deleted() && raw.id <= self.end {
                    self.pending.push(raw);
                }
            }
            self.data = &block.data;
        }
    }
}
