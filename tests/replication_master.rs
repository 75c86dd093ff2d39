//! shoal as a master: a raw-socket replica (every byte of the stream checked against what
//! redis-server 7.0.15 sends for the same commands, offsets, GETACK, the RDB forms) and
//! redis-server 7.0 as its replica (full sync of a dataset of every type on 1 and 4 shards,
//! streamed writes of every kind, link drops and partial resyncs, WAIT, five replicas at once,
//! expiry as DEL, MULTI/EXEC).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

// ---- helpers --------------------------------------------------------------------------------

fn info(c: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(c).expect("info")
}

fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .map(|v| v.trim().to_string())
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn conn(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .expect("client")
        .get_connection()
        .expect("connect")
}

fn run(c: &mut redis::Connection, line: &str) -> redis::Value {
    let args: Vec<&[u8]> = line.split(' ').map(|a| a.as_bytes()).collect();
    cmd(c, &args).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Waits until `replica` (redis-server) streams from `master` and applied all it produced.
fn caught_up(master_port: u16, replica_port: u16) {
    let mut m = conn(master_port);
    let mut r = conn(replica_port);
    wait_for("the replica to catch up", Duration::from_secs(20), || {
        let mi = info(&mut m, "replication");
        let ri = info(&mut r, "replication");
        let moff: u64 = field(&mi, "master_repl_offset").unwrap().parse().unwrap();
        field(&ri, "master_link_status").as_deref() == Some("up")
            && field(&ri, "master_sync_in_progress").as_deref() == Some("0")
            && field(&ri, "slave_repl_offset")
                .and_then(|o| o.parse::<u64>().ok())
                .is_some_and(|o| o >= moff && moff > 0)
    });
}

fn redis_replica(master: u16, extra: &[&str]) -> Option<RedisServer> {
    let port = master.to_string();
    let mut args = vec!["--replicaof", "127.0.0.1", &port];
    args.extend_from_slice(extra);
    RedisServer::start(&args)
}

/// A replies' text form, without what differs between two servers holding the same data
/// (idle times, memory layout).
fn show(v: &redis::Value) -> String {
    use redis::Value::*;
    match v {
        Nil => "nil".into(),
        Int(i) => i.to_string(),
        BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        SimpleString(s) => s.clone(),
        Okay => "OK".into(),
        Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

/// A field list (XINFO) as pairs, without the named fields.
fn pairs_without(v: &redis::Value, drop: &[&str]) -> String {
    let redis::Value::Array(a) = v else {
        return show(v);
    };
    let mut out = Vec::new();
    for p in a.chunks(2) {
        let name = show(&p[0]);
        if drop.iter().any(|d| name.trim_matches('"') == *d) {
            continue;
        }
        out.push(format!("{name}={}", p.get(1).map(show).unwrap_or_default()));
    }
    out.join(" ")
}

/// Every key of every database: its type and contents, and its TTL in seconds (-1, -2 as PTTL).
type Keyspace = BTreeMap<(usize, Vec<u8>), (String, i64)>;

fn keyspace(port: u16) -> Keyspace {
    let mut c = conn(port);
    let mut all = Keyspace::new();
    for db in 0..16usize {
        select(&mut c, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).expect("keys");
        for k in keys {
            let q = |c: &mut redis::Connection, args: &[&[u8]]| {
                cmd(c, args).unwrap_or_else(|e| panic!("{:?}: {e}", show_args(args)))
            };
            let t = show(&q(&mut c, &[b"TYPE", &k]));
            if t == "none" {
                // Expired between KEYS and TYPE.
                continue;
            }
            let pttl = match q(&mut c, &[b"PTTL", &k]) {
                redis::Value::Int(t) => t,
                other => panic!("PTTL {other:?}"),
            };
            let ttl = if pttl < 0 { pttl } else { (pttl + 500) / 1000 };
            let body = match t.as_str() {
                "string" => show(&q(&mut c, &[b"GET", &k])),
                "stream" => stream_state(&mut c, &k),
                other => panic!("type {other}"),
            };
            all.insert((db, k), (format!("{t} {body}"), ttl));
        }
    }
    all
}

/// A stream's entries, metadata, groups, pending entries and consumers, less what two servers
/// holding the same stream may show differently (node layout, idle times).
fn stream_state(c: &mut redis::Connection, k: &[u8]) -> String {
    let mut q =
        |args: &[&[u8]]| cmd(c, args).unwrap_or_else(|e| panic!("{:?}: {e}", show_args(args)));
    let mut s = format!(
        "{} {}",
        show(&q(&[b"XRANGE", k, b"-", b"+"])),
        pairs_without(
            &q(&[b"XINFO", b"STREAM", k]),
            &["radix-tree-keys", "radix-tree-nodes"]
        )
    );
    let groups = q(&[b"XINFO", b"GROUPS", k]);
    let redis::Value::Array(gs) = groups else {
        return s;
    };
    for g in gs {
        s.push_str(&format!(" group[{}]", pairs_without(&g, &[])));
        let redis::Value::Array(f) = g else { continue };
        let name = match &f[1] {
            redis::Value::BulkString(n) => n.clone(),
            other => panic!("group name {other:?}"),
        };
        // [id, consumer, idle, deliveries]: the idle time differs between servers.
        if let redis::Value::Array(es) = q(&[b"XPENDING", k, &name, b"-", b"+", b"1000"]) {
            for e in es {
                if let redis::Value::Array(e) = e {
                    s.push_str(&format!(
                        " pel[{} {} {}]",
                        show(&e[0]),
                        show(&e[1]),
                        show(&e[3])
                    ));
                }
            }
        }
        if let redis::Value::Array(cs) = q(&[b"XINFO", b"CONSUMERS", k, &name]) {
            for cons in cs {
                s.push_str(&format!(
                    " consumer[{}]",
                    pairs_without(&cons, &["idle", "inactive"])
                ));
            }
        }
    }
    s
}

fn assert_same_keyspace(master: u16, replica: u16) {
    let a = keyspace(master);
    let b = keyspace(replica);
    let name = |k: &(usize, Vec<u8>)| format!("db {} {:?}", k.0, String::from_utf8_lossy(&k.1));
    for (k, (v, ttl)) in &a {
        let Some((w, ttl2)) = b.get(k) else {
            panic!("the replica lacks {}", name(k));
        };
        assert_eq!(v, w, "{}", name(k));
        // Read a moment apart, TTLs may round to neighbouring seconds.
        assert!(
            (ttl - ttl2).abs() <= 1,
            "TTL of {}: {ttl} vs {ttl2}",
            name(k)
        );
    }
    for k in b.keys() {
        assert!(a.contains_key(k), "the replica has {} too many", name(k));
    }
    assert!(!a.is_empty());
}

/// A dataset of every type shoal has, in four databases: strings of every encoding (with and
/// without TTLs) and streams with consumer groups, pending entries, deletions.
fn fill(c: &mut redis::Connection) {
    for db in 0..4 {
        select(c, db);
        for (k, v) in string_zoo(db) {
            ok(c, &[b"SET", &k, &v]);
        }
        for i in 0..20 {
            run(c, &format!("SET ttl:{db}:{i} v{i} EX {}", 1000 + i));
            run(
                c,
                &format!("SET pttl:{db}:{i} v{i} PXAT {}", now_ms() + 3_600_000),
            );
        }
        for i in 0..6 {
            let key = format!("stream:{db}:{i}");
            for n in 1..=(40 * (i + 1)) {
                run(
                    c,
                    &format!("XADD {key} {n}-{i} field{} value{n} other {db}", n % 3),
                );
            }
            if i == 0 {
                continue;
            }
            run(c, &format!("XGROUP CREATE {key} g1 0"));
            run(
                c,
                &format!("XREADGROUP GROUP g1 alice COUNT 15 STREAMS {key} >"),
            );
            run(
                c,
                &format!("XREADGROUP GROUP g1 bob COUNT 5 STREAMS {key} >"),
            );
            run(c, &format!("XACK {key} g1 1-{i} 2-{i} 3-{i}"));
            run(c, &format!("XDEL {key} 10-{i} 11-{i}"));
            run(c, &format!("XGROUP CREATE {key} g2 $"));
            run(c, &format!("XGROUP CREATECONSUMER {key} g2 carol"));
            if i == 5 {
                run(c, &format!("XSETID {key} 999999-0"));
                run(c, &format!("XTRIM {key} MAXLEN 0"));
            }
        }
    }
    select(c, 0);
}

/// Writes of every kind, on keys spread over every shard, in several databases; some keys
/// expire on the master while the replica watches.
fn writes(c: &mut redis::Connection, round: usize) {
    let r = round;
    for i in 0..16 {
        let k = format!("w{r}:{i}");
        for line in [
            format!("SET {k}:a v{i}"),
            format!("SET {k}:b v{i} EX 500"),
            format!("SET {k}:c v{i} PX 400000 NX"),
            format!("SET {k}:a v{i}x XX GET KEEPTTL"),
            format!("SETEX {k}:d 300 x"),
            format!("PSETEX {k}:e 300000 y"),
            format!("SETNX {k}:f 1"),
            format!("GETSET {k}:f 2"),
            format!("APPEND {k}:g abc"),
            format!("SETRANGE {k}:g 6 def"),
            format!("INCR {k}:n"),
            format!("INCRBY {k}:n 41"),
            format!("DECR {k}:n"),
            format!("INCRBYFLOAT {k}:fl 1.25"),
            format!("SET {k}:fl2 10 EX 500"),
            format!("INCRBYFLOAT {k}:fl2 0.5"),
            format!("SETBIT {k}:bits {} 1", i * 3),
            format!("BITFIELD {k}:bf SET u8 0 {i} INCRBY u4 8 3"),
            format!("GETEX {k}:a EX 900"),
            format!("GETEX {k}:d PERSIST"),
            format!("GETDEL {k}:e"),
            format!("EXPIRE {k}:f 800"),
            format!("PEXPIRE {k}:g 700000"),
            format!("EXPIREAT {k}:n {}", now_ms() / 1000 + 600),
            format!("PERSIST {k}:f"),
            format!("SET {k}:gone 1"),
            format!("EXPIRE {k}:gone -1"),
            format!("SET {k}:short 1 PX 150"),
            format!("DEL {k}:f nosuch"),
            format!("UNLINK {k}:fl"),
            format!("RENAME {k}:g {k}:g2"),
            format!("RENAMENX {k}:bits {k}:bits2"),
            format!("COPY {k}:a {k}:copy"),
            format!("MOVE {k}:copy 2"),
            format!("MSET {k}:m1 1 {k}:m2 2 w{r}:x{i} 3"),
            format!("MSETNX {k}:m3 3 {k}:m4 4"),
            format!("BITOP OR {k}:or {k}:bits2 {k}:bf"),
            format!("XADD {k}:s * f v{i}"),
            format!("XADD {k}:s MAXLEN ~ 5 * f w"),
            format!("XADD {k}:s 99999999999999-{i} f x"),
            format!("XGROUP CREATE {k}:s g 0"),
            format!("XREADGROUP GROUP g c1 COUNT 2 STREAMS {k}:s >"),
            format!("XREADGROUP GROUP g c2 NOACK COUNT 1 STREAMS {k}:s >"),
            format!("XCLAIM {k}:s g c3 0 99999999999999-{i} FORCE JUSTID"),
            format!("XAUTOCLAIM {k}:s g c4 0 0-0 COUNT 1"),
            format!("XACK {k}:s g 99999999999999-{i}"),
            format!("XGROUP SETID {k}:s g 0"),
            format!("XGROUP CREATECONSUMER {k}:s g c9"),
            format!("XGROUP DELCONSUMER {k}:s g c1"),
            format!("XTRIM {k}:s MAXLEN = 3"),
            format!("XDEL {k}:s 99999999999999-{i}"),
        ] {
            run(c, &line);
        }
        // In another database, and a transaction on one shard, then on several.
        run(c, "SELECT 3");
        run(c, &format!("SET {k}:db3 3 EX 1000"));
        run(c, "MULTI");
        run(c, &format!("SET {{t{r}{i}}}:a 1"));
        run(c, &format!("INCR {{t{r}{i}}}:b"));
        run(c, "EXEC");
        run(c, "MULTI");
        run(c, &format!("SET {k}:t1 1"));
        run(c, &format!("SET {k}:t2 2 PX 600000"));
        run(c, &format!("DEL {k}:db3"));
        run(c, "SELECT 4");
        run(c, &format!("SET {k}:t3 3"));
        run(c, "EXEC");
        run(c, "SELECT 0");
    }
    // A DUMP restored under another name, whole databases flushed and swapped.
    let payload: Vec<u8> = redis::cmd("DUMP")
        .arg(format!("w{r}:0:a"))
        .query(c)
        .expect("dump");
    redis::cmd("RESTORE")
        .arg(format!("w{r}:restored"))
        .arg(0)
        .arg(payload)
        .query::<()>(c)
        .expect("restore");
    run(c, "SELECT 7");
    run(c, "SET doomed 1");
    run(c, "FLUSHDB");
    run(c, "SWAPDB 5 6");
    run(c, "SELECT 5");
    run(c, &format!("SET swapped{r} 1"));
    run(c, "SELECT 0");
    // The short-lived keys are gone (deleted by the master's active expiry) before anyone
    // compares.
    std::thread::sleep(Duration::from_millis(350));
}

fn full_sync_and_stream(shards: usize) {
    let master = Server::start(shards, &["--save", ""]);
    let mut c = master.conn();
    fill(&mut c);
    let Some(replica) = redis_replica(master.port, &[]) else {
        return;
    };
    caught_up(master.port, replica.port);
    assert_same_keyspace(master.port, replica.port);
    writes(&mut c, 0);
    caught_up(master.port, replica.port);
    assert_same_keyspace(master.port, replica.port);
    let mut r = replica.conn();
    let n: i64 = redis::cmd("DBSIZE").query(&mut r).unwrap();
    let m: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, m, "expired keys were deleted on the replica too");
    let mi = info(&mut c, "everything");
    assert_eq!(field(&mi, "sync_full").as_deref(), Some("1"));
    assert_eq!(field(&mi, "connected_slaves").as_deref(), Some("1"));
    let slave0 = field(&mi, "slave0").unwrap();
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            replica.port
        )),
        "{slave0}"
    );
}

