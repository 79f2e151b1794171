//! The public end's limits over real HTTP and WebSockets on loopback: new visitors per
//! address and per channel, messages and bytes per user (a `rate_limited` frame on the
//! socket, a 429 over REST, nothing stored), sockets per user, the visitor cookie's Origin
//! check and its scope per channel, a website channel's launcher appearance (checked, kept,
//! replayed), visitors writing only to their own website channel, and
//! user sockets closed when their token expires or its secret's grace ends (paused clock).

mod common;

use common::*;
use helpline::api::ApiConfig;
use helpline::api::user_limits::UserEndLimits;
use helpline::domain::rate::Rate;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A custom body of about 48 KB: three parts of 16,000 bytes each.
fn heavy_body() -> Value {
    let data = json!({"k": "a".repeat(15_990)}).to_string();
    json!({"type": "custom", "data": data, "description": "b".repeat(16_000),
           "extension": "c".repeat(16_000)})
}

fn config(limits: UserEndLimits) -> ApiConfig {
    ApiConfig {
        public_url: Some("https://desk.example.com/".to_owned()),
        user_end: limits,
        ..ApiConfig::default()
    }
}

/// A website channel bound to `group`: its id and webAppId.
async fn website(s: &Server, admin: &str, group: u64, name: &str) -> (u64, String) {
    let created = s
        .ok(
            admin,
            Method::POST,
            "/channels",
            json!({"name": name, "kind": {"type": "website"}, "skillGroup": group}),
        )
        .await;
    (
        created["id"].as_u64().unwrap(),
        created["kind"]["webAppId"].as_str().unwrap().to_owned(),
    )
}

/// A new visitor of `site`: the response's status, body and the cookie pair it set.
async fn visit(
    s: &Server,
    site: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, Option<String>) {
    let mut req = s.http.post(format!("{}/web/{site}/visitor", s.base));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned());
    let retry = resp.headers().get("retry-after").cloned();
    let mut body: Value = resp.json().await.unwrap();
    if let Some(retry) = retry {
        body["retry_after_header"] = json!(retry.to_str().unwrap());
    }
    (status, body, cookie)
}

