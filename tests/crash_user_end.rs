//! Crash test of the user end: `kill -9` a serving helpline while users write to it over
//! REST and the WebSocket, restart it on the same data, and check that every message it had
//! acknowledged is there with the `seq` it was acknowledged with, that each conversation's
//! seqs are dense, and that sending an unacknowledged message again is idempotent.
//!
//! `CRASH_SEED=N cargo test --test crash_user_end` runs one seed.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_helpline");
const PASSWORD: &str = "crash-test-admin-password";
const SEEDS: u64 = 3;
/// Senders over REST; one more writes over the WebSocket.
const REST_USERS: u64 = 3;

/// A server killed when the test ends, even by a failed assertion.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Starts `helpline serve` on `data`; answers it once it serves, and its port.
fn serve(data: &Path) -> (Reaped, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The senders write without pause: the user end's rate limits would stop them before
    // the kill, so they are raised out of the way (the crash is what is tested).
    let config = data.join("crash-test.toml");
    std::fs::write(
        &config,
        "[user_end]\nmessages_per_user = { burst = 1000000, per_minute = 1000000 }\n",
    )
    .unwrap();
    let mut child = Reaped(
        Command::new(BIN)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(data)
            .arg("--config")
            .arg(&config)
            .env("HELPLINE_ADMIN_PASSWORD", PASSWORD)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            panic!("serve stopped before serving: {seen}");
        }
        seen.push_str(&line);
        if line.contains("serving") {
            break;
        }
    }
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        while stderr.read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    (child, port)
}

