//! Leases: which instance runs a feed now. The store grants them (PostgreSQL: an advisory lock held by
//! a connection of the lease's own, so a killed holder's lease ends with its connection); an instance
//! without the lease asks again every second, so another takes a feed over within a second of its
//! holder's end (well inside any feed's cadence).
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often a lease is asked for, and how often a held one is checked.
pub const RETRY: Duration = Duration::from_secs(1);

/// A lease held; ended by dropping it.
pub trait Lease: Send {
    /// Whether it is still held (its connection alive).
    fn alive(&mut self) -> BoxFuture<'_, bool>;
}

pub trait Leases: Send + Sync {
    /// The lease on `name` if nobody holds it; None when another instance does.
    fn try_take<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<Box<dyn Lease>>, String>>;
}

/// Runs what `make` starts (a feed, a rule) whenever this instance holds the lease `name`, until `stop`.
/// A lost lease (the store's connection gone) stops it at once: another instance may hold it by then.
/// `make` is given the switch that stops this run.
pub async fn run_leased<F>(name: String, leases: Arc<dyn Leases>, make: F, mut stop: watch::Receiver<bool>)
where
    F: Fn(watch::Receiver<bool>) -> BoxFuture<'static, ()> + Send + 'static,
{
    loop {
        if *stop.borrow() {
            return;
        }
        let mut lease = match leases.try_take(&name).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                tokio::select! { _ = tokio::time::sleep(RETRY) => continue, _ = super::stopped(&mut stop) => return }
            }
            Err(e) => {
                tracing::warn!(lease = %name, error = %e, "cannot ask for the lease; asking again");
                tokio::select! { _ = tokio::time::sleep(RETRY) => continue, _ = super::stopped(&mut stop) => return }
            }
        };
        tracing::info!(lease = %name, "lease taken: running it here");
        let (feed_stop_tx, feed_stop) = watch::channel(false);
        let mut run = tokio::spawn(make(feed_stop));
        let lost = loop {
            tokio::select! {
                _ = &mut run => break false,
                _ = super::stopped(&mut stop) => break false,
                _ = tokio::time::sleep(RETRY) => {
                    if !lease.alive().await {
                        break true;
                    }
                }
            }
        };
        let _ = feed_stop_tx.send(true);
        let _ = run.await;
        drop(lease);
        if lost {
            tracing::warn!(lease = %name, "lease lost (the store's connection dropped); stopped here");
        } else {
            return;
        }
    }
}
