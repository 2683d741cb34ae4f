//! Conditions in the API: written as `@oneOf` trees or as canonical text, read back as a flat
//! list of nodes (a selection cannot descend an unbounded tree) with the canonical text.
use crate::codes::ProblemCode;
use std::sync::Arc;

use async_graphql::{Enum, InputObject, Object, OneofObject, SimpleObject};
use chrono::NaiveDate;

use crate::{
    form::Problem,
    logic::expr::{self, CompareOp, Expr, Operand, ResponseField, SetOp, Value},
};

/// Stable code of a condition that cannot be read (syntax, size).
pub const INVALID_CONDITION: ProblemCode = ProblemCode::InvalidCondition;

/// A condition: its canonical text, or a tree of groups and comparisons. At most 200 nodes,
/// 32 levels deep, 10,000 characters of text.
#[derive(OneofObject)]
pub enum ConditionInput {
    /// The canonical text, e.g. `answer(service) <= 3 AND attribute(plan) = "pro"`.
    /// Operands: `answer(key)`, `attribute(name)`, `hidden(key)`, and in report filters
    /// `response(channel|locale|status|completed_on|duration|total_score)`. Values: numbers, "texts"
    /// (with \" \\ \n \t \r escapes), `true`, `false`, `date(YYYY-MM-DD)`. Operators:
    /// `=` `!=` `<` `<=` `>` `>=`, `BETWEEN (low, high)`, `CONTAINS ANY|ALL|NONE (v, …)`,
    /// `IS [NOT] ANSWERED`; NOT, AND, OR (in that precedence) and parentheses.
    Text(String),
    /// Every one of these holds.
    All(Vec<ConditionInput>),
    /// At least one of these holds.
    Any(Vec<ConditionInput>),
    /// This does not hold.
    Not(Box<ConditionInput>),
    /// An equality or order comparison with a constant.
    Compare(CompareInput),
    /// Low ≤ value ≤ high.
    Between(BetweenInput),
    /// Chosen options (or a text) compared with a list of values.
    Contains(ContainsInput),
    /// Whether there is an answer (attribute, hidden field) at all.
    Answered(AnsweredInput),
}

/// What a comparison reads.
#[derive(OneofObject)]
pub enum OperandInput {
    /// The answer to the question with this key.
    Answer(String),
    /// The respondent attribute with this name (from the attribute catalogue).
    Attribute(String),
    /// The hidden field (a HIDDEN question) with this key.
    Hidden(String),
    /// A field of the response itself: report filters only.
    Response(ResponseField),
}

/// A constant.
#[derive(OneofObject, Clone)]
pub enum ValueInput {
    /// A number (scores, ratings, numbers, number attributes).
    Number(f64),
    /// A text or an option value.
    Text(String),
    /// Yes / no answers and boolean attributes.
    Bool(bool),
    /// A calendar date.
    Date(NaiveDate),
}

/// `subject op value`.
#[derive(InputObject)]
pub struct CompareInput {
    /// What is compared.
    pub subject: OperandInput,
    /// How.
    pub op: CompareOp,
    /// With what.
    pub value: ValueInput,
}

/// `subject BETWEEN (low, high)`, bounds included.
#[derive(InputObject)]
pub struct BetweenInput {
    /// What is compared.
    pub subject: OperandInput,
    /// Lowest value that holds.
    pub low: ValueInput,
    /// Highest value that holds.
    pub high: ValueInput,
}

/// `subject CONTAINS ANY|ALL|NONE (values)`.
#[derive(InputObject)]
pub struct ContainsInput {
    /// A choice question (or a text).
    pub subject: OperandInput,
    /// Any, all or none of the values.
    pub op: SetOp,
    /// Option values, 1 to 200.
    pub values: Vec<ValueInput>,
}

/// `subject IS ANSWERED` or `subject IS NOT ANSWERED`.
#[derive(InputObject)]
pub struct AnsweredInput {
    /// The question, attribute or hidden field.
    pub subject: OperandInput,
    /// True: holds when answered; false: holds when not answered.
    pub answered: bool,
}

