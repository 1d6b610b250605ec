//! Each target host's share of the outbound calls, so that one slow or
//! dead host cannot hold back the calls to every other one:
//!
//! - **A share of the calls in flight.** At most [`HOST_IN_FLIGHT`] calls
//!   to one host (its name and port) wait for an answer at once in a
//!   process. A call over that share waits for a slot at most
//!   [`BUSY_PATIENCE`], and only while the host keeps finishing calls;
//!   then it is not sent ([`Refusal::Busy`]): the
//!   caller puts its work back in the queue for a while instead of holding
//!   a worker while it waits: as long as the host has gone without
//!   finishing a call (a slot is unlikely to free sooner), at least
//!   [`BUSY_DELAY`], at most [`BUSY_MAX_DELAY`].
//! - **A circuit breaker.** A host that let [`BREAKER_TIMEOUTS`] calls in
//!   a row time out is paused for [`BREAKER_PAUSE`]: calls to it fail at
//!   once, unsent ([`Refusal::Paused`]), and are retried on their usual
//!   schedule. After the pause one call goes through as a probe (the
//!   others still fail at once); an answer of any status closes the
//!   breaker, another timeout pauses the host again.
//!
//! Only timeouts count towards the breaker: a refused connection or an
//! error answer comes back at once and holds nothing up. The state is the
//! process's own (each Lambda instance, each `hooklane dev`), kept in
//! memory: a restart starts every host afresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The most calls to one host (name and port) waiting for an answer at
/// once in one process: half of the embedded poller's 128 jobs in flight,
/// so a hung host leaves the other half to everyone else.
pub const HOST_IN_FLIGHT: usize = 64;

/// How many calls to one host in a row must time out to pause it.
pub const BREAKER_TIMEOUTS: u32 = 5;

/// How long a host whose calls timed out is paused before a probe call.
pub const BREAKER_PAUSE: Duration = Duration::from_secs(30);

/// How long a call over its host's share waits for a slot before it is
/// refused, when the host finished a call within that time (a host that
/// keeps answering frees slots all the time; a hung one does not, and its
/// calls are refused at once).
pub const BUSY_PATIENCE: Duration = Duration::from_millis(250);

/// The least time work refused for [`Refusal::Busy`] waits in the queue
/// before it is tried again.
pub const BUSY_DELAY: Duration = Duration::from_secs(1);

/// The most time work refused for [`Refusal::Busy`] waits in the queue.
pub const BUSY_MAX_DELAY: Duration = Duration::from_secs(60);

/// How many hosts are remembered before idle ones (nothing in flight, not
/// paused) are forgotten.
const REMEMBERED_HOSTS: usize = 1024;

/// Why a call was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The host already has [`HOST_IN_FLIGHT`] calls waiting for answers.
    #[error("not sent: {HOST_IN_FLIGHT} calls to {host} are already waiting for an answer")]
    Busy {
        /// The host, `name:port`.
        host: String,
        /// How long the host has gone without finishing a call (none of
        /// its slots freed): how long the work is best put back for,
        /// within [`BUSY_DELAY`] and [`BUSY_MAX_DELAY`].
        wait: Duration,
    },
    /// The host's circuit breaker is open.
    #[error("not sent: {BREAKER_TIMEOUTS} calls in a row to {host} timed out; calls to it are paused {}", pause_left(*.remaining))]
    Paused {
        /// The host, `name:port`.
        host: String,
        /// How much longer the pause lasts; `None` once it is over and a
        /// probe call is in flight.
        remaining: Option<Duration>,
    },
}

/// The end of [`Refusal::Paused`]'s text.
fn pause_left(remaining: Option<Duration>) -> String {
    match remaining {
        Some(left) => format!("for another {} s", left.as_secs().max(1)),
        None => "until a probe call to it, in flight now, is answered".to_owned(),
    }
}

/// One host's breaker.
#[derive(Debug, Default)]
struct Breaker {
    /// Calls in a row that timed out.
    timeouts: u32,
    /// Paused until then (when `timeouts` reached [`BREAKER_TIMEOUTS`]).
    paused_until: Option<Instant>,
    /// A probe call is in flight after a pause.
    probing: bool,
    /// When a call last finished, or the host last started from nothing
    /// in flight.
    progress: Option<Instant>,
}

struct Host {
    slots: Arc<Semaphore>,
    breaker: Mutex<Breaker>,
}

/// The per-host state of one process's outbound client.
#[derive(Clone, Default)]
pub(super) struct Hosts {
    hosts: Arc<Mutex<HashMap<String, Arc<Host>>>>,
}

/// A call let through: holds its host's slot until dropped; tell it how
/// the call ended with [`Pass::answered`] or [`Pass::timed_out`].
pub(super) struct Pass {
    host: Arc<Host>,
    probe: bool,
    _slot: OwnedSemaphorePermit,
}

