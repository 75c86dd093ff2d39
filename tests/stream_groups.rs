//! Consumer groups and stream introspection (XGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
//! XINFO) against the real shoal binary on 1 and 3 shards, byte-compared with a real
//! redis-server 7.0.15 when one is installed, and with the bytes recorded from it otherwise.
//!
//! Times cannot be compared byte for byte: in XPENDING and XINFO replies, `idle` and
//! `seen-time` values and the delivery times of pending entries are masked (shown as `:?` in
//! the recorded replies). They are still checked: shoal's and Redis's must be within a second
//! of each other, and each must be plausible on its own (not negative, not in the future).
//!
//! Set STREAM_GROUPS_RECORD=1 to print Redis's (masked) replies to the scripts in this file's
//! format instead of checking them.

mod common;
use common::{read_reply, resp, RedisServer, Server};

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

// ---- replies as trees, with the time fields masked ----------------------------------------

/// A parsed reply. Aggregates keep their type byte (`*`, `%`, `~`); a map's pairs are flat.
#[derive(Clone, Debug, PartialEq)]
enum V {
    /// A one-line reply (`+`, `-`, `:`, `_`, `,`, `#`, `(`, and nil `$-1` / `*-1`).
    Line(u8, String),
    Bulk(u8, Vec<u8>),
    Agg(u8, Vec<V>),
    /// A time field: the value, shown as `:?`.
    Time(i64),
}

fn parse(raw: &[u8]) -> V {
    let (v, used) = parse_at(raw, 0);
    assert_eq!(used, raw.len(), "trailing bytes in {:?}", show(raw));
    v
}

fn parse_at(raw: &[u8], at: usize) -> (V, usize) {
    let eol = at + raw[at..].windows(2).position(|w| w == b"\r\n").unwrap();
    let tag = raw[at];
    let body = String::from_utf8_lossy(&raw[at + 1..eol]).into_owned();
    let next = eol + 2;
    match tag {
        b'$' | b'=' | b'!' => {
            let n: i64 = body.parse().unwrap();
            if n < 0 {
                return (V::Line(tag, body), next);
            }
            let n = n as usize;
            (V::Bulk(tag, raw[next..next + n].to_vec()), next + n + 2)
        }
        b'*' | b'%' | b'~' | b'>' | b'|' => {
            let n: i64 = body.parse().unwrap();
            if n < 0 {
                return (V::Line(tag, body), next);
            }
            let count = if matches!(tag, b'%' | b'|') { 2 * n } else { n };
            let mut items = Vec::new();
            let mut pos = next;
            for _ in 0..count {
                let (v, p) = parse_at(raw, pos);
                items.push(v);
                pos = p;
            }
            (V::Agg(tag, items), pos)
        }
        _ => (V::Line(tag, body), next),
    }
}

fn serialize(v: &V, out: &mut Vec<u8>) {
    match v {
        V::Line(tag, body) => {
            out.push(*tag);
            out.extend_from_slice(body.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        V::Bulk(tag, b) => {
            out.push(*tag);
            out.extend_from_slice(b.len().to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(b);
            out.extend_from_slice(b"\r\n");
        }
        V::Agg(tag, items) => {
            let n = if matches!(tag, b'%' | b'|') {
                items.len() / 2
            } else {
                items.len()
            };
            out.push(*tag);
            out.extend_from_slice(n.to_string().as_bytes());
            out.extend_from_slice(b"\r\n");
            for i in items {
                serialize(i, out);
            }
        }
        V::Time(_) => out.extend_from_slice(b":?\r\n"),
    }
}

fn text(v: &V) -> String {
    let mut b = Vec::new();
    serialize(v, &mut b);
    String::from_utf8_lossy(&b).into_owned()
}

fn show(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

fn int_of(v: &V) -> Option<i64> {
    match v {
        V::Line(b':', s) => s.parse().ok(),
        _ => None,
    }
}

fn is_id(v: &V) -> bool {
    matches!(v, V::Bulk(b'$', b) if b.contains(&b'-') && b[0].is_ascii_digit())
}

/// Masks the time fields of XPENDING / XINFO replies: values after `idle` and `seen-time`,
/// the third element of `[id, consumer, time, count]` and the second of `[id, time, count]`.
fn mask(v: &mut V) {
    let V::Agg(tag, items) = v else {
        return;
    };
    let time_at = match items.as_slice() {
        [id, V::Bulk(..), t, c] if *tag == b'*' && is_id(id) => int_of(t).and(int_of(c)).map(|_| 2),
        [id, t, c] if *tag == b'*' && is_id(id) => int_of(t).and(int_of(c)).map(|_| 1),
        _ => None,
    };
    if let Some(i) = time_at {
        items[i] = V::Time(int_of(&items[i]).unwrap());
    }
    for i in 0..items.len() {
        let key_is_time =
            matches!(&items[i], V::Bulk(b'$', k) if k == b"idle" || k == b"seen-time");
        if key_is_time && i + 1 < items.len() {
            if let Some(t) = int_of(&items[i + 1]) {
                items[i + 1] = V::Time(t);
            }
        }
    }
    for item in items.iter_mut() {
        mask(item);
    }
}

fn times(v: &V, out: &mut Vec<i64>) {
    match v {
        V::Time(t) => out.push(*t),
        V::Agg(_, items) => items.iter().for_each(|i| times(i, out)),
        _ => {}
    }
}

fn now_ms() -> i64 {
    common::now_ms() as i64
}

/// A masked time is plausible: an idle time or a timestamp, never negative nor ahead of now.
fn check_times_plausible(v: &V, ctx: &str) {
    let mut ts = Vec::new();
    times(v, &mut ts);
    let now = now_ms();
    for t in ts {
        assert!(t >= 0 && t <= now + 1000, "implausible time {t} in {ctx}");
    }
}

/// Shoal's and Redis's masked times agree within a second (the two servers run the same
/// commands a few milliseconds apart).
fn check_times_close(ours: &V, theirs: &V, ctx: &str) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    times(ours, &mut a);
    times(theirs, &mut b);
    assert_eq!(a.len(), b.len(), "{ctx}");
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1000, "times {x} vs {y} in {ctx}");
    }
}

/// Only these commands' replies hold times.
fn has_times(args: &[Vec<u8>]) -> bool {
    let name = args[0].to_ascii_lowercase();
    name == b"xpending" || name == b"xinfo"
}

// ---- connections ---------------------------------------------------------------------------

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        Conn {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
        }
    }

    fn call(&mut self, args: &[Vec<u8>]) -> Vec<u8> {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.w.write_all(&resp(&refs)).expect("write");
        read_reply(&mut self.r).expect("reply")
    }

    fn cmd(&mut self, line: &str) -> Vec<u8> {
        self.call(&words(line))
    }
}

/// Words separated by spaces; `"..."` quotes one (`\xHH`, `\"`, `\\` escapes; `""` is empty).
fn words(line: &str) -> Vec<Vec<u8>> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let mut w = Vec::new();
        if b[i] == b'"' {
            i += 1;
            while b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                    if b[i] == b'x' {
                        w.push(u8::from_str_radix(&line[i + 1..i + 3], 16).unwrap());
                        i += 2;
                    } else {
                        w.push(b[i]);
                    }
                } else {
                    w.push(b[i]);
                }
                i += 1;
            }
            i += 1;
        } else {
            while i < b.len() && b[i] != b' ' {
                w.push(b[i]);
                i += 1;
            }
        }
        out.push(w);
    }
    out
}

/// Shoal (and Redis, when installed) side by side.
struct Pair {
    shoal: Conn,
    redis: Option<Conn>,
    label: String,
}

fn recording() -> bool {
    std::env::var_os("STREAM_GROUPS_RECORD").is_some()
}

impl Pair {
    fn new(shoal: &Server, redis: Option<&RedisServer>, label: &str) -> Pair {
        Pair {
            shoal: Conn::open(shoal.port),
            redis: redis.map(|r| Conn::open(r.port)),
            label: label.to_string(),
        }
    }

    /// Runs one command on both; returns shoal's masked reply after checking it against
    /// Redis's (masked bytes equal, times close).
    fn same(&mut self, args: &[Vec<u8>]) -> V {
        let ctx = format!("{} {:?}", self.label, show(&args.join(&b' ')));
        let raw = self.shoal.call(args);
        let mut ours = parse(&raw);
        let timed = has_times(args);
        if timed {
            mask(&mut ours);
            check_times_plausible(&ours, &ctx);
        }
        if let Some(r) = self.redis.as_mut() {
            let raw_theirs = r.call(args);
            if !timed {
                assert_eq!(show(&raw), show(&raw_theirs), "{ctx}");
            }
            let mut theirs = parse(&raw_theirs);
            if timed {
                mask(&mut theirs);
                check_times_close(&ours, &theirs, &ctx);
            }
            assert_eq!(text(&ours), text(&theirs), "{ctx}");
        }
        ours
    }

    /// Runs a script of `(command, expected masked reply)`; a command starting with `! ` is
    /// sent to both and its reply not compared (HELLO's differs by nature).
    fn script(&mut self, lines: &[(&str, &str)]) {
        for (line, want) in lines {
            if let Some(cmd) = line.strip_prefix("! ") {
                self.shoal.cmd(cmd);
                if let Some(r) = self.redis.as_mut() {
                    r.cmd(cmd);
                }
                continue;
            }
            if recording() {
                let Some(r) = self.redis.as_mut() else {
                    panic!("recording needs redis-server");
                };
                let args = words(line);
                let mut v = parse(&r.call(&args));
                if has_times(&args) {
                    mask(&mut v);
                }
                println!("        ({line:?}, {:?}),", text(&v));
                continue;
            }
            let got = self.same(&words(line));
            assert_eq!(text(&got), *want, "{} {line:?}", self.label);
        }
    }
}

/// Runs `f` against shoal on 1 and 3 shards, each beside a fresh redis-server if installed.
fn on_both(f: impl Fn(&mut Pair)) {
    for shards in [1, 3] {
        if recording() && shards == 3 {
            return;
        }
        let shoal = Server::start(shards, &[]);
        let redis = RedisServer::start(&[]);
        let mut p = Pair::new(&shoal, redis.as_ref(), &format!("--shards {shards}"));
        f(&mut p);
    }
}

// ---- times, checked for what they mean --------------------------------------------------------

