//! `helpline log export` and `helpline log verify`: the log as data, and the log checked.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use helpline::clock::stopwatch;
use helpline::domain::event::Event;
use helpline::domain::flow::SYSTEM_PARAMS;
use helpline::log::{EventLog, LogOptions};

/// Writes every envelope with `seq >= from` to stdout, one JSON object per line, with
/// password, token and API key hashes redacted, and the bodies and answers of flows'
/// interface calls (and the flows' variables) too unless `unredacted`.
pub fn export(data: &Path, json: bool, from: u64, unredacted: bool) -> anyhow::Result<ExitCode> {
    if !json {
        anyhow::bail!("log export writes JSON lines only: pass --json");
    }
    let log = crate::open_log(data, LogOptions::default())?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut written = 0u64;
    let result = (|| -> anyhow::Result<()> {
        for envelope in log.read_from(from) {
            let mut envelope = envelope.context("cannot read the event log")?;
            if let Some(event) = envelope.event.redacted() {
                envelope.event = event;
            }
            if !unredacted {
                redact_call(&mut envelope.event);
            }
            serde_json::to_writer(&mut out, &envelope)?;
            out.write_all(b"\n")?;
            written += 1;
        }
        out.flush()?;
        Ok(())
    })();
    match result {
        // A reader that stops early (`| head`) is not an error of the export.
        Err(e) if is_broken_pipe(&e) => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e),
        Ok(()) => {
            tracing::debug!(written, from, "exported");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// What replaces a call's body or answer in an export.
const REDACTED_CALL: &str = "redacted (log export --unredacted shows it)";

/// Blanks what a flow's interface call sent and got: the user's answers, and whatever the
/// customer's system returned about them. An export travels further than the log. The
/// flow's variables hold the same (the calls' bodies are made of them, their answers are
/// read into them): all but the system parameters are blanked too.
fn redact_call(event: &mut Event) {
    match event {
        Event::FlowCallRequested { body, .. } => *body = REDACTED_CALL.to_owned(),
        Event::FlowCallAnswered {
            answer: Some(answer),
            ..
        } => *answer = REDACTED_CALL.to_owned(),
        Event::FlowStepped { state, .. } => {
            for (name, value) in state.vars.iter_mut() {
                if !SYSTEM_PARAMS.contains(&name.as_str()) && !value.is_empty() {
                    *value = REDACTED_CALL.to_owned();
                }
            }
        }
        _ => {}
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                .is_some_and(|k| k == std::io::ErrorKind::BrokenPipe)
    })
}

/// Checks the log (checksums, density, stream index) and the routing invariants of its
/// fold; prints the report and the replay speed. Fails on any problem.
pub fn verify(data: &Path) -> anyhow::Result<ExitCode> {
    let log = crate::open_log(data, LogOptions::default())?;
    let report = log.verify().context("cannot verify the event log")?;
    println!("{report}");
    let mut problems = report.problems.len();

    let watch = stopwatch();
    let folded = crate::fold(&log, None);
    let elapsed = watch.elapsed();
    match folded {
        Ok((world, events)) => {
            let secs = elapsed.as_secs_f64().max(1e-9);
            println!(
                "replay: {events} events in {:.1} ms ({:.0} events/s); {} apps, {} agents, \
                 {} groups, {} live sessions, {} ended",
                secs * 1e3,
                events as f64 / secs,
                world.apps.len(),
                world.agents.len(),
                world.groups.len(),
                world.sessions.len(),
                world.ended_sessions
            );
            if events != report.events {
                problems += 1;
                println!(
                    "problem: replay folded {events} events but verify counted {}",
                    report.events
                );
            }
            match world.check_invariants() {
                Ok(()) => println!("invariants: ok"),
                Err(e) => {
                    problems += 1;
                    println!("problem: invariant broken: {e}");
                }
            }
        }
        Err(e) => {
            problems += 1;
            println!("problem: replay failed: {e:#}");
        }
    }
    if problems == 0 {
        println!("log ok");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("log has {problems} problems");
        Ok(ExitCode::FAILURE)
    }
}
