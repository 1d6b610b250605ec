//! The action runner against a real SQLite store and a loopback sink:
//! failure semantics and effect tracking, conditions, variable arithmetic,
//! atomic updates, publish loop protection and placeholder typing.

use std::time::Duration;

use hooklane_domain::envelope::{DEPTH_HEADER, MAX_PUBLISH_DEPTH};
use hooklane_domain::{ActionSpec, ActionStatus, BotId, Envelope, Job};
use hooklane_engine::actions::{run_actions, Outcome, RunState};
use hooklane_runtime::config::Settings;
use hooklane_runtime::Services;
use hooklane_template::Context;
use hooklane_testkit::{free_addr, Embedded, Reply, Sink};
use serde_json::{json, Map, Value};

/// Services on a fresh SQLite file, calling out to loopback.
pub(crate) struct Engine {
    svc: Services,
    bot: BotId,
    _embedded: Embedded,
}

impl Engine {
    pub(crate) fn new(sink: &Sink) -> Self {
        let settings = Settings {
            allow_private_targets: true,
            telegram_api_base: sink.url(""),
            discord_api_base: sink.url("/api/v10"),
            outbound_timeout: Duration::from_secs(5),
            ..Default::default()
        };
        let embedded = Embedded::start(settings);
        Self {
            svc: embedded.svc.clone(),
            bot: BotId::parse("engine-test-bot").unwrap(),
            _embedded: embedded,
        }
    }

    /// Runs `actions` as the dispatcher would: the payload and the stored
    /// variables in the template context, at publish depth `depth`.
    async fn run_at(&self, actions: Value, payload: Value, depth: u32) -> (Outcome, RunState) {
        let actions: Vec<ActionSpec> = serde_json::from_value(actions).unwrap();
        let vars: Map<String, Value> = self
            .svc
            .store
            .list_variables(&self.bot)
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.name, v.value))
            .collect();
        let mut root = Map::new();
        root.insert("payload".into(), payload);
        root.insert("bot".into(), json!({"id": self.bot}));
        root.insert("var".into(), Value::Object(vars));
        let tpl = Context {
            variables: Map::new(),
            root,
        };
        let mut state = RunState::new(tpl, self.bot.clone(), depth);
        let outcome = run_actions(&self.svc, &actions, &mut state).await;
        (outcome, state)
    }

    pub(crate) async fn run(&self, actions: Value, payload: Value) -> (Outcome, RunState) {
        self.run_at(actions, payload, 0).await
    }

    /// The services the actions run with.
    pub(crate) fn svc(&self) -> &Services {
        &self.svc
    }

    /// The bot the actions run for.
    pub(crate) fn bot(&self) -> &BotId {
        &self.bot
    }

    async fn var(&self, name: &str) -> Option<Value> {
        self.svc
            .store
            .get_variable(&self.bot, name)
            .await
            .unwrap()
            .map(|v| v.value)
    }

    async fn seed(&self, name: &str, value: Value) {
        assert!(self
            .svc
            .store
            .swap_variable(&self.bot, name, None, Some(&value), self.svc.now())
            .await
            .unwrap());
    }

    /// Everything in the queue now.
    async fn queued(&self) -> Vec<Envelope> {
        self.svc
            .queue
            .receive(10, Duration::from_millis(200))
            .await
            .unwrap()
            .into_iter()
            .map(|m| serde_json::from_str(&m.body).unwrap())
            .collect()
    }
}

fn http(url: String) -> Value {
    json!({"type": "http_request", "method": "POST", "url": url, "body": {"n": 1}})
}

fn closed_port_url() -> String {
    format!("http://{}/gone", free_addr())
}

// ------------------------------------------------------------ failure semantics

#[tokio::test]
async fn a_failing_action_stops_the_run_and_the_actions_after_it_do_not_run() {
    let sink = Sink::start().await;
    sink.reply_with([Reply::status(400)]);
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([
                {"type": "log", "message": "before"},
                http(sink.url("/refuses")),
                http(sink.url("/never")),
            ]),
            json!({}),
        )
        .await;
    assert_eq!(outcome.results.len(), 2);
    assert_eq!(outcome.results[0].status, ActionStatus::Succeeded);
    assert_eq!(outcome.results[1].status, ActionStatus::Failed);
    assert_eq!(outcome.results[1].detail["status"], 400);
    let failure = outcome.failure.expect("the run failed");
    assert_eq!((failure.index, failure.kind.as_str()), (1, "http_request"));
    assert!(failure.reason.contains("400"), "{}", failure.reason);
    assert_eq!(
        outcome.results[1].detail["error"], failure.reason,
        "the run log names the reason"
    );
    assert_eq!(sink.received().len(), 1, "the action after the failure ran");
}

