//! `--send` against a real SMTP server (aiosmtpd, tests/smtp/server.py) on 127.0.0.1, with a
//! real SQLite ledger: messages arrive intact, failures are classified and recorded, and no
//! buyer is reminded twice, whatever happens to the run.

use std::collections::HashMap;
use std::time::Duration;

use crate::support::smtp::{SmtpServer, text_part, untagged};
use crate::support::{Decisions, GENERIC_CONFIG, GENERIC_HEADER, NO_ROWS, NOW, Test};

/// A plain SMTP server (no TLS, no AUTH) in a folder of its own; keep the folder alive.
pub(crate) fn plain_server() -> (tempfile::TempDir, SmtpServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(dir.path(), false, false, None);
    (dir, server)
}

pub(crate) fn smtp_config(server: &SmtpServer, extra: &str) -> String {
    format!(
        "{GENERIC_CONFIG}\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout = \"5s\"\nretry_delay = \"10ms\"\n{extra}",
        server.port
    )
}

pub(crate) fn send(test: &Test, extra: &[&str]) -> crate::support::Outcome {
    let mut args = vec!["run", "--orders", "orders.csv", "--now", NOW, "--send"];
    args.extend_from_slice(extra);
    test.exec(&args)
}

/// A sending run on orders.csv at [`NOW`], printing JSON Lines.
/// For the tests that send from one export on several days: the guard's stale-export breaker
/// would stop those later runs (rightly: that is yesterday's download), so it is loosened.
const DAYS_LATER: &str = "\n[guard]\nmax_export_age = \"30d\"\n";

const SEND_JSON: &[&str] = &[
    "run",
    "--orders",
    "orders.csv",
    "--now",
    NOW,
    "--send",
    "--format",
    "json",
];

pub(crate) fn send_json(test: &Test, extra: &[&str]) -> (i32, Decisions) {
    let mut args = SEND_JSON.to_vec();
    args.extend_from_slice(extra);
    let outcome = test.exec(&args);
    let status = outcome.status;
    let decisions = Decisions::parse(&crate::support::Outcome {
        status: 0,
        ..outcome
    });
    (status, decisions)
}

pub(crate) fn row(id: &str, email: &str, created: &str) -> String {
    format!("{id},{id}-buyer,Buyer {id},{email},pending,{created},10.00,web,Tea,")
}

#[test]
fn a_send_delivers_well_formed_messages_and_a_second_run_sends_nothing() {
    let (_dir, server) = plain_server();
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[
            "T1,t1,Zoë Ünal,zoe@example.com,pending,2026-11-23 05:00,12.50,web,Jasmine tea,",
            &row("T2", "t2@example.com", "2026-11-22 10:00"),
            &row("T3", "t3@example.com", "2026-11-20 10:00"),
            "T4,t4,Paid Buyer,t4@example.com,paid,2026-11-22 10:00,10.00,web,Tea,",
        ],
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.summary["sent"], 3);
    assert_eq!(d.summary["dry_run"], false);
    assert_eq!(d.get("T1")["status"], "sent");
    assert!(
        d.get("T1")["server_reply"]
            .as_str()
            .unwrap()
            .starts_with("250 2.0.0 Ok: queued as")
    );

    let received = server.received();
    assert_eq!(received.len(), 3);
    let t1 = received
        .iter()
        .find(|m| m.rcpt_tos == ["zoe@example.com"])
        .unwrap();
    assert_eq!(t1.header("From"), "\"Test Shop\" <orders@shop.example>");
    assert_eq!(t1.header("To"), "Zoë Ünal <zoe@example.com>");
    assert_eq!(
        t1.header("Subject"),
        d.get("T1")["subject"].as_str().unwrap()
    );
    assert_eq!(
        untagged(&t1.header("Message-ID")),
        "<payremind.T1.payment_help@shop.example>"
    );
    assert_eq!(t1.header("MIME-Version"), "1.0");
    assert!(!t1.header("Date").is_empty());
    // The text, and an HTML alternative derived from it.
    assert_eq!(t1.parsed().ctype.mimetype, "multipart/alternative");
    let parts = t1.parsed();
    let types: Vec<&str> = parts
        .subparts
        .iter()
        .map(|p| p.ctype.mimetype.as_str())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"]);
    assert_eq!(parts.subparts[0].ctype.charset, "utf-8");
    assert_eq!(
        t1.text().replace("\r\n", "\n").trim_end(),
        d.get("T1")["body"].as_str().unwrap().trim_end()
    );
    assert!(t1.text().contains("Hello Zoë Ünal,"));
    let headers = String::from_utf8_lossy(&t1.raw);
    assert!(
        headers.split("\r\n\r\n").next().unwrap().is_ascii(),
        "headers are encoded"
    );

    // The same export again: everything was sent already.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.summary["sent"], 0);
    assert_eq!(d.summary["skipped"]["already_reminded"], 2);
    assert_eq!(d.summary["skipped"]["gave_up"], 1, "T3 had the final offer");
    assert_eq!(server.received().len(), 3);

    // The ledger, as a seller reads it.
    let history = test.exec(&["history", "--format", "json"]);
    history.success();
    let lines: Vec<serde_json::Value> = history
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["status"] == "sent"));
    assert_eq!(lines[0]["evaluated_at"], "2026-11-23T01:00:00+00:00");
    let csv = test.exec(&["history", "--order", "T2", "--format", "csv"]);
    assert!(csv.stdout.starts_with(
        "order_id,buyer_id,template,message_id,to,status,attempted_at,evaluated_at,server_reply\n"
    ));
    assert_eq!(csv.stdout.lines().count(), 2);
}

#[test]
fn starttls_with_a_self_signed_certificate_and_auth_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(dir.path(), true, false, Some("shop:s3cret-p4ss"));
    let config = smtp_config(&server, "")
        .replace("host = \"127.0.0.1\"", "host = \"localhost\"")
        .replace(
            "security = \"none\"",
            &format!(
                "security = \"starttls\"\nusername = \"shop\"\nca_file = \"{}\"",
                server.tls_dir.join("ca.pem").display()
            ),
        );
    let test = Test::new().config(&config).orders(
        GENERIC_HEADER,
        &[&row("S1", "s1@example.com", "2026-11-22 10:00")],
    );

    let missing = send(&test, &[]);
    missing
        .failure(2)
        .stderr_has("the SMTP password is not set: export PAYREMIND_SMTP_PASSWORD");

    let test = test.env("PAYREMIND_SMTP_PASSWORD", "wrong-password");
    let refused = send(&test, &[]);
    refused
        .failure(1)
        .stderr_has("the server refused the login for shop");
    assert!(!refused.stderr.contains("wrong-password"));

    let test = test.env("PAYREMIND_SMTP_PASSWORD", "s3cret-p4ss");
    let sent = send(&test, &[]);
    sent.success().stderr_has("sent 1, failed 0");
    assert!(!sent.stderr.contains("s3cret") && !sent.stdout.contains("s3cret"));
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].authenticated);
}

#[test]
fn a_certificate_that_is_not_trusted_is_refused() {
    for (security, implicit) in [("starttls", false), ("tls", true)] {
        let dir = tempfile::tempdir().unwrap();
        let server = SmtpServer::start(dir.path(), true, implicit, None);
        let config = smtp_config(&server, "attempts = 1\n")
            .replace("host = \"127.0.0.1\"", "host = \"localhost\"")
            .replace("security = \"none\"", &format!("security = \"{security}\""));
        let test = Test::new().config(&config).orders(
            GENERIC_HEADER,
            &[&row("C1", "c1@example.com", "2026-11-22 10:00")],
        );
        // The connection was tried with the message: failed (as the ledger says), and why.
        send(&test, &[])
            .failure(1)
            .stderr_has("failed 1, unknown 0, bounced 0, stopped: TLS with localhost failed")
            .stderr_has("trust it with [smtp].ca_file");
        assert!(server.received().is_empty(), "{security}");
    }
}

#[test]
fn implicit_tls() {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(dir.path(), true, true, None);
    let config = smtp_config(&server, "")
        .replace("host = \"127.0.0.1\"", "host = \"localhost\"")
        .replace(
            "security = \"none\"",
            &format!(
                "security = \"tls\"\nca_file = \"{}\"",
                server.tls_dir.join("ca.pem").display()
            ),
        );
    let test = Test::new().config(&config).orders(
        GENERIC_HEADER,
        &[&row("I1", "i1@example.com", "2026-11-22 10:00")],
    );
    send(&test, &[]).success().stderr_has("sent 1");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_temporary_failure_is_retried_within_the_run_and_on_the_next_one() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&smtp_config(&server, "attempts = 2\n"))
        .orders(
            GENERIC_HEADER,
            &[
                &row("R1", "tempfail-1.r1@example.com", "2026-11-22 10:00"),
                &row("R2", "tempfail-3.r2@example.com", "2026-11-22 10:00"),
            ],
        );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "R2 is not sent yet");
    assert_eq!(d.get("R1")["status"], "sent", "the second try went through");
    assert_eq!(d.get("R2")["status"], "failed");
    assert!(
        d.get("R2")["server_reply"]
            .as_str()
            .unwrap()
            .contains("451")
    );
    // The next run tries R2 again (tries 3 and 4), and leaves R1 alone.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.get("R2")["status"], "sent");
    assert_eq!(d.outcome("R1"), "skip:already_reminded");
    assert_eq!(server.received().len(), 2);
}

