//! The JSON body a delivery carries, shaped for the endpoint's type: the
//! event itself for a `custom` endpoint, a Discord embed for `discord`,
//! Slack blocks for `slack` (each within the platform's limits).

use hooklane_domain::envelope::DeliveryTask;
use hooklane_domain::{rfc3339, EndpointType};
use serde_json::{json, Map, Value};

use crate::platforms::{cut, discord, escape, slack, Cuts};

/// The body an endpoint of `kind` receives for delivery `d`:
/// - `custom`: `{"id", "event", "timestamp" (RFC 3339), "bot_id", "data"}`;
/// - `discord`: `{"username": "Hooklane", "embeds": [one embed],
///   "allowed_mentions": …}`, titled with the event, one field per
///   top-level data field (see [`fields_of`]), the message id in the
///   footer, cut to Discord's limits; `allowed_mentions` is the endpoint's
///   own (`allowed_mentions`, as it is) or `{"parse": []}`: the data pings
///   no one (and its `@everyone`/`@here` are neutralised by
///   [`escape::discord`] in any case);
/// - `slack`: `{"text", "blocks"}`: the event and the compact data as the
///   fallback text, a header block, a section of up to 10 fields and a
///   context block with the message id and time, cut to Slack's limits;
///   the data's `&`, `<` and `>` are escaped in `mrkdwn` and `text`.
pub fn body_for(kind: EndpointType, allowed_mentions: Option<&Value>, d: &DeliveryTask) -> Value {
    let timestamp = rfc3339(d.timestamp);
    match kind {
        EndpointType::Custom => json!({
            "id": d.message_id,
            "event": d.event,
            "timestamp": timestamp,
            "bot_id": d.bot_id,
            "data": d.data,
        }),
        EndpointType::Discord => {
            let fields: Vec<Value> = fields_of(&d.data)
                .into_iter()
                .map(|(name, value)| {
                    let inline = value.chars().count() <= 40;
                    json!({"name": escape::discord(&name), "value": escape::discord(&value), "inline": inline})
                })
                .collect();
            let mut embed = json!({
                "title": d.event,
                "timestamp": timestamp,
                "footer": {"text": format!("{} · Hooklane", d.message_id)},
            });
            if !fields.is_empty() {
                embed["fields"] = Value::Array(fields);
            }
            let mut cuts = Cuts::default();
            // The event's data is the caller's: it pings no one, unless the
            // endpoint says whom it may.
            json!({
                "username": "Hooklane",
                "embeds": discord::fit_embeds(vec![embed], &mut cuts),
                "allowed_mentions": allowed_mentions.cloned().unwrap_or_else(|| json!({"parse": []})),
            })
        }
        EndpointType::Slack => {
            let fields: Vec<Value> = fields_of(&d.data)
                .into_iter()
                .take(10)
                .map(|(name, value)| {
                    let text = format!("*{}*\n{}", escape::slack(&name), escape::slack(&value));
                    json!({"type": "mrkdwn", "text": cut(&text, slack::FIELD_TEXT).0})
                })
                .collect();
            let mut blocks = vec![json!({
                "type": "header",
                "text": {"type": "plain_text", "text": cut(d.event.as_str(), 150).0},
            })];
            if !fields.is_empty() {
                blocks.push(json!({"type": "section", "fields": fields}));
            }
            blocks.push(json!({
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": format!("{} · {}", d.message_id, timestamp)}],
            }));
            let text = format!("{}: {}", d.event, escape::slack(&compact(&d.data)));
            json!({ "text": cut(&text, slack::TEXT).0, "blocks": blocks })
        }
    }
}

/// A value as one line of text: a string as it is, anything else as JSON.
pub fn compact(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Top-level fields of the data as `(name, text)` pairs, in the object's
/// order, each value as [`compact`] text (`—` when empty); `null` gives no
/// field and any other non-object one field named `data`.
pub fn fields_of(data: &Value) -> Vec<(String, String)> {
    match data {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    if compact(v).is_empty() {
                        "—".into()
                    } else {
                        compact(v)
                    },
                )
            })
            .collect(),
        Value::Null => Vec::new(),
        other => vec![("data".into(), compact(other))],
    }
}

