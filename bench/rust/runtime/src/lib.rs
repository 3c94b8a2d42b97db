//! A minimal AWS Lambda Runtime API client over `std` only, for the benchmark workspaces.
//!
//! Like the test fixtures' `shared` crate (one HTTP/1.1 request per connection, bodies by
//! `Content-Length`, chunked or to EOF), but `AWS_LAMBDA_RUNTIME_API` may carry a path prefix
//! (`127.0.0.1:9000/.rt/echo`, what `cargo lambda watch` hands its functions) as well as a bare
//! `host:port` (Lambda, rustlambda's emulator).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

struct Api {
    authority: String,
    prefix: String,
}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Api {
    fn from_env() -> Result<Api, String> {
        let raw = std::env::var("AWS_LAMBDA_RUNTIME_API")
            .map_err(|_| "AWS_LAMBDA_RUNTIME_API is not set".to_string())?;
        let raw = raw.trim_start_matches("http://");
        Ok(match raw.find('/') {
            Some(slash) => Api {
                authority: raw[..slash].to_string(),
                prefix: raw[slash..].trim_end_matches('/').to_string(),
            },
            None => Api {
                authority: raw.to_string(),
                prefix: String::new(),
            },
        })
    }

    fn call(&self, method: &str, path: &str, body: &[u8]) -> io::Result<Response> {
        let mut stream = TcpStream::connect(&self.authority)?;
        stream.set_nodelay(true)?;
        let head = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.prefix,
            self.authority,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        read_response(BufReader::new(stream))
    }
}

fn read_response(mut reader: BufReader<TcpStream>) -> io::Result<Response> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        if let Some((key, value)) = text.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut response = Response { status, headers, body: Vec::new() };
    let length = response.header("content-length").and_then(|v| v.parse::<usize>().ok());
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if let Some(length) = length {
        response.body.resize(length, 0);
        reader.read_exact(&mut response.body)?;
    } else if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or("0");
            let size = usize::from_str_radix(size_text, 16).map_err(io::Error::other)?;
            if size == 0 {
                break;
            }
            let start = response.body.len();
            response.body.resize(start + size, 0);
            reader.read_exact(&mut response.body[start..])?;
            line.clear();
            reader.read_line(&mut line)?;
        }
    } else {
        reader.read_to_end(&mut response.body)?;
    }
    Ok(response)
}

fn fail(message: String) -> ! {
    eprintln!("runtime: {message}");
    std::process::exit(1)
}

/// Serve invocations forever: each event's raw bytes go to `handler`, its bytes are the answer.
pub fn run(handler: impl Fn(&[u8]) -> Vec<u8>) -> ! {
    let api = Api::from_env().unwrap_or_else(|message| fail(message));
    loop {
        let next = api
            .call("GET", NEXT, b"")
            .unwrap_or_else(|err| fail(format!("next invocation: {err}")));
        if next.status != 200 {
            fail(format!("next invocation: HTTP {}", next.status));
        }
        let request_id = next
            .header("lambda-runtime-aws-request-id")
            .unwrap_or_else(|| fail("no Lambda-Runtime-Aws-Request-Id".to_string()))
            .to_string();
        let answer = handler(&next.body);
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        match api.call("POST", &path, &answer) {
            Ok(done) if done.status < 300 => {}
            Ok(done) => fail(format!("response: HTTP {}", done.status)),
            Err(err) => fail(format!("response: {err}")),
        }
    }
}

/// The answer of the benchmark functions: `{"function":NAME,"event":<the raw event>}`; for an
/// HTTP event (a function URL's, with `rawPath`) an HTTP response whose body is `echo NAME`
/// (with every field of the response type: `cargo lambda watch` refuses one without them).
pub fn echo(function: &str, event: &[u8]) -> Vec<u8> {
    if event.windows(10).any(|w| w == b"\"rawPath\":") {
        return format!(
            "{{\"statusCode\":200,\"headers\":{{\"content-type\":\"text/plain\"}},\"isBase64Encoded\":false,\"cookies\":[],\"multiValueHeaders\":{{}},\"body\":\"echo {function}\"}}"
        )
        .into_bytes();
    }
    let mut out = Vec::with_capacity(event.len() + function.len() + 32);
    out.extend_from_slice(b"{\"function\":\"");
    out.extend_from_slice(function.as_bytes());
    out.extend_from_slice(b"\",\"event\":");
    out.extend_from_slice(if event.is_empty() { b"null" } else { event });
    out.push(b'}');
    out
}
