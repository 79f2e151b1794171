//! The flow model, its validation and its interpreter, module by module.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::json;

use super::testing::{edge, end, menu, node};
use super::*;
use crate::domain::ids::GroupId;

const NOW: i64 = 1_790_000_000_000;

fn system() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("UserId".to_owned(), "u1".to_owned()),
        ("SystemSessionId".to_owned(), "session-9".to_owned()),
        ("ChannelName".to_owned(), "Support".to_owned()),
    ])
}

fn flow(nodes: Vec<Node>, edges: Vec<Edge>) -> Flow {
    validate(Graph { nodes, edges }).unwrap_or_else(|e| panic!("{e:#?}"))
}

fn errors(nodes: Vec<Node>, edges: Vec<Edge>) -> Vec<FlowError> {
    validate(Graph { nodes, edges }).expect_err("refused")
}

fn say(text: &str) -> Module {
    Module::SendMessage { text: text.into() }
}

fn transfer(group: u64) -> Module {
    Module::TransferToAgent {
        group: GroupId(group),
        queue_message: "${WaitNo} ahead of you".into(),
        success_message: "${StaffNickName} will help you".into(),
    }
}

fn call_module(max_attempts: u32) -> Module {
    Module::InterfaceCall {
        url: "http://127.0.0.1:9/score".into(),
        params: vec![
            CallParam {
                name: "phone".into(),
                value: "${phone}".into(),
            },
            CallParam {
                name: "session".into(),
                value: "${SystemSessionId}".into(),
            },
        ],
        response: vec![CallField {
            field: "score".into(),
            variable: "score".into(),
            default: "0".into(),
        }],
        timeout_ms: 1_000,
        max_attempts,
    }
}

fn condition() -> Module {
    Module::Condition {
        branches: vec![
            ConditionBranch {
                port: "vip".into(),
                combine: Combine::All,
                conditions: vec![Comparison {
                    variable: "score".into(),
                    op: Op::Ge,
                    value: "90".into(),
                }],
            },
            ConditionBranch {
                port: "known".into(),
                combine: Combine::Any,
                conditions: vec![
                    Comparison {
                        variable: "score".into(),
                        op: Op::Gt,
                        value: "0".into(),
                    },
                    Comparison {
                        variable: "phone".into(),
                        op: Op::Eq,
                        value: "none".into(),
                    },
                ],
            },
        ],
    }
}

/// welcome -> menu { sales -> collect phone -> call -> condition { vip -> transfer 1,
/// known -> transfer 2, default -> bot -> transfer 2 }, support -> transfer 2 } -> end
fn full() -> Flow {
    flow(
        vec![
            node("start", Module::Start),
            node("welcome", say("Hello ${UserId}, welcome to ${ChannelName}")),
            node(
                "menu",
                menu(
                    "Please select",
                    &[("sales", "Pre-sales"), ("support", "After-sales")],
                ),
            ),
            node(
                "phone",
                Module::Collect {
                    form: FormKind::Text,
                    text: "Your phone number?".into(),
                    options: vec![],
                    variable: "phone".into(),
                    invalid_prompt: String::new(),
                },
            ),
            node("score", call_module(3)),
            node("judge", condition()),
            node(
                "bot",
                Module::Chatbot {
                    bot: Bot::Faq {
                        threshold: 0.5,
                        no_answer: "Sorry, I do not know".into(),
                    },
                    handover_keywords: vec!["human".into()],
                },
            ),
            node("vip", transfer(1)),
            node("desk", transfer(2)),
            node(
                "end",
                Module::End {
                    reply_timeout_secs: 120,
                    auto_termination_message: "Bye ${UserId}".into(),
                    human_termination_message: "Thanks".into(),
                },
            ),
        ],
        vec![
            edge("start", "next", "welcome"),
            edge("welcome", "next", "menu"),
            edge("menu", "sales", "phone"),
            edge("menu", "support", "desk"),
            edge("phone", "next", "score"),
            edge("score", "next", "judge"),
            edge("judge", "vip", "vip"),
            edge("judge", "known", "desk"),
            edge("judge", "default", "bot"),
            edge("bot", "handover", "desk"),
            edge("vip", "next", "end"),
            edge("desk", "next", "end"),
        ],
    )
}

