//! One answer checked against its question's kind and rules, and turned into the typed values
//! it is stored as (Data rules: numbers, texts, dates and booleans in their own columns, a row
//! per chosen option, the options' weights as scores). Pure: the submission service runs it on
//! every answer it receives.
use crate::codes::ProblemCode;
use std::{
    collections::HashMap,
    sync::{LazyLock, Mutex},
};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    Problem,
    kind::QuestionKind,
    model::QuestionDef,
    rules::{ChoiceRules, LONG_TEXT_MAX, Rules, SHORT_TEXT_MAX, TextRules},
    text,
};
use crate::logic::eval::Answer;

/// Longest hidden field value and "other, please specify" text, in characters.
pub const MAX_SHORT_VALUE_CHARS: usize = 1_000;

/// An answer as a client sends it, before it is checked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Given {
    /// NPS, CSAT, CES, rating and number questions.
    Number(f64),
    /// Text, email and phone questions; numbers and dates typed as text (any digit set).
    Text(String),
    /// Chosen option values.
    Choices(Vec<String>),
    /// Yes / no.
    Bool(bool),
    Date(NaiveDate),
}

/// A chosen option with its weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    pub value: String,
    pub score: Option<f64>,
}

/// A checked answer in its stored shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub key: String,
    pub kind: QuestionKind,
    pub number: Option<f64>,
    /// Text answers, the "other, please specify" text, a hidden field's value.
    pub text: Option<String>,
    pub date: Option<NaiveDate>,
    pub boolean: Option<bool>,
    pub choices: Vec<Chosen>,
    /// Sum of the chosen options' weights; `None` when none of them has one.
    pub score: Option<f64>,
}

impl Checked {
    fn new(question: &QuestionDef) -> Checked {
        Checked {
            key: question.key.clone(),
            kind: question.rules.kind(),
            number: None,
            text: None,
            date: None,
            boolean: None,
            choices: Vec::new(),
            score: None,
        }
    }

    /// The answer as the condition engine reads it.
    pub fn fact(&self) -> Answer {
        if self.kind.has_options() {
            return Answer::Choices(self.choices.iter().map(|c| c.value.clone()).collect());
        }
        if let Some(n) = self.number {
            Answer::Number(n)
        } else if let Some(b) = self.boolean {
            Answer::Bool(b)
        } else if let Some(d) = self.date {
            Answer::Date(d)
        } else {
            Answer::Text(self.text.clone().unwrap_or_default())
        }
    }
}

fn problem(path: &str, code: ProblemCode, key: &str, message: impl Into<String>) -> Problem {
    Problem::new(path, code, message).with_key(key)
}

/// What a kind takes, for messages.
fn expected(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Nps | QuestionKind::Csat | QuestionKind::Ces | QuestionKind::Rating | QuestionKind::Number => {
            "`number` (or the number as `text`)"
        }
        QuestionKind::SingleChoice | QuestionKind::Dropdown | QuestionKind::Likert => "`choices` with one value",
        QuestionKind::MultipleChoice => "`choices`",
        QuestionKind::YesNo => "`bool`",
        QuestionKind::Date => "`date` (or the date as `text`, YYYY-MM-DD)",
        QuestionKind::ShortText
        | QuestionKind::LongText
        | QuestionKind::Email
        | QuestionKind::Phone
        | QuestionKind::Hidden => "`text`",
    }
}

