//! A conversation: the messages between one user and one virtual number of an app, in the
//! order the desk took them. Every stored message gets the next sequence number (dense, from
//! 1), so a client that reconnects saying "I have seen up to n" gets exactly the messages
//! after n: no gap, no duplicate. A message sent again with the same id by the same side is
//! the same message (a client retrying after a lost answer). Flag messages
//! (`onlineUserOnly`) are delivered to whoever is connected and never stored, so they take
//! no sequence number and are never replayed.

use std::collections::HashMap;

use crate::domain::Rejection;
use crate::domain::event::Event;
use crate::domain::ids::{AgentId, AppId, ChannelId, ConversationId};
use crate::durable;

/// Longest text message, in bytes.
pub const MAX_TEXT_BYTES: usize = 8 * 1024;
/// Longest custom message `data`, `description` or `extension`, in bytes.
pub const MAX_DATA_BYTES: usize = 16 * 1024;
/// Longest client message id, in bytes.
pub const MAX_MSG_ID_BYTES: usize = 64;
/// Most messages one history page holds.
pub const MAX_PAGE: usize = 100;

durable! {
    /// A message body as the IM carries it (`shared/PROTOCOL.md`).
    #[derive(utoipa::ToSchema)]
    #[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
    pub enum Body {
        /// Plain text.
        Text {
            /// The text.
            text: String,
        },
        /// A custom message: the desk's carry a JSON string in `data`.
        Custom {
            /// Serialized JSON (a string, not an object).
            data: String,
            /// Shown by clients that cannot render the message.
            #[serde(default)]
            description: String,
            /// Free for the app.
            #[serde(default)]
            extension: String,
        },
        /// A file or image sent as an attachment: uploaded first, then named by its id.
        /// The fields are 32-bit so the archived body keeps the size it always had (see
        /// `archived_body_keeps_its_size`): old logs read as they were written.
        File {
            /// The attachment's id in the conversation.
            #[serde(rename = "attachmentId")]
            attachment_id: u32,
            /// The file name.
            name: String,
            /// The content type, sniffed from the bytes at upload.
            #[serde(rename = "contentType")]
            content_type: String,
            /// Its size in bytes.
            size: u32,
        },
    }

    /// Who sent a message.
    #[derive(Copy, Hash, utoipa::ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum Sender {
        /// The user.
        User,
        /// The desk: a flow, the system, or the agent named.
        Desk {
            /// The agent, when a human wrote it.
            agent: Option<AgentId>,
        },
    }

    /// A stored message.
    #[derive(utoipa::ToSchema)]
    #[serde(rename_all = "camelCase")]
    pub struct Message {
        /// Its place in the conversation (1, 2, 3...).
        pub seq: u64,
        /// The sender's id for it (idempotency key).
        pub msg_id: String,
        /// Who sent it.
        pub sender: Sender,
        /// When the desk took it, ms since the epoch.
        pub at_ms: i64,
        /// What it says.
        pub body: Body,
    }
}

/// What sending a message comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sent {
    /// A new message, to store (append its event) and deliver.
    Stored(Message),
    /// The same sender sent this id before: it is that message; nothing changes.
    Duplicate(u64),
    /// A flag message: deliver to whoever is connected, store nothing.
    Transient {
        /// Who sent it.
        sender: Sender,
        /// What it says.
        body: Body,
    },
}

/// The messages of one conversation, in order.
#[derive(Clone, Debug, Default)]
pub struct Conversation {
    messages: Vec<Message>,
    ids: HashMap<(bool, String), u64>,
}

/// Where message `seq` sits (seqs start at 1).
fn index_of(seq: u64) -> Option<usize> {
    usize::try_from(seq).ok()?.checked_sub(1)
}

fn side(sender: Sender) -> bool {
    matches!(sender, Sender::User)
}

