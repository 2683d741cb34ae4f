//! Webhooks end to end: events written with their change, delivered by the dispatcher to a
//! real HTTP receiver on this machine, signed as Standard Webhooks specifies (checked with the
//! `standardwebhooks` crate and with the formula written out), retried on the app's clock,
//! disabled by 410 Gone, replayed, never sent twice by two dispatchers, resumed by another
//! instance after one stops, and refused for destinations of the server's own network.
use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use nazar::service::webhook::dispatch::{LEASE, RETRY_AFTER};
use poem::{
    EndpointExt, Request, Response, Route, Server, handler,
    http::{HeaderMap, StatusCode},
    listener::{Acceptor, Listener, TcpListener},
    web::Data,
};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::{Notify, oneshot};

use crate::{
    collect::{answer, publish_feedback, result, submit_promoter},
    helpers::{Session, TestApp, error_code, error_field, spawn_app, spawn_app_with, start, test_config},
};

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Shared {
    got: Mutex<Vec<Received>>,
    /// Statuses to answer with, in turn; then `otherwise`.
    script: Mutex<VecDeque<u16>>,
    otherwise: Mutex<u16>,
    /// Where to redirect to, answering 307.
    redirect: Mutex<Option<String>>,
    /// How long to take before answering.
    delay: Mutex<Duration>,
    arrived: Notify,
}

/// A webhook receiver: a real HTTP server on a port of its own.
struct Receiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

#[handler]
async fn hook(req: &Request, body: String, Data(shared): Data<&Arc<Shared>>) -> Response {
    let delay = *shared.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    shared.got.lock().unwrap().push(Received {
        headers: req.headers().clone(),
        body,
    });
    shared.arrived.notify_waiters();
    if let Some(to) = shared.redirect.lock().unwrap().clone() {
        return Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header("location", to)
            .finish();
    }
    let status = {
        let next = shared.script.lock().unwrap().pop_front();
        next.unwrap_or(*shared.otherwise.lock().unwrap())
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .body(format!("answered {status}"))
}

impl Receiver {
    async fn start() -> Receiver {
        let shared = Arc::new(Shared::default());
        *shared.otherwise.lock().unwrap() = 200;
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let addr = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let app = Route::new().at("/hook", poem::post(hook)).data(shared.clone());
        tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async {
                        let _ = rx.await;
                    },
                    None,
                )
                .await;
        });
        Receiver {
            addr,
            shared,
            _stop: tx,
        }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn got(&self) -> Vec<Received> {
        self.shared.got.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        *self.shared.otherwise.lock().unwrap() = status;
    }

    /// Waits (at most 20 s) until `n` requests have arrived; what arrived.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("{} of {n} deliveries arrived", self.got().len());
            }
        }
    }
}

const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
    secret endpoint { id url events enabled disabledReason } } }";

const ENDPOINT: &str = "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { id url enabled disabledReason
    deliveries(first: 100) { nodes { id eventId eventType status attemptCount nextAttemptAt lastStatusCode lastError
      deliveredAt attempts { attempt attemptedAt statusCode latencyMs responseExcerpt error } } } } } }";

/// A new endpoint receiving `events` at `url`: (its ID, its secret).
async fn endpoint(app: &TestApp, owner: &Session, url: &str, events: Value) -> (String, String) {
    let body = app
        .gql(
            Some(&owner.access_token),
            CREATE,
            json!({ "input": { "url": url, "events": events, "description": "CRM" } }),
        )
        .await;
    let created = &body["data"]["createWebhookEndpoint"];
    let id = created["endpoint"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    (id, created["secret"].as_str().unwrap().to_owned())
}

async fn endpoint_state(app: &TestApp, owner: &Session, id: &str) -> Value {
    let body = app.gql(Some(&owner.access_token), ENDPOINT, json!({ "id": id })).await;
    assert!(body["errors"].is_null(), "{body}");
    body["data"]["node"].clone()
}

fn deliveries(state: &Value) -> Vec<Value> {
    state["deliveries"]["nodes"].as_array().unwrap().clone()
}

/// The signature of `id.timestamp.body` under `secret`, written out from the specification:
/// HMAC-SHA256 keyed with the base64-decoded part after `whsec_`, base64-encoded.
fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &str) -> String {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// Whether `received` carries a valid signature under `secret` (the formula above).
fn signed_by(received: &Received, secret: &str) -> bool {
    let expected = expected_signature(
        secret,
        received.header("webhook-id"),
        received.header("webhook-timestamp"),
        &received.body,
    );
    received.header("webhook-signature").split(' ').any(|s| s == expected)
}

/// Verified by the `standardwebhooks` crate (an independent implementation; it also checks
/// the timestamp is within five minutes of now).
fn verified(received: &Received, secret: &str) -> bool {
    let mut headers = reqwest::header::HeaderMap::new();
    for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        headers.insert(name, received.header(name).parse().unwrap());
    }
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(received.body.as_bytes(), &headers)
        .is_ok()
}

