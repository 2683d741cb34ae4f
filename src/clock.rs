//! The one clock that time-dependent rules read (rate-limit and throttling windows), so tests
//! set the time instead of sleeping until a window turns.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// The system clock, or a clock that only moves when told (tests). Cheap to clone; clones of a
/// set clock share its time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system's time.
    pub fn system() -> Self {
        Clock::default()
    }

    /// A clock that stands at `at` until set or advanced.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Clock {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The current time, at the precision every backend stores (microseconds).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => crate::service::now(),
            Some(at) => crate::service::truncate(*at.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// Moves a fixed clock to `at` (the system clock ignores it).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    /// Moves a fixed clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Some(fixed) = &self.fixed {
            let mut at = fixed.lock().unwrap_or_else(|e| e.into_inner());
            *at += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2026-03-20T10:00:00Z").unwrap().to_utc();
        let clock = Clock::fixed(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(Duration::minutes(15));
        assert_eq!(clock.now(), start + Duration::minutes(15));
        clock.set(start);
        assert_eq!(shared.now(), start);
        assert!(Clock::system().now() > start);
    }
}
