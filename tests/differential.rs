//! Differential test: the same command scripts run against shoal (--shards 1 and 3) and a real
//! redis-server started here; the raw reply bytes must be identical. Replies whose order Redis does
//! not specify (KEYS) are parsed and their elements sorted before comparing.
//!
//! Script line syntax: words separated by spaces; `"..."` quotes a word (escapes `\"` `\\` `\n`
//! `\r` `\t` `\xHH`), `""` is the empty word. A line may start with a marker:
//! `~ ` sort the elements of the reply array, `~1 ` sort the array at element 1,
//! `scan ` iterate a SCAN to cursor 0 and compare the sorted, deduplicated keys (cursors and
//! batch sizes are the server's choice), `info:f1,f2 ` compare only those fields of an INFO
//! reply (for `cmdstat_*` lines only calls, rejected_calls and failed_calls), `! ` send but do
//! not compare (replies that differ by
//! nature, like HELLO's client id).

mod common;
use common::{resp, RedisServer, Server};

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Exact,
    Sorted,
    SortedAt(usize),
    ScanAll,
    Info(&'static str),
    Ignore,
}

struct Line {
    text: &'static str,
    mode: Mode,
    args: Vec<Vec<u8>>,
}

struct Script {
    name: &'static str,
    lines: Vec<Line>,
}

fn parse_words(s: &str) -> Vec<Vec<u8>> {
    let b = s.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let mut w = Vec::new();
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                    match b[i] {
                        b'n' => w.push(b'\n'),
                        b'r' => w.push(b'\r'),
                        b't' => w.push(b'\t'),
                        b'x' => {
                            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("hex escape");
                            w.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                            i += 2;
                        }
                        c => w.push(c),
                    }
                } else {
                    w.push(b[i]);
                }
                i += 1;
            }
            assert!(i < b.len(), "unterminated quote in script line {s:?}");
            i += 1;
        } else {
            while i < b.len() && b[i] != b' ' {
                w.push(b[i]);
                i += 1;
            }
        }
        words.push(w);
    }
    words
}

fn script(name: &'static str, lines: &[&'static str]) -> Script {
    let lines = lines
        .iter()
        .map(|&text| {
            let (mode, rest) = if let Some(r) = text.strip_prefix("~ ") {
                (Mode::Sorted, r)
            } else if let Some(r) = text.strip_prefix("~1 ") {
                (Mode::SortedAt(1), r)
            } else if let Some(r) = text.strip_prefix("scan ") {
                (Mode::ScanAll, r)
            } else if let Some(r) = text.strip_prefix("info:") {
                let (fields, r) = r.split_once(' ').expect("info:fields COMMAND");
                (Mode::Info(fields), r)
            } else if let Some(r) = text.strip_prefix("! ") {
                (Mode::Ignore, r)
            } else {
                (Mode::Exact, text)
            };
            Line {
                text,
                mode,
                args: parse_words(rest),
            }
        })
        .collect();
    Script { name, lines }
}