#[tokio::test]
async fn continue_on_error_logs_the_failure_and_runs_the_rest() {
    let sink = Sink::start().await;
    sink.reply_with([Reply::status(500)]);
    let engine = Engine::new(&sink);
    let mut failing = http(sink.url("/flaky"));
    failing["continue_on_error"] = json!(true);
    let (outcome, _) = engine
        .run(
            json!([failing, {"type": "set_variable", "name": "after", "value": "ran"}]),
            json!({}),
        )
        .await;
    assert_eq!(outcome.failure, None);
    assert_eq!(outcome.results[0].status, ActionStatus::Failed);
    assert_eq!(outcome.results[0].detail["status"], 500);
    assert_eq!(outcome.results[1].status, ActionStatus::Succeeded);
    assert_eq!(engine.var("after").await, Some(json!("ran")));
}

#[tokio::test]
async fn a_failure_is_retriable_only_when_transient_and_nothing_took_effect_before() {
    // The dispatcher retries a failed run when `transient && !effect`.
    struct Case {
        what: &'static str,
        actions: Vec<Value>,
        replies: Vec<Reply>,
        failing_index: usize,
        transient: bool,
        effect: bool,
    }
    let sink = Sink::start().await;
    let url = |p: &str| sink.url(p);
    let mut continuing = http(url("/a"));
    continuing["continue_on_error"] = json!(true);
    let cases = vec![
        Case {
            what: "a 503 first",
            actions: vec![http(url("/a"))],
            replies: vec![Reply::status(503)],
            failing_index: 0,
            transient: true,
            effect: false,
        },
        Case {
            what: "a 429 with no wait to honour",
            actions: vec![http(url("/a"))],
            replies: vec![Reply::status(429)],
            failing_index: 0,
            transient: true,
            effect: false,
        },
        Case {
            what: "a 429 twice more after honouring two short waits",
            actions: vec![http(url("/a"))],
            replies: vec![
                Reply::json(429, json!({"retry_after": 0.05})),
                Reply::json(429, json!({"parameters": {"retry_after": 0}})),
                Reply::json(429, json!({"retry_after": 0.05})),
            ],
            failing_index: 0,
            transient: true,
            effect: false,
        },
        Case {
            what: "a 429 asking for a wait longer than 30 s (not waited for)",
            actions: vec![http(url("/a"))],
            replies: vec![Reply::json(429, json!({"retry_after": 60}))],
            failing_index: 0,
            transient: true,
            effect: false,
        },
        Case {
            what: "a refused connection",
            actions: vec![http(closed_port_url())],
            replies: vec![],
            failing_index: 0,
            transient: true,
            effect: false,
        },
        Case {
            what: "a 400",
            actions: vec![http(url("/a"))],
            replies: vec![Reply::status(400)],
            failing_index: 0,
            transient: false,
            effect: false,
        },
        Case {
            what: "a URL whose placeholder is unknown (nothing is called)",
            actions: vec![http(url("/orders/{payload.nope}"))],
            replies: vec![],
            failing_index: 0,
            transient: false,
            effect: false,
        },
        Case {
            what: "a 503 after a call that succeeded",
            actions: vec![http(url("/a")), http(url("/b"))],
            replies: vec![Reply::status(200), Reply::status(503)],
            failing_index: 1,
            transient: true,
            effect: true,
        },
        Case {
            what: "a 503 after a variable write",
            actions: vec![
                json!({"type": "set_variable", "name": "x", "value": 1}),
                http(url("/a")),
            ],
            replies: vec![Reply::status(503)],
            failing_index: 1,
            transient: true,
            effect: true,
        },
        Case {
            what: "a 503 inside a branch after a log",
            actions: vec![
                json!({"type": "log", "message": "no effect"}),
                json!({"type": "condition", "if": {"left": "1", "op": "==", "right": "2"},
                       "then": [], "else": [http(url("/a"))]}),
            ],
            replies: vec![Reply::status(503)],
            failing_index: 1,
            transient: true,
            effect: false,
        },
        Case {
            what: "a 503 after a call that failed and continued",
            actions: vec![continuing.clone(), http(url("/b"))],
            replies: vec![Reply::status(500), Reply::status(503)],
            failing_index: 1,
            transient: true,
            effect: false,
        },
        Case {
            what: "a 503 inside a branch after a call in the same branch",
            actions: vec![
                json!({"type": "condition", "if": {"left": "1", "op": "==", "right": "1"},
                       "then": [http(url("/a")), http(url("/b"))]}),
            ],
            replies: vec![Reply::status(200), Reply::status(503)],
            failing_index: 0,
            transient: true,
            effect: true,
        },
    ];
    for case in cases {
        let engine = Engine::new(&sink);
        let before = sink.received().len();
        let calls = case.replies.len();
        sink.reply_with(case.replies);
        let (outcome, state) = engine.run(Value::Array(case.actions), json!({})).await;
        let failure = outcome
            .failure
            .unwrap_or_else(|| panic!("{}: no failure", case.what));
        assert_eq!(failure.index, case.failing_index, "{}", case.what);
        assert_eq!(
            failure.transient, case.transient,
            "{}: {}",
            case.what, failure.reason
        );
        assert_eq!(state.effect, case.effect, "{}", case.what);
        assert_eq!(sink.received().len() - before, calls, "{}", case.what);
    }
}

