//! The admin function's integration tests, in one binary: the API over its
//! real router (`api`), the OpenAPI document against the routers
//! (`openapi`), stored variables (`variables`), portal links and the
//! console's files (`portal`), chat texts and mentions checked at save
//! (`platform_limits`), and the app and request helpers they share
//! (`common`).

mod api;
mod catalog;
mod common;
mod credentials;
mod methods;
mod openapi;
mod platform_limits;
mod platforms;
mod portal;
mod variables;
