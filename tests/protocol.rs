//! Wire-level tests against the real binary: pipelining, inline commands, protocol errors
//! (texts and the closed connection exactly as Redis 7.0), huge declared lengths, garbage input,
//! big values and RESP3. Every expected byte string was checked against redis-server 7.0.15.

mod common;
use common::{resp, Server};

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A raw connection with a read timeout, for byte-exact checks.
fn connect(s: &Server) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    c.set_nodelay(true).ok();
    c
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn send(c: &mut TcpStream, bytes: &[u8]) {
    c.write_all(bytes).expect("write");
}

/// Reads exactly `want.len()` bytes and compares them with `want`.
fn expect(c: &mut TcpStream, want: &[u8], what: &str) {
    let mut got = vec![0u8; want.len()];
    if let Err(e) = c.read_exact(&mut got) {
        panic!(
            "{what}: reading {} bytes ({:?}): {e}",
            want.len(),
            show(want)
        );
    }
    assert_eq!(show(&got), show(want), "{what}");
}

fn roundtrip(c: &mut TcpStream, req: &[u8], want: &[u8]) {
    send(c, req);
    expect(c, want, &format!("request {:?}", show(req)));
}

/// Everything the peer sends until it closes. A reset after the data (the server closed with
/// unread input, as Redis does) also ends the read. Panics if the peer does not close in 5 s.
fn read_to_close(c: &mut TcpStream) -> Vec<u8> {
    let mut v = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        match c.read(&mut b) {
            Ok(0) => return v,
            Ok(n) => v.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return v,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!(
                "connection not closed by the server ({e}); got so far {:?}",
                show(&v)
            ),
        }
    }
}

/// True if nothing arrives within `ms` and the connection stays open.
fn silent_for(c: &mut TcpStream, ms: u64) -> Result<(), String> {
    c.set_read_timeout(Some(Duration::from_millis(ms))).ok();
    let mut b = [0u8; 256];
    let r = match c.read(&mut b) {
        Ok(0) => Err("connection closed".to_string()),
        Ok(n) => Err(format!("unexpected reply {:?}", show(&b[..n]))),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(()),
        Err(e) => Err(format!("read error {e}")),
    };
    c.set_read_timeout(Some(Duration::from_secs(5))).ok();
    r
}

fn bulk(v: &[u8]) -> Vec<u8> {
    let mut o = format!("${}\r\n", v.len()).into_bytes();
    o.extend_from_slice(v);
    o.extend_from_slice(b"\r\n");
    o
}

fn ping_ok(s: &Server) {
    let mut c = connect(s);
    roundtrip(&mut c, b"PING\r\n", b"+PONG\r\n");
}

/// Small deterministic PRNG (xorshift64*), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Resident set size of a process in KiB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// 100 commands over keys on every shard, in one write: GETs and SETs of the same key interleave
/// so a reordering of local (inline) and remote (batched) commands shows up as a wrong value.
fn pipeline(rng: &mut Rng, n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut model: HashMap<String, String> = HashMap::new();
    let (mut req, mut want) = (Vec::new(), Vec::new());
    for i in 0..n {
        let key = format!("pk{}", rng.below(12));
        match rng.below(5) {
            0 | 1 => {
                let val = format!("v{i}");
                req.extend(resp(&[b"SET", key.as_bytes(), val.as_bytes()]));
                want.extend_from_slice(b"+OK\r\n");
                model.insert(key, val);
            }
            2 => {
                req.extend(resp(&[b"GET", key.as_bytes()]));
                match model.get(&key) {
                    Some(v) => want.extend(bulk(v.as_bytes())),
                    None => want.extend_from_slice(b"$-1\r\n"),
                }
            }
            3 => {
                req.extend(resp(&[b"DEL", key.as_bytes()]));
                let n = model.remove(&key).is_some() as i64;
                want.extend(format!(":{n}\r\n").into_bytes());
            }
            _ => {
                // Keyless and inline commands in between.
                if rng.below(2) == 0 {
                    req.extend_from_slice(b"PING\r\n");
                    want.extend_from_slice(b"+PONG\r\n");
                } else {
                    req.extend(resp(&[b"EXISTS", key.as_bytes(), b"pk0"]));
                    let n = model.contains_key(&key) as i64 + model.contains_key("pk0") as i64;
                    want.extend(format!(":{n}\r\n").into_bytes());
                }
            }
        }
    }
    req.extend(resp(&[
        b"DEL", b"pk0", b"pk1", b"pk2", b"pk3", b"pk4", b"pk5", b"pk6", b"pk7", b"pk8", b"pk9",
        b"pk10", b"pk11",
    ]));
    want.extend(format!(":{}\r\n", model.len()).into_bytes());
    (req, want)
}

