//! Discord: a webhook message's limits and how embeds are fitted to them.
//!
//! Sources: Discord API docs, "Execute Webhook"
//! (<https://discord.com/developers/docs/resources/webhook#execute-webhook>)
//! and "Embed Limits"
//! (<https://discord.com/developers/docs/resources/message#embed-object-embed-limits>).
//! Discord counts characters (Unicode scalar values).
//!
//! The message bodies themselves are built elsewhere: a `discord_message`
//! or `discord_followup` action's in `actions/chat.rs` (`chat::discord`,
//! `chat::discord_followup`), a `discord` endpoint's delivery in
//! [`payload`](crate::payload) (`payload.rs`). Both fit their message here.

use serde_json::{Map, Value};

use super::text::{as_text, Cuts};

/// A message's `content`: at most 2000 characters (Execute Webhook).
pub const CONTENT: usize = 2000;
/// At most 10 embeds in one message (Execute Webhook).
pub const EMBEDS: usize = 10;
/// An embed's `title`: at most 256 characters (Embed Limits).
pub const TITLE: usize = 256;
/// An embed's `description`: at most 4096 characters (Embed Limits).
pub const DESCRIPTION: usize = 4096;
/// At most 25 fields in one embed (Embed Limits).
pub const FIELDS: usize = 25;
/// A field's `name`: at most 256 characters (Embed Limits).
pub const FIELD_NAME: usize = 256;
/// A field's `value`: at most 1024 characters (Embed Limits).
pub const FIELD_VALUE: usize = 1024;
/// An embed's `footer.text`: at most 2048 characters (Embed Limits).
pub const FOOTER: usize = 2048;
/// An embed's `author.name`: at most 256 characters (Embed Limits).
pub const AUTHOR: usize = 256;
/// Titles, descriptions, field names and values, footer texts and author
/// names of all embeds of a message: at most 6000 characters together
/// (Embed Limits).
pub const TOTAL: usize = 6000;
/// The `username` a webhook message is sent as: at most 80 characters (a
/// webhook's name is 1–80 characters, Webhook Object).
pub const USERNAME: usize = 80;

/// The message flag `EPHEMERAL` (`1 << 6`): only the user who interacted
/// sees the message. Discord: "Message Object → Message Flags".
pub const EPHEMERAL: u64 = 64;

/// Why Discord would refuse `name` as a webhook message's `username`, or
/// `None` when it takes it: 1 to [`USERNAME`] characters, not containing
/// "discord" or "clyde", not "everyone" or "here" (any case; Discord's
/// Usernames and Nicknames rules).
pub fn username_problem(name: &str) -> Option<&'static str> {
    let lower = name.trim().to_lowercase();
    let len = name.trim().chars().count();
    if len == 0 {
        Some("is empty")
    } else if len > USERNAME {
        Some("is longer than 80 characters")
    } else if lower.contains("discord") || lower.contains("clyde") {
        Some("contains \"discord\" or \"clyde\", which Discord refuses")
    } else if lower == "everyone" || lower == "here" {
        Some("is \"everyone\" or \"here\", which Discord refuses")
    } else {
        None
    }
}

