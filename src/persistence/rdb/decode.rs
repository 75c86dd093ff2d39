//! Reading the RDB encodings (lengths, strings, module values) from a file stream or a DUMP
//! payload, with every length checked against the data actually there.

use std::io::{ErrorKind, Read};

use super::{module_opcode, RdbError, ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF};
use crate::persistence::crc64::crc64;
use crate::persistence::lzf;
use crate::util::num::format_i64;

/// Bytes read from the file per refill.
const BUF_SIZE: usize = 64 * 1024;
/// Room reserved up front for a string: a larger length (maybe corrupt) grows as data arrives,
/// so a bogus length ends in "unexpected end of file", never in one huge allocation.
const MAX_RESERVE: u64 = 1 << 20;

/// Where the decoders read from.
pub(super) trait Input {
    /// Bytes consumed so far.
    fn offset(&self) -> u64;
    fn u8(&mut self) -> Result<u8, RdbError>;
    fn exact(&mut self, out: &mut [u8]) -> Result<(), RdbError>;
    /// `n` bytes, appended to `out`.
    fn append(&mut self, n: u64, out: &mut Vec<u8>) -> Result<(), RdbError>;
}

fn eof(offset: u64) -> RdbError {
    RdbError::new(offset, "unexpected end of file")
}

/// A file (or any stream), buffered, with the CRC-64 of what was consumed kept up to date.
pub(super) struct Source<R: Read> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// Offset of buf[0] in the stream.
    base: u64,
    /// CRC of the stream up to buf[crc_from].
    crc: u64,
    crc_from: usize,
}

impl<R: Read> Source<R> {
    pub(super) fn new(inner: R) -> Source<R> {
        Source {
            inner,
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            end: 0,
            base: 0,
            crc: 0,
            crc_from: 0,
        }
    }

    /// Refills the (fully consumed) buffer; false at the end of the stream.
    fn fill(&mut self) -> Result<bool, RdbError> {
        self.crc = crc64(self.crc, &self.buf[self.crc_from..self.end]);
        self.base += self.end as u64;
        self.pos = 0;
        self.end = 0;
        self.crc_from = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.end = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(RdbError::new(self.base, format!("read error: {e}"))),
            }
        }
    }

    /// The CRC-64 of everything consumed so far.
    pub(super) fn checksum(&mut self) -> u64 {
        self.crc = crc64(self.crc, &self.buf[self.crc_from..self.pos]);
        self.crc_from = self.pos;
        self.crc
    }

    /// Calls `f` on consecutive pieces of the next `n` bytes.
    fn consume(&mut self, mut n: u64, mut f: impl FnMut(&[u8])) -> Result<(), RdbError> {
        while n > 0 {
            if self.pos == self.end && !self.fill()? {
                return Err(eof(self.offset()));
            }
            let take = ((self.end - self.pos) as u64).min(n) as usize;
            f(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            n -= take as u64;
        }
        Ok(())
    }
}

impl<R: Read> Input for Source<R> {
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, RdbError> {
        if self.pos == self.end && !self.fill()? {
            return Err(eof(self.offset()));
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn exact(&mut self, out: &mut [u8]) -> Result<(), RdbError> {
        let mut at = 0;
        self.consume(out.len() as u64, |piece| {
            out[at..at + piece.len()].copy_from_slice(piece);
            at += piece.len();
        })
    }

    fn append(&mut self, n: u64, out: &mut Vec<u8>) -> Result<(), RdbError> {
        out.reserve(n.min(MAX_RESERVE) as usize);
        self.consume(n, |piece| out.extend_from_slice(piece))
    }
}

/// A DUMP payload in memory.
pub(super) struct SliceInput<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SliceInput<'a> {
    pub(super) fn new(data: &'a [u8]) -> SliceInput<'a> {
        SliceInput { data, pos: 0 }
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], RdbError> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(eof(self.data.len() as u64));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }
}

impl Input for SliceInput<'_> {
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    fn exact(&mut self, out: &mut [u8]) -> Result<(), RdbError> {
        out.copy_from_slice(self.take(out.len() as u64)?);
        Ok(())
    }

