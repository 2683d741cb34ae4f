//! Static checks of a version's conditions: what can be known without any respondent.
//! While editing they are warnings; publishing refuses a version that has any.
//!
//! Every problem has a stable code and the path of the offending element. Inside a condition
//! the path ends with `nodes[i]`, the node's index in the condition's flat node list (pre-order:
//! the root is 0, then each child's subtree in order), the same numbering the API shows.
//!
//! | code | meaning |
//! |---|---|
//! | `CONDITION_UNKNOWN_QUESTION` | `answer(key)` names no question (or a hidden field) |
//! | `CONDITION_UNKNOWN_HIDDEN_FIELD` | `hidden(key)` names no hidden field |
//! | `CONDITION_UNKNOWN_ATTRIBUTE` | `attribute(name)` is not in the catalogue |
//! | `CONDITION_REPORT_ONLY` | a form's condition reads `response(field)` |
//! | `CONDITION_TYPE_MISMATCH` | operator or constant does not fit the operand's type |
//! | `CONDITION_UNKNOWN_OPTION` | a constant is not one of the question's option values |
//! | `CONDITION_OUT_OF_RANGE` | a constant outside the question's scale or range |
//! | `CONDITION_REVERSED_BETWEEN` | `BETWEEN (high, low)` |
//! | `CONDITION_CONTRADICTION` | an AND whose parts cannot all hold |
//! | `CONDITION_LATER_QUESTION` | reads a question that comes later on every path |
//! | `SKIP_TARGET_UNKNOWN` | a skip to a section the version does not have |
//! | `SKIP_LOOP` | a skip back to its own or an earlier section |
//! | `UNREACHABLE_SECTION` | no path shows the section |
//! | `UNREACHABLE_QUESTION` | no path shows the question |
use crate::codes::ProblemCode;
use std::{
    cmp::Ordering,
    collections::{HashMap, HashSet},
};

use super::expr::{CompareOp, Expr, Operand, ResponseField, SetOp, Value};
use crate::form::{
    Problem,
    kind::QuestionKind,
    model::{FormDef, QuestionDef},
    rules::Rules,
};

/// The type of a respondent attribute, from the organization's catalogue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar {
    Text,
    Number,
    Bool,
    Date,
}

impl Scalar {
    /// Whether `value` is of this type.
    pub fn holds(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Scalar::Text, Value::Text(_))
                | (Scalar::Number, Value::Number(_))
                | (Scalar::Bool, Value::Bool(_))
                | (Scalar::Date, Value::Date(_))
        )
    }
}

/// An organization's attribute catalogue: name → type.
pub type Catalogue = HashMap<String, Scalar>;

/// What an operand is, as far as the checks are concerned.
#[derive(Clone, Debug, PartialEq)]
enum Subject {
    Number {
        min: Option<f64>,
        max: Option<f64>,
        integer: bool,
        scale: &'static str,
    },
    Date {
        min: Option<chrono::NaiveDate>,
        max: Option<chrono::NaiveDate>,
    },
    Text,
    Bool,
    Choice {
        values: Vec<String>,
        single: bool,
    },
}

fn subject_of_question(question: &QuestionDef) -> Subject {
    let number = |min: f64, max: f64, scale: &'static str| Subject::Number {
        min: Some(min),
        max: Some(max),
        integer: true,
        scale,
    };
    let choice = |single: bool| Subject::Choice {
        values: question.options.iter().map(|o| o.value.clone()).collect(),
        single,
    };
    match &question.rules {
        Rules::Nps => number(0.0, 10.0, "0–10"),
        Rules::Csat => number(1.0, 5.0, "1–5"),
        Rules::Ces => number(1.0, 7.0, "1–7"),
        Rules::Rating(r) => Subject::Number {
            min: Some(1.0),
            max: Some(f64::from(r.max_stars)),
            integer: true,
            scale: "1–max stars",
        },
        Rules::Number(n) => Subject::Number {
            min: n.min,
            max: n.max,
            integer: n.integer_only,
            scale: "the question's range",
        },
        Rules::Date(d) => Subject::Date { min: d.min, max: d.max },
        Rules::YesNo => Subject::Bool,
        Rules::SingleChoice(_) | Rules::Dropdown(_) | Rules::Likert(_) => choice(true),
        Rules::MultipleChoice(_) => choice(false),
        Rules::ShortText(_) | Rules::LongText(_) | Rules::Email | Rules::Phone | Rules::Hidden => Subject::Text,
    }
}

/// The values a response's channel and status take, as their operands compare them.
fn subject_of_response(field: ResponseField) -> Subject {
    use crate::form::response::{Channel, ResponseStatus};
    match field {
        ResponseField::Channel => Subject::Choice {
            values: Channel::ALL.iter().map(|c| c.as_str().to_owned()).collect(),
            single: true,
        },
        ResponseField::Status => Subject::Choice {
            values: ResponseStatus::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            single: true,
        },
        ResponseField::Locale => Subject::Text,
        ResponseField::CompletedOn => Subject::Date { min: None, max: None },
        ResponseField::Duration => Subject::Number {
            min: Some(0.0),
            max: None,
            integer: true,
            scale: "whole seconds, 0 or more",
        },
        ResponseField::TotalScore => Subject::Number {
            min: None,
            max: None,
            integer: false,
            scale: "",
        },
    }
}

fn subject_of_scalar(scalar: Scalar) -> Subject {
    match scalar {
        Scalar::Text => Subject::Text,
        Scalar::Number => Subject::Number {
            min: None,
            max: None,
            integer: false,
            scale: "",
        },
        Scalar::Bool => Subject::Bool,
        Scalar::Date => Subject::Date { min: None, max: None },
    }
}

