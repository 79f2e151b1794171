//! Choosing an agent for a queued session: the routing policy as a pure function, and
//! the decision record that answers "why this agent?" in the log.
//!
//! A skill group keeps a view of its members (status, load, pending reservations, priority,
//! idle since). [`choose`] ranks them under the app's [`RoutingPolicy`]; the group then asks
//! the chosen agent for a reservation, and the agent has the last word.

use crate::domain::ids::AgentId;
use crate::domain::settings::{BasicRouting, RoutingPolicy};
use crate::durable;

durable! {
    /// The rule that settled the choice between the chosen agent and the runner-up.
    #[derive(Copy)]
    pub enum ChoiceRule {
        /// Only one agent could take the session.
        OnlyCandidate,
        /// The user's last receptionist could take it ("last receptionist first").
        LastReceptionist,
        /// Higher priority in the group (agent-priority routing).
        Priority,
        /// Fewer sessions in hand.
        LeastLoaded,
        /// Free for longer.
        LongestIdle,
        /// Lowest agent id, when everything else was equal.
        LowestId,
        /// The agent was named by a transfer.
        Direct,
        /// The agent that missed this session's offer, taken because no one else could.
        ExcludedFallback,
    }

    /// Why an agent was passed over, counted per reason.
    #[derive(Copy, Default)]
    pub struct Skipped {
        /// Not logged in.
        pub offline: u32,
        /// Logged in but busy, resting, arranging or not ready.
        pub not_free: u32,
        /// At the group's reception limit (sessions in hand plus reservations pending).
        pub at_limit: u32,
        /// Missed this session's previous offer.
        pub excluded: u32,
    }

    /// Why an agent answered no to a reservation.
    pub enum RefuseReason {
        /// Not free (its real status).
        NotFree {
            /// The status it had.
            status: String,
        },
        /// At the offering group's limit.
        AtLimit {
            /// Sessions in hand.
            load: u32,
            /// The limit asked for.
            limit: u32,
        },
        /// Not logged in.
        Offline,
        /// The agent no longer exists or left the group.
        Gone,
        /// The agent already holds this session.
        AlreadyHolds,
    }

    /// An agent that refused a reservation before another accepted.
    pub struct Refusal {
        /// The agent.
        pub agent: AgentId,
        /// Why.
        pub reason: RefuseReason,
    }

    /// Why a session went to this agent: written into the offer/assignment event.
    pub struct RoutingDecision {
        /// The policy in force.
        pub policy: RoutingPolicy,
        /// The rule that separated the chosen agent from the runner-up.
        pub rule: ChoiceRule,
        /// The next best agent, if any.
        pub runner_up: Option<AgentId>,
        /// Members looked at.
        pub considered: u32,
        /// Members passed over, by reason.
        pub skipped: Skipped,
        /// Agents who refused a reservation for this session, in order.
        pub refused: Vec<Refusal>,
        /// Sessions the chosen agent held when it accepted the reservation (the agent's own
        /// count, so the limit can be checked from this event alone, whatever order other
        /// sessions' placements reached the log in).
        pub held: u32,
    }
}

impl RoutingDecision {
    /// The decision of a transfer to a named agent who held `held` sessions when it accepted.
    pub fn direct(policy: RoutingPolicy, held: u32) -> Self {
        Self {
            policy,
            rule: ChoiceRule::Direct,
            runner_up: None,
            considered: 1,
            skipped: Skipped::default(),
            refused: Vec::new(),
            held,
        }
    }
}

/// A group member as the group currently sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The agent.
    pub agent: AgentId,
    /// Priority in this group, 1 (highest) to 5 (lowest).
    pub priority: u8,
    /// Logged in.
    pub online: bool,
    /// Status is free.
    pub free: bool,
    /// Sessions in hand (offered or in service), across all groups.
    pub load: u32,
    /// Reservations this group has asked for and not yet heard back on.
    pub pending: u32,
    /// Since when the agent has been idle (last status change or session change), ms.
    pub idle_since_ms: i64,
}

