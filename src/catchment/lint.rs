//! Checks on a rule set, and the year-to-year diff of two rule sets.
//!
//! Findings ([`lint_rules`]):
//! - **Conflict** (error): two rules can match one address, name different
//!   targets, and tie on precedence *and* specificity — the address would be
//!   served by two schools and only the rule id decides. Street ranges on one
//!   road (overlapping ranges whose sides intersect) and compounds with the same
//!   name (overlapping building ranges) are compared; also identical
//!   community / township rules.
//! - **Override** (warning): as above but the specificities differ (e.g. a whole
//!   road and a range on it); resolution is well defined (the more specific rule
//!   wins) but staff should confirm it is intended.
//! - **Overlap** (warning): overlapping rules with the same target (redundant).
//! - **Gap** (warning): on a road with number-range rules, a stretch of one side
//!   between covered stretches that no rule covers; or one side with no rule at
//!   all while the other side has rules.
//! - **UncoveredCommunity** (warning): a community in the supplied list with no
//!   Community rule, no Township rule for its township, and no Street rule
//!   naming it.
//! - **DuplicateId** / **EmptyRange** (error).
//!
//! Streets are grouped by (township, road) using the name keys of
//! [`crate::catchment::address`]; two street rules restricted to different
//! communities never overlap.

use super::address::{community_key, compound_key, name_key, non_empty, township_key, Address};
use super::rule::{resolve, CatchmentRule, Directory, Parity, RuleKind, Target};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LintKind {
    Conflict,
    Override,
    Overlap,
    Gap,
    UncoveredCommunity,
    DuplicateId,
    EmptyRange,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding, with a Chinese message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    pub kind: LintKind,
    pub severity: Severity,
    /// Rules involved (empty for uncovered communities).
    pub rule_ids: Vec<String>,
    /// For gaps: the road side and the uncovered stretch (inclusive).
    pub gap: Option<GapInfo>,
    pub message: String,
}

/// An uncovered stretch of a road side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapInfo {
    pub township: String,
    pub road: String,
    pub parity: Parity,
    /// `None` for a side with no rule at all.
    pub from: Option<u32>,
    pub to: Option<u32>,
}

const INF: u32 = u32::MAX;

/// Smallest number ≥ `lo` with parity `p` that is ≤ `hi`.
fn first_with(p: Parity, lo: u32, hi: u32) -> Option<u32> {
    let n = match p {
        Parity::All => lo,
        _ if p.admits(lo) => lo,
        _ => lo.checked_add(1)?,
    };
    (n <= hi).then_some(n)
}

/// Largest number ≤ `hi` with parity `p` that is ≥ `lo`.
fn last_with(p: Parity, lo: u32, hi: u32) -> Option<u32> {
    let n = match p {
        Parity::All => hi,
        _ if p.admits(hi) => hi,
        _ => hi.checked_sub(1)?,
    };
    (n >= lo).then_some(n)
}

fn span(from: Option<u32>, to: Option<u32>) -> (u32, u32) {
    (from.unwrap_or(1), to.unwrap_or(INF))
}

fn fmt_stretch(a: u32, b: u32) -> String {
    if b == INF {
        format!("{a} 号及以上")
    } else if a == b {
        format!("{a} 号")
    } else {
        format!("{a}–{b} 号")
    }
}

