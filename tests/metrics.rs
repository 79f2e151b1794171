//! `GET /metrics` of a running helpline on loopback: every metric is there with its help
//! text, labelled by app and skill group, and the numbers move with the traffic (a
//! session queued and abandoned, one offered, accepted and ended, agents changing status,
//! sockets opening, HTTP requests counted by route pattern).

mod common;

use std::collections::BTreeMap;

use common::*;
use helpline::stats::names;
use serde_json::{Value, json};

/// One scrape: every sample by name and sorted labels, and the raw text.
struct Scrape {
    text: String,
    samples: BTreeMap<(String, Vec<(String, String)>), f64>,
}

impl Scrape {
    fn parse(text: String) -> Scrape {
        let mut samples = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut labels: Vec<(String, String)> = labels
                .split("\",")
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label=value");
                    (k.to_owned(), v.trim_matches('"').to_owned())
                })
                .collect();
            labels.sort();
            let value = value.parse().unwrap_or_else(|_| panic!("number in {line}"));
            samples.insert((name.to_owned(), labels), value);
        }
        Scrape { text, samples }
    }

    /// The sample of `name` with exactly `labels`; 0 when absent.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut key: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        key.sort();
        self.samples
            .get(&(name.to_owned(), key))
            .copied()
            .unwrap_or(0.0)
    }

    /// The sum of every sample of `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|((n, l), _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, v)| v)
            .sum()
    }
}

async fn scrape(s: &Server) -> Scrape {
    let root = s.base.trim_end_matches("/api/v1");
    let resp = s.http.get(format!("{root}/metrics")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    Scrape::parse(resp.text().await.unwrap())
}

fn flag(id: &str, src: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "onlineUserOnly": true,
           "body": desk_body(json!({"customerServicePlugin": 0, "src": src}))})
}

fn text(id: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": "hello"}})
}

async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

