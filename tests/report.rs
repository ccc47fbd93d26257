//! `payremind report`: several mornings of exports replayed through `run --send` (outbox, one
//! ledger) and `report --orders`, with a control group; the report's JSON checked number by
//! number against counts made by hand below, its HTML parsed (and rendered in headless
//! Chromium when it is installed).

use serde_json::Value;

use crate::support::Test;

/// Half the buyers held out, with a salt of the test's own. Which buyer falls where is pinned
/// by the hash (SHA-256 of the salt and the buyer id): the ids below were picked for it, and
/// the first morning asserts it.
const CONFIG: &str = r#"
[shop]
name = "Test <Shop> & Co"
sender = "Test Shop <orders@shop.example>"
payment_help_url = "https://shop.example/pay"
currency = "USD"

[source]
timezone = "Asia/Shanghai"

[delivery]
via = "outbox"
outbox = "outbox"

[experiment]
control = "50%"
salt = "report-test"

# Two steps: gentle from 2 h to 30 h, then the final discount.
[[rules]]
template = "gentle"
min_age = "2h"
max_age = "30h"

[[rules]]
template = "discount"
min_age = "30h"
final = true
"#;

const HEADER: &str =
    "order_id,buyer_id,email,status,created_at,paid_at,total,currency,payment_method";

const T0: &str = "2026-11-19T09:00:00+08:00";
const T1: &str = "2026-11-20T09:00:00+08:00";
const T2: &str = "2026-11-21T09:00:00+08:00";
/// The last export: 23 h after the third morning, so its reminders' 24 h are not over.
const T3: &str = "2026-11-22T08:00:00+08:00";

/// Created the day before the first morning (gentle at T0, discount at T2 if still unpaid).
const A: &str = "2026-11-19 06:00";
/// Created on the second morning (gentle at T1).
const B: &str = "2026-11-20 06:00";
/// Created on the third morning (gentle at T2).
const C: &str = "2026-11-21 06:00";
/// Created the evening before the first morning: older than every later export's oldest order.
const OLD: &str = "2026-11-18 20:00";

/// (order, buyer id) — R* are in the reminded group, C* in the control group, P* paid fillers.
const BUYERS: &[(&str, &str)] = &[
    ("R1", "r1-buyer0"),
    ("R2", "r2-buyer1"),
    ("R3", "r3-buyer1"),
    ("R4", "r4-buyer0"),
    ("R5", "r5-buyer0"),
    ("R6", "r6-buyer2"),
    ("R7", "r7-buyer1"),
    ("R8", "r8-buyer0"),
    ("C1", "c1-buyer0"),
    ("C2", "c2-buyer0"),
    ("C3", "c3-buyer2"),
    ("C4", "c4-buyer2"),
    ("P1", "p1-buyer0"),
    ("P2", "p2-buyer0"),
];

fn row(
    id: &str,
    status: &str,
    created: &str,
    paid: &str,
    total: &str,
    currency: &str,
    method: &str,
) -> String {
    let buyer = BUYERS.iter().find(|(o, _)| *o == id).unwrap().1;
    format!("{id},{buyer},{id}@example.com,{status},{created},{paid},{total},{currency},{method}")
}

fn pending(id: &str, created: &str, total: &str, currency: &str, method: &str) -> String {
    row(id, "pending", created, "", total, currency, method)
}

fn paid(id: &str, created: &str, at: &str, total: &str, currency: &str, method: &str) -> String {
    row(id, "paid", created, at, total, currency, method)
}

fn send(test: &Test, rows: &[String], now: &str) -> Value {
    test.set_orders(HEADER, rows);
    let out = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--send",
        "--now",
        now,
        "--format",
        "json",
    ]);
    out.success();
    serde_json::from_str(out.stdout.lines().last().unwrap()).unwrap()
}

fn entries(test: &Test, now: &str) -> Vec<(String, String)> {
    let out = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        now,
        "--format",
        "json",
    ]);
    out.success();
    out.stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "order")
        .map(|v| {
            let what = match v["decision"].as_str().unwrap() {
                "remind" => v["template"].as_str().unwrap().to_owned(),
                _ => format!(
                    "skip:{}:{}",
                    v["reason"].as_str().unwrap(),
                    v["template"].as_str().unwrap_or("")
                ),
            };
            (v["order_id"].as_str().unwrap().to_owned(), what)
        })
        .collect()
}