#[test]
fn pipelined_replies_in_order() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = connect(&s);
        let mut rng = Rng(0x5eed_0000 + shards as u64);
        // One write.
        for round in 0..5 {
            let (req, want) = pipeline(&mut rng, 100);
            send(&mut c, &req);
            expect(
                &mut c,
                &want,
                &format!("shards {shards} round {round}: 100 pipelined commands"),
            );
        }
        // The same kind of pipeline cut at odd byte boundaries: commands split across reads.
        for round in 0..3 {
            let (req, want) = pipeline(&mut rng, 100);
            for chunk in req.chunks(7 + round * 13) {
                send(&mut c, chunk);
            }
            expect(
                &mut c,
                &want,
                &format!("shards {shards} round {round}: chunked pipeline"),
            );
        }
        // A long pipeline written from another thread while replies are read.
        let (req, want) = pipeline(&mut rng, 10_000);
        let mut w = c.try_clone().expect("clone");
        let writer = std::thread::spawn(move || w.write_all(&req).is_ok());
        expect(
            &mut c,
            &want,
            &format!("shards {shards}: 10000 pipelined commands"),
        );
        assert!(writer.join().unwrap_or(false));
    }
}

/// Connection state changes inside a pipeline (protocol, database, QUIT) apply exactly from
/// the next command on, whether that command runs on this shard or another.
#[test]
fn pipelined_state_changes() {
    let keys: Vec<Vec<u8>> = (0..8).map(|i| format!("k{i}").into_bytes()).collect();
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        // HELLO 3 between GETs of missing keys: RESP2 nulls before, RESP3 nulls after.
        let mut c = connect(&s);
        let mut req = Vec::new();
        keys.iter().for_each(|k| req.extend(resp(&[b"GET", k])));
        req.extend(resp(&[b"HELLO", b"3"]));
        keys.iter().for_each(|k| req.extend(resp(&[b"GET", k])));
        send(&mut c, &req);
        expect(
            &mut c,
            &b"$-1\r\n".repeat(8),
            &format!("shards {shards}: GETs before HELLO 3"),
        );
        let tail = b"$7\r\nmodules\r\n*0\r\n";
        let (mut got, mut b) = (Vec::new(), [0u8; 1]);
        while !got.ends_with(tail) {
            c.read_exact(&mut b).expect("HELLO reply");
            got.push(b[0]);
            assert!(got.len() < 1000, "HELLO 3 reply: {:?}", show(&got));
        }
        assert!(
            got.starts_with(b"%7\r\n"),
            "HELLO 3 reply: {:?}",
            show(&got)
        );
        expect(
            &mut c,
            &b"_\r\n".repeat(8),
            &format!("shards {shards}: GETs after HELLO 3"),
        );

        // SELECT between single-key and multi-key commands.
        let mut c = connect(&s);
        let (mut req, mut want) = (Vec::new(), Vec::new());
        for k in &keys {
            req.extend(resp(&[b"SET", k, b"db0"]));
            want.extend_from_slice(b"+OK\r\n");
        }
        req.extend(resp(&[b"SELECT", b"1"]));
        want.extend_from_slice(b"+OK\r\n");
        for k in &keys {
            req.extend(resp(&[b"GET", k]));
            want.extend_from_slice(b"$-1\r\n");
        }
        let mut mset: Vec<&[u8]> = vec![b"MSET"];
        keys.iter()
            .for_each(|k| mset.extend([k.as_slice(), b"db1"]));
        req.extend(resp(&mset));
        want.extend_from_slice(b"+OK\r\n");
        let mut mget: Vec<&[u8]> = vec![b"MGET"];
        keys.iter().for_each(|k| mget.push(k));
        for (db, val) in [(b"0", b"db0"), (b"1", b"db1")] {
            req.extend(resp(&[b"SELECT", db]));
            want.extend_from_slice(b"+OK\r\n");
            req.extend(resp(&mget));
            want.extend_from_slice(b"*8\r\n");
            (0..8).for_each(|_| want.extend(bulk(val)));
            req.extend(resp(&[b"GET", b"k3"]));
            want.extend(bulk(val));
        }
        req.extend(resp(&[b"FLUSHALL"]));
        want.extend_from_slice(b"+OK\r\n");
        send(&mut c, &req);
        expect(
            &mut c,
            &want,
            &format!("shards {shards}: SELECT inside a pipeline"),
        );

        // QUIT replies +OK and closes; nothing after it runs.
        let mut c = connect(&s);
        let mut req = b"PING\r\n".to_vec();
        req.extend(resp(&[b"SET", b"k1", b"x"]));
        req.extend_from_slice(b"QUIT\r\n");
        req.extend(resp(&[b"SET", b"k2", b"after-quit"]));
        send(&mut c, &req);
        assert_eq!(
            show(&read_to_close(&mut c)),
            "+PONG\r\n+OK\r\n+OK\r\n",
            "shards {shards}: QUIT"
        );
        let mut c = connect(&s);
        roundtrip(&mut c, &resp(&[b"EXISTS", b"k1", b"k2"]), b":1\r\n");
    }
}

