//! The command line: `serve`, `migrate`, `token issue | list | revoke`, `audit verify | seal |
//! export | import | check`, `projections rebuild | status`, `personal-data purge-expired`.

use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use infra::tokens::{self, Role};

use crate::startup::{self, Settings};
use crate::state::SystemClock;

/// Koordynator: study visits, cooperation programmes and networks of ROPS, on an append-only record.
#[derive(Debug, Parser)]
#[command(name = "koordynator", version)]
pub struct Cli {
    /// PostgreSQL database (created when missing, migrated at start).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/koordynator",
        global = true
    )]
    pub database_url: String,

    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service with its projections and deadline watcher.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KOORDYNATOR_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
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
    },
    /// Create the database when missing and apply migrations, then exit.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Check, seal, export and import the audit record.
    Audit {
        #[command(subcommand)]
        command: crate::audit_cli::AuditCommand,
    },
    /// Personal data: erase what the retention period no longer allows (`purge-expired`).
    PersonalData {
        #[command(subcommand)]
        command: crate::personal_data_cli::PersonalDataCommand,
    },
    /// Measure the service against raw PostgreSQL in one run (issue 7; docs/benchmarks.md):
    /// creates a fresh database, starts this binary as `serve`, prints a table, writes JSON.
    Bench(crate::bench::BenchArgs),
    /// Manage read models.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
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
        Command::Serve {
            bind,
            max_connections,
            deadline_poll_secs,
            seal_interval_secs,
            submission_rate_limit,
            submission_burst,
            trusted_proxy,
        } => {
            let mut settings = Settings::new(cli.database_url, bind);
            settings.max_connections = max_connections;
            settings.deadline_poll = Duration::from_secs(deadline_poll_secs.max(1));
            settings.seal_interval = Duration::from_secs(seal_interval_secs.max(1));
            settings.submission_rate_limit = submission_rate_limit;
            settings.submission_burst = submission_burst.max(1);
            if trusted_proxy {
                settings.client_address = crate::limits::ClientAddress::TrustedProxy;
            }
            let running = startup::start(&settings, Arc::new(SystemClock)).await?;
            running.wait().await;
            Ok(())
        }
        Command::Migrate => {
            infra::connect_and_migrate(&cli.database_url, 2).await?;
            eprintln!("database migrated");
            Ok(())
        }
        Command::Token { command } => {
            let pool = infra::connect_and_migrate(&cli.database_url, 2).await?;
            match command {
                TokenCommand::Issue {
                    role,
                    organizer,
                    name,
                } => {
                    let role = Role::parse(&role).ok_or_else(|| {
                        anyhow::anyhow!("--role must be admin, coordinator or evaluator")
                    })?;
                    if let Some(org) = &organizer {
                        domain::values::OrganizerId::parse(org)
                            .map_err(|e| anyhow::anyhow!("--organizer: {}", e.message))?;
                    }
                    let (_, secret) =
                        tokens::issue(&pool, role, organizer.as_deref(), &name).await?;
                    println!("{secret}");
                }
                TokenCommand::List => {
                    for t in tokens::list(&pool).await? {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
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
        Command::Bench(args) => {
            let report = crate::bench::run(args).await?;
            if report
                .targets
                .iter()
                .any(|t| t.name.contains("lost") && !t.met)
            {
                anyhow::bail!("the benchmark lost or doubled submissions");
            }
            Ok(())
        }
        Command::Audit { command } => crate::audit_cli::run(command, &cli.database_url).await,
        Command::PersonalData { command } => {
            crate::personal_data_cli::run(command, &cli.database_url).await
        }
        Command::Projections { command } => {
            let pool = infra::connect_and_migrate(&cli.database_url, 4).await?;
            let all = projections::all();
            projections::runner::setup(&pool, &all).await?;
            match command {
                ProjectionsCommand::Rebuild { name } => {
                    let chosen = match name {
                        Some(n) => vec![projections::by_name(&n).ok_or_else(|| {
                            let names: Vec<_> = all.iter().map(|p| p.name()).collect();
                            anyhow::anyhow!("no projection {n}; known: {}", names.join(", "))
                        })?],
                        None => all,
                    };
                    for p in chosen {
                        let started = std::time::Instant::now();
                        let n = projections::runner::rebuild(&pool, p.as_ref()).await?;
                        eprintln!("{}: {n} events in {:.1?}", p.name(), started.elapsed());
                    }
                }
                ProjectionsCommand::Status => {
                    let rows: Vec<(String, i32, i64, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
                        "SELECT name, schema_version, last_position, updated_at FROM projection_checkpoints ORDER BY name",
                    )
                    .fetch_all(&pool)
                    .await?;
                    for (name, version, position, at) in rows {
                        println!(
                            "{name}\tv{version}\tposition {position}\t{}",
                            at.to_rfc3339()
                        );
                    }
                }
            }
            Ok(())
        }
    }
}