#[tokio::test]
async fn completed_and_deleted_responses_reach_the_endpoint_signed_with_the_answers() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    // Before any endpoint: nothing is written to the outbox, and the endpoint created next
    // hears only of what commits after it.
    submit_promoter(&app, &form).await;
    let outbox = || crate::collect::count_rows(&app, "SELECT COUNT(*) FROM outbox_events");
    assert_eq!(outbox().await, 0, "an event no endpoint receives");
    let (id, secret) = endpoint(
        &app,
        &owner,
        &receiver.url(),
        json!(["RESPONSE_COMPLETED", "RESPONSE_DELETED"]),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");

    let response_id = submit_promoter(&app, &form).await;
    // A response in progress is no event; nor is a form closed (not subscribed).
    let started = crate::collect::start(
        &app,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 3 }))] }),
    )
    .await;
    result(&started, "startResponse");
    assert_eq!(app.deliver().await, 1);
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    let first = &got[0];
    assert!(verified(first, &secret), "standardwebhooks rejects {first:?}");
    assert!(signed_by(first, &secret));
    assert!(!signed_by(first, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert_eq!(first.header("content-type"), "application/json");
    assert_eq!(
        first.header("webhook-timestamp"),
        app.clock.now().timestamp().to_string()
    );
    let event = first.json();
    assert_eq!(event["type"], "response.completed");
    assert_eq!(event["id"], first.header("webhook-id"));
    assert_eq!(event["schemaVersion"], 1);
    let response = &event["data"]["response"];
    assert_eq!(response["id"], response_id.as_str());
    assert_eq!(response["formId"], form.form_id.as_str());
    assert_eq!(response["status"], "COMPLETED");
    assert_eq!(response["answers"]["nps"], json!({ "kind": "NPS", "value": 10.0 }));
    assert_eq!(response["answers"]["plan"]["values"], json!(["pro"]));
    assert_eq!(response["answers"]["plan"]["labels"], json!(["حرفه‌ای"]));
    assert_eq!(response["answers"]["plan"]["score"], json!(2.0));
    assert!(response["completedAt"].is_string() && response["respondent"].is_null());

    // The delivery and its log.
    let state = endpoint_state(&app, &owner, &id).await;
    let list = deliveries(&state);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "DELIVERED");
    assert_eq!(list[0]["eventId"], first.header("webhook-id"));
    assert_eq!(list[0]["eventType"], "RESPONSE_COMPLETED");
    assert_eq!(list[0]["attempts"][0]["statusCode"], 200);
    assert_eq!(list[0]["attempts"][0]["responseExcerpt"], "answered 200");

    // Deleted: the next event, of its own id.
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
            json!({ "id": response_id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { closeForm(input: { id: $id }) { form { status } } }",
            json!({ "id": form.form_id }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    assert_eq!(app.deliver().await, 1);
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    let deleted = got[1].json();
    assert_eq!(deleted["type"], "response.deleted");
    assert_eq!(deleted["data"]["response"]["id"], response_id.as_str());
    assert_ne!(got[1].header("webhook-id"), got[0].header("webhook-id"));
    assert!(verified(&got[1], &secret));
    // Events nobody subscribed to are not kept.
    assert_eq!(
        crate::collect::count_rows(
            &app,
            "SELECT COUNT(*) FROM outbox_events WHERE event_type = 'form.closed'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_failing_endpoint_is_retried_on_the_clock_then_given_up_and_replayed() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let form = publish_feedback(&app, &owner, json!({})).await;
    let (id, secret) = endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 1);
    // Not due again until the wait has passed.
    assert_eq!(app.deliver().await, 0);
    app.clock.advance(chrono::Duration::seconds(4));
    assert_eq!(app.deliver().await, 0);
    for (i, wait) in RETRY_AFTER.iter().enumerate() {
        let state = endpoint_state(&app, &owner, &id).await;
        let delivery = &deliveries(&state)[0];
        assert_eq!(delivery["status"], "PENDING", "after attempt {}", i + 1);
        assert_eq!(delivery["attemptCount"], i + 1);
        assert_eq!(delivery["lastStatusCode"], 500);
        let next: chrono::DateTime<chrono::Utc> = delivery["nextAttemptAt"].as_str().unwrap().parse().unwrap();
        let last: chrono::DateTime<chrono::Utc> = delivery["attempts"][i]["attemptedAt"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let waited = (next - last).num_milliseconds() as f64 / 1000.0;
        assert!(
            waited >= *wait as f64 && waited <= *wait as f64 * 1.2 + 0.001,
            "after attempt {}: {waited} s",
            i + 1
        );
        app.clock.set(next);
        assert_eq!(app.deliver().await, 1, "attempt {}", i + 2);
    }
    let state = endpoint_state(&app, &owner, &id).await;
    let delivery = &deliveries(&state)[0];
    assert_eq!(delivery["status"], "FAILED");
    assert_eq!(delivery["attemptCount"], 8);
    assert!(delivery["nextAttemptAt"].is_null());
    let log = delivery["attempts"].as_array().unwrap();
    assert_eq!(log.len(), 8);
    assert!(
        log.iter()
            .all(|a| a["statusCode"] == 500 && a["responseExcerpt"] == "answered 500")
    );
    assert_eq!(receiver.got().len(), 8);
    // Every retry is the same message: one id, signed anew at its own time.
    let got = receiver.got();
    assert!(
        got.iter()
            .all(|r| r.header("webhook-id") == got[0].header("webhook-id"))
    );
    assert!(got.iter().all(|r| signed_by(r, &secret)));
    assert_eq!(app.deliver().await, 0);

    // The receiver is fixed: every failed delivery since then is sent again.
    receiver.answer(204);
    let since = (app.clock.now() - chrono::Duration::days(3)).to_rfc3339();
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!, $since: DateTime!) { replayFailedWebhookDeliveries(input: { endpointId: $id, since: $since }) { count } }",
            json!({ "id": id, "since": since }),
        )
        .await;
    assert_eq!(body["data"]["replayFailedWebhookDeliveries"]["count"], 1, "{body}");
    assert_eq!(app.deliver().await, 1);
    let state = endpoint_state(&app, &owner, &id).await;
    let delivery = &deliveries(&state)[0];
    assert_eq!(delivery["status"], "DELIVERED");
    assert_eq!(delivery["attemptCount"], 1);
    // One delivered is replayed on its own, with the same id; a pending one cannot be.
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { replayWebhookDelivery(input: { id: $id }) { delivery { status } } }",
            json!({ "id": delivery["id"] }),
        )
        .await;
    assert_eq!(
        body["data"]["replayWebhookDelivery"]["delivery"]["status"], "PENDING",
        "{body}"
    );
    let again = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { replayWebhookDelivery(input: { id: $id }) { delivery { status } } }",
            json!({ "id": delivery["id"] }),
        )
        .await;
    assert_eq!(error_code(&again), "CONFLICT", "{again}");
    assert_eq!(app.deliver().await, 1);
    let got = receiver.got();
    assert_eq!(got.len(), 10);
    assert_eq!(got[9].header("webhook-id"), got[0].header("webhook-id"));
}

#[tokio::test]
async fn nothing_is_lost_while_the_receiver_is_down_and_one_responses_events_stay_in_order() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    // First nobody listens there: connections are refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let form = publish_feedback(&app, &owner, json!({})).await;
    let (id, _) = endpoint(&app, &owner, &dead, json!(["RESPONSE_COMPLETED", "RESPONSE_DELETED"])).await;
    let mut responses = Vec::new();
    for _ in 0..3 {
        responses.push(submit_promoter(&app, &form).await);
    }
    // The first response is deleted while its completion waits: its deletion must not overtake it.
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { deleteResponse(input: { id: $id }) { deletedResponseId } }",
            json!({ "id": responses[0] }),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    // Three completions are attempted; the deletion waits behind its response's completion.
    assert_eq!(app.deliver().await, 3);
    let state = endpoint_state(&app, &owner, &id).await;
    let list = deliveries(&state);
    assert_eq!(list.len(), 4);
    for delivery in &list {
        assert_eq!(delivery["status"], "PENDING");
        let tried = delivery["attemptCount"].as_i64().unwrap();
        if delivery["eventType"] == "RESPONSE_DELETED" {
            assert_eq!(tried, 0);
        } else {
            assert_eq!(tried, 1);
            assert_eq!(delivery["attempts"][0]["error"], "could not connect to the endpoint");
            assert!(delivery["lastStatusCode"].is_null());
        }
    }
    // The receiver comes up (at its own address) and a dispatcher passes again later.
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!, $url: String!) { updateWebhookEndpoint(input: { id: $id, url: $url }) { endpoint { url } } }",
            json!({ "id": id, "url": receiver.url() }),
        )
        .await;
    assert_eq!(
        body["data"]["updateWebhookEndpoint"]["endpoint"]["url"],
        receiver.url(),
        "{body}"
    );
    app.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(app.deliver().await, 4);
    let got = receiver.got();
    assert_eq!(got.len(), 4);
    let of_first: Vec<String> = got
        .iter()
        .map(Received::json)
        .filter(|e| e["data"]["response"]["id"] == responses[0].as_str())
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(of_first, ["response.completed", "response.deleted"]);
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert_eq!(ids.len(), 4);
}

