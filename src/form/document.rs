//! Form documents: one JSON text holding everything a form version says (sections, questions,
//! kinds and configurations, options with values and scores, conditions as canonical text and
//! as a tree, translations, screens, theme) plus the form's touchpoint and collection settings.
//!
//! [`export`] writes a canonical text (fixed field order, two-space indentation, a final line
//! break), so exporting an imported export gives the same bytes. [`import`] reads a document
//! back into a new form definition and reports every problem at once, each at its JSON path
//! (`$.sections[1].questions[0].kind`) with a stable code. Sections are referred to by the
//! document's own `id`s (export writes `s1`, `s2`…), never by stored identities.
use crate::codes::ProblemCode;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{
    Problem,
    kind::{Metric, QuestionKind},
    model::{self, FormDef, FormSettings, OptionDef, QuestionDef, Screen, SectionDef, Skip, Text, Theme},
    rules::{ChoiceRules, Config, DateRules, NumberRules, RatingRules, Rules, TextRules},
};
use crate::logic::{
    check::Catalogue,
    expr::{self, CompareOp, Expr, Operand, SetOp, Value as Constant},
};

/// The document format this server writes and reads.
pub const FORMAT_VERSION: u64 = 1;
/// Largest document accepted, in bytes of UTF-8.
pub const MAX_DOCUMENT_BYTES: usize = 768 * 1024;
/// Deepest nesting of JSON arrays and objects accepted.
pub const MAX_DOCUMENT_DEPTH: usize = 100;
/// Longest section `id` in a document.
pub const MAX_SECTION_ID_LEN: usize = 64;

/// A form read from a document: a definition with new identities, its touchpoint and settings.
#[derive(Debug, Clone)]
pub struct Imported {
    pub def: FormDef,
    pub touchpoint: Option<String>,
    pub settings: FormSettings,
}

