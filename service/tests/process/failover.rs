//! Failover on a real HA system: three PostgreSQL nodes under Patroni (synchronous mode) over
//! etcd, the service reaching the primary through HAProxy on Patroni's health checks, all
//! from the configuration files in `scripts/failover/`. Under a load of submissions the
//! primary's postmaster is killed with SIGKILL. Meanwhile the service answers 503 (never a
//! 500), and carries on without a restart once a new primary is there; afterwards every
//! acknowledged submission is on the new primary exactly once, the hash chain verifies
//! (`audit verify`), the read models converge, and the old primary rejoins as a standby. The
//! time without a primary is measured and printed.
//!
//! Ignored by plain `cargo test`: it needs Debian's `patroni`, `etcd-server` and `haproxy`.
//! `scripts/failover.sh` installs them when missing and runs it (the README's test command
//! does).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::Connection;
use tests::eventually;

use crate::cluster::{bindir, give_to_postgres, is_root};
use crate::common::{
    self, coordinator_token, free_port, open_term, stored_once, wait_healthy, KillOnDrop, Load, BIN,
};

const CLIENTS: u32 = 8;
const NODES: usize = 3;

/// One Patroni node: its ports and process.
struct Node {
    name: String,
    pg_port: u16,
    api_port: u16,
    dir: PathBuf,
    patroni: Child,
}

/// etcd, three Patroni nodes and HAProxy in a temporary directory; all stopped and removed
/// when dropped.
struct Ha {
    dir: PathBuf,
    etcd: Child,
    nodes: Vec<Node>,
    haproxy: Option<Child>,
    port: u16,
}

