//! The command line, through the binary: `log export`, `replay --until`, `replay --session`
//! errors and `serve`'s health endpoints, first administrator and graceful stop. The log they read is made by
//! `helpline loadgen`; what they print is checked against the log read in-process.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};

use helpline::domain::world::World;
use helpline::log::{EventLog, LogOptions, SledLog};

const BIN: &str = env!("CARGO_BIN_EXE_helpline");

fn helpline(args: &[&str], data: &Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run helpline")
}

/// A small log of real traffic: 30 sessions driven by loadgen.
fn traffic() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // Private, as serve wants a data directory (see the data directory's own test).
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let out = helpline(
        &[
            "loadgen",
            "--sessions",
            "30",
            "--seed",
            "7",
            "--durability",
            "none",
        ],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "loadgen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn envelopes(data: &Path) -> Vec<helpline::domain::event::Envelope> {
    let (log, _) = SledLog::open_with(data, LogOptions::default()).unwrap();
    log.read_from(1).collect::<Result<_, _>>().unwrap()
}

#[test]
fn export_prints_every_event_once_in_order_as_json() {
    let dir = traffic();
    let out = helpline(&["log", "export", "--json"], dir.path());
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let log = envelopes(dir.path());
    assert_eq!(lines.len(), log.len());
    for (line, env) in lines.iter().zip(&log) {
        assert_eq!(line, &serde_json::to_value(env).unwrap());
    }
    let from = helpline(&["log", "export", "--json", "--from", "10"], dir.path());
    assert_eq!(
        String::from_utf8(from.stdout).unwrap().lines().count(),
        log.len() - 9
    );
}

#[test]
fn replay_until_shows_the_state_at_that_instant() {
    let dir = traffic();
    let log = envelopes(dir.path());
    let middle = &log[log.len() / 2];
    let until = humantime::format_rfc3339_millis(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(middle.at_ms as u64),
    )
    .to_string();
    let out = helpline(&["replay", "--until", &until, "--json"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON world");
    let expected = World::from_history(log.iter().take_while(|e| e.at_ms <= middle.at_ms));
    assert_eq!(shown, serde_json::to_value(&expected).unwrap());
    assert!(
        expected.last_seq < log.last().unwrap().seq,
        "a past instant, not the end"
    );

    let text = helpline(&["replay", "--until", &until], dir.path());
    let text = String::from_utf8(text.stdout).unwrap();
    for g in expected.groups.values() {
        assert!(text.contains(&g.name), "group {} in {text}", g.name);
    }
    let bad = helpline(&["replay", "--until", "yesterday"], dir.path());
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("yesterday"));
}

#[test]
fn replaying_an_unknown_session_fails_naming_it() {
    let dir = traffic();
    let out = helpline(&["replay", "--session", "999999"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("session-999999"));
}

fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

/// A child process killed when the test ends, even by a failed assertion: an orphaned
/// server would hold the test's output pipe open and hang the run.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_health_checks_prints_the_first_admin_once_and_stops_cleanly_on_sigterm() {
    let dir = traffic();
    let events = envelopes(dir.path()).len() as u64;
    for start in 0..2 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Reaped(
            Command::new(BIN)
                .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
                .arg(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        // Ready once it says it serves (it logs after binding).
        let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
        let mut seen = String::new();
        for _ in 0..100 {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
            if line.contains("serving") {
                break;
            }
        }
        assert!(seen.contains("serving"), "serve did not start: {seen}");
        let health = get(port, "/healthz");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");
        assert!(health.ends_with("ok"), "{health}");
        let ready = get(port, "/readyz");
        let body = &ready[ready.find("\r\n\r\n").unwrap() + 4..];
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["ready"], true);
        assert_eq!(
            body["apps"], 1,
            "loadgen's app is replayed, no second one made"
        );
        assert_eq!(
            body["agents"], 21,
            "loadgen's 20 and the first administrator"
        );
        assert_eq!(
            body["lastSeq"].as_u64(),
            Some(events + 2),
            "the whole log replayed, then the administrator's agent and account"
        );
        let metrics = get(port, "/metrics");
        assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
        assert!(metrics.contains("\nhelpline_replay_seconds "), "{metrics}");
        let agents: f64 = metrics
            .lines()
            .filter(|l| l.starts_with("helpline_agents{app=\"1\","))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum();
        assert_eq!(agents, 21.0, "every replayed agent counted once, by status");
        if start == 0 {
            // The first administrator's account was appended, with an fsync.
            assert!(
                metrics.contains("\nhelpline_log_fsync_seconds_count "),
                "{metrics}"
            );
        }

        let term = Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", child.0.id())])
            .status()
            .unwrap();
        assert!(term.success());
        let status = child.0.wait().unwrap();
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert!(status.success(), "serve exited {status}: {rest}");
        assert!(rest.contains("stopped"), "{rest}");
        let mut stdout = String::new();
        child
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        if start == 0 {
            assert!(
                stdout.contains("administrator of app-1 is admin@helpline.local with password "),
                "{stdout}"
            );
        } else {
            assert_eq!(stdout, "", "the first administrator is printed once");
        }
    }
}

#[test]
fn a_bad_config_file_stops_serve_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("token_ttl_secs = 5\n", "token_ttl_secs"),
        ("colour = 1\n", "colour"),
        (
            "[smtp]\nhost = \"mail\"\nfrom = \"not a mailbox\"\n",
            "smtp.from",
        ),
        ("public_url = \"ftp://x\"\n", "public_url"),
        (
            "[outbound]\nallow = [\"10.0.0.0/8\", \"10.0.0.0/99\"]\n",
            "10.0.0.0/99",
        ),
        ("[server]\nmax_connections = 0\n", "server.max_connections"),
        (
            "[server]\nheader_read_timeout_secs = 0\n",
            "server.header_read_timeout_secs",
        ),
        (
            "[server]\nidle_timeout_secs = 5\nws_ping_secs = 10\n",
            "server.idle_timeout_secs",
        ),
        (
            "[server]\nagent_away_secs = 7200\n",
            "server.agent_away_secs",
        ),
        ("[metrics]\ntoken = \"short\"\n", "metrics.token"),
        (
            "[smtp]\nhost = \"mail.example.com\"\nsecurity = \"none\"\nusername = \"desk\"\n\
             password = \"secret\"\nfrom = \"helpline <desk@example.com>\"\n",
            "smtp.security",
        ),
    ] {
        let config = dir.path().join("helpline.toml");
        std::fs::write(&config, text).unwrap();
        let out = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{text}");
        assert!(stderr.contains(key), "{key} not named in: {stderr}");
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_directory_is_created_private_and_a_shared_one_is_refused_unless_told() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("data");
    let out = helpline(&["log", "verify"], &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&data), 0o700, "created readable by its owner only");

    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (started, stderr) = serve_on(&data, &[]);
    assert!(
        !started,
        "serve started on a shared data directory: {stderr}"
    );
    assert!(
        stderr.contains(&data.display().to_string()) && stderr.contains("--allow-shared-data-dir"),
        "{stderr}"
    );
    assert!(envelopes(&data).is_empty(), "nothing was written");

    // Told: it starts.
    let (started, stderr) = serve_on(&data, &["--allow-shared-data-dir"]);
    assert!(
        started,
        "serve did not start with --allow-shared-data-dir: {stderr}"
    );
}