/// Checks `given` (and an "other, please specify" text) as the answer to `question`; `path` is
/// the answer's place in the input (e.g. `input.answers[2]`). The first problem found is
/// returned, naming the question's key and the rule.
pub fn check(question: &QuestionDef, given: Given, other: Option<String>, path: &str) -> Result<Checked, Problem> {
    let key = question.key.as_str();
    let kind = question.rules.kind();
    let value_path = format!("{path}.value");
    let wrong_type = || {
        problem(
            &value_path,
            ProblemCode::InvalidAnswer,
            key,
            format!("`{key}` is a {} question: send {}", kind.as_str(), expected(kind)),
        )
    };
    if kind == QuestionKind::Hidden {
        return Err(problem(
            &format!("{path}.key"),
            ProblemCode::HiddenField,
            key,
            format!("`{key}` is a hidden field: send it in `hidden`"),
        ));
    }
    if other.is_some() && !kind.has_options() {
        return Err(problem(
            &format!("{path}.otherText"),
            ProblemCode::OtherNotAllowed,
            key,
            format!("`{key}` has no \"other\" option"),
        ));
    }
    let mut out = Checked::new(question);
    match &question.rules {
        Rules::Nps | Rules::Csat | Rules::Ces | Rules::Rating(_) => {
            let (low, high) = kind.fixed_scale().unwrap_or_else(|| match &question.rules {
                Rules::Rating(r) => (1, i32::try_from(r.max_stars).unwrap_or(i32::MAX)),
                _ => (0, 0),
            });
            let n = number_of(given, &value_path, key).ok_or_else(wrong_type)??;
            if n.fract() != 0.0 {
                return Err(problem(
                    &value_path,
                    ProblemCode::NotInteger,
                    key,
                    format!("`{key}` takes whole numbers"),
                ));
            }
            if n < f64::from(low) || n > f64::from(high) {
                return Err(problem(
                    &value_path,
                    ProblemCode::OutOfRange,
                    key,
                    format!("`{key}` takes {low} to {high}; got {n}"),
                ));
            }
            out.number = Some(n);
        }
        Rules::Number(rules) => {
            let n = number_of(given, &value_path, key).ok_or_else(wrong_type)??;
            if rules.integer_only && n.fract() != 0.0 {
                return Err(problem(
                    &value_path,
                    ProblemCode::NotInteger,
                    key,
                    format!("`{key}` takes whole numbers"),
                ));
            }
            let below = rules.min.is_some_and(|min| n < min);
            let above = rules.max.is_some_and(|max| n > max);
            if below || above {
                let bound = match (rules.min, rules.max) {
                    (Some(min), Some(max)) => format!("{min} to {max}"),
                    (Some(min), None) => format!("at least {min}"),
                    (None, Some(max)) => format!("at most {max}"),
                    (None, None) => String::new(),
                };
                return Err(problem(
                    &value_path,
                    ProblemCode::OutOfRange,
                    key,
                    format!("`{key}` takes {bound}; got {n}"),
                ));
            }
            out.number = Some(n);
        }
        Rules::YesNo => match given {
            Given::Bool(b) => out.boolean = Some(b),
            _ => return Err(wrong_type()),
        },
        Rules::Date(rules) => {
            let day = match given {
                Given::Date(d) => d,
                Given::Text(t) => text::date(&t).ok_or_else(|| {
                    problem(
                        &value_path,
                        ProblemCode::InvalidDate,
                        key,
                        format!("`{t}` is not a date (YYYY-MM-DD)"),
                    )
                })?,
                _ => return Err(wrong_type()),
            };
            if rules.min.is_some_and(|min| day < min) || rules.max.is_some_and(|max| day > max) {
                let bound = |d: Option<NaiveDate>| d.map_or("…".to_owned(), |d| d.to_string());
                return Err(problem(
                    &value_path,
                    ProblemCode::OutOfRange,
                    key,
                    format!("`{key}` takes {} to {}", bound(rules.min), bound(rules.max)),
                ));
            }
            out.date = Some(day);
        }
        Rules::ShortText(rules) | Rules::LongText(rules) => {
            let Given::Text(t) = given else {
                return Err(wrong_type());
            };
            let ceiling = if kind == QuestionKind::ShortText {
                SHORT_TEXT_MAX
            } else {
                LONG_TEXT_MAX
            };
            check_text(&t, rules, ceiling, &value_path, key)?;
            out.text = Some(t);
        }
        Rules::Email => {
            let Given::Text(t) = given else {
                return Err(wrong_type());
            };
            let email = text::email(&t).ok_or_else(|| {
                problem(
                    &value_path,
                    ProblemCode::InvalidEmail,
                    key,
                    format!("`{t}` is not an email address"),
                )
            })?;
            out.text = Some(email);
        }
        Rules::Phone => {
            let Given::Text(t) = given else {
                return Err(wrong_type());
            };
            let phone = text::phone(&t).ok_or_else(|| {
                problem(
                    &value_path,
                    ProblemCode::InvalidPhone,
                    key,
                    format!("`{t}` is not a phone number: 7–15 digits, an optional leading +"),
                )
            })?;
            out.text = Some(phone);
        }
        Rules::SingleChoice(rules) | Rules::Dropdown(rules) | Rules::Likert(rules) | Rules::MultipleChoice(rules) => {
            let Given::Choices(values) = given else {
                return Err(wrong_type());
            };
            let multiple = kind == QuestionKind::MultipleChoice;
            check_choices(question, rules, multiple, values, other, path, &mut out)?;
        }
        Rules::Hidden => return Err(wrong_type()),
    }
    Ok(out)
}

