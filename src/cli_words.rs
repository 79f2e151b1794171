//! Events and routing decisions in words, for `helpline replay`: an auditor reads these
//! lines to answer "what happened to this chat, and why this agent?".

use std::time::{Duration, UNIX_EPOCH};

use helpline::domain::event::{
    AgentStatus, Envelope, Event, LogoutCause, MissCause, QueueCause, StatusCause, TransferTarget,
};
use helpline::domain::routing::{ChoiceRule, RoutingDecision};
use helpline::domain::settings::BasicRouting;

/// An instant in ms since the epoch as RFC 3339 with milliseconds.
pub fn time(at_ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(at_ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}

/// A span of milliseconds in words (`1m 3s 200ms`).
pub fn span(ms: i64) -> String {
    humantime::format_duration(Duration::from_millis(ms.max(0) as u64)).to_string()
}

/// One line per envelope: time, seq, event name, what it says.
pub fn line(envelope: &Envelope) -> String {
    format!(
        "{}  #{:<8} {:<20} {}",
        time(envelope.at_ms),
        envelope.seq,
        envelope.event.name(),
        event(&envelope.event)
    )
}

fn status(s: &AgentStatus) -> String {
    match s {
        AgentStatus::Rest { reason } => format!("rest ({reason})"),
        other => other.as_str().to_owned(),
    }
}

/// What an event says, in words.
pub fn event(event: &Event) -> String {
    match event {
        Event::AppCreated { name } => format!("app {name:?} created"),
        Event::SettingsChanged { settings } => format!(
            "settings: routing {}, {} reception, accept within {}s, redirect on timeout {}, \
             auto short break {}, user-reply timeout {}",
            policy(
                settings.routing.basic,
                settings.routing.last_receptionist_first
            ),
            if settings.reception.auto_reception {
                "auto"
            } else {
                "manual"
            },
            settings.reception.accept_timeout_secs,
            on_off(settings.reception.redirect_on_timeout),
            on_off(settings.reception.auto_short_break),
            match settings.user_reply_timeout_secs {
                0 => "off".to_owned(),
                secs => format!("{secs}s"),
            },
        ),
        Event::AgentCreated {
            name,
            nickname,
            staff_no,
        } => format!("agent {name:?} (shown as {nickname:?}, staff no {staff_no}) created"),
        Event::AgentLoggedIn { status: s } => format!("logged in, {}", status(s)),
        Event::AgentStatusChanged { status: s, cause } => format!(
            "status {} (by {})",
            status(s),
            match cause {
                StatusCause::Agent => "the agent",
                StatusCause::MissedOffer => "the system after a missed offer",
                StatusCause::Admin => "an administrator",
            }
        ),
        Event::AgentLoggedOut { cause } => format!(
            "logged out ({})",
            match cause {
                LogoutCause::Agent => "by the agent",
                LogoutCause::ForcedOffline => "forced offline",
                LogoutCause::NewLogin => "logged in elsewhere",
                LogoutCause::Deleted => "account deleted",
                LogoutCause::SignInEnded => "sign-in ended",
                LogoutCause::SignInExpired => "sign-in expired",
                LogoutCause::Disconnected => "workstation gone",
            }
        ),
        Event::AgentForcedOffline => "forced offline by an administrator".to_owned(),
        Event::AgentResumed => "forced offline lifted".to_owned(),
        Event::AgentDeleted => "account deleted".to_owned(),
        Event::GroupCreated {
            name,
            reception_limit,
        } => format!("skill group {name:?} created, reception limit {reception_limit}"),
        Event::GroupRenamed { name } => format!("renamed to {name:?}"),
        Event::GroupReceptionLimitChanged { reception_limit } => {
            format!("reception limit now {reception_limit}")
        }
        Event::GroupDeleted => "skill group deleted".to_owned(),
        Event::MemberAdded { agent, priority } => format!("{agent} joined, priority {priority}"),
        Event::MemberPriorityChanged { agent, priority } => {
            format!("{agent} now priority {priority}")
        }
        Event::MemberRemoved { agent } => format!("{agent} left"),
        Event::SessionCreated {
            channel,
            user,
            last_agent,
        } => format!(
            "user {user:?} wrote to {channel}{}",
            match last_agent {
                Some(a) => format!("; last served by {a}"),
                None => String::new(),
            }
        ),
        Event::SessionQueued {
            group,
            queued_at_ms,
            cause,
        } => format!(
            "queued in {group} ({}), place from {}",
            match cause {
                QueueCause::New => "new".to_owned(),
                QueueCause::Transfer { from } => format!("transferred by {from}"),
                QueueCause::Redirect { from } => format!("redirected from {from}"),
            },
            time(*queued_at_ms)
        ),
        Event::SessionOffered {
            agent,
            group,
            generation,
            deadline_ms,
            decision: d,
        } => format!(
            "offered to {agent}{}, offer {generation}, accept by {}; {}",
            via(*group),
            time(*deadline_ms),
            decision(d)
        ),
        Event::SessionAssigned {
            agent,
            group,
            decision: d,
        } => format!("assigned to {agent}{}; {}", via(*group), decision(d)),
        Event::SessionAccepted { agent } => format!("{agent} accepted"),
        Event::SessionOfferMissed {
            agent,
            generation,
            cause,
        } => format!(
            "{agent} missed offer {generation} ({})",
            match cause {
                MissCause::Timeout => "countdown ran out",
                MissCause::AgentUnavailable => "agent went away",
            }
        ),
        Event::SessionOfferOverdue { agent, generation } => {
            format!("offer {generation} to {agent} overdue, kept (redirect off)")
        }
        Event::SessionTransferred { from, to } => format!(
            "{from} transferred it to {}",
            match to {
                TransferTarget::Group(g) => g.to_string(),
                TransferTarget::Agent(a) => a.to_string(),
            }
        ),
        Event::SessionUserMessage { text } => format!("user: {text:?}"),
        Event::SessionAgentMessage {
            agent,
            text,
            reply_deadline_ms,
        } => format!(
            "{agent}: {text:?}{}",
            match reply_deadline_ms {
                Some(at) => format!(" (ends unless the user answers by {})", time(*at)),
                None => String::new(),
            }
        ),
        Event::SessionEnded { close_by } => format!("ended, closeBy {}", close_by.as_str()),
        Event::RoleSaved { role } => format!("role {} {:?} saved", role.id, role.name),
        Event::RoleDeleted { role } => format!("{role} deleted"),
        Event::AccountCreated {
            agent, email, role, ..
        } => format!("{agent} got account {email} with {role}"),
        Event::AccountProfileChanged {
            agent,
            name,
            nickname,
        } => format!("{agent} renamed {name:?} ({nickname:?})"),
        Event::AccountRoleChanged { agent, role } => format!("{agent} now has {role}"),
        Event::PasswordSet {
            agent,
            must_change_password,
            ..
        } => {
            if *must_change_password {
                format!("{agent}'s password was reset")
            } else {
                format!("{agent} changed its password")
            }
        }
        Event::SignedIn { agent, .. } => format!("{agent} signed in"),
        Event::SignedOut { agent, cause } => format!("{agent} signed out ({cause:?})"),
        Event::RestReasonSaved { reason } => format!(
            "rest reason {:?} {}",
            reason.name,
            if reason.enabled {
                "enabled"
            } else {
                "disabled"
            }
        ),
        Event::ProactiveRuleChanged { rule } => format!(
            "proactive contact {}, timeout {}s",
            on_off(rule.enabled),
            rule.timeout_secs
        ),
        Event::QuickReplySaved { reply } => format!("quick reply {:?} saved", reply.title),
        Event::QuickRepliesImported { replies } => {
            format!("{} quick replies imported", replies.len())
        }
        Event::QuickReplyDeleted { reply } => format!("{reply} deleted"),
        Event::SatisfactionSaved { config } => {
            format!("satisfaction configuration {:?} saved", config.name)
        }
        Event::SatisfactionDeleted { config } => format!("{config} deleted"),
        Event::ChannelSaved { channel } => format!("channel {:?} saved", channel.name),
        Event::ChannelDeleted { channel } => format!("{channel} deleted"),
        Event::WebsiteOriginsSet { channel, origins } => {
            format!("{channel} takes visitors from {origins:?}")
        }
        Event::WebsiteAppearanceSet {
            channel,
            launcher_position,
            theme_color,
        } => format!("{channel}'s launcher: {launcher_position:?}, {theme_color}"),
        Event::ExtensionSaved { extension } => {
            format!("extension {:?} saved", extension.name)
        }
        Event::ExtensionDeleted { extension } => format!("{extension} deleted"),
        Event::ApiKeyCreated { key, name, .. } => format!("{key} {name:?} created"),
        Event::ApiKeyRevoked { key } => format!("{key} revoked"),
        Event::ImSecretRotated { .. } => "IM secret rotated".to_owned(),
        Event::ConversationOpened { channel, user } => {
            format!("user {user:?} opened a conversation on {channel}")
        }
        Event::MessageStored { message } => format!("message {} stored", message.seq),
        Event::MessageUpdated { seq, .. } => format!("message {seq} updated"),
        Event::AttachmentStored { attachment: a } => format!(
            "attachment {} stored: {:?}, {}, {} bytes, sha256 {}",
            a.id, a.name, a.content_type, a.size, a.sha256
        ),
        Event::RatingInvited {
            session,
            menu_seq,
            expire_at_s,
            ..
        } => format!("{session} invited to rate (message {menu_seq}, until {expire_at_s})"),
        Event::SessionRated {
            session,
            value,
            label,
        } => format!("{session} rated {value} ({label:?})"),
        Event::SessionStartedByAgent {
            agent,
            group,
            answer_by_ms,
        } => format!(
            "started by {agent} (proactive, group {group}), ends unless the user answers by {}",
            time(*answer_by_ms)
        ),
        Event::SdkTokenIssued {
            agent,
            expires_at_ms,
            ..
        } => format!("SDK URL issued for {agent}, until {}", time(*expires_at_ms)),
        Event::SdkTokenIssuedBy {
            agent,
            expires_at_ms,
            issuer,
            ..
        } => {
            let by = match issuer {
                helpline::domain::event::Issuer::ApiKey { key } => format!("API key {key}"),
                helpline::domain::event::Issuer::Account { agent } => agent.to_string(),
            };
            format!(
                "SDK URL issued for {agent} by {by}, until {}",
                time(*expires_at_ms)
            )
        }
        Event::SdkTokenUsed { agent, .. } => format!("SDK URL signed {agent} in"),
        Event::FlowSaved {
            flow,
            name,
            version,
            ..
        } => format!("flow {flow} {name:?} saved as version {version}"),
        Event::FlowDeleted { flow } => format!("{flow} deleted"),
        Event::FaqSaved { entry } => format!("FAQ {} {:?} saved", entry.id, entry.question),
        Event::FaqDeleted { entry } => format!("{entry} deleted"),
        Event::FaqImported { entries } => format!("{} FAQ entries imported", entries.len()),
        Event::FlowStepped {
            session,
            flow,
            version,
            state,
        } => format!(
            "{session} ran {flow} v{version} to node {:?}, waiting for {}",
            state.node,
            match &state.wait {
                helpline::domain::flow::Wait::Begin => "its start".to_owned(),
                helpline::domain::flow::Wait::User => "the user".to_owned(),
                helpline::domain::flow::Wait::Call(k) => format!("call {k}"),
                helpline::domain::flow::Wait::Bot(k) => format!("bot answer {k}"),
                helpline::domain::flow::Wait::Done => "nothing (done)".to_owned(),
            }
        ),
        Event::FlowCallRequested {
            session,
            key,
            url,
            attempt,
            ..
        } => format!("{session} calls {url} (key {key}, attempt {attempt})"),
        Event::FlowCallAnswered {
            session,
            key,
            attempt,
            answer,
            error,
        } => match answer {
            Some(a) => format!("{session} call {key} attempt {attempt} answered {a}"),
            None => format!("{session} call {key} attempt {attempt} failed: {error}"),
        },
        Event::FlowHumanRequested { session, group, .. } => {
            format!("{session}'s flow asks for a human in {group}")
        }
        Event::FlowFinished {
            session,
            reply_timeout_secs,
            ..
        } => format!("{session}'s flow ended (user-reply timeout {reply_timeout_secs}s)"),
        Event::SessionReplyTimeoutSet { secs } => {
            format!("the flow set the user-reply timeout to {secs}s")
        }
        Event::ChannelTaskMessagesSet { channel, on } => {
            format!("{channel}'s flow speaks task messages (src 32, 33): {on}")
        }
        Event::SessionReplyReminded { deadline_ms } => {
            format!(
                "the user was reminded that the chat ends at {deadline_ms} ms unless it answers"
            )
        }
        Event::GroupQueueLimitsChanged {
            max_queue_wait_secs,
            max_queued,
            ..
        } => format!(
            "queue limits: wait {max_queue_wait_secs}s (0 off), at most {max_queued} waiting"
        ),
        Event::SessionQueueDeadlineSet { deadline_ms, .. } => {
            format!("waits in the queue until {deadline_ms} at most")
        }
        Event::SessionQueueTimedOut { group, .. } => {
            format!("waited in {group} past its queue wait limit")
        }
        Event::SessionQueueRefused {
            group, max_queued, ..
        } => format!("refused: {group}'s queue was full ({max_queued} waiting)"),
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn via(group: Option<helpline::domain::ids::GroupId>) -> String {
    match group {
        Some(g) => format!(" via {g}"),
        None => " directly".to_owned(),
    }
}

fn policy(basic: BasicRouting, last_receptionist_first: bool) -> String {
    let basic = match basic {
        BasicRouting::Fifo => "fifo",
        BasicRouting::AgentPriority => "agent priority",
    };
    if last_receptionist_first {
        format!("{basic} + last receptionist first")
    } else {
        basic.to_owned()
    }
}

/// A routing decision in words: why this agent and not another.
pub fn decision(d: &RoutingDecision) -> String {
    let rule = match d.rule {
        ChoiceRule::OnlyCandidate => "only candidate",
        ChoiceRule::LastReceptionist => "last receptionist",
        ChoiceRule::Priority => "higher priority",
        ChoiceRule::LeastLoaded => "least loaded",
        ChoiceRule::LongestIdle => "longest idle",
        ChoiceRule::LowestId => "lowest id (tie)",
        ChoiceRule::Direct => "named by a transfer",
        ChoiceRule::ExcludedFallback => "missed it before, nobody else could take it",
    };
    let runner_up = match d.runner_up {
        Some(a) => a.to_string(),
        None => "none".to_owned(),
    };
    let s = &d.skipped;
    let refused = if d.refused.is_empty() {
        "none".to_owned()
    } else {
        d.refused
            .iter()
            .map(|r| format!("{} ({})", r.agent, helpline::engine::describe(&r.reason)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "policy {}, rule {rule}, runner-up {runner_up}, agent held {} before, {} considered, \
         skipped {} offline / {} not free / {} at limit / {} excluded, refusals: {refused}",
        policy(d.policy.basic, d.policy.last_receptionist_first),
        d.held,
        d.considered,
        s.offline,
        s.not_free,
        s.at_limit,
        s.excluded,
    )
}
