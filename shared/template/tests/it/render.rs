use hooklane_template::{is_placeholder, render_json, render_str, Context};
use serde_json::{json, Value};

fn object(value: Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("expected an object, got {other}"),
    }
}

fn ctx() -> Context {
    Context {
        variables: object(json!({
            "amount": 42,
            "name": "Zoë",
            "user.name": "caller-ada",
            "order-id": "ord_1",
            "snake_case": true,
            "nothing": null,
            "sneaky": "{amount}",
            "list": [1, "two"],
        })),
        root: object(json!({
            "payload": {
                "amount": 150,
                "price": 9.5,
                "paid": false,
                "note": null,
                "user": {"name": "Ada", "tags": ["a", "b"]},
                "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}],
                "injection": "{payload.amount}",
            },
            "query": {"ref": "newsletter"},
            "headers": {"x-request-id": "req-7", "user-agent": "curl/8", "x.dotted": "yes"},
            "request": {"ip": "203.0.113.9", "method": "POST"},
            "event": {"id": "evt_1"},
            "hook": {"id": "hk_1"},
            "bot": {"id": "bot_1"},
            "var": {"count": 3},
        })),
    }
}

#[test]
fn text_templates_render_as_the_table_says() {
    // (template, expected text, expected unknown names)
    let cases: &[(&str, &str, &[&str])] = &[
        // plain text and caller variables
        ("no placeholders here", "no placeholders here", &[]),
        ("", "", &[]),
        ("{amount}", "42", &[]),
        ("total: {amount} EUR", "total: 42 EUR", &[]),
        ("{order-id}/{snake_case}", "ord_1/true", &[]),
        ("[{nothing}]", "[]", &[]),
        ("{list}", "[1,\"two\"]", &[]),
        // types as text
        ("{payload.amount}", "150", &[]),
        ("{payload.price}", "9.5", &[]),
        ("{payload.paid}", "false", &[]),
        ("[{payload.note}]", "[]", &[]),
        ("{payload.user}", r#"{"name":"Ada","tags":["a","b"]}"#, &[]),
        // nested paths and array indices
        ("{payload.user.name}", "Ada", &[]),
        ("{payload.user.tags.1}", "b", &[]),
        (
            "{payload.items.0.sku} x{payload.items.0.qty}",
            "A-1 x2",
            &[],
        ),
        ("{payload.items.1.sku}", "B-2", &[]),
        (
            "{request.method} from {request.ip}",
            "POST from 203.0.113.9",
            &[],
        ),
        (
            "{event.id} {hook.id} {bot.id} {var.count} {query.ref}",
            "evt_1 hk_1 bot_1 3 newsletter",
            &[],
        ),
        // out-of-range index and missing keys
        (
            "{payload.items.2.sku}",
            "{payload.items.2.sku}",
            &["payload.items.2.sku"],
        ),
        (
            "{payload.items.x}",
            "{payload.items.x}",
            &["payload.items.x"],
        ),
        (
            "{payload.amount.deeper}",
            "{payload.amount.deeper}",
            &["payload.amount.deeper"],
        ),
        (
            "{payload.missing}",
            "{payload.missing}",
            &["payload.missing"],
        ),
        (
            "{nope} and {nope} and {other}",
            "{nope} and {nope} and {other}",
            &["nope", "other"],
        ),
        ("{nosuchns.a}", "{nosuchns.a}", &["nosuchns.a"]),
        // a caller variable whose name has dots shadows the path
        (
            "{user.name} vs {payload.user.name}",
            "caller-ada vs Ada",
            &[],
        ),
        // braces that are not placeholders stay exactly as written
        ("{}", "{}", &[]),
        ("{ name }", "{ name }", &[]),
        ("{name }", "{name }", &[]),
        ("a lone { and a lone }", "a lone { and a lone }", &[]),
        ("{", "{", &[]),
        ("}", "}", &[]),
        ("{amount", "{amount", &[]),
        ("amount}", "amount}", &[]),
        ("{a/b}", "{a/b}", &[]),
        ("{naïve}", "{naïve}", &[]),
        ("{{amount}}", "{42}", &[]),
        ("{{{amount}", "{{42", &[]),
        ("}{amount}{", "}42{", &[]),
        // JSON-looking text
        (r#"{"a": 1}"#, r#"{"a": 1}"#, &[]),
        (r#"{"amount": {amount}}"#, r#"{"amount": 42}"#, &[]),
        (r#"{"user":"{name}"}"#, r#"{"user":"Zoë"}"#, &[]),
        // unicode text around placeholders
        (
            "héllo {name} — ✓ {amount}€ 日本",
            "héllo Zoë — ✓ 42€ 日本",
            &[],
        ),
        ("🎉{name}🎉", "🎉Zoë🎉", &[]),
        // header names match case-insensitively
        ("{headers.X-Request-Id}", "req-7", &[]),
        ("{headers.x-request-id}", "req-7", &[]),
        ("{headers.USER-AGENT}", "curl/8", &[]),
        ("{headers.X.Dotted}", "yes", &[]),
        (
            "{headers.x-missing}",
            "{headers.x-missing}",
            &["headers.x-missing"],
        ),
        // substituted values are never expanded again
        ("{sneaky}", "{amount}", &[]),
        ("{payload.injection}", "{payload.amount}", &[]),
        ("{sneaky}{amount}", "{amount}42", &[]),
    ];
    let ctx = ctx();
    for (template, expected, unknown) in cases {
        let rendered = render_str(template, &ctx);
        assert_eq!(rendered.value, *expected, "template {template:?}");
        assert_eq!(rendered.unknown, *unknown, "unknown names for {template:?}");
    }
}

#[test]
fn names_longer_than_sixty_four_characters_are_plain_text() {
    let ctx = Context {
        variables: object(json!({ "a".repeat(64): "ok", "b".repeat(65): "never" })),
        ..Context::default()
    };
    let at_limit = format!("{{{}}}", "a".repeat(64));
    let over_limit = format!("{{{}}}", "b".repeat(65));
    assert_eq!(render_str(&at_limit, &ctx).value, "ok");
    let rendered = render_str(&over_limit, &ctx);
    assert_eq!(rendered.value, over_limit);
    assert!(rendered.unknown.is_empty());
}

#[test]
fn a_whole_string_placeholder_keeps_the_json_type_of_its_value() {
    let cases = [
        (json!("{payload.amount}"), json!(150)),
        (json!("{payload.price}"), json!(9.5)),
        (json!("{payload.paid}"), json!(false)),
        (json!("{payload.note}"), Value::Null),
        (
            json!("{payload.user}"),
            json!({"name": "Ada", "tags": ["a", "b"]}),
        ),
        (
            json!("{payload.items}"),
            json!([{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}]),
        ),
        (json!("{payload.user.name}"), json!("Ada")),
        (json!("{amount}"), json!(42)),
        (json!("{user.name}"), json!("caller-ada")),
        (json!("{headers.X-Request-Id}"), json!("req-7")),
        (json!("{sneaky}"), json!("{amount}")),
        (json!(" {payload.amount}"), json!(" 150")),
        (json!("{payload.amount}{amount}"), json!("15042")),
        (json!(7), json!(7)),
        (json!(true), json!(true)),
        (Value::Null, Value::Null),
    ];
    let ctx = ctx();
    for (template, expected) in cases {
        let rendered = render_json(&template, &ctx);
        assert_eq!(rendered.value, expected, "template {template}");
        assert!(rendered.unknown.is_empty(), "template {template}");
    }
}

#[test]
fn json_templates_render_nested_objects_and_arrays_but_not_keys() {
    let template = json!({
        "content": "New order {payload.items.0.sku} from {name}",
        "{name}": "keys stay as written",
        "amount": "{payload.amount}",
        "user": "{payload.user}",
        "embeds": [
            {"title": "{event.id}", "fields": [{"name": "qty", "value": "{payload.items.0.qty}"}]},
            ["{var.count}", "{missing.one}", 5, null],
        ],
        "raw": {"a": 1, "b": [true, false]},
        "unknown": "{missing.two} and {missing.one}",
    });
    let rendered = render_json(&template, &ctx());
    assert_eq!(
        rendered.value,
        json!({
            "content": "New order A-1 from Zoë",
            "{name}": "keys stay as written",
            "amount": 150,
            "user": {"name": "Ada", "tags": ["a", "b"]},
            "embeds": [
                {"title": "evt_1", "fields": [{"name": "qty", "value": 2}]},
                [3, "{missing.one}", 5, null],
            ],
            "raw": {"a": 1, "b": [true, false]},
            "unknown": "{missing.two} and {missing.one}",
        })
    );
    assert_eq!(rendered.unknown, vec!["missing.one", "missing.two"]);
}

#[test]
fn an_unknown_whole_string_placeholder_stays_a_string_and_is_reported() {
    let rendered = render_json(&json!({"x": "{nope}", "y": ["{nope}"]}), &ctx());
    assert_eq!(rendered.value, json!({"x": "{nope}", "y": ["{nope}"]}));
    assert_eq!(rendered.unknown, vec!["nope"]);
}

#[test]
fn lookup_resolves_variables_first_then_namespaces() {
    let ctx = ctx();
    assert_eq!(ctx.lookup("user.name"), Some(&json!("caller-ada")));
    assert_eq!(ctx.lookup("payload.user.name"), Some(&json!("Ada")));
    assert_eq!(ctx.lookup("event"), Some(&json!({"id": "evt_1"})));
    assert_eq!(ctx.lookup("payload.items.01.sku"), Some(&json!("B-2")));
    assert_eq!(ctx.lookup("payload.items.-1"), None);
    assert_eq!(ctx.lookup("payload..amount"), None);
    assert_eq!(ctx.lookup("headers.User-Agent"), Some(&json!("curl/8")));
    assert_eq!(ctx.lookup("nope"), None);
}

#[test]
fn is_placeholder_accepts_only_one_whole_placeholder() {
    for yes in [
        "{a}",
        "{payload.items.0.sku}",
        "{order-id}",
        "{snake_case}",
        "{A.B-c_9}",
    ] {
        assert!(is_placeholder(yes), "{yes:?}");
    }
    let too_long = format!("{{{}}}", "x".repeat(65));
    let at_limit = format!("{{{}}}", "x".repeat(64));
    assert!(is_placeholder(&at_limit));
    for no in [
        "",
        "{",
        "}",
        "{}",
        "a",
        "{ a}",
        "{a }",
        "{a} ",
        " {a}",
        "{a}{b}",
        "{{a}}",
        "{a/b}",
        "{é}",
        r#"{"a": 1}"#,
        too_long.as_str(),
    ] {
        assert!(!is_placeholder(no), "{no:?}");
    }
}

#[test]
fn an_escaper_sees_only_the_substituted_values_and_their_key() {
    let mut ctx = Context::default();
    ctx.root.insert(
        "payload".into(),
        json!({"name": "Tom & Jerry", "n": 12.5, "tags": ["<a>"], "none": null}),
    );
    let esc = |key: Option<&str>, text: &str| -> String {
        match key {
            Some("url") => text.to_owned(),
            _ => text.replace('&', "&amp;").replace('<', "&lt;"),
        }
    };
    // template, want
    let cases = [
        ("<b>{payload.name}</b>", "<b>Tom &amp; Jerry</b>"),
        ("{payload.n} & {payload.tags}", "12.5 & [\"&lt;a>\"]"),
        ("{payload.none}<i>", "<i>"),
        ("{nope} & {payload.name}", "{nope} & Tom &amp; Jerry"),
        ("plain <u>text</u> & more", "plain <u>text</u> & more"),
    ];
    for (template, want) in cases {
        assert_eq!(
            hooklane_template::render_str_with(template, &ctx, &esc).value,
            want,
            "{template}"
        );
    }
    let out = hooklane_template::render_json_with(
        &json!({"text": "{payload.name}", "url": "https://x/?q={payload.name}",
                "n": "{payload.n}", "list": ["{payload.name}"], "whole": "{payload.tags}"}),
        &ctx,
        &esc,
    );
    assert_eq!(
        out.value,
        json!({"text": "Tom &amp; Jerry", "url": "https://x/?q=Tom & Jerry",
               "n": 12.5, "list": ["Tom &amp; Jerry"], "whole": ["<a>"]})
    );
}