/// Run every check. `communities` is the bureau's list of (township, community)
/// pairs that must be covered (may be empty).
pub fn lint_rules(rules: &[CatchmentRule], communities: &[(String, String)], dir: &dyn Directory) -> Vec<LintFinding> {
    let mut out = Vec::new();
    let name = |t: &Target| dir.target_name(t);

    // duplicate ids
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for r in rules {
        *ids.entry(r.id.as_str()).or_default() += 1;
    }
    let mut dups: Vec<_> = ids.into_iter().filter(|(_, n)| *n > 1).collect();
    dups.sort();
    for (id, n) in dups {
        out.push(LintFinding {
            kind: LintKind::DuplicateId,
            severity: Severity::Error,
            rule_ids: vec![id.to_string()],
            gap: None,
            message: format!("规则编号「{id}」出现了 {n} 次"),
        });
    }

    // empty ranges
    for r in rules {
        let (from, to, parity) = match &r.kind {
            RuleKind::Street { from, to, parity, .. } => (*from, *to, *parity),
            RuleKind::Compound { from, to, .. } => (*from, *to, Parity::All),
            _ => continue,
        };
        let (a, b) = span(from, to);
        if first_with(parity, a, b).is_none() {
            out.push(LintFinding {
                kind: LintKind::EmptyRange,
                severity: Severity::Error,
                rule_ids: vec![r.id.clone()],
                gap: None,
                message: format!("规则 {}（{}）不包含任何门牌号", r.id, r.describe_area()),
            });
        }
    }

    // pairwise overlaps
    for (i, a) in rules.iter().enumerate() {
        for b in &rules[i + 1..] {
            let Some(area) = overlap(a, b) else { continue };
            let (kind, severity, msg) = if a.target == b.target {
                (LintKind::Overlap, Severity::Warning, format!("{area} 被规则 {} 与 {} 重复覆盖（均划入 {}）", a.id, b.id, name(&a.target)))
            } else if a.precedence != b.precedence {
                continue; // explicit precedence decides: intended override
            } else if a.specificity() == b.specificity() {
                (
                    LintKind::Conflict,
                    Severity::Error,
                    format!(
                        "{area} 同时划入 {}（规则 {}）与 {}（规则 {}），且优先级相同（{}），无法确定学校",
                        name(&a.target),
                        a.id,
                        name(&b.target),
                        b.id,
                        a.precedence
                    ),
                )
            } else {
                let (win, lose) = if a.specificity() > b.specificity() { (a, b) } else { (b, a) };
                (
                    LintKind::Override,
                    Severity::Warning,
                    format!(
                        "{area} 同时被规则 {}（{}）与 {}（{}）覆盖，优先级相同（{}），按具体程度由规则 {}（{}）决定，请确认",
                        a.id,
                        name(&a.target),
                        b.id,
                        name(&b.target),
                        a.precedence,
                        win.id,
                        win.specificity().label()
                    ) + &format!("；规则 {} 在该范围内不生效", lose.id),
                )
            };
            let mut ids = vec![a.id.clone(), b.id.clone()];
            ids.sort();
            out.push(LintFinding { kind, severity, rule_ids: ids, gap: None, message: msg });
        }
    }

    out.extend(find_gaps(rules));

    // uncovered communities
    for (town, comm) in communities {
        let tk = township_key(town);
        let ck = community_key(comm);
        let covered = rules.iter().any(|r| match &r.kind {
            RuleKind::Township { township } => township_key(township) == tk,
            RuleKind::Community { township, community } => township_key(township) == tk && community_key(community) == ck,
            RuleKind::Street { township, community, .. } => {
                township_key(township) == tk && non_empty(community).map(community_key) == Some(ck.clone())
            }
            _ => false,
        });
        if !covered {
            out.push(LintFinding {
                kind: LintKind::UncoveredCommunity,
                severity: Severity::Warning,
                rule_ids: vec![],
                gap: None,
                message: format!("{town}{comm} 没有被任何规则覆盖（地图范围规则未计入）"),
            });
        }
    }
    out.sort_by(|a, b| a.severity.cmp(&b.severity).then(a.kind.cmp(&b.kind)).then(a.rule_ids.cmp(&b.rule_ids)));
    out
}

