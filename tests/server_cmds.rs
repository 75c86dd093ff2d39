//! Connection and server commands against the real binary: PING, ECHO, SELECT, QUIT, HELLO,
//! RESET, TIME, DBSIZE, FLUSHALL, SHUTDOWN, DEBUG, FUNCTION, COMMAND, CONFIG, INFO and CLIENT, in
//! RESP2 and RESP3. Expected bytes were checked against redis-server 7.0.15.

mod common;
use common::{redis_cli, Server};

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A connection that reads whole replies, for byte-exact checks of replies of any length.
struct C {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

/// A parsed reply: maps and sets flatten to arrays, verbatim strings lose their `txt:`.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(Vec<u8>),
    Err(String),
    Int(i64),
    Nil,
    Arr(Vec<V>),
}

impl V {
    fn s(&self) -> String {
        match self {
            V::Str(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("not a string: {other:?}"),
        }
    }
    fn arr(&self) -> &[V] {
        match self {
            V::Arr(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn enc(args: &[&str]) -> Vec<u8> {
    let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
    common::resp(&a)
}

impl C {
    fn new(s: &Server) -> C {
        let w = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(5))).ok();
        w.set_nodelay(true).ok();
        C {
            r: BufReader::new(w.try_clone().expect("clone")),
            w,
        }
    }

    fn send(&mut self, args: &[&str]) {
        self.w.write_all(&enc(args)).expect("write");
    }

    /// Sends a command and returns its reply's exact bytes.
    fn raw(&mut self, args: &[&str]) -> Vec<u8> {
        self.send(args);
        let mut out = Vec::new();
        self.read_raw(&mut out);
        out
    }

    fn read_raw(&mut self, out: &mut Vec<u8>) {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).expect("read");
        assert!(
            line.ends_with(b"\r\n"),
            "bad line {:?} after {:?}",
            show(&line),
            show(out)
        );
        out.extend_from_slice(&line);
        let n: i64 = show(&line[1..line.len() - 2]).parse().unwrap_or(0);
        match line[0] {
            b'$' | b'=' if n >= 0 => {
                let mut b = vec![0u8; n as usize + 2];
                self.r.read_exact(&mut b).expect("read bulk");
                out.extend_from_slice(&b);
            }
            b'*' | b'~' | b'>' => (0..n.max(0)).for_each(|_| self.read_raw(out)),
            b'%' => (0..2 * n.max(0)).for_each(|_| self.read_raw(out)),
            _ => {}
        }
    }

    /// Sends a command and parses its reply.
    fn call(&mut self, args: &[&str]) -> V {
        let raw = self.raw(args);
        parse(&raw, &mut 0)
    }

    /// Whether the server closed the connection: the next read gives EOF or a reset.
    fn closed(&mut self) -> bool {
        let _ = self.w.write_all(b"PING\r\n");
        let mut b = [0u8; 16];
        match self.r.read(&mut b) {
            Ok(0) => true,
            Err(e) => matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
            Ok(_) => false,
        }
    }
}

fn parse(b: &[u8], pos: &mut usize) -> V {
    let end = b[*pos..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("line")
        + *pos;
    let (t, body) = (b[*pos], &b[*pos + 1..end]);
    *pos = end + 2;
    let n: i64 = show(body).parse().unwrap_or(0);
    match t {
        b'+' => V::Str(body.to_vec()),
        b'-' => V::Err(show(body)),
        b':' => V::Int(n),
        b'_' => V::Nil,
        b'$' | b'=' if n < 0 => V::Nil,
        b'$' | b'=' => {
            let mut s = b[*pos..*pos + n as usize].to_vec();
            *pos += n as usize + 2;
            if t == b'=' {
                s.drain(..4);
            }
            V::Str(s)
        }
        b'*' | b'~' if n < 0 => V::Nil,
        b'*' | b'~' => V::Arr((0..n).map(|_| parse(b, pos)).collect()),
        b'%' => V::Arr((0..2 * n).map(|_| parse(b, pos)).collect()),
        b',' | b'#' => V::Str(body.to_vec()),
        other => panic!("unknown reply type {}", other as char),
    }
}

fn err(msg: &str) -> V {
    V::Err(msg.to_string())
}

fn ok() -> V {
    V::Str(b"OK".to_vec())
}

fn bulk(s: &str) -> V {
    V::Str(s.as_bytes().to_vec())
}

/// Field `name` of an INFO text.
fn info_field(info: &str, name: &str) -> Option<String> {
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
}

fn hello_bytes(proto: u8, id: i64) -> String {
    let head = if proto == 3 { "%7" } else { "*14" };
    format!(
        "{head}\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
}

#[test]
fn ping_echo_select_time_quit() {
    let s = Server::start(1, &[]);
    let mut c = C::new(&s);
    assert_eq!(show(&c.raw(&["PING"])), "+PONG\r\n");
    assert_eq!(show(&c.raw(&["PING", "hi there"])), "$8\r\nhi there\r\n");
    assert_eq!(
        show(&c.raw(&["PING", "a", "b"])),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(show(&c.raw(&["ECHO", ""])), "$0\r\n\r\n");
    assert_eq!(
        show(&c.raw(&["echo", "a", "b"])),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        c.call(&["SELECT", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.call(&["SELECT", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.call(&["SELECT", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["SELECT", "4294967296"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.call(&["SELECT", "15"]), ok());
    assert_eq!(c.call(&["SET", "k", "v"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), V::Int(1));
    assert_eq!(c.call(&["SELECT", "0"]), ok());
    assert_eq!(c.call(&["DBSIZE"]), V::Int(0));
    assert_eq!(
        c.call(&["TIME", "x"]),
        err("ERR wrong number of arguments for 'time' command")
    );
    let t = c.call(&["TIME"]);
    let secs: u64 = t.arr()[0].s().parse().unwrap();
    let micros: u64 = t.arr()[1].s().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2 && micros < 1_000_000, "{t:?}");
    // QUIT takes any arguments, replies +OK and closes.
    assert_eq!(show(&c.raw(&["QUIT", "whatever"])), "+OK\r\n");
    assert!(c.closed());
}

#[test]
fn hello_resp3_auth_setname_and_reset() {
    let s = Server::start(1, &[]);
    let mut c = C::new(&s);
    let id = match c.call(&["CLIENT", "ID"]) {
        V::Int(i) => i,
        other => panic!("{other:?}"),
    };
    assert_eq!(show(&c.raw(&["HELLO"])), hello_bytes(2, id));
    assert_eq!(
        c.call(&["HELLO", "4"]),
        err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.call(&["HELLO", "1"]),
        err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.call(&["HELLO", "x"]),
        err("ERR Protocol version is not an integer or out of range")
    );
    assert_eq!(
        c.call(&["HELLO", "3", "AUTH"]),
        err("ERR Syntax error in HELLO option 'AUTH'")
    );
    assert_eq!(
        c.call(&["HELLO", "3", "foo"]),
        err("ERR Syntax error in HELLO option 'foo'")
    );
    assert_eq!(
        c.call(&["HELLO", "3", "AUTH", "someone", "pw"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        c.call(&["HELLO", "3", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    // Failed HELLOs changed nothing: still RESP2.
    assert_eq!(show(&c.raw(&["CLIENT", "GETNAME"])), "$-1\r\n");
    // No requirepass: the default user takes any password.
    assert_eq!(
        show(&c.raw(&["HELLO", "3", "AUTH", "default", "anything", "SETNAME", "me"])),
        hello_bytes(3, id)
    );
    assert_eq!(show(&c.raw(&["CLIENT", "GETNAME"])), "$2\r\nme\r\n");
    assert_eq!(show(&c.raw(&["GET", "nokey"])), "_\r\n");
    assert_eq!(show(&c.raw(&["PING"])), "+PONG\r\n");
    assert_eq!(show(&c.raw(&["PING", "x"])), "$1\r\nx\r\n");
    assert_eq!(show(&c.raw(&["HELLO"])), hello_bytes(3, id));
    let info = c.call(&["CLIENT", "INFO"]).s();
    assert!(
        info.contains(" name=me ") && info.contains(" resp=3\n"),
        "{info}"
    );
    // RESET: RESP2, db 0, no name.
    assert_eq!(c.call(&["SELECT", "3"]), ok());
    assert_eq!(show(&c.raw(&["RESET"])), "+RESET\r\n");
    assert_eq!(show(&c.raw(&["GET", "nokey"])), "$-1\r\n");
    assert_eq!(show(&c.raw(&["CLIENT", "GETNAME"])), "$-1\r\n");
    let info = c.call(&["CLIENT", "INFO"]).s();
    assert!(
        info.contains(" db=0 ") && info.contains(" resp=2\n") && info.contains(" name= "),
        "{info}"
    );
    assert_eq!(
        c.call(&["RESET", "x"]),
        err("ERR wrong number of arguments for 'reset' command")
    );

    // With requirepass, HELLO AUTH needs that password for `default`.
    let s = Server::start(1, &["--requirepass", "secret"]);
    let mut c = C::new(&s);
    assert_eq!(
        c.call(&["HELLO", "3", "AUTH", "default", "wrong"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert!(show(&c.raw(&["HELLO", "3", "AUTH", "default", "secret"])).starts_with("%7\r\n"));
}

#[test]
fn dbsize_flushall_and_dirty_counter() {
    for shards in [1, 4] {
        let s = Server::start(shards, &["--save", ""]);
        let mut c = C::new(&s);
        for i in 0..100 {
            assert_eq!(c.call(&["SET", &format!("key:{i}"), "v"]), ok());
        }
        assert_eq!(c.call(&["SELECT", "2"]), ok());
        assert_eq!(c.call(&["SET", "other", "v"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), V::Int(1));
        assert_eq!(c.call(&["SELECT", "0"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), V::Int(100));
        let info = c.call(&["INFO", "persistence"]).s();
        assert_eq!(
            info_field(&info, "rdb_changes_since_last_save").as_deref(),
            Some("101")
        );
        assert_eq!(c.call(&["FLUSHALL", "x"]), err("ERR syntax error"));
        assert_eq!(
            c.call(&["FLUSHALL", "ASYNC", "SYNC"]),
            err("ERR syntax error")
        );
        assert_eq!(c.call(&["DBSIZE"]), V::Int(100));
        assert_eq!(c.call(&["FLUSHALL", "sync"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), V::Int(0));
        assert_eq!(c.call(&["SELECT", "2"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), V::Int(0));
        let info = c.call(&["INFO", "persistence"]).s();
        // 101 writes, 101 keys removed, 1 for FLUSHALL itself (Redis without save points).
        assert_eq!(
            info_field(&info, "rdb_changes_since_last_save").as_deref(),
            Some("203")
        );
        assert_eq!(c.call(&["SET", "k", "v"]), ok());
        assert_eq!(c.call(&["FLUSHALL", "ASYNC"]), ok());
        assert_eq!(c.call(&["DBSIZE"]), V::Int(0));
        assert_eq!(c.call(&["FLUSHALL"]), ok());
        assert!(!s.dir.join("dump.rdb").exists());
    }
    // With save points, FLUSHALL also saves the empty dataset (so a restart cannot bring the
    // keys back); Redis 7.0.15 then shows no pending change and does not count that save.
    let s = Server::start(2, &[]);
    let mut c = C::new(&s);
    for i in 0..10 {
        assert_eq!(c.call(&["SET", &format!("key:{i}"), "v"]), ok());
    }
    assert_eq!(c.call(&["FLUSHALL"]), ok());
    let info = c.call(&["INFO", "persistence"]).s();
    assert_eq!(
        info_field(&info, "rdb_changes_since_last_save").as_deref(),
        Some("0")
    );
    assert_eq!(info_field(&info, "rdb_saves").as_deref(), Some("0"));
    assert!(s.dir.join("dump.rdb").exists());
}

#[test]
fn shutdown_options_and_exit() {
    let mut s = Server::start(2, &[]);
    let mut c = C::new(&s);
    assert_eq!(c.call(&["SHUTDOWN", "foo"]), err("ERR syntax error"));
    assert_eq!(
        c.call(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["SHUTDOWN", "ABORT", "NOW"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.call(&["SHUTDOWN", "ABORT"]),
        err("ERR No shutdown in progress.")
    );
    let mut other = C::new(&s);
    assert_eq!(other.call(&["PING"]), bulk("PONG"));
    c.send(&["SHUTDOWN", "NOSAVE", "NOW", "FORCE"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = s.try_wait() {
            break st;
        }
        assert!(Instant::now() < deadline, "shoal did not exit on SHUTDOWN");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    assert!(c.closed());
    assert!(other.closed());
}

#[test]
fn debug_sleep_needs_enable_debug_command() {
    let s = Server::start(1, &[]);
    let mut c = C::new(&s);
    assert_eq!(
        c.call(&["DEBUG", "SLEEP", "0"]),
        err("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")
    );
    assert_eq!(
        c.call(&["DEBUG"]),
        err("ERR wrong number of arguments for 'debug' command")
    );
    assert_eq!(
        c.call(&["CONFIG", "SET", "enable-debug-command", "yes"]),
        err("ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config")
    );
    for flag in ["yes", "local"] {
        let s = Server::start(1, &["--enable-debug-command", flag]);
        let mut c = C::new(&s);
        let start = Instant::now();
        assert_eq!(c.call(&["DEBUG", "SLEEP", "0.3"]), ok());
        assert!(
            start.elapsed() >= Duration::from_millis(290),
            "{:?}",
            start.elapsed()
        );
        // strtod-like: what does not parse sleeps 0; huge or negative values never panic.
        assert_eq!(c.call(&["DEBUG", "SLEEP", "x"]), ok());
        assert_eq!(c.call(&["DEBUG", "SLEEP", "-5"]), ok());
        assert_eq!(c.call(&["DEBUG", "SLEEP", "nan"]), ok());
        assert_eq!(
            c.call(&["DEBUG", "SLEEP"]),
            err("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.")
        );
        assert_eq!(
            c.call(&["DEBUG", "foo"]),
            err("ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.")
        );
        let help = c.call(&["DEBUG", "HELP"]);
        assert_eq!(
            help.arr()[0].s(),
            "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
        );
        assert_eq!(help.arr().last().unwrap().s(), "    Prints this help.");
        // A sleeping connection does not hold up others.
        c.send(&["DEBUG", "SLEEP", "1"]);
        let mut other = C::new(&s);
        let start = Instant::now();
        assert_eq!(other.call(&["PING"]), bulk("PONG"));
        assert!(start.elapsed() < Duration::from_millis(900));
        let mut b = Vec::new();
        c.read_raw(&mut b);
        assert_eq!(show(&b), "+OK\r\n");
        // Absurd durations only park that connection.
        for huge in ["1e300", "99999999999999999999", "inf"] {
            let mut sleeper = C::new(&s);
            sleeper.send(&["DEBUG", "SLEEP", huge]);
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(other.call(&["PING"]), bulk("PONG"));
    }
}

#[test]
fn function_without_libraries() {
    let s = Server::start(1, &[]);
    let mut c = C::new(&s);
    for proto in ["2", "3"] {
        c.call(&["HELLO", proto]);
        assert_eq!(show(&c.raw(&["FUNCTION", "LIST"])), "*0\r\n");
        assert_eq!(
            show(&c.raw(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x*"])),
            "*0\r\n"
        );
        assert_eq!(
            c.call(&["FUNCTION", "LIST", "x"]),
            err("ERR Unknown argument x")
        );
        assert_eq!(
            c.call(&["FUNCTION", "LIST", "WITHCODE", "WITHCODE"]),
            err("ERR Unknown argument WITHCODE")
        );
        assert_eq!(
            c.call(&["FUNCTION", "LIST", "LIBRARYNAME"]),
            err("ERR library name argument was not given")
        );
        assert_eq!(c.call(&["FUNCTION", "FLUSH"]), ok());
        assert_eq!(c.call(&["FUNCTION", "FLUSH", "async"]), ok());
        assert_eq!(c.call(&["FUNCTION", "FLUSH", "SYNC"]), ok());
        assert_eq!(
            c.call(&["FUNCTION", "FLUSH", "x"]),
            err("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
        );
        assert_eq!(
            c.call(&["FUNCTION", "FLUSH", "ASYNC", "SYNC"]),
            err("ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.")
        );
        assert_eq!(
            c.call(&["FUNCTION", "foo"]),
            err("ERR unknown subcommand 'foo'. Try FUNCTION HELP.")
        );
        assert_eq!(
            c.call(&["FUNCTION"]),
            err("ERR wrong number of arguments for 'function' command")
        );
        assert_eq!(
            c.call(&["FUNCTION", "DELETE", "lib"]),
            err("ERR Library not found")
        );
        assert_eq!(
            c.call(&["FUNCTION", "KILL"]),
            err("NOTBUSY No scripts in execution right now.")
        );
        assert_eq!(
            c.call(&["FUNCTION", "STATS", "x"]),
            err("ERR wrong number of arguments for 'function|stats' command")
        );
    }
    assert_eq!(
        show(&c.raw(&["FUNCTION", "STATS"])),
        "%2\r\n$14\r\nrunning_script\r\n_\r\n$7\r\nengines\r\n%1\r\n$3\r\nLUA\r\n%2\r\n$15\r\nlibraries_count\r\n:0\r\n$15\r\nfunctions_count\r\n:0\r\n"
    );
    assert_eq!(
        c.raw(&["FUNCTION", "DUMP"]),
        b"$10\r\n\x0a\x00\x5d\x9b\x5c\x40\x0f\x7f\xa2\xda\r\n"
    );
}

#[test]
fn command_info_docs_list_getkeys() {
    let s = Server::start(1, &[]);
    let mut c = C::new(&s);
    // COMMAND COUNT is the number of entries COMMAND returns, and COMMAND INFO with no names
    // is COMMAND.
    let all = c.call(&["COMMAND"]);
    let n = all.arr().len();
    assert!(n >= 16, "{n}");
    assert_eq!(c.call(&["COMMAND", "COUNT"]), V::Int(n as i64));
    assert_eq!(c.call(&["COMMAND", "INFO"]).arr().len(), n);
    let names: Vec<String> = all.arr().iter().map(|e| e.arr()[0].s()).collect();
    for want in [
        "get", "set", "ping", "config", "client", "command", "info", "hello",
    ] {
        assert!(
            names.iter().any(|x| x == want),
            "{want} missing from COMMAND"
        );
    }
    // Every entry has Redis 7's ten fields; containers list their subcommands.
    for e in all.arr() {
        assert_eq!(e.arr().len(), 10, "{e:?}");
    }
    let config = all
        .arr()
        .iter()
        .find(|e| e.arr()[0].s() == "config")
        .unwrap();
    let subs: Vec<String> = config.arr()[9]
        .arr()
        .iter()
        .map(|e| e.arr()[0].s())
        .collect();
    assert_eq!(
        subs,
        [
            "config|get",
            "config|help",
            "config|resetstat",
            "config|set"
        ]
    );

    let info_2 = "*3\r\n*10\r\n$4\r\nping\r\n:-1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n*0\r\n*0\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n$-1\r\n";
    let info_3 = "*3\r\n*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n+@connection\r\n~2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n~4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n~0\r\n_\r\n";
    let docs_2 = "*4\r\n$4\r\necho\r\n*10\r\n$7\r\nsummary\r\n$21\r\nEcho the given string\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n$10\r\nconfig|get\r\n*12\r\n$7\r\nsummary\r\n$42\r\nGet the values of configuration parameters\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\nO(N) when N is the number of configuration parameters provided\r\n$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$65\r\nAdded the ability to pass multiple pattern parameters in one call\r\n$9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n$9\r\narguments\r\n*1\r\n*4\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n";
    let docs_3 = "%2\r\n$4\r\necho\r\n%5\r\n$7\r\nsummary\r\n$21\r\nEcho the given string\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%2\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n$10\r\nconfig|get\r\n%6\r\n$7\r\nsummary\r\n$42\r\nGet the values of configuration parameters\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\nO(N) when N is the number of configuration parameters provided\r\n$7\r\nhistory\r\n~1\r\n*2\r\n$5\r\n7.0.0\r\n$65\r\nAdded the ability to pass multiple pattern parameters in one call\r\n$9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n$9\r\narguments\r\n*1\r\n%2\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n";
    let keys_2 =
        "*2\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n*2\r\n$1\r\nb\r\n*2\r\n+OW\r\n+update\r\n";
    let keys_3 =
        "*2\r\n*2\r\n$1\r\na\r\n~2\r\n+OW\r\n+update\r\n*2\r\n$1\r\nb\r\n~2\r\n+OW\r\n+update\r\n";
    for (proto, info, docs, keys) in [("2", info_2, docs_2, keys_2), ("3", info_3, docs_3, keys_3)]
    {
        c.call(&["HELLO", proto]);
        assert_eq!(
            show(&c.raw(&["COMMAND", "INFO", "ping", "CONFIG|GET", "nosuch"])),
            info
        );
        assert_eq!(
            show(&c.raw(&["COMMAND", "DOCS", "echo", "config|get", "nosuch"])),
            docs
        );
        assert_eq!(
            show(&c.raw(&["COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"])),
            keys
        );
    }
    c.call(&["HELLO", "2"]);
    // DOCS for everything: one entry per command, each with summary/since/group.
    let docs = c.call(&["COMMAND", "DOCS"]);
    assert_eq!(docs.arr().len(), 2 * n);
    assert_eq!(c.call(&["COMMAND", "DOCS", "nosuch"]), V::Arr(vec![]));

    let list = c.call(&["COMMAND", "LIST"]);
    let list: Vec<String> = list.arr().iter().map(V::s).collect();
    assert!(list.contains(&"get".to_string()) && list.contains(&"client|kill".to_string()));
    assert_eq!(
        list.len(),
        n + list.iter().filter(|x| x.contains('|')).count()
    );
    let pat = c.call(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"]);
    let pat: Vec<String> = pat.arr().iter().map(V::s).collect();
    assert_eq!(
        pat,
        [
            "config",
            "config|get",
            "config|help",
            "config|resetstat",
            "config|set"
        ]
    );
    let cat = c.call(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "CONNECTION"]);
    let cat: Vec<String> = cat.arr().iter().map(V::s).collect();
    assert!(
        cat.contains(&"ping".to_string())
            && cat.contains(&"client|id".to_string())
            && !cat.contains(&"get".to_string())
    );
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        V::Arr(vec![])
    );
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
        V::Arr(vec![])
    );
    assert_eq!(
        c.call(&["COMMAND", "LIST", "FILTERBY"]),
        err("ERR syntax error")
    );
    assert_eq!(c.call(&["COMMAND", "LIST", "x"]), err("ERR syntax error"));

    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]),
        V::Arr(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "GET", "k"]),
        V::Arr(vec![bulk("k")])
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "get"]),
        err("ERR wrong number of arguments for 'command|getkeys' command")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "get", "a", "b"]),
        err("ERR Invalid number of arguments specified for command")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "nosuch", "a"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "ping", "a"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "config", "get", "x"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.call(&["COMMAND", "GETKEYS", "config", "nosuch"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        c.call(&["COMMAND", "COUNT", "x"]),
        err("ERR wrong number of arguments for 'command|count' command")
    );
    assert_eq!(
        c.call(&["COMMAND", "foo"]),
        err("ERR unknown subcommand 'foo'. Try COMMAND HELP.")
    );
    let help = c.call(&["COMMAND", "HELP"]);
    assert_eq!(
        help.arr()[0].s(),
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
}

#[test]
fn config_get_set_round_trip() {
    let s = Server::start(2, &[]);
    let mut c = C::new(&s);
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory"]),
        V::Arr(vec![bulk("maxmemory"), bulk("0")])
    );
    assert_eq!(c.call(&["CONFIG", "SET", "maxmemory", "1gb"]), ok());
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory"]),
        V::Arr(vec![bulk("maxmemory"), bulk("1073741824")])
    );
    // A plain name is echoed as written; a pattern gives the canonical names.
    assert_eq!(c.call(&["CONFIG", "SET", "HZ", "15"]), ok());
    assert_eq!(
        c.call(&["CONFIG", "GET", "HZ"]),
        V::Arr(vec![bulk("HZ"), bulk("15")])
    );
    assert_eq!(c.call(&["CONFIG", "GET", "nosuch"]), V::Arr(vec![]));
    let m = c.call(&["CONFIG", "GET", "maxmemory*", "maxmemory"]);
    let m: Vec<String> = m.arr().iter().map(V::s).collect();
    assert_eq!(m.len(), 6, "{m:?}");
    for want in ["maxmemory", "maxmemory-policy", "maxmemory-samples"] {
        assert_eq!(m.iter().filter(|x| *x == want).count(), 1, "{m:?}");
    }
    let all = c.call(&["CONFIG", "GET", "*"]);
    assert!(all.arr().len() >= 60, "{}", all.arr().len());
    // Several at once.
    assert_eq!(
        c.call(&[
            "CONFIG",
            "SET",
            "maxmemory-policy",
            "ALLKEYS-LRU",
            "timeout",
            "30"
        ]),
        ok()
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "timeout"]),
        V::Arr(vec![bulk("timeout"), bulk("30")])
    );
    assert_eq!(
        c.call(&["CONFIG", "GET", "maxmemory-policy"]),
        V::Arr(vec![bulk("maxmemory-policy"), bulk("allkeys-lru")])
    );
    // RESP3: a map.
    c.call(&["HELLO", "3"]);
    assert_eq!(
        show(&c.raw(&["CONFIG", "GET", "timeout"])),
        "%1\r\n$7\r\ntimeout\r\n$2\r\n30\r\n"
    );
    c.call(&["HELLO", "2"]);
    // Errors, as Redis words them.
    let cases: &[(&[&str], &str)] = &[
        (&["CONFIG", "SET", "foo", "bar"], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&["CONFIG", "SET", "maxmemory", "abc"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
        (&["CONFIG", "SET", "maxmemory", "1", "hz"], "ERR syntax error"),
        (&["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter"),
        (&["CONFIG", "SET", "hz", "x"], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
        (&["CONFIG", "SET", "appendonly", "maybe"], "ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"),
        (&["CONFIG", "SET", "loglevel", "loud"], "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"),
        (&["CONFIG", "SET", "maxclients", "0"], "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"),
        (&["CONFIG", "SET", "timeout", "-1"], "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive"),
        (&["CONFIG", "SET", "save", "1 x"], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
        (&["CONFIG", "SET", "databases", "5"], "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
        (&["CONFIG", "SET", "dir", "/tmp"], "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
        (&["CONFIG", "SET", "DBFILENAME", "x.rdb"], "ERR CONFIG SET failed (possibly related to argument 'DBFILENAME') - can't set protected config"),
        (&["CONFIG", "SET", "proto-max-bulk-len", "10"], "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"),
        (&["CONFIG", "SET", "databases", "1", "foo", "2"], "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
        (&["CONFIG", "SET", "foo", "1", "databases", "2"], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
        (&["CONFIG", "SET", "HZ", "x"], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
        (&["CONFIG", "GET"], "ERR wrong number of arguments for 'config|get' command"),
        (&["CONFIG", "SET", "a"], "ERR wrong number of arguments for 'config|set' command"),
        (&["CONFIG", "RESETSTAT", "x"], "ERR wrong number of arguments for 'config|resetstat' command"),
        (&["CONFIG", "foo"], "ERR unknown subcommand 'foo'. Try CONFIG HELP."),
        (&["CONFIG"], "ERR wrong number of arguments for 'config' command"),
    ];
    for (req, want) in cases {
        assert_eq!(c.call(req), err(want), "{req:?}");
    }
    // A failed CONFIG SET changes nothing, not even the parameters before the bad one.
    assert_eq!(c.call(&["CONFIG", "SET", "timeout", "5", "hz", "x"]).clone(), err("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"));
    assert_eq!(
        c.call(&["CONFIG", "GET", "timeout"]),
        V::Arr(vec![bulk("timeout"), bulk("30")])
    );
    // The new value is in effect: proto-max-bulk-len refuses a bigger bulk.
    assert_eq!(
        c.call(&["CONFIG", "SET", "proto-max-bulk-len", "1mb"]),
        ok()
    );
    let mut big = C::new(&s);
    big.w
        .write_all(b"*2\r\n$4\r\nECHO\r\n$2000000\r\n")
        .unwrap();
    let mut b = Vec::new();
    big.read_raw(&mut b);
    assert_eq!(show(&b), "-ERR Protocol error: invalid bulk length\r\n");
    assert_eq!(c.call(&["CONFIG", "SET", "loglevel", "WARNING"]), ok());
    assert_eq!(
        c.call(&["CONFIG", "GET", "loglevel"]),
        V::Arr(vec![bulk("loglevel"), bulk("warning")])
    );
    let help = c.call(&["CONFIG", "HELP"]);
    assert_eq!(help.arr()[1].s(), "GET <pattern>");

    // Protected configs open up with enable-protected-configs.
    let s = Server::start(1, &["--enable-protected-configs", "yes"]);
    let mut c = C::new(&s);
    let dir = std::env::temp_dir().canonicalize().unwrap();
    let dir = dir.to_str().unwrap();
    assert_eq!(c.call(&["CONFIG", "SET", "dir", dir]), ok());
    assert_eq!(
        c.call(&["CONFIG", "GET", "dir"]),
        V::Arr(vec![bulk("dir"), bulk(dir)])
    );
    assert_eq!(c.call(&["CONFIG", "SET", "dbfilename", "x.rdb"]), ok());
}

#[test]
fn info_sections_and_stats() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = C::new(&s);
        for i in 0..50 {
            assert_eq!(c.call(&["SET", &format!("k{i}"), "v"]), ok());
        }
        for i in 0..10 {
            assert_eq!(c.call(&["EXPIRE", &format!("k{i}"), "100"]), V::Int(1));
        }
        assert_eq!(c.call(&["SELECT", "3"]), ok());
        assert_eq!(c.call(&["SET", "x", "y"]), ok());
        assert_eq!(c.call(&["SELECT", "0"]), ok());
        assert_eq!(c.call(&["GET", "k1"]), bulk("v"));
        assert_eq!(c.call(&["GET", "nokey"]), V::Nil);
        assert!(matches!(c.call(&["NOSUCHCOMMAND"]), V::Err(_)));
        assert!(matches!(c.call(&["GET"]), V::Err(_)));

        let raw = c.raw(&["INFO"]);
        {
            let mut r = s.raw();
            r.send(&b"PING\r\n".repeat(20_000));
            let _ = r.read_exact(7 * 20_000);
        }
        let text = c.call(&["INFO"]).s();
        assert!(show(&raw).starts_with('$'));
        let headers: Vec<&str> = text.split("\r\n").filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            headers,
            [
                "# Server",
                "# Clients",
                "# Memory",
                "# Persistence",
                "# Stats",
                "# Replication",
                "# CPU",
                "# Modules",
                "# Errorstats",
                "# Cluster",
                "# Keyspace"
            ]
        );
        // Every line ends in \r\n; sections are separated by an empty line.
        assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
        assert!(text.contains("\r\n\r\n# Clients\r\n"));
        assert_eq!(
            info_field(&text, "redis_version").as_deref(),
            Some("7.0.15")
        );
        assert_eq!(
            info_field(&text, "redis_mode").as_deref(),
            Some("standalone")
        );
        assert_eq!(info_field(&text, "tcp_port"), Some(s.port.to_string()));
        assert_eq!(info_field(&text, "process_id"), Some(s.pid().to_string()));
        assert_eq!(info_field(&text, "run_id").map(|r| r.len()), Some(40));
        assert_eq!(info_field(&text, "role").as_deref(), Some("master"));
        assert_eq!(info_field(&text, "connected_slaves").as_deref(), Some("0"));
        assert_eq!(
            info_field(&text, "master_repl_offset").as_deref(),
            Some("0")
        );
        let replid = info_field(&text, "master_replid").unwrap();
        assert!(replid.len() == 40 && replid.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(Some(replid), info_field(&text, "run_id"));
        assert_eq!(info_field(&text, "connected_clients").as_deref(), Some("1"));
        assert_eq!(
            info_field(&text, "rdb_bgsave_in_progress").as_deref(),
            Some("0")
        );
        assert_eq!(info_field(&text, "keyspace_hits").as_deref(), Some("1"));
        assert_eq!(info_field(&text, "keyspace_misses").as_deref(), Some("1"));
        assert_eq!(
            info_field(&text, "total_error_replies").as_deref(),
            Some("2")
        );
        assert_eq!(
            info_field(&text, "db0").as_deref(),
            Some("keys=50,expires=10,avg_ttl=0")
        );
        assert_eq!(
            info_field(&text, "db3").as_deref(),
            Some("keys=1,expires=0,avg_ttl=0")
        );
        assert_eq!(info_field(&text, "db1"), None);
        assert_eq!(
            info_field(&text, "errorstat_ERR").as_deref(),
            Some("count=2")
        );
        let used: u64 = info_field(&text, "used_memory").unwrap().parse().unwrap();
        assert!(used > 1 << 20, "{used}");
        assert!(info_field(&text, "used_memory_human")
            .unwrap()
            .ends_with('M'));
        let user: f64 = info_field(&text, "used_cpu_user").unwrap().parse().unwrap();
        let sys: f64 = info_field(&text, "used_cpu_sys").unwrap().parse().unwrap();
        // CPU time is accounted in ticks; the 20k PINGs above cost the server several.
        assert!(
            user >= 0.0 && sys >= 0.0 && user + sys > 0.0,
            "{user} {sys}"
        );
        let cmds: u64 = info_field(&text, "total_commands_processed")
            .unwrap()
            .parse()
            .unwrap();
        assert!(cmds >= 65, "{cmds}");
        assert_eq!(
            info_field(&text, "cmdstat_get"),
            None,
            "not a default section"
        );

        // Sections by name, in Redis's order whatever the order asked.
        let t = c.call(&["INFO", "keyspace", "SERVER"]).s();
        let headers: Vec<&str> = t.split("\r\n").filter(|l| l.starts_with('#')).collect();
        assert_eq!(headers, ["# Server", "# Keyspace"]);
        assert_eq!(c.call(&["INFO", "nosuch"]).s(), "");
        let t = c.call(&["INFO", "commandstats"]).s();
        let get = info_field(&t, "cmdstat_get").unwrap();
        assert!(get.starts_with("calls=2,usec="), "{get}");
        assert!(get.ends_with(",rejected_calls=1,failed_calls=0"), "{get}");
        assert!(info_field(&t, "cmdstat_set")
            .unwrap()
            .starts_with("calls=51,"));
        for all in ["all", "everything"] {
            let t = c.call(&["INFO", all]).s();
            assert!(t.contains("# Commandstats\r\n") && t.contains("# Keyspace\r\n"));
        }
        let t = c.call(&["INFO", "default", "commandstats"]).s();
        assert!(t.contains("# Commandstats\r\n") && t.contains("# Server\r\n"));

        // RESP3: verbatim text.
        c.call(&["HELLO", "3"]);
        let raw = show(&c.raw(&["INFO", "cluster"]));
        assert_eq!(raw, "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n");
        c.call(&["HELLO", "2"]);
        assert_eq!(
            show(&c.raw(&["INFO", "cluster"])),
            "$30\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
        );

        // CONFIG RESETSTAT clears the counters on every shard.
        assert_eq!(c.call(&["CONFIG", "RESETSTAT"]), ok());
        let t = c.call(&["INFO", "commandstats", "stats", "errorstats"]).s();
        assert_eq!(info_field(&t, "cmdstat_get"), None);
        assert_eq!(
            info_field(&t, "cmdstat_config")
                .as_deref()
                .map(|x| x.starts_with("calls=1,")),
            Some(true)
        );
        assert_eq!(info_field(&t, "keyspace_hits").as_deref(), Some("0"));
        assert_eq!(info_field(&t, "total_error_replies").as_deref(), Some("0"));
        assert_eq!(info_field(&t, "errorstat_ERR"), None);
    }
}

/// The id of the client on `c`.
fn id_of(c: &mut C) -> i64 {
    match c.call(&["CLIENT", "ID"]) {
        V::Int(i) => i,
        other => panic!("{other:?}"),
    }
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {line}"))
}

#[test]
fn client_id_name_info_list() {
    let s = Server::start(4, &[]);
    let mut c = C::new(&s);
    let id = id_of(&mut c);
    assert_eq!(
        c.call(&["CLIENT", "ID", "x"]),
        err("ERR wrong number of arguments for 'client|id' command")
    );
    assert_eq!(show(&c.raw(&["CLIENT", "GETNAME"])), "$-1\r\n");
    for bad in ["a b", "a\nb", "é", "x\u{7f}"] {
        assert_eq!(
            c.call(&["CLIENT", "SETNAME", bad]),
            err("ERR Client names cannot contain spaces, newlines or special characters.")
        );
    }
    assert_eq!(c.call(&["CLIENT", "SETNAME", "worker-1"]), ok());
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(c.call(&["SELECT", "5"]), ok());
    let info = c.call(&["CLIENT", "INFO"]).s();
    assert!(
        info.ends_with('\n') && info.matches('\n').count() == 1,
        "{info}"
    );
    let names: Vec<&str> = info
        .trim_end()
        .split(' ')
        .map(|f| f.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp"
        ]
    );
    assert_eq!(field(&info, "id"), id.to_string());
    assert_eq!(field(&info, "name"), "worker-1");
    assert_eq!(field(&info, "db"), "5");
    assert_eq!(field(&info, "flags"), "N");
    assert_eq!(field(&info, "cmd"), "client|info");
    assert_eq!(field(&info, "laddr"), format!("127.0.0.1:{}", s.port));
    assert_eq!(field(&info, "resp"), "2\n");
    // Setting an empty name clears it.
    assert_eq!(c.call(&["CLIENT", "SETNAME", ""]), ok());
    assert_eq!(c.call(&["CLIENT", "GETNAME"]), V::Nil);
    assert_eq!(c.call(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(c.call(&["CLIENT", "NO-TOUCH", "ON"]), ok());
    assert_eq!(field(&c.call(&["CLIENT", "INFO"]).s(), "flags"), "eT");
    assert_eq!(c.call(&["CLIENT", "NO-EVICT", "off"]), ok());
    assert_eq!(c.call(&["CLIENT", "NO-TOUCH", "off"]), ok());
    assert_eq!(
        c.call(&["CLIENT", "NO-EVICT", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(c.call(&["CLIENT", "SETINFO", "LIB-NAME", "redis-rs"]), ok());
    assert_eq!(c.call(&["CLIENT", "SETINFO", "lib-ver", "0.27.0"]), ok());
    assert_eq!(
        c.call(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        err("ERR lib-name cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(
        c.call(&["CLIENT", "SETINFO", "foo", "x"]),
        err("ERR Unrecognized option 'foo'")
    );
    assert_eq!(
        c.call(&["CLIENT", "foo"]),
        err("ERR unknown subcommand 'foo'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.call(&["CLIENT"]),
        err("ERR wrong number of arguments for 'client' command")
    );
    let help = c.call(&["CLIENT", "HELP"]);
    assert_eq!(
        help.arr()[0].s(),
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );

    // CLIENT LIST sees connections of every shard, ordered by id.
    let mut others: Vec<C> = (0..7).map(|_| C::new(&s)).collect();
    let mut ids = vec![id];
    for o in others.iter_mut() {
        ids.push(id_of(o));
    }
    let list = c.call(&["CLIENT", "LIST"]).s();
    let listed: Vec<i64> = list
        .lines()
        .map(|l| field(l, "id").parse().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    let first_other = list
        .lines()
        .find(|l| field(l, "id") == ids[1].to_string())
        .unwrap();
    assert_eq!(field(first_other, "cmd"), "client|id");
    let normal = c.call(&["CLIENT", "LIST", "TYPE", "normal"]).s();
    let normal: Vec<i64> = normal
        .lines()
        .map(|l| field(l, "id").parse().unwrap())
        .collect();
    assert_eq!(normal, sorted);
    assert_eq!(c.call(&["CLIENT", "LIST", "TYPE", "pubsub"]).s(), "");
    assert_eq!(
        c.call(&["CLIENT", "LIST", "TYPE", "foo"]),
        err("ERR Unknown client type 'foo'")
    );
    let by_id = c
        .call(&[
            "CLIENT",
            "LIST",
            "ID",
            &ids[3].to_string(),
            "99999",
            &ids[1].to_string(),
        ])
        .s();
    let got: Vec<i64> = by_id
        .lines()
        .map(|l| field(l, "id").parse().unwrap())
        .collect();
    assert_eq!(got, [ids[3], ids[1]]);
    assert_eq!(
        c.call(&["CLIENT", "LIST", "ID", "x"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(c.call(&["CLIENT", "LIST", "ID"]), err("ERR syntax error"));
    assert_eq!(
        c.call(&["CLIENT", "LIST", "TYPE", "normal", "ID", "1"]),
        err("ERR syntax error")
    );
    // RESP3: verbatim.
    c.call(&["HELLO", "3"]);
    assert!(show(&c.raw(&["CLIENT", "INFO"])).starts_with('='));
}

#[test]
fn client_kill_other_connections() {
    let s = Server::start(4, &[]);
    let mut c = C::new(&s);
    let mut others: Vec<C> = (0..8).map(|_| C::new(&s)).collect();
    let ids: Vec<i64> = others.iter_mut().map(id_of).collect();
    let addr: Vec<String> = others
        .iter_mut()
        .map(|o| field(&o.call(&["CLIENT", "INFO"]).s(), "addr").to_string())
        .collect();

    let cases: &[(&[&str], &str)] = &[
        (&["CLIENT", "KILL", "1.2.3.4:5"], "ERR No such client"),
        (
            &["CLIENT", "KILL", "ID", "x"],
            "ERR client-id should be greater than 0",
        ),
        (
            &["CLIENT", "KILL", "ID", "0"],
            "ERR client-id should be greater than 0",
        ),
        (&["CLIENT", "KILL", "ID", "1", "TYPE"], "ERR syntax error"),
        (&["CLIENT", "KILL", "foo", "bar"], "ERR syntax error"),
        (
            &["CLIENT", "KILL", "TYPE", "foo"],
            "ERR Unknown client type 'foo'",
        ),
        (&["CLIENT", "KILL", "SKIPME", "maybe"], "ERR syntax error"),
        (
            &["CLIENT", "KILL", "USER", "nobody"],
            "ERR No such user 'nobody'",
        ),
        (
            &["CLIENT", "KILL"],
            "ERR wrong number of arguments for 'client|kill' command",
        ),
    ];
    for (req, want) in cases {
        assert_eq!(c.call(req), err(want), "{req:?}");
    }
    assert_eq!(c.call(&["CLIENT", "KILL", "ID", "999999"]), V::Int(0));
    assert_eq!(c.call(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]), V::Int(0));
    assert_eq!(c.call(&["CLIENT", "KILL", "TYPE", "master"]), V::Int(0));

    // New form by id: that connection, whatever its shard, sees its next read fail.
    assert_eq!(
        c.call(&["CLIENT", "KILL", "ID", &ids[0].to_string()]),
        V::Int(1)
    );
    assert!(others[0].closed());
    assert_eq!(others[1].call(&["PING"]), bulk("PONG"));
    // Old form by address replies +OK.
    assert_eq!(c.call(&["CLIENT", "KILL", &addr[1]]), ok());
    assert!(others[1].closed());
    // ADDR and LADDR filters.
    assert_eq!(
        c.call(&[
            "CLIENT",
            "KILL",
            "ADDR",
            &addr[2],
            "LADDR",
            &format!("127.0.0.1:{}", s.port)
        ]),
        V::Int(1)
    );
    assert!(others[2].closed());
    assert_eq!(
        c.call(&[
            "CLIENT",
            "KILL",
            "ID",
            &ids[3].to_string(),
            "USER",
            "default",
            "TYPE",
            "normal"
        ]),
        V::Int(1)
    );
    assert!(others[3].closed());
    // Everyone else but the caller (SKIPME defaults to yes).
    assert_eq!(c.call(&["CLIENT", "KILL", "TYPE", "normal"]), V::Int(4));
    for o in others.iter_mut().skip(4) {
        assert!(o.closed());
    }
    assert_eq!(c.call(&["PING"]), bulk("PONG"));
    let list = c.call(&["CLIENT", "LIST"]).s();
    assert_eq!(list.lines().count(), 1, "{list}");
    // Killing itself: the reply comes first, then the connection closes.
    let me = id_of(&mut c);
    assert_eq!(
        c.call(&["CLIENT", "KILL", "ID", &me.to_string(), "SKIPME", "no"]),
        V::Int(1)
    );
    assert!(c.closed());
    let mut c = C::new(&s);
    let mine = field(&c.call(&["CLIENT", "INFO"]).s(), "addr").to_string();
    assert_eq!(c.call(&["CLIENT", "KILL", &mine]), ok());
    assert!(c.closed());
    let mut c = C::new(&s);
    assert_eq!(c.call(&["PING"]), bulk("PONG"));
}

#[test]
fn redis_cli_talks_to_us() {
    let s = Server::start(2, &[]);
    let Some(out) = redis_cli(s.port, &["PING"]) else {
        eprintln!("redis-cli not installed; skipping");
        return;
    };
    assert_eq!(out, "PONG\n");
    assert_eq!(redis_cli(s.port, &["-3", "PING"]).unwrap(), "PONG\n");
    assert_eq!(
        redis_cli(s.port, &["ECHO", "hello world"]).unwrap(),
        "hello world\n"
    );
    let info = redis_cli(s.port, &["INFO", "server"]).unwrap();
    assert!(
        info.starts_with("# Server\n") || info.starts_with("# Server\r\n"),
        "{info}"
    );
    assert!(info.contains("redis_version:7.0.15"));
    // RESP3 verbatim strings print as text.
    let info = redis_cli(s.port, &["-3", "INFO", "cluster"]).unwrap();
    assert!(info.contains("cluster_enabled:0"), "{info}");
    assert_eq!(
        redis_cli(s.port, &["CONFIG", "SET", "maxmemory", "100mb"]).unwrap(),
        "OK\n"
    );
    assert_eq!(
        redis_cli(s.port, &["CONFIG", "GET", "maxmemory"]).unwrap(),
        "maxmemory\n104857600\n"
    );
    let n = redis_cli(s.port, &["COMMAND", "COUNT"]).unwrap();
    let n: usize = n.trim().parse().unwrap();
    assert!(n >= 16);
    let list = redis_cli(s.port, &["-3", "CLIENT", "LIST"]).unwrap();
    assert!(list.contains("cmd=client|list"), "{list}");
    let hello = redis_cli(s.port, &["-3", "HELLO"]).unwrap();
    assert!(
        hello.contains("7.0.15") && hello.contains("standalone"),
        "{hello}"
    );
    assert_eq!(
        redis_cli(s.port, &["SELECT", "99"]).unwrap(),
        // redis-cli prints an error and an empty line, as with Redis.
        "ERR DB index is out of range\n\n"
    );
    // Interactive mode loads COMMAND DOCS for its hints and help; `help` prints from them.
    let help = std::process::Command::new("redis-cli")
        .args(["-p", &s.port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin.take().unwrap().write_all(b"help config set\n")?;
            ch.wait_with_output()
        })
        .unwrap();
    // Strip the terminal colours redis-cli adds.
    let mut text = String::new();
    let mut esc = false;
    for ch in show(&help.stdout).chars() {
        match ch {
            '\x1b' => esc = true,
            'm' if esc => esc = false,
            _ if esc => {}
            _ => text.push(ch),
        }
    }
    assert!(
        text.contains("CONFIG SET parameter value [parameter value ...]"),
        "{text}"
    );
    assert!(
        text.contains("summary: Set configuration parameters to the given values"),
        "{text}"
    );
}

#[test]
fn requirepass_gates_commands_until_auth() {
    let s = Server::start(2, &["--requirepass", "secret"]);
    let mut r = s.raw();
    r.roundtrip(b"GET a\r\n", b"-NOAUTH Authentication required.\r\n");
    r.roundtrip(
        b"AUTH wrong\r\n",
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    r.roundtrip(b"PING\r\n", b"-NOAUTH Authentication required.\r\n");
    r.roundtrip(b"AUTH default secret\r\n", b"+OK\r\n");
    r.roundtrip(b"SET a 1\r\nGET a\r\n", b"+OK\r\n$1\r\n1\r\n");
    let mut h = s.raw();
    h.roundtrip(
        b"HELLO 3 AUTH default secret\r\n",
        b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n",
    );
    let unprotected = Server::start(1, &[]);
    let mut open = unprotected.raw();
    open.roundtrip(
        b"AUTH x\r\n",
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
}
