//! Engine tests: the routing core driven through `Engine` on an in-memory log, with tokio's
//! clock paused. Nothing here sleeps on the wall clock: `settle` lets every actor run
//! until the runtime is idle, and `advance` moves time to fire countdowns.

use std::sync::Arc;
use std::time::Duration;

use helpline::clock::Clock;
use helpline::domain::agent::AgentCommand;
use helpline::domain::event::{AgentStatus, CloseBy, Event, MissCause, QueueCause, TransferTarget};
use helpline::domain::group::{GroupCommand, QueueLimits};
use helpline::domain::ids::{AgentId, AppId, ChannelId, GroupId, SessionId, StreamId};
use helpline::domain::routing::ChoiceRule;
use helpline::domain::session::{Phase, SessionCommand};
use helpline::domain::settings::{AUTO_SHORT_BREAK_REASON, AppSettings, BasicRouting};
use helpline::domain::world::World;
use helpline::engine::Engine;
use helpline::log::MemLog;

const T0: i64 = 1_700_000_000_000;

struct Desk {
    log: Arc<MemLog>,
    engine: Engine,
    app: AppId,
}

async fn settle() {
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn desk(settings: impl FnOnce(&mut AppSettings)) -> Desk {
    let log = Arc::new(MemLog::new());
    let engine = Engine::start(log.clone(), Clock::starting_at(T0))
        .await
        .unwrap();
    let app = engine.create_app("acme").await.unwrap();
    let mut s = AppSettings::default();
    settings(&mut s);
    engine.update_settings(app, s).await.unwrap();
    Desk { log, engine, app }
}

impl Desk {
    async fn group(&self, name: &str, limit: u32) -> GroupId {
        self.engine
            .create_group(self.app, name, limit)
            .await
            .unwrap()
    }

    async fn agent(&self, name: &str, groups: &[(GroupId, u8)]) -> AgentId {
        let a = self
            .engine
            .create_agent(self.app, name, name, name)
            .await
            .unwrap();
        for (g, priority) in groups {
            self.engine
                .group(*g, GroupCommand::AddMember(a, *priority))
                .await
                .unwrap();
        }
        a
    }

    async fn online(&self, agent: AgentId) {
        self.engine.agent(agent, AgentCommand::Login).await.unwrap();
    }

    async fn open(&self, user: &str, group: GroupId) -> SessionId {
        self.engine
            .open_session(self.app, ChannelId(1), user, Some(group))
            .await
            .unwrap()
    }

    async fn phase(&self, s: SessionId) -> Phase {
        match self.engine.session_state(s).await {
            Ok(state) => state.phase,
            Err(_) => Phase::Ended {
                close_by: self.closed_by(s).expect("ended session"),
            },
        }
    }

    fn closed_by(&self, s: SessionId) -> Option<CloseBy> {
        self.events(s).into_iter().find_map(|e| match e {
            Event::SessionEnded { close_by } => Some(close_by),
            _ => None,
        })
    }

    fn events(&self, s: SessionId) -> Vec<Event> {
        self.log
            .all()
            .into_iter()
            .filter(|e| e.stream == StreamId::session(s))
            .map(|e| e.event)
            .collect()
    }

    fn world(&self) -> World {
        World::from_history(&self.log.all())
    }

    async fn holder(&self, s: SessionId) -> Option<AgentId> {
        match self.phase(s).await {
            Phase::Offered { agent, .. } | Phase::InService { agent, .. } => Some(agent),
            _ => None,
        }
    }

    async fn end(&self, s: SessionId) {
        self.engine
            .session(
                s,
                SessionCommand::End {
                    close_by: CloseBy::Client,
                    agent: None,
                },
            )
            .await
            .unwrap();
    }
}

fn auto(s: &mut AppSettings) {
    s.reception.auto_reception = true;
}

#[tokio::test(start_paused = true)]
async fn fifo_serves_sessions_in_arrival_order() {
    let d = desk(auto).await;
    let g = d.group("pre-sales", 1).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    let s1 = d.open("u1", g).await;
    tokio::time::advance(Duration::from_millis(10)).await;
    let s2 = d.open("u2", g).await;
    tokio::time::advance(Duration::from_millis(10)).await;
    let s3 = d.open("u3", g).await;
    assert_eq!(d.engine.queue_position(s3).await.unwrap(), Some(2));
    d.online(a).await;
    settle().await;
    assert_eq!(d.holder(s1).await, Some(a));
    for (done, next) in [(s1, s2), (s2, s3)] {
        d.end(done).await;
        settle().await;
        assert_eq!(d.holder(next).await, Some(a), "{next} follows {done}");
    }
    assert!(d.world().idle_capacity_beside_queue().is_empty());
    d.world().check_invariants().unwrap();
}

#[tokio::test(start_paused = true)]
async fn priority_routing_prefers_the_highest_priority_member() {
    let d = desk(|s| {
        auto(s);
        s.routing.basic = BasicRouting::AgentPriority;
    })
    .await;
    let g = d.group("support", 5).await;
    let low = d.agent("low", &[(g, 4)]).await;
    let high = d.agent("high", &[(g, 1)]).await;
    d.online(low).await;
    d.online(high).await;
    let s = d.open("u1", g).await;
    settle().await;
    assert_eq!(d.holder(s).await, Some(high));
    let decision = d.events(s).into_iter().find_map(|e| match e {
        Event::SessionAssigned { decision, .. } => Some(decision),
        _ => None,
    });
    let decision = decision.unwrap();
    assert_eq!(decision.rule, ChoiceRule::Priority);
    assert_eq!(decision.runner_up, Some(low));
}

#[tokio::test(start_paused = true)]
async fn last_receptionist_first_returns_the_user_to_their_agent() {
    let d = desk(|s| {
        auto(s);
        s.routing.last_receptionist_first = true;
    })
    .await;
    let g = d.group("support", 5).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    let b = d.agent("bob", &[(g, 3)]).await;
    d.online(a).await;
    d.online(b).await;
    // Bob serves the user first (ann is busy with someone else).
    let other = d.open("other", g).await;
    settle().await;
    assert_eq!(d.holder(other).await, Some(a));
    let first = d.open("u1", g).await;
    settle().await;
    assert_eq!(d.holder(first).await, Some(b));
    d.end(first).await;
    // Bob is now more loaded than... equal; give bob another user so policy alone picks ann.
    let extra = d.open("extra", g).await;
    settle().await;
    assert_eq!(d.holder(extra).await, Some(b));
    let again = d.open("u1", g).await;
    settle().await;
    assert_eq!(
        d.holder(again).await,
        Some(b),
        "the last receptionist wins over the less loaded agent"
    );
}

#[tokio::test(start_paused = true)]
async fn manual_offer_times_out_and_is_redirected_keeping_its_place() {
    let d = desk(|s| s.reception.accept_timeout_secs = 30).await;
    let g = d.group("support", 1).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    let b = d.agent("bob", &[(g, 3)]).await;
    d.online(a).await;
    let s = d.open("u1", g).await;
    settle().await;
    let Phase::Offered {
        agent, deadline_ms, ..
    } = d.phase(s).await
    else {
        panic!("offered")
    };
    assert_eq!(agent, a);
    assert_eq!(deadline_ms - T0, 30_000);
    d.online(b).await;
    tokio::time::advance(Duration::from_secs(30)).await;
    settle().await;
    assert_eq!(d.holder(s).await, Some(b));
    let events = d.events(s);
    let queued: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            Event::SessionQueued { queued_at_ms, .. } => Some(*queued_at_ms),
            _ => None,
        })
        .collect();
    assert_eq!(queued.len(), 2);
    assert_eq!(
        queued[0], queued[1],
        "a redirected session keeps its queue place"
    );
    assert!(events.contains(&Event::SessionOfferMissed {
        agent: a,
        generation: 1,
        cause: MissCause::Timeout
    }));
    assert!(events.iter().any(|e| matches!(e, Event::SessionQueued { cause: QueueCause::Redirect { from }, .. } if *from == a)));
    // Ann's capacity came back.
    assert!(d.engine.agent_state(a).await.unwrap().sessions.is_empty());
    // Accepting within the countdown sticks.
    d.engine
        .session(s, SessionCommand::Accept { agent: b })
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    settle().await;
    assert!(matches!(d.phase(s).await, Phase::InService { agent, .. } if agent == b));
}

