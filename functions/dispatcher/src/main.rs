//! The dispatcher Lambda: an SQS event source with ReportBatchItemFailures.

use aws_lambda_events::event::sqs::SqsEvent;
use hooklane_runtime::Services;
use lambda_runtime::{service_fn, LambdaEvent};

#[global_allocator]
static ALLOC: hooklane_runtime::Allocator = hooklane_runtime::ALLOCATOR;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    hooklane_runtime::telemetry::init(true);
    let svc = Services::from_aws_env().await?;
    let svc = &svc;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(hooklane_dispatcher::handle_batch(svc, event.payload).await)
    }))
    .await
}
