//! The command line, as clap types. Parsing only: what each command does lives in
//! [`crate::commands`], [`crate::demo`] and [`crate::bench`].
//!
//! Every option that matters in production also reads an environment variable
//! (`KEFU_*`), so a container needs no arguments beyond the subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::{net::SocketAddr, path::PathBuf};

#[derive(Debug, Parser)]
#[command(
    name = "kefu",
    version,
    about = "kefu: a self-hosted helpdesk, CRM and contact centre"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Directory for kefu's files; the default SQLite database lives here. Created if missing.
    #[arg(
        long,
        global = true,
        env = "KEFU_DATA_DIR",
        default_value = "./kefu-data"
    )]
    pub data_dir: PathBuf,
    /// Database URL: `sqlite://PATH` or `postgres://…`. Default: SQLite at DATA_DIR/kefu.db.
    #[arg(long, global = true, env = "KEFU_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Log line format. The level comes from KEFU_LOG or RUST_LOG (default `info`).
    #[arg(long, global = true, env = "KEFU_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI and the API until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Administrative tasks: agents and API tokens.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Benchmarks (build with --release): ticket creation throughput, queue latency.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "KEFU_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Load the demo workspace into an empty database and print its logins.
    #[arg(long)]
    pub demo: bool,
    /// Largest accepted request body in bytes (default 25 MiB).
    #[arg(long, env = "KEFU_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Close solved tickets by rule after this many days (0 switches the rule off).
    #[arg(long, env = "KEFU_CLOSE_SOLVED_AFTER_DAYS", default_value_t = 4)]
    pub close_solved_after_days: u32,
    /// Reverse proxy address whose X-Forwarded-For header is trusted (repeatable). Set it
    /// when kefu runs behind a load balancer, or sign-in limits count the proxy as one client.
    #[arg(
        long = "trusted-proxy",
        env = "KEFU_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Accept mail for the mailboxes over SMTP on this address (e.g. 0.0.0.0:25 when MX
    /// points at kefu).
    #[arg(long, env = "KEFU_SMTP_LISTEN")]
    pub smtp_listen: Option<SocketAddr>,
    /// Accept mail over LMTP on this address (hand-over from Postfix or another MTA).
    #[arg(long, env = "KEFU_LMTP_LISTEN")]
    pub lmtp_listen: Option<SocketAddr>,
    /// Relay for outgoing mail: smtp://user:password@host:587 (STARTTLS) or
    /// smtps://user:password@host:465 (TLS). Without it replies stay queued.
    #[arg(long, env = "KEFU_SMTP_RELAY", hide_env_values = true)]
    pub smtp_relay: Option<String>,
    /// Host name in the SMTP/LMTP greeting.
    #[arg(long, env = "KEFU_SMTP_HOSTNAME", default_value = "localhost")]
    pub smtp_hostname: String,
    /// PEM certificate chain for STARTTLS on the SMTP/LMTP listeners.
    #[arg(long, env = "KEFU_SMTP_TLS_CERT", requires = "smtp_tls_key")]
    pub smtp_tls_cert: Option<PathBuf>,
    /// PEM private key for STARTTLS on the SMTP/LMTP listeners.
    #[arg(long, env = "KEFU_SMTP_TLS_KEY", requires = "smtp_tls_cert")]
    pub smtp_tls_key: Option<PathBuf>,
    /// Largest accepted email in bytes (default 50 MiB).
    #[arg(long, env = "KEFU_MAX_MAIL_BYTES", default_value_t = 50 * 1024 * 1024)]
    pub max_mail_bytes: usize,
    /// Seconds between IMAP polls (IDLE delivers sooner where the server offers it).
    #[arg(long, env = "KEFU_IMAP_POLL_SECS", default_value_t = 60)]
    pub imap_poll_secs: u64,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an agent (the team is created if it does not exist).
    CreateAgent(CreateAgentArgs),
    /// Create an API token for an agent; the token is the last line of the output.
    CreateToken(CreateTokenArgs),
    /// Add a support mailbox (mail to it opens tickets).
    CreateMailbox(CreateMailboxArgs),
}

