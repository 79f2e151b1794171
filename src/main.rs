//! The `helpline` command: run the desk (`serve`), answer "what happened, and why?" from
//! the event log (`replay`, `log export`, `log verify`) and drive it with synthetic traffic
//! (`loadgen`).
//!
//! This file only parses the command line and hands each subcommand to its own file
//! (`cli_*.rs`); the things every subcommand shares (opening the log, folding it, exit
//! codes) live here.

mod cli_loadgen;
mod cli_log;
mod cli_replay;
mod cli_serve;
mod cli_words;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use helpline::domain::world::World;
use helpline::log::{Durability, EventLog, LogOptions, SledLog};

/// helpline: a self-hosted live-chat contact centre.
#[derive(Parser, Debug)]
#[command(name = "helpline", version, about)]
struct Cli {
    /// Directory of the event log.
    #[arg(long, global = true, default_value = "./helpline-data")]
    data: PathBuf,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Run the desk: replay the log, start the engine and serve HTTP.
    Serve(ServeArgs),
    /// Show one session's whole life, or the state of every queue and agent at an instant.
    Replay(ReplayArgs),
    /// Export or check the event log.
    Log {
        /// What to do with the log.
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Drive the engine with synthetic traffic, printing one `ack` line per durable operation.
    Loadgen(LoadgenArgs),
}

/// Options of `helpline serve`.
#[derive(Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A TOML file: `token_ttl_secs`, `public_url`, and the `[smtp]`, `[outbound]`, `[server]`
    /// and `[metrics]` tables (see README).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// fsync (each batch is flushed before anyone hears of it) or none.
    #[arg(long, default_value = "fsync", value_parser = parse_durability)]
    durability: Durability,
    /// Keep the per-stream index of the log (costs commit throughput; see LogOptions).
    #[arg(long)]
    stream_index: bool,
    /// Start although the data directory is readable by its group or others (it holds
    /// every conversation and the sign-in hashes).
    #[arg(long)]
    allow_shared_data_dir: bool,
}

/// Options of `helpline replay`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["session", "until"])))]
struct ReplayArgs {
    /// The session to show (`42` or `session-42`).
    #[arg(long, value_parser = parse_session)]
    session: Option<u64>,
    /// Show the state of every queue and agent at this instant (RFC 3339, e.g. `2025-01-31T09:30:00Z`).
    #[arg(long, value_parser = parse_time_ms)]
    until: Option<i64>,
    /// JSON instead of words: one envelope per line, or the folded state.
    #[arg(long)]
    json: bool,
}

/// `helpline log` subcommands.
#[derive(Subcommand, Debug)]
enum LogCommand {
    /// Write every envelope to stdout, one JSON object per line.
    Export {
        /// JSON lines (the only format so far; the flag says what you get).
        #[arg(long)]
        json: bool,
        /// First sequence number to export.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Keep the bodies and answers of flows' interface calls (redacted by default: they
        /// carry what users typed and what the customer's systems know of them).
        #[arg(long)]
        unredacted: bool,
    },
    /// Check checksums, sequence density, the stream index and the routing invariants.
    Verify,
}

/// Options of `helpline loadgen`.
#[derive(Args, Debug, Clone)]
struct LoadgenArgs {
    /// Agents (created on first run, reused after).
    #[arg(long, default_value_t = 20)]
    agents: u32,
    /// Skill groups (created on first run, reused after).
    #[arg(long, default_value_t = 4)]
    groups: u32,
    /// Sessions to open before stopping.
    #[arg(long, default_value_t = 100_000)]
    sessions: u64,
    /// Seed of the random traffic.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Reception limit of the groups created.
    #[arg(long, default_value_t = 3)]
    reception_limit: u32,
    /// fsync or none.
    #[arg(long, default_value = "fsync", value_parser = parse_durability)]
    durability: Durability,
    /// Keep the per-stream index of the log (costs commit throughput; see LogOptions).
    #[arg(long)]
    stream_index: bool,
}

