//! The guard: each circuit breaker stops `run --send` (exit 2, its one line, nothing sent),
//! `check` shows what each would say, a dry run warns, and the JSON summary's `guard` object
//! has each breaker's measure, limit and verdict. Messages go to an outbox folder, so that
//! "nothing sent" is "no file written".

use serde_json::Value;

use crate::support::{Decisions, GENERIC_CONFIG, GENERIC_HEADER, NOW, Test};

/// The generic shop, sending into `outbox/`, with a ledger, and `extra` config after it.
fn config(extra: &str) -> String {
    format!("{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\noutbox = \"outbox\"\n{extra}")
}

/// An order of the generic layout: `status` ("pending" is unpaid, "paid" paid), created at
/// `created` (shop time).
fn order(id: &str, status: &str, created: &str) -> String {
    format!("{id},{id}-buyer,Buyer {id},{id}@example.com,{status},{created},10.00,web,Tea,")
}

/// `unpaid` unpaid orders and `paid` paid ones, all created at `created`, ids prefixed.
fn export(prefix: &str, unpaid: usize, paid: usize, created: &str) -> Vec<String> {
    (0..unpaid)
        .map(|i| order(&format!("{prefix}U{i}"), "pending", created))
        .chain((0..paid).map(|i| order(&format!("{prefix}P{i}"), "paid", created)))
        .collect()
}

/// Messages in the outbox.
fn sent(test: &Test) -> usize {
    std::fs::read_dir(test.path("outbox")).map_or(0, Iterator::count)
}

fn send(test: &Test, now: &str, extra: &[&str]) -> crate::support::Outcome {
    let args = [
        &["run", "--orders", "orders.csv", "--send", "--now", now][..],
        extra,
    ]
    .concat();
    test.exec(&args)
}

fn dry_run(test: &Test) -> Decisions {
    Decisions::parse(&test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        NOW,
        "--format",
        "json",
    ]))
}

fn check(test: &Test) -> crate::support::Outcome {
    test.exec(&["check", "--orders", "orders.csv", "--now", NOW])
}

fn breaker<'a>(summary: &'a Value, name: &str) -> &'a Value {
    &summary["guard"][name]
}

#[test]
fn yesterdays_export_is_not_sent() {
    // The newest order is from 06:00 yesterday, 27 h before 09:00 today: yesterday's
    // download (at 08:00, 26 h, it would still be fine).
    let test = Test::new()
        .config(&config(""))
        .orders(GENERIC_HEADER, &export("", 2, 1, "2026-11-22 06:00"));
    let d = dry_run(&test);
    assert!(
        d.stderr.contains("payremind: warning: orders.csv: its newest order is from 2026-11-22 06:00 (UTC+08:00), 27 h before now, older than [guard].max_export_age (26h)"),
        "{}",
        d.stderr
    );
    let stale = breaker(&d.summary, "stale_export");
    assert_eq!(stale["verdict"], "refuse");
    assert_eq!(stale["measured"], 27.0);
    assert_eq!(stale["limit"], 26.0);
    // check says so, and is not ready: `check && run --send` never surprises.
    check(&test)
        .failure(2)
        .stdout_has("guard: stale_export: newest order 27 h before now (limit 26h): `run --send` would refuse")
        .stdout_has("not ready: 1 problem above");
    send(&test, NOW, &[])
        .failure(2)
        .stderr_has("payremind: error: orders.csv: its newest order is from 2026-11-22 06:00 (UTC+08:00), 27 h before now, older than [guard].max_export_age (26h): is it yesterday's download? export today's orders, or raise [guard].max_export_age");
    assert_eq!(sent(&test), 0);
    // One hour earlier (26 h, not more than the limit), the same file is today's.
    let earlier = "2026-11-23T08:00:00+08:00";
    send(&test, earlier, &[]).success();
    assert_eq!(sent(&test), 2);
}

#[test]
fn a_quiet_weekend_can_be_sent_with_force() {
    // No order since Saturday: a fresh file can look like yesterday's. The seller who looked
    // goes past it with --force, which history shows.
    let test = Test::new()
        .config(&config(""))
        .orders(GENERIC_HEADER, &export("", 2, 1, "2026-11-21 06:00"));
    send(&test, NOW, &[]).failure(2);
    assert_eq!(sent(&test), 0);
    send(&test, NOW, &["--force"]).success();
    assert_eq!(sent(&test), 2);
    test.exec(&["history"])
        .success()
        .stdout_has("forced: payremind run --send --force: stale_export");
}

