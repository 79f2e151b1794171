//! The dashboards and alert rules of `dashboards/` against a real Prometheus scraping a real
//! helpline on loopback: promtool accepts the configuration and the rules (and the rules'
//! own unit tests pass), every panel expression of every dashboard and every variable query
//! returns data, every alert rule is loaded and evaluated healthy and the left side of its
//! comparison returns data, and "no free agents while users wait" holds while a user waits
//! with nobody free. Without Prometheus a cheap check still holds: every metric and label
//! the dashboards and alerts name is one helpline exports, so a rename breaks this at once.
//!
//! Needs Debian's `prometheus` (`/usr/bin/prometheus` and `/usr/bin/promtool`, 2.42);
//! `scripts/test` installs it. Without it this test fails: it never skips.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use helpline::stats::names::{self, Kind};
use reqwest::Method;
use serde_json::{Value, json};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
/// The dashboards, by file name without `.json`.
const DASHBOARDS: [&str; 4] = ["overview", "queues", "agents", "engine"];
/// What the test puts for Grafana's `$__rate_interval`: several 1 s scrapes.
const RATE_INTERVAL: &str = "15s";
/// What the test puts for `$__range`: the whole run.
const RANGE: &str = "5m";
/// What the test puts for `$__interval`.
const INTERVAL: &str = "2s";
/// Each wait on Prometheus polls this often, at most [`POLLS`] times.
const POLL_EVERY: Duration = Duration::from_millis(200);
/// At most this many polls per wait (60 s).
const POLLS: u32 = 300;

fn dashboards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards")
}

fn read(name: &str) -> String {
    let path = dashboards_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every dashboard, parsed.
fn dashboards() -> Vec<(&'static str, Value)> {
    DASHBOARDS
        .iter()
        .map(|name| {
            let text = read(&format!("{name}.json"));
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("dashboards/{name}.json is not JSON: {e}"));
            (*name, json)
        })
        .collect()
}

/// Every panel of a dashboard, those nested in (collapsed) rows included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(list: &'a Value, out: &mut Vec<&'a Value>) {
        for panel in list.as_array().into_iter().flatten() {
            out.push(panel);
            if let Some(nested) = panel.get("panels") {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// One panel target's expression, and where it is.
struct PanelExpr {
    dashboard: &'static str,
    panel: String,
    expr: String,
}

/// Every panel target expression of every dashboard.
fn panel_exprs(all: &[(&'static str, Value)]) -> Vec<PanelExpr> {
    let mut out = Vec::new();
    for (name, dashboard) in all {
        for panel in panels(dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap_or_else(|| {
                    panic!("{name}: panel {} has a target without expr", panel["title"])
                });
                out.push(PanelExpr {
                    dashboard: name,
                    panel: panel["title"].as_str().unwrap_or("").to_owned(),
                    expr: expr.to_owned(),
                });
            }
        }
    }
    out
}

/// A dashboard's template variables: `(name, type, query)`.
fn variables(dashboard: &Value) -> Vec<(String, String, String)> {
    dashboard["templating"]["list"]
        .as_array()
        .expect("templating.list")
        .iter()
        .map(|v| {
            (
                v["name"].as_str().unwrap().to_owned(),
                v["type"].as_str().unwrap().to_owned(),
                variable_query(v),
            )
        })
        .collect()
}

/// A template variable's query: a string, or the query editor's `{"query": ...}`.
fn variable_query(v: &Value) -> String {
    match &v["query"] {
        Value::String(s) => s.clone(),
        q => q["query"].as_str().unwrap_or("").to_owned(),
    }
}

/// The alert rules' expressions in `alerts.yml`, by alert name. Reads the YAML as the file
/// is written: `- alert: Name` then `expr:` on one line or as a block (`|`, `>`) below it.
fn alert_exprs(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut alert = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        if let Some(name) = trimmed.strip_prefix("- alert:") {
            alert = Some(name.trim().to_owned());
        } else if let Some(value) = trimmed.strip_prefix("expr:") {
            let name = alert.take().expect("an expr before its alert name");
            let value = value.trim();
            let expr = if value.starts_with('|') || value.starts_with('>') {
                let indent = line.len() - trimmed.len();
                let mut block = Vec::new();
                while i + 1 < lines.len() {
                    let next = lines[i + 1];
                    let next_indent = next.len() - next.trim_start().len();
                    if !next.trim().is_empty() && next_indent <= indent {
                        break;
                    }
                    block.push(next.trim());
                    i += 1;
                }
                block.join(" ").trim().to_owned()
            } else if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
                value[1..value.len() - 1].replace("\\\"", "\"")
            } else if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
                value[1..value.len() - 1].replace("''", "'")
            } else {
                value.to_owned()
            };
            out.push((name, expr));
        }
        i += 1;
    }
    out
}