impl Body {
    /// Checks the size limits, naming the part that is over.
    pub fn check(&self) -> Result<(), Rejection> {
        let parts: Vec<(&'static str, usize, usize)> = match self {
            Body::Text { text } => vec![("body.text", text.len(), MAX_TEXT_BYTES)],
            Body::Custom {
                data,
                description,
                extension,
            } => vec![
                ("body.data", data.len(), MAX_DATA_BYTES),
                ("body.description", description.len(), MAX_DATA_BYTES),
                ("body.extension", extension.len(), MAX_DATA_BYTES),
            ],
            Body::File {
                name, content_type, ..
            } => {
                crate::domain::attachment::check_name(name).map_err(|e| match e {
                    Rejection::Invalid { reason, .. } => Rejection::invalid("body.name", reason),
                    other => other,
                })?;
                vec![("body.contentType", content_type.len(), 255)]
            }
        };
        for (field, size, limit) in parts {
            if size > limit {
                return Err(Rejection::invalid(
                    field,
                    format!("{size} bytes is over the limit of {limit}"),
                ));
            }
        }
        if let Body::Text { text } = self
            && text.trim().is_empty()
        {
            return Err(Rejection::invalid("body.text", "must not be empty"));
        }
        Ok(())
    }
}

impl Conversation {
    /// The last sequence number given (0 when empty).
    pub fn last_seq(&self) -> u64 {
        self.messages.len() as u64
    }

    /// Decides what sending `body` with `msg_id` comes to.
    pub fn send(
        &self,
        sender: Sender,
        msg_id: &str,
        body: Body,
        online_only: bool,
        at_ms: i64,
    ) -> Result<Sent, Rejection> {
        if msg_id.is_empty()
            || msg_id.len() > MAX_MSG_ID_BYTES
            || msg_id.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Rejection::invalid(
                "msgId",
                format!("must be 1 to {MAX_MSG_ID_BYTES} bytes without spaces"),
            ));
        }
        body.check()?;
        if online_only {
            return Ok(Sent::Transient { sender, body });
        }
        if let Some(seq) = self.ids.get(&(side(sender), msg_id.to_owned())) {
            return Ok(Sent::Duplicate(*seq));
        }
        Ok(Sent::Stored(Message {
            seq: self.last_seq() + 1,
            msg_id: msg_id.to_owned(),
            sender,
            at_ms,
            body,
        }))
    }

    /// Folds a stored message in (from `Sent::Stored`, or from the log on replay).
    pub fn apply(&mut self, message: Message) {
        debug_assert_eq!(message.seq, self.last_seq() + 1, "messages fold in order");
        self.ids
            .insert((side(message.sender), message.msg_id.clone()), message.seq);
        self.messages.push(message);
    }

    /// Everything after `seq`: what a client that has seen up to `seq` is missing.
    pub fn after(&self, seq: u64) -> &[Message] {
        let from = usize::try_from(seq)
            .unwrap_or(usize::MAX)
            .min(self.messages.len());
        &self.messages[from..]
    }

    /// A history page: up to `limit` (at most [`MAX_PAGE`]) messages before `before` (the
    /// newest when none), oldest first.
    pub fn page(&self, before: Option<u64>, limit: usize) -> &[Message] {
        let end = before
            .map_or(self.messages.len(), |b| {
                usize::try_from(b.saturating_sub(1)).unwrap_or(usize::MAX)
            })
            .min(self.messages.len());
        let start = end.saturating_sub(limit.clamp(1, MAX_PAGE));
        &self.messages[start..end]
    }

    /// A stored message.
    pub fn message(&self, seq: u64) -> Option<&Message> {
        self.messages.get(index_of(seq)?)
    }

    /// A stored message, to update (`selected` on a menu or a rating invitation).
    pub fn message_mut(&mut self, seq: u64) -> Option<&mut Message> {
        self.messages.get_mut(index_of(seq)?)
    }
}

