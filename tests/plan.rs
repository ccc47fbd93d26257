//! The send gate: `run --save-plan` keeps the reviewed reminders, `run --send --plan` sends
//! only those still due and unchanged; in a terminal, `--send` asks first; a mistyped flag
//! never suggests one that sends.

use crate::support::{Decisions, GENERIC_CONFIG, GENERIC_HEADER, NOW, Outcome, Test};

/// The review, an hour before [`NOW`].
const REVIEWED: &str = "2026-11-23T08:00:00+08:00";

fn row(id: &str, status: &str) -> String {
    format!("{id},{id}-buyer,Buyer {id},{id}@example.com,{status},2026-11-22 10:00,10.00,web,Tea,")
}

/// A shop sending to the outbox folder, with its own templates folder (a copy of the
/// built-in `popular`, the step these orders get), and orders `ids` due.
fn shop(extra: &str, ids: &[&str]) -> Test {
    let popular = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/en/popular.txt"),
    )
    .unwrap();
    let rows: Vec<String> = ids.iter().map(|id| row(id, "pending")).collect();
    Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[templates]\ndir = \"templates\"\n\n[delivery]\nvia = \"outbox\"\n{extra}"
        ))
        .file("templates/popular.txt", popular)
        .orders(GENERIC_HEADER, &rows)
}

fn save_plan(test: &Test, at: &str) -> Outcome {
    test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        at,
        "--save-plan",
        "plan.json",
    ])
}

fn send_plan(test: &Test) -> (i32, Decisions) {
    let outcome = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--plan",
        "plan.json",
        "--format",
        "json",
    ]);
    let status = outcome.status;
    (
        status,
        Decisions::parse(&Outcome {
            status: 0,
            ..outcome
        }),
    )
}

/// The order ids in the outbox, sorted.
fn outbox(test: &Test) -> Vec<String> {
    let mut ids: Vec<String> = match std::fs::read_dir(test.path("outbox")) {
        Ok(files) => files
            .map(|f| {
                let name = f.unwrap().file_name().to_string_lossy().into_owned();
                name.split('.').nth(1).unwrap().to_owned()
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    ids.sort();
    ids
}

#[test]
fn a_saved_plan_is_sent_exactly() {
    let test = shop("", &["O1", "O2"]);
    save_plan(&test, REVIEWED)
        .success()
        .stderr_has("plan saved to plan.json: 2 reminders")
        .stderr_has("--send --plan plan.json");
    assert!(outbox(&test).is_empty(), "a review sends nothing");
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test.path("plan.json")).unwrap()).unwrap();
    assert_eq!(plan["now"], REVIEWED);
    assert_eq!(plan["config"]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(plan["export"]["sha256"].as_str().unwrap().len(), 64);
    let reminders = plan["reminders"].as_array().unwrap();
    assert_eq!(reminders.len(), 2);
    assert_eq!(reminders[0]["order_id"], "O1");
    assert_eq!(reminders[0]["template"], "popular");
    assert_eq!(reminders[0]["to"], "O1@example.com");
    assert_eq!(reminders[0]["body_sha256"].as_str().unwrap().len(), 64);

    let (status, d) = send_plan(&test);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.get("O1")["status"], "sent");
    assert_eq!(d.get("O2")["status"], "sent");
    assert_eq!(outbox(&test), ["O1", "O2"]);
}

#[test]
fn a_buyer_who_paid_since_the_review_is_not_sent_and_today_says_why() {
    let test = shop("", &["O1", "O2"]);
    save_plan(&test, REVIEWED).success();
    test.set_orders(GENERIC_HEADER, &[row("O1", "pending"), row("O2", "paid")]);
    let (status, d) = send_plan(&test);
    assert_eq!(status, 0, "not due is not a failure: {}", d.stderr);
    assert_eq!(d.outcome("O1"), "popular");
    assert_eq!(d.outcome("O2"), "skip:not_due_anymore");
    let why = d.get("O2")["error"].as_str().unwrap();
    assert!(why.contains("paid"), "{why}");
    assert_eq!(outbox(&test), ["O1"]);
}

#[test]
fn an_order_due_today_but_not_reviewed_is_not_sent() {
    let test = shop("", &["O1"]);
    save_plan(&test, REVIEWED).success();
    test.set_orders(
        GENERIC_HEADER,
        &[row("O1", "pending"), row("O3", "pending")],
    );
    let (status, d) = send_plan(&test);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.outcome("O3"), "skip:not_in_plan");
    assert_eq!(d.summary["skipped"]["not_in_plan"], 1);
    assert_eq!(outbox(&test), ["O1"]);
}

