//! What one response contributes to its form's tallies, and where each count goes: its local
//! day, its month and all time, in the organization's time zone. Pure: the submission writes
//! these counts in its own transaction, deletion writes them negated, a rebuild recomputes them
//! from the stored responses, and all three agree because they share this code.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{
    form::response::ResponseStatus,
    form::{answer::Checked, kind::QuestionKind},
};

/// The value counted for an "other, please specify" answer (option values cannot start with
/// an underscore).
pub const OTHER: &str = "_other";

/// What a count counts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Measure {
    /// Responses started (every response, when it is created).
    Started,
    /// Responses completed.
    Completed,
    /// Responses disqualified.
    Disqualified,
    /// Responses finished, by outcome (`COMPLETED` or `DISQUALIFIED`), counted on the day they
    /// started: the cohort of a period's started responses, whose completion rate never
    /// exceeds 1 and whose responses still in progress are started − finished.
    Finished,
    /// Completed responses by whole seconds to complete. In the tallies these counts lie in
    /// the exact grains, under their bin (see [`super::times`]).
    Duration,
    /// Completed responses by bin of their seconds to complete (the value: the bin's lower
    /// bound); tallies only.
    DurationBin,
    /// Sums of completed responses' seconds to complete ([`super::times::SUM`]) and of their
    /// squares (in two parts); tallies only.
    DurationSum,
    /// Completed responses by total score.
    TotalScore,
    /// Changes to the form's responses: the freshness stamp of cached reports.
    Changes,
    /// Completed responses that answered the question, for kinds whose answers are not
    /// exactly one value (multiple choice, texts, emails, phones, dates); for the others it
    /// is the sum of their values' counts, and not written.
    Answered,
    /// Answers by value: a number, an option value, `true` / `false`, [`OTHER`].
    Value,
    /// Answers by score (the chosen options' summed weights).
    Score,
}

impl Measure {
    pub const ALL: [Measure; 12] = [
        Measure::Started,
        Measure::Completed,
        Measure::Disqualified,
        Measure::Finished,
        Measure::Duration,
        Measure::DurationBin,
        Measure::DurationSum,
        Measure::TotalScore,
        Measure::Changes,
        Measure::Answered,
        Measure::Value,
        Measure::Score,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Started => "STARTED",
            Measure::Completed => "COMPLETED",
            Measure::Disqualified => "DISQUALIFIED",
            Measure::Finished => "FINISHED",
            Measure::Duration => "DURATION",
            Measure::DurationBin => "DURATION_BIN",
            Measure::DurationSum => "DURATION_SUM",
            Measure::TotalScore => "TOTAL_SCORE",
            Measure::Changes => "CHANGES",
            Measure::Answered => "ANSWERED",
            Measure::Value => "VALUE",
            Measure::Score => "SCORE",
        }
    }

    pub fn parse(value: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == value)
    }

    /// Whether it counts times to complete or total scores (read only when a report asks
    /// for them).
    pub fn is_time(self) -> bool {
        matches!(
            self,
            Measure::Duration | Measure::DurationBin | Measure::DurationSum | Measure::TotalScore
        )
    }
}

/// The granularity of a count. The exact grains hold only the exact seconds to complete,
/// under their bin (the subject): a period's read of the other grains never passes them, and a
/// median's bin is one range of them.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    All = 0,
    Month = 1,
    Day = 2,
    ExactAll = 3,
    ExactMonth = 4,
    ExactDay = 5,
}

impl Grain {
    /// The grain of the exact seconds to complete of this one's period.
    pub fn exact(self) -> Grain {
        match self {
            Grain::All | Grain::ExactAll => Grain::ExactAll,
            Grain::Month | Grain::ExactMonth => Grain::ExactMonth,
            Grain::Day | Grain::ExactDay => Grain::ExactDay,
        }
    }

    pub fn is_exact(self) -> bool {
        self.exact() == self
    }
}

/// The day that stands for "all time".
pub fn all_time() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// The local day of `at` in `zone`.
pub fn local_day(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// One count a response contributes, at the moment it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// A question key, or empty for the response itself.
    pub subject: String,
    pub measure: Measure,
    pub value: String,
    pub at: DateTime<Utc>,
    /// Whether concurrent writers may meet on this count often enough to spread it over
    /// slots. Counts of values of many kinds (durations, total scores, numbers) are not
    /// spread: writers rarely meet on one, and unspread they keep a report's rows near one
    /// per value.
    pub spread: bool,
}

/// Whether every answer of `kind` counts exactly one value (so that the number answered is
/// the sum of the values' counts): scales, numbers, yes / no, single choices.
pub fn single_valued(kind: QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::Nps
            | QuestionKind::Csat
            | QuestionKind::Ces
            | QuestionKind::Rating
            | QuestionKind::Number
            | QuestionKind::YesNo
            | QuestionKind::SingleChoice
            | QuestionKind::Dropdown
            | QuestionKind::Likert
    )
}

