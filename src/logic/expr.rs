//! The condition language: an expression tree over answers, respondent attributes and hidden
//! fields, and its canonical text form, which parses back to the same tree.
//!
//! ```text
//! answer(service) <= 3 AND attribute(plan) = "pro"
//! NOT (answer(reason) IS ANSWERED OR hidden(channel) = "sms")
//! answer(features) CONTAINS ANY ("speed", "price") AND answer(age) BETWEEN (18, 65)
//! attribute(customer_since) < date(2024-01-01)
//! response(channel) = "IN_APP" AND response(completed_on) >= date(2026-01-01)
//! ```
//!
//! `response(field)` operands read the response itself (channel, locale, status, completion
//! day…): report filters use them; forms' own conditions cannot (a respondent's path does not
//! depend on them).
//!
//! Precedence: NOT binds tighter than AND, AND tighter than OR. Keywords are upper case.
use std::fmt::{self, Write};

use chrono::NaiveDate;

/// Longest condition text, and deepest nesting, the parser accepts.
pub const MAX_TEXT_LEN: usize = 10_000;
pub const MAX_DEPTH: usize = 32;
/// Most nodes (groups and comparisons) in one condition.
pub const MAX_NODES: usize = 200;
/// Most values in one `CONTAINS` list.
pub const MAX_LIST: usize = 200;

/// What a comparison looks at.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// The answer to the question with this key.
    Answer(String),
    /// The respondent attribute with this name (from the catalogue).
    Attribute(String),
    /// The hidden field (a HIDDEN question) with this key.
    Hidden(String),
    /// A field of the response itself (report filters only).
    Response(ResponseField),
}

/// What a `response(field)` operand reads.
#[derive(
    Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, async_graphql::Enum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResponseField {
    /// How the response reached us (`LINK`, `EMAIL`, `SMS`, `WEB_EMBED`, `POPUP`, `IN_APP`,
    /// `API`, `PHONE`, `IN_PERSON`).
    Channel,
    /// The language the form was shown in (e.g. `fa`, `en`).
    Locale,
    /// `IN_PROGRESS`, `COMPLETED` or `DISQUALIFIED`.
    Status,
    /// The local day (organization's time zone) it was completed or disqualified on.
    CompletedOn,
    /// Seconds from start to completion.
    Duration,
    /// The sum of its answers' scores.
    TotalScore,
}

impl ResponseField {
    pub const ALL: [ResponseField; 6] = [
        ResponseField::Channel,
        ResponseField::Locale,
        ResponseField::Status,
        ResponseField::CompletedOn,
        ResponseField::Duration,
        ResponseField::TotalScore,
    ];

    /// Its name in the text form: `response(name)`.
    pub fn name(self) -> &'static str {
        match self {
            ResponseField::Channel => "channel",
            ResponseField::Locale => "locale",
            ResponseField::Status => "status",
            ResponseField::CompletedOn => "completed_on",
            ResponseField::Duration => "duration",
            ResponseField::TotalScore => "total_score",
        }
    }

    pub fn parse(name: &str) -> Option<ResponseField> {
        ResponseField::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A constant.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
}

/// Equality and order operators.
// The names are those of the API and of form documents.
#[derive(Copy, Clone, Debug, PartialEq, Eq, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
#[graphql(name = "CompareOperator")]
pub enum CompareOp {
    /// `=`; on a choice, exactly this option is chosen.
    #[graphql(name = "EQUALS")]
    #[serde(rename = "EQUALS")]
    Eq,
    /// `!=` (an unanswered question is neither equal nor different).
    #[graphql(name = "NOT_EQUALS")]
    #[serde(rename = "NOT_EQUALS")]
    Ne,
    /// `<`
    #[graphql(name = "LESS_THAN")]
    #[serde(rename = "LESS_THAN")]
    Lt,
    /// `<=`
    #[graphql(name = "AT_MOST")]
    #[serde(rename = "AT_MOST")]
    Le,
    /// `>`
    #[graphql(name = "GREATER_THAN")]
    #[serde(rename = "GREATER_THAN")]
    Gt,
    /// `>=`
    #[graphql(name = "AT_LEAST")]
    #[serde(rename = "AT_LEAST")]
    Ge,
}