fn scripts() -> Vec<Script> {
    vec![
        script(
            "strings",
            &[
                "SET s1 hello",
                "GET s1",
                "GET nosuch",
                "SET s1 world XX GET",
                "GET s1",
                "SET s1 v NX",
                "SET s2 v NX",
                "SET s2 x XX NX",
                "SET s2 x EX 0",
                "SET s2 x EX -5",
                "SET s2 x PX 0",
                "SET s2 x EX abc",
                "SET s2 x EX 10 PX 10",
                "SET s2 x KEEPTTL EX 10",
                "SET s2 x EX",
                "SET s2 x FOO",
                "SET s2 x ex 100",
                "TTL s2",
                "SET s2 y KEEPTTL",
                "TTL s2",
                "GET s2",
                "SET s2 z",
                "TTL s2",
                "SET s2 z EXAT 99999999999",
                "EXPIRETIME s2",
                "PEXPIRETIME s2",
                "SET s2 z PXAT 99999999999123",
                "PEXPIRETIME s2",
                "EXPIRETIME s2",
                "SET s2 z EX 9223372036854775807",
                "SET s2 z PX 9223372036854775807",
                "SET s3 v GET",
                "SETNX s3 a",
                "SETNX s4 a",
                "GETSET s3 b",
                "GETSET s5 b",
                "GETDEL s3",
                "GETDEL s3",
                "APPEND s6 abc",
                "APPEND s6 def",
                "GET s6",
                "STRLEN s6",
                "STRLEN nosuch",
                "SETEX se 100 v",
                "TTL se",
                "SETEX se 0 v",
                "SETEX se abc v",
                "SETEX se -10 v",
                "PSETEX pse 100000 v",
                "TTL pse",
                "PSETEX pse -1 v",
                "GETEX s1 EX 100",
                "TTL s1",
                "GETEX s1 PERSIST",
                "TTL s1",
                "GETEX s1",
                "GETEX nosuch",
                "GETEX s1 EX 10 PX 10",
                "GETEX s1 FOO",
                "GETEX s1 EX 0",
                "GETEX s1 PX -1",
                "SET \"\" emptykey",
                "GET \"\"",
                "SET bin \"\\x00\\xff\\r\\n\"",
                "GET bin",
                "STRLEN bin",
            ],
        ),
        script(
            "multi-key strings",
            &[
                "MSET a 1 b 2 c 3",
                "MGET a b c nosuch",
                "MSET a",
                "MSET a 1 b",
                "MGET",
                "MSETNX a 9 d 4",
                "MGET a d",
                "MSETNX d 4 e 5",
                "MGET d e",
                "MSETNX f 1 f 2",
                "GET f",
                "MSETNX f 1",
                "MSET a x a y",
                "GET a",
                "DEL a b c d e f nosuch",
            ],
        ),
        script(
            "counters",
            &[
                "INCR n",
                "INCRBY n 10",
                "DECR n",
                "DECRBY n 5",
                "INCRBY n -10",
                "GET n",
                "OBJECT ENCODING n",
                "INCRBY n abc",
                "INCRBY n 1.5",
                "INCRBY n 9223372036854775808",
                "SET big 9223372036854775807",
                "INCR big",
                "INCRBY big 1",
                "DECRBY big -1",
                "GET big",
                "SET small -9223372036854775808",
                "DECR small",
                "DECRBY small 1",
                "INCRBY small -1",
                "DECRBY n -9223372036854775808",
                "DECRBY n 9223372036854775807",
                "SET str abc",
                "INCR str",
                "SET sp \" 1\"",
                "INCR sp",
                "SET plus +1",
                "INCR plus",
                "SET lz 01",
                "INCR lz",
                "SET neg0 -0",
                "INCR neg0",
                "SET long 123456789012345678901",
                "INCR long",
                "INCR \"\"",
                "SET e \"\"",
                "INCR e",
            ],
        ),
        script(
            "incrbyfloat",
            &[
                "INCRBYFLOAT f 10.5",
                "INCRBYFLOAT f 0.1",
                "INCRBYFLOAT f -5",
                "GET f",
                "SET f 5.0e3",
                "INCRBYFLOAT f 2.0e2",
                "INCRBYFLOAT f abc",
                "INCRBYFLOAT f inf",
                "INCRBYFLOAT f -inf",
                "INCRBYFLOAT f nan",
                "INCRBYFLOAT f \"\"",
                "INCRBYFLOAT f \" 1\"",
                "SET fi 3",
                "INCRBYFLOAT fi 1.5",
                "INCRBYFLOAT fi 0.0000001",
                "INCRBYFLOAT nf 3.0",
                "INCRBYFLOAT nf2 1.1",
                "INCRBYFLOAT nf2 2.2",
                "INCRBYFLOAT nf3 -0.0",
                "INCRBYFLOAT nf4 1e17",
                "INCRBYFLOAT nf5 0x10",
                "SET str abc",
                "INCRBYFLOAT str 1",
                "SET fs \"1.5 \"",
                "INCRBYFLOAT fs 1",
                "OBJECT ENCODING fi",
            ],
        ),
        script(
            "getrange setrange",
            &[
                "SET r \"Hello World\"",
                "GETRANGE r 0 4",
                "GETRANGE r -5 -1",
                "GETRANGE r 0 -1",
                "GETRANGE r -100 100",
                "GETRANGE r 5 3",
                "GETRANGE r 100 200",
                "GETRANGE r -1 -5",
                "GETRANGE r 0 0",
                "GETRANGE r -1 -1",
                "GETRANGE r 10 10",
                "GETRANGE r 11 11",
                "GETRANGE nosuch 0 -1",
                "GETRANGE r a 1",
                "GETRANGE r 0 9223372036854775807",
                "GETRANGE r -9223372036854775808 2",
                "GETRANGE r 0",
                "SUBSTR r 0 4",
                "SETRANGE r 6 Redis",
                "GET r",
                "SETRANGE r 20 X",
                "GET r",
                "STRLEN r",
                "OBJECT ENCODING r",
                "SETRANGE nr 0 \"\"",
                "EXISTS nr",
                "SETRANGE nr 3 \"\"",
                "EXISTS nr",
                "SETRANGE nr 2 ab",
                "GET nr",
                "SETRANGE r -1 x",
                "SETRANGE r 536870911 \"\"",
                "SETRANGE r 536870911 xx",
                "SETRANGE r 536870912 x",
                "SETRANGE r abc x",
                "SET ri 12345",
                "SETRANGE ri 0 9",
                "GET ri",
                "OBJECT ENCODING ri",
            ],
        ),
        script(
            "bits",
            &[
                "SETBIT b 7 1",
                "GETBIT b 7",
                "GET b",
                "SETBIT b 7 0",
                "SETBIT b 100 1",
                "STRLEN b",
                "GETBIT b 1000",
                "GETBIT nosuch 0",
                "SETBIT b -1 1",
                "SETBIT b 4294967296 1",
                "SETBIT b 0 2",
                "SETBIT b 0 a",
                "GETBIT b -1",
                "GETBIT b abc",
                "SET bc foobar",
                "BITCOUNT bc",
                "BITCOUNT bc 0 0",
                "BITCOUNT bc 1 1",
                "BITCOUNT bc 1 1 BYTE",
                "BITCOUNT bc 5 30 BIT",
                "BITCOUNT bc -2 -1",
                "BITCOUNT bc 5 1",
                "BITCOUNT bc 0",
                "BITCOUNT bc 0 1 FOO",
                "BITCOUNT bc a b",
                "BITCOUNT nosuch",
                "BITCOUNT nosuch 0 -1",
                "SET bp \"\\xff\\xf0\\x00\"",
                "BITPOS bp 0",
                "BITPOS bp 1",
                "SET bp2 \"\\x00\\xff\\xf0\"",
                "BITPOS bp2 1 0",
                "BITPOS bp2 1 2",
                "BITPOS bp2 1 2 -1 BYTE",
                "BITPOS bp2 1 7 15 BIT",
                "BITPOS bp2 0 8 -1 BIT",
                "SET bp3 \"\\x00\\x00\\x00\"",
                "BITPOS bp3 1",
                "BITPOS nosuch 0",
                "BITPOS nosuch 1",
                "BITPOS bp 2",
                "BITPOS bp 0 0 -1 FOO",
                "SET ones \"\\xff\\xff\"",
                "BITPOS ones 0",
                "BITPOS ones 0 0",
                "BITPOS ones 0 0 -1",
                "BITOP AND dest bc bp",
                "GET dest",
                "BITOP OR dest2 bc nosuch",
                "GET dest2",
                "BITOP XOR dest3 bc bc",
                "GET dest3",
                "BITOP NOT dn bc",
                "GET dn",
                "BITOP NOT dn bc bp",
                "BITOP FOO d bc",
                "BITOP AND d nosuch1 nosuch2",
                "EXISTS d",
                "BITFIELD bf SET u8 0 255",
                "BITFIELD bf GET u8 0",
                "BITFIELD bf INCRBY u8 0 10",
                "BITFIELD bf OVERFLOW SAT INCRBY u8 0 300",
                "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 1",
                "BITFIELD bf GET i4 0 GET u8 #1",
                "BITFIELD bf GET u64 0",
                "BITFIELD_RO bf GET u8 0",
                "BITFIELD_RO bf SET u8 0 1",
            ],
        ),
        script(
            "lcs",
            &[
                "MSET l1 ohmytext l2 mynewtext",
                "LCS l1 l2",
                "LCS l1 l2 LEN",
                "LCS l1 l2 IDX",
                "LCS l1 l2 IDX MINMATCHLEN 4",
                "LCS l1 l2 IDX MINMATCHLEN 4 WITHMATCHLEN",
                "LCS l1 nosuch",
                "LCS l1 l2 LEN IDX",
                "LCS l1 l2 FOO",
                "LCS l1 l2 IDX MINMATCHLEN abc",
                "LCS l1",
            ],
        ),
        script(
            "keyspace",
            &[
                "MSET k1 a k2 b k3 c",
                "EXISTS k1 k1 k2 nosuch",
                "DEL k1 k1 nosuch",
                "UNLINK k2",
                "TOUCH k3 k3 nosuch",
                "TYPE k3",
                "TYPE nosuch",
                "MSET ka 1 kb 2 kc 3 hello 4 hallo 5 hxllo 6 h*llo 7 heello 8",
                "~ KEYS *",
                "~ KEYS h?llo",
                "~ KEYS h[ae]llo",
                "~ KEYS h[^e]llo",
                "~ KEYS h\\*llo",
                "~ KEYS k[a-b]",
                "~ KEYS *ll*",
                "~ KEYS nomatch*",
                "scan SCAN 0",
                "scan SCAN 0 COUNT 1000",
                "scan SCAN 0 MATCH h*llo COUNT 2",
                "scan SCAN 0 MATCH k? TYPE string",
                "scan SCAN 0 TYPE list",
                "SCAN 0 COUNT 0",
                "SCAN abc",
                "SCAN 0 FOO",
                "DBSIZE",
                "FLUSHDB",
                "RANDOMKEY",
                "SET only 1",
                "RANDOMKEY",
                "EXPIRE only 100",
                "TTL only",
                "PERSIST only",
                "PERSIST only",
                "PERSIST nosuch",
                "TTL only",
                "TTL nosuch",
                "PTTL only",
                "PTTL nosuch",
                "EXPIRE nosuch 100",
                "EXPIRE only 100 NX",
                "EXPIRE only 200 NX",
                "EXPIRE only 200 XX",
                "EXPIRE only 100 GT",
                "EXPIRE only 300 GT",
                "EXPIRE only 50 LT",
                "TTL only",
                "EXPIRE only 10 NX XX",
                "EXPIRE only 10 GT LT",
                "EXPIRE only 10 NX GT",
                "EXPIRE only 10 FOO",
                "EXPIRE only abc",
                "EXPIRE only 9223372036854775807",
                "PEXPIRE only 9223372036854775807",
                "EXPIREAT only 99999999999",
                "EXPIRETIME only",
                "PEXPIRETIME only",
                "PERSIST only",
                "EXPIRETIME only",
                "EXPIRETIME nosuch",
                "EXPIRE only -1",
                "EXISTS only",
                "SET e1 v",
                "EXPIREAT e1 1",
                "GET e1",
                "SET e2 v",
                "PEXPIREAT e2 1000",
                "EXISTS e2",
                "SET e3 v",
                "PEXPIRE e3 0",
                "EXISTS e3",
                "SET e4 v",
                "EXPIRE e4 100 LT",
                "TTL e4",
            ],
        ),
        script(
            "object encoding",
            &[
                "SET oi 12345",
                "OBJECT ENCODING oi",
                "SET oe abc",
                "OBJECT ENCODING oe",
                "SET o44 abcdefghijabcdefghijabcdefghijabcdefghij1234",
                "OBJECT ENCODING o44",
                "SET o45 abcdefghijabcdefghijabcdefghijabcdefghij12345",
                "OBJECT ENCODING o45",
                "APPEND oe x",
                "OBJECT ENCODING oe",
                "SET oneg -123",
                "OBJECT ENCODING oneg",
                "SET obig 12345678901234567890",
                "OBJECT ENCODING obig",
                "SET omax 9223372036854775807",
                "OBJECT ENCODING omax",
                "SET ospace \" 12\"",
                "OBJECT ENCODING ospace",
                "SET ofloat 1.5",
                "OBJECT ENCODING ofloat",
                "OBJECT ENCODING nosuch",
                "OBJECT FOO",
                "OBJECT ENCODING",
                "OBJECT REFCOUNT oi",
                "OBJECT REFCOUNT oe",
                "OBJECT FREQ oi",
                "INCR cnt",
                "OBJECT ENCODING cnt",
                "TYPE oi",
            ],
        ),
        // With 3 shards: src/dst, a/b, s/d, enc4/enc1 are on different shards (coordinator).
        script(
            "encodings kept by multi-key commands",
            &[
                "SET src 12",
                "SETRANGE src 0 3",
                "OBJECT ENCODING src",
                "RENAME src dst",
                "OBJECT ENCODING dst",
                "SET a abc",
                "APPEND a d",
                "COPY a b",
                "OBJECT ENCODING b",
                "OBJECT ENCODING a",
                "SET s 1",
                "BITOP OR d s",
                "OBJECT ENCODING d",
                "SET enc4 abc",
                "SET enc1 abcd",
                "BITOP AND enc1 enc4 enc1",
                "OBJECT ENCODING enc1",
                "SET enc2 12",
                "APPEND enc2 3",
                "MGET enc2 enc4",
                "OBJECT ENCODING enc2",
                "INCRBYFLOAT f 3",
                "OBJECT ENCODING f",
                "SET mv 12",
                "APPEND mv 3",
                "MOVE mv 1",
                "SELECT 1",
                "OBJECT ENCODING mv",
                "SELECT 0",
                "SET z 00",
                "OBJECT ENCODING z",
                "SET z -0",
                "OBJECT ENCODING z",
            ],
        ),
        script(
            "rename copy",
            &[
                "MSET k3 c ka 1",
                "RENAME k3 k4",
                "GET k4",
                "EXISTS k3",
                "RENAME nosuch x",
                "RENAME k4 k4",
                "RENAME nosuch nosuch",
                "RENAMENX k4 ka",
                "RENAMENX k4 k5",
                "GET k5",
                "RENAMENX nosuch x",
                "RENAMENX k5 k5",
                "SET rt v EX 100",
                "RENAME rt rt2",
                "TTL rt2",
                "RENAME rt2 ka",
                "GET ka",
                "TTL ka",
                "COPY ka kz",
                "GET kz",
                "COPY ka kz",
                "SET ka 2",
                "COPY ka kz REPLACE",
                "GET kz",
                "COPY ka ka",
                "COPY nosuch x",
                "COPY ka kz DB 1",
                "COPY ka kz DB 16",
                "COPY ka kz DB abc",
                "COPY ka kz DB -1",
                "COPY ka kz FOO",
                "COPY ka ka DB 0",
                "COPY ka ka DB 2",
                "SELECT 1",
                "GET kz",
                "SELECT 2",
                "GET ka",
                "SELECT 0",
                "SET ct v EX 100",
                "COPY ct ct2",
                "TTL ct2",
            ],
        ),
        script(
            "databases",
            &[
                "SET d0 zero",
                "SELECT 1",
                "GET d0",
                "SET d1 one",
                "DBSIZE",
                "SELECT 0",
                "DBSIZE",
                "SELECT 16",
                "SELECT -1",
                "SELECT abc",
                "SELECT 1.5",
                "MOVE d0 1",
                "EXISTS d0",
                "MOVE d0 1",
                "SELECT 1",
                "GET d0",
                "MOVE d0 1",
                "MOVE d0 16",
                "MOVE d0 -1",
                "MOVE d0 abc",
                "SET d1 collide",
                "SELECT 0",
                "SET d1 zero-d1",
                "MOVE d1 1",
                "GET d1",
                "SWAPDB 0 1",
                "GET d1",
                "GET d0",
                "DBSIZE",
                "SELECT 1",
                "GET d1",
                "SELECT 0",
                "SWAPDB 0 16",
                "SWAPDB a 1",
                "SWAPDB 0 b",
                "SWAPDB 0 -1",
                "SWAPDB 0 0",
                "SET mt v EX 100",
                "MOVE mt 2",
                "SELECT 2",
                "TTL mt",
                "SELECT 0",
                "FLUSHDB",
                "DBSIZE",
                "SELECT 1",
                "DBSIZE",
                "FLUSHDB ASYNC",
                "DBSIZE",
                "FLUSHDB FOO",
                "FLUSHALL SYNC",
                "FLUSHALL FOO",
                "SELECT 0",
            ],
        ),
        script(
            "multi-shard keys in other databases",
            &[
                "SELECT 3",
                "MSET a 1 b 2 c 3 d 4",
                "MGET a b c d",
                "MSETNX a 1 e 5",
                "EXISTS a b c d e",
                "SELECT 0",
                "MGET a b c d",
                "DEL a b c d",
                "SELECT 3",
                "RENAME a z",
                "COPY b y",
                "MGET z y a",
                "DEL a b c d z y",
                "DBSIZE",
                "SET x 1 EX 100",
                "MOVE x 0",
                "SELECT 0",
                "TTL x",
                "SWAPDB 0 3",
                "GET x",
                "SELECT 3",
                "GET x",
                "FLUSHALL",
            ],
        ),
        script(
            "stats of multi-shard commands",
            &[
                "CONFIG RESETSTAT",
                "MSET a 1 b 2 c 3 d 4",
                "MGET a b c d nosuch",
                "GET a",
                "GET nosuch",
                "EXISTS a b nosuch",
                "info:keyspace_hits,keyspace_misses,total_commands_processed INFO stats",
                "info:cmdstat_mget,cmdstat_mset,cmdstat_get,cmdstat_exists INFO commandstats",
                "MGET",
                "info:cmdstat_mget,errorstat_ERR INFO all",
            ],
        ),
        script(
            "connection and errors",
            &[
                "PING",
                "PING hello",
                "PING a b",
                "ECHO hi",
                "ECHO \"\"",
                "ECHO",
                "ECHO a b",
                "FOOBAR",
                "FOOBAR a \"b c\"",
                "get nosuch",
                "GeT nosuch",
                "GET",
                "GET a b",
                "SET a",
                "SETNX a",
                "STRLEN",
                "DEL",
                "EXISTS",
                "INCR",
                "INCRBY a",
                "DECRBY a b c",
                "APPEND a",
                "GETRANGE a 0",
                "SETRANGE a 0",
                "MOVE a",
                "SWAPDB 0",
                "RENAME a",
                "EXPIRE a",
                "TTL",
                "KEYS",
                "TYPE",
                "DBSIZE x",
                "CONFIG GET maxmemory",
                "CONFIG GET maxmemory-policy",
                "CONFIG GET proto-max-bulk-len",
                "CONFIG GET nosuchparam",
                "CONFIG FOO",
            ],
        ),
        script(
            "resp3",
            &[
                "! HELLO 3",
                "GET nosuch",
                "SET a 1",
                "GET a",
                "MGET a nosuch",
                "INCRBYFLOAT fl 1.5",
                "MSET l1 ohmytext l2 mynewtext",
                "LCS l1 l2 IDX MINMATCHLEN 4 WITHMATCHLEN",
                "EXISTS a a",
                "SET a 2 XX GET",
                "SET b 2 XX GET",
                "GETEX nosuch",
                "FLUSHALL",
                "RANDOMKEY",
                "OBJECT ENCODING nosuch",
                "CONFIG GET maxmemory",
                "PING",
                "! HELLO 2",
                "GET nosuch",
            ],
        ),
    ]
}

