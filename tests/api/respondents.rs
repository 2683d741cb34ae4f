//! Respondents: upsert by external id, typed attributes, every validation rule, a bulk CRM
//! sync of 10,000 in one call (all or nothing, every bad row reported), search and attribute
//! filters, cursor lists, scopes and tenancy.
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, error_code, problems, spawn_app};

const FIELDS: &str = "id externalId email phone name locale optedOut createdAt updatedAt
    attributes { name text number bool date }";

async fn declare(app: &TestApp, owner: &Session, name: &str, kind: &str) -> Value {
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: CreateRespondentAttributeInput!) { createRespondentAttribute(input: $input) { attribute { id } } }",
            json!({ "input": { "name": name, "type": kind, "label": name } }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["createRespondentAttribute"]["attribute"]["id"].clone()
}

async fn catalogue(app: &TestApp, owner: &Session) {
    for (name, kind) in [
        ("plan", "STRING"),
        ("lifetime_value", "NUMBER"),
        ("vip", "BOOLEAN"),
        ("customer_since", "DATE"),
    ] {
        declare(app, owner, name, kind).await;
    }
}

async fn upsert(app: &TestApp, token: &str, input: Value) -> Value {
    let query = format!(
        "mutation($input: RespondentInput!) {{ upsertRespondent(input: $input) {{ created respondent {{ {FIELDS} }} }} }}"
    );
    app.gql(Some(token), &query, json!({ "input": input })).await
}

async fn bulk(app: &TestApp, token: &str, rows: Vec<Value>) -> Value {
    app.gql(
        Some(token),
        "mutation($input: UpsertRespondentsInput!) { upsertRespondents(input: $input) { created updated } }",
        json!({ "input": { "respondents": rows } }),
    )
    .await
}

async fn list(app: &TestApp, token: &str, args: Value) -> Value {
    let query =
        "query($search: String, $attributes: [AttributeValueInput!], $optedOut: Boolean, $first: Int, $after: String) {
        respondents(search: $search, attributes: $attributes, optedOut: $optedOut, first: $first, after: $after) {
          nodes { externalId name } pageInfo { hasNextPage endCursor } } }";
    app.gql(Some(token), query, args).await
}

