//! A block: up to a node's worth of consecutive stream entries packed into
//! one byte vector, the counterpart of one listpack in Redis's radix tree.
//!
//! Layout of `data`:
//!
//! ```text
//! header:  varint nfields, then nfields x (varint len, bytes)    -- the master field names
//! entry:   tag byte, [id bytes], body
//! body:    SAMEFIELDS: one (varint len, bytes) value per master field
//!          otherwise:  varint nfields, then nfields x (field, value), each (varint len, bytes)
//! ```
//!
//! The tag's low two bits are the flags (deleted, same fields as the master);
//! its upper six bits say how the ID follows from the previous entry's ID, so
//! the common cases (next sequence in the same millisecond, or a later
//! millisecond with sequence 0) cost no byte beyond the tag. The first
//! entry's ID is the block's key. Deleting flips the deleted bit in place, so
//! offsets never move; bytes are reclaimed when the whole block goes, as in
//! Redis.
//!
//! Entries are decoded front to back only. Reverse iteration decodes a block
//! forwards and replays it backwards; a block holds a bounded number of
//! entries (the node limits), so that is a constant factor, and it saves the
//! back-length bytes a listpack spends on every element.

use super::id::StreamId;
use crate::util::num::parse_i64;

pub(super) const FLAG_DELETED: u8 = 1;
pub(super) const FLAG_SAMEFIELDS: u8 = 2;
const FLAG_MASK: u8 = 3;

/// Tag ID kinds (the tag's upper six bits).
/// Same millisecond as the previous entry, sequence + 1 (also: first entry).
const ID_NEXT_SEQ: u8 = 0;
/// 1..=61: the millisecond grows by that much and the sequence is 0.
const ID_SMALL_MS_MAX: u8 = 61;
/// A varint millisecond delta and a varint sequence follow.
const ID_MS_AND_SEQ: u8 = 62;
/// Same millisecond; a varint gap (sequence - previous - 1) follows.
const ID_SEQ_GAP: u8 = 63;

/// Redis's `STREAM_LISTPACK_MAX_SIZE`: the node byte limit is capped here.
pub(super) const LISTPACK_MAX_SIZE: u64 = 1 << 30;

/// When a block is full: the `stream-node-max-bytes` and
/// `stream-node-max-entries` settings. Blocks break where Redis's listpacks
/// break (the byte limit is applied to the size the same entries would take
/// in a Redis listpack), so approximate trimming removes the same entries.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NodeLimits {
    /// 0 means no limit (capped at 1 GiB, as in Redis).
    pub max_bytes: u64,
    /// 0 means no limit.
    pub max_entries: u64,
}

impl Default for NodeLimits {
    /// Redis's defaults: 4096 bytes, 100 entries.
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

#[derive(Clone)]
pub(super) struct Block {
    pub data: Vec<u8>,
    /// Entries not deleted.
    pub live: u32,
    /// Entries flagged deleted (tombstones), still taking space.
    pub deleted: u32,
    /// The ID of the last entry, deleted or not: MINID trimming drops a
    /// whole block when this is below the limit, as Redis does.
    pub last: StreamId,
    /// The Redis listpack size of this block less its two counters (see
    /// [`Block::listpack_bytes`]).
    lp_static: u64,
}

/// One decoded entry position inside a block.
#[derive(Clone, Copy, Debug)]
pub(super) struct RawEntry {
    pub id: StreamId,
    pub flags: u8,
    /// Offset of the tag byte (where the deleted bit lives).
    pub tag_pos: usize,
    /// Offset of the body.
    pub body_pos: usize,
}

impl RawEntry {
    pub fn is_deleted(&self) -> bool {
        self.flags & FLAG_DELETED != 0
    }
}

impl Block {
    /// A block whose first entry (and key) is `id` and whose master fields
    /// are this entry's fields, as Redis's new listpack.
    pub fn new(id: StreamId, pairs: &[&[u8]]) -> Block {
        let nfields = pairs.len() / 2;
        let mut data = Vec::new();
        put_varint(&mut data, nfields as u64);
        let mut lp_static = LP_HEADER_AND_END + lp_int(nfields as i64) + lp_int(0);
        for field in pairs.iter().step_by(2).take(nfields) {
            put_bytes(&mut data, field);
            lp_static += lp_str(field);
        }
        let mut block = Block {
            data,
            live: 0,
            deleted: 0,
            last: id,
            lp_static,
        };
        block.push_entry(id, id, FLAG_SAMEFIELDS, pairs);
        block
    }

