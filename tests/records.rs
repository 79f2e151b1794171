//! Online service records: over the real HTTP API with sessions made by users and agents on
//! real sockets (who sees which record, filters, pages, the transcript and the search in
//! it, bad parameters), the search index rebuilt from the log after it is deleted or
//! damaged, and a generated corpus of 100,000 sessions whose every filter returns exactly
//! the sessions the generator's own account says it should.

mod common;

use std::collections::BTreeSet;

use common::*;
use helpline::domain::directory::Scope;
use helpline::domain::ids::{AgentId, AppId, GroupId, SessionId};
use helpline::records::corpus::{self, Spec, Truth};
use helpline::records::index;
use helpline::records::tail::Follower;
use helpline::records::{Filter, View, Viewer, text};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---- over HTTP -------------------------------------------------------------------------

fn say(to: &str, id: &str, words: &str) -> Value {
    json!({"type": "send", "to": to, "msgId": id, "body": {"type": "text", "text": words}})
}

/// The agent's answer (`ok` or `error`) to its command `command`.
async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    let v = agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await;
    assert_eq!(v["type"], "ok", "{v}");
    v
}

/// One session: the user writes `first` to `to`, the online agent takes the offer and
/// answers `reply`, the user writes `then`; the agent ends it. Answers the session id.
async fn serve(
    user: &mut Ws,
    agent: &mut Ws,
    to: &str,
    (first, reply, then): (&str, &str, &str),
) -> u64 {
    let id = first.replace(' ', "-");
    user.send(say(to, &format!("{id}-1"), first)).await;
    user.until(of_type("ack")).await;
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    answer(agent, "accept").await;
    agent
        .send(
            json!({"type": "send", "sessionId": session, "msgId": format!("r{session}"),
                     "body": {"type": "text", "text": reply}}),
        )
        .await;
    answer(agent, "send").await;
    user.send(say(to, &format!("{id}-2"), then)).await;
    user.until(|v| v["type"] == "ack" && v["msgId"] == format!("{id}-2"))
        .await;
    agent
        .send(json!({"type": "end", "sessionId": session}))
        .await;
    answer(agent, "end").await;
    session
}

fn ids(page: &Value) -> Vec<u64> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sessionId"].as_u64().unwrap())
        .collect()
}

