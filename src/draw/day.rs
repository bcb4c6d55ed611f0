//! Draw day (draw-v1 §10): the pieces of a draw input that the service
//! assembles step by step — the frozen roster and its root (step 1), the
//! announcement with the witnesses' commitments and the beacon round that
//! does not exist yet (steps 2–3), and the input once every source value is
//! revealed (step 5). Pure: the caller passes in times, values and rows.

use super::beacon::{QUICKNET_CHAIN_HASH, QUICKNET_GENESIS_TIME, QUICKNET_PERIOD};
use super::cjson::CVal;
use super::{input, merkle, DrawError};
use std::collections::{BTreeMap, HashMap};

/// The source name of the public beacon (beacon-drand.md).
pub const BEACON_SOURCE: &str = "beacon";

/// One approved application as the frozen roster holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The registration number.
    pub id: String,
    /// Twins and multiple births: the registration number of one of them.
    pub family: Option<String>,
    /// Schools in the child's order of preference, each with its priority
    /// key (smaller is better).
    pub prefs: Vec<(String, Vec<i64>)>,
}

/// A frozen roster: its canonical bytes, root and size (spec §2–3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen {
    /// `CJSON(roster)`, the array.
    pub roster_json: Vec<u8>,
    pub root: String,
    pub size: usize,
}

fn ints(k: &[i64]) -> CVal {
    CVal::Arr(k.iter().map(|&n| CVal::Int(n)).collect())
}

/// Family ids the spec accepts: a family is named by the id of one of its
/// members present in this roster. A family whose named member is absent
/// (not approved, or in another draw) is renamed to its smallest present
/// member; a family of one is no family.
fn families(entries: &[Entry]) -> HashMap<String, String> {
    let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in entries {
        if let Some(f) = &e.family {
            members.entry(f.as_str()).or_default().push(e.id.as_str());
        }
    }
    let mut out = HashMap::new();
    for (f, ids) in members {
        if ids.len() < 2 {
            continue;
        }
        let name = if ids.contains(&f) { f.to_string() } else { ids.iter().min().map(|s| s.to_string()).unwrap_or_default() };
        for id in ids {
            out.insert(id.to_string(), name.clone());
        }
    }
    out
}

/// Freeze a roster: sort by id (byte order), normalise families, write
/// `CJSON(roster)` and compute the RFC 6962 root over its entries.
pub fn freeze(mut entries: Vec<Entry>) -> Result<Frozen, DrawError> {
    if entries.is_empty() {
        return Err(DrawError::invalid("roster", "no approved applications: nothing to freeze"));
    }
    entries.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
    for (i, w) in entries.windows(2).enumerate() {
        if w[0].id == w[1].id {
            return Err(DrawError::invalid(format!("roster[{}]", i + 1), format!("registration number {} twice", w[1].id)));
        }
    }
    let fam = families(&entries);
    let mut leaves = Vec::with_capacity(entries.len());
    let mut roster = Vec::with_capacity(entries.len() * 96);
    roster.push(b'[');
    for (i, e) in entries.iter().enumerate() {
        if !input::is_valid_id(&e.id) {
            return Err(DrawError::invalid(format!("roster[{i}]"), format!("registration number {:?} is not a draw identifier", e.id)));
        }
        if e.prefs.is_empty() {
            return Err(DrawError::invalid(format!("roster[{i}] (id {})", e.id), "no school"));
        }
        let mut o = BTreeMap::new();
        o.insert("id".to_string(), CVal::Str(e.id.clone()));
        o.insert("prefs".to_string(), CVal::Arr(e.prefs.iter().map(|(s, _)| CVal::Str(s.clone())).collect()));
        o.insert("priority".to_string(), CVal::Obj(e.prefs.iter().map(|(s, k)| (s.clone(), ints(k))).collect()));
        if let Some(f) = fam.get(&e.id) {
            o.insert("family".to_string(), CVal::Str(f.clone()));
        }
        let leaf = CVal::Obj(o).to_bytes();
        if i > 0 {
            roster.push(b',');
        }
        roster.extend_from_slice(&leaf);
        leaves.push(merkle::leaf_hash(&leaf));
    }
    roster.push(b']');
    let root = merkle::root_from_leaf_hashes(&leaves);
    Ok(Frozen { roster_json: roster, root: hex::encode(root), size: entries.len() })
}

/// `CJSON(schools)`: `[{"id", "seats"}]` in announced order.
pub fn schools_json(schools: &[(String, u32)]) -> Vec<u8> {
    CVal::Arr(
        schools
            .iter()
            .map(|(id, seats)| {
                CVal::Obj(BTreeMap::from([("id".to_string(), CVal::Str(id.clone())), ("seats".to_string(), CVal::Int(i64::from(*seats)))]))
            })
            .collect(),
    )
    .to_bytes()
}

