//! The interpreter: `step(flow, state, input) -> (outputs, state)`.
//!
//! It runs node after node until one waits (for the user, an interface call's answer or the
//! chatbot's) or the flow ends. IO never happens here: the outputs say what to send, call or
//! ask, and the shell feeds the answers back as inputs. An answer that is not awaited (a
//! stale call, a text while a call runs) changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::schedule::in_hours;
use super::template::render;
use super::{Bot, BranchStyle, Combine, Comparison, Flow, FormKind, Module, Op};
use crate::domain::human::asks_for_human;
use crate::domain::ids::GroupId;

/// Where a session's flow stands (kept whole in the log after every step, so a restart
/// resumes at the same node with the same variables).
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub struct FlowState {
    /// The node it is at (waiting at, or about to run).
    pub node: String,
    /// Variables: the system parameters, collected answers and call results.
    pub vars: BTreeMap<String, String>,
    /// What it waits for.
    pub wait: Wait,
    /// Interface calls and bot questions made so far (makes every key unique).
    pub calls: u64,
    /// The attempt of the interface call awaited.
    pub attempt: u32,
}

/// What a flow waits for.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    rkyv::Archive,
    rkyv::Serialize,
    rkyv::Deserialize,
)]
pub enum Wait {
    /// Not begun.
    #[default]
    Begin,
    /// A text from the user.
    User,
    /// The answer to the interface call with this key.
    Call(String),
    /// The chatbot's answer to the question with this key.
    Bot(String),
    /// Nothing: the flow ended.
    Done,
}

/// What moves a flow.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// The session opened.
    Begin,
    /// The user wrote.
    UserText(String),
    /// An interface call answered (the answer's JSON object) or failed.
    CallDone {
        /// The call's key.
        key: String,
        /// The answer, or why it failed.
        result: Result<serde_json::Map<String, serde_json::Value>, String>,
    },
    /// The chatbot answered.
    BotDone {
        /// The question's key.
        key: String,
        /// Its answer (none when it has none good enough), whether it hands over; an error
        /// hands over.
        result: Result<BotReply, String>,
    },
}

/// A chatbot's reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BotReply {
    /// The text to send the user.
    pub answer: Option<String>,
    /// The bot asks for a human.
    pub handover: bool,
}

/// What the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Send the user a text.
    Say(String),
    /// Send the user a menu (src 15).
    Menu {
        /// The prompt.
        header: String,
        /// `(content, desc)` of each option.
        items: Vec<(String, String)>,
    },
    /// Send the user a form (src 21).
    Form {
        /// Text or options.
        kind: FormKind,
        /// The question.
        header: String,
        /// `(content, desc)` of each option.
        items: Vec<(String, String)>,
    },
    /// POST `body` to `url` (at most `timeout_ms`), and answer with `Input::CallDone`. The key
    /// is the same on every attempt of one call: send it as the idempotency key.
    Call {
        /// The call's key.
        key: String,
        /// Where.
        url: String,
        /// The JSON body.
        body: serde_json::Value,
        /// The attempt's timeout.
        timeout_ms: u32,
        /// Which attempt (from 1).
        attempt: u32,
    },
    /// Ask the chatbot about the user's text, and answer with `Input::BotDone`.
    AskBot {
        /// The question's key.
        key: String,
        /// The bot.
        bot: Bot,
        /// The user's text.
        text: String,
    },
    /// Queue the session in a group. The messages are templates that also use `${WaitNo}`,
    /// `${StaffNo}` and `${StaffNickName}`, which the shell knows later.
    RequestHuman {
        /// The group.
        group: GroupId,
        /// Told while waiting.
        queue_message: String,
        /// Told when an agent takes it.
        success_message: String,
    },
    /// The flow ended: how the session ends from now on.
    Finished {
        /// The user-reply timeout (0 is off).
        reply_timeout_secs: u32,
        /// Sent when it ends the session.
        auto_termination_message: String,
        /// Sent when the human service ends.
        human_termination_message: String,
    },
}

