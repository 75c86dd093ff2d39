//! The RDB format: an encoder for the files and DUMP payloads shoal writes, and a streaming
//! loader for files written by Redis 2.x to 8.x (RDB versions 1 to 12).
//!
//! Layout of a file: `REDIS` and a 4-digit version, then opcodes (AUX fields, SELECTDB,
//! RESIZEDB, per-key EXPIRETIME/IDLE/FREQ) and key/value pairs (a type byte, the key, the
//! value), then EOF and, from version 5, the CRC-64 of everything before it. A DUMP payload is
//! one type byte and value, the version (2 bytes LE) and the CRC-64 (8 bytes LE).

use std::io::Read;

use super::crc64::crc64;
use super::lzf;
use crate::runtime::shard::DATABASES;
use crate::storage::object::Object;
use crate::storage::stream::Stream;
use crate::storage::Entry;
use crate::util::num::parse_i64;

mod decode;
pub mod stream;
use decode::{Input, SliceInput, Source};

#[cfg(test)]
mod tests;

/// The version shoal writes: Redis 7.0 refuses files newer than the version it writes (10).
pub const RDB_VERSION_WRITTEN: u16 = 10;
/// The newest version shoal reads.
pub const RDB_VERSION_MAX: u16 = 12;

/// Opcodes: bytes in the place of a value type that carry something else.
pub mod opcode {
    /// Per-slot sizes (cluster mode, Redis 8 / RDB 12): three lengths.
    pub const SLOT_INFO: u8 = 244;
    /// A function library (Redis 7.0 GA and later): one string.
    pub const FUNCTION2: u8 = 245;
    /// Functions as Redis 7.0's release candidates saved them.
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    /// LRU idle seconds of the next key.
    pub const IDLE: u8 = 248;
    /// LFU counter of the next key.
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    /// Expiry in seconds (files before RDB 3).
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// The string value type (streams' types are in `stream`).
pub const TYPE_STRING: u8 = 0;

/// Special string encodings: a length byte `11xxxxxx` says the six bits name one of these.
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Module value opcodes (the self-describing "module 2" serialization).
mod module_opcode {
    pub const EOF: u64 = 0;
    pub const SINT: u64 = 1;
    pub const UINT: u64 = 2;
    pub const FLOAT: u64 = 3;
    pub const DOUBLE: u64 = 4;
    pub const STRING: u64 = 5;
}

/// A value type byte in words: the kind of value, with its article, and its encoding. None for
/// a byte that is no value type.
pub fn type_description(t: u8) -> Option<(&'static str, &'static str)> {
    Some(match t {
        0 => ("a string", "string"),
        1 => ("a list", "linked list"),
        2 => ("a set", "hash table"),
        3 => ("a sorted set", "skiplist, scores as text"),
        4 => ("a hash", "hash table"),
        5 => ("a sorted set", "skiplist"),
        6 => ("a module value", "module, pre-GA format"),
        7 => ("a module value", "module"),
        9 => ("a hash", "zipmap"),
        10 => ("a list", "ziplist"),
        11 => ("a set", "intset"),
        12 => ("a sorted set", "ziplist"),
        13 => ("a hash", "ziplist"),
        14 => ("a list", "quicklist of ziplists"),
        15 => ("a stream", "listpacks"),
        16 => ("a hash", "listpack"),
        17 => ("a sorted set", "listpack"),
        18 => ("a list", "quicklist"),
        19 => ("a stream", "listpacks, v2"),
        20 => ("a set", "listpack"),
        21 => ("a stream", "listpacks, v3"),
        22 => ("a hash", "with field expiry, pre-GA format"),
        23 => ("a hash", "listpack with field expiry, pre-GA format"),
        24 => ("a hash", "with field expiry"),
        25 => ("a hash", "listpack with field expiry"),
        _ => return None,
    })
}

/// A value type Redis writes that shoal cannot store (every type but strings and streams).
pub fn is_unsupported_type(t: u8) -> bool {
    t != TYPE_STRING && !stream::is_stream_type(t) && type_description(t).is_some()
}

/// A value as read from a file or a DUMP payload: only the types shoal stores.
#[derive(Clone)]
pub enum Value {
    String(Vec<u8>),
    Stream(Box<Stream>),
}

impl Value {
    /// The keyspace entry holding this value.
    pub fn into_entry(self, key: &[u8], expire_ms: Option<u64>, lru: u32) -> Entry {
        match self {
            Value::String(v) => Entry::new(key, &v, expire_ms, lru),
            Value::Stream(s) => Entry::new_obj(key, s, expire_ms, lru),
        }
    }
}

// By hand: a stream has no derived Debug or PartialEq (its equality is `Object::eq_obj`).
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::String(v) => f.debug_tuple("String").field(&repr(v)).finish(),
            Value::Stream(s) => f
                .debug_struct("Stream")
                .field("len", &s.len())
                .field("last_id", &s.last_id().to_string())
                .field("groups", &s.groups().count())
                .finish(),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Stream(a), Value::Stream(b)) => a.eq_obj(b.as_ref()),
            _ => false,
        }
    }
}

