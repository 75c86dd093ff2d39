//! Request parser throughput: a 16-command RESP pipeline (what a pipelining client sends in
//! one read) and inline commands (what telnet-style clients and redis-benchmark's PING_INLINE send).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use shoal::protocol::{parse, Limits, ParsedCommands};

/// Encodes one command as a RESP multibulk request.
fn resp(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// 16 commands, alternating SET key:N <64-byte value> and GET key:N.
fn pipeline() -> Vec<u8> {
    let value = [b'x'; 64];
    let mut buf = Vec::new();
    for i in 0..16 {
        let key = format!("key:{:012}", i * 7919);
        if i % 2 == 0 {
            resp(&mut buf, &[b"SET", key.as_bytes(), &value]);
        } else {
            resp(&mut buf, &[b"GET", key.as_bytes()]);
        }
    }
    buf
}

/// Runs `parse` over `buf` and checks it took every command (a broken parser must not look fast).
fn run(c: &mut Criterion, name: &str, buf: &[u8], commands: usize) {
    let limits = Limits::default();
    let mut parsed = ParsedCommands::default();
    let (used, err) = parse(buf, &limits, &mut parsed);
    assert_eq!(
        (used, err, parsed.commands.len()),
        (buf.len(), None, commands),
        "{name}"
    );

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(commands as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            parsed.clear();
            let r = parse(black_box(buf), &limits, &mut parsed);
            black_box(r);
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    run(c, "pipeline_16_set_get", &pipeline(), 16);
    run(c, "inline_ping", b"PING\r\n", 1);
    run(c, "inline_set", b"SET key:000000001234 somevalue\r\n", 1);
    run(
        c,
        "inline_quoted",
        b"SET \"key with spaces\" 'single \\' quoted' \"esc\\x41\\n\"\r\n",
        1,
    );
    let mut many = Vec::new();
    for i in 0..16 {
        many.extend_from_slice(format!("GET key:{i:012}\r\n").as_bytes());
    }
    run(c, "inline_pipeline_16_get", &many, 16);
}

criterion_group! {
    name = benches;
    // Small samples keep a full run to seconds; the loops are nanoseconds long.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