fn run(f: &Flow, s: &FlowState, input: Input) -> (Vec<Output>, FlowState) {
    step(f, s, &input, NOW).unwrap()
}

fn text(t: &str) -> Input {
    Input::UserText(t.into())
}

fn call_key(outputs: &[Output]) -> String {
    outputs
        .iter()
        .find_map(|o| match o {
            Output::Call { key, .. } => Some(key.clone()),
            _ => None,
        })
        .expect("a call")
}

fn answered(key: &str, score: serde_json::Value) -> Input {
    let serde_json::Value::Object(map) = json!({"score": score}) else {
        unreachable!()
    };
    Input::CallDone {
        key: key.into(),
        result: Ok(map),
    }
}

#[test]
fn a_user_goes_through_welcome_menu_collect_call_and_condition_to_a_group() {
    let f = full();
    let s = FlowState::new(&f, system());
    let (out, s) = run(&f, &s, Input::Begin);
    assert_eq!(
        out,
        vec![
            Output::Say("Hello u1, welcome to Support".into()),
            Output::Menu {
                header: "Please select".into(),
                items: vec![
                    ("Pre-sales".into(), String::new()),
                    ("After-sales".into(), String::new())
                ],
            }
        ]
    );
    assert_eq!((s.node.as_str(), &s.wait), ("menu", &Wait::User));
    let (out, s) = run(&f, &s, text("Pre-sales"));
    assert!(matches!(
        &out[..],
        [Output::Form {
            kind: FormKind::Text,
            ..
        }]
    ));
    let (out, s) = run(&f, &s, text("+33 6 12"));
    assert_eq!(s.vars["phone"], "+33 6 12");
    let Output::Call { body, attempt, .. } = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(body, &json!({"phone": "+33 6 12", "session": "session-9"}));
    assert_eq!(*attempt, 1);
    let key = call_key(&out);
    // The score is a number in the answer: kept as its text.
    let (out, s) = run(&f, &s, answered(&key, json!(95)));
    assert_eq!(s.vars["score"], "95");
    assert_eq!(
        out,
        vec![
            Output::RequestHuman {
                group: GroupId(1),
                queue_message: "${WaitNo} ahead of you".into(),
                success_message: "${StaffNickName} will help you".into(),
            },
            Output::Finished {
                reply_timeout_secs: 120,
                auto_termination_message: "Bye u1".into(),
                human_termination_message: "Thanks".into(),
            }
        ]
    );
    assert!(s.done());
    // A finished flow ignores everything.
    let (out, after) = run(&f, &s, text("hello?"));
    assert!(out.is_empty() && after == s);
}

#[test]
fn a_wrong_menu_answer_is_told_and_asked_again() {
    let f = full();
    let (_, s) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    for wrong in ["pre-sales", " Pre-sales", "1", ""] {
        let (out, again) = run(&f, &s, text(wrong));
        assert_eq!(
            out[0],
            Output::Say("Your input is incorrect, please re-enter".into()),
            "{wrong:?}"
        );
        assert!(matches!(out[1], Output::Menu { .. }));
        assert_eq!(again, s, "nothing moved");
    }
    let (out, s) = run(&f, &s, text("After-sales"));
    assert!(matches!(
        out[0],
        Output::RequestHuman {
            group: GroupId(2),
            ..
        }
    ));
    assert!(s.done());
}

