//! Open311 GeoReport v2 on the real server over real HTTP: the city's services, a resident's report
//! through to a stored case, reads in JSON and XML without personal data, the spec's errors, the flood
//! limit, and a second cockpit that reads the first through its own `open311` feed kind.
mod common;

use common::{form, request, start, without_request_numbers, Resp};
use serde_json::Value;
use std::time::Duration;

/// A point inside a grid of the demo city (WGS-84), and the grid's code.
fn grid_point(nth: usize) -> (f64, f64, String) {
    let rows = server::city::shaoxing::build();
    let g = rows.iter().filter(|r| r.level == app::model::Level::Grid).nth(nth).unwrap();
    let [lon, lat] = geom::label_point(&g.shape);
    (lon, lat, g.code.clone())
}

async fn post(addr: &str, file: &str, pairs: &[(&str, &str)]) -> Resp {
    let h = [("Content-Type", "application/x-www-form-urlencoded")];
    request(addr, "POST", &format!("/open311/v2/{file}"), &h, &form(pairs)).await
}

fn json(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", r.status, r.body))
}

async fn db(dir: &std::path::Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(dir.join("cockpit.db")).read_only(true);
    sqlx::SqlitePool::connect_with(opts).await.unwrap()
}

const PHONE: &str = "13912345678";

