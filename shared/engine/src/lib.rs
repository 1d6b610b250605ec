//! Hooklane's engine: the action runner (`actions`), what a delivery
//! carries and how it is signed and retried (`payload`, `signing`,
//! `retry`), the chat platforms' limits (`platforms`), outbound rates
//! (`throttle`), and the masking of tokens in URLs (`mask`).

pub mod actions;
pub mod mask;
pub mod payload;
pub mod platforms;
pub mod retry;
pub mod signing;
pub mod throttle;
