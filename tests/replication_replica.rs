//! shoal as a replica: of a scripted master (every byte of the protocol under the test's
//! control: handshake, both snapshot forms, a stream split anywhere, GETACK offsets, partial
//! resyncs, a MULTI cut by a link drop), and of redis-server 7.0 (full sync of a real dataset
//! with 1 and 4 shards, streamed writes of every kind, offsets checked against the master's,
//! master restarts, partial resyncs, READONLY, REPLICAOF NO ONE).

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

// ---- a scripted master ---------------------------------------------------------------------

/// An RDB (version 10) holding `keys` as strings: (db, key, value), sorted by db; lengths under
/// 64 bytes. The checksum is 0 (not verified, as Redis allows).
fn rdb(keys: &[(u8, &[u8], &[u8])]) -> Vec<u8> {
    let mut v = b"REDIS0010".to_vec();
    let mut db = None;
    for (d, k, val) in keys {
        if db != Some(*d) {
            v.extend_from_slice(&[0xFE, *d]);
            db = Some(*d);
        }
        assert!(k.len() < 64 && val.len() < 64);
        v.push(0); // string
        v.push(k.len() as u8);
        v.extend_from_slice(k);
        v.push(val.len() as u8);
        v.extend_from_slice(val);
    }
    v.push(0xFF);
    v.extend_from_slice(&[0; 8]);
    v
}

/// The replica's side of the link, as the master sees it.
struct Replica {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Replica {
    fn accept(l: &TcpListener) -> Replica {
        l.set_nonblocking(false).unwrap();
        let (s, _) = l.accept().expect("the replica connects");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Replica {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.r.read_line(&mut l).expect("read from the replica");
        assert!(l.ends_with("\r\n"), "line {l:?}");
        l.truncate(l.len() - 2);
        l
    }

    /// One command (a multibulk of bulk strings) from the replica.
    fn command(&mut self) -> Vec<String> {
        let head = self.line();
        let n: usize = head
            .strip_prefix('*')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("expected a multibulk, got {head:?}"));
        (0..n)
            .map(|_| {
                let len: usize = self.line()[1..].parse().unwrap();
                let mut b = vec![0u8; len + 2];
                self.r.read_exact(&mut b).unwrap();
                b.truncate(len);
                String::from_utf8(b).unwrap()
            })
            .collect()
    }

    fn send(&mut self, b: &[u8]) {
        self.w.write_all(b).expect("write to the replica");
    }

    /// Sends `b` in pieces of 1 to 7 bytes, each in its own segment.
    fn send_split(&mut self, b: &[u8]) {
        let mut i = 0;
        let mut n = 1;
        while i < b.len() {
            let end = (i + n).min(b.len());
            self.send(&b[i..end]);
            std::thread::sleep(Duration::from_micros(300));
            i = end;
            n = n % 7 + 1;
        }
    }

    /// The handshake up to PSYNC; returns PSYNC's two arguments.
    fn handshake(&mut self, replica_port: u16) -> (String, String) {
        assert_eq!(self.command(), ["PING"]);
        self.send(b"+PONG\r\n");
        assert_eq!(
            self.command(),
            ["REPLCONF", "listening-port", &replica_port.to_string()]
        );
        self.send(b"+OK\r\n");
        assert_eq!(
            self.command(),
            ["REPLCONF", "capa", "eof", "capa", "psync2"]
        );
        self.send(b"+OK\r\n");
        let p = self.command();
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(p[0], "PSYNC");
        (p[1].clone(), p[2].clone())
    }

