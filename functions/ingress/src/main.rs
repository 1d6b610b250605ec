//! The ingress Lambda: the hook and publish routes behind API Gateway.

use std::sync::Arc;

use hooklane_domain::config::{AwsResources, Settings};
use hooklane_engine::Services;
use hooklane_ingress::{router, IngressState};
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
    hooklane_web::lambda::run(router(IngressState::new(svc))).await
}
