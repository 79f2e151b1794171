//! The management API over real HTTP on loopback: every resource created, read, updated and
//! deleted; roles without a module refused; lists cut to the role's skill groups; apps
//! isolated from each other; one login place; sign-in rate limits; CSV imports good and bad;
//! every kind of bad input refused with the field named and nothing changed; and a restart
//! that brings every configured resource back exactly.

mod common;

use common::*;
use helpline::api::{self, ApiConfig, SignOutNotice};
use helpline::domain::directory::SignOutCause;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn first_sign_in_password_change_and_me() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let me = s.get(&admin, "/auth/me").await;
    assert_eq!(me["roleName"], "administrator");
    assert_eq!(me["modules"].as_array().unwrap().len(), 8);

    let (status, body) = s.login(ADMIN_EMAIL, "wrong-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = s.call("", Method::GET, "/agents", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = s.call("hl_not-a-token", Method::GET, "/agents", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A new account must change its first password before anything else.
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/agents",
            json!({"name": "Ann Lee", "nickname": "Ann", "staffNo": "1001",
                   "email": "Ann@Example.com", "roleId": 2}),
        )
        .await;
    assert_eq!(created["agent"]["email"], "ann@example.com");
    let first = created["password"].as_str().unwrap();
    let (_, body) = s.login("ann@example.com", first).await;
    let token = body["token"].as_str().unwrap();
    let (status, body) = s.call(token, Method::GET, "/quick-replies", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "password_change_required");
    let (status, body) = s
        .call(
            token,
            Method::POST,
            "/auth/password",
            Some(json!({"currentPassword": first, "newPassword": "short"})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "newPassword")
    );
    let (status, body) = s
        .call(
            token,
            Method::POST,
            "/auth/password",
            Some(json!({"currentPassword": "not-it-at-all", "newPassword": "a-new-password"})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "currentPassword")
    );
    let (status, changed) = s
        .call(
            token,
            Method::POST,
            "/auth/password",
            Some(json!({"currentPassword": first, "newPassword": "a-new-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    // The change ends the sign-in that made it, and answers a fresh one.
    let (status, _) = s.call(token, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old sign-in ended");
    let token = changed["token"].as_str().unwrap();
    assert_eq!(changed["mustChangePassword"], false);
    s.get(token, "/quick-replies").await;
    let (status, _) = s.login("ann@example.com", first).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the first password is gone"
    );

    // Logout ends the token.
    let (status, _) = s.call(token, Method::POST, "/auth/logout", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.call(token, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn one_login_place_and_the_socket_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let (agent, first) = s.agent(&admin, "bob@example.com", 2, &[]).await;
    let mut notices = s.state.signouts.subscribe();
    let (status, body) = s.login("bob@example.com", "bob-own-password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["token"].as_str().unwrap();
    let (status, body) = s.call(&first, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    s.get(second, "/auth/me").await;
    let notice = notices.recv().await.unwrap();
    assert_eq!(
        notice,
        SignOutNotice {
            app: helpline::domain::ids::AppId(1),
            agent: helpline::domain::ids::AgentId(agent),
            cause: SignOutCause::NewLogin
        }
    );
    // The admin's own login is untouched.
    s.get(&admin, "/auth/me").await;
    s.stop().await;
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_account_and_per_address() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    for _ in 0..helpline::domain::signin::FREE_FAILURES {
        let (status, _) = s.login(ADMIN_EMAIL, "wrong-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let resp = s
        .http
        .post(format!("{}/auth/login", s.base))
        .json(&json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");

    // The address limit counts every attempt, whatever the account.
    let mut limited = false;
    for i in 0..api::auth::ADDRESS_ATTEMPTS {
        let (status, _) = s
            .login(&format!("nobody{i}@example.com"), "wrong-password")
            .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "the address limit never answered 429");
    s.stop().await;
}

#[tokio::test]
async fn roles_open_modules_and_cut_lists_to_their_skill_groups() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let presales = s.group(&admin, "presales").await;
    let aftersales = s.group(&admin, "aftersales").await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[presales]).await;
    let (_bob, _) = s.agent(&admin, "bob@example.com", 2, &[aftersales]).await;

    let role = s
        .ok(
            &admin,
            Method::POST,
            "/roles",
            json!({"name": "presales lead", "scopes": [
                {"module": "agents", "groups": [presales]},
                {"module": "skill_groups", "groups": [presales]}]}),
        )
        .await;
    let role_id = role["id"].as_u64().unwrap();
    let (_, lead) = s
        .agent(&admin, "lead@example.com", role_id, &[presales])
        .await;

    // Lists hold only what the range covers.
    let agents = s.get(&lead, "/agents").await;
    let emails: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["ann@example.com", "lead@example.com"]);
    let groups = s.get(&lead, "/skill-groups").await;
    assert_eq!(groups.as_array().unwrap().len(), 1);
    assert_eq!(groups[0]["id"], presales);
    let (status, _) = s
        .call(
            &lead,
            Method::GET,
            &format!("/skill-groups/{aftersales}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let all = s.get(&admin, "/agents").await;
    let bob = all
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["email"] == "bob@example.com")
        .unwrap();
    let (status, _) = s
        .call(&lead, Method::GET, &format!("/agents/{}", bob["id"]), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.get(&lead, &format!("/agents/{ann}")).await;

    // A ranged role manages agents, not administrators in its groups.
    let (chief, _) = s.agent(&admin, "chief@example.com", 1, &[presales]).await;
    for (method, path) in [
        (Method::POST, format!("/agents/{chief}/password-reset")),
        (Method::POST, format!("/agents/{chief}/force-offline")),
        (Method::DELETE, format!("/agents/{chief}")),
        (Method::PATCH, format!("/agents/{chief}")),
    ] {
        let (status, body) = s.call(&lead, method.clone(), &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
    }
    let (status, _) = s
        .call(
            &lead,
            Method::POST,
            &format!("/agents/{ann}/password-reset"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "an agent of its group it may reset");

    // Modules outside the role are refused.
    for (method, path) in [
        (Method::GET, "/settings"),
        (Method::GET, "/channels"),
        (Method::GET, "/satisfaction-configs"),
        (Method::GET, "/roles"),
        (Method::GET, "/api-keys"),
        (Method::GET, "/apps"),
    ] {
        let (status, body) = s.call(&lead, method, path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }
    let (status, _) = s
        .call(
            &lead,
            Method::POST,
            "/skill-groups",
            Some(json!({"name": "x", "receptionLimit": 1})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a ranged role cannot create groups"
    );
    let (status, body) = s
        .call(
            &lead,
            Method::POST,
            "/agents",
            Some(
                json!({"name": "Eve", "nickname": "Eve", "staffNo": "9", "email": "eve@example.com",
                   "roleId": 1, "skillGroupIds": [presales]}),
            ),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "no escalation to administrator: {body}"
    );
    let (status, body) = s
        .call(
            &lead,
            Method::POST,
            "/agents",
            Some(
                json!({"name": "Eve", "nickname": "Eve", "staffNo": "9", "email": "eve@example.com",
                   "roleId": 2, "skillGroupIds": [aftersales]}),
            ),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "skillGroupIds")
    );

    // A plain agent opens no module; it still reads quick replies and rest reasons.
    let (_, agent) = s.agent(&admin, "cat@example.com", 2, &[]).await;
    let (status, _) = s.call(&agent, Method::GET, "/agents", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.get(&agent, "/quick-replies").await;
    s.get(&agent, "/settings/rest-reasons").await;

    // Roles: built-ins fixed, a held role cannot go, rename works.
    let (status, _) = s.call(&admin, Method::DELETE, "/roles/1", None).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = s
        .call(&admin, Method::DELETE, &format!("/roles/{role_id}"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let renamed = s
        .ok(
            &admin,
            Method::PUT,
            &format!("/roles/{role_id}"),
            json!({"name": "lead", "scopes": []}),
        )
        .await;
    assert_eq!(renamed["name"], "lead");
    let (status, _) = s.call(&lead, Method::GET, "/agents", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the new scopes hold at once");
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/roles",
            Some(json!({"name": "Administrator", "scopes": []})),
        )
        .await;
    assert_eq!((status, field_of(&body)), (StatusCode::BAD_REQUEST, "name"));
    s.stop().await;
}

#[tokio::test]
async fn apps_are_isolated_from_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "presales").await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[group]).await;
    let reply = s
        .ok(
            &admin,
            Method::POST,
            "/quick-replies",
            json!({"group": "greetings", "title": "hi", "content": "Hello!"}),
        )
        .await;

    let created = s
        .ok(
            &admin,
            Method::POST,
            "/apps",
            json!({"name": "second desk", "adminEmail": "boss@second.example"}),
        )
        .await;
    let password = created["adminPassword"].as_str().unwrap();
    let (status, body) = s.login("boss@second.example", password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["appId"], created["app"]["id"]);
    let first = body["token"].as_str().unwrap().to_owned();
    // The change answers the sign-in that goes on (the first one ended with it).
    let other = s
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

    // Nothing of app 1 is visible or changeable from app 2.
    assert_eq!(s.get(&other, "/skill-groups").await, json!([]));
    assert_eq!(s.get(&other, "/quick-replies").await, json!([]));
    let agents = s.get(&other, "/agents").await;
    assert_eq!(
        agents.as_array().unwrap().len(),
        1,
        "only its own administrator"
    );
    for (method, path, body) in [
        (Method::GET, format!("/agents/{ann}"), None),
        (Method::DELETE, format!("/agents/{ann}"), None),
        (Method::POST, format!("/agents/{ann}/force-offline"), None),
        (Method::GET, format!("/skill-groups/{group}"), None),
        (
            Method::PATCH,
            format!("/skill-groups/{group}"),
            Some(json!({"name": "mine"})),
        ),
        (Method::GET, format!("/quick-replies/{}", reply["id"]), None),
        (
            Method::DELETE,
            format!("/quick-replies/{}", reply["id"]),
            None,
        ),
    ] {
        let (status, out) = s.call(&other, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {out}");
    }
    // An agent of app 1 cannot join a group of app 2.
    let theirs = s.group(&other, "theirs").await;
    let (status, _) = s
        .call(
            &other,
            Method::PUT,
            &format!("/skill-groups/{theirs}/members/{ann}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.get(&admin, "/skill-groups")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Only owners (administrators of the first app) manage apps.
    let (status, _) = s.call(&other, Method::GET, "/apps", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(s.get(&admin, "/apps").await.as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn agents_lifecycle_force_offline_resume_reset_delete() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let g1 = s.group(&admin, "presales").await;
    let g2 = s.group(&admin, "aftersales").await;
    let (ann, token) = s.agent(&admin, "ann@example.com", 2, &[g1]).await;

    let edited = s
        .ok(
            &admin,
            Method::PATCH,
            &format!("/agents/{ann}"),
            json!({"name": "Ann Lee", "nickname": "Annie", "skillGroupIds": [g2]}),
        )
        .await;
    assert_eq!(edited["nickname"], "Annie");
    assert_eq!(edited["skillGroups"].as_array().unwrap().len(), 1);
    assert_eq!(edited["skillGroups"][0]["id"], g2);
    let filtered = s
        .get(&admin, &format!("/agents?skillGroupId={g2}&q=annie"))
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(s.get(&admin, "/agents?q=nobody").await, json!([]));

    // Force offline: the login ends and no new one until resumed.
    let forced = s
        .ok(
            &admin,
            Method::POST,
            &format!("/agents/{ann}/force-offline"),
            json!({}),
        )
        .await;
    assert_eq!(forced["forcedOffline"], true);
    let (status, _) = s.call(&token, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.login("ann@example.com", "ann-own-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forced_offline");
    let (status, _) = s
        .call(
            &admin,
            Method::POST,
            &format!("/agents/{ann}/force-offline"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "already forced");
    s.ok(
        &admin,
        Method::POST,
        &format!("/agents/{ann}/resume"),
        json!({}),
    )
    .await;
    let (status, _) = s.login("ann@example.com", "ann-own-password").await;
    assert_eq!(status, StatusCode::OK);

    // Reset: a new random password, the old one and the login end.
    let reset = s
        .ok(
            &admin,
            Method::POST,
            &format!("/agents/{ann}/password-reset"),
            json!({}),
        )
        .await;
    let new = reset["password"].as_str().unwrap();
    let (status, _) = s.login("ann@example.com", "ann-own-password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = s.login("ann@example.com", new).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["mustChangePassword"], true);

    // Delete: no more sign-in; listed only with include_deleted; the group stays.
    let (status, _) = s
        .call(&admin, Method::DELETE, &format!("/agents/{ann}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.login("ann@example.com", new).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let live = s.get(&admin, "/agents").await;
    assert!(live.as_array().unwrap().iter().all(|a| a["id"] != ann));
    let all = s.get(&admin, "/agents?includeDeleted=true").await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == ann && a["deleted"] == true)
    );
    assert_eq!(
        s.get(&admin, &format!("/skill-groups/{g2}")).await["members"],
        json!([])
    );
    // The email is free again.
    let me = s.get(&admin, "/auth/me").await;
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/agents/{}", me["agentId"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "no deleting yourself");
    s.agent(&admin, "ann@example.com", 2, &[]).await;
    s.stop().await;
}

#[tokio::test]
async fn skill_groups_members_and_priorities() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let g = s.group(&admin, "presales").await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let group = s
        .ok(
            &admin,
            Method::PUT,
            &format!("/skill-groups/{g}/members/{ann}"),
            json!({}),
        )
        .await;
    assert_eq!(
        group["members"],
        json!([{"agentId": ann, "name": "ann", "priority": 3}])
    );
    let group = s
        .ok(
            &admin,
            Method::PUT,
            &format!("/skill-groups/{g}/members/{ann}"),
            json!({"priority": 1}),
        )
        .await;
    assert_eq!(group["members"][0]["priority"], 1);
    let (status, body) = s
        .call(
            &admin,
            Method::PUT,
            &format!("/skill-groups/{g}/members/{ann}"),
            Some(json!({"priority": 6})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "priority")
    );
    let group = s
        .ok(
            &admin,
            Method::PATCH,
            &format!("/skill-groups/{g}"),
            json!({"name": "sales", "receptionLimit": 5}),
        )
        .await;
    assert_eq!(
        (group["name"].as_str(), group["receptionLimit"].as_u64()),
        (Some("sales"), Some(5))
    );
    let (status, body) = s
        .call(
            &admin,
            Method::PATCH,
            &format!("/skill-groups/{g}"),
            Some(json!({"receptionLimit": 0})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "receptionLimit")
    );
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/skill-groups",
            Some(json!({"name": "Sales", "receptionLimit": 1})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "name"),
        "names are unique"
    );
    let group = s
        .ok(
            &admin,
            Method::DELETE,
            &format!("/skill-groups/{g}/members/{ann}"),
            json!({}),
        )
        .await;
    assert_eq!(group["members"], json!([]));
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/skill-groups/{g}/members/{ann}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.ok(
        &admin,
        Method::PUT,
        &format!("/skill-groups/{g}/members/{ann}"),
        json!({}),
    )
    .await;
    let (status, _) = s
        .call(&admin, Method::DELETE, &format!("/skill-groups/{g}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let agent = s.get(&admin, &format!("/agents/{ann}")).await;
    assert_eq!(
        agent["skillGroups"],
        json!([]),
        "members keep their accounts"
    );
    s.stop().await;
}

#[tokio::test]
async fn settings_rest_reasons_and_proactive_rule() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let mut settings = s.get(&admin, "/settings").await;
    settings["routing"]["basic"] = json!("agent_priority");
    settings["reception"]["acceptTimeoutSecs"] = json!(45);
    settings["loginStatus"] = json!("not_ready");
    let saved = s
        .ok(&admin, Method::PUT, "/settings", settings.clone())
        .await;
    assert_eq!(saved, settings);
    assert_eq!(s.get(&admin, "/settings").await, settings);
    for (path, value, field) in [
        (
            "/reception/acceptTimeoutSecs",
            json!(4),
            "reception.acceptTimeoutSecs",
        ),
        ("/userReplyTimeoutSecs", json!(30), "userReplyTimeoutSecs"),
        ("/routing/basic", json!("random"), "routing.basic"),
        ("/loginStatus", json!(1), "loginStatus"),
    ] {
        let mut bad = settings.clone();
        *bad.pointer_mut(path).unwrap() = value;
        let (status, body) = s.call(&admin, Method::PUT, "/settings", Some(bad)).await;
        assert_eq!(
            (status, field_of(&body)),
            (StatusCode::BAD_REQUEST, field),
            "{body}"
        );
    }
    assert_eq!(
        s.get(&admin, "/settings").await,
        settings,
        "refusals changed nothing"
    );

    let reason = s
        .ok(
            &admin,
            Method::POST,
            "/settings/rest-reasons",
            json!({"name": "lunch"}),
        )
        .await;
    assert_eq!(reason["enabled"], true);
    let off = s
        .ok(
            &admin,
            Method::PATCH,
            &format!("/settings/rest-reasons/{}", reason["id"]),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(off["enabled"], false);
    let (status, body) = s
        .call(
            &admin,
            Method::POST,
            "/settings/rest-reasons",
            Some(json!({"name": "Lunch"})),
        )
        .await;
    assert_eq!((status, field_of(&body)), (StatusCode::BAD_REQUEST, "name"));

    assert_eq!(
        s.get(&admin, "/settings/proactive").await,
        json!({"enabled": false, "timeoutSecs": 3600})
    );
    for bad in [59, 86_401] {
        let (status, body) = s
            .call(
                &admin,
                Method::PUT,
                "/settings/proactive",
                Some(json!({"enabled": true, "timeoutSecs": bad})),
            )
            .await;
        assert_eq!(
            (status, field_of(&body)),
            (StatusCode::BAD_REQUEST, "timeoutSecs")
        );
    }
    s.ok(
        &admin,
        Method::PUT,
        "/settings/proactive",
        json!({"enabled": true, "timeoutSecs": 86_400}),
    )
    .await;
    assert_eq!(s.get(&admin, "/settings/proactive").await["enabled"], true);
    s.stop().await;
}

fn stars(name: &str) -> Value {
    json!({"name": name, "kind": "star",
           "levels": [{"value": 1, "label": "Very dissatisfied"}, {"value": 5, "label": "Very satisfied"}],
           "invitationText": "Please rate this service", "thankYouText": "Thank you",
           "validitySecs": 3600,
           "sendRules": {"autoOnEnd": true, "agentMayInvite": true, "userMayRate": false}})
}

#[tokio::test]
async fn quick_replies_satisfaction_channels_extensions_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "presales").await;

    // Quick replies: CRUD and search.
    let r = s
        .ok(
            &admin,
            Method::POST,
            "/quick-replies",
            json!({"group": "greetings", "title": "Hello", "content": "Hi, how can I help?"}),
        )
        .await;
    let id = r["id"].as_u64().unwrap();
    s.ok(
        &admin,
        Method::POST,
        "/quick-replies",
        json!({"group": "prices", "title": "Discount", "content": "10% off today"}),
    )
    .await;
    assert_eq!(
        s.get(&admin, "/quick-replies?q=HELP")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.get(&admin, "/quick-replies?group=prices")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.get(&admin, "/quick-replies?q=help%20off").await,
        json!([]),
        "all words must match"
    );
    let updated = s
        .ok(
            &admin,
            Method::PUT,
            &format!("/quick-replies/{id}"),
            json!({"group": "greetings", "title": "Hello", "content": "Welcome!"}),
        )
        .await;
    assert_eq!(updated["content"], "Welcome!");
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/quick-replies/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .call(&admin, Method::GET, &format!("/quick-replies/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Satisfaction: CRUD; bound configurations cannot be deleted.
    let config = s
        .ok(
            &admin,
            Method::POST,
            "/satisfaction-configs",
            stars("stars"),
        )
        .await;
    let config_id = config["id"].as_u64().unwrap();
    let mut numeric = stars("numbers");
    numeric["kind"] = json!("numeric");
    s.ok(
        &admin,
        Method::PUT,
        &format!("/satisfaction-configs/{config_id}"),
        numeric,
    )
    .await;
    assert_eq!(
        s.get(&admin, &format!("/satisfaction-configs/{config_id}"))
            .await["kind"],
        "numeric"
    );

    // Channels: an in-app number and a website.
    let number = s
        .ok(
            &admin,
            Method::POST,
            "/channels",
            json!({"name": "Support", "kind": {"type": "in_app", "userId": "desk_support",
                   "avatarUrl": "https://cdn.example.com/a.png", "proactiveGroup": group},
                   "skillGroup": group, "satisfaction": config_id}),
        )
        .await;
    assert_eq!(number["kind"]["userId"], "desk_support");
    let site = s
        .ok(
            &admin,
            Method::POST,
            "/channels",
            json!({"name": "Web", "kind": {"type": "website"}, "skillGroup": group}),
        )
        .await;
    let web_app_id = site["kind"]["webAppId"].as_str().unwrap().to_owned();
    assert!(
        site["access"]["embedScript"]
            .as_str()
            .unwrap()
            .contains(&web_app_id)
    );
    assert_eq!(
        site["access"]["link"],
        format!("https://desk.example.com/web/im/chat/?webAppId={web_app_id}").as_str()
    );
    let site_id = site["id"].as_u64().unwrap();
    let renamed = s
        .ok(
            &admin,
            Method::PUT,
            &format!("/channels/{site_id}"),
            json!({"name": "Website", "kind": {"type": "website"}}),
        )
        .await;
    assert_eq!(
        renamed["kind"]["webAppId"],
        web_app_id.as_str(),
        "the webAppId stays"
    );
    let (status, body) = s
        .call(
            &admin,
            Method::PUT,
            &format!("/channels/{site_id}"),
            Some(json!({"name": "x", "kind": {"type": "in_app", "userId": "u"}})),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "kind.type")
    );
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/satisfaction-configs/{config_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "bound to the number");
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/skill-groups/{group}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "channels route to it");
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/channels/{}", number["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/satisfaction-configs/{config_id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Extensions: https only.
    let ext = s
        .ok(&admin, Method::POST, "/extensions", json!({"name": "Tickets", "url": "https://tickets.example.com/list/", "alwaysVisible": false, "enabled": true}))
        .await;
    let (status, body) = s
        .call(
            &admin,
            Method::PUT,
            &format!("/extensions/{}", ext["id"]),
            Some(json!({"name": "Tickets", "url": "http://tickets.example.com/", "alwaysVisible": true, "enabled": true})),
        )
        .await;
    assert_eq!((status, field_of(&body)), (StatusCode::BAD_REQUEST, "url"));
    assert_eq!(
        s.get(&admin, &format!("/extensions/{}", ext["id"])).await["url"],
        "https://tickets.example.com/list/"
    );
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/extensions/{}", ext["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // API keys act as administrators of their app until revoked.
    let key = s
        .ok(&admin, Method::POST, "/api-keys", json!({"name": "crm"}))
        .await;
    let secret = key["key"].as_str().unwrap();
    assert_eq!(
        s.get(secret, "/skill-groups")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(s.get(&admin, "/api-keys").await.to_string().contains("crm"));
    assert!(
        !s.get(&admin, "/api-keys")
            .await
            .to_string()
            .contains(secret)
    );
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!("/api-keys/{}", key["id"]),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = s.call(secret, Method::GET, "/skill-groups", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn csv_imports_good_and_bad() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    s.group(&admin, "presales").await;
    s.group(&admin, "aftersales").await;

    let template = s
        .http
        .get(format!("{}/agents/import-template", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(
        template.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(
        template.text().await.unwrap(),
        "name,nickname,staff_no,email,role,skill_groups\n"
    );

    // A bad file: every bad cell named by line and column, nothing imported.
    let before = s.snapshot(&admin).await;
    let bad = "name,nickname,staff_no,email,role,skill_groups\n\
               Ann,Ann,1001,ann@example.com,agent,presales\n\
               ,Bob,1002,bob@example,agent,nowhere\n\
               Cat,Cat,1001,ANN@example.com,chief,presales|aftersales\n";
    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/agents/import",
            "text/csv",
            bad.into(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut cells: Vec<(u64, String)> = body["error"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    cells.sort();
    assert_eq!(
        cells,
        [
            (3, "name".to_owned()),
            (3, "skill_groups".to_owned()),
            (4, "email".to_owned()),
            (4, "role".to_owned()),
            (4, "staff_no".to_owned())
        ],
        "{body}"
    );
    assert_eq!(s.snapshot(&admin).await, before, "nothing imported");

    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/agents/import",
            "text/csv",
            b"name,nick\nx,y\n".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["rows"][0]["column"], "nick");
    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/agents/import",
            "application/vnd.ms-excel",
            b"xx".to_vec(),
        )
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type")
    );

    // A good file: all in, with first passwords shown once.
    let good = "name,nickname,staff_no,email,role,skill_groups\n\
                Ann,Ann,1001,ann@example.com,agent,presales\n\
                Bob,Bob,1002,bob@example.com,Agent,presales|aftersales\n\
                \"Lee, Cat\",Cat,1003,cat@example.com,administrator,\n";
    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/agents/import",
            "text/csv",
            good.into(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let created = body["created"].as_array().unwrap();
    assert_eq!(created.len(), 3);
    assert_eq!(
        created[1]["agent"]["skillGroups"].as_array().unwrap().len(),
        2
    );
    assert_eq!(created[2]["agent"]["name"], "Lee, Cat");
    assert_eq!(created[2]["agent"]["roleId"], 1);
    let (status, _) = s
        .login("bob@example.com", created[1]["password"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);

    // Quick replies: template, a bad upload, a good one.
    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies/import",
            "text/csv",
            b"group,title,content\ngreet,,Hello\n".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["rows"],
        json!([{"row": 2, "column": "title", "message": "must be 1 to 100 characters, got 0"}])
    );
    assert_eq!(s.get(&admin, "/quick-replies").await, json!([]));
    let mut file = String::from("group,title,content\n");
    for i in 0..500 {
        file.push_str(&format!(
            "group {},title {i},\"content, number {i}\"\n",
            i % 7
        ));
    }
    let (status, body) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies/import",
            "text/csv",
            file.into(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        s.get(&admin, "/quick-replies")
            .await
            .as_array()
            .unwrap()
            .len(),
        500
    );
    assert_eq!(
        s.get(&admin, "/quick-replies?q=number%20499")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    s.stop().await;
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

#[tokio::test]
async fn every_bad_input_names_its_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let group = s.group(&admin, "presales").await;
    let (ann, _) = s.agent(&admin, "ann@example.com", 2, &[group]).await;
    let before = s.snapshot(&admin).await;

    let agent = |patch: Value| {
        let mut a = json!({"name": "Bob", "nickname": "Bob", "staffNo": "2", "email": "bob@example.com", "roleId": 2});
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                a.as_object_mut().unwrap().remove(k);
            } else {
                a[k] = v.clone();
            }
        }
        a
    };
    let cases: Vec<(Method, String, Value, StatusCode, &str)> = vec![
        // wrong type, missing field, out of range, unknown field, unknown id
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"name": 5})),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"email": null})),
            StatusCode::BAD_REQUEST,
            "email",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"email": "bob"})),
            StatusCode::BAD_REQUEST,
            "email",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"email": "ANN@example.com"})),
            StatusCode::BAD_REQUEST,
            "email",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"staffNo": "a b"})),
            StatusCode::BAD_REQUEST,
            "staffNo",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"name": ""})),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"roleId": 999})),
            StatusCode::BAD_REQUEST,
            "roleId",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"skillGroupIds": [999]})),
            StatusCode::BAD_REQUEST,
            "skillGroupIds",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"skillGroupIds": "x"})),
            StatusCode::BAD_REQUEST,
            "skillGroupIds",
        ),
        (
            Method::POST,
            "/agents".into(),
            agent(json!({"color": "red"})),
            StatusCode::BAD_REQUEST,
            "color",
        ),
        (
            Method::PATCH,
            format!("/agents/{ann}"),
            json!({"nickname": "x".repeat(65)}),
            StatusCode::BAD_REQUEST,
            "nickname",
        ),
        (
            Method::PATCH,
            "/agents/999999".into(),
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            "path",
        ),
        (
            Method::PATCH,
            "/agents/abc".into(),
            json!({"name": "x"}),
            StatusCode::BAD_REQUEST,
            "path",
        ),
        (
            Method::POST,
            "/skill-groups".into(),
            json!({"name": "x", "receptionLimit": -1}),
            StatusCode::BAD_REQUEST,
            "receptionLimit",
        ),
        (
            Method::POST,
            "/skill-groups".into(),
            json!({"name": "x", "receptionLimit": 1000}),
            StatusCode::BAD_REQUEST,
            "receptionLimit",
        ),
        (
            Method::POST,
            "/skill-groups".into(),
            json!({"receptionLimit": 1}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            Method::PUT,
            format!("/skill-groups/{group}/members/999999"),
            json!({}),
            StatusCode::NOT_FOUND,
            "path",
        ),
        (
            Method::POST,
            "/roles".into(),
            json!({"name": "r", "scopes": [{"module": "everything", "groups": null}]}),
            StatusCode::BAD_REQUEST,
            "scopes[0].module",
        ),
        (
            Method::POST,
            "/roles".into(),
            json!({"name": "r", "scopes": [{"module": "agents", "groups": [999]}]}),
            StatusCode::BAD_REQUEST,
            "scopes.groups",
        ),
        (
            Method::POST,
            "/roles".into(),
            json!({"name": "r", "scopes": [{"module": "agents", "groups": null}, {"module": "agents", "groups": null}]}),
            StatusCode::BAD_REQUEST,
            "scopes",
        ),
        (
            Method::POST,
            "/settings/rest-reasons".into(),
            json!({"name": " "}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            Method::PATCH,
            "/settings/rest-reasons/999999".into(),
            json!({"enabled": true}),
            StatusCode::NOT_FOUND,
            "path",
        ),
        (
            Method::PUT,
            "/settings/proactive".into(),
            json!({"enabled": "yes", "timeoutSecs": 60}),
            StatusCode::BAD_REQUEST,
            "enabled",
        ),
        (
            Method::POST,
            "/quick-replies".into(),
            json!({"group": "g", "title": "t", "content": "x".repeat(2001)}),
            StatusCode::BAD_REQUEST,
            "content",
        ),
        (
            Method::POST,
            "/quick-replies".into(),
            json!({"group": "g", "title": "t"}),
            StatusCode::BAD_REQUEST,
            "content",
        ),
        (
            Method::POST,
            "/satisfaction-configs".into(),
            stars("s").pipe(|mut v| {
                v["levels"] = json!([]);
                v
            }),
            StatusCode::BAD_REQUEST,
            "levels",
        ),
        (
            Method::POST,
            "/satisfaction-configs".into(),
            stars("s").pipe(|mut v| {
                v["levels"][0]["value"] = json!(11);
                v
            }),
            StatusCode::BAD_REQUEST,
            "levels.value",
        ),
        (
            Method::POST,
            "/satisfaction-configs".into(),
            stars("s").pipe(|mut v| {
                v["validitySecs"] = json!(0);
                v
            }),
            StatusCode::BAD_REQUEST,
            "validitySecs",
        ),
        (
            Method::POST,
            "/satisfaction-configs".into(),
            stars("s").pipe(|mut v| {
                v["kind"] = json!("emoji");
                v
            }),
            StatusCode::BAD_REQUEST,
            "kind",
        ),
        (
            Method::POST,
            "/satisfaction-configs".into(),
            stars("s").pipe(|mut v| {
                v["sendRules"] = json!({});
                v
            }),
            StatusCode::BAD_REQUEST,
            "sendRules.autoOnEnd",
        ),
        (
            Method::POST,
            "/channels".into(),
            json!({"name": "c", "kind": {"type": "in_app", "userId": ""}}),
            StatusCode::BAD_REQUEST,
            "kind.userId",
        ),
        (
            Method::POST,
            "/channels".into(),
            json!({"name": "c", "kind": {"type": "in_app", "userId": "u", "avatarUrl": "http://x.com/a.png"}}),
            StatusCode::BAD_REQUEST,
            "kind.avatarUrl",
        ),
        (
            Method::POST,
            "/channels".into(),
            json!({"name": "c", "kind": {"type": "fax"}}),
            StatusCode::BAD_REQUEST,
            "kind.type",
        ),
        (
            Method::POST,
            "/channels".into(),
            json!({"name": "c", "kind": {"type": "website"}, "flow": 5}),
            StatusCode::BAD_REQUEST,
            "flow",
        ),
        (
            Method::POST,
            "/channels".into(),
            json!({"name": "c", "kind": {"type": "website"}, "skillGroup": 999}),
            StatusCode::BAD_REQUEST,
            "skillGroup",
        ),
        (
            Method::POST,
            "/channels".into(),
            json!({"name": "c", "kind": {"type": "website"}, "satisfaction": 999}),
            StatusCode::BAD_REQUEST,
            "satisfaction",
        ),
        (
            Method::POST,
            "/extensions".into(),
            json!({"name": "e", "url": "http://x.com", "alwaysVisible": true, "enabled": true}),
            StatusCode::BAD_REQUEST,
            "url",
        ),
        (
            Method::POST,
            "/extensions".into(),
            json!({"name": "e", "url": "not a url", "alwaysVisible": true, "enabled": true}),
            StatusCode::BAD_REQUEST,
            "url",
        ),
        (
            Method::POST,
            "/api-keys".into(),
            json!({"name": ""}),
            StatusCode::BAD_REQUEST,
            "name",
        ),
        (
            Method::POST,
            "/apps".into(),
            json!({"name": "a", "adminEmail": "nope"}),
            StatusCode::BAD_REQUEST,
            "adminEmail",
        ),
    ];
    for (method, path, body, want, field) in cases {
        let (status, out) = s.call(&admin, method.clone(), &path, Some(body)).await;
        assert_eq!(status, want, "{method} {path}: {out}");
        assert_eq!(field_of(&out), field, "{method} {path}: {out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{out}"
        );
    }

    // Malformed JSON, the wrong media type, an oversize body.
    // Cut short inside a value: the field where it broke; not JSON at all: the body.
    let (status, out) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies",
            "application/json",
            b"{\"group\":".to_vec(),
        )
        .await;
    assert_eq!((status, field_of(&out)), (StatusCode::BAD_REQUEST, "group"));
    let (status, out) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies",
            "application/json",
            b"not json".to_vec(),
        )
        .await;
    assert_eq!((status, field_of(&out)), (StatusCode::BAD_REQUEST, "body"));
    let (status, out) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(
        (status, field_of(&out)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "Content-Type")
    );
    let huge = format!(
        "{{\"group\":\"g\",\"title\":\"t\",\"content\":\"{}\"}}",
        "x".repeat(100_000)
    );
    let (status, out) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies",
            "application/json",
            huge.into(),
        )
        .await;
    assert_eq!(
        (status, field_of(&out)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body")
    );
    let big_csv = format!("group,title,content\n{}", "g,t,c\n".repeat(200_000));
    let (status, out) = s
        .raw(
            &admin,
            Method::POST,
            "/quick-replies/import",
            "text/csv",
            big_csv.into(),
        )
        .await;
    assert_eq!(
        (status, field_of(&out)),
        (StatusCode::PAYLOAD_TOO_LARGE, "body")
    );
    let (status, out) = s
        .call(&admin, Method::GET, "/agents?includeDeleted=maybe", None)
        .await;
    assert_eq!(
        (status, field_of(&out)),
        (StatusCode::BAD_REQUEST, "includeDeleted")
    );
    let (status, out) = s.call(&admin, Method::GET, "/no-such-thing", None).await;
    assert_eq!(
        (status, out["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    assert_eq!(
        s.snapshot(&admin).await,
        before,
        "no refusal changed anything"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_restart_brings_every_resource_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let g1 = s.group(&admin, "presales").await;
    let g2 = s.group(&admin, "aftersales").await;
    let (ann, ann_token) = s.agent(&admin, "ann@example.com", 2, &[g1, g2]).await;
    s.ok(
        &admin,
        Method::PUT,
        &format!("/skill-groups/{g2}/members/{ann}"),
        json!({"priority": 1}),
    )
    .await;
    let (bob, _) = s.agent(&admin, "bob@example.com", 2, &[g1]).await;
    s.ok(
        &admin,
        Method::POST,
        &format!("/agents/{bob}/force-offline"),
        json!({}),
    )
    .await;
    let role = s
        .ok(
            &admin,
            Method::POST,
            "/roles",
            json!({"name": "lead", "scopes": [{"module": "monitoring", "groups": [g1]}]}),
        )
        .await;
    s.ok(
        &admin,
        Method::PATCH,
        &format!("/agents/{ann}"),
        json!({"roleId": role["id"]}),
    )
    .await;
    let mut settings = s.get(&admin, "/settings").await;
    settings["reception"]["autoReception"] = json!(true);
    settings["userReplyTimeoutSecs"] = json!(600);
    s.ok(&admin, Method::PUT, "/settings", settings).await;
    s.ok(
        &admin,
        Method::POST,
        "/settings/rest-reasons",
        json!({"name": "lunch", "enabled": false}),
    )
    .await;
    s.ok(
        &admin,
        Method::PUT,
        "/settings/proactive",
        json!({"enabled": true, "timeoutSecs": 120}),
    )
    .await;
    s.raw(
        &admin,
        Method::POST,
        "/quick-replies/import",
        "text/csv",
        b"group,title,content\ng,t1,c1\ng,t2,c2\n".to_vec(),
    )
    .await;
    let config = s
        .ok(
            &admin,
            Method::POST,
            "/satisfaction-configs",
            stars("stars"),
        )
        .await;
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Support", "kind": {"type": "in_app", "userId": "desk"}, "skillGroup": g1, "satisfaction": config["id"]}),
    )
    .await;
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Web", "kind": {"type": "website"}}),
    )
    .await;
    s.ok(&admin, Method::POST, "/extensions", json!({"name": "CRM", "url": "https://crm.example.com", "alwaysVisible": true, "enabled": false}))
        .await;
    let key = s
        .ok(&admin, Method::POST, "/api-keys", json!({"name": "crm"}))
        .await;
    let (status, _) = s
        .call(
            &admin,
            Method::DELETE,
            &format!(
                "/agents/{}",
                s.agent(&admin, "gone@example.com", 2, &[]).await.0
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let before = s.snapshot(&admin).await;
    s.stop().await;

    let s = Server::start(dir.path()).await;
    // Logins, keys and passwords live in the log too.
    assert_eq!(s.snapshot(&admin).await, before);
    s.get(&ann_token, "/auth/me").await;
    s.get(key["key"].as_str().unwrap(), "/auth/me").await;
    let (status, _) = s.login("bob@example.com", "bob-own-password").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "still forced offline");
    // New ids do not reuse old ones.
    let g3 = s.group(&admin, "complaints").await;
    for id in [g1, g2, ann, bob] {
        assert!(id < g3, "{id} reused");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_openapi_document_covers_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let doc: Value = s
        .http
        .get(format!("{}/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/agents",
        "/api/v1/agents/{id}",
        "/api/v1/agents/import",
        "/api/v1/skill-groups/{id}/members/{agentId}",
        "/api/v1/settings",
        "/api/v1/settings/proactive",
        "/api/v1/quick-replies/import",
        "/api/v1/satisfaction-configs/{id}",
        "/api/v1/channels/{id}",
        "/api/v1/extensions/{id}",
        "/api/v1/api-keys/{id}",
        "/api/v1/apps",
        "/api/v1/roles/{id}",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }
    // Every documented operation answers (401 without a token, never 404 or 405).
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "1")
                .replace("{agentId}", "1")
                .replace("{webAppId}", "no-such-site");
            let method: Method = method.to_uppercase().parse().unwrap();
            let (status, body) = s
                .call(
                    "",
                    method.clone(),
                    concrete.trim_start_matches("/api/v1"),
                    None,
                )
                .await;
            let public = path == "/api/v1/auth/login"
                || path == "/api/v1/sdk/sessions"
                || path.starts_with("/api/v1/web/");
            // A public route with an unknown website answers 404 about the website.
            let routed_404 = public
                && body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("website channel"));
            assert!(
                (status != StatusCode::NOT_FOUND || routed_404)
                    && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed ({status})"
            );
            if !public {
                assert!(
                    item[method.as_str().to_lowercase()]["security"].is_array(),
                    "{method} {path} lacks security"
                );
            }
        }
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    s.stop().await;
}

/// Every key the document describes: the properties of every schema, inline or named, and the
/// name of every parameter (query and path), each with where it was found.
fn document_keys(doc: &Value) -> Vec<(String, String)> {
    fn walk(node: &Value, at: &str, keys: &mut Vec<(String, String)>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    keys.extend(properties.keys().map(|k| (at.to_owned(), k.clone())));
                }
                if let Some(Value::Array(parameters)) = map.get("parameters") {
                    keys.extend(
                        parameters
                            .iter()
                            .filter_map(|p| p["name"].as_str())
                            .map(|name| (format!("{at} (parameter)"), name.to_owned())),
                    );
                }
                for (k, v) in map {
                    walk(v, &format!("{at}/{k}"), keys);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), keys);
                }
            }
            _ => {}
        }
    }
    let mut keys = Vec::new();
    walk(doc, "", &mut keys);
    keys
}

