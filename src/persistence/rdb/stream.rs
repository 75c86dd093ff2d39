//! Streams in RDB: the encoding Redis 7.0 writes (type 19, a radix tree of
//! listpacks, the counters, the consumer groups) and a decoder for the three
//! stream types Redis has written (15 up to 6.2, 19 in 7.0, 21 from 7.2,
//! which adds each consumer's active time).
//!
//! Layout of a stream value (rdb.c, rdbSaveObject):
//!
//! ```text
//! nodes            len, then per node: master ID (16-byte string, ms and seq big-endian),
//!                  the listpack (string)
//! length           len
//! last ID          len ms, len seq
//! first ID         len ms, len seq          -- types 19 and 21
//! max deleted ID   len ms, len seq          -- types 19 and 21
//! entries added    len                      -- types 19 and 21
//! groups           len, then per group: name (string), last ID (2 lens),
//!                  entries read (len, -1 unknown; types 19 and 21),
//!                  PEL: len, per entry 16 raw ID bytes, delivery time (8 bytes LE ms), count (len)
//!                  consumers: len, per consumer: name (string), seen time (8 bytes LE ms),
//!                  active time (8 bytes LE ms; type 21), PEL: len, 16 raw ID bytes each
//! ```
//!
//! A node's listpack (t_stream.c) holds a master entry, `count deleted
//! nfields field... 0`, then per entry `flags ms-diff seq-diff [nfields
//! field value...| value...] lp-count`: IDs relative to the master ID,
//! field names left out when they equal the master fields (flag 2), flag 1
//! for deleted entries, and lp-count the number of elements of the entry
//! before it (so listpacks can be walked backwards).
//!
//! The decoder checks every length against the data present and the
//! listpack structure element by element: corrupt input is an `RdbError`
//! saying what was wrong, never a panic or an allocation larger than the
//! input.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::decode::{self, Input, SliceInput};
use super::{dump_footer_error, write_len, write_string, RdbError, DUMP_FOOTER};
use crate::storage::stream::object::{LoadedEntry, Node};
use crate::storage::stream::{Stream, StreamId};
use crate::util::num::{format_i64, parse_i64};

/// Redis 5.0 to 6.2.
pub const TYPE_STREAM_LISTPACKS: u8 = 15;
/// Redis 7.0 (RDB 10): adds first ID, max deleted ID, entries added, groups' entries read.
pub const TYPE_STREAM_LISTPACKS_2: u8 = 19;
/// Redis 7.2 (RDB 11): adds consumers' active time.
pub const TYPE_STREAM_LISTPACKS_3: u8 = 21;

/// Whether `t` is one of the stream value types.
pub fn is_stream_type(t: u8) -> bool {
    matches!(
        t,
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3
    )
}

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

/// Listpack header: total bytes (u32 LE) and element count (u16 LE).
const LP_HEADER: usize = 6;
const LP_END: u8 = 0xff;
/// An element count this large means "count them".
const LP_COUNT_UNKNOWN: u16 = u16::MAX;

// ---- encoding --------------------------------------------------------------------------------

/// The stream value as Redis 7.0 saves it (type 19), without the type byte.
/// With `compress` (`rdbcompression yes`), listpacks and names over 20 bytes
/// are LZF-compressed when that pays, as Redis does.
pub fn write_stream(s: &Stream, out: &mut Vec<u8>, compress: bool) {
    write_len(out, s.block_count() as u64);
    let mut lp = Vec::new();
    for node in s.nodes() {
        write_string(out, &id_key(node.master_id), false);
        lp.clear();
        write_listpack(&node, &mut lp);
        write_string(out, &lp, compress);
    }
    write_len(out, s.len());
    write_id_lens(out, s.last_id());
    write_id_lens(out, s.first_id());
    write_id_lens(out, s.max_deleted_entry_id());
    write_len(out, s.entries_added());
    write_len(out, s.group_count() as u64);
    for (name, g) in s.groups() {
        write_string(out, name, compress);
        write_id_lens(out, g.last_id());
        // Unknown is -1 as an unsigned length, as Redis writes it.
        write_len(out, g.entries_read().unwrap_or(u64::MAX));
        write_len(out, g.pending_count() as u64);
        for (id, p) in g.pending() {
            out.extend_from_slice(&id_key(id));
            out.extend_from_slice(&p.delivery_time_ms().to_le_bytes());
            write_len(out, p.delivery_count());
        }
        write_len(out, g.consumer_count() as u64);
        for c in g.consumers() {
            write_string(out, c.name(), compress);
            out.extend_from_slice(&c.seen_time_ms().to_le_bytes());
            write_len(out, c.pending_count() as u64);
            for id in c.pending() {
                out.extend_from_slice(&id_key(id));
            }
        }
    }
}