/// Set operators.
// The names are those of the API and of form documents.
#[derive(Copy, Clone, Debug, PartialEq, Eq, async_graphql::Enum, serde::Serialize, serde::Deserialize)]
#[graphql(name = "ContainsOperator")]
pub enum SetOp {
    /// At least one of the values is chosen.
    #[graphql(name = "ANY")]
    #[serde(rename = "ANY")]
    ContainsAny,
    /// Every value is chosen.
    #[graphql(name = "ALL")]
    #[serde(rename = "ALL")]
    ContainsAll,
    /// None of the values is chosen (the question must be answered).
    #[graphql(name = "NONE")]
    #[serde(rename = "NONE")]
    ContainsNone,
}

/// A condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        subject: Operand,
        op: CompareOp,
        value: Value,
    },
    Between {
        subject: Operand,
        low: Value,
        high: Value,
    },
    Contains {
        subject: Operand,
        op: SetOp,
        values: Vec<Value>,
    },
    /// `IS ANSWERED` (true) or `IS NOT ANSWERED` (false).
    Answered {
        subject: Operand,
        answered: bool,
    },
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

impl SetOp {
    pub fn keyword(self) -> &'static str {
        match self {
            SetOp::ContainsAny => "ANY",
            SetOp::ContainsAll => "ALL",
            SetOp::ContainsNone => "NONE",
        }
    }
}

impl Expr {
    /// The same condition with nested ANDs inside ANDs (ORs inside ORs) flattened and
    /// single-child groups unwrapped: the shape the parser produces.
    pub fn normalized(self) -> Expr {
        fn flatten(children: Vec<Expr>, and: bool) -> Vec<Expr> {
            let mut out = Vec::with_capacity(children.len());
            for child in children.into_iter().map(Expr::normalized) {
                match child {
                    Expr::And(inner) if and => out.extend(inner),
                    Expr::Or(inner) if !and => out.extend(inner),
                    other => out.push(other),
                }
            }
            out
        }
        match self {
            Expr::And(children) => {
                let mut children = flatten(children, true);
                if children.len() == 1 {
                    children.remove(0)
                } else {
                    Expr::And(children)
                }
            }
            Expr::Or(children) => {
                let mut children = flatten(children, false);
                if children.len() == 1 {
                    children.remove(0)
                } else {
                    Expr::Or(children)
                }
            }
            Expr::Not(inner) => Expr::Not(Box::new(inner.normalized())),
            other => other,
        }
    }

    /// Every operand the condition reads, in order of appearance.
    pub fn operands(&self) -> Vec<&Operand> {
        let mut out = Vec::new();
        self.visit(&mut |e| match e {
            Expr::Compare { subject, .. }
            | Expr::Between { subject, .. }
            | Expr::Contains { subject, .. }
            | Expr::Answered { subject, .. } => out.push(subject),
            _ => {}
        });
        out
    }

    /// How many nodes the tree has.
    pub fn node_count(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |_| n += 1);
        n
    }

    /// How deep the tree is (a single comparison is 1).
    pub fn depth(&self) -> usize {
        match self {
            Expr::And(children) | Expr::Or(children) => 1 + children.iter().map(Expr::depth).max().unwrap_or(0),
            Expr::Not(inner) => 1 + inner.depth(),
            _ => 1,
        }
    }

    /// Whether the tree is within [`MAX_DEPTH`], [`MAX_NODES`] and [`MAX_LIST`], and every
    /// group has at least one child: why not otherwise.
    pub fn check_shape(&self) -> Result<(), String> {
        if self.depth() > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if self.node_count() > MAX_NODES {
            return Err(format!("more than {MAX_NODES} nodes"));
        }
        let mut problem = None;
        self.visit(&mut |e| match e {
            Expr::And(children) | Expr::Or(children) if children.is_empty() => {
                problem.get_or_insert_with(|| "an AND or OR group needs at least one condition".to_owned());
            }
            Expr::Contains { values, .. } if values.is_empty() || values.len() > MAX_LIST => {
                problem.get_or_insert_with(|| format!("a CONTAINS list holds 1–{MAX_LIST} values"));
            }
            Expr::Compare {
                value: Value::Number(n),
                ..
            } if !n.is_finite() => {
                problem.get_or_insert_with(|| "numbers must be finite".to_owned());
            }
            _ => {}
        });
        problem.map_or(Ok(()), Err)
    }

    /// Renames the question `from` to `to` wherever the condition reads its answer or hidden
    /// field.
    pub fn rename_key(&mut self, from: &str, to: &str) {
        match self {
            Expr::And(children) | Expr::Or(children) => children.iter_mut().for_each(|c| c.rename_key(from, to)),
            Expr::Not(inner) => inner.rename_key(from, to),
            Expr::Compare { subject, .. }
            | Expr::Between { subject, .. }
            | Expr::Contains { subject, .. }
            | Expr::Answered { subject, .. } => {
                if let Operand::Answer(key) | Operand::Hidden(key) = subject
                    && key == from
                {
                    *key = to.to_owned();
                }
            }
        }
    }

    fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::And(children) | Expr::Or(children) => children.iter().for_each(|c| c.visit(f)),
            Expr::Not(inner) => inner.visit(f),
            _ => {}
        }
    }
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::Answer(key) => write!(f, "answer({key})"),
            Operand::Attribute(name) => write!(f, "attribute({name})"),
            Operand::Hidden(key) => write!(f, "hidden({key})"),
            Operand::Response(field) => write!(f, "response({})", field.name()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => write!(f, "{}", *n as i64),
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Date(d) => write!(f, "date({})", d.format("%Y-%m-%d")),
            Value::Text(text) => {
                f.write_char('"')?;
                for c in text.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\t' => f.write_str("\\t")?,
                        '\r' => f.write_str("\\r")?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
        }
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, values: &[Value]) -> fmt::Result {
    f.write_char('(')?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    f.write_char(')')
}

