//! The template context of an inbound call: what `{payload.…}`,
//! `{query.…}`, `{headers.…}`, `{context.…}`, `{request.…}`, `{event.…}`,
//! `{bot.id}`, `{hook.…}`, `{var.…}` and caller variables read.

use hooklane_template::Context;
use serde_json::{json, Map, Value};

use crate::envelope::HookCall;

impl HookCall {
    /// The context the call's templates read: the namespaces `payload`,
    /// `query`, `headers`, `context` (a signed URL's, else `{}`),
    /// `request` (`ip`, `method`), `event` (`id`, `received_at` as RFC
    /// 3339), `bot` (`id`), `hook` (`id`, and `name` when `hook_name` is
    /// given), `var` (only when `stored` is given), and the caller's
    /// variables. The dispatcher knows the hook's name and the bot's stored
    /// variables; a hook's immediate `response` does not read the store and
    /// passes `None` for both.
    pub fn template_context(
        &self,
        hook_name: Option<&str>,
        stored: Option<Map<String, Value>>,
    ) -> Context {
        let req = &self.request;
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
            json!({"id": self.call_id, "received_at": crate::rfc3339(self.received_at)}),
        );
        root.insert("bot".into(), json!({"id": self.bot_id}));
        let mut hook = json!({"id": self.hook_id});
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
}
