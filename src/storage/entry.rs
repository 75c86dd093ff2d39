//! One key and its value in a single exact-size allocation.
//!
//! Layout of the block: `expire_at: u64 | klen: u32 | vlen: u32 | meta: u32 | key | value`.
//! A string's bytes are the value; any other type (meta bit OBJ) keeps a pointer to its object
//! (`Box<Box<dyn Object>>`, 8 bytes) there.
//! One allocation per key (instead of a key buffer, a value buffer and an expiry map entry), and
//! a table slot of one thin pointer, are what keep shoal under Redis's ~160 bytes per small key.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::ptr::NonNull;

const EXPIRE: usize = 0;
const KLEN: usize = 8;
const VLEN: usize = 12;
const META: usize = 16;
const HEADER: usize = 20;
const NO_EXPIRE: u64 = u64::MAX;

/// Meta bit: the string was modified in place (APPEND, SETRANGE, SETBIT...), which Redis reports
/// as the "raw" encoding whatever its length.
const META_RAW: u32 = 1;
/// Meta bit: the string was stored as text even if it looks like an integer (INCRBYFLOAT results,
/// which Redis creates as embstr/raw strings, never int-encoded).
const META_NOINT: u32 = 2;
/// Meta bits 2 and 5-7: bit 32 of the key length and bits 32-34 of the value length. klen/vlen
/// are u32 to keep the header small, but proto-max-bulk-len may be raised past 4 GiB (SETRANGE k
/// 4294967295 x); truncating there would lose data and free the block with the wrong size.
const KHI_SHIFT: u32 = 2;
const KHI_MASK: u32 = 0b1;
/// Meta bit 3: the value is a pointer to an object (a type other than string).
const META_OBJ: u32 = 1 << 3;
const VHI_SHIFT: u32 = 5;
const HI_MASK: u32 = 0b111;
/// Meta bit 4: a snapshot holds this block too (see `share`). At most two owners exist (the
/// table and the one snapshot in progress), so one bit is the reference count.
const META_SHARED: u32 = 1 << 4;
/// Longest key (8 GiB) and value (32 GiB) the header can record.
const MAX_KEY_LEN: usize = (1 << 33) - 1;
const MAX_LEN: usize = (1 << 35) - 1;
/// The top 24 bits of meta hold the LRU clock (seconds, wrapping), as Redis's 24-bit lru field.
const LRU_SHIFT: u32 = 8;
pub const LRU_MASK: u32 = (1 << 24) - 1;

/// Bits 32-34 of a length (the part the u32 length field cannot hold).
#[inline]
fn len_hi(len: usize) -> u32 {
    ((len as u64 >> 32) as u32) & HI_MASK
}

/// A length from its u32 field (the low 32 bits; `as u32` keeps exactly those) and its high bits.
#[inline]
fn join_len(lo: u32, hi: u32) -> usize {
    ((((hi & HI_MASK) as u64) << 32) | lo as u64) as usize
}

/// Owns one heap block (a thin pointer: the lengths live in the block's header).
pub struct Entry(NonNull<u8>);

// SAFETY: an Entry exclusively owns its block, like a Box<[u8]>.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

#[inline]
fn layout(len: usize) -> Layout {
    // Byte-aligned: every field is read with byte copies. len fits: keys and values are bounded
    // by proto-max-bulk-len, far below isize::MAX.
    Layout::from_size_align(len, 1).unwrap_or(Layout::new::<[u8; HEADER]>())
}

