//! The ingress Lambda: the hook and publish routes behind API Gateway.

use hooklane_ingress::{router, IngressState};
use hooklane_runtime::Services;

#[global_allocator]
static ALLOC: hooklane_runtime::Allocator = hooklane_runtime::ALLOCATOR;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hooklane_runtime::telemetry::init(true);
    let svc = Services::from_aws_env().await?;
    hooklane_web::lambda::run(router(IngressState::new(svc))).await
}
