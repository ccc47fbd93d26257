//! `payremind suppress`: the addresses that asked for no more reminders, kept in the ledger,
//! and what a run makes of them (skipped `unsubscribed`, in the preview and when sending).

use crate::send::{plain_server, row, send_json, smtp_config};
use crate::support::{GENERIC_CONFIG, GENERIC_HEADER, Test};

fn with_config() -> Test {
    Test::new().config(GENERIC_CONFIG)
}

#[test]
fn add_is_idempotent_compares_without_case_and_history_says_when_and_how() {
    let test = with_config();
    test.exec(&["suppress", "add", "Ann@Example.COM"])
        .success()
        .stdout_has("suppressed ann@example.com");
    assert!(
        test.path("payremind.db").exists() && test.path("payremind.db.id").exists(),
        "the first add makes the ledger and its sidecar"
    );
    test.exec(&["suppress", "add", "ann@example.com", "<ANN@example.com>"])
        .success()
        .stdout_has("ann@example.com was suppressed already (nothing changed)");
    let list = test.exec(&["suppress", "list", "--format", "json"]);
    list.success();
    let lines: Vec<serde_json::Value> = list
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "adding twice is one suppression: {lines:?}");
    assert_eq!(lines[0]["address"], "ann@example.com");
    assert_eq!(lines[0]["how"], "added");
    test.exec(&["suppress", "list"])
        .success()
        .stdout_has("ann@example.com  since ");

    // An address that is none is reported, and the others are still added (exit 2).
    test.exec(&["suppress", "add", "j***@mail.com", "bo@example.com"])
        .failure(2)
        .stdout_has("suppressed bo@example.com")
        .stderr_has("\"j***@mail.com\": the address is masked");

    test.exec(&["suppress", "remove", "BO@example.com", "zed@example.com"])
        .success()
        .stdout_has("removed bo@example.com from the list")
        .stdout_has("zed@example.com was not on the list (nothing changed)");
    let history = test.exec(&["history"]);
    history
        .success()
        .stdout_has("ann@example.com  suppressed, no more reminders (added)")
        .stdout_has("bo@example.com  taken off the suppression list (removed)");
    // One buyer's history: the address's changes, in time order.
    let bo = test.exec(&["history", "--buyer", "bo@example.com", "--format", "json"]);
    bo.success();
    let statuses: Vec<String> = bo
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["status"].to_string())
        .collect();
    assert_eq!(statuses, ["\"suppressed\"", "\"unsuppressed\""]);
    test.exec(&["suppress", "list"])
        .success()
        .stdout_has("ann@example.com");
    assert!(
        !test
            .exec(&["suppress", "list"])
            .stdout
            .contains("bo@example.com")
    );
}

#[test]
fn remove_and_list_make_no_ledger() {
    let test = with_config();
    test.exec(&["suppress", "list"])
        .success()
        .stdout_has("no address is suppressed");
    test.exec(&["suppress", "remove", "ann@example.com"])
        .success()
        .stdout_has("was not on the list");
    assert!(!test.path("payremind.db").exists());
}

#[test]
fn a_lost_ledger_is_refused_as_a_sending_run_refuses_it() {
    let test = with_config();
    test.exec(&["suppress", "add", "ann@example.com"]).success();
    std::fs::remove_file(test.path("payremind.db")).unwrap();
    test.exec(&["suppress", "add", "bo@example.com"])
        .failure(2)
        .stderr_has("is gone, but earlier runs wrote a ledger there");
    test.exec(&["suppress", "list"])
        .failure(2)
        .stderr_has("is gone");
    assert!(!test.path("payremind.db").exists(), "nothing was made");
}

