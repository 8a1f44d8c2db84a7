//! Secrets in the configuration: redacted in `Debug`, compared in constant time, and the
//! origin key derived from the signing key.

use std::fmt;

use crate::core::crypto::{ct_eq, hex, hmac_sha256};

/// The shortest accepted `SESSION_SIGNING_KEY` / `ADMIN_TOKEN`.
pub const MIN_SECRET_LEN: usize = 32;

/// The origin key for `signing_key`: lower-case hex of
/// `HMAC-SHA256(signing_key, "cfsession-edge origin key v1")` (64 characters; the origin uses
/// the text as its HMAC key). One-way: it reveals neither the signing key nor the CFTOKEN key.
pub fn origin_key(signing_key: &[u8]) -> String {
    hex(&hmac_sha256(signing_key, &[b"cfsession-edge origin key v1"]))
}

/// A secret value: redacted in `Debug`, compared in constant time.
#[derive(Clone, Eq)]
pub struct Secret(pub(super) String);

impl Secret {
    /// The secret's bytes. Never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Constant-time comparison with a presented value.
    pub fn matches(&self, presented: &str) -> bool {
        ct_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
