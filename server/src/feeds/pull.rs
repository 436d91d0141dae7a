//! The loop every pull kind shares: read the stored cursor, fetch one page from the source, store it
//! with the cursor after it (so a restart resumes at the first page not yet stored), go on at once
//! while behind, wait the interval once caught up, and back off while the source or the store fails.
use super::backoff::{sleep_or_stop, Backoff};
use super::record::Input;
use super::registry::FeedCtx;
use futures::future::BoxFuture;
use std::time::Duration;
use tokio::sync::watch;

/// What one fetch brought.
pub struct Page {
    pub inputs: Vec<Input>,
    /// Stored with the page: where the next fetch starts.
    pub cursor: Option<String>,
    /// Nothing more to fetch now: wait the interval.
    pub caught_up: bool,
}

/// One pull kind's fetch, from the stored cursor (None before the first stored page).
pub trait Source: Send {
    fn fetch<'a>(&'a mut self, cursor: Option<String>) -> BoxFuture<'a, Result<Page, String>>;
}

/// Waits between attempts while a source is down: from half a second, doubling to a minute.
pub fn default_backoff() -> Backoff {
    Backoff::new(Duration::from_millis(500), Duration::from_secs(60))
}

/// Runs until `stop`; a fetch in flight (a slow query, a hung peer) is dropped when it comes.
pub async fn run(mut source: impl Source, ctx: FeedCtx, interval: Duration, mut backoff: Backoff, mut stop: watch::Receiver<bool>) {
    loop {
        let wait = match ctx.cursor().await {
            Err(e) => {
                ctx.failed(format!("reading the cursor failed: {e}"));
                backoff.step()
            }
            Ok(cursor) => match tokio::select! {
                r = source.fetch(cursor) => r,
                _ = stop.wait_for(|s| *s) => return,
            } {
                Err(why) => {
                    ctx.failed(why);
                    backoff.step()
                }
                Ok(page) => {
                    backoff.reset();
                    match ctx.take(page.inputs, page.cursor).await {
                        Ok(_) if page.caught_up => interval,
                        Ok(_) => Duration::ZERO,
                        Err(_) => backoff.step(),
                    }
                }
            },
        };
        if sleep_or_stop(wait, &mut stop).await {
            return;
        }
    }
}
