//! Rules for names that travel in URLs and templates. Event types and
//! filters are [`EventType`](crate::EventType) and
//! [`EventFilter`](crate::EventFilter).

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
    fn names_follow_their_patterns() {
        assert!(is_variable_name("user.balance"));
        assert!(!is_variable_name("a{b}"));
    }
}
