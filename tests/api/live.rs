//! Live results over a real WebSocket (`graphql-transport-ws` at `/graphql/ws`): credentials
//! in `connection_init`, a form's new responses and its report as they change, tenancy, the
//! connection limit, and changes made on one instance heard on another through Redis.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::{
    collect::{publish_feedback, submit_promoter},
    helpers::{OwnRedis, Process, TestApp, spawn_app_with, start, test_config},
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to `/graphql/ws` speaking `graphql-transport-ws`, not yet initialised.
async fn open(app: &TestApp) -> Socket {
    open_at(app.addr).await
}

async fn open_at(addr: std::net::SocketAddr) -> Socket {
    let mut request = format!("ws://{addr}/graphql/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket upgrade");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws",
        "the protocol is agreed"
    );
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::text(message.to_string())).await.unwrap();
}

/// The next protocol message (answering pings), or the close code and reason when the server
/// closed.
async fn next(socket: &mut Socket) -> Result<Value, Option<(u16, String)>> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a message within 20 s");
        match message {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(&text).unwrap();
                if value["type"] == "ping" {
                    send(socket, json!({ "type": "pong" })).await;
                    continue;
                }
                return Ok(value);
            }
            Some(Ok(Message::Close(frame))) => return Err(frame.map(|f| (u16::from(f.code), f.reason.to_string()))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

/// An initialised connection for `token`.
async fn connect(app: &TestApp, token: &str) -> Socket {
    connect_at(app.addr, token).await
}

async fn connect_at(addr: std::net::SocketAddr, token: &str) -> Socket {
    init_at(addr, token)
        .await
        .unwrap_or_else(|closed| panic!("refused: {closed:?}"))
}

/// A connection initialised with `token`, or the code and reason it was closed with.
async fn init_at(addr: std::net::SocketAddr, token: &str) -> Result<Socket, Option<(u16, String)>> {
    let mut socket = open_at(addr).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } }),
    )
    .await;
    let ack = next(&mut socket).await?;
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    Ok(socket)
}

/// Connects once a slot is free (a closed connection gives its slot back just after it ends).
async fn connect_when_free(addr: std::net::SocketAddr, token: &str) -> Socket {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match init_at(addr, token).await {
            Ok(socket) => return socket,
            Err(closed) => assert!(tokio::time::Instant::now() < deadline, "no slot given back: {closed:?}"),
        }
    }
}

fn assert_limited(answer: Result<Socket, Option<(u16, String)>>, max: usize) {
    match answer {
        Err(Some((code, reason))) => {
            assert_eq!(code, 1002);
            assert!(
                reason.contains(&format!("at most {max} subscription connections")),
                "{reason}"
            );
        }
        Err(None) => panic!("closed without a reason"),
        Ok(_) => panic!("a connection past the limit was accepted"),
    }
}

async fn subscribe(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } }),
    )
    .await;
}

/// The next `next` message's data for subscription `id`.
async fn data(socket: &mut Socket, id: &str) -> Value {
    let message = next(socket).await.expect("a message");
    assert_eq!(message["id"], id, "{message}");
    assert_eq!(message["type"], "next", "{message}");
    assert!(message["payload"]["errors"].is_null(), "{message}");
    message["payload"]["data"].clone()
}

const COMPLETED: &str = "subscription($form: ID!) { responseCompleted(formId: $form) {
    responseId formId completedAt response { status answers { key number } } } }";

const FIGURES: &str = "subscription($form: ID!) { formReportUpdated(formId: $form) {
    responses { completed } nps { score n } } }";

