//! Speed never changes a decision: the generated 10 000-order export (the benchmark's smallest
//! size) must be decided exactly as committed here. If a change moves these counts on purpose,
//! update them together with BENCHMARKS.md.

#[allow(dead_code)]
#[path = "../examples/generate.rs"]
mod generate;

use crate::support::{Decisions, Test};

#[test]
fn the_generated_10k_export_is_decided_as_committed() {
    let mut export = Vec::new();
    generate::write(&mut export, 10_000, 1, false).unwrap();
    let config = "[shop]\nname = \"Bench Shop\"\ncurrency = \"USD\"\n[source]\ntimezone = \"Asia/Shanghai\"\n[select]\ndistribution_channels = [\"reseller\"]\n";
    let outcome = Test::new()
        .config(config)
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
    let d = Decisions::parse(&outcome);
    assert_eq!(d.summary["rows"], 10_000);
    assert_eq!(d.summary["reminders"], 941);
    assert_eq!(
        d.summary["skipped"],
        serde_json::json!({
            "closed": 984,
            "distribution_channel": 111,
            "no_offer_for_returning": 486,
            "paid": 5658,
            "paid_same_day": 477,
            "superseded": 907,
            "too_old": 406,
            "too_recent": 30
        })
    );
}
