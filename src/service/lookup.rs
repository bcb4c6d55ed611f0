//! The public catchment lookup ("输入地址，查询对口学校"): which school or
//! zone serves an address, with the rule that decided it. The parsing and
//! the decision are `crate::catchment`'s; this loads the newest campaign of
//! the asked grade and its map.

use crate::catchment::{self, Directory, Target};
use crate::db;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub grade: Option<String>,
    #[serde(default)]
    pub campaign: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SchoolRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Alternative {
    pub rule_id: String,
    pub target_name: String,
    pub explanation: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LookupResult {
    pub campaign: String,
    pub campaign_name: String,
    pub address: String,
    /// The address as understood: township, community, road, number, compound, building.
    #[schema(value_type = Object)]
    pub parsed: catchment::Address,
    pub notes: Vec<String>,
    pub found: bool,
    /// `school` or `zone`.
    #[schema(value_type = Option<String>)]
    pub target_type: Option<&'static str>,
    pub target_code: Option<String>,
    pub target_name: Option<String>,
    /// For a zone: its schools in announced order.
    pub schools: Vec<SchoolRef>,
    pub rule_id: Option<String>,
    pub explanation: String,
    pub ambiguous: bool,
    pub alternatives: Vec<Alternative>,
}

#[derive(Debug, Serialize, Clone)]
pub struct CampaignChoice {
    pub id: String,
    pub name: String,
    pub grade: i32,
}

const MAX_ADDRESS_CHARS: usize = 200;

fn validate_address(q: &LookupQuery) -> Result<String, AppError> {
    let address = q.address.as_deref().unwrap_or("").trim().to_string();
    if address.is_empty() {
        return Err(AppError::invalid_code("required", "address", "请输入地址"));
    }
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(AppError::invalid("address", format!("地址不能超过 {MAX_ADDRESS_CHARS} 个字")));
    }
    if address.chars().any(|c| c.is_control()) {
        return Err(AppError::invalid("address", "地址含有无效字符"));
    }
    Ok(address)
}

/// The newest campaign of each grade; a draft (e.g. next year's, just
/// copied from this year's and still being edited) only when that grade has
/// nothing else.
fn newest_per_grade(rows: &[CampaignRow]) -> Vec<CampaignChoice> {
    let mut out: Vec<CampaignChoice> = Vec::new();
    for drafts in [false, true] {
        for (id, name, grade, status) in rows {
            if (*status == crate::domain::CampaignStatus::Draft) == drafts && !out.iter().any(|c| c.grade == *grade) {
                out.push(CampaignChoice { id: id.clone(), name: name.clone(), grade: *grade });
            }
        }
    }
    out.sort_by_key(|c| c.grade);
    out
}

fn choose(q: &LookupQuery, snap: &Snapshot) -> Result<CampaignChoice, AppError> {
    if let Some(id) = q.campaign.as_deref().filter(|s| !s.is_empty()) {
        return snap
            .rows
            .iter()
            .find(|r| r.0 == id)
            .map(|(id, name, grade, _)| CampaignChoice { id: id.clone(), name: name.clone(), grade: *grade })
            .ok_or_else(|| AppError::invalid("campaign", "没有这个招生计划"));
    }
    let grade = match q.grade.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some("1") => Some(1),
        Some("7") => Some(7),
        Some(_) => return Err(AppError::invalid("grade", "入学年级只能是 1（一年级）或 7（七年级）")),
    };
    let chosen = match grade {
        Some(g) => snap.newest.iter().find(|c| c.grade == g),
        None => snap.newest.first(),
    };
    chosen.cloned().ok_or_else(|| AppError::invalid("grade", "该年级暂无招生计划"))
}

fn resolve(map: &CampaignMap, campaign: &CampaignChoice, address: &str) -> LookupResult {
    let (rules, dir) = (&map.rules, &map.directory);
    let parsed = catchment::parse_address_with(address, &map.gazetteer);
    let res = catchment::resolve(rules, &parsed.address, None, dir);
    let (target_type, target_code, schools) = match res.winner.as_ref().map(|w| &w.target) {
        Some(Target::School(code)) => (Some("school"), Some(code.clone()), Vec::new()),
        Some(Target::Zone(code)) => (
            Some("zone"),
            Some(code.clone()),
            dir.zone_schools(code)
                .into_iter()
                .map(|s| SchoolRef { name: dir.school_name(&s).unwrap_or_else(|| s.clone()), code: s })
                .collect(),
        ),
        None => (None, None, Vec::new()),
    };
    LookupResult {
        campaign: campaign.id.clone(),
        campaign_name: campaign.name.clone(),
        address: address.to_string(),
        parsed: parsed.address,
        notes: parsed.notes,
        found: res.winner.is_some(),
        target_type,
        target_code,
        target_name: res.winner.as_ref().map(|w| w.target_name.clone()),
        schools,
        rule_id: res.winner.as_ref().map(|w| w.rule_id.clone()),
        explanation: res.explanation.clone(),
        ambiguous: res.ambiguous,
        alternatives: res
            .matches
            .iter()
            .skip(1)
            .map(|m| Alternative { rule_id: m.rule_id.clone(), target_name: m.target_name.clone(), explanation: m.explanation.clone() })
            .collect(),
    }
}

// ---------------------------------------------------------------- the cache

type CampaignRow = (String, String, i32, crate::domain::CampaignStatus);

/// One campaign's map as the lookup reads it: rules, directory and the
/// gazetteer built from the rules.
struct CampaignMap {
    rules: Vec<catchment::CatchmentRule>,
    directory: catchment::StaticDirectory,
    gazetteer: catchment::Gazetteer,
}