fn operand(input: OperandInput) -> Operand {
    match input {
        OperandInput::Answer(key) => Operand::Answer(key),
        OperandInput::Attribute(name) => Operand::Attribute(name),
        OperandInput::Hidden(key) => Operand::Hidden(key),
        OperandInput::Response(field) => Operand::Response(field),
    }
}

pub fn value(input: ValueInput) -> Value {
    match input {
        ValueInput::Number(n) => Value::Number(n),
        ValueInput::Text(t) => Value::Text(t),
        ValueInput::Bool(b) => Value::Bool(b),
        ValueInput::Date(d) => Value::Date(d),
    }
}

fn tree(input: ConditionInput, path: &str, depth: usize) -> Result<Expr, Problem> {
    if depth > expr::MAX_DEPTH {
        return Err(Problem::new(
            path,
            INVALID_CONDITION,
            format!("nested deeper than {} levels", expr::MAX_DEPTH),
        ));
    }
    let group = |children: Vec<ConditionInput>, key: &str| -> Result<Vec<Expr>, Problem> {
        children
            .into_iter()
            .enumerate()
            .map(|(i, c)| tree(c, &format!("{path}.{key}[{i}]"), depth + 1))
            .collect()
    };
    Ok(match input {
        ConditionInput::Text(text) => expr::parse(&text).map_err(|e| {
            Problem::new(
                format!("{path}.text"),
                INVALID_CONDITION,
                format!("at character {}: {}", e.offset, e.message),
            )
        })?,
        ConditionInput::All(children) => Expr::And(group(children, "all")?),
        ConditionInput::Any(children) => Expr::Or(group(children, "any")?),
        ConditionInput::Not(inner) => Expr::Not(Box::new(tree(*inner, &format!("{path}.not"), depth + 1)?)),
        ConditionInput::Compare(c) => Expr::Compare {
            subject: operand(c.subject),
            op: c.op,
            value: value(c.value),
        },
        ConditionInput::Between(b) => Expr::Between {
            subject: operand(b.subject),
            low: value(b.low),
            high: value(b.high),
        },
        ConditionInput::Contains(c) => Expr::Contains {
            subject: operand(c.subject),
            op: c.op,
            values: c.values.into_iter().map(value).collect(),
        },
        ConditionInput::Answered(a) => Expr::Answered {
            subject: operand(a.subject),
            answered: a.answered,
        },
    })
}

/// The condition an input describes, normalised (nested groups flattened), or why it is not
/// one. Its checks against the form (keys, types, order) are separate: see `check`.
pub fn condition(input: ConditionInput, path: &str) -> Result<Expr, Problem> {
    let expr = read(input, path)?;
    if let Some(Operand::Response(field)) = expr.operands().into_iter().find(|o| matches!(o, Operand::Response(_))) {
        return Err(Problem::new(
            path,
            ProblemCode::ConditionReportOnly,
            format!(
                "response({}) is for report filters: a form's path cannot depend on it",
                field.name()
            ),
        ));
    }
    Ok(expr)
}

/// A report filter an input describes: a condition that may also read `response(field)`.
/// Its checks against the form are separate (`logic::check::check_filter`).
pub fn filter(input: ConditionInput, path: &str) -> Result<Expr, Problem> {
    read(input, path)
}

/// An optional filter argument read, a problem refused as BAD_USER_INPUT naming `path`.
pub fn filter_arg(input: Option<ConditionInput>, path: &str) -> crate::error::AppResult<Option<Expr>> {
    input
        .map(|f| filter(f, path))
        .transpose()
        .map_err(crate::error::AppError::problem)
}

fn read(input: ConditionInput, path: &str) -> Result<Expr, Problem> {
    let expr = tree(input, path, 0)?.normalized();
    expr.check_shape()
        .map_err(|message| Problem::new(path, INVALID_CONDITION, message))?;
    // Names are keys: the text form must be able to spell them.
    for operand in expr.operands() {
        let (Operand::Answer(name) | Operand::Attribute(name) | Operand::Hidden(name)) = operand else {
            continue;
        };
        if !crate::form::key::is_valid(name) {
            return Err(Problem::new(
                path,
                INVALID_CONDITION,
                format!("`{name}` is not a key: lower-case letters, digits and _, starting with a letter"),
            ));
        }
    }
    Ok(expr)
}

