//! The command table and the command families (one file each, like Redis's t_string.c).
//!
//! The table is data: name, arity, flags, key positions and how the command runs. Routing
//! (which shard), the connection loop, COMMAND INFO/DOCS and stats all read it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::protocol::Out;
use crate::runtime::shard::Shard;
use crate::server::conn::ConnCtx;
use crate::storage::{Db, Entry};

pub mod bits;
pub mod dump;
pub mod keyspace;
pub mod persistence;
pub mod replication;
pub mod server;
pub mod stream;
pub mod stream_group;
pub mod stream_read;
pub mod string;
pub mod transaction;

/// Command flags, as in Redis's command table (`COMMAND INFO` prints their names).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const FAST: u32 = 1 << 9;
    pub const NO_AUTH: u32 = 1 << 10;
    pub const NO_MULTI: u32 = 1 << 11;
    pub const ALLOW_BUSY: u32 = 1 << 12;
    pub const NO_ASYNC_LOADING: u32 = 1 << 13;
    pub const SKIP_SLOWLOG: u32 = 1 << 14;

    /// In Redis 7.0's order (COMMAND INFO lists flags in this order).
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// An error reply from a command; the text includes its code ("ERR ...", "WRONGTYPE ...").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub Cow<'static, str>);

impl CmdError {
    pub fn new(s: impl Into<Cow<'static, str>>) -> CmdError {
        CmdError(s.into())
    }
}

pub type CmdResult = Result<(), CmdError>;

/// Redis's shared error texts.
pub mod err {
    use super::CmdError;
    use std::borrow::Cow::Borrowed;
    pub const SYNTAX: CmdError = CmdError(Borrowed("ERR syntax error"));
    pub const NOT_INT: CmdError = CmdError(Borrowed("ERR value is not an integer or out of range"));
    pub const NOT_FLOAT: CmdError = CmdError(Borrowed("ERR value is not a valid float"));
    pub const WRONGTYPE: CmdError = CmdError(Borrowed(
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    ));
    pub const NO_SUCH_KEY: CmdError = CmdError(Borrowed("ERR no such key"));
    pub const OVERFLOW: CmdError = CmdError(Borrowed("ERR increment or decrement would overflow"));
    pub const DB_INDEX: CmdError = CmdError(Borrowed("ERR DB index is out of range"));
    pub const STRING_TOO_LONG: CmdError = CmdError(Borrowed(
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
    ));
    pub const BIT_OFFSET: CmdError =
        CmdError(Borrowed("ERR bit offset is not an integer or out of range"));
    pub const BIT_VALUE: CmdError = CmdError(Borrowed("ERR bit is not an integer or out of range"));

    /// "ERR invalid expire time in 'set' command"
    pub fn invalid_expire(cmd: &str) -> CmdError {
        CmdError::new(format!("ERR invalid expire time in '{cmd}' command"))
    }
}

/// Execution context of a data command: the shard that owns its keys.
pub struct Ctx<'a> {
    pub shard: &'a mut Shard,
    /// The client's selected database.
    pub db: usize,
    /// Time of this command, ms since the epoch (one clock reading per batch, as Redis caches it).
    pub now: u64,
}

