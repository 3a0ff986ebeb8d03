//! `kefu`: parse the command line, set up logging, run one command, exit 1 with a
//! readable message on failure. Everything else lives in the library half (`lib.rs`).

use clap::Parser;
use kefu::{
    cli::{Cli, Command},
    commands, telemetry,
};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.global.log_format);
    kefu_mail::install_crypto_provider();
    let result = match cli.command {
        Command::Serve(args) => commands::serve(&cli.global, args).await,
        Command::Migrate => commands::migrate(&cli.global).await,
        Command::Admin(cmd) => commands::admin(&cli.global, cmd).await,
        Command::Bench(cmd) => kefu::bench::run(&cli.global, cmd).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line: "opening the database: …".
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