#[tokio::test(start_paused = true)]
async fn auto_short_break_after_a_missed_offer() {
    let d = desk(|s| s.reception.auto_short_break = true).await;
    let g = d.group("support", 1).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    d.online(a).await;
    let s = d.open("u1", g).await;
    settle().await;
    tokio::time::advance(Duration::from_secs(30)).await;
    settle().await;
    let ann = d.engine.agent_state(a).await.unwrap();
    assert_eq!(
        ann.status,
        AgentStatus::Rest {
            reason: AUTO_SHORT_BREAK_REASON.into()
        }
    );
    // Nobody else can take it: it waits, queued again.
    assert!(matches!(d.phase(s).await, Phase::Queued { .. }));
    // Ann back to free: the queue drains at once.
    d.engine
        .agent(a, AgentCommand::SetStatus(AgentStatus::Free))
        .await
        .unwrap();
    settle().await;
    assert_eq!(d.holder(s).await, Some(a));
}

#[tokio::test(start_paused = true)]
async fn user_reply_timeout_ends_the_session_by_timer() {
    let d = desk(|s| {
        auto(s);
        s.user_reply_timeout_secs = 60;
    })
    .await;
    let g = d.group("support", 1).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    d.online(a).await;
    let s = d.open("u1", g).await;
    settle().await;
    d.engine
        .session(
            s,
            SessionCommand::AgentMessage {
                agent: a,
                text: "how can I help?".into(),
            },
        )
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(59)).await;
    settle().await;
    d.engine
        .session(s, SessionCommand::UserMessage("my order".into()))
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(30)).await;
    settle().await;
    assert!(
        matches!(d.phase(s).await, Phase::InService { .. }),
        "the user answered in time"
    );
    d.engine
        .session(
            s,
            SessionCommand::AgentMessage {
                agent: a,
                text: "anything else?".into(),
            },
        )
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(60)).await;
    settle().await;
    assert_eq!(d.closed_by(s), Some(CloseBy::Timer));
    assert!(d.engine.agent_state(a).await.unwrap().sessions.is_empty());
}

