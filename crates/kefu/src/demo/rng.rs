//! A tiny deterministic PRNG (SplitMix64) for the demo generator. Not for secrets.
//!
//! Guarantee: the same seed yields the same sequence on every platform and release, so
//! the demo workspace is identical on every machine. Changing this file changes the demo.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`. The modulo bias is irrelevant at demo sizes.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True with the given probability in percent.
    pub fn chance(&mut self, percent: u32) -> bool {
        self.below(100) < percent as usize
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// [`Rng::pick`] for string tables (keeps type inference simple at call sites).
    pub fn pick_str(&mut self, xs: &[&'static str]) -> &'static str {
        xs[self.below(xs.len())]
    }

    /// Picks a value with probability proportional to its weight.
    pub fn weighted<T: Copy>(&mut self, xs: &[(T, u32)]) -> T {
        let total: u32 = xs.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total as usize) as u32;
        for (x, w) in xs {
            if r < *w {
                return *x;
            }
            r -= w;
        }
        unreachable!("r < total")
    }

    /// `n` decimal digits, e.g. for order numbers.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First output of the reference implementation for seed 0.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn weighted_choices_follow_their_weights() {
        let mut rng = Rng::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..10_000 {
            counts[rng.weighted(&[(0usize, 1), (1, 0), (2, 3)])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((7000..8000).contains(&counts[2]), "{counts:?}");
    }
}
