//! The desk's custom messages (`shared/PROTOCOL.md`): message bodies as the IM carries them
//! (text or custom), and the desk's own messages inside a custom body's `data`, a JSON
//! **string** holding `customerServicePlugin: 0` (a number) and `src` (a string: "7", never
//! 7). Pure: parsing what users send, and writing exactly what clients expect.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use crate::domain::conversation::{Body, MAX_DATA_BYTES};

/// An option of a branch menu or a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// What the user sends back to pick it (matched exactly).
    pub content: String,
    /// A description under it.
    #[serde(default)]
    pub desc: String,
}

/// One level of a satisfaction menu (src 9 `menu`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuEntry {
    /// The level's value as a numeric string.
    pub id: String,
    /// Its label.
    pub content: String,
}

/// The satisfaction invitation (src 9 `menuContent`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SatisfactionMenu {
    /// The invitation text.
    pub head: String,
    /// The thank-you text.
    pub tail: String,
    /// 1 stars, 2 numbers.
    #[serde(rename = "type")]
    pub kind: u8,
    /// The levels, by value.
    pub menu: Vec<MenuEntry>,
    /// The rating, once given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub selected: Option<MenuEntry>,
    /// The session rated.
    pub session_id: String,
    /// Until when it can be answered, Unix seconds.
    pub expire_time: i64,
}