impl Entry {
    /// A new string entry. `expire_at` is absolute, in ms since the epoch.
    pub fn new(key: &[u8], value: &[u8], expire_at: Option<u64>, lru: u32) -> Entry {
        let len = HEADER + key.len() + value.len();
        let l = layout(len);
        if key.len() > MAX_KEY_LEN || value.len() > MAX_LEN {
            // Not representable: fail as an allocation of that size would (Redis's OOM abort).
            handle_alloc_error(l)
        }
        let hi = (len_hi(key.len()) << KHI_SHIFT) | (len_hi(value.len()) << VHI_SHIFT);
        // SAFETY: l has non-zero size (HEADER > 0); the block is fully initialised below before
        // any read, and its length is recorded in the header.
        unsafe {
            let p = alloc(l);
            let Some(p) = NonNull::new(p) else {
                handle_alloc_error(l)
            };
            let b = std::slice::from_raw_parts_mut(p.as_ptr(), len);
            b[EXPIRE..EXPIRE + 8].copy_from_slice(&expire_at.unwrap_or(NO_EXPIRE).to_le_bytes());
            b[KLEN..KLEN + 4].copy_from_slice(&(key.len() as u32).to_le_bytes());
            b[VLEN..VLEN + 4].copy_from_slice(&(value.len() as u32).to_le_bytes());
            b[META..META + 4]
                .copy_from_slice(&(((lru & LRU_MASK) << LRU_SHIFT) | hi).to_le_bytes());
            b[HEADER..HEADER + key.len()].copy_from_slice(key);
            b[HEADER + key.len()..].copy_from_slice(value);
            Entry(p)
        }
    }

    /// A new entry holding an object (any type but string).
    pub fn new_obj(
        key: &[u8],
        obj: Box<dyn crate::storage::object::Object>,
        expire_at: Option<u64>,
        lru: u32,
    ) -> Entry {
        let ptr = Box::into_raw(Box::new(obj)) as usize as u64;
        let mut e = Entry::new(key, &ptr.to_le_bytes(), expire_at, lru);
        let m = e.u32_at(META) | META_OBJ;
        e.set_u32_at(META, m);
        e
    }

    #[inline]
    pub fn is_string(&self) -> bool {
        self.u32_at(META) & META_OBJ == 0
    }