#[test]
fn a_permanent_refusal_bounces_and_is_not_retried() {
    let (_dir, server) = plain_server();
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[
            &row("B1", "reject.b1@example.com", "2026-11-22 10:00"),
            &row("B2", "b2@example.com", "2026-11-22 10:00"),
        ],
    );
    let outcome = send(&test, &[]);
    outcome
        .failure(1)
        .stderr_has("sent 1, failed 0, unknown 0, bounced 1")
        .stderr_has("order B1 to reject.b1@example.com: refused for good: permanent error (550)");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.outcome("B1"), "skip:bounced");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_connection_lost_after_the_data_is_unknown_and_never_resent_on_its_own() {
    let (_dir, server) = plain_server();
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[&row("U1", "drop-1.u1@example.com", "2026-11-22 10:00")],
    );
    let outcome = send(&test, &[]);
    outcome
        .failure(1)
        .stderr_has("unknown 1")
        .stderr_has("maybe sent, so it is not sent again on its own")
        .stderr_has("--retry-unknown");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "an unsettled reminder is not confirmed sent");
    assert_eq!(d.outcome("U1"), "skip:outcome_unknown");
    let (status, d) = send_json(&test, &["--retry-unknown"]);
    assert_eq!(status, 0);
    assert_eq!(d.get("U1")["status"], "sent");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        untagged(&received[0].header("Message-ID")),
        "<payremind.U1.popular@shop.example>"
    );
    // Settled: neither a plain run nor another --retry-unknown sends it again.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.outcome("U1"), "skip:already_reminded");
    let (_, d) = send_json(&test, &["--retry-unknown"]);
    assert_eq!(d.outcome("U1"), "skip:already_reminded");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn a_server_that_is_not_there_stops_the_run_and_the_next_run_sends() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = format!(
        "{GENERIC_CONFIG}\n[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\ntimeout = \"2s\"\nretry_delay = \"10ms\"\nmax_connections = 1\n"
    );
    let rows: Vec<String> = (1..=3)
        .map(|i| {
            row(
                &format!("N{i}"),
                &format!("n{i}@example.com"),
                "2026-11-22 10:00",
            )
        })
        .collect();
    let test = Test::new().config(&config).orders(GENERIC_HEADER, &rows);
    // The first message's connection failed (after its retries): failed, as the ledger and
    // `history` say; the others are not attempted, rather than each failing after its own
    // retries.
    send(&test, &[])
        .failure(1)
        .stderr_has("3 orders: 3 reminders (sent 0, failed 1, unknown 0, bounced 0, not attempted 2 (stopped: cannot connect to 127.0.0.1")
        .stderr_has("not attempted (the mail server could not be reached, or refused to take mail); it is sent on the next run");
    let history = test.exec(&["history"]);
    assert_eq!(
        history.stdout.matches("  failed: cannot connect").count(),
        1,
        "the summary and history count the same attempts:\n{}",
        history.stdout
    );
    let server = SmtpServer::start(dir.path(), false, false, None);
    std::fs::write(test.path("payremind.toml"), smtp_config(&server, "")).unwrap();
    send(&test, &[]).success().stderr_has("sent 3");
    assert_eq!(server.received().len(), 3);
}

/// Every one of `count` messages arrived, and none twice.
pub(crate) fn assert_each_arrived_once(server: &SmtpServer, count: usize) {
    let ids = accepted(server);
    assert_eq!(ids.len(), count, "messages that arrived");
    assert!(ids.values().all(|&n| n == 1), "a message arrived twice");
}

/// Waits (up to 20 s) until the server has accepted `count` messages.
pub(crate) fn wait_for_arrivals(server: &SmtpServer, count: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.received().len() < count && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Python, with the test's ledger as its first argument (another program on the same file).
fn python_on_ledger(test: &Test, script: &str) -> std::process::Command {
    let mut command = std::process::Command::new(crate::support::smtp::python());
    command.arg("-c").arg(script).arg(test.path("payremind.db"));
    command
}

/// Another program takes the ledger's write lock for `seconds` (as a database browser saving
/// an edit would); returns once the lock is held. Just before it lets go, it leaves
/// `payremind.db.released` beside the ledger.
fn lock_ledger(test: &Test, seconds: f64) -> std::process::Child {
    let script = format!(
        "import sqlite3, sys, time\n\
         db = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
         db.execute('BEGIN IMMEDIATE')\n\
         print('locked', flush=True)\n\
         time.sleep({seconds})\n\
         open(sys.argv[1] + '.released', 'w').close()\n\
         db.execute('COMMIT')"
    );
    let mut locker = python_on_ledger(test, &script)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(locker.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    locker
}

/// Message-IDs the server accepted, with how often.
pub(crate) fn accepted(server: &SmtpServer) -> HashMap<String, usize> {
    let mut ids = HashMap::new();
    for message in server.received() {
        *ids.entry(untagged(&message.header("Message-ID")))
            .or_default() += 1;
    }
    ids
}

pub(crate) fn many(count: usize, slow_ms: u32) -> Vec<String> {
    (0..count)
        .map(|i| {
            row(
                &format!("K{i:03}"),
                &format!("slow-{slow_ms}.k{i}@example.com"),
                "2026-11-22 10:00",
            )
        })
        .collect()
}

#[test]
fn kill_9_in_the_middle_then_a_rerun_delivers_every_message_once() {
    let (_dir, server) = plain_server();
    let rows = many(500, 10);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 4\n"))
        .orders(GENERIC_HEADER, &rows);
    let mut run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    // Let it get well into the 500 messages (about 1.3 s in all), then kill -9.
    wait_for_arrivals(&server, 100);
    run.kill().unwrap();
    run.wait().unwrap();
    let before = accepted(&server).len();
    assert!(
        (100..500).contains(&before),
        "killed after {before} messages"
    );

    let (status, d) = send_json(&test, &[]);
    let ids = accepted(&server);
    assert!(ids.values().all(|&n| n == 1), "a message arrived twice");
    let unknown: Vec<&serde_json::Value> = d
        .orders
        .iter()
        .filter(|o| o["reason"] == "outcome_unknown")
        .collect();
    assert!(
        unknown.len() <= 4,
        "{} in flight at the kill",
        unknown.len()
    );
    // They are listed, and the run says that not everything is confirmed.
    assert_eq!(status, if unknown.is_empty() { 0 } else { 1 });
    let rerun = send(&test, &[]);
    for order in &unknown {
        rerun.stderr_has(&format!(
            "order {}: an earlier reminder may or may not have arrived",
            order["order_id"].as_str().unwrap()
        ));
    }
    let never_arrived = unknown
        .iter()
        .filter(|o| {
            let id = format!(
                "<payremind.{}.popular@shop.example>",
                o["order_id"].as_str().unwrap()
            );
            !ids.contains_key(&id)
        })
        .count();
    assert_eq!(
        ids.len() + never_arrived,
        500,
        "every other message arrived once"
    );
}

#[test]
fn overlapping_runs_never_send_twice() {
    let (_dir, server) = plain_server();
    let rows = held_then_many(60);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\n"))
        .orders(GENERIC_HEADER, &rows);
    let first = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    a_second_run_waits_its_turn(first, &server, 60, &|extra| send(&test, extra));
}

/// `count` orders due, the first to a `hold.` address: a run sending them is held on its first
/// message until the server is released.
pub(crate) fn held_then_many(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            let to = if i == 0 { "hold" } else { "k" };
            row(
                &format!("K{i:03}"),
                &format!("{to}.k{i}@example.com"),
                "2026-11-22 10:00",
            )
        })
        .collect()
}

/// While `first` is held on its first message (of `count`, [`held_then_many`]), a second
/// sending run (`second`, given extra arguments) is refused; once the first is released, the
/// second with `--wait` sends nothing: every message arrives once.
pub(crate) fn a_second_run_waits_its_turn(
    first: std::process::Child,
    server: &SmtpServer,
    count: usize,
    second: &dyn Fn(&[&str]) -> crate::support::Outcome,
) {
    server.wait_held();
    second(&[])
        .failure(2)
        .stderr_has("another payremind run is sending right now");
    server.release();
    second(&["--wait"]).success().stderr_has("sent 0");
    let first = first.wait_with_output().unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_each_arrived_once(server, count);
}

/// A test folder whose export holds `rows`, sent through `server` with `extra` in `[smtp]`.
pub(crate) fn smtp_test(server: &SmtpServer, extra: &str, rows: &[impl AsRef<str>]) -> Test {
    Test::new()
        .config(&smtp_config(server, extra))
        .orders(GENERIC_HEADER, rows)
}

/// [`smtp_test`] with orders (id, e-mail) placed the day before [`NOW`]: each is due a
/// reminder (`popular`).
pub(crate) fn due(server: &SmtpServer, extra: &str, orders: &[(&str, &str)]) -> Test {
    let rows: Vec<String> = orders
        .iter()
        .map(|(id, email)| row(id, email, "2026-11-22 10:00"))
        .collect();
    smtp_test(server, extra, &rows)
}

/// [`due`] with one order.
pub(crate) fn one_reminder(server: &SmtpServer, extra: &str, id: &str, email: &str) -> Test {
    due(server, extra, &[(id, email)])
}

#[test]
fn sigterm_stops_cleanly_and_the_rest_is_sent_next_time() {
    let (_dir, server) = plain_server();
    let rows = many(80, 25);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 2\n"))
        .orders(GENERIC_HEADER, &rows);
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    wait_for_arrivals(&server, 10);
    std::process::Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("(interrupted)"), "{stderr}");
    // Every message that was started was finished and recorded: nothing is unknown.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert!(!d.orders.iter().any(|o| o["reason"] == "outcome_unknown"));
    assert_each_arrived_once(&server, 80);
}

