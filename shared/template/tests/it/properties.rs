//! Property tests of template rendering: no template panics the renderer;
//! a template rendered against an empty context (every placeholder
//! unknown) is itself, text and JSON alike; text without braces is itself
//! under any context; a placeholder is replaced by exactly its value (a
//! whole-string placeholder keeps the value's JSON type).

use hooklane_template::{render_json, render_str, Context};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text rich in braces, dots and placeholder-like runs.
fn template() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "([a-z .{}_-]|\\{[a-z0-9_.-]{0,70}\\}|\\{\\{|\\}\\}){0,20}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        template().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(template(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A context with some variables and a payload, from arbitrary JSON.
fn context() -> impl Strategy<Value = Context> {
    (
        proptest::collection::btree_map("[a-z0-9_.-]{1,10}", json_value(), 0..4),
        json_value(),
    )
        .prop_map(|(vars, payload)| {
            let mut root = Map::new();
            root.insert("payload".into(), payload);
            root.insert("headers".into(), json!({"x-a": "1"}));
            Context {
                variables: vars.into_iter().collect(),
                root,
            }
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_template_panics_the_renderer(t in template(), j in json_value(), ctx in context()) {
        let _ = render_str(&t, &ctx);
        let _ = render_json(&j, &ctx);
        let _ = render_json(&Value::String(t), &ctx);
    }

    #[test]
    fn with_nothing_to_substitute_a_template_renders_as_itself(t in template(), j in json_value()) {
        let empty = Context::default();
        prop_assert_eq!(render_str(&t, &empty).value, t);
        prop_assert_eq!(render_json(&j, &empty).value, j);
    }

    #[test]
    fn text_without_braces_renders_as_itself_under_any_context(
        t in "[^{}]{0,60}",
        ctx in context(),
    ) {
        let r = render_str(&t, &ctx);
        prop_assert_eq!(r.value, t);
        prop_assert!(r.unknown.is_empty());
    }

    #[test]
    fn a_placeholder_is_replaced_by_exactly_its_value(
        before in "[^{}]{0,20}",
        after in "[^{}]{0,20}",
        name in "[a-z0-9_-]{1,20}",
        text in any::<String>(),
        value in json_value(),
    ) {
        let mut ctx = Context::default();
        ctx.variables.insert(name.clone(), Value::String(text.clone()));
        let r = render_str(&format!("{before}{{{name}}}{after}"), &ctx);
        prop_assert_eq!(r.value, format!("{before}{text}{after}"));
        prop_assert!(r.unknown.is_empty());

        ctx.variables.insert(name.clone(), value.clone());
        let whole = render_json(&json!({"k": format!("{{{name}}}")}), &ctx);
        prop_assert_eq!(&whole.value["k"], &value, "a whole placeholder keeps its JSON type");
    }
}
