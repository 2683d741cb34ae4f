//! A form's report from its counts: responses started, completed and disqualified, completion
//! rate, time to complete, NPS / CSAT / CES, and per question its distribution, answered and
//! skipped, statistics of numbers and scores. Pure: the counts come from tallies (or from an
//! independent count in tests) and the version gives questions, options and metric questions.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{
    metrics::{self, Ces, Csat, Nps},
    stats::Distribution,
    tally::{Measure, OTHER, single_valued},
    times,
};
use crate::{
    form::response::ResponseStatus,
    form::{kind::QuestionKind, model::FormDef, rules::Rules},
};

/// Counts by (subject, measure, value), as tallies give them.
pub type Counts = Vec<(String, Measure, String, i64)>;

/// Mean, median, sample standard deviation and the mean's 95 % margin of `n` values.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Summary {
    pub n: u64,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub std_dev: Option<f64>,
    pub margin: Option<f64>,
}

impl Summary {
    pub fn of(d: &Distribution) -> Summary {
        Summary {
            n: d.n(),
            mean: d.mean(),
            median: d.median(),
            std_dev: d.std_dev(),
            margin: d.mean_margin(),
        }
    }
}

/// How many answers gave a value.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ValueCount {
    pub value: String,
    pub count: u64,
}

/// One question's figures.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct QuestionFigures {
    pub key: String,
    /// The kind in the version reported on; `None` for a key only older versions have.
    pub kind: Option<String>,
    pub answered: u64,
    /// Completed responses without an answer to it.
    pub skipped: u64,
    /// Every option (or scale point, or yes / no) with its count, zeros included, then values
    /// the version no longer offers; numbers ascending for number questions.
    pub values: Vec<ValueCount>,
    /// Of numeric answers (NPS, CSAT, CES, ratings, numbers).
    pub numbers: Option<Summary>,
    /// Of the answers' scores (option weights).
    pub scores: Option<Summary>,
}

/// A metric with the question it is read from.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricFigures<T> {
    pub key: String,
    pub figures: T,
    pub values: Vec<ValueCount>,
}

/// Everything a form's report holds (open texts aside: they are read from the answers).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FormFigures {
    /// Responses started in the period.
    pub started: u64,
    /// Responses completed in the period: the responses every metric reads.
    pub completed: u64,
    /// Responses disqualified in the period.
    pub disqualified: u64,
    /// Of the responses started in the period, those still in progress now.
    pub in_progress: u64,
    /// Of the responses started in the period, the share completed by now, as a percent (0
    /// to 100).
    pub completion_percent: Option<f64>,
    /// Seconds to complete, of completed responses.
    pub time_to_complete: Summary,
    pub total_score: Summary,
    pub nps: Option<MetricFigures<Nps>>,
    pub csat: Option<MetricFigures<Csat>>,
    pub ces: Option<MetricFigures<Ces>>,
    pub questions: Vec<QuestionFigures>,
}

/// Counts gathered by subject and measure.
struct Gathered {
    by: HashMap<(String, Measure), Vec<(String, u64)>>,
}

impl Gathered {
    fn new(counts: &Counts) -> Gathered {
        let mut by: HashMap<(String, Measure), Vec<(String, u64)>> = HashMap::new();
        for (subject, measure, value, count) in counts {
            if *count > 0 {
                by.entry((subject.clone(), *measure))
                    .or_default()
                    .push((value.clone(), *count as u64));
            }
        }
        Gathered { by }
    }

    fn values(&self, subject: &str, measure: Measure) -> &[(String, u64)] {
        self.by
            .get(&(subject.to_owned(), measure))
            .map_or(&[][..], Vec::as_slice)
    }

    fn total(&self, subject: &str, measure: Measure) -> u64 {
        self.values(subject, measure).iter().map(|(_, c)| c).sum()
    }

    fn distribution(&self, subject: &str, measure: Measure) -> Distribution {
        Distribution::new(
            self.values(subject, measure)
                .iter()
                .filter_map(|(v, c)| Some((v.parse::<f64>().ok()?, *c))),
        )
    }
}

/// The values a question offers, in the order a report lists them.
fn offered(rules: &Rules, options: &[String]) -> Vec<String> {
    let kind = rules.kind();
    let scale = |low: i32, high: i32| (low..=high).map(|v| v.to_string()).collect();
    match rules {
        Rules::Rating(r) => scale(1, r.max_stars as i32),
        Rules::YesNo => vec!["true".to_owned(), "false".to_owned()],
        _ if kind.has_options() => {
            let mut values = options.to_vec();
            if matches!(rules.config(), Some(crate::form::rules::Config::Choice(c)) if c.allow_other) {
                values.push(OTHER.to_owned());
            }
            values
        }
        _ => match kind.fixed_scale() {
            Some((low, high)) => scale(low, high),
            None => Vec::new(),
        },
    }
}

fn numeric(kind: QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces | QuestionKind::Rating | QuestionKind::Number
    )
}

