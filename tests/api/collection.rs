//! Collection around the answers: invitation tokens, one response per respondent or device
//! under concurrency, what is recorded with a response, staff-entered responses, tenancy,
//! automatic persisted queries, rate limits and the public endpoint's origins.
use futures_util::future::join_all;
use nazar::auth::Signer;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    collect::{
        Published, answer, count_rows, key, promoter, public, publish_feedback, refusal, result, staff_response, start,
        submit,
    },
    helpers::{JWT_SECRET, Session, TestApp, error_code, spawn_app, spawn_app_with},
};

async fn respondent(app: &TestApp, owner: &Session, external_id: &str) -> String {
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: RespondentInput!) { upsertRespondent(input: $input) { respondent { id } } }",
            json!({ "input": { "externalId": external_id, "name": "Sara" } }),
        )
        .await;
    body["data"]["upsertRespondent"]["respondent"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn invite(app: &TestApp, token: &str, form: &Published, respondents: &[&str], expires_at: Option<&str>) -> Value {
    app.gql(
        Some(token),
        "mutation($input: CreateRespondentInvitationsInput!) { createRespondentInvitations(input: $input) {
            publicId expiresAt invitations { respondentId token } } }",
        json!({ "input": { "formId": form.form_id, "respondentIds": respondents, "expiresAt": expires_at } }),
    )
    .await
}

fn token_of(body: &Value, i: usize) -> String {
    body["data"]["createRespondentInvitations"]["invitations"][i]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

fn uuid_of(global_id: &str) -> uuid::Uuid {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(global_id).unwrap()).unwrap();
    uuid::Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
}

#[tokio::test]
async fn invitation_tokens_bind_a_respondent_to_a_form() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({ "allowAnonymous": false })).await;
    let other_form = publish_feedback(&app, &owner, json!({})).await;
    let sara = respondent(&app, &owner, "crm-1").await;
    let body = invite(&app, &owner.access_token, &form, &[&sara], None).await;
    assert_eq!(
        body["data"]["createRespondentInvitations"]["publicId"],
        json!(form.public_id)
    );
    let token = token_of(&body, 0);

    // Without an invitation the form refuses; with one the response is the respondent's.
    let body = submit(&app, &form, json!({ "answers": promoter() })).await;
    assert_eq!(error_code(&body), "RESPONDENT_REQUIRED", "{body}");
    let body = submit(&app, &form, json!({ "invitationToken": token, "answers": promoter() })).await;
    let id = result(&body, "submitResponse")["response"]["id"].clone();
    let staff = staff_response(&app, &owner.access_token, &id).await;
    assert_eq!(staff["respondent"]["externalId"], "crm-1");

    // Expired, forged, and another form's invitations.
    let signer = Signer::new(JWT_SECRET.as_bytes());
    let past = app.clock.now() - chrono::Duration::minutes(1);
    let expired = signer.invitation(uuid_of(&form.form_id), uuid_of(&sara), Some(past));
    let forged =
        Signer::new(b"someone else's secret, long enough").invitation(uuid_of(&form.form_id), uuid_of(&sara), None);
    let elsewhere = token_of(&invite(&app, &owner.access_token, &other_form, &[&sara], None).await, 0);
    for (token, code) in [
        (expired, "INVITATION_EXPIRED"),
        (forged, "INVALID_INVITATION"),
        (elsewhere, "INVALID_INVITATION"),
        ("inv_garbage".to_owned(), "INVALID_INVITATION"),
    ] {
        let body = submit(&app, &form, json!({ "invitationToken": token, "answers": promoter() })).await;
        assert_eq!(error_code(&body), code, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.invitationToken");
    }
    let future = (app.clock.now() + chrono::Duration::days(1)).to_rfc3339();
    let body = invite(&app, &owner.access_token, &form, &[&sara], Some(&future)).await;
    let body = submit(
        &app,
        &form,
        json!({ "invitationToken": token_of(&body, 0), "answers": promoter() }),
    )
    .await;
    result(&body, "submitResponse");

    // Who may sign invitations, and for whose respondents.
    let analyst = app.add_member(&owner, "ANALYST").await;
    let body = invite(&app, &analyst.access_token, &form, &[&sara], None).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let stranger = app.sign_up().await;
    let theirs = respondent(&app, &stranger, "crm-1").await;
    let body = invite(&app, &owner.access_token, &form, &[&theirs], None).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.respondentIds[0]");
    let body = invite(&app, &stranger.access_token, &form, &[&theirs], None).await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let past = (app.clock.now() - chrono::Duration::days(1)).to_rfc3339();
    let body = invite(&app, &owner.access_token, &form, &[&sara], Some(&past)).await;
    assert_eq!(refusal(&body)[0].0, "OUT_OF_RANGE");
}

