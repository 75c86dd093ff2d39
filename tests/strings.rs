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