// ---------------------------------------------------------------- a small PromQL reader

/// A series selector in an expression: the metric and the label names it matches on.
#[derive(Debug)]
struct Selector {
    metric: String,
    labels: Vec<String>,
}

const AGGREGATIONS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
];
/// Keywords followed by a list of label names in parentheses.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];
const KEYWORDS: &[&str] = &[
    "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
];

/// The series selectors of a PromQL expression (strings, ranges, label lists and function
/// names skipped). Enough PromQL for what dashboards and alert rules hold.
fn selectors(expr: &str) -> Vec<Selector> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let skip_space = |mut i: usize| {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        i
    };
    // Skips a string starting at `i` (a quote); answers the index after it.
    let skip_string = |mut i: usize| {
        let quote = chars[i];
        i += 1;
        while i < chars.len() && chars[i] != quote {
            if chars[i] == '\\' {
                i += 1;
            }
            i += 1;
        }
        i + 1
    };
    // Reads `{name op "value", ...}` starting at `i`; answers the label names and the
    // index after the closing brace.
    let matchers = |mut i: usize| {
        let mut labels = Vec::new();
        i += 1;
        while i < chars.len() && chars[i] != '}' {
            let c = chars[i];
            if c == '"' || c == '\'' || c == '`' {
                i = skip_string(i);
            } else if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                labels.push(chars[start..i].iter().collect::<String>());
            } else {
                i += 1;
            }
        }
        (labels, i + 1)
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i = skip_string(i);
        } else if c == '[' {
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            i += 1;
        } else if c == '{' {
            let (labels, next) = matchers(i);
            out.push(Selector {
                metric: String::new(),
                labels,
            });
            i = next;
        } else if c.is_ascii_digit() || c == '.' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
        } else if c == '$' {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || "_{}".contains(chars[i]))
            {
                i += 1;
            }
        } else if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = skip_space(i);
            let lower = word.to_ascii_lowercase();
            if LABEL_LISTS.contains(&lower.as_str()) {
                if next < chars.len() && chars[next] == '(' {
                    while i < chars.len() && chars[i] != ')' {
                        i += 1;
                    }
                    i += 1;
                }
            } else if KEYWORDS.contains(&lower.as_str())
                || AGGREGATIONS.contains(&lower.as_str())
                || (next < chars.len() && chars[next] == '(')
            {
                // an operator, or a function's name
            } else if next < chars.len() && chars[next] == '{' {
                let (labels, after) = matchers(next);
                out.push(Selector {
                    metric: word,
                    labels,
                });
                i = after;
            } else {
                out.push(Selector {
                    metric: word,
                    labels: Vec::new(),
                });
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Every series name helpline exports (histograms as their `_bucket`, `_sum`, `_count`),
/// with its labels, and `up` with the target's.
fn exported() -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut out = BTreeMap::new();
    let target = ["job", "instance"];
    for m in names::all() {
        let labels: BTreeSet<&str> = m.labels.iter().copied().chain(target).collect();
        if m.kind == Kind::Histogram {
            let mut bucket = labels.clone();
            bucket.insert("le");
            out.insert(format!("{}_bucket", m.name), bucket);
            out.insert(format!("{}_sum", m.name), labels.clone());
            out.insert(format!("{}_count", m.name), labels.clone());
        }
        out.insert(m.name.to_owned(), labels);
    }
    out.insert("up".to_owned(), target.into_iter().collect());
    out
}

