//! Real peer processes on free ports in temp dirs (nothing runs as a service), shared by the feed tests
//! (`brokers.rs`, `files_sql.rs`) and the feeds bench (`benches/feeds.rs`): Mosquitto and nats-server
//! (JetStream) from Debian, and a PostgreSQL server from Debian's packages started with `initdb`, as the
//! unprivileged `nobody` when run as root. Included with `#[path = "common/peers.rs"] mod peers;`.
#![allow(dead_code)]
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a peer may take to come up.
const WAIT: Duration = Duration::from_secs(30);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An installed program from the usual system directories.
pub fn binary(name: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed (apt-get install mosquitto nats-server)");
}

// ------------------------------------------------------------------------------------------ brokers

/// A broker process on a fixed port and data directory, stopped on drop.
pub struct Broker {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub port: u16,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl Broker {
    pub fn mosquitto() -> Broker {
        Broker::mosquitto_with(None)
    }

    /// Mosquitto that lets in only `user` with `pass` (a password file made by `mosquitto_passwd`).
    pub fn mosquitto_with_user(user: &str, pass: &str) -> Broker {
        Broker::mosquitto_with(Some((user, pass)))
    }

    fn mosquitto_with(account: Option<(&str, &str)>) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let access = match account {
            None => "allow_anonymous true\n".to_string(),
            Some((user, pass)) => {
                let file = dir.path().join("passwords");
                let ok = Command::new(binary("mosquitto_passwd")).arg("-b").arg("-c").arg(&file).args([user, pass]).status().unwrap();
                assert!(ok.success(), "mosquitto_passwd failed");
                format!("allow_anonymous false\npassword_file {}\n", file.display())
            }
        };
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\n{access}persistence true\npersistence_location {}/\n\
                 user root\nmax_queued_messages 100000\n",
                data.display()
            ),
        )
        .unwrap();
        let args = vec!["-c".to_string(), conf.display().to_string()];
        Broker::start(binary("mosquitto"), args, port, dir)
    }

    pub fn nats() -> Broker {
        Broker::nats_with(&[])
    }

    /// nats-server that lets in only `user` with `pass`.
    pub fn nats_with_user(user: &str, pass: &str) -> Broker {
        Broker::nats_with(&["--user", user, "--pass", pass])
    }

    fn nats_with(extra: &[&str]) -> Broker {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut args = ["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd", &dir.path().display().to_string()].map(String::from).to_vec();
        args.extend(extra.iter().map(|a| a.to_string()));
        Broker::start(binary("nats-server"), args, port, dir)
    }

    fn start(program: PathBuf, args: Vec<String>, port: u16, dir: tempfile::TempDir) -> Broker {
        let mut b = Broker { program, args, port, child: None, _dir: dir };
        b.up();
        b
    }

    pub fn up(&mut self) {
        let child = Command::new(&self.program).args(&self.args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "{} did not listen on {}", self.program.display(), self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the broker as an operator would (SIGTERM: it saves its state), and waits for it.
    pub fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// --------------------------------------------------------------------------------------- PostgreSQL

/// Debian's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`, the newest installed).
pub fn pg_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin")))).collect())
        .unwrap_or_default();
    versions.sort();
    versions.pop().map(|(_, p)| p).expect("PostgreSQL is not installed (apt-get install postgresql)")
}

pub fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// Runs a PostgreSQL binary; as root, as the unprivileged `nobody` (PostgreSQL refuses to run as root).
pub fn pg_command(program: &str) -> Command {
    let bin = pg_bin().join(program);
    assert!(bin.exists(), "{} is missing (apt-get install postgresql)", bin.display());
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

/// A PostgreSQL server in a temp dir on a free port; stopped on drop.
pub struct Pg {
    dir: tempfile::TempDir,
    pub port: u16,
    child: Option<Child>,
}

impl Pg {
    pub async fn new() -> Pg {
        let dir = tempfile::tempdir().unwrap();
        if is_root() {
            std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
        }
        let out = pg_command("initdb")
            .arg("-D")
            .arg(dir.path().join("data"))
            .args(["-U", "postgres", "--auth=trust", "-N", "-E", "UTF8", "--locale=C"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        let mut pg = Pg { dir, port: free_port(), child: None };
        pg.start().await;
        pg
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One number from a query (a count a test checks), on a connection of its own.
    pub async fn count(&self, q: &str) -> i64 {
        let pool = server::sim::pg::connect(&self.url()).await.unwrap();
        let n: i64 = sqlx::query_scalar(q).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub async fn start(&mut self) {
        assert!(self.child.is_none());
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("log")).unwrap();
        if is_root() {
            std::os::unix::fs::chown(self.dir.path().join("log"), Some(65534), Some(65534)).unwrap();
        }
        let child = pg_command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let url = self.url();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(p) = server::sim::pg::connect(&url).await {
                p.close().await;
                return;
            }
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("postgres exited ({st}): {}", std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "postgres did not come up: {}", std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fast shutdown (SIGINT): open connections are closed, as when the database server goes down.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while c.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.stop();
    }
}