#[test]
fn the_dry_run_reads_the_ledger_and_writes_nothing() {
    let (_dir, server) = plain_server();
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[&row("D1", "d1@example.com", "2026-11-22 10:00")],
    );
    let d = test.preview();
    assert_eq!(d.outcome("D1"), "popular");
    assert!(
        !test.path("payremind.db").exists(),
        "a dry run creates no ledger"
    );
    send(&test, &[]).success();
    let before = std::fs::read(test.path("payremind.db")).unwrap();
    let d = test.preview();
    assert_eq!(
        d.outcome("D1"),
        "skip:already_reminded",
        "the preview shows what would really go out"
    );
    assert_eq!(std::fs::read(test.path("payremind.db")).unwrap(), before);
}

#[test]
fn the_ladder_climbs_and_gives_up_after_the_final_offer() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&(smtp_config(&server, "") + DAYS_LATER))
        .orders(
            GENERIC_HEADER,
            &[&row("L1", "l1@example.com", "2026-11-21 10:00")],
        );
    // 47 h old: popular.
    send(&test, &[]).success();
    let at = |now: &str| {
        let out = test.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            now,
            "--send",
            "--format",
            "json",
        ]);
        Decisions::parse(&crate::support::Outcome { status: 0, ..out })
    };
    // 20 h later the buyer may hear again: 67 h old, the final discount.
    let d = at("2026-11-24T05:00:00+08:00");
    assert_eq!(d.get("L1")["template"], "discount");
    // Then the order is given up.
    let d = at("2026-11-25T09:00:00+08:00");
    assert_eq!(d.outcome("L1"), "skip:gave_up");
    // And the same buyer's new order waits for the gap since the last reminder.
    let received: Vec<String> = server
        .received()
        .iter()
        .map(|m| untagged(&m.header("Message-ID")))
        .collect();
    assert_eq!(
        received,
        [
            "<payremind.L1.popular@shop.example>",
            "<payremind.L1.discount@shop.example>"
        ]
    );
}

#[test]
fn min_gap_between_two_reminders_to_one_buyer() {
    let (_dir, server) = plain_server();
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[&row("G1", "g1@example.com", "2026-11-22 10:00")],
    );
    send(&test, &[]).success();
    // A new order of the same buyer, ten hours later.
    test.set_orders(
        GENERIC_HEADER,
        &["G2,G1-buyer,Buyer G1,g1@example.com,pending,2026-11-23 10:00,10.00,web,Tea,"],
    );
    let out = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-23T19:00:00+08:00",
        "--send",
        "--format",
        "json",
    ]);
    let d = Decisions::parse(&crate::support::Outcome { status: 0, ..out });
    assert_eq!(d.outcome("G2"), "skip:buyer_cap");
}

#[test]
fn the_outbox_writes_one_file_per_message_once() {
    let test = Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\noutbox = \"review\"\n"
        ))
        .orders(
            GENERIC_HEADER,
            &[
                &row("O1", "o1@example.com", "2026-11-22 10:00"),
                &row("O2", "o2@example.com", "2026-11-22 10:00"),
            ],
        );
    send(&test, &[]).success().stderr_has("sent 2");
    let count = || std::fs::read_dir(test.path("review")).unwrap().count();
    assert_eq!(count(), 2);
    let eml = std::fs::read_dir(test.path("review"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("payremind.O1.popular.") && name.ends_with("@shop.example.eml")
        })
        .expect("O1's message, named by its Message-ID");
    let body = text_part(&std::fs::read(eml).unwrap());
    assert!(
        body.contains("Order O1") || body.contains("order O1"),
        "{body}"
    );
    send(&test, &[]).success().stderr_has("sent 0");
    assert_eq!(count(), 2, "the second run wrote nothing");
}

/// A test with `via = "sendmail"` whose program is a shell script (`script`, after the
/// shebang) in the scratch folder, and two orders due. A real MTA cannot be told to refuse or
/// to hang; what is tested is payremind's side of the sendmail contract: the arguments, the
/// message on standard input, the exit status, a program that does not finish.
fn with_sendmail(script: &str, extra: &str) -> Test {
    use std::os::unix::fs::PermissionsExt;
    let test = Test::new();
    let program = test.path("fake-sendmail");
    std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    test.config(&format!(
        "{GENERIC_CONFIG}\n[delivery]\nvia = \"sendmail\"\nsendmail = {:?}\n{extra}",
        program.display().to_string()
    ))
    .orders(
        GENERIC_HEADER,
        &[
            &row("W1", "w1@example.com", "2026-11-22 10:00"),
            &row("W2", "w2@example.com", "2026-11-22 10:00"),
        ],
    )
}

#[test]
fn sendmail_gets_each_message_with_its_envelope_once() {
    let test = with_sendmail(
        "n=$(ls \"$(dirname \"$0\")\" | grep -c '^got-.*args$')\n\
         printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/got-$n.args\"\n\
         cat > \"$(dirname \"$0\")/got-$n.eml\"",
        "",
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(
        (status, d.summary["sent"].as_u64()),
        (0, Some(2)),
        "{}",
        d.summary
    );
    let mut args: Vec<String> = (0..2)
        .map(|n| std::fs::read_to_string(test.path(&format!("got-{n}.args"))).unwrap())
        .collect();
    args.sort();
    assert_eq!(
        args,
        [
            "-i\n-f\norders@shop.example\n--\nw1@example.com\n",
            "-i\n-f\norders@shop.example\n--\nw2@example.com\n"
        ]
    );
    let body = text_part(&std::fs::read(test.path("got-0.eml")).unwrap());
    assert!(body.contains("W1") || body.contains("W2"), "{body}");
    assert_eq!(d.get("W1")["status"], "sent");
    // Nothing twice: the second run hands nothing over.
    send(&test, &[]).success().stderr_has("sent 0");
    assert!(!test.path("got-2.args").exists());
}

#[test]
fn a_sendmail_that_refuses_leaves_the_message_failed_with_its_words() {
    let test = with_sendmail(
        "cat > /dev/null\necho 'relay host unreachable' >&2\nexit 75",
        "",
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "{}", d.summary);
    assert_eq!(d.get("W1")["status"], "failed");
    let reply = d.get("W1")["server_reply"].as_str().unwrap().to_owned();
    assert!(reply.contains("relay host unreachable"), "{reply}");
}

#[test]
fn a_sendmail_that_hangs_is_stopped_and_its_message_counts_as_maybe_sent() {
    // Without the timeout the program would end after 20 s with status 0: "sent".
    let test = with_sendmail(
        "cat > /dev/null\nexec sleep 20",
        "sendmail_timeout = \"1s\"\n",
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "{}", d.summary);
    assert_eq!(d.get("W1")["status"], "unknown");
    let reply = d.get("W1")["server_reply"].as_str().unwrap().to_owned();
    assert!(reply.contains("did not finish within 1s"), "{reply}");
    // The next message would hang as long: it is left for the next run.
    assert_eq!(d.summary["not_attempted"], 1, "{}", d.summary);
    assert!(d.get("W2")["status"].is_null(), "{}", d.get("W2"));
    // W1 maybe sent: the next run leaves it alone rather than risk a second copy.
    let (_, again) = send_json(&test, &[]);
    assert_eq!(again.outcome("W1"), "skip:outcome_unknown");
}

#[test]
fn a_sendmail_that_talks_a_lot_is_not_cut_off() {
    // A verbose program (more than a pipe's worth on stderr) must be read to its end: closing
    // the pipe early would kill it mid-message, and the message would go out again.
    let test = with_sendmail(
        "cat > \"$(dirname \"$0\")/queued-$$.eml\"\n\
         i=0; while [ $i -lt 20000 ]; do echo \"relay: line $i\" >&2; i=$((i+1)); done",
        "",
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0, "{}", d.summary);
    assert_eq!(d.get("W1")["status"], "sent");
    send(&test, &[]).success().stderr_has("sent 0");
    let queued = std::fs::read_dir(test.dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("queued-"))
        .count();
    assert_eq!(queued, 2, "each message handed over once");
}

#[test]
fn a_sendmail_killed_by_a_signal_leaves_its_message_maybe_sent() {
    // It read the message and may have queued it: not tried again on its own.
    let test = with_sendmail("cat > /dev/null\nkill -KILL $$", "");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "{}", d.summary);
    assert_eq!(d.get("W1")["status"], "unknown");
    let (_, again) = send_json(&test, &[]);
    assert_eq!(again.outcome("W1"), "skip:outcome_unknown");
}

#[test]
fn sigterm_during_retries_stops_without_waiting_them_out() {
    let (_dir, server) = plain_server();
    let config = smtp_config(&server, "attempts = 5\nmax_connections = 4\n")
        .replace("retry_delay = \"10ms\"", "retry_delay = \"10s\"");
    let mut rows = vec![row("W1", "tempfail-10.w1@example.com", "2026-11-22 10:00")];
    rows.extend(many(3, 0));
    let test = Test::new().config(&config).orders(GENERIC_HEADER, &rows);
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    // Once the server has refused the first try, the run waits 10 s to try again, and the
    // other three connections, their messages sent, wait with it (W1 may come back).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while server.tempfails() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    wait_for_arrivals(&server, 3);
    assert_eq!(
        server.tempfails(),
        1,
        "the first try never reached the server"
    );
    std::process::Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    // Not "(tried 5 times)": the retries were not waited out.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the run was stopped before another try"),
        "{stderr}"
    );
    assert_eq!(server.tempfails(), 1, "tried again after the signal");
    assert_each_arrived_once(&server, 3);
}

