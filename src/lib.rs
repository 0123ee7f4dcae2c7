//! Herald: a self-hostable, durable event reminder service.
//!
//! `main.rs` only parses the command line and calls [`cli::main`]; tests start the real
//! application on port 0 through [`app::Herald`].

pub mod accounts;
pub mod announcements;
pub mod app;
pub mod audit;
pub mod bench;
pub mod calendar;
pub mod cli;
pub mod config;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod events;
pub mod exports;
pub mod home;
pub mod integrations;
pub mod limits;
pub mod mail;
pub mod metrics;
pub mod orgs;
pub mod participants;
pub mod quiet;
pub mod reports;
pub mod rules;
pub mod schedule;
pub mod secrets;
pub mod services;
pub mod shutdown;
pub mod telemetry;
pub mod temporal;
pub mod web;
pub mod wording;
