//! The config file: typos and bad values stop the run with one line that says where and what
//! to do; custom rules change the ladder without a rebuild.

use crate::support::{GENERIC_CONFIG, GENERIC_HEADER, NO_ROWS, NOW, Test};

fn run_with(config: &str) -> crate::support::Outcome {
    Test::new()
        .config(config)
        .orders(
            GENERIC_HEADER,
            &["X1,x,,x@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"],
        )
        .args(&["run", "--orders", "orders.csv", "--now", NOW])
        .run()
}

#[test]
fn a_misspelt_key_is_an_error_naming_it() {
    let outcome = run_with(&format!("{GENERIC_CONFIG}\n[select]\nmin_agee = \"3h\"\n"));
    outcome
        .failure(2)
        .stderr_has("payremind.toml:12:1: unknown field `min_agee`");
    assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
    assert!(outcome.stdout.is_empty());
}

#[test]
fn a_bad_value_names_the_setting() {
    run_with(&GENERIC_CONFIG.replace("Asia/Shanghai", "Asia/Shangai"))
        .failure(2)
        .stderr_has("payremind.toml: [source].timezone: \"Asia/Shangai\" is not an IANA time zone");
    run_with(&format!(
        "{GENERIC_CONFIG}\n[select]\nmax_age = \"a week\"\n"
    ))
    .failure(2)
    .stderr_has("[select].max_age: \"a week\" is not a duration");
}

#[test]
fn run_needs_a_config_file() {
    Test::new()
        .orders(GENERIC_HEADER, NO_ROWS)
        .args(&["run", "--orders", "orders.csv"])
        .run()
        .failure(2)
        .stderr_has("no config file: ./payremind.toml does not exist; run `payremind init`");
    Test::new()
        .orders(GENERIC_HEADER, NO_ROWS)
        .args(&["run", "--orders", "orders.csv", "--config", "shop.toml"])
        .run()
        .failure(2)
        .stderr_has("shop.toml: cannot read it");
}

#[test]
fn the_config_flag_and_its_environment_twin() {
    let test = Test::new()
        .file("shop/settings.toml", GENERIC_CONFIG)
        .orders(
            GENERIC_HEADER,
            &["X1,x,,x@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"],
        );
    let subject = "Subject: Order X1 is still reserved for you at Test Shop";
    test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--config",
        "shop/settings.toml",
        "--now",
        NOW,
    ])
    .success()
    .stdout_has(subject);
    // The same through PAYREMIND_CONFIG, PAYREMIND_ORDERS and PAYREMIND_NOW, as cron may set them.
    let test = test
        .env("PAYREMIND_CONFIG", "shop/settings.toml")
        .env("PAYREMIND_ORDERS", "orders.csv")
        .env("PAYREMIND_NOW", NOW);
    test.exec(&["run"]).success().stdout_has(subject);
}

#[test]
fn a_bad_now_is_a_usage_error() {
    Test::new()
        .config(GENERIC_CONFIG)
        .orders(GENERIC_HEADER, NO_ROWS)
        .args(&["run", "--orders", "orders.csv", "--now", "tomorrow"])
        .run()
        .failure(2)
        .stderr_has("--now \"tomorrow\"");
    // A local time without its offset: said in words, with what to write.
    Test::new()
        .config(GENERIC_CONFIG)
        .orders(GENERIC_HEADER, NO_ROWS)
        .args(&["run", "--orders", "orders.csv", "--now", "2026-11-23 09:00"])
        .run()
        .failure(2)
        .stderr_has("--now \"2026-11-23 09:00\" has no UTC offset")
        .stderr_has("like 2026-11-23T09:00:00+08:00");
}

#[test]
fn a_missing_templates_folder_names_the_setting_and_the_path() {
    Test::new()
        .config(&format!(
            "{GENERIC_CONFIG}\n[templates]\ndir = \"my-templates\"\n"
        ))
        .orders(GENERIC_HEADER, NO_ROWS)
        .args(&[
            "run",
            "--orders",
            "orders.csv",
            "--now",
            "2026-11-23T09:00:00+08:00",
        ])
        .run()
        .failure(2)
        .stderr_has("payremind.toml: [templates].dir: the folder ")
        .stderr_has("my-templates does not exist");
}

#[test]
fn custom_rules_replace_the_ladder() {
    let config = GENERIC_CONFIG.replace(
        "currency = \"USD\"",
        "currency = \"USD\"\nlow_stock_products = [\"Matcha tin\"]",
    ) + "\n[[rules]]\nlow_stock = true\ntemplate = \"low_stock\"\n\n\
         [[rules]]\nbuyer = [\"new\"]\nmin_age = \"1d\"\nskip = \"waiting_for_weekend\"\n\n\
         [[rules]]\ntemplate = \"gentle\"\n";
    let d = Test::new()
        .config(&config)
        .orders(
            GENERIC_HEADER,
            &[
                "R1,r1,,r1@example.com,pending,2026-11-22 10:00,10.00,web,Matcha tin,",
                "R2,r2,,r2@example.com,pending,2026-11-21 10:00,10.00,web,Tea,",
                "R3,r3,,r3@example.com,pending,2026-11-23 05:00,10.00,web,Tea,",
            ],
        )
        .decide();
    assert_eq!(d.outcome("R1"), "low_stock");
    assert_eq!(d.outcome("R2"), "skip:waiting_for_weekend");
    assert_eq!(d.outcome("R3"), "gentle");
}

