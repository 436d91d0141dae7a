//! A court's dispute platform (诉调对接), the side a city deals with: it refers disputes to mediation
//! before litigation (诉前委派调解) and publishes them at `GET /api/records?since=<n>` (the REST shape of
//! `rest.rs`); it takes mediation results at `POST /api/mediation-results`, signed like a webhook push
//! (bearer token, timestamp within five minutes, HMAC-SHA256 over `"{timestamp}.{body}"`), and
//! recognises a repeated `result_id` (200, counted once). A settled attempt, a refused confirmation
//! or a failure at the county ends the referral: the dispute is closed, and a dispute not settled within
//! the 30 days of pre-litigation mediation is filed as a lawsuit (转立案); either way its record is
//! published again as closed.
use super::rest::RestApi;
use crate::feeds::results::MediationResult;
use crate::feeds::webhook::{authenticate, Refusal, SIGNATURE, TIMESTAMP};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How long a referral waits for a settlement before the court files it (ms).
pub const MEDIATION_PERIOD_MS: i64 = 30 * app::model::DAY_MS;

/// One dispute as the court refers it.
#[derive(Clone, Debug)]
pub struct Dispute {
    pub case_no: String,
    pub court: String,
    pub claim: String,
    pub amount_yuan: u64,
    pub party: String,
    pub party_phone: String,
    pub grid: String,
    pub referred_at: i64,
}

#[derive(Clone)]
pub struct Court {
    disputes: RestApi,
    auth: crate::feeds::webhook::Config,
    /// case number → (the record as last published, closed).
    records: Arc<Mutex<BTreeMap<String, (Value, bool)>>>,
    /// result id → the result, as first received.
    results: Arc<Mutex<BTreeMap<String, MediationResult>>>,
    deliveries: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    /// The court's clock: the cockpit's, in the demo and the tests (signatures carry a timestamp).
    clock: crate::clock::Clock,
}

impl Court {
    pub fn new(token: &str, secret: &str, clock: crate::clock::Clock) -> Court {
        Court {
            disputes: RestApi::new(500),
            auth: crate::feeds::webhook::Config { token: token.into(), secret: secret.into(), window_seconds: 300 },
            records: Arc::default(),
            results: Arc::default(),
            deliveries: Arc::default(),
            down: Arc::default(),
            clock,
        }
    }

    /// Refers a dispute to mediation.
    pub fn refer(&self, d: &Dispute) {
        let record = json!({"case_no": d.case_no, "court": d.court, "kind": "civil_dispute", "claim": format!("{}（标的{}元，{}委派）", d.claim, d.amount_yuan, d.court),
            "amount": d.amount_yuan, "party": d.party, "party_phone": d.party_phone, "grid": d.grid, "status": "referred",
            "referred_at": d.referred_at, "updated": d.referred_at, "version": 1});
        self.records.lock().expect("court lock").insert(d.case_no.clone(), (record.clone(), false));
        self.disputes.publish(d.referred_at, record);
    }

    /// Files every referral older than the mediation period at `now` (转立案); returns how many.
    pub fn file_expired(&self, now: i64) -> usize {
        let expired: Vec<String> = {
            let records = self.records.lock().expect("court lock");
            records.iter().filter(|(_, (r, closed))| !closed && r["referred_at"].as_i64().is_some_and(|t| now - t >= MEDIATION_PERIOD_MS)).map(|(k, _)| k.clone()).collect()
        };
        for k in &expired {
            self.close(k, "filed", now);
        }
        expired.len()
    }

    fn close(&self, case_no: &str, how: &str, at: i64) {
        let mut records = self.records.lock().expect("court lock");
        let Some((r, closed)) = records.get_mut(case_no) else { return };
        if *closed {
            return;
        }
        *closed = true;
        r["status"] = json!("closed");
        r["closed_as"] = json!(how);
        r["updated"] = json!(at.max(r["updated"].as_i64().unwrap_or(0) + 1));
        r["version"] = json!(r["version"].as_i64().unwrap_or(1) + 1);
        let record = r.clone();
        drop(records);
        self.disputes.publish(at, record);
    }

