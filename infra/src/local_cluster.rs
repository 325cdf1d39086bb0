//! A private PostgreSQL for a machine that has PostgreSQL installed but no server running:
//! a cluster of Koordynator's own in a folder of its own, started from the installed server
//! programs and reached only through a Unix socket inside that folder (no TCP port, so it
//! cannot collide with another server nor be reached from the network).
//!
//! `pg_ctl` does the hard parts — waiting until the server accepts connections, stale
//! `postmaster.pid` files, crash recovery after a power cut — so this module only finds the
//! programs, creates the cluster once, and decides who stops it. Several `koordynator`
//! commands may use the cluster at once (`serve` in one terminal, `token issue` in another):
//! each holds a shared lock on `users.lock` while it does, and the last one out stops the
//! server. A command that dies without stopping it (SIGKILL, power cut) leaves a server
//! running, or a stale pid file; the next command takes it over, and stops it in turn.
//!
//! No crate fitted (docs/architecture.md, "Choices of crates"): pgtemp, temp-postgres and
//! tmp-postgrust make throw-away servers for tests (a new folder each start, a TCP port),
//! postgresql_embedded and pg-embed download PostgreSQL from the internet.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// The folder under the data directory that holds the cluster itself.
const CLUSTER: &str = "postgres";
/// The server's log, inside the cluster folder (written by `pg_ctl` as the server's owner).
const LOG: &str = "server.log";
/// The port number in the socket's name (`.s.PGSQL.5432`); no TCP port is opened.
const SOCKET_PORT: u16 = 5432;
/// How long `pg_ctl start` may wait, crash recovery included.
const START_TIMEOUT: Duration = Duration::from_secs(300);

/// Why the private PostgreSQL could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LocalClusterError {
    /// No server programs anywhere we looked.
    #[error("no DATABASE_URL is set and no PostgreSQL answers at 127.0.0.1:5432, so a private one was to be started, but PostgreSQL's server programs (initdb, pg_ctl) are not in {searched}: install them (Debian, Ubuntu: apt install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql) or name their folder with KOORDYNATOR_POSTGRES_BIN, or point DATABASE_URL at a running server")]
    NoPrograms {
        /// Where we looked, for the message.
        searched: String,
    },
    /// We run as root, PostgreSQL refuses to, and there is no `postgres` user to run it as.
    #[error("PostgreSQL will not run as root and this machine has no `postgres` user to run it as: create one (useradd --system postgres), run koordynator as another user, or point DATABASE_URL at a running server")]
    NoPostgresUser,
    /// A file or folder of the cluster could not be made or read.
    #[error("the private PostgreSQL's folder {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// One of PostgreSQL's programs failed; `detail` holds the end of what it said.
    #[error("{program} failed for the private PostgreSQL in {data}: {detail}")]
    Program {
        /// `initdb`, `pg_ctl start`…
        program: String,
        /// The cluster's folder.
        data: PathBuf,
        /// The last lines it (or the server's log) wrote.
        detail: String,
    },
}

/// Where the private cluster lives when no folder is given: `/var/lib/koordynator` for root
/// (root's home is closed to the `postgres` user the server runs as), else the user's data
/// folder (`$XDG_DATA_HOME/koordynator`, `~/.local/share/koordynator`).
pub fn default_data_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/lib/koordynator");
    }
    let nonempty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(data) = nonempty("XDG_DATA_HOME") {
        return PathBuf::from(data).join("koordynator");
    }
    match nonempty("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/koordynator"),
        None => PathBuf::from("koordynator-data"),
    }
}

/// The folder holding `initdb` and `pg_ctl`: `given` when set, else `pg_config --bindir`,
/// the newest of Debian's `/usr/lib/postgresql/N/bin`, of PGDG's `/usr/pgsql-N/bin`, and
/// finally the `PATH` (Fedora, Arch, Homebrew).
pub fn find_programs(given: Option<&Path>) -> Result<PathBuf, LocalClusterError> {
    let has_programs = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = given {
        return if has_programs(dir) {
            Ok(dir.to_owned())
        } else {
            Err(LocalClusterError::NoPrograms {
                searched: dir.display().to_string(),
            })
        };
    }
    let mut candidates = Vec::new();
    if let Ok(out) = std::process::Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    candidates.extend(newest_versions("/usr/lib/postgresql", "", "bin"));
    candidates.extend(newest_versions("/usr", "pgsql-", "bin"));
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| has_programs(dir))
        .ok_or_else(|| LocalClusterError::NoPrograms {
            searched: "pg_config --bindir, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and PATH"
                .to_owned(),
        })
}

