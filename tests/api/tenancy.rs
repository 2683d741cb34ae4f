//! One organization can neither read nor change another's data.
use serde_json::json;

use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn organizations_are_isolated() {
    let app = spawn_app().await;
    let a = app.sign_up().await;
    let b = app.sign_up().await;
    let b_analyst = app.add_member(&b, "ANALYST").await;
    let key = app
        .gql(
            Some(&b.access_token),
            "mutation { createApiKey(input: { name: \"b\", scopes: [FORMS_READ] }) { apiKey { id } } }",
            json!({}),
        )
        .await;
    let b_key_id = key["data"]["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_owned();

    // Lists show only A's data.
    let members = app
        .gql(
            Some(&a.access_token),
            "{ members { nodes { user { email } } } }",
            json!({}),
        )
        .await;
    let emails: Vec<&str> = members["data"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [a.email.as_str()]);
    let keys = app
        .gql(Some(&a.access_token), "{ apiKeys { nodes { id } } }", json!({}))
        .await;
    assert_eq!(keys["data"]["apiKeys"]["nodes"], json!([]));

    // B's objects by ID are invisible to A.
    for id in [
        &b.organization_id,
        &b.user_id,
        b_analyst.member_id.as_ref().unwrap(),
        &b_key_id,
    ] {
        let body = app
            .gql(
                Some(&a.access_token),
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert!(body["data"]["node"].is_null(), "A saw {id}: {body}");
    }
    // ...and cannot be changed by A.
    let change = app
        .gql(
            Some(&a.access_token),
            "mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { member { id } } }",
            json!({ "input": { "memberId": b_analyst.member_id, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(error_code(&change), "NOT_FOUND");
    let remove = app
        .gql(
            Some(&a.access_token),
            "mutation($id: ID!) { removeMember(input: { memberId: $id }) { removedMemberId } }",
            json!({ "id": b_analyst.member_id }),
        )
        .await;
    assert_eq!(error_code(&remove), "NOT_FOUND");
    let revoke = app
        .gql(
            Some(&a.access_token),
            "mutation($id: ID!) { revokeApiKey(input: { id: $id }) { apiKey { id } } }",
            json!({ "id": b_key_id }),
        )
        .await;
    assert_eq!(error_code(&revoke), "NOT_FOUND");

    // B's data is intact.
    let me = app
        .gql(Some(&b_analyst.access_token), "{ me { role } }", json!({}))
        .await;
    assert_eq!(me["data"]["me"]["role"], "ANALYST");
    let keys = app
        .gql(Some(&b.access_token), "{ apiKeys { nodes { active } } }", json!({}))
        .await;
    assert_eq!(keys["data"]["apiKeys"]["nodes"][0]["active"], true);

    // A node of one's own organization is found.
    let own = app
        .gql(
            Some(&a.access_token),
            "query($id: ID!) { node(id: $id) { id ... on Organization { name } } }",
            json!({ "id": a.organization_id }),
        )
        .await;
    assert_eq!(own["data"]["node"]["name"], "Acme", "{own}");
}