    /// While down, both endpoints answer 503.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        self.disputes.set_down(down);
    }

    /// Every result received once, by result id.
    pub fn results(&self) -> BTreeMap<String, MediationResult> {
        self.results.lock().expect("court lock").clone()
    }

    /// Accepted deliveries, repeats included.
    pub fn deliveries(&self) -> u64 {
        self.deliveries.load(Ordering::SeqCst)
    }

    pub fn is_closed(&self, case_no: &str) -> bool {
        self.records.lock().expect("court lock").get(case_no).is_some_and(|(_, c)| *c)
    }

    pub fn router(&self) -> axum::Router {
        self.disputes.router().merge(axum::Router::new().route("/api/mediation-results", axum::routing::post(take_result)).with_state(self.clone()))
    }

    /// Takes one result; the answer the cockpit's outbox sees.
    pub fn take(&self, headers: &HeaderMap, body: &[u8], now_ms: i64) -> (StatusCode, String) {
        if self.down.load(Ordering::SeqCst) {
            return (StatusCode::SERVICE_UNAVAILABLE, "court platform under maintenance".into());
        }
        let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
        match authenticate(&self.auth, h("authorization"), h(TIMESTAMP), h(SIGNATURE), body, now_ms) {
            Ok(()) => {}
            Err(Refusal::Stale) => return (StatusCode::UNAUTHORIZED, "timestamp outside the window".into()),
            Err(_) => return (StatusCode::UNAUTHORIZED, "unauthorized".into()),
        }
        let r: MediationResult = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => return (StatusCode::BAD_REQUEST, format!("not a mediation result: {e}")),
        };
        if !self.records.lock().expect("court lock").contains_key(&r.case_no) {
            return (StatusCode::NOT_FOUND, format!("no referral {}", r.case_no));
        }
        self.deliveries.fetch_add(1, Ordering::SeqCst);
        let ends = r.outcome == "settled" || r.judicial_confirmation.as_deref() == Some("refused") || matches!(r.tier.as_str(), "county" | "litigation");
        let fresh = self.results.lock().expect("court lock").insert(r.result_id.clone(), r.clone()).is_none();
        if fresh && ends {
            self.close(&r.case_no, if r.outcome == "settled" { "mediated" } else { "returned" }, now_ms);
        }
        (StatusCode::OK, if fresh { "recorded".into() } else { "already recorded".into() })
    }
}

/// The `[[feeds]]` entry that reads a court at `addr` and sends its results back.
pub fn feed_toml(name: &str, addr: &str, token: &str, secret: &str) -> String {
    format!(
        r#"
[[feeds]]
name = "{name}"
type = "http_pull"
url = "http://{addr}/api/records"
interval_seconds = 5
cadence_seconds = 86400
[feeds.mapping]
record = "case"
id = "case_no"
version = "version"
time = "updated"
time_format = "unix_ms"
status = "status"
status_map = {{ referred = "handling", closed = "closed" }}
category = "kind"
category_map = {{ civil_dispute = "dispute" }}
source = "court"
reported_at = "referred_at"
summary = "claim"
person_name = "party"
person_phone = "party_phone"
region = "grid"
[feeds.results]
url = "http://{addr}/api/mediation-results"
token = "{token}"
secret = "{secret}"
interval_seconds = 2
"#
    )
}

/// The basic-level court of a district of the demo city.
fn court_of(district: &str) -> &'static str {
    match district {
        "330602" => "越城区人民法院",
        "330603" => "柯桥区人民法院",
        "330604" => "上虞区人民法院",
        "330624" => "新昌县人民法院",
        "330681" => "诸暨市人民法院",
        "330683" => "嵊州市人民法院",
        _ => "绍兴市中级人民法院",
    }
}

/// A plausible referral: the kinds of civil dispute courts send to mediation most.
pub fn demo_dispute(k: u64, rng: &mut geom::SplitMix64, grid: &str, at: i64) -> Dispute {
    const CLAIMS: [&str; 6] = ["民间借贷纠纷", "买卖合同纠纷", "物业服务合同纠纷", "劳务合同纠纷", "相邻关系纠纷", "机动车交通事故责任纠纷"];
    const SURNAMES: [&str; 8] = ["王", "李", "张", "陈", "杨", "赵", "黄", "周"];
    let district = &grid[..6];
    let year = &app::model::date_time(at)[..4];
    Dispute {
        case_no: format!("({year})浙{}民诉前调{k}号", &district[2..6]),
        court: court_of(district).into(),
        claim: CLAIMS[(rng.next_u64() % CLAIMS.len() as u64) as usize].into(),
        amount_yuan: 2_000 + rng.next_u64() % 200_000,
        party: format!("{}某某", SURNAMES[(rng.next_u64() % SURNAMES.len() as u64) as usize]),
        party_phone: format!("13{:09}", rng.next_u64() % 1_000_000_000),
        grid: grid.into(),
        referred_at: at,
    }
}