// ---------------------------------------------------------------------------------------------
// The condition tree, as it appears in documents (the same shape as the API's ConditionInput).

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Node {
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    Compare {
        subject: Subject,
        op: CompareOp,
        value: Literal,
    },
    Between {
        subject: Subject,
        low: Literal,
        high: Literal,
    },
    Contains {
        subject: Subject,
        op: SetOp,
        values: Vec<Literal>,
    },
    Answered {
        subject: Subject,
        answered: bool,
    },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Subject {
    Answer(String),
    Attribute(String),
    Hidden(String),
    Response(crate::logic::expr::ResponseField),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
enum Literal {
    Number(#[serde(serialize_with = "plain_number")] f64),
    Text(String),
    Bool(bool),
    Date(NaiveDate),
}

/// Whole numbers without a fraction (`3`, not `3.0`), as in the canonical text.
fn plain_number<S: serde::Serializer>(n: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serializer.serialize_i64(*n as i64)
    } else {
        serializer.serialize_f64(*n)
    }
}

fn plain_score<S: serde::Serializer>(n: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match n {
        Some(n) => plain_number(n, serializer),
        None => serializer.serialize_none(),
    }
}

impl From<&Operand> for Subject {
    fn from(operand: &Operand) -> Self {
        match operand {
            Operand::Answer(k) => Subject::Answer(k.clone()),
            Operand::Attribute(n) => Subject::Attribute(n.clone()),
            Operand::Hidden(k) => Subject::Hidden(k.clone()),
            Operand::Response(f) => Subject::Response(*f),
        }
    }
}

impl From<Subject> for Operand {
    fn from(subject: Subject) -> Self {
        match subject {
            Subject::Answer(k) => Operand::Answer(k),
            Subject::Attribute(n) => Operand::Attribute(n),
            Subject::Hidden(k) => Operand::Hidden(k),
            Subject::Response(f) => Operand::Response(f),
        }
    }
}

impl From<&Constant> for Literal {
    fn from(value: &Constant) -> Self {
        match value {
            Constant::Number(n) => Literal::Number(*n),
            Constant::Text(t) => Literal::Text(t.clone()),
            Constant::Bool(b) => Literal::Bool(*b),
            Constant::Date(d) => Literal::Date(*d),
        }
    }
}

impl From<Literal> for Constant {
    fn from(literal: Literal) -> Self {
        match literal {
            Literal::Number(n) => Constant::Number(n),
            Literal::Text(t) => Constant::Text(t),
            Literal::Bool(b) => Constant::Bool(b),
            Literal::Date(d) => Constant::Date(d),
        }
    }
}

impl From<&Expr> for Node {
    fn from(expr: &Expr) -> Self {
        match expr {
            Expr::And(children) => Node::All(children.iter().map(Node::from).collect()),
            Expr::Or(children) => Node::Any(children.iter().map(Node::from).collect()),
            Expr::Not(inner) => Node::Not(Box::new(Node::from(inner.as_ref()))),
            Expr::Compare { subject, op, value } => Node::Compare {
                subject: subject.into(),
                op: *op,
                value: value.into(),
            },
            Expr::Between { subject, low, high } => Node::Between {
                subject: subject.into(),
                low: low.into(),
                high: high.into(),
            },
            Expr::Contains { subject, op, values } => Node::Contains {
                subject: subject.into(),
                op: *op,
                values: values.iter().map(Literal::from).collect(),
            },
            Expr::Answered { subject, answered } => Node::Answered {
                subject: subject.into(),
                answered: *answered,
            },
        }
    }
}

impl From<Node> for Expr {
    fn from(node: Node) -> Self {
        match node {
            Node::All(children) => Expr::And(children.into_iter().map(Expr::from).collect()),
            Node::Any(children) => Expr::Or(children.into_iter().map(Expr::from).collect()),
            Node::Not(inner) => Expr::Not(Box::new(Expr::from(*inner))),
            Node::Compare { subject, op, value } => Expr::Compare {
                subject: subject.into(),
                op,
                value: value.into(),
            },
            Node::Between { subject, low, high } => Expr::Between {
                subject: subject.into(),
                low: low.into(),
                high: high.into(),
            },
            Node::Contains { subject, op, values } => Expr::Contains {
                subject: subject.into(),
                op,
                values: values.into_iter().map(Constant::from).collect(),
            },
            Node::Answered { subject, answered } => Expr::Answered {
                subject: subject.into(),
                answered,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Export.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentOut<'a> {
    format_version: u64,
    default_locale: &'a str,
    locales: &'a [String],
    title: &'a Text,
    description: &'a Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    touchpoint: Option<&'a str>,
    settings: &'a FormSettings,
    welcome: &'a Screen,
    thank_you: &'a Screen,
    theme: &'a Theme,
    sections: Vec<SectionOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SectionOut<'a> {
    id: String,
    title: &'a Text,
    description: &'a Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    show_if: Option<ConditionOut>,
    questions: Vec<QuestionOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skips: Vec<SkipOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_if: Option<ConditionOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    disqualify_if: Option<ConditionOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QuestionOut<'a> {
    key: &'a str,
    kind: &'static str,
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    metric: Option<Metric>,
    title: &'a Text,
    description: &'a Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    options: Vec<OptionOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    show_if: Option<ConditionOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    require_if: Option<ConditionOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OptionOut<'a> {
    value: &'a str,
    label: &'a Text,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "plain_score")]
    score: Option<f64>,
}

#[derive(Serialize)]
struct ConditionOut {
    text: String,
    tree: Node,
}

#[derive(Serialize)]
struct SkipOut {
    when: ConditionOut,
    to: String,
}

fn condition_out(expr: &Option<Expr>) -> Option<ConditionOut> {
    expr.as_ref().map(|e| ConditionOut {
        text: e.to_string(),
        tree: Node::from(e),
    })
}

fn config_out(rules: &Rules) -> Option<Value> {
    let value = match rules.config()? {
        Config::Text(c) => serde_json::to_value(c),
        Config::Choice(c) => serde_json::to_value(c),
        Config::Rating(c) => serde_json::to_value(c),
        Config::Number(c) => serde_json::to_value(c),
        Config::Date(c) => serde_json::to_value(c),
    };
    value.ok()
}

/// The document of a form version with the form's touchpoint and settings: canonical JSON
/// text ending in a line break.
pub fn export(def: &FormDef, touchpoint: Option<&str>, settings: &FormSettings) -> String {
    let ids: HashMap<Uuid, String> = def
        .sections
        .iter()
        .enumerate()
        .map(|(i, s)| (s.uid, format!("s{}", i + 1)))
        .collect();
    let sections = def
        .sections
        .iter()
        .map(|section| SectionOut {
            id: ids.get(&section.uid).cloned().unwrap_or_default(),
            title: &section.title,
            description: &section.description,
            show_if: condition_out(&section.show_if),
            questions: section
                .questions
                .iter()
                .map(|q| QuestionOut {
                    key: &q.key,
                    kind: q.rules.kind().as_str(),
                    required: q.required,
                    metric: q.metric,
                    title: &q.title,
                    description: &q.description,
                    config: config_out(&q.rules),
                    options: q
                        .options
                        .iter()
                        .map(|o| OptionOut {
                            value: &o.value,
                            label: &o.label,
                            score: o.score,
                        })
                        .collect(),
                    show_if: condition_out(&q.show_if),
                    require_if: condition_out(&q.require_if),
                })
                .collect(),
            // A skip whose target is gone never applies; it is left out rather than exported
            // pointing nowhere.
            skips: section
                .skips
                .iter()
                .filter_map(|skip| {
                    Some(SkipOut {
                        when: condition_out(&Some(skip.when.clone()))?,
                        to: ids.get(&skip.to)?.clone(),
                    })
                })
                .collect(),
            end_if: condition_out(&section.end_if),
            disqualify_if: condition_out(&section.disqualify_if),
        })
        .collect();
    let document = DocumentOut {
        format_version: FORMAT_VERSION,
        default_locale: &def.default_locale,
        locales: &def.locales,
        title: &def.title,
        description: &def.description,
        touchpoint,
        settings,
        welcome: &def.welcome,
        thank_you: &def.thank_you,
        theme: &def.theme,
        sections,
    };
    // Serialising plain data with string keys cannot fail.
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------------------------
// Import.

/// Reads the problems of one document, each at its JSON path.
struct Reader {
    problems: Vec<Problem>,
}

/// An object of the document and its path.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl Obj<'_> {
    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Reader {
    fn push(&mut self, path: impl Into<String>, code: ProblemCode, message: impl Into<String>) {
        self.problems.push(Problem::new(path, code, message));
    }

    /// `value` as an object with only `fields`; other fields are reported.
    fn open<'a>(&mut self, value: &'a Value, path: &str, fields: &[&str]) -> Option<Obj<'a>> {
        let Some(map) = value.as_object() else {
            self.push(
                path,
                ProblemCode::InvalidType,
                format!("must be an object, not {}", type_name(value)),
            );
            return None;
        };
        for key in map.keys() {
            if !fields.contains(&key.as_str()) {
                self.push(
                    format!("{path}.{key}"),
                    ProblemCode::UnknownField,
                    format!("`{key}` is not a field here; the fields are {}", fields.join(", ")),
                );
            }
        }
        Some(Obj {
            map,
            path: path.to_owned(),
        })
    }

    /// An optional field (absent and null are the same).
    fn get<T: DeserializeOwned>(&mut self, obj: &Obj, name: &str) -> Option<T> {
        let value = obj.map.get(name).filter(|v| !v.is_null())?;
        match T::deserialize(value) {
            Ok(t) => Some(t),
            Err(err) => {
                self.push(obj.at(name), ProblemCode::InvalidValue, err.to_string());
                None
            }
        }
    }

    /// A field that must be present.
    fn required<T: DeserializeOwned>(&mut self, obj: &Obj, name: &str) -> Option<T> {
        if obj.map.get(name).is_none_or(Value::is_null) {
            self.push(obj.at(name), ProblemCode::Required, format!("`{name}` is required"));
            return None;
        }
        self.get(obj, name)
    }

    /// The items of an array field with their paths (none when absent).
    fn list<'a>(&mut self, obj: &Obj<'a>, name: &str) -> Vec<(String, &'a Value)> {
        match obj.map.get(name) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{}[{i}]", obj.at(name)), v))
                .collect(),
            Some(other) => {
                self.push(
                    obj.at(name),
                    ProblemCode::InvalidType,
                    format!("must be an array, not {}", type_name(other)),
                );
                Vec::new()
            }
        }
    }

    /// A flat settings object read into `T`, whose every field has a default: unknown fields
    /// and each wrong field are reported at their own paths.
    fn settings<T: DeserializeOwned + Serialize + Default>(
        &mut self,
        value: Option<&Value>,
        path: &str,
        optional: &[&str],
    ) -> T {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return T::default();
        };
        // The fields `T` has are the ones its default writes, and those left out when empty.
        let known: Vec<String> = match serde_json::to_value(T::default()) {
            Ok(Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        let fields: Vec<&str> = known
            .iter()
            .map(String::as_str)
            .chain(optional.iter().copied())
            .collect();
        let Some(obj) = self.open(value, path, &fields) else {
            return T::default();
        };
        let mut accepted = Map::new();
        for (key, field) in obj.map {
            if !fields.contains(&key.as_str()) {
                continue;
            }
            let single = Value::Object(Map::from_iter([(key.clone(), field.clone())]));
            match T::deserialize(&single) {
                Ok(_) => {
                    accepted.insert(key.clone(), field.clone());
                }
                Err(err) => self.push(obj.at(key), ProblemCode::InvalidValue, err.to_string()),
            }
        }
        T::deserialize(&Value::Object(accepted)).unwrap_or_default()
    }

    /// A condition: `{"text": …}`, `{"tree": …}` or both (which must then agree).
    fn condition(&mut self, value: &Value, path: &str) -> Option<Expr> {
        let obj = self.open(value, path, &["text", "tree"])?;
        let text: Option<String> = self.get(&obj, "text");
        let from_text = text.and_then(|text| match expr::parse(&text) {
            Ok(e) => Some(e),
            Err(err) => {
                self.push(
                    obj.at("text"),
                    ProblemCode::InvalidCondition,
                    format!("at character {}: {}", err.offset, err.message),
                );
                None
            }
        });
        let from_tree = obj.map.get("tree").filter(|v| !v.is_null()).and_then(|tree| {
            let node = match Node::deserialize(tree) {
                Ok(node) => node,
                Err(err) => {
                    self.push(obj.at("tree"), ProblemCode::InvalidCondition, err.to_string());
                    return None;
                }
            };
            let expr = Expr::from(node);
            match expr.check_shape() {
                Ok(()) => Some(expr.normalized()),
                Err(why) => {
                    self.push(obj.at("tree"), ProblemCode::InvalidCondition, why);
                    None
                }
            }
        });
        let given = |key| obj.map.get(key).is_some_and(|v| !v.is_null());
        match (from_text, from_tree) {
            (Some(text), Some(tree)) if text != tree => {
                self.push(
                    path,
                    ProblemCode::ConditionMismatch,
                    format!("`text` and `tree` say different things: the tree reads `{tree}`"),
                );
                None
            }
            (Some(expr), _) | (None, Some(expr)) => Some(expr),
            (None, None) => {
                if !given("text") && !given("tree") {
                    self.push(path, ProblemCode::Required, "a condition needs `text` or `tree`");
                }
                None
            }
        }
    }

    fn optional_condition(&mut self, obj: &Obj, name: &str) -> (Option<Expr>, bool) {
        match obj.map.get(name).filter(|v| !v.is_null()) {
            None => (None, true),
            Some(value) => {
                let expr = self.condition(value, &obj.at(name));
                let ok = expr.is_some();
                (expr, ok)
            }
        }
    }

    fn config(&mut self, kind: QuestionKind, value: &Value, path: &str) -> Option<Config> {
        let config = match Rules::default_for(kind) {
            Rules::ShortText(_) | Rules::LongText(_) => {
                Config::Text(self.settings::<TextRules>(Some(value), path, &[]))
            }
            Rules::SingleChoice(_) | Rules::MultipleChoice(_) | Rules::Dropdown(_) | Rules::Likert(_) => {
                Config::Choice(self.settings::<ChoiceRules>(Some(value), path, &[]))
            }
            Rules::Rating(_) => Config::Rating(self.settings::<RatingRules>(Some(value), path, &[])),
            Rules::Number(_) => Config::Number(self.settings::<NumberRules>(Some(value), path, &[])),
            Rules::Date(_) => Config::Date(self.settings::<DateRules>(Some(value), path, &[])),
            _ => {
                self.push(
                    path,
                    ProblemCode::NotApplicable,
                    format!("a {} question takes no configuration", kind.as_str()),
                );
                return None;
            }
        };
        Some(config)
    }

    /// One question; `None` when it cannot be read at all (its problems are recorded).
    fn question(&mut self, value: &Value, path: &str) -> Option<QuestionDef> {
        let obj = self.open(
            value,
            path,
            &[
                "key",
                "kind",
                "required",
                "metric",
                "title",
                "description",
                "config",
                "options",
                "showIf",
                "requireIf",
            ],
        )?;
        let key: Option<String> = self.required(&obj, "key");
        let kind_name: Option<String> = self.required(&obj, "kind");
        let kind = kind_name.and_then(|name| {
            let kind = QuestionKind::parse(&name);
            if kind.is_none() {
                let kinds: Vec<&str> = QuestionKind::ALL.iter().map(|k| k.as_str()).collect();
                self.push(
                    obj.at("kind"),
                    ProblemCode::UnknownKind,
                    format!("`{name}` is not a question kind; the kinds are {}", kinds.join(", ")),
                );
            }
            kind
        });
        let required = self.get(&obj, "required").unwrap_or(false);
        let metric: Option<Metric> = self.get(&obj, "metric");
        let title: Text = self.get(&obj, "title").unwrap_or_default();
        let description: Text = self.get(&obj, "description").unwrap_or_default();
        let mut options = Vec::new();
        let mut options_ok = true;
        for (here, option) in self.list(&obj, "options") {
            let Some(o) = self.open(option, &here, &["value", "label", "score"]) else {
                options_ok = false;
                continue;
            };
            let value: Option<String> = self.required(&o, "value");
            let label: Text = self.get(&o, "label").unwrap_or_default();
            let score: Option<f64> = self.get(&o, "score");
            match value {
                Some(value) => options.push(OptionDef { value, label, score }),
                None => options_ok = false,
            }
        }
        let (show_if, show_ok) = self.optional_condition(&obj, "showIf");
        let (require_if, require_ok) = self.optional_condition(&obj, "requireIf");
        let kind = kind?;
        let config = match obj.map.get("config").filter(|v| !v.is_null()) {
            Some(value) => Some(self.config(kind, value, &obj.at("config"))?),
            None => None,
        };
        let rules = match Rules::from_parts(kind, config, &obj.at("config")) {
            Ok(rules) => rules,
            Err(problem) => {
                self.problems.push(problem);
                return None;
            }
        };
        if !(options_ok && show_ok && require_ok) {
            return None;
        }
        Some(QuestionDef {
            uid: Uuid::now_v7(),
            key: key?,
            required,
            metric,
            title,
            description,
            rules,
            options,
            show_if,
            require_if,
        })
    }
}

/// The deepest nesting of arrays and objects in `text` (strings skipped), found without
/// parsing, so that a deep document is refused before any work is spent on it.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Parses a JSON text within the size and depth limits: the value, or one problem at `$`.
pub fn parse_json(text: &str) -> Result<Value, Problem> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Problem::new(
            "$",
            ProblemCode::DocumentTooLarge,
            format!(
                "the document has {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted",
                text.len()
            ),
        ));
    }
    if nesting_depth(text) > MAX_DOCUMENT_DEPTH {
        return Err(Problem::new(
            "$",
            ProblemCode::DocumentTooDeep,
            format!("arrays and objects are nested deeper than {MAX_DOCUMENT_DEPTH} levels"),
        ));
    }
    serde_json::from_str(text).map_err(|err| {
        Problem::new(
            "$",
            ProblemCode::MalformedJson,
            format!(
                "not JSON: line {}, column {}: {}",
                err.line(),
                err.column(),
                match err.classify() {
                    serde_json::error::Category::Eof => "the text ends early",
                    serde_json::error::Category::Syntax => "syntax error",
                    _ => "unreadable data",
                }
            ),
        )
    })
}

/// Paths of the form checks (`sections[0].title`) as document paths (`$.sections[0].title`).
pub fn at_root(problems: Vec<Problem>) -> Vec<Problem> {
    problems
        .into_iter()
        .map(|p| Problem {
            path: format!("$.{}", p.path),
            ..p
        })
        .collect()
}

/// Reads a document into a new form: every problem at once, or the form. Checks what a saved
/// draft must satisfy ([`model::check_draft`]) and every condition check against `catalogue`
/// (the organization's attributes); what only publishing needs (translations in every locale,
/// no empty section) is left for the draft's `problems`.
pub fn import(text: &str, catalogue: &Catalogue) -> Result<Imported, Vec<Problem>> {
    let value = parse_json(text).map_err(|p| vec![p])?;
    import_value(&value, catalogue)
}

/// [`import`] of an already parsed document.
pub fn import_value(value: &Value, catalogue: &Catalogue) -> Result<Imported, Vec<Problem>> {
    let mut reader = Reader { problems: Vec::new() };
    let Some(obj) = reader.open(
        value,
        "$",
        &[
            "formatVersion",
            "defaultLocale",
            "locales",
            "title",
            "description",
            "touchpoint",
            "settings",
            "welcome",
            "thankYou",
            "theme",
            "sections",
        ],
    ) else {
        return Err(reader.problems);
    };
    match reader.required::<u64>(&obj, "formatVersion") {
        Some(FORMAT_VERSION) | None => {}
        Some(other) => reader.push(
            "$.formatVersion",
            ProblemCode::UnsupportedFormatVersion,
            format!("format version {other} is not supported; this server reads version {FORMAT_VERSION}"),
        ),
    }
    let locales: Vec<String> = reader.required(&obj, "locales").unwrap_or_default();
    let default_locale: String = reader
        .get(&obj, "defaultLocale")
        .or_else(|| locales.first().cloned())
        .unwrap_or_default();
    let title: Text = reader.get(&obj, "title").unwrap_or_default();
    let description: Text = reader.get(&obj, "description").unwrap_or_default();
    let touchpoint: Option<String> = reader.get(&obj, "touchpoint");
    let settings: FormSettings = reader.settings(obj.map.get("settings"), "$.settings", &[]);
    let welcome: Screen = reader.settings(obj.map.get("welcome"), "$.welcome", &[]);
    let thank_you: Screen = reader.settings(obj.map.get("thankYou"), "$.thankYou", &["redirectUrl"]);
    let theme: Theme = reader.settings(obj.map.get("theme"), "$.theme", &[]);
    if obj.map.get("sections").is_none_or(Value::is_null) {
        reader.push("$.sections", ProblemCode::Required, "`sections` is required");
    }
    // Sections first without their skips, whose targets may come later.
    let mut complete = true;
    let mut sections = Vec::new();
    // Where each read section and question stands in the document (some may be left out).
    let mut positions: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut section_ids: HashMap<String, Uuid> = HashMap::new();
    let mut pending_skips: Vec<(usize, String, Expr, String)> = Vec::new();
    for (s_index, (path, value)) in reader.list(&obj, "sections").into_iter().enumerate() {
        let Some(s) = reader.open(
            value,
            &path,
            &[
                "id",
                "title",
                "description",
                "showIf",
                "questions",
                "skips",
                "endIf",
                "disqualifyIf",
            ],
        ) else {
            complete = false;
            continue;
        };
        let mut section = SectionDef::new(
            reader.get(&s, "title").unwrap_or_default(),
            reader.get(&s, "description").unwrap_or_default(),
        );
        if let Some(id) = reader.get::<String>(&s, "id") {
            let valid = !id.is_empty()
                && id.len() <= MAX_SECTION_ID_LEN
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                reader.push(
                    s.at("id"),
                    ProblemCode::InvalidId,
                    format!("a section id is 1–{MAX_SECTION_ID_LEN} of A-Z, a-z, 0-9, _ and -"),
                );
            } else if section_ids.insert(id.clone(), section.uid).is_some() {
                reader.push(
                    s.at("id"),
                    ProblemCode::Duplicate,
                    format!("the section id `{id}` is used twice"),
                );
            }
        }
        let (show_if, a) = reader.optional_condition(&s, "showIf");
        let (end_if, b) = reader.optional_condition(&s, "endIf");
        let (disqualify_if, c) = reader.optional_condition(&s, "disqualifyIf");
        complete &= a && b && c;
        section.show_if = show_if;
        section.end_if = end_if;
        section.disqualify_if = disqualify_if;
        for (here, skip) in reader.list(&s, "skips") {
            let Some(k) = reader.open(skip, &here, &["when", "to"]) else {
                complete = false;
                continue;
            };
            let to: Option<String> = reader.required(&k, "to");
            let when = match k.map.get("when").filter(|v| !v.is_null()) {
                Some(when) => reader.condition(when, &k.at("when")),
                None => {
                    reader.push(k.at("when"), ProblemCode::Required, "`when` is required");
                    None
                }
            };
            match (when, to) {
                (Some(when), Some(to)) => pending_skips.push((sections.len(), k.at("to"), when, to)),
                _ => complete = false,
            }
        }
        let mut read = Vec::new();
        for (q_index, (here, question)) in reader.list(&s, "questions").into_iter().enumerate() {
            match reader.question(question, &here) {
                Some(q) => {
                    section.questions.push(q);
                    read.push(q_index);
                }
                None => complete = false,
            }
        }
        sections.push(section);
        positions.push((s_index, read));
    }
    for (index, path, when, to) in pending_skips {
        match section_ids.get(&to) {
            Some(uid) => sections[index].skips.push(Skip { when, to: *uid }),
            None => {
                complete = false;
                reader.push(
                    path,
                    ProblemCode::SkipTargetUnknown,
                    format!("no section of the document has the id `{to}`"),
                );
            }
        }
    }
    let def = FormDef {
        default_locale,
        locales,
        title,
        description,
        welcome,
        thank_you,
        theme,
        sections,
    };
    let mut problems = reader.problems;
    problems.extend(in_document(model::check_draft(&def), &positions));
    let mut settings_problems = Vec::new();
    model::check_settings(&settings, "$.settings", &mut settings_problems);
    problems.extend(settings_problems);
    // Conditions are checked only over a fully read document: a question left out for its own
    // problem would otherwise show up again as every condition's unknown key.
    if complete {
        problems.extend(at_root(crate::logic::check::check(&def, catalogue)));
    }
    dedup(&mut problems);
    if problems.is_empty() {
        Ok(Imported {
            def,
            touchpoint,
            settings,
        })
    } else {
        Err(problems)
    }
}

