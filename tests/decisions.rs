//! Every decision of the core issue, in its documented order, on the generic layout.

use crate::support::{GENERIC_CONFIG, GENERIC_HEADER, Test};

fn decide(rows: &[&str]) -> crate::support::Decisions {
    Test::new()
        .config(GENERIC_CONFIG)
        .orders(GENERIC_HEADER, rows)
        .decide()
}

#[test]
fn new_buyer_ladder_at_exact_boundaries() {
    // --now is 2026-11-23 09:00 in Shanghai.
    let d = decide(&[
        "T1,b1,,b1@example.com,pending,2026-11-23 07:00:01,10.00,web,Tea,",
        "T2,b2,,b2@example.com,pending,2026-11-23 07:00:00,10.00,web,Tea,",
        "T3,b3,,b3@example.com,pending,2026-11-22 21:00:01,10.00,web,Tea,",
        "T4,b4,,b4@example.com,pending,2026-11-22 21:00:00,10.00,web,Tea,",
        "T5,b5,,b5@example.com,pending,2026-11-21 09:00:01,10.00,web,Tea,",
        "T6,b6,,b6@example.com,pending,2026-11-21 09:00:00,10.00,web,Tea,",
        "T7,b7,,b7@example.com,pending,2026-11-16 09:00:00,10.00,web,Tea,",
        "T8,b8,,b8@example.com,pending,2026-11-16 08:59:59,10.00,web,Tea,",
    ]);
    assert_eq!(d.outcome("T1"), "skip:too_recent", "1 s short of 2 h");
    assert_eq!(d.outcome("T2"), "payment_help", "exactly 2 h");
    assert_eq!(d.outcome("T3"), "payment_help", "1 s short of 12 h");
    assert_eq!(d.outcome("T4"), "popular", "exactly 12 h");
    assert_eq!(d.outcome("T5"), "popular", "1 s short of 48 h");
    assert_eq!(d.outcome("T6"), "discount", "exactly 48 h");
    assert_eq!(
        d.outcome("T7"),
        "discount",
        "exactly max_age (7 d) is still in"
    );
    assert_eq!(d.outcome("T8"), "skip:too_old", "1 s past max_age");
    assert_eq!(d.get("T2")["age_hours"], 2.0);
    assert_eq!(d.get("T2")["buyer_type"], "new");
}

#[test]
fn status_classes_come_first() {
    let d = decide(&[
        "P1,b1,,b1@example.com,paid,2026-11-22 10:00,10.00,web,Tea,",
        "P2,b2,,b2@example.com,cancelled,2026-11-22 10:00,10.00,web,Tea,",
        "P3,b3,,b3@example.com,Pending,2026-11-23 05:00,10.00,web,Tea,2026-11-23 08:59",
    ]);
    assert_eq!(d.outcome("P1"), "skip:paid");
    assert_eq!(d.outcome("P2"), "skip:closed");
    assert_eq!(d.outcome("P3"), "skip:closed", "close_at has passed");
}

#[test]
fn paid_same_day_uses_the_store_calendar_day_not_utc() {
    // Shanghai is UTC+8. Store day 2026-11-23 runs from 2026-11-22T16:00Z.
    let d = decide(&[
        // Same store day (23rd), different UTC days (22nd 23:30Z vs 23rd 00:30Z).
        "S1,same,,same@example.com,pending,2026-11-23 07:30,10.00,web,Tea,",
        "S2,same,,same@example.com,paid,2026-11-23 08:30,10.00,web,Tea,",
        // Different store days (22nd vs 23rd), same UTC day (22nd).
        "D1,diff,,diff@example.com,pending,2026-11-22 23:30,10.00,web,Tea,",
        "D2,diff,,diff@example.com,paid,2026-11-23 00:10,10.00,web,Tea,",
        // An explicit offset is converted first: 2026-11-22T16:30-08:00 is the 23rd 08:30 here.
        "O1,off,,off@example.com,pending,2026-11-23 04:00,10.00,web,Tea,",
        "O2,off,,off@example.com,paid,2026-11-22T16:30:00-08:00,10.00,web,Tea,",
    ]);
    assert_eq!(d.outcome("S1"), "skip:paid_same_day");
    assert_eq!(
        d.outcome("D1"),
        "skip:paid_later",
        "paid the next store day: not the same day, but a later order"
    );
    assert_eq!(d.outcome("O1"), "skip:paid_same_day");
}

