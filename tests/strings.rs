//! String and bitmap commands (t_string.c, bitops.c): replies and error texts as Redis 7.0 gives
//! them, checked byte for byte on a raw connection, on 1 and 4 shards where keys matter.

mod common;
use common::{resp, Raw, Server};
use shoal::runtime::slot::key_shard;
use std::time::Duration;

/// Reads one complete RESP reply, whatever its length, so a wrong reply fails with a message
/// instead of a read timeout and never desynchronises the next check.
fn read_reply(r: &mut Raw) -> Vec<u8> {
    fn line(r: &mut Raw, out: &mut Vec<u8>) -> Vec<u8> {
        let start = out.len();
        while !out.ends_with(b"\r\n") || out.len() - start < 3 {
            out.extend_from_slice(&r.read_exact(1));
        }
        out[start..out.len() - 2].to_vec()
    }
    fn value(r: &mut Raw, out: &mut Vec<u8>) {
        let l = line(r, out);
        let n: i64 = std::str::from_utf8(&l[1..])
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        match l[0] {
            b'$' | b'=' if n >= 0 => out.extend_from_slice(&r.read_exact(n as usize + 2)),
            b'*' | b'~' | b'>' => (0..n.max(0)).for_each(|_| value(r, out)),
            b'%' => (0..n * 2).for_each(|_| value(r, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    value(r, &mut out);
    out
}

/// Sends one command and expects exactly `want` back.
fn rt(r: &mut Raw, args: &[&str], want: &str) {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    rtb(r, &a, want.as_bytes());
}

/// The same with binary arguments and reply.
fn rtb(r: &mut Raw, args: &[&[u8]], want: &[u8]) {
    r.send(&resp(args));
    let got = read_reply(r);
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(want),
        "{:?}",
        args.iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>()
    );
}

fn bulk(s: &[u8]) -> Vec<u8> {
    let mut v = format!("${}\r\n", s.len()).into_bytes();
    v.extend_from_slice(s);
    v.extend_from_slice(b"\r\n");
    v
}

const NIL: &str = "$-1\r\n";
const OK: &str = "+OK\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

#[test]
fn set_options_and_errors() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    rt(&mut r, &["SET", "k", "v"], OK);
    rt(&mut r, &["GET", "k"], "$1\r\nv\r\n");
    rt(&mut r, &["GET", "nokey"], NIL);
    // Every conflicting or incomplete option is a syntax error.
    for bad in [
        &["NX", "XX"][..],
        &["XX", "NX"],
        &["EX"],
        &["PX"],
        &["EX", "10", "PX", "10"],
        &["PX", "10", "PXAT", "10"],
        &["EXAT", "10", "EX", "10"],
        &["KEEPTTL", "EX", "10"],
        &["EX", "10", "KEEPTTL"],
        &["PERSIST"],
        &["FOO"],
        &["GET", "BAR"],
    ] {
        let mut args = vec!["SET", "k", "v"];
        args.extend_from_slice(bad);
        rt(&mut r, &args, SYNTAX);
    }
    // The same option twice is fine; the last expire wins.
    rt(
        &mut r,
        &["SET", "k", "v", "nx", "NX", "get", "GET"],
        "$1\r\nv\r\n",
    );
    rt(&mut r, &["SET", "k", "v", "EX", "10", "ex", "20"], OK);
    rt(&mut r, &["TTL", "k"], ":20\r\n");
    let bad_time = "-ERR invalid expire time in 'set' command\r\n";
    for (opt, n) in [
        ("EX", "0"),
        ("EX", "-1"),
        ("PX", "0"),
        ("EXAT", "-5"),
        ("EX", "9223372036854776"),
        ("PX", "9223372036854775807"),
        ("EXAT", "9223372036854775807"),
    ] {
        rt(&mut r, &["SET", "k", "v", opt, n], bad_time);
    }
    rt(&mut r, &["SET", "k", "v", "EX", "abc"], NOT_INT);
    rt(&mut r, &["SET", "k", "v", "PX", "1.5"], NOT_INT);
    // The biggest accepted EX: seconds * 1000 just fits.
    rt(&mut r, &["SET", "k", "v", "EXAT", "9223372036854775"], OK);
    rt(&mut r, &["SET", "k", "v"], OK);
    rt(&mut r, &["TTL", "k"], ":-1\r\n");

    // NX / XX, with and without GET.
    rt(&mut r, &["SET", "k", "v2", "NX"], NIL);
    rt(&mut r, &["SET", "n", "1", "XX"], NIL);
    rt(&mut r, &["EXISTS", "n"], ":0\r\n");
    rt(&mut r, &["SET", "n", "1", "XX", "GET"], NIL);
    rt(&mut r, &["SET", "n", "1", "NX", "GET"], NIL);
    rt(&mut r, &["GET", "n"], "$1\r\n1\r\n");
    rt(&mut r, &["SET", "k", "v3", "XX", "GET"], "$1\r\nv\r\n");
    rt(&mut r, &["SET", "k", "v4", "NX", "GET"], "$2\r\nv3\r\n");
    rt(&mut r, &["GET", "k"], "$2\r\nv3\r\n");

    // KEEPTTL keeps, a plain SET drops.
    rt(&mut r, &["SET", "k", "a", "EX", "100"], OK);
    rt(&mut r, &["SET", "k", "b", "KEEPTTL"], OK);
    rt(&mut r, &["TTL", "k"], ":100\r\n");
    rt(&mut r, &["SET", "k", "c", "GET"], "$1\r\nb\r\n");
    rt(&mut r, &["TTL", "k"], ":-1\r\n");

    // SETNX / SETEX / PSETEX.
    rt(&mut r, &["SETNX", "sn", "1"], ":1\r\n");
    rt(&mut r, &["SETNX", "sn", "2"], ":0\r\n");
    rt(&mut r, &["GET", "sn"], "$1\r\n1\r\n");
    rt(&mut r, &["SETEX", "se", "100", "v"], OK);
    rt(&mut r, &["TTL", "se"], ":100\r\n");
    rt(
        &mut r,
        &["SETEX", "se", "0", "v"],
        "-ERR invalid expire time in 'setex' command\r\n",
    );
    rt(&mut r, &["SETEX", "se", "x", "v"], NOT_INT);
    rt(
        &mut r,
        &["PSETEX", "pe", "-1", "v"],
        "-ERR invalid expire time in 'psetex' command\r\n",
    );
    rt(&mut r, &["PSETEX", "pe", "100000", "v"], OK);
    rt(&mut r, &["TTL", "pe"], ":100\r\n");
    rt(
        &mut r,
        &["SET", "k"],
        "-ERR wrong number of arguments for 'set' command\r\n",
    );
    rt(
        &mut r,
        &["SETEX", "k", "1"],
        "-ERR wrong number of arguments for 'setex' command\r\n",
    );

    // Integers are stored as their text and reported int-encoded, as Redis does.
    rt(&mut r, &["SET", "i", "12345"], OK);
    rt(&mut r, &["OBJECT", "ENCODING", "i"], "$3\r\nint\r\n");
    rt(&mut r, &["SET", "i", "012"], OK);
    rt(&mut r, &["OBJECT", "ENCODING", "i"], "$6\r\nembstr\r\n");
}

#[test]
fn expiry_through_set_and_getex() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut r = s.raw();
        rt(&mut r, &["SET", "px", "v", "PX", "100"], OK);
        rt(&mut r, &["SET", "keep", "v", "PX", "100"], OK);
        rt(&mut r, &["SET", "keep", "w", "KEEPTTL"], OK);
        rt(&mut r, &["PSETEX", "ps", "100", "v"], OK);
        rt(&mut r, &["SET", "gx", "v"], OK);
        rt(&mut r, &["GETEX", "gx", "PX", "100"], "$1\r\nv\r\n");
        rt(&mut r, &["SET", "persist", "v", "PX", "100"], OK);
        rt(&mut r, &["GETEX", "persist", "PERSIST"], "$1\r\nv\r\n");
        rt(&mut r, &["INCR", "cnt"], ":1\r\n");
        rt(&mut r, &["PEXPIRE", "cnt", "100"], ":1\r\n");
        // A TTL survives INCR, APPEND and SETRANGE (Redis overwrites the value, not the key).
        rt(&mut r, &["INCR", "cnt"], ":2\r\n");
        rt(&mut r, &["SET", "app", "a", "PX", "100"], OK);
        rt(&mut r, &["APPEND", "app", "b"], ":2\r\n");
        rt(&mut r, &["GET", "px"], "$1\r\nv\r\n");
        std::thread::sleep(Duration::from_millis(200));
        for k in ["px", "keep", "ps", "gx", "cnt", "app"] {
            rt(&mut r, &["GET", k], NIL);
        }
        rt(&mut r, &["GET", "persist"], "$1\r\nv\r\n");

        // An absolute time already past: the key is gone at once for every reader.
        rt(&mut r, &["SET", "old", "v", "PXAT", "1"], OK);
        rt(&mut r, &["GET", "old"], NIL);
        rt(&mut r, &["EXISTS", "old"], ":0\r\n");
        rt(&mut r, &["SET", "old", "v"], OK);
        rt(
            &mut r,
            &["SET", "old", "w", "EXAT", "1", "GET"],
            "$1\r\nv\r\n",
        );
        rt(&mut r, &["GET", "old"], NIL);
        rt(&mut r, &["SET", "old", "v"], OK);
        rt(&mut r, &["GETEX", "old", "PXAT", "1"], "$1\r\nv\r\n");
        rt(&mut r, &["EXISTS", "old"], ":0\r\n");
    }
}

