//! A Lambda function for the runtime stand-in's tests, speaking the Runtime API with nothing but
//! std: each event `{"bytes": N, "sleepMs": M}` is answered, after M ms, with a JSON response of
//! about N bytes that names the process (`{"pid": …, "pad": "xxx…"}`), so tests can see Lambda's
//! payload limits and how many execution environments served them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_else(|_| "127.0.0.1:9001".to_owned());
    loop {
        let Some((headers, event)) = call(&api, "GET", "/2018-06-01/runtime/invocation/next", b"") else { return };
        let id = headers
            .iter()
            .find_map(|h| h.strip_prefix("lambda-runtime-aws-request-id: "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        let text = String::from_utf8_lossy(&event);
        let bytes = number(&text, "\"bytes\":").unwrap_or(16) as usize;
        let sleep = number(&text, "\"sleepMs\":").unwrap_or(0);
        std::thread::sleep(std::time::Duration::from_millis(sleep));
        let head = format!("{{\"pid\":{},\"pad\":\"", std::process::id());
        let mut body = head.into_bytes();
        body.resize(bytes.saturating_sub(2).max(body.len()), b'x');
        body.extend_from_slice(b"\"}");
        let _ = call(&api, "POST", &format!("/2018-06-01/runtime/invocation/{id}/response"), &body);
    }
}

/// The digits after `key` in `text`.
fn number(text: &str, key: &str) -> Option<u64> {
    let rest = text.split(key).nth(1)?.trim_start();
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}

/// One HTTP/1.1 exchange: the response's header lines (lower-cased names) and body.
fn call(api: &str, method: &str, path: &str, body: &[u8]) -> Option<(Vec<String>, Vec<u8>)> {
    let mut s = TcpStream::connect(api).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut r = BufReader::new(s);
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        let lower = match line.split_once(':') {
            Some((k, v)) => format!("{}:{v}", k.to_ascii_lowercase()),
            None => line,
        };
        headers.push(lower);
    }
    let mut out = Vec::new();
    r.read_to_end(&mut out).ok()?;
    Some((headers, out))
}