#[test]
fn one_reminder_per_buyer_about_the_latest_order() {
    let d = decide(&[
        "L1,lia,,lia@example.com,pending,2026-11-22 08:00,10.00,web,Tea,",
        "L2,lia,,lia@example.com,pending,2026-11-22 10:00,12.00,web,Tea,",
        "L3,lia,,lia@example.com,pending,2026-11-22 09:00,11.00,web,Tea,",
        // A voided later order must not supersede the earlier pending one.
        "V1,vic,,vic@example.com,pending,2026-11-22 08:00,10.00,web,Tea,",
        "V2,vic,,vic@example.com,cancelled,2026-11-22 11:00,10.00,web,Tea,",
        // A later order that is a distribution order is not a candidate either.
        "W1,wes,,wes@example.com,pending,2026-11-22 08:00,10.00,web,Tea,",
        "W2,wes,,wes@example.com,pending,2026-11-22 11:00,10.00,Reseller,Tea,",
    ]);
    let d_all = d.all();
    assert_eq!(d_all["L1"], "skip:superseded");
    assert_eq!(d_all["L3"], "skip:superseded");
    assert_eq!(d_all["L2"], "popular");
    assert_eq!(d_all["V1"], "popular");
    assert_eq!(d_all["V2"], "skip:closed");
    assert_eq!(
        d_all["W1"], "skip:superseded",
        "no distribution list configured: W2 is a candidate"
    );
    assert_eq!(d_all["W2"], "popular");
}

#[test]
fn distribution_channels_are_matched_case_insensitively() {
    let config = format!("{GENERIC_CONFIG}\n[select]\ndistribution_channels = [\"Reseller\"]\n");
    let d = Test::new()
        .config(&config)
        .orders(
            GENERIC_HEADER,
            &[
                "W1,wes,,wes@example.com,pending,2026-11-22 08:00,10.00,web,Tea,",
                "W2,wes,,wes@example.com,pending,2026-11-22 11:00,10.00, reseller ,Tea,",
            ],
        )
        .decide();
    assert_eq!(d.outcome("W2"), "skip:distribution_channel");
    assert_eq!(
        d.outcome("W1"),
        "popular",
        "the reseller order does not supersede it"
    );
}

#[test]
fn identity_falls_back_to_the_lower_cased_email() {
    let d = decide(&[
        "E1,,Anna,Anna.Lee@Example.com,pending,2026-11-22 08:00,10.00,web,Tea,",
        "E2,,Anna,anna.lee@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "E3,,Anna,ANNA.LEE@EXAMPLE.COM,paid,2026-11-20 10:00,10.00,web,Tea,",
    ]);
    assert_eq!(d.outcome("E1"), "skip:superseded");
    assert_eq!(d.get("E2")["buyer_id"], "anna.lee@example.com");
    assert_eq!(
        d.get("E2")["buyer_type"],
        "returning",
        "the paid order on the 20th counts"
    );
    assert_eq!(d.outcome("E2"), "skip:no_offer_for_returning");
}

#[test]
fn buyer_type_counts_earlier_paid_orders_in_the_export() {
    let d = decide(&[
        "H1,hal,,hal@example.com,paid,2026-10-01 10:00,10.00,web,Tea,",
        "H2,hal,,hal@example.com,paid,2026-10-15 10:00,10.00,web,Tea,",
        "H3,hal,,hal@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        // A paid order placed after this one: this one is left alone.
        "N1,ned,,ned@example.com,pending,2026-11-20 10:00,10.00,web,Tea,",
        "N2,ned,,ned@example.com,paid,2026-11-21 10:00,10.00,web,Tea,",
        // Paid orders placed before it count, closed later ones do not supersede it.
        "R1,rae,,rae@example.com,paid,2026-11-18 10:00,10.00,web,Tea,",
        "R2,rae,,rae@example.com,closed,2026-11-21 10:00,10.00,web,Tea,",
        "R3,rae,,rae@example.com,pending,2026-11-20 10:00,10.00,web,Tea,",
    ]);
    assert_eq!(d.get("H3")["buyer_type"], "loyal");
    assert_eq!(d.outcome("H3"), "loyal");
    assert_eq!(d.outcome("N1"), "skip:paid_later");
    assert_eq!(d.get("R3")["buyer_type"], "returning");
}

