//! The template crate's integration tests, one binary: `render` checks
//! placeholders, JSON rendering and string rendering against a fixed context;
//! `properties` renders arbitrary templates and contexts (proptest).

mod properties;
mod render;
