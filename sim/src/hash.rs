//! FNV-1a with a 128-bit state, the cache key of a verilated design.
//!
//! The key only has to tell apart the designs one machine builds, and it is computed once per
//! `VerilatedLib::build`, so a simple, dependency-free hash is enough; 128 bits keep accidental
//! collisions out of reach. It is not a cryptographic hash: the cache trusts its own directory.

/// FNV-1a 128-bit offset basis.
const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
/// FNV-1a 128-bit prime (2^88 + 2^8 + 0x3b).
const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// An FNV-1a-128 hasher.
#[derive(Clone, Debug)]
pub(crate) struct Fnv128(u128);

impl Fnv128 {
    pub(crate) fn new() -> Self {
        Self(OFFSET)
    }

    /// Hashes raw bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// Hashes one length-prefixed field, so that the fields `("ab", "c")` and `("a", "bc")`
    /// give different keys.
    pub(crate) fn field(&mut self, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        self.write(&(bytes.len() as u64).to_le_bytes());
        self.write(bytes);
    }

    pub(crate) fn finish(&self) -> u128 {
        self.0
    }

    /// The hash as 32 lowercase hex digits (a directory name).
    pub(crate) fn hex(&self) -> String {
        format!("{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(bytes: &[u8]) -> String {
        let mut h = Fnv128::new();
        h.write(bytes);
        h.hex()
    }

    #[test]
    fn matches_published_fnv1a_128_vectors() {
        assert_eq!(hex_of(b""), "6c62272e07bb014262b821756295c58d");
        assert_eq!(hex_of(b"a"), "d228cb696f1a8caf78912b704e4a8964");
        assert_eq!(hex_of(b"foobar"), "343e1662793c64bf6f0d3597ba446f18");
    }

    #[test]
    fn fields_are_length_prefixed() {
        let mut a = Fnv128::new();
        a.field("ab");
        a.field("c");
        let mut b = Fnv128::new();
        b.field("a");
        b.field("bc");
        assert_ne!(a.finish(), b.finish());
    }
}