/// The interpreter could not go on: a flow that passed validation never gives these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// The state names a node the flow does not have.
    #[error("no node {0:?}")]
    NoNode(String),
    /// A port leads nowhere.
    #[error("port {port:?} of {node:?} leads nowhere")]
    NoEdge {
        /// The node.
        node: String,
        /// The port.
        port: String,
    },
    /// Too many nodes ran without waiting.
    #[error("the flow ran {0} nodes without waiting")]
    Spin(usize),
    /// The service time could not be read.
    #[error("service time: {0}")]
    Schedule(String),
}

impl FlowState {
    /// A flow about to begin, knowing its system parameters.
    pub fn new(flow: &Flow, system: BTreeMap<String, String>) -> Self {
        FlowState {
            node: flow.start().to_owned(),
            vars: system,
            ..FlowState::default()
        }
    }

    /// Whether the flow ended.
    pub fn done(&self) -> bool {
        self.wait == Wait::Done
    }
}

/// One step: what `input` does to a flow at `state`, at `now_ms`.
pub fn step(
    flow: &Flow,
    state: &FlowState,
    input: &Input,
    now_ms: i64,
) -> Result<(Vec<Output>, FlowState), StepError> {
    let mut s = state.clone();
    let mut out = Vec::new();
    let node = flow
        .node(&s.node)
        .ok_or_else(|| StepError::NoNode(s.node.clone()))?;
    // First: what the input means at the node that waits for it.
    let port: Option<String> = match (&s.wait, input, &node.module) {
        (Wait::Begin, Input::Begin, _) => None,
        (Wait::User, Input::UserText(text), Module::Branch { .. }) => {
            match pick_branch(&node.module, text)
                .or_else(|| human_branch(flow, &s.node, &node.module, text))
            {
                Some(port) => Some(port),
                None => {
                    if let Module::Branch { invalid_prompt, .. } = &node.module {
                        out.push(Output::Say(render(invalid_prompt, &s.vars)));
                    }
                    out.push(ask(&node.module, &s.vars));
                    return Ok((out, s));
                }
            }
        }
        (
            Wait::User,
            Input::UserText(text),
            Module::Collect {
                form,
                options,
                variable,
                invalid_prompt,
                ..
            },
        ) => {
            let fits = *form == FormKind::Text || options.iter().any(|o| o.content == *text);
            if !fits {
                out.push(Output::Say(render(invalid_prompt, &s.vars)));
                out.push(ask(&node.module, &s.vars));
                return Ok((out, s));
            }
            s.vars.insert(variable.clone(), text.clone());
            Some("next".to_owned())
        }
        (
            Wait::User,
            Input::UserText(text),
            Module::Chatbot {
                bot,
                handover_keywords,
            },
        ) => {
            let wants_human = asks_for_human(text)
                || handover_keywords
                    .iter()
                    .any(|k| k.trim().eq_ignore_ascii_case(text.trim()));
            if wants_human {
                Some("handover".to_owned())
            } else {
                s.calls += 1;
                let key = format!("{}:{}", s.node, s.calls);
                out.push(Output::AskBot {
                    key: key.clone(),
                    bot: bot.clone(),
                    text: text.clone(),
                });
                s.wait = Wait::Bot(key);
                return Ok((out, s));
            }
        }
        (Wait::Bot(awaited), Input::BotDone { key, result }, Module::Chatbot { bot, .. })
            if awaited == key =>
        {
            match result {
                Ok(BotReply {
                    answer,
                    handover: false,
                }) => {
                    let fallback = match bot {
                        Bot::Faq { no_answer, .. } if !no_answer.is_empty() => {
                            Some(render(no_answer, &s.vars))
                        }
                        _ => None,
                    };
                    if let Some(text) = answer.clone().or(fallback) {
                        out.push(Output::Say(text));
                    }
                    s.wait = Wait::User;
                    return Ok((out, s));
                }
                Ok(BotReply { answer, .. }) => {
                    if let Some(text) = answer {
                        out.push(Output::Say(text.clone()));
                    }
                    Some("handover".to_owned())
                }
                // A bot that fails hands over to the next node.
                Err(_) => Some("handover".to_owned()),
            }
        }
        (
            Wait::Call(awaited),
            Input::CallDone { key, result },
            Module::InterfaceCall {
                response,
                max_attempts,
                ..
            },
        ) if awaited == key => match result {
            Ok(answer) => {
                for f in response {
                    let value = match answer.get(&f.field) {
                        Some(serde_json::Value::String(v)) => v.clone(),
                        Some(serde_json::Value::Null) | None => f.default.clone(),
                        Some(other) => other.to_string(),
                    };
                    s.vars.insert(f.variable.clone(), value);
                }
                Some("next".to_owned())
            }
            Err(_) if s.attempt < *max_attempts => {
                s.attempt += 1;
                out.push(call(&node.module, &s, key.clone()));
                return Ok((out, s));
            }
            // Every attempt failed: the defaults, and on.
            Err(_) => {
                for f in response {
                    s.vars.insert(f.variable.clone(), f.default.clone());
                }
                Some("next".to_owned())
            }
        },
        // Anything else is not awaited here: nothing changes.
        _ => return Ok((out, s)),
    };
    // Then: move on and run nodes until one waits or the flow ends.
    let mut at = match port {
        None => s.node.clone(),
        Some(port) => follow(flow, &s.node, &port)?,
    };
    let limit = flow.graph.nodes.len() + 1;
    for _ in 0..limit {
        s.node.clone_from(&at);
        let node = flow
            .node(&at)
            .ok_or_else(|| StepError::NoNode(at.clone()))?;
        let next_port = match &node.module {
            Module::Start => "next".to_owned(),
            Module::ServiceTime { schedule } => {
                let open = in_hours(schedule, now_ms).map_err(StepError::Schedule)?;
                if open { "in_hours" } else { "out_of_hours" }.to_owned()
            }
            Module::SendMessage { text } => {
                out.push(Output::Say(render(text, &s.vars)));
                "next".to_owned()
            }
            Module::Branch { .. } | Module::Collect { .. } => {
                out.push(ask(&node.module, &s.vars));
                s.wait = Wait::User;
                return Ok((out, s));
            }
            Module::Chatbot { .. } => {
                s.wait = Wait::User;
                return Ok((out, s));
            }
            Module::TransferToAgent {
                group,
                queue_message,
                success_message,
            } => {
                out.push(Output::RequestHuman {
                    group: *group,
                    queue_message: queue_message.clone(),
                    success_message: success_message.clone(),
                });
                "next".to_owned()
            }
            Module::InterfaceCall { .. } => {
                s.calls += 1;
                s.attempt = 1;
                let key = format!("{}:{}", s.node, s.calls);
                out.push(call(&node.module, &s, key.clone()));
                s.wait = Wait::Call(key);
                return Ok((out, s));
            }
            Module::Condition { branches } => branches
                .iter()
                .find(|b| holds(b.combine, &b.conditions, &s.vars))
                .map_or_else(|| "default".to_owned(), |b| b.port.clone()),
            Module::End {
                reply_timeout_secs,
                auto_termination_message,
                human_termination_message,
            } => {
                out.push(Output::Finished {
                    reply_timeout_secs: *reply_timeout_secs,
                    auto_termination_message: render(auto_termination_message, &s.vars),
                    human_termination_message: render(human_termination_message, &s.vars),
                });
                s.wait = Wait::Done;
                return Ok((out, s));
            }
        };
        at = follow(flow, &at, &next_port)?;
    }
    Err(StepError::Spin(limit))
}

