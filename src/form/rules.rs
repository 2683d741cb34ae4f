//! Each question kind's own rules (length, range, pattern, number of choices…), stored with
//! the question as tagged data and checked here.
use crate::codes::ProblemCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Problem, kind::QuestionKind};

/// Longest answer a short-text and a long-text question may allow.
pub const SHORT_TEXT_MAX: u32 = 1_000;
pub const LONG_TEXT_MAX: u32 = 20_000;
/// Longest validation pattern.
pub const MAX_PATTERN_LEN: usize = 500;
/// Stars a rating question may have.
pub const RATING_STARS: std::ops::RangeInclusive<u32> = 2..=10;

/// Text answers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct TextRules {
    pub min_length: Option<u32>,
    pub max_length: Option<u32>,
    /// A regular expression the whole answer must match.
    pub pattern: Option<String>,
}

/// Picking options.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct ChoiceRules {
    /// Offer "other, please specify" with free text.
    pub allow_other: bool,
    /// Show options in a random order per respondent.
    pub randomize_options: bool,
    /// Multiple choice only: fewest and most options to pick.
    pub min_choices: Option<u32>,
    pub max_choices: Option<u32>,
}

/// Star ratings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RatingRules {
    pub max_stars: u32,
}

impl Default for RatingRules {
    fn default() -> Self {
        RatingRules { max_stars: 5 }
    }
}

/// Numbers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct NumberRules {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub integer_only: bool,
}

/// Dates.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct DateRules {
    pub min: Option<NaiveDate>,
    pub max: Option<NaiveDate>,
}

/// A question's kind with its rules.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rules {
    ShortText(TextRules),
    LongText(TextRules),
    SingleChoice(ChoiceRules),
    MultipleChoice(ChoiceRules),
    Dropdown(ChoiceRules),
    YesNo,
    Rating(RatingRules),
    Likert(ChoiceRules),
    Nps,
    Csat,
    Ces,
    Number(NumberRules),
    Email,
    Phone,
    Date(DateRules),
    Hidden,
}

/// A kind's configuration without the kind: what clients send alongside a kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Config {
    Text(TextRules),
    Choice(ChoiceRules),
    Rating(RatingRules),
    Number(NumberRules),
    Date(DateRules),
}

impl Config {
    fn name(&self) -> &'static str {
        match self {
            Config::Text(_) => "text",
            Config::Choice(_) => "choice",
            Config::Rating(_) => "rating",
            Config::Number(_) => "number",
            Config::Date(_) => "date",
        }
    }
}

impl Rules {
    /// The rules of a `kind` question with `config` (the kind's defaults when absent); a
    /// configuration of another kind is a problem at `path`.
    pub fn from_parts(kind: QuestionKind, config: Option<Config>, path: &str) -> Result<Rules, Problem> {
        let Some(config) = config else {
            return Ok(Rules::default_for(kind));
        };
        let name = config.name();
        let rules = match (kind, config) {
            (QuestionKind::ShortText, Config::Text(c)) => Rules::ShortText(c),
            (QuestionKind::LongText, Config::Text(c)) => Rules::LongText(c),
            (QuestionKind::SingleChoice, Config::Choice(c)) => Rules::SingleChoice(c),
            (QuestionKind::MultipleChoice, Config::Choice(c)) => Rules::MultipleChoice(c),
            (QuestionKind::Dropdown, Config::Choice(c)) => Rules::Dropdown(c),
            (QuestionKind::Likert, Config::Choice(c)) => Rules::Likert(c),
            (QuestionKind::Rating, Config::Rating(c)) => Rules::Rating(c),
            (QuestionKind::Number, Config::Number(c)) => Rules::Number(c),
            (QuestionKind::Date, Config::Date(c)) => Rules::Date(c),
            (kind, _) => {
                let expected = match Rules::default_for(kind).config() {
                    Some(c) => format!("give `{}` instead", c.name()),
                    None => "it takes no configuration".to_owned(),
                };
                return Err(Problem::new(
                    path,
                    ProblemCode::ConfigMismatch,
                    format!(
                        "a `{name}` configuration does not fit a {} question: {expected}",
                        kind.as_str()
                    ),
                ));
            }
        };
        Ok(rules)
    }

