//! Email through a real SMTP server process (Python's aiosmtpd, which the README's test
//! command installs, with the handler in `tests/smtp`), delivering into a maildir the
//! test reads and parses: addresses verified by a mailed link, password resets,
//! invitations, notices of what members missed, digests, one-click unsubscribing, mail
//! kept and retried while the SMTP server is down, and mail it refuses shown to admins.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::util::*;

/// An SMTP server on a loopback port, delivering into a maildir.
pub(crate) struct Smtp {
    child: Child,
}

impl Smtp {
    pub(crate) fn start(port: u16, maildir: &Path) -> Smtp {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "maildrop.Maildrop"])
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp"))
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

    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

pub(crate) fn free_port() -> u16 {
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

/// A delivered message, its MIME parsed and its parts decoded.
#[derive(Clone, Debug)]
struct Mail {
    to: String,
    subject: String,
    message_id: String,
    list_unsubscribe: Option<String>,
    list_unsubscribe_post: Option<String>,
    text: String,
    html: String,
}

fn parsed(maildir: &Path) -> Vec<Mail> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(maildir.join(sub)) else { continue };
        for e in entries.flatten() {
            let raw = std::fs::read(e.path()).unwrap_or_default();
            let Ok(m) = mailparse::parse_mail(&raw) else { continue };
            let header = |name: &str| {
                use mailparse::MailHeaderMap;
                m.headers.get_first_value(name)
            };
            let (mut text, mut html) = (String::new(), String::new());
            for part in m.subparts.iter().chain(std::iter::once(&m)) {
                match part.ctype.mimetype.as_str() {
                    "text/plain" => text = part.get_body().unwrap_or_default(),
                    "text/html" => html = part.get_body().unwrap_or_default(),
                    _ => {}
                }
            }
            out.push(Mail {
                to: header("To").unwrap_or_default(),
                subject: header("Subject").unwrap_or_default(),
                message_id: header("Message-ID").unwrap_or_default(),
                list_unsubscribe: header("List-Unsubscribe"),
                list_unsubscribe_post: header("List-Unsubscribe-Post"),
                text,
                html,
            });
        }
    }
    out
}

/// The mails to `to` delivered so far.
fn mails_to(maildir: &Path, to: &str) -> Vec<Mail> {
    parsed(maildir).into_iter().filter(|m| m.to.contains(to)).collect()
}