/// An ID as Redis keys its radix trees: ms then seq, big-endian.
fn id_key(id: StreamId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.ms.to_be_bytes());
    k[8..].copy_from_slice(&id.seq.to_be_bytes());
    k
}

fn write_id_lens(out: &mut Vec<u8>, id: StreamId) {
    write_len(out, id.ms);
    write_len(out, id.seq);
}

/// One node as the listpack Redis would hold for the same entries.
fn write_listpack(node: &Node<'_>, lp: &mut Vec<u8>) {
    lp.extend_from_slice(&[0u8; LP_HEADER]);
    let mut count = 0u64;
    let mut entries = node.entries().peekable();
    let master_fields: Vec<&[u8]> = entries
        .peek()
        .map(|e| e.entry.fields().map(|(f, _)| f).collect())
        .unwrap_or_default();
    let mut int = |lp: &mut Vec<u8>, v: i64| {
        lp_append_int(lp, v);
        count += 1;
    };
    int(lp, i64::from(node.live));
    int(lp, i64::from(node.deleted));
    int(lp, master_fields.len() as i64);
    let mut strings = 0u64;
    for f in &master_fields {
        lp_append_str(lp, f);
        strings += 1;
    }
    int(lp, 0);
    for e in entries {
        let flags = if e.deleted { FLAG_DELETED } else { 0 }
            | if e.same_fields { FLAG_SAMEFIELDS } else { 0 };
        int(lp, flags);
        // Deltas as Redis computes them: unsigned difference read as signed.
        int(lp, e.id.ms.wrapping_sub(node.master_id.ms) as i64);
        int(lp, e.id.seq.wrapping_sub(node.master_id.seq) as i64);
        let nfields = e.entry.field_count() as i64;
        if !e.same_fields {
            int(lp, nfields);
        }
        for (f, v) in e.entry.fields() {
            if !e.same_fields {
                lp_append_str(lp, f);
                strings += 1;
            }
            lp_append_str(lp, v);
            strings += 1;
        }
        let elements = if e.same_fields {
            nfields + 3
        } else {
            2 * nfields + 4
        };
        int(lp, elements);
    }
    lp.push(LP_END);
    let total = lp.len() as u32;
    let elements = (count + strings).min(u64::from(LP_COUNT_UNKNOWN)) as u16;
    lp[..4].copy_from_slice(&total.to_le_bytes());
    lp[4..6].copy_from_slice(&elements.to_le_bytes());
}

