//! `helpline replay`: answers from the log alone, with no engine running.
//!
//! `--session ID` prints one session's whole life with every routing decision; `--until T`
//! folds the log up to an instant and prints every queue and every agent as they were.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use helpline::domain::ids::{SessionId, StreamId};
use helpline::domain::session::Phase;
use helpline::domain::world::World;
use helpline::log::{EventLog, LogOptions};

use crate::cli_words::{line, span, time};

/// Prints the life of `session`, in words or as JSON lines. An unknown session is an error.
pub fn session(data: &Path, session: u64, json: bool) -> anyhow::Result<ExitCode> {
    let log = crate::open_log(data, LogOptions::default())?;
    let id = SessionId(session);
    let envelopes = log
        .read_stream(StreamId::session(id), 1)
        .with_context(|| format!("cannot read {id} from the log"))?;
    if envelopes.is_empty() {
        anyhow::bail!(
            "{id} not found in the log at {} (last seq {})",
            data.display(),
            log.last_seq()
        );
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        for envelope in &envelopes {
            serde_json::to_writer(&mut out, envelope)?;
            out.write_all(b"\n")?;
        }
    } else {
        writeln!(
            out,
            "{id} of {}: {} events, {} to {}",
            envelopes[0].app,
            envelopes.len(),
            time(envelopes[0].at_ms),
            time(envelopes[envelopes.len() - 1].at_ms)
        )?;
        for envelope in &envelopes {
            writeln!(out, "{}", line(envelope))?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Prints every queue and every agent as they stood at `until_ms`.
pub fn until(data: &Path, until_ms: i64, json: bool) -> anyhow::Result<ExitCode> {
    let log = crate::open_log(data, LogOptions::default())?;
    let (world, events) = crate::fold(&log, Some(until_ms))?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &world)?;
        out.write_all(b"\n")?;
    } else {
        print_world(&mut out, &world, until_ms, events)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn print_world(
    out: &mut impl Write,
    world: &World,
    until_ms: i64,
    events: u64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "state at {}: {events} events folded (last seq {}), {} live sessions, {} ended",
        time(until_ms),
        world.last_seq,
        world.sessions.len(),
        world.ended_sessions
    )?;
    writeln!(out, "\nqueues:")?;
    let mut groups: Vec<_> = world.groups.values().collect();
    groups.sort_by_key(|g| g.id);
    for g in groups {
        let waiting = world.queue(g.id);
        writeln!(
            out,
            "  {} {:?} ({}, limit {}{}): {} waiting",
            g.id,
            g.name,
            g.app,
            g.reception_limit,
            if g.deleted { ", deleted" } else { "" },
            waiting.len()
        )?;
        for (place, sid) in waiting.iter().enumerate() {
            let s = &world.sessions[sid];
            let Phase::Queued { queued_at_ms, .. } = s.phase else {
                continue;
            };
            writeln!(
                out,
                "    {:>4}. {sid} (user {:?}) waiting {}",
                place + 1,
                s.user,
                span(until_ms - queued_at_ms)
            )?;
        }
    }
    writeln!(out, "\nagents:")?;
    let mut agents: Vec<_> = world.agents.values().collect();
    agents.sort_by_key(|a| a.id);
    for a in agents {
        let status = match &a.status {
            helpline::domain::event::AgentStatus::Rest { reason } => format!("rest ({reason})"),
            other => other.as_str().to_owned(),
        };
        let held: Vec<String> = a
            .sessions
            .iter()
            .map(|sid| match world.sessions.get(sid).map(|s| &s.phase) {
                Some(Phase::Offered { .. }) => format!("{sid} (offered)"),
                _ => sid.to_string(),
            })
            .collect();
        writeln!(
            out,
            "  {} {:?} ({}{}): {status}, {} in hand{}{}",
            a.id,
            a.name,
            a.app,
            if a.deleted { ", deleted" } else { "" },
            a.sessions.len(),
            if held.is_empty() { "" } else { ": " },
            held.join(", ")
        )?;
    }
    Ok(())
}
