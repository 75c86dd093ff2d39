//! shoal replicating shoal: a master with 1 and then 5 replicas (different shard counts), writes
//! of every kind on every shard, WAIT, GETACK offsets, a chained replica, replicas restarted and
//! a master restarted from its RDB. Datasets are compared key by key through DUMP (same bytes for
//! the same value) and PTTL.

mod common;
use common::{Server, TestDir};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

type Snapshot = BTreeMap<(usize, Vec<u8>), (Vec<u8>, i64)>;

fn conn(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/"))
        .unwrap()
        .get_connection()
        .unwrap()
}

fn info(port: u16, field: &str) -> String {
    let text: String = redis::cmd("INFO")
        .arg("everything")
        .query(&mut conn(port))
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Every key of every db: DUMP payload and PTTL.
fn snapshot(port: u16) -> Snapshot {
    let mut c = conn(port);
    let mut all = Snapshot::new();
    for db in 0..16usize {
        redis::cmd("SELECT").arg(db).query::<()>(&mut c).unwrap();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
        for k in keys {
            let kind: String = redis::cmd("TYPE").arg(&k).query(&mut c).unwrap();
            if kind == "stream" {
                // A stream's DUMP holds consumers' seen-times, which a replica sets when it
                // applies the master's XCLAIMs (so they differ by a few ms, in Redis too):
                // compare its entries and its groups' state instead.
                let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
                let range: redis::Value = redis::cmd("XRANGE")
                    .arg(&k)
                    .arg("-")
                    .arg("+")
                    .query(&mut c)
                    .unwrap();
                let groups: redis::Value = redis::cmd("XINFO")
                    .arg("GROUPS")
                    .arg(&k)
                    .query(&mut c)
                    .unwrap();
                // entries-read (and lag, derived from it) are not carried by the XCLAIMs a group
                // read propagates, in Redis 7.0.15 either: its replicas show them empty.
                let mut flat = Vec::new();
                flatten(&groups, &mut flat);
                let mut kept = Vec::new();
                let mut skip = false;
                for w in flat {
                    if skip {
                        skip = false;
                        continue;
                    }
                    skip = w == "entries-read" || w == "lag";
                    if !skip {
                        kept.push(w);
                    }
                }
                let len: i64 = redis::cmd("XLEN").arg(&k).query(&mut c).unwrap();
                all.insert(
                    (db, k),
                    (format!("{range:?}{kept:?}{len}").into_bytes(), ttl),
                );
                continue;
            }
            let dump: Option<Vec<u8>> = redis::cmd("DUMP").arg(&k).query(&mut c).unwrap();
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
            if let Some(d) = dump {
                all.insert((db, k), (d, ttl));
            }
        }
    }
    all
}

fn flatten(v: &redis::Value, out: &mut Vec<String>) {
    match v {
        redis::Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        redis::Value::Map(pairs) => pairs.iter().for_each(|(a, b)| {
            flatten(a, out);
            flatten(b, out);
        }),
        redis::Value::BulkString(b) => out.push(String::from_utf8_lossy(b).into_owned()),
        other => out.push(format!("{other:?}")),
    }
}

fn assert_same(master: &Snapshot, replica: &Snapshot, what: &str) {
    let keys = |s: &Snapshot| s.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(master), keys(replica), "{what}: different keys");
    for (k, (d, ttl)) in master {
        let (d2, ttl2) = &replica[k];
        assert!(
            d == d2,
            "{what}: value of {:?} in db {} differs",
            String::from_utf8_lossy(&k.1),
            k.0
        );
        assert_eq!(
            *ttl < 0,
            *ttl2 < 0,
            "{what}: TTL of {:?}",
            String::from_utf8_lossy(&k.1)
        );
        assert!((ttl - ttl2).abs() < 2000, "{what}: PTTL {ttl} vs {ttl2}");
    }
}