/// An integer element in the smallest listpack encoding, and its back-length.
fn lp_append_int(lp: &mut Vec<u8>, v: i64) {
    let start = lp.len();
    match v {
        0..=127 => lp.push(v as u8),
        -4096..=4095 => {
            let u = (v as u64) & 0x1fff;
            lp.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
        }
        -32768..=32767 => {
            lp.push(0xf1);
            lp.extend_from_slice(&(v as i16).to_le_bytes());
        }
        -8388608..=8388607 => {
            lp.push(0xf2);
            lp.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        -2147483648..=2147483647 => {
            lp.push(0xf3);
            lp.extend_from_slice(&(v as i32).to_le_bytes());
        }
        _ => {
            lp.push(0xf4);
            lp.extend_from_slice(&v.to_le_bytes());
        }
    }
    lp_append_backlen(lp, (lp.len() - start) as u64);
}

/// A string element; one that is the canonical text of an integer is
/// stored as the integer, as listpack.c does.
fn lp_append_str(lp: &mut Vec<u8>, s: &[u8]) {
    if let Some(v) = parse_i64(s) {
        lp_append_int(lp, v);
        return;
    }
    let start = lp.len();
    let len = s.len();
    if len < 64 {
        lp.push(0x80 | len as u8);
    } else if len < 4096 {
        lp.extend_from_slice(&[0xe0 | (len >> 8) as u8, len as u8]);
    } else {
        lp.push(0xf0);
        lp.extend_from_slice(&(len as u32).to_le_bytes());
    }
    lp.extend_from_slice(s);
    lp_append_backlen(lp, (lp.len() - start) as u64);
}

/// The element length, 7 bits a byte, readable from its last byte backwards.
fn lp_append_backlen(lp: &mut Vec<u8>, len: u64) {
    let n = backlen_size(len);
    for i in (0..n).rev() {
        let bits = ((len >> (7 * i)) & 0x7f) as u8;
        // Every byte but the first written carries the continuation bit.
        lp.push(if i == n - 1 { bits } else { bits | 0x80 });
    }
}

fn backlen_size(len: u64) -> u32 {
    match len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

// ---- decoding --------------------------------------------------------------------------------

/// Decodes a stream value of type `t` (15, 19 or 21) from `input`.
pub(super) fn read_stream(t: u8, input: &mut impl Input) -> Result<Stream, RdbError> {
    if !is_stream_type(t) {
        return Err(RdbError::new(
            input.offset(),
            format!("RDB type {t} is not a stream type"),
        ));
    }
    let v2 = t != TYPE_STREAM_LISTPACKS;
    let mut s = Stream::new();
    let nodes = decode::len(input)?;
    for n in 0..nodes {
        let at = input.offset();
        let key = decode::string(input)?;
        let master_id = id_from_key(&key).ok_or_else(|| {
            RdbError::new(
                at,
                format!(
                    "stream node {n}: the key has {} bytes, a stream ID has 16",
                    key.len()
                ),
            )
        })?;
        let at = input.offset();
        let lp = decode::string(input)?;
        let bad = |msg: String| {
            RdbError::new(
                at,
                format!("stream node {n} (master ID {master_id}): {msg}"),
            )
        };
        let elements = parse_listpack(&lp).map_err(bad)?;
        let entries = stream_entries(master_id, &elements).map_err(bad)?;
        s.restore_node(master_id, &entries).map_err(bad)?;
    }
    let at = input.offset();
    let length = decode::len(input)?;
    let last_id = read_id_lens(input)?;
    let (max_deleted, entries_added) = if v2 {
        // The saved first ID is recomputed from the entries.
        read_id_lens(input)?;
        let max_deleted = read_id_lens(input)?;
        (Some(max_deleted), Some(decode::len(input)?))
    } else {
        (None, None)
    };
    s.restore_counters(length, last_id, max_deleted, entries_added)
        .map_err(|m| RdbError::new(at, m))?;
    let groups = decode::len(input)?;
    for _ in 0..groups {
        read_group(t, input, &mut s)?;
    }
    Ok(s)
}

fn read_group(t: u8, input: &mut impl Input, s: &mut Stream) -> Result<(), RdbError> {
    let at = input.offset();
    let name = decode::string(input)?;
    let last_id = read_id_lens(input)?;
    let entries_read = if t == TYPE_STREAM_LISTPACKS {
        s.estimated_entries_read(last_id)
    } else {
        Some(decode::len(input)?).filter(|&n| n != u64::MAX)
    };
    let group_err = |at: u64, msg: String| {
        RdbError::new(at, format!("consumer group {}: {msg}", super::repr(&name)))
    };
    if s.create_group(&name, last_id, entries_read).is_err() {
        return Err(group_err(at, "a second group of that name".into()));
    }
    // The group PEL's owners come with the consumers; held here until then.
    let mut pel: BTreeMap<StreamId, (u64, u64)> = BTreeMap::new();
    let n = decode::len(input)?;
    for _ in 0..n {
        let at = input.offset();
        let id = read_raw_id(input)?;
        let time = read_ms(input)?;
        let count = decode::len(input)?;
        if pel.insert(id, (time, count)).is_some() {
            return Err(group_err(at, format!("pending entry {id} listed twice")));
        }
    }
    let consumers = decode::len(input)?;
    for _ in 0..consumers {
        let at = input.offset();
        let cname = decode::string(input)?;
        let seen = read_ms(input)?;
        if t == TYPE_STREAM_LISTPACKS_3 {
            // The active time (7.2); Redis 7.0 has no such field.
            read_ms(input)?;
        }
        let exists = s.group(&name).is_some_and(|g| g.consumer(&cname).is_some());
        if exists {
            return Err(group_err(
                at,
                format!("consumer {} listed twice", super::repr(&cname)),
            ));
        }
        let _ = s.restore_consumer(&name, &cname, seen);
        let n = decode::len(input)?;
        for _ in 0..n {
            let at = input.offset();
            let id = read_raw_id(input)?;
            let Some((time, count)) = pel.remove(&id) else {
                return Err(group_err(
                    at,
                    format!(
                        "consumer {} has pending entry {id}, which is not in the group's PEL (or belongs to another consumer)",
                        super::repr(&cname)
                    ),
                ));
            };
            let _ = s.restore_pending(&name, &cname, id, time, count);
        }
    }
    if let Some(id) = pel.keys().next() {
        return Err(group_err(
            input.offset(),
            format!(
                "{} pending entries belong to no consumer (the first: {id})",
                pel.len()
            ),
        ));
    }
    Ok(())
}

fn id_from_key(key: &[u8]) -> Option<StreamId> {
    let key: &[u8; 16] = key.try_into().ok()?;
    let mut ms = [0u8; 8];
    let mut seq = [0u8; 8];
    ms.copy_from_slice(&key[..8]);
    seq.copy_from_slice(&key[8..]);
    Some(StreamId::new(
        u64::from_be_bytes(ms),
        u64::from_be_bytes(seq),
    ))
}

fn read_raw_id(input: &mut impl Input) -> Result<StreamId, RdbError> {
    let mut k = [0u8; 16];
    input.exact(&mut k)?;
    Ok(id_from_key(&k).unwrap_or_default())
}

fn read_id_lens(input: &mut impl Input) -> Result<StreamId, RdbError> {
    let ms = decode::len(input)?;
    let seq = decode::len(input)?;
    Ok(StreamId::new(ms, seq))
}

/// A millisecond time: 8 bytes little-endian (RDB 9 and later).
fn read_ms(input: &mut impl Input) -> Result<u64, RdbError> {
    let mut b = [0u8; 8];
    input.exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// A decoded listpack element.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Elem<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> Elem<'a> {
    /// The element as Redis reads it back: integers as their decimal text.
    fn bytes(self) -> Cow<'a, [u8]> {
        match self {
            Elem::Str(s) => Cow::Borrowed(s),
            Elem::Int(v) => {
                let mut out = Vec::with_capacity(20);
                format_i64(v, &mut out);
                Cow::Owned(out)
            }
        }
    }

    /// As an integer, as `lpGetIntegerIfValid` (a string holding one counts).
    fn int(self) -> Option<i64> {
        match self {
            Elem::Int(v) => Some(v),
            Elem::Str(s) => parse_i64(s),
        }
    }
}

/// Splits a listpack into its elements, checking the header, each
/// element's encoding and back-length, and the end marker.
fn parse_listpack(lp: &[u8]) -> Result<Vec<Elem<'_>>, String> {
    if lp.len() < LP_HEADER + 1 {
        return Err(format!("a listpack of {} bytes (7 at least)", lp.len()));
    }
    let total = u32::from_le_bytes([lp[0], lp[1], lp[2], lp[3]]) as u64;
    if total != lp.len() as u64 {
        return Err(format!(
            "the listpack header says {total} bytes, the string has {}",
            lp.len()
        ));
    }
    let declared = u16::from_le_bytes([lp[4], lp[5]]);
    let end = lp.len() - 1;
    if lp[end] != LP_END {
        return Err(format!(
            "the listpack ends with 0x{:02x}, not 0xff",
            lp[end]
        ));
    }
    let mut elems = Vec::new();
    let mut pos = LP_HEADER;
    while pos < end {
        let (elem, next) =
            lp_element(&lp[..end], pos).map_err(|m| format!("listpack byte {pos}: {m}"))?;
        elems.push(elem);
        pos = next;
    }
    if declared != LP_COUNT_UNKNOWN && usize::from(declared) != elems.len() {
        return Err(format!(
            "the listpack header says {declared} elements, it holds {}",
            elems.len()
        ));
    }
    Ok(elems)
}

