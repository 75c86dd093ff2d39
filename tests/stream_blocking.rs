//! XREAD / XREADGROUP, blocking included.
//!
//! - `scenarios_match_redis`: scripted sessions of several clients (some blocked while others
//!   write). Every reply is compared byte for byte with the script, written from redis-server
//!   7.0.15's replies; when redis-server is on PATH the scripts run against it too. shoal runs
//!   them with --shards 1 and --shards 4 (the two-stream keys live on different shards there).
//! - Timeouts (RESP2 and RESP3 nulls, accuracy), INFO blocked_clients and CLIENT LIST, no CPU
//!   while blocked, and a many-consumer XREADGROUP run across shards where every entry must be
//!   delivered exactly once.

mod common;
use common::{read_reply, resp, shard_of, RedisServer, Server};

use std::collections::HashMap;
use std::io::{BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

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

    fn send(&mut self, line: &str) {
        let args: Vec<&[u8]> = line.split(' ').map(|w| w.as_bytes()).collect();
        self.w.write_all(&resp(&args)).expect("send");
    }

    fn reply(&mut self) -> Vec<u8> {
        read_reply(&mut self.r).unwrap_or_else(|e| panic!("no reply: {e}"))
    }

    fn call(&mut self, line: &str) -> Vec<u8> {
        self.send(line);
        self.reply()
    }

    /// True when no reply arrives within `ms`.
    fn quiet(&mut self, ms: u64) -> bool {
        self.w
            .set_read_timeout(Some(Duration::from_millis(ms)))
            .unwrap();
        let r = read_reply(&mut self.r);
        self.w
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        match r {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => true,
            Err(e) => panic!("read: {e}"),
            Ok(got) => {
                eprintln!("unexpected reply {:?}", String::from_utf8_lossy(&got));
                false
            }
        }
    }
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// (client, command, expected reply). Commands are words separated by single spaces, or:
/// `&CMD` sends CMD without reading (a client that blocks), `<` reads the reply of the client's
/// pending command, `quiet` checks the client has no reply yet, `close` drops the connection,
/// `sleep MS`. An expected reply of `?` is not checked.
type Step = (&'static str, &'static str, &'static str);

const OK: &str = "+OK\r\n";
const NIL: &str = "*-1\r\n";

/// Two stream keys on different shards under --shards 4.
const K1: &str = "{a}s";
const K2: &str = "{b}s";

fn entry(id: &str, f: &str, v: &str) -> String {
    format!(
        "*2\r\n${}\r\n{id}\r\n*2\r\n${}\r\n{f}\r\n${}\r\n{v}\r\n",
        id.len(),
        f.len(),
        v.len()
    )
}

/// XREAD's reply for one key: `*1` then `[key, entries]`.
fn one(key: &str, entries: &[&String]) -> String {
    format!(
        "*1\r\n*2\r\n${}\r\n{key}\r\n*{}\r\n{}",
        key.len(),
        entries.len(),
        entries.iter().map(|e| e.as_str()).collect::<String>()
    )
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn scenarios() -> Vec<(&'static str, Vec<Step>)> {
    let e21 = entry("2-1", "b", "2");
    let e31 = entry("3-1", "c", "3");
    vec![
        (
            "BLOCK 0 woken by an XADD with $, just the new entry",
            vec![
                ("a", "XADD s 1-1 a 1", "$3\r\n1-1\r\n"),
                ("b", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("b", "quiet", ""),
                ("a", "XADD s 2-1 b 2", "$3\r\n2-1\r\n"),
                ("b", "<", leak(one("s", &[&e21]))),
                // With data there already, XREAD BLOCK answers at once.
                ("b", "XREAD BLOCK 0 STREAMS s 1-1", leak(one("s", &[&e21]))),
            ],
        ),
        (
            "several readers of one stream are all served",
            vec![
                ("b", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("c", "&XREAD BLOCK 0 STREAMS s 0", ""),
                ("d", "&XREAD COUNT 5 BLOCK 0 STREAMS s $", ""),
                ("d", "quiet", ""),
                ("a", "XADD s 2-1 b 2", "?"),
                ("b", "<", leak(one("s", &[&e21]))),
                ("c", "<", leak(one("s", &[&e21]))),
                ("d", "<", leak(one("s", &[&e21]))),
            ],
        ),
        (
            "XREADGROUP readers are served in the order they blocked",
            vec![
                ("a", "XGROUP CREATE s g $ MKSTREAM", OK),
                ("b", "&XREADGROUP GROUP g c1 BLOCK 0 STREAMS s >", ""),
                ("b", "quiet", ""),
                ("c", "&XREADGROUP GROUP g c2 BLOCK 0 STREAMS s >", ""),
                ("c", "quiet", ""),
                ("d", "&XREADGROUP GROUP g c3 COUNT 1 BLOCK 0 STREAMS s >", ""),
                ("d", "quiet", ""),
                ("a", "XADD s 2-1 b 2", "?"),
                ("b", "<", leak(one("s", &[&e21]))),
                ("c", "quiet", ""),
                ("a", "XADD s 3-1 c 3", "?"),
                ("c", "<", leak(one("s", &[&e31]))),
                ("a", "XADD s 4-1 d 4", "?"),
                ("d", "<", leak(one("s", &[&entry("4-1", "d", "4")]))),
                (
                    "a",
                    "XPENDING s g",
                    "*4\r\n:3\r\n$3\r\n2-1\r\n$3\r\n4-1\r\n*3\r\n*2\r\n$2\r\nc1\r\n$1\r\n1\r\n*2\r\n$2\r\nc2\r\n$1\r\n1\r\n*2\r\n$2\r\nc3\r\n$1\r\n1\r\n",
                ),
            ],
        ),
        (
            "a reader that disconnects leaves nothing behind",
            vec![
                ("a", "XGROUP CREATE s g $ MKSTREAM", OK),
                ("b", "&XREADGROUP GROUP g gone BLOCK 0 STREAMS s >", ""),
                ("b", "quiet", ""),
                ("b", "close", ""),
                ("c", "&XREADGROUP GROUP g stays BLOCK 0 STREAMS s >", ""),
                ("c", "quiet", ""),
                ("a", "XADD s 2-1 b 2", "?"),
                ("c", "<", leak(one("s", &[&e21]))),
                (
                    "a",
                    "XPENDING s g",
                    "*4\r\n:1\r\n$3\r\n2-1\r\n$3\r\n2-1\r\n*1\r\n*2\r\n$5\r\nstays\r\n$1\r\n1\r\n",
                ),
            ],
        ),
        (
            "two streams on different shards: the XADD lands on either",
            vec![
                ("a", leak(format!("XADD {K1} 1-1 a 1")), "?"),
                ("a", leak(format!("XADD {K2} 1-1 a 1")), "?"),
                ("b", leak(format!("&XREAD BLOCK 0 STREAMS {K1} {K2} $ $")), ""),
                ("b", "quiet", ""),
                ("a", leak(format!("XADD {K2} 2-1 b 2")), "?"),
                ("b", "<", leak(one(K2, &[&e21]))),
                ("b", leak(format!("&XREAD BLOCK 0 STREAMS {K1} {K2} $ $")), ""),
                ("b", "quiet", ""),
                ("a", leak(format!("XADD {K1} 3-1 c 3")), "?"),
                ("b", "<", leak(one(K1, &[&e31]))),
                // Both have data: a plain read answers both, in argument order.
                (
                    "b",
                    leak(format!("XREAD BLOCK 0 STREAMS {K2} {K1} 1-1 1-1")),
                    leak(format!(
                        "*2\r\n*2\r\n$4\r\n{K2}\r\n*1\r\n{e21}*2\r\n$4\r\n{K1}\r\n*1\r\n{e31}"
                    )),
                ),
                // Errors come in key order whatever shard the keys are on.
                ("a", leak(format!("SET {K2}x str")), OK),
                (
                    "b",
                    leak(format!("XREAD BLOCK 0 STREAMS {K1} {K2}x {K1} 1-1 0 bad")),
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
                (
                    "b",
                    leak(format!("XREAD BLOCK 0 STREAMS {K1} {K2}x bad 0")),
                    "-ERR Invalid stream ID specified as stream command argument\r\n",
                ),
            ],
        ),
        (
            "XREADGROUP over two shards, NOACK",
            vec![
                ("a", leak(format!("XGROUP CREATE {K1} g $ MKSTREAM")), OK),
                ("a", leak(format!("XGROUP CREATE {K2} g $ MKSTREAM")), OK),
                (
                    "b",
                    leak(format!("&XREADGROUP GROUP g c NOACK BLOCK 0 STREAMS {K1} {K2} > >")),
                    "",
                ),
                ("b", "quiet", ""),
                ("a", leak(format!("XADD {K2} 2-1 b 2")), "?"),
                ("b", "<", leak(one(K2, &[&e21]))),
                ("a", leak(format!("XPENDING {K2} g")), "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
                (
                    "b",
                    leak(format!("XREADGROUP GROUP g c STREAMS {K1} {K2} 0 0")),
                    leak(format!("*2\r\n*2\r\n$4\r\n{K1}\r\n*0\r\n*2\r\n$4\r\n{K2}\r\n*0\r\n")),
                ),
                (
                    "b",
                    leak(format!("XREADGROUP GROUP g c STREAMS {K1} {K2} > >")),
                    NIL,
                ),
                (
                    "b",
                    leak(format!("XREADGROUP GROUP g c STREAMS {K1} nosuch > >")),
                    "-NOGROUP No such key 'nosuch' or consumer group 'g' in XREADGROUP with GROUP option\r\n",
                ),
            ],
        ),
        (
            "a key deleted or re-typed while readers block",
            vec![
                ("a", "XGROUP CREATE s g $ MKSTREAM", OK),
                ("b", "&XREADGROUP GROUP g c BLOCK 0 STREAMS s >", ""),
                ("c", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("c", "quiet", ""),
                ("a", "DEL s", ":1\r\n"),
                ("b", "<", "-UNBLOCKED the stream key no longer exists\r\n"),
                ("a", "SET s str", OK),
                ("c", "quiet", ""),
                ("a", "DEL s", ":1\r\n"),
                ("a", "XADD s 1-1 a 1", "?"),
                ("c", "<", leak(one("s", &[&entry("1-1", "a", "1")]))),
                ("a", "XGROUP CREATE s g2 $", OK),
                ("b", "&XREADGROUP GROUP g2 c BLOCK 0 STREAMS s >", ""),
                ("b", "quiet", ""),
                ("a", "XGROUP DESTROY s g2", ":1\r\n"),
                (
                    "b",
                    "<",
                    "-NOGROUP the consumer group this client was blocked on no longer exists\r\n",
                ),
                ("a", "XGROUP CREATE s g3 $", OK),
                ("b", "&XREADGROUP GROUP g3 c BLOCK 0 STREAMS s >", ""),
                ("b", "quiet", ""),
                ("a", "SET s overwritten", OK),
                ("b", "<", "-UNBLOCKED the stream key no longer exists\r\n"),
                (
                    "b",
                    "XREAD BLOCK 0 STREAMS s $",
                    "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                ),
            ],
        ),
        (
            "moving IDs (XSETID, XGROUP SETID) or deleting entries serves nobody",
            vec![
                ("a", "XADD s 1-1 a 1", "?"),
                ("a", "XGROUP CREATE s g $", OK),
                ("b", "&XREADGROUP GROUP g c BLOCK 0 STREAMS s >", ""),
                ("c", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("c", "quiet", ""),
                ("a", "XGROUP SETID s g 0", OK),
                ("a", "XSETID s 5-0", OK),
                ("a", "XLEN s", ":1\r\n"),
                ("a", "XDEL s 1-1", ":1\r\n"),
                ("a", "XTRIM s MAXLEN 0", ":0\r\n"),
                ("b", "quiet", ""),
                ("c", "quiet", ""),
                ("a", "XADD s 6-1 b 2", "?"),
                ("b", "<", leak(one("s", &[&entry("6-1", "b", "2")]))),
                ("c", "<", leak(one("s", &[&entry("6-1", "b", "2")]))),
            ],
        ),
        (
            "a transaction's writes are served together, after EXEC",
            vec![
                ("a", "XADD s 1-1 a 1", "?"),
                ("b", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("c", "&XREAD COUNT 1 BLOCK 0 STREAMS s $", ""),
                ("c", "quiet", ""),
                ("a", "MULTI", OK),
                ("a", "XADD s 2-1 b 2", "+QUEUED\r\n"),
                ("a", "XADD s 3-1 c 3", "+QUEUED\r\n"),
                ("a", "EXEC", "*2\r\n$3\r\n2-1\r\n$3\r\n3-1\r\n"),
                ("b", "<", leak(one("s", &[&e21, &e31]))),
                ("c", "<", leak(one("s", &[&e21]))),
                // Inside MULTI nothing blocks: nil at once.
                ("a", "MULTI", OK),
                ("a", "XREAD BLOCK 0 STREAMS s $", "+QUEUED\r\n"),
                ("a", "XREADGROUP GROUP nosuch c BLOCK 0 STREAMS s >", "+QUEUED\r\n"),
                (
                    "a",
                    "EXEC",
                    "*2\r\n*-1\r\n-NOGROUP No such key 's' or consumer group 'nosuch' in XREADGROUP with GROUP option\r\n",
                ),
            ],
        ),
        (
            "XREAD on missing keys, counts, errors",
            vec![
                ("a", "XREAD STREAMS s 0", NIL),
                ("a", "XREAD BLOCK 10 STREAMS s 0", NIL),
                ("b", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("b", "quiet", ""),
                ("a", "XADD s 5-1 a 1", "?"),
                ("b", "<", leak(one("s", &[&entry("5-1", "a", "1")]))),
                ("a", "XADD s 6-1 b 2", "?"),
                ("a", "XREAD COUNT 1 STREAMS s 0", leak(one("s", &[&entry("5-1", "a", "1")]))),
                ("a", "XREAD COUNT -5 STREAMS s 5", leak(one("s", &[&entry("5-1", "a", "1"), &entry("6-1", "b", "2")]))),
                ("a", "XREAD COUNT x STREAMS s 0", "-ERR value is not an integer or out of range\r\n"),
                ("a", "XREAD BLOCK -1 STREAMS s 0", "-ERR timeout is negative\r\n"),
                ("a", "XREAD BLOCK x STREAMS s 0", "-ERR timeout is not an integer or out of range\r\n"),
                ("a", "XREAD STREAMS s", "-ERR wrong number of arguments for 'xread' command\r\n"),
                ("a", "XREAD STREAMS s t 0", "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"),
                ("a", "XREAD FOO STREAMS s 0", "-ERR syntax error\r\n"),
                ("a", "XREAD COUNT 1 BLOCK 1 s 0", "-ERR syntax error\r\n"),
                ("a", "XREAD GROUP g c STREAMS s 0", "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n"),
                ("a", "XREAD NOACK STREAMS s 0", "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n"),
                ("a", "XREAD STREAMS s >", "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"),
                ("a", "XREAD STREAMS s 1-x", "-ERR Invalid stream ID specified as stream command argument\r\n"),
                ("a", "XREADGROUP GROUP g c STREAMS s $", "-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n"),
                ("a", "XGROUP CREATE s g 0", OK),
                ("a", "XREADGROUP GROUP g c STREAMS s $", "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n"),
                ("a", "XREADGROUP COUNT 1 STREAMS s 0 x y", "-ERR Missing GROUP option for XREADGROUP\r\n"),
                ("a", "XREADGROUP GROUP g c COUNT 1 STREAMS s >", leak(one("s", &[&entry("5-1", "a", "1")]))),
                ("a", "XDEL s 5-1", ":1\r\n"),
                // History: the deleted entry comes back with a null in place of its fields.
                ("a", "XREADGROUP GROUP g c STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*-1\r\n"),
                ("a", "SET str x", OK),
                ("a", "XREAD BLOCK 0 STREAMS str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
            ],
        ),
        (
            "RESP3: a map, and null on timeout",
            vec![
                ("a", "HELLO 3", "?"),
                ("a", "XADD s 1-1 a 1", "?"),
                ("a", "XREAD STREAMS s 0", leak(format!("%1\r\n$1\r\ns\r\n*1\r\n{}", entry("1-1", "a", "1")))),
                ("a", "XREAD BLOCK 20 STREAMS s $", "_\r\n"),
                ("a", "&XREAD BLOCK 0 STREAMS s $", ""),
                ("a", "quiet", ""),
                ("b", "XADD s 2-1 b 2", "?"),
                ("a", "<", leak(format!("%1\r\n$1\r\ns\r\n*1\r\n{e21}"))),
            ],
        ),
    ]
}

fn run_scenario(port: u16, name: &str, steps: &[Step], server: &str) {
    let mut clients: HashMap<&str, Conn> = HashMap::new();
    let mut flush = Conn::open(port);
    assert_eq!(flush.call("FLUSHALL"), b"+OK\r\n");
    for (i, &(client, line, want)) in steps.iter().enumerate() {
        let ctx = || format!("{server}, scenario {name:?}, step {i} ({client}: {line})");
        if let Some(ms) = line.strip_prefix("sleep ") {
            std::thread::sleep(Duration::from_millis(ms.parse().unwrap()));
            continue;
        }
        if line == "close" {
            clients.remove(client);
            continue;
        }
        let c = clients.entry(client).or_insert_with(|| Conn::open(port));
        if line == "quiet" {
            assert!(c.quiet(150), "{}: a reply came too early", ctx());
            continue;
        }
        if let Some(cmd) = line.strip_prefix('&') {
            c.send(cmd);
            continue;
        }
        let got = if line == "<" { c.reply() } else { c.call(line) };
        if want != "?" {
            assert_eq!(show(&got), show(want.as_bytes()), "{}", ctx());
        }
    }
}

#[test]
fn keys_of_the_two_stream_scenarios_are_on_different_shards() {
    assert_ne!(shard_of(K1, 4), shard_of(K2, 4));
}

#[test]
fn scenarios_match_redis() {
    let redis = RedisServer::start(&[]);
    for (name, steps) in scenarios() {
        if let Some(r) = &redis {
            run_scenario(r.port, name, &steps, "redis-server");
        }
    }
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        for (name, steps) in scenarios() {
            run_scenario(s.port, name, &steps, &format!("shoal --shards {shards}"));
        }
    }
}

/// `+` reads the last entry (Redis 7.4; 7.0 refuses it), and blocks for the next on an empty
/// stream.
#[test]
fn xread_plus_is_the_last_entry() {
    let s = Server::start(2, &[]);
    let mut a = Conn::open(s.port);
    assert_eq!(a.call("XREAD STREAMS s +"), NIL.as_bytes());
    a.call("XADD s 1-1 a 1");
    a.call("XADD s 2-1 b 2");
    assert_eq!(
        show(&a.call("XREAD STREAMS s +")),
        show(one("s", &[&entry("2-1", "b", "2")]).as_bytes())
    );
    let mut b = Conn::open(s.port);
    b.send("XREAD BLOCK 0 STREAMS t +");
    assert!(b.quiet(100));
    a.call("XADD t 7-1 x y");
    assert_eq!(
        show(&b.reply()),
        show(one("t", &[&entry("7-1", "x", "y")]).as_bytes())
    );
    assert_eq!(
        show(&a.call("XREADGROUP GROUP g c STREAMS s +")),
        show(b"-NOGROUP No such key 's' or consumer group 'g' in XREADGROUP with GROUP option\r\n")
    );
}

#[test]
fn timeouts_answer_null_after_about_the_timeout() {
    let s = Server::start(4, &[]);
    for (proto, null) in [("2", "*-1\r\n"), ("3", "_\r\n")] {
        let mut c = Conn::open(s.port);
        c.call(&format!("HELLO {proto}"));
        for (keys, ms) in [("s $", 150u64), (&format!("{K1} {K2} $ $"), 250)] {
            let t = Instant::now();
            let got = c.call(&format!("XREAD BLOCK {ms} STREAMS {keys}"));
            let took = t.elapsed();
            assert_eq!(show(&got), show(null.as_bytes()));
            assert!(
                took >= Duration::from_millis(ms) && took < Duration::from_millis(ms + 150),
                "BLOCK {ms} answered after {took:?}"
            );
        }
        // A pipelined command behind a blocked one waits for it, then runs.
        c.w.write_all(
            &[
                resp(&[b"XREAD", b"BLOCK", b"50", b"STREAMS", b"s", b"$"]),
                resp(&[b"PING"]),
            ]
            .concat(),
        )
        .unwrap();
        assert_eq!(show(&c.reply()), show(null.as_bytes()));
        assert_eq!(c.reply(), b"+PONG\r\n");
    }
}

fn info_blocked(c: &mut Conn) -> u64 {
    let info = String::from_utf8_lossy(&c.call("INFO clients")).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients")
}

/// Server CPU time (user + system) in clock ticks, from /proc.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

#[test]
fn blocked_clients_are_counted_listed_and_cost_no_cpu() {
    let s = Server::start(4, &[]);
    let mut a = Conn::open(s.port);
    let mut blocked: Vec<Conn> = (0..40)
        .map(|i| {
            let mut c = Conn::open(s.port);
            c.send(&format!("XREAD BLOCK 0 STREAMS k{} {K1} $ $", i % 7));
            c
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_blocked(&mut a) != 40 {
        assert!(
            Instant::now() < deadline,
            "blocked_clients never reached 40"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let list = String::from_utf8_lossy(&a.call("CLIENT LIST")).into_owned();
    assert_eq!(list.matches("flags=b ").count(), 40, "{list}");
    assert!(list.contains("cmd=xread "), "{list}");

    // Idle with 40 blocked clients: the server sleeps (cron ticks only).
    let before = cpu_ticks(s.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(s.pid()) - before;
    assert!(
        used <= 10,
        "{used} ticks of CPU in 1 s while clients were blocked"
    );

    // One XADD on K1 serves all of them; half go away first.
    for c in blocked.drain(..20) {
        drop(c);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while info_blocked(&mut a) != 20 {
        assert!(
            Instant::now() < deadline,
            "disconnected clients stayed blocked"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    a.call(&format!("XADD {K1} 1-1 f v"));
    for c in &mut blocked {
        assert_eq!(
            show(&c.reply()),
            show(one(K1, &[&entry("1-1", "f", "v")]).as_bytes())
        );
    }
    assert_eq!(info_blocked(&mut a), 0);
}

/// Producers add to two streams on different shards while consumers of one group read both
/// with XREADGROUP BLOCK and acknowledge: every entry is delivered exactly once, none is lost.
#[test]
fn consumers_across_shards_get_every_entry_exactly_once() {
    let s = Server::start(4, &[]);
    let port = s.port;
    let mut a = Conn::open(port);
    for k in [K1, K2] {
        assert_eq!(
            a.call(&format!("XGROUP CREATE {k} g $ MKSTREAM")),
            OK.as_bytes()
        );
    }
    const PER_PRODUCER: usize = 300;
    let consumers: Vec<_> = (0..6)
        .map(|i| {
            std::thread::spawn(move || {
                let mut c = Conn::open(port);
                let mut got: Vec<String> = Vec::new();
                loop {
                    let r = c.call(&format!(
                        "XREADGROUP GROUP g c{i} COUNT 7 BLOCK 400 STREAMS {K1} {K2} > >"
                    ));
                    if r == b"*-1\r\n" {
                        return got;
                    }
                    let text = String::from_utf8_lossy(&r).into_owned();
                    let lines: Vec<&str> = text.split("\r\n").collect();
                    let mut key = "";
                    for (j, l) in lines.iter().enumerate() {
                        if *l == K1 || *l == K2 {
                            key = l;
                        } else if l.starts_with('p') && lines[j - 1].starts_with('$') {
                            // A value "p<producer>-<n>".
                            got.push(format!("{key}/{l}"));
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let producers: Vec<_> = (0..3)
        .map(|p| {
            std::thread::spawn(move || {
                let mut c = Conn::open(port);
                for n in 0..PER_PRODUCER {
                    let k = if n % 2 == 0 { K1 } else { K2 };
                    let r = c.call(&format!("XADD {k} * v p{p}-{n}"));
                    assert!(r.starts_with(b"$"), "{}", show(&r));
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut all: Vec<String> = Vec::new();
    for c in consumers {
        all.extend(c.join().unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, all.len(), "an entry was delivered twice");
    assert_eq!(all.len(), 3 * PER_PRODUCER, "entries were lost");
    for p in 0..3 {
        for n in 0..PER_PRODUCER {
            let k = if n % 2 == 0 { K1 } else { K2 };
            assert!(all.binary_search(&format!("{k}/p{p}-{n}")).is_ok());
        }
    }
    // Every delivered entry is pending once in the group, on its own stream.
    for k in [K1, K2] {
        let r = a.call(&format!("XPENDING {k} g"));
        assert!(
            r.starts_with(format!("*4\r\n:{}\r\n", 3 * PER_PRODUCER / 2).as_bytes()),
            "{}",
            show(&r)
        );
    }
}