/// Every record a caller lists with `query`, page after page.
async fn all(s: &Server, token: &str, query: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if query.is_empty() { "" } else { "&" };
        let path = match &cursor {
            Some(c) => format!("/records?{query}{sep}limit=2&cursor={c}"),
            None => format!("/records?{query}{sep}limit=2"),
        };
        let page = s.get(token, &path).await;
        out.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

struct Desk {
    s: Server,
    admin: String,
    ann: (u64, String),
    bob: (u64, String),
    carl: (u64, String),
    support: u64,
    sales: u64,
    /// The app's IM secret.
    secret: String,
    /// Sessions: ann's (support, rated), bob's (support), carl's (sales, ended by the user).
    sessions: [u64; 3],
}

/// Three sessions served by three agents in two skill groups.
async fn desk(dir: &std::path::Path) -> Desk {
    let s = Server::start(dir).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (true, false, false)).await;
    let sales = s.group(&admin, "sales").await;
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Sales", "kind": {"type": "in_app", "userId": "sales"}, "skillGroup": sales}),
    )
    .await;
    let ann = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let bob = s.agent(&admin, "bob@example.com", 2, &[end.group]).await;
    let carl = s.agent(&admin, "carl@example.com", 2, &[sales]).await;
    let now = s.state.clock.now_ms() / 1_000;

    // Ann serves u1, who rates it.
    let mut u1 = s
        .user_socket(&user_token(&end.secret, 1, "u1", now + 3_600), "")
        .await;
    let mut ann_ws = s.agent_socket(&ann.1).await;
    let first = serve(
        &mut u1,
        &mut ann_ws,
        "desk",
        ("My parcel is late", "Sorry about the parcel", "Thanks"),
    )
    .await;
    u1.until(src("9")).await;
    u1.send(json!({"type": "send", "to": "desk", "msgId": "rate", "onlineUserOnly": true,
                   "body": desk_body(json!({"customerServicePlugin": 0, "src": "10",
                     "menuSelected": {"id": "5", "content": "x", "sessionId": first.to_string()}}))}))
        .await;
    u1.until(of_type("update")).await;
    ann_ws.send(json!({"type": "offline"})).await;
    answer(&mut ann_ws, "offline").await;

    // Bob serves u2.
    let mut u2 = s
        .user_socket(&user_token(&end.secret, 1, "u2", now + 3_600), "")
        .await;
    let mut bob_ws = s.agent_socket(&bob.1).await;
    let second = serve(
        &mut u2,
        &mut bob_ws,
        "desk",
        ("Refund please", "Refund done", "Great"),
    )
    .await;

    // Carl serves u3 in sales; u3 ends it.
    let mut u3 = s
        .user_socket(&user_token(&end.secret, 1, "u3", now + 3_600), "")
        .await;
    let mut carl_ws = s.agent_socket(&carl.1).await;
    u3.send(say("sales", "s1", "A pricing question about a parcel"))
        .await;
    u3.until(of_type("ack")).await;
    let offer = carl_ws.until(of_type("offer")).await;
    let third = offer["sessionId"].as_u64().unwrap();
    carl_ws
        .send(json!({"type": "accept", "sessionId": third}))
        .await;
    answer(&mut carl_ws, "accept").await;
    u3.send(
        json!({"type": "send", "to": "sales", "msgId": "bye", "onlineUserOnly": true,
                   "body": desk_body(json!({"customerServicePlugin": 0, "src": "27"}))}),
    )
    .await;
    carl_ws.until(of_type("ended")).await;
    for ws in [u1, u2, u3, ann_ws, bob_ws, carl_ws] {
        ws.close().await;
    }
    Desk {
        s,
        admin,
        ann,
        bob,
        carl,
        support: end.group,
        sales,
        secret: end.secret,
        sessions: [first, second, third],
    }
}