#[tokio::test]
async fn one_response_per_respondent_or_device_holds_under_concurrency() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({ "responseLimit": "ONE_PER_RESPONDENT" })).await;
    let sara = respondent(&app, &owner, "crm-1").await;
    let token = token_of(&invite(&app, &owner.access_token, &form, &[&sara], None).await, 0);
    let bodies =
        join_all((0..20).map(|_| submit(&app, &form, json!({ "invitationToken": token, "answers": promoter() }))))
            .await;
    let accepted = bodies.iter().filter(|b| b["errors"].is_null()).count();
    let refused = bodies
        .iter()
        .filter(|b| b["errors"][0]["extensions"]["code"] == "ALREADY_RESPONDED")
        .count();
    assert_eq!((accepted, refused), (1, 19));
    // Anonymous responses are not limited by respondent.
    for _ in 0..2 {
        result(
            &submit(&app, &form, json!({ "answers": promoter() })).await,
            "submitResponse",
        );
    }

    // A second start with the same invitation resumes the response in progress.
    let ali = respondent(&app, &owner, "crm-2").await;
    let token = token_of(&invite(&app, &owner.access_token, &form, &[&ali], None).await, 0);
    let first = start(&app, &form, json!({ "invitationToken": token })).await;
    let again = start(&app, &form, json!({ "invitationToken": token })).await;
    let (first, again) = (result(&first, "startResponse"), result(&again, "startResponse"));
    assert_eq!(first["response"]["id"], again["response"]["id"]);
    assert_eq!(
        (first["resumed"].as_bool(), again["resumed"].as_bool()),
        (Some(false), Some(true))
    );

    let devices = publish_feedback(&app, &owner, json!({ "responseLimit": "ONE_PER_DEVICE" })).await;
    let body = submit(&app, &devices, json!({ "answers": promoter() })).await;
    assert_eq!(
        refusal(&body),
        [("REQUIRED".to_owned(), "input.deviceId".to_owned(), String::new())]
    );
    let bodies =
        join_all((0..20).map(|_| submit(&app, &devices, json!({ "deviceId": "device-1", "answers": promoter() }))))
            .await;
    assert_eq!(bodies.iter().filter(|b| b["errors"].is_null()).count(), 1);
    let body = submit(&app, &devices, json!({ "deviceId": "device-2", "answers": promoter() })).await;
    result(&body, "submitResponse");
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM responses WHERE device_id IS NOT NULL").await,
        2
    );
}

