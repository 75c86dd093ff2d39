//! RDB files across implementations: files redis-server 7.0 writes load into shoal with the same
//! keys, values and TTLs (and files with types shoal cannot hold are refused by name), and files
//! shoal writes load into redis-server with the same data and pass redis-check-rdb.
//!
//! Needs redis-server on PATH; without it each test prints a note and returns.

mod common;
use common::{
    assert_same_dataset, dataset, fill_zoo, have_redis_server, info_field, ok,
    start_expecting_failure, RedisServer, Server, TestDir,
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