impl Hosts {
    fn host(&self, key: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = hosts.get(key) {
            return h.clone();
        }
        if hosts.len() >= REMEMBERED_HOSTS {
            hosts.retain(|_, h| Arc::strong_count(h) > 1 || h.is_paused());
        }
        let h = Arc::new(Host {
            slots: Arc::new(Semaphore::new(HOST_IN_FLIGHT)),
            breaker: Mutex::new(Breaker::default()),
        });
        hosts.insert(key.to_owned(), h.clone());
        h
    }

    /// Lets a call to `key` through, or says why not: paused, or over its
    /// share after waiting for a slot: at most `patience` when given, else
    /// at most [`BUSY_PATIENCE`] and only while the host keeps finishing
    /// calls.
    pub(super) async fn admit(
        &self,
        key: &str,
        patience: Option<Duration>,
    ) -> Result<Pass, Refusal> {
        let host = self.host(key);
        let mut probe = host.check(key, Instant::now())?;
        // A host that keeps finishing calls frees a slot soon.
        let patience = patience.unwrap_or(if host.quiet() < BUSY_PATIENCE {
            BUSY_PATIENCE
        } else {
            Duration::ZERO
        });
        let slot = match host.slots.clone().try_acquire_owned() {
            Ok(slot) => Some(slot),
            Err(_) if !patience.is_zero() => {
                let waited = tokio::time::timeout(patience, host.slots.clone().acquire_owned())
                    .await
                    .ok()
                    .and_then(Result::ok);
                // The host may have been paused meanwhile.
                if waited.is_some() && !probe {
                    probe = host.check(key, Instant::now())?;
                }
                waited
            }
            Err(_) => None,
        };
        let Some(slot) = slot else {
            let quiet = host.quiet();
            if probe {
                host.breaker().probing = false;
            }
            return Err(Refusal::Busy {
                host: key.to_owned(),
                wait: quiet.clamp(BUSY_DELAY, BUSY_MAX_DELAY),
            });
        };
        if host.slots.available_permits() + 1 == HOST_IN_FLIGHT {
            host.breaker().progress = Some(Instant::now());
        }
        Ok(Pass {
            host,
            probe,
            _slot: slot,
        })
    }
}

impl Host {
    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long the host has gone without finishing a call (or since it
    /// started from nothing in flight).
    fn quiet(&self) -> Duration {
        self.breaker()
            .progress
            .map_or(Duration::ZERO, |at| at.elapsed())
    }

    fn is_paused(&self) -> bool {
        self.breaker().paused_until.is_some()
    }

    /// `Ok(true)` when the call is the probe after a pause, `Ok(false)` for
    /// a call with the breaker closed, `Err` while paused.
    fn check(&self, key: &str, now: Instant) -> Result<bool, Refusal> {
        let mut b = self.breaker();
        let Some(until) = b.paused_until else {
            return Ok(false);
        };
        if now < until || b.probing {
            return Err(Refusal::Paused {
                host: key.to_owned(),
                remaining: (now < until).then(|| until - now),
            });
        }
        b.probing = true;
        Ok(true)
    }
}

impl Pass {
    /// The host answered (any status): its breaker closes.
    pub(super) fn answered(self) {
        *self.host.breaker() = Breaker {
            progress: Some(Instant::now()),
            ..Breaker::default()
        };
    }

    /// The call (or its answer's body) timed out: one more in a row; at
    /// [`BREAKER_TIMEOUTS`] (or a probe's) the host is paused for
    /// [`BREAKER_PAUSE`].
    pub(super) fn timed_out(self) {
        let mut b = self.host.breaker();
        let now = Instant::now();
        b.progress = Some(now);
        b.timeouts = b.timeouts.saturating_add(1);
        // A call sent before the pause that times out during it does not
        // make the pause longer; a probe's timeout starts a new one.
        if self.probe || (b.paused_until.is_none() && b.timeouts >= BREAKER_TIMEOUTS) {
            b.paused_until = Some(now + BREAKER_PAUSE);
            b.probing = false;
        }
    }

