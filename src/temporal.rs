//! The connection to Temporal: a client that (re)connects in the background, a readiness probe,
//! and the worker loop that keeps polling through outages.

use std::sync::Arc;
use std::time::Duration;

use crate::shutdown::CancelToken;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
use temporalio_sdk::runtime::PollerBehavior;
use temporalio_sdk::runtime::worker_tuner::{FixedSizeSlotSupplier, TunerHolder};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use tokio::sync::{RwLock, watch};
use tonic::IntoRequest;
use tracing::{info, instrument, warn};

use crate::config::TemporalConfig;

const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Workflows kept in the worker's sticky cache. A cached workflow's next task carries only the
/// new history events; an evicted one is replayed from its (short: a dozen events between
/// reminders) history when its timer fires. The SDK's default of 1,000 costs memory for every
/// event's workflow ever touched since the start; 256 holds what is busy right now (a burst of
/// reminders, the events being edited) at a few MiB (docs/BENCHMARKS.md). The default of
/// `HERALD_WORKER_CACHE`.
pub const WORKFLOW_CACHE: usize = 256;

/// Concurrent polls for workflow tasks (split between the sticky and the shared queue) by
/// default (`HERALD_WORKER_POLLERS`); activity tasks get half as many, at least 2. The SDK's 5 leave one poll on the shared queue, where new workflows and
/// evicted ones arrive: 1,000 reminders in 30 s go mostly through there.
pub const WORKFLOW_POLLERS: usize = 8;
/// Share of the workflow polls on the shared queue.
const NONSTICKY_RATIO: f32 = 0.5;

/// Workflow tasks, activities and local activities (`load_plan`) handled at once.
const WORKFLOW_SLOTS: usize = 100;
const ACTIVITY_SLOTS: usize = 100;
const LOCAL_ACTIVITY_SLOTS: usize = 100;
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// State of the link to Temporal, as the readiness check reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Not tried yet.
    Connecting,
    /// Connected and answering.
    Up,
    /// Not reachable; the reason in words.
    Down(String),
}

/// A Temporal client shared by the web side and the worker; connects lazily and reconnects.
#[derive(Clone)]
pub struct Temporal {
    inner: Arc<Inner>,
}

struct Inner {
    config: TemporalConfig,
    client: RwLock<Option<Client>>,
    state: watch::Sender<LinkState>,
}

impl std::fmt::Debug for Temporal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Temporal").field("address", &self.inner.config.address.as_str()).finish()
    }
}

impl Temporal {
    /// A handle that will connect to `config` (see [`Temporal::keep_connected`]).
    pub fn new(config: TemporalConfig) -> Self {
        let (state, _) = watch::channel(LinkState::Connecting);
        Self { inner: Arc::new(Inner { config, client: RwLock::new(None), state }) }
    }

    /// The settings this handle uses.
    pub fn config(&self) -> &TemporalConfig {
        &self.inner.config
    }

    /// The last known state of the link.
    pub fn state(&self) -> LinkState {
        self.inner.state.borrow().clone()
    }

    /// Waits until the link state satisfies `f` (for tests and the worker).
    pub async fn wait_for(&self, f: impl Fn(&LinkState) -> bool) {
        let mut rx = self.inner.state.subscribe();
        let _ = rx.wait_for(|s| f(s)).await;
    }

    /// The connected client, if any.
    pub async fn client(&self) -> Option<Client> {
        self.inner.client.read().await.clone()
    }

