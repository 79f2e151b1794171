//! A flow as a session runs it: the fold of the flow events in its conversation's stream,
//! and what one step comes to for the shell (messages to store, events to append, things to
//! do once they are durable). Pure: the shell (`crate::im::flows`) does the IO.
//!
//! A step is appended whole, in one append: the desk's messages it sends, the flow's new
//! state, and the intents it makes (an HTTP call due, a human asked for, the end reached).
//! The shell carries out an intent only once it is durable, and after a restart carries out
//! again every intent the log holds and the world has not seen done: a call requested and
//! not answered is made again with the same key; a call whose answer is in the log never is.

use std::collections::BTreeMap;

use crate::domain::conversation::Body;
use crate::domain::event::Event;
use crate::domain::ids::{FlowId, GroupId, SessionId};
use crate::im::protocol::{DeskMessage, Item};

use super::{Bot, BotReply, Flow, FlowState, FormKind, Input, Output, StepError, Wait, step};

/// Most bot questions the FAQ bot answers within one step (each answer waits for the user
/// again, so one is the most a step takes; this bounds a bot that would not wait).
const MAX_BOT_ROUNDS: usize = 4;

/// An HTTP call the flow waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCall {
    /// The key, the same on every attempt.
    pub key: String,
    /// Where it is POSTed.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// The attempt's timeout.
    pub timeout_ms: u32,
    /// Which attempt.
    pub attempt: u32,
}

/// The human the flow asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HumanRequest {
    /// The skill group.
    pub group: GroupId,
    /// Told when the session queues, with `${WaitNo}`.
    pub queue_message: String,
    /// Told when an agent takes it, with `${StaffNickName}` and `${StaffNo}`.
    pub success_message: String,
}

/// How the session ends, once the flow reached its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finish {
    /// The user-reply timeout (0 is off).
    pub reply_timeout_secs: u32,
    /// Sent when the reply timeout ends the session.
    pub auto_termination_message: String,
    /// Sent when the human service ends.
    pub human_termination_message: String,
}

/// A session's flow, as its conversation keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRun {
    /// The session running it.
    pub session: SessionId,
    /// The flow.
    pub flow: FlowId,
    /// Its version.
    pub version: u32,
    /// Where it stands.
    pub state: FlowState,
    /// The HTTP call requested and not answered yet (the outbox).
    pub call: Option<PendingCall>,
    /// The human asked for.
    pub human: Option<HumanRequest>,
    /// The end reached.
    pub finished: Option<Finish>,
}

impl FlowRun {
    /// Folds one flow event of the conversation's stream into its run (a step of another
    /// session starts a new run).
    pub fn apply(run: &mut Option<FlowRun>, event: &Event) {
        match event {
            Event::FlowStepped {
                session,
                flow,
                version,
                state,
            } => match run {
                Some(r) if r.session == *session => {
                    r.state = state.clone();
                    let awaited = match &r.state.wait {
                        Wait::Call(k) | Wait::Bot(k) => Some(k.as_str()),
                        _ => None,
                    };
                    if r.call.as_ref().map(|c| c.key.as_str()) != awaited {
                        r.call = None;
                    }
                }
                _ => {
                    *run = Some(FlowRun {
                        session: *session,
                        flow: *flow,
                        version: *version,
                        state: state.clone(),
                        call: None,
                        human: None,
                        finished: None,
                    });
                }
            },
            Event::FlowCallRequested {
                session,
                key,
                url,
                body,
                timeout_ms,
                attempt,
            } => {
                if let Some(r) = run.as_mut().filter(|r| r.session == *session) {
                    r.call = Some(PendingCall {
                        key: key.clone(),
                        url: url.clone(),
                        body: body.clone(),
                        timeout_ms: *timeout_ms,
                        attempt: *attempt,
                    });
                }
            }
            Event::FlowCallAnswered {
                session,
                key,
                attempt,
                ..
            } => {
                if let Some(r) = run.as_mut().filter(|r| r.session == *session)
                    && r.call
                        .as_ref()
                        .is_some_and(|c| c.key == *key && c.attempt == *attempt)
                {
                    r.call = None;
                }
            }
            Event::FlowHumanRequested {
                session,
                group,
                queue_message,
                success_message,
            } => {
                if let Some(r) = run.as_mut().filter(|r| r.session == *session) {
                    r.human = Some(HumanRequest {
                        group: *group,
                        queue_message: queue_message.clone(),
                        success_message: success_message.clone(),
                    });
                }
            }
            Event::FlowFinished {
                session,
                reply_timeout_secs,
                auto_termination_message,
                human_termination_message,
            } => {
                if let Some(r) = run.as_mut().filter(|r| r.session == *session) {
                    r.finished = Some(Finish {
                        reply_timeout_secs: *reply_timeout_secs,
                        auto_termination_message: auto_termination_message.clone(),
                        human_termination_message: human_termination_message.clone(),
                    });
                }
            }
            _ => {}
        }
    }

