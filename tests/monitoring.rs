//! The console's real-time monitoring over HTTP (`/monitoring/groups`, `/monitoring/agents`)
//! with a real user and agents on sockets: queue, longest wait, agents by status, load and
//! the counters move with the traffic, and each role sees only the skill groups and agents
//! of its scope.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn text(id: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": "hello"}})
}

fn flag(id: &str, src: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "onlineUserOnly": true,
           "body": desk_body(json!({"customerServicePlugin": 0, "src": src}))})
}

async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await
}

fn group(view: &Value, id: u64) -> &Value {
    view["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["skillGroupId"].as_u64() == Some(id))
        .unwrap_or_else(|| panic!("no group {id} in {view}"))
}

fn agent(view: &Value, id: u64) -> &Value {
    view["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agentId"].as_u64() == Some(id))
        .unwrap_or_else(|| panic!("no agent {id} in {view}"))
}

fn agent_ids(view: &Value) -> Vec<u64> {
    view["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agentId"].as_u64().unwrap())
        .collect()
}

/// The token of an account whose role monitors only `sales`.
async fn sales_lead(s: &Server, admin: &str, sales: u64) -> String {
    let role = s
        .ok(
            admin,
            Method::POST,
            "/roles",
            json!({"name": "sales lead", "scopes": [{"module": "monitoring", "groups": [sales]}]}),
        )
        .await;
    let (_, lead) = s
        .agent(admin, "lead@example.com", role["id"].as_u64().unwrap(), &[])
        .await;
    lead
}

