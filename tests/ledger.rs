//! The ledger as a file a seller can lose, replace or reach by two names: a run notices when
//! the ledger is not the one earlier runs wrote and stops rather than send again, and two runs
//! that reach one ledger file by any name never send at once.

use crate::send::{
    a_second_run_waits_its_turn, accepted, held_then_many, one_reminder, plain_server, send,
    send_json, smtp_config,
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
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_owned();
    assert_eq!(
        first_line(&std::fs::read_to_string(test.path("payremind.db.id")).unwrap()),
        first_line(&identity)
    );
}

/// A copy of the ledger with everything the SQLite file holds (as a backup tool copies it
/// while no run is writing): the database file alone, after a run has closed it.
fn backup(test: &Test) -> Vec<u8> {
    std::fs::read(test.path("payremind.db")).unwrap()
}

fn restore(test: &Test, copy: &[u8]) {
    delete_ledger(test, "payremind.db");
    std::fs::write(test.path("payremind.db"), copy).unwrap();
}

#[test]
fn an_older_copy_of_the_ledger_is_refused_until_the_seller_accepts_it() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    send(&test, &[]).success().stderr_has("sent 1");
    let old = backup(&test);
    // The next day a second order is reminded; then the ledger is restored from the backup,
    // which has not seen that reminder.
    test.set_orders(
        GENERIC_HEADER,
        &[
            crate::send::row("L1", "l1@example.com", "2026-11-22 10:00"),
            crate::send::row("L2", "l2@example.com", "2026-11-22 10:00"),
        ],
    );
    send(&test, &[]).success().stderr_has("sent 1");
    restore(&test, &old);
    let refused = send(&test, &[]);
    refused
        .failure(2)
        .stderr_has("payremind.db: the ledger is an older copy of itself")
        .stderr_has("--accept-restored-ledger");
    assert_eq!(
        refused.stderr.trim().lines().count(),
        1,
        "{}",
        refused.stderr
    );
    // The preview would lie the same way; history reads it, with a warning.
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stderr_has("older copy");
    test.exec(&["history"]).success().stderr_has("older copy");
    assert_eq!(server.received().len(), 2, "L2 was not sent again");

    // The seller has no newer copy and says so: L2 goes out again (the copy forgot it), and
    // history says why.
    let (status, d) = send_json(&test, &["--accept-restored-ledger"]);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.get("L2")["status"], "sent");
    assert_eq!(d.outcome("L1"), "skip:already_reminded");
    test.exec(&["history"])
        .success()
        .stdout_has("--accept-restored-ledger: an older copy of the ledger");
    // From then on it is the ledger; the flag left in a crontab does nothing but warn.
    send(&test, &["--accept-restored-ledger"])
        .success()
        .stderr_has("sent 0")
        .stderr_has("--accept-restored-ledger ignored");
    send(&test, &[]).success().stderr_has("sent 0");
    // history reads the ledger it is without a word.
    let history = test.exec(&["history"]);
    assert!(history.success().stderr.is_empty(), "{}", history.stderr);
}

#[test]
fn a_copy_made_while_a_run_was_sending_is_an_older_copy() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\n"))
        .orders(GENERIC_HEADER, &held_then_many(5));
    send(&test, &["--limit", "0"]).success();
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    server.wait_held();
    // A nightly backup copies the ledger (and its WAL) while the run is held mid-send.
    let copy: Vec<(String, Vec<u8>)> = ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let name = format!("payremind.db{suffix}");
            std::fs::read(test.path(&name))
                .ok()
                .map(|bytes| (name, bytes))
        })
        .collect();
    server.release();
    assert_eq!(run.wait_with_output().unwrap().status.code(), Some(0));
    delete_ledger(&test, "payremind.db");
    for (name, bytes) in &copy {
        std::fs::write(test.path(name), bytes).unwrap();
    }
    send(&test, &[]).failure(2).stderr_has("older copy");
    assert_eq!(server.received().len(), 5, "nothing sent twice");
}

#[test]
fn new_ledger_left_in_a_crontab_does_not_switch_the_guard_off() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    // The seller started afresh once, and left the flag in the crontab line.
    send(&test, &["--new-ledger"])
        .success()
        .stderr_has("sent 1");
    send(&test, &["--new-ledger"])
        .success()
        .stderr_has("sent 0")
        .stderr_has("--new-ledger ignored: the ledger is the one earlier runs wrote")
        .stderr_has("remove --new-ledger from the crontab");
    // The ledger is then lost: with the flag it would start afresh (that is what the flag
    // says), but a restored older copy is still noticed and recorded.
    let old = backup(&test);
    test.set_orders(
        GENERIC_HEADER,
        &[
            crate::send::row("L1", "l1@example.com", "2026-11-22 10:00"),
            crate::send::row("L2", "l2@example.com", "2026-11-22 10:00"),
        ],
    );
    send(&test, &["--new-ledger"])
        .success()
        .stderr_has("sent 1");
    restore(&test, &old);
    send(&test, &[]).failure(2).stderr_has("older copy");
    send(&test, &["--new-ledger"]).success();
    test.exec(&["history"])
        .success()
        .stdout_has("adopted")
        .stdout_has("an older copy of the ledger");
}

