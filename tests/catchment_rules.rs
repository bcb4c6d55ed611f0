// Catchment rules: parsing, matching, precedence, polygons, GCJ-02, import/export,
// lint and diff.

use proptest::prelude::*;
use ruxue::catchment::*;

fn dir() -> StaticDirectory {
    demo_directory()
}

fn street(id: &str, road: &str, from: Option<u32>, to: Option<u32>, parity: Parity, school: &str, prec: i32) -> CatchmentRule {
    CatchmentRule {
        id: id.into(),
        kind: RuleKind::Street { township: "凤城镇".into(), community: None, road: road.into(), from, to, parity },
        target: Target::School(school.into()),
        precedence: prec,
        note: None,
    }
}

fn winner(rules: &[CatchmentRule], a: &Address) -> Option<String> {
    resolve(rules, a, None, &dir()).winner.map(|w| w.target.id().to_string())
}

// ------------------------------------------------------------------ parser

#[test]
fn parser_table() {
    struct Case {
        text: &'static str,
        township: Option<&'static str>,
        community: Option<&'static str>,
        road: Option<&'static str>,
        number: Option<u32>,
        suffix: Option<&'static str>,
        compound: Option<&'static str>,
        building: Option<&'static str>,
        detail: Option<&'static str>,
    }
    let c = |text, township, community, road, number, suffix, compound, building, detail| Case {
        text,
        township,
        community,
        road,
        number,
        suffix,
        compound,
        building,
        detail,
    };
    let cases = vec![
        c("凤城镇东岳社区二环路１２３号", Some("凤城镇"), Some("东岳社区"), Some("二环路"), Some(123), None, None, None, None),
        c("城厢镇 经济开发区 12 号", Some("城厢镇"), None, Some("经济开发区"), Some(12), None, None, None, None),
        c("凤城镇大同路１２号", Some("凤城镇"), None, Some("大同路"), Some(12), None, None, None, None),
        c("凤城镇 大同路 12 号", Some("凤城镇"), None, Some("大同路"), Some(12), None, None, None, None),
        c("凤城镇　大同路　１２　号", Some("凤城镇"), None, Some("大同路"), Some(12), None, None, None, None),
        c("福建省泉州市安溪县凤城镇大同路12-1号", Some("凤城镇"), None, Some("大同路"), Some(12), Some("-1"), None, None, None),
        c("凤城镇河滨路88号之一", Some("凤城镇"), None, Some("河滨路"), Some(88), Some("之一"), None, None, None),
        c("凤城镇河滨路88A号", Some("凤城镇"), None, Some("河滨路"), Some(88), Some("A"), None, None, None),
        c("城厢镇世茂云城3号楼1单元502室", Some("城厢镇"), None, None, None, None, Some("世茂云城"), Some("3号楼"), Some("1单元502室")),
        c("凤城镇中骏四季阳光5栋", Some("凤城镇"), None, None, None, None, Some("中骏四季阳光"), Some("5栋"), None),
        c("参内镇罗内村", Some("参内镇"), Some("罗内村"), None, None, None, None, None, None),
        c("参内镇罗内村委会", Some("参内镇"), Some("罗内村委会"), None, None, None, None, None, None),
        c("凤城镇 祥云路", Some("凤城镇"), None, Some("祥云路"), None, None, None, None, None),
        c("凤城镇凤冠路200号阳光花园2幢", Some("凤城镇"), None, Some("凤冠路"), Some(200), None, Some("阳光花园"), Some("2幢"), None),
        c("城厢镇滨江花园8号", Some("城厢镇"), None, None, Some(8), None, Some("滨江花园"), None, None),
    ];
    for k in cases {
        let p = parse_address(k.text);
        let a = &p.address;
        let s = |o: &Option<String>| o.clone();
        let e = |o: Option<&str>| o.map(str::to_string);
        assert_eq!(s(&a.township), e(k.township), "township of {}", k.text);
        assert_eq!(s(&a.community), e(k.community), "community of {}", k.text);
        assert_eq!(s(&a.road), e(k.road), "road of {}", k.text);
        assert_eq!(a.number, k.number, "number of {}", k.text);
        assert_eq!(s(&a.number_suffix), e(k.suffix), "suffix of {}", k.text);
        assert_eq!(s(&a.compound), e(k.compound), "compound of {}", k.text);
        assert_eq!(s(&a.building), e(k.building), "building of {}", k.text);
        assert_eq!(s(&a.detail), e(k.detail), "detail of {}", k.text);
        assert!(!p.notes.is_empty());
    }
}

#[test]
fn parser_uses_gazetteer_for_unsuffixed_compounds() {
    let rules = demo_primary_rules();
    let g = Gazetteer::from_rules(&rules);
    let p = parse_address_with("凤城镇中骏四季阳光", &g);
    assert_eq!(p.address.compound.as_deref(), Some("中骏四季阳光"));
    assert!(p.notes.iter().any(|n| n.contains("已登记小区")));
    assert_eq!(winner(&rules, &p.address).as_deref(), Some("P01"));
    // without the gazetteer the name has no compound suffix and lands in detail
    let q = parse_address("凤城镇中骏四季阳光");
    assert_eq!(q.address.compound, None);
}

