//! The four marketplace exports, exactly as sellers download them (fixtures written by
//! tests/fixtures/make_layouts.py): recognised without any [columns], every order decided.
//!
//! All runs are at the same instant, 2026-11-23T01:00:00Z: 17:00 the day before in Los Angeles,
//! 02:00 in Berlin, 09:00 in Beijing.

use std::collections::BTreeMap;

use crate::support::{Decisions, Test};

const NOW: &str = "2026-11-23T01:00:00Z";

fn config(zone: &str, currency: &str, distribution: &str) -> String {
    format!(
        "[shop]\nname = \"Lotus Leaf\"\ncurrency = \"{currency}\"\n\n[source]\ntimezone = \"{zone}\"\n\n\
         [select]\ndistribution_channels = [{distribution}]\n"
    )
}

fn decide(fixture: &str, config: &str) -> Decisions {
    // The support module's NOW is the same instant, written in Beijing time.
    Test::new()
        .config(config)
        .fixture(fixture)
        .decide_file(fixture)
}

fn expect(d: &Decisions, expected: &[(&str, &str)]) {
    let expected: BTreeMap<String, String> = expected
        .iter()
        .map(|(id, outcome)| ((*id).to_owned(), (*outcome).to_owned()))
        .collect();
    assert_eq!(d.all(), expected);
}

#[test]
fn shopify_export() {
    let d = decide(
        "shopify_orders_export.csv",
        &config("America/Los_Angeles", "USD", "\"302679293953\""),
    );
    expect(
        &d,
        &[
            ("#1013", "skip:too_recent"),
            // Three line-item rows, one decision; the earlier order of the same buyer, whose
            // e-mail is written in another case, is superseded.
            ("#1012", "popular"),
            ("#1011", "skip:superseded"),
            // A voided later order does not supersede the pending one.
            ("#1010", "skip:closed"),
            ("#1005", "popular"),
            // Sam paid #1009 at 00:30 on the 22nd; #1003 is from 23:30 on the 21st, store time:
            // another day (in UTC both are on the 22nd), but the later order is paid.
            ("#1009", "skip:paid"),
            ("#1003", "skip:paid_later"),
            ("#1008", "skip:paid"),
            ("#1002", "skip:paid_same_day"),
            // Two buyers who share a billing name are two buyers.
            ("#1007", "popular"),
            ("#1006", "payment_help"),
            ("#1004", "skip:distribution_channel"),
            ("#1001", "skip:paid"),
            // Cash on delivery (and no e-mail either): pending until the courier collects.
            ("#1000", "skip:pay_later"),
            ("#0999", "skip:closed"),
        ],
    );
    let mia = d.get("#1012");
    assert_eq!(
        mia["products"],
        serde_json::json!([
            "Longjing green tea, 250 g × 1",
            "Glass teapot 600 ml × 1",
            "Tea towel × 1"
        ])
    );
    assert_eq!(mia["total"], "54.00 USD");
    assert_eq!(mia["buyer_name"], "Mia Chen");
    assert_eq!(mia["buyer_id"], "mia.chen@example.com");
    assert_eq!(d.summary["rows"], 17);
    assert_eq!(d.summary["orders"], 15);
    assert_eq!(d.summary["encoding"], "UTF-8");
}

#[test]
fn woocommerce_export() {
    let d = decide(
        "woocommerce_orders.csv",
        &config("Europe/Berlin", "NOK", ""),
    );
    expect(
        &d,
        &[
            // Two product rows with the order fields repeated: one decision.
            ("5001", "popular"),
            ("5000", "skip:superseded"),
            // On hold since 20:00, waiting for a direct bank transfer, which may be on its way.
            ("4999", "skip:waiting_for_transfer"),
            // Jon paid 4998 at 00:30 on the 22nd, Berlin time; 4997 is from 23:45 on the 21st:
            // another day, but the later order is paid.
            ("4998", "skip:paid"),
            ("4997", "skip:paid_later"),
            ("4996", "skip:closed"),
            ("4995", "popular"),
            ("4994", "payment_help"),
            ("4993", "payment_help"),
            ("4992", "skip:paid"),
            ("4991", "skip:no_offer_for_returning"),
        ],
    );
    let ola = d.get("5001");
    assert_eq!(ola["buyer_name"], "Ola Berg", "first and last name joined");
    assert_eq!(ola["total"], "49.90 NOK");
    assert_eq!(ola["products"].as_array().unwrap().len(), 2);
    assert_eq!(ola["line"], 2);
    assert_eq!(d.get("4999")["line"], 5, "CRLF file, real line numbers");
}

