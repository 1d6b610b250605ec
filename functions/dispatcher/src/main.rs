//! The dispatcher Lambda: an SQS event source with ReportBatchItemFailures.

use hooklane_domain::config::{AwsResources, Settings};
use hooklane_engine::Services;
use hooklane_store::dynamodb::DynamoStore;
use hooklane_store::sqs::SqsQueue;
use lambda_runtime::{service_fn, LambdaEvent};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooklane_domain::telemetry::init(true);
    let settings = Settings::from_env(false)?;
    let resources = AwsResources::from_env()?;
    let aws = hooklane_store::aws_config().await;
    let store = Arc::new(DynamoStore::new(&aws, resources.table));
    let queue = Arc::new(SqsQueue::new(&aws, resources.queue_url));
    let svc = Services::new(store, queue, settings)?;
    let svc = &svc;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| async move {
            Ok::<_, lambda_runtime::Error>(
                hooklane_dispatcher::handle_batch(svc, event.payload).await,
            )
        },
    ))
    .await
}
