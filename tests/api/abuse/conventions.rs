//! Errors that broke the API's conventions: every error carries `extensions.code` and
//! `extensions.requestId` (input coercion, validation and parse errors included), a parse error
//! quotes a short excerpt, not the document, and tokens this server would never issue (a
//! `crit` header, a lifetime past the configured one) are refused.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;

use super::{post_json, post_raw};
use crate::{
    helpers::{JWT_SECRET, spawn_app},
    tokens::{claims_of, sign},
};

#[tokio::test]
async fn every_error_carries_a_code_and_the_request_id() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let sign_in = "mutation($i: SignInInput!) { signIn(input: $i) { role } }";
    let cases = [
        // A string where an input object is expected: as a variable, then as a literal.
        (
            json!({ "query": sign_in, "variables": { "i": "x" } }),
            "BAD_USER_INPUT",
            Some("input"),
        ),
        (
            json!({ "query": "mutation { signIn(input: \"x\") { role } }" }),
            "BAD_USER_INPUT",
            Some("input"),
        ),
        (
            json!({ "query": sign_in, "variables": { "i": { "email": 5, "password": "x" } } }),
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
        (json!({ "query": "{ noSuchField }" }), "GRAPHQL_VALIDATION_FAILED", None),
        (json!({ "query": "{ me { role" }), "GRAPHQL_PARSE_FAILED", None),
        (
            json!({ "query": "{ me { role } }", "operationName": "Nope" }),
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
    ];
    for (body, code, field) in cases {
        let answer = post_json(&app, "/graphql", Some(&owner.access_token), &body).await;
        assert_eq!(answer.code(), code, "{body}: {}", answer.body);
        assert!(answer.extensions()["requestId"].is_string(), "{body}: {}", answer.body);
        if let Some(field) = field {
            assert_eq!(answer.extensions()["field"], field, "{body}");
        }
        for error in answer.body["errors"].as_array().unwrap() {
            assert!(error["extensions"]["code"].is_string(), "{body}: {error}");
            assert!(error["extensions"]["requestId"].is_string(), "{body}: {error}");
        }
    }
}

#[tokio::test]
async fn parse_errors_quote_a_short_excerpt() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    // One line of 90 kB with the mistake at its end.
    let query = format!("{{ {} !", "me { role } ".repeat(7_500));
    let answer = post_json(&app, "/graphql", Some(&owner.access_token), &json!({ "query": query })).await;
    assert_eq!(answer.code(), "GRAPHQL_PARSE_FAILED");
    let message = answer.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.len() < 200, "a {}-byte message", message.len());
    assert!(message.contains("line 1, column"), "{message}");
    // A 6 MB document (with credentials, the body may be that large): refused by size, briefly.
    let query = format!("{{ {} !", "me { role } ".repeat(550_000));
    let body = json!({ "query": query }).to_string();
    let answer = post_raw(&app, "/graphql", Some(&owner.access_token), body, &[]).await;
    assert_eq!(answer.code(), "QUERY_TOO_LARGE");
    assert_eq!(answer.extensions()["limit"], "queryBytes");
    assert!(answer.body.to_string().len() < 1_000);
}

#[tokio::test]
async fn tokens_the_server_would_not_issue_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let me = json!({ "query": "{ me { role } }" });
    let claims = claims_of(&owner);
    // The control: the same claims re-signed are accepted.
    let control = sign(Algorithm::HS256, &claims, JWT_SECRET);
    let answer = post_json(&app, "/graphql", Some(&control), &me).await;
    assert_eq!(answer.body["data"]["me"]["role"], "OWNER", "{}", answer.body);

    // A critical header parameter.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let signature = jsonwebtoken::crypto::sign(
        signed.as_bytes(),
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    let with_crit = format!("{signed}.{signature}");
    let answer = post_json(&app, "/graphql", Some(&with_crit), &me).await;
    assert_eq!(answer.code(), "UNAUTHENTICATED", "a crit header was accepted");
    assert_eq!(
        answer.body["errors"][0]["message"],
        "access token has critical header parameters"
    );

    // A lifetime longer than the configured 15 minutes, though not expired.
    let mut long = claims.clone();
    long["exp"] = json!(claims["iat"].as_i64().unwrap() + 16 * 60);
    let answer = post_json(&app, "/graphql", Some(&sign(Algorithm::HS256, &long, JWT_SECRET)), &me).await;
    assert_eq!(answer.code(), "UNAUTHENTICATED", "a long-lived token was accepted");
    // Exactly the configured lifetime is fine.
    let mut exact = claims;
    exact["exp"] = json!(exact["iat"].as_i64().unwrap() + 15 * 60);
    let answer = post_json(&app, "/graphql", Some(&sign(Algorithm::HS256, &exact, JWT_SECRET)), &me).await;
    assert_eq!(answer.body["data"]["me"]["role"], "OWNER", "{}", answer.body);
}