    /// The object's box, for an OBJ entry.
    #[inline]
    fn obj_ptr(&self) -> *mut Box<dyn crate::storage::object::Object> {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.block()[HEADER + self.klen()..HEADER + self.klen() + 8]);
        u64::from_le_bytes(b) as usize as *mut Box<dyn crate::storage::object::Object>
    }

    /// The object, if the value is not a string.
    pub fn obj(&self) -> Option<&dyn crate::storage::object::Object> {
        if self.is_string() {
            return None;
        }
        // SAFETY: an OBJ entry's value is a pointer from Box::into_raw, alive while any owner of
        // the block is (it is freed with the block's last owner).
        Some(unsafe { &**self.obj_ptr() })
    }

    /// The object for a change in place; under a snapshot, the entry (object included) is copied
    /// first, as for `value_mut`.
    pub fn obj_mut(&mut self) -> Option<&mut dyn crate::storage::object::Object> {
        if self.is_string() {
            return None;
        }
        self.unshare();
        // SAFETY: as obj(); &mut self and the unshared block make this the only reference.
        Some(unsafe { &mut **self.obj_ptr() })
    }

    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        self.obj().map_or("string", |o| o.type_name())
    }

    /// The same value, expiry and LRU clock under another key (RENAME, COPY).
    pub fn with_key(&self, key: &[u8]) -> Entry {
        let mut e = match self.obj() {
            Some(o) => Entry::new_obj(key, o.clone_obj(), self.expire_at(), self.lru()),
            None => Entry::new(key, self.value(), self.expire_at(), self.lru()),
        };
        let flags = self.u32_at(META) & (META_RAW | META_NOINT);
        let m = e.u32_at(META) | flags;
        e.set_u32_at(META, m);
        e
    }

    #[inline]
    fn header(&self) -> &[u8] {
        // SAFETY: every block starts with an initialised HEADER.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr(), HEADER) }
    }

    #[inline]
    fn len(&self) -> usize {
        HEADER + self.klen() + self.vlen()
    }

    #[inline]
    fn block(&self) -> &[u8] {
        // SAFETY: the block is len() initialised bytes, owned by self.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr(), self.len()) }
    }

    #[inline]
    fn block_mut(&mut self) -> &mut [u8] {
        let len = self.len();
        // SAFETY: as block(), and &mut self gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_ptr(), len) }
    }

    #[inline]
    fn u32_at(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.header()[at..at + 4]);
        u32::from_le_bytes(b)
    }

    #[inline]
    fn set_u32_at(&mut self, at: usize, v: u32) {
        self.block_mut()[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    #[inline]
    fn klen(&self) -> usize {
        join_len(
            self.u32_at(KLEN),
            (self.u32_at(META) >> KHI_SHIFT) & KHI_MASK,
        )
    }

    #[inline]
    fn vlen(&self) -> usize {
        join_len(self.u32_at(VLEN), self.u32_at(META) >> VHI_SHIFT)
    }

    #[inline]
    pub fn key(&self) -> &[u8] {
        &self.block()[HEADER..HEADER + self.klen()]
    }

    /// A string's bytes (callers check `is_string` first: an object's value is its pointer).
    #[inline]
    pub fn value(&self) -> &[u8] {
        debug_assert!(self.is_string());
        &self.block()[HEADER + self.klen()..]
    }

    /// The value bytes for in-place edits of the same length (SETBIT, SETRANGE inside the string).
    #[inline]
    pub fn value_mut(&mut self) -> &mut [u8] {
        debug_assert!(self.is_string());
        self.unshare();
        let start = HEADER + self.klen();
        self.set_raw();
        &mut self.block_mut()[start..]
    }

    #[inline]
    pub fn expire_at(&self) -> Option<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.header()[EXPIRE..EXPIRE + 8]);
        match u64::from_le_bytes(b) {
            NO_EXPIRE => None,
            t => Some(t),
        }
    }

    /// Only the Db may change expiry: it keeps the count of volatile keys.
    #[inline]
    pub(crate) fn set_expire_at(&mut self, at: Option<u64>) {
        self.unshare();
        self.block_mut()[EXPIRE..EXPIRE + 8]
            .copy_from_slice(&at.unwrap_or(NO_EXPIRE).to_le_bytes());
    }

    #[inline]
    pub fn is_expired(&self, now: u64) -> bool {
        matches!(self.expire_at(), Some(t) if t <= now)
    }

    pub fn is_raw(&self) -> bool {
        self.u32_at(META) & META_RAW != 0
    }

    pub fn set_raw(&mut self) {
        let m = self.u32_at(META) | META_RAW;
        self.set_u32_at(META, m);
    }

    /// Marks the value as never int-encoded (see META_NOINT).
    pub fn set_no_int(&mut self) {
        let m = self.u32_at(META) | META_NOINT;
        self.set_u32_at(META, m);
    }

    pub fn lru(&self) -> u32 {
        self.u32_at(META) >> LRU_SHIFT
    }

    #[inline]
    pub fn touch(&mut self, lru: u32) {
        let m = (self.u32_at(META) & 0xff) | ((lru & LRU_MASK) << LRU_SHIFT);
        self.set_u32_at(META, m);
    }

    /// The same key with a new value, keeping expiry and marking the string raw-encoded.
    pub fn with_value(&self, value: &[u8]) -> Entry {
        let mut e = Entry::new(self.key(), value, self.expire_at(), self.lru());
        e.set_raw();
        e
    }

    /// Bytes this entry occupies: its block plus its table slot (MEMORY USAGE).
    pub fn mem_usage(&self) -> usize {
        self.len() + std::mem::size_of::<Entry>() + 8 + self.obj().map_or(0, |o| o.mem_usage())
    }

    /// The encoding Redis would report for this string (OBJECT ENCODING).
    pub fn encoding(&self) -> &'static str {
        if let Some(o) = self.obj() {
            return o.encoding();
        }
        let v = self.value();
        let meta = self.u32_at(META);
        if meta & (META_RAW | META_NOINT) == 0
            && v.len() <= 20
            && crate::util::num::parse_i64(v).is_some()
        {
            "int"
        } else if !self.is_raw() && v.len() <= 44 {
            "embstr"
        } else {
            "raw"
        }
    }
}

