//! The draw's random numbers, spec `draw-v1.md` §5.
//!
//! `R_k` is the little-endian u64 in ChaCha20 keystream bytes `[8k, 8k+8)`
//! (key = seed, nonce = 0, block counter from 0); `uniform(m)` is
//! rejection sampling on top of it. Nothing here may use `rand`'s own
//! shuffles or bounded-integer helpers: their algorithms are not part of
//! the public contract and may change between versions.

use rand_chacha::ChaCha20Rng;
// `rand_chacha` is pinned to `=0.3.1` and `rand_core` to `=0.6.4` in Cargo.toml:
// the keystream and the `next_u64` word order are part of the published
// contract (spec §5). An upgrade that changed either would silently change
// every published draw, so it must be a deliberate, tested decision.
use rand_core::{RngCore, SeedableRng};

/// The stream of `R_k` values for one seed.
pub struct DrawRng {
    inner: ChaCha20Rng,
}

impl DrawRng {
    /// Start the stream at `R_0` for the 32-byte `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        DrawRng { inner: ChaCha20Rng::from_seed(seed) }
    }

    /// The next `R_k`. Only `next_u64` is ever called on the ChaCha20 stream
    /// (mixing in `next_u32` would change the word alignment).
    pub fn next_r(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// `uniform(m)` for m ≥ 2: take the next `R`; return `R mod m` if
    /// `R < 2^64 − (2^64 mod m)`, otherwise discard it and try again.
    /// For `m` of 0 or 1 it returns 0 without consuming anything (the spec
    /// never asks for them).
    pub fn uniform(&mut self, m: u64) -> u64 {
        if m < 2 {
            return 0;
        }
        // 2^64 mod m, computed without 128-bit arithmetic.
        let rem = (u64::MAX % m + 1) % m;
        loop {
            let r = self.next_r();
            // When rem == 0 every R is accepted; otherwise the bound is 2^64 − rem.
            if rem == 0 || r < rem.wrapping_neg() {
                return r % m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_seed_first_word() {
        let mut r = DrawRng::new([0u8; 32]);
        assert_eq!(r.next_r(), 0x903df1a0ade0b876);
    }

    #[test]
    fn uniform_in_range() {
        let mut r = DrawRng::new([7u8; 32]);
        for m in 2..200u64 {
            assert!(r.uniform(m) < m);
        }
        assert!(r.uniform(u64::MAX) < u64::MAX);
        assert!(r.uniform(1 << 63) < 1 << 63);
    }
}