/// A Chinese description of the area two rules share, if they overlap.
fn overlap(a: &CatchmentRule, b: &CatchmentRule) -> Option<String> {
    use RuleKind::*;
    match (&a.kind, &b.kind) {
        (
            Street { township: ta, community: ca, road: ra, from: fa, to: toa, parity: pa },
            Street { township: tb, community: cb, road: rb, from: fb, to: tob, parity: pb },
        ) => {
            if township_key(ta) != township_key(tb) || name_key(ra) != name_key(rb) {
                return None;
            }
            if let (Some(x), Some(y)) = (non_empty(ca), non_empty(cb)) {
                if community_key(x) != community_key(y) {
                    return None;
                }
            }
            let p = pa.intersect(*pb)?;
            let (a1, b1) = span(*fa, *toa);
            let (a2, b2) = span(*fb, *tob);
            let (lo, hi) = (a1.max(a2), b1.min(b2));
            let first = first_with(p, lo, hi)?;
            let last = last_with(p, lo, hi)?;
            let side = if p == Parity::All { String::new() } else { p.label().to_string() };
            let comm = non_empty(ca).or(non_empty(cb)).unwrap_or("");
            Some(format!("{ta}{comm}{ra} {}{side}", fmt_stretch(first, last)))
        }
        (Compound { township: ta, name: na, from: fa, to: toa }, Compound { township: tb, name: nb, from: fb, to: tob }) => {
            if township_key(ta) != township_key(tb) || compound_key(na) != compound_key(nb) {
                return None;
            }
            let (a1, b1) = span(*fa, *toa);
            let (a2, b2) = span(*fb, *tob);
            let (lo, hi) = (a1.max(a2), b1.min(b2));
            if lo > hi {
                return None;
            }
            if fa.is_none() && toa.is_none() && fb.is_none() && tob.is_none() {
                Some(format!("{ta}{na}"))
            } else {
                Some(format!("{ta}{na}（{}）", fmt_stretch(lo, hi)))
            }
        }
        (Community { township: ta, community: ca }, Community { township: tb, community: cb }) => {
            (township_key(ta) == township_key(tb) && community_key(ca) == community_key(cb)).then(|| format!("{ta}{ca}"))
        }
        (Township { township: ta }, Township { township: tb }) => (township_key(ta) == township_key(tb)).then(|| format!("{ta}（全镇）")),
        _ => None,
    }
}

#[allow(clippy::type_complexity)]
fn find_gaps(rules: &[CatchmentRule]) -> Vec<LintFinding> {
    // (township key, road key) → (display township, display road, [(from,to,parity,id)])
    let mut roads: BTreeMap<(String, String), (String, String, Vec<(u32, u32, Parity, String)>)> = BTreeMap::new();
    for r in rules {
        if let RuleKind::Street { township, road, from, to, parity, .. } = &r.kind {
            let e = roads.entry((township_key(township), name_key(road))).or_insert_with(|| (township.clone(), road.clone(), Vec::new()));
            let (a, b) = span(*from, *to);
            e.2.push((a, b, *parity, r.id.clone()));
        }
    }
    let mut out = Vec::new();
    for (_, (town, road, segs)) in roads {
        // a road with only whole-road rules has nothing to check
        if segs.iter().all(|s| s.0 == 1 && s.1 == INF && s.2 == Parity::All) {
            continue;
        }
        // the stretch of the road the rules cover at all, either side
        let lo = segs.iter().map(|s| s.0).min().unwrap_or(1);
        let hi = segs.iter().map(|s| s.1).max().unwrap_or(INF);
        let mut sides: Vec<(Parity, Vec<(u32, u32, String)>)> = Vec::new();
        for side in [Parity::Odd, Parity::Even] {
            let mut iv: Vec<(u32, u32, String)> = segs
                .iter()
                .filter(|s| s.2.intersect(side).is_some())
                .filter_map(|s| Some((first_with(side, s.0, s.1)?, last_with(side, s.0, s.1)?, s.3.clone())))
                .collect();
            iv.sort();
            sides.push((side, iv));
        }
        let all_ids: Vec<String> = {
            let mut v: Vec<String> = segs.iter().map(|s| s.3.clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        for (side, iv) in &sides {
            let side = *side;
            if iv.is_empty() {
                out.push(LintFinding {
                    kind: LintKind::Gap,
                    severity: Severity::Warning,
                    rule_ids: all_ids.clone(),
                    gap: Some(GapInfo { township: town.clone(), road: road.clone(), parity: side, from: None, to: None }),
                    message: format!("{town}{road} {}一侧没有任何规则覆盖（另一侧已划片）", side.label()),
                });
                continue;
            }
            let mut push_gap = |g1: u32, g2: u32, before: Option<&String>, after: Option<&String>| {
                let mut ids: Vec<String> = before.into_iter().chain(after).cloned().collect();
                ids.sort();
                ids.dedup();
                let between = match (before, after) {
                    (Some(b), Some(a)) => format!("位于规则 {b} 与 {a} 之间"),
                    (Some(b), None) => format!("位于规则 {b} 之后，本路其他路段已划片"),
                    (None, Some(a)) => format!("位于规则 {a} 之前，本路其他路段已划片"),
                    (None, None) => String::new(),
                };
                out.push(LintFinding {
                    kind: LintKind::Gap,
                    severity: Severity::Warning,
                    rule_ids: ids,
                    gap: Some(GapInfo {
                        township: town.clone(),
                        road: road.clone(),
                        parity: side,
                        from: Some(g1),
                        to: (g2 != INF).then_some(g2),
                    }),
                    message: format!("{town}{road} {}{} 未被任何规则覆盖（{between}）", fmt_stretch(g1, g2), side.label()),
                });
            };
            // `need`: the next number of this side not yet covered
            let mut need = first_with(side, lo, hi);
            let mut prev: Option<&String> = None;
            for (a, b, id) in iv {
                if let Some(n) = need {
                    if *a > n {
                        push_gap(n, a - 2, prev, Some(id));
                    }
                    if *b >= n {
                        need = if *b >= INF - 1 { None } else { first_with(side, b + 1, hi) };
                        prev = Some(id);
                    }
                }
            }
            if let Some(n) = need {
                if let Some(last) = last_with(side, n, hi) {
                    push_gap(n, last, prev, None);
                }
            }
        }
    }
    out
}

// ------------------------------------------------------------------ diff

/// How one rule (same id) differs between two years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedRule {
    pub id: String,
    pub old: CatchmentRule,
    pub new: CatchmentRule,
    /// Chinese descriptions of the changed fields.
    pub changes: Vec<String>,
}

/// A stretch of a road whose winning target changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoadChange {
    pub township: String,
    pub community: Option<String>,
    pub road: String,
    pub parity: Parity,
    pub from: u32,
    /// `None` = open end.
    pub to: Option<u32>,
    pub old_target: Option<Target>,
    pub new_target: Option<Target>,
    pub message: String,
}