    /// Whether the flow waits for a text from the user.
    pub fn waits_for_user(&self) -> bool {
        self.state.wait == Wait::User
    }
}

/// What the shell does once a step's events are durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// POST the call (an interface call or a webhook bot's question).
    Call(PendingCall),
    /// Ask the session to queue in the group (after setting its reply timeout, if the step
    /// also finished).
    RequestHuman(GroupId),
    /// Set the session's user-reply timeout.
    ReplyTimeout(u32),
    /// End the session: the flow finished without a human.
    EndSession,
}

/// What one step comes to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Advance {
    /// The desk's messages to store, in order.
    pub say: Vec<Body>,
    /// The flow's events, after the messages.
    pub events: Vec<Event>,
    /// What to do once all of it is durable, in order.
    pub acts: Vec<Act>,
}

/// A flow and what the shell knows about running it.
pub struct Runner<'a> {
    /// The flow.
    pub flow: &'a Flow,
    /// Its id.
    pub id: FlowId,
    /// Its version.
    pub version: u32,
    /// The session.
    pub session: SessionId,
    /// The FAQ bot: the answer to a question, if one scores `threshold` or more.
    pub faq: &'a (dyn Fn(&str, f32) -> Option<String> + Sync),
}

/// The request a webhook bot gets.
pub fn webhook_body(text: &str, vars: &BTreeMap<String, String>) -> String {
    let var = |k: &str| vars.get(k).cloned().unwrap_or_default();
    serde_json::json!({
        "text": text,
        "sessionId": var("SystemSessionId"),
        "userId": var("UserId"),
        "channelId": var("ChannelId"),
    })
    .to_string()
}

/// What a webhook bot's answer means: `{"answer": "...", "handover": false}` (both
/// optional; anything else is a failure).
pub fn webhook_reply(answer: &str) -> Result<BotReply, String> {
    let value: serde_json::Value =
        serde_json::from_str(answer).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| "the answer is not a JSON object".to_owned())?;
    let text = match obj.get("answer") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`answer` is not a string".to_owned()),
    };
    let handover = match obj.get("handover") {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::Bool(b)) => *b,
        Some(_) => return Err("`handover` is not a boolean".to_owned()),
    };
    Ok(BotReply {
        answer: text,
        handover,
    })
}

/// What an interface call's answer means: a JSON object, or a failure.
pub fn call_reply(
    answer: Option<&str>,
    error: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let Some(answer) = answer else {
        return Err(error.to_owned());
    };
    match serde_json::from_str(answer) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err("the answer is not a JSON object".to_owned()),
        Err(e) => Err(format!("the answer is not JSON: {e}")),
    }
}