#[test]
fn getex_getdel_getset() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    // Option errors come first; expire values are only checked when the key exists.
    rt(&mut r, &["GETEX", "missing", "FOO"], SYNTAX);
    rt(&mut r, &["GETEX", "missing", "EX", "-1"], NIL);
    rt(&mut r, &["GETEX", "missing", "EX", "abc"], NIL);
    rt(&mut r, &["SET", "k", "v"], OK);
    for bad in [
        &["NX"][..],
        &["XX"],
        &["GET"],
        &["KEEPTTL"],
        &["EX"],
        &["PERSIST", "EX", "10"],
        &["EX", "10", "PERSIST"],
        &["EX", "10", "PXAT", "10"],
    ] {
        let mut args = vec!["GETEX", "k"];
        args.extend_from_slice(bad);
        rt(&mut r, &args, SYNTAX);
    }
    rt(
        &mut r,
        &["GETEX", "k", "EX", "0"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    rt(
        &mut r,
        &["GETEX", "k", "EX", "9223372036854776"],
        "-ERR invalid expire time in 'getex' command\r\n",
    );
    rt(&mut r, &["GETEX", "k", "PX", "x"], NOT_INT);
    rt(&mut r, &["GETEX", "k"], "$1\r\nv\r\n");
    rt(&mut r, &["GETEX", "k", "EX", "100"], "$1\r\nv\r\n");
    rt(&mut r, &["TTL", "k"], ":100\r\n");
    rt(
        &mut r,
        &["GETEX", "k", "EXAT", "99999999999"],
        "$1\r\nv\r\n",
    );
    rt(&mut r, &["EXPIRETIME", "k"], ":99999999999\r\n");
    rt(&mut r, &["GETEX", "k", "PERSIST"], "$1\r\nv\r\n");
    rt(&mut r, &["TTL", "k"], ":-1\r\n");

    rt(&mut r, &["GETDEL", "k"], "$1\r\nv\r\n");
    rt(&mut r, &["GETDEL", "k"], NIL);
    rt(&mut r, &["EXISTS", "k"], ":0\r\n");

    rt(&mut r, &["GETSET", "g", "a"], NIL);
    rt(&mut r, &["SET", "g", "b", "EX", "100"], OK);
    rt(&mut r, &["GETSET", "g", "c"], "$1\r\nb\r\n");
    rt(&mut r, &["TTL", "g"], ":-1\r\n");
    rt(&mut r, &["GET", "g"], "$1\r\nc\r\n");
}

#[test]
fn counters() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    rt(&mut r, &["INCR", "n"], ":1\r\n");
    rt(&mut r, &["INCRBY", "n", "10"], ":11\r\n");
    rt(&mut r, &["DECR", "n"], ":10\r\n");
    rt(&mut r, &["DECRBY", "n", "-5"], ":15\r\n");
    rt(&mut r, &["GET", "n"], "$2\r\n15\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "n"], "$3\r\nint\r\n");
    rt(&mut r, &["DECR", "fresh"], ":-1\r\n");
    rt(&mut r, &["INCRBY", "n", "abc"], NOT_INT);
    rt(&mut r, &["INCRBY", "n", "9223372036854775808"], NOT_INT);
    rt(&mut r, &["INCRBY", "n", "1.5"], NOT_INT);
    let overflow = "-ERR increment or decrement would overflow\r\n";
    rt(&mut r, &["INCRBY", "n", "9223372036854775807"], overflow);
    rt(
        &mut r,
        &["DECRBY", "n", "-9223372036854775808"],
        "-ERR decrement would overflow\r\n",
    );
    rt(&mut r, &["SET", "n", "9223372036854775807"], OK);
    rt(&mut r, &["INCR", "n"], overflow);
    rt(&mut r, &["SET", "n", "-9223372036854775808"], OK);
    rt(&mut r, &["DECR", "n"], overflow);
    rt(&mut r, &["DECRBY", "n", "9223372036854775807"], overflow);
    rt(&mut r, &["INCRBY", "n", "9223372036854775807"], ":-1\r\n");
    // Only canonical integers count (Redis's string2ll).
    for v in [
        "abc",
        "",
        " 1",
        "1 ",
        "01",
        "+1",
        "1.0",
        "99999999999999999999",
    ] {
        rt(&mut r, &["SET", "s", v], OK);
        rt(&mut r, &["INCR", "s"], NOT_INT);
    }

    rt(&mut r, &["SET", "f", "10.5"], OK);
    rt(&mut r, &["INCRBYFLOAT", "f", "0.1"], "$4\r\n10.6\r\n");
    rt(&mut r, &["INCRBYFLOAT", "f", "-0.6"], "$2\r\n10\r\n");
    rt(&mut r, &["INCRBYFLOAT", "f", "5.0e3"], "$4\r\n5010\r\n");
    rt(&mut r, &["INCRBYFLOAT", "new", "3.0"], "$1\r\n3\r\n");
    let not_float = "-ERR value is not a valid float\r\n";
    rt(&mut r, &["INCRBYFLOAT", "f", "abc"], not_float);
    rt(&mut r, &["INCRBYFLOAT", "f", "nan"], not_float);
    rt(
        &mut r,
        &["INCRBYFLOAT", "f", "inf"],
        "-ERR increment would produce NaN or Infinity\r\n",
    );
    rt(&mut r, &["SET", "f", "x"], OK);
    rt(&mut r, &["INCRBYFLOAT", "f", "1"], not_float);
    rt(&mut r, &["SET", "f", "5", "EX", "100"], OK);
    rt(&mut r, &["INCRBYFLOAT", "f", "1.5"], "$3\r\n6.5\r\n");
    rt(&mut r, &["TTL", "f"], ":100\r\n");
    rt(&mut r, &["SET", "i", "5", "EX", "100"], OK);
    rt(&mut r, &["INCRBY", "i", "5"], ":10\r\n");
    rt(&mut r, &["TTL", "i"], ":100\r\n");
    rt(
        &mut r,
        &["INCR", "a", "b"],
        "-ERR wrong number of arguments for 'incr' command\r\n",
    );
}

#[test]
fn append_strlen_getrange_setrange() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    rt(&mut r, &["APPEND", "a", "12"], ":2\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "a"], "$3\r\nint\r\n");
    rt(&mut r, &["APPEND", "a", "3"], ":3\r\n");
    rt(&mut r, &["GET", "a"], "$3\r\n123\r\n");
    // Appending makes the string raw, whatever it holds.
    rt(&mut r, &["OBJECT", "ENCODING", "a"], "$3\r\nraw\r\n");
    rt(&mut r, &["APPEND", "a", ""], ":3\r\n");
    rt(&mut r, &["APPEND", "e", ""], ":0\r\n");
    rt(&mut r, &["EXISTS", "e"], ":1\r\n");
    rt(&mut r, &["STRLEN", "a"], ":3\r\n");
    rt(&mut r, &["STRLEN", "e"], ":0\r\n");
    rt(&mut r, &["STRLEN", "missing"], ":0\r\n");

    rt(&mut r, &["SET", "k", "hello"], OK);
    for (s_, e, want) in [
        ("0", "-1", "hello"),
        ("-3", "-1", "llo"),
        ("-1", "-3", ""),
        ("10", "20", ""),
        ("3", "1", ""),
        ("-100", "100", "hello"),
        ("-100", "-50", "h"),
        ("4", "4", "o"),
        ("5", "5", ""),
        ("9223372036854775807", "-9223372036854775808", ""),
        ("-9223372036854775808", "9223372036854775807", "hello"),
    ] {
        rt(
            &mut r,
            &["GETRANGE", "k", s_, e],
            &String::from_utf8(bulk(want.as_bytes())).unwrap(),
        );
    }
    rt(&mut r, &["SUBSTR", "k", "1", "2"], "$2\r\nel\r\n");
    rt(&mut r, &["GETRANGE", "k", "0", "x"], NOT_INT);
    rt(&mut r, &["GETRANGE", "missing", "x", "0"], NOT_INT);
    rt(&mut r, &["GETRANGE", "missing", "0", "-1"], "$0\r\n\r\n");
    rt(&mut r, &["GETRANGE", "e", "0", "-1"], "$0\r\n\r\n");

    rt(
        &mut r,
        &["SETRANGE", "k", "-1", "x"],
        "-ERR offset is out of range\r\n",
    );
    rt(&mut r, &["SETRANGE", "k", "x", "x"], NOT_INT);
    rt(&mut r, &["SETRANGE", "k", "1", ""], ":5\r\n");
    rt(&mut r, &["SETRANGE", "m", "5", ""], ":0\r\n");
    rt(&mut r, &["EXISTS", "m"], ":0\r\n");
    rt(&mut r, &["SETRANGE", "k", "0", "J"], ":5\r\n");
    rt(&mut r, &["SETRANGE", "k", "3", "LOWORLD"], ":10\r\n");
    rt(&mut r, &["GET", "k"], "$10\r\nJelLOWORLD\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "k"], "$3\r\nraw\r\n");
    rtb(&mut r, &[b"SETRANGE", b"m", b"3", b"ab"], b":5\r\n");
    rtb(&mut r, &[b"GET", b"m"], b"$5\r\n\x00\x00\x00ab\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "m"], "$3\r\nraw\r\n");
    let too_big = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    rt(&mut r, &["SETRANGE", "k", "536870912", "x"], too_big);
    rt(&mut r, &["SETRANGE", "k", "536870911", "xy"], too_big);
    rt(
        &mut r,
        &["SETRANGE", "k", "9223372036854775807", "xy"],
        too_big,
    );
    rt(&mut r, &["SETRANGE", "new", "536870912", "x"], too_big);
    rt(&mut r, &["SETRANGE", "new", "536870912", ""], ":0\r\n");
    rt(&mut r, &["EXISTS", "new"], ":0\r\n");
    rt(&mut r, &["SET", "t", "abc", "EX", "100"], OK);
    rt(&mut r, &["SETRANGE", "t", "1", "X"], ":3\r\n");
    rt(&mut r, &["SETRANGE", "t", "5", "Y"], ":6\r\n");
    rt(&mut r, &["TTL", "t"], ":100\r\n");
    rtb(&mut r, &[b"GET", b"t"], b"$6\r\naXc\x00\x00Y\r\n");
}

#[test]
fn mget_mset_msetnx() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut r = s.raw();
        rt(
            &mut r,
            &["MSET", "a"],
            "-ERR wrong number of arguments for 'mset' command\r\n",
        );
        rt(
            &mut r,
            &["MSET", "a", "1", "b"],
            "-ERR wrong number of arguments for 'mset' command\r\n",
        );
        rt(
            &mut r,
            &["MSETNX", "a", "1", "b"],
            "-ERR wrong number of arguments for 'msetnx' command\r\n",
        );
        rt(
            &mut r,
            &["MGET"],
            "-ERR wrong number of arguments for 'mget' command\r\n",
        );
        rt(&mut r, &["MSET", "a", "1", "b", "2", "a", "3"], OK);
        rt(
            &mut r,
            &["MGET", "a", "b", "nokey"],
            "*3\r\n$1\r\n3\r\n$1\r\n2\r\n$-1\r\n",
        );
        rt(&mut r, &["MSETNX", "c", "1", "d", "2"], ":1\r\n");
        rt(&mut r, &["MSETNX", "e", "1", "c", "9"], ":0\r\n");
        rt(
            &mut r,
            &["MGET", "c", "d", "e"],
            "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n",
        );
        rt(&mut r, &["MSETNX", "e", "1", "f", "2", "e", "3"], ":1\r\n");
        rt(&mut r, &["MGET", "e", "f"], "*2\r\n$1\r\n3\r\n$1\r\n2\r\n");
        // MSET drops TTLs like SET.
        rt(&mut r, &["SET", "a", "x", "EX", "100"], OK);
        rt(&mut r, &["MSET", "a", "y", "b", "z"], OK);
        rt(&mut r, &["TTL", "a"], ":-1\r\n");
    }
}

/// Keys a0..a{n} spread over `shards`; asserts they really land on more than one shard.
fn spread_keys(n: usize, shards: usize) -> Vec<String> {
    let keys: Vec<String> = (0..n).map(|i| format!("key:{i}")).collect();
    if shards > 1 {
        let mut hit: Vec<usize> = keys
            .iter()
            .map(|k| key_shard(k.as_bytes(), shards))
            .collect();
        hit.sort_unstable();
        hit.dedup();
        assert!(hit.len() > 1, "test keys all hash to one shard");
    }
    keys
}

#[test]
fn cross_shard_multi_key_commands() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        let keys = spread_keys(12, shards);
        let mut mset = redis::cmd("MSET");
        for (i, k) in keys.iter().enumerate() {
            mset.arg(k).arg(i);
        }
        let _: () = mset.query(&mut c).unwrap();
        let got: Vec<Option<i64>> = redis::cmd("MGET")
            .arg(&keys)
            .arg("nokey")
            .query(&mut c)
            .unwrap();
        let mut want: Vec<Option<i64>> = (0..12).map(Some).collect();
        want.push(None);
        assert_eq!(got, want, "shards {shards}");

        // MSETNX is all or nothing across shards: one existing key blocks every write.
        let fresh: Vec<String> = (0..8).map(|i| format!("fresh:{i}")).collect();
        let mut nx = redis::cmd("MSETNX");
        for k in &fresh {
            nx.arg(k).arg("v");
        }
        nx.arg(&keys[5]).arg("clobber");
        let n: i64 = nx.query(&mut c).unwrap();
        assert_eq!(n, 0);
        let exists: i64 = redis::cmd("EXISTS").arg(&fresh).query(&mut c).unwrap();
        assert_eq!(exists, 0, "shards {shards}: MSETNX wrote part of its keys");
        let v: i64 = redis::cmd("GET").arg(&keys[5]).query(&mut c).unwrap();
        assert_eq!(v, 5);
        let mut nx = redis::cmd("MSETNX");
        for k in &fresh {
            nx.arg(k).arg("v");
        }
        let n: i64 = nx.query(&mut c).unwrap();
        assert_eq!(n, 1);
        let exists: i64 = redis::cmd("EXISTS").arg(&fresh).query(&mut c).unwrap();
        assert_eq!(exists, 8);

        // BITOP and LCS read keys on other shards and write the destination.
        let (k1, k2) = (&keys[0], &keys[1]);
        let _: () = redis::cmd("MSET")
            .arg(k1)
            .arg("ohmytext")
            .arg(k2)
            .arg("mynewtext")
            .query(&mut c)
            .unwrap();
        let l: String = redis::cmd("LCS").arg(k1).arg(k2).query(&mut c).unwrap();
        assert_eq!(l, "mytext");
        let n: i64 = redis::cmd("LCS")
            .arg(k1)
            .arg(k2)
            .arg("LEN")
            .query(&mut c)
            .unwrap();
        assert_eq!(n, 6);
        let _: () = redis::cmd("MSET")
            .arg(&keys[2])
            .arg("abc")
            .arg(&keys[3])
            .arg("ab")
            .query(&mut c)
            .unwrap();
        let n: i64 = redis::cmd("BITOP")
            .arg("OR")
            .arg(&keys[4])
            .arg(&keys[2])
            .arg(&keys[3])
            .arg("nokey")
            .query(&mut c)
            .unwrap();
        assert_eq!(n, 3);
        let v: Vec<u8> = redis::cmd("GET").arg(&keys[4]).query(&mut c).unwrap();
        assert_eq!(v, b"abc");
        let n: i64 = redis::cmd("BITOP")
            .arg("AND")
            .arg(&keys[4])
            .arg(&keys[2])
            .arg(&keys[3])
            .query(&mut c)
            .unwrap();
        assert_eq!(n, 3);
        let v: Vec<u8> = redis::cmd("GET").arg(&keys[4]).query(&mut c).unwrap();
        assert_eq!(v, b"ab\x00");
        let n: i64 = redis::cmd("BITOP")
            .arg("XOR")
            .arg(&keys[4])
            .arg("nokey")
            .arg("nokey2")
            .query(&mut c)
            .unwrap();
        assert_eq!(n, 0);
        let e: i64 = redis::cmd("EXISTS").arg(&keys[4]).query(&mut c).unwrap();
        assert_eq!(e, 0, "an empty BITOP result deletes the destination");
    }
}

