//! Replies. Handlers write straight into an [`Out`], which encodes each reply for the
//! connection's protocol (RESP2 or RESP3) as it goes: the reply is described once, in RESP3 terms
//! (maps, sets, doubles, nulls), and `Out` lowers it to RESP2 where needed. [`Reply`] is the same
//! thing as a value, for replies computed on one shard and merged on another.

use crate::util::num::{format_double, format_i64};

/// Protocol version of a connection (HELLO 2 / HELLO 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Proto {
    #[default]
    Resp2,
    Resp3,
}

/// A reply as a value; `Send`, so shards can return it to the connection's shard.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Ok,
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// RESP2 `$-1`, RESP3 `_`.
    Null,
    /// RESP2 `*-1`, RESP3 `_`.
    NullArray,
    Array(Vec<Reply>),
    /// RESP3 map; flattened to an array in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Reply>),
    /// RESP3 double; a bulk string in RESP2.
    Double(f64),
    /// RESP3 boolean; the integer 0/1 in RESP2.
    Bool(bool),
    /// RESP3 verbatim string (`=`), e.g. INFO and CLIENT INFO; a bulk string in RESP2.
    Verbatim(Vec<u8>),
}

impl Reply {
    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(b.as_ref().to_vec())
    }
    pub fn simple(s: impl Into<String>) -> Reply {
        Reply::Simple(s.into())
    }
    pub fn error(s: impl Into<String>) -> Reply {
        Reply::Error(s.into())
    }
}

/// Reply encoder bound to one protocol version; appends to a byte buffer.
#[derive(Debug, Default)]
pub struct Out {
    pub buf: Vec<u8>,
    pub proto: Proto,
}

impl Out {
    pub fn new(proto: Proto) -> Out {
        Out {
            buf: Vec::new(),
            proto,
        }
    }

    #[inline]
    pub fn resp3(&self) -> bool {
        self.proto == Proto::Resp3
    }

    #[inline]
    fn header(&mut self, tag: u8, n: i64) {
        self.buf.push(tag);
        format_i64(n, &mut self.buf);
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A status reply; `s` must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply; `msg` is the full text including its code, e.g. "ERR syntax error".
    /// CR/LF inside would break framing, so they are replaced by spaces as Redis does.
    pub fn error(&mut self, msg: &str) {
        self.buf.push(b'-');
        for &b in msg.as_bytes() {
            self.buf
                .push(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.extend_from_slice(b"\r\n");
    }

    #[inline]
    pub fn int(&mut self, v: i64) {
        self.header(b':', v);
    }

    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// A bulk string holding the decimal form of `v` (e.g. INCRBYFLOAT-style replies of ints).
    pub fn bulk_int(&mut self, v: i64) {
        let mut tmp = Vec::with_capacity(20);
        format_i64(v, &mut tmp);
        self.bulk(&tmp);
    }

    #[inline]
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    #[inline]
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    #[inline]
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// A map of `n` pairs: `%n` in RESP3, an array of 2n in RESP2.
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    pub fn set(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    pub fn double(&mut self, v: f64) {
        let mut tmp = Vec::with_capacity(24);
        format_double(v, &mut tmp);
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(&tmp);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(&tmp);
        }
    }

    pub fn bool(&mut self, v: bool) {
        if self.resp3() {
            self.buf
                .extend_from_slice(if v { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.int(v as i64);
        }
    }

    /// Verbatim text (`=N\r\ntxt:...`) in RESP3, a bulk string in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3() {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    pub fn reply(&mut self, r: &Reply) {
        match r {
            Reply::Ok => self.ok(),
            Reply::Simple(s) => self.simple(s),
            Reply::Error(e) => self.error(e),
            Reply::Int(i) => self.int(*i),
            Reply::Bulk(b) => self.bulk(b),
            Reply::Null => self.null(),
            Reply::NullArray => self.null_array(),
            Reply::Array(items) => {
                self.array(items.len());
                for i in items {
                    self.reply(i);
                }
            }
            Reply::Map(pairs) => {
                self.map(pairs.len());
                for (k, v) in pairs {
                    self.reply(k);
                    self.reply(v);
                }
            }
            Reply::Set(items) => {
                self.set(items.len());
                for i in items {
                    self.reply(i);
                }
            }
            Reply::Double(d) => self.double(*d),
            Reply::Bool(b) => self.bool(*b),
            Reply::Verbatim(t) => self.verbatim(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(proto: Proto, r: &Reply) -> String {
        let mut o = Out::new(proto);
        o.reply(r);
        String::from_utf8(o.buf).unwrap()
    }

    #[test]
    fn resp2_lowers_resp3_types() {
        let m = Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]);
        assert_eq!(enc(Proto::Resp2, &m), "*2\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(Proto::Resp3, &m), "%1\r\n$1\r\na\r\n:1\r\n");
        assert_eq!(enc(Proto::Resp2, &Reply::Null), "$-1\r\n");
        assert_eq!(enc(Proto::Resp2, &Reply::NullArray), "*-1\r\n");
        assert_eq!(enc(Proto::Resp3, &Reply::NullArray), "_\r\n");
        assert_eq!(enc(Proto::Resp2, &Reply::Bool(true)), ":1\r\n");
        assert_eq!(enc(Proto::Resp3, &Reply::Bool(false)), "#f\r\n");
        assert_eq!(enc(Proto::Resp2, &Reply::Double(1.5)), "$3\r\n1.5\r\n");
        assert_eq!(enc(Proto::Resp3, &Reply::Double(1.5)), ",1.5\r\n");
        assert_eq!(
            enc(Proto::Resp3, &Reply::Verbatim(b"hi".to_vec())),
            "=6\r\ntxt:hi\r\n"
        );
    }

    #[test]
    fn errors_never_break_framing() {
        assert_eq!(
            enc(Proto::Resp2, &Reply::error("ERR a\r\nb")),
            "-ERR a  b\r\n"
        );
    }
}