/// A number from `given`: `None` when the type is wrong, `Some(Err)` when text is not a number.
fn number_of(given: Given, path: &str, key: &str) -> Option<Result<f64, Problem>> {
    match given {
        Given::Number(n) if n.is_finite() => Some(Ok(n)),
        Given::Number(_) => Some(Err(problem(
            path,
            ProblemCode::InvalidNumber,
            key,
            "not a finite number",
        ))),
        Given::Text(t) => Some(
            text::number(&t)
                .ok_or_else(|| problem(path, ProblemCode::InvalidNumber, key, format!("`{t}` is not a number"))),
        ),
        _ => None,
    }
}

fn check_text(value: &str, rules: &TextRules, ceiling: u32, path: &str, key: &str) -> Result<(), Problem> {
    if value.trim().is_empty() {
        return Err(problem(
            path,
            ProblemCode::Blank,
            key,
            "a blank answer: leave the question out to skip it",
        ));
    }
    let chars = value.chars().count();
    let max = rules.max_length.unwrap_or(ceiling).min(ceiling) as usize;
    if chars > max {
        return Err(problem(
            path,
            ProblemCode::TooLong,
            key,
            format!("`{key}` takes at most {max} characters; got {chars}"),
        ));
    }
    if let Some(min) = rules.min_length.filter(|min| chars < *min as usize) {
        return Err(problem(
            path,
            ProblemCode::TooShort,
            key,
            format!("`{key}` takes at least {min} characters; got {chars}"),
        ));
    }
    if let Some(pattern) = &rules.pattern
        && !matches_whole(pattern, value)
    {
        return Err(problem(
            path,
            ProblemCode::PatternMismatch,
            key,
            format!("`{key}` must match the pattern {pattern}"),
        ));
    }
    Ok(())
}

/// Whether all of `value` matches `pattern`. Compiled patterns are kept (a few hundred at most):
/// compiling costs far more than matching, and a form's patterns are checked on every answer.
fn matches_whole(pattern: &str, value: &str) -> bool {
    static COMPILED: LazyLock<Mutex<HashMap<String, Option<regex::Regex>>>> = LazyLock::new(Default::default);
    let compiled = {
        let mut cache = COMPILED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= 500 && !cache.contains_key(pattern) {
            cache.clear();
        }
        cache
            .entry(pattern.to_owned())
            .or_insert_with(|| {
                regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                    .size_limit(1 << 20)
                    .build()
                    .ok()
            })
            .clone()
    };
    compiled.is_some_and(|re| re.is_match(value))
}