// ------------------------------------------------------------ conditions

#[tokio::test]
async fn conditions_compare_numbers_as_numbers_and_anything_else_as_text() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let payload = json!({
        "amount": 150, "amount_text": "150.0", "small": "9", "label": "9x",
        "status": "paid", "tags": ["vip", "new"], "note": null, "flag": true
    });
    // (left, op, right, then-branch taken)
    let cases: &[(Value, &str, Value, bool)] = &[
        (json!("{payload.amount}"), ">", json!("100"), true),
        (json!("{payload.amount}"), ">", json!("1000"), false),
        (json!("{payload.amount}"), ">=", json!(150), true),
        (json!("{payload.amount}"), "<=", json!(149.99), false),
        (
            json!("{payload.amount}"),
            "==",
            json!("{payload.amount_text}"),
            true,
        ),
        (json!("{payload.small}"), "<", json!("10"), true),
        (json!("{payload.label}"), "<", json!("10x"), false),
        (json!("{payload.status}"), "==", json!("paid"), true),
        (json!("{payload.status}"), "!=", json!("paid"), false),
        (json!("{payload.status}"), "==", json!("Paid"), false),
        (json!("{payload.status}"), "contains", json!("ai"), true),
        (json!("{payload.tags}"), "contains", json!("vip"), true),
        (json!("{payload.tags}"), "contains", json!("vi"), false),
        (
            json!("Total: {payload.amount}"),
            "contains",
            json!("150"),
            true,
        ),
        (json!("{payload.note}"), "==", json!(""), true),
        (json!("{payload.flag}"), "==", json!("true"), true),
        (json!("b"), ">", json!("a"), true),
        (json!("B"), ">", json!("a"), false),
        (json!("{payload.missing}"), "==", json!(""), false),
    ];
    for (left, op, right, want) in cases {
        let (outcome, _) = engine
            .run(
                json!([{"type": "condition", "if": {"left": left, "op": op, "right": right},
                        "then": [{"type": "log", "message": "then"}],
                        "else": [{"type": "log", "message": "else"}]}]),
                payload.clone(),
            )
            .await;
        let detail = &outcome.results[0].detail;
        let branch = if *want { "then" } else { "else" };
        assert_eq!(
            detail["result"],
            json!(want),
            "{left} {op} {right}: {detail}"
        );
        assert_eq!(detail["branch"], branch);
        assert_eq!(detail["actions"][0]["detail"]["message"], branch);
    }
}

// ------------------------------------------------------------ variables