    /// Reads ACKs until one reports `want`; every ACK before it must be a point the replica
    /// may report (`allowed`), and none may pass `want`.
    fn expect_ack(&mut self, want: u64, allowed: &[u64]) {
        loop {
            let c = self.command();
            assert_eq!(c[..2], ["REPLCONF", "ACK"], "{c:?}");
            let off: u64 = c[2].parse().unwrap();
            if off == want {
                return;
            }
            assert!(off < want, "ACK {off}, ahead of {want}");
            assert!(allowed.contains(&off), "ACK {off}: not a command boundary");
        }
    }
}

fn resp_cmd(args: &[&str]) -> Vec<u8> {
    resp(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
}

/// A stream of commands, with the offset after each (the points an ACK may report).
struct Script {
    bytes: Vec<u8>,
    base: u64,
    /// Offsets where no MULTI is open.
    boundaries: Vec<u64>,
    in_multi: bool,
}

impl Script {
    fn new(base: u64) -> Script {
        Script {
            bytes: Vec::new(),
            base,
            boundaries: vec![base],
            in_multi: false,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }

    fn push(&mut self, args: &[&str]) {
        self.bytes.extend_from_slice(&resp_cmd(args));
        match args[0] {
            "MULTI" => self.in_multi = true,
            "EXEC" | "DISCARD" => self.in_multi = false,
            _ => {}
        }
        if !self.in_multi {
            self.boundaries.push(self.offset());
        }
    }
}

fn get(c: &mut redis::Connection, db: usize, key: &str) -> Option<String> {
    select(c, db);
    redis::cmd("GET").arg(key).query(c).unwrap()
}

/// Waits until `f` holds (up to 10 s).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn scripted_master(shards: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mport = listener.local_addr().unwrap().port();
    let target = format!("127.0.0.1 {mport}");
    let s = Server::start(shards, &["--replicaof", &target, "--save", ""]);
    let mut c = s.conn();

    // A full resync with the sized form, after keep-alive newlines.
    let mut m = Replica::accept(&listener);
    assert_eq!(m.handshake(s.port), ("?".into(), "-1".into()));
    let id1 = "a".repeat(40);
    m.send(format!("+FULLRESYNC {id1} 1000\r\n\n\n").as_bytes());
    let file = rdb(&[
        (0, b"old", b"1"),
        (0, b"counter", b"10"),
        (3, b"in3", b"three"),
    ]);
    m.send(format!("${}\r\n", file.len()).as_bytes());
    // Half the payload: INFO shows the transfer, as Redis does.
    let half = file.len() / 2;
    m.send_split(&file[..half]);
    eventually("the transfer in INFO", || {
        let i = info(s.port);
        field(&i, "master_sync_read_bytes") == Some(half.to_string())
            && field(&i, "master_sync_in_progress").as_deref() == Some("1")
    });
    let i = info(s.port);
    assert_eq!(field(&i, "master_link_status").as_deref(), Some("down"));
    assert_eq!(
        field(&i, "master_sync_total_bytes"),
        Some(file.len().to_string())
    );
    assert_eq!(
        field(&i, "master_sync_left_bytes"),
        Some((file.len() - half).to_string())
    );
    assert_eq!(
        field(&i, "master_last_io_seconds_ago").as_deref(),
        Some("-1")
    );
    assert!(field(&i, "master_link_down_since_seconds").is_some());
    m.send_split(&file[half..]);
    m.expect_ack(1000, &[]);
    let i = info(s.port);
    assert_eq!(field(&i, "master_link_status").as_deref(), Some("up"));
    assert_eq!(field(&i, "master_sync_in_progress").as_deref(), Some("0"));
    assert_eq!(field(&i, "slave_repl_offset").as_deref(), Some("1000"));
    assert_eq!(field(&i, "master_sync_total_bytes"), None);
    assert_eq!(field(&i, "master_link_down_since_seconds"), None);
    assert_eq!(get(&mut c, 0, "counter").as_deref(), Some("10"));
    assert_eq!(get(&mut c, 3, "in3").as_deref(), Some("three"));

    // The stream, split anywhere; GETACK answers the offset of everything before it.
    let mut sc = Script::new(1000);
    sc.push(&["SELECT", "0"]);
    sc.push(&["INCR", "counter"]);
    sc.push(&["SET", "a", "1"]);
    sc.push(&["MSET", "k1", "v1", "k2", "v2", "k3", "v3", "k4", "v4"]);
    sc.push(&["APPEND", "a", "23"]);
    sc.push(&["PING"]);
    let getack1 = sc.offset();
    sc.push(&["REPLCONF", "GETACK", "*"]);
    sc.push(&["MULTI"]);
    sc.push(&["INCR", "counter"]);
    sc.push(&["SET", "t1", "x"]);
    sc.push(&["SET", "t2", "y"]);
    sc.push(&["EXEC"]);
    sc.push(&["SELECT", "3"]);
    sc.push(&["SET", "x", "in db 3"]);
    sc.push(&["DEL", "in3"]);
    sc.push(&["XADD", "st", "1-1", "f", "v"]);
    sc.push(&["XGROUP", "CREATE", "st", "g", "0"]);
    sc.push(&["SET", "ttl", "v", "PXAT", "4102444800000"]);
    let getack2 = sc.offset();
    sc.push(&["REPLCONF", "GETACK", "*"]);
    m.send_split(&sc.bytes);
    m.expect_ack(getack1, &sc.boundaries);
    m.expect_ack(getack2, &sc.boundaries);
    assert_eq!(get(&mut c, 0, "counter").as_deref(), Some("12"));
    assert_eq!(get(&mut c, 0, "a").as_deref(), Some("123"));
    for i in 1..=4 {
        assert_eq!(
            get(&mut c, 0, &format!("k{i}")),
            Some(format!("v{i}")),
            "k{i}"
        );
    }
    assert_eq!(get(&mut c, 0, "t2").as_deref(), Some("y"));
    assert_eq!(get(&mut c, 3, "x").as_deref(), Some("in db 3"));
    assert_eq!(get(&mut c, 3, "in3"), None);
    let ttl: i64 = redis::cmd("PEXPIRETIME").arg("ttl").query(&mut c).unwrap();
    assert_eq!(ttl, 4102444800000);
    let len: i64 = redis::cmd("XLEN").arg("st").query(&mut c).unwrap();
    assert_eq!(len, 1);

    // Clients cannot write; a write queued in MULTI aborts the transaction.
    select(&mut c, 0);
    let mut raw = s.raw();
    raw.roundtrip(
        b"SET a 2\r\n",
        b"-READONLY You can't write against a read only replica.\r\n",
    );
    raw.roundtrip(
        b"MULTI\r\nGET a\r\nINCR counter\r\nEXEC\r\n",
        b"+OK\r\n+QUEUED\r\n-READONLY You can't write against a read only replica.\r\n\
          -EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    raw.roundtrip(b"GET a\r\nDBSIZE\r\n", b"$3\r\n123\r\n:9\r\n");
    // replica-read-only no: clients may write (Redis's writable replicas).
    ok(&mut c, &[b"CONFIG", b"SET", b"replica-read-only", b"no"]);
    raw.roundtrip(b"SET local 1\r\n", b"+OK\r\n");
    ok(&mut c, &[b"CONFIG", b"SET", b"replica-read-only", b"yes"]);
    raw.roundtrip(
        b"DEL local\r\n",
        b"-READONLY You can't write against a read only replica.\r\n",
    );
    raw.roundtrip(
        b"DEL a\r\n",
        b"-READONLY You can't write against a read only replica.\r\n",
    );

    // Many commands in one packet, then the link drops in the middle of a MULTI: the replica
    // asks to continue from before the MULTI (its commands did not count), in the db it was in.
    let mut sc2 = Script::new(sc.offset());
    sc2.push(&["INCR", "n"]);
    sc2.push(&["INCR", "n"]);
    let before_multi = sc2.offset();
    sc2.push(&["MULTI"]);
    sc2.push(&["INCR", "n"]);
    let getack3 = sc2.offset();
    m.send(&sc2.bytes);
    m.send(&resp_cmd(&["REPLCONF", "GETACK", "*"]));
    // Inside the MULTI GETACK is queued, not answered: the next ACK is the periodic one,
    // which reports what was applied before the MULTI.
    m.expect_ack(before_multi, &sc2.boundaries);
    assert!(getack3 > before_multi);
    drop(m);
    let mut m = Replica::accept(&listener);
    assert_eq!(
        m.handshake(s.port),
        (id1.clone(), (before_multi + 1).to_string())
    );
    // The master was promoted meanwhile: a new ID that continues the old history.
    let id2 = "b".repeat(40);
    m.send(format!("+CONTINUE {id2}\r\n").as_bytes());
    m.expect_ack(before_multi, &[]);
    let mut sc3 = Script::new(before_multi);
    sc3.push(&["MULTI"]);
    sc3.push(&["INCR", "n"]);
    sc3.push(&["SET", "y", "still db 3"]);
    sc3.push(&["EXEC"]);
    let getack4 = sc3.offset();
    sc3.push(&["REPLCONF", "GETACK", "*"]);
    m.send_split(&sc3.bytes);
    m.expect_ack(getack4, &sc3.boundaries);
    assert_eq!(get(&mut c, 3, "n").as_deref(), Some("3"));
    assert_eq!(get(&mut c, 3, "y").as_deref(), Some("still db 3"));

    // CLIENT KILL of the master client: a partial resync is asked for, with the new ID.
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    let master_id = list
        .lines()
        .find(|l| l.contains(&format!("addr=127.0.0.1:{mport} ")))
        .and_then(|l| l.split(' ').next())
        .and_then(|f| f.strip_prefix("id="))
        .unwrap_or_else(|| panic!("no master client in {list}"))
        .to_string();
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&master_id)
        .query(&mut c)
        .unwrap();
    assert_eq!(killed, 1);
    let mut m = Replica::accept(&listener);
    assert_eq!(
        m.handshake(s.port),
        (id2.clone(), (sc3.offset() + 1).to_string())
    );

    // This time a full resync, diskless form: the dataset is replaced.
    let id3 = "c".repeat(40);
    m.send(format!("+FULLRESYNC {id3} 5000\r\n").as_bytes());
    let file = rdb(&[(0, b"fresh", b"yes"), (7, b"seven", b"7")]);
    let mark = "0123456789abcdefghij0123456789ABCDEFGHIJ";
    let mut payload = format!("$EOF:{mark}\r\n").into_bytes();
    payload.extend_from_slice(&file);
    payload.extend_from_slice(mark.as_bytes());
    m.send_split(&payload);
    m.expect_ack(5000, &[]);
    eventually("the new dataset", || {
        get(&mut c, 0, "fresh").as_deref() == Some("yes")
    });
    assert_eq!(get(&mut c, 7, "seven").as_deref(), Some("7"));
    assert_eq!(get(&mut c, 0, "counter"), None);
    assert_eq!(get(&mut c, 3, "n"), None);
    let mut sc4 = Script::new(5000);
    sc4.push(&["SELECT", "7"]);
    sc4.push(&["INCR", "seven"]);
    let getack5 = sc4.offset();
    sc4.push(&["REPLCONF", "GETACK", "*"]);
    m.send(&sc4.bytes);
    m.expect_ack(getack5, &sc4.boundaries);
    assert_eq!(get(&mut c, 7, "seven").as_deref(), Some("8"));

    // The snapshot became the replica's own file.
    assert!(s.dir.join("dump.rdb").exists());

    // A master again, then a replica again: it offers its own history (a promoted replica of
    // its own would continue it).
    let r: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "OK");
    drop(m);
    let i = info(s.port);
    let replid = field(&i, "master_replid").unwrap();
    let offset: u64 = field(&i, "master_repl_offset").unwrap().parse().unwrap();
    assert_eq!(
        offset,
        getack5 + resp_cmd(&["REPLCONF", "GETACK", "*"]).len() as u64
    );
    let r: String = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(mport)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "OK");
    let mut m = Replica::accept(&listener);
    assert_eq!(m.handshake(s.port), (replid, (offset + 1).to_string()));
    m.send(b"+CONTINUE\r\n");
    m.expect_ack(offset, &[]);
    assert_eq!(get(&mut c, 7, "seven").as_deref(), Some("8"));
}