fn follow(flow: &Flow, node: &str, port: &str) -> Result<String, StepError> {
    flow.next(node, port)
        .map(str::to_owned)
        .ok_or_else(|| StepError::NoEdge {
            node: node.to_owned(),
            port: port.to_owned(),
        })
}

/// The question a branch or collect module asks.
fn ask(module: &Module, vars: &BTreeMap<String, String>) -> Output {
    match module {
        Module::Branch {
            style: BranchStyle::Menu,
            text,
            options,
            ..
        } => Output::Menu {
            header: render(text, vars),
            items: options
                .iter()
                .map(|o| (o.content.clone(), o.desc.clone()))
                .collect(),
        },
        Module::Branch { text, .. } => Output::Say(render(text, vars)),
        Module::Collect {
            form,
            text,
            options,
            ..
        } => Output::Form {
            kind: *form,
            header: render(text, vars),
            items: options
                .iter()
                .map(|o| (o.content.clone(), o.desc.clone()))
                .collect(),
        },
        _ => Output::Say(String::new()),
    }
}

/// The port a user's text picks at a branch: a menu takes exactly an option's content; a
/// keyword prompt takes an option's content or keyword, trimmed, in any case.
fn pick_branch(module: &Module, text: &str) -> Option<String> {
    let Module::Branch { style, options, .. } = module else {
        return None;
    };
    match style {
        BranchStyle::Menu => options.iter().find(|o| o.content == text),
        BranchStyle::Keyword => {
            let said = text.trim();
            options.iter().find(|o| {
                std::iter::once(&o.content)
                    .chain(&o.keywords)
                    .any(|k| k.trim().eq_ignore_ascii_case(said))
            })
        }
    }
    .map(|o| o.port.clone())
}