#[test]
fn the_exports_own_count_wins_when_mapped() {
    let d = Test::new()
        .config(GENERIC_CONFIG)
        .orders(
            "order_id,email,status,created_at,prior_paid_orders",
            &[
                "C1,c1@example.com,pending,2026-11-22 10:00,0",
                "C2,c2@example.com,pending,2026-11-22 10:00,1",
                "C3,c3@example.com,pending,2026-11-22 10:00,5",
            ],
        )
        .decide();
    assert_eq!(d.outcome("C1"), "popular");
    assert_eq!(d.outcome("C2"), "skip:no_offer_for_returning");
    assert_eq!(d.outcome("C3"), "loyal");
}

#[test]
fn a_returning_buyer_gets_the_perk_when_there_is_one() {
    let config = GENERIC_CONFIG.replace(
        "currency = \"USD\"",
        "currency = \"USD\"\nreturning_perk = \"a free sample\"",
    );
    let d = Test::new()
        .config(&config)
        .orders(
            "order_id,email,status,created_at,prior_paid_orders",
            &["C2,c2@example.com,pending,2026-11-22 10:00,1"],
        )
        .decide();
    assert_eq!(d.outcome("C2"), "returning_perk");
    let body = d.get("C2")["body"].as_str().unwrap();
    assert!(body.contains("a free sample"), "{body}");
}

#[test]
fn closing_soon_overrides_too_recent_but_not_the_window() {
    let d = decide(&[
        "F1,f1,,f1@example.com,pending,2026-11-23 08:45,9.90,flash,Matcha,2026-11-23 11:00",
        "F2,f2,,f2@example.com,pending,2026-11-23 08:45,9.90,flash,Matcha,2026-11-23 12:01",
        "F3,f3,,f3@example.com,pending,2026-11-20 08:45,9.90,flash,Matcha,2026-11-23 12:00",
    ]);
    assert_eq!(d.outcome("F1"), "closing_soon");
    assert_eq!(
        d.outcome("F2"),
        "skip:too_recent",
        "closes in 3 h 1 min: outside the window"
    );
    assert_eq!(
        d.outcome("F3"),
        "closing_soon",
        "exactly 3 h left is inside"
    );
    let subject = d.get("F1")["subject"].as_str().unwrap();
    // The deadline as the message's language writes a date and time, with the store's offset.
    assert!(
        subject.contains("Nov 23, 2026, 11:00 AM GMT+8"),
        "{subject}"
    );
}

#[test]
fn no_contact_for_empty_masked_and_phone_contacts() {
    let d = decide(&[
        "N1,n1,,,pending,2026-11-22 10:00,10.00,web,Tea,",
        "N2,n2,,138****6621,pending,2026-11-22 10:00,10.00,web,Tea,",
        "N3,n3,,j***@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "N4,n4,,'13812340001,pending,2026-11-22 10:00,10.00,web,Tea,",
        "N5,n5,,not an address@,pending,2026-11-22 10:00,10.00,web,Tea,",
    ]);
    for id in ["N1", "N2", "N3", "N4", "N5"] {
        assert_eq!(d.outcome(id), "skip:no_contact", "{id}");
    }
}