#[test]
fn shopify_cash_on_delivery_shop() {
    let d = decide("shopify_cod_shop.csv", &config("Asia/Karachi", "PKR", ""));
    expect(
        &d,
        &[
            // Cash on delivery, however the gateway is spelt, shipped or not.
            ("#3020", "skip:pay_later"),
            ("#3019", "skip:pay_later"),
            ("#3018", "skip:pay_later"),
            // Partly shipped before payment: the shop trusted the buyer.
            ("#3017", "skip:already_shipped"),
            // Cancelled while authorised: closed, so Zara's other order that day is reminded.
            ("#3016", "skip:closed"),
            ("#3015", "popular"),
            ("#3014", "skip:subscription_renewal"),
            ("#3013", "bank_transfer"),
            ("#3012", "skip:payment_terms"),
            // Re-ordered two days later and paid that one.
            ("#3011", "skip:paid"),
            ("#3010", "skip:paid_later"),
            ("#3009", "skip:in_future"),
            ("#3008", "popular"),
        ],
    );
    assert_eq!(
        d.get("#3015")["buyer_type"],
        "new",
        "a cancelled order is not a paid one"
    );
    assert!(
        d.get("#3013")["body"]
            .as_str()
            .unwrap()
            .contains("You chose to pay by Bank Deposit"),
        "{}",
        d.get("#3013")["body"]
    );
    let warnings = d.summary["warnings"].to_string();
    assert!(
        warnings.contains("1 order is dated after now"),
        "{warnings}"
    );
}

#[test]
fn a_subscription_rule_sends_renewals_their_own_message() {
    let config = format!(
        "{}\n[[rules]]\nsource = [\"Subscription_Contract\"]\ntemplate = \"gentle\"\n\n[[rules]]\ntemplate = \"payment_help\"\n",
        config("Asia/Karachi", "PKR", "")
    );
    let d = decide("shopify_cod_shop.csv", &config);
    assert_eq!(d.outcome("#3014"), "gentle");
    assert_eq!(d.outcome("#3008"), "payment_help");
    assert_eq!(d.outcome("#3020"), "skip:pay_later");
}

#[test]
fn a_sellers_own_pay_later_methods_are_added_to_cash_on_delivery() {
    let config = format!(
        "{}pay_later_methods = [\"Bank Deposit\"]\n",
        config("Asia/Karachi", "PKR", "")
    );
    let d = decide("shopify_cod_shop.csv", &config);
    assert_eq!(d.outcome("#3013"), "skip:pay_later");
    // Cash on delivery stays: a list of the shop's own never drops the built-in spellings.
    assert_eq!(d.outcome("#3020"), "skip:pay_later");
    assert_eq!(d.outcome("#3018"), "skip:pay_later");
}

#[test]
fn woocommerce_with_its_own_field_selection() {
    let d = decide(
        "woocommerce_custom_fields.csv",
        &config("Europe/Berlin", "EUR", ""),
    );
    expect(
        &d,
        &[
            ("7010", "popular"),
            // Nachnahme: cash on delivery in German.
            ("7009", "skip:pay_later"),
            // A transfer ordered 18 h ago may be on its way; after 48 h the buyer hears how to
            // pay.
            ("7008", "skip:waiting_for_transfer"),
            ("7007", "bank_transfer"),
            ("7006", "skip:paid"),
            ("7005", "skip:paid_later"),
            ("7004", "skip:paid"),
            ("7003", "skip:closed"),
            ("7002", "payment_help"),
        ],
    );
    assert_eq!(d.get("7008")["total"], "49.80 EUR");
    assert!(
        d.get("7007")["body"]
            .as_str()
            .unwrap()
            .contains("You chose to pay by Vorkasse / Überweisung"),
        "{}",
        d.get("7007")["body"]
    );
}

