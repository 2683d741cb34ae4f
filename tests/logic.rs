//! Property tests of the condition engine over random forms, answers and conditions: the path
//! engine agrees with a naive reference interpreter written here from the product's rules,
//! never shows a question whose show-if is false, never leaves a required question on the
//! path unanswered without reporting it; canonical texts parse back to the same tree; no text
//! makes the parser panic.
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use nazar::{
    form::{
        model::{FormDef, OptionDef, QuestionDef, SectionDef, Skip, Text},
        rules::{ChoiceRules, Rules, TextRules},
    },
    logic::{
        eval::{Answer, Facts, holds},
        expr::{CompareOp, Expr, Operand, SetOp, Value, parse},
        path::{Next, ViolationKind, evaluate, next_after},
    },
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// A reference interpreter, written naively from the rules (PRODUCT.md, "Logic semantics").
// ---------------------------------------------------------------------------------------------

fn ref_value(facts: &Facts, operand: &Operand) -> Option<Answer> {
    match operand {
        Operand::Answer(k) => facts.answers.get(k).cloned(),
        Operand::Hidden(k) => facts.hidden.get(k).map(|v| Answer::Text(v.clone())),
        Operand::Attribute(k) => facts.attributes.get(k).map(|v| match v {
            Value::Number(n) => Answer::Number(*n),
            Value::Text(t) => Answer::Text(t.clone()),
            Value::Bool(b) => Answer::Bool(*b),
            Value::Date(d) => Answer::Date(*d),
        }),
        Operand::Response(f) => facts.response.get(f).map(|v| match v {
            Value::Number(n) => Answer::Number(*n),
            Value::Text(t) => Answer::Text(t.clone()),
            Value::Bool(b) => Answer::Bool(*b),
            Value::Date(d) => Answer::Date(*d),
        }),
    }
}

/// -1, 0, 1 when the answer and the constant are of one orderable type.
fn ref_cmp(a: &Answer, v: &Value) -> Option<i8> {
    let sign = |o: std::cmp::Ordering| o as i8;
    match (a, v) {
        (Answer::Number(x), Value::Number(y)) => x.partial_cmp(y).map(sign),
        (Answer::Text(x), Value::Text(y)) => Some(sign(x.cmp(y))),
        (Answer::Date(x), Value::Date(y)) => Some(sign(x.cmp(y))),
        _ => None,
    }
}

fn ref_eq(a: &Answer, v: &Value) -> Option<bool> {
    match (a, v) {
        (Answer::Bool(x), Value::Bool(y)) => Some(x == y),
        (Answer::Choices(c), Value::Text(t)) => Some(c.len() == 1 && &c[0] == t),
        _ => ref_cmp(a, v).map(|c| c == 0),
    }
}

fn ref_holds(e: &Expr, facts: &Facts) -> bool {
    match e {
        Expr::And(cs) => cs.iter().all(|c| ref_holds(c, facts)),
        Expr::Or(cs) => cs.iter().any(|c| ref_holds(c, facts)),
        Expr::Not(c) => !ref_holds(c, facts),
        Expr::Answered { subject, answered } => ref_value(facts, subject).is_some() == *answered,
        Expr::Compare { subject, op, value } => match ref_value(facts, subject) {
            None => false,
            Some(a) => match op {
                CompareOp::Eq => ref_eq(&a, value) == Some(true),
                CompareOp::Ne => ref_eq(&a, value) == Some(false),
                CompareOp::Lt => ref_cmp(&a, value) == Some(-1),
                CompareOp::Le => matches!(ref_cmp(&a, value), Some(-1 | 0)),
                CompareOp::Gt => ref_cmp(&a, value) == Some(1),
                CompareOp::Ge => matches!(ref_cmp(&a, value), Some(0 | 1)),
            },
        },
        Expr::Between { subject, low, high } => ref_value(facts, subject)
            .is_some_and(|a| matches!(ref_cmp(&a, low), Some(0 | 1)) && matches!(ref_cmp(&a, high), Some(-1 | 0))),
        Expr::Contains { subject, op, values } => {
            let chosen: Vec<String> = match ref_value(facts, subject) {
                Some(Answer::Choices(c)) => c,
                Some(Answer::Text(t)) => vec![t],
                _ => return false,
            };
            let mut wanted = Vec::new();
            for v in values {
                match v {
                    Value::Text(t) => wanted.push(t.clone()),
                    _ => return false,
                }
            }
            let has = |w: &String| chosen.contains(w);
            match op {
                SetOp::ContainsAny => wanted.iter().any(has),
                SetOp::ContainsAll => wanted.iter().all(has),
                SetOp::ContainsNone => !wanted.iter().any(has),
            }
        }
    }
}

#[derive(Debug, PartialEq)]
struct RefStep {
    section: usize,
    shown: Vec<usize>,
    required: Vec<usize>,
}

/// Walks the sections one by one, as a person would read the rules.
fn reference(def: &FormDef, facts: &Facts) -> (Vec<RefStep>, Next, Vec<(String, ViolationKind)>) {
    let mut seen = Facts {
        answers: HashMap::new(),
        attributes: facts.attributes.clone(),
        hidden: facts.hidden.clone(),
        response: facts.response.clone(),
    };
    let mut steps = Vec::new();
    let mut i = 0;
    let finish = loop {
        if i >= def.sections.len() {
            break Next::Complete;
        }
        let section = &def.sections[i];
        if let Some(c) = &section.show_if
            && !ref_holds(c, &seen)
        {
            i += 1;
            continue;
        }
        let mut step = RefStep {
            section: i,
            shown: vec![],
            required: vec![],
        };
        for (q, question) in section.questions.iter().enumerate() {
            if matches!(question.rules, Rules::Hidden) {
                continue;
            }
            let shown = match &question.show_if {
                Some(c) => ref_holds(c, &seen),
                None => true,
            };
            if !shown {
                continue;
            }
            step.shown.push(q);
            let required = question.required || question.require_if.as_ref().is_some_and(|c| ref_holds(c, &seen));
            if required {
                step.required.push(q);
            }
            if let Some(a) = facts.answers.get(&question.key) {
                seen.answers.insert(question.key.clone(), a.clone());
            }
        }
        steps.push(step);
        if section.disqualify_if.as_ref().is_some_and(|c| ref_holds(c, &seen)) {
            break Next::Disqualified;
        }
        if section.end_if.as_ref().is_some_and(|c| ref_holds(c, &seen)) {
            break Next::Ended;
        }
        let mut next = i + 1;
        for skip in &section.skips {
            let target = def.sections.iter().position(|s| s.uid == skip.to);
            if let Some(t) = target
                && t > i
                && ref_holds(&skip.when, &seen)
            {
                next = t;
                break;
            }
        }
        i = next;
    };
    let mut violations = Vec::new();
    let mut on_path = HashSet::new();
    for step in &steps {
        for &q in &step.required {
            let key = &def.sections[step.section].questions[q].key;
            if !facts.answers.contains_key(key) {
                violations.push((key.clone(), ViolationKind::Required));
            }
        }
        for &q in &step.shown {
            on_path.insert(def.sections[step.section].questions[q].key.clone());
        }
    }
    let mut known = HashSet::new();
    for section in &def.sections {
        for question in &section.questions {
            if matches!(question.rules, Rules::Hidden) {
                continue;
            }
            known.insert(question.key.clone());
            if facts.answers.contains_key(&question.key) && !on_path.contains(&question.key) {
                violations.push((question.key.clone(), ViolationKind::OffPath));
            }
        }
    }
    let mut unknown: Vec<_> = facts.answers.keys().filter(|k| !known.contains(*k)).cloned().collect();
    unknown.sort();
    violations.extend(unknown.into_iter().map(|k| (k, ViolationKind::UnknownQuestion)));
    (steps, finish, violations)
}

// ---------------------------------------------------------------------------------------------
// Random forms, facts and conditions.
// ---------------------------------------------------------------------------------------------

const OPTIONS: [&str; 3] = ["a", "b", "c"];

#[derive(Clone, Copy, Debug)]
enum Kind {
    Number,
    Single,
    Multiple,
    YesNo,
    Text,
    Date,
    Hidden,
}

const KINDS: [Kind; 7] = [
    Kind::Number,
    Kind::Single,
    Kind::Multiple,
    Kind::YesNo,
    Kind::Text,
    Kind::Date,
    Kind::Hidden,
];

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::from(n))
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u8..=10).prop_map(|n| Value::Number(f64::from(n))),
        prop::sample::select(&OPTIONS[..]).prop_map(|s| Value::Text(s.to_owned())),
        any::<bool>().prop_map(Value::Bool),
        (0u32..5).prop_map(|n| Value::Date(day(n))),
    ]
}

