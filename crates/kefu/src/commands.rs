//! The operational commands: `serve`, `migrate`, `admin create-agent`, `admin create-token`.
//! Each wires the global options to the store and the server; none holds business logic.

use crate::{
    cli::{
        AdminCommand, CreateAgentArgs, CreateMailboxArgs, CreateTokenArgs, GlobalOpts, ServeArgs,
    },
    demo,
};
use anyhow::{Context, Result, bail};
use kefu_domain::{Email, NewAgent, Role, Tier, check_password, parse_name};
use kefu_server::{AppState, Application, Config, auth};
use kefu_store::{Clock, ManualClock, Store, SystemClock};
use std::{path::Path, sync::Arc};

/// The database URL: `--database-url` if given, else SQLite at `<data-dir>/kefu.db`.
/// Creates the data directory if it is missing.
pub fn database_url(global: &GlobalOpts) -> Result<String> {
    std::fs::create_dir_all(&global.data_dir)
        .with_context(|| format!("creating the data directory {}", global.data_dir.display()))?;
    if let Some(url) = &global.database_url {
        return Ok(url.clone());
    }
    let dir = std::path::absolute(&global.data_dir)
        .with_context(|| format!("resolving the data directory {}", global.data_dir.display()))?;
    Ok(sqlite_url(&dir.join("kefu.db")))
}