#[test]
fn scripted_master_one_shard() {
    scripted_master(1);
}

#[test]
fn scripted_master_four_shards() {
    scripted_master(4);
}

// ---- redis-server as the master --------------------------------------------------------------

fn info(port: u16) -> String {
    redis_cli(port, &["INFO", "everything"]).unwrap_or_default()
}

fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .map(|v| v.trim().to_string())
}

/// The master's view of the replica listening on `port`: (state, offset).
fn replica_state(master: u16, port: u16) -> Option<(String, u64)> {
    let i = info(master);
    let want = format!("port={port}");
    i.lines()
        .filter(|l| l.starts_with("slave"))
        .filter_map(|l| l.split_once(':').map(|x| x.1.trim()))
        .find(|s| s.split(',').any(|kv| kv == want))
        .and_then(|s| {
            let get = |k: &str| {
                s.split(',')
                    .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
                    .map(String::from)
            };
            Some((get("state")?, get("offset")?.parse().ok()?))
        })
}

fn master_offset(master: u16) -> u64 {
    field(&info(master), "master_repl_offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Waits until the replica on `port` has acknowledged everything the master sent (ACKs come
/// every second, GETACKs at once): our offsets are exact or this never happens (the tests'
/// masters send a PING every second meanwhile, so the target moves).
fn caught_up(master: u16, port: u16) {
    eventually("the replica's ACK to match master_repl_offset", || {
        let before = master_offset(master);
        replica_state(master, port).is_some_and(|(state, off)| state == "online" && off == before)
            && master_offset(master) == before
    });
}

/// A value as the comparison sees it.
#[derive(Debug, PartialEq)]
enum Val {
    Str(Vec<u8>),
    Stream(redis::Value, redis::Value),
}

/// Every key of every database, with its value, PTTL, and for streams their groups.
fn snapshot(port: u16) -> BTreeMap<(usize, Vec<u8>), (Val, i64)> {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    let mut all = BTreeMap::new();
    for db in 0..16 {
        select(&mut c, db);
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
            let v = match t.as_str() {
                "string" => Val::Str(redis::cmd("GET").arg(&k).query(&mut c).unwrap()),
                "stream" => Val::Stream(
                    cmd(&mut c, &[b"XRANGE", &k, b"-", b"+"]).unwrap(),
                    cmd(&mut c, &[b"XINFO", b"GROUPS", &k]).unwrap(),
                ),
                other => panic!("key of type {other}"),
            };
            all.insert((db, k), (v, ttl));
        }
    }
    all
}

/// Compares every key; stream groups too unless `groups` is false. (A Redis replica's
/// entries-read may differ from its master's: XREADGROUP reaches replicas as XCLAIM, which
/// does not move it. Groups are compared with a redis-server replica of the same master.)
fn assert_same(master: u16, replica: u16, groups: bool) {
    let strip = |m: BTreeMap<(usize, Vec<u8>), (Val, i64)>| -> BTreeMap<_, _> {
        m.into_iter()
            .map(|(k, (v, t))| match v {
                Val::Stream(r, _) if !groups => (k, (Val::Stream(r, redis::Value::Nil), t)),
                v => (k, (v, t)),
            })
            .collect()
    };
    let a = strip(snapshot(master));
    let b = strip(snapshot(replica));
    assert_eq!(a.len(), b.len(), "key counts differ");
    for (k, (v, ttl)) in &a {
        let show = format!(
            "port {master} vs {replica}: db {} key {:?}",
            k.0,
            String::from_utf8_lossy(&k.1)
        );
        let Some((v2, ttl2)) = b.get(k) else {
            panic!("{show}: missing on the replica");
        };
        if v != v2 {
            panic!("{show} differs:\n  {v:?}\n  {v2:?}");
        }
        // Both sides are read within a second or two of each other.
        if *ttl < 0 || *ttl2 < 0 {
            assert_eq!(ttl, ttl2, "TTL of {show}");
        } else {
            assert!((ttl - ttl2).abs() < 3000, "PTTL of {show}: {ttl} vs {ttl2}");
        }
    }
}

/// Streams with groups and pending entries, in a few databases.
fn fill_streams(c: &mut redis::Connection) {
    for db in [0, 2, 9] {
        select(c, db);
        for i in 1..=30 {
            let id = format!("{}-{i}", 1000 + db);
            let _: String = redis::cmd("XADD")
                .arg("events")
                .arg(&id)
                .arg("n")
                .arg(i)
                .arg("db")
                .arg(db)
                .query(c)
                .unwrap();
        }
        ok(c, &[b"XGROUP", b"CREATE", b"events", b"readers", b"0"]);
        let _: redis::Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg("readers")
            .arg("alice")
            .arg("COUNT")
            .arg(5)
            .arg("STREAMS")
            .arg("events")
            .arg(">")
            .query(c)
            .unwrap();
        let _: i64 = redis::cmd("XDEL")
            .arg("events")
            .arg(format!("{}-7", 1000 + db))
            .query(c)
            .unwrap();
    }
    select(c, 0);
}

/// Writes of every kind, across shards and databases.
fn stream_writes(c: &mut redis::Connection, round: usize) {
    let r = round.to_string();
    // Keys of string_zoo's k:0:N, ten per round.
    let k = |n: usize| format!("k:0:{}", round * 10 + n);
    select(c, 0);
    for i in 0..50 {
        ok(
            c,
            &[
                b"SET",
                format!("w:{r}:{i}").as_bytes(),
                format!("v{i}").as_bytes(),
            ],
        );
    }
    ok(c, &[b"SET", b"ex", b"v", b"EX", b"500"]);
    let _: i64 = redis::cmd("INCR").arg("int:0:1").query(c).unwrap();
    let _: i64 = redis::cmd("INCRBY").arg("ctr").arg(41).query(c).unwrap();
    let _: f64 = redis::cmd("INCRBYFLOAT")
        .arg("flt")
        .arg("1.5")
        .query(c)
        .unwrap();
    let _: i64 = redis::cmd("APPEND")
        .arg("short:0")
        .arg(" world")
        .query(c)
        .unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(k(1))
        .arg(k(2))
        .arg(k(3))
        .query(c)
        .unwrap();
    let _: i64 = redis::cmd("EXPIRE").arg(k(4)).arg(900).query(c).unwrap();
    let _: i64 = redis::cmd("PERSIST").arg("ttl:px:0").query(c).unwrap();
    let _: i64 = redis::cmd("SETRANGE")
        .arg("len44:0")
        .arg(3)
        .arg("XYZ")
        .query(c)
        .unwrap();
    let _: Option<String> = redis::cmd("GETDEL").arg(k(5)).query(c).unwrap();
    let _: Option<String> = redis::cmd("GETEX")
        .arg(k(6))
        .arg("PX")
        .arg(800_000)
        .query(c)
        .unwrap();
    ok(
        c,
        &[
            b"RENAME",
            k(7).as_bytes(),
            format!("renamed:{{x}}{r}").as_bytes(),
        ],
    );
    // Keys on several shards at once.
    ok(
        c,
        &[
            b"MSET", b"m:a", b"1", b"m:b", b"2", b"m:c", b"3", b"m:d", b"4", b"m:e", b"5",
        ],
    );
    let _: i64 = redis::cmd("MSETNX")
        .arg("nx:a")
        .arg(1)
        .arg("nx:b")
        .arg(2)
        .query(c)
        .unwrap();
    // A transaction across shards.
    let mut p = redis::pipe();
    p.atomic()
        .cmd("INCR")
        .arg("tx:a")
        .cmd("SET")
        .arg("tx:b")
        .arg(&r)
        .cmd("APPEND")
        .arg("tx:c")
        .arg("x")
        .cmd("DEL")
        .arg(k(8))
        .cmd("EXPIRE")
        .arg("tx:b")
        .arg(3000);
    let _: redis::Value = p.query(c).unwrap();
    // Streams.
    let _: String = redis::cmd("XADD")
        .arg("events")
        .arg("*")
        .arg("r")
        .arg(&r)
        .query(c)
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg("newstream")
        .arg("MAXLEN")
        .arg(3)
        .arg("*")
        .arg("r")
        .arg(&r)
        .query(c)
        .unwrap();
    let _: redis::Value = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("readers")
        .arg("bob")
        .arg("COUNT")
        .arg(3)
        .arg("STREAMS")
        .arg("events")
        .arg(">")
        .query(c)
        .unwrap();
    let _: i64 = redis::cmd("XACK")
        .arg("events")
        .arg("readers")
        .arg("1000-1")
        .query(c)
        .unwrap();
    let group = format!("g{r}");
    ok(
        c,
        &[b"XGROUP", b"CREATE", b"events", group.as_bytes(), b"$"],
    );
    // Other databases; a FLUSHDB; a SELECT back.
    select(c, 4);
    for i in 0..20 {
        ok(c, &[b"SET", format!("db4:{i}").as_bytes(), r.as_bytes()]);
    }
    select(c, 6);
    ok(c, &[b"FLUSHDB"]);
    ok(c, &[b"SET", b"after-flush", r.as_bytes()]);
    select(c, 2);
    let _: i64 = redis::cmd("XTRIM")
        .arg("events")
        .arg("MAXLEN")
        .arg(20)
        .query(c)
        .unwrap();
    select(c, 0);
}

fn redis_master_sync(shards: usize, diskless: bool) {
    let Some(master) = RedisServer::start(&[
        "--repl-diskless-sync",
        if diskless { "yes" } else { "no" },
        "--repl-diskless-sync-delay",
        "0",
        "--repl-ping-replica-period",
        "1",
    ]) else {
        eprintln!("note: redis-server not installed; skipping the redis-server master test");
        return;
    };
    let mut mc = master.conn();
    fill_zoo(&mut mc, 600_000);
    fill_streams(&mut mc);
    let target = format!("127.0.0.1 {}", master.port);
    let s = Server::start(shards, &["--replicaof", &target, "--save", ""]);
    // A redis-server replica next to it: the reference for what a replica holds.
    let mport = master.port.to_string();
    let reference = RedisServer::start(&["--replicaof", "127.0.0.1", &mport])
        .expect("redis-server is installed");
    caught_up(master.port, s.port);
    caught_up(master.port, reference.port);
    assert_same(master.port, s.port, true);

    for round in 0..3 {
        stream_writes(&mut mc, round);
    }
    // A key the master expires itself (propagated as DEL).
    ok(&mut mc, &[b"SET", b"brief", b"v", b"PX", b"50"]);
    std::thread::sleep(Duration::from_millis(300));
    let _: Option<String> = redis::cmd("GET").arg("brief").query(&mut mc).unwrap();
    let acked: i64 = redis::cmd("WAIT").arg(2).arg(5000).query(&mut mc).unwrap();
    assert_eq!(acked, 2);
    caught_up(master.port, s.port);
    caught_up(master.port, reference.port);
    assert_same(master.port, s.port, false);
    assert_same(reference.port, s.port, true);
}

#[test]
fn redis_master_one_shard_disk() {
    redis_master_sync(1, false);
}

#[test]
fn redis_master_four_shards_diskless() {
    redis_master_sync(4, true);
}

/// Spawns redis-server on a fixed port (a restart must keep it), loading dir/dump.rdb.
fn spawn_redis(port: u16, dir: &std::path::Path) -> std::process::Child {
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--dir", dir.to_str().unwrap()])
        .args(["--repl-diskless-sync-delay", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    eventually("redis-server to start", || {
        redis_cli(port, &["PING"]).is_some_and(|r| r.trim() == "PONG")
    });
    child
}

#[test]
fn redis_master_restart_and_link_drops() {
    if RedisServer::start(&[]).is_none() {
        eprintln!("note: redis-server not installed; skipping the master restart test");
        return;
    }
    let dir = TestDir::new("repl-restart");
    let port = free_port();
    let mut master = spawn_redis(port, dir.path());
    let mut mc = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    for i in 0..100 {
        ok(&mut mc, &[b"SET", format!("a{i}").as_bytes(), b"1"]);
    }
    let target = format!("127.0.0.1 {port}");
    let s = Server::start(4, &["--replicaof", &target, "--save", ""]);
    caught_up(port, s.port);
    let stat = |name: &str| field(&info(port), name).unwrap_or_default();
    assert_eq!(stat("sync_full"), "1");

    // The master drops the link: the replica continues where it was (partial resync).
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("replica")
        .query(&mut mc)
        .unwrap();
    for i in 0..50 {
        ok(&mut mc, &[b"SET", format!("b{i}").as_bytes(), b"2"]);
    }
    caught_up(port, s.port);
    assert_eq!(stat("sync_partial_ok"), "1");
    assert_eq!(stat("sync_full"), "1");
    assert_same(port, s.port, true);

    // The replica drops it (CLIENT KILL of its master client): partial again.
    let mut c = s.conn();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    let id = list
        .lines()
        .find(|l| l.contains(&format!("addr=127.0.0.1:{port} ")))
        .and_then(|l| l.split(' ').next()?.strip_prefix("id=").map(String::from))
        .expect("the master client in CLIENT LIST");
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query(&mut c)
        .unwrap();
    let _: i64 = redis::cmd("INCR").arg("counter").query(&mut mc).unwrap();
    caught_up(port, s.port);
    assert_eq!(stat("sync_partial_ok"), "2");
    assert_eq!(get(&mut c, 0, "counter").as_deref(), Some("1"));

    // The master shuts down saving, and restarts from its file: Redis keeps its history in
    // the file, so the replica continues (with the master's new ID).
    drop(mc);
    let _ = redis_cli(port, &["SHUTDOWN", "SAVE"]);
    let _ = master.wait();
    master = spawn_redis(port, dir.path());
    caught_up(port, s.port);
    assert_eq!(stat("sync_partial_ok"), "1");
    assert_eq!(stat("sync_full"), "0");
    assert_same(port, s.port, true);

    // The master crashes after writes its file lacks, and restarts from the file: the replica
    // is ahead of it, so a full resync, which drops those writes.
    let mut mc = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    ok(&mut mc, &[b"SAVE"]);
    ok(&mut mc, &[b"SET", b"lost", b"in the crash"]);
    caught_up(port, s.port);
    assert_eq!(get(&mut c, 0, "lost").as_deref(), Some("in the crash"));
    let _ = master.kill();
    let _ = master.wait();
    drop(mc);
    master = spawn_redis(port, dir.path());
    let mut mc = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap();
    ok(&mut mc, &[b"SET", b"after-restart", b"yes"]);
    caught_up(port, s.port);
    assert_eq!(stat("sync_full"), "1");
    assert_same(port, s.port, true);
    assert_eq!(get(&mut c, 0, "lost"), None);
    assert_eq!(get(&mut c, 0, "after-restart").as_deref(), Some("yes"));
    let _ = master.kill();
    let _ = master.wait();
}

#[test]
fn readonly_info_and_replicaof() {
    let Some(master) = RedisServer::start(&[
        "--repl-diskless-sync-delay",
        "0",
        "--repl-ping-replica-period",
        "1",
    ]) else {
        eprintln!("note: redis-server not installed; skipping the REPLICAOF test");
        return;
    };
    let mut mc = master.conn();
    ok(&mut mc, &[b"SET", b"x", b"1"]);
    let s = Server::start(2, &["--save", ""]);
    let mut c = s.conn();
    ok(&mut c, &[b"SET", b"mine", b"gone after the full sync"]);
    // A transaction with a write, queued while still a master.
    let mut tx = s.raw();
    tx.roundtrip(b"MULTI\r\nSET q 1\r\n", b"+OK\r\n+QUEUED\r\n");
    let r: String = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(master.port)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "OK");
    caught_up(master.port, s.port);
    assert_eq!(get(&mut c, 0, "mine"), None);
    assert_eq!(get(&mut c, 0, "x").as_deref(), Some("1"));
    tx.roundtrip(
        b"EXEC\r\n",
        b"-EXECABORT Transaction discarded because of: READONLY You can't write against a read only replica.\r\n",
    );

    let mut raw = s.raw();
    raw.roundtrip(
        b"SET y 1\r\n",
        b"-READONLY You can't write against a read only replica.\r\n",
    );
    let i = info(s.port);
    let repl: Vec<&str> = i
        .split("# Replication\r\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .take(12)
        .collect();
    let names: Vec<&str> = repl.iter().map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "role",
            "master_host",
            "master_port",
            "master_link_status",
            "master_last_io_seconds_ago",
            "master_sync_in_progress",
            "slave_read_repl_offset",
            "slave_repl_offset",
            "slave_priority",
            "slave_read_only",
            "replica_announced",
            "connected_slaves",
        ],
        "{i}"
    );
    assert_eq!(field(&i, "role").as_deref(), Some("slave"));
    assert_eq!(field(&i, "master_host").as_deref(), Some("127.0.0.1"));
    assert_eq!(field(&i, "master_port"), Some(master.port.to_string()));
    assert_eq!(field(&i, "master_link_status").as_deref(), Some("up"));
    assert_eq!(field(&i, "master_sync_in_progress").as_deref(), Some("0"));
    assert_eq!(field(&i, "slave_read_only").as_deref(), Some("1"));
    ok(&mut mc, &[b"SET", b"x", b"2"]);
    caught_up(master.port, s.port);
    // INFO's offsets agree with the master's once caught up (PINGs move both meanwhile).
    eventually(
        "slave_repl_offset to equal the master's master_repl_offset",
        || {
            let i = info(s.port);
            let theirs = master_offset(master.port).to_string();
            field(&i, "slave_repl_offset") == Some(theirs.clone())
                && field(&i, "slave_read_repl_offset") == Some(theirs)
        },
    );

    // To another master, a redis-server replica of the first: it shares the history, so the
    // switch is a partial resync and the data stays.
    let mport = master.port.to_string();
    let sibling = RedisServer::start(&["--replicaof", "127.0.0.1", &mport])
        .expect("redis-server is installed");
    caught_up(master.port, sibling.port);
    let r: String = redis::cmd("REPLICAOF")
        .arg("127.0.0.1")
        .arg(sibling.port)
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "OK");
    ok(&mut mc, &[b"SET", b"x", b"3"]);
    caught_up(master.port, sibling.port);
    caught_up(sibling.port, s.port);
    assert_eq!(
        field(&info(sibling.port), "sync_partial_ok").as_deref(),
        Some("1")
    );
    assert_eq!(
        field(&info(sibling.port), "sync_full").as_deref(),
        Some("0")
    );
    assert_eq!(get(&mut c, 0, "x").as_deref(), Some("3"));
    assert_eq!(
        field(&info(s.port), "master_port"),
        Some(sibling.port.to_string())
    );

    // NO ONE: a master again, keeping the data, accepting writes, no longer following.
    let r: String = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query(&mut c)
        .unwrap();
    assert_eq!(r, "OK");
    assert_eq!(field(&info(s.port), "role").as_deref(), Some("master"));
    ok(&mut c, &[b"SET", b"y", b"1"]);
    assert_eq!(get(&mut c, 0, "x").as_deref(), Some("3"));
    ok(&mut mc, &[b"SET", b"x", b"4"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(&mut c, 0, "x").as_deref(), Some("3"));
}

#[test]
fn redis_master_with_password() {
    let Some(master) = RedisServer::start(&[]) else {
        eprintln!("note: redis-server not installed; skipping the masterauth test");
        return;
    };
    // Set after the start: the harness waits for +PONG, which a password would prevent.
    ok(
        &mut master.conn(),
        &[b"CONFIG", b"SET", b"requirepass", b"sekret"],
    );
    let target = format!("127.0.0.1 {}", master.port);
    let s = Server::start(2, &["--replicaof", &target, "--masterauth", "sekret"]);
    let no_auth = Server::start(1, &["--replicaof", &target]);
    let mut mc = redis::Client::open(format!("redis://:sekret@127.0.0.1:{}/", master.port))
        .unwrap()
        .get_connection()
        .unwrap();
    ok(&mut mc, &[b"SET", b"k", b"v"]);
    let mut c = s.conn();
    eventually("the write to reach the replica", || {
        get(&mut c, 0, "k").as_deref() == Some("v")
    });
    // Without masterauth the master refuses PSYNC: the link stays down, retried.
    std::thread::sleep(Duration::from_millis(300));
    let i = info(no_auth.port);
    assert_eq!(field(&i, "master_link_status").as_deref(), Some("down"));
    assert_eq!(get(&mut no_auth.conn(), 0, "k"), None);
}

// ---- shoal as the master ---------------------------------------------------------------------

/// The id of the master client in CLIENT LIST of the server on `port` (the link to `master`).
fn master_client_id(c: &mut redis::Connection, master: u16) -> String {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(c).unwrap();
    list.lines()
        .find(|l| l.contains(&format!("addr=127.0.0.1:{master} ")))
        .and_then(|l| l.split(' ').next()?.strip_prefix("id=").map(String::from))
        .unwrap_or_else(|| panic!("no master client in {list}"))
}

/// Writes until `stop`: INCRs of counters on every shard, cross-shard MSETs and transactions,
/// pipelined; a counter applied twice or lost anywhere down the chain shows at the end.
fn load(port: u16, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u64 {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut rounds = 0u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let mut buf = Vec::new();
        let mut replies = 0;
        for i in 0..32 {
            buf.extend_from_slice(&resp_cmd(&["INCR", &format!("ctr:{}", i % 16)]));
            replies += 1;
        }
        let v = rounds.to_string();
        buf.extend_from_slice(&resp_cmd(&["MSET", "ma", &v, "mb", &v, "mc", &v, "md", &v]));
        buf.extend_from_slice(&resp_cmd(&["MULTI"]));
        buf.extend_from_slice(&resp_cmd(&["INCR", "tx:x"]));
        buf.extend_from_slice(&resp_cmd(&["INCR", "tx:y"]));
        buf.extend_from_slice(&resp_cmd(&["EXEC"]));
        replies += 5;
        w.write_all(&buf).unwrap();
        // Every reply is one line, except EXEC's array (two more lines).
        for _ in 0..replies + 2 {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            assert!(!l.starts_with('-'), "{l}");
        }
        rounds += 1;
    }
    rounds
}

/// shoal master -> shoal replica -> shoal and redis-server sub-replicas, writes going on while
/// the sub-replicas full-sync and while links drop: every dataset equal at the end.
#[test]
fn shoal_master_chain_under_load() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let m = Server::start(3, &["--save", ""]);
    let mut mc = m.conn();
    for i in 0..300 {
        ok(&mut mc, &[b"SET", format!("k{i}").as_bytes(), b"v"]);
    }
    let r1 = Server::start(
        2,
        &[
            "--replicaof",
            &format!("127.0.0.1 {}", m.port),
            "--save",
            "",
        ],
    );
    caught_up(m.port, r1.port);

    let stop = Arc::new(AtomicBool::new(false));
    let loader = {
        let stop = stop.clone();
        let port = m.port;
        std::thread::spawn(move || load(port, stop))
    };
    std::thread::sleep(Duration::from_millis(200));
    let r2 = Server::start(
        4,
        &[
            "--replicaof",
            &format!("127.0.0.1 {}", r1.port),
            "--save",
            "",
        ],
    );
    let r1_port = r1.port.to_string();
    eprintln!("master {} r1 {} r2 {}", m.port, r1.port, r2.port);
    let sub = RedisServer::start(&["--replicaof", "127.0.0.1", &r1_port]);
    std::thread::sleep(Duration::from_millis(500));
    // The middle link drops under load: partial resync, and the chain goes on.
    let mut c1 = r1.conn();
    let id = master_client_id(&mut c1, m.port);
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query(&mut c1)
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let rounds = loader.join().unwrap();
    assert!(rounds > 10, "only {rounds} rounds of writes");

    caught_up(m.port, r1.port);
    caught_up(r1.port, r2.port);
    let total: i64 = (0..16)
        .map(|i| {
            redis::cmd("GET")
                .arg(format!("ctr:{i}"))
                .query::<i64>(&mut mc)
                .unwrap()
        })
        .sum();
    assert_eq!(total as u64, rounds * 32);
    assert_same(m.port, r1.port, true);
    assert_same(m.port, r2.port, true);
    if let Some(sub) = sub {
        caught_up(r1.port, sub.port);
        assert_same(m.port, sub.port, true);
    }
    assert_eq!(
        field(&info(m.port), "sync_partial_ok").as_deref(),
        Some("1")
    );
}
