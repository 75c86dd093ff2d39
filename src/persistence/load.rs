//! Loading the RDB file at start-up, before any client is accepted.
//!
//! The whole file is read into per-shard databases on the main thread, then each shard takes its
//! own: a failure anywhere (corrupt file, a type shoal cannot hold) stops the start, so clients
//! never see a half-loaded dataset.

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use crate::persistence::rdb::Loader;
use crate::runtime::shard::{lru_clock_now, DATABASES};
use crate::runtime::slot::key_shard;
use crate::server::log;
use crate::storage::entry::LRU_MASK;
use crate::storage::Db;

/// Each shard's databases, as loaded.
pub type ShardDbs = Vec<Db>;

pub struct Loaded {
    pub shards: Vec<ShardDbs>,
    pub keys_loaded: u64,
    pub keys_expired: u64,
}

fn empty(nshards: usize) -> Vec<ShardDbs> {
    (0..nshards)
        .map(|_| (0..DATABASES).map(|_| Db::default()).collect())
        .collect()
}

/// Loads `path` if it exists (a missing file is an empty dataset). `verify_checksum` follows
/// `rdbchecksum`.
pub fn load_file(path: &Path, nshards: usize, verify_checksum: bool) -> Result<Loaded, String> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded {
                shards: empty(nshards),
                keys_loaded: 0,
                keys_expired: 0,
            })
        }
        Err(e) => return Err(format!("can't open {}: {e}", path.display())),
    };
    let started = Instant::now();
    let mut loader =
        Loader::new(file, verify_checksum).map_err(|e| format!("{} {e}", path.display()))?;
    let mut shards = empty(nshards);
    let now = crate::storage::now_ms();
    let clock = lru_clock_now();
    let (mut loaded, mut expired) = (0u64, 0u64);
    while let Some(k) = loader
        .next_key()
        .map_err(|e| format!("{} {e}", path.display()))?
    {
        if matches!(k.expire_ms, Some(t) if t <= now) {
            // As a master, Redis drops keys that expired while the file sat on disk.
            expired += 1;
            continue;
        }
        let idle = k.idle_secs.unwrap_or(0).min(LRU_MASK as u64) as u32;
        let lru = clock.wrapping_sub(idle) & LRU_MASK;
        let shard = key_shard(&k.key, nshards);
        let db = &mut shards[shard][k.db];
        if db
            .insert(k.value.into_entry(&k.key, k.expire_ms, lru))
            .is_some()
        {
            return Err(format!(
                "{}: duplicated key '{}' in DB {}",
                path.display(),
                String::from_utf8_lossy(&k.key),
                k.db
            ));
        }
        loaded += 1;
    }
    if loader.skipped_functions() > 0 {
        log::warning(&format!(
            "{}: skipped {} function libraries (FUNCTION2): shoal has no scripting",
            path.display(),
            loader.skipped_functions()
        ));
    }
    log::notice(&format!(
        "Done loading RDB, keys loaded: {loaded}, keys expired: {expired}."
    ));
    log::notice(&format!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    ));
    Ok(Loaded {
        shards,
        keys_loaded: loaded,
        keys_expired: expired,
    })
}
