//! The store's integration tests, one binary: every adapter against the
//! conformance suite, plus what is particular to each adapter.
//! `sqlite` runs on a temporary file; `aws` needs a moto server (see its
//! module docs).

mod aws;
mod sqlite;