/// Year-to-year differences between two rule sets (rules matched by id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleDiff {
    pub added: Vec<CatchmentRule>,
    pub removed: Vec<CatchmentRule>,
    pub changed: Vec<ChangedRule>,
    pub road_changes: Vec<RoadChange>,
    /// Every finding as one Chinese line, in the order above.
    pub messages: Vec<String>,
}

/// Compare last year's rules (`old`) with this year's (`new`).
///
/// Rules are paired by id. Road changes are computed independently of ids: for
/// every (township, road) with street rules in either set, the road is cut at
/// every range boundary of both sets, and each stretch and side (odd / even) is
/// resolved against each set's rules (all kinds, for an address with that road and
/// number, with and without each community named by the road's rules); stretches
/// whose winning target differs are reported, adjacent ones merged.
#[allow(clippy::type_complexity)]
pub fn diff_rules(old: &[CatchmentRule], new: &[CatchmentRule], dir: &dyn Directory) -> RuleDiff {
    let old_by: BTreeMap<&str, &CatchmentRule> = old.iter().map(|r| (r.id.as_str(), r)).collect();
    let new_by: BTreeMap<&str, &CatchmentRule> = new.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut messages = Vec::new();
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut changed = Vec::new();
    for (id, r) in &new_by {
        if !old_by.contains_key(id) {
            messages.push(format!("新增规则 {id}：{} → {}", r.describe_area(), dir.target_name(&r.target)));
            added.push((*r).clone());
        }
    }
    for (id, r) in &old_by {
        if !new_by.contains_key(id) {
            messages.push(format!("删除规则 {id}：{} → {}", r.describe_area(), dir.target_name(&r.target)));
            removed.push((*r).clone());
        }
    }
    for (id, o) in &old_by {
        let Some(n) = new_by.get(id) else { continue };
        if o == n {
            continue;
        }
        let mut changes = Vec::new();
        if o.kind != n.kind {
            changes.push(format!("范围：{} → {}", o.describe_area(), n.describe_area()));
        }
        if o.target != n.target {
            changes.push(format!("划入：{} → {}", dir.target_name(&o.target), dir.target_name(&n.target)));
        }
        if o.precedence != n.precedence {
            changes.push(format!("优先级：{} → {}", o.precedence, n.precedence));
        }
        if o.note != n.note {
            changes.push(format!("备注：「{}」→「{}」", o.note.clone().unwrap_or_default(), n.note.clone().unwrap_or_default()));
        }
        messages.push(format!("修改规则 {id}：{}", changes.join("；")));
        changed.push(ChangedRule { id: id.to_string(), old: (*o).clone(), new: (*n).clone(), changes });
    }

    // road changes
    let mut roads: BTreeMap<(String, String), (String, String, BTreeSet<u32>, BTreeSet<Option<String>>)> = BTreeMap::new();
    for r in old.iter().chain(new.iter()) {
        if let RuleKind::Street { township, community, road, from, to, .. } = &r.kind {
            let e = roads
                .entry((township_key(township), name_key(road)))
                .or_insert_with(|| (township.clone(), road.clone(), BTreeSet::from([1]), BTreeSet::from([None])));
            if let Some(f) = from {
                e.2.insert(*f);
            }
            if let Some(t) = to {
                if *t < INF {
                    e.2.insert(t + 1);
                }
            }
            if let Some(c) = non_empty(community) {
                e.3.insert(Some(c.to_string()));
            }
        }
    }
    let mut road_changes = Vec::new();
    for (_, (town, road, cuts, comms)) in roads {
        let cuts: Vec<u32> = cuts.into_iter().collect();
        for comm in &comms {
            for side in [Parity::Odd, Parity::Even] {
                let mut pending: Option<RoadChange> = None;
                for (k, &start) in cuts.iter().enumerate() {
                    let end = cuts.get(k + 1).map(|n| n - 1);
                    let Some(probe) = first_with(side, start, end.unwrap_or(INF)) else {
                        continue;
                    };
                    let mut addr = Address::street(&town, &road, Some(probe));
                    addr.community = comm.clone();
                    let o = resolve(old, &addr, None, dir).winner.map(|w| w.target);
                    let n = resolve(new, &addr, None, dir).winner.map(|w| w.target);
                    if o == n {
                        if let Some(p) = pending.take() {
                            road_changes.push(p);
                        }
                        continue;
                    }
                    match &mut pending {
                        Some(p) if p.old_target == o && p.new_target == n => p.to = end,
                        _ => {
                            if let Some(p) = pending.take() {
                                road_changes.push(p);
                            }
                            pending = Some(RoadChange {
                                township: town.clone(),
                                community: comm.clone(),
                                road: road.clone(),
                                parity: side,
                                from: start,
                                to: end,
                                old_target: o,
                                new_target: n,
                                message: String::new(),
                            });
                        }
                    }
                }
                if let Some(p) = pending.take() {
                    road_changes.push(p);
                }
            }
        }
    }
    // drop community-specific changes that merely repeat the community-less ones
    let plain: Vec<RoadChange> = road_changes.iter().filter(|c| c.community.is_none()).cloned().collect();
    road_changes.retain(|c| {
        c.community.is_none()
            || !plain.iter().any(|p| {
                p.township == c.township
                    && p.road == c.road
                    && p.parity == c.parity
                    && p.from == c.from
                    && p.to == c.to
                    && p.old_target == c.old_target
                    && p.new_target == c.new_target
            })
    });
    let tn = |t: &Option<Target>| t.as_ref().map(|t| dir.target_name(t)).unwrap_or_else(|| "（未划片）".into());
    for c in &mut road_changes {
        let first = first_with(c.parity, c.from, c.to.unwrap_or(INF)).unwrap_or(c.from);
        let last = c.to.and_then(|t| last_with(c.parity, c.from, t));
        let stretch = match last {
            Some(l) => format!("{first}–{l} 号"),
            None => format!("{first} 号及以上"),
        };
        let comm = c.community.clone().unwrap_or_default();
        c.message = format!(
            "道路学校变化：{}{comm}{} {stretch}{}：{} → {}",
            c.township,
            c.road,
            c.parity.label(),
            tn(&c.old_target),
            tn(&c.new_target)
        );
        messages.push(c.message.clone());
    }
    RuleDiff { added, removed, changed, road_changes, messages }
}