#[test]
fn a_keyword_branch_takes_keywords_in_any_case() {
    let mut branch = menu(
        "Reply 1 for presales, 2 for aftersales",
        &[("pre", "presales"), ("post", "aftersales")],
    );
    if let Module::Branch { style, options, .. } = &mut branch {
        *style = BranchStyle::Keyword;
        options[0].keywords = vec!["1".into()];
        options[1].keywords = vec!["2".into()];
    }
    let f = flow(
        vec![
            node("start", Module::Start),
            node("ask", branch),
            node("a", say("pre")),
            node("b", say("post")),
            node("end", end()),
        ],
        vec![
            edge("start", "next", "ask"),
            edge("ask", "pre", "a"),
            edge("ask", "post", "b"),
            edge("a", "next", "end"),
            edge("b", "next", "end"),
        ],
    );
    let (out, s) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    assert_eq!(
        out,
        vec![Output::Say("Reply 1 for presales, 2 for aftersales".into())]
    );
    for (said, expected) in [(" 2 ", "post"), ("PRESALES", "pre"), ("1", "pre")] {
        let (out, _) = run(&f, &s, text(said));
        assert_eq!(out[0], Output::Say(expected.into()), "{said:?}");
    }
    let (out, _) = run(&f, &s, text("3"));
    assert!(matches!(&out[0], Output::Say(t) if t.contains("incorrect")));
}

#[test]
fn an_options_form_takes_only_its_options() {
    let f = flow(
        vec![
            node("start", Module::Start),
            node(
                "size",
                Module::Collect {
                    form: FormKind::Options,
                    text: "Which size?".into(),
                    options: vec![
                        FormOption {
                            content: "S".into(),
                            desc: String::new(),
                        },
                        FormOption {
                            content: "M".into(),
                            desc: String::new(),
                        },
                    ],
                    variable: "size".into(),
                    invalid_prompt: "Pick S or M".into(),
                },
            ),
            node("tell", say("Size ${size}")),
            node("end", end()),
        ],
        vec![
            edge("start", "next", "size"),
            edge("size", "next", "tell"),
            edge("tell", "next", "end"),
        ],
    );
    let (_, s) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    let (out, again) = run(&f, &s, text("XL"));
    assert_eq!(out[0], Output::Say("Pick S or M".into()));
    assert_eq!(again, s);
    let (out, s) = run(&f, &s, text("M"));
    assert_eq!(out[0], Output::Say("Size M".into()));
    assert!(s.done());
}

#[test]
fn a_failing_call_is_retried_then_defaults_apply_and_stale_answers_change_nothing() {
    let f = full();
    let (_, s) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    let (_, s) = run(&f, &s, text("Pre-sales"));
    let (out, s) = run(&f, &s, text("555"));
    let key = call_key(&out);
    let failed = |k: &str| Input::CallDone {
        key: k.into(),
        result: Err("timed out".into()),
    };
    // A stale key and a user's text while the call runs: nothing.
    let (out, same) = run(&f, &s, failed("other:1"));
    assert!(out.is_empty() && same == s);
    let (out, same) = run(&f, &s, text("are you there?"));
    assert!(out.is_empty() && same == s);
    // Attempts 2 and 3 go out with the same key; then the defaults.
    let (out, s) = run(&f, &s, failed(&key));
    assert!(matches!(&out[..], [Output::Call { attempt: 2, key: k, .. }] if *k == key));
    let (out, s) = run(&f, &s, failed(&key));
    assert!(matches!(&out[..], [Output::Call { attempt: 3, .. }]));
    let (out, s) = run(&f, &s, failed(&key));
    assert_eq!(s.vars["score"], "0", "the default");
    // score 0: neither vip nor known (0 > 0 is false, phone is not "none"): the bot.
    assert!(out.is_empty(), "{out:?}");
    assert_eq!((s.node.as_str(), &s.wait), ("bot", &Wait::User));
    // A second call of the same node gets a new key.
    assert_ne!(key, format!("score:{}", s.calls + 1));
}

