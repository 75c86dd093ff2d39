use super::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn string_bytes(s: &[u8], compress: bool) -> Vec<u8> {
    let mut b = Vec::new();
    write_string(&mut b, s, compress);
    b
}

/// A file body (header included, EOF excluded) finished with EOF and its checksum.
fn finish(mut body: Vec<u8>) -> Vec<u8> {
    write_eof(&mut body);
    let crc = crc64(0, &body);
    body.extend_from_slice(&crc.to_le_bytes());
    body
}

/// A file of another version: header, body, EOF, and the checksum from version 5.
fn file_v(version: u16, body: &[u8]) -> Vec<u8> {
    let mut f = format!("REDIS{version:04}").into_bytes();
    f.extend_from_slice(body);
    if version >= 5 {
        finish(f)
    } else {
        f.push(opcode::EOF);
        f
    }
}

fn load_all(file: &[u8], verify: bool) -> Result<(Vec<LoadedKey>, Loader<&[u8]>), RdbError> {
    let mut l = Loader::new(file, verify)?;
    let mut keys = Vec::new();
    while let Some(k) = l.next_key()? {
        keys.push(k);
    }
    Ok((keys, l))
}

fn key(db: usize, k: &[u8], v: &[u8], expire_ms: Option<u64>) -> LoadedKey {
    LoadedKey {
        db,
        key: k.to_vec(),
        value: Value::String(v.to_vec()),
        expire_ms,
        idle_secs: None,
        freq: None,
    }
}

fn err_of(file: &[u8]) -> RdbError {
    match load_all(file, true) {
        Ok(_) => panic!("loaded a bad file"),
        Err(e) => e,
    }
}

// ---- encoder ---------------------------------------------------------------------------------

#[test]
fn length_encodings() {
    let cases: &[(u64, &[u8])] = &[
        (0, &[0x00]),
        (63, &[0x3f]),
        (64, &[0x40, 0x40]),
        (16383, &[0x7f, 0xff]),
        (16384, &[0x80, 0, 0, 0x40, 0]),
        (u32::MAX as u64, &[0x80, 0xff, 0xff, 0xff, 0xff]),
        (1 << 32, &[0x81, 0, 0, 0, 1, 0, 0, 0, 0]),
    ];
    for &(n, want) in cases {
        let mut b = Vec::new();
        write_len(&mut b, n);
        assert_eq!(b, want, "{n}");
        let mut input = SliceInput::new(&b);
        assert_eq!(decode::len(&mut input).unwrap(), n);
        assert_eq!(input.offset(), b.len() as u64);
    }
}

#[test]
fn integer_encodings_follow_redis() {
    let cases: &[(&[u8], &[u8])] = &[
        (b"0", &[0xc0, 0]),
        (b"-1", &[0xc0, 0xff]),
        (b"127", &[0xc0, 0x7f]),
        (b"-128", &[0xc0, 0x80]),
        (b"128", &[0xc1, 0x80, 0x00]),
        (b"-32768", &[0xc1, 0x00, 0x80]),
        (b"32768", &[0xc2, 0x00, 0x80, 0, 0]),
        (b"2147483647", &[0xc2, 0xff, 0xff, 0xff, 0x7f]),
        (b"-2147483648", &[0xc2, 0, 0, 0, 0x80]),
        // Beyond 32 bits, or not canonical: stored as text.
        (b"2147483648", b"\x0a2147483648"),
        (b"-2147483649", b"\x0b-2147483649"),
        (b"012", b"\x03012"),
        (b"+1", b"\x02+1"),
        (b"-0", b"\x02-0"),
        (b" 1", b"\x02 1"),
        (b"", b"\x00"),
    ];
    for &(s, want) in cases {
        assert_eq!(string_bytes(s, true), want, "{}", repr(s));
        let mut input = SliceInput::new(want);
        assert_eq!(decode::string(&mut input).unwrap(), s);
    }
}

#[test]
fn lzf_only_when_long_and_worth_it() {
    // 20 bytes: never compressed.
    let s20 = vec![b'a'; 20];
    assert_eq!(string_bytes(&s20, true)[0], 20);
    // 21 compressible bytes: LZF.
    let s21 = vec![b'a'; 21];
    let b = string_bytes(&s21, true);
    assert_eq!(b[0], 0xc3);
    assert_eq!(decode::string(&mut SliceInput::new(&b)).unwrap(), s21);
    // Not without `compress`.
    assert_eq!(string_bytes(&s21, false)[0], 21);
    // Incompressible: raw, even with `compress`.
    let noise: Vec<u8> = (0..100u64)
        .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
        .collect();
    let b = string_bytes(&noise, true);
    assert_eq!(&b[..2], &[0x40, 100]);
    assert_eq!(&b[2..], &noise[..]);
}