/// Waits for a mail to `to` whose text holds `needle`.
async fn parsed_to(maildir: &Path, to: &str, needle: &str, secs: u64) -> Mail {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(m) = mails_to(maildir, to).into_iter().find(|m| m.text.contains(needle)) {
            return m;
        }
        assert!(Instant::now() < deadline, "no mail to {to} holding {needle:?}: {:?}", mails_to(maildir, to));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Gives `c` the address `email` and opens the link mailed to it.
async fn verified(s: &Server, maildir: &Path, c: &Client, email: &str) {
    let (status, me) = c.patch("/me", json!({"email": email})).await;
    assert_eq!(status, 200, "{me}");
    let mail = mail_to(maildir, email, "verify-email", 15).await;
    assert_eq!(s.guest().post("/auth/verify-email", json!({"token": token_in(&mail)})).await.0, 204);
}

/// A server mailing through the SMTP server on `port`, notices due after 10 s.
async fn mailing_server(port: u16, clock: &collective_brain::clock::Clock) -> Server {
    let clock = clock.clone();
    Server::start_with(move |c| {
        c.limits = collective_brain::limits::Limits::off();
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some("https://brain.example.org".into());
        c.mail_from = "Collective Brain <brain@example.org>".into();
        c.email_delay_secs = 10;
        c.clock = clock;
    })
    .await
}

/// An SMTP server delivering into a temporary maildir, and a server mailing through it
/// (notices due after 10 s) on a clock the test moves.
struct Mailing {
    tmp: tempfile::TempDir,
    maildir: std::path::PathBuf,
    port: u16,
    smtp: Smtp,
    clock: collective_brain::clock::Clock,
    s: Server,
}

impl Mailing {
    async fn start() -> Mailing {
        let tmp = tempfile::tempdir().unwrap();
        let maildir = tmp.path().join("mail");
        let port = free_port();
        let smtp = Smtp::start(port, &maildir);
        let clock = collective_brain::clock::Clock::default();
        let s = mailing_server(port, &clock).await;
        Mailing { tmp, maildir, port, smtp, clock, s }
    }
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

/// Mentions, replies and direct messages not seen within the delay, while their reader
/// has no socket open, are mailed together, quoting what may still be read; a reader who
/// is online hears once they leave; one click stops them.
#[tokio::test(flavor = "multi_thread")]
async fn missed_mentions_replies_and_messages_are_mailed_together_and_stop_with_one_click() {
    let Mailing { tmp: _tmp, maildir, port: _, smtp, clock, s } = Mailing::start().await;
    let admin = s.admin().await;
    let amina = s.user("amina").await;
    let bruno = s.user("bruno").await;
    let chloe = s.user("chloe").await;
    let dora = s.user("dora").await;
    for (c, email) in [(&amina, "amina@example.org"), (&chloe, "chloe@example.org"), (&dora, "dora@example.org")] {
        verified(&s, &maildir, c, email).await;
    }
    let general = s.space_id("general").await;
    let (room, first) = thread(&amina, &general, "Seed funds for cooperatives", "Who has tried this?").await;
    let reply_to = first["id"].as_str().unwrap();

    // Bruno replies to Amina, mentions her twice more (one of them hidden by a
    // moderator before the delay is over), and writes to her directly; he mentions
    // Chloe, who is online, and Dora, who reads the thread in time.
    let post = |body: &str, reply: Option<&str>| {
        let mut b = json!({"body": body, "nonce": format!("n-{body}")});
        if let Some(r) = reply {
            b["reply_to"] = json!(r);
        }
        b
    };
    let (st, replied) =
        bruno.post(&format!("/rooms/{room}/posts"), post("We did, in Recife: ask me.", Some(reply_to))).await;
    assert_eq!(st, 201, "{replied}");
    let (_, mentioned) =
        bruno.post(&format!("/rooms/{room}/posts"), post("@amina the statutes are attached.", None)).await;
    let (_, hidden) = bruno.post(&format!("/rooms/{room}/posts"), post("@amina here is my bank password", None)).await;
    let (_, dm) = bruno.post("/dms", json!({"users": [amina.id()]})).await;
    let dm_room = dm["id"].as_str().unwrap().to_owned();
    let (st, direct) = bruno.post(&format!("/rooms/{dm_room}/posts"), post("Can we talk on Friday?", None)).await;
    assert_eq!(st, 201, "{direct} {dm}");
    let mut chloe_ws = chloe.ws().await;
    bruno.post(&format!("/rooms/{room}/posts"), post("@chloe and @dora, your view?", None)).await;
    let (st, e) =
        admin.post(&format!("/posts/{}/hide", hidden["id"].as_str().unwrap()), json!({"reason": "a secret"})).await;
    assert!(st < 300, "{e}");
    let (_, r) = dora.get(&format!("/rooms/{room}")).await;
    let (st, e) = dora.put(&format!("/rooms/{room}/read"), json!({"seq": r["last_seq"]})).await;
    assert!(st < 300, "{e}");
    // Nothing before the delay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(mails_to(&maildir, "amina@example.org").iter().all(|m| !m.text.contains("Recife")));

    clock.advance(Duration::from_secs(11));
    let mail = parsed_to(&maildir, "amina@example.org", "Recife", 20).await;
    assert_eq!(mail.subject, "3 new messages for you on Collective Brain", "{mail:?}");
    for needle in [
        "bruno replied to you in “Seed funds for cooperatives”",
        "> We did, in Recife: ask me.",
        "bruno mentioned you in “Seed funds for cooperatives”",
        "the statutes are attached",
        "bruno wrote to you",
        "Can we talk on Friday?",
    ] {
        assert!(mail.text.contains(needle), "{needle:?} in {}", mail.text);
    }
    let link = format!("https://brain.example.org/#/p/{}", replied["id"].as_str().unwrap());
    assert!(mail.text.contains(&link) && mail.html.contains(&link), "{mail:?}");
    assert!(mail.html.contains("<blockquote><p>We did, in Recife: ask me.</p>"), "{}", mail.html);
    assert!(!mail.text.contains("bank password") && !mail.html.contains("bank password"), "hidden: {mail:?}");
    assert!(!mail.text.contains(amina.token.as_deref().unwrap()), "no session token");
    assert_eq!(mail.list_unsubscribe_post.as_deref(), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = mail.list_unsubscribe.clone().expect("List-Unsubscribe");
    assert!(unsubscribe.starts_with("<https://brain.example.org/api/v1/unsubscribe?"), "{unsubscribe}");
    assert_eq!(mails_to(&maildir, "amina@example.org").iter().filter(|m| m.text.contains("Recife")).count(), 1);
    // Dora read the thread in time; Chloe is online.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(mails_to(&maildir, "dora@example.org").iter().all(|m| !m.text.contains("your view")));
    assert!(mails_to(&maildir, "chloe@example.org").iter().all(|m| !m.text.contains("your view")));
    // Chloe leaves without reading: she hears of it.
    chloe_ws.inner.close(None).await.ok();
    drop(chloe_ws);
    let mail = parsed_to(&maildir, "chloe@example.org", "your view", 20).await;
    assert_eq!(mail.subject, "bruno mentioned you in “Seed funds for cooperatives”");

    // The link, opened in a browser, asks; its POST (what a mail client sends) stops it.
    let url = unsubscribe.trim_matches(['<', '>']).replace("https://brain.example.org", &format!("http://{}", s.addr));
    let page = s.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\">"));
    let (_, me) = amina.get("/me").await;
    assert_eq!(me["email_settings"]["notifications"], "immediate", "a GET stops nothing");
    let forged = url.replace("kind=notices", "kind=digest");
    assert_eq!(s.http.post(&forged).send().await.unwrap().status(), 400, "the signature is the kind's");
    let done = s
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click");
    assert_eq!(done.send().await.unwrap().status(), 200);
    let (_, me) = amina.get("/me").await;
    assert_eq!(me["email_settings"], json!({"notifications": "off", "digest": "weekly"}));
    bruno.post(&format!("/rooms/{room}/posts"), post("@amina one more thing", None)).await;
    clock.advance(Duration::from_secs(11));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(mails_to(&maildir, "amina@example.org").iter().all(|m| !m.text.contains("one more thing")));

    // Turned on again in the profile.
    let (st, v) = amina.put("/me/email-settings", json!({"notifications": "immediate", "digest": "off"})).await;
    assert_eq!((st, &v), (200, &json!({"notifications": "immediate", "digest": "off"})));
    assert_eq!(amina.put("/me/email-settings", json!({"notifications": "often"})).await.0, 400);
    bruno.post(&format!("/rooms/{room}/posts"), post("@amina last one, promised", None)).await;
    clock.advance(Duration::from_secs(11));
    parsed_to(&maildir, "amina@example.org", "last one, promised", 20).await;
    let _ = (mentioned, direct);
    smtp.stop();
}

/// A daily digest in the reader's interface language: the new threads and the most
/// active discussions of what they may read (never a private group of others, never a
/// hidden post), the notices they chose to get there, each post in a language they read.
#[tokio::test(flavor = "multi_thread")]
async fn a_daily_digest_tells_what_happened_in_what_the_reader_may_read() {
    let Mailing { tmp: _tmp, maildir, port: _, smtp, clock, s } = Mailing::start().await;
    let admin = s.admin().await;
    let amina = s.user_with("amina", json!({"languages": ["fr", "en"]})).await;
    let bruno = s.user("bruno").await;
    let carla = s.user_with("carla", json!({"languages": ["pt"]})).await;
    verified(&s, &maildir, &amina, "amina@example.org").await;
    let (st, _) = amina.put("/me/email-settings", json!({"notifications": "digest", "digest": "daily"})).await;
    assert_eq!(st, 200);
    let general = s.space_id("general").await;
    let meeting = s.space_id("meeting-point").await;
    let group = private_forum(&admin, "mercosur-wg", &[&bruno]).await;

    thread(&bruno, &general, "Mapping SSE statistics", "A first map of the satellite accounts.").await;
    let (busy, _) = thread(&carla, &meeting, "Feira de economia solidária", "Quem vem à feira em Lisboa?").await;
    for i in 0..4 {
        let body = json!({"body": format!("Vou levar os produtos da cooperativa, dia {i}."), "nonce": format!("b{i}"), "lang": "pt"});
        assert_eq!(carla.post(&format!("/rooms/{busy}/posts"), body).await.0, 201);
    }
    let (_, hidden) =
        bruno.post(&format!("/rooms/{busy}/posts"), json!({"body": "Buy cheap watches here", "nonce": "spam"})).await;
    admin.post(&format!("/posts/{}/hide", hidden["id"].as_str().unwrap()), json!({"reason": "spam"})).await;
    thread(&bruno, &group, "Confidential budget lines", "Only for the working group.").await;
    let (_, b) = bruno
        .post(&format!("/rooms/{busy}/posts"), json!({"body": "@amina will you come to Lisbon?", "nonce": "m1"}))
        .await;
    assert!(b["id"].is_string(), "{b}");
    // Not a notice: she chose to hear of them in the digest.
    clock.advance(Duration::from_secs(11));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(mails_to(&maildir, "amina@example.org").iter().all(|m| !m.text.contains("Lisbon")));

    clock.advance(Duration::from_secs(24 * 3600));
    let mail = parsed_to(&maildir, "amina@example.org", "Feira", 20).await;
    assert_eq!(mail.subject, "Votre résumé quotidien de Collective Brain", "{mail:?}");
    for needle in [
        "Nouvelles discussions",
        "Mapping SSE statistics",
        "A first map of the satellite accounts.",
        "Feira de economia solidária",
        "Vous attendent",
        "will you come to Lisbon?",
        "(en português)",
        "https://brain.example.org/#/p/",
    ] {
        assert!(mail.text.contains(needle), "{needle:?} in {}", mail.text);
    }
    for never in ["Confidential", "Only for the working group", "cheap watches"] {
        assert!(!mail.text.contains(never) && !mail.html.contains(never), "{never:?} in {mail:?}");
    }
    assert!(mail.html.contains("<h2>Nouvelles discussions</h2>"), "{}", mail.html);
    let unsubscribe = mail.list_unsubscribe.clone().expect("List-Unsubscribe");
    assert!(unsubscribe.contains("kind=digest"), "{unsubscribe}");
    assert_eq!(mails_to(&maildir, "amina@example.org").iter().filter(|m| m.subject.contains("résumé")).count(), 1);

    // Nothing new the next day: no mail. One click and the digest stops.
    clock.advance(Duration::from_secs(24 * 3600 + 60));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(mails_to(&maildir, "amina@example.org").iter().filter(|m| m.subject.contains("résumé")).count(), 1);
    let url = unsubscribe.trim_matches(['<', '>']).replace("https://brain.example.org", &format!("http://{}", s.addr));
    let page = s.http.post(&url).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("C'est fait"), "in her language");
    let (_, me) = amina.get("/me").await;
    assert_eq!(me["email_settings"], json!({"notifications": "digest", "digest": "off"}));
    smtp.stop();
}

