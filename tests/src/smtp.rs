//! A real SMTP server for the tests that send e-mail: [`MailServer`] starts one on loopback
//! for a single test, keeps every message it receives, and [`Received`] is such a message
//! read back (recipients, subject, text and HTML bodies, attachments).
//!
//! Why a real server: the service talks SMTP over TCP to a mail server in production, and a
//! test should go through the same conversation (connection, envelope, `DATA`, temporary
//! failures, the server going away) rather than a fake transport inside the process.
//!
//! Why aiosmtpd (`scripts/mail_server/server.py`): a small, well-kept SMTP server in Python,
//! and the project already runs pinned PyPI tools in virtual environments of the target
//! directory (as `python_env` in `scripts/lib.sh` does); the first test that needs the server
//! makes the environment from `scripts/mail_server/requirements.txt`, later runs reuse it.
//! Why not Postfix or another system MTA: it needs root, a system service and a
//! configuration per machine, and one instance cannot be started and thrown away per test.
//!
//! The server writes each message to its own directory as `NNNNNN-PID.eml` (the raw bytes)
//! next to `NNNNNN-PID.rcpt` (the envelope recipients); the names sort in arrival order.
//! The MIME parsing (RFC 2047 headers, transfer encodings, nested multiparts) is
//! `mail-parser`'s.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

/// How long the server may take to print `READY` (a loaded CI machine starting Python).
const READY_WAIT: Duration = Duration::from_secs(20);

/// How long a test process waits for another one installing the virtual environment.
const INSTALL_WAIT: Duration = Duration::from_secs(600);

/// A lock file older than this was left by a process that died while installing.
const STALE_LOCK: Duration = Duration::from_secs(900);

/// The server's standard error, in its directory (read back when it does not start).
const LOG: &str = "server.log";

