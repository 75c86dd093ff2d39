//! Keyspace commands against the real binary on 1 and 4 shards: DEL/UNLINK/EXISTS/TOUCH, the
//! EXPIRE and TTL families, PERSIST, TYPE, RENAME(NX), COPY, MOVE, OBJECT, MEMORY, KEYS, FLUSHDB,
//! SWAPDB, RANDOMKEY and SCAN. Error texts were checked against redis-server 7.0.15.

mod common;
use common::{resp, Server};

use redis::Connection;
use shoal::runtime::slot::key_shard;
use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn q<T: redis::FromRedisValue>(c: &mut Connection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn int(c: &mut Connection, args: &[&str]) -> i64 {
    q(c, args)
}

fn get(c: &mut Connection, key: &str) -> Option<String> {
    q(c, &["GET", key])
}

/// Sends one command on a raw connection and expects exactly `want`.
fn rt(raw: &mut common::Raw, args: &[&str], want: &str) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    raw.roundtrip(&resp(&a), want.as_bytes());
}

fn err(raw: &mut common::Raw, args: &[&str], msg: &str) {
    rt(raw, args, &format!("-{msg}\r\n"));
}

/// Two key names owned by different shards (of `n`), or any two names on one shard.
fn keys_on_two_shards(n: usize, prefix: &str) -> (String, String) {
    let a = format!("{prefix}:a");
    for i in 0..1000 {
        let b = format!("{prefix}:b{i}");
        if n == 1 || key_shard(a.as_bytes(), n) != key_shard(b.as_bytes(), n) {
            return (a, b);
        }
    }
    panic!("no key on another shard");
}

#[test]
fn del_unlink_exists_touch() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for k in ["a", "b", "c", "d"] {
            let _: () = q(&mut c, &["SET", k, "v"]);
        }
        assert_eq!(
            int(&mut c, &["EXISTS", "a", "a", "b", "nokey"]),
            3,
            "duplicates count"
        );
        assert_eq!(int(&mut c, &["TOUCH", "a", "b", "nokey", "a"]), 3);
        assert_eq!(int(&mut c, &["DEL", "a", "a", "nokey"]), 1);
        assert_eq!(int(&mut c, &["UNLINK", "b", "c", "b"]), 2);
        assert_eq!(int(&mut c, &["EXISTS", "a", "b", "c", "d"]), 1);
        assert_eq!(int(&mut c, &["DEL", "nokey"]), 0);
        let mut raw = s.raw();
        err(
            &mut raw,
            &["TOUCH"],
            "ERR wrong number of arguments for 'touch' command",
        );
        err(
            &mut raw,
            &["UNLINK"],
            "ERR wrong number of arguments for 'unlink' command",
        );
    }
}