/// The integer at `path` (indexes into nested aggregates) of a reply.
fn int_at(v: &V, path: &[usize]) -> i64 {
    let mut cur = v;
    for &i in path {
        match cur {
            V::Agg(_, items) => cur = &items[i],
            other => panic!("no element {i} in {other:?}"),
        }
    }
    match cur {
        V::Time(t) => *t,
        other => int_of(other).unwrap_or_else(|| panic!("not an integer: {other:?}")),
    }
}

/// The value after the bulk string `key` in a flat map (RESP2 array or RESP3 map).
fn field<'a>(v: &'a V, key: &str) -> &'a V {
    let V::Agg(_, items) = v else {
        panic!("not a map: {v:?}")
    };
    let i = items
        .iter()
        .position(|x| matches!(x, V::Bulk(_, k) if k == key.as_bytes()))
        .unwrap_or_else(|| panic!("no {key} in {v:?}"));
    &items[i + 1]
}

fn reply(c: &mut Conn, line: &str) -> V {
    parse(&c.cmd(line))
}

/// What IDLE, TIME, delivery and seen times mean, checked on one server (shoal on 1 and 3
/// shards, and Redis too, which proves the expectations themselves).
fn check_time_semantics(c: &mut Conn, label: &str) {
    assert_eq!(reply(c, "XADD s 1-0 a 1"), V::Bulk(b'$', b"1-0".to_vec()));
    reply(c, "XADD s 2-0 b 2");
    reply(c, "XGROUP CREATE s g 0");
    // TIME sets the delivery time exactly; the claiming consumer's seen time is now.
    let before = now_ms();
    reply(c, "XCLAIM s g alice 0 1-0 FORCE JUSTID TIME 12345");
    let after = now_ms();
    let full = reply(c, "XINFO STREAM s FULL");
    let group = &match field(&full, "groups") {
        V::Agg(_, g) => g.clone(),
        other => panic!("{other:?}"),
    }[0];
    assert_eq!(int_at(field(group, "pending"), &[0, 2]), 12345, "{label}");
    let consumer = &match field(group, "consumers") {
        V::Agg(_, c) => c.clone(),
        other => panic!("{other:?}"),
    }[0];
    let seen = int_at(field(consumer, "seen-time"), &[]);
    assert!(before <= seen && seen <= after, "{label}: seen {seen}");
    assert_eq!(
        int_at(field(consumer, "pending"), &[0, 1]),
        12345,
        "{label}"
    );
    // IDLE: the entry reads as delivered that long ago, and ages from there.
    reply(c, "XCLAIM s g alice 0 1-0 JUSTID IDLE 50000");
    let idle = int_at(&reply(c, "XPENDING s g - + 10"), &[0, 2]);
    assert!((50_000..51_000).contains(&idle), "{label}: idle {idle}");
    std::thread::sleep(Duration::from_millis(120));
    let idle = int_at(&reply(c, "XPENDING s g - + 10"), &[0, 2]);
    assert!((50_120..51_200).contains(&idle), "{label}: idle {idle}");
    // XPENDING's IDLE filter and XAUTOCLAIM's min idle time see the same idle time.
    let listed = reply(c, "XPENDING s g IDLE 50100 - + 10 alice");
    assert!(
        matches!(&listed, V::Agg(_, l) if l.len() == 1),
        "{label}: {listed:?}"
    );
    assert_eq!(
        reply(c, "XPENDING s g IDLE 10000000 - + 10"),
        V::Agg(b'*', vec![])
    );
    assert_eq!(
        reply(c, "XAUTOCLAIM s g bob 10000000 - JUSTID"),
        V::Agg(
            b'*',
            vec![
                V::Bulk(b'$', b"0-0".to_vec()),
                V::Agg(b'*', vec![]),
                V::Agg(b'*', vec![])
            ]
        ),
        "{label}"
    );
    let got = reply(c, "XAUTOCLAIM s g bob 40000 - JUSTID");
    assert_eq!(
        text(&got),
        "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n1-0\r\n*0\r\n",
        "{label}"
    );
    // Claimed: delivered now, by bob, delivery count not raised (JUSTID).
    let p = reply(c, "XPENDING s g - + 10");
    assert!(int_at(&p, &[0, 2]) < 1000, "{label}: {p:?}");
    assert_eq!(int_at(&p, &[0, 3]), 1, "{label}");
    // A consumer's idle time runs from its last read or claim, not from its creation.
    let t0 = now_ms();
    reply(c, "XGROUP CREATECONSUMER s g carol");
    std::thread::sleep(Duration::from_millis(60));
    let consumers = reply(c, "XINFO CONSUMERS s g");
    let V::Agg(_, list) = &consumers else {
        panic!()
    };
    let carol = list
        .iter()
        .find(|m| *field(m, "name") == V::Bulk(b'$', b"carol".to_vec()))
        .unwrap();
    let idle = int_at(field(carol, "idle"), &[]);
    assert!(
        idle >= 60 && idle <= now_ms() - t0 + 5,
        "{label}: carol idle {idle}"
    );
    reply(c, "XCLAIM s g carol 0 2-0 FORCE JUSTID");
    let consumers = reply(c, "XINFO CONSUMERS s g");
    let V::Agg(_, list) = &consumers else {
        panic!()
    };
    let carol = list
        .iter()
        .find(|m| *field(m, "name") == V::Bulk(b'$', b"carol".to_vec()))
        .unwrap();
    assert!(int_at(field(carol, "idle"), &[]) < 50, "{label}");
    // A claim that claims nothing leaves the consumer's seen time alone.
    std::thread::sleep(Duration::from_millis(60));
    reply(c, "XCLAIM s g carol 10000000 2-0 JUSTID");
    let consumers = reply(c, "XINFO CONSUMERS s g");
    let V::Agg(_, list) = &consumers else {
        panic!()
    };
    let carol = list
        .iter()
        .find(|m| *field(m, "name") == V::Bulk(b'$', b"carol".to_vec()))
        .unwrap();
    assert!(int_at(field(carol, "idle"), &[]) >= 60, "{label}");
}

#[test]
fn delivery_and_seen_times_mean_what_redis_says() {
    for shards in [1, 3] {
        let shoal = Server::start(shards, &[]);
        check_time_semantics(&mut Conn::open(shoal.port), &format!("--shards {shards}"));
    }
    if let Some(redis) = RedisServer::start(&[]) {
        check_time_semantics(&mut Conn::open(redis.port), "redis-server");
    }
}