/// A number as a counted value: the shortest text that reads back as the same number.
pub fn number_text(n: f64) -> String {
    if n == 0.0 { "0".to_owned() } else { format!("{n}") }
}

fn entry(subject: &str, measure: Measure, value: String, at: DateTime<Utc>) -> Entry {
    Entry {
        subject: subject.to_owned(),
        measure,
        value,
        at,
        spread: !matches!(measure, Measure::Duration | Measure::TotalScore),
    }
}

/// The (subject, measure) pairs among `entries` whose counts are not spread over slots.
pub fn unspread(entries: &[Entry]) -> std::collections::HashSet<(String, Measure)> {
    entries
        .iter()
        .filter(|e| !e.spread)
        .map(|e| (e.subject.clone(), e.measure))
        .collect()
}

/// What a response contributes: STARTED at its start; once finished, FINISHED (its outcome) at
/// its start, COMPLETED or DISQUALIFIED at its completion and, for a completed one, its
/// duration, total score and every answer (hidden fields aside): answered, each value, the
/// score.
pub fn contribution(
    status: ResponseStatus,
    started_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    duration_seconds: Option<i32>,
    total_score: Option<f64>,
    answers: &[Checked],
) -> Vec<Entry> {
    let mut out = vec![entry("", Measure::Started, String::new(), started_at)];
    let Some(done) = completed_at else {
        return out;
    };
    match status {
        ResponseStatus::InProgress => return out,
        ResponseStatus::Disqualified => {
            out.push(entry("", Measure::Finished, status.as_str().to_owned(), started_at));
            out.push(entry("", Measure::Disqualified, String::new(), done));
            return out;
        }
        ResponseStatus::Completed => {
            out.push(entry("", Measure::Finished, status.as_str().to_owned(), started_at));
            out.push(entry("", Measure::Completed, String::new(), done));
        }
    }
    if let Some(seconds) = duration_seconds {
        out.push(entry("", Measure::Duration, seconds.to_string(), done));
    }
    if let Some(score) = total_score {
        out.push(entry("", Measure::TotalScore, number_text(score), done));
    }
    for answer in answers.iter().filter(|a| a.kind != QuestionKind::Hidden) {
        let key = answer.key.as_str();
        if !single_valued(answer.kind) {
            out.push(entry(key, Measure::Answered, String::new(), done));
        }
        if answer.kind.has_options() {
            for chosen in &answer.choices {
                out.push(entry(key, Measure::Value, chosen.value.clone(), done));
            }
            if answer.text.is_some() {
                out.push(entry(key, Measure::Value, OTHER.to_owned(), done));
            }
        } else if let Some(n) = answer.number {
            let mut value = entry(key, Measure::Value, number_text(n), done);
            value.spread = answer.kind != QuestionKind::Number;
            out.push(value);
        } else if let Some(b) = answer.boolean {
            out.push(entry(key, Measure::Value, b.to_string(), done));
        }
        if let Some(score) = answer.score {
            out.push(entry(key, Measure::Score, number_text(score), done));
        }
    }
    out
}

/// Where a count goes: (grain, day, subject, measure, value).
pub type Key = (Grain, NaiveDate, String, Measure, String);

