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
        .stdout_has("  not in this export (not used): buyer_id, buyer_name, country, paid_at,")
        .stdout_has("  pending                              3 rows  unpaid")
        .stdout_has(
            "  shipped                              1 rows  NOT MAPPED: add \"shipped\" to [statuses]",
        )
        .stdout_has("orders: 2 (1 with several rows); invalid rows: 2")
        .stdout_has("  orders.csv:5:3: \"shipped\": status \"shipped\" is not listed in [statuses]")
        .stdout_has("  orders.csv:6:5: \"lots\": total is not an amount")
        .stdout_has("newest order: 2026-11-23 08:15 (UTC+08:00) (0.75 h before now")
        .stdout_has("templates: 12 render")
        .stdout_has("not ready: 1 problem above; fix them before sending");
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
        .stdout_has("not ready: 4 problems above; fix them before sending");
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

/// The Karachi shop's config for `check` on its export (no bank details yet).
const COD_SHOP: &str = "[shop]\nname = \"Lotus Leaf\"\nsender = \"Lotus Leaf <orders@lotusleaf.example>\"\ncurrency = \"PKR\"\n\n[source]\ntimezone = \"Asia/Karachi\"\n";

/// `check` of the Karachi shop's export with `config`, at the layout tests' instant (06:00 in
/// Karachi).
fn check_cod_shop(config: &str) -> crate::support::Outcome {
    Test::new()
        .config(config)
        .fixture("shopify_cod_shop.csv")
        .args(&[
            "check",
            "--orders",
            "shopify_cod_shop.csv",
            "--now",
            "2026-11-23T01:00:00Z",
        ])
        .run()
}

#[test]
fn check_lists_channels_payment_methods_and_fulfilment_with_what_they_mean() {
    let outcome = check_cod_shop(COD_SHOP);
    outcome.failure(2);
    insta::assert_snapshot!("check_cod_shop", outcome.stdout);
}

#[test]
fn check_is_ready_once_the_bank_details_are_set() {
    let config = COD_SHOP.replace(
        "currency = \"PKR\"\n",
        "currency = \"PKR\"\nbank_details = \"Meezan Bank, Lotus Leaf Pvt Ltd, PK36 MEZN 0000 0001 2345 6702\"\n",
    );
    check_cod_shop(&config)
        .success()
        .stdout_has("ok: ready for `payremind run`");
}

#[test]
fn an_export_whose_rows_are_nearly_all_unreadable_is_not_ready() {
    // Excel re-saved the dates as its serial numbers: every row is unreadable, which is a
    // problem of the file, not of three rows.
    let export = "order_id,email,status,created_at,total\n\
        X1,x1@example.com,pending,46348.42,10.00\n\
        X2,x2@example.com,pending,46348.43,10.00\n\
        X3,x3@example.com,paid,2026-11-22 10:00,10.00\n\
        X4,x4@example.com,pending,46348.44,10.00\n";
    Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", export)
        .args(&["check", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stdout_has("orders: 1 (0 with several rows); invalid rows: 3")
        .stdout_has("problem: 3 of 4 rows cannot be read: the export, not the rows, is wrong")
        .stdout_has("not ready: 1 problem above");
}

#[test]
fn an_export_without_an_email_column_is_not_ready() {
    // The seller's WooCommerce field selection without any e-mail column.
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/woocommerce_custom_fields.csv"
    ))
    .unwrap();
    let export: String = fixture
        .lines()
        .map(|line| {
            let mut cells: Vec<&str> = line.split(';').collect();
            cells.remove(3);
            cells.join(";") + "\r\n"
        })
        .collect();
    assert!(!export.contains("Customer User Email"));
    Test::new()
        .config("[shop]\nname = \"Lotus Leaf\"\ncurrency = \"EUR\"\n\n[source]\ntimezone = \"Europe/Berlin\"\n")
        .file("orders.csv", export)
        .args(&["check", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stdout_has("layout: woocommerce (recognised from the headers)")
        .stdout_has("problem: no column holds the buyers' e-mail addresses, so nobody can be reminded; set [columns] email")
        .stdout_has("not ready:");
}

#[test]
fn check_points_out_a_reseller_channel_the_config_does_not_list() {
    let config = "[shop]\nname = \"莲叶茶庄\"\nsender = \"莲叶茶庄 <shop@lianye.example>\"\n\n[source]\ntimezone = \"Asia/Shanghai\"\n";
    let fixture = "taobao_ExportOrderList202611230900.csv";
    let test = Test::new().config(config).fixture(fixture);
    test.exec(&["check", "--orders", fixture, "--now", NOW])
        .stdout_has("  莲叶茶庄分销店                       1  LOOKS LIKE RESELLERS: reminded as retail buyers unless you add it to [select] distribution_channels")
        .stdout_has("  等待买家付款                         7 rows  unpaid");
    let listed = format!("{config}\n[select]\ndistribution_channels = [\"莲叶茶庄分销店\"]\n");
    Test::new()
        .config(&listed)
        .fixture(fixture)
        .args(&["check", "--orders", fixture, "--now", NOW])
        .run()
        .stdout_has("  莲叶茶庄分销店                       1  distribution: never reminded");
}

#[test]
fn an_export_where_no_order_has_an_address_is_not_ready() {
    // The e-mail column is mapped, but holds phone numbers, masked or empty cells.
    let export = "order_id,email,status,created_at,total\n\
        N1,,pending,2026-11-22 10:00,10.00\n\
        N2,j***@mail.com,pending,2026-11-22 10:00,10.00\n\
        N3,13800138000,pending,2026-11-22 10:00,10.00\n";
    Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", export)
        .args(&["check", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stdout_has("problem: no order has an e-mail address a reminder can go to")
        .stdout_has("not ready: 1 problem above");
}
