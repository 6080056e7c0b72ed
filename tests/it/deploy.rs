//! Running it for real, as `docs/DEPLOY.md` does: behind Debian's nginx with TLS
//! (`deploy/nginx.conf` with its placeholders filled and a self-signed certificate from
//! openssl), the systemd unit, the Prometheus scrape and alert rules, JSON logs. The
//! README's test command installs nginx, promtool and systemd-analyze.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use collective_brain::limits::{Limits, Rate};
use serde_json::{json, Value};

use crate::mail::free_port;
use crate::util::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn tool(name: &str) -> String {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    panic!("{name} is missing: run the README's test command (scripts/test.sh), which installs it");
}

/// Runs a command to its end: (success, stdout, stderr).
fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Debian's nginx on a loopback port, running `deploy/nginx.conf` in front of `upstream`.
struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Nginx {
    fn start(dir: &Path, upstream: SocketAddr) -> Nginx {
        let nginx = tool("nginx");
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let (ok, _, err) = run(Command::new(tool("openssl"))
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"])
            .args([
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                key.to_str().unwrap(),
                "-out",
                cert.to_str().unwrap(),
            ]));
        assert!(ok, "openssl: {err}");
        let port = free_port();
        let site = std::fs::read_to_string(Path::new(ROOT).join("deploy/nginx.conf")).expect("deploy/nginx.conf");
        let filled = site
            .replace("__LISTEN__", &format!("127.0.0.1:{port}"))
            .replace("__SERVER_NAME__", "localhost")
            .replace("__CERT__", cert.to_str().unwrap())
            .replace("__KEY__", key.to_str().unwrap())
            .replace("__UPSTREAM__", &upstream.to_string());
        let left: Vec<&str> = filled.lines().filter(|l| !l.trim_start().starts_with('#') && l.contains("__")).collect();
        assert!(left.is_empty(), "placeholders left: {left:?}");
        std::fs::write(dir.join("site.conf"), filled).unwrap();
        // What Debian's /etc/nginx/nginx.conf gives a site, in the test's own dir.
        let root = if run(Command::new("id").arg("-u")).1.trim() == "0" { "user root;" } else { "" };
        let d = dir.display();
        let main = format!(
            "{root}\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nevents {{ worker_connections 512; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/site.conf;\n}}\n"
        );
        std::fs::write(dir.join("nginx.conf"), main).unwrap();
        let conf = dir.join("nginx.conf");
        let args = ["-p", dir.to_str().unwrap(), "-e", "stderr", "-c", conf.to_str().unwrap()];
        let (ok, _, err) = run(Command::new(&nginx).args(args).arg("-t"));
        assert!(ok, "nginx -t refuses deploy/nginx.conf:\n{err}");
        let child = Command::new(&nginx)
            .args(args)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen: {}",
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { child, port, dir: dir.to_owned() }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// A request through nginx with curl, from the loopback address `from`: (status, body).
    fn curl(&self, from: &str, method: &str, path: &str, extra: &[&str]) -> (u16, String) {
        let (_, out, err) = run(Command::new(tool("curl"))
            .args(["-sk", "--http2", "--interface", from, "-X", method, "-w", "\n%{http_code}"])
            .args(extra)
            .arg(self.url(path)));
        let (body, status) = out.rsplit_once('\n').unwrap_or_else(|| panic!("curl said nothing: {err}"));
        (status.trim().parse().unwrap_or(0), body.to_owned())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(self.dir.join("nginx.pid"));
    }
}

fn register_body(handle: &str) -> String {
    json!({"handle": handle, "password": PASSWORD, "languages": ["en"]}).to_string()
}

/// A registration through nginx from `from`, forwarding what nginx adds to any
/// X-Forwarded-For the client sent.
fn register_via(n: &Nginx, from: &str, handle: &str, forged: Option<&str>) -> u16 {
    let body = register_body(handle);
    let mut extra = vec!["-H", "content-type: application/json", "--data", &body];
    let header;
    if let Some(f) = forged {
        header = format!("x-forwarded-for: {f}");
        extra.extend(["-H", &header]);
    }
    n.curl(from, "POST", "/api/v1/auth/register", &extra).0
}

/// A registration straight to the server from `from`, claiming to forward `forged`.
async fn register_direct(s: &Server, from: &str, handle: &str, forged: &str) -> u16 {
    let http = reqwest::Client::builder().local_address(from.parse::<std::net::IpAddr>().unwrap()).build().unwrap();
    let r = http
        .post(s.api("/auth/register"))
        .header("x-forwarded-for", forged)
        .header("content-type", "application/json")
        .body(register_body(handle))
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// Registrations one address may make at once in the proxy test.
const BURST: u32 = 3;

#[tokio::test(flavor = "multi_thread")]
async fn behind_nginx_with_tls_the_community_works_and_sees_its_clients() {
    let root = Path::new(ROOT);
    let max = 25 * 1024 * 1024;
    let s = Server::start_with(|c| {
        // Registrations per address: the browser's two and the uploader come from nginx's
        // own address, 127.0.0.1.
        c.limits = Limits { register: Rate::new(BURST, 1), ..Limits::off() };
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        c.web_dir = None;
        c.max_file_bytes = max;
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(tmp.path(), s.addr);

    // The web client and the API over HTTPS with HTTP/2; compression is the server's.
    let (ok, out, err) = run(Command::new(tool("curl"))
        .args([
            "-sk",
            "--http2",
            "-o",
            "/dev/null",
            "-H",
            "accept-encoding: br, gzip",
            "-w",
            "%{http_version} %{http_code}",
            "-D",
            "-",
        ])
        .arg(nginx.url("/")));
    assert!(ok, "{err}");
    assert!(out.ends_with("2 200"), "{out}");
    assert!(out.to_ascii_lowercase().contains("content-encoding: br"), "{out}");
    assert!(out.to_ascii_lowercase().contains("strict-transport-security"), "{out}");

    // The server tells clients apart behind nginx: each address has its own allowance.
    for i in 0..BURST {
        assert_eq!(register_via(&nginx, "127.0.0.9", &format!("via_a{i}"), None), 201);
    }
    assert_eq!(register_via(&nginx, "127.0.0.9", "via_a_over", None), 429, "one too many from one address");
    assert_eq!(register_via(&nginx, "127.0.0.10", "via_b", None), 201, "another client is not the proxy's address");
    // A client's own X-Forwarded-For through nginx does not make it someone else.
    assert_eq!(register_via(&nginx, "127.0.0.9", "via_a_forged", Some("127.0.0.77")), 429);
    // Straight to the server, an untrusted peer's X-Forwarded-For is ignored.
    for i in 0..BURST {
        assert_eq!(register_direct(&s, "127.0.0.11", &format!("direct{i}"), &format!("127.0.0.{}", 21 + i)).await, 201);
    }
    let forged = register_direct(&s, "127.0.0.11", "direct_over", "127.0.0.99").await;
    assert_eq!(forged, 429, "forged addresses are counted as the peer's");

    // An upload at the size limit passes nginx whole; one byte more is refused.
    let member = s.user("uploader").await;
    let token = member.token.clone().unwrap();
    let auth = format!("authorization: Bearer {token}");
    let file = tmp.path().join("limit.bin");
    let mut bytes = vec![0u8; max as usize];
    bytes[..5].copy_from_slice(b"SSE\n\n");
    std::fs::write(&file, &bytes).unwrap();
    let data = format!("@{}", file.display());
    let up = ["-H", auth.as_str(), "-H", "content-type: application/octet-stream", "--data-binary", data.as_str()];
    let (status, body) = nginx.curl("127.0.0.1", "POST", "/api/v1/files?name=limit.bin", &up);
    assert_eq!(status, 201, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["size"], max, "{v}");
    bytes.push(0);
    std::fs::write(&file, &bytes).unwrap();
    let (status, _) = nginx.curl("127.0.0.1", "POST", "/api/v1/files?name=over.bin", &up);
    assert_eq!(status, 413, "one byte over the limit");

    // The browser journey over https:// and wss://, with a socket idle past 60 s.
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "{chromium} is missing: run the README's test command");
    let out = tokio::process::Command::new("node")
        .arg(root.join("web/tests/browser.mjs"))
        .arg(nginx.url(""))
        .arg(root.join("target/screenshots"))
        .env("CB_BEHIND_PROXY", "1")
        .env("NODE_TLS_REJECT_UNAUTHORIZED", "0")
        .env("NODE_NO_WARNINGS", "1")
        .env("CB_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("CHROMIUM", &chromium)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("1 passed, 0 failed"), "the browser behind nginx:\n{stdout}");
    drop(nginx);
    s.stop().await;
}

#[test]
fn the_unit_file_verifies_and_is_sandboxed() {
    let unit = std::fs::read_to_string(Path::new(ROOT).join("deploy/collective-brain.service")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // The binary the unit starts must exist for systemd-analyze: the one just built.
    let file = tmp.path().join("collective-brain.service");
    std::fs::write(&file, unit.replace("/usr/local/bin/collective-brain", env!("CARGO_BIN_EXE_collective-brain")))
        .unwrap();
    let analyze = tool("systemd-analyze");
    let (ok, out, err) = run(Command::new(&analyze).arg("verify").arg(&file));
    // Unknown keys and bad values are only warned about: none may be.
    assert!(ok && err.trim().is_empty(), "systemd-analyze verify:\n{out}{err}");
    let (_, out, err) = run(Command::new(&analyze).args(["security", "--offline=yes"]).arg(&file));
    let level = out
        .lines()
        .chain(err.lines())
        .find_map(|l| l.split_once("Overall exposure level for collective-brain.service: ").map(|(_, r)| r.to_owned()))
        .unwrap_or_else(|| panic!("no exposure level:\n{out}{err}"));
    let level: f64 = level.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a number");
    assert!(level <= 2.0, "exposure {level}: the sandboxing lost settings");
    for key in [
        "User=collective-brain",
        "LimitNOFILE=65536",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
    ] {
        assert!(unit.lines().any(|l| l == key), "{key}");
    }
}

#[tokio::test]
async fn prometheus_reads_the_metrics_and_the_alerts_watch_them() {
    let promtool = tool("promtool");
    let tmp = tempfile::tempdir().unwrap();
    let dir = Path::new(ROOT).join("deploy/prometheus");
    for f in ["alerts.yml", "alerts_test.yml"] {
        std::fs::copy(dir.join(f), tmp.path().join(f)).unwrap();
    }
    // The scrape config, with its token file where the test can make one.
    let token = tmp.path().join("token");
    std::fs::write(&token, "a-scraper-token").unwrap();
    let config = std::fs::read_to_string(dir.join("prometheus.yml")).unwrap();
    let config = config.replace("/etc/prometheus/collective-brain.token", token.to_str().unwrap());
    std::fs::write(tmp.path().join("prometheus.yml"), config).unwrap();
    for args in
        [["check", "config", "prometheus.yml"], ["check", "rules", "alerts.yml"], ["test", "rules", "alerts_test.yml"]]
    {
        let (ok, out, err) = run(Command::new(&promtool).args(args).current_dir(tmp.path()));
        assert!(ok, "promtool {args:?}:\n{out}{err}");
    }

    // What the server exports passes promtool's lint, and every metric an alert names is
    // among it.
    let s = Server::start().await;
    let admin = s.admin().await;
    let r = s.http.get(s.url("/metrics")).bearer_auth(admin.token.clone().unwrap()).send().await.unwrap();
    let text = r.text().await.unwrap();
    let mut child = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let alerts = std::fs::read_to_string(dir.join("alerts.yml")).unwrap();
    let named: std::collections::BTreeSet<&str> =
        alerts.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("cb_")).collect();
    assert!(named.len() >= 6, "{named:?}");
    for m in named {
        assert!(text.lines().any(|l| l.starts_with(&format!("{m} "))), "{m} is not among /metrics:\n{text}");
    }
    // Backups and disk are read for real.
    let value = |name: &str| -> f64 {
        text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).and_then(|v| v.parse().ok()).unwrap()
    };
    assert!(value("cb_disk_free_bytes") > 0.0, "the disk was looked at when the server started");
    assert_eq!(value("cb_health_problems"), 0.0);
    s.stop().await;
}

#[tokio::test]
async fn logs_are_json_lines_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let p = crate::process::Proc::spawn(tmp.path(), &[("CB_LOG_FORMAT", "json")]);
    p.ready().await;
    // A refused sign-in is logged nowhere, a sign-in neither; the start is.
    p.login("admin", ADMIN_PASSWORD).await;
    let lines = p.log_lines();
    assert!(lines.len() >= 3, "{lines:?}");
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string() && v["message"].is_string(), "{line}");
    }
    let listening = lines.iter().find(|l| l.contains("listening on")).expect("the address is logged");
    let v: Value = serde_json::from_str(listening).unwrap();
    assert_eq!((v["level"].as_str(), v["target"].as_str()), (Some("INFO"), Some("collective_brain")));
    drop(p);
    // A format it does not know stops it with the reason.
    let out = Command::new(env!("CARGO_BIN_EXE_collective-brain"))
        .args(["serve", "--data-dir"])
        .arg(tmp.path())
        .env("CB_LOG_FORMAT", "xml")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CB_LOG_FORMAT=\"xml\": use text or json"));
}

