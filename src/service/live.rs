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
    /// Whether its event was written to the outbox (an endpoint receives it): only then has
    /// the dispatcher something to do. Not sent to other instances.
    #[serde(skip)]
    pub recorded: bool,
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

/// How long a connection's lease lasts without being renewed (an instance that dies gives its
/// principals' slots back within this).
pub const CONNECTION_LEASE: Duration = Duration::from_secs(60);
/// How often an instance renews the leases of its open connections.
const RENEW_EVERY: Duration = Duration::from_secs(20);

/// Subscription connections per principal (a member or an API key), at most `max` across all
/// instances: each connection holds a lease in Redis, renewed while it is open and given back
/// when it closes. Without Redis (or while it is unavailable) each instance counts its own.
#[derive(Clone)]
pub struct Connections {
    inner: std::sync::Arc<Open>,
}

struct Open {
    cache: Cache,
    clock: crate::clock::Clock,
    max: usize,
    /// This instance's open connections: lease set → connection ids.
    held: std::sync::Mutex<std::collections::HashMap<String, std::collections::HashSet<String>>>,
}

impl Open {
    fn held(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, std::collections::HashSet<String>>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A connection counted for its principal until dropped.
pub struct Slot {
    inner: std::sync::Arc<Open>,
    set: String,
    id: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        {
            let mut held = self.inner.held();
            if let Some(ids) = held.get_mut(&self.set) {
                ids.remove(&self.id);
                if ids.is_empty() {
                    held.remove(&self.set);
                }
            }
        }
        // Giving the lease back early; if this cannot run, the lease expires.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let (cache, set, id) = (
                self.inner.cache.clone(),
                std::mem::take(&mut self.set),
                std::mem::take(&mut self.id),
            );
            runtime.spawn(async move { cache.release_lease(&set, &id).await });
        }
    }
}

impl Connections {
    pub fn new(cache: Cache, clock: crate::clock::Clock, max: usize) -> Self {
        Connections {
            inner: std::sync::Arc::new(Open {
                cache,
                clock,
                max: max.max(1),
                held: Default::default(),
            }),
        }
    }

    /// The most connections a principal may hold.
    pub fn max(&self) -> usize {
        self.inner.max
    }

    /// A slot for `principal`, unless it holds the most connections already.
    pub async fn take(&self, principal: &crate::auth::principal::Principal) -> Option<Slot> {
        use crate::auth::principal::Principal;
        let set = match principal {
            Principal::Member { user_id, .. } => format!("live-connections:user:{user_id}"),
            Principal::ApiKey { key_id, .. } => format!("live-connections:key:{key_id}"),
        };
        let inner = &self.inner;
        if inner.held().get(&set).map_or(0, |ids| ids.len()) >= inner.max {
            return None;
        }
        let id = Uuid::now_v7().simple().to_string();
        let shared = inner
            .cache
            .take_lease(&set, &id, inner.max, inner.clock.now(), CONNECTION_LEASE)
            .await;
        if shared == Some(false) {
            return None;
        }
        // From here the slot gives its lease back when dropped.
        let slot = Slot {
            inner: inner.clone(),
            set: set.clone(),
            id: id.clone(),
        };
        let mut held = inner.held();
        let ids = held.entry(set).or_default();
        if ids.len() >= inner.max {
            // Another connection of this instance took the last slot meanwhile.
            drop(held);
            drop(slot);
            return None;
        }
        ids.insert(id);
        Some(slot)
    }

    /// Renews the leases of this instance's open connections, for as long as the process lives.
    pub async fn renewer(self) {
        loop {
            self.inner.clock.sleep(RENEW_EVERY).await;
            self.renew().await;
        }
    }

    /// Renews the leases of this instance's open connections now.
    pub async fn renew(&self) {
        let held: Vec<(String, Vec<String>)> = self
            .inner
            .held()
            .iter()
            .map(|(set, ids)| (set.clone(), ids.iter().cloned().collect()))
            .collect();
        let now = self.inner.clock.now();
        for (set, ids) in held {
            self.inner.cache.renew_leases(&set, &ids, now, CONNECTION_LEASE).await;
        }
    }
}