#[tokio::test(start_paused = true)]
async fn transfer_to_group_and_to_agent() {
    let d = desk(auto).await;
    let g1 = d.group("pre-sales", 1).await;
    let g2 = d.group("after-sales", 1).await;
    let a = d.agent("ann", &[(g1, 3)]).await;
    let b = d.agent("bob", &[(g2, 3)]).await;
    let c = d.agent("cid", &[(g2, 3)]).await;
    d.online(a).await;
    d.online(b).await;
    let s = d.open("u1", g1).await;
    settle().await;
    assert_eq!(d.holder(s).await, Some(a));
    d.engine
        .session(s, SessionCommand::TransferToGroup { from: a, group: g2 })
        .await
        .unwrap();
    settle().await;
    assert_eq!(d.holder(s).await, Some(b));
    assert!(d.events(s).contains(&Event::SessionTransferred {
        from: a,
        to: TransferTarget::Group(g2)
    }));
    // To an agent who is offline: refused, nothing changes.
    let err = d.engine.transfer_to_agent(s, b, c).await.unwrap_err();
    assert!(err.to_string().contains("offline"), "{err}");
    assert_eq!(d.holder(s).await, Some(b));
    d.online(c).await;
    d.engine.transfer_to_agent(s, b, c).await.unwrap();
    settle().await;
    assert_eq!(d.holder(s).await, Some(c));
    assert!(d.engine.agent_state(b).await.unwrap().sessions.is_empty());
    // An agent who is not serving cannot transfer.
    assert!(
        d.engine
            .session(s, SessionCommand::TransferToGroup { from: a, group: g1 })
            .await
            .is_err()
    );
    d.world().check_invariants().unwrap();
}

#[tokio::test(start_paused = true)]
async fn an_agent_in_two_groups_never_exceeds_its_limit() {
    for round in 0..20u64 {
        let d = desk(auto).await;
        let g1 = d.group("one", 2).await;
        let g2 = d.group("two", 2).await;
        let shared: Vec<AgentId> = {
            let mut v = Vec::new();
            for i in 0..(1 + round % 3) {
                v.push(d.agent(&format!("shared{i}"), &[(g1, 3), (g2, 3)]).await);
            }
            v
        };
        for a in &shared {
            d.online(*a).await;
        }
        // Many sessions into both groups at once.
        let users: Vec<String> = (0..(10 + round)).map(|i| format!("u{round}-{i}")).collect();
        let mut opens = Vec::new();
        for (i, user) in users.iter().enumerate() {
            let g = if i % 2 == 0 { g1 } else { g2 };
            opens.push(d.engine.open_session(d.app, ChannelId(1), user, Some(g)));
        }
        let opened = futures_join_all(opens).await;
        settle().await;
        let world = d.world();
        world.check_invariants().unwrap();
        for a in &shared {
            assert!(
                world.agents[a].load() <= 2,
                "round {round}: {a} over its limit"
            );
            assert_eq!(
                world.agents[a].load(),
                2,
                "round {round}: capacity left idle beside a queue"
            );
        }
        assert_eq!(opened.len() as u64, 10 + round);
        assert!(world.idle_capacity_beside_queue().is_empty());
    }
}