#[tokio::test]
async fn gone_disables_the_endpoint_until_it_is_enabled_again() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    receiver.answer(410);
    let form = publish_feedback(&app, &owner, json!({})).await;
    let (id, _) = endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 1);
    let state = endpoint_state(&app, &owner, &id).await;
    assert_eq!(state["enabled"], false);
    assert_eq!(state["disabledReason"], "the endpoint answered 410 Gone");
    assert_eq!(deliveries(&state)[0]["status"], "FAILED");
    assert_eq!(deliveries(&state)[0]["lastStatusCode"], 410);
    // A disabled endpoint gets nothing new.
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 0);
    assert_eq!(deliveries(&endpoint_state(&app, &owner, &id).await).len(), 1);

    receiver.answer(200);
    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { updateWebhookEndpoint(input: { id: $id, enabled: true }) { endpoint { enabled disabledReason } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        body["data"]["updateWebhookEndpoint"]["endpoint"],
        json!({ "enabled": true, "disabledReason": null }),
        "{body}"
    );
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(receiver.got().len(), 2);
}

#[tokio::test]
async fn two_dispatchers_never_send_one_event_twice() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    *receiver.shared.delay.lock().unwrap() = Duration::from_millis(20);
    let form = publish_feedback(&app, &owner, json!({})).await;
    endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    let n = 40;
    for _ in 0..n {
        submit_promoter(&app, &form).await;
    }
    // A second instance's dispatcher on the same database, at the same time.
    let other = nazar::service::webhook::dispatch::Dispatcher::new(
        app.db.clone(),
        app.clock.clone(),
        app.webhooks.settings(),
        Duration::from_secs(10),
        nazar::service::event::Publisher::new(
            nazar::service::live::Live::connect(nazar::cache::Cache::memory("other:")).await,
        ),
    )
    .unwrap();
    let (a, b) = tokio::join!(app.webhooks.run_due(), other.run_due());
    assert_eq!(a.unwrap() + b.unwrap(), n);
    let got = receiver.got();
    assert_eq!(got.len(), n);
    let mut seen = HashMap::new();
    for r in &got {
        *seen.entry(r.header("webhook-id").to_owned()).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), n, "each event once: {seen:?}");
}

