//! Records and proofs, spec `draw-v1.md` §3, §8 and §9.
//!
//! * A record is the draw input plus `result`. [`verify`] recomputes the
//!   result from the other three members and compares it, member by member,
//!   with the published one; the first discrepancy is reported with its path
//!   (`result.assignments.S03[2]: expected "R0018", found "R0020"`).
//! * [`Proof`] is an RFC 6962 inclusion proof that one roster entry is in
//!   the announced `roster_root` (the check an applicant can do before the
//!   draw).

use std::collections::BTreeMap;
use std::fmt;

use super::cjson::{self, CVal};
use super::engine::{self, Outcome};
use super::input::{self, Draw, Mode, PubResult, SRef, VERSION};
use super::merkle::{self, Hash};
use super::DrawError;

/// A difference between a published result and the recomputed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    /// Where, e.g. `result.lottery_numbers.R0018`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a record does not verify.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VerifyError {
    /// The record's input part is invalid (nothing was computed).
    #[error("invalid record: {0}")]
    Invalid(#[from] DrawError),
    /// The input is valid but the published result differs.
    #[error("result does not match the recomputation: {0}")]
    Mismatch(Discrepancy),
}

/// A verified record.
#[derive(Debug, Clone)]
pub struct Verified {
    /// `hex(SHA-256(CJSON(result)))`.
    pub result_digest: String,
    pub draw_id: String,
    /// `hex(SHA-256(CJSON(announcement)))`: compare it with the digest of
    /// the announcement signed before the draw.
    pub announcement_digest: String,
    /// `hex(SHA-256(CJSON(record)))`.
    pub record_digest: String,
    /// True when the record's text is exactly `CJSON(record)` (as §8 says a
    /// record is published); `record_digest` is then also the SHA-256 of the
    /// text. A record pretty-printed by hand still verifies.
    pub canonical: bool,
    /// Commitments and beacon values that were checked.
    pub checks: super::Checks,
    /// The announcement, to compare with a signed one.
    pub announcement: CVal,
}

/// Write `CJSON(record)` of a validated draw with the canonical `result`
/// bytes: `{"announcement":…,"result":…,"roster":[…],"sources":[…]}`, in
/// pieces of about 64 KiB, from the parsed input (the input's own text, in
/// whatever form it came, is not copied).
pub(crate) fn write_record(draw: &Draw, result: &[u8], sink: &mut dyn FnMut(&[u8])) {
    const CHUNK: usize = 1 << 16;
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    buf.extend_from_slice(b"{\"announcement\":");
    draw.announcement.write(&mut buf);
    buf.extend_from_slice(b",\"result\":");
    sink(&buf);
    buf.clear();
    sink(result);
    buf.extend_from_slice(b",\"roster\":[");
    let mut order = Vec::new();
    for i in 0..draw.len() {
        if i > 0 {
            buf.push(b',');
        }
        draw.write_leaf(i, &mut buf, &mut order);
        if buf.len() >= CHUNK {
            sink(&buf);
            buf.clear();
        }
    }
    buf.extend_from_slice(b"],\"sources\":[");
    for (k, (name, value)) in draw.sources.iter().enumerate() {
        if k > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"name\":");
        cjson::write_str(&mut buf, name);
        buf.extend_from_slice(b",\"value\":");
        cjson::write_str(&mut buf, value);
        buf.push(b'}');
    }
    buf.extend_from_slice(b"]}");
    sink(&buf);
}

