//! What expensive fields weigh in a query's complexity, so one document cannot ask for hundreds
//! of them (every other field weighs 1; lists weigh their page size times their children).
//! Reports are also counted as they are computed: a request (a whole batch) computes at most
//! [`MAX_REPORTS_PER_REQUEST`], whatever their weight said (a saved report holds up to 50
//! forms, which no static weight can know).
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{AppError, AppResult, code};

/// A form's figures over a period (read from its counts, or from the cache).
pub const REPORT: usize = 100;
/// What a saved report's results weigh, in reports: a typical saved report's forms.
pub const REPORTS_PER_SAVED_REPORT: usize = 10;
/// A path evaluation or a form document (CPU over a whole form version).
pub const FORM_WORK: usize = 20;
/// Reports one HTTP request may compute.
pub const MAX_REPORTS_PER_REQUEST: usize = 100;

/// Complexity of a form report with its selection.
pub fn report(child_complexity: usize) -> usize {
    REPORT.saturating_add(child_complexity)
}

/// Complexity of a saved report's results.
pub fn saved_report_results(child_complexity: usize) -> usize {
    report(child_complexity).saturating_mul(REPORTS_PER_SAVED_REPORT)
}

/// Complexity of an evaluation or a form document.
pub fn form_work(child_complexity: usize) -> usize {
    FORM_WORK.saturating_add(child_complexity)
}

/// Work one HTTP request has asked for so far, shared by the operations of a batch.
#[derive(Debug, Default)]
pub struct RequestBudget {
    reports: AtomicUsize,
}

impl RequestBudget {
    /// Counts one report; QUERY_TOO_LARGE past the cap.
    pub fn spend_report(&self) -> AppResult<()> {
        if self.reports.fetch_add(1, Ordering::Relaxed) >= MAX_REPORTS_PER_REQUEST {
            return Err(AppError::refused(
                code::QUERY_TOO_LARGE,
                None,
                format!("a request may compute at most {MAX_REPORTS_PER_REQUEST} reports; ask for the rest in another"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_counted_up_to_the_cap() {
        let budget = RequestBudget::default();
        for _ in 0..MAX_REPORTS_PER_REQUEST {
            budget.spend_report().unwrap();
        }
        let err = budget.spend_report().unwrap_err();
        assert_eq!(err.code(), code::QUERY_TOO_LARGE);
    }
}