fn wait_until(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn caught_up(master: u16, replica: u16) -> bool {
    let m = info(master, "master_repl_offset");
    info(replica, "master_link_status") == "up" && info(replica, "slave_repl_offset") == m
}

fn run(c: &mut redis::Connection, line: &str) -> redis::Value {
    let mut cmd = redis::cmd(line.split(' ').next().unwrap());
    for a in line.split(' ').skip(1) {
        cmd.arg(a);
    }
    cmd.query(c).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Writes of every kind shoal has, on keys spread over every shard.
fn write_everything(c: &mut redis::Connection, round: usize) {
    for i in 0..200 {
        run(c, &format!("SET k{round}:{i} v{i}"));
    }
    for line in [
        "SET plain hello",
        "SET withttl v EX 1000",
        "SET pxttl v PX 900000",
        "SETEX sx 500 v",
        "PSETEX psx 500000 v",
        "INCR counter",
        "INCRBY counter 41",
        "INCRBYFLOAT fl 1.5",
        "APPEND plain ,world",
        "SETRANGE plain 0 J",
        "SETBIT bits 77 1",
        "MSET {a}m 1 {b}m 2 {c}m 3 {d}m 4",
        "MSETNX {a}n 1 {b}n 2",
        "DEL k0:1 k0:2 nosuchkey",
        "EXPIRE k0:3 1000",
        "PEXPIRE k0:4 999000",
        "EXPIREAT k0:5 4102444800",
        "PERSIST withttl",
        "RENAME k0:6 {z}renamed",
        "COPY plain copied",
        "GETDEL k0:7",
        "GETEX k0:8 PX 700000",
        "GETSET k0:9 swapped",
        "SETNX k0:10 nope",
        "XADD st 1-1 f v",
        "XADD st * f w",
        "XADD {b}st MAXLEN 2 * a 1",
        "XADD {b}st MAXLEN 2 * a 2",
        "XADD {b}st MAXLEN 2 * a 3",
        "XGROUP CREATE st g 0",
        "XREADGROUP GROUP g c COUNT 1 STREAMS st >",
        "XACK st g 1-1",
        "XGROUP CREATECONSUMER st g c2",
        "XTRIM st MAXLEN 5",
        "XDEL st 1-1",
        "SELECT 3",
        "SET in3 x",
        "SET also3 y EX 100",
        "SELECT 5",
        "SET gone z",
        "FLUSHDB",
        "SELECT 0",
    ] {
        if round > 0 && (line.starts_with("XGROUP CREATE ") || line.contains("1-1")) {
            continue;
        }
        run(c, &line.replace("k0:", &format!("k{round}:")));
    }
    // A transaction on several shards arrives whole.
    redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("{a}tx")
        .arg(round)
        .cmd("INCR")
        .arg("{b}tx")
        .cmd("DEL")
        .arg("{c}m")
        .query::<()>(c)
        .unwrap();
}

#[test]
fn one_then_five_replicas_get_every_write_and_wait_counts_them() {
    let master = Server::start(4, &[]);
    let mut m = conn(master.port);
    let mport = master.port.to_string();
    let first = Server::start(1, &["--replicaof", &format!("127.0.0.1 {mport}")]);
    wait_until(10, "the first replica's link", || {
        caught_up(master.port, first.port)
    });
    write_everything(&mut m, 0);
    wait_until(10, "the first replica to catch up", || {
        caught_up(master.port, first.port)
    });
    assert_same(
        &snapshot(master.port),
        &snapshot(first.port),
        "replica 1 of 1",
    );

    // Four more, of other shard counts: full syncs of a dataset with data in it.
    let mut replicas = vec![first];
    for shards in [3, 2, 4, 1] {
        replicas.push(Server::start(
            shards,
            &["--replicaof", &format!("127.0.0.1 {mport}")],
        ));
    }
    write_everything(&mut m, 1);
    for r in &replicas {
        wait_until(15, "every replica to catch up", || {
            caught_up(master.port, r.port)
        });
    }
    let want = snapshot(master.port);
    for (i, r) in replicas.iter().enumerate() {
        assert_same(&want, &snapshot(r.port), &format!("replica {i} of 5"));
    }
    assert_eq!(info(master.port, "connected_slaves"), "5");

    // WAIT: every replica acknowledges the last write; the offsets they report are exact.
    run(&mut m, "SET {d}last 1");
    let t = Instant::now();
    let acked: i64 = redis::cmd("WAIT").arg(5).arg(5000).query(&mut m).unwrap();
    assert_eq!(acked, 5);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "WAIT took {:?}",
        t.elapsed()
    );
    // WAIT sent REPLCONF GETACK * (37 bytes of the stream); each replica answered with the
    // offset of everything before it, exactly.
    let getack = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n".len() as u64;
    let offset: u64 = info(master.port, "master_repl_offset").parse().unwrap();
    for i in 0..5 {
        let line = info(master.port, &format!("slave{i}"));
        assert!(
            line.contains(&format!("offset={},", offset - getack)),
            "slave{i}:{line} (master offset {offset}, GETACK {getack} bytes)"
        );
    }
    // Their periodic ACK (every second) then covers the GETACK too.
    wait_until(5, "ACKs of the whole stream", || {
        (0..5)
            .all(|i| info(master.port, &format!("slave{i}")).contains(&format!("offset={offset},")))
    });
    // Nothing to wait for: the count at once.
    let n: i64 = redis::cmd("WAIT").arg(0).arg(0).query(&mut m).unwrap();
    assert_eq!(n, 5);
    // One replica gone: WAIT 5 times out, within a few ms of its timeout, with 4.
    drop(replicas.pop());
    wait_until(10, "the master to notice", || {
        info(master.port, "connected_slaves") == "4"
    });
    run(&mut m, "SET {a}after 1");
    let t = Instant::now();
    let acked: i64 = redis::cmd("WAIT").arg(5).arg(300).query(&mut m).unwrap();
    let took = t.elapsed();
    assert_eq!(acked, 4);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(450),
        "WAIT 5 300 took {took:?}"
    );
    // Replicas refuse clients' writes.
    let mut r = conn(replicas[0].port);
    let e = redis::cmd("SET")
        .arg("x")
        .arg("1")
        .query::<()>(&mut r)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("You can't write against a read only replica."),
        "{e}"
    );
}