#[test]
fn a_message_refused_after_its_data_is_tried_again_up_to_max_reminders() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(
            &(smtp_config(&server, "").replace("[smtp]", "[select]\nmax_reminders = 2\n[smtp]")
                + DAYS_LATER),
        )
        .orders(
            GENERIC_HEADER,
            &[&row("X1", "spam.x1@example.com", "2026-11-22 10:00")],
        );
    let send_on = |day: &str| {
        let now = format!("2026-11-{day}T09:00:00+08:00");
        let outcome = test.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            &now,
            "--send",
            "--format",
            "json",
        ]);
        let status = outcome.status;
        (
            status,
            Decisions::parse(&crate::support::Outcome {
                status: 0,
                ..outcome
            }),
        )
    };
    send(&test, &[])
        .failure(1)
        .stderr_has("bounced 0, rejected 1")
        .stderr_has("the message was refused after its data: permanent error (554)")
        .stderr_has("it is tried again on a later run");
    // Runs repeated the same day count once against max_reminders...
    let (status, d) = send_on("23");
    assert_eq!(status, 1);
    assert_eq!(d.get("X1")["status"], "rejected", "tried again");
    assert_eq!(
        (
            d.summary["rejected"].as_u64(),
            d.summary["bounced"].as_u64()
        ),
        (Some(1), Some(0))
    );
    // ...a content filter's refusal may pass: the next day it is tried again, and the address
    // is not blamed...
    let (status, d) = send_on("24");
    assert_eq!(status, 1);
    assert_eq!(d.get("X1")["status"], "rejected", "tried again");
    // ...but not for ever: two days of refusals used up max_reminders = 2.
    let (status, d) = send_on("24");
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.outcome("X1"), "skip:gave_up");
}

/// Gmail's answer to mail its sender's domain does not authenticate (SPF, DKIM, DMARC) comes
/// after the data, as a 5.7.x: every message would get it, so the run stops, and no order is
/// charged with it (three such runs would otherwise give up on every buyer).
#[test]
fn an_authentication_refusal_after_the_data_stops_the_run_and_charges_no_order() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(
            &(smtp_config(&server, "max_connections = 1\n")
                .replace("[smtp]", "[select]\nmax_reminders = 2\n[smtp]")
                + DAYS_LATER),
        )
        .orders(
            GENERIC_HEADER,
            &[
                &row("G1", "dmarc.g1@gmail.example", "2026-11-22 10:00"),
                &row("G2", "g2@example.com", "2026-11-22 10:00"),
            ],
        );
    for (run, day) in ["23", "24", "24"].into_iter().enumerate() {
        let now = format!("2026-11-{day}T09:00:00+08:00");
        let out = test.exec(&["run", "--orders", "orders.csv", "--now", &now, "--send"]);
        out.failure(1)
            .stderr_has("bounced 0")
            .stderr_has("order G1 to dmarc.g1@gmail.example: failed")
            .stderr_has("5.7.26");
        assert!(!out.stderr.contains("rejected"), "{}", out.stderr);
        if run == 0 {
            // G1 came first: the run stopped there.
            out.stderr_has(
                "not attempted 1 (stopped: the server refuses to take mail from this set-up",
            )
            .stderr_has("DMARC");
        }
    }
    // G1, failed, went after G2 from the second run on: G2 was sent.
    assert_eq!(server.received().len(), 1);
    let d = test.preview();
    assert_eq!(d.outcome("G1"), "popular", "not given up");
    let history = test.exec(&["history", "--order", "G1", "--format", "json"]);
    assert!(
        history
            .success()
            .stdout
            .lines()
            .all(|l| l.contains("\"status\":\"failed\"")),
        "{}",
        history.stdout
    );
}

#[test]
fn auth_without_encryption_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(dir.path(), false, false, Some("shop:pw"));
    let test = Test::new()
        .config(&smtp_config(
            &server,
            "username = \"shop\"\nallow_insecure_auth = true\n",
        ))
        .env("PAYREMIND_SMTP_PASSWORD", "pw")
        .orders(
            GENERIC_HEADER,
            &[&row("A1", "a1@example.com", "2026-11-22 10:00")],
        );
    send(&test, &[]).success();
    assert!(server.received()[0].authenticated);
}

#[test]
fn a_password_is_never_sent_unencrypted_unless_allowed() {
    let test = Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\nusername = \"shop\"\n"
        ))
        .orders(GENERIC_HEADER, NO_ROWS);
    send(&test, &[])
        .failure(2)
        .stderr_has("[smtp].security: is \"none\" but a username is set");
}

#[test]
fn an_html_alternative_and_reply_to_when_the_seller_has_them() {
    let (_dir, server) = plain_server();
    let config = smtp_config(&server, "").replace(
        "currency = \"USD\"",
        "currency = \"USD\"\nreply_to = \"Help <help@shop.example>\"",
    ) + "\n[templates]\ndir = \"mine\"\n";
    let test = Test::new()
        .config(&config)
        .file(
            "mine/popular.html",
            "<p>Hello {{ buyer.name }}, order {{ order.id }} ({{ order.total }}) is waiting.</p>\n",
        )
        .orders(
            GENERIC_HEADER,
            &["H1,h1,Tom & Jerry <b>,h1@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"],
        );
    send(&test, &[]).success();
    let received = server.received();
    assert_eq!(received.len(), 1);
    let mail = received[0].parsed();
    assert_eq!(mail.ctype.mimetype, "multipart/alternative");
    let html = mail
        .subparts
        .iter()
        .find(|p| p.ctype.mimetype == "text/html")
        .expect("an HTML part")
        .get_body()
        .unwrap();
    assert!(
        html.contains("Hello Tom &amp; Jerry &lt;b&gt;, order H1 ($10.00)"),
        "{html}"
    );
    assert!(
        received[0].text().contains("Hello Tom & Jerry <b>,"),
        "the text part is not escaped"
    );
    assert_eq!(received[0].header("Reply-To"), "Help <help@shop.example>");
}

/// `n` reminders over four connections to a server started with `limit` (its flags), the
/// refused connections retrying every `retry_delay`: every message arrives once and the run
/// ends well. Returns how many connections the server refused.
fn send_to_a_limiting_server(limit: &[&str], n: usize, retry_delay: &str) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start_with(dir.path(), false, false, None, limit);
    let config = smtp_config(&server, "max_connections = 4\n").replace(
        "retry_delay = \"10ms\"",
        &format!("retry_delay = \"{retry_delay}\""),
    );
    let test = Test::new()
        .config(&config)
        .orders(GENERIC_HEADER, &many(n, 0));
    let (status, d) = send_json(&test, &[]);
    let unsent: Vec<String> = d
        .orders
        .iter()
        .filter(|o| o["status"] != "sent")
        .map(|o| format!("{} {} {}", o["order_id"], o["status"], o["server_reply"]))
        .collect();
    assert_eq!(d.summary["sent"], n, "{unsent:?} {}", d.summary);
    assert_eq!(status, 0);
    assert_each_arrived_once(&server, n);
    server.refusals()
}

#[test]
fn a_server_that_allows_fewer_connections_still_gets_every_message() {
    send_to_a_limiting_server(&["--max-sessions", "2"], 40, "10ms");
}

#[test]
fn messages_given_back_after_the_others_finished_are_still_sent() {
    // Two of the four connections are refused for the whole run (a quota); their workers
    // retry before giving their messages back, after the two others have sent the rest.
    // Those must wait for the two messages rather than leave them for the next run.
    send_to_a_limiting_server(&["--sessions-ever", "2"], 20, "300ms");
}

#[test]
fn a_refused_connection_hands_its_message_to_an_open_idle_one() {
    // Two connections get in and two are refused; the refused ones would try twice more (in
    // 10 s, then 20 s). Once the open ones have nothing left to do, the refused ones give their
    // messages to them instead of trying again.
    let refused = send_to_a_limiting_server(&["--max-sessions", "2"], 10, "10s");
    assert_eq!(refused, 2, "the refused connections were tried again");
}

#[test]
fn the_rate_limit_spaces_the_messages() {
    let (_dir, server) = plain_server();
    let rows = many(6, 0);
    let test = Test::new()
        .config(&smtp_config(
            &server,
            "max_connections = 4\nrate_limit = \"10/s\"\n",
        ))
        .orders(GENERIC_HEADER, &rows);
    let started = std::time::Instant::now();
    send(&test, &[]).success().stderr_has("sent 6");
    // Six messages at ten a second take at least half a second, however many connections
    // (a lower bound: a loaded machine only makes it longer).
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.received().len(), 6);
}

#[test]
fn a_handed_back_message_keeps_the_outcome_of_the_connection_that_sent_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start_with(dir.path(), false, false, None, &["--max-sessions", "1"]);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 2\nattempts = 1\n"))
        .orders(
            GENERIC_HEADER,
            &[
                &row("H1", "h1@example.com", "2026-11-22 10:00"),
                &row("H2", "spam.h2@example.com", "2026-11-22 10:00"),
            ],
        );
    let (_, d) = send_json(&test, &[]);
    assert_eq!(d.get("H1")["status"], "sent");
    assert_eq!(d.get("H2")["status"], "rejected");
    assert_eq!(d.summary["rejected"], 1);
}