/// A real SMTP server (aiosmtpd) on loopback for one test.
///
/// Plain SMTP on `127.0.0.1:port`: no TLS, no authentication. It accepts every message
/// (after the failures asked of [`MailServer::start_failing_first`]) and keeps it in a
/// directory of its own, which goes with the server when it is dropped.
pub struct MailServer {
    /// The port it listens on (kept across [`MailServer::stop`] and [`MailServer::restart`]).
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl MailServer {
    /// Starts a server on a free port, with a new empty directory.
    pub async fn start() -> MailServer {
        MailServer::start_failing_first(0).await
    }

    /// Starts a server that answers the first `n` messages `451 4.3.0 try again later` (a
    /// temporary failure, the sender should retry) without keeping them, then accepts.
    pub async fn start_failing_first(n: u32) -> MailServer {
        MailServer::start_with(&["--fail-first", &n.to_string()]).await
    }

    /// Starts a server that keeps the first message, then waits `seconds` before answering
    /// that it arrived: a sender killed meanwhile never learns it was delivered.
    pub async fn start_holding_first_reply(seconds: u32) -> MailServer {
        MailServer::start_with(&["--hold-first-reply", &seconds.to_string()]).await
    }

    async fn start_with(args: &[&str]) -> MailServer {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("mail-server-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).expect("the temporary directory must be writable");
        let child = launch(port, &dir, args).await;
        MailServer {
            port,
            dir,
            child: Some(child),
        }
    }

    /// Where to send: `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Kills the server (SIGKILL: as abrupt as a crash), keeping its port and the messages.
    /// Connections are refused until [`MailServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (stopping it first if it
    /// runs). The restarted server accepts every message: the failures of
    /// [`MailServer::start_failing_first`] are not repeated.
    pub async fn restart(&mut self) {
        self.stop();
        self.child = Some(launch(self.port, &self.dir, &[]).await);
    }

    /// Every message kept so far, in arrival order.
    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = fs::read_dir(&self.dir)
            .expect("the server's directory lives as long as the server")
            .map(|entry| {
                entry
                    .expect("the server's directory must be readable")
                    .path()
            })
            .filter(|path| path.extension().is_some_and(|extension| extension == "eml"))
            .collect();
        files.sort();
        files.into_iter().map(|eml| Received::read(&eml)).collect()
    }

    /// Waits until at least `count` messages arrived (checking every 50 ms) and returns all of
    /// them, in arrival order. Panics when `timeout` passes first, listing what arrived.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            if tokio::time::Instant::now() >= deadline {
                let arrived: Vec<String> = messages
                    .iter()
                    .map(|message| format!("  to {:?}: {:?}", message.recipients, message.subject))
                    .collect();
                panic!(
                    "expected {count} message(s) at {} within {timeout:?}, {} arrived{}\n{}",
                    self.url(),
                    messages.len(),
                    if messages.is_empty() { "" } else { ":" },
                    arrived.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A message the server received, read back.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope recipients (`RCPT TO`), in the order given: who it was delivered to,
    /// whatever the `To` and `Cc` headers say.
    pub recipients: Vec<String>,
    /// The message as received (headers and body), read as UTF-8 (invalid bytes replaced).
    pub raw: String,
    /// The `Subject` header, decoded (RFC 2047 encoded words, folded lines); empty if none.
    pub subject: String,
    /// The `Message-ID` header without its angle brackets; empty if none.
    pub message_id: String,
    /// The text/plain body, transfer encoding and charset decoded, lines ending in `\n`
    /// (from an HTML-only message: its text); empty if the message has no text body.
    pub text: String,
    /// The text/html body, decoded as `text` is; None if the message has none.
    pub html: Option<String>,
    /// The attachments: their content type (`type/subtype`, lowercase) and decoded bytes.
    pub attachments: Vec<(String, Vec<u8>)>,
}

impl Received {
    /// Reads the message the server stored as `eml`, with its `.rcpt` file.
    fn read(eml: &Path) -> Received {
        let raw = fs::read(eml)
            .unwrap_or_else(|e| panic!("cannot read the stored message {}: {e}", eml.display()));
        let recipients = fs::read_to_string(eml.with_extension("rcpt"))
            .unwrap_or_else(|e| panic!("the server writes {}'s .rcpt first: {e}", eml.display()))
            .lines()
            .map(str::to_owned)
            .collect();
        Received::parse(recipients, &raw)
    }

    /// A message of the raw bytes `raw`, delivered to `recipients`.
    fn parse(recipients: Vec<String>, raw: &[u8]) -> Received {
        let message = MessageParser::default().parse(raw).unwrap_or_else(|| {
            panic!(
                "the server received something with no headers:\n{}",
                String::from_utf8_lossy(raw)
            )
        });
        let text = message
            .text_bodies()
            .find(|part| part.is_text() && !part.is_text_html())
            .and_then(|part| part.text_contents())
            .map(str::to_owned)
            .or_else(|| message.body_text(0).map(|text| text.into_owned()))
            .unwrap_or_default();
        let html = message
            .html_bodies()
            .find(|part| part.is_text_html())
            .and_then(|part| part.text_contents())
            .map(|html| html.replace("\r\n", "\n"));
        let attachments = message
            .attachments()
            .map(|part| {
                let content_type = part.content_type().map_or_else(
                    || "application/octet-stream".to_owned(),
                    |content_type| match content_type.subtype() {
                        Some(subtype) => format!("{}/{subtype}", content_type.ctype()),
                        None => content_type.ctype().to_owned(),
                    },
                );
                (content_type.to_ascii_lowercase(), part.contents().to_vec())
            })
            .collect();
        Received {
            recipients,
            raw: String::from_utf8_lossy(raw).into_owned(),
            subject: message.subject().unwrap_or_default().to_owned(),
            message_id: message.message_id().unwrap_or_default().to_owned(),
            text: text.replace("\r\n", "\n"),
            html,
            attachments,
        }
    }
}

/// Starts `server.py` on `port` over `dir` and waits for its `READY` line.
async fn launch(port: u16, dir: &Path, args: &[&str]) -> Child {
    let python = tokio::task::spawn_blocking(venv_python)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(LOG))
        .expect("the server's directory must be writable");
    let mut child = Command::new(python)
        .arg(workspace().join("scripts/mail_server/server.py"))
        .args(["--port", &port.to_string()])
        .args(args)
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("the virtual environment's python must run");
    let stdout = child.stdout.take().expect("stdout was asked piped");
    let (ready_sender, ready) = tokio::sync::oneshot::channel();
    // Reads the first line, then everything else until the server exits, so that its
    // stdout never closes under it.
    std::thread::spawn(move || {
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let _ = ready_sender.send(line);
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
    });
    let expected = format!("READY {port}");
    let problem = match tokio::time::timeout(READY_WAIT, ready).await {
        Ok(Ok(line)) if line.trim_end() == expected => return child,
        Ok(Ok(line)) if line.is_empty() => "exited without printing READY".to_owned(),
        Ok(Ok(line)) => format!("printed {line:?} instead of {expected:?}"),
        Ok(Err(_)) => "closed its output without printing READY".to_owned(),
        Err(_) => format!("printed nothing within {READY_WAIT:?}"),
    };
    let _ = child.kill();
    let status = child.wait();
    let log = fs::read_to_string(dir.join(LOG)).unwrap_or_default();
    panic!("the mail server on port {port} {problem} ({status:?}); its log:\n{log}");
}

/// A TCP port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding 127.0.0.1:0 must work on a test machine")
        .port()
}