    /// Whether Redis 7.0 would append an entry with these fields to this
    /// node rather than start a new one.
    pub fn accepts(&self, pairs: &[&[u8]], limits: NodeLimits) -> bool {
        let max_bytes = if limits.max_bytes == 0 || limits.max_bytes > LISTPACK_MAX_SIZE {
            LISTPACK_MAX_SIZE
        } else {
            limits.max_bytes
        };
        if self.listpack_bytes().saturating_add(raw_len(pairs)) >= max_bytes {
            return false;
        }
        limits.max_entries == 0
            || u64::from(self.live) + u64::from(self.deleted) < limits.max_entries
    }

    /// Appends an entry (normally above `self.last`), with the SAMEFIELDS
    /// flag when its field names equal the master's.
    pub fn append(&mut self, key: StreamId, id: StreamId, pairs: &[&[u8]]) {
        let flags = if self.same_as_master(pairs) {
            FLAG_SAMEFIELDS
        } else {
            0
        };
        self.push_entry(key, id, flags, pairs);
    }

    fn push_entry(&mut self, key: StreamId, id: StreamId, flags: u8, pairs: &[&[u8]]) {
        let nfields = pairs.len() / 2;
        let prev = self.last;
        let data = &mut self.data;
        if self.live == 0 && self.deleted == 0 {
            data.push(flags | (ID_NEXT_SEQ << 2));
        } else if id.ms == prev.ms && id.seq > prev.seq {
            let gap = id.seq - prev.seq - 1;
            if gap == 0 {
                data.push(flags | (ID_NEXT_SEQ << 2));
            } else {
                data.push(flags | (ID_SEQ_GAP << 2));
                put_varint(data, gap);
            }
        } else if id.ms > prev.ms && id.seq == 0 && id.ms - prev.ms <= u64::from(ID_SMALL_MS_MAX) {
            data.push(flags | (((id.ms - prev.ms) as u8) << 2));
        } else {
            // Also IDs below the previous one: after XSETID moved the last
            // ID back, a new entry can follow a larger deleted one, as in
            // Redis (the delta wraps).
            data.push(flags | (ID_MS_AND_SEQ << 2));
            put_varint(data, id.ms.wrapping_sub(prev.ms));
            put_varint(data, id.seq);
        }
        let same = flags & FLAG_SAMEFIELDS != 0;
        if !same {
            put_varint(data, nfields as u64);
        }
        for pair in pairs.chunks_exact(2) {
            if !same {
                put_bytes(data, pair[0]);
            }
            put_bytes(data, pair[1]);
        }
        self.lp_static += listpack_entry_size(key, id, flags, pairs);
        self.live += 1;
        self.last = id;
    }

    fn same_as_master(&self, pairs: &[&[u8]]) -> bool {
        let mut pos = 0;
        let nfields = get_varint(&self.data, &mut pos);
        if nfields != (pairs.len() / 2) as u64 {
            return false;
        }
        pairs
            .iter()
            .step_by(2)
            .all(|field| get_bytes(&self.data, &mut pos) == *field)
    }

    /// The size Redis's listpack for the same entries would have: decides
    /// when the block is full (see [`NodeLimits`]).
    pub fn listpack_bytes(&self) -> u64 {
        self.lp_static + lp_int(i64::from(self.live)) + lp_int(i64::from(self.deleted))
    }

    /// Flags the entry at `tag_pos` deleted and updates the counters.
    pub fn mark_deleted(&mut self, tag_pos: usize) {
        if let Some(tag) = self.data.get_mut(tag_pos) {
            if *tag & FLAG_DELETED == 0 {
                *tag |= FLAG_DELETED;
                self.live -= 1;
                self.deleted += 1;
            }
        }
    }

    pub fn cursor(&self, key: StreamId) -> Cursor<'_> {
        let mut pos = 0;
        let master_fields = get_varint(&self.data, &mut pos);
        for _ in 0..master_fields {
            skip_bytes(&self.data, &mut pos);
        }
        Cursor {
            data: &self.data,
            pos,
            prev: key,
            key,
            started: false,
            master_fields,
        }
    }

