//! What an attacker or an outage does to the server, each case reproduced against the real
//! server over HTTP: documents that expand exponentially, aliases and batches, persisted-query
//! floods, a database and a cache taken away for real, text no database can store, password
//! guessing, and errors that broke the API's conventions. Run them alone with
//! `cargo test --test api abuse::`.
mod conventions;
mod fan_out;
mod input;
mod multiplied;
mod outage;
mod persisted;
mod sign_in;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::TestApp;

/// POSTs `body` (any JSON) to `path`; the status, the `Retry-After` header, the JSON answer
/// and how long it took.
pub async fn post_json(app: &TestApp, path: &str, token: Option<&str>, body: &Value) -> Answer {
    post_raw(app, path, token, body.to_string(), &[]).await
}

/// POSTs a raw body with extra headers.
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    body: String,
    headers: &[(&str, &str)],
) -> Answer {
    let mut request = app
        .client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let started = Instant::now();
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let text = response.text().await.expect("a body");
    let elapsed = started.elapsed();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON (HTTP {status}): {text:.300}"));
    Answer {
        status,
        retry_after,
        body,
        elapsed,
    }
}

pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: Value,
    pub elapsed: Duration,
}

impl Answer {
    /// `extensions` of the first error.
    pub fn extensions(&self) -> &Value {
        &self.body["errors"][0]["extensions"]
    }

    pub fn code(&self) -> &str {
        self.extensions()["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
    }
}
