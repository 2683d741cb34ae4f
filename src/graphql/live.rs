//! Live results: GraphQL subscriptions over WebSocket at `/graphql/ws` (the
//! `graphql-transport-ws` protocol of the `graphql-ws` client that Apollo and urql use; the
//! older `subscriptions-transport-ws` too). The client authenticates in `connection_init`
//! (`{ "authorization": "Bearer <access token or API key>" }`); tenancy and rights are those
//! of queries, and a principal holds at most a configured number of connections across all
//! instances (`service::live::Connections`).
//!
//! Changes reach every instance (`service::live`); a form's report is computed once per
//! instance for all its subscribers, at most once a second.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_graphql::{Context, ID, Object, Subscription};
use chrono::{DateTime, Utc};
use entity::form;
use futures_util::{Stream, StreamExt, future::ready, stream};
use tokio::sync::{broadcast, watch};
use uuid::Uuid;

use super::{
    context::{ContextExt, RequestAuth},
    id::{self, NodeKind},
    report::{self, FormReport},
    response::{self, Response},
};
use crate::{
    app::AppState,
    error::{AppError, AppResult},
    report::figures::FormFigures,
    service::{
        self,
        live::Change,
        report::{Need, Period},
    },
};

/// The least time between two reports sent to a form's subscribers.
pub const DEBOUNCE: Duration = Duration::from_secs(1);

/// A response just completed.
pub struct CompletedResponse {
    form_id: Uuid,
    response_id: Uuid,
    at: DateTime<Utc>,
}

/// A response just completed.
#[Object]
impl CompletedResponse {
    /// The response's ID.
    async fn response_id(&self) -> ID {
        id::encode(NodeKind::Response, self.response_id)
    }
    /// The form's ID.
    async fn form_id(&self) -> ID {
        id::encode(NodeKind::Form, self.form_id)
    }
    /// When it was completed (RFC 3339).
    async fn completed_at(&self) -> DateTime<Utc> {
        self.at
    }
    /// The response with its answers (personal data: any member, or an API key with
    /// `responses:read`); null when deleted since.
    async fn response(&self, ctx: &Context<'_>) -> AppResult<Option<Response>> {
        let tenant = ctx.authorize(response::READ)?;
        response::find(ctx, tenant, self.response_id).await
    }
}