/// `sqlite://` plus an absolute path, with the characters sqlx would read as URL syntax
/// (`%`, `?`, `#`) percent-encoded.
pub fn sqlite_url(path: &Path) -> String {
    let mut out = String::from("sqlite://");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// Opens the store (which runs migrations), on the wall clock.
pub async fn open_store(global: &GlobalOpts) -> Result<Arc<dyn Store>> {
    open_store_with_clock(global, Arc::new(SystemClock)).await
}

async fn open_store_with_clock(
    global: &GlobalOpts,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn Store>> {
    let url = database_url(global)?;
    kefu_store::connect_with_clock(&url, clock)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((creds, host)) if creds.contains(':') => {
            let user = creds.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

pub async fn migrate(global: &GlobalOpts) -> Result<()> {
    let store = open_store(global).await?;
    println!("Migrations applied ({} database).", store.engine());
    Ok(())
}

pub async fn serve(global: &GlobalOpts, args: ServeArgs) -> Result<()> {
    if args.demo {
        load_demo(global).await?;
    }
    // Opened after the demo's store is gone, so that nothing is ever stamped with the
    // demo's clock once the server runs.
    let store = open_store(global).await?;
    let mut config = Config {
        listen: args.listen,
        ..Config::default()
    };
    if let Some(n) = args.max_body_bytes {
        config.max_body_bytes = n;
    }
    config.trusted_proxies = args.trusted_proxies.clone();
    config.smtp_listen = args.smtp_listen;
    config.lmtp_listen = args.lmtp_listen;
    config.mail = kefu_server::mail::MailConfig {
        relay_url: args.smtp_relay.clone(),
        hostname: args.smtp_hostname.clone(),
        max_message_bytes: args.max_mail_bytes,
        tls_cert: args.smtp_tls_cert.clone(),
        tls_key: args.smtp_tls_key.clone(),
        imap_poll_interval: std::time::Duration::from_secs(args.imap_poll_secs.max(5)),
    };
    config.close_solved_after = (args.close_solved_after_days > 0)
        .then(|| jiff::SignedDuration::from_hours(i64::from(args.close_solved_after_days) * 24));
    let app = Application::build(store.clone(), config)
        .await
        .with_context(|| format!("starting the server on {}", args.listen))?;
    let addr = app.local_addr();
    tracing::info!(%addr, engine = store.engine(), "kefu is listening");
    println!("kefu is listening: http://{addr}/login");
    if let Some(a) = app.smtp_addr() {
        println!("kefu accepts mail over SMTP on {a}");
    }
    if let Some(a) = app.lmtp_addr() {
        println!("kefu accepts mail over LMTP on {a}");
    }
    if args.smtp_relay.is_none() {
        tracing::warn!("no --smtp-relay: email replies stay queued until one is configured");
    }
    app.run_until(shutdown_signal())
        .await
        .context("serving HTTP")?;
    tracing::info!("kefu stopped");
    Ok(())
}

/// Loads the demo workspace into an empty database, through a store of its own whose clock
/// the loader sets to each planned moment (the history ends shortly before now). That store
/// is dropped, idle, when this returns.
async fn load_demo(global: &GlobalOpts) -> Result<()> {
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let store = open_store_with_clock(global, clock.clone()).await?;
    if store
        .is_empty()
        .await
        .context("checking whether the database is empty")?
    {
        let hash =
            tokio::task::spawn_blocking(|| auth::hash_password_blocking(demo::DEMO_PASSWORD))
                .await
                .context("hashing the demo password")?
                .map_err(|e| anyhow::anyhow!("hashing the demo password: {}", e.message))?;
        let plan = demo::Plan::generate(demo::DemoSize::FULL);
        let started = std::time::Instant::now();
        let progress = demo::progress_bar(&plan);
        let summary = demo::load(&*store, &clock, &plan, &hash, &progress)
            .await
            .context("loading the demo workspace")?;
        progress.finish_and_clear();
        println!(
            "Demo workspace loaded in {:.1} s: {} teams, {} agents, {} organizations, {} customers, {} tickets, {} messages.",
            started.elapsed().as_secs_f64(),
            summary.teams,
            summary.agents,
            summary.organizations,
            summary.customers,
            summary.tickets,
            summary.messages,
        );
    } else {
        println!(
            "The database is not empty, so the demo workspace was not loaded (it may already be there)."
        );
    }
    println!("Demo logins (password for all: {}):", demo::DEMO_PASSWORD);
    for login in demo::logins() {
        println!("  {:<12} {:<34} {}", login.label, login.email, login.name);
    }
    println!(
        "Demo support mailbox: {} (start with --smtp-listen 127.0.0.1:2525 to mail it).",
        demo::DEMO_MAILBOX
    );
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM; in-flight requests then finish (graceful shutdown).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

pub async fn admin(global: &GlobalOpts, cmd: AdminCommand) -> Result<()> {
    match cmd {
        AdminCommand::CreateAgent(args) => create_agent(global, args).await,
        AdminCommand::CreateToken(args) => create_token(global, args).await,
        AdminCommand::CreateMailbox(args) => create_mailbox(global, args).await,
    }
}

async fn create_mailbox(global: &GlobalOpts, args: CreateMailboxArgs) -> Result<()> {
    let address = Email::parse(&args.address)?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| address.as_str().to_string());
    kefu_domain::mail::validate_mailbox(&name, args.imap.as_deref())?;
    let store = open_store(global).await?;
    let team_id = match &args.team {
        Some(t) => match store
            .find_team_by_name(t)
            .await
            .context("looking up the team")?
        {
            Some(team) => Some(team.id),
            None => bail!(
                "no team named {t:?}; create it first (kefu admin create-agent --team creates one)"
            ),
        },
        None => None,
    };
    let m = store
        .create_mailbox(&kefu_domain::NewMailbox {
            address,
            name,
            team_id,
            imap_url: args.imap.clone(),
            auto_ack: !args.no_auto_ack,
            active: true,
        })
        .await
        .context("creating the mailbox")?;
    println!(
        "Created mailbox #{} {} <{}>{}{}.",
        m.id,
        m.name,
        m.address.as_str(),
        m.imap_url
            .as_deref()
            .map(|u| format!(", polling {}", kefu_domain::mail::redact_url(u)))
            .unwrap_or_default(),
        if m.auto_ack {
            ", acknowledging new tickets"
        } else {
            ""
        }
    );
    Ok(())
}

async fn create_agent(global: &GlobalOpts, args: CreateAgentArgs) -> Result<()> {
    // Validate everything before touching the database.
    let email = Email::parse(&args.email)?;
    let name = parse_name("name", &args.name)?;
    let role = Role::parse(&args.role)?;
    let tier = Tier::new(args.tier)?;
    check_password(&args.password)?;
    let team_name = match &args.team {
        Some(t) => Some(parse_name("team", t)?),
        None => None,
    };

    let store = open_store(global).await?;
    let mut teams = Vec::new();
    if let Some(team_name) = team_name {
        let team = match store
            .find_team_by_name(&team_name)
            .await
            .context("looking up the team")?
        {
            Some(team) => team,
            None => {
                let team = store
                    .create_team(&team_name, "")
                    .await
                    .context("creating the team")?;
                println!("Created team #{} {}.", team.id, team.name);
                team
            }
        };
        teams.push(team.id);
    }
    let password = args.password;
    let password_hash =
        tokio::task::spawn_blocking(move || auth::hash_password_blocking(&password))
            .await
            .context("hashing the password")?
            .map_err(|e| anyhow::anyhow!("hashing the password: {}", e.message))?;
    let agent = store
        .create_agent(&NewAgent {
            email,
            name,
            role,
            tier,
            teams,
            password_hash,
        })
        .await
        .context("creating the agent")?;
    println!(
        "Created agent #{} {} <{}> (role {}, tier {}).",
        agent.id,
        agent.name,
        agent.email,
        agent.role,
        agent.tier.get()
    );
    Ok(())
}

async fn create_token(global: &GlobalOpts, args: CreateTokenArgs) -> Result<()> {
    let email = Email::parse(&args.email)?;
    let name = parse_name("name", &args.name)?;
    let store = open_store(global).await?;
    let Some((agent, _)) = store
        .find_agent_login(&email)
        .await
        .context("looking up the agent")?
    else {
        bail!("no agent with email {}", email.as_str());
    };
    if !agent.active {
        bail!(
            "agent {} is deactivated; reactivate them before creating a token",
            agent.email
        );
    }
    // The token key is a workspace setting; AppState::new loads it (or creates it once).
    let state = AppState::new(store.clone(), Config::default())
        .await
        .context("loading the token key")?;
    let token = auth::new_secret("kefu_");
    let hash = auth::keyed_hash(&state.token_key, &token);
    let id = store
        .create_api_token(agent.id, &name, &hash)
        .await
        .context("storing the token")?;
    println!(
        "Created API token #{id} {name:?} for {} <{}>. It is shown only once:",
        agent.name, agent.email
    );
    println!("{token}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_are_absolute_and_escape_url_syntax() {
        assert_eq!(
            sqlite_url(Path::new("/srv/kefu/kefu.db")),
            "sqlite:///srv/kefu/kefu.db"
        );
        assert_eq!(
            sqlite_url(Path::new("/a b/100%?#.db")),
            "sqlite:///a b/100%25%3F%23.db"
        );
    }

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://kefu:s3cret@db:5432/kefu"),
            "postgres://kefu:***@db:5432/kefu"
        );
        assert_eq!(redact_url("postgres://db/kefu"), "postgres://db/kefu");
        assert_eq!(redact_url("sqlite:///x/kefu.db"), "sqlite:///x/kefu.db");
    }
}