/// The element at `pos` (before the end marker) and where the next starts.
fn lp_element(lp: &[u8], pos: usize) -> Result<(Elem<'_>, usize), String> {
    let need = |n: usize| -> Result<&[u8], String> {
        lp.get(pos..pos.saturating_add(n))
            .ok_or_else(|| "an element runs past the end of the listpack".to_string())
    };
    let b = lp[pos];
    let (elem, len) = match b {
        0x00..=0x7f => (Elem::Int(i64::from(b)), 1),
        0x80..=0xbf => {
            let n = usize::from(b & 0x3f);
            (Elem::Str(&need(1 + n)?[1..]), 1 + n)
        }
        0xc0..=0xdf => {
            let h = need(2)?;
            let u = (i64::from(h[0] & 0x1f) << 8) | i64::from(h[1]);
            let v = if u >= 1 << 12 { u - (1 << 13) } else { u };
            (Elem::Int(v), 2)
        }
        0xe0..=0xef => {
            let h = need(2)?;
            let n = (usize::from(h[0] & 0x0f) << 8) | usize::from(h[1]);
            (Elem::Str(&need(2 + n)?[2..]), 2 + n)
        }
        0xf0 => {
            let h = need(5)?;
            let n = u32::from_le_bytes([h[1], h[2], h[3], h[4]]) as usize;
            let s = need(5usize.saturating_add(n))?;
            (Elem::Str(&s[5..]), 5 + n)
        }
        0xf1 => {
            let h = need(3)?;
            (Elem::Int(i64::from(i16::from_le_bytes([h[1], h[2]]))), 3)
        }
        0xf2 => {
            let h = need(4)?;
            // Sign-extended from 24 bits.
            let v = i32::from_le_bytes([0, h[1], h[2], h[3]]) >> 8;
            (Elem::Int(i64::from(v)), 4)
        }
        0xf3 => {
            let h = need(5)?;
            let v = i32::from_le_bytes([h[1], h[2], h[3], h[4]]);
            (Elem::Int(i64::from(v)), 5)
        }
        0xf4 => {
            let h = need(9)?;
            let mut v = [0u8; 8];
            v.copy_from_slice(&h[1..]);
            (Elem::Int(i64::from_le_bytes(v)), 9)
        }
        0xff => return Err("an end marker before the end of the listpack".into()),
        _ => return Err(format!("unknown element encoding 0x{b:02x}")),
    };
    let mut expected = Vec::with_capacity(5);
    lp_append_backlen(&mut expected, len as u64);
    let back = lp
        .get(pos + len..pos + len + expected.len())
        .ok_or_else(|| "an element's back-length runs past the end of the listpack".to_string())?;
    if back != expected.as_slice() {
        return Err(format!("the back-length of a {len}-byte element is wrong"));
    }
    Ok((elem, pos + len + expected.len()))
}

