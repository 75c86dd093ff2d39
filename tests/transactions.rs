//! Transactions: MULTI / EXEC / DISCARD / WATCH / UNWATCH.
//!
//! - `scenarios_match_redis`: scripted sessions of one or more clients. Every reply is compared
//!   byte for byte with the reply written in the script, which was taken from redis-server 7.0.15;
//!   when redis-server is on PATH the same scripts also run against it, so an expectation that
//!   drifted from Redis shows as a mismatch too. shoal runs them with --shards 1 and --shards 4.
//! - Pipelined transactions in one write, COMMAND INFO, EXEC with arguments: raw bytes, same
//!   scheme.
//! - Under --shards 4 (shoal only where the check is shoal's own): isolation of transfers between
//!   accounts on every shard against readers in MULTI and MGET, WATCH-based optimistic counters on
//!   one and on two shards, clients that vanish mid-transaction, and the INFO counters of the two
//!   EXEC paths (`shoal_exec_single_shard`, `shoal_exec_multi_shard`).

mod common;
use common::{crc16, read_reply, resp, shard_of, RedisServer, Server};

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

// --- key routing (common::shard_of, independent of shoal's code) against CLUSTER KEYSLOT --------

#[test]
fn key_routing_matches_redis_cluster_keyslot() {
    // CLUSTER KEYSLOT values from a real Redis.
    assert_eq!(crc16(b"123456789"), 0x31C3);
    assert_eq!(crc16(b"foo") % 16384, 12182);
    assert_eq!(crc16(b"bar") % 16384, 5061);
    assert_eq!(shard_of("{foo}bar", 16384), 12182);
    assert_eq!(shard_of("x{}y", 16384), crc16(b"x{}y") as usize % 16384);
}

// --- raw RESP connection ----------------------------------------------------------------------

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        let w = TcpStream::connect(("127.0.0.1", port))?;
        w.set_read_timeout(Some(Duration::from_secs(5)))?;
        w.set_nodelay(true)?;
        Ok(Conn {
            r: BufReader::new(w.try_clone()?),
            w,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.w.write_all(bytes)
    }

    fn reply(&mut self) -> std::io::Result<Vec<u8>> {
        read_reply(&mut self.r)
    }

    /// Sends one command given as words and reads its reply.
    fn call(&mut self, line: &str) -> std::io::Result<Vec<u8>> {
        let args = words(line);
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.send(&resp(&argv))?;
        self.reply()
    }

    /// As `call`, panicking on an I/O error (a hung or dead server).
    fn must(&mut self, line: &str) -> Vec<u8> {
        self.call(line)
            .unwrap_or_else(|e| panic!("{line:?}: no reply: {e}"))
    }
}

/// Words separated by spaces; `""` is the empty word.
fn words(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w == "\"\"" {
                Vec::new()
            } else {
                w.as_bytes().to_vec()
            }
        })
        .collect()
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// The elements of a flat array of bulk strings / integers / nulls, as integers (None: null).
fn ints_of_array(reply: &[u8]) -> Vec<Option<i64>> {
    let text = String::from_utf8_lossy(reply);
    let mut lines = text.split("\r\n");
    let head = lines.next().unwrap_or("");
    assert!(head.starts_with('*'), "not an array: {}", show(reply));
    let mut v = Vec::new();
    while let Some(l) = lines.next() {
        if l.is_empty() {
            continue;
        }
        if let Some(n) = l.strip_prefix(':') {
            v.push(Some(n.parse().expect("int")));
        } else if l == "$-1" || l == "_" {
            v.push(None);
        } else if l.starts_with('$') {
            let body = lines.next().unwrap_or("");
            v.push(Some(
                body.parse()
                    .unwrap_or_else(|_| panic!("not an integer: {}", show(reply))),
            ));
        } else {
            panic!("unexpected element {l:?} in {}", show(reply));
        }
    }
    v
}

// --- scripted scenarios -----------------------------------------------------------------------