#[test]
fn dump_payloads_match_redis_bytes() {
    // DUMP output of redis-server 7.0.15.
    assert_eq!(
        dump_string(b"hello", true),
        hex("000568656c6c6f0a006372df766534200a")
    );
    assert_eq!(
        dump_string(b"123456789", true),
        hex("00c215cd5b070a00a4b7c909e0e9379e")
    );
    assert_eq!(
        dump_string(b"123456789", false),
        dump_string(b"123456789", true)
    );
}

#[test]
fn parses_redis_lzf_payload() {
    let p = hex("00c3094064016161e057000161610a00e8a3b507b06df271");
    assert_eq!(parse_dump(&p, true), Ok(Value::String(vec![b'a'; 100])));
}

#[test]
fn dump_round_trips() {
    let long: Vec<u8> = b"abcdefgh".repeat(1000);
    let noise: Vec<u8> = (0..5000u64)
        .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
        .collect();
    for v in [
        &b""[..],
        b"0",
        b"-5",
        b"70000",
        b"12345678901234567890",
        b"hello",
        b"\x00\xff\r\n",
        &long,
        &noise,
    ] {
        for compress in [true, false] {
            let p = dump_string(v, compress);
            assert_eq!(u16::from_le_bytes([p[p.len() - 10], p[p.len() - 9]]), 10);
            assert_eq!(parse_dump(&p, true), Ok(Value::String(v.to_vec())));
        }
    }
    assert!(dump_string(&long, true).len() < long.len() / 4);
}

