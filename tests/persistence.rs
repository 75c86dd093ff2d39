//! RDB persistence against the real binary: SAVE/BGSAVE/LASTSAVE, save points, saving on
//! SHUTDOWN and SIGTERM, loading at start-up (and refusing corrupt files), BGSAVE's
//! point-in-time view under concurrent writes, and crash safety of the file being replaced.
//!
//! Every test passes `--save ""` unless it tests save points or the default, so nothing saves
//! behind its back.

mod common;
use common::{
    assert_same_dataset, bulk_set, bulk_value, dataset, fill_zoo, info_field, now_ms, ok, resp,
    select, start_expecting_failure, Server, TestDir,
};

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NO_SAVE: &[&str] = &["--save", ""];

/// Polls `f` every 10 ms until it holds; panics with `what` after `timeout`.
fn wait_for(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn saves(c: &mut redis::Connection) -> u64 {
    info_field(c, "rdb_saves").parse().unwrap()
}

fn in_progress(c: &mut redis::Connection) -> bool {
    info_field(c, "rdb_bgsave_in_progress") == "1"
}

/// Temp files a save in progress writes next to the dump.
fn temp_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("temp-") && n.ends_with(".rdb"))
        .collect()
}

/// Reads one reply from a raw connection: status/error/integer lines whole (with their type
/// byte), bulk strings as their contents.
fn read_reply(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).expect("read reply");
    let line = line.trim_end_matches("\r\n").to_string();
    if let Some(n) = line.strip_prefix('$') {
        let n: i64 = n.parse().expect("bulk length");
        if n < 0 {
            return "(nil)".into();
        }
        let mut b = vec![0u8; n as usize + 2];
        std::io::Read::read_exact(r, &mut b).expect("bulk");
        b.truncate(n as usize);
        return String::from_utf8_lossy(&b).into_owned();
    }
    line
}

/// Whether `redis-check-rdb` accepts `file`; None when it is not installed.
fn check_rdb(file: &std::path::Path) -> Option<(bool, String)> {
    let out = std::process::Command::new("redis-check-rdb")
        .arg(file)
        .output()
        .ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success() && text.contains("RDB looks OK!"), text))
}

#[test]
fn round_trip_every_string_encoding_all_dbs_and_ttls() {
    let dir = TestDir::new("rdb-roundtrip");
    let mut s = Server::start_in(dir.path(), 3, NO_SAVE);
    let mut c = s.conn();
    let short = fill_zoo(&mut c, 1500);
    let set_at = Instant::now();
    ok(&mut c, &[b"SAVE"]);
    let before = dataset(s.port);
    let read_at = Instant::now();
    for (db, k) in &short {
        let ttl = before[&(*db, k.clone())].1;
        assert!(ttl > 0, "gone:{db} expired before the save");
    }
    assert_eq!(saves(&mut c), 1);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(dir.file("dump.rdb").exists());
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    s.kill9();

    // The short-lived keys expire while the server is down: they are not loaded.
    std::thread::sleep(Duration::from_millis(1600).saturating_sub(set_at.elapsed()));
    let mut expected = before.clone();
    for (db, k) in &short {
        assert!(expected.remove(&(*db, k.clone())).is_some());
    }
    for shards in [3, 1, 4] {
        let s = Server::start_in(dir.path(), shards, NO_SAVE);
        let after = dataset(s.port);
        assert_same_dataset(&expected, &after, read_at.elapsed().as_millis() as i64);
        let mut c = s.conn();
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_loaded"),
            expected.len().to_string(),
            "with {shards} shards"
        );
        assert_eq!(
            info_field(&mut c, "rdb_last_load_keys_expired"),
            short.len().to_string()
        );
        // A read across shards sees the loaded keys too.
        select(&mut c, 4);
        let r: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg("short:4")
            .arg("int:4:0")
            .arg("len21:4")
            .query(&mut c)
            .unwrap();
        assert_eq!(
            r,
            vec![
                Some(b"hello 4".to_vec()),
                Some(b"0".to_vec()),
                Some(vec![b'e'; 21])
            ]
        );
    }

    // The file passes Redis's own checker.
    match check_rdb(&dir.file("dump.rdb")) {
        None => eprintln!("note: redis-check-rdb not on PATH; skipping the check of the file"),
        Some((good, text)) => assert!(good, "redis-check-rdb refused shoal's file:\n{text}"),
    }
}

