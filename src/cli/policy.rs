//! `ruxue policy …`: show, set, freeze and diff a campaign's admission policy,
//! and the dry run over its applications.

use super::util::{conn, open, read_text, refuse, say, CLI_ACTOR};
use super::CliResult;
use crate::config::Settings;
use crate::db::catchment as dbc;
use crate::error::AppError;
use crate::policy::{self as po, Policy, PolicyError};
use crate::service::policy as dbp;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print a campaign's policy document (TOML) to stdout.
    Show {
        #[arg(long)]
        campaign: String,
    },
    /// Validate a TOML policy and store it for the campaign (refused once the
    /// policy is frozen). Audited as `policy.set`.
    Set {
        #[arg(long)]
        campaign: String,
        /// The policy document (TOML).
        file: PathBuf,
    },
    /// Freeze the campaign's policy (no more `policy set`). Idempotent;
    /// audited as `policy.freeze` the first time.
    Freeze {
        #[arg(long)]
        campaign: String,
    },
    /// Differences between two campaigns' policies, or between a campaign's
    /// policy and a TOML file.
    Diff {
        #[arg(long)]
        from: String,
        /// The other campaign.
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        to: Option<String>,
        /// A TOML policy file to compare with instead of a campaign.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Dry run (预演) of the campaign's policy over its submitted, under-review
    /// and approved applications: per school, seats, applicants by category,
    /// cut-off, lottery odds, and who needs administrative placement.
    DryRun {
        #[arg(long)]
        campaign: String,
        /// Print the per-school CSV (UTF-8 with BOM) instead of the table.
        #[arg(long, conflicts_with = "placement_csv")]
        csv: bool,
        /// Print the CSV of children needing administrative placement (统筹).
        #[arg(long)]
        placement_csv: bool,
    },
}

fn explain_policy_error(source: &str, e: &PolicyError) -> String {
    match e {
        PolicyError::Invalid(issues) => {
            let mut s = format!("{source}未通过校验（{} 个问题）：", issues.len());
            for i in issues {
                s.push_str(&format!("\n  字段 {}：{}", i.field, i.message));
            }
            s
        }
        other => format!("{source}无效：{other}"),
    }
}

fn stored_policy(conn: &mut crate::db::DbConn, campaign: &str) -> Result<Result<Policy, String>, AppError> {
    let c = dbc::load_campaign(conn, campaign)?;
    if c.policy_toml.trim().is_empty() {
        return Ok(Err(format!("招生批次「{campaign}」尚未设置招生方案")));
    }
    Ok(Policy::load_toml(&c.policy_toml).map_err(|e| explain_policy_error(&format!("招生批次「{campaign}」保存的招生方案"), &e)))
}

