use sea_orm_migration::prelude::*;

/// The server's default database, so that `cargo run -p migration -- status` works with no settings.
const DEFAULT_DATABASE_URL: &str = "sqlite://data/nazar.db?mode=rwc";

fn main() {
    let _ = dotenvy::dotenv();
    if std::env::var_os("DATABASE_URL").is_none() {
        let _ = std::fs::create_dir_all("data");
        // SAFETY: no other thread exists yet; the runtime starts below.
        unsafe { std::env::set_var("DATABASE_URL", DEFAULT_DATABASE_URL) };
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(cli::run_cli(migration::Migrator));
}
