//! The chat platforms' message formats and size limits, applied before
//! sending so a long message is cut (and the cut noted in the run log)
//! instead of refused: [`discord`], [`slack`], [`telegram`], the text
//! cutting they share ([`cut`], [`cut_utf16`], [`Cuts`]), and the escaping
//! of substituted values for each platform's markup ([`escape`]).

pub mod discord;
pub mod escape;
pub mod slack;
pub mod telegram;
mod text;

pub use text::{cut, cut_utf16, Cuts};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_fields_that_rendered_as_numbers_are_sent_as_text() {
        let mut cuts = Cuts::default();
        let embeds = discord::fit_embeds(
            vec![json!({"title": 42, "color": 5763719,
                        "fields": [{"name": "Amount", "value": 150.5, "inline": true}],
                        "footer": {"text": true}})],
            &mut cuts,
        );
        assert_eq!(
            embeds[0],
            json!({"title": "42", "color": 5763719,
                   "fields": [{"name": "Amount", "value": "150.5", "inline": true}],
                   "footer": {"text": "true"}})
        );
        let blocks = slack::fit_blocks(
            vec![
                json!({"type": "section", "text": {"type": "mrkdwn", "text": 150},
                        "fields": [{"type": "plain_text", "text": 7, "emoji": true}]}),
            ],
            &mut cuts,
        );
        assert_eq!(
            blocks[0],
            json!({"type": "section", "text": {"type": "mrkdwn", "text": "150"},
                   "fields": [{"type": "plain_text", "text": "7", "emoji": true}]})
        );
        assert!(cuts.0.is_empty());
    }
}
