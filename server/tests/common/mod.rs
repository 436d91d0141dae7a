//! Real servers on free ports and a plain HTTP/1.1 client, shared by the integration tests.
#![allow(dead_code)]
use server::config::{Config, DemoConfig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

mod time;
#[allow(unused_imports)]
pub use time::{clock, now, PINNED_MS};

pub const DEMO_PASSWORD: &str = server::auth::DEMO_PASSWORD;

pub struct Server {
    pub addr: String,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), server::StartError>>,
}

pub fn config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        site_root: dir.join("site"),
        demo: DemoConfig { enabled: true, rate_per_minute: 600.0, backfill_days: 1, backfill_rate_per_minute: 5.0, seed: 1, systems: true },
        // Tests that are not about the second factor sign administrators in with passwords alone;
        // `second_factor_*` tests turn the product's default (administrators) back on.
        access: server::config::AccessConfig { two_factor: server::config::TwoFactor::Off, ..Default::default() },
        ..Config::default()
    }
}

pub async fn start(cfg: Config) -> Server {
    start_with_clock(cfg, clock()).await
}

/// `start` on a clock of the test's own (a manual one, moved by the test).
pub async fn start_with_clock(cfg: Config, clock: server::clock::Clock) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (stop, mut rx) = watch::channel(false);
    let task = tokio::spawn(server::run_with_clock(listener, cfg, clock, async move {
        let _ = rx.changed().await;
    }));
    // The port is bound before the city loads; wait until the server answers.
    for _ in 0..600 {
        if TcpStream::connect(&addr).await.is_ok() && request(&addr, "GET", "/healthz", &[], "").await.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { addr, stop, task }
}

impl Server {
    pub async fn stop(self) {
        self.stop.send(true).unwrap();
        // Stopping writes the engine's last snapshot: in a debug build, beside a dozen other servers of the
        // same test binary on two cores, that took over 15 s once. A hang still fails, after a minute.
        tokio::time::timeout(Duration::from_secs(60), self.task).await.expect("stops in time").unwrap().unwrap();
    }
}

pub struct Resp {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    pub fn headers(&self, name: &str) -> Vec<String> {
        self.head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// `name=value` of a Set-Cookie header for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers("set-cookie").into_iter().find(|c| c.starts_with(&format!("{name}="))).map(|c| c.split(';').next().unwrap().to_string())
    }
}

/// One request on a fresh connection. Reads to the end, or to the first complete SSE event.
pub async fn request(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let (status, head, body) = request_bytes(addr, method, path, headers, body.as_bytes()).await;
    Resp { status, head, body: String::from_utf8_lossy(&body).to_string() }
}

/// `request` with a binary body and reply (a photo): status, head and body bytes.
pub async fn request_bytes(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk)).await.unwrap_or_else(|_| panic!("{method} {path}: no answer within 30 s (had {} bytes: {:?})", buf.len(), String::from_utf8_lossy(&buf[..buf.len().min(200)]))).unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if text.contains("text/event-stream") && text.contains("event: snapshot") && text.contains("\n\n") && text.rsplit("event: snapshot").next().is_some_and(|t| t.contains("\n\n")) {
            break;
        }
    }
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, i + 4)).unwrap_or((buf.len(), buf.len()));
    let head = String::from_utf8_lossy(&buf[..split.0]).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, head, buf[split.1..].to_vec())
}

/// `body` (Open311 JSON or XML) with every request number taken out, key and all. A number is the source
/// system's own (`SX`, the instant it was reported, two digits): an 11-digit phone number turns up inside
/// one now and then, so scans for personal data read everything else.
pub fn without_request_numbers(body: &str) -> String {
    let mut body = body.to_string();
    while let (Some(a), Some(b)) = (body.find("<service_request_id>"), body.find("</service_request_id>")) {
        body.replace_range(a..b + "</service_request_id>".len(), " ");
    }
    const KEY: &str = "\"service_request_id\":\"";
    while let Some(a) = body.find(KEY) {
        let end = body[a + KEY.len()..].find('"').map(|e| a + KEY.len() + e + 1).unwrap_or(body.len());
        body.replace_range(a..end, " ");
    }
    body
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", server::web::gate::encode(v).replace('/', "%2F"))).collect::<Vec<_>>().join("&")
}

/// Signs in through the real form (with its CSRF cookie); returns the login response.
pub async fn login_resp(addr: &str, user: &str, password: &str) -> Resp {
    login_next(addr, user, password, "/wall").await
}

/// `login_resp` asking to go on to `next` afterwards.
pub async fn login_next(addr: &str, user: &str, password: &str, next: &str) -> Resp {
    let page = request(addr, "GET", "/login", &[], "").await;
    let csrf_cookie = page.cookie("cockpit_login_csrf").expect("login page sets its CSRF cookie");
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_string();
    let body = form(&[("username", user), ("password", password), ("csrf", &csrf), ("next", next)]);
    request(addr, "POST", "/auth/login", &[("Cookie", &csrf_cookie), ("Content-Type", "application/x-www-form-urlencoded")], &body).await
}

/// A POST with the session's cookie and CSRF token and a JSON body.
pub async fn post_json(addr: &str, cookie: &str, token: &str, path: &str, body: &str) -> Resp {
    let h = [("Cookie", cookie), ("Content-Type", "application/json"), ("X-CSRF-Token", token)];
    request(addr, "POST", path, &h, body).await
}

/// An open live stream: its status, and the connection to keep reading.
pub struct Live {
    pub status: u16,
    pub head: String,
    conn: TcpStream,
}

/// Opens `path` (an SSE stream) and reads up to its first event (or to the end of a refusal).
pub async fn open_live(addr: &str, path: &str, cookie: &str) -> Live {
    let mut conn = TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), conn.read(&mut chunk)).await.unwrap_or_else(|_| panic!("GET {path}: no event within 30 s (had {} bytes: {:?})", buf.len(), String::from_utf8_lossy(&buf[..buf.len().min(200)]))).unwrap();
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        let done = n == 0 || (text.contains("event: snapshot") && text.rsplit("event: snapshot").next().is_some_and(|t| t.contains("\n\n")));
        if done || (text.contains("\r\n\r\n") && !text.contains("text/event-stream")) {
            break;
        }
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Live { status, head, conn }
}

impl Live {
    /// Whether the server ends the stream within `secs` (reads and drops whatever it sends meanwhile).
    pub async fn ends_within(mut self, secs: u64) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut chunk = [0u8; 16384];
        loop {
            match tokio::time::timeout_at(deadline, self.conn.read(&mut chunk)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                // The last chunk of a chunked body: the stream has ended.
                Ok(Ok(n)) if chunk[..n].ends_with(b"0\r\n\r\n") => return true,
                Ok(Ok(_)) => {}
            }
        }
    }
}

/// Signs in and returns the session cookie (`cockpit_session=…`).
pub async fn login(addr: &str, user: &str) -> String {
    let r = login_resp(addr, user, DEMO_PASSWORD).await;
    r.cookie("cockpit_session").unwrap_or_else(|| panic!("{user} signs in: {} {}", r.status, r.head))
}

/// The session's CSRF token, as a page script would fetch it.
pub async fn csrf(addr: &str, cookie: &str) -> String {
    let r = request(addr, "GET", "/api/me", &[("Cookie", cookie)], "").await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    v["csrf"].as_str().unwrap().to_string()
}
