//! Session service flows: the graph an administrator draws, its validation, and the pure
//! interpreter that walks a user through it.
//!
//! A flow is a named graph of nodes (each one module with its configuration, under a stable
//! id) and edges (from a node's output port to a node). It is kept in the log as the JSON an
//! administrator saved, checked by [`validate`] on every save: a flow that is stored can be
//! run by [`step`] without getting stuck. The interpreter never does IO: HTTP calls, the
//! chatbot's answers and the clock are inputs and outputs that the session's shell performs
//! and feeds back.

mod run;
mod schedule;
mod step;
mod template;
#[cfg(test)]
mod tests;
mod validate;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::ids::GroupId;

pub use run::{
    Act, Advance, Finish, FlowRun, HumanRequest, PendingCall, Runner, call_reply, redo,
    webhook_body, webhook_reply,
};
pub use schedule::{DatedHours, Day, ServiceTime, TimeRange, WeeklyHours, in_hours};
pub use step::{BotReply, FlowState, Input, Output, StepError, Wait, compare, step};
pub use template::{SYSTEM_PARAMS, render, variables};
pub use validate::{FlowError, validate};

/// Most nodes a flow may have.
pub const MAX_NODES: usize = 200;
/// How far from the origin the canvas may place a node, either way on either axis.
pub const MAX_POSITION: i32 = 1_000_000;
/// Longest text a module sends, in characters.
pub const MAX_TEXT_CHARS: usize = 2_048;
/// Most options of a menu, form or condition.
pub const MAX_OPTIONS: usize = 20;
/// Longest node id, port or variable name.
pub const MAX_ID_CHARS: usize = 64;
/// The bounds of an interface call's timeout, in ms.
pub const CALL_TIMEOUT_MS: std::ops::RangeInclusive<u32> = 100..=30_000;
/// Most attempts of one interface call.
pub const MAX_CALL_ATTEMPTS: u32 = 5;

/// A flow's graph, as saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    /// The nodes: exactly one `start` and one `end`.
    pub nodes: Vec<Node>,
    /// The edges: every output port of every node connected once.
    pub edges: Vec<Edge>,
}

/// One node: a module and its configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Stable id (letters, digits, `-` and `_`), what edges and errors name.
    pub id: String,
    /// The name shown on the canvas.
    #[serde(default)]
    pub label: String,
    /// What it does.
    pub module: Module,
    /// Where the canvas draws it (its top-left corner, in canvas pixels); absent for a flow
    /// written by hand, which the console lays out itself. The desk never reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// A point on the flow canvas, in whole pixels (so a flow saves back byte for byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Rightwards.
    pub x: i32,
    /// Downwards.
    pub y: i32,
}

/// An edge: from a node's output port to a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// The node.
    pub from: String,
    /// Its output port (see each module).
    pub port: String,
    /// The next node.
    pub to: String,
}

/// The modules of a flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = FlowModule)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Module {
    /// Where every session begins; its system parameters are known from here on. Port `next`.
    Start,
    /// Routes by the human service's hours. Ports `in_hours` and `out_of_hours`.
    ServiceTime {
        /// The schedule.
        #[serde(flatten)]
        schedule: ServiceTime,
    },
    /// Sends a text (with `${variables}`). Port `next`.
    SendMessage {
        /// The text.
        text: String,
    },
    /// A menu (src 15) or a keyword prompt; the user's answer picks the port. One port per
    /// option.
    #[serde(rename_all = "camelCase")]
    Branch {
        /// Menu (the user taps an option: a text equal to its content) or keywords (the
        /// user replies one of an option's keywords, or its content).
        style: BranchStyle,
        /// The prompt.
        text: String,
        /// Sent when the answer matches no option, before asking again.
        invalid_prompt: String,
        /// The options.
        options: Vec<BranchOption>,
    },
    /// Hands the session to a skill group's queue. Port `next` (usually `end`).
    #[serde(rename_all = "camelCase")]
    TransferToAgent {
        /// The group.
        group: GroupId,
        /// Told while waiting, with `${WaitNo}` (users ahead); empty for none.
        #[serde(default)]
        queue_message: String,
        /// Told when an agent takes it, with `${StaffNickName}` and `${StaffNo}`; empty for
        /// none.
        #[serde(default)]
        success_message: String,
    },
    /// Asks the user for a text or one of some options (src 21) and keeps the answer in a
    /// variable. Port `next`.
    #[serde(rename_all = "camelCase")]
    Collect {
        /// Free text or options.
        form: FormKind,
        /// The question.
        text: String,
        /// The options, for an options form.
        #[serde(default)]
        options: Vec<FormOption>,
        /// Where the answer goes.
        variable: String,
        /// Sent when an options form gets an answer that is none of them.
        #[serde(default)]
        invalid_prompt: String,
    },
    /// POSTs JSON to a URL and keeps fields of the answer in variables. Port `next`, whether
    /// the call succeeded or not (failed fields take their defaults).
    #[serde(rename_all = "camelCase")]
    InterfaceCall {
        /// The URL (http or https).
        url: String,
        /// The JSON body's fields, with `${variables}` (`${SystemSessionId}` among them).
        #[serde(default)]
        params: Vec<CallParam>,
        /// Fields of the answer to keep.
        #[serde(default)]
        response: Vec<CallField>,
        /// Each attempt's timeout, in ms.
        timeout_ms: u32,
        /// Attempts before giving up (1 is no retry).
        max_attempts: u32,
    },
    /// Ordered branches of conditions on variables, and a default. One port per branch and
    /// `default`.
    Condition {
        /// Tried in order; the first that holds picks its port.
        branches: Vec<ConditionBranch>,
    },
    /// A chatbot answers the user until it hands over. Port `handover`.
    #[serde(rename_all = "camelCase")]
    Chatbot {
        /// The built-in FAQ bot or a webhook.
        bot: Bot,
        /// Texts that ask for a human (matched case-insensitively, whole text).
        #[serde(default)]
        handover_keywords: Vec<String>,
    },
    /// The end of the flow: how the session ends afterwards. No port.
    #[serde(rename_all = "camelCase")]
    End {
        /// End the session when the user has not answered the agent for this long (0 is
        /// off, otherwise 60..=86400 s).
        #[serde(default)]
        reply_timeout_secs: u32,
        /// Sent when the reply timeout ends the session.
        #[serde(default)]
        auto_termination_message: String,
        /// Sent when the human service ends.
        #[serde(default)]
        human_termination_message: String,
    },
}