#[test]
fn inline_commands() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = connect(&s);
        roundtrip(&mut c, b"PING\r\n", b"+PONG\r\n");
        roundtrip(&mut c, b"ping\n", b"+PONG\r\n");
        // Empty lines and lines of spaces produce no reply.
        roundtrip(&mut c, b"\r\n\n   \r\n\t\r\nPING\r\n", b"+PONG\r\n");
        roundtrip(
            &mut c,
            b"SET k \"a b\"\r\nGET k\r\n",
            b"+OK\r\n$3\r\na b\r\n",
        );
        roundtrip(
            &mut c,
            b"SET  k   'it\\'s'  \r\nGET k\r\n",
            b"+OK\r\n$4\r\nit's\r\n",
        );
        roundtrip(
            &mut c,
            b"SET k \"\\x41\\n\\\"q\\t\"\r\nGET k\r\n",
            b"+OK\r\n$5\r\nA\n\"q\t\r\n",
        );
        roundtrip(
            &mut c,
            b"SET k \"\\xZZ\"\r\nGET k\r\n",
            b"+OK\r\n$3\r\nxZZ\r\n",
        );
        roundtrip(
            &mut c,
            b"SET k 'a\"b'\r\nGET k\r\n",
            b"+OK\r\n$3\r\na\"b\r\n",
        );
        roundtrip(
            &mut c,
            b"GET k\r\nGET k\nPING\r\n",
            b"$3\r\na\"b\r\n$3\r\na\"b\r\n+PONG\r\n",
        );
        // Inline and multibulk mixed in one write.
        let mut req = b"SET m 1\r\n".to_vec();
        req.extend(resp(&[b"GET", b"m"]));
        req.extend_from_slice(b"GET m\r\n");
        roundtrip(&mut c, &req, b"+OK\r\n$1\r\n1\r\n$1\r\n1\r\n");
        // Inline errors keep the connection open.
        roundtrip(
            &mut c,
            b"NOSUCH a \"b c\"\r\nGET\r\n",
            b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b c' \r\n-ERR wrong number of arguments for 'get' command\r\n",
        );
        roundtrip(&mut c, b"PING\r\n", b"+PONG\r\n");
        // Unbalanced quotes close the connection; a closing quote must be followed by a space.
        for bad in [
            &b"SET k \"abc\r\n"[..],
            b"SET k \"a\"b\r\n",
            b"SET k 'abc\r\n",
            b"GET 'a'b\r\n",
        ] {
            let mut c = connect(&s);
            send(&mut c, bad);
            assert_eq!(
                show(&read_to_close(&mut c)),
                "-ERR Protocol error: unbalanced quotes in request\r\n",
                "shards {shards}: {:?}",
                show(bad)
            );
        }
        ping_ok(&s);
    }
}

