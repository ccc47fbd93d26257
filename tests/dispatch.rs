//! Timing (issue 17): dispatch windows for domestic buyers and quiet hours in the buyer's own
//! zone. A Shanghai shop (dispatch at 11:00 and 17:00, a 1 h window, quiet hours 21:00-08:00)
//! runs `run --send` every hour of a day, each time on the export as it stands then: every
//! reminder goes out exactly once, at the hour its rules allow, and closing-soon orders are
//! never held back by a window.

use std::collections::BTreeMap;

use crate::support::{Decisions, GENERIC_CONFIG, GENERIC_HEADER, Test};

const TIMING: &str = r#"
[delivery]
via = "outbox"
outbox = "outbox"

[guard]
max_export_age = "30d"
max_growth = 1000.0
"#;

/// The shop's timing keys, added to `[shop]` and `[select]` of the generic config.
fn config(timing: bool) -> String {
    let shop = if timing {
        "[shop]\ndispatch_times = [\"11:00\", \"17:00\"]\n"
    } else {
        "[shop]\n"
    };
    let mut text = GENERIC_CONFIG.replacen("[shop]\n", shop, 1) + TIMING;
    if timing {
        text += "\n[select]\nsend_before_dispatch = \"1h\"\nquiet_hours = \"21:00-08:00\"\n";
    }
    text
}

fn header() -> String {
    format!("{GENERIC_HEADER},country")
}

/// (order, placed, closes, country, the Shanghai hour of the day its first reminder goes out
/// with the timing keys, and without them).
const ORDERS: &[(&str, &str, &str, &str, u32, u32)] = &[
    // Domestic, or of unknown country: the window before 11:00 (quiet hours end at 08:00).
    ("CN1", "2026-11-22 20:00", "", "CN", 10, 0),
    ("CN2", "2026-11-22 22:00", "", "中国", 10, 0),
    ("UNK", "2026-11-22 23:00", "", "", 10, 1),
    // Placed after the morning window: the one before 17:00.
    ("CN3", "2026-11-23 11:30", "", "China", 16, 14),
    // Cross-border, in their daytime at midnight Shanghai: no window holds them.
    ("US1", "2026-11-22 20:00", "", "United States", 0, 0),
    ("BR1", "2026-11-22 21:00", "", "BR", 0, 0),
    // Due at 07:00 Shanghai = 00:00 Berlin: held until 08:00 Berlin = 15:00 Shanghai.
    ("DE1", "2026-11-23 05:00", "", "Germany", 15, 7),
    // Due at 02:30 Shanghai = 03:30 Tokyo: held until 08:00 Tokyo = 07:00 Shanghai.
    ("JP1", "2026-11-23 00:30", "", "日本", 7, 3),
    // Domestic and closing at 14:30: closing soon from 11:30, sent at once (12:00) although
    // no window is open then.
    ("CS1", "2026-11-23 12:00", "2026-11-23 14:30", "CN", 12, 12),
    // New York at 22:00, closing at midnight there, before its quiet hours end: goes now.
    ("CS2", "2026-11-23 11:00", "2026-11-23 13:00", "US", 11, 11),
    // Tokyo, closing soon from 06:00 Shanghai (07:00 Tokyo, still night there), closing at
    // 10:00 Tokyo, after the night ends at 08:00: held one hour, sent at 07:00 Shanghai.
    ("CS3", "2026-11-23 05:00", "2026-11-23 09:00", "JP", 7, 6),
];

fn row(id: &str, placed: &str, closes: &str, country: &str, status: &str) -> String {
    format!(
        "{id},{id}-b,Buyer {id},{id}@example.com,{status},{placed},10.00,web,Tea,{closes},{country}"
    )
}

/// The export as downloaded at `hour` (Shanghai) of 2026-11-23: the orders placed by then,
/// and a few paid ones.
fn export_at(hour: u32) -> Vec<String> {
    let now = format!("2026-11-23 {hour:02}:00");
    let now = if hour == 24 {
        "2026-11-24 00:00".to_owned()
    } else {
        now
    };
    ORDERS
        .iter()
        .filter(|(_, placed, ..)| **placed <= *now)
        .map(|(id, placed, closes, country, _, _)| row(id, placed, closes, country, "pending"))
        .chain((0..3).map(|i| row(&format!("P{i}"), "2026-11-22 12:00", "", "CN", "paid")))
        .collect()
}

fn instant(hour: u32) -> String {
    if hour == 24 {
        "2026-11-24T00:00:00+08:00".into()
    } else {
        format!("2026-11-23T{hour:02}:00:00+08:00")
    }
}

/// Each order's reminders in a sweep: (Shanghai hour, step).
type Sent = BTreeMap<String, Vec<(u32, String)>>;