impl<'a> Ctx<'a> {
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.shard.dbs[self.db]
    }

    /// Looks a key up in the selected db with lazy expiry, counting expired keys; touches LRU.
    #[inline]
    pub fn lookup(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let lru = self.shard.lru_clock;
        let (e, expired) = self.shard.dbs[self.db].lookup(key, self.now);
        if expired {
            self.shard.stats.expired_keys += 1;
        }
        e.map(|e| {
            e.touch(lru);
            &mut *e
        })
    }

    /// A read lookup that also counts keyspace hits and misses (GET-like commands).
    #[inline]
    pub fn lookup_read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let lru = self.shard.lru_clock;
        let (e, expired) = self.shard.dbs[self.db].lookup(key, self.now);
        if expired {
            self.shard.stats.expired_keys += 1;
        }
        match e {
            Some(e) => {
                self.shard.stats.keyspace_hits += 1;
                e.touch(lru);
                Some(e)
            }
            None => {
                self.shard.stats.keyspace_misses += 1;
                None
            }
        }
    }

    /// `lookup` for string commands: WRONGTYPE if the key holds another type.
    #[inline]
    pub fn lookup_str(&mut self, key: &[u8]) -> Result<Option<&mut Entry>, CmdError> {
        match self.lookup(key) {
            Some(e) if !e.is_string() => Err(err::WRONGTYPE),
            e => Ok(e),
        }
    }

    /// `lookup_read` for string commands: WRONGTYPE if the key holds another type.
    #[inline]
    pub fn lookup_read_str(&mut self, key: &[u8]) -> Result<Option<&mut Entry>, CmdError> {
        match self.lookup_read(key) {
            Some(e) if !e.is_string() => Err(err::WRONGTYPE),
            e => Ok(e),
        }
    }

    /// This command's changes do not count as modifying its keys for WATCH (Redis calls no
    /// signalModifiedKey for XACK, XCLAIM, XSETID, XREADGROUP...).
    pub fn not_modified(&mut self) {
        self.shard.quiet |= crate::runtime::shard::QUIET_WATCH;
    }

    /// Nor do they make clients blocked on its keys ready (only XADD, XGROUP DESTROY and
    /// deletions do, in Redis: moving an ID must not serve a blocked reader).
    pub fn not_ready(&mut self) {
        self.shard.quiet |= crate::runtime::shard::QUIET_READY;
    }

    /// Whether a live key exists (no hit/miss accounting).
    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.lookup(key).is_some()
    }

    /// Stores a string value, replacing any previous value; `expire_at` None drops any TTL.
    pub fn set(&mut self, key: &[u8], value: &[u8], expire_at: Option<u64>) {
        let lru = self.shard.lru_clock;
        self.shard.dbs[self.db].insert(Entry::new(key, value, expire_at, lru));
        self.shard.dirty += 1;
    }

    pub fn insert(&mut self, e: Entry) {
        self.shard.dbs[self.db].insert(e);
        self.shard.dirty += 1;
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let now = self.now;
        let db = &mut self.shard.dbs[self.db];
        let e = db.remove(key)?;
        if e.is_expired(now) {
            db.note_expired(key);
            self.shard.stats.expired_keys += 1;
            return None;
        }
        self.shard.dirty += 1;
        Some(e)
    }
}

/// A data command: runs on the shard owning its keys (or the connection's shard if keyless).
pub type DataFn = fn(&mut Ctx, &[&[u8]], &mut Out) -> CmdResult;

/// A connection command: runs on the connection, may hand global work to the coordinator.
pub type ConnFn =
    fn(&mut ConnCtx, &[&[u8]], &mut Out) -> Result<crate::server::conn::Effect, CmdError>;

/// Which shard a data command goes to.
#[derive(Clone, Copy)]
pub enum Route {
    /// By its keys (Command::first_key..): one shard, or the coordinator when they span shards.
    Keys,
    /// By a custom rule on the arguments (SCAN: the shard is in the cursor). Returns None to run
    /// on the connection's shard.
    Custom(fn(&[&[u8]], usize) -> Option<usize>),
}

#[derive(Clone, Copy)]
pub enum Run {
    Data(DataFn, Route),
    Conn(ConnFn),
}

pub struct Command {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: N exact, -N at least N (the name counts).
    pub arity: i32,
    pub flags: u32,
    /// Key positions (1-based; last may be negative, counting from the end; 0 = no keys).
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// ACL categories for COMMAND INFO, e.g. "@string @fast".
    pub categories: &'static str,
    /// COMMAND DOCS.
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub run: Run,
    /// Key positions that depend on the arguments (Redis's movablekeys: XREAD's keys follow
    /// STREAMS; a container's key is its subcommand's). Overrides first/last/step.
    pub movable_keys: Option<MovableKeys>,
}

/// Positions of the keys in `args` (args[0] is the name), for commands whose keys move.
pub type MovableKeys = fn(&[&[u8]]) -> std::ops::Range<usize>;

/// The key of a container command's subcommand (`XGROUP CREATE key ...`, `OBJECT ENCODING key`).
pub fn subcommand_key(args: &[&[u8]]) -> std::ops::Range<usize> {
    if args.len() > 2 {
        2..3
    } else {
        0..0
    }
}

/// Key positions: a range with a step (the table's), or a computed range (movable keys).
pub struct KeyPositions {
    next: usize,
    end: usize,
    step: usize,
}

impl Iterator for KeyPositions {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        self.next += self.step;
        Some(i)
    }
}

