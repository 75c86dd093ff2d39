//! Stream value speed: XADD-style appends, XRANGE / XREVRANGE with COUNT at
//! random positions, full scans and lookups by ID, on a 1M-entry stream of
//! two fields with 16-byte values. Before the benchmarks it prints the
//! memory taken per entry as the process sees it (resident set growth under
//! mimalloc, the server's allocator), next to redis-server 7.0.15's 45.1.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use shoal::storage::stream::{AddId, NodeLimits, Stream, StreamId};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ENTRIES: u64 = 1_000_000;
const START_MS: u64 = 1_700_000_000_000;

/// `n` entries `field1 <16 bytes> field2 <16 bytes>` with `*` IDs, 100 per
/// millisecond.
fn build(n: u64) -> Stream {
    let mut s = Stream::new();
    for i in 0..n {
        let v1 = format!("{i:016}");
        let v2 = format!("x{i:015}");
        let pairs: [&[u8]; 4] = [b"field1", v1.as_bytes(), b"field2", v2.as_bytes()];
        s.add(
            AddId::Auto,
            &pairs,
            START_MS + i / 100,
            NodeLimits::default(),
        )
        .expect("append");
    }
    s
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn report_memory() {
    let before = resident_bytes();
    let s = build(ENTRIES);
    let after = resident_bytes();
    let estimate = s.mem_usage() as f64 / ENTRIES as f64;
    if let (Some(a), Some(b)) = (before, after) {
        let rss = (b.saturating_sub(a)) as f64 / ENTRIES as f64;
        println!(
            "stream memory: {rss:.1} bytes/entry resident ({estimate:.1} by mem_usage); redis-server 7.0.15: 45.1"
        );
    }
    black_box(&s);
}

/// A random-looking existing ID (IDs are START_MS + i/100, sequence i%100).
fn id_at(i: u64) -> StreamId {
    StreamId::new(START_MS + i / 100, i % 100)
}

fn benches(c: &mut Criterion) {
    report_memory();

    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("add 10k (2 fields, 16-byte values)", |b| {
        let v: Vec<(String, String)> = (0..10_000)
            .map(|i| (format!("{i:016}"), format!("x{i:015}")))
            .collect();
        b.iter_batched(
            Stream::new,
            |mut s| {
                for (i, (v1, v2)) in v.iter().enumerate() {
                    let pairs: [&[u8]; 4] = [b"field1", v1.as_bytes(), b"field2", v2.as_bytes()];
                    s.add(
                        AddId::Auto,
                        &pairs,
                        START_MS + i as u64 / 100,
                        NodeLimits::default(),
                    )
                    .expect("append");
                }
                s
            },
            BatchSize::LargeInput,
        );
    });

    let s = build(ENTRIES);
    let mut k = 0x9E37_79B9u64;
    let mut next = move || {
        k ^= k << 13;
        k ^= k >> 7;
        k ^= k << 17;
        k % ENTRIES
    };
    for count in [1usize, 10, 100] {
        g.throughput(Throughput::Elements(count as u64));
        g.bench_function(format!("range count {count}"), |b| {
            b.iter(|| {
                let start = id_at(next());
                let n: usize = s
                    .range(start, StreamId::MAX)
                    .take(count)
                    .map(|e| e.fields().map(|(f, v)| f.len() + v.len()).sum::<usize>())
                    .sum();
                black_box(n)
            })
        });
        g.bench_function(format!("range_rev count {count}"), |b| {
            b.iter(|| {
                let end = id_at(next());
                let n: usize = s
                    .range_rev(StreamId::MIN, end)
                    .take(count)
                    .map(|e| e.fields().map(|(f, v)| f.len() + v.len()).sum::<usize>())
                    .sum();
                black_box(n)
            })
        });
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("get by id", |b| {
        b.iter(|| black_box(s.get(id_at(next())).map(|e| e.id)))
    });
    g.throughput(Throughput::Elements(ENTRIES));
    g.sample_size(10);
    g.bench_function("full scan 1M", |b| {
        b.iter(|| black_box(s.range(StreamId::MIN, StreamId::MAX).count()))
    });
    g.finish();
}

criterion_group!(stream, benches);
criterion_main!(stream);