async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send,
{
    let mut out = Vec::with_capacity(futures.len());
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    // Poll them all concurrently on this task.
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    let mut results: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in pending.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        results[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.extend(results.into_iter().map(|r| r.unwrap()));
    out
}

#[tokio::test(start_paused = true)]
async fn a_status_change_to_free_drains_the_queue_at_once() {
    let d = desk(auto).await;
    let g = d.group("support", 3).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    d.online(a).await;
    d.engine
        .agent(a, AgentCommand::SetStatus(AgentStatus::Busy))
        .await
        .unwrap();
    let sessions = [
        d.open("u1", g).await,
        d.open("u2", g).await,
        d.open("u3", g).await,
        d.open("u4", g).await,
    ];
    settle().await;
    for s in &sessions {
        assert!(matches!(d.phase(*s).await, Phase::Queued { .. }));
    }
    d.engine
        .agent(a, AgentCommand::SetStatus(AgentStatus::Free))
        .await
        .unwrap();
    settle().await;
    for s in &sessions[..3] {
        assert_eq!(d.holder(*s).await, Some(a));
    }
    assert!(
        matches!(d.phase(sessions[3]).await, Phase::Queued { .. }),
        "limit 3 holds"
    );
}

#[tokio::test(start_paused = true)]
async fn offline_or_rest_keeps_sessions_in_hand_but_stops_new_ones() {
    let d = desk(auto).await;
    let g = d.group("support", 3).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    d.online(a).await;
    let s1 = d.open("u1", g).await;
    settle().await;
    d.engine
        .agent(
            a,
            AgentCommand::SetStatus(AgentStatus::Rest {
                reason: "lunch".into(),
            }),
        )
        .await
        .unwrap();
    let s2 = d.open("u2", g).await;
    settle().await;
    assert_eq!(d.holder(s1).await, Some(a));
    assert!(matches!(d.phase(s2).await, Phase::Queued { .. }));
    d.engine.agent(a, AgentCommand::ForceOffline).await.unwrap();
    assert_eq!(
        d.holder(s1).await,
        Some(a),
        "in-service sessions stay with the agent"
    );
    let err = d.engine.agent(a, AgentCommand::Login).await.unwrap_err();
    assert!(err.to_string().contains("forced offline"), "{err}");
    d.engine.agent(a, AgentCommand::Resume).await.unwrap();
    d.online(a).await;
    settle().await;
    assert_eq!(d.holder(s2).await, Some(a));
}

#[tokio::test(start_paused = true)]
async fn an_offer_to_an_agent_who_goes_offline_is_redirected_at_once() {
    let d = desk(|_| {}).await;
    let g = d.group("support", 1).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    let b = d.agent("bob", &[(g, 3)]).await;
    d.online(a).await;
    let s = d.open("u1", g).await;
    settle().await;
    assert_eq!(d.holder(s).await, Some(a));
    d.online(b).await;
    d.engine.agent(a, AgentCommand::Logout).await.unwrap();
    settle().await;
    assert_eq!(d.holder(s).await, Some(b));
    assert!(d.events(s).iter().any(|e| matches!(
        e,
        Event::SessionOfferMissed {
            cause: MissCause::AgentUnavailable,
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let d = desk(|_| {}).await;
    let before = d.log.all().len();
    let err = d.engine.create_group(d.app, "", 3).await.unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
    let err = d.engine.create_group(d.app, "x", 0).await.unwrap_err();
    assert!(err.to_string().contains("receptionLimit"), "{err}");
    let mut s = AppSettings::default();
    s.reception.accept_timeout_secs = 1;
    let err = d.engine.update_settings(d.app, s).await.unwrap_err();
    assert!(err.to_string().contains("acceptTimeoutSecs"), "{err}");
    let g = d.group("support", 1).await;
    let after_group = d.log.all().len();
    assert_eq!(after_group, before + 1);
    let err = d
        .engine
        .open_session(d.app, ChannelId(1), "", Some(g))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("userId"), "{err}");
    let err = d
        .engine
        .open_session(d.app, ChannelId(1), "u", Some(GroupId(999)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    assert_eq!(d.log.all().len(), after_group);
}

/// A scripted day: logins, sessions, offers, accepts, transfers, timeouts, ends. Then the
/// engine stops and starts again on the same log: every actor's state is the same, and
/// countdowns armed before the stop still fire at their deadlines.
#[tokio::test(start_paused = true)]
async fn restart_rebuilds_every_actor_and_pending_timers_still_fire() {
    let d = desk(|s| {
        s.reception.accept_timeout_secs = 30;
        s.user_reply_timeout_secs = 120;
    })
    .await;
    let g1 = d.group("pre-sales", 2).await;
    let g2 = d.group("after-sales", 1).await;
    let a = d.agent("ann", &[(g1, 1), (g2, 3)]).await;
    let b = d.agent("bob", &[(g1, 3)]).await;
    let c = d.agent("cid", &[(g2, 2)]).await;
    for x in [a, b, c] {
        d.online(x).await;
    }
    let mut sessions = Vec::new();
    for i in 0..8 {
        let g = if i % 3 == 0 { g2 } else { g1 };
        sessions.push(d.open(&format!("user{i}"), g).await);
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    settle().await;
    // Accept what is offered to ann and bob; cid lets his offer run.
    for s in &sessions {
        if let Phase::Offered { agent, .. } = d.phase(*s).await
            && agent != c
        {
            d.engine
                .session(*s, SessionCommand::Accept { agent })
                .await
                .unwrap();
            d.engine
                .session(
                    *s,
                    SessionCommand::AgentMessage {
                        agent,
                        text: "hello".into(),
                    },
                )
                .await
                .unwrap();
        }
    }
    d.end(sessions[1]).await;
    settle().await;
    let before = d.engine.dump().await.unwrap();
    let timers_before = d.engine.pending_timers().await.unwrap();
    assert!(timers_before > 0);
    assert!(
        before
            .sessions
            .iter()
            .any(|s| matches!(s.phase, Phase::Offered { .. }))
    );
    d.engine.shutdown().await.unwrap();
    settle().await;

    let engine = Engine::start(d.log.clone(), Clock::starting_at(T0 + 8_000 + 5))
        .await
        .unwrap();
    settle().await;
    let after = engine.dump().await.unwrap();
    assert_eq!(before, after, "every actor's state survives the restart");
    // Every deadline the replayed state holds is armed again (the old wheel also held
    // stale timers of accepted offers, which only fire to be ignored).
    let due: usize = after
        .sessions
        .iter()
        .map(|s| s.pending_timers().len())
        .sum();
    assert!(due > 0 && due <= timers_before);
    assert_eq!(engine.pending_timers().await.unwrap(), due);
    // The offers' countdowns and the reply countdowns still fire.
    tokio::time::advance(Duration::from_secs(200)).await;
    settle().await;
    let world = World::from_history(&d.log.all());
    world.check_invariants().unwrap();
    let timer_ends = d
        .log
        .all()
        .iter()
        .filter(|e| {
            matches!(
                e.event,
                Event::SessionEnded {
                    close_by: CloseBy::Timer
                }
            )
        })
        .count();
    assert!(
        timer_ends > 0,
        "reply countdowns armed before the restart fired"
    );
    let missed = d
        .log
        .all()
        .iter()
        .filter(|e| matches!(e.event, Event::SessionOfferMissed { .. }))
        .count();
    assert!(
        missed > 0,
        "offer countdowns armed before the restart fired"
    );
    engine.shutdown().await.unwrap();
}

/// A crashed actor of any kind is rebuilt by the supervisor from its own events, the
/// restart is counted, nothing it knew is lost, and routing and timers carry on.
#[tokio::test(start_paused = true)]
async fn crashed_actors_are_rebuilt_from_their_events() {
    use helpline::engine::Child;
    let d = desk(|s| s.reception.accept_timeout_secs = 30).await;
    let g = d.group("support", 1).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    let b = d.agent("bob", &[(g, 3)]).await;
    d.online(a).await;
    let offered = d.open("u1", g).await;
    settle().await;
    let served = d.open("u2", g).await;
    settle().await;
    let waiting = d.open("u3", g).await;
    settle().await;
    assert_eq!(d.holder(offered).await, Some(a));
    assert!(matches!(d.phase(served).await, Phase::Queued { .. }));
    let before = d.engine.dump().await.unwrap();

    let app = d.app;
    for (n, child) in [
        Child::Session(offered),
        Child::Agent(a),
        Child::Group(g),
        Child::Timers(app),
    ]
    .into_iter()
    .enumerate()
    {
        d.engine.inject_failure(child).unwrap();
        settle().await;
        assert_eq!(
            d.engine.restarts(),
            n as u64 + 1,
            "{child:?} restart counted"
        );
        assert_eq!(
            d.engine.dump().await.unwrap(),
            before,
            "{child:?} rebuilt with the same state"
        );
    }
    // The rebuilt timers still end the offer; the rebuilt group and agents still route.
    d.online(b).await;
    settle().await;
    assert_eq!(d.holder(served).await, Some(b));
    tokio::time::advance(Duration::from_secs(30)).await;
    settle().await;
    assert!(
        d.events(offered)
            .iter()
            .any(|e| matches!(e, Event::SessionOfferMissed { .. })),
        "the offer countdown armed before the crashes fired"
    );
    let _ = waiting;
    d.world().check_invariants().unwrap();
}

/// An agent's "yes" can sit in a group's mailbox behind a message the group fails on; ractor
/// drops it with the group. The reservation was never confirmed by a placement, so the agent
/// lets it go when the rebuilt group links up again: no capacity leaks.
#[tokio::test(start_paused = true)]
async fn a_reservation_answered_to_a_failing_group_is_not_leaked() {
    use helpline::engine::agent::{AgentMsg, ReserveReply};
    use helpline::engine::group::GroupMsg;
    let d = desk(auto).await;
    let g = d.group("support", 2).await;
    let a = d.agent("ann", &[(g, 3)]).await;
    d.online(a).await;
    settle().await;
    let registry = &d.engine.shared().registry;
    let agent = registry.agents.get(&a).unwrap().clone();
    let group = registry.groups.get(&g).unwrap().clone();
    // The agent runs first: its answer lands behind the failure in the group's mailbox.
    agent
        .cast(AgentMsg::Reserve {
            session: SessionId(999_999),
            limit: Some(2),
            reply: ReserveReply::Group(group.clone()),
        })
        .unwrap();
    group.cast(GroupMsg::Fail).unwrap();
    settle().await;
    assert_eq!(d.engine.restarts(), 1);
    let ann = d.engine.agent_state(a).await.unwrap();
    assert!(ann.sessions.is_empty(), "leaked: {:?}", ann.sessions);
    // Full capacity is there for real sessions.
    let s1 = d.open("u1", g).await;
    let s2 = d.open("u2", g).await;
    settle().await;
    assert_eq!(d.holder(s1).await, Some(a));
    assert_eq!(d.holder(s2).await, Some(a));
    d.world().check_invariants().unwrap();
}

/// Sets a group's queue limits: a wait limit of `wait_secs` (0: off) and a cap.
async fn limit_queue(d: &Desk, group: GroupId, wait_secs: u32, max_queued: u32) {
    let limits = QueueLimits {
        max_queue_wait_secs: wait_secs,
        max_queued,
        queue_wait_message: "nobody could take your chat".into(),
        queue_full_message: "the queue is full".into(),
    };
    d.engine
        .group(group, GroupCommand::SetQueueLimits(limits))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_session_queued_past_its_wait_limit_ends_by_timer() {
    let d = desk(|_| {}).await;
    let g = d.group("support", 1).await;
    limit_queue(&d, g, 60, 10).await;
    let s = d.open("u1", g).await;
    tokio::time::advance(Duration::from_secs(59)).await;
    settle().await;
    assert!(matches!(d.phase(s).await, Phase::Queued { .. }));
    tokio::time::advance(Duration::from_secs(2)).await;
    settle().await;
    assert_eq!(d.closed_by(s), Some(CloseBy::Timer));
    assert!(d.events(s).contains(&Event::SessionQueueTimedOut {
        group: g,
        message: "nobody could take your chat".into(),
    }));
    assert!(d.engine.queue_order(g).await.unwrap().is_empty());
    d.world().check_invariants().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_wait_limit_is_stale_once_the_session_is_placed() {
    let d = desk(auto).await;
    let g = d.group("support", 1).await;
    limit_queue(&d, g, 60, 10).await;
    let a = d.agent("ann", &[(g, 1)]).await;
    let s = d.open("u1", g).await;
    settle().await;
    assert_eq!(
        d.engine.pending_timers().await.unwrap(),
        1,
        "the wait limit"
    );
    d.online(a).await;
    settle().await;
    assert_eq!(d.holder(s).await, Some(a));
    assert_eq!(
        d.engine.pending_timers().await.unwrap(),
        0,
        "a placed session's wait limit leaves the wheel"
    );
    tokio::time::advance(Duration::from_secs(120)).await;
    settle().await;
    assert_eq!(d.holder(s).await, Some(a), "still served past the limit");
    assert_eq!(d.closed_by(s), None);
}

#[tokio::test(start_paused = true)]
async fn the_wait_limit_is_armed_again_after_a_restart() {
    let d = desk(|_| {}).await;
    let g = d.group("support", 1).await;
    limit_queue(&d, g, 60, 10).await;
    let s = d.open("u1", g).await;
    tokio::time::advance(Duration::from_secs(10)).await;
    settle().await;
    d.engine.shutdown().await.unwrap();
    settle().await;
    let engine = Engine::start(d.log.clone(), Clock::starting_at(T0 + 10_000))
        .await
        .unwrap();
    settle().await;
    assert_eq!(engine.pending_timers().await.unwrap(), 1);
    tokio::time::advance(Duration::from_secs(51)).await;
    settle().await;
    assert_eq!(d.closed_by(s), Some(CloseBy::Timer));
    engine.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_new_sessions_even_when_they_come_at_once() {
    let d = desk(|_| {}).await;
    let g = d.group("support", 1).await;
    limit_queue(&d, g, 0, 3).await;
    let opens = (0..8)
        .map(|i| {
            let (engine, app) = (&d.engine, d.app);
            async move {
                engine
                    .open_session(app, ChannelId(1), &format!("u{i}"), Some(g))
                    .await
                    .unwrap()
            }
        })
        .collect();
    let sessions = futures_join_all(opens).await;
    settle().await;
    assert_eq!(d.engine.queue_order(g).await.unwrap().len(), 3);
    let refused: Vec<SessionId> = sessions
        .iter()
        .copied()
        .filter(|s| {
            d.events(*s).iter().any(|e| {
                matches!(e, Event::SessionQueueRefused { group, max_queued: 3, .. } if *group == g)
            })
        })
        .collect();
    assert_eq!(refused.len(), 5);
    for s in refused {
        assert_eq!(d.closed_by(s), Some(CloseBy::Timer));
    }
    // A flow's ask after the session opened is refused the same way.
    let late = d
        .engine
        .open_session(d.app, ChannelId(1), "late", None)
        .await
        .unwrap();
    d.engine
        .session(late, SessionCommand::RequestHuman { group: g })
        .await
        .unwrap();
    assert_eq!(d.closed_by(late), Some(CloseBy::Timer));
    // Room again once one leaves.
    d.end(d.engine.queue_order(g).await.unwrap()[0]).await;
    settle().await;
    let next = d.open("next", g).await;
    assert!(matches!(d.phase(next).await, Phase::Queued { .. }));
    d.world().check_invariants().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_transfer_into_a_full_group_is_refused_and_the_agent_keeps_the_chat() {
    let d = desk(auto).await;
    let g1 = d.group("pre-sales", 1).await;
    let g2 = d.group("after-sales", 1).await;
    limit_queue(&d, g2, 0, 1).await;
    let a = d.agent("ann", &[(g1, 1)]).await;
    d.online(a).await;
    let served = d.open("u1", g1).await;
    let _waiting = d.open("u2", g2).await;
    settle().await;
    assert_eq!(d.holder(served).await, Some(a));
    let refused = d
        .engine
        .session(
            served,
            SessionCommand::TransferToGroup { from: a, group: g2 },
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("full"), "{refused}");
    settle().await;
    assert_eq!(d.holder(served).await, Some(a));
    assert_eq!(d.engine.queue_order(g2).await.unwrap().len(), 1);
    // The refusal held no place: with room, the transfer goes through.
    limit_queue(&d, g2, 0, 2).await;
    d.engine
        .session(
            served,
            SessionCommand::TransferToGroup { from: a, group: g2 },
        )
        .await
        .unwrap();
    assert_eq!(d.engine.queue_order(g2).await.unwrap().len(), 2);
}