#[test]
fn expire_options_and_errors() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut raw = s.raw();
        rt(&mut raw, &["SET", "k", "v"], "+OK\r\n");
        err(
            &mut raw,
            &["EXPIRE", "k", "10", "nx", "xx"],
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "10", "NX", "GT"],
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "10", "gt", "lt"],
            "ERR GT and LT options at the same time are not compatible",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "10", "foo"],
            "ERR Unsupported option foo",
        );
        // Options are checked before the time.
        err(
            &mut raw,
            &["EXPIRE", "k", "abc", "foo"],
            "ERR Unsupported option foo",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "abc", "nx"],
            "ERR value is not an integer or out of range",
        );
        err(
            &mut raw,
            &["EXPIRE", "nokey", "abc"],
            "ERR value is not an integer or out of range",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "9223372036854775807"],
            "ERR invalid expire time in 'expire' command",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "9223372036854775"],
            "ERR invalid expire time in 'expire' command",
        );
        err(
            &mut raw,
            &["EXPIRE", "k", "-9223372036854776"],
            "ERR invalid expire time in 'expire' command",
        );
        err(
            &mut raw,
            &["PEXPIRE", "k", "9223372036854775807"],
            "ERR invalid expire time in 'pexpire' command",
        );
        err(
            &mut raw,
            &["EXPIREAT", "k", "9223372036854775807"],
            "ERR invalid expire time in 'expireat' command",
        );
        err(
            &mut raw,
            &["EXPIRE", "k"],
            "ERR wrong number of arguments for 'expire' command",
        );
        rt(&mut raw, &["EXPIRE", "nokey", "10"], ":0\r\n");
        // The largest absolute time is accepted.
        rt(
            &mut raw,
            &["PEXPIREAT", "k", "9223372036854775807"],
            ":1\r\n",
        );
        rt(&mut raw, &["PEXPIRETIME", "k"], ":9223372036854775807\r\n");
        rt(&mut raw, &["EXPIRETIME", "k"], ":9223372036854776\r\n");
        rt(&mut raw, &["PERSIST", "k"], ":1\r\n");
        rt(&mut raw, &["PERSIST", "k"], ":0\r\n");

        // No TTL: LT sets one (infinite is greater), GT and XX refuse, NX sets.
        rt(&mut raw, &["EXPIRE", "k", "100", "gt"], ":0\r\n");
        rt(&mut raw, &["EXPIRE", "k", "100", "xx"], ":0\r\n");
        rt(&mut raw, &["TTL", "k"], ":-1\r\n");
        rt(&mut raw, &["EXPIRE", "k", "100", "lt"], ":1\r\n");
        rt(&mut raw, &["TTL", "k"], ":100\r\n");
        rt(&mut raw, &["EXPIRE", "k", "200", "lt"], ":0\r\n");
        rt(&mut raw, &["EXPIRE", "k", "50", "gt"], ":0\r\n");
        // (Not 100: a millisecond later, now + 100 s is greater than the TTL set before.)
        rt(&mut raw, &["EXPIRE", "k", "99", "gt"], ":0\r\n");
        rt(&mut raw, &["EXPIRE", "k", "200", "GT"], ":1\r\n");
        rt(&mut raw, &["TTL", "k"], ":200\r\n");
        rt(&mut raw, &["EXPIRE", "k", "300", "nx"], ":0\r\n");
        rt(&mut raw, &["EXPIRE", "k", "300", "xx"], ":1\r\n");
        rt(&mut raw, &["EXPIRE", "k", "150", "xx", "lt"], ":1\r\n");
        rt(&mut raw, &["TTL", "k"], ":150\r\n");
        rt(&mut raw, &["PERSIST", "k"], ":1\r\n");
        rt(&mut raw, &["EXPIRE", "k", "300", "nx"], ":1\r\n");

        // A time in the past deletes the key and says 1.
        rt(&mut raw, &["EXPIRE", "k", "-9223372036854775"], ":1\r\n");
        rt(&mut raw, &["EXISTS", "k"], ":0\r\n");
        rt(&mut raw, &["SET", "k", "v"], "+OK\r\n");
        rt(&mut raw, &["PEXPIRE", "k", "0"], ":1\r\n");
        rt(&mut raw, &["GET", "k"], "$-1\r\n");
        rt(&mut raw, &["SET", "k", "v"], "+OK\r\n");
        rt(&mut raw, &["EXPIREAT", "k", "1"], ":1\r\n");
        rt(&mut raw, &["EXISTS", "k"], ":0\r\n");
        rt(
            &mut raw,
            &["PEXPIREAT", "k", "-9223372036854775808"],
            ":0\r\n",
        );
    }
}

#[test]
fn ttl_family_values() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(int(&mut c, &[cmd, "nokey"]), -2, "{cmd}");
        }
        let _: () = q(&mut c, &["SET", "k", "v"]);
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(int(&mut c, &[cmd, "k"]), -1, "{cmd}");
        }
        let at = now_ms() + 100_000 + 400;
        assert_eq!(int(&mut c, &["PEXPIREAT", "k", &at.to_string()]), 1);
        assert_eq!(int(&mut c, &["PEXPIRETIME", "k"]), at);
        // Seconds round to nearest.
        assert_eq!(int(&mut c, &["EXPIRETIME", "k"]), (at + 500) / 1000);
        let pttl = int(&mut c, &["PTTL", "k"]);
        assert!((99_000..=100_400).contains(&pttl), "{pttl}");
        let ttl = int(&mut c, &["TTL", "k"]);
        assert!((99..=101).contains(&ttl), "{ttl}");
        assert_eq!(
            int(&mut c, &["EXPIREAT", "k", &((at / 1000) + 50).to_string()]),
            1
        );
        assert_eq!(int(&mut c, &["EXPIRETIME", "k"]), at / 1000 + 50);
        assert_eq!(int(&mut c, &["PEXPIRETIME", "k"]), (at / 1000 + 50) * 1000);
        assert_eq!(int(&mut c, &["PERSIST", "k"]), 1);
        assert_eq!(int(&mut c, &["PTTL", "k"]), -1);
        assert_eq!(int(&mut c, &["PERSIST", "nokey"]), 0);
        // SET drops the TTL; the value survives EXPIRE.
        assert_eq!(int(&mut c, &["EXPIRE", "k", "100"]), 1);
        assert_eq!(get(&mut c, "k").as_deref(), Some("v"));
        let _: () = q(&mut c, &["SET", "k", "w"]);
        assert_eq!(int(&mut c, &["TTL", "k"]), -1);
        let mut raw = s.raw();
        err(
            &mut raw,
            &["TTL", "k", "x"],
            "ERR wrong number of arguments for 'ttl' command",
        );
    }
}

