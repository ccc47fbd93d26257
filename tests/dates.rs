//! Dates that Excel re-saved in the seller's locale (`31/12/2023 22:36`, `12/31/2023 10:36 PM`):
//! day or month first, decided from the whole export, or set by `[source] date_order`; ISO
//! dates are never affected.

use crate::support::{Decisions, Test};

/// When the original Shopify fixture is decided (tests/layouts.rs).
const ORIGINAL_NOW: &str = "2026-11-23T01:00:00Z";
/// Nine days later, as the re-saved fixtures are (tests/fixtures/make_layouts.py).
const NOW: &str = "2026-12-02T01:00:00Z";

const CONFIG: &str = "[shop]\nname = \"Lotus Leaf\"\nsender = \"Lotus Leaf <orders@shop.example>\"\n\n\
    [source]\ntimezone = \"America/Los_Angeles\"\n\n\
    [select]\ndistribution_channels = [\"302679293953\"]\n";

fn decide(test: &Test, fixture: &str, now: &str) -> Decisions {
    Decisions::parse(&test.exec(&["run", "--orders", fixture, "--format", "json", "--now", now]))
}

/// The re-saved fixture decides every order as the original does, and `check` says why.
fn decides_as_the_original(fixture: &str, created_1013: &str, dates: &str) {
    let test = Test::new()
        .config(CONFIG)
        .fixture("shopify_orders_export.csv")
        .fixture(fixture);
    let original = decide(&test, "shopify_orders_export.csv", ORIGINAL_NOW);
    let resaved = decide(&test, fixture, NOW);
    assert_eq!(resaved.all(), original.all());
    assert_eq!(resaved.summary["invalid_rows"], 0);
    assert_eq!(resaved.summary["orders"], 15);
    // The newest orders, on lines before the one that settles the order, are read the same
    // way: the first of December (as January 12 it would be too old to remind).
    assert_eq!(resaved.get("#1013")["created_at"], created_1013);
    assert_eq!(
        resaved.get("#1012")["created_at"],
        "2026-12-01T05:00:00-08:00"
    );
    test.exec(&["check", "--orders", fixture, "--now", NOW])
        .success()
        .stdout_has(&format!("\ndates: {dates}\n"))
        .stdout_has("invalid rows: 0");
}

#[test]
fn an_excel_resaved_shopify_export_with_day_first_dates_is_read_day_first() {
    decides_as_the_original(
        "shopify_excel_day_first.csv",
        "2026-12-01T16:20:00-08:00",
        "day first (30/11/2026 on line 7 settles it)",
    );
}

#[test]
fn an_excel_resaved_shopify_export_with_month_first_am_pm_dates_is_read_month_first() {
    decides_as_the_original(
        "shopify_excel_month_first.csv",
        "2026-12-01T16:20:00-08:00",
        "month first (11/30/2026 on line 7 settles it)",
    );
}

#[test]
fn an_export_that_never_settles_the_order_asks_for_it_row_by_row() {
    let export = "order_id,email,status,created_at,total,currency\n\
        D1,d1@example.com,pending,01/12/2026 10:00,10.00,USD\n\
        D2,d2@example.com,pending,2026-12-01 11:00,10.00,USD\n\
        D3,d3@example.com,pending,02/12/2026 09:00,10.00,USD\n";
    let config = CONFIG.replace("America/Los_Angeles", "Asia/Shanghai");
    let test = Test::new().config(&config).file("orders.csv", export);
    let check = test.exec(&["check", "--orders", "orders.csv", "--now", NOW]);
    check
        .failure(2)
        .stdout_has("dates: day or month first? nothing settles it (every day is 12 or less, like 01/12/2026 on line 2); set [source].date_order = \"dmy\" or \"mdy\"")
        .stdout_has("invalid rows: 2")
        .stdout_has("orders.csv:2:4: \"01/12/2026 10:00\": created_at could be day or month first, and no date in the export settles it (every day is 12 or less); set [source].date_order = \"dmy\" (31/12/2023) or \"mdy\" (12/31/2023)")
        .stdout_has("orders.csv:4:4: \"02/12/2026 09:00\": created_at could be day or month first");
    // The bad rows do not stop the good one: the ISO date is never in question.
    let d = decide(&test, "orders.csv", NOW);
    assert_eq!(d.outcome("D1"), "skip:invalid_row");
    assert_eq!(d.outcome("D3"), "skip:invalid_row");
    assert_eq!(d.get("D2")["created_at"], "2026-12-01T11:00:00+08:00");

    // The seller says it.
    std::fs::write(
        test.path("payremind.toml"),
        config.replace("[source]\n", "[source]\ndate_order = \"dmy\"\n"),
    )
    .unwrap();
    test.exec(&["check", "--orders", "orders.csv", "--now", NOW])
        .success()
        .stdout_has("dates: day first ([source].date_order = \"dmy\")");
    let d = decide(&test, "orders.csv", NOW);
    assert_eq!(d.get("D1")["created_at"], "2026-12-01T10:00:00+08:00");
    assert_eq!(d.get("D3")["created_at"], "2026-12-02T09:00:00+08:00");
    std::fs::write(
        test.path("payremind.toml"),
        config.replace("[source]\n", "[source]\ndate_order = \"mdy\"\n"),
    )
    .unwrap();
    let d = decide(&test, "orders.csv", NOW);
    assert_eq!(d.get("D1")["created_at"], "2026-01-12T10:00:00+08:00");
}

#[test]
fn an_export_with_both_orders_is_not_guessed() {
    let export = "order_id,email,status,created_at,total,currency\n\
        D1,d1@example.com,pending,01/12/2026 10:00,10.00,USD\n\
        D2,d2@example.com,pending,30/11/2026 11:00,10.00,USD\n\
        D3,d3@example.com,pending,11/30/2026 09:00,10.00,USD\n";
    let test = Test::new().config(CONFIG).file("orders.csv", export);
    test.exec(&["check", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stdout_has("dates: day first (30/11/2026 on line 3) and month first (11/30/2026 on line 4) both appear")
        .stdout_has("invalid rows: 3");
}

#[test]
fn a_two_digit_year_is_refused_never_read_as_antiquity() {
    let export = "order_id,email,status,created_at,total\n\
        D1,d1@example.com,pending,12/11/26 10:00,10.00\n\
        D2,d2@example.com,pending,31/12/26 10:00,10.00\n\
        D3,d3@example.com,pending,2026-11-22 10:00,10.00\n";
    let test = Test::new()
        .config(crate::support::GENERIC_CONFIG)
        .file("orders.csv", export);
    let d = test.preview();
    for id in ["D1", "D2"] {
        let entry = d.get(id);
        assert_eq!(entry["reason"], "invalid_row");
        assert!(
            entry["error"].as_str().unwrap().contains("two-digit year"),
            "{entry}"
        );
    }
    assert_eq!(d.outcome("D3"), "popular");
    // check counts them as unreadable rows rather than orders from the year 12.
    test.exec(&[
        "check",
        "--orders",
        "orders.csv",
        "--now",
        crate::support::NOW,
    ])
    .stdout_has("invalid rows: 2");
}