/// Verify a record (JSON text): recompute `result` and compare; the
/// commitments and beacon values are checked while validating.
pub fn verify(record: &str) -> Result<Verified, VerifyError> {
    let draw = input::parse(record, Mode::Record)?;
    let outcome = engine::compute(&draw);
    let published = draw.published.as_ref().ok_or_else(|| DrawError::invalid("record", "missing member \"result\""))?;
    let mut computed = Vec::new();
    engine::write_result(&draw, &outcome, &mut computed);
    // Fast path: the canonical bytes of the published result equal ours.
    // Walking the published result is sequential in memory, unlike a
    // member-by-member comparison (which looks ids up in lottery order).
    let mut theirs = Vec::with_capacity(computed.len());
    if !(canonical_published(&draw, published, &mut theirs) && theirs == computed) {
        compare(&draw, &outcome, published).map_err(VerifyError::Mismatch)?;
        if theirs != computed {
            return Err(VerifyError::Mismatch(d("result", "differs from the recomputed result")));
        }
    }
    // The record's digest, and whether its text is already canonical.
    let text = record.as_bytes();
    let mut h = <sha2::Sha256 as sha2::Digest>::new();
    let (mut at, mut canonical) = (0usize, true);
    write_record(&draw, &computed, &mut |b: &[u8]| {
        sha2::Digest::update(&mut h, b);
        if canonical {
            canonical = text.get(at..at + b.len()) == Some(b);
            at += b.len();
        }
    });
    canonical = canonical && at == text.len();
    Ok(Verified {
        result_digest: super::digest_hex(&computed),
        draw_id: draw.draw_id.clone(),
        announcement_digest: hex::encode(outcome.announcement_digest),
        record_digest: hex::encode(sha2::Digest::finalize(h)),
        canonical,
        checks: draw.checks.clone(),
        announcement: draw.announcement.clone(),
    })
}

/// Write the canonical JSON of a published result; false when a member is
/// missing, duplicated or unexpected (then [`compare`] names it).
fn canonical_published(draw: &Draw, p: &PubResult, out: &mut Vec<u8>) -> bool {
    let (
        None,
        true,
        Some(version),
        Some(draw_id),
        Some(ad),
        Some(seed),
        Some(lottery),
        Some(numbers),
        Some(assignments),
        Some(unassigned),
        Some(waitlists),
    ) = (
        &p.duplicate,
        p.extra.is_empty(),
        p.version,
        p.draw_id,
        p.announcement_digest,
        p.seed,
        &p.lottery,
        &p.lottery_numbers,
        &p.assignments,
        &p.unassigned,
        &p.waitlists,
    )
    else {
        return false;
    };
    let s = |r: SRef| draw.str_of(r);
    let ids = |out: &mut Vec<u8>, list: &[SRef]| {
        out.push(b'[');
        for (k, &r) in list.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            cjson::write_str(out, s(r));
        }
        out.push(b']');
    };
    let per_school = |out: &mut Vec<u8>, m: &[(SRef, Vec<SRef>)]| {
        let mut order: Vec<usize> = (0..m.len()).collect();
        order.sort_by(|&a, &b| s(m[a].0).cmp(s(m[b].0)));
        out.push(b'{');
        for (k, &i) in order.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            cjson::write_str(out, s(m[i].0));
            out.push(b':');
            ids(out, &m[i].1);
        }
        out.push(b'}');
    };
    out.extend_from_slice(b"{\"announcement_digest\":");
    cjson::write_str(out, s(ad));
    out.extend_from_slice(b",\"assignments\":");
    per_school(out, assignments);
    out.extend_from_slice(b",\"draw_id\":");
    cjson::write_str(out, s(draw_id));
    out.extend_from_slice(b",\"lottery\":");
    ids(out, lottery);
    out.extend_from_slice(b",\"lottery_numbers\":{");
    let sorted = numbers.windows(2).all(|w| s(w[0].0) < s(w[1].0));
    let mut order: Vec<usize> = Vec::new();
    if !sorted {
        order = (0..numbers.len()).collect();
        order.sort_by(|&a, &b| s(numbers[a].0).cmp(s(numbers[b].0)));
    }
    for k in 0..numbers.len() {
        let (key, val) = numbers[if sorted { k } else { order[k] }];
        if k > 0 {
            out.push(b',');
        }
        cjson::write_str(out, s(key));
        out.push(b':');
        cjson::write_int(out, val);
    }
    out.extend_from_slice(b"},\"seed\":");
    cjson::write_str(out, s(seed));
    out.extend_from_slice(b",\"unassigned\":");
    ids(out, unassigned);
    out.extend_from_slice(b",\"version\":");
    cjson::write_str(out, s(version));
    out.extend_from_slice(b",\"waitlists\":");
    per_school(out, waitlists);
    out.push(b'}');
    true
}

