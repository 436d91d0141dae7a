//! `cockpit-sim`: the city's external systems as their own process, for a cockpit run with real feeds
//! instead of the built-in demo systems. It serves an Open311 hotline and the alarm and video REST APIs,
//! drops statistics exports, pushes petitions to the cockpit's webhook, and (when given a broker)
//! publishes sensor alarms over MQTT and NATS JetStream. It prints the `[[feeds]]` that read it all;
//! append them to the cockpit's config file and reload (`POST /api/admin/feeds/reload`) or restart.
//!
//!     cockpit-sim --cockpit 127.0.0.1:3000 --data-dir data [--mqtt 127.0.0.1:1883] [--nats nats://127.0.0.1:4222]
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

const USAGE: &str = "usage: cockpit-sim --cockpit HOST:PORT [--data-dir DIR] [--seed N] [--mqtt HOST:PORT] [--nats nats://HOST:PORT]";

struct Args {
    cockpit: String,
    data_dir: PathBuf,
    seed: u64,
    mqtt: Option<String>,
    nats: Option<String>,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args { cockpit: String::new(), data_dir: "data".into(), seed: 2026, mqtt: None, nats: None };
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or_else(|| format!("{k} needs a value\n{USAGE}"));
        match k.as_str() {
            "--cockpit" => a.cockpit = v()?,
            "--data-dir" => a.data_dir = v()?.into(),
            "--seed" => a.seed = v()?.parse().map_err(|_| format!("--seed: a whole number\n{USAGE}"))?,
            "--mqtt" => a.mqtt = Some(v()?),
            "--nats" => a.nats = Some(v()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.cockpit.is_empty() {
        return Err(format!("--cockpit is required (where petitions are pushed)\n{USAGE}"));
    }
    Ok(a)
}

fn feed(text: &str) -> toml::Table {
    toml::from_str(text).expect("a valid feed declaration")
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let tree = match server::city::RegionTree::new(server::city::shaoxing::build()) {
        Ok(t) => Arc::new(t),
        Err(e) => {
            eprintln!("demo city: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The same clock as the cockpit it feeds: pinned by COCKPIT_CLOCK_START / COCKPIT_CLOCK_RATE, else the system's.
    let clock_cfg = server::clock::ClockConfig {
        start: std::env::var("COCKPIT_CLOCK_START").ok(),
        rate: std::env::var("COCKPIT_CLOCK_RATE").ok().and_then(|r| r.parse().ok()).unwrap_or(1.0),
    };
    let clock = match server::clock::Clock::from_config(&clock_cfg) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (_stop_tx, stop) = tokio::sync::watch::channel(false);
    let mut feeds = match server::sim::city::start(tree.clone(), &args.data_dir, args.cockpit.clone(), args.seed, clock.clone(), stop).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let districts: Vec<String> = tree.iter().filter(|(_, r)| r.row.level == app::model::Level::District).map(|(_, r)| r.row.code.clone()).collect();
    if let Some(b) = &args.mqtt {
        feeds.push(feed(&format!(
            "name = \"sensors-mqtt\"\ntype = \"mqtt\"\nbroker = \"{b}\"\nclient_id = \"cockpit-sensors\"\ntopics = [\"city/sensors/#\"]\ncadence_seconds = 120\n\
             [mapping]\nrecord = \"observation\"\nid = \"id\"\ntime = \"ts\"\ntime_format = \"unix_ms\"\nindicator = \"alarm\"\nregion = \"district\"\n"
        )));
    }
    if let Some(u) = &args.nats {
        if let Err(e) = server::sim::nats::ensure_stream(u, "CITY", &["city.>"]).await {
            eprintln!("NATS: {e}");
            return ExitCode::FAILURE;
        }
        feeds.push(feed(&format!(
            "name = \"sensors-nats\"\ntype = \"nats\"\nurl = \"{u}\"\nstream = \"CITY\"\ndurable = \"cockpit\"\ncadence_seconds = 120\n\
             [mapping]\nrecord = \"observation\"\nid = \"id\"\ntime = \"ts\"\ntime_format = \"unix_ms\"\nindicator = \"alarm\"\nregion = \"district\"\n"
        )));
    }
    let mut doc = toml::Table::new();
    doc.insert("feeds".into(), toml::Value::Array(feeds.into_iter().map(toml::Value::Table).collect()));
    println!("{}", toml::to_string_pretty(&doc).expect("feeds serialise"));
    println!("# end of feeds");

    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(7)) => {}
            _ = tokio::signal::ctrl_c() => return ExitCode::SUCCESS,
        }
        n += 1;
        let now = clock.now_ms();
        let district = &districts[(n as usize) % districts.len()];
        let payload = |via: &str| serde_json::json!({"id": format!("{via}-{now}-{n}"), "ts": now, "district": district}).to_string().into_bytes();
        if let Some(b) = &args.mqtt {
            if let Err(e) = server::sim::mqtt::publish(b, &format!("city/sensors/{district}"), vec![payload("mqtt")]).await {
                tracing::warn!("MQTT: {e}");
            }
        }
        if let Some(u) = &args.nats {
            if let Err(e) = server::sim::nats::publish(u, "city.sensors", vec![payload("nats")]).await {
                tracing::warn!("NATS: {e}");
            }
        }
    }
}
