//! The buyer's language: chosen from the export's language column, else the country (ISO code,
//! English or Chinese name), else the layout's marketplace, else `[shop] language`; only the
//! languages the shop sends; the seller's own text of one language; a message per product.

use crate::support::{NOW, Test};

const HEADER: &str = "order_id,buyer_id,buyer_name,email,status,created_at,total,channel,product,close_at,country,language";

/// A shop that sends English, Russian, Brazilian Portuguese and French, with a one-step
/// ladder and the seller's own text of that step in each (so the language shows in the body).
fn shop(extra: &str) -> Test {
    Test::new()
        .config(&format!(
            r#"
[shop]
name = "Test Shop"
sender = "Test Shop <orders@shop.example>"
currency = "USD"
language = "en"
languages = ["en", "ru", "pt_BR", "fr"]
{extra}
[source]
timezone = "Asia/Shanghai"

[templates]
dir = "mine"

[[rules]]
template = "gentle"
"#
        ))
        .file(
            "mine/ru/gentle.txt",
            "Subject: Заказ {{ order.id }}\n\nRU {{ order.total }} / {{ order.total_amount }} {{ order.currency }}\n",
        )
        .file(
            "mine/pt-BR/gentle.txt",
            "Subject: Pedido {{ order.id }}\n\nPT {{ order.total }}\n",
        )
        .file("mine/fr/gentle.txt", "Subject: Commande {{ order.id }}\n\nFR {{ order.total }}\n")
}

fn row(id: &str, country: &str, language: &str) -> String {
    let buyer = id.to_lowercase();
    format!(
        "{id},{buyer},Buyer {id},{buyer}@example.com,pending,2026-11-22 10:00,1234.50,web,Tea,,{country},{language}"
    )
}

#[test]
fn the_language_column_then_the_country_then_the_shop_s_language() {
    let d = shop("[languages]\nby_country = { CH = \"fr\" }\n")
        .orders(
            HEADER,
            &[
                row("C1", "", "ru"),
                row("C2", "US", "pt_BR"),
                row("C3", "Russian Federation", ""),
                row("C4", "俄罗斯", ""),
                row("C5", "BR", ""),
                row("C6", "Germany", ""),
                row("C7", "", ""),
                row("C8", "BR", "Klingon"),
                row("C9", "CH", ""),
                row("C10", "", "Português"),
                row("C11", "", "zh-Hans"),
            ],
        )
        .decide();
    let language = |id: &str| d.get(id)["language"].as_str().unwrap().to_owned();
    // By the column (a tag as exports write it, or a language's name).
    assert_eq!(language("C1"), "ru");
    assert_eq!(language("C2"), "pt-BR", "the column wins over the country");
    assert_eq!(language("C10"), "pt-BR");
    // By the country: an English name, a Chinese name, an ISO code; an empty language cell
    // falls back to the country.
    assert_eq!(language("C3"), "ru");
    assert_eq!(language("C4"), "ru");
    assert_eq!(language("C5"), "pt-BR");
    // [languages] by_country over CLDR's table (Switzerland: German).
    assert_eq!(language("C9"), "fr");
    // German and Chinese are not sent by this shop: its own language.
    assert_eq!(language("C6"), "en");
    assert_eq!(language("C11"), "en");
    // Nothing known: the shop's language.
    assert_eq!(language("C7"), "en");
    // A language nobody knows falls back to the country, and is counted.
    assert_eq!(language("C8"), "pt-BR");
    let warnings = d.summary["warnings"].to_string();
    assert!(
        warnings.contains("1 order had a language payremind does not know (\\\"Klingon\\\" (1))"),
        "{warnings}"
    );
    // Each language's own text, amounts written its way; the raw values stay there.
    // CLDR writes no-break spaces (U+00A0, and U+202F in French) inside amounts.
    // Each body ends with the opt-out line in its own language, after a blank line.
    let full = |id: &str| d.get(id)["body"].as_str().unwrap().to_owned();
    assert!(
        full("C1").ends_with("\n\nЧтобы больше не получать эти напоминания, отправьте письмо со словом «unsubscribe» на адрес orders@shop.example.\n"),
        "{}",
        full("C1")
    );
    let body = |id: &str| {
        let full = full(id);
        let (words, _) = full.rsplit_once("\n\n").unwrap();
        format!("{words}\n").replace(['\u{a0}', '\u{202f}'], " ")
    };
    assert_eq!(body("C1"), "RU 1 234,50 $ / 1234.50 USD\n");
    assert_eq!(body("C5"), "PT US$ 1.234,50\n");
    assert_eq!(body("C9"), "FR 1 234,50 $US\n");
    assert!(body("C7").contains("($1,234.50)"), "{}", body("C7"));
    assert_eq!(d.get("C3")["subject"], "Заказ C3");
    // The summary counts the reminders by language.
    assert_eq!(
        d.summary["languages"],
        serde_json::json!({"en": 3, "fr": 1, "pt-BR": 4, "ru": 3})
    );
}

