//! Stream RDB codec: round trips through our encoder and decoder, the
//! listpack element encodings, corrupt-input fuzzing, and interop with a
//! live redis-server 7.0 through DUMP / RESTORE (skipped, with a note, when
//! none is on PATH).

use super::*;
use crate::storage::object::Object;
use crate::storage::stream::{AddId, ClaimOptions, NodeLimits, Trim};
use proptest::prelude::*;

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn add(s: &mut Stream, ms: u64, seq: u64, pairs: &[&[u8]], limits: NodeLimits) {
    s.add(AddId::Explicit(id(ms, seq)), pairs, 0, limits)
        .unwrap();
}

fn round_trip(s: &Stream) -> Stream {
    let mut out = Vec::new();
    s.write_rdb(&mut out, true);
    let back = decode_stream(s.rdb_type(), &out).unwrap();
    assert!(back.eq_obj(s), "round trip changed the stream");
    // Uncompressed too (the listpack parser sees every byte then).
    let mut plain = Vec::new();
    write_stream(s, &mut plain, false);
    assert!(decode_stream(TYPE_STREAM_LISTPACKS_2, &plain)
        .unwrap()
        .eq_obj(s));
    let dumped = parse_stream_dump(&dump_stream(s), true).unwrap();
    assert!(dumped.eq_obj(s));
    back
}

/// Fields of every shape: shared with the master or not, integers of every
/// listpack width, long strings, empty strings.
fn varied_stream(n: u64, limits: NodeLimits) -> Stream {
    let mut s = Stream::new();
    let long = vec![b'x'; 5000];
    let mid = vec![b'y'; 300];
    for i in 0..n {
        let num = format!("{}", (i as i64 - 50) * 77_777 * (i as i64 % 7));
        let big = format!("{}", i64::MAX - i as i64);
        let v = format!("v{i}");
        let pairs: Vec<&[u8]> = match i % 6 {
            0 | 1 => vec![b"name", v.as_bytes(), b"n", num.as_bytes()],
            2 => vec![b"name", big.as_bytes(), b"n", b"-0"],
            3 => vec![b"other", &long, b"", b""],
            4 => vec![b"name", &mid],
            _ => vec![],
        };
        add(&mut s, 1000 + i / 3, i % 3 * 5, &pairs, limits);
    }
    s
}

#[test]
fn empty_stream_round_trips() {
    let s = Stream::new();
    round_trip(&s);
    let mut s = Stream::new();
    s.create_group(b"g", StreamId::MIN, None).unwrap();
    round_trip(&s);
}

#[test]
fn entries_deletions_trims_and_blocks_round_trip() {
    let limits = NodeLimits {
        max_bytes: 4096,
        max_entries: 10,
    };
    let mut s = varied_stream(200, limits);
    assert!(s.block_count() > 10);
    round_trip(&s);
    s.delete(&[id(1000, 0), id(1001, 5), id(1010, 10), id(1030, 0)]);
    round_trip(&s);
    s.trim(Trim::MaxLen(150), false, 0);
    round_trip(&s);
    s.trim(Trim::MaxLen(100), true, 0);
    round_trip(&s);
    // Exact MINID trimming leaving a block of tombstones only.
    let mut t = Stream::new();
    for ms in 1..=20 {
        add(&mut t, ms, 0, &[b"f", b"v"], limits);
    }
    t.trim(Trim::MinId(id(11, 0)), false, 0);
    t.delete(&[id(11, 0)]);
    let back = round_trip(&t);
    assert_eq!(back.block_count(), t.block_count());
    assert_eq!(back.first_id(), id(12, 0));
    // After XSETID behind the tombstones, a new entry follows them.
    let mut u = Stream::new();
    for ms in 1..=5 {
        add(&mut u, ms, 0, &[b"f", b"v"], limits);
    }
    u.delete(&[id(5, 0), id(4, 0)]);
    u.set_id(id(3, 5), None, None).unwrap();
    add(&mut u, 3, 6, &[b"f", b"w"], limits);
    round_trip(&u);
    u.set_id(id(9, 9), Some(100), Some(id(8, 0))).unwrap();
    round_trip(&u);
}