#[test]
fn bad_rows_are_reported_and_the_others_go_on() {
    let d = decide(&[
        "B1,b1,,b1@example.com,pending,2026-11-31 10:00,10.00,web,Tea,",
        "B2,b2,,b2@example.com,pending,2026-11-22 10:00,ten dollars,web,Tea,",
        "B3,b3,,b3@example.com,on the way,2026-11-22 10:00,10.00,web,Tea,",
        "6.94178E+12,b4,,b4@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "G1,g1,,g1@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "B5,b5,,b5@example.com,pending,2026-11-22 25:00,10.00,web,Tea,",
    ]);
    let b1 = d.get("B1");
    assert_eq!(b1["reason"], "invalid_row");
    assert_eq!(b1["line"], 2);
    assert_eq!(b1["column"], 6);
    assert_eq!(b1["value"], "2026-11-31 10:00");
    assert!(
        b1["error"]
            .as_str()
            .unwrap()
            .starts_with("created_at is not a valid date")
    );
    assert_eq!(d.get("B2")["column"], 7);
    assert!(
        d.get("B3")["error"]
            .as_str()
            .unwrap()
            .contains("not listed in [statuses]")
    );
    let mangled = d.get("6.94178E+12");
    assert!(
        mangled["error"]
            .as_str()
            .unwrap()
            .contains("do not open and save it in Excel")
    );
    assert_eq!(d.get("B5")["line"], 7);
    assert_eq!(d.outcome("G1"), "popular");
    assert_eq!(d.summary["invalid_rows"], 5);
    assert_eq!(d.summary["skipped"]["invalid_row"], 5);
}

#[test]
fn a_bad_row_poisons_its_whole_order() {
    let d = decide(&[
        "M1,m1,,m1@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "M1,m1,,m1@example.com,pending,2026-11-22 10:00,abc,web,Cup,",
    ]);
    assert_eq!(
        d.orders.len(),
        1,
        "one object: the bad row, no reminder for half an order"
    );
    assert_eq!(d.get("M1")["reason"], "invalid_row");
    assert_eq!(d.get("M1")["line"], 3);
}

#[test]
fn a_multi_row_order_is_decided_once_and_lists_every_product() {
    let d = decide(&[
        "M1,m1,Mia,m1@example.com,pending,2026-11-22 10:00,30.00,web,Green tea,",
        "M1,,,,,,,,Teapot,",
        "M1,,,,,,,,Cups x2,",
        "M2,m2,Max,m2@example.com,pending,2026-11-22 10:00,30.00,web,Green tea,",
    ]);
    assert_eq!(d.orders.len(), 2);
    assert_eq!(d.outcome("M1"), "popular");
    let body = d.get("M1")["body"].as_str().unwrap();
    for product in ["Green tea", "Teapot", "Cups x2"] {
        assert!(body.contains(product), "{product} missing from:\n{body}");
    }
    assert_eq!(d.summary["rows"], 4);
    assert_eq!(d.summary["orders"], 2);
}

#[test]
fn rows_of_one_order_that_disagree_keep_it_quiet() {
    let d = decide(&[
        "M1,m1,Mia,m1@example.com,pending,2026-11-22 10:00,30.00,web,Green tea,",
        "M1,m2,Mia,m2@example.com,paid,2026-11-22 10:00,30.00,web,Teapot,",
        "M2,m3,Max,m3@example.com,pending,2026-11-22 10:00,30.00,web,Tea,",
        "M2,m3,Maxi,m3@example.com,pending,2026-11-22 10:00,30.00,web,Cup,",
    ]);
    let m1 = d.get("M1");
    assert_eq!(m1["reason"], "invalid_row");
    assert_eq!(m1["line"], 3);
    assert!(
        m1["error"]
            .as_str()
            .unwrap()
            .contains("buyer_id \"m2\" contradicts \"m1\" on line 2"),
        "{m1}"
    );
    assert_eq!(
        d.outcome("M2"),
        "popular",
        "a different spelling of the name only warns"
    );
    let warnings = d.summary["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("order M2 has buyer_name \"Maxi\""),
        "{warnings:?}"
    );
}

