//! Standard Webhooks signatures (API-8, standardwebhooks.com): the
//! `webhook-signature` header is `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
//! keyed with the base64-decoded secret; secrets are shown as `whsec_<base64>`.
//! While a rotated key still signs, the header carries both signatures,
//! separated by a space.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{AppError, AppResult};

/// The prefix of a secret as shown to its owner.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new random secret, stored as base64 (24 bytes of key, as the spec's
/// examples use).
pub fn new_secret() -> String {
    STANDARD.encode(rand::random::<[u8; 24]>())
}

/// The secret as the owner sees it: `whsec_<base64>`.
pub fn display(stored: &str) -> String {
    format!("{SECRET_PREFIX}{stored}")
}

/// One signature, `v1,<base64>`, of `body` sent as message `id` at `timestamp`
/// (Unix seconds) with `secret` (`whsec_` optional).
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> AppResult<String> {
    let key = STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .map_err(|e| AppError::Internal(format!("a webhook secret is not base64: {e}")))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|e| AppError::Internal(format!("cannot key the webhook HMAC: {e}")))?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn header(secrets: &[String], id: &str, timestamp: i64, body: &[u8]) -> AppResult<String> {
    let signatures = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect::<AppResult<Vec<_>>>()?;
    Ok(signatures.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_webhooks_test_vector() {
        // rule API-8: the reference vector of the Standard Webhooks libraries
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn during_a_rotation_both_keys_sign() {
        // rule API-8: two space-separated signatures while the old key signs
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        let h = header(&[a.clone(), b.clone()], "msg_1", 10, b"{}").unwrap();
        let parts: Vec<_> = h.split(' ').collect();
        assert_eq!(
            parts,
            vec![
                sign(&a, "msg_1", 10, b"{}").unwrap(),
                sign(&b, "msg_1", 10, b"{}").unwrap()
            ]
        );
        assert!(display(&a).starts_with("whsec_"));
        assert_eq!(sign(&display(&a), "msg_1", 10, b"{}").unwrap(), parts[0]);
    }
}
