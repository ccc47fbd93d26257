//! Property tests over the whole ingest-to-render path: arbitrary bytes and mutated real
//! exports must never panic or hang; they either decide or fail with an error a seller can read.
//!
//! `PROPTEST_CASES=20000 cargo test --release fuzz` runs a longer campaign.

use std::path::Path;

use payremind::config::{Config, Settings};
use payremind::ingest::{self, Source};
use payremind::render::Templates;
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "shopify_orders_export.csv",
    "woocommerce_orders.csv",
    "aliexpress_orders.csv",
    "taobao_ExportOrderList202611230900.csv",
    "gb18030.csv",
    "utf16le.csv",
];

fn settings() -> Settings {
    let text =
        "[shop]\nname = \"Fuzz\"\ncurrency = \"USD\"\n[source]\ntimezone = \"Asia/Shanghai\"\n";
    let path = Path::new("fuzz.toml");
    Settings::resolve(Config::parse(text, path).unwrap(), Some(path)).unwrap()
}

/// What both readings must agree on for an item: line, order number, buyer, total, products.
type Seen = (u64, String, String, Option<String>, Vec<String>);

/// Runs the pipeline on `bytes`; panics are the failure, errors are fine.
fn pipeline(bytes: Vec<u8>) {
    let settings = settings();
    let templates = Templates::load(&settings).unwrap();
    let now = payremind::clock::parse_instant("2026-11-23T09:00:00+08:00").unwrap();
    let source = Source::from_bytes("fuzz.csv", bytes);
    if let Ok(ingested) = ingest::read(&source, &settings) {
        let memory = payremind::ledger::Memory::default();
        let options = payremind::Options::all(&memory);
        let entries = payremind::decide(&source, &settings, &templates, now, &options).unwrap();
        // The two streamed passes see what one whole read sees: every order at its first line,
        // with the same number, buyer, total and products, and every bad row, in file order.
        let mut whole: Vec<Seen> = ingested
            .orders
            .iter()
            .map(|o| {
                (
                    o.line,
                    o.id.to_string(),
                    o.buyer.to_string(),
                    o.total.as_ref().map(ToString::to_string),
                    o.products.iter().map(ToString::to_string).collect(),
                )
            })
            .collect();
        whole.extend(ingested.invalid.iter().map(|r| {
            (
                r.line,
                r.order_id.clone(),
                r.buyer.clone(),
                None,
                Vec::new(),
            )
        }));
        // Items on one line (records split by a lone CR) may come in either order.
        whole.sort();
        let mut streamed: Vec<Seen> = entries
            .iter()
            .map(|e| {
                (
                    e.line,
                    e.order_id.to_string(),
                    e.buyer_id.to_string(),
                    e.total.as_ref().map(ToString::to_string),
                    e.products.iter().map(ToString::to_string).collect(),
                )
            })
            .collect();
        assert!(
            streamed.windows(2).all(|pair| pair[0].0 <= pair[1].0),
            "in file order"
        );
        streamed.sort();
        assert_eq!(streamed, whole);
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A mutation of a real export: bytes changed, CSV-significant bytes inserted, a cut.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop_oneof![
        Just(b'"'),
        Just(b','),
        Just(b';'),
        Just(b'\n'),
        Just(b'\r'),
        Just(b'='),
        Just(b'\''),
        Just(0xFF),
        Just(0xE4),
        any::<u8>()
    ];
    prop_oneof![
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), special).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Remove),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let at = |i: usize| i % bytes.len();
        match *m {
            Mutation::Set(i, b) => {
                let i = at(i);
                bytes[i] = b;
            }
            Mutation::Insert(i, b) => {
                let i = at(i);
                bytes.insert(i, b);
            }
            Mutation::Remove(i) => {
                let i = at(i);
                bytes.remove(i);
            }
            Mutation::Truncate(i) => {
                let i = at(i);
                bytes.truncate(i);
            }
        }
    }
    bytes
}

/// One row of a generic export, each cell drawn from values sellers' files really hold, good
/// and bad: few order numbers and buyers, so orders span rows (agreeing or not), come back
/// later (scattered), and buyers have several orders.
fn plausible_row() -> impl Strategy<Value = String> {
    let pick = |values: &'static [&'static str]| proptest::sample::select(values);
    (
        (0..8u8, pick(&["", "B1", "B2", "b2", "B3"]), pick(&["Ann", "Ann ", "Bo\u{3000}", ""])),
        pick(&[
            "ann@example.com",
            "ANN@Example.com",
            "ABCDEFGHIJKLMNOPΣ@example.com",
            "a***@example.com",
            "",
            "bo@example.org",
        ]),
        pick(&["pending", "Pending", " paid", "cancelled", "authorized", "mystery"]),
        pick(&[
            "2026-11-21 19:00:00",
            "2026-11-21 19:00",
            "2026-11-22T08:05:00+08:00",
            "2026-11-22 08:05:00 +0800",
            "2026/11/22 8:05",
            "2026-03-08 02:30",
            "2026-11-31 10:00",
            "",
        ]),
        pick(&["", "2026-11-21 20:00:00", "yesterday"]),
        pick(&["128.00", "49,90", "¥1,234.50", "1.2E+3", "abc", ""]),
        pick(&["USD", "usd", ""]),
        pick(&["web", "reseller", "Reseller "]),
        pick(&["Tea", "\"Tea, green\"", "\"two\nlines\"", ""]),
    )
        .prop_map(
            |((id, buyer, name), email, status, created, paid, total, currency, channel, product)| {
                format!(
                    "{},{buyer},{name},{email},CN,{status},{created},{paid},\"{total}\",{currency},{channel},{product}\n",
                    1000 + u32::from(id)
                )
            },
        )
}

proptest! {
    #[test]
    fn plausible_generic_exports_decide_as_one_whole_read_does(
        rows in proptest::collection::vec(plausible_row(), 0..30),
        crlf in any::<bool>(),
    ) {
        let mut text = String::from(
            "order_id,buyer_id,buyer_name,email,country,status,created_at,paid_at,total,currency,channel,product\n",
        );
        text.extend(rows);
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        pipeline(text.into_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        pipeline(bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in "(order_id,status,created_at,email,total\n)?([a-z0-9 \",;\r\n'=@.:-]{0,40}\n){0,20}") {
        pipeline(text.into_bytes());
    }

    #[test]
    fn mutated_real_exports_never_panic(
        which in 0..FIXTURES.len(),
        mutations in proptest::collection::vec(mutation(), 1..8),
    ) {
        pipeline(mutate(fixture(FIXTURES[which]), &mutations));
    }
}