/// `parent/<prefix>N/<sub>` for every numbered version N found, newest first.
fn newest_versions(parent: &str, prefix: &str, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let version = name.strip_prefix(prefix)?.parse::<u32>().ok()?;
            Some((version, e.path().join(sub)))
        })
        .collect();
    found.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    found.into_iter().map(|(_, dir)| dir).collect()
}

/// Whether [`LocalCluster::start`] found the server running or started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// Created now (initdb) and started.
    Created,
    /// Started on an existing cluster (recovering it when it had crashed).
    Started,
    /// Already running: used by another command, or left by one that died.
    AlreadyRunning,
}

/// What [`LocalCluster::stop`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The server was stopped (this was its last user).
    Stopped,
    /// Another command still uses it: left running.
    StillInUse,
}

/// A private cluster in use by this process (see the module's documentation).
#[derive(Debug)]
pub struct LocalCluster {
    dir: PathBuf,
    programs: PathBuf,
    /// `(uid, gid)` of `postgres` when we are root: PostgreSQL's programs run as that user.
    run_as: Option<(u32, u32)>,
    /// Held shared while this process uses the cluster.
    users: File,
}

impl LocalCluster {
    /// Makes sure the cluster in `dir` exists and runs, creating it (`initdb`) on first use.
    pub async fn start(
        dir: &Path,
        programs: &Path,
    ) -> Result<(LocalCluster, Started), LocalClusterError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| LocalClusterError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let run_as = if nix::unistd::Uid::effective().is_root() {
            let user = nix::unistd::User::from_name("postgres")
                .ok()
                .flatten()
                .ok_or(LocalClusterError::NoPostgresUser)?;
            Some((user.uid.as_raw(), user.gid.as_raw()))
        } else {
            None
        };
        let open_lock = |name: &str| {
            let path = dir.join(name);
            File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(io(&path))
        };
        // `start.lock` makes starting and stopping one at a time, so a command starting
        // while the last user stops waits and then starts the server again.
        let start = open_lock("start.lock")?;
        let users = open_lock("users.lock")?;
        let start = lock(start, Lock::Exclusive).await.map_err(io(dir))?;
        let users = lock(users, Lock::Shared).await.map_err(io(dir))?;
        let cluster = LocalCluster {
            dir: dir.to_owned(),
            programs: programs.to_owned(),
            run_as,
            users,
        };
        let started = cluster.ensure_running().await;
        drop(start);
        Ok((cluster, started?))
    }

    /// The cluster's folder (its socket is there too).
    pub fn data(&self) -> PathBuf {
        self.dir.join(CLUSTER)
    }

    /// The URL of `database` on this cluster, through its socket.
    pub fn url(&self, database: &str) -> String {
        socket_url(&self.data(), database)
    }

    /// Stops the server unless another command still uses it.
    pub async fn stop(self) -> Result<Stopped, LocalClusterError> {
        let dir = self.dir.clone();
        let io = |source| LocalClusterError::Io {
            path: dir.clone(),
            source,
        };
        let start = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("start.lock"))
            .map_err(io)?;
        let _start = lock(start, Lock::Exclusive).await.map_err(io)?;
        // Turning our shared lock into an exclusive one succeeds only when no other
        // command holds one: then we are the last user.
        match self.users.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(Stopped::StillInUse),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let data = self.data();
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"])
            .await
            .map_err(|detail| self.failed("pg_ctl stop", &data, detail))?;
        Ok(Stopped::Stopped)
    }

    async fn ensure_running(&self) -> Result<Started, LocalClusterError> {
        let data = self.data();
        let mut created = false;
        if !data.join("PG_VERSION").is_file() {
            self.init(&data).await?;
            created = true;
        }
        // pg_ctl status: 0 running, 3 not running (a stale pid file counts as not running).
        // Should pg_ctl itself not run, `start` below fails and says why.
        if self.pg_ctl(&["status"]).await.is_ok() {
            return Ok(Started::AlreadyRunning);
        }
        let log = data.join(LOG);
        let timeout = START_TIMEOUT.as_secs().to_string();
        let log_arg = log.to_string_lossy().into_owned();
        if let Err(detail) = self
            .pg_ctl(&["start", "-w", "-t", &timeout, "-l", &log_arg])
            .await
        {
            // The server's own reason is in its log, not in pg_ctl's output.
            let detail =
                tail(&std::fs::read_to_string(&log).unwrap_or_default(), 5).unwrap_or(detail);
            return Err(self.failed("pg_ctl start", &data, detail));
        }
        Ok(if created {
            Started::Created
        } else {
            Started::Started
        })
    }

    /// `initdb`, then the settings that keep the server to its socket.
    async fn init(&self, data: &Path) -> Result<(), LocalClusterError> {
        let io = |source| LocalClusterError::Io {
            path: data.to_owned(),
            source,
        };
        std::fs::create_dir_all(data).map_err(io)?;
        if let Some((uid, gid)) = self.run_as {
            std::os::unix::fs::chown(data, Some(uid), Some(gid)).map_err(io)?;
        }
        let out = self
            .program("initdb")
            .arg("-D")
            .arg(data)
            // trust is safe here: the socket sits in the cluster's folder (mode 0700), so
            // only its owner (and root) can reach it, and there is no TCP listener at all.
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ])
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|source| LocalClusterError::Io {
                path: self.programs.join("initdb"),
                source,
            })?;
        if !out.status.success() {
            let detail = tail(&String::from_utf8_lossy(&out.stderr), 5).unwrap_or_default();
            return Err(self.failed("initdb", data, detail));
        }
        let socket_dir = data.to_string_lossy().replace('\'', "''");
        let settings = format!(
            "\n# Koordynator's private cluster: a Unix socket in this folder, no TCP port.\n\
             listen_addresses = ''\n\
             port = {SOCKET_PORT}\n\
             unix_socket_directories = '{socket_dir}'\n\
             unix_socket_permissions = 0700\n"
        );
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).map_err(io)?;
        text.push_str(&settings);
        std::fs::write(&conf, text).map_err(io)?;
        Ok(())
    }

    /// Runs `pg_ctl -D <data> <args>`; `Err` holds the end of what it said.
    async fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        let out = self
            .program("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(args)
            // The server started by pg_ctl inherits these: a pipe would stay open for as
            // long as it runs (its output goes to the log named by -l).
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .await
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(tail(&String::from_utf8_lossy(&out.stderr), 3).unwrap_or_default())
        }
    }

    /// One of PostgreSQL's programs, run as `postgres` when we are root.
    fn program(&self, name: &str) -> Command {
        let mut command = Command::new(self.programs.join(name));
        if let Some((uid, gid)) = self.run_as {
            command.uid(uid).gid(gid);
            // `postgres` may not enter the folder we were started in.
            command.current_dir(&self.dir);
        }
        command
    }

    fn failed(&self, program: &str, data: &Path, detail: String) -> LocalClusterError {
        LocalClusterError::Program {
            program: program.to_owned(),
            data: data.to_owned(),
            detail,
        }
    }
}

