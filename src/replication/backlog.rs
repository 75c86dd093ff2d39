//! The replication stream as shards produce it, and the backlog it goes into.
//!
//! Each shard encodes the writes it executes into its own `ShardProp` (RESP bytes plus marks
//! saying which database each command ran in, and where a unit of several commands starts and
//! ends). At the end of each message it ran, the shard appends them to the one backlog (a byte
//! stream with one offset, as Redis's): SELECT goes in where the database changes, and a unit of
//! more than one command (a transaction, or a command preceded by the deletion of keys it found
//! expired) is wrapped in MULTI ... EXEC, as Redis 7.0 wraps what one command propagates.

use std::collections::VecDeque;

pub const MULTI: &[u8] = b"*1\r\n$5\r\nMULTI\r\n";
pub const EXEC: &[u8] = b"*1\r\n$4\r\nEXEC\r\n";
pub const PING: &[u8] = b"*1\r\n$4\r\nping\r\n";
pub const GETACK: &[u8] = b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";

/// Appends `n` in decimal.
pub fn put_uint(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends a command as a RESP array of bulk strings.
pub fn encode(buf: &mut Vec<u8>, argv: &[&[u8]]) {
    buf.push(b'*');
    put_uint(buf, argv.len() as u64);
    buf.extend_from_slice(b"\r\n");
    for a in argv {
        buf.push(b'$');
        put_uint(buf, a.len() as u64);
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

fn encode_select(buf: &mut Vec<u8>, db: usize) {
    let mut n = Vec::with_capacity(4);
    put_uint(&mut n, db as u64);
    encode(buf, &[b"SELECT", &n]);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A command: the bytes since the previous mark.
    Op,
    /// MULTI (no bytes of its own); `db` is the database of the unit's first command, so the
    /// SELECT goes before the MULTI, as Redis emits it.
    Multi,
    Exec,
}

#[derive(Clone, Copy, Debug)]
pub struct Mark {
    pub kind: Kind,
    pub db: usize,
    /// End of this mark's bytes in the buffer.
    pub end: usize,
    /// The command's place in a transaction whose shards ran their parts at once
    /// (`NO_ORDER` otherwise): replicas get the commands in the order they were queued.
    pub order: u32,
}

pub const NO_ORDER: u32 = u32::MAX;

/// Commands encoded but not yet in the backlog: a buffer and its marks.
#[derive(Debug)]
pub struct Pending {
    pub data: Vec<u8>,
    pub marks: Vec<Mark>,
    /// `Mark::order` of the commands recorded from now on.
    pub order: u32,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            data: Vec::new(),
            marks: Vec::new(),
            order: NO_ORDER,
        }
    }
}

impl Pending {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }

    pub fn op(&mut self, db: usize, argv: &[&[u8]]) {
        encode(&mut self.data, argv);
        self.marks.push(Mark {
            kind: Kind::Op,
            db,
            end: self.data.len(),
            order: self.order,
        });
    }

    /// Number of commands (MULTI/EXEC marks not counted).
    pub fn ops(&self) -> usize {
        self.marks.iter().filter(|m| m.kind == Kind::Op).count()
    }

    /// Wraps the commands from mark `start` on in MULTI/EXEC when there is more than one.
    pub fn close_from(&mut self, start: usize) {
        let ops = self.marks[start..]
            .iter()
            .filter(|m| m.kind == Kind::Op)
            .count();
        if ops < 2 {
            return;
        }
        let at = if start == 0 {
            0
        } else {
            self.marks[start - 1].end
        };
        let db = self.marks[start].db;
        self.marks.insert(
            start,
            Mark {
                kind: Kind::Multi,
                db,
                end: at,
                order: NO_ORDER,
            },
        );
        self.marks.push(Mark {
            kind: Kind::Exec,
            db,
            end: self.data.len(),
            order: NO_ORDER,
        });
    }

    /// Moves the commands (only: no MULTI/EXEC) of `other` to the end of this one.
    pub fn take_ops_from(&mut self, other: &mut Pending) {
        let mut prev = 0;
        for m in &other.marks {
            if m.kind == Kind::Op {
                self.data.extend_from_slice(&other.data[prev..m.end]);
                self.marks.push(Mark {
                    end: self.data.len(),
                    ..*m
                });
            }
            prev = m.end;
        }
        other.clear();
    }

    /// Puts the commands in transaction order (a stable sort on `Mark::order`) when they carry
    /// one; only commands, no MULTI/EXEC, are expected here.
    pub fn sort_by_order(&mut self) {
        if self.marks.iter().all(|m| m.order == NO_ORDER) {
            return;
        }
        let mut spans: Vec<(u32, usize, usize, Mark)> = Vec::with_capacity(self.marks.len());
        let mut prev = 0;
        for m in &self.marks {
            spans.push((m.order, prev, m.end, *m));
            prev = m.end;
        }
        spans.sort_by_key(|s| s.0);
        let mut data = Vec::with_capacity(self.data.len());
        let mut marks = Vec::with_capacity(self.marks.len());
        for (_, a, b, m) in spans {
            data.extend_from_slice(&self.data[a..b]);
            marks.push(Mark {
                end: data.len(),
                ..m
            });
        }
        self.data = data;
        self.marks = marks;
    }

    /// Drops the first `n` marks and their bytes.
    pub fn consume(&mut self, n: usize) {
        if n >= self.marks.len() {
            self.clear();
            return;
        }
        if n == 0 {
            return;
        }
        let cut = self.marks[n - 1].end;
        self.data.drain(..cut);
        self.marks.drain(..n);
        for m in &mut self.marks {
            m.end -= cut;
        }
    }

    pub fn clear(&mut self) {
        self.data.clear();
        self.marks.clear();
        // A burst (a huge MSET) must not pin its buffer.
        if self.data.capacity() > 1 << 20 {
            self.data = Vec::new();
        }
        if self.marks.capacity() > 4096 {
            self.marks = Vec::new();
        }
    }
}