/// The data of a test event (the admin API's "send a test event"):
/// `{"message": "This is a test event from Hooklane."}`.
pub fn test_event_data() -> Value {
    let mut m = Map::new();
    m.insert(
        "message".into(),
        Value::String("This is a test event from Hooklane.".into()),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deliver(data: Value) -> DeliveryTask {
        DeliveryTask {
            message_id: hooklane_domain::MessageId::parse("msg_01J0000000000000000000000").unwrap(),
            bot_id: hooklane_domain::BotId::parse("bot-1").unwrap(),
            endpoint_id: hooklane_domain::EndpointId::generate(),
            event: hooklane_domain::EventType::parse("server.created").unwrap(),
            data,
            timestamp: time::macros::datetime!(2026-03-01 12:00:00 UTC),
            attempt: 1,
            previous: None,
            depth: 0,
            force: false,
            throttled: 0,
        }
    }

    #[test]
    fn each_endpoint_type_gets_its_own_body() {
        let d = deliver(json!({"name": "eu-1", "players": 12, "tags": ["pvp"]}));
        assert_eq!(
            body_for(EndpointType::Custom, None, &d),
            json!({
                "id": "msg_01J0000000000000000000000",
                "event": "server.created",
                "timestamp": "2026-03-01T12:00:00Z",
                "bot_id": "bot-1",
                "data": {"name": "eu-1", "players": 12, "tags": ["pvp"]},
            })
        );
        assert_eq!(
            body_for(EndpointType::Discord, None, &d),
            json!({"username": "Hooklane", "embeds": [{
                "title": "server.created",
                "timestamp": "2026-03-01T12:00:00Z",
                "footer": {"text": "msg_01J0000000000000000000000 · Hooklane"},
                "fields": [
                    {"name": "name", "value": "eu-1", "inline": true},
                    {"name": "players", "value": "12", "inline": true},
                    {"name": "tags", "value": "[\"pvp\"]", "inline": true},
                ],
            }], "allowed_mentions": {"parse": []}})
        );
        let slack = body_for(EndpointType::Slack, None, &d);
        assert_eq!(
            slack["text"],
            r#"server.created: {"name":"eu-1","players":12,"tags":["pvp"]}"#
        );
        assert_eq!(
            slack["blocks"][0],
            json!({"type": "header", "text": {"type": "plain_text", "text": "server.created"}})
        );
        assert_eq!(
            slack["blocks"][1]["fields"][0],
            json!({"type": "mrkdwn", "text": "*name*\neu-1"})
        );
        assert_eq!(slack["blocks"][2]["type"], "context");
    }

    #[test]
    fn values_in_discord_and_slack_endpoint_bodies_cannot_ping_or_link() {
        let d =
            deliver(json!({"note": "@everyone <!channel> Tom & Jerry", "<b>": "<https://x|y>"}));
        let discord = body_for(EndpointType::Discord, None, &d);
        assert_eq!(discord["allowed_mentions"], json!({"parse": []}));
        // An endpoint's own allowed_mentions goes as it is.
        for own in [
            json!({"parse": ["users"]}),
            json!({"parse": [], "roles": ["12"]}),
            json!({"parse": ["everyone"]}),
        ] {
            let body = body_for(EndpointType::Discord, Some(&own), &d);
            assert_eq!(body["allowed_mentions"], own);
        }
        let values = discord["embeds"][0]["fields"].to_string();
        assert!(
            values.contains("@\u{200B}everyone <!channel> Tom & Jerry"),
            "{values}"
        );
        let slack = body_for(EndpointType::Slack, None, &d);
        let texts: Vec<&str> = slack["blocks"][1]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["text"].as_str().unwrap())
            .collect();
        for want in [
            "*note*\n@everyone &lt;!channel&gt; Tom &amp; Jerry",
            "*&lt;b&gt;*\n&lt;https://x|y&gt;",
        ] {
            assert!(texts.contains(&want), "{want} in {texts:?}");
        }
        let text = slack["text"].as_str().unwrap();
        assert!(text.starts_with("server.created: {"), "{text}");
        assert!(!text.contains(['<', '>']), "{text}");
        assert!(text.contains("&lt;!channel&gt; Tom &amp; Jerry"), "{text}");
        assert_eq!(slack["blocks"][0]["text"]["text"], "server.created");
    }

    #[test]
    fn discord_and_slack_bodies_stay_within_the_platform_limits() {
        let many: Map<String, Value> = (0..40)
            .map(|i| (format!("field{i:02}"), Value::String("x".repeat(3000))))
            .collect();
        let d = deliver(Value::Object(many));
        let discord = body_for(EndpointType::Discord, None, &d);
        let fields = discord["embeds"][0]["fields"].as_array().unwrap();
        assert!(fields.len() <= discord::FIELDS);
        assert!(fields
            .iter()
            .all(|f| f["value"].as_str().unwrap().chars().count() <= discord::FIELD_VALUE));
        let total: usize = fields
            .iter()
            .map(|f| {
                f["name"].as_str().unwrap().chars().count()
                    + f["value"].as_str().unwrap().chars().count()
            })
            .sum();
        assert!(total <= discord::TOTAL, "{total}");
        let slack = body_for(EndpointType::Slack, None, &d);
        let fields = slack["blocks"][1]["fields"].as_array().unwrap();
        assert_eq!(fields.len(), slack::SECTION_FIELDS);
        assert!(fields
            .iter()
            .all(|f| f["text"].as_str().unwrap().chars().count() <= slack::FIELD_TEXT));
        assert!(slack["text"].as_str().unwrap().chars().count() <= slack::TEXT);
    }
}