pub fn run(settings: Settings, cmd: PolicyCommand) -> CliResult {
    let db = open(&settings)?;
    match cmd {
        PolicyCommand::Show { campaign } => {
            let mut c = conn(&db)?;
            let row = match dbc::load_campaign(&mut c, &campaign) {
                Ok(r) => r,
                Err(e) => return refuse(say(&e)),
            };
            if row.policy_toml.trim().is_empty() {
                return refuse(format!("招生批次「{campaign}」尚未设置招生方案"));
            }
            let frozen = match row.policy_frozen_at {
                Some(at) => format!("已于 {} 冻结（UTC）", at.format("%Y-%m-%d %H:%M:%S")),
                None => "未冻结".into(),
            };
            eprintln!("ruxue: 招生批次「{campaign}」招生方案版本 {}，{frozen}", row.policy_version);
            out!("{}", row.policy_toml);
            if !row.policy_toml.ends_with('\n') {
                outln!();
            }
            Ok(0)
        }
        PolicyCommand::Set { campaign, file } => {
            let text = match read_text(&file) {
                Ok(t) => t,
                Err(m) => return refuse(m),
            };
            let policy = match Policy::load_toml(&text) {
                Ok(p) => p,
                Err(e) => return refuse(explain_policy_error(&format!("招生方案文件「{}」", file.display()), &e)),
            };
            match dbp::set_policy(&db, &campaign, &text, &policy.version, CLI_ACTOR) {
                Ok(old) => {
                    outln!("已更新招生批次「{campaign}」的招生方案：版本 {old} → {}", policy.version);
                    Ok(0)
                }
                Err(e) => refuse(say(&e)),
            }
        }
        PolicyCommand::Freeze { campaign } => match dbp::freeze_policy(&db, &campaign, CLI_ACTOR) {
            Ok((at, true)) => {
                outln!("已冻结招生批次「{campaign}」的招生方案（{} UTC）", at.format("%Y-%m-%d %H:%M:%S"));
                Ok(0)
            }
            Ok((at, false)) => {
                outln!("招生批次「{campaign}」的招生方案早已于 {} 冻结（UTC），无需重复操作", at.format("%Y-%m-%d %H:%M:%S"));
                Ok(0)
            }
            Err(e) => refuse(say(&e)),
        },
        PolicyCommand::Diff { from, to, file } => {
            let mut c = conn(&db)?;
            let a = match stored_policy(&mut c, &from) {
                Ok(Ok(p)) => p,
                Ok(Err(m)) => return refuse(m),
                Err(e) => return refuse(say(&e)),
            };
            let (b, b_name) = match (to, file) {
                (Some(to), _) => match stored_policy(&mut c, &to) {
                    Ok(Ok(p)) => (p, format!("招生批次「{to}」")),
                    Ok(Err(m)) => return refuse(m),
                    Err(e) => return refuse(say(&e)),
                },
                (None, Some(path)) => {
                    let text = match read_text(&path) {
                        Ok(t) => t,
                        Err(m) => return refuse(m),
                    };
                    match Policy::load_toml(&text) {
                        Ok(p) => (p, format!("文件「{}」", path.display())),
                        Err(e) => return refuse(explain_policy_error(&format!("招生方案文件「{}」", path.display()), &e)),
                    }
                }
                (None, None) => return refuse("请用 --to 指定招生批次或用 --file 指定招生方案文件"),
            };
            let lines = po::diff(&a, &b);
            outln!("招生方案变化：招生批次「{from}」（版本 {}）→ {b_name}（版本 {}）", a.version, b.version);
            if lines.is_empty() {
                outln!("没有差异");
            }
            for l in &lines {
                outln!("- {l}");
            }
            Ok(0)
        }
        PolicyCommand::DryRun { campaign, csv, placement_csv } => {
            let mut c = conn(&db)?;
            // dry_run loads and validates the stored policy itself.
            let run = match dbp::dry_run(&mut c, &campaign) {
                Ok(r) => r,
                Err(e) => return refuse(say(&e)),
            };
            for s in &run.skipped {
                eprintln!("ruxue: 未计入预演：{s}");
            }
            if csv {
                out!("{}", po::dry_run_csv(&run.report));
                return Ok(0);
            }
            if placement_csv {
                out!("{}", po::placement_csv(&run.report));
                return Ok(0);
            }
            print_report(&run);
            Ok(0)
        }
    }
}

fn print_report(run: &dbp::DryRun) {
    let (campaign, read, counted, r) = (&run.campaign_id, run.read, run.counted, &run.report);
    outln!("招生批次「{campaign}」招生方案预演（{} 版本 {}）", run.policy_name, run.policy_version);
    outln!("参与预演的报名：{counted} 人（已提交、审核中、审核通过共 {read} 人）");
    for s in &r.schools {
        outln!();
        outln!("【{} {}】学位 {} 个，符合条件 {} 人", s.school_id, s.school_name, s.seats, s.applicants);
        if !s.categories.is_empty() {
            outln!("  顺位代码\t顺位名称\t人数\t确定录取\t参加派位\t不能录取");
            for c in &s.categories {
                outln!("  {}\t{}\t{}\t{}\t{}\t{}", c.code, c.label, c.applicants, c.admitted, c.in_lottery, c.not_admitted);
            }
        }
        match &s.cutoff {
            None => outln!("  录取分界：无（全部可以录取）"),
            Some(cut) => match (&cut.partial_category, &cut.partial_label) {
                (Some(code), label) => outln!(
                    "  录取分界：{code}（{}）类录取 {} / {} 人",
                    label.as_deref().unwrap_or(""),
                    cut.admitted_of_category,
                    cut.category_total
                ),
                (None, _) => outln!("  录取分界：学位恰好录取至 {} 类", cut.last_admitted_category.as_deref().unwrap_or("（无）")),
            },
        }
        if let Some(l) = &s.lottery {
            outln!("  电脑派位：{} 类 {} 人争夺 {} 个学位，中签率 {}（{}）", l.category_code, l.tied, l.seats_left, l.odds, l.percent);
        }
        outln!("  {}", s.message);
    }
    outln!();
    outln!("需教育局统筹安排：{} 人", r.needs_placement.len());
    for p in &r.needs_placement {
        outln!("  {}：{}", p.application_no, p.reason);
    }
    outln!("可能无法在可就读学校录取：{} 人", r.likely_unplaced.len());
    for p in &r.likely_unplaced {
        let schools = if p.eligible_schools.is_empty() { "无".to_string() } else { p.eligible_schools.join("、") };
        outln!("  {}（可就读：{schools}）：{}", p.application_no, p.reason);
    }
}