#[test]
fn lcs_replies() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut r = s.raw();
        rt(
            &mut r,
            &["MSET", "key1", "ohmytext", "key2", "mynewtext"],
            OK,
        );
        rt(&mut r, &["LCS", "key1", "key2"], "$6\r\nmytext\r\n");
        rt(&mut r, &["LCS", "key1", "key2", "LEN"], ":6\r\n");
        rt(
            &mut r,
            &["LCS", "key1", "key2", "IDX"],
            "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n\
             *2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n:1\r\n$3\r\nlen\r\n:6\r\n",
        );
        rt(
            &mut r,
            &["LCS", "key1", "key2", "idx", "minmatchlen", "4", "withmatchlen"],
            "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n",
        );
        rt(&mut r, &["LCS", "key1", "nokey"], "$0\r\n\r\n");
        rt(
            &mut r,
            &["LCS", "key1", "nokey", "IDX"],
            "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
        );
        let both = "-ERR If you want both the length and indexes, please just use IDX.\r\n";
        rt(&mut r, &["LCS", "key1", "key2", "IDX", "LEN"], both);
        rt(&mut r, &["LCS", "key1", "key2", "FOO"], SYNTAX);
        rt(&mut r, &["LCS", "key1", "key2", "MINMATCHLEN"], SYNTAX);
        rt(
            &mut r,
            &["LCS", "key1", "key2", "MINMATCHLEN", "x"],
            NOT_INT,
        );
        rt(
            &mut r,
            &["LCS", "key1"],
            "-ERR wrong number of arguments for 'lcs' command\r\n",
        );
        // Ranges broken by gaps, as Redis groups them (checked against redis-server 7.0).
        rt(
            &mut r,
            &["MSET", "x", "abcdefgabcdefg", "y", "xxbcdzzzabcdefgyy"],
            OK,
        );
        rt(
            &mut r,
            &["LCS", "x", "y", "IDX", "WITHMATCHLEN"],
            "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:7\r\n:13\r\n*2\r\n:8\r\n:14\r\n:7\r\n\
             *3\r\n*2\r\n:1\r\n:3\r\n*2\r\n:2\r\n:4\r\n:3\r\n$3\r\nlen\r\n:10\r\n",
        );
        rt(&mut r, &["LCS", "x", "y"], "$10\r\nbcdabcdefg\r\n");
        // RESP3: IDX is a map.
        r.send(&resp(&[b"HELLO", b"3"]));
        std::thread::sleep(Duration::from_millis(50));
        let mut buf = [0u8; 4096];
        let _ = std::io::Read::read(&mut r.s, &mut buf);
        rt(
            &mut r,
            &["LCS", "key1", "nokey", "IDX"],
            "%2\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n",
        );
        rt(&mut r, &["GET", "nokey"], "_\r\n");
    }
}