/// Redis 7.0 keeps empty quoted inline arguments (`""`, `''`); older versions dropped them.
#[test]
fn inline_empty_arguments_are_kept() {
    let s = Server::start(1, &[]);
    let mut c = connect(&s);
    roundtrip(
        &mut c,
        b"SET ek \"\"\r\nGET ek\r\nSTRLEN ek\r\n",
        b"+OK\r\n$0\r\n\r\n:0\r\n",
    );
    roundtrip(&mut c, b"SET ek2 ''\r\nEXISTS ek2\r\n", b"+OK\r\n:1\r\n");
    roundtrip(
        &mut c,
        b"FOO \"\" a\r\n",
        b"-ERR unknown command 'FOO', with args beginning with: '' 'a' \r\n",
    );
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let too_big_inline = vec![b'a'; 70_000];
    let mut too_big_mbulk = b"*".to_vec();
    too_big_mbulk.extend(vec![b'1'; 70_000]);
    let mut too_big_bulk = b"*1\r\n".to_vec();
    too_big_bulk.extend(vec![b'$'; 70_000]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"*abc\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*+1\r\n$4\r\nPING\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*01\r\n$4\r\nPING\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*2147483648\r\n".to_vec(),
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\nx\r\n".to_vec(),
            "-ERR Protocol error: expected '$', got 'x'\r\n",
        ),
        (
            b"*2\r\n$4\r\nECHO\r\n:1\r\n".to_vec(),
            "-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"*1\r\n$abc\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$04\r\nPING\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$ 4\r\nPING\r\n".to_vec(),
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET k \"v\r\n".to_vec(),
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            too_big_inline,
            "-ERR Protocol error: too big inline request\r\n",
        ),
        (
            too_big_mbulk,
            "-ERR Protocol error: too big mbulk count string\r\n",
        ),
        (
            too_big_bulk,
            "-ERR Protocol error: too big bulk count string\r\n",
        ),
        // Commands before the bad one still run and reply first.
        (
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\n".to_vec(),
            "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ];
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut bystander = connect(&s);
        roundtrip(&mut bystander, &resp(&[b"SET", b"keep", b"1"]), b"+OK\r\n");
        for (bad, want) in &cases {
            let mut c = connect(&s);
            send(&mut c, bad);
            let got = read_to_close(&mut c);
            assert_eq!(
                show(&got),
                *want,
                "shards {shards}: {:?}",
                show(&bad[..bad.len().min(40)])
            );
            roundtrip(&mut bystander, &resp(&[b"GET", b"keep"]), b"$1\r\n1\r\n");
        }
        // The too-big inline limit counts the bytes after the last complete command.
        let mut c = connect(&s);
        let mut req = b"*1\r\n$4\r\n".to_vec();
        req.extend(vec![b'P'; 70_000]);
        send(&mut c, &req);
        assert_eq!(
            show(&read_to_close(&mut c)),
            "-ERR unknown command 'PPPP', with args beginning with: \r\n-ERR Protocol error: too big inline request\r\n",
            "shards {shards}"
        );
        ping_ok(&s);
    }
}