#[test]
fn normalisation_variants_resolve_alike() {
    let rules = demo_primary_rules();
    let g = Gazetteer::from_rules(&rules);
    for text in ["凤城镇大同路120号", "凤城镇大同路１２０号", "凤城镇 大同路 120 号", "凤城 大同路120号"] {
        let a = parse_address_with(text, &g).address;
        assert_eq!(winner(&rules, &a).as_deref(), Some("P01"), "{text}");
    }
    for text in ["凤城镇大同路121号", "凤城镇大同路１２１号", "凤城镇大同路 121号"] {
        let a = parse_address(text).address;
        assert_eq!(winner(&rules, &a).as_deref(), Some("P02"), "{text}");
    }
}

// ------------------------------------------------------------------ matching

#[test]
fn demo_match_table() {
    let rules = demo_primary_rules();
    let dy = |road: &str, n: Option<u32>| Address::street("凤城镇", road, n).with_community("东岳社区");
    let fc = |road: &str, n: Option<u32>| Address::street("凤城镇", road, n);
    let table: Vec<(Address, Option<&str>)> = vec![
        // odd side, closed range, with community
        (dy("二环路", Some(123)), Some("P01")),
        (dy("二环路", Some(101)), Some("P02")), // precedence-10 override 101–109 odd
        (dy("二环路", Some(109)), Some("P02")),
        (dy("二环路", Some(111)), Some("P01")),
        (dy("二环路", Some(199)), Some("P01")),
        // even side
        (dy("二环路", Some(124)), Some("P05")),
        (fc("二环路", Some(198)), Some("P05")),
        // open range 200+
        (fc("二环路", Some(200)), Some("P02")),
        (fc("二环路", Some(201)), Some("P02")),
        (fc("二环路", Some(9999)), Some("P02")),
        // 123 without community: the community-restricted rule does not apply → township
        (fc("二环路", Some(123)), Some("P02")),
        (fc("二环路", Some(99)), Some("P05")),
        // closed and open ranges
        (fc("大同路", Some(1)), Some("P01")),
        (fc("大同路", Some(120)), Some("P01")),
        (fc("大同路", Some(121)), Some("P02")),
        // parity without range
        (fc("河滨路", Some(7)), Some("P02")),
        (fc("河滨路", Some(8)), Some("P06")),
        (fc("河滨路", None), Some("P02")), // side unknown → falls back to township
        // whole road, with and without number
        (fc("祥云路", None), Some("P05")),
        (fc("祥云路", Some(4)), Some("P05")),
        (fc("凤冠路", Some(150)), Some("P02")),
        (fc("凤冠路", Some(151)), Some("P06")),
        // compounds
        (Address::in_compound("凤城镇", "中骏四季阳光", None), Some("P01")),
        (Address::in_compound("凤城镇", "中骏四季阳光小区", Some("7栋")), Some("P01")),
        (Address::in_compound("城厢镇", "世茂云城", Some("3号楼")), Some("P03")),
        (Address::in_compound("城厢镇", "世茂云城", Some("12栋")), Some("P03")),
        (Address::in_compound("城厢镇", "世茂云城", Some("13栋")), Some("P06")),
        (Address::in_compound("城厢镇", "世茂 云城", Some("20栋")), Some("P06")),
        (Address::in_compound("城厢镇", "世茂云城", None), Some("P03")), // no building → township
        // communities and townships
        (Address { township: Some("凤城镇".into()), community: Some("龙湖社区".into()), ..Default::default() }, Some("P06")),
        (Address { township: Some("凤城镇".into()), community: Some("龙湖".into()), ..Default::default() }, Some("P06")),
        (Address { township: Some("参内镇".into()), community: Some("罗内村".into()), ..Default::default() }, Some("P04")),
        (Address { township: Some("城厢镇".into()), ..Default::default() }, Some("P03")),
        (Address { township: Some("蓬莱镇".into()), ..Default::default() }, None),
        (Address::default(), None),
    ];
    for (a, want) in table {
        assert_eq!(winner(&rules, &a).as_deref(), want, "address {:?}", a.display());
    }
}

#[test]
fn explanation_chain_is_chinese() {
    let rules = demo_primary_rules();
    let a = parse_address("凤城镇东岳社区二环路１２３号").address;
    let r = resolve(&rules, &a, None, &dir());
    assert_eq!(r.explanation, "凤城镇 → 东岳社区 → 二环路 101–199 号单号 → 安溪县实验小学");
    assert!(!r.ambiguous);
    // all matches listed, best first: street range, community, township
    let ids: Vec<&str> = r.matches.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["P-FC-001", "P-FC-030", "P-FC-090"]);
    assert!(r.matches[2].explanation.contains("凤城镇（全镇）"));
    let none = resolve(&rules, &Address::street("蓬莱镇", "解放路", Some(1)), None, &dir());
    assert!(none.winner.is_none());
    assert!(none.explanation.contains("未匹配到任何划片规则"));
}

