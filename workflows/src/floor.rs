//! The bench's floor: the least a reminder can cost on Temporal — a durable timer, one activity,
//! one POST — with no database and no Apprise API. `herald bench` registers it in its own worker
//! to measure what the same server and SDK do for the same due times; Herald's worker never
//! registers it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use temporalio_macros::{activities, workflow, workflow_methods};
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{WorkflowContext, WorkflowContextView, WorkflowResult};

use crate::activities::activity_opts;

/// What one floor workflow does: at `due_at`, POST to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorInput {
    /// When to POST.
    pub due_at: DateTime<Utc>,
    /// Where to POST (the bench's sink).
    pub url: String,
}

/// Timer → [`FloorActivities::post`] → done.
#[workflow]
pub struct FloorWorkflow {
    input: FloorInput,
}

#[workflow_methods]
impl FloorWorkflow {
    /// Remembers what to do.
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: FloorInput) -> Self {
        Self { input }
    }

    /// Sleeps until the due time, then posts once.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let input = ctx.state(|s| s.input.clone());
        let now = ctx.workflow_time().map(DateTime::<Utc>::from).unwrap_or(input.due_at);
        ctx.timer((input.due_at - now).to_std().unwrap_or(Duration::ZERO)).await;
        ctx.execute_activity(FloorActivities::post, input.url, activity_opts()).await?;
        Ok(())
    }
}

/// The floor's only activity.
pub struct FloorActivities {
    http: reqwest::Client,
}

impl FloorActivities {
    /// Posts with `http`.
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

#[activities]
impl FloorActivities {
    /// POSTs an empty JSON object to `url`; fails (to be retried) unless it answers 2xx.
    #[activity]
    pub async fn post(self: Arc<Self>, _ctx: ActivityContext, url: String) -> Result<(), ActivityError> {
        let answer =
            self.http.post(&url).json(&serde_json::json!({})).send().await.map_err(anyhow::Error::from)?;
        answer.error_for_status().map_err(anyhow::Error::from)?;
        Ok(())
    }
}
