//! What real files look like: BOMs, CRLF, quoted newlines, other encodings, Excel's wrappers,
//! and files that are not order exports at all.

use crate::support::{Decisions, GENERIC_CONFIG, NOW, Test};

/// The decisions for an export whose bytes are `contents`, under the generic config.
fn decide_text(contents: impl AsRef<[u8]>) -> Decisions {
    Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", contents)
        .decide()
}

#[test]
fn bom_crlf_and_quoted_commas_and_newlines() {
    let file = "\u{feff}order_id,email,status,created_at,product\r\n\
                Q1,q1@example.com,pending,2026-11-22 10:00,\"Tea, \"\"green\"\"\r\nsecond line\"\r\n\
                Q2,q2@example.com,paid,2026-11-22 10:00,Cup";
    let d = decide_text(file);
    assert_eq!(d.outcome("Q1"), "popular");
    assert_eq!(
        d.outcome("Q2"),
        "skip:paid",
        "a last record without a newline counts"
    );
    let body = d.get("Q1")["body"].as_str().unwrap();
    assert!(body.contains("Tea, \"green\""), "{body}");
    assert_eq!(d.summary["encoding"], "UTF-8");
}

#[test]
fn standard_input() {
    let outcome = Test::new()
        .config(GENERIC_CONFIG)
        .stdin("order_id,email,status,created_at\nI1,i1@example.com,pending,2026-11-22 10:00\n")
        .args(&["run", "--orders", "-", "--format", "json", "--now", NOW])
        .run();
    let d = crate::support::Decisions::parse(&outcome);
    assert_eq!(d.outcome("I1"), "popular");
    assert_eq!(d.summary["file"], "<stdin>");
}

#[test]
fn a_pipe_named_as_a_file_is_read_once_and_kept() {
    // `--orders /dev/stdin` (or `<(…)`, a FIFO) cannot be read twice; the rows of S1 are apart,
    // so the export is even read a third time.
    let outcome = Test::new()
        .config(GENERIC_CONFIG)
        .stdin(
            "order_id,email,status,created_at,product\n\
             S1,s1@example.com,pending,2026-11-22 10:00,Tea\n\
             S2,s2@example.com,pending,2026-11-22 10:00,Tea\n\
             S1,s1@example.com,pending,2026-11-22 10:00,Cup\n",
        )
        .args(&[
            "run",
            "--orders",
            "/dev/stdin",
            "--format",
            "json",
            "--now",
            NOW,
        ])
        .run();
    let d = crate::support::Decisions::parse(&outcome);
    assert_eq!(d.summary["orders"], 2);
    assert_eq!(d.outcome("S1"), "popular");
    assert_eq!(d.get("S1")["products"], serde_json::json!(["Tea", "Cup"]));
    assert_eq!(d.outcome("S2"), "popular");
}

#[test]
fn bad_rows_on_one_line_keep_their_order() {
    // A bare CR (an old Mac line end) ends a record without starting a line: two records on
    // line 2, both without a status. D1's rows are apart, so the file is read whole and both
    // are reported together at its end.
    let d = Test::new()
        .config(GENERIC_CONFIG)
        .file(
            "orders.csv",
            "order_id,email,status,created_at\n\
             A1,a@example.com,,2026-11-22 10:00\rB7,b@example.com,,2026-11-22 10:00\n\
             D1,d@example.com,pending,2026-11-22 10:00\n\
             C1,c@example.com,pending,2026-11-22 10:00\n\
             D1,d@example.com,pending,2026-11-22 10:00\n",
        )
        .decide_file("orders.csv");
    let ids: Vec<&str> = d
        .orders
        .iter()
        .map(|o| o["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A1", "B7", "D1", "C1"]);
    assert_eq!(d.get("B7")["line"], 2);
}