/// (client, command, expected raw reply). The client is a name; its connection opens at its first
/// step. Commands: words (see `words`), or `sleep MS`, or `close` (drop that client's socket).
/// An expected reply of `?` is not checked (HELLO's client id).
type Step = (&'static str, &'static str, &'static str);

const OK: &str = "+OK\r\n";
const QUEUED: &str = "+QUEUED\r\n";
const NIL_ARRAY: &str = "*-1\r\n";
const EXECABORT: &str = "-EXECABORT Transaction discarded because of previous errors.\r\n";
const NO_MULTI: &str = "-ERR Command not allowed inside a transaction\r\n";

/// A WATCH scenario: `a` sets up with `pre`, watches k, `b` runs `mods`, then `a` runs an empty
/// transaction (PING) whose EXEC is `want`.
fn watch_case(pre: &[&'static str], mods: &[&'static str], aborts: bool) -> Vec<Step> {
    let mut v: Vec<Step> = pre.iter().map(|c| ("a", *c, "?")).collect();
    v.push(("a", "WATCH k", OK));
    v.extend(mods.iter().map(|c| ("b", *c, "?")));
    v.push(("a", "MULTI", OK));
    v.push(("a", "PING", QUEUED));
    v.push((
        "a",
        "EXEC",
        if aborts { NIL_ARRAY } else { "*1\r\n+PONG\r\n" },
    ));
    v
}

fn scenarios() -> Vec<(&'static str, Vec<Step>)> {
    let mut v: Vec<(&'static str, Vec<Step>)> = vec![
        (
            "queue and exec in order",
            vec![
                ("a", "MULTI", OK),
                ("a", "SET a 1", QUEUED),
                ("a", "INCR a", QUEUED),
                ("a", "GET a", QUEUED),
                ("a", "GET nosuch", QUEUED),
                ("b", "GET a", "$-1\r\n"),
                ("a", "EXEC", "*4\r\n+OK\r\n:2\r\n$1\r\n2\r\n$-1\r\n"),
                ("b", "GET a", "$1\r\n2\r\n"),
            ],
        ),
        (
            "keys on every shard in one transaction",
            vec![
                ("a", "SET s abc", OK),
                ("a", "MULTI", OK),
                ("a", "SET a 1", QUEUED),
                ("a", "SET b 2", QUEUED),
                ("a", "INCR c", QUEUED),
                ("a", "INCRBY d 4", QUEUED),
                ("a", "MSET {a}x 1 {b}x 2 {c}x 3 {d}x 4", QUEUED),
                ("a", "MGET a b c d {a}x {b}x {c}x {d}x nosuch", QUEUED),
                ("a", "DEL a {b}x s nosuch", QUEUED),
                ("a", "EXISTS a b c d s", QUEUED),
                ("b", "MGET a b c d", "*4\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"),
                (
                    "a",
                    "EXEC",
                    "*8\r\n+OK\r\n+OK\r\n:1\r\n:4\r\n+OK\r\n*9\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$-1\r\n:3\r\n:3\r\n",
                ),
                ("b", "MGET a b c d", "*4\r\n$-1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n4\r\n"),
            ],
        ),
        ("empty transaction", vec![("a", "MULTI", OK), ("a", "EXEC", "*0\r\n")]),
        (
            "discard drops the queue",
            vec![
                ("a", "MULTI", OK),
                ("a", "SET x 1", QUEUED),
                ("a", "SET {a}y 1", QUEUED),
                ("a", "DISCARD", OK),
                ("a", "MGET x {a}y", "*2\r\n$-1\r\n$-1\r\n"),
                ("a", "DISCARD", "-ERR DISCARD without MULTI\r\n"),
                ("a", "EXEC", "-ERR EXEC without MULTI\r\n"),
                ("a", "SET x 2", OK),
                ("a", "GET x", "$1\r\n2\r\n"),
            ],
        ),
        (
            "errors outside a transaction",
            vec![
                ("a", "EXEC", "-ERR EXEC without MULTI\r\n"),
                ("a", "DISCARD", "-ERR DISCARD without MULTI\r\n"),
                ("a", "UNWATCH", OK),
                ("a", "WATCH", "-ERR wrong number of arguments for 'watch' command\r\n"),
                ("a", "MULTI x", "-ERR wrong number of arguments for 'multi' command\r\n"),
                ("a", "DISCARD x", "-ERR wrong number of arguments for 'discard' command\r\n"),
                ("a", "UNWATCH x", "-ERR wrong number of arguments for 'unwatch' command\r\n"),
                ("a", "multi", OK),
                ("a", "set a 1", QUEUED),
                ("a", "exec", "*1\r\n+OK\r\n"),
            ],
        ),
        (
            "nested MULTI is refused without aborting",
            vec![
                ("a", "MULTI", OK),
                ("a", "MULTI", "-ERR MULTI calls can not be nested\r\n"),
                ("a", "SET a 1", QUEUED),
                ("a", "EXEC", "*1\r\n+OK\r\n"),
                ("a", "MULTI", OK),
                ("a", "MULTI", "-ERR MULTI calls can not be nested\r\n"),
                ("a", "DISCARD", OK),
            ],
        ),
        (
            "WATCH inside MULTI is refused without aborting",
            vec![
                ("a", "MULTI", OK),
                ("a", "WATCH a", "-ERR WATCH inside MULTI is not allowed\r\n"),
                ("a", "SET a 1", QUEUED),
                ("a", "EXEC", "*1\r\n+OK\r\n"),
            ],
        ),
        (
            "rejected while queueing: EXECABORT",
            vec![
                ("a", "SET a 0", OK),
                ("a", "MULTI", OK),
                ("a", "INCR a", QUEUED),
                ("a", "FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n"),
                (
                    "a",
                    "FOO bar \"\"",
                    "-ERR unknown command 'FOO', with args beginning with: 'bar' '' \r\n",
                ),
                ("a", "SET a", "-ERR wrong number of arguments for 'set' command\r\n"),
                ("a", "GET", "-ERR wrong number of arguments for 'get' command\r\n"),
                ("a", "SET b 1", QUEUED),
                ("a", "EXEC", EXECABORT),
                ("a", "MGET a b", "*2\r\n$1\r\n0\r\n$-1\r\n"),
                ("a", "EXEC", "-ERR EXEC without MULTI\r\n"),
            ],
        ),
        (
            "whole-keyspace and database commands inside MULTI",
            vec![
                ("a", "MULTI", OK),
                ("a", "SET a 1", QUEUED),
                ("a", "SET b 2", QUEUED),
                ("a", "DBSIZE", QUEUED),
                ("a", "FLUSHDB", QUEUED),
                ("a", "DBSIZE", QUEUED),
                ("a", "SET c 3", QUEUED),
                ("a", "KEYS *", QUEUED),
                ("a", "EXISTS a b c", QUEUED),
                ("a", "SWAPDB 0 1", QUEUED),
                ("a", "DBSIZE", QUEUED),
                ("a", "SELECT 1", QUEUED),
                ("a", "GET c", QUEUED),
                ("a", "RENAME c d", QUEUED),
                ("a", "COPY d a DB 0", QUEUED),
                ("a", "MOVE d 0", QUEUED),
                ("a", "SELECT 0", QUEUED),
                ("a", "MGET a b c d", QUEUED),
                (
                    "a",
                    "EXEC",
                    "*17\r\n+OK\r\n+OK\r\n:2\r\n+OK\r\n:0\r\n+OK\r\n*1\r\n$1\r\nc\r\n:1\r\n+OK\r\n:0\r\n+OK\r\n$1\r\n3\r\n+OK\r\n:1\r\n:1\r\n+OK\r\n*4\r\n$1\r\n3\r\n$-1\r\n$-1\r\n$1\r\n3\r\n",
                ),
                ("a", "DBSIZE", ":2\r\n"),
                ("a", "MULTI", OK),
                ("a", "FLUSHALL", QUEUED),
                ("a", "SET y 1", QUEUED),
                ("a", "ECHO hi", QUEUED),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*4\r\n+OK\r\n+OK\r\n$2\r\nhi\r\n+PONG\r\n"),
                ("a", "KEYS *", "*1\r\n$1\r\ny\r\n"),
            ],
        ),
        (
            "RENAME across shards inside MULTI",
            vec![
                ("a", "SET a 1", OK),
                ("a", "WATCH a b", OK),
                ("a", "MULTI", OK),
                ("a", "RENAME a b", QUEUED),
                ("a", "GET b", QUEUED),
                ("a", "RENAME a b", QUEUED),
                ("a", "EXEC", "*3\r\n+OK\r\n$1\r\n1\r\n-ERR no such key\r\n"),
            ],
        ),
        (
            "DISCARD clears the abort flag",
            vec![
                ("a", "MULTI", OK),
                ("a", "FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n"),
                ("a", "DISCARD", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
            ],
        ),
        (
            "failures while executing stay in their slot",
            vec![
                ("a", "SET s abc", OK),
                ("a", "MULTI", OK),
                ("a", "INCR s", QUEUED),
                ("a", "SET a 1 XX NX", QUEUED),
                ("a", "SET b 2", QUEUED),
                ("a", "INCRBY b x", QUEUED),
                ("a", "SET c 3 EX 0", QUEUED),
                ("a", "GET b", QUEUED),
                ("a", "INCRBYFLOAT s 1", QUEUED),
                ("a", "SET d 4", QUEUED),
                (
                    "a",
                    "EXEC",
                    "*8\r\n-ERR value is not an integer or out of range\r\n-ERR syntax error\r\n+OK\r\n-ERR value is not an integer or out of range\r\n-ERR invalid expire time in 'set' command\r\n$1\r\n2\r\n-ERR value is not a valid float\r\n+OK\r\n",
                ),
                ("a", "MGET s a b c d", "*5\r\n$3\r\nabc\r\n$-1\r\n$1\r\n2\r\n$-1\r\n$1\r\n4\r\n"),
            ],
        ),
        (
            "no-multi commands abort the transaction",
            vec![
                ("a", "MULTI", OK),
                ("a", "SET z 1", QUEUED),
                ("a", "SAVE", NO_MULTI),
                ("a", "SET y 1", QUEUED),
                ("a", "EXEC", EXECABORT),
                ("a", "MGET z y", "*2\r\n$-1\r\n$-1\r\n"),
                ("a", "MULTI", OK),
                ("a", "SHUTDOWN", NO_MULTI),
                ("a", "SHUTDOWN NOSAVE", NO_MULTI),
                ("a", "EXEC", EXECABORT),
                ("a", "PING", "+PONG\r\n"),
            ],
        ),
        (
            "SELECT inside MULTI",
            vec![
                ("a", "MULTI", OK),
                ("a", "SELECT 1", QUEUED),
                ("a", "SET q 1", QUEUED),
                ("a", "SELECT 0", QUEUED),
                ("a", "GET q", QUEUED),
                ("a", "SELECT 99", QUEUED),
                ("a", "SELECT x", QUEUED),
                ("a", "SELECT 2", QUEUED),
                ("a", "SET q 2", QUEUED),
                (
                    "a",
                    "EXEC",
                    "*8\r\n+OK\r\n+OK\r\n+OK\r\n$-1\r\n-ERR DB index is out of range\r\n-ERR value is not an integer or out of range\r\n+OK\r\n+OK\r\n",
                ),
                // The SELECT inside the transaction sticks.
                ("a", "GET q", "$1\r\n2\r\n"),
                ("a", "SELECT 1", OK),
                ("a", "GET q", "$1\r\n1\r\n"),
                ("b", "GET q", "$-1\r\n"),
            ],
        ),
        (
            "clients each have their own transaction",
            vec![
                ("a", "MULTI", OK),
                ("b", "MULTI", OK),
                ("a", "SET x a", QUEUED),
                ("b", "SET x b", QUEUED),
                ("a", "INCR n", QUEUED),
                ("b", "INCR n", QUEUED),
                ("c", "GET x", "$-1\r\n"),
                ("c", "MULTI", OK),
                ("c", "INCR n", QUEUED),
                ("b", "EXEC", "*2\r\n+OK\r\n:1\r\n"),
                ("a", "GET x", QUEUED),
                ("a", "EXEC", "*3\r\n+OK\r\n:2\r\n$1\r\na\r\n"),
                ("c", "DISCARD", OK),
                ("c", "MGET x n", "*2\r\n$1\r\na\r\n$1\r\n2\r\n"),
            ],
        ),
        (
            "WATCH basics",
            vec![
                ("a", "WATCH w", OK),
                ("b", "SET w 1", OK),
                ("a", "MULTI", OK),
                ("a", "SET w 2", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                ("a", "GET w", "$1\r\n1\r\n"),
                // A failed EXEC unwatched everything.
                ("b", "SET w 3", OK),
                ("a", "MULTI", OK),
                ("a", "GET w", QUEUED),
                ("a", "EXEC", "*1\r\n$1\r\n3\r\n"),
                // Several keys, over several calls, on several shards.
                ("a", "WATCH a b", OK),
                ("a", "WATCH c d w", OK),
                ("b", "SET d 1", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                ("a", "WATCH a b c d", OK),
                ("a", "MULTI", OK),
                ("a", "SET a 1", QUEUED),
                ("a", "SET c 1", QUEUED),
                ("a", "EXEC", "*2\r\n+OK\r\n+OK\r\n"),
                // The same key twice.
                ("a", "WATCH k k", OK),
                ("b", "SET k 1", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
            ],
        ),
        (
            "EXEC, DISCARD, EXECABORT and UNWATCH unwatch",
            vec![
                ("a", "WATCH k", OK),
                ("a", "MULTI", OK),
                ("a", "EXEC", "*0\r\n"),
                ("b", "SET k 1", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
                ("a", "WATCH k", OK),
                ("a", "MULTI", OK),
                ("a", "DISCARD", OK),
                ("b", "SET k 2", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
                ("a", "WATCH k", OK),
                ("a", "MULTI", OK),
                ("a", "FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n"),
                ("a", "EXEC", EXECABORT),
                ("b", "SET k 3", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
                ("a", "WATCH k", OK),
                ("b", "SET k 4", OK),
                ("a", "UNWATCH", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
            ],
        ),
        (
            "UNWATCH queued inside MULTI does not save the transaction",
            vec![
                ("a", "WATCH k", OK),
                ("a", "MULTI", OK),
                ("a", "UNWATCH", QUEUED),
                ("b", "SET k 1", OK),
                ("a", "SET k 2", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                ("a", "GET k", "$1\r\n1\r\n"),
            ],
        ),
        (
            "a change while the transaction is queued aborts it",
            vec![
                ("a", "SET k 0", OK),
                ("a", "WATCH k {k}other x", OK),
                ("a", "MULTI", OK),
                ("a", "INCR k", QUEUED),
                ("a", "SET x 1", QUEUED),
                ("b", "INCR k", ":1\r\n"),
                ("a", "EXEC", NIL_ARRAY),
                ("a", "MGET k x", "*2\r\n$1\r\n1\r\n$-1\r\n"),
            ],
        ),
        (
            "the watcher's own write aborts, its transaction's writes do not",
            vec![
                ("a", "WATCH k", OK),
                ("a", "SET k 1", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                ("a", "WATCH k", OK),
                ("a", "MULTI", OK),
                ("a", "SET k 5", QUEUED),
                ("a", "EXEC", "*1\r\n+OK\r\n"),
                ("a", "GET k", "$1\r\n5\r\n"),
            ],
        ),
        (
            "WATCH remembers the database",
            vec![
                ("a", "SELECT 1", OK),
                ("a", "WATCH k", OK),
                ("b", "SET k 1", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
                ("a", "WATCH k", OK),
                ("b", "SELECT 1", OK),
                ("b", "SET k 1", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                // Watched in db 1, then the watcher moves to db 0: still db 1's key.
                ("a", "WATCH k", OK),
                ("a", "SELECT 0", OK),
                ("b", "SET k 2", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
            ],
        ),
        (
            "RESP3: an aborted EXEC is a null",
            vec![
                ("a", "HELLO 3", "?"),
                ("a", "WATCH w", OK),
                ("b", "SET w 2", OK),
                ("a", "MULTI", OK),
                ("a", "GET w", QUEUED),
                ("a", "EXEC", "_\r\n"),
                ("a", "MULTI", OK),
                ("a", "GET w", QUEUED),
                ("a", "GET nosuch", QUEUED),
                ("a", "INCRBYFLOAT f 1.5", QUEUED),
                ("a", "FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n"),
                ("a", "EXEC", EXECABORT),
                ("a", "MULTI", OK),
                ("a", "GET w", QUEUED),
                ("a", "GET nosuch", QUEUED),
                ("a", "INCRBYFLOAT f 1.5", QUEUED),
                ("a", "EXEC", "*3\r\n$1\r\n2\r\n_\r\n$3\r\n1.5\r\n"),
                ("a", "HELLO 2", "?"),
                ("a", "WATCH w", OK),
                ("b", "SET w 3", OK),
                ("a", "MULTI", OK),
                ("a", "GET nosuch", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
            ],
        ),
        (
            "a client that goes away mid-transaction",
            vec![
                ("a", "WATCH k {b}x", OK),
                ("a", "MULTI", OK),
                ("a", "SET k a", QUEUED),
                ("a", "SET {b}x a", QUEUED),
                ("a", "close", ""),
                ("c", "WATCH k", OK),
                ("c", "close", ""),
                ("b", "WATCH k", OK),
                ("b", "MULTI", OK),
                ("b", "SET k b", QUEUED),
                ("b", "SET {b}x b", QUEUED),
                ("b", "EXEC", "*2\r\n+OK\r\n+OK\r\n"),
                ("d", "MGET k {b}x", "*2\r\n$1\r\nb\r\n$1\r\nb\r\n"),
                // b's watches still work as ever.
                ("b", "WATCH k", OK),
                ("d", "SET k d", OK),
                ("b", "MULTI", OK),
                ("b", "SET k b2", QUEUED),
                ("b", "EXEC", NIL_ARRAY),
                ("d", "GET k", "$1\r\nd\r\n"),
            ],
        ),
        (
            "a watched key that expires aborts",
            vec![
                ("a", "SET k 1", OK),
                ("a", "PEXPIRE k 150", ":1\r\n"),
                ("a", "WATCH k", OK),
                ("a", "sleep 250", ""),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                // Also when another client's read deleted it in the meantime.
                ("a", "SET k 1 PX 150", OK),
                ("a", "WATCH k", OK),
                ("a", "sleep 250", ""),
                ("b", "EXISTS k", ":0\r\n"),
                ("a", "MULTI", OK),
                ("a", "INCR k", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
                ("a", "EXISTS k", ":0\r\n"),
                // And when the server's own expiry cycle removed it.
                ("a", "SET k 1 PX 150", OK),
                ("a", "WATCH k", OK),
                ("a", "sleep 500", ""),
                ("b", "DBSIZE", ":0\r\n"),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
            ],
        ),
        (
            "a key already expired when watched",
            vec![
                ("a", "SET k 1 PX 5", OK),
                ("a", "sleep 50", ""),
                ("a", "WATCH k", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", "*1\r\n+PONG\r\n"),
                // ... but it being created again is a change.
                ("a", "SET k 1 PX 5", OK),
                ("a", "sleep 50", ""),
                ("a", "WATCH k", OK),
                ("b", "SET k 2", OK),
                ("a", "MULTI", OK),
                ("a", "PING", QUEUED),
                ("a", "EXEC", NIL_ARRAY),
            ],
        ),
    ];
    // Which changes to a watched key abort, and which do not (as redis-server 7.0.15 decides).
    let watch_cases: Vec<(&'static str, Vec<Step>)> = vec![
        (
            "WATCH: SET NX on an existing key",
            watch_case(&["SET k 1"], &["SET k 2 NX"], false),
        ),
        (
            "WATCH: SET XX on a missing key",
            watch_case(&[], &["SET k 2 XX"], false),
        ),
        (
            "WATCH: SET of the same value",
            watch_case(&["SET k 1"], &["SET k 1"], true),
        ),
        (
            "WATCH: DEL of a missing key",
            watch_case(&[], &["DEL k"], false),
        ),
        (
            "WATCH: a missing key created",
            watch_case(&[], &["SET k 1"], true),
        ),
        ("WATCH: DEL", watch_case(&["SET k 1"], &["DEL k"], true)),
        (
            "WATCH: GETDEL",
            watch_case(&["SET k 1"], &["GETDEL k"], true),
        ),
        ("WATCH: INCR", watch_case(&["SET k 1"], &["INCR k"], true)),
        (
            "WATCH: a failed INCR",
            watch_case(&["SET k abc"], &["INCR k"], false),
        ),
        (
            "WATCH: APPEND of nothing",
            watch_case(&["SET k 1"], &["APPEND k \"\""], true),
        ),
        (
            "WATCH: a read",
            watch_case(&["SET k 1"], &["GET k", "EXISTS k", "TTL k"], false),
        ),
        (
            "WATCH: FLUSHDB, key present",
            watch_case(&["SET k 1"], &["FLUSHDB"], true),
        ),
        (
            "WATCH: FLUSHDB, key missing",
            watch_case(&["SET j 1"], &["FLUSHDB"], false),
        ),
        (
            "WATCH: FLUSHALL, key present",
            watch_case(&["SET k 1"], &["FLUSHALL"], true),
        ),
        (
            "WATCH: FLUSHALL, key missing",
            watch_case(&["SET j 1"], &["FLUSHALL"], false),
        ),
        (
            "WATCH: FLUSHALL, key only in another db",
            watch_case(&["SELECT 1", "SET k 1", "SELECT 0"], &["FLUSHALL"], false),
        ),
        (
            "WATCH: RENAME onto it",
            watch_case(&["SET j 1"], &["RENAME j k"], true),
        ),
        (
            "WATCH: RENAME away",
            watch_case(&["SET k 1"], &["RENAME k j"], true),
        ),
        (
            "WATCH: RENAME onto itself",
            watch_case(&["SET k 1"], &["RENAME k k"], false),
        ),
        (
            "WATCH: EXPIRE",
            watch_case(&["SET k 1"], &["EXPIRE k 100"], true),
        ),
        (
            "WATCH: EXPIRE of a missing key",
            watch_case(&[], &["EXPIRE k 100"], false),
        ),
        (
            "WATCH: PERSIST, no TTL",
            watch_case(&["SET k 1"], &["PERSIST k"], false),
        ),
        (
            "WATCH: PERSIST",
            watch_case(&["SET k 1 EX 100"], &["PERSIST k"], true),
        ),
        (
            "WATCH: GETEX PERSIST",
            watch_case(&["SET k 1 EX 100"], &["GETEX k PERSIST"], true),
        ),
        (
            "WATCH: a write in another db",
            watch_case(&["SET k 1"], &["SELECT 1", "SET k 2"], false),
        ),
        (
            "WATCH: SWAPDB",
            watch_case(&["SET k 1"], &["SWAPDB 0 1"], true),
        ),
        (
            "WATCH: SWAPDB, key in neither",
            watch_case(&[], &["SWAPDB 0 1"], false),
        ),
        ("WATCH: MOVE", watch_case(&["SET k 1"], &["MOVE k 1"], true)),
        (
            "WATCH: COPY onto it",
            watch_case(&["SET j 1"], &["COPY j k"], true),
        ),
        (
            "WATCH: a failed MSETNX",
            watch_case(&["SET k 1"], &["MSETNX k 2 z 3"], false),
        ),
        (
            "WATCH: MSET across shards",
            watch_case(&[], &["MSET a 1 k 2 b 3"], true),
        ),
    ];
    v.extend(watch_cases);
    let more: Vec<(&'static str, Vec<Step>)> = vec![
        (
            "WATCH: SETRANGE of nothing",
            watch_case(&["SET k abc"], &["SETRANGE k 0 \"\""], false),
        ),
        (
            "WATCH: SETRANGE of the same bytes",
            watch_case(&["SET k abc"], &["SETRANGE k 0 a"], true),
        ),
        (
            "WATCH: SETRANGE of nothing, missing",
            watch_case(&[], &["SETRANGE k 0 \"\""], false),
        ),
        (
            "WATCH: GETEX without options",
            watch_case(&["SET k 1 EX 100"], &["GETEX k"], false),
        ),
        (
            "WATCH: EXPIRE GT without TTL",
            watch_case(&["SET k 1"], &["EXPIRE k 100 GT"], false),
        ),
        (
            "WATCH: PEXPIREAT in the past",
            watch_case(&["SET k 1"], &["PEXPIREAT k 1"], true),
        ),
        (
            "WATCH: SET KEEPTTL",
            watch_case(&["SET k 1 EX 100"], &["SET k 1 KEEPTTL"], true),
        ),
        (
            "WATCH: SETBIT 0 creates",
            watch_case(&[], &["SETBIT k 1 0"], true),
        ),
        (
            "WATCH: SETBIT to the same bit",
            watch_case(&["SET k a"], &["SETBIT k 1 1"], false),
        ),
        (
            "WATCH: BITOP of nothing onto it",
            watch_case(&["SET k a"], &["BITOP AND k no1 no2"], true),
        ),
        (
            "WATCH: BITOP of nothing, missing",
            watch_case(&[], &["BITOP AND k no1 no2"], false),
        ),
        (
            "WATCH: INCRBY 0",
            watch_case(&["SET k 1"], &["INCRBY k 0"], true),
        ),
        (
            "WATCH: DECR overflow",
            watch_case(&["SET k -9223372036854775808"], &["DECR k"], false),
        ),
        ("WATCH: MSETNX", watch_case(&[], &["MSETNX k 1 z 2"], true)),
        (
            "WATCH: a failed RENAMENX",
            watch_case(&["SET k 1", "SET j 2"], &["RENAMENX j k"], false),
        ),
        (
            "WATCH: a failed COPY",
            watch_case(&["SET k 1", "SET j 2"], &["COPY j k"], false),
        ),
        (
            "WATCH: TOUCH",
            watch_case(&["SET k 1"], &["TOUCH k"], false),
        ),
        (
            "WATCH: UNLINK",
            watch_case(&["SET k 1"], &["UNLINK k"], true),
        ),
        (
            "WATCH: GETSET of the same value",
            watch_case(&["SET k 1"], &["GETSET k 1"], true),
        ),
        (
            "WATCH: SETNX creates",
            watch_case(&[], &["SETNX k 1"], true),
        ),
        (
            "WATCH: APPEND of nothing creates",
            watch_case(&[], &["APPEND k \"\""], true),
        ),
        (
            "WATCH: SWAPDB brings it",
            watch_case(&["SELECT 1", "SET k 1", "SELECT 0"], &["SWAPDB 1 0"], true),
        ),
        (
            "WATCH: SWAPDB of other dbs",
            watch_case(&["SET k 1"], &["SWAPDB 2 3"], false),
        ),
        (
            "WATCH: FLUSHDB of another db",
            watch_case(&["SET k 1"], &["SELECT 3", "FLUSHDB"], false),
        ),
        (
            "WATCH: COPY into its database",
            watch_case(
                &["SELECT 1", "SET j 2", "SELECT 0"],
                &["SELECT 1", "COPY j k DB 0"],
                true,
            ),
        ),
    ];
    v.extend(more);

    v
}

/// Runs the scenarios against the server on `port`; returns the mismatches, labelled `who`.
fn run_scenarios(port: u16, who: &str, list: &[(&'static str, Vec<Step>)]) -> Vec<String> {
    let mut bad = Vec::new();
    for (name, steps) in list {
        let name = *name;
        let mut ctl = Conn::open(port).expect("connect");
        if ctl.call("FLUSHALL").ok().as_deref() != Some(b"+OK\r\n") {
            bad.push(format!("[{who}] {name}: FLUSHALL failed"));
            continue;
        }
        let mut conns: Vec<(&str, Conn)> = Vec::new();
        for (i, &(client, cmd, want)) in steps.iter().enumerate() {
            if let Some(ms) = cmd.strip_prefix("sleep ") {
                std::thread::sleep(Duration::from_millis(ms.parse().expect("sleep ms")));
                continue;
            }
            if cmd == "close" {
                conns.retain(|(c, _)| *c != client);
                continue;
            }
            if !conns.iter().any(|(c, _)| *c == client) {
                conns.push((client, Conn::open(port).expect("connect")));
            }
            let conn = conns
                .iter_mut()
                .find(|(c, _)| *c == client)
                .map(|(_, c)| c)
                .expect("connection");
            let got = match conn.call(cmd) {
                Ok(g) => g,
                Err(e) => {
                    bad.push(format!(
                        "[{who}] {name}, step {i} {client}: {cmd:?}: no reply: {e}"
                    ));
                    break;
                }
            };
            if want != "?" && got != want.as_bytes() {
                bad.push(format!(
                    "[{who}] {name}, step {i} {client}: {cmd:?}\n    want {}\n    got  {}",
                    show(want.as_bytes()),
                    show(&got)
                ));
            }
        }
        // Leave no client in a transaction or watching for the next scenario's FLUSHALL to trip.
        drop(conns);
    }
    bad
}

/// Runs `list` on shoal --shards 1, shoal --shards 4 and (if installed) redis-server, side by
/// side; fails with every mismatch.
fn check_scenarios(list: fn() -> Vec<(&'static str, Vec<Step>)>) {
    check_scenarios_with(list, &[]);
}

/// As `check_scenarios`, both servers started with the extra configuration `args`.
fn check_scenarios_with(list: fn() -> Vec<(&'static str, Vec<Step>)>, args: &[&str]) {
    let redis = RedisServer::start(args);
    let one = Server::start(1, args);
    let four = Server::start(4, args);
    // Keys the scripts expect on different shards under --shards 4.
    let spread: std::collections::HashSet<usize> = ["a", "b", "c", "d"]
        .iter()
        .map(|k| shard_of(k, 4))
        .collect();
    assert_eq!(spread.len(), 4, "a b c d should cover the 4 shards");
    assert_ne!(shard_of("k", 4), shard_of("{b}x", 4));
    // The three servers run the scripts side by side; each scenario is timed on its own server.
    let mut runs = vec![
        std::thread::spawn({
            let p = one.port;
            move || run_scenarios(p, "shoal --shards 1", &list())
        }),
        std::thread::spawn({
            let p = four.port;
            move || run_scenarios(p, "shoal --shards 4", &list())
        }),
    ];
    if let Some(r) = &redis {
        let p = r.port;
        runs.push(std::thread::spawn(move || {
            run_scenarios(p, "redis-server", &list())
        }));
    }
    let bad: Vec<String> = runs
        .into_iter()
        .flat_map(|h| h.join().expect("scenario thread"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} replies differ from Redis 7.0.15's:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn scenarios_match_redis() {
    check_scenarios(scenarios);
}

/// Redis rejects a container command's bad subcommand or arity while queueing (EXECABORT later),
/// as it does a top-level command's.
fn subcommand_scenarios() -> Vec<(&'static str, Vec<Step>)> {
    vec![(
        "subcommand errors are rejected while queueing",
        vec![
            ("a", "MULTI", OK),
            (
                "a",
                "OBJECT ENCODING",
                "-ERR wrong number of arguments for 'object|encoding' command\r\n",
            ),
            (
                "a",
                "OBJECT FOO",
                "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n",
            ),
            (
                "a",
                "CONFIG GET",
                "-ERR wrong number of arguments for 'config|get' command\r\n",
            ),
            ("a", "EXEC", EXECABORT),
            ("a", "MULTI", OK),
            ("a", "CONFIG GET maxmemory", QUEUED),
            ("a", "OBJECT ENCODING nosuch", QUEUED),
            ("a", "OBJECT FREQ nosuch", QUEUED),
            (
                "a",
                "EXEC",
                "*3\r\n*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n$-1\r\n$-1\r\n",
            ),
        ],
    )]
}

/// MOVE from another database onto the watched key creates it: Redis aborts the EXEC.
fn move_into_scenarios() -> Vec<(&'static str, Vec<Step>)> {
    vec![(
        "WATCH: MOVE into its database",
        watch_case(
            &["SELECT 1", "SET k 2", "SELECT 0"],
            &["SELECT 1", "MOVE k 0"],
            true,
        ),
    )]
}

#[test]
fn watch_sees_move_into_its_database() {
    check_scenarios(move_into_scenarios);
}

/// A key a write command only reads (COPY's and BITOP's source) is not changed: Redis does not
/// abort its watchers. The keys share a hashtag so that they share a shard under any --shards.
fn read_source_scenarios() -> Vec<(&'static str, Vec<Step>)> {
    let case = |pre: &'static str, cmd: &'static str| -> Vec<Step> {
        vec![
            ("a", pre, OK),
            ("a", "WATCH {t}k", OK),
            ("b", cmd, ":1\r\n"),
            ("a", "MULTI", OK),
            ("a", "PING", QUEUED),
            ("a", "EXEC", "*1\r\n+PONG\r\n"),
        ]
    };
    vec![
        ("WATCH: COPY from it", case("SET {t}k 1", "COPY {t}k {t}j")),
        (
            "WATCH: BITOP from it",
            case("SET {t}k a", "BITOP AND {t}d {t}k"),
        ),
        (
            "WATCH: SETNX of another key",
            case("SET {t}k a", "SETNX {t}j 1"),
        ),
    ]
}

#[test]
fn watch_ignores_read_sources_of_writes() {
    check_scenarios(read_source_scenarios);
}

/// A multi-key write touches only the watched keys it wrote: DEL of a missing watched key next to
/// a present one does not abort; MSET rewriting the same value does (Redis 7.0.15). Same hashtag,
/// so the keys share a shard under any --shards; the cross-shard form is checked too.
fn multi_key_write_scenarios() -> Vec<(&'static str, Vec<Step>)> {
    let case = |a: &'static str,
                k: &'static str,
                cmd: &'static str,
                reply: &'static str,
                aborts: bool|
     -> Vec<Step> {
        vec![
            ("a", "FLUSHALL", OK),
            ("a", a, OK),
            ("a", k, "?"),
            ("b", cmd, reply),
            ("a", "MULTI", OK),
            ("a", "PING", QUEUED),
            (
                "a",
                "EXEC",
                if aborts { NIL_ARRAY } else { "*1\r\n+PONG\r\n" },
            ),
        ]
    };
    vec![
        (
            "WATCH: DEL with a missing watched key",
            case("SET {t}a 1", "WATCH {t}b", "DEL {t}a {t}b", ":1\r\n", false),
        ),
        (
            "WATCH: DEL with a missing watched key, two shards",
            case("SET {x}a 1", "WATCH {y}b", "DEL {x}a {y}b", ":1\r\n", false),
        ),
        (
            "WATCH: DEL of a present watched key",
            case(
                "MSET {t}a 1 {t}b 2",
                "WATCH {t}b",
                "DEL {t}a {t}b",
                ":2\r\n",
                true,
            ),
        ),
        (
            "WATCH: MSET of the same value",
            case(
                "MSET {t}a 1 {t}b 2",
                "WATCH {t}b",
                "MSET {t}a 1 {t}b 2",
                OK,
                true,
            ),
        ),
    ]
}

#[test]
fn watch_sees_only_the_keys_a_multi_key_write_wrote() {
    check_scenarios(multi_key_write_scenarios);
}

#[test]
fn subcommand_errors_abort_like_redis() {
    check_scenarios(subcommand_scenarios);
}

/// Saving and reloading from inside a transaction. Redis answers a BGSAVE run by EXEC with
/// "scheduled" (it starts from its cron, after the transaction), and runs DEBUG RELOAD there.
fn persistence_scenarios() -> Vec<(&'static str, Vec<Step>)> {
    vec![
        (
            "BGSAVE inside MULTI",
            vec![
                ("a", "MULTI", OK),
                ("a", "SET a 1", QUEUED),
                ("a", "BGSAVE", QUEUED),
                ("a", "SET b 1", QUEUED),
                (
                    "a",
                    "EXEC",
                    "*3\r\n+OK\r\n+Background saving scheduled\r\n+OK\r\n",
                ),
                ("a", "sleep 500", ""),
                ("a", "MGET a b", "*2\r\n$1\r\n1\r\n$1\r\n1\r\n"),
            ],
        ),
        (
            "DEBUG RELOAD inside MULTI",
            vec![
                ("a", "MULTI", OK),
                ("a", "SET c 1", QUEUED),
                ("a", "DEBUG RELOAD", QUEUED),
                ("a", "GET c", QUEUED),
                ("a", "EXEC", "*3\r\n+OK\r\n+OK\r\n$1\r\n1\r\n"),
            ],
        ),
    ]
}

#[test]
fn persistence_commands_inside_multi_like_redis() {
    check_scenarios_with(persistence_scenarios, &["--enable-debug-command", "yes"]);
}

/// Transactions on every shard keep running while another client saves, swaps databases and
/// scans the keyspace, inside and outside MULTI: no hold of the coordinator waits forever on a
/// snapshot barrier or the other way round.
#[test]
fn transactions_alongside_saves_and_keyspace_commands() {
    let s = Server::start(4, &[]);
    let port = s.port;
    let mut c = Conn::open(port).expect("connect");
    assert_eq!(c.must("MSET a 100 b 100"), b"+OK\r\n");
    let deadline = Instant::now() + Duration::from_millis(1500);
    let workers: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || -> u64 {
                let mut c = Conn::open(port).expect("connect");
                let mut n = 0;
                while Instant::now() < deadline {
                    let mut req = resp(&[b"MULTI"]);
                    req.extend(resp(&[b"DECR", b"a"]));
                    req.extend(resp(&[b"INCR", b"b"]));
                    req.extend(resp(&[b"SET", format!("{{x}}{i}").as_bytes(), b"1"]));
                    req.extend(resp(&[b"MGET", b"a", b"b"]));
                    req.extend(resp(&[b"EXEC"]));
                    c.send(&req).expect("write");
                    for _ in 0..5 {
                        c.reply().expect("reply (a hang?)");
                    }
                    let exec = c.reply().expect("EXEC reply (a hang?)");
                    assert!(exec.starts_with(b"*4\r\n:"), "{}", show(&exec));
                    // The MGET inside the transaction (the last element) sees its moves whole.
                    let at = exec
                        .windows(4)
                        .rposition(|w| w == b"*2\r\n")
                        .unwrap_or_else(|| panic!("no MGET reply in {}", show(&exec)));
                    let ab = ints_of_array(&exec[at..]);
                    assert_eq!(ab.len(), 2, "{}", show(&exec));
                    assert_eq!(
                        ab[0].expect("a") + ab[1].expect("b"),
                        200,
                        "{}",
                        show(&exec)
                    );
                    n += 1;
                }
                n
            })
        })
        .collect();
    let admin = std::thread::spawn(move || -> u64 {
        let mut c = Conn::open(port).expect("connect");
        let mut rounds = 0;
        while Instant::now() < deadline {
            for cmd in [
                "BGSAVE",
                "SAVE",
                "DBSIZE",
                "KEYS {x}*",
                "SWAPDB 1 2",
                "MULTI",
                "SET {x}9 1",
                "BGSAVE",
                "DBSIZE",
                "SWAPDB 2 3",
                "EXEC",
                "SCAN 0 COUNT 100",
            ] {
                // Replies vary (a save already in progress...); only that they come matters.
                c.call(cmd)
                    .unwrap_or_else(|e| panic!("{cmd}: no reply (a hang?): {e}"));
            }
            rounds += 1;
        }
        rounds
    });
    let done: u64 = workers
        .into_iter()
        .map(|w| w.join().expect("worker panicked"))
        .sum();
    let rounds = admin.join().expect("admin panicked");
    assert!(
        done > 0 && rounds > 0,
        "{done} transactions, {rounds} admin rounds"
    );
    let ab = ints_of_array(&c.must("MGET a b"));
    assert_eq!(ab[0].expect("a") + ab[1].expect("b"), 200);
    println!("{done} transactions alongside {rounds} rounds of saves");
}

// --- raw byte checks --------------------------------------------------------------------------

/// Sends `req` in one write to each server and expects `want` back (and redis-server to agree).
fn same_bytes(req: &[u8], want: &[u8], servers: &[(u16, &str)]) {
    for &(port, who) in servers {
        let mut c = Conn::open(port).expect("connect");
        assert_eq!(c.call("FLUSHALL").expect("FLUSHALL"), b"+OK\r\n");
        c.send(req).expect("write");
        let mut got = vec![0u8; want.len()];
        let mut n = 0;
        let read = loop {
            match c.r.read(&mut got[n..]) {
                Ok(0) => break Err(std::io::Error::from(ErrorKind::UnexpectedEof)),
                Ok(k) => n += k,
                Err(e) => break Err(e),
            }
            if n == want.len() {
                break Ok(());
            }
        };
        got.truncate(n);
        assert!(
            read.is_ok() && got == want,
            "[{who}] request {}\n    want {}\n    got  {} ({read:?})",
            show(req),
            show(want),
            show(&got)
        );
        // Nothing more than expected.
        c.w.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let mut extra = [0u8; 64];
        match c.r.read(&mut extra) {
            Ok(0) => {}
            Ok(n) => panic!("[{who}] extra bytes: {}", show(&extra[..n])),
            Err(_) => {}
        }
    }
}

/// The servers to check, redis-server first: a wrong expectation shows as such.
fn targets(
    redis: &Option<RedisServer>,
    shoal: &[(&Server, &'static str)],
) -> Vec<(u16, &'static str)> {
    let mut v: Vec<(u16, &'static str)> = Vec::new();
    if let Some(r) = redis {
        v.push((r.port, "redis-server"));
    }
    v.extend(shoal.iter().map(|(s, n)| (s.port, *n)));
    v
}

#[test]
fn pipelined_transactions_in_one_write() {
    let redis = RedisServer::start(&[]);
    let one = Server::start(1, &[]);
    let four = Server::start(4, &[]);
    let servers = targets(
        &redis,
        &[(&one, "shoal --shards 1"), (&four, "shoal --shards 4")],
    );

    let mut req = Vec::new();
    for line in [
        "MULTI",
        "SET a 1",
        "INCR a",
        "SET b 2",
        "MGET a b c",
        "EXEC",
        "GET a",
        "MULTI",
        "FOO",
        "INCR a",
        "EXEC",
        "WATCH a",
        "SET a 10",
        "MULTI",
        "INCR a",
        "EXEC",
        "MULTI",
        "EXEC",
        "PING",
    ] {
        let w = words(line);
        let argv: Vec<&[u8]> = w.iter().map(|a| a.as_slice()).collect();
        req.extend(resp(&argv));
    }
    // Inline commands too, in the same write.
    req.extend_from_slice(b"MULTI\r\nINCR a\r\nINCR c\r\nEXEC\r\n");
    let want = concat!(
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n",
        "*4\r\n+OK\r\n:2\r\n+OK\r\n*3\r\n$1\r\n2\r\n$1\r\n2\r\n$-1\r\n",
        "$1\r\n2\r\n",
        "+OK\r\n-ERR unknown command 'FOO', with args beginning with: \r\n+QUEUED\r\n",
        "-EXECABORT Transaction discarded because of previous errors.\r\n",
        "+OK\r\n+OK\r\n+OK\r\n+QUEUED\r\n*-1\r\n",
        "+OK\r\n*0\r\n",
        "+PONG\r\n",
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:11\r\n:1\r\n",
    );
    same_bytes(&req, want.as_bytes(), &servers);

    // Many transactions over every shard, back to back in one write.
    const N: usize = 500;
    let mut req = Vec::new();
    let mut want = Vec::new();
    for i in 1..=N {
        req.extend(resp(&[b"MULTI"]));
        req.extend(resp(&[b"INCR", b"a"]));
        req.extend(resp(&[b"INCRBY", b"b", b"2"]));
        req.extend(resp(&[b"MSET", b"c", i.to_string().as_bytes(), b"d", b"x"]));
        req.extend(resp(&[b"EXEC"]));
        want.extend_from_slice(b"+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n");
        want.extend(format!("*3\r\n:{i}\r\n:{}\r\n+OK\r\n", 2 * i).into_bytes());
    }
    req.extend(resp(&[b"MGET", b"a", b"b", b"c", b"d"]));
    want.extend(
        format!(
            "*4\r\n${}\r\n{N}\r\n${}\r\n{}\r\n${}\r\n{N}\r\n$1\r\nx\r\n",
            N.to_string().len(),
            (2 * N).to_string().len(),
            2 * N,
            N.to_string().len()
        )
        .into_bytes(),
    );
    same_bytes(&req, &want, &servers);
}

#[test]
fn command_info_matches_redis() {
    let redis = RedisServer::start(&[]);
    let four = Server::start(4, &[]);
    let servers = targets(&redis, &[(&four, "shoal")]);
    let want = concat!(
        "*5\r\n",
        "*10\r\n$5\r\nmulti\r\n:1\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+allow_busy\r\n",
        ":0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n",
        "*10\r\n$4\r\nexec\r\n:1\r\n*4\r\n+noscript\r\n+loading\r\n+stale\r\n+skip_slowlog\r\n",
        ":0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n",
        "*10\r\n$7\r\ndiscard\r\n:1\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+allow_busy\r\n",
        ":0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n",
        "*10\r\n$5\r\nwatch\r\n:-2\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+allow_busy\r\n",
        ":1\r\n:-1\r\n:1\r\n*2\r\n+@fast\r\n+@transaction\r\n*0\r\n",
        "*1\r\n*6\r\n$5\r\nflags\r\n*1\r\n+RO\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n",
        "$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n",
        "$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n",
        "*10\r\n$7\r\nunwatch\r\n:1\r\n*5\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+allow_busy\r\n",
        ":0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@transaction\r\n*0\r\n*0\r\n*0\r\n",
    );
    same_bytes(
        &resp(&[
            b"COMMAND", b"INFO", b"multi", b"exec", b"discard", b"watch", b"unwatch",
        ]),
        want.as_bytes(),
        &servers,
    );
}

/// Redis 7.0 turns a rejected EXEC (here: wrong arity) into an EXECABORT that also discards an
/// open transaction, inside MULTI or not.
#[test]
fn exec_with_arguments_aborts_like_redis() {
    let redis = RedisServer::start(&[]);
    let four = Server::start(4, &[]);
    let servers = targets(&redis, &[(&four, "shoal")]);
    let abort = "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n";
    let mut req = resp(&[b"EXEC", b"x"]);
    req.extend(resp(&[b"MULTI"]));
    req.extend(resp(&[b"SET", b"a", b"1"]));
    req.extend(resp(&[b"EXEC", b"x"]));
    req.extend(resp(&[b"DISCARD"]));
    req.extend(resp(&[b"GET", b"a"]));
    let want = format!("{abort}+OK\r\n+QUEUED\r\n{abort}-ERR DISCARD without MULTI\r\n$-1\r\n");
    same_bytes(&req, want.as_bytes(), &servers);
}

/// The command and error statistics a session of transaction errors leaves in INFO: Redis counts
/// an EXECABORT as a failed EXEC, a no-multi command as rejected, a nested MULTI as failed...
#[test]
fn info_commandstats_of_transactions_like_redis() {
    let redis = RedisServer::start(&[]);
    let four = Server::start(4, &[]);
    let servers = targets(&redis, &[(&four, "shoal")]);
    let want = [
        "cmdstat_exec:calls=4,rejected_calls=0,failed_calls=2",
        "cmdstat_multi:calls=6,rejected_calls=0,failed_calls=1",
        "cmdstat_discard:calls=3,rejected_calls=0,failed_calls=1",
        "cmdstat_watch:calls=2,rejected_calls=1,failed_calls=1",
        "cmdstat_unwatch:calls=1,rejected_calls=0,failed_calls=0",
        "cmdstat_save:calls=0,rejected_calls=1,failed_calls=0",
        "cmdstat_incr:calls=1,rejected_calls=0,failed_calls=1",
        "errorstat_ERR:count=8",
        "errorstat_EXECABORT:count=1",
        "total_error_replies:9",
    ];
    for (port, who) in servers {
        let mut a = Conn::open(port).expect("connect");
        let mut b = Conn::open(port).expect("connect");
        a.must("SET s x");
        assert_eq!(a.must("CONFIG RESETSTAT"), b"+OK\r\n");
        for cmd in [
            "EXEC", "DISCARD", "MULTI", "FOO", "EXEC", "MULTI", "INCR s", "EXEC",
        ] {
            a.must(cmd);
        }
        a.must("WATCH a");
        b.must("SET a 1");
        for cmd in [
            "MULTI", "EXEC", "MULTI", "MULTI", "WATCH x", "DISCARD", "UNWATCH", "MULTI", "SAVE",
            "DISCARD", "WATCH",
        ] {
            a.must(cmd);
        }
        let info = String::from_utf8_lossy(&a.must("INFO all")).into_owned();
        let got: Vec<String> = want
            .iter()
            .map(|w| {
                let name = w.split(':').next().unwrap_or("");
                info.lines()
                    .find(|l| l.starts_with(&format!("{name}:")))
                    .map(|l| {
                        // Times vary: keep the counts.
                        l.split(',')
                            .filter(|f| !f.starts_with("usec"))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_else(|| format!("{name}: <missing>"))
            })
            .collect();
        assert_eq!(
            got, want,
            "[{who}] INFO after a session of transaction errors"
        );
    }
}

// --- INFO counters of the two EXEC paths (shoal only) -------------------------------------------

fn info_counter(c: &mut Conn, field: &str) -> u64 {
    let info = c.must("INFO stats");
    let text = String::from_utf8_lossy(&info);
    text.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("INFO stats has no {field}"))
        .trim()
        .parse()
        .expect("counter")
}

fn counters(c: &mut Conn) -> (u64, u64) {
    (
        info_counter(c, "shoal_exec_single_shard"),
        info_counter(c, "shoal_exec_multi_shard"),
    )
}

/// Two hashtags whose keys shoal puts on different shards of `shards`.
fn tags_on_different_shards(shards: usize) -> (String, String) {
    let first = "t0".to_string();
    let other = (1..100)
        .map(|i| format!("t{i}"))
        .find(|t| shard_of(t, shards) != shard_of(&first, shards))
        .expect("a tag on another shard");
    (first, other)
}

#[test]
fn info_counts_single_and_multi_shard_execs() {
    let s = Server::start(4, &[]);
    let mut c = Conn::open(s.port).expect("connect");
    let (x, y) = tags_on_different_shards(4);
    assert_ne!(
        shard_of(&format!("{{{x}}}a"), 4),
        shard_of(&format!("{{{y}}}b"), 4)
    );
    assert_eq!(counters(&mut c), (0, 0));

    let tx = |c: &mut Conn, cmds: &[String]| -> Vec<u8> {
        assert_eq!(c.must("MULTI"), b"+OK\r\n");
        for cmd in cmds {
            assert_eq!(c.must(cmd), b"+QUEUED\r\n", "{cmd}");
        }
        c.must("EXEC")
    };
    // One key, twice.
    assert_eq!(
        tx(&mut c, &["INCR a".into(), "INCR a".into()]),
        b"*2\r\n:1\r\n:2\r\n"
    );
    assert_eq!(counters(&mut c), (1, 0));
    // Two keys, one hashtag: one shard.
    let same = [format!("INCR {{{x}}}a"), format!("INCR {{{x}}}b")];
    assert_eq!(tx(&mut c, &same), b"*2\r\n:1\r\n:1\r\n");
    assert_eq!(counters(&mut c), (2, 0));
    // Two hashtags on different shards.
    let split = [format!("INCR {{{x}}}a"), format!("INCR {{{y}}}b")];
    assert_eq!(tx(&mut c, &split), b"*2\r\n:2\r\n:1\r\n");
    assert_eq!(counters(&mut c), (2, 1));
    // A watched key on another shard than the queued ones makes it a multi-shard EXEC too.
    assert_eq!(c.must(&format!("WATCH {{{y}}}w")), b"+OK\r\n");
    assert_eq!(tx(&mut c, &[format!("INCR {{{x}}}a")]), b"*1\r\n:3\r\n");
    assert_eq!(counters(&mut c), (2, 2));
    // Rejected transactions run nothing and count nowhere.
    assert_eq!(c.must("MULTI"), b"+OK\r\n");
    c.must("FOO");
    assert_eq!(c.must("EXEC"), EXECABORT.as_bytes());
    assert_eq!(counters(&mut c), (2, 2));

    // With one shard, everything is single-shard.
    let one = Server::start(1, &[]);
    let mut c = Conn::open(one.port).expect("connect");
    assert_eq!(tx(&mut c, &split), b"*2\r\n:1\r\n:1\r\n");
    assert_eq!(counters(&mut c), (1, 0));
}

// --- concurrency under --shards 4 -------------------------------------------------------------

/// Small deterministic PRNG (xorshift64*).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

const ACCOUNTS: usize = 8;
const BALANCE: i64 = 1000;

fn account(i: usize) -> String {
    format!("acct{i}")
}

/// Movers transfer random amounts between accounts in MULTI/DECRBY/INCRBY/EXEC while readers
/// read all accounts (in MULTI, or with MGET): every read must see the same total. Returns
/// (same-shard transfers, cross-shard transfers, reader transactions).
fn transfers_are_isolated(port: u16, run_for: Duration, shards: usize) -> (u64, u64, u64) {
    let mut c = Conn::open(port).expect("connect");
    let mut mset = String::from("MSET");
    for i in 0..ACCOUNTS {
        mset.push_str(&format!(" {} {BALANCE}", account(i)));
    }
    assert_eq!(c.must(&mset), b"+OK\r\n");
    let total = BALANCE * ACCOUNTS as i64;
    let stop = Arc::new(AtomicBool::new(false));
    let same = Arc::new(AtomicU64::new(0));
    let cross = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let read_txs = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for t in 0..8u64 {
        let (stop, same, cross) = (stop.clone(), same.clone(), cross.clone());
        threads.push(std::thread::spawn(move || {
            let mut c = Conn::open(port).expect("connect");
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((t + 1) * 0x1234_5678));
            while !stop.load(Ordering::Relaxed) {
                let from = rng.below(ACCOUNTS as u64) as usize;
                let to = (from + 1 + rng.below(ACCOUNTS as u64 - 1) as usize) % ACCOUNTS;
                let n = 1 + rng.below(50);
                let mut req = resp(&[b"MULTI"]);
                req.extend(resp(&[
                    b"DECRBY",
                    account(from).as_bytes(),
                    n.to_string().as_bytes(),
                ]));
                req.extend(resp(&[
                    b"INCRBY",
                    account(to).as_bytes(),
                    n.to_string().as_bytes(),
                ]));
                req.extend(resp(&[b"EXEC"]));
                c.send(&req).expect("write");
                for want in [OK, QUEUED, QUEUED] {
                    let got = c.reply().expect("mover reply");
                    assert_eq!(got, want.as_bytes(), "mover");
                }
                let exec = c.reply().expect("EXEC reply");
                let v = ints_of_array(&exec);
                assert_eq!(v.len(), 2, "EXEC: {}", show(&exec));
                if shard_of(&account(from), shards) == shard_of(&account(to), shards) {
                    same.fetch_add(1, Ordering::Relaxed);
                } else {
                    cross.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in 0..4u64 {
        let (stop, reads, read_txs) = (stop.clone(), reads.clone(), read_txs.clone());
        threads.push(std::thread::spawn(move || {
            let mut c = Conn::open(port).expect("connect");
            let keys: Vec<String> = (0..ACCOUNTS).map(account).collect();
            let in_multi = t % 2 == 0;
            while !stop.load(Ordering::Relaxed) {
                let reply = if in_multi {
                    let mut req = resp(&[b"MULTI"]);
                    for k in &keys {
                        req.extend(resp(&[b"GET", k.as_bytes()]));
                    }
                    req.extend(resp(&[b"EXEC"]));
                    c.send(&req).expect("write");
                    assert_eq!(c.reply().expect("MULTI"), b"+OK\r\n");
                    for _ in &keys {
                        assert_eq!(c.reply().expect("GET"), b"+QUEUED\r\n");
                    }
                    read_txs.fetch_add(1, Ordering::Relaxed);
                    c.reply().expect("EXEC reply")
                } else {
                    c.must(&format!("MGET {}", keys.join(" ")))
                };
                let v = ints_of_array(&reply);
                assert_eq!(v.len(), ACCOUNTS, "{}", show(&reply));
                let sum: i64 = v.iter().map(|x| x.expect("account missing")).sum();
                assert_eq!(
                    sum,
                    total,
                    "a reader ({}) saw a partial transfer: {}",
                    if in_multi { "MULTI/GET/EXEC" } else { "MGET" },
                    show(&reply)
                );
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    std::thread::sleep(run_for);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("worker panicked");
    }
    let reply = c.must(&format!(
        "MGET {}",
        (0..ACCOUNTS).map(account).collect::<Vec<_>>().join(" ")
    ));
    let sum: i64 = ints_of_array(&reply)
        .iter()
        .map(|x| x.expect("account"))
        .sum();
    assert_eq!(sum, total, "final balances {}", show(&reply));
    let (same, cross) = (same.load(Ordering::Relaxed), cross.load(Ordering::Relaxed));
    assert!(
        same + cross >= 100 && reads.load(Ordering::Relaxed) >= 50,
        "too little work to mean anything: {same} + {cross} transfers, {} reads",
        reads.load(Ordering::Relaxed)
    );
    (same, cross, read_txs.load(Ordering::Relaxed))
}

#[test]
fn transfers_across_shards_are_isolated() {
    let shards = 4;
    let covered: std::collections::HashSet<usize> = (0..ACCOUNTS)
        .map(|i| shard_of(&account(i), shards))
        .collect();
    assert_eq!(covered.len(), shards, "accounts should span every shard");
    let s = Server::start(shards, &[]);
    let mut c = Conn::open(s.port).expect("connect");
    let (single0, multi0) = counters(&mut c);
    let (same, cross, read_txs) = transfers_are_isolated(s.port, Duration::from_secs(2), shards);
    let (single1, multi1) = counters(&mut c);
    println!("shoal: {same} same-shard and {cross} cross-shard transfers, {read_txs} reader transactions");
    assert_eq!(single1 - single0, same, "single-shard EXECs");
    assert_eq!(multi1 - multi0, cross + read_txs, "multi-shard EXECs");
    // The same workload holds on Redis (a check of the check).
    if let Some(r) = RedisServer::start(&[]) {
        transfers_are_isolated(r.port, Duration::from_millis(300), shards);
    }
}

/// `clients` clients each make `rounds` WATCH/GET/MULTI/SET/EXEC increments of every key in
/// `keys`, retrying on a null EXEC. Returns (successful EXECs, aborted EXECs).
fn optimistic_increments(port: u16, keys: &[&str], clients: u64, rounds: u64) -> (u64, u64) {
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let mut c = Conn::open(port).expect("connect");
    assert_eq!(c.must(&format!("DEL {}", keys.join(" ")))[0], b':');
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let keys = keys.clone();
            std::thread::spawn(move || -> (u64, u64) {
                let mut c = Conn::open(port).expect("connect");
                let (mut ok, mut aborted) = (0, 0);
                for _ in 0..rounds {
                    loop {
                        assert_eq!(c.must(&format!("WATCH {}", keys.join(" "))), b"+OK\r\n");
                        let vals = ints_of_array(&c.must(&format!("MGET {}", keys.join(" "))));
                        let mut req = resp(&[b"MULTI"]);
                        for (k, v) in keys.iter().zip(&vals) {
                            let next = (v.unwrap_or(0) + 1).to_string();
                            req.extend(resp(&[b"SET", k.as_bytes(), next.as_bytes()]));
                        }
                        req.extend(resp(&[b"EXEC"]));
                        c.send(&req).expect("write");
                        assert_eq!(c.reply().expect("MULTI"), b"+OK\r\n");
                        for _ in &keys {
                            assert_eq!(c.reply().expect("SET"), b"+QUEUED\r\n");
                        }
                        let exec = c.reply().expect("EXEC");
                        if exec == NIL_ARRAY.as_bytes() {
                            aborted += 1;
                            continue;
                        }
                        let mut want = format!("*{}\r\n", keys.len());
                        for _ in &keys {
                            want.push_str(OK);
                        }
                        assert_eq!(show(&exec), show(want.as_bytes()));
                        ok += 1;
                        break;
                    }
                }
                (ok, aborted)
            })
        })
        .collect();
    let (mut ok, mut aborted) = (0, 0);
    for t in threads {
        let (o, a) = t.join().expect("client panicked");
        ok += o;
        aborted += a;
    }
    let finals = ints_of_array(&c.must(&format!("MGET {}", keys.join(" "))));
    for (k, v) in keys.iter().zip(finals) {
        assert_eq!(
            v,
            Some((clients * rounds) as i64),
            "{k}: lost updates ({ok} successful EXECs, {aborted} aborted)"
        );
    }
    (ok, aborted)
}

#[test]
fn watch_makes_optimistic_increments_exact() {
    const CLIENTS: u64 = 8;
    const ROUNDS: u64 = 40;
    let shards = 4;
    assert_ne!(shard_of("counter", shards), shard_of("c2", shards));
    let s = Server::start(shards, &[]);
    let mut c = Conn::open(s.port).expect("connect");

    let (ok, aborted) = optimistic_increments(s.port, &["counter"], CLIENTS, ROUNDS);
    assert_eq!(ok, CLIENTS * ROUNDS);
    println!("one shard: {ok} EXECs, {aborted} aborted by WATCH");
    let (single, multi) = counters(&mut c);
    assert!(single >= ok && multi == 0, "single {single} multi {multi}");

    let (ok, aborted) = optimistic_increments(s.port, &["counter", "c2"], CLIENTS, ROUNDS);
    assert_eq!(ok, CLIENTS * ROUNDS);
    println!("two shards: {ok} EXECs, {aborted} aborted by WATCH");
    let (_, multi) = counters(&mut c);
    assert!(multi >= ok, "multi-shard EXECs {multi} < {ok}");

    if let Some(r) = RedisServer::start(&[]) {
        optimistic_increments(r.port, &["counter", "c2"], CLIENTS, 10);
    }
}

/// Clients that vanish in every state of a transaction (after WATCH, after MULTI with commands
/// queued over several shards, right after sending EXEC) while others run cross-shard
/// transactions and watches: nothing hangs, nothing partial shows, watches keep working.
#[test]
fn clients_vanishing_mid_transaction_release_everything() {
    let shards = 4;
    let s = Server::start(shards, &[]);
    let port = s.port;
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    // Workers: cross-shard transfers between a and b (every EXEC must complete, a+b constant).
    let mut c = Conn::open(port).expect("connect");
    assert_eq!(c.must("MSET a 100 b 100"), b"+OK\r\n");
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, done) = (stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut c = Conn::open(port).expect("connect");
                while !stop.load(Ordering::Relaxed) {
                    let mut req = resp(&[b"MULTI"]);
                    req.extend(resp(&[b"DECR", b"a"]));
                    req.extend(resp(&[b"INCR", b"b"]));
                    req.extend(resp(&[b"MGET", b"a", b"b"]));
                    req.extend(resp(&[b"EXEC"]));
                    c.send(&req).expect("write");
                    for _ in 0..4 {
                        c.reply().expect("reply (a hang?)");
                    }
                    let exec = c.reply().expect("EXEC reply (a hang?)");
                    assert!(exec.starts_with(b"*3\r\n"), "{}", show(&exec));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Vanishing clients, in several states.
    let mut vanished = 0;
    let deadline = Instant::now() + Duration::from_millis(1500);
    let mut i = 0u64;
    while Instant::now() < deadline {
        i += 1;
        let mut v = Conn::open(port).expect("connect");
        let mut req = resp(&[b"WATCH", b"a", b"b", b"c", b"d"]);
        if !i.is_multiple_of(3) {
            req.extend(resp(&[b"MULTI"]));
            req.extend(resp(&[b"SET", b"a", b"0"]));
            req.extend(resp(&[b"SET", b"b", b"0"]));
            req.extend(resp(&[b"MSET", b"c", b"1", b"d", b"1"]));
        }
        if i % 3 == 2 {
            // Writes of a whole transaction that keeps a+b: may run or not, never half.
            req = resp(&[b"MULTI"]);
            req.extend(resp(&[b"INCRBY", b"a", b"5"]));
            req.extend(resp(&[b"DECRBY", b"b", b"5"]));
            req.extend(resp(&[b"EXEC"]));
        }
        v.send(&req).expect("write");
        if i.is_multiple_of(2) {
            // Wait until the server has processed it all, then drop.
            let n = if i % 3 == 2 {
                4
            } else if i % 3 == 1 {
                5
            } else {
                1
            };
            for _ in 0..n {
                v.reply().expect("reply");
            }
        }
        let _ = v.w.shutdown(Shutdown::Both);
        drop(v);
        vanished += 1;
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker panicked");
    }
    assert!(
        done.load(Ordering::Relaxed) > 0,
        "no worker transaction completed"
    );
    let mut c = Conn::open(port).expect("connect");
    let ab = ints_of_array(&c.must("MGET a b"));
    assert_eq!(
        ab[0].expect("a") + ab[1].expect("b"),
        200,
        "a partial transaction ran"
    );
    // The watched-then-dropped keys are not pinned: a new watcher sees only new changes.
    let mut w = Conn::open(port).expect("connect");
    assert_eq!(w.must("WATCH a c"), b"+OK\r\n");
    assert_eq!(w.must("MULTI"), b"+OK\r\n");
    assert_eq!(w.must("SET c w"), b"+QUEUED\r\n");
    assert_eq!(w.must("SET a 1"), b"+QUEUED\r\n");
    assert_eq!(w.must("EXEC"), b"*2\r\n+OK\r\n+OK\r\n");
    assert_eq!(w.must("WATCH a c"), b"+OK\r\n");
    assert_eq!(c.must("SET c other"), b"+OK\r\n");
    assert_eq!(w.must("MULTI"), b"+OK\r\n");
    assert_eq!(w.must("SET a 2"), b"+QUEUED\r\n");
    assert_eq!(w.must("EXEC"), NIL_ARRAY.as_bytes());
    assert_eq!(c.must("MGET a c"), b"*2\r\n$1\r\n1\r\n$5\r\nother\r\n");
    println!(
        "{vanished} clients vanished; {} worker transactions completed",
        done.load(Ordering::Relaxed)
    );
}