/// What the group knows about the session it is routing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoutingRequest {
    /// The agent who served this user last, for "last receptionist first".
    pub last_agent: Option<AgentId>,
    /// An agent who just missed this session: taken only when nobody else can.
    pub excluded: Option<AgentId>,
}

/// The outcome of ranking: the chosen agent and the decision record (refusals are added by
/// the group as they come back).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The agent to ask for a reservation.
    pub agent: AgentId,
    /// Why.
    pub decision: RoutingDecision,
}

impl Candidate {
    fn can_take(&self, limit: u32) -> bool {
        self.online && self.free && self.load + self.pending < limit
    }
}

/// Ranks `members` for one session under `policy` and the group's reception `limit`.
/// Returns `Err(Skipped)` (why nobody can take it) when no member can take it now.
pub fn choose<'a>(
    policy: RoutingPolicy,
    limit: u32,
    request: RoutingRequest,
    members: impl IntoIterator<Item = &'a Candidate>,
) -> Result<Choice, Skipped> {
    let mut skipped = Skipped::default();
    let mut considered = 0u32;
    let mut best: Option<&Candidate> = None;
    let mut second: Option<&Candidate> = None;
    let mut last: Option<&Candidate> = None;
    let mut excluded: Option<&Candidate> = None;
    for c in members {
        considered += 1;
        if !c.online {
            skipped.offline += 1;
            continue;
        }
        if !c.free {
            skipped.not_free += 1;
            continue;
        }
        if !c.can_take(limit) {
            skipped.at_limit += 1;
            continue;
        }
        if request.excluded == Some(c.agent) {
            skipped.excluded += 1;
            excluded = Some(c);
            continue;
        }
        if request.last_agent == Some(c.agent) {
            last = Some(c);
        }
        match best {
            Some(b) if !better(policy.basic, c, b) => {
                if second.is_none_or(|s| better(policy.basic, c, s)) {
                    second = Some(c);
                }
            }
            _ => {
                second = best;
                best = Some(c);
            }
        }
    }
    // `held` is the group's view until the agent's answer replaces it with its own count.
    let decision =
        |chosen: &Candidate, rule, runner_up: Option<&Candidate>, skipped| RoutingDecision {
            policy,
            rule,
            runner_up: runner_up.map(|c| c.agent),
            considered,
            skipped,
            refused: Vec::new(),
            held: chosen.load + chosen.pending,
        };
    if policy.last_receptionist_first
        && let Some(l) = last
    {
        let runner_up = if best.map(|b| b.agent) == Some(l.agent) {
            second
        } else {
            best
        };
        return Ok(Choice {
            agent: l.agent,
            decision: decision(l, ChoiceRule::LastReceptionist, runner_up, skipped),
        });
    }
    match (best, excluded) {
        (Some(b), _) => {
            let rule = match second {
                None => ChoiceRule::OnlyCandidate,
                Some(s) => deciding_rule(policy.basic, b, s),
            };
            Ok(Choice {
                agent: b.agent,
                decision: decision(b, rule, second, skipped),
            })
        }
        (None, Some(e)) => {
            let mut skipped = skipped;
            skipped.excluded -= 1;
            Ok(Choice {
                agent: e.agent,
                decision: decision(e, ChoiceRule::ExcludedFallback, None, skipped),
            })
        }
        (None, None) => Err(skipped),
    }
}

/// Why one member of a session's group does not have that queued session (or is about
/// to), for "why is it still waiting": derived from the same [`Candidate`] view [`choose`]
/// ranks, so it never says an agent could take the session while [`choose`] would pass
/// it over, nor the other way round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// Not logged in.
    Offline,
    /// Logged in, status not free.
    NotFree,
    /// Sessions in hand at the group's reception limit.
    AtLimit {
        /// Sessions in hand.
        load: u32,
        /// The limit.
        limit: u32,
    },
    /// Under the limit by its sessions alone, but the rest of its room is held by
    /// reservations for other sessions not answered yet.
    Reserved {
        /// Sessions in hand.
        load: u32,
        /// Reservations pending.
        pending: u32,
        /// The limit.
        limit: u32,
    },
    /// Missed this session's last offer: asked again only when nobody else can take it.
    Excluded,
    /// Being asked for a reservation for this session now.
    Asked,
    /// Could take it, but the session waits for the member being asked now.
    Capable,
    /// [`choose`] picks it now: the group asks it on its next dispatch.
    Next {
        /// The rule that made it the choice.
        rule: ChoiceRule,
    },
}

