//! The agent SDK's routes over loopback HTTP: SDK URLs (the seed's CreateSDKLoginToken) work
//! once and for 10 minutes, across a restart too; their exchange is a sign-in that ends the
//! agent's other one; every refusal names its field or its own code and changes nothing; the
//! SDK's files and its cross-origin answers.

mod common;

use common::*;
use helpline::api::ApiConfig;
use helpline::api::sdk::{AGENT_DTS, AGENT_JS, issue_token};
use helpline::domain::ids::{AgentId, AppId};
use helpline::domain::sdk::{MAX_OPEN_SDK_TOKENS_PER_AGENT, SDK_TOKEN_TTL_MS};
use helpline::log::EventLog;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Who a test's own SDK URLs are recorded as issued by.
const TEST_ISSUER: helpline::domain::event::Issuer = helpline::domain::event::Issuer::ApiKey {
    key: helpline::domain::ids::ApiKeyId(1),
};

/// An API key of app 1.
async fn api_key(s: &Server, admin: &str) -> String {
    s.ok(admin, Method::POST, "/api-keys", json!({"name": "crm"}))
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Asks for an SDK URL of `agent`; answers the status and body.
async fn login_token(s: &Server, key: &str, agent: Value) -> (StatusCode, Value) {
    s.call(
        key,
        Method::POST,
        "/sdk/login-tokens",
        Some(json!({ "agentId": agent })),
    )
    .await
}

/// The token of an SDK URL.
fn token_of(sdk_url: &str) -> String {
    url::Url::parse(sdk_url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .unwrap()
        .1
        .into_owned()
}

/// Exchanges an SDK token; answers the status and body.
async fn exchange(s: &Server, token: &str) -> (StatusCode, Value) {
    s.call(
        "",
        Method::POST,
        "/sdk/sessions",
        Some(json!({ "token": token })),
    )
    .await
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn an_sdk_url_signs_its_agent_in_once_within_ten_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let key = api_key(&s, &admin).await;
    let g = s.group(&admin, "support").await;
    let (ann, ann_token) = s.agent(&admin, "ann@example.com", 2, &[g]).await;

    let before = s.state.clock.now_ms();
    let (status, body) = login_token(&s, &key, json!(ann)).await;
    let after = s.state.clock.now_ms();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let sdk_url = body["sdkUrl"].as_str().unwrap();
    assert!(
        sdk_url.starts_with("https://desk.example.com/sdk/agent.js?token=hs_"),
        "the configured public URL: {sdk_url}"
    );
    let expires = body["expiresAtMs"].as_i64().unwrap();
    assert!((before + SDK_TOKEN_TTL_MS..=after + SDK_TOKEN_TTL_MS).contains(&expires));

    // The exchange is a sign-in as /auth/login gives, and ends the agent's other login.
    let token = token_of(sdk_url);
    let (status, signed) = exchange(&s, &token).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert_eq!(signed["agentId"].as_u64(), Some(ann));
    assert_eq!(signed["appId"], 1);
    assert_eq!(signed["mustChangePassword"], false);
    let sdk_token = signed["token"].as_str().unwrap();
    assert_eq!(
        s.get(sdk_token, "/auth/me").await["agentId"].as_u64(),
        Some(ann)
    );
    let (status, _) = s.call(&ann_token, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "one login place");
    let current = s.get(sdk_token, "/sdk/sessions/current").await;
    assert_eq!(current["agentId"].as_u64(), Some(ann));
    assert_eq!(current["expiresAtMs"], signed["expiresAtMs"]);

    // Once only.
    let (status, body) = exchange(&s, &token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "sdk_token_used"),
        "{body}"
    );
    // Unknown.
    let (status, body) = exchange(&s, "hs_not-a-token").await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "sdk_token_unknown")
    );
    // Ten minutes: one issued ten minutes and a millisecond ago has expired, one issued a
    // millisecond less long ago has not.
    let now = s.state.clock.now_ms();
    let (old, _) = issue_token(
        &s.state,
        AppId(1),
        AgentId(ann),
        TEST_ISSUER,
        now - SDK_TOKEN_TTL_MS - 1,
    )
    .await
    .unwrap();
    let (status, body) = exchange(&s, &old).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "sdk_token_expired"),
        "{body}"
    );
    let (fresh, _) = issue_token(
        &s.state,
        AppId(1),
        AgentId(ann),
        TEST_ISSUER,
        s.state.clock.now_ms() - SDK_TOKEN_TTL_MS + 60_000,
    )
    .await
    .unwrap();
    assert_eq!(exchange(&s, &fresh).await.0, StatusCode::OK);
    // That sign-in ended the previous SDK one.
    let (status, _) = s
        .call(sdk_token, Method::GET, "/sdk/sessions/current", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An administrator may ask too; an agent may not.
    let (status, body) = login_token(&s, &admin, json!(ann)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, bob_token) = s.agent(&admin, "bob@example.com", 2, &[g]).await;
    let (status, body) = login_token(&s, &bob_token, json!(ann)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn refusals_name_their_field_or_code_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let key = api_key(&s, &admin).await;
    let g = s.group(&admin, "support").await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[g]).await;
    let (gone, _) = s.agent(&admin, "gone@example.com", 2, &[g]).await;
    s.ok(
        &admin,
        Method::DELETE,
        &format!("/agents/{gone}"),
        json!({}),
    )
    .await;
    let (away, _) = s.agent(&admin, "away@example.com", 2, &[g]).await;
    s.ok(
        &admin,
        Method::POST,
        &format!("/agents/{away}/force-offline"),
        json!({}),
    )
    .await;
    // An agent who never signed in must change its first password.
    let fresh = s
        .ok(
            &admin,
            Method::POST,
            "/agents",
            json!({"name": "cy", "nickname": "cy", "staffNo": "cy", "email": "cy@example.com",
                   "roleId": 2, "skillGroupIds": [g]}),
        )
        .await["agent"]["id"]
        .as_u64()
        .unwrap();
    let other_app = s
        .ok(
            &admin,
            Method::POST,
            "/apps",
            json!({"name": "second", "adminEmail": "root@second.example"}),
        )
        .await["adminAgentId"]
        .as_u64()
        .unwrap();

    let events = s.log.last_seq();
    let snapshot = s.snapshot(&admin).await;
    for (body, status, field) in [
        (json!({}), StatusCode::BAD_REQUEST, "agentId"),
        (json!({"agentId": "x"}), StatusCode::BAD_REQUEST, "agentId"),
        (json!({"agentId": -1}), StatusCode::BAD_REQUEST, "agentId"),
        (
            json!({"agentId": ann, "ttl": 1}),
            StatusCode::BAD_REQUEST,
            "ttl",
        ),
        (
            json!({"agent_id": ann}),
            StatusCode::BAD_REQUEST,
            "agent_id",
        ),
        (
            json!({"agentId": 999_999}),
            StatusCode::BAD_REQUEST,
            "agentId",
        ),
        (
            json!({"agentId": other_app}),
            StatusCode::BAD_REQUEST,
            "agentId",
        ),
        (json!({"agentId": gone}), StatusCode::BAD_REQUEST, "agentId"),
        (json!({"agentId": away}), StatusCode::CONFLICT, ""),
        (json!({"agentId": fresh}), StatusCode::CONFLICT, ""),
    ] {
        let (got, out) = s
            .call(&key, Method::POST, "/sdk/login-tokens", Some(body.clone()))
            .await;
        assert_eq!((got, field_of(&out)), (status, field), "{body}: {out}");
    }
    let (status, out) = s
        .raw(
            &key,
            Method::POST,
            "/sdk/login-tokens",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{out}");
    for (body, field) in [
        (json!({}), "token"),
        (json!({"token": ""}), "token"),
        (json!({"token": "x".repeat(129)}), "token"),
        (json!({"token": 5}), "token"),
        (json!({"token": "hs_x", "agentId": ann}), "agentId"),
    ] {
        let (got, out) = s
            .call("", Method::POST, "/sdk/sessions", Some(body.clone()))
            .await;
        assert_eq!(
            (got, field_of(&out)),
            (StatusCode::BAD_REQUEST, field),
            "{body}: {out}"
        );
    }
    let (status, out) = s
        .call(&key, Method::GET, "/sdk/sessions/current", None)
        .await;
    assert_eq!(
        (status, field_of(&out)),
        (StatusCode::BAD_REQUEST, "Authorization")
    );
    assert_eq!(s.log.last_seq(), events, "no refusal wrote anything");
    assert_eq!(s.snapshot(&admin).await, snapshot);

    // A URL whose agent is forced offline meanwhile is refused and kept; deleted, it is void.
    let (_, body) = login_token(&s, &key, json!(ann)).await;
    let token = token_of(body["sdkUrl"].as_str().unwrap());
    s.ok(
        &admin,
        Method::POST,
        &format!("/agents/{ann}/force-offline"),
        json!({}),
    )
    .await;
    let (status, body) = exchange(&s, &token).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forced_offline")
    );
    s.ok(
        &admin,
        Method::POST,
        &format!("/agents/{ann}/resume"),
        json!({}),
    )
    .await;
    let (_, body) = login_token(&s, &key, json!(ann)).await;
    let doomed = token_of(body["sdkUrl"].as_str().unwrap());
    assert_eq!(exchange(&s, &token).await.0, StatusCode::OK, "kept");
    s.ok(&admin, Method::DELETE, &format!("/agents/{ann}"), json!({}))
        .await;
    let (status, body) = exchange(&s, &doomed).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "sdk_token_unknown"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn an_agent_has_a_bounded_number_of_unused_urls() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let key = api_key(&s, &admin).await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let mut tokens = Vec::new();
    for _ in 0..MAX_OPEN_SDK_TOKENS_PER_AGENT {
        let (status, body) = login_token(&s, &key, json!(ann)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        tokens.push(token_of(body["sdkUrl"].as_str().unwrap()));
    }
    let (status, body) = login_token(&s, &key, json!(ann)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Using one makes room.
    assert_eq!(exchange(&s, &tokens[0]).await.0, StatusCode::OK);
    assert_eq!(
        login_token(&s, &key, json!(ann)).await.0,
        StatusCode::CREATED
    );
    s.stop().await;
}

#[tokio::test]
async fn used_stays_used_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let key = api_key(&s, &admin).await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let (_, used) = login_token(&s, &key, json!(ann)).await;
    let (_, unused) = login_token(&s, &key, json!(ann)).await;
    let used = token_of(used["sdkUrl"].as_str().unwrap());
    let unused = token_of(unused["sdkUrl"].as_str().unwrap());
    assert_eq!(exchange(&s, &used).await.0, StatusCode::OK);
    s.stop().await;

    let s = Server::start(dir.path()).await;
    let (status, body) = exchange(&s, &used).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "sdk_token_used"),
        "{body}"
    );
    assert_eq!(exchange(&s, &unused).await.0, StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn without_a_public_url_the_sdk_url_is_on_the_host_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        ApiConfig {
            public_url: None,
            ..ApiConfig::default()
        },
    )
    .await;
    let admin = s.admin().await;
    let key = api_key(&s, &admin).await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let (_, body) = login_token(&s, &key, json!(ann)).await;
    let root = s.base.trim_end_matches("/api/v1");
    assert!(
        body["sdkUrl"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{root}/sdk/agent.js?token=hs_")),
        "{body}"
    );
    let ask = |host: &'static str| {
        s.http
            .post(format!("{}/sdk/login-tokens", s.base))
            .bearer_auth(&key)
            .header("host", host)
            .json(&json!({ "agentId": ann }))
            .send()
    };
    let body: Value = ask("desk.internal:9000")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["sdkUrl"]
            .as_str()
            .unwrap()
            .starts_with("http://desk.internal:9000/sdk/agent.js?token=hs_"),
        "{body}"
    );
    let refused = ask("user@desk.internal").await.unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(field_of(&body), "Host");
    s.stop().await;
}

