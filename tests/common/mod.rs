//! Test harness: starts the real `shoal` binary on a free port and connects real clients.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub port: u16,
    child: Child,
    pub dir: std::path::PathBuf,
    /// Whether dropping the server deletes `dir` (a dir passed to `start_in` is the caller's).
    remove_dir: bool,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Server {
    /// Starts shoal with `--shards n` and extra flags; waits until it answers PING.
    pub fn start(shards: usize, extra: &[&str]) -> Server {
        let dir =
            std::env::temp_dir().join(format!("shoal-test-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut s = Server::launch(&dir, None, None, shards, extra);
        s.remove_dir = true;
        s
    }

    /// As `start_in`, on a given port (a restarted master that its replicas reconnect to).
    pub fn start_in_port(
        dir: &std::path::Path,
        shards: usize,
        port: u16,
        extra: &[&str],
    ) -> Server {
        Server::launch(dir, None, Some(port), shards, extra)
    }

    /// Starts shoal with `--dir dir` (an existing directory, e.g. holding a dump.rdb to load);
    /// unlike `start`, dropping the server leaves `dir` in place.
    pub fn start_in(dir: &std::path::Path, shards: usize, extra: &[&str]) -> Server {
        Server::launch(dir, None, None, shards, extra)
    }

    /// As `start_in`, with the process's working directory set to `cwd` (so a relative `dir`
    /// is resolved against it).
    pub fn start_in_cwd(
        dir: &std::path::Path,
        cwd: &std::path::Path,
        shards: usize,
        extra: &[&str],
    ) -> Server {
        Server::launch(dir, Some(cwd), None, shards, extra)
    }

    fn launch(
        dir: &std::path::Path,
        cwd: Option<&std::path::Path>,
        fixed_port: Option<u16>,
        shards: usize,
        extra: &[&str],
    ) -> Server {
        let dir = dir.to_path_buf();
        for _ in 0..5 {
            let port = fixed_port.unwrap_or_else(free_port);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_shoal"));
            cmd.args(["--port", &port.to_string(), "--shards", &shards.to_string()])
                .args(["--dir", dir.to_str().unwrap_or(".")])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit());
            if let Some(cwd) = cwd {
                cmd.current_dir(cwd);
            }
            let mut child = cmd.spawn().expect("spawn shoal");
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port raced away; try another
                }
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    if s.write_all(b"PING\r\n").is_ok() {
                        // +PONG, or NOAUTH when started with --requirepass: either way, up.
                        let mut b = [0u8; 7];
                        if s.read_exact(&mut b).is_ok() && (&b == b"+PONG\r\n" || &b == b"-NOAUTH")
                        {
                            return Server {
                                port,
                                child,
                                dir,
                                remove_dir: false,
                            };
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("shoal did not start");
    }

    pub fn client(&self) -> redis::Client {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).expect("client")
    }

    pub fn conn(&self) -> redis::Connection {
        self.client().get_connection().expect("connect")
    }

    /// A raw TCP connection, for byte-exact protocol checks.
    pub fn raw(&self) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        Raw { s }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal and waits for the exit status.
    pub fn stop_with(&mut self, sig: i32) -> std::process::ExitStatus {
        unsafe {
            libc_kill(self.child.id() as i32, sig);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("shoal did not exit on signal {sig}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_wait() {
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL, as a crash: nothing is saved. Returns once the process is gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temp directory removed on drop, for tests that restart shoal on the same --dir.
pub struct TestDir(pub std::path::PathBuf);

impl TestDir {
    pub fn new(tag: &str) -> TestDir {
        let p = std::env::temp_dir().join(format!(
            "shoal-{tag}-{}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TestDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn file(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How a start that was expected to fail went.
pub struct FailedStart {
    pub status: std::process::ExitStatus,
    /// stdout and stderr together (the log goes to stdout unless --logfile).
    pub output: String,
    /// Whether it answered PING on its port at any point before exiting.
    pub served: bool,
}

/// Spawns shoal expecting it to exit by itself within 30 s (a bad file, a bad flag); panics if
/// it is still running then.
pub fn start_expecting_failure(
    dir: &std::path::Path,
    shards: usize,
    extra: &[&str],
) -> FailedStart {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["--port", &port.to_string(), "--shards", &shards.to_string()])
        .args(["--dir", dir.to_str().unwrap_or(".")])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shoal");
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut served = false;
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shoal kept running; expected it to fail at start-up");
        }
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut b = [0u8; 7];
            if s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut b).is_ok() {
                served = true;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut output = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    output.push_str(&String::from_utf8_lossy(&err.join().unwrap_or_default()));
    FailedStart {
        status,
        output,
        served,
    }
}

extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub struct Raw {
    pub s: TcpStream,
}

impl Raw {
    pub fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).expect("write");
    }

    /// Reads until exactly `n` bytes arrived.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut b = vec![0u8; n];
        self.s.read_exact(&mut b).expect("read");
        b
    }

    /// Sends `req` and expects exactly `want` back.
    pub fn roundtrip(&mut self, req: &[u8], want: &[u8]) {
        self.send(req);
        let got = self.read_exact(want.len());
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want),
            "request {:?}",
            String::from_utf8_lossy(req)
        );
    }

    /// Reads until the peer closes; returns everything read.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let _ = self.s.read_to_end(&mut v);
        v
    }
}

/// Encodes a command as a RESP multibulk.
pub fn resp(args: &[&[u8]]) -> Vec<u8> {
    let mut v = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        v.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        v.extend_from_slice(a);
        v.extend_from_slice(b"\r\n");
    }
    v
}

/// Runs `redis-cli` against the server with the given args; returns stdout. None if redis-cli
/// is not installed (scripts/test.sh installs it).
pub fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes `n` keys `{prefix}{i}` into database `db` with SETs pipelined over one raw connection
/// (far faster than one round trip per key). Each value is `value_len` bytes derived from the
/// key, so a reader can tell a wrong value from a right one. Panics on any reply but +OK.
pub fn bulk_set(port: u16, db: usize, prefix: &str, n: usize, value_len: usize) {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let mut w = s.try_clone().expect("clone");
    let prefix = prefix.to_string();
    let writer = std::thread::spawn(move || {
        let mut buf = resp(&[b"SELECT", db.to_string().as_bytes()]);
        for i in 0..n {
            let key = format!("{prefix}{i}");
            let val = bulk_value(&key, value_len);
            buf.extend_from_slice(&resp(&[b"SET", key.as_bytes(), &val]));
            if buf.len() > 1 << 20 {
                w.write_all(&buf).expect("write");
                buf.clear();
            }
        }
        w.write_all(&buf).expect("write");
    });
    let mut r = std::io::BufReader::with_capacity(1 << 16, s);
    let mut want = n + 1;
    let mut chunk = vec![0u8; 5 * 4096];
    while want > 0 {
        let k = want.min(4096);
        r.read_exact(&mut chunk[..5 * k]).expect("read");
        for (j, reply) in chunk[..5 * k].chunks(5).enumerate() {
            assert_eq!(
                reply,
                b"+OK\r\n",
                "reply {} of a bulk load",
                n + 1 - want + j
            );
        }
        want -= k;
    }
    writer.join().expect("writer");
}

/// The value `bulk_set` stores under `key`.
pub fn bulk_value(key: &str, len: usize) -> Vec<u8> {
    key.bytes()
        .chain(b"|".iter().copied())
        .cycle()
        .take(len)
        .collect()
}

/// Every key of every database: (db, key) -> (value, PTTL at read time).
pub type Dataset = std::collections::BTreeMap<(usize, Vec<u8>), (Vec<u8>, i64)>;

/// Reads the whole keyspace (all 16 databases) of the server on `port`. Only strings: a GET
/// error panics.
pub fn dataset(port: u16) -> Dataset {
    let mut c = redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .expect("client")
        .get_connection()
        .expect("connect");
    let mut all = Dataset::new();
    for db in 0..16usize {
        redis::cmd("SELECT")
            .arg(db)
            .query::<()>(&mut c)
            .expect("select");
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).expect("keys");
        for part in keys.chunks(5000) {
            let mut p = redis::pipe();
            for k in part {
                p.cmd("GET").arg(k).cmd("PTTL").arg(k);
            }
            let got: Vec<redis::Value> = p.query(&mut c).expect("get/pttl");
            for (k, pair) in part.iter().zip(got.chunks(2)) {
                let v = match &pair[0] {
                    redis::Value::BulkString(b) => b.clone(),
                    other => panic!("GET {:?} in db {db}: {other:?}", String::from_utf8_lossy(k)),
                };
                let ttl = match &pair[1] {
                    redis::Value::Int(t) => *t,
                    other => panic!("PTTL: {other:?}"),
                };
                all.insert((db, k.clone()), (v, ttl));
            }
        }
    }
    all
}

