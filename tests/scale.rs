//! Speed never changes a decision: the generated 10 000-order export (the benchmark's smallest
//! size) must be decided exactly as committed here. If a change moves these counts on purpose,
//! update them together with BENCHMARKS.md.

#[allow(dead_code)]
#[path = "../examples/generate.rs"]
mod generate;

use crate::support::{Decisions, Test};

/// The decisions of the generated 10 000-order export, in `layout`.
fn decide(layout: generate::Layout) -> Decisions {
    let mut export = Vec::new();
    generate::write(&mut export, 10_000, 1, layout).unwrap();
    let outcome = Test::new()
        .config(BENCH_CONFIG)
        .file("orders.csv", export)
        .args(&[
            "run",
            "--orders",
            "orders.csv",
            "--format",
            "json",
            "--now",
            "2026-11-23T09:00:00+08:00",
        ])
        .run();
    Decisions::parse(&outcome)
}

/// The benchmark's config (bench/run).
const BENCH_CONFIG: &str = "[shop]\nname = \"Bench Shop\"\ncurrency = \"USD\"\n[source]\ntimezone = \"Asia/Shanghai\"\n[select]\ndistribution_channels = [\"reseller\", \"302679293953\"]\n";

fn assert_committed_counts(d: &Decisions) {
    assert_eq!(d.summary["orders"], 10_000);
    // 941 before `paid_later` (issue 13): a generated buyer who pays a later order is no
    // longer reminded of the earlier ones.
    assert_eq!(d.summary["reminders"], 600);
    assert_eq!(
        d.summary["skipped"],
        serde_json::json!({
            "closed": 984,
            "distribution_channel": 111,
            "no_offer_for_returning": 321,
            "paid": 5658,
            "paid_later": 1306,
            "paid_same_day": 477,
            "superseded": 411,
            "too_old": 102,
            "too_recent": 30
        })
    );
}

#[test]
fn the_generated_10k_export_is_decided_as_committed() {
    let d = decide(generate::Layout::Generic);
    assert_eq!(d.summary["rows"], 10_000);
    assert_committed_counts(&d);
}

#[test]
fn the_same_orders_as_a_shopify_multi_row_export_are_decided_the_same() {
    // The generator writes the same orders, one row per line item: only the row count moves.
    let d = decide(generate::Layout::Shopify);
    assert_eq!(d.summary["rows"], 19_920);
    assert_committed_counts(&d);
    let products = d
        .orders
        .iter()
        .map(|o| o["products"].as_array().unwrap().len());
    assert_eq!(
        products.sum::<usize>(),
        19_920,
        "every line item on its order"
    );
}

#[test]
fn no_reminder_in_the_generated_export_goes_to_a_buyer_who_paid_since() {
    // The committed counts above pin what the code does; this checks it against the export
    // itself, read independently: a reminded order's buyer has no paid order placed or paid
    // after it, and nothing paid or cancelled is reminded.
    let mut export = Vec::new();
    generate::write(&mut export, 10_000, 1, generate::Layout::Generic).unwrap();
    let text = String::from_utf8(export.clone()).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (id, buyer, status, created, paid) = (
        col("order_id"),
        col("buyer_id"),
        col("status"),
        col("created_at"),
        col("paid_at"),
    );
    // Buyer -> the latest time they decided to pay (placed or paid a paid order); ISO local
    // times compare as text.
    let mut decided: std::collections::HashMap<String, String> = Default::default();
    let mut orders: std::collections::HashMap<String, (String, String, String)> =
        Default::default();
    for record in reader.records() {
        let r = record.unwrap();
        if &r[status] == "paid" {
            let at = std::cmp::max(&r[created], &r[paid]).to_owned();
            let latest = decided.entry(r[buyer].to_owned()).or_default();
            if at > *latest {
                *latest = at;
            }
        }
        orders.insert(
            r[id].to_owned(),
            (
                r[buyer].to_owned(),
                r[status].to_owned(),
                r[created].to_owned(),
            ),
        );
    }
    let d = decide(generate::Layout::Generic);
    let mut reminded = 0;
    for order in &d.orders {
        if order["decision"] != "remind" {
            continue;
        }
        reminded += 1;
        let (buyer, status, created) = &orders[order["order_id"].as_str().unwrap()];
        assert_eq!(status, "pending", "{order}");
        if let Some(latest) = decided.get(buyer) {
            assert!(latest < created, "{buyer} paid at {latest}, after {order}");
        }
    }
    assert!(reminded > 0);
}