#[tokio::test]
async fn the_sdk_files_and_answers_are_open_to_any_origin() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let root = s.base.trim_end_matches("/api/v1").to_owned();
    for (path, kind, text) in [
        (
            "/sdk/agent.js?token=hs_ignored",
            "application/javascript; charset=utf-8",
            AGENT_JS,
        ),
        ("/sdk/agent.d.ts", "text/plain; charset=utf-8", AGENT_DTS),
    ] {
        let resp = s.http.get(format!("{root}{path}")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], kind);
        assert_eq!(resp.headers()["access-control-allow-origin"], "*");
        assert_eq!(resp.text().await.unwrap(), text);
    }
    // A browser's preflight of the exchange, and the exchange's answers, errors included.
    let preflight = s
        .http
        .request(Method::OPTIONS, format!("{}/sdk/sessions", s.base))
        .header("origin", "http://crm.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let refused = s
        .http
        .post(format!("{}/sdk/sessions", s.base))
        .json(&json!({"token": "hs_unknown"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");
    // The management API stays same-origin.
    let admin = s
        .http
        .get(format!("{}/agents", s.base))
        .send()
        .await
        .unwrap();
    assert!(admin.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}

#[test]
fn the_document_describes_the_sdk_routes() {
    let doc = serde_json::to_value(helpline::api::openapi()).unwrap();
    let paths = &doc["paths"];
    let issue = &paths["/api/v1/sdk/login-tokens"]["post"];
    assert!(issue["responses"]["201"].is_object(), "{issue}");
    assert!(issue["security"].is_array(), "needs a key or a sign-in");
    let exchange = &paths["/api/v1/sdk/sessions"]["post"];
    assert!(exchange.get("security").is_none(), "public: {exchange}");
    let refused = exchange["responses"]["401"]["description"]
        .as_str()
        .unwrap();
    for code in ["sdk_token_unknown", "sdk_token_expired", "sdk_token_used"] {
        assert!(refused.contains(code), "{refused}");
    }
    assert!(paths["/api/v1/sdk/sessions/current"]["get"]["security"].is_array());
}

#[tokio::test]
async fn sdk_urls_are_for_agent_role_accounts_and_record_who_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let admin_id = s.get(&admin, "/auth/me").await["agentId"].as_u64().unwrap();
    let key = api_key(&s, &admin).await;
    let key_id: u64 = key.split('_').nth(1).unwrap().parse().unwrap();
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let (chief, _) = s.agent(&admin, "chief@example.com", 1, &[]).await;

    // A key must not become an administrator: no SDK URL for one, itself or another.
    for target in [admin_id, chief] {
        let (status, body) = login_token(&s, &key, json!(target)).await;
        assert_eq!(
            (status, body["error"]["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some("agentId")),
            "{body}"
        );
    }
    // An agent's URL records who asked: the key, or the administrator's account.
    let (status, by_key) = login_token(&s, &key, json!(ann)).await;
    assert_eq!(status, StatusCode::CREATED, "{by_key}");
    let (status, _) = login_token(&s, &admin, json!(ann)).await;
    assert_eq!(status, StatusCode::CREATED);
    let issuers: Vec<Value> = s
        .log
        .read_from(1)
        .map(|e| serde_json::to_value(e.unwrap().event).unwrap())
        .filter(|e| e["type"] == "SdkTokenIssuedBy")
        .map(|e| e["issuer"].clone())
        .collect();
    assert_eq!(
        issuers,
        [
            json!({"ApiKey": {"key": key_id}}),
            json!({"Account": {"agent": admin_id}})
        ]
    );

    // Given another role after its URL was issued, the account is not signed in by it.
    let url = by_key["sdkUrl"].as_str().unwrap();
    s.ok(
        &admin,
        Method::PATCH,
        &format!("/agents/{ann}"),
        json!({"roleId": 1}),
    )
    .await;
    let (status, body) = exchange(&s, &token_of(url)).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "forbidden"),
        "{body}"
    );
    s.stop().await;
}