#[test]
fn bgsave_schedule_lastsave_and_info_fields() {
    let dir = TestDir::new("rdb-bgsave");
    let mut s = Server::start_in(dir.path(), 2, NO_SAVE);
    bulk_set(s.port, 0, "bg:", 300_000, 100);
    let mut c = s.conn();
    assert_eq!(saves(&mut c), 0);
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "0");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_time_sec"), "-1");
    let changes: u64 = info_field(&mut c, "rdb_changes_since_last_save")
        .parse()
        .unwrap();
    assert!(changes >= 300_000, "rdb_changes_since_last_save {changes}");
    let t0: u64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    // LASTSAVE has a resolution of a second: let one pass, so a save must move it.
    wait_for(Duration::from_secs(3), "the next second", || {
        now_ms() / 1000 > t0
    });

    // One write of four commands: the later ones reach the server while the first save runs.
    let mut raw = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut req = resp(&[b"BGSAVE"]);
    req.extend(resp(&[b"BGSAVE"]));
    req.extend(resp(&[b"BGSAVE", b"SCHEDULE"]));
    req.extend(resp(&[b"INFO", b"persistence"]));
    raw.write_all(&req).unwrap();
    let mut r = BufReader::new(raw.try_clone().unwrap());
    assert_eq!(read_reply(&mut r), "+Background saving started");
    assert_eq!(
        read_reply(&mut r),
        "-ERR Background save already in progress"
    );
    assert_eq!(read_reply(&mut r), "+Background saving scheduled");
    let info = read_reply(&mut r);
    assert!(
        info.contains("rdb_bgsave_in_progress:1\r\n"),
        "INFO during the save:\n{info}"
    );
    // The save's progress, while it runs: never more keys than there are. (The total is known
    // once every shard has passed the barrier; before that it reads 0.)
    let mut seen_total = false;
    wait_for(Duration::from_secs(60), "both saves", || {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        let field = |name: &str| -> u64 {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name} in {info}"))
        };
        let (total, processed) = (
            field("current_save_keys_total:"),
            field("current_save_keys_processed:"),
        );
        if field("rdb_bgsave_in_progress:") == 1 {
            if total != 0 {
                assert_eq!(total, 300_000, "current_save_keys_total");
                assert!(processed <= total, "{processed} of {total} keys saved");
                seen_total = true;
            }
        } else {
            assert_eq!((total, processed), (0, 0));
        }
        field("rdb_saves:") >= 2 && field("rdb_bgsave_in_progress:") == 0
    });
    eprintln!("saw current_save_keys_total while saving: {seen_total}");
    assert_eq!(saves(&mut c), 2);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_ne!(info_field(&mut c, "rdb_last_bgsave_time_sec"), "-1");
    assert_eq!(info_field(&mut c, "rdb_current_bgsave_time_sec"), "-1");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    let t1: u64 = redis::cmd("LASTSAVE").query(&mut c).unwrap();
    assert!(t1 > t0, "LASTSAVE {t0} -> {t1}");
    assert_eq!(info_field(&mut c, "rdb_last_save_time"), t1.to_string());
    assert!(temp_files(dir.path()).is_empty());

    // Writes after the save count again.
    for i in 0..5 {
        ok(&mut c, &[b"SET", format!("after:{i}").as_bytes(), b"x"]);
    }
    wait_for(Duration::from_secs(3), "changes since the save", || {
        info_field(&mut c, "rdb_changes_since_last_save") == "5"
    });

    // With no save running, BGSAVE SCHEDULE starts one at once.
    let r: String = redis::cmd("BGSAVE").arg("SCHEDULE").query(&mut c).unwrap();
    assert_eq!(r, "Background saving started");
    wait_for(Duration::from_secs(60), "the third save", || {
        saves(&mut c) == 3 && !in_progress(&mut c)
    });
    let e = redis::cmd("BGSAVE")
        .arg("NOW")
        .query::<String>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("syntax error"), "{e}");

    s.kill9();
    let s = Server::start_in(dir.path(), 2, NO_SAVE);
    let mut c = s.conn();
    let n: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 300_005);
    let v: Vec<u8> = redis::cmd("GET").arg("bg:299999").query(&mut c).unwrap();
    assert_eq!(v, bulk_value("bg:299999", 100));
}

/// Hash tags whose keys live on four different shards of a 4-shard server.
fn tags_on_each_shard(nshards: usize) -> Vec<String> {
    (0..nshards)
        .map(|want| {
            (0..)
                .map(|i| format!("t{i}"))
                .find(|t| shoal::runtime::slot::key_shard(t.as_bytes(), nshards) == want)
                .unwrap()
        })
        .collect()
}