#[test]
fn pexpire_key_disappears() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for i in 0..20 {
            let k = format!("k{i}");
            let _: () = q(&mut c, &["SET", &k, "v"]);
            assert_eq!(int(&mut c, &["PEXPIRE", &k, "100"]), 1);
        }
        assert_eq!(int(&mut c, &["EXISTS", "k0", "k7", "k19"]), 3);
        std::thread::sleep(Duration::from_millis(200));
        for i in 0..20 {
            let k = format!("k{i}");
            assert_eq!(get(&mut c, &k), None, "{k}");
            assert_eq!(int(&mut c, &["TTL", &k]), -2);
        }
        assert_eq!(int(&mut c, &["DBSIZE"]), 0);
    }
}

#[test]
fn active_expiry_reclaims_untouched_keys() {
    let s = Server::start(4, &[]);
    let mut c = s.conn();
    let mut p = redis::pipe();
    for i in 0..1000 {
        let k = format!("vol:{i}");
        p.cmd("SET").arg(&k).arg("v").ignore();
        p.cmd("PEXPIRE").arg(&k).arg(50).ignore();
    }
    let _: () = p.query(&mut c).unwrap();
    let _: () = q(&mut c, &["SET", "keep", "v"]);
    // (No count check here: on a loaded machine the sweep may already have started.)
    // Never touched again: only the active sweep can reclaim them.
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut n = int(&mut c, &["DBSIZE"]);
    while n != 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        n = int(&mut c, &["DBSIZE"]);
    }
    assert_eq!(n, 1, "expired keys still counted after 1.5 s");
}

#[test]
fn type_persist_randomkey() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut raw = s.raw();
        rt(&mut raw, &["TYPE", "nokey"], "+none\r\n");
        rt(&mut raw, &["RANDOMKEY"], "$-1\r\n");
        rt(&mut raw, &["SET", "k", "v"], "+OK\r\n");
        rt(&mut raw, &["TYPE", "k"], "+string\r\n");
        rt(&mut raw, &["RANDOMKEY"], "$1\r\nk\r\n");
        err(
            &mut raw,
            &["RANDOMKEY", "x"],
            "ERR wrong number of arguments for 'randomkey' command",
        );
        drop(raw);

        let mut c = s.conn();
        let names: HashSet<String> = (0..50).map(|i| format!("r{i}")).collect();
        for k in &names {
            let _: () = q(&mut c, &["SET", k, "v"]);
        }
        let _: i64 = q(&mut c, &["DEL", "k"]);
        let mut seen = HashSet::new();
        for _ in 0..400 {
            let k: String = q(&mut c, &["RANDOMKEY"]);
            assert!(names.contains(&k), "{k}");
            seen.insert(k);
        }
        // Random over all shards: most keys come up in 400 draws.
        assert!(seen.len() > 25, "{}", seen.len());
        // Expired keys are never returned.
        let _: () = q(&mut c, &["FLUSHDB"]);
        let _: () = q(&mut c, &["SET", "gone", "v"]);
        assert_eq!(int(&mut c, &["PEXPIRE", "gone", "1"]), 1);
        std::thread::sleep(Duration::from_millis(5));
        let r: Option<String> = q(&mut c, &["RANDOMKEY"]);
        assert_eq!(r, None);
    }
}