#[tokio::test]
async fn an_instance_that_stops_before_delivering_leaves_the_events_to_the_next() {
    let (mut config, dir) = test_config().await;
    let receiver = Receiver::start().await;
    let mut first = start(config.clone(), dir).await;
    let owner = first.sign_up().await;
    let form = publish_feedback(&first, &owner, json!({})).await;
    endpoint(&first, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    // A delivery is claimed by a dispatcher that then dies (the receiver does not answer in
    // time): its lease passes to the next instance.
    *receiver.shared.delay.lock().unwrap() = Duration::from_secs(30);
    let held = submit_promoter(&first, &form).await;
    let claimed = tokio::time::timeout(Duration::from_millis(500), first.deliver()).await;
    assert!(claimed.is_err(), "the attempt hangs");
    // Another is committed, and the instance stops before any dispatcher saw it.
    let committed = submit_promoter(&first, &form).await;
    first.stop().await;
    *receiver.shared.delay.lock().unwrap() = Duration::ZERO;
    assert!(receiver.got().is_empty());

    // The next instance runs its dispatcher in the background, on a clock past the lease.
    config.run_jobs = true;
    let second = start(config, None).await;
    second
        .clock
        .set(first.clock.now() + LEASE + chrono::Duration::seconds(1));
    // Its dispatcher polls every second; it is also woken by events of its own.
    let got = receiver.wait_for(2).await;
    let delivered: std::collections::HashSet<String> = got
        .iter()
        .map(|r| r.json()["data"]["response"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        delivered.contains(&committed) && delivered.contains(&held),
        "{delivered:?}"
    );
    drop(first);
}

#[tokio::test]
async fn pings_and_rotated_secrets_sign_with_both_secrets_for_a_day() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    let (id, old) = endpoint(&app, &owner, &receiver.url(), json!(["FORM_PUBLISHED"])).await;
    let ping = "mutation($id: ID!) { pingWebhookEndpoint(input: { id: $id }) { delivery { status eventType } } }";
    let body = app.gql(Some(&owner.access_token), ping, json!({ "id": id })).await;
    assert_eq!(
        body["data"]["pingWebhookEndpoint"]["delivery"],
        json!({ "status": "PENDING", "eventType": "WEBHOOK_PING" }),
        "{body}"
    );
    assert_eq!(app.deliver().await, 1);
    assert_eq!(receiver.got()[0].json()["type"], "webhook.ping");
    assert!(verified(&receiver.got()[0], &old));

    let body = app
        .gql(
            Some(&owner.access_token),
            "mutation($id: ID!) { rotateWebhookSecret(input: { id: $id }) { secret endpoint { previousSecretExpiresAt } } }",
            json!({ "id": id }),
        )
        .await;
    let new = body["data"]["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    assert_ne!(new, old);
    publish_feedback(&app, &owner, json!({})).await;
    assert_eq!(app.deliver().await, 1);
    let published = receiver.got()[1].clone();
    assert_eq!(published.json()["type"], "form.published");
    assert_eq!(published.header("webhook-signature").split(' ').count(), 2);
    assert!(verified(&published, &old) && verified(&published, &new));

    // A day later only the new secret signs.
    app.clock.advance(chrono::Duration::hours(25));
    app.gql(Some(&owner.access_token), ping, json!({ "id": id })).await;
    assert_eq!(app.deliver().await, 1);
    let later = receiver.got()[2].clone();
    assert_eq!(later.header("webhook-signature").split(' ').count(), 1);
    assert!(signed_by(&later, &new) && !signed_by(&later, &old));
}

#[tokio::test]
async fn destinations_in_the_servers_own_network_are_refused() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let create = |url: &str| json!({ "input": { "url": url, "events": ["RESPONSE_COMPLETED"] } });
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.7/hook",
        "http://[fd00::1]/hook",
        "http://192.168.1.20/hook",
        "http://0.0.0.0:8080/hook",
    ] {
        let body = app.gql(Some(&owner.access_token), CREATE, create(url)).await;
        assert_eq!(error_code(&body), "DESTINATION_NOT_ALLOWED", "{url}: {body}");
        assert_eq!(error_field(&body), "input.url", "{body}");
    }
    for (url, field) in [("ftp://example.com/", "input.url"), ("not a url", "input.url")] {
        let body = app.gql(Some(&owner.access_token), CREATE, create(url)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{url}: {body}");
        assert_eq!(error_field(&body), field);
    }

    // A receiver that redirects to the metadata service: the redirect is not followed.
    let receiver = Receiver::start().await;
    *receiver.shared.redirect.lock().unwrap() = Some("http://169.254.169.254/latest/meta-data/".to_owned());
    let form = publish_feedback(&app, &owner, json!({})).await;
    let (id, _) = endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 1);
    let state = endpoint_state(&app, &owner, &id).await;
    let error = deliveries(&state)[0]["attempts"][0]["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains("destination not allowed") && error.contains("link-local"),
        "{error}"
    );

    // Without the setting, this machine is refused too: by address and by name.
    let strict = spawn_app_with(|c| c.webhook_allow_loopback = false).await;
    let owner = strict.sign_up().await;
    for url in [
        receiver.url(),
        format!("http://localhost:{}/hook", receiver.addr.port()),
    ] {
        let body = strict.gql(Some(&owner.access_token), CREATE, create(&url)).await;
        assert_eq!(error_code(&body), "DESTINATION_NOT_ALLOWED", "{url}: {body}");
    }
    assert_eq!(receiver.got().len(), 1, "only the redirecting answer");
}