#[test]
fn specificity_order() {
    let town = CatchmentRule {
        id: "T".into(),
        kind: RuleKind::Township { township: "凤城镇".into() },
        target: Target::School("S1".into()),
        precedence: 0,
        note: None,
    };
    let comm = CatchmentRule {
        id: "C".into(),
        kind: RuleKind::Community { township: "凤城镇".into(), community: "东岳社区".into() },
        target: Target::School("S2".into()),
        precedence: 0,
        note: None,
    };
    let whole = street("W", "二环路", None, None, Parity::All, "S3", 0);
    let range = street("R", "二环路", Some(1), Some(99), Parity::All, "S4", 0);
    let compound = CatchmentRule {
        id: "K".into(),
        kind: RuleKind::Compound { township: "凤城镇".into(), name: "阳光花园".into(), from: None, to: None },
        target: Target::School("S5".into()),
        precedence: 0,
        note: None,
    };
    let rules = vec![town, comm, whole, range, compound];
    let mut a = Address::street("凤城镇", "二环路", Some(5)).with_community("东岳社区");
    a.compound = Some("阳光花园".into());
    let r = resolve(&rules, &a, None, &dir());
    let ids: Vec<&str> = r.matches.iter().map(|m| m.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["K", "R", "W", "C", "T"]);
    a.compound = None;
    assert_eq!(winner(&rules, &a).as_deref(), Some("S4"));
    a.number = Some(100);
    assert_eq!(winner(&rules, &a).as_deref(), Some("S3"));
    a.road = None;
    assert_eq!(winner(&rules, &a).as_deref(), Some("S2"));
    a.community = None;
    assert_eq!(winner(&rules, &a).as_deref(), Some("S1"));
}

#[test]
fn precedence_then_rule_id() {
    let a = street("B", "大同路", Some(1), Some(50), Parity::All, "S1", 0);
    let b = street("A", "大同路", Some(10), Some(20), Parity::All, "S2", 0);
    let c = street("C", "大同路", None, None, Parity::All, "S3", 5);
    let addr = Address::street("凤城镇", "大同路", Some(15));
    // same precedence, same specificity: rule id decides, flagged ambiguous
    let r = resolve(&[a.clone(), b.clone()], &addr, None, &dir());
    assert_eq!(r.winner.unwrap().rule_id, "A");
    assert!(r.ambiguous);
    assert!(r.explanation.contains("请核查"));
    // explicit precedence beats specificity
    let r = resolve(&[a.clone(), b.clone(), c], &addr, None, &dir());
    assert_eq!(r.winner.unwrap().rule_id, "C");
    assert!(!r.ambiguous);
    // same target ties are not ambiguous
    let mut b2 = b;
    b2.target = Target::School("S1".into());
    assert!(!resolve(&[a, b2], &addr, None, &dir()).ambiguous);
}

#[test]
fn open_and_closed_ranges_and_parity() {
    let rules = vec![
        street("lo", "城东路", None, Some(10), Parity::All, "S1", 0),
        street("hi", "城东路", Some(11), None, Parity::Odd, "S2", 0),
        street("ev", "城东路", Some(12), Some(20), Parity::Even, "S3", 0),
    ];
    let t = |n: u32| winner(&rules, &Address::street("凤城镇", "城东路", Some(n)));
    assert_eq!(t(1).as_deref(), Some("S1"));
    assert_eq!(t(10).as_deref(), Some("S1"));
    assert_eq!(t(11).as_deref(), Some("S2"));
    assert_eq!(t(12).as_deref(), Some("S3"));
    assert_eq!(t(20).as_deref(), Some("S3"));
    assert_eq!(t(21).as_deref(), Some("S2"));
    assert_eq!(t(22), None);
    assert_eq!(winner(&rules, &Address::street("凤城镇", "城东路", None)), None);
}

#[test]
fn compound_with_and_without_numbers() {
    let r = |id: &str, from: Option<u32>, to: Option<u32>, s: &str| CatchmentRule {
        id: id.into(),
        kind: RuleKind::Compound { township: "城厢镇".into(), name: "世茂云城".into(), from, to },
        target: Target::School(s.into()),
        precedence: 0,
        note: None,
    };
    let rules = vec![r("all", None, None, "S0"), r("low", Some(1), Some(5), "S1")];
    let mut a = Address::in_compound("城厢镇", "世茂云城小区", Some("3栋"));
    assert_eq!(winner(&rules, &a).as_deref(), Some("S1"));
    a.building = Some("6栋".into());
    assert_eq!(winner(&rules, &a).as_deref(), Some("S0"));
    a.building = None;
    a.number = Some(4); // number used when no building
    assert_eq!(winner(&rules, &a).as_deref(), Some("S1"));
    a.number = None;
    assert_eq!(winner(&rules, &a).as_deref(), Some("S0"));
    let e = resolve(&rules, &Address::in_compound("城厢镇", "世茂云城", Some("3栋")), None, &dir()).explanation;
    assert_eq!(e, "城厢镇 → 世茂云城（1–5 号） → S1");
}

