//! Signed credentials over HTTP (CRT-3): a certificate's compact JWS verified
//! with nothing but the published JWKS, also after a key rotation.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use guild_domain::Clock;
use guild_tests::{
    Method, PUBLIC_BASE_URL, TestApp, USER_PASSWORD, backend_tests, valid_id_number,
};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::certificate_requests::{act, file};
use crate::certificates::{ANN, Graduates, issued};
use crate::classes::shanghai;

/// [`issued`] with the certificate ids of Ann and Bob.
fn issued_ids(app: &TestApp, code: &str) -> (Graduates, String, String) {
    let (g, certs) = issued(app, code);
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    let (ann, bob) = (id(&certs[0]), id(&certs[1]));
    (g, ann, bob)
}

/// The JWKS as anyone fetches it: no token.
fn jwks(app: &TestApp) -> JwkSet {
    let r = app.get("/.well-known/jwks.json", None);
    r.assert_status(200);
    assert!(
        r.header("cache-control").contains("max-age=300"),
        "{:?}",
        r.headers
    );
    serde_json::from_value(r.body.clone()).unwrap()
}

/// Verifies `token` with nothing but `set`, as an offline third party would:
/// the key named by the header's `kid`, EdDSA, the issuer. Returns the claims.
fn verify(token: &str, set: &JwkSet) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("the kid is not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[PUBLIC_BASE_URL]);
    // The server's clock is a test clock; the dates are checked below.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

fn credential(app: &TestApp, token: &str, certificate: &str) -> Value {
    let r = app.get(
        &format!("/api/v1/certificates/{certificate}/credential"),
        Some(token),
    );
    r.assert_status(200);
    assert!(r.header("cache-control").contains("no-store"));
    r.body.clone()
}

/// Removes every signing key behind the server's back (a damaged install).
fn drop_signing_keys(app: &TestApp) {
    use diesel::connection::SimpleConnection;
    let store = guild_store::Store::open(&app.database_url().unwrap(), 1).unwrap();
    store
        .write::<_, guild_store::StoreError>(|c| Ok(c.batch_execute("DELETE FROM signing_keys")?))
        .unwrap();
}

fn payload(token: &str) -> String {
    let part = token.split('.').nth(1).unwrap();
    String::from_utf8(URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

backend_tests! {
    // rule CRT-3: a credential verifies with only the JWKS, also after a key rotation
    fn a_credential_verifies_with_the_jwks_before_and_after_rotation(app: TestApp) {
        let (g, ann, bob) = issued_ids(&app, "CRD-A");
        let officer = &g.c.s.officer;
        let body = credential(&app, officer, &ann);
        let token = body["credential"].as_str().unwrap().to_owned();
        assert_eq!(body["algorithm"], "EdDSA");
        assert_eq!(body["jwks_url"], format!("{PUBLIC_BASE_URL}/.well-known/jwks.json"));

        let set = jwks(&app);
        assert_eq!(set.keys.len(), 1);
        let claims = verify(&token, &set).unwrap();
        assert_eq!(body["claims"], claims);
        assert_eq!(body["kid"], json!(set.keys[0].common.key_id.clone().unwrap()));

        // The facts of public verification (CRT-2), never the ID number.
        let cert = app.get(&format!("/api/v1/certificates/{ann}"), Some(officer));
        cert.assert_status(200);
        assert_eq!(claims["iss"], PUBLIC_BASE_URL);
        assert_eq!(claims["sub"], cert.body["number"]);
        assert_eq!(claims["certificate_number"], cert.body["number"]);
        assert_eq!(claims["jti"], json!(ann));
        assert_eq!(claims["status"], "valid");
        assert_eq!(claims["holder_name"], guild_domain::person::mask_name("Zhang Anna"));
        assert_ne!(claims["holder_name"], "Zhang Anna");
        assert_eq!(claims["program_code"], "CRD-A");
        assert_eq!(claims["program_name"], "Program CRD-A");
        assert_eq!(claims["certificate_name"], "Gas operations certificate");
        assert_eq!(claims["issued_on"], "2026-04-10");
        assert_eq!(claims["valid_until"], cert.body["valid_until"]);
        assert_eq!(claims["verify_url"], cert.body["verify_url"]);
        assert_eq!(claims["nbf"], shanghai(2026, 4, 10, 0, 0).timestamp());
        assert_eq!(claims["exp"], shanghai(2029, 4, 10, 0, 0).timestamp());
        assert_eq!(claims["iat"], app.clock().now().timestamp());
        let text = payload(&token);
        assert!(!text.contains(&valid_id_number(1)), "{text}");
        assert!(!text.contains("id_number"), "{text}");

        // The bare token on request.
        let bare = app.request(
            Method::GET,
            &format!("/api/v1/certificates/{ann}/credential"),
            Some(officer),
            None,
            &[("Accept", "application/jwt")],
        );
        bare.assert_status(200);
        assert!(bare.header("content-type").starts_with("application/jwt"));
        let bare_token = bare.body.as_str().unwrap();
        assert_eq!(verify(bare_token, &set).unwrap()["jti"], json!(ann));

        // A tampered payload fails.
        let parts: Vec<&str> = token.split('.').collect();
        let mut forged: Value = serde_json::from_str(&payload(&token)).unwrap();
        forged["valid_until"] = json!("2099-12-31");
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap()),
            parts[2]
        );
        assert!(verify(&tampered, &set).is_err());

        // Only the administrator rotates (403 for others).
        let rotate = "/api/v1/signing-keys/rotate";
        app.post(rotate, Some(officer), json!({})).assert_problem(403, "forbidden");
        app.post(rotate, Some(&g.c.s.org.filler), json!({})).assert_problem(403, "forbidden");
        app.post(rotate, None, json!({})).assert_status(401);
        let old_kid = body["kid"].as_str().unwrap().to_owned();
        let r = app.post(rotate, Some(&g.c.s.admin), json!({}));
        r.assert_status(200);
        assert_eq!(r.body["retired"]["id"], json!(old_kid));
        assert_eq!(r.body["retired"]["status"], "retired");
        assert_eq!(r.body["active"]["status"], "active");
        let new_kid = r.body["active"]["id"].as_str().unwrap().to_owned();
        assert_ne!(new_kid, old_kid);

        // The old credential still verifies with the new JWKS.
        let set = jwks(&app);
        assert_eq!(set.keys.len(), 2);
        assert_eq!(verify(&token, &set).unwrap()["jti"], json!(ann));
        // A new credential is signed with the new key.
        let fresh = credential(&app, officer, &bob);
        assert_eq!(fresh["kid"], json!(new_kid));
        let fresh_token = fresh["credential"].as_str().unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(fresh_token).unwrap().kid.as_deref(),
            Some(new_kid.as_str())
        );
        assert_eq!(verify(fresh_token, &set).unwrap()["holder_name"], guild_domain::person::mask_name("Li Bo"));
        // And a second rotation keeps both earlier keys.
        app.post(rotate, Some(&g.c.s.admin), json!({})).assert_status(200);
        let set = jwks(&app);
        assert_eq!(set.keys.len(), 3);
        assert!(verify(&token, &set).is_ok());
        assert!(verify(fresh_token, &set).is_ok());

        // The rotation is audited (API-6).
        let events = app.get(
            "/api/v1/audit-events?action=signing_key.rotate",
            Some(&g.c.s.admin),
        );
        events.assert_status(200);
        let items = events.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{:#}", events.body);
        assert_eq!(items[0]["entity_id"], json!(new_kid));
        // And published as one `signing_key.rotated` event about the new key (API-8).
        let outbox = app.outbox("signing_key", &new_kid);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["signing_key.rotated"]);
        assert_eq!(outbox[0].organisation_id, None);
        let rotated: Value = serde_json::from_str(&outbox[0].payload).unwrap();
        assert_eq!(rotated["active"]["id"], json!(new_kid));
        assert_eq!(rotated["retired"]["id"], json!(old_kid));
        assert!(!outbox[0].payload.contains("private"), "{}", outbox[0].payload);
    }

    // rule CRT-3: should the keys be missing, the first credential creates one
    // (audited and published under the caller) and the JWKS one (not audited)
    fn a_missing_key_is_created_by_the_first_credential_or_the_jwks(app: TestApp) {
        let (g, ann, _) = issued_ids(&app, "CRD-K");
        let officer = &g.c.s.officer;
        drop_signing_keys(&app);
        let body = credential(&app, officer, &ann);
        let kid = body["kid"].as_str().unwrap().to_owned();
        let set = jwks(&app);
        assert_eq!(set.keys.len(), 1);
        assert!(verify(body["credential"].as_str().unwrap(), &set).is_ok());
        let outbox = app.outbox("signing_key", &kid);
        let kinds: Vec<&str> = outbox.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["signing_key.created"]);
        assert!(!outbox[0].payload.contains("private"), "{}", outbox[0].payload);
        // A refused credential creates no key.
        drop_signing_keys(&app);
        app.get(&format!("/api/v1/certificates/{}/credential", uuid::Uuid::now_v7()), Some(officer))
            .assert_problem(404, "not_found");
        // The JWKS is never empty: it creates the key itself, unpublished.
        let set = jwks(&app);
        assert_eq!(set.keys.len(), 1);
        let kid = set.keys[0].common.key_id.clone().unwrap();
        assert!(app.outbox("signing_key", &kid).is_empty());
        assert_eq!(credential(&app, officer, &ann)["kid"], json!(kid));
    }

    // rule CRT-3: the administrator sees the keys' public parts, never a private key
    fn signing_keys_are_listed_without_private_keys(app: TestApp) {
        let admin = app.admin();
        let officer = app.create_user(&admin, "officer", "training_officer", None);
        let r = app.get("/api/v1/signing-keys", Some(&admin));
        r.assert_status(200);
        let items = r.body["items"].as_array().unwrap().clone();
        assert_eq!(items.len(), 1, "a fresh install has one key: {:#}", r.body);
        assert_eq!(items[0]["status"], "active");
        assert_eq!(items[0]["algorithm"], "EdDSA");
        assert_eq!(items[0]["public_jwk"]["kty"], "OKP");
        app.get("/api/v1/signing-keys", Some(&officer)).assert_problem(403, "forbidden");
        app.get("/api/v1/signing-keys", None).assert_status(401);

        app.post("/api/v1/signing-keys/rotate", Some(&admin), json!({})).assert_status(200);
        let all = app.list_all("/api/v1/signing-keys", &admin);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0]["status"], "retired");
        assert!(all[0]["retired_at"].is_string());
        assert_eq!(all[1]["status"], "active");
        let text = serde_json::to_string(&all).unwrap();
        assert!(!text.contains("private"), "{text}");
        let active = app.get("/api/v1/signing-keys?status=active", Some(&admin));
        active.assert_status(200);
        assert_eq!(active.body["items"].as_array().unwrap().len(), 1);
        assert_eq!(active.body["items"][0]["id"], all[1]["id"]);
        app.get("/api/v1/signing-keys?status=lost", Some(&admin)).assert_status(400);
        // The JWKS publishes both, and nothing private.
        let r = app.get("/.well-known/jwks.json", None);
        r.assert_status(200);
        let keys = r.body["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 2);
        for k in keys {
            let mut fields: Vec<&str> = k.as_object().unwrap().keys().map(String::as_str).collect();
            fields.sort_unstable();
            assert_eq!(fields, ["alg", "crv", "kid", "kty", "use", "x"]);
        }
    }

    // rule CRT-3 with ACC-2: a credential is visible to whoever may read the certificate
    fn credentials_follow_certificate_visibility(app: TestApp) {
        let (g, ann, bob) = issued_ids(&app, "CRD-V");
        let s = &g.c.s;
        let path = |id: &str| format!("/api/v1/certificates/{id}/credential");
        app.get(&path(&ann), None).assert_status(401);
        // The holder's organisation and the holder.
        credential(&app, &s.org.filler, &ann);
        credential(&app, &s.org.reviewer, &bob);
        let ann_token = app.login(ANN, USER_PASSWORD);
        credential(&app, &ann_token, &ann);
        app.get(&path(&bob), Some(&ann_token)).assert_problem(404, "not_found");
        // Another organisation sees nothing, exactly like an unknown id.
        let other = app.org_with_accounts(&s.admin, "other");
        app.get(&path(&ann), Some(&other.filler)).assert_problem(404, "not_found");
        app.get(&path(&uuid::Uuid::now_v7().to_string()), Some(&s.officer))
            .assert_problem(404, "not_found");
        app.get(&path("not-a-uuid"), Some(&s.officer)).assert_status(400);
        // A teacher may not read certificates at all.
        app.get(&path(&ann), Some(&g.c.head)).assert_problem(403, "forbidden");
    }

    // rule CRT-3 with CRT-8: only a certificate valid now is signed
    fn an_expired_certificate_is_not_signed(app: TestApp) {
        let (mut g, ann, _) = issued_ids(&app, "CRD-E");
        // 9 April 2029 is the last valid day.
        g.c.at(&app, shanghai(2029, 4, 9, 23, 0));
        let body = credential(&app, &g.c.s.officer, &ann);
        assert_eq!(body["claims"]["status"], "valid");
        g.c.at(&app, shanghai(2029, 4, 10, 0, 30));
        app.get(&format!("/api/v1/certificates/{ann}/credential"), Some(&g.c.s.officer))
            .assert_rule(409, "certificate_not_valid", "CRT-3");
    }

    // rule CRT-3 with CRT-5: a superseded or revoked certificate is not signed; its replacement is
    fn superseded_and_revoked_certificates_are_not_signed(app: TestApp) {
        let (g, ann, bob) = issued_ids(&app, "CRD-R");
        let s = &g.c.s;
        let path = |id: &str| format!("/api/v1/certificates/{id}/credential");
        let old = credential(&app, &s.officer, &ann);
        let r = file(&app, &s.org.reviewer, json!({"certificate_id": ann, "kind": "reissue", "reason": "The card was lost"}));
        r.assert_status(201);
        act(&app, &s.officer, &r.id(), "approve").assert_status(200);
        app.get(&path(&ann), Some(&s.officer)).assert_rule(409, "certificate_not_valid", "CRT-3");
        let replaced = app.get(&format!("/api/v1/certificates/{ann}"), Some(&s.officer));
        let new_id = replaced.body["superseded_by_id"].as_str().unwrap_or_else(|| panic!("{:#}", replaced.body)).to_owned();
        let new = credential(&app, &s.officer, &new_id);
        let set = jwks(&app);
        let claims = verify(new["credential"].as_str().unwrap(), &set).unwrap();
        assert_ne!(claims["sub"], old["claims"]["sub"]);
        assert_eq!(claims["status"], "valid");

        let r = file(&app, &s.org.reviewer, json!({"certificate_id": bob, "kind": "cancellation", "reason": "Left the trade"}));
        r.assert_status(201);
        act(&app, &s.officer, &r.id(), "approve").assert_status(200);
        app.get(&path(&bob), Some(&s.org.filler)).assert_rule(409, "certificate_not_valid", "CRT-3");
    }
}