#[test]
fn a_chained_replica_gets_the_stream_through_its_master() {
    let master = Server::start(2, &[]);
    let mid = Server::start(3, &["--replicaof", &format!("127.0.0.1 {}", master.port)]);
    let leaf = Server::start(1, &["--replicaof", &format!("127.0.0.1 {}", mid.port)]);
    let mut m = conn(master.port);
    write_everything(&mut m, 0);
    wait_until(15, "the chain to catch up", || {
        caught_up(master.port, mid.port) && caught_up(mid.port, leaf.port)
    });
    let want = snapshot(master.port);
    assert_same(&want, &snapshot(mid.port), "middle replica");
    assert_same(&want, &snapshot(leaf.port), "replica of the replica");
    // The chain carries the master's history: one replication ID, one offset.
    assert_eq!(
        info(mid.port, "master_replid"),
        info(master.port, "master_replid")
    );
    assert_eq!(
        info(leaf.port, "master_replid"),
        info(master.port, "master_replid")
    );
}

#[test]
fn restarted_replicas_catch_up_and_a_restarted_master_means_full_resync() {
    let dir = TestDir::new("repl-restart");
    let mut master = Server::start_in(dir.path(), 3, &["--save", ""]);
    let mport = master.port;
    let of = format!("127.0.0.1 {mport}");
    let mut replica = Server::start(2, &["--replicaof", &of]);
    let mut m = conn(mport);
    write_everything(&mut m, 0);
    wait_until(10, "the replica", || caught_up(mport, replica.port));

    // Replica killed; the master goes on; a new replica process catches up.
    replica.kill9();
    write_everything(&mut m, 1);
    let replica = Server::start(2, &["--replicaof", &of]);
    wait_until(15, "the restarted replica", || {
        caught_up(mport, replica.port)
    });
    assert_same(
        &snapshot(mport),
        &snapshot(replica.port),
        "restarted replica",
    );

    // The master saves and restarts from its RDB with a new replication ID: the replica
    // reconnects and must resync in full.
    run(&mut m, "SAVE");
    let want = snapshot(mport);
    let old_id = info(mport, "master_replid");
    master.kill9();
    let master = Server::start_in_port(dir.path(), 3, mport, &["--save", ""]);
    assert_ne!(info(master.port, "master_replid"), old_id);
    let mut m = conn(master.port);
    run(&mut m, "SET after:restart 1");
    wait_until(20, "the replica after the master's restart", || {
        caught_up(master.port, replica.port)
    });
    assert_eq!(info(master.port, "sync_full"), "1");
    let mut want = want;
    want.insert(
        (0, b"after:restart".to_vec()),
        snapshot(master.port)[&(0, b"after:restart".to_vec())].clone(),
    );
    assert_same(
        &want,
        &snapshot(replica.port),
        "replica after the master restarted",
    );
}