/// One key read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedKey {
    pub db: usize,
    pub key: Vec<u8>,
    pub value: Value,
    /// Absolute, in ms since the epoch.
    pub expire_ms: Option<u64>,
    pub idle_secs: Option<u64>,
    pub freq: Option<u8>,
}

/// What was wrong, and where: `offset` counts bytes from the start of the file or payload.
#[derive(Debug, Clone, PartialEq)]
pub struct RdbError {
    pub offset: u64,
    pub msg: String,
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at offset {}: {}", self.offset, self.msg)
    }
}

impl std::error::Error for RdbError {}

impl RdbError {
    pub(crate) fn new(offset: u64, msg: impl Into<String>) -> RdbError {
        RdbError {
            offset,
            msg: msg.into(),
        }
    }
}

/// Quotes bytes as redis-cli shows them (sdscatrepr): printable ASCII as is, `\n` `\r` `\t`
/// `\a` `\b` `\\` `\"` escaped, anything else as `\xHH`. Long input is cut, saying so.
pub fn repr(bytes: &[u8]) -> String {
    const MAX: usize = 256;
    let mut s = String::with_capacity(bytes.len().min(MAX) + 2);
    s.push('"');
    for &b in &bytes[..bytes.len().min(MAX)] {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    if bytes.len() > MAX {
        s.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    s
}

// ---- encoding --------------------------------------------------------------------------------

/// A length: 6 bits in one byte, 14 bits in two, else a marker byte and 32 or 64 bits big-endian.
pub fn write_len(buf: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        buf.push(len as u8);
    } else if len < 1 << 14 {
        buf.extend_from_slice(&[0x40 | (len >> 8) as u8, len as u8]);
    } else if len <= u32::MAX as u64 {
        buf.push(0x80);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        buf.push(0x81);
        buf.extend_from_slice(&len.to_be_bytes());
    }
}

/// The integer encoding of `s`, when `s` is the canonical text of an integer fitting 32 bits
/// (as Redis's rdbTryIntegerEncoding: "12" is stored as one byte, "012" or "+12" as text).
fn int_encoding(s: &[u8]) -> Option<([u8; 5], usize)> {
    if s.len() > 11 {
        return None;
    }
    let v = parse_i64(s)?;
    let mut e = [0u8; 5];
    if let Ok(v) = i8::try_from(v) {
        e[0] = 0xc0 | ENC_INT8;
        e[1] = v as u8;
        Some((e, 2))
    } else if let Ok(v) = i16::try_from(v) {
        e[0] = 0xc0 | ENC_INT16;
        e[1..3].copy_from_slice(&v.to_le_bytes());
        Some((e, 3))
    } else if let Ok(v) = i32::try_from(v) {
        e[0] = 0xc0 | ENC_INT32;
        e[1..5].copy_from_slice(&v.to_le_bytes());
        Some((e, 5))
    } else {
        None
    }
}

/// A string as Redis's rdbSaveRawString writes it: an integer encoding when it is a small
/// canonical integer; else, with `compress`, LZF when the string is over 20 bytes and
/// compressing saves at least 4 bytes; else the length and the bytes.
pub fn write_string(buf: &mut Vec<u8>, s: &[u8], compress: bool) {
    if let Some((e, n)) = int_encoding(s) {
        buf.extend_from_slice(&e[..n]);
        return;
    }
    if compress && s.len() > 20 && write_lzf(buf, s) {
        return;
    }
    write_len(buf, s.len() as u64);
    buf.extend_from_slice(s);
}

/// The LZF form (marker, compressed length, original length, data) if it saves 4 bytes or more.
fn write_lzf(buf: &mut Vec<u8>, s: &[u8]) -> bool {
    let mut data = Vec::new();
    let Some(clen) = lzf::compress_bounded(s, &mut data, s.len() - 4) else {
        return false;
    };
    buf.push(0xc0 | ENC_LZF);
    write_len(buf, clen as u64);
    write_len(buf, s.len() as u64);
    buf.extend_from_slice(&data);
    true
}

/// "REDIS" and the version shoal writes.
pub fn write_header(buf: &mut Vec<u8>) {
    buf.extend_from_slice(format!("REDIS{RDB_VERSION_WRITTEN:04}").as_bytes());
}

pub fn write_aux(buf: &mut Vec<u8>, key: &[u8], val: &[u8]) {
    buf.push(opcode::AUX);
    write_string(buf, key, false);
    write_string(buf, val, false);
}

pub fn write_selectdb(buf: &mut Vec<u8>, db: u64) {
    buf.push(opcode::SELECTDB);
    write_len(buf, db);
}

pub fn write_resizedb(buf: &mut Vec<u8>, keys: u64, expires: u64) {
    buf.push(opcode::RESIZEDB);
    write_len(buf, keys);
    write_len(buf, expires);
}

/// EXPIRETIME_MS (if any), the string type byte, the key, the value.
pub fn write_string_key(
    buf: &mut Vec<u8>,
    key: &[u8],
    value: &[u8],
    expire_ms: Option<u64>,
    compress: bool,
) {
    if let Some(t) = expire_ms {
        buf.push(opcode::EXPIRETIME_MS);
        buf.extend_from_slice(&t.to_le_bytes());
    }
    buf.push(TYPE_STRING);
    write_string(buf, key, compress);
    write_string(buf, value, compress);
}

/// Any entry: a string as `write_string_key`, an object in its own RDB encoding.
pub fn write_entry(buf: &mut Vec<u8>, e: &crate::storage::Entry, compress: bool) {
    match e.obj() {
        None => write_string_key(buf, e.key(), e.value(), e.expire_at(), compress),
        Some(o) => {
            if let Some(t) = e.expire_at() {
                buf.push(opcode::EXPIRETIME_MS);
                buf.extend_from_slice(&t.to_le_bytes());
            }
            buf.push(o.rdb_type());
            write_string(buf, e.key(), compress);
            o.write_rdb(buf, compress);
        }
    }
}

/// A DUMP payload of any entry's value.
pub fn dump_entry(e: &crate::storage::Entry, compress: bool) -> Vec<u8> {
    let Some(o) = e.obj() else {
        return dump_string(e.value(), compress);
    };
    let mut p = Vec::with_capacity(64);
    p.push(o.rdb_type());
    o.write_rdb(&mut p, compress);
    p.extend_from_slice(&RDB_VERSION_WRITTEN.to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

/// The EOF opcode; the caller appends the 8-byte checksum.
pub fn write_eof(buf: &mut Vec<u8>) {
    buf.push(opcode::EOF);
}

/// A DUMP payload: type, value, RDB version (2 bytes LE), CRC64 (8 bytes LE).
pub fn dump_string(value: &[u8], compress: bool) -> Vec<u8> {
    let mut p = Vec::with_capacity(value.len() + 20);
    p.push(TYPE_STRING);
    write_string(&mut p, value, compress);
    p.extend_from_slice(&RDB_VERSION_WRITTEN.to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

// ---- DUMP payloads ---------------------------------------------------------------------------

/// Bytes after a DUMP payload's value: the version and the checksum.
const DUMP_FOOTER: usize = 10;

/// Whether a DUMP payload's footer is acceptable (Redis's verifyDumpPayload): at least the
/// footer long, a version shoal reads, and (when `verify_checksum`) the right CRC-64.
pub fn verify_dump_footer(payload: &[u8], verify_checksum: bool) -> bool {
    dump_footer_error(payload, verify_checksum).is_none()
}

fn dump_footer_error(payload: &[u8], verify_checksum: bool) -> Option<RdbError> {
    let len = payload.len();
    if len < DUMP_FOOTER {
        return Some(RdbError::new(
            len as u64,
            format!("a DUMP payload has at least {DUMP_FOOTER} bytes, this one {len}"),
        ));
    }
    let at = len - DUMP_FOOTER;
    let version = u16::from_le_bytes([payload[at], payload[at + 1]]);
    if version > RDB_VERSION_MAX {
        return Some(RdbError::new(
            at as u64,
            format!("DUMP payload of RDB version {version} (shoal reads up to {RDB_VERSION_MAX})"),
        ));
    }
    if verify_checksum {
        let mut stored = [0u8; 8];
        stored.copy_from_slice(&payload[len - 8..]);
        let stored = u64::from_le_bytes(stored);
        let actual = crc64(0, &payload[..len - 8]);
        if stored != actual {
            return Some(RdbError::new(
                (len - 8) as u64,
                format!("wrong DUMP payload checksum (expected {actual:016x}, got {stored:016x})"),
            ));
        }
    }
    None
}

/// Checks a DUMP payload's footer and decodes its value.
pub fn parse_dump(payload: &[u8], verify_checksum: bool) -> Result<Value, RdbError> {
    if let Some(e) = dump_footer_error(payload, verify_checksum) {
        return Err(e);
    }
    let body = &payload[..payload.len() - DUMP_FOOTER];
    let mut input = SliceInput::new(body);
    let t = input.u8()?;
    let value = if t == TYPE_STRING {
        Value::String(decode::string(&mut input)?)
    } else if stream::is_stream_type(t) {
        Value::Stream(Box::new(stream::read_stream(t, &mut input)?))
    } else {
        return Err(match type_description(t) {
            Some((kind, enc)) => RdbError::new(
                0,
                format!(
                    "the payload holds {kind} (RDB type {t}, {enc}), which shoal does not support yet"
                ),
            ),
            None => RdbError::new(0, format!("unknown value type {t} in the DUMP payload")),
        });
    };
    if input.offset() != body.len() as u64 {
        return Err(RdbError::new(
            input.offset(),
            format!(
                "{} bytes after the value, before the DUMP payload footer",
                body.len() as u64 - input.offset()
            ),
        ));
    }
    Ok(value)
}

// ---- the loader ------------------------------------------------------------------------------

/// Reads an RDB file key by key.
pub struct Loader<R: Read> {
    src: Source<R>,
    version: u16,
    verify_checksum: bool,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    db: usize,
    done: bool,
    skipped_functions: u64,
    skipped_module_aux: u64,
}

impl<R: Read> Loader<R> {
    /// Reads and checks the header ("REDIS" and a version from 1 to 12).
    pub fn new(inner: R, verify_checksum: bool) -> Result<Self, RdbError> {
        let mut src = Source::new(inner);
        let mut head = [0u8; 9];
        src.exact(&mut head)?;
        if &head[..5] != b"REDIS" {
            return Err(RdbError::new(
                0,
                format!(
                    "not an RDB file: it starts with {} instead of \"REDIS\"",
                    repr(&head[..5])
                ),
            ));
        }
        let digits = &head[5..];
        let version = std::str::from_utf8(digits)
            .ok()
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u16>().ok())
            .ok_or_else(|| RdbError::new(5, format!("bad RDB version field {}", repr(digits))))?;
        if !(1..=RDB_VERSION_MAX).contains(&version) {
            return Err(RdbError::new(
                5,
                format!(
                    "RDB version {version} is not supported (shoal reads versions 1 to {RDB_VERSION_MAX})"
                ),
            ));
        }
        Ok(Loader {
            src,
            version,
            verify_checksum,
            aux: Vec::new(),
            db: 0,
            done: false,
            skipped_functions: 0,
            skipped_module_aux: 0,
        })
    }

    pub fn version(&self) -> u16 {
        self.version
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    /// AUX fields seen so far.
    pub fn aux(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.aux
    }

    /// Function libraries skipped (shoal has no functions; the caller may warn that they were
    /// dropped).
    pub fn skipped_functions(&self) -> u64 {
        self.skipped_functions
    }

    /// Module AUX records skipped (data of modules shoal does not have).
    pub fn skipped_module_aux(&self) -> u64 {
        self.skipped_module_aux
    }

    /// The next key, or None once EOF and the checksum have been read and verified.
    pub fn next_key(&mut self) -> Result<Option<LoadedKey>, RdbError> {
        if self.done {
            return Ok(None);
        }
        let mut expire_ms: Option<u64> = None;
        let mut idle_secs = None;
        let mut freq = None;
        loop {
            let at = self.src.offset();
            let t = self.src.u8()?;
            match t {
                opcode::EOF => {
                    self.finish()?;
                    return Ok(None);
                }
                opcode::SELECTDB => {
                    let db = decode::len(&mut self.src)?;
                    if db >= DATABASES as u64 {
                        return Err(RdbError::new(
                            at,
                            format!(
                                "the file selects db {db}, but shoal has {DATABASES} databases (0 to {})",
                                DATABASES - 1
                            ),
                        ));
                    }
                    self.db = db as usize;
                }
                opcode::EXPIRETIME => {
                    let mut b = [0u8; 4];
                    self.src.exact(&mut b)?;
                    // Signed seconds; a time before the epoch is simply long expired.
                    let secs = i32::from_le_bytes(b) as i64;
                    expire_ms = Some((secs * 1000).max(0) as u64);
                }
                opcode::EXPIRETIME_MS => {
                    let mut b = [0u8; 8];
                    self.src.exact(&mut b)?;
                    expire_ms = Some(i64::from_le_bytes(b).max(0) as u64);
                }
                opcode::RESIZEDB => {
                    decode::len(&mut self.src)?;
                    decode::len(&mut self.src)?;
                }
                opcode::AUX => {
                    let k = decode::string(&mut self.src)?;
                    let v = decode::string(&mut self.src)?;
                    self.aux.push((k, v));
                }
                opcode::FREQ => freq = Some(self.src.u8()?),
                opcode::IDLE => idle_secs = Some(decode::len(&mut self.src)?),
                opcode::MODULE_AUX => {
                    let id = decode::len(&mut self.src)?;
                    let when_opcode = decode::len(&mut self.src)?;
                    decode::len(&mut self.src)?;
                    if when_opcode != module_opcode::UINT {
                        return Err(RdbError::new(
                            at,
                            format!(
                                "bad when_opcode {when_opcode} in the AUX data of module {}",
                                decode::module_name(id)
                            ),
                        ));
                    }
                    decode::skip_module_value(&mut self.src, id)?;
                    self.skipped_module_aux += 1;
                }
                opcode::FUNCTION_PRE_GA => {
                    return Err(RdbError::new(
                        at,
                        "functions saved by a Redis 7.0 release candidate (pre-GA format) are not supported",
                    ));
                }
                opcode::FUNCTION2 => {
                    decode::string(&mut self.src)?;
                    self.skipped_functions += 1;
                }
                opcode::SLOT_INFO => {
                    for _ in 0..3 {
                        decode::len(&mut self.src)?;
                    }
                }
                TYPE_STRING => {
                    let key = decode::string(&mut self.src)?;
                    let value = decode::string(&mut self.src)?;
                    return Ok(Some(LoadedKey {
                        db: self.db,
                        key,
                        value: Value::String(value),
                        expire_ms,
                        idle_secs,
                        freq,
                    }));
                }
                t if stream::is_stream_type(t) => {
                    let key = decode::string(&mut self.src)?;
                    let s = stream::read_stream(t, &mut self.src).map_err(|e| {
                        RdbError::new(
                            e.offset,
                            format!("key {} in db {}: {}", repr(&key), self.db, e.msg),
                        )
                    })?;
                    return Ok(Some(LoadedKey {
                        db: self.db,
                        key,
                        value: Value::Stream(Box::new(s)),
                        expire_ms,
                        idle_secs,
                        freq,
                    }));
                }
                t => {
                    let Some((kind, enc)) = type_description(t) else {
                        return Err(RdbError::new(
                            at,
                            format!("unknown value type or opcode {t} (0x{t:02x})"),
                        ));
                    };
                    let key = decode::string(&mut self.src)?;
                    return Err(RdbError::new(
                        at,
                        format!(
                            "key {} in db {} is {kind} (RDB type {t}, {enc}): shoal does not support this type yet, so the file cannot be loaded without losing data",
                            repr(&key),
                            self.db
                        ),
                    ));
                }
            }
        }
    }

    /// After EOF: the checksum (from version 5), verified unless 0 (saved without one).
    fn finish(&mut self) -> Result<(), RdbError> {
        if self.version >= 5 {
            let actual = self.src.checksum();
            let at = self.src.offset();
            let mut b = [0u8; 8];
            self.src.exact(&mut b)?;
            let stored = u64::from_le_bytes(b);
            if self.verify_checksum && stored != 0 && stored != actual {
                return Err(RdbError::new(
                    at,
                    format!("wrong checksum (expected {actual:016x}, got {stored:016x})"),
                ));
            }
        }
        self.done = true;
        Ok(())
    }
}