/// The mornings, replayed; returns the scratch folder with its ledger.
fn replay() -> Test {
    let test = Test::new().config(CONFIG);
    // T0: R1–R4, R7 and C1, C2 are due their gentle reminder.
    let e0 = vec![
        pending("R7", OLD, "15.00", "USD", "card"),
        pending("R1", A, "10.00", "USD", "card"),
        pending("R2", A, "200.00", "CNY", "paypal"),
        pending("R3", A, "100.00", "CNY", "paypal"),
        pending("R4", A, "30.00", "USD", "card"),
        pending("C1", A, "25.00", "USD", "card"),
        pending("C2", A, "35.00", "USD", "card"),
        paid("P1", A, "2026-11-19 07:00", "5.00", "USD", "card"),
    ];
    test.set_orders(HEADER, &e0);
    // The preview shows exactly what the send will do, and writes nothing.
    let preview = entries(&test, T0);
    assert!(
        preview.contains(&("C1".into(), "skip:control_group:gentle".into())),
        "{preview:?}"
    );
    assert!(
        preview.contains(&("R1".into(), "gentle".into())),
        "{preview:?}"
    );
    assert!(
        !test.path("payremind.db").exists(),
        "a dry run writes no ledger"
    );
    // `check` and the preview's summary say how many are held out.
    test.exec(&["check", "--orders", "orders.csv", "--now", T0]).stdout_has(
        "experiment: control group 50% of buyers: 2 of the 7 unpaid orders are theirs, held out",
    );
    test.exec(&["run", "--orders", "orders.csv", "--now", T0])
        .success()
        .stderr_has("control_group");
    let summary = send(&test, &e0, T0);
    assert_eq!(summary["sent"], 5, "R1 R2 R3 R4 R7");
    assert_eq!(summary["skipped"]["control_group"], 2, "C1 C2 held out");

    // T1: R1 paid 6 h after its reminder, R2 exactly 24 h after (the window's edge: in); R5
    // paid at 08:00 but this export still says pending (it is reminded); R7 is gone from this
    // export, which starts at A: it does not cover R7 (partial for it). C1 paid 12 h after.
    let e1 = vec![
        paid("R1", A, "2026-11-19 15:00", "10.00", "USD", "card"),
        paid("R2", A, "2026-11-20 09:00", "200.00", "CNY", "paypal"),
        pending("R3", A, "100.00", "CNY", "paypal"),
        pending("R4", A, "30.00", "USD", "card"),
        paid("C1", A, "2026-11-19 21:00", "25.00", "USD", "card"),
        pending("C2", A, "35.00", "USD", "card"),
        pending("R5", B, "50.00", "CNY", "paypal"),
        pending("R6", B, "40.00", "USD", "card"),
        pending("C3", B, "60.00", "CNY", "paypal"),
        pending("C4", B, "45.00", "USD", "card"),
        paid("P1", A, "2026-11-19 07:00", "5.00", "USD", "card"),
    ];
    let summary = send(&test, &e1, T1);
    assert_eq!(
        summary["sent"], 2,
        "R5 R6 (R3 R4 had gentle; discount from 30 h)"
    );
    // C2 again at gentle (nothing was sent, so the step is still due; only its first hold-out
    // is recorded), C3 and C4 for the first time.
    assert_eq!(summary["skipped"]["control_group"], 3, "C2 C3 C4 held out");

    // T2: R3 paid 24 h 1 min after its reminder (out of the window); R5's payment shows, at
    // 08:00 the day before: before its reminder, not recovered; R6 is gone from a complete
    // export (it holds paid orders and starts at A, before R6): settled as not paid. R4 and C2
    // are due the discount; C3 closed; C4 paid an hour after it was held out.
    let e2 = vec![
        paid("R1", A, "2026-11-19 15:00", "10.00", "USD", "card"),
        paid("R2", A, "2026-11-20 09:00", "200.00", "CNY", "paypal"),
        paid("R3", A, "2026-11-20 09:01", "100.00", "CNY", "paypal"),
        pending("R4", A, "30.00", "USD", "card"),
        paid("C1", A, "2026-11-19 21:00", "25.00", "USD", "card"),
        pending("C2", A, "35.00", "USD", "card"),
        paid("R5", B, "2026-11-20 08:00", "50.00", "CNY", "paypal"),
        row("C3", "cancelled", B, "", "60.00", "CNY", "paypal"),
        paid("C4", B, "2026-11-20 10:00", "45.00", "USD", "card"),
        pending("R8", C, "15.00", "USD", "card"),
        paid("P2", C, "2026-11-21 07:00", "5.00", "USD", "card"),
    ];
    let summary = send(&test, &e2, T2);
    assert_eq!(summary["sent"], 2, "R4 discount, R8 gentle: {summary}");
    assert_eq!(
        summary["skipped"]["control_group"], 1,
        "C2 held out at discount"
    );

    // T3 (report --orders, 23 h after T2): R4 paid 12 h after its discount; R8 and C2 still
    // pending (their 24 h are not over: unknown).
    let e3 = vec![
        paid("R4", A, "2026-11-21 21:00", "30.00", "USD", "card"),
        pending("C2", A, "35.00", "USD", "card"),
        pending("R8", C, "15.00", "USD", "card"),
        paid("P2", C, "2026-11-21 07:00", "5.00", "USD", "card"),
    ];
    test.set_orders(HEADER, &e3);
    test.exec(&[
        "report",
        "--orders",
        "orders.csv",
        "--now",
        T3,
        "--format",
        "json",
    ])
    .success()
    .stderr_has("recorded what orders.csv says of 3 of the 12 orders reminded or held out");
    test
}

