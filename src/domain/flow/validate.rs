//! Validation on save: a flow that passes can be run by the interpreter without getting
//! stuck. Every error names the node (by id) and the field.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::template::{SYSTEM_PARAMS, is_name, variables};
use super::{
    Bot, CALL_TIMEOUT_MS, Flow, FormKind, Graph, MAX_CALL_ATTEMPTS, MAX_NODES, MAX_OPTIONS,
    MAX_TEXT_CHARS, Module,
};

/// What is wrong with a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FlowError {
    /// The node, by id (none for the graph as a whole).
    pub node: Option<String>,
    /// The field, within the node (`text`, `options[1].port`) or the graph (`edges[3].to`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

struct Errors(Vec<FlowError>);

impl Errors {
    fn at(&mut self, node: Option<&str>, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FlowError {
            node: node.map(str::to_owned),
            field: field.into(),
            message: message.into(),
        });
    }
}

/// Checks a graph; answers it indexed for the interpreter, or every error found.
pub fn validate(graph: Graph) -> Result<Flow, Vec<FlowError>> {
    let mut e = Errors(Vec::new());
    if graph.nodes.is_empty() || graph.nodes.len() > MAX_NODES {
        e.at(
            None,
            "nodes",
            format!(
                "a flow has 2 to {MAX_NODES} nodes, got {}",
                graph.nodes.len()
            ),
        );
        return Err(e.0);
    }
    let mut index = BTreeMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        if !is_id(&node.id) {
            e.at(
                Some(&node.id),
                format!("nodes[{i}].id"),
                "an id is 1 to 64 letters, digits, '-' or '_'",
            );
        } else if index.insert(node.id.clone(), i).is_some() {
            e.at(Some(&node.id), "id", "two nodes have this id");
        }
        if node.label.chars().count() > super::MAX_ID_CHARS {
            e.at(Some(&node.id), "label", "longer than 64 characters");
        }
        if let Some(p) = node.position {
            for (axis, v) in [("position.x", p.x), ("position.y", p.y)] {
                if v.unsigned_abs() > super::MAX_POSITION.unsigned_abs() {
                    e.at(
                        Some(&node.id),
                        axis,
                        format!(
                            "{v} is further than {} from the origin",
                            super::MAX_POSITION
                        ),
                    );
                }
            }
        }
        check_module(&mut e, &node.id, &node.module);
    }
    let of = |m: &str| {
        graph
            .nodes
            .iter()
            .filter(|n| n.module.name() == m)
            .map(|n| n.id.clone())
            .collect::<Vec<_>>()
    };
    let (starts, ends) = (of("start"), of("end"));
    if starts.len() != 1 {
        e.at(
            None,
            "nodes",
            format!("a flow has exactly one start, got {}", starts.len()),
        );
    }
    if ends.len() != 1 {
        e.at(
            None,
            "nodes",
            format!("a flow has exactly one end, got {}", ends.len()),
        );
    }
    // Edges: from a port of a node to a node, each port once.
    let mut next: BTreeMap<(String, String), String> = BTreeMap::new();
    for (i, edge) in graph.edges.iter().enumerate() {
        let Some(&from) = index.get(&edge.from) else {
            e.at(
                None,
                format!("edges[{i}].from"),
                format!("no node {:?}", edge.from),
            );
            continue;
        };
        let ports = graph.nodes[from].module.ports();
        if !ports.contains(&edge.port) {
            e.at(
                Some(&edge.from),
                format!("edges[{i}].port"),
                format!(
                    "{:?} is not a port of this node (it has {ports:?})",
                    edge.port
                ),
            );
            continue;
        }
        match index.get(&edge.to) {
            None => e.at(
                None,
                format!("edges[{i}].to"),
                format!("no node {:?}", edge.to),
            ),
            Some(&to) if graph.nodes[to].module == Module::Start => e.at(
                Some(&edge.from),
                format!("edges[{i}].to"),
                "nothing leads back to start",
            ),
            Some(_) => {
                let key = (edge.from.clone(), edge.port.clone());
                if next.insert(key, edge.to.clone()).is_some() {
                    e.at(
                        Some(&edge.from),
                        format!("edges[{i}].port"),
                        format!("port {:?} is connected twice", edge.port),
                    );
                }
            }
        }
    }
    for node in &graph.nodes {
        for port in node.module.ports() {
            if !next.contains_key(&(node.id.clone(), port.clone())) {
                e.at(
                    Some(&node.id),
                    format!("ports.{port}"),
                    format!("port {port:?} leads nowhere"),
                );
            }
        }
    }
    if !e.0.is_empty() || starts.len() != 1 {
        return Err(e.0);
    }
    let start = starts[0].clone();
    let successors = |id: &str| -> Vec<String> {
        graph.nodes[index[id]]
            .module
            .ports()
            .into_iter()
            .filter_map(|p| next.get(&(id.to_owned(), p)).cloned())
            .collect()
    };
    // Every node is reachable from start.
    let mut seen = BTreeSet::from([start.clone()]);
    let mut todo = vec![start.clone()];
    while let Some(id) = todo.pop() {
        for s in successors(&id) {
            if seen.insert(s.clone()) {
                todo.push(s);
            }
        }
    }
    for node in &graph.nodes {
        if !seen.contains(&node.id) {
            e.at(Some(&node.id), "id", "not reachable from start");
        }
    }
    if !e.0.is_empty() {
        return Err(e.0);
    }
    // No loop that can go round without waiting for the user.
    if let Some(node) = spinning_loop(&graph, &index, &successors) {
        e.at(
            Some(&node),
            "edges",
            "this node is on a loop with no module that waits for the user (branch, collect, \
             chatbot): it would never stop",
        );
        return Err(e.0);
    }
    // Every variable a template names is a system parameter or set on every path to it.
    let defined = defined_on_entry(&graph, &index, &start, &successors);
    for node in &graph.nodes {
        let known = &defined[&node.id];
        for (field, template) in templates(&node.module) {
            match variables(&template) {
                Err(message) => e.at(Some(&node.id), field, message),
                Ok(names) => {
                    for name in names {
                        if !SYSTEM_PARAMS.contains(&name) && !known.contains(name) {
                            e.at(
                                Some(&node.id),
                                field.clone(),
                                format!(
                                    "${{{name}}} is neither a system parameter nor set on every \
                                     path from start to here"
                                ),
                            );
                        }
                    }
                }
            }
        }
    }
    if !e.0.is_empty() {
        return Err(e.0);
    }
    Ok(Flow {
        graph,
        nodes: index,
        next,
        start,
    })
}

fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= super::MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn text(e: &mut Errors, node: &str, field: &str, value: &str, required: bool) {
    let n = value.chars().count();
    if required && value.trim().is_empty() {
        e.at(Some(node), field, "must not be empty");
    } else if n > MAX_TEXT_CHARS {
        e.at(
            Some(node),
            field,
            format!("longer than {MAX_TEXT_CHARS} characters ({n})"),
        );
    }
}

fn port_names<'a>(e: &mut Errors, node: &str, field: &str, ports: impl Iterator<Item = &'a str>) {
    let mut seen = BTreeSet::new();
    for (i, port) in ports.enumerate() {
        if !is_id(port) {
            e.at(
                Some(node),
                format!("{field}[{i}].port"),
                "a port is 1 to 64 letters, digits, '-' or '_'",
            );
        } else if port == "default" && field == "branches" {
            e.at(
                Some(node),
                format!("{field}[{i}].port"),
                "\"default\" is the default branch's port",
            );
        } else if !seen.insert(port) {
            e.at(
                Some(node),
                format!("{field}[{i}].port"),
                format!("port {port:?} is used twice"),
            );
        }
    }
}

fn count(e: &mut Errors, node: &str, field: &str, n: usize) {
    if n == 0 || n > MAX_OPTIONS {
        e.at(
            Some(node),
            field,
            format!("needs 1 to {MAX_OPTIONS} entries, got {n}"),
        );
    }
}