#[test]
fn gb18030_and_utf16_exports_decode() {
    let config = format!(
        "{GENERIC_CONFIG}\n[columns]\norder_id = \"订单编号\"\nbuyer_name = \"收货人姓名\"\nemail = \"买家邮箱\"\n\
         status = \"订单状态\"\ncreated_at = \"订单创建时间\"\ntotal = \"总金额\"\n\
         [statuses]\nunpaid = [\"等待买家付款\"]\npaid = [\"交易成功\"]\nclosed = [\"交易关闭\"]\n"
    );
    for fixture in ["gb18030.csv", "utf16le.csv"] {
        let d = Test::new()
            .config(&config)
            .fixture(fixture)
            .decide_file(fixture);
        assert_eq!(d.outcome("4378120007170436307"), "popular", "{fixture}");
        assert_eq!(d.outcome("4378120007170436308"), "skip:paid", "{fixture}");
        let first = d.get("4378120007170436307");
        assert_eq!(
            first["buyer_name"], "𠀀王芳",
            "{fixture}: four-byte GB18030 name"
        );
        assert_eq!(first["total"], "128.00 USD", "{fixture}");
    }
}

#[test]
fn headers_with_spaces_newlines_and_look_alike_letters_are_found() {
    let config = format!(
        "{GENERIC_CONFIG}\n[columns]\norder_id = \"Order Number\"\nemail = \"Customer Email\"\n\
         status = \"Order Status\"\ncreated_at = \"Order Date\"\nproduct = \"Products\"\n"
    );
    // "Сustomer Email" starts with a Cyrillic С; "Order Date " has a trailing space;
    // "Products" carries a second line, as AliExpress writes it.
    let file = "Order Number,\u{0421}ustomer Email,Order Status,Order Date ,\"Products\n(double-click)\"\n\
                H1,h1@example.com,pending,2026-11-22 10:00,Tea\n";
    let d = Test::new()
        .config(&config)
        .file("orders.csv", file)
        .decide();
    assert_eq!(d.outcome("H1"), "popular");
}

#[test]
fn excel_protection_wrappers_are_unwrapped() {
    let file = "order_id,email,status,created_at,total\n\
                =\"4378120007170436307\",w1@example.com,pending,2026-11-22 10:00,128.00元\n";
    let d = decide_text(file);
    assert_eq!(d.outcome("4378120007170436307"), "popular");
    assert_eq!(d.get("4378120007170436307")["total"], "128.00 USD");
}