/// The workspace root (the parent of this crate).
fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives inside the workspace")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else the workspace's `target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        // A relative CARGO_TARGET_DIR is taken from the workspace root.
        Some(dir) => workspace().join(dir),
        None => workspace().join("target"),
    }
}

/// The python of the server's virtual environment, made once per test process.
fn venv_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(python_env).clone()
}

/// Mirrors `python_env` of `scripts/lib.sh`: a virtual environment in the target directory
/// holding exactly the pinned requirements, made again when the requirements file changed
/// (its SHA-256 kept in `.requirements`; the network is needed only then). Another test
/// process may be doing the same: a lock file lets one install while the other waits.
/// Returns the environment's python.
fn python_env() -> PathBuf {
    let target = target_dir();
    let venv = target.join("mail-server-venv");
    let requirements = workspace().join("scripts/mail_server/requirements.txt");
    let stamp = hex::encode(Sha256::digest(
        fs::read(&requirements).expect("scripts/mail_server/requirements.txt must be readable"),
    ));
    let stamp_file = venv.join(".requirements");
    let current = || fs::read_to_string(&stamp_file).is_ok_and(|made| made.trim() == stamp);
    if !current() {
        fs::create_dir_all(&target).expect("the target directory must be writable");
        let _lock = InstallLock::acquire(target.join("mail-server-venv.lock"));
        if !current() {
            let _ = fs::remove_dir_all(&venv);
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
            run(Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
                .arg(requirements));
            fs::write(&stamp_file, format!("{stamp}\n"))
                .expect("the virtual environment must be writable");
        }
    }
    venv.join("bin/python")
}

/// Runs `command` to its end, panicking unless it succeeds.
fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(status.success(), "{command:?} failed: {status}");
}

/// A lock file held while one test process installs the virtual environment, removed when
/// dropped (also when the installation panics).
struct InstallLock(PathBuf);

impl InstallLock {
    /// Creates the lock file `path`, waiting while another process holds it.
    fn acquire(path: PathBuf) -> InstallLock {
        let deadline = Instant::now() + INSTALL_WAIT;
        loop {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => return InstallLock(path),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                    let stale = fs::metadata(&path)
                        .and_then(|metadata| metadata.modified())
                        .ok()
                        .and_then(|modified| modified.elapsed().ok())
                        .is_some_and(|age| age > STALE_LOCK);
                    if stale {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "another process has held {} for {INSTALL_WAIT:?}; remove it if none runs",
                        path.display()
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("cannot create the lock file {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}