/// A product card (src 22). The clients add fields of their own (the Android client's
/// `customField: [{name, value}]`) and drop keys whose value is null: both are accepted,
/// and the unknown fields are kept as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// Title.
    pub header: String,
    /// Description.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub desc: String,
    /// Image URL.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub pic: String,
    /// Link opened on click.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub url: String,
    /// Fields helpline does not know, kept and written back as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An optional string a client may send as null (or leave out).
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl Card {
    /// Refuses a link or image that is not http(s): the agent's workstation opens `url`
    /// on a click and loads `pic`, and a `javascript:` or `data:` one would run or show
    /// whatever the sender wrote. Empty means none.
    pub fn check(&self) -> Result<(), ProtocolError> {
        for (field, value) in [("content.url", &self.url), ("content.pic", &self.pic)] {
            if value.is_empty() {
                continue;
            }
            let web = url::Url::parse(value)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !web {
                return Err(ProtocolError::Field {
                    field,
                    reason: "must be an http or https URL".to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// An order card (src 28).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCard {
    /// The line above it ("Your order").
    pub guide: String,
    /// The order's name.
    pub name: String,
    /// Its description.
    pub desc: String,
    /// Its image URL.
    pub pic: String,
}

/// An option of a task branch (src 32) or a bot's choices (src 29).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskItem {
    /// What the user picks (and what a plain-text answer must equal).
    pub content: String,
    /// A line under it.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub desc: String,
    /// Fields helpline does not know, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A task branch (src 32): a branch module's menu for clients that draw the task shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskBranch {
    /// 0 open (the items can be picked), 1 answered, 2 closed unanswered.
    pub status: u8,
    /// How the client draws the items: 0 a list, 1 buttons.
    pub option_type: u8,
    /// The question.
    pub header: String,
    /// The options.
    pub items: Vec<TaskItem>,
    /// The option picked, once picked.
    pub selected: Option<TaskItem>,
    /// The desk's reference to the flow's node; the user echoes it back unchanged.
    pub task_info: Value,
}

/// A field of a task form (src 33).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputVariable {
    /// The flow variable it fills.
    pub name: String,
    /// Shown in the empty field.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub placeholder: String,
    /// Whether the form cannot be sent without it.
    #[serde(default)]
    pub is_required: bool,
    /// 0 text, 1 a choice of `chooseItemList`.
    #[serde(default)]
    pub form_type: u8,
    /// The choices, for a choice.
    #[serde(default)]
    pub choose_item_list: Vec<String>,
    /// The user's answer, empty until answered.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub variable_value: String,
    /// Fields helpline does not know, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A task form (src 33): a collect module's question for clients that draw the task shapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskForm {
    /// 0 open, 1 answered by the user (their reply), 2 submitted (read-only).
    pub node_status: Option<u8>,
    /// The text above the fields.
    pub tip: String,
    /// The fields.
    pub input_variables: Vec<InputVariable>,
    /// The desk's reference to the flow's node, echoed back when the user sends it.
    pub task_info: Option<Value>,
}

/// A desk message, by `src`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeskMessage {
    /// 7, U->D: the user opened the chat.
    Trigger {
        /// `triggeredContent.language`, if sent.
        language: Option<String>,
    },
    /// 9, D->U: the satisfaction invitation.
    SatisfactionMenu(SatisfactionMenu),
    /// 10, U->D: a rating.
    SatisfactionSelected {
        /// The level's id.
        id: String,
        /// Its label.
        content: String,
        /// The session from src 9.
        session_id: String,
    },
    /// 12, D->U: the agent is typing.
    Typing,
    /// 15, D->U: a branch menu.
    BranchMenu {
        /// The question.
        header: String,
        /// The options.
        items: Vec<Item>,
        /// Text under the options.
        tail: Option<String>,
        /// The option picked, once picked.
        selected: Option<Item>,
    },
    /// 19, D->U: the session ended normally.
    SessionEnded,
    /// 20, D->U: the user-reply timeout ended the session.
    SessionTimedOut,
    /// 21, D->U: a form (0 free text, 1 options).
    Form {
        /// 0 free text, 1 options.
        kind: u8,
        /// The question.
        header: String,
        /// The options (type 1).
        items: Option<Vec<Item>>,
        /// The answer, once given.
        selected: Option<String>,
    },
    /// 22, both ways: a product card.
    Card(Card),
    /// 23, D->U: the satisfaction send rules (`menuSendRuleFlag`).
    RatingRules {
        /// Bits: 1 auto at end, 2 agent may invite, 4 user may rate.
        flag: u8,
    },
    /// 24, U->D: the user asks to rate.
    UserAsksToRate,
    /// 26, D->U: whether a human serves the user.
    SeatStatus {
        /// `inSeat` (true) or `outSeat`.
        in_seat: bool,
    },
    /// 27, U->D: the user ends the human service.
    UserEndsService,
    /// 30, D->U: Markdown.
    RichText {
        /// The Markdown.
        markdown: String,
    },
    /// 31, D->U: text streamed in chunks.
    StreamText {
        /// The chunks so far.
        chunks: Vec<String>,
        /// Whether the last chunk has come.
        finished: bool,
    },
    /// 28, D->U: an order card.
    OrderCard(OrderCard),
    /// 29, D->U: a bot's welcome or clarifying choices, picked by a plain text.
    BotChoices {
        /// `welcome_msg` or `clarify_msg`.
        subtype: String,
        /// The line above the choices.
        title: String,
        /// The choices.
        items: Vec<String>,
    },
    /// 32, both ways: a task branch; the user's copy has `content.selected` set.
    TaskBranch(TaskBranch),
    /// 33, both ways: a task form; the user's copy has the `variableValue`s filled.
    TaskForm(TaskForm),
    /// 35, D->U: the desk is working out an answer (a bot or an interface call runs), or
    /// has stopped. A flag.
    Thinking {
        /// True while it works, false once done.
        thinking: bool,
    },
    /// 37, D->U: a tip, a line the client shows centred between messages.
    Tip {
        /// The tip.
        text: String,
    },
    /// 38, D->U: a reminder that the session ends unless the user replies.
    TimeoutReminder {
        /// The reminder.
        text: String,
        /// When the session ends without a reply, Unix seconds.
        end_time: i64,
    },
}

/// Why a message from a user was refused; it changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Over a size limit.
    #[error("{field} is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Which part.
        field: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// `data` is not a JSON object.
    #[error("data is not a JSON object: {0}")]
    NotJson(String),
    /// `customerServicePlugin` missing or not the number 0.
    #[error("data.customerServicePlugin must be the number 0")]
    NotDesk,
    /// `src` missing or not a string.
    #[error("data.src must be a string such as \"7\"")]
    SrcNotString,
    /// A `src` helpline does not take from users.
    #[error("src {0:?} is not one a user may send")]
    UnknownSrc(String),
    /// A field of a known `src` is wrong.
    #[error("data.{field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
}

impl DeskMessage {
    /// The `src` code, as the string clients expect.
    pub fn src(&self) -> &'static str {
        match self {
            DeskMessage::Trigger { .. } => "7",
            DeskMessage::SatisfactionMenu(_) => "9",
            DeskMessage::SatisfactionSelected { .. } => "10",
            DeskMessage::Typing => "12",
            DeskMessage::BranchMenu { .. } => "15",
            DeskMessage::SessionEnded => "19",
            DeskMessage::SessionTimedOut => "20",
            DeskMessage::Form { .. } => "21",
            DeskMessage::Card(_) => "22",
            DeskMessage::RatingRules { .. } => "23",
            DeskMessage::UserAsksToRate => "24",
            DeskMessage::SeatStatus { .. } => "26",
            DeskMessage::UserEndsService => "27",
            DeskMessage::RichText { .. } => "30",
            DeskMessage::StreamText { .. } => "31",
            DeskMessage::OrderCard(_) => "28",
            DeskMessage::BotChoices { .. } => "29",
            DeskMessage::TaskBranch(_) => "32",
            DeskMessage::TaskForm(_) => "33",
            DeskMessage::Thinking { .. } => "35",
            DeskMessage::Tip { .. } => "37",
            DeskMessage::TimeoutReminder { .. } => "38",
        }
    }

    /// Flag messages are sent `onlineUserOnly`: delivered to a connected peer only, never
    /// stored or replayed. The ends (19, 20) are not flags: the clients turn a stored one
    /// into the conversation list's "session ended" preview, and a user who was offline
    /// must learn the chat ended.
    pub fn is_flag(&self) -> bool {
        matches!(
            self,
            DeskMessage::Trigger { .. }
                | DeskMessage::SatisfactionSelected { .. }
                | DeskMessage::Typing
                | DeskMessage::Thinking { .. }
                | DeskMessage::RatingRules { .. }
                | DeskMessage::UserAsksToRate
                | DeskMessage::SeatStatus { .. }
                | DeskMessage::UserEndsService
        )
    }

    /// The `data` JSON object.
    pub fn to_value(&self) -> Value {
        let mut data = Map::new();
        data.insert("customerServicePlugin".to_owned(), json!(0));
        data.insert("src".to_owned(), json!(self.src()));
        let mut put = |key: &str, value: Value| {
            data.insert(key.to_owned(), value);
        };
        match self {
            DeskMessage::Trigger { language } => {
                if let Some(language) = language {
                    put("triggeredContent", json!({ "language": language }));
                }
            }
            DeskMessage::SatisfactionMenu(menu) => put("menuContent", json!(menu)),
            DeskMessage::SatisfactionSelected {
                id,
                content,
                session_id,
            } => put(
                "menuSelected",
                json!({"id": id, "content": content, "sessionId": session_id}),
            ),
            DeskMessage::BranchMenu {
                header,
                items,
                tail,
                selected,
            } => {
                let mut content = json!({"header": header, "items": items});
                if let Some(tail) = tail {
                    content["tail"] = json!(tail);
                }
                if let Some(selected) = selected {
                    content["selected"] = json!(selected);
                }
                put("content", content);
            }
            DeskMessage::Form {
                kind,
                header,
                items,
                selected,
            } => {
                let mut content = json!({"type": kind, "header": header});
                if let Some(items) = items {
                    content["items"] = json!(items);
                }
                if let Some(selected) = selected {
                    content["selected"] = json!({ "content": selected });
                }
                put("content", content);
            }
            DeskMessage::Card(card) => put("content", json!(card)),
            DeskMessage::RatingRules { flag } => {
                put("content", json!({ "menuSendRuleFlag": flag }))
            }
            DeskMessage::SeatStatus { in_seat } => put(
                "content",
                json!({
                    "command": "updateSeatStatus",
                    "content": if *in_seat { "inSeat" } else { "outSeat" },
                }),
            ),
            DeskMessage::RichText { markdown } => put("content", json!(markdown)),
            DeskMessage::StreamText { chunks, finished } => {
                put("chunks", json!(chunks));
                put("isFinished", json!(u8::from(*finished)));
            }
            DeskMessage::OrderCard(card) => put("content", json!(card)),
            DeskMessage::BotChoices {
                subtype,
                title,
                items,
            } => {
                put("subtype", json!(subtype));
                let items: Vec<Value> = items.iter().map(|c| json!({ "content": c })).collect();
                put("content", json!({"title": title, "items": items}));
            }
            DeskMessage::TaskBranch(branch) => {
                put("status", json!(branch.status));
                put("optionType", json!(branch.option_type));
                let mut content = json!({"header": branch.header, "items": branch.items});
                if let Some(selected) = &branch.selected {
                    content["selected"] = json!(selected);
                }
                put("content", content);
                put("taskInfo", branch.task_info.clone());
            }
            DeskMessage::TaskForm(form) => {
                if let Some(status) = form.node_status {
                    put("nodeStatus", json!(status));
                }
                put(
                    "content",
                    json!({"tip": form.tip, "inputVariables": form.input_variables}),
                );
                if let Some(info) = &form.task_info {
                    put("taskInfo", info.clone());
                }
            }
            DeskMessage::Thinking { thinking } => {
                put("content", json!({ "thinking": u8::from(*thinking) }))
            }
            DeskMessage::Tip { text } => put("content", json!({ "tip": text })),
            DeskMessage::TimeoutReminder { text, end_time } => {
                put("content", json!({"tip": text, "endTime": end_time}))
            }
            DeskMessage::Typing
            | DeskMessage::SessionEnded
            | DeskMessage::SessionTimedOut
            | DeskMessage::UserAsksToRate
            | DeskMessage::UserEndsService => {}
        }
        Value::Object(data)
    }

    /// The custom message body carrying it.
    /// Seat status `inSeat` naming the agent (`content.nickname`, which helpline adds: the
    /// clients read `content.content` and keep what they do not know, and the chat page
    /// says "connected to <nickname>").
    pub fn in_seat_with(nickname: &str) -> Body {
        let mut value = DeskMessage::SeatStatus { in_seat: true }.to_value();
        value["content"]["nickname"] = json!(nickname);
        Body::Custom {
            data: value.to_string(),
            description: String::new(),
            extension: String::new(),
        }
    }

    pub fn to_body(&self) -> Body {
        Body::Custom {
            data: self.to_value().to_string(),
            description: String::new(),
            extension: String::new(),
        }
    }

    /// Reads the `data` of any custom message a user sent: `None` for an ordinary custom
    /// message (JSON without `customerServicePlugin`, even with a `src` of its own: the
    /// clients' own extensions carry one), the desk message for a desk one, an error for
    /// data that is not JSON or a desk message a user may not send.
    pub fn read_user_data(data: &str) -> Result<Option<DeskMessage>, ProtocolError> {
        if data.len() > MAX_DATA_BYTES {
            return Err(ProtocolError::TooLarge {
                field: "data",
                size: data.len(),
                limit: MAX_DATA_BYTES,
            });
        }
        let value: Value =
            serde_json::from_str(data).map_err(|e| ProtocolError::NotJson(e.to_string()))?;
        if value.get("customerServicePlugin").is_none() {
            return Ok(None);
        }
        Self::parse_from_user(data).map(Some)
    }

    /// Reads the `data` of a desk message a user sent. Only what users may send is
    /// accepted: 7, 10, 12 (typing, a helpline extension), 22, 24, 27, and the task
    /// shapes 32 and 33 answered. Fields helpline does not know are ignored here and kept
    /// in the stored message, which is the user's own `data` as sent.
    pub fn parse_from_user(data: &str) -> Result<DeskMessage, ProtocolError> {
        if data.len() > MAX_DATA_BYTES {
            return Err(ProtocolError::TooLarge {
                field: "data",
                size: data.len(),
                limit: MAX_DATA_BYTES,
            });
        }
        let value: Value =
            serde_json::from_str(data).map_err(|e| ProtocolError::NotJson(e.to_string()))?;
        let Value::Object(mut object) = value else {
            return Err(ProtocolError::NotJson("not an object".to_owned()));
        };
        if object.get("customerServicePlugin") != Some(&json!(0)) {
            return Err(ProtocolError::NotDesk);
        }
        let src = match object.get("src") {
            Some(Value::String(src)) => src.clone(),
            _ => return Err(ProtocolError::SrcNotString),
        };
        let field = |field: &'static str, reason: String| ProtocolError::Field { field, reason };
        match src.as_str() {
            "7" => {
                let language = match object.remove("triggeredContent") {
                    None | Some(Value::Null) => None,
                    Some(Value::Object(mut t)) => match t.remove("language") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(l)) => Some(l),
                        Some(_) => {
                            return Err(field(
                                "triggeredContent.language",
                                "must be a string".to_owned(),
                            ));
                        }
                    },
                    Some(_) => {
                        return Err(field("triggeredContent", "must be an object".to_owned()));
                    }
                };
                Ok(DeskMessage::Trigger { language })
            }
            "10" => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Selected {
                    id: String,
                    #[serde(default)]
                    content: String,
                    session_id: String,
                }
                let selected = object
                    .remove("menuSelected")
                    .ok_or_else(|| field("menuSelected", "is missing".to_owned()))?;
                let s: Selected = serde_json::from_value(selected)
                    .map_err(|e| field("menuSelected", e.to_string()))?;
                if s.id.is_empty() {
                    return Err(field("menuSelected.id", "must not be empty".to_owned()));
                }
                Ok(DeskMessage::SatisfactionSelected {
                    id: s.id,
                    content: s.content,
                    session_id: s.session_id,
                })
            }
            "22" => {
                let content = object
                    .remove("content")
                    .ok_or_else(|| field("content", "is missing".to_owned()))?;
                let card: Card =
                    serde_json::from_value(content).map_err(|e| field("content", e.to_string()))?;
                card.check()?;
                Ok(DeskMessage::Card(card))
            }
            // The protocol has typing from the desk only; helpline lets users type too, so
            // the agent sees it.
            "12" => Ok(DeskMessage::Typing),
            "24" => Ok(DeskMessage::UserAsksToRate),
            "27" => Ok(DeskMessage::UserEndsService),
            "32" => read_task_branch(&mut object).map(DeskMessage::TaskBranch),
            "33" => read_task_form(&mut object).map(DeskMessage::TaskForm),
            _ => Err(ProtocolError::UnknownSrc(src)),
        }
    }
}

