//! Counts by segment, pure: which segments a finished response belongs to (each value its
//! respondent's attributes had at completion, each date attribute's tenure in whole months)
//! and what it adds to each. The fold writes these counts for responses already finished;
//! a breakdown by an attribute or tenure then sums them instead of scanning every response.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use super::tally::{Entry, Grain, Measure, all_time, local_day};
use crate::logic::expr::Value;

/// Days in a month of tenure (a Gregorian year's average).
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// The first day of tenure month `months`: tenure reaches `months` whole months after this
/// many days (rounded to the nearest day, as a breakdown's band bounds are).
pub fn tenure_days(months: i64) -> i64 {
    (months as f64 * DAYS_PER_MONTH).round() as i64
}

/// Whole months of tenure after `days`: the largest `m` whose first day is at most `days`,
/// so that `days < tenure_days(b)` exactly when `tenure_months(days) < b` for every bound `b`.
pub fn tenure_months(days: i64) -> i64 {
    let mut m = (days as f64 / DAYS_PER_MONTH).floor() as i64;
    while tenure_days(m + 1) <= days {
        m += 1;
    }
    while tenure_days(m) > days {
        m -= 1;
    }
    m
}

/// The band (index of the first bound above it, else the number of bounds) of a tenure in
/// whole months, bounds ascending.
pub fn band_of(months: i64, bounds: &[u32]) -> usize {
    bounds
        .iter()
        .position(|b| months < i64::from(*b))
        .unwrap_or(bounds.len())
}

/// The dimension of an attribute's values.
pub fn attribute_dimension(name: &str) -> String {
    format!("a:{name}")
}

/// The dimension of a date attribute's tenure.
pub fn tenure_dimension(name: &str) -> String {
    format!("t:{name}")
}

/// A segment a response belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Segment {
    pub dimension: String,
    pub value: String,
    /// Whether it is counted by day too (tenure: by month and all time only, as its segments
    /// are many).
    pub daily: bool,
}

/// The segments of a response completed on `completed_day` whose attributes were `snapshot`:
/// a text or boolean attribute by its value, a date attribute by the tenure it gave (numbers
/// are not segmented: their values are too many).
pub fn segments_of(completed_day: NaiveDate, snapshot: &[(String, Value)]) -> Vec<Segment> {
    let mut out: Vec<Segment> = snapshot
        .iter()
        .filter_map(|(name, value)| match value {
            Value::Text(text) => Some(Segment {
                dimension: attribute_dimension(name),
                value: text.clone(),
                daily: true,
            }),
            Value::Bool(b) => Some(Segment {
                dimension: attribute_dimension(name),
                value: b.to_string(),
                daily: true,
            }),
            Value::Date(since) => Some(Segment {
                dimension: tenure_dimension(name),
                value: tenure_months((completed_day - *since).num_days()).to_string(),
                daily: false,
            }),
            Value::Number(_) => None,
        })
        .collect();
    out.sort();
    out
}

/// Whether a measure is counted by segment: times to complete and total scores are not (their
/// values are many; a breakdown asking for them reads the responses).
pub fn segmented(measure: Measure) -> bool {
    !matches!(measure, Measure::Duration | Measure::TotalScore | Measure::Changes)
}

/// Where a count by segment goes: (dimension, grain, subject, day, measure, value, segment),
/// the order of the table's key.
pub type Key = (String, Grain, String, NaiveDate, Measure, String, String);

/// Adds to `out` what a response with `entries` adds (times `sign`) to each of `segments`.
pub fn add(out: &mut BTreeMap<Key, i64>, entries: &[Entry], segments: &[Segment], zone: Tz, sign: i64) {
    for e in entries.iter().filter(|e| segmented(e.measure)) {
        let day = local_day(e.at, zone);
        let month = day.with_day(1).unwrap_or(day);
        for s in segments {
            let grains: &[(Grain, NaiveDate)] = if s.daily {
                &[(Grain::All, all_time()), (Grain::Month, month), (Grain::Day, day)]
            } else {
                &[(Grain::All, all_time()), (Grain::Month, month)]
            };
            for (grain, at) in grains {
                *out.entry((
                    s.dimension.clone(),
                    *grain,
                    e.subject.clone(),
                    *at,
                    e.measure,
                    e.value.clone(),
                    s.value.clone(),
                ))
                .or_default() += sign;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        form::{answer::Checked, kind::QuestionKind, response::ResponseStatus},
        report::tally::contribution,
    };

    #[test]
    fn tenure_months_agree_with_every_band_bound() {
        for days in -400..4000 {
            let m = tenure_months(days);
            for bound in 0..140u32 {
                assert_eq!(
                    days < tenure_days(i64::from(bound)),
                    m < i64::from(bound),
                    "{days} days, bound {bound}"
                );
            }
        }
        assert_eq!(tenure_months(0), 0);
        assert_eq!(tenure_months(29), 0);
        // A month of tenure starts on day 30 (30.4 rounded).
        assert_eq!(tenure_months(30), 1);
        assert_eq!(tenure_months(-1), -1);
        assert_eq!(band_of(0, &[1, 6, 12]), 0);
        assert_eq!(band_of(6, &[1, 6, 12]), 2);
        assert_eq!(band_of(40, &[1, 6, 12]), 3);
    }

    #[test]
    fn a_response_counts_in_each_of_its_segments() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-20T21:00:00Z")
            .unwrap()
            .to_utc();
        let day = local_day(at, chrono_tz::Asia::Tehran);
        let snapshot = [
            ("plan".to_owned(), Value::Text("pro".into())),
            ("vip".to_owned(), Value::Bool(true)),
            ("seats".to_owned(), Value::Number(12.0)),
            (
                "since".to_owned(),
                Value::Date(NaiveDate::from_ymd_opt(2025, 3, 21).unwrap()),
            ),
        ];
        let segments = segments_of(day, &snapshot);
        let named: Vec<(&str, &str, bool)> = segments
            .iter()
            .map(|s| (s.dimension.as_str(), s.value.as_str(), s.daily))
            .collect();
        assert_eq!(
            named,
            [
                ("a:plan", "pro", true),
                ("a:vip", "true", true),
                ("t:since", "12", false)
            ]
        );
        let nps = Checked {
            key: "nps".into(),
            kind: QuestionKind::Nps,
            number: Some(9.0),
            text: None,
            date: None,
            boolean: None,
            choices: Vec::new(),
            score: None,
        };
        let entries = contribution(ResponseStatus::Completed, at, Some(at), Some(40), None, &[nps]);
        let mut out = BTreeMap::new();
        add(&mut out, &entries, &segments, chrono_tz::Asia::Tehran, 1);
        let key = |dim: &str, grain, at, seg: &str| {
            (
                dim.to_owned(),
                grain,
                "nps".to_owned(),
                at,
                Measure::Value,
                "9".to_owned(),
                seg.to_owned(),
            )
        };
        assert_eq!(out[&key("a:plan", Grain::Day, day, "pro")], 1);
        assert_eq!(out[&key("t:since", Grain::All, all_time(), "12")], 1);
        assert!(!out.contains_key(&key("t:since", Grain::Day, day, "12")));
        assert!(out.keys().all(|k| k.4 != Measure::Duration && k.4 != Measure::Changes));
        add(&mut out, &entries, &segments, chrono_tz::Asia::Tehran, -1);
        assert!(out.values().all(|c| *c == 0));
    }
}
