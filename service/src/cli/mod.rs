//! The command line: `serve`, `migrate`, `token issue | list | revoke`, `audit verify | seal |
//! export | import | check`, `projections rebuild | status`, `personal-data purge-expired`,
//! `demo`.

use std::sync::Arc;
use std::time::Duration;

pub mod audit;
pub mod bench;
pub mod database;
pub mod demo;
pub mod personal_data;
pub mod progress;
pub mod user;

use clap::{Parser, Subcommand};
use infra::tokens::{self, Role};

use crate::cli::progress::Progress;
use crate::http::state::SystemClock;
use crate::startup::{self, Settings};

/// Koordynator: study visits, cooperation programmes and networks of ROPS, on an append-only record.
#[derive(Debug, Parser)]
#[command(
    name = "koordynator",
    version,
    after_help = "Log level: RUST_LOG (default info,sqlx=warn). Every setting is listed in the README's configuration table."
)]
pub struct Cli {
    #[command(flatten)]
    pub database: crate::cli::database::DatabaseArgs,

    /// Log lines as human-readable text or as JSON objects (one a line, for log collectors).
    #[arg(
        long,
        env = "KOORDYNATOR_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written to stderr (the level comes from `RUST_LOG`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service with its projections and deadline watcher.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KOORDYNATOR_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// A streaming replica of the database: read models and audit reads go there
        /// while it answers (else to the primary); `?min_position=` waits for it.
        #[arg(long, env = "KOORDYNATOR_READ_DATABASE_URL")]
        read_database_url: Option<String>,
        /// Largest number of database connections.
        #[arg(long, env = "KOORDYNATOR_MAX_CONNECTIONS", default_value_t = 20)]
        max_connections: u32,
        /// Seconds between checks of recruitment deadlines (it also wakes at the next deadline).
        #[arg(long, env = "KOORDYNATOR_DEADLINE_POLL_SECS", default_value_t = 5)]
        deadline_poll_secs: u64,
        /// Seconds between seals of the history (tamper evidence for a stream's newest event).
        #[arg(long, env = "KOORDYNATOR_SEAL_INTERVAL_SECS", default_value_t = 60)]
        seal_interval_secs: u64,
        /// Public application submissions per minute per client address (0 = no limit).
        #[arg(long, env = "KOORDYNATOR_SUBMISSION_RATE_LIMIT", default_value_t = 30)]
        submission_rate_limit: u32,
        /// Submissions one client may send at once before the rate applies.
        #[arg(long, env = "KOORDYNATOR_SUBMISSION_BURST", default_value_t = 10)]
        submission_burst: u32,
        /// Take the client address from the last `X-Forwarded-For` entry (only behind a
        /// reverse proxy that sets it); otherwise the TCP peer.
        #[arg(long, env = "KOORDYNATOR_TRUSTED_PROXY")]
        trusted_proxy: bool,
        /// Load the demo data (see `demo --help`) when the database has no events, and print
        /// a token to sign in to the dashboard at `/`.
        #[arg(long, env = "KOORDYNATOR_DEMO")]
        demo: bool,
        /// Seconds a shutdown (SIGTERM, Ctrl-C) waits for requests in flight before cutting them.
        #[arg(long, env = "KOORDYNATOR_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
        shutdown_grace_secs: u64,
        /// Bearer token `/metrics` requires; unset leaves it open, like `/health`.
        #[arg(long, env = "KOORDYNATOR_METRICS_TOKEN", hide_env_values = true)]
        metrics_token: Option<String>,
        /// Largest projection lag, in events, at which `/ready` still answers 200.
        #[arg(long, env = "KOORDYNATOR_READY_MAX_LAG", default_value_t = 500)]
        ready_max_lag: u32,
        /// The public body running the site, as the accessibility statement names it.
        #[arg(long, env = "KOORDYNATOR_ORGANIZATION")]
        organization: Option<String>,
        /// Who answers about accessibility (name or unit), for the accessibility statement.
        #[arg(long, env = "KOORDYNATOR_ACCESSIBILITY_PERSON")]
        accessibility_person: Option<String>,
        /// The e-mail address of accessibility requests.
        #[arg(long, env = "KOORDYNATOR_ACCESSIBILITY_EMAIL")]
        accessibility_email: Option<String>,
        /// The telephone of accessibility requests.
        #[arg(long, env = "KOORDYNATOR_ACCESSIBILITY_PHONE")]
        accessibility_phone: Option<String>,
        /// The site's public address, e.g. https://wizyty.rops.example (named in the
        /// accessibility statement).
        #[arg(long, env = "KOORDYNATOR_PUBLIC_URL")]
        public_url: Option<String>,
        /// The SMTP server mail to applicants goes through: smtp://host:port (no TLS),
        /// smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465.
        /// Unset: mail is off and mails wait in the outbox.
        #[arg(long, env = "KOORDYNATOR_SMTP_URL")]
        smtp_url: Option<String>,
        /// The address mail comes from, e.g. "ROPS Toruń <wizyty@rops.example>".
        #[arg(long, env = "KOORDYNATOR_MAIL_FROM")]
        mail_from: Option<String>,
        /// How many days before a term those with a seat are reminded.
        #[arg(long, env = "KOORDYNATOR_REMINDER_DAYS", default_value_t = 3)]
        reminder_days: u32,
    },
    /// Load the source documents' data with invented people into an empty database, then
    /// print a read-only token (alone on stdout) to sign in to the dashboard at `/`.
    ///
    /// Loads the study visit of ROPS Toruń (seed 000), the Toruń programme 2013-2014 (001),
    /// the Olsztyn project with its 2020 schedule (002), the Lublin project with its
    /// partner deadline (003) and the Warmia-Mazury networks (004), every write through the
    /// HTTP API's own command path. Programmes, schedule and networks keep their dates; the
    /// visit moves by whole weeks so that its announcement (15 June 2022, a Wednesday) is the
    /// latest Wednesday up to today: term I is then closed with its roster (allocated,
    /// waiting list, passed over), term II open with its deadline 3-9 days ahead, term III
    /// planned for mid-month a month later. Run again on the same database it only prints a
    /// new token; a database with other events is refused.
    Demo,
    /// Create the database when missing and apply migrations, then exit.
    Migrate,
    /// Print the OpenAPI document of the HTTP API (as `/api/v1/openapi.json` serves it), to
    /// generate a client without running the service; needs no database.
    Openapi,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check, seal, export and import the audit record.
    Audit {
        #[command(subcommand)]
        command: crate::cli::audit::AuditCommand,
    },
    /// Personal data: erase what the retention period no longer allows (`purge-expired`).
    PersonalData {
        #[command(subcommand)]
        command: crate::cli::personal_data::PersonalDataCommand,
    },
    /// Measure the service against raw PostgreSQL in one run (targets and figures: docs/benchmarks.md):
    /// creates a fresh database, starts this binary as `serve`, prints a table, writes JSON.
    Bench(crate::cli::bench::BenchArgs),
    /// Manage read models.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Console accounts: `user add --email E --role ROLE [--organizer ID] [--name TEXT]
    /// --password-stdin`, `user list`, `user disable E`.
    User {
        #[command(subcommand)]
        command: crate::cli::user::UserCommand,
    },
}

