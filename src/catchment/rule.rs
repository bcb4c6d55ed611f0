//! Catchment rules (划片规则) and address resolution.
//!
//! # Ordering of matches
//! Every rule that matches an address is returned, ordered by
//! 1. `precedence`, **larger first** (default 0; a rule with precedence 10 overrides
//!    one with 0 — 数值越大越优先);
//! 2. specificity, most specific first ([`Specificity`]):
//!    compound with a building/number range > compound > street with a number range
//!    or an odd/even side > whole street > community > township > polygon;
//!    a street rule restricted to a community ranks above the same rule without;
//! 3. for polygons, smaller area first;
//! 4. rule id, ascending byte order.
//!
//! The first match wins. When the first two matches tie on precedence and
//! specificity but name different targets, the resolution is flagged
//! `ambiguous` (the lint reports such pairs as errors).
//!
//! # Matching
//! Names are compared with the keys in [`crate::catchment::address`]
//! (whitespace- and width-insensitive; township/community/compound suffixes
//! optional). Every rule except a polygon requires the address's township.
//! A street rule with a number range or an odd/even side needs a house number;
//! a whole-road rule (no range, both sides) matches without one. A compound rule
//! with a range compares the building's leading number (`3栋` → 3) when the
//! address has one, else the house number. Polygons match only when a point is
//! supplied (see [`crate::catchment::geo`] for the boundary rule).

use super::address::{community_key, compound_key, name_key, non_empty, township_key, Address};
use super::geo::{GeoPoint, MultiPolygon};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which side of a road a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Parity {
    Odd,
    Even,
    #[default]
    All,
}

impl Parity {
    pub fn admits(self, n: u32) -> bool {
        match self {
            Parity::Odd => n % 2 == 1,
            Parity::Even => n % 2 == 0,
            Parity::All => true,
        }
    }
    /// Chinese label: 单号 / 双号 / 全部.
    pub fn label(self) -> &'static str {
        match self {
            Parity::Odd => "单号",
            Parity::Even => "双号",
            Parity::All => "全部",
        }
    }
    /// Parse 单/单号/odd, 双/双号/even, 全部/单双号/all/empty.
    pub fn parse(s: &str) -> Option<Parity> {
        match name_key(s).as_str() {
            "单" | "单号" | "odd" => Some(Parity::Odd),
            "双" | "双号" | "even" => Some(Parity::Even),
            "" | "全" | "全部" | "单双号" | "单双" | "all" => Some(Parity::All),
            _ => None,
        }
    }
    /// The parity both sides share, if any.
    pub fn intersect(self, other: Parity) -> Option<Parity> {
        match (self, other) {
            (Parity::All, p) | (p, Parity::All) => Some(p),
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}

/// What a rule describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RuleKind {
    /// A road, optionally within one community, optionally a number range
    /// (inclusive; either end open) and one side.
    Street {
        township: String,
        #[serde(default)]
        community: Option<String>,
        road: String,
        #[serde(default)]
        from: Option<u32>,
        #[serde(default)]
        to: Option<u32>,
        #[serde(default)]
        parity: Parity,
    },
    /// A residential compound, optionally a building/number range (inclusive).
    Compound {
        township: String,
        name: String,
        #[serde(default)]
        from: Option<u32>,
        #[serde(default)]
        to: Option<u32>,
    },
    /// A whole community or village.
    Community { township: String, community: String },
    /// A whole township.
    Township { township: String },
    /// A map area in WGS-84.
    Polygon { area: MultiPolygon },
}

/// Where a rule sends a child: one school, or a zone of several schools.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Target {
    School(String),
    Zone(String),
}

impl Target {
    pub fn id(&self) -> &str {
        match self {
            Target::School(s) | Target::Zone(s) => s,
        }
    }
}

/// One catchment rule of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatchmentRule {
    pub id: String,
    pub kind: RuleKind,
    pub target: Target,
    /// Larger wins; see the module docs.
    #[serde(default)]
    pub precedence: i32,
    #[serde(default)]
    pub note: Option<String>,
}

/// How specific a rule is; larger is more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Specificity {
    Polygon = 0,
    Township = 1,
    Community = 2,
    WholeStreet = 3,
    WholeStreetInCommunity = 4,
    StreetRange = 5,
    StreetRangeInCommunity = 6,
    Compound = 7,
    CompoundRange = 8,
}

