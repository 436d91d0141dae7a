//! A small NATS client over the text protocol on a tokio `TcpStream`: INFO/CONNECT (with headers),
//! PING/PONG, SUB, PUB with a reply subject, MSG/HMSG (status headers such as `404 No Messages`), and
//! request/reply through one wildcard inbox. Enough for JetStream's API, pull fetches and acks; the
//! mqtt/nats simulators publish with it too.
//!
//! `parse` is a pure function over the bytes read so far (it never panics, whatever the peer sends);
//! `Conn::next_msg` is cancel-safe, so callers can `select!` it against timers and a stop switch.
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// The longest control line we accept (INFO can list many cluster URLs).
const MAX_CONTROL: usize = 64 * 1024;

/// One protocol operation from the server.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Info(String),
    Msg(Msg),
    Ping,
    Pong,
    Ok,
    Err(String),
}

/// A delivered message (MSG or HMSG).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Msg {
    pub subject: String,
    pub sid: u64,
    pub reply: Option<String>,
    /// The status of an HMSG without payload meaning (`404`, `408`, `409`, `503`, `100`).
    pub status: Option<u16>,
    pub description: String,
    pub headers: Vec<(String, String)>,
    pub payload: Vec<u8>,
}

impl Msg {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

fn num(s: &str, what: &str) -> Result<usize, String> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad {what} {s:?}"));
    }
    s.parse().map_err(|_| format!("bad {what} {s:?}"))
}

/// Reads one operation from the front of `buf`: `Ok(None)` if more bytes are needed, otherwise the
/// operation and how many bytes it took. A payload over `max_payload` is an error, not a wait.
pub fn parse(buf: &[u8], max_payload: usize) -> Result<Option<(Op, usize)>, String> {
    let Some(eol) = find_crlf(buf) else {
        return if buf.len() > MAX_CONTROL { Err("control line too long".into()) } else { Ok(None) };
    };
    if eol > MAX_CONTROL {
        return Err("control line too long".into());
    }
    let line = std::str::from_utf8(&buf[..eol]).map_err(|_| "control line is not UTF-8".to_string())?;
    let (verb, rest) = match line.find([' ', '\t']) {
        Some(i) => (&line[..i], line[i + 1..].trim()),
        None => (line, ""),
    };
    let after = eol + 2;
    let verb = verb.to_ascii_uppercase();
    let op = match verb.as_str() {
        "PING" => Op::Ping,
        "PONG" => Op::Pong,
        "+OK" => Op::Ok,
        "-ERR" => Op::Err(rest.trim_matches('\'').to_string()),
        "INFO" => Op::Info(rest.to_string()),
        "MSG" | "HMSG" => {
            let args: Vec<&str> = rest.split([' ', '\t']).filter(|a| !a.is_empty()).collect();
            let headers = verb == "HMSG";
            let (subject, sid, reply, hdr, total) = match (headers, args.as_slice()) {
                (false, [s, id, n]) => (*s, *id, None, 0, num(n, "size")?),
                (false, [s, id, r, n]) => (*s, *id, Some(*r), 0, num(n, "size")?),
                (true, [s, id, h, n]) => (*s, *id, None, num(h, "header size")?, num(n, "size")?),
                (true, [s, id, r, h, n]) => (*s, *id, Some(*r), num(h, "header size")?, num(n, "size")?),
                _ => return Err(format!("malformed {verb} line")),
            };
            if hdr > total {
                return Err("header size above total size".into());
            }
            if total > max_payload {
                return Err(format!("message of {total} bytes above the limit of {max_payload}"));
            }
            let sid = num(sid, "sid")? as u64;
            let end = after.checked_add(total).ok_or("size overflow")?;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err("message not followed by CRLF".into());
            }
            let mut m = Msg { subject: subject.to_string(), sid, reply: reply.map(str::to_string), ..Default::default() };
            if headers {
                read_headers(&buf[after..after + hdr], &mut m)?;
            }
            m.payload = buf[after + hdr..end].to_vec();
            return Ok(Some((Op::Msg(m), end + 2)));
        }
        _ => return Err(format!("unknown operation {:?}", verb.chars().take(16).collect::<String>())),
    };
    Ok(Some((op, after)))
}

