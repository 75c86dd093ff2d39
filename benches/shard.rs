//! The shard command path without networking: command lookup result + `Shard::execute` (stats,
//! handler, keyspace access, reply encoding), as a connection task runs it for a local key.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use shoal::protocol::{Out, Proto};
use shoal::runtime::shard::Shard;
use shoal::storage::now_ms;

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

fn cmd_index(name: &[u8]) -> usize {
    match shoal::commands::lookup(name) {
        Some((i, _)) => i,
        None => panic!(
            "command {} missing from the table",
            String::from_utf8_lossy(name)
        ),
    }
}

/// GET hit / GET miss / SET overwrite on a shard holding `nkeys` keys of 64-byte values.
/// 1k keys stay in cache (the cost of the code path); 1M keys mostly miss it, as a real
/// dataset does.
fn bench_keyspace(c: &mut Criterion, nkeys: usize) {
    let get = cmd_index(b"get");
    let set = cmd_index(b"set");
    let value = [b'v'; 64];
    let mut shard = Shard::new(0, 1);
    let mut out = Out::new(Proto::Resp2);
    let now = now_ms();

    let keys: Vec<Vec<u8>> = (0..nkeys).map(key).collect();
    for k in &keys {
        shard.execute(0, now, set, &[b"SET", k, &value], &mut out);
        out.buf.clear();
    }
    // Sanity: a hit returns the value, a miss the nil bulk (a broken path must not look fast).
    shard.execute(0, now, get, &[b"GET", &keys[1]], &mut out);
    assert_eq!(&out.buf[..5], b"$64\r\n");
    out.buf.clear();
    shard.execute(0, now, get, &[b"GET", b"nosuchkey"], &mut out);
    assert_eq!(out.buf, b"$-1\r\n");
    out.buf.clear();

    let label = if nkeys >= 1_000_000 {
        format!("{}M", nkeys / 1_000_000)
    } else {
        format!("{}k", nkeys / 1000)
    };
    let mut g = c.benchmark_group(format!("shard/{label}_keys"));
    // Stride through the keys by a prime so consecutive commands touch unrelated buckets.
    let mut i = 0usize;
    g.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % nkeys;
            shard.execute(0, now, get, &[b"GET", &keys[i]], &mut out);
            black_box(&out.buf);
            out.buf.clear();
        })
    });
    let misses: Vec<Vec<u8>> = (0..1024)
        .map(|i| format!("miss:{i:012}").into_bytes())
        .collect();
    let mut m = 0usize;
    g.bench_function("get_miss", |b| {
        b.iter(|| {
            m = (m + 1) & 1023;
            shard.execute(0, now, get, &[b"GET", &misses[m]], &mut out);
            black_box(&out.buf);
            out.buf.clear();
        })
    });
    g.bench_function("set_overwrite", |b| {
        b.iter(|| {
            i = (i + 7919) % nkeys;
            shard.execute(0, now, set, &[b"SET", &keys[i], &value], &mut out);
            black_box(&out.buf);
            out.buf.clear();
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    bench_keyspace(c, 1_000);
    bench_keyspace(c, 1_000_000);
}

criterion_group! {
    name = benches;
    // Small samples keep a full run to seconds; each iteration is well under a microsecond.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