#[test]
fn full_sync_and_streamed_writes_one_shard() {
    full_sync_and_stream(1);
}

#[test]
fn full_sync_and_streamed_writes_four_shards() {
    full_sync_and_stream(4);
}

/// The link drops (CLIENT KILL TYPE replica), writes go on, the replica continues from the
/// backlog; then the replica is shut down (saving its position) and restarted, and continues
/// again. Both are partial resyncs on the master, and the replica says so in its log.
#[test]
fn link_drop_then_partial_resync() {
    let master = Server::start(4, &["--save", ""]);
    let mut c = master.conn();
    fill(&mut c);
    let dir = TestDir::new("repl-master-partial");
    let log = dir.file("replica.log");
    let mport = master.port.to_string();
    let args = [
        "--replicaof",
        "127.0.0.1",
        &mport,
        "--logfile",
        log.to_str().unwrap(),
    ];
    let Some(replica) = RedisServer::start_in(dir.path(), "dump.rdb", &args) else {
        return;
    };
    caught_up(master.port, replica.port);
    writes(&mut c, 0);
    caught_up(master.port, replica.port);

    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("replica")
        .query(&mut c)
        .unwrap();
    assert_eq!(killed, 1);
    writes(&mut c, 1);
    caught_up(master.port, replica.port);
    let mi = info(&mut c, "stats");
    assert_eq!(field(&mi, "sync_full").as_deref(), Some("1"));
    assert_eq!(field(&mi, "sync_partial_ok").as_deref(), Some("1"));
    assert_eq!(field(&mi, "sync_partial_err").as_deref(), Some("0"));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("Successful partial resynchronization with master"),
        "{text}"
    );
    assert_same_keyspace(master.port, replica.port);

    // Shut down with a save (the file records the replication ID and offset), write more,
    // restart: it asks to continue, and does.
    let mut r = replica.conn();
    let _ = redis::cmd("SHUTDOWN").arg("SAVE").query::<()>(&mut r);
    drop(replica);
    writes(&mut c, 2);
    let Some(replica) = RedisServer::start_in(dir.path(), "dump.rdb", &args) else {
        return;
    };
    caught_up(master.port, replica.port);
    let mi = info(&mut c, "stats");
    assert_eq!(field(&mi, "sync_full").as_deref(), Some("1"));
    assert_eq!(field(&mi, "sync_partial_ok").as_deref(), Some("2"));
    assert_same_keyspace(master.port, replica.port);
}

