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
