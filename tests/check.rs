//! `payremind check`: what a seller sees before the first real run.

use crate::support::{GENERIC_CONFIG, NOW, Test};

const EXPORT: &str = "order_id,email,status,created_at,total\n\
    C1,c1@example.com,pending,2026-11-22 10:00,10.00\n\
    C1,c1@example.com,pending,2026-11-22 10:00,10.00\n\
    C2,c2@example.com,paid,2026-11-23 08:15,10.00\n\
    C3,c3@example.com,shipped,2026-11-22 10:00,10.00\n\
    C4,c4@example.com,pending,2026-11-22 10:00,lots\n";

#[test]
fn check_reports_mapping_statuses_bad_rows_and_freshness() {
    let outcome = Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", EXPORT)
        .args(&["check", "--orders", "orders.csv", "--now", NOW])
        .run();
    outcome
        .failure(2)
        .stdout_has("config: payremind.toml")
        .stdout_has("export: orders.csv (UTF-8, delimiter ',', 5 rows)")
        .stdout_has("layout: generic (recognised from the headers)")
        .stdout_has("  order_id           <- \"order_id\" (column 1)")
        .stdout_has("  buyer_id           (no \"buyer_id\" column: not used)")
        .stdout_has("  pending                              3 rows  unpaid")
        .stdout_has(
            "  shipped                              1 rows  NOT MAPPED: add \"shipped\" to [statuses]",
        )
        .stdout_has("orders: 2 (1 with several rows); invalid rows: 2")
        .stdout_has("  orders.csv:5:3: \"shipped\": status \"shipped\" is not listed in [statuses]")
        .stdout_has("  orders.csv:6:5: \"lots\": total is not an amount")
        .stdout_has("newest order: 2026-11-23 08:15 (UTC+08:00) (0.75 h before now")
        .stdout_has("templates: 10 render")
        .stdout_has("problems: 1; fix them before sending");
}

#[test]
fn check_reads_an_export_without_a_config_and_says_what_is_missing() {
    let export = "order_id,email,status,created_at\nC1,c1@example.com,pending,2026-11-22 10:00\n";
    Test::new()
        .file("orders.csv", export)
        .args(&["check", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stdout_has("config: none found, using built-in defaults (`payremind init --from orders.csv` writes one)")
        .stdout_has("problem: [shop].name is missing")
        .stdout_has("problem: [source].timezone is missing")
        .stdout_has("  pending                              1 rows  unpaid")
        .stdout_has("problem: [shop].sender is missing")
        .stdout_has("problem: [shop].currency is missing and the export has no currency column")
        .stdout_has("orders: 1 (0 with several rows); invalid rows: 0")
        .stdout_has("problems: 4; fix them before sending");
}

#[test]
fn check_counts_scattered_rows_of_an_order_once_even_from_standard_input() {
    // C1's rows are apart: the export is read a second time, which standard input allows only
    // because it is kept in memory.
    let export = "order_id,email,status,created_at,total\n\
        C1,c1@example.com,pending,2026-11-22 10:00,10.00\n\
        C2,c2@example.com,paid,2026-11-23 08:15,10.00\n\
        C1,c1@example.com,pending,2026-11-22 10:00,10.00\n";
    Test::new()
        .config(GENERIC_CONFIG)
        .stdin(export)
        .args(&["check", "--orders", "-", "--now", NOW])
        .run()
        .success()
        .stdout_has("export: <stdin> (UTF-8, delimiter ',', 3 rows)")
        .stdout_has("orders: 2 (1 with several rows); invalid rows: 0");
}

#[test]
fn a_file_of_bad_rows_is_counted_not_listed_whole() {
    // 100 bad rows (no valid time) and 60 orders whose second row spells the name otherwise.
    let mut export = String::from("order_id,buyer_name,email,status,created_at\n");
    for i in 0..100 {
        export.push_str(&format!("B{i},Bo,b{i}@example.com,pending,soon\n"));
    }
    for i in 0..60 {
        export.push_str(&format!(
            "W{i},Wu,w{i}@example.com,pending,2026-11-22 10:00\n"
        ));
        export.push_str(&format!(
            "W{i},Woo,w{i}@example.com,pending,2026-11-22 10:00\n"
        ));
    }
    let test = Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", export);
    let check = test.exec(&["check", "--orders", "orders.csv", "--now", NOW]);
    check
        .stdout_has("orders: 60 (60 with several rows); invalid rows: 100")
        .stdout_has("  … and 80 more bad rows (all of them: payremind run --format json)")
        .stdout_has("warning: … and 10 more warnings like these");
    assert_eq!(
        check.stdout.matches("orders.csv:").count(),
        20,
        "{}",
        check.stdout
    );
    assert_eq!(check.stdout.matches("warning: line").count(), 50);
    let run = test.exec(&["run", "--orders", "orders.csv", "--now", NOW]);
    run.success()
        .stderr_has("invalid rows 100 (skipped, the other rows went on):")
        .stderr_has("  … and 80 more bad rows");
    // The JSON Lines have every one.
    let d = test.preview();
    let bad = d
        .orders
        .iter()
        .filter(|o| o["reason"] == "invalid_row")
        .count();
    assert_eq!(bad, 100);
    assert_eq!(d.summary["invalid_rows"], 100);
}