/// The API speaks one convention, so the web UIs and integrators never guess: every key is
/// camelCase (enumerated values and `type` tags stay snake_case words, and are values, not
/// keys). A field added without `rename_all = "camelCase"` fails here.
#[test]
fn every_key_of_the_openapi_document_is_camel_case() {
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let keys = document_keys(&doc);
    assert!(
        keys.iter().any(|(_, k)| k == "acceptTimeoutSecs")
            && keys.iter().any(|(_, k)| k == "skillGroupId")
            && keys.iter().any(|(_, k)| k == "agentId"),
        "the walk reaches schemas and parameters"
    );
    let snake: Vec<String> = keys
        .iter()
        .filter(|(_, k)| k.contains('_'))
        .map(|(at, k)| format!("{k} at {at}"))
        .collect();
    assert!(snake.is_empty(), "snake_case keys:\n{}", snake.join("\n"));
    for path in doc["paths"].as_object().unwrap().keys() {
        assert!(!path.contains('_'), "{path} names a snake_case parameter");
    }
}

/// Generated clients name a function after each operation: two operations with one id
/// become one function (or a clash), so a handler named like another module's fails here.
#[test]
fn every_operation_id_of_the_openapi_document_is_unique() {
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut twice = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let at = format!("{method} {path}");
            if let Some(first) = seen.insert(id.to_owned(), at.clone()) {
                twice.push(format!("{id}: {first} and {at}"));
            }
        }
    }
    assert!(seen.len() > 50, "the walk reaches every operation");
    assert!(
        twice.is_empty(),
        "operationIds used twice:\n{}",
        twice.join("\n")
    );
}