#[test]
fn bulk_length_over_proto_max_bulk_len_is_rejected() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        for bad in [
            &b"*1\r\n$2000000000\r\n"[..],
            b"*1\r\n$536870913\r\n",
            b"*1\r\n$99999999999999999999\r\n",
        ] {
            let mut c = connect(&s);
            send(&mut c, bad);
            assert_eq!(
                show(&read_to_close(&mut c)),
                "-ERR Protocol error: invalid bulk length\r\n",
                "shards {shards}: {:?}",
                show(bad)
            );
        }
        // Exactly 512 MB is allowed: the server waits for the payload.
        let mut c = connect(&s);
        send(&mut c, b"*1\r\n$536870912\r\n");
        if let Err(e) = silent_for(&mut c, 300) {
            panic!("shards {shards}: a 512MB bulk header must be accepted: {e}");
        }
        ping_ok(&s);
    }
}

/// Redis 7.0 accepts multibulk counts up to INT_MAX (the 1024*1024 limit is gone since 6.x);
/// it only reserves argv space for what arrives.
#[test]
fn multibulk_count_up_to_int_max_is_accepted() {
    let s = Server::start(1, &[]);
    for req in [
        &b"*1048577\r\n"[..],
        b"*2000000\r\n$4\r\nPING\r\n",
        b"*2147483647\r\n",
    ] {
        let mut c = connect(&s);
        send(&mut c, req);
        if let Err(e) = silent_for(&mut c, 300) {
            panic!(
                "{:?}: Redis 7.0 waits for the arguments, shoal: {e}",
                show(req)
            );
        }
    }
    ping_ok(&s);
}

#[test]
fn declared_but_unsent_bulk_reserves_no_memory() {
    let s = Server::start(4, &[]);
    let pid = s.pid();
    let before = rss_kb(pid);
    let mut clients = Vec::new();
    for _ in 0..4 {
        let mut c = connect(&s);
        // 400 MB declared, a few bytes sent.
        send(&mut c, b"*2\r\n$3\r\nSET\r\n$400000000\r\nabcdefgh");
        clients.push(c);
    }
    std::thread::sleep(Duration::from_millis(300));
    let during = rss_kb(pid);
    drop(clients);
    std::thread::sleep(Duration::from_millis(200));
    ping_ok(&s);
    let after = rss_kb(pid);
    assert!(
        during < before + 8 * 1024 && after < before + 8 * 1024,
        "RSS grew: before {before} kB, with 4 clients declaring 400MB {during} kB, after {after} kB"
    );
}

#[test]
fn random_garbage_never_kills_the_server() {
    let mut s = Server::start(4, &[]);
    let port = s.port;
    let deadline = Instant::now() + Duration::from_secs(3);
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t + 1));
                let pieces: &[&[u8]] = &[
                    b"*",
                    b"$",
                    b"\r\n",
                    b"\r",
                    b"\n",
                    b"-1",
                    b"0",
                    b"3",
                    b"2147483648",
                    b"\"",
                    b"'",
                    b"\\x",
                    b" ",
                    b"\0",
                    b"PING",
                    b"SET",
                    b"GET",
                    b"HELLO",
                    b"3",
                    b"DEL",
                    b"k",
                    b"EXISTS",
                    b"99999999999999999999",
                ];
                let mut conns = 0;
                while Instant::now() < deadline {
                    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
                        break;
                    };
                    c.set_read_timeout(Some(Duration::from_millis(50))).ok();
                    conns += 1;
                    for _ in 0..1 + rng.below(8) {
                        let mut buf = Vec::new();
                        for _ in 0..rng.below(40) {
                            if rng.below(3) == 0 {
                                buf.push(rng.next() as u8);
                            } else {
                                buf.extend_from_slice(
                                    pieces[rng.below(pieces.len() as u64) as usize],
                                );
                            }
                        }
                        if c.write_all(&buf).is_err() {
                            break;
                        }
                    }
                    // Read whatever came back, then hang up (sometimes mid-request).
                    let mut b = [0u8; 4096];
                    let _ = c.read(&mut b);
                }
                conns
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    assert!(total > 50, "only {total} connections made");
    assert!(s.try_wait().is_none(), "server exited");
    ping_ok(&s);
    let mut c = connect(&s);
    roundtrip(&mut c, &resp(&[b"SET", b"after", b"garbage"]), b"+OK\r\n");
    roundtrip(&mut c, &resp(&[b"GET", b"after"]), b"$7\r\ngarbage\r\n");
}