#[test]
fn bgsave_is_point_in_time_across_shards_under_writes() {
    const SHARDS: usize = 4;
    const WRITERS: usize = 3;
    let dir = TestDir::new("rdb-consistency");
    let mut s = Server::start_in(dir.path(), SHARDS, NO_SAVE);
    // Filler, so the save takes long enough for writes to land while it runs.
    bulk_set(s.port, 0, "fill:", 300_000, 100);

    let tags = tags_on_each_shard(SHARDS);
    let keys_of = |w: usize| -> Vec<String> {
        tags.iter()
            .map(|t| format!("pair{{{t}}}:{w}"))
            .collect::<Vec<_>>()
    };
    // Each writer's keys span every shard; each MSET sets them all to its counter.
    let stop = Arc::new(AtomicBool::new(false));
    let in_flight: Arc<Vec<AtomicU64>> =
        Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (stop, in_flight, acked) = (stop.clone(), in_flight.clone(), acked.clone());
            let keys = keys_of(w);
            let mut c = s.conn();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    in_flight[w].store(n, Ordering::SeqCst);
                    let mut m = redis::cmd("MSET");
                    for k in &keys {
                        m.arg(k).arg(n);
                    }
                    m.query::<()>(&mut c).expect("MSET during a save");
                    acked[w].store(n, Ordering::SeqCst);
                }
            })
        })
        .collect();
    wait_for(Duration::from_secs(10), "writers to start", || {
        acked.iter().all(|a| a.load(Ordering::SeqCst) >= 20)
    });

    let mut c = s.conn();
    // Acked before BGSAVE was sent: in the snapshot. Started after its reply: not in it.
    let lo: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    let r: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(r, "Background saving started");
    let hi: Vec<u64> = in_flight.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    let at_start: u64 = acked.iter().map(|a| a.load(Ordering::SeqCst)).sum();
    wait_for(Duration::from_secs(60), "the save", || !in_progress(&mut c));
    let during = acked.iter().map(|a| a.load(Ordering::SeqCst)).sum::<u64>() - at_start;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(saves(&mut c), 1);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // The server kept serving writes that span every shard while the save ran.
    assert!(during > 0, "no MSET completed during the save");
    let final_n: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    s.kill9();

    let s = Server::start_in(dir.path(), SHARDS, NO_SAVE);
    let mut c = s.conn();
    let n: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
    assert_eq!(n, 300_000 + (WRITERS * SHARDS) as u64);
    let mut behind = 0;
    for w in 0..WRITERS {
        let vals: Vec<u64> = redis::cmd("MGET").arg(keys_of(w)).query(&mut c).unwrap();
        assert!(
            vals.iter().all(|v| *v == vals[0]),
            "writer {w}: keys of one MSET differ in the snapshot: {vals:?}"
        );
        assert!(
            vals[0] >= lo[w] && vals[0] <= hi[w],
            "writer {w}: snapshot holds {}, outside [{}, {}] (the writes around the BGSAVE)",
            vals[0],
            lo[w],
            hi[w]
        );
        behind += u64::from(vals[0] < final_n[w]);
    }
    // The file holds the barrier's view, not the end of the save's.
    assert!(
        behind > 0,
        "{during} MSETs during the save, none missing from it"
    );
}

#[test]
fn sigkill_during_bgsave_leaves_the_previous_file() {
    let dir = TestDir::new("rdb-crash");
    let good = {
        let mut s = Server::start_in(dir.path(), 2, NO_SAVE);
        bulk_set(s.port, 3, "good:", 2000, 30);
        let mut c = s.conn();
        ok(&mut c, &[b"SAVE"]);
        let d = dataset(s.port);
        s.kill9();
        d
    };
    let good_file = std::fs::read(dir.file("dump.rdb")).unwrap();
    let mut interrupted = 0;
    for delay_ms in [0u64, 5, 30, 80] {
        std::fs::write(dir.file("dump.rdb"), &good_file).unwrap();
        let mut s = Server::start_in(dir.path(), 2, NO_SAVE);
        bulk_set(s.port, 0, "big:", 200_000, 200);
        let mut raw = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        raw.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut r = BufReader::new(raw.try_clone().unwrap());
        raw.write_all(&resp(&[b"BGSAVE"])).unwrap();
        assert_eq!(read_reply(&mut r), "+Background saving started");
        std::thread::sleep(Duration::from_millis(delay_ms));
        raw.write_all(&resp(&[b"INFO", b"persistence"])).unwrap();
        let running = read_reply(&mut r).contains("rdb_bgsave_in_progress:1");
        s.kill9();
        let leftovers = temp_files(dir.path());

        let s = Server::start_in(dir.path(), 2, NO_SAVE);
        let n: u64 = info_field(&mut s.conn(), "rdb_last_load_keys_loaded")
            .parse()
            .unwrap();
        if n == good.len() as u64 {
            // The save was cut short: the previous file is intact and is what loaded.
            interrupted += 1;
            assert_eq!(std::fs::read(dir.file("dump.rdb")).unwrap(), good_file);
            assert_same_dataset(&good, &dataset(s.port), 0);
        } else {
            // It finished before the kill: the new file is complete.
            assert_eq!(
                n,
                good.len() as u64 + 200_000,
                "after a kill {delay_ms} ms in"
            );
            let mut c = s.conn();
            let v: Vec<u8> = redis::cmd("GET").arg("big:199999").query(&mut c).unwrap();
            assert_eq!(v, bulk_value("big:199999", 200));
        }
        eprintln!(
            "kill {delay_ms} ms into BGSAVE: running={running}, loaded {n} keys, temp files left {leftovers:?}"
        );
        // Left-over temp files are never mistaken for the dump; clear them for the next round.
        for t in leftovers {
            let _ = std::fs::remove_file(dir.file(&t));
        }
    }
    assert!(interrupted > 0, "no kill landed during a save");
}

