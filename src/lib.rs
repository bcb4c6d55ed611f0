//! ruxue (入学): a county's compulsory-education admissions, from the day
//! registration opens to the day the last seat is filled.
//!
//! A newcomer's map (see also `docs/architecture.md`):
//! - pure decisions, no database, HTTP or clock: [`draw`] (the verifiable
//!   lottery `ruxue-draw-v1`), [`catchment`] and [`policy`] (which school
//!   serves an address; who comes first), [`identity`] (ID numbers, their
//!   encryption and masking), [`registration`] (the parent forms, sessions,
//!   status page), [`review`] (decision rules, fraud signals, charts),
//!   [`staff`] (tokens, passwords), [`domain`] (statuses and roles).
//! - [`service`]: the use cases, one function per thing a person does.
//! - [`db`]: schema, rows, pool, migrations, queries, the audit chain.
//! - [`web`]: the HTTP server by audience (parent, staff, public); handlers
//!   parse, call one use case, render.
//! - [`cli`]: the `ruxue` command line, one file per command group.

pub mod admission;
pub mod catchment;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod demo_draws;
pub mod domain;
pub mod draw;
pub mod error;
pub mod identity;
pub mod notify;
pub mod policy;
pub mod registration;
pub mod review;
pub mod service;
pub mod staff;
pub mod startup;
pub mod web;
