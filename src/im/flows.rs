//! The shell of session service flows: a session opened on a channel with a bound flow
//! runs it, step by step, in its conversation.
//!
//! Every step is decided by the pure interpreter (`crate::domain::flow`), then appended to
//! the conversation's stream in one append: the desk's messages it sends (texts, src 15
//! menus, src 21 forms), the flow's new state whole, and its intents (an HTTP call due, a
//! human asked for, the end reached). Only once that is durable are the messages delivered
//! and the intents carried out, so a restart finds the flow at the same node with the same
//! variables, and carries out again whatever it had not finished:
//!
//! - **Interface calls go through a durable outbox.** A call is first an event
//!   (`FlowCallRequested`, its key the same on every attempt), then an HTTP POST of its
//!   JSON with `Idempotency-Key: <session>/<key>`; its answer, failure or timeout is an
//!   event (`FlowCallAnswered`) appended with the step it causes. After a restart a call
//!   requested and not answered is made again with the same key; a call whose answer is in
//!   the log never is.
//! - A human asked for, or the end reached, is carried out again when the session is still
//!   open (it did not reach its queue before the restart).
//!
//! Texts the user writes while the flow waits for them are its input; the queue message,
//! the "transfer successful" message and the termination messages are told as the session's
//! news comes (see `Hub::conversation_news`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::ApiState;
use crate::api::error::ApiError;
use crate::domain::address::AllowList;
use crate::domain::conversation::{Message, Sender};
use crate::domain::directory::AppDirectory;
use crate::domain::event::{CloseBy, Event};
use crate::domain::flow::{
    self, Act, Flow, FlowRun, FlowState, Input, PendingCall, Runner, Wait, call_reply,
    webhook_reply,
};
use crate::domain::ids::{AgentId, ConversationId, FlowId, SessionId};
use crate::domain::session::{Phase, SessionCommand};
use crate::im::faq::FaqBots;
use crate::im::hub::{Hub, Slot};
use crate::im::outbound::Outbound;
use crate::im::protocol::DeskMessage;

/// Largest answer an interface call or webhook bot may give.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What running flows needs besides the hub: the HTTP client of the outbox, the FAQ bots'
/// indexes, and the cancellation of calls in flight when the hub goes away.
pub struct FlowRuntime {
    /// The outbound client, built from the operator's allow list when the hub starts.
    outbound: OnceLock<Outbound>,
    /// The FAQ bots' indexes.
    pub faq: FaqBots,
    state: OnceLock<Weak<ApiState>>,
    cancel: CancellationToken,
}

impl Default for FlowRuntime {
    fn default() -> Self {
        Self {
            outbound: OnceLock::new(),
            faq: FaqBots::default(),
            state: OnceLock::new(),
            cancel: CancellationToken::new(),
        }
    }
}

impl Drop for FlowRuntime {
    fn drop(&mut self) {
        // Calls in flight belong to this hub: their answers would find no one.
        self.cancel.cancel();
    }
}

/// The flow and version a run uses, from the directory.
fn flow_of(dir: &AppDirectory, flow: FlowId, version: u32) -> Option<Arc<Flow>> {
    dir.flows.get(&flow)?.version(version)?.flow.clone()
}

/// The system parameters a flow knows from its start.
fn system_vars(dir: &AppDirectory, slot: &Slot, session: SessionId) -> BTreeMap<String, String> {
    let entry = &slot.entry;
    let channel_name = dir
        .channels
        .get(&entry.channel)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    BTreeMap::from([
        ("ChannelId".to_owned(), entry.channel.0.to_string()),
        ("ChannelName".to_owned(), channel_name),
        ("UserId".to_owned(), entry.user.clone()),
        (
            "SystemSessionId".to_owned(),
            crate::domain::service::protocol_session_id(session),
        ),
        ("WaitNo".to_owned(), String::new()),
        ("StaffNo".to_owned(), String::new()),
        ("StaffNickName".to_owned(), String::new()),
    ])
}

