//! RDB files across implementations: files redis-server 7.0 writes load into shoal with the same
//! keys, values and TTLs (strings and streams; files with types shoal cannot hold are refused by
//! name), and files shoal writes load into redis-server with the same data and pass
//! redis-check-rdb.
//!
//! Needs redis-server on PATH; without it each test prints a note and returns.

mod common;
use common::{
    assert_same_dataset, dataset, fill_zoo, have_redis_server, info_field, ok, read_reply, resp,
    show_args, start_expecting_failure, RedisServer, Server, TestDir,
};

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether redis-check-rdb accepts `file`, with its output; None when it is not installed.
fn check_rdb(file: &std::path::Path) -> Option<(bool, String)> {
    let out = Command::new("redis-check-rdb").arg(file).output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success() && text.contains("RDB looks OK!"), text))
}

#[test]
fn files_redis_writes_load_into_shoal() {
    if !have_redis_server() {
        return;
    }
    let mut sizes = Vec::new();
    for compression in ["yes", "no"] {
        let dir = TestDir::new("interop-from-redis");
        let (before, read_at, expired) = {
            let r = RedisServer::start_in(
                dir.path(),
                "redis.rdb",
                &[
                    "--enable-debug-command",
                    "yes",
                    "--rdbcompression",
                    compression,
                ],
            )
            .expect("redis-server on PATH");
            let mut c = r.conn();
            // Keys past their expiry stay in memory (and so in the file) until touched.
            ok(&mut c, &[b"DEBUG", b"SET-ACTIVE-EXPIRE", b"0"]);
            let expired = fill_zoo(&mut c, 1);
            std::thread::sleep(Duration::from_millis(20));
            ok(&mut c, &[b"SAVE"]);
            // KEYS leaves out expired keys without deleting them: the rest is what shoal must
            // load.
            let before = dataset(r.port);
            (before, Instant::now(), expired)
        };
        assert!(before.len() > 16 * 100, "{} keys", before.len());
        let file = dir.file("redis.rdb");
        sizes.push(std::fs::metadata(&file).unwrap().len());
        // The expired keys really are in the file.
        let text = std::fs::read(&file).unwrap();
        for (_, k) in &expired {
            assert!(
                text.windows(k.len()).any(|w| w == &k[..]),
                "{} not in Redis's file",
                String::from_utf8_lossy(k)
            );
        }

        let s = Server::start_in(dir.path(), 3, &["--save", "", "--dbfilename", "redis.rdb"]);
        let after = dataset(s.port);
        assert_same_dataset(&before, &after, read_at.elapsed().as_millis() as i64);
        let mut c = s.conn();
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_loaded"),
            before.len().to_string(),
            "rdbcompression {compression}"
        );
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_expired"),
            expired.len().to_string()
        );
    }
    // The 100 KB repetitive values were LZF-compressed in the first file only.
    assert!(
        sizes[0] + 16 * 90 * 1024 < sizes[1],
        "file sizes with and without compression: {sizes:?}"
    );
}