/// Where a condition sits, for the rule "read only what comes before".
#[derive(Clone, Copy)]
enum Place {
    /// A question's condition: may read questions before it.
    Question(usize, usize),
    /// A section's show-if: may read questions of earlier sections.
    SectionShow(usize),
    /// A section's end, disqualify or skip rule: may read questions up to its own last.
    SectionAfter(usize),
}

/// What the checks know about a version.
struct Context<'a> {
    questions: HashMap<&'a str, (usize, usize, &'a QuestionDef)>,
    attributes: &'a HashMap<String, Scalar>,
    /// Keys no path can answer (their questions are never shown).
    never: HashSet<String>,
    /// Checking a report filter: `response(field)` operands are allowed.
    filter: bool,
}

impl<'a> Context<'a> {
    fn new(def: &'a FormDef, attributes: &'a HashMap<String, Scalar>) -> Self {
        let mut questions = HashMap::new();
        for (s, section) in def.sections.iter().enumerate() {
            for (q, question) in section.questions.iter().enumerate() {
                questions.insert(question.key.as_str(), (s, q, question));
            }
        }
        Context {
            questions,
            attributes,
            never: HashSet::new(),
            filter: false,
        }
    }

    /// The operand's type, or why it is unknown.
    fn subject(&self, operand: &Operand) -> Result<Subject, (ProblemCode, String)> {
        match operand {
            Operand::Answer(key) => match self.questions.get(key.as_str()) {
                Some((_, _, q)) if q.rules.kind() != QuestionKind::Hidden => Ok(subject_of_question(q)),
                Some(_) => Err((
                    ProblemCode::ConditionUnknownQuestion,
                    format!("`{key}` is a hidden field: read it with hidden({key})"),
                )),
                None => Err((
                    ProblemCode::ConditionUnknownQuestion,
                    format!("the form has no question `{key}`"),
                )),
            },
            Operand::Hidden(key) => match self.questions.get(key.as_str()) {
                Some((_, _, q)) if q.rules.kind() == QuestionKind::Hidden => Ok(Subject::Text),
                _ => Err((
                    ProblemCode::ConditionUnknownHiddenField,
                    format!("the form has no hidden field `{key}`"),
                )),
            },
            Operand::Response(field) if self.filter => Ok(subject_of_response(*field)),
            Operand::Response(field) => Err((
                ProblemCode::ConditionReportOnly,
                format!(
                    "response({}) is for report filters: a form's path cannot depend on it",
                    field.name()
                ),
            )),
            Operand::Attribute(name) => self.attributes.get(name).map(|s| subject_of_scalar(*s)).ok_or_else(|| {
                (
                    ProblemCode::ConditionUnknownAttribute,
                    format!("the attribute catalogue has no `{name}`"),
                )
            }),
        }
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Number(_) => "a number",
        Value::Text(_) => "a text",
        Value::Bool(_) => "true or false",
        Value::Date(_) => "a date",
    }
}

fn subject_name(subject: &Subject) -> &'static str {
    match subject {
        Subject::Number { .. } => "a number",
        Subject::Date { .. } => "a date",
        Subject::Text => "a text",
        Subject::Bool => "a yes/no answer",
        Subject::Choice { .. } => "a choice",
    }
}

