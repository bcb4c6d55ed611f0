// Policy: documents, categories and priority keys, month counting, dry run.

use chrono::NaiveDate;
use proptest::prelude::*;
use ruxue::catchment::{demo_directory, demo_junior_rules, demo_primary_rules, Address, StaticDirectory};
use ruxue::policy::*;
use std::collections::BTreeMap;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A plain policy (no sibling sub-key, no lottery placements) with the
/// categories A–E and the given residence cut-off.
fn plain_policy(cutoff: &str) -> Policy {
    let mut p = demo_policy();
    p.cutoffs =
        Cutoffs { residence: d(cutoff), property_acquired_by: Some(d(cutoff)), permit_issued_by: Some(d(cutoff)), social_insurance: None };
    p.sibling = SiblingMode::None;
    p.lottery.clear();
    p.categories[3].condition = Condition::Migrant { min_residence_months: 0, min_social_insurance_months: 0, order_by_residence: true };
    p.validate().unwrap();
    p
}

fn dy123() -> Address {
    Address::street("凤城镇", "二环路", Some(123)).with_community("东岳社区")
}

fn property(addr: Address, rel: OwnerRelation) -> Property {
    Property {
        address: addr,
        certificate_no: "闽(2019)安溪县不动产权第0001234号".into(),
        owner_relation: rel,
        acquired_on: Some(d("2018-05-01")),
    }
}

fn migrant(start: &str, addr: Option<Address>) -> Migrant {
    Migrant {
        permit_no: "350524000000001".into(),
        residence_start: d(start),
        permit_issued_on: Some(d("2018-01-01")),
        social_insurance_months: 24,
        residence_address: addr,
    }
}

fn keys(f: &ApplicantFacts, p: &Policy) -> ApplicantKeys {
    let rules = demo_primary_rules();
    let dir = demo_directory();
    compute_keys(f, p, &CatchmentContext { rules: &rules, directory: &dir }).unwrap()
}

fn at<'a>(k: &'a ApplicantKeys, school: &str) -> &'a SchoolKey {
    k.schools.iter().find(|s| s.school_id == school).unwrap_or_else(|| panic!("{school} not in {k:#?}"))
}

// ------------------------------------------------------------------ categories

#[test]
fn every_category_key_and_explanation() {
    let p = plain_policy("2027-08-31");
    // A 房户一致
    let mut f = ApplicantFacts::new("R0001");
    f.hukou = Some(dy123());
    f.property = Some(property(dy123(), OwnerRelation::Father));
    let k = keys(&f, &p);
    assert_eq!(k.schools.len(), 1);
    let s = at(&k, "P01");
    assert_eq!((s.category_code.as_str(), s.key.clone()), ("A", vec![1]));
    assert_eq!(s.explanation, "第一顺位：房户一致，户籍与房产均在安溪县实验小学招生范围内，房产登记在父亲名下");
    assert_eq!(s.via, vec![Basis::Hukou, Basis::Property]);
    assert!(s.catchment[0].contains("凤城镇 → 东岳社区 → 二环路 101–199 号单号 → 安溪县实验小学"));

    // B 户籍 only (property elsewhere → C there)
    let mut f = ApplicantFacts::new("R0002");
    f.hukou = Some(dy123());
    f.property = Some(property(Address::street("凤城镇", "祥云路", Some(8)), OwnerRelation::Mother));
    let k = keys(&f, &p);
    assert_eq!(at(&k, "P01").key, vec![2]);
    assert_eq!(at(&k, "P01").explanation, "第二顺位：户籍在片区，户籍在安溪县实验小学招生范围内");
    assert_eq!(at(&k, "P05").key, vec![3]);
    assert_eq!(at(&k, "P05").category_code, "C");
    assert_eq!(at(&k, "P05").explanation, "第三顺位：房产在片区，房产在东岳小学招生范围内，登记在母亲名下");
    assert_eq!(k.schools[0].school_id, "P01"); // best key first

    // C with an owner relation that does not count → E (others)
    let mut f = ApplicantFacts::new("R0003");
    f.property = Some(property(dy123(), OwnerRelation::Grandparent));
    let k = keys(&f, &p);
    assert_eq!(at(&k, "P01").key, vec![5]);
    assert_eq!(at(&k, "P01").explanation, "第五顺位：其他，房产在安溪县实验小学招生范围内");

    // D 随迁子女, 38 months
    let mut f = ApplicantFacts::new("R0004");
    f.migrant = Some(migrant("2024-06-30", Some(dy123())));
    let k = keys(&f, &p);
    assert_eq!(k.residence_months, Some(38));
    let s = at(&k, "P01");
    assert_eq!(s.key, vec![4, -38]);
    assert_eq!(s.explanation, "第四顺位：随迁子女，居住满 38 个月（截至 2027-08-31）");
    assert_eq!(s.via, vec![Basis::Residence]);

    // E others: migrant without a permit issued in time
    let mut f = ApplicantFacts::new("R0005");
    let mut m = migrant("2024-06-30", Some(dy123()));
    m.permit_issued_on = Some(d("2027-09-01"));
    f.migrant = Some(m);
    let k = keys(&f, &p);
    assert_eq!(at(&k, "P01").key, vec![5]);
    assert!(k.notes.iter().any(|n| n.contains("居住证签发日期")));
}

