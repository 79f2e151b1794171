//! A seeded generator of plausible desk histories with their ground truth, for the service
//! records' tests and benches: users who come back session after session, queues, agents,
//! transfers, ends of every kind, ratings, and transcripts drawn from a skewed vocabulary
//! (some words in most sessions, some in a handful). Pure: the same spec gives the same log.
//!
//! The truth is written down as the generator decides, not derived from the events, so a
//! test compares the projection and the index against something computed independently.

use std::collections::BTreeSet;

use crate::domain::conversation::{Body, Message, Sender};
use crate::domain::event::{CloseBy, Envelope, Event, QueueCause, TransferTarget};
use crate::domain::ids::{AgentId, AppId, ChannelId, ConversationId, GroupId, SessionId, StreamId};
use crate::domain::routing::RoutingDecision;
use crate::domain::settings::RoutingPolicy;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The seed: the same spec and seed give the same corpus.
    pub seed: u64,
    /// How many sessions in all.
    pub sessions: usize,
    /// How many apps (tenants) they are spread over.
    pub apps: u32,
    /// Skill groups per app.
    pub groups_per_app: u64,
    /// Agents per app.
    pub agents_per_app: u64,
    /// Sessions per user on average (users come back).
    pub sessions_per_user: usize,
    /// When the first session may start, ms since the epoch.
    pub start_ms: i64,
    /// Over how long sessions start, ms.
    pub span_ms: i64,
    /// Words in the vocabulary (`w0` is the commonest).
    pub vocabulary: usize,
}

impl Spec {
    /// A spec of `sessions` sessions over 2 apps and 30 days.
    pub fn of(seed: u64, sessions: usize) -> Self {
        Self {
            seed,
            sessions,
            apps: 2,
            groups_per_app: 8,
            agents_per_app: 40,
            sessions_per_user: 4,
            start_ms: 1_790_000_000_000,
            span_ms: 30 * 86_400_000,
            vocabulary: 5_000,
        }
    }
}

/// One session as the generator made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// The app.
    pub app: AppId,
    /// The session.
    pub session: SessionId,
    /// Its conversation.
    pub conversation: ConversationId,
    /// When it opened.
    pub created_at_ms: i64,
    /// The groups it queued in, in order, each once.
    pub groups: Vec<GroupId>,
    /// The agents who served it, in order.
    pub agents: Vec<AgentId>,
    /// Every search term of its transcript.
    pub words: BTreeSet<String>,
    /// Its messages' seqs in the conversation.
    pub seqs: Vec<u64>,
    /// Who ended it.
    pub close_by: CloseBy,
    /// Its rating.
    pub rating: Option<(u8, String)>,
}

/// A generated log and what it means.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The log, in order, seqs from 1.
    pub envelopes: Vec<Envelope>,
    /// Every session, by session id.
    pub truth: Vec<Truth>,
}

/// SplitMix64: small, seedable, good enough to draw test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        self.next_u64() % n
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A number in `0..1`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The thanks the desk says after a rating: its words are in the rated sessions' transcripts.
pub const THANKS: &str = "Thank you for your rating!";
/// The words of [`THANKS`].
pub const THANKS_WORDS: [&str; 5] = ["thank", "you", "for", "your", "rating"];

/// One event before the log orders it.
struct Timed {
    at_ms: i64,
    /// Generation order, to keep one user's events in order when times tie.
    order: u64,
    app: AppId,
    stream: StreamId,
    event: Event,
}

struct Builder {
    rng: Rng,
    spec: Spec,
    events: Vec<Timed>,
    truth: Vec<Truth>,
    next_id: u64,
}

impl Builder {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn push(&mut self, at_ms: i64, app: AppId, stream: StreamId, event: Event) {
        let order = self.events.len() as u64;
        self.events.push(Timed {
            at_ms,
            order,
            app,
            stream,
            event,
        });
    }

    /// A word drawn with a skew: low indices are common, high ones rare.
    fn word(&mut self) -> String {
        let skewed = self.rng.unit().powi(3);
        format!("w{}", (skewed * self.spec.vocabulary as f64) as usize)
    }

