//! The published vectors of `ruxue-draw-v1` (tests/vectors, copied from the
//! spec): every valid vector reproduces its `result` byte for byte, every
//! file under `invalid/` is refused with a message naming the fault, and
//! tampered records are refused.

use std::path::PathBuf;
use std::process::Command;

use ruxue::draw::{self, announce, beacon, cjson, VerifyError};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("vectors")
}

fn json_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    v.sort();
    v
}

/// Split a record into (input text, canonical bytes of its result).
fn split_record(text: &str) -> (String, Vec<u8>, serde_json::Value) {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let result = v.as_object_mut().unwrap().shift_remove("result").expect("vector has a result");
    let result_c = cjson::parse(&result.to_string()).unwrap().to_bytes();
    (v.to_string(), result_c, v)
}

/// How many vectors the spec publishes (2026-12): a new file must be
/// counted here, so none can be skipped silently.
const VALID_COUNT: usize = 6;
const INVALID_COUNT: usize = 20;

#[test]
fn valid_vectors_reproduce_exactly() {
    let files = json_files(&vectors_dir());
    assert!(files.len() >= 6, "vectors missing in {:?}", vectors_dir());
    assert_eq!(files.len(), VALID_COUNT, "valid vectors in {:?}: {files:?}", vectors_dir());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let (input, expected, _) = split_record(&text);
        let c = draw::compute(&input).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(String::from_utf8(c.result.clone()).unwrap(), String::from_utf8(expected.clone()).unwrap(), "{}", f.display());
        assert_eq!(c.result_digest, draw::digest_hex(&expected));
        // The published (pretty-printed) record verifies, and so does our own record.
        let v = draw::verify(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(v.result_digest, c.result_digest);
        let record = draw::record_json(&input, &c.result);
        let ours = draw::verify(std::str::from_utf8(&record).unwrap()).unwrap();
        assert_eq!(ours.result_digest, c.result_digest);
    }
}

#[test]
fn spec_example_digest_and_seed() {
    let text = std::fs::read_to_string(vectors_dir().join("01-spec-example.json")).unwrap();
    let (input, _, _) = split_record(&text);
    let c = draw::compute(&input).unwrap();
    let r: serde_json::Value = serde_json::from_slice(&c.result).unwrap();
    assert_eq!(r["announcement_digest"], "03c91aef12a579f97a073475a4688d8c6966cf7b0e797606448f0f67931408c9");
    assert_eq!(r["seed"], "9ef1c69da5765aa54cc57a201c388cdaed35a95ba9e9ba5dbe26247805a9c97e");
}

/// Each invalid vector, with words its error message must contain.
const INVALID: &[(&str, &[&str])] = &[
    ("byte-order-mark.json", &["byte-order mark"]),
    ("duplicate-source-name.json", &["duplicate source name", "witness-1", "announcement.sources[1]"]),
    ("empty-draw-id.json", &["announcement.draw_id", "not a valid id"]),
    ("float-seats.json", &["announcement", "seats", "1.0", "not an integer"]),
    ("negative-zero.json", &["roster[1]", "-0 is not allowed"]),
    ("no-sources.json", &["announcement.sources", "must not be empty"]),
    ("non-ascii-key.json", &["announcement", "not printable ASCII"]),
    ("repeated-key.json", &["duplicate member", "seats"]),
    ("too-deep.json", &["announcement", "nested deeper than 32"]),
    ("duplicate-id.json", &["duplicate id", "roster["]),
    ("extra-member.json", &["unexpected member", "weight", "roster["]),
    ("family-names-non-member.json", &["family", "roster["]),
    ("missing-source.json", &["missing source", "beacon"]),
    ("negative-seats.json", &["seats", ">= 0", "-1"]),
    ("priority-missing.json", &["priority", "missing member", "S02"]),
    ("unknown-school.json", &["unknown school", "S99", "prefs[1]"]),
    ("unsorted-roster.json", &["not sorted"]),
    ("wrong-commitment.json", &["commitment"]),
    ("wrong-root.json", &["roster_root"]),
    ("wrong-size.json", &["roster_size"]),
];

#[test]
fn invalid_vectors_are_refused_with_the_fault_named() {
    let dir = vectors_dir().join("invalid");
    let files = json_files(&dir);
    assert_eq!(files.len(), INVALID.len(), "every invalid vector has an expectation");
    assert_eq!(files.len(), INVALID_COUNT, "invalid vectors: {files:?}");
    // Iterate the directory, not the table: a file without an expectation fails.
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let words =
            INVALID.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("invalid vector {name} has no expectation in INVALID")).1;
        let text = std::fs::read_to_string(f).unwrap();
        let e = draw::compute(&text).expect_err(name).to_string();
        for w in words {
            assert!(e.contains(w), "{name}: message {e:?} lacks {w:?}");
        }
        // The same document as a record (with a result) is refused by verify too.
        let v = draw::verify(&text).expect_err(name).to_string();
        assert!(v.contains("invalid"), "{name}: verify said {v:?}");
    }
}