fn operand(keys: usize) -> impl Strategy<Value = Operand> {
    prop_oneof![
        4 => (0..keys).prop_map(|k| Operand::Answer(format!("q{k}"))),
        1 => (0..keys).prop_map(|k| Operand::Hidden(format!("q{k}"))),
        1 => prop::sample::select(&["tier", "ltv"][..]).prop_map(|a| Operand::Attribute(a.to_owned())),
    ]
}

fn atom(keys: usize) -> impl Strategy<Value = Expr> {
    let compare = prop::sample::select(
        &[
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Lt,
            CompareOp::Le,
            CompareOp::Gt,
            CompareOp::Ge,
        ][..],
    );
    let set = prop::sample::select(&[SetOp::ContainsAny, SetOp::ContainsAll, SetOp::ContainsNone][..]);
    prop_oneof![
        (operand(keys), compare, value()).prop_map(|(subject, op, value)| Expr::Compare { subject, op, value }),
        (operand(keys), value(), value()).prop_map(|(subject, low, high)| Expr::Between { subject, low, high }),
        (operand(keys), set, prop::collection::vec(value(), 1..3)).prop_map(|(subject, op, values)| Expr::Contains {
            subject,
            op,
            values
        }),
        (operand(keys), any::<bool>()).prop_map(|(subject, answered)| Expr::Answered { subject, answered }),
    ]
}