/// Asserts two reads of a keyspace hold the same keys and values, and TTLs that agree: `after`
/// was read at most `elapsed_ms` later than `before`, so its PTTL may be lower by that much
/// (plus a little slack for the reads themselves), never higher.
pub fn assert_same_dataset(before: &Dataset, after: &Dataset, elapsed_ms: i64) {
    let show = |k: &(usize, Vec<u8>)| format!("db {} key {:?}", k.0, String::from_utf8_lossy(&k.1));
    for k in before.keys() {
        assert!(after.contains_key(k), "missing after: {}", show(k));
    }
    for k in after.keys() {
        assert!(before.contains_key(k), "unexpected after: {}", show(k));
    }
    for (k, (v, ttl)) in before {
        let (v2, ttl2) = &after[k];
        assert!(
            v == v2,
            "value of {} differs: {} bytes before, {} after",
            show(k),
            v.len(),
            v2.len()
        );
        if *ttl < 0 {
            assert_eq!(ttl, ttl2, "TTL of {}", show(k));
        } else {
            assert!(
                *ttl2 <= *ttl + 5 && *ttl2 >= ttl - elapsed_ms - 1000,
                "PTTL of {}: {ttl} before, {ttl2} after, {elapsed_ms} ms apart",
                show(k)
            );
        }
    }
}

