//! The rules and the queries, one module per area. Functions take what they use, never the
//! whole application: a connection (`&impl ConnectionTrait`) or the [`Db`](crate::db::Db)
//! when they open their own write transaction, the time (`now`, from the one clock), the
//! [`Publisher`](event::Publisher) when they write events; the two areas that use more take a
//! small struct of borrowed parts ([`report::Reads`], [`response::submit::Collect`]). So they
//! run the same inside a transaction, in resolvers, in background workers and in tests.
pub mod api_key;
pub mod attribute;
pub mod auth;
pub mod event;
pub mod form;
pub mod job;
pub mod live;
pub mod member;
pub mod organization;
pub mod page;
pub mod rate_limit;
pub mod report;
pub mod respondent;
pub mod response;
pub mod validate;
pub mod webhook;

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at the precision every backend stores (microseconds).
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// A time at the precision every backend stores (microseconds).
pub fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