#[test]
fn setbit_getbit() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    rt(&mut r, &["SETBIT", "b", "7", "1"], ":0\r\n");
    rtb(&mut r, &[b"GET", b"b"], b"$1\r\n\x01\r\n");
    rt(&mut r, &["SETBIT", "b", "7", "1"], ":1\r\n");
    rt(&mut r, &["SETBIT", "b", "0", "1"], ":0\r\n");
    rt(&mut r, &["SETBIT", "b", "7", "0"], ":1\r\n");
    rtb(&mut r, &[b"GET", b"b"], b"$1\r\n\x80\r\n");
    rt(&mut r, &["SETBIT", "b", "17", "1"], ":0\r\n");
    rtb(&mut r, &[b"GET", b"b"], b"$3\r\n\x80\x00\x40\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "b"], "$3\r\nraw\r\n");
    let off = "-ERR bit offset is not an integer or out of range\r\n";
    let bit = "-ERR bit is not an integer or out of range\r\n";
    rt(&mut r, &["SETBIT", "b", "-1", "1"], off);
    rt(&mut r, &["SETBIT", "b", "x", "y"], off);
    rt(&mut r, &["SETBIT", "b", "4294967296", "1"], off);
    rt(&mut r, &["SETBIT", "b", "1", "2"], bit);
    rt(&mut r, &["SETBIT", "b", "1", "-1"], bit);
    rt(&mut r, &["SETBIT", "b", "1", "x"], bit);
    rt(&mut r, &["SETBIT", "b", "1", "01"], bit);
    rt(&mut r, &["GETBIT", "b", "4294967296"], off);
    rt(&mut r, &["GETBIT", "b", "-1"], off);
    rt(&mut r, &["GETBIT", "nokey", "x"], off);
    rt(&mut r, &["GETBIT", "nokey", "4294967295"], ":0\r\n");
    rt(&mut r, &["GETBIT", "b", "0"], ":1\r\n");
    rt(&mut r, &["GETBIT", "b", "1"], ":0\r\n");
    rt(&mut r, &["GETBIT", "b", "17"], ":1\r\n");
    rt(&mut r, &["GETBIT", "b", "1000"], ":0\r\n");
    // On a number: its digits are the bits; SETBIT leaves it raw even when nothing changes.
    rt(&mut r, &["SET", "i", "123"], OK);
    rt(&mut r, &["GETBIT", "i", "2"], ":1\r\n");
    rt(&mut r, &["GETBIT", "i", "0"], ":0\r\n");
    rt(&mut r, &["SETBIT", "i", "0", "0"], ":0\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "i"], "$3\r\nraw\r\n");
    // The TTL stays when SETBIT grows the string.
    rt(&mut r, &["SET", "t", "1", "EX", "100"], OK);
    rt(&mut r, &["SETBIT", "t", "100", "1"], ":0\r\n");
    rt(&mut r, &["TTL", "t"], ":100\r\n");
    rt(&mut r, &["STRLEN", "t"], ":13\r\n");
}

#[test]
fn bitcount_and_bitpos() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    rt(&mut r, &["SET", "s", "foobar"], OK);
    for (args, want) in [
        (&[][..], 26),
        (&["0", "0"], 4),
        (&["1", "1"], 6),
        (&["1", "1", "BIT"], 1),
        (&["1", "1", "byte"], 6),
        (&["5", "30", "bit"], 17),
        (&["-2", "-1"], 7),
        (&["-1", "-2"], 0),
        (&["-100", "100", "BIT"], 26),
        (&["-100", "-50"], 4),
        (&["-100", "-50", "BIT"], 0),
        (&["2", "1000000000000000000", "BIT"], 25),
        (&["9223372036854775807", "9223372036854775807", "BIT"], 0),
        (&["-9223372036854775808", "-1", "BIT"], 26),
    ] {
        let mut a = vec!["BITCOUNT", "s"];
        a.extend_from_slice(args);
        rt(&mut r, &a, &format!(":{want}\r\n"));
    }
    rt(&mut r, &["BITCOUNT", "s", "0"], SYNTAX);
    rt(&mut r, &["BITCOUNT", "s", "0", "1", "FOO"], SYNTAX);
    rt(&mut r, &["BITCOUNT", "s", "0", "1", "BIT", "X"], SYNTAX);
    rt(&mut r, &["BITCOUNT", "s", "a", "b"], NOT_INT);
    // An empty negative range answers 0 before the unit is read.
    rt(&mut r, &["BITCOUNT", "s", "-1", "-2", "FOO"], ":0\r\n");
    // Redis 7.0 answers 0 for a missing key before looking at the arguments.
    rt(&mut r, &["BITCOUNT", "nokey", "a", "b"], ":0\r\n");
    rt(&mut r, &["BITCOUNT", "nokey", "0"], ":0\r\n");

    rtb(&mut r, &[b"SET", b"p", b"\xff\xf0\x00"], OK.as_bytes());
    rtb(&mut r, &[b"SET", b"q", b"\x00\xff\xf0"], OK.as_bytes());
    rtb(&mut r, &[b"SET", b"ones", b"\xff\xff"], OK.as_bytes());
    rt(&mut r, &["SET", "e", ""], OK);
    for (args, want) in [
        (&["p", "0"][..], 12),
        (&["p", "1"], 0),
        (&["p", "0", "1"], 12),
        (&["p", "0", "2", "-1"], 16),
        (&["p", "1", "2"], -1),
        (&["q", "1", "0", "-1", "BIT"], 8),
        (&["q", "1", "2", "5", "bit"], -1),
        (&["q", "0", "8", "15", "bit"], -1),
        (&["q", "0", "0", "-1", "bit"], 0),
        (&["q", "1", "9", "9", "bit"], 9),
        (&["ones", "0"], 16),
        (&["ones", "0", "0"], 16),
        (&["ones", "0", "0", "-1"], -1),
        (&["ones", "0", "3", "9", "bit"], -1),
        (&["ones", "1", "1", "-1"], 8),
        (&["ones", "1", "5", "3"], -1),
        (&["p", "0", "-100", "-50"], -1),
        (&["p", "1", "-100", "-50"], 0),
        (&["p", "0", "-100", "-1", "bit"], 12),
        (&["p", "1", "-5", "-3", "bit"], -1),
        (&["nokey", "0"], 0),
        (&["nokey", "1"], -1),
        (&["nokey", "1", "abc"], -1),
        (&["e", "0"], -1),
        (&["e", "1"], -1),
        (&["e", "0", "0"], -1),
    ] {
        let mut a = vec!["BITPOS"];
        a.extend_from_slice(args);
        rt(&mut r, &a, &format!(":{want}\r\n"));
    }
    let bit01 = "-ERR The bit argument must be 1 or 0.\r\n";
    rt(&mut r, &["BITPOS", "nokey", "2"], bit01);
    rt(&mut r, &["BITPOS", "p", "-1"], bit01);
    rt(&mut r, &["BITPOS", "nokey", "x"], NOT_INT);
    rt(&mut r, &["BITPOS", "p", "1", "abc"], NOT_INT);
    rt(&mut r, &["BITPOS", "p", "1", "0", "abc"], NOT_INT);
    rt(&mut r, &["BITPOS", "ones", "0", "-1", "bit"], NOT_INT);
    rt(&mut r, &["BITPOS", "p", "1", "0", "1", "FOO"], SYNTAX);
    rt(&mut r, &["BITPOS", "p", "1", "0", "abc", "FOO"], SYNTAX);
    rt(&mut r, &["BITPOS", "p", "1", "0", "1", "BIT", "X"], SYNTAX);
    rt(
        &mut r,
        &["BITPOS", "p"],
        "-ERR wrong number of arguments for 'bitpos' command\r\n",
    );
}