/// Five redis-server replicas at once: all sync, all follow, WAIT counts them, INFO and ROLE
/// list them.
#[test]
fn five_replicas_at_once() {
    let master = Server::start(4, &["--save", ""]);
    let mut c = master.conn();
    for (k, v) in string_zoo(0) {
        ok(&mut c, &[b"SET", &k, &v]);
    }
    run(&mut c, "XADD st 1-1 a b");
    let mut replicas = Vec::new();
    for _ in 0..5 {
        let Some(r) = redis_replica(master.port, &[]) else {
            return;
        };
        replicas.push(r);
    }
    for r in &replicas {
        caught_up(master.port, r.port);
    }
    writes(&mut c, 0);
    let t = Instant::now();
    let n: i64 = redis::cmd("WAIT").arg(5).arg(5000).query(&mut c).unwrap();
    assert_eq!(n, 5);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    for r in &replicas {
        caught_up(master.port, r.port);
        assert_same_keyspace(master.port, r.port);
    }
    let mi = info(&mut c, "replication");
    assert_eq!(field(&mi, "connected_slaves").as_deref(), Some("5"));
    let mut ports: Vec<String> = (0..5)
        .map(|i| {
            let line = field(&mi, &format!("slave{i}")).unwrap();
            assert!(line.contains(",state=online,"), "{line}");
            line.split(',').nth(1).unwrap().to_string()
        })
        .collect();
    ports.sort();
    let mut want: Vec<String> = replicas
        .iter()
        .map(|r| format!("port={}", r.port))
        .collect();
    want.sort();
    assert_eq!(ports, want);
    let role = redis_cli(master.port, &["ROLE"]).unwrap();
    let lines: Vec<&str> = role.lines().collect();
    assert_eq!(lines[0], "master");
    assert_eq!(lines.len(), 2 + 5 * 3, "{role}");
    // WAIT for more replicas than there are: the count, at the timeout.
    run(&mut c, "SET one-more 1");
    let t = Instant::now();
    let n: i64 = redis::cmd("WAIT").arg(6).arg(200).query(&mut c).unwrap();
    let took = t.elapsed();
    assert_eq!(n, 5);
    assert!(
        took >= Duration::from_millis(195) && took < Duration::from_millis(400),
        "{took:?}"
    );
}

