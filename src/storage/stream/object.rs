//! A stream as a keyspace [`Object`], and the node-level access the RDB
//! codec (`persistence::rdb::stream`) needs: each block read back as the
//! entries of one Redis listpack, and blocks rebuilt from loaded listpacks
//! with the same boundaries, so approximate trimming behaves the same after
//! a reload.

use std::any::Any;
use std::borrow::Cow;

use super::block::{Block, EntryRef, FLAG_DELETED, FLAG_SAMEFIELDS};
use super::{Group, Stream, StreamId};
use crate::persistence::rdb::stream as codec;
use crate::storage::object::Object;

impl Object for Stream {
    fn type_name(&self) -> &'static str {
        "stream"
    }
    fn encoding(&self) -> &'static str {
        "stream"
    }
    fn clone_obj(&self) -> Box<dyn Object> {
        Box::new(self.clone())
    }
    fn mem_usage(&self) -> usize {
        Stream::mem_usage(self)
    }
    fn eq_obj(&self, other: &dyn Object) -> bool {
        other
            .as_any()
            .downcast_ref::<Stream>()
            .is_some_and(|o| same_stream(self, o))
    }
    fn rdb_type(&self) -> u8 {
        codec::TYPE_STREAM_LISTPACKS_2
    }
    fn write_rdb(&self, out: &mut Vec<u8>, compress: bool) {
        codec::write_stream(self, out, compress);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// Same entries in the same blocks (tombstones included), same counters,
/// same groups with the same pending entries and consumers.
fn same_stream(a: &Stream, b: &Stream) -> bool {
    let (la, lb) = (&a.log, &b.log);
    if (
        la.length,
        la.last_id,
        la.first_id,
        la.max_deleted_entry_id,
        la.entries_added,
    ) != (
        lb.length,
        lb.last_id,
        lb.first_id,
        lb.max_deleted_entry_id,
        lb.entries_added,
    ) {
        return false;
    }
    let nodes_equal = a.nodes().count() == b.nodes().count()
        && a.nodes().zip(b.nodes()).all(|(x, y)| {
            x.master_id == y.master_id
                && x.live == y.live
                && x.deleted == y.deleted
                && x.entries().count() == y.entries().count()
                && x.entries().zip(y.entries()).all(|(p, q)| {
                    p.id == q.id
                        && p.deleted == q.deleted
                        && p.same_fields == q.same_fields
                        && p.entry.fields().eq(q.entry.fields())
                })
        });
    nodes_equal
        && a.groups.len() == b.groups.len()
        && a.groups
            .iter()
            .zip(&b.groups)
            .all(|((na, ga), (nb, gb))| na == nb && same_group(ga, gb))
}

fn same_group(a: &Group, b: &Group) -> bool {
    let pel_equal = a.pending_count() == b.pending_count()
        && a.pending().zip(b.pending()).all(|((ia, pa), (ib, pb))| {
            ia == ib
                && pa.delivery_time_ms() == pb.delivery_time_ms()
                && pa.delivery_count() == pb.delivery_count()
                && a.owner(pa) == b.owner(pb)
        });
    let consumers_equal = a.consumer_count() == b.consumer_count()
        && a.consumers().zip(b.consumers()).all(|(ca, cb)| {
            ca.name() == cb.name()
                && ca.seen_time_ms() == cb.seen_time_ms()
                && ca.pending().eq(cb.pending())
        });
    a.last_id() == b.last_id()
        && a.entries_read() == b.entries_read()
        && pel_equal
        && consumers_equal
}

/// One block seen as a Redis listpack node.
pub struct Node<'a> {
    /// The radix-tree key: the first entry's ID.
    pub master_id: StreamId,
    /// The master entry's counters.
    pub live: u32,
    pub deleted: u32,
    block: &'a Block,
}

/// One entry of a node, tombstones included.
pub struct NodeEntry<'a> {
    pub id: StreamId,
    pub deleted: bool,
    /// Field names equal the master entry's (the listpack then stores values only).
    pub same_fields: bool,
    /// The fields (readable for tombstones too).
    pub entry: EntryRef<'a>,
}

