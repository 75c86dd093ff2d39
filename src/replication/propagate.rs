//! What a write propagates to replicas, as Redis 7.0 rewrites it (byte-compared with what a
//! redis-server master sends its replica for the same commands):
//! - relative expiries become absolute: SET .. EX/PX/EXAT and SETEX/PSETEX become
//!   `SET key value PXAT <ms>`; EXPIRE/PEXPIRE/EXPIREAT become `PEXPIREAT key <ms> [flags]`;
//!   GETEX becomes PEXPIREAT or PERSIST; an expiry in the past becomes `DEL key`;
//! - GETDEL becomes DEL, GETSET becomes SET, INCRBYFLOAT becomes `SET key <value> KEEPTTL`;
//! - XADD gets the ID it generated, and an approximate trim (`~`) becomes the exact trim it did;
//! - XREADGROUP, XCLAIM and XAUTOCLAIM become one XCLAIM per pending entry they changed (or
//!   XGROUP SETID when only the group's last ID moved);
//! - everything else goes as the client sent it.

use crate::commands::args::is;
use crate::commands::stream::as_stream;
use crate::storage::stream::{Group, StreamId};
use crate::storage::Db;

use super::backlog::Pending;

/// State a command's propagation needs from before it ran (stream groups: their PEL).
pub struct Before {
    groups: Vec<(Vec<u8>, Vec<u8>, Option<Group>)>,
}

fn group_of(dbs: &[Db], db: usize, now: u64, key: &[u8], group: &[u8]) -> Option<Group> {
    let e = dbs[db].peek(key, now)?;
    as_stream(e)?.group(group).cloned()
}

/// XREADGROUP's group, consumer, the keys it reads new entries (`>`) of, and NOACK.
type GroupRead<'a> = (&'a [u8], &'a [u8], Vec<&'a [u8]>, bool);

fn xreadgroup_keys<'a>(argv: &[&'a [u8]]) -> Option<GroupRead<'a>> {
    let mut i = 1;
    let (mut group, mut consumer, mut noack) = (None, None, false);
    while i < argv.len() {
        let a = argv[i];
        if is(a, "GROUP") {
            group = argv.get(i + 1).copied();
            consumer = argv.get(i + 2).copied();
            i += 3;
        } else if is(a, "NOACK") {
            noack = true;
            i += 1;
        } else if is(a, "STREAMS") {
            let rest = &argv[i + 1..];
            let n = rest.len() / 2;
            // Reading a consumer's history changes delivery counters but propagates nothing.
            let keys = rest[..n]
                .iter()
                .zip(&rest[n..])
                .filter(|(_, id)| **id == b">")
                .map(|(k, _)| *k)
                .collect();
            return Some((group?, consumer?, keys, noack));
        } else {
            i += 2;
        }
    }
    None
}

/// Called before a write runs (only while propagating): what its propagation will need.
pub fn before(dbs: &[Db], db: usize, now: u64, name: &str, argv: &[&[u8]]) -> Option<Box<Before>> {
    let groups = match name {
        "xreadgroup" => {
            let (group, _, keys, _) = xreadgroup_keys(argv)?;
            keys.iter()
                .map(|k| (k.to_vec(), group.to_vec(), group_of(dbs, db, now, k, group)))
                .collect()
        }
        "xclaim" | "xautoclaim" if argv.len() > 2 => {
            vec![(
                argv[1].to_vec(),
                argv[2].to_vec(),
                group_of(dbs, db, now, argv[1], argv[2]),
            )]
        }
        _ => return None,
    };
    Some(Box::new(Before { groups }))
}

fn ms(v: u64) -> Vec<u8> {
    v.to_string().into_bytes()
}

fn id_bytes(id: StreamId) -> Vec<u8> {
    let mut v = Vec::with_capacity(24);
    id.write_to(&mut v);
    v
}

