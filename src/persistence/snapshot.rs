//! Snapshots (SAVE, BGSAVE, save points, shutdown) without fork.
//!
//! A save holds every shard at once (the coordinator's barrier), and in that instant each shard
//! takes a reference to every live entry ([`Entry::share`]): a pointer copy and one bit set per
//! key, no data copied. The shards are released at once and go on serving; a write to an entry
//! the snapshot still holds copies it first, so the snapshot keeps the value of the barrier
//! instant: a point-in-time view across all shards, as fork gives Redis.
//!
//! Each shard then serialises its references in the background, a chunk at a time between its
//! connections' work, dropping each reference once written (so old versions of overwritten keys
//! are freed as the save passes them). The chunks go to a writer thread, which owns the file:
//! a temp file in `dir`, checksummed, fsynced, then renamed over `dbfilename`, and the directory
//! fsynced, so a crash at any moment leaves the previous file intact.
//!
//! The RDB format lets keys come in any order and SELECTDB appear any number of times, so every
//! chunk starts with its own SELECTDB and the shards' chunks interleave freely.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use futures::channel::oneshot;

use crate::persistence::{crc64::crc64, rdb};
use crate::runtime::shard::{Shard, DATABASES};
use crate::server::log;
use crate::storage::entry::SnapEntry;

/// Serialised bytes per chunk handed to the writer: large enough to amortise the channel, small
/// enough that a shard never stops serving its connections for long.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight to the writer; a shard waits when the writer falls behind.
const IN_FLIGHT: usize = 64;

/// Process-wide persistence counters, for INFO, LASTSAVE and the save-point check.
pub struct PersistStats {
    pub in_progress: AtomicBool,
    /// When the current save began (ms since the epoch), for rdb_current_bgsave_time_sec.
    pub started_ms: AtomicU64,
    /// Unix seconds of the last successful save (the start time until one happens, as Redis).
    pub lastsave: AtomicU64,
    pub last_ok: AtomicBool,
    pub last_time_sec: AtomicI64,
    /// When the last save was attempted (ms): a failed save is retried after 5 s, as Redis.
    pub last_try_ms: AtomicU64,
    pub saves: AtomicU64,
    /// Sum of the shards' dirty counters at the barrier of the last successful save.
    pub saved_dirty: AtomicU64,
    /// Each shard's dirty counter, published by its cron (the save-point check reads them).
    pub shard_dirty: Vec<AtomicU64>,
    pub keys_total: AtomicU64,
    pub keys_processed: AtomicU64,
    pub load_keys_loaded: AtomicU64,
    pub load_keys_expired: AtomicU64,
}

impl PersistStats {
    pub fn new(nshards: usize, now_ms: u64) -> PersistStats {
        PersistStats {
            in_progress: AtomicBool::new(false),
            started_ms: AtomicU64::new(0),
            lastsave: AtomicU64::new(now_ms / 1000),
            last_ok: AtomicBool::new(true),
            last_time_sec: AtomicI64::new(-1),
            last_try_ms: AtomicU64::new(0),
            saves: AtomicU64::new(0),
            saved_dirty: AtomicU64::new(0),
            shard_dirty: (0..nshards).map(|_| AtomicU64::new(0)).collect(),
            keys_total: AtomicU64::new(0),
            keys_processed: AtomicU64::new(0),
            load_keys_loaded: AtomicU64::new(0),
            load_keys_expired: AtomicU64::new(0),
        }
    }

    /// Writes since the last successful save, as of the shards' last cron tick.
    pub fn changes_since_save(&self) -> u64 {
        let total: u64 = self
            .shard_dirty
            .iter()
            .map(|d| d.load(Ordering::Relaxed))
            .sum();
        total.saturating_sub(self.saved_dirty.load(Ordering::Relaxed))
    }
}

/// Save points from the `save` parameter: (seconds, changes) pairs.
pub fn save_points(param: &str) -> Vec<(u64, u64)> {
    let v: Vec<u64> = param
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    v.chunks_exact(2).map(|p| (p[0], p[1])).collect()
}

/// What a shard sends the writer.
pub enum SaveMsg {
    Chunk(Vec<u8>),
    /// The shard has sent everything.
    Done,
}

