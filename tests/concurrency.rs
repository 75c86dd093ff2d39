//! Many clients at once against --shards 4: per-client consistency, exact shared counters,
//! atomicity of multi-key commands whose keys live on different shards, SIGTERM with clients
//! connected, and a second server on a taken port.

mod common;
use common::{crc16, resp, shard_of, Server};

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SHARDS: usize = 4;

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

#[test]
fn crc16_matches_redis_cluster_keyslot() {
    // CLUSTER KEYSLOT values from a real Redis.
    assert_eq!(crc16(b"123456789"), 0x31C3);
    assert_eq!(crc16(b"foo") % 16384, 12182);
    assert_eq!(crc16(b"bar") % 16384, 5061);
}

#[test]
fn many_clients_keep_their_own_keys_and_exact_counters() {
    const THREADS: u64 = 32;
    const OPS: usize = 500;
    const COUNTERS: u64 = 8;
    let s = Server::start(SHARDS, &[]);
    // Own keys and counters cover every shard.
    let covered: std::collections::HashSet<usize> = (0..COUNTERS)
        .map(|c| shard_of(&format!("ctr{c}"), SHARDS))
        .collect();
    assert_eq!(covered.len(), SHARDS, "counters should span all shards");
    let client = s.client();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || -> Vec<i64> {
                let mut c = client.get_connection().expect("connect");
                let mut rng = Rng(0x1234_5678_9abc_def0 ^ ((t + 1) * 0x9e37_79b9));
                let mut model: HashMap<String, i64> = HashMap::new();
                let mut incrs = vec![0i64; COUNTERS as usize];
                for op in 0..OPS {
                    let key = format!("t{t}:k{}", rng.below(16));
                    match rng.below(10) {
                        0..=2 => {
                            let v = rng.below(1_000_000) as i64 - 500_000;
                            let r: String = redis::cmd("SET")
                                .arg(&key)
                                .arg(v)
                                .query(&mut c)
                                .expect("SET");
                            assert_eq!(r, "OK");
                            model.insert(key, v);
                        }
                        3 | 4 => {
                            let r: Option<i64> =
                                redis::cmd("GET").arg(&key).query(&mut c).expect("GET");
                            assert_eq!(
                                r,
                                model.get(&key).copied(),
                                "thread {t} op {op}: GET {key}"
                            );
                        }
                        5 | 6 => {
                            let r: i64 = redis::cmd("INCR").arg(&key).query(&mut c).expect("INCR");
                            let want = model.get(&key).copied().unwrap_or(0) + 1;
                            assert_eq!(r, want, "thread {t} op {op}: INCR {key}");
                            model.insert(key, want);
                        }
                        7 => {
                            let r: i64 = redis::cmd("DEL").arg(&key).query(&mut c).expect("DEL");
                            assert_eq!(
                                r,
                                model.remove(&key).is_some() as i64,
                                "thread {t} op {op}: DEL {key}"
                            );
                        }
                        _ => {
                            let ctr = rng.below(COUNTERS);
                            let _: i64 = redis::cmd("INCR")
                                .arg(format!("ctr{ctr}"))
                                .query(&mut c)
                                .expect("INCR ctr");
                            incrs[ctr as usize] += 1;
                        }
                    }
                }
                // Final state of this thread's keys, in one MGET spanning shards.
                let keys: Vec<String> = (0..16).map(|j| format!("t{t}:k{j}")).collect();
                let vals: Vec<Option<i64>> =
                    redis::cmd("MGET").arg(&keys).query(&mut c).expect("MGET");
                for (k, v) in keys.iter().zip(vals) {
                    assert_eq!(v, model.get(k).copied(), "thread {t}: final MGET {k}");
                }
                incrs
            })
        })
        .collect();
    let mut totals = vec![0i64; COUNTERS as usize];
    for th in threads {
        let incrs = th.join().expect("client thread failed");
        for (t, n) in totals.iter_mut().zip(incrs) {
            *t += n;
        }
    }
    let mut c = s.conn();
    for (i, want) in totals.iter().enumerate() {
        let got: Option<i64> = redis::cmd("GET")
            .arg(format!("ctr{i}"))
            .query(&mut c)
            .expect("GET ctr");
        assert_eq!(got.unwrap_or(0), *want, "counter ctr{i}");
    }
    assert!(totals.iter().sum::<i64>() > 1000);
}