impl FlowRuntime {
    /// Remembers the state calls report back to (set once, when the hub starts).
    pub(crate) fn attach(&self, state: &Arc<ApiState>) {
        let _ = self.state.set(Arc::downgrade(state));
        // Validated with the configuration: an entry that does not parse never gets here.
        let allow = AllowList::parse(&state.config.outbound.allow).unwrap_or_default();
        let _ = self.outbound.set(Outbound::new(allow));
    }

    /// Starts the channel's flow for a session just opened, under the conversation's lock.
    /// False when the flow cannot run (its version no longer validates).
    pub(crate) async fn begin(
        &self,
        state: &ApiState,
        dir: &AppDirectory,
        slot: &mut Slot,
        session: SessionId,
        flow: FlowId,
    ) -> Result<bool, ApiError> {
        let Some(record) = dir.live_flow(flow) else {
            return Ok(false);
        };
        let version = record.current().version;
        let Some(graph) = flow_of(dir, flow, version) else {
            return Ok(false);
        };
        let start = FlowState::new(&graph, system_vars(dir, slot, session));
        self.step(
            state,
            dir,
            slot,
            session,
            (flow, version, &graph),
            &start,
            Input::Begin,
            Vec::new(),
        )
        .await?;
        Ok(true)
    }

    /// Gives the live flow a text the user wrote, if it waits for one.
    pub(crate) async fn user_text(
        &self,
        state: &ApiState,
        slot: &mut Slot,
        text: &str,
    ) -> Result<(), ApiError> {
        let Some(run) = slot
            .entry
            .live_flow()
            .filter(|r| r.waits_for_user())
            .cloned()
        else {
            return Ok(());
        };
        let dir = state.desk.app(slot.entry.app)?;
        let Some(graph) = flow_of(&dir, run.flow, run.version) else {
            return Ok(());
        };
        let input = Input::UserText(text.to_owned());
        self.step(
            state,
            &dir,
            slot,
            run.session,
            (run.flow, run.version, &graph),
            &run.state,
            input,
            Vec::new(),
        )
        .await
    }

    /// One step: decided, appended with `before` (an answer it follows), delivered, acted on.
    #[allow(clippy::too_many_arguments)]
    async fn step(
        &self,
        state: &ApiState,
        dir: &AppDirectory,
        slot: &mut Slot,
        session: SessionId,
        (id, version, graph): (FlowId, u32, &Flow),
        from: &FlowState,
        input: Input,
        before: Vec<Event>,
    ) -> Result<(), ApiError> {
        let faq = |text: &str, threshold: f32| self.faq.answer(dir, text, threshold);
        let runner = Runner {
            flow: graph,
            id,
            version,
            session,
            faq: &faq,
            task_messages: dir.task_messages.contains(&slot.entry.channel),
        };
        let now = state.clock.now_ms();
        // A webhook bot's or an interface call's answer: the user stops seeing it think.
        let answer = matches!(input, Input::CallDone { .. } | Input::BotDone { .. });
        let (advance, _) = runner.advance(from, input, now).map_err(|e| {
            tracing::error!(%session, error = %e, "the flow could not step");
            ApiError::Internal("a validated flow could not step")
        })?;
        let mut messages = Vec::with_capacity(advance.say.len());
        let mut seq = slot.entry.messages.last_seq();
        for body in advance.say {
            if body.check().is_err() {
                continue;
            }
            seq += 1;
            messages.push(Message {
                seq,
                msg_id: format!("flow-{seq}"),
                sender: Sender::Desk { agent: None },
                at_ms: now,
                body,
            });
        }
        let mut events = before;
        events.extend(
            messages
                .iter()
                .map(|m| Event::MessageStored { message: m.clone() }),
        );
        events.extend(advance.events);
        Hub::store(state, slot, events).await?;
        let calls = advance.acts.iter().any(|a| matches!(a, Act::Call(_)));
        if answer && !calls {
            state
                .hub
                .tell(dir, slot, &DeskMessage::Thinking { thinking: false }, now);
        }
        for message in &messages {
            state.hub.deliver(dir, slot, message, false);
        }
        // The desk waits for a webhook bot or an interface call: the user sees it thinking
        // (src 35, a flag) until the answer comes.
        if calls && !answer {
            state
                .hub
                .tell(dir, slot, &DeskMessage::Thinking { thinking: true }, now);
        }
        self.act(state, slot.entry.id, session, advance.acts).await;
        Ok(())
    }