#[test]
fn without_shop_languages_every_reminder_is_in_the_shop_s_language() {
    let test = Test::new()
        .config(
            "[shop]\nname = \"Test Shop\"\ncurrency = \"EUR\"\n[source]\ntimezone = \"Asia/Shanghai\"\n",
        )
        .orders(HEADER, &[row("D1", "BR", "pt-BR"), row("D2", "Russia", "")]);
    let d = test.preview();
    for id in ["D1", "D2"] {
        assert_eq!(d.get(id)["language"], "en", "{id}");
        assert!(
            d.get(id)["body"].as_str().unwrap().contains("Hello Buyer"),
            "{id}: the built-in English text"
        );
    }
    // The preview shows the language beside the recipient, the summary counts it.
    let outcome = test.exec(&["run", "--orders", "orders.csv", "--now", NOW]);
    outcome
        .success()
        .stdout_has("To: Buyer D1 <d1@example.com> · en\n")
        .stderr_has("reminders by language: en 2\n");
}

#[test]
fn a_seller_s_text_of_one_language_and_the_flat_folder_of_the_shop_s_own() {
    let d = shop("")
        // The flat folder is the shop's own language's (as before languages): English here.
        .file(
            "mine/gentle.txt",
            "Subject: Mine {{ order.id }}\n\nEN mine\n",
        )
        .orders(HEADER, &[row("E1", "RU", ""), row("E2", "US", "")])
        .decide();
    assert!(
        d.get("E1")["body"]
            .as_str()
            .unwrap()
            .starts_with("RU 1\u{a0}234,50\u{a0}$ / 1234.50 USD\n\nЧтобы"),
        "{}",
        d.get("E1")["body"]
    );
    assert_eq!(
        d.get("E2")["body"],
        "EN mine\n\nTo stop these reminders, write \"unsubscribe\" to orders@shop.example.\n"
    );
    assert_eq!(d.get("E2")["language"], "en");
}

#[test]
fn a_language_without_its_own_text_is_written_in_english_and_check_names_the_file() {
    // Polish has no built-in texts: the seller wrote only one step.
    let test = Test::new()
        .config(
            "[shop]\nname = \"Test Shop\"\nsender = \"Test Shop <orders@shop.example>\"\ncurrency = \"PLN\"\nlanguages = [\"en\", \"pl\"]\n[source]\ntimezone = \"Europe/Warsaw\"\n[templates]\ndir = \"mine\"\n",
        )
        .file("mine/pl/gentle.txt", "Subject: Zamówienie {{ order.id }}\n\nPL {{ order.total }}\n")
        .orders(HEADER, &[row("P1", "Poland", "")]);
    let d = test.preview();
    // The built-in ladder's step has no Polish text: the English one, and the entry says so.
    assert_eq!(d.get("P1")["language"], "en");
    let outcome = test.exec(&["check", "--orders", "orders.csv", "--now", NOW]);
    outcome.failure(2).stderr_has(
        "templates/pl/bank_transfer.txt is missing: payremind has no pl text of this step; write mine/pl/bank_transfer.txt, or remove pl from [shop] languages",
    );
}

#[test]
fn a_step_of_the_seller_s_in_one_language_only_is_refused_before_any_message() {
    // The ladder can pick "pillow", written only in Russian: an English buyer would have none.
    let test = shop("")
        .file("mine/ru/pillow.txt", "Subject: Подушка\n\nRU\n")
        .orders(HEADER, &[row("F1", "US", "")]);
    let config = std::fs::read_to_string(test.path("payremind.toml"))
        .unwrap()
        .replace("template = \"gentle\"", "template = \"pillow\"");
    std::fs::write(test.path("payremind.toml"), config).unwrap();
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stderr_has("mine/en/pillow.txt is missing: your step \"pillow\" has no en text");
}

#[test]
fn a_language_setting_that_is_no_language_names_the_key_and_the_shipped_ones() {
    let test = Test::new()
        .config("[shop]\nname = \"S\"\nlanguages = [\"en\", \"Klingon\"]\n[source]\ntimezone = \"Asia/Shanghai\"\n")
        .orders(HEADER, &[row("K1", "", "")]);
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stderr_has("[shop].languages: \"Klingon\" is not a language; write a language tag, one of the built-in en");
    let test = Test::new()
        .config("[shop]\nname = \"S\"\n[languages]\nby_country = { Atlantis = \"en\" }\n[source]\ntimezone = \"Asia/Shanghai\"\n")
        .orders(HEADER, &[row("K1", "", "")]);
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stderr_has(
            "[languages].by_country.Atlantis: \"Atlantis\" is not a country payremind knows",
        );
    // Two letters that name no country (a typo for a code) are refused too.
    let test = Test::new()
        .config("[shop]\nname = \"S\"\n[languages]\nby_country = { XX = \"en\" }\n[source]\ntimezone = \"Asia/Shanghai\"\n")
        .orders(HEADER, &[row("K1", "", "")]);
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .failure(2)
        .stderr_has("[languages].by_country.XX: \"XX\" is no country's ISO code");
}

