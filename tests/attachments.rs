//! Attachments over real HTTP and WebSockets on loopback: a user's image reaches the agent
//! and an agent's PDF the user, both downloaded byte for byte with headers that keep a
//! browser from rendering them as a page; bad uploads (oversize, a type not allowed, an
//! executable named .png, a path as the name) refused naming the field with nothing stored;
//! foreign attachment URLs refused; a crash between the bytes and their event leaves nothing
//! anybody can fetch.

mod common;

use common::*;
use helpline::api::{self, ApiConfig};
use helpline::log::EventLog;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0";
const PE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0";
const ZIP: &[u8] = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Posts raw bytes to `path` with `query` (encoded as a browser would).
async fn upload(
    s: &Server,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
    bytes: &[u8],
) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(format!("{}{path}", s.base))
        .bearer_auth(token)
        .query(query)
        .header("content-type", "application/octet-stream")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// GETs `path`: the status, the headers and the bytes.
async fn download(
    s: &Server,
    token: &str,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let resp = s
        .http
        .get(format!("{}{path}", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The log's `AttachmentStored` events.
fn stored_events(s: &Server) -> usize {
    s.log
        .read_from(1)
        .filter(|e| {
            matches!(
                e.as_ref().unwrap().event,
                helpline::domain::event::Event::AttachmentStored { .. }
            )
        })
        .count()
}

/// An agent takes the offer its socket got; answers the session id.
async fn take_offer(agent: &mut Ws) -> u64 {
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    agent.until(of_type("seated")).await;
    session
}

/// A served chat: the user (`u1`) wrote "hello" and agent ann took it.
struct Chat {
    admin: String,
    end: UserEnd,
    user_token: String,
    user: Ws,
    agent_token: String,
    agent: Ws,
    session: u64,
    conversation: u64,
}

async fn chat(s: &Server) -> Chat {
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, true, true)).await;
    let (_, agent_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let now = s.state.clock.now_ms() / 1_000;
    let user_token = user_token(&end.secret, 1, "u1", now + 3_600);
    let mut user = s.user_socket(&user_token, "").await;
    let mut agent = s.agent_socket(&agent_token).await;
    user.send(json!({"type": "send", "to": "desk", "msgId": "m1",
                     "body": {"type": "text", "text": "hello"}}))
        .await;
    let ack = user.until(of_type("ack")).await;
    let conversation = ack["conversationId"].as_u64().unwrap();
    let session = take_offer(&mut agent).await;
    Chat {
        admin,
        end,
        user_token,
        user,
        agent_token,
        agent,
        session,
        conversation,
    }
}

#[tokio::test]
async fn files_go_both_ways_and_come_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let mut c = chat(&s).await;

    // The user's image: stored and sent in one step.
    let (status, ack) = upload(
        &s,
        &c.user_token,
        "/im/attachments",
        &[
            ("to", "desk"),
            ("msgId", "img-1"),
            ("name", "screen shot.png"),
        ],
        PNG,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    assert_eq!(
        ack,
        json!({"conversationId": c.conversation, "seq": 2, "msgId": "img-1", "duplicate": false,
               "attachment": {"attachmentId": 1, "name": "screen shot.png", "contentType": "image/png",
                              "size": PNG.len(), "sha256": sha256(PNG)}})
    );
    let body = json!({"type": "file", "attachmentId": 1, "name": "screen shot.png",
                      "contentType": "image/png", "size": PNG.len()});
    let got = c.agent.until(of_type("message")).await;
    assert_eq!(
        (got["from"].as_str(), &got["body"]),
        (Some("user"), &body),
        "{got}"
    );
    let history = s
        .get(
            &c.user_token,
            &format!("/im/conversations/{}/messages?after=1", c.conversation),
        )
        .await;
    assert_eq!(history[0]["body"], body, "{history}");

    // The agent downloads it: an image, shown inline, never sniffed.
    let path = format!("/conversations/{}/attachments/1", c.conversation);
    let (status, headers, bytes) = download(&s, &c.agent_token, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(
        header(&headers, "content-disposition"),
        "inline; filename=\"screen shot.png\"; filename*=UTF-8''screen%20shot.png"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert!(header(&headers, "content-security-policy").contains("sandbox"));
    // The user too, on its own route.
    let (status, _, bytes) = download(
        &s,
        &c.user_token,
        &format!("/im/conversations/{}/attachments/1", c.conversation),
    )
    .await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));

    // The same upload again is the same message: nothing new stored.
    let (status, again) = upload(
        &s,
        &c.user_token,
        "/im/attachments",
        &[
            ("to", "desk"),
            ("msgId", "img-1"),
            ("name", "screen shot.png"),
        ],
        PNG,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["duplicate"].as_bool(), again["seq"].as_u64()),
        (Some(true), Some(2))
    );
    assert_eq!(again["attachment"], ack["attachment"]);

    // The agent's PDF reaches the user, as a download.
    let (status, sent) = upload(
        &s,
        &c.agent_token,
        &format!("/sessions/{}/attachments", c.session),
        &[("name", "offer.pdf")],
        PDF,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["attachment"]["attachmentId"], 2);
    assert_eq!(sent["attachment"]["contentType"], "application/pdf");
    let message = c
        .user
        .until(|v| v["type"] == "message" && v["body"]["type"] == "file" && v["from"] == "desk")
        .await;
    assert_eq!(
        message["body"],
        json!({"type": "file", "attachmentId": 2, "name": "offer.pdf",
               "contentType": "application/pdf", "size": PDF.len()})
    );
    let (status, headers, bytes) = download(
        &s,
        &c.user_token,
        &format!("/im/conversations/{}/attachments/2", c.conversation),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sha256(&bytes),
        sent["attachment"]["sha256"].as_str().unwrap()
    );
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    assert!(header(&headers, "content-disposition").starts_with("attachment; "));

    // An administrator sees it as the records do.
    let (status, _, bytes) = download(&s, &c.admin, &path).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PNG));

    // Two files, two events, two files on disk.
    assert_eq!(stored_events(&s), 2);
    assert_eq!(s.state.attachments.total(), 2);
    let _ = &c.end;
    s.stop().await;
}