/// The `postgres` user's ids (PostgreSQL, so Patroni, refuses to run as root).
fn postgres_ids() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// `template` (a file in scripts/failover/) with its @…@ fields filled.
fn fill(template: &str, fields: &[(&str, String)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/failover")
        .join(template);
    let mut text = std::fs::read_to_string(path).unwrap();
    for (name, value) in fields {
        text = text.replace(&format!("@{name}@"), value);
    }
    assert!(
        !text.contains("@NAME@") && !text.contains("_PORT@"),
        "every field filled"
    );
    text
}

impl Ha {
    fn start() -> Ha {
        let dir = std::env::temp_dir().join(format!("kdn-ha-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let (client, peer) = (free_port(), free_port());
        let log = std::fs::File::create(dir.join("etcd.log")).unwrap();
        let etcd = Command::new("etcd")
            .args([
                "--name",
                "e1",
                "--data-dir",
                &dir.join("etcd").to_string_lossy(),
                "--listen-client-urls",
                &format!("http://127.0.0.1:{client}"),
                "--advertise-client-urls",
                &format!("http://127.0.0.1:{client}"),
                "--listen-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-advertise-peer-urls",
                &format!("http://127.0.0.1:{peer}"),
                "--initial-cluster",
                &format!("e1=http://127.0.0.1:{peer}"),
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("etcd (Debian's etcd-server) is installed");
        let mut ha = Ha {
            dir: dir.clone(),
            etcd,
            nodes: Vec::new(),
            haproxy: None,
            port: free_port(),
        };
        for n in 1..=NODES {
            let node_dir = dir.join(format!("node{n}"));
            std::fs::create_dir_all(&node_dir).unwrap();
            give_to_postgres(&node_dir);
            let (pg_port, api_port) = (free_port(), free_port());
            let config = fill(
                "patroni.yml",
                &[
                    ("NAME", format!("node{n}")),
                    ("API_PORT", api_port.to_string()),
                    ("PG_PORT", pg_port.to_string()),
                    ("ETCD", format!("127.0.0.1:{client}")),
                    ("DATA", node_dir.join("data").to_string_lossy().into_owned()),
                    ("BIN_DIR", bindir().to_string_lossy().into_owned()),
                    ("DIR", node_dir.to_string_lossy().into_owned()),
                ],
            );
            let config_path = node_dir.join("patroni.yml");
            std::fs::write(&config_path, config).unwrap();
            give_to_postgres(&config_path);
            let mut patroni = Command::new("patroni");
            patroni
                .arg(&config_path)
                .current_dir(&node_dir)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(node_dir.join("patroni.log")).unwrap())
                .stderr(Stdio::null());
            if is_root() {
                use std::os::unix::process::CommandExt;
                let (uid, gid) = postgres_ids().unwrap();
                patroni.uid(uid).gid(gid).env("HOME", &node_dir);
            }
            ha.nodes.push(Node {
                name: format!("node{n}"),
                pg_port,
                api_port,
                dir: node_dir,
                patroni: patroni
                    .spawn()
                    .expect("patroni (Debian's patroni) is installed"),
            });
        }
        ha
    }

    fn start_haproxy(&mut self) {
        let mut fields = vec![("LISTEN_PORT", self.port.to_string())];
        let names: Vec<(String, String)> = (1..=NODES)
            .map(|n| (format!("PG_PORT_{n}"), format!("API_PORT_{n}")))
            .collect();
        for (node, (pg, api)) in self.nodes.iter().zip(&names) {
            fields.push((pg.as_str(), node.pg_port.to_string()));
            fields.push((api.as_str(), node.api_port.to_string()));
        }
        let config = self.dir.join("haproxy.cfg");
        std::fs::write(&config, fill("haproxy.cfg", &fields)).unwrap();
        self.haproxy = Some(
            Command::new("haproxy")
                .arg("-f")
                .arg(&config)
                .arg("-db")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(self.dir.join("haproxy.log")).unwrap())
                .stderr(Stdio::null())
                .spawn()
                .expect("haproxy (Debian's haproxy) is installed"),
        );
    }

    /// The `koordynator` database through HAProxy: always the current primary.
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/koordynator", self.port)
    }

    /// Patroni's view of the cluster (any node that answers): (name, role, state) per member.
    async fn members(&self, http: &reqwest::Client) -> Vec<(String, String, String)> {
        for node in &self.nodes {
            let url = format!("http://127.0.0.1:{}/cluster", node.api_port);
            let Ok(r) = http.get(url).send().await else {
                continue;
            };
            let Ok(cluster) = r.json::<Value>().await else {
                continue;
            };
            return cluster["members"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| {
                    let field = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
                    (field("name"), field("role"), field("state"))
                })
                .collect();
        }
        Vec::new()
    }

    /// Waits until a leader, a synchronous standby and a replica are all running.
    async fn healthy(&self, http: &reqwest::Client, within: Duration) -> Vec<(String, String)> {
        eventually(within, || async {
            let members = self.members(http).await;
            let running = |role: &str| members.iter().any(|(_, r, s)| r == role && s == "running");
            let all_running = members.len() == NODES
                && members
                    .iter()
                    .all(|(_, _, s)| s == "running" || s == "streaming");
            (all_running && running("leader") && running("sync_standby"))
                .then(|| members.into_iter().map(|(n, r, _)| (n, r)).collect())
        })
        .await
        .unwrap_or_else(|| panic!("the cluster did not become healthy: {}", self.logs()))
    }

    fn postmaster(&self, name: &str) -> u32 {
        let node = self.nodes.iter().find(|n| n.name == name).unwrap();
        let pid = std::fs::read_to_string(node.dir.join("data/postmaster.pid")).unwrap();
        pid.lines().next().unwrap().trim().parse().unwrap()
    }

    /// Whether HAProxy leads to a primary now (a new connection, within a second).
    async fn primary_reachable(&self) -> bool {
        let attempt = async {
            let mut c = sqlx::PgConnection::connect(&format!(
                "postgres://postgres@127.0.0.1:{}/postgres",
                self.port
            ))
            .await
            .ok()?;
            let recovery: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut c)
                .await
                .ok()?;
            Some(!recovery)
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), attempt).await,
            Ok(Some(true))
        )
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for node in &self.nodes {
            let log = std::fs::read_to_string(node.dir.join("patroni.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            out.push_str(&format!("\n--- {} ---\n", node.name));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Ha {
    fn drop(&mut self) {
        if let Some(h) = &mut self.haproxy {
            let _ = h.kill();
            let _ = h.wait();
        }
        for node in &mut self.nodes {
            let _ = node.patroni.kill();
            let _ = node.patroni.wait();
        }
        // Patroni killed outright leaves its PostgreSQL running: stop whatever still runs
        // from this test's folder.
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", &self.dir.to_string_lossy()])
            .status();
        let _ = self.etcd.kill();
        let _ = self.etcd.wait();
        if std::env::var_os("KOORDYNATOR_FAILOVER_KEEP").is_some() {
            eprintln!("the failover test's folder is kept: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs Debian's patroni, etcd-server and haproxy: scripts/failover.sh installs them and runs it"]
async fn failover_to_the_synchronous_standby_loses_no_acknowledged_submission() {
    let _alone = common::alone().await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut ha = Ha::start();
    let members = ha.healthy(&http, Duration::from_secs(90)).await;
    ha.start_haproxy();
    // HAProxy counts every node up when it starts, until its checks say otherwise (a second
    // here): wait until new connections keep landing on the primary, whichever node the
    // round robin picks.
    eventually(Duration::from_secs(20), || async {
        for _ in 0..2 * NODES {
            if !ha.primary_reachable().await {
                return None;
            }
        }
        Some(())
    })
    .await
    .expect("HAProxy leads to the primary only");

    let db = ha.url();
    let token = coordinator_token(&db);
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let service_log = ha.dir.join("service.log");
    let _service = KillOnDrop(
        Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(["--submission-rate-limit", "0"])
            .env("DATABASE_URL", &db)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&service_log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_healthy(&http, &base).await;
    let deadline = chrono::Utc::now() + chrono::Duration::days(1);
    let (visit, term) = open_term(&http, &base, &token, 10_000, deadline).await;
    let url = format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications");
    let load = Load::start(&http, CLIENTS, move |_, _| url.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The machine of the primary dies, as far as PostgreSQL is concerned.
    let leader = members
        .iter()
        .find(|(_, role)| role == "leader")
        .map(|(name, _)| name.clone())
        .unwrap();
    let pid = ha.postmaster(&leader);
    let killed = Instant::now();
    assert!(Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    // The time without a primary: from the kill until HAProxy leads to a new one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let back = eventually(Duration::from_secs(60), || async {
        ha.primary_reachable().await.then_some(())
    })
    .await;
    let without_primary = killed.elapsed();
    assert!(back.is_some(), "a new primary: {}", ha.logs());
    // The load goes on against the new primary, through the same service process.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (acknowledged, attempts) = load.stop().await;

    let after = ha.healthy(&http, Duration::from_secs(90)).await;
    let new_leader = after
        .iter()
        .find(|(_, role)| role == "leader")
        .map(|(name, _)| name.clone())
        .unwrap();
    assert_ne!(new_leader, leader, "a standby took over");
    assert!(
        after.iter().any(|(n, r)| n == &leader && r != "leader"),
        "the old primary rejoined as a standby: {after:?}"
    );

    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let stored = stored_once(&pool, &acknowledged).await;
    let converged = eventually(Duration::from_secs(30), || async {
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_applications")
            .fetch_one(&pool)
            .await
            .ok()?;
        (rows == stored.len() as i64).then_some(())
    })
    .await;
    assert!(converged.is_some(), "the read models converge");
    common::audit_verifies(&db);
    let r = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(
        r.status().as_u16(),
        200,
        "the same service process carries on"
    );
    pool.close().await;
    println!(
        "failover: {leader} -> {new_leader}; no primary for {:.1} s; {attempts} requests, {} acknowledged, {} stored, 0 lost, 0 doubled",
        without_primary.as_secs_f64(),
        acknowledged.len(),
        stored.len()
    );
}

/// `koordynator bench` on a single server and on the synchronous cluster, one after the
/// other in one run on this machine (docs/scaling.md §3 has the figures). Needs the release
/// binary: `scripts/failover.sh --bench` builds it and names it in `KOORDYNATOR_BENCH_BIN`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a benchmark: scripts/failover.sh --bench runs it with the release binary"]
async fn benchmark_of_a_single_server_beside_the_synchronous_cluster() {
    let _alone = common::alone().await;
    let bench = std::env::var("KOORDYNATOR_BENCH_BIN")
        .expect("KOORDYNATOR_BENCH_BIN names the release binary (scripts/failover.sh --bench)");
    let output = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks-ha");
    std::fs::create_dir_all(&output).unwrap();
    let http = reqwest::Client::new();
    let single = crate::cluster::Cluster::create();
    single.start();
    let mut ha = Ha::start();
    ha.healthy(&http, Duration::from_secs(90)).await;
    ha.start_haproxy();
    eventually(Duration::from_secs(20), || async {
        ha.primary_reachable().await.then_some(())
    })
    .await
    .expect("HAProxy leads to the primary");
    for (name, port) in [("single", single.port), ("cluster", ha.port)] {
        let status = Command::new(&bench)
            .args(["bench", "--server"])
            .arg(format!("postgres://postgres@127.0.0.1:{port}"))
            .args(["--events", "20000", "--output"])
            .arg(output.join(format!("{name}.json")))
            .env("RUST_LOG", "warn")
            .status()
            .unwrap();
        assert!(status.success(), "bench on the {name}");
    }
}