/// While the SMTP server is down, notices wait; once it is back each arrives once. Mail
/// it refuses for good is shown to admins, who can forget it.
#[tokio::test(flavor = "multi_thread")]
async fn notices_wait_for_a_server_that_is_down_and_refused_mail_is_shown_to_admins() {
    let Mailing { tmp: _tmp, maildir, port, smtp, clock, s } = Mailing::start().await;
    let admin = s.admin().await;
    let bruno = s.user("bruno").await;
    let mut readers = Vec::new();
    for name in ["amina", "chloe", "dora", "emeka"] {
        let c = s.user(name).await;
        verified(&s, &maildir, &c, &format!("{name}@example.org")).await;
        readers.push(c);
    }
    smtp.stop();
    let general = s.space_id("general").await;
    let (room, _) = thread(&bruno, &general, "Budget", "Draft budget for 2027").await;
    for (i, name) in ["amina", "chloe", "dora", "emeka"].iter().enumerate() {
        let body = json!({"body": format!("@{name} please check line {i}"), "nonce": format!("n{i}")});
        assert_eq!(bruno.post(&format!("/rooms/{room}/posts"), body).await.0, 201);
    }
    clock.advance(Duration::from_secs(11));
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, status) = admin.get("/admin/mail").await;
    assert_eq!(status["waiting"], 4, "{status}");
    assert_eq!(bruno.get("/admin/mail").await.0, 403);
    let smtp = Smtp::start(port, &maildir);
    for (i, name) in ["amina", "chloe", "dora", "emeka"].iter().enumerate() {
        let to = format!("{name}@example.org");
        parsed_to(&maildir, &to, &format!("please check line {i}"), 60).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let notices: Vec<Mail> = parsed(&maildir).into_iter().filter(|m| m.text.contains("please check line")).collect();
    assert_eq!(notices.len(), 4, "each once: {notices:?}");
    let mut ids: Vec<&str> = notices.iter().map(|m| m.message_id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4);

    // A recipient the SMTP server refuses for good (550): failed, shown, forgotten.
    let (st, _) = admin.post("/invites", json!({"email": "refused@example.org"})).await;
    assert_eq!(st, 201);
    let deadline = Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let (_, status) = admin.get("/admin/mail").await;
        if let Some(f) = status["failed"].as_array().and_then(|a| a.first()).cloned() {
            break f;
        }
        assert!(Instant::now() < deadline, "never failed: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(failed["to"], "refused@example.org");
    assert_eq!(failed["kind"], "invite");
    assert!(failed["error"].as_str().unwrap().contains("550"), "{failed}");
    let id = failed["id"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/admin/mail/{id}")).await.0, 204);
    assert_eq!(admin.delete(&format!("/admin/mail/{id}")).await.0, 404);
    let (_, status) = admin.get("/admin/mail").await;
    assert_eq!((status["waiting"].as_u64(), status["failed"].as_array().map(Vec::len)), (Some(0), Some(0)));
    smtp.stop();
}

/// `collective-brain mail test --to` sends a message with the server's settings, or says
/// why not.
#[tokio::test]
async fn the_mail_test_command_sends_a_message_or_says_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let smtp = Smtp::start(port, &maildir);
    let bin = env!("CARGO_BIN_EXE_collective-brain");
    let out = Command::new(bin)
        .args(["mail", "test", "--to", "operator@example.org"])
        .env("CB_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .env("CB_MAIL_FROM", "Brain <brain@example.org>")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mail = parsed_to(&maildir, "operator@example.org", "can send email", 10).await;
    assert!(mail.subject.starts_with("A test message from"), "{mail:?}");
    smtp.stop();
    let out = Command::new(bin)
        .args(["mail", "test", "--to", "operator@example.org"])
        .env("CB_SMTP_URL", format!("smtp://127.0.0.1:{port}"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not sent"), "{}", String::from_utf8_lossy(&out.stderr));
    let out =
        Command::new(bin).args(["mail", "test", "--to", "x@example.org"]).env_remove("CB_SMTP_URL").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("CB_SMTP_URL is not set"));
}

/// Mail in the outbox when the server is killed with SIGKILL goes after the restart,
/// each once.
#[tokio::test(flavor = "multi_thread")]
async fn mail_in_the_outbox_survives_sigkill_and_goes_once() {
    use crate::process::Proc;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let env = [("CB_SMTP_URL", smtp_url.as_str()), ("CB_MAIL_FROM", "Brain <brain@example.org>")];
    // No SMTP server yet: every verification mail waits.
    let p = Proc::spawn(&data, &env);
    p.ready().await;
    let names = ["amina", "bruno", "chloe", "dora", "emeka", "farah"];
    for name in names {
        let body = json!({"handle": name, "password": PASSWORD, "email": format!("{name}@example.org")});
        let (status, v) = p.client(None).post("/auth/register", body).await;
        assert_eq!(status, 201, "{v}");
    }
    p.sigkill();
    let smtp = Smtp::start(port, &maildir);
    let p = Proc::spawn(&data, &env);
    p.ready().await;
    for name in names {
        parsed_to(&maildir, &format!("{name}@example.org"), "verify-email", 60).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all = parsed(&maildir);
    assert_eq!(all.len(), names.len(), "each once: {all:?}");
    drop(p);
    smtp.stop();
}

/// Past `outbox_max`, the oldest notices make room; account mail is never dropped.
#[tokio::test(flavor = "multi_thread")]
async fn a_full_outbox_drops_the_oldest_notices_and_keeps_account_mail() {
    let tmp = tempfile::tempdir().unwrap();
    let maildir = tmp.path().join("mail");
    let port = free_port();
    let smtp = Smtp::start(port, &maildir);
    let clock = collective_brain::clock::Clock::default();
    let keep = clock.clone();
    let s = Server::start_with(move |c| {
        c.limits = collective_brain::limits::Limits::off();
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.mail_from = "Collective Brain <brain@example.org>".into();
        c.email_delay_secs = 10;
        c.outbox_max = 3;
        c.clock = keep;
    })
    .await;
    let admin = s.admin().await;
    let bruno = s.user("bruno").await;
    let names = ["amina", "chloe", "dora"];
    for name in names {
        let c = s.user(name).await;
        verified(&s, &maildir, &c, &format!("{name}@example.org")).await;
    }
    smtp.stop();
    let general = s.space_id("general").await;
    let (room, _) = thread(&bruno, &general, "Agenda", "The agenda of the meeting").await;
    // One notice after another: Amina's is the oldest, Dora's the newest.
    for (i, name) in names.iter().enumerate() {
        let body = json!({"body": format!("@{name} see the agenda"), "nonce": format!("a-{name}")});
        assert_eq!(bruno.post(&format!("/rooms/{room}/posts"), body).await.0, 201);
        clock.advance(Duration::from_secs(11));
        let deadline = Instant::now() + Duration::from_secs(20);
        while admin.get("/admin/mail").await.1["waiting"] != i + 1 {
            assert!(Instant::now() < deadline, "{}", admin.get("/admin/mail").await.1);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    // Two resets: account mail, kept though the outbox is over its bound.
    for name in ["amina", "chloe"] {
        assert_eq!(s.guest().post("/auth/password-reset", json!({"login": name})).await.0, 202);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, status) = admin.get("/admin/mail").await;
        if status["waiting"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "{status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let smtp = Smtp::start(port, &maildir);
    for name in ["amina", "chloe"] {
        mail_to(&maildir, &format!("{name}@example.org"), "reset-password", 60).await;
    }
    let notices = |m: &Mail| m.text.contains("see the agenda");
    let deadline = Instant::now() + Duration::from_secs(60);
    while parsed(&maildir).iter().filter(|m| notices(m)).count() < 1 {
        assert!(Instant::now() < deadline, "the newest notice never came");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let got: Vec<String> = parsed(&maildir).into_iter().filter(|m| notices(m)).map(|m| m.to).collect();
    assert_eq!(got, vec!["dora@example.org".to_owned()], "only the newest notice was kept");
    smtp.stop();
}