#[test]
fn redis_files_with_other_types_are_refused_by_key() {
    if !have_redis_server() {
        return;
    }
    let dir = TestDir::new("interop-types");
    let big: Vec<String> = (0..300)
        .map(|i| format!("{i}-{}", "m".repeat(80)))
        .collect();
    // (file, key, kind in the message, commands that make the key)
    let cases: Vec<(&str, &str, &str, Vec<Vec<String>>)> = vec![
        (
            "list",
            "mylist",
            "a list",
            vec![cmd(&["RPUSH", "mylist", "a", "b", "1"])],
        ),
        (
            "biglist",
            "biglist",
            "a list",
            vec![cmd_with(&["RPUSH", "biglist"], &big)],
        ),
        (
            "hash",
            "myhash",
            "a hash",
            vec![cmd(&["HSET", "myhash", "f", "v"])],
        ),
        (
            "bighash",
            "bighash",
            "a hash",
            vec![cmd_pairs(&["HSET", "bighash"], &big)],
        ),
        (
            "intset",
            "myintset",
            "a set",
            vec![cmd(&["SADD", "myintset", "1", "2", "3"])],
        ),
        (
            "set",
            "myset",
            "a set",
            vec![cmd(&["SADD", "myset", "a", "b"])],
        ),
        (
            "bigset",
            "bigset",
            "a set",
            vec![cmd_with(&["SADD", "bigset"], &big)],
        ),
        (
            "zset",
            "myzset",
            "a sorted set",
            vec![cmd(&["ZADD", "myzset", "1", "a", "2.5", "b"])],
        ),
        (
            "bigzset",
            "bigzset",
            "a sorted set",
            vec![cmd_scores(&["ZADD", "bigzset"], &big)],
        ),
    ];
    {
        let r = RedisServer::start_in(dir.path(), "dump.rdb", &[]).expect("redis-server on PATH");
        let mut c = r.conn();
        for (file, _, _, cmds) in &cases {
            ok(&mut c, &[b"FLUSHALL"]);
            // Strings around it, in another database too: the refusal is about the one key.
            ok(&mut c, &[b"SET", b"s1", b"v"]);
            ok(&mut c, &[b"SELECT", b"2"]);
            ok(&mut c, &[b"SET", b"s2", b"12345"]);
            for args in cmds {
                let mut k = redis::cmd(&args[0]);
                for a in &args[1..] {
                    k.arg(a);
                }
                k.query::<redis::Value>(&mut c).expect("redis-server setup");
            }
            ok(&mut c, &[b"SELECT", b"0"]);
            ok(&mut c, &[b"SAVE"]);
            std::fs::rename(dir.file("dump.rdb"), dir.file(&format!("{file}.rdb"))).unwrap();
        }
    }
    for (file, key, kind, _) in &cases {
        let name = format!("{file}.rdb");
        let f = start_expecting_failure(dir.path(), 2, &["--save", "", "--dbfilename", &name]);
        assert_eq!(
            f.status.code(),
            Some(1),
            "{name}: {:?}\n{}",
            f.status,
            f.output
        );
        assert!(!f.served, "{name}: served clients");
        let line = f
            .output
            .lines()
            .find(|l| l.contains("Fatal error loading the DB: "))
            .unwrap_or_else(|| panic!("{name}: no fatal-error line in:\n{}", f.output));
        assert!(
            line.contains(key) && line.contains(&format!(" is {kind} ")) && line.contains(&name),
            "{name}: the message should name {key} and {kind}: {line}"
        );
    }
}

