//! PostgreSQL clusters of a test's own (initdb into a temporary directory, a free port), so
//! stopping, crashing or pausing one disturbs no other test; and streaming replicas of them
//! (`pg_basebackup -R`), for the tests of reads from a replica.
#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common;

/// A PostgreSQL cluster of the test's own, stopped and removed when dropped.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

impl Cluster {
    fn empty(name: &str) -> Self {
        let bin = bindir();
        let dir = std::env::temp_dir().join(format!("kdn-{name}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Cluster {
            bin,
            dir,
            port: common::free_port(),
        };
        give_to_postgres(&cluster.dir);
        cluster
    }

    /// A new cluster (not started).
    pub fn create() -> Self {
        let cluster = Self::empty("cluster");
        let data = cluster.data();
        cluster.run(
            "initdb",
            &["-D", &data, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        cluster
    }

    /// A streaming replica of the running `primary`: its base backup with `-R` (standby
    /// mode, `primary_conninfo` to the primary), on a port of its own (not started).
    pub fn replica_of(primary: &Cluster) -> Self {
        let replica = Self::empty("replica");
        let data = replica.data();
        let port = primary.port.to_string();
        replica.run(
            "pg_basebackup",
            &[
                "-D",
                &data,
                "-R",
                "-X",
                "stream",
                // A checkpoint now, not a spread one (which takes minutes on an idle server).
                "--checkpoint=fast",
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        replica
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    /// The `koordynator` database on this cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/koordynator", self.port)
    }

    /// One of PostgreSQL's programs, run as `postgres` when we are root.
    fn program(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        }
    }

    /// Runs one of PostgreSQL's programs and requires it to succeed.
    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .program(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("log").to_string_lossy().into_owned();
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    /// Stops the server without a clean shutdown, as a crash would.
    pub fn crash(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Runs `sql` with psql on the `postgres` database; its output, trimmed.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_on("postgres", sql)
    }

    /// Runs `sql` with psql on `database`; its output, trimmed.
    pub fn psql_on(&self, database: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                database,
                "-Atc",
                sql,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .program("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder of PostgreSQL's server programs.
pub fn bindir() -> PathBuf {
    let out = Command::new("pg_config").arg("--bindir").output().unwrap();
    assert!(out.status.success(), "pg_config --bindir");
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Makes `path` the `postgres` user's when we are root: PostgreSQL refuses to run as root.
pub fn give_to_postgres(path: &std::path::Path) {
    if is_root() {
        let ok = Command::new("chown")
            .args(["postgres:postgres", path.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