/// One field of INFO (any section), as a string; panics if absent.
pub fn info_field(c: &mut redis::Connection, name: &str) -> String {
    let info: String = redis::cmd("INFO").arg("everything").query(c).expect("info");
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .unwrap_or_else(|| panic!("INFO has no {name}"))
        .trim()
        .to_string()
}

// --- Data sets shared by the persistence tests -----------------------------------------------

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub fn cmd(c: &mut redis::Connection, args: &[&[u8]]) -> redis::RedisResult<redis::Value> {
    let mut k = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        k.arg(*a);
    }
    k.query(c)
}

pub fn ok(c: &mut redis::Connection, args: &[&[u8]]) {
    let r = cmd(c, args).unwrap_or_else(|e| panic!("{:?}: {e}", show_args(args)));
    assert!(
        matches!(r, redis::Value::Okay),
        "{:?}: {r:?}",
        show_args(args)
    );
}

pub fn show_args(args: &[&[u8]]) -> Vec<String> {
    args.iter()
        .map(|a| String::from_utf8_lossy(&a[..a.len().min(40)]).into_owned())
        .collect()
}

pub fn select(c: &mut redis::Connection, db: usize) {
    ok(c, &[b"SELECT", db.to_string().as_bytes()]);
}

/// A deterministic, incompressible byte string (xorshift).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The strings of every encoding Redis distinguishes (int of each width, embstr, raw, LZF-able,
/// incompressible, binary, empty), tagged with `db` so a value landing in the wrong database
/// shows.
pub fn string_zoo(db: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut v: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let ints = [
        "0",
        "-1",
        "1",
        "127",
        "-128",
        "128",
        "255",
        "256",
        "-129",
        "32767",
        "-32768",
        "32768",
        "-32769",
        "65535",
        "2147483647",
        "-2147483648",
        "2147483648",
        "-2147483649",
        "9223372036854775807",
        "-9223372036854775808",
        // Not integers Redis would encode as such: 20 digits, leading zero, sign, spaces...
        "12345678901234567890",
        "-1234567890123456789",
        "18446744073709551615",
        "9223372036854775808",
        "-9223372036854775809",
        "007",
        "-0",
        "+5",
        " 5",
        "5 ",
        "3.14",
        "1e3",
        "0x10",
    ];
    for (i, n) in ints.iter().enumerate() {
        v.push((format!("int:{db}:{i}").into_bytes(), n.as_bytes().to_vec()));
    }
    v.push((
        format!("dbnum:{db}").into_bytes(),
        db.to_string().into_bytes(),
    ));
    v.push((
        format!("short:{db}").into_bytes(),
        format!("hello {db}").into_bytes(),
    ));
    // LZF is only tried above 20 bytes.
    v.push((
        format!("len20:{db}").into_bytes(),
        vec![b'a' + db as u8; 20],
    ));
    v.push((
        format!("len21:{db}").into_bytes(),
        vec![b'a' + db as u8; 21],
    ));
    v.push((format!("len44:{db}").into_bytes(), vec![b'z'; 44]));
    v.push((format!("len45:{db}").into_bytes(), noise(45, db as u64 + 1)));
    let big: Vec<u8> = format!("db{db}-shoal-rdb-")
        .bytes()
        .cycle()
        .take(100 * 1024)
        .collect();
    v.push((format!("big:{db}").into_bytes(), big));
    v.push((
        format!("noise:{db}").into_bytes(),
        noise(100 * 1024, 77 + db as u64),
    ));
    v.push((
        format!("bin:{db}").into_bytes(),
        b"\0\r\n\xff\x00a\r\nb\n\r\0".to_vec(),
    ));
    v.push((format!("empty:{db}").into_bytes(), Vec::new()));
    v.push((Vec::new(), format!("the empty key of db {db}").into_bytes()));
    let mut binkey = b"k\0\r\n\xff".to_vec();
    binkey.extend_from_slice(format!("binkey{db}").as_bytes());
    v.push((binkey, b"binary key".to_vec()));
    // Enough ordinary keys that every shard holds some of each database.
    for i in 0..100 {
        v.push((
            format!("k:{db}:{i}").into_bytes(),
            format!("{i}").into_bytes(),
        ));
    }
    v
}