#[test]
fn parse_dump_errors() {
    let good = dump_string(b"hello", true);
    // Too short.
    assert!(parse_dump(&good[..9], true).is_err());
    assert!(!verify_dump_footer(&good[..9], true));
    // Checksum.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert!(!verify_dump_footer(&bad, true));
    assert!(parse_dump(&bad, true).unwrap_err().msg.contains("checksum"));
    assert_eq!(
        parse_dump(&bad, false),
        Ok(Value::String(b"hello".to_vec()))
    );
    // Versions up to 12 are read, 13 is not.
    for (v, ok) in [(11u16, true), (12, true), (13, false), (0xffff, false)] {
        let mut p = good[..good.len() - 10].to_vec();
        p.extend_from_slice(&v.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(verify_dump_footer(&p, true), ok, "version {v}");
        assert_eq!(parse_dump(&p, true).is_ok(), ok, "version {v}");
    }
    // Extra bytes between the value and the footer.
    let with_footer = |body: &[u8]| {
        let mut p = body.to_vec();
        p.extend_from_slice(&10u16.to_le_bytes());
        let crc = crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    };
    let e = parse_dump(&with_footer(b"\x00\x02hiX"), true).unwrap_err();
    assert!(e.msg.contains("1 bytes after the value"), "{e}");
    // The value runs into the footer.
    assert!(parse_dump(&with_footer(b"\x00\x05hi"), true).is_err());
    // Types shoal lacks are named.
    let e = parse_dump(
        &with_footer(b"\x12\x01\x02\x0b\x0b\x00\x00\x00\x01\x00\x81a\xff"),
        true,
    )
    .unwrap_err();
    assert_eq!(
        e.msg,
        "the payload holds a list (RDB type 18, quicklist), which shoal does not support yet"
    );
    let e = parse_dump(&with_footer(b"\x08\x00"), true).unwrap_err();
    assert_eq!(e.msg, "unknown value type 8 in the DUMP payload");
    // An empty body.
    assert!(parse_dump(&with_footer(b""), true).is_err());
    // Bad string encodings.
    assert!(parse_dump(&with_footer(b"\x00\xc4"), true).is_err());
    assert!(parse_dump(&with_footer(b"\x00\xc3\x02\x05\x00a"), true).is_err());
}

// ---- files -----------------------------------------------------------------------------------

fn sample_file() -> Vec<u8> {
    let mut f = Vec::new();
    write_header(&mut f);
    write_aux(&mut f, b"redis-ver", b"7.0.15");
    write_aux(&mut f, b"redis-bits", b"64");
    write_selectdb(&mut f, 0);
    write_resizedb(&mut f, 3, 1);
    write_string_key(&mut f, b"a", b"1", None, true);
    write_string_key(
        &mut f,
        b"b",
        &b"xyz".repeat(100),
        Some(1_700_000_000_123),
        true,
    );
    write_string_key(&mut f, &b"k".repeat(40), b"plain", None, false);
    write_selectdb(&mut f, 15);
    write_string_key(&mut f, b"last", b"-7", None, true);
    finish(f)
}

#[test]
fn file_round_trip() {
    let f = sample_file();
    assert_eq!(&f[..9], b"REDIS0010");
    let (keys, l) = load_all(&f, true).unwrap();
    assert_eq!(l.version(), 10);
    assert_eq!(l.offset(), f.len() as u64);
    assert_eq!(
        l.aux(),
        &[
            (b"redis-ver".to_vec(), b"7.0.15".to_vec()),
            (b"redis-bits".to_vec(), b"64".to_vec())
        ]
    );
    assert_eq!(
        keys,
        vec![
            key(0, b"a", b"1", None),
            key(0, b"b", &b"xyz".repeat(100), Some(1_700_000_000_123)),
            key(0, &b"k".repeat(40), b"plain", None),
            key(15, b"last", b"-7", None),
        ]
    );
    assert_eq!(l.skipped_functions(), 0);
}

#[test]
fn loader_stays_done() {
    let f = sample_file();
    let mut l = Loader::new(&f[..], true).unwrap();
    while l.next_key().unwrap().is_some() {}
    assert_eq!(l.next_key(), Ok(None));
}

#[test]
fn reads_every_version_header() {
    let mut body = vec![opcode::SELECTDB, 0, TYPE_STRING];
    body.extend_from_slice(b"\x01k\x01v");
    for v in 1..=12u16 {
        let f = file_v(v, &body);
        let (keys, l) = load_all(&f, true).unwrap();
        assert_eq!(l.version(), v);
        assert_eq!(keys, vec![key(0, b"k", b"v", None)], "version {v}");
    }
}

#[test]
fn refuses_bad_headers() {
    let e = err_of(b"REDIS0013\xff");
    assert!(e.msg.contains("RDB version 13"), "{e}");
    let e = err_of(b"REDIS0000\xff");
    assert!(e.msg.contains("RDB version 0"), "{e}");
    let e = err_of(b"REDIS00a1\xff");
    assert!(e.msg.contains("\"00a1\""), "{e}");
    let e = err_of(b"REDIX0010\xff");
    assert!(e.msg.contains("\"REDIX\""), "{e}");
    let e = err_of(b"REDIS00");
    assert_eq!(e.msg, "unexpected end of file");
    assert_eq!(e.offset, 7);
    assert!(err_of(b"").msg.contains("end of file"));
}

#[test]
fn expiry_in_seconds_and_milliseconds() {
    let mut body = vec![opcode::EXPIRETIME];
    body.extend_from_slice(&1_600_000_000i32.to_le_bytes());
    body.extend_from_slice(b"\x00\x01a\x01x");
    body.push(opcode::EXPIRETIME_MS);
    body.extend_from_slice(&1_600_000_000_555u64.to_le_bytes());
    body.extend_from_slice(b"\x00\x01b\x01y");
    // Before the epoch: long expired.
    body.push(opcode::EXPIRETIME);
    body.extend_from_slice(&(-5i32).to_le_bytes());
    body.extend_from_slice(b"\x00\x01c\x01z");
    body.push(opcode::EXPIRETIME_MS);
    body.extend_from_slice(&(-5i64).to_le_bytes());
    body.extend_from_slice(b"\x00\x01d\x01w");
    // The expiry belongs to one key only.
    body.extend_from_slice(b"\x00\x01e\x01v");
    let (keys, _) = load_all(&file_v(9, &body), true).unwrap();
    assert_eq!(
        keys,
        vec![
            key(0, b"a", b"x", Some(1_600_000_000_000)),
            key(0, b"b", b"y", Some(1_600_000_000_555)),
            key(0, b"c", b"z", Some(0)),
            key(0, b"d", b"w", Some(0)),
            key(0, b"e", b"v", None),
        ]
    );
}

/// A file using every opcode: AUX, RESIZEDB, MODULE_AUX, FUNCTION2, SLOT_INFO, SELECTDB, IDLE,
/// FREQ.
fn opcode_file() -> Vec<u8> {
    let mut b = Vec::new();
    b.push(opcode::AUX);
    b.extend_from_slice(b"\x03foo\xc0\x05"); // an integer-encoded AUX value
    b.push(opcode::RESIZEDB);
    b.extend_from_slice(&[0x40, 0x80, 0x00]);
    // MODULE_AUX: id, when_opcode UINT, when, then every item kind and the module EOF.
    b.push(opcode::MODULE_AUX);
    b.extend_from_slice(&[0x81, 0, 0, 0, 0, 0, 0, 0x04, 0x01]);
    b.extend_from_slice(&[0x02, 0x02]);
    b.extend_from_slice(&[0x01, 0x80, 0, 0, 1, 0]); // SINT
    b.extend_from_slice(&[0x02, 0x05]); // UINT
    b.extend_from_slice(&[0x03, 1, 2, 3, 4]); // FLOAT
    b.extend_from_slice(&[0x04, 1, 2, 3, 4, 5, 6, 7, 8]); // DOUBLE
    b.extend_from_slice(&[0x05, 0x03, b'a', b'b', b'c']); // STRING
    b.push(0x00);
    // A function library.
    b.push(opcode::FUNCTION2);
    let code = b"#!lua name=mylib\nredis.register_function('f', function() return 1 end)";
    write_string(&mut b, code, true);
    b.push(opcode::SLOT_INFO);
    b.extend_from_slice(&[0x40, 0x10, 0x05, 0x00]);
    b.push(opcode::SELECTDB);
    b.push(3);
    b.push(opcode::IDLE);
    b.extend_from_slice(&[0x40, 0xc8]);
    b.extend_from_slice(b"\x00\x01i\x01v");
    b.push(opcode::FREQ);
    b.push(77);
    b.extend_from_slice(b"\x00\x01f\x01v");
    b.extend_from_slice(b"\x00\x01n\x01v");
    file_v(12, &b)
}

#[test]
fn skips_opcodes_it_does_not_use() {
    let f = opcode_file();
    let (keys, l) = load_all(&f, true).unwrap();
    assert_eq!(l.aux(), &[(b"foo".to_vec(), b"5".to_vec())]);
    assert_eq!(l.skipped_functions(), 1);
    assert_eq!(l.skipped_module_aux(), 1);
    let mut idle = key(3, b"i", b"v", None);
    idle.idle_secs = Some(200);
    let mut freq = key(3, b"f", b"v", None);
    freq.freq = Some(77);
    assert_eq!(keys, vec![idle, freq, key(3, b"n", b"v", None)]);
}

#[test]
fn module_aux_errors_name_the_module() {
    // The id of a module named "mymodule1" (9 characters of 6 bits above a 10-bit version).
    let charset = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id: u64 = 0;
    for c in b"mymodule1" {
        id = id << 6 | charset.iter().position(|x| x == c).unwrap() as u64;
    }
    id = id << 10 | 3;
    assert_eq!(decode::module_name(id), "mymodule1");
    let mut b = vec![opcode::MODULE_AUX];
    write_len(&mut b, id);
    b.extend_from_slice(&[0x02, 0x02, 0x09]);
    let e = err_of(&file_v(10, &b));
    assert!(
        e.msg.contains("unknown opcode 9") && e.msg.contains("mymodule1"),
        "{e}"
    );
    let mut b = vec![opcode::MODULE_AUX];
    write_len(&mut b, id);
    b.extend_from_slice(&[0x01, 0x02, 0x00]);
    let e = err_of(&file_v(10, &b));
    assert!(e.msg.contains("when_opcode"), "{e}");
}

#[test]
fn refuses_what_it_cannot_load() {
    let e = err_of(&file_v(10, &[opcode::FUNCTION_PRE_GA, 0]));
    assert!(e.msg.contains("pre-GA"), "{e}");
    assert_eq!(e.offset, 9);

    let e = err_of(&file_v(10, &[opcode::SELECTDB, 16]));
    assert!(e.msg.contains("db 16"), "{e}");

    let e = err_of(&file_v(10, &[243, 0]));
    assert_eq!(e.msg, "unknown value type or opcode 243 (0xf3)");
    let e = err_of(&file_v(10, &[8]));
    assert_eq!(e.msg, "unknown value type or opcode 8 (0x08)");

    let mut b = vec![opcode::SELECTDB, 2, 18];
    b.extend_from_slice(b"\x06mylist\x01\x02\x0b\x0b\x00\x00\x00\x01\x00\x81a\xff");
    let e = err_of(&file_v(11, &b));
    assert_eq!(
        e.msg,
        "key \"mylist\" in db 2 is a list (RDB type 18, quicklist): shoal does not support this type yet, so the file cannot be loaded without losing data"
    );
    assert_eq!(e.offset, 11);
    let e = err_of(&file_v(10, b"\x04\x04h\"\n\xfe"));
    assert!(
        e.msg
            .starts_with("key \"h\\\"\\n\\xfe\" in db 0 is a hash (RDB type 4"),
        "{e}"
    );
    for t in [
        1u8, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18, 20, 22, 23, 24, 25,
    ] {
        let e = err_of(&file_v(12, &[t, 1, b'k']));
        assert!(e.msg.contains(&format!("(RDB type {t}, ")), "{e}");
        assert!(is_unsupported_type(t));
    }
    // Streams load; a broken one is an error naming the key.
    for t in [15u8, 19, 21] {
        assert!(!is_unsupported_type(t));
        let e = err_of(&file_v(12, &[t, 1, b'k', 1, 3, b'a', b'b', b'c']));
        assert_eq!(
            e.msg,
            "key \"k\" in db 0: stream node 0: the key has 3 bytes, a stream ID has 16"
        );
    }
}

/// A stream with entries, a deleted one, a group with a pending entry, and a TTL.
fn sample_stream() -> crate::storage::stream::Stream {
    use crate::storage::stream::{AddId, NodeLimits, StreamId};
    let mut s = Stream::new();
    let limits = NodeLimits::default();
    for i in 1..=5u64 {
        let v = i.to_string();
        s.add(
            AddId::Explicit(StreamId::new(i, 0)),
            &[b"f", v.as_bytes()],
            0,
            limits,
        )
        .unwrap();
    }
    s.delete(&[StreamId::new(3, 0)]);
    s.create_group(b"g", StreamId::new(0, 0), Some(0)).unwrap();
    s.read_group_new(b"g", b"alice", 2, false, 1000).unwrap();
    s
}

#[test]
fn streams_load_from_files_and_dump_payloads() {
    let s = sample_stream();
    let obj = || Box::new(s.clone()) as Box<dyn Object>;
    let mut f = Vec::new();
    write_header(&mut f);
    write_selectdb(&mut f, 4);
    write_entry(
        &mut f,
        &Entry::new_obj(b"st", obj(), Some(1 << 50), 0),
        true,
    );
    write_string_key(&mut f, b"after", b"v", None, true);
    let (keys, _) = load_all(&finish(f), true).unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!((keys[0].db, &keys[0].key[..]), (4, &b"st"[..]));
    assert_eq!(keys[0].expire_ms, Some(1 << 50));
    assert_eq!(keys[0].value, Value::Stream(Box::new(s.clone())));
    assert_ne!(keys[0].value, Value::Stream(Box::new(Stream::new())));
    assert_eq!(keys[1], key(4, b"after", b"v", None));

    let p = dump_entry(&Entry::new_obj(b"st", obj(), None, 0), true);
    assert_eq!(parse_dump(&p, true), Ok(Value::Stream(Box::new(s.clone()))));
    // Trailing bytes after the stream value, checksum correct: corrupt.
    let mut q = p[..p.len() - DUMP_FOOTER].to_vec();
    q.push(0);
    q.extend_from_slice(&RDB_VERSION_WRITTEN.to_le_bytes());
    let crc = crc64(0, &q);
    q.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(
        parse_dump(&q, true).map_err(|e| e.msg),
        Err("1 bytes after the value, before the DUMP payload footer".to_string())
    );
}

#[test]
fn checksums() {
    let mut f = sample_file();
    let n = f.len();
    // A wrong checksum.
    f[n - 1] ^= 0x80;
    let e = err_of(&f);
    assert!(e.msg.starts_with("wrong checksum (expected "), "{e}");
    assert_eq!(e.offset, n as u64 - 8);
    assert!(load_all(&f, false).is_ok());
    // 0: saved without a checksum, accepted.
    f[n - 8..].fill(0);
    assert_eq!(load_all(&f, true).unwrap().0.len(), 4);
    // A flipped data byte is caught by the checksum.
    let mut f = sample_file();
    let at = f.iter().position(|&b| b == b'x').unwrap();
    f[at] = b'q';
    assert!(err_of(&f).msg.contains("checksum"));
    // Before version 5 there is none: EOF ends the file.
    let old = file_v(4, b"\x00\x01k\x01v");
    let (keys, l) = load_all(&old, true).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(l.offset(), 9 + 6);
}

#[test]
fn truncated_anywhere_is_an_error() {
    for f in [sample_file(), opcode_file()] {
        assert!(load_all(&f, true).is_ok());
        for cut in 0..f.len() {
            let e = load_all(&f[..cut], true).err();
            let e = e.unwrap_or_else(|| panic!("a file cut at {cut} loaded"));
            assert_eq!(e.msg, "unexpected end of file", "cut at {cut}");
            assert_eq!(e.offset, cut as u64, "cut at {cut}");
        }
    }
}

#[test]
fn corrupt_lengths_do_not_allocate() {
    // A string claiming 2^62 bytes, an LZF string claiming to expand to 2^40.
    let mut b = vec![0u8, 0x81];
    b.extend_from_slice(&(1u64 << 62).to_be_bytes());
    let e = err_of(&file_v(10, &b));
    assert_eq!(e.msg, "unexpected end of file");
    let mut b = vec![0u8, 0x01, b'k', 0xc3, 0x05, 0x81];
    b.extend_from_slice(&(1u64 << 40).to_be_bytes());
    b.extend_from_slice(b"\x00aaaa");
    let e = err_of(&file_v(10, &b));
    assert!(e.msg.contains("invalid LZF"), "{e}");
    // A bad length marker.
    let e = err_of(&file_v(10, &[0, 0x82]));
    assert_eq!(e.msg, "unknown length encoding 0x82");
}

#[test]
fn large_values_cross_buffer_boundaries() {
    let mut f = Vec::new();
    write_header(&mut f);
    let big: Vec<u8> = (0..300_000u64)
        .map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8)
        .collect();
    let mut want = Vec::new();
    for i in 0..2000u32 {
        let k = format!("key:{i}").into_bytes();
        let v = if i % 500 == 0 {
            big.clone()
        } else {
            format!("v{i}").repeat(7).into_bytes()
        };
        write_string_key(&mut f, &k, &v, None, true);
        want.push(key(0, &k, &v, None));
    }
    let f = finish(f);
    let (keys, l) = load_all(&f, true).unwrap();
    assert_eq!(keys, want);
    assert_eq!(l.offset(), f.len() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn flipped_bytes_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
                                 verify in any::<bool>(), which in any::<bool>()) {
        let mut f = if which { sample_file() } else { opcode_file() };
        for (at, x) in flips {
            let n = f.len();
            f[at % n] ^= x | 1;
        }
        if let Ok(mut l) = Loader::new(&f[..], verify) {
            for _ in 0..100 {
                match l.next_key() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }

    #[test]
    fn random_bytes_after_header_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut f = b"REDIS0012".to_vec();
        f.extend_from_slice(&tail);
        if let Ok(mut l) = Loader::new(&f[..], true) {
            for _ in 0..100 {
                match l.next_key() {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let _ = parse_dump(&tail, true);
        let _ = parse_dump(&tail, false);
    }

    #[test]
    fn file_round_trip_any_keys(entries in proptest::collection::vec(
        (proptest::collection::vec(any::<u8>(), 0..40),
         prop_oneof![proptest::collection::vec(any::<u8>(), 0..100),
                     (any::<i64>()).prop_map(|i| i.to_string().into_bytes()),
                     proptest::collection::vec(0u8..3, 0..300)],
         proptest::option::of(any::<u64>().prop_map(|t| t >> 1)),
         0usize..16), 0..20),
        compress in any::<bool>()) {
        let mut f = Vec::new();
        write_header(&mut f);
        let mut want = Vec::new();
        for (k, v, exp, db) in &entries {
            write_selectdb(&mut f, *db as u64);
            write_string_key(&mut f, k, v, *exp, compress);
            want.push(key(*db, k, v, *exp));
        }
        let f = finish(f);
        let (keys, _) = load_all(&f, true).unwrap();
        prop_assert_eq!(keys, want);
    }
}
