//! Session identifiers.
//!
//! - `CFID`, the public id: 32 lower-case hex digits (128 random bits). The origin, the
//!   admin API and logs see it; it names the session's Durable Object.
//! - `CFTOKEN`, the secret: 54 characters of unpadded base64url encoding 40 bytes:
//!   `random (16) ‖ issued_at (8, big-endian ms) ‖ mac (16)`, where
//!   `mac = HMAC-SHA256(token_key, "cftoken/v1" ‖ CFID ‖ random ‖ issued_at)[..16]` and
//!   `token_key = HMAC-SHA256(SESSION_SIGNING_KEY, "cfsession-edge token key v1")`.
//!   The 128 random bits make it unguessable; the MAC lets the edge recognise a pair it issued
//!   without any storage (deferred sessions) and reject forged pairs without a Durable Object
//!   call. Stored sessions additionally keep the SHA-256 of the token and compare it in
//!   constant time, so a leaked signing key alone cannot take over a stored session.
//!
//! A CFTOKEN is never logged, never sent to the origin and never shown; its `Debug` is redacted.

use std::fmt;

use super::{
    clock::UnixMs,
    crypto::{b64url, b64url_decode, ct_eq, hex, hmac_sha256, sha256},
    random::{RandomError, RandomSource},
};

const CFID_LEN: usize = 32;
const TOKEN_BYTES: usize = 40;
const TOKEN_LEN: usize = 54;

/// The public session id. Always 32 lower-case hex digits.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cfid(String);

impl Cfid {
    /// A new random id.
    ///
    /// # Errors
    /// When the random source fails.
    pub fn generate(rng: &mut dyn RandomSource) -> Result<Self, RandomError> {
        let mut bytes = [0u8; 16];
        rng.fill(&mut bytes)?;
        Ok(Self(hex(&bytes)))
    }

    /// Accepts exactly 32 lower-case hex digits; anything else is not a CFID.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == CFID_LEN && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        ok.then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cfid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Cfid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cfid({})", self.0)
    }
}

/// The key CFTOKEN MACs are made with, derived from `SESSION_SIGNING_KEY`.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    pub fn derive(signing_key: &[u8]) -> Self {
        Self(hmac_sha256(signing_key, &[b"cfsession-edge token key v1"]))
    }

    /// A key for tokens that are valid only together with `context` (guard mode binds the
    /// origin's cookie values this way: `context` is their digest).
    pub fn bound_to(&self, context: &[u8]) -> Self {
        Self(hmac_sha256(&self.0, &[b"cfsession-edge guard binding v1", context]))
    }
}

/// Constant time: configurations holding keys are compared.
impl PartialEq for TokenKey {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for TokenKey {}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

/// The secret half of a session. See the module docs for the format.
#[derive(Clone)]
pub struct CfToken {
    text: String,
    bytes: [u8; TOKEN_BYTES],
}

impl CfToken {
    /// Mints a token for `cfid`, issued at `now`.
    ///
    /// # Errors
    /// When the random source fails.
    pub fn mint(cfid: &Cfid, key: &TokenKey, now: UnixMs, rng: &mut dyn RandomSource) -> Result<Self, RandomError> {
        let mut bytes = [0u8; TOKEN_BYTES];
        let (random, rest) = bytes.split_at_mut(16);
        rng.fill(random)?;
        let (issued, mac_out) = rest.split_at_mut(8);
        issued.copy_from_slice(&now.to_be_bytes());
        let mac = token_mac(key, cfid, random, issued);
        mac_out.copy_from_slice(&mac);
        Ok(Self { text: b64url(&bytes), bytes })
    }

    /// Accepts the exact textual shape of a token; says nothing about its validity.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != TOKEN_LEN {
            return None;
        }
        let decoded = b64url_decode(s)?;
        let bytes: [u8; TOKEN_BYTES] = decoded.try_into().ok()?;
        Some(Self { text: s.to_owned(), bytes })
    }

    /// Whether this token was minted by this edge (this key) for `cfid`. Constant time.
    pub fn verify(&self, cfid: &Cfid, key: &TokenKey) -> bool {
        let (random, rest) = self.bytes.split_at(16);
        let (issued, mac) = rest.split_at(8);
        ct_eq(&token_mac(key, cfid, random, issued), mac)
    }

    /// This token's twin under `key`: the same random part and issue time, a new MAC (key
    /// rotation: the same token re-minted by the same edge under its new key, so parallel
    /// requests re-mint it alike).
    pub fn rekeyed(&self, cfid: &Cfid, key: &TokenKey) -> Self {
        let mut bytes = self.bytes;
        let (head, mac_out) = bytes.split_at_mut(24);
        let (random, issued) = head.split_at(16);
        let mac = token_mac(key, cfid, random, issued);
        mac_out.copy_from_slice(&mac);
        Self { text: b64url(&bytes), bytes }
    }

    /// When the token was minted (ms since the epoch), as the token says. Only meaningful
    /// after [`CfToken::verify`].
    pub fn issued_at(&self) -> UnixMs {
        let mut issued = [0u8; 8];
        if let Some(src) = self.bytes.get(16..24) {
            issued.copy_from_slice(src);
        }
        u64::from_be_bytes(issued)
    }

    /// Hex SHA-256 of the token: what a session's Durable Object stores to bind the token.
    pub fn fingerprint(&self) -> String {
        hex(&sha256(self.text.as_bytes()))
    }

    /// The cookie value. Only for `Set-Cookie`; never log it.
    pub fn expose(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for CfToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CfToken(<redacted>)")
    }
}