#[tokio::test]
async fn update_variable_does_arithmetic_and_refuses_what_is_not_a_number() {
    let sink = Sink::start().await;
    /// what, stored before, op, operand, want Ok(stored after) or Err(part of the reason)
    type Case = (
        &'static str,
        Option<Value>,
        &'static str,
        Value,
        Result<Value, &'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "add to a missing variable",
            None,
            "add",
            json!(5),
            Ok(json!(5)),
        ),
        (
            "add a payload number",
            Some(json!(10)),
            "add",
            json!("{payload.amount}"),
            Ok(json!(160)),
        ),
        (
            "add to numeric text",
            Some(json!("10")),
            "add",
            json!("1"),
            Ok(json!(11)),
        ),
        (
            "subtract",
            Some(json!(10)),
            "subtract",
            json!(3),
            Ok(json!(7)),
        ),
        (
            "subtract from a missing variable",
            None,
            "subtract",
            json!(3),
            Ok(json!(-3)),
        ),
        (
            "multiply a fraction",
            Some(json!(2.5)),
            "multiply",
            json!(2),
            Ok(json!(5.0)),
        ),
        (
            "divide evenly",
            Some(json!(9)),
            "divide",
            json!(3),
            Ok(json!(3)),
        ),
        (
            "divide unevenly",
            Some(json!(7)),
            "divide",
            json!(2),
            Ok(json!(3.5)),
        ),
        (
            "divide by zero",
            Some(json!(7)),
            "divide",
            json!(0),
            Err("division by zero"),
        ),
        (
            "divide by zero as text",
            Some(json!(7)),
            "divide",
            json!("0"),
            Err("division by zero"),
        ),
        (
            "a stored text",
            Some(json!("abc")),
            "add",
            json!(1),
            Err("which is not a number"),
        ),
        (
            "a stored object",
            Some(json!({"a": 1})),
            "add",
            json!(1),
            Err("which is not a number"),
        ),
        (
            "an operand that is text",
            Some(json!(1)),
            "add",
            json!("{payload.status}"),
            Err("is not a number"),
        ),
        (
            "an operand that is not there",
            Some(json!(1)),
            "add",
            json!("{payload.nope}"),
            Err("is not a number"),
        ),
    ];
    for (what, before, op, operand, want) in cases {
        let engine = Engine::new(&sink);
        if let Some(v) = &before {
            engine.seed("n", v.clone()).await;
        }
        let (outcome, state) = engine
            .run(
                json!([{"type": "update_variable", "name": "n", "op": op, "value": operand},
                       {"type": "log", "message": "now {var.n}"}]),
                json!({"amount": 150, "status": "paid"}),
            )
            .await;
        match want {
            Ok(after) => {
                assert_eq!(outcome.failure, None, "{what}");
                assert_eq!(engine.var("n").await, Some(after.clone()), "{what}");
                assert_eq!(outcome.results[0].detail["value"], after, "{what}");
                assert_eq!(
                    outcome.results[1].detail["message"],
                    format!("now {after}"),
                    "{what}: later actions see the new value"
                );
                assert!(state.effect, "{what}");
            }
            Err(reason) => {
                let failure = outcome
                    .failure
                    .unwrap_or_else(|| panic!("{what}: no failure"));
                assert!(
                    failure.reason.contains(reason),
                    "{what}: {}",
                    failure.reason
                );
                assert!(!failure.transient, "{what}");
                assert_eq!(
                    engine.var("n").await,
                    before,
                    "{what}: the variable is unchanged"
                );
                assert!(!state.effect, "{what}");
            }
        }
    }
}

#[tokio::test]
async fn set_and_delete_variable_keep_json_types_and_later_actions_see_them() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([
                {"type": "set_variable", "name": "profile_{payload.id}", "value": "{payload.profile}"},
                {"type": "set_variable", "name": "count", "value": "{payload.count}"},
                {"type": "log", "message": "{var.profile_7.name} has {var.count}"},
                {"type": "delete_variable", "name": "count"},
                {"type": "log", "message": "count is {var.count}"},
                {"type": "set_variable", "name": "bad name!", "value": 1},
            ]),
            json!({"id": 7, "profile": {"name": "Ada", "vip": true}, "count": 3}),
        )
        .await;
    assert_eq!(
        engine.var("profile_7").await,
        Some(json!({"name": "Ada", "vip": true}))
    );
    assert_eq!(engine.var("count").await, None);
    assert_eq!(outcome.results[2].detail["message"], "Ada has 3");
    assert_eq!(outcome.results[4].detail["message"], "count is {var.count}");
    let failure = outcome.failure.expect("a bad name fails");
    assert_eq!(failure.index, 5);
    assert!(
        failure.reason.contains("not a variable name"),
        "{}",
        failure.reason
    );
}

