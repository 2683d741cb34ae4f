//! What a document may cost, measured before async-graphql sees it.
//!
//! async-graphql's validation (depth, complexity, recursion, overlapping fields) expands every
//! fragment spread where it stands: a 731-byte document whose nine fragments each spread the
//! previous one ten times expands to 10⁸ selections and holds a thread for minutes, and no
//! limit sees it, because the limits count what the expansion produces. Here each fragment's
//! size is counted once and reused wherever it is spread, so the check costs as much as the
//! document is long, whatever it expands to; a document over a cap is refused before anything
//! expands it. Validation after this check is bounded by the same caps.
//!
//! The same pass counts the selected operation's root fields (what rate limits charge and the
//! write cap counts) and refuses text no database can store (NUL) in any argument, literal or
//! variable, naming the argument's path. Pure: no I/O.
use std::collections::HashMap;

use async_graphql::{
    Name, Positioned, Variables,
    parser::{
        Error as ParseError, parse_query,
        types::{ExecutableDocument, OperationType, Selection, SelectionSet},
    },
};
use async_graphql_value::{ConstValue, Value};

/// The caps a document must stay within.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Longest query text, in bytes.
    pub max_bytes: usize,
    /// Most selections once every fragment spread is replaced by its fragment, counted over the
    /// whole document.
    pub max_selections: usize,
    /// Most fragment definitions.
    pub max_fragments: usize,
    /// Most fragment spreads written in the document.
    pub max_spreads: usize,
    /// Deepest nesting of braces, parentheses and brackets (the parser recurses on each).
    pub max_nesting: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        DocumentLimits {
            max_bytes: 100_000,
            max_selections: 5_000,
            max_fragments: 200,
            max_spreads: 1_000,
            max_nesting: 64,
        }
    }
}

/// Why a document is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not GraphQL; the message quotes at most a short excerpt.
    Syntax(String),
    /// Over a cap: `limit` names it (`queryBytes`, `nesting`, `fragments`, `fragmentSpreads`,
    /// `selections`), `max` is its value.
    TooLarge {
        limit: &'static str,
        max: usize,
        message: String,
    },
    /// An argument holds text that cannot be stored; `field` is its path (`input.email`).
    Input { field: String, message: String },
}

/// A document that passed: parsed, with the shape of the operation it will run.
#[derive(Debug)]
pub struct Checked {
    pub document: ExecutableDocument,
    /// The kind of the operation selected by the request's operation name (query when none
    /// can be selected: validation then refuses the document).
    pub kind: OperationType,
    /// Root fields of that operation that read or write data, spreads included: introspection
    /// (`__typename`, `__schema`, `__type`) excluded.
    pub root_fields: usize,
}

/// Checks `query` against `limits` and returns it parsed.
pub fn check(
    query: &str,
    operation_name: Option<&str>,
    variables: &Variables,
    limits: &DocumentLimits,
) -> Result<Checked, Refusal> {
    if query.len() > limits.max_bytes {
        return Err(too_large(
            "queryBytes",
            limits.max_bytes,
            format!(
                "the query text is longer than {} bytes; send large inputs as variables",
                limits.max_bytes
            ),
        ));
    }
    if nesting(query) > limits.max_nesting {
        return Err(too_large(
            "nesting",
            limits.max_nesting,
            format!(
                "the query nests braces, parentheses or brackets more than {} deep",
                limits.max_nesting
            ),
        ));
    }
    let document = parse_query(query).map_err(|e| Refusal::Syntax(syntax_message(query, &e)))?;
    if document.fragments.len() > limits.max_fragments {
        return Err(too_large(
            "fragments",
            limits.max_fragments,
            format!("the document defines more than {} fragments", limits.max_fragments),
        ));
    }

    // Each definition's own shape, walked once.
    let fragment_index: HashMap<&Name, usize> = document.fragments.keys().enumerate().map(|(i, n)| (n, i)).collect();
    let mut walker = Walker {
        fragments: &fragment_index,
        variables,
        spreads_seen: 0,
    };
    let fragment_shapes: Vec<Shape> = document
        .fragments
        .values()
        .map(|f| walker.shape(&f.node.selection_set))
        .collect::<Result<_, _>>()?;
    let operations: Vec<(Option<&Name>, OperationType, Shape)> = document
        .operations
        .iter()
        .map(|(name, op)| Ok((name, op.node.ty, walker.shape(&op.node.selection_set)?)))
        .collect::<Result<_, Refusal>>()?;
    if walker.spreads_seen > limits.max_spreads {
        return Err(too_large(
            "fragmentSpreads",
            limits.max_spreads,
            format!("the document spreads fragments more than {} times", limits.max_spreads),
        ));
    }

    // Expanded sizes, each fragment's computed once.
    let mut sizes = Sizes::new(&fragment_shapes);
    let mut total = 0usize;
    for i in 0..fragment_shapes.len() {
        total = total.saturating_add(sizes.of(i, Measure::All));
    }
    for (_, _, shape) in &operations {
        total = total.saturating_add(sizes.expand(shape, Measure::All));
    }
    if total > limits.max_selections {
        return Err(too_large(
            "selections",
            limits.max_selections,
            format!(
                "the document expands to more than {} selections (a fragment counts as often as it is spread)",
                limits.max_selections
            ),
        ));
    }

    let selected = match operation_name {
        Some(wanted) => operations
            .iter()
            .find(|(name, _, _)| name.is_some_and(|n| n.as_str() == wanted)),
        None if operations.len() == 1 => operations.first(),
        None => None,
    };
    let (kind, root_fields) = match selected {
        Some((_, kind, shape)) => (*kind, sizes.expand(shape, Measure::Top)),
        None => (OperationType::Query, 0),
    };
    Ok(Checked {
        document,
        kind,
        root_fields,
    })
}

