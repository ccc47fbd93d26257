//! The ledger as a file a seller can lose, replace or reach by two names: a run notices when
//! the ledger is not the one earlier runs wrote and stops rather than send again, and two runs
//! that reach one ledger file by any name never send at once.

use crate::send::{
    a_second_run_waits_its_turn, accepted, many, one_reminder, plain_server, send, send_json,
    smtp_config, wait_for_arrivals,
};
use crate::support::smtp::SmtpServer;
use crate::support::{GENERIC_HEADER, NOW, Test};

/// Removes the ledger file and what SQLite keeps beside it (as `rm payremind.db*` would, but
/// keeping the sidecar).
fn delete_ledger(test: &Test, name: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let path = test.path(&format!("{name}{suffix}"));
        if path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
}

fn one_order(server: &SmtpServer) -> Test {
    one_reminder(server, "", "L1", "l1@example.com")
}

#[test]
fn a_ledger_deleted_between_runs_stops_the_next_run_until_restored() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    send(&test, &[]).success().stderr_has("sent 1");
    assert!(test.path("payremind.db.id").exists(), "the sidecar is made");
    let backup = std::fs::read(test.path("payremind.db")).unwrap();

    delete_ledger(&test, "payremind.db");
    send(&test, &[])
        .failure(2)
        .stderr_has("payremind.db: the ledger is gone, but earlier runs wrote a ledger there")
        .stderr_has("restore it from your backup")
        .stderr_has("--new-ledger");
    assert!(!test.path("payremind.db").exists(), "no new ledger is made");
    // The preview and history would lie the same way: they stop too.
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stderr_has("the ledger is gone");
    test.exec(&["history"])
        .failure(2)
        .stderr_has("the ledger is gone");
    assert_eq!(server.received().len(), 1);

    // Restored from the backup: it is the same ledger, nothing is sent again.
    std::fs::write(test.path("payremind.db"), &backup).unwrap();
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.outcome("L1"), "skip:already_reminded");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn starting_afresh_is_an_explicit_act() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    send(&test, &[]).success().stderr_has("sent 1");
    delete_ledger(&test, "payremind.db");
    send(&test, &[]).failure(2);
    send(&test, &["--new-ledger"])
        .success()
        .stderr_has("sent 1");
    // From then on the new ledger is the one: no flag needed, nothing sent twice.
    send(&test, &[]).success().stderr_has("sent 0");

    // Deleting the sidecar too is the other explicit way.
    delete_ledger(&test, "payremind.db");
    std::fs::remove_file(test.path("payremind.db.id")).unwrap();
    send(&test, &[]).success().stderr_has("sent 1");
    assert_eq!(server.received().len(), 3);
}

#[test]
fn a_ledger_replaced_by_an_empty_file_or_another_ledger_is_refused() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    send(&test, &[]).success();
    let kept = std::fs::read(test.path("payremind.db")).unwrap();

    // A 0-byte file.
    delete_ledger(&test, "payremind.db");
    std::fs::write(test.path("payremind.db"), b"").unwrap();
    send(&test, &[])
        .failure(2)
        .stderr_has("the ledger is empty, but earlier runs wrote a ledger there");

    // Another shop's ledger (it has an identity of its own).
    let other = one_order(&server);
    send(&other, &[]).success();
    delete_ledger(&test, "payremind.db");
    std::fs::copy(other.path("payremind.db"), test.path("payremind.db")).unwrap();
    send(&test, &[])
        .failure(2)
        .stderr_has("the ledger is not the ledger earlier runs wrote");
    assert_eq!(server.received().len(), 2, "one per shop, none again");

    std::fs::write(test.path("payremind.db"), kept).unwrap();
    send(&test, &[]).success().stderr_has("sent 0");
}

