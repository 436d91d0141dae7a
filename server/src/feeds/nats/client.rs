//! Connecting to NATS with `async-nats`: one place that names the connection, bounds the wait, hides
//! credentials in what is shown, and tells the caller when the connection drops.
use async_nats::{Client, ConnectOptions, Event, ServerAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks a configured server URL: `nats://` or `tls://`, `[user:pass@]host[:port]`.
pub fn check_url(url: &str) -> Result<(), String> {
    let addr: ServerAddr = url.parse().map_err(|e| format!("url: {e}"))?;
    match url.split_once("://").map(|(s, _)| s) {
        Some("nats") | Some("tls") => {}
        _ => return Err("url: nats://host:port or tls://host:port".into()),
    }
    if addr.host().is_empty() {
        return Err("url: no host".into());
    }
    Ok(())
}

/// The server as it may be shown and logged: scheme, host and port, never a user, password or token.
pub fn shown(url: &str) -> String {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("nats");
    match url.parse::<ServerAddr>() {
        Ok(a) => format!("{scheme}://{}:{}", a.host(), a.port()),
        Err(_) => format!("{scheme}://?"),
    }
}

/// Connects as `name`, signing in with the user and password or the token of the URL (percent-encoded
/// there) or with a `.creds` file (an account's JWT and NKey seed). The receiver turns true when the
/// connection drops (the client would reconnect by itself, but callers want to know). Errors name the
/// server as `shown` does.
pub async fn connect(url: &str, name: &str, credentials_file: Option<&str>) -> Result<(Client, watch::Receiver<bool>), String> {
    let addr: ServerAddr = url.parse().map_err(|e| format!("url: {e}"))?;
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut options = ConnectOptions::new();
    if let Some(path) = credentials_file {
        options = ConnectOptions::with_credentials_file(path).await.map_err(|e| format!("credentials_file {path}: {e}"))?;
    }
    options = match (addr.username(), addr.password()) {
        (Some(user), Some(pass)) => options.user_and_password(decode(user), decode(pass)),
        (Some(token), None) => options.token(decode(token)),
        _ => options,
    };
    let (tx, rx) = watch::channel(false);
    let tx = Arc::new(tx);
    let client = options
        .name(name)
        .connection_timeout(CONNECT_TIMEOUT)
        .event_callback(move |e| {
            let tx = tx.clone();
            async move {
                if matches!(e, Event::Disconnected | Event::Closed) {
                    let _ = tx.send(true);
                }
            }
        })
        // The address without its credentials: they went in above, and the client may log its URL.
        .connect(shown(url))
        .await
        .map_err(|e| format!("{}: {e}", shown(url)))?;
    Ok((client, rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_shown_without_credentials() {
        assert!(check_url("nats://127.0.0.1:4222").is_ok());
        assert!(check_url("tls://nats.city.gov.cn:4222").is_ok());
        assert!(check_url("http://127.0.0.1:4222").is_err());
        assert!(check_url("nats://").is_err());
        assert_eq!(shown("nats://cockpit:s3cret@10.0.0.5:4222"), "nats://10.0.0.5:4222");
        assert_eq!(shown("tls://token-abc@nats.city:4443"), "tls://nats.city:4443");
    }
}