#[derive(Clone, Copy)]
enum Lock {
    Shared,
    Exclusive,
}

/// Takes a lock on `file`, waiting for it off the async threads.
async fn lock(file: File, kind: Lock) -> io::Result<File> {
    tokio::task::spawn_blocking(move || {
        match kind {
            Lock::Shared => file.lock_shared()?,
            Lock::Exclusive => file.lock()?,
        }
        Ok(file)
    })
    .await
    .map_err(io::Error::other)?
}

/// The last `lines` non-empty lines of `text`, joined by " / "; `None` when there are none.
fn tail(text: &str, lines: usize) -> Option<String> {
    let all: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = all.len().saturating_sub(lines);
    let joined = all[start..].join(" / ");
    (!joined.is_empty()).then_some(joined)
}

/// The URL of `database` through the socket in `socket_dir`; the folder is percent-encoded
/// for the query (sqlx decodes `host=` before using it), whatever characters its name has.
fn socket_url(socket_dir: &Path, database: &str) -> String {
    let socket: String = socket_dir
        .to_string_lossy()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("postgres://postgres@localhost:{SOCKET_PORT}/{database}?host={socket}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::postgres::PgConnectOptions;
    use std::str::FromStr;

    #[test]
    fn the_url_reaches_the_socket_in_the_cluster_folder_whatever_its_name() {
        let dir = PathBuf::from("/tmp/dane koordynatora/ąę&x=1");
        let url = socket_url(&dir, "koordynator");
        let options = PgConnectOptions::from_str(&url).expect("parses");
        assert_eq!(options.get_socket(), Some(&dir));
        assert_eq!(options.get_database(), Some("koordynator"));
        assert_eq!(options.get_username(), "postgres");
    }

    #[test]
    fn a_failure_keeps_the_last_lines_said() {
        assert_eq!(
            tail("a\n\nb\nc\n", 2).as_deref(),
            Some("b / c"),
            "blank lines are skipped"
        );
        assert_eq!(tail("\n \n", 2), None);
    }

    #[test]
    fn a_folder_without_the_programs_is_named_in_the_refusal() {
        let empty = std::env::temp_dir().join(format!("kdn-no-pg-{}", std::process::id()));
        std::fs::create_dir_all(&empty).expect("temp dir");
        let refused = find_programs(Some(&empty)).expect_err("no initdb there");
        assert!(refused.to_string().contains(&empty.display().to_string()));
        assert!(refused.to_string().contains("apt install postgresql"));
        let _ = std::fs::remove_dir(&empty);
    }
}