/// The canonical text.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn group(f: &mut fmt::Formatter<'_>, e: &Expr, wrap: bool) -> fmt::Result {
            if wrap { write!(f, "({e})") } else { write!(f, "{e}") }
        }
        match self {
            Expr::And(children) => {
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" AND ")?;
                    }
                    group(f, c, matches!(c, Expr::Or(_) | Expr::And(_)))?;
                }
                Ok(())
            }
            Expr::Or(children) => {
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" OR ")?;
                    }
                    group(f, c, matches!(c, Expr::Or(_)))?;
                }
                Ok(())
            }
            Expr::Not(inner) => {
                f.write_str("NOT ")?;
                group(f, inner, matches!(**inner, Expr::And(_) | Expr::Or(_)))
            }
            Expr::Compare { subject, op, value } => write!(f, "{subject} {} {value}", op.symbol()),
            Expr::Between { subject, low, high } => write!(f, "{subject} BETWEEN ({low}, {high})"),
            Expr::Contains { subject, op, values } => {
                write!(f, "{subject} CONTAINS {} ", op.keyword())?;
                write_list(f, values)
            }
            Expr::Answered { subject, answered } => {
                write!(f, "{subject} IS {}ANSWERED", if *answered { "" } else { "NOT " })
            }
        }
    }
}

/// Stored and exchanged as its canonical text.
impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Expr {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(|e| serde::de::Error::custom(format!("condition at {}: {}", e.offset, e.message)))
    }
}

/// Why a text is not a condition, and where (a character offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Number(f64),
    Text(String),
    Symbol(&'static str),
}

fn lex(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |offset: usize, message: &str| ParseError {
        offset,
        message: message.to_owned(),
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push((start, Token::Word(chars[start..i].iter().collect())));
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | 'e' | 'E' | '-' | '+')) {
                // A sign only right after an exponent marker; a '-' elsewhere ends a number
                // unless it is part of a date (handled by the parser through `date(...)`).
                if matches!(chars[i], '-' | '+') && !matches!(chars[i - 1], 'e' | 'E') {
                    break;
                }
                i += 1;
            }
            let literal: String = chars[start..i].iter().collect();
            let number = literal
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| err(start, &format!("`{literal}` is not a number")))?;
            tokens.push((start, Token::Number(number)));
        } else if c == '"' {
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(err(start, "unterminated string")),
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        let escaped = match chars.get(i + 1) {
                            Some('"') => '"',
                            Some('\\') => '\\',
                            Some('n') => '\n',
                            Some('t') => '\t',
                            Some('r') => '\r',
                            _ => return Err(err(i, "unknown escape: use \\\" \\\\ \\n \\t or \\r")),
                        };
                        value.push(escaped);
                        i += 2;
                    }
                    Some(&ch) => {
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            tokens.push((start, Token::Text(value)));
        } else {
            let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let symbol = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "!=" => Some("!="),
                _ => None,
            };
            if let Some(symbol) = symbol {
                tokens.push((start, Token::Symbol(symbol)));
                i += 2;
                continue;
            }
            let symbol = match c {
                '(' => "(",
                ')' => ")",
                ',' => ",",
                '=' => "=",
                '<' => "<",
                '>' => ">",
                _ => return Err(err(start, &format!("unexpected `{c}`"))),
            };
            tokens.push((start, Token::Symbol(symbol)));
            i += 1;
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
}