/// Operators of the node list.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum ConditionOperator {
    /// Every child holds.
    And,
    /// At least one child holds.
    Or,
    /// The only child does not hold.
    Not,
    /// `=`
    Equals,
    /// `!=`
    NotEquals,
    /// `<`
    LessThan,
    /// `<=`
    AtMost,
    /// `>`
    GreaterThan,
    /// `>=`
    AtLeast,
    /// Between the two values, bounds included.
    Between,
    /// At least one of the values is chosen.
    ContainsAny,
    /// Every value is chosen.
    ContainsAll,
    /// None of the values is chosen.
    ContainsNone,
    /// There is an answer.
    IsAnswered,
    /// There is no answer.
    IsNotAnswered,
}

/// What an operand reads.
#[derive(Enum, Copy, Clone, PartialEq, Eq)]
pub enum OperandKind {
    /// The answer to a question (by key).
    Answer,
    /// A respondent attribute (by name).
    Attribute,
    /// A hidden field (by key).
    Hidden,
    /// A field of the response (report filters): channel, locale, status, completed_on,
    /// duration, total_score.
    Response,
}

/// An operand of a comparison.
#[derive(SimpleObject)]
pub struct ConditionOperand {
    /// Answer, attribute or hidden field.
    pub kind: OperandKind,
    /// The question key, attribute name or hidden field key.
    pub name: String,
}

/// A constant; exactly one field is set.
#[derive(SimpleObject)]
pub struct ConditionValue {
    /// A number.
    pub number: Option<f64>,
    /// A text or option value.
    pub text: Option<String>,
    /// True or false.
    pub bool: Option<bool>,
    /// A date.
    pub date: Option<NaiveDate>,
}

/// One node of a condition.
#[derive(SimpleObject)]
pub struct ConditionNode {
    /// Index in the node list; the root is 0, then each child's subtree in order (the
    /// numbering of `nodes[i]` in problem paths).
    pub id: i32,
    /// The operator.
    pub op: ConditionOperator,
    /// The children's ids (AND, OR: two or more; NOT: one; comparisons: none).
    pub children: Vec<i32>,
    /// What a comparison reads; null for AND, OR and NOT.
    pub operand: Option<ConditionOperand>,
    /// The comparison's constants in order (BETWEEN: low, high); empty for groups and
    /// IS [NOT] ANSWERED.
    pub values: Vec<ConditionValue>,
}

fn value_out(v: &Value) -> ConditionValue {
    let mut out = ConditionValue {
        number: None,
        text: None,
        bool: None,
        date: None,
    };
    match v {
        Value::Number(n) => out.number = Some(*n),
        Value::Text(t) => out.text = Some(t.clone()),
        Value::Bool(b) => out.bool = Some(*b),
        Value::Date(d) => out.date = Some(*d),
    }
    out
}

