//! Stable, readable question keys (`nps`, `reason`, `tenure`): checked when given, generated
//! when not, unique in a form.
use crate::codes::ProblemCode;
use std::collections::HashSet;

use super::Problem;

pub const MAX_KEY_LEN: usize = 64;

/// Whether `key` is a valid key: a lower-case letter, then lower-case letters, digits or `_`.
pub fn is_valid(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= MAX_KEY_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a client-given key.
pub fn check(key: &str, path: &str) -> Result<(), Problem> {
    if is_valid(key) {
        Ok(())
    } else {
        Err(Problem::new(
            path,
            ProblemCode::InvalidKey,
            format!(
                "`{key}` is not a key: 1–{MAX_KEY_LEN} characters, a lower-case letter, then lower-case letters, digits or _"
            ),
        ))
    }
}

/// A readable key derived from `hint` (e.g. an English title) or `stem`, not in `taken`.
pub fn generate(hint: Option<&str>, stem: &str, taken: &HashSet<String>) -> String {
    let base = hint
        .map(slug)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| stem.to_owned());
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|k| !taken.contains(k))
        .unwrap_or(base)
}

/// The first `words` ASCII words of `text`, lower-cased, joined by `_`, at most `len` bytes.
pub fn ascii_words(text: &str, words: usize, len: usize) -> String {
    let words: Vec<String> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(words)
        .map(str::to_ascii_lowercase)
        .collect();
    let mut slug = words.join("_");
    slug.truncate(len);
    slug.trim_end_matches('_').to_owned()
}

/// The first few ASCII words of `text` as a key, or nothing if they do not start with a letter.
fn slug(text: &str) -> String {
    let slug = ascii_words(text, 4, 40);
    if slug.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
        slug
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        for good in ["nps", "reason", "after_sales_2"] {
            assert!(check(good, "k").is_ok());
        }
        for bad in ["", "NPS", "2nd", "a-b", "نظر"] {
            assert_eq!(check(bad, "k").unwrap_err().code, ProblemCode::InvalidKey);
        }
    }

    #[test]
    fn generated_keys_are_readable_and_unique() {
        let mut taken = HashSet::new();
        let first = generate(Some("Why did you give this score?"), "q", &taken);
        assert_eq!(first, "why_did_you_give");
        taken.insert(first);
        assert_eq!(
            generate(Some("Why did you give this score?"), "q", &taken),
            "why_did_you_give_2"
        );
        // Persian titles have no ASCII words: the kind's stem is used.
        assert_eq!(generate(Some("چرا این نمره؟"), "nps", &taken), "nps");
        taken.insert("nps".into());
        assert_eq!(generate(None, "nps", &taken), "nps_2");
        assert_eq!(generate(Some("2024 plans"), "q", &HashSet::new()), "q");
        for key in taken {
            assert!(is_valid(&key));
        }
    }
}
