//! Key routing: Redis Cluster hash slots (CRC16/XMODEM mod 16384, `{hashtag}` honoured), and the
//! even split of slots over shards. Same slot => same shard, so hashtags co-locate keys.

pub const SLOTS: usize = 16384;

const fn crc16_table() -> [u16; 256] {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u16) << 8;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
            j += 1;
        }
        t[i] = crc;
        i += 1;
    }
    t
}

static CRC16: [u16; 256] = crc16_table();

/// CRC16-CCITT (XMODEM), the variant Redis Cluster uses.
pub fn crc16(data: &[u8]) -> u16 {
    data.iter().fold(0u16, |crc, &b| {
        (crc << 8) ^ CRC16[(((crc >> 8) as u8) ^ b) as usize]
    })
}

/// The part of the key that is hashed: the first `{...}` with a non-empty inside, else the key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

#[inline]
pub fn key_slot(key: &[u8]) -> usize {
    crc16(hash_tag(key)) as usize % SLOTS
}

/// Shard owning a slot: slots split into `shards` contiguous, even ranges.
#[inline]
pub fn slot_shard(slot: usize, shards: usize) -> usize {
    slot * shards / SLOTS
}

#[inline]
pub fn key_shard(key: &[u8], shards: usize) -> usize {
    if shards == 1 {
        0
    } else {
        slot_shard(key_slot(key), shards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        // Values from CLUSTER KEYSLOT on a real Redis.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"hello"), 866);
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    #[test]
    fn hashtags() {
        assert_eq!(key_slot(b"{user1}:a"), key_slot(b"{user1}:b"));
        assert_eq!(hash_tag(b"{user1}:a"), b"user1");
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{"), b"{");
    }

    #[test]
    fn shards_split_evenly() {
        for n in 1..=8 {
            let mut counts = vec![0; n];
            for s in 0..SLOTS {
                counts[slot_shard(s, n)] += 1;
            }
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(max - min <= 1, "{counts:?}");
        }
    }
}