#[tokio::test]
async fn concurrent_adds_to_one_variable_never_lose_one() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    const N: usize = 25;
    let runs = (0..N).map(|_| {
        engine.run(
            json!([{"type": "update_variable", "name": "hits", "op": "add", "value": 1}]),
            json!({}),
        )
    });
    let outcomes = futures::future::join_all(runs).await;
    for (outcome, _) in &outcomes {
        assert_eq!(outcome.failure, None);
    }
    assert_eq!(engine.var("hits").await, Some(json!(N)));
    let mut seen: Vec<i64> = outcomes
        .iter()
        .map(|(o, _)| o.results[0].detail["value"].as_i64().unwrap())
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        (1..=N as i64).collect::<Vec<_>>(),
        "each add saw its own total"
    );
}

// ------------------------------------------------------------ publish

#[tokio::test]
async fn publish_queues_the_event_one_level_deeper_and_stops_at_the_depth_limit() {
    let sink = Sink::start().await;
    assert_eq!(MAX_PUBLISH_DEPTH, 5, "the documented limit");
    // (depth of the call, published)
    let cases = [(0, true), (1, true), (4, true), (5, false), (6, false)];
    for (depth, published) in cases {
        let engine = Engine::new(&sink);
        let (outcome, state) = engine
            .run_at(
                json!([{"type": "publish", "event": "order.{payload.state}",
                        "data": {"amount": "{payload.amount}", "note": "paid {payload.amount}"}}]),
                json!({"state": "paid", "amount": 150}),
                depth,
            )
            .await;
        let queued = engine.queued().await;
        if published {
            assert_eq!(outcome.failure, None, "depth {depth}");
            assert!(state.effect);
            assert_eq!(queued.len(), 1, "depth {depth}");
            let Job::Publish(p) = &queued[0].job else {
                panic!("queued {:?}", queued[0].job)
            };
            assert_eq!(p.event, "order.paid");
            assert_eq!(p.depth, depth + 1);
            assert_eq!(p.data, json!({"amount": 150, "note": "paid 150"}));
            assert_eq!(p.bot_id, engine.bot);
            assert_eq!(outcome.results[0].detail["message_id"], json!(p.message_id));
        } else {
            let failure = outcome.failure.expect("refused");
            assert!(
                failure.reason.contains("loop protection"),
                "{}",
                failure.reason
            );
            assert!(!failure.transient);
            assert!(queued.is_empty(), "depth {depth}: nothing is queued");
            assert!(!state.effect);
        }
    }
}

#[tokio::test]
async fn a_request_from_a_hook_chain_at_the_depth_limit_is_refused() {
    let sink = Sink::start().await;
    for (depth, sent) in [(4, true), (5, false)] {
        let engine = Engine::new(&sink);
        let before = sink.received().len();
        let (outcome, _) = engine
            .run_at(
                json!([{"type": "http_request", "url": sink.url("/self")}]),
                json!({}),
                depth,
            )
            .await;
        assert_eq!(outcome.failure.is_none(), sent, "depth {depth}");
        assert_eq!(
            sink.received().len() - before,
            usize::from(sent),
            "depth {depth}"
        );
        if let Some(f) = outcome.failure {
            assert!(f.reason.contains("loop protection"), "{}", f.reason);
        }
    }
}

#[tokio::test]
async fn publish_refuses_an_event_name_that_renders_invalid() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([{"type": "publish", "event": "order {payload.state}"}]),
            json!({"state": "paid"}),
        )
        .await;
    let failure = outcome.failure.expect("refused");
    assert!(
        failure.reason.contains("not a valid event name"),
        "{}",
        failure.reason
    );
    assert!(engine.queued().await.is_empty());
}