/// BITCOUNT / BITPOS over random strings and ranges against a bit-by-bit model of Redis's
/// index rules, to cover the partial first and last bytes and the word-at-a-time paths.
#[test]
fn bitcount_bitpos_match_a_bit_model() {
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    let mut x: u64 = 0x1234_5678_9abc_def1;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    fn clamp(s: i64, e: i64, total: i64) -> Option<(i64, i64)> {
        let (mut s, mut e) = (
            if s < 0 { s + total } else { s },
            if e < 0 { e + total } else { e },
        );
        s = s.max(0);
        e = e.max(0);
        if e >= total {
            e = total - 1;
        }
        (s <= e).then_some((s, e))
    }
    for round in 0..300 {
        let len = rnd(40) as usize;
        // Mostly-empty or mostly-full bytes, so the searches have to skip.
        let fill = [0x00u8, 0xff, 0x5a][rnd(3) as usize];
        let v: Vec<u8> = (0..len)
            .map(|_| if rnd(8) == 0 { rnd(256) as u8 } else { fill })
            .collect();
        let _: () = redis::cmd("SET").arg("k").arg(&v).query(&mut c).unwrap();
        let bitat = |i: i64| v[(i >> 3) as usize] & (0x80 >> (i & 7)) != 0;
        let isbit = rnd(2) == 1;
        let total = if isbit { len as i64 * 8 } else { len as i64 };
        let span = total.max(1) * 2;
        let (s_, e_) = (
            rnd(span as u64) as i64 - total.max(1),
            rnd(span as u64) as i64 - total.max(1),
        );
        let unit = if isbit { "BIT" } else { "BYTE" };
        let bits =
            clamp(s_, e_, total).map(|(a, b)| if isbit { (a, b) } else { (a * 8, b * 8 + 7) });

        let want = if s_ < 0 && e_ < 0 && s_ > e_ {
            0
        } else {
            bits.map_or(0, |(a, b)| (a..=b).filter(|&i| bitat(i)).count() as i64)
        };
        let got: i64 = redis::cmd("BITCOUNT")
            .arg("k")
            .arg(s_)
            .arg(e_)
            .arg(unit)
            .query(&mut c)
            .unwrap();
        assert_eq!(got, want, "round {round}: BITCOUNT {v:?} {s_} {e_} {unit}");

        let target = rnd(2) == 1;
        let want = bits.map_or(-1, |(a, b)| {
            (a..=b).find(|&i| bitat(i) == target).unwrap_or(-1)
        });
        let got: i64 = redis::cmd("BITPOS")
            .arg("k")
            .arg(target as i64)
            .arg(s_)
            .arg(e_)
            .arg(unit)
            .query(&mut c)
            .unwrap();
        assert_eq!(
            got, want,
            "round {round}: BITPOS {v:?} {target} {s_} {e_} {unit}"
        );

        // Without an end, a clear bit past the string counts (the string is zero-padded).
        if !isbit {
            let want = match clamp(s_, len as i64 - 1, len as i64) {
                None => -1,
                Some((a, b)) => match (a * 8..=b * 8 + 7).find(|&i| bitat(i) == target) {
                    Some(p) => p,
                    None if !target => (b + 1) * 8,
                    None => -1,
                },
            };
            let got: i64 = redis::cmd("BITPOS")
                .arg("k")
                .arg(target as i64)
                .arg(s_)
                .query(&mut c)
                .unwrap();
            assert_eq!(got, want, "round {round}: BITPOS {v:?} {target} {s_}");
        }
    }
}