/// Sends every hour from 00:00 to 24:00; returns each order's reminders and every run's
/// decisions. No step of an order goes out twice.
fn sweep(test: &Test) -> (Sent, Vec<(u32, Decisions)>) {
    let mut sent = Sent::new();
    let mut runs = Vec::new();
    for hour in 0..=24 {
        test.set_orders(&header(), &export_at(hour));
        let now = instant(hour);
        let outcome = test.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--send",
            "--now",
            &now,
            "--format",
            "json",
        ]);
        assert!(
            outcome.status == 0,
            "{hour}:00: {}\n{}",
            outcome.stderr,
            outcome.stdout
        );
        let decisions = Decisions::parse(&outcome);
        for order in &decisions.orders {
            if order["decision"] == "remind" {
                assert_eq!(order["status"], "sent", "{order}");
                let id = order["order_id"].as_str().unwrap().to_owned();
                let step = order["template"].as_str().unwrap().to_owned();
                let steps = sent.entry(id).or_default();
                assert!(steps.iter().all(|(_, s)| *s != step), "{order} sent twice");
                steps.push((hour, step));
            }
        }
        runs.push((hour, decisions));
    }
    assert_eq!(sent.len(), ORDERS.len(), "{sent:?}");
    (sent, runs)
}

/// The hour of an order's first reminder.
fn first(sent: &Sent, id: &str) -> u32 {
    sent.get(id)
        .and_then(|s| s.first())
        .map(|(h, _)| *h)
        .unwrap()
}

#[test]
fn an_hourly_day_sends_every_reminder_once_at_the_hour_its_window_and_the_buyers_night_allow() {
    let test = Test::new().config(&config(true));
    let (sent, runs) = sweep(&test);
    for (id, _, _, _, hour, _) in ORDERS {
        assert_eq!(first(&sent, id), *hour, "{id}: {sent:?}");
    }
    // Every order held was held with the instant it becomes due, and its next reminder went
    // out at that instant's run.
    for (hour, decisions) in &runs {
        for order in &decisions.orders {
            let reason = order["reason"].as_str().unwrap_or_default();
            let id = order["order_id"].as_str().unwrap();
            if reason == "outside_send_window" || reason == "quiet_hours" {
                let due = order["due_at"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{hour}: {order}"));
                let next = sent[id].iter().find(|(h, _)| h > hour).map(|(h, _)| *h);
                if let Some(next) = next {
                    assert_eq!(due, instant(next), "{id} held at {hour}:00");
                } else {
                    assert!(*due > *instant(24).as_str(), "{id} at {hour}:00: {due}");
                }
            } else {
                assert!(order.get("due_at").is_none(), "{order}");
            }
        }
    }
    let (_, at_nine) = &runs[9];
    assert_eq!(at_nine.outcome("CN1"), "skip:outside_send_window");
    assert_eq!(at_nine.get("CN1")["due_at"], "2026-11-23T10:00:00+08:00");
    let (_, at_six) = &runs[6];
    assert_eq!(at_six.outcome("CS3"), "skip:quiet_hours");
    assert_eq!(at_six.outcome("DE1"), "skip:too_recent");
    // US1's next step (12 h, and 20 h after the first) falls at 07:00 in New York: held to 08:00.
    assert_eq!(
        sent["US1"],
        [(0, "payment_help".into()), (21, "popular".into())]
    );
    let (_, at_eight_pm) = &runs[20];
    assert_eq!(at_eight_pm.outcome("US1"), "skip:quiet_hours");
}

#[test]
fn without_the_timing_keys_every_order_goes_out_as_soon_as_it_is_due() {
    let test = Test::new().config(&config(false));
    let (sent, runs) = sweep(&test);
    for (id, _, _, _, _, hour) in ORDERS {
        assert_eq!(first(&sent, id), *hour, "{id}: {sent:?}");
    }
    for (_, decisions) in &runs {
        assert!(decisions.orders.iter().all(|o| o.get("due_at").is_none()));
    }
}

#[test]
fn templates_see_the_next_dispatch_and_whether_the_parcel_can_still_leave_today() {
    let template = "Subject: Order {{ order.id }}\n\nnext: {{ shop.next_dispatch }}\ntoday: [{{ order.ships_today_if_paid_by }}]\n";
    let test = Test::new()
        .config(
            &(config(true).replacen(
                "[source]",
                "[templates]\ndir = \"templates\"\n\n[source]",
                1,
            )),
        )
        .file("templates/payment_help.txt", template)
        .file("templates/popular.txt", template)
        .orders(&header(), &export_at(10));
    let d = Decisions::parse(&test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-23T10:00:00+08:00",
        "--format",
        "json",
    ]));
    let body = d.get("CN1")["body"].as_str().unwrap().to_owned();
    assert!(
        body.contains("next: 2026-11-23 11:00 (UTC+08:00)"),
        "{body}"
    );
    assert!(body.contains("today: [11:00 (UTC+08:00)]"), "{body}");
    // After the last cutoff of the day: the next is tomorrow's, and nothing leaves today.
    let late = Decisions::parse(&test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-23T17:30:00+08:00",
        "--format",
        "json",
    ]));
    // Berlin at 10:30: cross-border, no window, not night.
    let de = late.get("DE1")["body"].as_str().unwrap().to_owned();
    assert!(de.contains("next: 2026-11-24 11:00 (UTC+08:00)"), "{de}");
    assert!(de.contains("today: []"), "{de}");
}