#[test]
fn a_product_rule_gives_a_product_line_its_own_message() {
    let d = Test::new()
        .config(
            r#"
[shop]
name = "Test Shop"
currency = "USD"
[source]
timezone = "Asia/Shanghai"
[templates]
dir = "mine"
[[rules]]
product = ["*pillow*", "抱枕*"]
template = "pillow"
[[rules]]
template = "gentle"
"#,
        )
        .file("mine/pillow.txt", "Subject: Your pillow\n\nSleep well.\n")
        .orders(
            HEADER,
            &[
                "G1,g1,G,g1@example.com,pending,2026-11-22 10:00,9.90,web,Silk PILLOW grey,,,"
                    .to_owned(),
                "G2,g2,G,g2@example.com,pending,2026-11-22 10:00,9.90,web,抱枕 真丝,,,".to_owned(),
                "G3,g3,G,g3@example.com,pending,2026-11-22 10:00,9.90,web,Longjing tea,,,"
                    .to_owned(),
            ],
        )
        .decide();
    assert_eq!(d.outcome("G1"), "pillow");
    assert_eq!(d.outcome("G2"), "pillow");
    assert_eq!(d.outcome("G3"), "gentle");
}

#[test]
fn the_plain_wording_for_a_buyer_without_marketing_consent_is_in_the_buyer_s_language() {
    let d = Test::new()
        .config(
            "[shop]\nname = \"Test Shop\"\ncurrency = \"RUB\"\nlanguages = [\"en\", \"ru\"]\n[source]\ntimezone = \"Europe/Moscow\"\n",
        )
        .orders(
            "order_id,email,status,created_at,total,product,country,accepts_marketing",
            &[
                "M1,m1@example.ru,pending,2026-11-22 10:00,1234.50,Чай,RU,no",
                "M2,m2@example.ru,pending,2026-11-22 10:00,1234.50,Чай,RU,yes",
            ],
        )
        .decide();
    // An offer step (popular) without consent: the plain wording, in Russian.
    let m1 = d.get("M1");
    assert_eq!(m1["template"], "popular");
    assert_eq!(m1["wording"], "plain");
    assert_eq!(m1["language"], "ru");
    let body = m1["body"].as_str().unwrap();
    assert!(body.contains("1\u{a0}234,50\u{a0}₽"), "{body}");
    assert!(body.contains("Чай"), "{body}");
    // With consent, the step's own Russian wording.
    assert_eq!(d.get("M2")["language"], "ru");
    assert!(d.get("M2")["wording"].is_null());
    assert_ne!(d.get("M2")["body"], m1["body"]);
}

#[test]
fn a_taobao_order_s_amount_is_written_in_yuan_without_shop_currency() {
    // Taobao/Tmall amounts are yuan: the layout says so, so `[shop] currency` is not asked for
    // (and `init` leaves it out of a hand-written config); the Chinese message still needs ¥.
    let fixture = "taobao_ExportOrderList202611230900.csv";
    Test::new()
        .config("[shop]\nname = \"莲叶茶庄\"\nsender = \"莲叶茶庄 <shop@lianye.example>\"\n\n[source]\ntimezone = \"Asia/Shanghai\"\n")
        .fixture(fixture)
        .args(&["run", "--orders", fixture, "--now", "2026-11-23T09:00:00+08:00"])
        .run()
        .success()
        .stdout_has("金额：¥256.00");
}

#[test]
fn a_country_the_zones_list_leaves_out_is_still_read_by_its_name() {
    // AliExpress writes English names, some as ISO 3166 spells them; Angola and Mozambique
    // read Portuguese.
    let d = shop("")
        .orders(
            HEADER,
            &[
                row("A1", "Angola", ""),
                row("A2", "\"Mozambique\"", ""),
                row("A4", "\"Bolivia, Plurinational State of\"", ""),
            ],
        )
        .decide();
    let language = |id: &str| d.get(id)["language"].as_str().unwrap().to_owned();
    assert_eq!(language("A1"), "pt-BR");
    assert_eq!(language("A2"), "pt-BR");
    // Spanish is not among this shop's languages: its own.
    assert_eq!(language("A4"), "en");
}