impl Clone for Entry {
    /// An exact copy: key, value, expiry, LRU clock and encoding flags.
    fn clone(&self) -> Entry {
        let b = self.block();
        let l = layout(b.len());
        // SAFETY: as in new(); the copy is fully initialised from the original block.
        unsafe {
            let p = alloc(l);
            let Some(p) = NonNull::new(p) else {
                handle_alloc_error(l)
            };
            std::ptr::copy_nonoverlapping(b.as_ptr(), p.as_ptr(), b.len());
            let mut e = Entry(p);
            let m = e.u32_at(META) & !META_SHARED;
            e.set_u32_at(META, m);
            if let Some(o) = self.obj() {
                // The copy owns an object of its own.
                let ptr = Box::into_raw(Box::new(o.clone_obj())) as usize as u64;
                let at = HEADER + e.klen();
                e.block_mut()[at..at + 8].copy_from_slice(&ptr.to_le_bytes());
            }
            e
        }
    }
}

impl Entry {
    /// Same key, value, expiry and encoding flags (the LRU clock aside): whether a copy that
    /// went through a command needs writing back.
    pub fn same_data(&self, other: &Entry) -> bool {
        match (self.obj(), other.obj()) {
            (None, None) => {}
            (Some(x), Some(y)) => {
                let (a, b) = (self.block(), other.block());
                return a[..META] == b[..META]
                    && (a[META] as u32 & !META_SHARED) == (b[META] as u32 & !META_SHARED)
                    && self.key() == other.key()
                    && x.eq_obj(y);
            }
            _ => return false,
        }
        let (a, b) = (self.block(), other.block());
        a.len() == b.len()
            && a[..META] == b[..META]
            && (a[META] as u32 & !META_SHARED) == (b[META] as u32 & !META_SHARED)
            && a[HEADER..] == b[HEADER..]
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.same_data(other) && self.lru() == other.lru()
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        if self.is_shared() {
            // The other owner (table or snapshot) frees the block.
            self.clear_shared();
            return;
        }
        if !self.is_string() {
            // SAFETY: the pointer came from Box::into_raw and this is its block's last owner.
            drop(unsafe { Box::from_raw(self.obj_ptr()) });
        }
        // SAFETY: allocated in new() with layout(self.len()), and no other owner is left.
        unsafe { dealloc(self.0.as_ptr(), layout(self.len())) }
    }
}

/// A snapshot's reference to a table's entry: the same block, kept alive and unchanged while the
/// snapshot lasts. Writes to the table's entry copy it first (copy-on-write, `Entry::unshare`), so
/// a snapshot sees the keyspace as it was when it was taken, without copying it up front.
///
/// The shared bit is not atomic: a SnapEntry must stay on the shard thread that owns the table,
/// which the raw-pointer marker enforces (it is neither Send nor Sync).
pub struct SnapEntry {
    entry: std::mem::ManuallyDrop<Entry>,
    _not_send: std::marker::PhantomData<*const u8>,
}

impl SnapEntry {
    pub fn get(&self) -> &Entry {
        &self.entry
    }
}

impl Drop for SnapEntry {
    fn drop(&mut self) {
        // SAFETY: entry is never used again; dropping it runs Entry's owner-aware drop.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.entry) }
    }
}

impl Entry {
    #[inline]
    fn is_shared(&self) -> bool {
        self.u32_at(META) & META_SHARED != 0
    }

    #[inline]
    fn clear_shared(&mut self) {
        let m = self.u32_at(META) & !META_SHARED;
        self.set_u32_at(META, m);
    }