/// Walks a stream node's listpack elements: the master entry, then each
/// entry, checking counts, flags and lp-counts as t_stream.c's validation.
fn stream_entries<'a>(
    master_id: StreamId,
    elems: &'a [Elem<'a>],
) -> Result<Vec<LoadedEntry<'a>>, String> {
    let mut pos = 0usize;
    let take = |pos: &mut usize, what: &str| -> Result<Elem<'a>, String> {
        let e = elems
            .get(*pos)
            .copied()
            .ok_or_else(|| format!("the listpack ends where the {what} should be"))?;
        *pos += 1;
        Ok(e)
    };
    let take_int = |pos: &mut usize, what: &str| -> Result<i64, String> {
        take(pos, what)?
            .int()
            .ok_or_else(|| format!("the {what} is not an integer"))
    };
    let live = take_int(&mut pos, "live entry count")?;
    let deleted = take_int(&mut pos, "deleted entry count")?;
    let nmaster = take_int(&mut pos, "master field count")?;
    // Every entry and field takes an element: larger counts are corrupt
    // (and must not size anything).
    let left = elems.len() as i64;
    if !(0..=left).contains(&live)
        || !(0..=left).contains(&deleted)
        || !(0..=left).contains(&nmaster)
    {
        return Err(format!(
            "impossible master entry counts (live {live}, deleted {deleted}, fields {nmaster})"
        ));
    }
    let master_fields: Vec<Cow<'a, [u8]>> = (0..nmaster)
        .map(|_| take(&mut pos, "master field").map(Elem::bytes))
        .collect::<Result<_, _>>()?;
    if take_int(&mut pos, "master entry terminator")? != 0 {
        return Err("the master entry does not end with 0".into());
    }
    // Integer elements come back as owned decimal text, the rest borrowed.
    let mut entries: Vec<LoadedEntry<'a>> = Vec::new();
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    for n in 0..(live + deleted) {
        let flags = take_int(&mut pos, "entry flags")?;
        if !(0..=3).contains(&flags) {
            return Err(format!("entry {n} has unknown flags {flags}"));
        }
        let ms = take_int(&mut pos, "entry ID")? as u64;
        let seq = take_int(&mut pos, "entry ID")? as u64;
        let id = StreamId::new(
            master_id.ms.wrapping_add(ms),
            master_id.seq.wrapping_add(seq),
        );
        let same = flags & FLAG_SAMEFIELDS != 0;
        let nfields = if same {
            nmaster
        } else {
            let n = take_int(&mut pos, "entry field count")?;
            if !(0..=left).contains(&n) {
                return Err(format!("entry {id} claims {n} fields"));
            }
            n
        };
        let mut pairs = Vec::new();
        if same {
            for f in &master_fields {
                pairs.push(f.clone());
                pairs.push(take(&mut pos, "entry value")?.bytes());
            }
        } else {
            for _ in 0..nfields {
                pairs.push(take(&mut pos, "entry field")?.bytes());
                pairs.push(take(&mut pos, "entry value")?.bytes());
            }
        }
        let expected = if same { nfields + 3 } else { 2 * nfields + 4 };
        let lp_count = take_int(&mut pos, "entry element count")?;
        if lp_count != expected {
            return Err(format!(
                "entry {id} has {expected} elements but its lp-count says {lp_count}"
            ));
        }
        let is_deleted = flags & FLAG_DELETED != 0;
        if is_deleted {
            seen_deleted += 1;
        } else {
            seen_live += 1;
        }
        entries.push(LoadedEntry {
            id,
            deleted: is_deleted,
            pairs,
        });
    }
    if pos != elems.len() {
        return Err(format!(
            "{} elements after the last entry",
            elems.len() - pos
        ));
    }
    if (seen_live, seen_deleted) != (live, deleted) {
        return Err(format!(
            "the master entry counts {live} live and {deleted} deleted entries, the flags say {seen_live} and {seen_deleted}"
        ));
    }
    if let Some(first) = entries.first() {
        let pairs = &first.pairs;
        let names_match = pairs.len() == master_fields.len() * 2
            && pairs
                .iter()
                .step_by(2)
                .zip(&master_fields)
                .all(|(a, b)| a == b);
        if !names_match {
            return Err("the first entry's fields are not the master fields".into());
        }
    }
    Ok(entries)
}

