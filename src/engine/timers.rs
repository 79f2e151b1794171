//! Durable timers: deadlines live in events; this actor only keeps them in a timer wheel
//! and, when one is due, sends its command to the owning session actor.
//!
//! A timer's command carries what makes it valid (an offer's generation, a reply
//! deadline), so a timer made stale by later events is ignored by the session's `decide`;
//! re-arming the same kind for the same session replaces the old entry. After a restart
//! the engine re-arms every deadline found in the replayed state.

use std::collections::HashMap;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;
use tokio_util::time::DelayQueue;
use tokio_util::time::delay_queue::Key;

use crate::clock::Clock;
use crate::domain::ids::SessionId;
use crate::domain::session::{SessionAction, SessionCommand, SessionState};
use crate::engine::Shared;
use crate::engine::session::SessionMsg;

/// Which countdown of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The accept countdown of an offer.
    Offer,
    /// The user-reply countdown.
    Reply,
    /// The reminder shortly before the user-reply countdown ends.
    ReplyReminder,
    /// The queue wait limit. Its session may be waiting without an actor: it is woken.
    QueueWait,
}

/// Messages of the timer actor.
#[derive(Debug)]
pub enum TimerMsg {
    /// Arm (or re-arm) a countdown; `command` is sent to the session when it is due.
    Arm {
        /// The session.
        session: SessionId,
        /// Which countdown.
        kind: TimerKind,
        /// When, ms since the epoch.
        deadline_ms: i64,
        /// What to tell the session.
        command: SessionCommand,
    },
    /// Drop a countdown that can no longer matter (its session left the queue).
    Disarm {
        /// The session.
        session: SessionId,
        /// Which countdown.
        kind: TimerKind,
    },
    /// How many timers are pending.
    Pending(ractor::RpcReplyPort<usize>),
    /// Fault injection: fail as if the handler had panicked (the wheel is lost; the
    /// supervisor re-arms every deadline from the sessions' state).
    Fail,
}

/// The timer actor of one app.
pub struct TimerActor;

/// Startup arguments.
pub struct TimerArgs {
    /// Where sessions are found (and waiting ones woken).
    pub shared: Shared,
    /// The engine clock, mapping deadlines to tokio instants.
    pub clock: Clock,
}

/// State: the channel into the wheel task.
pub struct TimerState {
    wheel: mpsc::UnboundedSender<WheelOp>,
    task: tokio::task::JoinHandle<()>,
    clock: Clock,
}

enum WheelOp {
    Arm(SessionId, TimerKind, tokio::time::Instant, SessionCommand),
    Disarm(SessionId, TimerKind),
    Pending(ractor::RpcReplyPort<usize>),
}

impl Actor for TimerActor {
    type Msg = TimerMsg;
    type State = TimerState;
    type Arguments = TimerArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<TimerMsg>,
        args: TimerArgs,
    ) -> Result<TimerState, ActorProcessingErr> {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run_wheel(rx, args.shared));
        Ok(TimerState {
            wheel: tx,
            task,
            clock: args.clock,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<TimerMsg>,
        message: TimerMsg,
        state: &mut TimerState,
    ) -> Result<(), ActorProcessingErr> {
        let op = match message {
            TimerMsg::Arm {
                session,
                kind,
                deadline_ms,
                command,
            } => WheelOp::Arm(session, kind, state.clock.instant_at(deadline_ms), command),
            TimerMsg::Disarm { session, kind } => WheelOp::Disarm(session, kind),
            TimerMsg::Pending(reply) => WheelOp::Pending(reply),
            TimerMsg::Fail => return Err("fault injected".into()),
        };
        state.wheel.send(op).map_err(|_| "timer wheel stopped")?;
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<TimerMsg>,
        state: &mut TimerState,
    ) -> Result<(), ActorProcessingErr> {
        state.task.abort();
        Ok(())
    }
}

async fn run_wheel(mut ops: mpsc::UnboundedReceiver<WheelOp>, shared: Shared) {
    let mut wheel: DelayQueue<(SessionId, TimerKind)> = DelayQueue::new();
    let mut armed: HashMap<(SessionId, TimerKind), (Key, SessionCommand)> = HashMap::new();
    loop {
        tokio::select! {
            op = ops.recv() => match op {
                None => return,
                Some(WheelOp::Arm(session, kind, at, command)) => {
                    let key = (session, kind);
                    if let Some((old, _)) = armed.remove(&key) {
                        wheel.remove(&old);
                    }
                    let k = wheel.insert_at(key, at);
                    armed.insert(key, (k, command));
                }
                Some(WheelOp::Disarm(session, kind)) => {
                    if let Some((old, _)) = armed.remove(&(session, kind)) {
                        wheel.remove(&old);
                    }
                }
                Some(WheelOp::Pending(reply)) => {
                    let _ = reply.send(armed.len());
                }
            },
            Some(expired) = std::future::poll_fn(|cx| wheel.poll_expired(cx)), if !wheel.is_empty() => {
                let key = expired.into_inner();
                let session = |id| match key.1 {
                    // A queued session is passivated while it waits; its limit wakes it.
                    TimerKind::QueueWait => shared.session_ref(id),
                    TimerKind::Offer | TimerKind::Reply | TimerKind::ReplyReminder => {
                        shared.registry.awake_session(id)
                    }
                };
                if let Some((_, command)) = armed.remove(&key)
                    && let Some(session) = session(key.0)
                {
                    let _ = session.cast(SessionMsg::Command(command, None));
                }
            }
        }
    }
}

/// Arms the queue wait limit of a session waiting without an actor (after a replay, or
/// when its group or the timers were rebuilt): awake sessions arm their own timers.
pub(crate) fn arm_waiting(shared: &Shared, state: &SessionState) {
    let Some(timers) = shared.registry.timers.get(&state.app) else {
        return;
    };
    for timer in state.pending_timers() {
        if let SessionAction::ArmQueueTimer { deadline_ms } = timer {
            let _ = timers.cast(TimerMsg::Arm {
                session: state.id,
                kind: TimerKind::QueueWait,
                deadline_ms,
                command: SessionCommand::QueueWaitExpired { deadline_ms },
            });
        }
    }
}