/// Where and how to write one save.
#[derive(Clone)]
pub struct SaveTarget {
    pub dir: PathBuf,
    pub dbfilename: String,
    pub compress: bool,
    pub checksum: bool,
}

/// One save in progress: the shards' side. Cloned into every shard's barrier step.
#[derive(Clone)]
pub struct SaveJob {
    pub tx: Sender<SaveMsg>,
    pub cancel: Arc<AtomicBool>,
    pub compress: bool,
    pub stats: Arc<PersistStats>,
}

/// Starts the writer thread for a save of `nshards` shards. The receiver yields the outcome
/// once the file is in place (or why it is not).
pub fn start_writer(
    target: SaveTarget,
    nshards: usize,
    cancel: Arc<AtomicBool>,
    rss: u64,
) -> (Sender<SaveMsg>, oneshot::Receiver<Result<u64, String>>) {
    let (tx, rx) = crossbeam_channel::bounded(IN_FLIGHT);
    let (done_tx, done_rx) = oneshot::channel();
    WRITERS.fetch_add(1, Ordering::SeqCst);
    let spawned = std::thread::Builder::new()
        .name("shoal-rdb".into())
        .spawn(move || {
            let r = write_file(&target, nshards, &rx, &cancel, rss);
            WRITERS.fetch_sub(1, Ordering::SeqCst);
            let _ = done_tx.send(r);
        });
    if let Err(e) = spawned {
        WRITERS.fetch_sub(1, Ordering::SeqCst);
        // The sender was moved into the closure and dropped with it; report through a fresh pair.
        let (tx, _) = crossbeam_channel::bounded(1);
        let (done_tx, done_rx) = oneshot::channel();
        let _ = done_tx.send(Err(format!("could not start the writer thread: {e}")));
        return (tx, done_rx);
    }
    (tx, done_rx)
}

/// Starts the thread that turns a snapshot for a replica (full resync) into RDB bytes: the same
/// chunks as a save's, framed and checksummed, handed to `chunks` as they come instead of a file.
/// The shards' side is the same `SaveJob`; a dropped receiver or `cancel` stops it.
pub fn start_stream_writer(
    nshards: usize,
    cancel: Arc<AtomicBool>,
    rss: u64,
) -> (
    Sender<SaveMsg>,
    futures::channel::mpsc::Receiver<Result<Vec<u8>, String>>,
) {
    let (tx, rx) = crossbeam_channel::bounded(IN_FLIGHT);
    let (mut out, chunks) = futures::channel::mpsc::channel(8);
    let spawned = std::thread::Builder::new()
        .name("shoal-repl-rdb".into())
        .spawn(move || {
            let r = stream_rdb(nshards, &rx, &cancel, rss, &mut out);
            if let Err(e) = r {
                cancel.store(true, Ordering::Relaxed);
                let _ = futures::executor::block_on(futures::SinkExt::send(&mut out, Err(e)));
            }
        });
    if let Err(e) = spawned {
        let (tx, _) = crossbeam_channel::bounded(1);
        let (mut out, chunks) = futures::channel::mpsc::channel(1);
        let _ = out.try_send(Err(format!("could not start the writer thread: {e}")));
        return (tx, chunks);
    }
    (tx, chunks)
}

fn stream_rdb(
    nshards: usize,
    rx: &Receiver<SaveMsg>,
    cancel: &AtomicBool,
    rss: u64,
    out: &mut futures::channel::mpsc::Sender<Result<Vec<u8>, String>>,
) -> Result<(), String> {
    let mut crc = 0u64;
    let mut put = |b: Vec<u8>| -> Result<(), String> {
        crc = crc64(crc, &b);
        futures::executor::block_on(futures::SinkExt::send(out, Ok(b)))
            .map_err(|_| "the replica went away".to_string())
    };
    put(header(rss))?;
    let mut done = 0;
    while done < nshards {
        if cancel.load(Ordering::Relaxed) {
            return Err("transfer aborted".into());
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(SaveMsg::Chunk(c)) => put(c)?,
            Ok(SaveMsg::Done) => done += 1,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err("a shard stopped before finishing its part of the snapshot".into())
            }
        }
    }
    let mut tail = Vec::with_capacity(9);
    rdb::write_eof(&mut tail);
    put(tail)?;
    let sum = crc.to_le_bytes().to_vec();
    futures::executor::block_on(futures::SinkExt::send(out, Ok(sum)))
        .map_err(|_| "the replica went away".to_string())
}