/// The first quicknet round published at or after Unix time `t`.
pub fn round_at_or_after(t: i64) -> u64 {
    let g = QUICKNET_GENESIS_TIME as i64;
    if t <= g {
        return 1;
    }
    let p = QUICKNET_PERIOD as i64;
    ((t - g + p - 1) / p) as u64 + 1
}

/// A witness as the announcement names it.
#[derive(Debug, Clone)]
pub struct WitnessSource {
    pub name: String,
    pub commitment: String,
    /// Who it is, in words (e.g. `公证员 王某`).
    pub description: String,
}

/// What the announcement states besides the frozen roster.
#[derive(Debug, Clone)]
pub struct Announce<'a> {
    pub draw_id: &'a str,
    pub title: &'a str,
    pub campaign: &'a str,
    pub policy: &'a str,
    pub schools_json: &'a str,
    pub roster_root: &'a str,
    pub roster_size: usize,
    pub witnesses: &'a [WitnessSource],
    pub beacon_round: u64,
    /// The beacon round's time in words (Beijing time).
    pub beacon_time: &'a str,
    /// The stated time of the draw (Beijing time, RFC 3339).
    pub scheduled_at: &'a str,
    pub fallback: &'a str,
}

/// The announcement (spec §2): schools, roster root and size, the
/// witnesses' commitments and the beacon round as the last source.
pub fn announcement(a: &Announce) -> Result<CVal, DrawError> {
    let schools = super::cjson::parse(a.schools_json).map_err(|e| DrawError::invalid("schools", e.to_string()))?;
    let s = |v: &str| CVal::Str(v.to_string());
    let mut sources: Vec<CVal> = a
        .witnesses
        .iter()
        .map(|w| {
            CVal::Obj(BTreeMap::from([
                ("name".to_string(), s(&w.name)),
                ("commitment".to_string(), s(&w.commitment)),
                ("description".to_string(), s(&w.description)),
            ]))
        })
        .collect();
    sources.push(CVal::Obj(BTreeMap::from([
        ("name".to_string(), s(BEACON_SOURCE)),
        (
            "drand".to_string(),
            CVal::Obj(BTreeMap::from([
                ("chain_hash".to_string(), s(QUICKNET_CHAIN_HASH)),
                ("round".to_string(), CVal::Int(a.beacon_round as i64)),
            ])),
        ),
        ("description".to_string(), s(&format!("drand quicknet round {} ({} 北京时间)", a.beacon_round, a.beacon_time))),
        ("fallback".to_string(), s(a.fallback)),
    ])));
    let o = BTreeMap::from([
        ("version".to_string(), s(input::VERSION)),
        ("draw_id".to_string(), s(a.draw_id)),
        ("title".to_string(), s(a.title)),
        ("campaign".to_string(), s(a.campaign)),
        ("policy".to_string(), s(a.policy)),
        ("scheduled_at".to_string(), s(a.scheduled_at)),
        ("schools".to_string(), schools),
        ("roster_root".to_string(), s(a.roster_root)),
        ("roster_size".to_string(), CVal::Int(a.roster_size as i64)),
        ("sources".to_string(), CVal::Arr(sources)),
    ]);
    Ok(CVal::Obj(o))
}

/// The draw input (spec §2) once every source is revealed: CJSON of
/// `{"announcement", "roster", "sources"}` with the values in the
/// announcement's order. The engine validates it (commitments, the beacon).
pub fn input_json(announcement_json: &str, roster_json: &str, values: &[(String, String)]) -> String {
    let mut out = Vec::with_capacity(announcement_json.len() + roster_json.len() + 256);
    out.extend_from_slice(b"{\"announcement\":");
    out.extend_from_slice(announcement_json.as_bytes());
    out.extend_from_slice(b",\"roster\":");
    out.extend_from_slice(roster_json.as_bytes());
    out.extend_from_slice(b",\"sources\":");
    CVal::Arr(
        values
            .iter()
            .map(|(n, v)| {
                CVal::Obj(BTreeMap::from([("name".to_string(), CVal::Str(n.clone())), ("value".to_string(), CVal::Str(v.clone()))]))
            })
            .collect(),
    )
    .write(&mut out);
    out.push(b'}');
    String::from_utf8(out).expect("CJSON is UTF-8")
}

