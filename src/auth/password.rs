//! Password hashing with Argon2id, off the async executor (it is deliberately slow).
use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::{AppError, AppResult};

/// Shortest and longest accepted password, in characters.
pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 256;

/// Checks a new password against the policy; `field` names it in the error.
pub fn check_policy(password: &str, field: &str) -> AppResult<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(AppError::bad_input(
            field,
            format!("password must have at least {MIN_LEN} characters"),
        ));
    }
    if len > MAX_LEN {
        return Err(AppError::bad_input(
            field,
            format!("password must have at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// Hashes a password into a PHC string.
pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal("password hash", e))
    })
    .await
    .map_err(|e| AppError::internal("password task", e))?
}

/// Verifies a password. With `None` (unknown user) it still spends the time of a real
/// verification, so response time does not reveal whether an email exists.
pub async fn verify(password: String, phc: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let phc = phc.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&phc).map_err(|e| AppError::internal("stored password hash", e))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && phc != DUMMY_HASH)
    })
    .await
    .map_err(|e| AppError::internal("password task", e))?
}

/// A valid Argon2id hash of a random string nobody knows, with the default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mNaf0NOB8E5ZWBnvd+MbHJWgY2XHsI0ruBZVvXlqoQ";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let phc = hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(phc.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(phc)).await.unwrap());
        assert!(!verify("anything at all".into(), None).await.unwrap());
    }

    #[test]
    fn policy_names_the_field() {
        match check_policy("short", "input.password") {
            Err(AppError::BadInput { field, .. }) => assert_eq!(field, "input.password"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(check_policy("long enough pass", "p").is_ok());
    }
}
