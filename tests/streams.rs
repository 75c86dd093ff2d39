//! Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID, and streams seen by
//! TYPE, OBJECT ENCODING, string commands, MULTI/EXEC, WATCH and DUMP/RESTORE.
//!
//! Scripted cases: each command's reply is compared byte for byte with the reply written in the
//! script (taken from redis-server 7.0.15); when redis-server is on PATH the same commands also
//! run against it and the two replies must be equal, so an expectation that drifted from Redis
//! shows too. `STREAMS_RECORD=1 cargo test --test streams -- --nocapture` prints the scripts
//! with Redis's replies, for updating them. shoal runs the scripts with --shards 1 and 3, the
//! keys spread over the shards.
//!
//! A seeded random sequence of stream commands with explicit IDs runs on shoal and redis-server
//! with every reply compared; without redis-server, a digest of the replies (recorded from Redis)
//! is compared instead.

mod common;
use common::{now_ms, read_reply, resp, shard_of, RedisServer, Server};

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

// --- raw RESP connections -----------------------------------------------------------------------

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let w = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        w.set_nodelay(true).unwrap();
        Conn {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.w.write_all(&resp(args)).expect("write");
        read_reply(&mut self.r).expect("reply")
    }
}

/// A connection to shoal and, when redis-server is installed, one to Redis: every command goes
/// to both and the replies must be equal.
struct Pair {
    shoal: Conn,
    redis: Option<Conn>,
}

impl Pair {
    fn open(shoal: &Server, redis: Option<&RedisServer>) -> Pair {
        Pair {
            shoal: Conn::open(shoal.port),
            redis: redis.map(|r| Conn::open(r.port)),
        }
    }

    /// Runs `args` on both; returns shoal's reply (checked equal to Redis's).
    fn run(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let ours = self.shoal.call(args);
        if let Some(r) = &mut self.redis {
            let theirs = r.call(args);
            assert_eq!(
                show(&ours),
                show(&theirs),
                "shoal (left) and Redis (right) differ on {:?}",
                show_argv(args)
            );
        }
        ours
    }

    /// Runs `args` on both when the replies need not agree (HELLO, CONFIG SET of a value).
    fn run_each(&mut self, args: &[&[u8]]) {
        self.shoal.call(args);
        if let Some(r) = &mut self.redis {
            r.call(args);
        }
    }

    /// Runs a script: every reply compared with Redis's and with the recorded one.
    fn script(&mut self, name: &str, cases: &[(&str, &str)]) {
        let record = std::env::var_os("STREAMS_RECORD").is_some() && self.redis.is_some();
        if record {
            println!("// {name}");
        }
        for (line, want) in cases {
            let argv = parse_line(line);
            let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let got = self.run(&args);
            if record {
                println!("({line:?}, {:?}),", show(&got));
                continue;
            }
            assert_eq!(show(&got), *want, "{name}: reply to {line}");
        }
    }
}