fn flatten(e: &Expr, nodes: &mut Vec<ConditionNode>) -> i32 {
    let id = nodes.len() as i32;
    let operand_out = |o: &Operand| {
        let (kind, name) = match o {
            Operand::Answer(n) => (OperandKind::Answer, n.clone()),
            Operand::Attribute(n) => (OperandKind::Attribute, n.clone()),
            Operand::Hidden(n) => (OperandKind::Hidden, n.clone()),
            Operand::Response(f) => (OperandKind::Response, f.name().to_owned()),
        };
        Some(ConditionOperand { kind, name })
    };
    let (op, operand, values): (ConditionOperator, Option<ConditionOperand>, Vec<ConditionValue>) = match e {
        Expr::And(_) => (ConditionOperator::And, None, Vec::new()),
        Expr::Or(_) => (ConditionOperator::Or, None, Vec::new()),
        Expr::Not(_) => (ConditionOperator::Not, None, Vec::new()),
        Expr::Compare { subject, op, value } => (
            match op {
                CompareOp::Eq => ConditionOperator::Equals,
                CompareOp::Ne => ConditionOperator::NotEquals,
                CompareOp::Lt => ConditionOperator::LessThan,
                CompareOp::Le => ConditionOperator::AtMost,
                CompareOp::Gt => ConditionOperator::GreaterThan,
                CompareOp::Ge => ConditionOperator::AtLeast,
            },
            operand_out(subject),
            vec![value_out(value)],
        ),
        Expr::Between { subject, low, high } => (
            ConditionOperator::Between,
            operand_out(subject),
            vec![value_out(low), value_out(high)],
        ),
        Expr::Contains { subject, op, values } => (
            match op {
                SetOp::ContainsAny => ConditionOperator::ContainsAny,
                SetOp::ContainsAll => ConditionOperator::ContainsAll,
                SetOp::ContainsNone => ConditionOperator::ContainsNone,
            },
            operand_out(subject),
            values.iter().map(value_out).collect(),
        ),
        Expr::Answered { subject, answered } => (
            if *answered {
                ConditionOperator::IsAnswered
            } else {
                ConditionOperator::IsNotAnswered
            },
            operand_out(subject),
            Vec::new(),
        ),
    };
    nodes.push(ConditionNode {
        id,
        op,
        children: Vec::new(),
        operand,
        values,
    });
    let children: Vec<i32> = match e {
        Expr::And(cs) | Expr::Or(cs) => cs.iter().map(|c| flatten(c, nodes)).collect(),
        Expr::Not(inner) => vec![flatten(inner, nodes)],
        _ => Vec::new(),
    };
    nodes[id as usize].children = children;
    id
}

/// A condition: its canonical text and its tree as a flat node list.
#[derive(Clone)]
pub struct Condition(pub Arc<Expr>);

impl Condition {
    pub fn of(expr: &Option<Expr>) -> Option<Condition> {
        expr.as_ref().map(Condition::new)
    }

    pub fn new(expr: &Expr) -> Condition {
        Condition(Arc::new(expr.clone()))
    }
}

/// A condition on answers, respondent attributes and hidden fields.
#[Object]
impl Condition {
    /// The canonical text, e.g. `answer(service) <= 3 AND attribute(plan) = "pro"`; it parses
    /// back to the same condition (and is accepted as `ConditionInput.text`).
    async fn text(&self) -> String {
        self.0.to_string()
    }
    /// The tree as a list: the root first, then each child's subtree in order.
    async fn nodes(&self) -> Vec<ConditionNode> {
        let mut nodes = Vec::with_capacity(self.0.node_count());
        flatten(&self.0, &mut nodes);
        nodes
    }
}

/// A question's conditions, replaced together.
#[derive(InputObject)]
pub struct SetQuestionLogicInput {
    /// The question's ID.
    pub question_id: async_graphql::ID,
    /// Shown only when this holds; absent or null: always shown.
    pub show_if: Option<ConditionInput>,
    /// Required (when shown) also when this holds; absent or null: only if `required`.
    pub require_if: Option<ConditionInput>,
}

/// A skip rule: after the section, go to `to` when `when` holds.
#[derive(InputObject)]
pub struct SkipInput {
    /// The condition.
    pub when: ConditionInput,
    /// The ID of a later section of the form.
    pub to: async_graphql::ID,
}

/// A section's rules, replaced together.
#[derive(InputObject)]
pub struct SetSectionLogicInput {
    /// The section's ID.
    pub section_id: async_graphql::ID,
    /// Shown only when this holds; absent or null: always shown. A section passed over skips
    /// its rules too.
    pub show_if: Option<ConditionInput>,
    /// After the section, the first of these that holds decides the next section (at most 50).
    pub skips: Option<Vec<SkipInput>>,
    /// After the section, the form ends (completed) when this holds; wins over skips.
    pub end_if: Option<ConditionInput>,
    /// After the section, the respondent is disqualified when this holds; wins over the end
    /// rule and skips. Disqualified responses enter no metric.
    pub disqualify_if: Option<ConditionInput>,
}

/// An optional condition input as a condition, collecting its problem.
pub fn opt_condition(input: Option<ConditionInput>, path: &str, problems: &mut Vec<Problem>) -> Option<Expr> {
    match input.map(|c| condition(c, path)) {
        Some(Ok(expr)) => Some(expr),
        Some(Err(problem)) => {
            problems.push(problem);
            None
        }
        None => None,
    }
}
