//! The published vectors of `ruxue-draw-v1` (tests/vectors, copied from the
//! spec): every valid vector reproduces its `result` byte for byte, every
//! file under `invalid/` is refused with a message naming the fault, and
//! tampered records are refused.

use std::path::PathBuf;

use ruxue::draw::{self, cjson, VerifyError};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

fn json_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    v
}

/// Split a record into (input text, canonical bytes of its result).
fn split_record(text: &str) -> (String, Vec<u8>, serde_json::Value) {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let result = v
        .as_object_mut()
        .unwrap()
        .shift_remove("result")
        .expect("vector has a result");
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
    assert_eq!(
        files.len(),
        VALID_COUNT,
        "valid vectors in {:?}: {files:?}",
        vectors_dir()
    );
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let (input, expected, _) = split_record(&text);
        let c = draw::compute(&input).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert_eq!(
            String::from_utf8(c.result.clone()).unwrap(),
            String::from_utf8(expected.clone()).unwrap(),
            "{}",
            f.display()
        );
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
    assert_eq!(
        r["announcement_digest"],
        "03c91aef12a579f97a073475a4688d8c6966cf7b0e797606448f0f67931408c9"
    );
    assert_eq!(
        r["seed"],
        "9ef1c69da5765aa54cc57a201c388cdaed35a95ba9e9ba5dbe26247805a9c97e"
    );
}

/// Each invalid vector, with words its error message must contain.
const INVALID: &[(&str, &[&str])] = &[
    ("byte-order-mark.json", &["byte-order mark"]),
    (
        "duplicate-source-name.json",
        &[
            "duplicate source name",
            "witness-1",
            "announcement.sources[1]",
        ],
    ),
    (
        "empty-draw-id.json",
        &["announcement.draw_id", "not a valid id"],
    ),
    (
        "float-seats.json",
        &["announcement", "seats", "1.0", "not an integer"],
    ),
    ("negative-zero.json", &["roster[1]", "-0 is not allowed"]),
    (
        "no-sources.json",
        &["announcement.sources", "must not be empty"],
    ),
    (
        "non-ascii-key.json",
        &["announcement", "not printable ASCII"],
    ),
    ("repeated-key.json", &["duplicate member", "seats"]),
    ("too-deep.json", &["announcement", "nested deeper than 32"]),
    ("duplicate-id.json", &["duplicate id", "roster["]),
    (
        "extra-member.json",
        &["unexpected member", "weight", "roster["],
    ),
    ("family-names-non-member.json", &["family", "roster["]),
    ("missing-source.json", &["missing source", "beacon"]),
    ("negative-seats.json", &["seats", ">= 0", "-1"]),
    (
        "priority-missing.json",
        &["priority", "missing member", "S02"],
    ),
    (
        "unknown-school.json",
        &["unknown school", "S99", "prefs[1]"],
    ),
    ("unsorted-roster.json", &["not sorted"]),
    ("wrong-commitment.json", &["commitment"]),
    ("wrong-root.json", &["roster_root"]),
    ("wrong-size.json", &["roster_size"]),
];