    /// Gives back the growth slack once the block is complete. A fresh
    /// exact-size buffer, because `shrink_to_fit` may keep the allocation
    /// (mimalloc's realloc does when at least half stays used).
    pub fn seal(&mut self) {
        if self.data.capacity() > self.data.len() {
            let mut exact = Vec::with_capacity(self.data.len());
            exact.extend_from_slice(&self.data);
            self.data = exact;
        }
    }

    /// Heap bytes held (the vector's capacity).
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity()
    }
}

/// Forward decoder over a block's entries, tombstones included.
#[derive(Clone)]
pub(super) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    prev: StreamId,
    key: StreamId,
    started: bool,
    master_fields: u64,
}

impl<'a> Cursor<'a> {
    pub fn next_raw(&mut self) -> Option<RawEntry> {
        let data = self.data;
        let tag_pos = self.pos;
        let tag = *data.get(tag_pos)?;
        let mut pos = tag_pos + 1;
        let prev = self.prev;
        let id = if !self.started {
            self.started = true;
            self.key
        } else {
            match tag >> 2 {
                ID_NEXT_SEQ => StreamId::new(prev.ms, prev.seq.wrapping_add(1)),
                ID_MS_AND_SEQ => {
                    let ms = prev.ms.wrapping_add(get_varint(data, &mut pos));
                    StreamId::new(ms, get_varint(data, &mut pos))
                }
                ID_SEQ_GAP => {
                    let gap = get_varint(data, &mut pos);
                    StreamId::new(prev.ms, prev.seq.wrapping_add(gap).wrapping_add(1))
                }
                small => StreamId::new(prev.ms.wrapping_add(u64::from(small)), 0),
            }
        };
        let flags = tag & FLAG_MASK;
        let body_pos = pos;
        let values = if flags & FLAG_SAMEFIELDS != 0 {
            self.master_fields
        } else {
            get_varint(data, &mut pos).saturating_mul(2)
        };
        for _ in 0..values {
            if pos >= data.len() {
                break;
            }
            skip_bytes(data, &mut pos);
        }
        self.pos = pos;
        self.prev = id;
        Some(RawEntry {
            id,
            flags,
            tag_pos,
            body_pos,
        })
    }
}

/// A live entry inside the stream, borrowed: its ID and its fields.
#[derive(Clone, Copy)]
pub struct EntryRef<'a> {
    pub id: StreamId,
    data: &'a [u8],
    body_pos: usize,
    same_fields: bool,
}

impl<'a> EntryRef<'a> {
    pub(super) fn new(data: &'a [u8], raw: &RawEntry) -> EntryRef<'a> {
        EntryRef {
            id: raw.id,
            data,
            body_pos: raw.body_pos,
            same_fields: raw.flags & FLAG_SAMEFIELDS != 0,
        }
    }

    /// Number of field/value pairs.
    pub fn field_count(&self) -> usize {
        let mut pos = if self.same_fields { 0 } else { self.body_pos };
        get_varint(self.data, &mut pos) as usize
    }

    /// The field/value pairs in insertion order.
    pub fn fields(&self) -> Fields<'a> {
        let mut header = 0;
        let master_fields = get_varint(self.data, &mut header);
        if self.same_fields {
            Fields {
                data: self.data,
                pos: self.body_pos,
                names: Some(header),
                remaining: master_fields,
            }
        } else {
            let mut pos = self.body_pos;
            let remaining = get_varint(self.data, &mut pos);
            Fields {
                data: self.data,
                pos,
                names: None,
                remaining,
            }
        }
    }
}

impl std::fmt::Debug for EntryRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for (field, value) in self.fields() {
            list.entry(&(
                String::from_utf8_lossy(field),
                String::from_utf8_lossy(value),
            ));
        }
        list.finish()?;
        write!(f, "@{}", self.id)
    }
}

