//! Query depth and complexity limits refuse abusive queries before they run.
use serde_json::json;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn deep_queries_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let mut query = String::from("id");
    for _ in 0..8 {
        query = format!("organization {{ members(first: 1) {{ nodes {{ {query} }} }} }}");
    }
    let body = app
        .gql(Some(&owner.access_token), &format!("{{ {query} }}"), json!({}))
        .await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("deep"),
        "{body}"
    );
}

#[tokio::test]
async fn complexity_counts_page_sizes() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let nested = "{ members(first: 100) { nodes { organization { members(first: 100) { nodes { id role } } } } } }";
    let body = app.gql(Some(&owner.access_token), nested, json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );
    // The same shape with small pages is fine.
    let small = "{ members(first: 5) { nodes { organization { members(first: 5) { nodes { id role } } } } } }";
    let body = app.gql(Some(&owner.access_token), small, json!({})).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["members"]["nodes"][0]["organization"]["members"]["nodes"][0]["role"],
        "OWNER"
    );
}