/// POSTs `submitResponse` to the public endpoint with extra headers.
async fn submit_with(app: &TestApp, form: &Published, input: Value, headers: &[(&str, &str)]) -> Value {
    let mut input = input;
    input["publicId"] = json!(form.public_id);
    if input.get("idempotencyKey").is_none() {
        input["idempotencyKey"] = json!(key());
    }
    let mut request = app.client.post(app.url("/public/graphql")).json(&json!({
        "query": "mutation($input: NewResponseInput!) { submitResponse(input: $input) { response { id } } }",
        "variables": { "input": input }
    }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn what_is_recorded_with_a_response() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(
        &app,
        &owner,
        json!({ "collectGeolocation": true, "storeIpAddress": true, "allowedOrigins": ["https://shop.example.com"] }),
    )
    .await;
    let began = (app.clock.now() - chrono::Duration::minutes(10)).to_rfc3339();
    let body = submit_with(
        &app,
        &form,
        json!({ "answers": promoter(), "channel": "SMS", "locale": "en-US", "startedAt": began,
                "geolocation": { "latitude": 35.6892, "longitude": 51.389 },
                "hidden": [{ "key": "order_id", "value": "A-1" }] }),
        &[
            ("user-agent", "ShopApp/2.1 (Android 14)"),
            ("origin", "https://shop.example.com"),
        ],
    )
    .await;
    let id = body["data"]["submitResponse"]["response"]["id"].clone();
    assert!(id.is_string(), "{body}");
    let staff = staff_response(&app, &owner.access_token, &id).await;
    assert_eq!(staff["channel"], "SMS");
    assert_eq!(staff["locale"], "en");
    assert_eq!(staff["userAgent"], "ShopApp/2.1 (Android 14)");
    assert_eq!(
        staff["geolocation"],
        json!({ "latitude": 35.6892, "longitude": 51.389 })
    );
    assert_eq!(staff["hasAddressHash"], true);
    let seconds = staff["timeToCompleteSeconds"].as_i64().unwrap();
    assert!((599..=660).contains(&seconds), "{seconds}");
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) FROM responses WHERE length(ip_hash) = 64").await,
        1
    );

    // Pages of other origins may not submit; apps (no Origin header) may.
    let body = submit_with(
        &app,
        &form,
        json!({ "answers": promoter() }),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(error_code(&body), "ORIGIN_NOT_ALLOWED");
    let body = submit_with(&app, &form, json!({ "answers": promoter() }), &[]).await;
    assert!(body["errors"].is_null(), "{body}");

    // Bad metadata, each at its field.
    let old = (app.clock.now() - chrono::Duration::days(40)).to_rfc3339();
    let soon = (app.clock.now() - chrono::Duration::minutes(20)).to_rfc3339();
    for (extra, code, path) in [
        (
            json!({ "geolocation": { "latitude": 91, "longitude": 0 } }),
            "OUT_OF_RANGE",
            "input.geolocation.latitude",
        ),
        (json!({ "startedAt": old }), "OUT_OF_RANGE", "input.startedAt"),
        (
            json!({ "startedAt": began, "completedAt": soon }),
            "RANGE_INVERTED",
            "input.completedAt",
        ),
        (json!({ "channel": "PHONE" }), "CHANNEL_NOT_ALLOWED", "input.channel"),
        (json!({ "locale": "not a locale" }), "INVALID_LOCALE", "input.locale"),
        (json!({ "deviceId": "" }), "INVALID_VALUE", "input.deviceId"),
    ] {
        let mut input = json!({ "answers": promoter() });
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        let body = submit(&app, &form, input).await;
        let problems = refusal(&body);
        assert!(
            problems.iter().any(|(c, p, _)| c == code && p == path),
            "{code} {path}: {body}"
        );
    }
    let body = start(&app, &form, json!({ "completedAt": began })).await;
    assert_eq!(refusal(&body)[0].0, "NOT_APPLICABLE");

    // A form that collects neither location nor address.
    let plain = publish_feedback(&app, &owner, json!({})).await;
    let body = submit(
        &app,
        &plain,
        json!({ "answers": promoter(), "geolocation": { "latitude": 1, "longitude": 1 } }),
    )
    .await;
    assert_eq!(
        refusal(&body),
        [(
            "NOT_COLLECTED".to_owned(),
            "input.geolocation".to_owned(),
            String::new()
        )]
    );
    let body = submit(&app, &plain, json!({ "answers": promoter() })).await;
    let id = result(&body, "submitResponse")["response"]["id"].clone();
    let staff = staff_response(&app, &owner.access_token, &id).await;
    assert_eq!(
        (staff["hasAddressHash"].as_bool(), staff["geolocation"].is_null()),
        (Some(false), true)
    );
}

async fn record(app: &TestApp, token: &str, input: Value) -> Value {
    let mut input = input;
    if input.get("idempotencyKey").is_none() {
        input["idempotencyKey"] = json!(key());
    }
    app.gql(
        Some(token),
        "mutation($input: RecordResponseInput!) { recordResponse(input: $input) { replayed
            response { id status channel recordedByApiKey interviewer { email } respondent { externalId } } } }",
        json!({ "input": input }),
    )
    .await
}