/// The backlog: the last bytes of the stream, and where the stream stands.
pub struct Backlog {
    buf: VecDeque<u8>,
    /// Offset of the first byte held (Redis's repl_backlog_first_byte_offset).
    pub first: u64,
    /// master_repl_offset: bytes of stream produced so far.
    pub offset: u64,
    /// The database the stream has selected (None: the next command needs a SELECT).
    pub db: Option<usize>,
}

impl Backlog {
    /// An empty backlog continuing a stream at `offset`.
    pub fn new(offset: u64) -> Backlog {
        Backlog {
            buf: VecDeque::new(),
            first: offset + 1,
            offset,
            db: None,
        }
    }

    pub fn histlen(&self) -> u64 {
        self.buf.len() as u64
    }

    pub fn put(&mut self, bytes: &[u8]) {
        self.buf.extend(bytes);
        self.offset += bytes.len() as u64;
    }

    fn select(&mut self, db: usize) {
        if self.db != Some(db) {
            let mut b = Vec::with_capacity(24);
            encode_select(&mut b, db);
            self.put(&b);
            self.db = Some(db);
        }
    }

    /// Appends pending commands, with SELECT and MULTI/EXEC as their marks say.
    pub fn append(&mut self, p: &Pending, upto: usize) {
        let mut prev = 0;
        for m in &p.marks[..upto] {
            match m.kind {
                Kind::Op => {
                    self.select(m.db);
                    self.put(&p.data[prev..m.end]);
                }
                Kind::Multi => {
                    self.select(m.db);
                    self.put(MULTI);
                }
                Kind::Exec => self.put(EXEC),
            }
            prev = m.end;
        }
    }