#[test]
fn invalid_vectors_are_refused_with_the_fault_named() {
    let dir = vectors_dir().join("invalid");
    let files = json_files(&dir);
    assert_eq!(
        files.len(),
        INVALID.len(),
        "every invalid vector has an expectation"
    );
    assert_eq!(files.len(), INVALID_COUNT, "invalid vectors: {files:?}");
    // Iterate the directory, not the table: a file without an expectation fails.
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        let words = INVALID
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("invalid vector {name} has no expectation in INVALID"))
            .1;
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
    let moved = t["result"]["assignments"][&school]
        .as_array_mut()
        .unwrap()
        .remove(0);
    t["result"]["unassigned"]
        .as_array_mut()
        .unwrap()
        .push(moved);
    mismatch(&t, &["result.assignments", &school]);

    // A waitlist entry dropped, an extra result member, a missing one.
    let mut t = rec.clone();
    t["result"]["extra"] = serde_json::json!(1);
    mismatch(&t, &["unexpected member", "extra"]);
    let mut t = rec.clone();
    t["result"]
        .as_object_mut()
        .unwrap()
        .shift_remove("waitlists");
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
        (
            Box::new(|v| v["announcement"]["version"] = "ruxue-draw-v2".into()),
            &["announcement.version"],
        ),
        (
            Box::new(|v| v["announcement"]["schools"][0]["seats"] = serde_json::json!(1.5)),
            &["seats"],
        ),
        (
            Box::new(|v| v["announcement"]["schools"][0]["seats"] = "1".into()),
            &["seats", "integer"],
        ),
        (
            Box::new(|v| v["announcement"]["schools"] = serde_json::json!([])),
            &["schools", "empty"],
        ),
        (
            Box::new(|v| v["roster"] = serde_json::json!([])),
            &["roster", "empty"],
        ),
        (
            Box::new(|v| v["roster"][0]["prefs"] = serde_json::json!([])),
            &["roster[0]", "prefs", "empty"],
        ),
        (
            Box::new(|v| v["roster"][0]["prefs"] = serde_json::json!(["S01", "S01"])),
            &["roster[0]", "twice"],
        ),
        (
            Box::new(|v| v["roster"][1]["priority"]["S01"] = serde_json::json!([4.5])),
            &["roster[1]", "float"],
        ),
        (
            Box::new(|v| v["roster"][1]["priority"]["S01"] = serde_json::json!("1")),
            &["roster[1]", "invalid type"],
        ),
        (
            Box::new(|v| v["roster"][1]["id"] = "R 2".into()),
            &["roster[1]", "not a valid id"],
        ),
        (
            Box::new(|v| v["roster"][1]["family"] = "R0003".into()),
            &["roster[1]", "family", "R0003"],
        ),
        (
            Box::new(|v| v["roster"][1]["family"] = serde_json::json!(3)),
            &["roster[1]", "family"],
        ),
        (
            Box::new(|v| {
                v["roster"][1]
                    .as_object_mut()
                    .unwrap()
                    .shift_remove("prefs");
            }),
            &["roster[1]", "missing member", "prefs"],
        ),
        (
            Box::new(|v| v["extra"] = serde_json::json!(1)),
            &["unexpected member", "extra"],
        ),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().shift_remove("sources");
            }),
            &["missing member", "sources"],
        ),
        (
            Box::new(|v| v["sources"][0]["name"] = "other".into()),
            &["sources[0].name"],
        ),
        (
            Box::new(|v| v["sources"][0]["x"] = 1.into()),
            &["sources[0]", "unexpected member"],
        ),
        (
            Box::new(|v| v["announcement"]["schools"][1]["id"] = "S01".into()),
            &["duplicate school id"],
        ),
        (
            Box::new(|v| {
                v["announcement"]
                    .as_object_mut()
                    .unwrap()
                    .shift_remove("draw_id");
            }),
            &["announcement", "draw_id"],
        ),
        (
            Box::new(|v| v["announcement"]["roster_root"] = "ABC".into()),
            &["roster_root", "hex"],
        ),
    ];
    for (k, (edit, words)) in cases.iter().enumerate() {
        let mut v = input.clone();
        edit(&mut v);
        let e = draw::compute(&v.to_string())
            .expect_err(&format!("case {k}"))
            .to_string();
        for w in *words {
            assert!(e.contains(w), "case {k}: {e:?} lacks {w:?}");
        }
    }
    // A record is not an input, and garbage is refused without panicking.
    assert!(draw::compute(&rec.to_string())
        .unwrap_err()
        .to_string()
        .contains("result"));
    for junk in [
        "",
        "[]",
        "null",
        "{",
        "{\"announcement\":1,\"roster\":[],\"sources\":[]}",
        "\u{feff}{}",
    ] {
        assert!(draw::compute(junk).is_err());
        assert!(draw::verify(junk).is_err());
    }
}