    /// A message's text and the words it is made of (lowercase, as written down).
    fn sentence(&mut self) -> (String, Vec<String>) {
        let n = 3 + self.rng.below(6);
        let words: Vec<String> = (0..n).map(|_| self.word()).collect();
        let mut text = words.join(" ");
        if self.rng.chance(30) {
            text.push('?');
        }
        if self.rng.chance(20) {
            // Case and punctuation must not matter to search.
            text = text.to_uppercase().replace(' ', ", ");
        }
        (text, words)
    }
}

/// One user's conversation as it is being written.
struct Chat {
    app: AppId,
    conversation: ConversationId,
    last_seq: u64,
}

impl Chat {
    /// Stores a message; `words` are the search terms it adds to the session's transcript.
    fn say(
        &mut self,
        b: &mut Builder,
        at_ms: i64,
        sender: Sender,
        (body, words): (Body, Vec<String>),
        truth: &mut Truth,
    ) {
        self.last_seq += 1;
        truth.words.extend(words);
        truth.seqs.push(self.last_seq);
        let message = Message {
            seq: self.last_seq,
            msg_id: format!("m{}", self.last_seq),
            sender,
            at_ms,
            body,
        };
        b.push(
            at_ms,
            self.app,
            StreamId::conversation(self.conversation),
            Event::MessageStored { message },
        );
    }
}

fn text((text, words): (String, Vec<String>)) -> (Body, Vec<String>) {
    (Body::Text { text }, words)
}

