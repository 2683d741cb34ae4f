//! Counts by segment, pure: which segments a finished response belongs to (each value its
//! respondent's attributes had at completion, each date attribute's tenure in whole months)
//! and what it adds to each. The fold writes these counts for responses already finished;
//! a breakdown by an attribute or tenure then sums them instead of scanning every response.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;

use super::{
    figures::Counts,
    tally::{Entry, Grain, Measure, all_time, local_day},
};
use crate::{form::response::ResponseStatus, logic::expr::Value};

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

/// Whether a measure is counted in a segment: times to complete and total scores only in the
/// segments counted by day, those of a text or boolean attribute's values (tenure segments
/// are many, and a breakdown by tenure asking for times reads the responses); the freshness
/// stamp's changes never.
pub fn segmented(measure: Measure, daily: bool) -> bool {
    match measure {
        Measure::Changes => false,
        Measure::Duration | Measure::TotalScore => daily,
        _ => true,
    }
}

/// Whether the segments of `dimension` are counted by day, and so count times to complete and
/// total scores ([`segmented`]): those of an attribute's values ([`attribute_dimension`]);
/// tenure's are counted by month and all time only, without times.
pub fn daily(dimension: &str) -> bool {
    dimension.starts_with("a:")
}

/// Where a count by segment goes: (dimension, grain, subject, day, measure, value, segment),
/// the order of the table's key.
pub type Key = (String, Grain, String, NaiveDate, Measure, String, String);

/// Adds to `out` what a response with `entries` adds (times `sign`) to each of `segments`.
pub fn add(out: &mut BTreeMap<Key, i64>, entries: &[Entry], segments: &[Segment], zone: Tz, sign: i64) {
    for e in entries.iter().filter(|e| e.measure != Measure::Changes) {
        let day = local_day(e.at, zone);
        let month = day.with_day(1).unwrap_or(day);
        for s in segments.iter().filter(|s| segmented(e.measure, s.daily)) {
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

/// The sum of the counts of (`subject`, `measure`), whatever their value.
fn total(counts: &Counts, subject: &str, measure: Measure) -> i64 {
    counts
        .iter()
        .filter(|(s, m, _, _)| s == subject && *m == measure)
        .map(|(_, _, _, count)| count)
        .sum()
}

/// Whether every finished response that `counts` count (the folded counts of one selection)
/// was completed and answered each of the `questions` (key, whether its kind counts one value
/// per answer): then also requiring those questions answered selects the same responses. A
/// disqualified response's answers are not counted, so one among them proves nothing.
pub fn all_answered(counts: &Counts, questions: &[(String, bool)]) -> bool {
    let completed = total(counts, "", Measure::Completed);
    total(counts, "", Measure::Disqualified) == 0
        && questions.iter().all(|(key, single)| {
            let measure = if *single { Measure::Value } else { Measure::Answered };
            total(counts, key, measure) == completed
        })
}

/// `counts` of responses selected by the day they finished on, as a report over all time
/// counts them: each selected response was started, and finished by its outcome, once,
/// whichever day it started on (counts by segment put a start on its own day, which may lie
/// before the days selected).
pub fn over_all_time(counts: Counts) -> Counts {
    let completed = total(&counts, "", Measure::Completed);
    let disqualified = total(&counts, "", Measure::Disqualified);
    let mut out: Counts = counts
        .into_iter()
        .filter(|(subject, measure, _, _)| {
            !(subject.is_empty() && matches!(measure, Measure::Started | Measure::Finished))
        })
        .collect();
    for (measure, value, count) in [
        (Measure::Started, "", completed + disqualified),
        (Measure::Finished, ResponseStatus::Completed.as_str(), completed),
        (Measure::Finished, ResponseStatus::Disqualified.as_str(), disqualified),
    ] {
        if count != 0 {
            out.push((String::new(), measure, value.to_owned(), count));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        form::{answer::Checked, kind::QuestionKind, response::ResponseStatus},
        report::tally::contribution,
    };

    fn count(subject: &str, measure: Measure, value: &str, n: i64) -> (String, Measure, String, i64) {
        (subject.to_owned(), measure, value.to_owned(), n)
    }

    #[test]
    fn answered_by_all_only_when_every_completed_response_counts_an_answer() {
        let mut counts = vec![
            count("", Measure::Completed, "", 3),
            count("nps", Measure::Value, "9", 2),
            count("nps", Measure::Value, "4", 1),
            count("why", Measure::Answered, "", 3),
            count("csat", Measure::Value, "5", 2),
        ];
        assert!(all_answered(&counts, &[("nps".into(), true), ("why".into(), false)]));
        assert!(all_answered(&counts, &[]));
        assert!(!all_answered(&counts, &[("csat".into(), true)]));
        // Answered counts only for kinds with several values per answer, values for the others.
        assert!(!all_answered(&counts, &[("why".into(), true)]));
        assert!(!all_answered(&counts, &[("nps".into(), false)]));
        counts.push(count("", Measure::Disqualified, "", 1));
        assert!(!all_answered(&counts, &[("nps".into(), true)]));
    }

    #[test]
    fn over_all_time_starts_and_finishes_each_selected_response_once() {
        let counts = vec![
            count("", Measure::Started, "", 4),
            count("", Measure::Finished, "COMPLETED", 4),
            count("", Measure::Completed, "", 5),
            count("", Measure::Disqualified, "", 2),
            count("nps", Measure::Started, "", 9),
            count("nps", Measure::Value, "9", 5),
        ];
        let mut out = over_all_time(counts);
        out.sort();
        let mut want = vec![
            count("", Measure::Started, "", 7),
            count("", Measure::Completed, "", 5),
            count("", Measure::Disqualified, "", 2),
            count("", Measure::Finished, "COMPLETED", 5),
            count("", Measure::Finished, "DISQUALIFIED", 2),
            count("nps", Measure::Started, "", 9),
            count("nps", Measure::Value, "9", 5),
        ];
        want.sort();
        assert_eq!(out, want);
    }

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
        assert!(out.keys().all(|k| k.4 != Measure::Changes));
        // Times to complete by an attribute's values, by day too; not by tenure.
        let duration = |dim: &str, grain, at, seg: &str| {
            out.get(&(
                dim.to_owned(),
                grain,
                String::new(),
                at,
                Measure::Duration,
                "40".to_owned(),
                seg.to_owned(),
            ))
            .copied()
        };
        assert_eq!(duration("a:plan", Grain::Day, day, "pro"), Some(1));
        assert_eq!(duration("a:vip", Grain::All, all_time(), "true"), Some(1));
        assert!(out.keys().all(|k| k.4 != Measure::Duration || daily(&k.0)));
        assert!(!daily("t:since") && daily("a:plan"));
        add(&mut out, &entries, &segments, chrono_tz::Asia::Tehran, -1);
        assert!(out.values().all(|c| *c == 0));
    }
}