#[tokio::test]
async fn webhooks_need_admins_or_keys_with_their_scope() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let analyst = app.add_member(&owner, "ANALYST").await;
    let body = app
        .gql(
            Some(&analyst.access_token),
            CREATE,
            json!({ "input": { "url": "https://hooks.example.com/in", "events": ["RESPONSE_COMPLETED"] } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let keys = "mutation($scopes: [Scope!]!) { createApiKey(input: { name: \"crm\", scopes: $scopes }) { secret } }";
    let key_with = |scopes: Value| {
        let app = &app;
        let owner = &owner;
        async move {
            let body = app
                .gql(Some(&owner.access_token), keys, json!({ "scopes": scopes }))
                .await;
            body["data"]["createApiKey"]["secret"].as_str().unwrap().to_owned()
        }
    };
    let reader = key_with(json!(["REPORTS_READ"])).await;
    let writer = key_with(json!(["WEBHOOKS_WRITE"])).await;
    let input = json!({ "input": { "url": "https://hooks.example.com/in", "events": ["RESPONSE_COMPLETED"] } });
    assert_eq!(
        error_code(&app.gql(Some(&reader), CREATE, input.clone()).await),
        "FORBIDDEN"
    );
    let body = app.gql(Some(&writer), CREATE, input).await;
    assert_eq!(
        body["data"]["createWebhookEndpoint"]["endpoint"]["events"],
        json!(["RESPONSE_COMPLETED"]),
        "{body}"
    );
    let listed = app
        .gql(Some(&writer), "{ webhookEndpoints { url enabled } }", json!({}))
        .await;
    assert_eq!(
        listed["data"]["webhookEndpoints"],
        json!([{ "url": "https://hooks.example.com/in", "enabled": true }])
    );
    // Another organization sees none of them.
    let other = app.sign_up().await;
    let theirs = app
        .gql(Some(&other.access_token), "{ webhookEndpoints { url } }", json!({}))
        .await;
    assert_eq!(theirs["data"]["webhookEndpoints"], json!([]));
    let no_events = app
        .gql(
            Some(&owner.access_token),
            CREATE,
            json!({ "input": { "url": "https://hooks.example.com/in", "events": [] } }),
        )
        .await;
    assert_eq!(error_field(&no_events), "input.events", "{no_events}");
}

#[tokio::test]
async fn settled_deliveries_are_forgotten_after_their_retention_pending_ones_never() {
    use nazar::service::webhook::dispatch::{RETENTION_DAYS, purge};
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let (_, _) = endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 1);
    // A second one stays pending: the receiver fails it.
    receiver.answer(503);
    submit_promoter(&app, &form).await;
    assert_eq!(app.deliver().await, 1);
    let rows = |table: &'static str| {
        let app = &app;
        async move { crate::collect::count_rows(app, &format!("SELECT COUNT(*) FROM {table}")).await }
    };
    assert_eq!(
        (rows("webhook_deliveries").await, rows("webhook_attempts").await),
        (2, 2)
    );
    // Within the retention, nothing goes.
    let now = app.clock.now();
    assert_eq!(
        purge(app.db.conn(), now - chrono::Duration::days(RETENTION_DAYS))
            .await
            .unwrap(),
        0
    );
    assert_eq!(rows("outbox_events").await, 2);
    // Past it, the delivered one goes with its log and its event; the pending one stays.
    assert_eq!(
        purge(app.db.conn(), now + chrono::Duration::seconds(1)).await.unwrap(),
        1
    );
    assert_eq!(
        (
            rows("webhook_deliveries").await,
            rows("webhook_attempts").await,
            rows("outbox_events").await
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn partial_saves_are_events_only_for_endpoints_that_receive_them() {
    let app = spawn_app().await;
    let owner = app.sign_up().await;
    let receiver = Receiver::start().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    // Without an endpoint for `response.updated`, saves write no event.
    endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_COMPLETED"])).await;
    let started = crate::collect::start(
        &app,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 9 }))] }),
    )
    .await;
    result(&started, "startResponse");
    let updated = "SELECT COUNT(*) FROM outbox_events WHERE event_type = 'response.updated'";
    assert_eq!(crate::collect::count_rows(&app, updated).await, 0);

    let (_, secret) = endpoint(&app, &owner, &receiver.url(), json!(["RESPONSE_UPDATED"])).await;
    let started = crate::collect::start(
        &app,
        &form,
        json!({ "answers": [answer("nps", json!({ "number": 4 }))] }),
    )
    .await;
    let token = result(&started, "startResponse")["response"]["resumeToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let saved = crate::collect::proceed(
        &app,
        "saveResponse",
        json!({ "resumeToken": token, "answers": [answer("reason", json!({ "text": "دیر رسید" }))] }),
    )
    .await;
    result(&saved, "saveResponse");
    assert_eq!(app.deliver().await, 2);
    let got = receiver.got();
    let events: Vec<Value> = got.iter().map(Received::json).collect();
    assert!(events.iter().all(|e| e["type"] == "response.updated"), "{events:?}");
    assert!(got.iter().all(|r| signed_by(r, &secret)));
    let last = &events[1]["data"]["response"];
    assert_eq!(last["status"], "IN_PROGRESS");
    assert_eq!(last["answers"]["nps"]["value"], 4.0);
    assert_eq!(last["answers"]["reason"]["value"], "دیر رسید");
    assert_eq!(events[0]["data"]["response"]["id"], last["id"]);
}