fn value_counts(offered: &[String], counted: &[(String, u64)], numeric: bool) -> Vec<ValueCount> {
    let mut out: Vec<ValueCount> = offered
        .iter()
        .map(|v| ValueCount {
            value: v.clone(),
            count: counted.iter().filter(|(c, _)| c == v).map(|(_, n)| n).sum(),
        })
        .collect();
    let mut rest: Vec<ValueCount> = counted
        .iter()
        .filter(|(v, _)| !offered.contains(v))
        .map(|(v, n)| ValueCount {
            value: v.clone(),
            count: *n,
        })
        .collect();
    if numeric {
        rest.sort_by(|a, b| {
            let (x, y) = (
                a.value.parse::<f64>().unwrap_or(0.0),
                b.value.parse::<f64>().unwrap_or(0.0),
            );
            x.total_cmp(&y)
        });
    } else {
        rest.sort_by(|a, b| a.value.cmp(&b.value));
    }
    out.extend(rest);
    out
}

/// Times to complete: from their bins, sums and the median's exact seconds where the tallies
/// gave them ([`super::times`]), else from every exact second, by the same arithmetic.
fn times_of(g: &Gathered) -> Summary {
    let bins = g.values("", Measure::DurationBin);
    let exact = g.distribution("", Measure::Duration);
    let kept = if bins.is_empty() {
        times::Kept::of(&exact)
    } else {
        times::Kept::new(
            bins.iter().filter_map(|(v, c)| Some((v.parse().ok()?, *c))),
            g.values("", Measure::DurationSum),
        )
    };
    times::summary(&kept, &exact)
}

/// The report of a form whose current version is `def`, from its counts.
pub fn figures(def: &FormDef, counts: &Counts) -> FormFigures {
    let g = Gathered::new(counts);
    let started = g.total("", Measure::Started);
    let completed = g.total("", Measure::Completed);
    let disqualified = g.total("", Measure::Disqualified);
    let mut questions = Vec::new();
    let mut listed = std::collections::HashSet::new();
    for question in def.questions().filter(|q| q.rules.kind() != QuestionKind::Hidden) {
        let key = question.key.as_str();
        listed.insert(key.to_owned());
        let kind = question.rules.kind();
        let options: Vec<String> = question.options.iter().map(|o| o.value.clone()).collect();
        let answered = if single_valued(kind) {
            g.total(key, Measure::Value)
        } else {
            g.total(key, Measure::Answered)
        };
        let scores = g.distribution(key, Measure::Score);
        questions.push(QuestionFigures {
            key: key.to_owned(),
            kind: Some(kind.as_str().to_owned()),
            answered,
            skipped: completed.saturating_sub(answered),
            values: value_counts(
                &offered(&question.rules, &options),
                g.values(key, Measure::Value),
                numeric(kind),
            ),
            numbers: numeric(kind).then(|| Summary::of(&g.distribution(key, Measure::Value))),
            scores: (scores.n() > 0 || question.options.iter().any(|o| o.score.is_some()))
                .then(|| Summary::of(&scores)),
        });
    }
    // Keys only older versions have, in key order.
    let mut older: Vec<&String> = g
        .by
        .keys()
        .filter(|(subject, measure)| {
            !subject.is_empty() && matches!(measure, Measure::Answered | Measure::Value) && !listed.contains(subject)
        })
        .map(|(subject, _)| subject)
        .collect();
    older.sort();
    older.dedup();
    for key in older {
        // A kind that writes no ANSWERED count answers with exactly one value each time.
        let answered = match g.total(key, Measure::Answered) {
            0 => g.total(key, Measure::Value),
            n => n,
        };
        let values = g.values(key, Measure::Value);
        let numbers = g.distribution(key, Measure::Value);
        let all_numeric = !values.is_empty() && numbers.n() == values.iter().map(|(_, c)| c).sum::<u64>();
        let scores = g.distribution(key, Measure::Score);
        questions.push(QuestionFigures {
            key: key.clone(),
            kind: None,
            answered,
            skipped: completed.saturating_sub(answered),
            values: value_counts(&[], values, all_numeric),
            numbers: all_numeric.then(|| Summary::of(&numbers)),
            scores: (scores.n() > 0).then(|| Summary::of(&scores)),
        });
    }
    let metric = |metric| {
        def.metric_questions()
            .into_iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, q)| q.key.clone())
    };
    let values_of = |key: &str| {
        questions
            .iter()
            .find(|q| q.key == key)
            .map(|q| q.values.clone())
            .unwrap_or_default()
    };
    use crate::form::kind::Metric;
    let nps = metric(Metric::Nps).and_then(|key| {
        let m = metrics::nps(&g.distribution(&key, Measure::Value))?;
        Some(MetricFigures {
            values: values_of(&key),
            key,
            figures: m,
        })
    });
    let csat = metric(Metric::Csat).and_then(|key| {
        let m = metrics::csat(&g.distribution(&key, Measure::Value))?;
        Some(MetricFigures {
            values: values_of(&key),
            key,
            figures: m,
        })
    });
    let ces = metric(Metric::Ces).and_then(|key| {
        let m = metrics::ces(&g.distribution(&key, Measure::Value))?;
        Some(MetricFigures {
            values: values_of(&key),
            key,
            figures: m,
        })
    });
    FormFigures {
        started,
        completed,
        disqualified,
        in_progress: started.saturating_sub(g.total("", Measure::Finished)),
        completion_percent: (started > 0).then(|| {
            let done = g
                .values("", Measure::Finished)
                .iter()
                .filter(|(outcome, _)| outcome == ResponseStatus::Completed.as_str())
                .map(|(_, n)| n)
                .sum::<u64>();
            done as f64 / started as f64 * 100.0
        }),
        time_to_complete: times_of(&g),
        total_score: Summary::of(&g.distribution("", Measure::TotalScore)),
        nps,
        csat,
        ces,
        questions,
    }
}

