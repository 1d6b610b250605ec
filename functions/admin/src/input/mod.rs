//! Parsing and checking what the admin API is sent: bots, hooks and
//! endpoints. Every refusal is a 400 whose message names the field at
//! fault by its path in the body, such as `auth.secret`, `allowed_ips[2]`
//! or, for actions, the index path `actions[1].then[0].url`.
//!
//! - `fields`: the checks every body shares (types, names, lists,
//!   unknown and read-only fields, PATCH merges);
//! - `bot`, `signed_url`, `portal`: the small bodies of those routes;
//! - `hook`, `hook_auth`, `actions`, `action_url`: a hook, its auth, its
//!   actions and their target URLs; `fits`: chat texts whose literal part
//!   is already over the platform's limit; `markup`: Telegram texts whose
//!   own markup Telegram cannot parse;
//! - `endpoint`: an endpoint and its rotation and recovery bodies;
//! - `credentials`: credentials masked in what is read back, and the
//!   keep-rule of a PATCH that sends them back masked (only while their
//!   target keeps its host).

mod action_url;
mod actions;
mod bot;
mod credentials;
mod endpoint;
mod fields;
mod fits;
mod hook;
mod hook_auth;
mod markup;
mod portal;
mod signed_url;

pub use actions::{MAX_ACTIONS, MAX_ACTIONS_TOTAL, MAX_NESTING};
pub use bot::check_bot;
pub use credentials::{
    keep_masked_actions, keep_masked_endpoint, mask_actions, mask_endpoint_url, mask_headers,
};
pub use endpoint::{
    check_endpoint, check_recover_request, check_rotate_request, check_secret, endpoint_input,
    CheckedEndpoint, MAX_ATTEMPTS, MAX_DELAY_SECONDS, MAX_GRACE_SECONDS, MAX_SCHEDULE,
};
pub use fields::{merge, MAX_LIST_ENTRIES, MAX_NAME_CHARS};
pub use hook::{
    check_hook, hook_input, CheckedHook, MAX_BODY_LIMIT, MAX_HOOK_BYTES, MAX_RATE_PER_SECOND,
};
pub use portal::{check_portal_request, DEFAULT_PORTAL_SECONDS, MAX_PORTAL_SECONDS};
pub use signed_url::{check_signed_url_request, MAX_CONTEXT_BYTES, MAX_URL_LIFETIME_SECONDS};