#[tokio::test]
async fn completed_responses_reach_a_forms_subscribers_as_they_happen() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let other_form = publish_feedback(&app, &owner, json!({})).await;
    let mut socket = connect(&app, &owner.access_token).await;
    subscribe(&mut socket, "1", COMPLETED, json!({ "form": form.form_id })).await;
    // The subscription is registered once its first change arrives; a response to another
    // form, then one to this form: only the latter comes.
    let mut got = None;
    for _ in 0..20 {
        submit_promoter(&app, &other_form).await;
        let id = submit_promoter(&app, &form).await;
        match tokio::time::timeout(Duration::from_millis(500), next(&mut socket)).await {
            Ok(message) => {
                got = Some((id, message.expect("a message")));
                break;
            }
            Err(_) => continue,
        }
    }
    let (id, message) = got.expect("a completion arrived");
    assert_eq!(message["type"], "next", "{message}");
    let event = &message["payload"]["data"]["responseCompleted"];
    assert_eq!(event["formId"], form.form_id.as_str());
    // The first one heard may be an earlier round's: each is this form's, and the next ones
    // come in order, one per completion.
    assert!(
        event["response"]["answers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "nps" && a["number"] == 10.0)
    );
    let mut last = event["responseId"].as_str().unwrap().to_owned();
    while last != id {
        let data = data(&mut socket, "1").await;
        last = data["responseCompleted"]["responseId"].as_str().unwrap().to_owned();
    }
    let next_id = submit_promoter(&app, &form).await;
    let data = data(&mut socket, "1").await;
    assert_eq!(data["responseCompleted"]["responseId"], next_id.as_str());
    assert_eq!(data["responseCompleted"]["response"]["status"], "COMPLETED");

    // Another organization cannot subscribe to this form.
    let stranger = app.sign_up().await;
    let mut theirs = connect(&app, &stranger.access_token).await;
    subscribe(&mut theirs, "x", COMPLETED, json!({ "form": form.form_id })).await;
    let refused = next(&mut theirs).await.expect("an answer");
    assert!(
        refused["type"] == "error" || refused["payload"]["errors"].is_array(),
        "{refused}"
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["code"]
            .as_str()
            .or(refused["payload"]["errors"][0]["extensions"]["code"].as_str()),
        Some("NOT_FOUND"),
        "{refused}"
    );
}

#[tokio::test]
async fn connections_need_credentials_and_are_limited_per_principal() {
    let app = spawn_app_with(|c| c.subscriptions_per_principal = 2).await;
    let owner = app.sign_up().await;
    // No credentials, or wrong ones: the server closes the connection (1002, with the reason).
    let closed = |answer: Result<Value, Option<(u16, String)>>| match answer {
        Err(Some((code, reason))) => (code, reason),
        other => panic!("not closed: {other:?}"),
    };
    let mut socket = open(&app).await;
    send(&mut socket, json!({ "type": "connection_init", "payload": {} })).await;
    let (code, reason) = closed(next(&mut socket).await);
    assert_eq!(code, 1002);
    assert!(reason.contains("authorization"), "{reason}");
    let mut socket = open(&app).await;
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer not-a-token" } }),
    )
    .await;
    assert_eq!(closed(next(&mut socket).await).0, 1002);

    // Two at once; a third is refused until one closes.
    let first = connect(&app, &owner.access_token).await;
    let _second = connect(&app, &owner.access_token).await;
    assert_limited(init_at(app.addr, &owner.access_token).await, 2);
    drop(first);
    connect_when_free(app.addr, &owner.access_token).await;
}

/// Two instances sharing the database and a Redis of the test's own (`None` without
/// `redis-server`), with their settings.
async fn two_instances(
    adjust: impl FnOnce(&mut nazar::config::Config),
) -> Option<(TestApp, TestApp, OwnRedis, nazar::config::Config)> {
    let Some(redis) = OwnRedis::start().await else {
        eprintln!("redis-server is not installed: this test needs it");
        return None;
    };
    let (mut config, dir) = test_config().await;
    config.redis_url = Some(nazar::config::Secret::new(redis.url.clone()));
    config.cache_prefix = format!("nazar-test:{}:", uuid::Uuid::now_v7().simple());
    adjust(&mut config);
    let a = start(config.clone(), dir).await;
    let b = start(config.clone(), None).await;
    Some((a, b, redis, config))
}

#[tokio::test]
async fn the_connection_limit_holds_across_instances_and_a_dead_instances_slots_run_out() {
    let Some((a, b, redis, config)) = two_instances(|c| c.subscriptions_per_principal = 2).await else {
        return;
    };
    let owner = a.sign_up().await;
    let token = owner.access_token.as_str();

    // One connection on each instance: the principal's two; a third is refused on either.
    let on_a = connect(&a, token).await;
    let on_b = connect(&b, token).await;
    assert_limited(init_at(a.addr, token).await, 2);
    assert_limited(init_at(b.addr, token).await, 2);
    // Closed on one instance, free on the other.
    drop(on_a);
    let second_on_b = connect_when_free(b.addr, token).await;
    assert_limited(init_at(a.addr, token).await, 2);
    drop((on_b, second_on_b));

    // A server process takes both slots and is killed (SIGKILL): nothing gives them back.
    let mut process = Process::start(&config, false).await;
    let _held = (
        connect_when_free(process.addr, token).await,
        connect_when_free(process.addr, token).await,
    );
    assert_limited(init_at(b.addr, token).await, 2);
    process.child.kill().unwrap();
    process.child.wait().unwrap();
    assert_limited(init_at(b.addr, token).await, 2);
    // Their leases run out unrenewed (the test moves instance b's clock past them).
    b.clock.advance(chrono::Duration::seconds(120));
    let _after = connect(&b, token).await;
    drop(redis);
}

