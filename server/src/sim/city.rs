//! The demo city's other systems, run in-process on free local ports and read through real feeds, so
//! the demo shows every path a real deployment uses: a 12345 hotline (Open311), a sensor alarm platform
//! (REST, GCJ-02 points placed in grids), a video network's channel states (REST), the political-legal
//! committee's daily statistics (XLSX drops: criminal cases filed and solved, survey results) and a
//! petition system pushing to a webhook. History is deterministic (seeded): a restart republishes the
//! same records, which the feeds recognise as duplicates.
use super::files::{write_xlsx, Cell};
use super::open311::Hotline;
use super::rest::RestApi;
use crate::city::RegionTree;
use app::model::{Level, DAY_MS};
use geom::SplitMix64;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const HOUR: i64 = 3_600_000;
const WEBHOOK_TOKEN: &str = "demo-petition-token";
const WEBHOOK_SECRET: &str = "demo-petition-secret";
const COURT_TOKEN: &str = "demo-court-token";
const COURT_SECRET: &str = "demo-court-secret";

struct Places {
    /// (grid code, GCJ-02 lon, lat) of every grid.
    grids: Vec<(String, f64, f64)>,
    districts: Vec<String>,
}

impl Places {
    fn new(tree: &RegionTree) -> Places {
        let mut grids = Vec::new();
        let mut districts = Vec::new();
        for (_, r) in tree.iter() {
            match r.row.level {
                Level::Grid => {
                    let [lon, lat] = geom::label_point(&r.row.shape);
                    let (x, y) = geom::china::wgs84_to_gcj02(lon, lat);
                    grids.push((r.row.code.clone(), (x * 1e6).round() / 1e6, (y * 1e6).round() / 1e6));
                }
                Level::District => districts.push(r.row.code.clone()),
                _ => {}
            }
        }
        Places { grids, districts }
    }

    fn grid(&self, rng: &mut SplitMix64) -> &(String, f64, f64) {
        &self.grids[(rng.next_u64() % self.grids.len() as u64) as usize]
    }
}

async fn serve(router: axum::Router, mut stop: watch::Receiver<bool>) -> Result<String, String> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("simulated systems: cannot bind: {e}"))?;
    let addr = l.local_addr().map_err(|e| e.to_string())?.to_string();
    tokio::spawn(async move {
        let _ = axum::serve(l, router).with_graceful_shutdown(async move { let _ = stop.wait_for(|s| *s).await; }).await;
    });
    Ok(addr)
}

fn hotline_request(id: u64, rng: &mut SplitMix64, p: &Places, requested: i64, updated: i64, open: bool) -> serde_json::Value {
    let (_, lon, lat) = p.grid(rng);
    let (code, text) = [("001", "井盖缺失"), ("002", "垃圾未清运"), ("003", "供水中断"), ("004", "噪音扰民")][(id % 4) as usize];
    json!({"service_request_id": format!("12345-{id:06}"), "status": if open { "open" } else { "closed" }, "service_code": code,
        "description": text, "requested_datetime": crate::feeds::open311::w3c(requested), "updated_datetime": crate::feeds::open311::w3c(updated),
        "long": lon, "lat": lat, "agency_responsible": "市综合行政执法局"})
}