fn token_mac(key: &TokenKey, cfid: &Cfid, random: &[u8], issued: &[u8]) -> [u8; 16] {
    let full = hmac_sha256(&key.0, &[b"cftoken/v1", cfid.as_str().as_bytes(), random, issued]);
    let mut out = [0u8; 16];
    out.copy_from_slice(full.get(..16).unwrap_or(&[0u8; 16]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::random::SeqRandom;

    fn key() -> TokenKey {
        TokenKey::derive(b"test signing key of reasonable length!!")
    }

    #[test]
    fn cfid_shape() {
        let id = Cfid::generate(&mut SeqRandom::default()).unwrap();
        assert_eq!(id.as_str(), "000102030405060708090a0b0c0d0e0f");
        assert_eq!(Cfid::parse(id.as_str()), Some(id));
        for bad in ["", "00", "000102030405060708090A0B0C0D0E0F", "000102030405060708090a0b0c0d0e0g", &"a".repeat(33)] {
            assert!(Cfid::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn token_roundtrip_verifies_only_for_its_cfid_and_key() {
        let mut rng = SeqRandom::default();
        let cfid = Cfid::generate(&mut rng).unwrap();
        let other = Cfid::generate(&mut rng).unwrap();
        let t = CfToken::mint(&cfid, &key(), 1_700_000_000_123, &mut rng).unwrap();
        assert_eq!(t.expose().len(), TOKEN_LEN);
        let parsed = CfToken::parse(t.expose()).unwrap();
        assert!(parsed.verify(&cfid, &key()));
        assert_eq!(parsed.issued_at(), 1_700_000_000_123);
        assert!(!parsed.verify(&other, &key()));
        assert!(!parsed.verify(&cfid, &TokenKey::derive(b"another key")));
    }

    #[test]
    fn a_rekeyed_token_verifies_under_the_new_key_only_and_keeps_its_issue_time() {
        let mut rng = SeqRandom::default();
        let cfid = Cfid::generate(&mut rng).unwrap();
        let (old, new) = (TokenKey::derive(b"old key"), key());
        let t = CfToken::mint(&cfid, &old, 77, &mut rng).unwrap();
        let r = t.rekeyed(&cfid, &new);
        assert!(r.verify(&cfid, &new) && !r.verify(&cfid, &old));
        assert_eq!((r.issued_at(), r.expose().len()), (77, TOKEN_LEN));
        assert_eq!(r.expose(), t.rekeyed(&cfid, &new).expose(), "deterministic");
        assert_ne!(r.fingerprint(), t.fingerprint());
    }

    #[test]
    fn any_flipped_bit_fails_verification() {
        let mut rng = SeqRandom::default();
        let cfid = Cfid::generate(&mut rng).unwrap();
        let t = CfToken::mint(&cfid, &key(), 42, &mut rng).unwrap();
        for i in 0..TOKEN_BYTES {
            let mut bytes = t.bytes;
            bytes[i] ^= 0x01;
            let forged = CfToken::parse(&b64url(&bytes)).unwrap();
            assert!(!forged.verify(&cfid, &key()), "flip at byte {i} still verified");
        }
    }

    #[test]
    fn parse_rejects_wrong_shapes() {
        for bad in ["", "short", &"A".repeat(53), &"A".repeat(55), &format!("{}=", "A".repeat(53)), &"+".repeat(54)] {
            assert!(CfToken::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let mut rng = SeqRandom::default();
        let cfid = Cfid::generate(&mut rng).unwrap();
        let t = CfToken::mint(&cfid, &key(), 0, &mut rng).unwrap();
        assert_eq!(format!("{t:?}"), "CfToken(<redacted>)");
        assert!(!format!("{:?}", key()).contains(|c: char| c.is_ascii_digit()));
    }
}