fn check_choices(
    question: &QuestionDef,
    rules: &ChoiceRules,
    multiple: bool,
    values: Vec<String>,
    other: Option<String>,
    path: &str,
    out: &mut Checked,
) -> Result<(), Problem> {
    let key = question.key.as_str();
    let value_path = format!("{path}.value.choices");
    if let Some(other) = &other {
        let other_path = format!("{path}.otherText");
        if !rules.allow_other {
            return Err(problem(
                &other_path,
                ProblemCode::OtherNotAllowed,
                key,
                format!("`{key}` has no \"other\" option"),
            ));
        }
        if other.trim().is_empty() {
            return Err(problem(
                &other_path,
                ProblemCode::Blank,
                key,
                "the \"other\" text is blank",
            ));
        }
        if other.chars().count() > MAX_SHORT_VALUE_CHARS {
            return Err(problem(
                &other_path,
                ProblemCode::TooLong,
                key,
                format!("at most {MAX_SHORT_VALUE_CHARS} characters"),
            ));
        }
    }
    for (i, value) in values.iter().enumerate() {
        let Some(option) = question.options.iter().find(|o| &o.value == value) else {
            return Err(problem(
                &format!("{value_path}[{i}]"),
                ProblemCode::InvalidOption,
                key,
                format!("\"{value}\" is not an option of `{key}`"),
            ));
        };
        if values[..i].contains(value) {
            return Err(problem(
                &format!("{value_path}[{i}]"),
                ProblemCode::Duplicate,
                key,
                format!("\"{value}\" is chosen twice"),
            ));
        }
        out.choices.push(Chosen {
            value: value.clone(),
            score: option.score,
        });
    }
    let picked = values.len() + usize::from(other.is_some());
    if picked == 0 {
        return Err(problem(
            &value_path,
            ProblemCode::TooFewChoices,
            key,
            "no option chosen: leave the question out to skip it",
        ));
    }
    if multiple {
        if let Some(min) = rules.min_choices.filter(|min| picked < *min as usize) {
            return Err(problem(
                &value_path,
                ProblemCode::TooFewChoices,
                key,
                format!("`{key}` needs at least {min} choices; got {picked}"),
            ));
        }
        if let Some(max) = rules.max_choices.filter(|max| picked > *max as usize) {
            return Err(problem(
                &value_path,
                ProblemCode::TooManyChoices,
                key,
                format!("`{key}` takes at most {max} choices; got {picked}"),
            ));
        }
    } else if picked > 1 {
        return Err(problem(
            &value_path,
            ProblemCode::TooManyChoices,
            key,
            format!("`{key}` takes one choice (an option or the \"other\" text); got {picked}"),
        ));
    }
    out.text = other;
    let weights: Vec<f64> = out.choices.iter().filter_map(|c| c.score).collect();
    out.score = (!weights.is_empty()).then(|| weights.iter().sum());
    Ok(())
}