fn server_gone(s: &mut Server) -> std::process::ExitStatus {
    s.wait_exit(Duration::from_secs(30))
        .expect("shoal did not exit after SHUTDOWN")
}

/// SHUTDOWN with the given args; the connection closes without a reply, the process exits 0.
fn shutdown_ok(s: &mut Server, args: &[&str]) {
    let mut raw = s.raw();
    let mut v: Vec<&[u8]> = vec![b"SHUTDOWN"];
    v.extend(args.iter().map(|a| a.as_bytes()));
    raw.send(&resp(&v));
    assert_eq!(raw.read_to_close(), b"", "SHUTDOWN {args:?} replied");
    let st = server_gone(s);
    assert_eq!(st.code(), Some(0), "SHUTDOWN {args:?}: {st:?}");
}

/// The keys a restart on `dir` finds.
fn keys_after_restart(dir: &TestDir) -> Vec<String> {
    let s = Server::start_in(dir.path(), 2, NO_SAVE);
    let mut c = s.conn();
    let mut k: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut c).unwrap();
    k.sort();
    k
}

/// How a test stops the server: SHUTDOWN with these arguments, or a signal.
#[derive(Debug)]
enum Stop {
    Shutdown(&'static [&'static str]),
    Signal(i32),
}

#[test]
fn shutdown_and_signals_save_when_they_should() {
    use Stop::{Shutdown, Signal};
    const POINTS: &[&str] = &["--save", "100 1"];
    // (flags, how it stops, whether it saves)
    let cases: &[(&[&str], Stop, bool)] = &[
        (NO_SAVE, Shutdown(&[]), false),
        (NO_SAVE, Shutdown(&["SAVE"]), true),
        (NO_SAVE, Shutdown(&["NOSAVE"]), false),
        (POINTS, Shutdown(&[]), true),
        (POINTS, Shutdown(&["NOSAVE"]), false),
        (POINTS, Shutdown(&["SAVE", "NOW", "FORCE"]), true),
        (POINTS, Shutdown(&["nosave", "now"]), false),
        // The default save points ("3600 1 300 100 60 10000").
        (&[], Shutdown(&[]), true),
        (POINTS, Signal(15), true),
        (NO_SAVE, Signal(15), false),
        (POINTS, Signal(2), true),
        (NO_SAVE, Signal(2), false),
    ];
    for (flags, how, saves) in cases {
        let dir = TestDir::new("rdb-shutdown");
        let mut s = Server::start_in(dir.path(), 2, flags);
        let mut c = s.conn();
        ok(&mut c, &[b"SET", b"{a}1", b"one"]);
        ok(&mut c, &[b"SET", b"{b}2", b"two"]);
        match how {
            Shutdown(args) => shutdown_ok(&mut s, args),
            Signal(sig) => {
                let st = s.stop_with(*sig);
                assert_eq!(st.code(), Some(0), "signal {sig}: {st:?}");
            }
        }
        let what = format!("{flags:?} {how:?}");
        assert_eq!(dir.file("dump.rdb").exists(), *saves, "{what}");
        if *saves {
            assert_eq!(keys_after_restart(&dir), ["{a}1", "{b}2"], "{what}");
        }
    }

    // NOSAVE leaves an older file as it was.
    let dir = TestDir::new("rdb-shutdown");
    let mut s = Server::start_in(dir.path(), 2, &["--save", "100 1"]);
    let mut c = s.conn();
    ok(&mut c, &[b"SET", b"old", b"1"]);
    ok(&mut c, &[b"SAVE"]);
    ok(&mut c, &[b"SET", b"new", b"1"]);
    shutdown_ok(&mut s, &["NOSAVE"]);
    assert_eq!(keys_after_restart(&dir), ["old"]);
}

/// Makes every save in `dir` fail, even for root: the dump's name is taken by a non-empty
/// directory, so the final rename cannot replace it.
fn block_dump(dir: &TestDir) {
    std::fs::create_dir_all(dir.file("dump.rdb").join("x")).unwrap();
}

const MISCONF: &[u8] = b"-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";