/// Fills all 16 databases with `string_zoo` plus keys with TTLs; returns the names of the keys
/// given a short PX (`short_px` ms) that will have expired after a restart.
pub fn fill_zoo(c: &mut redis::Connection, short_px: u64) -> Vec<(usize, Vec<u8>)> {
    let mut short = Vec::new();
    for db in 0..16 {
        select(c, db);
        for (k, v) in string_zoo(db) {
            ok(c, &[b"SET", &k, &v]);
        }
        ok(
            c,
            &[
                b"SET",
                format!("ttl:ex:{db}").as_bytes(),
                b"v",
                b"EX",
                b"1000",
            ],
        );
        ok(
            c,
            &[
                b"SET",
                format!("ttl:px:{db}").as_bytes(),
                b"12345",
                b"PX",
                b"5000000",
            ],
        );
        let at = (now_ms() + 3_600_000).to_string();
        ok(
            c,
            &[
                b"SET",
                format!("ttl:pxat:{db}").as_bytes(),
                &[b'x'; 300],
                b"PXAT",
                at.as_bytes(),
            ],
        );
        let r = cmd(c, &[b"EXPIRE", format!("int:{db}:3").as_bytes(), b"700"]).unwrap();
        assert_eq!(r, redis::Value::Int(1));
        let r = cmd(
            c,
            &[b"PEXPIREAT", format!("big:{db}").as_bytes(), at.as_bytes()],
        )
        .unwrap();
        assert_eq!(r, redis::Value::Int(1));
    }
    // Last, so they are still there when the caller saves right after.
    for db in [0, 5, 10, 15] {
        select(c, db);
        let k = format!("gone:{db}").into_bytes();
        ok(
            c,
            &[
                b"SET",
                &k,
                b"soon gone",
                b"PX",
                short_px.to_string().as_bytes(),
            ],
        );
        short.push((db, k));
    }
    select(c, 0);
    short
}

