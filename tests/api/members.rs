//! Roles and membership, read from the database on every request.
use serde_json::json;

use crate::helpers::{error_code, spawn_app};

const INVITE: &str = "mutation($input: InviteMemberInput!) { inviteMember(input: $input) { invitationToken member { id role user { email hasPassword } } } }";
const CHANGE_ROLE: &str =
    "mutation($input: ChangeMemberRoleInput!) { changeMemberRole(input: $input) { member { id role } } }";
const REMOVE: &str = "mutation($id: ID!) { removeMember(input: { memberId: $id }) { removedMemberId } }";
const CREATE_KEY: &str = "mutation { createApiKey(input: { name: \"k\", scopes: [REPORTS_READ] }) { secret } }";

#[tokio::test]
async fn invited_members_get_their_role_and_rights() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let editor = app.add_member(&owner, "EDITOR").await;
    assert_eq!(editor.role, "EDITOR");
    assert_eq!(editor.organization_id, owner.organization_id);

    // An editor reads the member list but cannot manage members or keys.
    let list = app
        .gql(
            Some(&editor.access_token),
            "{ members { nodes { role user { email } } } }",
            json!({}),
        )
        .await;
    let roles: Vec<&str> = list["data"]["members"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["OWNER", "EDITOR"]);
    let invite = app
        .gql(
            Some(&editor.access_token),
            INVITE,
            json!({ "input": { "email": "x@example.com", "role": "ANALYST" } }),
        )
        .await;
    assert_eq!(error_code(&invite), "FORBIDDEN");
    assert_eq!(
        error_code(&app.gql(Some(&editor.access_token), CREATE_KEY, json!({})).await),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn inviting_someone_twice_is_a_conflict_and_accounts_are_reused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let other = app.sign_up().await;
    // A person with an account elsewhere is added at once, without an invitation token.
    let body = app
        .gql(
            Some(&owner.access_token),
            INVITE,
            json!({ "input": { "email": other.email, "role": "ANALYST" } }),
        )
        .await;
    assert!(body["data"]["inviteMember"]["invitationToken"].is_null(), "{body}");
    assert_eq!(body["data"]["inviteMember"]["member"]["user"]["hasPassword"], true);
    let again = app
        .gql(
            Some(&owner.access_token),
            INVITE,
            json!({ "input": { "email": other.email, "role": "ANALYST" } }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT");
    // They can now sign in to either organization.
    let sign_in = "mutation($input: SignInInput!) { signIn(input: $input) { role organization { id } } }";
    let body = app
        .gql(None, sign_in, json!({ "input": { "email": other.email, "password": crate::helpers::PASSWORD, "organizationId": owner.organization_id } }))
        .await;
    assert_eq!(body["data"]["signIn"]["role"], "ANALYST", "{body}");
    assert_eq!(
        body["data"]["signIn"]["organization"]["id"],
        owner.organization_id.as_str()
    );
}

#[tokio::test]
async fn a_lowered_role_applies_at_the_next_request() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let admin = app.add_member(&owner, "ADMIN").await;
    let body = app.gql(Some(&admin.access_token), CREATE_KEY, json!({})).await;
    assert!(body["data"]["createApiKey"]["secret"].is_string(), "{body}");

    let member_id = admin.member_id.clone().unwrap();
    let body = app
        .gql(
            Some(&owner.access_token),
            CHANGE_ROLE,
            json!({ "input": { "memberId": member_id, "role": "ANALYST" } }),
        )
        .await;
    assert_eq!(body["data"]["changeMemberRole"]["member"]["role"], "ANALYST", "{body}");
    // Same access token, next request: the new role counts.
    assert_eq!(
        error_code(&app.gql(Some(&admin.access_token), CREATE_KEY, json!({})).await),
        "FORBIDDEN"
    );
    let me = app.gql(Some(&admin.access_token), "{ me { role } }", json!({})).await;
    assert_eq!(me["data"]["me"]["role"], "ANALYST");
}

#[tokio::test]
async fn a_removed_member_loses_access_at_the_next_request() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let analyst = app.add_member(&owner, "ANALYST").await;
    assert_eq!(
        app.gql(Some(&analyst.access_token), "{ me { role } }", json!({})).await["data"]["me"]["role"],
        "ANALYST"
    );
    let body = app
        .gql(Some(&owner.access_token), REMOVE, json!({ "id": analyst.member_id }))
        .await;
    assert_eq!(
        body["data"]["removeMember"]["removedMemberId"],
        analyst.member_id.clone().unwrap().as_str(),
        "{body}"
    );
    assert_eq!(
        error_code(&app.gql(Some(&analyst.access_token), "{ me { role } }", json!({})).await),
        "UNAUTHENTICATED"
    );
    let refresh = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken } }";
    assert_eq!(
        error_code(&app.gql(None, refresh, json!({ "t": analyst.refresh_token })).await),
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn the_last_owner_stays() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let list = app
        .gql(Some(&owner.access_token), "{ members { nodes { id } } }", json!({}))
        .await;
    let owner_member = list["data"]["members"]["nodes"][0]["id"].as_str().unwrap().to_owned();

    let demote = app
        .gql(
            Some(&owner.access_token),
            CHANGE_ROLE,
            json!({ "input": { "memberId": owner_member, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(error_code(&demote), "CONFLICT", "{demote}");
    let remove = app
        .gql(Some(&owner.access_token), REMOVE, json!({ "id": owner_member }))
        .await;
    assert_eq!(error_code(&remove), "CONFLICT");

    // With a second owner, the first may step down.
    let second = app.add_member(&owner, "OWNER").await;
    let demote = app
        .gql(
            Some(&second.access_token),
            CHANGE_ROLE,
            json!({ "input": { "memberId": owner_member, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(
        demote["data"]["changeMemberRole"]["member"]["role"], "ADMIN",
        "{demote}"
    );
}

#[tokio::test]
async fn only_owners_make_owners() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let admin = app.add_member(&owner, "ADMIN").await;
    let editor = app.add_member(&owner, "EDITOR").await;
    let invite = app
        .gql(
            Some(&admin.access_token),
            INVITE,
            json!({ "input": { "email": "new@example.com", "role": "OWNER" } }),
        )
        .await;
    assert_eq!(error_code(&invite), "FORBIDDEN");
    let promote = app
        .gql(
            Some(&admin.access_token),
            CHANGE_ROLE,
            json!({ "input": { "memberId": editor.member_id, "role": "OWNER" } }),
        )
        .await;
    assert_eq!(error_code(&promote), "FORBIDDEN");
    let promote = app
        .gql(
            Some(&admin.access_token),
            CHANGE_ROLE,
            json!({ "input": { "memberId": editor.member_id, "role": "ADMIN" } }),
        )
        .await;
    assert_eq!(
        promote["data"]["changeMemberRole"]["member"]["role"], "ADMIN",
        "{promote}"
    );
}

#[tokio::test]
async fn invitations_work_once() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let body = app
        .gql(
            Some(&owner.access_token),
            INVITE,
            json!({ "input": { "email": "once@example.com", "role": "EDITOR" } }),
        )
        .await;
    let token = body["data"]["inviteMember"]["invitationToken"].as_str().unwrap();
    let accept = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { role } }";
    let input = json!({ "input": { "token": token, "password": crate::helpers::PASSWORD } });
    assert_eq!(
        app.gql(None, accept, input.clone()).await["data"]["acceptInvitation"]["role"],
        "EDITOR"
    );
    let again = app.gql(None, accept, input).await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT");
    assert_eq!(crate::helpers::error_field(&again), "input.token");
}

#[tokio::test]
async fn member_lists_paginate_with_cursors() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    for _ in 0..4 {
        app.add_member(&owner, "ANALYST").await;
    }
    let query = "query($after: String) { members(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let body = app
            .gql(Some(&owner.access_token), query, json!({ "after": after }))
            .await;
        let page = &body["data"]["members"];
        for node in page["nodes"].as_array().unwrap() {
            seen.push(node["id"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 5);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);

    let too_big = app
        .gql(
            Some(&owner.access_token),
            "{ members(first: 101) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&too_big), "BAD_USER_INPUT");
    assert_eq!(crate::helpers::error_field(&too_big), "first");
    let bad_cursor = app
        .gql(
            Some(&owner.access_token),
            "{ members(after: \"zzz\") { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(crate::helpers::error_field(&bad_cursor), "after");
}

#[tokio::test]
async fn a_second_invitation_cannot_reset_a_password() {
    let app = spawn_app().await;
    let a = app.sign_up().await;
    let b = app.sign_up().await;
    let email = "twice@example.com";
    let mut tokens = Vec::new();
    for owner in [&a, &b] {
        let body = app
            .gql(
                Some(&owner.access_token),
                INVITE,
                json!({ "input": { "email": email, "role": "ANALYST" } }),
            )
            .await;
        tokens.push(
            body["data"]["inviteMember"]["invitationToken"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let accept = "mutation($input: AcceptInvitationInput!) { acceptInvitation(input: $input) { role } }";
    let first = app
        .gql(
            None,
            accept,
            json!({ "input": { "token": tokens[0], "password": crate::helpers::PASSWORD } }),
        )
        .await;
    assert_eq!(first["data"]["acceptInvitation"]["role"], "ANALYST", "{first}");
    let second = app
        .gql(
            None,
            accept,
            json!({ "input": { "token": tokens[1], "password": "another password 123" } }),
        )
        .await;
    assert_eq!(error_code(&second), "BAD_USER_INPUT");
    // The first password still works, for both organizations.
    let sign_in = "mutation($input: SignInInput!) { signIn(input: $input) { role } }";
    let input = json!({ "input": { "email": email, "password": crate::helpers::PASSWORD, "organizationId": b.organization_id } });
    let body = app.gql(None, sign_in, input).await;
    assert_eq!(body["data"]["signIn"]["role"], "ANALYST", "{body}");
}