/// Starts the systems; returns the `[[feeds]]` that read them.
pub async fn start(tree: Arc<RegionTree>, data_dir: &Path, cockpit: String, seed: u64, clock: crate::clock::Clock, stop: watch::Receiver<bool>) -> Result<Vec<toml::Table>, String> {
    let now = clock.now_ms();
    let p = Arc::new(Places::new(&tree));
    let mut rng = SplitMix64::new(seed ^ 0x5157);

    // 12345 hotline: three days of requests, half closed since.
    let hotline = Hotline::new(500);
    for id in 0..240u64 {
        let requested = now - 3 * DAY_MS + (id as i64) * 18 * 60_000;
        let closed = id % 2 == 0;
        hotline.publish(hotline_request(id, &mut rng, &p, requested, if closed { requested + 6 * HOUR } else { requested + 600_000 }, !closed));
    }
    let hotline_addr = serve(hotline.router(), stop.clone()).await?;

    // Alarms: about eight a day over the last 60 days and the same 60 days a year before.
    let alarms = RestApi::new(500);
    let mut alarm_times: Vec<i64> = Vec::new();
    for base in [now - 425 * DAY_MS, now - 60 * DAY_MS] {
        for k in 0..480 {
            alarm_times.push(base + k * (60 * DAY_MS / 480) + (rng.next_u64() % 3_600_000) as i64);
        }
    }
    alarm_times.retain(|&t| t < now);
    for (k, t) in alarm_times.iter().enumerate() {
        let (_, lon, lat) = p.grid(&mut rng);
        let kind = ["烟感", "水位", "燃气", "视频越界"][k % 4];
        alarms.publish(*t, json!({"alarm_id": format!("AL-{k:05}"), "type": kind, "ts": t, "lon": lon, "lat": lat}));
    }
    let alarms_addr = serve(alarms.router(), stop.clone()).await?;

    // Video: 160 channels, each reporting its state every ten days over the windows compared, and live.
    let video = RestApi::new(1000);
    let channels: Vec<String> = (0..160).map(|_| p.grid(&mut rng).0.clone()).collect();
    let mut samples: Vec<(i64, usize, bool)> = Vec::new();
    for base in [now - 425 * DAY_MS, now - 60 * DAY_MS] {
        for d in (0..60).step_by(10) {
            for c in 0..channels.len() {
                samples.push((base + d * DAY_MS + c as i64 * 1000, c, rng.next_f64() > 0.05));
            }
        }
    }
    samples.sort_unstable();
    for (t, c, on) in samples.iter().filter(|s| s.0 < now) {
        video.publish(*t, json!({"channel": format!("CH-{c:04}"), "seq": t, "ts": t, "state": if *on { "ON" } else { "OFF" }, "grid": channels[*c]}));
    }
    let video_addr = serve(video.router(), stop.clone()).await?;

    // Daily statistics as XLSX, as the committee exchanges them.
    let drop_dir = data_dir.join("drop").join("stats");
    std::fs::create_dir_all(&drop_dir).map_err(|e| format!("cannot create {}: {e}", drop_dir.display()))?;
    let header = ["编号", "区县编码", "日期", "指标", "数量", "版本"];
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    for base in [now - 425 * DAY_MS, now - 61 * DAY_MS] {
        for d in 0..61 {
            let day = base + d * DAY_MS;
            for (i, district) in p.districts.iter().enumerate() {
                let filed = 1 + (rng.next_u64() % 5) as i64 + i as i64 % 2;
                let solved = (filed as f64 * rng.range(0.5, 0.95)).round() as i64;
                let date = app::model::date_time(day)[..10].to_string();
                // The committee's other daily counts: hazards found and put right in inspections,
                // people the psychological service reached, and the "zero" major incidents (rarely one).
                let found = 3 + (rng.next_u64() % 9) as i64;
                let fixed = (found as f64 * rng.range(0.7, 1.0)).round() as i64;
                let psych = 10 + (rng.next_u64() % 30) as i64;
                let major = i64::from(rng.next_u64() % 400 == 0);
                for (name, n) in [("刑事立案", filed), ("刑事破案", solved), ("隐患排查", found), ("隐患整治", fixed), ("社会心理服务", psych), ("重大案事件", major)] {
                    rows.push(vec![format!("{district}-{date}-{name}").into(), district.clone().into(), Cell::Date(super::files::excel_serial(day)), name.into(), (n as f64).into(), 1.0.into()]);
                }
            }
        }
        for m in 0..2 {
            let day = base + m * 30 * DAY_MS + 20 * DAY_MS;
            for district in &p.districts {
                let date = app::model::date_time(day)[..10].to_string();
                rows.push(vec![format!("{district}-{date}-安全感").into(), district.clone().into(), Cell::Date(super::files::excel_serial(day)), "群众安全感".into(), rng.range(92.0, 98.5).round().into(), 1.0.into()]);
                // Monthly too: the share of the listed long-standing cases resolved, and the rule-of-law survey.
                rows.push(vec![format!("{district}-{date}-积案").into(), district.clone().into(), Cell::Date(super::files::excel_serial(day)), "积案化解率".into(), ((rng.range(70.0, 95.0) * 10.0).round() / 10.0).into(), 1.0.into()]);
                rows.push(vec![format!("{district}-{date}-法治").into(), district.clone().into(), Cell::Date(super::files::excel_serial(day)), "法治建设满意度".into(), rng.range(90.0, 97.5).round().into(), 1.0.into()]);
            }
        }
    }
    write_xlsx(&drop_dir, "平安统计-历史.xlsx", &header, &rows).map_err(|e| format!("cannot write the statistics export: {e}"))?;

    // The court refers about eight disputes a day to mediation; the platform keeps the last four days'
    // open referrals (like the hotline's three days).
    let court = super::court::Court::new(COURT_TOKEN, COURT_SECRET, clock.clone());
    let mut referrals = 0u64;
    for k in 0..(4 * 8) {
        let at = now - 4 * DAY_MS + k * (DAY_MS / 8) + (rng.next_u64() % 3_600_000) as i64;
        if at < now {
            referrals += 1;
            let grid = p.grid(&mut rng).0.clone();
            court.refer(&super::court::demo_dispute(referrals, &mut rng, &grid, at));
        }
    }
    let court_addr = serve(court.router(), stop.clone()).await?;

    // Live: new requests, alarms and channel states arrive; petitions are pushed to the cockpit; the
    // court refers a dispute every twenty minutes and files what its mediation period ran out on.
    {
        let (p, hotline, alarms, video, court, mut stop) = (p.clone(), hotline.clone(), alarms.clone(), video.clone(), court.clone(), stop.clone());
        let channels = channels.clone();
        tokio::spawn(async move {
            let client = crate::feeds::http_pull::client(None).expect("a client without a CA file builds");
            let url = format!("http://{cockpit}/feeds/petitions/webhook");
            let mut rng = SplitMix64::new(seed ^ 0x11fe);
            let mut tick: u64 = 0;
            let start = clock.now_ms();
            loop {
                if crate::feeds::backoff::sleep_or_stop(Duration::from_secs(5), &mut stop).await {
                    return;
                }
                tick += 1;
                let now = clock.now_ms();
                if tick % 4 == 0 {
                    let id = 1_000 + tick;
                    hotline.publish(hotline_request(id, &mut rng, &p, now, now, true));
                }
                if tick % 3 == 0 {
                    let (_, lon, lat) = p.grid(&mut rng);
                    alarms.publish(now, json!({"alarm_id": format!("AL-L{start}-{tick}"), "type": "烟感", "ts": now, "lon": lon, "lat": lat}));
                }
                let c = (rng.next_u64() % channels.len() as u64) as usize;
                video.publish(now, json!({"channel": format!("CH-{c:04}"), "seq": now, "ts": now, "state": if rng.next_f64() > 0.04 { "ON" } else { "OFF" }, "grid": channels[c]}));
                if tick % 240 == 0 {
                    let grid = p.grid(&mut rng).0.clone();
                    // Numbered by the 20-minute slot, so a restart does not reuse a number.
                    court.refer(&super::court::demo_dispute(1_000 + (now / 1_200_000) as u64 % 1_000_000, &mut rng, &grid, now));
                    court.file_expired(now);
                }
                if tick % 6 == 1 {
                    let (grid, _, _) = p.grid(&mut rng).clone();
                    let kind = ["矛盾纠纷", "民生诉求", "治安秩序"][(tick / 6 % 3) as usize];
                    let record = json!({"petition_no": format!("XF-{start}-{tick}"), "version": 1, "updated": app::model::date_time(now),
                        "state": "已受理", "kind": kind, "grid": grid});
                    if let Err(e) = super::webhook::push(&client, &url, WEBHOOK_TOKEN, WEBHOOK_SECRET, &[record], now / 1000).await {
                        tracing::debug!("simulated petition system: {e}");
                    }
                }
            }
        });
    }

    let text = format!(
        r#"
[[feeds]]
name = "hotline"
type = "open311"
endpoint = "http://{hotline_addr}/open311/v2"
backfill_days = 4
window_hours = 240
max_results = 500
interval_seconds = 5
overlap_seconds = 10
cadence_seconds = 120
[feeds.mapping]
record = "case"
id = "service_request_id"
time = "updated_datetime"
status = "status"
status_map = {{ open = "accepted", closed = "closed" }}
category = "service_code"
category_map = {{ "001" = "hazard", "002" = "environment", "003" = "livelihood", "004" = "public_order" }}
source = "hotline_12345"
reported_at = "requested_datetime"
summary = "description"
department = "agency_responsible"
lon = "long"
lat = "lat"
datum = "gcj02"

[[feeds]]
name = "alarms"
type = "http_pull"
url = "http://{alarms_addr}/api/records"
interval_seconds = 5
cadence_seconds = 120
[feeds.mapping]
record = "observation"
id = "alarm_id"
time = "ts"
time_format = "unix_ms"
indicator = "alarm"
lon = "lon"
lat = "lat"
datum = "gcj02"

[[feeds]]
name = "video"
type = "http_pull"
url = "http://{video_addr}/api/records"
interval_seconds = 5
cadence_seconds = 120
[feeds.mapping]
record = "observation"
id = "channel"
version = "seq"
time = "ts"
time_format = "unix_ms"
indicator = "video_online"
value = "state"
value_map = {{ ON = 1, OFF = 0 }}
region = "grid"

[[feeds]]
name = "stats"
type = "file_drop"
dir = "{drop}"
interval_seconds = 2
cadence_seconds = 172800
[feeds.mapping]
record = "observation"
id = "编号"
version = "版本"
time = "日期"
time_format = "excel"
indicator_path = "指标"
indicator_map = {{ "刑事立案" = "criminal_filed", "刑事破案" = "criminal_solved", "群众安全感" = "safety_survey", "隐患排查" = "hazards_found", "隐患整治" = "hazards_fixed", "社会心理服务" = "psych_served", "重大案事件" = "major_incidents", "积案化解率" = "backlog_resolution", "法治建设满意度" = "law_satisfaction" }}
value = "数量"
region = "区县编码"

[[feeds]]
name = "petitions"
type = "webhook"
token = "{WEBHOOK_TOKEN}"
secret = "{WEBHOOK_SECRET}"
cadence_seconds = 600
[feeds.mapping]
record = "case"
id = "petition_no"
version = "version"
time = "updated"
time_format = "local"
status = "state"
status_map = {{ "已受理" = "accepted", "办理中" = "handling", "已办结" = "closed" }}
category = "kind"
category_map = {{ "矛盾纠纷" = "dispute", "民生诉求" = "livelihood", "治安秩序" = "public_order" }}
source = "petition"
region = "grid"
{court_feed}"#,
        court_feed = super::court::feed_toml("court", &court_addr, COURT_TOKEN, COURT_SECRET),
        drop = drop_dir.display().to_string().replace('\\', "/"),
    );
    let v: toml::Table = toml::from_str(&text).map_err(|e| format!("simulated systems' feeds: {e}"))?;
    match v.get("feeds") {
        Some(toml::Value::Array(a)) => Ok(a.iter().filter_map(|t| t.as_table().cloned()).collect()),
        _ => Err("simulated systems declare no feeds".into()),
    }
}
