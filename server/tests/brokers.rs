//! The mqtt and nats feed kinds against real brokers (Mosquitto and nats-server from Debian, started
//! on free ports with their own data directories): the happy path, malformed records, duplicates and
//! late versions, the broker going away and coming back, and the cockpit restarting mid-stream.
#[path = "common/peers.rs"]
mod peers;
#[path = "common/time.rs"]
mod time;

use peers::Broker;
use server::city::RegionTree;
use server::feeds::locate::Locator;
use server::feeds::mapping::Mapping;
use server::feeds::registry::FeedCtx;
use server::feeds::{mqtt, nats};
use server::ingest::Ingest;
use server::store::feeds::FeedRow;
use server::store::{SqliteStore, Store};
use engine::Engine;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const FEED: &str = "sensors";
const WAIT: Duration = Duration::from_secs(20);

struct Env {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    ctx: FeedCtx,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    store.save_regions(&server::city::shaoxing::build()).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let (tx, _rx) = watch::channel(0u64);
    let ingest = Ingest::new(store.clone(), tree.clone(), Arc::new(std::sync::RwLock::new(Engine::new(tree.clone()))), tx, time::clock());
    let locator = Arc::new(Locator::new(tree.clone()));
    let mapping: Mapping = toml::from_str(
        r#"
        record = "observation"
        id = "channel"
        version = "seq"
        time = "ts"
        time_format = "unix_ms"
        indicator = "video_online"
        value = "state"
        value_map = { ON = 1, OFF = 0 }
        region = "area"
        "#,
    )
    .unwrap();
    let ctx = FeedCtx { name: FEED.into(), ingest, mapper: Arc::new(mapping.compile(locator).unwrap()), health: Default::default() };
    Env { _dir: dir, store, ctx }
}

fn rec(channel: &str, seq: i64, state: &str) -> Vec<u8> {
    serde_json::json!({ "channel": channel, "seq": seq, "ts": 1_700_000_000_000i64 + seq * 1000, "state": state, "area": "330602" }).to_string().into_bytes()
}

/// `n` records C{from}..C{from+n} at version 1.
fn recs(from: usize, n: usize) -> Vec<Vec<u8>> {
    (from..from + n).map(|i| rec(&format!("C{i}"), 1, if i % 2 == 0 { "ON" } else { "OFF" })).collect()
}

async fn row(store: &Arc<dyn Store>) -> FeedRow {
    store.feed_rows().await.unwrap().into_iter().find(|r| r.feed == FEED).unwrap_or_default()
}

/// Polls until `done` holds for the feed's row (up to 20 s); the counts must always add up.
async fn wait_for(e: &Env, what: &str, done: impl Fn(&FeedRow) -> bool) -> FeedRow {
    let deadline = Instant::now() + WAIT;
    loop {
        let r = row(&e.store).await;
        assert_eq!(r.received, r.stored + r.duplicate + r.quarantined, "counts must add up: {r:?}");
        if done(&r) {
            return r;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}: {r:?}; feed health {:?}", e.ctx.health.get());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Each stored (external id, version) appears exactly once; returns how many there are.
async fn stored_once(store: &Arc<dyn Store>) -> usize {
    let obs = store.observations_after(-1).await.unwrap();
    let mut seen: HashMap<(String, i64), usize> = HashMap::new();
    for (_, feed, (id, version, _)) in &obs {
        assert_eq!(feed, FEED);
        *seen.entry((id.clone(), *version)).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "stored more than once: {twice:?}");
    seen.len()
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("the feed stops when told").unwrap();
    }
}

/// Starts a feed that the broker should refuse, and returns the error it records.
async fn refused(e: &Env, start: impl FnOnce(&FeedCtx) -> Running) -> String {
    let errors = e.ctx.health.get().errors;
    let feed = start(&e.ctx);
    let deadline = Instant::now() + WAIT;
    while e.ctx.health.get().errors == errors {
        assert!(Instant::now() < deadline, "the refusal was not noticed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    feed.stop().await;
    e.ctx.health.get().last_error.unwrap().1
}

fn start_mqtt(cfg: &mqtt::Config, ctx: &FeedCtx) -> Running {
    let (stop, rx) = watch::channel(false);
    Running { stop, task: tokio::spawn(mqtt::run(cfg.clone(), ctx.clone(), rx)) }
}

fn start_nats(cfg: &nats::Config, ctx: &FeedCtx) -> Running {
    let (stop, rx) = watch::channel(false);
    Running { stop, task: tokio::spawn(nats::run(cfg.clone(), ctx.clone(), rx)) }
}

// ---------------------------------------------------------------------------------------------- MQTT

const TOPIC: &str = "city/video/state";

fn mqtt_config(b: &Broker) -> mqtt::Config {
    toml::from_str::<mqtt::Config>(&format!("broker = \"{}\"\nclient_id = \"cockpit-sensors\"\ntopics = [\"city/video/#\"]", b.addr())).unwrap().check().unwrap()
}

/// Opens the feed's persistent session once (subscribed, then disconnected), as a first run of the
/// cockpit does: from then on the broker keeps what is published for it.
async fn mqtt_session(b: &Broker) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let mut o = MqttOptions::new("cockpit-sensors", "127.0.0.1", b.port);
    o.set_clean_session(false);
    let (c, mut el) = AsyncClient::new(o, 10);
    c.subscribe("city/video/#", QoS::AtLeastOnce).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Packet::SubAck(_)) = el.poll().await.unwrap() {
                break;
            }
        }
    })
    .await
    .unwrap();
    c.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(2), async { while el.poll().await.is_ok() {} }).await;
}