fn condition(keys: usize) -> impl Strategy<Value = Expr> {
    atom(keys).prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn question(key: String, kind: Kind) -> QuestionDef {
    let rules = match kind {
        Kind::Number => Rules::Nps,
        Kind::Single => Rules::SingleChoice(ChoiceRules::default()),
        Kind::Multiple => Rules::MultipleChoice(ChoiceRules::default()),
        Kind::YesNo => Rules::YesNo,
        Kind::Text => Rules::ShortText(TextRules::default()),
        Kind::Date => Rules::Date(Default::default()),
        Kind::Hidden => Rules::Hidden,
    };
    let options = match kind {
        Kind::Single | Kind::Multiple => OPTIONS
            .iter()
            .map(|v| OptionDef {
                value: v.to_string(),
                label: Text::new(),
                score: None,
            })
            .collect(),
        _ => Vec::new(),
    };
    QuestionDef {
        uid: uuid::Uuid::now_v7(),
        key,
        required: false,
        metric: None,
        title: Text::new(),
        description: Text::new(),
        rules,
        options,
        show_if: None,
        require_if: None,
    }
}

/// How each section and question is built: its kind, `required`, and optional rules.
type QuestionPlan = (usize, bool, Option<Expr>, Option<Expr>);
type SectionPlan = (
    Vec<QuestionPlan>,
    Option<Expr>,
    Vec<(Expr, usize)>,
    Option<Expr>,
    Option<Expr>,
);

const KEYS: usize = 12;

fn form() -> impl Strategy<Value = FormDef> {
    let question = (
        0..KINDS.len(),
        any::<bool>(),
        prop::option::weighted(0.5, condition(KEYS)),
        prop::option::weighted(0.2, condition(KEYS)),
    );
    let section = (
        prop::collection::vec(question, 0..4),
        prop::option::weighted(0.3, condition(KEYS)),
        // Targets may be backward, the section itself, or missing (index past the end).
        prop::collection::vec((condition(KEYS), 0usize..6), 0..3),
        prop::option::weighted(0.15, condition(KEYS)),
        prop::option::weighted(0.1, condition(KEYS)),
    );
    prop::collection::vec(section, 0..5).prop_map(|plans: Vec<SectionPlan>| {
        let mut def = FormDef::new(vec!["en".into()], Text::new());
        def.sections = plans
            .iter()
            .map(|_| SectionDef::new(Text::new(), Text::new()))
            .collect();
        let uids: Vec<uuid::Uuid> = def.sections.iter().map(|s| s.uid).collect();
        let mut next_key = 0;
        for (section, (questions, show_if, skips, end_if, disqualify_if)) in def.sections.iter_mut().zip(plans) {
            for (kind, required, show, require) in questions {
                let mut q = self::question(format!("q{next_key}"), KINDS[kind]);
                next_key += 1;
                q.required = required;
                q.show_if = show;
                q.require_if = require;
                section.questions.push(q);
            }
            section.show_if = show_if;
            section.skips = skips
                .into_iter()
                .map(|(when, to)| Skip {
                    when,
                    to: uids.get(to).copied().unwrap_or_else(uuid::Uuid::now_v7),
                })
                .collect();
            section.end_if = end_if;
            section.disqualify_if = disqualify_if;
        }
        def
    })
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        (0u8..=10).prop_map(|n| Answer::Number(f64::from(n))),
        prop::sample::select(&OPTIONS[..]).prop_map(|s| Answer::Text(s.to_owned())),
        prop::sample::subsequence(&OPTIONS[..], 1..=3)
            .prop_map(|c| Answer::Choices(c.into_iter().map(str::to_owned).collect())),
        any::<bool>().prop_map(Answer::Bool),
        (0u32..5).prop_map(|n| Answer::Date(day(n))),
    ]
}