fn cmd(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn cmd_with(head: &[&str], items: &[String]) -> Vec<String> {
    let mut v = cmd(head);
    v.extend(items.iter().cloned());
    v
}

fn cmd_pairs(head: &[&str], items: &[String]) -> Vec<String> {
    let mut v = cmd(head);
    for it in items {
        v.push(it.clone());
        v.push(format!("value of {it}"));
    }
    v
}

fn cmd_scores(head: &[&str], items: &[String]) -> Vec<String> {
    let mut v = cmd(head);
    for (i, it) in items.iter().enumerate() {
        v.push(format!("{}.5", i));
        v.push(it.clone());
    }
    v
}

#[test]
fn files_shoal_writes_load_into_redis() {
    if !have_redis_server() {
        return;
    }
    for (compression, checksum) in [("yes", "yes"), ("no", "no")] {
        let dir = TestDir::new("interop-to-redis");
        let (before, read_at) = {
            let mut s = Server::start_in(
                dir.path(),
                3,
                &[
                    "--save",
                    "",
                    "--rdbcompression",
                    compression,
                    "--rdbchecksum",
                    checksum,
                ],
            );
            let mut c = s.conn();
            fill_zoo(&mut c, 3_600_000);
            ok(&mut c, &[b"SAVE"]);
            let before = dataset(s.port);
            s.kill9();
            (before, Instant::now())
        };
        match check_rdb(&dir.file("dump.rdb")) {
            None => eprintln!("note: redis-check-rdb not on PATH; skipping the check"),
            Some((good, text)) => assert!(
                good,
                "redis-check-rdb refused shoal's file (compression {compression}):\n{text}"
            ),
        }
        let r = RedisServer::start_in(dir.path(), "dump.rdb", &[]).expect("redis-server on PATH");
        let after = dataset(r.port);
        assert_same_dataset(&before, &after, read_at.elapsed().as_millis() as i64);
        // Redis read every key: none were skipped as expired or unknown.
        let mut c = r.conn();
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        assert!(
            info.contains(&format!("rdb_last_load_keys_loaded:{}\r\n", before.len())),
            "{info}"
        );
        // Integers shoal wrote as integers come back as numbers Redis can count with.
        let n: i64 = redis::cmd("INCR").arg("int:0:19").query(&mut c).unwrap();
        assert_eq!(n, i64::MIN + 1);
    }
}

// ---- streams ---------------------------------------------------------------------------------

/// A raw RESP connection: each reply exactly as the server sent it.
struct RawConn {
    r: std::io::BufReader<std::net::TcpStream>,
    w: std::net::TcpStream,
}

impl RawConn {
    fn open(port: u16) -> RawConn {
        let w = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        RawConn {
            r: std::io::BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        use std::io::Write;
        self.w.write_all(&resp(args)).expect("write");
        read_reply(&mut self.r).expect("reply")
    }

    /// A bulk reply's content; panics on anything else.
    fn bulk(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let raw = self.call(args);
        let text = String::from_utf8_lossy(&raw[..raw.len().min(80)]).into_owned();
        let nl = raw
            .iter()
            .position(|&b| b == b'\n')
            .filter(|_| raw[0] == b'$')
            .unwrap_or_else(|| panic!("{:?}: not a bulk reply: {text}", show_args(args)));
        raw[nl + 1..raw.len() - 2].to_vec()
    }

    fn int(&mut self, args: &[&[u8]]) -> i64 {
        let raw = self.call(args);
        let text = String::from_utf8_lossy(&raw).into_owned();
        text.strip_prefix(':')
            .and_then(|t| t.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("{:?}: not an integer: {text}", show_args(args)))
    }
}

/// Runs a command that must succeed.
fn run(c: &mut redis::Connection, args: &[&str]) -> redis::Value {
    let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    common::cmd(c, &bytes).unwrap_or_else(|e| panic!("{:?}: {e}", show_args(&bytes)))
}

/// Appends `n` entries to `key` in one pipeline: IDs `first+i`-0, one field `f` (or, every
/// seventh entry, two other fields) holding `i`.
fn xadd_many(c: &mut redis::Connection, key: &str, first: u64, n: u64) {
    let mut p = redis::pipe();
    for i in 0..n {
        let id = format!("{}-0", first + i);
        if i % 7 == 3 {
            p.cmd("XADD")
                .arg(key)
                .arg(id)
                .arg("g")
                .arg(i)
                .arg("h")
                .arg("x");
        } else {
            p.cmd("XADD").arg(key).arg(id).arg("f").arg(i);
        }
    }
    p.query::<()>(c).expect("XADD pipeline");
}

/// Streams of every shape redis-server 7.0 saves, made on `c` (a redis-server), with strings
/// around them: returns the (db, key) of each stream.
fn fill_stream_zoo(c: &mut redis::Connection) -> Vec<(usize, String)> {
    let long = "L".repeat(5000);
    let mid = "m".repeat(100);
    // Fields shared with the node's first entry or not; integers of each listpack width, text
    // that looks numeric but is not canonical, long and empty strings.
    for args in [
        vec!["XADD", "plain", "1-1", "a", "1", "b", "2"],
        vec!["XADD", "plain", "1-2", "a", "300", "b", "-7"],
        vec!["XADD", "plain", "2-0", "c", "x"],
        vec!["XADD", "plain", "3-0", "a", "-5000", "b", "100000"],
        vec![
            "XADD",
            "plain",
            "3-1",
            "a",
            "9223372036854775807",
            "b",
            "-9223372036854775808",
        ],
        vec!["XADD", "plain", "4-0", "big", &long, "mid", &mid],
        vec!["XADD", "plain", "5-0", "", ""],
        vec!["XADD", "plain", "5-1", "a", "007", "b", "1e3"],
    ] {
        run(c, &args);
    }
    // Deleted entries: the first, one in the middle, the last (the max deleted ID).
    for i in 1..=10 {
        run(
            c,
            &["XADD", "deleted", &format!("{i}-0"), "f", &i.to_string()],
        );
    }
    run(c, &["XDEL", "deleted", "1-0", "5-0", "10-0"]);
    // Consumer groups: pending entries owned by several consumers, acknowledged, claimed,
    // delivered more than once, deleted while pending; a consumer with nothing pending; groups
    // at the end, in the middle with the read count unknown, and with ENTRIESREAD.
    for i in 1..=20 {
        run(
            c,
            &["XADD", "groups", &format!("{i}-0"), "f", &format!("v{i}")],
        );
    }
    for args in [
        vec!["XGROUP", "CREATE", "groups", "g1", "0"],
        vec!["XGROUP", "CREATE", "groups", "g2", "$"],
        vec!["XGROUP", "CREATE", "groups", "g3", "5-0"],
        vec!["XGROUP", "CREATE", "groups", "g4", "0", "ENTRIESREAD", "3"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "COUNT",
            "5",
            "STREAMS",
            "groups",
            ">",
        ],
        vec![
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "3",
            "STREAMS",
            "groups",
            ">",
        ],
        vec!["XACK", "groups", "g1", "2-0"],
        vec!["XCLAIM", "groups", "g1", "carol", "0", "7-0"],
        vec!["XGROUP", "CREATECONSUMER", "groups", "g1", "dave"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g1",
            "alice",
            "STREAMS",
            "groups",
            "0",
        ],
        vec!["XDEL", "groups", "3-0"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g3",
            "erin",
            "NOACK",
            "COUNT",
            "2",
            "STREAMS",
            "groups",
            ">",
        ],
        vec![
            "XREADGROUP",
            "GROUP",
            "g4",
            "frank",
            "COUNT",
            "1",
            "STREAMS",
            "groups",
            ">",
        ],
        // Empty streams: made with a group, and emptied by XDEL.
        vec!["XGROUP", "CREATE", "empty", "g", "$", "MKSTREAM"],
        vec!["XADD", "emptied", "1-0", "f", "v"],
        vec!["XDEL", "emptied", "1-0"],
        // Counters set by XSETID.
        vec!["XADD", "setid", "1-0", "f", "v"],
        vec![
            "XSETID",
            "setid",
            "100-5",
            "ENTRIESADDED",
            "50",
            "MAXDELETEDID",
            "50-0",
        ],
        // A TTL.
        vec!["XADD", "ttl", "1-0", "f", "v"],
        vec!["PEXPIRE", "ttl", "3600000"],
    ] {
        run(c, &args);
    }
    // A big stream over 50 nodes (100 entries each by default), trimmed by whole nodes, with
    // holes, and a group whose pending entries span nodes.
    xadd_many(c, "big", 1, 5000);
    run(c, &["XTRIM", "big", "MAXLEN", "~", "4000"]);
    run(c, &["XDEL", "big", "2500-0", "2501-0", "5000-0"]);
    run(c, &["XGROUP", "CREATE", "big", "g", "0"]);
    run(
        c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            "700",
            "STREAMS",
            "big",
            ">",
        ],
    );
    // One node of more than 65535 listpack elements (no node limits).
    run(c, &["CONFIG", "SET", "stream-node-max-entries", "0"]);
    run(c, &["CONFIG", "SET", "stream-node-max-bytes", "0"]);
    xadd_many(c, "huge", 1, 14_000);
    run(c, &["CONFIG", "SET", "stream-node-max-entries", "100"]);
    run(c, &["CONFIG", "SET", "stream-node-max-bytes", "4096"]);
    run(c, &["SET", "s1", "v"]);
    run(c, &["SELECT", "3"]);
    run(c, &["XADD", "other", "1-0", "f", "v"]);
    run(c, &["SET", "s2", "12345"]);
    run(c, &["SELECT", "0"]);
    [
        "plain", "deleted", "groups", "empty", "emptied", "setid", "ttl", "big", "huge",
    ]
    .iter()
    .map(|k| (0, k.to_string()))
    .chain([(3, "other".to_string())])
    .collect()
}

/// What a stream key must look like on both servers: its DUMP payload (Redis's is written with
/// rdbcompression yes) and its PTTL.
struct StreamKey {
    db: usize,
    key: String,
    payload: Vec<u8>,
    pttl: i64,
}

fn read_streams(port: u16, keys: &[(usize, String)]) -> Vec<StreamKey> {
    let mut c = RawConn::open(port);
    keys.iter()
        .map(|(db, key)| {
            c.call(&[b"SELECT", db.to_string().as_bytes()]);
            let k = key.as_bytes();
            assert_eq!(c.call(&[b"TYPE", k]), b"+stream\r\n", "TYPE {key}");
            StreamKey {
                db: *db,
                key: key.clone(),
                payload: c.bulk(&[b"DUMP", k]),
                pttl: c.int(&[b"PTTL", k]),
            }
        })
        .collect()
}

/// Every stream on `port` has the expected payload and TTL, and every database the expected
/// number of keys. Payloads are compared as Redis writes them: shoal's LZF compressor finds other
/// (equally valid) matches than Redis's, so a payload that differs is restored into `redis` (db
/// 15) and must come back from its DUMP as the one expected, byte for byte.
fn assert_streams(
    port: u16,
    want: &[StreamKey],
    dbsizes: &[(usize, i64)],
    what: &str,
    redis: &mut RawConn,
) {
    let got = read_streams(
        port,
        &want
            .iter()
            .map(|s| (s.db, s.key.clone()))
            .collect::<Vec<_>>(),
    );
    redis.call(&[b"SELECT", b"15"]);
    for (w, g) in want.iter().zip(&got) {
        let as_redis_writes = if g.payload == w.payload {
            g.payload.clone()
        } else {
            let restored = redis.call(&[b"RESTORE", b"check", b"0", &g.payload, b"REPLACE"]);
            assert_eq!(
                restored, b"+OK\r\n",
                "{what}: redis-server refused the payload of {}",
                w.key
            );
            redis.bulk(&[b"DUMP", b"check"])
        };
        assert!(
            w.payload == as_redis_writes,
            "{what}: DUMP of {} (db {}) differs:\n want {:?}\n  got {:?}",
            w.key,
            w.db,
            String::from_utf8_lossy(&w.payload[..w.payload.len().min(200)]),
            String::from_utf8_lossy(&g.payload[..g.payload.len().min(200)]),
        );
        if w.pttl < 0 {
            assert_eq!(g.pttl, w.pttl, "{what}: PTTL of {}", w.key);
        } else {
            assert!(
                g.pttl <= w.pttl && g.pttl > w.pttl - 60_000,
                "{what}: PTTL of {}: {} then {}",
                w.key,
                w.pttl,
                g.pttl
            );
        }
    }
    redis.call(&[b"FLUSHDB"]);
    let mut c = RawConn::open(port);
    for (db, n) in dbsizes {
        c.call(&[b"SELECT", db.to_string().as_bytes()]);
        assert_eq!(c.int(&[b"DBSIZE"]), *n, "{what}: DBSIZE of db {db}");
    }
}

/// The stream commands whose replies must be the same bytes on both servers (none that show a
/// time relative to now).
fn stream_reads(key: &[u8], groups: &[Vec<u8>]) -> Vec<Vec<Vec<u8>>> {
    let mut v: Vec<Vec<Vec<u8>>> = [
        &[&b"XLEN"[..], key][..],
        &[b"XRANGE", key, b"-", b"+"],
        &[b"XREVRANGE", key, b"+", b"-", b"COUNT", b"7"],
        &[b"XRANGE", key, b"2-0", b"(4000-0", b"COUNT", b"50"],
        &[b"XINFO", b"STREAM", key],
        &[b"XINFO", b"STREAM", key, b"FULL", b"COUNT", b"0"],
        &[b"XINFO", b"GROUPS", key],
    ]
    .iter()
    .map(|a| a.iter().map(|x| x.to_vec()).collect())
    .collect();
    for g in groups {
        v.push(vec![b"XPENDING".to_vec(), key.to_vec(), g.clone()]);
    }
    v
}

/// The streams read the same on `port` as on `redis`, reply for reply, byte for byte.
fn assert_same_stream_replies(port: u16, redis: &mut RawConn, want: &[StreamKey], what: &str) {
    let mut c = RawConn::open(port);
    for k in want {
        let db = k.db.to_string();
        let key = k.key.as_bytes();
        c.call(&[b"SELECT", db.as_bytes()]);
        redis.call(&[b"SELECT", db.as_bytes()]);
        let groups = group_names(&redis.call(&[b"XINFO", b"GROUPS", key]));
        if k.key == "groups" {
            assert_eq!(groups, [&b"g1"[..], b"g2", b"g3", b"g4"]);
        }
        for args in stream_reads(key, &groups) {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            let (x, y) = (redis.call(&args), c.call(&args));
            assert!(
                x == y,
                "{what}: {:?} differs:\n redis {:?}\n shoal {:?}",
                show_args(&args),
                String::from_utf8_lossy(&x[..x.len().min(2000)]),
                String::from_utf8_lossy(&y[..y.len().min(2000)]),
            );
        }
    }
}

/// The group names in a raw XINFO GROUPS reply (RESP2): each group's first value.
fn group_names(reply: &[u8]) -> Vec<Vec<u8>> {
    let text = reply.split(|&b| b == b'\n').collect::<Vec<_>>();
    let mut names = Vec::new();
    for (i, line) in text.iter().enumerate() {
        if line.starts_with(b"name\r") {
            if let Some(name) = text.get(i + 2) {
                names.push(name.strip_suffix(b"\r").unwrap_or(name).to_vec());
            }
        }
    }
    names
}

/// Starts a redis-server in `dir` with the stream zoo saved to `file`; returns it (still
/// running), the zoo's keys as it holds them, and its databases' sizes.
fn redis_with_streams(
    dir: &TestDir,
    file: &str,
    compression: &str,
) -> (RedisServer, Vec<StreamKey>, Vec<(usize, i64)>) {
    let r = RedisServer::start_in(dir.path(), file, &["--rdbcompression", compression])
        .expect("redis-server on PATH");
    let mut c = r.conn();
    let keys = fill_stream_zoo(&mut c);
    ok(&mut c, &[b"SAVE"]);
    // Shoal's payloads are always compressed where it pays, as Redis's with rdbcompression yes.
    ok(&mut c, &[b"CONFIG", b"SET", b"rdbcompression", b"yes"]);
    let streams = read_streams(r.port, &keys);
    let mut raw = RawConn::open(r.port);
    let sizes = [0usize, 3]
        .iter()
        .map(|&db| {
            raw.call(&[b"SELECT", db.to_string().as_bytes()]);
            (db, raw.int(&[b"DBSIZE"]))
        })
        .collect();
    (r, streams, sizes)
}

#[test]
fn redis_stream_files_load_into_shoal() {
    if !have_redis_server() {
        return;
    }
    for compression in ["yes", "no"] {
        let dir = TestDir::new("interop-streams-from-redis");
        let (r, want, sizes) = redis_with_streams(&dir, "redis.rdb", compression);
        let s = Server::start_in(
            dir.path(),
            3,
            &[
                "--save",
                "",
                "--dbfilename",
                "redis.rdb",
                "--enable-debug-command",
                "yes",
            ],
        );
        let what = format!("loaded (rdbcompression {compression})");
        let mut redis = RawConn::open(r.port);
        assert_streams(s.port, &want, &sizes, &what, &mut redis);
        assert_same_stream_replies(s.port, &mut redis, &want, &what);
        let mut c = s.conn();
        let total: i64 = sizes.iter().map(|(_, n)| n).sum();
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_loaded"),
            total.to_string()
        );
        // DEBUG RELOAD: shoal's own file of the same streams reads back the same.
        ok(&mut c, &[b"DEBUG", b"RELOAD"]);
        assert_streams(
            s.port,
            &want,
            &sizes,
            &format!("reloaded, {what}"),
            &mut redis,
        );
        assert_same_stream_replies(s.port, &mut redis, &want, &format!("reloaded, {what}"));
    }
}