#[test]
fn a_ledger_from_before_identities_is_adopted() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    // A ledger as payremind wrote it before identities: schema 1, an empty lock file beside.
    let script = "import sqlite3, sys\n\
        db = sqlite3.connect(sys.argv[1])\n\
        db.executescript('''\n\
        CREATE TABLE attempts (id INTEGER PRIMARY KEY, order_id TEXT NOT NULL, buyer_id TEXT NOT NULL,\n\
          template TEXT NOT NULL, rank INTEGER NOT NULL, final_step INTEGER NOT NULL,\n\
          message_id TEXT NOT NULL, recipient TEXT NOT NULL, status TEXT NOT NULL,\n\
          attempted_at TEXT NOT NULL, evaluated_at TEXT NOT NULL, finished_at TEXT,\n\
          server_reply TEXT NOT NULL DEFAULT '');\n\
        CREATE INDEX attempts_order ON attempts (order_id);\n\
        CREATE INDEX attempts_buyer ON attempts (buyer_id);\n\
        CREATE TABLE paid_orders (buyer_id TEXT NOT NULL, order_id TEXT NOT NULL,\n\
          created_at TEXT NOT NULL, PRIMARY KEY (buyer_id, order_id)) WITHOUT ROWID;\n\
        INSERT INTO attempts VALUES (1, 'L1', 'L1-buyer', 'popular', 3, 0,\n\
          '<payremind.L1.popular@shop.example>', 'l1@example.com', 'sent',\n\
          '2026-11-22T10:00:00+00:00', '2026-11-22T10:00:00+00:00', NULL, '250 ok');\n\
        PRAGMA user_version = 1;\n\
        ''')\n\
        db.commit()\n";
    let status = std::process::Command::new(crate::support::smtp::python())
        .arg("-c")
        .arg(script)
        .arg(test.path("payremind.db"))
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(test.path("payremind.db.lock"), b"").unwrap();

    let d = test.preview();
    assert_eq!(d.outcome("L1"), "skip:already_reminded");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.outcome("L1"), "skip:already_reminded");
    assert!(server.received().is_empty());
    let identity = std::fs::read_to_string(test.path("payremind.db.id")).unwrap();
    assert!(!identity.trim().is_empty());
    // Adopted: from now on it is compared.
    send(&test, &[]).success();
    assert_eq!(
        std::fs::read_to_string(test.path("payremind.db.id")).unwrap(),
        identity
    );
}

#[test]
fn a_ledger_deleted_while_sending_ends_the_run_with_exit_2() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\n"))
        .orders(GENERIC_HEADER, &many(40, 20));
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    wait_for_arrivals(&server, 1);
    delete_ledger(&test, "payremind.db");
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("payremind.db: the ledger was deleted while this run was sending"),
        "{stderr}"
    );
    let sent = accepted(&server).len();
    // The next run does not take the missing ledger for a new one.
    send(&test, &[]).failure(2).stderr_has("the ledger is gone");
    assert_eq!(accepted(&server).len(), sent, "nothing is sent again");
}

/// Two configs in one folder reaching one ledger file by two names; the first is running a
/// slow send when the second starts.
fn two_names_one_ledger(link: fn(&std::path::Path, &std::path::Path)) {
    let (_dir, server) = plain_server();
    let config = |path: &str| {
        smtp_config(
            &server,
            &format!("max_connections = 1\n[ledger]\npath = \"{path}\"\n"),
        )
    };
    let test = Test::new()
        .file("a.toml", config("real.db"))
        .file("b.toml", config("other.db"))
        .orders(GENERIC_HEADER, &many(60, 25));
    let with = |config: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            "--config",
            config,
            "--orders",
            "orders.csv",
            "--now",
            NOW,
            "--send",
        ];
        args.extend_from_slice(extra);
        test.exec(&args)
    };
    // The ledger exists (a hard link needs a file), with nothing sent yet.
    with("a.toml", &["--limit", "0"]).success();
    link(&test.path("real.db"), &test.path("other.db"));

    let first = test.spawn(&[
        "run",
        "--config",
        "a.toml",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
    ]);
    a_second_run_waits_its_turn(first, &server, 60, &|extra| with("b.toml", extra));
}

#[test]
fn two_configs_reaching_one_ledger_by_a_symlink_never_send_at_once() {
    two_names_one_ledger(|real, link| std::os::unix::fs::symlink(real, link).unwrap());
}

#[test]
fn two_configs_reaching_one_ledger_by_a_hard_link_never_send_at_once() {
    two_names_one_ledger(|real, link| std::fs::hard_link(real, link).unwrap());
}

#[test]
fn a_ledger_in_a_read_only_folder_can_still_be_previewed_and_listed() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (_dir, server) = plain_server();
    let test = one_reminder(
        &server,
        "[ledger]\npath = \"kept/payremind.db\"\n",
        "R1",
        "r1@example.com",
    );
    std::fs::create_dir(test.path("kept")).unwrap();
    send(&test, &[]).success().stderr_has("sent 1");
    // As a backup or a read-only mount leaves it: the file alone, in a folder nobody may write.
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(test.path(&format!("kept/payremind.db{extra}")));
    }
    let mode = |path: &str, mode: u32| {
        std::fs::set_permissions(test.path(path), std::fs::Permissions::from_mode(mode)).unwrap();
    };
    mode(".", 0o755);
    mode("kept", 0o555);
    // root may write anywhere: then the runs below are made as nobody.
    let root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    let run = |args: &[&str]| {
        let binary = assert_cmd::cargo::cargo_bin("payremind");
        let mut command = if root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(binary);
            c
        } else {
            std::process::Command::new(binary)
        };
        let out = command
            .args(args)
            .current_dir(test.dir())
            .env_clear()
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (status, stdout, stderr) = run(&["history"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stdout.contains("order R1"), "{stdout}");
    let (status, _, stderr) = run(&["run", "--orders", "orders.csv", "--now", NOW]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(stderr.contains("already_reminded: R1"), "{stderr}");
    mode("kept", 0o755);
}