#[test]
fn the_timing_keys_are_checked() {
    for (extra, key) in [
        (
            "[select]\nsend_before_dispatch = \"1h\"\n",
            "[select].send_before_dispatch",
        ),
        ("[select]\nquiet_hours = \"late\"\n", "[select].quiet_hours"),
    ] {
        let test = Test::new()
            .config(&format!("{}{extra}", config(false)))
            .orders(&header(), &export_at(10));
        let outcome = test.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            "2026-11-23T10:00:00+08:00",
        ]);
        assert_eq!(outcome.status, 2, "{}", outcome.stderr);
        assert!(outcome.stderr.contains(key), "{}", outcome.stderr);
    }
}

#[test]
fn check_counts_todays_reminders_by_send_window() {
    let test = Test::new()
        .config(&config(true))
        .orders(&header(), &export_at(9));
    let outcome = test.exec(&[
        "check",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-23T09:00:00+08:00",
    ]);
    // CN1, CN2, UNK before 11:00; New York (20:00) and Tokyo (10:00) now; São Paulo (22:00)
    // and Berlin (02:00) after their night; CS3 has closed.
    let line = "reminders by send window today (unpaid orders with an address; the ledger and per-buyer rules may skip some): before 11:00 3, later today 2, now 2";
    assert!(
        outcome.stdout.contains(line) || outcome.stderr.contains(line),
        "{}\n{}",
        outcome.stdout,
        outcome.stderr
    );
    let without = Test::new()
        .config(&config(false))
        .orders(&header(), &export_at(9))
        .exec(&[
            "check",
            "--orders",
            "orders.csv",
            "--now",
            "2026-11-23T09:00:00+08:00",
        ]);
    assert!(
        !without.stdout.contains("send window"),
        "{}",
        without.stdout
    );
}

#[test]
fn a_held_reminder_is_due_at_the_first_instant_both_its_window_and_the_buyers_morning_allow() {
    let at = |extra_shop: &str, quiet: &str| {
        let text = config(false).replacen("[shop]\n", &format!("[shop]\n{extra_shop}"), 1)
            + &format!("\n[select]\nsend_before_dispatch = \"1h\"\nquiet_hours = \"{quiet}\"\n");
        let d = Test::new()
            .config(&text)
            .orders(&header(), &export_at(9))
            .decide();
        (d.outcome("CN1"), d.get("CN1")["due_at"].clone())
    };
    let times = "dispatch_times = [\"11:00\", \"17:00\"]\n";
    // 2026-11-23 is a Monday: dispatch on Tuesdays only waits for Tuesday's first window.
    let (outcome, due) = at(
        &format!("{times}dispatch_days = [\"tue\"]\n"),
        "21:00-08:00",
    );
    assert_eq!(outcome, "skip:outside_send_window");
    assert_eq!(due, "2026-11-24T10:00:00+08:00");
    // Quiet hours over the morning window: the afternoon one.
    let (_, due) = at(times, "09:30-12:00");
    assert_eq!(due, "2026-11-23T16:00:00+08:00");
    // In the window at 10:00, but night in Shanghai (CN1's zone) until 10:30.
    let (outcome, due) = at(times, "08:00-10:30");
    assert_eq!(outcome, "skip:outside_send_window");
    assert_eq!(due, "2026-11-23T10:30:00+08:00");
}

