//! Cockpit instances as an operator runs them: separate processes of the `cockpit` binary on one
//! PostgreSQL and one nats-server, each with its own data directory and a webhook feed of petitions;
//! walls that apply every snapshot and patch as the browser does. Shared by the cluster test and bench.
#![allow(dead_code)]
use crate::common;
use crate::peers::{free_port, Broker, Pg};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The instances' clock starts here (2026-12-02 10:00 Shanghai) and runs at the real rate.
pub const START: &str = "2026-12-02T10:00:00+08:00";

/// When the first instance started: each later one starts its clock as far after `START` as it starts
/// after the first, so that all of them tell the same time (as NTP-synchronised machines do). An event
/// one instance dates ahead of another's clock waits for that clock there.
static FIRST: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn start_now() -> String {
    let offset = FIRST.get_or_init(Instant::now).elapsed().as_millis() as i64;
    let ms = server::clock::parse_instant(START).unwrap() + offset;
    chrono::DateTime::from_timestamp_millis(ms).unwrap().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).to_rfc3339()
}

pub struct Instance {
    pub name: &'static str,
    pub addr: String,
    pub child: Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Instance {
    pub fn start(name: &'static str, pg: &Pg, nats: &Broker) -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = format!(
            r#"listen = "127.0.0.1:{port}"
data_dir = "{data}"
site_root = "{data}/site"

[store]
url = "{pg}"

[bus]
nats = "{nats}"
instance = "{name}"

[demo]
enabled = true
rate_per_minute = 0.0
backfill_days = 0
systems = false

[clock]
start = "{start}"

# The administrator signs in with a password alone here (the second factor has its own tests).
[access]
two_factor = "off"

# The bench opens hundreds of walls as one person.
[live]
max_streams_per_viewer = 5000

[[feeds]]
name = "petitions"
type = "webhook"
token = "petition-token"
secret = "petition-secret"
cadence_seconds = 60
[feeds.mapping]
record = "case"
id = "id"
version = "version"
time = "updated"
time_format = "local"
status = "status"
status_map = {{ "accepted" = "accepted", "closed" = "closed" }}
category = "category"
category_map = {{ "dispute" = "dispute" }}
source = "petition"
region = "grid"
"#,
            data = dir.path().display(),
            pg = pg.url(),
            nats = nats.url(),
            start = start_now(),
        );
        let file = dir.path().join("cockpit.toml");
        std::fs::write(&file, config).unwrap();
        let log = dir.path().join("cockpit.log");
        let child = Command::new(env!("CARGO_BIN_EXE_cockpit"))
            .arg("--config")
            .arg(&file)
            .env("COCKPIT_LOG", "info,sqlx=error,async_nats=error")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Instance { name, addr: format!("127.0.0.1:{port}"), child, log, _dir: dir }
    }

    pub async fn healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!("instance {} exited ({st}): {}", self.name, self.log_text());
            }
            if tokio::net::TcpStream::connect(&self.addr).await.is_ok() && common::request(&self.addr, "GET", "/healthz", &[], "").await.status == 200 {
                return;
            }
            assert!(Instant::now() < deadline, "instance {} not healthy: {}", self.name, self.log_text());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The wall snapshot of the city as this instance answers it now.
    pub async fn snapshot(&self, cookie: &str) -> Value {
        let r = common::request(&self.addr, "GET", "/api/live?region=330600", &[("Cookie", cookie)], "").await;
        assert_eq!(r.status, 200, "{}: {}", self.name, r.head);
        let data = r.body.lines().find_map(|l| l.strip_prefix("data: ")).expect("an SSE data line");
        serde_json::from_str(data).unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A wall on a live stream: applies every snapshot and patch it receives, as the browser does.
pub struct Wall {
    pub doc: std::sync::Arc<std::sync::Mutex<Value>>,
    /// When the wall first showed a supervised case.
    pub supervised_at: std::sync::Arc<std::sync::Mutex<Option<Instant>>>,
    /// Each change of the count of supervised cases it showed, and when.
    pub supervised: std::sync::Arc<std::sync::Mutex<Vec<(Instant, u64)>>>,
    pub task: tokio::task::JoinHandle<()>,
}

impl Wall {
    pub async fn open(addr: &str, cookie: &str) -> Wall {
        let client = reqwest::Client::new();
        let mut resp = client.get(format!("http://{addr}/api/live?region=330600")).header("Cookie", cookie).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let doc = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
        let supervised_at = std::sync::Arc::new(std::sync::Mutex::new(None));
        let supervised = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(Instant, u64)>::new()));
        let (d, s, seen) = (doc.clone(), supervised_at.clone(), supervised.clone());
        let task = tokio::spawn(async move {
            let (mut buf, mut held) = (String::new(), String::new());
            while let Ok(Some(chunk)) = resp.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let event: String = buf.drain(..end + 2).collect();
                    let kind = event.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("");
                    let id = event.lines().find_map(|l| l.strip_prefix("id: ")).unwrap_or("").to_string();
                    let data: String = event.lines().filter_map(|l| l.strip_prefix("data: ")).collect::<Vec<_>>().join("\n");
                    let mut doc = d.lock().unwrap();
                    match kind {
                        "snapshot" => *doc = serde_json::from_str(&data).unwrap(),
                        "patch" => {
                            // A patch applies to the frame the wall holds, or the wall has missed one.
                            let p: Value = serde_json::from_str(&data).unwrap();
                            assert_eq!(p["base"].as_u64().map(|b| b.to_string()).as_deref(), Some(held.as_str()), "a patch for the frame held");
                            app::patch::apply(&mut doc, &p["ops"]).unwrap();
                        }
                        _ => continue,
                    }
                    held = id;
                    let n = doc["alerts"]["supervised"].as_u64().unwrap_or(0);
                    if n > 0 {
                        s.lock().unwrap().get_or_insert_with(Instant::now);
                    }
                    let mut seen = seen.lock().unwrap();
                    if seen.last().map(|l| l.1) != Some(n) {
                        seen.push((Instant::now(), n));
                    }
                }
            }
        });
        Wall { doc, supervised_at, supervised, task }
    }

    /// When the wall first showed at least `n` supervised cases.
    pub fn showed(&self, n: u64) -> Option<Instant> {
        self.supervised.lock().unwrap().iter().find(|(_, k)| *k >= n).map(|(t, _)| *t)
    }

    pub fn now(&self) -> Value {
        self.doc.lock().unwrap().clone()
    }
}

pub fn petition(i: usize, version: i64, status: &str, grid: &str) -> Value {
    json!({"id": format!("XF-{i:04}"), "version": version, "updated": format!("2026-12-02 09:{:02}:00", i % 60), "status": status, "category": "dispute", "grid": grid})
}

/// Pushes a batch, to `first` or, if it does not answer (killed), to `then`, as a balancer would.
pub async fn push(client: &reqwest::Client, first: &str, then: &str, records: &[Value]) -> (u16, String) {
    let now_s = common::now() / 1000;
    for addr in [first, then] {
        let url = format!("http://{addr}/feeds/petitions/webhook");
        match server::sim::webhook::push(client, &url, "petition-token", "petition-secret", records, now_s).await {
            Ok((200, body)) => return (200, body),
            Ok((status, body)) if status < 500 => return (status, body),
            _ => continue,
        }
    }
    panic!("no instance took the batch");
}

