//! The ingress router against everything a caller can get wrong: each bad
//! call gets the contract's status and error code, and nothing reaches the
//! queue; and each auth scheme's correct call queues exactly one envelope.

use axum::body::Body;
use axum::http::Method;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hooklane_domain::{Job, DEFAULT_MAX_BODY_BYTES};
use serde_json::{json, Value};

use crate::signatures::*;
use crate::support::*;

struct Case {
    what: &'static str,
    call: Call,
    status: u16,
    code: &'static str,
    /// A header the answer must carry, and its value.
    header: Option<(&'static str, &'static str)>,
    /// Words the error message must contain.
    message: Option<&'static str>,
    /// Whether the message must begin with those words (one error, one
    /// message: no wrapper before it).
    opening: bool,
}

fn case(what: &'static str, call: Call, status: u16, code: &'static str) -> Case {
    Case {
        what,
        call,
        status,
        code,
        header: None,
        message: None,
        opening: false,
    }
}

impl Case {
    fn with_header(mut self, name: &'static str, value: &'static str) -> Self {
        self.header = Some((name, value));
        self
    }

    fn saying(mut self, words: &'static str) -> Self {
        self.message = Some(words);
        self
    }

    fn opening_with(mut self, words: &'static str) -> Self {
        self.message = Some(words);
        self.opening = true;
        self
    }
}

