//! What the functions share: the store, the queue, the cached lookups,
//! the outbound client, the installation settings and the clock.

use std::sync::Arc;
use std::time::Duration;

use hooklane_domain::{Clock, Envelope, SystemClock};
use hooklane_store::{Queue, QueueError, Store};

use crate::cache::{Invalidating, Lookups};
use crate::config::{AwsResources, Settings};
use crate::outbound::Outbound;

/// The services of one process, cheap to clone (every field is shared).
#[derive(Clone)]
pub struct Services {
    /// Bots, hooks, endpoints, variables and the logs. A write of a hook
    /// or an endpoint (or a bot's deletion) through it drops what
    /// `lookups` cached of it.
    pub store: Arc<dyn Store>,
    /// Hooks and endpoints the dispatcher reads, kept
    /// [`CACHE_TTL`](crate::cache::CACHE_TTL) (see [`crate::cache`]).
    pub lookups: Lookups,
    /// The queue between the ingress and the dispatcher.
    pub queue: Arc<dyn Queue>,
    /// The client every outbound call goes through.
    pub outbound: Outbound,
    /// The installation's settings.
    pub settings: Settings,
    /// The time source (a [`ManualClock`](hooklane_domain::ManualClock) in tests).
    pub clock: Arc<dyn Clock>,
}

impl Services {
    /// The services over `store` and `queue`, with an outbound client built
    /// from `settings` (private targets, timeout), the system clock and
    /// empty lookups, which writes through `store` keep current.
    ///
    /// # Errors
    /// When the outbound client's TLS backend cannot be set up.
    pub fn new(
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        settings: Settings,
    ) -> anyhow::Result<Self> {
        let outbound = Outbound::new(settings.allow_private_targets, settings.outbound_timeout)?;
        let lookups = Lookups::default();
        Ok(Self {
            store: Arc::new(Invalidating::new(store, lookups.clone())),
            lookups,
            queue,
            outbound,
            settings,
            clock: Arc::new(SystemClock),
        })
    }

    /// The services of a Lambda function: settings from the environment
    /// (private targets refused unless `HOOKLANE_ALLOW_PRIVATE_TARGETS`),
    /// the stack's table and queue (`HOOKLANE_TABLE`, `HOOKLANE_QUEUE_URL`),
    /// the AWS SDK configured once from the standard environment.
    ///
    /// # Errors
    /// A [`ConfigError`](crate::config::ConfigError) naming a missing or bad
    /// variable, or the outbound client's set-up error.
    pub async fn from_aws_env() -> anyhow::Result<Self> {
        let settings = Settings::from_env(false)?;
        let resources = AwsResources::from_env()?;
        let aws = hooklane_store::aws_config().await?;
        let store = Arc::new(hooklane_store::dynamodb::DynamoStore::new(
            &aws,
            resources.table,
        ));
        let queue = Arc::new(hooklane_store::sqs::SqsQueue::new(
            &aws,
            resources.queue_url,
        ));
        Self::new(store, queue, settings)
    }

    /// The same services reading the time from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The current time, from the clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// Queues an envelope to run after `delay`. Delays past the queue's cap
    /// are carried in the envelope (`not_before`) and the dispatcher sends
    /// the envelope back until that time has come.
    ///
    /// # Errors
    /// The queue's [`QueueError`] when the message could not be sent.
    pub async fn enqueue(&self, mut envelope: Envelope, delay: Duration) -> Result<(), QueueError> {
        let cap = self.queue.max_delay();
        if delay > cap {
            let not_before =
                self.now() + time::Duration::try_from(delay).unwrap_or(time::Duration::MAX);
            envelope.not_before = Some(not_before);
        }
        self.queue.send(&envelope.to_json(), delay.min(cap)).await
    }
}
