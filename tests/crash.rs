//! Crash test through the CLI: `kill -9` a loaded engine and check that nothing it had
//! acknowledged is lost.
//!
//! For each seed, `helpline loadgen --durability fsync` runs against a fresh log; it prints
//! `ack <kind> <session>` only after an engine call returned `Ok`, that is once the call's
//! events were durable. After a seed-chosen number of acks the process is killed with
//! SIGKILL. The log is then reopened in-process: every acked operation must have its event
//! in the log (open: `SessionCreated`, accept: `SessionAccepted`, end: `SessionEnded`,
//! transfer: `SessionTransferred`), `verify` must find no problem, the fold must hold the
//! routing invariants, and `helpline log verify` and `helpline replay` must agree. Finally
//! loadgen is restarted on the crashed log for a few more acks, killed again, and checked
//! again: the engine restarts from whatever a crash left.
//!
//! `CRASH_SEED=N cargo test --test crash` runs one seed (a failure prints its seed).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use helpline::domain::event::Event;
use helpline::domain::ids::StreamKind;
use helpline::domain::world::World;
use helpline::log::{Durability, EventLog, SledLog};

const BIN: &str = env!("CARGO_BIN_EXE_helpline");
/// Seeds run by default.
const SEEDS: u64 = 20;
/// Fewest and most acks before the kill.
const MIN_ACKS: u64 = 50;
const MAX_ACKS: u64 = 2_000;
/// Acks wanted from the restarted loadgen.
const RESTART_ACKS: u64 = 30;
/// Longest wait for one ack line before the run is declared stuck.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// Acked sessions replayed through `helpline replay` per round.
const REPLAY_SAMPLE: usize = 2;

/// (session id, ack kind) -> how many times it was acked.
type Acks = HashMap<(u64, String), u32>;

/// splitmix64: a seed's derived numbers.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Prints the seed of a round that panics.
struct SeedOnPanic(u64);

impl Drop for SeedOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "crash test failed for seed {} (rerun with CRASH_SEED={})",
                self.0, self.0
            );
        }
    }
}

/// Runs loadgen on `data` until `wanted` acks were read, kills it with SIGKILL and returns
/// every ack it printed (those still in the pipe after the kill too: they were durable).
fn loadgen_until_killed(
    data: &Path,
    seed: u64,
    wanted: u64,
    stderr: &Path,
) -> Result<Acks, String> {
    let err =
        File::create(stderr).map_err(|e| format!("cannot create {}: {e}", stderr.display()))?;
    let mut child = Command::new(BIN)
        .args([
            "loadgen",
            "--durability",
            "fsync",
            "--seed",
            &seed.to_string(),
            "--data",
        ])
        .arg(data)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start loadgen: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut acks = Acks::new();
    let mut record = |line: String| -> Result<(), String> {
        let mut words = line.split_whitespace();
        match (
            words.next(),
            words.next(),
            words.next().map(str::parse::<u64>),
        ) {
            (Some("ack"), Some(kind), Some(Ok(session))) => {
                *acks.entry((session, kind.to_owned())).or_default() += 1;
                Ok(())
            }
            _ => Err(format!(
                "loadgen printed {line:?}, not `ack <kind> <session>`"
            )),
        }
    };
    let mut outcome = Ok(());
    for n in 0..wanted {
        match rx.recv_timeout(ACK_TIMEOUT) {
            Ok(line) => {
                if let Err(e) = record(line) {
                    outcome = Err(e);
                    break;
                }
            }
            Err(e) => {
                outcome = Err(format!("loadgen gave {n} of {wanted} acks, then: {e}"));
                break;
            }
        }
    }
    // SIGKILL: no chance to flush or shut down anything.
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    for line in rx.try_iter() {
        record(line)?;
    }
    outcome.map_err(|e| format!("{e}\nloadgen stderr:\n{}", tail(stderr)))?;
    Ok(acks)
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

fn ack_kind(event: &Event) -> Option<&'static str> {
    match event {
        Event::SessionCreated { .. } => Some("open"),
        Event::SessionAccepted { .. } => Some("accept"),
        Event::SessionEnded { .. } => Some("end"),
        Event::SessionTransferred { .. } => Some("transfer"),
        _ => None,
    }
}

