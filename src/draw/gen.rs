//! Deterministic generator of valid draw inputs, for benchmarks and
//! property tests. Not part of the spec.
//!
//! [`generate`] builds a [`Draft`] (an owned, editable input) from
//! [`GenParams`]; [`Draft::to_input_json`] writes it as canonical JSON,
//! computing `roster_size`, `roster_root` and the source commitments, so
//! tests can edit a draft (change one entry, one seat count, one source
//! value) and still get a valid input.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::cjson::{self, CVal};
use super::input::{commitment_of, VERSION};
use super::merkle;
use super::rng::DrawRng;

/// One roster entry of a draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftEntry {
    pub id: String,
    pub prefs: Vec<String>,
    /// One member per school in `prefs` (any order; written sorted).
    pub priority: Vec<(String, Vec<i64>)>,
    pub family: Option<String>,
}

/// A randomness source of a draft.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftSource {
    pub name: String,
    pub value: String,
    /// Whether the announcement carries a commitment to the value.
    pub committed: bool,
}

/// An editable draw input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub draw_id: String,
    pub schools: Vec<(String, u64)>,
    /// Must be sorted by id for the input to be valid.
    pub roster: Vec<DraftEntry>,
    pub sources: Vec<DraftSource>,
}

/// Parameters of [`generate`]. Integers only (per-mille and percent).
#[derive(Clone, Debug)]
pub struct GenParams {
    pub applicants: usize,
    pub schools: usize,
    /// Preferences per applicant (capped at `schools`).
    pub prefs: usize,
    /// Chance, per mille, that an applicant has a twin (next id, same family).
    pub twins_per_mille: u32,
    /// Number of priority tiers; the last tier carries months of residence.
    pub tiers: u32,
    /// Total seats as a percentage of applicants.
    pub seats_percent: u32,
    /// Everything random derives from SHA-256 of this text.
    pub seed_text: String,
}

impl Default for GenParams {
    fn default() -> Self {
        GenParams {
            applicants: 1000,
            schools: 10,
            prefs: 3,
            twins_per_mille: 20,
            tiers: 4,
            seats_percent: 90,
            seed_text: "ruxue-gen".into(),
        }
    }
}

/// Write one roster entry as CJSON (its Merkle leaf).
pub fn write_entry(out: &mut Vec<u8>, e: &DraftEntry) {
    out.push(b'{');
    if let Some(f) = &e.family {
        out.extend_from_slice(b"\"family\":");
        cjson::write_str(out, f);
        out.push(b',');
    }
    out.extend_from_slice(b"\"id\":");
    cjson::write_str(out, &e.id);
    out.extend_from_slice(b",\"prefs\":[");
    for (k, p) in e.prefs.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        cjson::write_str(out, p);
    }
    out.extend_from_slice(b"],\"priority\":{");
    let mut pr: Vec<&(String, Vec<i64>)> = e.priority.iter().collect();
    pr.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, (s, v)) in pr.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        cjson::write_str(out, s);
        out.extend_from_slice(b":[");
        for (j, x) in v.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            cjson::write_int(out, *x);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}}");
}

impl Draft {
    /// The announcement, with root, size and commitments computed.
    pub fn announcement(&self) -> CVal {
        let mut buf = Vec::new();
        let leaves: Vec<merkle::Hash> = self
            .roster
            .iter()
            .map(|e| {
                buf.clear();
                write_entry(&mut buf, e);
                merkle::leaf_hash(&buf)
            })
            .collect();
        let root = merkle::root_from_leaf_hashes(&leaves);
        let mut a = BTreeMap::new();
        a.insert("version".to_string(), CVal::Str(VERSION.into()));
        a.insert("draw_id".to_string(), CVal::Str(self.draw_id.clone()));
        a.insert(
            "schools".to_string(),
            CVal::Arr(
                self.schools
                    .iter()
                    .map(|(id, seats)| {
                        let mut m = BTreeMap::new();
                        m.insert("id".to_string(), CVal::Str(id.clone()));
                        m.insert("seats".to_string(), CVal::Int(*seats as i64));
                        CVal::Obj(m)
                    })
                    .collect(),
            ),
        );
        a.insert("roster_root".to_string(), CVal::Str(hex::encode(root)));
        a.insert("roster_size".to_string(), CVal::Int(self.roster.len() as i64));
        a.insert(
            "sources".to_string(),
            CVal::Arr(
                self.sources
                    .iter()
                    .map(|s| {
                        let mut m = BTreeMap::new();
                        m.insert("name".to_string(), CVal::Str(s.name.clone()));
                        if s.committed {
                            m.insert("commitment".to_string(), CVal::Str(commitment_of(&s.name, &s.value)));
                        } else {
                            m.insert("description".to_string(), CVal::Str("public beacon".into()));
                        }
                        CVal::Obj(m)
                    })
                    .collect(),
            ),
        );
        CVal::Obj(a)
    }

