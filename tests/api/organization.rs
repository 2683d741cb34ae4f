//! Organization settings.
use serde_json::json;

use crate::helpers::{error_code, error_field, spawn_app};

const UPDATE: &str = "mutation($input: UpdateOrganizationInput!) { updateOrganization(input: $input) { organization { name timeZone } } }";

#[tokio::test]
async fn admins_rename_and_move_the_organization() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let admin = app.add_member(&owner, "ADMIN").await;
    let editor = app.add_member(&owner, "EDITOR").await;

    let body = app
        .gql(
            Some(&admin.access_token),
            UPDATE,
            json!({ "input": { "name": "Acme Iran", "timeZone": "UTC" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrganization"]["organization"],
        json!({ "name": "Acme Iran", "timeZone": "UTC" }),
        "{body}"
    );
    // Omitted fields stay.
    let body = app
        .gql(
            Some(&owner.access_token),
            UPDATE,
            json!({ "input": { "timeZone": "Asia/Tehran" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateOrganization"]["organization"],
        json!({ "name": "Acme Iran", "timeZone": "Asia/Tehran" })
    );

    let denied = app
        .gql(
            Some(&editor.access_token),
            UPDATE,
            json!({ "input": { "name": "Mine" } }),
        )
        .await;
    assert_eq!(error_code(&denied), "FORBIDDEN");
    let bad = app
        .gql(
            Some(&owner.access_token),
            UPDATE,
            json!({ "input": { "timeZone": "Asia/Atlantis" } }),
        )
        .await;
    assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    assert_eq!(error_field(&bad), "input.timeZone");
    let bad = app
        .gql(Some(&owner.access_token), UPDATE, json!({ "input": { "name": " " } }))
        .await;
    assert_eq!(error_field(&bad), "input.name");
}