#[test]
fn aliexpress_export() {
    let d = decide(
        "aliexpress_orders.csv",
        &config("America/Los_Angeles", "USD", ""),
    );
    expect(
        &d,
        &[
            // Two buyers with the same display name "John".
            ("8123456789012345", "popular"),
            ("8123456789012346", "payment_help"),
            // Paid at 00:20 on the 22nd, the other placed at 23:40 on the 21st, store time: another
            // day, but the later order is paid.
            ("8123456789012347", "skip:paid"),
            ("8123456789012348", "skip:paid_later"),
            ("8123456789012349", "skip:closed"),
            ("8123456789012350", "skip:paid"),
            ("8123456789012351", "skip:paid_same_day"),
            ("8.12346E+15", "skip:invalid_row"),
            ("8123456789012353", "skip:no_contact"),
            ("8123456789012354", "discount"),
            ("8123456789012355", "popular"),
        ],
    );
    let mangled = d.get("8.12346E+15");
    assert_eq!(
        mangled["line"], 24,
        "after a two-line header and three-line product cells"
    );
    assert!(
        mangled["error"]
            .as_str()
            .unwrap()
            .contains("do not open and save it in Excel")
    );
    assert_eq!(d.get("8123456789012345")["total"], "9.90 USD");
    // The product cell's back-office notes are left out; each product has its quantity.
    assert_eq!(
        d.get("8123456789012353")["products"],
        serde_json::json!(["Matcha tin 30 g × 1", "Bamboo whisk × 1"])
    );
    assert!(
        d.get("8123456789012345")["body"]
            .as_str()
            .unwrap()
            .contains("  - Matcha tin 30 g × 1\n"),
        "{}",
        d.get("8123456789012345")["body"]
    );
    assert_eq!(d.summary["encoding"], "UTF-8");
}

#[test]
fn taobao_export() {
    let d = decide(
        "taobao_ExportOrderList202611230900.csv",
        &config("Asia/Shanghai", "CNY", "\"莲叶茶庄分销店\""),
    );
    expect(
        &d,
        &[
            // Placed 07:30, another order paid 08:30 the same Beijing day (in UTC: two days).
            ("4378120007170436301", "skip:paid_same_day"),
            ("4378120007170436302", "skip:paid"),
            ("4378120007170436303", "popular"),
            // The Alipay account is a phone number, or masked: no e-mail to write to.
            ("4378120007170436304", "skip:no_contact"),
            ("4378120007170436305", "skip:no_contact"),
            ("4378120007170436306", "skip:closed"),
            ("4378120007170436307", "discount"),
            ("4378120007170436308", "skip:distribution_channel"),
            ("4378120007170436309", "skip:paid"),
            ("4378120007170436310", "skip:paid"),
            // Three earlier paid orders: loyal.
            ("4378120007170436311", "loyal"),
        ],
    );
    let fang = d.get("4378120007170436303");
    assert_eq!(
        fang["buyer_name"], "𠀀王芳",
        "a name in GB18030's four-byte form"
    );
    assert_eq!(fang["total"], "256.00 CNY");
    assert_eq!(
        fang["created_at"], "2026-11-22T08:05:00+08:00",
        "Excel's 2026/11/22 8:05"
    );
    assert_eq!(d.get("4378120007170436311")["buyer_type"], "loyal");
    assert_eq!(d.summary["encoding"], "gb18030");
}