async fn refusals(s: &Server, reason: &str) -> f64 {
    let text = s
        .http
        .get(format!("{}/metrics", s.base.trim_end_matches("/api/v1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("helpline_user_refusals_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn one_address_mints_a_bounded_number_of_visitors_and_returning_ones_pass() {
    helpline::stats::export::recorder();
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        config(UserEndLimits {
            visitors_per_address: Rate::new(3, 1),
            ..Default::default()
        }),
    )
    .await;
    let admin = s.admin().await;
    let group = s.group(&admin, "web").await;
    let (_, site) = website(&s, &admin, group, "Website").await;
    let before = refusals(&s, "visitors_per_address").await;

    let mut cookies = Vec::new();
    for _ in 0..3 {
        let (status, body, cookie) = visit(&s, &site, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        cookies.push(cookie.unwrap());
    }
    let (status, body, cookie) = visit(&s, &site, &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    assert!(body["retry_after_header"].as_str().is_some(), "{body}");
    assert!(cookie.is_none(), "a refused visitor gets no identity");
    assert_eq!(refusals(&s, "visitors_per_address").await, before + 1.0);

    // A returning visitor is no new identity: its cookie passes whatever the count.
    let (status, body, _) = visit(&s, &site, &[("cookie", &cookies[0])]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["returning"], true);
    s.stop().await;
}

#[tokio::test]
async fn a_channel_mints_a_bounded_number_of_visitors_whatever_the_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        ApiConfig {
            trust_forwarded_for: true,
            ..config(UserEndLimits {
                visitors_per_channel: Rate::new(4, 1),
                ..Default::default()
            })
        },
    )
    .await;
    let admin = s.admin().await;
    let group = s.group(&admin, "web").await;
    let (_, site) = website(&s, &admin, group, "Website").await;
    let (_, other) = website(&s, &admin, group, "Other").await;
    for i in 0..4 {
        let address = format!("203.0.113.{i}");
        let (status, body, _) = visit(&s, &site, &[("x-forwarded-for", &address)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body, _) = visit(&s, &site, &[("x-forwarded-for", "198.51.100.9")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Another channel has its own count.
    let (status, body, _) = visit(&s, &other, &[("x-forwarded-for", "198.51.100.9")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn a_user_flooding_its_socket_is_rate_limited_and_nothing_refused_is_stored() {
    helpline::stats::export::recorder();
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 3_600);
    let mut user = s.user_socket(&token, "").await;
    let before = refusals(&s, "messages").await;

    // 60 messages of 48 KB at once: the bytes run out long before the messages.
    const SENT: usize = 60;
    for i in 0..SENT {
        user.send(
            json!({"type": "send", "to": "desk", "msgId": format!("m{i}"), "body": heavy_body()}),
        )
        .await;
    }
    let (mut acked, mut limited) = (Vec::new(), Vec::new());
    while acked.len() + limited.len() < SENT {
        let frame = user
            .until(|v| v["type"] == "ack" || v["type"] == "error")
            .await;
        if frame["type"] == "ack" {
            acked.push(frame);
        } else {
            assert_eq!(frame["error"], "rate_limited", "{frame}");
            assert!(frame["retryAfterMs"].as_u64().unwrap() > 0, "{frame}");
            assert!(frame["msgId"].as_str().is_some(), "{frame}");
            limited.push(frame);
        }
    }
    assert!(
        !acked.is_empty() && limited.len() >= SENT / 2,
        "{} taken, {} refused",
        acked.len(),
        limited.len()
    );
    let conversation = acked[0]["conversationId"].as_u64().unwrap();
    let stored = s
        .get(
            &token,
            &format!("/im/conversations/{conversation}/messages?limit=100"),
        )
        .await;
    let stored = stored.as_array().unwrap();
    assert_eq!(stored.len(), acked.len(), "only what was acked is stored");
    let refused: Vec<&str> = limited.iter().filter_map(|f| f["msgId"].as_str()).collect();
    assert!(
        stored
            .iter()
            .all(|m| !refused.contains(&m["msgId"].as_str().unwrap())),
        "a refused message is never stored"
    );
    assert!(refusals(&s, "messages").await >= before + limited.len() as f64);
    user.close().await;
    s.stop().await;
}

#[tokio::test]
async fn a_user_flooding_rest_gets_429_with_retry_after_and_nothing_stored() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 3_600);
    let (mut created, mut refused) = (0, 0);
    let mut conversation = None;
    for i in 0..30 {
        let resp = s
            .http
            .post(format!("{}/im/messages", s.base))
            .bearer_auth(&token)
            .json(&json!({"to": "desk", "msgId": format!("r{i}"), "body": heavy_body()}))
            .send()
            .await
            .unwrap();
        match resp.status() {
            StatusCode::CREATED => {
                created += 1;
                let body: Value = resp.json().await.unwrap();
                conversation = body["conversationId"].as_u64();
            }
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                let retry: u64 = resp.headers()["retry-after"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(retry >= 1);
                let body: Value = resp.json().await.unwrap();
                assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
            }
            other => panic!("{other}: {}", resp.text().await.unwrap()),
        }
    }
    assert!(
        created > 0 && refused > 0,
        "{created} created, {refused} refused"
    );
    let stored = s
        .get(
            &token,
            &format!(
                "/im/conversations/{}/messages?limit=100",
                conversation.unwrap()
            ),
        )
        .await;
    assert_eq!(stored.as_array().unwrap().len(), created);
    s.stop().await;
}

#[tokio::test]
async fn a_user_past_its_socket_cap_is_refused_at_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        config(UserEndLimits {
            sockets_per_user: 3,
            ..Default::default()
        }),
    )
    .await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 3_600);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(s.user_socket(&token, "").await);
    }
    let url = s.ws_url("/ws/im", &format!("token={token}"));
    let (status, body) = Ws::connect(&url).await.err().expect("a fourth socket");
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sockets_per_user"),
        "{body}"
    );
    // Another user is not held back by u1's sockets.
    let other = user_token(&end.secret, 1, "u2", now + 3_600);
    let mut u2 = s.user_socket(&other, "").await;
    u2.send(json!({"type": "ping"})).await;
    assert_eq!(u2.until(of_type("pong")).await["type"], "pong");
    s.stop().await;
}

#[tokio::test]
async fn a_visitor_writes_only_to_its_own_website_channel() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let (_, site) = website(&s, &admin, end.group, "Website").await;
    let (_, other) = website(&s, &admin, end.group, "Other").await;
    let (_, visitor, _) = visit(&s, &site, &[]).await;
    let token = visitor["token"].as_str().unwrap();
    let send =
        |to: &str, id: &str| json!({"to": to, "msgId": id, "body": {"type": "text", "text": "hi"}});
    // The in-app virtual number and another site are not the visitor's.
    for (to, id) in [("desk", "v1"), (other.as_str(), "v2")] {
        let (status, body) = s
            .call(token, Method::POST, "/im/messages", Some(send(to, id)))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{to}: {body}");
        assert_eq!(field_of(&body), "to", "{body}");
    }
    assert!(
        s.get(token, "/im/conversations")
            .await
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was opened"
    );
    let (status, body) = s
        .call(token, Method::POST, "/im/messages", Some(send(&site, "v3")))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The same over the socket.
    let mut ws = s.user_socket(token, "").await;
    ws.send(json!({"type": "send", "to": "desk", "msgId": "v4", "body": {"type": "text", "text": "hi"}}))
        .await;
    let refused = ws.until(of_type("error")).await;
    assert_eq!(refused["field"], "to", "{refused}");
    // An app's own user still writes to the virtual number.
    let now = s.state.clock.now_ms() / 1_000;
    let user = user_token(&end.secret, 1, "u1", now + 600);
    let (status, body) = s
        .call(
            &user,
            Method::POST,
            "/im/messages",
            Some(send("desk", "u1")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn the_visitor_cookie_opens_a_socket_only_from_an_allowed_origin() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "web").await;
    let (channel, site) = website(&s, &admin, group, "Website").await;
    let (_, visitor, cookie) = visit(&s, &site, &[]).await;
    let cookie = cookie.unwrap();
    assert!(
        cookie.starts_with(&format!("hl_visitor_{site}=")),
        "{cookie}"
    );
    let url = s.ws_url("/ws/im", &format!("webAppId={site}"));
    let open = |origin: Option<&'static str>| {
        let (url, cookie) = (url.clone(), cookie.clone());
        async move {
            let mut headers = vec![("cookie", cookie.as_str())];
            headers.extend(origin.map(|o| ("origin", o)));
            Ws::connect_with_headers(&url, &headers).await
        }
    };

    // No Origin, or another site's page: refused, naming the origin.
    for origin in [None, Some("https://evil.example")] {
        let (status, body) = open(origin).await.err().expect("refused");
        assert_eq!(status, 403, "{origin:?}: {body}");
        assert_eq!(body["error"]["code"], "origin_not_allowed", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("origin"),
            "{body}"
        );
    }
    // The desk's own chat page is always allowed.
    let mut ws = open(Some("https://desk.example.com")).await.unwrap();
    ws.send(json!({"type": "ping"})).await;
    ws.until(of_type("pong")).await;
    ws.close().await;

    // The channel allows a shop's pages; a bad origin is refused by name.
    let put = |origins: Value| {
        json!({"name": "Website", "kind": {"type": "website"}, "skillGroup": group,
               "allowedOrigins": origins})
    };
    let path = format!("/channels/{channel}");
    let (status, body) = s
        .call(
            &admin,
            Method::PUT,
            &path,
            Some(put(json!(["https://shop.example.com/cart"]))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(field_of(&body), "allowedOrigins", "{body}");
    let saved = s
        .ok(
            &admin,
            Method::PUT,
            &path,
            put(json!(["https://Shop.example.com"])),
        )
        .await;
    assert_eq!(saved["allowedOrigins"], json!(["https://shop.example.com"]));
    assert_eq!(
        s.get(&admin, &path).await["allowedOrigins"],
        json!(["https://shop.example.com"])
    );
    let mut ws = open(Some("https://shop.example.com")).await.unwrap();
    ws.send(json!({"type": "ping"})).await;
    ws.until(of_type("pong")).await;
    ws.close().await;
    assert!(open(Some("https://evil.example")).await.is_err());

    // An app backend's token needs no Origin.
    let token = visitor["token"].as_str().unwrap();
    let mut ws = s.user_socket(token, "").await;
    ws.send(json!({"type": "ping"})).await;
    ws.until(of_type("pong")).await;
    s.stop().await;
}

#[tokio::test]
async fn a_website_channels_launcher_appearance_is_set_checked_kept_and_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(dir.path(), config(UserEndLimits::default())).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "web").await;
    let (channel, site) = website(&s, &admin, group, "Website").await;
    let path = format!("/channels/{channel}");
    let public = format!("/web/{site}");
    let look = |v: &Value| (v["launcherPosition"].clone(), v["themeColor"].clone());
    let defaults = (json!("bottom_right"), json!("#2457c5"));
    assert_eq!(look(&s.get(&admin, &path).await), defaults);
    assert_eq!(look(&s.get("", &public).await), defaults);

    // Bad values are refused by name and change nothing.
    let put = |extra: Value| {
        let mut body = json!({"name": "Website", "kind": {"type": "website"}, "skillGroup": group});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (extra, field) in [
        (json!({"themeColor": "red"}), "themeColor"),
        (json!({"themeColor": "#12345"}), "themeColor"),
        (json!({"launcherPosition": "top_left"}), "launcherPosition"),
    ] {
        let (status, body) = s.call(&admin, Method::PUT, &path, Some(put(extra))).await;
        assert_eq!(
            (status, field_of(&body)),
            (StatusCode::BAD_REQUEST, field),
            "{body}"
        );
    }
    assert_eq!(look(&s.get(&admin, &path).await), defaults);

    // Set, then an update without them keeps them; one without the other keeps the other.
    let saved = s
        .ok(
            &admin,
            Method::PUT,
            &path,
            put(json!({"launcherPosition": "bottom_left", "themeColor": "#AA3300"})),
        )
        .await;
    let set = (json!("bottom_left"), json!("#aa3300"));
    assert_eq!(look(&saved), set);
    assert_eq!(
        look(&s.ok(&admin, Method::PUT, &path, put(json!({}))).await),
        set
    );
    let (status, public_body) = s.call("", Method::GET, &public, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(look(&public_body), set);
    assert_eq!(public_body["channelName"], "Website");
    let recoloured = s
        .ok(
            &admin,
            Method::PUT,
            &path,
            put(json!({"themeColor": "#00aa55"})),
        )
        .await;
    let set = (json!("bottom_left"), json!("#00aa55"));
    assert_eq!(look(&recoloured), set);

    // An in-app number has no launcher.
    for (extra, field) in [
        (json!({"themeColor": "#00aa55"}), "themeColor"),
        (
            json!({"launcherPosition": "bottom_left"}),
            "launcherPosition",
        ),
    ] {
        let mut body = json!({"name": "Number", "kind": {"type": "in_app", "userId": "desk_num"}});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (status, body) = s.call(&admin, Method::POST, "/channels", Some(body)).await;
        assert_eq!(
            (status, field_of(&body)),
            (StatusCode::BAD_REQUEST, field),
            "{body}"
        );
    }
    let number = s
        .ok(
            &admin,
            Method::POST,
            "/channels",
            json!({"name": "Number", "kind": {"type": "in_app", "userId": "desk_num"}}),
        )
        .await;
    assert!(number.get("themeColor").is_none() && number.get("launcherPosition").is_none());

    // Replayed from the log after a restart.
    s.stop().await;
    let s = Server::start_with(dir.path(), config(UserEndLimits::default())).await;
    let admin = s.admin().await;
    assert_eq!(look(&s.get(&admin, &path).await), set);
    assert_eq!(look(&s.get("", &public).await), set);
    s.stop().await;
}

#[tokio::test]
async fn two_channels_on_one_host_keep_separate_visitors() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "web").await;
    let (_, first) = website(&s, &admin, group, "First").await;
    let (_, second) = website(&s, &admin, group, "Second").await;
    let (_, a, a_cookie) = visit(&s, &first, &[]).await;
    let (_, b, b_cookie) = visit(&s, &second, &[]).await;
    let (a_cookie, b_cookie) = (a_cookie.unwrap(), b_cookie.unwrap());
    assert_ne!(
        a_cookie.split('=').next(),
        b_cookie.split('=').next(),
        "one cookie per channel: the second does not overwrite the first"
    );
    // A browser sends both; each channel finds its own visitor.
    let both = format!("{a_cookie}; {b_cookie}");
    let (_, again, _) = visit(&s, &first, &[("cookie", &both)]).await;
    assert_eq!(
        (again["userId"].as_str(), again["returning"].as_bool()),
        (a["userId"].as_str(), Some(true))
    );
    let (_, again, _) = visit(&s, &second, &[("cookie", &both)]).await;
    assert_eq!(again["userId"], b["userId"]);
    // One channel's cookie alone is no visitor of the other.
    let (_, stranger, _) = visit(&s, &second, &[("cookie", &a_cookie)]).await;
    assert_eq!(stranger["returning"], false);
    assert_ne!(stranger["userId"], a["userId"]);
    s.stop().await;
}

/// A user socket read until the desk closes it, within `within` of the paused clock (the
/// desk's own timers move it): its last JSON frame.
async fn last_frame(url: &str, within: std::time::Duration) -> Value {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    socket
        .send(Message::text(json!({"type": "ping"}).to_string()))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + within;
    let mut last = Value::Null;
    for _ in 0..10_000 {
        let Ok(next) = tokio::time::timeout_at(deadline, socket.next()).await else {
            panic!("the socket stayed open past {within:?}; last frame {last}");
        };
        match next {
            Some(Ok(Message::Text(t))) => last = serde_json::from_str(t.as_str()).unwrap(),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return last,
            Some(Ok(_)) => {}
        }
    }
    panic!("the socket sent 10000 frames; last {last}");
}

/// A server for the paused-clock socket tests: the clock jumps from timer to timer, past a
/// pong still on its way over loopback, so the WebSocket ping runs at its slowest and the
/// tests see the token's end, not a heartbeat's.
async fn paused_server(dir: &std::path::Path) -> Server {
    let mut config = ApiConfig::default();
    config.server.ws_ping_secs = 3_000;
    config.server.idle_timeout_secs = 3_600;
    Server::start_with(dir, config).await
}

#[tokio::test(start_paused = true)]
async fn a_user_socket_closes_when_its_token_expires() {
    let dir = tempfile::tempdir().unwrap();
    let s = paused_server(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let exp = now + 600;
    let token = user_token(&end.secret, 1, "u1", exp);
    let url = s.ws_url("/ws/im", &format!("token={token}"));
    let closed = last_frame(&url, std::time::Duration::from_secs(3_600)).await;
    assert_eq!(closed["type"], "closed", "{closed}");
    assert_eq!(closed["reason"], "token_expired", "{closed}");
    assert!(s.state.clock.now_ms() >= exp * 1_000, "not before its exp");
    s.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_user_socket_closes_when_its_secret_is_rotated_past_its_grace() {
    let dir = tempfile::tempdir().unwrap();
    let s = paused_server(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&end.secret, 1, "u1", now + 3 * 86_400);
    let url = s.ws_url("/ws/im", &format!("token={token}"));
    let two_days = std::time::Duration::from_secs(2 * 86_400);
    let reader = tokio::spawn(async move { last_frame(&url, two_days).await });
    // The socket is open (a token good now) before the rotation.
    for _ in 0..100_000 {
        if s.state.hub.user_sockets() > 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(s.state.hub.user_sockets(), 1);
    let rotated_at = s.state.clock.now_ms();
    let rotated = s.ok(&admin, Method::POST, "/im/secret", json!({})).await;
    assert_ne!(rotated["secret"].as_str(), Some(end.secret.as_str()));
    let closed = reader.await.unwrap();
    assert_eq!(closed["type"], "closed", "{closed}");
    assert_eq!(closed["reason"], "secret_rotated", "{closed}");
    assert!(
        s.state.clock.now_ms() >= rotated_at + 86_400_000,
        "not before the grace ended"
    );
    s.stop().await;
}