#[test]
fn rename_and_renamenx() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut raw = s.raw();
        err(&mut raw, &["RENAME", "a", "b"], "ERR no such key");
        err(&mut raw, &["RENAMENX", "a", "b"], "ERR no such key");
        err(&mut raw, &["RENAME", "a", "a"], "ERR no such key");
        rt(&mut raw, &["SET", "a", "1"], "+OK\r\n");
        rt(&mut raw, &["RENAME", "a", "a"], "+OK\r\n");
        rt(&mut raw, &["RENAMENX", "a", "a"], ":0\r\n");
        rt(&mut raw, &["GET", "a"], "$1\r\n1\r\n");
        drop(raw);

        let mut c = s.conn();
        let (src, dst) = keys_on_two_shards(shards, "rn");
        let _: () = q(&mut c, &["SET", &src, "value"]);
        assert_eq!(int(&mut c, &["PEXPIRE", &src, "100000"]), 1);
        let _: () = q(&mut c, &["RENAME", &src, &dst]);
        assert_eq!(get(&mut c, &src), None);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("value"));
        let pttl = int(&mut c, &["PTTL", &dst]);
        assert!(
            (99_000..=100_000).contains(&pttl),
            "TTL kept across shards: {pttl}"
        );
        // Back again, overwriting a key without TTL.
        let _: () = q(&mut c, &["SET", &src, "other"]);
        let _: () = q(&mut c, &["RENAME", &dst, &src]);
        assert_eq!(get(&mut c, &src).as_deref(), Some("value"));
        assert!(int(&mut c, &["PTTL", &src]) > 99_000);
        assert_eq!(int(&mut c, &["EXISTS", &dst]), 0);
        // RENAMENX refuses an existing destination.
        let _: () = q(&mut c, &["SET", &dst, "d"]);
        assert_eq!(int(&mut c, &["RENAMENX", &src, &dst]), 0);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("d"));
        let _: i64 = q(&mut c, &["DEL", &dst]);
        assert_eq!(int(&mut c, &["RENAMENX", &src, &dst]), 1);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("value"));
        assert!(int(&mut c, &["PTTL", &dst]) > 99_000);
        // A key without TTL stays without one.
        let _: () = q(&mut c, &["SET", &src, "plain"]);
        let _: () = q(&mut c, &["RENAME", &src, &dst]);
        assert_eq!(int(&mut c, &["TTL", &dst]), -1);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("plain"));
    }
}

#[test]
fn copy_across_dbs_and_shards() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut raw = s.raw();
        rt(&mut raw, &["SET", "c", "1"], "+OK\r\n");
        err(
            &mut raw,
            &["COPY", "c", "c"],
            "ERR source and destination objects are the same",
        );
        err(
            &mut raw,
            &["COPY", "c", "c", "DB", "0"],
            "ERR source and destination objects are the same",
        );
        err(
            &mut raw,
            &["COPY", "nokey", "nokey"],
            "ERR source and destination objects are the same",
        );
        err(
            &mut raw,
            &["COPY", "c", "d", "db", "16"],
            "ERR DB index is out of range",
        );
        err(
            &mut raw,
            &["COPY", "c", "d", "db", "-1"],
            "ERR DB index is out of range",
        );
        err(
            &mut raw,
            &["COPY", "c", "d", "db", "x"],
            "ERR value is not an integer or out of range",
        );
        err(
            &mut raw,
            &["COPY", "c", "d", "db", "99999999999"],
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        );
        err(&mut raw, &["COPY", "c", "d", "foo"], "ERR syntax error");
        err(&mut raw, &["COPY", "c", "d", "db"], "ERR syntax error");
        rt(&mut raw, &["COPY", "nokey", "d"], ":0\r\n");
        rt(&mut raw, &["COPY", "c", "c", "db", "1"], ":1\r\n");
        rt(&mut raw, &["COPY", "c", "c", "db", "1"], ":0\r\n");
        rt(
            &mut raw,
            &["COPY", "c", "c", "db", "1", "replace"],
            ":1\r\n",
        );
        drop(raw);

        let mut c = s.conn();
        let (src, dst) = keys_on_two_shards(shards, "cp");
        let _: () = q(&mut c, &["SET", &src, "payload"]);
        assert_eq!(int(&mut c, &["PEXPIRE", &src, "100000"]), 1);
        // Same db, other shard.
        assert_eq!(int(&mut c, &["COPY", &src, &dst]), 1);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("payload"));
        assert!(int(&mut c, &["PTTL", &dst]) > 99_000);
        assert_eq!(get(&mut c, &src).as_deref(), Some("payload"));
        assert_eq!(int(&mut c, &["COPY", &src, &dst]), 0);
        // Other db, other shard; later DB options win.
        assert_eq!(int(&mut c, &["COPY", &src, &dst, "DB", "2", "DB", "3"]), 1);
        let _: () = q(&mut c, &["SELECT", "3"]);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("payload"));
        assert!(int(&mut c, &["PTTL", &dst]) > 99_000);
        assert_eq!(get(&mut c, &src), None, "source stays in db 0");
        let _: () = q(&mut c, &["SET", &dst, "old"]);
        let _: () = q(&mut c, &["SELECT", "2"]);
        assert_eq!(int(&mut c, &["EXISTS", &dst]), 0);
        let _: () = q(&mut c, &["SELECT", "0"]);
        assert_eq!(int(&mut c, &["COPY", &src, &dst, "DB", "3"]), 0);
        assert_eq!(int(&mut c, &["COPY", &src, &dst, "REPLACE", "DB", "3"]), 1);
        let _: () = q(&mut c, &["SELECT", "3"]);
        assert_eq!(get(&mut c, &dst).as_deref(), Some("payload"));
        // And from a non-zero db back to db 0.
        let _: () = q(&mut c, &["SET", "x:{src}", "from3"]);
        assert_eq!(
            int(&mut c, &["COPY", "x:{src}", &src, "DB", "0", "REPLACE"]),
            1
        );
        let _: () = q(&mut c, &["SELECT", "0"]);
        assert_eq!(get(&mut c, &src).as_deref(), Some("from3"));
        assert_eq!(
            int(&mut c, &["TTL", &src]),
            -1,
            "REPLACE takes the source's (absent) TTL"
        );
    }
}