fn d(path: impl Into<String>, message: impl Into<String>) -> Discrepancy {
    Discrepancy { path: path.into(), message: message.into() }
}

fn cmp_str(draw: &Draw, path: &str, found: Option<SRef>, expected: &str) -> Result<(), Discrepancy> {
    match found {
        None => Err(d("result", format!("missing member {:?}", path.trim_start_matches("result.")))),
        Some(r) if draw.str_of(r) == expected => Ok(()),
        Some(r) => Err(d(path, format!("expected {expected:?}, found {:?}", draw.str_of(r)))),
    }
}

fn cmp_ids(draw: &Draw, path: &str, found: &[SRef], expected: &[u32]) -> Result<(), Discrepancy> {
    for (k, (&f, &e)) in found.iter().zip(expected).enumerate() {
        if draw.str_of(f).as_bytes() != draw.id_bytes(e as usize) {
            let (fs, es) = (draw.str_of(f), draw.id(e as usize));
            return Err(d(format!("{path}[{k}]"), format!("expected {es:?}, found {fs:?}")));
        }
    }
    if found.len() != expected.len() {
        return Err(d(path, format!("expected {} ids, found {}", expected.len(), found.len())));
    }
    Ok(())
}

fn cmp_per_school(draw: &Draw, name: &str, found: Option<&Vec<(SRef, Vec<SRef>)>>, off: &[u32], all: &[u32]) -> Result<(), Discrepancy> {
    let Some(found) = found else {
        return Err(d("result", format!("missing member {name:?}")));
    };
    let index: BTreeMap<&str, usize> = draw.schools.iter().enumerate().map(|(k, s)| (s.id.as_str(), k)).collect();
    let mut seen = vec![false; draw.schools.len()];
    for (key, list) in found {
        let ks = draw.str_of(*key);
        let Some(&s) = index.get(ks) else {
            return Err(d(format!("result.{name}"), format!("unexpected member {ks:?} (not an announced school)")));
        };
        if std::mem::replace(&mut seen[s], true) {
            return Err(d(format!("result.{name}"), format!("duplicate member {ks:?}")));
        }
        cmp_ids(draw, &format!("result.{name}.{ks}"), list, &all[off[s] as usize..off[s + 1] as usize])?;
    }
    for &s in &draw.school_order {
        if !seen[s as usize] {
            return Err(d(format!("result.{name}"), format!("missing member {:?} (every school needs one)", draw.schools[s as usize].id)));
        }
    }
    Ok(())
}

