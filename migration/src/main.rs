use sea_orm_migration::prelude::*;

/// The server's default database, so that `cargo run -p migration -- status` works with no settings.
const DEFAULT_DATABASE_URL: &str = "sqlite://data/nazar.db?mode=rwc";

#[tokio::main]
async fn main() {
    let _ = std::fs::create_dir_all("data");
    if std::env::var_os("DATABASE_URL").is_none() && !std::path::Path::new(".env").exists() {
        // SAFETY: single-threaded at this point, before the runtime spawns any task that reads the environment.
        unsafe { std::env::set_var("DATABASE_URL", DEFAULT_DATABASE_URL) };
    }
    cli::run_cli(migration::Migrator).await;
}
