//! Aliases and batches: a request is charged for every root field of every operation, holds a
//! capped number of root fields and mutations, and expensive fields weigh in the complexity, so
//! one request cannot do hundreds of writes or reports.
use serde_json::{Value, json};

use super::{post_json, post_raw};
use crate::{
    collect::{count_rows, key, promoter, publish_feedback},
    helpers::{spawn_app, spawn_app_with},
};

/// `count` aliased submissions of the feedback form, each with its own variable and key.
fn aliased_submissions(public_id: &str, count: usize) -> Value {
    let declarations: String = (0..count).map(|i| format!("$i{i}: NewResponseInput! ")).collect();
    let fields: String = (0..count)
        .map(|i| format!("a{i}: submitResponse(input: $i{i}) {{ response {{ id }} }} "))
        .collect();
    let variables: serde_json::Map<String, Value> = (0..count)
        .map(|i| {
            let input = json!({ "publicId": public_id, "idempotencyKey": key(), "answers": promoter() });
            (format!("i{i}"), input)
        })
        .collect();
    json!({ "query": format!("mutation({declarations}) {{ {fields} }}"), "variables": variables })
}

#[tokio::test]
async fn five_hundred_aliased_submissions_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let answer = post_json(
        &app,
        "/public/graphql",
        None,
        &aliased_submissions(&form.public_id, 500),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.code(), "QUERY_TOO_LARGE");
    assert_eq!(answer.extensions()["limit"], "writes");
    assert_eq!(answer.extensions()["max"], 20);
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 0);

    // At the cap, every write is done.
    let answer = post_json(&app, "/public/graphql", None, &aliased_submissions(&form.public_id, 20)).await;
    assert!(answer.body["errors"].is_null(), "{}", answer.body);
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 20);
}

#[tokio::test]
async fn a_batch_counts_the_writes_of_all_its_operations() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let batch: Vec<Value> = (0..10).map(|_| aliased_submissions(&form.public_id, 3)).collect();
    let answer = post_json(&app, "/public/graphql", None, &json!(batch)).await;
    assert_eq!(answer.code(), "QUERY_TOO_LARGE", "{}", answer.body);
    assert_eq!(answer.extensions()["limit"], "writes");
    assert_eq!(count_rows(&app, "SELECT COUNT(*) FROM responses").await, 0);
}

#[tokio::test]
async fn a_batch_of_aliased_reads_is_capped_and_charged_per_root_field() {
    let app = spawn_app_with(|c| c.public_rate_limit_per_address = 30).await;
    let read = |aliases: usize| {
        let fields: String = (0..aliases)
            .map(|i| format!("f{i}: publicForm(publicId: \"none\") {{ title }} "))
            .collect();
        json!({ "query": format!("{{ {fields} }}") })
    };
    // 10 × 200 root fields: over the cap of 100 per request, refused before anything runs.
    let batch: Vec<Value> = (0..10).map(|_| read(200)).collect();
    let answer = post_json(&app, "/public/graphql", None, &json!(batch)).await;
    assert_eq!(answer.code(), "QUERY_TOO_LARGE", "{}", answer.body);
    assert_eq!(answer.extensions()["limit"], "rootFields");
    assert_eq!(answer.extensions()["max"], 100);

    // Each root field is charged: 30 per minute is 10 + 10 + 10, then nothing.
    for remaining in [20, 10, 0] {
        let response = app
            .client
            .post(app.url("/public/graphql"))
            .json(&json!([read(5), read(5)]))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["ratelimit-remaining"],
            remaining.to_string().as_str()
        );
    }
    let answer = post_json(&app, "/public/graphql", None, &read(1)).await;
    assert_eq!(answer.status, 429);
    assert_eq!(answer.code(), "RATE_LIMITED");
    assert!(answer.retry_after.is_some());
}

#[tokio::test]
async fn an_api_key_is_charged_per_root_field() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
            json!({ "input": { "name": "BI", "scopes": ["FORMS_READ"], "rateLimitPerMinute": 10 } }),
        )
        .await;
    let secret = body["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned();
    let aliases = |n: usize| {
        let fields: String = (0..n).map(|i| format!("m{i}: me {{ kind }} ")).collect();
        format!("{{ {fields} }}")
    };
    let response = app.post(Some(&secret), &aliases(4), json!({})).await;
    assert_eq!(response.headers()["ratelimit-remaining"], "6");
    let answer = post_raw(
        &app,
        "/graphql",
        Some(&secret),
        json!({ "query": aliases(7) }).to_string(),
        &[],
    )
    .await;
    assert_eq!(answer.status, 429, "{}", answer.body);
    assert_eq!(answer.code(), "RATE_LIMITED");
}

#[tokio::test]
async fn reports_weigh_in_the_complexity_and_are_counted_as_computed() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = Some(owner.access_token.as_str());
    let form = publish_feedback(&app, &owner, json!({})).await;
    let reports = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("r{i}: formReport(formId: $id) {{ responses {{ completed }} nps {{ score }} }} "))
            .collect();
        format!("query($id: ID!) {{ {fields} }}")
    };
    let vars = json!({ "id": form.form_id });
    // A thousand aliased reports: over the root-field cap.
    let answer = post_json(
        &app,
        "/graphql",
        token,
        &json!({ "query": reports(1000), "variables": vars }),
    )
    .await;
    assert_eq!(answer.code(), "QUERY_TOO_LARGE", "{}", answer.body);
    assert_eq!(answer.extensions()["limit"], "rootFields");
    // Sixty: under the cap, but sixty reports weigh more than the complexity allows.
    let body = app.gql(token, &reports(60), vars.clone()).await;
    assert_eq!(crate::helpers::error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().unwrap().contains("complex"),
        "{body}"
    );
    // Twenty are computed.
    let body = app.gql(token, &reports(20), vars.clone()).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["r19"]["responses"]["completed"], 0);

    // A saved report may hold 50 forms, which no static weight knows: reports are also counted
    // as they are computed, at most 100 per request.
    let create = (0..50)
        .map(|i| {
            format!(
                "c{i}: createForm(input: {{ title: [{{ locale: \"en\", text: \"Form {i}\" }}] }}) {{ form {{ id }} }} "
            )
        })
        .collect::<Vec<_>>();
    let mut form_ids = Vec::new();
    for chunk in create.chunks(20) {
        let body = app
            .gql(token, &format!("mutation {{ {} }}", chunk.concat()), json!({}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
        form_ids.extend(
            body["data"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v["form"]["id"].clone()),
        );
    }
    let body = app
        .gql(
            token,
            "mutation($input: CreateReportInput!) { createReport(input: $input) { report { id } } }",
            json!({ "input": { "name": "All", "formIds": form_ids } }),
        )
        .await;
    let report_id = body["data"]["createReport"]["report"]["id"].clone();
    assert!(report_id.is_string(), "{body}");
    let saved = |n: usize| {
        let fields: String = (0..n)
            .map(|i| format!("s{i}: report(id: $id) {{ results {{ responses {{ completed }} }} }} "))
            .collect();
        format!("query($id: ID!) {{ {fields} }}")
    };
    let body = app.gql(token, &saved(2), json!({ "id": report_id })).await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(body["data"]["s1"]["results"].as_array().unwrap().len(), 50);
    let body = app.gql(token, &saved(3), json!({ "id": report_id })).await;
    assert_eq!(crate::helpers::error_code(&body), "QUERY_TOO_LARGE", "{body}");
}