    /// The configuration part of the rules, if the kind has one.
    pub fn config(&self) -> Option<Config> {
        match self {
            Rules::ShortText(c) | Rules::LongText(c) => Some(Config::Text(c.clone())),
            Rules::SingleChoice(c) | Rules::MultipleChoice(c) | Rules::Dropdown(c) | Rules::Likert(c) => {
                Some(Config::Choice(c.clone()))
            }
            Rules::Rating(c) => Some(Config::Rating(c.clone())),
            Rules::Number(c) => Some(Config::Number(c.clone())),
            Rules::Date(c) => Some(Config::Date(c.clone())),
            Rules::YesNo | Rules::Nps | Rules::Csat | Rules::Ces | Rules::Email | Rules::Phone | Rules::Hidden => None,
        }
    }

    pub fn kind(&self) -> QuestionKind {
        match self {
            Rules::ShortText(_) => QuestionKind::ShortText,
            Rules::LongText(_) => QuestionKind::LongText,
            Rules::SingleChoice(_) => QuestionKind::SingleChoice,
            Rules::MultipleChoice(_) => QuestionKind::MultipleChoice,
            Rules::Dropdown(_) => QuestionKind::Dropdown,
            Rules::YesNo => QuestionKind::YesNo,
            Rules::Rating(_) => QuestionKind::Rating,
            Rules::Likert(_) => QuestionKind::Likert,
            Rules::Nps => QuestionKind::Nps,
            Rules::Csat => QuestionKind::Csat,
            Rules::Ces => QuestionKind::Ces,
            Rules::Number(_) => QuestionKind::Number,
            Rules::Email => QuestionKind::Email,
            Rules::Phone => QuestionKind::Phone,
            Rules::Date(_) => QuestionKind::Date,
            Rules::Hidden => QuestionKind::Hidden,
        }
    }

    /// The rules a new question of `kind` starts with.
    pub fn default_for(kind: QuestionKind) -> Rules {
        match kind {
            QuestionKind::ShortText => Rules::ShortText(TextRules::default()),
            QuestionKind::LongText => Rules::LongText(TextRules::default()),
            QuestionKind::SingleChoice => Rules::SingleChoice(ChoiceRules::default()),
            QuestionKind::MultipleChoice => Rules::MultipleChoice(ChoiceRules::default()),
            QuestionKind::Dropdown => Rules::Dropdown(ChoiceRules::default()),
            QuestionKind::YesNo => Rules::YesNo,
            QuestionKind::Rating => Rules::Rating(RatingRules::default()),
            QuestionKind::Likert => Rules::Likert(ChoiceRules::default()),
            QuestionKind::Nps => Rules::Nps,
            QuestionKind::Csat => Rules::Csat,
            QuestionKind::Ces => Rules::Ces,
            QuestionKind::Number => Rules::Number(NumberRules::default()),
            QuestionKind::Email => Rules::Email,
            QuestionKind::Phone => Rules::Phone,
            QuestionKind::Date => Rules::Date(DateRules::default()),
            QuestionKind::Hidden => Rules::Hidden,
        }
    }

