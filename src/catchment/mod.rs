//! Catchment zones (划片): structured addresses, rules, resolution, import/export,
//! lint and year-to-year diff. Pure: no database, no HTTP, no clock.
//!
//! Entry points:
//! - [`parse_address`] / [`parse_address_with`]: free text → [`Address`] (best effort);
//! - [`resolve`]: address (+ optional WGS-84 point) → every matching rule, the
//!   winner and a Chinese explanation chain;
//! - [`import_rules_csv`], [`import_rules_xlsx`], [`export_rules_csv`],
//!   [`export_rules_xlsx`]: the spreadsheet layout in [`io`];
//! - [`lint_rules`], [`diff_rules`];
//! - [`demo_rules`], [`demo_directory`]: the fictional Anxi demo data.

pub mod address;
pub mod geo;
pub mod io;
pub mod lint;
pub mod rule;

pub use address::{name_key, normalize_text, parse_address, parse_address_with, Address, Gazetteer, ParsedAddress};
pub use geo::{distance_m, gcj02_to_wgs84, wgs84_to_gcj02, GeoPoint, MultiPolygon, PointLocation};
pub use io::{
    export_rules_csv, export_rules_xlsx, import_rules_csv, import_rules_table, import_rules_xlsx, ImportIssue, ImportReport, RULE_COLUMNS,
};
pub use lint::{diff_rules, lint_rules, ChangedRule, GapInfo, LintFinding, LintKind, RoadChange, RuleDiff, Severity};
pub use rule::{
    compare_rules, resolve, CatchmentRule, Directory, Parity, Resolution, RuleKind, RuleMatch, Specificity, StaticDirectory, Target,
    ZoneInfo,
};

/// The demo catchment rules (CSV, layout of [`io`]).
pub const DEMO_RULES_CSV: &str = include_str!("demo_rules.csv");

/// The demo rules, parsed. Panics only if the bundled file is broken (a test
/// guards it).
pub fn demo_rules() -> Vec<CatchmentRule> {
    match import_rules_csv(DEMO_RULES_CSV.as_bytes()) {
        Ok(r) => r,
        Err(report) => panic!("demo_rules.csv is invalid:\n{report}"),
    }
}

/// Schools and zones of the fictional demo county.
pub fn demo_directory() -> StaticDirectory {
    StaticDirectory::default()
        .school("P01", "安溪县实验小学")
        .school("P02", "凤城中心小学")
        .school("P03", "城厢中心小学")
        .school("P04", "参内中心小学")
        .school("P05", "东岳小学")
        .school("P06", "龙湖小学")
        .school("J01", "安溪县第八中学")
        .school("J02", "安溪县第十一中学")
        .school("J03", "安溪县恒兴中学")
        .school("J04", "安溪县第三中学")
        .school("J05", "安溪县第六中学")
        .zone("Z-JA", "建安片区", &["J01", "J02", "J03"])
        .zone("Z-DY", "德苑片区", &["J04", "J05"])
}

/// The demo list of communities/villages that must be covered (for the lint).
pub fn demo_communities() -> Vec<(String, String)> {
    [
        ("凤城镇", "东岳社区"),
        ("凤城镇", "城东社区"),
        ("凤城镇", "大同社区"),
        ("凤城镇", "河滨社区"),
        ("凤城镇", "龙湖社区"),
        ("城厢镇", "城厢社区"),
        ("城厢镇", "经济开发区社区"),
        ("参内镇", "参内村"),
        ("参内镇", "罗内村"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

/// The demo rules of the 一年级 campaign (targets are schools).
pub fn demo_primary_rules() -> Vec<CatchmentRule> {
    demo_rules().into_iter().filter(|r| matches!(r.target, Target::School(_))).collect()
}

/// The demo rules of the 七年级 campaign (targets are the zones 建安片区 / 德苑片区).
pub fn demo_junior_rules() -> Vec<CatchmentRule> {
    demo_rules().into_iter().filter(|r| matches!(r.target, Target::Zone(_))).collect()
}