/// `report --format json` at T3, with a 1-day window unless `extra` gives another.
fn report(test: &Test, extra: &[&str]) -> Value {
    let window: &[&str] = if extra.contains(&"--window") {
        &[]
    } else {
        &["--window", "1d"]
    };
    let args = [
        &["report", "--now", T3, "--format", "json"][..],
        window,
        extra,
    ]
    .concat();
    let out = test.exec(&args);
    out.success();
    serde_json::from_str(&out.stdout).unwrap()
}

/// `group` checked: sent, orders, settled, paid, not_paid, paid_before, unknown, paid_rate,
/// recovered, median_hours.
#[allow(clippy::too_many_arguments)]
fn expect(
    g: &Value,
    counts: [u64; 7],
    rate: Option<f64>,
    recovered: &[(&str, &str)],
    median: Option<f64>,
    what: &str,
) {
    let names = [
        "sent",
        "orders",
        "settled",
        "paid",
        "not_paid",
        "paid_before",
        "unknown",
    ];
    for (name, want) in names.iter().zip(counts) {
        assert_eq!(g[name], want, "{what}: {name} in {g:#}");
    }
    assert_eq!(g["paid_rate"].as_f64(), rate, "{what}: paid_rate");
    let got: Vec<(String, String)> = g["recovered"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(c, a)| (c.clone(), a.as_str().unwrap().to_owned()))
        .collect();
    let want: Vec<(String, String)> = recovered
        .iter()
        .map(|(c, a)| ((*c).into(), (*a).into()))
        .collect();
    assert_eq!(got, want, "{what}: recovered");
    assert_eq!(g["median_hours"].as_f64(), median, "{what}: median_hours");
}

fn row_of<'a>(rows: &'a Value, value: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == value)
        .unwrap_or_else(|| panic!("no row {value} in {rows:#}"))
}