/// One reply: its raw bytes, and for aggregates the header length and the elements.
struct Node {
    raw: Vec<u8>,
    head: usize,
    kids: Vec<Node>,
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut l = Vec::new();
    r.read_until(b'\n', &mut l)?;
    if !l.ends_with(b"\r\n") {
        return Err(std::io::Error::new(
            ErrorKind::UnexpectedEof,
            format!("bad line {:?}", String::from_utf8_lossy(&l)),
        ));
    }
    Ok(l)
}

fn read_node(r: &mut impl BufRead) -> std::io::Result<Node> {
    let line = read_line(r)?;
    let n: i64 = std::str::from_utf8(&line[1..line.len() - 2])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut node = Node {
        head: line.len(),
        raw: line,
        kids: Vec::new(),
    };
    match node.raw[0] {
        b'$' | b'=' | b'!' if n >= 0 => {
            let mut b = vec![0u8; n as usize + 2];
            r.read_exact(&mut b)?;
            node.raw.extend(b);
        }
        b'*' | b'~' | b'>' | b'%' | b'|' if n > 0 => {
            let count = if matches!(node.raw[0], b'%' | b'|') {
                2 * n
            } else {
                n
            };
            for _ in 0..count {
                let k = read_node(r)?;
                node.raw.extend_from_slice(&k.raw);
                node.kids.push(k);
            }
        }
        _ => {}
    }
    Ok(node)
}