#[tokio::test]
async fn metrics_are_named_described_and_move_with_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let group = end.group.to_string();
    let g = [("app", "1"), ("group", group.as_str())];
    let (_, ann_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let mut ann = s.agent_socket(&ann_token).await;

    // Every live stat is described and typed; the group has its series, and the app its
    // agents by status (Ann free, the administrator offline).
    let first = scrape(&s).await;
    for m in names::LIVE {
        let help = format!("# HELP {} {}\n", m.name, m.help);
        assert!(first.text.contains(&help), "no help for {}", m.name);
        let kind = format!("# TYPE {} {}\n", m.name, m.kind.as_str());
        assert!(first.text.contains(&kind), "no type for {}", m.name);
    }
    assert_eq!(first.get("helpline_queue_length", &g), 0.0);
    assert_eq!(
        first.get("helpline_agents", &[("app", "1"), ("status", "free")]),
        1.0
    );
    assert_eq!(
        first.get(
            "helpline_group_agents",
            &[("app", "1"), ("group", &group), ("status", "free")]
        ),
        1.0
    );

    // Ann goes busy; a user writes and waits in the queue, then gives up.
    ann.send(json!({"type": "status", "status": "busy"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let now = s.state.clock.now_ms() / 1_000;
    let mut bea = s
        .user_socket(&user_token(&end.secret, 1, "bea", now + 600), "")
        .await;
    bea.send(text("b1")).await;
    bea.until(of_type("queue")).await;
    let queued = scrape(&s).await;
    assert_eq!(queued.get("helpline_queue_length", &g), 1.0);
    assert!(queued.get("helpline_queue_oldest_wait_seconds", &g) >= 0.0);
    assert_eq!(
        queued.get("helpline_agents", &[("app", "1"), ("status", "busy")]),
        1.0
    );
    assert_eq!(
        queued.get("helpline_websocket_connections", &[("side", "user")]),
        1.0
    );
    assert_eq!(
        queued.get("helpline_websocket_connections", &[("side", "agent")]),
        1.0
    );
    bea.send(flag("b2", "27")).await;
    bea.until(src("19")).await;
    let abandoned = scrape(&s).await;
    assert_eq!(abandoned.get("helpline_queue_length", &g), 0.0);
    assert_eq!(abandoned.get("helpline_abandons_total", &g), 1.0);

    // Ann is free again: the next user is offered to her, the countdown armed.
    ann.send(json!({"type": "status", "status": "free"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let mut cal = s
        .user_socket(&user_token(&end.secret, 1, "cal", now + 600), "")
        .await;
    cal.send(text("c1")).await;
    let offer = ann.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    let offered = scrape(&s).await;
    assert_eq!(offered.get("helpline_offers_total", &g), 1.0);
    assert_eq!(offered.get("helpline_queue_wait_seconds_count", &g), 1.0);
    assert_eq!(
        offered.get(
            "helpline_queue_wait_seconds_bucket",
            &[("app", "1"), ("group", &group), ("le", "+Inf")]
        ),
        1.0
    );
    assert!(offered.get("helpline_timers_pending", &[]) >= 1.0);

    ann.send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
    let serving = scrape(&s).await;
    assert_eq!(serving.get("helpline_accepts_total", &g), 1.0);
    assert_eq!(serving.get("helpline_sessions_in_service", &g), 1.0);
    assert_eq!(serving.get("helpline_offer_accept_seconds_count", &g), 1.0);

    ann.send(json!({"type": "end", "sessionId": session})).await;
    assert_eq!(answer(&mut ann, "end").await["type"], "ok");
    cal.until(src("19")).await;
    let ended = scrape(&s).await;
    assert_eq!(ended.get("helpline_sessions_in_service", &g), 0.0);
    assert_eq!(ended.get("helpline_handle_seconds_count", &g), 1.0);
    assert_eq!(
        ended.get("helpline_abandons_total", &g),
        1.0,
        "served, not abandoned"
    );

    // Engine health: described, and moving.
    for m in [
        names::LOG_APPEND,
        names::LOG_BATCH_EVENTS,
        names::LOG_EVENTS,
        names::LOG_DURABLE_SEQ,
        names::ACTOR_RESTARTS,
        names::TIMERS_PENDING,
        names::WEBSOCKETS,
        names::HTTP_REQUESTS,
    ] {
        let help = format!("# HELP {} {}\n", m.name, m.help);
        assert!(ended.text.contains(&help), "no help for {}", m.name);
    }
    assert!(
        ended.get("helpline_log_events_appended_total", &[])
            > first.get("helpline_log_events_appended_total", &[])
    );
    assert!(ended.sum("helpline_log_append_seconds_count", &[]) > 0.0);
    assert_eq!(
        ended.get("helpline_actor_restarts_total", &[("kind", "session")]),
        0.0
    );
    assert!(
        ended
            .text
            .contains("# TYPE helpline_actor_restarts_total counter")
    );

    // Requests count under their route's pattern, never the raw URL.
    let admin = s.admin().await;
    s.get(&admin, &format!("/skill-groups/{}", end.group)).await;
    let (status, _) = s
        .call(&admin, reqwest::Method::GET, "/skill-groups/999999", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = s
        .call(&admin, reqwest::Method::GET, "/no/such/route/42", None)
        .await;
    assert_eq!(status, 404);
    let http = scrape(&s).await;
    let route = |route: &'static str, status: &'static str| {
        http.get(
            "helpline_http_requests_total",
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert!(route("/api/v1/skill-groups/{id}", "200") >= 1.0);
    assert!(route("/api/v1/skill-groups/{id}", "404") >= 1.0);
    assert!(route("unmatched", "404") >= 1.0);
    assert!(route("/metrics", "200") >= 1.0);
    assert!(
        http.get(
            "helpline_http_requests_total",
            &[
                ("method", "POST"),
                ("route", "/api/v1/auth/login"),
                ("status", "200")
            ]
        ) >= 1.0
    );
    let raw_urls: Vec<&str> = http
        .text
        .lines()
        .filter(|l| l.starts_with("helpline_http_requests_total"))
        .filter(|l| l.contains("999999") || l.contains("/no/such"))
        .collect();
    assert!(raw_urls.is_empty(), "raw URLs as labels: {raw_urls:?}");
    s.stop().await;
}

#[tokio::test]
async fn metrics_stay_out_of_the_openapi_document() {
    let doc = serde_json::to_value(helpline::api::openapi()).unwrap();
    assert!(doc["paths"].get("/metrics").is_none());
}

/// Lets every actor run until the runtime is idle (time is paused: no wall-clock wait).
async fn settle() {
    for _ in 0..5 {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn live_stats_come_back_whole_when_actors_fail_and_are_rebuilt() {
    use helpline::clock::Clock;
    use helpline::domain::agent::AgentCommand;
    use helpline::domain::event::AgentStatus;
    use helpline::domain::group::GroupCommand;
    use helpline::domain::ids::ChannelId;
    use helpline::domain::settings::AppSettings;
    use helpline::engine::{Child, Engine};
    use helpline::stats::Label;
    use std::sync::Arc;

    let log = Arc::new(helpline::log::MemLog::new());
    let engine = Engine::start(log, Clock::starting_at(1_700_000_000_000))
        .await
        .unwrap();
    let app = engine.create_app("acme").await.unwrap();
    let mut settings = AppSettings::default();
    settings.reception.auto_reception = true;
    engine.update_settings(app, settings).await.unwrap();
    let group = engine.create_group(app, "support", 1).await.unwrap();
    let ann = engine.create_agent(app, "ann", "ann", "1").await.unwrap();
    let bob = engine.create_agent(app, "bob", "bob", "2").await.unwrap();
    for a in [ann, bob] {
        engine
            .group(group, GroupCommand::AddMember(a, 3))
            .await
            .unwrap();
        engine.agent(a, AgentCommand::Login).await.unwrap();
    }
    engine
        .agent(bob, AgentCommand::SetStatus(AgentStatus::Busy))
        .await
        .unwrap();
    // Ann serves one session (her limit); the next waits.
    let served = engine
        .open_session(app, ChannelId(1), "u1", Some(group))
        .await
        .unwrap();
    settle().await;
    engine
        .open_session(app, ChannelId(1), "u2", Some(group))
        .await
        .unwrap();
    settle().await;

    let read = || {
        let live = engine.shared().registry.live.read();
        let cell = live.groups[&(Label::Id(u64::from(app.0)), Label::Id(group.0))].clone();
        (live.apps[&Label::Id(u64::from(app.0))], cell)
    };
    let (agents, cell) = read();
    assert_eq!(agents, [1, 1, 0, 0, 0, 0], "ann free, bob busy");
    assert_eq!(cell.agents, agents);
    assert_eq!((cell.queue.len, cell.in_service), (1, 1));
    assert_eq!(cell.assignments, 1);

    for child in [
        Child::Agent(ann),
        Child::Group(group),
        Child::Session(served),
        Child::Timers(app),
        Child::Agent(bob),
    ] {
        engine.inject_failure(child).unwrap();
        settle().await;
        let (after, cell) = read();
        assert_eq!(after, agents, "agents by status after {child:?} failed");
        assert_eq!(cell.agents, agents, "members after {child:?} failed");
        assert_eq!(
            (cell.queue.len, cell.in_service, cell.assignments),
            (1, 1, 1),
            "queue and service after {child:?} failed"
        );
    }
    assert_eq!(engine.restarts(), 5);
    engine.shutdown().await.unwrap();
    let (agents, cell) = read();
    assert_eq!(
        agents, [0; 6],
        "stopped actors take their contributions back"
    );
    assert_eq!(cell.in_service, 0);
}

fn metrics_config(metrics: helpline::api::MetricsConfig) -> helpline::api::ApiConfig {
    helpline::api::ApiConfig {
        public_url: Some("https://desk.example.com/".to_owned()),
        metrics,
        ..Default::default()
    }
}

#[tokio::test]
async fn with_a_token_metrics_want_it_as_a_bearer_and_count_those_refused() {
    helpline::stats::export::recorder();
    const TOKEN: &str = "scrape-token-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        metrics_config(helpline::api::MetricsConfig {
            token: Some(TOKEN.to_owned()),
            listen: None,
        }),
    )
    .await;
    let url = format!("{}/metrics", s.base.trim_end_matches("/api/v1"));
    for bearer in [None, Some("scrape-token-0123456788"), Some("short")] {
        let mut request = s.http.get(&url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{bearer:?}");
        assert!(resp.headers().contains_key("www-authenticate"));
        let body = resp.text().await.unwrap();
        assert!(!body.contains("helpline_"), "{body}");
    }
    let resp = s.http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let scrape = Scrape::parse(resp.text().await.unwrap());
    assert!(
        scrape.get(names::METRICS_UNAUTHORIZED.name, &[]) >= 3.0,
        "{}",
        scrape.text
    );
    s.stop().await;
}

#[tokio::test]
async fn with_a_listen_address_metrics_are_served_there_and_not_on_the_public_listener() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        dir.path(),
        metrics_config(helpline::api::MetricsConfig {
            token: None,
            listen: Some("127.0.0.1:0".parse().unwrap()),
        }),
    )
    .await;
    let public = format!("{}/metrics", s.base.trim_end_matches("/api/v1"));
    let resp = s.http.get(&public).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let own = s.metrics_url.clone().expect("a metrics listener");
    let resp = s.http.get(&own).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("# TYPE helpline_"));
    // The API is not on the metrics listener.
    let api = own.replace("/metrics", "/api/v1/auth/me");
    assert_eq!(s.http.get(&api).send().await.unwrap().status(), 404);
    s.stop().await;
}
