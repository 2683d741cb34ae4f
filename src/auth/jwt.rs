//! Access tokens: HS256 JWTs with one pinned algorithm and every registered claim required.
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    BoxError,
    config::{Config, Secret},
    error::AppError,
};

/// The only algorithm accepted.
const ALGORITHM: Algorithm = Algorithm::HS256;
/// Shortest acceptable signing secret, in bytes.
const MIN_SECRET_BYTES: usize = 32;
/// Clock skew tolerated between instances, in seconds.
const LEEWAY_SECS: u64 = 5;

/// Claims of an access token. All are required; a missing or mistyped one rejects the token.
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The user's id.
    pub sub: Uuid,
    /// The organization the session is for.
    pub org: Uuid,
    /// The session (refresh-token family); revoking it ends the token at once.
    pub sid: Uuid,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

/// Signing and verification keys plus the settings tokens are checked against.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime: Duration,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, lifetime: Duration) -> Self {
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = LEEWAY_SECS;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            lifetime,
        }
    }

    /// Keys from the configuration and the server secret ([`server_secret`]).
    pub fn from_config(config: &Config, secret: &Secret) -> Self {
        JwtKeys::new(
            secret.expose().as_bytes(),
            &config.jwt_issuer,
            &config.jwt_audience,
            Duration::minutes(config.access_token_minutes.max(1)),
        )
    }

    /// Signs an access token for a user's session; returns it with its expiry.
    pub fn issue(
        &self,
        user_id: Uuid,
        organization_id: Uuid,
        session_id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let exp = now + self.lifetime;
        let claims = AccessClaims {
            sub: user_id,
            org: organization_id,
            sid: session_id,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: exp.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| AppError::internal("sign access token", e))?;
        Ok((token, exp))
    }

    /// Verifies signature, algorithm and every claim; the error says what is wrong in words
    /// that reveal nothing secret. Refuses tokens this server would not have issued: with
    /// critical header parameters (`crit`, which we understand none of), or living longer than
    /// the configured lifetime (`exp` − `iat`).
    pub fn verify(&self, token: &str) -> Result<AccessClaims, AppError> {
        let refused = |why: &str| AppError::Unauthenticated(why.to_owned());
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("invalid access token"))?;
        if header.crit.is_some() {
            return Err(refused("access token has critical header parameters"));
        }
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let why = match e.kind() {
                    ErrorKind::ExpiredSignature => "access token expired",
                    ErrorKind::ImmatureSignature => "access token not yet valid",
                    ErrorKind::InvalidAudience => "access token has the wrong audience",
                    ErrorKind::InvalidIssuer => "access token has the wrong issuer",
                    ErrorKind::InvalidAlgorithm => "access token uses a refused algorithm",
                    ErrorKind::MissingRequiredClaim(_) => "access token lacks a required claim",
                    _ => "invalid access token",
                };
                refused(why)
            })?;
        if claims.exp.saturating_sub(claims.iat) > self.lifetime.num_seconds() {
            return Err(refused("access token lives longer than this server issues them"));
        }
        Ok(claims)
    }
}

/// The server secret every instance shares: `JWT_SECRET`, or a secret kept in the data folder
/// (generated on first start so tokens survive a restart). Access tokens and every other
/// signature (invitation links, resume tokens, address hashes) derive from it.
pub fn server_secret(config: &Config) -> Result<Secret, BoxError> {
    let secret = match &config.jwt_secret {
        Some(secret) => secret.clone(),
        None if config.production => return Err("JWT_SECRET is required in production mode".into()),
        None => load_or_create_secret(&config.data_dir)?,
    };
    if secret.expose().len() < MIN_SECRET_BYTES {
        return Err(format!("JWT_SECRET must have at least {MIN_SECRET_BYTES} bytes").into());
    }
    Ok(secret)
}

fn load_or_create_secret(data_dir: &Path) -> Result<Secret, BoxError> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(Secret::new(existing.trim()));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let secret = super::token::random_token(48);
    write_private(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new token signing secret");
    Ok(Secret::new(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