/// A client still sending a key of before the camelCase convention is told which one, and
/// nothing changes: a silently ignored `accept_timeout_secs` would leave the setting as it
/// was while the client believes it saved.
#[tokio::test]
async fn an_old_snake_case_key_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let settings = s.get(&admin, "/settings").await;
    let mut old = settings.clone();
    let reception = old["reception"].as_object_mut().unwrap();
    let secs = reception.remove("acceptTimeoutSecs").unwrap();
    reception.insert("accept_timeout_secs".to_owned(), secs);
    let (status, body) = s.call(&admin, Method::PUT, "/settings", Some(old)).await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "reception.accept_timeout_secs"),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field"),
        "{body}"
    );
    assert_eq!(s.get(&admin, "/settings").await, settings);
    let (status, body) = s
        .call(&admin, Method::GET, "/agents?skill_group_id=1", None)
        .await;
    assert_eq!(
        (status, field_of(&body)),
        (StatusCode::BAD_REQUEST, "skill_group_id"),
        "{body}"
    );
    s.stop().await;
}

/// A mail server on loopback that accepts every message and hands its text over.
async fn fake_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut message = String::new();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            tx.send(std::mem::take(&mut message)).unwrap();
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn passwords_are_mailed_when_smtp_is_configured() {
    let (port, mut mails) = fake_smtp().await;
    let dir = tempfile::tempdir().unwrap();
    let smtp: api::mail::SmtpConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"helpline <desk@example.com>\"\n"
    ))
    .unwrap();
    let config = ApiConfig {
        token_ttl_secs: api::DEFAULT_TOKEN_TTL_SECS,
        public_url: None,
        smtp: Some(smtp),
        trust_forwarded_for: false,
        ..ApiConfig::default()
    };
    let s = Server::start_with(dir.path(), config).await;
    let admin = s.admin().await;
    let created = s
        .ok(
            &admin,
            Method::POST,
            "/agents",
            json!({"name": "Ann Lee", "nickname": "Ann", "staffNo": "1", "email": "ann@example.com", "roleId": 2}),
        )
        .await;
    assert_eq!(created["emailedTo"], "ann@example.com");
    assert!(
        created.get("password").is_none(),
        "a mailed password is not shown: {created}"
    );
    let mail = mails.recv().await.unwrap();
    assert!(
        mail.contains("To: \"Ann Lee\" <ann@example.com>")
            || mail.contains("To: Ann Lee <ann@example.com>"),
        "{mail}"
    );
    let password = mail
        .lines()
        .find_map(|l| l.strip_prefix("your helpline password is: "))
        .unwrap_or_else(|| panic!("no password in {mail}"))
        .trim()
        .to_owned();
    let (status, body) = s.login("ann@example.com", &password).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let reset = s
        .ok(
            &admin,
            Method::POST,
            &format!("/agents/{}/password-reset", created["agent"]["id"]),
            json!({}),
        )
        .await;
    assert_eq!(reset, json!({"emailedTo": "ann@example.com"}));
    let mail = mails.recv().await.unwrap();
    assert!(!mail.contains(&password), "a new password was sent");
    s.stop().await;
}