fn too_large(limit: &'static str, max: usize, message: String) -> Refusal {
    Refusal::TooLarge { limit, max, message }
}

/// The deepest nesting of `{`, `(` and `[` outside strings and comments: a linear scan, so the
/// parser (which recurses on each level) never sees a document deeper than the cap.
fn nesting(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// A parse error as a short message: where, what was expected, and at most a few dozen
/// characters of the text there (the parser's own message quotes the whole line, which for a
/// one-line document is the whole document).
fn syntax_message(query: &str, err: &ParseError) -> String {
    const EXCERPT_CHARS: usize = 40;
    match err {
        ParseError::Syntax { message, start, .. } => {
            let expected = message
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("= "))
                .unwrap_or("unexpected input");
            let excerpt: String = query
                .lines()
                .nth(start.line.saturating_sub(1))
                .unwrap_or("")
                .chars()
                .skip(start.column.saturating_sub(1))
                .take(EXCERPT_CHARS)
                .collect();
            let shortened = if excerpt.chars().count() == EXCERPT_CHARS {
                "…"
            } else {
                ""
            };
            format!(
                "syntax error at line {}, column {}: {expected}, near \"{excerpt}{shortened}\"",
                start.line, start.column
            )
        }
        other => other.to_string().chars().take(200).collect(),
    }
}

/// A definition's own selections and the fragments it spreads, not yet expanded.
#[derive(Default)]
struct Shape {
    /// Fields at any depth, spreads not followed.
    fields: usize,
    /// Fields at the top level (inline fragments included), introspection excluded.
    top_fields: usize,
    /// Fragments spread at any depth, by index, as often as written.
    spreads: Vec<usize>,
    /// Fragments spread at the top level.
    top_spreads: Vec<usize>,
}

struct Walker<'a> {
    fragments: &'a HashMap<&'a Name, usize>,
    variables: &'a Variables,
    spreads_seen: usize,
}