/// How a branch reads the user's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BranchStyle {
    /// A src 15 menu: the answer is a text equal to an option's content.
    Menu,
    /// A text prompt: the answer is one of an option's keywords (or its content).
    Keyword,
}

/// An option of a branch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchOption {
    /// Its output port.
    pub port: String,
    /// What the user sees (and taps).
    pub content: String,
    /// A line under it.
    #[serde(default)]
    pub desc: String,
    /// Replies that pick it, for a keyword branch ("1", "presales").
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// What a collect module asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// Any text.
    Text,
    /// One of the options.
    Options,
}

/// An option of a collect form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormOption {
    /// The answer.
    pub content: String,
    /// A line under it.
    #[serde(default)]
    pub desc: String,
}

/// A field of an interface call's body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallParam {
    /// The field's name.
    pub name: String,
    /// Its value, with `${variables}`.
    pub value: String,
}

/// A field of an interface call's answer, kept in a variable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallField {
    /// The answer's field.
    pub field: String,
    /// The variable.
    pub variable: String,
    /// The value when the call fails or the field is missing.
    #[serde(default)]
    pub default: String,
}

/// A branch of a condition module.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionBranch {
    /// Its output port.
    pub port: String,
    /// All conditions must hold, or any.
    pub combine: Combine,
    /// The conditions.
    pub conditions: Vec<Comparison>,
}

/// How a branch combines its conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// AND.
    All,
    /// OR.
    Any,
}

/// One condition: a variable compared to a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The variable (a system parameter or one set upstream).
    pub variable: String,
    /// The comparison.
    pub op: Op,
    /// The value, with `${variables}`.
    pub value: String,
}

/// A comparison. Two numbers compare as numbers; otherwise as text, and an ordering of a
/// number with a text that is not one does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equals.
    Eq,
    /// Does not equal.
    Ne,
    /// Greater than.
    Gt,
    /// Less than.
    Lt,
    /// Greater than or equal.
    Ge,
    /// Less than or equal.
    Le,
}

/// The bot of a chatbot module.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Bot {
    /// The app's knowledge base of questions and answers.
    #[serde(rename_all = "camelCase")]
    Faq {
        /// The lowest match score an answer needs (0..=1 of the best possible).
        threshold: f32,
        /// Sent when no answer scores high enough.
        #[serde(default)]
        no_answer: String,
    },
    /// A URL that gets the user's text and answers the bot's reply.
    #[serde(rename_all = "camelCase")]
    Webhook {
        /// The URL (http or https).
        url: String,
        /// Each call's timeout, in ms.
        timeout_ms: u32,
    },
}

