//! DUMP and RESTORE (Redis's cluster.c): a key's value as a self-checking RDB payload, and back.

use super::{args, err, flags::*, CmdError, CmdResult, Command, Ctx, Route, Run};
use crate::persistence::rdb;
use crate::protocol::Out;

pub fn commands() -> Vec<Command> {
    vec![
        Command::new(
            "dump",
            2,
            READONLY,
            (1, 1, 1),
            "@keyspace @read @slow",
            "generic",
            "Return a serialized version of the value stored at the specified key.",
            "2.6.0",
            Run::Data(dump, Route::Keys),
        ),
        Command::new(
            "restore",
            -4,
            WRITE | DENYOOM,
            (1, 1, 1),
            "@keyspace @write @slow @dangerous",
            "generic",
            "Create a key using the provided serialized value, previously obtained using DUMP.",
            "2.6.0",
            Run::Data(restore, Route::Keys),
        ),
    ]
}

const BUSYKEY: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "BUSYKEY Target key name already exists.",
));
const INVALID_TTL: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "ERR Invalid TTL value, must be >= 0",
));
const BAD_PAYLOAD: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "ERR DUMP payload version or checksum are wrong",
));
const BAD_DATA: CmdError = CmdError(std::borrow::Cow::Borrowed("ERR Bad data format"));
const INVALID_IDLETIME: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "ERR Invalid IDLETIME value, must be >= 0",
));
const INVALID_FREQ: CmdError = CmdError(std::borrow::Cow::Borrowed(
    "ERR Invalid FREQ value, must be >= 0 and <= 255",
));

fn dump(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    // Compressed as rdbcompression says, as Redis's payloads are.
    let compress = crate::runtime::rdb_compression();
    let Some(e) = ctx.lookup_read(argv[1]) else {
        out.null();
        return Ok(());
    };
    out.bulk(&rdb::dump_entry(e, compress));
    Ok(())
}

/// RESTORE's options; -1 stands for "not given", as in Redis, where the two exclude each other.
struct Options {
    replace: bool,
    absttl: bool,
    idle: i64,
    freq: i64,
}

fn options(opts: &[&[u8]]) -> Result<Options, CmdError> {
    let mut o = Options {
        replace: false,
        absttl: false,
        idle: -1,
        freq: -1,
    };
    let mut j = 0;
    while j < opts.len() {
        let a = opts[j];
        let has_value = j + 1 < opts.len();
        if args::is(a, "replace") {
            o.replace = true;
        } else if args::is(a, "absttl") {
            o.absttl = true;
        } else if args::is(a, "idletime") && has_value && o.freq == -1 {
            o.idle = args::int(opts[j + 1])?;
            if o.idle < 0 {
                return Err(INVALID_IDLETIME);
            }
            j += 1;
        } else if args::is(a, "freq") && has_value && o.idle == -1 {
            o.freq = args::int(opts[j + 1])?;
            if !(0..=255).contains(&o.freq) {
                return Err(INVALID_FREQ);
            }
            j += 1;
        } else {
            return Err(err::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

fn restore(ctx: &mut Ctx, argv: &[&[u8]], out: &mut Out) -> CmdResult {
    let key = argv[1];
    // Redis's order of checks: options, the existing key, the TTL, the payload.
    let o = options(&argv[4..])?;
    if !o.replace && ctx.lookup(key).is_some() {
        return Err(BUSYKEY);
    }
    let ttl = args::int(argv[2])?;
    if ttl < 0 {
        return Err(INVALID_TTL);
    }
    let payload = argv[3];
    if !rdb::verify_dump_footer(payload, true) {
        return Err(BAD_PAYLOAD);
    }
    let value = match rdb::parse_dump(payload, true) {
        Ok(v) => v,
        Err(e)
            if payload
                .first()
                .is_some_and(|&t| rdb::is_unsupported_type(t)) =>
        {
            // Redis says only "Bad data format"; say which type shoal lacks, same prefix.
            return Err(CmdError::new(format!("ERR Bad data format: {}", e.msg)));
        }
        Err(_) => return Err(BAD_DATA),
    };

    let deleted = o.replace && ctx.db().remove(key).is_some();
    // As Redis (C signed arithmetic): a relative TTL that overflows lands in the past.
    let when = match (ttl, o.absttl) {
        (0, _) => None,
        (t, true) => Some(t),
        (t, false) => Some(t.wrapping_add(ctx.now as i64)),
    };
    if let Some(w) = when {
        if w <= ctx.now as i64 {
            // Already expired: the key is not created (and any replaced one stays deleted).
            if deleted {
                ctx.shard.dirty += 1;
            }
            out.ok();
            return Ok(());
        }
    }
    let clock = ctx.shard.lru_clock;
    let lru = if o.idle >= 0 {
        // The last access `idle` seconds ago, or as long ago as the clock can say.
        u32::try_from(o.idle).map_or(0, |idle| clock.saturating_sub(idle))
    } else {
        clock
    };
    // FREQ only matters under an LFU policy, which shoal does not have: validated, then unused.
    ctx.insert(value.into_entry(key, when.map(|w| w as u64), lru));
    out.ok();
    Ok(())
}