#[test]
fn the_report_counts_what_later_exports_say_against_the_control_group() {
    let test = replay();
    let r = report(&test, &[]);
    assert_eq!(r["window_hours"], 24);
    assert_eq!(r["control"], "50%");

    // Total, reminded orders (R1–R8; 9 reminders: R4 got two):
    //  R1 paid 6 h after gentle (10.00 USD); R2 paid exactly 24 h after (200.00 CNY);
    //  R4 paid 12 h after its discount (30.00 USD) => 3 paid.
    //  R3 paid 24 h 1 min after (out), R5 paid before its reminder (paid_before), R6 gone
    //  => 3 not paid. R7 (missing from partial exports) and R8 (window not over) unknown.
    //  Rate 3/6; recovered 40.00 USD and 200.00 CNY, never added; median of 6, 12, 24 = 12.
    expect(
        &r["total"]["reminded"],
        [9, 8, 6, 3, 3, 1, 2],
        Some(0.5),
        &[("CNY", "200.00"), ("USD", "40.00")],
        Some(12.0),
        "total reminded",
    );
    // Control (C1–C4; 5 hold-outs: C2 held twice): C1 paid 12 h after (25.00 USD), C4 1 h after
    // (45.00 USD); C3 closed; C2 unknown (held out at T2 again, last seen 23 h later).
    // Rate 2/3; median of 1 and 12 = 6.5.
    expect(
        &r["total"]["control"],
        [5, 4, 3, 2, 1, 0, 1],
        Some(0.6667),
        &[("USD", "70.00")],
        Some(6.5),
        "total control",
    );
    assert_eq!(r["total"]["lift"]["status"], "not enough data");
    assert_eq!(r["total"]["lift"]["difference"], Value::Null);
    // Wilson's 95 % interval of 3/6.
    assert_eq!(
        r["total"]["reminded"]["paid_rate_low"].as_f64(),
        Some(0.1876)
    );
    assert_eq!(
        r["total"]["reminded"]["paid_rate_high"].as_f64(),
        Some(0.8124)
    );

    // By step, reminders (a payment is credited to the last reminder before it):
    // gentle: R1 R2 R3 R4 R7 at T0, R5 R6 at T1, R8 at T2 = 8. Paid R1, R2. Not paid R3 (late),
    //  R4 (the discount came first), R5 (before), R6 (gone). Unknown R7, R8. 2/6.
    let gentle = row_of(&r["by_step"], "gentle");
    expect(
        &gentle["reminded"],
        [8, 8, 6, 2, 4, 1, 2],
        Some(0.3333),
        &[("CNY", "200.00"), ("USD", "10.00")],
        Some(15.0),
        "gentle reminded",
    );
    // gentle held out: C1 C2 at T0, C3 C4 at T1. Paid C1, C4; C2 not (the next step came, unpaid
    //  at T1); C3 closed. 2/4.
    expect(
        &gentle["control"],
        [4, 4, 4, 2, 2, 0, 0],
        Some(0.5),
        &[("USD", "70.00")],
        Some(6.5),
        "gentle control",
    );
    // discount: R4 at T2, paid 12 h later; C2 held at T2, unknown.
    let discount = row_of(&r["by_step"], "discount");
    expect(
        &discount["reminded"],
        [1, 1, 1, 1, 0, 0, 0],
        Some(1.0),
        &[("USD", "30.00")],
        Some(12.0),
        "discount reminded",
    );
    expect(
        &discount["control"],
        [1, 1, 0, 0, 0, 0, 1],
        None,
        &[],
        None,
        "discount control",
    );

    // By payment method, orders: card = R1 R4 (paid) R6 (gone) R7 R8 (unknown): 2/3, six
    // reminders; paypal = R2 (paid) R3 R5: 1/3. Held out: card = C1 C4 (paid) C2 (unknown, held
    // twice); paypal = C3 (closed).
    let card = row_of(&r["by_payment_method"], "card");
    expect(
        &card["reminded"],
        [6, 5, 3, 2, 1, 0, 2],
        Some(0.6667),
        &[("USD", "40.00")],
        Some(9.0),
        "card reminded",
    );
    expect(
        &card["control"],
        [4, 3, 2, 2, 0, 0, 1],
        Some(1.0),
        &[("USD", "70.00")],
        Some(6.5),
        "card control",
    );
    let paypal = row_of(&r["by_payment_method"], "paypal");
    expect(
        &paypal["reminded"],
        [3, 3, 3, 1, 2, 1, 0],
        Some(0.3333),
        &[("CNY", "200.00")],
        Some(24.0),
        "paypal reminded",
    );
    expect(
        &paypal["control"],
        [1, 1, 1, 0, 1, 0, 0],
        Some(0.0),
        &[],
        None,
        "paypal control",
    );
    // Every buyer is new; every message is English: those rows are the total.
    assert_eq!(row_of(&r["by_buyer_type"], "new")["reminded"]["paid"], 3);
    assert_eq!(row_of(&r["by_language"], "en")["control"]["paid"], 2);

    // Recovered by the day of payment (the shop's calendar), reminded orders only.
    let days: Vec<(String, String, String)> = r["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["day"].as_str().unwrap().into(),
                d["currency"].as_str().unwrap().into(),
                d["amount"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-19".into(), "USD".into(), "10.00".into()),
            ("2026-11-20".into(), "CNY".into(), "200.00".into()),
            ("2026-11-21".into(), "USD".into(), "30.00".into()),
        ]
    );

    // A wider window takes R3 in: 4 paid of 6.
    let wide = report(&test, &["--window", "2d"]);
    assert_eq!(wide["total"]["reminded"]["paid"], 4);
    // Only the reminders of the first morning.
    let first = report(&test, &["--until", "2026-11-19"]);
    assert_eq!(first["total"]["reminded"]["orders"], 5, "R1 R2 R3 R4 R7");
    assert_eq!(first["total"]["control"]["orders"], 2, "C1 C2");

    // The text and CSV say the same.
    let text = test.exec(&["report", "--now", T3, "--window", "1d"]);
    text.success()
        .stdout_has("not enough data")
        .stdout_has("40.00 USD");
    let csv = test.exec(&["report", "--now", T3, "--window", "1d", "--format", "csv"]);
    csv.success()
        .stdout_has("total,all,reminded,9,8,6,3,3,1,2,0.5,");
    // A report without --orders reads only: the ledger is not changed.
    let ledger = std::fs::read(test.path("payremind.db")).unwrap();
    assert_eq!(report(&test, &[]), r);
    assert_eq!(std::fs::read(test.path("payremind.db")).unwrap(), ledger);
}