#[test]
fn failing_bgsave_keeps_the_server_running() {
    let dir = TestDir::new("rdb-fail");
    let mut s = Server::start_in(dir.path(), 2, &["--save", "100 1"]);
    // After start-up: a directory in the dump's place stops loading as well (as in Redis).
    block_dump(&dir);
    let mut c = s.conn();
    ok(&mut c, &[b"SET", b"k", b"v"]);
    let r: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(r, "Background saving started");
    wait_for(Duration::from_secs(10), "the failed BGSAVE", || {
        !in_progress(&mut c)
    });
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "1");
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );

    // As Redis 7.0.15 with stop-writes-on-bgsave-error: writes and PING refused, reads served.
    let mut raw = s.raw();
    raw.roundtrip(b"PING\r\n", MISCONF);
    raw.roundtrip(b"SET k w\r\n", MISCONF);
    raw.roundtrip(b"GET k\r\n", b"$1\r\nv\r\n");
    // A container's subcommand counts as Redis flags it: XGROUP CREATE writes, XINFO reads.
    raw.roundtrip(b"XGROUP CREATE st g $ MKSTREAM\r\n", MISCONF);
    raw.roundtrip(b"XINFO STREAM st\r\n", b"-ERR no such key\r\n");

    // SHUTDOWN (saving by default here, with SAVE, with NOW) refuses to exit.
    for args in [&[][..], &[&b"SAVE"[..]][..], &[&b"NOW"[..]][..]] {
        let mut v: Vec<&[u8]> = vec![b"SHUTDOWN"];
        v.extend_from_slice(args);
        raw.roundtrip(
            &resp(&v),
            b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
        );
        raw.roundtrip(b"GET k\r\n", b"$1\r\nv\r\n");
        assert!(s.try_wait().is_none());
    }
    // SIGTERM likewise: the save fails, the server goes on.
    unsafe_kill(s.pid(), 15);
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        s.try_wait().is_none(),
        "exited on SIGTERM though the save failed"
    );
    raw.roundtrip(b"GET k\r\n", b"$1\r\nv\r\n");
    // FORCE exits anyway.
    shutdown_ok(&mut s, &["FORCE"]);
    assert!(!dir.file("dump.rdb").is_file());

    // The same with a directory the server may not write into (meaningless as root).
    let dir = TestDir::new("rdb-fail-ro");
    let mut perms = std::fs::metadata(dir.path()).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    std::fs::set_permissions(dir.path(), perms.clone()).unwrap();
    if std::fs::File::create(dir.file("probe")).is_ok() {
        eprintln!(
            "note: running as a user who can write into a 0555 directory; skipping that case"
        );
    } else {
        let s = Server::start_in(dir.path(), 2, &["--save", "100 1"]);
        let mut raw = s.raw();
        raw.roundtrip(b"SET a b\r\n", b"+OK\r\n");
        raw.roundtrip(
            &resp(&[b"SHUTDOWN"]),
            b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n",
        );
        raw.roundtrip(b"GET a\r\n", b"$1\r\nb\r\n");
    }
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(dir.path(), perms).unwrap();
}

/// Redis 7.0.15 counts every save it starts in rdb_saves, and a failed SAVE (unlike a failed
/// BGSAVE) leaves rdb_last_bgsave_status alone, so writes and PING go on.
#[test]
fn failed_save_is_not_a_bgsave_error() {
    let dir = TestDir::new("rdb-fail-fg");
    let s = Server::start_in(dir.path(), 2, &["--save", "100 1"]);
    block_dump(&dir);
    let mut c = s.conn();
    ok(&mut c, &[b"SET", b"k", b"v"]);
    let mut raw = s.raw();
    raw.roundtrip(&resp(&[b"SAVE"]), b"-ERR\r\n");
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(saves(&mut c), 1, "rdb_saves counts attempts");
    raw.roundtrip(b"PING\r\n", b"+PONG\r\n");
    raw.roundtrip(b"SET k w\r\n", b"+OK\r\n");
    let r: String = redis::cmd("BGSAVE").query(&mut c).unwrap();
    assert_eq!(r, "Background saving started");
    wait_for(Duration::from_secs(10), "the failed BGSAVE", || {
        !in_progress(&mut c)
    });
    assert_eq!(saves(&mut c), 2, "rdb_saves counts attempts");
}

fn unsafe_kill(pid: u32, sig: i32) {
    extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    unsafe {
        kill(pid as i32, sig);
    }
}