/// Resumes the feed's session (the feed stopped) and checks the broker has nothing to deliver again:
/// it resends unacked messages right after CONNACK, so a short look suffices.
async fn mqtt_nothing_unacked(b: &Broker) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet};
    let mut o = MqttOptions::new("cockpit-sensors", "127.0.0.1", b.port);
    o.set_clean_session(false).set_manual_acks(true);
    let (c, mut el) = AsyncClient::new(o, 10);
    let mut again = 0;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            if let Event::Incoming(Packet::Publish(_)) = el.poll().await.unwrap() {
                again += 1;
            }
        }
    })
    .await;
    assert_eq!(again, 0, "the broker delivered {again} messages again: they were never acked");
    c.disconnect().await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(2), async { while el.poll().await.is_ok() {} }).await;
}

async fn mqtt_publish(b: &Broker, payloads: Vec<Vec<u8>>) {
    server::sim::mqtt::publish(&b.addr(), TOPIC, payloads).await.unwrap();
}

/// A broker with accounts: the feed signs in with its username and a password from the environment
/// (`password_env`); a wrong password is an error that never shows the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_signs_in_with_a_password_from_the_environment() {
    let b = Broker::mosquitto_with_user("cockpit", "mq-pw-from-env");
    assert!(server::sim::mqtt::publish(&b.addr(), TOPIC, recs(0, 1)).await.is_err(), "the broker wants a user");
    std::env::set_var("COCKPIT_TEST_MQTT_PASSWORD", "mq-pw-from-env");
    let entry: toml::Table = toml::from_str(&format!(
        "name = \"sensors\"\ntype = \"mqtt\"\nbroker = \"{}\"\nclient_id = \"cockpit-sensors\"\ntopics = [\"city/video/#\"]\n\
         username = \"cockpit\"\npassword_env = \"COCKPIT_TEST_MQTT_PASSWORD\"\n\
         [mapping]\nrecord = \"observation\"\nid = \"channel\"\ntime = \"ts\"\nindicator = \"video_online\"\nregion = \"area\"\n",
        b.addr()
    ))
    .unwrap();
    let spec = server::feeds::registry::FeedSpec::parse(0, &entry).unwrap();
    let server::feeds::kinds::KindConfig::Mqtt(cfg) = spec.kind else { panic!("{:?}", spec.kind) };
    assert_eq!(cfg.password.as_deref(), Some("mq-pw-from-env"));

    let e = env().await;
    let feed = start_mqtt(&cfg, &e.ctx);
    // The feed subscribes once connected; until its first record is stored, publish again (the
    // repeats are duplicates).
    let deadline = Instant::now() + WAIT;
    while row(&e.store).await.stored < 5 {
        assert!(Instant::now() < deadline, "nothing stored: {:?}", e.ctx.health.get().last_error);
        server::sim::mqtt::publish_as(&b.addr(), Some(("cockpit", "mq-pw-from-env")), TOPIC, recs(0, 5)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = row(&e.store).await;
    assert_eq!((r.stored, r.received - r.duplicate), (5, 5), "{r:?}");
    feed.stop().await;

    let wrong = mqtt::Config { password: Some("wrong-pw".into()), ..cfg };
    let why = refused(&e, |ctx| start_mqtt(&wrong, ctx)).await;
    assert!(why.contains("NotAuthorized") && !why.contains("wrong-pw") && !why.contains("mq-pw"), "{why}");
}

/// The mix every kind must sort out: good records, one not JSON, one its mapping refuses, the same
/// message twice, and an older version after a newer one.
fn mixed() -> Vec<Vec<u8>> {
    let mut m = recs(1, 20);
    m.push(b"not json {".to_vec());
    m.push(rec("C99", 1, "BROKEN"));
    m.push(rec("C1", 1, "OFF")); // C1 version 1 again
    m.push(rec("C2", 3, "OFF"));
    m.push(rec("C2", 2, "ON")); // older than the stored version 3
    m
}

async fn check_mixed(e: &Env) {
    let r = wait_for(&e, "25 received", |r| r.received >= 25).await;
    assert_eq!((r.received, r.stored, r.duplicate, r.quarantined), (25, 21, 2, 2), "{r:?}");
    let q = e.store.quarantine(Some(FEED), 100).await.unwrap();
    assert_eq!(q.len(), 2);
    assert!(q.iter().any(|q| q.reason.contains("not JSON") && q.payload == "not json {"), "{q:?}");
    assert!(q.iter().any(|q| q.reason.contains("\"BROKEN\"") && q.external_id.as_deref() == Some("C99")), "{q:?}");
    assert_eq!(stored_once(&e.store).await, 21);
    let obs = e.store.observations_after(-1).await.unwrap();
    let c2: Vec<i64> = obs.iter().filter(|(_, _, (id, _, _))| id == "C2").map(|(_, _, (_, v, _))| *v).collect();
    assert_eq!(c2, vec![1, 3], "the late version 2 is not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_sorts_good_malformed_duplicate_and_late_records() {
    let b = Broker::mosquitto();
    let e = env().await;
    mqtt_session(&b).await;
    let feed = start_mqtt(&mqtt_config(&b), &e.ctx);
    mqtt_publish(&b, mixed()).await;
    check_mixed(&e).await;
    // Acked only after storing: nothing comes again on a new connection.
    feed.stop().await;
    mqtt_nothing_unacked(&b).await;
    let feed = start_mqtt(&mqtt_config(&b), &e.ctx);
    mqtt_publish(&b, recs(100, 1)).await;
    let r = wait_for(&e, "one more", |r| r.received >= 26).await;
    assert_eq!((r.received, r.stored), (26, 22), "nothing redelivered: {r:?}");
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_survives_the_broker_going_away() {
    let mut b = Broker::mosquitto();
    let e = env().await;
    mqtt_session(&b).await;
    let feed = start_mqtt(&mqtt_config(&b), &e.ctx);
    mqtt_publish(&b, recs(0, 10)).await;
    wait_for(&e, "10 stored", |r| r.stored >= 10).await;
    let errors = e.ctx.health.get().errors;
    b.down();
    // The feed notices and retries with backoff while the broker is away.
    let deadline = Instant::now() + WAIT;
    while e.ctx.health.get().errors < errors + 2 {
        assert!(Instant::now() < deadline, "the feed did not notice the broker going away");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.up();
    mqtt_publish(&b, recs(10, 10)).await;
    let r = wait_for(&e, "20 stored", |r| r.stored >= 20).await;
    assert_eq!((r.stored, r.quarantined), (20, 0), "{r:?}");
    assert_eq!(stored_once(&e.store).await, 20);
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_resumes_after_a_cockpit_restart_mid_stream() {
    let b = Broker::mosquitto();
    let e = env().await;
    mqtt_session(&b).await;
    let cfg = mqtt_config(&b);
    let feed = start_mqtt(&cfg, &e.ctx);
    let addr = b.addr();
    // A steady stream in chunks; the feed stops part-way through it.
    let first = tokio::spawn(async move {
        for i in 0..40 {
            server::sim::mqtt::publish(&addr, TOPIC, recs(i * 50, 50)).await?;
        }
        Ok::<(), String>(())
    });
    wait_for(&e, "some received", |r| r.received >= 200).await;
    feed.stop().await;
    let at_stop = row(&e.store).await;
    // The publisher may have finished (it is faster): what matters is that the stream still holds
    // messages the feed has not taken.
    assert!(at_stop.received < 2000, "the feed stopped mid-stream: {at_stop:?}");
    eprintln!("at stop: {at_stop:?}");
    first.await.unwrap().unwrap();
    // Published while the cockpit is down: the broker keeps them for the session.
    mqtt_publish(&b, recs(2000, 500)).await;
    assert_eq!(row(&e.store).await.received, at_stop.received, "nothing taken while stopped");
    let started = Instant::now();
    let feed = start_mqtt(&cfg, &e.ctx);
    let r = wait_for(&e, "2500 stored", |r| r.stored >= 2500).await;
    eprintln!("mqtt: {} messages after the restart in {:?}; {r:?}", 2500 - at_stop.stored, started.elapsed());
    assert_eq!((r.stored, r.quarantined), (2500, 0), "{r:?}");
    assert_eq!(stored_once(&e.store).await, 2500);
    feed.stop().await;
    mqtt_nothing_unacked(&b).await;
}

// ---------------------------------------------------------------------------------------------- NATS

const SUBJECT: &str = "city.video.state";

fn nats_config(b: &Broker) -> nats::Config {
    toml::from_str::<nats::Config>(&format!(
        "url = \"{}\"\nstream = \"CITY\"\ndurable = \"cockpit-sensors\"\nfilter_subject = \"city.video.>\"\nack_wait_seconds = 2",
        b.url()
    ))
    .unwrap()
    .check()
    .unwrap()
}

/// Creates the stream once JetStream is up (it answers a moment after the port opens).
async fn nats_stream(b: &Broker) {
    let deadline = Instant::now() + WAIT;
    loop {
        match server::sim::nats::ensure_stream(&b.url(), "CITY", &["city.>"]).await {
            Ok(()) => return,
            Err(e) => assert!(Instant::now() < deadline, "no stream: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the consumer has nothing unacked and nothing undelivered (the feed acked every message).
async fn nats_all_acked(b: &Broker) {
    let js = async_nats::jetstream::new(async_nats::connect(b.url()).await.unwrap());
    let deadline = Instant::now() + WAIT;
    loop {
        let mut c: async_nats::jetstream::consumer::PullConsumer = js.get_consumer_from_stream("cockpit-sensors", "CITY").await.unwrap();
        let v = c.info().await.unwrap().clone();
        if v.num_ack_pending == 0 && v.num_pending == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "messages left unacked: {v:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn nats_publish(b: &Broker, payloads: Vec<Vec<u8>>) {
    server::sim::nats::publish(&b.url(), SUBJECT, payloads).await.unwrap();
}

/// A NATS server with accounts: the feed signs in with the user and password of its URL, which comes
/// from the environment (`url_env`), and a wrong password is an error that never shows the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_signs_in_with_credentials_from_the_environment() {
    let b = Broker::nats_with_user("cockpit", "pw-from-env");
    let signed_in = format!("nats://cockpit:pw-from-env@127.0.0.1:{}", b.port);
    let deadline = Instant::now() + WAIT;
    while let Err(e) = server::sim::nats::ensure_stream(&signed_in, "CITY", &["city.>"]).await {
        assert!(Instant::now() < deadline, "no stream: {e}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(server::sim::nats::ensure_stream(&b.url(), "CITY", &["city.>"]).await.is_err(), "the server wants a user");
    std::env::set_var("COCKPIT_TEST_NATS_URL", &signed_in);
    let entry: toml::Table = toml::from_str(
        "name = \"sensors\"\ntype = \"nats\"\nurl_env = \"COCKPIT_TEST_NATS_URL\"\nstream = \"CITY\"\ndurable = \"cockpit-sensors\"\n\
         [mapping]\nrecord = \"observation\"\nid = \"channel\"\ntime = \"ts\"\nindicator = \"video_online\"\nregion = \"area\"\n",
    )
    .unwrap();
    let spec = server::feeds::registry::FeedSpec::parse(0, &entry).unwrap();
    let server::feeds::kinds::KindConfig::Nats(cfg) = spec.kind else { panic!("{:?}", spec.kind) };
    assert_eq!(cfg.url, signed_in);

    let e = env().await;
    let feed = start_nats(&cfg, &e.ctx);
    server::sim::nats::publish(&signed_in, SUBJECT, recs(0, 5)).await.unwrap();
    let r = wait_for(&e, "5 stored", |r| r.stored >= 5).await;
    assert_eq!((r.received, r.stored), (5, 5), "{r:?}");
    feed.stop().await;

    let wrong = nats::Config { url: format!("nats://cockpit:wrong-pw@127.0.0.1:{}", b.port), ..cfg };
    let why = refused(&e, |ctx| start_nats(&wrong, ctx)).await;
    assert!(why.to_ascii_lowercase().contains("authorization") && !why.contains("wrong-pw"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_sorts_good_malformed_duplicate_and_late_records() {
    let b = Broker::nats();
    nats_stream(&b).await;
    let e = env().await;
    let feed = start_nats(&nats_config(&b), &e.ctx);
    nats_publish(&b, mixed()).await;
    check_mixed(&e).await;
    nats_all_acked(&b).await;
    feed.stop().await;
    // Acked only after storing: a new consumer connection gets only what is new.
    let feed = start_nats(&nats_config(&b), &e.ctx);
    nats_publish(&b, recs(100, 1)).await;
    let r = wait_for(&e, "one more", |r| r.received >= 26).await;
    assert_eq!((r.received, r.stored), (26, 22), "nothing redelivered: {r:?}");
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_survives_the_broker_going_away() {
    let mut b = Broker::nats();
    nats_stream(&b).await;
    let e = env().await;
    let feed = start_nats(&nats_config(&b), &e.ctx);
    nats_publish(&b, recs(0, 10)).await;
    wait_for(&e, "10 stored", |r| r.stored >= 10).await;
    let errors = e.ctx.health.get().errors;
    b.down();
    let deadline = Instant::now() + WAIT;
    while e.ctx.health.get().errors < errors + 2 {
        assert!(Instant::now() < deadline, "the feed did not notice the server going away");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    b.up();
    nats_stream(&b).await; // waits for JetStream; the stream itself survived on disk
    nats_publish(&b, recs(10, 10)).await;
    let r = wait_for(&e, "20 stored", |r| r.stored >= 20).await;
    assert_eq!((r.stored, r.quarantined), (20, 0), "{r:?}");
    assert_eq!(stored_once(&e.store).await, 20);
    feed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_resumes_after_a_cockpit_restart_mid_stream() {
    let b = Broker::nats();
    nats_stream(&b).await;
    let e = env().await;
    // Small batches, so that the stop lands mid-stream however fast the client takes them (with 500 a
    // batch, the feed could take all 2,000 before the stop was seen).
    let cfg = nats::Config { batch: 50, ..nats_config(&b) };
    let feed = start_nats(&cfg, &e.ctx);
    let url = b.url();
    let first = tokio::spawn(async move {
        for i in 0..40 {
            server::sim::nats::publish(&url, SUBJECT, recs(i * 50, 50)).await?;
        }
        Ok::<(), String>(())
    });
    wait_for(&e, "some received", |r| r.received >= 200).await;
    feed.stop().await;
    let at_stop = row(&e.store).await;
    // The publisher may have finished (it is faster): what matters is that the stream still holds
    // messages the feed has not taken.
    assert!(at_stop.received < 2000, "the feed stopped mid-stream: {at_stop:?}");
    eprintln!("at stop: {at_stop:?}");
    first.await.unwrap().unwrap();
    nats_publish(&b, recs(2000, 500)).await;
    assert_eq!(row(&e.store).await.received, at_stop.received, "nothing taken while stopped");
    let started = Instant::now();
    let feed = start_nats(&cfg, &e.ctx);
    let r = wait_for(&e, "2500 stored", |r| r.stored >= 2500).await;
    eprintln!("nats: {} messages after the restart in {:?}; {r:?}", 2500 - at_stop.stored, started.elapsed());
    assert_eq!((r.stored, r.quarantined), (2500, 0), "{r:?}");
    assert_eq!(stored_once(&e.store).await, 2500);
    nats_all_acked(&b).await;
    feed.stop().await;
}