fn sorted(node: &Node) -> Vec<u8> {
    let mut kids: Vec<&[u8]> = node.kids.iter().map(|k| k.raw.as_slice()).collect();
    kids.sort();
    let mut v = node.raw[..node.head].to_vec();
    kids.iter().for_each(|k| v.extend_from_slice(k));
    v
}

fn normalize(node: &Node, mode: Mode) -> Vec<u8> {
    match mode {
        Mode::Sorted => sorted(node),
        Mode::Info(fields) if node.raw.starts_with(b"$") || node.raw.starts_with(b"=") => {
            let text = String::from_utf8_lossy(&node.raw[node.head..]).into_owned();
            let mut v = String::new();
            for f in fields.split(',') {
                let line = text.lines().find(|l| l.starts_with(&format!("{f}:")));
                let line = match line {
                    Some(l) if f.starts_with("cmdstat_") => l
                        .split([':', ','])
                        .filter(|p| {
                            p.starts_with(f) || p.starts_with("calls=") || p.contains("_calls=")
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                    Some(l) => l.to_string(),
                    None => format!("{f}: <missing>"),
                };
                v.push_str(&line);
                v.push('\n');
            }
            v.into_bytes()
        }
        Mode::SortedAt(i) if node.kids.len() > i => {
            let mut v = node.raw[..node.head].to_vec();
            for (j, k) in node.kids.iter().enumerate() {
                v.extend(if j == i { sorted(k) } else { k.raw.clone() });
            }
            v
        }
        _ => node.raw.clone(),
    }
}

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        let w = TcpStream::connect(("127.0.0.1", port))?;
        w.set_read_timeout(Some(Duration::from_secs(3)))?;
        Ok(Conn {
            r: BufReader::new(w.try_clone()?),
            w,
        })
    }

    fn call(&mut self, args: &[Vec<u8>], mode: Mode) -> std::io::Result<Vec<u8>> {
        if mode == Mode::ScanAll {
            return self.scan_all(args);
        }
        let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        self.w.write_all(&resp(&argv))?;
        let node = read_node(&mut self.r)?;
        Ok(normalize(&node, mode))
    }
}