    /// Bytes from stream offset `from` (the next byte a replica needs), at most `max`.
    /// None when they are no longer held.
    pub fn read_from(&self, from: u64, max: usize, out: &mut Vec<u8>) -> Option<()> {
        if from < self.first {
            return None;
        }
        let start = (from - self.first) as usize;
        if start > self.buf.len() {
            return None;
        }
        let end = self.buf.len().min(start + max);
        let (a, b) = self.buf.as_slices();
        if start < a.len() {
            out.extend_from_slice(&a[start..end.min(a.len())]);
            if end > a.len() {
                out.extend_from_slice(&b[..end - a.len()]);
            }
        } else {
            out.extend_from_slice(&b[start - a.len()..end - a.len()]);
        }
        Some(())
    }

    /// Drops old bytes so that at most `keep` remain.
    pub fn trim(&mut self, keep: u64) {
        let len = self.buf.len() as u64;
        if len > keep {
            let cut = (len - keep) as usize;
            self.buf.drain(..cut);
            self.first += cut as u64;
            if self.buf.capacity() > 2 * self.buf.len().max(1 << 20) {
                self.buf.shrink_to(self.buf.len().max(1 << 20));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn select_multi_exec_as_redis() {
        let mut p = Pending::default();
        p.op(0, &[b"set", b"a", b"1"]);
        let start = p.marks.len();
        p.op(3, &[b"DEL", b"x"]);
        p.op(3, &[b"incr", b"x"]);
        p.close_from(start);
        p.op(3, &[b"set", b"b", b"2"]);
        let mut b = Backlog::new(0);
        b.append(&p, p.marks.len());
        let mut out = Vec::new();
        b.read_from(1, usize::MAX, &mut out).unwrap();
        assert_eq!(
            s(&out),
            "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n\
             *2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx\r\n\
             *2\r\n$4\r\nincr\r\n$1\r\nx\r\n*1\r\n$4\r\nEXEC\r\n*3\r\n$3\r\nset\r\n$1\r\nb\r\n$1\r\n2\r\n"
        );
        assert_eq!(b.offset, out.len() as u64);
        assert_eq!(b.first, 1);
    }

    #[test]
    fn one_command_is_not_wrapped_and_consume_rebases() {
        let mut p = Pending::default();
        p.op(0, &[b"a"]);
        p.close_from(0);
        assert_eq!(p.marks.len(), 1);
        p.op(1, &[b"b"]);
        p.op(1, &[b"c"]);
        p.consume(1);
        assert_eq!(s(&p.data), "*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n");
        assert_eq!(p.marks[1].end, p.data.len());
        let mut q = Pending::default();
        q.take_ops_from(&mut p);
        assert!(p.is_empty());
        assert_eq!(q.ops(), 2);
    }

    #[test]
    fn transaction_order_is_restored() {
        let mut a = Pending {
            order: 1,
            ..Default::default()
        };
        a.op(0, &[b"b"]);
        a.order = 3;
        a.op(0, &[b"d"]);
        let mut b = Pending {
            order: 0,
            ..Default::default()
        };
        b.op(0, &[b"a"]);
        b.order = 2;
        b.op(0, &[b"c"]);
        let mut sink = Pending::default();
        sink.take_ops_from(&mut a);
        sink.take_ops_from(&mut b);
        sink.sort_by_order();
        assert_eq!(
            s(&sink.data),
            "*1\r\n$1\r\na\r\n*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n*1\r\n$1\r\nd\r\n"
        );
        assert_eq!(sink.marks[3].end, sink.data.len());
    }

    #[test]
    fn trim_and_read_across_the_ring() {
        let mut b = Backlog::new(10);
        b.put(b"0123456789");
        b.trim(4);
        assert_eq!(b.first, 17);
        let mut out = Vec::new();
        assert!(b.read_from(16, 10, &mut out).is_none());
        b.read_from(17, 2, &mut out).unwrap();
        assert_eq!(out, b"67");
        b.put(b"ab");
        out.clear();
        b.read_from(19, 100, &mut out).unwrap();
        assert_eq!(out, b"89ab");
        out.clear();
        b.read_from(b.offset + 1, 100, &mut out).unwrap();
        assert!(out.is_empty());
        assert!(b.read_from(b.offset + 2, 100, &mut out).is_none());
    }
}