/// Decodes a stream value of type `t` held in exactly `value` (no type byte).
pub fn decode_stream(t: u8, value: &[u8]) -> Result<Stream, RdbError> {
    let mut input = SliceInput::new(value);
    let s = read_stream(t, &mut input)?;
    if input.offset() != value.len() as u64 {
        return Err(RdbError::new(
            input.offset(),
            format!(
                "{} bytes after the stream value",
                value.len() as u64 - input.offset()
            ),
        ));
    }
    Ok(s)
}

/// Decodes a DUMP payload holding a stream: footer checked as RESTORE does,
/// then the type byte and the value.
pub fn parse_stream_dump(payload: &[u8], verify_checksum: bool) -> Result<Stream, RdbError> {
    if let Some(e) = dump_footer_error(payload, verify_checksum) {
        return Err(e);
    }
    let body = &payload[..payload.len() - DUMP_FOOTER];
    let Some((&t, value)) = body.split_first() else {
        return Err(RdbError::new(0, "an empty DUMP payload"));
    };
    if !is_stream_type(t) {
        return Err(RdbError::new(
            0,
            format!("the DUMP payload holds RDB type {t}, not a stream"),
        ));
    }
    decode_stream(t, value).map_err(|e| RdbError::new(e.offset + 1, e.msg))
}

/// A DUMP payload of a stream, as Redis 7.0's DUMP with `rdbcompression
/// yes`: type 19, the value, RDB version 10, CRC-64.
pub fn dump_stream(s: &Stream) -> Vec<u8> {
    let mut p = vec![TYPE_STREAM_LISTPACKS_2];
    write_stream(s, &mut p, true);
    p.extend_from_slice(&super::RDB_VERSION_WRITTEN.to_le_bytes());
    let crc = crate::persistence::crc64::crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

#[cfg(test)]
mod tests;