#[test]
fn move_between_dbs() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut raw = s.raw();
        rt(&mut raw, &["SET", "m", "1"], "+OK\r\n");
        err(
            &mut raw,
            &["MOVE", "m", "0"],
            "ERR source and destination objects are the same",
        );
        err(
            &mut raw,
            &["MOVE", "m", "16"],
            "ERR DB index is out of range",
        );
        err(
            &mut raw,
            &["MOVE", "m", "x"],
            "ERR value is not an integer or out of range",
        );
        err(
            &mut raw,
            &["MOVE", "m", "99999999999"],
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        );
        rt(&mut raw, &["MOVE", "nokey", "1"], ":0\r\n");
        rt(&mut raw, &["PEXPIRE", "m", "100000"], ":1\r\n");
        rt(&mut raw, &["MOVE", "m", "1"], ":1\r\n");
        rt(&mut raw, &["EXISTS", "m"], ":0\r\n");
        rt(&mut raw, &["SELECT", "1"], "+OK\r\n");
        rt(&mut raw, &["GET", "m"], "$1\r\n1\r\n");
        rt(&mut raw, &["EXPIRE", "m", "200", "GT"], ":1\r\n");
        rt(&mut raw, &["SELECT", "0"], "+OK\r\n");
        rt(&mut raw, &["SET", "m", "2"], "+OK\r\n");
        rt(&mut raw, &["MOVE", "m", "1"], ":0\r\n");
        rt(&mut raw, &["GET", "m"], "$1\r\n2\r\n");
        rt(&mut raw, &["SELECT", "1"], "+OK\r\n");
        rt(&mut raw, &["GET", "m"], "$1\r\n1\r\n");
        rt(&mut raw, &["TTL", "m"], ":200\r\n");
    }
}