/// A small number field of a task shape: absent is 0.
fn small_number(
    object: &Map<String, Value>,
    key: &'static str,
    max: u8,
) -> Result<u8, ProtocolError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => v
            .as_u64()
            .filter(|n| *n <= u64::from(max))
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| ProtocolError::Field {
                field: key,
                reason: format!("must be a number from 0 to {max}"),
            }),
    }
}

/// A src 32 the user sends back: the desk's copy with `content.selected` set.
fn read_task_branch(object: &mut Map<String, Value>) -> Result<TaskBranch, ProtocolError> {
    #[derive(Deserialize)]
    struct Content {
        #[serde(default, deserialize_with = "null_as_empty")]
        header: String,
        #[serde(default)]
        items: Vec<TaskItem>,
        selected: Option<TaskItem>,
    }
    let status = small_number(object, "status", 2)?;
    let option_type = small_number(object, "optionType", u8::MAX)?;
    let content = object
        .remove("content")
        .ok_or_else(|| ProtocolError::Field {
            field: "content",
            reason: "is missing".to_owned(),
        })?;
    let content: Content = serde_json::from_value(content).map_err(|e| ProtocolError::Field {
        field: "content",
        reason: e.to_string(),
    })?;
    if content.selected.is_none() {
        return Err(ProtocolError::Field {
            field: "content.selected",
            reason: "is missing: a user answers a task branch by picking an item".to_owned(),
        });
    }
    let task_info = object.remove("taskInfo").unwrap_or(Value::Null);
    Ok(TaskBranch {
        status,
        option_type,
        header: content.header,
        items: content.items,
        selected: content.selected,
        task_info,
    })
}

