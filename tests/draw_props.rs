//! Property tests of the draw engine (`ruxue-draw-v1`) on generated inputs:
//! matching properties (stability, seats, no justified envy), lottery
//! numbers, digest sensitivity, inclusion proofs, agreement with the
//! independent Python verifier, and a chi-square test of `uniform(m)`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use proptest::prelude::*;
use ruxue::draw::{self, gen, rng::DrawRng};
use serde_json::Value;

fn params() -> impl Strategy<Value = gen::GenParams> {
    (1usize..60, 1usize..7, 1usize..5, 0u32..400, 1u32..5, 0u32..160, any::<u64>()).prop_map(
        |(applicants, schools, prefs, twins_per_mille, tiers, seats_percent, seed)| gen::GenParams {
            applicants,
            schools,
            prefs,
            twins_per_mille,
            tiers,
            seats_percent,
            seed_text: format!("prop-{seed}"),
        },
    )
}

/// Input and result of a generated draw, as plain JSON values.
struct Case {
    input: Value,
    result: Value,
    digest: String,
    record: Vec<u8>,
}

fn run(draft: &gen::Draft) -> Case {
    let text = String::from_utf8(draft.to_input_json()).unwrap();
    let c = draw::compute(&text).unwrap_or_else(|e| panic!("generated input refused: {e}"));
    Case {
        input: serde_json::from_str(&text).unwrap(),
        result: serde_json::from_slice(&c.result).unwrap(),
        digest: c.result_digest,
        record: draw::record_json(&text, &c.result),
    }
}

/// (priority, lottery number, id): smaller is better.
type Key = (Vec<i64>, i64, String);

fn key(c: &Case, entry: &Value, school: &str) -> Key {
    let id = entry["id"].as_str().unwrap().to_string();
    let prio = entry["priority"][school].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    (prio, c.result["lottery_numbers"][&id].as_i64().unwrap(), id)
}