/// Every member's [`WaitReason`] for one queued session, in `members` order. `asked` is
/// the member the group is asking for a reservation for this session, if any.
pub fn explain<'a>(
    policy: RoutingPolicy,
    limit: u32,
    request: RoutingRequest,
    members: impl IntoIterator<Item = &'a Candidate> + Clone,
    asked: Option<AgentId>,
) -> Vec<(AgentId, WaitReason)> {
    let next = match asked {
        Some(_) => None,
        None => choose(policy, limit, request, members.clone()).ok(),
    };
    members
        .into_iter()
        .map(|c| {
            let reason = if asked == Some(c.agent) {
                WaitReason::Asked
            } else if !c.online {
                WaitReason::Offline
            } else if !c.free {
                WaitReason::NotFree
            } else if c.load >= limit {
                WaitReason::AtLimit {
                    load: c.load,
                    limit,
                }
            } else if !c.can_take(limit) {
                WaitReason::Reserved {
                    load: c.load,
                    pending: c.pending,
                    limit,
                }
            } else if let Some(n) = next.as_ref().filter(|n| n.agent == c.agent) {
                WaitReason::Next {
                    rule: n.decision.rule,
                }
            } else if request.excluded == Some(c.agent) {
                WaitReason::Excluded
            } else {
                WaitReason::Capable
            };
            (c.agent, reason)
        })
        .collect()
}

/// The ranking key: smaller is better.
fn key(basic: BasicRouting, c: &Candidate) -> (u8, u32, i64, u64) {
    let priority = match basic {
        BasicRouting::Fifo => 0,
        BasicRouting::AgentPriority => c.priority,
    };
    (priority, c.load + c.pending, c.idle_since_ms, c.agent.0)
}

fn better(basic: BasicRouting, a: &Candidate, b: &Candidate) -> bool {
    key(basic, a) < key(basic, b)
}

