//! The seller's own templates: they override the built-in ones, and their mistakes are found
//! before any message, with the template's file and line.

use crate::support::{GENERIC_CONFIG, GENERIC_HEADER, NOW, Test};

fn with_template(name: &str, source: &str) -> Test {
    Test::new()
        .config(&format!("{GENERIC_CONFIG}\n[templates]\ndir = \"mine\"\n"))
        .file(&format!("mine/{name}.txt"), source)
        .orders(
            GENERIC_HEADER,
            &["X1,x,Xia,x@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"],
        )
}

#[test]
fn a_seller_template_overrides_the_built_in_one() {
    let d = with_template(
        "popular",
        "Subject: {{ shop.name }}: order {{ order.id }}\n\nHi {{ buyer.name }}, {{ order.total }} please.\n",
    )
    .decide();
    let x1 = d.get("X1");
    assert_eq!(x1["subject"], "Test Shop: order X1");
    // The seller's words, then the way out every message ends with.
    assert_eq!(
        x1["body"],
        "Hi Xia, $10.00 please.\n\nTo stop these reminders, write \"unsubscribe\" to orders@shop.example.\n"
    );
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    with_template(
        "popular",
        "Subject: hi\n\n{% if order.id %}\nno end\n{% endfor %}\n",
    )
    .args(&["run", "--orders", "orders.csv", "--now", NOW])
    .run()
    .failure(2)
    .stderr_has("template mine/popular.txt:5:")
    .stderr_has("fix the template");
}

#[test]
fn an_unknown_variable_is_found_by_check_even_in_an_unused_template() {
    let outcome = with_template(
        "missed_inquiry",
        "Subject: hi {{ order.id }}\n\nline two\nTotal: {{ order.totl }}\n",
    )
    .args(&["check", "--orders", "orders.csv", "--now", NOW])
    .run();
    outcome
        .failure(2)
        .stderr_has("template mine/missed_inquiry.txt:4:");
    assert!(outcome.stderr.contains("totl"), "{}", outcome.stderr);
}

#[test]
fn a_template_needs_its_subject_line() {
    with_template("popular", "Hello {{ buyer.name }}\n")
        .args(&["run", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stderr_has("template mine/popular.txt:1:1: the first line must be `Subject: …`");
}

#[test]
fn a_typo_in_a_branch_only_loyal_buyers_reach_is_found_too() {
    with_template(
        "loyal",
        "Subject: hi {{ order.id }}\n\n{% if buyer.type == \"loyal\" %}Dear {{ buyer.nmae }}{% endif %}\n",
    )
    .args(&["check", "--orders", "orders.csv", "--now", NOW])
    .run()
    .failure(2)
    .stderr_has("template mine/loyal.txt:3:");
}