fn parse_durability(s: &str) -> Result<Durability, String> {
    match s {
        "fsync" => Ok(Durability::Fsync),
        "none" => Ok(Durability::None),
        other => Err(format!("unknown durability {other:?}: use fsync or none")),
    }
}

fn parse_session(s: &str) -> Result<u64, String> {
    s.strip_prefix("session-")
        .unwrap_or(s)
        .parse()
        .map_err(|_| format!("session id {s:?} is not a number (e.g. 42 or session-42)"))
}

fn parse_time_ms(s: &str) -> Result<i64, String> {
    let at = humantime::parse_rfc3339_weak(s)
        .map_err(|e| format!("time {s:?} is not RFC 3339 ({e})"))?;
    let since = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("time {s:?} is before 1970"))?;
    i64::try_from(since.as_millis()).map_err(|_| format!("time {s:?} is too far away"))
}

/// Opens the log at `data`, telling on stderr about any torn tail the open cut off. A data
/// directory that does not exist yet is created readable by its owner only.
pub(crate) fn open_log(data: &Path, options: LogOptions) -> anyhow::Result<SledLog> {
    create_private_dir(data)?;
    let (log, report) = SledLog::open_with(data, options)
        .with_context(|| format!("cannot open the event log at {}", data.display()))?;
    if report.cut_records > 0 {
        tracing::warn!(
            %report,
            "the log ended in a torn write; its unreadable tail was cut (nobody was told of it)"
        );
    }
    Ok(log)
}

/// Creates `dir` (and its missing parents) with mode 0700 when it does not exist: the log
/// holds every conversation, and the umask would leave it readable by everyone.
fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))
}

/// Refuses a data directory its group or others may read or enter, unless the operator
/// said so (`--allow-shared-data-dir`): anyone on the host could copy the log.
pub(crate) fn check_private_dir(dir: &Path, allow_shared: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    if allow_shared {
        tracing::warn!(data = %dir.display(), mode = format!("{mode:o}"), "the data directory is readable beyond its owner (--allow-shared-data-dir)");
        return Ok(());
    }
    anyhow::bail!(
        "the data directory {} has mode {mode:o}: its group or others can read the log; \
         run `chmod 700 {}`, or pass --allow-shared-data-dir to start anyway",
        dir.display(),
        dir.display()
    )
}

/// Folds the envelopes of `log` with `at_ms <= until_ms` (all when none) into a [`World`];
/// also returns how many were folded. Stops at the first later one: the log is in time order
/// within a run, and a prefix is always a state the desk was really in.
pub(crate) fn fold(log: &dyn EventLog, until_ms: Option<i64>) -> anyhow::Result<(World, u64)> {
    let mut world = World::default();
    let mut events = 0u64;
    for envelope in log.read_from(1) {
        let envelope = envelope.context("cannot read the event log")?;
        if until_ms.is_some_and(|until| envelope.at_ms > until) {
            break;
        }
        world.apply(&envelope);
        events += 1;
    }
    Ok((world, events))
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let _entered = runtime.enter();
    let data = cli.data;
    match cli.command {
        Command::Serve(args) => runtime.block_on(cli_serve::serve(
            &data,
            args.allow_shared_data_dir,
            args.listen,
            args.durability,
            args.stream_index,
            args.config.as_deref(),
        )),
        Command::Replay(args) => match (args.session, args.until) {
            (Some(session), _) => cli_replay::session(&data, session, args.json),
            (None, Some(until_ms)) => cli_replay::until(&data, until_ms, args.json),
            (None, None) => anyhow::bail!("replay needs --session or --until"),
        },
        Command::Log { command } => match command {
            LogCommand::Export {
                json,
                from,
                unredacted,
            } => cli_log::export(&data, json, from, unredacted),
            LogCommand::Verify => cli_log::verify(&data),
        },
        Command::Loadgen(args) => runtime.block_on(cli_loadgen::loadgen(&data, args)),
    }
}

/// Actors allocate and free small objects across threads all day, where glibc's malloc
/// spends much of its time; mimalloc routes 25% more sessions per second in the storm.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