#[test]
fn a_ledger_deleted_while_sending_ends_the_run_with_exit_2() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\n"))
        .orders(GENERIC_HEADER, &held_then_many(40));
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    // The run is held on its first message: the ledger goes while it is sending.
    server.wait_held();
    delete_ledger(&test, "payremind.db");
    server.release();
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("payremind.db: the ledger was deleted while this run was sending"),
        "{stderr}"
    );
    let sent = accepted(&server).len();
    assert_eq!(sent, 40, "the run went on to its end");
    // The next run does not take the missing ledger for a new one.
    send(&test, &[]).failure(2).stderr_has("the ledger is gone");
    assert_eq!(accepted(&server).len(), sent, "nothing is sent again");
}

/// Two configs in one folder reaching one ledger file, `real.db`, by two names (`other.db`
/// is a symlink); the first is held on its first message when the second starts.
#[test]
fn two_configs_reaching_one_ledger_by_a_symlink_never_send_at_once() {
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
        .orders(GENERIC_HEADER, &held_then_many(60));
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
    with("a.toml", &["--limit", "0"]).success();
    std::os::unix::fs::symlink(test.path("real.db"), test.path("other.db")).unwrap();
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

/// A hard link is two names for one file, and SQLite keeps a WAL beside each name: after a
/// crash through one name, a run through the other would not see what was sent. So a ledger
/// with more than one name is refused by every name, before anything is sent.
#[test]
fn a_hard_linked_ledger_is_refused_by_every_name() {
    let (_dir, server) = plain_server();
    let config = |path: &str| smtp_config(&server, &format!("[ledger]\npath = \"{path}\"\n"));
    let test = Test::new()
        .file("a.toml", config("real.db"))
        .file("b.toml", config("other.db"))
        .orders(
            GENERIC_HEADER,
            &[crate::send::row("L1", "l1@example.com", "2026-11-22 10:00")],
        );
    let run = |config: &str, send: bool| {
        let mut args = vec![
            "run",
            "--config",
            config,
            "--orders",
            "orders.csv",
            "--now",
            NOW,
        ];
        if send {
            args.push("--send");
        }
        test.exec(&args)
    };
    // The ledger exists (a hard link needs a file), with nothing sent yet.
    test.exec(&[
        "run",
        "--config",
        "a.toml",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--limit",
        "0",
    ])
    .success();
    std::fs::hard_link(test.path("real.db"), test.path("other.db")).unwrap();
    for config in ["a.toml", "b.toml"] {
        for sending in [true, false] {
            let out = run(config, sending);
            out.failure(2)
                .stderr_has("the ledger file has 2 names (hard links)")
                .stderr_has("share a ledger by a symlink, not a hard link");
            assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
        }
    }
    test.exec(&["history", "--config", "b.toml"])
        .failure(2)
        .stderr_has("not a hard link");
    assert!(server.received().is_empty(), "nothing was sent");
    // One name again: it is the ledger.
    std::fs::remove_file(test.path("other.db")).unwrap();
    run("a.toml", true).success().stderr_has("sent 1");
    assert_eq!(server.received().len(), 1);
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

/// During an upgrade, a crontab line may still run the binary from before the lock moved onto
/// the database file: that one locks `<ledger>.lock` (flock) and nothing else. The new binary
/// takes that lock too, so the two never send at once.
#[test]
fn a_run_of_the_previous_release_holding_the_lock_file_keeps_this_one_out() {
    let (_dir, server) = plain_server();
    let test = one_order(&server);
    // As earlier releases did for the whole of a sending run.
    let script = "import fcntl, sys\n\
        f = open(sys.argv[1] + '.lock', 'a')\n\
        fcntl.flock(f, fcntl.LOCK_EX)\n\
        print('locked', flush=True)\n\
        sys.stdin.read()\n";
    let mut old = std::process::Command::new(crate::support::smtp::python())
        .arg("-c")
        .arg(script)
        .arg(test.path("payremind.db"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(old.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    send(&test, &[])
        .failure(2)
        .stderr_has("another payremind run is sending right now");
    assert!(server.received().is_empty());
    // The old run ends (its lock goes with it): this one sends.
    drop(old.stdin.take());
    old.wait().unwrap();
    send(&test, &[]).success().stderr_has("sent 1");
}