#[test]
fn a_template_edited_after_the_review_holds_its_reminders_back() {
    let test = shop("", &["O1"]);
    save_plan(&test, REVIEWED).success();
    let path = test.path("templates/popular.txt");
    let edited = std::fs::read_to_string(&path).unwrap() + "\nP.S. A line nobody reviewed.\n";
    std::fs::write(&path, edited).unwrap();
    let (status, d) = send_plan(&test);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.outcome("O1"), "skip:plan_changed");
    assert!(
        d.get("O1")["error"].as_str().unwrap().contains("body"),
        "{}",
        d.get("O1")
    );
    assert!(d.stderr.contains("templates changed"), "{}", d.stderr);
    assert!(outbox(&test).is_empty());
}

#[test]
fn a_plan_older_than_plan_max_age_is_refused() {
    let test = shop("", &["O1"]);
    // 13 hours before the send; the default allows 12.
    save_plan(&test, "2026-11-22T20:00:00+08:00").success();
    let out = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--plan",
        "plan.json",
    ]);
    out.failure(2)
        .stderr_has("plan.json: the plan was made at")
        .stderr_has("[guard] plan_max_age (12h)")
        .stderr_has("--save-plan plan.json");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(outbox(&test).is_empty());

    // The setting is read: a shop that allows half an hour refuses an hour-old review,
    // which the default takes (the other tests).
    let test = shop("\n[guard]\nplan_max_age = \"30min\"\n", &["O1"]);
    save_plan(&test, REVIEWED).success();
    test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--plan",
        "plan.json",
    ])
    .failure(2)
    .stderr_has("1h before this run, longer ago than [guard] plan_max_age (30m) allows");
    assert!(outbox(&test).is_empty());
}

#[test]
fn a_plan_made_with_another_config_is_refused() {
    let test = shop("", &["O1"]);
    save_plan(&test, REVIEWED).success();
    let config = std::fs::read_to_string(test.path("payremind.toml")).unwrap();
    std::fs::write(
        test.path("payremind.toml"),
        config.replace("name = \"Test Shop\"", "name = \"Other Shop\""),
    )
    .unwrap();
    test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--plan",
        "plan.json",
    ])
    .failure(2)
    .stderr_has("made with another config")
    .stderr_has("nothing was sent");
    assert!(outbox(&test).is_empty());
}

#[test]
fn a_plan_is_only_saved_by_a_dry_run_and_dry_run_does_not_send() {
    let test = shop("", &["O1"]);
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "--orders", "orders.csv", "--now", NOW];
        args.extend_from_slice(extra);
        test.exec(&args)
    };
    run(&["--send", "--save-plan", "plan.json"])
        .failure(2)
        .stderr_has("cannot be used with '--save-plan <FILE>'");
    assert!(!test.path("plan.json").exists());
    run(&["--dry-run", "--send"])
        .failure(2)
        .stderr_has("cannot be used with");
    run(&["--plan", "plan.json"])
        .failure(2)
        .stderr_has("--send");
    run(&["--dry-run"]).success();
    assert!(outbox(&test).is_empty());
}

#[test]
fn a_mistyped_flag_never_suggests_one_that_sends() {
    let test = shop("", &["O1"]);
    for typo in [
        "--sen",
        "--snd",
        "--retry",
        "--retry-unknow",
        "--retryunknown",
    ] {
        let out = test.exec(&["run", "--orders", "orders.csv", typo]);
        out.failure(2).stderr_has(typo);
        assert!(
            !out.stderr.contains("--send") && !out.stderr.contains("--retry-unknown"),
            "{typo}: {}",
            out.stderr
        );
    }
    assert!(outbox(&test).is_empty());
}