#[test]
fn an_unknown_step_is_settled_by_a_later_step_sent() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&(smtp_config(&server, "") + DAYS_LATER))
        .orders(
            GENERIC_HEADER,
            &[&row("S1", "drop-1.s1@example.com", "2026-11-23 05:00")],
        );
    let at = |now: &str, extra: &[&str]| {
        let mut args = vec![
            "run",
            "--orders",
            "orders.csv",
            "--now",
            now,
            "--send",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = test.exec(&args);
        let status = out.status;
        (
            status,
            Decisions::parse(&crate::support::Outcome { status: 0, ..out }),
        )
    };
    // payment_help ends unknown.
    let (status, d) = at(NOW, &[]);
    assert_eq!(
        (status, d.get("S1")["status"].as_str()),
        (1, Some("unknown"))
    );
    // A day later the ladder says popular; --retry-unknown lets it go.
    let (status, d) = at("2026-11-24T09:00:00+08:00", &["--retry-unknown"]);
    assert_eq!(
        (status, d.get("S1")["template"].as_str()),
        (0, Some("popular"))
    );
    // From then on the order is settled: no outcome_unknown, exit 0.
    let (status, d) = at("2026-11-24T12:00:00+08:00", &[]);
    assert_eq!(
        (status, d.outcome("S1")),
        (0, "skip:already_reminded".to_owned())
    );
}

#[test]
fn the_ladder_never_steps_back() {
    let (_dir, server) = plain_server();
    // A seller's ladder whose first step applies only to low-stock products.
    let rules = "\n[[rules]]\nlow_stock = true\ntemplate = \"low_stock\"\n\n[[rules]]\ntemplate = \"popular\"\n";
    let config = smtp_config(&server, "") + rules + DAYS_LATER;
    let test = Test::new().config(&config).orders(
        GENERIC_HEADER,
        &[&row("B1", "b1@example.com", "2026-11-22 10:00")],
    );
    let (_, d) = send_json(&test, &[]);
    assert_eq!(d.get("B1")["template"], "popular");
    // The product is nearly sold out a day later: the plan now says low_stock, a step before
    // popular, which is never sent after it.
    let config = config.replace(
        "currency = \"USD\"",
        "currency = \"USD\"\nlow_stock_products = [\"Tea\"]",
    );
    std::fs::write(test.path("payremind.toml"), config).unwrap();
    let out = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-24T09:00:00+08:00",
        "--send",
        "--format",
        "json",
    ]);
    let d = Decisions::parse(&crate::support::Outcome { status: 0, ..out });
    assert_eq!(d.outcome("B1"), "skip:already_reminded");
    assert_eq!(server.received().len(), 1);
}

/// Refusals at MAIL/RCPT, after the data, and a retry, one after the other on one connection:
/// each message gets its own replies (the pipelined envelope reads every reply of its group,
/// so the next message does not read a stale one), with and without PIPELINING offered.
fn refusals_on_one_connection(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start_with(dir.path(), false, false, None, extra);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\nattempts = 2\n"))
        .orders(
            GENERIC_HEADER,
            &[
                &row("P1", "reject.p1@example.com", "2026-11-22 10:00"),
                &row("P2", "tempfail-1.p2@example.com", "2026-11-22 10:00"),
                &row("P3", "spam.p3@example.com", "2026-11-22 10:00"),
                &row("P4", "p4@example.com", "2026-11-22 10:00"),
                &row("P5", "reject.p5@example.com", "2026-11-22 10:00"),
                &row("P6", "p6@example.com", "2026-11-22 10:00"),
            ],
        );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "{}", d.stderr);
    assert_eq!(d.get("P1")["status"], "bounced");
    assert_eq!(d.get("P2")["status"], "sent", "the second try went through");
    assert_eq!(d.get("P3")["status"], "rejected");
    assert_eq!(d.get("P4")["status"], "sent");
    assert_eq!(d.get("P5")["status"], "bounced");
    assert_eq!(d.get("P6")["status"], "sent");
    let to: Vec<String> = server
        .received()
        .iter()
        .map(|m| m.rcpt_tos.join(","))
        .collect();
    assert_eq!(
        to,
        [
            "tempfail-1.p2@example.com",
            "p4@example.com",
            "p6@example.com"
        ]
    );
    // The envelope was pipelined exactly when the server offered it.
    let offered = !extra.contains(&"--no-pipelining");
    for message in server.received() {
        assert_eq!(message.pipelined, offered, "{:?}", message.rcpt_tos);
    }
}

#[test]
fn refusals_keep_a_pipelining_connection_in_step() {
    refusals_on_one_connection(&[]);
}

#[test]
fn refusals_keep_a_connection_without_pipelining_in_step() {
    refusals_on_one_connection(&["--no-pipelining"]);
}

#[test]
fn paid_orders_are_remembered_for_later_exports_and_counted_once() {
    // A sending run remembers the export's paid orders: X paid P1 on the 20th.
    let test = Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\noutbox = \"review\"\n{DAYS_LATER}"
        ))
        .orders(
            GENERIC_HEADER,
            &["P1,x,Xia,x@example.com,paid,2026-11-20 10:00,10.00,web,Tea,"],
        );
    send(&test, &[]).success();
    let unpaid = "U1,x,Xia,x@example.com,pending,2026-11-22 10:00,10.00,web,Tea,";
    let decide = |rows: &[&str]| {
        test.set_orders(GENERIC_HEADER, rows);
        test.preview().outcome("U1")
    };
    // P1 is gone from the later export, but X is still a returning buyer (no perk: no mail).
    assert_eq!(decide(&[unpaid]), "skip:no_offer_for_returning");
    // In the export and in the ledger: one paid order, not two (two would make X loyal).
    let p1 = "P1,x,Xia,x@example.com,paid,2026-11-20 10:00,10.00,web,Tea,";
    assert_eq!(decide(&[p1, unpaid]), "skip:no_offer_for_returning");
    // Another paid order in the export adds to the remembered one.
    let p0 = "P0,x,Xia,x@example.com,paid,2026-11-19 10:00,10.00,web,Tea,";
    assert_eq!(decide(&[p0, unpaid]), "loyal");
    // Without the ledger, X would be new.
    let fresh = Test::new()
        .config(GENERIC_CONFIG)
        .orders(GENERIC_HEADER, &[unpaid]);
    assert_eq!(fresh.decide().outcome("U1"), "popular");
}

#[test]
fn a_remembered_paid_order_cancelled_since_counts_as_the_export_says() {
    // Day 1: Y's P1 is authorised (paid, as far as Y knows), so U1 the same day is left alone,
    // and the sending run remembers P1 as paid.
    let test = Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\noutbox = \"review\"\n"
        ))
        .orders(
            GENERIC_HEADER,
            &[
                "P1,y,Yan,y@example.com,paid,2026-11-22 10:00,10.00,web,Tea,",
                "U1,y,Yan,y@example.com,pending,2026-11-22 09:00,10.00,web,Tea,",
            ],
        );
    send(&test, &[]).success();
    assert_eq!(test.preview().outcome("U1"), "skip:paid_same_day");
    // Day 2: the shop cancelled P1 before capturing it. The export's word wins over the
    // ledger's memory: Y paid nothing that day.
    test.set_orders(
        GENERIC_HEADER,
        &[
            "P1,y,Yan,y@example.com,cancelled,2026-11-22 10:00,10.00,web,Tea,",
            "U1,y,Yan,y@example.com,pending,2026-11-22 09:00,10.00,web,Tea,",
        ],
    );
    let d = test.preview();
    assert_eq!(d.outcome("U1"), "popular");
    assert_eq!(d.get("U1")["buyer_type"], "new");
}

#[test]
fn a_ledger_locked_by_another_tool_for_a_while_only_delays_the_sending() {
    let (_dir, server) = plain_server();
    let rows = many(20, 0);
    let test = Test::new()
        .config(&smtp_config(
            &server,
            "max_connections = 2\nrate_limit = \"10/s\"\n",
        ))
        .orders(GENERIC_HEADER, &rows[..1]);
    send(&test, &[]).success().stderr_has("sent 1");
    test.set_orders(GENERIC_HEADER, &rows);
    // Twenty messages at ten a second; once they are going out, another program holds the
    // ledger's write lock for a second and a half.
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    wait_for_arrivals(&server, 2);
    let mut locker = lock_ledger(&test, 1.5);
    assert!(
        server.received().len() < 20,
        "the lock came after the sending: the test shows nothing"
    );
    locker.wait().unwrap();
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("sent 19"), "{stderr}");
    assert_each_arrived_once(&server, 20);
}