#[tokio::test]
async fn monitoring_follows_queues_statuses_and_load_within_each_roles_scope() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let support = end.group;
    let sales = s.group(&admin, "sales").await;
    let (ann_id, ann_token) = s.agent(&admin, "ann@example.com", 2, &[support]).await;
    let (carl_id, _) = s.agent(&admin, "carl@example.com", 2, &[sales]).await;
    let mut ann = s.agent_socket(&ann_token).await;
    ann.until(of_type("state")).await;

    // At rest: Ann free in support, Carl never signed in.
    let groups = s.get(&admin, "/monitoring/groups").await;
    let g = group(&groups, support);
    assert_eq!(g["queueLength"], 0);
    assert_eq!(g["longestWaitMs"], Value::Null);
    assert_eq!(g["agents"]["free"], 1, "{g}");
    assert_eq!(g["members"], 1);
    assert_eq!(g["freeCapacity"], g["receptionLimit"], "{g}");
    assert_eq!(group(&groups, sales)["agents"]["offline"], 1);
    let agents = s.get(&admin, "/monitoring/agents").await;
    assert_eq!(agent(&agents, ann_id)["status"], "free");
    assert_eq!(agent(&agents, carl_id)["status"], "offline");
    assert_eq!(agent(&agents, ann_id)["skillGroupIds"], json!([support]));

    // Ann goes busy; a user waits in support's queue: the queue and its wait show.
    ann.send(json!({"type": "status", "status": "busy"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let now = s.state.clock.now_ms() / 1_000;
    let mut bea = s
        .user_socket(&user_token(&end.secret, 1, "bea", now + 600), "")
        .await;
    bea.send(text("b1")).await;
    bea.until(of_type("queue")).await;
    let groups = s.get(&admin, "/monitoring/groups").await;
    let g = group(&groups, support);
    assert_eq!(g["queueLength"], 1, "{g}");
    assert!(g["longestWaitMs"].as_u64().is_some(), "{g}");
    assert_eq!(g["agents"]["busy"], 1);
    assert_eq!(g["freeCapacity"], 0);
    assert_eq!(groups["queueLength"], 1);
    assert_eq!(groups["agents"]["busy"], 1);
    assert_eq!(
        agent(&s.get(&admin, "/monitoring/agents").await, ann_id)["status"],
        "busy"
    );

    // Ann is free again: the waiting user is offered, accepted and in service.
    ann.send(json!({"type": "status", "status": "free"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let offer = ann.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    let offered = s.get(&admin, "/monitoring/agents").await;
    assert_eq!(agent(&offered, ann_id)["offers"], 1, "{offered}");
    ann.send(json!({"type": "accept", "sessionId": session}))
        .await;
    assert_eq!(answer(&mut ann, "accept").await["type"], "ok");
    let serving = s.get(&admin, "/monitoring/groups").await;
    let g = group(&serving, support);
    assert_eq!(
        (g["queueLength"].as_u64(), g["inService"].as_u64()),
        (Some(0), Some(1)),
        "{g}"
    );
    assert_eq!(
        (g["offers"].as_u64(), g["accepts"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(g["avgQueueWaitMs"].as_u64().is_some(), "{g}");
    assert_eq!(
        g["freeCapacity"].as_u64(),
        g["receptionLimit"].as_u64().map(|l| l - 1),
        "{g}"
    );
    let a = s.get(&admin, "/monitoring/agents").await;
    let a = agent(&a, ann_id);
    assert_eq!(
        (a["sessions"].as_u64(), a["offers"].as_u64()),
        (Some(1), Some(0)),
        "{a}"
    );
    let limit = a["receptionLimit"].as_u64().unwrap();
    assert!(limit >= 1);
    assert_eq!(a["load"].as_f64(), Some(1.0 / limit as f64));

    // The user leaves: handle time counted, nothing in service.
    bea.send(flag("b2", "27")).await;
    ann.until(of_type("ended")).await;
    let ended = s.get(&admin, "/monitoring/groups").await;
    let g = group(&ended, support);
    assert_eq!(g["inService"], 0);
    assert!(g["avgHandleMs"].as_u64().is_some(), "{g}");
    assert_eq!(
        agent(&s.get(&admin, "/monitoring/agents").await, ann_id)["sessions"],
        0
    );

    // A role scoped to sales sees sales and its agents only; asking for support is refused.
    let lead = sales_lead(&s, &admin, sales).await;
    let seen = s.get(&lead, "/monitoring/groups").await;
    let ids: Vec<u64> = seen["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["skillGroupId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [sales]);
    assert_eq!(
        agent_ids(&s.get(&lead, "/monitoring/agents").await),
        [carl_id]
    );
    let (status, body) = s
        .call(
            &lead,
            Method::GET,
            &format!("/monitoring/agents?groupId={support}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        agent_ids(
            &s.get(&admin, &format!("/monitoring/agents?groupId={support}"))
                .await
        ),
        [ann_id]
    );

    // Agents and roles without the module are refused; bad parameters name their field.
    for path in ["/monitoring/groups", "/monitoring/agents"] {
        let (status, body) = s.call(&ann_token, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
    let (status, body) = s
        .call(
            &admin,
            Method::GET,
            "/monitoring/agents?groupId=999999",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(field_of(&body), "groupId");
    let (status, body) = s
        .call(&admin, Method::GET, "/monitoring/agents?group=1", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    s.stop().await;
}

#[tokio::test]
async fn the_queue_says_why_a_session_waits_and_why_an_offer_went_to_its_agent() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let end = s.user_end(&admin, (false, false, false)).await;
    let support = end.group;
    let sales = s.group(&admin, "sales").await;
    let (ann_id, ann_token) = s.agent(&admin, "ann@example.com", 2, &[support]).await;
    let (bob_id, _) = s.agent(&admin, "bob@example.com", 2, &[support]).await;
    let mut ann = s.agent_socket(&ann_token).await;
    ann.until(of_type("state")).await;
    ann.send(json!({"type": "status", "status": "busy"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let busy = s.get(&admin, "/monitoring/agents").await;
    assert!(
        agent(&busy, ann_id)["statusSinceMs"].as_i64().is_some(),
        "{busy}"
    );

    // A user waits: Ann is busy, Bob offline, and the queue says so.
    let now = s.state.clock.now_ms() / 1_000;
    let mut bea = s
        .user_socket(&user_token(&end.secret, 1, "bea", now + 600), "")
        .await;
    bea.send(text("b1")).await;
    bea.until(of_type("queue")).await;
    let q = s.get(&admin, "/monitoring/queue").await;
    assert_eq!(q["policy"]["basic"], "fifo", "{q}");
    let g = group(&q, support);
    assert_eq!(g["queueLength"], 1, "{g}");
    let waiting = &g["sessions"][0];
    let session = waiting["sessionId"].as_u64().unwrap();
    assert_eq!(waiting["position"], 0);
    assert!(waiting["waitMs"].as_u64().is_some());
    let why: Vec<(u64, &str, &str)> = waiting["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["agentId"].as_u64().unwrap(),
                m["reason"].as_str().unwrap(),
                m["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        why,
        [(ann_id, "not_free", "busy"), (bob_id, "offline", "offline")],
        "{waiting}"
    );
    assert_eq!(q["offers"], json!([]));

    // Ann is free: the offer and why it went to her.
    ann.send(json!({"type": "status", "status": "free"})).await;
    assert_eq!(answer(&mut ann, "status").await["type"], "ok");
    let offer = ann.until(of_type("offer")).await;
    assert_eq!(offer["sessionId"].as_u64(), Some(session));
    let q = s.get(&admin, "/monitoring/queue").await;
    assert_eq!(group(&q, support)["sessions"], json!([]), "{q}");
    let offers = q["offers"].as_array().unwrap();
    assert_eq!(offers.len(), 1, "{q}");
    assert_eq!(offers[0]["sessionId"].as_u64(), Some(session));
    assert_eq!(offers[0]["agentId"].as_u64(), Some(ann_id));
    assert_eq!(offers[0]["skillGroupId"].as_u64(), Some(support));
    let d = &offers[0]["decision"];
    assert_eq!(d["rule"], "only_candidate", "{d}");
    assert_eq!(
        (d["considered"].as_u64(), d["skipped"]["offline"].as_u64()),
        (Some(2), Some(1))
    );

    // A role scoped to sales sees neither support's queue nor its offer.
    let lead = sales_lead(&s, &admin, sales).await;
    let seen = s.get(&lead, "/monitoring/queue").await;
    let ids: Vec<u64> = seen["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["skillGroupId"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [sales]);
    assert_eq!(seen["offers"], json!([]));
    let (status, _) = s
        .call(&ann_token, Method::GET, "/monitoring/queue", None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;
}