/// One conversation with whom it is between.
#[derive(Clone, Debug)]
pub struct ConversationEntry {
    /// Its id (its stream).
    pub id: ConversationId,
    /// The app.
    pub app: AppId,
    /// The channel written to.
    pub channel: ChannelId,
    /// The user.
    pub user: String,
    /// The messages.
    pub messages: Conversation,
    /// Its service: live session, seat, ratings.
    pub service: crate::domain::service::Service,
    /// The service flow of its latest session that ran one.
    pub flow: Option<crate::domain::flow::FlowRun>,
    /// The files and images sent in it.
    pub attachments: crate::domain::attachment::Attachments,
}

impl ConversationEntry {
    /// A conversation nobody wrote to yet.
    pub fn new(id: ConversationId, app: AppId, channel: ChannelId, user: &str) -> Self {
        Self {
            id,
            app,
            channel,
            user: user.to_owned(),
            messages: Conversation::default(),
            service: Default::default(),
            flow: None,
            attachments: Default::default(),
        }
    }

    /// The flow run of the live session, if it runs one.
    pub fn live_flow(&self) -> Option<&crate::domain::flow::FlowRun> {
        self.flow
            .as_ref()
            .filter(|r| Some(r.session) == self.service.session)
    }

    /// Folds one event of its stream (after `ConversationOpened`).
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::ConversationOpened { .. } => {}
            Event::MessageStored { message } => self.messages.apply(message.clone()),
            Event::AttachmentStored { attachment } => self.attachments.apply(attachment),
            Event::MessageUpdated { seq, body } => {
                if let Some(m) = self.messages.message_mut(*seq) {
                    m.body = body.clone();
                }
            }
            Event::RatingInvited { .. } | Event::SessionRated { .. } => self.service.apply(event),
            Event::FlowStepped { .. }
            | Event::FlowCallRequested { .. }
            | Event::FlowCallAnswered { .. }
            | Event::FlowHumanRequested { .. }
            | Event::FlowFinished { .. } => {
                crate::domain::flow::FlowRun::apply(&mut self.flow, event)
            }
            _ => debug_assert!(false, "not a conversation event: {}", event.name()),
        }
    }
}

/// Every conversation, found by app, channel and user.
#[derive(Clone, Debug, Default)]
pub struct Conversations {
    by_key: HashMap<(AppId, ChannelId, String), ConversationId>,
    all: HashMap<ConversationId, ConversationEntry>,
}

impl Conversations {
    /// Folds one event of a conversation stream.
    pub fn apply(&mut self, app: AppId, id: ConversationId, event: &Event) {
        match event {
            Event::ConversationOpened { channel, user } => {
                self.by_key.insert((app, *channel, user.clone()), id);
                self.all
                    .insert(id, ConversationEntry::new(id, app, *channel, user));
            }
            _ => {
                if let Some(entry) = self.all.get_mut(&id) {
                    entry.apply(event);
                }
            }
        }
    }

    /// The conversation of `user` on `channel`, if they ever wrote.
    pub fn find(&self, app: AppId, channel: ChannelId, user: &str) -> Option<ConversationId> {
        self.by_key.get(&(app, channel, user.to_owned())).copied()
    }

    /// A conversation.
    pub fn get(&self, id: ConversationId) -> Option<&ConversationEntry> {
        self.all.get(&id)
    }

    /// How many conversations there are.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Every conversation, taken out (the hub shards them).
    pub fn into_entries(self) -> impl Iterator<Item = ConversationEntry> {
        self.all.into_values()
    }

    /// Every conversation.
    pub fn entries(&self) -> impl Iterator<Item = &ConversationEntry> {
        self.all.values()
    }

    /// A conversation, to change.
    pub fn get_mut(&mut self, id: ConversationId) -> Option<&mut ConversationEntry> {
        self.all.get_mut(&id)
    }