/// Whether `value` is a constant of the subject's type.
fn fits(subject: &Subject, value: &Value) -> bool {
    matches!(
        (subject, value),
        (Subject::Number { .. }, Value::Number(_))
            | (Subject::Date { .. }, Value::Date(_))
            | (Subject::Text, Value::Text(_))
            | (Subject::Bool, Value::Bool(_))
            | (Subject::Choice { .. }, Value::Text(_))
    )
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => a.partial_cmp(b),
        (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
        (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// The problems of one comparison on its own (type, options, range, reversed bounds).
fn check_atom(cx: &Context, atom: &Expr, path: &str, problems: &mut Vec<Problem>) {
    let (subject, op_kind, values): (&Operand, &str, Vec<&Value>) = match atom {
        Expr::Compare { subject, op, value } => {
            let kind = if matches!(op, CompareOp::Eq | CompareOp::Ne) {
                "equality"
            } else {
                "order"
            };
            (subject, kind, vec![value])
        }
        Expr::Between { subject, low, high } => (subject, "order", vec![low, high]),
        Expr::Contains { subject, values, .. } => (subject, "set", values.iter().collect()),
        Expr::Answered { subject, .. } => (subject, "answered", Vec::new()),
        _ => return,
    };
    let subject_type = match cx.subject(subject) {
        Ok(s) => s,
        Err((code, message)) => {
            problems.push(Problem::new(path, code, message));
            return;
        }
    };
    let operator_fits = match op_kind {
        "order" => matches!(subject_type, Subject::Number { .. } | Subject::Date { .. }),
        "set" => matches!(subject_type, Subject::Choice { .. } | Subject::Text),
        _ => true,
    };
    if !operator_fits {
        let what = if op_kind == "order" {
            "<, <=, >, >= and BETWEEN compare numbers and dates"
        } else {
            "CONTAINS compares choices and texts"
        };
        problems.push(Problem::new(
            path,
            ProblemCode::ConditionTypeMismatch,
            format!("{subject} is {}: {what}", subject_name(&subject_type)),
        ));
        return;
    }
    if let Some(bad) = values.iter().find(|v| !fits(&subject_type, v)) {
        problems.push(Problem::new(
            path,
            ProblemCode::ConditionTypeMismatch,
            format!(
                "{subject} is {} and cannot be compared with {} ({bad})",
                subject_name(&subject_type),
                type_name(bad)
            ),
        ));
        return;
    }
    match &subject_type {
        Subject::Choice { values: options, .. } => {
            for value in &values {
                if let Value::Text(v) = value
                    && !options.contains(v)
                {
                    problems.push(Problem::new(
                        path,
                        ProblemCode::ConditionUnknownOption,
                        format!("\"{v}\" is not an option value of {subject}"),
                    ));
                }
            }
        }
        Subject::Number {
            min,
            max,
            integer,
            scale,
        } => {
            for value in &values {
                if let Value::Number(n) = value {
                    let outside = min.is_some_and(|m| *n < m) || max.is_some_and(|m| *n > m);
                    let between_points = *integer
                        && n.fract() != 0.0
                        && matches!(
                            atom,
                            Expr::Compare {
                                op: CompareOp::Eq | CompareOp::Ne,
                                ..
                            }
                        );
                    if outside || between_points {
                        problems.push(Problem::new(
                            path,
                            ProblemCode::ConditionOutOfRange,
                            format!("{n} is not a possible answer of {subject} ({scale})"),
                        ));
                    }
                }
            }
        }
        Subject::Date { min, max } => {
            for value in &values {
                if let Value::Date(d) = value
                    && (min.is_some_and(|m| *d < m) || max.is_some_and(|m| *d > m))
                {
                    problems.push(Problem::new(
                        path,
                        ProblemCode::ConditionOutOfRange,
                        format!("{d} is outside the dates {subject} accepts"),
                    ));
                }
            }
        }
        _ => {}
    }
    if let Expr::Between { low, high, .. } = atom
        && compare(low, high) == Some(Ordering::Greater)
    {
        problems.push(Problem::new(
            path,
            ProblemCode::ConditionReversedBetween,
            format!("BETWEEN ({low}, {high}) has its bounds reversed: no value lies between them"),
        ));
    }
}

/// What a conjunction requires of one operand.
#[derive(Default)]
struct Constraint {
    answered: bool,
    unanswered: bool,
    low: Option<(Value, bool)>,
    high: Option<(Value, bool)>,
    equal: Vec<Value>,
    not_equal: Vec<Value>,
    all_of: HashSet<String>,
    none_of: HashSet<String>,
    any_of: Vec<HashSet<String>>,
    exactly: Vec<String>,
    /// Complements of negated comparisons, applied once the operand must be answered.
    negated: Vec<(CompareOp, Value)>,
    negated_none: HashSet<String>,
    negated_any: Vec<HashSet<String>>,
}

/// Replaces a bound with `value` when it is tighter: further in the `inward` direction, or
/// equal and exclusive where the bound was inclusive.
fn tighten(bound: &mut Option<(Value, bool)>, value: &Value, inclusive: bool, inward: Ordering) {
    let tighter = match bound {
        None => true,
        Some((v, inc)) => match compare(value, v) {
            Some(Ordering::Equal) => *inc && !inclusive,
            Some(o) => o == inward,
            None => false,
        },
    };
    if tighter {
        *bound = Some((value.clone(), inclusive));
    }
}

impl Constraint {
    fn raise_low(&mut self, value: &Value, inclusive: bool) {
        tighten(&mut self.low, value, inclusive, Ordering::Greater);
    }

    fn lower_high(&mut self, value: &Value, inclusive: bool) {
        tighten(&mut self.high, value, inclusive, Ordering::Less);
    }

    /// Adds a literal (an atom, possibly negated). Negated value comparisons are used only in
    /// the forms whose complement is again one comparison, given that the operand is answered.
    fn add(&mut self, atom: &Expr, positive: bool) {
        let texts = |values: &[Value]| -> HashSet<String> {
            values
                .iter()
                .filter_map(|v| match v {
                    Value::Text(t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        };
        match (atom, positive) {
            (Expr::Answered { answered, .. }, p) => {
                if *answered == p {
                    self.answered = true;
                } else {
                    self.unanswered = true;
                }
            }
            (Expr::Compare { op, value, .. }, true) => {
                self.answered = true;
                self.compare(*op, value);
            }
            (Expr::Compare { op, value, .. }, false) => {
                // NOT (x op v) is "unanswered, or x (complement op) v".
                let complement = match op {
                    CompareOp::Eq => CompareOp::Ne,
                    CompareOp::Ne => CompareOp::Eq,
                    CompareOp::Lt => CompareOp::Ge,
                    CompareOp::Le => CompareOp::Gt,
                    CompareOp::Gt => CompareOp::Le,
                    CompareOp::Ge => CompareOp::Lt,
                };
                self.negated.push((complement, value.clone()));
            }
            (Expr::Between { low, high, .. }, true) => {
                self.answered = true;
                self.raise_low(low, true);
                self.lower_high(high, true);
            }
            (Expr::Contains { op, values, .. }, true) => {
                self.answered = true;
                match op {
                    SetOp::ContainsAll => self.all_of.extend(texts(values)),
                    SetOp::ContainsNone => self.none_of.extend(texts(values)),
                    SetOp::ContainsAny => self.any_of.push(texts(values)),
                }
            }
            (Expr::Contains { op, values, .. }, false) => match op {
                // NOT CONTAINS ANY (…) holds when unanswered or none is chosen.
                SetOp::ContainsAny => self.negated_none.extend(texts(values)),
                SetOp::ContainsNone => self.negated_any.push(texts(values)),
                SetOp::ContainsAll => {}
            },
            _ => {}
        }
    }

    fn compare(&mut self, op: CompareOp, value: &Value) {
        match op {
            CompareOp::Eq => self.equal.push(value.clone()),
            CompareOp::Ne => self.not_equal.push(value.clone()),
            CompareOp::Lt => self.lower_high(value, false),
            CompareOp::Le => self.lower_high(value, true),
            CompareOp::Gt => self.raise_low(value, false),
            CompareOp::Ge => self.raise_low(value, true),
        }
    }

    /// Whether no answer of `subject` satisfies every literal added.
    fn impossible(mut self, subject: &Subject) -> bool {
        if self.answered {
            for (op, value) in std::mem::take(&mut self.negated) {
                self.compare(op, &value);
            }
            self.none_of.extend(std::mem::take(&mut self.negated_none));
            self.any_of.append(&mut self.negated_any);
        }
        if self.answered && self.unanswered {
            return true;
        }
        if !self.answered {
            return false;
        }
        // Bounds of the scale itself.
        match subject {
            Subject::Number { min, max, .. } => {
                if let Some(m) = min {
                    self.raise_low(&Value::Number(*m), true);
                }
                if let Some(m) = max {
                    self.lower_high(&Value::Number(*m), true);
                }
            }
            Subject::Date { min, max } => {
                if let Some(m) = min {
                    self.raise_low(&Value::Date(*m), true);
                }
                if let Some(m) = max {
                    self.lower_high(&Value::Date(*m), true);
                }
            }
            _ => {}
        }
        // On an integer scale, open bounds close on the next whole number.
        if let Subject::Number { integer: true, .. } = subject {
            if let Some((Value::Number(n), inc)) = &self.low {
                let n = if *inc { n.ceil() } else { n.floor() + 1.0 };
                self.low = Some((Value::Number(n), true));
            }
            if let Some((Value::Number(n), inc)) = &self.high {
                let n = if *inc { n.floor() } else { n.ceil() - 1.0 };
                self.high = Some((Value::Number(n), true));
            }
        }
        if let (Some((low, li)), Some((high, hi))) = (&self.low, &self.high) {
            match compare(low, high) {
                Some(Ordering::Greater) => return true,
                Some(Ordering::Equal) if !(*li && *hi) => return true,
                _ => {}
            }
        }
        let within = |v: &Value| {
            self.low.as_ref().is_none_or(|(l, inc)| match compare(v, l) {
                Some(Ordering::Greater) => true,
                Some(Ordering::Equal) => *inc,
                Some(Ordering::Less) => false,
                None => true,
            }) && self.high.as_ref().is_none_or(|(h, inc)| match compare(v, h) {
                Some(Ordering::Less) => true,
                Some(Ordering::Equal) => *inc,
                Some(Ordering::Greater) => false,
                None => true,
            })
        };
        if let Some(first) = self.equal.first() {
            if self.equal.iter().any(|v| compare(v, first) != Some(Ordering::Equal)) {
                return true;
            }
            if !within(first)
                || self
                    .not_equal
                    .iter()
                    .any(|v| compare(v, first) == Some(Ordering::Equal))
            {
                return true;
            }
            if let Value::Text(t) = first
                && matches!(subject, Subject::Choice { .. } | Subject::Text)
            {
                self.exactly.push(t.clone());
            }
        }
        let single = matches!(subject, Subject::Text | Subject::Choice { single: true, .. });
        if matches!(subject, Subject::Choice { .. } | Subject::Text) {
            // `= v` on a choice means exactly v is chosen.
            if let Some(only) = self.exactly.first() {
                if self.all_of.iter().any(|v| v != only) || self.none_of.contains(only) {
                    return true;
                }
                if self.any_of.iter().any(|set| !set.contains(only)) {
                    return true;
                }
            }
            if single && self.all_of.len() > 1 {
                return true;
            }
        }
        if self.all_of.iter().any(|v| self.none_of.contains(v)) {
            return true;
        }
        if self
            .any_of
            .iter()
            .any(|set| set.iter().all(|v| self.none_of.contains(v)))
        {
            return true;
        }
        false
    }
}

/// Three-valued truth: what is known of a condition before any respondent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

fn is_atom(e: &Expr) -> bool {
    !matches!(e, Expr::And(_) | Expr::Or(_) | Expr::Not(_))
}

fn subject_operand(atom: &Expr) -> Option<&Operand> {
    match atom {
        Expr::Compare { subject, .. }
        | Expr::Between { subject, .. }
        | Expr::Contains { subject, .. }
        | Expr::Answered { subject, .. } => Some(subject),
        _ => None,
    }
}

/// The literals among `children` (atoms and negated atoms), each with the polarity it has in
/// the combination when the parent is read `negated`.
fn literals(children: &[Expr], negated: bool) -> Vec<(&Expr, bool)> {
    children
        .iter()
        .filter_map(|c| match c {
            Expr::Not(inner) if is_atom(inner) => Some((&**inner, negated)),
            c if is_atom(c) => Some((c, !negated)),
            _ => None,
        })
        .collect()
}

/// The nodes of a condition in pre-order: the numbering of paths and of the API's node list.
pub fn preorder(expr: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        out.push(e);
        match e {
            Expr::And(children) | Expr::Or(children) => stack.extend(children.iter().rev()),
            Expr::Not(inner) => stack.push(inner),
            _ => {}
        }
    }
    out
}

impl Context<'_> {
    /// Whether a literal's values and operator fit its operand (otherwise it is left out of
    /// the reasoning: its own problem is reported).
    fn well_typed(&self, atom: &Expr) -> Option<Subject> {
        let subject = self.subject(subject_operand(atom)?).ok()?;
        let mut problems = Vec::new();
        check_atom(self, atom, "", &mut problems);
        let only_ranges = problems.iter().all(|p| {
            matches!(
                p.code,
                ProblemCode::ConditionOutOfRange | ProblemCode::ConditionReversedBetween
            )
        });
        only_ranges.then_some(subject)
    }

    /// Whether no respondent can satisfy all `literals` at once.
    fn impossible(&self, literals: &[(&Expr, bool)]) -> bool {
        let mut groups: Vec<(&Operand, Subject, Constraint)> = Vec::new();
        for (atom, positive) in literals {
            let Some(operand) = subject_operand(atom) else {
                continue;
            };
            let Some(subject) = self.well_typed(atom) else {
                continue;
            };
            let at = match groups.iter().position(|(o, _, _)| *o == operand) {
                Some(at) => at,
                None => {
                    groups.push((operand, subject, Constraint::default()));
                    groups.len() - 1
                }
            };
            groups[at].2.add(atom, *positive);
        }
        groups.into_iter().any(|(_, subject, c)| c.impossible(&subject))
    }

    fn atom_truth(&self, atom: &Expr) -> Tri {
        let Some(operand) = subject_operand(atom) else {
            return Tri::Unknown;
        };
        if let Operand::Answer(key) = operand
            && self.never.contains(key)
        {
            return match atom {
                Expr::Answered { answered, .. } => {
                    if *answered {
                        Tri::False
                    } else {
                        Tri::True
                    }
                }
                _ => Tri::False,
            };
        }
        if !matches!(atom, Expr::Answered { .. }) && self.impossible(&[(atom, true)]) {
            return Tri::False;
        }
        Tri::Unknown
    }

    /// What is known of `e` (of `NOT e` when `negated`).
    fn truth(&self, e: &Expr, negated: bool) -> Tri {
        match e {
            Expr::Not(inner) => self.truth(inner, !negated),
            Expr::And(children) | Expr::Or(children) => {
                let conjunction = matches!(e, Expr::And(_)) != negated;
                let parts: Vec<Tri> = children.iter().map(|c| self.truth(c, negated)).collect();
                let lits = literals(children, negated);
                if conjunction {
                    if parts.contains(&Tri::False) || self.impossible(&lits) {
                        Tri::False
                    } else if parts.iter().all(|p| *p == Tri::True) {
                        Tri::True
                    } else {
                        Tri::Unknown
                    }
                } else {
                    let flipped: Vec<(&Expr, bool)> = lits.iter().map(|(a, p)| (*a, !p)).collect();
                    if parts.contains(&Tri::True) || self.impossible(&flipped) {
                        Tri::True
                    } else if parts.iter().all(|p| *p == Tri::False) {
                        Tri::False
                    } else {
                        Tri::Unknown
                    }
                }
            }
            atom => {
                let t = self.atom_truth(atom);
                if negated { t.not() } else { t }
            }
        }
    }

    /// Whether the question an `answer(key)` reads comes before `place` on every path.
    fn is_earlier(&self, key: &str, place: Place) -> bool {
        let Some((s, q, _)) = self.questions.get(key) else {
            return true;
        };
        match place {
            Place::Question(cs, cq) => (*s, *q) < (cs, cq),
            Place::SectionShow(cs) => *s < cs,
            Place::SectionAfter(cs) => *s <= cs,
        }
    }

    /// The problems of one condition.
    fn check_condition(&self, expr: &Expr, base: &str, place: Place, problems: &mut Vec<Problem>) {
        for (i, node) in preorder(expr).into_iter().enumerate() {
            let path = format!("{base}.nodes[{i}]");
            match node {
                Expr::And(children) => {
                    if self.impossible(&literals(children, false)) {
                        problems.push(Problem::new(
                            path,
                            ProblemCode::ConditionContradiction,
                            format!("`{node}` never holds: its parts contradict each other"),
                        ));
                    }
                }
                Expr::Or(_) | Expr::Not(_) => {}
                atom => {
                    let before = problems.len();
                    check_atom(self, atom, &path, problems);
                    if let Some(Operand::Answer(key)) = subject_operand(atom)
                        && self.questions.contains_key(key.as_str())
                        && !self.is_earlier(key, place)
                    {
                        problems.push(Problem::new(
                            &path,
                            ProblemCode::ConditionLaterQuestion,
                            format!("`{key}` comes later on every path: its answer is not known here"),
                        ));
                    }
                    if problems.len() == before
                        && !matches!(atom, Expr::Answered { .. })
                        && self.impossible(&[(atom, true)])
                    {
                        problems.push(Problem::new(
                            path,
                            ProblemCode::ConditionContradiction,
                            format!("`{atom}` never holds"),
                        ));
                    }
                }
            }
        }
    }
}

/// The problems of a report filter over responses to `def`: operands the form (or the
/// catalogue) does not have, types, options, ranges, contradictions; paths are `base.nodes[i]`.
/// Unlike a form's conditions, a filter may read `response(field)` and any question, wherever
/// it sits.
pub fn check_filter(def: &FormDef, attributes: &HashMap<String, Scalar>, expr: &Expr, base: &str) -> Vec<Problem> {
    let mut cx = Context::new(def, attributes);
    cx.filter = true;
    let mut problems = Vec::new();
    for (i, node) in preorder(expr).into_iter().enumerate() {
        let path = format!("{base}.nodes[{i}]");
        match node {
            Expr::And(children) => {
                if cx.impossible(&literals(children, false)) {
                    problems.push(Problem::new(
                        path,
                        ProblemCode::ConditionContradiction,
                        format!("`{node}` never holds: its parts contradict each other"),
                    ));
                }
            }
            Expr::Or(_) | Expr::Not(_) => {}
            atom => {
                let before = problems.len();
                check_atom(&cx, atom, &path, &mut problems);
                if problems.len() == before && !matches!(atom, Expr::Answered { .. }) && cx.impossible(&[(atom, true)])
                {
                    problems.push(Problem::new(
                        path,
                        ProblemCode::ConditionContradiction,
                        format!("`{atom}` never holds"),
                    ));
                }
            }
        }
    }
    problems
}

/// Every static problem of `def`'s conditions, given the organization's attribute catalogue
/// (name → type).
pub fn check(def: &FormDef, attributes: &HashMap<String, Scalar>) -> Vec<Problem> {
    let mut cx = Context::new(def, attributes);
    let mut problems = Vec::new();
    let index_of: HashMap<uuid::Uuid, usize> = def.sections.iter().enumerate().map(|(i, s)| (s.uid, i)).collect();

    for (s, section) in def.sections.iter().enumerate() {
        let here = format!("sections[{s}]");
        if let Some(c) = &section.show_if {
            cx.check_condition(c, &format!("{here}.showIf"), Place::SectionShow(s), &mut problems);
        }
        for (q, question) in section.questions.iter().enumerate() {
            let place = Place::Question(s, q);
            if let Some(c) = &question.show_if {
                cx.check_condition(c, &format!("{here}.questions[{q}].showIf"), place, &mut problems);
            }
            if let Some(c) = &question.require_if {
                cx.check_condition(c, &format!("{here}.questions[{q}].requireIf"), place, &mut problems);
            }
        }
        let after = Place::SectionAfter(s);
        if let Some(c) = &section.disqualify_if {
            cx.check_condition(c, &format!("{here}.disqualifyIf"), after, &mut problems);
        }
        if let Some(c) = &section.end_if {
            cx.check_condition(c, &format!("{here}.endIf"), after, &mut problems);
        }
        for (k, skip) in section.skips.iter().enumerate() {
            cx.check_condition(&skip.when, &format!("{here}.skips[{k}].when"), after, &mut problems);
            match index_of.get(&skip.to) {
                None => problems.push(Problem::new(
                    format!("{here}.skips[{k}].to"),
                    ProblemCode::SkipTargetUnknown,
                    "the target section is not in this version (was it deleted?)",
                )),
                Some(&t) if t <= s => problems.push(Problem::new(
                    format!("{here}.skips[{k}].to"),
                    ProblemCode::SkipLoop,
                    "a skip must go forward: going back to this or an earlier section would loop",
                )),
                Some(_) => {}
            }
        }
    }

    // Which sections and questions some path shows, in order: skips only go forward, so
    // everything before a section is settled when it is reached.
    let n = def.sections.len();
    let mut reached = vec![false; n + 1];
    if n > 0 {
        reached[0] = true;
    }
    for (s, section) in def.sections.iter().enumerate() {
        let shown = reached[s]
            && section
                .show_if
                .as_ref()
                .is_none_or(|c| cx.truth(c, false) != Tri::False);
        if !shown {
            problems.push(Problem::new(
                format!("sections[{s}]"),
                ProblemCode::UnreachableSection,
                "no path shows this section",
            ));
            cx.never.extend(section.questions.iter().map(|q| q.key.clone()));
            if reached[s] {
                reached[s + 1] = true;
            }
            continue;
        }
        if section
            .show_if
            .as_ref()
            .is_some_and(|c| cx.truth(c, false) != Tri::True)
        {
            reached[s + 1] = true;
        }
        for (q, question) in section.questions.iter().enumerate() {
            if question
                .show_if
                .as_ref()
                .is_some_and(|c| cx.truth(c, false) == Tri::False)
            {
                problems.push(Problem::new(
                    format!("sections[{s}].questions[{q}]"),
                    ProblemCode::UnreachableQuestion,
                    "no path shows this question",
                ));
                cx.never.insert(question.key.clone());
            }
        }
        // The rules that can apply, in order; `None` ends the form (disqualify or end).
        let mut rules: Vec<(&Expr, Option<usize>)> = Vec::new();
        rules.extend(section.disqualify_if.iter().map(|c| (c, None)));
        rules.extend(section.end_if.iter().map(|c| (c, None)));
        rules.extend(section.skips.iter().filter_map(|k| {
            let target = index_of.get(&k.to).copied().filter(|t| *t > s)?;
            Some((&k.when, Some(target)))
        }));
        let mut blocked = false;
        for (when, target) in &rules {
            let t = cx.truth(when, false);
            if let Some(target) = target
                && t != Tri::False
            {
                reached[*target] = true;
            }
            if t == Tri::True {
                blocked = true;
                break;
            }
        }
        if !blocked && !rules.is_empty() {
            let any = Expr::Or(rules.iter().map(|(c, _)| (*c).clone()).collect());
            blocked = cx.truth(&any, false) == Tri::True;
        }
        if !blocked {
            reached[s + 1] = true;
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        form::{
            model::{OptionDef, SectionDef, Skip, Text},
            rules::{ChoiceRules, DateRules, TextRules},
        },
        logic::expr::parse,
    };

    fn question(key: &str, rules: Rules, options: &[&str]) -> QuestionDef {
        QuestionDef {
            uid: uuid::Uuid::now_v7(),
            key: key.into(),
            required: false,
            metric: None,
            title: Text::new(),
            description: Text::new(),
            rules,
            options: options
                .iter()
                .map(|v| OptionDef {
                    value: v.to_string(),
                    label: Text::new(),
                    score: None,
                })
                .collect(),
            show_if: None,
            require_if: None,
        }
    }

    /// Section 0 holds one question of each type; sections 1 and 2 one question each.
    fn form() -> FormDef {
        let mut def = FormDef::new(vec!["en".into()], Text::new());
        let date = DateRules {
            min: chrono::NaiveDate::from_ymd_opt(2020, 1, 1),
            max: None,
        };
        let first = vec![
            question("service", Rules::Csat, &[]),
            question(
                "plan",
                Rules::SingleChoice(ChoiceRules::default()),
                &["basic", "pro", "team"],
            ),
            question(
                "features",
                Rules::MultipleChoice(ChoiceRules::default()),
                &["speed", "price", "support"],
            ),
            question("nps", Rules::Nps, &[]),
            question("comment", Rules::ShortText(TextRules::default()), &[]),
            question("agree", Rules::YesNo, &[]),
            question("bought_on", Rules::Date(date), &[]),
            question("order_id", Rules::Hidden, &[]),
        ];
        def.sections = [
            first,
            vec![question("later", Rules::Nps, &[])],
            vec![question("last", Rules::Nps, &[])],
        ]
        .into_iter()
        .map(|questions| {
            let mut s = SectionDef::new(Text::new(), Text::new());
            s.questions = questions;
            s
        })
        .collect();
        def
    }

    fn attributes() -> HashMap<String, Scalar> {
        [
            ("plan_name", Scalar::Text),
            ("ltv", Scalar::Number),
            ("churned", Scalar::Bool),
            ("since", Scalar::Date),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// The codes found when `text` is the show-if of the question of section 1.
    fn codes(text: &str) -> Vec<ProblemCode> {
        let mut def = form();
        def.sections[1].questions[0].show_if = Some(parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}")));
        check(&def, &attributes()).into_iter().map(|p| p.code).collect()
    }

    #[test]
    fn each_check_has_a_clean_and_a_failing_case() {
        let cases: &[(&str, &[ProblemCode])] = &[
            // Operands.
            ("answer(service) <= 3", &[]),
            ("answer(nope) <= 3", &[ProblemCode::ConditionUnknownQuestion]),
            ("answer(order_id) = \"x\"", &[ProblemCode::ConditionUnknownQuestion]),
            ("hidden(order_id) = \"A-1\"", &[]),
            ("hidden(comment) = \"x\"", &[ProblemCode::ConditionUnknownHiddenField]),
            ("attribute(ltv) > 1000", &[]),
            ("attribute(tier) = \"gold\"", &[ProblemCode::ConditionUnknownAttribute]),
            // Types.
            ("answer(service) = \"3\"", &[ProblemCode::ConditionTypeMismatch]),
            ("answer(comment) > 3", &[ProblemCode::ConditionTypeMismatch]),
            ("answer(comment) = \"late\"", &[]),
            ("answer(bought_on) = true", &[ProblemCode::ConditionTypeMismatch]),
            ("answer(bought_on) >= date(2024-01-01)", &[]),
            ("answer(agree) = true", &[]),
            ("answer(agree) = 1", &[ProblemCode::ConditionTypeMismatch]),
            ("attribute(churned) = \"yes\"", &[ProblemCode::ConditionTypeMismatch]),
            ("attribute(since) < date(2024-01-01)", &[]),
            ("attribute(since) < 2024", &[ProblemCode::ConditionTypeMismatch]),
            ("answer(plan) < \"pro\"", &[ProblemCode::ConditionTypeMismatch]),
            (
                "answer(nps) CONTAINS ANY (\"9\")",
                &[ProblemCode::ConditionTypeMismatch],
            ),
            // Options and ranges.
            ("answer(plan) = \"pro\"", &[]),
            ("answer(plan) = \"gold\"", &[ProblemCode::ConditionUnknownOption]),
            (
                "answer(features) CONTAINS ANY (\"speed\", \"fast\")",
                &[ProblemCode::ConditionUnknownOption],
            ),
            ("answer(nps) = 11", &[ProblemCode::ConditionOutOfRange]),
            ("answer(nps) > 10", &[ProblemCode::ConditionContradiction]),
            ("answer(nps) >= 10", &[]),
            ("answer(nps) = 7.5", &[ProblemCode::ConditionOutOfRange]),
            ("answer(service) BETWEEN (0, 3)", &[ProblemCode::ConditionOutOfRange]),
            (
                "answer(bought_on) < date(2019-12-31)",
                &[ProblemCode::ConditionOutOfRange],
            ),
            // Contradictions.
            ("answer(nps) BETWEEN (9, 6)", &[ProblemCode::ConditionReversedBetween]),
            ("answer(nps) BETWEEN (6, 9)", &[]),
            (
                "answer(nps) < 3 AND answer(nps) > 5",
                &[ProblemCode::ConditionContradiction],
            ),
            ("answer(nps) < 5 AND answer(nps) > 3", &[]),
            (
                "answer(nps) > 3 AND answer(nps) < 4",
                &[ProblemCode::ConditionContradiction],
            ),
            ("attribute(ltv) > 3 AND attribute(ltv) < 4", &[]),
            (
                "answer(plan) = \"pro\" AND answer(plan) = \"team\"",
                &[ProblemCode::ConditionContradiction],
            ),
            ("answer(plan) = \"pro\" OR answer(plan) = \"team\"", &[]),
            (
                "answer(comment) = \"a\" AND answer(comment) = \"b\"",
                &[ProblemCode::ConditionContradiction],
            ),
            (
                "answer(plan) CONTAINS ALL (\"pro\", \"team\")",
                &[ProblemCode::ConditionContradiction],
            ),
            ("answer(features) CONTAINS ALL (\"speed\", \"price\")", &[]),
            (
                "answer(features) CONTAINS ALL (\"speed\") AND answer(features) CONTAINS NONE (\"speed\")",
                &[ProblemCode::ConditionContradiction],
            ),
            (
                "answer(nps) IS ANSWERED AND answer(nps) IS NOT ANSWERED",
                &[ProblemCode::ConditionContradiction],
            ),
            (
                "answer(nps) = 9 AND NOT answer(nps) = 9",
                &[ProblemCode::ConditionContradiction],
            ),
            (
                "answer(nps) >= 9 AND NOT answer(nps) IS ANSWERED",
                &[ProblemCode::ConditionContradiction],
            ),
            (
                "NOT answer(nps) >= 9 AND answer(nps) = 10",
                &[ProblemCode::ConditionContradiction],
            ),
            ("NOT answer(nps) >= 9 AND answer(nps) = 5", &[]),
            // Order on the path.
            ("answer(later) > 5", &[ProblemCode::ConditionLaterQuestion]),
            ("answer(last) > 5", &[ProblemCode::ConditionLaterQuestion]),
        ];
        let mut wrong = Vec::new();
        for (text, expected) in cases {
            let mut found = codes(text);
            // A question whose show-if never holds is also unreachable: the case is about the
            // condition's own code.
            found.retain(|c| *c != ProblemCode::UnreachableQuestion);
            if &found != expected {
                wrong.push(format!("{text}: {found:?}, expected {expected:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn problems_name_the_node() {
        let mut def = form();
        def.sections[1].questions[0].show_if =
            Some(parse("answer(service) <= 3 OR (answer(nps) > 3 AND answer(plan) = \"gold\")").unwrap());
        let problems = check(&def, &attributes());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].path, "sections[1].questions[0].showIf.nodes[4]");
        assert_eq!(problems[0].code, ProblemCode::ConditionUnknownOption);
    }

    #[test]
    fn a_question_may_read_only_earlier_questions() {
        let mut def = form();
        // Same section, after it: later. Same section, before it: fine.
        def.sections[0].questions[0].show_if = Some(parse("answer(plan) = \"pro\"").unwrap());
        def.sections[0].questions[3].require_if = Some(parse("answer(plan) = \"pro\"").unwrap());
        // A section's show-if may not read its own questions; its after-rules may.
        def.sections[1].show_if = Some(parse("answer(later) > 5").unwrap());
        def.sections[1].end_if = Some(parse("answer(later) > 5").unwrap());
        let found: Vec<_> = check(&def, &attributes())
            .into_iter()
            .map(|p| (p.path, p.code))
            .filter(|(_, c)| *c == ProblemCode::ConditionLaterQuestion)
            .collect();
        assert_eq!(
            found,
            [
                (
                    "sections[0].questions[0].showIf.nodes[0]".to_string(),
                    ProblemCode::ConditionLaterQuestion
                ),
                (
                    "sections[1].showIf.nodes[0]".to_string(),
                    ProblemCode::ConditionLaterQuestion
                ),
            ]
        );
    }

    #[test]
    fn skips_go_forward_to_known_sections() {
        let mut def = form();
        let (first, third) = (def.sections[0].uid, def.sections[2].uid);
        def.sections[1].skips = vec![
            Skip {
                when: parse("answer(nps) > 5").unwrap(),
                to: third,
            },
            Skip {
                when: parse("answer(nps) > 8").unwrap(),
                to: first,
            },
            Skip {
                when: parse("answer(nps) > 9").unwrap(),
                to: def.sections[1].uid,
            },
            Skip {
                when: parse("answer(nps) > 9").unwrap(),
                to: uuid::Uuid::now_v7(),
            },
        ];
        let found: Vec<_> = check(&def, &attributes())
            .into_iter()
            .map(|p| (p.path, p.code))
            .collect();
        assert_eq!(
            found,
            [
                ("sections[1].skips[1].to".to_string(), ProblemCode::SkipLoop),
                ("sections[1].skips[2].to".to_string(), ProblemCode::SkipLoop),
                ("sections[1].skips[3].to".to_string(), ProblemCode::SkipTargetUnknown),
            ]
        );
    }

    #[test]
    fn unreachable_sections_and_questions() {
        let clean = form();
        assert_eq!(check(&clean, &attributes()), []);

        // Skips that together always leave section 0 past section 1.
        let mut def = form();
        let third = def.sections[2].uid;
        def.sections[0].skips = vec![
            Skip {
                when: parse("answer(nps) IS ANSWERED").unwrap(),
                to: third,
            },
            Skip {
                when: parse("answer(nps) IS NOT ANSWERED").unwrap(),
                to: third,
            },
        ];
        let found: Vec<_> = check(&def, &attributes())
            .into_iter()
            .map(|p| (p.path, p.code))
            .collect();
        assert_eq!(found, [("sections[1]".to_string(), ProblemCode::UnreachableSection)]);

        // An end rule that always holds leaves everything after unreachable.
        let mut def = form();
        def.sections[0].end_if = Some(parse("answer(nps) IS ANSWERED OR NOT answer(nps) IS ANSWERED").unwrap());
        let found: Vec<_> = check(&def, &attributes()).into_iter().map(|p| p.path).collect();
        assert_eq!(found, ["sections[1]", "sections[2]"]);

        // A question that depends on an unreachable one is unreachable too.
        let mut def = form();
        def.sections[0].questions[1].show_if = Some(parse("answer(service) > 2 AND answer(service) < 3").unwrap());
        def.sections[1].questions[0].show_if = Some(parse("answer(plan) = \"pro\"").unwrap());
        // And a section whose show-if reads only never-answered questions.
        def.sections[2].show_if = Some(parse("answer(later) IS ANSWERED").unwrap());
        let found: Vec<_> = check(&def, &attributes())
            .into_iter()
            .map(|p| (p.path, p.code))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "sections[0].questions[1].showIf.nodes[0]".to_string(),
                    ProblemCode::ConditionContradiction
                ),
                ("sections[0].questions[1]".to_string(), ProblemCode::UnreachableQuestion),
                ("sections[1].questions[0]".to_string(), ProblemCode::UnreachableQuestion),
                ("sections[2]".to_string(), ProblemCode::UnreachableSection),
            ]
        );
    }
}