/// The `allowed_mentions` a message gets when its action sets none: user
/// mentions are parsed; `@everyone`/`@here` only when the template's own
/// text (not a substituted value) holds one; roles only those the
/// template's own text names as `<@&id>`. So a caller's value can never
/// ping a whole server or a role.
pub fn default_allowed_mentions(template: &str) -> Value {
    let mut parse = vec![Value::from("users")];
    if template.contains("@everyone") || template.contains("@here") {
        parse.push(Value::from("everyone"));
    }
    let mut roles: Vec<Value> = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("<@&") {
        rest = &rest[at + 3..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with('>') {
            let role = Value::String(digits);
            if !roles.contains(&role) && roles.len() < 100 {
                roles.push(role);
            }
        }
    }
    let mut out = Map::new();
    out.insert("parse".into(), Value::Array(parse));
    if !roles.is_empty() {
        out.insert("roles".into(), Value::Array(roles));
    }
    Value::Object(out)
}

/// Discord refuses an embed whose text fields are not strings.
fn texts_as_strings(e: &mut Map<String, Value>) {
    for key in ["title", "description", "url", "timestamp"] {
        if let Some(v) = e.get_mut(key) {
            as_text(v);
        }
    }
    for (key, inner) in [("footer", "text"), ("author", "name")] {
        if let Some(Value::Object(o)) = e.get_mut(key) {
            if let Some(v) = o.get_mut(inner) {
                as_text(v);
            }
        }
    }
    if let Some(Value::Array(fields)) = e.get_mut("fields") {
        for f in fields.iter_mut() {
            if let Value::Object(f) = f {
                for key in ["name", "value"] {
                    if let Some(v) = f.get_mut(key) {
                        as_text(v);
                    }
                }
            }
        }
    }
}

/// Fits embeds (JSON objects as Discord takes them) within Discord's
/// limits: at most [`EMBEDS`], each text cut to its limit (numbers and
/// booleans in text fields sent as text), at most [`FIELDS`] fields, and
/// within [`TOTAL`] characters in all (fields dropped from the end, then
/// whole embeds). A non-object embed is left out. Every change is noted in
/// `cuts`.
pub fn fit_embeds(embeds: Vec<Value>, cuts: &mut Cuts) -> Vec<Value> {
    let mut total = 0usize;
    let mut out = Vec::new();
    if embeds.len() > EMBEDS {
        cuts.0
            .push(format!("only the first {EMBEDS} embeds were sent"));
    }
    for embed in embeds.into_iter().take(EMBEDS) {
        let Value::Object(mut e) = embed else {
            cuts.0
                .push("an embed that is not an object was left out".into());
            continue;
        };
        texts_as_strings(&mut e);
        let mut size = cuts.text(&mut e, "title", TITLE, "embed title");
        size += cuts.text(&mut e, "description", DESCRIPTION, "embed description");
        for (key, inner, max) in [("footer", "text", FOOTER), ("author", "name", AUTHOR)] {
            if let Some(Value::Object(o)) = e.get_mut(key) {
                size += cuts.text(o, inner, max, &format!("embed {key}"));
            }
        }
        let mut field_sizes = Vec::new();
        if let Some(Value::Array(fields)) = e.get_mut("fields") {
            if fields.len() > FIELDS {
                cuts.0.push(format!("embed fields cut to {FIELDS}"));
                fields.truncate(FIELDS);
            }
            for f in fields.iter_mut() {
                let mut n = 0;
                if let Value::Object(f) = f {
                    n += cuts.text(f, "name", FIELD_NAME, "field name");
                    n += cuts.text(f, "value", FIELD_VALUE, "field value");
                }
                field_sizes.push(n);
            }
        }
        // Within the 6000-character total: drop fields from the end, then the embed.
        let mut keep = field_sizes.len();
        while keep > 0 && total + size + field_sizes[..keep].iter().sum::<usize>() > TOTAL {
            keep -= 1;
        }
        if keep < field_sizes.len() {
            cuts.0.push(format!(
                "fields past {TOTAL} characters in all were dropped"
            ));
            if let Some(Value::Array(fields)) = e.get_mut("fields") {
                fields.truncate(keep);
            }
        }
        size += field_sizes[..keep].iter().sum::<usize>();
        if total + size > TOTAL {
            cuts.0.push(format!(
                "embeds past {TOTAL} characters in all were dropped"
            ));
            break;
        }
        total += size;
        out.push(Value::Object(e));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usernames_follow_discords_rules() {
        let cases = [
            ("Hooklane", true),
            ("Shop bot", true),
            ("", false),
            ("   ", false),
            (&*"x".repeat(80), true),
            (&*"x".repeat(81), false),
            ("My Discord Bot", false),
            ("clyde", false),
            ("xCLYDEx", false),
            ("everyone", false),
            ("Here", false),
            ("everyone2", true),
        ];
        for (name, ok) in cases {
            assert_eq!(username_problem(name).is_none(), ok, "{name:?}");
        }
    }

    #[test]
    fn by_default_only_the_templates_own_mentions_can_ping_many() {
        use serde_json::json;
        let cases = [
            ("Paid: {payload.name}", json!({"parse": ["users"]})),
            (
                "@everyone paid: {x}",
                json!({"parse": ["users", "everyone"]}),
            ),
            ("@here {x}", json!({"parse": ["users", "everyone"]})),
            (
                "<@&123> and <@&123> <@&45> <@&x> {x}",
                json!({"parse": ["users"], "roles": ["123", "45"]}),
            ),
            ("", json!({"parse": ["users"]})),
        ];
        for (template, want) in cases {
            assert_eq!(default_allowed_mentions(template), want, "{template}");
        }
    }

    #[test]
    fn discord_embeds_are_fitted_to_discord_limits() {
        let fields: Vec<_> = (0..30)
            .map(|i| json!({"name": format!("f{i}"), "value": "v".repeat(2000)}))
            .collect();
        let mut cuts = Cuts::default();
        let out = fit_embeds(
            vec![json!({"title": "t".repeat(300), "fields": fields})],
            &mut cuts,
        );
        let e = &out[0];
        assert_eq!(e["title"].as_str().unwrap().chars().count(), TITLE);
        let fields = e["fields"].as_array().unwrap();
        assert_eq!(
            fields[0]["value"].as_str().unwrap().chars().count(),
            FIELD_VALUE
        );
        let total: usize = TITLE
            + fields
                .iter()
                .map(|f| {
                    f["name"].as_str().unwrap().chars().count()
                        + f["value"].as_str().unwrap().chars().count()
                })
                .sum::<usize>();
        assert!(total <= TOTAL, "{total}");
        assert_eq!(
            fields.len(),
            5,
            "5 fields of 1026 characters fit after a 256-character title"
        );
        assert!(!cuts.0.is_empty());
    }
}
