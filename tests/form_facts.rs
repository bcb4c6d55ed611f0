//! The child form collects every fact the policy reads (issue 10, item 2).
//!
//! A policy cut-off that reads a fact the form never asks for silently
//! refuses a category to every child registered online: the residence
//! permit's issue date was such a fact, and every 随迁子女 fell to the last
//! tier. These tests fail when that can happen again:
//!
//! - every field of the policy's facts is filled by a fully answered form;
//! - every cut-off of the policy document is fed by a named form field, and
//!   moving that field across the cut-off changes the category the policy
//!   computes from the form's facts.

use chrono::NaiveDate;
use ruxue::catchment::{demo_directory, demo_primary_rules};
use ruxue::policy::*;
use ruxue::registration::forms::{age_rule, validate_child, ChildForm, ChildRules};
use serde_json::Value;
use std::collections::BTreeSet;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const TODAY: &str = "2027-06-01";
const CUTOFF: &str = "2027-03-31";

/// Fields of the facts the form does not collect, and why.
const NOT_FROM_THE_FORM: &[(&str, &str)] =
    &[("application_no", "assigned on submit"), ("family_id", "derived on submit from the guardian's other children born the same day")];

/// Which form field feeds each cut-off of the policy document.
const CUTOFF_FIELDS: &[(&str, &str)] = &[
    ("residence", "residence_start"),
    ("property_acquired_by", "prop_acquired_on"),
    ("permit_issued_by", "permit_issued_on"),
    ("social_insurance", "social_insurance_months"),
];

fn policy() -> Policy {
    let mut p = demo_policy();
    let c = d(CUTOFF);
    p.cutoffs = Cutoffs { residence: c, property_acquired_by: Some(c), permit_issued_by: Some(c), social_insurance: Some(c) };
    p.sibling = SiblingMode::None;
    p.lottery.clear();
    p.validate().unwrap();
    p
}

fn id_number(birth: &str) -> String {
    let first = format!("350524{birth}123");
    format!("{first}{}", ruxue::identity::idcard::check_digit(&first).unwrap())
}

/// A local child with hukou and property at 凤城镇 东岳社区 二环路 123 号 (安溪县实验小学).
fn local_with_property() -> ChildForm {
    ChildForm {
        child_name: "林小明".into(),
        id_number: id_number("20200915"),
        hukou_type: "local".into(),
        hukou_township: "凤城镇".into(),
        hukou_community: "东岳社区".into(),
        hukou_road: "二环路".into(),
        hukou_number: "123".into(),
        has_property: "1".into(),
        prop_cert_no: "闽(2020)安溪县不动产权第0000123号".into(),
        prop_owner_name: "林大山".into(),
        prop_owner_relation: "father".into(),
        prop_acquired_on: "2020-06-18".into(),
        prop_township: "凤城镇".into(),
        prop_community: "东岳社区".into(),
        prop_road: "二环路".into(),
        prop_number: "123".into(),
        ..Default::default()
    }
}

/// A migrant child living at the same address, with 24 months of residence
/// and social insurance by the cut-off.
fn migrant() -> ChildForm {
    ChildForm {
        child_name: "陈小雨".into(),
        id_number: id_number("20200915"),
        hukou_type: "migrant".into(),
        permit_no: "350524000000123".into(),
        residence_start: "2025-01-01".into(),
        permit_issued_on: "2025-06-01".into(),
        social_insurance_months: "24".into(),
        res_township: "凤城镇".into(),
        res_community: "东岳社区".into(),
        res_road: "二环路".into(),
        res_number: "123".into(),
        ..Default::default()
    }
}

/// The category the policy gives at 安溪县实验小学 to the facts this form yields.
fn category(form: &ChildForm, policy: &Policy) -> String {
    let townships = vec!["凤城镇".to_string(), "城厢镇".to_string()];
    let schools = vec![("P01".to_string(), "安溪县实验小学".to_string())];
    let rules = ChildRules {
        today: d(TODAY),
        campaign_year: 2027,
        age: age_rule(6, 9, "08-31"),
        townships: &townships,
        care_kinds: &policy.care.kinds,
        sibling_schools: &schools,
    };
    let valid = validate_child(form, &rules).unwrap_or_else(|e| panic!("the form is refused: {e:?}"));
    let (catchment, dir) = (demo_primary_rules(), demo_directory());
    let keys = compute_keys(&valid.facts.facts, policy, &CatchmentContext { rules: &catchment, directory: &dir }).unwrap();
    let at = keys.schools.iter().find(|s| s.school_id == "P01").unwrap_or_else(|| panic!("P01 not reached: {keys:#?}"));
    at.category_code.clone()
}