/// Token management.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print it alone on stdout.
    Issue {
        /// admin, coordinator or evaluator.
        #[arg(long)]
        role: String,
        /// Organizer id (slug such as rops-torun); required for coordinators.
        #[arg(long)]
        organizer: Option<String>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "")]
        name: String,
        /// Days until the token stops working by itself (0: never).
        #[arg(long, env = "KOORDYNATOR_TOKEN_EXPIRES_IN_DAYS", default_value_t = 365)]
        expires_in_days: u32,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: uuid::Uuid },
}

/// Read-model management.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Drop and rebuild a read model (or all) from the events.
    Rebuild { name: Option<String> },
    /// List read models and where each stands.
    Status,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        // Neither needs the database of `--database-url`.
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&crate::http::openapi())?);
            Ok(())
        }
        Command::Bench(args) => {
            let report = crate::cli::bench::run(args).await?;
            if report
                .targets
                .iter()
                .any(|t| t.name.contains("lost") && !t.met)
            {
                anyhow::bail!("the benchmark lost or doubled submissions");
            }
            Ok(())
        }
        command => {
            let database = crate::cli::database::Database::open(&cli.database).await?;
            let outcome = run_on(command, &database.url).await;
            // Also after a failure: a private server this command started is stopped.
            database.close().await;
            outcome
        }
    }
}