    /// The draw input as canonical JSON.
    pub fn to_input_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.roster.len() * 160 + 4096);
        out.extend_from_slice(b"{\"announcement\":");
        self.announcement().write(&mut out);
        out.extend_from_slice(b",\"roster\":[");
        for (k, e) in self.roster.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            write_entry(&mut out, e);
        }
        out.extend_from_slice(b"],\"sources\":[");
        for (k, s) in self.sources.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"name\":");
            cjson::write_str(&mut out, &s.name);
            out.extend_from_slice(b",\"value\":");
            cjson::write_str(&mut out, &s.value);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
        out
    }
}

fn width(n: usize, min: usize) -> usize {
    n.to_string().len().max(min)
}

/// Generate a valid draft from `p`. Deterministic in `p`.
pub fn generate(p: &GenParams) -> Draft {
    let mut rng = DrawRng::new(Sha256::digest(p.seed_text.as_bytes()).into());
    let ns = p.schools.max(1);
    let np = p.prefs.clamp(1, ns);
    let tiers = p.tiers.max(1) as u64;
    let sw = width(ns, 3);
    let aw = width(p.applicants, 7);
    let school_ids: Vec<String> = (1..=ns).map(|k| format!("S{k:0sw$}")).collect();

    let total = p.applicants as u64 * p.seats_percent as u64 / 100;
    let base = total / ns as u64;
    let schools = school_ids.iter().map(|id| (id.clone(), base * (50 + rng.uniform(101)) / 100)).collect();

    let priority_for = |rng: &mut DrawRng| -> Vec<i64> {
        let t = 1 + rng.uniform(tiers);
        if t == tiers && tiers > 1 {
            vec![t as i64, -(1 + rng.uniform(72) as i64)]
        } else {
            vec![t as i64]
        }
    };

    let mut roster: Vec<DraftEntry> = Vec::with_capacity(p.applicants);
    let mut pool: Vec<usize> = (0..ns).collect();
    let mut i = 0;
    while i < p.applicants {
        let id = format!("A{:0aw$}", i + 1);
        let mut chosen: Vec<usize> = Vec::with_capacity(np);
        if np * 2 <= ns {
            // A popular first choice (skewed towards low school numbers), then distinct others.
            let first = rng.uniform(ns as u64).min(rng.uniform(ns as u64)) as usize;
            chosen.push(first);
            while chosen.len() < np {
                let s = rng.uniform(ns as u64) as usize;
                if !chosen.contains(&s) {
                    chosen.push(s);
                }
            }
        } else {
            for k in 0..np {
                let j = k + rng.uniform((ns - k) as u64) as usize;
                pool.swap(k, j);
                chosen.push(pool[k]);
            }
        }
        let prefs: Vec<String> = chosen.iter().map(|&s| school_ids[s].clone()).collect();
        let priority: Vec<(String, Vec<i64>)> = prefs.iter().map(|s| (s.clone(), priority_for(&mut rng))).collect();
        let twin = i + 1 < p.applicants && p.twins_per_mille > 0 && rng.uniform(1000) < p.twins_per_mille as u64;
        let family = if twin { Some(id.clone()) } else { None };
        roster.push(DraftEntry { id: id.clone(), prefs: prefs.clone(), priority: priority.clone(), family: family.clone() });
        if twin {
            roster.push(DraftEntry { id: format!("A{:0aw$}", i + 2), prefs, priority, family });
            i += 1;
        }
        i += 1;
    }

    let mut value = |name: &str| format!("{name}-{:016x}", rng.next_r());
    let sources = vec![
        DraftSource { name: "witness-1".into(), value: value("w1"), committed: true },
        DraftSource { name: "witness-2".into(), value: value("w2"), committed: true },
        DraftSource { name: "beacon".into(), value: value("beacon"), committed: false },
    ];
    Draft { draw_id: format!("GEN-{}-{}-{}", p.applicants, ns, np), schools, roster, sources }
}