fn record_of(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(vectors_dir().join(name)).unwrap()).unwrap()
}

fn verify_value(v: &serde_json::Value) -> Result<draw::Verified, VerifyError> {
    draw::verify(&v.to_string())
}

fn mismatch(v: &serde_json::Value, words: &[&str]) {
    match verify_value(v) {
        Err(VerifyError::Mismatch(d)) => {
            let s = d.to_string();
            for w in words {
                assert!(s.contains(w), "{s:?} lacks {w:?}");
            }
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

fn invalid(v: &serde_json::Value, words: &[&str]) {
    match verify_value(v) {
        Err(VerifyError::Invalid(e)) => {
            let s = e.to_string();
            for w in words {
                assert!(s.contains(w), "{s:?} lacks {w:?}");
            }
        }
        other => panic!("expected an invalid record, got {other:?}"),
    }
}

#[test]
fn tampered_records_are_refused() {
    let rec = record_of("04-random-40-applicants-3-schools.json");
    assert!(verify_value(&rec).is_ok());

    // A lottery number.
    let mut t = rec.clone();
    let nums = t["result"]["lottery_numbers"].as_object_mut().unwrap();
    let (k, v) = nums.iter_mut().next().unwrap();
    let k = k.clone();
    *v = serde_json::json!(v.as_i64().unwrap() % 40 + 1);
    mismatch(&t, &["result.lottery_numbers", &k]);

    // Two ids swapped in the lottery order.
    let mut t = rec.clone();
    t["result"]["lottery"].as_array_mut().unwrap().swap(0, 1);
    mismatch(&t, &["result.lottery[0]"]);

    // An assignment: move the first admitted applicant of one school to unassigned.
    let mut t = rec.clone();
    let school = t["result"]["assignments"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, l)| !l.as_array().unwrap().is_empty())
        .map(|(s, _)| s.clone())
        .unwrap();
    let moved = t["result"]["assignments"][&school].as_array_mut().unwrap().remove(0);
    t["result"]["unassigned"].as_array_mut().unwrap().push(moved);
    mismatch(&t, &["result.assignments", &school]);

    // A waitlist entry dropped, an extra result member, a missing one.
    let mut t = rec.clone();
    t["result"]["extra"] = serde_json::json!(1);
    mismatch(&t, &["unexpected member", "extra"]);
    let mut t = rec.clone();
    t["result"].as_object_mut().unwrap().shift_remove("waitlists");
    mismatch(&t, &["missing member", "waitlists"]);

    // A source value: the committed one fails its commitment, the beacon changes the seed.
    let mut t = rec.clone();
    let n = t["sources"].as_array().unwrap().len();
    t["sources"][0]["value"] = serde_json::json!("tampered");
    invalid(&t, &["commitment"]);
    let mut t = rec.clone();
    t["sources"][n - 1]["value"] = serde_json::json!("tampered");
    mismatch(&t, &["result.seed"]);

    // Seats: the announcement digest changes.
    let mut t = rec.clone();
    let s = t["announcement"]["schools"][0]["seats"].as_i64().unwrap();
    t["announcement"]["schools"][0]["seats"] = serde_json::json!(s + 1);
    mismatch(&t, &["result.announcement_digest"]);

    // One roster entry: the root no longer matches.
    let mut t = rec.clone();
    let e = &mut t["roster"][3]["priority"];
    let first = e.as_object().unwrap().keys().next().unwrap().clone();
    e[&first] = serde_json::json!([0]);
    invalid(&t, &["roster_root"]);
}

#[test]
fn malformed_inputs_name_the_fault() {
    let rec = record_of("01-spec-example.json");
    let mut input = rec.clone();
    input.as_object_mut().unwrap().shift_remove("result");
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(Edit, &[&str])> = vec![
        (Box::new(|v| v["announcement"]["version"] = "ruxue-draw-v2".into()), &["announcement.version"]),
        (Box::new(|v| v["announcement"]["schools"][0]["seats"] = serde_json::json!(1.5)), &["seats"]),
        (Box::new(|v| v["announcement"]["schools"][0]["seats"] = "1".into()), &["seats", "integer"]),
        (Box::new(|v| v["announcement"]["schools"] = serde_json::json!([])), &["schools", "empty"]),
        (Box::new(|v| v["roster"] = serde_json::json!([])), &["roster", "empty"]),
        (Box::new(|v| v["roster"][0]["prefs"] = serde_json::json!([])), &["roster[0]", "prefs", "empty"]),
        (Box::new(|v| v["roster"][0]["prefs"] = serde_json::json!(["S01", "S01"])), &["roster[0]", "twice"]),
        (Box::new(|v| v["roster"][1]["priority"]["S01"] = serde_json::json!([4.5])), &["roster[1]", "float"]),
        (Box::new(|v| v["roster"][1]["priority"]["S01"] = serde_json::json!("1")), &["roster[1]", "invalid type"]),
        (Box::new(|v| v["roster"][1]["id"] = "R 2".into()), &["roster[1]", "not a valid id"]),
        (Box::new(|v| v["roster"][1]["family"] = "R0003".into()), &["roster[1]", "family", "R0003"]),
        (Box::new(|v| v["roster"][1]["family"] = serde_json::json!(3)), &["roster[1]", "family"]),
        (
            Box::new(|v| {
                v["roster"][1].as_object_mut().unwrap().shift_remove("prefs");
            }),
            &["roster[1]", "missing member", "prefs"],
        ),
        (Box::new(|v| v["extra"] = serde_json::json!(1)), &["unexpected member", "extra"]),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().shift_remove("sources");
            }),
            &["missing member", "sources"],
        ),
        (Box::new(|v| v["sources"][0]["name"] = "other".into()), &["sources[0].name"]),
        (Box::new(|v| v["sources"][0]["x"] = 1.into()), &["sources[0]", "unexpected member"]),
        (Box::new(|v| v["announcement"]["schools"][1]["id"] = "S01".into()), &["duplicate school id"]),
        (
            Box::new(|v| {
                v["announcement"].as_object_mut().unwrap().shift_remove("draw_id");
            }),
            &["announcement", "draw_id"],
        ),
        (Box::new(|v| v["announcement"]["roster_root"] = "ABC".into()), &["roster_root", "hex"]),
    ];
    for (k, (edit, words)) in cases.iter().enumerate() {
        let mut v = input.clone();
        edit(&mut v);
        let e = draw::compute(&v.to_string()).expect_err(&format!("case {k}")).to_string();
        for w in *words {
            assert!(e.contains(w), "case {k}: {e:?} lacks {w:?}");
        }
    }
    // A record is not an input, and garbage is refused without panicking.
    assert!(draw::compute(&rec.to_string()).unwrap_err().to_string().contains("result"));
    for junk in ["", "[]", "null", "{", "{\"announcement\":1,\"roster\":[],\"sources\":[]}", "\u{feff}{}"] {
        assert!(draw::compute(junk).is_err());
        assert!(draw::verify(junk).is_err());
    }
}

