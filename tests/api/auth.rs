//! Sign-up, sign-in, sessions and refresh-token rotation.
use serde_json::json;

use crate::helpers::{PASSWORD, error_code, error_field, spawn_app, start, test_config};

const ME: &str = "{ me { kind role scopes user { email } organization { name timeZone } } }";

#[tokio::test]
async fn sign_up_returns_a_session_that_works() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    assert_eq!(owner.role, "OWNER");
    let body = app.gql(Some(&owner.access_token), ME, json!({})).await;
    let me = &body["data"]["me"];
    assert_eq!(me["kind"], "MEMBER", "{body}");
    assert_eq!(me["role"], "OWNER");
    assert_eq!(me["user"]["email"], owner.email);
    assert_eq!(me["organization"]["name"], "Acme");
    assert_eq!(me["organization"]["timeZone"], "Asia/Tehran");
}

#[tokio::test]
async fn sign_up_names_each_bad_field() {
    let app = spawn_app().await;
    let query = "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }";
    let good = json!({ "organizationName": "Acme", "name": "Sara", "email": "sara@example.com", "password": PASSWORD });
    for (field, value, expected) in [
        ("email", json!("not-an-email"), "input.email"),
        ("timeZone", json!("Mars/Olympus"), "input.timeZone"),
        ("password", json!("short"), "input.password"),
        ("organizationName", json!("   "), "input.organizationName"),
    ] {
        let mut input = good.clone();
        input[field] = value;
        let body = app.gql(None, query, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), expected);
        assert!(body["data"].is_null());
    }
}

#[tokio::test]
async fn unicode_names_round_trip_exactly() {
    let app = spawn_app().await;
    let name = "فروشگاه نمونه‌ای ك ي 🛒";
    let session = app
        .sign_up_as(&format!("fa-{}@example.com", uuid::Uuid::now_v7().simple()), name)
        .await;
    let body = app
        .gql(Some(&session.access_token), "{ organization { name } }", json!({}))
        .await;
    assert_eq!(body["data"]["organization"]["name"], name);
}

#[tokio::test]
async fn an_email_can_sign_up_only_once() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let body = app
        .gql(
            None,
            "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }",
            json!({ "input": { "organizationName": "Other", "name": "X", "email": owner.email.to_uppercase(), "password": PASSWORD } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
    assert_eq!(error_field(&body), "input.email");
}

const SIGN_IN: &str = "mutation($input: SignInInput!) { signIn(input: $input) { accessToken role } }";

#[tokio::test]
async fn sign_in_errors_do_not_reveal_whether_the_email_exists() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let ok = app
        .gql(
            None,
            SIGN_IN,
            json!({ "input": { "email": owner.email, "password": PASSWORD } }),
        )
        .await;
    assert_eq!(ok["data"]["signIn"]["role"], "OWNER", "{ok}");

    let wrong_password = app
        .gql(
            None,
            SIGN_IN,
            json!({ "input": { "email": owner.email, "password": "wrong password!!" } }),
        )
        .await;
    let unknown_email = app
        .gql(
            None,
            SIGN_IN,
            json!({ "input": { "email": "nobody@example.com", "password": PASSWORD } }),
        )
        .await;
    assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"][0]["message"],
        unknown_email["errors"][0]["message"]
    );
    assert_eq!(
        wrong_password["errors"][0]["extensions"]["code"],
        unknown_email["errors"][0]["extensions"]["code"]
    );
}

const REFRESH: &str =
    "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken } }";

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_session() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;

    let first = app.gql(None, REFRESH, json!({ "t": owner.refresh_token })).await;
    let rotated = first["data"]["refreshSession"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_owned();
    let new_access = first["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, owner.refresh_token);
    let me = app.gql(Some(&new_access), ME, json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "OWNER");

    // The old token again: theft or replay. The session ends, for every token of it.
    let reuse = app.gql(None, REFRESH, json!({ "t": owner.refresh_token })).await;
    assert_eq!(error_code(&reuse), "UNAUTHENTICATED");
    let after = app.gql(None, REFRESH, json!({ "t": rotated })).await;
    assert_eq!(
        error_code(&after),
        "UNAUTHENTICATED",
        "the newest refresh token died with its session"
    );
    let me = app.gql(Some(&new_access), ME, json!({})).await;
    assert_eq!(
        error_code(&me),
        "UNAUTHENTICATED",
        "access tokens of a revoked session stop at once"
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_at_once() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation { signOut { signedOut } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["signOut"]["signedOut"], true, "{body}");
    let me = app.gql(Some(&owner.access_token), ME, json!({})).await;
    assert_eq!(error_code(&me), "UNAUTHENTICATED");
    let refresh = app.gql(None, REFRESH, json!({ "t": owner.refresh_token })).await;
    assert_eq!(error_code(&refresh), "UNAUTHENTICATED");
    // Another session of the same user is untouched.
    let again = app
        .gql(
            None,
            SIGN_IN,
            json!({ "input": { "email": owner.email, "password": PASSWORD } }),
        )
        .await;
    let token = again["data"]["signIn"]["accessToken"].as_str().unwrap();
    assert_eq!(app.gql(Some(token), ME, json!({})).await["data"]["me"]["role"], "OWNER");
}

#[tokio::test]
async fn anonymous_calls_to_staff_fields_are_unauthenticated() {
    let app = spawn_app().await;
    let body = app.gql(None, ME, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = app.gql(Some("not-a-token"), ME, json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
}

#[tokio::test]
async fn the_generated_signing_secret_survives_a_restart() {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        // Same data folder, same database: only meaningful with the embedded SQLite default.
        return;
    }
    let (mut config, dir) = test_config().await;
    config.jwt_secret = None;
    let mut first = start(config.clone(), dir).await;
    let owner = first.sign_up().await;
    let dir = first.take_data_dir();
    first.stop().await;
    assert!(config.data_dir.join("jwt-secret").exists());

    let second = start(config, dir).await;
    let body = second.gql(Some(&owner.access_token), ME, json!({})).await;
    assert_eq!(body["data"]["me"]["role"], "OWNER", "{body}");
}

#[tokio::test]
async fn concurrent_sign_ups_all_succeed() {
    // Many writers at once: on SQLite, write transactions start as writers and wait their turn.
    let app = spawn_app().await;
    let sign_ups = (0..12).map(|_| app.sign_up());
    let sessions = futures_util::future::join_all(sign_ups).await;
    assert_eq!(sessions.len(), 12);
    let mut organizations: Vec<_> = sessions.iter().map(|s| s.organization_id.clone()).collect();
    organizations.sort();
    organizations.dedup();
    assert_eq!(organizations.len(), 12);
}

#[tokio::test]
async fn a_refresh_token_raced_twice_yields_one_session_at_most() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let race = (0..4).map(|_| app.gql(None, REFRESH, json!({ "t": owner.refresh_token })));
    let results = futures_util::future::join_all(race).await;
    let winners = results
        .iter()
        .filter(|b| b["data"]["refreshSession"]["accessToken"].is_string())
        .count();
    assert!(winners <= 1, "{winners} concurrent refreshes succeeded: {results:?}");
    assert!(
        results
            .iter()
            .filter(|b| b["errors"].is_array())
            .all(|b| error_code(b) == "UNAUTHENTICATED")
    );
}