/// Iterator over an entry's field/value pairs.
pub struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    /// For entries sharing the master fields: where the next name is read.
    names: Option<usize>,
    remaining: u64,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let field = match &mut self.names {
            Some(name_pos) => get_bytes(self.data, name_pos),
            None => get_bytes(self.data, &mut self.pos),
        };
        let value = get_bytes(self.data, &mut self.pos);
        Some((field, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

/// Total length of the fields and values: Redis refuses an entry above
/// 1 GiB and counts this against the node byte limit.
pub(super) fn raw_len(pairs: &[&[u8]]) -> u64 {
    pairs.iter().map(|p| p.len() as u64).sum()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decodes a varint; past the end it yields what it has (the data is our own
/// encoding, so that never happens, but decoding must not panic).
fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0u32;
    while let Some(&b) = data.get(*pos) {
        *pos += 1;
        if shift < 64 {
            v |= u64::from(b & 0x7f) << shift;
        }
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    v
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn get_bytes<'a>(data: &'a [u8], pos: &mut usize) -> &'a [u8] {
    let len = get_varint(data, pos);
    let start = (*pos).min(data.len());
    let end = usize::try_from(len)
        .ok()
        .and_then(|len| start.checked_add(len))
        .map_or(data.len(), |end| end.min(data.len()));
    *pos = end;
    &data[start..end]
}

fn skip_bytes(data: &[u8], pos: &mut usize) {
    get_bytes(data, pos);
}

// --- Redis listpack sizes (listpack.c, 7.0), used only to place node breaks.

/// `lpNew`: 6 header bytes and the end byte.
const LP_HEADER_AND_END: u64 = 7;

/// Bytes of the back-length that follows an element of `len` bytes.
fn lp_backlen(len: u64) -> u64 {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// An integer element, back-length included.
fn lp_int(v: i64) -> u64 {
    let enc = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8388608..=8388607 => 4,
        -2147483648..=2147483647 => 5,
        _ => 9,
    };
    enc + 1
}

/// A string element, back-length included; strings that read as an integer
/// are stored as integers, as `lpAppend` does.
fn lp_str(s: &[u8]) -> u64 {
    if let Some(v) = parse_i64(s) {
        return lp_int(v);
    }
    let len = s.len() as u64;
    let enc = match len {
        0..=63 => 1 + len,
        64..=4095 => 2 + len,
        _ => 5 + len,
    };
    enc + lp_backlen(enc)
}

/// One stream entry in a listpack: flags, ms and seq deltas from the master
/// ID, the field count unless SAMEFIELDS, the fields unless SAMEFIELDS, the
/// values, and the element count used to walk backwards.
fn listpack_entry_size(master: StreamId, id: StreamId, flags: u8, pairs: &[&[u8]]) -> u64 {
    let nfields = (pairs.len() / 2) as i64;
    let same = flags & FLAG_SAMEFIELDS != 0;
    let mut size = lp_int(i64::from(flags))
        + lp_int(id.ms.wrapping_sub(master.ms) as i64)
        + lp_int(id.seq.wrapping_sub(master.seq) as i64);
    let mut elements = nfields + 3;
    if !same {
        size += lp_int(nfields);
        elements += nfields + 1;
    }
    for pair in pairs.chunks_exact(2) {
        if !same {
            size += lp_str(pair[0]);
        }
        size += lp_str(pair[1]);
    }
    size + lp_int(elements)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_of(block: &Block, key: StreamId) -> Vec<(StreamId, bool)> {
        let mut c = block.cursor(key);
        let mut out = Vec::new();
        while let Some(r) = c.next_raw() {
            out.push((r.id, r.is_deleted()));
        }
        out
    }

    #[test]
    fn ids_below_the_previous_entry_round_trip() {
        // After XSETID moves the last ID back, an entry may follow a larger
        // (deleted) one, or even sit below the block's key.
        let k = StreamId::new(10, 5);
        let mut block = Block::new(k, &[b"f", b"v"]);
        for id in [
            StreamId::new(12, 0),
            StreamId::new(11, 3),
            StreamId::new(2, 0),
            StreamId::new(2, 1),
        ] {
            block.append(k, id, &[b"f", b"v"]);
        }
        let got: Vec<StreamId> = ids_of(&block, k).into_iter().map(|(id, _)| id).collect();
        assert_eq!(
            got,
            [
                k,
                StreamId::new(12, 0),
                StreamId::new(11, 3),
                StreamId::new(2, 0),
                StreamId::new(2, 1)
            ]
        );
        assert_eq!(block.last, StreamId::new(2, 1));
    }

    #[test]
    fn every_id_kind_round_trips() {
        let first = StreamId::new(100, 7);
        let ids = [
            first,
            StreamId::new(100, 8),        // next seq
            StreamId::new(100, 20),       // seq gap
            StreamId::new(101, 0),        // small ms step
            StreamId::new(162, 0),        // 61: largest small step
            StreamId::new(224, 0),        // 62: ms and seq form
            StreamId::new(224, u64::MAX), // gap to the top
            StreamId::new(u64::MAX, 3),   // huge ms step with seq
            StreamId::new(u64::MAX, u64::MAX),
        ];
        let pairs: [&[u8]; 2] = [b"f", b"v"];
        let mut block = Block::new(first, &pairs);
        for &id in &ids[1..] {
            block.append(first, id, &pairs);
        }
        let got: Vec<StreamId> = ids_of(&block, first)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(got, ids);
        assert_eq!(block.last, StreamId::MAX);
        assert_eq!(block.live as usize, ids.len());
    }

    #[test]
    fn fields_shared_with_the_master_or_not() {
        let k = StreamId::new(1, 0);
        let mut block = Block::new(k, &[b"a", b"1", b"b", b"2"]);
        block.append(k, StreamId::new(1, 1), &[b"a", b"3", b"b", b"4"]);
        block.append(k, StreamId::new(1, 2), &[b"a", b"5"]);
        block.append(k, StreamId::new(1, 3), &[b"b", b"6", b"a", b"7"]);
        block.append(k, StreamId::new(1, 4), &[]);
        let mut c = block.cursor(k);
        let mut got = Vec::new();
        while let Some(r) = c.next_raw() {
            let e = EntryRef::new(&block.data, &r);
            assert_eq!(e.field_count(), e.fields().count());
            got.push((
                r.flags & FLAG_SAMEFIELDS != 0,
                e.fields()
                    .map(|(f, v)| [f.to_vec(), v.to_vec()].concat())
                    .collect::<Vec<_>>(),
            ));
        }
        let s = |v: &[&str]| v.iter().map(|x| x.as_bytes().to_vec()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (true, s(&["a1", "b2"])),
                (true, s(&["a3", "b4"])),
                (false, s(&["a5"])),
                (false, s(&["b6", "a7"])),
                (false, s(&[])),
            ]
        );
    }

    #[test]
    fn deleting_flags_in_place() {
        let k = StreamId::new(5, 0);
        let mut block = Block::new(k, &[b"f", b"v"]);
        block.append(k, StreamId::new(5, 1), &[b"f", b"w"]);
        let before = block.listpack_bytes();
        let mut c = block.cursor(k);
        c.next_raw().unwrap();
        let raw = c.next_raw().unwrap();
        assert!(c.next_raw().is_none());
        block.mark_deleted(raw.tag_pos);
        block.mark_deleted(raw.tag_pos);
        assert_eq!((block.live, block.deleted), (1, 1));
        assert_eq!(block.listpack_bytes(), before);
        assert_eq!(
            ids_of(&block, k),
            vec![(StreamId::new(5, 0), false), (StreamId::new(5, 1), true)]
        );
    }

    #[test]
    fn listpack_element_sizes() {
        assert_eq!(lp_int(0), 2);
        assert_eq!(lp_int(127), 2);
        assert_eq!(lp_int(128), 3);
        assert_eq!(lp_int(-1), 3);
        assert_eq!(lp_int(i64::MAX), 10);
        assert_eq!(lp_str(b"field1"), 8);
        assert_eq!(lp_str(b"123"), 2);
        assert_eq!(lp_str(b"0123"), 6);
        assert_eq!(lp_str(&[b'x'; 63]), 65);
        assert_eq!(lp_str(&[b'x'; 64]), 67);
        // 2 + 126 = 128 bytes take a 2-byte back-length.
        assert_eq!(lp_str(&[b'x'; 125]), 128);
        assert_eq!(lp_str(&[b'x'; 126]), 130);
        // A new listpack with master "field1","field2" and one entry with
        // two 16-byte values, as Redis 7.0 lays it out.
        let k = StreamId::new(1, 0);
        let pairs: [&[u8]; 4] = [b"field1", &[b'a'; 16], b"field2", &[b'b'; 16]];
        let block = Block::new(k, &pairs);
        assert_eq!(
            block.listpack_bytes(),
            7 + 2 + 2 + 2 + 8 + 8 + 2 + (2 + 2 + 2 + 18 + 18 + 2)
        );
    }
}
