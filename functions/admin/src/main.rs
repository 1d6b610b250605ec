//! The admin Lambda: the management API behind API Gateway (IAM auth).

use std::sync::Arc;

use hooklane_admin::{router, AdminAuth, AdminState};
use hooklane_domain::config::{env_opt, AwsResources, Settings};
use hooklane_engine::Services;
use hooklane_store::dynamodb::DynamoStore;
use hooklane_store::sqs::SqsQueue;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    hooklane_domain::telemetry::init(true);
    let settings = Settings::from_env(false)?;
    let resources = AwsResources::from_env()?;
    let aws = hooklane_store::aws_config().await;
    let store = Arc::new(DynamoStore::new(&aws, resources.table));
    let queue = Arc::new(SqsQueue::new(&aws, resources.queue_url));
    let svc = Services::new(store, queue, settings)?;
    let state = AdminState {
        svc,
        auth: AdminAuth::Gateway,
        public_url: env_opt("HOOKLANE_PUBLIC_URL"),
    };
    hooklane_web::lambda::run(router(state)).await
}