impl Specificity {
    pub fn label(self) -> &'static str {
        match self {
            Specificity::Polygon => "地图范围",
            Specificity::Township => "整个乡镇",
            Specificity::Community => "整个社区（村）",
            Specificity::WholeStreet => "整条道路",
            Specificity::WholeStreetInCommunity => "社区内整条道路",
            Specificity::StreetRange => "道路门牌区间",
            Specificity::StreetRangeInCommunity => "社区内道路门牌区间",
            Specificity::Compound => "小区",
            Specificity::CompoundRange => "小区楼栋区间",
        }
    }
}

/// Names of schools and zones, and the schools of a zone. The DB layer
/// implements this over its tables; [`StaticDirectory`] is an in-memory one.
pub trait Directory {
    fn school_name(&self, school_id: &str) -> Option<String>;
    fn zone_name(&self, zone_id: &str) -> Option<String>;
    /// The schools of a zone, in a stable order (empty when unknown).
    fn zone_schools(&self, zone_id: &str) -> Vec<String>;

    /// Display name of a target, falling back to its id.
    fn target_name(&self, t: &Target) -> String {
        match t {
            Target::School(id) => self.school_name(id).unwrap_or_else(|| id.clone()),
            Target::Zone(id) => self.zone_name(id).unwrap_or_else(|| id.clone()),
        }
    }
    /// The schools a target stands for.
    fn target_schools(&self, t: &Target) -> Vec<String> {
        match t {
            Target::School(id) => vec![id.clone()],
            Target::Zone(id) => self.zone_schools(id),
        }
    }
}

/// A zone in a [`StaticDirectory`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneInfo {
    pub name: String,
    pub schools: Vec<String>,
}

/// An in-memory [`Directory`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaticDirectory {
    pub schools: BTreeMap<String, String>,
    pub zones: BTreeMap<String, ZoneInfo>,
}

impl StaticDirectory {
    pub fn school(mut self, id: &str, name: &str) -> Self {
        self.schools.insert(id.into(), name.into());
        self
    }
    pub fn zone(mut self, id: &str, name: &str, schools: &[&str]) -> Self {
        self.zones.insert(id.into(), ZoneInfo { name: name.into(), schools: schools.iter().map(|s| s.to_string()).collect() });
        self
    }
}

impl Directory for StaticDirectory {
    fn school_name(&self, id: &str) -> Option<String> {
        self.schools.get(id).cloned()
    }
    fn zone_name(&self, id: &str) -> Option<String> {
        self.zones.get(id).map(|z| z.name.clone())
    }
    fn zone_schools(&self, id: &str) -> Vec<String> {
        self.zones.get(id).map(|z| z.schools.clone()).unwrap_or_default()
    }
}

/// A number range rendered in Chinese: `101–199 号单号`, `101 号及以上`,
/// `199 号及以下`, `全路段`, `双号`.
pub fn range_label(from: Option<u32>, to: Option<u32>, parity: Parity) -> String {
    let side = match parity {
        Parity::All => "",
        p => p.label(),
    };
    match (from, to) {
        (Some(a), Some(b)) => format!("{a}–{b} 号{side}"),
        (Some(a), None) => format!("{a} 号及以上{side}"),
        (None, Some(b)) => format!("{b} 号及以下{side}"),
        (None, None) if parity == Parity::All => "全路段".to_string(),
        (None, None) => side.to_string(),
    }
}

fn in_range(n: u32, from: Option<u32>, to: Option<u32>) -> bool {
    from.map_or(true, |f| n >= f) && to.map_or(true, |t| n <= t)
}

impl CatchmentRule {
    pub fn specificity(&self) -> Specificity {
        match &self.kind {
            RuleKind::Street { community, from, to, parity, .. } => {
                let ranged = from.is_some() || to.is_some() || *parity != Parity::All;
                match (ranged, non_empty(community).is_some()) {
                    (true, true) => Specificity::StreetRangeInCommunity,
                    (true, false) => Specificity::StreetRange,
                    (false, true) => Specificity::WholeStreetInCommunity,
                    (false, false) => Specificity::WholeStreet,
                }
            }
            RuleKind::Compound { from, to, .. } => {
                if from.is_some() || to.is_some() {
                    Specificity::CompoundRange
                } else {
                    Specificity::Compound
                }
            }
            RuleKind::Community { .. } => Specificity::Community,
            RuleKind::Township { .. } => Specificity::Township,
            RuleKind::Polygon { .. } => Specificity::Polygon,
        }
    }