/// Three keys, one per shard (checked), for multi-key commands that need the coordinator.
fn keys_on_different_shards() -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut used = Vec::new();
    for i in 0.. {
        let k = format!("atom{i}");
        let sh = shard_of(&k, SHARDS);
        if !used.contains(&sh) {
            used.push(sh);
            keys.push(k);
            if keys.len() == 3 {
                break;
            }
        }
    }
    keys
}

#[test]
fn multi_shard_mset_is_atomic_for_mget() {
    let s = Server::start(SHARDS, &[]);
    let keys = keys_on_different_shards();
    let shards: Vec<usize> = keys.iter().map(|k| shard_of(k, SHARDS)).collect();
    assert!(
        shards[0] != shards[1] && shards[1] != shards[2] && shards[0] != shards[2],
        "{keys:?} {shards:?}"
    );
    let done = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let (client, keys, done, written) =
            (s.client(), keys.clone(), done.clone(), written.clone());
        std::thread::spawn(move || {
            let mut c = client.get_connection().expect("connect");
            let start = Instant::now();
            let mut i = 0u64;
            while start.elapsed() < Duration::from_millis(2000) {
                i += 1;
                if i.is_multiple_of(16) {
                    // A multi-shard DEL must be atomic too.
                    let n: i64 = redis::cmd("DEL").arg(&keys).query(&mut c).expect("DEL");
                    assert_eq!(n, 3, "DEL of three existing keys");
                } else {
                    let _: () = redis::cmd("MSET")
                        .arg(&keys[0])
                        .arg(i)
                        .arg(&keys[1])
                        .arg(i)
                        .arg(&keys[2])
                        .arg(i)
                        .query(&mut c)
                        .expect("MSET");
                }
                written.store(i, Ordering::SeqCst);
            }
            done.store(true, Ordering::SeqCst);
            i
        })
    };
    let readers: Vec<_> = (0..4)
        .map(|r| {
            let (client, keys, done) = (s.client(), keys.clone(), done.clone());
            std::thread::spawn(move || {
                let mut c = client.get_connection().expect("connect");
                let (mut reads, mut last) = (0u64, 0u64);
                while !done.load(Ordering::SeqCst) {
                    let v: Vec<Option<u64>> =
                        redis::cmd("MGET").arg(&keys).query(&mut c).expect("MGET");
                    assert!(
                        v[0] == v[1] && v[1] == v[2],
                        "reader {r}: MGET saw a half-applied write: {v:?}"
                    );
                    if let Some(x) = v[0] {
                        assert!(x >= last, "reader {r}: value went back from {last} to {x}");
                        last = x;
                    }
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    let n = writer.join().expect("writer failed");
    let reads: u64 = readers
        .into_iter()
        .map(|r| r.join().expect("reader failed"))
        .sum();
    assert!(
        n > 100 && reads > 100,
        "too little work: {n} writes, {reads} reads"
    );
    let mut c = s.conn();
    let v: Vec<Option<u64>> = redis::cmd("MGET").arg(&keys).query(&mut c).expect("MGET");
    let want = if n % 16 == 0 { None } else { Some(n) };
    assert_eq!(
        v,
        vec![want; 3],
        "after {} writes",
        written.load(Ordering::SeqCst)
    );
}

/// Racing MSETNX over keys on three shards: exactly one client wins each round, and the keys
/// hold the winner's value, never a mix.
#[test]
fn racing_multi_shard_msetnx_has_one_winner() {
    const RACERS: usize = 8;
    const ROUNDS: usize = 40;
    let s = Server::start(SHARDS, &[]);
    let keys = keys_on_different_shards();
    let barrier = Arc::new(std::sync::Barrier::new(RACERS + 1));
    let racers: Vec<_> = (0..RACERS)
        .map(|t| {
            let (client, keys, barrier) = (s.client(), keys.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut c = client.get_connection().expect("connect");
                let mut won = Vec::new();
                for _ in 0..ROUNDS {
                    barrier.wait();
                    let n: i64 = redis::cmd("MSETNX")
                        .arg(&keys[0])
                        .arg(t)
                        .arg(&keys[1])
                        .arg(t)
                        .arg(&keys[2])
                        .arg(t)
                        .query(&mut c)
                        .expect("MSETNX");
                    assert!(n == 0 || n == 1, "MSETNX replied {n}");
                    won.push(n == 1);
                    barrier.wait();
                }
                won
            })
        })
        .collect();
    let mut c = s.conn();
    let mut winners_per_round: Vec<Vec<usize>> = vec![Vec::new(); ROUNDS];
    let mut values = Vec::new();
    for _ in 0..ROUNDS {
        barrier.wait(); // start
        barrier.wait(); // all done
        let v: Vec<Option<usize>> = redis::cmd("MGET").arg(&keys).query(&mut c).expect("MGET");
        values.push(v);
        let _: i64 = redis::cmd("DEL").arg(&keys).query(&mut c).expect("DEL");
    }
    for (t, r) in racers.into_iter().enumerate() {
        for (round, won) in r.join().expect("racer failed").into_iter().enumerate() {
            if won {
                winners_per_round[round].push(t);
            }
        }
    }
    for (round, (w, v)) in winners_per_round.iter().zip(values).enumerate() {
        assert_eq!(w.len(), 1, "round {round}: winners {w:?}");
        assert_eq!(
            v,
            vec![Some(w[0]); 3],
            "round {round}: keys hold a mix, winner {}",
            w[0]
        );
    }
}

#[test]
fn sigterm_exits_zero_quickly_with_clients_connected() {
    let mut s = Server::start(SHARDS, &[]);
    let mut idle = Vec::new();
    for i in 0..8 {
        let mut c = TcpStream::connect(("127.0.0.1", s.port)).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5))).ok();
        c.write_all(&resp(&[b"SET", format!("sig{i}").as_bytes(), b"v"]))
            .expect("write");
        let mut b = [0u8; 5];
        c.read_exact(&mut b).expect("read");
        assert_eq!(&b, b"+OK\r\n");
        if i % 2 == 0 {
            // Half a command in flight.
            c.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$100\r\nabc")
                .expect("write");
        }
        idle.push(c);
    }
    // Clients busy with requests while the signal arrives.
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let (client, stop) = (s.client(), stop.clone());
            std::thread::spawn(move || {
                let Ok(mut c) = client.get_connection() else {
                    return;
                };
                while !stop.load(Ordering::SeqCst) {
                    if redis::cmd("INCR").arg("busy").query::<i64>(&mut c).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let t0 = Instant::now();
    let status = s.stop_with(15);
    let took = t0.elapsed();
    stop.store(true, Ordering::SeqCst);
    for b in busy {
        let _ = b.join();
    }
    assert_eq!(
        status.code(),
        Some(0),
        "exit status after SIGTERM: {status:?}"
    );
    assert!(took < Duration::from_secs(3), "SIGTERM took {took:?}");
    // Connected clients see their connection closed.
    for mut c in idle {
        let mut b = [0u8; 64];
        match c.read(&mut b) {
            Ok(0) | Err(_) => {}
            Ok(n) => panic!(
                "unexpected data after shutdown: {:?}",
                String::from_utf8_lossy(&b[..n])
            ),
        }
    }
}

#[test]
fn second_server_on_same_port_fails_with_exit_1() {
    let s = Server::start(2, &[]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_shoal"))
        .args(["--port", &s.port.to_string(), "--shards", "2", "--save", ""])
        .args(["--dir", s.dir.to_str().unwrap_or(".")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shoal");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Ok(Some(st)) = child.try_wait() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("second server on a taken port kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut text);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    assert_eq!(status.code(), Some(1), "exit status; output: {text}");
    assert!(
        text.contains("Address already in use") || text.contains("address already in use"),
        "output: {text}"
    );
    // The first server is unharmed.
    let mut c = s.conn();
    let pong: String = redis::cmd("PING").query(&mut c).expect("PING");
    assert_eq!(pong, "PONG");
}