/// The demo city with a day of history and (almost) no new cases meanwhile, so that what a read
/// returns can be counted in the store.
fn quiet_city(dir: &std::path::Path, posts_per_hour: u32) -> server::config::Config {
    let mut cfg = common::config(dir);
    cfg.demo.rate_per_minute = 0.0;
    cfg.demo.systems = false;
    cfg.residents.posts_per_address_per_hour = posts_per_hour;
    cfg.residents.max_results = 100_000;
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reports_and_anyone_follows_it_without_seeing_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(quiet_city(dir.path(), 10)).await;
    let a = srv.addr.clone();

    // The services, in both formats.
    let s = request(&a, "GET", "/open311/v2/services.json", &[], "").await;
    assert_eq!(s.status, 200, "{}", s.body);
    let list = json(&s);
    let codes: Vec<&str> = list.as_array().unwrap().iter().map(|x| x["service_code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["dispute", "hazard", "public_order", "environment", "livelihood"]);
    assert_eq!(list[0]["service_name"], "矛盾纠纷");
    assert_eq!(list[0]["metadata"], true);
    let x = request(&a, "GET", "/open311/v2/services.xml?lang=en", &[], "").await;
    assert!(x.header("content-type").unwrap().starts_with("text/xml"), "{}", x.head);
    assert!(x.body.contains("<services><service>") && x.body.contains("<service_name>Disputes</service_name>"), "{}", x.body);
    let d = json(&request(&a, "GET", "/open311/v2/services/dispute.json", &[], "").await);
    let attrs = d["attributes"].as_array().unwrap();
    assert_eq!(attrs.iter().map(|x| x["code"].as_str().unwrap()).collect::<Vec<_>>(), ["ongoing", "parties"]);
    assert_eq!(attrs[0]["datatype"], "singlevaluelist");
    assert_eq!(attrs[0]["values"][0]["key"], "yes");
    assert_eq!(request(&a, "GET", "/open311/v2/services/ufo.json", &[], "").await.status, 404);

    // A report with contact details and numbers in its text.
    let (lon, lat, grid) = grid_point(7);
    let (lon_s, lat_s) = (lon.to_string(), lat.to_string());
    let report = [
        ("service_code", "hazard"),
        ("lat", lat_s.as_str()),
        ("long", lon_s.as_str()),
        ("description", "<b>井盖缺失</b>，3组12号门口，电话13912345678"),
        ("first_name", "建国"),
        ("last_name", "王"),
        ("phone", PHONE),
        ("email", "wang.jg@example.cn"),
        ("attribute[ongoing]", "yes"),
        ("jurisdiction_id", "330600"),
    ];
    let r = post(&a, "requests.json", &report).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = json(&r)[0]["service_request_id"].as_str().unwrap().to_string();
    assert!(id.starts_with('R'), "{id}");
    // Sent again (a double tap): the same number, still one case, and the feed counts a duplicate.
    let again = post(&a, "requests.xml", &report).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert!(again.body.contains(&format!("<service_request_id>{id}</service_request_id>")), "{}", again.body);

    let pool = db(dir.path()).await;
    let (n, stored_grid, phone, source): (i64, String, String, String) =
        sqlx::query_as("SELECT COUNT(*) OVER (), grid, person_phone, source FROM cases WHERE feed = 'residents' AND case_id = ?").bind(&id).fetch_one(&pool).await.unwrap();
    assert_eq!((n, stored_grid.as_str(), phone.as_str(), source.as_str()), (1, grid.as_str(), PHONE, "hotline_12345"));
    let (received, stored, duplicate): (i64, i64, i64) =
        sqlx::query_as("SELECT received, stored, duplicate FROM feed_state WHERE feed = 'residents'").fetch_one(&pool).await.unwrap();
    assert_eq!((received, stored, duplicate), (2, 1, 1));
    // On the operators' feeds list like any other feed, with nothing to pause or replay.
    let admin = common::login(&a, "admin").await;
    let feeds = json(&request(&a, "GET", "/api/admin/feeds", &[("Cookie", &admin)], "").await);
    let row = feeds["feeds"].as_array().unwrap().iter().find(|f| f["name"] == "residents").unwrap().clone();
    assert_eq!((row["kind"].as_str(), row["received"].as_u64(), row["stored"].as_u64(), row["duplicate"].as_u64(), row["stale"].as_bool()), (Some("residents"), Some(2), Some(1), Some(1), Some(false)));
    let page = request(&a, "GET", "/feeds", &[("Cookie", &admin)], "").await.body;
    assert!(page.contains(r#"<tr data-feed="residents">"#) && !page.contains(r#"data-feed="residents" data-op"#), "{page}");

    // Followed by its number: public fields only, in both formats.
    let one = request(&a, "GET", &format!("/open311/v2/requests/{id}.json"), &[], "").await;
    assert_eq!(one.status, 200, "{}", one.body);
    let v = json(&one);
    assert_eq!(v[0]["service_request_id"], id.as_str());
    assert_eq!(v[0]["status"], "open");
    assert_eq!(v[0]["service_code"], "hazard");
    assert_eq!(v[0]["extended_attributes"]["history"][0]["stage"], "reported");
    let place = v[0]["address"].as_str().unwrap();
    assert!(place.split(' ').count() == 3 && !place.contains("12"), "district, town, community only: {place}");
    for text in [&one.body, &request(&a, "GET", &format!("/open311/v2/requests/{id}.xml"), &[], "").await.body] {
        for secret in [PHONE, "建国", "wang.jg", "3组12号"] {
            assert!(!text.contains(secret), "{secret:?} leaked: {text}");
        }
    }
    let xml = request(&a, "GET", &format!("/open311/v2/requests/{id}.xml"), &[], "").await.body;
    assert!(xml.contains("<description>&lt;b&gt;井盖缺失&lt;/b&gt;，*组**号门口，电话***********"), "escaped, digits masked: {xml}");
    let tok = json(&request(&a, "GET", &format!("/open311/v2/tokens/{id}.json"), &[], "").await);
    assert_eq!(tok[0]["service_request_id"], id.as_str());

    // The list: the city's published requests of the last 90 days, the report among them, nobody's data.
    let all = request(&a, "GET", "/open311/v2/requests.json", &[], "").await;
    let list = json(&all);
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|x| x["service_request_id"].as_str().unwrap()).collect();
    assert!(ids.contains(&id.as_str()), "{ids:?}");
    let published: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE source IN ('hotline_12345', 'grid_patrol') AND reported_at >= ?")
        .bind(common::now() - 90 * 86_400_000)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(ids.len() as i64, published, "petitions, police incidents and camera alerts are not published one by one");
    let all_cases: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(&pool).await.unwrap();
    assert!(all_cases > published && published > 100, "{all_cases} {published}");
    let people: Vec<(String, String)> = sqlx::query_as("SELECT person_name, person_phone FROM cases WHERE person_name IS NOT NULL AND person_name <> ''").fetch_all(&pool).await.unwrap();
    assert!(people.len() > 10);
    // Everything but the request numbers (see `without_request_numbers`) is read.
    let unnumbered = without_request_numbers(&list.to_string());
    assert!(unnumbered.contains("\"status\"") && !unnumbered.contains("service_request_id"), "{unnumbered}");
    for (name, phone) in &people {
        assert!(!unnumbered.contains(phone.as_str()), "{phone} leaked");
        // Two-character names can be part of a place's name; three and more are a person's.
        if name.chars().count() > 2 {
            assert!(!unnumbered.contains(name.as_str()), "{name} leaked");
        }
    }
    let open = json(&request(&a, "GET", "/open311/v2/requests.json?status=closed&service_code=hazard", &[], "").await);
    assert!(open.as_array().unwrap().iter().all(|x| x["status"] == "closed" && x["service_code"] == "hazard"));
    let two = json(&request(&a, "GET", &format!("/open311/v2/requests.json?service_request_id={id},nope"), &[], "").await);
    assert_eq!(two.as_array().unwrap().len(), 1);

    // Errors in the spec's shape, with the status the spec gives them, and nothing stored.
    let cases_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE feed = 'residents'").fetch_one(&pool).await.unwrap();
    let e = post(&a, "requests.json", &[("lat", lat_s.as_str()), ("long", lon_s.as_str()), ("description", "x")]).await;
    assert_eq!((e.status, json(&e)[0]["code"].as_i64()), (400, Some(400)), "{}", e.body);
    assert!(json(&e)[0]["description"].as_str().unwrap().contains("service_code"));
    let e = post(&a, "requests.xml", &[("service_code", "hazard"), ("lat", "39.9"), ("long", "116.4"), ("description", "x")]).await;
    assert_eq!(e.status, 400);
    assert!(e.body.contains("<errors><error><code>400</code><description>该位置不在本市范围内</description></error></errors>"), "{}", e.body);
    let e = post(&a, "requests.json", &[("service_code", "hazard"), ("address_id", &grid), ("description", "x"), ("jurisdiction_id", "beijing")]).await;
    assert_eq!(e.status, 404, "{}", e.body);
    let e = post(&a, "requests.json", &[("service_code", "hazard"), ("address_id", &grid), ("description", "x"), ("api_key", "guess")]).await;
    assert_eq!(e.status, 403, "{}", e.body);
    let e = request(&a, "POST", "/open311/v2/requests.json", &[("Content-Type", "application/json")], "{\"service_code\":\"hazard\"}").await;
    assert_eq!(e.status, 400, "{}", e.body);
    assert!(e.body.contains("form"), "{}", e.body);
    assert_eq!(request(&a, "GET", "/open311/v2/requests.json?start_date=2026-01-01&end_date=2026-12-01", &[], "").await.status, 400);
    assert_eq!(request(&a, "GET", "/open311/v2/requests/nope.json", &[], "").await.status, 404);
    assert_eq!(request(&a, "GET", "/open311/v2/requests.csv", &[], "").await.status, 404);
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM cases WHERE feed = 'residents'").fetch_one(&pool).await.unwrap(), cases_before);

    // A flood from one address: every POST counts, refused ones too (seven so far); the limit is ten an
    // hour here.
    let mut statuses = Vec::new();
    for i in 0..4 {
        let text = format!("路灯不亮{}", ["甲", "乙", "丙", "丁"][i]);
        let r = post(&a, "requests.json", &[("service_code", "livelihood"), ("address_id", &grid), ("description", &text)]).await;
        statuses.push(r.status);
        if r.status == 429 {
            assert!(r.header("retry-after").is_some_and(|s| s.parse::<u64>().unwrap() > 0), "{}", r.head);
            assert_eq!(json(&r)[0]["code"], 429);
        }
    }
    assert_eq!(statuses, [201, 201, 201, 429], "{statuses:?}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cockpit_reads_the_first_through_its_open311_feed() {
    let dir_a = tempfile::tempdir().unwrap();
    let a = start(quiet_city(dir_a.path(), 10)).await;
    let (lon, lat, grid) = grid_point(11);
    let r = post(&a.addr, "requests.json", &[("service_code", "environment"), ("lat", &lat.to_string()), ("long", &lon.to_string()), ("description", "河道漂浮垃圾")]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = json(&r)[0]["service_request_id"].as_str().unwrap().to_string();
    let pool_a = db(dir_a.path()).await;

    let dir_b = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir_b.path());
    cfg.demo.enabled = false;
    let feed = format!(
        r#"
name = "city"
type = "open311"
endpoint = "http://{}/open311/v2"
jurisdiction_id = "330600"
backfill_days = 7
window_hours = 240
max_results = 1000
interval_seconds = 1
[mapping]
record = "case"
id = "service_request_id"
time = "updated_datetime"
status = "extended_attributes.stage"
category = "service_code"
source = "hotline_12345"
reported_at = "requested_datetime"
summary = "description"
department = "agency_responsible"
lon = "long"
lat = "lat"
datum = "wgs84"
"#,
        a.addr
    );
    cfg.feeds = vec![toml::from_str(&feed).unwrap()];
    let b = start(cfg).await;
    let pool = db(dir_b.path()).await;
    // Every request A publishes, once: (A's count is asked each time, as its city goes on.)
    let (mut got, mut published) = (0i64, -1i64);
    for _ in 0..150 {
        published = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE source IN ('hotline_12345', 'grid_patrol')").fetch_one(&pool_a).await.unwrap();
        got = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE feed = 'city'").fetch_one(&pool).await.unwrap_or(0);
        if got == published {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(published > 100, "{published}");
    assert_eq!(got, published, "every published request mirrored once");
    let (g, cat, status): (String, String, String) =
        sqlx::query_as("SELECT grid, category, status FROM cases WHERE feed = 'city' AND case_id = ?").bind(&id).fetch_one(&pool).await.unwrap();
    assert_eq!((g.as_str(), cat.as_str(), status.as_str()), (grid.as_str(), "environment", "reported"));
    let quarantined: i64 = sqlx::query_scalar("SELECT quarantined FROM feed_state WHERE feed = 'city'").fetch_one(&pool).await.unwrap();
    assert_eq!(quarantined, 0);
    b.stop().await;
    a.stop().await;
}

/// The Python that has the georeport client: scripts/test.sh installs it into target/test-venv.
fn client_python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let py = std::env::var_os("COCKPIT_TEST_PYTHON").map(std::path::PathBuf::from).unwrap_or_else(|| root.join("target/test-venv/bin/python3"));
    assert!(py.exists(), "{} is missing: scripts/test.sh installs the georeport client (or run: source scripts/lib.sh; ensure_test_python)", py.display());
    py
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_library_we_did_not_write_reads_json_and_xml() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(quiet_city(dir.path(), 10)).await;
    let (lon, lat, _) = grid_point(3);
    let r = post(&srv.addr, "requests.json", &[("service_code", "hazard"), ("lat", &lat.to_string()), ("long", &lon.to_string()), ("description", "路面塌陷")]).await;
    let id = json(&r)[0]["service_request_id"].as_str().unwrap().to_string();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/open311/georeport_client.py");
    let base = format!("http://{}/open311/v2", srv.addr);
    let py = client_python();
    let args = [script.into_os_string(), base.into(), "330600".into(), id.clone().into()];
    let out = tokio::task::spawn_blocking(move || std::process::Command::new(py).args(args).output()).await.unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    for fmt in ["json", "xml"] {
        let s = &seen[fmt];
        assert_eq!(s["services"], serde_json::json!(["dispute", "hazard", "public_order", "environment", "livelihood"]), "{fmt}");
        assert_eq!(s["attributes"], serde_json::json!(["ongoing", "parties"]), "{fmt}");
        assert_eq!(s["one"]["service_request_id"], id.as_str(), "{fmt}");
        assert_eq!((s["one"]["status"].as_str(), s["one"]["service_code"].as_str()), (Some("open"), Some("hazard")), "{fmt}");
        assert_eq!(s["by_id"], serde_json::json!([id]), "{fmt}");
        assert_eq!(s["recent_statuses"], serde_json::json!(["open"]), "{fmt}");
        assert!(s["recent"].as_u64().unwrap() > 10, "{fmt}: {s}");
        assert!(s["recent_codes"].as_array().unwrap().iter().all(|c| c == "hazard" || c == "environment"), "{fmt}: {s}");
    }
    assert_eq!(seen["json"], seen["xml"], "the same answers in both formats");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apps_report_with_keys_that_city_administrators_issue_list_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = quiet_city(dir.path(), 100);
    cfg.residents.anonymous_posts = false;
    cfg.residents.posts_per_key_per_hour = 2;
    let srv = start(cfg).await;
    let a = srv.addr.clone();
    let (_, _, grid) = grid_point(5);
    let report = |text: &'static str, key: Option<String>| {
        let grid = grid.clone();
        let a = a.clone();
        async move {
            let mut p = vec![("service_code", "livelihood".to_string()), ("address_id", grid), ("description", text.to_string())];
            p.extend(key.map(|k| ("api_key", k)));
            let pairs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post(&a, "requests.json", &pairs).await
        }
    };
    // This city takes reports from its apps only.
    let r = report("路灯不亮", None).await;
    assert_eq!((r.status, json(&r)[0]["code"].as_i64()), (403, Some(403)), "{}", r.body);

    // A district official may not issue keys; the city's administrator may.
    let zhuji = common::login(&a, "zhuji").await;
    let t = common::csrf(&a, &zhuji).await;
    assert_eq!(common::post_json(&a, &zhuji, &t, "/api/admin/api-keys", r#"{"name": "x"}"#).await.status, 404);
    let admin = common::login(&a, "admin").await;
    let t = common::csrf(&a, &admin).await;
    assert_eq!(common::post_json(&a, &admin, &t, "/api/admin/api-keys", r#"{"name": ""}"#).await.status, 400);
    assert_eq!(common::post_json(&a, &admin, &t, "/api/admin/api-keys", r#"{"app": "x"}"#).await.status, 400);
    let issued = common::post_json(&a, &admin, &t, "/api/admin/api-keys", r#"{"name": "越城随手拍"}"#).await;
    assert_eq!(issued.status, 201, "{}", issued.body);
    let issued = json(&issued);
    let (id, key) = (issued["id"].as_i64().unwrap(), issued["api_key"].as_str().unwrap().to_string());

    // The key's reports are taken, up to its hourly allowance (2 here).
    assert_eq!(report("路灯不亮", Some(key.clone())).await.status, 201);
    assert_eq!(report("井盖松动", Some(key.clone())).await.status, 201);
    assert_eq!(report("树枝压线", Some(key.clone())).await.status, 429);
    assert_eq!(report("路灯不亮", Some("not-a-key".into())).await.status, 403);

    // Listed without the key or its hash; revoked, it is refused at once.
    let list = request(&a, "GET", "/api/admin/api-keys", &[("Cookie", &admin)], "").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains(&key) && !list.body.contains("hash"), "{}", list.body);
    let l = json(&list);
    assert_eq!((l[0]["id"].as_i64(), l[0]["name"].as_str(), l[0]["revoked_at"].is_null()), (Some(id), Some("越城随手拍"), true));
    assert_eq!(request(&a, "GET", "/api/admin/api-keys", &[("Cookie", &zhuji)], "").await.status, 404);
    let rv = common::post_json(&a, &admin, &t, &format!("/api/admin/api-keys/{id}/revoke"), "").await;
    assert_eq!(rv.status, 204, "{}", rv.body);
    assert_eq!(common::post_json(&a, &admin, &t, &format!("/api/admin/api-keys/{id}/revoke"), "").await.status, 400, "already revoked");
    assert_eq!(report("路灯又不亮", Some(key.clone())).await.status, 403);
    assert!(json(&request(&a, "GET", "/api/admin/api-keys", &[("Cookie", &admin)], "").await)[0]["revoked_at"].is_i64());

    // Both steps are in the audit log, without the key.
    let auditor = common::login(&a, "auditor").await;
    let log = request(&a, "GET", "/api/audit?actor=admin", &[("Cookie", &auditor)], "").await.body;
    assert!(log.contains("api_key_issued") && log.contains("api_key_revoked") && !log.contains(&key), "{log}");
    srv.stop().await;

    // Issued keys survive a restart; revoked ones stay revoked.
    let mut cfg = quiet_city(dir.path(), 100);
    cfg.residents.anonymous_posts = false;
    let srv = start(cfg).await;
    let admin = common::login(&srv.addr, "admin").await;
    let t = common::csrf(&srv.addr, &admin).await;
    let second = json(&common::post_json(&srv.addr, &admin, &t, "/api/admin/api-keys", r#"{"name": "柯桥掌上通"}"#).await)["api_key"].as_str().unwrap().to_string();
    srv.stop().await;
    let mut cfg = quiet_city(dir.path(), 100);
    cfg.residents.anonymous_posts = false;
    let srv = start(cfg).await;
    let a = srv.addr.clone();
    let report2 = |key: String| {
        let (a, grid) = (a.clone(), grid.clone());
        async move { post(&a, "requests.json", &[("service_code", "hazard"), ("address_id", &grid), ("description", "重启后"), ("api_key", &key)]).await }
    };
    assert_eq!(report2(second).await.status, 201);
    assert_eq!(report2(key).await.status, 403);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resident_follows_each_step_an_official_takes() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(quiet_city(dir.path(), 100)).await;
    let a = srv.addr.clone();
    // A grid of 塔山街道, the tashan account's street.
    let grid = server::city::shaoxing::build().into_iter().find(|r| r.level == app::model::Level::Grid && r.code.starts_with("330602001")).unwrap().code;
    let r = post(&a, "requests.json", &[("service_code", "hazard"), ("address_id", &grid), ("description", "楼道电线裸露"), ("phone", PHONE)]).await;
    let id = json(&r)[0]["service_request_id"].as_str().unwrap().to_string();
    let path = format!("/api/cases/residents/{id}");

    let tashan = common::login(&a, "tashan").await;
    let t = common::csrf(&a, &tashan).await;
    // The street's queue of residents' reports lists it (the alerts list does not: it is not due yet);
    // another street's queue does not.
    let queue = |who: String| {
        let a = a.clone();
        async move {
            let d = json(&request(&a, "GET", "/api/desk?queue=residents", &[("Cookie", &who)], "").await);
            d["cases"].as_array().unwrap().iter().map(|c| (c["feed"].as_str().unwrap().to_string(), c["case_id"].as_str().unwrap().to_string())).collect::<Vec<_>>()
        }
    };
    let listed = queue(tashan.clone()).await;
    assert!(listed.contains(&("residents".to_string(), id.clone())) && listed.iter().all(|(f, _)| f == "residents"), "{listed:?}");
    let alerts = json(&request(&a, "GET", "/api/desk", &[("Cookie", &tashan)], "").await);
    assert!(!alerts["cases"].as_array().unwrap().iter().any(|c| c["case_id"] == id.as_str()));
    assert!(!queue(common::login(&a, "fengqiao").await).await.iter().any(|(_, c)| *c == id));
    let case = json(&request(&a, "GET", &path, &[("Cookie", &tashan)], "").await);
    assert!(case["actions"].as_array().unwrap().iter().any(|x| x == "Accept"), "{case}");
    let act = |action: &'static str, note: &'static str| {
        let (a, tashan, t, path) = (a.clone(), tashan.clone(), t.clone(), path.clone());
        async move { common::post_json(&a, &tashan, &t, &format!("{path}/actions"), &serde_json::json!({"action": action, "note": note}).to_string()).await }
    };
    assert_eq!(act("accept", "").await.status, 200);
    let r = act("dispatch", "").await;
    assert_eq!(r.status, 400, "the department is named: {}", r.body);
    assert_eq!(act("dispatch", "越城区住建局").await.status, 200);
    assert_eq!(act("close", "").await.status, 409, "not from dispatched");
    let public = json(&request(&a, "GET", &format!("/open311/v2/requests/{id}.json"), &[], "").await);
    assert_eq!(public[0]["agency_responsible"], "越城区住建局");
    let stages: Vec<&str> = public[0]["extended_attributes"]["history"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, ["reported", "accepted", "dispatched"]);
    assert_eq!(act("start", "").await.status, 200);
    assert_eq!(act("resolve", "已更换线路并加装线槽，感谢反映").await.status, 200);
    let page = request(&a, "GET", &format!("/report/{id}"), &[], "").await.body;
    assert!(page.contains("越城区住建局") && page.contains("已更换线路并加装线槽") && page.contains("办结"), "{page}");
    assert!(!page.contains(PHONE) && !page.contains("tashan"), "no phone, no official's account");
    assert_eq!(act("close", "").await.status, 409, "a resolved case is verified first");
    assert_eq!(act("verify", "").await.status, 200);
    let r = act("close", "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let public = json(&request(&a, "GET", &format!("/open311/v2/requests/{id}.json"), &[], "").await);
    assert_eq!((public[0]["status"].as_str(), public[0]["status_notes"].as_str()), (Some("closed"), Some("已更换线路并加装线槽，感谢反映")));

    // Outside the street, the report is not there; another system's case is that system's to move.
    let fengqiao = common::login(&a, "fengqiao").await;
    assert_eq!(request(&a, "GET", &path, &[("Cookie", &fengqiao)], "").await.status, 404);
    let pool = db(dir.path()).await;
    // Whatever stage the demo's case has reached (it moves with the clock), the next step is one the
    // state machine allows: the refusal can only be that the case is not the cockpit's to move.
    let (feed, other, status): (String, String, String) = sqlx::query_as(
        "SELECT feed, case_id, status FROM cases WHERE feed <> 'residents' AND grid LIKE '330602001%' AND status IN ('reported', 'accepted', 'dispatched', 'handling') LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let next = match status.as_str() {
        "reported" => "accept",
        "accepted" => "dispatch",
        "dispatched" => "start",
        _ => "resolve",
    };
    let body = serde_json::json!({"action": next, "note": "城管局"}).to_string();
    let r = common::post_json(&a, &tashan, &t, &format!("/api/cases/{feed}/{other}/actions"), &body).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("source system"), "{}", r.body);
    // Each step is in the residents' feed's counts: the report and six steps.
    let stored: i64 = sqlx::query_scalar("SELECT stored FROM feed_state WHERE feed = 'residents'").fetch_one(&pool).await.unwrap();
    assert_eq!(stored, 7);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_naming_the_community_places_a_report_and_a_vague_one_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(quiet_city(dir.path(), 100)).await;
    let a = srv.addr.clone();
    let r = post(&a, "requests.json", &[("service_code", "environment"), ("address_string", "塔山街道花园社区8幢东侧"), ("description", "垃圾桶满溢")]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = json(&r)[0]["service_request_id"].as_str().unwrap().to_string();
    let public = json(&request(&a, "GET", &format!("/open311/v2/requests/{id}.json"), &[], "").await);
    let place = public[0]["address"].as_str().unwrap();
    assert!(place.contains("塔山街道") && place.contains("花园社区") && !place.contains("8幢"), "{place}");
    // The official reads the words as typed (masked below sensitive clearance, as every address).
    let tashan = common::login(&a, "tashan").await;
    let case = json(&request(&a, "GET", &format!("/api/cases/residents/{id}"), &[("Cookie", &tashan)], "").await);
    assert!(case["grid"].as_str().unwrap().starts_with("330602001004"), "{case}");
    assert!(case["address"].as_str().unwrap().starts_with("塔山街道花园社区"), "{case}");

    let count = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM cases").fetch_one(&db(dir.path()).await).await.unwrap() };
    let before = count().await;
    for (address, code, words) in [
        ("塔山街道解放北路", 400, "塔山街道"),
        ("某市某路1号", 400, "community or village"),
    ] {
        let r = post(&a, "requests.json", &[("service_code", "environment"), ("address_string", address), ("description", "垃圾"), ("lang", "en")]).await;
        assert_eq!(r.status, code, "{address}: {}", r.body);
        let e = json(&r);
        assert_eq!(e[0]["code"], code);
        assert!(e[0]["description"].as_str().unwrap().contains(words), "{address}: {e}");
    }
    let xml = post(&a, "requests.xml", &[("service_code", "environment"), ("address_string", "塔山街道解放北路"), ("description", "垃圾")]).await;
    assert_eq!(xml.status, 400);
    assert!(xml.body.contains("<errors>") && xml.body.contains("塔山街道"), "{}", xml.body);
    assert_eq!(count().await, before, "nothing stored on a refusal");
    srv.stop().await;
}

/// A JPEG as a phone writes one (JFIF, then EXIF with a GPS position and the phone, XMP, a comment),
/// a 640×480 frame and a few bytes of scan data: what `residents::photo` is given to clean.
fn phone_jpeg() -> Vec<u8> {
    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }
    let mut j = vec![0xFF, 0xD8];
    j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    j.extend(segment(0xE1, b"Exif\0\0GPS 30.0023N 120.5821E Xiaomi 14"));
    j.extend(segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>owner</x:xmpmeta>"));
    j.extend(segment(0xFE, b"taken by Zhang San"));
    j.extend(segment(0xDB, &[0u8; 65]));
    j.extend(segment(0xC0, &[8, 0x01, 0xE0, 0x02, 0x80, 1, 1, 0x11, 0]));
    j.extend(segment(0xC4, &[0u8; 20]));
    j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0x56, 0x78, 0xFF, 0xD9]);
    j
}

/// The report form as a browser sends it: multipart, with a photo when given (an empty file part
/// otherwise, as a file input left empty sends).
fn multipart(fields: &[(&str, &str)], photo: Option<&[u8]>) -> (String, Vec<u8>) {
    let boundary = "----cockpit-test-boundary-7f3a";
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{}\"\r\nContent-Type: image/jpeg\r\n\r\n", if photo.is_some() { "IMG_0001.jpg" } else { "" }).as_bytes());
    b.extend_from_slice(photo.unwrap_or_default());
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

async fn send_form(a: &str, fields: &[(&str, &str)], photo: Option<&[u8]>) -> (u16, String, String) {
    let (ct, body) = multipart(fields, photo);
    let (status, head, body) = common::request_bytes(a, "POST", "/report", &[("Content-Type", &ct)], &body).await;
    (status, head, String::from_utf8_lossy(&body).to_string())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The fields of a report at a point in 花园社区 of 塔山街道 (tashan, sensitive clearance, and huayuan,
/// internal, both see its case), as the form's submit button sends them.
fn huayuan_report() -> Vec<(&'static str, String)> {
    let rows = server::city::shaoxing::build();
    let g = rows.iter().find(|r| r.level == app::model::Level::Grid && r.code.starts_with("330602001004")).unwrap();
    let [lon, lat] = geom::label_point(&g.shape);
    vec![
        ("service_code", "hazard".into()),
        ("description", "井盖缺失".into()),
        ("lat", format!("{lat:.6}")),
        ("long", format!("{lon:.6}")),
        ("phone", PHONE.into()),
        ("submit", "1".into()),
    ]
}

fn pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Sends the photo with a press of the form that only re-draws it (a map click); the held photo's token.
async fn hold(a: &str, jpeg: &[u8]) -> String {
    let (status, _, page) = send_form(a, &[("region", "330602"), ("map.x", "1"), ("map.y", "1")], Some(jpeg)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"id="photo-held""#), "{page}");
    page.split(r#"name="photo_token" value=""#).nth(1).and_then(|t| t.get(..64)).expect("the page carries the held photo").to_string()
}

async fn count(dir: &std::path::Path, table: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&db(dir).await).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_that_is_no_image_too_large_or_gone_is_refused_and_one_taken_back_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(quiet_city(dir.path(), 100)).await;
    let a = srv.addr.clone();
    let fields = huayuan_report();
    let (photos, cases) = (count(dir.path(), "photos").await, count(dir.path(), "cases").await);
    // Refused with the reason, what was typed still there, nothing stored.
    let (status, _, page) = send_form(&a, &pairs(&fields), Some(b"GIF89a\x01\0\x01\0\x80\0\0")).await;
    assert_eq!(status, 415, "{page}");
    assert!(page.contains("JPEG 或 PNG") && page.contains("井盖缺失"), "{page}");
    let mut big = phone_jpeg();
    big.resize(5 * 1024 * 1024 + 1, 0);
    let (status, _, page) = send_form(&a, &pairs(&fields), Some(&big)).await;
    assert_eq!(status, 413, "{page}");
    assert!(page.contains("5 MB"), "{page}");
    let mut forged = huayuan_report();
    forged.push(("photo_token", "ab".repeat(32)));
    let (status, _, page) = send_form(&a, &pairs(&forged), None).await;
    assert_eq!(status, 400, "a token that holds nothing: {page}");
    assert!(page.contains("重新选择照片"), "{page}");
    assert_eq!((count(dir.path(), "photos").await, count(dir.path(), "cases").await), (photos, cases), "nothing stored on a refusal");

    // A photo chosen and then taken back is deleted.
    let token = hold(&a, &phone_jpeg()).await;
    assert_eq!(count(dir.path(), "photos").await, photos + 1);
    let (status, _, page) = send_form(&a, &[("photo_token", &token), ("drop_photo", "1")], None).await;
    assert_eq!(status, 200);
    assert!(!page.contains("photo_token") && !page.contains(r#"id="photo-held""#), "{page}");
    assert_eq!(count(dir.path(), "photos").await, photos, "a photo taken back is not kept");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_residents_photo_reaches_cleared_staff_only_and_without_where_it_was_taken() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(quiet_city(dir.path(), 100)).await;
    let a = srv.addr.clone();
    let form_page = request(&a, "GET", "/report", &[], "").await.body;
    assert!(form_page.contains(r#"enctype="multipart/form-data""#) && form_page.contains(r#"type="file" name="photo""#), "{form_page}");
    // Chosen with one press of the form (a map click), taken with the report at the next.
    let jpeg = phone_jpeg();
    let mut fields = huayuan_report();
    fields.push(("photo_token", hold(&a, &jpeg).await));
    let (status, head, page) = send_form(&a, &pairs(&fields), None).await;
    assert_eq!(status, 303, "{page}");
    let id = head.lines().find_map(|l| l.strip_prefix("location: /report/").or_else(|| l.strip_prefix("Location: /report/"))).and_then(|l| l.split('?').next()).unwrap().to_string();
    let pool = db(dir.path()).await;
    let (mime, width, stored): (String, i64, Vec<u8>) = sqlx::query_as("SELECT mime, width, bytes FROM photos WHERE feed = 'residents' AND case_id = ?").bind(&id).fetch_one(&pool).await.unwrap();
    assert_eq!((mime.as_str(), width), ("image/jpeg", 640));
    for secret in [&b"GPS"[..], b"Xiaomi", b"xmpmeta", b"Zhang San"] {
        assert!(contains(&jpeg, secret) && !contains(&stored, secret), "{}", String::from_utf8_lossy(secret));
    }
    let progress = request(&a, "GET", &format!("/report/{id}"), &[], "").await.body;
    assert!(progress.contains(r#"id="photo-received""#), "{progress}");
    let public = json(&request(&a, "GET", &format!("/open311/v2/requests/{id}.json"), &[], "").await);
    assert!(public[0]["media_url"].is_null(), "never published: {public}");

    // Staff cleared for personal data see it, and the view is audited; others are told there is none.
    let case_path = format!("/api/cases/residents/{id}");
    let photo_path = format!("{case_path}/photo");
    let tashan = common::login(&a, "tashan").await;
    assert_eq!(json(&request(&a, "GET", &case_path, &[("Cookie", &tashan)], "").await)["photo"], true);
    let (status, head, body) = common::request_bytes(&a, "GET", &photo_path, &[("Cookie", &tashan)], b"").await;
    assert_eq!(status, 200, "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: image/jpeg") && head.contains("no-store"), "{head}");
    assert_eq!(body, stored);
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE actor = 'tashan' AND action = 'view_photo' AND detail LIKE ?").bind(format!("%{id}%")).fetch_one(&pool).await.unwrap();
    assert_eq!(audited, 1);
    let huayuan = common::login(&a, "huayuan").await;
    let seen = json(&request(&a, "GET", &case_path, &[("Cookie", &huayuan)], "").await);
    assert_eq!((seen["case_id"].as_str(), &seen["photo"]), (Some(id.as_str()), &Value::Bool(false)), "internal clearance: the case, not the photo");
    assert_eq!(request(&a, "GET", &photo_path, &[("Cookie", &huayuan)], "").await.status, 404);
    assert_eq!(request(&a, "GET", &photo_path, &[("Cookie", &common::login(&a, "fengqiao").await)], "").await.status, 404);
    assert_eq!(request(&a, "GET", &photo_path, &[], "").await.status, 401);
    srv.stop().await;
}
