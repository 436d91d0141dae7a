//! Group commit: batches that wait for the writer are stored together, each caller gets its own
//! outcomes, and a batch that makes the store fail fails alone.
use super::Ingest;
use crate::case::{CaseEvent, CaseFacts, Outcome};
use crate::city::{shaoxing, RegionTree};
use crate::store::{SqliteStore, Store, StoreError};
use app::flow::{Action, Priority};
use app::model::{Category, Source, Status};
use engine::Engine;
use std::sync::{Arc, RwLock};

/// Wednesday 2026-12-02 10:00 in Shanghai.
const T: i64 = 1_796_176_800_000;

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    ingest: Ingest,
    grid: String,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    store.save_regions(&shaoxing::build()).await.unwrap();
    let tree = Arc::new(RegionTree::new(store.load_regions().await.unwrap()).unwrap());
    let grid = tree.iter().find(|(_, r)| r.row.grid.is_some()).unwrap().1.row.code.clone();
    let engine = Arc::new(RwLock::new(Engine::new(tree.clone())));
    let (changed, _) = tokio::sync::watch::channel(0);
    let ingest = Ingest::new(store.clone(), tree, engine, changed, crate::clock::Clock::manual(T + 3_600_000));
    Setup { _dir: dir, store, ingest, grid }
}

fn report(feed: &str, id: &str, grid: &str) -> CaseEvent {
    CaseEvent {
        facts: Some(CaseFacts {
            category: Category::Hazard,
            source: Source::Hotline12345,
            grid: grid.into(),
            reported_at: T,
            priority: Priority::Normal,
            warn_at: T + 3_000_000,
            deadline: T + 3_600_000,
            details: Default::default(),
        }),
        ..CaseEvent::change(feed, id, 0, Action::Report, Status::Reported, T)
    }
}

fn accept(feed: &str, id: &str) -> CaseEvent {
    CaseEvent::change(feed, id, 1, Action::Accept, Status::Accepted, T + 60_000)
}

/// Holds the writer until `n` batches wait for it, then lets them go; returns each submitter's answer.
async fn release_together(ingest: &Ingest, batches: Vec<Vec<CaseEvent>>) -> Vec<Result<Vec<Outcome>, StoreError>> {
    let held = ingest.hold_writers().await;
    let n = batches.len();
    let tasks: Vec<_> = batches
        .into_iter()
        .map(|b| {
            let ingest = ingest.clone();
            tokio::spawn(async move { ingest.submit(b).await })
        })
        .collect();
    while ingest.queue.lock().unwrap().len() < n {
        tokio::task::yield_now().await;
    }
    drop(held);
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

async fn stored_events(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM case_events").fetch_one(store.pool()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_batches_share_one_transaction_and_each_gets_its_own_outcomes() {
    let s = setup().await;
    // Eight feeds, one case each; feed 3 also sends a change of a case it never reported, feed 5 a
    // report into a grid that does not exist, feed 6 its report twice.
    let batches: Vec<Vec<CaseEvent>> = (0..8)
        .map(|i| {
            let feed = format!("f{i}");
            let mut b = vec![report(&feed, "c", &s.grid), accept(&feed, "c")];
            match i {
                3 => b.push(accept(&feed, "never")),
                5 => b.push(report(&feed, "lost", "999999")),
                6 => b.insert(1, report(&feed, "c", &s.grid)),
                _ => {}
            }
            b
        })
        .collect();
    let answers = release_together(&s.ingest, batches).await;
    for (i, a) in answers.iter().enumerate() {
        let a = a.as_ref().unwrap();
        match i {
            3 => assert!(matches!(&a[..], [Outcome::Stored, Outcome::Stored, Outcome::Rejected(r)] if r.contains("no case never")), "{a:?}"),
            5 => assert!(matches!(&a[..], [Outcome::Stored, Outcome::Stored, Outcome::Rejected(r)] if r.contains("unknown grid")), "{a:?}"),
            6 => assert_eq!(a, &[Outcome::Stored, Outcome::Duplicate, Outcome::Stored]),
            _ => assert_eq!(a, &[Outcome::Stored, Outcome::Stored], "feed {i}"),
        }
    }
    assert_eq!(s.ingest.batch_counts(), (8, 1), "eight batches, one transaction");
    assert_eq!(stored_events(&s.store).await, 16);
    assert_eq!(s.ingest.engine().read().unwrap().open_cases(), 8, "the engine counted each stored case once");
    let m = s.ingest.render_metrics();
    assert!(m.contains("cockpit_ingest_batches_total 8\n") && m.contains("cockpit_ingest_writes_total 1\n"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_makes_the_store_fail_fails_alone() {
    let s = setup().await;
    assert_eq!(s.ingest.submit(vec![report("g", "bad", &s.grid), accept("g", "bad")]).await.unwrap(), [Outcome::Stored, Outcome::Stored]);
    // Changed behind the cockpit's back: the case says it was never accepted, yet its acceptance is
    // stored. Taking the acceptance again must be refused, not miscounted.
    sqlx::query("UPDATE case_state SET status = 'reported', seq = 0 WHERE id = (SELECT state_id FROM case_facts WHERE case_id = 'bad')").execute(s.store.pool()).await.unwrap();
    let answers = release_together(
        &s.ingest,
        vec![vec![report("a", "1", &s.grid)], vec![accept("g", "bad")], vec![report("b", "2", &s.grid), accept("b", "2")]],
    )
    .await;
    assert_eq!(answers[0].as_ref().unwrap(), &[Outcome::Stored]);
    assert!(matches!(&answers[1], Err(StoreError::Corrupt(r)) if r.contains("case bad")), "{:?}", answers[1]);
    assert_eq!(answers[2].as_ref().unwrap(), &[Outcome::Stored, Outcome::Stored]);
    assert_eq!(stored_events(&s.store).await, 5, "the others' events are stored, nothing of the failing batch");
    assert_eq!(s.ingest.batch_counts(), (4, 5), "the group failed once, then each batch was written alone");
    assert_eq!(s.ingest.engine().read().unwrap().open_cases(), 3);
}