#[test]
fn a_bad_flag_or_key_names_itself() {
    let test = Test::new().config(CONFIG);
    test.exec(&["report", "--window", "soon"])
        .failure(2)
        .stderr_has("--window \"soon\"");
    test.exec(&["report", "--since", "19/11"])
        .failure(2)
        .stderr_has("--since \"19/11\" is not a day");
    test.exec(&["report", "--since", "2026-11-30", "--until", "2026-11-01"])
        .failure(2)
        .stderr_has("--until \"2026-11-01\" is before --since 2026-11-30");
    let test = Test::new().config(&CONFIG.replace("\"50%\"", "\"80%\""));
    test.exec(&["report"])
        .failure(2)
        .stderr_has("[experiment].control");
}

/// Parses an HTML page with Python's `html.parser`: every element closed in order (void
/// elements apart), no script, nothing fetched from the network. Returns the page's text.
const PARSE: &str = r#"
import html.parser, json, sys
VOID = {"meta", "br", "hr", "img", "input", "link", "rect", "line", "path", "circle"}
class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.text, self.problems, self.tags = [], [], [], set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href") or (value and "url(" in value):
                self.problems.append(f"{tag} {name}={value}")
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()
    def handle_data(self, data):
        self.text.append(data)
page = Page()
page.feed(sys.stdin.read())
page.close()
if page.stack:
    page.problems.append(f"never closed: {page.stack}")
print(json.dumps({"problems": page.problems, "text": " ".join(page.text), "tags": sorted(page.tags)}))
"#;

#[test]
fn the_html_page_stands_alone_and_shows_the_figures() {
    let test = replay();
    test.exec(&[
        "report",
        "--now",
        T3,
        "--window",
        "1d",
        "--format",
        "html",
        "--out",
        "report.html",
    ])
    .success();
    let page = std::fs::read_to_string(test.path("report.html")).unwrap();
    // The shop's name is the seller's text: escaped, never markup.
    assert!(
        page.contains("Test &lt;Shop&gt; &amp; Co: what the reminders earned"),
        "{page}"
    );
    assert!(!page.contains("<Shop>"));
    assert!(!page.contains("<script"), "no script");
    assert!(!page.contains("https://"), "nothing fetched");

    let python = crate::support::smtp::python();
    let mut child = std::process::Command::new(python)
        .args(["-c", PARSE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), page.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["problems"], serde_json::json!([]), "{page}");
    let text = parsed["text"].as_str().unwrap();
    for figure in [
        "Test <Shop> & Co: what the reminders earned",
        "50.0% (3 of 6)",        // reminded paid rate, total
        "66.7% (2 of 3)",        // control
        "not enough data",       // the lift
        "200.00 CNY, 40.00 USD", // recovered, per currency
        "33.3%",                 // gentle, reminded
        "18.8%–81.2%",           // Wilson's interval of 3/6
        "30.00 USD on 2026-11-21",
    ] {
        assert!(text.contains(figure), "the page lacks {figure:?}:\n{text}");
    }
    let tags = parsed["tags"].as_array().unwrap();
    for tag in ["svg", "rect", "line", "table"] {
        assert!(tags.iter().any(|t| t == tag), "no <{tag}> in {tags:?}");
    }
    // The discount's control group has no settled hold-out: no bar, "n/a".
    assert!(text.contains("n/a"));

    render_in_chromium(&test, "report.html");
}

/// Renders the page in headless Chromium (Debian's `/usr/bin/chromium`) when it is installed:
/// the browser must load it without the network and lay out the charts.
fn render_in_chromium(test: &Test, page: &str) {
    let chromium = std::path::Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("skipped: the headless Chromium check (/usr/bin/chromium is not installed)");
        return;
    }
    let profile = test.path("chromium-profile");
    let url = format!("file://{}", test.path(page).display());
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            &url,
        ])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains("what the reminders earned") && dom.contains("<svg"),
        "{dom}"
    );
    assert!(dom.contains("not enough data"));
    let shot = test.path("report.png");
    let out = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.display()),
            "--window-size=1000,1400",
            &format!("--screenshot={}", shot.display()),
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a screenshot of {} bytes",
        png.len()
    );
}