#[test]
fn migrant_minimums_and_granularity() {
    let mut p = plain_policy("2027-08-31");
    p.categories[3].condition = Condition::Migrant { min_residence_months: 12, min_social_insurance_months: 36, order_by_residence: true };
    let mut f = ApplicantFacts::new("R0010");
    f.migrant = Some(migrant("2024-06-30", Some(dy123()))); // 24 social-insurance months < 36
    assert_eq!(at(&keys(&f, &p), "P01").category_code, "E");
    p.categories[3].condition = Condition::Migrant { min_residence_months: 39, min_social_insurance_months: 0, order_by_residence: true };
    assert_eq!(at(&keys(&f, &p), "P01").category_code, "E");
    p.categories[3].condition = Condition::Migrant { min_residence_months: 38, min_social_insurance_months: 0, order_by_residence: true };
    assert_eq!(at(&keys(&f, &p), "P01").key, vec![4, -38]);
    // years
    p.residence_granularity = Granularity::Year;
    let s = at(&keys(&f, &p), "P01").clone();
    assert_eq!(s.key, vec![4, -3]);
    assert_eq!(s.explanation, "第四顺位：随迁子女，居住满 3 年（截至 2027-08-31）");
    // without ordering: lottery among all migrants
    p.categories[3].condition = Condition::Migrant { min_residence_months: 0, min_social_insurance_months: 0, order_by_residence: false };
    assert_eq!(at(&keys(&f, &p), "P01").key, vec![4]);
    // no residence address: no catchment via residence
    let mut f = ApplicantFacts::new("R0011");
    f.migrant = Some(migrant("2024-06-30", None));
    let k = keys(&f, &p);
    assert!(k.schools.is_empty());
    assert!(k.notes.iter().any(|n| n.contains("未提供居住证地址")));
}

#[test]
fn cutoff_edge_cases() {
    let p = plain_policy("2024-02-29");
    let run = |start: &str| {
        let mut f = ApplicantFacts::new("R0020");
        f.migrant = Some(migrant(start, Some(dy123())));
        compute_keys(&f, &p, &CatchmentContext { rules: &demo_primary_rules(), directory: &demo_directory() })
    };
    // month-end: 01-31 → 02-29 is not a full month
    let k = run("2024-01-31").unwrap();
    assert_eq!(at(&k, "P01").key, vec![4, 0]);
    assert_eq!(at(&k, "P01").explanation, "第四顺位：随迁子女，居住满 0 个月（截至 2024-02-29）");
    // starting on the cut-off day counts 0
    assert_eq!(at(&run("2024-02-29").unwrap(), "P01").key, vec![4, 0]);
    // leap day to leap day
    assert_eq!(at(&run("2023-02-28").unwrap(), "P01").key, vec![4, -12]);
    assert_eq!(at(&run("2024-01-29").unwrap(), "P01").key, vec![4, -1]);
    // after the cut-off: refused with a Chinese error
    let e = run("2024-03-01").unwrap_err();
    assert_eq!(e, PolicyError::ResidenceAfterCutoff { start: d("2024-03-01"), cutoff: d("2024-02-29") });
    assert_eq!(e.to_string(), "居住起始日期 2024-03-01 晚于截止日期 2024-02-29，无法计算居住时长，请核对居住证信息");
}

