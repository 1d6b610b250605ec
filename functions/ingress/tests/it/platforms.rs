//! Bot platforms as callers: Twilio's signature over the public URL and the
//! form. Signatures are made here with each platform's documented rules.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use hooklane_domain::Job;
use sha1::Sha1;

use crate::support::*;

/// A Twilio SMS webhook's form, as Twilio posts it.
const SMS_FORM: &str = "ToCountry=US&SmsSid=SM7c1d2e&Body=Hello+there%21&From=%2B14155550100&To=%2B14155550199&AccountSid=AC0123&NumMedia=0";

/// Twilio's rule: base64 HMAC-SHA1(auth token, url + each form parameter's
/// name and value, sorted by name).
fn twilio_signature(token: &str, url: &str, form: &str) -> String {
    let mut params: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes())
        .into_owned()
        .collect();
    params.sort();
    let mut text = url.to_owned();
    for (k, v) in params {
        text.push_str(&k);
        text.push_str(&v);
    }
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(text.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

fn twilio_call(signed_url: &str, form: &str) -> Call {
    Call::post(format!("{}?src=sms", path("hk_twilio")))
        .header("host", "hooks.example.com")
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("i-twilio-idempotency-token", "3b4a-sms-1")
        .header(
            "x-twilio-signature",
            twilio_signature(TWILIO_TOKEN, signed_url, SMS_FORM),
        )
        .body(form.to_owned())
}

const PUBLIC_URL: &str = "https://hooks.example.com/hooks/acme-bot/hk_twilio?src=sms";

#[tokio::test]
async fn a_twilio_sms_signed_over_the_public_url_and_form_is_queued_once() {
    let t = Ingress::start().await;
    let answer = t.send(twilio_call(PUBLIC_URL, SMS_FORM).build()).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let queued = t.drain().await;
    assert_eq!(queued.len(), 1);
    let Job::HookCall(call) = &queued[0].job else {
        panic!("not a hook call")
    };
    assert_eq!(call.request.payload["Body"], "Hello there!");
    assert_eq!(call.request.payload["From"], "+14155550100");
    assert_eq!(call.request.query["src"], "sms");
    assert!(!call.request.headers.contains_key("x-twilio-signature"));

    // Twilio retries with the same idempotency token: a duplicate.
    let again = t.send(twilio_call(PUBLIC_URL, SMS_FORM).build()).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.header("x-hooklane-duplicate"), Some("true"));
    assert!(t.drain().await.is_empty());
}

#[tokio::test]
async fn a_twilio_signature_over_another_url_or_form_or_token_is_refused() {
    let t = Ingress::start().await;
    let refused = [
        (
            "signed for http, called through https",
            twilio_call(
                "http://hooks.example.com/hooks/acme-bot/hk_twilio?src=sms",
                SMS_FORM,
            ),
        ),
        (
            "signed without the query",
            twilio_call(
                "https://hooks.example.com/hooks/acme-bot/hk_twilio",
                SMS_FORM,
            ),
        ),
        (
            "a parameter changed on the way",
            twilio_call(PUBLIC_URL, &SMS_FORM.replace("Hello", "Hallo")),
        ),
        (
            "no signature",
            Call::post(format!("{}?src=sms", path("hk_twilio")))
                .header("host", "hooks.example.com")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(SMS_FORM),
        ),
    ];
    for (case, call) in refused {
        let answer = t.send(call.build()).await;
        assert_eq!(answer.status, 401, "{case}: {}", answer.body);
        assert_eq!(answer.body["error"]["code"], "unauthorized", "{case}");
    }
    let other_token = Call::post(format!("{}?src=sms", path("hk_twilio")))
        .header("host", "hooks.example.com")
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-twilio-signature",
            twilio_signature("another-token", PUBLIC_URL, SMS_FORM),
        )
        .body(SMS_FORM);
    assert_eq!(t.send(other_token.build()).await.status, 401);
    assert!(t.drain().await.is_empty());
}
