//! Herald's black-box tests, in one binary so the heavy dependencies are linked once.
//!
//! `make test` provides a Temporal dev server (`HERALD_TEST_TEMPORAL_ADDRESS`) and, when
//! `HERALD_TEST_POSTGRES_URL` is set, every `…::postgres` test runs against a fresh Postgres
//! database of its own. Without it, `make test` filters the Postgres variants out (nextest
//! reports them as skipped); run directly, a Postgres variant fails with a message saying why.

#![allow(clippy::unwrap_used, unreachable_pub)]

#[macro_use]
mod support;

mod account;
mod accounts;
mod announcements;
mod apprise;
mod asleep;
mod audit;
mod bench;
mod browser;
mod cli;
mod config_lock;
mod db;
mod delivery;
mod delivery_pages;
mod email_channel;
mod events;
mod exports;
mod guests;
mod integrations;
mod invitations;
mod isolation;
mod layers;
mod metrics;
mod orgs;
mod outbox;
mod participants;
mod processes;
mod public_pages;
mod quiet;
mod reach;
mod readiness;
mod real_mail;
mod reports;
mod rules;
mod targets;
mod traces;
mod web;
mod wording;
mod workflow;