/// Streams made by commands, the same on shoal and on Redis (explicit IDs and delivery times),
/// in db 5: returns their keys.
fn fill_made_streams(c: &mut redis::Connection) -> Vec<(usize, String)> {
    run(c, &["SELECT", "5"]);
    // Three nodes and a half, trimmed by a whole node, with holes.
    xadd_many(c, "m:nodes", 1, 350);
    run(c, &["XDEL", "m:nodes", "7-0", "101-0", "350-0"]);
    run(c, &["XTRIM", "m:nodes", "MAXLEN", "~", "240"]);
    // Trimmed as it grows, exactly.
    for i in 1..=30 {
        let id = format!("{i}-1");
        run(
            c,
            &["XADD", "m:capped", "MAXLEN", "10", &id, "n", &i.to_string()],
        );
    }
    // A group with pending entries given by XCLAIM FORCE at a fixed time, one acknowledged;
    // another with entries XREADGROUP delivered.
    for args in [
        vec!["XGROUP", "CREATE", "m:group", "g", "0", "MKSTREAM"],
        vec!["XADD", "m:group", "1-0", "a", "1"],
        vec!["XADD", "m:group", "2-0", "a", "2", "b", "3"],
        vec!["XADD", "m:group", "3-0", "a", "3"],
        vec![
            "XCLAIM",
            "m:group",
            "g",
            "alice",
            "0",
            "1-0",
            "2-0",
            "3-0",
            "TIME",
            "1700000000000",
            "RETRYCOUNT",
            "2",
            "FORCE",
            "JUSTID",
        ],
        vec!["XACK", "m:group", "g", "2-0"],
        // Delivered by XREADGROUP (at each server's own time).
        vec!["XGROUP", "CREATE", "m:group", "g2", "0"],
        vec![
            "XREADGROUP",
            "GROUP",
            "g2",
            "bob",
            "COUNT",
            "2",
            "STREAMS",
            "m:group",
            ">",
        ],
        vec!["XGROUP", "SETID", "m:group", "g", "3-0", "ENTRIESREAD", "3"],
        vec!["XADD", "m:setid", "5-5", "f", "v"],
        vec![
            "XSETID",
            "m:setid",
            "9-9",
            "ENTRIESADDED",
            "7",
            "MAXDELETEDID",
            "4-0",
        ],
    ] {
        run(c, &args);
    }
    run(c, &["SELECT", "0"]);
    ["m:nodes", "m:capped", "m:group", "m:setid"]
        .iter()
        .map(|k| (5, k.to_string()))
        .collect()
}

