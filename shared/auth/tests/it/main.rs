//! The auth crate's integration tests, one binary: `properties` (every
//! signature scheme and signed URLs under arbitrary input: no panic, and
//! what is signed verifies).

mod properties;
