//! Partners' API keys: shown once, scoped, revocable, rate limited.
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code, spawn_app};

async fn create_key(app: &TestApp, owner: &Session, input: Value) -> (String, String) {
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id prefix scopes } } }",
            json!({ "input": input }),
        )
        .await;
    let created = &body["data"]["createApiKey"];
    let secret = created["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no key: {body}"))
        .to_owned();
    assert!(secret.starts_with(created["apiKey"]["prefix"].as_str().unwrap()));
    (created["apiKey"]["id"].as_str().unwrap().to_owned(), secret)
}

#[tokio::test]
async fn a_key_acts_for_its_organization_within_its_scopes() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let (_, secret) = create_key(
        &app,
        &owner,
        json!({ "name": "CRM sync", "scopes": ["REPORTS_READ", "FORMS_READ"] }),
    )
    .await;

    let me = app
        .gql(
            Some(&secret),
            "{ me { kind role scopes apiKey { name } organization { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["data"]["me"]["kind"], "API_KEY", "{me}");
    assert!(me["data"]["me"]["role"].is_null());
    assert_eq!(me["data"]["me"]["scopes"], json!(["FORMS_READ", "REPORTS_READ"]));
    assert_eq!(me["data"]["me"]["apiKey"]["name"], "CRM sync");
    assert_eq!(me["data"]["me"]["organization"]["id"], owner.organization_id.as_str());

    // Outside its rights: members (people's data) and key management are refused.
    for query in ["{ members { nodes { id } } }", "{ apiKeys { nodes { id } } }"] {
        let body = app.gql(Some(&secret), query, json!({})).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{query}: {body}");
    }
    let body = app
        .gql(
            Some(&secret),
            "mutation { createApiKey(input: { name: \"x\", scopes: [FORMS_READ] }) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
}

#[tokio::test]
async fn the_secret_is_shown_once_and_stored_hashed() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let (_, secret) = create_key(&app, &owner, json!({ "name": "BI", "scopes": ["REPORTS_READ"] })).await;
    let list = app
        .gql(
            Some(&owner.access_token),
            "{ apiKeys { nodes { name prefix active lastUsedAt } } }",
            json!({}),
        )
        .await;
    let text = list.to_string();
    // `nzk_<prefix>_<secret>`: the secret itself may hold `_` too.
    let (_, secret_part) = secret
        .strip_prefix("nzk_")
        .and_then(|rest| rest.split_once('_'))
        .expect("nzk_<prefix>_<secret>");
    assert!(secret_part.len() >= 32, "{secret}");
    assert!(!text.contains(secret_part), "the secret is listed: {text}");
    use sea_orm::{EntityTrait, QuerySelect};
    let stored: Vec<String> = entity::api_key::Entity::find()
        .select_only()
        .column(entity::api_key::Column::SecretHash)
        .into_tuple()
        .all(app.db.conn())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(secret_part));
    assert_eq!(stored[0].len(), 64);
}

#[tokio::test]
async fn bad_key_inputs_name_their_field() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let query = "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }";
    for (input, field) in [
        (json!({ "name": "x", "scopes": [] }), "input.scopes"),
        (json!({ "name": "", "scopes": ["FORMS_READ"] }), "input.name"),
        (
            json!({ "name": "x", "scopes": ["FORMS_READ"], "rateLimitPerMinute": 0 }),
            "input.rateLimitPerMinute",
        ),
        (
            json!({ "name": "x", "scopes": ["FORMS_READ"], "expiresAt": "2020-01-01T00:00:00Z" }),
            "input.expiresAt",
        ),
    ] {
        let body = app
            .gql(Some(&owner.access_token), query, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(crate::helpers::error_field(&body), field);
    }
}

#[tokio::test]
async fn revoked_and_unknown_keys_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let (id, secret) = create_key(&app, &owner, json!({ "name": "old", "scopes": ["FORMS_READ"] })).await;
    assert_eq!(
        app.gql(Some(&secret), "{ me { kind } }", json!({})).await["data"]["me"]["kind"],
        "API_KEY"
    );

    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { active revokedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["revokeApiKey"]["apiKey"]["active"], false, "{body}");
    let body = app.gql(Some(&secret), "{ me { kind } }", json!({})).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert_eq!(body["errors"][0]["message"], "this API key was revoked");

    // Right prefix, wrong secret; and a made-up key.
    let (prefix, _) = secret.rsplit_once('_').unwrap();
    for fake in [format!("{prefix}_wrongsecret"), "nzk_000000000000_nothing".to_owned()] {
        let body = app.gql(Some(&fake), "{ me { kind } }", json!({})).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{fake}");
        assert_eq!(body["errors"][0]["message"], "invalid API key");
    }
}

#[tokio::test]
async fn keys_are_rate_limited_with_stated_headers() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let (_, secret) = create_key(
        &app,
        &owner,
        json!({ "name": "burst", "scopes": ["FORMS_READ"], "rateLimitPerMinute": 3 }),
    )
    .await;
    // The app's clock stands still: all of this is in one window.
    for remaining in [2, 1, 0] {
        let response = app.post(Some(&secret), "{ me { kind } }", json!({})).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(
            response.headers()["ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let response = app.post(Some(&secret), "{ me { kind } }", json!({})).await;
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // The next window serves the key again.
    app.clock.advance(chrono::Duration::seconds(retry_after as i64));
    let response = app.post(Some(&secret), "{ me { kind } }", json!({})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["ratelimit-remaining"], "2");
    // Members are not limited by a key's budget.
    assert_eq!(
        app.gql(Some(&owner.access_token), "{ me { kind } }", json!({})).await["data"]["me"]["kind"],
        "MEMBER"
    );
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let (_, secret) = create_key(&app, &owner, json!({ "name": "poller", "scopes": ["REPORTS_READ"] })).await;
    let last_used = || async {
        let body = app
            .gql(
                Some(&owner.access_token),
                "{ apiKeys { nodes { lastUsedAt } } }",
                json!({}),
            )
            .await;
        body["data"]["apiKeys"]["nodes"][0]["lastUsedAt"].clone()
    };
    assert!(last_used().await.is_null());
    app.gql(Some(&secret), "{ me { kind } }", json!({})).await;
    let first = last_used().await;
    assert!(first.is_string());
    for _ in 0..3 {
        app.gql(Some(&secret), "{ me { kind } }", json!({})).await;
    }
    assert_eq!(last_used().await, first, "last use rewritten within the minute");
}