#[test]
fn conditions_compare_numbers_as_numbers_and_mismatches_fall_to_default() {
    assert!(compare("10", Op::Gt, "9"), "numbers, not text");
    assert!(!compare("10", Op::Gt, "9a"), "a mismatch orders nothing");
    assert!(compare("10", Op::Ne, "9a"));
    assert!(!compare("10", Op::Eq, "ten"));
    assert!(compare("b", Op::Gt, "a"), "text compares as text");
    assert!(compare("", Op::Eq, ""));
    assert!(compare(" 7 ", Op::Eq, "7.0"));
    assert!(
        compare("NaN", Op::Eq, "NaN"),
        "not a finite number: text, equal as text"
    );
    assert!(
        !compare("NaN", Op::Gt, "1"),
        "and a text does not order against a number"
    );
    let f = full();
    let (_, s) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    let (_, s) = run(&f, &s, text("Pre-sales"));
    for (score, port) in [
        (json!(90), "vip"),
        (json!("89.5"), "desk"),
        (json!("high"), "bot"),
        (json!(null), "bot"),
    ] {
        let (out, s2) = run(&f, &s, text("none?"));
        let key = call_key(&out);
        let (_, s3) = run(&f, &s2, answered(&key, score.clone()));
        let reached = match port {
            "bot" => s3.node == "bot",
            _ => s3.done(),
        };
        assert!(reached, "{score}: at {}", s3.node);
    }
}