#[test]
fn a_missing_required_column_names_it_and_lists_the_headers() {
    Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", "order_id,status,email\nX1,pending,x@example.com\n")
        .args(&["run", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stderr_has("orders.csv: no column \"created_at\" for created_at (layout generic, recognised from the headers); map it in [columns] created_at = \"<header>\" (headers found: order_id, status, email)");
}

#[test]
fn an_explicitly_mapped_optional_column_must_exist() {
    let config = format!("{GENERIC_CONFIG}\n[columns]\nemail = \"E-mail\"\n");
    Test::new()
        .config(&config)
        .file("orders.csv", "order_id,status,created_at,email\n")
        .args(&["run", "--orders", "orders.csv", "--now", NOW])
        .run()
        .failure(2)
        .stderr_has("no column \"E-mail\" for email");
}

#[test]
fn empty_and_header_only_exports_have_zero_orders() {
    for contents in ["", "order_id,status,created_at\n"] {
        let d = decide_text(contents);
        assert!(d.orders.is_empty());
        assert_eq!(d.summary["orders"], 0);
        assert_eq!(d.summary["reminders"], 0);
    }
}

#[test]
fn a_binary_file_is_refused_in_one_line() {
    let outcome = Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00binary")
        .args(&["run", "--orders", "orders.csv", "--now", NOW])
        .run();
    outcome
        .failure(2)
        .stderr_has("orders.csv: is an Excel workbook (.xlsx) or another ZIP file, not a CSV order export; open it in Excel and save it as \"CSV UTF-8\"");
    assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
}

#[test]
fn a_file_that_does_not_exist() {
    Test::new()
        .config(GENERIC_CONFIG)
        .args(&["run", "--orders", "nope.csv", "--now", NOW])
        .run()
        .failure(2)
        .stderr_has("nope.csv: cannot read it");
}

#[test]
fn a_download_cut_inside_a_quoted_field_loses_only_the_cut_row() {
    let file = "order_id,email,status,created_at,product\n\
                T1,t1@example.com,pending,2026-11-22 10:00,Tea\n\
                T2,t2@example.com,pending,2026-11-22 10:00,\"Tea, unterminated\nT3,t3@example.com";
    let d = decide_text(file);
    assert_eq!(d.outcome("T1"), "popular");
    let t2 = d.get("T2");
    assert_eq!(t2["reason"], "invalid_row");
    assert_eq!(t2["line"], 3);
    assert!(t2["error"].as_str().unwrap().contains("cut off"), "{t2}");
    assert_eq!(d.summary["reminders"], 1);
}

#[test]
fn a_row_wider_than_the_header_is_not_guessed_at() {
    let file = "order_id,email,status,created_at,total\n\
                W1,w1@example.com,pending,2026-11-22 10:00,49,90\n\
                W2,w2@example.com,pending,2026-11-22 10:00,\"49,90\"\n";
    let d = decide_text(file);
    let w1 = d.get("W1");
    assert_eq!(w1["reason"], "invalid_row");
    assert_eq!(w1["column"], 6);
    assert!(
        w1["error"]
            .as_str()
            .unwrap()
            .contains("a value containing the delimiter is not quoted")
    );
    assert_eq!(
        d.get("W2")["total"],
        "49.90 USD",
        "a quoted decimal comma is fine"
    );
}

#[test]
fn a_western_excel_export_in_windows_1252() {
    let text = "order_id,buyer_name,email,status,created_at\nX1,Jürgen Müller,j@example.de,pending,2026-11-22 10:00\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(text);
    let config = GENERIC_CONFIG.replace("[source]\n", "[source]\nencoding = \"windows-1252\"\n");
    let d = Test::new()
        .config(&config)
        .file("orders.csv", &bytes)
        .decide();
    assert_eq!(d.get("X1")["buyer_name"], "Jürgen Müller");
    assert_eq!(d.summary["encoding"], "windows-1252");
}

#[test]
fn bytes_that_do_not_fit_the_encoding_make_the_row_invalid() {
    // Valid UTF-8 for the first 64 KiB, then a GBK name: the row is reported, not mangled.
    let mut bytes = b"order_id,buyer_name,email,status,created_at\n".to_vec();
    for i in 0..1500 {
        bytes.extend_from_slice(
            format!("F{i},Fay,f{i}@example.com,paid,2026-11-22 10:00\n").as_bytes(),
        );
    }
    bytes.extend_from_slice(b"G1,");
    bytes.extend_from_slice(&encoding_rs::GBK.encode("王芳").0);
    bytes.extend_from_slice(b",g1@example.com,pending,2026-11-22 10:00\n");
    let d = decide_text(bytes);
    let g1 = d
        .orders
        .iter()
        .find(|o| o["line"] == 1502)
        .expect("the GBK row is reported");
    assert_eq!(g1["reason"], "invalid_row");
    assert!(
        g1["error"]
            .as_str()
            .unwrap()
            .contains("set [source].encoding"),
        "{g1}"
    );
}

#[test]
fn semicolons_and_tabs_are_recognised() {
    for (delimiter, name) in [(";", "semicolon"), ("\t", "tab")] {
        let file = "order_id;email;status;created_at;total\nS1;s1@example.com;pending;2026-11-22 10:00;49,90\n"
            .replace(';', delimiter);
        let d = decide_text(file);
        assert_eq!(d.outcome("S1"), "popular", "{name}");
        assert_eq!(d.get("S1")["total"], "49.90 USD", "{name}");
    }
}

#[test]
fn an_export_of_only_a_bom_or_blank_lines_has_zero_orders() {
    for contents in ["\u{feff}", "\n\n", "\u{feff}\r\n"] {
        let d = decide_text(contents);
        assert!(d.orders.is_empty());
        assert_eq!(d.summary["orders"], 0);
    }
}

#[test]
fn a_five_megabyte_field_is_fine() {
    let note = "x".repeat(5 * 1024 * 1024);
    let file = format!(
        "order_id,email,status,created_at,product\nB1,b1@example.com,pending,2026-11-22 10:00,\"{note}\"\nB2,b2@example.com,pending,2026-11-22 10:00,Tea\n"
    );
    let d = decide_text(file);
    assert_eq!(d.outcome("B1"), "popular");
    assert_eq!(d.outcome("B2"), "popular");
}

#[test]
fn trailing_empty_cells_and_a_real_replacement_character_are_fine() {
    let file = "order_id,email,status,created_at\n\
                E1,e1@example.com,pending,2026-11-22 10:00,,\n\
                E2,e2@example.com,pending,2026-11-22 10:00\n";
    let d = decide_text(file);
    assert_eq!(
        d.outcome("E1"),
        "popular",
        "empty extra cells are no extra values"
    );
    let with_note = "order_id,email,status,created_at,product\nF1,f1@example.com,pending,2026-11-22 10:00,caf\u{fffd} latte\n";
    let d = decide_text(with_note);
    assert_eq!(
        d.outcome("F1"),
        "popular",
        "a U+FFFD written in a UTF-8 file is just a character"
    );
}

#[test]
fn files_that_are_not_csv_exports_say_what_they_are() {
    for (bytes, what) in [
        (
            &b"<!DOCTYPE html><html><body>Please log in</body></html>"[..],
            "is an HTML or XML page",
        ),
        (b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n", "is a PDF document"),
        (b"{\"orders\": []}", "is JSON"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00",
            "is an old Excel workbook (.xls)",
        ),
        (
            b"just some notes\nwith no separators\n",
            "has no comma, semicolon or tab in its first line",
        ),
    ] {
        let outcome = Test::new()
            .config(GENERIC_CONFIG)
            .file("orders.csv", bytes)
            .args(&["run", "--orders", "orders.csv", "--now", NOW])
            .run();
        outcome
            .failure(2)
            .stderr_has(&format!("orders.csv: {what}"));
        assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
    }
}

#[test]
fn blank_lines_and_an_excel_sep_line_keep_line_numbers_true() {
    let file = "sep=;\r\n\r\norder_id;email;status;created_at\r\n\r\nL1;l1@example.com;pending;2026-11-22 10:00\r\n\r\n\r\nL2;l2@example.com;pending;2026-13-22 10:00\r\n";
    let d = decide_text(file);
    assert_eq!(d.get("L1")["line"], 5);
    assert_eq!(d.outcome("L1"), "popular");
    assert_eq!(d.get("L2")["line"], 8);
    assert_eq!(d.get("L2")["reason"], "invalid_row");
}

#[test]
fn a_download_cut_in_the_middle_of_a_row_loses_only_that_row() {
    let file = "order_id,email,status,created_at,total,product\n\
                C1,c1@example.com,pending,2026-11-22 10:00,10.00,Tea\n\
                C2,c2@example.com,pend";
    let d = decide_text(file);
    assert_eq!(d.outcome("C1"), "popular");
    assert_eq!(d.get("C2")["reason"], "invalid_row");
    assert!(d.get("C2")["error"].as_str().unwrap().contains("cut off"));
}

#[test]
fn rows_of_one_order_may_differ_in_case() {
    let file = "order_id,email,status,created_at,product\n\
                M1,Mia@Example.com,Pending,2026-11-22 10:00,Tea\n\
                M1,mia@example.com,pending,2026-11-22 10:00,Cup\n";
    let d = decide_text(file);
    assert_eq!(d.outcome("M1"), "popular");
    assert_eq!(d.get("M1")["products"].as_array().unwrap().len(), 2);
}

#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer_and_holds_no_lock() {
    let test = Test::new()
        .config(&format!("{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\n"))
        .orders(
            "order_id,email,status,created_at",
            &["F1,f1@example.com,pending,2026-11-22 10:00"],
        );
    let fifo = test.path("export.csv");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let run = test.spawn(&["run", "--orders", "export.csv", "--now", NOW, "--send"]);
    // A writer that comes only if payremind opens the FIFO (opening it for writing waits for
    // a reader): had payremind waited for one, it would get an export and succeed.
    let mut writer = std::process::Command::new(crate::support::smtp::python())
        .arg("-c")
        .arg("import sys\nwith open(sys.argv[1], 'w') as f:\n    f.write('order_id,email,status,created_at\\nF1,f1@example.com,pending,2026-11-22 10:00\\n')")
        .arg(&fifo)
        .spawn()
        .unwrap();
    let out = run.wait_with_output().unwrap();
    let _ = writer.kill();
    let _ = writer.wait();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("export.csv: is not a regular file") && stderr.contains("--orders -"),
        "{stderr}"
    );
    // The next run is not held back by it.
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW, "--send"])
        .success()
        .stderr_has("sent 1");
    // A folder or a device is refused the same way, by the preview and check too.
    for path in [".", "/dev/null"] {
        test.exec(&["run", "--orders", path, "--now", NOW])
            .failure(2)
            .stderr_has("is not a regular file");
        test.exec(&["check", "--orders", path])
            .failure(2)
            .stderr_has("is not a regular file");
    }
}