// ---- a replica speaking the protocol byte by byte -------------------------------------------

struct FakeReplica {
    s: TcpStream,
    buf: Vec<u8>,
    replid: String,
    /// The offset of the snapshot (FULLRESYNC).
    start: u64,
    /// Stream bytes received since.
    received: u64,
    rdb: Vec<u8>,
}

impl FakeReplica {
    /// Handshake as a Redis 7 replica (`eof`: the diskless form), full resync.
    fn connect(port: u16, eof: bool) -> FakeReplica {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_nodelay(true).unwrap();
        let mut f = FakeReplica {
            s,
            buf: Vec::new(),
            replid: String::new(),
            start: 0,
            received: 0,
            rdb: Vec::new(),
        };
        f.send(&resp(&[b"REPLCONF", b"listening-port", b"4242"]));
        assert_eq!(f.line(), "+OK");
        let capa: &[&[u8]] = if eof {
            &[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]
        } else {
            &[b"REPLCONF", b"capa", b"psync2"]
        };
        f.send(&resp(capa));
        assert_eq!(f.line(), "+OK");
        f.send(&resp(&[b"PSYNC", b"?", b"-1"]));
        let l = f.line();
        let parts: Vec<&str> = l.split(' ').collect();
        assert_eq!(parts[0], "+FULLRESYNC", "{l}");
        assert_eq!(parts[1].len(), 40);
        f.replid = parts[1].to_string();
        f.start = parts[2].parse().unwrap();
        let head = f.line();
        if let Some(mark) = head.strip_prefix("$EOF:") {
            assert!(eof, "EOF form without capa eof");
            assert_eq!(mark.len(), 40);
            while !f.buf.ends_with(mark.as_bytes()) {
                f.fill(Duration::from_secs(5));
            }
            let n = f.buf.len() - 40;
            f.rdb = f.buf[..n].to_vec();
            f.buf.clear();
            // The stream starts once we say we loaded the snapshot.
            f.ack(f.start);
        } else {
            assert!(!eof);
            let n: usize = head.strip_prefix('$').unwrap().parse().unwrap();
            while f.buf.len() < n {
                f.fill(Duration::from_secs(5));
            }
            f.rdb = f.buf.drain(..n).collect();
        }
        assert!(
            f.rdb.starts_with(b"REDIS0010"),
            "{:?}",
            &f.rdb[..16.min(f.rdb.len())]
        );
        f
    }

    fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).expect("write");
    }

    fn ack(&mut self, offset: u64) {
        self.send(&resp(&[b"REPLCONF", b"ACK", offset.to_string().as_bytes()]));
    }

    /// Reads what arrives within `wait` (at least one read attempt).
    fn fill(&mut self, wait: Duration) -> usize {
        self.s.set_read_timeout(Some(wait)).unwrap();
        let mut b = [0u8; 65536];
        match self.s.read(&mut b) {
            Ok(0) => panic!(
                "the master closed the link; read so far: {:?}",
                lossy(&self.buf)
            ),
            Ok(n) => {
                self.buf.extend_from_slice(&b[..n]);
                n
            }
            Err(_) => 0,
        }
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let l: Vec<u8> = self.buf.drain(..i + 2).collect();
                return String::from_utf8_lossy(&l[..i]).into_owned();
            }
            assert!(
                self.fill(Duration::from_secs(5)) > 0,
                "no line from the master"
            );
        }
    }

    /// Stream bytes: whatever came, waiting up to `wait` for the first.
    fn stream(&mut self, wait: Duration) -> Vec<u8> {
        if self.buf.is_empty() {
            self.fill(wait);
        }
        while self.fill(Duration::from_millis(5)) > 0 {}
        let v = std::mem::take(&mut self.buf);
        self.received += v.len() as u64;
        v
    }

    /// Stream bytes until their normalized form has `n` bytes (or 2 s passed).
    fn stream_norm(&mut self, n: usize) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut got = Vec::new();
        loop {
            let want = norm(&got).len() < n;
            if !want || Instant::now() > deadline {
                return norm(&got);
            }
            got.extend(self.stream(Duration::from_millis(50)));
        }
    }
}