#[test]
fn a_rule_naming_a_missing_template_is_an_error() {
    run_with(&format!(
        "{GENERIC_CONFIG}\n[[rules]]\ntemplate = \"gentel\"\n"
    ))
    .failure(2)
    .stderr_has(
        "[[rules]] #1: template \"gentel\" does not exist; known templates: bank_transfer, closing_soon, discount",
    );
}

#[test]
fn a_ledger_path_that_names_no_kept_file_is_refused() {
    // SQLite would take each of these for a throwaway database: every run would send
    // everything again and `history` would show nothing.
    for path in [
        "",
        "   ",
        ":memory:",
        "file:ledger?mode=memory",
        "FILE:ledger.db",
    ] {
        let config =
            format!("{GENERIC_CONFIG}\n[delivery]\nvia = \"outbox\"\n[ledger]\npath = {path:?}\n");
        let test = Test::new().config(&config).orders(
            GENERIC_HEADER,
            &["X1,x,,x@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"],
        );
        let outcome = test.exec(&["run", "--orders", "orders.csv", "--now", NOW, "--send"]);
        outcome
            .failure(2)
            .stderr_has("payremind.toml: [ledger].path: ")
            .stderr_has("it must name a file that is kept between runs");
        assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
        assert!(
            !test.path("outbox").exists(),
            "{path:?}: nothing is sent without a ledger"
        );
        test.exec(&["history"])
            .failure(2)
            .stderr_has("[ledger].path");
    }
}

#[test]
fn a_rate_or_timeout_that_cannot_work_is_refused_by_name() {
    for (setting, value, says) in [
        (
            "rate_limit",
            "1e-30/s",
            "[smtp].rate_limit: \"1e-30/s\" is slower than one message an hour",
        ),
        ("timeout", "0s", "[smtp].timeout: must be more than zero"),
    ] {
        let config = format!(
            "{GENERIC_CONFIG}\n[smtp]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n{setting} = {value:?}\n"
        );
        let outcome = Test::new()
            .config(&config)
            .orders(
                GENERIC_HEADER,
                &["X1,x,,x@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"],
            )
            .args(&["run", "--orders", "orders.csv", "--now", NOW, "--send"])
            .run();
        outcome.failure(2).stderr_has(says);
        assert_eq!(outcome.stderr.lines().count(), 1, "{}", outcome.stderr);
    }
}

#[test]
fn completions_and_the_manual_page_come_from_the_command_line_itself() {
    let test = Test::new();
    let bash = test.exec(&["completions", "bash"]);
    bash.success();
    assert!(bash.stdout.contains("--retry-unknown") && bash.stdout.contains("history"));
    // A script bash can load.
    let script = test.path("payremind.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(syntax.success(), "bash -n rejects the completion script");
    for shell in ["zsh", "fish"] {
        let out = test.exec(&["completions", shell]);
        out.success();
        assert!(out.stdout.contains("payremind"), "{shell}");
    }
    let man = test.exec(&["man"]);
    man.success();
    assert!(man.stdout.contains(".TH payremind 1"), "{}", man.stdout);
    assert!(man.stdout.contains("check"));
    test.exec(&["completions", "tcsh"]).failure(2);
}

#[test]
fn colour_only_on_a_terminal_or_when_asked() {
    let test = Test::new()
        .config(GENERIC_CONFIG)
        .orders(GENERIC_HEADER, NO_ROWS);
    let check = [
        "check",
        "--orders",
        "orders.csv",
        "--now",
        "2026-11-23T09:00:00+08:00",
    ];
    // Into a pipe (a log, cron): plain text.
    let plain = test.exec(&check);
    assert!(!plain.stdout.contains('\u{1b}'), "{}", plain.stdout);
    let never = test.exec(&[&check[..], &["--color", "never"]].concat());
    assert!(!never.stdout.contains('\u{1b}'));
    let always = test.exec(&[&check[..], &["--color", "always"]].concat());
    assert!(always.stdout.contains("\u{1b}["), "{}", always.stdout);
    assert!(always.stdout.contains("ok: ready"));
    // Errors too.
    let error = test.exec(&["run", "--orders", "missing.csv", "--color", "always"]);
    assert!(error.stderr.contains("\u{1b}["), "{}", error.stderr);
    test.exec(&[&check[..], &["--color", "sometimes"]].concat())
        .failure(2);
}

#[test]
fn colour_on_a_real_terminal_unless_no_color() {
    // Under a pseudo-terminal (util-linux `script`), auto colours; NO_COLOR turns it off.
    let test = Test::new()
        .config(GENERIC_CONFIG)
        .orders(GENERIC_HEADER, NO_ROWS);
    let bin = assert_cmd::cargo::cargo_bin("payremind");
    let line = format!(
        "{} check --orders orders.csv --now 2026-11-23T09:00:00+08:00",
        bin.display()
    );
    let in_pty = |no_color: bool| {
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .current_dir(test.path(""))
            .env_remove("NO_COLOR");
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let out = cmd.output().expect("util-linux script");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = in_pty(false);
    assert!(coloured.contains("ok: ready"), "{coloured}");
    assert!(coloured.contains("\u{1b}["), "{coloured}");
    let plain = in_pty(true);
    assert!(plain.contains("ok: ready"), "{plain}");
    assert!(!plain.contains("\u{1b}["), "{plain}");
}