/// Every reply of `stream_reads` for `keys`, in order.
fn stream_replies(port: u16, keys: &[(usize, String)]) -> Vec<Vec<u8>> {
    let mut c = RawConn::open(port);
    let mut out = Vec::new();
    for (db, key) in keys {
        c.call(&[b"SELECT", db.to_string().as_bytes()]);
        let groups = group_names(&c.call(&[b"XINFO", b"GROUPS", key.as_bytes()]));
        for args in stream_reads(key.as_bytes(), &groups) {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            out.push(c.call(&args));
        }
    }
    out
}

#[test]
fn shoal_stream_files_load_into_redis() {
    if !have_redis_server() {
        return;
    }
    let dir = TestDir::new("interop-streams-to-redis");
    let (r, want, sizes) = redis_with_streams(&dir, "redis.rdb", "yes");
    // Redis's streams reach shoal (3 shards) as RESTORE payloads from Redis's DUMP.
    let mut s = Server::start_in(dir.path(), 3, &["--save", ""]);
    let mut c = RawConn::open(s.port);
    for k in &want {
        c.call(&[b"SELECT", k.db.to_string().as_bytes()]);
        let ttl = k.pttl.max(0).to_string();
        assert_eq!(
            c.call(&[b"RESTORE", k.key.as_bytes(), ttl.as_bytes(), &k.payload]),
            b"+OK\r\n",
            "RESTORE {}",
            k.key
        );
    }
    c.call(&[b"SELECT", b"0"]);
    c.call(&[b"SET", b"s1", b"v"]);
    c.call(&[b"SELECT", b"3"]);
    c.call(&[b"SET", b"s2", b"12345"]);
    let mut redis = RawConn::open(r.port);
    assert_streams(s.port, &want, &sizes, "restored into shoal", &mut redis);
    // And streams shoal's own commands made, the same commands as on Redis.
    let made = fill_made_streams(&mut s.conn());
    fill_made_streams(&mut r.conn());
    let made_in_shoal = stream_replies(s.port, &made);
    assert_eq!(made_in_shoal.len(), 4 * 7 + 2);
    assert_eq!(c.call(&[b"SAVE"]), b"+OK\r\n");
    s.kill9();
    match check_rdb(&dir.file("dump.rdb")) {
        None => eprintln!("note: redis-check-rdb not on PATH; skipping the check"),
        Some((good, text)) => assert!(good, "redis-check-rdb refused shoal's file:\n{text}"),
    }
    let r2 = RedisServer::start_in(dir.path(), "dump.rdb", &[]).expect("redis-server on PATH");
    assert_streams(
        r2.port,
        &want,
        &sizes,
        "shoal's file loaded into redis-server",
        &mut redis,
    );
    // Redis sees the very same streams in both: entries, counters, groups, PEL, consumers.
    assert_same_stream_replies(r2.port, &mut redis, &want, "shoal's file in redis-server");
    let made_in_redis = stream_replies(r2.port, &made);
    for (i, (x, y)) in made_in_shoal.iter().zip(&made_in_redis).enumerate() {
        assert!(
            x == y,
            "read {i} of the streams shoal made differs once in redis-server:\n shoal {:?}\n redis {:?}",
            String::from_utf8_lossy(x),
            String::from_utf8_lossy(y)
        );
    }
    // Shoal built its nodes where Redis does: the same entries in the same listpacks (the group's
    // consumer was seen at different times on the two).
    let mut a = RawConn::open(r.port);
    let mut b = RawConn::open(r2.port);
    for (db, key) in &made {
        let db = db.to_string();
        let key = key.as_bytes();
        a.call(&[b"SELECT", db.as_bytes()]);
        b.call(&[b"SELECT", db.as_bytes()]);
        for args in [
            &[&b"XINFO"[..], b"STREAM", key][..],
            &[b"XRANGE", key, b"-", b"+"],
        ] {
            assert_eq!(a.call(args), b.call(args), "{:?}", show_args(args));
        }
        if key != b"m:group" {
            assert_eq!(a.bulk(&[b"DUMP", key]), b.bulk(&[b"DUMP", key]));
        }
    }
}

