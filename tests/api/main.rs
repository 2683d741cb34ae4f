//! The API test suite: every test drives the real server over HTTP with a fresh database.
//! SQLite and the in-process cache by default; PostgreSQL and Redis when `TEST_DATABASE_URL`
//! and `TEST_REDIS_URL` are set (see the README).
mod abuse;
mod analytics;
mod api_keys;
mod attributes;
mod auth;
mod cache;
mod collect;
mod collection;
mod conditions;
mod documents;
mod forms;
mod frontend;
mod helpers;
mod http;
mod jobs;
mod limits;
mod lists;
mod live;
mod members;
mod organization;
mod readme;
mod reports;
mod respondents;
mod schema;
mod submissions;
mod tenancy;
mod tokens;
mod webhooks;