#[test]
fn object_and_memory() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut raw = s.raw();
        err(
            &mut raw,
            &["OBJECT"],
            "ERR wrong number of arguments for 'object' command",
        );
        err(
            &mut raw,
            &["OBJECT", "foo"],
            "ERR unknown subcommand 'foo'. Try OBJECT HELP.",
        );
        err(
            &mut raw,
            &["object", "foo", "k"],
            "ERR unknown subcommand 'foo'. Try OBJECT HELP.",
        );
        err(
            &mut raw,
            &["OBJECT", "encoding"],
            "ERR wrong number of arguments for 'object|encoding' command",
        );
        err(
            &mut raw,
            &["OBJECT", "ENCODING", "k", "x"],
            "ERR wrong number of arguments for 'object|encoding' command",
        );
        err(
            &mut raw,
            &["OBJECT", "help", "x"],
            "ERR wrong number of arguments for 'object|help' command",
        );
        for sub in ["encoding", "freq", "idletime", "refcount"] {
            rt(&mut raw, &["OBJECT", sub, "nokey"], "$-1\r\n");
        }
        rt(&mut raw, &["SET", "i", "5"], "+OK\r\n");
        rt(&mut raw, &["SET", "big", "10000"], "+OK\r\n");
        rt(&mut raw, &["SET", "s", "hello"], "+OK\r\n");
        rt(&mut raw, &["SET", "r", &"x".repeat(45)], "+OK\r\n");
        rt(&mut raw, &["OBJECT", "ENCODING", "i"], "$3\r\nint\r\n");
        rt(&mut raw, &["OBJECT", "encoding", "s"], "$6\r\nembstr\r\n");
        rt(&mut raw, &["OBJECT", "encoding", "r"], "$3\r\nraw\r\n");
        rt(&mut raw, &["OBJECT", "refcount", "i"], ":2147483647\r\n");
        rt(&mut raw, &["OBJECT", "refcount", "big"], ":1\r\n");
        rt(&mut raw, &["OBJECT", "refcount", "s"], ":1\r\n");
        err(&mut raw, &["OBJECT", "freq", "s"], "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        rt(&mut raw, &["OBJECT", "idletime", "s"], ":0\r\n");
        let help = [
            "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "ENCODING <key>",
            "    Return the kind of internal representation used in order to store the value",
            "    associated with a <key>.",
            "FREQ <key>",
            "    Return the access frequency index of the <key>. The returned integer is",
            "    proportional to the logarithm of the recent access frequency of the key.",
            "IDLETIME <key>",
            "    Return the idle time of the <key>, that is the approximated number of",
            "    seconds elapsed since the last access to the key.",
            "REFCOUNT <key>",
            "    Return the number of references of the value associated with the specified",
            "    <key>.",
            "HELP",
            "    Prints this help.",
        ];
        let want: String = format!("*{}\r\n", help.len())
            + &help.iter().map(|l| format!("+{l}\r\n")).collect::<String>();
        rt(&mut raw, &["OBJECT", "HELP"], &want);

        err(
            &mut raw,
            &["MEMORY"],
            "ERR wrong number of arguments for 'memory' command",
        );
        err(
            &mut raw,
            &["MEMORY", "foo"],
            "ERR unknown subcommand 'foo'. Try MEMORY HELP.",
        );
        err(
            &mut raw,
            &["MEMORY", "usage"],
            "ERR wrong number of arguments for 'memory|usage' command",
        );
        err(
            &mut raw,
            &["MEMORY", "help", "x"],
            "ERR wrong number of arguments for 'memory|help' command",
        );
        err(
            &mut raw,
            &["MEMORY", "usage", "s", "samples", "-1"],
            "ERR syntax error",
        );
        err(
            &mut raw,
            &["MEMORY", "usage", "s", "samples", "x"],
            "ERR value is not an integer or out of range",
        );
        err(
            &mut raw,
            &["MEMORY", "usage", "s", "samples"],
            "ERR syntax error",
        );
        err(
            &mut raw,
            &["MEMORY", "usage", "s", "foo"],
            "ERR syntax error",
        );
        rt(&mut raw, &["MEMORY", "usage", "nokey"], "$-1\r\n");
        rt(&mut raw, &["MEMORY", "PURGE"], "+OK\r\n");
        drop(raw);

        let mut c = s.conn();
        let small = int(&mut c, &["MEMORY", "USAGE", "s"]);
        let big = int(&mut c, &["MEMORY", "USAGE", "r", "SAMPLES", "0"]);
        assert!(small > 5 && small < 100, "{small}");
        assert_eq!(big - small, 40, "usage grows with the value");
        let lines: Vec<String> = q(&mut c, &["MEMORY", "HELP"]);
        assert_eq!(lines.len(), 14);
        assert_eq!(lines[9], "USAGE <key> [SAMPLES <count>]");
    }
}

#[test]
fn object_idletime_counts_seconds_since_access() {
    let s = Server::start(4, &[]);
    let mut c = s.conn();
    let _: () = q(&mut c, &["SET", "idle", "v"]);
    let _: () = q(&mut c, &["SET", "busy", "v"]);
    std::thread::sleep(Duration::from_millis(2300));
    let _: Option<String> = q(&mut c, &["GET", "busy"]);
    let idle = int(&mut c, &["OBJECT", "IDLETIME", "idle"]);
    assert!((2..=3).contains(&idle), "{idle}");
    // OBJECT itself does not count as an access.
    assert_eq!(int(&mut c, &["OBJECT", "IDLETIME", "idle"]), idle);
    assert_eq!(int(&mut c, &["OBJECT", "IDLETIME", "busy"]), 0);
}

