//! Pure form logic, no I/O: question kinds and their typed rules, stable keys, and the text
//! normalisation used by search. Storage and the API build on it.
use crate::codes::ProblemCode;

pub mod answer;
pub mod document;
pub mod google;
pub mod key;
pub mod kind;
pub mod model;
pub mod response;
pub mod rules;
pub mod templates;
pub mod text;

/// One problem found in a form, with the path of the offending element and a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path in the input, e.g. `input.config.maxLength`.
    pub path: String,
    /// Stable machine-readable reason, e.g. `RANGE_INVERTED`.
    pub code: ProblemCode,
    /// For humans.
    pub message: String,
    /// The question key the problem is about, when it is about an answer.
    pub key: Option<String>,
}

impl Problem {
    pub fn new(path: impl Into<String>, code: ProblemCode, message: impl Into<String>) -> Self {
        Problem {
            path: path.into(),
            code,
            message: message.into(),
            key: None,
        }
    }

    /// The same problem, naming the question key it is about.
    pub fn with_key(mut self, key: &str) -> Self {
        self.key = Some(key.to_owned());
        self
    }
}
