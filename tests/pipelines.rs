//! Stress checks of the connection loop: read-buffer compaction/growth with commands split at
//! random byte boundaries, and pipeline fan-out reply reassembly across shards.

mod common;
use common::{resp, Server};
use std::collections::HashMap;
use std::io::{Read, Write};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn bulk(v: &[u8]) -> Vec<u8> {
    let mut o = format!("${}\r\n", v.len()).into_bytes();
    o.extend_from_slice(v);
    o.extend_from_slice(b"\r\n");
    o
}

/// Builds a random pipeline and the exact reply stream a single Redis would produce.
fn pipeline(seed: u64, n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut r = Lcg(seed);
    let mut model: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    let (mut req, mut want) = (Vec::new(), Vec::new());
    for i in 0..n {
        let key = format!("k{}", r.below(40)).into_bytes();
        match r.below(6) {
            0 | 1 => {
                // Sizes around the 16 KiB read buffer and well past it.
                let len = match r.below(4) {
                    0 => r.below(20) as usize,
                    1 => 16 * 1024 - 40 + r.below(80) as usize,
                    2 => r.below(70_000) as usize,
                    _ => r.below(300) as usize,
                };
                let v: Vec<u8> = (0..len).map(|j| b'a' + ((i + j) % 26) as u8).collect();
                req.extend(resp(&[b"SET", &key, &v]));
                want.extend_from_slice(b"+OK\r\n");
                model.insert(key, v);
            }
            2 | 3 => {
                req.extend(resp(&[b"GET", &key]));
                match model.get(&key) {
                    Some(v) => want.extend(bulk(v)),
                    None => want.extend_from_slice(b"$-1\r\n"),
                }
            }
            4 => {
                req.extend(resp(&[b"DEL", &key]));
                let n = model.remove(&key).is_some() as u8;
                want.extend(format!(":{n}\r\n").into_bytes());
            }
            _ => {
                // A cross-shard command in the middle of the segment.
                let k2 = format!("k{}", r.below(40)).into_bytes();
                req.extend(resp(&[b"MSET", &key, b"m1", &k2, b"m2"]));
                want.extend_from_slice(b"+OK\r\n");
                model.insert(key, b"m1".to_vec());
                model.insert(k2, b"m2".to_vec());
            }
        }
    }
    (req, want)
}

fn run_split(shards: usize, seed: u64) {
    let s = Server::start(shards, &[]);
    let (req, want) = pipeline(seed, 400);
    let mut raw = s.raw();
    raw.s
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .ok();
    let mut reader = raw.s.try_clone().expect("clone");
    let expected = want.len();
    let t = std::thread::spawn(move || {
        let mut got = vec![0u8; expected];
        reader.read_exact(&mut got).map(|_| got)
    });
    // Random chunk sizes so commands straddle reads, compactions and buffer growth.
    let mut r = Lcg(seed ^ 0x5555);
    let mut at = 0;
    while at < req.len() {
        let n = (1 + r.below(40_000) as usize).min(req.len() - at);
        raw.s.write_all(&req[at..at + n]).expect("write");
        at += n;
        if r.below(4) == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    let got = t.join().expect("reader").expect("read replies");
    if got != want {
        let p = got.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "replies differ at byte {p}: got {:?} want {:?}",
            String::from_utf8_lossy(&got[p.saturating_sub(40)..(p + 80).min(got.len())]),
            String::from_utf8_lossy(&want[p.saturating_sub(40)..(p + 80).min(want.len())])
        );
    }
}

#[test]
fn split_pipelines_one_shard() {
    for seed in 1..4 {
        run_split(1, seed);
    }
}

#[test]
fn split_pipelines_four_shards() {
    for seed in 1..4 {
        run_split(4, seed);
    }
}
