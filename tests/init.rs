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
        .stderr_has("wrote shop/payremind.toml and 10 templates in shop/templates");
    assert!(test.path("shop/templates/payment_help.txt").exists());
    let config = ["--config", "shop/payremind.toml", "--now", NOW];
    // Untouched, the starter names what the seller must still set.
    test.exec(&[&["check", "--orders", "shop/orders.csv"][..], &config].concat())
        .failure(2)
        .stdout_has("problem: [shop].name is missing")
        .stdout_has("problem: [source].timezone is missing");
    crate::support::complete_starter(
        &test.path("shop/payremind.toml"),
        "My Shop",
        "Asia/Shanghai",
    );
    test.exec(&[&["check", "--orders", "shop/orders.csv"][..], &config].concat())
        .success()
        .stdout_has("ok: ready for `payremind run`");
    test.exec(&[&["run", "--orders", "shop/orders.csv"][..], &config].concat())
        .success()
        .stdout_has("Subject: Order I1 is still reserved for you at My Shop");
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