/// The campaigns and their maps at one `campaign_ctx_version`.
struct Snapshot {
    version: i64,
    rows: Vec<CampaignRow>,
    newest: Vec<CampaignChoice>,
    maps: HashMap<String, Arc<CampaignMap>>,
}

/// The public lookup served from memory. Every change to a campaign, its
/// catchment rules, schools or zones bumps `campaign_ctx_version` in its own
/// transaction (`db::audit::INVALIDATES_CAMPAIGN_CTX`); the cache compares
/// that one primary-key read with the version it holds, at most once every
/// `server.lookup_cache_ms` (0: on every request), and reloads when it moved.
/// Between two checks, answers are served without touching the database;
/// another instance's change is seen within that interval.
#[derive(Default)]
pub struct LookupCache {
    state: Mutex<Option<(Instant, Arc<Snapshot>)>>,
    /// Loads, for the benchmark and the tests: the campaign list and the maps.
    pub loads: std::sync::atomic::AtomicU64,
}

impl LookupCache {
    fn held(&self, max_age: Duration) -> Option<Arc<Snapshot>> {
        let g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        g.as_ref().filter(|(at, _)| at.elapsed() < max_age).map(|(_, s)| s.clone())
    }

    fn current_blocking(&self, conn: &mut db::DbConn) -> Result<Arc<Snapshot>, AppError> {
        let version = db::campaign_ctx_version(conn)?;
        let old = self.state.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(_, s)| s.clone());
        let snap = match old {
            Some(s) if s.version == version => s,
            _ => {
                self.loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let rows = db::catchment::campaign_grades(conn)?;
                Arc::new(Snapshot { version, newest: newest_per_grade(&rows), rows, maps: HashMap::new() })
            }
        };
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), snap.clone()));
        Ok(snap)
    }

    fn map_blocking(&self, conn: &mut db::DbConn, snap: &Arc<Snapshot>, campaign_id: &str) -> Result<Arc<CampaignMap>, AppError> {
        if let Some(m) = snap.maps.get(campaign_id) {
            return Ok(m.clone());
        }
        self.loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let rules = db::catchment::load_rules(conn, campaign_id)?;
        let directory = db::catchment::load_directory(conn, campaign_id)?;
        let gazetteer = catchment::Gazetteer::from_rules(&rules);
        let map = Arc::new(CampaignMap { rules, directory, gazetteer });
        // Published only if the snapshot is still the current one.
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, cur)) = g.as_mut() {
            if cur.version == snap.version {
                let mut next =
                    Snapshot { version: cur.version, rows: cur.rows.clone(), newest: cur.newest.clone(), maps: cur.maps.clone() };
                next.maps.insert(campaign_id.to_string(), map.clone());
                *cur = Arc::new(next);
            }
        }
        Ok(map)
    }

    /// The snapshot and, when an address was asked, the chosen campaign's
    /// map, if memory holds both and the snapshot was checked within
    /// `max_age`.
    fn held_loaded(&self, max_age: Duration, q: &LookupQuery, with_map: bool) -> Option<Loaded> {
        let snap = self.held(max_age)?;
        let chosen = choose(q, &snap);
        let map = match (&chosen, with_map) {
            (Ok(c), true) => Some(snap.maps.get(&c.id)?.clone()),
            _ => None,
        };
        Some(Loaded { snap, chosen, map })
    }
}

struct Loaded {
    snap: Arc<Snapshot>,
    chosen: Result<CampaignChoice, AppError>,
    map: Option<Arc<CampaignMap>>,
}

async fn loaded(cx: &super::Ctx, q: &LookupQuery, with_map: bool) -> Result<Loaded, AppError> {
    let max_age = Duration::from_millis(cx.settings.server.lookup_cache_ms);
    if let Some(l) = cx.lookup.held_loaded(max_age, q, with_map) {
        return Ok(l);
    }
    let (cache, q) = (cx.lookup.clone(), q.clone());
    cx.db
        .run(move |conn| {
            let snap = cache.current_blocking(conn)?;
            let chosen = choose(&q, &snap);
            let map = match (&chosen, with_map) {
                (Ok(c), true) => Some(cache.map_blocking(conn, &snap, &c.id)?),
                _ => None,
            };
            Ok(Loaded { snap, chosen, map })
        })
        .await
}

/// The lookup API: one answer or a field-named refusal.
pub async fn lookup(cx: &super::Ctx, q: LookupQuery) -> Result<LookupResult, AppError> {
    let address = validate_address(&q)?;
    let l = loaded(cx, &q, true).await?;
    let campaign = l.chosen?;
    let map = l.map.ok_or_else(|| AppError::internal("lookup: no map"))?;
    Ok(resolve(&map, &campaign, &address))
}

/// What the lookup page shows: the campaigns to choose from, the grade
/// chosen, and (when an address was asked) the answer or the refusal.
pub struct LookupPage {
    pub campaigns: Vec<CampaignChoice>,
    pub grade: i32,
    pub result: Option<Result<LookupResult, AppError>>,
}

pub async fn lookup_page(cx: &super::Ctx, q: LookupQuery) -> Result<LookupPage, AppError> {
    let asked = q.address.is_some();
    let l = loaded(cx, &q, asked).await?;
    let result = match (&l.chosen, asked, &l.map) {
        (Ok(c), true, Some(m)) => Some(validate_address(&q).map(|a| resolve(m, c, &a))),
        (Err(e), true, _) => Some(Err(e.clone())),
        _ => None,
    };
    Ok(LookupPage { grade: l.chosen.as_ref().ok().map(|c| c.grade).unwrap_or(1), campaigns: l.snap.newest.clone(), result })
}