// ------------------------------------------------------------------ polygons

fn square_with_hole() -> MultiPolygon {
    MultiPolygon::from_geojson(
        r#"{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}"#,
        false,
    )
    .unwrap()
}

#[test]
fn polygon_boundaries() {
    let mp = square_with_hole();
    let cases = [
        ((5.0, 1.0), PointLocation::Inside),
        ((5.0, 0.0), PointLocation::OnBoundary),   // on edge
        ((10.0, 10.0), PointLocation::OnBoundary), // on vertex
        ((0.0, 7.0), PointLocation::OnBoundary),
        ((5.0, 5.0), PointLocation::Outside),    // in hole
        ((4.0, 5.0), PointLocation::OnBoundary), // on hole edge
        ((6.0, 6.0), PointLocation::OnBoundary), // on hole vertex
        ((11.0, 5.0), PointLocation::Outside),
        ((-0.0000001, 5.0), PointLocation::Outside),
        ((10.0 + 1e-10, 5.0), PointLocation::OnBoundary), // within tolerance
    ];
    for ((x, y), want) in cases {
        assert_eq!(mp.locate(GeoPoint::new(x, y)), want, "({x}, {y})");
    }
}

#[test]
fn polygon_rules_tie_on_shared_edge() {
    let left = MultiPolygon::from_geojson(r#"{"type":"Polygon","coordinates":[[[0,0],[5,0],[5,5],[0,5],[0,0]]]}"#, false).unwrap();
    let right = MultiPolygon::from_geojson(r#"{"type":"Polygon","coordinates":[[[5,0],[10,0],[10,5],[5,5],[5,0]]]}"#, false).unwrap();
    let mk = |id: &str, area: &MultiPolygon, s: &str, p: i32| CatchmentRule {
        id: id.into(),
        kind: RuleKind::Polygon { area: area.clone() },
        target: Target::School(s.into()),
        precedence: p,
        note: None,
    };
    let edge = Some(GeoPoint::new(5.0, 2.0));
    let a = Address::default();
    // equal precedence and area → rule id
    let rules = vec![mk("M2", &left, "S1", 0), mk("M1", &right, "S2", 0)];
    let r = resolve(&rules, &a, edge, &dir());
    assert_eq!(r.matches.len(), 2);
    assert_eq!(r.winner.unwrap().rule_id, "M1");
    // precedence first
    let rules = vec![mk("M2", &left, "S1", 1), mk("M1", &right, "S2", 0)];
    assert_eq!(resolve(&rules, &a, edge, &dir()).winner.unwrap().rule_id, "M2");
    // interior points match one polygon only; no point → polygons never match
    assert_eq!(resolve(&rules, &a, Some(GeoPoint::new(7.0, 2.0)), &dir()).matches.len(), 1);
    assert!(resolve(&rules, &a, None, &dir()).winner.is_none());
    // address rules beat polygons
    let mut all = rules.clone();
    all.push(CatchmentRule {
        id: "T".into(),
        kind: RuleKind::Township { township: "凤城镇".into() },
        target: Target::School("S9".into()),
        precedence: 0,
        note: None,
    });
    let r = resolve(&all, &Address { township: Some("凤城镇".into()), ..Default::default() }, Some(GeoPoint::new(7.0, 2.0)), &dir());
    assert_eq!(r.winner.unwrap().rule_id, "T");
}

#[test]
fn multipolygon_and_demo_map_rule() {
    let mp = MultiPolygon::from_geojson(
        r#"{"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,3]]]]}}"#,
        false,
    )
    .unwrap();
    assert!(mp.contains(GeoPoint::new(2.5, 2.5)));
    assert!(mp.contains(GeoPoint::new(3.0, 3.0)));
    assert!(!mp.contains(GeoPoint::new(1.5, 1.5)));
    let rules = demo_primary_rules();
    let r = resolve(&rules, &Address::default(), Some(GeoPoint::new(118.205, 25.055)), &dir());
    assert_eq!(r.winner.unwrap().target, Target::School("P06".into()));
    assert!(MultiPolygon::from_geojson(r#"{"type":"Point","coordinates":[1,2]}"#, false).unwrap_err().contains("不支持"));
}

// ------------------------------------------------------------------ GCJ-02

#[test]
fn gcj02_known_points() {
    // (wgs lat, wgs lon, gcj lat, gcj lon), published test vectors of the standard formula
    let pts = [
        (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
        (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
        (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
        (39.915, 116.404, 39.91640428150164, 116.41024449916938),
    ];
    for (wlat, wlon, glat, glon) in pts {
        let w = GeoPoint::new(wlon, wlat);
        let g = GeoPoint::new(glon, glat);
        let fwd = wgs84_to_gcj02(w);
        assert!(distance_m(fwd, g) < 0.01, "forward {:?} vs {:?}", fwd, g);
        let back = gcj02_to_wgs84(g);
        assert!(distance_m(back, w) < 1.0, "inverse off by {} m", distance_m(back, w));
        assert!(distance_m(back, w) < 0.01);
    }
    // outside China: unchanged
    let p = GeoPoint::new(2.35, 48.85);
    assert_eq!(wgs84_to_gcj02(p), p);
    assert_eq!(gcj02_to_wgs84(p), p);
}

#[test]
fn gcj02_polygon_import_converts() {
    let g = wgs84_to_gcj02(GeoPoint::new(118.2, 25.05));
    let text = format!(r#"{{"type":"Polygon","coordinates":[[[{},{}],[118.3,25.05],[118.3,25.1],[118.2,25.1]]]}}"#, g.lon, g.lat);
    let mp = MultiPolygon::from_geojson(&text, true).unwrap();
    let first = mp.0[0][0][0];
    assert!(distance_m(GeoPoint::new(first[0], first[1]), GeoPoint::new(118.2, 25.05)) < 0.01);
    // ring closed automatically
    assert_eq!(mp.0[0].first(), mp.0[0].last());
}

// ------------------------------------------------------------------ import/export

#[test]
fn demo_rules_load_and_round_trip() {
    let rules = demo_rules();
    assert!(rules.len() >= 25);
    let csv = export_rules_csv(&rules);
    assert_eq!(import_rules_csv(&csv).unwrap(), rules);
    let xlsx = export_rules_xlsx(&rules).unwrap();
    assert_eq!(import_rules_xlsx(&xlsx).unwrap(), rules);
    // header row is the documented Chinese layout
    let text = String::from_utf8(csv).unwrap();
    assert!(text
        .trim_start_matches('\u{feff}')
        .starts_with("规则编号,类型,乡镇,社区/村,道路,起始门牌,终止门牌,单双号,小区,学校代码,片区代码,优先级,备注,GeoJSON,坐标系"));
}

#[test]
fn import_reports_every_bad_row_and_returns_nothing() {
    let csv = "乡镇,社区/村,道路,起始门牌,终止门牌,单双号,小区,学校代码,片区代码,优先级,备注\n\
凤城镇,,二环路,1,99,单号,,P01,,0,\n\
凤城镇,,二环路,199,101,单号,,P01,,0,\n\
凤城镇,,大同路,1,9,隔号,,P01,,,\n\
,,,,,,,P01,,,\n\
凤城镇,,河滨路,,,,,P01,Z-JA,,\n\
凤城镇,,河滨路,abc,,,,,,x,\n";
    let report = import_rules_csv(csv.as_bytes()).unwrap_err();
    let has = |row: usize, col: &str| report.issues.iter().any(|i| i.row == row && i.column == col);
    assert!(has(3, "终止门牌"), "{report}");
    assert!(has(4, "单双号"));
    assert!(has(5, "乡镇"));
    assert!(has(6, "片区代码"));
    assert!(has(7, "起始门牌"));
    assert!(has(7, "学校代码"));
    assert!(has(7, "优先级"));
    assert!(!report.issues.iter().any(|i| i.row == 2));
    assert_eq!(report.rows_read, 6);
    let text = report.to_string();
    assert!(text.contains("第 3 行「终止门牌」：终止门牌 101 小于起始门牌 199"), "{text}");
    assert!(text.contains("未导入任何规则"));
    // rows without an id get one from the row number
    let ok = import_rules_csv("乡镇,道路,学校代码\n凤城镇,二环路,P01\n".as_bytes()).unwrap();
    assert_eq!(ok[0].id, "R0002");
}

#[test]
fn import_header_problems() {
    let r = import_rules_csv("乡镇,学校编号\n凤城镇,P01\n".as_bytes()).unwrap_err();
    assert!(r.issues.iter().any(|i| i.row == 1 && i.message.contains("无法识别的表头「学校编号」")));
    assert!(r.issues.iter().any(|i| i.message.contains("缺少必需的列「学校代码」")));
    let r = import_rules_csv(b"").unwrap_err();
    assert!(r.issues[0].message.contains("文件为空"));
    let r = import_rules_csv("规则编号,乡镇,学校代码,片区代码\nX1,凤城镇,P01,\nX1,城厢镇,P03,\n".as_bytes()).unwrap_err();
    assert!(r.issues.iter().any(|i| i.row == 3 && i.message.contains("重复")));
}

#[test]
fn import_xlsx_numbers_and_polygons() {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["类型", "乡镇", "道路", "起始门牌", "终止门牌", "学校代码", "片区代码", "GeoJSON", "坐标系"].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "道路").unwrap();
    ws.write_string(1, 1, "凤城镇").unwrap();
    ws.write_string(1, 2, "二环路").unwrap();
    ws.write_number(1, 3, 1.0).unwrap();
    ws.write_number(1, 4, 99.0).unwrap();
    ws.write_string(1, 5, "P01").unwrap();
    ws.write_string(2, 0, "地图").unwrap();
    ws.write_string(2, 6, "Z-JA").unwrap();
    ws.write_string(2, 7, r#"{"type":"Polygon","coordinates":[[[118.2,25.0],[118.3,25.0],[118.3,25.1],[118.2,25.0]]]}"#).unwrap();
    ws.write_string(2, 8, "GCJ-02").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let rules = import_rules_xlsx(&bytes).unwrap();
    assert_eq!(rules.len(), 2);
    assert!(matches!(rules[0].kind, RuleKind::Street { from: Some(1), to: Some(99), .. }));
    match &rules[1].kind {
        RuleKind::Polygon { area } => assert!((area.0[0][0][0][0] - 118.2).abs() > 1e-4), // converted
        other => panic!("{other:?}"),
    }
    assert!(import_rules_xlsx(b"not a zip").is_err());
}

// ------------------------------------------------------------------ lint & diff

#[test]
fn demo_rules_lint_clean() {
    let rules = demo_primary_rules();
    let findings = lint_rules(&rules, &demo_communities(), &dir());
    let errors: Vec<_> = findings.iter().filter(|f| f.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(!findings.iter().any(|f| f.kind == LintKind::Gap), "{findings:#?}");
    let junior = demo_junior_rules();
    assert!(lint_rules(&junior, &demo_communities(), &dir()).iter().all(|f| f.severity != Severity::Error));
}

#[test]
fn lint_finds_conflicts_overrides_gaps_and_uncovered() {
    let rules = vec![
        street("A", "大同路", Some(1), Some(99), Parity::All, "P01", 0),
        street("B", "大同路", Some(51), Some(150), Parity::Odd, "P02", 0),
        street("C", "大同路", Some(161), Some(300), Parity::All, "P02", 0),
        street("D", "大同路", None, None, Parity::All, "P05", 0),
        street("E", "大同路", Some(1), Some(9), Parity::All, "P01", 0),
        street("F", "河滨路", Some(1), Some(99), Parity::Odd, "P02", 0),
    ];
    let f = lint_rules(&rules, &[("凤城镇".into(), "东岳社区".into())], &dir());
    let find = |k: LintKind, ids: &[&str]| f.iter().find(|x| x.kind == k && x.rule_ids == ids);
    let ab = find(LintKind::Conflict, &["A", "B"]).expect("conflict A/B");
    assert_eq!(
        ab.message,
        "凤城镇大同路 51–99 号单号 同时划入 安溪县实验小学（规则 A）与 凤城中心小学（规则 B），且优先级相同（0），无法确定学校"
    );
    assert!(find(LintKind::Override, &["A", "D"]).is_some());
    assert!(find(LintKind::Overlap, &["A", "E"]).unwrap().message.contains("重复覆盖"));
    assert!(find(LintKind::Conflict, &["B", "C"]).is_none());
    // whole-road rule D covers everything, so no gaps on 大同路; 河滨路 even side is bare
    let gaps: Vec<_> = f.iter().filter(|x| x.kind == LintKind::Gap).collect();
    assert_eq!(gaps.len(), 1, "{gaps:#?}");
    assert!(gaps[0].message.contains("河滨路 双号一侧没有任何规则覆盖"));
    assert!(f.iter().any(|x| x.kind == LintKind::UncoveredCommunity && x.message.contains("东岳社区")));

    // gap between ranges
    let rules = vec![
        street("A", "大同路", Some(1), Some(99), Parity::All, "P01", 0),
        street("C", "大同路", Some(161), Some(300), Parity::All, "P02", 0),
    ];
    let f = lint_rules(&rules, &[], &dir());
    let gaps: Vec<_> = f.iter().filter_map(|x| x.gap.clone()).collect();
    assert_eq!(gaps.len(), 2);
    assert_eq!((gaps[0].parity, gaps[0].from, gaps[0].to), (Parity::Odd, Some(101), Some(159)));
    assert_eq!((gaps[1].parity, gaps[1].from, gaps[1].to), (Parity::Even, Some(100), Some(160)));
    assert!(f[0].message.contains("101–159 号单号 未被任何规则覆盖"), "{}", f[0].message);
}

#[test]
fn lint_duplicate_compounds_and_ids() {
    let comp = |id: &str, s: &str| CatchmentRule {
        id: id.into(),
        kind: RuleKind::Compound { township: "凤城镇".into(), name: "中骏四季阳光".into(), from: None, to: None },
        target: Target::School(s.into()),
        precedence: 0,
        note: None,
    };
    let f = lint_rules(&[comp("X", "P01"), comp("Y", "P02"), comp("X", "P01")], &[], &dir());
    assert!(f.iter().any(|x| x.kind == LintKind::DuplicateId && x.message.contains("「X」出现了 2 次")));
    assert!(f.iter().any(|x| x.kind == LintKind::Conflict && x.message.contains("中骏四季阳光")));
}

#[test]
fn diff_between_years() {
    let old = demo_primary_rules();
    let mut new = old.clone();
    // 2020: 大同路 121+ moves to 龙湖小学; a rule removed; one added
    for r in &mut new {
        if r.id == "P-FC-007" {
            r.target = Target::School("P06".into());
        }
    }
    new.retain(|r| r.id != "P-FC-010");
    new.push(street("P-FC-100", "城南路", None, None, Parity::All, "P02", 0));
    let d = diff_rules(&old, &new, &dir());
    assert_eq!(d.added.len(), 1);
    assert_eq!(d.removed.len(), 1);
    assert_eq!(d.changed.len(), 1);
    assert!(d.changed[0].changes.iter().any(|c| c == "划入：凤城中心小学 → 龙湖小学"));
    let msgs = d.messages.join("\n");
    assert!(msgs.contains("道路学校变化：凤城镇大同路 121 号及以上单号：凤城中心小学 → 龙湖小学"), "{msgs}");
    assert!(msgs.contains("道路学校变化：凤城镇大同路 122 号及以上双号：凤城中心小学 → 龙湖小学"), "{msgs}");
    // 祥云路 rule removed: falls back to the township rule
    assert!(msgs.contains("祥云路"), "{msgs}");
    assert!(msgs.contains("东岳小学 → 凤城中心小学"));
    assert!(msgs.contains("新增规则 P-FC-100"));
    assert!(diff_rules(&old, &old, &dir()).messages.is_empty());
}

// ------------------------------------------------------------------ properties

fn arb_parity() -> impl Strategy<Value = Parity> {
    prop_oneof![Just(Parity::Odd), Just(Parity::Even), Just(Parity::All)]
}

fn arb_street() -> impl Strategy<Value = (Option<u32>, Option<u32>, Parity, u8, i32)> {
    (proptest::option::of(1u32..200), proptest::option::of(1u32..200), arb_parity(), 0u8..4, -1i32..2).prop_map(|(a, b, p, s, prec)| {
        let (a, b) = match (a, b) {
            (Some(x), Some(y)) if x > y => (Some(y), Some(x)),
            other => other,
        };
        (a, b, p, s, prec)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The winner is one of the matching rules, every match is a rule that by
    /// brute force covers the address, and no rule that covers it is missing.
    #[test]
    fn resolution_never_exceeds_rules(specs in proptest::collection::vec(arb_street(), 1..8), n in 1u32..220) {
        let rules: Vec<CatchmentRule> = specs.iter().enumerate()
            .map(|(i, (a, b, p, s, prec))| street(&format!("R{i}"), "二环路", *a, *b, *p, &format!("S{s}"), *prec))
            .collect();
        let addr = Address::street("凤城镇", "二环路", Some(n));
        let r = resolve(&rules, &addr, None, &dir());
        let covering: Vec<&CatchmentRule> = rules.iter().filter(|r| {
            let RuleKind::Street { from, to, parity, .. } = &r.kind else { unreachable!() };
            parity.admits(n) && from.map_or(true, |f| n >= f) && to.map_or(true, |t| n <= t)
        }).collect();
        prop_assert_eq!(r.matches.len(), covering.len());
        let allowed: std::collections::BTreeSet<&Target> = covering.iter().map(|r| &r.target).collect();
        let got: std::collections::BTreeSet<&Target> = r.matches.iter().map(|m| &m.target).collect();
        prop_assert!(got.is_subset(&allowed));
        prop_assert_eq!(r.winner.is_some(), !covering.is_empty());
        if let Some(w) = &r.winner {
            let best = covering.iter().map(|r| r.precedence).max().unwrap();
            prop_assert_eq!(w.precedence, best);
        }
    }

    /// Planted conflicts and gaps are always found.
    #[test]
    fn lint_finds_planted_overlap_and_gap(cuts in proptest::collection::btree_set(2u32..400, 3..8), pick in 0usize..100, off in 0u32..3) {
        // contiguous cover of 1..=max with ranges [c_i, c_{i+1}-1]
        let mut bounds: Vec<u32> = vec![1];
        bounds.extend(cuts.iter().copied());
        let ranges: Vec<(u32, u32)> = bounds.windows(2).map(|w| (w[0], w[1] - 1)).collect();
        let rules: Vec<CatchmentRule> = ranges.iter().enumerate()
            .map(|(i, (a, b))| street(&format!("R{i:02}"), "凤冠路", Some(*a), Some(*b), Parity::All, &format!("S{}", i % 2), 0))
            .collect();
        let f = lint_rules(&rules, &[], &dir());
        prop_assert!(f.is_empty(), "{:#?}", f);

        // plant an overlap: a copy of one range, shifted, to another school
        let k = pick % ranges.len();
        let (a, b) = ranges[k];
        let mut planted = rules.clone();
        planted.push(street("ZZ", "凤冠路", Some(a + off.min(b - a)), Some(b), Parity::All, "S9", 0));
        let f = lint_rules(&planted, &[], &dir());
        let rk = format!("R{:02}", k);
        prop_assert!(f.iter().any(|x| x.kind == LintKind::Conflict && x.rule_ids.contains(&"ZZ".to_string()) && x.rule_ids.contains(&rk)));

        // plant a gap: remove an inner range
        if ranges.len() >= 3 {
            let k = 1 + pick % (ranges.len() - 2);
            let (a, b) = ranges[k];
            let mut holed = rules.clone();
            holed.remove(k);
            let f = lint_rules(&holed, &[], &dir());
            let gaps: Vec<GapInfo> = f.iter().filter_map(|x| x.gap.clone()).collect();
            prop_assert!(!gaps.is_empty());
            for g in &gaps {
                let (gf, gt) = (g.from.unwrap(), g.to.unwrap());
                prop_assert!(gf >= a && gt <= b);
                prop_assert!(g.parity.admits(gf) && g.parity.admits(gt));
            }
            // every number in the hole is reported on its side
            for n in a..=b {
                prop_assert!(gaps.iter().any(|g| g.parity.admits(n) && g.from.unwrap() <= n && n <= g.to.unwrap()));
            }
        }
    }
}

fn arb_rule(i: usize) -> impl Strategy<Value = CatchmentRule> {
    let kind = prop_oneof![
        (
            proptest::option::of("[东西南北]岳社区"),
            "[大小]同路|二环路|河滨路",
            proptest::option::of(1u32..500),
            proptest::option::of(500u32..900),
            arb_parity()
        )
            .prop_map(|(c, road, from, to, parity)| RuleKind::Street {
                township: "凤城镇".into(),
                community: c,
                road,
                from,
                to,
                parity
            }),
        ("世茂云城|中骏四季阳光", proptest::option::of(1u32..10), proptest::option::of(10u32..30))
            .prop_map(|(name, from, to)| RuleKind::Compound { township: "城厢镇".into(), name, from, to }),
        "[东西]岳社区|罗内村".prop_map(|c| RuleKind::Community { township: "参内镇".into(), community: c }),
        Just(RuleKind::Township { township: "凤城镇".into() }),
        (100.0f64..130.0, 20.0f64..40.0, 0.0001f64..0.5, 0.0001f64..0.5).prop_map(|(x, y, w, h)| RuleKind::Polygon {
            area: MultiPolygon(vec![vec![vec![[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]]]),
        }),
    ];
    let target = prop_oneof!["P0[1-6]".prop_map(Target::School), "Z-(JA|DY)".prop_map(Target::Zone),];
    (kind, target, -5i32..10, proptest::option::of("[备注说明，, \"]{1,6}")).prop_map(move |(kind, target, precedence, note)| {
        CatchmentRule {
            id: format!("R-{i:03}"),
            kind,
            target,
            precedence,
            note: note.filter(|n| !n.trim().is_empty()).map(|n| n.trim().to_string()),
        }
    })
}

fn arb_rules() -> impl Strategy<Value = Vec<CatchmentRule>> {
    (1usize..8).prop_flat_map(|n| (0..n).map(arb_rule).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn export_import_round_trip(rules in arb_rules()) {
        let csv = export_rules_csv(&rules);
        prop_assert_eq!(&import_rules_csv(&csv).unwrap(), &rules);
        let xlsx = export_rules_xlsx(&rules).unwrap();
        prop_assert_eq!(&import_rules_xlsx(&xlsx).unwrap(), &rules);
    }

    /// One corrupted row: no rules, and the report names exactly that row.
    #[test]
    fn one_bad_row_rejects_the_import(rules in arb_rules(), which in 0usize..100, how in 0u8..4) {
        let bad = which % rules.len();
        let mut rows: Vec<Vec<String>> = vec![RULE_COLUMNS.iter().map(|s| s.to_string()).collect()];
        for r in &rules {
            rows.push(ruxue::catchment::io::rule_to_row(r));
        }
        let row = &mut rows[bad + 1];
        match how {
            0 => row[1] = "未知类型".into(),
            1 => { row[9] = "P01".into(); row[10] = "Z-JA".into(); }
            2 => row[11] = "高".into(),
            _ => row[0] = "坏 编号".into(),
        }
        let report = import_rules_table(&rows).unwrap_err();
        prop_assert!(!report.issues.is_empty());
        prop_assert!(report.issues.iter().all(|i| i.row == bad + 2), "{}", report);
        let needle = format!("第 {} 行", bad + 2);
        prop_assert!(report.to_string().contains(&needle));
    }
}
