//! The template context of an inbound call: what `{payload.…}`,
//! `{query.…}`, `{headers.…}`, `{context.…}`, `{request.…}`, `{event.…}`,
//! `{bot.id}`, `{hook.…}`, `{var.…}` and caller variables read.

use hooklane_domain::envelope::HookCall;
use hooklane_template::Context;
use serde_json::{json, Map, Value};

/// The context of `call`; `hook_name` and the bot's stored variables
/// (`var`) are added when known (the dispatcher knows them, a hook's
/// immediate `response` does not read the store).
pub fn for_call(
    call: &HookCall,
    hook_name: Option<&str>,
    stored: Option<Map<String, Value>>,
) -> Context {
    let req = &call.request;
    let mut root = Map::new();
    root.insert("payload".into(), req.payload.clone());
    root.insert("query".into(), Value::Object(req.query.clone()));
    root.insert("headers".into(), Value::Object(req.headers.clone()));
    root.insert(
        "context".into(),
        req.context.clone().unwrap_or(Value::Object(Map::new())),
    );
    root.insert(
        "request".into(),
        json!({"ip": req.ip, "method": req.method}),
    );
    root.insert(
        "event".into(),
        json!({"id": call.event_id, "received_at": hooklane_domain::rfc3339(call.received_at)}),
    );
    root.insert("bot".into(), json!({"id": call.bot_id}));
    let mut hook = json!({"id": call.hook_id});
    if let Some(name) = hook_name {
        hook["name"] = Value::String(name.to_owned());
    }
    root.insert("hook".into(), hook);
    if let Some(vars) = stored {
        root.insert("var".into(), Value::Object(vars));
    }
    Context {
        variables: req.variables.clone(),
        root,
    }
}
