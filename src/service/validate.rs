//! Input checks shared by services. Each names the offending field in its error.
use crate::{
    error::{AppError, AppResult},
    form::text,
};

/// Longest name of an organization, member or key.
pub const MAX_NAME_CHARS: usize = 200;

/// A required, trimmed, non-empty name of bounded length.
pub fn name(value: &str, field: &str) -> AppResult<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("must have at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// An email address, trimmed and lower-cased (see [`text::email`]).
pub fn email(value: &str, field: &str) -> AppResult<String> {
    text::email(value).ok_or_else(|| AppError::bad_input(field, "is not a valid email address"))
}

/// An IANA time zone name such as `Asia/Tehran` or `UTC`.
pub fn time_zone(value: &str, field: &str) -> AppResult<String> {
    value
        .trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            AppError::bad_input(
                field,
                format!("`{value}` is not an IANA time zone (e.g. Asia/Tehran, UTC)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("  Sara@Example.COM ", "e").unwrap(), "sara@example.com");
        for bad in ["", "no-at", "a@b", "a b@c.d", "@c.d", "a@@c.d", "a@.c", "a@c."] {
            assert!(email(bad, "e").is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn time_zones() {
        assert_eq!(time_zone("Asia/Tehran", "tz").unwrap(), "Asia/Tehran");
        assert_eq!(time_zone("UTC", "tz").unwrap(), "UTC");
        assert!(time_zone("Mars/Olympus", "tz").is_err());
    }

    #[test]
    fn names_keep_unicode() {
        assert_eq!(name("  فروشگاه نمونه ", "n").unwrap(), "فروشگاه نمونه");
        assert!(name("   ", "n").is_err());
        assert!(name(&"x".repeat(201), "n").is_err());
    }
}