fn variable(e: &mut Errors, node: &str, field: &str, name: &str) {
    if !is_name(name) {
        e.at(
            Some(node),
            field,
            format!("{name:?} is not a variable name (a letter or '_', then letters, digits, '_')"),
        );
    } else if SYSTEM_PARAMS.contains(&name) {
        e.at(
            Some(node),
            field,
            format!("{name} is a system parameter; it cannot be set"),
        );
    }
}

fn url(e: &mut Errors, node: &str, field: &str, value: &str) {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => e.at(
            Some(node),
            field,
            format!("{value:?} is not an http or https URL"),
        ),
    }
}

fn timeout(e: &mut Errors, node: &str, field: &str, ms: u32) {
    if !CALL_TIMEOUT_MS.contains(&ms) {
        e.at(
            Some(node),
            field,
            format!(
                "{ms} is not between {} and {} ms",
                CALL_TIMEOUT_MS.start(),
                CALL_TIMEOUT_MS.end()
            ),
        );
    }
}

fn check_module(e: &mut Errors, node: &str, module: &Module) {
    match module {
        Module::Start => {}
        Module::ServiceTime { schedule } => {
            if let Err((field, message)) = schedule.check() {
                e.at(Some(node), field, message);
            }
        }
        Module::SendMessage { text: t } => text(e, node, "text", t, true),
        Module::Branch {
            text: t,
            invalid_prompt,
            options,
            ..
        } => {
            text(e, node, "text", t, true);
            text(e, node, "invalidPrompt", invalid_prompt, true);
            count(e, node, "options", options.len());
            port_names(e, node, "options", options.iter().map(|o| o.port.as_str()));
            let mut answers = BTreeSet::new();
            for (i, o) in options.iter().enumerate() {
                text(e, node, &format!("options[{i}].content"), &o.content, true);
                for answer in std::iter::once(&o.content).chain(&o.keywords) {
                    if !answers.insert(answer.trim().to_lowercase()) {
                        e.at(
                            Some(node),
                            format!("options[{i}]"),
                            format!("{answer:?} would pick two options"),
                        );
                    }
                }
            }
        }
        Module::TransferToAgent {
            queue_message,
            success_message,
            ..
        } => {
            text(e, node, "queueMessage", queue_message, false);
            text(e, node, "successMessage", success_message, false);
        }
        Module::Collect {
            form,
            text: t,
            options,
            variable: v,
            invalid_prompt,
        } => {
            text(e, node, "text", t, true);
            variable(e, node, "variable", v);
            match form {
                FormKind::Text if !options.is_empty() => {
                    e.at(Some(node), "options", "a text form has no options")
                }
                FormKind::Options => {
                    count(e, node, "options", options.len());
                    text(e, node, "invalidPrompt", invalid_prompt, true);
                    for (i, o) in options.iter().enumerate() {
                        text(e, node, &format!("options[{i}].content"), &o.content, true);
                    }
                }
                FormKind::Text => {}
            }
        }
        Module::InterfaceCall {
            url: u,
            params,
            response,
            timeout_ms,
            max_attempts,
        } => {
            url(e, node, "url", u);
            timeout(e, node, "timeoutMs", *timeout_ms);
            if !(1..=MAX_CALL_ATTEMPTS).contains(max_attempts) {
                e.at(
                    Some(node),
                    "maxAttempts",
                    format!("{max_attempts} is not between 1 and {MAX_CALL_ATTEMPTS}"),
                );
            }
            if params.len() > MAX_OPTIONS || response.len() > MAX_OPTIONS {
                e.at(
                    Some(node),
                    "params",
                    format!("at most {MAX_OPTIONS} fields"),
                );
            }
            let mut names = BTreeSet::new();
            for (i, p) in params.iter().enumerate() {
                if p.name.is_empty() || p.name.chars().count() > super::MAX_ID_CHARS {
                    e.at(
                        Some(node),
                        format!("params[{i}].name"),
                        "1 to 64 characters",
                    );
                } else if !names.insert(p.name.as_str()) {
                    e.at(Some(node), format!("params[{i}].name"), "used twice");
                }
                text(e, node, &format!("params[{i}].value"), &p.value, false);
            }
            for (i, f) in response.iter().enumerate() {
                if f.field.is_empty() || f.field.chars().count() > super::MAX_ID_CHARS {
                    e.at(
                        Some(node),
                        format!("response[{i}].field"),
                        "1 to 64 characters",
                    );
                }
                variable(e, node, &format!("response[{i}].variable"), &f.variable);
                text(
                    e,
                    node,
                    &format!("response[{i}].default"),
                    &f.default,
                    false,
                );
            }
        }
        Module::Condition { branches } => {
            if branches.len() > MAX_OPTIONS {
                e.at(Some(node), "branches", format!("at most {MAX_OPTIONS}"));
            }
            port_names(
                e,
                node,
                "branches",
                branches.iter().map(|b| b.port.as_str()),
            );
            for (i, b) in branches.iter().enumerate() {
                count(
                    e,
                    node,
                    &format!("branches[{i}].conditions"),
                    b.conditions.len(),
                );
                for (j, c) in b.conditions.iter().enumerate() {
                    if !is_name(&c.variable) {
                        e.at(
                            Some(node),
                            format!("branches[{i}].conditions[{j}].variable"),
                            format!("{:?} is not a variable name", c.variable),
                        );
                    }
                    text(
                        e,
                        node,
                        &format!("branches[{i}].conditions[{j}].value"),
                        &c.value,
                        false,
                    );
                }
            }
        }
        Module::Chatbot {
            bot,
            handover_keywords,
        } => {
            match bot {
                Bot::Faq {
                    threshold,
                    no_answer,
                } => {
                    if !(0.0..=1.0).contains(threshold) {
                        e.at(
                            Some(node),
                            "bot.threshold",
                            format!("{threshold} is not between 0 and 1"),
                        );
                    }
                    text(e, node, "bot.noAnswer", no_answer, false);
                }
                Bot::Webhook { url: u, timeout_ms } => {
                    url(e, node, "bot.url", u);
                    timeout(e, node, "bot.timeoutMs", *timeout_ms);
                }
            }
            if handover_keywords.len() > MAX_OPTIONS {
                e.at(
                    Some(node),
                    "handoverKeywords",
                    format!("at most {MAX_OPTIONS}"),
                );
            }
            for (i, k) in handover_keywords.iter().enumerate() {
                text(e, node, &format!("handoverKeywords[{i}]"), k, true);
            }
        }
        Module::End {
            reply_timeout_secs,
            auto_termination_message,
            human_termination_message,
        } => {
            if *reply_timeout_secs != 0 && !(60..=86_400).contains(reply_timeout_secs) {
                e.at(
                    Some(node),
                    "replyTimeoutSecs",
                    format!("{reply_timeout_secs} is neither 0 (off) nor between 60 and 86400"),
                );
            }
            text(
                e,
                node,
                "autoTerminationMessage",
                auto_termination_message,
                false,
            );
            text(
                e,
                node,
                "humanTerminationMessage",
                human_termination_message,
                false,
            );
        }
    }
}

