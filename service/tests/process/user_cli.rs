//! The real binary's `user add | list | disable`: the password read from standard input
//! (never an argument), too short refused, a coordinator needs its organizer, the list shows
//! no secret, a disabled account is marked so.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use tests::database_url;

use crate::common::{self, BIN};

fn run(db: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn accounts_are_added_listed_and_disabled_with_the_password_from_stdin() {
    let _alone = common::alone_blocking();
    let db = database_url("kdn_usercli");
    let _drop_db = tests::DropDatabase::new(&db);
    let add = |email: &str, role: &str, organizer: Option<&str>, password: &str| {
        let mut args = vec![
            "user",
            "add",
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
        ];
        if let Some(o) = organizer {
            args.extend(["--organizer", o]);
        }
        run(&db, &args, &format!("{password}\n"))
    };
    let ok = add(
        "Anna@ROPS-torun.pl",
        "coordinator",
        Some("rops-torun"),
        "długie hasło 2026",
    );
    assert!(ok.status.success(), "{ok:?}");
    let short = add(
        "jan@rops-torun.pl",
        "coordinator",
        Some("rops-torun"),
        "krótkie",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));
    let no_org = add(
        "jan@rops-torun.pl",
        "coordinator",
        None,
        "długie hasło 2026",
    );
    assert!(String::from_utf8_lossy(&no_org.stderr).contains("--organizer is required"));
    let twice = add("anna@rops-torun.pl", "admin", None, "długie hasło 2026");
    assert!(
        !twice.status.success(),
        "one account per address, however typed"
    );

    let list = run(&db, &["user", "list"], "");
    let out = String::from_utf8(list.stdout).unwrap();
    assert_eq!(
        out.trim(),
        "anna@rops-torun.pl\tcoordinator\trops-torun\tanna@rops-torun.pl\tactive"
    );
    assert!(!out.contains("argon2"), "no hash printed");

    let disable = run(&db, &["user", "disable", "anna@rops-torun.pl"], "");
    assert!(disable.status.success(), "{disable:?}");
    let out = String::from_utf8(run(&db, &["user", "list"], "").stdout).unwrap();
    assert!(out.trim().ends_with("disabled"), "{out}");
    let unknown = run(&db, &["user", "disable", "nikt@rops-torun.pl"], "");
    assert!(!unknown.status.success());
}