/// Checks a hidden field's value.
pub fn hidden(question: &QuestionDef, value: String, path: &str) -> Result<Checked, Problem> {
    let key = question.key.as_str();
    if question.rules.kind() != QuestionKind::Hidden {
        return Err(problem(
            &format!("{path}.key"),
            ProblemCode::UnknownHiddenField,
            key,
            format!("`{key}` is a question, not a hidden field: send it in `answers`"),
        ));
    }
    if value.chars().count() > MAX_SHORT_VALUE_CHARS {
        return Err(problem(
            &format!("{path}.value"),
            ProblemCode::TooLong,
            key,
            format!("at most {MAX_SHORT_VALUE_CHARS} characters"),
        ));
    }
    let mut out = Checked::new(question);
    out.text = Some(value);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{
        model::{OptionDef, Text},
        rules::{DateRules, NumberRules, RatingRules},
    };

    fn question(key: &str, rules: Rules, options: &[(&str, Option<f64>)]) -> QuestionDef {
        QuestionDef {
            uid: uuid::Uuid::now_v7(),
            key: key.to_owned(),
            required: false,
            metric: None,
            title: Text::new(),
            description: Text::new(),
            rules,
            options: options
                .iter()
                .map(|(value, score)| OptionDef {
                    value: (*value).to_owned(),
                    label: Text::new(),
                    score: *score,
                })
                .collect(),
            show_if: None,
            require_if: None,
        }
    }

    /// The code of the refusal, or `None` when the answer is accepted.
    fn code(q: &QuestionDef, given: Given) -> Option<ProblemCode> {
        check(q, given, None, "a").err().map(|p| p.code)
    }

    fn text(t: &str) -> Given {
        Given::Text(t.to_owned())
    }

    #[test]
    fn scales_take_whole_numbers_in_range_in_any_digit_set() {
        let nps = question("nps", Rules::Nps, &[]);
        assert_eq!(check(&nps, Given::Number(9.0), None, "a").unwrap().number, Some(9.0));
        assert_eq!(check(&nps, text("۱۰"), None, "a").unwrap().number, Some(10.0));
        assert_eq!(check(&nps, text("٠"), None, "a").unwrap().number, Some(0.0));
        assert_eq!(code(&nps, Given::Number(11.0)), Some(ProblemCode::OutOfRange));
        assert_eq!(code(&nps, Given::Number(-1.0)), Some(ProblemCode::OutOfRange));
        assert_eq!(code(&nps, Given::Number(7.5)), Some(ProblemCode::NotInteger));
        assert_eq!(code(&nps, text("ten")), Some(ProblemCode::InvalidNumber));
        assert_eq!(code(&nps, Given::Bool(true)), Some(ProblemCode::InvalidAnswer));
        let csat = question("csat", Rules::Csat, &[]);
        assert_eq!(code(&csat, Given::Number(0.0)), Some(ProblemCode::OutOfRange));
        assert_eq!(code(&csat, Given::Number(5.0)), None);
        let ces = question("ces", Rules::Ces, &[]);
        assert_eq!(code(&ces, Given::Number(7.0)), None);
        assert_eq!(code(&ces, Given::Number(8.0)), Some(ProblemCode::OutOfRange));
        let stars = question("stars", Rules::Rating(RatingRules { max_stars: 10 }), &[]);
        assert_eq!(code(&stars, Given::Number(10.0)), None);
        assert_eq!(code(&stars, Given::Number(0.0)), Some(ProblemCode::OutOfRange));
    }

    #[test]
    fn numbers_and_dates_follow_their_rules() {
        let age = question(
            "age",
            Rules::Number(NumberRules {
                min: Some(18.0),
                max: Some(120.0),
                integer_only: true,
            }),
            &[],
        );
        assert_eq!(check(&age, text("۴۲"), None, "a").unwrap().number, Some(42.0));
        assert_eq!(code(&age, Given::Number(17.0)), Some(ProblemCode::OutOfRange));
        assert_eq!(code(&age, Given::Number(42.5)), Some(ProblemCode::NotInteger));
        let spend = question("spend", Rules::Number(NumberRules::default()), &[]);
        assert_eq!(check(&spend, text("۱۲٫۵"), None, "a").unwrap().number, Some(12.5));
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let visit = question(
            "visit",
            Rules::Date(DateRules {
                min: Some(day("2025-01-01")),
                max: Some(day("2026-12-31")),
            }),
            &[],
        );
        assert_eq!(
            check(&visit, text("۲۰۲۶-۰۳-۰۱"), None, "a").unwrap().date,
            Some(day("2026-03-01"))
        );
        assert_eq!(
            code(&visit, Given::Date(day("2024-12-31"))),
            Some(ProblemCode::OutOfRange)
        );
        assert_eq!(code(&visit, text("1404-01-01x")), Some(ProblemCode::InvalidDate));
    }

    #[test]
    fn texts_emails_and_phones() {
        let reason = question(
            "reason",
            Rules::ShortText(TextRules {
                min_length: Some(3),
                max_length: Some(10),
                pattern: None,
            }),
            &[],
        );
        assert_eq!(code(&reason, text("خوب بود")), None);
        assert_eq!(code(&reason, text("ab")), Some(ProblemCode::TooShort));
        assert_eq!(code(&reason, text("abcdefghijk")), Some(ProblemCode::TooLong));
        assert_eq!(code(&reason, text("   ")), Some(ProblemCode::Blank));
        let order = question(
            "order",
            Rules::ShortText(TextRules {
                pattern: Some("[A-Z]{2}[0-9]+".into()),
                ..Default::default()
            }),
            &[],
        );
        assert_eq!(code(&order, text("AB123")), None);
        assert_eq!(code(&order, text("xAB123")), Some(ProblemCode::PatternMismatch));
        let email = question("email", Rules::Email, &[]);
        assert_eq!(
            check(&email, text(" Sara@Example.com"), None, "a")
                .unwrap()
                .text
                .as_deref(),
            Some("sara@example.com")
        );
        assert_eq!(code(&email, text("sara")), Some(ProblemCode::InvalidEmail));
        let phone = question("phone", Rules::Phone, &[]);
        assert_eq!(
            check(&phone, text("۰۹۱۲ ۳۴۵ ۶۷۸۹"), None, "a").unwrap().text.as_deref(),
            Some("09123456789")
        );
        assert_eq!(code(&phone, text("12")), Some(ProblemCode::InvalidPhone));
    }

    #[test]
    fn choices_with_weights_limits_and_other() {
        let rules = ChoiceRules {
            allow_other: true,
            min_choices: Some(1),
            max_choices: Some(2),
            ..Default::default()
        };
        let features = question(
            "features",
            Rules::MultipleChoice(rules),
            &[("speed", Some(2.0)), ("price", Some(1.5)), ("support", None)],
        );
        let picked = |values: &[&str]| Given::Choices(values.iter().map(|v| (*v).to_owned()).collect());
        let both = check(&features, picked(&["speed", "price"]), None, "a").unwrap();
        assert_eq!(both.score, Some(3.5));
        assert_eq!(both.choices.len(), 2);
        assert_eq!(
            both.fact(),
            Answer::Choices(vec!["speed".to_owned(), "price".to_owned()])
        );
        assert_eq!(check(&features, picked(&["support"]), None, "a").unwrap().score, None);
        assert_eq!(
            code(&features, picked(&["speed", "price", "support"])),
            Some(ProblemCode::TooManyChoices)
        );
        assert_eq!(code(&features, picked(&["fast"])), Some(ProblemCode::InvalidOption));
        assert_eq!(
            code(&features, picked(&["speed", "speed"])),
            Some(ProblemCode::Duplicate)
        );
        assert_eq!(code(&features, picked(&[])), Some(ProblemCode::TooFewChoices));
        let other = check(&features, picked(&["speed"]), Some("کیفیت".into()), "a").unwrap();
        assert_eq!(other.text.as_deref(), Some("کیفیت"));
        let err = check(&features, picked(&["speed", "price"]), Some("x".into()), "a").unwrap_err();
        assert_eq!(err.code, ProblemCode::TooManyChoices);

        let plan = question(
            "plan",
            Rules::SingleChoice(ChoiceRules::default()),
            &[("basic", None), ("pro", None)],
        );
        assert_eq!(code(&plan, picked(&["pro"])), None);
        assert_eq!(
            code(&plan, picked(&["basic", "pro"])),
            Some(ProblemCode::TooManyChoices)
        );
        let err = check(&plan, picked(&["pro"]), Some("x".into()), "input.answers[0]").unwrap_err();
        assert_eq!(
            (err.code, err.path.as_str(), err.key.as_deref()),
            (ProblemCode::OtherNotAllowed, "input.answers[0].otherText", Some("plan"))
        );
        assert_eq!(code(&plan, Given::Number(1.0)), Some(ProblemCode::InvalidAnswer));
    }

    #[test]
    fn hidden_fields_only_through_hidden() {
        let order = question("order_id", Rules::Hidden, &[]);
        assert_eq!(code(&order, text("A-1")), Some(ProblemCode::HiddenField));
        assert_eq!(hidden(&order, "A-1".into(), "h").unwrap().text.as_deref(), Some("A-1"));
        assert_eq!(
            hidden(&order, "x".repeat(1001), "h").unwrap_err().code,
            ProblemCode::TooLong
        );
        let nps = question("nps", Rules::Nps, &[]);
        assert_eq!(
            hidden(&nps, "9".into(), "h").unwrap_err().code,
            ProblemCode::UnknownHiddenField
        );
        let yes = question("again", Rules::YesNo, &[]);
        assert_eq!(
            check(&yes, Given::Bool(false), None, "a").unwrap().fact(),
            Answer::Bool(false)
        );
    }
}
