mod common;
use common::Server;

#[test]
fn set_get_on_every_shard_count() {
    for shards in [1, 4] {
        let s = Server::start(shards, &[]);
        let mut c = s.conn();
        for i in 0..200 {
            let _: () = redis::cmd("SET")
                .arg(format!("k{i}"))
                .arg(i)
                .query(&mut c)
                .unwrap();
        }
        for i in 0..200 {
            let v: i64 = redis::cmd("GET")
                .arg(format!("k{i}"))
                .query(&mut c)
                .unwrap();
            assert_eq!(v, i);
        }
        let n: i64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 200);
    }
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    use std::io::Read;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let s = Server::start(2, &["--timeout", "1"]);
    let mut idle = s.raw();
    idle.s
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    idle.roundtrip(b"PING\r\n", b"+PONG\r\n");
    // A busy client keeps talking meanwhile; it must survive.
    let done = Arc::new(AtomicBool::new(false));
    let busy = {
        let mut c = s.conn();
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let v: String = redis::cmd("PING").query(&mut c).unwrap();
                assert_eq!(v, "PONG");
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })
    };
    let start = std::time::Instant::now();
    let mut b = [0u8; 16];
    let n = idle
        .s
        .read(&mut b)
        .expect("idle client closed within the read timeout");
    assert_eq!(n, 0, "idle client got data instead of EOF");
    // Closed after the timeout, not before.
    assert!(start.elapsed() >= std::time::Duration::from_millis(900));
    done.store(true, Ordering::Relaxed);
    busy.join().expect("busy client was closed too");
}

#[test]
fn info_reports_instantaneous_ops() {
    let s = Server::start(2, &[]);
    let mut c = s.conn();
    let field = |c: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("stats").query(c).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("instantaneous_ops_per_sec:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("instantaneous_ops_per_sec")
    };
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(600) {
        let mut p = redis::pipe();
        for i in 0..100 {
            p.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
        }
        let _: () = p.query(&mut c).unwrap();
    }
    assert!(field(&mut c) > 0, "no rate while commands were running");
}

#[test]
fn client_kill_closes_a_client_that_stopped_reading() {
    use std::io::{Read, Write};
    let s = Server::start(1, &[]);
    let mut c = s.conn();
    let big = vec![b'x'; 1 << 20];
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&big)
        .query(&mut c)
        .unwrap();
    let mut stuck = s.raw();
    stuck.roundtrip(b"CLIENT SETNAME stuck\r\n", b"+OK\r\n");
    // 64 MiB of replies the client does not read: the server's write blocks.
    let mut req = Vec::new();
    for _ in 0..64 {
        req.extend_from_slice(b"GET big\r\n");
    }
    stuck.s.write_all(&req).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut c).unwrap();
    let id = list
        .lines()
        .find(|l| l.contains("name=stuck "))
        .and_then(|l| l.strip_prefix("id="))
        .and_then(|l| l.split(' ').next())
        .expect("stuck client listed")
        .to_string();
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query(&mut c)
        .unwrap();
    assert_eq!(killed, 1);
    // The kill interrupts the blocked write: the client reads what was already in the socket
    // buffers, then EOF, far short of the 64 MiB it asked for.
    let mut got = Vec::new();
    stuck.s.read_to_end(&mut got).unwrap();
    assert!(
        got.len() < 32 << 20,
        "server kept writing after the kill: {} bytes",
        got.len()
    );
}
