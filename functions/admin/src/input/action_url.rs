//! An action's target URL (`url`, `webhook_url`), which may hold
//! placeholders: what is literal in it is checked when the hook is saved.

use hooklane_runtime::outbound::check_target;
use hooklane_web::{ApiError, ErrorCode};

use super::fields::invalid;

/// Replaces each `{…}` placeholder with `x`, for checking what is literal.
fn without_placeholders(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                out.push('x');
                rest = &rest[open + close + 1..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Checks an action's target URL. The literal part is checked now: the
/// whole URL when it has no placeholder, the scheme and host when only the
/// path or query has some, the scheme alone when the host is templated. The
/// rest is checked when the URL is rendered, at run time. `path` names the
/// field in messages (`actions[1].url`).
///
/// # Errors
/// 400 `invalid_url` naming `path`, for an empty URL or a target the
/// outbound guard refuses (not https, or private without `allow_private`).
pub(super) async fn check_action_url(
    url: &str,
    path: &str,
    allow_private: bool,
) -> Result<(), ApiError> {
    if url.trim().is_empty() {
        return Err(invalid(ErrorCode::InvalidUrl, format!("`{path}` is empty")));
    }
    let Some(open) = url.find('{') else {
        return check_target_at(url, path, allow_private).await;
    };
    let literal = &url[..open];
    let Some((scheme, rest)) = literal.split_once("://") else {
        return Ok(());
    };
    let host_is_literal = rest.contains(['/', '?', '#']);
    if host_is_literal {
        return check_target_at(&without_placeholders(url), path, allow_private).await;
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "https" || (scheme == "http" && allow_private) {
        Ok(())
    } else {
        Err(invalid(
            ErrorCode::InvalidUrl,
            format!("`{path}`: only https URLs are allowed as targets (got {scheme}:)"),
        ))
    }
}

/// Checks `url` with the outbound guard, as a send to it would be.
///
/// # Errors
/// 400 `invalid_url` naming `path` with the guard's reason (not https,
/// private without `allow_private`, a name that does not resolve).
pub(super) async fn check_target_at(
    url: &str,
    path: &str,
    allow_private: bool,
) -> Result<(), ApiError> {
    match check_target(url, allow_private).await {
        Ok(_) => Ok(()),
        Err(e) => Err(invalid(ErrorCode::InvalidUrl, format!("`{path}`: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_for_the_literal_check() {
        assert_eq!(
            without_placeholders("https://a.example/{payload.x}/y?q={query.q}"),
            "https://a.example/x/y?q=x"
        );
        assert_eq!(without_placeholders("no placeholder"), "no placeholder");
        assert_eq!(without_placeholders("open {brace"), "open {brace");
    }

    #[tokio::test]
    async fn a_templated_path_still_has_its_literal_host_checked() {
        let refused = check_action_url("https://10.0.0.1/{payload.path}", "actions[0].url", false)
            .await
            .expect_err("a private literal host is refused");
        assert_eq!(refused.code, "invalid_url");
        assert!(refused.message.contains("actions[0].url"));
        assert!(check_action_url("https://{payload.host}/x", "u", false)
            .await
            .is_ok());
        assert!(check_action_url("{payload.url}", "u", false).await.is_ok());
        assert!(check_action_url("ftp://{payload.host}/x", "u", false)
            .await
            .is_err());
    }
}