/// The changes heard from now on (a subscriber that falls behind skips what it missed).
fn changes(receiver: broadcast::Receiver<Change>) -> impl Stream<Item = Change> {
    stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(change) => return Some((change, receiver)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// Whether `change` can move a form's figures.
fn moves_figures(change: &Change, form_id: Uuid) -> bool {
    change.form_id == Some(form_id) && matches!(change.event_type.as_str(), "response.completed" | "response.deleted")
}

#[derive(Default)]
pub struct LiveSubscription;

/// Live results, over WebSocket at `/graphql/ws` (`graphql-transport-ws`; credentials in
/// `connection_init`).
#[Subscription]
impl LiveSubscription {
    /// Each response completed on the form from now on, on any instance of the server. Any
    /// member, or an API key with `responses:read`.
    async fn response_completed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = CompletedResponse>> {
        let tenant = ctx.authorize(response::READ)?;
        let state = ctx.state()?;
        let uuid = id::decode(&form_id, NodeKind::Form, "formId")?;
        service::form::get(state.db.conn(), tenant, uuid).await?;
        let organization = tenant.organization_id;
        Ok(changes(state.events.live().subscribe()).filter_map(move |change| {
            let wanted = change.organization_id == organization
                && change.form_id == Some(uuid)
                && change.event_type == "response.completed";
            ready(wanted.then_some(CompletedResponse {
                form_id: uuid,
                response_id: change.subject_id,
                at: change.at,
            }))
        }))
    }

    /// The form's report over all time with its headline figures (NPS, CSAT, CES, counts):
    /// now, then again whenever responses change it, at most once a second. Computed once per
    /// server instance, whatever the number of subscribers. Any member, or an API key with
    /// `reports:read`.
    async fn form_report_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's ID.")] form_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = FormReport>> {
        let tenant = ctx.authorize(report::READ)?;
        let state = ctx.state()?;
        let uuid = id::decode(&form_id, NodeKind::Form, "formId")?;
        let form = Arc::new(service::form::get(state.db.conn(), tenant, uuid).await?);
        let feed = state.live.figures.feed(state, &form);
        // The figures as they are (once computed), then each new computation.
        let updates = stream::unfold((feed, true), |(mut feed, first)| async move {
            if first {
                let current = feed.borrow_and_update().clone();
                if let Some(figures) = current {
                    return Some((figures, (feed, false)));
                }
            }
            loop {
                feed.changed().await.ok()?;
                let current = feed.borrow_and_update().clone();
                if let Some(figures) = current {
                    return Some((figures, (feed, false)));
                }
            }
        });
        Ok(updates.map(move |figures| {
            FormReport::part(form.clone(), Period::default(), None, None, false, (*figures).clone())
        }))
    }
}

type Feed = watch::Receiver<Option<Arc<FormFigures>>>;

/// This instance's feeds of forms' figures, one per form with subscribers.
#[derive(Clone, Default)]
pub struct FigureFeeds(Arc<Mutex<HashMap<Uuid, Feed>>>);

impl FigureFeeds {
    /// The feed of `form`'s figures, started if none runs.
    fn feed(&self, state: &AppState, form: &Arc<form::Model>) -> Feed {
        let mut feeds = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(&form.id)
            && feed.has_changed().is_ok()
        {
            return feed.clone();
        }
        let (sender, feed) = watch::channel(None);
        feeds.insert(form.id, feed.clone());
        tokio::spawn(run_feed(state.clone(), form.clone(), sender, self.clone()));
        feed
    }

    fn forget(&self, form_id: Uuid, sender: &watch::Sender<Option<Arc<FormFigures>>>) {
        let mut feeds = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Only this feed's entry (a new one may have replaced it).
        if feeds.get(&form_id).is_some_and(|f| f.same_channel(&sender.subscribe())) {
            feeds.remove(&form_id);
        }
    }
}

/// How often a feed without changes checks it still has subscribers.
const IDLE_CHECK: Duration = Duration::from_secs(5);

/// Computes a form's figures now and after each change, at most once per [`DEBOUNCE`], for
/// as long as someone subscribes (the map's own receiver does not count).
async fn run_feed(
    state: AppState,
    form: Arc<form::Model>,
    sender: watch::Sender<Option<Arc<FormFigures>>>,
    feeds: FigureFeeds,
) {
    let mut heard = state.events.live().subscribe();
    let need = Need::headline();
    let mut dirty = true;
    loop {
        if dirty {
            dirty = false;
            match service::report::form_figures(&state.reads(), &form, Period::default(), None, &need).await {
                Ok(figures) => {
                    sender.send_replace(Some(figures));
                }
                Err(err) => tracing::warn!(form = %form.id, error = ?err, "could not compute live figures"),
            }
            state.clock.sleep(DEBOUNCE).await;
            loop {
                match heard.try_recv() {
                    Ok(change) => dirty |= moves_figures(&change, form.id),
                    Err(broadcast::error::TryRecvError::Lagged(_)) => dirty = true,
                    Err(broadcast::error::TryRecvError::Empty) => break,
                    Err(broadcast::error::TryRecvError::Closed) => return feeds.forget(form.id, &sender),
                }
            }
            if dirty {
                continue;
            }
        }
        if sender.receiver_count() <= 1 {
            return feeds.forget(form.id, &sender);
        }
        tokio::select! {
            got = heard.recv() => match got {
                Ok(change) => dirty = moves_figures(&change, form.id),
                Err(broadcast::error::RecvError::Lagged(_)) => dirty = true,
                Err(broadcast::error::RecvError::Closed) => return feeds.forget(form.id, &sender),
            },
            _ = tokio::time::sleep(IDLE_CHECK) => {}
        }
    }
}

/// What live subscriptions keep per instance.
#[derive(Clone)]
pub struct LiveState {
    pub figures: FigureFeeds,
    /// Connections per principal, counted across instances.
    pub connections: service::live::Connections,
}

/// Checks a connection's `connection_init` payload: its credentials (an `authorization` of
/// `Bearer <token>`, or a `token`), then the principal's connection limit. The data every
/// subscription of the connection runs with.
pub async fn connection_init(
    state: &AppState,
    payload: serde_json::Value,
) -> async_graphql::Result<async_graphql::Data> {
    let text = |name: &str| payload.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let header = text("authorization")
        .or_else(|| text("Authorization"))
        .or_else(|| text("token").map(|t| format!("Bearer {t}")));
    let mut headers = poem::http::HeaderMap::new();
    if let Some(value) = header.and_then(|h| poem::http::HeaderValue::from_str(&h).ok()) {
        headers.insert(poem::http::header::AUTHORIZATION, value);
    }
    let (auth, _) = crate::http::credentials::resolve(state, &headers).await;
    let principal = match &auth {
        RequestAuth::Authenticated(principal) => principal.clone(),
        RequestAuth::Anonymous => {
            return Err(AppError::Unauthenticated(
                "send `{ \"authorization\": \"Bearer <access token or API key>\" }` in connection_init".to_owned(),
            )
            .into());
        }
        RequestAuth::Refused(why) => return Err(AppError::Unauthenticated(why.clone()).into()),
        RequestAuth::Unavailable => {
            return Err(AppError::Unavailable("credentials could not be checked".to_owned()).into());
        }
        RequestAuth::Failed => return Err(AppError::Internal("credentials could not be checked".to_owned()).into()),
    };
    let slot = state.live.connections.take(&principal).await.ok_or_else(|| {
        AppError::refused(
            crate::error::code::RATE_LIMITED,
            None,
            format!(
                "at most {} subscription connections at once per member or API key",
                state.live.connections.max()
            ),
        )
    })?;
    let mut data = async_graphql::Data::default();
    data.insert(auth);
    data.insert(Arc::new(slot));
    Ok(data)
}