#[test]
fn bitop() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    let arity = "-ERR wrong number of arguments for 'bitop' command\r\n";
    rt(&mut r, &["BITOP", "AND"], arity);
    rt(&mut r, &["BITOP", "AND", "d"], arity);
    rt(&mut r, &["BITOP", "NOT", "d"], arity);
    rt(&mut r, &["BITOP", "FOO", "d", "a"], SYNTAX);
    rt(
        &mut r,
        &["BITOP", "NOT", "d", "a", "b"],
        "-ERR BITOP NOT must be called with a single source key.\r\n",
    );
    rt(&mut r, &["MSET", "a", "abc", "b", "ab"], OK);
    rt(&mut r, &["BITOP", "AND", "d", "a", "b"], ":3\r\n");
    rtb(&mut r, &[b"GET", b"d"], b"$3\r\nab\x00\r\n");
    rt(&mut r, &["OBJECT", "ENCODING", "d"], "$3\r\nraw\r\n");
    rt(&mut r, &["BITOP", "or", "d", "b", "a", "nokey"], ":3\r\n");
    rt(&mut r, &["GET", "d"], "$3\r\nabc\r\n");
    rt(&mut r, &["BITOP", "XOR", "d", "a", "b"], ":3\r\n");
    rtb(&mut r, &[b"GET", b"d"], b"$3\r\n\x00\x00c\r\n");
    rt(&mut r, &["BITOP", "XOR", "d", "a", "a", "a"], ":3\r\n");
    rt(&mut r, &["GET", "d"], "$3\r\nabc\r\n");
    rt(&mut r, &["BITOP", "NOT", "d", "a"], ":3\r\n");
    rtb(&mut r, &[b"GET", b"d"], b"$3\r\n\x9e\x9d\x9c\r\n");
    rt(&mut r, &["BITOP", "AnD", "d", "a", "nokey"], ":3\r\n");
    rtb(&mut r, &[b"GET", b"d"], b"$3\r\n\x00\x00\x00\r\n");
    // The destination loses its TTL; an empty result deletes it.
    rt(&mut r, &["SET", "d", "x", "EX", "100"], OK);
    rt(&mut r, &["BITOP", "OR", "d", "a"], ":3\r\n");
    rt(&mut r, &["TTL", "d"], ":-1\r\n");
    rt(&mut r, &["BITOP", "AND", "d", "nokey", "nokey2"], ":0\r\n");
    rt(&mut r, &["EXISTS", "d"], ":0\r\n");
    rt(&mut r, &["BITOP", "NOT", "d", "nokey"], ":0\r\n");
    // A source may be the destination.
    rt(&mut r, &["BITOP", "AND", "a", "a", "b"], ":3\r\n");
    rtb(&mut r, &[b"GET", b"a"], b"$3\r\nab\x00\r\n");
}

#[test]
fn arity_errors() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    for (args, name) in [
        (&["GETEX"][..], "getex"),
        (&["GETDEL", "a", "b"], "getdel"),
        (&["SETNX", "a"], "setnx"),
        (&["PSETEX", "a", "1"], "psetex"),
        (&["APPEND", "a"], "append"),
        (&["STRLEN"], "strlen"),
        (&["GETRANGE", "a", "0"], "getrange"),
        (&["SUBSTR", "a", "0", "1", "2"], "substr"),
        (&["SETRANGE", "a", "0"], "setrange"),
        (&["DECRBY", "a"], "decrby"),
        (&["INCRBYFLOAT", "a"], "incrbyfloat"),
        (&["GETSET", "a"], "getset"),
        (&["SETBIT", "a", "0"], "setbit"),
        (&["GETBIT", "a"], "getbit"),
        (&["BITCOUNT"], "bitcount"),
    ] {
        rt(
            &mut r,
            args,
            &format!("-ERR wrong number of arguments for '{name}' command\r\n"),
        );
    }
}

const BF_TYPE: &str = "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n";
const BF_OFFSET: &str = "-ERR bit offset is not an integer or out of range\r\n";

/// Builds the expected RESP array of BITFIELD results (None = a FAIL-ed op's nil).
fn bf_reply(items: &[Option<i64>]) -> String {
    let mut s = format!("*{}\r\n", items.len());
    for i in items {
        match i {
            Some(v) => s.push_str(&format!(":{v}\r\n")),
            None => s.push_str(NIL),
        }
    }
    s
}

/// `rdb_changes_since_last_save` from INFO: Redis's dirty counter.
fn dirty(r: &mut Raw) -> i64 {
    r.send(&resp(&[b"INFO", b"persistence"]));
    let info = String::from_utf8_lossy(&read_reply(r)).into_owned();
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save in INFO")
}

