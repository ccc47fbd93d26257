//! Marketing consent: a step that makes an offer goes in its own words only to a buyer whose
//! export says they accept marketing; any other buyer still gets the reminder, in the plain
//! wording, and the ladder goes on as usual.

use crate::send::plain_server;
use crate::support::{Decisions, NOW, Outcome, Test};

const SHOP: &str = r#"
[shop]
name = "Test Shop"
sender = "Test Shop <orders@shop.example>"
currency = "USD"
discount_percent = 5

[source]
timezone = "Asia/Shanghai"

[guard]
max_export_age = "30d"
"#;

const SHOPIFY_HEADER: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Accepts Marketing,Currency,Total,Created at,Lineitem quantity,Lineitem name,Billing Name";

/// Three new buyers' orders placed 23 h before [`NOW`] (the `popular` step): one accepted
/// marketing, one did not, one left the cell empty (a second row of the order, as Shopify
/// writes it, has no value either).
const SHOPIFY_ROWS: &[&str] = &[
    "#1001,yes@example.com,pending,,unfulfilled,yes,USD,20.00,2026-11-22 10:00:00 +0800,1,Green tea,Yan",
    "#1002,no@example.com,pending,,unfulfilled,no,USD,20.00,2026-11-22 10:00:00 +0800,1,Green tea,Noa",
    "#1003,blank@example.com,pending,,unfulfilled,,USD,20.00,2026-11-22 10:00:00 +0800,1,Green tea,Bo",
    "#1003,blank@example.com,,,,,,,2026-11-22 10:00:00 +0800,1,Tea cup,",
];

fn smtp(server: &crate::support::smtp::SmtpServer, extra: &str) -> String {
    format!(
        "{SHOP}{extra}\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\ntimeout = \"5s\"\nretry_delay = \"10ms\"\n",
        server.port
    )
}

fn send_at(test: &Test, now: &str) -> Decisions {
    let out = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        now,
        "--send",
        "--yes",
        "--format",
        "json",
    ]);
    Decisions::parse(&out)
}

/// Words of an offer: none may reach a buyer who did not accept marketing.
const OFFER_WORDS: &[&str] = &[
    "%",
    "off",
    "discount",
    "19.00",
    "little something",
    "keeping it",
    "reserved",
    "stock",
    "promotion",
    "last reminder",
];

fn assert_plain(text: &str) {
    let lower = text.to_lowercase();
    for word in OFFER_WORDS {
        assert!(!lower.contains(word), "an offer word {word:?} in:\n{text}");
    }
    assert!(lower.contains("not been paid yet"), "{text}");
}

#[test]
fn a_buyer_who_did_not_accept_marketing_gets_the_plain_wording_and_the_ladder_climbs() {
    let (_dir, server) = plain_server();
    let test = Test::new()
        .config(&smtp(&server, ""))
        .orders(SHOPIFY_HEADER, SHOPIFY_ROWS);

    let d = test.preview();
    assert_eq!(d.get("#1001")["template"], "popular");
    assert!(d.get("#1001").get("wording").is_none());
    for id in ["#1002", "#1003"] {
        let o = d.get(id);
        assert_eq!(o["template"], "popular", "the step is still the step");
        assert_eq!(o["wording"], "plain", "{o}");
        assert_plain(&format!("{}\n{}", o["subject"], o["body"]));
    }
    assert_eq!(d.summary["plain_wording"], 2);
    let text = test.exec(&["run", "--orders", "orders.csv", "--now", NOW]);
    text.success()
        .stdout_has("order #1002 · popular (plain wording: the buyer did not accept marketing)")
        .stderr_has("2 of them in the plain wording");

    // Sent: the ledger records the step.
    let d = send_at(&test, NOW);
    assert_eq!(d.summary["sent"], 3, "{}", d.stderr);
    crate::send::wait_for_arrivals(&server, 3);
    let received = server.received();
    let to_no = received
        .iter()
        .find(|m| m.rcpt_tos == ["no@example.com"])
        .expect("no@ got its reminder");
    assert_plain(&to_no.text());
    let history = test.exec(&["history", "--order", "#1002", "--format", "json"]);
    history.success().stdout_has("\"template\":\"popular\"");

    // Two days later (49 h old): the next step, the final discount; the offer only to #1001.
    let d = send_at(&test, "2026-11-24T11:00:00+08:00");
    assert_eq!(d.get("#1001")["template"], "discount");
    assert!(
        d.get("#1001")["body"]
            .as_str()
            .unwrap()
            .contains("5% off: $19.00")
    );
    for id in ["#1002", "#1003"] {
        assert_eq!(d.get(id)["template"], "discount", "the ladder climbed");
        assert_eq!(d.get(id)["wording"], "plain");
        assert_plain(d.get(id)["body"].as_str().unwrap());
    }
    crate::send::wait_for_arrivals(&server, 6);
    // The final step was sent (in plain words): the order is given up, as after the offer.
    let d = send_at(&test, "2026-11-25T12:00:00+08:00");
    for id in ["#1001", "#1002", "#1003"] {
        assert_eq!(d.outcome(id), "skip:gave_up");
    }
}

