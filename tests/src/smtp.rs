//! A small SMTP server on loopback for tests: speaks enough ESMTP for lettre (EHLO/HELO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT) and keeps every message it accepts. It can be switched "down"
//! (new connections get `421` and are closed) and "up" again.

use base64::{Engine, engine::general_purpose::STANDARD};
use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA section, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl Received {
    /// The first header `name` (case-insensitive), unfolded, still encoded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut out: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = out.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim_start());
                }
                continue;
            }
            if out.is_some() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case(name)
            {
                out = Some(v.trim().to_string());
            }
        }
        out
    }

    /// The `Subject:` with RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        decode_words(&self.header("Subject").unwrap_or_default())
    }

    /// The `Message-ID:`.
    pub fn message_id(&self) -> String {
        self.header("Message-ID").unwrap_or_default()
    }
}

/// Decodes `=?utf-8?b?...?=` and `=?utf-8?q?...?=` words as RFC 2047 says: whitespace between
/// two encoded words is dropped, whitespace next to plain text is kept (as one space).
pub fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut previous_encoded = false;
    for token in s.split_whitespace() {
        let decoded = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut parts = t.splitn(3, '?');
                let (_charset, enc, text) = (parts.next()?, parts.next()?, parts.next()?);
                let bytes = match enc {
                    "b" | "B" => STANDARD.decode(text).ok()?,
                    "q" | "Q" => decode_q(text),
                    _ => return None,
                };
                String::from_utf8(bytes).ok()
            });
        let encoded = decoded.is_some();
        let joins_encoded_words = encoded && previous_encoded;
        if !out.is_empty() && !joins_encoded_words {
            out.push(' ');
        }
        out.push_str(decoded.as_deref().unwrap_or(token));
        previous_encoded = encoded;
    }
    out
}

fn decode_q(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'=' && i + 3 <= b.len())
            .then(|| {
                std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .flatten();
        match (b[i], hex) {
            (_, Some(v)) => {
                out.push(v);
                i += 2;
            }
            (b'_', _) => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    out
}

#[derive(Default)]
struct Inner {
    down: AtomicBool,
    connections: AtomicUsize,
    refused: AtomicUsize,
    messages: Mutex<Vec<Received>>,
}

/// The running sink; dropped with the test (its task ends with the runtime).
#[derive(Clone)]
pub struct SmtpSink {
    addr: SocketAddr,
    inner: Arc<Inner>,
}

impl SmtpSink {
    /// Binds 127.0.0.1:0 and serves in the background.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP sink");
        let addr = listener.local_addr().expect("sink address");
        let inner = Arc::new(Inner::default());
        let serving = inner.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let inner = serving.clone();
                tokio::spawn(async move {
                    let _ = session(stream, inner).await;
                });
            }
        });
        Self { addr, inner }
    }

    /// `smtp://127.0.0.1:<port>` (plain SMTP, as the sink has no TLS).
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes new connections fail (`421`, then close) until [`SmtpSink::up`].
    pub fn down(&self) {
        self.inner.down.store(true, Ordering::SeqCst);
    }

    /// Accepts mail again.
    pub fn up(&self) {
        self.inner.down.store(false, Ordering::SeqCst);
    }

    /// Every message accepted so far.
    pub fn messages(&self) -> Vec<Received> {
        self.inner
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Connections refused while down.
    pub fn refused(&self) -> usize {
        self.inner.refused.load(Ordering::SeqCst)
    }

    /// Connections accepted while up.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::SeqCst)
    }
}

async fn session(stream: TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    // Replies are small writes; without this, Nagle plus delayed ACKs add ~40 ms per command.
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    if inner.down.load(Ordering::SeqCst) {
        inner.refused.fetch_add(1, Ordering::SeqCst);
        write.write_all(b"421 4.3.2 sink is down\r\n").await?;
        return write.shutdown().await;
    }
    inner.connections.fetch_add(1, Ordering::SeqCst);
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut rcpt = vec![];
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = addr_of(&cmd["MAIL FROM:".len()..]);
            rcpt.clear();
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            rcpt.push(addr_of(&cmd["RCPT TO:".len()..]));
            b"250 2.1.5 ok\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            inner
                .messages
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(Received {
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut rcpt),
                    data,
                });
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" {
            from.clear();
            rcpt.clear();
            b"250 2.0.0 ok\r\n"
        } else if upper.starts_with("NOOP") {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return write.shutdown().await;
        } else {
            b"502 5.5.2 command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// `<a@b> BODY=8BITMIME` → `a@b`.
fn addr_of(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(s), Some(e)) if e > s => arg[s + 1..e].to_string(),
        _ => arg
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_encoded_words() {
        assert_eq!(decode_words("=?utf-8?b?5L2g5aW9?="), "你好");
        assert_eq!(decode_words("=?utf-8?q?a_b=3D?="), "a b=");
        assert_eq!(decode_words("plain words"), "plain words");
    }
}
