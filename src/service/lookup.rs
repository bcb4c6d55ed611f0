//! The public catchment lookup ("输入地址，查询对口学校"): which school or
//! zone serves an address, with the rule that decided it. The parsing and
//! the decision are `crate::catchment`'s; this loads the newest campaign of
//! the asked grade and its map.

use crate::catchment::{self, Directory, Target};
use crate::db;
use crate::error::AppError;
use serde::{Deserialize, Serialize};

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

fn campaigns(conn: &mut db::DbConn) -> Result<Vec<CampaignChoice>, AppError> {
    let rows = db::catchment::campaign_grades(conn)?;
    // The newest campaign of each grade; a draft (e.g. next year's, just
    // copied from this year's and still being edited) only when that grade
    // has nothing else.
    let mut out: Vec<CampaignChoice> = Vec::new();
    for drafts in [false, true] {
        for (id, name, grade, status) in &rows {
            if (*status == crate::domain::CampaignStatus::Draft) == drafts && !out.iter().any(|c| c.grade == *grade) {
                out.push(CampaignChoice { id: id.clone(), name: name.clone(), grade: *grade });
            }
        }
    }
    out.sort_by_key(|c| c.grade);
    Ok(out)
}

fn choose(q: &LookupQuery, all: &[CampaignChoice], conn: &mut db::DbConn) -> Result<CampaignChoice, AppError> {
    if let Some(id) = q.campaign.as_deref().filter(|s| !s.is_empty()) {
        return db::catchment::campaign_grade(conn, id)?
            .map(|(id, name, grade)| CampaignChoice { id, name, grade })
            .ok_or_else(|| AppError::invalid("campaign", "没有这个招生计划"));
    }
    let grade = match q.grade.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some("1") => Some(1),
        Some("7") => Some(7),
        Some(_) => return Err(AppError::invalid("grade", "入学年级只能是 1（一年级）或 7（七年级）")),
    };
    let chosen = match grade {
        Some(g) => all.iter().find(|c| c.grade == g),
        None => all.first(),
    };
    chosen.cloned().ok_or_else(|| AppError::invalid("grade", "该年级暂无招生计划"))
}

fn resolve(conn: &mut db::DbConn, campaign: &CampaignChoice, address: &str) -> Result<LookupResult, AppError> {
    let rules = db::catchment::load_rules(conn, &campaign.id)?;
    let dir = db::catchment::load_directory(conn, &campaign.id)?;
    let gaz = catchment::Gazetteer::from_rules(&rules);
    let parsed = catchment::parse_address_with(address, &gaz);
    let res = catchment::resolve(&rules, &parsed.address, None, &dir);
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
    Ok(LookupResult {
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
    })
}

/// The lookup API: one answer or a field-named refusal.
pub async fn lookup(db: &db::Db, q: LookupQuery) -> Result<LookupResult, AppError> {
    let address = validate_address(&q)?;
    db.run(move |conn| {
        let all = campaigns(conn)?;
        let campaign = choose(&q, &all, conn)?;
        resolve(conn, &campaign, &address)
    })
    .await
}

/// What the lookup page shows: the campaigns to choose from, the grade
/// chosen, and (when an address was asked) the answer or the refusal.
pub struct LookupPage {
    pub campaigns: Vec<CampaignChoice>,
    pub grade: i32,
    pub result: Option<Result<LookupResult, AppError>>,
}

pub async fn lookup_page(db: &db::Db, q: LookupQuery) -> Result<LookupPage, AppError> {
    let asked = q.address.is_some();
    db.run(move |conn| {
        let all = campaigns(conn)?;
        let chosen = choose(&q, &all, conn);
        let result = match (&chosen, asked) {
            (Ok(c), true) => Some(validate_address(&q).and_then(|a| resolve(conn, c, &a))),
            (Err(e), true) => Some(Err(e.clone())),
            _ => None,
        };
        Ok(LookupPage { grade: chosen.ok().map(|c| c.grade).unwrap_or(1), campaigns: all, result })
    })
    .await
}