#[test]
fn proofs_for_a_vector() {
    let text =
        std::fs::read_to_string(vectors_dir().join("05-random-300-applicants-6-schools.json"))
            .unwrap();
    let rec: serde_json::Value = serde_json::from_str(&text).unwrap();
    let root = rec["announcement"]["roster_root"]
        .as_str()
        .unwrap()
        .to_string();
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
    let e = draw::compute(text)
        .expect_err("must be refused")
        .to_string();
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
    for big in [
        "18446744073709551616",
        "-18446744073709551617",
        "9007199254740992",
        "-9007199254740992",
        "123456789012345678901234567890",
    ] {
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
    let t = text.replacen(
        "\"name\":\"beacon\"",
        "\"name\":\"beacon\",\"说明\":\"x\"",
        1,
    );
    refused(&t, &["announcement", "not printable ASCII"]);
    // Roster entries, priority members, the top object, revealed sources.
    let t = text.replacen("\"id\":\"R0001\"", "\"id\":\"R0001\",\"姓名\":\"x\"", 1);
    refused(&t, &["roster[0]", "not printable ASCII"]);
    let t = text.replacen("\"S01\":[4,-38]", "\"S01\":[4,-38],\"Ｓ01\":[1]", 1);
    refused(&t, &["roster[1]", "not printable ASCII"]);
    let t = text.replacen('{', "{\"é\":1,", 1);
    refused(&t, &["not printable ASCII"]);
    let t = text.replacen(
        "\"value\":\"73920145\"",
        "\"value\":\"73920145\",\"é\":1",
        1,
    );
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
    let bad = rec.replacen(
        "\"lottery_numbers\": {",
        "\"lottery_numbers\": {\"é\": 1,",
        1,
    );
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
    let t = text.replacen(
        "\"value\":\"73920145\"",
        &format!("\"value\":{}", nested(40)),
        1,
    );
    refused(&t, &["nested deeper than 32"]);
    let rec = std::fs::read_to_string(vectors_dir().join("01-spec-example.json")).unwrap();
    let bad = rec.replacen(
        "\"result\": {",
        &format!("\"result\": {{\"x\": {},", nested(40)),
        1,
    );
    let e = draw::verify(&bad).unwrap_err().to_string();
    assert!(e.contains("nested deeper than 32"), "{e}");
    // The proof parser follows the same rules.
    let e = draw::Proof::from_json(&format!("{{\"entry\":{}}}", nested(40)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("nested deeper than 32"), "{e}");
}

#[test]
fn repeated_keys_are_refused_everywhere() {
    refused(
        &with_note("{\"a\":1,\"a\":1}"),
        &["duplicate member", "\"a\""],
    );
    let text = example_input();
    let t = text.replacen("\"id\":\"R0001\"", "\"id\":\"R0001\",\"id\":\"R0001\"", 1);
    refused(&t, &["roster[0]", "duplicate member"]);
    let t = text.replacen("\"S01\":[4,-38]", "\"S01\":[4,-38],\"S01\":[4,-38]", 1);
    refused(&t, &["roster[1]", "duplicate member"]);
    let t = text.replacen(
        "\"value\":\"73920145\"",
        "\"value\":\"73920145\",\"value\":\"73920145\"",
        1,
    );
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
    let ok = format!("{}", "D".repeat(64));
    let t = text.replacen("\"2027-G1-FC-01\"", &format!("{ok:?}"), 1);
    assert!(draw::compute(&t).is_ok());
    // Source names are identifiers, unique, and there is at least one source.
    let t = text.replace("\"witness-1\"", "\"witness 1\"");
    refused(
        &t,
        &["announcement.sources[0].name", "not a valid source name"],
    );
    let t = text.replace("\"witness-1\"", "\"beacon\"");
    refused(&t, &["duplicate source name", "beacon"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut t = v.clone();
    t["announcement"]["sources"] = serde_json::json!([]);
    t["sources"] = serde_json::json!([]);
    refused(
        &t.to_string(),
        &["announcement.sources", "must not be empty"],
    );
}