// ---- key routing, computed here independently of shoal's code ---------------------------------

/// CRC16/XMODEM, as Redis Cluster's key slots use it.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// shoal's shard of a key: the Redis Cluster slot (hashtag honoured), slots split evenly.
pub fn shard_of(key: &str, shards: usize) -> usize {
    let b = key.as_bytes();
    let mut hashed = b;
    if let Some(open) = b.iter().position(|&c| c == b'{') {
        if let Some(len) = b[open + 1..].iter().position(|&c| c == b'}') {
            if len > 0 {
                hashed = &b[open + 1..open + 1 + len];
            }
        }
    }
    (crc16(hashed) as usize % 16384) * shards / 16384
}

// ---- raw RESP replies ------------------------------------------------------------------------

/// One whole reply (nested aggregates, RESP3 types included), as raw bytes.
pub fn read_reply(r: &mut impl std::io::BufRead) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    r.read_until(b'\n', &mut raw)?;
    if !raw.ends_with(b"\r\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("bad reply line {:?}", String::from_utf8_lossy(&raw)),
        ));
    }
    let n: i64 = std::str::from_utf8(&raw[1..raw.len() - 2])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    match raw[0] {
        b'$' | b'=' | b'!' if n >= 0 => {
            let mut b = vec![0u8; n as usize + 2];
            r.read_exact(&mut b)?;
            raw.extend(b);
        }
        b'*' | b'~' | b'>' | b'%' | b'|' if n > 0 => {
            let count = if matches!(raw[0], b'%' | b'|') {
                2 * n
            } else {
                n
            };
            for _ in 0..count {
                raw.extend(read_reply(r)?);
            }
        }
        _ => {}
    }
    Ok(raw)
}

// ---- a real redis-server, for differential tests ---------------------------------------------

/// Whether redis-server is on PATH; prints a note when it is not (the caller then skips the
/// comparison with Redis).
pub fn have_redis_server() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        println!("note: redis-server not on PATH; skipping the comparison with Redis");
    }
    found
}

/// A real redis-server on a free port, never saving by itself; killed on drop.
pub struct RedisServer {
    pub port: u16,
    /// Its --dir: a save writes its file here.
    pub dir: std::path::PathBuf,
    child: Child,
    /// Whether dropping the server deletes `dir` (a dir passed to `start_in` is the caller's).
    remove_dir: bool,
}

impl RedisServer {
    /// Starts redis-server in a private temp dir (removed on drop) with extra configuration
    /// arguments; None (after a note) when redis-server is not installed.
    pub fn start(extra: &[&str]) -> Option<RedisServer> {
        if !have_redis_server() {
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "shoal-test-redis-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("redis-server dir");
        let mut r = RedisServer::launch(&dir, "dump.rdb", extra);
        r.remove_dir = true;
        Some(r)
    }

    /// Starts redis-server on `dir`/`dbfilename` (loading that file if present); dropping the
    /// server leaves `dir` in place. None (after a note) when redis-server is not installed.
    pub fn start_in(
        dir: &std::path::Path,
        dbfilename: &str,
        extra: &[&str],
    ) -> Option<RedisServer> {
        if !have_redis_server() {
            return None;
        }
        Some(RedisServer::launch(dir, dbfilename, extra))
    }

    fn launch(dir: &std::path::Path, dbfilename: &str, extra: &[&str]) -> RedisServer {
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .args(["--dir", dir.to_str().expect("utf-8 dir")])
                .args(["--dbfilename", dbfilename])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn redis-server");
            // Loading a big file takes a while.
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken meanwhile; try another
                }
                if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut b = [0u8; 7];
                    // While loading, Redis answers -LOADING: keep polling until +PONG.
                    if s.write_all(b"PING\r\n").is_ok()
                        && s.read_exact(&mut b).is_ok()
                        && &b == b"+PONG\r\n"
                    {
                        return RedisServer {
                            port,
                            dir: dir.to_path_buf(),
                            child,
                            remove_dir: false,
                        };
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("redis-server did not start on {}", dir.display());
    }

    pub fn conn(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .expect("client")
            .get_connection()
            .expect("connect to redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
