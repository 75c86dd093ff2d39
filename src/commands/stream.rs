//! Stream commands (Redis's t_stream.c): XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XSETID,
//! and the shared pieces the other stream families use (lookups with WRONGTYPE, entry replies).
//! The value itself lives in `storage::stream`; consumer groups' commands are in
//! `stream_group.rs`, XREAD/XREADGROUP (blocking included) in `stream_read.rs`.

use super::{err, CmdError, Command, Ctx};
use crate::protocol::Out;
use crate::storage::stream::{EntryRef, Stream, StreamError};

pub fn commands() -> Vec<Command> {
    Vec::new()
}

/// A stream error as a command error (its text is Redis's).
pub fn stream_err(e: StreamError) -> CmdError {
    CmdError::new(e.message())
}

impl<'a> Ctx<'a> {
    /// The stream at `key` (lazy expiry, LRU touched); WRONGTYPE for another type.
    pub fn lookup_stream(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        match self.lookup(key) {
            None => Ok(None),
            Some(e) => as_stream_mut(e).map(Some).ok_or(err::WRONGTYPE),
        }
    }

    /// `lookup_stream` counting keyspace hits and misses (read commands).
    pub fn lookup_stream_read(&mut self, key: &[u8]) -> Result<Option<&mut Stream>, CmdError> {
        match self.lookup_read(key) {
            None => Ok(None),
            Some(e) => as_stream_mut(e).map(Some).ok_or(err::WRONGTYPE),
        }
    }
}

/// The stream in an entry, or None for another type. Copies the entry first under a snapshot
/// (`obj_mut`), so use `as_stream` for reads.
pub fn as_stream_mut(e: &mut crate::storage::Entry) -> Option<&mut Stream> {
    if e.obj()?.as_any().downcast_ref::<Stream>().is_none() {
        return None;
    }
    e.obj_mut()?.as_any_mut().downcast_mut::<Stream>()
}

/// The stream in an entry, for reading.
pub fn as_stream(e: &crate::storage::Entry) -> Option<&Stream> {
    e.obj()?.as_any().downcast_ref::<Stream>()
}

/// One entry as Redis replies it: `[id, [field, value, ...]]`.
pub fn write_entry(out: &mut Out, e: &EntryRef<'_>) {
    out.array(2);
    write_id(out, e.id);
    out.array(e.field_count() * 2);
    for (f, v) in e.fields() {
        out.bulk(f);
        out.bulk(v);
    }
}

/// An ID as a bulk string ("ms-seq").
pub fn write_id(out: &mut Out, id: crate::storage::stream::StreamId) {
    let mut b = Vec::with_capacity(41);
    id.write_to(&mut b);
    out.bulk(&b);
}