fn external_ids(body: &Value) -> Vec<String> {
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["respondents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["externalId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn respondents_are_upserted_by_external_id_with_typed_attributes() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    catalogue(&app, &owner).await;
    let first = upsert(
        &app,
        token,
        json!({
            "externalId": "crm-1", "email": " Sara@Example.COM ", "phone": "۰۹۱۲ ۳۴۵ ۶۷۸۹", "name": "سارا",
            "locale": "fa", "optedOut": true,
            "attributes": [
                { "name": "plan", "value": { "text": "pro" } },
                { "name": "lifetime_value", "value": { "number": 1250.5 } },
                { "name": "vip", "value": { "bool": true } },
                { "name": "customer_since", "value": { "date": "2021-03-21" } }
            ]
        }),
    )
    .await;
    assert!(first["errors"].is_null(), "{first}");
    let created = &first["data"]["upsertRespondent"];
    assert_eq!(created["created"], true);
    let respondent = &created["respondent"];
    assert_eq!(respondent["email"], "sara@example.com");
    assert_eq!(respondent["phone"], "09123456789");
    assert_eq!(respondent["name"], "سارا");
    assert_eq!(respondent["optedOut"], true);
    assert_eq!(
        respondent["attributes"],
        json!([
            { "name": "customer_since", "text": null, "number": null, "bool": null, "date": "2021-03-21" },
            { "name": "lifetime_value", "text": null, "number": 1250.5, "bool": null, "date": null },
            { "name": "plan", "text": "pro", "number": null, "bool": null, "date": null },
            { "name": "vip", "text": null, "number": null, "bool": true, "date": null }
        ])
    );
    let id = respondent["id"].clone();

    // The same external id updates the same respondent; the opt-out stays when left out.
    let second = upsert(
        &app,
        token,
        json!({ "externalId": "crm-1", "name": "Sara", "attributes": [{ "name": "plan", "value": { "text": "basic" } }] }),
    )
    .await;
    let updated = &second["data"]["upsertRespondent"];
    assert_eq!(updated["created"], false, "{second}");
    assert_eq!(updated["respondent"]["id"], id);
    assert_eq!(updated["respondent"]["name"], "Sara");
    assert_eq!(updated["respondent"]["email"], Value::Null);
    assert_eq!(updated["respondent"]["optedOut"], true);
    assert_eq!(updated["respondent"]["attributes"].as_array().unwrap().len(), 1);
    assert_eq!(updated["respondent"]["createdAt"], respondent["createdAt"]);
    let cleared = upsert(&app, token, json!({ "externalId": "crm-1", "optedOut": false })).await;
    assert_eq!(
        cleared["data"]["upsertRespondent"]["respondent"]["optedOut"], false,
        "{cleared}"
    );

    // Read back by ID and through node().
    let by_id = app
        .gql(
            Some(token),
            "query($id: ID!) { respondent(id: $id) { externalId } node(id: $id) { ... on Respondent { name optedOut } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(by_id["data"]["respondent"]["externalId"], "crm-1", "{by_id}");
    // Fields left out of an upsert are cleared: the CRM's record is the truth.
    assert_eq!(
        by_id["data"]["node"],
        json!({ "name": null, "optedOut": false }),
        "{by_id}"
    );

    // Another organization sees nothing, and its own crm-1 is another respondent.
    let other = app.sign_up().await;
    let body = app
        .gql(
            Some(&other.access_token),
            "query($id: ID!) { respondent(id: $id) { externalId } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["respondent"], Value::Null, "{body}");
    assert_eq!(
        external_ids(&list(&app, &other.access_token, json!({})).await),
        Vec::<String>::new()
    );
    let theirs = upsert(&app, &other.access_token, json!({ "externalId": "crm-1" })).await;
    assert_eq!(theirs["data"]["upsertRespondent"]["created"], true, "{theirs}");
    app.stop().await;
}

#[tokio::test]
async fn every_invalid_field_is_refused_with_its_code_and_path() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    catalogue(&app, &owner).await;
    let old = declare(&app, &owner, "old_segment", "STRING").await;
    let retired = app
        .gql(
            Some(token),
            "mutation($id: ID!) { retireRespondentAttribute(input: { id: $id }) { attribute { retiredAt } } }",
            json!({ "id": old }),
        )
        .await;
    assert!(retired["errors"].is_null(), "{retired}");
    let value = |name: &str, value: Value| json!([{ "name": name, "value": value }]);
    let cases = [
        (json!({ "externalId": "  " }), "REQUIRED", "input.externalId"),
        (
            json!({ "externalId": "x".repeat(201) }),
            "INVALID_VALUE",
            "input.externalId",
        ),
        (
            json!({ "externalId": "a", "email": "not-an-email" }),
            "INVALID_EMAIL",
            "input.email",
        ),
        (
            json!({ "externalId": "a", "phone": "12-34" }),
            "INVALID_PHONE",
            "input.phone",
        ),
        (
            json!({ "externalId": "a", "phone": "0912 abc 6789" }),
            "INVALID_PHONE",
            "input.phone",
        ),
        (
            json!({ "externalId": "a", "name": "n".repeat(201) }),
            "TOO_LONG",
            "input.name",
        ),
        (
            json!({ "externalId": "a", "locale": "Persian" }),
            "INVALID_LOCALE",
            "input.locale",
        ),
        (
            json!({ "externalId": "a", "attributes": value("tier", json!({ "text": "gold" })) }),
            "UNKNOWN_ATTRIBUTE",
            "input.attributes[0]",
        ),
        (
            json!({ "externalId": "a", "attributes": value("lifetime_value", json!({ "text": "a lot" })) }),
            "INVALID_ATTRIBUTE",
            "input.attributes[0]",
        ),
        (
            json!({ "externalId": "a", "attributes": value("vip", json!({ "number": 1 })) }),
            "INVALID_ATTRIBUTE",
            "input.attributes[0]",
        ),
        (
            json!({ "externalId": "a", "attributes": value("old_segment", json!({ "text": "b2b" })) }),
            "ATTRIBUTE_RETIRED",
            "input.attributes[0]",
        ),
        (
            json!({ "externalId": "a", "attributes": value("plan", json!({ "text": "x".repeat(1001) })) }),
            "TOO_LONG",
            "input.attributes[0]",
        ),
        (
            json!({ "externalId": "a", "attributes": [
                { "name": "plan", "value": { "text": "pro" } }, { "name": "plan", "value": { "text": "basic" } } ] }),
            "DUPLICATE",
            "input.attributes[1]",
        ),
    ];
    for (input, code, path) in cases {
        let body = upsert(&app, token, input.clone()).await;
        assert_eq!(problems(&body), [(code.to_owned(), path.to_owned())], "{input}");
        assert_eq!(body["errors"][0]["extensions"]["field"], path);
    }
    // Arabic-Indic digits and an international number are phones.
    let body = upsert(&app, token, json!({ "externalId": "a", "phone": "+98 (٩١٢) ٣٤٥-٦٧٨٩" })).await;
    assert_eq!(
        body["data"]["upsertRespondent"]["respondent"]["phone"], "+989123456789",
        "{body}"
    );
    app.stop().await;
}

fn row(i: usize) -> Value {
    json!({
        "externalId": format!("crm-{i:05}"),
        "email": format!("customer{i}@example.com"),
        "phone": format!("0912{:07}", i),
        "name": format!("Customer {i}"),
        "locale": if i.is_multiple_of(2) { "fa" } else { "en" },
        "attributes": [
            { "name": "plan", "value": { "text": if i.is_multiple_of(10) { "pro" } else { "basic" } } },
            { "name": "lifetime_value", "value": { "number": (i % 500) as f64 } },
            { "name": "vip", "value": { "bool": i.is_multiple_of(100) } }
        ]
    })
}

#[tokio::test]
async fn a_crm_sync_of_ten_thousand_is_one_call_all_or_nothing() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    catalogue(&app, &owner).await;
    let started = std::time::Instant::now();
    let body = bulk(&app, token, (0..10_000).map(row).collect()).await;
    let took = started.elapsed();
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(
        body["data"]["upsertRespondents"],
        json!({ "created": 10_000, "updated": 0 })
    );
    eprintln!("bulk upsert of 10,000 new respondents: {took:?}");

    // Half again (changed), half new.
    let mut rows: Vec<Value> = (5_000..15_000).map(row).collect();
    rows[0]["name"] = json!("Renamed");
    let body = bulk(&app, token, rows).await;
    assert_eq!(
        body["data"]["upsertRespondents"],
        json!({ "created": 5_000, "updated": 5_000 }),
        "{body}"
    );
    let renamed = list(&app, token, json!({ "search": "crm-05000" })).await;
    assert_eq!(
        renamed["data"]["respondents"]["nodes"][0]["name"], "Renamed",
        "{renamed}"
    );

    // Bad rows refuse the whole call, each reported; nothing is written.
    let mut rows: Vec<Value> = (20_000..20_100).map(row).collect();
    rows[3]["email"] = json!("broken");
    rows[50]["attributes"][1]["value"] = json!({ "text": "much" });
    rows[99]["externalId"] = json!("crm-20000");
    let body = bulk(&app, token, rows).await;
    assert_eq!(
        problems(&body),
        [
            ("INVALID_EMAIL".to_owned(), "input.respondents[3].email".to_owned()),
            (
                "INVALID_ATTRIBUTE".to_owned(),
                "input.respondents[50].attributes[1]".to_owned()
            ),
            ("DUPLICATE".to_owned(), "input.respondents[99].externalId".to_owned()),
        ]
    );
    let none = list(&app, token, json!({ "search": "crm-200" })).await;
    assert_eq!(external_ids(&none), Vec::<String>::new(), "a refused sync wrote rows");
    let over = bulk(
        &app,
        token,
        (0..10_001).map(|i| json!({ "externalId": format!("x{i}") })).collect(),
    )
    .await;
    assert_eq!(
        problems(&over),
        [("TOO_MANY".to_owned(), "input.respondents".to_owned())]
    );
    app.stop().await;
}

#[tokio::test]
async fn lists_search_and_filter_by_attribute_with_cursors_and_scopes() {
    let mut app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = owner.access_token.as_str();
    catalogue(&app, &owner).await;
    let body = bulk(&app, token, (0..250).map(row).collect()).await;
    assert!(body["errors"].is_null(), "{body}");
    upsert(
        &app,
        token,
        json!({ "externalId": "fa-1", "name": "علي كريمي", "optedOut": true }),
    )
    .await;

    // Pages of 100 in creation order, then the rest.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = list(&app, token, json!({ "first": 100, "after": after })).await;
        seen.extend(external_ids(&page));
        let info = &page["data"]["respondents"]["pageInfo"];
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen.len(), 251);
    assert_eq!(seen[0], "crm-00000");
    assert_eq!(seen[250], "fa-1");

    // Search: Persian letters normalised, digits, several words.
    let persian = list(&app, token, json!({ "search": "علی کریمی" })).await;
    assert_eq!(external_ids(&persian), ["fa-1"]);
    let phone = list(&app, token, json!({ "search": "۰۹۱۲۰۰۰۰۱۲۳" })).await;
    assert_eq!(external_ids(&phone), ["crm-00123"]);
    // Attribute filters, type-checked, combined.
    let pro = list(
        &app,
        token,
        json!({ "first": 100, "attributes": [{ "name": "plan", "value": { "text": "pro" } }] }),
    )
    .await;
    let expected: Vec<String> = (0..250)
        .filter(|i| i % 10 == 0)
        .map(|i| format!("crm-{i:05}"))
        .collect();
    assert_eq!(external_ids(&pro), expected);
    let vip_pro = list(
        &app,
        token,
        json!({ "attributes": [
            { "name": "plan", "value": { "text": "pro" } },
            { "name": "vip", "value": { "bool": true } } ] }),
    )
    .await;
    assert_eq!(external_ids(&vip_pro), ["crm-00000", "crm-00100", "crm-00200"]);
    let valued = list(
        &app,
        token,
        json!({ "attributes": [{ "name": "lifetime_value", "value": { "number": 42 } }] }),
    )
    .await;
    assert_eq!(external_ids(&valued), ["crm-00042"]);
    let opted = list(&app, token, json!({ "optedOut": true })).await;
    assert_eq!(external_ids(&opted), ["fa-1"]);
    let bad = list(
        &app,
        token,
        json!({ "attributes": [{ "name": "vip", "value": { "text": "yes" } }] }),
    )
    .await;
    assert_eq!(
        problems(&bad),
        [("INVALID_ATTRIBUTE".to_owned(), "attributes[0]".to_owned())]
    );

    // Scopes: respondents:read lists but does not write; forms:read does neither.
    let key = |scopes: Value| {
        let app = &app;
        async move {
            let body = app
                .gql(
                    Some(token),
                    "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
                    json!({ "input": { "name": "CRM", "scopes": scopes } }),
                )
                .await;
            body["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned()
        }
    };
    let reader = key(json!(["RESPONDENTS_READ"])).await;
    assert_eq!(external_ids(&list(&app, &reader, json!({ "first": 1 })).await).len(), 1);
    assert_eq!(
        error_code(&upsert(&app, &reader, json!({ "externalId": "k" })).await),
        "FORBIDDEN"
    );
    let writer = key(json!(["RESPONDENTS_WRITE"])).await;
    let written = upsert(&app, &writer, json!({ "externalId": "k" })).await;
    assert!(written["errors"].is_null(), "{written}");
    let forms = key(json!(["FORMS_READ"])).await;
    assert_eq!(error_code(&list(&app, &forms, json!({})).await), "FORBIDDEN");
    // Analysts read, editors write.
    let analyst = app.add_member(&owner, "ANALYST").await;
    assert_eq!(
        external_ids(&list(&app, &analyst.access_token, json!({ "first": 1 })).await).len(),
        1
    );
    assert_eq!(
        error_code(&upsert(&app, &analyst.access_token, json!({ "externalId": "k" })).await),
        "FORBIDDEN"
    );
    app.stop().await;
}