#[test]
fn corrupt_stream_in_a_file_is_refused_by_key() {
    if !have_redis_server() {
        return;
    }
    let dir = TestDir::new("interop-streams-corrupt");
    {
        let r = RedisServer::start_in(dir.path(), "dump.rdb", &["--rdbcompression", "no"])
            .expect("redis-server on PATH");
        let mut c = r.conn();
        run(&mut c, &["SET", "s", "v"]);
        run(&mut c, &["XADD", "st", "1-0", "f", "corruptme", "g", "1"]);
        ok(&mut c, &[b"SAVE"]);
    }
    let mut file = std::fs::read(dir.file("dump.rdb")).unwrap();
    // The listpack string element's header: a 9-byte string becomes a 10-byte one, so its
    // back-length no longer matches.
    let at = file
        .windows(10)
        .position(|w| w == b"\x89corruptme")
        .expect("the value in the listpack");
    file[at] = 0x8a;
    std::fs::write(dir.file("dump.rdb"), &file).unwrap();
    // Without the checksum, which would catch the change first.
    let f = start_expecting_failure(dir.path(), 2, &["--save", "", "--rdbchecksum", "no"]);
    assert_eq!(f.status.code(), Some(1), "{:?}\n{}", f.status, f.output);
    assert!(!f.served);
    let line = f
        .output
        .lines()
        .find(|l| l.contains("Fatal error loading the DB: "))
        .unwrap_or_else(|| panic!("no fatal-error line in:\n{}", f.output));
    assert!(
        line.contains("key \"st\" in db 0: stream node 0 (master ID 1-0): listpack byte"),
        "{line}"
    );
}