#[tokio::test]
async fn publish_refuses_data_nesting_deeper_than_an_envelope_can_carry_and_queues_nothing() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    // A payload at the ingress's limit, wrapped by the template in 3 more
    // levels: 103, which the dispatcher could not be sure to read back.
    let mut payload = json!("leaf");
    for _ in 0..100 {
        payload = json!([payload]);
    }
    let (outcome, _) = engine
        .run(
            json!([{"type": "publish", "event": "deep.event",
                    "data": {"a": {"b": ["{payload}"]}}}]),
            payload.clone(),
        )
        .await;
    let failure = outcome.failure.expect("refused");
    assert!(!failure.transient, "a depth that cannot fit is permanent");
    assert!(
        failure.reason.contains("nests 103 levels deep"),
        "{}",
        failure.reason
    );
    assert!(engine.queued().await.is_empty());

    // Three levels shallower, the data is at the limit: queued whole.
    let shallower = payload[0][0][0].clone();
    let (outcome, _) = engine
        .run(
            json!([{"type": "publish", "event": "deep.event",
                    "data": {"a": {"b": ["{payload}"]}}}]),
            shallower,
        )
        .await;
    assert!(outcome.failure.is_none(), "{:?}", outcome.failure);
    assert_eq!(engine.queued().await.len(), 1);
}

// ------------------------------------------------------------ placeholders and requests

#[tokio::test]
async fn a_whole_placeholder_in_a_json_body_keeps_its_type_and_text_is_stringified() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run_at(
            json!([{
                "type": "http_request",
                "method": "post",
                "url": sink.url("/crm/{payload.user.id}?src=hook"),
                "headers": {"x-amount": "{payload.amount}", "x-flag": true},
                "body": {
                    "amount": "{payload.amount}",
                    "price": "{payload.price}",
                    "paid": "{payload.paid}",
                    "user": "{payload.user}",
                    "items": "{payload.items}",
                    "first": "{payload.items.0}",
                    "note": "{payload.note}",
                    "text": "{payload.user.name} paid {payload.amount} ({payload.paid}){payload.note}",
                    "kept": 5,
                    "list": ["{payload.amount}", "x{payload.amount}"],
                    "missing": "{payload.nope}",
                }
            }]),
            json!({
                "amount": 150, "price": 9.5, "paid": true, "note": null,
                "user": {"id": "u1", "name": "Ada"}, "items": ["a", "b"]
            }),
            2,
        )
        .await;
    assert_eq!(outcome.failure, None);
    let got = sink.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].method, "POST");
    assert_eq!(got[0].target(), "/crm/u1?src=hook");
    assert_eq!(
        got[0].header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(got[0].header("x-amount").as_deref(), Some("150"));
    assert_eq!(got[0].header("x-flag").as_deref(), Some("true"));
    assert_eq!(
        got[0].header(DEPTH_HEADER).as_deref(),
        Some("3"),
        "the depth travels on, one deeper"
    );
    assert_eq!(
        got[0].json(),
        json!({
            "amount": 150,
            "price": 9.5,
            "paid": true,
            "user": {"id": "u1", "name": "Ada"},
            "items": ["a", "b"],
            "first": "a",
            "note": null,
            "text": "Ada paid 150 (true)",
            "kept": 5,
            "list": [150, "x150"],
            "missing": "{payload.nope}",
        })
    );
}

#[tokio::test]
async fn a_body_that_is_a_text_template_is_sent_as_text() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, state) = engine
        .run(
            json!([{"type": "http_request", "method": "PUT", "url": sink.url("/t"),
                    "headers": {"content-type": "text/plain"},
                    "body": "amount={payload.amount}&who={nope}"}]),
            json!({"amount": 150}),
        )
        .await;
    assert_eq!(outcome.failure, None);
    let got = sink.received();
    assert_eq!(got[0].method, "PUT");
    assert_eq!(got[0].header("content-type").as_deref(), Some("text/plain"));
    assert_eq!(got[0].body, &b"amount=150&who={nope}"[..]);
    assert_eq!(state.unknown, vec!["nope".to_string()]);
}

