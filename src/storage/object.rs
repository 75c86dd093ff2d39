//! Values other than strings (streams, and later lists, sets...), behind one trait so the
//! keyspace stays the same for every type: an entry's value bytes then hold one pointer to the
//! object (see `Entry::new_obj`).

use std::any::Any;

pub trait Object: Send + Sync + 'static {
    /// TYPE's answer ("stream", "list"...).
    fn type_name(&self) -> &'static str;
    /// OBJECT ENCODING's answer.
    fn encoding(&self) -> &'static str;
    /// A deep copy (COPY, copy-on-write under a snapshot, the coordinator's scratch shard).
    fn clone_obj(&self) -> Box<dyn Object>;
    /// Heap bytes owned by the object (MEMORY USAGE).
    fn mem_usage(&self) -> usize;
    /// Same type and same content (whether a cross-shard command changed it).
    fn eq_obj(&self, other: &dyn Object) -> bool;
    /// The RDB type byte of `write_rdb`'s encoding.
    fn rdb_type(&self) -> u8;
    /// The value in RDB encoding (files, DUMP payloads), without the type byte; `compress`
    /// is `rdbcompression` (LZF where it pays).
    fn write_rdb(&self, out: &mut Vec<u8>, compress: bool);
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// A minimal object type for tests of the keyspace's object paths (no real type exists yet).
#[cfg(test)]
#[derive(Clone, PartialEq, Debug)]
pub struct Blob(pub Vec<u8>);

#[cfg(test)]
impl Object for Blob {
    fn type_name(&self) -> &'static str {
        "blob"
    }
    fn encoding(&self) -> &'static str {
        "blob"
    }
    fn clone_obj(&self) -> Box<dyn Object> {
        Box::new(self.clone())
    }
    fn mem_usage(&self) -> usize {
        self.0.capacity()
    }
    fn eq_obj(&self, other: &dyn Object) -> bool {
        other.as_any().downcast_ref::<Blob>() == Some(self)
    }
    fn rdb_type(&self) -> u8 {
        // A string payload, so DUMP output is checkable.
        0
    }
    fn write_rdb(&self, out: &mut Vec<u8>, compress: bool) {
        crate::persistence::rdb::write_string(out, &self.0, compress);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