    /// A user's conversations in an app, by id.
    pub fn of_user(&self, app: AppId, user: &str) -> Vec<&ConversationEntry> {
        let mut out: Vec<&ConversationEntry> = self
            .all
            .values()
            .filter(|c| c.app == app && c.user == user)
            .collect();
        out.sort_by_key(|c| c.id);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Body {
        Body::Text { text: t.to_owned() }
    }

    fn store(c: &mut Conversation, sender: Sender, id: &str) -> u64 {
        match c.send(sender, id, text(id), false, 0).unwrap() {
            Sent::Stored(m) => {
                let seq = m.seq;
                c.apply(m);
                seq
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sequence_numbers_are_dense_and_retries_are_the_same_message() {
        let mut c = Conversation::default();
        assert_eq!(store(&mut c, Sender::User, "u1"), 1);
        assert_eq!(
            store(&mut c, Sender::Desk { agent: None }, "u1"),
            2,
            "ids are per side"
        );
        assert_eq!(
            c.send(Sender::User, "u1", text("again"), false, 0),
            Ok(Sent::Duplicate(1))
        );
        assert_eq!(c.last_seq(), 2);
    }

    #[test]
    fn flag_messages_are_never_stored() {
        let c = Conversation::default();
        let sent = c
            .send(Sender::Desk { agent: None }, "t1", text("typing"), true, 0)
            .unwrap();
        assert!(matches!(sent, Sent::Transient { .. }));
        assert_eq!(c.last_seq(), 0);
    }

    #[test]
    fn bad_messages_name_the_field() {
        let c = Conversation::default();
        let field = |id: &str, body: Body| {
            c.send(Sender::User, id, body, false, 0)
                .unwrap_err()
                .field()
        };
        assert_eq!(field("", text("x")), Some("msgId"));
        assert_eq!(field("a b", text("x")), Some("msgId"));
        assert_eq!(field(&"x".repeat(65), text("x")), Some("msgId"));
        assert_eq!(field("m", text(" ")), Some("body.text"));
        assert_eq!(
            field("m", text(&"x".repeat(MAX_TEXT_BYTES + 1))),
            Some("body.text")
        );
        let big = Body::Custom {
            data: "x".repeat(MAX_DATA_BYTES + 1),
            description: String::new(),
            extension: String::new(),
        };
        assert_eq!(field("m", big), Some("body.data"));
    }

    #[test]
    fn history_pages_walk_back_oldest_first() {
        let mut c = Conversation::default();
        for i in 0..250 {
            store(&mut c, Sender::User, &format!("m{i}"));
        }
        let newest = c.page(None, 100);
        assert_eq!((newest[0].seq, newest[99].seq), (151, 250));
        let older = c.page(Some(151), 100);
        assert_eq!((older[0].seq, older[99].seq), (51, 150));
        let oldest = c.page(Some(51), 100);
        assert_eq!((oldest[0].seq, oldest.len()), (1, 50));
        assert!(c.page(Some(1), 100).is_empty());
        assert_eq!(c.page(None, 10_000).len(), MAX_PAGE);
    }

    proptest::proptest! {
        /// Resuming from any seq a client may hold gives exactly the rest: no gap, no
        /// duplicate, whatever mix of stored, repeated and flag messages came before.
        #[test]
        fn resume_from_anywhere_is_gapless(ops in proptest::collection::vec((0u8..3, 0u8..20), 0..200), seen in 0u64..250) {
            let mut c = Conversation::default();
            for (kind, id) in ops {
                let sender = if kind == 0 { Sender::User } else { Sender::Desk { agent: None } };
                if let Sent::Stored(m) = c.send(sender, &format!("m{id}"), text("x"), kind == 2, 0).unwrap() {
                    c.apply(m);
                }
            }
            let rest = c.after(seen);
            let expected_first = seen.min(c.last_seq()) + 1;
            for (i, m) in rest.iter().enumerate() {
                proptest::prop_assert_eq!(m.seq, expected_first + i as u64);
            }
            proptest::prop_assert_eq!(rest.last().map_or(seen.min(c.last_seq()), |m| m.seq), c.last_seq());
        }
    }
}