/// Appends what a write that changed the dataset propagates.
pub fn command(
    p: &mut Pending,
    dbs: &[Db],
    db: usize,
    now: u64,
    name: &str,
    argv: &[&[u8]],
    before: Option<Box<Before>>,
) {
    let key = argv.get(1).copied().unwrap_or(b"");
    let expire_at = |k: &[u8]| dbs[db].peek(k, now).and_then(|e| e.expire_at());
    let present = |k: &[u8]| dbs[db].peek(k, now).is_some();
    match name {
        "set" => {
            let expiring = argv
                .iter()
                .skip(3)
                .any(|a| is(a, "EX") || is(a, "PX") || is(a, "EXAT") || is(a, "PXAT"));
            match expire_at(key) {
                Some(at) if expiring && argv.len() > 2 => {
                    p.op(db, &[b"SET", key, argv[2], b"PXAT", &ms(at)]);
                }
                // Without the GET option(s): replicas do not reply.
                _ => {
                    let v: Vec<&[u8]> = argv
                        .iter()
                        .enumerate()
                        .filter(|(i, a)| *i < 3 || !is(a, "GET"))
                        .map(|(_, a)| *a)
                        .collect();
                    p.op(db, &v);
                }
            }
        }
        "setex" | "psetex" if argv.len() == 4 => match expire_at(key) {
            Some(at) => p.op(db, &[b"SET", key, argv[3], b"PXAT", &ms(at)]),
            None => p.op(db, argv),
        },
        "getex" => {
            if !present(key) {
                p.op(db, &[b"DEL", key]);
            } else if argv.iter().skip(2).any(|a| is(a, "PERSIST")) {
                p.op(db, &[b"PERSIST", key]);
            } else if let Some(at) = expire_at(key) {
                p.op(db, &[b"PEXPIREAT", key, &ms(at)]);
            } else {
                p.op(db, argv);
            }
        }
        "getdel" => p.op(db, &[b"DEL", key]),
        "getset" if argv.len() == 3 => p.op(db, &[b"SET", key, argv[2]]),
        "expire" | "pexpire" | "expireat" | "pexpireat" => {
            if !present(key) {
                p.op(db, &[b"DEL", key]);
            } else if name == "pexpireat" {
                p.op(db, argv);
            } else if let Some(at) = expire_at(key) {
                let at = ms(at);
                let mut v: Vec<&[u8]> = vec![b"PEXPIREAT", key, &at];
                v.extend_from_slice(argv.get(3..).unwrap_or(&[]));
                p.op(db, &v);
            } else {
                p.op(db, argv);
            }
        }
        "incrbyfloat" => match dbs[db].peek(key, now).filter(|e| e.is_string()) {
            Some(e) => p.op(db, &[b"SET", key, e.value(), b"KEEPTTL"]),
            None => p.op(db, argv),
        },
        "xadd" => xadd(p, dbs, db, now, argv),
        "xtrim" => xtrim(p, dbs, db, now, argv),
        "xreadgroup" | "xclaim" | "xautoclaim" => match before {
            Some(b) => group_changes(p, dbs, db, now, name, argv, *b),
            None => p.op(db, argv),
        },
        _ => p.op(db, argv),
    }
}

/// Position of the trim threshold (and whether `~` was given) and of the ID in XADD/XTRIM
/// arguments, as Redis parses them.
struct TrimArgs {
    /// Index of `~`/`=` if given, of the threshold.
    op: Option<usize>,
    threshold: Option<usize>,
    approx: bool,
    minid: bool,
    /// First argument after the options (XADD: the ID).
    end: usize,
}

fn trim_args(argv: &[&[u8]], from: usize, xadd: bool) -> TrimArgs {
    let mut t = TrimArgs {
        op: None,
        threshold: None,
        approx: false,
        minid: false,
        end: argv.len(),
    };
    let mut i = from;
    while i < argv.len() {
        let a = argv[i];
        if xadd && is(a, "NOMKSTREAM") {
            i += 1;
        } else if is(a, "MAXLEN") || is(a, "MINID") {
            t.minid = is(a, "MINID");
            i += 1;
            if let Some(o) = argv.get(i) {
                if *o == b"~" || *o == b"=" {
                    t.approx = *o == b"~";
                    t.op = Some(i);
                    i += 1;
                }
            }
            t.threshold = Some(i);
            i += 1;
        } else if is(a, "LIMIT") {
            i += 2;
        } else {
            t.end = i;
            return t;
        }
    }
    t
}

/// An approximate trim is propagated as the exact one it amounted to: `= <length>` for MAXLEN,
/// `= <first ID>` for MINID.
fn rewrite_trim(v: &mut [Vec<u8>], t: &TrimArgs, s: &crate::storage::stream::Stream) {
    let (Some(op), Some(th)) = (t.op, t.threshold) else {
        return;
    };
    if !t.approx || th >= v.len() {
        return;
    }
    v[op] = b"=".to_vec();
    v[th] = if t.minid {
        // Redis's streamGetEdgeID with tombstones: the first ID stored, or the largest ID
        // when the stream is empty.
        id_bytes(
            s.first_stored_id()
                .unwrap_or(StreamId::new(u64::MAX, u64::MAX)),
        )
    } else {
        ms(s.len())
    };
}

fn xadd(p: &mut Pending, dbs: &[Db], db: usize, now: u64, argv: &[&[u8]]) {
    let Some(s) = argv
        .get(1)
        .and_then(|k| dbs[db].peek(k, now))
        .and_then(as_stream)
    else {
        return p.op(db, argv);
    };
    let t = trim_args(argv, 2, true);
    let mut v: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    if let Some(id) = v.get_mut(t.end) {
        // `*` and `<ms>-*` are replaced by the ID the entry got.
        if id.as_slice() == b"*" || id.ends_with(b"-*") {
            *id = id_bytes(s.last_id());
        }
    }
    rewrite_trim(&mut v, &t, s);
    let refs: Vec<&[u8]> = v.iter().map(|a| &a[..]).collect();
    p.op(db, &refs);
}