    /// A second reference to this block for a snapshot (see SnapEntry). A block already shared
    /// (a second snapshot at once, which the server never starts) gets a private copy instead.
    pub fn share(&mut self) -> SnapEntry {
        let entry = if self.is_shared() {
            self.clone()
        } else {
            let m = self.u32_at(META) | META_SHARED;
            self.set_u32_at(META, m);
            Entry(self.0)
        };
        SnapEntry {
            entry: std::mem::ManuallyDrop::new(entry),
            _not_send: std::marker::PhantomData,
        }
    }

    /// Before an in-place change: if a snapshot holds this block, move to a private copy and
    /// leave the block to the snapshot.
    #[inline]
    fn unshare(&mut self) {
        if self.is_shared() {
            let copy = self.clone();
            // The block now has one owner left, the snapshot; forget ours without freeing.
            self.clear_shared();
            let old = std::mem::replace(self, copy);
            std::mem::forget(old);
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &String::from_utf8_lossy(self.key()))
            .field("type", &self.type_name())
            .field("value_len", &self.block()[HEADER + self.klen()..].len())
            .field("expire_at", &self.expire_at())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_round_trips() {
        let mut e = Entry::new(b"key", b"value", Some(1234), 77);
        assert_eq!(e.key(), b"key");
        assert_eq!(e.value(), b"value");
        assert_eq!(e.expire_at(), Some(1234));
        assert_eq!(e.lru(), 77);
        e.set_expire_at(None);
        assert_eq!(e.expire_at(), None);
        e.touch(LRU_MASK + 5);
        assert_eq!(e.lru(), 4);
        assert!(!e.is_raw());
        e.value_mut()[0] = b'V';
        assert_eq!(e.value(), b"Value");
        assert!(e.is_raw());
        assert_eq!(e.key(), b"key");
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Entry::new(b"k", b"12345", None, 0).encoding(), "int");
        assert_eq!(Entry::new(b"k", b"012", None, 0).encoding(), "embstr");
        assert_eq!(Entry::new(b"k", &[b'a'; 44], None, 0).encoding(), "embstr");
        assert_eq!(Entry::new(b"k", &[b'a'; 45], None, 0).encoding(), "raw");
        assert_eq!(
            Entry::new(b"k", b"1", None, 0).with_value(b"12").encoding(),
            "raw"
        );
        let mut f = Entry::new(b"k", b"3", None, 0);
        f.set_no_int();
        assert_eq!(f.encoding(), "embstr");
    }

    #[test]
    fn clone_is_exact() {
        let mut e = Entry::new(b"k", b"v", Some(9), 3);
        e.set_raw();
        let c = e.clone();
        assert!(c == e);
        assert!(c.is_raw());
        assert_eq!(c.expire_at(), Some(9));
        drop(e);
        assert_eq!(c.value(), b"v");
    }

    #[test]
    fn lengths_past_u32_survive_the_header() {
        // A value past 4 GiB (SETRANGE with proto-max-bulk-len raised) must keep its length,
        // or data is lost and the block is freed with the wrong size.
        for len in [0usize, 3, u32::MAX as usize, (1 << 32) + 3, MAX_LEN] {
            assert_eq!(join_len(len as u32, len_hi(len)), len, "{len}");
        }
        // The high bits share the flag byte with RAW/NOINT/SHARED and never touch the LRU clock.
        let hi = (len_hi(MAX_KEY_LEN) << KHI_SHIFT) | (len_hi(MAX_LEN) << VHI_SHIFT);
        assert_eq!(len_hi(MAX_KEY_LEN) & !KHI_MASK, 0);
        assert_eq!(hi & (META_RAW | META_NOINT | META_SHARED | META_OBJ), 0);
        assert_eq!(hi >> LRU_SHIFT, 0);
    }

    #[test]
    fn empty_key_and_value() {
        let e = Entry::new(b"", b"", None, 0);
        assert_eq!(e.key(), b"");
        assert_eq!(e.value(), b"");
    }

