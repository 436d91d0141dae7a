//! A city system publishing to an MQTT broker: QoS 1 publishes, each confirmed by the broker's PUBACK
//! before `publish` returns.
use crate::feeds::mqtt::split_broker;
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Publishes every payload on `topic` at QoS 1 to `broker` (`host:port`) and waits for all PUBACKs.
pub async fn publish(broker: &str, topic: &str, payloads: Vec<Vec<u8>>) -> Result<(), String> {
    publish_as(broker, None, topic, payloads).await
}

/// The same, signed in as (username, password).
pub async fn publish_as(broker: &str, credentials: Option<(&str, &str)>, topic: &str, payloads: Vec<Vec<u8>>) -> Result<(), String> {
    let (host, port) = split_broker(broker)?;
    let id = format!("cockpit-sim-{}-{}", std::process::id(), crate::clock::Clock::system().now_ms());
    let mut opts = MqttOptions::new(id, host, port);
    if let Some((user, pass)) = credentials {
        opts.set_credentials(user, pass);
    }
    let largest = payloads.iter().map(Vec::len).max().unwrap_or(0);
    opts.set_clean_session(true).set_keep_alive(Duration::from_secs(30)).set_max_packet_size(64 * 1024, largest + topic.len() + 1024);
    let (client, mut eventloop) = AsyncClient::new(opts, 64);
    let total = payloads.len();
    let (topic_owned, mut acked, mut connected) = (topic.to_string(), 0usize, false);
    // The publisher feeds the request queue while the event loop below drives the connection.
    let sender = {
        let client = client.clone();
        tokio::spawn(async move {
            for p in payloads {
                if client.publish(topic_owned.clone(), QoS::AtLeastOnce, false, p).await.is_err() {
                    return;
                }
            }
        })
    };
    let result = loop {
        if acked == total && connected {
            break Ok(());
        }
        match tokio::time::timeout(TIMEOUT, eventloop.poll()).await {
            Err(_) => break Err(format!("{broker}: no progress within {TIMEOUT:?} ({acked} of {total} acknowledged)")),
            // A QoS 1 publish is kept and sent again after a reconnect, so a broken connection is an error
            // here only because the caller wants to know: it retries as it sees fit.
            Ok(Err(e)) => break Err(format!("{broker}: {e} ({acked} of {total} acknowledged)")),
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => connected = true,
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => acked += 1,
            Ok(Ok(Event::Outgoing(Outgoing::Disconnect))) => break Err(format!("{broker}: disconnected")),
            Ok(Ok(_)) => {}
        }
    };
    sender.abort();
    if result.is_ok() {
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            while let Ok(ev) = eventloop.poll().await {
                if matches!(ev, Event::Outgoing(Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
    }
    result
}