fn check_matching(c: &Case) {
    let roster = c.input["roster"].as_array().unwrap();
    let seats: BTreeMap<String, i64> = c.input["announcement"]["schools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap().to_string(), s["seats"].as_i64().unwrap()))
        .collect();
    let mut assigned: BTreeMap<String, String> = BTreeMap::new();
    for (s, list) in c.result["assignments"].as_object().unwrap() {
        let list = list.as_array().unwrap();
        assert!(list.len() as i64 <= seats[s], "school {s} over its seats");
        for a in list {
            assert!(assigned.insert(a.as_str().unwrap().into(), s.clone()).is_none(), "assigned twice");
        }
    }
    assert_eq!(seats.len(), c.result["assignments"].as_object().unwrap().len());
    let by_id: BTreeMap<&str, &Value> = roster.iter().map(|e| (e["id"].as_str().unwrap(), e)).collect();
    for e in roster {
        let id = e["id"].as_str().unwrap();
        let prefs: Vec<&str> = e["prefs"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let mine = assigned.get(id);
        if let Some(s) = mine {
            assert!(prefs.contains(&s.as_str()), "{id} assigned to a school it did not list");
        }
        let cut = mine.map(|s| prefs.iter().position(|p| p == s).unwrap()).unwrap_or(prefs.len());
        // No blocking pair: every school a prefers to its assignment is full
        // of applicants it ranks higher.
        for &s in &prefs[..cut] {
            let admitted = c.result["assignments"][s].as_array().unwrap();
            assert_eq!(admitted.len() as i64, seats[s], "{id} blocks with non-full {s}");
            let k = key(c, e, s);
            for b in admitted {
                let kb = key(c, by_id[b.as_str().unwrap()], s);
                assert!(kb < k, "justified envy: {id} over {} at {s}", b);
            }
            // And a is on s's waitlist.
            assert!(c.result["waitlists"][s].as_array().unwrap().iter().any(|w| w == id));
        }
        for &s in prefs.iter().skip(cut + 1) {
            assert!(!c.result["waitlists"][s].as_array().unwrap().iter().any(|w| w == id));
        }
    }
    // Lists are in ranking order.
    for field in ["assignments", "waitlists"] {
        for (s, list) in c.result[field].as_object().unwrap() {
            let keys: Vec<Key> = list.as_array().unwrap().iter().map(|a| key(c, by_id[a.as_str().unwrap()], s)).collect();
            assert!(keys.windows(2).all(|w| w[0] < w[1]), "{field}.{s} not in ranking order");
        }
    }
    let unassigned: Vec<&str> = c.result["unassigned"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(unassigned.len() + assigned.len(), roster.len());
}

fn check_lottery(c: &Case) {
    let roster = c.input["roster"].as_array().unwrap();
    let nums = c.result["lottery_numbers"].as_object().unwrap();
    assert_eq!(nums.len(), roster.len());
    let unit = |e: &Value| e.get("family").and_then(|f| f.as_str()).unwrap_or(e["id"].as_str().unwrap()).to_string();
    let mut unit_num: BTreeMap<String, i64> = BTreeMap::new();
    for e in roster {
        let n = nums[e["id"].as_str().unwrap()].as_i64().unwrap();
        if let Some(prev) = unit_num.insert(unit(e), n) {
            assert_eq!(prev, n, "family members must share one lottery number");
        }
    }
    let set: BTreeSet<i64> = unit_num.values().copied().collect();
    assert_eq!(set.len(), unit_num.len(), "distinct units get distinct numbers");
    assert_eq!(set, (1..=unit_num.len() as i64).collect::<BTreeSet<_>>(), "numbers are 1..=units");
    // Lottery order is by (number, id).
    let order: Vec<(i64, &str)> = c.result["lottery"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (nums[v.as_str().unwrap()].as_i64().unwrap(), v.as_str().unwrap()))
        .collect();
    assert_eq!(order.len(), roster.len());
    assert!(order.windows(2).all(|w| w[0] < w[1]));
}

fn verifier_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("verifier").join("verify_draw.py")
}

/// Run the Python verifier on `record`; returns (exit success, printed result digest).
fn python_verify(record: &[u8]) -> (bool, Option<String>) {
    let path = verifier_path();
    assert!(path.exists(), "the independent verifier {} is missing", path.display());
    let mut f = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut f, record).unwrap();
    let out = Command::new("python3").arg(&path).arg(f.path()).output().expect("python3 must be installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("result_digest:").map(|d| d.trim().to_string()))
        .or_else(|| stdout.split_whitespace().find(|w| w.len() == 64 && w.bytes().all(|b| b.is_ascii_hexdigit())).map(str::to_string));
    (out.status.success(), digest)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn matching_and_lottery_properties(p in params()) {
        let c = run(&gen::generate(&p));
        check_lottery(&c);
        check_matching(&c);
        // The record verifies.
        let v = draw::verify(std::str::from_utf8(&c.record).unwrap()).unwrap();
        prop_assert_eq!(v.result_digest, c.digest);
    }

    #[test]
    fn any_change_changes_the_digest(p in params(), which in 0usize..1000) {
        let d = gen::generate(&p);
        let base = run(&d).digest;

        let mut t = d.clone();
        let k = which % t.sources.len();
        t.sources[k].value.push('x');
        prop_assert_ne!(run(&t).digest, base.clone(), "source value");

        let mut t = d.clone();
        let k = which % t.schools.len();
        t.schools[k].1 += 1;
        prop_assert_ne!(run(&t).digest, base.clone(), "seats");

        let mut t = d.clone();
        let k = which % t.roster.len();
        t.roster[k].priority[0].1.push(which as i64);
        prop_assert_ne!(run(&t).digest, base.clone(), "roster entry");
    }

    #[test]
    fn inclusion_proofs(p in params()) {
        let d = gen::generate(&p);
        let text = String::from_utf8(d.to_input_json()).unwrap();
        for e in &d.roster {
            let proof = draw::inclusion_proof(&text, &e.id).unwrap();
            prop_assert!(proof.check());
            let json = proof.to_json();
            prop_assert_eq!(draw::Proof::from_json(std::str::from_utf8(&json).unwrap()).unwrap(), proof.clone());
            // An altered entry, index or path fails.
            let mut bad = proof.clone();
            if let draw::cjson::CVal::Obj(m) = &mut bad.entry {
                m.insert("id".into(), draw::cjson::CVal::Str(format!("{}x", e.id)));
            }
            prop_assert!(!bad.check());
            if proof.tree_size > 1 {
                let mut bad = proof.clone();
                bad.leaf_index = (bad.leaf_index + 1) % bad.tree_size;
                prop_assert!(!bad.check());
                let mut bad = proof.clone();
                bad.audit_path[0][0] ^= 1;
                prop_assert!(!bad.check());
            }
        }
    }
}

proptest! {
    // Each case starts python3 twice; keep the count small.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn python_verifier_agrees(p in params()) {
        let c = run(&gen::generate(&p));
        let (ok, digest) = python_verify(&c.record);
        prop_assert!(ok, "python verifier refused our record");
        prop_assert_eq!(digest.as_deref(), Some(c.digest.as_str()));

        // Both compute the same record, byte for byte (CJSON, spec §8).
        let mut input_file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut input_file, c.input.to_string().as_bytes()).unwrap();
        let out = Command::new("python3")
            .arg(verifier_path())
            .arg("--compute")
            .arg(input_file.path())
            .output()
            .expect("python3 must be installed");
        prop_assert!(out.status.success(), "python --compute failed: {}", String::from_utf8_lossy(&out.stderr));
        prop_assert_eq!(&out.stdout, &c.record);
        let record_digest = format!("record_digest: {}", draw::digest_hex(&c.record));
        prop_assert!(String::from_utf8_lossy(&out.stderr).contains(&record_digest));

        // Inclusion proofs are interchangeable with the Python verifier's.
        let text = String::from_utf8(c.record.clone()).unwrap();
        let id = c.input["roster"][0]["id"].as_str().unwrap().to_string();
        let ours = draw::inclusion_proof(&text, &id).unwrap();
        let mut rec_file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut rec_file, &c.record).unwrap();
        let mut proof_file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut proof_file, &ours.to_json()).unwrap();
        let out = Command::new("python3")
            .arg(verifier_path())
            .arg("--proof")
            .arg(proof_file.path())
            .arg(rec_file.path())
            .output()
            .expect("python3 must be installed");
        prop_assert!(out.status.success(), "python refused our proof: {}", String::from_utf8_lossy(&out.stdout));
        let out = Command::new("python3")
            .arg(verifier_path())
            .arg("--proof-for")
            .arg(&id)
            .arg(rec_file.path())
            .output()
            .expect("python3 must be installed");
        prop_assert!(out.status.success());
        let theirs = draw::Proof::from_json(&String::from_utf8_lossy(&out.stdout)).unwrap();
        prop_assert!(theirs.check());
        prop_assert_eq!(theirs, ours);

        // Tamper with the lottery: the verifier must refuse.
        let mut rec: Value = serde_json::from_slice(&c.record).unwrap();
        let nums = rec["result"]["lottery_numbers"].as_object_mut().unwrap();
        let n = nums.len() as i64;
        let first = nums.values_mut().next().unwrap();
        *first = Value::from(first.as_i64().unwrap() % n.max(1) + if n > 1 { 1 } else { 5 });
        let (ok, _) = python_verify(rec.to_string().as_bytes());
        prop_assert!(!ok, "python verifier accepted a tampered record");
    }
}

