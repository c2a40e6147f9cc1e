//! The signer's unit tests (CRT-3).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use guild_domain::certificate::CertificateStatus;
use guild_domain::codes::CERTIFICATE_NOT_VALID as NOT_VALID;
use guild_store::certificates::CertificateRow;
use guild_store::programs::ProgramRow;
use guild_store::signing_keys;

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Verifies `token` with nothing but `jwks`, as a third party would.
fn verify(token: &str, jwks: &Jwks) -> Result<serde_json::Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err("not three parts".to_owned());
    };
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or("unknown kid")?;
    let x: [u8; 32] = URL_SAFE_NO_PAD.decode(&jwk.x).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&x).unwrap();
    let sig: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap()
        .try_into()
        .unwrap();
    key.verify(
        format!("{}.{payload}", token.split('.').next().unwrap()).as_bytes(),
        &Signature::from_bytes(&sig),
    )
    .map_err(|e| e.to_string())?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap())
}

fn certificate() -> CertificateRow {
    let t = at("2026-04-10T02:00:00Z").naive_utc();
    CertificateRow {
        id: "0193a5f0-6a2b-7c8d-9e0f-112233445566".to_owned(),
        number: "GA2026000042".to_owned(),
        code: "abcdefghijklmnopqrstuvwx".to_owned(),
        person_id: "p".to_owned(),
        organisation_id: None,
        holder_name: "张小三".to_owned(),
        program_id: "prog".to_owned(),
        class_id: None,
        enrolment_id: None,
        registration_id: None,
        issued_on: d(2026, 4, 10),
        validity_years: 3,
        period_started_on: d(2026, 4, 10),
        valid_until: d(2029, 4, 9),
        renewals: 0,
        status: "active".to_owned(),
        replaces_id: None,
        superseded_by_id: None,
        ended_at: None,
        end_reason: None,
        issued_by: "u".to_owned(),
        version: 1,
        created_at: t,
        updated_at: t,
    }
}

fn program() -> ProgramRow {
    let t = at("2026-01-01T00:00:00Z").naive_utc();
    ProgramRow {
        id: "prog".to_owned(),
        code: "ELEC-1".to_owned(),
        name: "Electrician".to_owned(),
        description: None,
        target_categories: "[]".to_owned(),
        training_fee_fen: 0,
        exam_fee_fen: 0,
        theory_mode: None,
        theory_pass_mark: None,
        practical_pass_mark: None,
        skill_level: false,
        certificate_name: "Electrician certificate".to_owned(),
        validity_years: 3,
        status: "active".to_owned(),
        version: 1,
        created_at: t,
        updated_at: t,
    }
}

fn claims() -> CredentialClaims {
    credential_claims(
        &certificate(),
        &program(),
        CertificateStatus::Valid,
        at("2026-05-01T08:00:00Z"),
        chrono_tz::Asia::Shanghai,
        "https://verify.guild.test",
    )
    .unwrap()
}

#[test]
fn only_valid_certificates_are_signed() {
    // rule CRT-3 (with CRT-8: status computed at the moment of the request)
    assert!(may_sign(CertificateStatus::Valid).is_ok());
    for status in [
        CertificateStatus::Revoked,
        CertificateStatus::Superseded,
        CertificateStatus::Expired,
        CertificateStatus::Lapsed,
    ] {
        let refusal = may_sign(status).unwrap_err();
        assert_eq!(refusal.rule, Some("CRT-3"));
        assert_eq!(refusal.code, NOT_VALID);
        assert!(refusal.detail.contains(status.as_str()), "{refusal}");
    }
    let refused = credential_claims(
        &certificate(),
        &program(),
        CertificateStatus::Revoked,
        at("2026-05-01T08:00:00Z"),
        chrono_tz::Asia::Shanghai,
        "https://verify.guild.test",
    );
    assert_eq!(refused.unwrap_err().code, NOT_VALID);
}