    /// The township a rule belongs to (None for polygons).
    pub fn township(&self) -> Option<&str> {
        match &self.kind {
            RuleKind::Street { township, .. }
            | RuleKind::Compound { township, .. }
            | RuleKind::Community { township, .. }
            | RuleKind::Township { township } => Some(township),
            RuleKind::Polygon { .. } => None,
        }
    }

    /// Does this rule cover the address (or, for a polygon, the point)?
    pub fn matches(&self, addr: &Address, point: Option<GeoPoint>) -> bool {
        if let RuleKind::Polygon { area } = &self.kind {
            return point.is_some_and(|p| area.contains(p));
        }
        let Some(at) = non_empty(&addr.township) else {
            return false;
        };
        if township_key(at) != township_key(self.township().unwrap_or_default()) {
            return false;
        }
        match &self.kind {
            RuleKind::Street { community, road, from, to, parity, .. } => {
                if let Some(c) = non_empty(community) {
                    match non_empty(&addr.community) {
                        Some(ac) if community_key(ac) == community_key(c) => {}
                        _ => return false,
                    }
                }
                match non_empty(&addr.road) {
                    Some(r) if name_key(r) == name_key(road) => {}
                    _ => return false,
                }
                let ranged = from.is_some() || to.is_some() || *parity != Parity::All;
                match addr.number {
                    Some(n) => parity.admits(n) && in_range(n, *from, *to),
                    None => !ranged,
                }
            }
            RuleKind::Compound { name, from, to, .. } => {
                match non_empty(&addr.compound) {
                    Some(c) if compound_key(c) == compound_key(name) => {}
                    _ => return false,
                }
                if from.is_none() && to.is_none() {
                    return true;
                }
                match addr.building_number().or(addr.number) {
                    Some(n) => in_range(n, *from, *to),
                    None => false,
                }
            }
            RuleKind::Community { community, .. } => {
                matches!(non_empty(&addr.community), Some(ac) if community_key(ac) == community_key(community))
            }
            RuleKind::Township { .. } => true,
            RuleKind::Polygon { .. } => unreachable!(),
        }
    }

    /// The Chinese chain for this rule applied to `addr`, e.g.
    /// `凤城镇 → 东岳社区 → 二环路 101–199 号单号 → 安溪县实验小学`.
    pub fn explain(&self, addr: &Address, dir: &dyn Directory) -> String {
        let mut parts: Vec<String> = Vec::new();
        match &self.kind {
            RuleKind::Street { township, community, road, from, to, parity } => {
                parts.push(township.clone());
                if let Some(c) = non_empty(community).or(non_empty(&addr.community)) {
                    parts.push(c.to_string());
                }
                parts.push(format!("{road} {}", range_label(*from, *to, *parity)));
            }
            RuleKind::Compound { township, name, from, to } => {
                parts.push(township.clone());
                if let Some(c) = non_empty(&addr.community) {
                    parts.push(c.to_string());
                }
                match (from, to) {
                    (None, None) => parts.push(format!("{name}（全部楼栋）")),
                    _ => parts.push(format!("{name}（{}）", range_label(*from, *to, Parity::All))),
                }
            }
            RuleKind::Community { township, community } => {
                parts.push(township.clone());
                parts.push(format!("{community}（全社区/村）"));
            }
            RuleKind::Township { township } => parts.push(format!("{township}（全镇）")),
            RuleKind::Polygon { .. } => parts.push(format!("地图划定范围（规则 {}）", self.id)),
        }
        parts.push(dir.target_name(&self.target));
        parts.join(" → ")
    }

    /// A short Chinese description of the rule's area, without the target.
    pub fn describe_area(&self) -> String {
        match &self.kind {
            RuleKind::Street { township, community, road, from, to, parity } => {
                let c = non_empty(community).unwrap_or_default();
                format!("{township}{c}{road} {}", range_label(*from, *to, *parity))
            }
            RuleKind::Compound { township, name, from, to } => match (from, to) {
                (None, None) => format!("{township}{name}"),
                _ => format!("{township}{name}（{}）", range_label(*from, *to, Parity::All)),
            },
            RuleKind::Community { township, community } => format!("{township}{community}"),
            RuleKind::Township { township } => format!("{township}（全镇）"),
            RuleKind::Polygon { .. } => format!("地图范围（规则 {}）", self.id),
        }
    }
}