#[tokio::test]
async fn the_im_secret_signs_user_tokens_and_rotates_with_a_grace_period() {
    use helpline::domain::ids::AppId;
    use helpline::im::token::{self, UserClaims};
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    assert_eq!(
        s.get(&admin, "/im/secret").await,
        json!({"configured": false, "previousValidUntilMs": null})
    );
    let first = s.ok(&admin, Method::POST, "/im/secret", json!({})).await;
    assert_eq!(first["previousValidUntilMs"], Value::Null);
    let first = first["secret"].as_str().unwrap().to_owned();
    let now_ms = s.state.clock.now_ms();
    let claims = UserClaims {
        app: AppId(1),
        sub: "user-1".to_owned(),
        exp: now_ms / 1_000 + 600,
    };
    let minted = token::mint(first.as_bytes(), &claims);
    let secrets = |at: i64| s.state.desk.app(AppId(1)).unwrap().im_secrets(at);
    assert_eq!(
        token::verify(&minted, AppId(1), &secrets(now_ms), now_ms / 1_000),
        Ok(claims.clone())
    );

    let second = s.ok(&admin, Method::POST, "/im/secret", json!({})).await;
    let until = second["previousValidUntilMs"].as_i64().unwrap();
    assert!(until > now_ms);
    assert_ne!(second["secret"].as_str().unwrap(), first);
    assert!(token::verify(&minted, AppId(1), &secrets(until - 1), now_ms / 1_000).is_ok());
    assert_eq!(
        token::verify(&minted, AppId(1), &secrets(until), now_ms / 1_000),
        Err(token::TokenError::BadSignature),
        "the previous secret ends with its grace period"
    );
    assert!(
        !s.get(&admin, "/im/secret")
            .await
            .to_string()
            .contains(&first)
    );

    let (_, agent) = s.agent(&admin, "ann@example.com", 2, &[]).await;
    let (status, _) = s.call(&agent, Method::POST, "/im/secret", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    s.stop().await;

    // The secret is in the log: a restart verifies the same tokens.
    let s = Server::start(dir.path()).await;
    let secrets = s.state.desk.app(AppId(1)).unwrap().im_secrets(now_ms);
    assert!(token::verify(&minted, AppId(1), &secrets, now_ms / 1_000).is_ok());
    s.stop().await;
}

#[tokio::test]
async fn the_user_end_over_rest_stores_resumes_and_refuses() {
    use helpline::domain::ids::AppId;
    use helpline::im::token::{self, UserClaims};
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let admin = s.admin().await;
    let secret = s.ok(&admin, Method::POST, "/im/secret", json!({})).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let group = s.group(&admin, "support").await;
    s.ok(
        &admin,
        Method::POST,
        "/channels",
        json!({"name": "Support", "kind": {"type": "in_app", "userId": "desk"}, "skillGroup": group}),
    )
    .await;
    let now = s.state.clock.now_ms() / 1_000;
    let user_token = |user: &str, secret: &str, exp: i64| {
        token::mint(
            secret.as_bytes(),
            &UserClaims {
                app: AppId(1),
                sub: user.to_owned(),
                exp,
            },
        )
    };
    let u1 = user_token("u1", &secret, now + 600);
    let send = |token: String, body: Value| {
        let s = &s;
        async move {
            s.call(&token, Method::POST, "/im/messages", Some(body))
                .await
        }
    };
    let text = |id: &str| json!({"to": "desk", "msgId": id, "body": {"type": "text", "text": format!("hello {id}")}});

    let (status, first) = send(u1.clone(), text("m1")).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        (first["seq"].as_u64(), first["duplicate"].as_bool()),
        (Some(1), Some(false))
    );
    let conversation = first["conversationId"].as_u64().unwrap();
    let (_, again) = send(u1.clone(), text("m1")).await;
    assert_eq!(
        (again["seq"].as_u64(), again["duplicate"].as_bool()),
        (Some(1), Some(true))
    );
    let trigger = json!({"to": "desk", "msgId": "t1", "onlineUserOnly": true,
        "body": {"type": "custom", "data": "{\"customerServicePlugin\":0,\"src\":\"7\"}"}});
    let (status, flag) = send(u1.clone(), trigger).await;
    assert_eq!(
        (status, flag["seq"].clone()),
        (StatusCode::CREATED, Value::Null),
        "{flag}"
    );
    for i in 2..=5 {
        send(u1.clone(), text(&format!("m{i}"))).await;
    }

    // Bad input: named, nothing stored.
    for (body, field) in [
        (
            json!({"to": "desk", "msgId": "x", "body": {"type": "custom", "data": "{\"customerServicePlugin\":0,\"src\":7}"}}),
            "body.data",
        ),
        (
            json!({"to": "desk", "msgId": "x", "body": {"type": "custom", "data": "{\"customerServicePlugin\":0,\"src\":\"99\"}"}}),
            "body.data",
        ),
        (
            json!({"to": "desk", "msgId": "x", "body": {"type": "custom", "data": "{\"customerServicePlugin\":0,\"src\":\"10\",\"menuSelected\":\"x\"}"}}),
            "body.data",
        ),
        (
            json!({"to": "nobody", "msgId": "x", "body": {"type": "text", "text": "hi"}}),
            "to",
        ),
        (
            json!({"to": "desk", "msgId": "x", "body": {"type": "text", "text": "x".repeat(9_000)}}),
            "body.text",
        ),
        (
            json!({"to": "desk", "msgId": "", "body": {"type": "text", "text": "hi"}}),
            "msgId",
        ),
        (
            json!({"to": "desk", "msgId": "x", "body": {"type": "image"}}),
            "body.type",
        ),
    ] {
        let (status, out) = send(u1.clone(), body).await;
        assert_eq!(
            (status, field_of(&out)),
            (StatusCode::BAD_REQUEST, field),
            "{out}"
        );
    }

    // Resume after any seq, and history pages, oldest first.
    let seqs = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_u64().unwrap())
            .collect()
    };
    let path = format!("/im/conversations/{conversation}/messages");
    assert_eq!(
        seqs(&s.get(&u1, &format!("{path}?after=2")).await),
        [3, 4, 5]
    );
    assert_eq!(
        seqs(&s.get(&u1, &format!("{path}?after=5")).await),
        Vec::<u64>::new()
    );
    assert_eq!(
        seqs(&s.get(&u1, &format!("{path}?before=3&limit=1")).await),
        [2]
    );
    assert_eq!(seqs(&s.get(&u1, &path).await), [1, 2, 3, 4, 5]);
    let listed = s.get(&u1, "/im/conversations").await;
    assert_eq!(
        listed,
        json!([{"id": conversation, "channelId": listed[0]["channelId"], "peer": "desk", "lastSeq": 5}])
    );

    // Tokens: each refusal says why.
    for (token, reason) in [
        (
            user_token("u1", "not the secret", now + 600),
            "bad signature",
        ),
        (user_token("u1", &secret, now - 1), "expired"),
        ("not.a.token".to_owned(), "malformed"),
    ] {
        let (status, out) = s.call(&token, Method::GET, "/im/conversations", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            out["error"]["message"].as_str().unwrap().contains(reason),
            "{out}"
        );
    }
    // Another user sees nothing of it.
    let u2 = user_token("u2", &secret, now + 600);
    let (status, _) = s.call(&u2, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&u2, "/im/conversations").await, json!([]));
    s.stop().await;

    // Everything stored is back after a restart, and numbering goes on.
    let s = Server::start(dir.path()).await;
    assert_eq!(seqs(&s.get(&u1, &path).await), [1, 2, 3, 4, 5]);
    let (_, next) = s
        .call(&u1, Method::POST, "/im/messages", Some(text("m6")))
        .await;
    assert_eq!(next["seq"], 6);
    s.stop().await;
}