#[test]
fn a_shop_whose_orders_are_often_unpaid_is_still_guarded() {
    // Half the orders are usually unpaid; today every one is (a status mapping broke): twice
    // the median would be 100%, which nothing exceeds, so the limit stops halfway to it.
    let test = Test::new().config(&config(""));
    for day in 20..=22 {
        test.set_orders(
            GENERIC_HEADER,
            &export(&format!("D{day}"), 10, 10, &format!("2026-11-{day} 05:00")),
        );
        send(&test, &format!("2026-11-{day}T09:00:00+08:00"), &[]).success();
    }
    test.set_orders(GENERIC_HEADER, &export("T", 20, 0, "2026-11-23 05:00"));
    let d = dry_run(&test);
    let share = breaker(&d.summary, "unpaid_share");
    assert_eq!(share["verdict"], "refuse", "{share}");
    send(&test, NOW, &[]).failure(2).stderr_has("20 of its 20 orders are unpaid (100%), against a median of 50% over the last 3 sending runs (limit 75%)");
}

#[test]
fn forced_runs_do_not_raise_the_usual_volume() {
    let test = Test::new().config(&config(""));
    three_ordinary_mornings(&test);
    // Two blasts forced on later mornings must not become the new normal.
    for (day, prefix) in [(23, "B"), (24, "C")] {
        test.set_orders(
            GENERIC_HEADER,
            &export(prefix, 30, 50, &format!("2026-11-{day} 05:00")),
        );
        send(
            &test,
            &format!("2026-11-{day}T09:00:00+08:00"),
            &["--force"],
        )
        .success();
    }
    test.set_orders(GENERIC_HEADER, &export("E", 30, 50, "2026-11-25 05:00"));
    let d = Decisions::parse(&test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-25T09:00:00+08:00",
        "--format",
        "json",
    ]));
    let growth = breaker(&d.summary, "growth");
    assert_eq!(growth["verdict"], "refuse", "{growth}");
    assert_eq!(growth["limit"], 20, "the median of the unforced runs is 2");
}

#[test]
fn missing_bank_details_make_check_not_ready_but_do_not_stop_the_other_reminders() {
    let header = "order_id,email,status,created_at,total,payment_method";
    let test = Test::new().config(&config("")).orders(
        header,
        &[
            "K1,k1@example.com,pending,2026-11-20 10:00,10.00,Direct bank transfer",
            "K2,k2@example.com,pending,2026-11-22 10:00,10.00,Card",
        ],
    );
    check(&test).failure(2).stdout_has("bank_details is empty");
    send(&test, NOW, &[]).success();
    assert_eq!(
        sent(&test),
        2,
        "the card buyer and the transfer buyer (who may reply for the details)"
    );
}

#[test]
fn an_order_dated_in_the_future_is_not_the_newest() {
    let mut rows = export("", 1, 0, "2026-11-20 07:00");
    rows.push(order("F1", "paid", "2026-11-24 07:00"));
    let test = Test::new()
        .config(&config(""))
        .orders(GENERIC_HEADER, &rows);
    let d = dry_run(&test);
    assert_eq!(breaker(&d.summary, "stale_export")["verdict"], "refuse");
    assert_eq!(breaker(&d.summary, "stale_export")["measured"], 74.0);
}

#[test]
fn more_reminders_than_max_per_run_wait_for_force_which_history_shows() {
    let test = Test::new()
        .config(&config("[guard]\nmax_per_run = 2\n"))
        .orders(GENERIC_HEADER, &export("", 3, 0, "2026-11-23 05:00"));
    check(&test).success().stdout_has(
        "guard: max_per_run: reminders are counted by `payremind run` (limit 2): not measured",
    );
    let d = dry_run(&test);
    assert_eq!(breaker(&d.summary, "max_per_run")["measured"], 3);
    assert_eq!(breaker(&d.summary, "max_per_run")["limit"], 2);
    assert_eq!(breaker(&d.summary, "max_per_run")["verdict"], "refuse");
    send(&test, NOW, &[])
        .failure(2)
        .stderr_has("payremind: error: payremind.toml: [guard].max_per_run: 3 reminders are due, more than 2: look at them with a dry run (`payremind run` without --send); if they are right, send them with --force, or raise [guard].max_per_run");
    assert_eq!(sent(&test), 0);
    let history = test.exec(&["history"]);
    history.success().stdout_has("no reminders recorded yet");

    let forced = send(&test, NOW, &["--force", "--format", "json"]);
    forced.success();
    assert_eq!(sent(&test), 3);
    let d = Decisions::parse(&forced);
    assert_eq!(breaker(&d.summary, "max_per_run")["verdict"], "forced");
    let history = test.exec(&["history"]);
    history
        .success()
        .stdout_has("forced: payremind run --send --force: max_per_run: 3 reminders (limit 2)");
    let json = test.exec(&["history", "--format", "json"]);
    assert!(
        json.stdout.contains("\"status\":\"forced\""),
        "{}",
        json.stdout
    );
}

