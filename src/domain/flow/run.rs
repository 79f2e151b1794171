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
use crate::im::protocol::{DeskMessage, InputVariable, Item, TaskBranch, TaskForm, TaskItem};

use super::{
    Bot, BotReply, Flow, FlowState, FormKind, Input, Module, Output, StepError, Wait, step,
};

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
    /// The channel speaks the task shapes: src 32 for menus and 33 for forms.
    pub task_messages: bool,
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
        // The node the flow waits at: what a task message's `taskInfo` names.
        // Built only for a channel that speaks the task shapes: every flow step passes here.
        let (task_info, variable) = if self.task_messages {
            let variable = match self.flow.node(&state.node).map(|n| &n.module) {
                Some(Module::Collect { variable, .. }) => variable.clone(),
                _ => String::new(),
            };
            let info =
                serde_json::json!({"sessionId": self.session.to_string(), "nodeId": state.node});
            (info, variable)
        } else {
            (serde_json::Value::Null, String::new())
        };
        for output in outputs {
            match output {
                Output::Menu { header, items } if self.task_messages => out.say.push(
                    DeskMessage::TaskBranch(TaskBranch {
                        status: 0,
                        option_type: 1,
                        header,
                        items: task_items(items),
                        selected: None,
                        task_info: task_info.clone(),
                    })
                    .to_body(),
                ),
                Output::Form {
                    kind,
                    header,
                    items,
                } if self.task_messages => out.say.push(
                    DeskMessage::TaskForm(TaskForm {
                        node_status: Some(0),
                        tip: header,
                        input_variables: vec![InputVariable {
                            name: variable.clone(),
                            placeholder: String::new(),
                            is_required: true,
                            form_type: u8::from(kind == FormKind::Options),
                            choose_item_list: items.into_iter().map(|(c, _)| c).collect(),
                            variable_value: String::new(),
                            extra: Default::default(),
                        }],
                        task_info: Some(task_info.clone()),
                    })
                    .to_body(),
                ),
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

fn task_items(items: Vec<(String, String)>) -> Vec<TaskItem> {
    items
        .into_iter()
        .map(|(content, desc)| TaskItem {
            content,
            desc,
            extra: Default::default(),
        })
        .collect()
}

fn items_of(items: Vec<(String, String)>) -> Vec<Item> {
    items
        .into_iter()
        .map(|(content, desc)| Item { content, desc })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::flow::testing::{edge, end, menu, node};
    use crate::domain::flow::{CallField, Graph, validate};

    const S: SessionId = SessionId(40);
    const F: FlowId = FlowId(30);

    fn flow(nodes: Vec<crate::domain::flow::Node>, edges: Vec<crate::domain::flow::Edge>) -> Flow {
        validate(Graph { nodes, edges }).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn no_faq(_: &str, _: f32) -> Option<String> {
        None
    }

    fn runner<'a>(
        f: &'a Flow,
        faq: &'a (dyn Fn(&str, f32) -> Option<String> + Sync),
    ) -> Runner<'a> {
        Runner {
            flow: f,
            id: F,
            version: 2,
            session: S,
            faq,
            task_messages: false,
        }
    }

    fn transfer() -> Module {
        Module::TransferToAgent {
            group: GroupId(7),
            queue_message: "${WaitNo} ahead".into(),
            success_message: "${StaffNickName} here".into(),
        }
    }

    fn fold(events: &[Event]) -> Option<FlowRun> {
        let mut run = None;
        for e in events {
            FlowRun::apply(&mut run, e);
        }
        run
    }

    #[test]
    fn a_menu_is_a_src_15_message_and_the_step_is_one_append() {
        let f = flow(
            vec![
                node("start", Module::Start),
                node("menu", menu("Pick", &[("a", "A"), ("b", "B")])),
                node("desk", transfer()),
                node("end", end()),
            ],
            vec![
                edge("start", "next", "menu"),
                edge("menu", "a", "desk"),
                edge("menu", "b", "desk"),
                edge("desk", "next", "end"),
            ],
        );
        let r = runner(&f, &no_faq);
        let (out, state) = r
            .advance(&FlowState::new(&f, BTreeMap::new()), Input::Begin, 0)
            .unwrap();
        assert_eq!(out.say.len(), 1);
        let Body::Custom { data, .. } = &out.say[0] else {
            panic!("custom")
        };
        assert!(data.contains(r#""src":"15""#), "{data}");
        assert_eq!(out.events.len(), 1, "the state alone");
        assert!(out.acts.is_empty());
        // The pick: a human asked for with the end's timeout set first, all in one step.
        let (out, _) = r.advance(&state, Input::UserText("B".into()), 0).unwrap();
        let names: Vec<&str> = out.events.iter().map(Event::name).collect();
        assert_eq!(names, ["FlowStepped", "FlowHumanRequested", "FlowFinished"]);
        assert_eq!(
            out.acts,
            [Act::ReplyTimeout(0), Act::RequestHuman(GroupId(7))]
        );
    }

    #[test]
    fn an_end_without_a_human_ends_the_session() {
        let f = flow(
            vec![
                node("start", Module::Start),
                node("bye", Module::SendMessage { text: "bye".into() }),
                node("end", end()),
            ],
            vec![edge("start", "next", "bye"), edge("bye", "next", "end")],
        );
        let (out, state) = runner(&f, &no_faq)
            .advance(&FlowState::new(&f, BTreeMap::new()), Input::Begin, 0)
            .unwrap();
        assert_eq!(out.say, [Body::Text { text: "bye".into() }]);
        assert_eq!(out.acts, [Act::EndSession]);
        assert!(state.done());
    }

    fn call_flow() -> Flow {
        flow(
            vec![
                node("start", Module::Start),
                node(
                    "call",
                    Module::InterfaceCall {
                        url: "http://127.0.0.1:9/x".into(),
                        params: vec![],
                        response: vec![CallField {
                            field: "v".into(),
                            variable: "v".into(),
                            default: "d".into(),
                        }],
                        timeout_ms: 1_000,
                        max_attempts: 2,
                    },
                ),
                node(
                    "say",
                    Module::SendMessage {
                        text: "v=${v}".into(),
                    },
                ),
                node("desk", transfer()),
                node("end", end()),
            ],
            vec![
                edge("start", "next", "call"),
                edge("call", "next", "say"),
                edge("say", "next", "desk"),
                edge("desk", "next", "end"),
            ],
        )
    }

    #[test]
    fn a_call_is_requested_in_the_step_and_its_answer_clears_the_outbox() {
        let f = call_flow();
        let r = runner(&f, &no_faq);
        let (out, state) = r
            .advance(&FlowState::new(&f, BTreeMap::new()), Input::Begin, 0)
            .unwrap();
        let Some(Act::Call(call)) = out.acts.first().cloned() else {
            panic!("{:?}", out.acts)
        };
        assert_eq!(call.attempt, 1);
        let mut log = out.events.clone();
        assert_eq!(fold(&log).unwrap().call, Some(call.clone()));
        assert_eq!(redo(&fold(&log).unwrap(), true), [Act::Call(call.clone())]);
        // A failure: the retry has the same key, the next attempt.
        let failed = Input::CallDone {
            key: call.key.clone(),
            result: Err("503".into()),
        };
        let (out, state) = r.advance(&state, failed, 0).unwrap();
        let Some(Act::Call(retry)) = out.acts.first().cloned() else {
            panic!("{:?}", out.acts)
        };
        assert_eq!((retry.key.as_str(), retry.attempt), (call.key.as_str(), 2));
        log.push(Event::FlowCallAnswered {
            session: S,
            key: call.key.clone(),
            attempt: 1,
            answer: None,
            error: "503".into(),
        });
        log.extend(out.events);
        assert_eq!(fold(&log).unwrap().call, Some(retry.clone()));
        // The last attempt fails too: the default, and on.
        let failed = Input::CallDone {
            key: call.key.clone(),
            result: Err("timeout".into()),
        };
        let (out, _) = r.advance(&state, failed, 0).unwrap();
        assert_eq!(out.say, [Body::Text { text: "v=d".into() }]);
        log.push(Event::FlowCallAnswered {
            session: S,
            key: call.key,
            attempt: 2,
            answer: None,
            error: "timeout".into(),
        });
        log.extend(out.events);
        let run = fold(&log).unwrap();
        assert_eq!(run.call, None, "an answered call is never made again");
        assert_eq!(
            redo(&run, true),
            [Act::ReplyTimeout(0), Act::RequestHuman(GroupId(7))],
            "a session still open is asked to queue again"
        );
        assert_eq!(redo(&run, false), [], "a session that queued needs nothing");
    }

    #[test]
    fn the_faq_bot_is_answered_within_the_step() {
        let f = flow(
            vec![
                node("start", Module::Start),
                node(
                    "bot",
                    Module::Chatbot {
                        bot: crate::domain::flow::Bot::Faq {
                            threshold: 0.5,
                            no_answer: "no idea".into(),
                        },
                        handover_keywords: vec!["human".into()],
                    },
                ),
                node("desk", transfer()),
                node("end", end()),
            ],
            vec![
                edge("start", "next", "bot"),
                edge("bot", "handover", "desk"),
                edge("desk", "next", "end"),
            ],
        );
        let faq = |text: &str, threshold: f32| {
            assert_eq!(threshold, 0.5);
            (text == "hours?").then(|| "9 to 5".to_owned())
        };
        let r = runner(&f, &faq);
        let (_, state) = r
            .advance(&FlowState::new(&f, BTreeMap::new()), Input::Begin, 0)
            .unwrap();
        let (out, state) = r
            .advance(&state, Input::UserText("hours?".into()), 0)
            .unwrap();
        assert_eq!(
            out.say,
            [Body::Text {
                text: "9 to 5".into()
            }]
        );
        assert_eq!(
            state.wait,
            Wait::User,
            "the bot waits for the next question"
        );
        let (out, _) = r
            .advance(&state, Input::UserText("what?".into()), 0)
            .unwrap();
        assert_eq!(
            out.say,
            [Body::Text {
                text: "no idea".into()
            }]
        );
    }

    #[test]
    fn webhook_answers_are_read_strictly() {
        assert_eq!(
            webhook_reply(r#"{"answer":"hi","handover":true}"#),
            Ok(BotReply {
                answer: Some("hi".into()),
                handover: true
            })
        );
        assert_eq!(
            webhook_reply("{}"),
            Ok(BotReply {
                answer: None,
                handover: false
            })
        );
        assert!(webhook_reply(r#"{"answer":1}"#).is_err());
        assert!(webhook_reply("[]").is_err());
        assert!(call_reply(Some("[1]"), "").is_err());
        assert_eq!(call_reply(None, "down"), Err("down".into()));
    }

    proptest::proptest! {
        /// Whatever order answers and stale answers come in, the outbox holds exactly the
        /// last call requested unless its own answer (same key and attempt) was folded.
        #[test]
        fn the_outbox_holds_only_unanswered_calls(ops in proptest::collection::vec((0u8..3, 0u32..3), 0..40)) {
            let mut run = fold(&[Event::FlowStepped { session: S, flow: F, version: 1, state: FlowState::default() }]);
            let mut model: Option<(String, u32)> = None;
            for (op, n) in ops {
                let key = format!("k{n}");
                match op {
                    0 => {
                        FlowRun::apply(&mut run, &Event::FlowCallRequested { session: S, key: key.clone(), url: "u".into(), body: "{}".into(), timeout_ms: 100, attempt: n + 1 });
                        model = Some((key, n + 1));
                    }
                    1 => {
                        FlowRun::apply(&mut run, &Event::FlowCallAnswered { session: S, key: key.clone(), attempt: n + 1, answer: None, error: String::new() });
                        if model == Some((key, n + 1)) { model = None; }
                    }
                    _ => {
                        // Another session's events change nothing.
                        FlowRun::apply(&mut run, &Event::FlowCallAnswered { session: SessionId(99), key, attempt: n + 1, answer: None, error: String::new() });
                    }
                }
                let held = run.as_ref().unwrap().call.as_ref().map(|c| (c.key.clone(), c.attempt));
                proptest::prop_assert_eq!(&held, &model);
            }
        }
    }
}