#[test]
fn bitfield_replies_and_errors() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut r = s.raw();
        // The differential script's sequence, with the replies Redis 7.0 gives.
        rt(
            &mut r,
            &["BITFIELD", "bf", "SET", "u8", "0", "255"],
            &bf_reply(&[Some(0)]),
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "u8", "0"],
            &bf_reply(&[Some(255)]),
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "INCRBY", "u8", "0", "10"],
            &bf_reply(&[Some(9)]),
        );
        rt(
            &mut r,
            &[
                "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300",
            ],
            &bf_reply(&[Some(255)]),
        );
        rt(
            &mut r,
            &[
                "BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1",
            ],
            &bf_reply(&[None]),
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "i4", "0", "GET", "u8", "#1"],
            &bf_reply(&[Some(-1), Some(0)]),
        );
        rt(
            &mut r,
            &["BITFIELD_RO", "bf", "GET", "u8", "0"],
            &bf_reply(&[Some(255)]),
        );
        rt(&mut r, &["BITFIELD", "bf"], "*0\r\n");
        rt(&mut r, &["BITFIELD", "bf", "overflow", "wrap"], "*0\r\n");
        rt(
            &mut r,
            &["BITFIELD", "bf", "overflow", "sat", "get", "u8", "0"],
            &bf_reply(&[Some(255)]),
        );

        // Types: lower-case i1..i64 and u1..u63 only.
        for t in [
            "u64", "U8", "I8", "i0", "i65", "i", "u", "i08", "i+8", "i-8", "8", "", "x8",
        ] {
            rt(&mut r, &["BITFIELD", "bf", "GET", t, "0"], BF_TYPE);
        }
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "u63", "0"],
            &bf_reply(&[Some(9187343239835811840)]),
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "i64", "0"],
            &bf_reply(&[Some(-72057594037927936)]),
        );
        // Offsets: bits, or #N fields of the type's width; at most proto-max-bulk-len bytes.
        for off in [
            "-1",
            "#-1",
            "#",
            "##1",
            "4294967296",
            "#536870912",
            "01",
            "1.0",
            " 1",
            "x",
        ] {
            rt(&mut r, &["BITFIELD", "bf", "GET", "u8", off], BF_OFFSET);
        }
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "i64", "#67108864"],
            BF_OFFSET,
        );
        rt(
            &mut r,
            &[
                "BITFIELD",
                "bf",
                "GET",
                "u8",
                "4294967295",
                "GET",
                "u8",
                "#536870911",
                "GET",
                "i64",
                "#67108863",
            ],
            &bf_reply(&[Some(0), Some(0), Some(0)]),
        );
        // #N * width wraps as Redis's C multiplication does: 2^61 * 8 is offset 0.
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "u8", "#2305843009213693952"],
            &bf_reply(&[Some(255)]),
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "u8", "#2305843009213693953"],
            &bf_reply(&[Some(0)]),
        );
        // Syntax: incomplete or unknown subcommands.
        for args in [
            &["GET"][..],
            &["GET", "u8"],
            &["SET", "u8", "0"],
            &["INCRBY", "u8", "0"],
            &["OVERFLOW"],
            &["GET", "u8", "0", "BAD"],
            &["GET", "u8", "0", "GET"],
            &["FOO", "u8", "0"],
        ] {
            let mut a = vec!["BITFIELD", "bf"];
            a.extend_from_slice(args);
            rt(&mut r, &a, SYNTAX);
        }
        rt(
            &mut r,
            &["BITFIELD", "bf", "OVERFLOW", "foo"],
            "-ERR Invalid OVERFLOW type specified\r\n",
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "SET", "i8", "0", "1", "OVERFLOW", "bad"],
            "-ERR Invalid OVERFLOW type specified\r\n",
        );
        for v in ["1.5", "9223372036854775808", "x", ""] {
            rt(&mut r, &["BITFIELD", "bf", "SET", "u8", "0", v], NOT_INT);
            rt(&mut r, &["BITFIELD", "bf", "INCRBY", "u8", "0", v], NOT_INT);
        }
        // The first bad argument wins, left to right; nothing runs when one is bad.
        rt(
            &mut r,
            &["BITFIELD", "bf", "SET", "i8", "0", "foo", "GET", "u8", "x"],
            NOT_INT,
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "GET", "u8", "x", "SET", "i8", "0", "foo"],
            BF_OFFSET,
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "SET", "u8", "0", "1", "GET", "u64", "0"],
            BF_TYPE,
        );
        rtb(&mut r, &[b"GET", b"bf"], b"$1\r\n\xff\r\n");
        // C string compares: a subcommand or type cut at a NUL byte still matches.
        rtb(
            &mut r,
            &[b"BITFIELD", b"bf", b"GET\0x", b"u8\0y", b"0"],
            b"*1\r\n:255\r\n",
        );
        rtb(
            &mut r,
            &[b"BITFIELD", b"bf", b"OVERFLOW", b"SAT\0x"],
            b"*0\r\n",
        );
        rtb(
            &mut r,
            &[b"BITFIELD", b"bf", b"GET", b"\0", b"0"],
            BF_TYPE.as_bytes(),
        );

        // BITFIELD_RO: GET only, but every argument is checked first.
        let ro = "-ERR BITFIELD_RO only supports the GET subcommand\r\n";
        rt(&mut r, &["BITFIELD_RO", "bf", "SET", "u8", "0", "1"], ro);
        rt(
            &mut r,
            &[
                "BITFIELD_RO",
                "bf",
                "GET",
                "u8",
                "0",
                "INCRBY",
                "u8",
                "0",
                "1",
            ],
            ro,
        );
        rt(
            &mut r,
            &["BITFIELD_RO", "bf", "SET", "u8", "0", "x"],
            NOT_INT,
        );
        rt(
            &mut r,
            &["BITFIELD_RO", "bf", "SET", "u8", "x", "1"],
            BF_OFFSET,
        );
        rt(&mut r, &["BITFIELD_RO", "bf", "FOO"], SYNTAX);
        rt(
            &mut r,
            &["BITFIELD_RO", "bf", "OVERFLOW", "FAIL", "GET", "u8", "0"],
            &bf_reply(&[Some(255)]),
        );
        rt(
            &mut r,
            &["BITFIELD_RO", "nokey", "GET", "u8", "0"],
            &bf_reply(&[Some(0)]),
        );
        rt(
            &mut r,
            &["BITFIELD", "bf", "SET", "u8", "0", "1"],
            &bf_reply(&[Some(255)]),
        );
        rt(
            &mut r,
            &["BITFIELD_RO", "bf", "GET", "u8", "0"],
            &bf_reply(&[Some(1)]),
        );
        for (args, name) in [
            (&["BITFIELD"][..], "bitfield"),
            (&["BITFIELD_RO"], "bitfield_ro"),
        ] {
            rt(
                &mut r,
                args,
                &format!("-ERR wrong number of arguments for '{name}' command\r\n"),
            );
        }

        // GETs on a missing key read zeros and never create it.
        rt(
            &mut r,
            &[
                "BITFIELD", "nokey", "GET", "u8", "0", "GET", "i64", "100000",
            ],
            &bf_reply(&[Some(0), Some(0)]),
        );
        rt(&mut r, &["BITFIELD", "nokey"], "*0\r\n");
        rt(&mut r, &["EXISTS", "nokey"], ":0\r\n");
        // A write creates a zero-padded raw string, even when FAIL refuses every op.
        rt(
            &mut r,
            &[
                "BITFIELD", "new", "OVERFLOW", "FAIL", "SET", "u8", "80", "256",
            ],
            &bf_reply(&[None]),
        );
        rtb(&mut r, &[b"GET", b"new"], &bulk(&[0u8; 11]));
        rt(&mut r, &["OBJECT", "ENCODING", "new"], "$3\r\nraw\r\n");
        // GETs read the string's bytes, zero padded past its end, across byte boundaries.
        rt(&mut r, &["SET", "z", "hello"], OK);
        rt(
            &mut r,
            &[
                "BITFIELD", "z", "GET", "i8", "0", "GET", "u8", "8", "GET", "i16", "4", "GET",
                "u32", "37", "GET", "i64", "30", "GET", "u63", "1", "GET", "i64", "1000",
            ],
            &bf_reply(&[
                Some(104),
                Some(101),
                Some(-31146),
                Some(3758096384),
                Some(1999598234552500224),
                Some(7522537965566820352),
                Some(0),
            ]),
        );
        // An int-encoded string reads as its digits; a write makes it raw even when nothing
        // is stored, and keeps its TTL while growing it.
        rt(&mut r, &["SET", "n", "100", "EX", "1000"], OK);
        rt(
            &mut r,
            &["BITFIELD", "n", "GET", "u8", "0"],
            &bf_reply(&[Some(49)]),
        );
        rt(&mut r, &["OBJECT", "ENCODING", "n"], "$3\r\nint\r\n");
        rt(
            &mut r,
            &["BITFIELD", "n", "OVERFLOW", "FAIL", "SET", "u8", "0", "256"],
            &bf_reply(&[None]),
        );
        rt(&mut r, &["OBJECT", "ENCODING", "n"], "$3\r\nraw\r\n");
        rt(&mut r, &["GET", "n"], "$3\r\n100\r\n");
        rt(
            &mut r,
            &["BITFIELD", "n", "SET", "u8", "100", "1"],
            &bf_reply(&[Some(0)]),
        );
        rt(&mut r, &["TTL", "n"], ":1000\r\n");
        rtb(
            &mut r,
            &[b"GET", b"n"],
            b"$14\r\n100\0\0\0\0\0\0\0\0\0\0\x10\r\n",
        );
        // Growth covers the farthest bit written, even a field straddling the last byte.
        rt(
            &mut r,
            &["BITFIELD", "g", "SET", "i64", "4", "-1", "GET", "u8", "#8"],
            &bf_reply(&[Some(0), Some(240)]),
        );
        rtb(
            &mut r,
            &[b"GET", b"g"],
            b"$9\r\n\x0f\xff\xff\xff\xff\xff\xff\xff\xf0\r\n",
        );

        // Overflow at the extremes of i64 and u63.
        rt(
            &mut r,
            &[
                "BITFIELD",
                "x",
                "SET",
                "i64",
                "0",
                "-9223372036854775808",
                "INCRBY",
                "i64",
                "0",
                "-1",
                "OVERFLOW",
                "SAT",
                "INCRBY",
                "i64",
                "0",
                "-1",
                "OVERFLOW",
                "FAIL",
                "INCRBY",
                "i64",
                "0",
                "-1",
                "OVERFLOW",
                "WRAP",
                "INCRBY",
                "i64",
                "0",
                "9223372036854775807",
            ],
            &bf_reply(&[
                Some(0),
                Some(9223372036854775807),
                Some(9223372036854775806),
                Some(9223372036854775805),
                Some(-4),
            ]),
        );
        rt(
            &mut r,
            &[
                "BITFIELD",
                "x",
                "SET",
                "i64",
                "0",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "0",
                "1",
                "OVERFLOW",
                "SAT",
                "SET",
                "i64",
                "0",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "0",
                "1",
                "INCRBY",
                "i64",
                "0",
                "-9223372036854775808",
            ],
            &bf_reply(&[
                Some(-4),
                Some(-9223372036854775808),
                Some(-9223372036854775808),
                Some(9223372036854775807),
                Some(-1),
            ]),
        );
        // An unsigned SET takes a negative value as its 64-bit two's complement.
        rt(
            &mut r,
            &[
                "BITFIELD", "x", "SET", "u63", "0", "-1", "OVERFLOW", "SAT", "SET", "u63", "0",
                "-1", "OVERFLOW", "FAIL", "SET", "u63", "0", "-1", "GET", "u63", "0",
            ],
            &bf_reply(&[
                Some(9223372036854775807),
                Some(9223372036854775807),
                None,
                Some(9223372036854775807),
            ]),
        );
        rt(
            &mut r,
            &[
                "BITFIELD", "x", "OVERFLOW", "SAT", "SET", "u1", "3", "5", "SET", "i1", "3", "-5",
                "SET", "i1", "3", "5", "GET", "i1", "3", "GET", "u1", "3",
            ],
            &bf_reply(&[Some(1), Some(-1), Some(-1), Some(0), Some(0)]),
        );
        rt(
            &mut r,
            &[
                "BITFIELD",
                "x",
                "SET",
                "u63",
                "0",
                "9223372036854775807",
                "INCRBY",
                "u63",
                "0",
                "9223372036854775807",
                "OVERFLOW",
                "SAT",
                "INCRBY",
                "u63",
                "0",
                "9223372036854775807",
                "INCRBY",
                "u63",
                "0",
                "-9223372036854775808",
            ],
            &bf_reply(&[
                Some(8646911284551352319),
                Some(9223372036854775806),
                Some(9223372036854775807),
                Some(0),
            ]),
        );
        rtb(&mut r, &[b"GET", b"x"], b"$8\r\n\0\0\0\0\0\0\0\x01\r\n");

        // RESP3: a FAIL-ed op is a null.
        r.send(&resp(&[b"HELLO", b"3"]));
        read_reply(&mut r);
        rt(
            &mut r,
            &[
                "BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u2", "0", "4", "GET", "u2", "0",
            ],
            "*2\r\n_\r\n:0\r\n",
        );
    }
}