impl Command {
    /// One table row; `keys` is (first, last, step), (0, 0, 0) for a command without keys.
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        keys: (i32, i32, i32),
        categories: &'static str,
        group: &'static str,
        summary: &'static str,
        since: &'static str,
        run: Run,
    ) -> Command {
        Command {
            name,
            arity,
            flags,
            first_key: keys.0,
            last_key: keys.1,
            step: keys.2,
            categories,
            group,
            summary,
            since,
            run,
            movable_keys: None,
        }
    }

    /// The same row with keys computed from the arguments.
    pub const fn with_movable_keys(mut self, f: MovableKeys) -> Command {
        self.movable_keys = Some(f);
        self
    }

    /// Positions of key arguments in `args` (args[0] is the name).
    #[inline]
    pub fn key_positions<A: AsRef<[u8]>>(&self, args: &[A]) -> KeyPositions {
        if let Some(f) = self.movable_keys {
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_ref()).collect();
            let r = f(&argv);
            return KeyPositions {
                next: r.start,
                end: r.end.min(args.len()),
                step: 1,
            };
        }
        let nargs = args.len() as i32;
        let step = self.step.max(1) as usize;
        let last = if self.last_key < 0 {
            nargs + self.last_key
        } else {
            self.last_key.min(nargs - 1)
        };
        if self.first_key <= 0 || last < self.first_key {
            return KeyPositions {
                next: 0,
                end: 0,
                step,
            };
        }
        KeyPositions {
            next: self.first_key as usize,
            end: last as usize + 1,
            step,
        }
    }

    pub fn arity_ok(&self, nargs: usize) -> bool {
        let n = nargs as i32;
        if self.arity >= 0 {
            n == self.arity
        } else {
            n >= -self.arity
        }
    }

    pub fn is_write(&self) -> bool {
        self.flags & flags::WRITE != 0
    }
}

/// Every command, in one table. Index = position, used for per-command stats.
pub fn table() -> &'static [Command] {
    static T: OnceLock<Vec<Command>> = OnceLock::new();
    T.get_or_init(|| {
        let mut v: Vec<Command> = Vec::new();
        v.extend(string::commands());
        v.extend(bits::commands());
        v.extend(keyspace::commands());
        v.extend(dump::commands());
        v.extend(server::commands());
        v.extend(persistence::commands());
        v.extend(replication::commands());
        v.extend(transaction::commands());
        v.extend(stream::commands());
        v.extend(stream_group::commands());
        v.extend(stream_read::commands());
        v
    })
}

fn index() -> &'static HashMap<&'static [u8], usize, ahash::RandomState> {
    static I: OnceLock<HashMap<&'static [u8], usize, ahash::RandomState>> = OnceLock::new();
    I.get_or_init(|| {
        table()
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), i))
            .collect()
    })
}

/// Finds a command by name, case-insensitively, without allocating.
#[inline]
pub fn lookup(name: &[u8]) -> Option<(usize, &'static Command)> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let i = *index().get(&*lower)?;
    Some((i, &table()[i]))
}

/// The reply Redis gives for an unknown command.
pub fn unknown_command_error(args: &[&[u8]]) -> String {
    let name: &[u8] = args.first().copied().unwrap_or(b"");
    // As Redis: quoted args appended while the list is under 128 bytes, each cut to what is left.
    let mut list = String::new();
    for a in args.iter().skip(1) {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push_str(&format!(
            "'{}' ",
            String::from_utf8_lossy(&a[..a.len().min(room)])
        ));
    }
    format!(
        "ERR unknown command '{}', with args beginning with: {}",
        String::from_utf8_lossy(&name[..name.len().min(128)]),
        list
    )
}