    /// Every problem with these rules for a question with `options` options; `path` names the
    /// rules in the input (e.g. `input.rules`).
    pub fn check(&self, options: usize, path: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        match self {
            Rules::ShortText(text) => check_text(text, SHORT_TEXT_MAX, path, &mut problems),
            Rules::LongText(text) => check_text(text, LONG_TEXT_MAX, path, &mut problems),
            Rules::MultipleChoice(choice) => {
                range(
                    choice.min_choices,
                    choice.max_choices,
                    path,
                    "minChoices",
                    &mut problems,
                );
                if let Some(max) = choice.max_choices.filter(|m| *m as usize > options && options > 0) {
                    problems.push(Problem::new(
                        format!("{path}.maxChoices"),
                        ProblemCode::OutOfRange,
                        format!("{max} choices allowed but the question has {options} options"),
                    ));
                }
                if choice.max_choices == Some(0) {
                    problems.push(Problem::new(
                        format!("{path}.maxChoices"),
                        ProblemCode::OutOfRange,
                        "must be at least 1",
                    ));
                }
            }
            Rules::SingleChoice(choice) | Rules::Dropdown(choice) | Rules::Likert(choice)
                if choice.min_choices.is_some() || choice.max_choices.is_some() =>
            {
                problems.push(Problem::new(
                    format!("{path}.maxChoices"),
                    ProblemCode::NotApplicable,
                    "numbers of choices apply to multiple-choice questions only",
                ));
            }
            Rules::Rating(rating) if !RATING_STARS.contains(&rating.max_stars) => problems.push(Problem::new(
                format!("{path}.maxStars"),
                ProblemCode::OutOfRange,
                format!("must be between {} and {}", RATING_STARS.start(), RATING_STARS.end()),
            )),
            Rules::Number(number) => {
                for (value, name) in [(number.min, "min"), (number.max, "max")] {
                    if value.is_some_and(|v| !v.is_finite()) {
                        problems.push(Problem::new(
                            format!("{path}.{name}"),
                            ProblemCode::OutOfRange,
                            "must be a finite number",
                        ));
                    }
                }
                if let (Some(min), Some(max)) = (number.min, number.max)
                    && min > max
                {
                    problems.push(Problem::new(
                        format!("{path}.min"),
                        ProblemCode::RangeInverted,
                        "min is greater than max",
                    ));
                }
            }
            Rules::Date(date) => {
                if let (Some(min), Some(max)) = (date.min, date.max)
                    && min > max
                {
                    problems.push(Problem::new(
                        format!("{path}.min"),
                        ProblemCode::RangeInverted,
                        "min is after max",
                    ));
                }
            }
            _ => {}
        }
        if self.kind().has_options() && options == 0 {
            problems.push(Problem::new(
                path.rsplit_once('.').map_or("options", |(parent, _)| parent).to_owned() + ".options",
                ProblemCode::OptionsRequired,
                format!("a {} question needs options", self.kind().as_str()),
            ));
        }
        problems
    }
}

fn range(min: Option<u32>, max: Option<u32>, path: &str, field: &str, problems: &mut Vec<Problem>) {
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        problems.push(Problem::new(
            format!("{path}.{field}"),
            ProblemCode::RangeInverted,
            format!("{min} is greater than {max}"),
        ));
    }
}

