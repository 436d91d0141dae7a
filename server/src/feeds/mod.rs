//! Feeds: the city's systems, each a component behind one trait that emits into the ingest path.
//! The folder is the pipeline: a kind (one file each) receives inputs, `mapping` turns them into the
//! canonical `record`s (placed by `locate`, times read by `time`), `Ingest::take` stores them, and
//! `registry` runs, pauses and watches the configured feeds.
pub mod backoff;
pub mod demo;
pub mod demo_roster;
pub mod file_drop;
pub mod health;
pub mod http_pull;
pub mod kinds;
pub mod gazetteer;
pub mod locate;
pub mod mapping;
pub mod mqtt;
pub mod nats;
pub mod open311;
pub mod pull;
pub mod record;
pub mod registry;
pub mod results;
pub mod retention;
pub mod sql_pull;
pub mod time;
pub mod webhook;

use crate::ingest::Ingest;
use futures::future::BoxFuture;
use tokio::sync::watch;

pub trait Feed: Send + 'static {
    /// The feed's name: the `feed` of every event it emits.
    fn name(&self) -> &str;
    /// Runs until `shutdown` turns true.
    fn run(self: Box<Self>, ingest: Ingest, shutdown: watch::Receiver<bool>) -> BoxFuture<'static, ()>;
}