    /// The call failed another way (no connection, a refused name): the
    /// breaker is left as it was, and a probe's turn passes to the next call.
    pub(super) fn failed(self) {
        let mut b = self.host.breaker();
        b.progress = Some(Instant::now());
        if self.probe {
            b.probing = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "hook.example:443";

    async fn admit(hosts: &Hosts) -> Result<Pass, Refusal> {
        hosts.admit(KEY, None).await
    }

    /// A call made while the share is full gets the slot one of `passes`
    /// frees 50 ms later; its pass joins them.
    async fn takes_the_next_free_slot(
        hosts: &Hosts,
        passes: &mut Vec<Pass>,
        patience: Option<Duration>,
    ) {
        let waiting = {
            let hosts = hosts.clone();
            tokio::spawn(async move { hosts.admit(KEY, patience).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        passes.pop().expect("a pass").answered();
        let pass = waiting.await.expect("joined");
        passes.push(pass.expect("the slot freed meanwhile"));
    }

    #[tokio::test]
    async fn a_host_gets_its_share_and_no_more() {
        let hosts = Hosts::default();
        let mut passes = Vec::new();
        for _ in 0..HOST_IN_FLIGHT {
            passes.push(admit(&hosts).await.expect("within the share"));
        }
        // Over it: refused after the patience, to be put back for at
        // least the least wait.
        let started = Instant::now();
        assert_eq!(
            admit(&hosts).await.err(),
            Some(Refusal::Busy {
                host: KEY.into(),
                wait: BUSY_DELAY
            })
        );
        assert!(started.elapsed() >= BUSY_PATIENCE);
        // Another host is not held back.
        assert!(hosts.admit("other.example:443", None).await.is_ok());
        // While the host keeps finishing calls, a call over its share gets
        // the slot one frees within the patience.
        passes.pop().expect("a pass").answered();
        passes.push(admit(&hosts).await.expect("the freed slot"));
        takes_the_next_free_slot(&hosts, &mut passes, None).await;
        // A host that has finished nothing for longer is refused at once,
        // to be put back for as long as it has been quiet (at least 1 s).
        tokio::time::sleep(BUSY_PATIENCE + Duration::from_millis(50)).await;
        let started = Instant::now();
        let refused = admit(&hosts).await.err();
        assert!(started.elapsed() < BUSY_PATIENCE, "{:?}", started.elapsed());
        assert!(
            matches!(refused, Some(Refusal::Busy { wait, .. }) if wait == BUSY_DELAY),
            "{refused:?}"
        );
        // A call that may wait as long as it takes gets the next free slot,
        // quiet host or not.
        takes_the_next_free_slot(&hosts, &mut passes, Some(Duration::from_secs(5))).await;
    }

    #[tokio::test]
    async fn timeouts_in_a_row_pause_the_host_and_an_answer_resets_the_count() {
        let hosts = Hosts::default();
        for _ in 0..BREAKER_TIMEOUTS - 1 {
            admit(&hosts).await.expect("closed").timed_out();
        }
        // An answer in between: the count starts over.
        admit(&hosts).await.expect("closed").answered();
        for _ in 0..BREAKER_TIMEOUTS - 1 {
            admit(&hosts).await.expect("closed").timed_out();
        }
        // Other failures neither count nor reset.
        admit(&hosts).await.expect("closed").failed();
        admit(&hosts).await.expect("closed").timed_out();
        let refused = admit(&hosts).await.err().expect("paused");
        let Refusal::Paused {
            remaining: Some(remaining),
            ..
        } = &refused
        else {
            panic!("paused, not {refused:?}");
        };
        assert!(*remaining > BREAKER_PAUSE - Duration::from_secs(5));
        // A call sent before the pause that times out does not lengthen it.
        let until = hosts.host(KEY).breaker().paused_until;
        std::thread::sleep(Duration::from_millis(5));
        let late = Pass {
            host: hosts.host(KEY),
            probe: false,
            _slot: hosts
                .host(KEY)
                .slots
                .clone()
                .try_acquire_owned()
                .expect("a slot"),
        };
        late.timed_out();
        assert_eq!(hosts.host(KEY).breaker().paused_until, until);
        assert!(refused
            .to_string()
            .starts_with("not sent: 5 calls in a row to hook.example:443 timed out; calls to it are paused for another"));
    }

    #[test]
    fn after_the_pause_one_probe_goes_and_its_outcome_decides() {
        let host = Host {
            slots: Arc::new(Semaphore::new(HOST_IN_FLIGHT)),
            breaker: Mutex::new(Breaker {
                timeouts: BREAKER_TIMEOUTS,
                paused_until: Some(Instant::now()),
                probing: false,
                progress: None,
            }),
        };
        let later = Instant::now() + Duration::from_millis(1);
        assert_eq!(host.check(KEY, later), Ok(true), "the probe");
        let second = host.check(KEY, later).expect_err("one probe at a time");
        assert_eq!(
            second.to_string(),
            "not sent: 5 calls in a row to hook.example:443 timed out; calls to it are paused until a probe call to it, in flight now, is answered"
        );
        let host = Arc::new(host);
        let probe = |host: &Arc<Host>| Pass {
            host: host.clone(),
            probe: true,
            _slot: host.slots.clone().try_acquire_owned().expect("a slot"),
        };
        // A probe that times out pauses the host again.
        probe(&host).timed_out();
        assert!(host.check(KEY, Instant::now()).is_err());
        // One that is answered closes the breaker.
        host.breaker().paused_until = Some(Instant::now());
        assert_eq!(host.check(KEY, later + Duration::from_millis(1)), Ok(true));
        probe(&host).answered();
        assert_eq!(host.check(KEY, Instant::now()), Ok(false));
        assert!(!host.is_paused());
    }
}