fn check_text(text: &TextRules, ceiling: u32, path: &str, problems: &mut Vec<Problem>) {
    range(text.min_length, text.max_length, path, "minLength", problems);
    for (value, name) in [(text.min_length, "minLength"), (text.max_length, "maxLength")] {
        if value.is_some_and(|v| v > ceiling) {
            problems.push(Problem::new(
                format!("{path}.{name}"),
                ProblemCode::OutOfRange,
                format!("must be at most {ceiling}"),
            ));
        }
    }
    if let Some(pattern) = &text.pattern {
        if pattern.len() > MAX_PATTERN_LEN {
            problems.push(Problem::new(
                format!("{path}.pattern"),
                ProblemCode::OutOfRange,
                format!("must be at most {MAX_PATTERN_LEN} characters"),
            ));
        } else if let Err(err) = regex::RegexBuilder::new(pattern).size_limit(1 << 20).build() {
            problems.push(Problem::new(
                format!("{path}.pattern"),
                ProblemCode::InvalidPattern,
                format!("not a valid pattern: {err}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(rules: &Rules, options: usize) -> Vec<(ProblemCode, String)> {
        rules
            .check(options, "input.rules")
            .into_iter()
            .map(|p| (p.code, p.path))
            .collect()
    }

    #[test]
    fn every_kind_has_valid_defaults_and_round_trips_as_data() {
        for kind in QuestionKind::ALL {
            let rules = Rules::default_for(kind);
            assert_eq!(rules.kind(), kind);
            let options = if kind.has_options() { 3 } else { 0 };
            assert!(
                rules.check(options, "r").is_empty(),
                "{kind:?}: {:?}",
                rules.check(options, "r")
            );
            let json = serde_json::to_string(&rules).unwrap();
            assert!(json.contains(kind.as_str()), "{json}");
            assert_eq!(serde_json::from_str::<Rules>(&json).unwrap(), rules);
        }
    }

    #[test]
    fn configurations_fit_their_kinds_only() {
        for kind in QuestionKind::ALL {
            let defaults = Rules::default_for(kind);
            assert_eq!(Rules::from_parts(kind, defaults.config(), "c").unwrap(), defaults);
        }
        let text = Config::Text(TextRules::default());
        assert_eq!(
            Rules::from_parts(QuestionKind::Nps, Some(text.clone()), "input.config")
                .unwrap_err()
                .code,
            ProblemCode::ConfigMismatch
        );
        assert_eq!(
            Rules::from_parts(QuestionKind::Dropdown, Some(text), "input.config")
                .unwrap_err()
                .path,
            "input.config"
        );
    }

    #[test]
    fn text_rules() {
        let good = Rules::ShortText(TextRules {
            min_length: Some(2),
            max_length: Some(50),
            pattern: Some("^[0-9]+$".into()),
        });
        assert!(good.check(0, "r").is_empty());
        let inverted = Rules::ShortText(TextRules {
            min_length: Some(9),
            max_length: Some(3),
            pattern: None,
        });
        assert_eq!(
            codes(&inverted, 0),
            [(ProblemCode::RangeInverted, "input.rules.minLength".to_owned())]
        );
        let too_long = Rules::ShortText(TextRules {
            max_length: Some(SHORT_TEXT_MAX + 1),
            ..Default::default()
        });
        assert_eq!(
            codes(&too_long, 0),
            [(ProblemCode::OutOfRange, "input.rules.maxLength".to_owned())]
        );
        assert!(
            Rules::LongText(TextRules {
                max_length: Some(SHORT_TEXT_MAX + 1),
                ..Default::default()
            })
            .check(0, "r")
            .is_empty()
        );
        let bad_pattern = Rules::LongText(TextRules {
            pattern: Some("([a-z".into()),
            ..Default::default()
        });
        assert_eq!(
            codes(&bad_pattern, 0),
            [(ProblemCode::InvalidPattern, "input.rules.pattern".to_owned())]
        );
    }

    #[test]
    fn choice_rules() {
        let multi = |min, max| {
            Rules::MultipleChoice(ChoiceRules {
                min_choices: min,
                max_choices: max,
                ..Default::default()
            })
        };
        assert!(multi(Some(1), Some(2)).check(3, "r").is_empty());
        assert_eq!(codes(&multi(Some(3), Some(2)), 3)[0].0, ProblemCode::RangeInverted);
        assert_eq!(
            codes(&multi(None, Some(4)), 3),
            [(ProblemCode::OutOfRange, "input.rules.maxChoices".to_owned())]
        );
        assert_eq!(codes(&multi(None, Some(0)), 3)[0].0, ProblemCode::OutOfRange);
        let single = Rules::SingleChoice(ChoiceRules {
            max_choices: Some(1),
            ..Default::default()
        });
        assert_eq!(codes(&single, 3)[0].0, ProblemCode::NotApplicable);
        assert_eq!(
            codes(&Rules::default_for(QuestionKind::Dropdown), 0),
            [(ProblemCode::OptionsRequired, "input.options".to_owned())]
        );
    }

    #[test]
    fn range_rules() {
        assert_eq!(
            codes(&Rules::Rating(RatingRules { max_stars: 11 }), 0)[0].0,
            ProblemCode::OutOfRange
        );
        assert_eq!(
            codes(&Rules::Rating(RatingRules { max_stars: 1 }), 0)[0].0,
            ProblemCode::OutOfRange
        );
        let number = |min, max| {
            Rules::Number(NumberRules {
                min,
                max,
                integer_only: true,
            })
        };
        assert!(number(Some(0.0), Some(120.0)).check(0, "r").is_empty());
        assert_eq!(codes(&number(Some(5.0), Some(1.0)), 0)[0].0, ProblemCode::RangeInverted);
        assert_eq!(codes(&number(Some(f64::NAN), None), 0)[0].0, ProblemCode::OutOfRange);
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        assert!(
            Rules::Date(DateRules {
                min: day("2020-01-01"),
                max: day("2030-01-01")
            })
            .check(0, "r")
            .is_empty()
        );
        assert_eq!(
            codes(
                &Rules::Date(DateRules {
                    min: day("2030-01-01"),
                    max: day("2020-01-01")
                }),
                0
            )[0]
            .0,
            ProblemCode::RangeInverted
        );
    }
}
