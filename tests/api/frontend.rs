//! The API as front-end tools meet it on their first calls: the standard introspection query,
//! queries by GET (with what a CDN may cache), CORS preflights carrying the common clients'
//! headers, and answers shaped as the GraphQL-over-HTTP spec says (the order asked for,
//! `Accept` q-values, no `data` on request errors).
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::{
    collect::publish_feedback,
    helpers::{TestApp, spawn_app, spawn_app_with},
};

/// graphql-js's `getIntrospectionQuery({ descriptions, specifiedByUrl, directiveIsRepeatable,
/// schemaDescription, inputValueDeprecation, oneOf })`, as versions 16.11 and 17.1 print it
/// (`node -e 'process.stdout.write(require("graphql").getIntrospectionQuery({...}))'`).
const INTROSPECTION: [&str; 2] = [
    include_str!("../data/introspection-query-graphql-16.graphql"),
    include_str!("../data/introspection-query-graphql-17.graphql"),
];

async fn get(
    app: &TestApp,
    path: &str,
    params: &[(&str, &str)],
    accept: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let query = serde_urlencoded::to_string(params).unwrap();
    let mut request = app
        .client
        .get(format!("{}?{query}", app.url(path)))
        .header(ACCEPT, accept);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

#[tokio::test]
async fn the_standard_introspection_query_is_answered_in_full_outside_production() {
    let app = spawn_app().await;
    for query in INTROSPECTION {
        for (path, root) in [("/graphql", "Query"), ("/public/graphql", "PublicQuery")] {
            let response = app
                .client
                .post(app.url(path))
                .json(&json!({ "query": query, "operationName": "IntrospectionQuery" }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.unwrap();
            assert!(body["errors"].is_null(), "{path}: {body:.300}");
            let schema = &body["data"]["__schema"];
            assert_eq!(schema["queryType"]["name"], root);
            let types = schema["types"].as_array().unwrap();
            let condition = types
                .iter()
                .find(|t| t["name"] == "AnswerValueInput")
                .expect("AnswerValueInput");
            assert_eq!(condition["isOneOf"], true, "{path}");
            assert!(condition["description"].as_str().is_some_and(|d| !d.is_empty()));
            assert!(
                schema["directives"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["name"] == "oneOf")
            );
        }
    }
    // By GET too, as GraphiQL and Postman may send it.
    let response = get(
        &app,
        "/graphql",
        &[("query", INTROSPECTION[0])],
        "application/json",
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    // Ordinary documents still meet the depth limit.
    let mut deep = String::from("id");
    for _ in 0..8 {
        deep = format!("organization {{ members(first: 1) {{ nodes {{ {deep} }} }} }}");
    }
    let body = app.gql(None, &format!("{{ __typename {deep} }}"), json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
}

#[tokio::test]
async fn introspection_stays_off_in_production() {
    let app = spawn_app_with(|c| c.production = true).await;
    let body = app.gql(None, INTROSPECTION[0], json!({})).await;
    assert!(
        body["data"].is_null() || body["data"]["__schema"].is_null(),
        "{body:.300}"
    );
}

#[tokio::test]
async fn queries_by_get_and_what_a_cache_may_keep() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let read = "query($id: String!) { publicForm(publicId: $id) { title } }";
    let variables = json!({ "id": form.public_id }).to_string();
    let response = get(
        &app,
        "/public/graphql",
        &[("query", read), ("variables", &variables)],
        "application/graphql-response+json",
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/graphql-response+json");
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["publicForm"]["title"].is_string(), "{body}");

    // Whether the form accepts responses changes sooner: ten seconds.
    let accepting = "query($id: String!) { publicForm(publicId: $id) { title acceptingResponses } }";
    let response = get(
        &app,
        "/public/graphql",
        &[("query", accepting), ("variables", &variables)],
        "*/*",
        None,
    )
    .await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=10");
    // With credentials, or with personal data, nothing is kept.
    let me = get(
        &app,
        "/graphql",
        &[("query", "{ me { role } }")],
        "application/json",
        Some(&owner.access_token),
    )
    .await;
    assert_eq!(me.headers()["cache-control"], "no-store");
    let body: Value = me.json().await.unwrap();
    assert_eq!(body["data"]["me"]["role"], "OWNER");
    let resume = get(
        &app,
        "/public/graphql",
        &[("query", "{ resumeResponse(resumeToken: \"x\") { id } }")],
        "application/json",
        None,
    )
    .await;
    assert_eq!(resume.headers()["cache-control"], "no-store");

    // Mutations are never run by GET.
    let mutation = "mutation { signOut { signedOut } }";
    let response = get(&app, "/graphql", &[("query", mutation)], "application/json", None).await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    // A persisted query by hash alone, once learned.
    let hash: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(read.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string();
    let by_hash = [("extensions", extensions.as_str()), ("variables", variables.as_str())];
    let body: Value = get(&app, "/public/graphql", &by_hash, "application/json", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND");
    let learn = [
        ("query", read),
        ("extensions", extensions.as_str()),
        ("variables", variables.as_str()),
    ];
    get(&app, "/public/graphql", &learn, "application/json", None).await;
    let response = get(&app, "/public/graphql", &by_hash, "application/json", None).await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=60");
    let body: Value = response.json().await.unwrap();
    assert!(body["data"]["publicForm"]["title"].is_string(), "{body}");

    // GraphiQL is for browsers; a GET that is neither a page nor an operation is refused.
    let page = get(&app, "/graphql", &[], "text/html,application/xhtml+xml", None).await;
    assert!(page.text().await.unwrap().to_lowercase().contains("graphiql"));
    let response = get(&app, "/graphql", &[], "application/json", None).await;
    assert_eq!(response.status(), 400);
    let response = get(
        &app,
        "/graphql",
        &[("query", "{ __typename }"), ("variables", "[1")],
        "application/json",
        None,
    )
    .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn preflights_allow_the_headers_of_common_clients_on_both_endpoints() {
    let app = spawn_app_with(|c| c.cors_origins = vec!["https://app.example.com".to_owned()]).await;
    let headers = "content-type, apollographql-client-name, apollographql-client-version, traceparent, tracestate, baggage, sentry-trace";
    for (path, extra) in [("/graphql", ", authorization"), ("/public/graphql", "")] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", format!("{headers}{extra}"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let allowed = response.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        for header in headers
            .split(", ")
            .chain(extra.trim_start_matches(", ").split(", ").filter(|h| !h.is_empty()))
        {
            assert!(allowed.contains(header), "{path} does not allow {header}: {allowed}");
        }
        assert_eq!(response.headers()["access-control-max-age"], "7200", "{path}");
    }
    // The list is configurable.
    let custom =
        spawn_app_with(|c| c.cors_allowed_headers = vec!["content-type".to_owned(), "x-tenant".to_owned()]).await;
    let response = custom
        .client
        .request(reqwest::Method::OPTIONS, custom.url("/public/graphql"))
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "x-tenant")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let refused = custom
        .client
        .request(reqwest::Method::OPTIONS, custom.url("/public/graphql"))
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "traceparent")
        .send()
        .await
        .unwrap();
    assert!(!refused.status().is_success(), "a header off the list was allowed");
}

#[tokio::test]
async fn answers_keep_the_order_asked_for_and_leave_out_data_on_request_errors() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let query = "{ zebra: me { role } apple: me { user { name email } role } middle: __typename }";
    let response = app.post(Some(&owner.access_token), query, json!({})).await;
    let text = response.text().await.unwrap();
    let (zebra, apple, middle) = (
        text.find("\"zebra\"").unwrap(),
        text.find("\"apple\"").unwrap(),
        text.find("\"middle\"").unwrap(),
    );
    assert!(zebra < apple && apple < middle, "{text}");
    assert!(
        text.find("\"name\"").unwrap() < text.find("\"email\"").unwrap(),
        "{text}"
    );
    assert!(
        text.find("\"email\"").unwrap() < text.rfind("\"role\"").unwrap(),
        "{text}"
    );

    for (query, code) in [
        ("{ me { role", "GRAPHQL_PARSE_FAILED"),
        ("{ noSuchField }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        for accept in ["application/json", "application/graphql-response+json"] {
            let response = app
                .client
                .post(app.url("/graphql"))
                .header(ACCEPT, accept)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["extensions"]["code"], code);
            assert!(body.get("data").is_none(), "a request error carries data: {body}");
        }
    }
    // A field error during execution keeps `data`.
    let body = app.gql(None, "{ me { role } }", json!({})).await;
    assert!(body.get("data").is_some(), "{body}");

    // q-values decide the media type.
    let ask = |accept: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header(ACCEPT, accept)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
    };
    let prefers_json = ask("application/graphql-response+json;q=0.5, application/json;q=0.9")
        .await
        .unwrap();
    assert_eq!(prefers_json.headers()[CONTENT_TYPE], "application/json");
    let refuses = ask("application/graphql-response+json;q=0, application/json;q=0")
        .await
        .unwrap();
    assert_eq!(refuses.status(), 406);
}

#[tokio::test]
async fn each_version_s_sections_and_questions_have_ids_of_their_own() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let token = Some(owner.access_token.as_str());
    let form = publish_feedback(&app, &owner, json!({})).await;
    let fields = "id number sections { id questions { id key title { text(locale: \"en\") } } skips { to } }";
    let query = format!(
        "query($id: ID!) {{ form(id: $id) {{ publishedVersion {{ {fields} }} draftVersion {{ {fields} }} }} }}"
    );
    let published =
        app.gql(token, &query, json!({ "id": form.form_id })).await["data"]["form"]["publishedVersion"].clone();
    let nps = published["sections"][0]["questions"][0].clone();
    assert_eq!(nps["key"], "nps");

    // An edit starts a draft: its copy of the question gets another id, the key stays.
    let body = app
        .gql(
            token,
            "mutation($input: UpdateQuestionInput!) { updateQuestion(input: $input) { question { id key } } }",
            json!({ "input": { "id": nps["id"], "title": [{ "locale": "en", "text": "Would you recommend us?" }, { "locale": "fa", "text": "ما را پیشنهاد می‌کنید؟" }] } }),
        )
        .await;
    let draft_nps = body["data"]["updateQuestion"]["question"].clone();
    assert_eq!(draft_nps["key"], "nps", "{body}");
    assert_ne!(draft_nps["id"], nps["id"]);
    let both = app.gql(token, &query, json!({ "id": form.form_id })).await["data"]["form"].clone();
    let (old, new) = (&both["publishedVersion"], &both["draftVersion"]);
    for (i, section) in old["sections"].as_array().unwrap().iter().enumerate() {
        assert_ne!(section["id"], new["sections"][i]["id"], "section {i}");
        for (j, question) in section["questions"].as_array().unwrap().iter().enumerate() {
            assert_ne!(question["id"], new["sections"][i]["questions"][j]["id"]);
            assert_eq!(question["key"], new["sections"][i]["questions"][j]["key"]);
        }
    }
    // Skip targets name the section of the same version.
    let ids: Vec<&Value> = new["sections"].as_array().unwrap().iter().map(|s| &s["id"]).collect();
    for section in new["sections"].as_array().unwrap() {
        for skip in section["skips"].as_array().unwrap() {
            assert!(ids.contains(&&skip["to"]), "{skip}");
        }
    }

    // node(id:) finds each version's copy with that version's content.
    let node = "query($id: ID!) { node(id: $id) { id ... on Question { key title { text(locale: \"en\") } } } }";
    let found = app.gql(token, node, json!({ "id": nps["id"] })).await;
    assert_eq!(found["data"]["node"]["title"]["text"], nps["title"]["text"], "{found}");
    let found = app.gql(token, node, json!({ "id": draft_nps["id"] })).await;
    assert_eq!(
        found["data"]["node"]["title"]["text"], "Would you recommend us?",
        "{found}"
    );
    let section = "query($id: ID!) { node(id: $id) { ... on Section { questions { key } } } }";
    let found = app.gql(token, section, json!({ "id": old["sections"][0]["id"] })).await;
    assert_eq!(found["data"]["node"]["questions"][0]["key"], "nps", "{found}");

    // The public form names its sections in its version too.
    let public = app
        .gql(
            None,
            "query($id: String!) { publicForm(publicId: $id) { sections { id } } }",
            json!({ "id": form.public_id }),
        )
        .await;
    assert_eq!(
        public["data"]["publicForm"]["sections"][0]["id"],
        old["sections"][0]["id"]
    );
}