/// Three earlier sending runs on three mornings, each from that morning's export: 20 orders,
/// 2 of them unpaid (2 reminders, a 10% unpaid share).
fn three_ordinary_mornings(test: &Test) {
    for day in 20..=22 {
        test.set_orders(
            GENERIC_HEADER,
            &export(&format!("D{day}"), 2, 18, &format!("2026-11-{day} 05:00")),
        );
        send(test, &format!("2026-11-{day}T09:00:00+08:00"), &[]).success();
    }
    assert_eq!(sent(test), 6);
}

#[test]
fn many_more_reminders_than_the_last_runs_wait_for_force() {
    let test = Test::new().config(&config(""));
    // Today: 21 reminders against a median of 2 (the limit is 3 x 2 = 6, but never below 20);
    // 21 unpaid orders of 80 is no jump in the unpaid share.
    let today = export("T", 21, 59, "2026-11-23 05:00");
    // Before the third earlier run, the growth is not measured.
    for day in 20..=21 {
        test.set_orders(
            GENERIC_HEADER,
            &export(&format!("D{day}"), 2, 18, &format!("2026-11-{day} 05:00")),
        );
        send(&test, &format!("2026-11-{day}T09:00:00+08:00"), &[]).success();
    }
    test.set_orders(GENERIC_HEADER, &today);
    let d = dry_run(&test);
    assert_eq!(breaker(&d.summary, "growth")["verdict"], "not_measured");
    assert_eq!(breaker(&d.summary, "growth")["measured"], 21);

    let test = Test::new().config(&config(""));
    three_ordinary_mornings(&test);
    test.set_orders(GENERIC_HEADER, &today);
    let d = dry_run(&test);
    let growth = breaker(&d.summary, "growth");
    assert_eq!(growth["measured"], 21);
    assert_eq!(growth["limit"], 20);
    assert_eq!(growth["verdict"], "refuse");
    assert_eq!(breaker(&d.summary, "unpaid_share")["verdict"], "ok");
    check(&test).success().stdout_has(
        "guard: growth: reminders are counted by `payremind run` (limit 3x the median 2 of the last 3 sending runs, at least 20: 20): not measured",
    );
    send(&test, NOW, &[])
        .failure(2)
        .stderr_has("payremind: error: payremind.toml: [guard].max_growth: 21 reminders are due, more than 3x the median 2 of the last 3 sending runs, at least 20: 20: look at them with a dry run (`payremind run` without --send); if they are right, send them with --force");
    assert_eq!(sent(&test), 6);
    send(&test, NOW, &["--force"]).success();
    assert_eq!(sent(&test), 27);
    test.exec(&["history"])
        .success()
        .stdout_has("forced: payremind run --send --force: growth: 21 reminders");
}

#[test]
fn a_jump_in_the_share_of_unpaid_orders_stops_the_send() {
    let test = Test::new().config(&config(""));
    three_ordinary_mornings(&test);
    // Today every order looks unpaid (a mapping that broke): 20 of 20, against a median of
    // 10% (the limit: max(2 x 10%, 10% + 25%) = 35%).
    test.set_orders(GENERIC_HEADER, &export("T", 20, 0, "2026-11-23 05:00"));
    let d = dry_run(&test);
    let share = breaker(&d.summary, "unpaid_share");
    assert_eq!(share["measured"], 1.0);
    assert_eq!(share["limit"], 0.35);
    assert_eq!(share["verdict"], "refuse");
    // 20 reminders: not more than the growth breaker's floor.
    assert_eq!(breaker(&d.summary, "growth")["verdict"], "ok");
    check(&test)
        .failure(2)
        .stdout_has("guard: unpaid_share: 20 of 20 orders unpaid, against a median of 10% over the last 3 sending runs (limit 35%): `run --send` would refuse")
        .stdout_has("not ready: 1 problem above");
    send(&test, NOW, &[])
        .failure(2)
        .stderr_has("payremind: error: orders.csv: 20 of its 20 orders are unpaid (100%), against a median of 10% over the last 3 sending runs (limit 35%): has a status mapping broken, so that paid orders look unpaid?");
    assert_eq!(sent(&test), 6);
    // Fewer than 20 orders today: not compared.
    test.set_orders(GENERIC_HEADER, &export("T", 19, 0, "2026-11-23 05:00"));
    let d = dry_run(&test);
    assert_eq!(
        breaker(&d.summary, "unpaid_share")["verdict"],
        "not_measured"
    );
}

