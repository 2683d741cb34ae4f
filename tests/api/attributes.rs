//! The respondent attribute catalogue: declared names and types, roles, scopes and tenancy.
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code, error_field, spawn_app};

const CREATE: &str = "mutation($input: CreateRespondentAttributeInput!) {
    createRespondentAttribute(input: $input) { attribute { id name type label description retiredAt } } }";
const LIST: &str =
    "query($all: Boolean) { respondentAttributes(includeRetired: $all) { nodes { name type retiredAt } } }";

async fn create(app: &TestApp, token: &str, name: &str, kind: &str) -> Value {
    let input = json!({ "input": { "name": name, "type": kind, "label": format!("Label of {name}") } });
    app.gql(Some(token), CREATE, input).await
}

async fn key_with(app: &TestApp, owner: &Session, scopes: &[&str]) -> String {
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
            json!({ "input": { "name": "partner", "scopes": scopes } }),
        )
        .await;
    body["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn editors_declare_typed_attributes() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let editor = app.add_member(&owner, "EDITOR").await;
    for (name, kind) in [
        ("plan", "STRING"),
        ("lifetime_value", "NUMBER"),
        ("churned", "BOOLEAN"),
        ("customer_since", "DATE"),
    ] {
        let body = create(&app, &editor.access_token, name, kind).await;
        assert_eq!(
            body["data"]["createRespondentAttribute"]["attribute"]["type"], kind,
            "{body}"
        );
    }
    let list = app.gql(Some(&owner.access_token), LIST, json!({})).await;
    let names: Vec<&str> = list["data"]["respondentAttributes"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["plan", "lifetime_value", "churned", "customer_since"]);

    // Persian labels round-trip exactly.
    let id =
        create(&app, &editor.access_token, "segment", "STRING").await["data"]["createRespondentAttribute"]["attribute"]
            ["id"]
            .clone();
    let update = "mutation($input: UpdateRespondentAttributeInput!) { updateRespondentAttribute(input: $input) { attribute { name label description } } }";
    let label = "بخش مشتری\u{200c}ها";
    let body = app
        .gql(
            Some(&editor.access_token),
            update,
            json!({ "input": { "id": id, "label": label, "description": "از CRM" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateRespondentAttribute"]["attribute"],
        json!({ "name": "segment", "label": label, "description": "از CRM" })
    );
}

#[tokio::test]
async fn bad_attributes_are_refused_with_their_field() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    for (input, field) in [
        (
            json!({ "name": "Plan", "type": "STRING", "label": "Plan" }),
            "input.name",
        ),
        (json!({ "name": "2x", "type": "STRING", "label": "x" }), "input.name"),
        (json!({ "name": "plan", "type": "STRING", "label": "" }), "input.label"),
        (
            json!({ "name": "plan", "type": "STRING", "label": "x", "description": "d".repeat(2001) }),
            "input.description",
        ),
    ] {
        let body = app
            .gql(Some(&owner.access_token), CREATE, json!({ "input": input }))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(error_field(&body), field);
    }
    // An unknown type is refused by the schema itself.
    let body = app
        .gql(
            Some(&owner.access_token),
            CREATE,
            json!({ "input": { "name": "x", "type": "COLOUR", "label": "x" } }),
        )
        .await;
    assert!(body["errors"].is_array() && body["data"].is_null(), "{body}");

    create(&app, &owner.access_token, "plan", "STRING").await;
    let twice = create(&app, &owner.access_token, "plan", "NUMBER").await;
    assert_eq!(error_code(&twice), "CONFLICT");
    assert_eq!(error_field(&twice), "input.name");
}

#[tokio::test]
async fn retired_attributes_stay_known_but_out_of_the_way() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    create(&app, &owner.access_token, "plan", "STRING").await;
    let id = create(&app, &owner.access_token, "old_score", "NUMBER").await["data"]["createRespondentAttribute"]["attribute"]["id"]
        .clone();
    let retire = "mutation($id: ID!) { retireRespondentAttribute(input: { id: $id }) { attribute { retiredAt } } }";
    let first = app.gql(Some(&owner.access_token), retire, json!({ "id": id })).await;
    let retired_at = first["data"]["retireRespondentAttribute"]["attribute"]["retiredAt"].clone();
    assert!(retired_at.is_string(), "{first}");
    let again = app.gql(Some(&owner.access_token), retire, json!({ "id": id })).await;
    assert_eq!(
        again["data"]["retireRespondentAttribute"]["attribute"]["retiredAt"], retired_at,
        "retiring is idempotent"
    );

    let active = app.gql(Some(&owner.access_token), LIST, json!({})).await;
    assert_eq!(
        active["data"]["respondentAttributes"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let all = app.gql(Some(&owner.access_token), LIST, json!({ "all": true })).await;
    assert_eq!(all["data"]["respondentAttributes"]["nodes"][1]["name"], "old_score");
    // The name stays reserved, so old data never changes meaning.
    assert_eq!(
        error_code(&create(&app, &owner.access_token, "old_score", "STRING").await),
        "CONFLICT"
    );
}

#[tokio::test]
async fn roles_and_scopes_decide_who_reads_and_writes() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let analyst = app.add_member(&owner, "ANALYST").await;
    create(&app, &owner.access_token, "plan", "STRING").await;

    let read = app.gql(Some(&analyst.access_token), LIST, json!({})).await;
    assert_eq!(
        read["data"]["respondentAttributes"]["nodes"][0]["name"], "plan",
        "{read}"
    );
    assert_eq!(
        error_code(&create(&app, &analyst.access_token, "tier", "STRING").await),
        "FORBIDDEN"
    );

    let reader = key_with(&app, &owner, &["RESPONDENTS_READ"]).await;
    let writer = key_with(&app, &owner, &["RESPONDENTS_WRITE"]).await;
    let unrelated = key_with(&app, &owner, &["FORMS_READ", "REPORTS_READ"]).await;

    assert_eq!(
        app.gql(Some(&reader), LIST, json!({})).await["data"]["respondentAttributes"]["nodes"][0]["name"],
        "plan"
    );
    let refused = app.gql(Some(&unrelated), LIST, json!({})).await;
    assert_eq!(error_code(&refused), "FORBIDDEN");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("respondents:read"),
        "{refused}"
    );
    assert_eq!(error_code(&create(&app, &reader, "tier", "STRING").await), "FORBIDDEN");
    let made = create(&app, &writer, "tier", "STRING").await;
    assert_eq!(
        made["data"]["createRespondentAttribute"]["attribute"]["name"], "tier",
        "{made}"
    );
}

#[tokio::test]
async fn catalogues_are_per_organization() {
    let app = spawn_app().await;
    let a = app.sign_up().await;
    let b = app.sign_up().await;
    let id =
        create(&app, &a.access_token, "plan", "STRING").await["data"]["createRespondentAttribute"]["attribute"]["id"]
            .clone();
    // B may use the same name, and sees nothing of A's.
    assert_eq!(
        create(&app, &b.access_token, "plan", "NUMBER").await["data"]["createRespondentAttribute"]["attribute"]["type"],
        "NUMBER"
    );
    let list = app.gql(Some(&b.access_token), LIST, json!({ "all": true })).await;
    assert_eq!(
        list["data"]["respondentAttributes"]["nodes"],
        json!([{ "name": "plan", "type": "NUMBER", "retiredAt": null }])
    );
    let node = app
        .gql(
            Some(&b.access_token),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(node["data"]["node"].is_null());
    let retire = app
        .gql(
            Some(&b.access_token),
            "mutation($id: ID!) { retireRespondentAttribute(input: { id: $id }) { attribute { id } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(error_code(&retire), "NOT_FOUND");
    let own = app
        .gql(
            Some(&a.access_token),
            "query($id: ID!) { node(id: $id) { ... on RespondentAttribute { name retiredAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(own["data"]["node"], json!({ "name": "plan", "retiredAt": null }));
}
