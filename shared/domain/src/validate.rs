//! Rules for names that travel in URLs, templates and events.

/// An event type: `[A-Za-z0-9_.:-]{1,128}`, such as `order.paid`.
pub fn validate_event_name(s: &str) -> Result<(), String> {
    if !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:-".contains(c))
    {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an event name: use 1 to 128 letters, digits, `_`, `.`, `:` or `-`",
            s.chars().take(130).collect::<String>()
        ))
    }
}

/// An event filter: an exact name, `category.*`, or `*`.
pub fn validate_event_filter(s: &str) -> Result<(), String> {
    if s == "*" {
        return Ok(());
    }
    validate_event_name(s.strip_suffix(".*").unwrap_or(s))
}

/// True when `filter` matches the event `name`.
pub fn event_matches(filter: &str, name: &str) -> bool {
    if filter == "*" {
        return true;
    }
    match filter.strip_suffix(".*") {
        Some(prefix) => {
            name.len() > prefix.len() + 1
                && name.starts_with(prefix)
                && name.as_bytes()[prefix.len()] == b'.'
        }
        None => filter == name,
    }
}

/// A variable name: 1 to 64 of `[A-Za-z0-9_.-]`.
pub fn is_variable_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_exact_names_and_categories() {
        assert!(event_matches("order.paid", "order.paid"));
        assert!(!event_matches("order.paid", "order.paid.late"));
        assert!(event_matches("order.*", "order.paid"));
        assert!(event_matches("order.*", "order.paid.late"));
        assert!(!event_matches("order.*", "orders.paid"));
        assert!(!event_matches("order.*", "order"));
        assert!(event_matches("*", "anything"));
    }

    #[test]
    fn names_follow_their_patterns() {
        assert!(validate_event_name("server.created").is_ok());
        assert!(validate_event_name("").is_err());
        assert!(validate_event_name("a b").is_err());
        assert!(validate_event_filter("order.*").is_ok());
        assert!(validate_event_filter("order.**").is_err());
        assert!(is_variable_name("user.balance"));
        assert!(!is_variable_name("a{b}"));
    }
}