fn variables(entries: &str) -> Call {
    Call::post(path("hk_open")).json(format!(r#"{{"order": 1, "variables": {entries}}}"#))
}

fn bad_calls(t: &Ingress) -> Vec<Case> {
    let now = t.now;
    let key = t.key.clone();
    let (ctx, sig) = signed_url_parts(&URL_KEY, "hk_signed", json!({"user_id": "42"}), None);
    let (changed_ctx, _) = signed_url_parts(&URL_KEY, "hk_signed", json!({"user_id": "43"}), None);
    let (expired_ctx, expired_sig) =
        signed_url_parts(&URL_KEY, "hk_signed", json!({"user_id": "42"}), Some(now));
    let (other_ctx, other_sig) =
        signed_url_parts(&URL_KEY, "hk_signed2", json!({"user_id": "42"}), None);
    let stripe_body = BODY;
    let huge = "x".repeat(QUEUE_MAX + 1);
    let mut many_headers = Call::post(path("hk_open")).json("{}");
    for i in 0..1200 {
        many_headers = many_headers.header(&format!("x-pad-{i}"), "y".repeat(1000));
    }

    vec![
        // --- routes and methods -------------------------------------------
        case("PUT on a POST hook", Call::new(Method::PUT, path("hk_open")).json("{}"), 405, "method_not_allowed")
            .with_header("allow", "POST, OPTIONS").saying("this route takes POST, OPTIONS"),
        case("GET on a POST hook", Call::new(Method::GET, path("hk_open")), 405, "method_not_allowed")
            .with_header("allow", "POST, OPTIONS"),
        case("DELETE on a POST hook", Call::new(Method::DELETE, path("hk_open")), 405, "method_not_allowed"),
        case("PATCH on a POST hook", Call::new(Method::PATCH, path("hk_open")).json("{}"), 405, "method_not_allowed"),
        case("HEAD on a POST hook", Call::new(Method::HEAD, path("hk_open")), 405, "method_not_allowed")
            .with_header("allow", "POST, OPTIONS"),
        case("a made-up method", Call::new(Method::from_bytes(b"PURGE").unwrap(), path("hk_open")), 405, "method_not_allowed"),
        case("POST on a GET-only hook", Call::post(path("hk_getonly")).json("{}"), 405, "method_not_allowed")
            .with_header("allow", "GET, OPTIONS"),
        case("PUT under /webhook/", Call::new(Method::PUT, format!("/webhook/{BOT}/hk_open")), 405, "method_not_allowed"),
        case("GET on the publish route", Call::new(Method::GET, format!("/v1/bots/{BOT}/events")), 405, "method_not_allowed")
            .with_header("allow", "POST").saying("this route takes POST"),
        case("a publish larger than the router reads", Call::post(format!("/v1/bots/{BOT}/events")).json(format!(r#"{{"event": "a.b", "data": "{}"}}"#, "x".repeat(3 << 20))).header("authorization", &key), 413, "payload_too_large"),
        case("a publish larger than a queue message", Call::post(format!("/v1/bots/{BOT}/events")).json(format!(r#"{{"event": "a.b", "data": "{}"}}"#, "x".repeat(QUEUE_MAX))).header("authorization", &key), 413, "payload_too_large"),
        case("a publish with a wrong key", Call::post(format!("/v1/bots/{BOT}/events")).json(r#"{"event": "a.b"}"#).header("authorization", "hlk_wrong"), 401, "unauthorized"),
        case("a publish with a bad event name", Call::post(format!("/v1/bots/{BOT}/events")).json(r#"{"event": "a b"}"#).header("authorization", &key), 400, "invalid_event"),
        case("a publish with truncated JSON", Call::post(format!("/v1/bots/{BOT}/events")).json(r#"{"event": "a.b""#).header("authorization", &key), 400, "invalid_json"),
        case("DELETE on the publish route", Call::new(Method::DELETE, format!("/v1/bots/{BOT}/events")), 405, "method_not_allowed"),
        case("a path with no hook", Call::post(format!("/hooks/{BOT}")).json("{}"), 404, "not_found"),
        case("a path below a hook", Call::post(format!("{}/more", path("hk_open"))).json("{}"), 404, "not_found"),
        // --- unknown, foreign and disabled hooks --------------------------
        case("unknown bot", Call::post("/hooks/no-such-bot/hk_open").json("{}"), 404, "not_found"),
        case("bot id that does not decode as UTF-8", Call::post("/hooks/%FF%FE/hk_open").json("{}"), 404, "not_found"),
        case("bot id with characters ids never have", Call::post("/hooks/b%20t%21/hk_open").json("{}"), 404, "not_found"),
        case("unknown hook", Call::post(path("hk_01J0000000000000000000000")).json("{}"), 404, "not_found"),
        case("hook id without its prefix", Call::post(path("open")).json("{}"), 404, "not_found"),
        case("unknown hook under /webhook/", Call::post(format!("/webhook/{BOT}/hk_nope")).json("{}"), 404, "not_found"),
        case("another bot's hook", Call::post(path("hk_elsewhere")).json("{}"), 404, "not_found"),
        case("disabled hook", Call::post(path("hk_disabled")).json("{}"), 404, "not_found"),
        case("preflight of a disabled hook", Call::new(Method::OPTIONS, path("hk_disabled")).header("origin", "https://app.example.com"), 404, "not_found"),
        // --- api_key -------------------------------------------------------
        case("api key missing", Call::post(path("hk_apikey")).json("{}"), 401, "unauthorized"),
        case("api key wrong", Call::post(path("hk_apikey")).json("{}").header("authorization", "Bearer hlk_wrongwrongwrong"), 401, "unauthorized"),
        case("api key of another bot", Call::post(path("hk_apikey")).json("{}").header("authorization", format!("Bearer {}", t.other_key)), 401, "unauthorized"),
        case("Bearer and nothing else", Call::post(path("hk_apikey")).json("{}").header("authorization", "Bearer "), 401, "unauthorized"),
        case("api key as Basic credentials", Call::post(path("hk_apikey")).json("{}").header("authorization", format!("Basic {key}")), 401, "unauthorized"),
        case("api key with a character cut off", Call::post(path("hk_apikey")).json("{}").header("authorization", &key[..key.len() - 1]), 401, "unauthorized"),
        case("api key in x-api-key instead", Call::post(path("hk_apikey")).json("{}").header("x-api-key", &key), 401, "unauthorized"),
        case("api key header that is not text", Call::post(path("hk_apikey")).json("{}").raw_header("authorization", b"Bearer \xff\xfe"), 401, "unauthorized"),
        case("api key header of a megabyte", Call::post(path("hk_apikey")).json("{}").header("authorization", format!("Bearer {}", "k".repeat(1 << 20))), 401, "unauthorized"),
        // --- secret_header -------------------------------------------------
        case("x-bp-secret missing", Call::post(path("hk_botpress")).json("{}"), 401, "unauthorized").saying("x-bp-secret"),
        case("x-bp-secret wrong", Call::post(path("hk_botpress")).json("{}").header("x-bp-secret", "bp-secret-0123456788"), 401, "unauthorized"),
        case("x-bp-secret with a byte more", Call::post(path("hk_botpress")).json("{}").header("x-bp-secret", format!("{BOTPRESS_SECRET}0")), 401, "unauthorized"),
        case("x-bp-secret empty", Call::post(path("hk_botpress")).json("{}").header("x-bp-secret", ""), 401, "unauthorized"),
        case("the secret in the default header instead", Call::post(path("hk_botpress")).json("{}").header("x-hook-secret", BOTPRESS_SECRET), 401, "unauthorized"),
        case("the secret as Authorization", Call::post(path("hk_botpress")).json("{}").header("authorization", BOTPRESS_SECRET), 401, "unauthorized"),
        // --- hmac: standard ------------------------------------------------
        case("standard: no headers", Call::post(path("hk_standard")).json(BODY), 401, "unauthorized").saying("webhook-id"),
        case("standard: signed with another secret", {
            let sig = STANDARD.encode(mac256(b"another secret", &[format!("msg_1.{now}.{BODY}").as_bytes()]));
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", now.to_string()).header("webhook-signature", format!("v1,{sig}"))
        }, 401, "unauthorized"),
        case("standard: body changed after signing", standard("msg_1", now, BODY, &BODY.replace("12.50", "0.01")), 401, "unauthorized").saying("does not match"),
        case("svix: body changed after signing", {
            let good = svix("msg_1", now, BODY);
            good.body(BODY.replace("12.50", "0.01"))
        }, 401, "unauthorized").saying("does not match"),
        case("svix: no svix-signature", Call::post(path("hk_standard")).json(BODY).header("svix-id", "msg_1").header("svix-timestamp", now.to_string()), 401, "unauthorized").saying("`svix-signature` header is missing"),
        case("svix: 301 s old", svix("msg_1", now - 301, BODY), 401, "unauthorized").saying("5 minutes"),
        case("standard: timestamp 301 s old", standard("msg_1", now - 301, BODY, BODY), 401, "unauthorized").saying("5 minutes"),
        case("standard: timestamp 301 s ahead", standard("msg_1", now + 301, BODY, BODY), 401, "unauthorized").saying("5 minutes"),
        case("standard: timestamp not a number", {
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", "yesterday").header("webhook-signature", "v1,AAAA")
        }, 401, "unauthorized"),
        case("standard: signature not base64", {
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", now.to_string()).header("webhook-signature", "v1,***")
        }, 401, "unauthorized"),
        case("standard: only a v2 signature", {
            Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_1").header("webhook-timestamp", now.to_string()).header("webhook-signature", "v2,AAAA")
        }, 401, "unauthorized"),
        case("standard: signed for another message id", {
            let c = standard("msg_1", now, BODY, BODY);
            let mut c2 = Call::post(path("hk_standard")).json(BODY).header("webhook-id", "msg_2");
            for (k, v) in c.headers.into_iter().filter(|(k, _)| k != "webhook-id" && k != "content-type") {
                c2.headers.push((k, v));
            }
            c2
        }, 401, "unauthorized"),
        // --- hmac: github ---------------------------------------------------
        case("github: no signature", Call::post(path("hk_github")).json(BODY), 401, "unauthorized").saying("X-Hub-Signature-256"),
        case("github: wrong secret", github("not the secret", BODY, BODY), 401, "unauthorized"),
        case("github: body changed", github(GITHUB_SECRET, BODY, &format!("{BODY} ")), 401, "unauthorized"),
        case("github: SHA-1 signature in the SHA-256 header", {
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature-256", format!("sha1={}", "0".repeat(40)))
        }, 401, "unauthorized"),
        case("github: only the old SHA-1 header", {
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature", format!("sha1={}", "0".repeat(40)))
        }, 401, "unauthorized"),
        case("github: hex garbled", {
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature-256", format!("sha256={}", "zz".repeat(32)))
        }, 401, "unauthorized"),
        case("github: signature cut short", {
            let full = github_signature(GITHUB_SECRET, BODY.as_bytes());
            Call::post(path("hk_github")).json(BODY).header("x-hub-signature-256", &full[..full.len() - 2])
        }, 401, "unauthorized"),
        // --- hmac: stripe ---------------------------------------------------
        case("stripe: no header", Call::post(path("hk_stripe")).json(stripe_body), 401, "unauthorized"),
        case("stripe: wrong secret", stripe(stripe_header("whsec_other", now, stripe_body), stripe_body), 401, "unauthorized"),
        case("stripe: timestamp 10 minutes old", stripe(stripe_header(STRIPE_SECRET, now - 600, stripe_body), stripe_body), 401, "unauthorized").saying("5 minutes"),
        case("stripe: no t=", {
            let h = stripe_header(STRIPE_SECRET, now, stripe_body);
            stripe(h.split_once(',').unwrap().1.to_owned(), stripe_body)
        }, 401, "unauthorized"),
        case("stripe: only a v0 signature", {
            let h = stripe_header(STRIPE_SECRET, now, stripe_body).replace("v1=", "v0=");
            stripe(h, stripe_body)
        }, 401, "unauthorized"),
        case("stripe: body changed", stripe(stripe_header(STRIPE_SECRET, now, stripe_body), &stripe_body.replace("7", "8")), 401, "unauthorized"),
        // --- hmac: slack ----------------------------------------------------
        case("slack: no headers", slack(None, None, SLACK_BODY), 401, "unauthorized"),
        case("slack: no timestamp", slack(None, Some(slack_signature(SLACK_SECRET, now, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        case("slack: timestamp 6 minutes old", slack(Some(now - 360), Some(slack_signature(SLACK_SECRET, now - 360, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        case("slack: signed with another timestamp", slack(Some(now), Some(slack_signature(SLACK_SECRET, now - 1, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        case("slack: without the v0= prefix", slack(Some(now), Some(slack_signature(SLACK_SECRET, now, SLACK_BODY)[3..].to_owned()), SLACK_BODY), 401, "unauthorized"),
        case("slack: wrong secret", slack(Some(now), Some(slack_signature("another", now, SLACK_BODY)), SLACK_BODY), 401, "unauthorized"),
        // --- hmac: shopify --------------------------------------------------
        case("shopify: no header", Call::post(path("hk_shopify")).json(BODY), 401, "unauthorized"),
        case("shopify: hex instead of base64", shopify(hex::encode(mac256(SHOPIFY_SECRET.as_bytes(), &[BODY.as_bytes()])), BODY), 401, "unauthorized"),
        case("shopify: wrong secret", shopify(shopify_signature("shpss_other", BODY), BODY), 401, "unauthorized"),
        case("shopify: body changed", shopify(shopify_signature(SHOPIFY_SECRET, BODY), "{}"), 401, "unauthorized"),
        // --- hmac: generic --------------------------------------------------
        case("generic: no header", Call::post(path("hk_generic")).json(BODY), 401, "unauthorized").saying("x-signature"),
        case("generic: prefix left out", generic(generic_signature(BODY)["sha512=".len()..].to_owned(), BODY), 401, "unauthorized"),
        case("generic: SHA-256 where the hook wants SHA-512", generic(format!("sha512={}", STANDARD.encode(mac256(GENERIC_SECRET.as_bytes(), &[BODY.as_bytes()]))), BODY), 401, "unauthorized"),
        case("generic: hex where the hook wants base64", generic(format!("sha512={}", hex::encode(mac512(GENERIC_SECRET.as_bytes(), &[BODY.as_bytes()]))), BODY), 401, "unauthorized"),
        case("generic: body changed", generic(generic_signature(BODY), "{}"), 401, "unauthorized"),
        // --- signed_url -----------------------------------------------------
        case("signed URL: no ctx or sig", Call::new(Method::GET, path("hk_signed")), 401, "unauthorized"),
        case("signed URL: sig only", Call::new(Method::GET, format!("{}?sig={sig}", path("hk_signed"))), 401, "unauthorized"),
        case("signed URL: ctx only", Call::new(Method::GET, format!("{}?ctx={ctx}", path("hk_signed"))), 401, "unauthorized"),
        case("signed URL: context changed", signed("hk_signed", &changed_ctx, &sig), 401, "unauthorized").opening_with("the signed URL's signature does not match"),
        case("signed URL: sig changed", signed("hk_signed", &ctx, &flip(&sig, 5)), 401, "unauthorized"),
        case("signed URL: sig not base64url", signed("hk_signed", &ctx, "%2B%2F%3D"), 401, "unauthorized").opening_with("the signed URL is malformed: `sig` is not base64url"),
        case("signed URL: expired", signed("hk_signed", &expired_ctx, &expired_sig), 401, "unauthorized").opening_with("the signed URL has expired"),
        case("signed URL: minted for another hook", signed("hk_signed", &other_ctx, &other_sig), 401, "unauthorized"),
        case("signed URL: empty ctx and sig", signed("hk_signed", "", ""), 401, "unauthorized"),
        case("signed URL whose context nests too deep to queue", {
            let deep: Value = serde_json::from_str(&nested(101)).unwrap();
            let (ctx, sig) = signed_url_parts(&URL_KEY, "hk_signed", json!({"deep": deep}), None);
            signed("hk_signed", &ctx, &sig)
        }, 400, "invalid_context"),
        // --- bodies ---------------------------------------------------------
        case("JSON body that is not UTF-8", Call::post(path("hk_open")).header("content-type", "application/json").body(b"{\"a\":\"\xff\xfe\"}".to_vec()), 400, "invalid_body").saying("UTF-8"),
        case("text body that is not UTF-8", Call::post(path("hk_open")).header("content-type", "text/plain").body(b"caf\xe9".to_vec()), 400, "invalid_body"),
        case("form body that is not UTF-8", Call::post(path("hk_open")).header("content-type", "application/x-www-form-urlencoded").body(b"a=\xc3\x28".to_vec()), 400, "invalid_body"),
        case("truncated JSON", Call::post(path("hk_open")).json(&BODY[..BODY.len() - 3]), 400, "invalid_json"),
        case("JSON cut after a key", Call::post(path("hk_open")).json("{\"a\":"), 400, "invalid_json"),
        case("JSON with trailing garbage", Call::post(path("hk_open")).json("{\"a\":1} trailing"), 400, "invalid_json"),
        case("JSON with a trailing comma", Call::post(path("hk_open")).json("{\"a\":1,}"), 400, "invalid_json"),
        case("JSON nested 101 deep", Call::post(path("hk_open")).json(nested(101)), 400, "invalid_json").saying("deeper than 100"),
        case("JSON object nested 101 deep", Call::post(path("hk_open")).json(format!("{}1{}", "{\"a\":".repeat(101), "}".repeat(101))), 400, "invalid_json"),
        case("JSON nested 128 deep, past serde's limit", Call::post(path("hk_open")).json(nested(128)), 400, "invalid_json"),
        case("JSON nested 10 000 deep", Call::post(path("hk_open")).json(nested(10_000)), 400, "invalid_json"),
        case("untyped body that looks like JSON but is not", Call::post(path("hk_open")).body("{not json"), 400, "invalid_json"),
        case("one byte over the limit, with Content-Length", {
            Call::post(path("hk_small")).header("content-type", "text/plain").header("content-length", (SMALL_LIMIT + 1).to_string()).body(vec![b'a'; SMALL_LIMIT + 1])
        }, 413, "payload_too_large"),
        case("one byte over the limit, streamed without Content-Length", {
            Call::post(path("hk_small")).header("content-type", "text/plain").body(streamed(SMALL_LIMIT + 1))
        }, 413, "payload_too_large"),
        case("one byte over the limit, with a Content-Length that understates it", {
            Call::post(path("hk_small")).header("content-type", "text/plain").header("content-length", "10").body(vec![b'a'; SMALL_LIMIT + 1])
        }, 413, "payload_too_large"),
        case("a body that breaks off mid-stream", {
            let parts: [Result<Vec<u8>, std::io::Error>; 2] = [Ok(b"part of it".to_vec()), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"))];
            Call::post(path("hk_open")).header("content-type", "text/plain").body(Body::from_stream(futures::stream::iter(parts)))
        }, 400, "invalid_body"),
        case("Content-Length over the limit, nothing sent yet", {
            Call::post(path("hk_small")).header("content-length", "99999999999")
        }, 413, "payload_too_large"),
        case("one byte over the default 256 KiB", {
            Call::post(path("hk_open")).header("content-type", "text/plain").body(vec![b'a'; DEFAULT_MAX_BODY_BYTES + 1])
        }, 413, "payload_too_large"),
        // --- variables --------------------------------------------------------
        case("variables as an object", variables("{}"), 400, "invalid_variables").saying("must be an array"),
        case("variables as a string", variables("\"amount=12\""), 400, "invalid_variables"),
        case("variables as null", variables("null"), 400, "invalid_variables"),
        case("variables as a number", variables("12"), 400, "invalid_variables"),
        case("variables entry a string", variables(r#"["{amount}"]"#), 400, "invalid_variables").saying("variables[0]"),
        case("variables entry an array", variables(r#"[["Amount", "{amount}", "12"]]"#), 400, "invalid_variables").saying("variables[0]"),
        case("variables entry null", variables("[null]"), 400, "invalid_variables").saying("variables[0]"),
        case("variables entry without name", variables(r#"[{"variable": "{amount}", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0] has no `name`"),
        case("variables entry without variable", variables(r#"[{"name": "Amount", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0] has no `variable`"),
        case("variables entry without value", variables(r#"[{"name": "Amount", "variable": "{amount}"}]"#), 400, "invalid_variables").saying("variables[0] has no `value`"),
        case("variables name a number", variables(r#"[{"name": 1, "variable": "{amount}", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0].name"),
        case("variables variable a number", variables(r#"[{"name": "A", "variable": 12, "value": "12"}]"#), 400, "invalid_variables").saying("variables[0].variable"),
        case("variables variable without braces", variables(r#"[{"name": "A", "variable": "amount", "value": "12"}]"#), 400, "invalid_variables").saying("variables[0].variable"),
        case("variables variable with one brace", variables(r#"[{"name": "A", "variable": "{amount", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable empty braces", variables(r#"[{"name": "A", "variable": "{}", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable with a space", variables(r#"[{"name": "A", "variable": "{my amount}", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable double braces", variables(r#"[{"name": "A", "variable": "{{amount}}", "value": "12"}]"#), 400, "invalid_variables"),
        case("variables variable of 65 characters", variables(&format!(r#"[{{"name": "A", "variable": "{{{}}}", "value": "12"}}]"#, "a".repeat(65))), 400, "invalid_variables"),
        case("variables value an object", variables(r#"[{"name": "A", "variable": "{a}", "value": {"x": 1}}]"#), 400, "invalid_variables").saying("variables[0].value"),
        case("variables value an array", variables(r#"[{"name": "A", "variable": "{a}", "value": [1]}]"#), 400, "invalid_variables").saying("variables[0].value"),
        case("variables value null", variables(r#"[{"name": "A", "variable": "{a}", "value": null}]"#), 400, "invalid_variables").saying("variables[0].value"),
        case("second variables entry bad", variables(r#"[{"name": "A", "variable": "{a}", "value": "1"}, {"name": "B", "variable": "{b}"}]"#), 400, "invalid_variables").saying("variables[1] has no `value`"),
        // --- huge headers and queries ---------------------------------------
        case("one header larger than the queue carries", Call::post(path("hk_open")).json("{}").header("x-padding", &huge), 413, "payload_too_large"),
        case("1200 headers of 1 KB", many_headers, 413, "payload_too_large"),
        // --- CORS -----------------------------------------------------------
        case("origin not allowed", Call::post(path("hk_cors")).json("{}").header("origin", "https://evil.example.net"), 403, "forbidden"),
        case("origin allowed only as a prefix", Call::post(path("hk_cors")).json("{}").header("origin", "https://app.example.com.evil.net"), 403, "forbidden"),
        case("origin allowed but over http", Call::post(path("hk_cors")).json("{}").header("origin", "http://app.example.com"), 403, "forbidden"),
        case("the null origin", Call::post(path("hk_cors")).json("{}").header("origin", "null"), 403, "forbidden"),
        case("any origin on a hook that allows none", Call::post(path("hk_open")).json("{}").header("origin", "https://app.example.com"), 403, "forbidden"),
        case("preflight from an origin not allowed", Call::new(Method::OPTIONS, path("hk_cors")).header("origin", "https://evil.example.net").header("access-control-request-method", "POST"), 403, "forbidden"),
        case("preflight on a hook that allows no origin", Call::new(Method::OPTIONS, path("hk_open")).header("origin", "https://app.example.com"), 403, "forbidden"),
        // --- allowed_ips ----------------------------------------------------
        case("address outside allowed_ips", Call::post(path("hk_ips")).json("{}").ip(Some("198.51.100.1")), 403, "forbidden"),
        case("IPv6 address outside allowed_ips", Call::post(path("hk_ips")).json("{}").ip(Some("2001:db9::1")), 403, "forbidden"),
        case("no known address at all", Call::post(path("hk_ips")).json("{}").ip(None), 403, "forbidden"),
        case("an allowed address claimed in X-Forwarded-For", Call::post(path("hk_ips")).json("{}").ip(Some("198.51.100.1")).header("x-forwarded-for", "203.0.113.5"), 403, "forbidden"),
        case("an allowed address claimed in X-Real-IP", Call::post(path("hk_ips")).json("{}").ip(Some("198.51.100.1")).header("x-real-ip", "203.0.113.5"), 403, "forbidden"),
        // --- rate limit (the window's one call was spent before) -------------
        case("over the rate limit", Call::post(path("hk_rated")).json("{}"), 429, "rate_limited")
            .with_header("retry-after", "2"),
    ]
}

#[tokio::test]
async fn every_bad_call_gets_its_status_and_code_and_nothing_is_queued() {
    let t = Ingress::start().await;
    // Spend the rate-limited hook's one call of this window.
    let spent = t
        .send(Call::post(path("hk_rated")).json("{}").build())
        .await;
    assert_eq!(spent.status, 202, "{}", spent.body);
    assert_eq!(t.drain().await.len(), 1);

    let cases = bad_calls(&t);
    let size = cases.len();
    let mut failures = Vec::new();
    for c in cases {
        // An answer to HEAD has no body to carry the error.
        let bodyless = c.call.method == Method::HEAD;
        let answer = t.send(c.call.build()).await;
        let mut wrong = Vec::new();
        if answer.status != c.status {
            wrong.push(format!("status {} (want {})", answer.status, c.status));
        }
        if !bodyless && answer.body["error"]["code"] != c.code {
            wrong.push(format!(
                "code {} (want {})",
                answer.body["error"]["code"], c.code
            ));
        }
        let message = answer.body["error"]["message"].as_str().unwrap_or_default();
        if !bodyless && message.is_empty() {
            wrong.push("no error message".into());
        }
        if let Some(words) = c.message {
            if !message.contains(words) || (c.opening && !message.starts_with(words)) {
                wrong.push(format!("message {message:?} lacks {words:?}"));
            }
        }
        if let Some((name, value)) = c.header {
            if answer.header(name) != Some(value) {
                wrong.push(format!(
                    "{name}: {:?} (want {value:?})",
                    answer.header(name)
                ));
            }
        }
        let queued = t.drain().await;
        if !queued.is_empty() {
            wrong.push(format!("{} envelope(s) were queued", queued.len()));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", c.what, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {size} bad calls were answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(size >= 100, "the matrix has {size} cases");
}

// ------------------------------------------------------------ good calls

/// One call that is right in every way, and what its envelope must carry.
struct Good {
    what: &'static str,
    call: Call,
    hook: &'static str,
    check: fn(&hooklane_domain::envelope::HookCall),
}

fn good_calls(t: &Ingress) -> Vec<Good> {
    let now = t.now;
    let (ctx, sig) = signed_url_parts(
        &URL_KEY,
        "hk_signed",
        json!({"user_id": "42"}),
        Some(now + 60),
    );
    vec![
        Good {
            what: "api key with Bearer",
            call: Call::post(path("hk_apikey"))
                .json(BODY)
                .header("authorization", format!("Bearer {}", t.key)),
            hook: "hk_apikey",
            check: |c| assert!(!c.request.headers.contains_key("authorization")),
        },
        Good {
            what: "api key without Bearer",
            call: Call::post(path("hk_apikey"))
                .json(BODY)
                .header("authorization", &t.key),
            hook: "hk_apikey",
            check: |c| assert_eq!(c.request.payload["order"]["id"], 7),
        },
        Good {
            what: "Botpress-style x-bp-secret",
            call: Call::post(path("hk_botpress"))
                .json(BODY)
                .header("x-bp-secret", BOTPRESS_SECRET),
            hook: "hk_botpress",
            check: |c| {
                assert!(
                    !c.request.headers.contains_key("x-bp-secret"),
                    "the secret reached the actions"
                )
            },
        },
        Good {
            what: "Standard Webhooks",
            call: standard("msg_good", now, BODY, BODY),
            hook: "hk_standard",
            check: |c| assert!(!c.request.headers.contains_key("webhook-signature")),
        },
        Good {
            what: "Standard Webhooks under Svix's header names",
            call: svix("msg_svix", now, BODY),
            hook: "hk_standard",
            check: |c| {
                assert!(!c.request.headers.contains_key("svix-signature"));
                assert_eq!(c.request.headers["svix-id"], "msg_svix");
            },
        },
        Good {
            what: "Standard Webhooks, 300 s old",
            call: standard("msg_older", now - 300, BODY, BODY),
            hook: "hk_standard",
            check: |_| {},
        },
        Good {
            what: "GitHub",
            call: github(GITHUB_SECRET, BODY, BODY),
            hook: "hk_github",
            check: |c| {
                assert_eq!(c.request.headers["x-github-event"], "push");
                assert!(!c.request.headers.contains_key("x-hub-signature-256"));
            },
        },
        Good {
            what: "Stripe",
            call: stripe(stripe_header(STRIPE_SECRET, now, BODY), BODY),
            hook: "hk_stripe",
            check: |c| assert!(!c.request.headers.contains_key("stripe-signature")),
        },
        Good {
            what: "Slack slash command (a form)",
            call: slack(
                Some(now),
                Some(slack_signature(SLACK_SECRET, now, SLACK_BODY)),
                SLACK_BODY,
            ),
            hook: "hk_slack",
            check: |c| assert_eq!(c.request.payload["command"], "/weather"),
        },
        Good {
            what: "Shopify",
            call: shopify(shopify_signature(SHOPIFY_SECRET, BODY), BODY),
            hook: "hk_shopify",
            check: |_| {},
        },
        Good {
            what: "generic SHA-512 base64 with a prefix",
            call: generic(generic_signature(BODY), BODY),
            hook: "hk_generic",
            check: |c| assert!(!c.request.headers.contains_key("x-signature")),
        },
        Good {
            what: "signed URL",
            call: signed("hk_signed", &ctx, &sig),
            hook: "hk_signed",
            check: |c| {
                assert_eq!(c.request.context, Some(json!({"user_id": "42"})));
                assert_eq!(
                    Value::Object(c.request.query.clone()),
                    json!({"ref": "mail"})
                );
                assert_eq!(c.request.method, "GET");
            },
        },
        Good {
            what: "exactly at the body limit",
            call: Call::post(path("hk_small"))
                .header("content-type", "text/plain")
                .header("content-length", SMALL_LIMIT.to_string())
                .body(vec![b'a'; SMALL_LIMIT]),
            hook: "hk_small",
            check: |c| assert_eq!(c.request.payload.as_str().map(str::len), Some(SMALL_LIMIT)),
        },
        Good {
            what: "JSON nested 100 deep (its envelope still decodes)",
            call: Call::post(path("hk_open")).json(nested(100)),
            hook: "hk_open",
            check: |_| {},
        },
        Good {
            what: "allowed origin",
            call: Call::post(path("hk_cors"))
                .json("{}")
                .header("origin", "https://app.example.com"),
            hook: "hk_cors",
            check: |_| {},
        },
        Good {
            what: "address inside allowed_ips",
            call: Call::post(path("hk_ips"))
                .json("{}")
                .ip(Some("203.0.113.77")),
            hook: "hk_ips",
            check: |c| assert_eq!(c.request.ip.as_deref(), Some("203.0.113.77")),
        },
        Good {
            what: "IPv4-mapped IPv6 address inside allowed_ips",
            call: Call::post(path("hk_ips"))
                .json("{}")
                .ip(Some("::ffff:203.0.113.9")),
            hook: "hk_ips",
            check: |_| {},
        },
        Good {
            what: "IPv6 address inside allowed_ips",
            call: Call::post(path("hk_ips"))
                .json("{}")
                .ip(Some("2001:db8::1")),
            hook: "hk_ips",
            check: |_| {},
        },
    ]
}

#[tokio::test]
async fn each_auth_scheme_accepts_a_correct_call_and_queues_exactly_one_envelope() {
    let t = Ingress::start().await;
    for g in good_calls(&t) {
        let answer = t.send(g.call.build()).await;
        assert_eq!(answer.status, 202, "{}: {}", g.what, answer.body);
        let id = answer.body["id"].as_str().unwrap_or_default().to_owned();
        assert!(id.starts_with("evt_"), "{}: {}", g.what, answer.body);
        let queued = t.drain().await;
        assert_eq!(queued.len(), 1, "{}", g.what);
        let Job::HookCall(call) = &queued[0].job else {
            panic!("{}: not a hook call", g.what)
        };
        assert_eq!(call.call_id.as_str(), id, "{}", g.what);
        assert_eq!(call.hook_id.as_str(), g.hook, "{}", g.what);
        (g.check)(call);
    }
}
