//! Whether a condition holds for a respondent's answers, attributes and hidden fields.
//!
//! Total and deterministic: every input gives true or false, never a panic. A comparison
//! with something missing (an unanswered question, an unknown attribute) is false, whatever
//! the operator; `IS NOT ANSWERED` is how a condition asks for absence. Values of different
//! types never compare equal (the static checks refuse such conditions before they are saved).
use std::collections::HashMap;

use chrono::NaiveDate;

use super::expr::{CompareOp, Expr, Operand, ResponseField, SetOp, Value};

/// A stored answer, typed as in storage.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// NPS, CSAT, CES, rating, number (and Likert by score when compared with a number).
    Number(f64),
    /// Short and long text, email, phone, hidden fields.
    Text(String),
    /// Chosen option values: one for single choice, dropdown and Likert, any for multiple choice.
    Choices(Vec<String>),
    /// Yes / no.
    Bool(bool),
    Date(NaiveDate),
}

/// What a condition can read.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub answers: HashMap<String, Answer>,
    pub attributes: HashMap<String, Value>,
    pub hidden: HashMap<String, String>,
    /// The response's own fields (report filters); absent ones are unanswered.
    pub response: HashMap<ResponseField, Value>,
}

fn value_answer(v: &Value) -> Answer {
    match v {
        Value::Number(n) => Answer::Number(*n),
        Value::Text(t) => Answer::Text(t.clone()),
        Value::Bool(b) => Answer::Bool(*b),
        Value::Date(d) => Answer::Date(*d),
    }
}

impl Facts {
    fn get(&self, operand: &Operand) -> Option<Answer> {
        match operand {
            Operand::Answer(key) => self.answers.get(key).cloned(),
            Operand::Hidden(key) => self.hidden.get(key).cloned().map(Answer::Text),
            Operand::Attribute(name) => self.attributes.get(name).map(value_answer),
            Operand::Response(field) => self.response.get(field).map(value_answer),
        }
    }
}