#[test]
fn suppress_waits_for_a_sending_run_to_finish() {
    let test = with_config();
    test.exec(&["suppress", "add", "ann@example.com"]).success();
    // Another run holds the sending runs' lock (flock on the ledger file) for a while.
    let script = "import fcntl, sys, time\n\
                  f = open(sys.argv[1], 'rb')\n\
                  fcntl.flock(f, fcntl.LOCK_EX)\n\
                  print('locked', flush=True)\n\
                  time.sleep(1.5)\n\
                  open(sys.argv[1] + '.released', 'w').close()\n\
                  fcntl.flock(f, fcntl.LOCK_UN)";
    let mut locker = std::process::Command::new(crate::support::smtp::python())
        .arg("-c")
        .arg(script)
        .arg(test.path("payremind.db"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(locker.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    test.exec(&["suppress", "add", "bo@example.com"]).success();
    assert!(
        test.path("payremind.db.released").exists(),
        "suppress add finished only after the other run let go of the lock"
    );
    locker.wait().unwrap();
}

#[test]
fn a_suppressed_buyer_gets_no_reminder_in_the_preview_or_when_sending() {
    let (_dir, server) = plain_server();
    let test = Test::new().config(&smtp_config(&server, "")).orders(
        GENERIC_HEADER,
        &[
            row("S1", "Stop.Me@Example.com", "2026-11-22 10:00"),
            row("S2", "keep@example.com", "2026-11-22 10:00"),
            // Buyer S3 wrote from another address on an earlier (paid) order: the buyer
            // asked to stop, whatever address today's order has.
            "S3a,S3-buyer,Buyer S3,old@example.com,paid,2026-11-10 10:00,10.00,web,Tea,".to_owned(),
            "S3b,S3-buyer,Buyer S3,new@example.com,pending,2026-11-22 10:00,10.00,web,Tea,"
                .to_owned(),
        ],
    );
    // Before any ledger: the first `add` makes it, and the sending run takes it as its own.
    test.exec(&["suppress", "add", "stop.me@example.com", "OLD@example.com"])
        .success();

    let d = test.preview();
    assert_eq!(d.outcome("S1"), "skip:unsubscribed");
    assert_eq!(d.outcome("S2"), "popular");
    assert_eq!(d.outcome("S3b"), "skip:unsubscribed");
    assert_eq!(d.summary["skipped"]["unsubscribed"], 2);
    assert_eq!(d.summary["reminders"], 1);
    assert!(d.get("S1")["to"].is_null() && d.get("S1")["body"].is_null());

    let text = test.exec(&[
        "run",
        "--orders",
        "orders.csv",
        "--now",
        crate::support::NOW,
    ]);
    text.success().stderr_has("unsubscribed 2");

    let (status, d) = send_json(&test, &["--yes"]);
    assert_eq!(status, 0, "{}", d.stderr);
    assert_eq!(d.outcome("S1"), "skip:unsubscribed");
    assert_eq!(d.outcome("S3b"), "skip:unsubscribed");
    assert_eq!(d.get("S2")["status"], "sent");
    assert_eq!(d.summary["sent"], 1);
    assert_eq!(d.summary["skipped"]["unsubscribed"], 2);
    crate::send::wait_for_arrivals(&server, 1);
    let to: Vec<Vec<String>> = server
        .received()
        .iter()
        .map(|m| m.rcpt_tos.clone())
        .collect();
    assert_eq!(to, [vec!["keep@example.com".to_owned()]]);

    // Taken off the list, the buyer is reminded again.
    test.exec(&["suppress", "remove", "Stop.Me@example.com"])
        .success();
    assert_eq!(test.preview().outcome("S1"), "popular");

    // The buyer reminded at keep@ asks to stop; their next order, from another address, is
    // left alone too (the ledger knows whose address it was).
    test.exec(&["suppress", "add", "keep@example.com"])
        .success();
    test.set_orders(
        GENERIC_HEADER,
        &["S4,S2-buyer,Buyer S2,other@example.com,pending,2026-11-22 11:00,10.00,web,Tea,"],
    );
    assert_eq!(test.preview().outcome("S4"), "skip:unsubscribed");
}

#[test]
fn import_reads_a_platforms_csv_by_its_email_header() {
    let test = with_config()
        .file(
            "unsubscribed.csv",
            "\u{feff}Customer ID,First Name,Customer Email,Accepts Email Marketing\n\
             1,Ann,Ann@Example.com,no\n\
             2,Bo,j***@mail.com,no\n\
             3,Cy,,no\n\
             4,Di,di@example.com,yes\n\
             5,Ed,ed@example.com,\n\
             6,Ann,ann@example.com,no\n",
        )
        .file(
            "买家.csv",
            "订单号,买家邮箱\n1001,li@example.cn\n1002,not-an-address\n",
        )
        .file("no_email.csv", "Name,Phone\nAnn,123\n");
    let out = test.exec(&["suppress", "import", "unsubscribed.csv"]);
    out.success()
        .stdout_has("unsubscribed.csv: the addresses are in column 3, \"Customer Email\"")
        .stdout_has("suppressed 2 address(es): 2 new, 0 already on the list")
        .stderr_has("unsubscribed.csv:3: \"j***@mail.com\": the address is masked")
        .stderr_has(
            "unsubscribed.csv:5: di@example.com: the row says the customer accepts marketing",
        );
    test.exec(&["suppress", "import", "买家.csv"])
        .success()
        .stdout_has("column 2, \"买家邮箱\"")
        .stderr_has("买家.csv:3: \"not-an-address\"");
    // Importing again changes nothing.
    test.exec(&["suppress", "import", "unsubscribed.csv"])
        .success()
        .stdout_has("0 new, 2 already on the list");
    let list = test.exec(&["suppress", "list"]);
    list.success()
        .stdout_has("ann@example.com")
        .stdout_has("imported from unsubscribed.csv")
        .stdout_has("li@example.cn");
    assert!(!list.stdout.contains("di@example.com"));
    test.exec(&["history"]).success().stdout_has(
        "ed@example.com  suppressed, no more reminders (imported from unsubscribed.csv)",
    );
    test.exec(&["suppress", "import", "no_email.csv"])
        .failure(2)
        .stderr_has(
            "no_email.csv: no column of e-mail addresses (its headers are \"Name\", \"Phone\")",
        );
}

/// A mailbox as Thunderbird or `formail` saves it: the replies a shop received.
const MBOX: &str = "From ann@example.com Thu Dec  3 10:00:00 2026\n\
From: Ann <Ann@Example.com>\n\
To: orders@shop.example\n\
Subject: unsubscribe\n\
\n\
\n\
From li@example.cn Thu Dec  3 10:05:00 2026\n\
From: =?UTF-8?B?5p2O5Zub?= <li@example.cn>\n\
Subject: =?UTF-8?B?6YCA6K6i?=\n\
\n\
\n\
From paid@example.com Thu Dec  3 10:10:00 2026\n\
From: paid@example.com\n\
Subject: Re: Your order 1001 at Test Shop\n\
\n\
I paid yesterday, thank you.\n\
\n\
On Mon, Test Shop <orders@shop.example> wrote:\n\
> To stop these reminders, write \"unsubscribe\" to orders@shop.example.\n\
\n\
From marie@example.fr Thu Dec  3 10:15:00 2026\n\
From: marie@example.fr\n\
Subject: Re: Votre commande\n\
Content-Type: text/plain; charset=utf-8\n\
Content-Transfer-Encoding: quoted-printable\n\
\n\
Merci de me d=C3=A9sabonner.\n\
\n\
From vacation@example.com Thu Dec  3 10:20:00 2026\n\
From: vacation@example.com\n\
Subject: Auto: unsubscribe\n\
Auto-Submitted: auto-replied\n\
\n\
I am away.\n\
\n\
From root@localhost Thu Dec  3 10:25:00 2026\n\
From: root@localhost\n\
Subject: unsubscribe\n\
\n\
\n\
From orders@shop.example Thu Dec  3 10:30:00 2026\n\
From: Test Shop <orders@shop.example>\n\
Subject: unsubscribe test\n\
\n";

#[test]
fn import_reads_a_mailbox_of_unsubscribe_replies() {
    let test = with_config().file("replies.mbox", MBOX).file(
        "one.eml",
        "Return-Path: <pt@example.com.br>\nFrom: pt@example.com.br\nSubject: =?ISO-8859-1?Q?Pedido?=\nContent-Type: text/html; charset=utf-8\n\n<div>Quero <b>descadastrar</b> meu e-mail</div>\n",
    );
    let out = test.exec(&["suppress", "import", "replies.mbox"]);
    out.success()
        .stdout_has("replies.mbox: 7 message(s), 4 asking to unsubscribe")
        .stdout_has("suppressed 3 address(es): 3 new")
        .stderr_has("skipped message replies.mbox:12: from paid@example.com, subject \"Re: Your order 1001 at Test Shop\": does not ask to unsubscribe")
        .stderr_has("replies.mbox:29: from vacation@example.com")
        .stderr_has("an automatic message")
        .stderr_has("replies.mbox:36: \"root@localhost\": a domain without a dot")
        .stderr_has("was sent by the shop itself");
    let list = test.exec(&["suppress", "list"]);
    list.success()
        .stdout_has("ann@example.com")
        .stdout_has("li@example.cn")
        .stdout_has("marie@example.fr")
        .stdout_has("reply in replies.mbox");
    for absent in [
        "paid@example.com",
        "vacation@example.com",
        "orders@shop.example",
    ] {
        assert!(!list.stdout.contains(absent), "{absent}:\n{}", list.stdout);
    }
    test.exec(&["suppress", "import", "one.eml"])
        .success()
        .stdout_has("one.eml: 1 message(s), 1 asking to unsubscribe");
    test.exec(&["history"])
        .success()
        .stdout_has("pt@example.com.br  suppressed, no more reminders (reply in one.eml)");
}