/// Enough orders for a lift: 80 buyers, of whom the hash holds out 42 (pinned: the run must
/// hold out exactly these many); the first 19 reminded (of 38) and the first 9 held out (of
/// 42), in order-id order, pay 10.00 USD six hours after the morning; the rest are still
/// unpaid a day later, when the 24 h window is over for all of them.
#[test]
fn with_enough_orders_the_lift_has_a_number_and_an_interval() {
    let test = Test::new().config(CONFIG);
    let ids: Vec<String> = (0..80).map(|i| format!("L{i:03}")).collect();
    let line = |id: &str, status: &str, paid: &str| {
        let buyer = format!("lift-b{}", &id[1..]);
        format!("{id},{buyer},{id}@example.com,{status},{A},{paid},10.00,USD,card")
    };
    let e0: Vec<String> = ids.iter().map(|id| line(id, "pending", "")).collect();
    test.set_orders(HEADER, &e0);
    let morning = entries(&test, T0);
    let held: Vec<&String> = ids
        .iter()
        .filter(|id| {
            morning
                .iter()
                .any(|(o, what)| o == *id && what.starts_with("skip:control_group"))
        })
        .collect();
    assert_eq!(
        held.len(),
        42,
        "the hash holds out 42 of these 80 buyers at 50%"
    );
    let summary = send(&test, &e0, T0);
    assert_eq!(
        (
            summary["sent"].as_u64(),
            summary["skipped"]["control_group"].as_u64()
        ),
        (Some(38), Some(42))
    );

    let reminded: Vec<&String> = ids.iter().filter(|id| !held.contains(id)).collect();
    let paid: Vec<&String> = reminded
        .iter()
        .take(19)
        .chain(held.iter().take(9))
        .copied()
        .collect();
    let e1: Vec<String> = ids
        .iter()
        .map(|id| {
            if paid.contains(&id) {
                line(id, "paid", "2026-11-19 15:00")
            } else {
                line(id, "pending", "")
            }
        })
        .collect();
    test.set_orders(HEADER, &e1);
    test.exec(&["report", "--orders", "orders.csv", "--now", T1])
        .success();
    let out = test.exec(&["report", "--now", T1, "--window", "1d", "--format", "json"]);
    out.success();
    let r: Value = serde_json::from_str(&out.stdout).unwrap();
    // 19/38 = 0.5 (Wilson 0.3485–0.6515); 9/42 = 0.2143 (0.1171–0.3594).
    expect(
        &r["total"]["reminded"],
        [38, 38, 38, 19, 19, 0, 0],
        Some(0.5),
        &[("USD", "190.00")],
        Some(6.0),
        "reminded",
    );
    expect(
        &r["total"]["control"],
        [42, 42, 42, 9, 33, 0, 0],
        Some(0.2143),
        &[("USD", "90.00")],
        Some(6.0),
        "control",
    );
    let lift = &r["total"]["lift"];
    assert_eq!(lift["status"], "ok");
    // 0.5 − 0.2143 = 0.2857; Newcombe's hybrid score interval 0.0759 to 0.4657.
    assert_eq!(
        (
            lift["difference"].as_f64(),
            lift["low"].as_f64(),
            lift["high"].as_f64()
        ),
        (Some(0.2857), Some(0.0759), Some(0.4657))
    );
    // 0.2857 × 38 settled reminded orders.
    assert_eq!(lift["incremental_orders"].as_f64(), Some(10.86));
    // 190.00 USD × 0.2857 / 0.5, and the limits scaled alike.
    assert_eq!(
        lift["incremental_revenue"]["USD"],
        serde_json::json!({"estimate": "108.57", "low": "28.85", "high": "176.98"})
    );
    test.exec(&["report", "--now", T1, "--window", "1d"])
        .success()
        .stdout_has("lift      +28.6 points (95% CI +7.6 to +46.6)")
        .stdout_has("incremental revenue 108.57 USD (95% CI 28.85 to 176.98)");
}

/// A ledger from the release before the report (schema 5: the suppression list, no
/// exposures or observations) is read as having recorded no hold-outs and no exports: the
/// reminders it sent still count, and `report --orders` migrates it to schema 6.
#[test]
fn a_schema_5_ledger_is_read_then_migrated() {
    let test = Test::new().config(CONFIG);
    send(
        &test,
        &[
            pending("R1", A, "10.00", "USD", "card"),
            pending("C1", A, "25.00", "USD", "card"),
        ],
        T0,
    );
    let db = rusqlite::Connection::open(test.path("payremind.db")).unwrap();
    db.execute_batch("DROP TABLE exposures; DROP TABLE observations; PRAGMA user_version = 5;")
        .unwrap();
    drop(db);
    let r = report(&test, &[]);
    assert_eq!(r["total"]["reminded"]["sent"], 1, "R1: {r:#}");
    assert_eq!(
        r["total"]["control"]["sent"], 0,
        "no hold-out recorded: {r:#}"
    );
    test.set_orders(
        HEADER,
        &[paid("R1", A, "2026-11-19 15:00", "10.00", "USD", "card")],
    );
    test.exec(&["report", "--orders", "orders.csv", "--now", T1])
        .success();
    let version: i32 = rusqlite::Connection::open(test.path("payremind.db"))
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    let r = report(&test, &[]);
    assert_eq!(
        r["total"]["reminded"]["paid"], 1,
        "R1 paid 6 h after: {r:#}"
    );
}