/// Opens the crashed log in-process and checks it against the acks; returns the number of
/// events in it.
fn check_log(data: &Path, acks: &Acks) -> Result<u64, String> {
    let (log, report) =
        SledLog::open(data, Durability::Fsync).map_err(|e| format!("reopen failed: {e}"))?;
    let verified = log.verify().map_err(|e| format!("verify failed: {e}"))?;
    if !verified.problems.is_empty() {
        return Err(format!(
            "verify found problems: {:?} (open: {report:?})",
            verified.problems
        ));
    }
    let mut world = World::default();
    let mut logged = Acks::new();
    let mut events = 0u64;
    for envelope in log.read_from(1) {
        let envelope = envelope.map_err(|e| format!("read failed after {events} events: {e}"))?;
        if envelope.stream.kind == StreamKind::Session
            && let Some(kind) = ack_kind(&envelope.event)
        {
            *logged
                .entry((envelope.stream.id, kind.to_owned()))
                .or_default() += 1;
        }
        world.apply(&envelope);
        events += 1;
    }
    if events != verified.events {
        return Err(format!(
            "read {events} events, verify counted {}",
            verified.events
        ));
    }
    world
        .check_invariants()
        .map_err(|e| format!("invariant broken after the crash: {e}"))?;
    let mut lost: Vec<String> = acks
        .iter()
        .filter_map(|((session, kind), n)| {
            let found = logged.get(&(*session, kind.clone())).copied().unwrap_or(0);
            (found < *n).then(|| format!("{kind} of session-{session} acked {n}x, logged {found}x"))
        })
        .collect();
    if !lost.is_empty() {
        lost.sort();
        return Err(format!(
            "{} acked operations lost (log has {events} events; open: {report:?}): {}",
            lost.len(),
            lost.join("; ")
        ));
    }
    Ok(events)
}

/// `helpline log verify` must pass; `helpline replay --session` must show a sample of
/// acked sessions, one JSON envelope per event.
fn check_cli(data: &Path, acks: &Acks) -> Result<(), String> {
    let verify = Command::new(BIN)
        .args(["log", "verify", "--data"])
        .arg(data)
        .output()
        .map_err(|e| format!("cannot run log verify: {e}"))?;
    if !verify.status.success() {
        return Err(format!(
            "helpline log verify failed ({}):\n{}{}",
            verify.status,
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        ));
    }
    let mut sessions: Vec<u64> = acks.keys().map(|(s, _)| *s).collect();
    sessions.sort_unstable();
    sessions.dedup();
    let step = (sessions.len() / REPLAY_SAMPLE).max(1);
    for session in sessions.iter().step_by(step).take(REPLAY_SAMPLE) {
        let replay = Command::new(BIN)
            .args([
                "replay",
                "--json",
                "--session",
                &session.to_string(),
                "--data",
            ])
            .arg(data)
            .output()
            .map_err(|e| format!("cannot run replay: {e}"))?;
        if !replay.status.success() {
            return Err(format!(
                "replay of session-{session} failed: {}",
                String::from_utf8_lossy(&replay.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&replay.stdout);
        let mut kinds = Vec::new();
        for line in text.lines() {
            let value: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| format!("replay printed {line:?}, not JSON: {e}"))?;
            kinds.push(
                value["event"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        if kinds.first().map(String::as_str) != Some("SessionCreated") {
            return Err(format!("replay of session-{session} starts with {kinds:?}"));
        }
    }
    Ok(())
}

fn round(seed: u64) -> Result<(), String> {
    let root = std::env::temp_dir().join(format!("helpline-crash-{}-{seed}", std::process::id()));
    round_in(seed, &root).map_err(|e| format!("{e}\n(log and stderr kept in {})", root.display()))
}

fn round_in(seed: u64, root: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let data: PathBuf = root.join("data");
    let wanted = MIN_ACKS + mix(seed) % (MAX_ACKS - MIN_ACKS + 1);

    let mut acks = loadgen_until_killed(&data, seed, wanted, &root.join("loadgen-1.stderr"))?;
    let events = check_log(&data, &acks)?;
    check_cli(&data, &acks)?;

    // The engine restarts from the crashed log, plays out what was live, and goes on.
    let more = loadgen_until_killed(&data, seed, RESTART_ACKS, &root.join("loadgen-2.stderr"))?;
    let more_count: u32 = more.values().sum();
    for (key, n) in more {
        *acks.entry(key).or_default() += n;
    }
    let events_after = check_log(&data, &acks)?;
    if events_after <= events {
        return Err(format!(
            "restart added no events ({events} before, {events_after} after)"
        ));
    }
    eprintln!(
        "seed {seed}: killed after {wanted}+ acks ({events} events), restarted for {more_count} \
         more acks ({events_after} events): nothing lost"
    );
    let _ = std::fs::remove_dir_all(root);
    Ok(())
}

#[test]
fn acknowledged_operations_survive_kill_9() {
    let seeds: Vec<u64> = match std::env::var("CRASH_SEED") {
        Ok(seed) => vec![seed.parse().expect("CRASH_SEED is a number")],
        Err(_) => (1..=SEEDS).collect(),
    };
    for seed in seeds {
        let _guard = SeedOnPanic(seed);
        if let Err(e) = round(seed) {
            panic!("seed {seed}: {e}");
        }
    }
}