#[test]
fn save_points_fire_by_themselves() {
    let dir = TestDir::new("rdb-savepoint");
    let s = Server::start_in(dir.path(), 2, &["--save", "1 1"]);
    let mut c = s.conn();
    // Nothing written, nothing saved.
    std::thread::sleep(Duration::from_millis(1200));
    assert!(!dir.file("dump.rdb").exists());
    ok(&mut c, &[b"SET", b"x", b"1"]);
    wait_for(Duration::from_secs(5), "a save point to fire", || {
        dir.file("dump.rdb").exists()
            && saves(&mut c) >= 1
            && info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    // One change, but the next save waits a second after the last one.
    let n = saves(&mut c);
    ok(&mut c, &[b"SET", b"y", b"2"]);
    wait_for(Duration::from_secs(5), "the second save point", || {
        saves(&mut c) > n
    });
    drop(s);
    assert_eq!(keys_after_restart(&dir), ["x", "y"]);
}

/// A file shoal wrote, for the start-up tests to damage.
fn good_file(dir: &TestDir) -> Vec<u8> {
    let mut s = Server::start_in(dir.path(), 2, NO_SAVE);
    let mut c = s.conn();
    ok(&mut c, &[b"SET", b"marker", b"UNIQUE-MARKER-VALUE"]);
    for i in 0..50 {
        ok(
            &mut c,
            &[
                b"SET",
                format!("k{i}").as_bytes(),
                format!("value {i}").as_bytes(),
            ],
        );
    }
    ok(&mut c, &[b"SAVE"]);
    s.kill9();
    std::fs::read(dir.file("dump.rdb")).unwrap()
}

/// Starts on `file` expecting a refusal; returns the offset the message names.
fn refused(dir: &TestDir, file: &[u8], extra: &[&str], what: &str) -> u64 {
    std::fs::write(dir.file("dump.rdb"), file).unwrap();
    let mut args = NO_SAVE.to_vec();
    args.extend_from_slice(extra);
    let f = start_expecting_failure(dir.path(), 2, &args);
    assert_eq!(
        f.status.code(),
        Some(1),
        "{what}: {:?}\n{}",
        f.status,
        f.output
    );
    assert!(!f.served, "{what}: served clients before failing");
    let line = f
        .output
        .lines()
        .find(|l| l.contains("Fatal error loading the DB: "))
        .unwrap_or_else(|| panic!("{what}: no fatal-error line in:\n{}", f.output));
    assert!(line.contains("dump.rdb"), "{what}: {line}");
    assert!(line.ends_with(". Exiting."), "{what}: {line}");
    let off = line
        .split("at offset ")
        .nth(1)
        .and_then(|r| r.split(|ch: char| !ch.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no offset in {line}"));
    assert!(
        off <= file.len() as u64,
        "{what}: offset {off} past the end"
    );
    off
}

#[test]
fn start_up_loads_or_refuses_the_file() {
    let dir = TestDir::new("rdb-startup");
    // No file: an empty dataset.
    {
        let s = Server::start_in(dir.path(), 2, NO_SAVE);
        let mut c = s.conn();
        let n: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 0);
        assert_eq!(info_field(&mut c, "rdb_last_load_keys_loaded"), "0");
    }
    let good = good_file(&dir);
    assert_eq!(&good[..9], b"REDIS0010");

    let mut bad = good.clone();
    bad[4] = b'X';
    let off = refused(&dir, &bad, &[], "bad magic");
    assert!(off <= 9, "bad magic reported at {off}");
    let mut bad = good.clone();
    bad[5..9].copy_from_slice(b"0099");
    refused(&dir, &bad, &[], "version 99");
    let half = good.len() / 2;
    let off = refused(&dir, &good[..half], &[], "truncated in half");
    assert!(off >= 9, "truncated: offset {off}");
    refused(&dir, &good[..good.len() - 4], &[], "truncated checksum");
    refused(&dir, &good[..good.len() - 9], &[], "no EOF");
    refused(&dir, &good[..5], &[], "only the magic");
    refused(&dir, b"", &[], "empty file");

    // A flipped byte inside a value: only the checksum can tell.
    let at = good
        .windows(6)
        .position(|w| w == b"UNIQUE")
        .expect("marker in the file");
    let mut flipped = good.clone();
    flipped[at] ^= 0x20;
    let off = refused(&dir, &flipped, &[], "flipped byte");
    assert!(off >= good.len() as u64 - 9, "checksum error at {off}");
    // With rdbchecksum no the same file loads (with the flipped value).
    std::fs::write(dir.file("dump.rdb"), &flipped).unwrap();
    {
        let s = Server::start_in(dir.path(), 2, &["--save", "", "--rdbchecksum", "no"]);
        let mut c = s.conn();
        let v: String = redis::cmd("GET").arg("marker").query(&mut c).unwrap();
        assert_eq!(v, "uNIQUE-MARKER-VALUE");
        let n: u64 = redis::cmd("DBSIZE").query(&mut c).unwrap();
        assert_eq!(n, 51);
    }
    // A wrong checksum alone: refused, unless rdbchecksum is off.
    let mut wrong = good.clone();
    let l = wrong.len();
    wrong[l - 1] ^= 1;
    refused(&dir, &wrong, &[], "wrong checksum");
    std::fs::write(dir.file("dump.rdb"), &wrong).unwrap();
    let s = Server::start_in(dir.path(), 2, &["--save", "", "--rdbchecksum", "no"]);
    let n: u64 = redis::cmd("DBSIZE").query(&mut s.conn()).unwrap();
    assert_eq!(n, 51);
    drop(s);
    // A zero checksum means "saved without one": accepted, as Redis does.
    let mut zero = good.clone();
    zero[l - 8..].fill(0);
    std::fs::write(dir.file("dump.rdb"), &zero).unwrap();
    let s = Server::start_in(dir.path(), 2, NO_SAVE);
    let n: u64 = redis::cmd("DBSIZE").query(&mut s.conn()).unwrap();
    assert_eq!(n, 51);
    drop(s);
    // --rdbchecksum no writes a zero checksum, which a checking server accepts.
    std::fs::remove_file(dir.file("dump.rdb")).unwrap();
    {
        let mut s = Server::start_in(dir.path(), 1, &["--save", "", "--rdbchecksum", "no"]);
        let mut c = s.conn();
        ok(&mut c, &[b"SET", b"a", b"1"]);
        ok(&mut c, &[b"SAVE"]);
        s.kill9();
        let f = std::fs::read(dir.file("dump.rdb")).unwrap();
        assert_eq!(&f[f.len() - 8..], &[0u8; 8]);
        let s = Server::start_in(dir.path(), 1, NO_SAVE);
        let n: u64 = redis::cmd("DBSIZE").query(&mut s.conn()).unwrap();
        assert_eq!(n, 1);
    }
}

#[test]
fn dir_is_absolute_and_dbfilename_names_the_file() {
    let dir = TestDir::new("rdb-dir");
    let parent = dir.path().parent().unwrap();
    let rel = dir.path().file_name().unwrap().to_str().unwrap();
    let mut s = Server::start_in_cwd(
        std::path::Path::new(rel),
        parent,
        1,
        &["--save", "", "--enable-protected-configs", "yes"],
    );
    let mut c = s.conn();
    let got: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("dir")
        .query(&mut c)
        .unwrap();
    let want = std::fs::canonicalize(dir.path()).unwrap();
    assert_eq!(got, ["dir".to_string(), want.display().to_string()]);
    ok(&mut c, &[b"CONFIG", b"SET", b"dbfilename", b"other.rdb"]);
    ok(&mut c, &[b"SET", b"k", b"v"]);
    ok(&mut c, &[b"SAVE"]);
    assert!(dir.file("other.rdb").exists());
    assert!(!dir.file("dump.rdb").exists());
    let e = redis::cmd("CONFIG")
        .arg("SET")
        .arg("dbfilename")
        .arg("a/b.rdb")
        .query::<()>(&mut c)
        .unwrap_err();
    assert!(e.to_string().contains("dbfilename can't be a path"), "{e}");
    s.kill9();
    let s = Server::start_in(dir.path(), 1, &["--save", "", "--dbfilename", "other.rdb"]);
    let v: String = redis::cmd("GET").arg("k").query(&mut s.conn()).unwrap();
    assert_eq!(v, "v");
    drop(s);

    // Without enable-protected-configs, CONFIG SET dbfilename is refused, as Redis 7.
    let s = Server::start_in(dir.path(), 1, NO_SAVE);
    let mut raw = s.raw();
    raw.roundtrip(
        &resp(&[b"CONFIG", b"SET", b"dbfilename", b"x.rdb"]),
        b"-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n",
    );
}

/// A raw connection for the stream test: replies as the exact bytes sent.
struct RawConn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl RawConn {
    fn open(port: u16) -> RawConn {
        let w = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        w.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        RawConn {
            r: BufReader::new(w.try_clone().unwrap()),
            w,
        }
    }

    fn call(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.w.write_all(&resp(&args)).expect("write");
        common::read_reply(&mut self.r).expect("reply")
    }
}

/// Stream keys spread over the shards and two databases: entries of varied shapes over several
/// nodes, deletions, trimming, groups with pending entries (claimed and read), XSETID's
/// counters, TTLs.
fn fill_streams(c: &mut RawConn, keys: &[(usize, String)]) {
    for (n, (db, key)) in keys.iter().enumerate() {
        let k = key.as_str();
        c.call(&["SELECT", &db.to_string()]);
        let entries = 20 + 90 * (n % 4);
        for i in 1..=entries {
            let (id, v) = (format!("{i}-{}", n % 3), format!("{}", i * 7919));
            let reply = if i % 5 == 0 {
                c.call(&[
                    "XADD",
                    k,
                    &id,
                    "other",
                    "x".repeat(i % 70).as_str(),
                    "n",
                    &v,
                ])
            } else {
                c.call(&["XADD", k, &id, "name", &format!("v{i}"), "n", &v])
            };
            assert_eq!(reply, format!("${}\r\n{id}\r\n", id.len()).into_bytes());
        }
        assert_eq!(
            c.call(&["XDEL", k, "2-0", "2-1", "2-2", "9-0", "9-1", "9-2"]),
            b":2\r\n"
        );
        if n % 4 == 3 {
            c.call(&["XTRIM", k, "MAXLEN", "~", "150"]);
        }
        assert_eq!(c.call(&["XGROUP", "CREATE", k, "g1", "0"]), b"+OK\r\n");
        assert_eq!(c.call(&["XGROUP", "CREATE", k, "g2", "$"]), b"+OK\r\n");
        assert_eq!(
            c.call(&["XGROUP", "CREATECONSUMER", k, "g2", "idle"]),
            b":1\r\n"
        );
        let (a, b) = (format!("3-{}", n % 3), format!("4-{}", n % 3));
        c.call(&[
            "XCLAIM",
            k,
            "g1",
            "alice",
            "0",
            &a,
            &b,
            "TIME",
            "1700000000000",
            "RETRYCOUNT",
            "3",
            "FORCE",
            "JUSTID",
        ]);
        let read = c.call(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "bob",
            "COUNT",
            "3",
            "STREAMS",
            k,
            ">",
        ]);
        assert!(read.starts_with(b"*1\r\n*2\r\n"), "{read:?}");
        if n % 5 == 4 {
            c.call(&[
                "XSETID",
                k,
                "999999-0",
                "ENTRIESADDED",
                "5000",
                "MAXDELETEDID",
                "5-0",
            ]);
        }
        if n % 6 == 1 {
            c.call(&["PEXPIRE", k, "3600000"]);
        }
    }
    c.call(&["SELECT", "0"]);
}

/// Each key's type, DUMP payload, full XINFO, entries, group summaries and TTL (in whole
/// minutes), as bytes: nothing that shows a time relative to now.
fn stream_state(port: u16, keys: &[(usize, String)]) -> Vec<Vec<Vec<u8>>> {
    let mut c = RawConn::open(port);
    keys.iter()
        .map(|(db, k)| {
            let k = k.as_str();
            c.call(&["SELECT", &db.to_string()]);
            let pttl = String::from_utf8_lossy(&c.call(&["PTTL", k])).into_owned();
            let minutes = pttl
                .trim_start_matches(':')
                .trim_end()
                .parse::<i64>()
                .unwrap()
                .max(-1)
                .div_euclid(60_000);
            vec![
                c.call(&["TYPE", k]),
                c.call(&["DUMP", k]),
                c.call(&["XINFO", "STREAM", k, "FULL", "COUNT", "0"]),
                c.call(&["XRANGE", k, "-", "+"]),
                c.call(&["XINFO", "GROUPS", k]),
                c.call(&["XPENDING", k, "g1"]),
                minutes.to_string().into_bytes(),
            ]
        })
        .collect()
}

#[test]
fn streams_survive_save_and_restart() {
    let dir = TestDir::new("rdb-streams");
    let keys: Vec<(usize, String)> = (0..24)
        .map(|i| (if i % 3 == 2 { 2 } else { 0 }, format!("stream:{i}")))
        .collect();
    let mut s = Server::start_in(dir.path(), 3, NO_SAVE);
    let mut c = RawConn::open(s.port);
    fill_streams(&mut c, &keys);
    // A stream that expires while the server is down, and strings beside the streams.
    c.call(&["XADD", "short", "1-0", "f", "v"]);
    c.call(&["PEXPIRE", "short", "300"]);
    c.call(&["SET", "str", "v"]);
    let before = stream_state(s.port, &keys);
    assert_eq!(before[0][0], b"+stream\r\n");
    assert_eq!(c.call(&["SAVE"]), b"+OK\r\n");
    s.kill9();
    std::thread::sleep(Duration::from_millis(400));
    for shards in [3, 1] {
        let s = Server::start_in(dir.path(), shards, NO_SAVE);
        let after = stream_state(s.port, &keys);
        for ((k, b), a) in keys.iter().zip(&before).zip(&after) {
            for (x, y) in b.iter().zip(a) {
                assert!(
                    x == y,
                    "{k:?} with {shards} shards:\n before {:?}\n  after {:?}",
                    String::from_utf8_lossy(x),
                    String::from_utf8_lossy(y)
                );
            }
        }
        let mut c = RawConn::open(s.port);
        assert_eq!(c.call(&["DBSIZE"]), b":17\r\n");
        assert_eq!(c.call(&["EXISTS", "short"]), b":0\r\n");
        assert_eq!(c.call(&["GET", "str"]), b"$1\r\nv\r\n");
        let mut rc = s.conn();
        assert_eq!(
            info_field(&mut rc, "rdb_last_load_keys_loaded"),
            (keys.len() + 1).to_string()
        );
        assert_eq!(info_field(&mut rc, "rdb_last_load_keys_expired"), "1");
        // The loaded streams take writes where they left off.
        assert_eq!(
            c.call(&["XADD", "stream:0", "1-0", "f", "v"]),
            b"-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
        );
        assert_eq!(
            c.call(&["XADD", "stream:0", "100000-0", "f", "v"]),
            b"$8\r\n100000-0\r\n"
        );
        assert_eq!(c.call(&["XLEN", "stream:0"]), b":19\r\n");
        // Groups deliver where they left off: bob had 1-0, 3-0 and 4-0 (2-0 was deleted).
        let next = c.call(&[
            "XREADGROUP",
            "GROUP",
            "g1",
            "carol",
            "COUNT",
            "1",
            "STREAMS",
            "stream:0",
            ">",
        ]);
        assert!(
            next.starts_with(b"*1\r\n*2\r\n$8\r\nstream:0\r\n*1\r\n*2\r\n$3\r\n5-0\r\n"),
            "{:?}",
            String::from_utf8_lossy(&next)
        );
    }
    match check_rdb(&dir.file("dump.rdb")) {
        None => eprintln!("note: redis-check-rdb not on PATH; skipping the check of the file"),
        Some((good, text)) => assert!(good, "redis-check-rdb refused shoal's file:\n{text}"),
    }
}