#[test]
fn restore_takes_redis_stream_payloads_and_refuses_corrupt_ones() {
    if !have_redis_server() {
        return;
    }
    let dir = TestDir::new("interop-streams-restore");
    let (r, want, _) = redis_with_streams(&dir, "redis.rdb", "yes");
    let s = Server::start(2, &[]);
    let mut c = RawConn::open(s.port);
    let mut redis = RawConn::open(r.port);
    redis.call(&[b"SELECT", b"15"]);
    for k in &want {
        let key = format!("copy:{}", k.key);
        let key = key.as_bytes();
        assert_eq!(
            c.call(&[b"RESTORE", key, b"0", &k.payload]),
            b"+OK\r\n",
            "RESTORE {}",
            k.key
        );
        // Back through Redis, which writes it as it first did.
        let p = c.bulk(&[b"DUMP", key]);
        assert_eq!(
            redis.call(&[b"RESTORE", b"check", b"0", &p, b"REPLACE"]),
            b"+OK\r\n"
        );
        assert_eq!(
            redis.bulk(&[b"DUMP", b"check"]),
            k.payload,
            "DUMP of {}",
            k.key
        );
        assert_eq!(c.call(&[b"TYPE", key]), b"+stream\r\n");
        assert_eq!(
            c.call(&[b"RESTORE", key, b"0", &k.payload]),
            b"-BUSYKEY Target key name already exists.\r\n"
        );
        assert_eq!(
            c.call(&[b"RESTORE", key, b"0", &k.payload, b"REPLACE"]),
            b"+OK\r\n"
        );
    }
    // A payload with a stream cut short, checksum correct: corrupt data, as Redis says it.
    let whole = &want.iter().find(|k| k.key == "groups").unwrap().payload;
    let body = &whole[..whole.len() - 10];
    for cut in [1, 2, 17, body.len() / 2, body.len() - 1] {
        let mut p = body[..cut].to_vec();
        p.extend_from_slice(&whole[whole.len() - 10..whole.len() - 8]);
        let crc = shoal::persistence::crc64::crc64(0, &p);
        p.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            c.call(&[b"RESTORE", b"cut", b"0", &p]),
            b"-ERR Bad data format\r\n",
            "cut at {cut}"
        );
    }
    assert_eq!(c.call(&[b"EXISTS", b"cut"]), b":0\r\n");
}