#[tokio::test]
async fn a_server_killed_between_commit_and_delivery_delivers_after_a_restart() {
    let (config, _dir) = test_config().await;
    let receiver = Receiver::start().await;
    // The first process runs no dispatcher: what it commits waits in the outbox.
    let mut first = crate::helpers::Process::start(&config, false).await;
    let signed_up = first
        .gql(
            None,
            "/graphql",
            "mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }",
            json!({ "input": { "organizationName": "Acme", "timeZone": "Asia/Tehran", "name": "Owner",
                               "email": "killed@example.com", "password": "correct horse battery staple" } }),
        )
        .await;
    let token = signed_up["data"]["signUp"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{signed_up}"))
        .to_owned();
    let imported = first
        .gql(
            Some(&token),
            "/graphql",
            "mutation($input: ImportFormInput!) { importForm(input: $input) { form { id publicId } } }",
            json!({ "input": { "document": crate::collect::FEEDBACK_FORM } }),
        )
        .await;
    let form = &imported["data"]["importForm"]["form"];
    let published = first
        .gql(
            Some(&token),
            "/graphql",
            "mutation($id: ID!) { publishForm(input: { id: $id }) { form { status } } }",
            json!({ "id": form["id"] }),
        )
        .await;
    assert_eq!(
        published["data"]["publishForm"]["form"]["status"], "PUBLISHED",
        "{published}"
    );
    let created = first
        .gql(
            Some(&token),
            "/graphql",
            CREATE,
            json!({ "input": { "url": receiver.url(), "events": ["RESPONSE_COMPLETED"] } }),
        )
        .await;
    let secret = created["data"]["createWebhookEndpoint"]["secret"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();
    let submitted = first
        .gql(
            None,
            "/public/graphql",
            "mutation($input: NewResponseInput!) { submitResponse(input: $input) { response { id } } }",
            json!({ "input": { "publicId": form["publicId"], "idempotencyKey": crate::collect::key(),
                               "answers": crate::collect::promoter() } }),
        )
        .await;
    let response_id = submitted["data"]["submitResponse"]["response"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{submitted}"))
        .to_owned();
    // Acknowledged, then killed (SIGKILL: no shutdown of any kind).
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    assert!(receiver.got().is_empty());

    // The next process delivers it from the outbox by itself.
    let _second = crate::helpers::Process::start(&config, true).await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got[0].json()["data"]["response"]["id"], response_id.as_str());
    assert!(verified(&got[0], &secret));
}
