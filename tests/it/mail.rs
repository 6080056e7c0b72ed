//! Email through a real SMTP server process (Python's aiosmtpd, which the README's test
//! command installs), delivering into a maildir the test reads: addresses verified by a
//! mailed link, password resets, invitations, and mail kept and retried while the SMTP
//! server is down.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::*;

/// An SMTP server on a loopback port, delivering into a maildir.
struct Smtp {
    child: Child,
}

impl Smtp {
    fn start(port: u16, maildir: &Path) -> Smtp {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (the README's test command installs aiosmtpd)");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen: run the README's test command, which installs it"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp { child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port")
}

/// Every message delivered so far, as text, its quoted-printable parts' soft line breaks
/// and `=3D` undone (enough to read links).
fn messages(maildir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(maildir.join(sub)) {
            for e in entries.flatten() {
                let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
                out.push(raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "="));
            }
        }
    }
    out
}

/// Waits for a message to `to` holding `needle`, for `secs`.
async fn mail_to(maildir: &Path, to: &str, needle: &str, secs: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(m) = messages(maildir).into_iter().find(|m| m.contains(&format!("To: {to}")) && m.contains(needle))
        {
            return m;
        }
        assert!(Instant::now() < deadline, "no mail to {to} holding {needle:?}: {:?}", messages(maildir));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The token of the first link in `mail` that holds `token=`.
fn token_in(mail: &str) -> String {
    let at = mail.find("token=").expect("a link with a token") + 6;
    mail[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_are_verified_passwords_reset_and_mail_waits_for_a_server_that_is_down() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let smtp = Smtp::start(port, &maildir);
    let s = Server::start_with(|c| {
        c.limits = collective_brain::limits::Limits::off();
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some("https://brain.example.org".into());
        c.mail_from = "Collective Brain <brain@example.org>".into();
    })
    .await;
    let (_, config) = s.guest().get("/config").await;
    assert_eq!(config["email"], true);
    let amina = s.user("amina").await;
    let bruno = s.user("bruno").await;

    // An address, unverified until its link is opened; nobody else sees it.
    let (status, e) = amina.patch("/me", json!({"email": "not an address"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("email")), "{e}");
    let (status, me) = amina.patch("/me", json!({"email": "amina@example.org"})).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!((me["email"].as_str(), me["email_verified"].as_bool()), (Some("amina@example.org"), Some(false)));
    let (_, seen) = bruno.get(&format!("/users/{}", amina.id())).await;
    assert!(seen.get("email").is_none(), "{seen}");
    let mail = mail_to(&maildir, "amina@example.org", "verify-email", 15).await;
    assert!(mail.contains("Subject: Confirm your address"), "{mail}");
    assert!(mail.contains("Message-ID: <verify."), "{mail}");
    assert!(mail.contains("https://brain.example.org/#/verify-email?token="), "{mail}");
    assert!(mail.contains("multipart/alternative"), "text and HTML: {mail}");
    let token = token_in(&mail);
    assert_eq!(s.guest().post("/auth/verify-email", json!({"token": "nope"})).await.0, 400);
    assert_eq!(s.guest().post("/auth/verify-email", json!({"token": token})).await.0, 204);
    assert_eq!(s.guest().post("/auth/verify-email", json!({"token": token})).await.0, 400, "once");
    let (_, me) = amina.get("/me").await;
    assert_eq!(me["email_verified"], true);

    // A reset: the same answer for anyone, a mail only to a verified address.
    assert_eq!(s.guest().post("/auth/password-reset", json!({"login": "nobody"})).await.0, 202);
    assert_eq!(s.guest().post("/auth/password-reset", json!({"login": "bruno"})).await.0, 202);
    assert_eq!(s.guest().post("/auth/password-reset", json!({"login": "AMINA@example.org"})).await.0, 202);
    let mail = mail_to(&maildir, "amina@example.org", "reset-password", 15).await;
    let token = token_in(&mail);
    let new = "a brand new long password";
    let (status, e) =
        s.guest().post("/auth/password-reset/confirm", json!({"token": token, "password": "short"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("password")));
    assert_eq!(s.guest().post("/auth/password-reset/confirm", json!({"token": token, "password": new})).await.0, 204);
    assert_eq!(amina.get("/me").await.0, 401, "every session ended");
    let (status, _) = s.guest().post("/auth/login", json!({"handle": "amina", "password": new})).await;
    assert_eq!(status, 200);
    assert_eq!(s.guest().post("/auth/password-reset/confirm", json!({"token": token, "password": new})).await.0, 400);
    assert_eq!(messages(&maildir).iter().filter(|m| m.contains("To: bruno")).count(), 0);

    // The SMTP server goes down: an invitation waits in the outbox and goes once it is back.
    smtp.stop();
    let admin = s.admin().await;
    let (status, invite) =
        admin.post("/invites", json!({"email": "newcomer@example.org", "label": "Academy 2027"})).await;
    assert_eq!(status, 201, "{invite}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(!messages(&maildir).iter().any(|m| m.contains("newcomer@example.org")));
    let smtp = Smtp::start(port, &maildir);
    let mail = mail_to(&maildir, "newcomer@example.org", "/#/join/", 40).await;
    assert!(mail.contains(invite["code"].as_str().unwrap()), "{mail}");
    assert_eq!(messages(&maildir).iter().filter(|m| m.contains("To: newcomer@example.org")).count(), 1, "sent once");
    smtp.stop();
}

#[tokio::test]
async fn without_an_smtp_server_the_server_says_it_sends_no_email() {
    let s = Server::start().await;
    let (_, config) = s.guest().get("/config").await;
    assert_eq!(config["email"], false);
    let amina = s.user("amina").await;
    let (status, e) = amina.patch("/me", json!({"email": "amina@example.org"})).await;
    assert_eq!((status, e["error"]["field"].as_str()), (400, Some("email")), "{e}");
    assert_eq!(s.guest().post("/auth/password-reset", json!({"login": "amina"})).await.0, 202);
}
