//! Widget session tokens and identity verification.
//!
//! A session token is `base64url(json claims) "." base64url(HMAC-SHA256(key, claims))`. The
//! browser keeps it and presents it when it reconnects; it names the conversation, so a
//! reload resumes the same tickets and history. Tokens expire; each connection gets a fresh
//! one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a session token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The ticket conversation (`Platform::Web` tickets are keyed by it).
    #[serde(rename = "c")]
    pub conversation: String,
    /// Whether the site vouched for this visitor (identity verification).
    #[serde(rename = "v")]
    pub verified: bool,
    /// Expiry, milliseconds since the epoch.
    #[serde(rename = "e")]
    pub expires_ms: i64,
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed session token")]
    Malformed,
    #[error("bad session token signature")]
    BadSignature,
    #[error("expired session token")]
    Expired,
}

/// Signs and checks session tokens with one key.
#[derive(Clone)]
pub struct SessionKey(Vec<u8>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(..)")
    }
}

fn mac(key: &[u8], data: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac
}

impl SessionKey {
    pub fn new(secret: &str) -> Self {
        Self(secret.as_bytes().to_vec())
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = mac(&self.0, body.as_bytes()).finalize().into_bytes();
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// A value only this key's holder can compute from `data` (hex), e.g. an unguessable name.
    pub fn derive(&self, data: &str) -> String {
        hex::encode(mac(&self.0, data.as_bytes()).finalize().into_bytes())
    }

    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Claims, TokenError> {
        let (body, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        mac(&self.0, body.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if claims.expires_ms <= now_ms {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// `hex(HMAC-SHA256(secret, user_id))`, what a site puts in `data-user-hash`.
pub fn identity_hash(secret: &str, user_id: &str) -> String {
    hex::encode(
        mac(secret.as_bytes(), user_id.as_bytes())
            .finalize()
            .into_bytes(),
    )
}

/// `hex(HMAC-SHA256(secret, user_id + "\n" + email))`: the hash that signs the email too. Only
/// a signed email links the visitor to a customer known by that address or stands as theirs.
pub fn identity_email_hash(secret: &str, user_id: &str, email: &str) -> String {
    identity_hash(secret, &format!("{user_id}\n{email}"))
}

/// Whether `hash` vouches for `user_id` (constant-time comparison).
pub fn identity_verified(secret: &str, user_id: &str, hash: &str) -> bool {
    let Ok(tag) = hex::decode(hash.trim()) else {
        return false;
    };
    mac(secret.as_bytes(), user_id.as_bytes())
        .verify_slice(&tag)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_ms: i64) -> Claims {
        Claims {
            conversation: "s:abc".into(),
            verified: false,
            expires_ms,
        }
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let key = SessionKey::new("k1");
        let token = key.sign(&claims(1_000));
        assert_eq!(key.verify(&token, 999), Ok(claims(1_000)));
        assert_eq!(key.verify(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let key = SessionKey::new("k1");
        let token = key.sign(&claims(1_000));
        assert_eq!(
            SessionKey::new("k2").verify(&token, 0),
            Err(TokenError::BadSignature)
        );
        let forged_body = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                conversation: "user:42".into(),
                verified: true,
                expires_ms: 1_000,
            })
            .expect("json"),
        );
        let (_, tag) = token.split_once('.').expect("two parts");
        assert_eq!(
            key.verify(&format!("{forged_body}.{tag}"), 0),
            Err(TokenError::BadSignature)
        );
        assert_eq!(key.verify("nonsense", 0), Err(TokenError::Malformed));
    }

    #[test]
    fn identity_hashes_match_only_their_user() {
        let hash = identity_hash("site-secret", "42");
        assert_eq!(hash.len(), 64);
        assert!(identity_verified("site-secret", "42", &hash));
        assert!(!identity_verified("site-secret", "43", &hash));
        assert!(!identity_verified("other", "42", &hash));
        assert!(!identity_verified("site-secret", "42", "zz"));
    }
}
