//! RDB files across implementations: files redis-server 7.0 writes load into shoal with the same
//! keys, values and TTLs (and files with types shoal cannot hold are refused by name), and files
//! shoal writes load into redis-server with the same data and pass redis-check-rdb.
//!
//! Needs redis-server on PATH; without it each test prints a note and returns.

mod common;
use common::{
    assert_same_dataset, dataset, fill_zoo, info_field, ok, start_expecting_failure, Server,
    TestDir,
};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

fn have_redis() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        eprintln!("note: redis-server not on PATH; skipping the RDB interoperability test");
    }
    found
}

/// Ports for redis-server in a private range, distinct for each server this process starts.
static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

fn private_port() -> u16 {
    loop {
        let n = NEXT_PORT.fetch_add(1, Ordering::Relaxed) as u32;
        let port = 21000 + (std::process::id() * 37 + n * 101) % 9000;
        if std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok() {
            return port as u16;
        }
    }
}

/// A redis-server child, killed on drop.
struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    /// Starts redis-server on `dir`/`dbfilename` (loading it if present), never saving by
    /// itself; waits until it answers PING.
    fn start(dir: &std::path::Path, dbfilename: &str, extra: &[&str]) -> Redis {
        for _ in 0..5 {
            let port = private_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--dir", dir.to_str().unwrap(), "--dbfilename", dbfilename])
                .args(["--enable-debug-command", "yes"])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut b = [0u8; 7];
                    // While loading, Redis answers -LOADING: keep polling until +PONG.
                    if s.write_all(b"PING\r\n").is_ok()
                        && s.read_exact(&mut b).is_ok()
                        && &b == b"+PONG\r\n"
                    {
                        return Redis { port, child };
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on {}", dir.display());
    }

    fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("client")
            .get_connection()
            .expect("connect to redis-server")
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether redis-check-rdb accepts `file`, with its output; None when it is not installed.
fn check_rdb(file: &std::path::Path) -> Option<(bool, String)> {
    let out = Command::new("redis-check-rdb").arg(file).output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success() && text.contains("RDB looks OK!"), text))
}

#[test]
fn files_redis_writes_load_into_shoal() {
    if !have_redis() {
        return;
    }
    let mut sizes = Vec::new();
    for compression in ["yes", "no"] {
        let dir = TestDir::new("interop-from-redis");
        let (before, read_at, expired) = {
            let r = Redis::start(dir.path(), "redis.rdb", &["--rdbcompression", compression]);
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
    if !have_redis() {
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
        (
            "stream",
            "mystream",
            "a stream",
            vec![
                cmd(&["XADD", "mystream", "*", "f", "v"]),
                cmd(&["XGROUP", "CREATE", "mystream", "g", "0"]),
            ],
        ),
    ];
    {
        let r = Redis::start(dir.path(), "dump.rdb", &[]);
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
    if !have_redis() {
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
        let r = Redis::start(dir.path(), "dump.rdb", &[]);
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
