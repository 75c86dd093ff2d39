//! DUMP / RESTORE against a live redis-server 7.0 on a private port: a
//! stream built in Redis decodes to what XRANGE / XINFO STREAM FULL report,
//! and a stream encoded here restores in Redis (with deep payload
//! sanitization on) to the same XRANGE / XINFO / XPENDING. Skipped, with a
//! note, when redis-server is not on PATH.

use super::*;
use redis::Value as RV;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct RedisServer {
    child: Child,
    conn: redis::Connection,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_redis(port: u16) -> Option<RedisServer> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--sanitize-dump-payload", "yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        eprintln!("note: redis-server not on PATH; stream DUMP/RESTORE interop skipped");
        return None;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("redis-server did not start on port {port}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let conn = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    Some(RedisServer { child, conn })
}

/// A reply, normalized.
#[derive(Clone, PartialEq, Debug)]
enum V {
    Nil,
    Int(i64),
    Str(Vec<u8>),
    Arr(Vec<V>),
}

fn norm(v: RV) -> V {
    match v {
        RV::Nil => V::Nil,
        RV::Int(i) => V::Int(i),
        RV::BulkString(b) => V::Str(b),
        RV::SimpleString(s) => V::Str(s.into_bytes()),
        RV::Okay => V::Str(b"OK".to_vec()),
        RV::Array(a) => V::Arr(a.into_iter().map(norm).collect()),
        other => panic!("unexpected reply {other:?}"),
    }
}

fn s(x: impl AsRef<[u8]>) -> V {
    V::Str(x.as_ref().to_vec())
}

fn idv(id: StreamId) -> V {
    s(id.to_string())
}

fn int(n: impl TryInto<i64>) -> V {
    V::Int(n.try_into().ok().unwrap())
}

fn opt(n: Option<impl TryInto<i64>>) -> V {
    n.map_or(V::Nil, int)
}

fn entries(st: &Stream) -> V {
    V::Arr(
        st.range(StreamId::MIN, StreamId::MAX)
            .map(|e| {
                let kv = e.fields().flat_map(|(f, v)| [s(f), s(v)]).collect();
                V::Arr(vec![idv(e.id), V::Arr(kv)])
            })
            .collect(),
    )
}

/// XINFO STREAM key FULL COUNT 0 as Redis 7.0 would answer for `st`, with
/// `radix-tree-nodes` (a property of Redis's tree, not of the data) as nil.
fn expected_full(st: &Stream) -> V {
    let groups = st
        .groups()
        .map(|(name, g)| {
            let pending = g
                .pending()
                .map(|(pid, p)| {
                    V::Arr(vec![
                        idv(pid),
                        s(g.owner(p)),
                        int(p.delivery_time_ms()),
                        int(p.delivery_count()),
                    ])
                })
                .collect();
            let consumers = g
                .consumers()
                .map(|c| {
                    let pel = c
                        .pending()
                        .map(|pid| {
                            let p = g.pending_entry(pid).unwrap();
                            V::Arr(vec![
                                idv(pid),
                                int(p.delivery_time_ms()),
                                int(p.delivery_count()),
                            ])
                        })
                        .collect();
                    V::Arr(vec![
                        s("name"),
                        s(c.name()),
                        s("seen-time"),
                        int(c.seen_time_ms()),
                        s("pel-count"),
                        int(c.pending_count()),
                        s("pending"),
                        V::Arr(pel),
                    ])
                })
                .collect();
            V::Arr(vec![
                s("name"),
                s(name),
                s("last-delivered-id"),
                idv(g.last_id()),
                s("entries-read"),
                opt(g.entries_read()),
                s("lag"),
                opt(st.lag(g)),
                s("pel-count"),
                int(g.pending_count()),
                s("pending"),
                V::Arr(pending),
                s("consumers"),
                V::Arr(consumers),
            ])
        })
        .collect();
    V::Arr(vec![
        s("length"),
        int(st.len()),
        s("radix-tree-keys"),
        int(st.block_count()),
        s("radix-tree-nodes"),
        V::Nil,
        s("last-generated-id"),
        idv(st.last_id()),
        s("max-deleted-entry-id"),
        idv(st.max_deleted_entry_id()),
        s("entries-added"),
        int(st.entries_added()),
        s("recorded-first-entry-id"),
        idv(st.first_id()),
        s("entries"),
        entries(st),
        s("groups"),
        V::Arr(groups),
    ])
}

fn redis_full(conn: &mut redis::Connection, key: &str) -> V {
    let v: RV = redis::cmd("XINFO")
        .arg(&["STREAM", key, "FULL", "COUNT", "0"])
        .query(conn)
        .unwrap();
    let mut v = norm(v);
    if let V::Arr(items) = &mut v {
        if let Some(i) = items.iter().position(|x| *x == s("radix-tree-nodes")) {
            items[i + 1] = V::Nil;
        }
    }
    v
}

fn cmd(conn: &mut redis::Connection, args: &[&str]) -> V {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    norm(c.query::<RV>(conn).unwrap())
}

fn dump(conn: &mut redis::Connection, key: &str) -> Vec<u8> {
    redis::cmd("DUMP").arg(key).query(conn).unwrap()
}

#[test]
fn streams_dumped_by_redis_decode() {
    let Some(mut r) = start_redis(23871) else {
        return;
    };
    let c = &mut r.conn;
    cmd(c, &["CONFIG", "SET", "stream-node-max-entries", "40"]);
    let long = "L".repeat(700);
    for i in 0..600u64 {
        let id = format!("{}-{}", 1000 + i / 3, i % 3 * 5);
        let n = format!("{}", (i as i64 - 300) * 9_999_991);
        let v = format!("v{i}");
        let args: Vec<&str> = match i % 5 {
            0 | 1 => vec!["name", &v, "n", &n],
            2 => vec!["name", "-0", "n", "9223372036854775807"],
            3 => vec!["other", &long],
            _ => vec!["name", "", "n", "0", "extra", "12"],
        };
        let mut all = vec!["XADD", "s", &id];
        all.extend(args);
        cmd(c, &all);
    }
    for i in (0..600u64).step_by(7) {
        cmd(
            c,
            &["XDEL", "s", &format!("{}-{}", 1000 + i / 3, i % 3 * 5)],
        );
    }
    cmd(c, &["XTRIM", "s", "MAXLEN", "480"]);
    cmd(c, &["XTRIM", "s", "MINID", "~", "1060"]);
    cmd(c, &["XGROUP", "CREATE", "s", "g1", "0"]);
    cmd(c, &["XGROUP", "CREATE", "s", "g2", "$"]);
    cmd(c, &["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "3"]);
    cmd(
        c,
        &[
            "XGROUP",
            "CREATE",
            "s",
            "a-group-name-longer-than-twenty",
            "0",
        ],
    );
    cmd(c, &["XGROUP", "CREATECONSUMER", "s", "g2", "erin"]);
    cmd(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "10",
            "STREAMS",
            "s",
            ">",
        ],
    );
    cmd(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "5",
            "STREAMS",
            "s",
            ">",
        ],
    );
    let pending = cmd(c, &["XPENDING", "s", "g1", "-", "+", "3", "alice"]);
    let V::Arr(p) = pending else { panic!() };
    let claim_ids: Vec<Vec<u8>> = p
        .iter()
        .map(|e| match e {
            V::Arr(x) => match &x[0] {
                V::Str(b) => b.clone(),
                _ => panic!(),
            },
            _ => panic!(),
        })
        .collect();
    let mut claim = vec!["XCLAIM", "s", "g1", "carol", "0"];
    for i in &claim_ids {
        claim.push(std::str::from_utf8(i).unwrap());
    }
    cmd(c, &claim);
    cmd(c, &["XGROUP", "SETID", "s", "g3", "1070-0"]);
    cmd(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g3",
            "dave",
            "COUNT",
            "3",
            "STREAMS",
            "s",
            ">",
        ],
    );
    cmd(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "a-group-name-longer-than-twenty",
            "a-consumer-name-longer-than-twenty",
            "COUNT",
            "4",
            "STREAMS",
            "s",
            ">",
        ],
    );
    // A pending entry whose entry is then deleted.
    cmd(
        c,
        &["XDEL", "s", std::str::from_utf8(&claim_ids[0]).unwrap()],
    );

    let payload = dump(c, "s");
    let st = parse_stream_dump(&payload, true).unwrap();
    assert!(st.block_count() > 5);
    assert_eq!(expected_full(&st), redis_full(c, "s"));
    assert_eq!(entries(&st), cmd(c, &["XRANGE", "s", "-", "+"]));
    // Our encoding of what we decoded is Redis's, byte for byte (up to LZF
    // choices, compared uncompressed).
    let mut ours = Vec::new();
    write_stream(&st, &mut ours, false);
    let ours_again = decode_stream(TYPE_STREAM_LISTPACKS_2, &ours).unwrap();
    assert!(ours_again.eq_obj(&st));
    if dump_stream(&st) != payload {
        let redis_plain = restore_uncompressed(c, &payload);
        assert_eq!(ours, redis_plain, "our encoding differs from Redis's");
    }
}