/// Generates a corpus.
pub fn generate(spec: &Spec) -> Corpus {
    let users = spec.sessions.div_ceil(spec.sessions_per_user.max(1));
    let mut b = Builder {
        rng: Rng::new(spec.seed),
        spec: spec.clone(),
        events: Vec::with_capacity(spec.sessions * 16),
        truth: Vec::with_capacity(spec.sessions),
        next_id: 1_000,
    };
    let decision = RoutingDecision::direct(RoutingPolicy::default(), 0);
    let mut made = 0usize;
    for u in 0..users {
        let app = AppId(1 + (u as u32 % spec.apps.max(1)));
        let channel = ChannelId(u64::from(app.0));
        let user = format!("user-{u}");
        let conversation = ConversationId(b.id());
        let mut chat = Chat {
            app,
            conversation,
            last_seq: 0,
        };
        let mut at = spec.start_ms + b.rng.below(spec.span_ms as u64 / 2) as i64;
        b.push(
            at,
            app,
            StreamId::conversation(conversation),
            Event::ConversationOpened {
                channel,
                user: user.clone(),
            },
        );
        let sessions = spec.sessions_per_user.max(1).min(spec.sessions - made);
        for _ in 0..sessions {
            made += 1;
            let session = SessionId(b.id());
            let stream = StreamId::session(session);
            let group_of = |rng: &mut Rng| {
                GroupId(u64::from(app.0) * 100 + rng.below(spec.groups_per_app.max(1)))
            };
            let agent_of = |rng: &mut Rng| {
                AgentId(u64::from(app.0) * 10_000 + rng.below(spec.agents_per_app.max(1)))
            };
            let mut truth = Truth {
                app,
                session,
                conversation,
                created_at_ms: 0,
                groups: Vec::new(),
                agents: Vec::new(),
                words: BTreeSet::new(),
                seqs: Vec::new(),
                close_by: CloseBy::Client,
                rating: None,
            };
            // The user's first words open the session.
            at += 1 + b.rng.below(1_000) as i64;
            let first = b.sentence();
            chat.say(&mut b, at, Sender::User, text(first), &mut truth);
            at += 1;
            truth.created_at_ms = at;
            b.push(
                at,
                app,
                stream,
                Event::SessionCreated {
                    channel,
                    user: user.clone(),
                    last_agent: None,
                },
            );
            let group = group_of(&mut b.rng);
            truth.groups.push(group);
            b.push(
                at,
                app,
                stream,
                Event::SessionQueued {
                    group,
                    queued_at_ms: at,
                    cause: QueueCause::New,
                },
            );
            at += b.rng.below(120_000) as i64;
            if b.rng.chance(10) {
                // Gave up waiting.
                truth.close_by = CloseBy::Client;
                b.push(
                    at,
                    app,
                    stream,
                    Event::SessionEnded {
                        close_by: CloseBy::Client,
                    },
                );
            } else {
                let mut current = Some(group);
                let legs = if b.rng.chance(15) { 2 } else { 1 };
                for leg in 0..legs {
                    let agent = agent_of(&mut b.rng);
                    if truth.agents.last() != Some(&agent) {
                        truth.agents.push(agent);
                    }
                    if b.rng.chance(50) {
                        b.push(
                            at,
                            app,
                            stream,
                            Event::SessionAssigned {
                                agent,
                                group: current,
                                decision: decision.clone(),
                            },
                        );
                    } else {
                        b.push(
                            at,
                            app,
                            stream,
                            Event::SessionOffered {
                                agent,
                                group: current,
                                generation: leg + 1,
                                deadline_ms: at + 30_000,
                                decision: decision.clone(),
                            },
                        );
                        at += b.rng.below(10_000) as i64;
                        b.push(at, app, stream, Event::SessionAccepted { agent });
                    }
                    for turn in 0..(1 + b.rng.below(8)) {
                        at += 1 + b.rng.below(60_000) as i64;
                        let words = b.sentence();
                        let sender = if turn % 2 == 0 {
                            Sender::Desk { agent: Some(agent) }
                        } else {
                            Sender::User
                        };
                        chat.say(&mut b, at, sender, text(words), &mut truth);
                    }
                    if leg + 1 < legs {
                        at += 1;
                        let next = group_of(&mut b.rng);
                        b.push(
                            at,
                            app,
                            stream,
                            Event::SessionTransferred {
                                from: agent,
                                to: TransferTarget::Group(next),
                            },
                        );
                        b.push(
                            at,
                            app,
                            stream,
                            Event::SessionQueued {
                                group: next,
                                queued_at_ms: at,
                                cause: QueueCause::Transfer { from: agent },
                            },
                        );
                        if !truth.groups.contains(&next) {
                            truth.groups.push(next);
                        }
                        current = Some(next);
                        at += b.rng.below(30_000) as i64;
                    }
                }
                at += 1 + b.rng.below(30_000) as i64;
                let close_by = match b.rng.below(4) {
                    0 => CloseBy::Client,
                    1 => CloseBy::Seat,
                    2 => CloseBy::Admin,
                    _ => CloseBy::Timer,
                };
                truth.close_by = close_by;
                b.push(at, app, stream, Event::SessionEnded { close_by });
                if b.rng.chance(30) {
                    // The satisfaction menu and, once rated, the thanks: after the end.
                    at += 1;
                    let menu = Body::Custom {
                        data: r#"{"src":"9"}"#.to_owned(),
                        description: String::new(),
                        extension: String::new(),
                    };
                    chat.say(
                        &mut b,
                        at,
                        Sender::Desk { agent: None },
                        (menu, Vec::new()),
                        &mut truth,
                    );
                    at += 1 + b.rng.below(60_000) as i64;
                    let value = 1 + b.rng.below(5) as u8;
                    let label = format!("level {value}");
                    truth.rating = Some((value, label.clone()));
                    b.push(
                        at,
                        app,
                        StreamId::conversation(conversation),
                        Event::SessionRated {
                            session,
                            value,
                            label,
                        },
                    );
                    chat.say(
                        &mut b,
                        at,
                        Sender::Desk { agent: None },
                        text((
                            THANKS.to_owned(),
                            THANKS_WORDS.iter().map(|w| (*w).to_owned()).collect(),
                        )),
                        &mut truth,
                    );
                }
            }
            b.truth.push(truth);
            // The user comes back later.
            at += 1 + b
                .rng
                .below((spec.span_ms as u64 / sessions as u64 / 2).max(1))
                as i64;
        }
    }
    b.events.sort_unstable_by_key(|t| (t.at_ms, t.order));
    let envelopes = b
        .events
        .into_iter()
        .enumerate()
        .map(|(i, t)| Envelope {
            seq: i as u64 + 1,
            at_ms: t.at_ms,
            app: t.app,
            stream: t.stream,
            event: t.event,
        })
        .collect();
    let mut truth = b.truth;
    truth.sort_unstable_by_key(|t| t.session);
    Corpus { envelopes, truth }
}
