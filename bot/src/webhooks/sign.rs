//! `Relaydesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The header value for `body` sent at `timestamp`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// What a receiver does: checks `header` against `body` and refuses timestamps more than
/// `tolerance_secs` away from `now` (replays).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(v),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    signatures.iter().any(|v| {
        hex::decode(v)
            .map(|bytes| mac.clone().verify_slice(&bytes).is_ok())
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret_0001";
    const BODY: &[u8] = br#"{"a":1}"#;

    #[test]
    fn matches_openssl() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test_secret_0001'
        assert_eq!(
            sign(SECRET, 1_700_000_000, BODY),
            "d72004e54ee49c45c689a8f382207df55ea68689e30b4461db3af3021b8a176e"
        );
    }

    #[test]
    fn verify_accepts_its_own_header_and_refuses_changes() {
        let header = signature_header(SECRET, 1_700_000_000, BODY);
        assert!(verify(SECRET, &header, BODY, 1_700_000_100, 300));
        assert!(!verify(SECRET, &header, br#"{"a":2}"#, 1_700_000_100, 300));
        assert!(!verify(
            "another_secret_0001",
            &header,
            BODY,
            1_700_000_100,
            300
        ));
        assert!(
            !verify(SECRET, &header, BODY, 1_700_000_400, 300),
            "too old"
        );
        assert!(!verify(SECRET, "v1=00", BODY, 1_700_000_000, 300));
        assert!(!verify(
            SECRET,
            "t=1700000000,v1=zz",
            BODY,
            1_700_000_000,
            300
        ));
    }
}