/// A src 33 the user sends back: the desk's copy with each `variableValue` filled, or just
/// `content.inputVariables[{name, isRequired, variableValue}]`.
fn read_task_form(object: &mut Map<String, Value>) -> Result<TaskForm, ProtocolError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Content {
        #[serde(default, deserialize_with = "null_as_empty")]
        tip: String,
        input_variables: Vec<InputVariable>,
    }
    let node_status = match object.get("nodeStatus") {
        None | Some(Value::Null) => None,
        Some(_) => Some(small_number(object, "nodeStatus", 2)?),
    };
    let content = object
        .remove("content")
        .ok_or_else(|| ProtocolError::Field {
            field: "content",
            reason: "is missing".to_owned(),
        })?;
    let content: Content = serde_json::from_value(content).map_err(|e| ProtocolError::Field {
        field: "content.inputVariables",
        reason: e.to_string(),
    })?;
    if content.input_variables.len() > MAX_TASK_FIELDS {
        return Err(ProtocolError::Field {
            field: "content.inputVariables",
            reason: format!(
                "has {} fields, over the limit of {MAX_TASK_FIELDS}",
                content.input_variables.len()
            ),
        });
    }
    Ok(TaskForm {
        node_status,
        tip: content.tip,
        input_variables: content.input_variables,
        task_info: object.remove("taskInfo"),
    })
}