#[test]
fn a_fully_answered_form_fills_every_fact_the_policy_reads() {
    let p = policy();
    let form = ChildForm {
        hukou_township: "凤城镇".into(),
        hukou_road: "二环路".into(),
        hukou_number: "123".into(),
        has_property: "1".into(),
        prop_cert_no: "闽(2020)安溪县不动产权第0000123号".into(),
        prop_owner_name: "陈大海".into(),
        prop_owner_relation: "mother".into(),
        prop_acquired_on: "2020-06-18".into(),
        prop_township: "凤城镇".into(),
        prop_road: "二环路".into(),
        prop_number: "125".into(),
        disability_support: "1".into(),
        left_behind: "1".into(),
        care_category: p.care.kinds[0].clone(),
        sibling_school: "P01".into(),
        ..migrant()
    };
    let townships = vec!["凤城镇".to_string()];
    let schools = vec![("P01".to_string(), "安溪县实验小学".to_string())];
    let rules = ChildRules {
        today: d(TODAY),
        campaign_year: 2027,
        age: age_rule(6, 9, "08-31"),
        townships: &townships,
        care_kinds: &p.care.kinds,
        sibling_schools: &schools,
    };
    let valid = validate_child(&form, &rules).unwrap_or_else(|e| panic!("{e:?}"));
    let facts = serde_json::to_value(&valid.facts.facts).unwrap();
    let mut missing = Vec::new();
    let mut walk = |path: String, v: &Value| match v {
        Value::Null | Value::Bool(false) => missing.push(path),
        _ => {}
    };
    for (k, v) in facts.as_object().unwrap() {
        if NOT_FROM_THE_FORM.iter().any(|(f, _)| f == k) {
            continue;
        }
        walk(k.clone(), v);
        // One level into the property and the permit: their dates and counts
        // are what the cut-offs read (addresses are checked by the lookup tests).
        if let (true, Value::Object(inner)) = (k == "property" || k == "migrant", v) {
            for (ik, iv) in inner {
                walk(format!("{k}.{ik}"), iv);
            }
        }
    }
    assert!(missing.is_empty(), "facts the policy may read but the form leaves empty: {missing:?}");
}

#[test]
fn every_cutoff_of_the_policy_is_fed_by_a_form_field() {
    // Every cut-off the policy document can carry has a form field.
    let all = Cutoffs {
        residence: d(CUTOFF),
        property_acquired_by: Some(d(CUTOFF)),
        permit_issued_by: Some(d(CUTOFF)),
        social_insurance: Some(d(CUTOFF)),
    };
    let keys: BTreeSet<String> = serde_json::to_value(&all).unwrap().as_object().unwrap().keys().cloned().collect();
    let mapped: BTreeSet<String> = CUTOFF_FIELDS.iter().map(|(c, _)| c.to_string()).collect();
    assert_eq!(keys, mapped, "a cut-off without a form field (add the field to the child form and to CUTOFF_FIELDS)");
    // … and each of those fields is one the form (and the API) takes.
    let form_fields: BTreeSet<String> = serde_json::to_value(ChildForm::default()).unwrap().as_object().unwrap().keys().cloned().collect();
    for (cutoff, field) in CUTOFF_FIELDS {
        assert!(form_fields.contains(*field), "{cutoff}: the form has no field {field}");
    }

    // Moving the field across the cut-off changes the category: the policy
    // reads what the form collected.
    let p = policy();
    let cases: Vec<(&str, ChildForm, &str, ChildForm, &str)> = vec![
        ("permit_issued_by", migrant(), "D", ChildForm { permit_issued_on: "2027-04-15".into(), ..migrant() }, "E"),
        (
            "property_acquired_by",
            local_with_property(),
            "A",
            ChildForm { prop_acquired_on: "2027-04-15".into(), ..local_with_property() },
            "B",
        ),
        (
            "residence",
            ChildForm { permit_issued_on: "2026-11-01".into(), ..migrant() },
            "D",
            ChildForm { residence_start: "2026-10-01".into(), permit_issued_on: "2026-11-01".into(), ..migrant() },
            "E",
        ),
        ("social_insurance", migrant(), "D", ChildForm { social_insurance_months: "6".into(), ..migrant() }, "E"),
    ];
    let covered: BTreeSet<String> = cases.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(covered, mapped, "every cut-off has a case below");
    for (cutoff, inside, want_in, outside, want_out) in &cases {
        assert_eq!(category(inside, &p), *want_in, "{cutoff}: within the cut-off");
        assert_eq!(category(outside, &p), *want_out, "{cutoff}: past the cut-off");
    }
}
