//! Randomness as the core sees it: a fill-this-buffer source supplied by the caller.
//!
//! The edge uses the platform CSPRNG (`crypto.getRandomValues` through `getrandom`); tests
//! use [`SeqRandom`], which is predictable on purpose.

/// A source of random bytes. Implementations used for ids must be a CSPRNG.
pub trait RandomSource {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// When the platform cannot produce randomness; callers must then refuse to mint ids.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The platform could not produce random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

impl std::fmt::Display for RandomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no randomness available")
    }
}

/// A deterministic byte counter, for tests only: each call continues the sequence.
#[derive(Debug, Default)]
pub struct SeqRandom {
    next: u8,
}

impl RandomSource for SeqRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), RandomError> {
        for b in buf.iter_mut() {
            *b = self.next;
            self.next = self.next.wrapping_add(1);
        }
        Ok(())
    }
}
