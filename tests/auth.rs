//! Sign-in hardening over real HTTP and WebSocket on loopback: authorization before any
//! argon2 work, password checks throttled, the directory's turn never held across a hash,
//! a cap on agents per app, a password change that ends the sign-in, one answer for every
//! failed sign-in with locks per (email, address), user tokens' time claims, answers that
//! carry passwords kept out of caches, and single-use tickets for the agent socket.

mod common;

use common::*;
use helpline::api::ApiConfig;
use helpline::domain::signin::FREE_FAILURES;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A server that trusts `X-Forwarded-For`, so a test can speak from several addresses.
async fn behind_a_proxy(dir: &std::path::Path) -> Server {
    Server::start_with(
        dir,
        ApiConfig {
            public_url: Some("https://desk.example.com/".to_owned()),
            trust_forwarded_for: true,
            ..ApiConfig::default()
        },
    )
    .await
}

/// Signs in from `address`; answers the status and body.
async fn login_from(s: &Server, address: &str, body: Value) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(format!("{}/auth/login", s.base))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// Waits until some hash waits for its turn (the hasher is held), bounded.
async fn until_hashing_waits(s: &Server) {
    tokio::time::timeout(FRAME_WAIT, async {
        while s.state.hasher.waiting() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("nothing came to hash");
}

#[tokio::test]
async fn a_refused_caller_costs_no_argon2_work() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let admin_id = s.get(&admin, "/auth/me").await["agentId"].as_u64().unwrap();
    let (_, agent) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let before = s.state.hasher.runs();
    // An agent-role account has no agents module: refused before any hash.
    for _ in 0..4 {
        let (status, body) = s
            .call(
                &agent,
                Method::POST,
                &format!("/agents/{admin_id}/password-reset"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    }
    let (status, _) = s
        .call(
            &agent,
            Method::POST,
            "/agents",
            Some(json!({"name": "Eve", "nickname": "Eve", "staffNo": "e1",
                        "email": "eve@example.com", "roleId": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .raw(
            &agent,
            Method::POST,
            "/agents/import",
            "text/csv",
            "name,nickname,staff_no,email,role,skill_groups\nEve,Eve,e1,eve@example.com,agent,\n"
                .into(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An administrator's bad create is refused before any hash too.
    let (status, _) = s
        .call(
            &admin,
            Method::POST,
            "/agents",
            Some(json!({"name": "Ann", "nickname": "Ann", "staffNo": "a2",
                        "email": "ann@example.com", "roleId": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s.state.hasher.runs(), before, "no argon2 ran for a refusal");
    s.stop().await;
}

#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let change =
        |current: &str| json!({"currentPassword": current, "newPassword": "another-good-password"});
    for _ in 0..FREE_FAILURES {
        let (status, body) = s
            .call(
                &token,
                Method::POST,
                "/auth/password",
                Some(change("not-the-password")),
            )
            .await;
        assert_eq!(
            (status, field_of(&body)),
            (StatusCode::BAD_REQUEST, "currentPassword")
        );
    }
    // Locked now, even for the right one: a stolen token is no password oracle.
    let (status, body) = s
        .call(
            &token,
            Method::POST,
            "/auth/password",
            Some(change("ann-own-password")),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body["error"]["retryAfterSecs"].as_u64().unwrap() > 0);
    let (status, _) = s.login("ann@example.com", "ann-own-password").await;
    assert_eq!(status, StatusCode::OK, "the password did not change");
    s.stop().await;
}

#[tokio::test]
async fn a_password_change_ends_the_sign_in_and_answers_a_fresh_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let mut socket = s.agent_socket(&token).await;
    let resp = s
        .http
        .post(format!("{}/auth/password", s.base))
        .bearer_auth(&token)
        .json(&json!({"currentPassword": "ann-own-password", "newPassword": "a-brand-new-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let fresh: Value = resp.json().await.unwrap();
    let rest = socket.closed().await;
    let out = rest
        .iter()
        .find(|v| v["type"] == "signed_out")
        .expect("the socket is told");
    assert_eq!(out["cause"], "password_changed", "{out}");
    let (status, _) = s.call(&token, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old sign-in ended");
    let fresh = fresh["token"].as_str().unwrap();
    assert_ne!(fresh, token);
    assert_eq!(s.get(fresh, "/auth/me").await["email"], "ann@example.com");
    let mut again = s.agent_socket(fresh).await;
    again.send(json!({"type": "ping", "ref": "p"})).await;
    assert_eq!(again.until(of_type("pong")).await["ref"], "p");
    s.stop().await;
}

#[tokio::test]
async fn an_import_hashes_outside_the_turn_so_other_apps_write_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/apps",
            json!({"name": "second desk", "adminEmail": "boss@second.example"}),
        )
        .await;
    let (_, body) = s
        .login(
            "boss@second.example",
            created["adminPassword"].as_str().unwrap(),
        )
        .await;
    let (status, body) = s
        .call(
            body["token"].as_str().unwrap(),
            Method::POST,
            "/auth/password",
            Some(json!({"currentPassword": created["adminPassword"],
                        "newPassword": "second-admin-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = body["token"].as_str().unwrap().to_owned();

    // Hashing is held: the import stops at its hashes, and must not hold the turn there.
    let held = s.state.hasher.hold_all().await;
    let file = "name,nickname,staff_no,email,role,skill_groups\n\
                Ann,Ann,a1,ann@example.com,agent,\n\
                Bob,Bob,b1,bob@example.com,agent,\n";
    let import = {
        let http = s.http.clone();
        let url = format!("{}/agents/import", s.base);
        let admin = admin.clone();
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(admin)
                .header("content-type", "text/csv")
                .body(file)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    until_hashing_waits(&s).await;
    let write = tokio::time::timeout(FRAME_WAIT, s.group(&other, "elsewhere")).await;
    assert!(
        write.is_ok(),
        "another app's write waited on the import's hashing"
    );
    assert!(!import.is_finished(), "the import is still hashing");
    drop(held);
    assert_eq!(import.await.unwrap(), StatusCode::CREATED);
    let agents = s.get(&admin, "/agents").await;
    assert_eq!(agents.as_array().unwrap().len(), 3);
    s.stop().await;
}

#[tokio::test]
async fn agents_per_app_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        ApiConfig {
            max_agents_per_app: 3,
            ..ApiConfig::default()
        },
    )
    .await;
    let admin = s.admin().await;
    s.agent(&admin, "ann@example.com", 2, &[]).await;
    let before = s.snapshot(&admin).await;
    let file = "name,nickname,staff_no,email,role,skill_groups\n\
                Bob,Bob,b1,bob@example.com,agent,\n\
                Cat,Cat,c1,cat@example.com,agent,\n";
    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/agents/import",
            "text/csv",
            file.into(),
        )
        .await;
    assert_eq!((status, field_of(&body)), (StatusCode::BAD_REQUEST, "file"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_agents_per_app"),
        "{body}"
    );
    s.agent(&admin, "bob@example.com", 2, &[]).await;
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/agents",
            Some(json!({"name": "Cat", "nickname": "Cat", "staffNo": "c1",
                        "email": "cat@example.com", "roleId": 2})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "max_agents_per_app"),
        "{body}"
    );
    let after = s.snapshot(&admin).await;
    assert_eq!(
        after["/agents?includeDeleted=true"]
            .as_array()
            .unwrap()
            .len(),
        before["/agents?includeDeleted=true"]
            .as_array()
            .unwrap()
            .len()
            + 1,
        "only bob was added"
    );
    assert!(
        ApiConfig {
            max_agents_per_app: 0,
            ..ApiConfig::default()
        }
        .validate()
        .is_err()
    );
    s.stop().await;
}

#[tokio::test]
async fn a_failed_sign_in_tells_nothing_and_locks_only_the_address_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    // The metrics recorder is installed before any refusal, so each is counted.
    helpline::stats::export::recorder();
    let s = behind_a_proxy(dir.path()).await;
    let admin = s.admin().await;
    s.agent(&admin, "ann@example.com", 2, &[]).await;
    // Ann has an account in a second app too.
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/apps",
            json!({"name": "second desk", "adminEmail": "ann@example.com"}),
        )
        .await;
    let second_password = created["adminPassword"].as_str().unwrap().to_owned();

    // Unknown email, wrong password, and an email of two apps: one answer.
    let answers: Vec<(StatusCode, Value)> = vec![
        login_from(
            &s,
            "198.51.100.1",
            json!({"email": "nobody@example.com", "password": "wrong-password"}),
        )
        .await,
        login_from(
            &s,
            "198.51.100.1",
            json!({"email": ADMIN_EMAIL, "password": "wrong-password"}),
        )
        .await,
        login_from(
            &s,
            "198.51.100.1",
            json!({"email": "ann@example.com", "password": "wrong-password"}),
        )
        .await,
    ];
    for answer in &answers {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    // The right password picks its app; two matching apps are named only then.
    let (status, body) = login_from(
        &s,
        "198.51.100.1",
        json!({"email": "ann@example.com", "password": "ann-own-password"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["appId"], 1);
    let (status, body) = login_from(
        &s,
        "198.51.100.1",
        json!({"email": "ann@example.com", "password": second_password}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["appId"], created["app"]["id"]);

    // A stranger's guesses lock the stranger's address out, and only that.
    for _ in 0..FREE_FAILURES {
        let (status, _) = login_from(
            &s,
            "203.0.113.66",
            json!({"email": "ann@example.com", "password": "guess", "appId": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = login_from(
        &s,
        "203.0.113.66",
        json!({"email": "ann@example.com", "password": "ann-own-password", "appId": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, body) = login_from(
        &s,
        "198.51.100.7",
        json!({"email": "ann@example.com", "password": "ann-own-password", "appId": 1}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "ann signs in from her own address: {body}"
    );
    // An unknown email is locked as a known one is, so a lock tells nothing either.
    for _ in 0..FREE_FAILURES {
        login_from(
            &s,
            "203.0.113.67",
            json!({"email": "nobody@example.com", "password": "guess"}),
        )
        .await;
    }
    let (status, _) = login_from(
        &s,
        "203.0.113.67",
        json!({"email": "nobody@example.com", "password": "guess"}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Every such refusal is counted.
    let metrics = s
        .http
        .get(s.base.replace("/api/v1", "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused = metrics
        .lines()
        .find(|l| {
            l.starts_with("helpline_password_checks_refused_total")
                && l.contains("route=\"login\"")
                && l.contains("limit=\"backoff\"")
        })
        .unwrap_or_else(|| panic!("not counted:\n{metrics}"));
    let count: f64 = refused.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 2.0, "{refused}");
    s.stop().await;
}

#[tokio::test]
async fn user_tokens_honour_nbf_iat_and_aud() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = |extra: Value| {
        let mut claims = json!({"app": 1, "sub": "u1", "exp": now + 600});
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        helpline::im::token::mint_json(end.secret.as_bytes(), &claims)
    };
    let skew = helpline::im::token::CLOCK_SKEW_SECS;
    let cases = [
        (
            json!({"nbf": now - 5, "iat": now - 5, "aud": "helpline"}),
            None,
        ),
        (json!({"nbf": now + skew + 120}), Some("not valid before")),
        (
            json!({"iat": now + skew + 120}),
            Some("issued in the future"),
        ),
        (json!({"aud": ["billing"]}), Some("audience")),
    ];
    for (extra, refusal) in cases {
        let (status, body) = s
            .call(
                &token(extra.clone()),
                Method::GET,
                "/im/conversations",
                None,
            )
            .await;
        match refusal {
            None => assert_eq!(status, StatusCode::OK, "{extra}: {body}"),
            Some(reason) => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{extra}: {body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(message.contains(reason), "{extra}: {message}");
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn answers_with_a_password_are_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let post = |path: &str, body: Option<Value>, csv: Option<&'static str>| {
        let mut req = s.http.post(format!("{}{path}", s.base)).bearer_auth(&admin);
        if let Some(body) = body {
            req = req.json(&body);
        }
        if let Some(csv) = csv {
            req = req.header("content-type", "text/csv").body(csv);
        }
        req.send()
    };
    let responses = [
        post(
            "/agents",
            Some(json!({"name": "Bob", "nickname": "Bob", "staffNo": "b1",
                        "email": "bob@example.com", "roleId": 2})),
            None,
        )
        .await
        .unwrap(),
        post(&format!("/agents/{ann}/password-reset"), None, None)
            .await
            .unwrap(),
        post("/api-keys", Some(json!({"name": "crm"})), None)
            .await
            .unwrap(),
        post("/im/secret", Some(json!({})), None).await.unwrap(),
        post(
            "/agents/import",
            None,
            Some("name,nickname,staff_no,email,role,skill_groups\nCat,Cat,c1,cat@example.com,agent,\n"),
        )
        .await
        .unwrap(),
    ];
    for resp in responses {
        let url = resp.url().to_string();
        assert!(resp.status().is_success(), "{url}: {}", resp.status());
        assert_eq!(resp.headers()["cache-control"], "no-store", "{url}");
    }
    let resp = s
        .http
        .post(format!("{}/auth/login", s.base))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    s.stop().await;
}

#[tokio::test]
async fn the_agent_socket_opens_with_a_single_use_ticket_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let (_, token) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    // A sign-in token in the URL is refused, with the way to do it.
    let (status, body) = Ws::connect(&s.ws_url("/ws/agent", &format!("token={token}")))
        .await
        .err()
        .expect("refused");
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ws-tickets"),
        "{body}"
    );
    // A client that can set headers may send the sign-in as a bearer instead.
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = s.ws_url("/ws/agent", "").into_client_request().unwrap();
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        use futures_util::StreamExt;
        let first = tokio::time::timeout(FRAME_WAIT, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let first: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
        assert_eq!(first["type"], "state");
    }
    // A ticket opens it once.
    let ticket = s.ticket(&token).await;
    assert!(ticket.starts_with("ht_"), "{ticket}");
    let url = s.ws_url("/ws/agent", &format!("ticket={ticket}"));
    let mut ws = Ws::connect(&url).await.unwrap();
    assert_eq!(ws.next().await["type"], "state");
    let (status, _) = Ws::connect(&url).await.err().expect("used once");
    assert_eq!(status, 401);
    let (status, _) = Ws::connect(&s.ws_url("/ws/agent", "ticket=ht_never-issued"))
        .await
        .err()
        .expect("unknown");
    assert_eq!(status, 401);
    // A ticket is for an agent's sign-in, not an API key.
    let key = s
        .ok(&admin, Method::POST, "/api-keys", json!({"name": "crm"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = s.call(&key, Method::POST, "/ws-tickets", None).await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "Authorization")
    );
    // A ticket of a sign-in that ended opens nothing.
    let stale = s.ticket(&token).await;
    let (status, _) = s.call(&token, Method::POST, "/auth/logout", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = Ws::connect(&s.ws_url("/ws/agent", &format!("ticket={stale}")))
        .await
        .err()
        .expect("ended");
    assert_eq!(status, 401);
    // A sign-in may hold only a few unused tickets.
    let (_, fresh) = s.login("ann@example.com", "ann-own-password").await;
    let fresh = fresh["token"].as_str().unwrap();
    for _ in 0..helpline::domain::signin::MAX_OPEN_TICKETS_PER_SIGN_IN {
        s.ticket(fresh).await;
    }
    let (status, _) = s.call(fresh, Method::POST, "/ws-tickets", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    s.stop().await;
}