#[test]
fn keys_flushdb_swapdb() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for i in 0..100 {
            let _: () = q(&mut c, &["SET", &format!("user:{i}"), "v"]);
        }
        for i in 0..10 {
            let _: () = q(&mut c, &["SET", &format!("other:{i}"), "v"]);
        }
        let mut all: Vec<String> = q(&mut c, &["KEYS", "*"]);
        all.sort();
        assert_eq!(all.len(), 110);
        let users: Vec<String> = q(&mut c, &["KEYS", "user:*"]);
        assert_eq!(users.len(), 100);
        let one: Vec<String> = q(&mut c, &["KEYS", "other:7"]);
        assert_eq!(one, vec!["other:7".to_string()]);
        let none: Vec<String> = q(&mut c, &["KEYS", "nomatch*"]);
        assert!(none.is_empty());
        // Expired keys are not listed.
        assert_eq!(int(&mut c, &["PEXPIRE", "other:1", "1"]), 1);
        std::thread::sleep(Duration::from_millis(5));
        let others: Vec<String> = q(&mut c, &["KEYS", "other:*"]);
        assert_eq!(others.len(), 9);
        // KEYS does not reclaim it (Redis 7.0's keyIsExpired); a read does.
        assert_eq!(get(&mut c, "other:1"), None);

        // SWAPDB: db 0 <-> db 5, seen by this and other connections.
        let _: () = q(&mut c, &["SELECT", "5"]);
        let _: () = q(&mut c, &["SET", "five", "5"]);
        let _: () = q(&mut c, &["SWAPDB", "0", "5"]);
        assert_eq!(int(&mut c, &["DBSIZE"]), 109);
        assert_eq!(get(&mut c, "user:3").as_deref(), Some("v"));
        let mut c2 = s.conn();
        assert_eq!(int(&mut c2, &["DBSIZE"]), 1);
        assert_eq!(get(&mut c2, "five").as_deref(), Some("5"));
        let _: () = q(&mut c2, &["SWAPDB", "5", "0"]);
        assert_eq!(int(&mut c2, &["DBSIZE"]), 109);
        let _: () = q(&mut c2, &["SWAPDB", "3", "3"]);

        let mut raw = s.raw();
        err(
            &mut raw,
            &["SWAPDB", "0", "x"],
            "ERR invalid second DB index",
        );
        err(
            &mut raw,
            &["SWAPDB", "x", "0"],
            "ERR invalid first DB index",
        );
        err(
            &mut raw,
            &["SWAPDB", "16", "x"],
            "ERR invalid second DB index",
        );
        err(
            &mut raw,
            &["SWAPDB", "99999999999", "0"],
            "ERR invalid first DB index",
        );
        err(
            &mut raw,
            &["SWAPDB", "0", "16"],
            "ERR DB index is out of range",
        );
        err(
            &mut raw,
            &["SWAPDB", "-1", "0"],
            "ERR DB index is out of range",
        );
        err(
            &mut raw,
            &["SWAPDB", "0"],
            "ERR wrong number of arguments for 'swapdb' command",
        );
        err(
            &mut raw,
            &["KEYS"],
            "ERR wrong number of arguments for 'keys' command",
        );
        err(
            &mut raw,
            &["KEYS", "a", "b"],
            "ERR wrong number of arguments for 'keys' command",
        );
        err(&mut raw, &["FLUSHDB", "x"], "ERR syntax error");
        err(&mut raw, &["FLUSHDB", "sync", "x"], "ERR syntax error");
        rt(&mut raw, &["SELECT", "5"], "+OK\r\n");
        rt(&mut raw, &["FLUSHDB", "ASYNC"], "+OK\r\n");
        rt(&mut raw, &["DBSIZE"], ":0\r\n");
        rt(&mut raw, &["SELECT", "0"], "+OK\r\n");
        rt(&mut raw, &["DBSIZE"], ":109\r\n");
        rt(&mut raw, &["FLUSHDB", "sync"], "+OK\r\n");
        rt(&mut raw, &["DBSIZE"], ":0\r\n");
        rt(&mut raw, &["KEYS", "*"], "*0\r\n");
        rt(&mut raw, &["FLUSHDB"], "+OK\r\n");
    }
}

/// Runs a full SCAN with `extra` options; returns every key it returned and the number of calls.
fn scan_all(
    c: &mut Connection,
    extra: &[&str],
    mut between: impl FnMut(usize),
) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut keys = Vec::new();
    let mut calls = 0;
    loop {
        let mut args = vec!["SCAN", cursor.as_str()];
        args.extend_from_slice(extra);
        let (next, batch): (String, Vec<String>) = q(c, &args);
        keys.extend(batch);
        calls += 1;
        assert!(calls < 100_000, "SCAN does not terminate");
        between(calls);
        if next == "0" {
            return (keys, calls);
        }
        cursor = next;
    }
}