/// A filtered export settles nothing: one of last week's orders (paid and unpaid, but placed
/// before the reminded ones), or of paid orders only, is not complete for the reminded
/// orders it leaves out. An export of both statuses whose dates cover them is.
#[test]
fn a_filtered_export_never_settles_an_order_as_not_paid() {
    let test = Test::new().config(CONFIG);
    send(
        &test,
        &[
            pending("R1", A, "10.00", "USD", "card"),
            pending("C1", A, "25.00", "USD", "card"),
            paid("P1", A, "2026-11-19 07:00", "5.00", "USD", "card"),
        ],
        T0,
    );
    let record = |rows: &[String], now: &str, says: &str| {
        test.set_orders(HEADER, rows);
        test.exec(&["report", "--orders", "orders.csv", "--now", now])
            .success()
            .stderr_has(says);
    };
    let older = "2026-11-12 10:00";
    // Last week's orders, both statuses: they end before R1 and C1 were placed.
    record(
        &[
            paid("P1", older, "2026-11-12 11:00", "5.00", "USD", "card"),
            pending("P2", older, "5.00", "USD", "card"),
        ],
        T1,
        "(0 gone from it, settled as not paid)",
    );
    // Paid orders only, whose dates cover R1 and C1.
    record(
        &[
            paid("P1", OLD, "2026-11-18 21:00", "5.00", "USD", "card"),
            paid("P2", B, "2026-11-20 07:00", "5.00", "USD", "card"),
        ],
        T1,
        "(0 gone from it, settled as not paid)",
    );
    let r = report(&test, &[]);
    for group in ["reminded", "control"] {
        let g = &r["total"][group];
        assert_eq!(
            (g["settled"].as_u64(), g["unknown"].as_u64()),
            (Some(0), Some(1)),
            "{group}: {g:#}"
        );
    }
    // Both statuses, and dates on both sides of R1 and C1: they are gone.
    record(
        &[
            paid("P1", OLD, "2026-11-18 21:00", "5.00", "USD", "card"),
            pending("P2", B, "5.00", "USD", "card"),
        ],
        T2,
        "(2 gone from it, settled as not paid)",
    );
}

/// An order reminded before the experiment began and held out at its next step got a
/// reminder: it counts with the reminded orders, never with the control group.
#[test]
fn an_order_once_reminded_is_never_in_the_control_group() {
    let test = Test::new().config(&CONFIG.replace("control = \"50%\"", ""));
    let orders = [
        pending("R1", A, "10.00", "USD", "card"),
        pending("C1", A, "25.00", "USD", "card"),
    ];
    assert_eq!(send(&test, &orders, T0)["sent"], 2, "no experiment yet");
    // The experiment starts: C1's buyer is held out at the discount, R1 gets it.
    std::fs::write(test.path("payremind.toml"), CONFIG).unwrap();
    let mut orders = orders.to_vec();
    orders.push(pending("R8", C, "15.00", "USD", "card"));
    let summary = send(&test, &orders, T2);
    assert_eq!(summary["skipped"]["control_group"], 1, "C1: {summary}");
    let r = report(&test, &[]);
    let (reminded, control) = (&r["total"]["reminded"], &r["total"]["control"]);
    assert_eq!(reminded["orders"], 3, "R1 C1 R8: {r:#}");
    assert_eq!(control["orders"], 0, "C1 was reminded: {r:#}");
    assert_eq!(
        row_of(&r["by_step"], "discount")["control"]["sent"],
        0,
        "{r:#}"
    );
}

/// Without the export's paid time, a payment first seen three days after the reminder may have
/// been made on the first day or the third: with a 1-day window its outcome is not known
/// (never "not paid"); with a 7-day window it is paid either way.
#[test]
fn a_payment_without_its_time_seen_late_is_unknown_not_unpaid() {
    let test = Test::new().config(CONFIG);
    send(
        &test,
        &[
            pending("R1", A, "10.00", "USD", "card"),
            pending("C1", A, "25.00", "USD", "card"),
        ],
        T0,
    );
    test.set_orders(
        HEADER,
        &[
            paid("R1", A, "", "10.00", "USD", "card"),
            paid("C1", A, "", "25.00", "USD", "card"),
            pending("P1", B, "5.00", "USD", "card"),
        ],
    );
    let later = "2026-11-22T09:00:00+08:00";
    test.exec(&["report", "--orders", "orders.csv", "--now", later])
        .success();
    let report = |window: &str| -> Value {
        let out = test.exec(&[
            "report", "--now", later, "--window", window, "--format", "json",
        ]);
        out.success();
        serde_json::from_str(&out.stdout).unwrap()
    };
    let r = report("1d");
    for group in ["reminded", "control"] {
        let g = &r["total"][group];
        assert_eq!(
            (g["settled"].as_u64(), g["unknown"].as_u64()),
            (Some(0), Some(1)),
            "{group}: {g:#}"
        );
    }
    let r = report("7d");
    assert_eq!(r["total"]["reminded"]["paid"], 1, "{r:#}");
    assert_eq!(r["total"]["control"]["paid"], 1, "{r:#}");
}