impl Runner<'_> {
    /// Steps the flow from `state` with `input` at `now_ms` (answering the FAQ bot on the
    /// spot) and says what it comes to.
    pub fn advance(
        &self,
        state: &FlowState,
        input: Input,
        now_ms: i64,
    ) -> Result<(Advance, FlowState), StepError> {
        let mut out = Advance::default();
        let mut outputs = Vec::new();
        let (mut produced, mut state) = step(self.flow, state, &input, now_ms)?;
        for _ in 0..MAX_BOT_ROUNDS {
            let faq = produced.iter().find_map(|o| match o {
                Output::AskBot {
                    key,
                    bot: Bot::Faq { threshold, .. },
                    text,
                } => Some((key.clone(), *threshold, text.clone())),
                _ => None,
            });
            produced.retain(|o| {
                !matches!(
                    o,
                    Output::AskBot {
                        bot: Bot::Faq { .. },
                        ..
                    }
                )
            });
            outputs.append(&mut produced);
            let Some((key, threshold, text)) = faq else {
                break;
            };
            let answer = (self.faq)(&text, threshold);
            let input = Input::BotDone {
                key,
                result: Ok(BotReply {
                    answer,
                    handover: false,
                }),
            };
            (produced, state) = step(self.flow, &state, &input, now_ms)?;
        }
        let mut finish = None;
        for output in outputs {
            match output {
                Output::Say(text) => {
                    if !text.trim().is_empty() {
                        out.say.push(Body::Text { text });
                    }
                }
                Output::Menu { header, items } => out.say.push(
                    DeskMessage::BranchMenu {
                        header,
                        items: items_of(items),
                        tail: Some(String::new()),
                        selected: None,
                    }
                    .to_body(),
                ),
                Output::Form {
                    kind,
                    header,
                    items,
                } => out.say.push(
                    DeskMessage::Form {
                        kind: match kind {
                            FormKind::Text => 0,
                            FormKind::Options => 1,
                        },
                        header,
                        items: (kind == FormKind::Options).then(|| items_of(items)),
                        selected: None,
                    }
                    .to_body(),
                ),
                Output::Call {
                    key,
                    url,
                    body,
                    timeout_ms,
                    attempt,
                } => out.acts.push(Act::Call(PendingCall {
                    key,
                    url,
                    body: body.to_string(),
                    timeout_ms,
                    attempt,
                })),
                Output::AskBot {
                    key,
                    bot: Bot::Webhook { url, timeout_ms },
                    text,
                } => out.acts.push(Act::Call(PendingCall {
                    key,
                    url,
                    body: webhook_body(&text, &state.vars),
                    timeout_ms,
                    attempt: 1,
                })),
                Output::AskBot { .. } => {}
                Output::RequestHuman {
                    group,
                    queue_message,
                    success_message,
                } => {
                    out.events.push(Event::FlowHumanRequested {
                        session: self.session,
                        group,
                        queue_message,
                        success_message,
                    });
                    out.acts.push(Act::RequestHuman(group));
                }
                Output::Finished {
                    reply_timeout_secs,
                    auto_termination_message,
                    human_termination_message,
                } => {
                    finish = Some(reply_timeout_secs);
                    out.events.push(Event::FlowFinished {
                        session: self.session,
                        reply_timeout_secs,
                        auto_termination_message,
                        human_termination_message,
                    });
                }
            }
        }
        let stepped = Event::FlowStepped {
            session: self.session,
            flow: self.id,
            version: self.version,
            state: state.clone(),
        };
        out.events.insert(0, stepped);
        let calls: Vec<Event> = out
            .acts
            .iter()
            .filter_map(|a| match a {
                Act::Call(c) => Some(Event::FlowCallRequested {
                    session: self.session,
                    key: c.key.clone(),
                    url: c.url.clone(),
                    body: c.body.clone(),
                    timeout_ms: c.timeout_ms,
                    attempt: c.attempt,
                }),
                _ => None,
            })
            .collect();
        out.events.splice(1..1, calls);
        if let Some(secs) = finish {
            let asked = out.acts.iter().any(|a| matches!(a, Act::RequestHuman(_)));
            if asked {
                // The timeout is the session's before anyone can serve it.
                out.acts.insert(0, Act::ReplyTimeout(secs));
            } else {
                out.acts.push(Act::EndSession);
            }
        }
        Ok((out, state))
    }
}

/// What is left to do for a run after a restart, given whether its session still waits
/// for the flow (open, no human asked of it yet).
pub fn redo(run: &FlowRun, session_open: bool) -> Vec<Act> {
    let mut acts = Vec::new();
    if let Some(call) = &run.call {
        acts.push(Act::Call(call.clone()));
    }
    if !session_open {
        return acts;
    }
    match (&run.human, &run.finished) {
        (Some(h), finish) => {
            if let Some(f) = finish {
                acts.push(Act::ReplyTimeout(f.reply_timeout_secs));
            }
            acts.push(Act::RequestHuman(h.group));
        }
        (None, Some(_)) => acts.push(Act::EndSession),
        (None, None) => {}
    }
    acts
}

fn items_of(items: Vec<(String, String)>) -> Vec<Item> {
    items
        .into_iter()
        .map(|(content, desc)| Item { content, desc })
        .collect()
}
