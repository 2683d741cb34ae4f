//! Database migrations, applied by the server at start and runnable on their own:
//! `cargo run -p migration -- status|up|down`.
pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261123_000001_platform;
mod m20261123_000002_respondent_attributes;
mod m20261123_000003_forms;
mod m20261123_000004_conditions;
mod m20261123_000005_respondents;
mod m20261130_000006_responses;
mod m20261130_000007_tallies;
mod m20261201_000008_list_orders;
mod m20261201_000009_analytics;
mod m20261201_000010_settled_counts;
mod m20261202_000011_segments;
mod m20261202_000012_segment_reads;
mod m20261202_000013_attribute_days;
mod m20261202_000014_segment_times;
mod m20261203_000015_sqlite_counts;
mod m20261203_000016_segment_dimensions;
mod m20261203_000017_kept_times;
mod m20261204_000018_webhooks;
mod m20261205_000019_pending_counts;
mod m20261206_000020_lean_indexes;

/// Every migration of the product, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_platform::Migration),
            Box::new(m20261123_000002_respondent_attributes::Migration),
            Box::new(m20261123_000003_forms::Migration),
            Box::new(m20261123_000004_conditions::Migration),
            Box::new(m20261123_000005_respondents::Migration),
            Box::new(m20261130_000006_responses::Migration),
            Box::new(m20261130_000007_tallies::Migration),
            Box::new(m20261201_000008_list_orders::Migration),
            Box::new(m20261201_000009_analytics::Migration),
            Box::new(m20261201_000010_settled_counts::Migration),
            Box::new(m20261202_000011_segments::Migration),
            Box::new(m20261202_000012_segment_reads::Migration),
            Box::new(m20261202_000013_attribute_days::Migration),
            Box::new(m20261202_000014_segment_times::Migration),
            Box::new(m20261203_000015_sqlite_counts::Migration),
            Box::new(m20261203_000016_segment_dimensions::Migration),
            Box::new(m20261203_000017_kept_times::Migration),
            Box::new(m20261204_000018_webhooks::Migration),
            Box::new(m20261205_000019_pending_counts::Migration),
            Box::new(m20261206_000020_lean_indexes::Migration),
        ]
    }
}