#[test]
fn full_months_table() {
    let cases = [
        ("2024-01-31", "2024-02-29", 0),
        ("2024-01-31", "2024-03-01", 1),
        ("2024-01-31", "2024-03-30", 1),
        ("2024-01-31", "2024-03-31", 2),
        ("2024-02-29", "2025-02-28", 11),
        ("2024-02-29", "2025-03-01", 12),
        ("2024-02-29", "2024-03-29", 1),
        ("2023-02-28", "2024-02-29", 12),
        ("2024-08-31", "2024-08-31", 0),
        ("2024-08-01", "2024-08-31", 0),
        ("2024-07-31", "2024-08-31", 1),
        ("2024-06-30", "2027-08-31", 38),
        ("2019-09-01", "2027-08-31", 95),
        ("2000-01-01", "2027-08-31", 331),
    ];
    for (s, c, m) in cases {
        assert_eq!(full_months(d(s), d(c)).unwrap(), m, "{s} → {c}");
    }
    assert!(full_months(d("2024-09-01"), d("2024-08-31")).is_err());
}

#[test]
fn policy_care_tiers() {
    let mut p = plain_policy("2027-08-31");
    let mut f = ApplicantFacts::new("R0030");
    f.hukou = Some(Address::street("凤城镇", "祥云路", Some(3)));
    f.care_category = Some("军人".into());
    let k = keys(&f, &p);
    let s = at(&k, "P05");
    assert_eq!((s.category_code.as_str(), s.key.clone()), ("CARE", vec![0]));
    assert_eq!(s.explanation, "优先安排：政策性照顾对象（军人），东岳小学招生范围内优先录取");
    // merged with A
    p.care.placement = CarePlacement::MergeWith { category: "A".into() };
    p.validate().unwrap();
    let s = at(&keys(&f, &p), "P05").clone();
    assert_eq!((s.category_code.as_str(), s.key.clone()), ("A", vec![1]));
    assert_eq!(s.explanation, "第一顺位：政策性照顾对象（军人），按方案与「房户一致」同列");
    // unknown kind → error
    f.care_category = Some("模范".into());
    let e = compute_keys(&f, &p, &CatchmentContext { rules: &demo_primary_rules(), directory: &demo_directory() }).unwrap_err();
    assert_eq!(e.to_string(), "政策性照顾类别「模范」不在本招生方案列出的照顾类别中");
    // disability / left-behind flags only when the policy says so
    f.care_category = None;
    f.left_behind = true;
    assert_eq!(at(&keys(&f, &p), "P05").key, vec![2]);
    p.care.include_left_behind = true;
    assert_eq!(at(&keys(&f, &p), "P05").key, vec![1]);
}

#[test]
fn sibling_priority_sub_key_and_category() {
    let p = demo_policy(); // sub_key
    let mut f = ApplicantFacts::new("R0040");
    f.hukou = Some(dy123());
    f.property = Some(property(dy123(), OwnerRelation::Mother));
    assert_eq!(at(&keys(&f, &p), "P01").key, vec![1, 1]);
    f.sibling_school_id = Some("P01".into());
    let s = at(&keys(&f, &p), "P01").clone();
    assert_eq!(s.key, vec![1, 0]);
    assert!(s.explanation.ends_with("；长幼随学，同顺位内优先"));
    // migrant with sub-key: [4, sib, -months]
    let mut g = ApplicantFacts::new("R0041");
    g.migrant = Some(migrant("2016-08-31", Some(dy123())));
    assert_eq!(at(&keys(&g, &p), "P01").key, vec![4, 1, -36]);

    // sibling as a category of its own, after A
    let mut q = plain_policy("2027-08-31");
    q.sibling = SiblingMode::Category;
    q.categories.insert(1, Category { code: "S".into(), label: "长幼随学".into(), condition: Condition::Sibling });
    q.validate().unwrap();
    let mut h = ApplicantFacts::new("R0042");
    h.hukou = Some(dy123());
    h.sibling_school_id = Some("P01".into());
    let s = at(&keys(&h, &q), "P01").clone();
    assert_eq!((s.category_code.as_str(), s.key.clone()), ("S", vec![2]));
    assert_eq!(s.explanation, "第二顺位：长幼随学，兄姐在安溪县实验小学就读（长幼随学）");
}