#[test]
fn offers_need_consent_false_sends_every_buyer_the_offer() {
    let test = Test::new()
        .config(&format!("{SHOP}\n[select]\noffers_need_consent = false\n"))
        .orders(SHOPIFY_HEADER, SHOPIFY_ROWS);
    let d = test.decide_file("orders.csv");
    for id in ["#1001", "#1002", "#1003"] {
        assert_eq!(d.get(id)["template"], "popular");
        assert!(d.get(id).get("wording").is_none(), "{}", d.get(id));
        assert!(d.get(id)["body"].as_str().unwrap().contains("keeping it"));
    }
    assert!(d.summary.get("plain_wording").is_none());
}

#[test]
fn without_a_consent_column_offers_go_as_before() {
    let header = "Name,Email,Financial Status,Paid at,Currency,Total,Created at,Lineitem quantity,Lineitem name";
    let test = Test::new().config(SHOP).orders(
        header,
        &["#2001,a@example.com,pending,,USD,20.00,2026-11-20 10:00:00 +0800,1,Tea"],
    );
    let d = test.preview();
    assert_eq!(d.get("#2001")["template"], "discount");
    assert!(d.get("#2001")["body"].as_str().unwrap().contains("5% off"));
    test.exec(&["check", "--orders", "orders.csv", "--now", NOW])
        .stdout_has("marketing consent: unknown (no consent column): offers go to every buyer");
}

fn check(test: &Test) -> Outcome {
    test.exec(&["check", "--orders", "orders.csv", "--now", NOW])
}

#[test]
fn the_consent_column_is_recognised_in_each_layout() {
    // Shopify: `Accepts Marketing`, yes/no.
    let test = Test::new()
        .config(SHOP)
        .orders(SHOPIFY_HEADER, SHOPIFY_ROWS);
    check(&test)
        .stdout_has("accepts_marketing  <- \"Accepts Marketing\"")
        .stdout_has("marketing consent (Accepts Marketing), by order: 1 accepted, 2 did not (1 no, 1 empty, 0 unreadable): offer steps go to them in the plain wording");

    // Rows of one order that disagree: the one that is not a yes wins, with a warning.
    let split = Test::new().config(SHOP).orders(
        SHOPIFY_HEADER,
        &[
            "#3001,s@example.com,pending,,unfulfilled,yes,USD,20.00,2026-11-20 10:00:00 +0800,1,Tea,Sy",
            "#3001,s@example.com,,,,no,,,2026-11-20 10:00:00 +0800,1,Cup,",
        ],
    );
    let d = split.preview();
    assert_eq!(d.get("#3001")["wording"], "plain");
    let warned = d.summary["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| {
            w.as_str().unwrap().contains(
                "line 3: order #3001 has accepts_marketing \"no\", line 2 has \"yes\"; read as not accepted",
            )
        });
    assert!(warned, "{}", d.summary["warnings"]);

    // WooCommerce with Mailchimp's checkout box as an order meta column (1/0).
    let woo = Test::new().config(SHOP).orders(
        "\"Order Number\",\"Order Status\",\"Order Date\",\"Email (Billing)\",\"Order Total Amount\",Name,Quantity,mailchimp_woocommerce_is_subscribed",
        &[
            "501,\"Pending payment\",\"2026-11-20 10:00\",w1@example.com,20.00,Tea,1,1",
            "502,\"Pending payment\",\"2026-11-20 10:00\",w2@example.com,20.00,Tea,1,0",
        ],
    );
    check(&woo).stdout_has(
        "marketing consent (mailchimp_woocommerce_is_subscribed), by order: 1 accepted, 1 did not",
    );
    let d = woo.preview();
    assert_eq!(d.get("501")["template"], "discount");
    assert!(d.get("501").get("wording").is_none());
    assert_eq!(d.get("502")["wording"], "plain");

    // A generic export whose column the seller maps, in Chinese; a word nobody knows is no.
    let generic = Test::new()
        .config(&format!(
            "{SHOP}\n[columns]\naccepts_marketing = \"接受营销\"\n"
        ))
        .orders(
            "order_id,email,status,created_at,total,接受营销",
            &[
                "G1,g1@example.com,pending,2026-11-20 10:00,20.00,是",
                "G2,g2@example.com,pending,2026-11-20 10:00,20.00,否",
                "G3,g3@example.com,pending,2026-11-20 10:00,20.00,maybe",
            ],
        );
    check(&generic)
        .stdout_has("1 accepted, 2 did not (1 no, 0 empty, 1 unreadable)")
        .stdout_has("1 order(s) have a consent word payremind does not know");
    let d = generic.preview();
    assert!(d.get("G1").get("wording").is_none());
    assert_eq!(d.get("G2")["wording"], "plain");
    assert_eq!(d.get("G3")["wording"], "plain");

    // A seller's own rule whose template is an offer step is routed the same way; a step
    // that offers nothing is not.
    let rules = Test::new()
        .config(&format!(
            "{SHOP}\n[[rules]]\nmin_age = \"2h\"\ntemplate = \"low_stock\"\n"
        ))
        .orders(SHOPIFY_HEADER, SHOPIFY_ROWS);
    let d = rules.preview();
    assert_eq!(d.get("#1002")["template"], "low_stock");
    assert_eq!(d.get("#1002")["wording"], "plain");
    let gentle = Test::new()
        .config(&format!(
            "{SHOP}\n[[rules]]\nmin_age = \"2h\"\ntemplate = \"gentle\"\n"
        ))
        .orders(SHOPIFY_HEADER, SHOPIFY_ROWS);
    assert!(gentle.preview().get("#1002").get("wording").is_none());
}