/// A stream with wall-clock parts replaced: 13-digit numbers (ms times, IDs made of them)
/// become `T`, periodic PINGs go.
fn norm(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"*1\r\n$4\r\nping\r\n") {
            i += 14;
            continue;
        }
        let run = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run == 13 {
            out.push(b'T');
        } else {
            out.extend_from_slice(&b[i..i + run.max(1)]);
        }
        i += run.max(1);
    }
    out
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The commands of RECORDED, run against `port` with a raw replica attached: what reaches the
/// replica after each, normalized.
fn streams_of(port: u16, eof: bool) -> (Vec<Vec<u8>>, FakeReplica) {
    let mut f = FakeReplica::connect(port, eof);
    let mut c = conn(port);
    // redis-server's snapshot child must be gone first: FLUSHALL would kill it, and the link.
    wait_for("the replica online", Duration::from_secs(10), || {
        field(&info(&mut c, "replication"), "slave0").is_some_and(|l| l.contains("state=online"))
            && field(&info(&mut c, "persistence"), "rdb_bgsave_in_progress").as_deref() == Some("0")
    });
    // redis-server starts the stream on an ACK that comes once the replica is online.
    f.ack(f.start);
    run(&mut c, "FLUSHALL");
    let mut flush = Vec::new();
    while !flush.ends_with(b"*1\r\n$8\r\nFLUSHALL\r\n") {
        flush.extend(f.stream(Duration::from_millis(100)));
        assert!(flush.len() < 100, "{:?}", lossy(&flush));
    }
    let mut out = Vec::new();
    for (line, want) in RECORDED {
        // Some fail on purpose (and propagate nothing).
        let args: Vec<&[u8]> = line.split(' ').map(|a| a.as_bytes()).collect();
        let _ = cmd(&mut c, &args);
        out.push(f.stream_norm(want.len()));
    }
    std::thread::sleep(Duration::from_millis(100));
    let rest = norm(&f.stream(Duration::from_millis(50)));
    assert!(rest.is_empty(), "more than expected: {:?}", lossy(&rest));
    (out, f)
}

/// What reaches a replica, byte for byte, is what redis-server 7.0.15 sends for the same
/// commands (recorded below, and compared live when redis-server is installed): rewrites of
/// relative expiries, DEL for expired or GETDEL'd keys, SELECT where the database changes,
/// MULTI/EXEC around transactions (on one shard and across four), XCLAIM/XGROUP SETID for group
/// reads, exact trims. The master's offset counts exactly the bytes sent.
#[test]
fn stream_bytes_match_redis() {
    if let Some(r) = RedisServer::start(&["--repl-diskless-sync-delay", "0"]) {
        let (live, _) = streams_of(r.port, true);
        for ((line, want), got) in RECORDED.iter().zip(&live) {
            assert_eq!(lossy(got), lossy(want), "redis-server for {line}");
        }
    }
    for (shards, eof) in [(1, true), (4, false)] {
        let master = Server::start(shards, &["--save", ""]);
        let (got, mut f) = streams_of(master.port, eof);
        for ((line, want), got) in RECORDED.iter().zip(&got) {
            assert_eq!(lossy(got), lossy(want), "{line} ({shards} shards)");
        }
        let mut c = master.conn();
        let mi = info(&mut c, "replication");
        let offset: u64 = field(&mi, "master_repl_offset").unwrap().parse().unwrap();
        f.stream(Duration::from_millis(50));
        assert_eq!(
            offset,
            f.start + f.received,
            "offsets agree with the bytes sent"
        );
        assert_eq!(field(&mi, "master_replid").unwrap(), f.replid);
        let first: u64 = field(&mi, "repl_backlog_first_byte_offset")
            .unwrap()
            .parse()
            .unwrap();
        let hist: u64 = field(&mi, "repl_backlog_histlen").unwrap().parse().unwrap();
        assert_eq!(first + hist, offset + 1);
    }
}

/// WAIT: nothing to wait for; a replica that acknowledges when asked (REPLCONF GETACK, after
/// the client's writes, including those that ran on other shards); one that does not (the
/// timeout); 0 replicas connected.
#[test]
fn wait_and_getack() {
    // No periodic PING gets between an acknowledgement and the next WAIT.
    let master = Server::start(4, &["--save", "", "--repl-ping-replica-period", "60"]);
    let mut c = master.conn();
    let n: i64 = redis::cmd("WAIT").arg(0).arg(0).query(&mut c).unwrap();
    assert_eq!(n, 0);
    let t = Instant::now();
    let n: i64 = redis::cmd("WAIT").arg(1).arg(150).query(&mut c).unwrap();
    assert_eq!(n, 0);
    assert!(
        t.elapsed() >= Duration::from_millis(145),
        "{:?}",
        t.elapsed()
    );

    let mut f = FakeReplica::connect(master.port, true);
    let mut raw = master.raw();
    // Writes on every shard and WAIT, in one pipeline.
    let mut req = Vec::new();
    for i in 0..8 {
        req.extend(resp(&[b"SET", format!("key{i}").as_bytes(), b"v"]));
    }
    req.extend(resp(&[b"WAIT", b"1", b"5000"]));
    let t = Instant::now();
    raw.send(&req);
    let getack = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    let mut seen = Vec::new();
    while !seen.ends_with(getack) {
        seen.extend(f.stream(Duration::from_millis(100)));
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "no GETACK: {:?}",
            lossy(&seen)
        );
    }
    for i in 0..8 {
        let set = resp(&[b"SET", format!("key{i}").as_bytes(), b"v"]);
        assert!(
            seen.windows(set.len()).any(|w| w == set.as_slice()),
            "key{i} reached the replica before GETACK"
        );
    }
    // The offset after the GETACK, as a replica counts it.
    f.ack(f.start + f.received);
    let mut want = b"+OK\r\n".repeat(8);
    want.extend_from_slice(b":1\r\n");
    let got = raw.read_exact(want.len());
    assert_eq!(lossy(&got), lossy(&want));
    assert!(
        t.elapsed() < Duration::from_millis(1000),
        "{:?}",
        t.elapsed()
    );
    // Nothing new written: no new GETACK, the count at once.
    let n: i64 = redis::cmd("WAIT").arg(1).arg(0).query(&mut c).unwrap();
    assert_eq!(n, 1);
    let n: i64 = redis::cmd("WAIT").arg(0).arg(0).query(&mut c).unwrap();
    assert_eq!(n, 1);
    // A write the replica does not acknowledge: WAIT gives up at its timeout.
    run(&mut c, "SET late 1");
    let t = Instant::now();
    let n: i64 = redis::cmd("WAIT").arg(1).arg(100).query(&mut c).unwrap();
    let took = t.elapsed();
    assert_eq!(n, 0);
    assert!(
        took >= Duration::from_millis(95) && took < Duration::from_millis(300),
        "{took:?}"
    );
    let s = f.stream(Duration::from_millis(200));
    assert!(lossy(&s).contains("late"), "{:?}", lossy(&s));
    // INFO shows what it acknowledged.
    let mi = info(&mut c, "replication");
    let slave0 = field(&mi, "slave0").unwrap();
    assert!(
        slave0.starts_with("ip=127.0.0.1,port=4242,state=online,offset="),
        "{slave0}"
    );
    // WAIT on a replica is refused.
    let replica = Server::start(
        1,
        &[
            "--save",
            "",
            "--replicaof",
            "127.0.0.1",
            &master.port.to_string(),
        ],
    );
    let mut rc = replica.conn();
    let e = redis::cmd("WAIT")
        .arg(1)
        .arg(10)
        .query::<i64>(&mut rc)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("WAIT cannot be used with replica instances"),
        "{e}"
    );
}