#[test]
fn groups_with_pending_entries_and_consumers_round_trip() {
    let mut s = varied_stream(60, NodeLimits::default());
    s.create_group(b"g1", StreamId::MIN, Some(0)).unwrap();
    s.create_group(b"a-group-name-longer-than-twenty-bytes", id(1005, 0), None)
        .unwrap();
    s.create_group(b"empty", s.last_id(), Some(60)).unwrap();
    s.read_group_new(b"g1", b"alice", 10, false, 111).unwrap();
    s.read_group_new(b"g1", b"bob", 5, false, 222).unwrap();
    s.read_group_new(b"g1", b"noack", 5, true, 333).unwrap();
    s.read_group_new(
        b"a-group-name-longer-than-twenty-bytes",
        b"consumer-with-a-long-name-0123456789",
        7,
        false,
        444,
    )
    .unwrap();
    s.create_consumer(b"g1", b"idle", 555).unwrap();
    let opts = ClaimOptions::default();
    s.claim(b"g1", b"carol", 0, &[id(1000, 0), id(1001, 5)], &opts, 666)
        .unwrap();
    // A pending entry whose stream entry is gone.
    s.delete(&[id(1002, 0)]);
    s.ack(b"g1", &[id(1000, 5)]);
    let back = round_trip(&s);
    let g = back.group(b"g1").unwrap();
    assert_eq!(g.consumer_count(), 5);
    assert_eq!(g.consumer(b"carol").unwrap().pending_count(), 2);
    assert_eq!(g.entries_read(), Some(20));
    assert_eq!(
        back.group(b"a-group-name-longer-than-twenty-bytes")
            .unwrap()
            .entries_read(),
        None
    );
}

#[test]
fn listpack_elements_as_redis_encodes_them() {
    let enc = |v: i64| {
        let mut b = Vec::new();
        lp_append_int(&mut b, v);
        b
    };
    assert_eq!(enc(0), [0x00, 0x01]);
    assert_eq!(enc(127), [0x7f, 0x01]);
    assert_eq!(enc(128), [0xc0, 0x80, 0x02]);
    assert_eq!(enc(-1), [0xdf, 0xff, 0x02]);
    assert_eq!(enc(-4096), [0xd0, 0x00, 0x02]);
    assert_eq!(enc(4096), [0xf1, 0x00, 0x10, 0x03]);
    assert_eq!(enc(-32769), [0xf2, 0xff, 0x7f, 0xff, 0x04]);
    assert_eq!(enc(1 << 23), [0xf3, 0, 0, 0x80, 0, 0x05]);
    assert_eq!(enc(i64::MIN)[0], 0xf4);
    let s = |v: &[u8]| {
        let mut b = Vec::new();
        lp_append_str(&mut b, v);
        b
    };
    assert_eq!(s(b"ab"), [0x82, b'a', b'b', 0x03]);
    assert_eq!(s(b"12"), [0x0c, 0x01]);
    assert_eq!(s(b"012")[0], 0x83);
    let s126 = s(&[b'z'; 126]);
    // 2-byte header + 126 bytes = 128: a two-byte back-length.
    assert_eq!(&s126[..2], &[0xe0, 126]);
    assert_eq!(&s126[128..], &[0x01, 0x80]);
    let s5000 = s(&[b'z'; 5000]);
    assert_eq!(&s5000[..5], &[0xf0, 0x88, 0x13, 0, 0]);
    // Every element decodes back, back-length checked.
    for v in [
        0,
        1,
        127,
        128,
        -1,
        4095,
        -4096,
        40000,
        -40000,
        1 << 30,
        i64::MIN,
        i64::MAX,
    ] {
        let b = enc(v);
        assert_eq!(lp_element(&b, 0).unwrap(), (Elem::Int(v), b.len()));
    }
    for b in [s(b""), s(b"ab"), s126.clone(), s5000.clone()] {
        let (e, next) = lp_element(&b, 0).unwrap();
        assert!(matches!(e, Elem::Str(_)));
        assert_eq!(next, b.len());
    }
}

#[test]
fn type_15_and_21_decode() {
    let mut s = varied_stream(30, NodeLimits::default());
    s.create_group(b"g", StreamId::MIN, Some(0)).unwrap();
    s.read_group_new(b"g", b"c", 4, false, 99).unwrap();
    let mut v2 = Vec::new();
    write_stream(&s, &mut v2, true);
    // Type 21: the same with an active time after each seen time. Built by
    // re-encoding the tail by hand.
    let mut v3 = Vec::new();
    let mut plain = Stream::new();
    std::mem::swap(&mut plain, &mut s);
    let mut no_groups = plain.clone();
    no_groups.destroy_group(b"g");
    write_stream(&no_groups, &mut v3, true);
    v3.pop(); // the group count (0)
    write_len(&mut v3, 1);
    let g = plain.group(b"g").unwrap();
    write_string(&mut v3, b"g", false);
    write_id_lens(&mut v3, g.last_id());
    write_len(&mut v3, g.entries_read().unwrap());
    write_len(&mut v3, g.pending_count() as u64);
    for (pid, p) in g.pending() {
        v3.extend_from_slice(&id_key(pid));
        v3.extend_from_slice(&p.delivery_time_ms().to_le_bytes());
        write_len(&mut v3, p.delivery_count());
    }
    write_len(&mut v3, 1);
    let c = g.consumer(b"c").unwrap();
    write_string(&mut v3, b"c", false);
    v3.extend_from_slice(&c.seen_time_ms().to_le_bytes());
    v3.extend_from_slice(&12345u64.to_le_bytes());
    write_len(&mut v3, c.pending_count() as u64);
    for pid in c.pending() {
        v3.extend_from_slice(&id_key(pid));
    }
    assert!(decode_stream(TYPE_STREAM_LISTPACKS_3, &v3)
        .unwrap()
        .eq_obj(&plain));
    // Type 15: no first / max deleted / entries added, no entries read.
    let mut v1 = Vec::new();
    write_len(&mut v1, no_groups.block_count() as u64);
    let mut lp = Vec::new();
    for node in no_groups.nodes() {
        write_string(&mut v1, &id_key(node.master_id), false);
        lp.clear();
        write_listpack(&node, &mut lp);
        write_string(&mut v1, &lp, false);
    }
    write_len(&mut v1, no_groups.len());
    write_id_lens(&mut v1, no_groups.last_id());
    write_len(&mut v1, 1);
    write_string(&mut v1, b"g", false);
    write_id_lens(&mut v1, StreamId::MIN);
    write_len(&mut v1, 0);
    write_len(&mut v1, 0);
    let old = decode_stream(TYPE_STREAM_LISTPACKS, &v1).unwrap();
    assert_eq!(old.len(), 30);
    assert_eq!(old.entries_added(), 30);
    assert_eq!(old.group(b"g").unwrap().entries_read(), Some(0));
    assert!(old
        .range(StreamId::MIN, StreamId::MAX)
        .map(|e| (e.id, e.fields().collect::<Vec<_>>()))
        .eq(plain
            .range(StreamId::MIN, StreamId::MAX)
            .map(|e| (e.id, e.fields().collect::<Vec<_>>()))));
}

