//! Feeds: the city's systems, each a component behind one trait that emits events into the ingest path.
//! One file per kind. The foundation has the built-in demo feed; real kinds (Open311, webhooks, MQTT,
//! NATS, file drops, SQL pull) join here.
pub mod demo;

use crate::ingest::Ingest;
use futures::future::BoxFuture;
use tokio::sync::watch;

pub trait Feed: Send + 'static {
    /// The feed's name: the `feed` of every event it emits.
    fn name(&self) -> &str;
    /// Runs until `shutdown` turns true.
    fn run(self: Box<Self>, ingest: Ingest, shutdown: watch::Receiver<bool>) -> BoxFuture<'static, ()>;
}
