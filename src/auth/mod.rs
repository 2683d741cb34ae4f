//! Staff authentication: access tokens, passwords, opaque tokens, and who may do what.
pub mod jwt;
pub mod password;
pub mod principal;
pub mod signing;
pub mod token;

pub use jwt::{AccessClaims, JwtKeys};
pub use principal::{Action, Principal, Role, Scope, Tenant};
pub use signing::Signer;