fn facts() -> impl Strategy<Value = Facts> {
    (
        prop::collection::hash_map((0..KEYS + 2).prop_map(|k| format!("q{k}")), answer(), 0..KEYS),
        prop::collection::hash_map(
            (0..KEYS).prop_map(|k| format!("q{k}")),
            prop::sample::select(&OPTIONS[..]),
            0..3,
        ),
        prop::option::of(value()),
        prop::option::of(value()),
    )
        .prop_map(|(answers, hidden, tier, ltv)| Facts {
            answers,
            hidden: hidden.into_iter().map(|(k, v)| (k, v.to_owned())).collect(),
            attributes: [("tier", tier), ("ltv", ltv)]
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_owned(), v?)))
                .collect(),
            response: HashMap::new(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The engine and the reference agree on every path, finish and violation.
    #[test]
    fn the_engine_agrees_with_the_reference_interpreter(def in form(), facts in facts()) {
        let evaluation = evaluate(&def, &facts);
        let (steps, finish, violations) = reference(&def, &facts);
        let engine_steps: Vec<RefStep> = evaluation
            .steps
            .iter()
            .map(|s| RefStep { section: s.section, shown: s.questions.clone(), required: s.required.clone() })
            .collect();
        prop_assert_eq!(&engine_steps, &steps);
        prop_assert_eq!(evaluation.finish, finish);
        let engine_violations: Vec<(String, ViolationKind)> =
            evaluation.violations.iter().map(|v| (v.key.clone(), v.kind)).collect();
        prop_assert_eq!(engine_violations, violations);
        // Each step's `next` is the following step, or the finish.
        for (i, step) in evaluation.steps.iter().enumerate() {
            let expected = evaluation.steps.get(i + 1).map_or(finish, |s| Next::Section(s.section));
            prop_assert_eq!(step.next, expected);
            // And what follows any section on the path is the same asked from that point.
            prop_assert_eq!(next_after(&def, &facts, step.section), Some(expected));
        }
        // Deterministic.
        prop_assert_eq!(evaluate(&def, &facts), evaluation);
    }

    /// No question is shown whose show-if is false for what precedes it, and no required
    /// question on the path goes unanswered without a REQUIRED violation.
    #[test]
    fn shown_questions_hold_and_missing_required_answers_are_reported(def in form(), facts in facts()) {
        let evaluation = evaluate(&def, &facts);
        let mut seen = Facts {
            answers: HashMap::new(),
            attributes: facts.attributes.clone(),
            hidden: facts.hidden.clone(),
            response: facts.response.clone(),
        };
        for step in &evaluation.steps {
            let section = &def.sections[step.section];
            if let Some(c) = &section.show_if {
                prop_assert!(holds(c, &seen));
            }
            for &q in &step.questions {
                let question = &section.questions[q];
                if let Some(c) = &question.show_if {
                    prop_assert!(holds(c, &seen), "{} shown although `{}` is false", question.key, c);
                }
                if step.required.contains(&q) && !facts.answers.contains_key(&question.key) {
                    prop_assert!(evaluation
                        .violations
                        .iter()
                        .any(|v| v.key == question.key && v.kind == ViolationKind::Required));
                }
                if let Some(a) = facts.answers.get(&question.key) {
                    seen.answers.insert(question.key.clone(), a.clone());
                }
            }
        }
        // Sections are visited in increasing order: the path cannot loop.
        prop_assert!(evaluation.steps.windows(2).all(|w| w[0].section < w[1].section));
    }

    /// `holds` agrees with the reference on random conditions and facts.
    #[test]
    fn conditions_hold_as_the_reference_says(e in condition(KEYS), facts in facts()) {
        prop_assert_eq!(holds(&e, &facts), ref_holds(&e, &facts));
    }

    /// A condition's canonical text parses back to the same (normalised) tree.
    #[test]
    fn canonical_texts_parse_back_to_the_same_tree(e in condition(KEYS)) {
        let e = e.normalized();
        let text = e.to_string();
        let parsed = parse(&text);
        prop_assert_eq!(parsed.as_ref(), Ok(&e), "{}", text);
        prop_assert_eq!(parsed.unwrap().to_string(), text);
    }

    /// Texts with any characters, numbers and strings never panic the parser; what parses
    /// prints back to a text that parses to the same tree.
    #[test]
    fn any_text_parses_or_is_refused_without_panic(
        text in prop::collection::vec(
            prop_oneof![
                any::<char>().prop_map(|c| c.to_string()),
                prop::sample::select(&[
                    "answer(a)", "attribute(b)", "hidden(c)", " = ", " != ", " <= ", " > ", " AND ", " OR ",
                    "NOT ", "(", ")", ", ", "1", "-2.5", "1e308", "1e309", "\"x\\\"\"", "true", "date(2024-02-29)",
                    "date(2023-02-29)", " BETWEEN ", " CONTAINS ANY ", " IS NOT ANSWERED", "\u{200c}", "۳",
                ][..]).prop_map(str::to_owned),
            ],
            0..40,
        ).prop_map(|parts| parts.concat())
    ) {
        if let Ok(e) = parse(&text) {
            let again = parse(&e.to_string());
            prop_assert_eq!(again.as_ref(), Ok(&e), "{} → {}", text, e);
        }
    }
}

/// Random texts of any strings: the string constant survives escaping exactly.
#[test]
fn strings_with_quotes_backslashes_and_persian_round_trip() {
    for s in ["\"", "\\", "a\"b\\c", "نظر\u{200c}سنجی", "line\nbreak\ttab\r", "😀", ""] {
        let e = Expr::Compare {
            subject: Operand::Answer("q".into()),
            op: CompareOp::Eq,
            value: Value::Text(s.to_owned()),
        };
        assert_eq!(parse(&e.to_string()), Ok(e));
    }
}