#[test]
fn the_bot_answers_until_it_hands_over() {
    let f = full();
    let (_, s) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    let (_, s) = run(&f, &s, text("Pre-sales"));
    let (out, s) = run(&f, &s, text("555"));
    let (_, s) = run(&f, &s, answered(&call_key(&out), json!("x")));
    assert_eq!(s.node, "bot");
    let (out, s) = run(&f, &s, text("opening hours?"));
    let Output::AskBot {
        key, text: asked, ..
    } = &out[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(asked, "opening hours?");
    let reply = |answer: Option<&str>, handover| Input::BotDone {
        key: key.clone(),
        result: Ok(step::BotReply {
            answer: answer.map(str::to_owned),
            handover,
        }),
    };
    let (out, s2) = run(&f, &s, reply(Some("9 to 6"), false));
    assert_eq!(out, vec![Output::Say("9 to 6".into())]);
    assert_eq!(s2.wait, Wait::User);
    let (out, _) = run(&f, &s, reply(None, false));
    assert_eq!(out, vec![Output::Say("Sorry, I do not know".into())]);
    let (out, s3) = run(&f, &s2, text(" HUMAN "));
    assert!(matches!(
        out[0],
        Output::RequestHuman {
            group: GroupId(2),
            ..
        }
    ));
    assert!(s3.done());
    // A failing bot hands over too.
    let (out, _) = run(
        &f,
        &s,
        Input::BotDone {
            key: key.clone(),
            result: Err("webhook down".into()),
        },
    );
    assert!(matches!(out[0], Output::RequestHuman { .. }));
}

#[test]
fn the_clients_human_service_button_takes_the_way_to_a_human() {
    let f = full();
    let (_, menu_at) = run(&f, &FlowState::new(&f, system()), Input::Begin);
    // At a menu: the option that leads straight to a transfer module.
    for asked in ["human service", "人工服务", " Human  Service "] {
        let (out, s) = run(&f, &menu_at, text(asked));
        assert!(
            matches!(
                out[0],
                Output::RequestHuman {
                    group: GroupId(2),
                    ..
                }
            ),
            "{asked:?}: {out:?}"
        );
        assert!(s.done());
    }
    // At a chatbot: a handover, whatever its own keywords.
    let (_, s) = run(&f, &menu_at, text("Pre-sales"));
    let (out, s) = run(&f, &s, text("555"));
    let (_, s) = run(&f, &s, answered(&call_key(&out), json!("x")));
    assert_eq!(s.node, "bot");
    let (out, s) = run(&f, &s, text("人工服务"));
    assert!(matches!(out[0], Output::RequestHuman { .. }), "{out:?}");
    assert!(s.done());
    // A menu none of whose options leads to a human: told and asked again, as any wrong answer.
    let lone = flow(
        vec![
            node("start", Module::Start),
            node("menu", menu("Pick", &[("a", "A"), ("b", "B")])),
            node("x", say("x")),
            node("end", end()),
        ],
        vec![
            edge("start", "next", "menu"),
            edge("menu", "a", "x"),
            edge("menu", "b", "x"),
            edge("x", "next", "end"),
        ],
    );
    let (_, at) = run(&lone, &FlowState::new(&lone, system()), Input::Begin);
    let (out, again) = run(&lone, &at, text("human service"));
    assert!(matches!(out.last(), Some(Output::Menu { .. })), "{out:?}");
    assert_eq!(again, at);
}

#[test]
fn service_time_routes_in_and_out_of_hours() {
    let schedule = ServiceTime {
        time_zone: "Asia/Shanghai".into(),
        weekly: vec![WeeklyHours {
            days: vec![Day::Mon, Day::Tue, Day::Wed, Day::Thu, Day::Fri],
            hours: vec![TimeRange {
                from: "09:00".into(),
                to: "18:00".into(),
            }],
        }],
        exceptions: vec![],
    };
    let f = flow(
        vec![
            node("start", Module::Start),
            node("hours", Module::ServiceTime { schedule }),
            node("open", say("open")),
            node("closed", say("closed")),
            node("end", end()),
        ],
        vec![
            edge("start", "next", "hours"),
            edge("hours", "in_hours", "open"),
            edge("hours", "out_of_hours", "closed"),
            edge("open", "next", "end"),
            edge("closed", "next", "end"),
        ],
    );
    let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    let s = FlowState::new(&f, system());
    // Wednesday 2026-11-25: 09:00 in Shanghai is 01:00Z.
    let (out, _) = step(&f, &s, &Input::Begin, at("2026-11-25T01:00:00Z")).unwrap();
    assert_eq!(out[0], Output::Say("open".into()));
    let (out, _) = step(&f, &s, &Input::Begin, at("2026-11-25T00:59:59Z")).unwrap();
    assert_eq!(out[0], Output::Say("closed".into()));
    let (out, _) = step(&f, &s, &Input::Begin, at("2026-11-25T10:00:00Z")).unwrap();
    assert_eq!(out[0], Output::Say("closed".into()), "18:00 closes");
}

fn fields(errors: &[FlowError]) -> Vec<(Option<&str>, &str)> {
    errors
        .iter()
        .map(|e| (e.node.as_deref(), e.field.as_str()))
        .collect()
}

#[test]
fn invalid_graphs_are_refused_naming_node_and_field() {
    let ok_nodes = || {
        vec![
            node("start", Module::Start),
            node("hi", say("hi")),
            node("end", end()),
        ]
    };
    let ok_edges = || vec![edge("start", "next", "hi"), edge("hi", "next", "end")];
    // Two starts, no end.
    let e = errors(
        vec![node("s1", Module::Start), node("s2", Module::Start)],
        vec![edge("s1", "next", "s2")],
    );
    assert!(
        e.iter().any(|e| e.message.contains("exactly one start")),
        "{e:?}"
    );
    assert!(
        e.iter().any(|e| e.message.contains("exactly one end")),
        "{e:?}"
    );
    // A port that leads nowhere, and a dangling edge.
    let e = errors(
        ok_nodes(),
        vec![edge("start", "next", "hi"), edge("hi", "next", "nowhere")],
    );
    assert!(fields(&e).contains(&(None, "edges[1].to")), "{e:?}");
    assert!(fields(&e).contains(&(Some("hi"), "ports.next")), "{e:?}");
    // A port the module does not have; a port connected twice.
    let mut edges = ok_edges();
    edges.push(edge("hi", "other", "end"));
    assert_eq!(
        fields(&errors(ok_nodes(), edges)),
        vec![(Some("hi"), "edges[2].port")]
    );
    let mut edges = ok_edges();
    edges.push(edge("hi", "next", "hi"));
    assert!(fields(&errors(ok_nodes(), edges)).contains(&(Some("hi"), "edges[2].port")));
    // An unreachable node.
    let mut nodes = ok_nodes();
    nodes.push(node("lost", say("x")));
    let mut edges = ok_edges();
    edges.push(edge("lost", "next", "end"));
    assert_eq!(fields(&errors(nodes, edges)), vec![(Some("lost"), "id")]);
    // Duplicate and malformed ids; bad config fields.
    let mut nodes = ok_nodes();
    nodes.push(node("hi", say("again")));
    assert!(fields(&errors(nodes, ok_edges())).contains(&(Some("hi"), "id")));
    let e = errors(
        vec![
            node("start", Module::Start),
            node("hi", say("")),
            node(
                "call",
                Module::InterfaceCall {
                    url: "ftp://x".into(),
                    params: vec![],
                    response: vec![CallField {
                        field: "a".into(),
                        variable: "UserId".into(),
                        default: String::new(),
                    }],
                    timeout_ms: 5,
                    max_attempts: 9,
                },
            ),
            node(
                "end",
                Module::End {
                    reply_timeout_secs: 30,
                    auto_termination_message: String::new(),
                    human_termination_message: String::new(),
                },
            ),
        ],
        vec![
            edge("start", "next", "hi"),
            edge("hi", "next", "call"),
            edge("call", "next", "end"),
        ],
    );
    let f = fields(&e);
    for expected in [
        (Some("hi"), "text"),
        (Some("call"), "url"),
        (Some("call"), "timeoutMs"),
        (Some("call"), "maxAttempts"),
        (Some("call"), "response[0].variable"),
        (Some("end"), "replyTimeoutSecs"),
    ] {
        assert!(f.contains(&expected), "{expected:?} in {f:?}");
    }
}

#[test]
fn a_loop_without_a_question_is_refused_and_one_with_a_question_is_not() {
    let spin = errors(
        vec![
            node("start", Module::Start),
            node("a", say("a")),
            node(
                "judge",
                Module::Condition {
                    branches: vec![ConditionBranch {
                        port: "again".into(),
                        combine: Combine::All,
                        conditions: vec![Comparison {
                            variable: "UserId".into(),
                            op: Op::Eq,
                            value: "u1".into(),
                        }],
                    }],
                },
            ),
            node("end", end()),
        ],
        vec![
            edge("start", "next", "a"),
            edge("a", "next", "judge"),
            edge("judge", "again", "a"),
            edge("judge", "default", "end"),
        ],
    );
    assert_eq!(spin.len(), 1, "{spin:?}");
    assert_eq!(spin[0].field, "edges");
    assert!(spin[0].node.is_some());
    // Through a menu, the same loop waits for the user each time round.
    flow(
        vec![
            node("start", Module::Start),
            node("ask", menu("Again?", &[("yes", "Yes"), ("no", "No")])),
            node("a", say("a")),
            node("end", end()),
        ],
        vec![
            edge("start", "next", "ask"),
            edge("ask", "yes", "a"),
            edge("a", "next", "ask"),
            edge("ask", "no", "end"),
        ],
    );
}

#[test]
fn a_variable_must_be_set_on_every_path_before_it_is_used() {
    let collect = |v: &str| Module::Collect {
        form: FormKind::Text,
        text: "?".into(),
        options: vec![],
        variable: v.into(),
        invalid_prompt: String::new(),
    };
    let nodes = |used: &str| {
        vec![
            node("start", Module::Start),
            node("ask", menu("Which?", &[("a", "A"), ("b", "B")])),
            node("name", collect("name")),
            node("skip", say("skipping")),
            node("use", say(used)),
            node("end", end()),
        ]
    };
    let edges = || {
        vec![
            edge("start", "next", "ask"),
            edge("ask", "a", "name"),
            edge("ask", "b", "skip"),
            edge("name", "next", "use"),
            edge("skip", "next", "use"),
            edge("use", "next", "end"),
        ]
    };
    let e = errors(nodes("Hello ${name}"), edges());
    assert_eq!(fields(&e), vec![(Some("use"), "text")]);
    assert!(e[0].message.contains("${name}"));
    let e = errors(nodes("Hello ${nobody}"), edges());
    assert_eq!(fields(&e), vec![(Some("use"), "text")]);
    flow(nodes("Hello ${UserId} from ${ChannelName}"), edges());
    let e = errors(nodes("Hello ${name"), edges());
    assert!(e[0].message.contains("never closed"), "{e:?}");
}

#[test]
fn a_flow_round_trips_through_its_json() {
    let f = full();
    let text = serde_json::to_string(&f.graph).unwrap();
    assert_eq!(parse(&text).unwrap(), f);
    let e = parse(r#"{"nodes":[{"id":"s","module":{"type":"teleport"}}],"edges":[]}"#).unwrap_err();
    assert_eq!(e[0].field, "graph");
    assert!(e[0].message.contains("teleport"), "{e:?}");
}

/// The canvas's positions are kept as saved (absent stays absent), and bounded.
#[test]
fn node_positions_round_trip_and_are_bounded() {
    let mut f = full();
    f.graph.nodes[1].position = Some(Position {
        x: -40,
        y: 1_000_000,
    });
    let text = serde_json::to_string(&f.graph).unwrap();
    assert!(
        text.contains(r#""position":{"x":-40,"y":1000000}"#),
        "{text}"
    );
    assert_eq!(
        text.matches("position").count(),
        1,
        "absent positions are not written"
    );
    let again = parse(&text).unwrap();
    assert_eq!(serde_json::to_string(&again.graph).unwrap(), text);
    let mut far = f.graph.clone();
    far.nodes[1].position = Some(Position {
        x: 1_000_001,
        y: i32::MIN,
    });
    let e = validate(far).expect_err("refused");
    let id = f.graph.nodes[1].id.as_str();
    assert_eq!(
        fields(&e),
        vec![(Some(id), "position.x"), (Some(id), "position.y")]
    );
}

/// Graphs saved before the API's keys became camelCase sit in the log with snake_case keys:
/// they still load, as the same flow, while the strict parse the API uses refuses them.
#[test]
fn a_graph_saved_with_snake_case_keys_still_loads() {
    fn snake(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, mut v) in std::mem::take(map) {
                    snake(&mut v);
                    let mut k = String::new();
                    for c in key.chars() {
                        if c.is_ascii_uppercase() {
                            k.push('_');
                        }
                        k.push(c.to_ascii_lowercase());
                    }
                    map.insert(k, v);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(snake),
            _ => {}
        }
    }
    let f = full();
    let text = serde_json::to_string(&f.graph).unwrap();
    assert!(matches!(saved_graph(&text), std::borrow::Cow::Borrowed(_)));
    let mut old = serde_json::to_value(&f.graph).unwrap();
    snake(&mut old);
    let old = old.to_string();
    assert!(old.contains("\"invalid_prompt\""), "{old}");
    assert!(parse(&old).is_err(), "the API's parse refuses old keys");
    assert_eq!(parse(&saved_graph(&old)).unwrap(), f);
}

// ---- random graphs: what validation accepts, the interpreter runs without getting stuck ----

fn random_module() -> impl Strategy<Value = Module> {
    let call = Module::InterfaceCall {
        url: "http://127.0.0.1:9/score".into(),
        params: vec![CallParam {
            name: "session".into(),
            value: "${SystemSessionId}".into(),
        }],
        response: vec![CallField {
            field: "score".into(),
            variable: "score".into(),
            default: "0".into(),
        }],
        timeout_ms: 1_000,
        max_attempts: 2,
    };
    let judge = Module::Condition {
        branches: vec![ConditionBranch {
            port: "mine".into(),
            combine: Combine::Any,
            conditions: vec![Comparison {
                variable: "UserId".into(),
                op: Op::Eq,
                value: "u1".into(),
            }],
        }],
    };
    prop_oneof![
        Just(say("hello ${UserId}")),
        // Valid only where every path set it: validation decides.
        Just(say("you said ${answer}")),
        Just(menu("pick", &[("x", "X"), ("y", "Y")])),
        Just(Module::Collect {
            form: FormKind::Text,
            text: "?".into(),
            options: vec![],
            variable: "answer".into(),
            invalid_prompt: String::new(),
        }),
        Just(call),
        Just(judge),
        Just(transfer(1)),
        Just(Module::Chatbot {
            bot: Bot::Faq {
                threshold: 0.5,
                no_answer: String::new(),
            },
            handover_keywords: vec!["human".into()],
        }),
    ]
}

fn random_graph() -> impl Strategy<Value = Graph> {
    (2usize..8)
        .prop_flat_map(|n| {
            let modules = (0..n).map(|_| random_module().boxed()).collect::<Vec<_>>();
            // For every port of every node, a target index (any node but start; may be the end).
            (Just(n), modules, proptest::collection::vec(0usize..64, 64))
        })
        .prop_map(|(n, modules, targets)| {
            let mut nodes = vec![node("start", Module::Start)];
            for (i, m) in modules.into_iter().enumerate() {
                nodes.push(node(&format!("n{i}"), m));
            }
            nodes.push(node("end", end()));
            let total = nodes.len();
            let mut edges = Vec::new();
            let mut t = targets.into_iter().cycle();
            for (i, nd) in nodes.iter().enumerate() {
                for (k, port) in nd.module.ports().into_iter().enumerate() {
                    // The first port leads on to the next node, so every node can be reached;
                    // the others anywhere but start: forward, back (loops) or to the end.
                    let to = if k == 0 {
                        i + 1
                    } else {
                        1 + t.next().unwrap_or(0) % (total - 1)
                    };
                    edges.push(edge(&nd.id, &port, &nodes[to].id));
                }
            }
            let _ = n;
            Graph { nodes, edges }
        })
}

fn random_input(s: &FlowState, pick: u8) -> Input {
    match &s.wait {
        Wait::Call(key) => Input::CallDone {
            key: key.clone(),
            result: if pick.is_multiple_of(3) {
                Err("down".into())
            } else {
                let serde_json::Value::Object(m) = json!({"score": pick}) else {
                    unreachable!()
                };
                Ok(m)
            },
        },
        Wait::Bot(key) => Input::BotDone {
            key: key.clone(),
            result: Ok(step::BotReply {
                answer: Some("bot says".into()),
                handover: pick.is_multiple_of(2),
            }),
        },
        _ => Input::UserText(["X", "Y", "human", "anything"][usize::from(pick) % 4].into()),
    }
}

#[test]
fn the_random_graphs_are_often_valid_and_often_not() {
    // The property below means something only if both sides are drawn.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut valid, mut invalid, mut spinning) = (0, 0, 0);
    for _ in 0..500 {
        let graph =
            proptest::strategy::ValueTree::current(&random_graph().new_tree(&mut runner).unwrap());
        match validate(graph) {
            Ok(_) => valid += 1,
            Err(e) => {
                invalid += 1;
                if e.iter().any(|e| e.field == "edges") {
                    spinning += 1;
                }
            }
        }
    }
    assert!(
        valid >= 50 && invalid >= 50,
        "{valid} valid, {invalid} invalid"
    );
    assert!(
        spinning >= 10,
        "{spinning} spinning loops among the refusals"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever graph is drawn, a flow that validation accepts never gets stuck: every input
    /// either leaves it waiting for something or finishes it, and no step fails.
    #[test]
    fn what_validation_accepts_runs_without_getting_stuck(
        graph in random_graph(),
        picks in proptest::collection::vec(any::<u8>(), 1..40),
    ) {
        let Ok(f) = validate(graph.clone()) else {
            return Ok(());
        };
        let (_, mut s) = step(&f, &FlowState::new(&f, system()), &Input::Begin, NOW)
            .map_err(|e| TestCaseError::fail(format!("{e} in {graph:?}")))?;
        for pick in picks {
            if s.done() {
                break;
            }
            prop_assert!(matches!(s.wait, Wait::User | Wait::Call(_) | Wait::Bot(_)), "{:?}", s.wait);
            let input = random_input(&s, pick);
            let (_, next) = step(&f, &s, &input, NOW)
                .map_err(|e| TestCaseError::fail(format!("{e} in {graph:?}")))?;
            s = next;
        }
    }

    /// And what it refuses is refused with a node or graph field named.
    #[test]
    fn refusals_always_name_a_field(graph in random_graph()) {
        if let Err(errors) = validate(graph) {
            prop_assert!(!errors.is_empty());
            for e in errors {
                prop_assert!(!e.field.is_empty());
            }
        }
    }
}