/// Compare a published result with the recomputed outcome; the first
/// difference found is returned.
pub(crate) fn compare(draw: &Draw, o: &Outcome, p: &PubResult) -> Result<(), Discrepancy> {
    if let Some(dup) = &p.duplicate {
        return Err(d("result", format!("duplicate member {dup:?}")));
    }
    if let Some(x) = p.extra.first() {
        return Err(d("result", format!("unexpected member {x:?}")));
    }
    cmp_str(draw, "result.version", p.version, VERSION)?;
    cmp_str(draw, "result.draw_id", p.draw_id, &draw.draw_id)?;
    cmp_str(draw, "result.announcement_digest", p.announcement_digest, &hex::encode(o.announcement_digest))?;
    cmp_str(draw, "result.seed", p.seed, &hex::encode(o.seed))?;
    let lottery = p.lottery.as_ref().ok_or_else(|| d("result", "missing member \"lottery\""))?;
    cmp_ids(draw, "result.lottery", lottery, &o.lottery_order)?;

    let numbers = p.lottery_numbers.as_ref().ok_or_else(|| d("result", "missing member \"lottery_numbers\""))?;
    let n = draw.len();
    let mut seen = vec![false; n];
    for (k, &(key, val)) in numbers.iter().enumerate() {
        let ks = draw.str_of(key);
        // Fast path: members in roster order.
        let i = if k < n && draw.id(k) == ks {
            k
        } else {
            draw.index_of(ks).ok_or_else(|| d("result.lottery_numbers", format!("unexpected member {ks:?} (not a roster id)")))?
        };
        if std::mem::replace(&mut seen[i], true) {
            return Err(d("result.lottery_numbers", format!("duplicate member {ks:?}")));
        }
        let want = o.lottery_number[i] as i64;
        if val != want {
            return Err(d(format!("result.lottery_numbers.{ks}"), format!("expected {want}, found {val}")));
        }
    }
    if let Some(i) = seen.iter().position(|&x| !x) {
        return Err(d("result.lottery_numbers", format!("missing member {:?}", draw.id(i))));
    }

    cmp_per_school(draw, "assignments", p.assignments.as_ref(), &o.assign_off, &o.assign_list)?;
    let unassigned = p.unassigned.as_ref().ok_or_else(|| d("result", "missing member \"unassigned\""))?;
    cmp_ids(draw, "result.unassigned", unassigned, &o.unassigned)?;
    cmp_per_school(draw, "waitlists", p.waitlists.as_ref(), &o.wait_off, &o.wait_list)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Inclusion proofs

/// An RFC 6962 inclusion proof for one roster entry.
///
/// JSON form (the same as the independent Python verifier's
/// `--proof-for` / `--proof`; exactly these members):
/// ```json
/// {"audit_path":["<64 hex>", ...], "entry":{...roster entry...},
///  "leaf_index":17, "root":"<64 hex>", "tree_size":1000}
/// ```
/// `audit_path` is RFC 6962 `PATH(leaf_index, D[tree_size])`, bottom-up;
/// `root` must be compared with the announced `roster_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub entry: CVal,
    pub audit_path: Vec<Hash>,
    pub root: Hash,
}

/// Build the inclusion proof of `applicant_id` from a record or input
/// (only the announcement and roster are needed and checked).
pub fn inclusion_proof(text: &str, applicant_id: &str) -> Result<Proof, DrawError> {
    let draw = input::parse(text, Mode::RosterOnly)?;
    let i =
        draw.index_of(applicant_id).ok_or_else(|| DrawError::invalid("applicant_id", format!("{applicant_id:?} is not in the roster")))?;
    let mut leaf = Vec::new();
    draw.write_leaf(i, &mut leaf, &mut Vec::new());
    let entry = std::str::from_utf8(&leaf)
        .ok()
        .and_then(|s| cjson::parse(s).ok())
        .ok_or_else(|| DrawError::invalid("roster", "internal error: leaf is not JSON"))?;
    let audit_path = merkle::audit_path(&draw.leaf_hashes, i).unwrap_or_default();
    Ok(Proof { leaf_index: i as u64, tree_size: draw.len() as u64, entry, audit_path, root: draw.roster_root })
}

impl Proof {
    /// Canonical JSON of the proof.
    pub fn to_json(&self) -> Vec<u8> {
        let mut m = BTreeMap::new();
        m.insert("leaf_index".into(), CVal::Int(self.leaf_index as i64));
        m.insert("tree_size".into(), CVal::Int(self.tree_size as i64));
        m.insert("entry".into(), self.entry.clone());
        m.insert("audit_path".into(), CVal::Arr(self.audit_path.iter().map(|h| CVal::Str(hex::encode(h))).collect()));
        m.insert("root".into(), CVal::Str(hex::encode(self.root)));
        CVal::Obj(m).to_bytes()
    }