/// Which commands count as changes (toward the next save, and for WATCH in shoal): the ones
/// that changed something, as in Redis.
fn check_changes_counted(c: &mut Conn, label: &str) {
    let changes = |c: &mut Conn| -> i64 {
        let V::Bulk(_, info) = reply(c, "INFO persistence") else {
            panic!()
        };
        let info = String::from_utf8(info).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    reply(c, "XADD s 1-0 a 1");
    reply(c, "XADD s 2-0 a 1");
    for (line, changed) in [
        ("XGROUP CREATE s g 0", true),
        ("XGROUP CREATE s g 0", false),
        ("XGROUP CREATE new g $ MKSTREAM", true),
        ("XGROUP SETID s g 0", true),
        ("XGROUP CREATECONSUMER s g c", true),
        ("XGROUP CREATECONSUMER s g c", false),
        ("XGROUP DELCONSUMER s g nobody", false),
        ("XACK s g 1-0", false),
        ("XCLAIM s g c 0 1-0", false),
        ("XCLAIM s g c 0 1-0 FORCE", true),
        ("XCLAIM s g c 10000000 1-0", false),
        ("XCLAIM s g c 10000000 1-0 LASTID 5-0", true),
        ("XAUTOCLAIM s g d 10000000 0", false),
        ("XAUTOCLAIM s g d 0 0", true),
        ("XPENDING s g", false),
        ("XINFO STREAM s FULL", false),
        ("XACK s g 1-0", true),
        ("XCLAIM s g c 0 2-0 FORCE", true),
        ("XDEL s 2-0", true),
        ("XAUTOCLAIM s g d 0 0", true),
        ("XGROUP DELCONSUMER s g c", true),
        ("XGROUP DESTROY s nog", false),
        ("XGROUP DESTROY s g", true),
    ] {
        let before = changes(c);
        reply(c, line);
        let after = changes(c);
        assert_eq!(
            after > before,
            changed,
            "{label}: {line}: {before} -> {after}"
        );
    }
}

#[test]
fn changes_are_counted_like_redis() {
    for shards in [1, 3] {
        let shoal = Server::start(shards, &[]);
        check_changes_counted(&mut Conn::open(shoal.port), &format!("--shards {shards}"));
    }
    if let Some(redis) = RedisServer::start(&[]) {
        check_changes_counted(&mut Conn::open(redis.port), "redis-server");
    }
}

/// Which commands count keyspace hits and misses (Redis reads the key of XACK, XPENDING,
/// XCLAIM, XAUTOCLAIM and XINFO as a read, even before an argument error; XGROUP's as a write).
fn check_hits_and_misses(c: &mut Conn, label: &str) {
    let stats = |c: &mut Conn| -> (i64, i64) {
        let V::Bulk(_, info) = reply(c, "INFO stats") else {
            panic!()
        };
        let info = String::from_utf8(info).unwrap();
        let get = |name: &str| -> i64 {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        (get("keyspace_hits:"), get("keyspace_misses:"))
    };
    for (line, hits, misses) in [
        ("XADD s 1-0 a 1", 0, 0),
        ("XGROUP CREATE s g 0", 0, 0),
        ("XGROUP CREATE nokey g 0", 0, 0),
        ("XGROUP CREATECONSUMER s g c", 0, 0),
        ("XACK s g 1-0", 1, 0),
        ("XACK nokey g 1-0", 0, 1),
        ("XPENDING s g", 1, 0),
        ("XPENDING nokey g", 0, 1),
        ("XCLAIM s g c 0 1-0 FORCE", 1, 0),
        ("XCLAIM nokey g c 0 1-0", 0, 1),
        ("XAUTOCLAIM s g c 0 0", 1, 0),
        ("XAUTOCLAIM nokey g c 0 0", 0, 1),
        ("XAUTOCLAIM nokey g c x 0", 0, 1),
        ("XINFO STREAM s", 1, 0),
        ("XINFO STREAM nokey", 0, 1),
        ("XINFO GROUPS s", 1, 0),
        ("XINFO CONSUMERS s g", 1, 0),
        ("XGROUP DESTROY s g", 0, 0),
    ] {
        let before = stats(c);
        reply(c, line);
        let after = stats(c);
        assert_eq!(
            (after.0 - before.0, after.1 - before.1),
            (hits, misses),
            "{label}: {line}"
        );
    }
}

#[test]
fn keyspace_hits_and_misses_like_redis() {
    for shards in [1, 3] {
        let shoal = Server::start(shards, &[]);
        check_hits_and_misses(&mut Conn::open(shoal.port), &format!("--shards {shards}"));
    }
    if let Some(redis) = RedisServer::start(&[]) {
        check_hits_and_misses(&mut Conn::open(redis.port), "redis-server");
    }
}

// ---- random command sequences ----------------------------------------------------------------

/// Small deterministic generator (xorshift64*), so a failure replays.
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
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const KEYS: &[&str] = &["s1", "s2", "{s1}x"];

/// Generates random commands over a few keys, groups and consumers. IDs are explicit and
/// mostly near the keys' entries; idle thresholds are 0 or an hour, and delivery times now or
/// hours ago, so which entries qualify cannot depend on when a command runs.
struct Gen {
    rng: Rng,
    /// Per key of KEYS: the last XADD's millisecond part (mostly growing).
    last_ms: [u64; 3],
    with_xreadgroup: bool,
}

impl Gen {
    fn key(&mut self) -> (usize, &'static str) {
        if self.rng.chance(8) {
            return (0, self.rng.pick(&["nokey", "str"]));
        }
        let i = self.rng.below(KEYS.len() as u64) as usize;
        (i, KEYS[i])
    }

    /// An ID near the key's entries, sometimes a range bound or an invalid one.
    fn id(&mut self, k: usize) -> String {
        match self.rng.below(12) {
            0 => "0".into(),
            1 => self.rng.pick(&["-", "+", "bad", "(3"]).into(),
            _ => {
                let ms = 1 + self.rng.below(self.last_ms[k] + 2);
                format!("{ms}-{}", self.rng.below(2))
            }
        }
    }

    fn min_idle(&mut self) -> &'static str {
        if self.rng.chance(75) {
            "0"
        } else {
            "3600000"
        }
    }

    fn command(&mut self) -> String {
        let (k, key) = self.key();
        let group = self.rng.pick(&["g0", "g1", "g0", "g1", "g2"]);
        let consumer = self.rng.pick(&["c0", "c1", "c2", "c3"]);
        let mut w: Vec<String> = Vec::new();
        let push = |w: &mut Vec<String>, s: &str| w.extend(s.split(' ').map(str::to_string));
        match self.rng.below(100) {
            0..=21 => {
                push(&mut w, "XADD");
                push(&mut w, key);
                // Mostly a new millisecond, sometimes the same one (`-*` or a guessed sequence,
                // which may be taken), sometimes an old one (refused).
                let r = self.rng.below(10);
                let ms = match r {
                    0 => self.rng.below(self.last_ms[k] + 1),
                    1 | 2 => self.last_ms[k],
                    _ => self.last_ms[k] + 1,
                };
                self.last_ms[k] = self.last_ms[k].max(ms);
                w.push(if r == 1 {
                    format!("{ms}-*")
                } else {
                    format!("{ms}-{}", self.rng.below(2))
                });
                push(&mut w, "f");
                w.push(self.rng.below(1000).to_string());
            }
            22..=25 => {
                push(&mut w, "XDEL");
                push(&mut w, key);
                for _ in 0..1 + self.rng.below(3) {
                    let id = self.id(k);
                    w.push(id);
                }
            }
            26 => {
                push(&mut w, "XTRIM");
                push(&mut w, key);
                push(&mut w, "MAXLEN");
                w.push(self.rng.below(8).to_string());
            }
            27..=36 => {
                push(&mut w, "XGROUP");
                let sub = self.rng.pick(&[
                    "CREATE",
                    "CREATE",
                    "CREATE",
                    "SETID",
                    "SETID",
                    "DESTROY",
                    "CREATECONSUMER",
                    "DELCONSUMER",
                ]);
                push(&mut w, sub);
                push(&mut w, key);
                push(&mut w, group);
                match sub {
                    "CREATE" | "SETID" => {
                        let at = if self.rng.chance(30) {
                            "$".to_string()
                        } else {
                            self.id(k)
                        };
                        w.push(at);
                        if sub == "CREATE" && self.rng.chance(30) {
                            push(&mut w, "MKSTREAM");
                        }
                        if self.rng.chance(25) {
                            push(&mut w, "ENTRIESREAD");
                            w.push((self.rng.below(12) as i64 - 1).to_string());
                        }
                    }
                    "CREATECONSUMER" | "DELCONSUMER" => push(&mut w, consumer),
                    _ => {}
                }
            }
            37..=48 if self.with_xreadgroup => {
                push(&mut w, "XREADGROUP GROUP");
                push(&mut w, group);
                push(&mut w, consumer);
                if self.rng.chance(70) {
                    push(&mut w, "COUNT");
                    w.push(self.rng.below(4).to_string());
                }
                if self.rng.chance(15) {
                    push(&mut w, "NOACK");
                }
                push(&mut w, "STREAMS");
                push(&mut w, key);
                if self.rng.chance(70) {
                    push(&mut w, ">");
                } else {
                    w.push(format!("{}-0", self.rng.below(self.last_ms[k] + 1)));
                }
            }
            37..=56 => {
                push(&mut w, "XCLAIM");
                push(&mut w, key);
                push(&mut w, group);
                push(&mut w, consumer);
                let idle = self.min_idle();
                push(&mut w, idle);
                for _ in 0..1 + self.rng.below(3) {
                    let ms = 1 + self.rng.below(self.last_ms[k] + 1);
                    w.push(format!("{ms}-{}", self.rng.below(2)));
                }
                if self.rng.chance(50) {
                    push(&mut w, "FORCE");
                }
                if self.rng.chance(40) {
                    push(&mut w, "JUSTID");
                }
                match self.rng.below(6) {
                    0 => push(&mut w, "IDLE 7200000"),
                    1 => push(&mut w, "TIME 1000"),
                    2 => {
                        push(&mut w, "RETRYCOUNT");
                        w.push((self.rng.below(5) as i64 - 1).to_string());
                    }
                    3 => {
                        push(&mut w, "LASTID");
                        let id = self.id(k);
                        w.push(id);
                    }
                    _ => {}
                }
            }
            57..=64 => {
                push(&mut w, "XAUTOCLAIM");
                push(&mut w, key);
                push(&mut w, group);
                push(&mut w, consumer);
                let idle = self.min_idle();
                push(&mut w, idle);
                let start = self.id(k);
                w.push(start);
                if self.rng.chance(60) {
                    push(&mut w, "COUNT");
                    w.push((1 + self.rng.below(4)).to_string());
                }
                if self.rng.chance(30) {
                    push(&mut w, "JUSTID");
                }
            }
            65..=72 => {
                push(&mut w, "XACK");
                push(&mut w, key);
                push(&mut w, group);
                for _ in 0..1 + self.rng.below(3) {
                    let id = self.id(k);
                    w.push(id);
                }
            }
            73..=84 => {
                push(&mut w, "XPENDING");
                push(&mut w, key);
                push(&mut w, group);
                if self.rng.chance(70) {
                    if self.rng.chance(40) {
                        push(&mut w, "IDLE");
                        let idle = self.min_idle();
                        push(&mut w, idle);
                    }
                    let (a, b) = if self.rng.chance(50) {
                        ("-".to_string(), "+".to_string())
                    } else {
                        (self.id(k), self.id(k))
                    };
                    w.push(a);
                    w.push(b);
                    w.push((self.rng.below(6) as i64 - 1).to_string());
                    if self.rng.chance(40) {
                        push(&mut w, consumer);
                    }
                }
            }
            _ => {
                push(&mut w, "XINFO");
                match self.rng.below(4) {
                    0 => {
                        push(&mut w, "STREAM");
                        push(&mut w, key);
                        push(&mut w, "FULL");
                        if self.rng.chance(50) {
                            push(&mut w, "COUNT");
                            w.push(self.rng.below(4).to_string());
                        }
                    }
                    1 => {
                        push(&mut w, "STREAM");
                        push(&mut w, key);
                    }
                    2 => {
                        push(&mut w, "GROUPS");
                        push(&mut w, key);
                    }
                    _ => {
                        push(&mut w, "CONSUMERS");
                        push(&mut w, key);
                        push(&mut w, group);
                    }
                }
            }
        }
        w.join(" ")
    }
}

/// Seeded random sequences on shoal (1 and 3 shards) and Redis side by side, every reply
/// compared (times within a second). Without redis-server, shoal on 3 shards is compared with
/// shoal on 1 shard, which still catches replies that depend on where keys live.
#[test]
fn random_sequences_match_redis() {
    let redis = RedisServer::start(&[]);
    let single = Server::start(1, &[]);
    let reference_port = redis.as_ref().map_or(single.port, |r| r.port);
    for shards in [1, 3] {
        if redis.is_none() && shards == 1 {
            continue;
        }
        let shoal = Server::start(shards, &[]);
        let mut p = Pair {
            shoal: Conn::open(shoal.port),
            redis: Some(Conn::open(reference_port)),
            label: format!("--shards {shards}"),
        };
        // XREADGROUP (non-blocking) joins the mix once shoal has it.
        let probe = words("XREADGROUP GROUP g c STREAMS nokey >");
        let with_xreadgroup = !show(&p.shoal.call(&probe)).starts_with("-ERR unknown command");
        if !with_xreadgroup {
            println!("note: shoal has no XREADGROUP yet; pending entries come from XCLAIM FORCE");
        }
        for seed in 1..=6u64 {
            p.same(&words("FLUSHALL"));
            p.same(&words("SET str x"));
            let entries = ["4", "100"][seed as usize % 2];
            p.same(&words(&format!(
                "CONFIG SET stream-node-max-entries {entries}"
            )));
            if seed % 3 == 0 {
                let hello = words("HELLO 3");
                p.shoal.call(&hello);
                if let Some(r) = p.redis.as_mut() {
                    r.call(&hello);
                }
            }
            let mut gen = Gen {
                rng: Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1234_5678_9ABC_DEF1)),
                last_ms: [1; 3],
                with_xreadgroup,
            };
            // Each stream starts with an entry and two groups, one behind it.
            for key in KEYS {
                p.same(&words(&format!("XADD {key} 1-0 f v")));
                p.same(&words(&format!("XGROUP CREATE {key} g0 0")));
                p.same(&words(&format!("XGROUP CREATE {key} g1 $")));
            }
            let mut history = Vec::new();
            for _ in 0..300 {
                let line = gen.command();
                history.push(line.clone());
                let shoal_label = std::mem::take(&mut p.label);
                p.label = format!(
                    "{shoal_label} seed {seed}, after:\n{}\n",
                    history.join("\n")
                );
                p.same(&words(&line));
                p.label = shoal_label;
            }
            if seed % 3 == 0 {
                let hello = words("HELLO 2");
                p.shoal.call(&hello);
                if let Some(r) = p.redis.as_mut() {
                    r.call(&hello);
                }
            }
        }
    }
}