#[test]
fn aliexpress_buyers_read_their_country_s_language_once_the_shop_sends_it() {
    let config = config("America/Los_Angeles", "USD", "").replace(
        "[source]",
        "languages = [\"en\", \"ru\", \"pt-BR\", \"es\"]\n\n[source]",
    );
    let d = decide("aliexpress_orders.csv", &config);
    // Russian Federation, Brazil, United States: the country's language, the amount its way.
    let ivan = d.get("8123456789012355");
    assert_eq!(ivan["language"], "ru");
    assert!(
        ivan["body"].as_str().unwrap().contains("9,90\u{a0}$"),
        "{}",
        ivan["body"]
    );
    assert!(
        ivan["subject"]
            .as_str()
            .unwrap()
            .contains("8123456789012355")
    );
    assert!(
        ivan["body"].as_str().unwrap().contains("Здравствуйте"),
        "{}",
        ivan["body"]
    );
    let ana = d.get("8123456789012354");
    assert_eq!(ana["language"], "pt-BR");
    assert!(
        ana["body"].as_str().unwrap().contains("US$\u{a0}9,90"),
        "{}",
        ana["body"]
    );
    assert_eq!(d.get("8123456789012345")["language"], "en");
    assert_eq!(
        d.summary["languages"],
        serde_json::json!({"en": 2, "pt-BR": 1, "ru": 1})
    );
    // Without [shop] languages the same shop writes English to everybody, as before.
    let d = decide(
        "aliexpress_orders.csv",
        &config_plain("America/Los_Angeles", "USD"),
    );
    assert_eq!(d.get("8123456789012355")["language"], "en");
}

fn config_plain(zone: &str, currency: &str) -> String {
    config(zone, currency, "")
}

#[test]
fn taobao_buyers_get_chinese_reminders() {
    let d = decide(
        "taobao_ExportOrderList202611230900.csv",
        &config("Asia/Shanghai", "CNY", "\"莲叶茶庄分销店\""),
    );
    // The layout's marketplace language is the shop's default: no [shop] language needed.
    for id in [
        "4378120007170436303",
        "4378120007170436307",
        "4378120007170436311",
    ] {
        let o = d.get(id);
        assert_eq!(o["language"], "zh-CN", "{id}");
        let body = o["body"].as_str().unwrap();
        assert!(body.contains('亲') || body.contains('您'), "{id}: {body}");
    }
    assert!(
        d.get("4378120007170436303")["body"]
            .as_str()
            .unwrap()
            .contains("¥256.00"),
        "{}",
        d.get("4378120007170436303")["body"]
    );
    assert_eq!(d.summary["languages"], serde_json::json!({"zh-CN": 3}));
    // A seller who wants English says so.
    let english = config("Asia/Shanghai", "CNY", "\"莲叶茶庄分销店\"")
        .replace("[source]", "language = \"en\"\n\n[source]");
    let d = decide("taobao_ExportOrderList202611230900.csv", &english);
    assert_eq!(d.get("4378120007170436303")["language"], "en");
}

#[test]
fn check_names_the_layout_encoding_and_delimiter() {
    for (fixture, layout, encoding) in [
        (
            "shopify_orders_export.csv",
            "layout: shopify (recognised from the headers)",
            "UTF-8",
        ),
        (
            "woocommerce_orders.csv",
            "layout: woocommerce (recognised from the headers)",
            "UTF-8",
        ),
        (
            "aliexpress_orders.csv",
            "layout: aliexpress (recognised from the headers)",
            "UTF-8",
        ),
        (
            "taobao_ExportOrderList202611230900.csv",
            "layout: taobao (recognised from the headers)",
            "gb18030",
        ),
    ] {
        let outcome = Test::new()
            .config(&config("Asia/Shanghai", "USD", ""))
            .fixture(fixture)
            .args(&["check", "--orders", fixture, "--now", NOW])
            .run();
        outcome
            .stdout_has(layout)
            .stdout_has(&format!("({encoding}, delimiter ',',"));
    }
}