#[test]
fn claims_carry_the_public_facts_and_dates() {
    // rule CRT-3: the facts of public verification (CRT-2), name masked
    let c = claims();
    assert_eq!(c.iss, "https://verify.guild.test");
    assert_eq!(c.sub, "GA2026000042");
    assert_eq!(c.jti, "0193a5f0-6a2b-7c8d-9e0f-112233445566");
    assert_eq!(c.holder_name, "张*三");
    assert_eq!(c.status, CertificateStatus::Valid);
    assert_eq!(c.program_code, "ELEC-1");
    assert_eq!(
        c.verify_url,
        "https://verify.guild.test/verify/abcdefghijklmnopqrstuvwx"
    );
    assert_eq!(c.iat, at("2026-05-01T08:00:00Z").timestamp());
    // Shanghai midnight of 10 Apr 2026 is 16:00 UTC the day before.
    assert_eq!(c.nbf, at("2026-04-09T16:00:00Z").timestamp());
    // exp: the end of 9 Apr 2029, the last valid day.
    assert_eq!(c.exp, at("2029-04-09T16:00:00Z").timestamp());
    let json = serde_json::to_value(&c).unwrap();
    assert!(json.get("id_number").is_none());
    assert_eq!(json["issued_on"], "2026-04-10");
    assert_eq!(json["valid_until"], "2029-04-09");
}

#[test]
fn a_signature_verifies_with_the_jwks_only_and_survives_rotation() {
    // rule CRT-3: old signatures keep verifying after a key rotation
    let now = at("2026-05-01T08:00:00Z");
    let mut first = new_key(now).unwrap();
    let token = sign_compact(&first, &claims()).unwrap();
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        header,
        serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": first.id})
    );
    let jwks = Jwks {
        keys: vec![jwk_of(&first)],
    };
    let payload = verify(&token, &jwks).unwrap();
    assert_eq!(payload["holder_name"], "张*三");

    first.status = signing_keys::RETIRED.to_owned();
    let second = new_key(now).unwrap();
    assert_ne!(first.public_key, second.public_key);
    let rotated = Jwks {
        keys: vec![jwk_of(&first), jwk_of(&second)],
    };
    assert!(verify(&token, &rotated).is_ok());
    let newer = sign_compact(&second, &claims()).unwrap();
    assert!(verify(&newer, &rotated).is_ok());
    // Without the retired key the old credential cannot verify.
    let only_new = Jwks {
        keys: vec![jwk_of(&second)],
    };
    assert_eq!(verify(&token, &only_new), Err("unknown kid".to_owned()));
}

#[test]
fn a_tampered_payload_fails() {
    // rule CRT-3
    let key = new_key(at("2026-05-01T08:00:00Z")).unwrap();
    let token = sign_compact(&key, &claims()).unwrap();
    let mut forged = claims();
    forged.holder_name = "李*四".to_owned();
    let parts: Vec<&str> = token.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()),
        parts[2]
    );
    let jwks = Jwks {
        keys: vec![jwk_of(&key)],
    };
    assert!(verify(&tampered, &jwks).is_err());
}

#[test]
fn a_corrupt_key_never_signs_and_the_private_key_is_never_printed() {
    let mut key = new_key(at("2026-05-01T08:00:00Z")).unwrap();
    assert!(!format!("{key:?}").contains(&key.private_key));
    let other = new_key(at("2026-05-01T08:00:00Z")).unwrap();
    key.public_key = other.public_key;
    assert!(sign_compact(&key, &claims()).is_err());
    key.private_key = "short".to_owned();
    assert!(sign_compact(&key, &claims()).is_err());
}

#[test]
fn the_jwk_is_an_okp_ed25519_key() {
    let key = new_key(at("2026-05-01T08:00:00Z")).unwrap();
    let jwk = serde_json::to_value(jwk_of(&key)).unwrap();
    assert_eq!(
        jwk,
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": key.public_key,
            "kid": key.id, "use": "sig", "alg": "EdDSA"})
    );
    assert_eq!(URL_SAFE_NO_PAD.decode(&key.public_key).unwrap().len(), 32);
}