/// A seller's own offer, by a name of their own (`weekend_sale`) or in a built-in step they
/// rewrote (`gentle` with the discount): what the template says makes it an offer.
#[test]
fn a_sellers_own_template_that_makes_an_offer_needs_consent_too() {
    let test = Test::new()
        .config(&format!(
            "{SHOP}\n[templates]\ndir = \"mine\"\n\n[[rules]]\nbuyer = [\"new\"]\ntemplate = \"weekend_sale\"\n\n[[rules]]\ntemplate = \"gentle\"\n"
        ))
        .file(
            "mine/weekend_sale.txt",
            "Subject: Weekend sale on order {{ order.id }}\nHello,\n\nPay this weekend and get {{ shop.discount_percent }}% off ({{ order.discounted_total }}).\n",
        )
        .file(
            "mine/gentle.txt",
            "Subject: Order {{ order.id }}\nHello,\n\nYour order is waiting. Pay today for {{ shop.discount_percent }}% off.\n",
        )
        .orders(SHOPIFY_HEADER, SHOPIFY_ROWS);
    let d = test.preview();
    assert_eq!(d.get("#1001")["template"], "weekend_sale");
    assert!(
        d.get("#1001").get("wording").is_none(),
        "{}",
        d.get("#1001")
    );
    for id in ["#1002", "#1003"] {
        let o = d.get(id);
        assert_eq!(o["template"], "weekend_sale");
        assert_eq!(o["wording"], "plain", "{o}");
        assert_plain(&format!("{}\n{}", o["subject"], o["body"]));
    }
    // The rewritten `gentle` (for buyers the first rule does not take) offers too.
    let test = test.config(&format!(
        "{SHOP}\n[templates]\ndir = \"mine\"\n\n[[rules]]\ntemplate = \"gentle\"\n"
    ));
    let d = test.preview();
    assert_eq!(d.get("#1002")["template"], "gentle");
    assert_eq!(d.get("#1002")["wording"], "plain", "{}", d.get("#1002"));
    assert!(d.get("#1001").get("wording").is_none());
}

/// Shopify writes consent on an order's first row. A first row that says nothing and a later
/// one that says yes disagree: no offer on a doubt, as when one says no.
#[test]
fn a_yes_only_on_a_later_row_of_the_order_is_a_doubt() {
    let test = Test::new().config(SHOP).orders(
        SHOPIFY_HEADER,
        &[
            "#1001,late@example.com,pending,,unfulfilled,,USD,20.00,2026-11-22 10:00:00 +0800,1,Green tea,Lu",
            "#1001,late@example.com,,,,yes,,,2026-11-22 10:00:00 +0800,1,Tea cup,",
            "#1002,first@example.com,pending,,unfulfilled,yes,USD,20.00,2026-11-22 10:00:00 +0800,1,Green tea,Fi",
            "#1002,first@example.com,,,,,,,2026-11-22 10:00:00 +0800,1,Tea cup,",
        ],
    );
    let d = test.preview();
    assert_eq!(d.get("#1001")["wording"], "plain", "{}", d.get("#1001"));
    assert_plain(d.get("#1001")["body"].as_str().unwrap());
    assert!(
        d.get("#1002").get("wording").is_none(),
        "{}",
        d.get("#1002")
    );
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .success()
        .stderr_has(
            "order #1001 has accepts_marketing \"yes\", line 2 has none; read as not accepted",
        );
}