impl Module {
    /// The module's name, as in `type`.
    pub fn name(&self) -> &'static str {
        match self {
            Module::Start => "start",
            Module::ServiceTime { .. } => "service_time",
            Module::SendMessage { .. } => "send_message",
            Module::Branch { .. } => "branch",
            Module::TransferToAgent { .. } => "transfer_to_agent",
            Module::Collect { .. } => "collect",
            Module::InterfaceCall { .. } => "interface_call",
            Module::Condition { .. } => "condition",
            Module::Chatbot { .. } => "chatbot",
            Module::End { .. } => "end",
        }
    }

    /// Its output ports, in order.
    pub fn ports(&self) -> Vec<String> {
        let one = |p: &str| vec![p.to_owned()];
        match self {
            Module::Start
            | Module::SendMessage { .. }
            | Module::TransferToAgent { .. }
            | Module::Collect { .. }
            | Module::InterfaceCall { .. } => one("next"),
            Module::ServiceTime { .. } => vec!["in_hours".to_owned(), "out_of_hours".to_owned()],
            Module::Branch { options, .. } => options.iter().map(|o| o.port.clone()).collect(),
            Module::Condition { branches } => branches
                .iter()
                .map(|b| b.port.clone())
                .chain(std::iter::once("default".to_owned()))
                .collect(),
            Module::Chatbot { .. } => one("handover"),
            Module::End { .. } => Vec::new(),
        }
    }

    /// Whether the module waits for the user before it moves on (a loop through one of these
    /// cannot spin).
    pub fn waits_for_user(&self) -> bool {
        matches!(
            self,
            Module::Branch { .. } | Module::Collect { .. } | Module::Chatbot { .. }
        )
    }

    /// The variables the module sets.
    pub fn sets(&self) -> Vec<&str> {
        match self {
            Module::Collect { variable, .. } => vec![variable.as_str()],
            Module::InterfaceCall { response, .. } => {
                response.iter().map(|f| f.variable.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// A validated flow: its graph with the edges indexed for the interpreter.
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    /// The graph as saved.
    pub graph: Graph,
    nodes: BTreeMap<String, usize>,
    next: BTreeMap<(String, String), String>,
    start: String,
}

impl Flow {
    /// The start node's id.
    pub fn start(&self) -> &str {
        &self.start
    }

    /// A node by id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id).map(|i| &self.graph.nodes[*i])
    }

    /// Where `port` of `node` leads.
    pub fn next(&self, node: &str, port: &str) -> Option<&str> {
        self.next
            .get(&(node.to_owned(), port.to_owned()))
            .map(String::as_str)
    }
}

/// Reads a flow's JSON (as saved) and validates it.
pub fn parse(json: &str) -> Result<Flow, Vec<FlowError>> {
    let graph: Graph = serde_json::from_str(json).map_err(|e| {
        vec![FlowError {
            node: None,
            field: "graph".to_owned(),
            message: e.to_string(),
        }]
    })?;
    validate(graph)
}

/// A graph as the log keeps it, in the keys the API speaks now. Graphs saved before the
/// API's keys became camelCase have snake_case ones (`invalid_prompt`); the log keeps them
/// as written, so they are renamed when read. A graph's keys are its fields only (names a
/// user chooses are values), so a key with `_` is an older one.
pub fn saved_graph(json: &str) -> std::borrow::Cow<'_, str> {
    fn camel(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                let old = std::mem::take(map);
                for (key, mut v) in old {
                    camel(&mut v);
                    map.insert(camel_key(&key), v);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(camel),
            _ => {}
        }
    }
    fn camel_key(key: &str) -> String {
        let mut out = String::with_capacity(key.len());
        let mut upper = false;
        for c in key.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }
    fn snake(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('_') || snake(v)),
            serde_json::Value::Array(items) => items.iter().any(snake),
            _ => false,
        }
    }
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(mut value) if snake(&value) => {
            camel(&mut value);
            std::borrow::Cow::Owned(value.to_string())
        }
        _ => std::borrow::Cow::Borrowed(json),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Flows for tests.
    use super::*;

    /// A node.
    pub fn node(id: &str, module: Module) -> Node {
        Node {
            id: id.to_owned(),
            label: String::new(),
            module,
            position: None,
        }
    }

    /// An edge.
    pub fn edge(from: &str, port: &str, to: &str) -> Edge {
        Edge {
            from: from.to_owned(),
            port: port.to_owned(),
            to: to.to_owned(),
        }
    }

    /// The end module with nothing set.
    pub fn end() -> Module {
        Module::End {
            reply_timeout_secs: 0,
            auto_termination_message: String::new(),
            human_termination_message: String::new(),
        }
    }

    /// A menu with options `(port, content)`.
    pub fn menu(text: &str, options: &[(&str, &str)]) -> Module {
        Module::Branch {
            style: BranchStyle::Menu,
            text: text.to_owned(),
            invalid_prompt: "Your input is incorrect, please re-enter".to_owned(),
            options: options
                .iter()
                .map(|(port, content)| BranchOption {
                    port: (*port).to_owned(),
                    content: (*content).to_owned(),
                    desc: String::new(),
                    keywords: Vec::new(),
                })
                .collect(),
        }
    }
}