#[test]
fn lottery_only_school_and_zone_lottery() {
    let p = demo_policy();
    // P06 (龙湖小学) is decided by lottery alone
    let mut f = ApplicantFacts::new("R0050");
    f.hukou = Some(Address::street("凤城镇", "河滨路", Some(8)));
    f.property = Some(property(Address::street("凤城镇", "河滨路", Some(8)), OwnerRelation::Father));
    let s = at(&keys(&f, &p), "P06").clone();
    assert_eq!((s.category_code.as_str(), s.key.clone()), ("LOT", vec![1]));
    assert_eq!(s.explanation, "电脑派位：龙湖小学按方案不分顺位，全部由电脑派位确定");
    f.care_category = Some("烈士".into());
    assert_eq!(at(&keys(&f, &p), "P06").key, vec![0]);

    // seventh grade: zone 建安片区 → all three schools, same key
    let rules = demo_junior_rules();
    let dir = demo_directory();
    let mut g = ApplicantFacts::new("R0051");
    g.hukou = Some(dy123());
    g.family_id = Some("R0051".into());
    let k = compute_keys(&g, &p, &CatchmentContext { rules: &rules, directory: &dir }).unwrap();
    let ids: Vec<&str> = k.schools.iter().map(|s| s.school_id.as_str()).collect();
    assert_eq!(ids, vec!["J01", "J02", "J03"]);
    for s in &k.schools {
        assert_eq!(s.key, vec![1]);
        assert_eq!(s.zone_id.as_deref(), Some("Z-JA"));
        assert_eq!(s.explanation, "电脑派位：建安片区实行划分片区和电脑派位相结合，片区内不分顺位，由电脑派位确定就读学校");
    }
    assert_eq!(k.family.as_deref(), Some("R0051")); // twins share a family id
                                                    // 河滨社区 belongs to 德苑片区
    let mut h = ApplicantFacts::new("R0052");
    h.hukou = Some(Address { township: Some("凤城镇".into()), community: Some("河滨社区".into()), ..Default::default() });
    let k = compute_keys(&h, &p, &CatchmentContext { rules: &rules, directory: &dir }).unwrap();
    assert_eq!(k.schools.iter().map(|s| s.school_id.as_str()).collect::<Vec<_>>(), vec!["J04", "J05"]);
}

#[test]
fn property_cutoff_and_no_catchment() {
    let p = plain_policy("2019-08-31");
    let mut f = ApplicantFacts::new("R0060");
    f.hukou = Some(dy123());
    let mut prop = property(dy123(), OwnerRelation::Father);
    prop.acquired_on = Some(d("2019-09-01"));
    f.property = Some(prop);
    let k = keys(&f, &p);
    assert_eq!(at(&k, "P01").category_code, "B");
    assert!(k.notes.iter().any(|n| n.contains("晚于截止日期 2019-08-31")));
    let mut g = ApplicantFacts::new("R0061");
    g.hukou = Some(Address::street("蓬莱镇", "解放路", Some(1)));
    let k = keys(&g, &p);
    assert!(k.schools.is_empty());
    assert!(k.notes.iter().any(|n| n.contains("统筹")));
    // same_address: hukou must be registered at the property
    let mut q = p.clone();
    q.categories[0].condition = Condition::HukouAndProperty { owner_relations: vec![OwnerRelation::Father], same_address: true };
    let mut h = ApplicantFacts::new("R0062");
    h.hukou = Some(Address::street("凤城镇", "二环路", Some(125)).with_community("东岳社区"));
    h.property = Some(property(dy123(), OwnerRelation::Father));
    assert_eq!(at(&keys(&h, &q), "P01").category_code, "B");
    h.hukou = Some(dy123());
    assert_eq!(at(&keys(&h, &q), "P01").category_code, "A");
}