    /// Carries out a step's intents, once durable.
    async fn act(
        &self,
        state: &ApiState,
        conversation: ConversationId,
        session: SessionId,
        acts: Vec<Act>,
    ) {
        let engine = &state.desk.engine;
        for act in acts {
            let command = match act {
                Act::Call(call) => {
                    self.spawn_call(conversation, session, call);
                    continue;
                }
                Act::RequestHuman(group) => SessionCommand::RequestHuman { group },
                Act::ReplyTimeout(secs) => SessionCommand::SetReplyTimeout { secs },
                Act::EndSession => SessionCommand::End {
                    close_by: CloseBy::Flow,
                    agent: None,
                },
            };
            if let Err(e) = engine.session(session, command.clone()).await {
                tracing::warn!(%session, ?command, error = %e, "the flow's request was refused");
                if matches!(command, SessionCommand::RequestHuman { .. }) {
                    // The group is gone: nobody can serve the user; end rather than strand.
                    let end = SessionCommand::End {
                        close_by: CloseBy::Flow,
                        agent: None,
                    };
                    let _ = engine.session(session, end).await;
                }
            }
        }
    }

    /// Makes a call of the outbox in the background; its outcome steps the flow.
    fn spawn_call(&self, conversation: ConversationId, session: SessionId, call: PendingCall) {
        let Some(weak) = self.state.get().cloned() else {
            tracing::error!(%session, "no hub to report the call to");
            return;
        };
        let Some(outbound) = self.outbound.get().cloned() else {
            return;
        };
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let outcome = tokio::select! {
                outcome = post(&outbound, session, &call) => outcome,
                () = cancel.cancelled() => return,
            };
            let Some(state) = weak.upgrade() else { return };
            if let Err(e) = answered(&state, conversation, session, &call, outcome).await {
                tracing::warn!(%session, key = %call.key, error = %e, "a call's answer was not recorded");
            }
        });
    }

    /// After a restart: carries out what every live flow had not finished.
    pub(crate) async fn resume(&self, state: &ApiState) {
        let mut runs = Vec::new();
        for id in state.hub.conversation_ids() {
            let Some(slot) = state.hub.lock(id).await else {
                continue;
            };
            if let Some(session) = slot.entry.service.session {
                runs.push((id, session, slot.entry.live_flow().cloned()));
            }
        }
        for (conversation, session, run) in runs {
            let open = state
                .desk
                .engine
                .session_state(session)
                .await
                .is_ok_and(|s| s.phase == Phase::Open);
            match run {
                Some(run) => {
                    let acts = flow::redo(&run, open);
                    self.act(state, conversation, session, acts).await;
                }
                // Opened, and stopped before its flow took a first step.
                None if open => {
                    if let Err(e) = self.restart_open(state, conversation, session).await {
                        tracing::warn!(%session, error = %e, "an open session was not resumed");
                    }
                }
                None => {}
            }
        }
    }

    async fn restart_open(
        &self,
        state: &ApiState,
        conversation: ConversationId,
        session: SessionId,
    ) -> Result<(), ApiError> {
        let Some(mut slot) = state.hub.lock(conversation).await else {
            return Ok(());
        };
        let dir = state.desk.app(slot.entry.app)?;
        let channel = dir.channels.get(&slot.entry.channel).cloned();
        let flow = channel.as_ref().and_then(|c| c.flow);
        if let Some(flow) = flow
            && self.begin(state, &dir, &mut slot, session, flow).await?
        {
            return Ok(());
        }
        let command = match channel.and_then(|c| c.skill_group) {
            Some(group) => SessionCommand::RequestHuman { group },
            None => SessionCommand::End {
                close_by: CloseBy::Flow,
                agent: None,
            },
        };
        state.desk.engine.session(session, command).await?;
        Ok(())
    }
}