impl Parser {
    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(o, _)| *o)
    }

    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            offset: self.offset(),
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Word(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: &str) -> Result<(), ParseError> {
        if self.symbol(symbol) {
            Ok(())
        } else {
            self.fail(format!("expected `{symbol}`"))
        }
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut children = vec![self.and(depth)?];
        while self.keyword("OR") {
            children.push(self.and(depth)?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Expr::Or(children)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let mut children = vec![self.not(depth)?];
        while self.keyword("AND") {
            children.push(self.not(depth)?);
        }
        Ok(if children.len() == 1 {
            children.remove(0)
        } else {
            Expr::And(children)
        })
    }

    fn not(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return self.fail(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        if self.keyword("NOT") {
            return Ok(Expr::Not(Box::new(self.not(depth + 1)?)));
        }
        if self.symbol("(") {
            let inner = self.or(depth + 1)?;
            self.expect(")")?;
            return Ok(inner);
        }
        self.comparison()
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let kind = match self.peek() {
            Some(Token::Word(w)) if ["answer", "attribute", "hidden", "response"].contains(&w.as_str()) => w.clone(),
            _ => return self.fail("expected answer(key), attribute(name), hidden(key) or response(field)"),
        };
        self.at += 1;
        self.expect("(")?;
        let name = match self.peek() {
            Some(Token::Word(w)) => w.clone(),
            _ => return self.fail("expected a key or attribute name"),
        };
        self.at += 1;
        self.expect(")")?;
        Ok(match kind.as_str() {
            "response" => match ResponseField::parse(&name) {
                Some(field) => Operand::Response(field),
                None => {
                    self.at -= 2;
                    let fields: Vec<&str> = ResponseField::ALL.iter().map(|f| f.name()).collect();
                    return self.fail(format!("a response has no field `{name}`: {}", fields.join(", ")));
                }
            },
            "answer" => Operand::Answer(name),
            "attribute" => Operand::Attribute(name),
            _ => Operand::Hidden(name),
        })
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        let value = match self.peek().cloned() {
            Some(Token::Number(n)) => Value::Number(n),
            Some(Token::Text(t)) => Value::Text(t),
            Some(Token::Word(w)) if w == "true" => Value::Bool(true),
            Some(Token::Word(w)) if w == "false" => Value::Bool(false),
            Some(Token::Word(w)) if w == "date" => {
                self.at += 1;
                self.expect("(")?;
                let start = self.offset();
                // `2024-01-01` lexes as 2024, -1, -1.
                let mut parts = Vec::new();
                while let Some(Token::Number(n)) = self.peek() {
                    parts.push(*n);
                    self.at += 1;
                }
                let date = match parts.as_slice() {
                    [y, m, d] if *m < 0.0 && *d < 0.0 => NaiveDate::from_ymd_opt(*y as i32, (-*m) as u32, (-*d) as u32)
                        .filter(|_| y.fract() == 0.0 && m.fract() == 0.0 && d.fract() == 0.0),
                    _ => None,
                };
                let Some(date) = date else {
                    return Err(ParseError {
                        offset: start,
                        message: "expected a date as date(YYYY-MM-DD)".to_owned(),
                    });
                };
                self.expect(")")?;
                return Ok(Value::Date(date));
            }
            _ => return self.fail("expected a value: a number, a \"text\", true, false or date(YYYY-MM-DD)"),
        };
        self.at += 1;
        Ok(value)
    }

    fn list(&mut self) -> Result<Vec<Value>, ParseError> {
        self.expect("(")?;
        let mut values = vec![self.value()?];
        while self.symbol(",") {
            values.push(self.value()?);
        }
        self.expect(")")?;
        Ok(values)
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let subject = self.operand()?;
        if self.keyword("IS") {
            let answered = !self.keyword("NOT");
            if !self.keyword("ANSWERED") {
                return self.fail("expected ANSWERED");
            }
            return Ok(Expr::Answered { subject, answered });
        }
        if self.keyword("BETWEEN") {
            self.expect("(")?;
            let low = self.value()?;
            self.expect(",")?;
            let high = self.value()?;
            self.expect(")")?;
            return Ok(Expr::Between { subject, low, high });
        }
        if self.keyword("CONTAINS") {
            let op = if self.keyword("ANY") {
                SetOp::ContainsAny
            } else if self.keyword("ALL") {
                SetOp::ContainsAll
            } else if self.keyword("NONE") {
                SetOp::ContainsNone
            } else {
                return self.fail("expected ANY, ALL or NONE");
            };
            let values = self.list()?;
            return Ok(Expr::Contains { subject, op, values });
        }
        let op = match self.peek() {
            Some(Token::Symbol("=")) => CompareOp::Eq,
            Some(Token::Symbol("!=")) => CompareOp::Ne,
            Some(Token::Symbol("<")) => CompareOp::Lt,
            Some(Token::Symbol("<=")) => CompareOp::Le,
            Some(Token::Symbol(">")) => CompareOp::Gt,
            Some(Token::Symbol(">=")) => CompareOp::Ge,
            _ => {
                return self.fail("expected a comparison: = != < <= > >=, BETWEEN, CONTAINS, IS [NOT] ANSWERED");
            }
        };
        self.at += 1;
        let value = self.value()?;
        Ok(Expr::Compare { subject, op, value })
    }
}

/// Parses a condition's text.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(ParseError {
            offset: 0,
            message: format!("longer than {MAX_TEXT_LEN} bytes"),
        });
    }
    let tokens = lex(text)?;
    let mut parser = Parser {
        end: text.chars().count(),
        tokens,
        at: 0,
    };
    let expr = parser.or(0)?;
    if parser.at < parser.tokens.len() {
        return parser.fail("unexpected text after the condition");
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) {
        let expr = parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert_eq!(expr.to_string(), text, "canonical text");
        assert_eq!(parse(&expr.to_string()).unwrap(), expr);
    }

    #[test]
    fn canonical_texts_parse_back_to_themselves() {
        for text in [
            "answer(service) <= 3",
            "answer(service) <= 3 AND attribute(plan) = \"pro\"",
            "answer(a) = 1 OR answer(b) != 2.5 AND NOT answer(c) IS ANSWERED",
            "(answer(a) = 1 OR answer(b) = 2) AND hidden(channel) = \"sms\"",
            "NOT (answer(a) > -3 AND answer(b) >= 0)",
            "NOT NOT answer(a) IS NOT ANSWERED",
            "answer(features) CONTAINS ANY (\"speed\", \"price\")",
            "answer(features) CONTAINS ALL (\"a\") AND answer(features) CONTAINS NONE (\"b\", \"c\")",
            "answer(age) BETWEEN (18, 65)",
            "attribute(customer_since) < date(2024-01-31)",
            "attribute(churned) = true OR attribute(vip) = false",
            "answer(reason) = \"say \\\"hi\\\" \\\\ نظر\\n\"",
        ] {
            round_trip(text);
        }
    }

    #[test]
    fn precedence_is_not_and_or() {
        let expr = parse("answer(a) = 1 OR answer(b) = 2 AND answer(c) = 3").unwrap();
        let Expr::Or(children) = expr else {
            panic!("OR at the top")
        };
        assert!(matches!(children[1], Expr::And(_)));
        let flattened = parse("answer(a) = 1 AND (answer(b) = 2 AND answer(c) = 3)").unwrap();
        assert_eq!(
            flattened.clone().normalized().to_string(),
            "answer(a) = 1 AND answer(b) = 2 AND answer(c) = 3"
        );
        assert_eq!(
            parse(&flattened.normalized().to_string()).unwrap(),
            parse("answer(a) = 1 AND answer(b) = 2 AND answer(c) = 3").unwrap()
        );
    }

    #[test]
    fn bad_texts_say_where() {
        for (text, offset) in [
            ("answer(a) =", 11),
            ("answer(a) == 1", 11),
            ("answer(a) = 1 AND", 17),
            ("answr(a) = 1", 0),
            ("answer(a) = \"open", 12),
            ("answer(a) = 1)", 13),
            ("answer(a) < date(2024-02-30)", 17),
            ("answer(a) CONTAINS SOME (1)", 19),
            ("answer(a) = 1 # comment", 14),
        ] {
            let err = parse(text).unwrap_err();
            assert_eq!(err.offset, offset, "{text}: {err:?}");
        }
        let deep = format!("{}answer(a) = 1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).unwrap_err().message.contains("deeper"));
        let not_deep = format!("{}answer(a) = 1", "NOT ".repeat(100));
        assert!(parse(&not_deep).is_err());
        assert!(parse(&"x".repeat(MAX_TEXT_LEN + 1)).is_err());
    }

    /// Random texts from the language's own pieces: parsing never panics, and whatever parses
    /// prints to a canonical text that parses back to the same tree.
    #[test]
    fn random_texts_never_panic_and_round_trip() {
        const PIECES: &[&str] = &[
            "answer(a)",
            "attribute(plan)",
            "hidden(h)",
            " = ",
            " != ",
            " < ",
            " <= ",
            " > ",
            " >= ",
            " AND ",
            " OR ",
            "NOT ",
            "(",
            ")",
            ", ",
            "1",
            "-2.5",
            "1e3",
            "\"x\"",
            "\"\\\"\"",
            "true",
            "false",
            "date(2024-01-31)",
            " BETWEEN ",
            " CONTAINS ",
            "ANY ",
            "ALL ",
            "NONE ",
            " IS ",
            "NOT ",
            "ANSWERED",
            "date(",
            "-",
            "\"",
            "é",
            "\u{200c}",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut parsed = 0;
        for _ in 0..20_000 {
            let len = 1 + next() % 12;
            let text: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            if let Ok(expr) = parse(&text) {
                parsed += 1;
                let canonical = expr.to_string();
                assert_eq!(parse(&canonical).as_ref(), Ok(&expr), "{text} -> {canonical}");
            }
        }
        assert!(parsed > 0, "no random text parsed: the generator is too weak");

        // Random trees: the canonical text parses back to the (normalised) tree.
        fn value(next: &mut impl FnMut() -> u64) -> Value {
            match next() % 5 {
                0 => Value::Number([0.0, 1.0, -3.0, 2.5, 1e20, -0.125][(next() % 6) as usize]),
                1 => Value::Text(["", "pro", "a \"b\" \\ c", "نظر\u{200c}ها", "\n"][(next() % 5) as usize].to_owned()),
                2 => Value::Bool(next().is_multiple_of(2)),
                _ => Value::Date(
                    NaiveDate::from_ymd_opt(
                        2000 + (next() % 40) as i32,
                        1 + (next() % 12) as u32,
                        1 + (next() % 28) as u32,
                    )
                    .unwrap(),
                ),
            }
        }
        fn tree(next: &mut impl FnMut() -> u64, depth: u32) -> Expr {
            let subject = match next() % 3 {
                0 => Operand::Answer("nps".into()),
                1 => Operand::Attribute("plan".into()),
                _ => Operand::Hidden("order_id".into()),
            };
            let leaf = depth == 0 || next().is_multiple_of(3);
            match (leaf, next() % 4) {
                (true, 0) => Expr::Compare {
                    subject,
                    op: [
                        CompareOp::Eq,
                        CompareOp::Ne,
                        CompareOp::Lt,
                        CompareOp::Le,
                        CompareOp::Gt,
                        CompareOp::Ge,
                    ][(next() % 6) as usize],
                    value: value(next),
                },
                (true, 1) => Expr::Between {
                    subject,
                    low: value(next),
                    high: value(next),
                },
                (true, 2) => Expr::Contains {
                    subject,
                    op: [SetOp::ContainsAny, SetOp::ContainsAll, SetOp::ContainsNone][(next() % 3) as usize],
                    values: (0..1 + next() % 3).map(|_| value(next)).collect(),
                },
                (true, _) => Expr::Answered {
                    subject,
                    answered: next().is_multiple_of(2),
                },
                (false, 0) => Expr::Not(Box::new(tree(next, depth - 1))),
                (false, 1) => Expr::Or((0..2 + next() % 2).map(|_| tree(next, depth - 1)).collect()),
                (false, _) => Expr::And((0..2 + next() % 2).map(|_| tree(next, depth - 1)).collect()),
            }
        }
        for _ in 0..5_000 {
            let expr = tree(&mut next, 4).normalized();
            let text = expr.to_string();
            assert_eq!(parse(&text), Ok(expr), "{text}");
        }
    }

    #[test]
    fn operands_are_listed() {
        let expr = parse("answer(a) = 1 AND NOT (attribute(plan) = \"x\" OR hidden(h) IS ANSWERED)").unwrap();
        assert_eq!(
            expr.operands(),
            [
                &Operand::Answer("a".into()),
                &Operand::Attribute("plan".into()),
                &Operand::Hidden("h".into())
            ]
        );
    }
}