/// Paths of the form checks over what was read as document paths: section and question
/// indexes become the document's, which differ once an unreadable element was left out.
fn in_document(problems: Vec<Problem>, positions: &[(usize, Vec<usize>)]) -> Vec<Problem> {
    fn index(rest: &str, prefix: &str) -> Option<(usize, usize)> {
        let digits = rest.strip_prefix(prefix)?;
        let end = digits.find(']')?;
        Some((digits[..end].parse().ok()?, prefix.len() + end + 1))
    }
    at_root(
        problems
            .into_iter()
            .map(|mut p| {
                if let Some((s, used)) = index(&p.path, "sections[")
                    && let Some((doc_s, questions)) = positions.get(s)
                {
                    let rest = &p.path[used..];
                    let rest = match index(rest, ".questions[") {
                        Some((q, used)) => match questions.get(q) {
                            Some(doc_q) => format!(".questions[{doc_q}]{}", &rest[used..]),
                            None => rest.to_owned(),
                        },
                        None => rest.to_owned(),
                    };
                    p.path = format!("sections[{doc_s}]{rest}");
                }
                p
            })
            .collect(),
    )
}

fn dedup(problems: &mut Vec<Problem>) {
    let mut seen = HashSet::new();
    problems.retain(|p| seen.insert((p.path.clone(), p.code)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logic::check::Scalar;

    const SAMPLE: &str = r##"{
      "formatVersion": 1,
      "locales": ["fa", "en"],
      "title": {"fa": "رضایت", "en": "Satisfaction"},
      "touchpoint": "support",
      "settings": {"responseQuota": 500},
      "theme": {"primaryColor": "#123456"},
      "sections": [
        {"id": "service", "title": {"en": "Service"},
         "questions": [
           {"key": "service", "kind": "CSAT", "required": true, "title": {"fa": "خدمات", "en": "Service"}},
           {"key": "why", "kind": "LONG_TEXT", "title": {"fa": "چرا؟", "en": "Why?"},
            "config": {"maxLength": 500},
            "showIf": {"text": "answer(service) <= 3"}},
           {"key": "plan", "kind": "SINGLE_CHOICE", "title": {"en": "Plan"},
            "options": [{"value": "basic", "label": {"en": "Basic"}, "score": 1},
                        {"value": "pro", "label": {"en": "Pro"}, "score": 2.5}],
            "requireIf": {"tree": {"compare": {"subject": {"attribute": "tier"}, "op": "EQUALS", "value": {"text": "gold"}}}}}
         ],
         "skips": [{"when": {"text": "answer(service) = 5"}, "to": "end"}]},
        {"id": "more", "questions": [{"key": "more", "kind": "SHORT_TEXT", "title": {"en": "More"}}]},
        {"id": "end", "questions": [{"key": "email", "kind": "EMAIL", "title": {"en": "Email"}}],
         "disqualifyIf": {"text": "hidden(src) = \"test\"", "tree": {"compare": {"subject": {"hidden": "src"}, "op": "EQUALS", "value": {"text": "test"}}}}}
      ]
    }"##;

    fn catalogue() -> Catalogue {
        Catalogue::from([("tier".to_owned(), Scalar::Text)])
    }

    fn codes(problems: &[Problem]) -> Vec<(ProblemCode, &str)> {
        problems.iter().map(|p| (p.code, p.path.as_str())).collect()
    }

    #[test]
    fn a_document_reads_into_a_form_and_exports_canonically() {
        let sample = SAMPLE.replace(
            r#"{"key": "more""#,
            r#"{"key": "src", "kind": "HIDDEN"}, {"key": "more""#,
        );
        let imported = import(&sample, &catalogue()).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(imported.def.sections.len(), 3);
        assert_eq!(imported.def.sections[0].skips[0].to, imported.def.sections[2].uid);
        assert_eq!(imported.touchpoint.as_deref(), Some("support"));
        assert_eq!(imported.settings.response_quota, Some(500));
        assert_eq!(imported.def.default_locale, "fa");
        let plan = &imported.def.sections[0].questions[2];
        assert_eq!(plan.options[1].score, Some(2.5));
        assert_eq!(
            plan.require_if.as_ref().map(ToString::to_string).as_deref(),
            Some("attribute(tier) = \"gold\"")
        );
        let first = export(&imported.def, imported.touchpoint.as_deref(), &imported.settings);
        assert!(
            first.contains("\"score\": 1\n") && first.contains("\"to\": \"s3\""),
            "{first}"
        );
        let again = import(&first, &catalogue()).unwrap_or_else(|p| panic!("{p:?}"));
        let second = export(&again.def, again.touchpoint.as_deref(), &again.settings);
        assert_eq!(first, second);
        assert_ne!(again.def.sections[0].uid, imported.def.sections[0].uid);
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_path() {
        let bad = SAMPLE
            .replace("\"formatVersion\": 1", "\"formatVersion\": 2")
            .replace("\"kind\": \"CSAT\"", "\"kind\": \"STARS\"")
            .replace("\"maxLength\": 500", "\"maxLength\": \"long\", \"colour\": 1")
            .replace("\"to\": \"end\"", "\"to\": \"nowhere\"")
            .replace("\"value\": \"pro\"", "\"value\": \"basic\"")
            .replace("\"primaryColor\": \"#123456\"", "\"primaryColor\": \"blue\"");
        let problems = import(&bad, &catalogue()).unwrap_err();
        let found = codes(&problems);
        for expected in [
            (ProblemCode::UnsupportedFormatVersion, "$.formatVersion"),
            (ProblemCode::UnknownKind, "$.sections[0].questions[0].kind"),
            (ProblemCode::InvalidValue, "$.sections[0].questions[1].config.maxLength"),
            (ProblemCode::UnknownField, "$.sections[0].questions[1].config.colour"),
            (ProblemCode::SkipTargetUnknown, "$.sections[0].skips[0].to"),
            (ProblemCode::Duplicate, "$.sections[0].questions[2].options[1].value"),
            (ProblemCode::InvalidColor, "$.theme.primaryColor"),
        ] {
            assert!(found.contains(&expected), "{expected:?} not in {found:?}");
        }
    }

    #[test]
    fn conditions_are_checked_like_authoring() {
        let problems = import(SAMPLE, &Catalogue::new()).unwrap_err();
        assert_eq!(
            codes(&problems),
            [
                (
                    ProblemCode::ConditionUnknownAttribute,
                    "$.sections[0].questions[2].requireIf.nodes[0]"
                ),
                (
                    ProblemCode::ConditionUnknownHiddenField,
                    "$.sections[2].disqualifyIf.nodes[0]"
                )
            ]
        );
        let mismatch = SAMPLE.replace("hidden(src) = \\\"test\\\"", "hidden(src) = \\\"live\\\"");
        let problems = import(&mismatch, &catalogue()).unwrap_err();
        assert!(codes(&problems).contains(&(ProblemCode::ConditionMismatch, "$.sections[2].disqualifyIf")));
    }

    #[test]
    fn large_deep_and_malformed_texts_are_refused_before_reading() {
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_DOCUMENT_DEPTH + 1),
            "]".repeat(MAX_DOCUMENT_DEPTH + 1)
        );
        assert_eq!(
            codes(&import(&deep, &Catalogue::new()).unwrap_err()),
            [(ProblemCode::DocumentTooDeep, "$")]
        );
        let string_brackets = format!("{{\"a\": \"{}\"}}", "[".repeat(500));
        assert_eq!(nesting_depth(&string_brackets), 1);
        let large = format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_DOCUMENT_BYTES));
        assert_eq!(
            codes(&import(&large, &Catalogue::new()).unwrap_err()),
            [(ProblemCode::DocumentTooLarge, "$")]
        );
        let problems = import("{\"formatVersion\": 1,", &Catalogue::new()).unwrap_err();
        assert_eq!(codes(&problems), [(ProblemCode::MalformedJson, "$")]);
        assert!(problems[0].message.contains("line 1"));
        assert_eq!(
            codes(&import("[]", &Catalogue::new()).unwrap_err()),
            [(ProblemCode::InvalidType, "$")]
        );
    }
}
