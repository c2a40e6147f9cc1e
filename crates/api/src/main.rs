//! The `guild` command: `guild serve` runs the server, `guild openapi` prints the document.

use std::process::ExitCode;
use std::sync::Arc;

use guild_api::{Application, Config};
use guild_domain::clock::SystemClock;

const USAGE: &str = "usage: guild <command>

commands:
  serve     run the HTTP server (configured by GUILD_* environment variables; see README)
  openapi   print the OpenAPI 3.1 document
  help      show this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(),
        Some("openapi") => {
            print!("{}", guild_api::app::openapi_json());
            ExitCode::SUCCESS
        }
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GUILD_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let bind = config.bind;
    let result = actix_web::rt::System::new().block_on(async move {
        let app = Application::build(config, Arc::new(SystemClock))?;
        tracing::info!(%bind, port = app.port(), "guild listening");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guild: {e}");
            ExitCode::FAILURE
        }
    }
}
