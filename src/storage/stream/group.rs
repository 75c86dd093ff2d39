//! Consumer groups (Redis 7.0): a group's delivery cursor and read counter,
//! its pending entries list (PEL: delivered, not yet acknowledged) and its
//! consumers, each with its own PEL.
//!
//! The group PEL maps an ID to its delivery data and owning consumer; the
//! owner is a slot index rather than a name or pointer, so a pending entry
//! costs 24 bytes and the structure stays `Send`.

use std::collections::{btree_map, BTreeMap, BTreeSet};
use std::mem::size_of;

use super::{btree_bytes, EntryRef, Stream, StreamError, StreamId};

/// The named group does not exist. The caller words the NOGROUP error,
/// which differs per command and names the key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NoSuchGroup;

/// A consumer group.
#[derive(Clone)]
pub struct Group {
    last_id: StreamId,
    /// `None` is Redis's SCG_INVALID_ENTRIES_READ: unknown after deletions.
    entries_read: Option<u64>,
    pel: BTreeMap<StreamId, PendingEntry>,
    /// Name -> slot; iterates in Redis's radix tree order (bytewise).
    names: BTreeMap<Box<[u8]>, u32>,
    slots: Vec<Option<Consumer>>,
    free_slots: Vec<u32>,
}

/// A delivered, unacknowledged entry.
#[derive(Clone, Copy, Debug)]
pub struct PendingEntry {
    delivery_time_ms: u64,
    delivery_count: u64,
    consumer: u32,
}

/// A consumer of a group.
#[derive(Clone)]
pub struct Consumer {
    name: Box<[u8]>,
    seen_time_ms: u64,
    pel: BTreeSet<StreamId>,
}

/// XPENDING's summary form.
#[derive(Debug, PartialEq, Eq)]
pub struct PendingSummary<'a> {
    pub count: u64,
    /// Smallest and largest pending IDs; `None` when nothing is pending.
    pub range: Option<(StreamId, StreamId)>,
    /// Consumers with pending entries and how many, in name order.
    pub consumers: Vec<(&'a [u8], u64)>,
}

/// One line of XPENDING's extended form.
#[derive(Debug, PartialEq, Eq)]
pub struct PendingInfo<'a> {
    pub id: StreamId,
    pub consumer: &'a [u8],
    /// Milliseconds since the last delivery (0 if that is in the future).
    pub idle_ms: u64,
    pub delivery_count: u64,
}

/// XCLAIM's options.
#[derive(Clone, Copy, Default, Debug)]
pub struct ClaimOptions {
    /// The new delivery time: `now - idle` for IDLE, the value for TIME
    /// (the last of the two given). Out of `0..=now` means now, as in Redis.
    pub delivery_time_ms: Option<i64>,
    /// RETRYCOUNT (only when given as a non-negative number).
    pub retry_count: Option<u64>,
    /// FORCE: create the pending entry for an existing entry not pending.
    pub force: bool,
    /// JUSTID: do not count this as a delivery.
    pub justid: bool,
    /// LASTID: raise the group's last delivered ID to this.
    pub last_id: Option<StreamId>,
}

/// XAUTOCLAIM's result.
#[derive(Debug)]
pub struct AutoClaim<'a> {
    /// Where the next call should start; 0-0 when the PEL was scanned to its end.
    pub next: StreamId,
    pub claimed: Vec<EntryRef<'a>>,
    /// Pending IDs whose entries were deleted; dropped from the PEL.
    pub deleted: Vec<StreamId>,
}

/// Marks a pending entry FORCE-created and not yet given to a consumer.
const NO_CONSUMER: u32 = u32::MAX;

