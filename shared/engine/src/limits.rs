//! The size limits of the chat platforms' APIs, applied before sending so a
//! long message is cut (and the cut noted) instead of refused.

use serde_json::{Map, Value};

pub const DISCORD_CONTENT: usize = 2000;
pub const DISCORD_EMBEDS: usize = 10;
pub const DISCORD_TITLE: usize = 256;
pub const DISCORD_DESCRIPTION: usize = 4096;
pub const DISCORD_FIELDS: usize = 25;
pub const DISCORD_FIELD_NAME: usize = 256;
pub const DISCORD_FIELD_VALUE: usize = 1024;
pub const DISCORD_FOOTER: usize = 2048;
pub const DISCORD_AUTHOR: usize = 256;
pub const DISCORD_TOTAL: usize = 6000;
pub const DISCORD_USERNAME: usize = 80;
pub const SLACK_TEXT: usize = 40_000;
pub const SLACK_BLOCKS: usize = 50;
pub const SLACK_SECTION_TEXT: usize = 3000;
pub const TELEGRAM_TEXT: usize = 4096;

/// `s` cut to `max` characters, ending in `…` when cut.
pub fn cut(s: &str, max: usize) -> (String, bool) {
    if s.chars().count() <= max {
        return (s.to_owned(), false);
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    (out, true)
}

/// Notes of what was cut, for the run log.
#[derive(Debug, Default)]
pub struct Cuts(pub Vec<String>);

impl Cuts {
    fn text(&mut self, obj: &mut Map<String, Value>, key: &str, max: usize, what: &str) -> usize {
        if let Some(Value::String(s)) = obj.get(key) {
            let (text, was_cut) = cut(s, max);
            let len = text.chars().count();
            if was_cut {
                self.0.push(format!("{what} cut to {max} characters"));
                obj.insert(key.to_owned(), Value::String(text));
            }
            return len;
        }
        0
    }
}

/// Fits Discord embeds within Discord's limits; returns the embeds and the notes.
pub fn fit_discord_embeds(embeds: Vec<Value>, cuts: &mut Cuts) -> Vec<Value> {
    let mut total = 0usize;
    let mut out = Vec::new();
    if embeds.len() > DISCORD_EMBEDS {
        cuts.0
            .push(format!("only the first {DISCORD_EMBEDS} embeds were sent"));
    }
    for embed in embeds.into_iter().take(DISCORD_EMBEDS) {
        let Value::Object(mut e) = embed else {
            continue;
        };
        let mut size = cuts.text(&mut e, "title", DISCORD_TITLE, "embed title");
        size += cuts.text(
            &mut e,
            "description",
            DISCORD_DESCRIPTION,
            "embed description",
        );
        for (key, inner, max) in [
            ("footer", "text", DISCORD_FOOTER),
            ("author", "name", DISCORD_AUTHOR),
        ] {
            if let Some(Value::Object(o)) = e.get_mut(key) {
                size += cuts.text(o, inner, max, &format!("embed {key}"));
            }
        }
        let mut field_sizes = Vec::new();
        if let Some(Value::Array(fields)) = e.get_mut("fields") {
            if fields.len() > DISCORD_FIELDS {
                cuts.0.push(format!("embed fields cut to {DISCORD_FIELDS}"));
                fields.truncate(DISCORD_FIELDS);
            }
            for f in fields.iter_mut() {
                let mut n = 0;
                if let Value::Object(f) = f {
                    n += cuts.text(f, "name", DISCORD_FIELD_NAME, "field name");
                    n += cuts.text(f, "value", DISCORD_FIELD_VALUE, "field value");
                }
                field_sizes.push(n);
            }
        }
        // Within the 6000-character total: drop fields from the end, then the embed.
        let mut keep = field_sizes.len();
        while keep > 0 && total + size + field_sizes[..keep].iter().sum::<usize>() > DISCORD_TOTAL {
            keep -= 1;
        }
        if keep < field_sizes.len() {
            cuts.0.push(format!(
                "fields past {DISCORD_TOTAL} characters in all were dropped"
            ));
            if let Some(Value::Array(fields)) = e.get_mut("fields") {
                fields.truncate(keep);
            }
        }
        size += field_sizes[..keep].iter().sum::<usize>();
        if total + size > DISCORD_TOTAL {
            cuts.0.push(format!(
                "embeds past {DISCORD_TOTAL} characters in all were dropped"
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
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(cut("hello", 5), ("hello".into(), false));
        assert_eq!(cut("hello!", 5), ("hell…".into(), true));
        let (s, cut_) = cut(&"é".repeat(5000), TELEGRAM_TEXT);
        assert!(cut_);
        assert_eq!(s.chars().count(), TELEGRAM_TEXT);
    }

    #[test]
    fn discord_embeds_are_fitted_to_discord_limits() {
        let fields: Vec<_> = (0..30)
            .map(|i| json!({"name": format!("f{i}"), "value": "v".repeat(2000)}))
            .collect();
        let mut cuts = Cuts::default();
        let out = fit_discord_embeds(
            vec![json!({"title": "t".repeat(300), "fields": fields})],
            &mut cuts,
        );
        let e = &out[0];
        assert_eq!(e["title"].as_str().unwrap().chars().count(), DISCORD_TITLE);
        let fields = e["fields"].as_array().unwrap();
        assert_eq!(
            fields[0]["value"].as_str().unwrap().chars().count(),
            DISCORD_FIELD_VALUE
        );
        let total: usize = DISCORD_TITLE
            + fields
                .iter()
                .map(|f| {
                    f["name"].as_str().unwrap().chars().count()
                        + f["value"].as_str().unwrap().chars().count()
                })
                .sum::<usize>();
        assert!(total <= DISCORD_TOTAL, "{total}");
        assert_eq!(
            fields.len(),
            5,
            "5 fields of 1026 characters fit after a 256-character title"
        );
        assert!(!cuts.0.is_empty());
    }
}