#[derive(Debug, Args)]
pub struct CreateMailboxArgs {
    /// The support address, e.g. support@example.com.
    #[arg(long)]
    pub address: String,
    /// Display name in From: of replies (default: the address).
    #[arg(long)]
    pub name: Option<String>,
    /// Team that gets new tickets from this mailbox (must exist).
    #[arg(long)]
    pub team: Option<String>,
    /// Poll this IMAP mailbox too: imaps://user:password@host[:port][/folder].
    /// Prefer the environment variable: the URL holds a password.
    #[arg(long, env = "KEFU_MAILBOX_IMAP_URL", hide_env_values = true)]
    pub imap: Option<String>,
    /// Do not acknowledge new tickets by email.
    #[arg(long)]
    pub no_auto_ack: bool,
}

#[derive(Debug, Args)]
pub struct CreateAgentArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// One of: admin, supervisor, agent, read-only.
    #[arg(long)]
    pub role: String,
    /// At least 8 characters. Prefer the environment variable over the command line.
    #[arg(long, env = "KEFU_AGENT_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Support tier 1–4 (frontline, specialist, back office, management).
    #[arg(long, default_value_t = 1)]
    pub tier: i64,
    /// Team name; created if missing.
    #[arg(long)]
    pub team: Option<String>,
}

#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// The agent's email address.
    #[arg(long)]
    pub email: String,
    /// A label for the token (shown in the admin UI).
    #[arg(long, default_value = "cli")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// POST tickets over HTTP and report tickets/s and latency per concurrency.
    Create(BenchCreateArgs),
    /// Fill a database with many tickets and time an agent's open queue (first page).
    Queue(BenchQueueArgs),
    /// Email throughput: inbound mails/s through parse → thread → store, outbound replies/s
    /// through the queue and the relay to a local SMTP sink.
    Mail(BenchMailArgs),
    /// SLA clocks: recomputing every open ticket's clocks after a calendar change, and
    /// firing due timers (warnings, breaches, escalations).
    Sla(BenchSlaArgs),
}

#[derive(Debug, Args)]
pub struct BenchSlaArgs {
    /// Open tickets whose clocks are recomputed.
    #[arg(long, default_value_t = 100_000)]
    pub tickets: usize,
    /// Tickets whose first-reply timer fires in the timer benchmark.
    #[arg(long, default_value_t = 5000)]
    pub timers: usize,
    /// Calendar changes (recomputations); the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchMailArgs {
    /// Generated mails fed through the inbound pipeline per run.
    #[arg(long, default_value_t = 5000)]
    pub messages: usize,
    /// Deliveries in flight at once (like concurrent SMTP sessions).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Also feed every file of this mail corpus per run (e.g. ../shared/data/emails).
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Agent replies sent through the queue per run (0 skips the outbound benchmark).
    #[arg(long, default_value_t = 1000)]
    pub outbound: usize,
    /// Runs; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchCreateArgs {
    /// Concurrent HTTP workers; one measurement series per value.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub concurrency: Vec<usize>,
    /// Tickets created per run (after the warm-up).
    #[arg(long, default_value_t = 5000)]
    pub requests: usize,
    /// Warm-up requests before each run (not measured).
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
    /// Runs per concurrency; the median run is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchQueueArgs {
    /// Tickets to create before measuring.
    #[arg(long, default_value_t = 100_000)]
    pub tickets: usize,
    /// Agents the tickets are spread over.
    #[arg(long, default_value_t = 50)]
    pub agents: usize,
    /// Queue requests per run.
    #[arg(long, default_value_t = 2000)]
    pub queries: usize,
    /// Measurement runs over the same filled database; the median run is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_are_accepted_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "kefu",
            "admin",
            "create-token",
            "--email",
            "a@b.example",
            "--data-dir",
            "/tmp/x",
        ])
        .unwrap();
        assert_eq!(cli.global.data_dir, PathBuf::from("/tmp/x"));
        assert!(matches!(
            cli.command,
            Command::Admin(AdminCommand::CreateToken(_))
        ));
    }

    #[test]
    fn bench_concurrency_is_a_comma_separated_list() {
        let cli =
            Cli::try_parse_from(["kefu", "bench", "create", "--concurrency", "1,4,16"]).unwrap();
        let Command::Bench(BenchCommand::Create(a)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(a.concurrency, [1, 4, 16]);
    }
}