// ------------------------------------------------------------------ documents

#[test]
fn demo_policy_loads_and_round_trips() {
    let p = demo_policy();
    assert_eq!(p.categories.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), vec!["A", "B", "C", "D", "E"]);
    assert_eq!(p.care.placement, CarePlacement::OwnTier);
    assert_eq!(p.sibling, SiblingMode::SubKey);
    assert_eq!(p.lottery.len(), 3);
    let t = p.to_toml().unwrap();
    assert_eq!(Policy::from_toml(&t).unwrap(), p);
    assert_eq!(Policy::from_json(&p.to_json()).unwrap(), p);
    assert!(matches!(Policy::from_toml("name = 1"), Err(PolicyError::Toml(_))));
}

#[test]
fn validate_names_fields() {
    let mut p = demo_policy();
    p.name = " ".into();
    p.categories[1].code = "A".into();
    p.categories[2].label = String::new();
    p.categories[0].condition = Condition::HukouAndProperty { owner_relations: vec![], same_address: false };
    p.categories.swap(3, 4); // others no longer last
    p.care.placement = CarePlacement::MergeWith { category: "Z".into() };
    p.cutoffs.property_acquired_by = Some(d("2019-09-30"));
    let issues = p.validate().unwrap_err();
    let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    for f in [
        "name",
        "categories[1].code",
        "categories[2].label",
        "categories[0].condition.owner_relations",
        "categories[3].condition",
        "care.placement.category",
        "cutoffs.property_acquired_by",
    ] {
        assert!(fields.contains(&f), "{f} missing in {issues:#?}");
    }
    assert!(issues.iter().any(|i| i.message == "顺位代码「A」重复"));
    let err = Policy::load_toml(&p.to_toml().unwrap()).unwrap_err().to_string();
    assert!(err.starts_with("招生方案校验未通过：name：方案名称不能为空"), "{err}");
}

#[test]
fn policy_diff_lists_changes() {
    let a = demo_policy();
    let mut b = a.clone();
    b.version = "2020.1".into();
    b.cutoffs.residence = d("2020-08-31");
    b.categories.swap(1, 2);
    b.categories[3].condition = Condition::Migrant { min_residence_months: 24, min_social_insurance_months: 12, order_by_residence: true };
    b.categories.pop();
    b.care.placement = CarePlacement::MergeWith { category: "A".into() };
    b.lottery.retain(|l| l.target != "P06");
    let lines = diff(&a, &b);
    let all = lines.join("\n");
    for want in [
        "版本：2019.1 → 2020.1",
        "居住时长截止日期：2019-08-31 → 2020-08-31",
        "顺位 D 条件：随迁子女（居住满 12 个月、社保满 12 个月，居住时间长者优先） → 随迁子女（居住满 24 个月、社保满 12 个月，居住时间长者优先）",
        "删除顺位 E（其他）",
        "顺位先后次序：A > B > C > D > E → A > C > B > D",
        "政策性照顾位置：单列为最优先顺位 → 并入顺位 A",
        "取消全部电脑派位的学校/片区：P06",
    ] {
        assert!(lines.iter().any(|l| l == want), "missing「{want}」in\n{all}");
    }
    assert!(diff(&a, &a).is_empty());
}

// ------------------------------------------------------------------ dry run

fn sk(school: &str, code: &str, key: Vec<i64>) -> SchoolKey {
    SchoolKey {
        school_id: school.into(),
        school_name: school.into(),
        zone_id: None,
        via: vec![Basis::Hukou],
        category_code: code.into(),
        category_label: format!("{code}类"),
        key,
        explanation: String::new(),
        catchment: vec![],
    }
}

fn ak(no: &str, schools: Vec<SchoolKey>) -> ApplicantKeys {
    ApplicantKeys { application_no: no.into(), family: None, residence_months: None, schools, notes: vec![] }
}