/// Keys that expire on the master reach the replica as DEL (the master's active expiry).
#[test]
fn expiry_reaches_replicas_as_del() {
    let master = Server::start(2, &["--save", ""]);
    let mut f = FakeReplica::connect(master.port, true);
    let mut c = master.conn();
    run(&mut c, "SET e1 1 PX 100");
    run(&mut c, "SELECT 2");
    run(&mut c, "SET e2 2 PX 100");
    let mut seen = Vec::new();
    let t = Instant::now();
    let del1 = resp(&[b"DEL", b"e1"]);
    let del2 = resp(&[b"DEL", b"e2"]);
    while !(seen.windows(del1.len()).any(|w| w == del1.as_slice())
        && seen.windows(del2.len()).any(|w| w == del2.as_slice()))
    {
        seen.extend(f.stream(Duration::from_millis(100)));
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", lossy(&seen));
    }
    let text = lossy(&norm(&seen));
    assert!(text.starts_with("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$3\r\nSET\r\n$2\r\ne1\r\n$1\r\n1\r\n$4\r\nPXAT\r\n$13\r\nT\r\n"), "{text}");
    // The DEL of e2 is in database 2.
    let at = text.find("*2\r\n$3\r\nDEL\r\n$2\r\ne2").unwrap();
    let before = &text[..at];
    assert!(
        before.rfind("SELECT\r\n$1\r\n2") > before.rfind("SELECT\r\n$1\r\n0"),
        "{text}"
    );
}

/// A blocked XREADGROUP served by a later XADD (outside the command's own run) reaches the
/// replica as redis-server sends it: the XADD, then an XCLAIM for the delivered entry; a NOACK
/// reader served later: its consumer created and the group's ID set, in MULTI/EXEC. And WAIT in
/// a transaction does not wait.
#[test]
fn served_blocked_group_reads_and_wait_in_multi() {
    let master = Server::start(4, &["--save", ""]);
    let mut f = FakeReplica::connect(master.port, true);
    let mut c = master.conn();
    run(&mut c, "FLUSHALL");
    run(&mut c, "XADD bs 1-1 a 1");
    run(&mut c, "XGROUP CREATE bs g $");
    let mut seen = Vec::new();
    while !lossy(&seen).contains("CREATE") {
        seen.extend(f.stream(Duration::from_millis(100)));
    }
    let mut alice = master.raw();
    alice.send(&resp(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"alice",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"bs",
        b">",
    ]));
    // Blocked in this order (FIFO serving): wait until each one is registered.
    let blocked = |c: &mut redis::Connection, n: &str| {
        wait_for("a blocked reader", Duration::from_secs(5), || {
            info_field(c, "blocked_clients") == n
        })
    };
    blocked(&mut c, "1");
    let mut bob = master.raw();
    bob.send(&resp(&[
        b"XREADGROUP",
        b"GROUP",
        b"g",
        b"bob",
        b"NOACK",
        b"BLOCK",
        b"0",
        b"STREAMS",
        b"bs",
        b">",
    ]));
    blocked(&mut c, "2");
    run(&mut c, "XADD bs 2-1 b 2");
    let want_reply =
        b"*1\r\n*2\r\n$2\r\nbs\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n";
    assert_eq!(
        lossy(&alice.read_exact(want_reply.len())),
        lossy(want_reply)
    );
    let want = b"*5\r\n$4\r\nXADD\r\n$2\r\nbs\r\n$3\r\n2-1\r\n$1\r\nb\r\n$1\r\n2\r\n*14\r\n$6\r\nXCLAIM\r\n$2\r\nbs\r\n$1\r\ng\r\n$5\r\nalice\r\n$1\r\n0\r\n$3\r\n2-1\r\n$4\r\nTIME\r\n$13\r\nT\r\n$10\r\nRETRYCOUNT\r\n$1\r\n1\r\n$5\r\nFORCE\r\n$6\r\nJUSTID\r\n$6\r\nLASTID\r\n$3\r\n2-1\r\n";
    assert_eq!(lossy(&f.stream_norm(want.len())), lossy(want));
    run(&mut c, "XADD bs 3-1 b 2");
    let want_reply =
        b"*1\r\n*2\r\n$2\r\nbs\r\n*1\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n";
    assert_eq!(lossy(&bob.read_exact(want_reply.len())), lossy(want_reply));
    let want = b"*5\r\n$4\r\nXADD\r\n$2\r\nbs\r\n$3\r\n3-1\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$5\r\nMULTI\r\n*5\r\n$6\r\nXGROUP\r\n$14\r\nCREATECONSUMER\r\n$2\r\nbs\r\n$1\r\ng\r\n$3\r\nbob\r\n*7\r\n$6\r\nXGROUP\r\n$5\r\nSETID\r\n$2\r\nbs\r\n$1\r\ng\r\n$3\r\n3-1\r\n$11\r\nENTRIESREAD\r\n$1\r\n3\r\n*1\r\n$4\r\nEXEC\r\n";
    assert_eq!(lossy(&f.stream_norm(want.len())), lossy(want));

    // Acknowledged up to here: WAIT in a transaction counts the replica at once (the
    // transaction's own writes are not in the stream before EXEC ends).
    f.stream(Duration::from_millis(50));
    let acked = f.start + f.received;
    f.ack(acked);
    wait_for("the ACK", Duration::from_secs(5), || {
        field(&info(&mut c, "replication"), "slave0")
            .is_some_and(|l| l.contains(&format!(",offset={acked},")))
    });
    let mut raw = master.raw();
    raw.send(b"MULTI\r\nWAIT 0 1000\r\nSET a 1\r\nWAIT 1 5000\r\nEXEC\r\n");
    let want = b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:1\r\n+OK\r\n:1\r\n";
    let t = Instant::now();
    assert_eq!(lossy(&raw.read_exact(want.len())), lossy(want));
    assert!(t.elapsed() < Duration::from_secs(1));
}