/// The header and AUX fields Redis 7.0 writes.
fn header(rss: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(256);
    rdb::write_header(&mut b);
    rdb::write_aux(
        &mut b,
        b"redis-ver",
        crate::commands::server::REDIS_VERSION.as_bytes(),
    );
    rdb::write_aux(&mut b, b"redis-bits", b"64");
    let ctime = (crate::storage::now_ms() / 1000).to_string();
    rdb::write_aux(&mut b, b"ctime", ctime.as_bytes());
    rdb::write_aux(&mut b, b"used-mem", rss.to_string().as_bytes());
    rdb::write_aux(&mut b, b"aof-base", b"0");
    b
}

/// Writes the file from the shards' chunks; returns its size.
fn write_file(
    target: &SaveTarget,
    nshards: usize,
    rx: &Receiver<SaveMsg>,
    cancel: &AtomicBool,
    rss: u64,
) -> Result<u64, String> {
    let tmp = target.dir.join(format!(
        "temp-{}-{}.rdb",
        std::process::id(),
        TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let r = write_tmp(&tmp, target, nshards, rx, cancel, rss);
    match r {
        Ok(size) => {
            let dest = target.dir.join(&target.dbfilename);
            if let Err(e) = std::fs::rename(&tmp, &dest) {
                let _ = std::fs::remove_file(&tmp);
                return Err(format!(
                    "Error moving temp DB file {} on the final destination {} (in server root dir {}): {e}",
                    file_name(&tmp),
                    target.dbfilename,
                    target.dir.display()
                ));
            }
            // The rename itself must survive a crash.
            if let Ok(d) = File::open(&target.dir) {
                let _ = d.sync_all();
            }
            Ok(size)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Writer threads still running: the process waits for them before exiting, so an abandoned
/// save removes its temp file rather than leaving it behind.
static WRITERS: AtomicU64 = AtomicU64::new(0);

/// Waits (up to `limit`) for writer threads to finish.
pub fn wait_for_writers(limit: Duration) {
    let deadline = Instant::now() + limit;
    while WRITERS.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn write_tmp(
    tmp: &Path,
    target: &SaveTarget,
    nshards: usize,
    rx: &Receiver<SaveMsg>,
    cancel: &AtomicBool,
    rss: u64,
) -> Result<u64, String> {
    let mut f = File::create(tmp).map_err(|e| {
        format!(
            "Failed opening the temp RDB file {} (in server root dir {}) for saving: {e}",
            file_name(tmp),
            target.dir.display()
        )
    })?;
    let werr = |e: std::io::Error| format!("Write error saving DB on disk: {e}");
    let mut crc = 0u64;
    let mut size = 0u64;
    let mut put = |f: &mut File, b: &[u8]| -> Result<(), String> {
        if target.checksum {
            crc = crc64(crc, b);
        }
        size += b.len() as u64;
        f.write_all(b).map_err(werr)
    };
    put(&mut f, &header(rss))?;
    let mut done = 0;
    while done < nshards {
        if cancel.load(Ordering::Relaxed) {
            return Err("save aborted".into());
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(SaveMsg::Chunk(c)) => put(&mut f, &c)?,
            Ok(SaveMsg::Done) => done += 1,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err("a shard stopped before finishing its part of the save".into())
            }
        }
    }
    let mut tail = Vec::with_capacity(9);
    rdb::write_eof(&mut tail);
    put(&mut f, &tail)?;
    let crc = if target.checksum { crc } else { 0 };
    f.write_all(&crc.to_le_bytes()).map_err(werr)?;
    size += 8;
    f.sync_all().map_err(werr)?;
    Ok(size)
}

/// One shard's part of a snapshot: its live entries at the barrier, per database.
pub struct ShardSnapshot {
    dbs: Vec<(usize, Vec<SnapEntry>)>,
}

/// The barrier step, run on every held shard: take references to all live entries, and start
/// serialising them once the hold is over. Returns the shard's dirty counter at the barrier and
/// the number of keys it will write.
pub fn begin_on_shard(shard: &mut Shard, now: u64, job: SaveJob) -> (u64, u64) {
    let t0 = Instant::now();
    let mut dbs = Vec::new();
    let mut keys = 0u64;
    for db in 0..DATABASES {
        let d = &mut shard.dbs[db];
        if d.is_empty() {
            continue;
        }
        let mut v = Vec::with_capacity(d.len());
        d.for_each_mut(|e| {
            if !e.is_expired(now) {
                v.push(e.share());
            }
        });
        keys += v.len() as u64;
        dbs.push((db, v));
    }
    let snap = ShardSnapshot { dbs };
    log::verbose(&format!(
        "shard {}: {keys} keys referenced for the snapshot in {:.1} ms",
        shard.index,
        t0.elapsed().as_secs_f64() * 1e3
    ));
    glommio::spawn_local(serialize(snap, job)).detach();
    (shard.dirty, keys)
}

/// Serialises one shard's snapshot into chunks for the writer, yielding to the shard's other
/// tasks after each chunk.
async fn serialize(snap: ShardSnapshot, job: SaveJob) {
    let mut buf = Vec::with_capacity(CHUNK + 1024);
    for (db, entries) in snap.dbs {
        let mut it = entries.into_iter();
        loop {
            if job.cancel.load(Ordering::Relaxed) {
                return;
            }
            rdb::write_selectdb(&mut buf, db as u64);
            let mut n = 0u64;
            for e in it.by_ref() {
                let e = e.get();
                rdb::write_entry(&mut buf, e, job.compress);
                n += 1;
                if buf.len() >= CHUNK {
                    break;
                }
            }
            // Each reference was dropped right after it was written: an old version of an
            // overwritten key is freed as soon as the save has passed it.
            job.stats.keys_processed.fetch_add(n, Ordering::Relaxed);
            let last = it.len() == 0;
            if n > 0
                && !send(
                    &job,
                    std::mem::replace(&mut buf, Vec::with_capacity(CHUNK + 1024)),
                )
                .await
            {
                return;
            }
            buf.clear();
            if last {
                break;
            }
            // Let the shard's connections run before the next chunk. A timer, not a yield: a
            // task that re-wakes itself keeps the executor from polling io_uring until its time
            // slice ends (~100 ms stalls measured); a sleeping one lets the ring be polled.
            glommio::timer::sleep(Duration::from_micros(1)).await;
        }
    }
    let _ = send_msg(&job, SaveMsg::Done).await;
}

async fn send(job: &SaveJob, chunk: Vec<u8>) -> bool {
    send_msg(job, SaveMsg::Chunk(chunk)).await
}

/// Hands a message to the writer, waiting (without blocking the executor) while it is behind.
async fn send_msg(job: &SaveJob, mut msg: SaveMsg) -> bool {
    loop {
        match job.tx.try_send(msg) {
            Ok(()) => return true,
            Err(TrySendError::Full(m)) => {
                if job.cancel.load(Ordering::Relaxed) {
                    return false;
                }
                msg = m;
                glommio::timer::sleep(Duration::from_millis(1)).await;
            }
            Err(TrySendError::Disconnected(_)) => return false,
        }
    }
}

/// Logs and records a finished save (on the coordinator).
pub fn finish(
    stats: &PersistStats,
    started: Instant,
    dirty_at_barrier: u64,
    r: &Result<u64, String>,
    background: bool,
) {
    // As Redis: only a background save sets rdb_last_bgsave_time_sec and can turn
    // rdb_last_bgsave_status to err (a failed SAVE leaves it, so no MISCONF follows); any
    // successful save sets it back to ok.
    if background {
        let secs = started.elapsed().as_secs() as i64;
        stats.last_time_sec.store(secs, Ordering::Relaxed);
    }
    match r {
        Ok(_) => {
            log::notice("DB saved on disk");
            if background {
                log::notice("Background saving terminated with success");
            }
            stats.last_ok.store(true, Ordering::Relaxed);
            stats
                .lastsave
                .store(crate::storage::now_ms() / 1000, Ordering::Relaxed);
            stats.saved_dirty.store(dirty_at_barrier, Ordering::Relaxed);
        }
        Err(e) => {
            log::warning(e);
            if background {
                log::warning("Background saving error");
                stats.last_ok.store(false, Ordering::Relaxed);
            }
        }
    }
    // Last, so a client that sees no save in progress sees its outcome too.
    stats.in_progress.store(false, Ordering::Release);
}