/// Orders an answer against a constant of the same type; `None` when they do not compare.
fn order(answer: &Answer, value: &Value) -> Option<std::cmp::Ordering> {
    match (answer, value) {
        (Answer::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Answer::Text(a), Value::Text(b)) => Some(a.as_str().cmp(b.as_str())),
        (Answer::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn equals(answer: &Answer, value: &Value) -> Option<bool> {
    match (answer, value) {
        (Answer::Bool(a), Value::Bool(b)) => Some(a == b),
        (Answer::Choices(chosen), Value::Text(b)) => Some(chosen.len() == 1 && chosen[0] == *b),
        _ => order(answer, value).map(|o| o.is_eq()),
    }
}

fn chosen(answer: &Answer) -> Option<Vec<&str>> {
    match answer {
        Answer::Choices(values) => Some(values.iter().map(String::as_str).collect()),
        Answer::Text(text) => Some(vec![text.as_str()]),
        _ => None,
    }
}

/// Whether `expr` holds for `facts`.
pub fn holds(expr: &Expr, facts: &Facts) -> bool {
    match expr {
        Expr::And(children) => children.iter().all(|c| holds(c, facts)),
        Expr::Or(children) => children.iter().any(|c| holds(c, facts)),
        Expr::Not(inner) => !holds(inner, facts),
        Expr::Answered { subject, answered } => facts.get(subject).is_some() == *answered,
        Expr::Compare { subject, op, value } => {
            let Some(answer) = facts.get(subject) else {
                return false;
            };
            match op {
                CompareOp::Eq => equals(&answer, value) == Some(true),
                CompareOp::Ne => equals(&answer, value) == Some(false),
                CompareOp::Lt => order(&answer, value).is_some_and(|o| o.is_lt()),
                CompareOp::Le => order(&answer, value).is_some_and(|o| o.is_le()),
                CompareOp::Gt => order(&answer, value).is_some_and(|o| o.is_gt()),
                CompareOp::Ge => order(&answer, value).is_some_and(|o| o.is_ge()),
            }
        }
        Expr::Between { subject, low, high } => facts.get(subject).is_some_and(|answer| {
            order(&answer, low).is_some_and(|o| o.is_ge()) && order(&answer, high).is_some_and(|o| o.is_le())
        }),
        Expr::Contains { subject, op, values } => {
            let Some(answer) = facts.get(subject) else {
                return false;
            };
            let Some(chosen) = chosen(&answer) else {
                return false;
            };
            let wanted: Vec<&str> = values
                .iter()
                .filter_map(|v| match v {
                    Value::Text(t) => Some(t.as_str()),
                    _ => None,
                })
                .collect();
            if wanted.len() != values.len() {
                return false;
            }
            match op {
                SetOp::ContainsAny => wanted.iter().any(|w| chosen.contains(w)),
                SetOp::ContainsAll => wanted.iter().all(|w| chosen.contains(w)),
                SetOp::ContainsNone => !wanted.iter().any(|w| chosen.contains(w)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::expr::parse;

    fn facts() -> Facts {
        let mut facts = Facts::default();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (key, answer) in [
            ("nps", Answer::Number(6.0)),
            ("service", Answer::Number(3.0)),
            ("reason", Answer::Text("slow delivery".into())),
            ("plan", Answer::Choices(vec!["pro".into()])),
            ("features", Answer::Choices(vec!["speed".into(), "price".into()])),
            ("would_return", Answer::Bool(false)),
            ("purchased_on", Answer::Date(day("2026-03-01"))),
        ] {
            facts.answers.insert(key.into(), answer);
        }
        facts.attributes.insert("plan".into(), Value::Text("enterprise".into()));
        facts.attributes.insert("orders".into(), Value::Number(12.0));
        facts.attributes.insert("churned".into(), Value::Bool(true));
        facts
            .attributes
            .insert("customer_since".into(), Value::Date(day("2020-05-01")));
        facts.hidden.insert("channel".into(), "sms".into());
        facts
    }

    fn check(cases: &[(&str, bool)]) {
        let facts = facts();
        for (text, expected) in cases {
            let expr = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(holds(&expr, &facts), *expected, "{text}");
        }
    }

    #[test]
    fn numbers_scales_and_ratings() {
        check(&[
            ("answer(nps) = 6", true),
            ("answer(nps) != 6", false),
            ("answer(nps) < 7", true),
            ("answer(nps) <= 6", true),
            ("answer(nps) > 6", false),
            ("answer(nps) >= 6", true),
            ("answer(service) <= 3", true),
            ("answer(service) BETWEEN (1, 3)", true),
            ("answer(service) BETWEEN (4, 5)", false),
            ("attribute(orders) > 10", true),
            ("answer(nps) = \"6\"", false),
        ]);
    }

    #[test]
    fn texts_choices_and_hidden_fields() {
        check(&[
            ("answer(reason) = \"slow delivery\"", true),
            ("answer(reason) != \"fast\"", true),
            ("answer(plan) = \"pro\"", true),
            ("answer(plan) != \"basic\"", true),
            ("answer(features) = \"speed\"", false),
            ("answer(features) CONTAINS ANY (\"speed\", \"quality\")", true),
            ("answer(features) CONTAINS ALL (\"speed\", \"price\")", true),
            ("answer(features) CONTAINS ALL (\"speed\", \"quality\")", false),
            ("answer(features) CONTAINS NONE (\"quality\")", true),
            ("answer(features) CONTAINS NONE (\"price\")", false),
            ("answer(plan) CONTAINS ANY (\"pro\")", true),
            ("hidden(channel) = \"sms\"", true),
            ("hidden(channel) CONTAINS ANY (\"sms\", \"email\")", true),
            ("attribute(plan) = \"enterprise\"", true),
            ("attribute(plan) < \"f\"", true),
        ]);
    }

    #[test]
    fn booleans_and_dates() {
        check(&[
            ("answer(would_return) = false", true),
            ("answer(would_return) != true", true),
            ("answer(would_return) < true", false),
            ("attribute(churned) = true", true),
            ("answer(purchased_on) >= date(2026-01-01)", true),
            (
                "answer(purchased_on) BETWEEN (date(2026-01-01), date(2026-02-28))",
                false,
            ),
            ("attribute(customer_since) < date(2021-01-01)", true),
        ]);
    }

    #[test]
    fn absence_and_connectives() {
        check(&[
            ("answer(missing) IS NOT ANSWERED", true),
            ("answer(nps) IS ANSWERED", true),
            ("answer(missing) = 1", false),
            ("answer(missing) != 1", false),
            ("NOT answer(missing) = 1", true),
            ("answer(missing) CONTAINS NONE (\"x\")", false),
            ("attribute(unknown) = \"x\" OR hidden(unknown) IS NOT ANSWERED", true),
            (
                "answer(nps) <= 6 AND answer(service) <= 3 AND NOT answer(would_return) = true",
                true,
            ),
            (
                "(answer(nps) > 8 OR answer(service) > 4) AND answer(plan) = \"pro\"",
                false,
            ),
        ]);
    }

    /// Every operator on every type of answer (the kinds map to these types: NPS, CSAT, CES,
    /// rating and number to numbers; texts, email, phone to text; single choice, dropdown and
    /// Likert to one choice; multiple choice to choices; yes/no to a boolean; date to a date).
    #[test]
    fn every_operator_on_every_kind_of_answer() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let table: Vec<(Answer, Vec<(&str, bool)>)> = vec![
            (
                Answer::Number(7.0),
                vec![
                    ("= 7", true),
                    ("!= 7", false),
                    ("< 7", false),
                    ("<= 7", true),
                    ("> 6.5", true),
                    (">= 8", false),
                    ("BETWEEN (7, 8)", true),
                    ("CONTAINS ANY (\"7\")", false),
                    ("CONTAINS ALL (\"7\")", false),
                    ("CONTAINS NONE (\"7\")", false),
                    ("= \"7\"", false),
                ],
            ),
            (
                Answer::Text("late".into()),
                vec![
                    ("= \"late\"", true),
                    ("!= \"late\"", false),
                    ("< \"m\"", true),
                    ("<= \"a\"", false),
                    ("> \"a\"", true),
                    (">= \"late\"", true),
                    ("BETWEEN (\"a\", \"m\")", true),
                    ("CONTAINS ANY (\"late\", \"x\")", true),
                    ("CONTAINS ALL (\"late\", \"x\")", false),
                    ("CONTAINS NONE (\"x\")", true),
                    ("= 1", false),
                ],
            ),
            (
                Answer::Choices(vec!["pro".into()]),
                vec![
                    ("= \"pro\"", true),
                    ("!= \"pro\"", false),
                    ("< \"z\"", false),
                    ("<= \"z\"", false),
                    ("> \"a\"", false),
                    (">= \"a\"", false),
                    ("BETWEEN (\"a\", \"z\")", false),
                    ("CONTAINS ANY (\"pro\", \"basic\")", true),
                    ("CONTAINS ALL (\"pro\")", true),
                    ("CONTAINS NONE (\"pro\")", false),
                    ("= true", false),
                ],
            ),
            (
                Answer::Choices(vec!["speed".into(), "price".into()]),
                vec![
                    ("= \"speed\"", false),
                    ("!= \"speed\"", true),
                    ("< \"z\"", false),
                    ("<= \"z\"", false),
                    ("> \"a\"", false),
                    (">= \"a\"", false),
                    ("BETWEEN (\"a\", \"z\")", false),
                    ("CONTAINS ANY (\"x\", \"price\")", true),
                    ("CONTAINS ALL (\"price\", \"speed\")", true),
                    ("CONTAINS NONE (\"x\", \"y\")", true),
                    ("CONTAINS ANY (1)", false),
                ],
            ),
            (
                Answer::Bool(true),
                vec![
                    ("= true", true),
                    ("!= true", false),
                    ("< true", false),
                    ("<= true", false),
                    ("> false", false),
                    (">= false", false),
                    ("BETWEEN (false, true)", false),
                    ("CONTAINS ANY (\"true\")", false),
                    ("CONTAINS ALL (\"true\")", false),
                    ("CONTAINS NONE (\"true\")", false),
                    ("= \"true\"", false),
                ],
            ),
            (
                Answer::Date(day("2026-03-01")),
                vec![
                    ("= date(2026-03-01)", true),
                    ("!= date(2026-03-01)", false),
                    ("< date(2026-03-02)", true),
                    ("<= date(2026-02-28)", false),
                    ("> date(2026-02-28)", true),
                    (">= date(2026-03-02)", false),
                    ("BETWEEN (date(2026-01-01), date(2026-12-31))", true),
                    ("CONTAINS ANY (\"2026-03-01\")", false),
                    ("CONTAINS ALL (\"2026-03-01\")", false),
                    ("CONTAINS NONE (\"2026-03-01\")", false),
                    ("= \"2026-03-01\"", false),
                ],
            ),
        ];
        for (answer, cases) in table {
            let mut facts = Facts::default();
            facts.answers.insert("q".into(), answer.clone());
            let empty = Facts::default();
            for (rest, expected) in cases {
                let text = format!("answer(q) {rest}");
                let expr = parse(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
                assert_eq!(holds(&expr, &facts), expected, "{answer:?} {text}");
                // Unanswered, every comparison is false and its negation true.
                assert!(!holds(&expr, &empty), "unanswered {text}");
                assert!(holds(&Expr::Not(Box::new(expr)), &empty), "unanswered NOT {text}");
            }
            for (text, expected) in [("answer(q) IS ANSWERED", true), ("answer(q) IS NOT ANSWERED", false)] {
                let expr = parse(text).unwrap();
                assert_eq!(holds(&expr, &facts), expected, "{answer:?} {text}");
                assert_eq!(holds(&expr, &empty), !expected, "unanswered {text}");
            }
        }
    }
}
