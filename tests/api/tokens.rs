//! Access tokens that must be refused: expired, not yet valid, wrong audience or issuer,
//! `alg: none`, another algorithm, a claim of the wrong type, a foreign signature.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{JWT_SECRET, Session, TestApp, error_code, spawn_app};

const ME: &str = "{ me { role } }";

/// Claims that the server accepts for `session`, decoded from its real token.
pub(crate) fn claims_of(session: &Session) -> Value {
    let payload = session.access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub(crate) fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

async fn assert_refused(app: &TestApp, token: &str, case: &str) {
    let body = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{case} was accepted: {body}");
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let good = claims_of(&owner);
    let now = chrono::Utc::now().timestamp();

    // The control: the same claims, re-signed by us, are accepted.
    let control = sign(Algorithm::HS256, &good, JWT_SECRET);
    let body = app.gql(Some(&control), ME, json!({})).await;
    assert_eq!(body["data"]["me"]["role"], "OWNER", "control token refused: {body}");

    let with = |key: &str, value: Value| {
        let mut claims = good.clone();
        claims[key] = value;
        claims
    };
    let without = |key: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(key);
        claims
    };
    let cases = [
        (
            "expired",
            sign(Algorithm::HS256, &with("exp", json!(now - 3600)), JWT_SECRET),
        ),
        (
            "not yet valid",
            sign(Algorithm::HS256, &with("nbf", json!(now + 3600)), JWT_SECRET),
        ),
        (
            "wrong audience",
            sign(Algorithm::HS256, &with("aud", json!("someone-else")), JWT_SECRET),
        ),
        (
            "wrong issuer",
            sign(Algorithm::HS256, &with("iss", json!("evil")), JWT_SECRET),
        ),
        (
            "exp as a string",
            sign(
                Algorithm::HS256,
                &with("exp", json!((now + 600).to_string())),
                JWT_SECRET,
            ),
        ),
        ("no exp", sign(Algorithm::HS256, &without("exp"), JWT_SECRET)),
        ("no nbf", sign(Algorithm::HS256, &without("nbf"), JWT_SECRET)),
        ("no iat", sign(Algorithm::HS256, &without("iat"), JWT_SECRET)),
        ("no sub", sign(Algorithm::HS256, &without("sub"), JWT_SECRET)),
        ("HS512", sign(Algorithm::HS512, &good, JWT_SECRET)),
        ("HS384", sign(Algorithm::HS384, &good, JWT_SECRET)),
        (
            "another secret",
            sign(Algorithm::HS256, &good, "another-secret-that-is-long-enough-0123456789"),
        ),
    ];
    for (case, token) in &cases {
        assert_refused(&app, token, case).await;
    }

    // alg: none, unsigned.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(good.to_string());
    assert_refused(&app, &format!("{header}.{payload}."), "alg none").await;
    // A valid signature over a tampered payload.
    let parts: Vec<&str> = control.split('.').collect();
    let tampered = URL_SAFE_NO_PAD.encode(with("org", json!(uuid::Uuid::now_v7())).to_string());
    assert_refused(
        &app,
        &format!("{}.{}.{}", parts[0], tampered, parts[2]),
        "tampered payload",
    )
    .await;
}

#[tokio::test]
async fn an_expired_token_says_so() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let expired = sign(
        Algorithm::HS256,
        &{
            let mut c = claims_of(&owner);
            c["exp"] = json!(chrono::Utc::now().timestamp() - 60);
            c
        },
        JWT_SECRET,
    );
    let body = app.gql(Some(&expired), ME, json!({})).await;
    assert_eq!(body["errors"][0]["message"], "access token expired");
}