/// Redis's DUMP with `rdbcompression no`, stripped to the value.
fn restore_uncompressed(c: &mut redis::Connection, payload: &[u8]) -> Vec<u8> {
    cmd(c, &["CONFIG", "SET", "rdbcompression", "no"]);
    let _: RV = redis::cmd("RESTORE")
        .arg("plain")
        .arg(0)
        .arg(payload)
        .arg("REPLACE")
        .query(c)
        .unwrap();
    let p = dump(c, "plain");
    cmd(c, &["CONFIG", "SET", "rdbcompression", "yes"]);
    p[1..p.len() - DUMP_FOOTER].to_vec()
}

#[test]
fn streams_encoded_here_restore_in_redis() {
    let Some(mut r) = start_redis(23872) else {
        return;
    };
    let c = &mut r.conn;
    let limits = NodeLimits {
        max_bytes: 4096,
        max_entries: 30,
    };
    let mut st = varied_stream(400, limits);
    st.delete(&[id(1000, 0), id(1001, 5), id(1040, 10), id(1100, 0)]);
    st.trim(Trim::MaxLen(350), false, 0);
    st.create_group(b"g1", StreamId::MIN, Some(0)).unwrap();
    st.create_group(b"g2", st.last_id(), None).unwrap();
    st.create_group(b"a-group-name-longer-than-twenty", id(1050, 0), None)
        .unwrap();
    let now = 1_700_000_000_000;
    st.read_group_new(b"g1", b"alice", 10, false, now).unwrap();
    st.read_group_new(b"g1", b"bob", 5, false, now + 1).unwrap();
    st.read_group_new(
        b"a-group-name-longer-than-twenty",
        b"zed",
        6,
        false,
        now + 2,
    )
    .unwrap();
    st.create_consumer(b"g2", b"erin", now + 3).unwrap();
    let ids: Vec<StreamId> = st
        .group(b"g1")
        .unwrap()
        .pending()
        .map(|(i, _)| i)
        .take(2)
        .collect();
    st.claim(b"g1", b"carol", 0, &ids, &ClaimOptions::default(), now + 4)
        .unwrap();
    st.delete(&[ids[0]]);

    let payload = dump_stream(&st);
    let reply: RV = redis::cmd("RESTORE")
        .arg("t")
        .arg(0)
        .arg(&payload)
        .query(c)
        .unwrap();
    assert_eq!(reply, RV::Okay);
    assert_eq!(redis_full(c, "t"), expected_full(&st));
    assert_eq!(cmd(c, &["XRANGE", "t", "-", "+"]), entries(&st));
    assert_eq!(cmd(c, &["XLEN", "t"]), int(st.len()));
    for (name, g) in st.groups() {
        let name = std::str::from_utf8(name).unwrap();
        let summary = cmd(c, &["XPENDING", "t", name]);
        let ps = st.pending_summary(name.as_bytes()).unwrap();
        let expected = match ps.range {
            None => V::Arr(vec![int(0), V::Nil, V::Nil, V::Nil]),
            Some((lo, hi)) => V::Arr(vec![
                int(ps.count),
                idv(lo),
                idv(hi),
                V::Arr(
                    ps.consumers
                        .iter()
                        .map(|(n, k)| V::Arr(vec![s(n), s(k.to_string())]))
                        .collect(),
                ),
            ]),
        };
        assert_eq!(summary, expected);
        // The extended form, idle times aside (they depend on the clock).
        let V::Arr(lines) = cmd(c, &["XPENDING", "t", name, "-", "+", "1000"]) else {
            panic!()
        };
        let got: Vec<(V, V, V)> = lines
            .into_iter()
            .map(|l| match l {
                V::Arr(x) => (x[0].clone(), x[1].clone(), x[3].clone()),
                _ => panic!(),
            })
            .collect();
        let want: Vec<(V, V, V)> = g
            .pending()
            .map(|(pid, p)| (idv(pid), s(g.owner(p)), int(p.delivery_count())))
            .collect();
        assert_eq!(got, want);
    }
    // Redis keeps the listpacks as they came: its DUMP decodes to the same stream.
    let back = parse_stream_dump(&dump(c, "t"), true).unwrap();
    assert!(back.eq_obj(&st));
}