/// A script line: arguments split on spaces; `''` is an empty argument and `<NUL>` a zero byte.
fn parse_line(line: &str) -> Vec<Vec<u8>> {
    line.split(' ')
        .map(|a| {
            if a == "''" {
                Vec::new()
            } else {
                a.replace("<NUL>", "\0").into_bytes()
            }
        })
        .collect()
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show_argv(args: &[&[u8]]) -> Vec<String> {
    args.iter().map(|a| show(a)).collect()
}

fn redis() -> Option<RedisServer> {
    RedisServer::start(&[])
}

/// Keys of the scripts; under --shards 3 they are not all on one shard.
const KEYS: [&str; 5] = ["s", "t", "u", "str", "nokey"];

#[test]
fn script_keys_spread_over_shards() {
    let shards: std::collections::HashSet<usize> = KEYS.iter().map(|k| shard_of(k, 3)).collect();
    assert_eq!(shards.len(), 3, "{:?}", KEYS.map(|k| shard_of(k, 3)));
}

// --- scripts ------------------------------------------------------------------------------------

const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[rustfmt::skip]
const XADD: &[(&str, &str)] = &[
    ("XADD s 1-1 a 1", "$3\r\n1-1\r\n"),
    ("XADD s 1-1 a 1", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
    ("XADD s 1 b 2", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
    ("XADD s 1-* c 3", "$3\r\n1-2\r\n"),
    ("XADD s 2-* c 3 d 4", "$3\r\n2-0\r\n"),
    ("XADD s 3 '' ''", "$3\r\n3-0\r\n"),
    ("XADD s 0-0 a 1", "-ERR The ID specified in XADD must be greater than 0-0\r\n"),
    ("XADD t 0-0 a 1", "-ERR The ID specified in XADD must be greater than 0-0\r\n"),
    ("EXISTS t", ":0\r\n"),
    ("XADD t 0-* a 1", "$3\r\n0-1\r\n"),
    ("XADD t 0-* a 1", "$3\r\n0-2\r\n"),
    ("XADD s 4-1 a", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s 4-1 a 1 b", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s 4-1", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s NOMKSTREAM 4-1", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s MAXLEN 5 NOMKSTREAM", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s NOMKSTREAM MAXLEN 5", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s MAXLEN -1 4-1 a 1", "-ERR The MAXLEN argument must be >= 0.\r\n"),
    ("XADD s MAXLEN abc 4-1 a 1", "-ERR value is not an integer or out of range\r\n"),
    ("XADD s MAXLEN ~ 4-1 a 1", "-ERR value is not an integer or out of range\r\n"),
    ("XADD s MAXLEN 2 LIMIT 1 4-1 a 1", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
    ("XADD s LIMIT 5 4-1 a 1", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"),
    ("XADD s LIMIT 0 4-1 a 1", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
    ("XADD s LIMIT -1 4-1 a 1", "-ERR The LIMIT argument must be >= 0.\r\n"),
    ("XADD s LIMIT x 4-1 a 1", "-ERR value is not an integer or out of range\r\n"),
    ("XADD s MAXLEN 1 MINID 1 4-1 a 1", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
    ("XADD s MAXLEN 1 MAXLEN 1 4-1 a 1", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
    ("XADD s MINID + 4-1 a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s MINID 1-x 4-1 a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s + a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s - a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s 1-2-3 a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s abc a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s *-1 a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s 5-** a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s -5 a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s 18446744073709551616 a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s MAXLEN a 1", "-ERR value is not an integer or out of range\r\n"),
    ("XLEN s", ":4\r\n"),
    // Trimming after the add.
    ("XADD s MAXLEN = 3 5-1 a 1", "$3\r\n5-1\r\n"),
    ("XRANGE s - +", "*3\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$0\r\n\r\n$0\r\n\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XADD s MINID 5 6-1 a 1", "$3\r\n6-1\r\n"),
    ("XADD s maxlen ~ 0 LIMIT 0 nomkstream 7-1 a 1", "$3\r\n7-1\r\n"),
    ("XLEN s", ":0\r\n"),
    ("EXISTS s", ":1\r\n"),
    ("XADD s MAXLEN<NUL>x 0 8-1 a 1", "$3\r\n8-1\r\n"),
    ("XLEN s", ":0\r\n"),
    ("XADD s minid = 9 9-1 a 1 b 2", "$3\r\n9-1\r\n"),
    ("XLEN s", ":1\r\n"),
    // NOMKSTREAM
    ("XADD nokey NOMKSTREAM * a 1", "$-1\r\n"),
    ("XADD nokey NOMKSTREAM MAXLEN 1 1-1 a 1", "$-1\r\n"),
    ("EXISTS nokey", ":0\r\n"),
    ("XADD s NOMKSTREAM 10-1 a 1", "$4\r\n10-1\r\n"),
    // `*` and `<ms>-*` next to the largest IDs.
    ("XADD u 99999999999999-5 a 1", "$16\r\n99999999999999-5\r\n"),
    ("XADD u * a 1", "$16\r\n99999999999999-6\r\n"),
    ("XADD u 99999999999999-* a 1", "$16\r\n99999999999999-7\r\n"),
    ("XADD u 5-18446744073709551615 a 1", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
    ("XADD u 99999999999999-18446744073709551615 a 1", "$35\r\n99999999999999-18446744073709551615\r\n"),
    ("XADD u 99999999999999-* a 1", "-ERR Elements are too large to be stored\r\n"),
    ("XADD u * a 1", "$17\r\n100000000000000-0\r\n"),
    ("XADD u 18446744073709551615-18446744073709551614 a 1", "$41\r\n18446744073709551615-18446744073709551614\r\n"),
    ("XADD u 18446744073709551615-* a 1", "$41\r\n18446744073709551615-18446744073709551615\r\n"),
    ("XADD u * a 1", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
    ("XADD u 18446744073709551615-* a 1", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
    ("XADD u 1-1 a 1", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"),
    ("XADD u 0-0 a 1", "-ERR The ID specified in XADD must be greater than 0-0\r\n"),
    ("XLEN u", ":7\r\n"),
    // strtoull's forms and a NUL ending the ID.
    ("XADD t 0005-7 a 1", "$3\r\n5-7\r\n"),
    ("XADD t 6<NUL>junk a 1", "$3\r\n6-0\r\n"),
    ("XLEN t", ":4\r\n"),
    // Another type.
    ("SET str x", "+OK\r\n"),
    ("XADD str * a 1", WRONGTYPE),
    ("XADD str NOMKSTREAM * a 1", WRONGTYPE),
    ("XADD str 0-0 a 1", "-ERR The ID specified in XADD must be greater than 0-0\r\n"),
    ("XADD str bad a 1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("GET str", "$1\r\nx\r\n"),
];

#[rustfmt::skip]
const XRANGE: &[(&str, &str)] = &[
    ("XADD s 1-1 a 1", "$3\r\n1-1\r\n"),
    ("XADD s 1-2 b 2", "$3\r\n1-2\r\n"),
    ("XADD s 2-1 a 3 b 4", "$3\r\n2-1\r\n"),
    ("XADD s 3-0 c 5", "$3\r\n3-0\r\n"),
    ("XADD s 18446744073709551615-0 z 9", "$22\r\n18446744073709551615-0\r\n"),
    ("XRANGE s - + COUNT 2", "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XRANGE s 1 1", "*2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XRANGE s (1-1 2", "*2\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"),
    ("XRANGE s (1 (3", "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n5\r\n"),
    ("XRANGE s (1-2 (2-1", "*0\r\n"),
    ("XRANGE s (1-1 (3-0", "*2\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"),
    ("XRANGE s 3 +", "*2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nz\r\n$1\r\n9\r\n"),
    ("XRANGE s (3-0 (18446744073709551615", "*1\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nz\r\n$1\r\n9\r\n"),
    ("XRANGE s (18446744073709551615 +", "*0\r\n"),
    ("XRANGE s + -", "*0\r\n"),
    ("XRANGE s 2-1 2-1", "*1\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"),
    ("XRANGE s - + COUNT 0", "*-1\r\n"),
    ("XRANGE s - + COUNT -3", "*-1\r\n"),
    ("XRANGE s + - COUNT 0", "*-1\r\n"),
    ("XRANGE s - + COUNT 1 COUNT 3", "*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"),
    ("XRANGE s - + count 1", "*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XRANGE s - + COUNT", "-ERR syntax error\r\n"),
    ("XRANGE s - + COUNT x", "-ERR value is not an integer or out of range\r\n"),
    ("XRANGE s - + COUNT 1 foo", "-ERR syntax error\r\n"),
    ("XRANGE s - + LIMIT 1", "-ERR syntax error\r\n"),
    ("XRANGE s (- +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s - (+", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s ( +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s x +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s - 1-", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s - (0-0", "-ERR invalid end ID for the interval\r\n"),
    ("XRANGE s (18446744073709551615-18446744073709551615 +", "-ERR invalid start ID for the interval\r\n"),
    ("XRANGE s x (0-0", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s (18446744073709551615-18446744073709551615 x", "-ERR invalid start ID for the interval\r\n"),
    ("XRANGE s x + COUNT x", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE s - +", "*5\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nz\r\n$1\r\n9\r\n"),
    ("XREVRANGE s + -", "*5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nz\r\n$1\r\n9\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n5\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XREVRANGE s + - COUNT 2", "*2\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nz\r\n$1\r\n9\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n5\r\n"),
    ("XREVRANGE s (3 (1", "*4\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n5\r\n*2\r\n$3\r\n2-1\r\n*4\r\n$1\r\na\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XREVRANGE s 1 1", "*2\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XREVRANGE s - +", "*0\r\n"),
    ("XREVRANGE s + - COUNT 0", "*-1\r\n"),
    ("XREVRANGE s (0-0 x", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XREVRANGE s x (0-0", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XREVRANGE s (18446744073709551615-18446744073709551615 (18446744073709551615-18446744073709551615", "-ERR invalid start ID for the interval\r\n"),
    ("XREVRANGE s + - COUNT 1 x", "-ERR syntax error\r\n"),
    // A missing key: the bounds and COUNT are checked first, then an empty array.
    ("XRANGE nokey - +", "*0\r\n"),
    ("XRANGE nokey - + COUNT 0", "*0\r\n"),
    ("XREVRANGE nokey + -", "*0\r\n"),
    ("XRANGE nokey x +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XRANGE nokey - + COUNT x", "-ERR value is not an integer or out of range\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XRANGE str - +", WRONGTYPE),
    ("XREVRANGE str + -", WRONGTYPE),
    ("XRANGE str - + COUNT 0", WRONGTYPE),
    ("XRANGE str x +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XLEN s", ":5\r\n"),
    ("XLEN nokey", ":0\r\n"),
    ("XLEN str", WRONGTYPE),
];

#[rustfmt::skip]
const XDEL_XTRIM: &[(&str, &str)] = &[
    ("XADD s 1-1 a 1", "$3\r\n1-1\r\n"),
    ("XADD s 2-1 a 2", "$3\r\n2-1\r\n"),
    ("XADD s 3-1 a 3", "$3\r\n3-1\r\n"),
    ("XADD s 4-1 a 4", "$3\r\n4-1\r\n"),
    ("XADD s 5-1 a 5", "$3\r\n5-1\r\n"),
    ("XDEL s 2-1 2-1 9-9 3", ":1\r\n"),
    ("XDEL s 3-1 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XDEL s 3-1 -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XDEL s +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XLEN s", ":4\r\n"),
    ("XDEL s 3-1 4", ":1\r\n"),
    ("XDEL s 3-1", ":0\r\n"),
    ("XDEL nokey bad", ":0\r\n"),
    ("XDEL nokey 1-1", ":0\r\n"),
    ("XRANGE s - +", "*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n4-1\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n"),
    // XTRIM's options.
    ("XTRIM s LIMIT 5", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"),
    ("XTRIM s LIMIT 0", "-ERR syntax error, XTRIM must be called with a trimming strategy\r\n"),
    ("XTRIM s MAXLEN", "-ERR wrong number of arguments for 'xtrim' command\r\n"),
    ("XTRIM s MAXLEN ~", "-ERR value is not an integer or out of range\r\n"),
    ("XTRIM s MAXLEN -1", "-ERR The MAXLEN argument must be >= 0.\r\n"),
    ("XTRIM s MAXLEN 1 LIMIT 5", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
    ("XTRIM s MAXLEN = 1 LIMIT 5", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"),
    ("XTRIM s MINID ~ 0 LIMIT -1", "-ERR The LIMIT argument must be >= 0.\r\n"),
    ("XTRIM s MINID ~ -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XTRIM s MINID ~ +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XTRIM s MAXLEN 1 MINID 1", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"),
    ("XTRIM s MAXLEN 1 foo", "-ERR syntax error\r\n"),
    ("XTRIM s NOMKSTREAM MAXLEN 1", "-ERR syntax error\r\n"),
    ("XTRIM s * MAXLEN 1", "-ERR syntax error\r\n"),
    ("XTRIM s MAXLEN 1 LIMIT", "-ERR syntax error\r\n"),
    ("XTRIM s foo 1", "-ERR syntax error\r\n"),
    ("XTRIM nokey MAXLEN 0", ":0\r\n"),
    ("XTRIM nokey MAXLEN x", "-ERR value is not an integer or out of range\r\n"),
    ("XTRIM s MAXLEN ~ 2", ":0\r\n"),
    ("XTRIM s MINID 4-1", ":1\r\n"),
    ("XTRIM s MINID 4-1", ":0\r\n"),
    ("XTRIM s maxlen = 5", ":0\r\n"),
    ("XTRIM s MAXLEN 0", ":2\r\n"),
    ("XLEN s", ":0\r\n"),
    ("EXISTS s", ":1\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XDEL str 1-1", WRONGTYPE),
    ("XDEL str bad", WRONGTYPE),
    ("XTRIM str MAXLEN 0", WRONGTYPE),
    ("XTRIM str MAXLEN x", "-ERR value is not an integer or out of range\r\n"),
];

#[rustfmt::skip]
const XSETID: &[(&str, &str)] = &[
    ("XADD s 5-1 a 1", "$3\r\n5-1\r\n"),
    ("XADD s 6-1 a 1", "$3\r\n6-1\r\n"),
    ("XSETID s 7-0 ENTRIESADDED -1", "-ERR entries_added must be positive\r\n"),
    ("XSETID s 7-0 ENTRIESADDED x", "-ERR value is not an integer or out of range\r\n"),
    ("XSETID s 7-0 MAXDELETEDID 8-0", "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"),
    ("XSETID s 7-0 MAXDELETEDID 8-0 foo", "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"),
    ("XSETID s 7-0 MAXDELETEDID +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XSETID s 7-0 foo", "-ERR syntax error\r\n"),
    ("XSETID s 7-0 ENTRIESADDED", "-ERR syntax error\r\n"),
    ("XSETID s 7-0 ENTRIESADDED 5 MAXDELETEDID", "-ERR syntax error\r\n"),
    ("XSETID s -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XSETID s +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XSETID s x ENTRIESADDED -1", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XSETID nokey 7-0", "-ERR no such key\r\n"),
    ("XSETID nokey 7-0 foo", "-ERR syntax error\r\n"),
    ("XSETID s 6-0", "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n"),
    ("XSETID s 6-1 ENTRIESADDED 1", "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n"),
    ("XSETID s 6-1", "+OK\r\n"),
    ("XADD s 6-1 a 1", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
    ("XSETID s 10 ENTRIESADDED 100 MAXDELETEDID 9-5", "+OK\r\n"),
    ("XADD s 10-* a 1", "$4\r\n10-1\r\n"),
    ("XSETID s 11-0 entriesadded 3 maxdeletedid 0-0", "+OK\r\n"),
    ("XADD s 11 a 1", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
    // Behind deleted entries: later entries follow the tombstones in the node.
    ("XDEL s 10-1 6-1", ":2\r\n"),
    ("XSETID s 5-1", "+OK\r\n"),
    ("XADD s 5-2 b 2", "$3\r\n5-2\r\n"),
    ("XADD s 5-* c 3", "$3\r\n5-3\r\n"),
    ("XRANGE s - +", "*3\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n5-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n5-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
    ("XREVRANGE s + - COUNT 2", "*2\r\n*2\r\n$3\r\n5-3\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n5-2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    // An empty stream takes any ID.
    ("XTRIM s MAXLEN 0", ":3\r\n"),
    ("XSETID s 1-1 ENTRIESADDED 0", "+OK\r\n"),
    ("XADD s 1-* a 1", "$3\r\n1-2\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XSETID str 1-1", WRONGTYPE),
    ("XSETID str 1-1 bad", "-ERR syntax error\r\n"),
];

/// A stream against the rest of the keyspace.
#[rustfmt::skip]
const OTHER_TYPES: &[(&str, &str)] = &[
    ("XADD s 1-1 a 1", "$3\r\n1-1\r\n"),
    ("TYPE s", "+stream\r\n"),
    ("OBJECT ENCODING s", "$6\r\nstream\r\n"),
    ("GET s", WRONGTYPE),
    ("APPEND s x", WRONGTYPE),
    ("STRLEN s", WRONGTYPE),
    ("INCR s", WRONGTYPE),
    ("SETRANGE s 0 x", WRONGTYPE),
    ("GETRANGE s 0 1", WRONGTYPE),
    ("GETDEL s", WRONGTYPE),
    ("GETSET s x", WRONGTYPE),
    ("SETBIT s 0 1", WRONGTYPE),
    ("BITCOUNT s", WRONGTYPE),
    ("MGET s nokey", "*2\r\n$-1\r\n$-1\r\n"),
    ("SETNX s x", ":0\r\n"),
    ("EXISTS s", ":1\r\n"),
    ("EXPIRE s 1000", ":1\r\n"),
    ("RENAME s t", "+OK\r\n"),
    ("TYPE t", "+stream\r\n"),
    ("XLEN t", ":1\r\n"),
    ("COPY t u", ":1\r\n"),
    ("XADD u 2-1 b 2", "$3\r\n2-1\r\n"),
    ("XLEN t", ":1\r\n"),
    ("XLEN u", ":2\r\n"),
    ("SET t x", "+OK\r\n"),
    ("TYPE t", "+string\r\n"),
    ("DEL u", ":1\r\n"),
    ("TYPE u", "+none\r\n"),
];

fn run_scripts(shards: usize) {
    let shoal = Server::start(shards, &[]);
    let redis = redis();
    let mut p = Pair::open(&shoal, redis.as_ref());
    for (name, script) in [
        ("xadd", XADD),
        ("xrange", XRANGE),
        ("xdel_xtrim", XDEL_XTRIM),
        ("xsetid", XSETID),
        ("other_types", OTHER_TYPES),
    ] {
        p.run(&[b"FLUSHALL"]);
        p.script(name, script);
    }
}

#[test]
fn scripts_match_redis_on_one_shard() {
    run_scripts(1);
}

#[test]
fn scripts_match_redis_on_three_shards() {
    run_scripts(3);
}

// --- RESP3 ----------------------------------------------------------------------------------------

#[rustfmt::skip]
const RESP3: &[(&str, &str)] = &[
    ("XADD nokey NOMKSTREAM * a 1", "_\r\n"),
    ("XADD s 1-1 a 1 b 2", "$3\r\n1-1\r\n"),
    ("XADD s 2-1 c 3", "$3\r\n2-1\r\n"),
    ("XLEN s", ":2\r\n"),
    ("XRANGE s - +", "*2\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
    ("XREVRANGE s + - COUNT 1", "*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
    ("XRANGE s - + COUNT 0", "_\r\n"),
    ("XREVRANGE s + - COUNT -1", "_\r\n"),
    ("XRANGE nokey - +", "*0\r\n"),
    ("XDEL s 1-1", ":1\r\n"),
    ("XTRIM s MAXLEN 0", ":1\r\n"),
    ("XSETID s 5-5", "+OK\r\n"),
    ("XSETID nokey 5-5", "-ERR no such key\r\n"),
    ("XADD s 1-1 a 1", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XLEN str", WRONGTYPE),
];

#[test]
fn resp3_replies_match_redis() {
    let shoal = Server::start(3, &[]);
    let redis = redis();
    let mut p = Pair::open(&shoal, redis.as_ref());
    p.run_each(&[b"HELLO", b"3"]);
    p.script("resp3", RESP3);
}

// --- XADD with an automatic ID --------------------------------------------------------------------

/// `*` takes the server's clock: the ID's time is now, and IDs in one millisecond count up.
#[test]
fn xadd_auto_id_uses_the_clock() {
    let shoal = Server::start(1, &[]);
    let redis = redis();
    let mut ports = vec![shoal.port];
    ports.extend(redis.as_ref().map(|r| r.port));
    for port in ports {
        let mut c = Conn::open(port);
        let before = now_ms();
        let mut last = (0u64, 0u64);
        for i in 0..50 {
            // A NUL ends the argument for Redis's C string comparison: still `*`.
            let id: &[u8] = if i == 25 { b"*\0x" } else { b"*" };
            let reply = show(&c.call(&[b"XADD", b"auto", id, b"i", i.to_string().as_bytes()]));
            let id = reply.lines().nth(1).unwrap().to_string();
            let (ms, seq) = id.split_once('-').unwrap();
            let id = (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap());
            assert!(id > last, "{id:?} after {last:?}");
            assert!(id.0 >= before && id.0 <= now_ms(), "{id:?} not now");
            if id.0 > last.0 {
                assert_eq!(id.1, 0, "a new millisecond starts at 0");
            }
            last = id;
        }
        // `<ms>-*` of the current millisecond continues its sequence.
        let reply = c.call(&[
            b"XADD",
            b"auto",
            format!("{}-*", last.0).as_bytes(),
            b"a",
            b"1",
        ]);
        let want = format!("{}-{}", last.0, last.1 + 1);
        assert_eq!(show(&reply), format!("${}\r\n{want}\r\n", want.len()));
        assert_eq!(show(&c.call(&[b"XLEN", b"auto"])), ":51\r\n");
    }
}

// --- approximate trimming at node boundaries -------------------------------------------------

/// After 350 XADDs with MAXLEN ~ 120 on default nodes (100 entries, 4096 bytes).
#[rustfmt::skip]
const APPROX_DEFAULT: &[(&str, &str)] = &[
    ("XLEN s", ":150\r\n"),
    ("XTRIM s MAXLEN ~ 10", ":100\r\n"),
    ("XLEN s", ":50\r\n"),
    ("XTRIM s MINID ~ 340 LIMIT 10", ":0\r\n"),
    ("XTRIM s MINID ~ 340", ":0\r\n"),
    ("XRANGE s - + COUNT 1", "*1\r\n*2\r\n$5\r\n301-1\r\n*2\r\n$1\r\nf\r\n$0\r\n\r\n"),
    ("XTRIM s MINID 340", ":39\r\n"),
    ("XLEN s", ":11\r\n"),
];

/// After 60 XADDs each with MINID ~ 30 LIMIT 9 (t) and MAXLEN ~ 7 (u), nodes of 4 entries.
#[rustfmt::skip]
const APPROX_SMALL_NODES: &[(&str, &str)] = &[
    ("XLEN t", ":31\r\n"),
    ("XLEN u", ":8\r\n"),
    ("XTRIM t MAXLEN ~ 5 LIMIT 8", ":8\r\n"),
    ("XTRIM t MAXLEN ~ 5 LIMIT 3", ":0\r\n"),
    ("XTRIM t MAXLEN ~ 5", ":16\r\n"),
    ("XLEN t", ":7\r\n"),
    ("XRANGE t - + COUNT 1", "*1\r\n*2\r\n$4\r\n54-1\r\n*2\r\n$1\r\nf\r\n$50\r\nvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n"),
];

/// Many entries, so `~` trimming (whole nodes only) and LIMIT show where nodes break.
#[test]
fn approximate_trimming_matches_redis() {
    let shoal = Server::start(3, &[]);
    let redis = redis();
    let mut p = Pair::open(&shoal, redis.as_ref());
    let add = |p: &mut Pair, key: &str, from: u64, n: u64, opts: &[&str]| -> Vec<u8> {
        let mut last = Vec::new();
        for i in from..from + n {
            let id = format!("{i}-1");
            let value = "v".repeat((i % 7) as usize * 10);
            let mut args: Vec<&[u8]> = vec![b"XADD", key.as_bytes()];
            args.extend(opts.iter().map(|o| o.as_bytes()));
            args.extend([id.as_bytes(), b"f".as_slice(), value.as_bytes()]);
            last = p.run(&args);
        }
        last
    };
    add(&mut p, "s", 1, 350, &["MAXLEN", "~", "120"]);
    p.script("approx_default", APPROX_DEFAULT);
    p.run_each(&[b"CONFIG", b"SET", b"stream-node-max-entries", b"4"]);
    add(&mut p, "t", 1, 60, &["MINID", "~", "30", "LIMIT", "9"]);
    add(&mut p, "u", 1, 60, &["MAXLEN", "~", "7"]);
    p.script("approx_small_nodes", APPROX_SMALL_NODES);
    p.run_each(&[b"CONFIG", b"SET", b"stream-node-max-entries", b"100"]);
}

// --- INFO counters ----------------------------------------------------------------------------

fn info_counters(c: &mut Conn) -> Vec<String> {
    let info = show(&c.call(&[b"INFO", b"everything"]));
    [
        "keyspace_hits",
        "keyspace_misses",
        "rdb_changes_since_last_save",
    ]
    .iter()
    .map(|name| {
        info.lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("INFO has no {name}"))
            .to_string()
    })
    .collect()
}

/// Reads count keyspace hits and misses, writes do not; changes count as Redis counts them
/// (XADD one, XDEL and XTRIM one per entry removed, XSETID one).
#[test]
fn info_counters_match_redis() {
    #[rustfmt::skip]
    let script: &[(&str, Vec<&str>)] = &[
        ("XADD s 1-1 a 1", vec!["keyspace_hits:0", "keyspace_misses:0", "rdb_changes_since_last_save:1"]),
        ("XADD s MAXLEN 1 2-1 a 1", vec!["keyspace_hits:0", "keyspace_misses:0", "rdb_changes_since_last_save:2"]),
        ("XADD t 1-1 a 1", vec!["keyspace_hits:0", "keyspace_misses:0", "rdb_changes_since_last_save:3"]),
        ("XADD t 2-1 a 1", vec!["keyspace_hits:0", "keyspace_misses:0", "rdb_changes_since_last_save:4"]),
        ("XADD t 3-1 a 1", vec!["keyspace_hits:0", "keyspace_misses:0", "rdb_changes_since_last_save:5"]),
        ("XADD t 1-1 a 1", vec!["keyspace_hits:0", "keyspace_misses:0", "rdb_changes_since_last_save:5"]),
        ("XLEN s", vec!["keyspace_hits:1", "keyspace_misses:0", "rdb_changes_since_last_save:5"]),
        ("XLEN nokey", vec!["keyspace_hits:1", "keyspace_misses:1", "rdb_changes_since_last_save:5"]),
        ("XRANGE s - +", vec!["keyspace_hits:2", "keyspace_misses:1", "rdb_changes_since_last_save:5"]),
        ("XREVRANGE nokey + -", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:5"]),
        ("XRANGE s x +", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:5"]),
        ("XDEL t 1-1 2-1 9-9", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:7"]),
        ("XDEL t 9-9", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:7"]),
        ("XADD t 4-1 a 1", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:8"]),
        ("XADD t 5-1 a 1", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:9"]),
        ("XTRIM t MAXLEN 1", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:11"]),
        ("XTRIM t MAXLEN 1", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:11"]),
        ("XSETID t 9-9", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:12"]),
        ("XADD nokey NOMKSTREAM * a 1", vec!["keyspace_hits:2", "keyspace_misses:2", "rdb_changes_since_last_save:12"]),
    ];
    let shoal = Server::start(3, &[]);
    let redis = redis();
    let mut p = Pair::open(&shoal, redis.as_ref());
    for (line, want) in script {
        let argv = parse_line(line);
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        p.run(&args);
        let ours = info_counters(&mut p.shoal);
        if let Some(r) = &mut p.redis {
            assert_eq!(ours, info_counters(r), "after {line}");
        }
        assert_eq!(&ours, want, "after {line}");
    }
}

// --- MULTI / EXEC and WATCH ---------------------------------------------------------------------

#[rustfmt::skip]
const MULTI: &[(&str, &str)] = &[
    ("MULTI", "+OK\r\n"),
    ("XADD s 1-1 a 1", "+QUEUED\r\n"),
    ("XADD s 1-1 a 1", "+QUEUED\r\n"),
    ("XADD t 2-1 b 2", "+QUEUED\r\n"),
    ("XLEN s", "+QUEUED\r\n"),
    ("XRANGE t - +", "+QUEUED\r\n"),
    ("XADD nokey NOMKSTREAM * a 1", "+QUEUED\r\n"),
    ("XTRIM s MAXLEN 0", "+QUEUED\r\n"),
    ("XSETID u 1-1", "+QUEUED\r\n"),
    ("EXEC", "*8\r\n$3\r\n1-1\r\n-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n$3\r\n2-1\r\n:1\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n$-1\r\n:1\r\n-ERR no such key\r\n"),
    ("MULTI", "+OK\r\n"),
    ("XADD s 2-1 a", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("XADD s 3-1", "-ERR wrong number of arguments for 'xadd' command\r\n"),
    ("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
    ("XLEN s", ":0\r\n"),
];

#[test]
fn multi_exec_with_stream_commands_matches_redis() {
    for shards in [1, 3] {
        let shoal = Server::start(shards, &[]);
        let redis = redis();
        let mut p = Pair::open(&shoal, redis.as_ref());
        p.script("multi", MULTI);
    }
}

/// WATCH sees a change of the stream by another client, and only a change: XDEL and XTRIM
/// that remove nothing leave a watched stream untouched, as in Redis.
///
/// XSETID counts as a change (`server.dirty`) but, as in Redis 7.0.15, does not signal WATCH.
#[test]
fn watch_sees_stream_changes() {
    let shoal = Server::start(3, &[]);
    let redis = redis();
    let mut a = Pair::open(&shoal, redis.as_ref());
    let mut b = Pair::open(&shoal, redis.as_ref());
    a.run(&[b"XADD", b"s", b"1-1", b"a", b"1"]);
    // (the other client's command, whether it changes the stream)
    let cases: &[(&str, bool)] = &[
        ("XDEL s 9-9", false),
        ("XTRIM s MAXLEN 5", false),
        ("XTRIM s MINID 1-1", false),
        ("XADD nokey NOMKSTREAM * a 1", false),
        ("XLEN s", false),
        ("XRANGE s - +", false),
        ("XADD s 1-1 a 1", false),
        ("XADD s 0-0 a 1", false),
        ("XSETID s 0-1", false),
        ("XADD s 2-1 a 1", true),
        ("XDEL s 2-1", true),
        ("XADD s 3-1 a 1", true),
        ("XTRIM s MAXLEN 0", true),
        // Counted as a change, but no signal to WATCH, as in Redis.
        ("XSETID s 5-0", false),
        ("XACK s g 1-1", false),
    ];
    for (other, changes) in cases {
        let argv = parse_line(other);
        let args: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        a.run(&[b"WATCH", b"s"]);
        b.run(&args);
        a.run(&[b"MULTI"]);
        a.run(&[b"SET", b"flag", b"1"]);
        let got = a.run(&[b"EXEC"]);
        let want = if *changes { "*-1\r\n" } else { "*1\r\n+OK\r\n" };
        assert_eq!(show(&got), want, "EXEC after {other} by another client");
    }
}

// --- DUMP / RESTORE -------------------------------------------------------------------------------

/// Builds the same stream on a connection: several nodes, deletions, XSETID's counters.
fn build_dump_stream(c: &mut Conn) {
    for i in 1..=250u64 {
        let id = format!("{i}-{}", i % 3);
        let v = format!("value-{}", i * 7919 % 1000);
        let r = if i % 10 == 0 {
            c.call(&[
                b"XADD",
                b"d",
                id.as_bytes(),
                b"other",
                v.as_bytes(),
                b"x",
                b"y",
            ])
        } else {
            c.call(&[b"XADD", b"d", id.as_bytes(), b"field", v.as_bytes()])
        };
        assert!(r.starts_with(b"$"), "{}", show(&r));
    }
    c.call(&[b"XDEL", b"d", b"5-2", b"150-0", b"250-1"]);
    c.call(&[b"XTRIM", b"d", b"MINID", b"3"]);
    let r = c.call(&[
        b"XSETID",
        b"d",
        b"300-0",
        b"ENTRIESADDED",
        b"400",
        b"MAXDELETEDID",
        b"290-0",
    ]);
    assert_eq!(r, b"+OK\r\n");
}

/// A bulk reply's payload.
fn bulk_payload(reply: &[u8]) -> Vec<u8> {
    assert_eq!(reply[0], b'$', "{}", show(reply));
    let eol = reply.iter().position(|&b| b == b'\n').unwrap();
    reply[eol + 1..reply.len() - 2].to_vec()
}

#[test]
fn dump_restore_between_shoal_and_redis() {
    let shoal = Server::start(3, &[]);
    let mut s = Conn::open(shoal.port);
    build_dump_stream(&mut s);
    let dump = bulk_payload(&s.call(&[b"DUMP", b"d"]));
    // Within shoal first.
    assert_eq!(s.call(&[b"RESTORE", b"d2", b"0", &dump]), b"+OK\r\n");
    let range = s.call(&[b"XRANGE", b"d", b"-", b"+"]);
    assert_eq!(s.call(&[b"XRANGE", b"d2", b"-", b"+"]), range);
    assert_eq!(bulk_payload(&s.call(&[b"DUMP", b"d2"])), dump);
    assert_eq!(s.call(&[b"XLEN", b"d2"]), s.call(&[b"XLEN", b"d"]));
    // The restored stream keeps its last ID.
    assert_eq!(
        show(&s.call(&[b"XADD", b"d2", b"300-0", b"a", b"1"])),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    let Some(redis) = redis() else {
        return;
    };
    let mut r = Conn::open(redis.port);
    build_dump_stream(&mut r);
    assert_eq!(r.call(&[b"XRANGE", b"d", b"-", b"+"]), range);
    // shoal's DUMP into Redis: the same stream as Redis's own, counters and nodes included.
    assert_eq!(r.call(&[b"RESTORE", b"fromshoal", b"0", &dump]), b"+OK\r\n");
    let info = |r: &mut Conn, key: &[u8]| r.call(&[b"XINFO", b"STREAM", key, b"FULL"]);
    assert_eq!(show(&info(&mut r, b"fromshoal")), show(&info(&mut r, b"d")));
    assert_eq!(r.call(&[b"XRANGE", b"fromshoal", b"-", b"+"]), range);
    // Redis's DUMP into shoal.
    let theirs = bulk_payload(&r.call(&[b"DUMP", b"d"]));
    assert_eq!(
        s.call(&[b"RESTORE", b"fromredis", b"0", &theirs]),
        b"+OK\r\n"
    );
    assert_eq!(s.call(&[b"XRANGE", b"fromredis", b"-", b"+"]), range);
    assert_eq!(bulk_payload(&s.call(&[b"DUMP", b"fromredis"])), dump);
    for args in [
        &[&b"XADD"[..], b"fromredis", b"300-0", b"a", b"1"][..],
        &[b"XADD", b"fromredis", b"300-1", b"a", b"1"],
        &[b"XREVRANGE", b"fromredis", b"+", b"-", b"COUNT", b"3"],
        &[b"XLEN", b"fromredis"],
    ] {
        let mut redis_args = args.to_vec();
        redis_args[1] = b"d";
        assert_eq!(show(&s.call(args)), show(&r.call(&redis_args)));
    }
}

/// With `rdbcompression no` a stream's DUMP is Redis's, byte for byte (compressed payloads
/// differ: shoal's LZF picks other, equally valid, back-references).
#[test]
fn dump_without_compression_is_byte_identical_to_redis() {
    let shoal = Server::start(2, &[]);
    let mut s = Conn::open(shoal.port);
    build_dump_stream(&mut s);
    let packed = bulk_payload(&s.call(&[b"DUMP", b"d"]));
    assert_eq!(
        s.call(&[b"CONFIG", b"SET", b"rdbcompression", b"no"]),
        b"+OK\r\n"
    );
    let plain = bulk_payload(&s.call(&[b"DUMP", b"d"]));
    assert!(
        plain.len() > packed.len(),
        "compression off made no difference"
    );
    // Both restore to the same stream.
    assert_eq!(s.call(&[b"RESTORE", b"p", b"0", &plain]), b"+OK\r\n");
    assert_eq!(
        s.call(&[b"XRANGE", b"p", b"-", b"+"]),
        s.call(&[b"XRANGE", b"d", b"-", b"+"])
    );
    let Some(redis) = redis() else {
        return;
    };
    let mut r = Conn::open(redis.port);
    build_dump_stream(&mut r);
    r.call(&[b"CONFIG", b"SET", b"rdbcompression", b"no"]);
    assert_eq!(bulk_payload(&r.call(&[b"DUMP", b"d"])), plain);
}

// --- random sequences against Redis ---------------------------------------------------------------

/// xorshift64*: the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

/// What the sequence knows of one key: the highest ID sent, and the IDs XADD returned.
#[derive(Default)]
struct KeyState {
    top: (u64, u64),
    added: Vec<String>,
}

/// Mostly an ID XADD returned (possibly deleted since), else one at or below the top.
fn random_id(rng: &mut Rng, st: &KeyState) -> String {
    if !st.added.is_empty() && rng.below(3) != 0 {
        let i = rng.below(st.added.len() as u64) as usize;
        return st.added[i].clone();
    }
    let ms = rng.below(st.top.0 + 2);
    match rng.below(6) {
        0 => ms.to_string(),
        _ => format!("{ms}-{}", rng.below(4)),
    }
}

fn random_bound(rng: &mut Rng, st: &KeyState) -> String {
    match rng.below(8) {
        0 => "-".into(),
        1 => "+".into(),
        2 | 3 => format!("({}", random_id(rng, st)),
        _ => random_id(rng, st),
    }
}

/// One command on `r1` or `r2`, aimed by what is known of the key: most XADDs succeed and the
/// other commands mostly name IDs that are (or were) in the stream.
fn random_command(rng: &mut Rng, keys: &mut [KeyState; 2]) -> Vec<String> {
    let k = rng.below(2) as usize;
    let st = &mut keys[k];
    let top = st.top;
    let len = st.added.len() as u64;
    let key = ["r1", "r2"][k].to_string();
    let mut a: Vec<String> = Vec::new();
    let op = rng.below(100);
    if op < 45 {
        a.extend(["XADD".into(), key]);
        match rng.below(16) {
            0 => a.extend([
                "MAXLEN".into(),
                rng.pick(&["~", "=", "~"]).into(),
                rng.below(len + 3).to_string(),
            ]),
            1 => a.extend([
                "MINID".into(),
                rng.pick(&["~", "="]).into(),
                random_id(rng, st),
            ]),
            2 => a.extend([
                "MAXLEN".into(),
                "~".into(),
                rng.below(len + 3).to_string(),
                "LIMIT".into(),
                rng.below(10).to_string(),
            ]),
            3 => a.push("NOMKSTREAM".into()),
            _ => {}
        }
        // Mostly growing IDs, sometimes stale, partial or `<ms>-*` ones.
        let id = match rng.below(12) {
            0 => random_id(rng, st),
            1 => format!("{}-*", top.0 + rng.below(2)),
            2 => "0-0".into(),
            3..=5 => {
                st.top = (top.0, top.1 + 1 + rng.below(2));
                format!("{}-{}", st.top.0, st.top.1)
            }
            _ => {
                st.top = (top.0 + 1 + rng.below(2), rng.below(3));
                format!("{}-{}", st.top.0, st.top.1)
            }
        };
        a.push(id);
        let fields = ["a", "b", "c"];
        let n = 1 + rng.below(3) as usize;
        let start = if rng.below(5) == 0 { 1 } else { 0 };
        for j in 0..n {
            a.push(fields[(start + j) % 3].into());
            a.push(match rng.below(4) {
                0 => String::new(),
                1 => rng.below(1000).to_string(),
                _ => "x".repeat(rng.below(30) as usize),
            });
        }
    } else if op < 57 {
        a.extend(["XDEL".into(), key]);
        for _ in 0..1 + rng.below(3) {
            a.push(random_id(rng, st));
        }
    } else if op < 62 {
        a.extend(["XTRIM".into(), key]);
        let approx = rng.below(2) == 0;
        if rng.below(2) == 0 {
            a.push("MAXLEN".into());
            a.push(if approx { "~" } else { "=" }.into());
            a.push(rng.below(len + 3).to_string());
        } else {
            a.push("MINID".into());
            a.push(if approx { "~" } else { "=" }.into());
            a.push(random_id(rng, st));
        }
        if approx && rng.below(3) == 0 {
            a.extend(["LIMIT".into(), rng.below(8).to_string()]);
        }
    } else if op < 66 {
        // Around the top: sometimes below it (refused), sometimes behind deleted entries.
        let ms = (top.0 + rng.below(2)).saturating_sub(rng.below(3));
        let id = (ms, rng.below(3));
        a.extend(["XSETID".into(), key, format!("{}-{}", id.0, id.1)]);
        if rng.below(3) == 0 {
            a.extend(["ENTRIESADDED".into(), rng.below(200).to_string()]);
        }
        if rng.below(3) == 0 {
            a.extend(["MAXDELETEDID".into(), random_id(rng, st)]);
        }
        st.top = st.top.max(id);
    } else if op < 92 {
        let rev = rng.below(3) == 0;
        let (lo, hi) = (random_bound(rng, st), random_bound(rng, st));
        if rev {
            a.extend(["XREVRANGE".into(), key, hi, lo]);
        } else {
            a.extend(["XRANGE".into(), key, lo, hi]);
        }
        if rng.below(2) == 0 {
            a.extend(["COUNT".into(), (rng.below(8) as i64 - 1).to_string()]);
        }
    } else {
        a.extend(["XLEN".into(), key]);
    }
    a
}

/// FNV-1a, 64 bits: a digest of all replies, for machines without redis-server.
fn fnv(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash ^= u64::from(b);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn random_sequence(seed: u64, steps: usize, node_entries: &str, want_digest: u64) {
    let shoal = Server::start(3, &[]);
    let redis = redis();
    let mut p = Pair::open(&shoal, redis.as_ref());
    p.run_each(&[
        b"CONFIG",
        b"SET",
        b"stream-node-max-entries",
        node_entries.as_bytes(),
    ]);
    let mut rng = Rng(seed);
    let mut keys: [KeyState; 2] = Default::default();
    let mut digest = 0xcbf2_9ce4_8422_2325u64;
    let mut history: Vec<String> = Vec::new();
    for _ in 0..steps {
        let cmd = random_command(&mut rng, &mut keys);
        history.push(cmd.join(" "));
        let args: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
        let ours = p.shoal.call(&args);
        if let Some(r) = &mut p.redis {
            let theirs = r.call(&args);
            assert_eq!(
                show(&ours),
                show(&theirs),
                "shoal (left) and Redis (right) differ; history:\n{}",
                history.join("\n")
            );
        }
        if cmd[0] == "XADD" && ours.starts_with(b"$") && ours != b"$-1\r\n" {
            let id = show(&ours).lines().nth(1).unwrap_or_default().to_string();
            keys[usize::from(cmd[1] == "r2")].added.push(id);
        }
        fnv(&mut digest, &ours);
    }
    for key in ["r1", "r2"] {
        let ours = p.run(&[b"XRANGE", key.as_bytes(), b"-", b"+"]);
        fnv(&mut digest, &ours);
    }
    if p.redis.is_some() && std::env::var_os("STREAMS_RECORD").is_some() {
        println!("random_sequence seed {seed}: digest {digest:#x}");
        return;
    }
    assert_eq!(digest, want_digest, "digest of the replies, seed {seed}");
}

#[test]
fn random_sequence_matches_redis_default_nodes() {
    random_sequence(0x5eed_0001, 600, "100", 0x1446_ac8c_587c_1178);
}

#[test]
fn random_sequence_matches_redis_small_nodes() {
    random_sequence(0x5eed_0002, 600, "3", 0x3320_3f77_5273_732a);
}