#[test]
fn a_second_signal_stops_at_once_even_while_the_ledger_is_locked() {
    let (_dir, server) = plain_server();
    let rows = many(20, 0);
    let test = Test::new()
        .config(&smtp_config(
            &server,
            "max_connections = 2\nrate_limit = \"10/s\"\n",
        ))
        .orders(GENERIC_HEADER, &rows[..1]);
    send(&test, &[]).success();
    test.set_orders(GENERIC_HEADER, &rows);
    let run = test.spawn(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
    // Once the run is sending (its signal handlers are in place), another program holds the
    // write lock for five seconds.
    wait_for_arrivals(&server, 2);
    let mut locker = lock_ledger(&test, 5.0);
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..2 {
        std::process::Command::new("kill")
            .args(["-TERM", &run.id().to_string()])
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = run.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !test.path("payremind.db.released").exists(),
        "the run waited until the lock was given up"
    );
    locker.wait().unwrap();
    // What was cut short is sent by the next run or listed as unknown, never twice.
    let (_, d) = send_json(&test, &[]);
    let ids = accepted(&server);
    assert!(ids.values().all(|&n| n == 1), "a message arrived twice");
    let unknown = d.summary["skipped"]["outcome_unknown"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(ids.len() as u64 + unknown, 20, "{:?}", d.summary);
}

#[test]
fn a_failed_ledger_write_keeps_the_outcomes_it_can() {
    let (_dir, server) = plain_server();
    let rows = many(6, 0);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\n"))
        .orders(GENERIC_HEADER, &rows[..1]);
    send(&test, &[]).success();
    // The ledger refuses K003's intent (as a full disk or a broken file would). K002's
    // outcome waits in the same commit as K003's intent: it must not be lost with it.
    let sql = |statement: &str| {
        let script = "import sqlite3, sys\n\
                      sqlite3.connect(sys.argv[1], isolation_level=None).execute(sys.argv[2])";
        let status = python_on_ledger(&test, script)
            .arg(statement)
            .status()
            .unwrap();
        assert!(status.success());
    };
    sql(
        "CREATE TRIGGER refuse BEFORE INSERT ON attempts WHEN NEW.order_id = 'K003' \
         BEGIN SELECT RAISE(ABORT, 'refused for the test'); END",
    );
    test.set_orders(GENERIC_HEADER, &rows);
    send(&test, &[])
        .failure(2)
        .stderr_has("refused for the test");
    sql("DROP TRIGGER refuse");
    let history = test.exec(&["history", "--format", "json"]);
    let statuses: std::collections::BTreeMap<String, String> = history
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|a| {
            (
                a["order_id"].as_str().unwrap().to_owned(),
                a["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for sent in ["K000", "K001", "K002"] {
        assert_eq!(statuses[sent], "sent", "{statuses:?}");
    }
    assert!(!statuses.contains_key("K003"), "{statuses:?}");
    // The next run sends the rest, and nothing twice.
    send(&test, &[]).success();
    assert_each_arrived_once(&server, 6);
}

#[test]
fn a_scattered_export_remembers_only_whole_paid_orders() {
    // X1's rows are apart and contradict each other (paid, then pending): read whole, X1 is
    // unreadable. The first, adjacent reading saw a paid fragment of it; that must not be
    // remembered as a paid order of x.
    let test = Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\noutbox = \"review\"\n"
        ))
        .orders(
            GENERIC_HEADER,
            &[
                "X1,x,Xia,x@example.com,paid,2026-11-22 10:00,10.00,web,Tea,",
                "Y1,y,Yan,y@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
                "X1,x,Xia,x@example.com,pending,2026-11-22 10:00,10.00,web,Cup,",
            ],
        );
    let (_, d) = send_json(&test, &[]);
    assert_eq!(d.get("X1")["reason"], "invalid_row");
    // The next export: x's new order of the same day is not "paid the same day".
    test.set_orders(
        GENERIC_HEADER,
        &["X2,x,Xia,x@example.com,pending,2026-11-22 11:00,10.00,web,Tea,"],
    );
    assert_eq!(test.preview().outcome("X2"), "popular");
}

#[test]
fn an_export_replaced_while_sending_still_shows_what_was_sent() {
    // Five slow messages (0.3 s each on one connection); once the first is in, the export is
    // replaced (the next cron download). The last reading, which prints the entries, finds
    // another file: the run says so, exit 2, but lists every sent reminder and the summary.
    let (_dir, server) = plain_server();
    let rows = many(5, 300);
    let test = Test::new()
        .config(&smtp_config(&server, "max_connections = 1\n"))
        .orders(GENERIC_HEADER, &rows);
    let run = test.spawn(SEND_JSON);
    wait_for_arrivals(&server, 1);
    test.set_orders(
        GENERIC_HEADER,
        &[&row("N1", "n1@example.com", "2026-11-22 10:00")],
    );
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("changed while it was being read"),
        "{stderr}"
    );
    let d = Decisions::parse(&crate::support::Outcome {
        status: 0,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: stderr.into_owned(),
    });
    assert_eq!(d.summary["sent"], 5);
    for i in 0..5 {
        assert_eq!(d.get(&format!("K{i:03}"))["status"], "sent");
    }
    assert_each_arrived_once(&server, 5);
}

#[test]
fn a_server_that_refuses_a_second_ehlo_is_written_to_one_command_at_a_time() {
    // payremind says EHLO again to learn about PIPELINING (lettre does not keep that word);
    // a server that refuses the repetition still gets its mail, without pipelining.
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start_with(dir.path(), false, false, None, &["--refuse-second-ehlo"]);
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[
            &row("E1", "e1@example.com", "2026-11-22 10:00"),
            &row("E2", "e2@example.com", "2026-11-22 10:00"),
        ],
    );
    send(&test, &[]).success().stderr_has("sent 2");
    let received = server.received();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|m| !m.pipelined));
}

#[test]
fn an_address_no_transport_takes_is_no_contact_everywhere_and_the_others_are_sent() {
    let (_dir, server) = plain_server();
    let bad = [
        (
            "A1",
            "\"\"\"m b\"\"@x.example\"",
            "a quoted name before the @",
        ),
        (
            "A2",
            "a@[1.2.3.4]",
            "an IP address instead of a domain name",
        ),
        ("A3", "root@localhost", "a domain without a dot"),
        ("A4", "jürgen@x.example", "need SMTPUTF8"),
    ];
    let mut rows: Vec<String> = bad
        .iter()
        .map(|(id, email, _)| row(id, email, "2026-11-22 10:00"))
        .collect();
    rows.push(row("A5", "a5@example.com", "2026-11-22 10:00"));
    rows.push(row("A6", "a6@bücher.example", "2026-11-22 10:00"));
    let test = Test::new()
        .config(&smtp_config(&server, ""))
        .orders(GENERIC_HEADER, &rows);

    // The preview, check and the send judge every address alike.
    let d = test.preview();
    for (id, _, why) in bad {
        assert_eq!(d.outcome(id), "skip:no_contact", "{id}");
        let error = d.get(id)["error"].as_str().unwrap_or_default().to_owned();
        assert!(error.contains(why), "{id}: {error}");
    }
    assert_eq!(d.get("A6")["to"], "a6@xn--bcher-kva.example");
    let check = test.exec(&["check", "--orders", "orders.csv", "--now", NOW]);
    check
        .success()
        .stdout_has("orders without an address a reminder can go to (no_contact): 4")
        .stdout_has("orders.csv:4: \"root@localhost\": a domain without a dot");

    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.summary["sent"], 2);
    for (id, _, _) in bad {
        assert_eq!(d.outcome(id), "skip:no_contact", "{id}");
    }
    let mut rcpts: Vec<String> = server
        .received()
        .iter()
        .flat_map(|m| m.rcpt_tos.clone())
        .collect();
    rcpts.sort();
    assert_eq!(rcpts, ["a5@example.com", "a6@xn--bcher-kva.example"]);
}

#[test]
fn an_address_cell_with_a_display_name_or_a_mailto_is_read_as_its_address() {
    let (_dir, server) = plain_server();
    let cells = [
        (
            "M1",
            "\"\"\"Ann Q\"\" <annq@example.com>\"",
            "annq@example.com",
        ),
        ("M2", "<ann6@example.com>", "ann6@example.com"),
        ("M3", "Ann <ann@x.com>", "ann@x.com"),
        ("M4", "mailto:ann4@example.com", "ann4@example.com"),
    ];
    let rows: Vec<String> = cells
        .iter()
        .map(|(id, cell, _)| row(id, cell, "2026-11-22 10:00"))
        .collect();
    let test = smtp_test(&server, "", &rows);
    let d = test.preview();
    for (id, _, address) in cells {
        assert_eq!(d.outcome(id), "popular", "{id}: {}", d.get(id));
        assert_eq!(d.get(id)["to"], address, "{id}");
    }
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0, "{}", d.stderr);
    let mut rcpts: Vec<String> = server
        .received()
        .iter()
        .flat_map(|m| m.rcpt_tos.clone())
        .collect();
    rcpts.sort();
    let mut expected: Vec<&str> = cells.iter().map(|(_, _, a)| *a).collect();
    expected.sort_unstable();
    assert_eq!(rcpts, expected);
}

#[test]
fn only_a_mailbox_that_does_not_exist_is_a_bounce() {
    let (_dir, server) = plain_server();
    let test = due(
        &server,
        "",
        &[
            ("B1", "reject.b1@example.com"),
            ("B2", "nombx.b2@example.com"),
            ("B3", "full.b3@example.com"),
            ("B4", "b4@example.com"),
        ],
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("B1")["status"], "bounced", "550 5.1.1");
    assert_eq!(d.get("B2")["status"], "bounced", "550 and no such user");
    assert_eq!(d.get("B3")["status"], "failed", "a full mailbox may empty");
    assert_eq!(d.get("B4")["status"], "sent");
    let d = test.preview();
    assert_eq!(d.outcome("B1"), "skip:bounced");
    assert_eq!(d.outcome("B2"), "skip:bounced");
    assert_eq!(d.outcome("B3"), "popular", "tried again");
}

#[test]
fn a_relay_or_policy_refusal_stops_the_run_and_blames_no_buyer() {
    for (address, words) in [
        ("relay.p1@example.com", "(554): 5.7.1"),
        (
            "authreq.p1@example.com",
            "(530): 5.7.0 Authentication required",
        ),
        ("policy.p1@example.com", "(550): 5.7.1 Client host rejected"),
    ] {
        let (_dir, server) = plain_server();
        let test = smtp_test(
            &server,
            "max_connections = 1\n",
            &[
                &row("P1", address, "2026-11-22 10:00"),
                &row("P2", "p2@example.com", "2026-11-22 10:00"),
            ],
        );
        let outcome = send(&test, &[]);
        outcome
            .failure(1)
            .stderr_has("bounced 0")
            .stderr_has(
                "not attempted 1 (stopped: the server refuses to take mail from this set-up",
            )
            .stderr_has(words)
            .stderr_has("check [smtp]");
        assert!(server.received().is_empty(), "{address}");
        // Nobody is blamed: both are reminded on the next run.
        let d = test.preview();
        assert_eq!(d.outcome("P1"), "popular", "{address} is not a bounce");
        assert_eq!(d.outcome("P2"), "popular");
    }
}