/// A whole RDB file holding streams we encoded passes redis-check-rdb.
#[test]
fn redis_check_rdb_accepts_our_streams() {
    if Command::new("redis-check-rdb")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!("note: redis-check-rdb not on PATH; check skipped");
        return;
    }
    let mut big = varied_stream(500, NodeLimits::default());
    big.delete(&[id(1000, 0), id(1100, 5)]);
    big.trim(Trim::MaxLen(450), false, 0);
    big.create_group(b"g", StreamId::MIN, Some(0)).unwrap();
    big.read_group_new(b"g", b"c", 20, false, 1_700_000_000_000)
        .unwrap();
    let mut file = Vec::new();
    crate::persistence::rdb::write_header(&mut file);
    crate::persistence::rdb::write_selectdb(&mut file, 0);
    for (key, st) in [(&b"empty"[..], Stream::new()), (b"big", big)] {
        file.push(st.rdb_type());
        write_string(&mut file, key, false);
        st.write_rdb(&mut file, true);
    }
    crate::persistence::rdb::write_eof(&mut file);
    let crc = crate::persistence::crc64::crc64(0, &file);
    file.extend_from_slice(&crc.to_le_bytes());
    let path = std::env::temp_dir().join(format!("shoal-stream-{}.rdb", std::process::id()));
    std::fs::write(&path, &file).unwrap();
    let out = Command::new("redis-check-rdb").arg(&path).output().unwrap();
    let _ = std::fs::remove_file(&path);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb: {text}"
    );
    assert!(text.contains("2 keys read"), "{text}");
}