/// `--send` under a pseudo-terminal (util-linux `script`), `answer` typed in.
fn send_in_terminal(test: &Test, answer: &str, extra: &str) -> Outcome {
    let binary = assert_cmd::cargo::cargo_bin("payremind");
    let command = format!(
        "{} run --orders orders.csv --now {NOW} --send {extra}",
        binary.display()
    );
    test_in_folder(test, &["-q", "-e", "-c", &command, "/dev/null"], answer)
}

fn test_in_folder(test: &Test, args: &[&str], stdin: &str) -> Outcome {
    let output = std::process::Command::new("script")
        .args(args)
        .current_dir(test.dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "dumb")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(stdin.as_bytes())?;
            child.wait_with_output()
        })
        .expect("util-linux script runs");
    Outcome {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn in_a_terminal_send_asks_first_and_no_sends_nothing() {
    let test = shop("", &["O1", "O2"]);
    // The terminal shows standard error on the same screen: script prints both.
    let out = send_in_terminal(&test, "n\n", "");
    out.success()
        .stdout_has("ready to send: popular 2")
        .stdout_has("Send 2 reminders? [y/N]")
        .stdout_has("nothing sent");
    assert!(outbox(&test).is_empty());

    let out = send_in_terminal(&test, "y\n", "");
    out.success().stdout_has("Send 2 reminders? [y/N]");
    assert_eq!(outbox(&test), ["O1", "O2"]);
}

#[test]
fn in_a_terminal_yes_and_a_plan_send_without_asking() {
    let test = shop("", &["O1"]);
    let out = send_in_terminal(&test, "", "--yes");
    out.success();
    assert!(!out.stdout.contains("[y/N]"), "{}", out.stdout);
    assert_eq!(outbox(&test), ["O1"]);

    let test = shop("", &["O1"]);
    save_plan(&test, REVIEWED).success();
    let out = send_in_terminal(&test, "", "--plan plan.json");
    out.success();
    assert!(!out.stdout.contains("[y/N]"), "{}", out.stdout);
    assert_eq!(outbox(&test), ["O1"]);
}

#[test]
fn a_message_changed_by_the_clock_alone_is_sent_with_todays_text() {
    // Closes at 11:00: at the review (08:30) 2 h 30 min are left, at the send (09:00) 2 h.
    let closing = "C1,C1-buyer,Buyer C1,C1@example.com,pending,2026-11-23 07:00,10.00,web,Tea,2026-11-23 11:00";
    let test = shop("", &[]);
    test.set_orders(GENERIC_HEADER, &[closing]);
    let body_at = |at: &str| {
        let out = test.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            at,
            "--format",
            "json",
        ]);
        let d = Decisions::parse(&out);
        assert_eq!(d.outcome("C1"), "closing_soon");
        d.get("C1")["body"].as_str().unwrap().to_owned()
    };
    assert_ne!(
        body_at("2026-11-23T08:30:00+08:00"),
        body_at(NOW),
        "the text counts down"
    );
    save_plan(&test, "2026-11-23T08:30:00+08:00").success();
    let (status, d) = send_plan(&test);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.get("C1")["status"], "sent", "{}", d.get("C1"));
    assert_eq!(outbox(&test), ["C1"]);
}

#[test]
fn a_plan_written_long_ago_is_refused_whatever_now_says() {
    // A --now (or a PAYREMIND_NOW left in an env file) at the plan's own time must not make a
    // plan written days ago by the computer's clock look fresh.
    let test = shop("", &["O1"]);
    save_plan(&test, NOW).success();
    let path = test.path("plan.json");
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(plan["written_at"].is_string(), "{plan}");
    plan["written_at"] = serde_json::Value::from("2026-11-20T09:00:00+00:00");
    std::fs::write(&path, plan.to_string()).unwrap();
    test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--plan",
        "plan.json",
    ])
    .failure(2)
    .stderr_has("ago by the computer's clock, longer ago than [guard] plan_max_age (12h) allows");
    assert!(outbox(&test).is_empty());
}

#[test]
fn a_plan_is_its_own_limit() {
    // --limit counts today's reminders before the plan is applied: together they would hold
    // back planned reminders that are still due. Refused as a usage error.
    let test = shop("", &["O1", "O2"]);
    save_plan(&test, NOW).success();
    test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--send",
        "--plan",
        "plan.json",
        "--limit",
        "1",
    ])
    .failure(2)
    .stderr_has("--limit");
    assert!(outbox(&test).is_empty());
}
