//! `payremind init`: a starter that works, and that never overwrites a seller's edits.

use crate::support::{NOW, Test};

#[test]
fn init_writes_a_config_and_templates_that_check_and_run() {
    let test = Test::new().file(
        "shop/orders.csv",
        "order_id,email,status,created_at\nI1,i1@example.com,pending,2026-11-22 10:00\n",
    );
    test.exec(&["init", "shop"])
        .success()
        .stderr_has("wrote shop/payremind.toml and 13 templates in shop/templates");
    assert!(test.path("shop/templates/payment_help.txt").exists());
    let config = ["--config", "shop/payremind.toml", "--now", NOW];
    // Untouched, the starter names what the seller must still set.
    test.exec(&[&["check", "--orders", "shop/orders.csv"][..], &config].concat())
        .failure(2)
        .stdout_has("problem: [shop].name is missing")
        .stdout_has("problem: [source].timezone is missing")
        .stdout_has("problem: [shop].sender is missing")
        .stdout_has("problem: [shop].currency is missing and the export has no currency column");
    crate::support::complete_starter(
        &test.path("shop/payremind.toml"),
        "Tea Shop",
        "Asia/Shanghai",
    );
    test.exec(&[&["check", "--orders", "shop/orders.csv"][..], &config].concat())
        .success()
        .stdout_has("ok: ready for `payremind run`");
    test.exec(&[&["run", "--orders", "shop/orders.csv"][..], &config].concat())
        .success()
        .stdout_has("Subject: Order I1 is still reserved for you at Tea Shop");
}

#[test]
fn init_never_overwrites_without_force() {
    let test = Test::new().file("templates/popular.txt", "Subject: mine\n");
    let path = test.path("templates/popular.txt");
    test.exec(&["init"])
        .failure(2)
        .stderr_has("templates/popular.txt: already exists; pass --force to overwrite it");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "Subject: mine\n");
    assert!(
        !test.path("payremind.toml").exists(),
        "nothing is written when one file exists"
    );
    test.exec(&["init", "--force"]).success();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("{{ order.id }}")
    );
    assert!(test.path("payremind.toml").exists());
}

#[test]
fn the_starters_example_sender_help_link_and_currency_are_never_used() {
    // A seller who removes the #s of the starter's examples without writing their own.
    let test = Test::new().file(
        "orders.csv",
        "order_id,email,status,created_at,total\nI1,i1@example.com,pending,2026-11-22 10:00,12.00\n",
    );
    test.exec(&["init"]).success();
    let config = test.path("payremind.toml");
    crate::support::complete_starter(&config, "Tea Shop", "Asia/Shanghai");
    let written = std::fs::read_to_string(&config).unwrap();
    let edited = written
        .replace(
            "sender = \"Tea Shop <orders@shop.example>\"",
            "sender = \"My Shop <orders@myshop.example>\"",
        )
        .replace("# payment_help_url = ", "payment_help_url = ")
        .replace("currency = \"USD\"", "# currency = \"USD\"")
        .replace("via = \"smtp\"", "via = \"outbox\"");
    std::fs::write(&config, edited).unwrap();
    let run = ["--orders", "orders.csv", "--now", NOW];
    test.exec(&[&["check"][..], &run].concat())
        .failure(2)
        .stdout_has("problem: [shop].sender is still the starter's example \"My Shop <orders@myshop.example>\"")
        .stdout_has("problem: [shop].payment_help_url is still the starter's example \"https://myshop.example/help/how-to-pay\"")
        .stdout_has("problem: [shop].currency is missing and the export has no currency column")
        .stdout_has("not ready: 3 problems above; fix them before sending");
    // A dry run still shows the reminder, and what `--send` will refuse.
    test.exec(&[&["run"][..], &run].concat())
        .success()
        .stdout_has("Subject: Order I1")
        .stderr_has("payremind: warning: [shop].sender is still the starter's example");
    let send = test.exec(&[&["run", "--send"][..], &run].concat());
    send.failure(2)
        .stderr_has("payremind: error: payremind.toml: [shop].sender: is still the starter's example")
        .stderr_has("payremind: error: payremind.toml: [shop].payment_help_url: is still the starter's example")
        .stderr_has("payremind: error: payremind.toml: [shop].currency: is missing");
    assert!(
        !test.path("outbox").exists()
            || std::fs::read_dir(test.path("outbox"))
                .unwrap()
                .next()
                .is_none(),
        "nothing was sent"
    );
    // The seller's own values (a reserved test domain is a real choice): sent.
    let written = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        written
            .replace("orders@myshop.example", "orders@shop.example")
            .replace(
                "https://myshop.example/help/how-to-pay",
                "https://shop.example/pay",
            )
            .replace("# currency = \"USD\"", "currency = \"EUR\""),
    )
    .unwrap();
    test.exec(&[&["run", "--send"][..], &run].concat())
        .success();
    assert_eq!(std::fs::read_dir(test.path("outbox")).unwrap().count(), 1);
}