#[test]
fn a_utf8_export_with_a_few_bad_bytes_stays_utf8_and_the_run_says_it_guessed() {
    let mut bytes = "order_id,buyer_name,email,status,created_at\n"
        .as_bytes()
        .to_vec();
    for (id, name) in [
        ("E1", "Jürgen Groß"),
        ("E2", "Zoë Ünal"),
        ("E3", "Łukasz Żak"),
    ] {
        bytes.extend_from_slice(
            format!("{id},{name},{id}@example.com,pending,2026-11-22 10:00\n").as_bytes(),
        );
    }
    // One byte from a Latin-1 editor in one row.
    bytes.extend_from_slice(b"E4,M\xfcller,e4@example.com,pending,2026-11-22 10:00\n");
    let test = Test::new().config(GENERIC_CONFIG).file("orders.csv", bytes);
    let d = test.preview();
    assert_eq!(d.summary["encoding"], "UTF-8");
    assert_eq!(d.get("E1")["buyer_name"], "Jürgen Groß");
    assert_eq!(d.outcome("E1"), "popular");
    let bad: Vec<&serde_json::Value> = d
        .orders
        .iter()
        .filter(|o| o["reason"] == "invalid_row")
        .collect();
    assert_eq!(bad.len(), 1, "only the bad bytes' row");
    assert_eq!(bad[0]["line"], 5);
    let run = test.exec(&["run", "--orders", "orders.csv", "--now", NOW]);
    run.success()
        .stderr_has("orders.csv: the export has no BOM and 1 byte sequence(s) in its first 64 KiB that are not UTF-8");
    // A GB18030 export is still read as one, and the run says it guessed.
    let (gbk, _, _) = encoding_rs::GB18030.encode(
        "order_id,buyer_name,email,status,created_at\nG1,王芳,g1@example.com,pending,2026-11-22 10:00\n",
    );
    let test = Test::new()
        .config(GENERIC_CONFIG)
        .file("orders.csv", &gbk[..]);
    let d = test.preview();
    assert_eq!(d.summary["encoding"], "gb18030");
    assert_eq!(d.get("G1")["buyer_name"], "王芳");
    test.exec(&["run", "--orders", "orders.csv", "--now", NOW])
        .success()
        .stderr_has("is not UTF-8: read as GB18030");
}