async fn api_key(app: &TestApp, owner: &Session, scopes: &[&str]) -> String {
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }",
            json!({ "input": { "name": "CRM", "scopes": scopes } }),
        )
        .await;
    body["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn staff_record_interviews_and_partners_record_responses_within_their_organization() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({ "responseLimit": "ONE_PER_RESPONDENT" })).await;
    let sara = respondent(&app, &owner, "crm-1").await;
    let analyst = app.add_member(&owner, "ANALYST").await;

    let body = record(
        &app,
        &analyst.access_token,
        json!({ "formId": form.form_id, "respondentId": sara, "channel": "PHONE", "answers": promoter() }),
    )
    .await;
    let recorded = &body["data"]["recordResponse"];
    assert_eq!(recorded["response"]["channel"], "PHONE", "{body}");
    assert_eq!(recorded["response"]["interviewer"]["email"], json!(analyst.email));
    assert_eq!(recorded["response"]["respondent"]["externalId"], "crm-1");
    assert_eq!(recorded["response"]["recordedByApiKey"], false);
    // The same rules as the public API: one response per respondent, the path.
    let body = record(
        &app,
        &analyst.access_token,
        json!({ "formId": form.form_id, "respondentId": sara, "channel": "IN_PERSON", "answers": promoter() }),
    )
    .await;
    assert_eq!(error_code(&body), "ALREADY_RESPONDED");
    let body = record(
        &app,
        &analyst.access_token,
        json!({ "formId": form.form_id, "channel": "LINK", "answers": promoter() }),
    )
    .await;
    assert_eq!(refusal(&body)[0].0, "CHANNEL_NOT_ALLOWED");
    let body = record(
        &app,
        &analyst.access_token,
        json!({ "formId": form.form_id, "channel": "PHONE", "answers": [answer("nps", json!({ "number": 3 }))] }),
    )
    .await;
    assert!(
        refusal(&body).iter().any(|(c, _, k)| c == "REQUIRED" && k == "reason"),
        "{body}"
    );

    // A partner's system with responses:write.
    let writer = api_key(&app, &owner, &["RESPONSES_WRITE", "RESPONSES_READ"]).await;
    let input =
        json!({ "formId": form.form_id, "channel": "API", "answers": promoter(), "idempotencyKey": "crm-sync-7" });
    let body = record(&app, &writer, input.clone()).await;
    assert_eq!(
        body["data"]["recordResponse"]["response"]["recordedByApiKey"], true,
        "{body}"
    );
    let again = record(&app, &writer, input).await;
    assert_eq!(again["data"]["recordResponse"]["replayed"], true);
    assert_eq!(
        again["data"]["recordResponse"]["response"]["id"],
        body["data"]["recordResponse"]["response"]["id"]
    );
    let reader = api_key(&app, &owner, &["REPORTS_READ"]).await;
    let body = record(
        &app,
        &reader,
        json!({ "formId": form.form_id, "channel": "API", "answers": promoter() }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN");

    // Reading: members and keys with responses:read; another organization sees nothing.
    let list = "query($form: ID!, $status: [ResponseStatus!]) { responses(formId: $form, status: $status) {
        nodes { id channel } pageInfo { hasNextPage } } }";
    let body = app
        .gql(
            Some(&writer),
            list,
            json!({ "form": form.form_id, "status": ["COMPLETED"] }),
        )
        .await;
    assert_eq!(
        body["data"]["responses"]["nodes"].as_array().map(Vec::len),
        Some(2),
        "{body}"
    );
    let body = app
        .gql(
            Some(&writer),
            list,
            json!({ "form": form.form_id, "status": ["IN_PROGRESS"] }),
        )
        .await;
    assert_eq!(body["data"]["responses"]["nodes"], json!([]));
    let body = app.gql(Some(&reader), list, json!({ "form": form.form_id })).await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let stranger = app.sign_up().await;
    let body = app
        .gql(Some(&stranger.access_token), list, json!({ "form": form.form_id }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let some_id = app
        .gql(Some(&owner.access_token), list, json!({ "form": form.form_id }))
        .await["data"]["responses"]["nodes"][0]["id"]
        .clone();
    let one = "query($id: ID!) { response(id: $id) { id } node(id: $id) { id } }";
    let body = app
        .gql(Some(&stranger.access_token), one, json!({ "id": some_id }))
        .await;
    assert_eq!(body["data"], json!({ "response": null, "node": null }), "{body}");
    let body = app.gql(Some(&owner.access_token), one, json!({ "id": some_id })).await;
    assert_eq!(body["data"]["node"]["id"], some_id);
    let body = app.gql(None, one, json!({ "id": some_id })).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    let body = record(
        &app,
        &stranger.access_token,
        json!({ "formId": form.form_id, "channel": "PHONE", "answers": promoter() }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = record(
        &app,
        &stranger.access_token,
        json!({ "formId": publish_feedback(&app, &stranger, json!({})).await.form_id, "respondentId": sara,
                "channel": "PHONE", "answers": promoter() }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.respondentId");
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn persisted(app: &TestApp, query: Option<&str>, hash: &str) -> Value {
    let mut body = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } },
                           "variables": { "id": "none" } });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    let response = app
        .client
        .post(app.url("/public/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

#[tokio::test]
async fn automatic_persisted_queries_are_shared_through_the_cache() {
    let app = spawn_app().await;
    let query = "query($id: String!) { publicForm(publicId: $id) { title } }";
    let hash = sha256_hex(query);
    let body = persisted(&app, None, &hash).await;
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    let body = persisted(&app, Some(query), &hash).await;
    assert_eq!(body["data"], json!({ "publicForm": null }), "{body}");
    let body = persisted(&app, None, &hash).await;
    assert_eq!(body["data"], json!({ "publicForm": null }), "{body}");
    let body = persisted(&app, Some("{ __typename }"), &hash).await;
    assert_eq!(error_code(&body), "BAD_REQUEST", "{body}");

    // Another instance: with Redis it knows the query; in process each instance learns alone.
    let prefix = app.cache_prefix.clone();
    let other = spawn_app_with(|c| c.cache_prefix = prefix).await;
    let body = persisted(&other, None, &hash).await;
    if std::env::var("TEST_REDIS_URL").is_ok() {
        assert_eq!(body["data"], json!({ "publicForm": null }), "{body}");
    } else {
        assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    }
}

#[tokio::test]
async fn public_rate_limits_hold_per_address_and_per_form() {
    let app = spawn_app_with(|c| {
        c.public_rate_limit_per_address = 8;
        c.public_rate_limit_per_form = 3;
    })
    .await;
    let owner = app.sign_up().await; // one anonymous request
    let form = publish_feedback(&app, &owner, json!({})).await;
    // Three per minute: the fourth is refused (the seventh at worst, if a minute turns).
    let mut accepted = 0;
    let limited = loop {
        let body = submit(&app, &form, json!({ "answers": promoter() })).await;
        if body["errors"].is_null() {
            accepted += 1;
            assert!(accepted <= 6, "the form limit never applied");
        } else {
            break body;
        }
    };
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
    assert!(
        limited["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some_and(|s| (1..=60).contains(&s))
    );
    // Members are not limited by address; anonymous callers are.
    let me = "{ me { role } }";
    for _ in 0..10 {
        assert!(app.gql(Some(&owner.access_token), me, json!({})).await["errors"].is_null());
    }
    let mut limited = None;
    for _ in 0..20 {
        let response = app
            .client
            .post(app.url("/public/graphql"))
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            limited = Some(response);
            break;
        }
    }
    let response = limited.expect("the address limit applies");
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // Invalid credentials do not get around it.
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth("not-a-token")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
}

#[tokio::test]
async fn the_public_endpoint_answers_any_origin_and_holds_only_the_public_api() {
    let app = spawn_app().await;
    let preflight = |path: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://any-shop.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let public_answer = preflight("/public/graphql").await.unwrap();
    let allowed = public_answer
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap());
    assert!(matches!(allowed, Some("https://any-shop.example" | "*")), "{allowed:?}");
    assert!(
        public_answer
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let staff_answer = preflight("/graphql").await.unwrap();
    assert!(staff_answer.headers().get("access-control-allow-origin").is_none());

    let body = public(&app, "{ me { role } }", json!({})).await;
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    // Credentials are not read there: a staff token changes nothing.
    let owner = app.sign_up().await;
    let response = app
        .client
        .post(app.url("/public/graphql"))
        .bearer_auth(&owner.access_token)
        .json(&json!({ "query": "mutation { createApiKey(input: { name: \"x\", scopes: [] }) { secret } }" }))
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED");
}
