//! Admissions policy (招生方案): the versioned policy document, applicant facts,
//! category and draw priority keys per school, and the dry run. Pure: no
//! database, no HTTP, no clock (dates are passed in).
//!
//! Entry points:
//! - [`Policy::load_toml`] / [`Policy::from_json`], [`Policy::validate`], [`diff`];
//! - [`compute_keys`]: facts + policy + catchment → per-school category, key,
//!   Chinese explanation;
//! - [`dry_run`], [`dry_run_csv`], [`placement_csv`];
//! - [`demo_policy`]: the demo county policy (`demo_policy.toml`).

pub mod doc;
pub mod dryrun;
pub mod facts;
pub mod keys;
pub mod notice;

pub use doc::{
    diff, tier_name, CarePlacement, Category, Condition, Cutoffs, Granularity, LotteryPlacement, Policy, PolicyCare, PolicyError,
    PolicyIssue, SiblingMode,
};
pub use dryrun::{
    dry_run, dry_run_csv, names_from_directory, percent, placement_csv, CategoryCount, CutoffInfo, DryRunReport, LotteryOdds,
    PlacementNeed, SchoolDryRun,
};
pub use facts::{ApplicantFacts, Migrant, OwnerRelation, Property};
pub use keys::{compute_keys, full_months, ApplicantKeys, Basis, CatchmentContext, SchoolKey};

/// The demo county policy (TOML).
pub const DEMO_POLICY_TOML: &str = include_str!("demo_policy.toml");

/// The demo policy, parsed and validated. Panics only if the bundled file is
/// broken (a test guards it).
pub fn demo_policy() -> Policy {
    match Policy::load_toml(DEMO_POLICY_TOML) {
        Ok(p) => p,
        Err(e) => panic!("demo_policy.toml is invalid: {e}"),
    }
}