async fn take_result(State(court): State<Court>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let now = court.clock.now_ms();
    court.take(&headers, &body, now).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feeds::webhook::sign;

    fn court() -> Court {
        let c = Court::new("tok", "sec", crate::clock::Clock::system());
        c.refer(&Dispute {
            case_no: "(2026)浙0602民诉前调1号".into(),
            court: "越城区人民法院".into(),
            claim: "民间借贷纠纷".into(),
            amount_yuan: 52_000,
            party: "王某某".into(),
            party_phone: "13800000000".into(),
            grid: "330602001001001".into(),
            referred_at: 1_000,
        });
        c
    }

    fn signed(body: &[u8], secret: &str, ts: i64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer tok".parse().unwrap());
        h.insert(TIMESTAMP, ts.to_string().parse().unwrap());
        h.insert(SIGNATURE, format!("sha256={}", sign(secret, &ts.to_string(), body)).parse().unwrap());
        h
    }

    fn result(tier: &str, outcome: &str) -> Vec<u8> {
        serde_json::to_vec(&MediationResult {
            result_id: format!("(2026)浙0602民诉前调1号/{tier}"),
            case_no: "(2026)浙0602民诉前调1号".into(),
            tier: tier.into(),
            outcome: outcome.into(),
            judicial_confirmation: None,
            decided_at: "2026-12-01T10:00:00+08:00".into(),
        })
        .unwrap()
    }

    #[test]
    fn a_signed_result_is_recorded_once_and_a_settlement_closes_the_referral() {
        let c = court();
        let now = 1_800_000_000_000;
        let failed = result("village", "failed");
        assert_eq!(c.take(&signed(&failed, "sec", now / 1000), &failed, now).0, StatusCode::OK);
        assert!(!c.is_closed("(2026)浙0602民诉前调1号"), "a failure below the county goes on to the next tier");
        let settled = result("town", "settled");
        assert_eq!(c.take(&signed(&settled, "sec", now / 1000), &settled, now), (StatusCode::OK, "recorded".into()));
        assert_eq!(c.take(&signed(&settled, "sec", now / 1000), &settled, now), (StatusCode::OK, "already recorded".into()));
        assert_eq!((c.results().len(), c.deliveries()), (2, 3));
        assert!(c.is_closed("(2026)浙0602民诉前调1号"));
    }

    #[test]
    fn wrong_signatures_stale_timestamps_and_downtime_are_refused() {
        let c = court();
        let now = 1_800_000_000_000;
        let body = result("village", "settled");
        assert_eq!(c.take(&signed(&body, "other", now / 1000), &body, now).0, StatusCode::UNAUTHORIZED);
        assert_eq!(c.take(&signed(&body, "sec", now / 1000 - 301), &body, now).0, StatusCode::UNAUTHORIZED);
        c.set_down(true);
        assert_eq!(c.take(&signed(&body, "sec", now / 1000), &body, now).0, StatusCode::SERVICE_UNAVAILABLE);
        c.set_down(false);
        assert_eq!(c.take(&signed(&body, "sec", now / 1000), &body, now).0, StatusCode::OK);
        assert_eq!(c.results().len(), 1);
    }

    #[test]
    fn a_referral_not_settled_in_thirty_days_is_filed() {
        let c = court();
        assert_eq!(c.file_expired(1_000 + MEDIATION_PERIOD_MS - 1), 0);
        assert_eq!(c.file_expired(1_000 + MEDIATION_PERIOD_MS), 1);
        assert!(c.is_closed("(2026)浙0602民诉前调1号"));
        assert_eq!(c.file_expired(1_000 + 2 * MEDIATION_PERIOD_MS), 0, "once");
    }
}