fn xtrim(p: &mut Pending, dbs: &[Db], db: usize, now: u64, argv: &[&[u8]]) {
    let Some(s) = argv
        .get(1)
        .and_then(|k| dbs[db].peek(k, now))
        .and_then(as_stream)
    else {
        return p.op(db, argv);
    };
    let t = trim_args(argv, 2, false);
    let mut v: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    rewrite_trim(&mut v, &t, s);
    let refs: Vec<&[u8]> = v.iter().map(|a| &a[..]).collect();
    p.op(db, &refs);
}

/// XCLAIM's arguments: the IDs, in the order given.
fn xclaim_ids(argv: &[&[u8]]) -> Vec<StreamId> {
    argv.iter()
        .skip(5)
        .map_while(|a| StreamId::parse_strict(a, 0).ok())
        .collect()
}

/// XREADGROUP/XCLAIM/XAUTOCLAIM: one XCLAIM per pending entry changed, in Redis's order (the
/// order delivered or claimed); an entry dropped from the PEL (its stream entry was deleted) is
/// propagated with its old owner and counters, which makes the replica drop it too. When only
/// the group's last ID moved (NOACK reads), XGROUP SETID, after the creation of the consumer.
#[allow(clippy::too_many_arguments)]
fn group_changes(
    p: &mut Pending,
    dbs: &[Db],
    db: usize,
    now: u64,
    name: &str,
    argv: &[&[u8]],
    before: Before,
) {
    let consumer_arg = match name {
        "xreadgroup" => xreadgroup_keys(argv).map(|x| x.1),
        _ => argv.get(3).copied(),
    };
    for (key, gname, old) in before.groups {
        let Some(new) = group_of(dbs, db, now, &key, &gname) else {
            continue;
        };
        let old_pel = |id: StreamId| old.as_ref().and_then(|g| g.pending_entry(id).copied());
        let mut ids: Vec<StreamId> = if name == "xclaim" {
            xclaim_ids(argv)
        } else {
            let mut v: Vec<StreamId> = new.pending().map(|(id, _)| id).collect();
            if let Some(g) = &old {
                v.extend(g.pending().map(|(id, _)| id));
            }
            v.sort_unstable();
            v.dedup();
            v
        };
        ids.dedup();
        let last = id_bytes(new.last_id());
        let mut claims = 0;
        for id in ids {
            let before_e = old_pel(id);
            let after_e = new.pending_entry(id).copied();
            let (owner, e) = match (before_e, after_e) {
                (Some(b), None) => {
                    let g = old.as_ref().map_or(&new, |g| g);
                    (g.owner(&b).to_vec(), b)
                }
                (b, Some(a)) => {
                    let same = b.is_some_and(|b| {
                        b.delivery_time_ms() == a.delivery_time_ms()
                            && b.delivery_count() == a.delivery_count()
                            && old.as_ref().map(|g| g.owner(&b)) == Some(new.owner(&a))
                    });
                    if same {
                        continue;
                    }
                    (new.owner(&a).to_vec(), a)
                }
                (None, None) => continue,
            };
            let idb = id_bytes(id);
            // A read with `>` moves the group's last ID entry by entry.
            let lastid = if name == "xreadgroup" { &idb } else { &last };
            p.op(
                db,
                &[
                    b"XCLAIM",
                    &key,
                    &gname,
                    &owner,
                    b"0",
                    &idb,
                    b"TIME",
                    &ms(e.delivery_time_ms()),
                    b"RETRYCOUNT",
                    &ms(e.delivery_count()),
                    b"FORCE",
                    b"JUSTID",
                    b"LASTID",
                    lastid,
                ],
            );
            claims += 1;
        }
        let moved = old.as_ref().map(|g| g.last_id()) != Some(new.last_id());
        if claims == 0 && moved {
            if let Some(c) = consumer_arg {
                let existed = old.as_ref().is_some_and(|g| g.consumer(c).is_some());
                if !existed && new.consumer(c).is_some() {
                    p.op(db, &[b"XGROUP", b"CREATECONSUMER", &key, &gname, c]);
                }
            }
            let read = match new.entries_read() {
                Some(n) => n.to_string().into_bytes(),
                None => b"-1".to_vec(),
            };
            p.op(
                db,
                &[
                    b"XGROUP",
                    b"SETID",
                    &key,
                    &gname,
                    &last,
                    b"ENTRIESREAD",
                    &read,
                ],
            );
        }
    }
}