pub fn arity_error(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

/// Argument helpers shared by the families.
pub mod args {
    use super::{err, CmdError};
    use crate::util::num::{parse_f64, parse_i64};

    pub fn int(a: &[u8]) -> Result<i64, CmdError> {
        parse_i64(a).ok_or(err::NOT_INT)
    }

    pub fn float(a: &[u8]) -> Result<f64, CmdError> {
        parse_f64(a).ok_or(err::NOT_FLOAT)
    }

    /// Case-insensitive comparison with an ASCII option name.
    #[inline]
    pub fn is(a: &[u8], opt: &str) -> bool {
        a.eq_ignore_ascii_case(opt.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_unique_lowercase_and_fits_lookup() {
        let mut seen = std::collections::HashSet::new();
        for c in table() {
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            assert_eq!(c.name, c.name.to_lowercase());
            assert!(c.name.len() <= 32);
            assert!(c.arity != 0);
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"GeT").unwrap().1.name, "get");
        assert!(lookup(b"nosuchcommand").is_none());
        assert!(lookup(&[b'a'; 100]).is_none());
    }

    #[test]
    fn key_positions_follow_the_spec() {
        let (_, mset) = lookup(b"mset").unwrap();
        let args: [&[u8]; 5] = [b"mset", b"a", b"1", b"b", b"2"];
        assert_eq!(mset.key_positions(&args).collect::<Vec<_>>(), vec![1, 3]);
        let (_, del) = lookup(b"del").unwrap();
        assert_eq!(
            del.key_positions(&args[..4]).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        let (_, ping) = lookup(b"ping").unwrap();
        assert_eq!(ping.key_positions(&args[..1]).count(), 0);
    }

    #[test]
    fn unknown_command_text_matches_redis() {
        let args: Vec<&[u8]> = vec![b"foo", b"a", b"b"];
        assert_eq!(
            unknown_command_error(&args),
            "ERR unknown command 'foo', with args beginning with: 'a' 'b' "
        );
    }

    /// Every data command against a key holding another type (a test object, as no other
    /// type exists yet): string commands answer WRONGTYPE and change nothing; commands that
    /// overwrite or work on any type behave as Redis's do.
    #[test]
    fn string_commands_refuse_other_types() {
        use crate::protocol::Proto;
        use crate::runtime::shard::Shard;
        use crate::storage::object::Blob;
        const WT: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        let run = |sh: &mut Shard, args: &[&str]| -> String {
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            let (idx, _) = lookup(argv[0]).unwrap();
            let mut out = Out::new(Proto::Resp2);
            sh.execute(0, 1_000, idx, &argv, &mut out);
            String::from_utf8_lossy(&out.buf).into_owned()
        };
        let fresh = || {
            let mut sh = Shard::new(0, 1);
            sh.dbs[0].insert(Entry::new_obj(b"o", Box::new(Blob(b"x".to_vec())), None, 0));
            sh.dbs[0].insert(Entry::new(b"s", b"abc", None, 0));
            sh
        };
        let refused: &[&[&str]] = &[
            &["get", "o"],
            &["getdel", "o"],
            &["getex", "o", "EX", "10"],
            &["getset", "o", "v"],
            &["set", "o", "v", "GET"],
            &["append", "o", "v"],
            &["strlen", "o"],
            &["getrange", "o", "0", "1"],
            &["substr", "o", "0", "1"],
            &["setrange", "o", "0", "v"],
            &["incr", "o"],
            &["decr", "o"],
            &["incrby", "o", "2"],
            &["decrby", "o", "2"],
            &["incrbyfloat", "o", "1.5"],
            &["setbit", "o", "1", "1"],
            &["getbit", "o", "1"],
            &["bitcount", "o"],
            &["bitpos", "o", "1"],
            &["bitop", "and", "d", "o", "s"],
            &["bitfield", "o", "get", "u8", "0"],
            &["bitfield_ro", "o", "get", "u8", "0"],
        ];
        for args in refused {
            let mut sh = fresh();
            assert_eq!(run(&mut sh, args), WT, "{args:?}");
            let e = sh.dbs[0].peek(b"o", 0).unwrap();
            assert_eq!(e.type_name(), "blob", "{args:?} changed the key");
            assert!(sh.dbs[0].peek(b"d", 0).is_none(), "{args:?}");
        }
        let mut sh = fresh();
        assert_eq!(
            run(&mut sh, &["lcs", "o", "s"]),
            "-ERR The specified keys must contain string values\r\n"
        );
        assert_eq!(
            run(&mut sh, &["mget", "s", "o", "none"]),
            "*3\r\n$3\r\nabc\r\n$-1\r\n$-1\r\n"
        );
        assert_eq!(run(&mut sh, &["type", "o"]), "+blob\r\n");
        assert_eq!(run(&mut sh, &["object", "encoding", "o"]), "$4\r\nblob\r\n");
        assert_eq!(run(&mut sh, &["exists", "o"]), ":1\r\n");
        assert_eq!(run(&mut sh, &["expire", "o", "100"]), ":1\r\n");
        // DUMP writes the object's own encoding (the test object writes a string).
        assert!(run(&mut sh, &["dump", "o"]).starts_with("$"));
        assert_eq!(run(&mut sh, &["rename", "o", "o2"]), "+OK\r\n");
        assert_eq!(run(&mut sh, &["type", "o2"]), "+blob\r\n");
        assert_eq!(run(&mut sh, &["copy", "o2", "o3"]), ":1\r\n");
        assert_eq!(run(&mut sh, &["type", "o3"]), "+blob\r\n");
        assert!(sh.dbs[0]
            .peek(b"o3", 0)
            .unwrap()
            .same_data(&sh.dbs[0].peek(b"o2", 0).unwrap().with_key(b"o3")));
        // SET overwrites whatever type was there; MSET too; SETNX sees the key exists.
        assert_eq!(run(&mut sh, &["setnx", "o3", "v"]), ":0\r\n");
        assert_eq!(run(&mut sh, &["set", "o2", "v"]), "+OK\r\n");
        assert_eq!(run(&mut sh, &["get", "o2"]), "$1\r\nv\r\n");
        assert_eq!(run(&mut sh, &["mset", "o3", "w"]), "+OK\r\n");
        assert_eq!(run(&mut sh, &["type", "o3"]), "+string\r\n");
        assert_eq!(run(&mut sh, &["del", "o3"]), ":1\r\n");
    }
}