#[test]
fn dry_run_cutoff_lottery_and_placement() {
    let mut apps = Vec::new();
    let mut n = 0;
    let mut push = |code: &str, key: Vec<i64>, count: usize, extra: Option<SchoolKey>| {
        for _ in 0..count {
            n += 1;
            let mut s = vec![sk("P01", code, key.clone())];
            if let Some(e) = &extra {
                s.push(e.clone());
            }
            apps.push(ak(&format!("R{n:04}"), s));
        }
    };
    push("CARE", vec![0], 1, None);
    push("A", vec![1], 4, None);
    push("B", vec![2], 7, None); // 3 seats left for 7 → lottery 3/7
    push("D", vec![4, -38], 2, Some(sk("P02", "D", vec![4, -38])));
    push("D", vec![4, -12], 1, None);
    apps.push(ak("R9000", vec![])); // no school
    apps.push(ak("R9001", vec![sk("P09", "A", vec![1])])); // school without seats
    let seats: BTreeMap<String, u32> = [("P01".to_string(), 8), ("P02".to_string(), 1), ("P09".to_string(), 0)].into();
    let names: BTreeMap<String, String> = [("P01".to_string(), "安溪县实验小学".to_string())].into();
    let r = dry_run(&apps, &seats, &names);
    let p01 = r.schools.iter().find(|s| s.school_id == "P01").unwrap();
    assert_eq!(p01.applicants, 15);
    let b = p01.categories.iter().find(|c| c.code == "B").unwrap();
    assert_eq!((b.applicants, b.admitted, b.in_lottery, b.lottery_seats, b.not_admitted), (7, 0, 7, 3, 0));
    let l = p01.lottery.as_ref().unwrap();
    assert_eq!((l.seats_left, l.tied, l.odds.as_str(), l.percent.as_str()), (3, 7, "3/7", "42.86%"));
    let c = p01.cutoff.as_ref().unwrap();
    assert_eq!((c.partial_category.as_deref(), c.admitted_of_category, c.category_total), (Some("B"), 3, 7));
    let dd = p01.categories.iter().find(|c| c.code == "D").unwrap();
    assert_eq!(dd.not_admitted, 3);
    assert!(p01.message.contains("B（B类）中 7 人参加电脑派位，争夺剩余 3 个学位，中签率 3/7（42.86%）"), "{}", p01.message);
    assert!(p01.message.starts_with("安溪县实验小学：学位 8 个，符合条件 15 人。"));
    // P02: 2 tied D-38 children for 1 seat
    let p02 = r.schools.iter().find(|s| s.school_id == "P02").unwrap();
    assert_eq!(p02.lottery.as_ref().unwrap().percent, "50.00%");
    // placement
    let np: Vec<&str> = r.needs_placement.iter().map(|p| p.application_no.as_str()).collect();
    assert_eq!(np, vec!["R9000", "R9001"]);
    assert_eq!(r.needs_placement[1].reason, "可就读的学校均无学位");
    let lu: Vec<&str> = r.likely_unplaced.iter().map(|p| p.application_no.as_str()).collect();
    assert_eq!(lu, vec!["R0015"]); // the D-12 child; the D-38 ones have P02's lottery
                                   // CSV
    let csv = dry_run_csv(&r);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "学校代码,学校名称,学位数,符合条件人数,顺位代码,顺位名称,人数,确定录取,参加派位,派位名额,中签率,百分比,不能录取"
    );
    assert!(csv.contains("P01,安溪县实验小学,8,15,B,B类,7,0,7,3,3/7,42.86%,0"), "{csv}");
    assert!(placement_csv(&r).contains("R9000,需统筹安排,,没有可就读的划片学校"));
    // serialisable
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"odds\":\"3/7\""));
}