impl Group {
    fn new(last_id: StreamId, entries_read: Option<u64>) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            names: BTreeMap::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
        }
    }

    /// The last delivered ID (XINFO `last-delivered-id`).
    pub fn last_id(&self) -> StreamId {
        self.last_id
    }

    /// XINFO `entries-read`; `None` is nil.
    pub fn entries_read(&self) -> Option<u64> {
        self.entries_read
    }

    /// Number of pending entries (XINFO `pending`).
    pub fn pending_count(&self) -> usize {
        self.pel.len()
    }

    /// Number of consumers (XINFO `consumers`).
    pub fn consumer_count(&self) -> usize {
        self.names.len()
    }

    /// The group PEL in ID order (XINFO STREAM FULL).
    pub fn pending(&self) -> impl Iterator<Item = (StreamId, &PendingEntry)> + '_ {
        self.pel.iter().map(|(id, p)| (*id, p))
    }

    pub fn pending_entry(&self, id: StreamId) -> Option<&PendingEntry> {
        self.pel.get(&id)
    }

    /// The name of the consumer owning a pending entry.
    pub fn owner(&self, entry: &PendingEntry) -> &[u8] {
        self.slot(entry.consumer).map_or(&[], |c| &c.name)
    }

    /// Consumers in name order (XINFO CONSUMERS).
    pub fn consumers(&self) -> impl Iterator<Item = &Consumer> + '_ {
        self.names.values().filter_map(|&slot| self.slot(slot))
    }

    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.slot(*self.names.get(name)?)
    }

    fn slot(&self, slot: u32) -> Option<&Consumer> {
        self.slots.get(slot as usize)?.as_ref()
    }

    fn slot_mut(&mut self, slot: u32) -> Option<&mut Consumer> {
        self.slots.get_mut(slot as usize)?.as_mut()
    }

    /// Redis's `streamLookupConsumer` (refreshing the seen time) falling back
    /// to `streamCreateConsumer`.
    fn touch_consumer(&mut self, name: &[u8], now_ms: u64) -> u32 {
        if let Some(&slot) = self.names.get(name) {
            if let Some(c) = self.slot_mut(slot) {
                c.seen_time_ms = now_ms;
            }
            return slot;
        }
        self.add_consumer(name, now_ms)
    }

    fn add_consumer(&mut self, name: &[u8], now_ms: u64) -> u32 {
        let consumer = Consumer {
            name: name.into(),
            seen_time_ms: now_ms,
            pel: BTreeSet::new(),
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(consumer);
                slot
            }
            None => {
                self.slots.push(Some(consumer));
                (self.slots.len() - 1) as u32
            }
        };
        self.names.insert(name.into(), slot);
        slot
    }

    /// Removes a pending entry from the group and its owner.
    fn remove_pending(&mut self, id: StreamId) -> bool {
        let Some(entry) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.slot_mut(entry.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Moves a pending entry to consumer `slot` (no-op if it owns it).
    fn assign(&mut self, id: StreamId, slot: u32) {
        let Some(entry) = self.pel.get_mut(&id) else {
            return;
        };
        let old = std::mem::replace(&mut entry.consumer, slot);
        if old != slot {
            if let Some(c) = self.slot_mut(old) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.slot_mut(slot) {
            c.pel.insert(id);
        }
    }

    /// A new delivery to `slot`: a fresh pending entry, or an existing one
    /// (the group cursor was moved back by XGROUP SETID) reset and moved.
    fn deliver(&mut self, id: StreamId, slot: u32, now_ms: u64) {
        match self.pel.get_mut(&id) {
            Some(p) => {
                p.delivery_time_ms = now_ms;
                p.delivery_count = 1;
            }
            None => {
                self.pel.insert(
                    id,
                    PendingEntry {
                        delivery_time_ms: now_ms,
                        delivery_count: 1,
                        consumer: NO_CONSUMER,
                    },
                );
            }
        }
        self.assign(id, slot);
    }

    pub(super) fn mem_usage(&self) -> usize {
        let pel = btree_bytes(
            self.pel.len(),
            size_of::<StreamId>() + size_of::<PendingEntry>(),
        );
        let names = btree_bytes(self.names.len(), size_of::<Box<[u8]>>() + size_of::<u32>());
        let consumers: usize = self
            .consumers()
            .map(|c| 2 * c.name.len() + btree_bytes(c.pel.len(), size_of::<StreamId>()))
            .sum();
        size_of::<Group>()
            + pel
            + names
            + consumers
            + self.slots.capacity() * size_of::<Option<Consumer>>()
            + self.free_slots.capacity() * size_of::<u32>()
    }
}

impl PendingEntry {
    /// When it was last delivered (ms since the epoch).
    pub fn delivery_time_ms(&self) -> u64 {
        self.delivery_time_ms
    }

    pub fn delivery_count(&self) -> u64 {
        self.delivery_count
    }
}

impl Consumer {
    pub fn name(&self) -> &[u8] {
        &self.name
    }

    /// When it last read or claimed (XINFO `seen-time`; `idle` is now minus this).
    pub fn seen_time_ms(&self) -> u64 {
        self.seen_time_ms
    }

    pub fn pending_count(&self) -> usize {
        self.pel.len()
    }

    /// Its pending IDs in order (details via [`Group::pending_entry`]).
    pub fn pending(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.pel.iter().copied()
    }
}

/// Milliseconds since `then`, signed like Redis's `mstime_t` arithmetic.
fn idle(now_ms: u64, then_ms: u64) -> i64 {
    (now_ms as i64).wrapping_sub(then_ms as i64)
}

impl Stream {
    pub fn group(&self, name: &[u8]) -> Option<&Group> {
        self.groups.get(name)
    }

    /// Groups in name order (XINFO GROUPS).
    pub fn groups(&self) -> impl Iterator<Item = (&[u8], &Group)> + '_ {
        self.groups.iter().map(|(n, g)| (&**n, g))
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// XGROUP CREATE. For `$` pass [`Stream::last_id`]. `entries_read` is
    /// ENTRIESREAD (`None` when absent or -1).
    pub fn create_group(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> Result<(), StreamError> {
        if self.groups.contains_key(name) {
            return Err(StreamError::BusyGroup);
        }
        self.groups
            .insert(name.into(), Group::new(last_id, entries_read));
        Ok(())
    }

    /// XGROUP SETID: sets the cursor and the read counter (`None` unless
    /// ENTRIESREAD is given, as in Redis).
    pub fn set_group_id(
        &mut self,
        name: &[u8],
        last_id: StreamId,
        entries_read: Option<u64>,
    ) -> Result<(), NoSuchGroup> {
        let group = self.groups.get_mut(name).ok_or(NoSuchGroup)?;
        group.last_id = last_id;
        group.entries_read = entries_read;
        Ok(())
    }

    /// XGROUP DESTROY: whether the group existed.
    pub fn destroy_group(&mut self, name: &[u8]) -> bool {
        self.groups.remove(name).is_some()
    }

    /// XGROUP CREATECONSUMER: whether it was created (an existing one is
    /// left as is).
    pub fn create_consumer(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        now_ms: u64,
    ) -> Result<bool, NoSuchGroup> {
        let group = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        if group.names.contains_key(consumer) {
            return Ok(false);
        }
        group.add_consumer(consumer, now_ms);
        Ok(true)
    }

    /// XGROUP DELCONSUMER: removes the consumer and its pending entries
    /// (from the group PEL too) and returns how many it had.
    pub fn delete_consumer(&mut self, group: &[u8], consumer: &[u8]) -> Result<u64, NoSuchGroup> {
        let group = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        let Some(slot) = group.names.remove(consumer) else {
            return Ok(0);
        };
        let Some(removed) = group.slots.get_mut(slot as usize).and_then(Option::take) else {
            return Ok(0);
        };
        group.free_slots.push(slot);
        for id in &removed.pel {
            group.pel.remove(id);
        }
        Ok(removed.pel.len() as u64)
    }

    /// XREADGROUP with `>`: delivers up to `count` (0: all) entries after
    /// the group's last ID, advancing it and the read counter, and records
    /// them as pending for `consumer` unless `noack`.
    ///
    /// Returns nothing, and creates no consumer, when no entry is past the
    /// group's cursor: that is when Redis would block (or reply nil).
    pub fn read_group_new(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        count: usize,
        noack: bool,
        now_ms: u64,
    ) -> Result<Vec<EntryRef<'_>>, NoSuchGroup> {
        let log = &self.log;
        let g = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        if log.length == 0 || log.last_live_id() <= g.last_id {
            return Ok(Vec::new());
        }
        let Some(start) = g.last_id.next() else {
            return Ok(Vec::new());
        };
        let slot = g.touch_consumer(consumer, now_ms);
        let mut out = Vec::new();
        for entry in log.range(start, StreamId::MAX) {
            let id = entry.id;
            if id > g.last_id {
                // Count the read while no deletion ahead can skew the count;
                // otherwise (or when unknown) re-derive it from the stream.
                match g.entries_read {
                    Some(read) if !log.has_tombstones_from(id) => {
                        g.entries_read = Some(read.wrapping_add(1));
                    }
                    _ if log.entries_added != 0 => {
                        g.entries_read = log.estimate_entries_read(id);
                    }
                    _ => {}
                }
                g.last_id = id;
            }
            if !noack {
                g.deliver(id, slot, now_ms);
            }
            out.push(entry);
            if out.len() == count {
                break;
            }
        }
        Ok(out)
    }

    /// XREADGROUP with an ID: the consumer's own pending entries from
    /// `start` (inclusive: Redis serves from the given ID plus one), up to
    /// `count` (0: all). Entries deleted since delivery come back as `None`
    /// and are not counted as delivered again.
    pub fn read_group_history(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: usize,
        now_ms: u64,
    ) -> Result<Vec<(StreamId, Option<EntryRef<'_>>)>, NoSuchGroup> {
        let log = &self.log;
        let g = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        let slot = g.touch_consumer(consumer, now_ms);
        let limit = if count == 0 { usize::MAX } else { count };
        let ids: Vec<StreamId> = g
            .slot(slot)
            .map(|c| c.pel.range(start..).take(limit).copied().collect())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let entry = log.get(id);
            if entry.is_some() {
                if let Some(p) = g.pel.get_mut(&id) {
                    p.delivery_time_ms = now_ms;
                    p.delivery_count = p.delivery_count.wrapping_add(1);
                }
            }
            out.push((id, entry));
        }
        Ok(out)
    }

    /// XACK: how many of the IDs were pending (0 without the group, as Redis).
    pub fn ack(&mut self, group: &[u8], ids: &[StreamId]) -> u64 {
        let Some(g) = self.groups.get_mut(group) else {
            return 0;
        };
        ids.iter().filter(|&&id| g.remove_pending(id)).count() as u64
    }

    /// XPENDING key group.
    pub fn pending_summary(&self, group: &[u8]) -> Result<PendingSummary<'_>, NoSuchGroup> {
        let g = self.groups.get(group).ok_or(NoSuchGroup)?;
        let range = match (g.pel.keys().next(), g.pel.keys().next_back()) {
            (Some(first), Some(last)) => Some((*first, *last)),
            _ => None,
        };
        let consumers = if range.is_some() {
            g.consumers()
                .filter(|c| !c.pel.is_empty())
                .map(|c| (&*c.name, c.pel.len() as u64))
                .collect()
        } else {
            Vec::new()
        };
        Ok(PendingSummary {
            count: g.pel.len() as u64,
            range,
            consumers,
        })
    }

    /// `XPENDING key group [IDLE min] start end count [consumer]`: pending
    /// entries in `start..=end`, at most `count` (0 gives none, as Redis
    /// treats a count below 1), of one consumer if named (an unknown one has
    /// none), skipping those idle less than `min_idle_ms` when that is not 0.
    #[allow(clippy::too_many_arguments)]
    pub fn pending_range(
        &self,
        group: &[u8],
        start: StreamId,
        end: StreamId,
        count: usize,
        consumer: Option<&[u8]>,
        min_idle_ms: i64,
        now_ms: u64,
    ) -> Result<Vec<PendingInfo<'_>>, NoSuchGroup> {
        let g = self.groups.get(group).ok_or(NoSuchGroup)?;
        let mut out = Vec::new();
        if start > end || count == 0 {
            return Ok(out);
        }
        let mut emit = |id: StreamId, p: &PendingEntry| {
            let idle_ms = idle(now_ms, p.delivery_time_ms);
            if min_idle_ms != 0 && idle_ms < min_idle_ms {
                return true;
            }
            out.push(PendingInfo {
                id,
                consumer: g.owner(p),
                idle_ms: idle_ms.max(0) as u64,
                delivery_count: p.delivery_count,
            });
            out.len() < count
        };
        match consumer {
            Some(name) => {
                let Some(c) = g.consumer(name) else {
                    return Ok(Vec::new());
                };
                for &id in c.pel.range(start..=end) {
                    if let Some(p) = g.pel.get(&id) {
                        if !emit(id, p) {
                            break;
                        }
                    }
                }
            }
            None => {
                for (&id, p) in g.pel.range(start..=end) {
                    if !emit(id, p) {
                        break;
                    }
                }
            }
        }
        Ok(out)
    }

    /// XCLAIM: gives `consumer` the pending entries among `ids` idle at
    /// least `min_idle_ms`, and returns them. IDs of deleted entries are
    /// dropped from the PEL (Redis 7.0); the consumer is created only when
    /// something is claimed.
    pub fn claim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        min_idle_ms: u64,
        ids: &[StreamId],
        opts: &ClaimOptions,
        now_ms: u64,
    ) -> Result<Vec<EntryRef<'_>>, NoSuchGroup> {
        let log = &self.log;
        let g = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        if let Some(last) = opts.last_id {
            if last > g.last_id {
                g.last_id = last;
            }
        }
        let delivery_time = match opts.delivery_time_ms {
            Some(t) if t >= 0 && (t as u64) <= now_ms => t as u64,
            _ => now_ms,
        };
        let min_idle = i64::try_from(min_idle_ms).unwrap_or(i64::MAX);
        let mut slot = None;
        let mut out = Vec::new();
        for &id in ids {
            let Some(entry) = log.get(id) else {
                g.remove_pending(id);
                continue;
            };
            let p = match g.pel.entry(id) {
                btree_map::Entry::Occupied(e) => e.into_mut(),
                // FORCE makes an entry pending first; it has no owner yet,
                // so no idle time applies.
                btree_map::Entry::Vacant(e) if opts.force => e.insert(PendingEntry {
                    delivery_time_ms: now_ms,
                    delivery_count: 1,
                    consumer: NO_CONSUMER,
                }),
                btree_map::Entry::Vacant(_) => continue,
            };
            if p.consumer != NO_CONSUMER
                && min_idle != 0
                && idle(now_ms, p.delivery_time_ms) < min_idle
            {
                continue;
            }
            let to = *slot.get_or_insert_with(|| g.touch_consumer(consumer, now_ms));
            g.assign(id, to);
            if let Some(p) = g.pel.get_mut(&id) {
                p.delivery_time_ms = delivery_time;
                if let Some(n) = opts.retry_count {
                    p.delivery_count = n;
                } else if !opts.justid {
                    p.delivery_count = p.delivery_count.wrapping_add(1);
                }
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// XAUTOCLAIM: scans the PEL from `start`, claiming for `consumer` the
    /// entries idle at least `min_idle_ms`, until `count` (at least 1) were
    /// claimed or found deleted, or `10 * count` were looked at.
    #[allow(clippy::too_many_arguments)]
    pub fn autoclaim(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        min_idle_ms: u64,
        start: StreamId,
        count: usize,
        justid: bool,
        now_ms: u64,
    ) -> Result<AutoClaim<'_>, NoSuchGroup> {
        const ATTEMPTS_FACTOR: usize = 10;
        let log = &self.log;
        let g = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        let min_idle = i64::try_from(min_idle_ms).unwrap_or(i64::MAX);
        let mut count = count;
        let mut attempts = count.saturating_mul(ATTEMPTS_FACTOR);
        let mut slot = None;
        let mut claimed = Vec::new();
        let mut deleted = Vec::new();
        // The next PEL position to look at; None once past the largest ID.
        let mut cursor = Some(start);
        while let Some(from) = cursor {
            if attempts == 0 || count == 0 {
                break;
            }
            attempts -= 1;
            let Some((&id, p)) = g.pel.range(from..).next() else {
                cursor = None;
                break;
            };
            let delivered = p.delivery_time_ms;
            cursor = id.next();
            let Some(entry) = log.get(id) else {
                g.remove_pending(id);
                deleted.push(id);
                count -= 1;
                continue;
            };
            if min_idle != 0 && idle(now_ms, delivered) < min_idle {
                continue;
            }
            let to = *slot.get_or_insert_with(|| g.touch_consumer(consumer, now_ms));
            g.assign(id, to);
            if let Some(p) = g.pel.get_mut(&id) {
                p.delivery_time_ms = now_ms;
                if !justid {
                    p.delivery_count = p.delivery_count.wrapping_add(1);
                }
            }
            claimed.push(entry);
            count -= 1;
        }
        let next = cursor
            .and_then(|from| g.pel.range(from..).next())
            .map_or(StreamId::MIN, |(id, _)| *id);
        Ok(AutoClaim {
            next,
            claimed,
            deleted,
        })
    }

    /// Loads a consumer (RDB): creates it or sets its seen time.
    pub fn restore_consumer(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        seen_time_ms: u64,
    ) -> Result<(), NoSuchGroup> {
        let g = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        g.touch_consumer(consumer, seen_time_ms);
        Ok(())
    }

    /// Loads a pending entry (RDB) owned by `consumer` (created if needed,
    /// with seen time 0 until [`Stream::restore_consumer`] sets it).
    pub fn restore_pending(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        id: StreamId,
        delivery_time_ms: u64,
        delivery_count: u64,
    ) -> Result<(), NoSuchGroup> {
        let g = self.groups.get_mut(group).ok_or(NoSuchGroup)?;
        let slot = match g.names.get(consumer) {
            Some(&slot) => slot,
            None => g.add_consumer(consumer, 0),
        };
        g.deliver(id, slot, delivery_time_ms);
        if let Some(p) = g.pel.get_mut(&id) {
            p.delivery_count = delivery_count;
        }
        Ok(())
    }
}