/// The inclusion proof (spec §9) of entry `id` in a frozen roster
/// (`CJSON(roster)`), before any record exists.
pub fn roster_proof(roster_json: &str, id: &str) -> Result<super::Proof, DrawError> {
    let v = super::cjson::parse(roster_json).map_err(|e| DrawError::invalid("roster", e.to_string()))?;
    let entries = v.as_arr().ok_or_else(|| DrawError::invalid("roster", "not an array"))?;
    let leaves: Vec<merkle::Hash> = entries.iter().map(|e| merkle::leaf_hash(&e.to_bytes())).collect();
    let i = entries
        .iter()
        .position(|e| e.as_obj().and_then(|o| o.get("id")).and_then(CVal::as_str) == Some(id))
        .ok_or_else(|| DrawError::invalid("applicant_id", format!("{id:?} is not in the roster")))?;
    Ok(super::Proof {
        leaf_index: i as u64,
        tree_size: entries.len() as u64,
        entry: entries[i].clone(),
        audit_path: merkle::audit_path(&leaves, i).unwrap_or_default(),
        root: merkle::root_from_leaf_hashes(&leaves),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: &str, fam: Option<&str>) -> Entry {
        Entry { id: id.into(), family: fam.map(Into::into), prefs: vec![("S01".into(), vec![2])] }
    }

    #[test]
    fn roster_sorted_and_families_normalised() {
        let f = freeze(vec![e("R3", Some("R9")), e("R1", None), e("R2", Some("R9")), e("R4", Some("R4"))]).unwrap();
        let text = String::from_utf8(f.roster_json).unwrap();
        // R9 is absent: the family is renamed to R2; R4 alone is no family.
        assert_eq!(
            text,
            r#"[{"id":"R1","prefs":["S01"],"priority":{"S01":[2]}},{"family":"R2","id":"R2","prefs":["S01"],"priority":{"S01":[2]}},{"family":"R2","id":"R3","prefs":["S01"],"priority":{"S01":[2]}},{"id":"R4","prefs":["S01"],"priority":{"S01":[2]}}]"#
        );
        assert_eq!(f.size, 4);
    }

    #[test]
    fn refuses_empty_duplicate_and_bad_ids() {
        assert!(freeze(vec![]).is_err());
        assert!(freeze(vec![e("R1", None), e("R1", None)]).is_err());
        assert!(freeze(vec![e("报名1", None)]).is_err());
    }

    #[test]
    fn roster_proofs_check_against_the_root() {
        let f = freeze(vec![e("R1", None), e("R2", None), e("R3", None)]).unwrap();
        let text = String::from_utf8(f.roster_json).unwrap();
        let mut root = [0u8; 32];
        hex::decode_to_slice(&f.root, &mut root).unwrap();
        for id in ["R1", "R2", "R3"] {
            let p = roster_proof(&text, id).unwrap();
            p.check_against(&root, 3).unwrap();
        }
        assert!(roster_proof(&text, "R9").is_err());
    }

    #[test]
    fn rounds() {
        // Round 657413 was published at 1694775603 (beacon-drand.md).
        assert_eq!(round_at_or_after(1_694_775_603), 657_413);
        assert_eq!(round_at_or_after(1_694_775_602), 657_413);
        assert_eq!(round_at_or_after(1_694_775_604), 657_414);
        assert_eq!(round_at_or_after(0), 1);
    }

    #[test]
    fn a_whole_input_computes_and_commitments_bind() {
        let f = freeze(vec![e("R1", None), e("R2", None), e("R3", None)]).unwrap();
        let schools = String::from_utf8(schools_json(&[("S01".into(), 2)])).unwrap();
        let w = vec![WitnessSource {
            name: "witness-1".into(),
            commitment: input::commitment_of("witness-1", "42"),
            description: "公证员".into(),
        }];
        let root = f.root.clone();
        let ann = announcement(&Announce {
            draw_id: "2027-G1-S01",
            title: "测试",
            campaign: "2027-G1",
            policy: "p 1",
            schools_json: &schools,
            roster_root: &root,
            roster_size: f.size,
            witnesses: &w,
            beacon_round: 657_413,
            beacon_time: "2023-09-15 19:00:03",
            scheduled_at: "2023-09-15T19:00:00+08:00",
            fallback: "x",
        })
        .unwrap();
        let ann_json = String::from_utf8(ann.to_bytes()).unwrap();
        let roster = String::from_utf8(f.roster_json).unwrap();
        let sig = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";
        let ok = input_json(&ann_json, &roster, &[("witness-1".into(), "42".into()), (BEACON_SOURCE.into(), sig.into())]);
        let c = crate::draw::compute(&ok).unwrap();
        assert_eq!(c.checks.commitments, vec!["witness-1".to_string()]);
        assert_eq!(c.checks.beacons.len(), 1);
        let bad = input_json(&ann_json, &roster, &[("witness-1".into(), "43".into()), (BEACON_SOURCE.into(), sig.into())]);
        assert!(crate::draw::compute(&bad).is_err());
    }
}
