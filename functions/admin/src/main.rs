//! The admin Lambda: the management API behind API Gateway (IAM auth).

use hooklane_admin::{router, AdminAuth, AdminState, PortalKey};
use hooklane_runtime::config::env_opt;
use hooklane_runtime::Services;

#[global_allocator]
static ALLOC: hooklane_runtime::Allocator = hooklane_runtime::ALLOCATOR;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hooklane_runtime::telemetry::init(true);
    let state = AdminState {
        svc: Services::from_aws_env().await?,
        auth: AdminAuth::Gateway,
        public_url: env_opt("HOOKLANE_PUBLIC_URL"),
        portal: PortalKey::stored(),
    };
    hooklane_web::lambda::run(router(state)).await
}