/// Every template of a module, with its field.
fn templates(module: &Module) -> Vec<(String, String)> {
    let one = |f: &str, t: &str| vec![(f.to_owned(), t.to_owned())];
    match module {
        Module::SendMessage { text } => one("text", text),
        Module::Branch {
            text,
            invalid_prompt,
            ..
        } => [one("text", text), one("invalidPrompt", invalid_prompt)].concat(),
        Module::TransferToAgent {
            queue_message,
            success_message,
            ..
        } => [
            one("queueMessage", queue_message),
            one("successMessage", success_message),
        ]
        .concat(),
        Module::Collect {
            text,
            invalid_prompt,
            ..
        } => [one("text", text), one("invalidPrompt", invalid_prompt)].concat(),
        Module::InterfaceCall { params, .. } => params
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("params[{i}].value"), p.value.clone()))
            .collect(),
        Module::Condition { branches } => branches
            .iter()
            .enumerate()
            .flat_map(|(i, b)| {
                b.conditions.iter().enumerate().flat_map(move |(j, c)| {
                    [
                        (
                            format!("branches[{i}].conditions[{j}].variable"),
                            format!("${{{}}}", c.variable),
                        ),
                        (
                            format!("branches[{i}].conditions[{j}].value"),
                            c.value.clone(),
                        ),
                    ]
                })
            })
            .collect(),
        Module::Chatbot {
            bot: Bot::Faq { no_answer, .. },
            ..
        } => one("bot.noAnswer", no_answer),
        Module::End {
            auto_termination_message,
            human_termination_message,
            ..
        } => [
            one("autoTerminationMessage", auto_termination_message),
            one("humanTerminationMessage", human_termination_message),
        ]
        .concat(),
        _ => Vec::new(),
    }
}

