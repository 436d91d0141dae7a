//! The feed kinds a `[[feeds]]` entry can name, each with its own config struct (`deny_unknown_fields`)
//! in its own module.
use super::registry::{kind_config, FeedCtx};
use super::{file_drop, sql_pull};
use super::{http_pull, mqtt, nats, open311, webhook};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::sync::watch;

#[derive(Clone, Debug, PartialEq)]
pub enum KindConfig {
    Open311(open311::Config),
    HttpPull(http_pull::Config),
    Webhook(webhook::Config),
    FileDrop(file_drop::Config),
    SqlPull(sql_pull::Config),
    Mqtt(mqtt::Config),
    Nats(nats::Config),
}

pub const KINDS: &str = "open311, http_pull, webhook, mqtt, nats, file_drop, sql_pull";

impl KindConfig {
    pub fn parse(kind: &str, rest: toml::Table) -> Result<KindConfig, String> {
        Ok(match kind {
            "open311" => KindConfig::Open311(kind_config::<open311::Config>(rest)?.check()?),
            "http_pull" => KindConfig::HttpPull(kind_config::<http_pull::Config>(rest)?.check()?),
            "webhook" => KindConfig::Webhook(kind_config(rest)?),
            "file_drop" => KindConfig::FileDrop(kind_config::<file_drop::Config>(rest)?.check()?),
            "sql_pull" => KindConfig::SqlPull(kind_config::<sql_pull::Config>(rest)?.check()?),
            "mqtt" => KindConfig::Mqtt(kind_config::<mqtt::Config>(rest)?.check()?),
            "nats" => KindConfig::Nats(kind_config::<nats::Config>(rest)?.check()?),
            other => return Err(format!("unknown feed type {other:?}; expected one of {KINDS}")),
        })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            KindConfig::Open311(_) => "open311",
            KindConfig::HttpPull(_) => "http_pull",
            KindConfig::Webhook(_) => "webhook",
            KindConfig::FileDrop(_) => "file_drop",
            KindConfig::SqlPull(_) => "sql_pull",
            KindConfig::Mqtt(_) => "mqtt",
            KindConfig::Nats(_) => "nats",
        }
    }

    pub fn run(self, ctx: FeedCtx, stop: watch::Receiver<bool>) -> BoxFuture<'static, ()> {
        match self {
            KindConfig::Open311(c) => open311::run(c, ctx, stop).boxed(),
            KindConfig::HttpPull(c) => http_pull::run(c, ctx, stop).boxed(),
            KindConfig::FileDrop(c) => file_drop::run(c, ctx, stop).boxed(),
            KindConfig::SqlPull(c) => sql_pull::run(c, ctx, stop).boxed(),
            KindConfig::Mqtt(c) => mqtt::run(c, ctx, stop).boxed(),
            KindConfig::Nats(c) => nats::run(c, ctx, stop).boxed(),
            // Pushed to: requests arrive at the web route while the feed runs.
            KindConfig::Webhook(_) => async move {
                let mut stop = stop;
                let _ = stop.wait_for(|s| *s).await;
            }
            .boxed(),
        }
    }
}
