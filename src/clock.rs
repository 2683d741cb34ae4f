//! The one clock that time-dependent rules read (rate-limit and throttling windows, retries,
//! debounces), so tests set the time instead of sleeping until a window turns.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use tokio::sync::watch;

/// The system clock, or a clock that only moves when told (tests). Cheap to clone; clones of a
/// set clock share its time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    fixed: Option<Arc<Fixed>>,
}

#[derive(Debug)]
struct Fixed {
    at: Mutex<DateTime<Utc>>,
    /// Told each time the clock is moved, so [`Clock::sleep`] wakes to look.
    moved: watch::Sender<()>,
}

impl Fixed {
    fn at(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        self.at.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock {
    /// The system's time.
    pub fn system() -> Self {
        Clock::default()
    }

    /// A clock that stands at `at` until set or advanced.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Clock {
            fixed: Some(Arc::new(Fixed {
                at: Mutex::new(at),
                moved: watch::Sender::new(()),
            })),
        }
    }

    /// The current time, at the precision every backend stores (microseconds).
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            None => crate::service::now(),
            Some(fixed) => crate::service::truncate(*fixed.at()),
        }
    }

    /// Moves a fixed clock to `at` (the system clock ignores it).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(fixed) = &self.fixed {
            *fixed.at() = at;
            fixed.moved.send_replace(());
        }
    }

    /// Moves a fixed clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        if let Some(fixed) = &self.fixed {
            *fixed.at() += by;
            fixed.moved.send_replace(());
        }
    }

    /// Waits until `by` has passed on this clock: real time on the system clock; on a fixed
    /// clock, until it has been moved at least `by` past the time of the call.
    pub async fn sleep(&self, by: std::time::Duration) {
        let Some(fixed) = &self.fixed else {
            return tokio::time::sleep(by).await;
        };
        let start = *fixed.at();
        let until = Duration::from_std(by)
            .ok()
            .and_then(|by| start.checked_add_signed(by))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut moved = fixed.moved.subscribe();
        while *fixed.at() < until {
            if moved.changed().await.is_err() {
                return;
            }
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

    #[tokio::test]
    async fn a_sleep_on_a_fixed_clock_ends_when_the_clock_has_moved_far_enough() {
        let start = DateTime::parse_from_rfc3339("2026-03-20T10:00:00Z").unwrap().to_utc();
        let clock = Clock::fixed(start);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep(std::time::Duration::from_secs(10)).await }
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::seconds(9));
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert!(!sleeper.is_finished(), "woke before its time");
        clock.advance(Duration::seconds(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeper)
            .await
            .expect("woke once the clock reached its time")
            .unwrap();
        // Already past: returns at once.
        clock.sleep(std::time::Duration::ZERO).await;
    }
}
