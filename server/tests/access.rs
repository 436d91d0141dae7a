//! Permission layers on the real server over real HTTP: every route × every role × a region inside and
//! outside the role's scope, and the security properties of sign-in, sessions, CSRF and device tokens.
mod common;

use app::model::WallSnapshot;
use common::{csrf, form, login, login_next, login_resp, post_json, request, start, without_request_numbers, Resp};
use leptos_axum::generate_route_list;

/// A path to request for a route pattern: parameters get a harmless value.
fn concrete(pattern: &str) -> String {
    pattern.replace("{feed}", "demo").replace("{id}", "1").replace("{*fn_name}", "x").replace("{file}", "requests.json")
}

/// Every route the server has: its own table, the Leptos pages, and the server functions.
fn all_routes() -> Vec<(String, String)> {
    let mut routes: Vec<(String, String)> = server::web::ROUTES.iter().map(|(m, p)| (m.to_string(), concrete(p))).collect();
    for r in generate_route_list(app::App) {
        routes.push(("GET".into(), r.path().to_string()));
    }
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.push((method.to_string(), path.to_string()));
    }
    routes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_closed_without_a_session_unless_declared_public() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let routes = all_routes();
    assert!(routes.len() >= 16, "{routes:?}");
    for (method, path) in &routes {
        let r = request(&srv.addr, method, path, &[], "").await;
        let bare = path.split('?').next().unwrap();
        let public = server::web::gate::is_public(bare);
        let machine = server::web::gate::is_machine(&method.parse().unwrap(), bare);
        if machine && (path.starts_with("/open311/") || path == "/report") {
            // A resident's report needs no credentials where the city takes anonymous ones (the demo):
            // an empty one is refused for what it lacks, and nothing is stored.
            assert_eq!(r.status, 400, "{method} {path} empty gave {}: {}", r.status, r.body);
            if path.starts_with("/open311/") {
                assert!(r.body.starts_with("[{\"code\":400"), "{}", r.body);
            }
        } else if machine {
            // Machines present their own credentials (a feed's token and signature, the metrics token).
            assert!([401, 404].contains(&r.status), "{method} {path} without credentials gave {}", r.status);
        } else if public {
            // The code step of a sign-in sends back to sign-in when no sign-in waits for a code.
            let to_sign_in = ["/device", "/login/code", "/auth/code"].contains(&path.as_str());
            assert!(![401, 303].contains(&r.status) || to_sign_in, "{method} {path} is public: {}", r.status);
        } else {
            assert!([401, 303].contains(&r.status), "{method} {path} without a session gave {}", r.status);
            assert!(!r.body.contains("WallSnapshot") && !r.body.contains(r#""areas""#), "{method} {path} leaked data");
        }
    }
    srv.stop().await;
}

/// (account, region inside its scope, region outside, may it see dashboards)
const MATRIX: &[(&str, &str, &str, bool)] = &[
    ("leader", "330681109", "999999", true),
    ("zhuji", "330681109", "330602", true),
    ("fengqiao", "330681109002", "330602001", true),
    ("tashan", "330602001004", "330681109", true),
    ("huayuan", "330602001004", "330602001008", true),
    ("chengguan", "330681", "999999", false),
    ("auditor", "330681", "999999", false),
    ("admin", "330681", "999999", true),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_its_subtree_and_nothing_outside() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    for &(user, inside, outside, dashboards) in MATRIX {
        let cookie = login(&srv.addr, user).await;
        let h = [("Cookie", cookie.as_str())];
        for (path, region) in [("/api/live", inside), ("/api/wall", inside), ("/api/map", inside)] {
            let r = request(&srv.addr, "GET", &format!("{path}?region={region}"), &h, "").await;
            if dashboards {
                assert_eq!(r.status, 200, "{user} {path} {region}: {}", r.body);
            } else {
                assert_ne!(r.status, 200, "{user} may not see dashboards ({path})");
                assert!(!r.body.contains("kpis"), "{user} {path} leaked data");
            }
        }
        for path in ["/api/live", "/api/wall", "/api/map"] {
            let r = request(&srv.addr, "GET", &format!("{path}?region={outside}"), &h, "").await;
            assert_ne!(r.status, 200, "{user} reached {outside} through {path}");
            assert!(!r.body.contains("kpis") && !r.body.contains("geojson"), "{user} {path} leaked data");
        }
        // Every route this account can call, asked about the region outside its scope, returns nothing of it.
        for (method, path) in all_routes().iter().filter(|(m, _)| m == "GET") {
            if ["/login", "/device", "/healthz"].contains(&path.as_str()) || server::web::gate::is_public(path) {
                continue;
            }
            let r = request(&srv.addr, method, &format!("{path}?region={outside}"), &h, "").await;
            assert!(r.status < 500, "{user} {path}: {}", r.status);
            for leak in [format!(r#""code":"{outside}""#), format!(r#"data-code="{outside}""#), format!(r#""grid":"{outside}"#)] {
                assert!(!r.body.contains(&leak), "{user} {path} returned {outside}'s data");
            }
        }
        // With no region, each gets its own scope's root: never anything above it.
        let r = request(&srv.addr, "GET", "/api/live", &h, "").await;
        if dashboards {
            let data = r.body.lines().find_map(|l| l.strip_prefix("data: ")).expect("snapshot");
            let s: WallSnapshot = serde_json::from_str(data).unwrap();
            assert!(s.ticker.iter().all(|t| !t.case_id.is_empty()));
            let me: serde_json::Value = serde_json::from_str(&request(&srv.addr, "GET", "/api/me", &h, "").await.body).unwrap();
            assert_eq!(me["scope"], s.region.code, "{user}'s stream is rooted at their scope");
        }
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_street_officials_stream_never_carries_another_streets_cases() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let cookie = login(&srv.addr, "fengqiao").await;
    for _ in 0..3 {
        let r = request(&srv.addr, "GET", "/api/live", &[("Cookie", &cookie)], "").await;
        let data = r.body.lines().find_map(|l| l.strip_prefix("data: ")).expect("snapshot");
        let s: WallSnapshot = serde_json::from_str(data).unwrap();
        assert_eq!(s.region.name, "枫桥镇");
        assert!(s.ticker.iter().all(|t| t.place.starts_with("枫桥镇")), "{:?}", s.ticker);
        assert!(s.areas.iter().all(|a| a.code.starts_with("330681109")));
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    }
    srv.stop().await;
}

fn assert_session_cookie_flags(r: &Resp, secure: bool) {
    let c = r.headers("set-cookie").into_iter().find(|c| c.starts_with("cockpit_session=")).expect("session cookie");
    assert!(c.contains("HttpOnly"), "{c}");
    assert!(c.contains("SameSite=Lax"), "{c}");
    assert!(c.contains("Path=/"), "{c}");
    assert_eq!(c.contains("Secure"), secure, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sessions_csrf_and_cookies() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = &srv.addr;

    let ok = login_resp(a, "leader", common::DEMO_PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location").as_deref(), Some("/wall"));
    assert_session_cookie_flags(&ok, false);
    let cookie = ok.cookie("cockpit_session").unwrap();

    // A form without the CSRF cookie/field pair is refused, whatever the password.
    let body = common::form(&[("username", "leader"), ("password", common::DEMO_PASSWORD), ("csrf", "x")]);
    let r = request(a, "POST", "/auth/login", &[("Content-Type", "application/x-www-form-urlencoded")], &body).await;
    assert_eq!(r.status, 403);
    assert!(r.cookie("cockpit_session").is_none());

    // State-changing APIs need the session's CSRF token in a header.
    let h = [("Cookie", cookie.as_str()), ("Content-Type", "application/json")];
    let r = request(a, "POST", "/api/admin/devices", &h, r#"{"name":"x","scope":"330600"}"#).await;
    assert_eq!(r.status, 403, "no CSRF token");
    let token = csrf(a, &cookie).await;
    let h = [("Cookie", cookie.as_str()), ("Content-Type", "application/json"), ("X-CSRF-Token", token.as_str())];
    let r = request(a, "POST", "/api/admin/devices", &h, r#"{"name":"x","scope":"330600"}"#).await;
    assert_eq!(r.status, 404, "a city leader is no administrator: {}", r.body);

    // Sign-out needs the token too, and ends the session.
    let lh = [("Cookie", cookie.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    assert_eq!(request(a, "POST", "/auth/logout", &lh, "csrf=wrong").await.status, 403);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &cookie)], "").await.status, 200);
    assert_eq!(request(a, "POST", "/auth/logout", &lh, &format!("csrf={token}")).await.status, 303);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &cookie)], "").await.status, 401, "revoked");

    // Redirects after sign-in stay on this site.
    let page = request(a, "GET", "/login?next=//evil.example/x", &[], "").await;
    assert!(page.body.contains(r#"name="next" value="/wall""#));
    srv.stop().await;
}

/// After signing in a person is told of the sign-in before and of the failed attempts since (等保 2.0),
/// from the audit log; a wall device is told nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_tells_of_the_sign_in_before_and_the_failures_since() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = &srv.addr;
    let me = |cookie: String| async move { serde_json::from_str::<serde_json::Value>(&request(a, "GET", "/api/me", &[("Cookie", &cookie)], "").await.body).unwrap() };
    let first = me(login(a, "chengguan").await).await;
    assert_eq!(first["last_sign_in"], serde_json::json!({"at": null, "from": null, "failed_since": 0}), "the first sign-in: {first}");
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    for _ in 0..2 {
        assert!(login_resp(a, "chengguan", "not the password").await.cookie("cockpit_session").is_none());
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = me(login(a, "chengguan").await).await;
    let l = &second["last_sign_in"];
    assert!(l["at"].as_i64().is_some_and(|t| t >= common::PINNED_MS), "{second}");
    assert_eq!((l["from"].as_str(), l["failed_since"].as_u64()), (Some("127.0.0.1"), Some(2)), "{second}");
    // Nothing failed between the second and a third.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let third = me(login(a, "chengguan").await).await;
    assert_eq!(third["last_sign_in"]["failed_since"], 0, "{third}");
    assert!(third["last_sign_in"]["at"].as_i64() > l["at"].as_i64(), "{third}");
    srv.stop().await;
}

/// Guessing is slowed, but nobody can lock an office out: made-up names never touch real accounts, one
/// account's failures slow only that account (with a wait that doubles, not a 15-minute lock), and the
/// refusal says how long to wait (429 and Retry-After, and in words on the form).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_is_slowed_without_locking_out_an_office() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = &srv.addr;
    for i in 0..20 {
        let r = login_resp(a, &format!("nobody{i}"), "guess").await;
        assert_eq!(r.header("location").as_deref(), Some("/login?error=bad&next=/wall"));
    }
    assert!(login_resp(a, "leader", common::DEMO_PASSWORD).await.cookie("cockpit_session").is_some(), "made-up names lock nobody out");
    for _ in 0..5 {
        let r = login_resp(a, "zhuji", "wrong password").await;
        assert_eq!(r.header("location").as_deref(), Some("/login?error=bad&next=/wall"));
    }
    let r = login_resp(a, "zhuji", common::DEMO_PASSWORD).await;
    assert_eq!(r.status, 429, "even the right password waits its turn: {}", r.head);
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    assert!(r.body.contains("请 1 秒后再试"), "{}", r.body);
    assert!(r.body.contains(r#"name="csrf""#), "the form is there to try again");
    assert!(r.cookie("cockpit_session").is_none());
    assert!(login_resp(a, "fengqiao", common::DEMO_PASSWORD).await.cookie("cockpit_session").is_some(), "the office's other accounts sign in");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert!(login_resp(a, "zhuji", common::DEMO_PASSWORD).await.cookie("cockpit_session").is_some(), "a wait, not a lock");
    srv.stop().await;
}

/// The throttle is kept in the store: a restart does not reset a guesser's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_survives_a_restart() {
    use server::auth::{AccessConfig, Auth, AuthError};
    use server::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn Store> = std::sync::Arc::new(server::store::SqliteStore::open(dir.path()).await.unwrap());
    store.save_regions(&server::city::shaoxing::build()).await.unwrap();
    let tree = std::sync::Arc::new(server::city::RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let clock = server::clock::Clock::manual(common::PINNED_MS);
    server::auth::seed_demo_accounts(store.as_ref(), clock.now_ms()).await.unwrap();
    let cfg = || AccessConfig { session_hours: 12, secure_cookies: false, password_max_days: 0, idle_minutes: 30, two_factor: server::config::TwoFactor::Off };
    let auth = Auth::load(store.clone(), tree.clone(), cfg(), clock.clone()).await.unwrap();
    for i in 0..6 {
        if i > 0 {
            clock.advance(60_000);
        }
        assert_eq!(auth.login("zhuji", "wrong", "10.1.1.1", clock.now_ms()).await.err(), Some(AuthError::BadCredentials));
    }
    assert_eq!(auth.login("zhuji", common::DEMO_PASSWORD, "10.1.1.1", clock.now_ms()).await.err(), Some(AuthError::Throttled { retry_after_s: 2 }));
    drop(auth);
    let restarted = Auth::load(store.clone(), tree, cfg(), clock.clone()).await.unwrap();
    assert_eq!(restarted.login("zhuji", common::DEMO_PASSWORD, "10.1.1.1", clock.now_ms()).await.err(), Some(AuthError::Throttled { retry_after_s: 2 }), "still waiting after a restart");
    assert!(restarted.login("zhuji", common::DEMO_PASSWORD, "10.9.9.9", clock.now_ms()).await.is_ok(), "from elsewhere the account is not locked");
    clock.advance(2_000);
    assert!(restarted.login("zhuji", common::DEMO_PASSWORD, "10.1.1.1", clock.now_ms()).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_and_cookies_are_secure_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.access.session_hours = 0;
    cfg.access.secure_cookies = true;
    let srv = start(cfg).await;
    let r = login_resp(&srv.addr, "leader", common::DEMO_PASSWORD).await;
    assert_session_cookie_flags(&r, true);
    let cookie = r.cookie("cockpit_session").unwrap();
    assert_eq!(request(&srv.addr, "GET", "/api/me", &[("Cookie", &cookie)], "").await.status, 401, "expired at once");
    srv.stop().await;
}

/// A weak password is refused with what it lacks; a person who leaves is shut out by disabling their
/// account (sessions end at once, sign-in refused) and let back in by enabling it; both within the
/// administrator's reach only, never on their own account. (Apart from the grants test: one test body
/// this long overflows a debug build's stack.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_passwords_are_refused_and_accounts_are_disabled_and_enabled_within_reach() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.as_str();
    let admin = login(a, "admin").await;
    let t = csrf(a, &admin).await;
    let r = common::post_json(a, &admin, &t, "/api/admin/accounts", &account_json("zj-admin", "Admin", "330681", "Sensitive")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let zj = login_resp(a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let zt = csrf(a, &zj).await;
    let by_zj = |path: &'static str, body: String| {
        let (zj, zt) = (zj.clone(), zt.clone());
        async move { common::post_json(a, &zj, &zt, path, &body).await }
    };

    // A weak password is refused with what it lacks, and nothing is created.
    let weak = account_json("x3", "StreetOfficial", "330681109", "Sensitive").replace("Long enough pw 1", "long enough pw");
    let r = by_zj("/api/admin/accounts", weak).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("three of"), "{}", r.body);
    assert_eq!(login_resp(a, "x3", "long enough pw").await.cookie("cockpit_session"), None);
    let r = by_zj("/api/admin/accounts", account_json("x3", "StreetOfficial", "330681109", "Sensitive")).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // A person leaves: disabling the account ends their sessions at once and refuses sign-in; enabling
    // it lets them in again. Within the administrator's reach only, and never their own account.
    let x3 = login_resp(a, "x3", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let r = by_zj("/api/admin/accounts/x3/disable", String::new()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains(r#""sessions_ended":1"#), "{}", r.body);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &x3)], "").await.status, 401, "the session ended");
    assert_eq!(login_resp(a, "x3", "Long enough pw 1").await.cookie("cockpit_session"), None, "a disabled account cannot sign in");
    assert_eq!(by_zj("/api/admin/accounts/tashan/disable", String::new()).await.status, 403, "塔山街道 is outside 诸暨市");
    assert_eq!(by_zj("/api/admin/accounts/zj-admin/disable", String::new()).await.status, 400, "not one's own");
    assert_eq!(by_zj("/api/admin/accounts/x3/delete", String::new()).await.status, 404);
    assert_eq!(by_zj("/api/admin/accounts/x3/enable", String::new()).await.status, 200);
    assert!(login_resp(a, "x3", "Long enough pw 1").await.cookie("cockpit_session").is_some(), "enabled again");
    srv.stop().await;
}

/// An account as an administrator creates it (with a password the complexity rule takes).
fn account_json(user: &str, role: &str, scope: &str, clearance: &str) -> String {
    format!(r#"{{"username":"{user}","display_name":"t","role":"{role}","scope":"{scope}","clearance":"{clearance}","password":"Long enough pw 1"}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grants_stay_within_the_grantor_and_devices_survive_restarts_until_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let t = csrf(&a, &admin).await;
    let post = |cookie: String, token: String, path: &'static str, body: String| {
        let a = a.clone();
        async move {
            let h = [("Cookie", cookie.as_str()), ("Content-Type", "application/json"), ("X-CSRF-Token", token.as_str())];
            request(&a, "POST", path, &h, &body).await
        }
    };
    let account = account_json;
    // The city admin makes a district admin for 诸暨市 with sensitive clearance.
    let r = post(admin.clone(), t.clone(), "/api/admin/accounts", account("zj-admin", "Admin", "330681", "Sensitive")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let zj = login_resp(&a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let zt = csrf(&a, &zj).await;
    let r = post(zj.clone(), zt.clone(), "/api/admin/accounts", account("x1", "StreetOfficial", "330602001", "Internal")).await;
    assert_eq!(r.status, 403, "outside the grantor's scope: {}", r.body);
    let r = post(zj.clone(), zt.clone(), "/api/admin/accounts", account("x2", "StreetOfficial", "330681109", "Restricted")).await;
    assert_eq!(r.status, 403, "above the grantor's clearance: {}", r.body);
    let r = post(zj.clone(), zt.clone(), "/api/admin/accounts", account("x3", "StreetOfficial", "330681109", "Sensitive")).await;
    assert_eq!(r.status, 201, "{}", r.body);

    // An administrator signs a person out everywhere; one outside their scope they cannot touch.
    let x3 = login_resp(&a, "x3", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    assert_eq!(request(&a, "GET", "/api/me", &[("Cookie", &x3)], "").await.status, 200);
    let r = post(zj.clone(), zt.clone(), "/api/admin/sessions/revoke", r#"{"username":"tashan"}"#.into()).await;
    assert_eq!(r.status, 403, "塔山街道 is outside 诸暨市: {}", r.body);
    let r = post(zj.clone(), zt.clone(), "/api/admin/sessions/revoke", r#"{"username":"x3"}"#.into()).await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"revoked":1}"#));
    assert_eq!(request(&a, "GET", "/api/me", &[("Cookie", &x3)], "").await.status, 401, "signed out everywhere");

    // A wall display for 诸暨市.
    let r = post(zj.clone(), zt.clone(), "/api/admin/devices", r#"{"name":"指挥中心大屏","scope":"330681"}"#.into()).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let activate = v["activate"].as_str().unwrap().to_string();
    let id = v["id"].as_i64().unwrap();
    let r = request(&a, "GET", &activate, &[], "").await;
    assert_eq!(r.header("location").as_deref(), Some("/wall"));
    let device = r.cookie("cockpit_device").unwrap();
    assert!(r.headers("set-cookie").iter().any(|c| c.contains("HttpOnly")));
    assert_eq!(request(&a, "GET", "/api/live?region=330681109", &[("Cookie", &device)], "").await.status, 200);
    assert_eq!(request(&a, "GET", "/api/live?region=330602", &[("Cookie", &device)], "").await.status, 404);
    assert_eq!(request(&a, "GET", "/api/audit", &[("Cookie", &device)], "").await.status, 404, "a screen reads no audit log");

    // Its playlist: scenes of regions inside its scope, set by an administrator who reaches it, read by
    // the device itself with the server's time.
    let playlist_path = format!("/api/admin/devices/{id}/playlist");
    let set_playlist = |cookie: String, token: String, body: &'static str| {
        let (a, path) = (a.clone(), playlist_path.clone());
        async move {
            let h = [("Cookie", cookie.as_str()), ("Content-Type", "application/json"), ("X-CSRF-Token", token.as_str())];
            request(&a, "POST", &path, &h, body).await
        }
    };
    assert_eq!(request(&a, "GET", "/api/playlist", &[("Cookie", &device)], "").await.body, "null", "none set yet");
    for (body, why) in [
        (r#"{"items":[{"scene":"flow","region":"330602","dwell_secs":30}]}"#, "not a region within the device's scope"),
        (r#"{"items":[{"scene":"flow","region":"9999","dwell_secs":30}]}"#, "not a region within the device's scope"),
        (r#"{"items":[{"scene":"flow","dwell_secs":5}]}"#, "dwell_secs 5"),
        (r#"{"items":[{"scene":"radar","dwell_secs":30}]}"#, "a playlist is"),
        (r#"{"items":[{"scene":"flow","dwell_secs":30,"extra":1}]}"#, "a playlist is"),
        ("not json", "a playlist is"),
    ] {
        let r = set_playlist(zj.clone(), zt.clone(), body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.body.contains(why), "{body}: the reason: {}", r.body);
    }
    let good = r#"{"items":[{"scene":"overview","dwell_secs":60},{"scene":"flow","region":"330681109","dwell_secs":30}]}"#;
    let leader = login(&a, "leader").await;
    let lt = csrf(&a, &leader).await;
    assert!([403, 404].contains(&set_playlist(leader, lt, good).await.status), "viewing is not administering");
    assert_eq!(request(&a, "POST", &playlist_path, &[("Content-Type", "application/json")], good).await.status, 401);
    assert_eq!(request(&a, "GET", "/api/playlist", &[("Cookie", &device)], "").await.body, "null", "nothing refused was stored");
    let r = set_playlist(zj.clone(), zt.clone(), good).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let read = |cookie: String| {
        let a = a.clone();
        async move {
            let r = request(&a, "GET", "/api/playlist", &[("Cookie", &cookie)], "").await;
            assert_eq!(r.status, 200, "{}", r.body);
            serde_json::from_str::<Option<app::model::PlaylistNow>>(&r.body).unwrap()
        }
    };
    let got = read(device.clone()).await.expect("the device reads its playlist");
    assert_eq!(got.playlist, serde_json::from_str::<app::model::Playlist>(good).unwrap());
    assert!((got.now - common::now()).abs() < 5_000, "with the server's (pinned) time: {} vs {}", got.now, common::now());
    assert_eq!(read(zj.clone()).await, None, "people have no playlist");

    // The auditor sees every grant; nobody else sees the log.
    let auditor = login(&a, "auditor").await;
    let r = request(&a, "GET", "/api/audit?actor=admin", &[("Cookie", &auditor)], "").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("account zj-admin role admin clearance sensitive"), "{}", r.body);
    let r = request(&a, "GET", "/api/audit?region=330681", &[("Cookie", &auditor)], "").await;
    assert!(r.body.contains("device_issued") && r.body.contains("account x3"), "{}", r.body);
    assert!(r.body.contains("device_playlist") && r.body.contains("330681109"), "the playlist change, with its new value: {}", r.body);
    assert!(!r.body.contains("account x1"), "refused grants are not grants");
    let r = request(&a, "GET", "/api/audit?region=330600", &[("Cookie", &auditor)], "").await;
    assert!(r.body.contains("account x3"), "the city's subtree includes 诸暨市's grants");
    assert_eq!(request(&a, "GET", "/api/audit", &[("Cookie", &admin)], "").await.status, 404);
    // The same log as a page, filtered by person and date.
    let today = app::model::date_time(common::now())[..10].to_string();
    let r = request(&a, "GET", &format!("/audit?actor=zj-admin&from={today}&to={today}"), &[("Cookie", &auditor)], "").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("account x3") && !r.body.contains("account zj-admin"), "only zj-admin's acts");
    assert_eq!(request(&a, "GET", "/audit?from=2026-13-01", &[("Cookie", &auditor)], "").await.status, 400);
    assert_eq!(request(&a, "GET", "/audit", &[("Cookie", &admin)], "").await.status, 404);
    assert_eq!(request(&a, "GET", "/api/audit?bogus=1", &[("Cookie", &auditor)], "").await.status, 400);
    srv.stop().await;

    // The device token survives a server restart; revoking it ends it.
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.clone();
    assert_eq!(request(&a, "GET", "/api/live?region=330681", &[("Cookie", &device)], "").await.status, 200, "survives a restart");
    let r = request(&a, "GET", "/api/playlist", &[("Cookie", &device)], "").await;
    assert!(r.body.contains(r#""region":"330681109""#), "the playlist survives a restart: {}", r.body);
    let zj = login_resp(&a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let zt = csrf(&a, &zj).await;
    let h = [("Cookie", zj.as_str()), ("X-CSRF-Token", zt.as_str())];
    assert_eq!(request(&a, "POST", &format!("/api/admin/devices/{id}/revoke"), &h, "").await.status, 204);
    assert_eq!(request(&a, "GET", "/api/live?region=330681", &[("Cookie", &device)], "").await.status, 401, "revoked");
    srv.stop().await;

    // The audit log cannot be rewritten, even with direct database access.
    let store = server::store::SqliteStore::open(dir.path()).await.unwrap();
    let e = sqlx::query("UPDATE audit_log SET actor = 'nobody'").execute(store.pool()).await.unwrap_err();
    assert!(e.to_string().contains("append-only"), "{e}");
    assert!(sqlx::query("DELETE FROM audit_log").execute(store.pool()).await.is_err());
}

/// Every public output: no grid worker's name, no phone or ID number, no count from 1 to 4, and no
/// withheld cell that a published total and its visible siblings would give away.
/// The JSON at `json` and the bodies of `others`, read while the JSON's figures held still: the demo's
/// systems keep feeding the server, so outputs read a moment apart may count different events.
async fn held_still(addr: &str, json: &str, others: &[&str]) -> (String, Vec<String>) {
    let figures = |body: &str| {
        let mut v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{json}: {e}"));
        v.as_object_mut().map(|o| o.remove("as_of"));
        v
    };
    for _ in 0..50 {
        let before = request(addr, "GET", json, &[], "").await.body;
        let mut bodies = Vec::new();
        for path in others {
            bodies.push(request(addr, "GET", path, &[], "").await.body);
        }
        if figures(&before) == figures(&request(addr, "GET", json, &[], "").await.body) {
            return (before, bodies);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{json} never held still for as long as {} more reads", others.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_outputs_hold_no_personal_field_and_no_derivable_small_cell() {
    use app::model::{Cell, PublicReport};
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    // A thin history, so that many towns have small counts.
    cfg.demo.backfill_rate_per_minute = 0.5;
    cfg.demo.rate_per_minute = 0.1;
    let srv = start(cfg).await;
    let store = server::store::SqliteStore::open(dir.path()).await.unwrap();
    let workers: Vec<String> = sqlx::query_scalar("SELECT worker FROM regions WHERE worker IS NOT NULL AND length(worker) = 3")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let places: Vec<String> = sqlx::query_scalar("SELECT name FROM regions").fetch_all(store.pool()).await.unwrap();
    let workers: Vec<String> = workers.into_iter().filter(|w| !places.iter().any(|p| p.contains(w.as_str()))).collect();
    assert!(workers.len() > 100);

    // A resident's report with contact details, so that its public pages are scanned too.
    let grid = server::city::shaoxing::build().into_iter().find(|r| r.level == app::model::Level::Grid).unwrap().code;
    let body = common::form(&[("service_code", "livelihood"), ("address_id", &grid), ("description", "停水三天"), ("last_name", "钱多多"), ("phone", "13955550000")]);
    let posted = request(&srv.addr, "POST", "/open311/v2/requests.json", &[("Content-Type", "application/x-www-form-urlencoded")], &body).await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let number = serde_json::from_str::<serde_json::Value>(&posted.body).unwrap()[0]["service_request_id"].as_str().unwrap().to_string();
    let (mine, mine_xml, progress) = (format!("/open311/v2/requests/{number}.json"), format!("/open311/v2/requests/{number}.xml"), format!("/report/{number}"));
    let outputs = [
        "/public",
        "/api/public",
        "/public/stats.json",
        "/public/stats.csv",
        "/public/stats.geojson",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/open311/v2/services.json",
        "/report",
        "/public/record",
        "/public/record?year=2026&lang=en",
        "/public/record.json",
        "/public/record.csv",
        "/public/record.geojson",
        &mine,
        &mine_xml,
        &progress,
    ];
    let phone = |s: &str| s.as_bytes().windows(11).any(|w| w[0] == b'1' && w.iter().all(u8::is_ascii_digit) && (b'3'..=b'9').contains(&w[1]));
    for path in outputs {
        let r = request(&srv.addr, "GET", path, &[], "").await;
        assert_eq!(r.status, 200, "{path}");
        for w in &workers {
            assert!(!r.body.contains(w.as_str()), "{path} shows grid worker {w}");
        }
        assert!(!r.body.contains("钱多多") && !r.body.contains("13955550000"), "{path} shows the resident");
        // Request ids are the source systems' own case numbers, published as such: not scanned.
        let body = without_request_numbers(&r.body);
        // Region codes are 6 to 15 digits; a phone number would be 11 digits starting 13-19 outside a code.
        let stripped: String = body.split(|c: char| !c.is_ascii_digit()).filter(|d| d.len() != 6 && d.len() != 9 && d.len() != 12 && d.len() != 13).collect::<Vec<_>>().join(" ");
        let found = stripped.split(' ').find(|d| phone(d));
        assert!(found.is_none(), "{path} holds something like a phone number: {found:?}");
    }

    let (json, mut same) = held_still(&srv.addr, "/public/stats.json", &["/public/stats.csv", "/public/stats.geojson"]).await;
    let report: PublicReport = serde_json::from_str(&json).unwrap();
    let (stats_geo, stats_csv) = (same.pop().unwrap(), same.pop().unwrap());
    assert_eq!(report.rows.len(), 1 + 6 + 103);
    let mut withheld = 0;
    for col in [|r: &app::model::PublicRow| r.reported_30d, |r: &app::model::PublicRow| r.closed_30d, |r: &app::model::PublicRow| r.open] {
        for row in &report.rows {
            match col(row) {
                Cell::Count(n) => assert!(n == 0 || n >= 5, "{} shows {n}", row.code),
                Cell::Suppressed => withheld += 1,
            }
            let kids: Vec<Cell> = report.rows.iter().filter(|k| k.parent.as_deref() == Some(row.code.as_str())).map(col).collect();
            let hidden_kids = kids.iter().filter(|c| **c == Cell::Suppressed).count();
            if col(row) != Cell::Suppressed {
                assert_ne!(hidden_kids, 1, "{}: one withheld part under a published total", row.code);
            }
        }
    }
    assert!(withheld > 0, "the thin history produced small cells to withhold");

    // The record for a month and a year: every column withheld the same way, the CSV saying the same.
    for period in ["month=2026-12", "month=2026-11", "year=2026"] {
        let (json, mut same) =
            held_still(&srv.addr, &format!("/public/record.json?{period}"), &[&format!("/public/record.csv?{period}"), &format!("/public/record.geojson?{period}")]).await;
        let record: app::model::PublicRecord = serde_json::from_str(&json).unwrap();
        let (geo, csv) = (same.pop().unwrap(), same.pop().unwrap());
        assert_eq!(record.rows.len(), 1 + 6 + 103, "{period}");
        let columns: [fn(&app::model::RecordRow) -> Cell; 4] = [|r| r.reported, |r| r.closed, |r| r.due, |r| r.on_time];
        let mut hidden = 0;
        for col in columns {
            for row in &record.rows {
                match col(row) {
                    Cell::Count(n) => assert!(n == 0 || n >= 5, "{period} {} shows {n}", row.code),
                    Cell::Suppressed => hidden += 1,
                }
                let kids: Vec<Cell> = record.rows.iter().filter(|k| k.parent.as_deref() == Some(row.code.as_str())).map(col).collect();
                if col(row) != Cell::Suppressed {
                    assert_ne!(kids.iter().filter(|c| **c == Cell::Suppressed).count(), 1, "{period} {}: one withheld part under a published total", row.code);
                }
            }
        }
        assert!(hidden > 0, "{period}: small cells withheld");
        assert!(record.rows[0].reported != Cell::Count(0), "{period}: the city reported something");
        for (_, a, s) in &record.mediation {
            for c in [a, s] {
                assert!(!matches!(c, Cell::Count(1..=4)), "{period} mediation {c:?}");
            }
        }
        for row in &record.rows {
            let line = format!("{},{},", row.level.as_str(), row.code);
            let l = csv.lines().find(|l| l.starts_with(&line)).unwrap_or_else(|| panic!("CSV has {}", row.code));
            assert!(l.contains(&format!(",{},{},{},{},", row.reported.text(), row.closed.text(), row.due.text(), row.on_time.text())), "{l}");
        }
        let geo: serde_json::Value = serde_json::from_str(&geo).unwrap();
        assert_eq!(geo["features"].as_array().unwrap().len(), 6 + 103);
        for f in geo["features"].as_array().unwrap() {
            let p = &f["properties"];
            let row = record.rows.iter().find(|r| p["code"] == r.code.as_str()).unwrap();
            assert_eq!((serde_json::to_value(row.reported).unwrap(), serde_json::to_value(row.on_time).unwrap()), (p["reported"].clone(), p["on_time"].clone()));
        }
    }
    let page = request(&srv.addr, "GET", "/public/record?month=2026-12", &[], "").await;
    assert!(page.body.contains(r#"<table id="record-districts""#) && page.body.contains("<svg") && page.body.contains(r#"id="dictionary""#), "{}", page.body);
    for bad in ["month=2030-01", "month=2026-13", "year=1999", "month=soon"] {
        assert_eq!(request(&srv.addr, "GET", &format!("/public/record?{bad}"), &[], "").await.status, 400, "{bad}");
    }

    // The CSV, GeoJSON and page say the same.
    let csv = stats_csv;
    for row in &report.rows {
        let line = format!("{},{},", row.level.as_str(), row.code);
        let l = csv.lines().find(|l| l.starts_with(&line)).unwrap_or_else(|| panic!("CSV has {}", row.code));
        assert!(l.contains(&format!(",{},{},{},", row.reported_30d.text(), row.closed_30d.text(), row.open.text())), "{l}");
    }
    let geo: serde_json::Value = serde_json::from_str(&stats_geo).unwrap();
    assert_eq!(geo["features"].as_array().unwrap().len(), 6 + 103);
    for f in geo["features"].as_array().unwrap() {
        let p = &f["properties"];
        let row = report.rows.iter().find(|r| p["code"] == r.code.as_str()).unwrap();
        assert_eq!(serde_json::to_value(row.open).unwrap(), p["open"]);
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_are_scoped_masked_below_clearance_and_audited() {
    use app::model::{CaseView, Status};
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.clone();
    let get = |cookie: String, path: String| {
        let a = a.clone();
        async move { request(&a, "GET", &path, &[("Cookie", cookie.as_str())], "").await }
    };
    let list = |r: Resp| -> Vec<CaseView> { serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body)) };

    // A street official lists their town's cases only, always masked in lists.
    let tashan = login(&a, "tashan").await;
    let cases = list(get(tashan.clone(), "/api/cases".into()).await);
    assert!(!cases.is_empty());
    assert!(cases.iter().all(|c| c.grid.starts_with("330602001")), "only 塔山街道");
    assert!(cases.iter().filter_map(|c| c.person.as_ref()).all(|p| p.name.contains('*') && p.phone.contains("****")));
    assert_eq!(get(tashan.clone(), "/api/cases?region=330681".into()).await.status, 404);
    assert_eq!(get(tashan.clone(), "/api/export/cases.csv?region=330681".into()).await.status, 404);

    // In full, at sensitive clearance: unmasked, and the view is audited.
    let with_person = cases.iter().find(|c| c.person.is_some()).expect("some case has a reporter");
    let r = get(tashan.clone(), format!("/api/cases/{}/{}", with_person.feed, with_person.case_id)).await;
    assert_eq!(r.status, 200);
    let full: CaseView = serde_json::from_str(&r.body).unwrap();
    assert!(!full.masked && !full.person.as_ref().unwrap().name.contains('*'));
    assert!(!full.timeline.is_empty() && full.timeline[0].status == Status::Reported);

    // Community staff (internal clearance) see the same kind of case masked, not dropped.
    let huayuan = login(&a, "huayuan").await;
    let theirs = list(get(huayuan.clone(), "/api/cases".into()).await);
    assert!(theirs.iter().all(|c| c.grid.starts_with("330602001004")));
    if let Some(c) = theirs.iter().find(|c| c.person.is_some()) {
        let v: CaseView = serde_json::from_str(&get(huayuan.clone(), format!("/api/cases/{}/{}", c.feed, c.case_id)).await.body).unwrap();
        assert!(v.masked, "internal clearance sees masks");
        assert!(v.person.unwrap().name.contains('*'));
        assert!(v.address.unwrap().ends_with("****"));
    }
    // Another street's case is not found, whatever its id.
    let fengqiao = login(&a, "fengqiao").await;
    let r = get(fengqiao.clone(), format!("/api/cases/{}/{}", with_person.feed, with_person.case_id)).await;
    assert_eq!(r.status, 404);

    // Department staff: only cases dispatched to their department, across regions.
    let cg = login(&a, "chengguan").await;
    let dept = list(get(cg.clone(), "/api/cases".into()).await);
    assert!(!dept.is_empty());
    assert!(dept.iter().all(|c| c.department.as_deref() == Some("城管局") && c.status >= Status::Dispatched));
    assert!(dept.iter().any(|c| c.grid.starts_with("330681")) && dept.iter().any(|c| !c.grid.starts_with("330681")), "across districts");
    assert_eq!(get(cg.clone(), "/api/live".into()).await.status, 404, "no city-wide aggregates for a department");
    if let Some(other) = cases.iter().find(|c| c.department.as_deref() != Some("城管局")) {
        assert_eq!(get(cg.clone(), format!("/api/cases/{}/{}", other.feed, other.case_id)).await.status, 404);
    }

    // An export, audited with its size; a wall display and an auditor read no cases.
    let r = get(tashan.clone(), "/api/export/cases.csv".into()).await;
    assert_eq!(r.status, 200);
    assert!(r.body.lines().count() > 1);
    let auditor = login(&a, "auditor").await;
    assert_eq!(get(auditor.clone(), "/api/cases".into()).await.status, 404);
    let log = get(auditor.clone(), "/api/audit?actor=tashan".into()).await.body;
    assert!(log.contains("view_sensitive") && log.contains(&with_person.case_id), "{log}");
    assert!(log.contains(r#""action":"export""#) && log.contains("unmasked"), "{log}");
    srv.stop().await;
}

/// Accounts granted through the API, not only the demo's: a district administrator and the auditor they
/// grant. The auditor reads only what happened in their district; the administrator does not operate
/// the city's feeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_auditors_read_their_scope_only_and_scoped_admins_do_not_operate_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = &srv.addr;
    // Sign-ins in 越城区 (tashan), 诸暨市 (zhuji) and the city (leader), and a failed one in 越城区.
    for user in ["tashan", "zhuji", "leader"] {
        login(a, user).await;
    }
    login_resp(a, "tashan", "wrong password").await;
    let admin = login(a, "admin").await;
    let t = csrf(a, &admin).await;
    let account = |user: &str, role: &str, clearance: &str| {
        format!(r#"{{"username":"{user}","display_name":"t","role":"{role}","scope":"330681","clearance":"{clearance}","password":"Long enough pw 1"}}"#)
    };
    assert_eq!(common::post_json(a, &admin, &t, "/api/admin/accounts", &account("zj-admin", "Admin", "Sensitive")).await.status, 201);
    let zj = login_resp(a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let zt = csrf(a, &zj).await;
    assert_eq!(common::post_json(a, &zj, &zt, "/api/admin/accounts", &account("zj-audit", "Auditor", "Internal")).await.status, 201);
    let aud = login_resp(a, "zj-audit", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let get = |cookie: &str, path: &str| {
        let (a, cookie, path) = (a.clone(), cookie.to_string(), path.to_string());
        async move { request(&a, "GET", &path, &[("Cookie", cookie.as_str())], "").await }
    };
    let entries = |r: &Resp| -> Vec<serde_json::Value> { serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body)) };

    assert_eq!(get(&aud, "/api/audit?region=330602").await.status, 404, "越城区 is outside 诸暨市");
    for probe in ["%25", "3306%25", "_", "330681%25"] {
        assert_eq!(get(&aud, &format!("/api/audit?region={probe}")).await.status, 404, "{probe} is no region");
    }
    let r = get(&aud, "/api/audit?actor=tashan").await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"), "tashan acts in 越城区, not in 诸暨市");
    let all = entries(&get(&aud, "/api/audit").await);
    assert!(all.iter().any(|e| e["actor"] == "zhuji" && e["action"] == "login"), "their district's sign-ins: {all:?}");
    for e in &all {
        let region = e["region"].as_str().unwrap_or_else(|| panic!("an entry about no region reached a district auditor: {e}"));
        assert!(region.starts_with("330681"), "{e}");
    }
    let page = get(&aud, "/audit?actor=tashan").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<td>tashan</td>"), "the page filters alike");
    assert_eq!(get(&aud, "/audit?region=330602").await.status, 404);
    // The city's auditor reads it all, failed sign-ins included.
    let city = login(a, "auditor").await;
    let log = entries(&get(&city, "/api/audit?actor=tashan").await);
    assert!(log.iter().any(|e| e["action"] == "login") && log.iter().any(|e| e["action"] == "login_failed" && e["region"] == "330602001"), "{log:?}");

    // Feeds are the city's: a district administrator neither reads nor operates them.
    for path in ["/api/admin/feeds", "/feeds", "/metrics"] {
        let r = get(&zj, path).await;
        assert!([401, 404].contains(&r.status), "{path}: {} {}", r.status, r.body);
        assert!(!r.body.contains("alarms"), "{path} leaked the feeds");
    }
    assert_eq!(common::post_json(a, &zj, &zt, "/api/admin/feeds/alarms/pause", "").await.status, 404);
    assert_eq!(common::post_json(a, &zj, &zt, "/api/admin/feeds/reload", "").await.status, 404);
    assert_eq!(get(&admin, "/api/admin/feeds").await.status, 200, "the city's administrator does");
    srv.stop().await;
}

/// A person changes their own password: the current one proven, the new one complex and not a recent
/// one; their other sessions end, this one stays; the old password no longer signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_change_their_own_password_and_never_back_to_a_recent_one() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.as_str();
    let here = login(a, "zhuji").await;
    let elsewhere = login(a, "zhuji").await;
    let t = csrf(a, &here).await;
    let change = |current: &str, new: &str| {
        let body = serde_json::json!({ "current": current, "new": new }).to_string();
        let (here, t) = (here.clone(), t.clone());
        async move { common::post_json(a, &here, &t, "/api/me/password", &body).await }
    };
    let r = change("not the password", "Grid-Duty-2027a").await;
    assert_eq!((r.status, r.body.as_str()), (400, "the current password is wrong"));
    let r = change(common::DEMO_PASSWORD, "grid duty two").await;
    assert!(r.status == 400 && r.body.contains("three of"), "{} {}", r.status, r.body);
    let r = change(common::DEMO_PASSWORD, common::DEMO_PASSWORD).await;
    assert!(r.status == 400 && r.body.contains("last 5"), "{} {}", r.status, r.body);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &elsewhere)], "").await.status, 200, "nothing changed yet");

    assert_eq!(change(common::DEMO_PASSWORD, "Grid-Duty-2027a").await.status, 204);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &here)], "").await.status, 200, "this session stays");
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &elsewhere)], "").await.status, 401, "the others end");
    assert_eq!(login_resp(a, "zhuji", common::DEMO_PASSWORD).await.cookie("cockpit_session"), None, "the old password is gone");
    assert!(login_resp(a, "zhuji", "Grid-Duty-2027a").await.cookie("cockpit_session").is_some());
    let r = change("Grid-Duty-2027a", common::DEMO_PASSWORD).await;
    assert!(r.status == 400 && r.body.contains("last 5"), "not back to the one before: {} {}", r.status, r.body);
    // Without a session (or with a wall's device cookie) there is no password to change.
    assert_eq!(request(a, "POST", "/api/me/password", &[("Content-Type", "application/json")], "{}").await.status, 401);
    srv.stop().await;
}

/// An administrator resets a forgotten password: a temporary one, shown once; the person's sessions end;
/// signed in with it, they can do nothing but set their own (pages lead to /password, APIs say 403), and
/// the form says beside the field what is wrong. Within the administrator's reach, never their own,
/// audited; the temporary password is never in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_password_must_be_changed_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.as_str();
    let admin = login(a, "admin").await;
    let token = csrf(a, &admin).await;
    let before = login(a, "huayuan").await;
    let reset = |user: &str| {
        let (admin, token, path) = (admin.clone(), token.clone(), format!("/api/admin/accounts/{user}/reset"));
        async move { common::post_json(a, &admin, &token, &path, "").await }
    };
    let zj = login(a, "zhuji").await;
    let r = common::post_json(a, &zj, &csrf(a, &zj).await, "/api/admin/accounts/huayuan/reset", "").await;
    assert!([403, 404].contains(&r.status), "not an administrator: {} {}", r.status, r.body);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &before)], "").await.status, 200, "nothing reset");
    assert_eq!(reset("admin").await.status, 400, "not one's own");
    assert_eq!(reset("nobody").await.status, 400);
    let r = reset("huayuan").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let temporary = serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["temporary_password"].as_str().unwrap().to_string();
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &before)], "").await.status, 401, "the person's sessions end");
    assert_eq!(login_resp(a, "huayuan", common::DEMO_PASSWORD).await.cookie("cockpit_session"), None, "the old password is gone");

    let s = login_resp(a, "huayuan", &temporary).await.cookie("cockpit_session").expect("signs in with the temporary password");
    let get = |path: &'static str| {
        let s = s.clone();
        async move { request(a, "GET", path, &[("Cookie", s.as_str())], "").await }
    };
    let r = get("/desk").await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/password")), "a page leads to the form");
    assert_eq!(get("/api/cases").await.status, 403, "an API refuses");
    assert_eq!(get("/api/me").await.status, 200, "who they are, still");
    let page = get("/password").await;
    assert!(page.status == 200 && page.body.contains(r#"id="password-due""#) && page.body.contains("请先设置新密码"), "{}", page.body);
    let t = csrf(a, &s).await;
    let submit = |current: &str, new: &str, repeat: &str| {
        let body = common::form(&[("csrf", t.as_str()), ("current", current), ("new", new), ("repeat", repeat), ("lang", "en")]);
        let s = s.clone();
        async move { request(a, "POST", "/password", &[("Cookie", s.as_str()), ("Content-Type", "application/x-www-form-urlencoded")], &body).await }
    };
    for (current, new, repeat, error, shown) in [
        ("wrong", "Grid-Duty-2028b", "Grid-Duty-2028b", "current", "The current password is wrong."),
        (temporary.as_str(), "short", "short", "weak", "does not meet the rule"),
        (temporary.as_str(), "Grid-Duty-2028b", "Grid-Duty-2028c", "mismatch", "The two new passwords differ."),
        (temporary.as_str(), temporary.as_str(), temporary.as_str(), "reused", "must differ from the last 5"),
    ] {
        let r = submit(current, new, repeat).await;
        let to = r.header("location").unwrap_or_default();
        assert_eq!((r.status, to.as_str()), (303, format!("/password?lang=en&error={error}").as_str()));
        let page = request(a, "GET", &to, &[("Cookie", s.as_str())], "").await;
        let field = match error { "current" => "current", "mismatch" => "repeat", _ => "new" };
        assert!(page.body.contains(&format!(r#"id="{field}-error""#)) && page.body.contains(shown), "{error}: {}", page.body);
    }
    let bad_csrf = common::form(&[("csrf", "x"), ("current", &temporary), ("new", "Grid-Duty-2028b"), ("repeat", "Grid-Duty-2028b")]);
    assert_eq!(request(a, "POST", "/password", &[("Cookie", s.as_str()), ("Content-Type", "application/x-www-form-urlencoded")], &bad_csrf).await.status, 403);
    let r = submit(&temporary, "Grid-Duty-2028b", "Grid-Duty-2028b").await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/")));
    assert_eq!(get("/api/cases").await.status, 200, "free again");
    assert!(login_resp(a, "huayuan", "Grid-Duty-2028b").await.cookie("cockpit_session").is_some());
    assert_eq!(login_resp(a, "huayuan", &temporary).await.cookie("cockpit_session"), None, "the temporary password is gone");

    let log = request(a, "GET", "/api/audit.csv", &[("Cookie", &login(a, "auditor").await)], "").await.body;
    assert!(log.contains("password_reset") && log.contains("account huayuan"), "audited");
    assert!(!log.contains(&temporary), "the temporary password is not in the log");
    srv.stop().await;
}

/// A city may make passwords expire (`[access] password_max_days`): past it, the next sign-in leads to
/// the form; before it, nothing changes. Days on the server's clock, not the machine's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_password_must_be_changed_at_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let run = |offset_days: i64| {
        let mut cfg = common::config(dir.path());
        cfg.access.password_max_days = 90;
        cfg.demo.backfill_days = 0;
        cfg.demo.systems = false;
        async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let (stop, mut rx) = tokio::sync::watch::channel(false);
            let clock = server::clock::Clock::manual(common::PINNED_MS + offset_days * 86_400_000);
            let task = tokio::spawn(server::run_with_clock(listener, cfg, clock, async move {
                let _ = rx.changed().await;
            }));
            while request(&addr, "GET", "/healthz", &[], "").await.status != 200 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            (addr, stop, task)
        }
    };
    // The first start sets the demo accounts' passwords on its day.
    for (days, due) in [(0, false), (89, false), (90, true)] {
        let (addr, stop, task) = run(days).await;
        let s = login(&addr, "tashan").await;
        let r = request(&addr, "GET", "/desk", &[("Cookie", s.as_str())], "").await;
        assert_eq!(r.header("location").as_deref() == Some("/password"), due, "{days} days after the password was set: {} {:?}", r.status, r.header("location"));
        stop.send(true).unwrap();
        task.await.unwrap().unwrap();
    }
}

/// Auditors take the log away as CSV (等保 2.0: audit records exportable), with the filters and scope of
/// the JSON API; the export is itself in the log; nobody else gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_export_the_log_as_csv_and_the_export_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = &srv.addr;
    login(a, "tashan").await;
    login_resp(a, "tashan", "wrong password").await;
    login(a, "zhuji").await;
    let auditor = login(a, "auditor").await;
    let r = request(a, "GET", "/api/audit.csv?actor=tashan", &[("Cookie", &auditor)], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/csv")) && r.header("x-audit-truncated").as_deref() == Some("false"), "{}", r.head);
    let lines: Vec<&str> = r.body.lines().collect();
    assert_eq!(lines[0], "at,at_local,actor,action,region,detail");
    assert!(lines[1..].iter().all(|l| l.split(',').nth(2) == Some("tashan")), "{}", r.body);
    assert!(lines.iter().any(|l| l.contains(",login_failed,330602001,")) && lines.iter().any(|l| l.contains(",login,330602001,")), "{}", r.body);
    let page = request(a, "GET", "/audit?actor=tashan", &[("Cookie", &auditor)], "").await.body;
    assert!(page.contains(r#"id="audit-csv" href="/api/audit.csv?actor=tashan""#), "{page}");
    let log: Vec<serde_json::Value> = serde_json::from_str(&request(a, "GET", "/api/audit?actor=auditor", &[("Cookie", &auditor)], "").await.body).unwrap();
    assert!(log.iter().any(|e| e["action"] == "audit_export" && e["detail"].as_str().is_some_and(|d| d.starts_with(&format!("{} entries", lines.len() - 1)))), "{log:?}");
    assert_eq!(request(a, "GET", "/api/audit.csv", &[("Cookie", &login(a, "leader").await)], "").await.status, 404, "a leader is no auditor");
    assert_eq!(request(a, "GET", "/api/audit.csv", &[], "").await.status, 401);
    assert_eq!(request(a, "GET", "/api/audit.csv?region=%25", &[("Cookie", &auditor)], "").await.status, 404, "no such region");
    srv.stop().await;
}

/// Arguments a server function cannot read are the caller's error: 400 with the reason, never a 5xx,
/// for every server function, signed in or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_400_never_500_to_arguments_they_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let leader = login(&srv.addr, "leader").await;
    let bad = [
        "region=330602001004&region=330602",
        "days=-1",
        "days=abc",
        "days=4294967296",
        "days=1e3",
        "days=7&days=8",
        "region[]=x",
        "region[a]=x",
        "a=1&a=2",
        "region=%FF%FE",
        "from=2026-13-01&to=2026-12-01",
        "from=x",
        "days=%00",
    ];
    let fns: Vec<String> = leptos::server_fn::axum::server_fn_paths().filter(|(_, m)| *m == http::Method::GET).map(|(p, _)| p.to_string()).collect();
    assert!(fns.len() >= 7, "{fns:?}");
    for path in &fns {
        for q in bad {
            for cookie in [leader.as_str(), ""] {
                let h: Vec<(&str, &str)> = if cookie.is_empty() { vec![] } else { vec![("Cookie", cookie)] };
                let r = request(&srv.addr, "GET", &format!("{path}?{q}"), &h, "").await;
                assert!(r.status < 500, "{path}?{q} ({}): {} {}", if cookie.is_empty() { "anonymous" } else { "leader" }, r.status, r.body);
            }
        }
    }
    for (path, why) in [
        ("/api/wall?region=330602001004&region=330602", "Multiple values"),
        ("/api/flow?days=-1", ""),
        ("/api/flow?days=4294967296", ""),
        ("/api/coverage?days=-1", ""),
        ("/api/map?region[]=x", ""),
    ] {
        let r = request(&srv.addr, "GET", path, &[("Cookie", &leader)], "").await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(r.body.contains(why), "{path}: the reason: {}", r.body);
    }
    assert_eq!(request(&srv.addr, "GET", "/api/public?a=1&a=2", &[], "").await.status, 400, "to anyone");
    srv.stop().await;
}

/// After sign-in a person goes on only to a path of this site, and the form's CSRF pair must be real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_goes_on_only_to_this_site_and_needs_a_real_csrf_pair() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = &srv.addr;
    for next in ["/\t/evil.example/x", "/\n/evil.example", "/\r\nSet-Cookie: x=1", "//evil.example/x", "/\\evil.example", "https://evil.example/", "/ /evil.example"] {
        let r = common::login_next(a, "leader", common::DEMO_PASSWORD, next).await;
        assert_eq!(r.status, 303, "{next:?}: {}", r.head);
        assert_eq!(r.header("location").as_deref(), Some("/wall"), "{next:?}");
    }
    let r = common::login_next(a, "leader", common::DEMO_PASSWORD, "/desk?region=330602001").await;
    assert_eq!(r.header("location").as_deref(), Some("/desk?region=330602001"), "a path here is kept");
    let page = request(a, "GET", "/login?next=%2F%09%2Fevil.example%2Fx", &[], "").await;
    assert!(page.body.contains(r#"name="next" value="/wall""#), "the link's target is dropped at once");

    let form = |csrf: &str| common::form(&[("username", "leader"), ("password", common::DEMO_PASSWORD), ("csrf", csrf), ("next", "/wall")]);
    for (cookie, field) in [("cockpit_login_csrf=", ""), ("cockpit_login_csrf=abc", "abc"), ("cockpit_login_csrf=", "x")] {
        let r = request(a, "POST", "/auth/login", &[("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")], &form(field)).await;
        assert_eq!(r.status, 403, "{cookie:?} / {field:?}");
        assert!(r.cookie("cockpit_session").is_none());
    }
    // And a session's own token: an empty X-CSRF-Token never passes.
    let leader = login(a, "leader").await;
    let r = request(a, "POST", "/api/admin/sessions/revoke", &[("Cookie", &leader), ("X-CSRF-Token", ""), ("Content-Type", "application/json")], r#"{"username":"x"}"#).await;
    assert_eq!(r.status, 403);
    srv.stop().await;
}

/// A live stream ends when its subscriber's session or device does, and streams are capped per viewer
/// and in all, with sign-in and health still answering when they are full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_end_on_revocation_and_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.live.max_streams = 6;
    cfg.live.max_streams_per_viewer = 2;
    let srv = start(cfg).await;
    let a = &srv.addr;
    let admin = login(a, "admin").await;
    let t = csrf(a, &admin).await;
    let r = common::post_json(a, &admin, &t, "/api/admin/devices", r#"{"name":"大屏","scope":"330681"}"#).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let device = request(a, "GET", v["activate"].as_str().unwrap(), &[], "").await.cookie("cockpit_device").unwrap();
    let device_id = v["id"].as_i64().unwrap();
    let leader = login(a, "leader").await;
    let zhuji = login(a, "zhuji").await;
    let fengqiao = login(a, "fengqiao").await;

    let wall = common::open_live(a, "/api/live", &device).await;
    assert_eq!(wall.status, 200);
    let l1 = common::open_live(a, "/api/live", &leader).await;
    let l2 = common::open_live(a, "/api/live?region=330681", &leader).await;
    assert_eq!((l1.status, l2.status), (200, 200));
    let l3 = common::open_live(a, "/api/live", &leader).await;
    assert_eq!(l3.status, 429, "two per viewer");
    assert!(l3.head.to_ascii_lowercase().contains("retry-after:"), "{}", l3.head);
    let z1 = common::open_live(a, "/api/live", &zhuji).await;
    let z2 = common::open_live(a, "/api/live", &zhuji).await;
    let f1 = common::open_live(a, "/api/live", &fengqiao).await;
    assert_eq!((z1.status, z2.status, f1.status), (200, 200, 200));
    let tashan = login(a, "tashan").await;
    assert_eq!(common::open_live(a, "/api/live", &tashan).await.status, 429, "six in all");
    assert_eq!(request(a, "GET", "/healthz", &[], "").await.status, 200, "health answers while streams are full");
    assert!(login_resp(a, "huayuan", common::DEMO_PASSWORD).await.cookie("cockpit_session").is_some(), "so does sign-in");

    // Revoking the device ends its open stream; signing the leader out everywhere ends both of theirs.
    assert_eq!(request(a, "POST", &format!("/api/admin/devices/{device_id}/revoke"), &[("Cookie", &admin), ("X-CSRF-Token", &t)], "").await.status, 204);
    assert!(wall.ends_within(3).await, "a revoked wall's stream ends");
    assert_eq!(common::post_json(a, &admin, &t, "/api/admin/sessions/revoke", r#"{"username":"leader"}"#).await.status, 200);
    assert!(l1.ends_within(3).await && l2.ends_within(3).await, "a signed-out person's streams end");
    // Their places are free again.
    let again = common::open_live(a, "/api/live", &tashan).await;
    assert_eq!(again.status, 200);
    drop((z1, z2, f1, again));
    srv.stop().await;
}

/// A form post on /admin: the session cookie and its CSRF token as a form field.
async fn admin_form(a: &str, cookie: &str, path: &str, fields: &[(&str, &str)]) -> Resp {
    let t = csrf(a, cookie).await;
    let mut all = vec![("csrf", t.as_str())];
    all.extend_from_slice(fields);
    let h = [("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")];
    request(a, "POST", path, &h, &common::form(&all)).await
}

fn rows_of(page: &str, attr: &str) -> Vec<String> {
    page.split(&format!(r#"<tr {attr}=""#)).skip(1).map(|r| r.split('"').next().unwrap().to_string()).collect()
}

/// The administrators' page lists and finds the accounts within reach only; its forms create an
/// account and change one's role and scope, refusing what is beyond reach with the reason beside the
/// field, never without the form's CSRF token, and nobody but an administrator gets the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_lists_finds_creates_and_changes_accounts_within_reach() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.as_str();
    let admin = login(a, "admin").await;
    let page = |cookie: String, path: &'static str| async move { request(a, "GET", path, &[("Cookie", &cookie)], "").await };
    let r = page(admin.clone(), "/admin").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let all = rows_of(&r.body, "data-username");
    for u in ["admin", "auditor", "fengqiao", "leader", "tashan", "zhuji"] {
        assert!(all.contains(&u.to_string()), "{u} in {all:?}");
    }
    assert!(r.body.contains("绍兴市越城区塔山街道 (330602001)"), "scopes by name");
    assert_eq!(rows_of(&page(admin.clone(), "/admin?q=feng").await.body, "data-username"), ["fengqiao"]);
    assert_eq!(rows_of(&page(admin.clone(), "/admin?role=auditor").await.body, "data-username"), ["auditor"]);
    let in_yuecheng = rows_of(&page(admin.clone(), "/admin?region=330602").await.body, "data-username");
    assert!(in_yuecheng.contains(&"tashan".to_string()) && !in_yuecheng.contains(&"zhuji".to_string()), "{in_yuecheng:?}");
    for who in ["leader", "auditor", "tashan"] {
        let c = login(a, who).await;
        let r = page(c, "/admin").await;
        assert_eq!(r.status, 404, "{who} is no administrator");
        assert!(!r.body.contains("data-username"));
    }

    // A new account from the form; a weak password and a scope outside reach are said beside the field.
    let fields = |scope: &'static str, pw: &'static str| {
        vec![("username", "x-form"), ("display_name", "表单建号"), ("role", "street_official"), ("scope", scope), ("department", ""), ("clearance", "internal"), ("password", pw)]
    };
    let h = [("Cookie", admin.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    let r = request(a, "POST", "/admin/accounts", &h, &common::form(&fields("330681109", "Long enough pw 1"))).await;
    assert_eq!(r.status, 403, "no CSRF field, no account: {}", r.body);
    let r = admin_form(a, &admin, "/admin/accounts", &fields("330681109", "short")).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains(r#"id="password-error""#) && r.body.contains(r#"value="表单建号""#), "the error beside the field, the rest kept");
    let r = admin_form(a, &admin, "/admin/accounts", &fields("999999", "Long enough pw 1")).await;
    assert!(r.status == 400 && r.body.contains(r#"id="scope-error""#) && r.body.contains("没有这个区域代码"), "{}", r.body);
    let r = admin_form(a, &admin, "/admin/accounts", &fields("330681109", "Long enough pw 1")).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/admin?done=created")), "{}", r.body);
    assert!(page(admin.clone(), "/admin?done=created").await.body.contains(r#"id="admin-notice""#));
    let x = login_resp(a, "x-form", "Long enough pw 1").await.cookie("cockpit_session").expect("the new account signs in");

    // A district administrator sees 诸暨市 only, and cannot move a person out of it.
    let t = csrf(a, &admin).await;
    let r = common::post_json(a, &admin, &t, "/api/admin/accounts", &account_json("zj-admin", "Admin", "330681", "Sensitive")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let zj = login_resp(a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let theirs = rows_of(&page(zj.clone(), "/admin").await.body, "data-username");
    assert!(theirs.contains(&"x-form".to_string()) && theirs.contains(&"fengqiao".to_string()), "{theirs:?}");
    assert!(!theirs.contains(&"tashan".to_string()) && !theirs.contains(&"admin".to_string()), "{theirs:?}");
    assert_eq!(page(zj.clone(), "/admin?region=330602").await.status, 404, "a region outside reach is not even searched");
    assert_eq!(page(zj.clone(), "/admin/accounts/tashan").await.status, 404);
    let edit = |scope: &'static str, role: &'static str| vec![("display_name", "表单建号"), ("role", role), ("scope", scope), ("department", "综治办"), ("clearance", "internal")];
    let r = admin_form(a, &zj, "/admin/accounts/x-form", &edit("330602001", "street_official")).await;
    assert!(r.status == 400 && r.body.contains(r#"id="scope-error""#) && r.body.contains("不在您的管辖范围内"), "{}", r.body);
    let r = admin_form(a, &zj, "/admin/accounts/zj-admin", &[("display_name", "t"), ("role", "city_leader"), ("scope", "330681"), ("clearance", "sensitive")]).await;
    assert!(r.status == 400 && r.body.contains(r#"id="role-error""#), "not one's own role: {}", r.body);
    // Moved down to 枫桥镇's first community with a department: the open session carries it at once.
    let r = admin_form(a, &zj, "/admin/accounts/x-form", &edit("330681109002", "community_staff")).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/admin?done=changed")), "{}", r.body);
    let me: serde_json::Value = serde_json::from_str(&request(a, "GET", "/api/me", &[("Cookie", &x)], "").await.body).unwrap();
    assert_eq!((me["scope"].as_str(), me["role"].as_str()), (Some("330681109002"), Some("CommunityStaff")), "{me}");
    let r = admin_form(a, &zj, "/admin/accounts/x-form", &edit("330681109002", "community_staff")).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin?done=unchanged"), "the same form twice is no change");
    let audit = login(a, "auditor").await;
    let log = request(a, "GET", "/api/audit?actor=zj-admin", &[("Cookie", &audit)], "").await.body;
    assert_eq!(log.matches("account_changed").count(), 1, "{log}");
    assert!(log.contains("scope 330681109 → 330681109002") && log.contains("role street_official → community_staff"), "{log}");
    let accounts: Vec<serde_json::Value> = serde_json::from_str(&request(a, "GET", "/api/admin/accounts", &[("Cookie", &zj)], "").await.body).unwrap();
    let row = accounts.iter().find(|v| v["username"] == "x-form").unwrap();
    assert_eq!(row["department"], "综治办");
    assert!(row["last_sign_in_at"].is_i64() && row["last_sign_in_from"] == "127.0.0.1", "{row}");
    assert!(accounts.iter().all(|v| v.get("password_hash").is_none()));
    srv.stop().await;
}

/// From the page: a reset shows the temporary password once and the person must change it; a
/// disabled account's sessions end at once; one session among several is ended and the rest go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_admin_page_reset_disable_and_end_one_session() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.as_str();
    let admin = login(a, "admin").await;
    let me = |c: String| async move { request(a, "GET", "/api/me", &[("Cookie", &c)], "").await.status };

    let (first, second) = (login(a, "tashan").await, login(a, "tashan").await);
    let sessions: Vec<serde_json::Value> = serde_json::from_str(&request(a, "GET", "/api/admin/sessions", &[("Cookie", &admin)], "").await.body).unwrap();
    let tashan: Vec<&serde_json::Value> = sessions.iter().filter(|s| s["username"] == "tashan").collect();
    assert_eq!(tashan.len(), 2, "{sessions:?}");
    assert!(tashan.iter().all(|s| s["address"] == "127.0.0.1" && s["id"].as_str().unwrap().len() == 16));
    let page = request(a, "GET", "/admin", &[("Cookie", &admin)], "").await.body;
    assert_eq!(rows_of(&page, "data-session").len(), sessions.len());
    // The newest first: the second sign-in's row. Ending it leaves the first.
    let id = tashan[0]["id"].as_str().unwrap().to_string();
    let zj_t = csrf(a, &admin).await;
    let r = common::post_json(a, &admin, &zj_t, "/api/admin/accounts", &account_json("zj-admin", "Admin", "330681", "Sensitive")).await;
    assert_eq!(r.status, 201);
    let zj = login_resp(a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    let r = admin_form(a, &zj, &format!("/admin/sessions/{id}/end"), &[]).await;
    assert_eq!(r.status, 400, "塔山街道's sessions are beyond 诸暨市's administrator: {}", r.body);
    let r = admin_form(a, &admin, &format!("/admin/sessions/{id}/end"), &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let statuses = (me(first.clone()).await, me(second.clone()).await);
    assert!(statuses == (200, 401) || statuses == (401, 200), "exactly one ended: {statuses:?}");
    assert_eq!(admin_form(a, &admin, &format!("/admin/sessions/{id}/end"), &[]).await.status, 400, "ended once");

    // Reset: the temporary password is on the answer page only; the person must set a new one.
    let r = admin_form(a, &admin, "/admin/accounts/huayuan/reset", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let temp = r.body.split(r#"id="temporary-password">"#).nth(1).unwrap().split('<').next().unwrap().to_string();
    let r = common::login_next(a, "huayuan", &temp, "/desk").await;
    let c = r.cookie("cockpit_session").expect("the temporary password signs in");
    assert_eq!(request(a, "GET", "/desk", &[("Cookie", &c)], "").await.header("location").as_deref(), Some("/password"));
    assert!(!std::fs::read_to_string(dir.path().join("cockpit.log")).unwrap_or_default().contains(&temp), "never logged");

    // Disable: every session ends at once; the page shows the account disabled; enable lets it back.
    let still = if me(first.clone()).await == 200 { first } else { second };
    let r = admin_form(a, &admin, "/admin/accounts/tashan/disable", &[]).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/admin?done=disabled")));
    assert_eq!(me(still).await, 401, "the session ended at once");
    let page = request(a, "GET", "/admin?q=tashan", &[("Cookie", &admin)], "").await.body;
    assert!(page.contains("已停用") && page.contains(r#"id="enable-tashan""#), "{page}");
    let r = admin_form(a, &admin, "/admin/accounts/admin/disable", &[]).await;
    assert!(r.status == 400 && r.body.contains(r#"id="admin-error""#), "not one's own: {}", r.body);
    assert_eq!(admin_form(a, &admin, "/admin/accounts/tashan/enable", &[]).await.status, 303);
    assert!(login_resp(a, "tashan", server::auth::DEMO_PASSWORD).await.cookie("cockpit_session").is_some());
    srv.stop().await;
}

/// A wall shows a code at /device; an administrator enters it with a name, a place and a scope; the
/// wall (and only the screen that showed it) receives its device cookie once and shows its scope; the
/// page lists it with when it was last seen; revoking ends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_is_activated_by_the_code_it_shows_and_revoked_from_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.as_str();
    let admin = login(a, "admin").await;
    let screen = request(a, "GET", "/device", &[], "").await;
    assert_eq!(screen.status, 200);
    let pairing = screen.cookie("cockpit_pairing").expect("the screen keeps its pairing secret");
    let code = screen.body.split(r#"id="device-code">"#).nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(code.len(), 9, "{code}");
    let again = request(a, "GET", "/device", &[("Cookie", &pairing)], "").await;
    assert!(again.body.contains(&code), "a reload shows the same code");
    let wait = |c: String| async move { request(a, "GET", "/device/wait", &[("Cookie", &c)], "").await };
    assert!(wait(pairing.clone()).await.body.contains("waiting"));

    let issue = |code: String| {
        let admin = admin.clone();
        async move { admin_form(a, &admin, "/admin/devices", &[("name", "指挥中心大屏"), ("place", "三楼指挥大厅"), ("scope", "330602"), ("code", &code)]).await }
    };
    let r = issue("ABCD-EFGH".into()).await;
    assert!(r.status == 400 && r.body.contains(r#"id="code-error""#), "{}", r.body);
    let r = issue(code.to_lowercase().replace('-', " ")).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/admin?done=device")), "{}", r.body);
    assert!(wait("cockpit_pairing=".to_string() + &"0".repeat(64)).await.body.contains("unknown"), "another screen gets nothing");
    let ready = wait(pairing.clone()).await;
    assert!(ready.body.contains("ready"), "{}", ready.body);
    let device = ready.cookie("cockpit_device").expect("the wall gets its cookie");
    assert!(wait(pairing.clone()).await.cookie("cockpit_device").is_none(), "once");
    let r = request(a, "GET", "/api/me", &[("Cookie", &device)], "").await;
    assert!(r.body.contains(r#""scope":"330602""#), "{}", r.body);

    let devices: Vec<serde_json::Value> = serde_json::from_str(&request(a, "GET", "/api/admin/devices", &[("Cookie", &admin)], "").await.body).unwrap();
    let d = devices.iter().find(|d| d["name"] == "指挥中心大屏").unwrap();
    assert_eq!((d["place"].as_str(), d["scope"].as_str()), (Some("三楼指挥大厅"), Some("330602")));
    assert!(d["last_seen"].is_i64(), "{d}");
    let page = request(a, "GET", "/admin", &[("Cookie", &admin)], "").await.body;
    let id = d["id"].as_i64().unwrap();
    assert!(rows_of(&page, "data-device").contains(&id.to_string()));
    let r = admin_form(a, &admin, &format!("/admin/devices/{id}/revoke"), &[]).await;
    assert_eq!(r.status, 303);
    assert_eq!(request(a, "GET", "/api/me", &[("Cookie", &device)], "").await.status, 401, "revoked");
    let r = request(a, "GET", "/wall", &[("Cookie", &device)], "").await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/device")), "a revoked wall shows a new code, not a sign-in form");
    srv.stop().await;
}

/// A resident's report of litter (24 working hours) at the pinned Wednesday 10:00 plus `since`: its
/// deadline, as the official reads it.
async fn litter_deadline(a: &str, official: &str, text: &str) -> (String, i64, i64) {
    let h = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = request(a, "POST", "/open311/v2/requests.json", &h, &common::form(&[("service_code", "environment"), ("address_string", "塔山街道花园社区8幢东侧"), ("description", text)])).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let id = v[0]["service_request_id"].as_str().unwrap().to_string();
    let (reported, deadline) = case_times(a, official, &id).await;
    (id, reported, deadline)
}

async fn case_times(a: &str, official: &str, id: &str) -> (i64, i64) {
    let case: serde_json::Value = serde_json::from_str(&request(a, "GET", &format!("/api/cases/residents/{id}"), &[("Cookie", official)], "").await.body).unwrap();
    (case["reported_at"].as_i64().unwrap(), case["deadline"].as_i64().unwrap())
}

/// The city's working calendar and flow rules change at `/admin/settings` without a restart: two
/// holidays push the deadline of the next report by two working days (the ones already given stay),
/// a bad date is refused beside its field with nothing stored, each save is audited with old and new
/// values, the settings survive a restart, and only a city-wide administrator reaches the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_changes_its_calendar_and_flow_rules_and_new_deadlines_follow() {
    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    let dir = tempfile::tempdir().unwrap();
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let tashan = login(&a, "tashan").await;
    let page = request(&a, "GET", "/admin/settings", &[("Cookie", &admin)], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("当前值来自配置文件") && page.body.contains(r#"id="deadline-preview""#), "{}", page.body);
    assert!(request(&a, "GET", "/admin", &[("Cookie", &admin)], "").await.body.contains(r#"id="settings-link""#));
    for who in ["leader", "auditor", "tashan"] {
        let c = login(&a, who).await;
        assert_eq!(request(&a, "GET", "/admin/settings", &[("Cookie", &c)], "").await.status, 404, "{who}");
        assert_eq!(request(&a, "GET", "/api/admin/settings", &[("Cookie", &c)], "").await.status, 404, "{who}");
    }
    // A district's administrator keeps the city's calendar as it is.
    let t = csrf(&a, &admin).await;
    let body = r#"{"username":"zj-admin","display_name":"t","role":"Admin","scope":"330681","clearance":"Sensitive","password":"Long enough pw 1"}"#;
    assert_eq!(common::post_json(&a, &admin, &t, "/api/admin/accounts", body).await.status, 201);
    let zj = login_resp(&a, "zj-admin", "Long enough pw 1").await.cookie("cockpit_session").unwrap();
    assert_eq!(admin_form(&a, &zj, "/admin/settings/calendar", &[("hours", "08:30-12:00"), ("holidays", ""), ("extra_workdays", "")]).await.status, 404);
    assert!(!request(&a, "GET", "/admin", &[("Cookie", &zj)], "").await.body.contains(r#"id="settings-link""#));

    // Wednesday 10:00 + 24 working hours of 7.5 a day: Monday 11:30.
    let (first, reported, before) = litter_deadline(&a, &tashan, "垃圾桶满溢").await;
    let since = reported - common::PINNED_MS;
    assert!((0..HOUR).contains(&since), "{since}");
    assert_eq!(before, common::PINNED_MS + 5 * DAY + 90 * 60_000 + since, "Monday 2026-12-07 11:30");

    // A bad date: said beside the field, what was typed kept, nothing stored.
    let r = admin_form(&a, &admin, "/admin/settings/calendar", &[("hours", "08:30-12:00, 13:30-17:30"), ("holidays", "2026-12-03\n2026-13-04"), ("extra_workdays", "")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains(r#"id="holidays-error""#) && r.body.contains("2026-13-04"), "{}", r.body);
    let r = admin_form(&a, &admin, "/admin/settings/calendar", &[("hours", "13:30-17:30, 08:30-12:00"), ("holidays", ""), ("extra_workdays", "")]).await;
    assert!(r.status == 400 && r.body.contains(r#"id="hours-error""#), "periods out of order");
    let r = admin_form(&a, &admin, "/admin/settings/calendar", &[("hours", "08:30-12:00, 13:30-17:30"), ("holidays", "2026-12-05"), ("extra_workdays", "2026-12-05")]).await;
    assert!(r.status == 400 && r.body.contains(r#"id="extra_workdays-error""#), "a day both off and worked");
    let r = admin_form(&a, &admin, "/admin/settings/flow", &[("auto_escalate", "on"), ("escalate_after_hours", "eight")]).await;
    assert!(r.status == 400 && r.body.contains(r#"id="escalate_after_hours-error""#) && r.body.contains(r#"value="eight""#));
    let r = request(&a, "GET", "/api/admin/settings", &[("Cookie", &admin)], "").await;
    let s: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!((s["calendar"]["holidays"].as_array().unwrap().len(), s["calendar_saved"].is_null()), (0, true), "{s}");

    // Thursday and Friday off: the next report is due two working days later; the first stays.
    let r = admin_form(&a, &admin, "/admin/settings/calendar", &[("hours", "08:30-12:00, 13:30-17:30"), ("holidays", "2026-12-04\n2026-12-03"), ("extra_workdays", "")]).await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/admin/settings?done=saved")));
    let (_, reported2, after) = litter_deadline(&a, &tashan, "垃圾桶又满了").await;
    assert_eq!(after, common::PINNED_MS + 7 * DAY + 90 * 60_000 + (reported2 - common::PINNED_MS), "Wednesday 2026-12-09 11:30");
    assert_eq!(case_times(&a, &tashan, &first).await.1, before, "a deadline already given stays as promised");
    let page = request(&a, "GET", "/admin/settings", &[("Cookie", &admin)], "").await.body;
    assert!(page.contains("2026-12-03\n2026-12-04") && page.contains("最近修改") && page.contains("admin"), "sorted, and who saved it");
    // Saving the same again changes nothing and audits nothing.
    let r = admin_form(&a, &admin, "/admin/settings/calendar", &[("hours", "08:30-12:00,13:30-17:30"), ("holidays", "2026-12-03, 2026-12-04"), ("extra_workdays", "")]).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin/settings?done=unchanged"));
    let r = admin_form(&a, &admin, "/admin/settings/flow", &[("escalate_after_hours", "4")]).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin/settings?done=saved"));

    let auditor = login(&a, "auditor").await;
    let log = request(&a, "GET", "/api/audit", &[("Cookie", &auditor)], "").await.body;
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    let changes: Vec<&str> = log.iter().filter(|e| e["action"] == "settings_changed").map(|e| e["detail"].as_str().unwrap()).collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes.iter().any(|d| d.contains("holidays: +[2026-12-03,2026-12-04] -[]")), "{changes:?}");
    assert!(changes.iter().any(|d| d.contains("auto_escalate: true → false") && d.contains("escalate_after_hours: 8 → 4")), "{changes:?}");
    srv.stop().await;

    // After a restart the saved values are still in force.
    let srv = start(common::config(dir.path())).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let s: serde_json::Value = serde_json::from_str(&request(&a, "GET", "/api/admin/settings", &[("Cookie", &admin)], "").await.body).unwrap();
    assert_eq!(s["calendar"]["holidays"], serde_json::json!(["2026-12-03", "2026-12-04"]));
    assert_eq!((s["flow"]["auto_escalate"].as_bool(), s["flow"]["escalate_after_hours"].as_u64()), (Some(false), Some(4)));
    let tashan = login(&a, "tashan").await;
    let (_, reported3, kept) = litter_deadline(&a, &tashan, "楼下垃圾无人清运").await;
    assert_eq!(kept - reported3, after - reported2, "still counted on the saved calendar");
    srv.stop().await;
}

/// A server on a manual clock (moved by the test), with `edit` applied to the test config.
async fn on_manual_clock(dir: &std::path::Path, edit: impl FnOnce(&mut server::config::Config)) -> (common::Server, server::clock::Clock) {
    let mut cfg = common::config(dir);
    cfg.demo.backfill_days = 0;
    cfg.demo.systems = false;
    edit(&mut cfg);
    let clock = server::clock::Clock::manual(common::PINNED_MS);
    (common::start_with_clock(cfg, clock.clone()).await, clock)
}

/// The `data-secret` an enrolment page shows (the key under its QR code).
fn shown_secret(page: &str) -> String {
    page.split("data-secret=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_else(|| panic!("no key on the page: {page}")).to_string()
}

/// Sends the code step of a sign-in with the waiting session `pending`.
async fn give_code(a: &str, pending: &str, code: &str) -> Resp {
    let page = request(a, "GET", "/login/code?next=/admin", &[("Cookie", pending)], "").await;
    let csrf = page.body.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or("").to_string();
    let body = form(&[("csrf", csrf.as_str()), ("code", code), ("next", "/admin")]);
    request(a, "POST", "/auth/code", &[("Cookie", pending), ("Content-Type", "application/x-www-form-urlencoded")], &body).await
}

/// Audit actions and details of `actor`, newest first, read from the server's store beside it (the
/// auditor would need a second factor of their own here).
async fn audit_actions(dir: &std::path::Path, actor: &str) -> Vec<(String, String)> {
    use server::store::AccessStore;
    let store = server::store::SqliteStore::open(dir).await.unwrap();
    let f = server::store::access::AuditFilter { actor: Some(actor.into()), region: None, from: None, to: None };
    store.audit(&f, 1000).await.unwrap().into_iter().map(|e| (e.action, e.detail)).collect()
}

/// 等保 2.0 level 3: administrators sign in with two factors. The first sign-in leads to enrolment (QR
/// code and key, a confirming code, recovery codes shown once); after that a password alone opens only
/// the code step; a code is good once (a replay is refused and audited), a wrong one is refused and
/// counted, a recovery code works once, and the code step times out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factor_enrolment_then_sign_in_with_codes_once_each() {
    use server::auth::second_factor::code_at;
    let dir = tempfile::tempdir().unwrap();
    let (srv, clock) = on_manual_clock(dir.path(), |c| {
        c.access.two_factor = server::config::TwoFactor::Administrators;
        c.access.idle_minutes = 0;
    })
    .await;
    let a = srv.addr.clone();

    // Password only: nothing but enrolment until a second factor is set up.
    let admin = login(&a, "admin").await;
    let r = request(&a, "GET", "/admin", &[("Cookie", admin.as_str())], "").await;
    assert_eq!((r.status, r.header("location").as_deref()), (303, Some("/account/second-factor")), "{}", r.body);
    let token = csrf(&a, &admin).await;
    let r = post_json(&a, &admin, &token, "/api/admin/accounts", &account_json("x1", "street_official", "330602001", "internal")).await;
    assert_eq!(r.status, 403, "no admin API before enrolment: {}", r.body);
    // A street official is not asked (the city's rule: administrators and auditors).
    let street = login(&a, "tashan").await;
    assert_eq!(request(&a, "GET", "/desk", &[("Cookie", street.as_str())], "").await.status, 200);

    let page = request(&a, "GET", "/account/second-factor", &[("Cookie", admin.as_str())], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg") && page.body.contains("id=\"second-factor-due\""), "QR code and the reason: {}", page.body);
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    let secret = shown_secret(&page.body);
    let again = request(&a, "GET", "/account/second-factor", &[("Cookie", admin.as_str())], "").await;
    assert_eq!(shown_secret(&again.body), secret, "a reload shows the same key the app may have read");
    let now = clock.now_ms();
    let right = code_at(&secret, now).unwrap();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let enrol = |code: String| {
        let (a, admin, token) = (a.clone(), admin.clone(), token.clone());
        async move {
            let body = form(&[("csrf", &token), ("code", &code)]);
            request(&a, "POST", "/account/second-factor", &[("Cookie", admin.as_str()), ("Content-Type", "application/x-www-form-urlencoded")], &body).await
        }
    };
    let r = enrol(wrong.to_string()).await;
    assert_eq!(r.header("location").as_deref(), Some("/account/second-factor?error=wrong"));
    let r = enrol(right.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes: Vec<String> = r.body.split("<li><code>").skip(1).map(|c| c.split('<').next().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10, "ten recovery codes shown once: {}", r.body);
    assert_eq!(request(&a, "GET", "/admin", &[("Cookie", admin.as_str())], "").await.status, 200, "enrolled: the admin page opens");

    // Next sign-in: the password opens only the code step.
    let r = login_next(&a, "admin", common::DEMO_PASSWORD, "/admin").await;
    assert_eq!(r.header("location").as_deref(), Some("/login/code?next=/admin"));
    let pending = r.cookie("cockpit_session").unwrap();
    assert_eq!(request(&a, "GET", "/admin", &[("Cookie", pending.as_str())], "").await.header("location").as_deref(), Some("/login?next=/admin"), "a password alone opens nothing");
    assert_eq!(request(&a, "GET", "/api/me", &[("Cookie", pending.as_str())], "").await.status, 401);
    // The enrolment's code, in the same 30 seconds: a replay.
    let r = give_code(&a, &pending, &right).await;
    assert_eq!(r.header("location").as_deref(), Some("/login/code?error=reused&next=/admin"));
    let r = give_code(&a, &pending, wrong).await;
    assert_eq!(r.header("location").as_deref(), Some("/login/code?error=wrong&next=/admin"));
    clock.advance(30_000);
    let next_code = code_at(&secret, clock.now_ms()).unwrap();
    let r = give_code(&a, &pending, &next_code).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin"), "{}", r.head);
    let whole = r.cookie("cockpit_session").unwrap();
    assert_ne!(whole, pending, "a new session, not the one the password opened");
    assert_eq!(request(&a, "GET", "/admin", &[("Cookie", whole.as_str())], "").await.status, 200);
    assert_eq!(request(&a, "GET", "/login/code", &[("Cookie", pending.as_str())], "").await.header("location").as_deref(), Some("/login?error=code_expired"), "the waiting session ended");

    // The same code on another sign-in (another instance could be asked): refused.
    let r = login_next(&a, "admin", common::DEMO_PASSWORD, "/admin").await;
    let pending = r.cookie("cockpit_session").unwrap();
    assert_eq!(give_code(&a, &pending, &next_code).await.header("location").as_deref(), Some("/login/code?error=reused&next=/admin"));
    // A recovery code, typed loosely, works once.
    let r = give_code(&a, &pending, &codes[0].to_lowercase().replace('-', " ")).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin"));
    let r = login_next(&a, "admin", common::DEMO_PASSWORD, "/admin").await;
    let pending = r.cookie("cockpit_session").unwrap();
    assert_eq!(give_code(&a, &pending, &codes[0]).await.header("location").as_deref(), Some("/login/code?error=wrong&next=/admin"), "a used recovery code");
    // The code step waits five minutes.
    clock.advance(5 * 60_000 + 1_000);
    let late = code_at(&secret, clock.now_ms()).unwrap();
    assert_eq!(give_code(&a, &pending, &late).await.header("location").as_deref(), Some("/login?error=code_expired&next=/admin"));

    let log = audit_actions(dir.path(), "admin").await;
    let has = |action: &str, detail: &str| log.iter().any(|(a, d)| a == action && d.contains(detail));
    assert!(has("second_factor_enrolled", "10 recovery codes"), "{log:?}");
    assert!(has("second_factor_failed", "replay"), "{log:?}");
    assert!(has("second_factor_failed", "a wrong code"), "{log:?}");
    assert!(has("login", "second factor: authenticator code"), "{log:?}");
    assert!(has("login", "second factor: recovery code (9 left)"), "{log:?}");
    assert!(has("login_password_ok", "second factor due"), "{log:?}");
    srv.stop().await;
}

/// A lost phone: another administrator removes the second factor; the person's sessions end and they
/// enrol again at the next sign-in. Nobody removes their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_factor_removed_by_an_administrator_is_enrolled_again() {
    use server::auth::second_factor::code_at;
    let dir = tempfile::tempdir().unwrap();
    let (srv, clock) = on_manual_clock(dir.path(), |c| c.access.two_factor = server::config::TwoFactor::Everyone).await;
    let a = srv.addr.clone();
    let enrol = |user: &'static str| {
        let (a, clock) = (a.clone(), clock.clone());
        async move {
            let s = login(&a, user).await;
            assert_eq!(request(&a, "GET", "/desk", &[("Cookie", s.as_str())], "").await.header("location").as_deref(), Some("/account/second-factor"), "everyone enrols: {user}");
            let secret = shown_secret(&request(&a, "GET", "/account/second-factor", &[("Cookie", s.as_str())], "").await.body);
            let body = form(&[("csrf", &csrf(&a, &s).await), ("code", &code_at(&secret, clock.now_ms()).unwrap())]);
            let r = request(&a, "POST", "/account/second-factor", &[("Cookie", s.as_str()), ("Content-Type", "application/x-www-form-urlencoded")], &body).await;
            assert_eq!(r.status, 200, "{}", r.body);
            s
        }
    };
    let admin = enrol("admin").await;
    let official = enrol("tashan").await;
    assert_eq!(request(&a, "GET", "/desk", &[("Cookie", official.as_str())], "").await.status, 200);
    let page = request(&a, "GET", "/admin/accounts/tashan", &[("Cookie", admin.as_str())], "").await;
    assert!(page.body.contains("id=\"remove-second-factor\""), "{}", page.body);
    let r = admin_form(&a, &admin, "/admin/accounts/admin/second-factor", &[]).await;
    assert_eq!(r.status, 400, "not one's own: {}", r.body);
    let r = admin_form(&a, &admin, "/admin/accounts/tashan/second-factor", &[]).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin?done=second_factor"), "{}", r.body);
    assert_eq!(request(&a, "GET", "/api/me", &[("Cookie", official.as_str())], "").await.status, 401, "the person's sessions ended");
    let again = login(&a, "tashan").await;
    assert_eq!(request(&a, "GET", "/desk", &[("Cookie", again.as_str())], "").await.header("location").as_deref(), Some("/account/second-factor"), "enrols again");
    srv.stop().await;
}

/// 等保 2.0: a session ends after a time without the person's input (the page's own background reads
/// do not count), and after its absolute lifetime whatever the input. Audited; the page says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_when_idle_and_at_their_absolute_lifetime() {
    let dir = tempfile::tempdir().unwrap();
    let (srv, clock) = on_manual_clock(dir.path(), |c| {
        c.access.idle_minutes = 30;
        c.access.session_hours = 2;
    })
    .await;
    let a = srv.addr.clone();
    let min = 60_000;
    let idle = login(&a, "tashan").await;
    let busy = login(&a, "huayuan").await;
    let busy_token = csrf(&a, &busy).await;
    for _ in 0..2 {
        clock.advance(14 * min);
        // Background reads of an open tablet: not input.
        assert_eq!(request(&a, "GET", "/api/cases?region=330602001", &[("Cookie", idle.as_str())], "").await.status, 200);
        // A tap the page reports.
        assert_eq!(post_json(&a, &busy, &busy_token, "/api/activity", "").await.status, 204);
    }
    clock.advance(2 * min + 1);
    let r = request(&a, "GET", "/api/cases?region=330602001", &[("Cookie", idle.as_str())], "").await;
    assert_eq!(r.status, 401, "30 minutes without input: {}", r.body);
    assert!(r.body.contains("without input"), "{}", r.body);
    let r = request(&a, "GET", "/desk", &[("Cookie", idle.as_str())], "").await;
    assert_eq!(r.header("location").as_deref(), Some("/login?next=/desk"), "ended for good: a plain sign-in now");
    // A page opened is input too (at 30, 59, 88 and 117 minutes: never 30 minutes apart).
    assert_eq!(request(&a, "GET", "/desk", &[("Cookie", busy.as_str())], "").await.status, 200, "input 2 minutes ago");
    for _ in 0..3 {
        clock.advance(29 * min);
        let r = request(&a, "GET", "/desk", &[("Cookie", busy.as_str())], "").await;
        assert_eq!(r.status, 200, "{}", r.head);
    }
    // Two hours after sign-in the session ends, input or not.
    clock.advance(4 * min);
    assert_eq!(post_json(&a, &busy, &busy_token, "/api/activity", "").await.status, 401);
    // Idle on a page: sent to sign in with the reason.
    let s = login(&a, "zhuji").await;
    clock.advance(31 * min);
    let r = request(&a, "GET", "/desk", &[("Cookie", s.as_str())], "").await;
    assert_eq!(r.header("location").as_deref(), Some("/login?error=idle&next=/desk"));
    let page = request(&a, "GET", "/login?error=idle", &[], "").await;
    // Every answer carries the security headers (no framing, nothing loaded from elsewhere).
    assert!(page.header("content-security-policy").is_some_and(|c| c.contains("frame-ancestors 'none'") && c.contains("connect-src 'self'")), "{}", page.head);
    assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert!(page.body.contains("因长时间未操作"), "{}", page.body);
    let log = audit_actions(dir.path(), "tashan").await;
    assert!(log.iter().any(|(a, d)| a == "session_idle_ended" && d.contains("30 minutes")), "{log:?}");
    srv.stop().await;
}

/// Open311 app keys from the admin page: issued with a name (shown once, only its digest stored),
/// listed, a nameless one refused beside the field with nothing stored, revoked; other roles cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_keys_are_issued_listed_and_revoked_on_the_admin_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = common::config(dir.path());
    cfg.demo.backfill_days = 0;
    cfg.demo.systems = false;
    let srv = start(cfg).await;
    let a = srv.addr.clone();
    let admin = login(&a, "admin").await;
    let page = request(&a, "GET", "/admin", &[("Cookie", admin.as_str())], "").await;
    assert!(page.body.contains("id=\"issue-api-key\""), "{}", page.body);
    let r = admin_form(&a, &admin, "/admin/api-keys", &[("name", "  ")]).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"api_key_name-error\""), "{}", r.body);
    let r = admin_form(&a, &admin, "/admin/api-keys", &[("name", "越城区随手拍")]).await;
    assert_eq!((r.status, r.header("cache-control").as_deref()), (200, Some("no-store")), "{}", r.body);
    let key = r.body.split("id=\"api-key\">").nth(1).and_then(|x| x.split('<').next()).unwrap().to_string();
    assert_eq!(key.len(), 64, "{key}");
    let listed = request(&a, "GET", "/api/admin/api-keys", &[("Cookie", admin.as_str())], "").await;
    assert!(listed.body.contains("越城区随手拍") && !listed.body.contains(&key), "listed without the key: {}", listed.body);
    let page = request(&a, "GET", "/admin", &[("Cookie", admin.as_str())], "").await;
    let id = page.body.split("data-api-key=\"").nth(1).and_then(|x| x.split('"').next()).unwrap().to_string();
    assert_eq!(page.body.matches("data-api-key=").count(), 1, "the nameless one was not stored");
    let r = admin_form(&a, &admin, &format!("/admin/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(r.header("location").as_deref(), Some("/admin?done=key_revoked"));
    let page = request(&a, "GET", "/admin", &[("Cookie", admin.as_str())], "").await;
    assert!(!page.body.contains(&format!("id=\"revoke-key-{id}\"")), "revoked: no button any more");
    // A district official has no admin page; the form is refused for them.
    let other = login(&a, "zhuji").await;
    let r = admin_form(&a, &other, "/admin/api-keys", &[("name", "x")]).await;
    assert!([403, 404].contains(&r.status), "{}", r.status);
    srv.stop().await;
}
