use nazar::{
    app::{self, App},
    config::{Command, Config},
    db::{Db, PoolSettings},
    graphql, telemetry,
};

#[tokio::main]
async fn main() {
    let config = Config::load();
    if let Err(err) = run(config).await {
        tracing::error!(error = %err, "fatal");
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}

async fn run(config: Config) -> Result<(), nazar::BoxError> {
    match config.command {
        Some(Command::Schema { public }) => {
            print!("{}", if public { graphql::public_sdl() } else { graphql::sdl() });
            Ok(())
        }
        Some(Command::Codes) => {
            print!("{}", nazar::codes::markdown());
            Ok(())
        }
        Some(Command::Migrate) => {
            telemetry::init(&config.log_filter, config.production);
            let pool = PoolSettings {
                max_connections: 2,
                acquire_timeout: std::time::Duration::from_secs(30),
            };
            let db = Db::connect(&config.effective_database_url(), pool).await?;
            db.migrate().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Some(Command::Serve) | None => {
            telemetry::init(&config.log_filter, config.production);
            let bound = App::build(config).await?.bind().await?;
            bound.serve(app::shutdown_signal()).await
        }
    }
}