#[tokio::test]
async fn a_telegram_token_never_reaches_the_run_log_even_when_the_call_fails() {
    let sink = Sink::start().await;
    sink.reply_with([Reply::json(
        401,
        json!({"ok": false, "error_code": 401, "description": "Unauthorized"}),
    )]);
    let engine = Engine::new(&sink);
    let token = "123456:SECRET-token_value";
    let (outcome, _) = engine
        .run(
            json!([
                {"type": "telegram_message", "bot_token": "{payload.token}", "chat_id": "{payload.chat}", "text": "hi"},
            ]),
            json!({"token": token, "chat": 42}),
        )
        .await;
    let got = sink.received();
    assert_eq!(got[0].target(), format!("/bot{token}/sendMessage"));
    assert_eq!(
        got[0].json()["chat_id"],
        42,
        "a numeric chat id stays a number"
    );
    let failure = outcome.failure.expect("401 fails");
    assert!(!failure.transient);
    let logged = serde_json::to_string(&outcome.results).unwrap();
    assert!(!logged.contains("SECRET"), "{logged}");
    assert!(logged.contains("/bot****/sendMessage"), "{logged}");
}

#[tokio::test]
async fn a_telegram_token_that_is_not_a_token_is_refused_without_a_call() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    for token in ["123:abc/../../other", "{payload.nope}", ""] {
        let (outcome, _) = engine
            .run(
                json!([{"type": "telegram_message", "bot_token": token, "chat_id": 1, "text": "hi"}]),
                json!({}),
            )
            .await;
        let failure = outcome.failure.expect("refused");
        assert!(!failure.reason.contains("abc"), "{}", failure.reason);
        assert!(!failure.transient);
    }
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn the_run_log_stays_small_whatever_the_payload_and_an_oversized_variable_is_refused() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let big = "x".repeat(100_000);
    let (outcome, _) = engine
        .run(
            json!([
                {"type": "log", "message": "got {payload.big}"},
                {"type": "condition", "if": {"left": "{payload}", "op": "contains", "right": "y"}},
                {"type": "set_variable", "name": "copy", "value": "{payload.big}"},
            ]),
            json!({"big": big}),
        )
        .await;
    let logged = serde_json::to_string(&outcome.results).unwrap();
    assert!(
        logged.len() < 5_000,
        "{} bytes in the run log",
        logged.len()
    );
    assert_eq!(
        outcome.results[0].detail["message"]
            .as_str()
            .unwrap()
            .chars()
            .count(),
        2000
    );
    let failure = outcome.failure.expect("the variable is too large");
    assert_eq!(failure.index, 2);
    assert!(
        failure.reason.contains("at most 65536"),
        "{}",
        failure.reason
    );
    assert!(!failure.transient);
    assert_eq!(engine.var("copy").await, None);
}

#[tokio::test]
async fn a_telegram_chat_id_that_is_not_there_fails_without_a_call() {
    let sink = Sink::start().await;
    let engine = Engine::new(&sink);
    let (outcome, _) = engine
        .run(
            json!([{"type": "telegram_message", "bot_token": "1:abc", "chat_id": "{payload.chat}", "text": "hi"}]),
            json!({}),
        )
        .await;
    let failure = outcome.failure.expect("refused");
    assert!(
        failure.reason.contains("{payload.chat}"),
        "{}",
        failure.reason
    );
    assert!(sink.received().is_empty());
}

#[tokio::test]
async fn a_429_with_a_short_wait_is_retried_and_the_wait_is_logged() {
    let sink = Sink::start().await;
    sink.reply_with([Reply::json(
        429,
        json!({"message": "You are being rate limited.", "retry_after": 0.2, "global": false}),
    )]);
    let engine = Engine::new(&sink);
    let started = std::time::Instant::now();
    let (outcome, _) = engine
        .run(
            json!([{"type": "discord_message", "webhook_url": sink.url("/api/webhooks/1/tok"), "content": "hi"}]),
            json!({}),
        )
        .await;
    assert_eq!(outcome.failure, None);
    assert!(started.elapsed() >= Duration::from_millis(200));
    let got = sink.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
    let detail = &outcome.results[0].detail;
    assert_eq!(detail["rate_limited_waits_s"], json!([0.2]));
    assert_eq!(detail["status"], 200);
    assert_eq!(detail.get("response"), None, "no stale 429 body on success");
}
