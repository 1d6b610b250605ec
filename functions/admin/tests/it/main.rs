//! The admin function's integration tests, in one binary: the API over its
//! real router (`api`), the OpenAPI document against the routers
//! (`openapi`), stored variables (`variables`), portal links and the
//! console's files (`portal`), and the app and request helpers they share
//! (`common`).

mod api;
mod catalog;
mod common;
mod credentials;
mod methods;
mod openapi;
mod platforms;
mod portal;
mod variables;