#[tokio::test]
async fn a_forms_report_is_sent_now_then_after_changes_at_most_once_a_second() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    submit_promoter(&app, &form).await;
    let mut a = connect(&app, &owner.access_token).await;
    let mut b = connect(&app, &owner.access_token).await;
    subscribe(&mut a, "a", FIGURES, json!({ "form": form.form_id })).await;
    subscribe(&mut b, "b", FIGURES, json!({ "form": form.form_id })).await;
    for (socket, id) in [(&mut a, "a"), (&mut b, "b")] {
        let now = data(socket, id).await;
        assert_eq!(now["formReportUpdated"]["responses"]["completed"], 1, "{now}");
    }
    // A burst within the second after that report: nothing is sent while the app's clock
    // stands still, however long the wait in real time.
    for _ in 0..3 {
        submit_promoter(&app, &form).await;
    }
    for (socket, id) in [(&mut a, "a"), (&mut b, "b")] {
        let early = tokio::time::timeout(Duration::from_millis(300), next(socket)).await;
        assert!(early.is_err(), "{id}: a report within the second: {early:?}");
    }
    // 999 ms on: still within the second.
    app.clock.advance(chrono::Duration::milliseconds(999));
    for (socket, id) in [(&mut a, "a"), (&mut b, "b")] {
        let early = tokio::time::timeout(Duration::from_millis(200), next(socket)).await;
        assert!(early.is_err(), "{id}: a report within the second: {early:?}");
    }
    // The second has passed: one report with all of the burst.
    app.clock.advance(chrono::Duration::milliseconds(1));
    for (socket, id) in [(&mut a, "a"), (&mut b, "b")] {
        let report = data(socket, id).await;
        assert_eq!(report["formReportUpdated"]["responses"]["completed"], 4, "{report}");
        assert_eq!(report["formReportUpdated"]["nps"]["n"], 4);
        assert_eq!(report["formReportUpdated"]["nps"]["score"], 100.0);
    }
    // No change since: no report, even after the next second.
    app.clock.advance(chrono::Duration::seconds(2));
    for (socket, id) in [(&mut a, "a"), (&mut b, "b")] {
        let quiet = tokio::time::timeout(Duration::from_millis(300), next(socket)).await;
        assert!(quiet.is_err(), "{id}: a report without a change: {quiet:?}");
    }
}

#[tokio::test]
async fn a_response_submitted_to_one_instance_reaches_a_subscriber_on_another() {
    let Some((a, b, redis, _)) = two_instances(|_| {}).await else {
        return;
    };
    let owner = a.sign_up().await;
    let form = publish_feedback(&a, &owner, json!({})).await;
    let mut socket = connect(&b, &owner.access_token).await;
    subscribe(&mut socket, "1", COMPLETED, json!({ "form": form.form_id })).await;
    let mut heard = None;
    for _ in 0..20 {
        let id = submit_promoter(&a, &form).await;
        if let Ok(message) = tokio::time::timeout(Duration::from_millis(500), next(&mut socket)).await {
            heard = Some((id, message.expect("a message")));
            break;
        }
    }
    let (_, message) = heard.expect("instance b heard a completion on instance a");
    assert_eq!(
        message["payload"]["data"]["responseCompleted"]["formId"],
        form.form_id.as_str()
    );
    drop(redis);
}

#[tokio::test]
async fn a_subscription_sent_over_http_is_refused_with_a_clear_code() {
    let app = crate::helpers::spawn_app().await;
    let owner = app.sign_up().await;
    let form = publish_feedback(&app, &owner, json!({})).await;
    let body = app
        .gql(Some(&owner.access_token), COMPLETED, json!({ "form": form.form_id }))
        .await;
    assert_eq!(crate::helpers::error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not supported on this transport"),
        "{body}"
    );
}