#[test]
fn bitfield_dirty_counts_like_redis() {
    let s = Server::start(1, &[]);
    let mut r = s.raw();
    // Each SET/INCRBY that changes the value (or grows the string) counts; FAIL-ed ones and
    // GETs don't, and creating the key alone doesn't either.
    rt(&mut r, &["SET", "m", "x"], OK);
    for (args, want) in [
        (&["BITFIELD", "m", "GET", "u8", "0"][..], 0),
        (
            &[
                "BITFIELD", "m", "SET", "u8", "0", "1", "SET", "u8", "0", "1", "OVERFLOW", "FAIL",
                "SET", "u8", "0", "1000",
            ],
            1,
        ),
        (
            &[
                "BITFIELD", "m3", "OVERFLOW", "FAIL", "SET", "u8", "0", "1000",
            ],
            0,
        ),
        (
            &[
                "BITFIELD", "m4", "SET", "u8", "0", "1", "INCRBY", "u8", "0", "0", "INCRBY", "u8",
                "0", "1",
            ],
            3,
        ),
        (
            &[
                "BITFIELD", "m", "SET", "u8", "100", "0", "INCRBY", "u8", "0", "0",
            ],
            2,
        ),
        (
            &[
                "BITFIELD", "m", "SET", "u8", "100", "0", "INCRBY", "u8", "0", "0",
            ],
            0,
        ),
        (&["BITFIELD", "m", "GET", "u8", "x"], 0),
    ] {
        let before = dirty(&mut r);
        r.send(&resp(
            &args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>(),
        ));
        read_reply(&mut r);
        assert_eq!(dirty(&mut r) - before, want, "{args:?}");
    }
    rt(&mut r, &["EXISTS", "m3"], ":1\r\n");
}

/// An independent model of one BITFIELD type: exact arithmetic in i128.
#[derive(Clone, Copy, Debug)]
struct BfType {
    signed: bool,
    bits: u32,
}

impl BfType {
    fn range(self) -> (i128, i128) {
        if self.signed {
            (-(1i128 << (self.bits - 1)), (1i128 << (self.bits - 1)) - 1)
        } else {
            (0, (1i128 << self.bits) - 1)
        }
    }
    fn get(self, v: &[u8], off: u64) -> i128 {
        let mut x: i128 = 0;
        for i in 0..self.bits as u64 {
            let b = off + i;
            let bit = v
                .get((b / 8) as usize)
                .is_some_and(|byte| byte & (0x80 >> (b % 8)) != 0);
            x = (x << 1) | bit as i128;
        }
        if self.signed && x >> (self.bits - 1) == 1 {
            x -= 1i128 << self.bits;
        }
        x
    }
    fn set(self, v: &mut [u8], off: u64, x: i128) {
        for i in 0..self.bits as u64 {
            let b = off + i;
            let on = (x >> (self.bits as u64 - 1 - i)) & 1 == 1;
            let byte = &mut v[(b / 8) as usize];
            if on {
                *byte |= 0x80 >> (b % 8);
            } else {
                *byte &= !(0x80 >> (b % 8));
            }
        }
    }
    /// The value stored for `x` under `ow` (0 wrap, 1 sat, 2 fail), None when FAIL refuses.
    fn fit(self, x: i128, ow: u8) -> Option<i128> {
        let (min, max) = self.range();
        if (min..=max).contains(&x) {
            return Some(x);
        }
        match ow {
            0 => {
                let m = x.rem_euclid(1i128 << self.bits);
                Some(if m > max { m - (1i128 << self.bits) } else { m })
            }
            1 => Some(x.clamp(min, max)),
            _ => None,
        }
    }
}

#[test]
fn bitfield_matches_a_model() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ shards as u64;
        let mut rnd = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let keys = ["bfa", "bfb", "bfc", "bfd", "bfe", "bff"];
        let mut model: Vec<Option<Vec<u8>>> = vec![None; keys.len()];
        for round in 0..400 {
            let k = rnd(keys.len() as u64) as usize;
            let mut cmd = redis::cmd("BITFIELD");
            cmd.arg(keys[k]);
            let mut desc = format!("BITFIELD {}", keys[k]);
            let mut ops = Vec::new();
            let mut ow = 0u8;
            for _ in 0..rnd(6) {
                if rnd(6) == 0 {
                    ow = rnd(3) as u8;
                    let name = ["WRAP", "SAT", "FAIL"][ow as usize];
                    cmd.arg("OVERFLOW").arg(name);
                    desc += &format!(" OVERFLOW {name}");
                    continue;
                }
                let signed = rnd(2) == 0;
                let t = BfType {
                    signed,
                    bits: 1 + rnd(if signed { 64 } else { 63 }) as u32,
                };
                let (off_arg, off) = if rnd(3) == 0 {
                    let n = rnd(20);
                    (format!("#{n}"), n * t.bits as u64)
                } else {
                    let n = rnd(150);
                    (n.to_string(), n)
                };
                let kind = rnd(3);
                // Values near the type's limits, anywhere in i64, or small.
                let val: i64 = match rnd(4) {
                    0 => {
                        let (min, max) = t.range();
                        (if rnd(2) == 0 { max } else { min } + rnd(5) as i128 - 2) as i64
                    }
                    1 => rnd(u64::MAX) as i64,
                    _ => rnd(1000) as i64 - 500,
                };
                let tname = format!("{}{}", if signed { "i" } else { "u" }, t.bits);
                let name = ["GET", "SET", "INCRBY"][kind as usize];
                cmd.arg(name).arg(&tname).arg(&off_arg);
                desc += &format!(" {name} {tname} {off_arg}");
                if kind > 0 {
                    cmd.arg(val);
                    desc += &format!(" {val}");
                }
                ops.push((kind, t, off, val, ow));
            }
            // The model: writes grow (or create) the string to their farthest bit first.
            let writes: Vec<_> = ops.iter().filter(|o| o.0 > 0).collect();
            if let Some(last) = writes.iter().map(|o| o.2 + o.1.bits as u64 - 1).max() {
                let v = model[k].get_or_insert_with(Vec::new);
                if v.len() < (last / 8 + 1) as usize {
                    v.resize((last / 8 + 1) as usize, 0);
                }
            }
            let mut want: Vec<Option<i64>> = Vec::new();
            for &(kind, t, off, val, ow) in &ops {
                let v = model[k].as_deref().unwrap_or(&[]);
                let old = t.get(v, off);
                let target = match kind {
                    0 => {
                        want.push(Some(old as i64));
                        continue;
                    }
                    // An unsigned SET value is taken as its 64-bit two's complement.
                    1 if !t.signed => val as u64 as i128,
                    1 => val as i128,
                    _ => old + val as i128,
                };
                match t.fit(target, ow) {
                    Some(new) => {
                        want.push(Some(if kind == 1 { old } else { new } as i64));
                        if let Some(v) = model[k].as_mut() {
                            t.set(v, off, new);
                        }
                    }
                    None => want.push(None),
                }
            }
            let got: Vec<Option<i64>> = cmd.query(&mut c).expect("BITFIELD");
            assert_eq!(got, want, "shards {shards} round {round}: {desc}");
            if rnd(4) == 0 {
                let got: Option<Vec<u8>> = redis::cmd("GET").arg(keys[k]).query(&mut c).unwrap();
                assert_eq!(
                    got, model[k],
                    "shards {shards} round {round}: GET after {desc}"
                );
            }
        }
        for (k, key) in keys.iter().enumerate() {
            let got: Option<Vec<u8>> = redis::cmd("GET").arg(key).query(&mut c).unwrap();
            assert_eq!(got, model[k], "shards {shards}: final {key}");
        }
    }
}
