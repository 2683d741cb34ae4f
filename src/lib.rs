//! Nazar: a headless customer-feedback backend.
//!
//! Map: [`config`] (settings) → [`app`] (wiring, serving) → [`http`] (routes) →
//! [`graphql`] (API shape, one module per area) → [`service`] (rules and SQL, one module per
//! area) → `entity` / `migration` crates (tables). [`auth`], [`cache`], [`db`] and [`error`]
//! are the shared parts.
pub mod app;
pub mod auth;
pub mod breaker;
pub mod cache;
pub mod clock;
pub mod codes;
pub mod config;
pub mod db;
pub mod error;
pub mod form;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod logic;
pub mod report;
pub mod service;
pub mod telemetry;

/// Errors at start-up, where a message for the operator is all that is needed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