/// The counts to add for `entries` (times `sign`: 1 to add a response, −1 to take it away),
/// by key in ascending order (the order rows are written in, so concurrent writers lock them
/// in the same order and cannot deadlock), plus one change for the freshness stamp. A time
/// to complete counts its bin, its sums and, in the exact grains, its seconds under its bin
/// ([`super::times`]).
pub fn counts(entries: &[Entry], zone: Tz, sign: i64) -> BTreeMap<Key, i64> {
    let mut out: BTreeMap<Key, i64> = BTreeMap::new();
    for e in entries {
        let day = local_day(e.at, zone);
        let month = day.with_day(1).unwrap_or(day);
        for (grain, at) in [(Grain::All, all_time()), (Grain::Month, month), (Grain::Day, day)] {
            let seconds = (e.measure == Measure::Duration)
                .then(|| e.value.parse::<i64>().ok())
                .flatten();
            let Some(seconds) = seconds else {
                *out.entry((grain, at, e.subject.clone(), e.measure, e.value.clone()))
                    .or_default() += sign;
                continue;
            };
            let (bin, sums) = super::times::counted(seconds, sign);
            let mut add = |key: Key, by: i64| *out.entry(key).or_default() += by;
            add((grain, at, String::new(), Measure::DurationBin, bin.to_string()), sign);
            for (value, amount) in sums {
                add(
                    (grain, at, String::new(), Measure::DurationSum, value.to_owned()),
                    amount,
                );
            }
            add(
                (grain.exact(), at, bin.to_string(), Measure::Duration, e.value.clone()),
                sign,
            );
        }
    }
    *out.entry((Grain::All, all_time(), String::new(), Measure::Changes, String::new()))
        .or_default() += 1;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::answer::Chosen;

    fn checked(key: &str, kind: QuestionKind) -> Checked {
        Checked {
            key: key.to_owned(),
            kind,
            number: None,
            text: None,
            date: None,
            boolean: None,
            choices: Vec::new(),
            score: None,
        }
    }

    #[test]
    fn a_completed_response_counts_its_answers() {
        let at = DateTime::parse_from_rfc3339("2026-03-20T21:00:00Z").unwrap().to_utc();
        let mut nps = checked("nps", QuestionKind::Nps);
        nps.number = Some(9.0);
        let mut plan = checked("plan", QuestionKind::MultipleChoice);
        plan.choices = vec![
            Chosen {
                value: "pro".into(),
                score: Some(2.0),
            },
            Chosen {
                value: "app".into(),
                score: Some(0.5),
            },
        ];
        plan.text = Some("other".into());
        plan.score = Some(2.5);
        let mut why = checked("why", QuestionKind::LongText);
        why.text = Some("slow".into());
        let order = checked("order_id", QuestionKind::Hidden);
        let entries = contribution(
            ResponseStatus::Completed,
            at,
            Some(at),
            Some(75),
            Some(2.5),
            &[nps, plan, why, order],
        );
        let got: Vec<(&str, &str, &str)> = entries
            .iter()
            .map(|e| (e.subject.as_str(), e.measure.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("", "STARTED", ""),
                ("", "FINISHED", "COMPLETED"),
                ("", "COMPLETED", ""),
                ("", "DURATION", "75"),
                ("", "TOTAL_SCORE", "2.5"),
                ("nps", "VALUE", "9"),
                ("plan", "ANSWERED", ""),
                ("plan", "VALUE", "pro"),
                ("plan", "VALUE", "app"),
                ("plan", "VALUE", "_other"),
                ("plan", "SCORE", "2.5"),
                ("why", "ANSWERED", ""),
            ]
        );
        // In Tehran (UTC+03:30) 21:00 UTC is already the next day, in March.
        let counted = counts(&entries, chrono_tz::Asia::Tehran, 1);
        let day = NaiveDate::from_ymd_opt(2026, 3, 21).unwrap();
        let key = |grain, at| (grain, at, "nps".to_owned(), Measure::Value, "9".to_owned());
        assert_eq!(counted[&key(Grain::Day, day)], 1);
        assert_eq!(counted[&key(Grain::Month, day.with_day(1).unwrap())], 1);
        assert_eq!(counted[&key(Grain::All, all_time())], 1);
        // A time to complete counts 5 rows per grain (bin, three sums, exact seconds).
        assert_eq!(counted.len(), (entries.len() + 4) * 3 + 1);
        let exact = (
            Grain::ExactDay,
            day,
            "72".to_owned(),
            Measure::Duration,
            "75".to_owned(),
        );
        assert_eq!(counted[&exact], 1);
        let sum = (
            Grain::Month,
            day.with_day(1).unwrap(),
            String::new(),
            Measure::DurationSum,
            "1".to_owned(),
        );
        assert_eq!(counted[&sum], 75);
        let removed = counts(&entries, chrono_tz::UTC, -1);
        assert_eq!(removed[&key(Grain::All, all_time())], -1);
        assert_eq!(
            removed[&(Grain::All, all_time(), String::new(), Measure::Changes, String::new())],
            1
        );
    }

    #[test]
    fn unfinished_and_disqualified_responses_count_apart() {
        let at = Utc::now();
        let mut nps = checked("nps", QuestionKind::Nps);
        nps.number = Some(3.0);
        let started = contribution(ResponseStatus::InProgress, at, None, None, None, &[nps.clone()]);
        assert_eq!(started.len(), 1);
        let out = contribution(ResponseStatus::Disqualified, at, Some(at), Some(4), None, &[nps]);
        let measures: Vec<Measure> = out.iter().map(|e| e.measure).collect();
        assert_eq!(measures, [Measure::Started, Measure::Finished, Measure::Disqualified]);
        assert_eq!(number_text(0.0), "0");
        let mut age = checked("age", QuestionKind::Number);
        age.number = Some(41.0);
        let out = contribution(ResponseStatus::Completed, at, Some(at), Some(60), Some(1.5), &[age]);
        let fixed: Vec<(String, Measure)> = {
            let mut f: Vec<_> = unspread(&out).into_iter().collect();
            f.sort();
            f
        };
        assert_eq!(
            fixed,
            [
                (String::new(), Measure::Duration),
                (String::new(), Measure::TotalScore),
                ("age".to_owned(), Measure::Value)
            ]
        );
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(12.5).parse::<f64>().unwrap(), 12.5);
    }
}
