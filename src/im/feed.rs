//! Every agent's feed: the frames sent to the agent, numbered one by one, kept for a while,
//! and folded into the agent's workstation view.
//!
//! A frame is numbered (`feedSeq`), folded into the view, kept in the agent's ring and pushed
//! to its sockets under one lock, so:
//!
//! - every socket of the agent sees the same frames in the same order;
//! - a socket that opens gets, in one step under that lock, the view as of the latest number
//!   and a subscription to everything after it: no gap, no duplicate;
//! - a socket that reconnects with `resume=<feed>:<n>` gets the kept frames after `n` and then
//!   the live ones. When they are no longer kept (too old, or the server restarted and the
//!   feed id changed) it is told `resumed: false` and starts from the view.
//!
//! The ring is bounded by frames and bytes: a workstation away for longer than the ring
//! covers gets the view, not an unbounded backlog. This is how long-lived gateways (chat and
//! trading feeds alike) resume: a short replay window, then a full snapshot.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use dashmap::DashMap;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::domain::ids::AgentId;
use crate::domain::workstation::{Change, Offer, Presence, Seat, View};

/// Most frames an agent's ring keeps.
pub const RING_FRAMES: usize = 1_024;
/// Most bytes an agent's ring keeps (the newest frame is always kept).
pub const RING_BYTES: usize = 256 * 1_024;
/// Frames waiting for a slow socket; past this the socket is closed and its client resumes.
pub const OUTBOX: usize = 1_024;

struct Subscriber {
    id: u64,
    tx: mpsc::Sender<Arc<str>>,
}

#[derive(Default)]
struct Feed {
    seq: u64,
    ring: VecDeque<(u64, Arc<str>)>,
    bytes: usize,
    subs: Vec<Subscriber>,
    view: View,
    /// The id of the newest socket opened on this feed (0: none yet): tells whether the
    /// workstation came back after its last socket closed.
    last_opened: u64,
}

impl Feed {
    fn keep(&mut self, seq: u64, text: Arc<str>) {
        self.bytes += text.len();
        self.ring.push_back((seq, text));
        while self.ring.len() > RING_FRAMES || (self.bytes > RING_BYTES && self.ring.len() > 1) {
            if let Some((_, old)) = self.ring.pop_front() {
                self.bytes -= old.len();
            }
        }
    }

    /// Whether every frame after `after` is still kept.
    fn covers(&self, after: u64) -> bool {
        after == self.seq
            || (after < self.seq
                && self
                    .ring
                    .front()
                    .is_some_and(|(first, _)| *first <= after + 1))
    }
}

/// Where a socket asks to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resume {
    /// The feed id it saw (changes when the server restarts).
    pub feed: String,
    /// The last `feedSeq` it received.
    pub seq: u64,
}

/// A socket's subscription to an agent's feed.
pub struct FeedSubscription {
    /// Frames after the first ones, as they happen.
    pub rx: mpsc::Receiver<Arc<str>>,
    /// The `state` frame, then the replayed frames: send these first.
    pub first: Vec<Arc<str>>,
    /// Whether the socket resumed where it asked.
    pub resumed: bool,
    id: u64,
}

impl FeedSubscription {
    /// Its id, to unsubscribe.
    pub fn id(&self) -> u64 {
        self.id
    }
}

/// The first frame of every agent socket.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StateFrame<'a> {
    r#type: &'static str,
    /// The feed id, for `resume`.
    feed: &'a str,
    /// The latest number: the view is as of it.
    feed_seq: u64,
    /// Whether the frames after the asked number follow (they are in the view already).
    resumed: bool,
    #[serde(flatten)]
    presence: &'a Presence,
    sessions: Vec<&'a Seat>,
    offers: Vec<&'a Offer>,
}

/// Every agent's feed.
pub struct Feeds {
    epoch: Arc<str>,
    agents: DashMap<AgentId, Arc<Mutex<Feed>>>,
    next_subscriber: AtomicU64,
}

impl Feeds {
    /// Feeds starting from the agents' views (as the log folded them), under a fresh feed id.
    pub fn new(views: impl IntoIterator<Item = (AgentId, View)>) -> Self {
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        let epoch: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self::with_epoch(&epoch, views)
    }