/// A node of more than 65535 listpack elements (its header count reads
/// "unknown"), both ways.
#[test]
fn huge_nodes_both_ways() {
    let Some(mut r) = start_redis(23873) else {
        return;
    };
    let c = &mut r.conn;
    cmd(c, &["CONFIG", "SET", "stream-node-max-entries", "0"]);
    cmd(c, &["CONFIG", "SET", "stream-node-max-bytes", "0"]);
    let mut pipe = redis::pipe();
    for i in 1..=9000u64 {
        pipe.cmd("XADD")
            .arg("h")
            .arg(format!("{i}-1"))
            .arg("a")
            .arg(i)
            .arg("b")
            .arg("x");
    }
    pipe.query::<()>(c).unwrap();
    cmd(c, &["XDEL", "h", "5-1", "8000-1"]);
    let payload = dump(c, "h");
    let st = parse_stream_dump(&payload, true).unwrap();
    assert_eq!(st.block_count(), 1);
    assert_eq!(expected_full(&st), redis_full(c, "h"));
    let mut ours = Vec::new();
    write_stream(&st, &mut ours, false);
    assert_eq!(ours, restore_uncompressed(c, &payload));

    let limits = NodeLimits {
        max_bytes: 0,
        max_entries: 0,
    };
    let mut mine = Stream::new();
    for i in 1..=9000u64 {
        let v = i.to_string();
        add(&mut mine, i, 7, &[b"f", v.as_bytes(), b"g", b"y"], limits);
    }
    mine.delete(&[id(3, 7)]);
    let reply: RV = redis::cmd("RESTORE")
        .arg("m")
        .arg(0)
        .arg(dump_stream(&mine))
        .query(c)
        .unwrap();
    assert_eq!(reply, RV::Okay);
    assert_eq!(redis_full(c, "m"), expected_full(&mine));
}