impl Walker<'_> {
    fn shape(&mut self, set: &Positioned<SelectionSet>) -> Result<Shape, Refusal> {
        let mut shape = Shape::default();
        self.walk(set, true, &mut shape)?;
        Ok(shape)
    }

    /// Recursion is bounded by the nesting cap checked before parsing.
    fn walk(&mut self, set: &Positioned<SelectionSet>, top: bool, shape: &mut Shape) -> Result<(), Refusal> {
        for selection in &set.node.items {
            match &selection.node {
                Selection::Field(field) => {
                    shape.fields += 1;
                    if top && !field.node.name.node.starts_with("__") {
                        shape.top_fields += 1;
                    }
                    for (name, value) in &field.node.arguments {
                        self.storable(&value.node, name.node.to_string())?;
                    }
                    self.walk(&field.node.selection_set, false, shape)?;
                }
                Selection::InlineFragment(inline) => self.walk(&inline.node.selection_set, top, shape)?,
                Selection::FragmentSpread(spread) => {
                    self.spreads_seen += 1;
                    // An unknown fragment is validation's to report; it expands to nothing here.
                    if let Some(&index) = self.fragments.get(&spread.node.fragment_name.node) {
                        shape.spreads.push(index);
                        if top {
                            shape.top_spreads.push(index);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Refuses NUL in a literal or in the variable the argument reads.
    fn storable(&self, value: &Value, path: String) -> Result<(), Refusal> {
        match value {
            Value::String(text) => nul_free(text, path),
            Value::List(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(i, item)| self.storable(item, format!("{path}[{i}]"))),
            Value::Object(fields) => fields
                .iter()
                .try_for_each(|(name, item)| self.storable(item, format!("{path}.{name}"))),
            Value::Variable(name) => match self.variables.get(name) {
                Some(value) => storable_const(value, path),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// Refuses NUL anywhere in `value`; the path of the first is built only when there is one.
fn storable_const(value: &ConstValue, path: String) -> Result<(), Refusal> {
    if holds_nul(value) {
        named_nul(value, path)
    } else {
        Ok(())
    }
}

fn holds_nul(value: &ConstValue) -> bool {
    match value {
        ConstValue::String(text) => text.contains('\0'),
        ConstValue::List(items) => items.iter().any(holds_nul),
        ConstValue::Object(fields) => fields.values().any(holds_nul),
        _ => false,
    }
}

fn named_nul(value: &ConstValue, path: String) -> Result<(), Refusal> {
    match value {
        ConstValue::String(text) => nul_free(text, path),
        ConstValue::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| named_nul(item, format!("{path}[{i}]"))),
        ConstValue::Object(fields) => fields
            .iter()
            .try_for_each(|(name, item)| named_nul(item, format!("{path}.{name}"))),
        _ => Ok(()),
    }
}

fn nul_free(text: &str, field: String) -> Result<(), Refusal> {
    if text.contains('\0') {
        return Err(Refusal::Input {
            message: format!("{field}: text must not contain the NUL character (U+0000)"),
            field,
        });
    }
    Ok(())
}

/// What is counted of a definition once its spreads are expanded.
#[derive(Clone, Copy)]
enum Measure {
    /// Selections at any depth.
    All = 0,
    /// Root fields.
    Top = 1,
}

/// Expanded sizes of fragments, each computed once per measure (a cycle, which validation
/// refuses, counts as empty where it closes). Recursion is bounded by the number of fragments
/// (capped).
struct Sizes<'a> {
    shapes: &'a [Shape],
    memo: [Vec<Memo>; 2],
}

#[derive(Clone, Copy)]
enum Memo {
    Unknown,
    Visiting,
    Known(usize),
}

impl<'a> Sizes<'a> {
    fn new(shapes: &'a [Shape]) -> Self {
        Sizes {
            shapes,
            memo: [vec![Memo::Unknown; shapes.len()], vec![Memo::Unknown; shapes.len()]],
        }
    }

    /// Fragment `i`, expanded.
    fn of(&mut self, i: usize, measure: Measure) -> usize {
        match self.memo[measure as usize][i] {
            Memo::Known(n) => n,
            Memo::Visiting => 0,
            Memo::Unknown => {
                self.memo[measure as usize][i] = Memo::Visiting;
                let shapes = self.shapes;
                let n = self.expand(&shapes[i], measure);
                self.memo[measure as usize][i] = Memo::Known(n);
                n
            }
        }
    }

    /// A definition, expanded.
    fn expand(&mut self, shape: &Shape, measure: Measure) -> usize {
        let (own, spreads) = match measure {
            Measure::All => (shape.fields, &shape.spreads),
            Measure::Top => (shape.top_fields, &shape.top_spreads),
        };
        spreads.iter().fold(own, |n, &j| n.saturating_add(self.of(j, measure)))
    }
}

/// The fragment fan-out: `levels` fragments, each spreading the previous one ten times, and
/// a query spreading the last (10^levels selections once expanded). For tests and benchmarks.
pub fn fan_out(root_type: &str, levels: usize) -> String {
    let mut doc = format!("fragment F0 on {root_type} {{ __typename }}\n");
    for level in 1..=levels {
        let spreads = vec![format!("...F{}", level - 1); 10].join(" ");
        doc.push_str(&format!("fragment F{level} on {root_type} {{ {spreads} }}\n"));
    }
    doc.push_str(&format!("query {{ ...F{levels} }}"));
    doc
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn run(query: &str) -> Result<Checked, Refusal> {
        check(query, None, &Variables::default(), &DocumentLimits::default())
    }

    fn limit_of(result: Result<Checked, Refusal>) -> &'static str {
        match result {
            Err(Refusal::TooLarge { limit, .. }) => limit,
            Err(other) => panic!("expected a size refusal, got {other:?}"),
            Ok(checked) => panic!(
                "expected a refusal, got a document of {} root fields",
                checked.root_fields
            ),
        }
    }

    #[test]
    fn fan_out_is_refused_without_expanding_it() {
        for levels in [4, 7, 8, 9, 20] {
            let started = Instant::now();
            let result = run(&fan_out("Query", levels));
            assert!(
                started.elapsed().as_millis() < 50,
                "{levels} levels took {:?}",
                started.elapsed()
            );
            assert_eq!(limit_of(result), "selections", "{levels} levels");
        }
        // Three levels expand to 1000 (the query) + 1000 + 100 + 10 + 1 (the fragments): accepted.
        assert!(run(&fan_out("Query", 3)).is_ok());
    }

    #[test]
    fn counts_each_fragment_once_per_spread() {
        // F2 = 10 × F1 = 100 fields; the query spreads F2 twice: 200 + 100 (F2) + 10 (F1) + 1 (F0).
        let doc = "fragment F0 on Query { a } fragment F1 on Query { ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 ...F0 } \
                   fragment F2 on Query { ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 ...F1 } { ...F2 ...F2 }";
        let limits = DocumentLimits {
            max_selections: 311,
            ..Default::default()
        };
        let checked = check(doc, None, &Variables::default(), &limits).unwrap();
        assert_eq!(checked.root_fields, 200);
        let limits = DocumentLimits {
            max_selections: 310,
            ..limits
        };
        assert!(check(doc, None, &Variables::default(), &limits).is_err());
    }

    #[test]
    fn cycles_and_unknown_fragments_are_left_to_validation() {
        let checked = run("fragment A on Query { a ...B } fragment B on Query { b ...A } { ...A ...Missing }").unwrap();
        assert_eq!(checked.root_fields, 2);
    }

    #[test]
    fn root_fields_of_the_selected_operation() {
        let doc = "query Q { a b: a __typename ... on Query { c } } mutation M { x y z }";
        let vars = Variables::default();
        let limits = DocumentLimits::default();
        let q = check(doc, Some("Q"), &vars, &limits).unwrap();
        assert_eq!((q.kind, q.root_fields), (OperationType::Query, 3));
        let m = check(doc, Some("M"), &vars, &limits).unwrap();
        assert_eq!((m.kind, m.root_fields), (OperationType::Mutation, 3));
        assert_eq!(check(doc, None, &vars, &limits).unwrap().root_fields, 0);
    }

    #[test]
    fn other_caps() {
        assert_eq!(
            limit_of(run(&format!("{{ a(x: \"{}\") }}", "x".repeat(100_000)))),
            "queryBytes"
        );
        let deep = format!("{}a{}", "{a".repeat(70), "}".repeat(70));
        assert_eq!(limit_of(run(&deep)), "nesting");
        // Braces inside strings and comments do not nest.
        assert!(run("{ a(x: \"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\") } # {{{{").is_ok());
        let fragments: String = (0..201).map(|i| format!("fragment F{i} on Query {{ a }} ")).collect();
        assert_eq!(limit_of(run(&format!("{fragments} {{ a }}"))), "fragments");
        let spreads = "...F ".repeat(1001);
        assert_eq!(
            limit_of(run(&format!("fragment F on Query {{ a }} {{ {spreads} }}"))),
            "fragmentSpreads"
        );
    }

    #[test]
    fn parse_errors_quote_a_short_excerpt() {
        let long = format!("{{ a {} !", "b ".repeat(1_000_000));
        let Err(Refusal::Syntax(message)) = run(&long[..90_000]) else {
            panic!("expected a syntax error")
        };
        assert!(message.len() < 200, "{message}");
        assert!(message.starts_with("syntax error at line 1, column"), "{message}");
    }

    #[test]
    fn nul_is_refused_with_the_argument_path() {
        let refusal = run("{ a(input: { list: [\"x\", \"a\\u0000b\"] }) }").unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Input { field, .. } if field == "input.list[1]"),
            "{refusal:?}"
        );
        let vars = Variables::from_json(serde_json::json!({ "i": { "email": "a\u{0}b" } }));
        let refusal = check(
            "query($i: In) { x { y(input: $i) } }",
            None,
            &vars,
            &DocumentLimits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Input { field, .. } if field == "input.email"),
            "{refusal:?}"
        );
    }
}