    /// Connects, then probes every few seconds; on failure retries with backoff, forever,
    /// until `stop` trips. Run it in a background task.
    pub async fn keep_connected(self, stop: CancelToken) {
        let mut backoff = Duration::from_millis(250);
        while !stop.is_cancelled() {
            let existing = self.client().await;
            let result = match existing {
                Some(client) => probe(&client, &self.inner.config).await,
                None => match connect(&self.inner.config).await {
                    Ok(client) => {
                        let probed = probe(&client, &self.inner.config).await;
                        if probed.is_ok() {
                            *self.inner.client.write().await = Some(client);
                        }
                        probed
                    }
                    Err(e) => Err(e),
                },
            };
            let wait = match result {
                Ok(()) => {
                    self.set_state(LinkState::Up);
                    backoff = Duration::from_millis(250);
                    Duration::from_secs(5)
                }
                Err(reason) => {
                    self.set_state(LinkState::Down(reason));
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Probes now and updates the state (for the readiness endpoint, which must be current).
    pub async fn check_now(&self) -> LinkState {
        let state = match self.client().await {
            Some(client) => match probe(&client, &self.inner.config).await {
                Ok(()) => LinkState::Up,
                Err(reason) => LinkState::Down(reason),
            },
            None => match self.state() {
                LinkState::Up => LinkState::Connecting,
                other => other,
            },
        };
        self.set_state(state.clone());
        state
    }

    /// Records a new state, logging transitions (not repeats).
    fn set_state(&self, state: LinkState) {
        let previous = self.inner.state.send_replace(state.clone());
        if previous == state {
            return;
        }
        let address = &self.inner.config.address;
        match &state {
            LinkState::Up => {
                info!(%address, namespace = %self.inner.config.namespace, "connected to Temporal")
            }
            LinkState::Down(reason) => {
                warn!(%address, %reason, "Temporal is unreachable; retrying in the background")
            }
            LinkState::Connecting => {}
        }
    }
}

async fn connect(config: &TemporalConfig) -> Result<Client, String> {
    let opts = ConnectionOptions::new(config.address.clone())
        .identity(format!("herald@{}", hostname()))
        .connect_timeout(PROBE_TIMEOUT)
        .build();
    let connection = tokio::time::timeout(PROBE_TIMEOUT * 2, Connection::connect(opts))
        .await
        .map_err(|_| format!("no answer from {} within {:?}", config.address, PROBE_TIMEOUT * 2))?
        .map_err(|e| format!("cannot connect to {}: {}", config.address, one_line(&e.to_string())))?;
    Client::new(connection, ClientOptions::new(config.namespace.clone()).build())
        .map_err(|e| format!("cannot create client: {}", one_line(&e.to_string())))
}

/// A cheap call that proves the frontend answers and the namespace exists.
#[instrument(skip_all)]
async fn probe(client: &Client, config: &TemporalConfig) -> Result<(), String> {
    let namespace = config.namespace.as_str();
    use temporalio_common::protos::temporal::api::workflowservice::v1::DescribeNamespaceRequest;
    let request = DescribeNamespaceRequest { namespace: namespace.to_owned(), ..Default::default() };
    let mut svc = client.connection().workflow_service();
    match tokio::time::timeout(PROBE_TIMEOUT, svc.describe_namespace(request.into_request())).await {
        Err(_) => Err(format!("no answer within {PROBE_TIMEOUT:?}")),
        Ok(Err(status)) if status.code() == tonic::Code::NotFound => {
            Err(format!("namespace '{namespace}' does not exist"))
        }
        // Refused, reset or torn down mid-call: all mean the server is not there.
        Ok(Err(status))
            if matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
            ) =>
        {
            Err(format!("cannot reach Temporal at {}: {}", config.address, one_line(status.message())))
        }
        Ok(Err(status)) => {
            Err(one_line(&format!("Temporal answered {:?}: {}", status.code(), status.message())))
        }
        Ok(Ok(_)) => Ok(()),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| std::process::id().to_string())
}

/// More registrations for a worker beyond Herald's own (the bench's floor workflow); Herald's
/// production worker has none.
pub type WorkerExtras = Arc<dyn Fn(&mut WorkerOptions) -> anyhow::Result<()> + Send + Sync>;

/// Runs the worker until `stop` trips: waits for a connection, polls, and starts over with
/// backoff if the worker ever fails. In-flight activities finish before it returns.
pub async fn run_worker(
    temporal: Temporal,
    activities: impl Fn() -> herald_workflows::EventActivities,
    extras: Option<WorkerExtras>,
    stop: CancelToken,
) -> anyhow::Result<()> {
    let runtime = Runtime::from_current_tokio(Default::default())
        .map_err(|e| anyhow::anyhow!("cannot start the Temporal runtime: {e}"))?;
    let mut backoff = Duration::from_secs(1);
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = temporal.wait_for(|s| *s == LinkState::Up) => {}
        }
        let Some(client) = temporal.client().await else { continue };
        let tuner = TunerHolder::builder()
            .workflow_task_slot_supplier(FixedSizeSlotSupplier::new(WORKFLOW_SLOTS))
            .activity_task_slot_supplier(FixedSizeSlotSupplier::new(ACTIVITY_SLOTS))
            .local_activity_task_slot_supplier(FixedSizeSlotSupplier::new(LOCAL_ACTIVITY_SLOTS))
            .nexus_task_slot_supplier(FixedSizeSlotSupplier::new(1))
            .build();
        let config = temporal.config();
        let mut options = WorkerOptions::new(config.task_queue.clone())
            .max_cached_workflows(config.worker_cache)
            .tuner(tuner)
            .workflow_task_poller_behavior(PollerBehavior::SimpleMaximum(config.worker_pollers))
            .nonsticky_to_sticky_poll_ratio(NONSTICKY_RATIO)
            .activity_task_poller_behavior(PollerBehavior::SimpleMaximum((config.worker_pollers / 2).max(2)))
            .register_workflow::<herald_workflows::EventWorkflow>()?
            .register_activities(activities())
            .build();
        if let Some(extras) = &extras {
            extras(&mut options)?;
        }
        let mut worker = match Worker::new(&runtime, client, options) {
            Ok(w) => w,
            Err(e) => {
                warn!(error = %e, "cannot create the Temporal worker; retrying");
                tokio::select! {
                    () = stop.cancelled() => return Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let shutdown = worker.shutdown_handle();
        let stopper = {
            let stop = stop.clone();
            tokio::spawn(async move {
                stop.cancelled().await;
                shutdown();
            })
        };
        info!(task_queue = %temporal.config().task_queue, "worker polling");
        let result = worker.run().await;
        stopper.abort();
        match result {
            Ok(()) if stop.is_cancelled() => {
                info!("worker stopped");
                return Ok(());
            }
            Ok(()) => warn!("worker stopped unexpectedly; restarting"),
            Err(e) => warn!(error = %e, "worker failed; restarting"),
        }
        tokio::select! {
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Starts a workflow whose first task Temporal hands out only after `delay` (a start delay;
/// the SDK's typed start has no such option, so the request is built here the way it builds
/// its own). `false`: a workflow was already running under `workflow_id`.
pub async fn start_delayed<W>(
    client: &Client,
    workflow: W,
    input: W::Input,
    task_queue: &str,
    workflow_id: String,
    delay: Duration,
) -> anyhow::Result<bool>
where
    W: temporalio_common::WorkflowDefinition,
{
    use temporalio_client::NamespacedClient as _;
    use temporalio_common::data_converters::{SerializationContextData, WorkflowSerializationContext};
    use temporalio_common::protos::temporal::api::common::v1::{Payloads, WorkflowType};
    use temporalio_common::protos::temporal::api::enums::v1::TaskQueueKind;
    use temporalio_common::protos::temporal::api::taskqueue::v1::TaskQueue;
    use temporalio_common::protos::temporal::api::workflowservice::v1::StartWorkflowExecutionRequest;

    let context = SerializationContextData::Workflow(WorkflowSerializationContext::new());
    let payloads = client.data_converter().to_payloads(&context, &input).await?;
    let request = StartWorkflowExecutionRequest {
        namespace: client.namespace(),
        workflow_id,
        workflow_type: Some(WorkflowType { name: workflow.name().to_owned() }),
        task_queue: Some(TaskQueue {
            name: task_queue.to_owned(),
            kind: TaskQueueKind::Normal as i32,
            normal_name: String::new(),
        }),
        input: Some(Payloads { payloads }),
        identity: client.identity(),
        request_id: uuid::Uuid::new_v4().to_string(),
        workflow_start_delay: Some(delay.try_into()?),
        ..Default::default()
    };
    let mut service = client.connection().workflow_service();
    match service.start_workflow_execution(request.into_request()).await {
        Ok(_) => Ok(true),
        Err(status) if status.code() == tonic::Code::AlreadyExists => Ok(false),
        Err(status) => {
            Err(anyhow::anyhow!("Temporal answered {:?}: {}", status.code(), one_line(status.message())))
        }
    }
}

/// When the running workflow `workflow_id`, started with a start delay, gets its first task;
/// `None` when that moment has passed (or it had no delay, or is not running).
pub async fn wakes_at(
    client: &Client,
    workflow_id: &str,
) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    use temporalio_client::NamespacedClient as _;
    use temporalio_common::protos::temporal::api::common::v1::WorkflowExecution;
    use temporalio_common::protos::temporal::api::enums::v1::WorkflowExecutionStatus;
    use temporalio_common::protos::temporal::api::workflowservice::v1::DescribeWorkflowExecutionRequest;

    let request = DescribeWorkflowExecutionRequest {
        namespace: client.namespace(),
        execution: Some(WorkflowExecution { workflow_id: workflow_id.to_owned(), run_id: String::new() }),
    };
    let mut service = client.connection().workflow_service();
    let described = match service.describe_workflow_execution(request.into_request()).await {
        Ok(d) => d.into_inner(),
        Err(status) if status.code() == tonic::Code::NotFound => return Ok(None),
        Err(status) => {
            return Err(anyhow::anyhow!(
                "Temporal answered {:?}: {}",
                status.code(),
                one_line(status.message())
            ));
        }
    };
    let Some(info) = described.workflow_execution_info else { return Ok(None) };
    if info.status != WorkflowExecutionStatus::Running as i32 {
        return Ok(None);
    }
    let at = info
        .execution_time
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)));
    Ok(at.filter(|at| *at > chrono::Utc::now()))
}