#[test]
fn corrupt_values_are_errors() {
    let mut s = varied_stream(12, NodeLimits::default());
    s.create_group(b"g", StreamId::MIN, Some(0)).unwrap();
    s.read_group_new(b"g", b"c", 4, false, 99).unwrap();
    let mut v = Vec::new();
    write_stream(&s, &mut v, false);
    assert!(decode_stream(TYPE_STREAM_LISTPACKS_2, &v).is_ok());
    // Wrong length claimed.
    let mut t = Stream::new();
    add(&mut t, 1, 0, &[b"f", b"v"], NodeLimits::default());
    let mut w = Vec::new();
    write_stream(&t, &mut w, false);
    let len_at = w.len() - 9; // length, last (2), first (2), max deleted (2), added, groups
    assert_eq!(w[len_at], 1);
    w[len_at] = 2;
    let e = decode_stream(TYPE_STREAM_LISTPACKS_2, &w).err().unwrap();
    assert!(e.msg.contains("2 entries"), "{e}");
    // A listpack with a bad end marker, a bad header length.
    let mut w = Vec::new();
    write_stream(&t, &mut w, false);
    let lp_at = 1 + 1 + 16 + 1; // node count, key len, key, lp len
    let lp_len = w[lp_at - 1] as usize;
    let mut bad = w.clone();
    bad[lp_at + lp_len - 1] = 0xfe;
    let e = decode_stream(TYPE_STREAM_LISTPACKS_2, &bad).err().unwrap();
    assert!(e.msg.contains("0xff"), "{e}");
    let mut bad = w.clone();
    bad[lp_at] ^= 1;
    let e = decode_stream(TYPE_STREAM_LISTPACKS_2, &bad).err().unwrap();
    assert!(e.msg.contains("header says"), "{e}");
    // Trailing bytes; truncation at every point.
    let mut long = v.clone();
    long.push(0);
    assert!(decode_stream(TYPE_STREAM_LISTPACKS_2, &long).is_err());
    for cut in 0..v.len() {
        assert!(decode_stream(TYPE_STREAM_LISTPACKS_2, &v[..cut]).is_err());
    }
    assert!(decode_stream(TYPE_STRING_FOR_TEST, &v).is_err());
    // Checksums of DUMP payloads.
    let mut p = dump_stream(&s);
    let n = p.len();
    p[n - 1] ^= 1;
    assert!(parse_stream_dump(&p, true).is_err());
    assert!(parse_stream_dump(&p, false).is_ok());
}

const TYPE_STRING_FOR_TEST: u8 = 0;

fn fuzz_base() -> Vec<u8> {
    let mut s = varied_stream(
        25,
        NodeLimits {
            max_bytes: 4096,
            max_entries: 8,
        },
    );
    s.delete(&[id(1001, 5)]);
    s.create_group(b"g", StreamId::MIN, Some(0)).unwrap();
    s.read_group_new(b"g", b"c", 4, false, 99).unwrap();
    s.read_group_new(b"g", b"d", 3, false, 99).unwrap();
    let mut v = Vec::new();
    write_stream(&s, &mut v, false);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn corrupt_input_never_panics(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        t in prop::sample::select(vec![15u8, 19, 21]),
    ) {
        let mut v = fuzz_base();
        for (at, b) in flips {
            let i = at.index(v.len());
            v[i] = b;
        }
        if truncate {
            let n = cut.index(v.len());
            v.truncate(n);
        }
        let _ = decode_stream(t, &v);
        let _ = parse_stream_dump(&v, false);
    }
}

mod redis_interop;