#[tokio::test]
async fn agents_see_only_what_they_served_and_scoped_roles_only_their_groups() {
    let dir = tempfile::tempdir().unwrap();
    let d = desk(dir.path()).await;
    let (s, [first, second, third]) = (&d.s, d.sessions);

    // Agents: their own, nothing else, in lists and details.
    assert_eq!(all(s, &d.ann.1, "").await, [first]);
    assert_eq!(all(s, &d.bob.1, "").await, [second]);
    assert_eq!(all(s, &d.carl.1, "").await, [third]);
    for (token, other) in [(&d.ann.1, second), (&d.ann.1, third), (&d.bob.1, first)] {
        let (status, body) = s
            .call(token, Method::GET, &format!("/records/{other}"), None)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    assert_eq!(
        all(s, &d.ann.1, &format!("agentId={}", d.bob.0)).await,
        Vec::<u64>::new(),
        "asking for another agent's sessions finds none"
    );
    assert_eq!(all(s, &d.ann.1, "keyword=refund").await, Vec::<u64>::new());

    // The administrator and an API key: everything, newest first.
    assert_eq!(all(s, &d.admin, "").await, [third, second, first]);
    let key = s
        .ok(&d.admin, Method::POST, "/api-keys", json!({"name": "crm"}))
        .await;
    let key = key["key"].as_str().unwrap();
    assert_eq!(all(s, key, "").await, [third, second, first]);

    // A role scoped to sales sees sales; one without the module is refused.
    let role = s
        .ok(
            &d.admin,
            Method::POST,
            "/roles",
            json!({"name": "sales lead", "scopes": [{"module": "service_records", "groups": [d.sales]}]}),
        )
        .await;
    let (_, lead) = s
        .agent(
            &d.admin,
            "lead@example.com",
            role["id"].as_u64().unwrap(),
            &[],
        )
        .await;
    assert_eq!(all(s, &lead, "").await, [third]);
    assert_eq!(
        all(s, &lead, &format!("groupId={}", d.support)).await,
        Vec::<u64>::new()
    );
    let (status, _) = s
        .call(&lead, Method::GET, &format!("/records/{first}"), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let detail = s.get(&lead, &format!("/records/{third}")).await;
    assert_eq!(detail["record"]["closeBy"], "client");
    let role = s
        .ok(
            &d.admin,
            Method::POST,
            "/roles",
            json!({"name": "team lead", "scopes": [{"module": "agents", "groups": null}]}),
        )
        .await;
    let (_, other) = s
        .agent(
            &d.admin,
            "other@example.com",
            role["id"].as_u64().unwrap(),
            &[],
        )
        .await;
    let (status, body) = s.call(&other, Method::GET, "/records", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    d.s.stop().await;
}

#[tokio::test]
async fn filters_pages_detail_and_the_search_inside_a_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let d = desk(dir.path()).await;
    let (s, admin, [first, second, third]) = (&d.s, &d.admin, d.sessions);

    // Filters.
    assert_eq!(all(s, admin, "keyword=parcel").await, [third, first]);
    assert_eq!(all(s, admin, "keyword=PARCEL%20late").await, [first]);
    assert_eq!(
        all(s, admin, &format!("groupId={}", d.support)).await,
        [second, first]
    );
    assert_eq!(
        all(s, admin, &format!("agentId={}", d.carl.0)).await,
        [third]
    );
    assert_eq!(
        all(s, admin, &format!("keyword=parcel&groupId={}", d.sales)).await,
        [third]
    );
    let page = s.get(admin, "/records?limit=100").await;
    let started: Vec<i64> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["createdAtMs"].as_i64().unwrap())
        .collect();
    let from = started[1];
    assert_eq!(
        all(s, admin, &format!("from={from}")).await,
        [third, second]
    );
    assert_eq!(all(s, admin, &format!("to={from}")).await, [first]);
    let rfc = humantime::format_rfc3339_millis(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(from as u64),
    )
    .to_string();
    assert_eq!(all(s, admin, &format!("from={rfc}")).await, [third, second]);
    assert_eq!(ids(&page), [third, second, first]);
    assert_eq!(page["nextCursor"], Value::Null);

    // The record and its transcript.
    let detail = s.get(&d.ann.1, &format!("/records/{first}")).await;
    let record = &detail["record"];
    assert_eq!(record["sessionId"].as_u64(), Some(first));
    assert_eq!(record["agentIds"], json!([d.ann.0]));
    assert_eq!(record["skillGroupId"].as_u64(), Some(d.support));
    assert_eq!(record["closeBy"], "seat");
    assert_eq!(record["satisfaction"]["value"], 5);
    assert_eq!(record["userId"], "u1");
    assert!(record["queueWaitMs"].as_u64().is_some() && record["handleTimeMs"].as_u64().is_some());
    let texts: Vec<&str> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["body"]["text"].as_str())
        .collect();
    assert_eq!(
        texts[..3],
        ["My parcel is late", "Sorry about the parcel", "Thanks"]
    );
    assert_eq!(
        record["messageCount"].as_u64(),
        Some(detail["messages"].as_array().unwrap().len() as u64),
        "the rating invitation and thanks after the end are the session's"
    );
    assert_eq!(detail["matches"], Value::Null);
    let found = s.get(&d.ann.1, &format!("/records/{first}?q=Parcel")).await;
    let seqs: Vec<u64> = detail["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["body"]["text"]
                .as_str()
                .is_some_and(|t| t.to_lowercase().contains("parcel"))
        })
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 2);
    assert_eq!(found["matches"], json!(seqs));
    let none = s.get(&d.ann.1, &format!("/records/{first}?q=refund")).await;
    assert_eq!(none["matches"], json!([]));

    // Bad parameters name the field and change nothing.
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        (&format!("from={from}&to={from}") as &str, "to"),
        ("cursor=nope", "cursor"),
        ("keyword=%21%21", "keyword"),
        ("groupId=sales", "groupId"),
        ("agentId=-1", "agentId"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = s
            .call(admin, Method::GET, &format!("/records?{query}"), None)
            .await;
        assert_eq!(
            (status, field_of(&body)),
            (StatusCode::BAD_REQUEST, field),
            "{query}: {body}"
        );
    }
    let (status, body) = s
        .call(admin, Method::GET, &format!("/records/{first}?q=%20"), None)
        .await;
    assert_eq!((status, field_of(&body)), (StatusCode::BAD_REQUEST, "q"));
    let (status, _) = s.call(admin, Method::GET, "/records/999999", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = s.call("", Method::GET, "/records", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(all(s, admin, "").await, [third, second, first]);
    d.s.stop().await;
}

/// The UTC day of `ms`.
fn utc_day(ms: i64) -> jiff::civil::Date {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

#[tokio::test]
async fn data_analysis_reports_per_day_and_group_within_each_roles_scope() {
    let dir = tempfile::tempdir().unwrap();
    let d = desk(dir.path()).await;
    let (s, admin) = (&d.s, &d.admin);

    // A fourth session, abandoned: the night group's only agent is busy, the user gives up.
    let night = s.group(admin, "night").await;
    s.ok(
        admin,
        Method::POST,
        "/channels",
        json!({"name": "Night", "kind": {"type": "in_app", "userId": "night"}, "skillGroup": night}),
    )
    .await;
    let dan = s.agent(admin, "dan@example.com", 2, &[night]).await;
    let mut dan_ws = s.agent_socket(&dan.1).await;
    dan_ws
        .send(json!({"type": "status", "status": "busy"}))
        .await;
    answer(&mut dan_ws, "status").await;
    let now = s.state.clock.now_ms() / 1_000;
    let token = user_token(&d.secret, 1, "u4", now + 3_600);
    let mut u4 = s.user_socket(&token, "").await;
    u4.send(say("night", "n1", "Anyone there at night")).await;
    u4.until(of_type("queue")).await;
    u4.send(
        json!({"type": "send", "to": "night", "msgId": "n2", "onlineUserOnly": true,
                   "body": desk_body(json!({"customerServicePlugin": 0, "src": "27"}))}),
    )
    .await;
    u4.until(src("19")).await;

    let page = s.get(admin, "/records?limit=100").await;
    let starts: Vec<i64> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["createdAtMs"].as_i64().unwrap())
        .collect();
    assert_eq!(starts.len(), 4);
    // A run across midnight UTC spreads the sessions over two days: ask for both sides.
    let first_day = utc_day(*starts.iter().min().unwrap()).yesterday().unwrap();
    let last_day = utc_day(*starts.iter().max().unwrap()).tomorrow().unwrap();
    let range = format!("from={first_day}&to={last_day}");

    let report = s.get(admin, &format!("/analysis/report?{range}")).await;
    let total = &report["total"];
    assert_eq!(total["sessions"], 4, "{report}");
    assert_eq!(total["queued"], 4);
    assert_eq!(total["answered"], 3);
    assert_eq!(total["abandoned"], 1);
    assert_eq!(total["waiting"], 0);
    assert_eq!(
        total["answeredInTarget"], 3,
        "waits on loopback are far below 20 s"
    );
    assert_eq!(total["serviceLevel"], 0.75);
    assert_eq!(total["abandonRate"], 0.25);
    assert!(total["avgWaitMs"].as_u64().is_some() && total["p90WaitMs"].as_u64().is_some());
    assert!(
        total["avgHandleMs"].as_u64().is_some() && total["avgAbandonedWaitMs"].as_u64().is_some()
    );
    assert_eq!(total["rated"], 1);
    assert_eq!(total["satisfaction"].as_array().unwrap().len(), 1);
    assert_eq!(total["satisfaction"][0]["value"], 5);
    assert_eq!(total["satisfaction"][0]["sessions"], 1);
    assert_eq!(report["timeZone"], "UTC");
    assert_eq!(report["targetWaitS"], 20);
    let days = report["days"].as_array().unwrap();
    assert!(
        days.len() >= 3,
        "every day of the range is listed: {report}"
    );
    assert_eq!(
        days.iter()
            .map(|d| d["sessions"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
    let per_group: Vec<(u64, u64, u64)> = report["skillGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["skillGroupId"].as_u64().unwrap(),
                g["sessions"].as_u64().unwrap(),
                g["abandoned"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut expected = vec![(d.support, 2, 0), (d.sales, 1, 0), (night, 1, 1)];
    expected.sort();
    assert_eq!(per_group, expected);
    assert_eq!(
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["sessions"].as_u64().unwrap())
            .sum::<u64>(),
        4
    );
    let named = report["skillGroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["skillGroupId"].as_u64() == Some(night))
        .unwrap();
    assert_eq!(named["name"], "night");

    // A group filter, a zero-second target and another time zone.
    let support_only = s
        .get(
            admin,
            &format!("/analysis/report?{range}&groupId={}", d.support),
        )
        .await;
    assert_eq!(support_only["total"]["sessions"], 2);
    let strict = s
        .get(
            admin,
            &format!("/analysis/report?{range}&targetWaitS=0&timeZone=Asia/Shanghai"),
        )
        .await;
    assert_eq!(strict["timeZone"], "Asia/Shanghai");
    assert!(strict["total"]["answeredInTarget"].as_u64().unwrap() <= 3);

    // A role scoped to sales sees sales only; agents and roles without the module are refused.
    let role = s
        .ok(
            admin,
            Method::POST,
            "/roles",
            json!({"name": "sales analyst", "scopes": [{"module": "data_analysis", "groups": [d.sales]}]}),
        )
        .await;
    let (_, analyst) = s
        .agent(
            admin,
            "analyst@example.com",
            role["id"].as_u64().unwrap(),
            &[],
        )
        .await;
    let scoped = s.get(&analyst, &format!("/analysis/report?{range}")).await;
    assert_eq!(scoped["total"]["sessions"], 1, "{scoped}");
    assert_eq!(scoped["skillGroups"].as_array().unwrap().len(), 1);
    let (status, body) = s
        .call(
            &analyst,
            Method::GET,
            &format!("/analysis/report?{range}&groupId={}", d.support),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = s
        .call(
            &d.ann.1,
            Method::GET,
            &format!("/analysis/report?{range}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Bad parameters name their field and change nothing.
    for (query, field) in [
        ("from=2026-13-01&to=2026-12-01".to_owned(), "from"),
        ("from=2026-11-02&to=2026-11-01".to_owned(), "to"),
        ("from=2024-01-01&to=2026-11-01".to_owned(), "to"),
        (format!("{range}&timeZone=Mars/Olympus"), "timeZone"),
        (format!("{range}&targetWaitS=90000"), "targetWaitS"),
        (format!("{range}&groupId=999999"), "groupId"),
    ] {
        let (status, body) = s
            .call(
                admin,
                Method::GET,
                &format!("/analysis/report?{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(field_of(&body), field, "{query}: {body}");
    }
    let (status, _) = s
        .call(admin, Method::GET, "/analysis/report?from=2026-11-01", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "`to` is required");
    u4.close().await;
    dan_ws.close().await;
    d.s.stop().await;
}

#[tokio::test]
async fn the_search_index_is_rebuilt_from_the_log_when_deleted_or_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let d = desk(dir.path()).await;
    let queries = [
        "keyword=parcel",
        "keyword=refund",
        "keyword=thank%20rating",
        "",
    ];
    let mut before = Vec::new();
    for q in queries {
        before.push(all(&d.s, &d.admin, q).await);
    }
    assert_eq!(before[0].len(), 2);
    let (admin_email, admin_password) = (ADMIN_EMAIL, ADMIN_PASSWORD);
    d.s.stop().await;
    let index_dir = dir.path().join(helpline::records::INDEX_DIR);
    assert!(index_dir.join("meta.json").exists());

    // Kept: a restart indexes nothing again and answers the same.
    // Deleted: built again from the log. Damaged: the same.
    for damage in ["none", "delete", "garble"] {
        match damage {
            "delete" => std::fs::remove_dir_all(&index_dir).unwrap(),
            "garble" => std::fs::write(index_dir.join("meta.json"), b"{not json").unwrap(),
            _ => {}
        }
        let s = Server::start(dir.path()).await;
        let (status, body) = s.login(admin_email, admin_password).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let admin = body["token"].as_str().unwrap().to_owned();
        for (q, want) in queries.iter().zip(&before) {
            assert_eq!(&all(&s, &admin, q).await, want, "after {damage}: {q}");
        }
        assert!(index_dir.join("meta.json").exists());
        let searcher = s.state.records.service().unwrap().view().searcher().clone();
        assert_eq!(
            searcher.len(),
            3,
            "after {damage}: one document per session"
        );
        s.stop().await;
    }
}

// ---- a generated corpus ------------------------------------------------------------------

/// Every record a viewer lists with `filter` and `keyword`, page after page.
fn listed(
    view: &View,
    app: AppId,
    viewer: &Viewer,
    filter: &Filter,
    keyword: Option<&str>,
) -> Vec<SessionId> {
    let words = keyword.map(|k| text::keyword_terms("keyword", k).unwrap());
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = view
            .list(app, viewer, filter, words.as_deref(), after, 100)
            .unwrap();
        out.extend(page.records.iter().map(|r| r.session));
        match page.next {
            Some(c) => after = Some(c),
            None => return out,
        }
    }
}

/// What the generator says the same query must list, newest first.
fn expected(
    truth: &[Truth],
    app: AppId,
    viewer: &Viewer,
    filter: &Filter,
    keyword: Option<&str>,
) -> Vec<SessionId> {
    let words: Vec<String> = keyword
        .map(|k| k.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    let mut out: Vec<&Truth> = truth
        .iter()
        .filter(|t| t.app == app)
        .filter(|t| match viewer {
            Viewer::Own(a) => t.agents.contains(a),
            Viewer::Scoped { scope, agent } => {
                let in_scope = match scope {
                    Scope::All => true,
                    Scope::Only(g) => t.groups.iter().any(|x| g.contains(x)),
                };
                in_scope || agent.is_some_and(|a| t.agents.contains(&a))
            }
        })
        .filter(|t| filter.from_ms.is_none_or(|f| t.created_at_ms >= f))
        .filter(|t| filter.to_ms.is_none_or(|to| t.created_at_ms < to))
        .filter(|t| filter.group.is_none_or(|g| t.groups.contains(&g)))
        .filter(|t| filter.agent.is_none_or(|a| t.agents.contains(&a)))
        .filter(|t| words.iter().all(|w| t.words.contains(w)))
        .collect();
    out.sort_by_key(|t| std::cmp::Reverse((t.created_at_ms, t.session)));
    out.into_iter().map(|t| t.session).collect()
}

#[test]
fn a_hundred_thousand_sessions_filter_exactly() {
    let watch = helpline::clock::stopwatch();
    let spec = Spec::of(0x5EED_2026, 100_000);
    let corpus = corpus::generate(&spec);
    let generated = watch.elapsed();
    assert_eq!(corpus.truth.len(), 100_000);

    let dir = tempfile::tempdir().unwrap();
    let last = corpus.envelopes.last().unwrap().seq;
    let opened = index::open(&dir.path().join("index"), last).unwrap();
    let mut follower = Follower::new(opened.writer);
    let watch = helpline::clock::stopwatch();
    follower
        .ingest(corpus.envelopes.iter().cloned().map(Ok), u64::MAX)
        .unwrap();
    follower.commit().unwrap();
    let indexed = watch.elapsed();
    assert_eq!(follower.indexed_seq(), last);
    let view = follower.view();
    assert_eq!(view.len(), 100_000);
    assert_eq!(view.searcher().len(), 100_000);

    let (app1, app2) = (AppId(1), AppId(2));
    let all = Viewer::Scoped {
        scope: Scope::All,
        agent: None,
    };
    let day = 86_400_000;
    let from = spec.start_ms + 3 * day;
    let to = spec.start_ms + 9 * day;
    let g = GroupId(103);
    let a = AgentId(10_007);
    let two_groups = Viewer::Scoped {
        scope: Scope::Only(BTreeSet::from([GroupId(101), GroupId(106)])),
        agent: Some(AgentId(10_003)),
    };
    let own = Viewer::Own(a);
    let range = Filter {
        from_ms: Some(from),
        to_ms: Some(to),
        ..Filter::default()
    };
    let cases: Vec<(&str, AppId, &Viewer, Filter, Option<&str>)> = vec![
        ("everything", app1, &all, Filter::default(), None),
        ("another app", app2, &all, Filter::default(), None),
        ("date range", app1, &all, range.clone(), None),
        (
            "group",
            app1,
            &all,
            Filter {
                group: Some(g),
                ..Filter::default()
            },
            None,
        ),
        (
            "agent",
            app1,
            &all,
            Filter {
                agent: Some(a),
                ..Filter::default()
            },
            None,
        ),
        ("common word", app1, &all, Filter::default(), Some("w0")),
        ("rare word", app1, &all, Filter::default(), Some("w3000")),
        (
            "no such word",
            app1,
            &all,
            Filter::default(),
            Some("nowhere"),
        ),
        ("two words", app1, &all, Filter::default(), Some("w1 w40")),
        (
            "the thanks after a rating",
            app2,
            &all,
            Filter::default(),
            Some("RATING"),
        ),
        (
            "word, group and dates",
            app1,
            &all,
            Filter {
                group: Some(g),
                ..range.clone()
            },
            Some("w2"),
        ),
        (
            "agent and word",
            app1,
            &all,
            Filter {
                agent: Some(a),
                ..Filter::default()
            },
            Some("w5"),
        ),
        ("an agent's own", app1, &own, Filter::default(), None),
        (
            "an agent's own with a word",
            app1,
            &own,
            range.clone(),
            Some("w3"),
        ),
        ("another app's agent", app2, &own, Filter::default(), None),
        (
            "two groups and own",
            app1,
            &two_groups,
            Filter::default(),
            None,
        ),
        (
            "two groups, dates, word",
            app1,
            &two_groups,
            range.clone(),
            Some("w0"),
        ),
    ];
    let mut figures = Vec::new();
    for (name, app, viewer, filter, keyword) in cases {
        let watch = helpline::clock::stopwatch();
        let got = listed(&view, app, viewer, &filter, keyword);
        let took = watch.elapsed();
        let want = expected(&corpus.truth, app, viewer, &filter, keyword);
        assert_eq!(got.len(), want.len(), "{name}: how many");
        assert!(
            got == want,
            "{name}: not the same sessions in the same order"
        );
        figures.push(format!("{name}: {} records in {took:.1?}", got.len()));
        if name != "no such word" && name != "another app's agent" {
            assert!(
                !want.is_empty(),
                "{name}: a case that finds nothing proves little"
            );
        }
    }
    // One page of a keyword query, the way the API asks it.
    let watch = helpline::clock::stopwatch();
    let words = text::keyword_terms("keyword", "w0").unwrap();
    let page = view
        .list(app1, &all, &Filter::default(), Some(&words), None, 20)
        .unwrap();
    let keyword_page = watch.elapsed();
    assert_eq!(page.records.len(), 20);

    println!(
        "100k corpus: {} events generated in {generated:.1?}; folded and indexed in {indexed:.1?}; \
         first page of a common keyword in {keyword_page:.1?}",
        corpus.envelopes.len()
    );
    for f in figures {
        println!("  {f}");
    }
}

#[tokio::test]
async fn chinese_keywords_find_chinese_transcripts_and_the_timeline_tells_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let d = desk(dir.path()).await;
    let (s, admin) = (&d.s, &d.admin);
    let now = s.state.clock.now_ms() / 1_000;
    let mut u4 = s
        .user_socket(&user_token(&d.secret, 1, "u4", now + 3_600), "")
        .await;
    let mut bob_ws = s.agent_socket(&d.bob.1).await;
    let zh = serve(
        &mut u4,
        &mut bob_ws,
        "desk",
        ("我想申请退款，谢谢", "好的，已为您办理iPhone退款", "谢谢"),
    )
    .await;

    // The list's keyword and the search inside the transcript cut Chinese the same way.
    assert_eq!(
        all(s, admin, "keyword=%E9%80%80%E6%AC%BE").await,
        [zh],
        "退款"
    );
    assert_eq!(
        all(s, admin, "keyword=iphone%20%E9%80%80%E6%AC%BE").await,
        [zh]
    );
    assert_eq!(
        all(s, admin, "keyword=%E8%AE%A2%E5%8D%95").await,
        Vec::<u64>::new(),
        "订单"
    );
    let found = s
        .get(admin, &format!("/records/{zh}?q=%E9%80%80%E6%AC%BE"))
        .await;
    let hits: Vec<u64> = found["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["body"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("退款"))
        })
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(hits.len(), 2);
    assert_eq!(found["matches"], json!(hits));

    // The timeline: every step of the session's life, words-free.
    let t = s.get(admin, &format!("/records/{zh}/timeline")).await;
    assert_eq!(t["sessionId"].as_u64(), Some(zh));
    let kinds: Vec<&str> = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| !k.ends_with("_message"))
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "queued",
            "queue_deadline_set",
            "offered",
            "accepted",
            "ended",
            "rating_invited"
        ],
        "{t}"
    );
    let offered = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "offered")
        .unwrap();
    assert_eq!(offered["agentId"].as_u64(), Some(d.bob.0));
    assert_eq!(offered["groupId"].as_u64(), Some(d.support));
    assert!(offered["decision"]["rule"].is_string(), "{offered}");
    assert!(offered["decision"]["considered"].as_u64() >= Some(1));
    assert_eq!(t_find(&t, "ended")["closeBy"], "seat");
    let mut at = 0;
    for e in t["entries"].as_array().unwrap() {
        assert!(e["atMs"].as_i64().unwrap() >= at, "in order: {t}");
        at = e["atMs"].as_i64().unwrap();
    }

    // Scoped like the record: Carl did not serve it, Ann's rated session has its rating.
    let (status, _) = s
        .call(
            &d.carl.1,
            Method::GET,
            &format!("/records/{zh}/timeline"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let first = s
        .get(admin, &format!("/records/{}/timeline", d.sessions[0]))
        .await;
    let rated = t_find(&first, "rated");
    assert_eq!(rated["value"], 5, "{first}");
    let (status, _) = s
        .call(admin, Method::GET, "/records/999999/timeline", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    u4.close().await;
    bob_ws.close().await;
    d.s.stop().await;
}

fn t_find<'a>(timeline: &'a Value, kind: &str) -> &'a Value {
    timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {timeline}"))
}
