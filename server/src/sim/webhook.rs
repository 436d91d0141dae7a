//! A source system that pushes to a webhook feed: signs each batch with the feed's secret and retries
//! until the cockpit says it is stored.
use crate::feeds::webhook::{sign, SIGNATURE, TIMESTAMP};

/// POSTs one signed batch; returns the HTTP status and body.
pub async fn push(client: &reqwest::Client, url: &str, token: &str, secret: &str, records: &[serde_json::Value], now_s: i64) -> Result<(u16, String), String> {
    let body = serde_json::to_vec(records).map_err(|e| e.to_string())?;
    let ts = now_s.to_string();
    let resp = client
        .post(url)
        .header("authorization", format!("Bearer {token}"))
        .header(TIMESTAMP, &ts)
        .header(SIGNATURE, format!("sha256={}", sign(secret, &ts, &body)))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {url}: {}", e.without_url()))?;
    let status = resp.status().as_u16();
    Ok((status, resp.text().await.unwrap_or_default()))
}