/// Postfix checks the sender at RCPT: a refusal of the seller's own address comes as the
/// answer to a buyer's RCPT, with a 5.1.x. It is the set-up's, never the buyer's.
#[test]
fn a_refusal_of_the_sender_at_rcpt_stops_the_run_and_blames_no_buyer() {
    for (address, words) in [
        ("sender.s1@example.com", "5.1.0"),
        ("senderdom.s1@example.com", "5.1.8"),
    ] {
        let (_dir, server) = plain_server();
        let test = smtp_test(
            &server,
            "max_connections = 1\n",
            &[
                &row("S1", address, "2026-11-22 10:00"),
                &row("S2", "s2@example.com", "2026-11-22 10:00"),
            ],
        );
        send(&test, &[])
            .failure(1)
            .stderr_has("bounced 0")
            .stderr_has(
                "not attempted 1 (stopped: the server refuses to take mail from this set-up",
            )
            .stderr_has(words)
            .stderr_has("Sender address rejected");
        let d = test.preview();
        assert_eq!(d.outcome("S1"), "popular", "{address} is not a bounce");
        assert_eq!(d.outcome("S2"), "popular");
    }
}

/// A relay whose resolver is broken says "550 5.1.2 Domain not found" for every recipient.
/// Three such bounces in a row at different domains, with nobody accepted in between, are the
/// server's doing: the run stops and they are recorded as failed. The next run tries them after
/// the others; refused again once others were accepted, they are real bounces.
#[test]
fn bounces_in_a_row_at_different_domains_trip_the_breaker_and_silence_nobody() {
    let (_dir, server) = plain_server();
    let test = due(
        &server,
        "max_connections = 1\n",
        &[
            ("N1", "nodomain.n1@one.example"),
            ("N2", "nodomain.n2@two.example"),
            ("N3", "nodomain.n3@three.example"),
            ("N4", "n4@example.com"),
        ],
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    for id in ["N1", "N2", "N3"] {
        assert_eq!(d.get(id)["status"], "failed", "{id}: {}", d.get(id));
        assert!(
            d.get(id)["server_reply"]
                .as_str()
                .unwrap()
                .contains("recorded as failed, not bounced"),
            "{}",
            d.get(id)
        );
    }
    assert!(d.get("N4")["status"].is_null(), "not attempted");
    assert_eq!(d.summary["bounced"], 0);
    assert!(
        d.summary["stopped"]
            .as_str()
            .unwrap()
            .contains("3 addresses at 3 different domains in a row"),
        "{}",
        d.summary
    );
    // The ledger agrees: nobody is bounced.
    let preview = test.preview();
    for id in ["N1", "N2", "N3", "N4"] {
        assert_eq!(preview.outcome(id), "popular", "{id}");
    }
    // The next run: N4 first (the failed ones last), accepted; then the three are refused
    // again, by a server that accepts others: real bounces.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("N4")["status"], "sent");
    for id in ["N1", "N2", "N3"] {
        assert_eq!(d.get(id)["status"], "bounced", "{id}");
    }
    assert_eq!(server.received().len(), 1);
}

/// An access map refusing one buyer's address ("Recipient address rejected: Access denied",
/// a 554 5.7.1) is that message's failure: the others are sent, wherever it comes.
#[test]
fn a_refusal_that_names_one_recipient_fails_that_message_only() {
    for first in [true, false] {
        let (_dir, server) = plain_server();
        let mut orders = vec![("C1", "c1@example.com"), ("C3", "c3@example.com")];
        orders.insert(usize::from(!first), ("C2", "blocked.c2@blocked.example"));
        let test = due(&server, "max_connections = 1\n", &orders);
        let (status, d) = send_json(&test, &[]);
        assert_eq!(status, 1, "{}", d.stderr);
        assert_eq!(d.get("C1")["status"], "sent");
        assert_eq!(d.get("C3")["status"], "sent");
        assert_eq!(d.get("C2")["status"], "failed");
        assert!(d.summary["stopped"].is_null(), "{}", d.summary);
        assert_eq!(
            test.preview().outcome("C2"),
            "popular",
            "tried again, not a bounce"
        );
    }
}

/// A 5.7.1 at RCPT that names no cause may be the buyer's or the set-up's. It stops the run
/// when no recipient was accepted yet, or when it repeats at another domain; once others were
/// accepted, a single one is that message's failure. And a refusal that stopped a run does not
/// stop every run at the same buyer: the failed ones are tried after the others.
#[test]
fn a_policy_refusal_at_rcpt_stops_the_run_only_when_it_looks_like_the_set_up() {
    let (_dir, server) = plain_server();
    let test = due(
        &server,
        "max_connections = 1\n",
        &[
            ("D1", "denied.d1@one.example"),
            ("D2", "d2@example.com"),
            ("D3", "d3@example.com"),
        ],
    );
    // Nobody accepted yet: it may be the set-up; the run stops.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("D1")["status"], "failed");
    assert_eq!(d.summary["not_attempted"], 2, "{}", d.summary);
    // The next run: D2 and D3 first, then D1, refused alone: only D1 fails.
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("D2")["status"], "sent");
    assert_eq!(d.get("D3")["status"], "sent");
    assert_eq!(d.get("D1")["status"], "failed");
    assert!(d.summary["stopped"].is_null(), "{}", d.summary);

    // Refused at a second domain after an acceptance: the set-up; the run stops there.
    let (_dir, server) = plain_server();
    let test = due(
        &server,
        "max_connections = 1\n",
        &[
            ("E1", "e1@example.com"),
            ("E2", "denied.e2@one.example"),
            ("E3", "denied.e3@two.example"),
            ("E4", "e4@example.com"),
        ],
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("E1")["status"], "sent");
    assert_eq!(d.get("E2")["status"], "failed");
    assert_eq!(d.get("E3")["status"], "failed");
    assert!(d.get("E4")["status"].is_null(), "not attempted");
    assert!(
        d.summary["stopped"]
            .as_str()
            .unwrap()
            .contains("refuses to take mail from this set-up"),
        "{}",
        d.summary
    );
}

#[test]
fn forget_undoes_a_bounce_and_a_given_up_order_and_history_shows_it() {
    let (_dir, server) = plain_server();
    let test = smtp_test(
        &server,
        "",
        &[
            &row("F1", "reject.f1@example.com", "2026-11-22 10:00"),
            // Four days old: the final offer.
            &row("F2", "f2@example.com", "2026-11-19 10:00"),
        ],
    );
    send(&test, &[]).failure(1).stderr_has("bounced 1");
    let d = test.preview();
    assert_eq!(d.outcome("F1"), "skip:bounced");
    assert_eq!(d.outcome("F2"), "skip:gave_up");

    test.exec(&["forget", "--bounce", "Reject.F1@example.com"])
        .success()
        .stdout_has("forgot 1 bounce(s) of Reject.F1@example.com");
    test.exec(&["forget", "--order", "F2"])
        .success()
        .stdout_has("forgot 1 earlier attempt(s) for order F2");
    // Two days later (the buyer's min_gap still counts for F2's buyer).
    let later = Decisions::parse(&test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-25T09:00:00+08:00",
        "--format",
        "json",
    ]));
    assert_eq!(
        later.outcome("F1"),
        "discount",
        "the address may be written to again"
    );
    assert_eq!(later.outcome("F2"), "discount", "decided afresh");

    // Nothing to forget is said so, and changes nothing.
    test.exec(&["forget", "--bounce", "nobody@example.com"])
        .failure(2)
        .stderr_has("no bounce of \"nobody@example.com\" is recorded in the ledger");
    test.exec(&["forget"]).failure(2);

    let history = test.exec(&["history", "--format", "json"]);
    let lines: Vec<serde_json::Value> = history
        .success()
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["bounced", "sent", "forgotten", "forgotten"],
        "{lines:?}"
    );
    assert_eq!(lines[2]["to"], "reject.f1@example.com");
    assert_eq!(lines[3]["order_id"], "F2");
    test.exec(&["history", "--order", "F2"])
        .success()
        .stdout_has("forgotten: payremind forget --order");
}

#[test]
fn forget_bounce_takes_the_address_as_it_was_sent_and_forgets_once() {
    let (_dir, server) = plain_server();
    let test = due(&server, "", &[("I1", "reject.i1@bücher.example")]);
    send(&test, &[]).failure(1).stderr_has("bounced 1");
    assert_eq!(test.preview().outcome("I1"), "skip:bounced");
    // Written as the seller reads it: the domain in its own script, capitals, a trailing dot.
    test.exec(&["forget", "--bounce", "Reject.I1@Bücher.example."])
        .success()
        .stdout_has("forgot 1 bounce(s)");
    assert_eq!(test.preview().outcome("I1"), "popular");
    // Twice: nothing more to forget, and nothing recorded again.
    test.exec(&["forget", "--bounce", "reject.i1@xn--bcher-kva.example"])
        .success()
        .stdout_has("forgot 0 bounce(s)")
        .stdout_has("forgotten already");
    let history = test.exec(&["history", "--format", "json"]);
    let forgotten = history
        .success()
        .stdout
        .lines()
        .filter(|l| l.contains("\"forgotten\""))
        .count();
    assert_eq!(forgotten, 1, "{}", history.stdout);
}

