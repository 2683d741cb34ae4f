//! Reports, pure: statistics over counts per value ([`stats`]) and the metric definitions
//! ([`metrics`]). Storage keeps counts (tallies) up to date as responses arrive; these turn
//! counts into figures, so a report costs the same at a thousand or a million responses.
pub mod calendar;
pub mod compare;
pub mod figures;
pub mod metrics;
pub mod segment;
pub mod stats;
pub mod tally;
pub mod times;