#[tokio::test]
async fn bad_uploads_are_refused_naming_the_field_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ApiConfig {
        public_url: Some("https://desk.example.com/".to_owned()),
        ..ApiConfig::default()
    };
    config.attachments.max_bytes = 1024;
    config.token_ttl_secs = api::DEFAULT_TOKEN_TTL_SECS;
    let s = Server::start_with(dir.path(), config).await;
    let c = chat(&s).await;
    let big = [PDF, &vec![b' '; 2048][..]].concat();
    let cases: [(&str, &[u8], StatusCode, &str); 8] = [
        ("big.pdf", &big, StatusCode::PAYLOAD_TOO_LARGE, "file"),
        ("archive.zip", ZIP, StatusCode::BAD_REQUEST, "file"),
        ("cat.png", ELF, StatusCode::BAD_REQUEST, "file"),
        ("cat.png", PE, StatusCode::BAD_REQUEST, "file"),
        ("../x.png", PNG, StatusCode::BAD_REQUEST, "name"),
        ("a/b.png", PNG, StatusCode::BAD_REQUEST, "name"),
        ("cat.pdf", PNG, StatusCode::BAD_REQUEST, "name"),
        ("empty.txt", b"", StatusCode::BAD_REQUEST, "file"),
    ];
    let session_path = format!("/sessions/{}/attachments", c.session);
    for (name, bytes, status, field) in cases {
        let (got, body) = upload(
            &s,
            &c.user_token,
            "/im/attachments",
            &[("to", "desk"), ("msgId", "bad"), ("name", name)],
            bytes,
        )
        .await;
        assert_eq!(
            (got, field_of(&body)),
            (status, field),
            "user {name}: {body}"
        );
        assert!(
            body["error"]["message"].as_str().unwrap().len() > 10,
            "a clear message: {body}"
        );
        let (got, body) = upload(&s, &c.agent_token, &session_path, &[("name", name)], bytes).await;
        assert_eq!(
            (got, field_of(&body)),
            (status, field),
            "agent {name}: {body}"
        );
    }
    // A body that claims more than the limit is refused before it is read.
    let (got, body) = upload(
        &s,
        &c.user_token,
        "/im/attachments",
        &[("to", "desk"), ("msgId", "bad"), ("name", "big.pdf")],
        &vec![0u8; 200_000],
    )
    .await;
    assert_eq!(
        (got, field_of(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "file")
    );
    // Nothing stored: no file, no event, no message past the user's "hello".
    assert_eq!(s.state.attachments.total(), 0);
    assert_eq!(stored_events(&s), 0);
    let history = s
        .get(
            &c.user_token,
            &format!("/im/conversations/{}/messages?after=0", c.conversation),
        )
        .await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    // A file message naming an attachment that was never uploaded is refused too.
    let (status, body) = s
        .call(
            &c.user_token,
            Method::POST,
            "/im/messages",
            Some(json!({"to": "desk", "msgId": "forged",
                        "body": {"type": "file", "attachmentId": 1, "name": "x.png",
                                 "contentType": "image/png", "size": 1}})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "body.attachmentId"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn foreign_attachment_urls_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let c = chat(&s).await;
    let (status, _) = upload(
        &s,
        &c.user_token,
        "/im/attachments",
        &[("to", "desk"), ("msgId", "img-1"), ("name", "a.png")],
        PNG,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let user_path = format!("/im/conversations/{}/attachments/1", c.conversation);
    let desk_path = format!("/conversations/{}/attachments/1", c.conversation);

    // Another user of the same app: as if it did not exist.
    let now = s.state.clock.now_ms() / 1_000;
    let other_user = user_token(&c.end.secret, 1, "u2", now + 3_600);
    let (status, _, bytes) = download(&s, &other_user, &user_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!bytes.starts_with(b"\x89PNG"));
    // A user token on the desk's route, a sign-in on the user's: refused.
    let (status, _, _) = download(&s, &c.user_token, &desk_path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = download(&s, &c.agent_token, &user_path).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An agent of the app who never served the conversation.
    let (_, bob) = s
        .agent(&c.admin, "bob@example.com", 2, &[c.end.group])
        .await;
    let (status, _, bytes) = download(&s, &bob, &desk_path).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    // Nor may bob send into ann's session.
    let (status, body) = upload(
        &s,
        &bob,
        &format!("/sessions/{}/attachments", c.session),
        &[("name", "a.png")],
        PNG,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // The administrator of another app: not found.
    let created = s
        .ok(
            &c.admin,
            Method::POST,
            "/apps",
            json!({"name": "second desk", "adminEmail": "boss@second.example"}),
        )
        .await;
    let password = created["adminPassword"].as_str().unwrap();
    let (_, body) = s.login("boss@second.example", password).await;
    let first = body["token"].as_str().unwrap().to_owned();
    let other_admin = s
        .ok(
            &first,
            Method::POST,
            "/auth/password",
            json!({"currentPassword": password, "newPassword": "second-admin-password"}),
        )
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _, _) = download(&s, &other_admin, &desk_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = upload(
        &s,
        &other_admin,
        &format!("/sessions/{}/attachments", c.session),
        &[("name", "a.png")],
        PNG,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // An id the conversation does not hold.
    let (status, _, _) = download(
        &s,
        &c.user_token,
        &format!("/im/conversations/{}/attachments/2", c.conversation),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(s.state.attachments.total(), 1);
    s.stop().await;
}

#[tokio::test]
async fn a_crash_between_file_and_event_leaves_nothing_visible() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let c = chat(&s).await;
    let (status, _) = upload(
        &s,
        &c.user_token,
        "/im/attachments",
        &[("to", "desk"), ("msgId", "img-1"), ("name", "a.png")],
        PNG,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (user_token, conversation) = (c.user_token.clone(), c.conversation);
    drop(c);
    s.stop().await;

    // What a crash after writing the bytes, before appending their event, leaves: the next
    // id's file (and a temporary one).
    let folder = dir
        .path()
        .join("attachments")
        .join(conversation.to_string());
    std::fs::write(folder.join("2"), PDF).unwrap();
    std::fs::write(folder.join(".3.part"), PDF).unwrap();

    let s = Server::start(dir.path()).await;
    assert_eq!(s.state.attachments.total(), 1, "the leftovers are swept");
    let (status, _, _) = download(
        &s,
        &user_token,
        &format!("/im/conversations/{conversation}/attachments/2"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The next upload takes id 2, with its own bytes.
    let (status, ack) = upload(
        &s,
        &user_token,
        "/im/attachments",
        &[("to", "desk"), ("msgId", "txt-1"), ("name", "notes.txt")],
        b"the next file\n",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ack}");
    assert_eq!(ack["attachment"]["attachmentId"], 2);
    let (status, headers, bytes) = download(
        &s,
        &user_token,
        &format!("/im/conversations/{conversation}/attachments/2"),
    )
    .await;
    assert_eq!(
        (status, bytes.as_slice()),
        (StatusCode::OK, &b"the next file\n"[..])
    );
    assert_eq!(
        header(&headers, "content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(stored_events(&s), 2);
    s.stop().await;
}
