//! The server's connection limits over real TCP on loopback: a half-sent request is closed
//! after the header read timeout, a request body that stops coming after the idle timeout,
//! a connection over the cap is closed at once (and a slot freed serves again), and a
//! WebSocket whose peer never answers the server's pings is closed while one that answers
//! stays open. The limits are set small in each test's configuration; the tests wait for
//! the server to act, bounded, and assert no durations.

mod common;

use common::*;
use futures_util::StreamExt;
use helpline::api::{ApiConfig, ServerConfig};
use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn limits(server: ServerConfig) -> ApiConfig {
    ApiConfig {
        public_url: Some("https://desk.example.com/".to_owned()),
        server,
        ..ApiConfig::default()
    }
}

/// Reads until the server closes the connection (bounded); answers what it sent.
async fn until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let read = tokio::time::timeout(FRAME_WAIT, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => all.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    all
}

#[tokio::test]
async fn a_half_sent_request_is_closed_after_the_header_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        limits(ServerConfig {
            header_read_timeout_secs: 1,
            ..ServerConfig::default()
        }),
    )
    .await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(b"GET /api/v1/auth/me HTTP/1.1\r\nHost: desk\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut tcp).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("200 OK"),
        "a half request was answered"
    );
    // The server still serves whole requests.
    let (status, _) = s.call("", Method::GET, "/auth/me", None).await;
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn a_request_body_that_stops_coming_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        limits(ServerConfig {
            idle_timeout_secs: 2,
            ws_ping_secs: 1,
            ..ServerConfig::default()
        }),
    )
    .await;
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: desk\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"email\":",
    )
    .await
    .unwrap();
    until_closed(&mut tcp).await;
    s.stop().await;
}

#[tokio::test]
async fn a_connection_over_the_cap_is_closed_at_once_and_a_freed_slot_serves_again() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        limits(ServerConfig {
            max_connections: 2,
            // The held connections stay however slow the machine.
            header_read_timeout_secs: 3_600,
            idle_timeout_secs: 3_600,
            ..ServerConfig::default()
        }),
    )
    .await;
    let request = b"GET /api/v1/auth/me HTTP/1.1\r\nHost: desk\r\nConnection: close\r\n\r\n";
    // Two connections hold the two slots (each answered once, so each is surely accepted).
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(s.addr).await.unwrap();
        tcp.write_all(b"GET /api/v1/auth/me HTTP/1.1\r\nHost: desk\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 401"));
        held.push(tcp);
    }
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    let _ = third.write_all(request).await;
    let answer = until_closed(&mut third).await;
    assert!(answer.is_empty(), "over the cap, yet answered");

    drop(held);
    // The server frees a slot once it sees the close; a bounded number of tries.
    let mut served = false;
    for _ in 0..200 {
        let mut tcp = TcpStream::connect(s.addr).await.unwrap();
        let _ = tcp.write_all(request).await;
        if String::from_utf8_lossy(&until_closed(&mut tcp).await).starts_with("HTTP/1.1 401") {
            served = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(served, "a freed slot never served again");
    s.stop().await;
}

/// Opens a user socket by hand, so nothing answers the server's pings.
async fn raw_user_socket(s: &Server, token: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(s.addr).await.unwrap();
    let request = format!(
        "GET /ws/im?token={token} HTTP/1.1\r\nHost: desk\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(
        String::from_utf8_lossy(&head).starts_with("HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

#[tokio::test]
async fn a_websocket_that_never_answers_pings_is_closed_and_one_that_answers_stays() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        limits(ServerConfig {
            ws_ping_secs: 1,
            idle_timeout_secs: 60,
            ..ServerConfig::default()
        }),
    )
    .await;
    let admin = s.admin().await;
    let secret = s.ok(&admin, Method::POST, "/im/secret", json!({})).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let exp = s.state.clock.now_ms() / 1_000 + 3_600;

    // Silent: a ping arrives (0x89, empty), then the server closes.
    let mut silent = raw_user_socket(&s, &user_token(&secret, 1, "silent", exp)).await;
    let frames = until_closed(&mut silent).await;
    assert!(
        frames.windows(2).any(|w| w == [0x89, 0x00]),
        "no ping came before the close: {frames:?}"
    );

    // Answering (tungstenite answers every ping it reads): open past several pings.
    let url = format!(
        "ws://{}/ws/im?token={}",
        s.addr,
        user_token(&secret, 1, "lively", exp)
    );
    let (mut lively, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut pings = 0;
    while pings < 4 {
        let frame = tokio::time::timeout(FRAME_WAIT, lively.next())
            .await
            .expect("no frame in time");
        match frame {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(_)) => {}
            other => panic!("closed after {pings} pings: {other:?}"),
        }
    }
    let _ = lively.close(None).await;
    s.stop().await;
}