/// One rule that matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleMatch {
    pub rule_id: String,
    pub target: Target,
    pub target_name: String,
    pub precedence: i32,
    pub specificity: Specificity,
    /// The Chinese chain for this rule.
    pub explanation: String,
}

/// The outcome of [`resolve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// All matching rules, best first.
    pub matches: Vec<RuleMatch>,
    /// The first of `matches`.
    pub winner: Option<RuleMatch>,
    /// True when the two best matches tie on precedence and specificity but
    /// name different targets.
    pub ambiguous: bool,
    /// The winner's chain, or a Chinese sentence saying nothing matched.
    pub explanation: String,
}

/// Sort key of a matching rule (see the module docs).
fn order_key(r: &CatchmentRule) -> (i32, Specificity, f64, &str) {
    let area = match &r.kind {
        RuleKind::Polygon { area } => area.area(),
        _ => 0.0,
    };
    (r.precedence, r.specificity(), area, r.id.as_str())
}

/// Order rules best first: precedence desc, specificity desc, area asc, id asc.
pub fn compare_rules(a: &CatchmentRule, b: &CatchmentRule) -> std::cmp::Ordering {
    let (pa, sa, aa, ia) = order_key(a);
    let (pb, sb, ab, ib) = order_key(b);
    pb.cmp(&pa).then(sb.cmp(&sa)).then(aa.partial_cmp(&ab).unwrap_or(std::cmp::Ordering::Equal)).then(ia.cmp(ib))
}

/// Resolve an address (and optionally a WGS-84 point) against a rule set.
pub fn resolve(rules: &[CatchmentRule], addr: &Address, point: Option<GeoPoint>, dir: &dyn Directory) -> Resolution {
    let mut hits: Vec<&CatchmentRule> = rules.iter().filter(|r| r.matches(addr, point)).collect();
    hits.sort_by(|a, b| compare_rules(a, b));
    let matches: Vec<RuleMatch> = hits
        .iter()
        .map(|r| RuleMatch {
            rule_id: r.id.clone(),
            target: r.target.clone(),
            target_name: dir.target_name(&r.target),
            precedence: r.precedence,
            specificity: r.specificity(),
            explanation: r.explain(addr, dir),
        })
        .collect();
    let ambiguous = matches.len() >= 2
        && matches[0].precedence == matches[1].precedence
        && matches[0].specificity == matches[1].specificity
        && matches[0].target != matches[1].target;
    let winner = matches.first().cloned();
    let explanation = match &winner {
        Some(w) if ambiguous => format!(
            "{}（注意：规则 {} 与 {} 优先级和具体程度相同但指向不同学校，请核查）",
            w.explanation, matches[0].rule_id, matches[1].rule_id
        ),
        Some(w) => w.explanation.clone(),
        None => {
            let shown = addr.display();
            if shown.is_empty() {
                "未提供地址，无法匹配学区".to_string()
            } else {
                format!("地址「{shown}」未匹配到任何划片规则，需由教育局统筹安排")
            }
        }
    };
    Resolution { matches, winner, ambiguous, explanation }
}

/// Known names from a rule set, to help [`crate::catchment::parse_address_with`].
impl super::address::Gazetteer {
    pub fn from_rules(rules: &[CatchmentRule]) -> Self {
        let mut g = super::address::Gazetteer::default();
        fn add(v: &mut Vec<String>, s: &str) {
            if !s.trim().is_empty() && !v.iter().any(|x| x == s) {
                v.push(s.to_string());
            }
        }
        for r in rules {
            if let Some(t) = r.township() {
                add(&mut g.townships, t);
            }
            match &r.kind {
                RuleKind::Street { community, road, .. } => {
                    if let Some(c) = non_empty(community) {
                        add(&mut g.communities, c);
                    }
                    add(&mut g.roads, road);
                }
                RuleKind::Compound { name, .. } => add(&mut g.compounds, name),
                RuleKind::Community { community, .. } => add(&mut g.communities, community),
                _ => {}
            }
        }
        g
    }
}