/// Checks that `expr` names only exported series, with their labels; answers the problems.
fn unknown_names(place: &str, expr: &str, known: &BTreeMap<String, BTreeSet<&str>>) -> Vec<String> {
    let mut problems = Vec::new();
    let found = selectors(expr);
    if found.is_empty() {
        problems.push(format!("{place}: no series selector in {expr}"));
    }
    for s in found {
        match known.get(&s.metric) {
            None if s.metric.is_empty() => problems.push(format!(
                "{place}: a selector without a metric name, in {expr}"
            )),
            None => problems.push(format!(
                "{place}: {:?} is not a metric helpline exports (helpline::stats::names::all()), in {expr}",
                s.metric
            )),
            Some(labels) => {
                for l in &s.labels {
                    if !labels.contains(l.as_str()) {
                        problems.push(format!(
                            "{place}: {} has no label {l:?} (it has {labels:?}), in {expr}",
                            s.metric
                        ));
                    }
                }
            }
        }
    }
    problems
}

// ---------------------------------------------------------------- checks without Prometheus

#[test]
fn every_metric_and_label_the_dashboards_and_alerts_name_is_exported() {
    let known = exported();
    let mut problems = Vec::new();
    let all = dashboards();
    for e in panel_exprs(&all) {
        let place = format!("dashboards/{}.json, panel {:?}", e.dashboard, e.panel);
        problems.extend(unknown_names(&place, &e.expr, &known));
    }
    for (name, dashboard) in &all {
        for (var, kind, query) in variables(dashboard) {
            if kind == "query" {
                let inner = label_values(&query)
                    .unwrap_or_else(|| panic!("{name}: ${var} is not label_values(...): {query}"));
                let place = format!("dashboards/{name}.json, variable ${var}");
                problems.extend(unknown_names(&place, &inner.0, &known));
                let labels = &known.get(&selectors(&inner.0)[0].metric);
                if labels.is_some_and(|l| !l.contains(inner.1.as_str())) {
                    problems.push(format!("{place}: no label {:?} in {query}", inner.1));
                }
            }
        }
    }
    let alerts = alert_exprs(&read("alerts.yml"));
    assert!(alerts.len() >= 8, "too few alert rules read: {alerts:?}");
    for (name, expr) in &alerts {
        let place = format!("dashboards/alerts.yml, alert {name}");
        problems.extend(unknown_names(&place, expr, &known));
    }
    // The rules' unit tests feed made-up series: those must be real names too.
    for line in read("alerts_test.yml").lines() {
        if let Some(series) = line.trim_start().strip_prefix("- series:") {
            let series = series.trim().trim_matches('\'');
            problems.extend(unknown_names("dashboards/alerts_test.yml", series, &known));
        }
    }
    // The reader itself: it sees a misspelt metric and label.
    assert_eq!(
        unknown_names(
            "self-check",
            r#"sum by (app) (rate(helpline_offer_total{app=~"$app", grop="1"}[5m]))"#,
            &known
        )
        .len(),
        1
    );
    assert_eq!(
        unknown_names(
            "self-check",
            r#"sum by (app) (rate(helpline_offers_total{app=~"$app", grop="1"}[5m]))"#,
            &known
        )
        .len(),
        1
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `label_values(selector, label)`: the selector and the label.
fn label_values(query: &str) -> Option<(String, String)> {
    let inner = query
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (selector, label) = inner.rsplit_once(',')?;
    Some((selector.trim().to_owned(), label.trim().to_owned()))
}

/// The Grafana variables every dashboard may use besides its own.
const GRAFANA_GLOBALS: &[&str] = &["__rate_interval", "__interval", "__range"];

/// The `$name` and `${name}` references of a text.
fn references(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let name: String = if let Some(braced) = rest.strip_prefix('{') {
            braced.split('}').next().unwrap_or("").to_owned()
        } else {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        out.push(name);
    }
    out
}

#[test]
fn dashboards_are_grafana_dashboards_over_a_datasource_variable() {
    let all = dashboards();
    let mut uids = BTreeSet::new();
    for (name, d) in &all {
        assert!(
            uids.insert(d["uid"].as_str().unwrap().to_owned()),
            "{name}: uid twice"
        );
        assert!(
            d["id"].is_null(),
            "{name}: id must be null to import anywhere"
        );
        let schema = d["schemaVersion"].as_u64().unwrap();
        assert!(
            (36..=41).contains(&schema),
            "{name}: schemaVersion {schema}"
        );
        assert!(
            d["title"].as_str().unwrap().starts_with("helpline"),
            "{name}"
        );
        let vars = variables(d);
        let ds = vars
            .iter()
            .find(|(n, _, _)| n == "datasource")
            .unwrap_or_else(|| panic!("{name}: no datasource variable"));
        assert_eq!((ds.1.as_str(), ds.2.as_str()), ("datasource", "prometheus"));
        for v in d["templating"]["list"].as_array().unwrap() {
            if v["type"] == "query" {
                assert_eq!(v["datasource"]["uid"], "${datasource}", "{name}: {v}");
                assert_eq!(
                    (v["multi"].as_bool(), v["includeAll"].as_bool()),
                    (Some(true), Some(true)),
                    "{name}: ${} takes several values and All",
                    v["name"]
                );
            }
        }
        let defined: BTreeSet<String> = vars.iter().map(|(n, _, _)| n.clone()).collect();
        let mut ids = BTreeSet::new();
        for panel in panels(d) {
            let title = &panel["title"];
            assert!(
                ids.insert(panel["id"].as_u64().unwrap()),
                "{name}: id twice"
            );
            let pos = &panel["gridPos"];
            assert!(
                pos["w"].as_u64().unwrap() + pos["x"].as_u64().unwrap() <= 24,
                "{name}: {title} is wider than the grid"
            );
            if panel["type"] == "row" {
                continue;
            }
            assert_eq!(
                panel["datasource"]["uid"], "${datasource}",
                "{name}: {title}"
            );
            let targets = panel["targets"].as_array().unwrap();
            assert!(!targets.is_empty(), "{name}: {title} has no target");
            for t in targets {
                assert_eq!(t["datasource"]["uid"], "${datasource}", "{name}: {title}");
                let expr = t["expr"].as_str().unwrap();
                for var in references(expr) {
                    assert!(
                        defined.contains(&var) || GRAFANA_GLOBALS.contains(&var.as_str()),
                        "{name}: {title} uses ${var}, which is not defined: {expr}"
                    );
                }
                // Range vectors follow the scrape interval and the time picker.
                for window in expr.split('[').skip(1) {
                    let window = window.split(']').next().unwrap();
                    assert!(
                        window == "$__rate_interval" || window == "$__range",
                        "{name}: {title}: [{window}] instead of [$__rate_interval]: {expr}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- promtool

fn promtool(args: &[&str]) {
    assert!(
        Path::new(PROMTOOL).exists(),
        "{PROMTOOL} is missing: apt-get install -y prometheus (./scripts/test does)"
    );
    let out = Command::new(PROMTOOL)
        .args(args)
        .current_dir(dashboards_dir())
        .output()
        .expect("cannot run promtool");
    assert!(
        out.status.success(),
        "promtool {}: {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_accepts_the_config_and_the_rules_and_the_rules_fire_when_they_should() {
    promtool(&["check", "config", "prometheus.yml"]);
    promtool(&["check", "rules", "alerts.yml"]);
    promtool(&["test", "rules", "alerts_test.yml"]);
}

// ---------------------------------------------------------------- a real Prometheus

/// A Prometheus of our own on a loopback port, killed when dropped.
struct Prometheus {
    child: Child,
    base: String,
    log: PathBuf,
    http: reqwest::Client,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound, then let go for the child to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Replaces `from` by `to` in `text`, which must hold it exactly once.
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "dashboards/prometheus.yml should hold {from:?} once"
    );
    text.replace(from, to)
}

impl Prometheus {
    /// Starts Prometheus on the committed configuration, with the target replaced by
    /// `target` and the scrape and evaluation intervals by 1 s, the rules beside it.
    async fn start(work: &Path, target: &str) -> Prometheus {
        assert!(
            Path::new(PROMETHEUS).exists(),
            "{PROMETHEUS} is missing: apt-get install -y prometheus (./scripts/test does)"
        );
        let mut config = read("prometheus.yml");
        for (from, to) in [
            ("\"127.0.0.1:8080\"", format!("\"{target}\"")),
            ("scrape_interval: 15s", "scrape_interval: 1s".to_owned()),
            ("scrape_timeout: 10s", "scrape_timeout: 1s".to_owned()),
            (
                "evaluation_interval: 15s",
                "evaluation_interval: 1s".to_owned(),
            ),
        ] {
            config = replace_once(&config, from, &to);
        }
        std::fs::write(work.join("prometheus.yml"), config).unwrap();
        std::fs::copy(dashboards_dir().join("alerts.yml"), work.join("alerts.yml")).unwrap();
        let port = free_port();
        let log = work.join("prometheus.log");
        let child = Command::new(PROMETHEUS)
            .arg(format!(
                "--config.file={}",
                work.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                work.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(
                std::fs::OpenOptions::new().append(true).open(&log).unwrap(),
            ))
            .spawn()
            .expect("cannot run prometheus");
        let prometheus = Prometheus {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
            http: reqwest::Client::new(),
        };
        let ready = format!("{}/-/ready", prometheus.base);
        prometheus
            .poll("Prometheus to be ready", || async {
                let resp = prometheus.http.get(&ready).send().await.ok()?;
                resp.status().is_success().then_some(())
            })
            .await;
        prometheus
    }

    /// The log Prometheus wrote, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Polls `check` every [`POLL_EVERY`], at most [`POLLS`] times, until it answers.
    async fn poll<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let started = helpline::clock::stopwatch();
        for _ in 0..POLLS {
            if let Some(v) = check().await {
                return v;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!(
            "waited {:?} for {what}; Prometheus's log:\n{}",
            started.elapsed(),
            self.log_tail()
        );
    }

    async fn api(&self, path: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let url =
            url::Url::parse_with_params(&format!("{}/api/v1/{path}", self.base), params).unwrap();
        let resp = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        let body: Value = resp.json().await.map_err(|e| e.to_string())?;
        if body["status"] != "success" {
            return Err(format!("{}: {}", body["errorType"], body["error"]));
        }
        Ok(body["data"].clone())
    }

    /// Evaluates `expr` now; answers its samples (a scalar is one).
    async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let data = self.api("query", &[("query", expr)]).await?;
        Ok(match data["resultType"].as_str() {
            Some("vector") | Some("matrix") => {
                data["result"].as_array().cloned().unwrap_or_default()
            }
            _ => vec![data["result"].clone()],
        })
    }

    /// The values of `label` on the series `selector` matches.
    async fn label_values(&self, selector: &str, label: &str) -> Result<Vec<String>, String> {
        let data = self
            .api(&format!("label/{label}/values"), &[("match[]", selector)])
            .await?;
        Ok(data
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect())
    }
}

/// A label value inside a PromQL regex inside a PromQL string, as Grafana writes it.
fn regex_escape(value: &str) -> String {
    let mut out = String::new();
    for c in value.chars() {
        if "\\.^$*+?()[]{}|".contains(c) {
            out.push_str("\\\\");
        }
        out.push(c);
    }
    out
}

/// Replaces the Grafana variables of `text` with `values`; panics on one not there.
fn substitute(text: &str, values: &BTreeMap<String, String>, place: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let (name, len) = if let Some(braced) = rest.strip_prefix('{') {
            let name = braced.split('}').next().unwrap_or("");
            (name.to_owned(), name.len() + 2)
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let len = name.len();
            (name, len)
        };
        let value = values
            .get(&name)
            .unwrap_or_else(|| panic!("{place}: ${name} has no value in {text}"));
        out.push_str(value);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

/// The expression left of an alert's final comparison (`A > 60` gives `A`).
fn strip_comparison(expr: &str) -> Option<&str> {
    let (rest, number) = expr.trim_end().rsplit_once(char::is_whitespace)?;
    number.parse::<f64>().ok()?;
    let (left, op) = rest.trim_end().rsplit_once(char::is_whitespace)?;
    ["==", "!=", ">", "<", ">=", "<="]
        .contains(&op)
        .then(|| left.trim_end())
}

fn user_flag(id: &str, data: Value) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "onlineUserOnly": true, "body": desk_body(data)})
}

fn user_text(id: &str) -> Value {
    json!({"type": "send", "to": "desk", "msgId": id, "body": {"type": "text", "text": "hello"}})
}

async fn answer(agent: &mut Ws, command: &'static str) -> Value {
    let v = agent
        .until(move |v| (v["type"] == "ok" || v["type"] == "error") && v["command"] == command)
        .await;
    assert_eq!(v["type"], "ok", "{command}: {v}");
    v
}

/// Takes the next offer; answers the session id.
async fn take(agent: &mut Ws) -> u64 {
    let offer = agent.until(of_type("offer")).await;
    let session = offer["sessionId"].as_u64().unwrap();
    agent
        .send(json!({"type": "accept", "sessionId": session}))
        .await;
    answer(agent, "accept").await;
    session
}

/// What the traffic left behind for the checks.
struct Traffic {
    /// The skill group where a user waits with no member free.
    waiting_group: u64,
    /// Sockets kept open so the connection gauges are not zero.
    _sockets: Vec<Ws>,
}

/// Drives the desk through every kind of event the dashboards show: a session abandoned
/// in the queue; one offered, accepted, handed to another group, taken there, ended and
/// rated; one whose offer runs out (a timeout, a redirect, the agent on a short break), so
/// it waits with nobody free; agents changing status; HTTP requests that succeed and fail.
async fn traffic(s: &Server) -> Traffic {
    let admin = s.admin().await;
    let end = s.user_end(&admin, (true, true, true)).await;
    let mut settings = s.get(&admin, "/settings").await;
    settings["reception"]["acceptTimeoutSecs"] = json!(5);
    settings["reception"]["redirectOnTimeout"] = json!(true);
    settings["reception"]["autoShortBreak"] = json!(true);
    s.ok(&admin, Method::PUT, "/settings", settings).await;
    let second = s.group(&admin, "second line").await;
    let (_, ann_token) = s.agent(&admin, "ann@example.com", 2, &[end.group]).await;
    let (_, bob_token) = s.agent(&admin, "bob@example.com", 2, &[second]).await;
    let mut ann = s.agent_socket(&ann_token).await;
    let mut bob = s.agent_socket(&bob_token).await;
    let now = s.state.clock.now_ms() / 1_000;
    let user = |name: &str| user_token(&end.secret, 1, name, now + 600);

    // Ann is busy: Bea waits in the queue, then gives up.
    ann.send(json!({"type": "status", "status": "busy"})).await;
    answer(&mut ann, "status").await;
    let mut bea = s.user_socket(&user("bea"), "").await;
    bea.send(user_text("b1")).await;
    bea.until(of_type("queue")).await;
    bea.send(user_flag(
        "b2",
        json!({"customerServicePlugin": 0, "src": "27"}),
    ))
    .await;
    bea.until(src("19")).await;

    // Ann is free: Cal is offered to her, she accepts, writes, hands Cal to the second
    // line; Bob takes Cal, ends the session, and Cal rates it.
    ann.send(json!({"type": "status", "status": "free"})).await;
    answer(&mut ann, "status").await;
    let mut cal = s.user_socket(&user("cal"), "").await;
    cal.send(user_text("c1")).await;
    let session = take(&mut ann).await;
    ann.send(json!({"type": "send", "sessionId": session, "msgId": "a1",
                    "body": {"type": "text", "text": "how can I help?"}}))
        .await;
    answer(&mut ann, "send").await;
    ann.send(json!({"type": "transfer_to_group", "sessionId": session, "groupId": second}))
        .await;
    answer(&mut ann, "transfer_to_group").await;
    assert_eq!(take(&mut bob).await, session);
    bob.send(json!({"type": "end", "sessionId": session})).await;
    answer(&mut bob, "end").await;
    cal.until(src("19")).await;
    cal.until(src("9")).await;
    cal.send(user_flag(
        "rate",
        json!({"customerServicePlugin": 0, "src": "10",
               "menuSelected": {"id": "5", "content": "Very satisfied", "sessionId": session.to_string()}}),
    ))
    .await;
    cal.until(|v| v["type"] == "ack" && v["msgId"] == "rate")
        .await;
    bob.until(of_type("rated")).await;

    // Dan is offered to Ann, who lets the countdown run out: the offer times out, Dan
    // goes back to the queue, Ann on a short break. Dan waits with nobody free.
    let mut dan = s.user_socket(&user("dan"), "").await;
    dan.send(user_text("d1")).await;
    ann.until(of_type("offer")).await;
    ann.until(|v| v["type"] == "released" && v["reason"] == "offer_expired")
        .await;
    ann.until(|v| v["type"] == "status" && v["status"] == "rest")
        .await;

    // Bob arranges; a few requests that fail.
    bob.send(json!({"type": "status", "status": "arrange"}))
        .await;
    answer(&mut bob, "status").await;
    s.get(&bob_token, "/workstation/transfer-targets").await;
    for (token, path) in [
        (admin.as_str(), "/skill-groups/999999"),
        (admin.as_str(), "/no/such/route"),
        ("hl_not_a_token", "/agents"),
    ] {
        let (status, _) = s.call(token, Method::GET, path, None).await;
        assert!(status.is_client_error(), "{path}: {status}");
    }
    Traffic {
        waiting_group: end.group,
        _sockets: vec![ann, bob, cal, dan],
    }
}

#[tokio::test]
async fn every_panel_and_alert_expression_returns_data_from_a_real_prometheus() {
    let started = helpline::clock::stopwatch();
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let s = Server::start_like_serve(data.path()).await;
    let target = s
        .base
        .trim_start_matches("http://")
        .trim_end_matches("/api/v1")
        .to_owned();
    // Prometheus scrapes from the start, so the counters' rates see the traffic.
    let prom = Prometheus::start(work.path(), &target).await;
    let traffic = traffic(&s).await;
    let traffic_done = helpline::clock::wall_now_ms() as f64 / 1e3;

    // Scraped (up) several times, the last ones after the traffic: Dan's wait is seen.
    let waiting = traffic.waiting_group.to_string();
    let wait_expr =
        format!("timestamp(helpline_queue_length{{job=\"helpline\", group=\"{waiting}\"}} == 1)");
    prom.poll("scrapes after the traffic", || async {
        let up = prom
            .query("count_over_time(up{job=\"helpline\"}[5m])")
            .await
            .ok()?;
        let scrapes = up.first()?["value"][1].as_str()?.parse::<f64>().ok()?;
        let seen = prom.query(&wait_expr).await.ok()?;
        let at = seen.first()?["value"][1].as_str()?.parse::<f64>().ok()?;
        (scrapes >= 5.0 && at >= traffic_done + 2.0).then_some(())
    })
    .await;
    let up = prom.query("up{job=\"helpline\"} == 1").await.unwrap();
    assert_eq!(up.len(), 1, "helpline is not up for Prometheus: {up:?}");

    // Every alert rule loaded, evaluated since the traffic, healthy; the one for a queue
    // nobody can take is pending or firing for Dan's group.
    let file_rules: BTreeMap<String, String> =
        alert_exprs(&read("alerts.yml")).into_iter().collect();
    let rules: Vec<Value> = prom
        .poll("every rule evaluated healthy after the traffic", || async {
            let data = prom.api("rules", &[("type", "alert")]).await.ok()?;
            let rules: Vec<Value> = data["groups"]
                .as_array()?
                .iter()
                .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
                .collect();
            let evaluated = rules.iter().all(|r| {
                r["health"] == "ok"
                    && r["lastEvaluation"]
                        .as_str()
                        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                        .is_some_and(|t| t.as_millisecond() as f64 / 1e3 > traffic_done)
            });
            let no_free = rules.iter().find(|r| r["name"] == "HelplineNoFreeAgents")?;
            let active = no_free["alerts"]
                .as_array()?
                .iter()
                .any(|a| a["labels"]["group"] == waiting.as_str());
            (rules.len() == file_rules.len() && evaluated && active).then_some(rules)
        })
        .await;

    // Every panel expression of every dashboard, with its variables as Grafana fills them.
    let mut failures = Vec::new();
    let mut panel_count = 0;
    let mut variable_count = 0;
    let all = dashboards();
    for (name, dashboard) in &all {
        let mut values: BTreeMap<String, String> = [
            ("__rate_interval", RATE_INTERVAL),
            ("__interval", INTERVAL),
            ("__range", RANGE),
            ("datasource", "prometheus"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for var in dashboard["templating"]["list"].as_array().unwrap() {
            let var_name = var["name"].as_str().unwrap().to_owned();
            match var["type"].as_str().unwrap() {
                "query" => {
                    variable_count += 1;
                    let query = variable_query(var);
                    let place = format!("{name}: ${var_name}");
                    let (selector, label) = label_values(&query).unwrap();
                    let selector = substitute(&selector, &values, &place);
                    let found = prom.label_values(&selector, &label).await;
                    let found = match found {
                        Ok(found) if !found.is_empty() => found,
                        other => {
                            failures.push(format!("{place}: {query} gave {other:?}"));
                            vec!["none".to_owned()]
                        }
                    };
                    // All selected: Grafana writes the values as one regex.
                    let escaped: Vec<String> = found.iter().map(|v| regex_escape(v)).collect();
                    values.insert(var_name, format!("({})", escaped.join("|")));
                }
                "custom" | "constant" | "textbox" => {
                    let current = var["current"]["value"].as_str().unwrap_or("").to_owned();
                    assert!(
                        !current.is_empty(),
                        "{name}: ${var_name} has no current value"
                    );
                    values.insert(var_name, current);
                }
                _ => {}
            }
        }
        for e in panel_exprs(std::slice::from_ref(&(*name, dashboard.clone()))) {
            panel_count += 1;
            let place = format!("dashboards/{name}.json, panel {:?}", e.panel);
            let expr = substitute(&e.expr, &values, &place);
            match prom.query(&expr).await {
                Ok(samples) if !samples.is_empty() => {}
                Ok(_) => failures.push(format!("{place}: no data from {expr}")),
                Err(err) => failures.push(format!("{place}: {err} in {expr}")),
            }
        }
    }

    // Every alert: the left side of its comparison has data; the no-free-agents condition
    // holds as a whole, for Dan's group.
    let mut alert_count = 0;
    for rule in &rules {
        alert_count += 1;
        let name = rule["name"].as_str().unwrap();
        let query = rule["query"].as_str().unwrap();
        assert!(file_rules.contains_key(name), "{name} is not in alerts.yml");
        assert_eq!(rule["lastError"].as_str().unwrap_or(""), "", "{name}");
        assert!(
            ["critical", "warning", "info"]
                .contains(&rule["labels"]["severity"].as_str().unwrap_or("")),
            "{name}: severity {}",
            rule["labels"]["severity"]
        );
        for key in ["summary", "description"] {
            assert!(
                rule["annotations"][key]
                    .as_str()
                    .is_some_and(|t| !t.is_empty()),
                "{name}: no {key}"
            );
        }
        assert!(
            rule["duration"].as_f64().unwrap_or(0.0) > 0.0,
            "{name}: no for:"
        );
        let Some(left) = strip_comparison(query) else {
            failures.push(format!(
                "alert {name}: does not end in a comparison with a number: {query}"
            ));
            continue;
        };
        match prom.query(left).await {
            Ok(samples) if !samples.is_empty() => {}
            Ok(_) => failures.push(format!("alert {name}: no data from {left}")),
            Err(err) => failures.push(format!("alert {name}: {err} in {left}")),
        }
    }
    let no_free = &file_rules["HelplineNoFreeAgents"];
    let holds = prom.query(no_free).await.unwrap();
    assert!(
        holds
            .iter()
            .any(|s| s["metric"]["group"] == waiting.as_str()),
        "HelplineNoFreeAgents does not hold for group {waiting} while Dan waits: {holds:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} expressions failed:\n{}",
        failures.len(),
        panel_count + alert_count + variable_count,
        failures.join("\n")
    );
    eprintln!(
        "evaluated {panel_count} panel expressions, {variable_count} variable queries and \
         {alert_count} alert rules against Prometheus in {:?}",
        started.elapsed()
    );
    drop(prom);
    drop(traffic);
    s.stop().await;
}

#[test]
fn an_alert_expression_loses_its_final_comparison_only() {
    assert_eq!(
        strip_comparison("up{job=\"x\"} == 0"),
        Some("up{job=\"x\"}")
    );
    assert_eq!(
        strip_comparison("a > 0 and on (app) b == 0"),
        Some("a > 0 and on (app) b")
    );
    assert_eq!(strip_comparison("x / y > 0.05"), Some("x / y"));
    assert_eq!(strip_comparison("absent(up)"), None);
}
