//! The web client in a real browser: `web/tests/browser.mjs` drives Debian's headless
//! Chromium with playwright-core against this server. The README's test command installs
//! both; a missing one fails here with what to run. Mail goes to a real SMTP server
//! (`mail::Smtp`) whose maildir the scenarios read.

use std::path::Path;
use std::process::Stdio;

use crate::mail::{free_port, Smtp};
use crate::util::{Server, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread")]
async fn the_web_client_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run the README's test command (scripts/test.sh), which installs Debian's chromium"
    );
    assert!(
        root.join("web/tests/node_modules/playwright-core").exists(),
        "playwright-core is missing: run the README's test command (scripts/test.sh), which runs npm ci in web/tests"
    );
    // A real SMTP server: the scenarios follow mailed links.
    let tmp = tempfile::tempdir().expect("temp dir");
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let smtp = Smtp::start(port, &maildir);
    let s = Server::start_with(|c| {
        c.limits = collective_brain::limits::Limits::off();
        c.web_dir = None; // the embedded copy, as users get it
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.mail_from = "Collective Brain <brain@example.org>".into();
    })
    .await;
    let shots = root.join("target/screenshots");
    let out = tokio::process::Command::new("node")
        .arg(root.join("web/tests/browser.mjs"))
        .arg(s.url(""))
        .arg(&shots)
        .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CB_MAILDIR", &maildir)
        .env("CHROMIUM", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("node runs (the README's test command needs Node.js)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser scenarios failed:\n{stdout}");
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
    s.stop().await;
    smtp.stop();
}