/// Runs `helpline serve` on `data` until it serves or exits (then it is killed): whether it
/// served, and what it said.
fn serve_on(data: &Path, flags: &[&str]) -> (bool, String) {
    let mut child = Reaped(
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(flags)
            .arg("--data")
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut seen = String::new();
    for _ in 0..100 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            return (false, seen);
        }
        seen.push_str(&line);
        if line.contains("serving") {
            return (true, seen);
        }
    }
    (false, seen)
}

#[test]
fn export_redacts_interface_call_bodies_and_answers_unless_unredacted() {
    use helpline::domain::event::Event;
    use helpline::domain::ids::{AppId, ConversationId, SessionId, StreamId};
    use helpline::log::Draft;
    let dir = tempfile::tempdir().unwrap();
    {
        let (log, _) = SledLog::open_with(dir.path(), LogOptions::default()).unwrap();
        let stream = StreamId::conversation(ConversationId(1));
        let event = |event| Draft {
            app: AppId(1),
            stream,
            event,
        };
        let state = helpline::domain::flow::FlowState {
            node: "call".into(),
            vars: [("UserId", "u-77"), ("phone", "+44 7700 900123")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            wait: Default::default(),
            calls: 1,
            attempt: 1,
        };
        let drafts = vec![
            event(Event::FlowStepped {
                session: SessionId(1),
                flow: helpline::domain::ids::FlowId(1),
                version: 1,
                state,
            }),
            event(Event::FlowCallRequested {
                session: SessionId(1),
                key: "k1".into(),
                url: "https://crm.example.com/score".into(),
                body: r#"{"phone":"+44 7700 900123"}"#.into(),
                timeout_ms: 1_000,
                attempt: 1,
            }),
            event(Event::FlowCallAnswered {
                session: SessionId(1),
                key: "k1".into(),
                attempt: 1,
                answer: Some(r#"{"debt":"4200"}"#.into()),
                error: String::new(),
            }),
        ];
        log.append(1_000, drafts, None).unwrap();
        log.sync().unwrap();
    }
    let out = helpline(&["log", "export", "--json"], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(!text.contains("7700") && !text.contains("4200"), "{text}");
    assert!(text.contains("u-77"), "system parameters stay: {text}");
    assert!(
        text.contains("crm.example.com"),
        "the call's address stays: {text}"
    );
    let out = helpline(&["log", "export", "--json", "--unredacted"], dir.path());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("7700") && text.contains("4200"), "{text}");
}