    fn append(&mut self, n: u64, out: &mut Vec<u8>) -> Result<(), RdbError> {
        out.extend_from_slice(self.take(n)?);
        Ok(())
    }
}

/// A length, or the number of a special string encoding (the bool says which).
fn len_or_encoding(input: &mut impl Input) -> Result<(u64, bool), RdbError> {
    let at = input.offset();
    let b = input.u8()?;
    Ok(match b >> 6 {
        0 => ((b & 0x3f) as u64, false),
        1 => ((((b & 0x3f) as u64) << 8) | input.u8()? as u64, false),
        3 => ((b & 0x3f) as u64, true),
        _ if b == 0x80 => {
            let mut v = [0u8; 4];
            input.exact(&mut v)?;
            (u32::from_be_bytes(v) as u64, false)
        }
        _ if b == 0x81 => {
            let mut v = [0u8; 8];
            input.exact(&mut v)?;
            (u64::from_be_bytes(v), false)
        }
        _ => {
            return Err(RdbError::new(
                at,
                format!("unknown length encoding 0x{b:02x}"),
            ))
        }
    })
}

/// A plain length (a string-encoding marker here is corrupt data).
pub(super) fn len(input: &mut impl Input) -> Result<u64, RdbError> {
    let at = input.offset();
    match len_or_encoding(input)? {
        (n, false) => Ok(n),
        (e, true) => Err(RdbError::new(
            at,
            format!("a length was expected, found string encoding {e}"),
        )),
    }
}

fn int_text(v: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(11);
    format_i64(v, &mut out);
    out
}

/// A string in any of its encodings: plain, an integer (returned as its decimal text), or LZF.
pub(super) fn string(input: &mut impl Input) -> Result<Vec<u8>, RdbError> {
    let at = input.offset();
    let (n, encoded) = len_or_encoding(input)?;
    if !encoded {
        let mut v = Vec::new();
        input.append(n, &mut v)?;
        return Ok(v);
    }
    match n as u8 {
        ENC_INT8 => Ok(int_text(input.u8()? as i8 as i64)),
        ENC_INT16 => {
            let mut b = [0u8; 2];
            input.exact(&mut b)?;
            Ok(int_text(i16::from_le_bytes(b) as i64))
        }
        ENC_INT32 => {
            let mut b = [0u8; 4];
            input.exact(&mut b)?;
            Ok(int_text(i32::from_le_bytes(b) as i64))
        }
        ENC_LZF => {
            let clen = len(input)?;
            let ulen = len(input)?;
            // Checked before reading the data: a corrupt length must not become an allocation.
            if ulen > clen.saturating_mul(lzf::MAX_EXPANSION as u64) {
                return Err(RdbError::new(
                    at,
                    format!("invalid LZF string: {clen} compressed bytes cannot expand to {ulen}"),
                ));
            }
            let mut c = Vec::new();
            input.append(clen, &mut c)?;
            lzf::decompress(&c, ulen as usize)
                .ok_or_else(|| RdbError::new(at, "invalid LZF compressed string".to_string()))
        }
        e => Err(RdbError::new(at, format!("unknown string encoding {e}"))),
    }
}

/// A module type's name from its 64-bit id: nine characters of 6 bits each above a 10-bit
/// encoding version.
pub(super) fn module_name(id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .rev()
        .map(|i| CHARSET[((id >> (10 + 6 * i)) & 63) as usize] as char)
        .collect()
}

/// Walks over a module value in the self-describing format (typed items up to an EOF item),
/// without the module.
pub(super) fn skip_module_value(input: &mut impl Input, id: u64) -> Result<(), RdbError> {
    loop {
        let at = input.offset();
        match len(input)? {
            module_opcode::EOF => return Ok(()),
            module_opcode::SINT | module_opcode::UINT => {
                len(input)?;
            }
            module_opcode::FLOAT => {
                input.exact(&mut [0u8; 4])?;
            }
            module_opcode::DOUBLE => {
                input.exact(&mut [0u8; 8])?;
            }
            module_opcode::STRING => {
                string(input)?;
            }
            op => {
                return Err(RdbError::new(
                    at,
                    format!(
                        "unknown opcode {op} in a value of module {}",
                        module_name(id)
                    ),
                ))
            }
        }
    }
}