#[test]
fn an_unreadable_row_keeps_the_buyers_other_orders_quiet() {
    // P2 may be a paid order of the same day, or a later one: reminding P1 could hurt.
    let d = decide(&[
        "P1,pia,,pia@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "P2,pia,,pia@example.com,paid,2026-11-22 11:00,ten,web,Tea,",
        "Q1,,,Quinn@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "Q2,,,quinn@example.com,authorized,2026-11-22 11:00,10.00,web,Tea,",
        "R1,ray,,ray@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
    ]);
    assert_eq!(d.outcome("P1"), "skip:buyer_has_invalid_row");
    assert_eq!(d.outcome("P2"), "skip:invalid_row");
    assert_eq!(d.get("P2")["buyer_id"], "pia");
    assert_eq!(
        d.outcome("Q1"),
        "skip:buyer_has_invalid_row",
        "identity by e-mail, any case"
    );
    assert_eq!(d.outcome("R1"), "popular");
    // Lower-cased the same way for the bad row as for the order (a final sigma once was not).
    let d = decide(&[
        "S1,,,ABCDEFGHIJKLMNOPΣ@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
        "S2,,,ABCDEFGHIJKLMNOPΣ@example.com,paid,2026-11-22 11:00,ten,web,Tea,",
    ]);
    assert_eq!(d.outcome("S1"), "skip:buyer_has_invalid_row");
    assert_eq!(d.get("S1")["buyer_id"], "abcdefghijklmnopς@example.com");
}

#[test]
fn limit_keeps_the_first_reminders_in_export_order() {
    let d = Test::new()
        .config(GENERIC_CONFIG)
        .orders(
            GENERIC_HEADER,
            &[
                "R1,r1,,r1@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
                "R2,r2,,r2@example.com,paid,2026-11-22 10:00,10.00,web,Tea,",
                "R3,r3,,r3@example.com,pending,2026-11-22 10:00,10.00,web,Tea,",
                // The oldest, and the last in the file: the limit goes by the file.
                "R4,r4,,r4@example.com,pending,2026-11-21 09:00,10.00,web,Tea,",
            ],
        )
        .args(&["--limit", "2"])
        .decide();
    assert_eq!(d.outcome("R1"), "popular");
    assert_eq!(d.outcome("R2"), "skip:paid");
    assert_eq!(d.outcome("R3"), "popular");
    assert_eq!(d.outcome("R4"), "skip:over_limit");
    assert_eq!(d.summary["reminders"], 2);
}

