//! The shipped example (the README's first command): every decision, and the preview a seller
//! reads, pinned as snapshots.

use crate::support::{Decisions, Test};

const EXAMPLE_NOW: &str = "2026-11-23T09:00:00+08:00";

fn run(format: &str) -> crate::support::Outcome {
    let root = env!("CARGO_MANIFEST_DIR");
    Test::new()
        .args(&[
            "run",
            "--orders",
            &format!("{root}/examples/orders.csv"),
            "--config",
            &format!("{root}/examples/payremind.toml"),
            "--now",
            EXAMPLE_NOW,
            "--format",
            format,
        ])
        .run()
}

#[test]
fn every_decision_of_the_example() {
    let d = Decisions::parse(&run("json"));
    let expected = [
        ("A1001", "payment_help"),
        ("A1002", "skip:paid"),
        ("A1003", "popular"),
        ("A1004", "discount"),
        ("A1005", "loyal"),
        ("A1006", "returning_perk"),
        ("A1007", "skip:closed"),
        ("A1008", "skip:distribution_channel"),
        ("A1009", "skip:paid_same_day"),
        ("A1010", "skip:paid"),
        ("A1011", "skip:superseded"),
        ("A1012", "popular"),
        ("A1013", "skip:too_old"),
        ("A1014", "skip:too_recent"),
        ("A1015", "closing_soon"),
        ("A1016", "skip:no_contact"),
        ("A1017", "skip:invalid_row"),
        ("A1018", "payment_help"),
    ];
    let actual = d.all();
    assert_eq!(actual.len(), expected.len());
    for (id, outcome) in expected {
        assert_eq!(actual[id], outcome, "{id}");
    }
    assert_eq!(d.summary["rows"], 19);
    assert_eq!(d.summary["orders"], 17);
    assert_eq!(d.summary["reminders"], 8);
    assert_eq!(d.summary["dry_run"], true);
    // In the shop's zone, as the seller gave it.
    assert_eq!(d.summary["now"], "2026-11-23T09:00:00+08:00");
    // The orders add up: reminders + skipped (the bad row is not an order).
    let skipped: u64 = d.summary["skipped"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(reason, _)| *reason != "invalid_row")
        .map(|(_, n)| n.as_u64().unwrap())
        .sum();
    assert_eq!(d.summary["orders"].as_u64().unwrap(), 8 + skipped);
    let a1001 = d.get("A1001");
    assert_eq!(a1001["to"], "alice.martin@example.com");
    assert_eq!(a1001["buyer_name"], "Alice Martin");
    assert_eq!(a1001["buyer_id"], "C-1001");
    assert_eq!(a1001["age_hours"], 3.5);
    assert_eq!(a1001["total"], "24.90 EUR");
}

#[test]
fn the_preview_a_seller_reads() {
    let outcome = run("text");
    outcome.success();
    insta::assert_snapshot!("example_stdout", outcome.stdout);
    let stderr = outcome.stderr.replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
    insta::assert_snapshot!("example_stderr", stderr);
}