#[test]
fn a_status_no_class_claims_stops_the_send() {
    let mut rows = export("", 2, 0, "2026-11-23 05:00");
    rows.push(order("W1", "awaiting shipment", "2026-11-23 06:00"));
    let test = Test::new()
        .config(&config(""))
        .orders(GENERIC_HEADER, &rows);
    let d = dry_run(&test);
    assert_eq!(breaker(&d.summary, "unmapped_statuses")["measured"], 1);
    assert_eq!(
        breaker(&d.summary, "unmapped_statuses")["verdict"],
        "refuse"
    );
    check(&test).failure(2).stdout_has(
        "guard: unmapped_statuses: 1 status label in no class: `run --send` would refuse",
    );
    send(&test, NOW, &["--force"])
        .failure(2)
        .stderr_has("payremind: error: payremind.toml: [statuses]: claims no class for 1 of the export's statuses (\"awaiting shipment\"; 1 rows): add each to [statuses] unpaid, paid or closed (`payremind check` lists them), then send");
    assert_eq!(sent(&test), 0);
}

#[test]
fn what_check_calls_not_ready_stops_the_send() {
    // Two of three rows cannot be read (another date format): check's "not ready".
    let mut rows = export("", 1, 0, "2026-11-23 05:00");
    rows.push(order("B1", "pending", "next tuesday"));
    rows.push(order("B2", "pending", "next wednesday"));
    let test = Test::new()
        .config(&config(""))
        .orders(GENERIC_HEADER, &rows);
    check(&test)
        .failure(2)
        .stdout_has("guard: check: `payremind check` counts 1 problem that would stop a send: `run --send` would refuse");
    let d = dry_run(&test);
    assert_eq!(breaker(&d.summary, "check")["measured"], 1);
    assert_eq!(breaker(&d.summary, "check")["verdict"], "refuse");
    send(&test, NOW, &[])
        .failure(2)
        .stderr_has("payremind: error: orders.csv: `payremind check` would say \"not ready\" (1 problem; the first: 2 of 3 rows cannot be read");
    assert_eq!(sent(&test), 0);
}

#[test]
fn the_starters_name_and_sender_stop_the_send() {
    let starter = config("")
        .replace("name = \"Test Shop\"", "name = \"My Shop\"")
        .replace(
            "sender = \"Test Shop <orders@shop.example>\"",
            "sender = \"My Shop <orders@myshop.example>\"",
        );
    let test = Test::new()
        .config(&starter)
        .orders(GENERIC_HEADER, &export("", 1, 0, "2026-11-23 05:00"));
    check(&test).failure(2).stdout_has(
        "guard: placeholders: 2 [shop] settings unfinished ([shop].name, [shop].sender): `run --send` would refuse",
    );
    let d = dry_run(&test);
    assert_eq!(breaker(&d.summary, "placeholders")["measured"], 2);
    send(&test, NOW, &[])
        .failure(2)
        .stderr_has("payremind: error: payremind.toml: [shop].name: is still the starter's example \"My Shop\"")
        .stderr_has("payremind: error: payremind.toml: [shop].sender: is still the starter's example \"My Shop <orders@myshop.example>\"");
    assert_eq!(sent(&test), 0);
}

#[test]
fn every_sending_run_is_recorded_and_an_ordinary_one_passes_every_breaker() {
    let test = Test::new().config(&config(""));
    three_ordinary_mornings(&test);
    test.set_orders(GENERIC_HEADER, &export("T", 3, 17, "2026-11-23 05:00"));
    let out = send(&test, NOW, &["--format", "json"]);
    out.success();
    let d = Decisions::parse(&out);
    for name in [
        "stale_export",
        "unmapped_statuses",
        "check",
        "placeholders",
        "unpaid_share",
        "max_per_run",
        "growth",
    ] {
        assert_eq!(breaker(&d.summary, name)["verdict"], "ok", "{name}");
    }
    assert_eq!(breaker(&d.summary, "unpaid_share")["measured"], 0.15);
    assert_eq!(sent(&test), 9);
    // The four runs are in the ledger with their counts (another program reads them).
    let runs = std::process::Command::new(crate::support::smtp::python())
        .arg("-c")
        .arg("import sqlite3, sys\nfor row in sqlite3.connect(sys.argv[1]).execute('SELECT orders, unpaid, due, forced FROM runs ORDER BY id'): print(*row, sep='|')")
        .arg(test.path("payremind.db"))
        .output()
        .unwrap();
    assert!(runs.status.success(), "{runs:?}");
    assert_eq!(
        String::from_utf8_lossy(&runs.stdout),
        "20|2|2|\n20|2|2|\n20|2|2|\n20|3|3|\n"
    );
}