#[test]
fn dry_run_exact_fit_and_migrant_ordering() {
    let apps = vec![
        ak("R1", vec![sk("S", "A", vec![1])]),
        ak("R2", vec![sk("S", "D", vec![4, -40])]),
        ak("R3", vec![sk("S", "D", vec![4, -20])]),
        ak("R4", vec![sk("S", "D", vec![4, -20])]),
        ak("R5", vec![sk("S", "E", vec![5])]),
    ];
    // 2 seats: A and the 40-month child; D partly admitted without a lottery
    let r = dry_run(&apps, &[("S".to_string(), 2)].into(), &BTreeMap::new());
    let s = &r.schools[0];
    assert!(s.lottery.is_none());
    let c = s.cutoff.as_ref().unwrap();
    assert_eq!((c.partial_category.as_deref(), c.admitted_of_category, c.category_total), (Some("D"), 1, 3));
    // 1 seat: exactly A, cut-off between categories
    let r = dry_run(&apps, &[("S".to_string(), 1)].into(), &BTreeMap::new());
    let c = r.schools[0].cutoff.as_ref().unwrap();
    assert_eq!((c.partial_category.clone(), c.last_admitted_category.as_deref()), (None, Some("A")));
    assert!(r.schools[0].message.contains("学位恰好录取至 A 类"));
    // 10 seats: all fit
    let r = dry_run(&apps, &[("S".to_string(), 10)].into(), &BTreeMap::new());
    assert!(r.schools[0].cutoff.is_none());
    assert!(r.schools[0].message.contains("全部可以录取"));
    assert_eq!(percent(1, 3), "33.33%");
    assert_eq!(percent(2, 3), "66.67%");
    assert_eq!(percent(5, 5), "100.00%");
}

#[test]
fn end_to_end_demo_dry_run() {
    let p = demo_policy();
    let rules = demo_primary_rules();
    let dir: StaticDirectory = demo_directory();
    let ctx = CatchmentContext { rules: &rules, directory: &dir };
    let mut all = Vec::new();
    for i in 0..30u32 {
        let mut f = ApplicantFacts::new(&format!("R{i:04}"));
        let a = Address::street("凤城镇", "二环路", Some(101 + 2 * (i % 50))).with_community("东岳社区");
        match i % 3 {
            0 => {
                f.hukou = Some(a.clone());
                f.property = Some(property(a, OwnerRelation::Father));
            }
            1 => f.hukou = Some(a),
            _ => f.migrant = Some(migrant(&format!("201{}-0{}-15", i % 9, 1 + i % 8), Some(a))),
        }
        all.push(compute_keys(&f, &p, &ctx).unwrap());
    }
    let seats: BTreeMap<String, u32> = [("P01".into(), 12), ("P02".into(), 5)].into();
    let names = names_from_directory(seats.keys().cloned(), &dir);
    let r = dry_run(&all, &seats, &names);
    let p01 = r.schools.iter().find(|s| s.school_id == "P01").unwrap();
    assert_eq!(p01.school_name, "安溪县实验小学");
    assert_eq!(p01.seats, 12);
    assert!(p01.applicants > 12);
    assert!(p01.cutoff.is_some());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// For starts on day ≤ 28 the rule agrees with calendar month addition.
    #[test]
    fn full_months_matches_calendar(y in 2000i32..2030, m in 1u32..=12, day in 1u32..=28, span in 0u32..4000) {
        let start = NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let cutoff = start + chrono::Duration::days(span as i64);
        let got = full_months(start, cutoff).unwrap();
        let fits = |n: u32| start.checked_add_months(chrono::Months::new(n)).unwrap() <= cutoff;
        prop_assert!(fits(got));
        prop_assert!(!fits(got + 1));
    }

    /// Monotone in the cut-off, and never more than the day span allows.
    #[test]
    fn full_months_monotone(y in 2000i32..2030, m in 1u32..=12, day in 1u32..=31, span in 0u32..4000) {
        let Some(start) = NaiveDate::from_ymd_opt(y, m, day) else { return Ok(()); };
        let c1 = start + chrono::Duration::days(span as i64);
        let c2 = c1 + chrono::Duration::days(1);
        let a = full_months(start, c1).unwrap();
        let b = full_months(start, c2).unwrap();
        prop_assert!(b == a || b == a + 1);
        prop_assert!(a * 28 <= span);
    }
}
