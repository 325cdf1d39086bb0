//! Which PostgreSQL a command works on. `DATABASE_URL` when it is given; otherwise the server
//! at the default address when one answers there; otherwise a private PostgreSQL of
//! Koordynator's own (`infra::local_cluster`), so that `koordynator serve --demo` works on a
//! laptop with PostgreSQL installed but not running. The command stops the private server
//! when it ends, unless another command still uses it.

use std::path::PathBuf;
use std::time::Duration;

use infra::local_cluster::{self, LocalCluster, Started, Stopped};

/// Where the server is looked for when `DATABASE_URL` is not given.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/koordynator";
const DEFAULT_ADDRESS: (&str, u16) = ("127.0.0.1", 5432);

/// The database settings every command shares.
#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// PostgreSQL database (created when missing, migrated at start). Unset: the server at
    /// 127.0.0.1:5432 when one answers there, else a private PostgreSQL (--embedded).
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Without DATABASE_URL, use a private PostgreSQL even when a server answers at
    /// 127.0.0.1:5432 (without this flag, only when none does): a cluster of Koordynator's
    /// own, started from the installed server programs, reached through a Unix socket in its
    /// folder (no TCP port), stopped when the last command using it stops.
    #[arg(long, env = "KOORDYNATOR_EMBEDDED", global = true)]
    pub embedded: bool,

    /// Folder of the private PostgreSQL (default: ~/.local/share/koordynator, or
    /// /var/lib/koordynator for root).
    #[arg(long, env = "KOORDYNATOR_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Folder of PostgreSQL's server programs (initdb, pg_ctl) for the private PostgreSQL
    /// (default: found by pg_config, in /usr/lib/postgresql/*/bin, or on the PATH).
    #[arg(long, env = "KOORDYNATOR_POSTGRES_BIN", global = true)]
    pub postgres_bin: Option<PathBuf>,
}

/// The database a command works on, and the private server it started or joined, if any.
#[derive(Debug)]
pub struct Database {
    /// What to connect to.
    pub url: String,
    local: Option<LocalCluster>,
}

impl Database {
    /// Chooses the database (see the module's documentation), starting the private server
    /// when that is the one.
    pub async fn open(args: &DatabaseArgs) -> anyhow::Result<Database> {
        if let Some(url) = args
            .database_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            return Ok(Database {
                url: url.to_owned(),
                local: None,
            });
        }
        let why = if args.embedded {
            "--embedded"
        } else if answers_at_default_address().await {
            return Ok(Database {
                url: DEFAULT_URL.to_owned(),
                local: None,
            });
        } else {
            "no DATABASE_URL and no server at 127.0.0.1:5432"
        };
        let programs = local_cluster::find_programs(args.postgres_bin.as_deref())?;
        let dir = args
            .data_dir
            .clone()
            .unwrap_or_else(local_cluster::default_data_dir);
        let (cluster, started) = LocalCluster::start(&dir, &programs).await?;
        let how = match started {
            Started::Created => "created and started",
            Started::Started => "started",
            Started::AlreadyRunning => "already running",
        };
        tracing::info!(
            data = %cluster.data().display(),
            programs = %programs.display(),
            "{why}: a private PostgreSQL, {how}"
        );
        Ok(Database {
            url: cluster.url("koordynator"),
            local: Some(cluster),
        })
    }

    /// Stops the private server when this command was its last user.
    pub async fn close(self) {
        let Some(cluster) = self.local else { return };
        let data = cluster.data();
        match cluster.stop().await {
            Ok(Stopped::Stopped) => {
                tracing::info!(data = %data.display(), "the private PostgreSQL stopped");
            }
            Ok(Stopped::StillInUse) => tracing::info!(
                data = %data.display(),
                "the private PostgreSQL is left running: another koordynator command uses it"
            ),
            Err(e) => tracing::error!(error = %e, "the private PostgreSQL did not stop"),
        }
    }
}

/// Whether anything accepts a TCP connection at 127.0.0.1:5432 within a second.
async fn answers_at_default_address() -> bool {
    let connect = tokio::net::TcpStream::connect(DEFAULT_ADDRESS);
    matches!(
        tokio::time::timeout(Duration::from_secs(1), connect).await,
        Ok(Ok(_))
    )
}