    #[test]
    fn snapshot_keeps_the_old_block_across_writes() {
        let mut e = Entry::new(b"k", b"abc", None, 7);
        let snap = e.share();
        // In-place writes copy first: the snapshot still sees the old value and expiry.
        e.value_mut()[0] = b'X';
        e.set_expire_at(Some(42));
        assert_eq!(e.value(), b"Xbc");
        assert_eq!(snap.get().value(), b"abc");
        assert_eq!(snap.get().expire_at(), None);
        assert!(!e.is_shared() && !snap.get().is_shared());
        drop(snap);
        assert_eq!(e.value(), b"Xbc");
    }

    #[test]
    fn either_owner_may_go_first() {
        // Table entry dropped first (DEL during a save): the snapshot still reads it.
        let mut e = Entry::new(b"k", b"v", Some(5), 0);
        let snap = e.share();
        let c = e.clone();
        assert!(!c.is_shared());
        drop(e);
        assert_eq!(snap.get().value(), b"v");
        assert_eq!(snap.get().expire_at(), Some(5));
        drop(snap);
        // Snapshot dropped first: the table's entry is private again and unchanged.
        let mut e = Entry::new(b"k2", b"v2", None, 0);
        let snap = e.share();
        e.touch(3);
        assert!(e.same_data(snap.get()));
        drop(snap);
        assert!(!e.is_shared());
        e.value_mut()[0] = b'w';
        assert_eq!(e.value(), b"w2");
    }

    #[test]
    fn a_second_share_gets_a_copy() {
        let mut e = Entry::new(b"k", b"v", None, 0);
        let a = e.share();
        let b = e.share();
        drop(e);
        assert_eq!(a.get().value(), b"v");
        assert_eq!(b.get().value(), b"v");
    }

    use crate::storage::object::Blob;

    fn blob(e: &Entry) -> &[u8] {
        &e.obj().unwrap().as_any().downcast_ref::<Blob>().unwrap().0
    }

    #[test]
    fn objects_are_owned_copied_and_compared() {
        let e = Entry::new_obj(b"k", Box::new(Blob(b"abc".to_vec())), Some(7), 3);
        assert!(!e.is_string());
        assert_eq!(e.type_name(), "blob");
        assert_eq!(e.key(), b"k");
        assert_eq!(e.expire_at(), Some(7));
        let mut c = e.clone();
        assert!(c.same_data(&e));
        c.obj_mut()
            .unwrap()
            .as_any_mut()
            .downcast_mut::<Blob>()
            .unwrap()
            .0
            .push(b'd');
        assert_eq!(blob(&e), b"abc");
        assert_eq!(blob(&c), b"abcd");
        assert!(!c.same_data(&e));
        let r = e.with_key(b"other");
        assert_eq!(r.key(), b"other");
        assert_eq!(blob(&r), b"abc");
        assert!(e.mem_usage() >= 3);
        assert!(!Entry::new(b"k", b"v", None, 0).same_data(&e));
    }

    #[test]
    fn a_snapshot_keeps_the_object_as_it_was() {
        let mut e = Entry::new_obj(b"k", Box::new(Blob(b"old".to_vec())), None, 0);
        let snap = e.share();
        let o = e
            .obj_mut()
            .unwrap()
            .as_any_mut()
            .downcast_mut::<Blob>()
            .unwrap();
        o.0 = b"new".to_vec();
        assert_eq!(blob(snap.get()), b"old");
        assert_eq!(blob(&e), b"new");
        drop(e);
        assert_eq!(blob(snap.get()), b"old");
        drop(snap);
        // Either owner may go first; the object is freed exactly once (checked under Miri/ASan
        // style by not crashing here and by the allocator in debug builds).
        let mut e = Entry::new_obj(b"k", Box::new(Blob(vec![1; 100])), None, 0);
        let snap = e.share();
        drop(snap);
        assert_eq!(blob(&e).len(), 100);
    }
}