/// The clients' "human service" at a branch: the option whose edge leads straight to a
/// transfer-to-agent node, when there is one.
fn human_branch(flow: &Flow, at: &str, module: &Module, text: &str) -> Option<String> {
    let Module::Branch { options, .. } = module else {
        return None;
    };
    if !asks_for_human(text) {
        return None;
    }
    options
        .iter()
        .find(|o| {
            flow.next(at, &o.port)
                .and_then(|to| flow.node(to))
                .is_some_and(|n| matches!(n.module, Module::TransferToAgent { .. }))
        })
        .map(|o| o.port.clone())
}

fn call(module: &Module, s: &FlowState, key: String) -> Output {
    let Module::InterfaceCall {
        url,
        params,
        timeout_ms,
        ..
    } = module
    else {
        return Output::Say(String::new());
    };
    let body: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                serde_json::Value::String(render(&p.value, &s.vars)),
            )
        })
        .collect();
    Output::Call {
        key,
        url: url.clone(),
        body: serde_json::Value::Object(body),
        timeout_ms: *timeout_ms,
        attempt: s.attempt,
    }
}

/// Whether a branch's conditions hold.
fn holds(combine: Combine, conditions: &[Comparison], vars: &BTreeMap<String, String>) -> bool {
    let one = |c: &Comparison| {
        let left = vars.get(&c.variable).map_or("", String::as_str);
        compare(left, c.op, &render(&c.value, vars))
    };
    match combine {
        Combine::All => conditions.iter().all(one),
        Combine::Any => conditions.iter().any(one),
    }
}

/// Compares two values: as numbers when both are, otherwise as text; an ordering between a
/// number and a text that is not one does not hold (nor does equality).
pub fn compare(left: &str, op: Op, right: &str) -> bool {
    use std::cmp::Ordering;
    let number = |v: &str| v.trim().parse::<f64>().ok().filter(|n| n.is_finite());
    let ordering = match (number(left), number(right)) {
        (Some(l), Some(r)) => l.partial_cmp(&r),
        (None, None) => Some(left.cmp(right)),
        // A type mismatch: only "not equal" holds.
        _ => return op == Op::Ne,
    };
    let Some(o) = ordering else {
        return false;
    };
    match op {
        Op::Eq => o == Ordering::Equal,
        Op::Ne => o != Ordering::Equal,
        Op::Gt => o == Ordering::Greater,
        Op::Lt => o == Ordering::Less,
        Op::Ge => o != Ordering::Less,
        Op::Le => o != Ordering::Greater,
    }
}