#[test]
fn a_region_or_a_zone_column_settles_the_buyers_clock_in_a_country_of_several_zones() {
    // 14:00 UTC: 09:00 in New York (awake), 06:00 in Los Angeles (still night).
    let config = format!("{GENERIC_CONFIG}\n[select]\nquiet_hours = \"21:00-08:00\"\n");
    let header = format!("{GENERIC_HEADER},country,region,buyer_zone");
    let row = |id: &str, region: &str, zone: &str| {
        format!(
            "{id},{id},Buyer {id},{id}@example.com,pending,2026-11-22 10:00,10.00,web,Tea,,US,{region},{zone}"
        )
    };
    let d = Test::new()
        .config(&config)
        .orders(
            &header,
            &[
                row("NY", "NY", ""),
                row("XX", "", ""),
                row("CAL", "CA", ""),
                row("LAZ", "", "America/Los_Angeles"),
                row("OFF", "NY", "-08:00"),
            ],
        )
        .args(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            "2026-11-23T14:00:00Z",
            "--format",
            "json",
        ])
        .run();
    let d = Decisions::parse(&d);
    // No region: the country's most populous zone, New York's.
    assert_eq!(d.outcome("NY"), "popular");
    assert_eq!(d.outcome("XX"), "popular");
    // California's own clock; a zone column, as a name or an offset, wins over the region.
    for id in ["CAL", "LAZ", "OFF"] {
        assert_eq!(d.outcome(id), "skip:quiet_hours", "{id}");
        assert!(d.get(id)["due_at"].is_string(), "{id}");
    }
}

#[test]
fn a_buyer_off_the_shops_clock_is_held_by_quiet_hours_alone() {
    // A New York shop whose only window (10:00-11:00) is 07:00-08:00 in California, inside the
    // quiet hours there every morning: the Californian is held by quiet hours alone, so the
    // reminder goes at 08:00 there. A buyer known only by a zone column, or from a country
    // payremind cannot place, is abroad: no window holds them.
    let config = GENERIC_CONFIG
        .replacen("[shop]\n", "[shop]\ndispatch_times = [\"11:00\"]\n", 1)
        .replace(
            "timezone = \"Asia/Shanghai\"",
            "timezone = \"America/New_York\"",
        )
        + "\n[select]\nsend_before_dispatch = \"1h\"\nquiet_hours = \"21:00-08:00\"\n";
    let header = format!("{GENERIC_HEADER},country,region,buyer_zone");
    let row = |id: &str, country: &str, region: &str, zone: &str| {
        format!(
            "{id},{id},Buyer {id},{id}@example.com,pending,2026-11-22 10:00,10.00,web,Tea,,{country},{region},{zone}"
        )
    };
    let test = Test::new().config(&config).orders(
        &header,
        &[
            row("NY1", "US", "NY", ""),
            row("LA1", "US", "CA", ""),
            row("SP1", "", "", "-03:00"),
            row("UY1", "Uruguay-ish", "", ""),
        ],
    );
    let at = |now: &str| {
        Decisions::parse(&test.exec(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            now,
            "--format",
            "json",
        ]))
    };
    // 11:00 in New York (08:00 in California, 13:00 in São Paulo): the window is closed for
    // the New Yorker; the others are awake and not held by it.
    let d = at("2026-11-23T11:00:00-05:00");
    assert_eq!(d.outcome("NY1"), "skip:outside_send_window");
    assert!(d.get("NY1")["due_at"].is_string());
    assert_eq!(d.outcome("LA1"), "popular");
    assert_eq!(d.outcome("SP1"), "popular");
    assert_eq!(d.outcome("UY1"), "popular");
    // 09:00 in New York is 06:00 in California: quiet hours there.
    let d = at("2026-11-23T09:00:00-05:00");
    assert_eq!(d.outcome("LA1"), "skip:quiet_hours");
    assert!(d.get("LA1")["due_at"].is_string());
}

#[test]
fn hourly_runs_are_not_compared_run_by_run_for_growth() {
    let config = config(true);
    let test = Test::new().config(&config).orders(
        &header(),
        &[row("CN1", "2026-11-22 20:00", "", "CN", "pending")],
    );
    let d = Decisions::parse(&test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-23T10:00:00+08:00",
        "--format",
        "json",
    ]));
    let growth = &d.summary["guard"]["growth"];
    assert_eq!(growth["verdict"], "not_measured", "{growth}");
    assert!(growth["note"].as_str().unwrap().contains("send windows"));
}

#[test]
fn an_empty_list_of_dispatch_days_is_refused_and_any_iso_code_is_a_country() {
    let days = GENERIC_CONFIG.replacen(
        "[shop]\n",
        "[shop]\ndispatch_times = [\"11:00\"]\ndispatch_days = []\n",
        1,
    );
    Test::new()
        .config(&days)
        .orders(GENERIC_HEADER, &[] as &[&str])
        .args(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            "2026-11-23T10:00:00+08:00",
        ])
        .run()
        .failure(2)
        .stderr_has("[shop].dispatch_days");
    let croatia = GENERIC_CONFIG.replacen("[shop]\n", "[shop]\ncountry = \"HR\"\n", 1);
    Test::new()
        .config(&croatia)
        .orders(GENERIC_HEADER, &[] as &[&str])
        .args(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            "2026-11-23T10:00:00+08:00",
        ])
        .run()
        .success();
}