/// Without a ledger the report says why it is empty.
#[test]
fn without_a_ledger_the_report_says_so() {
    let test = Test::new().config(CONFIG);
    test.exec(&["report", "--now", T3])
        .success()
        .stderr_has("nothing to report: there is no ledger yet at payremind.db");
    assert!(!test.path("payremind.db").exists());
    // At the wall clock's time, shown to the second (no nanoseconds).
    let out = test.exec(&["report", "--format", "json"]);
    let r: Value = serde_json::from_str(&out.success().stdout).unwrap();
    let now = r["now"].as_str().unwrap();
    assert!(!now.contains('.') && now.len() == 25, "{now}");
}

/// A salt changed mid-experiment (here: the shop renamed, the salt left to default to its
/// name) moves buyers between the groups: the next sending run says so, once.
#[test]
fn a_changed_salt_is_warned_about() {
    let config = CONFIG.replace("salt = \"report-test\"\n", "");
    let test = Test::new().config(&config);
    let orders = [
        pending("R1", A, "10.00", "USD", "card"),
        pending("C1", A, "25.00", "USD", "card"),
    ];
    send(&test, &orders, T0);
    std::fs::write(
        test.path("payremind.toml"),
        config.replace("Test <Shop> & Co", "Test Shop & Co"),
    )
    .unwrap();
    let mut orders = orders.to_vec();
    orders.push(pending("R5", B, "50.00", "CNY", "paypal"));
    test.set_orders(HEADER, &orders);
    let run = ["run", "--orders", "orders.csv", "--send", "--now", T1];
    test.exec(&run).success().stderr_has(
        "warning: [experiment] changed since the last sending run with a control group (control 50%, salt \"Test <Shop> & Co\"; now control 50%, salt \"Test Shop & Co\")",
    );
    let again = test.exec(&run);
    assert!(
        !again.stderr.contains("[experiment] changed"),
        "{}",
        again.stderr
    );
}

/// `--out` never replaces the ledger, a file beside it, the config or the export.
#[test]
fn the_report_never_overwrites_the_ledger_or_the_export() {
    let test = Test::new().config(CONFIG);
    send(&test, &[pending("R1", A, "10.00", "USD", "card")], T0);
    let ledger = std::fs::read(test.path("payremind.db")).unwrap();
    let orders = std::fs::read(test.path("orders.csv")).unwrap();
    for (out, what) in [
        ("payremind.db", "is the ledger or a file of it"),
        ("./payremind.db.id", "is the ledger or a file of it"),
        ("payremind.toml", "is the config"),
        ("orders.csv", "is the export --orders reads"),
    ] {
        test.exec(&[
            "report",
            "--orders",
            "orders.csv",
            "--now",
            T1,
            "--out",
            out,
        ])
        .failure(2)
        .stderr_has(&format!("--out \"{out}\" {what}"));
    }
    assert_eq!(std::fs::read(test.path("payremind.db")).unwrap(), ledger);
    assert_eq!(std::fs::read(test.path("orders.csv")).unwrap(), orders);
    assert_eq!(report(&test, &[])["total"]["reminded"]["sent"], 1);
}

/// A ledger reached through a symbolic link keeps its files where the link leads: `--out`
/// naming one of those is refused too (a replaced identity sidecar stops every later send).
#[cfg(unix)]
#[test]
fn the_report_never_overwrites_the_files_of_a_symlinked_ledger() {
    let test = Test::new().config(&format!("{CONFIG}\n[ledger]\npath = \"link.db\"\n"));
    std::fs::create_dir(test.path("data")).unwrap();
    std::os::unix::fs::symlink(test.path("data/real.db"), test.path("link.db")).unwrap();
    send(&test, &[pending("R1", A, "10.00", "USD", "card")], T0);
    let sidecar = std::fs::read(test.path("data/real.db.id")).unwrap();
    for out in ["data/real.db", "data/real.db.id"] {
        test.exec(&["report", "--out", out])
            .failure(2)
            .stderr_has("is the ledger or a file of it");
    }
    assert_eq!(
        std::fs::read(test.path("data/real.db.id")).unwrap(),
        sidecar
    );
}