/// Most fields a task form (src 33) carries: a form a person fills in on a phone.
pub const MAX_TASK_FIELDS: usize = 32;

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    /// The examples of PROTOCOL.md, written back exactly (as JSON values).
    #[test]
    fn writes_the_protocol_examples() {
        let cases = [
            (
                DeskMessage::Trigger { language: None },
                r#"{"customerServicePlugin":0,"src":"7"}"#,
            ),
            (
                DeskMessage::BranchMenu {
                    header: "Please select the service you require".into(),
                    items: vec![
                        Item {
                            content: "Pre-sales".into(),
                            desc: String::new(),
                        },
                        Item {
                            content: "After-sales".into(),
                            desc: String::new(),
                        },
                    ],
                    tail: Some(String::new()),
                    selected: None,
                },
                r#"{"customerServicePlugin":0,"src":"15","content":{"header":"Please select the service you require","items":[{"content":"Pre-sales","desc":""},{"content":"After-sales","desc":""}],"tail":""}}"#,
            ),
            (
                DeskMessage::SatisfactionMenu(SatisfactionMenu {
                    head: "Please rate this service".into(),
                    tail: "Thank you for your rating".into(),
                    kind: 1,
                    menu: vec![
                        MenuEntry {
                            id: "1".into(),
                            content: "Very dissatisfied".into(),
                        },
                        MenuEntry {
                            id: "5".into(),
                            content: "Very satisfied".into(),
                        },
                    ],
                    selected: None,
                    session_id: "s-91f2".into(),
                    expire_time: 1_795_000_000,
                }),
                r#"{"customerServicePlugin":0,"src":"9","menuContent":{"head":"Please rate this service","tail":"Thank you for your rating","type":1,"menu":[{"id":"1","content":"Very dissatisfied"},{"id":"5","content":"Very satisfied"}],"sessionId":"s-91f2","expireTime":1795000000}}"#,
            ),
            (
                DeskMessage::SatisfactionSelected {
                    id: "5".into(),
                    content: "Very satisfied".into(),
                    session_id: "s-91f2".into(),
                },
                r#"{"customerServicePlugin":0,"src":"10","menuSelected":{"id":"5","content":"Very satisfied","sessionId":"s-91f2"}}"#,
            ),
            (
                DeskMessage::Form {
                    kind: 1,
                    header: "What do you like to eat?".into(),
                    items: Some(vec![
                        Item {
                            content: "Apple".into(),
                            desc: String::new(),
                        },
                        Item {
                            content: "Peach".into(),
                            desc: String::new(),
                        },
                    ]),
                    selected: None,
                },
                r#"{"customerServicePlugin":0,"src":"21","content":{"type":1,"header":"What do you like to eat?","items":[{"content":"Apple","desc":""},{"content":"Peach","desc":""}]}}"#,
            ),
            (
                DeskMessage::RatingRules { flag: 7 },
                r#"{"customerServicePlugin":0,"src":"23","content":{"menuSendRuleFlag":7}}"#,
            ),
            (
                DeskMessage::SeatStatus { in_seat: true },
                r#"{"customerServicePlugin":0,"src":"26","content":{"command":"updateSeatStatus","content":"inSeat"}}"#,
            ),
            (
                DeskMessage::StreamText {
                    chunks: vec!["Hel".into(), "lo".into()],
                    finished: true,
                },
                r#"{"customerServicePlugin":0,"src":"31","chunks":["Hel","lo"],"isFinished":1}"#,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(message.to_value(), value(expected), "src {}", message.src());
            let Body::Custom { data, .. } = message.to_body() else {
                panic!("desk messages are custom bodies");
            };
            assert_eq!(value(&data), value(expected));
            assert!(
                data.contains(&format!("\"src\":\"{}\"", message.src())),
                "src is a string"
            );
        }
    }

    #[test]
    fn reads_what_users_send() {
        assert_eq!(
            DeskMessage::parse_from_user(
                r#"{"customerServicePlugin":0,"src":"7","triggeredContent":{"language":"en"}}"#
            ),
            Ok(DeskMessage::Trigger {
                language: Some("en".into())
            })
        );
        assert_eq!(
            DeskMessage::parse_from_user(
                r#"{"customerServicePlugin":0,"src":"10","menuSelected":{"id":"5","content":"Very satisfied","sessionId":"s-91f2"}}"#
            ),
            Ok(DeskMessage::SatisfactionSelected {
                id: "5".into(),
                content: "Very satisfied".into(),
                session_id: "s-91f2".into()
            })
        );
        assert_eq!(
            DeskMessage::parse_from_user(
                r#"{"customerServicePlugin":0,"src":"22","content":{"header":"Phone","desc":"128 GB","pic":"https://x/p.png","url":"https://x/p"}}"#
            ),
            Ok(DeskMessage::Card(Card {
                header: "Phone".into(),
                desc: "128 GB".into(),
                pic: "https://x/p.png".into(),
                url: "https://x/p".into(),
                extra: Map::new(),
            }))
        );
        assert_eq!(
            DeskMessage::parse_from_user(r#"{"customerServicePlugin":0,"src":"24"}"#),
            Ok(DeskMessage::UserAsksToRate)
        );
        assert_eq!(
            DeskMessage::parse_from_user(r#"{"customerServicePlugin":0,"src":"27"}"#),
            Ok(DeskMessage::UserEndsService)
        );
    }

    #[test]
    fn refuses_what_users_may_not_send() {
        let refuse = |data: &str| DeskMessage::parse_from_user(data).unwrap_err();
        assert_eq!(
            refuse(r#"{"customerServicePlugin":0,"src":7}"#),
            ProtocolError::SrcNotString
        );
        assert_eq!(
            refuse(r#"{"customerServicePlugin":"0","src":"7"}"#),
            ProtocolError::NotDesk
        );
        assert_eq!(refuse(r#"{"src":"7"}"#), ProtocolError::NotDesk);
        assert_eq!(
            refuse(r#"{"customerServicePlugin":0,"src":"99"}"#),
            ProtocolError::UnknownSrc("99".into())
        );
        assert_eq!(
            refuse(r#"{"customerServicePlugin":0,"src":"9"}"#),
            ProtocolError::UnknownSrc("9".into()),
            "desk-only src"
        );
        assert!(matches!(refuse("{not json"), ProtocolError::NotJson(_)));
        assert!(matches!(refuse("[1]"), ProtocolError::NotJson(_)));
        assert!(matches!(
            refuse(
                r#"{"customerServicePlugin":0,"src":"10","menuSelected":{"id":"","sessionId":"s"}}"#
            ),
            ProtocolError::Field {
                field: "menuSelected.id",
                ..
            }
        ));
        assert!(matches!(
            refuse(r#"{"customerServicePlugin":0,"src":"10"}"#),
            ProtocolError::Field {
                field: "menuSelected",
                ..
            }
        ));
        assert!(matches!(
            refuse(r#"{"customerServicePlugin":0,"src":"22","content":{"desc":"no header"}}"#),
            ProtocolError::Field {
                field: "content",
                ..
            }
        ));
        assert!(matches!(
            refuse(&"x".repeat(MAX_DATA_BYTES + 1)),
            ProtocolError::TooLarge { .. }
        ));
    }

    #[test]
    fn bodies_read_and_write_as_the_im_carries_them() {
        let text: Body = serde_json::from_str(r#"{"type":"text","text":"hi"}"#).unwrap();
        assert_eq!(text, Body::Text { text: "hi".into() });
        let custom: Body = serde_json::from_str(r#"{"type":"custom","data":"{}"}"#).unwrap();
        assert_eq!(
            custom,
            Body::Custom {
                data: "{}".into(),
                description: String::new(),
                extension: String::new()
            }
        );
        assert!(serde_json::from_str::<Body>(r#"{"type":"image"}"#).is_err());
        assert!(
            Body::Text {
                text: "x".repeat(crate::domain::conversation::MAX_TEXT_BYTES + 1)
            }
            .check()
            .is_err()
        );
        assert!(
            DeskMessage::Typing.is_flag()
                && !DeskMessage::RichText {
                    markdown: String::new()
                }
                .is_flag()
        );
    }

    proptest::proptest! {
        /// Whatever a user sends as `data` is read or refused, never a panic.
        #[test]
        fn any_data_is_read_or_refused(data in "\\PC{0,200}") {
            let _ = DeskMessage::parse_from_user(&data);
        }

        /// JSON-shaped data with any src and fields is read or refused, never a panic.
        #[test]
        fn any_desk_shaped_data_is_read_or_refused(
            src in "[0-9]{1,2}",
            plugin in proptest::prelude::any::<i8>(),
            extra in "\\PC{0,40}",
        ) {
            let data = json!({"customerServicePlugin": plugin, "src": src, "content": extra, "menuSelected": {"id": extra}}).to_string();
            if let Ok(message) = DeskMessage::parse_from_user(&data) {
                proptest::prop_assert_eq!(message.src(), src.as_str());
                proptest::prop_assert_eq!(plugin, 0);
            }
        }
    }

    /// The desk Android client's `sendProductMessage`: a card with `customField`, keys with
    /// null values dropped; the unknown field is kept and written back as sent.
    #[test]
    fn a_clients_card_with_fields_of_its_own_is_kept() {
        let sent = r#"{"customerServicePlugin":0,"src":"22","content":{"header":"Phone","desc":"128 GB","customField":[{"name":"Order","value":"A-1"}]}}"#;
        let Ok(Some(DeskMessage::Card(card))) = DeskMessage::read_user_data(sent) else {
            panic!("a card with customField is accepted");
        };
        assert_eq!(card.header, "Phone");
        assert_eq!((card.pic.as_str(), card.url.as_str()), ("", ""));
        assert_eq!(
            card.extra.get("customField"),
            Some(&value(r#"[{"name":"Order","value":"A-1"}]"#))
        );
        // Written back (an agent's copy), the field is still there.
        assert_eq!(
            DeskMessage::Card(card).to_value()["content"]["customField"],
            value(r#"[{"name":"Order","value":"A-1"}]"#)
        );
        // iOS sends null for a missing optional field.
        let null_pic = r#"{"customerServicePlugin":0,"src":"22","content":{"header":"Phone","pic":null,"url":null,"desc":null}}"#;
        assert!(matches!(
            DeskMessage::read_user_data(null_pic),
            Ok(Some(DeskMessage::Card(_)))
        ));
    }

    /// `triggeredContent: {language}` on 7, 24 and 27, and other extra fields, are never a
    /// reason to refuse.
    #[test]
    fn extra_fields_on_user_desk_messages_are_accepted() {
        for (data, expected) in [
            (
                r#"{"customerServicePlugin":0,"src":"7","triggeredContent":{"language":"zh-CN","scene":"home"},"appVersion":"2.1"}"#,
                DeskMessage::Trigger {
                    language: Some("zh-CN".into()),
                },
            ),
            (
                r#"{"customerServicePlugin":0,"src":"24","triggeredContent":{"language":"en"}}"#,
                DeskMessage::UserAsksToRate,
            ),
            (
                r#"{"customerServicePlugin":0,"src":"27","triggeredContent":{"language":"en"}}"#,
                DeskMessage::UserEndsService,
            ),
            (
                r#"{"customerServicePlugin":0,"src":"10","menuSelected":{"id":"5","content":"Very satisfied","sessionId":"s-1","extra":true}}"#,
                DeskMessage::SatisfactionSelected {
                    id: "5".into(),
                    content: "Very satisfied".into(),
                    session_id: "s-1".into(),
                },
            ),
        ] {
            assert_eq!(
                DeskMessage::read_user_data(data),
                Ok(Some(expected)),
                "{data}"
            );
        }
    }

    /// A `src` without `customerServicePlugin` is not the desk's: an ordinary custom message.
    #[test]
    fn a_src_without_the_plugin_flag_is_an_ordinary_custom_message() {
        for data in [
            r#"{"src":"7"}"#,
            r#"{"src":"99","businessID":"order"}"#,
            r#"{"src":7,"content":{"header":"x"}}"#,
            r#"{"businessID":"text_link","text":"hi"}"#,
            r#"[1,2]"#,
            r#""just a string""#,
        ] {
            assert_eq!(DeskMessage::read_user_data(data), Ok(None), "{data}");
        }
        assert!(matches!(
            DeskMessage::read_user_data("{not json"),
            Err(ProtocolError::NotJson(_))
        ));
        assert_eq!(
            DeskMessage::read_user_data(r#"{"customerServicePlugin":0,"src":"9"}"#),
            Err(ProtocolError::UnknownSrc("9".into()))
        );
    }

    #[test]
    fn the_ends_are_stored_not_flags() {
        assert!(!DeskMessage::SessionEnded.is_flag());
        assert!(!DeskMessage::SessionTimedOut.is_flag());
        assert!(DeskMessage::Thinking { thinking: true }.is_flag());
        assert!(
            !DeskMessage::Tip {
                text: String::new()
            }
            .is_flag()
        );
    }

    /// The shapes helpline defines for 28, 29, 32, 33, 35, 37 and 38, written exactly.
    #[test]
    fn writes_the_newer_shapes() {
        let item = |c: &str| TaskItem {
            content: c.into(),
            desc: String::new(),
            extra: Map::new(),
        };
        let cases = [
            (
                DeskMessage::OrderCard(OrderCard {
                    guide: "Your order".into(),
                    name: "A-1".into(),
                    desc: "2 items".into(),
                    pic: "https://x/o.png".into(),
                }),
                r#"{"customerServicePlugin":0,"src":"28","content":{"guide":"Your order","name":"A-1","desc":"2 items","pic":"https://x/o.png"}}"#,
            ),
            (
                DeskMessage::BotChoices {
                    subtype: "welcome_msg".into(),
                    title: "Ask me".into(),
                    items: vec!["Refunds".into()],
                },
                r#"{"customerServicePlugin":0,"src":"29","subtype":"welcome_msg","content":{"title":"Ask me","items":[{"content":"Refunds"}]}}"#,
            ),
            (
                DeskMessage::TaskBranch(TaskBranch {
                    status: 0,
                    option_type: 0,
                    header: "Pick one".into(),
                    items: vec![item("Pre-sales"), item("After-sales")],
                    selected: None,
                    task_info: json!({"sessionId": "s-1", "nodeId": "menu"}),
                }),
                r#"{"customerServicePlugin":0,"src":"32","status":0,"optionType":0,"content":{"header":"Pick one","items":[{"content":"Pre-sales","desc":""},{"content":"After-sales","desc":""}]},"taskInfo":{"sessionId":"s-1","nodeId":"menu"}}"#,
            ),
            (
                DeskMessage::TaskForm(TaskForm {
                    node_status: Some(0),
                    tip: "Your phone".into(),
                    input_variables: vec![InputVariable {
                        name: "phone".into(),
                        placeholder: "138...".into(),
                        is_required: true,
                        form_type: 0,
                        choose_item_list: Vec::new(),
                        variable_value: String::new(),
                        extra: Map::new(),
                    }],
                    task_info: Some(json!({"sessionId": "s-1", "nodeId": "phone"})),
                }),
                r#"{"customerServicePlugin":0,"src":"33","nodeStatus":0,"content":{"tip":"Your phone","inputVariables":[{"name":"phone","placeholder":"138...","isRequired":true,"formType":0,"chooseItemList":[],"variableValue":""}]},"taskInfo":{"sessionId":"s-1","nodeId":"phone"}}"#,
            ),
            (
                DeskMessage::Thinking { thinking: true },
                r#"{"customerServicePlugin":0,"src":"35","content":{"thinking":1}}"#,
            ),
            (
                DeskMessage::Tip {
                    text: "An agent joined".into(),
                },
                r#"{"customerServicePlugin":0,"src":"37","content":{"tip":"An agent joined"}}"#,
            ),
            (
                DeskMessage::TimeoutReminder {
                    text: "Still there?".into(),
                    end_time: 1_795_000_000,
                },
                r#"{"customerServicePlugin":0,"src":"38","content":{"tip":"Still there?","endTime":1795000000}}"#,
            ),
            (
                DeskMessage::SessionEnded,
                r#"{"customerServicePlugin":0,"src":"19"}"#,
            ),
            (
                DeskMessage::SessionTimedOut,
                r#"{"customerServicePlugin":0,"src":"20"}"#,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(message.to_value(), value(expected), "src {}", message.src());
        }
    }

    /// The user's answers to the task shapes: 32 with `selected` and `taskInfo` echoed, 33
    /// as the desk's copy filled in or as just the variables.
    #[test]
    fn reads_the_users_task_answers() {
        let branch = r#"{"customerServicePlugin":0,"src":"32","status":1,"optionType":0,"content":{"header":"Pick one","items":[{"content":"Pre-sales","desc":""}],"selected":{"content":"Pre-sales","desc":""}},"taskInfo":{"sessionId":"s-1","nodeId":"menu"}}"#;
        let Ok(Some(DeskMessage::TaskBranch(b))) = DeskMessage::read_user_data(branch) else {
            panic!("a task branch answer is read");
        };
        assert_eq!(b.selected.map(|s| s.content).as_deref(), Some("Pre-sales"));
        assert_eq!(b.task_info, json!({"sessionId": "s-1", "nodeId": "menu"}));
        let full = r#"{"customerServicePlugin":0,"src":"33","content":{"tip":"Your phone","inputVariables":[{"name":"phone","placeholder":"","isRequired":true,"formType":0,"chooseItemList":[],"variableValue":"13800000000"}]},"taskInfo":{"sessionId":"s-1","nodeId":"phone"}}"#;
        let short = r#"{"customerServicePlugin":0,"src":"33","content":{"inputVariables":[{"name":"phone","isRequired":true,"variableValue":"13800000000"}]}}"#;
        for data in [full, short] {
            let Ok(Some(DeskMessage::TaskForm(f))) = DeskMessage::read_user_data(data) else {
                panic!("a task form answer is read: {data}");
            };
            assert_eq!(f.input_variables[0].name, "phone");
            assert_eq!(f.input_variables[0].variable_value, "13800000000");
        }
        let refuse = |data: &str| match DeskMessage::read_user_data(data) {
            Err(ProtocolError::Field { field, .. }) => field,
            other => panic!("{data}: {other:?}"),
        };
        assert_eq!(
            refuse(r#"{"customerServicePlugin":0,"src":"32","content":{"header":"x","items":[]}}"#),
            "content.selected"
        );
        assert_eq!(
            refuse(r#"{"customerServicePlugin":0,"src":"32","status":9,"content":{}}"#),
            "status"
        );
        assert_eq!(
            refuse(r#"{"customerServicePlugin":0,"src":"33","content":{"tip":"x"}}"#),
            "content.inputVariables"
        );
    }

    #[test]
    fn a_card_links_only_to_the_web() {
        let card = |url: &str, pic: &str| {
            format!(
                r#"{{"customerServicePlugin":0,"src":"22","content":{{"header":"Phone","url":{url:?},"pic":{pic:?}}}}}"#
            )
        };
        for (url, pic, bad) in [
            ("javascript:alert(1)", "", "content.url"),
            ("JavaScript:alert(1)", "", "content.url"),
            ("data:text/html,<script>1</script>", "", "content.url"),
            (
                "https://shop.example.com/p",
                "javascript:alert(1)",
                "content.pic",
            ),
            (
                "https://shop.example.com/p",
                "file:///etc/passwd",
                "content.pic",
            ),
            ("//shop.example.com/p", "", "content.url"),
        ] {
            match DeskMessage::parse_from_user(&card(url, pic)) {
                Err(ProtocolError::Field { field, .. }) => assert_eq!(field, bad, "{url} {pic}"),
                other => panic!("{url} {pic}: {other:?}"),
            }
        }
        for (url, pic) in [
            ("https://shop.example.com/p", "http://img.example.com/p.png"),
            ("", ""),
        ] {
            assert!(
                DeskMessage::parse_from_user(&card(url, pic)).is_ok(),
                "{url} {pic}"
            );
        }
    }
}