// ---- scripts -------------------------------------------------------------------------------

#[test]
fn transactions_and_command_table() {
    on_both(|p| p.script(MISC_SCRIPT));
}

#[test]
fn xgroup_subcommands_and_errors() {
    on_both(|p| p.script(XGROUP_SCRIPT));
}

#[test]
fn xack_and_xpending() {
    on_both(|p| p.script(XACK_XPENDING_SCRIPT));
}

#[test]
fn xclaim_options_and_errors() {
    on_both(|p| p.script(XCLAIM_SCRIPT));
}

#[test]
fn xautoclaim_cursor_count_and_deleted_entries() {
    on_both(|p| p.script(XAUTOCLAIM_SCRIPT));
}

#[test]
fn xinfo_stream_groups_consumers() {
    on_both(|p| p.script(XINFO_SCRIPT));
}

#[test]
fn xinfo_and_xpending_in_resp3() {
    on_both(|p| p.script(RESP3_SCRIPT));
}

const XGROUP_SCRIPT: &[(&str, &str)] = &[
    ("XGROUP", "-ERR wrong number of arguments for 'xgroup' command\r\n"),
    ("XGROUP foo", "-ERR unknown subcommand 'foo'. Try XGROUP HELP.\r\n"),
    ("XGROUP \"foo\\x00bar\"", "-ERR unknown subcommand 'foo'. Try XGROUP HELP.\r\n"),
    ("XGROUP help x", "-ERR wrong number of arguments for 'xgroup|help' command\r\n"),
    ("XGROUP HELP", "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"),
    ("xgroup help", "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"),
    ("XGROUP CREATE s", "-ERR wrong number of arguments for 'xgroup|create' command\r\n"),
    ("XGROUP CREATE s g", "-ERR wrong number of arguments for 'xgroup|create' command\r\n"),
    ("XGROUP CREATE s g 0", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
    ("XGROUP CREATE s g bad", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
    ("XGROUP CREATE s g 0 MKSTREAM ENTRIESREAD x", "-ERR value is not an integer or out of range\r\n"),
    ("XGROUP CREATE s g 0 MKSTREAM ENTRIESREAD -2", "-ERR value for ENTRIESREAD must be positive or -1\r\n"),
    ("XGROUP CREATE s g 0 MKSTREAM ENTRIESREAD", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
    ("XGROUP CREATE s g 0 MKSTREAM foo", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
    ("XGROUP CREATE s g 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
    ("XGROUP CREATE s g 0 ENTRIESREAD 1 MKSTREAM extra", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
    ("XGROUP CREATE s g bad MKSTREAM", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("EXISTS s", ":0\r\n"),
    ("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n"),
    ("TYPE s", "+stream\r\n"),
    ("XLEN s", ":0\r\n"),
    ("XGROUP CREATE s g $ MKSTREAM", "-BUSYGROUP Consumer Group name already exists\r\n"),
    ("XGROUP CREATE s g 0", "-BUSYGROUP Consumer Group name already exists\r\n"),
    ("XGROUP CREATE s g2 0-1 ENTRIESREAD 0", "+OK\r\n"),
    ("XGROUP CREATE s g3 -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XGROUP CREATE s g3 +", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XGROUP CREATE s g3 0-", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XGROUP CREATE s g3 18446744073709551616", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XGROUP CREATE s g3 18446744073709551615-18446744073709551615 ENTRIESREAD -1", "+OK\r\n"),
    ("XGROUP CREATE s g4 5 ENTRIESREAD 9223372036854775807", "+OK\r\n"),
    ("XGROUP CREATE s g5 5 ENTRIESREAD 9223372036854775808", "-ERR value is not an integer or out of range\r\n"),
    ("XINFO GROUPS s", "*4\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-1\r\n$12\r\nentries-read\r\n:0\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$41\r\n18446744073709551615-18446744073709551615\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:9223372036854775807\r\n$3\r\nlag\r\n:0\r\n"),
    ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
    ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
    ("XGROUP CREATE s g6 $", "+OK\r\n"),
    ("XGROUP CREATE s g7 1 MKSTREAM", "+OK\r\n"),
    ("XINFO GROUPS s", "*6\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-1\r\n$12\r\nentries-read\r\n:0\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$41\r\n18446744073709551615-18446744073709551615\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:9223372036854775807\r\n$3\r\nlag\r\n:-9223372036854775805\r\n*12\r\n$4\r\nname\r\n$2\r\ng6\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng7\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n"),
    ("XGROUP SETID s g 1-0", "+OK\r\n"),
    ("XGROUP SETID s g 1-0 ENTRIESREAD 1", "+OK\r\n"),
    ("XGROUP SETID s g -", "+OK\r\n"),
    ("XGROUP SETID s g +", "+OK\r\n"),
    ("XGROUP SETID s g $ ENTRIESREAD 2", "+OK\r\n"),
    ("XGROUP SETID s g bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XGROUP SETID s g 0 MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"),
    ("XGROUP SETID s g 0 ENTRIESREAD 3 x", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"),
    ("XGROUP SETID s g 0 ENTRIESREAD 3 ENTRIESREAD 4", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"),
    ("XGROUP SETID s g 0 ENTRIESREAD x ENTRIESREAD 4", "-ERR value is not an integer or out of range\r\n"),
    ("XGROUP SETID s g 0 ENTRIESREAD -1", "+OK\r\n"),
    ("XGROUP SETID s nog 0", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
    ("XGROUP SETID s nog bad", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
    ("XGROUP SETID nokey g 0", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
    ("XGROUP SETID nokey g 0 ENTRIESREAD -5", "-ERR value for ENTRIESREAD must be positive or -1\r\n"),
    ("XGROUP SETID s g", "-ERR wrong number of arguments for 'xgroup|setid' command\r\n"),
    ("XINFO GROUPS s", "*6\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-1\r\n$12\r\nentries-read\r\n:0\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$41\r\n18446744073709551615-18446744073709551615\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:9223372036854775807\r\n$3\r\nlag\r\n:-9223372036854775805\r\n*12\r\n$4\r\nname\r\n$2\r\ng6\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng7\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n"),
    ("XGROUP CREATECONSUMER s g alice", ":1\r\n"),
    ("XGROUP CREATECONSUMER s g alice", ":0\r\n"),
    ("XGROUP CREATECONSUMER s g bob", ":1\r\n"),
    ("XGROUP CREATECONSUMER s nog alice", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
    ("XGROUP CREATECONSUMER nokey g alice", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
    ("XGROUP CREATECONSUMER s g", "-ERR wrong number of arguments for 'xgroup|createconsumer' command\r\n"),
    ("XGROUP CREATECONSUMER s g a b", "-ERR wrong number of arguments for 'xgroup|createconsumer' command\r\n"),
    ("XINFO CONSUMERS s g", "*2\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n"),
    ("XGROUP DELCONSUMER s g alice", ":0\r\n"),
    ("XGROUP DELCONSUMER s g alice", ":0\r\n"),
    ("XGROUP DELCONSUMER s nog alice", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
    ("XGROUP DELCONSUMER nokey g alice", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
    ("XCLAIM s g bob 0 1-0 2-0 FORCE JUSTID", "*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n"),
    ("XPENDING s g", "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\nbob\r\n$1\r\n2\r\n"),
    ("XGROUP DELCONSUMER s g bob", ":2\r\n"),
    ("XPENDING s g", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
    ("XINFO CONSUMERS s g", "*0\r\n"),
    ("XGROUP DESTROY s g", ":1\r\n"),
    ("XGROUP DESTROY s g", ":0\r\n"),
    ("XGROUP DESTROY nokey g", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"),
    ("XGROUP DESTROY s", "-ERR wrong number of arguments for 'xgroup|destroy' command\r\n"),
    ("XGROUP DESTROY s g x", "-ERR wrong number of arguments for 'xgroup|destroy' command\r\n"),
    ("XINFO GROUPS s", "*5\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-1\r\n$12\r\nentries-read\r\n:0\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$41\r\n18446744073709551615-18446744073709551615\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:9223372036854775807\r\n$3\r\nlag\r\n:-9223372036854775805\r\n*12\r\n$4\r\nname\r\n$2\r\ng6\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng7\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:1\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XGROUP CREATE str g 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XGROUP CREATE str g 0 MKSTREAM", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XGROUP CREATE str g 0 bad", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"),
    ("XGROUP SETID str g 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XGROUP DESTROY str g", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XGROUP CREATECONSUMER str g c", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XGROUP DELCONSUMER str g c", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("Xgroup Create s2 g 0 mkstream entriesread 7", "+OK\r\n"),
    ("Xgroup setid s2 g 0 entriesread 8", "+OK\r\n"),
    ("XINFO GROUPS s2", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:8\r\n$3\r\nlag\r\n:0\r\n"),
    ("XGROUP CREATE {t}s g $ MKSTREAM", "+OK\r\n"),
    ("XGROUP CREATE {t}s \"g\\x00x\" 5", "+OK\r\n"),
    ("XGROUP CREATE {t}s \"\" 6", "+OK\r\n"),
    ("XGROUP CREATECONSUMER {t}s \"\" \"\"", ":1\r\n"),
    ("XINFO GROUPS {t}s", "*3\r\n*12\r\n$4\r\nname\r\n$0\r\n\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n6-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$3\r\ng\0x\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n"),
    ("XINFO CONSUMERS {t}s \"\"", "*1\r\n*6\r\n$4\r\nname\r\n$0\r\n\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n"),
    ("XGROUP SETID {t}s \"nog\\x00x\" 0", "-NOGROUP No such consumer group 'nog' for key name '{t}s'\r\n"),
    ("Xgroup Create s3 g 0 \"MKSTREAM\\x00x\"", "+OK\r\n"),
    ("XGROUP CREATE s3 g2 \"$\\x00x\" MKSTREAM", "+OK\r\n"),
    ("XGROUP CREATE s3 g3 0 \"ENTRIESREAD\\x00\" 5", "+OK\r\n"),
    ("XINFO GROUPS s3", "*3\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:0\r\n"),
];
const XACK_XPENDING_SCRIPT: &[(&str, &str)] = &[
    ("XACK nokey g 1-0", ":0\r\n"),
    ("XACK nokey g bad", ":0\r\n"),
    ("XACK s", "-ERR wrong number of arguments for 'xack' command\r\n"),
    ("XACK s g", "-ERR wrong number of arguments for 'xack' command\r\n"),
    ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
    ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
    ("XADD s 3-0 c 3", "$3\r\n3-0\r\n"),
    ("XADD s 4-0 d 4", "$3\r\n4-0\r\n"),
    ("XACK s nog bad", ":0\r\n"),
    ("XGROUP CREATE s g 0", "+OK\r\n"),
    ("XACK s g bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XACK s g 1-0 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XACK s g -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XACK s g 1-0", ":0\r\n"),
    ("XCLAIM s g alice 0 1-0 2-0 3-0 FORCE JUSTID", "*3\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n"),
    ("XCLAIM s g bob 0 4-0 FORCE JUSTID", "*1\r\n$3\r\n4-0\r\n"),
    ("XPENDING s g", "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n3\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n"),
    ("XACK s g 1 1-0 1-0 9-0", ":1\r\n"),
    ("XPENDING s g", "*4\r\n:3\r\n$3\r\n2-0\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - + 10 alice", "*2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - + 10 bob", "*1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - + 10 carol", "*0\r\n"),
    ("XPENDING s g - + 1", "*1\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - + 0", "*0\r\n"),
    ("XPENDING s g - + -1", "*0\r\n"),
    ("XPENDING s g (2-0 + 10", "*2\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g 2 (3 10", "*2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - (4-0 10", "*2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XPENDING s g (3 + 10", "*1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g + - 10", "*0\r\n"),
    ("XPENDING s g 3-0 3-0 10", "*1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - + x", "-ERR value is not an integer or out of range\r\n"),
    ("XPENDING s g bad + x", "-ERR value is not an integer or out of range\r\n"),
    ("XPENDING s g bad + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XPENDING s g - bad 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XPENDING s g ( + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XPENDING s g (18446744073709551615-18446744073709551615 + 10", "-ERR invalid start ID for the interval\r\n"),
    ("XPENDING s g - (0-0 10", "-ERR invalid end ID for the interval\r\n"),
    ("XPENDING s g - (0 10", "*0\r\n"),
    ("XPENDING s g - +", "-ERR syntax error\r\n"),
    ("XPENDING s g -", "-ERR syntax error\r\n"),
    ("XPENDING s g IDLE 5 - +", "-ERR syntax error\r\n"),
    ("XPENDING s g IDLE x - + 10", "-ERR value is not an integer or out of range\r\n"),
    ("XPENDING s g IDLE 0 - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g IDLE -5 - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g IDLE 3600000 - + 10", "*0\r\n"),
    ("XPENDING s g IDLE 0 - + 10 bob", "*1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s g idle 0 - + 10 bob extra", "-ERR syntax error\r\n"),
    ("XPENDING s g idle 0 - + x bob", "-ERR value is not an integer or out of range\r\n"),
    ("XPENDING s g - + 10 alice x y", "*2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XPENDING s g - + 10 alice x y z", "-ERR syntax error\r\n"),
    ("XPENDING s g \"IDLE\\x00x\" 0 - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XPENDING s nog", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
    ("XPENDING s nog - + 10", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
    ("XPENDING nokey g", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XPENDING nokey g - + 10", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XPENDING nokey g bad + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XCLAIM s g carol 0 2-0 IDLE 7200000 JUSTID", "*1\r\n$3\r\n2-0\r\n"),
    ("XPENDING s g IDLE 3600000 - + 10", "*1\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n"),
    ("XPENDING s g IDLE 3600000 - + 10 alice", "*0\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XDEL s 3-0", ":1\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n"),
    ("XACK s g 3-0", ":1\r\n"),
    ("XACK s g 2-0 4-0", ":2\r\n"),
    ("XPENDING s g", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
    ("XPENDING s g - + 10", "*0\r\n"),
    ("XINFO CONSUMERS s g", "*3\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$5\r\ncarol\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n"),
    ("XACK s g 3-0", ":0\r\n"),
    ("XPENDING s g", "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XACK str g 1-0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XACK str g bad", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XPENDING str g", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XPENDING str g - + 10", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XPENDING str g bad + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"),
];
const XCLAIM_SCRIPT: &[(&str, &str)] = &[
    ("XCLAIM nokey g c 0 1-0", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XCLAIM nokey g c x bad", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XCLAIM s g c 0", "-ERR wrong number of arguments for 'xclaim' command\r\n"),
    ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
    ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
    ("XADD s 3-0 c 3", "$3\r\n3-0\r\n"),
    ("XADD s 4-0 d 4", "$3\r\n4-0\r\n"),
    ("XCLAIM s nog c x bad", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
    ("XGROUP CREATE s g 0", "+OK\r\n"),
    ("XCLAIM s g c x 1-0", "-ERR Invalid min-idle-time argument for XCLAIM\r\n"),
    ("XCLAIM s g c 99999999999999999999 1-0", "-ERR Invalid min-idle-time argument for XCLAIM\r\n"),
    ("XCLAIM s g c 0 bad", "-ERR Unrecognized XCLAIM option 'bad'\r\n"),
    ("XCLAIM s g c 0 1-0 bad", "-ERR Unrecognized XCLAIM option 'bad'\r\n"),
    ("XCLAIM s g c 0 -", "-ERR Unrecognized XCLAIM option '-'\r\n"),
    ("XCLAIM s g c 0 1-0 2-0", "*0\r\n"),
    ("XINFO CONSUMERS s g", "*0\r\n"),
    ("XCLAIM s g alice 0 1-0 2-0 3-0 FORCE", "*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n"),
    ("XCLAIM s g bob 0 1-0 2-0 9-0", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n1-0\r\n$3\r\nbob\r\n:?\r\n:3\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:?\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n"),
    ("XCLAIM s g bob 0 1-0 IDLE x", "-ERR Invalid IDLE option argument for XCLAIM\r\n"),
    ("XCLAIM s g bob 0 1-0 TIME x", "-ERR Invalid TIME option argument for XCLAIM\r\n"),
    ("XCLAIM s g bob 0 1-0 RETRYCOUNT x", "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n"),
    ("XCLAIM s g bob 0 1-0 LASTID x", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XCLAIM s g bob 0 1-0 LASTID -", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XCLAIM s g bob 0 1-0 LASTID", "-ERR Unrecognized XCLAIM option 'LASTID'\r\n"),
    ("XCLAIM s g bob 0 1-0 IDLE", "-ERR Unrecognized XCLAIM option 'IDLE'\r\n"),
    ("XCLAIM s g bob 0 1-0 FORCE 2-0", "-ERR Unrecognized XCLAIM option '2-0'\r\n"),
    ("XCLAIM s g bob 0 1-0 TIME 99999999999999999999", "-ERR Invalid TIME option argument for XCLAIM\r\n"),
    ("XCLAIM s g bob 0 1-0 \"JUSTID\\x00x\"", "*1\r\n$3\r\n1-0\r\n"),
    ("XCLAIM s g carol 0 1-0 JUSTID RETRYCOUNT 7", "*1\r\n$3\r\n1-0\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n1-0\r\n$5\r\ncarol\r\n:?\r\n:7\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:?\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n"),
    ("XCLAIM s g carol 0 1-0 JUSTID RETRYCOUNT -5", "*1\r\n$3\r\n1-0\r\n"),
    ("XCLAIM s g carol 0 1-0 RETRYCOUNT 3 RETRYCOUNT -1", "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n1-0\r\n$5\r\ncarol\r\n:?\r\n:8\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:?\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n"),
    ("XCLAIM s g carol 0 4-0 JUSTID", "*0\r\n"),
    ("XCLAIM s g carol 3600000 4-0 JUSTID FORCE IDLE 7200000", "*1\r\n$3\r\n4-0\r\n"),
    ("XPENDING s g IDLE 3600000 - + 10", "*1\r\n*4\r\n$3\r\n4-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n"),
    ("XCLAIM s g dave 3600000 1-0 2-0 3-0 4-0 JUSTID", "*1\r\n$3\r\n4-0\r\n"),
    ("XPENDING s g - + 10", "*4\r\n*4\r\n$3\r\n1-0\r\n$5\r\ncarol\r\n:?\r\n:8\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:?\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$4\r\ndave\r\n:?\r\n:1\r\n"),
    ("XCLAIM s g dave 3600000 4-0 JUSTID TIME 1000", "*0\r\n"),
    ("XPENDING s g 4-0 4-0 1", "*1\r\n*4\r\n$3\r\n4-0\r\n$4\r\ndave\r\n:?\r\n:1\r\n"),
    ("XINFO STREAM s FULL", "*18\r\n$6\r\nlength\r\n:4\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n4-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$7\r\nentries\r\n*4\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:4\r\n$9\r\npel-count\r\n:4\r\n$7\r\npending\r\n*4\r\n*4\r\n$3\r\n1-0\r\n$5\r\ncarol\r\n:?\r\n:8\r\n*4\r\n$3\r\n2-0\r\n$3\r\nbob\r\n:?\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$4\r\ndave\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*4\r\n*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n3-0\r\n:?\r\n:2\r\n*8\r\n$4\r\nname\r\n$3\r\nbob\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:3\r\n*8\r\n$4\r\nname\r\n$5\r\ncarol\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-0\r\n:?\r\n:8\r\n*8\r\n$4\r\nname\r\n$4\r\ndave\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n4-0\r\n:?\r\n:1\r\n"),
    ("XCLAIM s g dave 0 4-0 JUSTID TIME -5", "*1\r\n$3\r\n4-0\r\n"),
    ("XCLAIM s g dave 0 4-0 JUSTID IDLE -5000000", "*1\r\n$3\r\n4-0\r\n"),
    ("XCLAIM s g dave 0 4-0 JUSTID TIME 99999999999999", "*1\r\n$3\r\n4-0\r\n"),
    ("XCLAIM s g dave 0 4-0 JUSTID TIME 1000 IDLE 0", "*1\r\n$3\r\n4-0\r\n"),
    ("XPENDING s g IDLE 3600000 - + 10", "*0\r\n"),
    ("XCLAIM s g erin -100000 2-0", "*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XCLAIM s g erin 0 2-0 LASTID 10-0 JUSTID", "*1\r\n$3\r\n2-0\r\n"),
    ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$4\r\n10-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
    ("XCLAIM s g erin 0 2-0 LASTID 5-0 JUSTID", "*1\r\n$3\r\n2-0\r\n"),
    ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:5\r\n$7\r\npending\r\n:4\r\n$17\r\nlast-delivered-id\r\n$4\r\n10-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n"),
    ("XDEL s 3-0", ":1\r\n"),
    ("XCLAIM s g erin 0 3-0 1-0", "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XPENDING s g", "*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$4\r\ndave\r\n$1\r\n1\r\n*2\r\n$4\r\nerin\r\n$1\r\n2\r\n"),
    ("XCLAIM s g erin 0 3-0 FORCE", "*0\r\n"),
    ("XCLAIM s g frank 0 7-0 FORCE", "*0\r\n"),
    ("XINFO CONSUMERS s g", "*5\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$5\r\ncarol\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$4\r\ndave\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$4\r\nerin\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:?\r\n"),
    ("XCLAIM s g dave 0 1 idle 0 JUSTID retrycount 2 force lastid 0-1", "*1\r\n$3\r\n1-0\r\n"),
    ("XCLAIM s g dave 0 1-0 1-0 JUSTID", "*2\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n"),
    ("XCLAIM s g dave 0 1-0 1-0", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XPENDING s g - + 10", "*3\r\n*4\r\n$3\r\n1-0\r\n$4\r\ndave\r\n:?\r\n:4\r\n*4\r\n$3\r\n2-0\r\n$4\r\nerin\r\n:?\r\n:4\r\n*4\r\n$3\r\n4-0\r\n$4\r\ndave\r\n:?\r\n:1\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XCLAIM str g c 0 1-0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XCLAIM str g c x bad", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
];
const XAUTOCLAIM_SCRIPT: &[(&str, &str)] = &[
    ("XAUTOCLAIM s g c 0", "-ERR wrong number of arguments for 'xautoclaim' command\r\n"),
    ("XAUTOCLAIM nokey g c 0 0", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XAUTOCLAIM nokey g c x 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"),
    ("XAUTOCLAIM nokey g c 99999999999999999999 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"),
    ("XAUTOCLAIM nokey g c 0 bad", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT 0", "-ERR COUNT must be > 0\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT x", "-ERR COUNT must be > 0\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT -1", "-ERR COUNT must be > 0\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT 576460752303423487", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT 576460752303423488", "-ERR COUNT must be > 0\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT 1 COUNT 0", "-ERR COUNT must be > 0\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 COUNT", "-ERR syntax error\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 FOO", "-ERR syntax error\r\n"),
    ("XAUTOCLAIM nokey g c 0 0 JUSTID JUSTID COUNT 5 COUNT 6", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XAUTOCLAIM nokey g c 0 (18446744073709551615-18446744073709551615", "-ERR invalid start ID for the interval\r\n"),
    ("XAUTOCLAIM nokey g c 0 +", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"),
    ("XAUTOCLAIM nokey g c 0 (", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
    ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
    ("XADD s 3-0 c 3", "$3\r\n3-0\r\n"),
    ("XADD s 4-0 d 4", "$3\r\n4-0\r\n"),
    ("XADD s 5-0 e 5", "$3\r\n5-0\r\n"),
    ("XAUTOCLAIM s g c 0 0", "-NOGROUP No such key 's' or consumer group 'g'\r\n"),
    ("XGROUP CREATE s g 0", "+OK\r\n"),
    ("XAUTOCLAIM s g c 0 0", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XINFO CONSUMERS s g", "*0\r\n"),
    ("XCLAIM s g alice 0 1-0 2-0 3-0 4-0 5-0 FORCE JUSTID", "*5\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n$3\r\n5-0\r\n"),
    ("XDEL s 2-0", ":1\r\n"),
    ("XAUTOCLAIM s g bob 0 0 COUNT 1", "*3\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*0\r\n"),
    ("XAUTOCLAIM s g bob 0 0 COUNT 1 JUSTID", "*3\r\n$3\r\n2-0\r\n*1\r\n$3\r\n1-0\r\n*0\r\n"),
    ("XAUTOCLAIM s g bob 0 (1-0 COUNT 1 JUSTID", "*3\r\n$3\r\n3-0\r\n*0\r\n*1\r\n$3\r\n2-0\r\n"),
    ("XPENDING s g", "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n5-0\r\n*2\r\n*2\r\n$5\r\nalice\r\n$1\r\n3\r\n*2\r\n$3\r\nbob\r\n$1\r\n1\r\n"),
    ("XAUTOCLAIM s g bob 3600000 - COUNT 1", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XAUTOCLAIM s g bob 3600000 -", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XINFO CONSUMERS s g", "*2\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:3\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:?\r\n"),
    ("XCLAIM s g alice 0 4-0 JUSTID IDLE 7200000", "*1\r\n$3\r\n4-0\r\n"),
    ("XAUTOCLAIM s g bob 3600000 - JUSTID", "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n4-0\r\n*0\r\n"),
    ("XPENDING s g - + 10", "*4\r\n*4\r\n$3\r\n1-0\r\n$3\r\nbob\r\n:?\r\n:2\r\n*4\r\n$3\r\n3-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n4-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n*4\r\n$3\r\n5-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n"),
    ("XAUTOCLAIM s g carol -5 - JUSTID", "*3\r\n$3\r\n0-0\r\n*4\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n$3\r\n5-0\r\n*0\r\n"),
    ("XAUTOCLAIM s g carol 0 - COUNT 2", "*3\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*0\r\n"),
    ("XAUTOCLAIM s g carol 0 4-0 COUNT 2", "*3\r\n$3\r\n0-0\r\n*2\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nd\r\n$1\r\n4\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*0\r\n"),
    ("XAUTOCLAIM s g carol 0 (5-0", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XAUTOCLAIM s g carol 0 +", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XPENDING s g - + 10", "*4\r\n*4\r\n$3\r\n1-0\r\n$5\r\ncarol\r\n:?\r\n:3\r\n*4\r\n$3\r\n3-0\r\n$5\r\ncarol\r\n:?\r\n:2\r\n*4\r\n$3\r\n4-0\r\n$5\r\ncarol\r\n:?\r\n:2\r\n*4\r\n$3\r\n5-0\r\n$5\r\ncarol\r\n:?\r\n:2\r\n"),
    ("XDEL s 1-0 3-0 4-0", ":3\r\n"),
    ("XAUTOCLAIM s g dave 0 - COUNT 1", "*3\r\n$3\r\n3-0\r\n*0\r\n*1\r\n$3\r\n1-0\r\n"),
    ("XAUTOCLAIM s g dave 0 - COUNT 10", "*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\ne\r\n$1\r\n5\r\n*2\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n"),
    ("XPENDING s g", "*4\r\n:1\r\n$3\r\n5-0\r\n$3\r\n5-0\r\n*1\r\n*2\r\n$4\r\ndave\r\n$1\r\n1\r\n"),
    ("XAUTOCLAIM s g dave 0 99999999999999999999", "-ERR Invalid stream ID specified as stream command argument\r\n"),
    ("XADD s2 1-0 f v", "$3\r\n1-0\r\n"),
    ("XADD s2 2-0 f v", "$3\r\n2-0\r\n"),
    ("XADD s2 3-0 f v", "$3\r\n3-0\r\n"),
    ("XADD s2 4-0 f v", "$3\r\n4-0\r\n"),
    ("XADD s2 5-0 f v", "$3\r\n5-0\r\n"),
    ("XADD s2 6-0 f v", "$3\r\n6-0\r\n"),
    ("XADD s2 7-0 f v", "$3\r\n7-0\r\n"),
    ("XADD s2 8-0 f v", "$3\r\n8-0\r\n"),
    ("XADD s2 9-0 f v", "$3\r\n9-0\r\n"),
    ("XADD s2 10-0 f v", "$4\r\n10-0\r\n"),
    ("XADD s2 11-0 f v", "$4\r\n11-0\r\n"),
    ("XADD s2 12-0 f v", "$4\r\n12-0\r\n"),
    ("XGROUP CREATE s2 g 0", "+OK\r\n"),
    ("XCLAIM s2 g a 0 1-0 2-0 3-0 4-0 5-0 6-0 7-0 8-0 9-0 10-0 11-0 12-0 FORCE JUSTID", "*12\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n$3\r\n5-0\r\n$3\r\n6-0\r\n$3\r\n7-0\r\n$3\r\n8-0\r\n$3\r\n9-0\r\n$4\r\n10-0\r\n$4\r\n11-0\r\n$4\r\n12-0\r\n"),
    ("XAUTOCLAIM s2 g b 3600000 - COUNT 1", "*3\r\n$4\r\n11-0\r\n*0\r\n*0\r\n"),
    ("XAUTOCLAIM s2 g b 3600000 (10-0 COUNT 1", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XAUTOCLAIM s2 g b 3600000 - COUNT 2", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XAUTOCLAIM s2 g b 3600000 -", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"),
    ("XCLAIM s2 g a 0 12-0 JUSTID TIME 1", "*1\r\n$4\r\n12-0\r\n"),
    ("XAUTOCLAIM s2 g b 3600000 -", "*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$4\r\n12-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*0\r\n"),
    ("XAUTOCLAIM s2 g b 0 - COUNT 3 JUSTID", "*3\r\n$3\r\n4-0\r\n*3\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n$3\r\n3-0\r\n*0\r\n"),
    ("XINFO CONSUMERS s2 g", "*2\r\n*6\r\n$4\r\nname\r\n$1\r\na\r\n$7\r\npending\r\n:8\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$1\r\nb\r\n$7\r\npending\r\n:4\r\n$4\r\nidle\r\n:?\r\n"),
    ("XAUTOCLAIM s2 g b 0 - \"COUNT\\x00\" 1 \"JUSTID\\x00x\"", "*3\r\n$3\r\n2-0\r\n*1\r\n$3\r\n1-0\r\n*0\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XAUTOCLAIM str g c 0 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XAUTOCLAIM str g c x 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"),
    ("XAUTOCLAIM str g c 0 0 COUNT 0", "-ERR COUNT must be > 0\r\n"),
];
const XINFO_SCRIPT: &[(&str, &str)] = &[
    ("XINFO", "-ERR wrong number of arguments for 'xinfo' command\r\n"),
    ("XINFO foo", "-ERR unknown subcommand 'foo'. Try XINFO HELP.\r\n"),
    ("XINFO help", "*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n+HELP\r\n+    Prints this help.\r\n"),
    ("XINFO HELP x", "-ERR wrong number of arguments for 'xinfo|help' command\r\n"),
    ("XINFO stream", "-ERR wrong number of arguments for 'xinfo|stream' command\r\n"),
    ("XINFO STREAM nokey", "-ERR no such key\r\n"),
    ("XINFO STREAM nokey FULL", "-ERR no such key\r\n"),
    ("XINFO STREAM nokey junk", "-ERR no such key\r\n"),
    ("XINFO GROUPS nokey", "-ERR no such key\r\n"),
    ("XINFO CONSUMERS nokey g", "-ERR no such key\r\n"),
    ("XINFO CONSUMERS nokey", "-ERR wrong number of arguments for 'xinfo|consumers' command\r\n"),
    ("XINFO GROUPS nokey x", "-ERR wrong number of arguments for 'xinfo|groups' command\r\n"),
    ("SET str x", "+OK\r\n"),
    ("XINFO STREAM str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XINFO STREAM str FULL junk", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XINFO GROUPS str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XINFO CONSUMERS str g", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"),
    ("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n"),
    ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
    ("XINFO STREAM s FULL", "*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO STREAM s junk", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
    ("XINFO stream s FULL junk", "-ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP.\r\n"),
    ("XINFO STREAM s FULL COUNT", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
    ("XINFO STREAM s FULL COUNT x", "-ERR value is not an integer or out of range\r\n"),
    ("XINFO STREAM s FULL COUNT -1", "*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO STREAM s FULL COUNT 0", "*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO STREAM s FULL COUNT 5 x", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
    ("XINFO STREAM s notfull COUNT 5", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
    ("XINFO STREAM s full notcount 5", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"),
    ("XINFO STREAM s \"FULL\\x00x\" \"count\\x00\" 1", "*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO CONSUMERS s nog", "-NOGROUP No such consumer group 'nog' for key name 's'\r\n"),
    ("XINFO CONSUMERS s g", "*0\r\n"),
    ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
    ("XADD s 2-0 b 2 c 3", "$3\r\n2-0\r\n"),
    ("XADD s 3-0 a 3", "$3\r\n3-0\r\n"),
    ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
    ("XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n"),
    ("XGROUP CREATE s g2 0 ENTRIESREAD 1", "+OK\r\n"),
    ("XGROUP CREATE s g3 2-0", "+OK\r\n"),
    ("XGROUP CREATE s g4 $ ENTRIESREAD 10", "+OK\r\n"),
    ("XINFO GROUPS s", "*4\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-7\r\n"),
    ("XCLAIM s g alice 0 1-0 2-0 FORCE JUSTID", "*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n"),
    ("XCLAIM s g bob 0 3-0 FORCE JUSTID", "*1\r\n$3\r\n3-0\r\n"),
    ("XCLAIM s g2 carol 0 2-0 FORCE JUSTID", "*1\r\n$3\r\n2-0\r\n"),
    ("XGROUP CREATECONSUMER s g3 dave", ":1\r\n"),
    ("XINFO STREAM s FULL", "*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$7\r\nentries\r\n*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n$6\r\ngroups\r\n*4\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:3\r\n$7\r\npending\r\n*3\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*2\r\n*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*2\r\n*3\r\n$3\r\n1-0\r\n:?\r\n:1\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:1\r\n*8\r\n$4\r\nname\r\n$3\r\nbob\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n3-0\r\n:?\r\n:1\r\n*14\r\n$4\r\nname\r\n$2\r\ng2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:2\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$5\r\ncarol\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:1\r\n*14\r\n$4\r\nname\r\n$2\r\ng3\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$4\r\ndave\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n*14\r\n$4\r\nname\r\n$2\r\ng4\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-7\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO STREAM s FULL COUNT 1", "*18\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$6\r\ngroups\r\n*4\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:3\r\n$7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*2\r\n*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-0\r\n:?\r\n:1\r\n*8\r\n$4\r\nname\r\n$3\r\nbob\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n3-0\r\n:?\r\n:1\r\n*14\r\n$4\r\nname\r\n$2\r\ng2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:2\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$5\r\ncarol\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:1\r\n*14\r\n$4\r\nname\r\n$2\r\ng3\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$4\r\ndave\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n*14\r\n$4\r\nname\r\n$2\r\ng4\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-7\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO GROUPS s", "*4\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:3\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-7\r\n"),
    ("XINFO CONSUMERS s g", "*2\r\n*6\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:?\r\n*6\r\n$4\r\nname\r\n$3\r\nbob\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:?\r\n"),
    ("XINFO CONSUMERS s g2", "*1\r\n*6\r\n$4\r\nname\r\n$5\r\ncarol\r\n$7\r\npending\r\n:1\r\n$4\r\nidle\r\n:?\r\n"),
    ("XINFO CONSUMERS s g3", "*1\r\n*6\r\n$4\r\nname\r\n$4\r\ndave\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n"),
    ("XDEL s 2-0", ":1\r\n"),
    ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:4\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"),
    ("XINFO GROUPS s", "*4\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-7\r\n"),
    ("XADD s 4-0 d 4", "$3\r\n4-0\r\n"),
    ("XINFO GROUPS s", "*4\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n$-1\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-6\r\n"),
    ("XDEL s 1-0 3-0 4-0", ":3\r\n"),
    ("XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n4-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:4\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
    ("XINFO STREAM s FULL", "*18\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n4-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n4-0\r\n$13\r\nentries-added\r\n:4\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*4\r\n*14\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:3\r\n$7\r\npending\r\n*3\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:1\r\n*4\r\n$3\r\n3-0\r\n$3\r\nbob\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*2\r\n*8\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*2\r\n*3\r\n$3\r\n1-0\r\n:?\r\n:1\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:1\r\n*8\r\n$4\r\nname\r\n$3\r\nbob\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n3-0\r\n:?\r\n:1\r\n*14\r\n$4\r\nname\r\n$2\r\ng2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:3\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*4\r\n$3\r\n2-0\r\n$5\r\ncarol\r\n:?\r\n:1\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$5\r\ncarol\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:1\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:1\r\n*14\r\n$4\r\nname\r\n$2\r\ng3\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*1\r\n*8\r\n$4\r\nname\r\n$4\r\ndave\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n*14\r\n$4\r\nname\r\n$2\r\ng4\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-6\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO GROUPS s", "*4\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:3\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:1\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:3\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:1\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng4\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n3-0\r\n$12\r\nentries-read\r\n:10\r\n$3\r\nlag\r\n:-6\r\n"),
    ("CONFIG SET stream-node-max-entries 1", "+OK\r\n"),
    ("XADD r 1-0 f v", "$3\r\n1-0\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n1-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:1\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XADD r 1-1 f v", "$3\r\n1-1\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:4\r\n$17\r\nlast-generated-id\r\n$3\r\n1-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XADD r 2-0 f v", "$3\r\n2-0\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:3\r\n$15\r\nradix-tree-keys\r\n:3\r\n$16\r\nradix-tree-nodes\r\n:8\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XADD r 300-0 f v", "$5\r\n300-0\r\n"),
    ("XADD r 300-7 f v", "$5\r\n300-7\r\n"),
    ("XADD r 70000-5 f v", "$7\r\n70000-5\r\n"),
    ("XADD r 1099511627776-0 f v", "$15\r\n1099511627776-0\r\n"),
    ("XADD r 1099511627777-65536 f v", "$19\r\n1099511627777-65536\r\n"),
    ("XADD r 72057594037927936-0 f v", "$19\r\n72057594037927936-0\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:9\r\n$15\r\nradix-tree-keys\r\n:9\r\n$16\r\nradix-tree-nodes\r\n:27\r\n$17\r\nlast-generated-id\r\n$19\r\n72057594037927936-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$19\r\n72057594037927936-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XDEL r 300-0", ":1\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:8\r\n$15\r\nradix-tree-keys\r\n:8\r\n$16\r\nradix-tree-nodes\r\n:25\r\n$17\r\nlast-generated-id\r\n$19\r\n72057594037927936-0\r\n$20\r\nmax-deleted-entry-id\r\n$5\r\n300-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$19\r\n72057594037927936-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XDEL r 1-0 1-1", ":2\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:6\r\n$15\r\nradix-tree-keys\r\n:6\r\n$16\r\nradix-tree-nodes\r\n:20\r\n$17\r\nlast-generated-id\r\n$19\r\n72057594037927936-0\r\n$20\r\nmax-deleted-entry-id\r\n$5\r\n300-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n2-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$19\r\n72057594037927936-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XTRIM r MAXLEN 2", ":4\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:5\r\n$17\r\nlast-generated-id\r\n$19\r\n72057594037927936-0\r\n$20\r\nmax-deleted-entry-id\r\n$5\r\n300-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$19\r\n1099511627777-65536\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$19\r\n1099511627777-65536\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$19\r\n72057594037927936-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XDEL r 1099511627777-65536 72057594037927936-0", ":2\r\n"),
    ("XINFO STREAM r", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$19\r\n72057594037927936-0\r\n$20\r\nmax-deleted-entry-id\r\n$19\r\n72057594037927936-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"),
    ("CONFIG SET stream-node-max-entries 3", "+OK\r\n"),
    ("XADD q 1-0 f v", "$3\r\n1-0\r\n"),
    ("XADD q 2-0 f v", "$3\r\n2-0\r\n"),
    ("XADD q 3-0 f v", "$3\r\n3-0\r\n"),
    ("XADD q 4-0 f v", "$3\r\n4-0\r\n"),
    ("XADD q 5-0 f v", "$3\r\n5-0\r\n"),
    ("XADD q 6-0 f v", "$3\r\n6-0\r\n"),
    ("XADD q 7-0 f v", "$3\r\n7-0\r\n"),
    ("XINFO STREAM q", "*20\r\n$6\r\nlength\r\n:7\r\n$15\r\nradix-tree-keys\r\n:3\r\n$16\r\nradix-tree-nodes\r\n:8\r\n$17\r\nlast-generated-id\r\n$3\r\n7-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:7\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("XINFO STREAM q FULL COUNT 2", "*18\r\n$6\r\nlength\r\n:7\r\n$15\r\nradix-tree-keys\r\n:3\r\n$16\r\nradix-tree-nodes\r\n:8\r\n$17\r\nlast-generated-id\r\n$3\r\n7-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:7\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$7\r\nentries\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$6\r\ngroups\r\n*0\r\n"),
    ("XDEL q 4-0 5-0 6-0", ":3\r\n"),
    ("XINFO STREAM q", "*20\r\n$6\r\nlength\r\n:4\r\n$15\r\nradix-tree-keys\r\n:2\r\n$16\r\nradix-tree-nodes\r\n:6\r\n$17\r\nlast-generated-id\r\n$3\r\n7-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n6-0\r\n$13\r\nentries-added\r\n:7\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n7-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
    ("CONFIG SET stream-node-max-entries 100", "+OK\r\n"),
];
const RESP3_SCRIPT: &[(&str, &str)] = &[
    ("! HELLO 3", ""),
    ("XGROUP CREATE s g $ MKSTREAM", "+OK\r\n"),
    ("XPENDING s g", "*4\r\n:0\r\n_\r\n_\r\n_\r\n"),
    ("XINFO STREAM s", "%10\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:1\r\n$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n"),
    ("XINFO STREAM s FULL", "%9\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n0-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:0\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$7\r\nentries\r\n*0\r\n$6\r\ngroups\r\n*1\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:0\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO GROUPS s", "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:0\r\n"),
    ("XADD s 1-0 a 1", "$3\r\n1-0\r\n"),
    ("XADD s 2-0 b 2", "$3\r\n2-0\r\n"),
    ("XGROUP CREATE s g2 0 ENTRIESREAD 1", "+OK\r\n"),
    ("XGROUP CREATECONSUMER s g idler", ":1\r\n"),
    ("XCLAIM s g alice 0 1-0 2-0 FORCE", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XPENDING s g", "*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$5\r\nalice\r\n$1\r\n2\r\n"),
    ("XPENDING s g - + 10", "*2\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n"),
    ("XPENDING s g IDLE 0 - + 10 alice", "*2\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n"),
    ("XPENDING s g - + 10 nobody", "*0\r\n"),
    ("XINFO STREAM s", "%10\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$6\r\ngroups\r\n:2\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XINFO STREAM s FULL", "%9\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$7\r\nentries\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n$6\r\ngroups\r\n*2\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:2\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*2\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n*4\r\n$3\r\n2-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n$9\r\nconsumers\r\n*2\r\n%4\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*2\r\n*3\r\n$3\r\n1-0\r\n:?\r\n:2\r\n*3\r\n$3\r\n2-0\r\n:?\r\n:2\r\n%4\r\n$4\r\nname\r\n$5\r\nidler\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n%7\r\n$4\r\nname\r\n$2\r\ng2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO STREAM s FULL COUNT 1", "%9\r\n$6\r\nlength\r\n:2\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n1-0\r\n$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n$6\r\ngroups\r\n*2\r\n%7\r\n$4\r\nname\r\n$1\r\ng\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:2\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*1\r\n*4\r\n$3\r\n1-0\r\n$5\r\nalice\r\n:?\r\n:2\r\n$9\r\nconsumers\r\n*2\r\n%4\r\n$4\r\nname\r\n$5\r\nalice\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:2\r\n$7\r\npending\r\n*1\r\n*3\r\n$3\r\n1-0\r\n:?\r\n:2\r\n%4\r\n$4\r\nname\r\n$5\r\nidler\r\n$9\r\nseen-time\r\n:?\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n%7\r\n$4\r\nname\r\n$2\r\ng2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n$9\r\npel-count\r\n:0\r\n$7\r\npending\r\n*0\r\n$9\r\nconsumers\r\n*0\r\n"),
    ("XINFO GROUPS s", "*2\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:2\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:2\r\n%6\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n"),
    ("XINFO CONSUMERS s g", "*2\r\n%3\r\n$4\r\nname\r\n$5\r\nalice\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:?\r\n%3\r\n$4\r\nname\r\n$5\r\nidler\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:?\r\n"),
    ("XINFO HELP", "*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n+HELP\r\n+    Prints this help.\r\n"),
    ("XGROUP HELP", "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"),
    ("XAUTOCLAIM s g bob 0 0", "*3\r\n$3\r\n0-0\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*0\r\n"),
    ("XAUTOCLAIM s g bob 0 0 JUSTID", "*3\r\n$3\r\n0-0\r\n*2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*0\r\n"),
    ("XCLAIM s g carol 0 1-0", "*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"),
    ("XCLAIM s g carol 0 1-0 JUSTID", "*1\r\n$3\r\n1-0\r\n"),
    ("XDEL s 1-0", ":1\r\n"),
    ("XINFO GROUPS s", "*2\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:4\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:1\r\n%6\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n"),
    ("XINFO STREAM s", "%10\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n1-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n2-0\r\n$6\r\ngroups\r\n:2\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"),
    ("XAUTOCLAIM s g bob 0 0", "*3\r\n$3\r\n0-0\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*1\r\n$3\r\n1-0\r\n"),
    ("XINFO STREAM nokey", "-ERR no such key\r\n"),
    ("XPENDING s nog", "-NOGROUP No such key 's' or consumer group 'nog'\r\n"),
    ("XACK s g 2-0", ":1\r\n"),
    ("XPENDING s g", "*4\r\n:0\r\n_\r\n_\r\n_\r\n"),
    ("XGROUP DESTROY s g", ":1\r\n"),
    ("XGROUP DESTROY s g2", ":1\r\n"),
    ("XINFO STREAM s FULL", "%9\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n2-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n1-0\r\n$13\r\nentries-added\r\n:2\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n2-0\r\n$7\r\nentries\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n$6\r\ngroups\r\n*0\r\n"),
];

const MISC_SCRIPT: &[(&str, &str)] = &[
    ("MULTI", "+OK\r\n"),
    ("XGROUP CREATE s g $ MKSTREAM", "+QUEUED\r\n"),
    ("XGROUP foo", "-ERR unknown subcommand 'foo'. Try XGROUP HELP.\r\n"),
    ("XINFO STREAM", "-ERR wrong number of arguments for 'xinfo|stream' command\r\n"),
    ("XACK s", "-ERR wrong number of arguments for 'xack' command\r\n"),
    ("EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"),
    ("EXISTS s", ":0\r\n"),
    ("MULTI", "+OK\r\n"),
    ("XGROUP CREATE s g $ MKSTREAM", "+QUEUED\r\n"),
    ("XINFO GROUPS s", "+QUEUED\r\n"),
    ("XGROUP CREATECONSUMER s g c", "+QUEUED\r\n"),
    ("XPENDING s g", "+QUEUED\r\n"),
    ("XGROUP DESTROY s g", "+QUEUED\r\n"),
    ("EXEC", "*5\r\n+OK\r\n*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n:1\r\n*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n:1\r\n"),
    ("MULTI", "+OK\r\n"),
    ("XGROUP CREATE ka g $ MKSTREAM", "+QUEUED\r\n"),
    ("XGROUP CREATE kb g $ MKSTREAM", "+QUEUED\r\n"),
    ("XGROUP CREATE kc g $ MKSTREAM", "+QUEUED\r\n"),
    ("XINFO GROUPS ka", "+QUEUED\r\n"),
    ("XACK kb g 1-0", "+QUEUED\r\n"),
    ("XCLAIM kc g c 0 1-0", "+QUEUED\r\n"),
    ("XGROUP HELP", "+QUEUED\r\n"),
    ("XINFO HELP", "+QUEUED\r\n"),
    ("XPENDING kc g", "+QUEUED\r\n"),
    ("EXEC", "*9\r\n+OK\r\n+OK\r\n+OK\r\n*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n:0\r\n*0\r\n*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n+HELP\r\n+    Prints this help.\r\n*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"),
    ("COMMAND INFO XACK XPENDING XCLAIM XAUTOCLAIM", "*4\r\n*10\r\n$4\r\nxack\r\n:-4\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@stream\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n*10\r\n$8\r\nxpending\r\n:-3\r\n*1\r\n+readonly\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@stream\r\n+@slow\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n*10\r\n$6\r\nxclaim\r\n:-6\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@stream\r\n+@fast\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n*10\r\n$10\r\nxautoclaim\r\n:-6\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@stream\r\n+@fast\r\n*1\r\n$23\r\nnondeterministic_output\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RW\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"),
    ("COMMAND GETKEYS XGROUP CREATE s g 0", "*1\r\n$1\r\ns\r\n"),
    ("COMMAND GETKEYS XGROUP HELP", "-ERR The command has no key arguments\r\n"),
    ("COMMAND GETKEYS XINFO STREAM s FULL", "*1\r\n$1\r\ns\r\n"),
    ("COMMAND GETKEYS XINFO CONSUMERS s g", "*1\r\n$1\r\ns\r\n"),
    ("COMMAND GETKEYS XACK s g 1-0", "*1\r\n$1\r\ns\r\n"),
    ("COMMAND GETKEYS XPENDING s g", "*1\r\n$1\r\ns\r\n"),
    ("COMMAND GETKEYS XCLAIM s g c 0 1-0", "*1\r\n$1\r\ns\r\n"),
    ("COMMAND GETKEYS XAUTOCLAIM s g c 0 0", "*1\r\n$1\r\ns\r\n"),
];