async fn call(http: &reqwest::Client, port: u16, token: &str, path: &str, body: Value) -> Value {
    let resp = http
        .post(format!("http://127.0.0.1:{port}/api/v1{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.unwrap_or(Value::Null)
}

/// Acknowledged messages: (user, msgId) -> seq.
type Acked = Arc<Mutex<HashMap<(String, String), u64>>>;

async fn round(seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    // Private, as serve wants its data directory.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let http = reqwest::Client::new();
    let (server, port) = serve(dir.path());
    let login = http
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .json(&json!({"email": "admin@helpline.local", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let admin = login["token"].as_str().unwrap().to_owned();
    let secret = call(&http, port, &admin, "/im/secret", json!({})).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = call(
        &http,
        port,
        &admin,
        "/skill-groups",
        json!({"name": "g", "receptionLimit": 3}),
    )
    .await["id"]
        .as_u64()
        .unwrap();
    call(
        &http,
        port,
        &admin,
        "/channels",
        json!({"name": "desk", "kind": {"type": "in_app", "userId": "desk"}, "skillGroup": group}),
    )
    .await;
    let exp = helpline::clock::wall_now_ms() / 1_000 + 3_600;
    let token = |user: &str| {
        helpline::im::token::mint(
            secret.as_bytes(),
            &helpline::im::token::UserClaims {
                app: helpline::domain::ids::AppId(1),
                sub: user.to_owned(),
                exp,
            },
        )
    };

    let acked: Acked = Arc::default();
    let kill_after = 40 + mix(seed) % 300;
    let done = Arc::new(tokio::sync::Notify::new());
    let mut senders = Vec::new();
    for u in 0..REST_USERS {
        let (http, acked, done) = (http.clone(), acked.clone(), done.clone());
        let user = format!("rest-{u}");
        let bearer = token(&user);
        senders.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"to": "desk", "msgId": format!("m{i}"),
                                  "body": {"type": "text", "text": format!("{user} {i}")}});
                let Ok(resp) = http
                    .post(format!("http://127.0.0.1:{port}/api/v1/im/messages"))
                    .bearer_auth(&bearer)
                    .json(&body)
                    .send()
                    .await
                else {
                    break;
                };
                let Ok(v) = resp.json::<Value>().await else {
                    break;
                };
                let Some(seq) = v["seq"].as_u64() else { break };
                let mut a = acked.lock().unwrap();
                a.insert((user.clone(), format!("m{i}")), seq);
                if a.len() as u64 >= kill_after {
                    done.notify_one();
                }
            }
        }));
    }
    {
        let (acked, done) = (acked.clone(), done.clone());
        let url = format!("ws://127.0.0.1:{port}/ws/im?token={}", token("ws-0"));
        senders.push(tokio::spawn(async move {
            let (socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
            let (mut tx, mut rx) = socket.split();
            for i in 0.. {
                let frame = json!({"type": "send", "to": "desk", "msgId": format!("m{i}"),
                                   "body": {"type": "text", "text": format!("ws {i}")}});
                let msg = tokio_tungstenite::tungstenite::Message::text(frame.to_string());
                if tx.send(msg).await.is_err() {
                    break;
                }
                // Only the ack counts: it comes once the message is durable.
                let seq = loop {
                    match rx.next().await {
                        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) => {
                            let v: Value = serde_json::from_str(t.as_str()).unwrap();
                            if v["type"] == "ack" {
                                break v["seq"].as_u64();
                            }
                        }
                        Some(Ok(_)) => continue,
                        _ => break None,
                    }
                };
                let Some(seq) = seq else { break };
                let mut a = acked.lock().unwrap();
                a.insert(("ws-0".to_owned(), format!("m{i}")), seq);
                if a.len() as u64 >= kill_after {
                    done.notify_one();
                }
            }
        }));
    }
    done.notified().await;
    drop(server); // SIGKILL
    for s in senders {
        let _ = s.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() as u64 >= kill_after);

    // Restarted: every acknowledged message, at its seq; dense seqs; retries idempotent.
    let (_server, port) = serve(dir.path());
    let mut by_user: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for ((user, msg), seq) in &acked {
        by_user
            .entry(user.clone())
            .or_default()
            .push((msg.clone(), *seq));
    }
    for (user, sent) in by_user {
        let bearer = token(&user);
        let list: Value = http
            .get(format!("http://127.0.0.1:{port}/api/v1/im/conversations"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let conversation = list[0]["id"].as_u64().unwrap();
        let mut stored: Vec<Value> = Vec::new();
        loop {
            let after = stored.last().map_or(0, |m| m["seq"].as_u64().unwrap());
            let page: Vec<Value> = http
                .get(format!(
                    "http://127.0.0.1:{port}/api/v1/im/conversations/{conversation}/messages?after={after}&limit=100"
                ))
                .bearer_auth(&bearer)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            stored.extend(page);
        }
        let seqs: Vec<u64> = stored.iter().map(|m| m["seq"].as_u64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=stored.len() as u64).collect::<Vec<_>>(),
            "seed {seed}: {user} dense"
        );
        let at: HashMap<&str, u64> = stored
            .iter()
            .map(|m| (m["msgId"].as_str().unwrap(), m["seq"].as_u64().unwrap()))
            .collect();
        assert_eq!(at.len(), stored.len(), "seed {seed}: no msgId twice");
        for (msg, seq) in &sent {
            assert_eq!(
                at.get(msg.as_str()),
                Some(seq),
                "seed {seed}: {user} {msg} acked at {seq}"
            );
        }
        // The last stored message may have been stored without its ack reaching the client:
        // sending it again is the same message.
        let last = format!("m{}", stored.len() - 1);
        let again = call(
            &http,
            port,
            &bearer,
            "/im/messages",
            json!({"to": "desk", "msgId": last, "body": {"type": "text", "text": "again"}}),
        )
        .await;
        assert_eq!(
            (again["seq"].as_u64(), again["duplicate"].as_bool()),
            (Some(stored.len() as u64), Some(true)),
            "seed {seed}: {again}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_user_messages_survive_kill_9() {
    let seeds: Vec<u64> = match std::env::var("CRASH_SEED") {
        Ok(s) => vec![s.parse().unwrap()],
        Err(_) => (0..SEEDS).collect(),
    };
    for seed in seeds {
        round(seed).await;
    }
}
