//! Live changes for subscriptions: what committed, heard on every instance. With Redis, a
//! committed change is published on one channel that every instance listens to and hands to
//! its own subscribers; without Redis (one instance), it goes to this instance's subscribers
//! directly. Only committed changes are published: services publish after their commit.
//! Delivery is best effort (a subscriber that falls behind skips changes, a Redis outage loses
//! changes other instances would have heard): subscriptions show what happens now, webhooks
//! are the durable path.
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::cache::Cache;

/// The channel changes are published on (under the cache prefix).
const CHANNEL: &str = "live-changes";
/// Changes a slow subscriber may fall behind by before it skips some.
const BACKLOG: usize = 1024;

/// A committed change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub organization_id: Uuid,
    /// The form it concerns, if any.
    pub form_id: Option<Uuid>,
    /// The event type, e.g. `response.completed`.
    pub event_type: String,
    pub subject_id: Uuid,
    pub at: DateTime<Utc>,
}

type Messages = futures_util::stream::BoxStream<'static, String>;

/// Where committed changes are published and heard. Cheap to clone.
#[derive(Clone)]
pub struct Live {
    local: broadcast::Sender<Change>,
    cache: Cache,
    /// The first subscription to Redis, made before the server serves.
    first: std::sync::Arc<std::sync::Mutex<Option<Messages>>>,
}

impl Live {
    /// Changes through `cache`'s Redis when it has one (listening from now on: run
    /// [`Live::relay`] to hand them to subscribers).
    pub async fn connect(cache: Cache) -> Self {
        let first = cache.messages(CHANNEL).await;
        if cache.kind() == "redis" && first.is_none() {
            tracing::warn!("cannot listen for live changes yet; the relay will try again");
        }
        Live {
            local: broadcast::channel(BACKLOG).0,
            cache,
            first: std::sync::Arc::new(std::sync::Mutex::new(first)),
        }
    }

    /// Publishes committed changes to every instance's subscribers.
    pub async fn publish(&self, changes: &[Change]) {
        for change in changes {
            let shared = match serde_json::to_string(change) {
                Ok(text) => self.cache.publish(CHANNEL, &text).await,
                Err(_) => false,
            };
            if !shared {
                // No Redis (or it failed): this instance's subscribers at least.
                let _ = self.local.send(change.clone());
            }
        }
    }

    /// Changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.local.subscribe()
    }

    /// Hands the changes published through Redis to this instance's subscribers, for as long
    /// as the process lives (reconnecting after a failure). Returns at once without Redis.
    pub async fn relay(self) {
        use futures_util::StreamExt;
        if self.cache.kind() != "redis" {
            return;
        }
        loop {
            let first = self.first.lock().ok().and_then(|mut f| f.take());
            let messages = match first {
                Some(messages) => Some(messages),
                None => self.cache.messages(CHANNEL).await,
            };
            match messages {
                Some(mut messages) => {
                    while let Some(text) = messages.next().await {
                        if let Ok(change) = serde_json::from_str::<Change>(&text) {
                            let _ = self.local.send(change);
                        }
                    }
                    tracing::warn!("the live changes channel closed; listening again");
                }
                None => tracing::warn!("cannot listen for live changes; trying again"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Whether changes are shared through Redis.
    pub fn shared(&self) -> bool {
        self.cache.kind() == "redis"
    }
}
