//! What the submission tests share: a published feedback form (10 questions with a show-if,
//! a require-if, a skip and a disqualify rule, plus a hidden field), and the public calls.
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Session, TestApp};

/// The form every submission test answers: `tests/data/feedback-form.json`.
pub const FEEDBACK_FORM: &str = include_str!("../data/feedback-form.json");

/// Everything a response asks for, as the public API returns it.
pub const RESULT: &str = "response { id status resumeToken locale versionId totalScore startedAt updatedAt completedAt
    timeToCompleteSeconds answers { key kind number text choices otherText bool date score }
    progress { sectionIds visibleKeys requiredKeys missingKeys offPathKeys finish } }
    rejected { key path code message } droppedKeys resumed replayed";

/// A published form.
#[derive(Clone, Debug)]
pub struct Published {
    pub form_id: String,
    pub public_id: String,
    pub version_id: String,
}

/// Imports `document`, applies `settings` and publishes it.
pub async fn publish_document(app: &TestApp, owner: &Session, document: &str, settings: Value) -> Published {
    let token = Some(owner.access_token.as_str());
    let body = app
        .gql(
            token,
            "mutation($input: ImportFormInput!) { importForm(input: $input) { form { id publicId } } }",
            json!({ "input": { "document": document } }),
        )
        .await;
    let form = &body["data"]["importForm"]["form"];
    let form_id = form["id"]
        .as_str()
        .unwrap_or_else(|| panic!("imported: {body}"))
        .to_owned();
    let public_id = form["publicId"].as_str().unwrap().to_owned();
    set_settings(app, owner, &form_id, settings).await;
    let body = app
        .gql(
            token,
            "mutation($id: ID!) { publishForm(input: { id: $id }) { version { id } } }",
            json!({ "id": form_id }),
        )
        .await;
    let version_id = body["data"]["publishForm"]["version"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("published: {body}"))
        .to_owned();
    Published {
        form_id,
        public_id,
        version_id,
    }
}

/// The feedback form, published with `settings`.
pub async fn publish_feedback(app: &TestApp, owner: &Session, settings: Value) -> Published {
    publish_document(app, owner, FEEDBACK_FORM, settings).await
}

pub async fn set_settings(app: &TestApp, owner: &Session, form_id: &str, settings: Value) {
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: UpdateFormSettingsInput!) { updateFormSettings(input: $input) { form { id } } }",
            json!({ "input": { "id": form_id, "settings": settings } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

/// POSTs to the public endpoint, as a browser or app without credentials would.
pub async fn public(app: &TestApp, query: &str, variables: Value) -> Value {
    let response = app
        .client
        .post(app.url("/public/graphql"))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("request sent");
    assert!(response.status().is_success(), "HTTP {}", response.status());
    response.json().await.expect("JSON body")
}

/// A new idempotency key.
pub fn key() -> String {
    Uuid::now_v7().to_string()
}

/// `submitResponse` with `input` (the public id and a fresh key are added when absent).
pub async fn submit(app: &TestApp, form: &Published, input: Value) -> Value {
    let query = format!("mutation($input: NewResponseInput!) {{ submitResponse(input: $input) {{ {RESULT} }} }}");
    public(app, &query, json!({ "input": with_defaults(form, input) })).await
}

/// `startResponse` with `input`.
pub async fn start(app: &TestApp, form: &Published, input: Value) -> Value {
    let query = format!("mutation($input: NewResponseInput!) {{ startResponse(input: $input) {{ {RESULT} }} }}");
    public(app, &query, json!({ "input": with_defaults(form, input) })).await
}

/// `saveResponse` or `completeResponse` (`operation`) with `input` (a fresh key when absent).
pub async fn proceed(app: &TestApp, operation: &str, mut input: Value) -> Value {
    if input.get("idempotencyKey").is_none() {
        input["idempotencyKey"] = json!(key());
    }
    let query = format!("mutation($input: ResponseAnswersInput!) {{ {operation}(input: $input) {{ {RESULT} }} }}");
    public(app, &query, json!({ "input": input })).await
}

fn with_defaults(form: &Published, mut input: Value) -> Value {
    if input.get("publicId").is_none() {
        input["publicId"] = json!(form.public_id);
    }
    if input.get("idempotencyKey").is_none() {
        input["idempotencyKey"] = json!(key());
    }
    input
}

/// The result of a public write, or a panic naming the errors.
pub fn result<'a>(body: &'a Value, operation: &str) -> &'a Value {
    assert!(body["errors"].is_null(), "{operation}: {body}");
    &body["data"][operation]
}

/// The answers of a promoter that take the shortest path (section 1 then 3).
pub fn promoter() -> Value {
    json!([
        { "key": "nps", "value": { "number": 10 } },
        { "key": "plan", "value": { "choices": ["pro"] } },
        { "key": "service", "value": { "number": 5 } }
    ])
}

/// Submits [`promoter`]'s answers to `form`; the response's ID.
pub async fn submit_promoter(app: &TestApp, form: &Published) -> String {
    let body = submit(app, form, json!({ "answers": promoter() })).await;
    result(&body, "submitResponse")["response"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Answer `key` with `value` (an AnswerValueInput).
pub fn answer(key: &str, value: Value) -> Value {
    json!({ "key": key, "value": value })
}

/// Stored rows of a table for a form (counted in the database itself).
pub async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let conn = app.db.conn();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

/// The staff view of a response.
pub async fn staff_response(app: &TestApp, token: &str, id: &Value) -> Value {
    let body = app
        .gql(
            Some(token),
            "query($id: ID!) { response(id: $id) { id status channel locale userAgent deviceId totalScore
                startedAt completedAt timeToCompleteSeconds hasAddressHash recordedByApiKey
                geolocation { latitude longitude } respondent { externalId } interviewer { email }
                answers { key kind number text choices otherText bool date score } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["response"].clone()
}

/// One stored answer by key from a list of answers.
pub fn answer_of<'a>(answers: &'a Value, key: &str) -> &'a Value {
    answers
        .as_array()
        .unwrap_or_else(|| panic!("no answers in {answers}"))
        .iter()
        .find(|a| a["key"] == key)
        .unwrap_or_else(|| panic!("no answer {key} in {answers}"))
}

/// Every (code, path, key) of a refusal's problems.
pub fn refusal(body: &Value) -> Vec<(String, String, String)> {
    assert_eq!(crate::helpers::error_code(body), "BAD_USER_INPUT", "{body}");
    body["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["path"].as_str().unwrap().to_owned(),
                p["key"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