    /// Parse a proof document.
    pub fn from_json(text: &str) -> Result<Proof, DrawError> {
        let v = cjson::parse(text).map_err(|e| DrawError::invalid("proof", format!("malformed: {e}")))?;
        let o = v.as_obj().ok_or_else(|| DrawError::invalid("proof", "must be an object"))?;
        let allowed = ["audit_path", "entry", "leaf_index", "root", "tree_size"];
        for k in o.keys() {
            if !allowed.contains(&k.as_str()) {
                return Err(DrawError::invalid("proof", format!("unexpected member {k:?}")));
            }
        }
        let get = |k: &str| o.get(k).ok_or_else(|| DrawError::invalid("proof", format!("missing member {k:?}")));
        let string = |k: &str| -> Result<String, DrawError> {
            get(k)?.as_str().map(str::to_owned).ok_or_else(|| DrawError::invalid(format!("proof.{k}"), "must be a string"))
        };
        let uint = |k: &str| -> Result<u64, DrawError> {
            match get(k)? {
                CVal::Int(n) if *n >= 0 => Ok(*n as u64),
                _ => Err(DrawError::invalid(format!("proof.{k}"), "must be an integer >= 0")),
            }
        };
        let hash = |path: &str, s: &str| -> Result<Hash, DrawError> {
            let mut h = [0u8; 32];
            if !input::is_hex64(s) || hex::decode_to_slice(s, &mut h).is_err() {
                return Err(DrawError::invalid(path, "must be 64 lower-case hex digits"));
            }
            Ok(h)
        };
        let entry = get("entry")?.clone();
        if entry.as_obj().is_none() {
            return Err(DrawError::invalid("proof.entry", "must be an object"));
        }
        let path = get("audit_path")?
            .as_arr()
            .ok_or_else(|| DrawError::invalid("proof.audit_path", "must be a list"))?
            .iter()
            .enumerate()
            .map(|(k, h)| {
                let p = format!("proof.audit_path[{k}]");
                h.as_str().ok_or_else(|| DrawError::invalid(&p, "must be a string")).and_then(|s| hash(&p, s))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Proof {
            leaf_index: uint("leaf_index")?,
            tree_size: uint("tree_size")?,
            entry,
            audit_path: path,
            root: hash("proof.root", &string("root")?)?,
        })
    }

    /// Check the proof against the `roster_root` and `roster_size` of the
    /// signed announcement (spec §9): the proof's own root and tree size
    /// must equal them, and the audit path must lead from the entry's leaf
    /// to that root in a tree of that size. This is the check to rely on:
    /// [`Proof::check`] alone trusts the root and size the proof carries,
    /// and one audit path can fit more than one tree size.
    pub fn check_against(&self, roster_root: &Hash, roster_size: u64) -> Result<(), String> {
        if self.tree_size != roster_size {
            return Err(format!(
                "the proof is for a tree of {} entries, but the announcement's roster_size is {roster_size}",
                self.tree_size
            ));
        }
        if &self.root != roster_root {
            return Err(format!(
                "the proof is for root {}, but the announcement's roster_root is {}",
                hex::encode(self.root),
                hex::encode(roster_root)
            ));
        }
        let leaf = merkle::leaf_hash(&self.entry.to_bytes());
        if !merkle::verify_inclusion(&leaf, self.leaf_index, roster_size, &self.audit_path, roster_root) {
            return Err(format!(
                "the audit path does not lead from the entry to leaf {} of {roster_size} under root {}",
                self.leaf_index,
                hex::encode(roster_root)
            ));
        }
        Ok(())
    }

    /// True when the audit path leads from the entry's leaf to the root the
    /// proof carries, in a tree of the size it carries (internal
    /// consistency only; see [`Proof::check_against`]).
    pub fn check(&self) -> bool {
        let leaf = merkle::leaf_hash(&self.entry.to_bytes());
        merkle::verify_inclusion(&leaf, self.leaf_index, self.tree_size, &self.audit_path, &self.root)
    }
}