/// What a call came to: its answer's body, or why it failed.
type Outcome = Result<String, String>;

async fn post(outbound: &Outbound, session: SessionId, call: &PendingCall) -> Outcome {
    outbound.check_url(&call.url)?;
    let key = format!("{session}/{}", call.key);
    let response = outbound
        .http()
        .post(&call.url)
        .header("idempotency-key", key)
        .header("content-type", "application/json; charset=utf-8")
        .timeout(Duration::from_millis(u64::from(call.timeout_ms)))
        .body(call.body.clone())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("timed out after {} ms", call.timeout_ms)
            } else {
                // The cause (a refused address, a refused connection) is in the source chain.
                let mut message = format!("the call failed: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                message
            }
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("answered {status}"));
    }
    // Read at most the cap: an endless or huge answer costs no more memory than a big one.
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("the answer could not be read: {e}"))?
    {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!("the answer is over {MAX_ANSWER_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| "the answer is not UTF-8".to_owned())
}

/// Records a call's outcome with the step it causes, if the flow still waits for it.
async fn answered(
    state: &ApiState,
    conversation: ConversationId,
    session: SessionId,
    call: &PendingCall,
    outcome: Outcome,
) -> Result<(), ApiError> {
    let Some(mut slot) = state.hub.lock(conversation).await else {
        return Ok(());
    };
    let Some(run) = slot.entry.live_flow().cloned() else {
        return Ok(());
    };
    if run.session != session || run.call.as_ref() != Some(call) {
        // Answered already (a call made twice across a restart), or the session is gone.
        return Ok(());
    }
    let dir = state.desk.app(slot.entry.app)?;
    let Some(graph) = flow_of(&dir, run.flow, run.version) else {
        return Ok(());
    };
    let (answer, error) = match &outcome {
        Ok(body) => (Some(body.clone()), String::new()),
        Err(e) => (None, e.clone()),
    };
    let input = match &run.state.wait {
        Wait::Call(key) => Input::CallDone {
            key: key.clone(),
            result: call_reply(answer.as_deref(), &error),
        },
        Wait::Bot(key) => Input::BotDone {
            key: key.clone(),
            result: outcome.and_then(|body| webhook_reply(&body)),
        },
        _ => return Ok(()),
    };
    let record = Event::FlowCallAnswered {
        session,
        key: call.key.clone(),
        attempt: call.attempt,
        answer,
        error,
    };
    state
        .hub
        .flows
        .step(
            state,
            &dir,
            &mut slot,
            session,
            (run.flow, run.version, &graph),
            &run.state,
            input,
            vec![record],
        )
        .await
}

/// A flow template with what the shell learnt since (`${WaitNo}`, `${StaffNo}`,
/// `${StaffNickName}`).
pub fn render_with(run: &FlowRun, template: &str, extra: &[(&str, String)]) -> String {
    let mut vars = run.state.vars.clone();
    for (k, v) in extra {
        vars.insert((*k).to_owned(), v.clone());
    }
    flow::render(template, &vars)
}

/// The "transfer successful" message for `agent`, if the flow has one.
pub fn success_message(dir: &AppDirectory, run: &FlowRun, agent: AgentId) -> Option<String> {
    let human = run.human.as_ref()?;
    if human.success_message.trim().is_empty() {
        return None;
    }
    let record = dir.agents.get(&agent);
    let extra = [
        (
            "StaffNickName",
            record.map(|a| a.nickname.clone()).unwrap_or_default(),
        ),
        (
            "StaffNo",
            record.map(|a| a.staff_no.clone()).unwrap_or_default(),
        ),
    ];
    Some(render_with(run, &human.success_message, &extra))
}