#[test]
fn proofs_for_a_vector() {
    let text = std::fs::read_to_string(vectors_dir().join("05-random-300-applicants-6-schools.json")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let root = rec["announcement"]["roster_root"].as_str().unwrap().to_string();
    for e in rec["roster"].as_array().unwrap().iter().step_by(7) {
        let id = e["id"].as_str().unwrap();
        let p = draw::inclusion_proof(&text, id).unwrap();
        assert!(p.check());
        assert_eq!(hex::encode(p.root), root);
        let back = draw::Proof::from_json(std::str::from_utf8(&p.to_json()).unwrap()).unwrap();
        assert_eq!(back, p);
        let mut bad = p.clone();
        bad.leaf_index = (bad.leaf_index + 1) % bad.tree_size;
        assert!(!bad.check());
    }
    assert!(draw::inclusion_proof(&text, "nobody").is_err());
}

/// The spec example as an input text (no result), compact.
fn example_input() -> String {
    let mut v = record_of("01-spec-example.json");
    v.as_object_mut().unwrap().shift_remove("result");
    v.to_string()
}

/// The spec example input with a free announcement member `note` (after
/// `version`), written as raw JSON text.
fn with_note(note: &str) -> String {
    let text = example_input();
    let at = "\"version\":\"ruxue-draw-v1\"";
    assert!(text.contains(at));
    text.replacen(at, &format!("{at},\"note\":{note}"), 1)
}

fn refused(text: &str, words: &[&str]) {
    let e = draw::compute(text).expect_err("must be refused").to_string();
    for w in words {
        assert!(e.contains(w), "{e:?} lacks {w:?}");
    }
}

#[test]
fn integers_have_one_plain_form_and_a_range() {
    let text = example_input();
    assert!(draw::compute(&text).is_ok());
    let seats = "\"seats\":1";
    assert!(text.contains(seats));
    // 2^64 and beyond are integers out of range, not floats (audit finding).
    for big in ["18446744073709551616", "-18446744073709551617", "9007199254740992", "-9007199254740992", "123456789012345678901234567890"]
    {
        let t = text.replacen(seats, &format!("\"seats\":{big}"), 1);
        refused(&t, &["seats", big, "out of range", "2^53-1"]);
        let e = draw::compute(&t).unwrap_err().to_string();
        assert!(!e.contains("float"), "{e}");
        let t = with_note(big);
        refused(&t, &["announcement.note", "out of range"]);
    }
    // ... also inside a priority list (the roster's own parser).
    let prio = "\"priority\":{\"S01\":[4,-38]}";
    assert!(text.contains(prio), "{text}");
    let t = text.replacen(prio, "\"priority\":{\"S01\":[4,18446744073709551616]}", 1);
    refused(&t, &["roster[1]", "18446744073709551616", "out of range"]);
    let t = text.replacen(prio, "\"priority\":{\"S01\":[4,-0]}", 1);
    refused(&t, &["roster[1]", "-0 is not allowed"]);
    let t = text.replacen(prio, "\"priority\":{\"S01\":[4,-3.8e1]}", 1);
    refused(&t, &["roster[1]", "-3.8e1", "not an integer"]);
    // -0, fractions and exponents in the announcement.
    for (num, word) in [
        ("-0", "-0 is not allowed"),
        ("1.0", "not an integer"),
        ("1e0", "not an integer"),
        ("1E+2", "not an integer"),
        ("-0.0", "not an integer"),
    ] {
        let t = text.replacen(seats, &format!("\"seats\":{num}"), 1);
        refused(&t, &["schools[0].seats", word]);
    }
    // Leading zeros and '+' are not JSON at all.
    for num in ["01", "+1", "-01"] {
        let t = text.replacen(seats, &format!("\"seats\":{num}"), 1);
        assert!(draw::compute(&t).is_err(), "{num}");
    }
    // In range at both ends: valid.
    for ok in ["9007199254740991", "-9007199254740991", "0", "-1"] {
        let t = with_note(&format!("[{ok}]"));
        draw::compute(&t).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    // A number inside a string is not a number: a key "-0" and a value "1.5" are fine.
    let t = with_note("{\"-0\":\"1.5\",\"x\":[1,2]}");
    assert!(draw::compute(&t).is_ok());
}

#[test]
fn keys_are_printable_ascii_everywhere() {
    let text = example_input();
    // Free announcement member, nested free member, source free member.
    refused(&with_note("{\"名\":1}"), &["not printable ASCII", "名"]);
    refused(&with_note("{\"a\":{\"é\":1}}"), &["not printable ASCII"]);
    refused(&with_note("{\"\\u007f\":1}"), &["not printable ASCII"]);
    refused(&with_note("{\"\\t\":1}"), &["not printable ASCII"]);
    let t = text.replacen("\"name\":\"beacon\"", "\"name\":\"beacon\",\"说明\":\"x\"", 1);
    refused(&t, &["announcement", "not printable ASCII"]);
    // Roster entries, priority members, the top object, revealed sources.
    let t = text.replacen("\"id\":\"R0001\"", "\"id\":\"R0001\",\"姓名\":\"x\"", 1);
    refused(&t, &["roster[0]", "not printable ASCII"]);
    let t = text.replacen("\"S01\":[4,-38]", "\"S01\":[4,-38],\"Ｓ01\":[1]", 1);
    refused(&t, &["roster[1]", "not printable ASCII"]);
    let t = text.replacen('{', "{\"é\":1,", 1);
    refused(&t, &["not printable ASCII"]);
    let t = text.replacen("\"value\":\"73920145\"", "\"value\":\"73920145\",\"é\":1", 1);
    refused(&t, &["sources", "not printable ASCII"]);
    // Printable ASCII, also when escaped, is fine; values may be any text.
    assert!(draw::compute(&with_note("{\" \":1,\"~\":2,\"\\u0041\":\"北京时间\"}")).is_ok());
    // In a record: a key in the result.
    let rec = std::fs::read_to_string(vectors_dir().join("01-spec-example.json")).unwrap();
    assert!(draw::verify(&rec).is_ok());
    let bad = rec.replacen("\"result\": {", "\"result\": {\"é\": 1,", 1);
    assert_ne!(bad, rec);
    let e = draw::verify(&bad).unwrap_err().to_string();
    assert!(e.contains("not printable ASCII"), "{e}");
    let bad = rec.replacen("\"lottery_numbers\": {", "\"lottery_numbers\": {\"é\": 1,", 1);
    assert_ne!(bad, rec);
    let e = draw::verify(&bad).unwrap_err().to_string();
    assert!(e.contains("not printable ASCII"), "{e}");
}

#[test]
fn nesting_is_at_most_32_levels() {
    // The top object is level 1, the announcement 2, `note` 3: k nested
    // arrays put the innermost one at level 2 + k.
    let nested = |k: usize| format!("{}\"x\"{}", "[".repeat(k), "]".repeat(k));
    draw::compute(&with_note(&nested(30))).expect("level 32 is allowed");
    refused(&with_note(&nested(31)), &["nested deeper than 32"]);
    let objs = |k: usize| format!("{}1{}", "{\"a\":".repeat(k), "}".repeat(k));
    draw::compute(&with_note(&objs(30))).expect("level 32 is allowed");
    refused(&with_note(&objs(31)), &["nested deeper than 32"]);
    // Far beyond serde_json's own recursion limit: still our message, no crash.
    refused(&with_note(&nested(100_000)), &["nested deeper than 32"]);
    // In revealed sources and in an unexpected result member of a record.
    let text = example_input();
    let t = text.replacen("\"value\":\"73920145\"", &format!("\"value\":{}", nested(40)), 1);
    refused(&t, &["nested deeper than 32"]);
    let rec = std::fs::read_to_string(vectors_dir().join("01-spec-example.json")).unwrap();
    let bad = rec.replacen("\"result\": {", &format!("\"result\": {{\"x\": {},", nested(40)), 1);
    let e = draw::verify(&bad).unwrap_err().to_string();
    assert!(e.contains("nested deeper than 32"), "{e}");
    // The proof parser follows the same rules.
    let e = draw::Proof::from_json(&format!("{{\"entry\":{}}}", nested(40))).unwrap_err().to_string();
    assert!(e.contains("nested deeper than 32"), "{e}");
}

#[test]
fn repeated_keys_are_refused_everywhere() {
    refused(&with_note("{\"a\":1,\"a\":1}"), &["duplicate member", "\"a\""]);
    let text = example_input();
    let t = text.replacen("\"id\":\"R0001\"", "\"id\":\"R0001\",\"id\":\"R0001\"", 1);
    refused(&t, &["roster[0]", "duplicate member"]);
    let t = text.replacen("\"S01\":[4,-38]", "\"S01\":[4,-38],\"S01\":[4,-38]", 1);
    refused(&t, &["roster[1]", "duplicate member"]);
    let t = text.replacen("\"value\":\"73920145\"", "\"value\":\"73920145\",\"value\":\"73920145\"", 1);
    refused(&t, &["sources", "duplicate member"]);
}

#[test]
fn identifiers_and_sources_follow_the_rules() {
    let text = example_input();
    let long = "D".repeat(65);
    for bad in ["", "-x", "a b", "北京", long.as_str(), "x/y"] {
        let t = text.replacen("\"2027-G1-FC-01\"", &format!("{bad:?}"), 1);
        refused(&t, &["announcement.draw_id", "not a valid id"]);
    }
    let ok = "D".repeat(64);
    let t = text.replacen("\"2027-G1-FC-01\"", &format!("{ok:?}"), 1);
    assert!(draw::compute(&t).is_ok());
    // Source names are identifiers, unique, and there is at least one source.
    let t = text.replace("\"witness-1\"", "\"witness 1\"");
    refused(&t, &["announcement.sources[0].name", "not a valid source name"]);
    let t = text.replace("\"witness-1\"", "\"beacon\"");
    refused(&t, &["duplicate source name", "beacon"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut t = v.clone();
    t["announcement"]["sources"] = serde_json::json!([]);
    t["sources"] = serde_json::json!([]);
    refused(&t.to_string(), &["announcement.sources", "must not be empty"]);
}

// ---------------------------------------------------------------------------
// Records are CJSON (§8), with record_digest; proofs need the announced root
// and size (§9); beacons (beacon-drand.md); signed announcements.

#[test]
fn records_are_canonical_json_with_a_digest() {
    for f in json_files(&vectors_dir()) {
        let text = std::fs::read_to_string(&f).unwrap();
        let (input, _, _) = split_record(&text);
        let c = draw::compute(&input).unwrap();
        // The record is CJSON(vector): canonical, whatever the input's layout.
        let canonical = cjson::parse(&text).unwrap().to_bytes();
        assert_eq!(String::from_utf8(c.record.clone()).unwrap(), String::from_utf8(canonical).unwrap(), "{}", f.display());
        assert_eq!(c.record_digest, draw::digest_hex(&c.record));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(c.announcement_digest, v["result"]["announcement_digest"].as_str().unwrap());
        // A pretty-printed input gives the same record bytes.
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&input).unwrap()).unwrap();
        assert_eq!(draw::compute(&pretty).unwrap().record, c.record);
        // record_json agrees, and verify reports the same digests.
        assert_eq!(draw::record_json(&input, &c.result), c.record);
        let ours = draw::verify(std::str::from_utf8(&c.record).unwrap()).unwrap();
        assert!(ours.canonical);
        assert_eq!(ours.record_digest, c.record_digest);
        assert_eq!(ours.announcement_digest, c.announcement_digest);
        let theirs = draw::verify(&text).unwrap();
        assert!(!theirs.canonical, "the vectors are pretty-printed");
        assert_eq!(theirs.record_digest, c.record_digest);
        // One byte more is not canonical any more (but still verifies).
        let mut nl = c.record.clone();
        nl.push(b'\n');
        let v = draw::verify(std::str::from_utf8(&nl).unwrap()).unwrap();
        assert!(!v.canonical);
        assert_eq!(v.record_digest, c.record_digest);
    }
}

#[test]
fn a_proof_with_a_false_tree_size_is_refused() {
    let text = std::fs::read_to_string(vectors_dir().join("05-random-300-applicants-6-schools.json")).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut root = [0u8; 32];
    hex::decode_to_slice(rec["announcement"]["roster_root"].as_str().unwrap(), &mut root).unwrap();
    let n = rec["roster"].as_array().unwrap().len() as u64;
    let mut forged = 0;
    for e in rec["roster"].as_array().unwrap().iter().step_by(5) {
        let p = draw::inclusion_proof(&text, e["id"].as_str().unwrap()).unwrap();
        assert!(p.check_against(&root, n).is_ok());
        // The same path presented with another tree size.
        for fake in p.leaf_index + 1..2 * n {
            if fake == n {
                continue;
            }
            let mut bad = p.clone();
            bad.tree_size = fake;
            if bad.check() {
                forged += 1;
                // It passes on its own (the audit's finding) ...
                let e = bad.check_against(&root, n).unwrap_err();
                assert!(e.contains("roster_size"), "{e}");
            }
        }
        let mut other = root;
        other[0] ^= 1;
        assert!(p.check_against(&other, n).unwrap_err().contains("roster_root"));
        assert!(p.check_against(&root, n + 1).is_err());
    }
    assert!(forged > 0, "expected paths that fit a false tree size");
}

/// Round 657413 of quicknet (beacon-drand.md).
const SIG_657413: &str = "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be41076862b98fad56e91a6b85b89cd97b";

/// The spec example with its beacon naming quicknet round 657413 and
/// revealing `value`.
fn drand_input(value: &str, chain: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(&example_input()).unwrap();
    v["announcement"]["sources"][1]["drand"] = serde_json::json!({"chain_hash": chain, "round": 657413});
    v["sources"][1]["value"] = value.into();
    v.to_string()
}

#[test]
fn beacon_values_are_checked() {
    let c = draw::compute(&drand_input(SIG_657413, beacon::QUICKNET_CHAIN_HASH)).unwrap();
    assert_eq!(c.checks.beacons.len(), 1);
    assert_eq!(c.checks.beacons[0].round, 657413);
    assert_eq!(c.checks.commitments, vec!["witness-1".to_string()]);
    assert!(c.checks.unchecked_sources.is_empty());
    let v = draw::verify(std::str::from_utf8(&c.record).unwrap()).unwrap();
    assert_eq!(v.checks, c.checks);
    // A flipped byte, another chain, garbage: the input is refused, and so
    // is a record carrying it.
    let mut flipped = hex::decode(SIG_657413).unwrap();
    flipped[10] ^= 0x80;
    for (value, chain, word) in [
        (hex::encode(&flipped), beacon::QUICKNET_CHAIN_HASH, "beacon check failed"),
        (SIG_657413.to_string(), "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce", "unknown drand chain"),
        ("9f1c0d2e".to_string(), beacon::QUICKNET_CHAIN_HASH, "96 lower-case hex digits"),
    ] {
        let e = draw::compute(&drand_input(&value, chain)).unwrap_err().to_string();
        assert!(e.contains("sources[1]") && e.contains(word), "{e}");
    }
    let rec = String::from_utf8(c.record).unwrap();
    let bad = rec.replace(SIG_657413, &hex::encode(&flipped));
    assert!(draw::verify(&bad).unwrap_err().to_string().contains("beacon check failed"));
    // A malformed drand member makes the announcement invalid.
    let mut v: serde_json::Value = serde_json::from_str(&example_input()).unwrap();
    v["announcement"]["sources"][1]["drand"] = serde_json::json!({"chain_hash": beacon::QUICKNET_CHAIN_HASH});
    let e = draw::compute(&v.to_string()).unwrap_err().to_string();
    assert!(e.contains("announcement.sources[1]") && e.contains("round"), "{e}");
}

// --- the command line ------------------------------------------------------

fn ruxue(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ruxue")).arg("draw").args(args).output().expect("run ruxue");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn write_tmp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn cli_compute_prints_the_cjson_record_and_digests() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(vectors_dir().join("04-random-40-applicants-3-schools.json")).unwrap();
    let (input, _, _) = split_record(&text);
    let inp = write_tmp(&dir, "in.json", input.as_bytes());
    let (code, out, err) = ruxue(&["compute", &inp]);
    assert_eq!(code, 0, "{err}");
    let c = draw::compute(&input).unwrap();
    assert_eq!(out.as_bytes(), c.record.as_slice(), "stdout is exactly CJSON(record)");
    assert_eq!(draw::digest_hex(out.as_bytes()), c.record_digest);
    for line in [
        format!("result_digest: {}", c.result_digest),
        format!("announcement_digest: {}", c.announcement_digest),
        format!("record_digest: {}", c.record_digest),
    ] {
        assert!(err.contains(&line), "{err} lacks {line}");
    }
    assert!(err.contains("commitments ("), "{err}");
    // verify: stdout keeps its contract (the result digest); stderr lists digests and checks.
    let rec = write_tmp(&dir, "rec.json", out.as_bytes());
    let (code, vout, verr) = ruxue(&["verify", &rec]);
    assert_eq!(code, 0, "{verr}");
    assert_eq!(vout.trim(), c.result_digest);
    assert!(verr.contains(&format!("record_digest: {} (the file is exactly CJSON(record))", c.record_digest)), "{verr}");
    assert!(verr.contains(&format!("announcement_digest: {}", c.announcement_digest)), "{verr}");
    assert!(
        verr.contains("checked: input rules and roster root and size; result recomputed; commitments (2: witness-1, witness-2)"),
        "{verr}"
    );
    assert!(verr.contains("not checked: announcement signature (no --announcement given"), "{verr}");
    assert!(verr.contains("source \"beacon\" (no commitment and no drand round"), "{verr}");
    // The pretty-printed vector verifies too, with the same record digest.
    let (code, _, verr) = ruxue(&["verify", vectors_dir().join("04-random-40-applicants-3-schools.json").to_str().unwrap()]);
    assert_eq!(code, 0, "{verr}");
    assert!(verr.contains(&format!("record_digest: {} (of the record's canonical form", c.record_digest)), "{verr}");
}

#[test]
fn cli_check_proof_needs_the_announced_root_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let vec05 = vectors_dir().join("05-random-300-applicants-6-schools.json");
    let text = std::fs::read_to_string(&vec05).unwrap();
    let rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let root = rec["announcement"]["roster_root"].as_str().unwrap().to_string();
    let n = rec["roster"].as_array().unwrap().len() as u64;
    let id = rec["roster"][7]["id"].as_str().unwrap();
    let (code, proof, err) = ruxue(&["proof", vec05.to_str().unwrap(), id]);
    assert_eq!(code, 0, "{err}");
    let pf = write_tmp(&dir, "proof.json", proof.as_bytes());
    let size = n.to_string();
    // Without both root and size: never "ok".
    for args in [
        vec!["check-proof", pf.as_str()],
        vec!["check-proof", pf.as_str(), "--root", root.as_str()],
        vec!["check-proof", pf.as_str(), "--size", size.as_str()],
    ] {
        let (code, out, err) = ruxue(&args);
        assert_ne!(code, 0, "{args:?}: {out}");
        assert!(!out.contains("ok"), "{args:?}: {out}");
        assert!(err.contains("--size") || err.contains("roster_size"), "{args:?}: {err}");
    }
    let (code, out, err) = ruxue(&["check-proof", &pf, "--root", &root, "--size", &size]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok: entry"), "{out}");
    let (code, out, err) = ruxue(&["check-proof", &pf, "--announcement", vec05.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok: entry"), "{out}");
    // The audit's case: a proof whose tree size is false, with its own root.
    let p = draw::Proof::from_json(&proof).unwrap();
    let mut forged = None;
    for i in 0..n {
        let q = draw::inclusion_proof(&text, rec["roster"][i as usize]["id"].as_str().unwrap()).unwrap();
        if let Some(fake) = (q.leaf_index + 1..2 * n).filter(|&f| f != n).find(|&f| {
            let mut b = q.clone();
            b.tree_size = f;
            b.check()
        }) {
            let mut b = q.clone();
            b.tree_size = fake;
            forged = Some(b);
            break;
        }
    }
    let forged = forged.expect("a path that fits another size");
    let ff = write_tmp(&dir, "forged.json", &forged.to_json());
    for args in [
        vec!["check-proof", ff.as_str(), "--root", root.as_str(), "--size", size.as_str()],
        vec!["check-proof", ff.as_str(), "--announcement", vec05.to_str().unwrap()],
    ] {
        let (code, out, err) = ruxue(&args);
        assert_eq!(code, 1, "{args:?}: {out}");
        assert!(err.contains("roster_size"), "{err}");
    }
    assert!(p.check());
}

#[test]
fn cli_verify_checks_the_signed_announcement_and_the_beacon() {
    let dir = tempfile::tempdir().unwrap();
    let c = draw::compute(&drand_input(SIG_657413, beacon::QUICKNET_CHAIN_HASH)).unwrap();
    let rec = write_tmp(&dir, "rec.json", &c.record);
    let v: serde_json::Value = serde_json::from_slice(&c.record).unwrap();
    let ann = cjson::parse(&v["announcement"].to_string()).unwrap();
    let key = announce::SigningKey::from_seed([42; 32]).unwrap();
    let jws = write_tmp(&dir, "ann.jws", announce::sign(&ann, &key).unwrap().as_bytes());
    let jwk = write_tmp(&dir, "key.jwk", key.public_jwk().as_bytes());
    let kid = announce::key_id(&key.public_key());

    let (code, out, err) = ruxue(&["verify", &rec, "--announcement", &jws, "--key", &jwk]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), c.result_digest);
    assert!(err.contains("beacon drand quicknet round 657413 (source \"beacon\")"), "{err}");
    assert!(err.contains(&format!("announcement signature (key id {kid})")), "{err}");
    assert!(err.contains("record's announcement is the signed one"), "{err}");
    assert!(!err.contains("not checked"), "{err}");
    // Without --key: the payload is compared, the signature is said not checked.
    let (code, _, err) = ruxue(&["verify", &rec, "--announcement", &jws]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not checked: announcement signature (no --key given)"), "{err}");
    // --key needs --announcement.
    let (code, _, _) = ruxue(&["verify", &rec, "--key", &jwk]);
    assert_ne!(code, 0);
    // A wrong key, a tampered JWS, another announcement: exit 1.
    let other = write_tmp(&dir, "other.jwk", announce::SigningKey::from_seed([43; 32]).unwrap().public_jwk().as_bytes());
    let (code, _, err) = ruxue(&["verify", &rec, "--announcement", &jws, "--key", &other]);
    assert_eq!(code, 1, "{err}");
    let signed = std::fs::read_to_string(&jws).unwrap();
    let mut parts: Vec<String> = signed.split('.').map(str::to_string).collect();
    let mut sig = parts[2].clone().into_bytes();
    sig[3] = if sig[3] == b'A' { b'B' } else { b'A' };
    parts[2] = String::from_utf8(sig).unwrap();
    let bad = write_tmp(&dir, "bad.jws", parts.join(".").as_bytes());
    let (code, _, err) = ruxue(&["verify", &rec, "--announcement", &bad, "--key", &jwk]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does NOT verify"), "{err}");
    let mut ann2 = ann.clone();
    if let cjson::CVal::Obj(m) = &mut ann2 {
        m.insert("title".into(), cjson::CVal::Str("另一次派位".into()));
    }
    let jws2 = write_tmp(&dir, "ann2.jws", announce::sign(&ann2, &key).unwrap().as_bytes());
    let (code, _, err) = ruxue(&["verify", &rec, "--announcement", &jws2, "--key", &jwk]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not the signed announcement"), "{err}");
    // A record whose beacon value fails: exit 1.
    let mut flipped = hex::decode(SIG_657413).unwrap();
    flipped[0] ^= 0x01;
    let bad_rec = String::from_utf8(c.record.clone()).unwrap().replace(SIG_657413, &hex::encode(flipped));
    let br = write_tmp(&dir, "badrec.json", bad_rec.as_bytes());
    let (code, _, err) = ruxue(&["verify", &br]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("beacon check failed"), "{err}");
    // check-proof against the signed announcement, with its key.
    let (code, proof, _) = ruxue(&["proof", &rec, "R0001"]);
    assert_eq!(code, 0);
    let pf = write_tmp(&dir, "proof.json", proof.as_bytes());
    let (code, out, err) = ruxue(&["check-proof", &pf, "--announcement", &jws, "--key", &jwk]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok: entry R0001"), "{out}");
    assert!(err.contains("checked: announcement signature"), "{err}");
    let (code, out, _) = ruxue(&["check-proof", &pf, "--announcement", &bad, "--key", &jwk]);
    assert_eq!(code, 1);
    assert!(!out.contains("ok"));
}