#[test]
fn scan_is_complete_while_keys_are_added() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        let mut p = redis::pipe();
        for i in 0..5000 {
            p.cmd("SET").arg(format!("scan:{i}")).arg("v").ignore();
        }
        let _: () = p.query(&mut c).unwrap();
        let mut writer = s.conn();
        let mut next = 0;
        let (keys, calls) = scan_all(&mut c, &["COUNT", "50"], |_| {
            // Grow every shard's table between calls (forcing segment splits mid-scan).
            let mut p = redis::pipe();
            for _ in 0..60 {
                p.cmd("SET").arg(format!("new:{next}")).arg("v").ignore();
                next += 1;
            }
            let _: () = p.query(&mut writer).unwrap();
        });
        let seen: HashSet<&String> = keys.iter().collect();
        for i in 0..5000 {
            assert!(
                seen.contains(&format!("scan:{i}")),
                "missed scan:{i} ({shards} shards)"
            );
        }
        assert!(
            calls >= 5000 / 60,
            "COUNT is honoured roughly: {calls} calls"
        );
        // A plain full scan returns each key once when nothing changes.
        let (keys, _) = scan_all(&mut c, &[], |_| {});
        let total = int(&mut c, &["DBSIZE"]) as usize;
        let unique: HashSet<&String> = keys.iter().collect();
        assert_eq!(unique.len(), total);
        assert_eq!(keys.len(), total, "no duplicates without concurrent writes");
    }
}

#[test]
fn scan_options_filters_and_errors() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for i in 0..300 {
            let _: () = q(&mut c, &["SET", &format!("a:{i}"), "v"]);
            let _: () = q(&mut c, &["SET", &format!("b:{i}"), "v"]);
        }
        for i in 0..50 {
            assert_eq!(int(&mut c, &["PEXPIRE", &format!("a:{i}"), "1"]), 1);
        }
        std::thread::sleep(Duration::from_millis(5));
        let (keys, _) = scan_all(&mut c, &["MATCH", "a:*", "COUNT", "7"], |_| {});
        let set: HashSet<String> = keys.into_iter().collect();
        let want: HashSet<String> = (50..300).map(|i| format!("a:{i}")).collect();
        assert_eq!(set, want, "MATCH filters and expired keys are skipped");
        let (keys, _) = scan_all(&mut c, &["TYPE", "STRING"], |_| {});
        assert_eq!(keys.len(), 550);
        let (keys, _) = scan_all(&mut c, &["type", "list", "match", "*"], |_| {});
        assert!(keys.is_empty());
        // An empty db still finishes with cursor 0.
        let _: () = q(&mut c, &["SELECT", "9"]);
        let (keys, calls) = scan_all(&mut c, &[], |_| {});
        assert!(keys.is_empty() && calls <= shards);

        let mut raw = s.raw();
        err(
            &mut raw,
            &["SCAN"],
            "ERR wrong number of arguments for 'scan' command",
        );
        err(&mut raw, &["SCAN", "x"], "ERR invalid cursor");
        err(&mut raw, &["SCAN", " 1"], "ERR invalid cursor");
        err(&mut raw, &["SCAN", "1x"], "ERR invalid cursor");
        err(
            &mut raw,
            &["SCAN", "18446744073709551616"],
            "ERR invalid cursor",
        );
        err(&mut raw, &["SCAN", "0", "COUNT", "0"], "ERR syntax error");
        err(&mut raw, &["SCAN", "0", "COUNT", "-1"], "ERR syntax error");
        err(
            &mut raw,
            &["SCAN", "0", "COUNT", "x"],
            "ERR value is not an integer or out of range",
        );
        err(&mut raw, &["SCAN", "0", "MATCH"], "ERR syntax error");
        err(&mut raw, &["SCAN", "0", "TYPE"], "ERR syntax error");
        err(&mut raw, &["SCAN", "0", "foo", "bar"], "ERR syntax error");
        // A cursor beyond every shard ends the iteration.
        rt(
            &mut raw,
            &["SCAN", "18446744073709551615"],
            "*2\r\n$1\r\n0\r\n*0\r\n",
        );
        rt(&mut raw, &["SELECT", "9"], "+OK\r\n");
        rt(&mut raw, &["SET", "only", "v"], "+OK\r\n");
        if shards == 1 {
            rt(
                &mut raw,
                &["SCAN", "0"],
                "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n",
            );
            rt(
                &mut raw,
                &["SCAN", ""],
                "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n",
            );
        }
    }
}
