//! `koordynator user add | list | disable`: the console's accounts (PAGES.md). A password is
//! read from standard input (never an argument, which `ps` and shell history would show),
//! hashed with Argon2id, and never printed or logged.

use std::io::BufRead;

use clap::Subcommand;
use infra::accounts;
use infra::tokens::Role;
use sqlx::PgPool;

/// Console account management.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; the password is the first line of standard input.
    Add {
        /// The e-mail address the person signs in with.
        #[arg(long)]
        email: String,
        /// admin, coordinator or evaluator.
        #[arg(long)]
        role: String,
        /// Organizer id (slug such as rops-torun); required for coordinators.
        #[arg(long)]
        organizer: Option<String>,
        /// The person's name, as the console greets them.
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from standard input (required: it is never an argument).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts (never their passwords).
    List,
    /// Disable an account and end its sessions.
    Disable {
        /// The account's e-mail address.
        email: String,
    },
}

/// The shortest password accepted (NIST SP 800-63B asks at least 8; a console that changes
/// the record deserves more).
pub const MIN_PASSWORD: usize = 12;

pub async fn run(pool: &PgPool, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            email,
            role,
            organizer,
            name,
            password_stdin: _,
        } => {
            let role = Role::parse(&role)
                .ok_or_else(|| anyhow::anyhow!("--role must be admin, coordinator or evaluator"))?;
            let email = email.trim().to_owned();
            domain::values::Email::parse(&email)
                .map_err(|e| anyhow::anyhow!("--email: {}", e.message))?;
            if let Some(org) = &organizer {
                domain::values::OrganizerId::parse(org)
                    .map_err(|e| anyhow::anyhow!("--organizer: {}", e.message))?;
            }
            if role == Role::Coordinator && organizer.is_none() {
                anyhow::bail!("--organizer is required for a coordinator");
            }
            let mut password = String::new();
            std::io::stdin().lock().read_line(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            if password.chars().count() < MIN_PASSWORD {
                anyhow::bail!("the password must have at least {MIN_PASSWORD} characters");
            }
            let hash =
                tokio::task::spawn_blocking(move || crate::http::console::hash_password(&password))
                    .await?
                    .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?;
            let name = if name.trim().is_empty() {
                accounts::email_key(&email)
            } else {
                name.trim().to_owned()
            };
            let id = accounts::add(pool, &email, &name, role, organizer.as_deref(), &hash).await?;
            eprintln!("account {id} added for {}", accounts::email_key(&email));
        }
        UserCommand::List => {
            for u in accounts::list(pool).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.email,
                    u.role.as_str(),
                    u.organizer.as_deref().unwrap_or("-"),
                    u.name,
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
        UserCommand::Disable { email } => {
            if !accounts::disable(pool, &email, chrono::Utc::now()).await? {
                anyhow::bail!("no account with the address {email}");
            }
            eprintln!(
                "account {} disabled; its sessions ended",
                accounts::email_key(&email)
            );
        }
    }
    Ok(())
}