#[test]
fn rows_of_one_order_apart_in_the_file_are_still_one_order() {
    // Exports keep an order's rows together and payremind reads them as they come; a file
    // sorted by another column is noticed (M1 comes back) and read whole: the same decisions.
    let d = decide(&[
        "M1,m1,Mia,m1@example.com,pending,2026-11-22 10:00,30.00,web,Green tea,",
        "M2,m2,Max,m2@example.com,pending,2026-11-22 10:00,30.00,web,Tea,",
        "M1,,,,,,,,Teapot,",
        "M3,m3,Ann,m3@example.com,pending,2026-11-22 10:00,30.00,web,Tea,",
        "M2,m9,Max,m2@example.com,pending,2026-11-22 10:00,30.00,web,Cup,",
    ]);
    assert_eq!(d.summary["orders"], 2, "M1 and M3; M2 contradicts itself");
    assert_eq!(d.outcome("M1"), "popular");
    assert_eq!(
        d.get("M1")["products"],
        serde_json::json!(["Green tea", "Teapot"])
    );
    assert_eq!(d.get("M2")["reason"], "invalid_row");
    assert_eq!(d.get("M2")["line"], 6);
    assert_eq!(d.outcome("M3"), "popular");
    let lines: Vec<u64> = d
        .orders
        .iter()
        .map(|o| o["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        [2, 5, 6],
        "file order: orders at their first row, bad rows by line"
    );
}

#[test]
fn a_paid_order_that_is_not_the_buyers_decision_keeps_nobody_quiet() {
    let d = decide(&[
        // A subscription app charged the renewal: the buyer decided nothing about R1.
        "R1,rae,,rae@example.com,pending,2026-11-21 10:00,10.00,web,Tea,",
        "R2,rae,,rae@example.com,paid,2026-11-22 10:00,10.00,subscription_contract,Tea,",
        // The shop made a zero-amount exchange order for the same buyer, after Z1.
        "Z1,zed,,zed@example.com,pending,2026-11-21 10:00,10.00,web,Tea,",
        "Z2,zed,,zed@example.com,paid,2026-11-21 12:00,0.00,web,Tea,",
    ]);
    assert_eq!(d.outcome("R1"), "popular");
    assert_eq!(d.outcome("Z1"), "popular");
    // They still count as paid orders for the buyer's type.
    assert_eq!(d.get("Z1")["buyer_type"], "new", "Z2 was placed after Z1");
}

#[test]
fn paying_an_older_order_after_placing_this_one_is_a_decision_too() {
    // B1 was placed on the 18th and paid on the 20th, after B2 (the 19th) was placed: the
    // buyer chose B1.
    let header = "order_id,buyer_id,email,status,created_at,paid_at,total";
    let d = Test::new()
        .config(GENERIC_CONFIG)
        .orders(
            header,
            &[
                "B1,bea,bea@example.com,paid,2026-11-18 10:00,2026-11-20 09:00,10.00",
                "B2,bea,bea@example.com,pending,2026-11-19 10:00,,10.00",
                // Paid before C2 was placed: C2 is still the buyer's open order.
                "C1,cal,cal@example.com,paid,2026-11-18 10:00,2026-11-18 10:05,10.00",
                "C2,cal,cal@example.com,pending,2026-11-19 10:00,,10.00",
            ],
        )
        .decide();
    assert_eq!(d.outcome("B2"), "skip:paid_later");
    assert_eq!(d.get("C2")["buyer_type"], "returning");
    assert_eq!(d.outcome("C2"), "skip:no_offer_for_returning");
}

#[test]
fn a_tracking_number_or_a_cancellation_means_what_it_says_and_nothing_words_mean_nothing() {
    let header = "order_id,email,status,created_at,total,tracking,cancelled_at,payment_terms";
    let d = Test::new()
        .config(GENERIC_CONFIG)
        .orders(
            header,
            &[
                "K1,k1@example.com,pending,2026-11-22 10:00,10.00,LP00123456789CN,,",
                "K2,k2@example.com,pending,2026-11-22 10:00,10.00,2026-11-22 18:00,,",
                "K3,k3@example.com,pending,2026-11-22 10:00,10.00,,2026-11-22 11:00,",
                "K4,k4@example.com,pending,2026-11-22 10:00,10.00,,,Net 30",
                // What exports and databases write for "nothing".
                "K5,k5@example.com,pending,2026-11-22 10:00,10.00,null,NULL,N/A",
                "K6,k6@example.com,pending,2026-11-22 10:00,10.00,-,0000-00-00 00:00:00,0",
            ],
        )
        .decide();
    assert_eq!(d.outcome("K1"), "skip:already_shipped");
    assert_eq!(d.outcome("K2"), "skip:already_shipped");
    assert_eq!(d.outcome("K3"), "skip:closed");
    assert_eq!(d.outcome("K4"), "skip:payment_terms");
    assert_eq!(d.outcome("K5"), "popular");
    assert_eq!(d.outcome("K6"), "popular");
}

#[test]
fn a_low_stock_product_is_found_by_its_name_whatever_the_quantity() {
    let config = GENERIC_CONFIG.replacen(
        "[shop]\n",
        "[shop]\nlow_stock_products = [\"Glass teapot\"]\n",
        1,
    ) + "\n[[rules]]\nlow_stock = true\ntemplate = \"low_stock\"\n\n[[rules]]\ntemplate = \"gentle\"\n";
    let header = "order_id,email,status,created_at,total,product,quantity";
    let d = Test::new()
        .config(&config)
        .orders(
            header,
            &[
                "L1,l1@example.com,pending,2026-11-22 10:00,10.00,Glass teapot,2",
                "L2,l2@example.com,pending,2026-11-22 10:00,10.00,Tea towel,1",
            ],
        )
        .decide();
    assert_eq!(
        d.get("L1")["products"],
        serde_json::json!(["Glass teapot × 2"])
    );
    assert_eq!(d.outcome("L1"), "low_stock");
    assert_eq!(d.outcome("L2"), "gentle");
}