/// Redis 7.0.15's stream for each command (recorded from a redis-server master with a raw
/// replica; 13-digit times normalized to T), run in this order after FLUSHALL.
#[rustfmt::skip]
const RECORDED: &[(&str, &[u8])] = &[
    ("SET a 1", b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("SET a 1 EX 100", b"*5\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n$4\r\nPXAT\r\n$13\r\nT\r\n"),
    ("SET a 2 NX EX 100", b""),
    ("SET a 2 XX GET EX 100", b"*5\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n2\r\n$4\r\nPXAT\r\n$13\r\nT\r\n"),
    ("SET a 2 KEEPTTL", b"*4\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n2\r\n$7\r\nKEEPTTL\r\n"),
    ("SET a 3 GET", b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n3\r\n"),
    ("SET b 1 PXAT 99999999999999", b"*5\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n1\r\n$4\r\nPXAT\r\n$14\r\n99999999999999\r\n"),
    ("SETEX c 100 v", b"*5\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$13\r\nT\r\n"),
    ("PSETEX c 100000 v", b"*5\r\n$3\r\nSET\r\n$1\r\nc\r\n$1\r\nv\r\n$4\r\nPXAT\r\n$13\r\nT\r\n"),
    ("EXPIRE c 100", b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nc\r\n$13\r\nT\r\n"),
    ("EXPIRE c 100 NX", b""),
    ("PEXPIRE c 1000000 GT", b"*4\r\n$9\r\nPEXPIREAT\r\n$1\r\nc\r\n$13\r\nT\r\n$2\r\nGT\r\n"),
    ("EXPIREAT c 99999999999", b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nc\r\n$14\r\n99999999999000\r\n"),
    ("PEXPIREAT c 99999999999999", b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nc\r\n$14\r\n99999999999999\r\n"),
    ("PERSIST c", b"*2\r\n$7\r\nPERSIST\r\n$1\r\nc\r\n"),
    ("PERSIST c", b""),
    ("EXPIRE nosuch 10", b""),
    ("EXPIRE c -1", b"*2\r\n$3\r\nDEL\r\n$1\r\nc\r\n"),
    ("SET a 4", b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n4\r\n"),
    ("GETEX a EX 100", b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\na\r\n$13\r\nT\r\n"),
    ("GETEX a PERSIST", b"*2\r\n$7\r\nPERSIST\r\n$1\r\na\r\n"),
    ("GETEX a", b""),
    ("GETEX a EXAT 1", b"*2\r\n$3\r\nDEL\r\n$1\r\na\r\n"),
    ("GETDEL b", b"*2\r\n$3\r\nDEL\r\n$1\r\nb\r\n"),
    ("GETDEL b", b""),
    ("GETSET g 1", b"*3\r\n$3\r\nSET\r\n$1\r\ng\r\n$1\r\n1\r\n"),
    ("INCRBYFLOAT f 1.5", b"*4\r\n$3\r\nSET\r\n$1\r\nf\r\n$3\r\n1.5\r\n$7\r\nKEEPTTL\r\n"),
    ("INCR i", b"*2\r\n$4\r\nINCR\r\n$1\r\ni\r\n"),
    ("DECRBY i 3", b"*3\r\n$6\r\nDECRBY\r\n$1\r\ni\r\n$1\r\n3\r\n"),
    ("APPEND s x", b"*3\r\n$6\r\nAPPEND\r\n$1\r\ns\r\n$1\r\nx\r\n"),
    ("SETRANGE s 5 yz", b"*4\r\n$8\r\nSETRANGE\r\n$1\r\ns\r\n$1\r\n5\r\n$2\r\nyz\r\n"),
    ("SETBIT bits 9 1", b"*4\r\n$6\r\nSETBIT\r\n$4\r\nbits\r\n$1\r\n9\r\n$1\r\n1\r\n"),
    ("BITFIELD bf SET u8 0 200", b"*6\r\n$8\r\nBITFIELD\r\n$2\r\nbf\r\n$3\r\nSET\r\n$2\r\nu8\r\n$1\r\n0\r\n$3\r\n200\r\n"),
    ("BITFIELD bf GET u8 0", b""),
    ("BITOP OR dst bits bf", b"*5\r\n$5\r\nBITOP\r\n$2\r\nOR\r\n$3\r\ndst\r\n$4\r\nbits\r\n$2\r\nbf\r\n"),
    ("DEL a nosuch", b""),
    ("DEL nosuch", b""),
    ("MSET m1 1 m2 2 m3 3", b"*7\r\n$4\r\nMSET\r\n$2\r\nm1\r\n$1\r\n1\r\n$2\r\nm2\r\n$1\r\n2\r\n$2\r\nm3\r\n$1\r\n3\r\n"),
    ("MSETNX m1 1 m4 4", b""),
    ("MSETNX m5 5 m6 6", b"*5\r\n$6\r\nMSETNX\r\n$2\r\nm5\r\n$1\r\n5\r\n$2\r\nm6\r\n$1\r\n6\r\n"),
    ("RENAME m1 r1", b"*3\r\n$6\r\nRENAME\r\n$2\r\nm1\r\n$2\r\nr1\r\n"),
    ("RENAMENX r1 m2", b""),
    ("COPY r1 r2", b"*3\r\n$4\r\nCOPY\r\n$2\r\nr1\r\n$2\r\nr2\r\n"),
    ("MOVE r2 5", b"*3\r\n$4\r\nMOVE\r\n$2\r\nr2\r\n$1\r\n5\r\n"),
    ("UNLINK m5 m6", b"*3\r\n$6\r\nUNLINK\r\n$2\r\nm5\r\n$2\r\nm6\r\n"),
    ("SELECT 3", b""),
    ("SET x 1", b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n1\r\n"),
    ("SELECT 0", b""),
    ("MULTI", b""),
    ("SET t1 1", b""),
    ("INCR t2", b""),
    ("GET t1", b""),
    ("EXEC", b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\nt1\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$2\r\nt2\r\n*1\r\n$4\r\nEXEC\r\n"),
    ("MULTI", b""),
    ("GET t1", b""),
    ("EXEC", b""),
    ("MULTI", b""),
    ("SET t1 2", b""),
    ("EXEC", b"*3\r\n$3\r\nSET\r\n$2\r\nt1\r\n$1\r\n2\r\n"),
    ("XADD st 1-1 f v", b"*5\r\n$4\r\nXADD\r\n$2\r\nst\r\n$3\r\n1-1\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XADD st 1-* f v", b"*5\r\n$4\r\nXADD\r\n$2\r\nst\r\n$3\r\n1-2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XADD st MAXLEN ~ 10 * f v", b"*8\r\n$4\r\nXADD\r\n$2\r\nst\r\n$6\r\nMAXLEN\r\n$1\r\n=\r\n$1\r\n3\r\n$15\r\nT-0\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XADD st MAXLEN = 10 2-0 f v", b""),
    ("XGROUP CREATE st g 0", b"*5\r\n$6\r\nXGROUP\r\n$6\r\nCREATE\r\n$2\r\nst\r\n$1\r\ng\r\n$1\r\n0\r\n"),
    ("XGROUP CREATE st g2 $", b"*5\r\n$6\r\nXGROUP\r\n$6\r\nCREATE\r\n$2\r\nst\r\n$2\r\ng2\r\n$1\r\n$\r\n"),
    ("XREADGROUP GROUP g c1 COUNT 1 STREAMS st >", b"*14\r\n$6\r\nXCLAIM\r\n$2\r\nst\r\n$1\r\ng\r\n$2\r\nc1\r\n$1\r\n0\r\n$3\r\n1-1\r\n$4\r\nTIME\r\n$13\r\nT\r\n$10\r\nRETRYCOUNT\r\n$1\r\n1\r\n$5\r\nFORCE\r\n$6\r\nJUSTID\r\n$6\r\nLASTID\r\n$3\r\n1-1\r\n"),
    ("XREADGROUP GROUP g c2 NOACK COUNT 1 STREAMS st >", b"*1\r\n$5\r\nMULTI\r\n*5\r\n$6\r\nXGROUP\r\n$14\r\nCREATECONSUMER\r\n$2\r\nst\r\n$1\r\ng\r\n$2\r\nc2\r\n*7\r\n$6\r\nXGROUP\r\n$5\r\nSETID\r\n$2\r\nst\r\n$1\r\ng\r\n$3\r\n1-2\r\n$11\r\nENTRIESREAD\r\n$1\r\n2\r\n*1\r\n$4\r\nEXEC\r\n"),
    ("XREADGROUP GROUP g c1 STREAMS st 0", b""),
    ("XCLAIM st g c3 0 1-1 JUSTID", b"*14\r\n$6\r\nXCLAIM\r\n$2\r\nst\r\n$1\r\ng\r\n$2\r\nc3\r\n$1\r\n0\r\n$3\r\n1-1\r\n$4\r\nTIME\r\n$13\r\nT\r\n$10\r\nRETRYCOUNT\r\n$1\r\n2\r\n$5\r\nFORCE\r\n$6\r\nJUSTID\r\n$6\r\nLASTID\r\n$3\r\n1-2\r\n"),
    ("XACK st g 1-1", b"*4\r\n$4\r\nXACK\r\n$2\r\nst\r\n$1\r\ng\r\n$3\r\n1-1\r\n"),
    ("XGROUP CREATECONSUMER st g c9", b"*5\r\n$6\r\nXGROUP\r\n$14\r\nCREATECONSUMER\r\n$2\r\nst\r\n$1\r\ng\r\n$2\r\nc9\r\n"),
    ("XGROUP DELCONSUMER st g c9", b"*5\r\n$6\r\nXGROUP\r\n$11\r\nDELCONSUMER\r\n$2\r\nst\r\n$1\r\ng\r\n$2\r\nc9\r\n"),
    ("XGROUP SETID st g 0", b"*5\r\n$6\r\nXGROUP\r\n$5\r\nSETID\r\n$2\r\nst\r\n$1\r\ng\r\n$1\r\n0\r\n"),
    ("XDEL st 1-1", b"*3\r\n$4\r\nXDEL\r\n$2\r\nst\r\n$3\r\n1-1\r\n"),
    ("XTRIM st MAXLEN 1", b"*4\r\n$5\r\nXTRIM\r\n$2\r\nst\r\n$6\r\nMAXLEN\r\n$1\r\n1\r\n"),
    ("XSETID st 99999999999999-0", b"*3\r\n$6\r\nXSETID\r\n$2\r\nst\r\n$16\r\n99999999999999-0\r\n"),
    ("XGROUP DESTROY st g2", b"*4\r\n$6\r\nXGROUP\r\n$7\r\nDESTROY\r\n$2\r\nst\r\n$2\r\ng2\r\n"),
    ("FLUSHDB", b"*1\r\n$7\r\nFLUSHDB\r\n"),
    ("SET z 1", b"*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$1\r\n1\r\n"),
    ("SWAPDB 0 1", b"*3\r\n$6\r\nSWAPDB\r\n$1\r\n0\r\n$1\r\n1\r\n"),
    ("FLUSHALL", b"*1\r\n$8\r\nFLUSHALL\r\n"),
];
