//! The admin function's integration tests, in one binary: the API over its
//! real router (`api`), the OpenAPI document against the routers
//! (`openapi`), stored variables (`variables`), and the app and request
//! helpers they share (`common`).

mod api;
mod common;
mod credentials;
mod methods;
mod openapi;
mod variables;
