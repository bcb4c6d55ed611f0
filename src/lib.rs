//! ruxue (入学): a county's compulsory-education admissions, from the day
//! registration opens to the day the last seat is filled.
//!
//! A newcomer's map (see also `docs/architecture.md`):
//! - [`draw`]: the verifiable lottery `ruxue-draw-v1` (pure).
//! - [`catchment`], [`policy`]: which school serves an address; who comes first (pure).
//! - [`identity`]: national ID numbers, their encryption and masking (pure).
//! - [`registration`]: the parent flow.
//! - [`db`]: schema, rows, pool, migrations, the audit chain.
//! - [`web`]: the HTTP server; handlers stay thin over the modules above.
//! - [`cli`]: the `ruxue` command line.

pub mod admin;
pub mod cli;
pub mod catchment;
pub mod config;
pub mod db;
pub mod draw;
pub mod demo;
pub mod error;
pub mod identity;
pub mod policy;
pub mod registration;
pub mod review;
pub mod staff;
pub mod startup;
pub mod web;
