//! `ruxue catchment …`: import, export, lint, diff and look up catchment rules.

use super::util::{conn, io_reason, open, read_bytes, read_text, refuse, say, CLI_ACTOR};
use super::CliResult;
use crate::catchment::{self as ca, Directory};
use crate::config::Settings;
use crate::db::catchment as dbc;
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum CatchmentCommand {
    /// Replace a campaign's catchment rules from a CSV or XLSX file (Chinese
    /// headers, see `src/catchment/io.rs`). All or nothing: any bad row, unknown
    /// school or zone code leaves the database unchanged and exits 1 with a
    /// row-by-row report. Audited as `catchment.import`.
    Import {
        /// Campaign id, e.g. 2027-G1.
        #[arg(long)]
        campaign: String,
        /// Replace the rules even though registration has opened (status other
        /// than draft). Recorded in the audit log.
        #[arg(long)]
        force_after_open: bool,
        /// The rules file (.csv or .xlsx).
        file: PathBuf,
    },
    /// Export a campaign's rules (CSV to stdout by default). Re-importing an
    /// export yields identical rules.
    Export {
        #[arg(long)]
        campaign: String,
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write to this file instead of stdout (required for xlsx).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Check a campaign's rules for conflicts, overlaps, gaps and duplicates;
    /// exit 1 when any finding is an error.
    Lint {
        #[arg(long)]
        campaign: String,
        /// Optional CSV of (乡镇, 社区/村) pairs that must be covered.
        #[arg(long)]
        communities: Option<PathBuf>,
    },
    /// Year-to-year differences between two campaigns' rules.
    Diff {
        /// Last year's campaign.
        #[arg(long)]
        from: String,
        /// This year's campaign.
        #[arg(long)]
        to: String,
    },
    /// Resolve a free-text address against a campaign's rules and print the
    /// explanation chain; exit 1 when no rule matches.
    Lookup {
        #[arg(long)]
        campaign: String,
        /// The address, e.g. "凤城镇河滨社区河滨路 120 号".
        address: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

pub fn run(settings: Settings, cmd: CatchmentCommand) -> CliResult {
    let db = open(&settings)?;
    match cmd {
        CatchmentCommand::Import { campaign, force_after_open, file } => {
            let data = match read_bytes(&file) {
                Ok(d) => d,
                Err(m) => return refuse(m),
            };
            let is_xlsx = data.starts_with(b"PK\x03\x04")
                || file.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
            let parsed = if is_xlsx { ca::import_rules_xlsx(&data) } else { ca::import_rules_csv(&data) };
            let rules = match parsed {
                Ok(r) => r,
                Err(report) => {
                    eprint!("{report}");
                    return Ok(1);
                }
            };
            if rules.is_empty() {
                return refuse("文件中没有任何规则，未做任何修改（如确需清空，请联系系统管理员）");
            }
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            match crate::service::catchment::replace_rules(
                &db,
                &campaign,
                &rules,
                &crate::draw::digest_hex(&data),
                &name,
                force_after_open,
                CLI_ACTOR,
            ) {
                Ok(o) => {
                    if o.status != crate::domain::CampaignStatus::Draft {
                        eprintln!("ruxue: 注意：招生批次「{campaign}」已开始报名（状态 {}），本次强制导入已记入审计日志", o.status);
                    }
                    outln!("已导入招生批次「{campaign}」的划片规则：删除原有 {} 条，导入 {} 条", o.removed, o.inserted);
                    Ok(0)
                }
                Err(e) => refuse(format!("导入失败，未做任何修改：\n{}", say(&e))),
            }
        }
        CatchmentCommand::Export { campaign, format, output } => {
            let mut c = conn(&db)?;
            if let Err(e) = dbc::load_campaign(&mut c, &campaign) {
                return refuse(say(&e));
            }
            let rules = match dbc::load_rules(&mut c, &campaign) {
                Ok(r) => r,
                Err(e) => return refuse(say(&e)),
            };
            let bytes = match format {
                ExportFormat::Csv => ca::export_rules_csv(&rules),
                ExportFormat::Xlsx => match ca::export_rules_xlsx(&rules) {
                    Ok(b) => b,
                    Err(m) => return refuse(m),
                },
            };
            match output {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, &bytes) {
                        return refuse(format!("无法写入文件「{}」：{}", path.display(), io_reason(&e)));
                    }
                    eprintln!("ruxue: 已导出 {} 条规则到「{}」", rules.len(), path.display());
                    Ok(0)
                }
                None if format == ExportFormat::Xlsx => refuse("导出 Excel 时请用 -o 指定输出文件"),
                None => {
                    let mut out = std::io::stdout().lock();
                    if out.write_all(&bytes).and_then(|_| out.flush()).is_err() {
                        return Ok(1);
                    }
                    Ok(0)
                }
            }
        }
        CatchmentCommand::Lint { campaign, communities } => {
            let pairs = match communities {
                None => Vec::new(),
                Some(path) => match read_text(&path) {
                    Ok(t) => parse_communities(&t),
                    Err(m) => return refuse(m),
                },
            };
            let loaded = crate::service::catchment::campaign_map(&mut *conn(&db)?, &campaign);
            let (rules, dir) = match loaded {
                Ok(x) => x,
                Err(e) => return refuse(say(&e)),
            };
            let findings = ca::lint_rules(&rules, &pairs, &dir);
            let errors = findings.iter().filter(|f| f.severity == ca::Severity::Error).count();
            let warnings = findings.len() - errors;
            for f in &findings {
                let tag = if f.severity == ca::Severity::Error { "错误" } else { "警告" };
                if f.rule_ids.is_empty() {
                    outln!("[{tag}] {}", f.message);
                } else {
                    outln!("[{tag}] {}（规则：{}）", f.message, f.rule_ids.join("、"));
                }
            }
            if findings.is_empty() {
                outln!("招生批次「{campaign}」的 {} 条划片规则未发现问题", rules.len());
            } else {
                outln!("招生批次「{campaign}」共 {} 条划片规则：错误 {errors} 个，警告 {warnings} 个", rules.len());
            }
            Ok(if errors > 0 { 1 } else { 0 })
        }
        CatchmentCommand::Diff { from, to } => {
            let mut c = conn(&db)?;
            let loaded = (|| -> Result<_, crate::error::AppError> {
                dbc::load_campaign(&mut c, &from)?;
                dbc::load_campaign(&mut c, &to)?;
                let old = dbc::load_rules(&mut c, &from)?;
                let new = dbc::load_rules(&mut c, &to)?;
                let mut dir = dbc::load_directory(&mut c, &to)?;
                let old_dir = dbc::load_directory(&mut c, &from)?;
                for (k, z) in old_dir.zones {
                    dir.zones.entry(k).or_insert(z);
                }
                Ok((old, new, dir))
            })();
            let (old, new, dir) = match loaded {
                Ok(x) => x,
                Err(e) => return refuse(say(&e)),
            };
            let d = ca::diff_rules(&old, &new, &dir);
            outln!("划片规则变化：{from}（{} 条）→ {to}（{} 条）", old.len(), new.len());
            if d.messages.is_empty() {
                outln!("没有差异");
            } else {
                outln!(
                    "新增 {} 条，删除 {} 条，修改 {} 条，对口变化路段 {} 处：",
                    d.added.len(),
                    d.removed.len(),
                    d.changed.len(),
                    d.road_changes.len()
                );
                for m in &d.messages {
                    outln!("- {m}");
                }
            }
            Ok(0)
        }
        CatchmentCommand::Lookup { campaign, address } => {
            let loaded = crate::service::catchment::campaign_map(&mut *conn(&db)?, &campaign);
            let (rules, dir) = match loaded {
                Ok(x) => x,
                Err(e) => return refuse(say(&e)),
            };
            let gaz = ca::Gazetteer::from_rules(&rules);
            let parsed = ca::parse_address_with(&address, &gaz);
            outln!("输入地址：{address}");
            outln!("解析结果：{}", parsed.address.display());
            for n in &parsed.notes {
                outln!("  说明：{n}");
            }
            let res = ca::resolve(&rules, &parsed.address, None, &dir);
            match &res.winner {
                Some(w) => {
                    let schools = dir.target_schools(&w.target);
                    outln!("对口：{}（规则 {}）", w.target_name, w.rule_id);
                    if matches!(w.target, ca::Target::Zone(_)) && !schools.is_empty() {
                        let names: Vec<String> = schools.iter().map(|s| dir.school_name(s).unwrap_or_else(|| s.clone())).collect();
                        outln!("片区学校：{}", names.join("、"));
                    }
                }
                None => outln!("对口：无"),
            }
            if !res.matches.is_empty() {
                outln!("匹配的规则（优先者在前）：");
                for (i, m) in res.matches.iter().enumerate() {
                    outln!(
                        "  {}. 规则 {} → {}（优先级 {}，{}）：{}",
                        i + 1,
                        m.rule_id,
                        m.target_name,
                        m.precedence,
                        m.specificity.label(),
                        m.explanation
                    );
                }
            }
            outln!("结论：{}", res.explanation);
            Ok(if res.winner.is_some() { 0 } else { 1 })
        }
    }
}

/// `乡镇,社区/村` lines (a header line starting with 乡镇 is skipped).
fn parse_communities(text: &str) -> Vec<(String, String)> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .filter_map(|l| {
            let (a, b) = l.split_once([',', '，', '\t'])?;
            let (a, b) = (a.trim(), b.trim().trim_end_matches(',').trim());
            (!a.is_empty() && !b.is_empty() && a != "乡镇").then(|| (a.to_string(), b.to_string()))
        })
        .collect()
}