impl Conn {
    /// Runs a SCAN (args[1] is the cursor) until the cursor is 0; returns the sorted,
    /// deduplicated keys as one array, or the first reply that is not a SCAN page.
    fn scan_all(&mut self, args: &[Vec<u8>]) -> std::io::Result<Vec<u8>> {
        let mut args = args.to_vec();
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for _ in 0..10_000 {
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            self.w.write_all(&resp(&argv))?;
            let node = read_node(&mut self.r)?;
            if node.kids.len() != 2 || !node.kids[0].raw.starts_with(b"$") {
                return Ok(node.raw);
            }
            let cursor = &node.kids[0].raw;
            keys.extend(node.kids[1].kids.iter().map(|k| k.raw.clone()));
            if cursor == b"$1\r\n0\r\n" {
                keys.sort();
                keys.dedup();
                let mut v = format!("*{}\r\n", keys.len()).into_bytes();
                keys.iter().for_each(|k| v.extend_from_slice(k));
                return Ok(v);
            }
            // The cursor's digits sit between the "$n\r\n" header and the final CRLF.
            let digits = &cursor
                [cursor.iter().position(|&b| b == b'\n').map_or(0, |p| p + 1)..cursor.len() - 2];
            args[1] = digits.to_vec();
        }
        Ok(b"<SCAN did not finish in 10000 calls>".to_vec())
    }
}

fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Runs every script on both servers; returns the mismatches and the commands that differed.
fn differential(shards: usize) {
    let Some(redis) = RedisServer::start(&[]) else {
        return;
    };
    let mut shoal = Server::start(shards, &[]);
    let flushall = vec![b"FLUSHALL".to_vec()];
    let mut mismatches = Vec::new();
    let mut failed_cmds: Vec<String> = Vec::new();
    let mut total = 0;
    for sc in scripts() {
        let mut rc = Conn::open(redis.port).expect("connect redis");
        let mut sc_conn = Conn::open(shoal.port).ok();
        assert_eq!(
            rc.call(&flushall, Mode::Exact).expect("redis FLUSHALL"),
            b"+OK\r\n"
        );
        let flushed = sc_conn.as_mut().map(|c| c.call(&flushall, Mode::Exact));
        if !matches!(flushed, Some(Ok(ref r)) if r == b"+OK\r\n") {
            mismatches.push(format!(
                "[shards {shards}] script {:?}: FLUSHALL on shoal failed: {:?}",
                sc.name,
                flushed.map(|r| r.map(|b| show(&b)))
            ));
        }
        for line in &sc.lines {
            total += 1;
            let want = rc.call(&line.args, line.mode).expect("redis reply");
            let got = match sc_conn.as_mut().map(|c| c.call(&line.args, line.mode)) {
                Some(Ok(g)) => g,
                other => {
                    // No reply (timeout, closed, crashed): note it and reconnect, restarting
                    // the server if it died, so later scripts still run.
                    let why = match other {
                        Some(Err(e)) => format!("<no reply: {e}>"),
                        _ => "<not connected>".to_string(),
                    };
                    if shoal.try_wait().is_some() {
                        mismatches.push(format!(
                            "[shards {shards}] script {:?}: shoal EXITED at {:?}",
                            sc.name, line.text
                        ));
                        shoal = Server::start(shards, &[]);
                    }
                    sc_conn = Conn::open(shoal.port).ok();
                    why.into_bytes()
                }
            };
            if line.mode != Mode::Ignore && got != want {
                mismatches.push(format!(
                    "[shards {shards}] script {:?}, command {:?}:\n    redis: {}\n    shoal: {}",
                    sc.name,
                    line.text,
                    show(&want),
                    show(&got)
                ));
                let name = String::from_utf8_lossy(&line.args[0]).to_uppercase();
                if !failed_cmds.contains(&name) {
                    failed_cmds.push(name);
                }
            }
        }
    }
    assert!(shoal.try_wait().is_none(), "shoal exited");
    assert!(
        mismatches.is_empty(),
        "{} of {total} replies differ from redis-server (commands: {}):\n{}",
        mismatches.len(),
        failed_cmds.join(" "),
        mismatches.join("\n")
    );
}

#[test]
fn same_replies_as_redis_one_shard() {
    differential(1);
}

#[test]
fn same_replies_as_redis_three_shards() {
    differential(3);
}