/// Summaries of parts as one: n, mean, standard deviation and margin exactly (from each part's
/// n, mean and standard deviation); the median cannot be recovered and is left out.
pub fn combine_summaries<'a>(parts: impl IntoIterator<Item = &'a Summary>) -> Summary {
    let parts: Vec<&Summary> = parts.into_iter().filter(|s| s.n > 0).collect();
    let n: u64 = parts.iter().map(|s| s.n).sum();
    if n == 0 {
        return Summary::default();
    }
    let mean = parts.iter().map(|s| s.n as f64 * s.mean.unwrap_or(0.0)).sum::<f64>() / n as f64;
    let squares: f64 = parts
        .iter()
        .map(|s| {
            let within = s.std_dev.map_or(0.0, |sd| (s.n as f64 - 1.0) * sd * sd);
            within + s.n as f64 * (s.mean.unwrap_or(0.0) - mean).powi(2)
        })
        .sum();
    let std_dev = (n > 1).then(|| (squares / (n as f64 - 1.0)).sqrt());
    Summary {
        n,
        mean: Some(mean),
        median: if parts.len() == 1 { parts[0].median } else { None },
        std_dev,
        margin: std_dev.map(|sd| super::stats::Z95 * sd / (n as f64).sqrt()),
    }
}

/// Several forms' figures as one journey: responses summed (completion over the summed
/// cohort), NPS / CSAT / CES from their summed distributions (each form feeds a metric through
/// the question it marks), times and total scores combined exactly but for their medians.
/// No per-question figures: forms differ in their questions.
pub fn combine(parts: &[&FormFigures]) -> FormFigures {
    let started: u64 = parts.iter().map(|f| f.started).sum();
    let cohort_completed: u64 = parts
        .iter()
        .map(|f| {
            f.completion_percent
                .map_or(0, |p| (p / 100.0 * f.started as f64).round() as u64)
        })
        .sum();
    let values = |pick: &dyn Fn(&FormFigures) -> Option<&Vec<ValueCount>>| -> (Distribution, Vec<ValueCount>) {
        let mut summed: Vec<ValueCount> = Vec::new();
        for values in parts.iter().filter_map(|f| pick(f)) {
            for v in values {
                match summed.iter_mut().find(|s| s.value == v.value) {
                    Some(s) => s.count += v.count,
                    None => summed.push(v.clone()),
                }
            }
        }
        summed.sort_by(|a, b| {
            a.value
                .parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.value.parse::<f64>().unwrap_or(0.0))
        });
        let d = Distribution::new(
            summed
                .iter()
                .filter_map(|v| Some((v.value.parse::<f64>().ok()?, v.count))),
        );
        (d, summed)
    };
    let (d, nps_values) = values(&|f| f.nps.as_ref().map(|m| &m.values));
    let nps = metrics::nps(&d).map(|figures| MetricFigures {
        key: String::new(),
        figures,
        values: nps_values,
    });
    let (d, csat_values) = values(&|f| f.csat.as_ref().map(|m| &m.values));
    let csat = metrics::csat(&d).map(|figures| MetricFigures {
        key: String::new(),
        figures,
        values: csat_values,
    });
    let (d, ces_values) = values(&|f| f.ces.as_ref().map(|m| &m.values));
    let ces = metrics::ces(&d).map(|figures| MetricFigures {
        key: String::new(),
        figures,
        values: ces_values,
    });
    FormFigures {
        started,
        completed: parts.iter().map(|f| f.completed).sum(),
        disqualified: parts.iter().map(|f| f.disqualified).sum(),
        in_progress: parts.iter().map(|f| f.in_progress).sum(),
        completion_percent: (started > 0).then(|| cohort_completed as f64 / started as f64 * 100.0),
        time_to_complete: combine_summaries(parts.iter().map(|f| &f.time_to_complete)),
        total_score: combine_summaries(parts.iter().map(|f| &f.total_score)),
        nps,
        csat,
        ces,
        questions: Vec::new(),
    }
}