/// Clients that hang up while their pipelined commands are queued on other shards (or in the
/// coordinator) leave the server serving everyone else, with every write applied.
#[test]
fn clients_vanishing_mid_pipeline() {
    let s = Server::start(4, &[]);
    let mut req = Vec::new();
    for i in 0..1000 {
        let k = format!("van{}", i % 50);
        req.extend(resp(&[b"INCR", k.as_bytes()]));
        if i % 100 == 0 {
            req.extend(resp(&[b"MGET", b"van1", b"van2", b"van3", b"van4"]));
        }
    }
    for _ in 0..30 {
        let mut c = connect(&s);
        send(&mut c, &req);
        // Read a little (or nothing) and drop the connection with replies pending.
        let mut b = [0u8; 16];
        let _ = c.read(&mut b);
    }
    ping_ok(&s);
    // How many INCRs ran before each hang-up is up to the server (Redis drops unread input of a
    // client it fails to write to); every counter is a valid integer within bounds.
    let mut c = connect(&s);
    for i in 0..50 {
        let k = format!("van{i}");
        send(&mut c, &resp(&[b"INCRBY", k.as_bytes(), b"0"]));
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            c.read_exact(&mut b).expect("INCRBY reply");
            line.push(b[0]);
        }
        let n: i64 = show(&line[1..line.len() - 2]).parse().unwrap_or(-1);
        assert!(
            line[0] == b':' && (0..=600).contains(&n),
            "{k}: {:?}",
            show(&line)
        );
    }
}

#[test]
fn ten_megabyte_values_round_trip() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = connect(&s);
        let mut rng = Rng(42);
        let val: Vec<u8> = (0..10 << 20).map(|_| rng.next() as u8).collect();
        for key in [&b"big1"[..], b"big2", b"big3"] {
            let req = resp(&[b"SET", key, &val]);
            let mut w = c.try_clone().expect("clone");
            let writer = std::thread::spawn(move || w.write_all(&req).is_ok());
            expect(&mut c, b"+OK\r\n", "SET 10MB");
            assert!(writer.join().unwrap_or(false));
            send(&mut c, &resp(&[b"GET", key]));
            let mut got = vec![0u8; val.len() + 13];
            c.read_exact(&mut got).expect("read 10MB");
            assert_eq!(show(&got[..11]), "$10485760\r\n", "GET header");
            assert!(
                got[11..11 + val.len()] == val[..],
                "shards {shards}: 10MB value differs"
            );
            assert_eq!(&got[11 + val.len()..], b"\r\n");
        }
        roundtrip(
            &mut c,
            &resp(&[b"DEL", b"big1", b"big2", b"big3"]),
            b":3\r\n",
        );
    }
}

#[test]
fn empty_and_negative_multibulk_are_ignored() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = connect(&s);
        roundtrip(&mut c, b"*0\r\nPING\r\n", b"+PONG\r\n");
        roundtrip(
            &mut c,
            b"*-1\r\n*0\r\n*-5\r\n*1\r\n$4\r\nPING\r\n",
            b"+PONG\r\n",
        );
        roundtrip(&mut c, b"*0\r\n", b"");
        roundtrip(&mut c, b"PING\r\n", b"+PONG\r\n");
    }
}

/// Redis skips the two bytes after a bulk payload without checking them, and a NUL byte inside a
/// bulk is data.
#[test]
fn bulk_payload_quirks() {
    let s = Server::start(1, &[]);
    let mut c = connect(&s);
    roundtrip(&mut c, b"*1\r\n$4\r\nPINGxx", b"+PONG\r\n");
    roundtrip(
        &mut c,
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab\0cd\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        b"+OK\r\n$5\r\nab\0cd\r\n",
    );
    roundtrip(
        &mut c,
        b"*1\r\n$4\r\nPIN\r\n\r\n",
        b"-ERR unknown command 'PIN ', with args beginning with: \r\n",
    );
}