/// `NATS/1.0 408 Request Timeout\r\nKey: Value\r\n\r\n`
fn read_headers(block: &[u8], m: &mut Msg) -> Result<(), String> {
    let text = std::str::from_utf8(block).map_err(|_| "headers are not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let Some(status) = first.strip_prefix("NATS/1.0") else {
        return Err("headers do not start with NATS/1.0".into());
    };
    let status = status.trim();
    if !status.is_empty() {
        let (code, desc) = status.split_once(' ').unwrap_or((status, ""));
        m.status = Some(code.parse().map_err(|_| format!("bad status {:?}", code.chars().take(8).collect::<String>()))?);
        m.description = desc.trim().to_string();
    }
    for l in lines.filter(|l| !l.is_empty()) {
        if let Some((k, v)) = l.split_once(':') {
            m.headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok(())
}

/// Where and how to connect: `nats://[user:pass@|token@]host:port`.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoint {
    pub addr: String,
    pub user: Option<String>,
    pub pass: Option<String>,
    pub token: Option<String>,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let rest = url.strip_prefix("nats://").or_else(|| url.strip_prefix("tcp://")).unwrap_or(url);
        let rest = rest.trim_end_matches('/');
        let (auth, host) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        if host.is_empty() {
            return Err("the NATS url has no host".into());
        }
        let addr = if host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) { host.to_string() } else { format!("{host}:4222") };
        let (mut user, mut pass, mut token) = (None, None, None);
        match auth.map(|a| a.split_once(':')) {
            Some(Some((u, p))) => (user, pass) = (Some(u.to_string()), Some(p.to_string())),
            Some(None) => token = auth.map(str::to_string),
            None => {}
        }
        Ok(Endpoint { addr, user, pass, token })
    }

    /// The address without credentials, for messages.
    pub fn shown(&self) -> String {
        format!("nats://{}", self.addr)
    }
}

/// A connection with one wildcard inbox subscription (sid 1) for replies.
pub struct Conn {
    rd: OwnedReadHalf,
    wr: OwnedWriteHalf,
    buf: Vec<u8>,
    out: Vec<u8>,
    max_payload: usize,
    inbox: String,
    next_reply: u64,
    /// Messages read while waiting for something else (a request's reply).
    queued: VecDeque<Msg>,
    shown: String,
}

pub const INBOX_SID: u64 = 1;