/// Chi-square test of `uniform(m)`: 60 000 samples for m = 3, 5, 7, 10 with
/// a fixed seed, against the p = 0.001 critical values (df = m − 1).
#[test]
fn uniform_is_unbiased_chi_square() {
    // Critical values of chi-square at p = 0.001 for df = 2, 4, 6, 9.
    let cases: [(u64, u64); 4] = [(3, 13_816), (5, 18_467), (7, 22_458), (10, 27_877)];
    let mut rng = DrawRng::new([42u8; 32]);
    const N: u64 = 60_000;
    for (m, crit_milli) in cases {
        let mut counts = vec![0u64; m as usize];
        for _ in 0..N {
            counts[rng.uniform(m) as usize] += 1;
        }
        // chi2 = sum (o - e)^2 / e with e = N/m; scaled by m to stay in integers:
        // chi2 * N = m * sum (o*m - N)^2 / m^2 ... computed exactly in milli-units.
        let num: u128 = counts.iter().map(|&o| ((o * m) as i128 - N as i128).pow(2) as u128).sum();
        // chi2 = num / (m * N); compare 1000 * num / (m * N) with crit_milli.
        let chi2_milli = num * 1000 / (m as u128 * N as u128);
        assert!(chi2_milli < crit_milli as u128, "m = {m}: chi2 = {}.{:03} too large ({counts:?})", chi2_milli / 1000, chi2_milli % 1000);
    }
}

/// `uniform(m)` rejects exactly the values at or above 2^64 − (2^64 mod m).
#[test]
fn uniform_rejection_threshold() {
    // With m = 2^63 + 1, 2^64 mod m = 2^63 − 1, so R is accepted iff R < 2^63 + 1.
    let seed = [9u8; 32];
    let mut raw = DrawRng::new(seed);
    let mut uni = DrawRng::new(seed);
    let m = (1u64 << 63) + 1;
    let mut expected = None;
    for _ in 0..64 {
        let r = raw.next_r();
        if r < m {
            expected = Some(r % m);
            break;
        }
    }
    assert_eq!(Some(uni.uniform(m)), expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary corruption of a valid record never panics: it is refused
    /// (or, if the edit happens to keep it valid, verified).
    #[test]
    fn corrupted_input_never_panics(pos in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/04-random-40-applicants-3-schools.json");
        let mut bytes = std::fs::read(path).unwrap();
        let i = pos % bytes.len();
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = draw::verify(text);
            let _ = draw::compute(text);
            let _ = draw::inclusion_proof(text, "R0001");
            let _ = draw::Proof::from_json(text);
        }
    }
}