/// A node on a cycle made only of modules that do not wait for the user.
fn spinning_loop(
    graph: &Graph,
    index: &BTreeMap<String, usize>,
    successors: &dyn Fn(&str) -> Vec<String>,
) -> Option<String> {
    // Depth-first search over the non-waiting nodes, with colours.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let spins = |id: &str| !graph.nodes[index[id]].module.waits_for_user();
    let mut colour: BTreeMap<&str, Colour> =
        index.keys().map(|k| (k.as_str(), Colour::White)).collect();
    for root in index.keys() {
        if !spins(root) || colour[root.as_str()] != Colour::White {
            continue;
        }
        // Iterative DFS: (node, its successors, next successor index).
        let mut stack: Vec<(String, Vec<String>, usize)> =
            vec![(root.clone(), successors(root), 0)];
        colour.insert(root.as_str(), Colour::Grey);
        while let Some((node, succ, i)) = stack.last_mut() {
            if *i == succ.len() {
                let done = node.clone();
                stack.pop();
                if let Some((k, _)) = index.get_key_value(&done) {
                    colour.insert(k.as_str(), Colour::Black);
                }
                continue;
            }
            let s = succ[*i].clone();
            *i += 1;
            if !spins(&s) {
                continue;
            }
            let Some((k, _)) = index.get_key_value(&s) else {
                continue;
            };
            match colour[k.as_str()] {
                Colour::Grey => return Some(s),
                Colour::White => {
                    colour.insert(k.as_str(), Colour::Grey);
                    let next = successors(&s);
                    stack.push((s, next, 0));
                }
                Colour::Black => {}
            }
        }
    }
    None
}

/// The variables set on every path from start to each node (on entry to it).
fn defined_on_entry(
    graph: &Graph,
    index: &BTreeMap<String, usize>,
    start: &str,
    successors: &dyn Fn(&str) -> Vec<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let all: BTreeSet<String> = graph
        .nodes
        .iter()
        .flat_map(|n| n.module.sets())
        .map(str::to_owned)
        .collect();
    let mut preds: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for id in index.keys() {
        for s in successors(id) {
            if let Some((k, _)) = index.get_key_value(&s) {
                preds.entry(k.as_str()).or_default().push(id.as_str());
            }
        }
    }
    let mut entry: BTreeMap<String, BTreeSet<String>> = index
        .keys()
        .map(|k| {
            let init = if k == start {
                BTreeSet::new()
            } else {
                all.clone()
            };
            (k.clone(), init)
        })
        .collect();
    let out = |entry: &BTreeMap<String, BTreeSet<String>>, id: &str| {
        let mut set = entry[id].clone();
        set.extend(
            graph.nodes[index[id]]
                .module
                .sets()
                .into_iter()
                .map(str::to_owned),
        );
        set
    };
    // Sets only shrink from "everything", so this ends within |nodes| * |variables| rounds.
    loop {
        let mut changed = false;
        for id in index.keys() {
            if id == start {
                continue;
            }
            let mut meet: Option<BTreeSet<String>> = None;
            for p in preds.get(id.as_str()).into_iter().flatten() {
                let o = out(&entry, p);
                meet = Some(match meet {
                    None => o,
                    Some(m) => m.intersection(&o).cloned().collect(),
                });
            }
            let meet = meet.unwrap_or_default();
            if meet != entry[id] {
                entry.insert(id.clone(), meet);
                changed = true;
            }
        }
        if !changed {
            return entry;
        }
    }
}