#[test]
fn forget_bounces_since_undoes_a_bad_morning_at_once() {
    let (_dir, server) = plain_server();
    let test = due(
        &server,
        "",
        &[
            ("J1", "reject.j1@example.com"),
            ("J2", "reject.j2@example.com"),
            ("J3", "j3@example.com"),
        ],
    );
    send(&test, &[]).failure(1).stderr_has("bounced 2");
    test.exec(&["forget", "--bounces-since", "2020-01-01T00:00:00Z"])
        .success()
        .stdout_has("forgot the bounces of 2 address(es)");
    let d = test.preview();
    assert_eq!(d.outcome("J1"), "popular");
    assert_eq!(d.outcome("J2"), "popular");
    // Since a later time than the bounces: none.
    send(&test, &[]).failure(1).stderr_has("bounced 2");
    test.exec(&["forget", "--bounces-since", "2100-01-01T00:00:00Z"])
        .success()
        .stdout_has("forgot the bounces of 0 address(es)");
    assert_eq!(test.preview().outcome("J1"), "skip:bounced");
}

#[test]
fn a_closed_stdout_does_not_hide_what_the_sends_earned() {
    let (_dir, server) = plain_server();
    let test = due(
        &server,
        "",
        &[("H1", "reject.h1@example.com"), ("H2", "h2@example.com")],
    );
    // `payremind run --send --format json | head -0`: the reader is gone before the first line.
    let mut run = test.spawn(SEND_JSON);
    drop(run.stdout.take());
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "H1 bounced: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Everything was sent and recorded.
    assert_eq!(server.received().len(), 1);
    let history = test.exec(&["history", "--format", "json"]);
    let statuses: Vec<String> = history
        .success()
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["status"].to_string())
        .collect();
    assert_eq!(statuses, ["\"bounced\"", "\"sent\""]);
}

#[test]
fn a_send_refuses_a_now_in_the_future_and_a_dry_run_takes_it() {
    let (_dir, server) = plain_server();
    let test = one_reminder(&server, "", "W1", "w1@example.com");
    let future = "2062-11-23T09:00:00+08:00";
    let refused = test.exec(&["run", "--orders", "orders.csv", "--now", future, "--send"]);
    refused
        .failure(2)
        .stderr_has("--now \"2062-11-23T09:00:00+08:00\" is later than this computer's clock");
    assert!(server.received().is_empty());
    assert!(!test.path("payremind.db").exists(), "nothing recorded");
    // A dry run takes it (what-if), and a past --now may still send (NOW is in the past).
    test.exec(&["run", "--orders", "orders.csv", "--now", future])
        .success();
    send(&test, &[]).success().stderr_has("sent 1");
}

#[test]
fn a_reply_to_auth_is_never_stored_or_printed() {
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start_with(
        dir.path(),
        false,
        false,
        Some("shop:right-password"),
        &["--auth-echo"],
    );
    let test = one_reminder(
        &server,
        "username = \"shop\"\nallow_insecure_auth = true\nattempts = 1\n",
        "E1",
        "e1@example.com",
    )
    .env("PAYREMIND_SMTP_PASSWORD", "wr0ng-secret");
    // What the server echoes: base64 of "\0shop\0wr0ng-secret".
    let echoed = "AHNob3AAd3Iwbmctc2VjcmV0";
    let outcome = send(&test, &[]);
    outcome
        .failure(1)
        .stderr_has("the server refused the login for shop (reply 535");
    let history = test.exec(&["history", "--format", "json"]);
    for text in [&outcome.stdout, &outcome.stderr, &history.stdout] {
        assert!(!text.contains(echoed), "{text}");
        assert!(!text.contains("wr0ng-secret"), "{text}");
    }
    let ledger = std::fs::read(test.path("payremind.db")).unwrap();
    assert!(
        !ledger.windows(echoed.len()).any(|w| w == echoed.as_bytes()),
        "the ledger file holds the echoed AUTH line"
    );
}

#[test]
fn a_password_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(dir.path(), false, false, Some("shop:s3cret"));
    let test = one_reminder(
        &server,
        "username = \"shop\"\nallow_insecure_auth = true\npassword_file = \"smtp-password\"\n",
        "P1",
        "p1@example.com",
    )
    .file("smtp-password", "s3cret\n");
    let file = test.path("smtp-password");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let sent = send(&test, &[]);
    sent.success().stderr_has(
        "warning: [smtp].password_file smtp-password can be read by other users of this computer (mode 644); make it yours only: chmod 600",
    );
    assert!(!sent.stderr.contains("s3cret"));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let quiet = send(&test, &[]);
    assert!(
        !quiet.success().stderr.contains("warning"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn a_sendmail_that_reads_part_of_the_message_and_exits_0_leaves_it_maybe_sent() {
    // Reads the first 100 bytes (the message fits a pipe's buffer whole), then says "done".
    let test = with_sendmail("head -c 100 > /dev/null\nexit 0", "");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("W1")["status"], "unknown");
    assert!(
        d.get("W1")["server_reply"]
            .as_str()
            .unwrap()
            .contains("ended without taking the whole message")
    );
    // One that reads it all is sent.
    let test = with_sendmail("cat > /dev/null\nexit 0", "");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0);
    assert_eq!(d.get("W1")["status"], "sent");
}

/// A wrapper script that reads the message by opening `/dev/stdin` again (as `cat /dev/stdin`
/// does) reads it all; one that reads half of it this way does not.
#[test]
fn a_sendmail_reading_dev_stdin_is_judged_by_what_it_read() {
    let test = with_sendmail(
        "cat /dev/stdin > \"$(dirname \"$0\")/queued-$$.eml\"\nexit 0",
        "",
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 0, "{}", d.summary);
    assert_eq!(d.get("W1")["status"], "sent");
    assert_eq!(d.get("W2")["status"], "sent");
    let queued: Vec<Vec<u8>> = std::fs::read_dir(test.dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("queued-"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert_eq!(queued.len(), 2);
    let sizes: Vec<usize> = queued.iter().map(Vec::len).collect();
    assert!(sizes.iter().all(|&n| n > 500), "whole messages: {sizes:?}");

    // About half of it (each message is some 590 bytes), through /dev/stdin too.
    let test = with_sendmail("head -c 300 /dev/stdin > /dev/null\nexit 0", "");
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1);
    assert_eq!(d.get("W1")["status"], "unknown");
    assert!(
        d.get("W1")["server_reply"]
            .as_str()
            .unwrap()
            .contains("ended without taking the whole message")
    );
}

/// A message larger than a pipe holds, to a program that reads none of it and exits 0: not
/// sent (and the run does not wait for a reader that is gone).
#[test]
fn a_sendmail_that_reads_nothing_of_a_large_message_leaves_it_maybe_sent() {
    let test = with_sendmail("exit 0", "");
    // A product line of 200 000 characters: the message is far larger than a pipe's buffer.
    let product = "Tea ".repeat(50_000);
    test.set_orders(
        GENERIC_HEADER,
        &[row("W1", "w1@example.com", "2026-11-22 10:00")
            .replace(",Tea,", &format!(",{product},"))],
    );
    let (status, d) = send_json(&test, &[]);
    assert_eq!(status, 1, "{}", d.stderr);
    assert_eq!(d.get("W1")["status"], "unknown", "{}", d.get("W1"));
}

#[test]
fn a_long_order_id_in_chinese_still_gets_an_outbox_file_once() {
    let id = "订单".repeat(60);
    let test = Test::new()
        .config(&format!("{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\n"))
        .orders(
            GENERIC_HEADER,
            &[&row(&id, "long@example.com", "2026-11-22 10:00")],
        );
    send(&test, &[]).success().stderr_has("sent 1");
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(test.path("outbox"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].file_name().unwrap().len() <= 255);
    send(&test, &[]).success().stderr_has("sent 0");
}

#[test]
fn export_text_in_headers_and_the_preview_is_one_visible_line_of_bounded_length() {
    let (_dir, server) = plain_server();
    let name = format!("Eve\u{202E}gpj.exe\u{200B}\x1b[2J{}", "王".repeat(200_000));
    let test = smtp_test(
        &server,
        "",
        &[format!(
            "\"N1\nBcc: x@example.com\",n1,\"{name}\",n1@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"
        )],
    );
    let preview = test.exec(&["run", "--orders", "orders.csv", "--now", NOW]);
    preview.success();
    for bad in ["\x1b", "\u{202E}", "\u{200B}"] {
        assert!(!preview.stdout.contains(bad), "{bad:?} in the preview");
    }
    preview.stdout_has("order N1 Bcc: x@example.com");
    assert!(preview.stdout.lines().all(|l| l.chars().count() < 400));

    send(&test, &[]).success().stderr_has("sent 1");
    let received = server.received();
    let raw = String::from_utf8_lossy(&received[0].raw).into_owned();
    let headers = raw.split("\r\n\r\n").next().unwrap();
    assert!(
        headers.lines().all(|l| l.len() <= 998),
        "a header line over 998 bytes"
    );
    assert!(!headers.to_ascii_lowercase().contains("\nbcc:"));
    // The whole id is in the subject: the line break did not cut it.
    let subject = received[0].header("Subject");
    assert!(subject.contains("N1 Bcc: x@example.com"), "{subject}");
    assert!(!received[0].header("To").contains('\u{202E}'));
}
