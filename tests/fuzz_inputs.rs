// Fuzz targets (issue 14): the parsers that read what outsiders write — ID
// numbers, free-text addresses, catchment imports, canonical JSON, draw
// inputs, records and proofs — never panic on arbitrary input, and keep
// their round-trip properties. Each target runs `FUZZ_CASES` cases
// (default 512; `RUXUE_FUZZ_CASES=20000 cargo test --release --test
// fuzz_inputs` for a long run). Counts and durations: docs/security.md.

use proptest::prelude::*;
use ruxue::catchment::{self, address, io};
use ruxue::draw::{self, cjson, cjson::CVal, gen};
use ruxue::identity::idcard;
use std::collections::BTreeMap;

fn cases() -> u32 {
    std::env::var("RUXUE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() }
}

/// Text that looks a little like what the parsers expect, and a lot like what they don't.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(
            prop_oneof![
                Just("镇".to_string()),
                Just("路".to_string()),
                Just("号".to_string()),
                Just("社区".to_string()),
                Just("栋".to_string()),
                Just("-".to_string()),
                Just("之一".to_string()),
                Just("\u{0}".to_string()),
                Just("𠈌".to_string()),
                Just("９".to_string()),
                "[0-9]{1,12}",
                "[a-zA-Z ]{0,4}",
                "\\PC{0,3}",
            ],
            0..24
        )
        .prop_map(|parts| parts.concat()),
    ]
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2027, 5, 1).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn idcard_never_panics(s in hostile_text(), digits in "[0-9xX]{0,20}") {
        let _ = idcard::normalise(&s);
        let _ = idcard::parse(&s, today());
        let _ = idcard::parse(&digits, today());
        let _ = idcard::convert_15_to_18(&digits);
        let _ = idcard::check_digit(&digits);
        let _ = idcard::is_valid_province(&digits);
    }

    #[test]
    fn idcard_check_digit_round_trip(region in prop::sample::select(vec!["350524", "110101", "440305", "510104"]),
                                     days in 0i64..6000, seq in 0u32..1000) {
        let birth = chrono::NaiveDate::from_ymd_opt(2008, 1, 1).unwrap() + chrono::Duration::days(days);
        let first = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
        let check = idcard::check_digit(&first).unwrap();
        let id = format!("{first}{check}");
        let parsed = idcard::parse(&id, today()).unwrap();
        prop_assert_eq!(parsed.birth_date, birth);
        // Any other check digit is refused; lower-case x is the same number.
        for other in "0123456789X".chars().filter(|c| *c != check) {
            let wrong = format!("{first}{other}");
            prop_assert!(idcard::parse(&wrong, today()).is_err(), "{}", wrong);
        }
        prop_assert_eq!(idcard::parse(&id.to_lowercase(), today()).unwrap().birth_date, birth);
    }

    #[test]
    fn address_parser_never_panics(s in hostile_text()) {
        let p = address::parse_address(&s);
        let _ = p.address.display();
        let _ = p.address.building_number();
        let _ = address::normalize_text(&s);
        let _ = address::compound_key(&s);
    }

    #[test]
    fn street_addresses_round_trip(t in prop::sample::select(vec!["凤城镇", "城厢镇", "官桥镇"]),
                                  r in prop::sample::select(vec!["二环路", "河滨北路", "中山街", "建安大道"]),
                                  n in 1u32..2000) {
        let a = address::Address::street(t, r, Some(n));
        let p = address::parse_address(&a.display());
        prop_assert_eq!(p.address.township.as_deref(), Some(t));
        prop_assert_eq!(p.address.road.as_deref(), Some(r));
        prop_assert_eq!(p.address.number, Some(n));
    }

    #[test]
    fn catchment_import_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048), text in hostile_text()) {
        let _ = io::import_rules_csv(&bytes);
        let _ = io::import_rules_xlsx(&bytes);
        let _ = io::import_rules_csv(text.as_bytes());
        let mut csv = catchment::DEMO_RULES_CSV.as_bytes().to_vec();
        let at = bytes.len() % csv.len();
        csv.splice(at..at, text.bytes());
        let _ = io::import_rules_csv(&csv);
    }

    #[test]
    fn catchment_export_import_round_trip(pick in proptest::collection::vec(any::<bool>(), 1..64)) {
        let all = catchment::demo_rules();
        let rules: Vec<_> = all.iter().zip(pick.iter().cycle()).filter(|(_, k)| **k).map(|(r, _)| r.clone()).collect();
        prop_assume!(!rules.is_empty());
        let back = io::import_rules_csv(&io::export_rules_csv(&rules)).unwrap();
        prop_assert_eq!(back, rules);
    }

    #[test]
    fn cjson_never_panics(s in hostile_text(), bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = cjson::parse(&s);
        let _ = cjson::parse(&String::from_utf8_lossy(&bytes));
        let deep = "[".repeat(bytes.len() * 4) + &"]".repeat(bytes.len() * 4);
        let _ = cjson::parse(&deep);
    }

    #[test]
    fn cjson_round_trip(v in cval()) {
        let mut out = Vec::new();
        v.write(&mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        let back = cjson::parse(&text).unwrap();
        prop_assert_eq!(&back, &v);
        let mut again = Vec::new();
        back.write(&mut again);
        prop_assert_eq!(again, out);
    }

    #[test]
    fn draw_parsers_never_panic(s in hostile_text(), flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let _ = draw::compute(&s);
        let _ = draw::verify(&s);
        let _ = draw::Proof::from_json(&s);
        // A valid input and its record with bytes changed here and there.
        let d = gen::generate(&gen::GenParams { applicants: 12, schools: 3, seed_text: s.clone(), ..Default::default() });
        let input = d.to_input_json();
        let computed = draw::compute(std::str::from_utf8(&input).unwrap()).unwrap();
        for target in [input, computed.record.clone()] {
            let mut bad = target.clone();
            for (i, b) in &flips {
                let at = i.index(bad.len());
                bad[at] = *b;
            }
            let text = String::from_utf8_lossy(&bad);
            let _ = draw::compute(&text);
            let _ = draw::verify(&text);
        }
    }

    #[test]
    fn draw_record_round_trip(seed in "[a-z]{1,12}", applicants in 1usize..40) {
        let d = gen::generate(&gen::GenParams { applicants, schools: 4, seed_text: seed, ..Default::default() });
        let input = String::from_utf8(d.to_input_json()).unwrap();
        let computed = draw::compute(&input).unwrap();
        let v = draw::verify(std::str::from_utf8(&computed.record).unwrap()).unwrap();
        prop_assert_eq!(v.result_digest, computed.result_digest);
    }
}

fn cval() -> impl Strategy<Value = CVal> {
    let leaf = prop_oneof![
        Just(CVal::Null),
        any::<bool>().prop_map(CVal::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(CVal::Int),
        any::<String>().prop_map(CVal::Str),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(CVal::Arr),
            proptest::collection::vec(("[ -~]{0,8}", inner), 0..6).prop_map(|kv| CVal::Obj(kv.into_iter().collect::<BTreeMap<_, _>>())),
        ]
    })
}
