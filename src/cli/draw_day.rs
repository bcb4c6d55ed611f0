//! `ruxue draw freeze|witness|commit|announce|reveal|beacon|run|publish|status`:
//! the draw day's steps from the command line, through the same use cases
//! as the operator's console (`service::draw`), each audited. A witness's
//! value is read from standard input (or `RUXUE_WITNESS_VALUE`), never
//! from the command line, so it does not land in shell history.

use super::error::CliResult;
use super::util::{conn, open, refuse, say, CLI_ACTOR};
use crate::config::Settings;
use crate::db::models::DrawWitness;
use crate::domain::WitnessRole;
use crate::service::draw as svc;

/// The draw-day subcommands (they read and write the database).
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DayCommand {
    /// Freeze the roster of one school or zone from its approved
    /// applications (review must be closed).
    Freeze { campaign: String, unit: String },
    /// Add a witness (notary, parent representative) and print their
    /// one-time link; only while the draw is frozen.
    Witness {
        draw: String,
        #[arg(long)]
        name: String,
        /// notary | parent_rep | other
        #[arg(long, default_value = "notary")]
        role: String,
    },
    /// A witness commits to a value typed on standard input (only the
    /// commitment is stored).
    Commit {
        draw: String,
        /// The witness's source name (`witness-1`) or id.
        witness: String,
    },
    /// Sign and publish the announcement; `--at` is the draw's time in
    /// Beijing time (`2027-07-20 09:00`), which fixes the beacon round.
    Announce {
        draw: String,
        #[arg(long)]
        at: String,
    },
    /// A witness reveals the value (standard input); it must match the commitment.
    Reveal { draw: String, witness: String },
    /// Take the beacon: fetched from `draw.relays`, or `--value` (the
    /// round's signature) typed in; checked against the quicknet key.
    Beacon {
        draw: String,
        #[arg(long)]
        value: Option<String>,
    },
    /// Compute the record and store it once (a second run prints the stored one).
    Run { draw: String },
    /// Publish the drawn results.
    Publish { draw: String },
    /// Print a draw's state.
    Status { draw: String },
}

fn read_value() -> Result<String, super::error::CliError> {
    if let Ok(v) = std::env::var("RUXUE_WITNESS_VALUE") {
        return Ok(v);
    }
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        eprint!("请见证人输入随机数（输入后回车，屏幕不回显时请照常输入）: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| super::error::CliError::Io(format!("cannot read the value from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn find_witness(c: &mut crate::db::DbConn, draw: &str, w: &str) -> Result<Option<DrawWitness>, crate::error::AppError> {
    Ok(crate::db::draw::witnesses(c, draw)?.into_iter().find(|x| x.source_name == w || x.id == w))
}

pub fn run(settings: Settings, cmd: DayCommand) -> CliResult {
    let db = open(&settings)?;
    let now = crate::db::now;
    let done: Result<String, crate::error::AppError> = match cmd {
        DayCommand::Freeze { campaign, unit } => db
            .write_blocking(|c| svc::freeze_in(c, CLI_ACTOR, &campaign, &unit, now()))
            .map(|d| format!("已锁定派位 {}：{} 名学生，名单根 {}", d.id, d.roster_size, d.roster_root))
            .inspect_err(|e| svc::audit_refusal(&db, CLI_ACTOR, &svc::draw_id_of(&campaign, &unit), e)),
        DayCommand::Witness { draw, name, role } => match WitnessRole::parse(&role) {
            None => return refuse("见证人身份只能是 notary（公证员）、parent_rep（家长代表）或 other"),
            Some(role) => db
                .write_blocking(|c| svc::add_witness_in(c, CLI_ACTOR, &draw, &name, role, settings.draw.witness_link_hours, now()))
                .map(|w| {
                    format!(
                        "已添加见证人 {}（{}），一次性链接（只显示这一次）：{}{}",
                        w.witness.name,
                        w.witness.source_name,
                        settings.server.base_url.trim_end_matches('/'),
                        w.link
                    )
                })
                .inspect_err(|e| svc::audit_refusal(&db, CLI_ACTOR, &draw, e)),
        },
        DayCommand::Commit { draw, witness } => {
            let value = read_value()?;
            db.write_blocking(|c| {
                let w = find_witness(c, &draw, &witness)?.ok_or(crate::error::AppError::NotFound)?;
                svc::commit_in(c, CLI_ACTOR, &w, &value, now()).map(|cm| format!("{} 的承诺值：{cm}", w.name))
            })
            .inspect_err(|e| svc::audit_refusal(&db, CLI_ACTOR, &draw, e))
        }
        DayCommand::Reveal { draw, witness } => {
            let value = read_value()?;
            db.write_blocking(|c| {
                let w = find_witness(c, &draw, &witness)?.ok_or(crate::error::AppError::NotFound)?;
                svc::reveal_in(c, CLI_ACTOR, &w, &value, now()).map(|_| format!("{} 已揭示随机数，与承诺值一致", w.name))
            })
        }
        DayCommand::Announce { draw, at } => {
            let at = match crate::web::staff::draws::parse_bjt("at", &at) {
                Ok(t) => t,
                Err(e) => return refuse(say(&e)),
            };
            let key = match settings.draw_signing_key() {
                Ok(k) => k,
                Err(e) => return refuse(format!("security.draw_signing_key: {e}")),
            };
            db.write_blocking(|c| svc::announce_in(c, &settings, CLI_ACTOR, &key, &settings.draw.fallback, &draw, at, now())).map(|d| {
                format!(
                    "已签名发布派位公告 {}：公告摘要 {}，信标 drand quicknet 第 {} 轮",
                    d.id,
                    d.announcement_digest.unwrap_or_default(),
                    d.beacon_round.unwrap_or_default()
                )
            })
        }
        DayCommand::Beacon { draw, value } => {
            let value = match value {
                Some(v) => Ok((v, "typed")),
                None => {
                    let round = {
                        let mut c = conn(&db)?;
                        match crate::db::draw::brief(&mut c, &draw) {
                            Ok(Some(b)) => b.beacon_round.unwrap_or_default() as u64,
                            Ok(None) => return refuse(format!("没有派位 {draw}")),
                            Err(e) => return refuse(say(&e)),
                        }
                    };
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| super::error::CliError::Io(e.to_string()))?;
                    rt.block_on(svc::fetch_beacon(&settings.draw.relays, settings.draw.relay_timeout_ms, round)).map(|v| (v, "relay"))
                }
            };
            value.and_then(|(v, via)| {
                db.write_blocking(|c| svc::beacon_in(c, CLI_ACTOR, &draw, &v, via)).map(|b| format!("信标已核验：{}", b.describe()))
            })
        }
        DayCommand::Run { draw } => svc::run_blocking(&db, CLI_ACTOR, &draw).map(|o| {
            format!(
                "{}派位 {}\nannouncement_digest {}\nrecord_digest {}\nresult_digest {}",
                if o.fresh { "已完成" } else { "此前已完成（返回已保存的记录）" },
                o.draw_id,
                o.announcement_digest,
                o.record_digest,
                o.result_digest
            )
        }),
        DayCommand::Publish { draw } => {
            db.write_blocking(|c| svc::publish_in(c, &settings, CLI_ACTOR, &draw, now())).map(|d| format!("已公布派位 {} 的结果", d.id))
        }
        DayCommand::Status { draw } => {
            let mut c = conn(&db)?;
            svc::view_in(&mut c, &draw).map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
        }
    };
    match done {
        Ok(text) => {
            outln!("{text}");
            Ok(0)
        }
        Err(e) => refuse(say(&e)),
    }
}
