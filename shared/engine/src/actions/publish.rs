//! `publish`: a bot event from a hook, queued for fan-out to the bot's
//! endpoints.

use std::time::Duration;

use hooklane_domain::envelope::{json_depth, Publish, MAX_JSON_DEPTH, MAX_PUBLISH_DEPTH};
use hooklane_domain::{Envelope, EventType, Job, MessageId};
use hooklane_runtime::Services;
use hooklane_store::QueueError;
use serde_json::{json, Value};

use super::state::{ActionError, ActionResultOf, RunState};

/// `publish`: queues the rendered event (its name checked) with the
/// rendered data, one publish depth deeper; past [`MAX_PUBLISH_DEPTH`] it
/// is not published (loop protection). Data nesting deeper than
/// [`MAX_JSON_DEPTH`], or an event too large for the queue, is a permanent
/// failure: it could never be fanned out, so it is not queued. Another
/// queue error is transient.
pub(super) async fn run(
    svc: &Services,
    state: &mut RunState,
    event: &str,
    data: &Value,
) -> ActionResultOf {
    let rendered = state.text(event);
    let Ok(event) = EventType::parse(&rendered) else {
        return Err(ActionError::permanent(format!(
            "`{rendered}` is not a valid event name"
        )));
    };
    if state.depth >= MAX_PUBLISH_DEPTH {
        return Err(ActionError::permanent(format!(
            "not published: {MAX_PUBLISH_DEPTH} publishes already led here (loop protection)"
        )));
    }
    let data = state.json(data);
    let depth = json_depth(&data);
    if depth > MAX_JSON_DEPTH {
        return Err(ActionError::permanent(format!(
            "not published: the data nests {depth} levels deep; a published event holds at most {MAX_JSON_DEPTH}"
        )));
    }
    let message_id = MessageId::generate();
    let job = Job::Publish(Publish {
        message_id: message_id.clone(),
        bot_id: state.bot_id.clone(),
        event: event.clone(),
        data,
        timestamp: svc.now(),
        depth: state.depth + 1,
        only_endpoint: None,
    });
    svc.enqueue(Envelope::now(job), Duration::ZERO)
        .await
        .map_err(|e| match e {
            QueueError::TooLarge { .. } => {
                ActionError::permanent(format!("not published: the event is too large: {e}"))
            }
            e => ActionError {
                reason: format!("the event could not be queued: {e}"),
                detail: Value::Null,
                transient: true,
                deferred: None,
            },
        })?;
    Ok(json!({ "event": event, "message_id": message_id }))
}