impl<'a> Node<'a> {
    /// Entries in stored order; the first one's fields are the master fields.
    pub fn entries(&self) -> impl Iterator<Item = NodeEntry<'a>> + 'a {
        let block = self.block;
        let mut cursor = block.cursor(self.master_id);
        std::iter::from_fn(move || {
            let raw = cursor.next_raw()?;
            Some(NodeEntry {
                id: raw.id,
                deleted: raw.flags & FLAG_DELETED != 0,
                same_fields: raw.flags & FLAG_SAMEFIELDS != 0,
                entry: EntryRef::new(&block.data, &raw),
            })
        })
    }
}

/// One entry of a node being loaded.
pub struct LoadedEntry<'a> {
    pub id: StreamId,
    pub deleted: bool,
    /// Field, value, field, value...
    pub pairs: Vec<Cow<'a, [u8]>>,
}

fn slices<'b>(e: &'b LoadedEntry<'_>) -> Vec<&'b [u8]> {
    e.pairs.iter().map(|p| &**p).collect()
}

impl Stream {
    /// The blocks in ID order, as listpack nodes.
    pub fn nodes(&self) -> impl Iterator<Item = Node<'_>> + '_ {
        self.log.blocks.iter().map(|(key, block)| Node {
            master_id: *key,
            live: block.live,
            deleted: block.deleted,
            block,
        })
    }

    /// Loads one listpack node: the first entry must carry the node's ID
    /// and define the master fields (the caller checks the latter). Counts
    /// its live entries into the length; the counters come after all nodes
    /// through [`Stream::restore_counters`].
    pub fn restore_node(
        &mut self,
        master_id: StreamId,
        entries: &[LoadedEntry<'_>],
    ) -> Result<(), String> {
        let Some(first) = entries.first() else {
            return Err("a node without entries".into());
        };
        if first.id != master_id {
            return Err(format!(
                "the node's first entry is {}, not the node key {master_id}",
                first.id
            ));
        }
        if self.log.blocks.contains_key(&master_id) {
            return Err(format!("two nodes with key {master_id}"));
        }
        let mut block = Block::new(master_id, &slices(first));
        for e in &entries[1..] {
            block.append(master_id, e.id, &slices(e));
        }
        let mut cursor = block.cursor(master_id);
        let mut to_delete = Vec::new();
        for e in entries {
            match cursor.next_raw() {
                Some(raw) if e.deleted => to_delete.push(raw.tag_pos),
                Some(_) => {}
                None => return Err("entries lost while rebuilding a node".into()),
            }
        }
        for tag_pos in to_delete {
            block.mark_deleted(tag_pos);
        }
        block.seal();
        self.log.length += u64::from(block.live);
        self.log.blocks.insert(master_id, block);
        Ok(())
    }

    /// After the nodes: the saved counters. `length` must match the live
    /// entries loaded; the first ID is recomputed from the entries (the
    /// saved one, if any, is only checked by the caller's format). `None`
    /// for `entries_added` and `max_deleted` is what an RDB stream of type
    /// 15 implies: entries added = length, nothing deleted.
    pub fn restore_counters(
        &mut self,
        length: u64,
        last_id: StreamId,
        max_deleted: Option<StreamId>,
        entries_added: Option<u64>,
    ) -> Result<(), String> {
        let log = &mut self.log;
        if length != log.length {
            return Err(format!(
                "the stream says it has {length} entries, its nodes hold {}",
                log.length
            ));
        }
        log.last_id = last_id;
        log.max_deleted_entry_id = max_deleted.unwrap_or(StreamId::MIN);
        log.entries_added = entries_added.unwrap_or(length);
        log.first_id = if log.length == 0 {
            StreamId::MIN
        } else {
            log.first_live_id()
        };
        Ok(())
    }

    /// What Redis assumes a group loaded from an RDB stream of type 15 has
    /// read (`streamEstimateDistanceFromFirstEverEntry`).
    pub fn estimated_entries_read(&self, id: StreamId) -> Option<u64> {
        self.log.estimate_entries_read(id)
    }
}