#[test]
fn init_from_a_generic_export_maps_a_column_only_when_its_values_fit() {
    // "Customer Total Spent" is named like a buyer and holds amounts; "Customer Paid Orders" is
    // named like a payment and holds counts. Guessed by name alone, they became the buyer's
    // name, the payment time and the order total.
    let test = Test::new().fixture("generic_customer_columns.csv");
    let written = init_from(&test, "generic_customer_columns.csv");
    has_lines(
        &written,
        &[
            "\norder_id = \"Order ID\"\n",
            "\nemail = \"Customer Email\"\n",
            "\ncreated_at = \"Order Created\"\n",
            "\ntotal = \"Order Total\"\n",
            "\nprior_paid_orders = \"Customer Paid Orders\"\n",
            // "Customer Total Spent" names a total: not even a candidate for the name.
            "\n# buyer_name = \"<header>\"   # no header looks like it\n",
            "\n# paid_at: no column looked like a date and time (\"Customer Paid Orders\" holds counts)\n",
            "\n# unpaid = [\"pending\"]\n",
        ],
    );
    for field in ["buyer_name", "paid_at"] {
        assert!(
            !written.contains(&format!("\n{field} =")),
            "{field} mapped:\n{written}"
        );
    }
    crate::support::complete_starter(&test.path("payremind.toml"), "Lotus Leaf", "Asia/Shanghai");
    let run = ["--orders", "generic_customer_columns.csv", "--now", NOW];
    test.exec(&[&["check"][..], &run].concat())
        .success()
        .stdout_has("ok: ready");
    let d = crate::support::Decisions::parse(
        &test.exec(&[&["run", "--format", "json"][..], &run].concat()),
    );
    // The order's own total, and the buyer's earlier paid orders from the count column.
    assert_eq!(d.get("R-2003")["total"], "42.50 USD");
    assert_eq!(d.outcome("R-2003"), "skip:no_offer_for_returning");
    assert_eq!(d.outcome("R-2001"), "popular");
}

#[test]
fn init_from_a_recognised_layout_lists_its_status_words_classed() {
    // A WooCommerce shop with a status of its own (a plugin's "Shipped").
    let export = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/woocommerce_orders.csv"
    ))
    .unwrap()
    .replacen(",Processing,", ",Shipped,", 1);
    let test = Test::new().file("orders.csv", export);
    let written = init_from(&test, "orders.csv");
    has_lines(
        &written,
        &[
            "format = \"woocommerce\"",
            "\n#   \"Completed\" (1 rows): paid\n",
            "\n#   \"On hold\" (1 rows): unpaid\n",
            "\n#   \"Pending payment\" (7 rows): unpaid\n",
            "\n#   \"Shipped\" (1 rows): NOT CLASSED: add it to unpaid, paid or closed below",
            "\n# unpaid = [\"Failed\", \"On hold\", \"Pending payment\"]\n",
            "\n# paid = [\"Completed\"]\n",
            "\n# closed = [\"Cancelled\"]\n",
        ],
    );
    let config = test.path("payremind.toml");
    crate::support::complete_starter(&config, "Lotus Leaf", "Europe/Berlin");
    // An order waits for a bank transfer.
    crate::support::set_bank_details(&config);
    let run = ["check", "--orders", "orders.csv", "--now", NOW];
    test.exec(&run)
        .failure(2)
        .stdout_has("NOT MAPPED: add \"Shipped\" to [statuses]");
    // The seller classes it, keeping the layout's word.
    let written = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        written.replace(
            "# paid = [\"Completed\"]",
            "paid = [\"Completed\", \"Shipped\"]",
        ),
    )
    .unwrap();
    test.exec(&run).success().stdout_has("ok: ready");
}

/// `payremind init --from export` in the test's folder: the config it wrote.
fn init_from(test: &Test, export: &str) -> String {
    test.exec(&["init", "--from", export]).success();
    std::fs::read_to_string(test.path("payremind.toml")).unwrap()
}

fn has_lines(written: &str, lines: &[&str]) {
    for line in lines {
        assert!(written.contains(line), "{line:?} missing:\n{written}");
    }
}

#[test]
fn init_does_not_write_through_a_dangling_symlink() {
    let test = Test::new();
    std::fs::create_dir_all(test.path("shop")).unwrap();
    std::fs::create_dir_all(test.path("elsewhere")).unwrap();
    let target = test.path("elsewhere/secret.toml");
    std::os::unix::fs::symlink(&target, test.path("shop/payremind.toml")).unwrap();
    for args in [&["init", "shop"][..], &["init", "shop", "--force"][..]] {
        test.exec(args)
            .failure(2)
            .stderr_has("shop/payremind.toml: cannot write it: it is a symbolic link to a file that does not exist");
    }
    assert!(!target.exists(), "nothing written where the link points");
}

#[test]
fn init_from_maps_a_shipping_date_to_tracking_and_no_note_or_status_to_a_name_or_id() {
    let test = Test::new().file(
        "orders.csv",
        "Order Reference,Order Status,Order Date,Email,Total,Customer Note,Shipped At,Customer\n\
         R4,pending,2026-12-01 13:00,Ana Lima <ana@example.com>,12.50,Leave at the back door,2026-12-01 16:00,Ana Lima\n",
    );
    let written = init_from(&test, "orders.csv");
    has_lines(
        &written,
        &[
            "\norder_id = \"Order Reference\"\n",
            "\nstatus = \"Order Status\"\n",
            "\ncreated_at = \"Order Date\"\n",
            // A display name before the address is an address the run can use.
            "\nemail = \"Email\"\n",
            "\nbuyer_name = \"Customer\"\n",
            "\ntracking = \"Shipped At\"\n",
        ],
    );
    assert!(!written.contains("= \"Customer Note\""), "{written}");
}
