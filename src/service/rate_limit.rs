//! Fixed-window rate limits counted in the shared cache (Redis when configured, so they hold
//! across instances; in this process otherwise): API keys per key, the public API per client
//! address and per form. A request is charged for what it does: one unit per root field of
//! each operation, so aliases and batches cannot multiply work past a limit.
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{
    cache::Cache,
    error::{AppError, AppResult},
};

/// Limits of the public (respondent) API, per minute; 0 turns one off.
#[derive(Clone, Copy, Debug)]
pub struct PublicLimits {
    pub per_address: u64,
    pub per_form: u64,
}

/// Where a caller stands against its limit after this request.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitStatus {
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
}

/// A limit to charge: who (`apikey:<id>`, `address:<ip>`) and how many units per minute.
#[derive(Debug, Clone)]
pub struct Quota {
    pub subject: String,
    pub per_minute: u64,
}

/// Charges one unit of `subject` against `limit` per minute.
pub async fn hit(cache: &Cache, now: DateTime<Utc>, subject: &str, limit: u64) -> AppResult<RateLimitStatus> {
    charge(cache, now, subject, limit, 1).await
}

/// Charges `units` of `subject` against `limit` per minute: RATE_LIMITED, with the seconds until
/// the window resets, once the limit is passed.
pub async fn charge(
    cache: &Cache,
    now: DateTime<Utc>,
    subject: &str,
    limit: u64,
    units: u64,
) -> AppResult<RateLimitStatus> {
    let at = now.timestamp();
    let window = at.div_euclid(60) as u64;
    let reset_secs = 60 - at.rem_euclid(60) as u64;
    let count = cache
        .incr_window(
            &format!("ratelimit:{subject}"),
            window,
            Duration::from_secs(60),
            units.max(1),
        )
        .await;
    let limit = limit.max(1);
    if count > limit {
        return Err(AppError::RateLimited {
            retry_after_secs: reset_secs,
        });
    }
    Ok(RateLimitStatus {
        limit,
        remaining: limit - count,
        reset_secs,
    })
}