/// Runs a command that works on the database at `database_url`.
async fn run_on(command: Command, database_url: &str) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            bind,
            read_database_url,
            max_connections,
            deadline_poll_secs,
            seal_interval_secs,
            submission_rate_limit,
            submission_burst,
            trusted_proxy,
            demo,
            shutdown_grace_secs,
            metrics_token,
            ready_max_lag,
            organization,
            accessibility_person,
            accessibility_email,
            accessibility_phone,
            public_url,
            smtp_url,
            mail_from,
            reminder_days,
        } => {
            let mut settings = Settings::new(database_url, bind);
            settings.read_database_url = read_database_url.filter(|u| !u.trim().is_empty());
            settings.max_connections = max_connections;
            settings.deadline_poll = Duration::from_secs(deadline_poll_secs.max(1));
            settings.seal_interval = Duration::from_secs(seal_interval_secs.max(1));
            settings.submission_rate_limit = submission_rate_limit;
            settings.submission_burst = submission_burst.max(1);
            if trusted_proxy {
                settings.client_address = crate::http::limits::ClientAddress::TrustedProxy;
            }
            settings.shutdown_grace = Duration::from_secs(shutdown_grace_secs);
            settings.metrics_token = metrics_token.filter(|t| !t.trim().is_empty());
            settings.ready_max_lag = i64::from(ready_max_lag);
            let given =
                |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
            if let Some(organization) = given(organization) {
                settings.site.organization = organization;
            }
            settings.site.contact_person = given(accessibility_person);
            settings.site.contact_email = given(accessibility_email);
            settings.site.contact_phone = given(accessibility_phone);
            settings.site.public_url = given(public_url);
            settings.mail.smtp_url = given(smtp_url);
            settings.mail.from = given(mail_from);
            settings.mail.reminder_days = reminder_days;
            let pool = infra::connect_and_migrate(&settings.database_url, settings.max_connections)
                .await?;
            if demo {
                serve_demo(&pool, &settings.bind).await?;
            }
            let running = startup::start_with_pool(pool, &settings, Arc::new(SystemClock)).await?;
            // Exit 0 either way: the service was asked to stop and did. Whatever the grace
            // period cut was logged; a cut command or batch is one transaction, rolled back.
            running.wait().await;
            Ok(())
        }
        Command::Demo => {
            let pool = infra::connect_and_migrate(database_url, 4).await?;
            let started = std::time::Instant::now();
            let outcome = crate::cli::demo::run(&pool, chrono::Utc::now()).await?;
            if outcome.loaded {
                eprintln!(
                    "demo loaded: {} events in {:.1?}",
                    outcome.events,
                    started.elapsed()
                );
            } else {
                eprintln!("demo data already loaded ({} events)", outcome.events);
            }
            eprintln!("sign in to the dashboard (koordynator serve, then http://127.0.0.1:8080/) with this read-only token:");
            println!("{}", outcome.sign_in_token);
            Ok(())
        }
        Command::Migrate => {
            infra::connect_and_migrate(database_url, 2).await?;
            eprintln!("database migrated");
            Ok(())
        }
        Command::User { command } => {
            let pool = infra::connect_and_migrate(database_url, 2).await?;
            crate::cli::user::run(&pool, command).await
        }
        Command::Token { command } => {
            let pool = infra::connect_and_migrate(database_url, 2).await?;
            match command {
                TokenCommand::Issue {
                    role,
                    organizer,
                    name,
                    expires_in_days,
                } => {
                    let role = Role::parse(&role).ok_or_else(|| {
                        anyhow::anyhow!("--role must be admin, coordinator or evaluator")
                    })?;
                    if let Some(org) = &organizer {
                        domain::values::OrganizerId::parse(org)
                            .map_err(|e| anyhow::anyhow!("--organizer: {}", e.message))?;
                    }
                    let expires_at = (expires_in_days > 0).then(|| {
                        chrono::Utc::now() + chrono::Duration::days(i64::from(expires_in_days))
                    });
                    let (_, secret) =
                        tokens::issue_until(&pool, role, organizer.as_deref(), &name, expires_at)
                            .await?;
                    println!("{secret}");
                }
                TokenCommand::List => {
                    for t in tokens::list(&pool).await? {
                        let state = if t.revoked_at.is_some() {
                            "revoked".to_owned()
                        } else {
                            match t.expires_at {
                                Some(end) if end <= chrono::Utc::now() => "expired".to_owned(),
                                Some(end) => format!("active until {}", end.to_rfc3339()),
                                None => "active".to_owned(),
                            }
                        };
                        println!(
                            "{}\t{}\t{}\t{}\t{}\t{}",
                            t.id,
                            t.role,
                            t.organizer.as_deref().unwrap_or("-"),
                            t.name,
                            t.created_at.to_rfc3339(),
                            state
                        );
                    }
                }
                TokenCommand::Revoke { id } => {
                    if !tokens::revoke(&pool, id).await? {
                        anyhow::bail!("no active token with id {id}");
                    }
                    eprintln!("token {id} revoked");
                }
            }
            Ok(())
        }
        Command::Openapi | Command::Bench(_) => {
            unreachable!("run() handles the commands that need no database")
        }
        Command::Audit { command } => crate::cli::audit::run(command, database_url).await,
        Command::PersonalData { command } => {
            crate::cli::personal_data::run(command, database_url).await
        }
        Command::Projections { command } => {
            let pool = infra::connect_and_migrate(database_url, 4).await?;
            let all = projections::all();
            projections::runner::setup(&pool, &all).await?;
            match command {
                ProjectionsCommand::Rebuild { name } => {
                    let total: i64 = infra::feed::count(&pool).await?;
                    let total = u64::try_from(total).ok();
                    let Some(n) = name else {
                        // Every read model in one pass over the events: each page is read
                        // once and applied to all of them (five passes before).
                        let mut progress = Progress::new("rebuild all read models", total);
                        let done = projections::runner::rebuild_all(&pool, &all, |done| {
                            progress.update(done as u64)
                        })
                        .await;
                        progress.finish();
                        let done = done?;
                        // One line per read model (the benchmark counts them), then the pass.
                        for (name, applied, took) in &done.projections {
                            eprintln!("{name}: {applied} events in {took:.1?} applying");
                        }
                        eprintln!(
                            "all read models in one pass: {} events in {:.1?} ({:.1?} waiting for the feed)",
                            done.events,
                            progress.elapsed(),
                            done.read
                        );
                        return Ok(());
                    };
                    let p = projections::by_name(&n).ok_or_else(|| {
                        let names: Vec<_> = all.iter().map(|p| p.name()).collect();
                        anyhow::anyhow!("no projection {n}; known: {}", names.join(", "))
                    })?;
                    let mut progress = Progress::new(format!("rebuild {}", p.name()), total);
                    let n = projections::runner::rebuild_reporting(&pool, p.as_ref(), |done| {
                        progress.update(done as u64)
                    })
                    .await;
                    progress.finish();
                    let n = n?;
                    eprintln!("{}: {n} events in {:.1?}", p.name(), progress.elapsed());
                }
                ProjectionsCommand::Status => {
                    let rows = infra::checkpoints::status(&pool).await?;
                    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
                    let lags = infra::checkpoints::lags(&pool, &names).await?;
                    for r in &rows {
                        let behind = lags
                            .iter()
                            .find(|l| l.name == r.name)
                            .map_or(0, |l| l.events);
                        println!(
                            "{}\tv{}\tposition {}\t{behind} events behind\t{}",
                            r.name,
                            r.schema_version,
                            r.position,
                            r.updated_at.to_rfc3339()
                        );
                    }
                }
            }
            Ok(())
        }
    }
}

/// `serve --demo`: loads the demo into an empty database and prints where and how to sign in;
/// a database with other data is served as it is.
async fn serve_demo(pool: &sqlx::PgPool, bind: &str) -> anyhow::Result<()> {
    use crate::cli::demo::Found;
    match crate::cli::demo::inspect(pool).await? {
        Found::Other(n) => {
            tracing::warn!(
                events = n,
                "--demo: the database holds other data; the demo was not loaded"
            );
            return Ok(());
        }
        Found::Empty => eprintln!("--demo: loading the demo data into the empty database..."),
        Found::Demo | Found::Partial => {}
    }
    let started = std::time::Instant::now();
    let outcome = crate::cli::demo::run(pool, chrono::Utc::now()).await?;
    if outcome.loaded {
        eprintln!(
            "--demo: {} events loaded in {:.1?}",
            outcome.events,
            started.elapsed()
        );
    }
    eprintln!(
        "\n  dashboard: http://{bind}/\n  sign-in token (read-only): {}\n",
        outcome.sign_in_token
    );
    Ok(())
}