fn random_id() -> String {
    use rand_core::RngCore;
    let mut b = [0u8; 10];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Conn {
    /// Connects, sends CONNECT (headers and no-responders on), checks with PING/PONG and subscribes the
    /// inbox. Everything within `timeout`.
    pub async fn connect(url: &str, name: &str, timeout: Duration) -> Result<Conn, String> {
        let ep = Endpoint::parse(url)?;
        let shown = ep.shown();
        tokio::time::timeout(timeout, Conn::handshake(ep, name)).await.map_err(|_| format!("{shown}: no answer within {timeout:?}"))?
    }

    async fn handshake(ep: Endpoint, name: &str) -> Result<Conn, String> {
        let shown = ep.shown();
        let tcp = TcpStream::connect(&ep.addr).await.map_err(|e| format!("{shown}: cannot connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let (rd, wr) = tcp.into_split();
        let mut c = Conn {
            rd,
            wr,
            buf: Vec::with_capacity(64 * 1024),
            out: Vec::new(),
            max_payload: 1 << 20,
            inbox: format!("_INBOX.{}", random_id()),
            next_reply: 0,
            queued: VecDeque::new(),
            shown: shown.clone(),
        };
        let info = match c.next_op().await? {
            Op::Info(i) => i,
            other => return Err(format!("{shown}: expected INFO, got {}", describe(&other))),
        };
        let info: serde_json::Value = serde_json::from_str(&info).map_err(|_| format!("{shown}: unreadable INFO"))?;
        if let Some(m) = info.get("max_payload").and_then(|v| v.as_u64()) {
            // Our limit on what we read: the server never sends more than it accepts (plus headers).
            c.max_payload = (m as usize).saturating_add(64 * 1024);
        }
        if info.get("headers").and_then(|v| v.as_bool()) == Some(false) {
            return Err(format!("{shown}: the server does not support headers (NATS 2.2 or later is needed)"));
        }
        let mut connect = serde_json::json!({
            "verbose": false, "pedantic": false, "lang": "rust", "version": env!("CARGO_PKG_VERSION"),
            "protocol": 1, "headers": true, "no_responders": true, "name": name,
        });
        if let (Some(u), Some(p)) = (&ep.user, &ep.pass) {
            connect["user"] = u.clone().into();
            connect["pass"] = p.clone().into();
        }
        if let Some(t) = &ep.token {
            connect["auth_token"] = t.clone().into();
        }
        c.out.extend_from_slice(format!("CONNECT {connect}\r\nPING\r\n").as_bytes());
        c.flush().await?;
        loop {
            match c.next_op().await? {
                Op::Pong => break,
                Op::Err(e) => return Err(format!("{shown}: refused: {e}")),
                Op::Ping => c.out.extend_from_slice(b"PONG\r\n"),
                _ => {}
            }
        }
        let sub = format!("SUB {}.* {INBOX_SID}\r\n", c.inbox);
        c.out.extend_from_slice(sub.as_bytes());
        c.flush().await?;
        Ok(c)
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// A fresh reply subject on the inbox.
    pub fn reply_subject(&mut self) -> String {
        self.next_reply += 1;
        format!("{}.{}", self.inbox, self.next_reply)
    }

    /// Queues a PUB (sent by the next `flush`).
    pub fn publish(&mut self, subject: &str, reply: Option<&str>, payload: &[u8]) {
        let line = match reply {
            Some(r) => format!("PUB {subject} {r} {}\r\n", payload.len()),
            None => format!("PUB {subject} {}\r\n", payload.len()),
        };
        self.out.extend_from_slice(line.as_bytes());
        self.out.extend_from_slice(payload);
        self.out.extend_from_slice(b"\r\n");
    }

    /// Writes what is queued. Cancel-safe: what was written is dropped from the queue as it goes.
    pub async fn flush(&mut self) -> Result<(), String> {
        while !self.out.is_empty() {
            let n = self.wr.write(&self.out).await.map_err(|e| format!("{}: writing failed: {e}", self.shown))?;
            if n == 0 {
                return Err(format!("{}: connection closed", self.shown));
            }
            self.out.drain(..n);
        }
        Ok(())
    }

    /// The next operation from the socket. Cancel-safe.
    async fn next_op(&mut self) -> Result<Op, String> {
        loop {
            match parse(&self.buf, self.max_payload).map_err(|e| format!("{}: protocol error: {e}", self.shown))? {
                Some((op, used)) => {
                    self.buf.drain(..used);
                    return Ok(op);
                }
                None => {
                    self.buf.reserve(64 * 1024);
                    let n = self.rd.read_buf(&mut self.buf).await.map_err(|e| format!("{}: reading failed: {e}", self.shown))?;
                    if n == 0 {
                        return Err(format!("{}: connection closed by the server", self.shown));
                    }
                }
            }
        }
    }

    /// The next message; answers PINGs on the way and turns `-ERR` into an error. Cancel-safe.
    pub async fn next_msg(&mut self) -> Result<Msg, String> {
        if let Some(m) = self.queued.pop_front() {
            return Ok(m);
        }
        loop {
            match self.next_op().await? {
                Op::Msg(m) => return Ok(m),
                Op::Ping => {
                    self.out.extend_from_slice(b"PONG\r\n");
                    self.flush().await?;
                }
                Op::Err(e) => return Err(format!("{}: server error: {e}", self.shown)),
                Op::Info(_) | Op::Pong | Op::Ok => {}
            }
        }
    }

    /// Sends a request and waits for its reply; other messages that arrive meanwhile are kept for
    /// `next_msg`. A `503` status means nothing listens on the subject.
    pub async fn request(&mut self, subject: &str, payload: &[u8], timeout: Duration) -> Result<Msg, String> {
        let reply = self.reply_subject();
        self.publish(subject, Some(&reply), payload);
        self.flush().await?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = match tokio::time::timeout_at(deadline, self.next_op()).await {
                Err(_) => return Err(format!("{}: no reply to {subject} within {timeout:?}", self.shown)),
                Ok(op) => match op? {
                    Op::Msg(m) => m,
                    Op::Ping => {
                        self.out.extend_from_slice(b"PONG\r\n");
                        self.flush().await?;
                        continue;
                    }
                    Op::Err(e) => return Err(format!("{}: server error: {e}", self.shown)),
                    _ => continue,
                },
            };
            if m.subject == reply {
                if m.status == Some(503) {
                    return Err(format!("{}: nothing answers on {subject} (is JetStream enabled?)", self.shown));
                }
                return Ok(m);
            }
            self.queued.push_back(m);
        }
    }
}

fn describe(op: &Op) -> &'static str {
    match op {
        Op::Info(_) => "INFO",
        Op::Msg(_) => "MSG",
        Op::Ping => "PING",
        Op::Pong => "PONG",
        Op::Ok => "+OK",
        Op::Err(_) => "-ERR",
    }
}

/// A JetStream API reply: its JSON, or the API's error in words.
pub fn api_reply(m: &Msg) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_json::from_slice(&m.payload).map_err(|_| "the JetStream API answered something that is not JSON".to_string())?;
    if let Some(e) = v.get("error") {
        let code = e.get("code").and_then(|c| c.as_u64()).unwrap_or(0);
        let desc = e.get("description").and_then(|d| d.as_str()).unwrap_or("unknown error");
        return Err(format!("JetStream error {code}: {desc}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> (Op, usize) {
        parse(bytes, 1 << 20).unwrap().unwrap()
    }

    #[test]
    fn reads_each_operation_and_waits_for_partial_ones() {
        assert_eq!(one(b"PING\r\n"), (Op::Ping, 6));
        assert_eq!(one(b"pong\r\nPING\r\n"), (Op::Pong, 6));
        assert_eq!(one(b"+OK\r\n").0, Op::Ok);
        assert_eq!(one(b"-ERR 'Unknown Protocol Operation'\r\n").0, Op::Err("Unknown Protocol Operation".into()));
        assert_eq!(one(b"INFO {\"max_payload\":1}\r\n").0, Op::Info("{\"max_payload\":1}".into()));
        let (op, n) = one(b"MSG a.b 7 _INBOX.x.1 5\r\nhello\r\nPING\r\n");
        assert_eq!(n, 31);
        let Op::Msg(m) = op else { panic!() };
        assert_eq!((m.subject.as_str(), m.sid, m.reply.as_deref(), m.payload.as_slice()), ("a.b", 7, Some("_INBOX.x.1"), &b"hello"[..]));
        let Op::Msg(m) = one(b"MSG a 1 0\r\n\r\n").0 else { panic!() };
        assert!(m.payload.is_empty() && m.reply.is_none());
        for cut in 0..31 {
            assert_eq!(parse(&b"MSG a.b 7 _INBOX.x.1 5\r\nhello\r\n"[..cut], 1 << 20).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn reads_status_headers() {
        let hdr = "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\n\r\n";
        let frame = format!("HMSG _INBOX.x.2 1 {} {}\r\n{hdr}\r\n", hdr.len(), hdr.len());
        let Op::Msg(m) = one(frame.as_bytes()).0 else { panic!() };
        assert_eq!((m.status, m.description.as_str(), m.header("nats-pending-messages")), (Some(408), "Request Timeout", Some("3")));
        let hdr = "NATS/1.0\r\nNats-Msg-Id: 9\r\n\r\n";
        let frame = format!("HMSG s 1 r {} {}\r\n{hdr}body\r\n", hdr.len(), hdr.len() + 4);
        let Op::Msg(m) = one(frame.as_bytes()).0 else { panic!() };
        assert_eq!((m.status, m.payload.as_slice(), m.header("Nats-Msg-Id")), (None, &b"body"[..], Some("9")));
    }

    #[test]
    fn refuses_what_is_not_the_protocol() {
        for bad in [&b"HELLO\r\n"[..], b"MSG a\r\n", b"MSG a 1 x\r\n", b"MSG a 1 3\r\nabcXY", b"HMSG a 1 9 3\r\n", b"MSG a 1 99999999999999999999\r\n"] {
            assert!(parse(bad, 1 << 20).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(parse(b"MSG a 1 2000000\r\n", 1 << 20).unwrap_err().contains("above the limit"));
        assert!(parse(&vec![b'x'; MAX_CONTROL + 1], 1 << 20).is_err());
    }

    #[test]
    fn endpoints_keep_credentials_out_of_messages() {
        let e = Endpoint::parse("nats://u:secret@10.0.0.1:4333").unwrap();
        assert_eq!((e.addr.as_str(), e.user.as_deref(), e.pass.as_deref()), ("10.0.0.1:4333", Some("u"), Some("secret")));
        assert!(!e.shown().contains("secret"));
        assert_eq!(Endpoint::parse("nats://tok@host").unwrap().token.as_deref(), Some("tok"));
        assert_eq!(Endpoint::parse("127.0.0.1").unwrap().addr, "127.0.0.1:4222");
    }

    /// Property: on any bytes, the parser returns (never panics), and what it consumes is within the
    /// input. Random bytes, random cuts and mutations of valid frames.
    #[test]
    fn the_parser_never_panics_on_arbitrary_bytes() {
        let mut rng = geom::SplitMix64::new(0x6e617473);
        let hdr = "NATS/1.0 404 No Messages\r\n\r\n";
        let valid = [
            b"MSG a.b 7 _INBOX.x.1 5\r\nhello\r\n".to_vec(),
            format!("HMSG _INBOX.x.2 1 {} {}\r\n{hdr}\r\n", hdr.len(), hdr.len()).into_bytes(),
            b"INFO {\"server_id\":\"x\"}\r\nPING\r\n+OK\r\n-ERR 'x'\r\n".to_vec(),
        ];
        for round in 0..20_000 {
            let mut bytes: Vec<u8> = if round % 2 == 0 {
                let len = (rng.next_u64() % 80) as usize;
                (0..len).map(|_| {
                    // Mostly protocol-ish characters, so the parser gets past the verb.
                    let alphabet = b"MSGHIPNOKER +-\r\n0123456789 abc.\t";
                    if rng.next_u64() % 4 == 0 { rng.next_u64() as u8 } else { alphabet[(rng.next_u64() % alphabet.len() as u64) as usize] }
                }).collect()
            } else {
                valid[(rng.next_u64() % valid.len() as u64) as usize].clone()
            };
            for _ in 0..(rng.next_u64() % 4) {
                if bytes.is_empty() {
                    break;
                }
                let i = (rng.next_u64() % bytes.len() as u64) as usize;
                match rng.next_u64() % 3 {
                    0 => bytes[i] = rng.next_u64() as u8,
                    1 => {
                        bytes.truncate(i);
                    }
                    _ => bytes.insert(i, b"0123456789\r\n "[(rng.next_u64() % 13) as usize]),
                }
            }
            let mut rest = bytes.as_slice();
            while let Ok(Some((_, used))) = parse(rest, 1 << 16) {
                assert!(used > 0 && used <= rest.len());
                rest = &rest[used..];
            }
        }
    }
}