    /// Feeds under a given id (for tests).
    pub fn with_epoch(epoch: &str, views: impl IntoIterator<Item = (AgentId, View)>) -> Self {
        let agents = views
            .into_iter()
            .map(|(agent, view)| {
                let feed = Feed {
                    view,
                    ..Feed::default()
                };
                (agent, Arc::new(Mutex::new(feed)))
            })
            .collect();
        Feeds {
            epoch: epoch.into(),
            agents,
            next_subscriber: AtomicU64::new(1),
        }
    }

    /// The feed id.
    pub fn epoch(&self) -> &str {
        &self.epoch
    }

    fn feed(&self, agent: AgentId) -> Arc<Mutex<Feed>> {
        self.agents.entry(agent).or_default().clone()
    }

    fn guard(feed: &Mutex<Feed>) -> MutexGuard<'_, Feed> {
        feed.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Numbers `frame` (a JSON object), folds `change` into the view, keeps the frame and
    /// pushes it to the agent's sockets. A socket whose outbox is full is dropped: it closes,
    /// and its client resumes.
    pub fn emit<T: Serialize>(&self, agent: AgentId, frame: &T, change: Option<Change>) -> u64 {
        let json = serde_json::to_string(frame).unwrap_or_else(|e| {
            format!(r#"{{"type":"error","error":"internal","message":"{e}"}}"#)
        });
        let feed = self.feed(agent);
        let mut f = Self::guard(&feed);
        f.seq += 1;
        let seq = f.seq;
        let text = numbered(&json, seq);
        if let Some(change) = change {
            f.view.apply(&change);
        }
        f.keep(seq, text.clone());
        f.subs.retain(|s| s.tx.try_send(text.clone()).is_ok());
        seq
    }

    /// Numbers and sends `frame` (a sign-out), then closes every socket of the agent open now:
    /// they drain what they have and end. Sockets opened later with a new sign-in are not
    /// touched.
    pub fn close_with<T: Serialize>(&self, agent: AgentId, frame: &T) {
        self.emit(agent, frame, None);
        let feed = self.feed(agent);
        Self::guard(&feed).subs.clear();
    }

    /// Opens a socket on the agent's feed: the `state` frame, what it missed (when it
    /// resumes within the ring) and then everything new.
    pub fn open(&self, agent: AgentId, resume: Option<&Resume>) -> FeedSubscription {
        let feed = self.feed(agent);
        let mut f = Self::guard(&feed);
        let from = resume.filter(|r| *r.feed == *self.epoch && f.covers(r.seq));
        let state = StateFrame {
            r#type: "state",
            feed: &self.epoch,
            feed_seq: f.seq,
            resumed: from.is_some(),
            presence: &f.view.presence,
            sessions: f.view.sessions.values().collect(),
            offers: f.view.offers.values().collect(),
        };
        let state: Arc<str> = serde_json::to_string(&state)
            .unwrap_or_else(|e| format!(r#"{{"type":"error","error":"internal","message":"{e}"}}"#))
            .into();
        let mut first = vec![state];
        if let Some(r) = from {
            first.extend(
                f.ring
                    .iter()
                    .filter(|(seq, _)| *seq > r.seq)
                    .map(|(_, text)| text.clone()),
            );
        }
        let (tx, rx) = mpsc::channel(OUTBOX);
        let id = self.next_subscriber.fetch_add(1, Ordering::Relaxed);
        f.subs.push(Subscriber { id, tx });
        f.last_opened = id;
        FeedSubscription {
            rx,
            first,
            resumed: from.is_some(),
            id,
        }
    }

    /// Closes a socket's subscription.
    /// Answers, when that was the agent's last open socket, the mark to give
    /// [`Self::gone_since`] later.
    pub fn unsubscribe(&self, agent: AgentId, id: u64) -> Option<u64> {
        let feed = self.agents.get(&agent).map(|f| f.clone())?;
        let mut f = Self::guard(&feed);
        f.subs.retain(|s| s.id != id);
        f.subs.is_empty().then_some(f.last_opened)
    }

    /// Whether the agent has had no socket open since its last one closed (`mark`, from
    /// [`Self::unsubscribe`]): none open now, and none opened and closed in between.
    pub fn gone_since(&self, agent: AgentId, mark: u64) -> bool {
        match self.agents.get(&agent).map(|f| f.clone()) {
            Some(feed) => {
                let f = Self::guard(&feed);
                f.subs.is_empty() && f.last_opened == mark
            }
            None => true,
        }
    }

    /// Sockets open on every feed.
    pub fn sockets(&self) -> usize {
        self.agents
            .iter()
            .map(|f| Self::guard(f.value()).subs.len())
            .sum()
    }

    /// The agent's view now.
    pub fn view(&self, agent: AgentId) -> View {
        // Reading makes no feed: monitoring reads every agent, most of whom never had one.
        match self.agents.get(&agent).map(|f| f.clone()) {
            Some(feed) => Self::guard(&feed).view.clone(),
            None => View::default(),
        }
    }
}

/// `json` (an object) with `"feedSeq": seq` as its last member.
fn numbered(json: &str, seq: u64) -> Arc<str> {
    match json.strip_suffix('}') {
        Some(head) if head.len() > 1 => format!(r#"{head},"feedSeq":{seq}}}"#).into(),
        Some(_) => format!(r#"{{"feedSeq":{seq}}}"#).into(),
        None => json.into(),
    }
}

/// Reads a `resume` parameter: `<feed>:<feedSeq>`.
pub fn parse_resume(text: &str) -> Result<Resume, String> {
    let (feed, seq) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not <feed>:<feedSeq>"))?;
    if feed.is_empty() || feed.len() > 64 || !feed.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("{feed:?} is not a feed id"));
    }
    let seq = seq
        .parse::<u64>()
        .map_err(|_| format!("{seq:?} is not a feedSeq"))?;
    Ok(Resume {
        feed: feed.to_owned(),
        seq,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::SessionId;
    use serde_json::Value;

    fn frame(n: u64) -> Value {
        serde_json::json!({"type": "message", "n": n})
    }

    fn seqs(texts: &[Arc<str>]) -> Vec<u64> {
        texts
            .iter()
            .map(|t| serde_json::from_str::<Value>(t).unwrap())
            .filter_map(|v| v["feedSeq"].as_u64())
            .collect()
    }

    fn drain(rx: &mut mpsc::Receiver<Arc<str>>) -> Vec<Arc<str>> {
        let mut out = Vec::new();
        while let Ok(t) = rx.try_recv() {
            out.push(t);
        }
        out
    }

    const A: AgentId = AgentId(7);

    #[test]
    fn frames_are_numbered_as_their_last_member() {
        assert_eq!(
            &*numbered(r#"{"type":"x"}"#, 3),
            r#"{"type":"x","feedSeq":3}"#
        );
        assert_eq!(&*numbered("{}", 1), r#"{"feedSeq":1}"#);
    }

    #[test]
    fn a_socket_resumes_with_no_gap_and_no_duplicate() {
        let feeds = Feeds::with_epoch("e1", []);
        let mut s = feeds.open(A, None);
        assert!(!s.resumed);
        assert_eq!(seqs(&s.first[1..]), Vec::<u64>::new());
        for n in 1..=5 {
            feeds.emit(A, &frame(n), None);
        }
        let got = drain(&mut s.rx);
        assert_eq!(seqs(&got), vec![1, 2, 3, 4, 5]);
        feeds.unsubscribe(A, s.id());
        // Missed while away.
        for n in 6..=9 {
            feeds.emit(A, &frame(n), None);
        }
        let resume = Resume {
            feed: "e1".into(),
            seq: 5,
        };
        let mut again = feeds.open(A, Some(&resume));
        assert!(again.resumed);
        assert_eq!(
            seqs(&again.first[..1]),
            vec![9],
            "the state is as of the latest"
        );
        assert_eq!(seqs(&again.first[1..]), vec![6, 7, 8, 9]);
        feeds.emit(A, &frame(10), None);
        assert_eq!(seqs(&drain(&mut again.rx)), vec![10]);
    }

    #[test]
    fn a_stale_or_foreign_resume_starts_from_the_view() {
        let feeds = Feeds::with_epoch("e1", []);
        for n in 0..(RING_FRAMES as u64 + 10) {
            feeds.emit(A, &frame(n), None);
        }
        let too_old = Resume {
            feed: "e1".into(),
            seq: 3,
        };
        assert!(!feeds.open(A, Some(&too_old)).resumed);
        let other_server = Resume {
            feed: "e0".into(),
            seq: RING_FRAMES as u64 + 9,
        };
        assert!(!feeds.open(A, Some(&other_server)).resumed);
        let ahead = Resume {
            feed: "e1".into(),
            seq: 10_000,
        };
        assert!(!feeds.open(A, Some(&ahead)).resumed);
        let newest = Resume {
            feed: "e1".into(),
            seq: RING_FRAMES as u64 + 10,
        };
        let s = feeds.open(A, Some(&newest));
        assert!(s.resumed && s.first.len() == 1);
    }

    #[test]
    fn the_ring_is_bounded_by_bytes_but_keeps_the_newest() {
        let feeds = Feeds::with_epoch("e1", []);
        let big = "x".repeat(RING_BYTES / 3);
        for _ in 0..5 {
            feeds.emit(A, &serde_json::json!({"type": "t", "big": big}), None);
        }
        let huge = "y".repeat(RING_BYTES * 2);
        feeds.emit(A, &serde_json::json!({"type": "t", "big": huge}), None);
        let feed = feeds.feed(A);
        let f = Feeds::guard(&feed);
        assert_eq!(f.ring.len(), 1);
        assert_eq!(f.ring[0].0, 6);
    }

    #[test]
    fn the_state_frame_is_the_view_at_its_number() {
        let feeds = Feeds::with_epoch("e1", []);
        let seat = Seat {
            session_id: SessionId(3),
            conversation_id: None,
            user: "u".into(),
            channel_id: None,
            channel_name: Some("Sales".into()),
            transferred_by: Some(AgentId(2)),
        };
        feeds.emit(
            A,
            &frame(1),
            Some(Change::Offered(Offer {
                seat: seat.clone(),
                deadline_ms: 5,
            })),
        );
        feeds.emit(A, &frame(2), Some(Change::Seated(seat)));
        let s = feeds.open(A, None);
        let state: Value = serde_json::from_str(&s.first[0]).unwrap();
        assert_eq!(state["type"], "state");
        assert_eq!(state["feedSeq"], 2);
        assert_eq!(state["feed"], "e1");
        assert_eq!(state["status"], "offline");
        assert_eq!(state["sessions"][0]["sessionId"], 3);
        assert_eq!(state["sessions"][0]["channelName"], "Sales");
        assert_eq!(state["sessions"][0]["transferredBy"], 2);
        assert_eq!(state["offers"], serde_json::json!([]));
    }

    #[test]
    fn a_stalled_socket_is_dropped_and_a_sign_out_closes_the_open_ones() {
        let feeds = Feeds::with_epoch("e1", []);
        let stalled = feeds.open(A, None);
        for n in 0..=OUTBOX as u64 {
            feeds.emit(A, &frame(n), None);
        }
        assert_eq!(feeds.sockets(), 0, "the stalled socket was dropped");
        drop(stalled);
        let mut open = feeds.open(A, None);
        feeds.close_with(A, &serde_json::json!({"type": "signed_out"}));
        let got = drain(&mut open.rx);
        assert_eq!(got.len(), 1);
        assert!(open.rx.try_recv().is_err());
        assert_eq!(feeds.sockets(), 0);
    }

    #[test]
    fn resume_parameters_are_read_or_named() {
        assert_eq!(
            parse_resume("ab12:40").unwrap(),
            Resume {
                feed: "ab12".into(),
                seq: 40
            }
        );
        for bad in ["", "ab", ":3", "ab:", "ab:-1", "a-b:1", "ab:1:2"] {
            assert!(parse_resume(bad).is_err(), "{bad}");
        }
    }
}