/// The text of a fixture (UTF-8, else GB18030) with `edit` applied to every record, header
/// first.
fn variant(fixture: &str, edit: impl Fn(usize, &mut Vec<String>)) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap_or_else(|_| {
        let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
        assert!(!bad, "{fixture} decodes");
        text.into_owned()
    });
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for (i, record) in reader.records().enumerate() {
        let mut cells: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
        edit(i, &mut cells);
        writer.write_record(&cells).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

/// The entries of two runs are the same, line numbers and all (only the file name differs).
fn same_entries(a: &Decisions, b: &Decisions) {
    assert_eq!(a.orders, b.orders);
    assert!(a.orders.len() > 10, "{}", a.orders.len());
}

#[test]
fn taobao_67_column_export_reads_like_the_61_column_one() {
    // The newer 订单报表 adds 满返红包金额 after 是否是O2O交易, and five columns before 主订单编号.
    let fixture = "taobao_ExportOrderList202611230900.csv";
    let wider = variant(fixture, |i, cells| {
        assert_eq!(cells.len(), 61, "row {i}");
        let o2o = 46;
        let main_order = 60;
        let (before, after): (&[&str], &[&str]) = if i == 0 {
            assert_eq!(
                (&*cells[o2o - 1], &*cells[main_order]),
                ("是否是O2O交易", "主订单编号")
            );
            (
                &["满返红包金额"],
                &[
                    "直播返现状态",
                    "返现金额",
                    "新零售成交门店昵称",
                    "新零售成交门店id",
                    "新零售成交经销商id",
                ],
            )
        } else {
            (&[""], &["", "", "", "", ""])
        };
        for (k, cell) in after.iter().enumerate() {
            cells.insert(main_order + k, (*cell).to_owned());
        }
        cells.insert(o2o, before[0].to_owned());
        assert_eq!(cells.len(), 67);
    });
    let (encoded, _, _) = encoding_rs::GB18030.encode(&wider);
    let config = config("Asia/Shanghai", "CNY", "\"莲叶茶庄分销店\"");
    let wider = Test::new()
        .config(&config)
        .file("ExportOrderList67.csv", encoded)
        .decide_file("ExportOrderList67.csv");
    same_entries(&wider, &decide(fixture, &config));
}

#[test]
fn woocommerce_export_with_status_slugs_reads_like_the_labels() {
    // The exporter can write the status slug instead of its label.
    let slugs = variant("woocommerce_orders.csv", |i, cells| {
        if i > 0 {
            let status = &mut cells[1];
            *status = match status.as_str() {
                "Pending payment" => "pending",
                "On hold" => "on-hold",
                "Processing" => "processing",
                "Completed" => "completed",
                "Cancelled" => "cancelled",
                "Failed" => "failed",
                other => panic!("status {other:?} not in the list"),
            }
            .to_owned();
        }
    });
    let config = config("Europe/Berlin", "NOK", "");
    let slugs = Test::new()
        .config(&config)
        .file("orders.csv", slugs)
        .decide();
    same_entries(&slugs, &decide("woocommerce_orders.csv", &config));
}

#[test]
fn a_seller_override_changes_just_one_entry_of_a_preset() {
    // The reseller is known here by its tag instead of its app id.
    let config = format!(
        "{}\n[columns]\nchannel = \"Tags\"\n\n[statuses]\npaid = [\"paid\", \"authorized\", \"pending\"]\n",
        config("America/Los_Angeles", "USD", "\"max-retail\"")
    );
    let d = decide("shopify_orders_export.csv", &config);
    assert_eq!(
        d.outcome("#1004"),
        "skip:paid",
        "pending now counts as paid"
    );
    assert_eq!(
        d.outcome("#1010"),
        "skip:closed",
        "the other classes keep the preset's words"
    );
    let config = format!(
        "{}\n[columns]\nchannel = \"Tags\"\n",
        self::config("America/Los_Angeles", "USD", "\"max-retail\"")
    );
    let d = decide("shopify_orders_export.csv", &config);
    assert_eq!(
        d.outcome("#1004"),
        "skip:distribution_channel",
        "channel read from Tags"
    );
    assert_eq!(
        d.get("#1012")["buyer_name"],
        "Mia Chen",
        "the other columns keep the preset's"
    );
}

#[test]
fn a_named_format_that_does_not_fit_says_which_column_is_missing() {
    let config = config("Asia/Shanghai", "USD", "")
        .replace("[source]\n", "[source]\nformat = \"woocommerce\"\n");
    Test::new()
        .config(&config)
        .fixture("shopify_orders_export.csv")
        .args(&["run", "--orders", "shopify_orders_export.csv", "--now", NOW])
        .run()
        .failure(2)
        .stderr_has("shopify_orders_export.csv: no column \"Order Number\" for order_id (layout woocommerce, from [source].format)");
}

#[test]
fn init_from_an_export_writes_a_config_for_its_layout() {
    for (fixture, layout, zone) in [
        (
            "shopify_orders_export.csv",
            "shopify",
            "America/Los_Angeles",
        ),
        ("woocommerce_orders.csv", "woocommerce", "Europe/Berlin"),
        ("aliexpress_orders.csv", "aliexpress", "America/Los_Angeles"),
        (
            "taobao_ExportOrderList202611230900.csv",
            "taobao",
            "Asia/Shanghai",
        ),
    ] {
        let test = Test::new().fixture(fixture);
        test.exec(&["init", "--from", fixture]).success();
        let written = std::fs::read_to_string(test.path("payremind.toml")).unwrap();
        assert!(
            written.contains(&format!("format = \"{layout}\"")),
            "{layout}:\n{written}"
        );
        // Untouched, it refuses to run: the shop's name and zone are the seller's to set.
        test.exec(&["run", "--orders", fixture, "--now", NOW])
            .failure(2)
            .stderr_has("[shop].name: is missing");
        crate::support::complete_starter(&test.path("payremind.toml"), "Lotus Leaf", zone);
        if layout == "woocommerce" {
            // An order waits for a direct bank transfer: its buyer must be told where to pay.
            test.exec(&["check", "--orders", fixture, "--now", NOW])
                .failure(2)
                .stdout_has("problem: unpaid orders waiting for a bank transfer: 1, but [shop] bank_details is empty")
                .stdout_has("not ready: 1 problem above");
            crate::support::set_bank_details(&test.path("payremind.toml"));
        }
        test.exec(&["check", "--orders", fixture, "--now", NOW])
            .success()
            .stdout_has("ok: ready");
    }
}

#[test]
fn init_from_a_generic_export_guesses_the_columns() {
    let test = Test::new().file(
        "orders.csv",
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/orders.csv")).unwrap(),
    );
    test.exec(&["init", "--from", "orders.csv"]).success();
    let written = std::fs::read_to_string(test.path("payremind.toml")).unwrap();
    for line in [
        "order_id = \"Order No\"",
        "buyer_id = \"Customer ID\"",
        "email = \"E-mail\"",
        "status = \"Status\"",
        "created_at = \"Order date\"",
        "paid_at = \"Paid on\"",
        "total = \"Total\"",
        "product = \"Item\"",
        "#   \"Awaiting payment\" (16 rows): NOT CLASSED",
    ] {
        assert!(written.contains(line), "{line} missing:\n{written}");
    }
}

#[test]
fn init_from_taobao_sets_the_yuan_and_odd_headers_stay_valid_toml() {
    let test = Test::new().fixture("taobao_ExportOrderList202611230900.csv");
    test.exec(&["init", "--from", "taobao_ExportOrderList202611230900.csv"])
        .success();
    let written = std::fs::read_to_string(test.path("payremind.toml")).unwrap();
    assert!(written.contains("currency = \"CNY\""), "{written}");
    assert!(written.contains("Beijing time"), "{written}");

    let test = Test::new().file(
        "orders.csv",
        "Order\u{200b} ID,Status \"x\",Order date\\time,E-mail\nA1,pending,2026-11-22 10:00,a@example.com\n",
    );
    test.exec(&["init", "--from", "orders.csv"]).success();
    crate::support::complete_starter(&test.path("payremind.toml"), "S", "Asia/Shanghai");
    test.exec(&["check", "--orders", "orders.csv", "--now", NOW])
        .stdout_has("<- \"Status \\\"x\\\"\"");
}

#[test]
fn aliexpress_newer_layout_takes_the_contact_email() {
    let file = "\u{feff}订单号,订单状态,买家名称,联系邮件,下单时间,订单金额\r\n8123,等待买家付款,Ana,ana@example.br,2026-11-22 10:00:00,$ 9.90\r\n";
    let test = Test::new()
        .config(&config("America/Los_Angeles", "USD", ""))
        .file("ali.csv", file);
    let d = Decisions::parse(&test.exec(&[
        "run", "--orders", "ali.csv", "--format", "json", "--now", NOW,
    ]));
    assert_eq!(d.get("8123")["to"], "ana@example.br");
}