/// The restore drill of docs/DEPLOY.md, with the real binary: the nightly backup's file
/// is imported into a new data dir, verified, and served.
#[tokio::test]
async fn the_restore_drill_brings_back_the_community_from_a_backup() {
    let bin = env!("CARGO_BIN_EXE_collective-brain");
    let tmp = tempfile::tempdir().unwrap();
    let (live, backups, restored) = (tmp.path().join("data"), tmp.path().join("backups"), tmp.path().join("restored"));
    let p = crate::process::Proc::spawn(
        &live,
        &[("CB_BACKUP_DIR", backups.to_str().unwrap()), ("CB_BACKUP_EVERY_HOURS", "24")],
    );
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    let (_, spaces) = admin.get("/spaces").await;
    let general =
        spaces.as_array().unwrap().iter().find(|s| s["slug"] == "general").unwrap()["id"].as_str().unwrap().to_owned();
    let (room, _) = thread(&admin, &general, "Restore drill", "Written before the night's backup").await;
    let (status, taken) = admin.post("/admin/backups", json!({})).await;
    assert_eq!(status, 201, "{taken}");
    let (status, _) =
        admin.post(&format!("/rooms/{room}/posts"), json!({"body": "after the backup", "nonce": "late"})).await;
    assert_eq!(status, 201);
    assert!(p.sigterm().success());

    let file = backups.join(taken["name"].as_str().unwrap());
    let (ok, out, err) =
        run(Command::new(bin).args(["import", "--data-dir"]).arg(&restored).stdin(std::fs::File::open(&file).unwrap()));
    assert!(ok, "import: {out}{err}");
    let (ok, out, err) = run(Command::new(bin).args(["verify", "--data-dir"]).arg(&restored));
    assert!(ok, "verify: {out}{err}");
    let p = crate::process::Proc::spawn(&restored, &[]);
    p.ready().await;
    let admin = p.login("admin", ADMIN_PASSWORD).await;
    let (status, posts) = admin.get(&format!("/rooms/{room}/posts")).await;
    assert_eq!(status, 200, "{posts}");
    assert!(posts.to_string().contains("Written before the night's backup"), "{posts}");
    assert!(!posts.to_string().contains("after the backup"), "{posts}");
    drop(p);
}