fn deciding_rule(basic: BasicRouting, chosen: &Candidate, runner_up: &Candidate) -> ChoiceRule {
    let (a, b) = (key(basic, chosen), key(basic, runner_up));
    if a.0 != b.0 {
        ChoiceRule::Priority
    } else if a.1 != b.1 {
        ChoiceRule::LeastLoaded
    } else if a.2 != b.2 {
        ChoiceRule::LongestIdle
    } else {
        ChoiceRule::LowestId
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cand(agent: u64, priority: u8, load: u32, idle_since_ms: i64) -> Candidate {
        Candidate {
            agent: AgentId(agent),
            priority,
            online: true,
            free: true,
            load,
            pending: 0,
            idle_since_ms,
        }
    }

    const FIFO: RoutingPolicy = RoutingPolicy {
        basic: BasicRouting::Fifo,
        last_receptionist_first: false,
    };
    const PRIORITY: RoutingPolicy = RoutingPolicy {
        basic: BasicRouting::AgentPriority,
        last_receptionist_first: false,
    };

    #[test]
    fn fifo_prefers_least_loaded_then_longest_idle() {
        let members = [cand(1, 1, 2, 0), cand(2, 5, 1, 500), cand(3, 5, 1, 100)];
        let c = choose(FIFO, 5, RoutingRequest::default(), &members).unwrap();
        assert_eq!(c.agent, AgentId(3));
        assert_eq!(c.decision.rule, ChoiceRule::LongestIdle);
        assert_eq!(c.decision.runner_up, Some(AgentId(2)));
    }

    #[test]
    fn priority_routing_prefers_priority_over_load() {
        let members = [cand(1, 3, 0, 0), cand(2, 1, 3, 0)];
        let c = choose(PRIORITY, 5, RoutingRequest::default(), &members).unwrap();
        assert_eq!(c.agent, AgentId(2));
        assert_eq!(c.decision.rule, ChoiceRule::Priority);
    }

    #[test]
    fn last_receptionist_first_wins_when_it_can_take_the_session() {
        let policy = RoutingPolicy {
            last_receptionist_first: true,
            ..FIFO
        };
        let members = [cand(1, 3, 0, 0), cand(2, 3, 3, 0)];
        let request = RoutingRequest {
            last_agent: Some(AgentId(2)),
            excluded: None,
        };
        let c = choose(policy, 5, request, &members).unwrap();
        assert_eq!(c.agent, AgentId(2));
        assert_eq!(c.decision.rule, ChoiceRule::LastReceptionist);
        assert_eq!(c.decision.runner_up, Some(AgentId(1)));
    }

    #[test]
    fn last_receptionist_at_limit_falls_back_to_the_policy() {
        let policy = RoutingPolicy {
            last_receptionist_first: true,
            ..FIFO
        };
        let members = [cand(1, 3, 0, 0), cand(2, 3, 5, 0)];
        let request = RoutingRequest {
            last_agent: Some(AgentId(2)),
            excluded: None,
        };
        let c = choose(policy, 5, request, &members).unwrap();
        assert_eq!(c.agent, AgentId(1));
        assert_eq!(c.decision.skipped.at_limit, 1);
    }

    #[test]
    fn excluded_agent_is_the_last_resort() {
        let members = [cand(1, 3, 0, 0), cand(2, 3, 1, 0)];
        let request = RoutingRequest {
            last_agent: None,
            excluded: Some(AgentId(1)),
        };
        let c = choose(FIFO, 5, request, &members).unwrap();
        assert_eq!(c.agent, AgentId(2));
        let only = [cand(1, 3, 0, 0)];
        let c = choose(FIFO, 5, request, &only).unwrap();
        assert_eq!(c.agent, AgentId(1));
        assert_eq!(c.decision.rule, ChoiceRule::ExcludedFallback);
    }

    #[test]
    fn nobody_free_reports_why() {
        let mut busy = cand(1, 3, 0, 0);
        busy.free = false;
        let mut off = cand(2, 3, 0, 0);
        off.online = false;
        let mut full = cand(3, 3, 1, 0);
        full.pending = 1;
        let skipped = choose(FIFO, 2, RoutingRequest::default(), &[busy, off, full]).unwrap_err();
        assert_eq!(
            skipped,
            Skipped {
                offline: 1,
                not_free: 1,
                at_limit: 1,
                excluded: 0
            }
        );
    }

    #[test]
    fn a_waiting_session_says_why_of_every_member() {
        let mut busy = cand(1, 3, 0, 0);
        busy.free = false;
        let mut off = cand(2, 3, 0, 0);
        off.online = false;
        let full = cand(3, 3, 2, 0);
        let mut reserved = cand(4, 3, 1, 0);
        reserved.pending = 1;
        let members = [busy, off, full, reserved];
        let why = explain(FIFO, 2, RoutingRequest::default(), &members, None);
        assert_eq!(
            why,
            [
                (AgentId(1), WaitReason::NotFree),
                (AgentId(2), WaitReason::Offline),
                (AgentId(3), WaitReason::AtLimit { load: 2, limit: 2 }),
                (
                    AgentId(4),
                    WaitReason::Reserved {
                        load: 1,
                        pending: 1,
                        limit: 2
                    }
                ),
            ]
        );
    }

    #[test]
    fn the_member_asked_and_the_one_that_missed_it_are_named() {
        let members = [cand(1, 3, 0, 0), cand(2, 3, 0, 0), cand(3, 3, 0, 0)];
        let request = RoutingRequest {
            last_agent: None,
            excluded: Some(AgentId(3)),
        };
        let asked = explain(FIFO, 2, request, &members, Some(AgentId(1)));
        assert_eq!(asked[0].1, WaitReason::Asked);
        assert_eq!(asked[1].1, WaitReason::Capable);
        assert_eq!(asked[2].1, WaitReason::Excluded);
        let next = explain(FIFO, 2, request, &members, None);
        assert_eq!(
            next[0].1,
            WaitReason::Next {
                rule: ChoiceRule::LowestId
            }
        );
        assert_eq!(next[2].1, WaitReason::Excluded);
    }

    fn arb_candidate() -> impl Strategy<Value = Candidate> {
        (
            0u64..50,
            1u8..=5,
            any::<bool>(),
            any::<bool>(),
            0u32..6,
            0u32..3,
            0i64..1000,
        )
            .prop_map(
                |(agent, priority, online, free, load, pending, idle_since_ms)| Candidate {
                    agent: AgentId(agent),
                    priority,
                    online,
                    free,
                    load,
                    pending,
                    idle_since_ms,
                },
            )
    }

    proptest! {
        /// The chosen agent can always take the session, and no agent that could take it
        /// ranks strictly better under the policy.
        #[test]
        fn chosen_agent_has_capacity_and_is_best(
            members in proptest::collection::vec(arb_candidate(), 0..20).prop_map(|mut v| {
                // Members of a group are distinct agents.
                for (i, c) in v.iter_mut().enumerate() {
                    c.agent = AgentId(i as u64);
                }
                v
            }),
            limit in 1u32..6,
            priority_routing in any::<bool>(),
        ) {
            let policy = if priority_routing { PRIORITY } else { FIFO };
            match choose(policy, limit, RoutingRequest::default(), &members) {
                Ok(choice) => {
                    let chosen = members.iter().find(|c| c.agent == choice.agent).unwrap();
                    prop_assert!(chosen.can_take(limit));
                    for other in members.iter().filter(|c| c.can_take(limit)) {
                        prop_assert!(key(policy.basic, chosen) <= key(policy.basic, other));
                    }
                }
                Err(skipped) => {
                    prop_assert!(members.iter().all(|c| !c.can_take(limit)));
                    let total = skipped.offline + skipped.not_free + skipped.at_limit;
                    prop_assert_eq!(total as usize, members.len());
                }
            }
        }
        /// The explanation agrees with `choose`: the member it picks is `Next` (and only
        /// it), a member said to be unable cannot take the session, one said to be able can,
        /// and when nobody can the reasons add up to `choose`'s skip counts.
        #[test]
        fn explanations_agree_with_choose(
            members in proptest::collection::vec(arb_candidate(), 0..20).prop_map(|mut v| {
                for (i, c) in v.iter_mut().enumerate() {
                    c.agent = AgentId(i as u64);
                }
                v
            }),
            limit in 1u32..6,
            priority_routing in any::<bool>(),
            excluded in proptest::option::of(0u64..20),
        ) {
            let policy = if priority_routing { PRIORITY } else { FIFO };
            let request = RoutingRequest { last_agent: None, excluded: excluded.map(AgentId) };
            let why = explain(policy, limit, request, &members, None);
            prop_assert_eq!(why.len(), members.len());
            for ((agent, reason), c) in why.iter().zip(&members) {
                prop_assert_eq!(*agent, c.agent);
                let able = matches!(
                    reason,
                    WaitReason::Next { .. } | WaitReason::Capable | WaitReason::Excluded
                );
                prop_assert_eq!(able, c.can_take(limit), "{:?} for {:?}", reason, c);
            }
            let next: Vec<_> = why
                .iter()
                .filter(|(_, r)| matches!(r, WaitReason::Next { .. }))
                .collect();
            match choose(policy, limit, request, &members) {
                Ok(choice) => {
                    prop_assert_eq!(next.len(), 1);
                    prop_assert_eq!(next[0].0, choice.agent);
                    prop_assert_eq!(next[0].1, WaitReason::Next { rule: choice.decision.rule });
                }
                Err(skipped) => {
                    prop_assert!(next.is_empty());
                    let count = |f: fn(&WaitReason) -> bool| {
                        why.iter().filter(|(_, r)| f(r)).count() as u32
                    };
                    prop_assert_eq!(count(|r| *r == WaitReason::Offline), skipped.offline);
                    prop_assert_eq!(count(|r| *r == WaitReason::NotFree), skipped.not_free);
                    prop_assert_eq!(
                        count(|r| matches!(r, WaitReason::AtLimit { .. } | WaitReason::Reserved { .. })),
                        skipped.at_limit
                    );
                }
            }
        }
    }
}