#[test]
fn resp3_after_hello_3() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = connect(&s);
        send(&mut c, &resp(&[b"HELLO", b"3"]));
        // %7 map; the client id varies, so read up to the end of the (fixed) tail.
        let tail = b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
        let mut got = Vec::new();
        let mut b = [0u8; 1];
        while !got.ends_with(tail) {
            c.read_exact(&mut b).expect("HELLO reply");
            got.push(b[0]);
            assert!(got.len() < 1000, "HELLO 3 reply: {:?}", show(&got));
        }
        let head = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:";
        assert!(got.starts_with(head), "HELLO 3 reply: {:?}", show(&got));
        roundtrip(&mut c, &resp(&[b"GET", b"missing"]), b"_\r\n");
        roundtrip(&mut c, &resp(&[b"SET", b"k", b"v"]), b"+OK\r\n");
        roundtrip(&mut c, &resp(&[b"GET", b"k"]), b"$1\r\nv\r\n");
        // Errors are the same in RESP3.
        roundtrip(
            &mut c,
            &resp(&[b"GET"]),
            b"-ERR wrong number of arguments for 'get' command\r\n",
        );
        roundtrip(
            &mut c,
            &resp(&[b"HELLO", b"4"]),
            b"-NOPROTO unsupported protocol version\r\n",
        );
        // Back to RESP2.
        send(&mut c, &resp(&[b"HELLO", b"2"]));
        let mut got = Vec::new();
        while !got.ends_with(b"$7\r\nmodules\r\n*0\r\n") {
            c.read_exact(&mut b).expect("HELLO reply");
            got.push(b[0]);
            assert!(got.len() < 1000, "HELLO 2 reply: {:?}", show(&got));
        }
        assert!(
            got.starts_with(b"*14\r\n$6\r\nserver\r\n"),
            "HELLO 2 reply: {:?}",
            show(&got)
        );
        roundtrip(&mut c, &resp(&[b"GET", b"missing"]), b"$-1\r\n");
    }
}

#[test]
fn unknown_command_and_arity_errors() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = connect(&s);
        let cases: &[(&[&[u8]], &str)] = &[
            (
                &[b"FOO"],
                "-ERR unknown command 'FOO', with args beginning with: \r\n",
            ),
            (
                &[b"foo", b"a", b"b"],
                "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
            ),
            (
                &[b"GET"],
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                &[b"GeT", b"a", b"b"],
                "-ERR wrong number of arguments for 'get' command\r\n",
            ),
            (
                &[b"SET", b"k"],
                "-ERR wrong number of arguments for 'set' command\r\n",
            ),
            (
                &[b"DEL"],
                "-ERR wrong number of arguments for 'del' command\r\n",
            ),
            (
                &[b"PING", b"a", b"b"],
                "-ERR wrong number of arguments for 'ping' command\r\n",
            ),
            (
                &[b"SELECT"],
                "-ERR wrong number of arguments for 'select' command\r\n",
            ),
            (&[b"SET", b"k", b"v", b"XX", b"NX"], "-ERR syntax error\r\n"),
            (
                &[b""],
                "-ERR unknown command '', with args beginning with: \r\n",
            ),
        ];
        for (argv, want) in cases {
            roundtrip(&mut c, &resp(argv), want.as_bytes());
        }
        // The command name is cut at 128 bytes, each argument shown at most 128 bytes.
        let long = vec![b'x'; 200];
        let mut want = format!(
            "-ERR unknown command '{}', with args beginning with: '{}' \r\n",
            "x".repeat(128),
            "y".repeat(128)
        );
        roundtrip(&mut c, &resp(&[&long, &vec![b'y'; 300]]), want.as_bytes());
        // Args are listed while the message stays under 128 bytes.
        want = "-ERR unknown command 'nope', with args beginning with: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' \r\n".to_string();
        let a = vec![b'a'; 128];
        roundtrip(&mut c, &resp(&[b"nope", &a, b"b", b"c"]), want.as_bytes());
        roundtrip(&mut c, b"PING\r\n", b"+PONG\r\n");
    }
}
