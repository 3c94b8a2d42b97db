//! A tiny blocking client for the AWS Lambda Runtime API, using only `std`.
//!
//! ```no_run
//! fn handler(event: &str) -> Result<String, String> {
//!     Ok(format!("{{\"length\":{}}}", event.len()))
//! }
//!
//! fn main() {
//!     tiny_runtime::run(handler)
//! }
//! ```
//!
//! The Runtime API (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>)
//! is plain HTTP/1.1 at `$AWS_LAMBDA_RUNTIME_API`:
//! `GET /2018-06-01/runtime/invocation/next` returns an event and its request
//! id; the answer goes to `POST .../invocation/{id}/response` or `.../error`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

const API: &str = "/2018-06-01/runtime";
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// A handler takes the raw event JSON and returns the raw answer JSON, or an
/// error message (reported to Lambda as `errorType` `HandlerError`).
pub type Handler = fn(&str) -> Result<String, String>;

/// Serve invocations forever; exit with status 1 if the Runtime API is gone.
pub fn run(handler: Handler) -> ! {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").unwrap_or_else(|_| {
        eprintln!("AWS_LAMBDA_RUNTIME_API is not set: run this under Lambda or an emulator");
        std::process::exit(1)
    });
    loop {
        let (request_id, event) = match next_event(&api) {
            Ok(next) => next,
            Err(err) => {
                eprintln!("cannot fetch the next event: {err}");
                std::process::exit(1)
            }
        };
        let posted = match handler(&event) {
            Ok(answer) => post(
                &api,
                &format!("{API}/invocation/{request_id}/response"),
                &answer,
            ),
            Err(message) => {
                let body = format!(
                    "{{\"errorMessage\":{},\"errorType\":\"HandlerError\"}}",
                    json_string(&message)
                );
                post(&api, &format!("{API}/invocation/{request_id}/error"), &body)
            }
        };
        if let Err(err) = posted {
            eprintln!("cannot post the result of {request_id}: {err}");
        }
    }
}

/// `s` as a quoted JSON string.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The string value of the first `"key": "value"` pair in a flat JSON object.
///
/// Deliberately minimal (no nesting awareness); a real function would use
/// `serde_json`.
pub fn find_string(json: &str, key: &str) -> Option<String> {
    let needle = json_string(key);
    let mut rest = json;
    while let Some(pos) = rest.find(&needle) {
        rest = &rest[pos + needle.len()..];
        let Some(value) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let mut chars = value.trim_start().strip_prefix('"')?.chars();
        let mut out = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'b' => out.push('\u{08}'),
                    'f' => out.push('\u{0c}'),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        let code = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    }
                    other => out.push(other), // \" \\ \/
                },
                c => out.push(c),
            }
        }
    }
    None
}

fn next_event(api: &str) -> io::Result<(String, String)> {
    let (status, headers, body) = request(api, "GET", &format!("{API}/invocation/next"), "")?;
    if status != 200 {
        return Err(io::Error::other(format!("next: HTTP {status}")));
    }
    let request_id = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("Lambda-Runtime-Aws-Request-Id"))
        .map(|(_, value)| value.clone())
        .ok_or_else(|| io::Error::other("next: no Lambda-Runtime-Aws-Request-Id header"))?;
    Ok((request_id, body))
}

fn post(api: &str, path: &str, body: &str) -> io::Result<()> {
    match request(api, "POST", path, body)? {
        (status, _, _) if (200..300).contains(&status) => Ok(()),
        (status, _, text) => Err(io::Error::other(format!("HTTP {status}: {text}"))),
    }
}

type Headers = Vec<(String, String)>;

/// One HTTP/1.1 request on its own connection (`Connection: close`).
fn request(api: &str, method: &str, path: &str, body: &str) -> io::Result<(u16, Headers, String)> {
    let mut stream = TcpStream::connect(api)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad status line"))?;

    let mut headers = Vec::new();
    let mut length = None;
    for _ in 0..256 {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break; // the empty line ending the headers
        };
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        if name.eq_ignore_ascii_case("Content-Length") {
            length = value.parse::<u64>().ok();
        }
        headers.push((name, value));
    }

    let mut body = Vec::new();
    match length {
        Some(n) if n <= MAX_BODY => {
            body.resize(n as usize, 0);
            reader.read_exact(&mut body)?;
        }
        Some(_) => return Err(io::Error::new(io::ErrorKind::InvalidData, "body too large")),
        // Without Content-Length the body ends when the server closes.
        None => {
            reader.take(MAX_BODY).read_to_end(&mut body)?;
        }
    }
    Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        let json = format!("{{\"name\": {}}}", json_string("Ann \"A\" \\ \n"));
        assert_eq!(
            find_string(&json, "name").as_deref(),
            Some("Ann \"A\" \\ \n")
        );
        assert_eq!(
            find_string(r#"{"x":"name","name":"B"}"#, "name").as_deref(),
            Some("B")
        );
        assert_eq!(find_string(r#"{"name":3}"#, "name"), None);
    }
}
