//! Import and export of catchment rules as CSV and XLSX.
//!
//! # Layout
//! One header row with these Chinese headers, in this order on export (import
//! accepts any order, ignores case/width/spacing differences, and rejects unknown
//! or duplicate headers):
//!
//! | 列 | 含义 |
//! |---|---|
//! | 规则编号 | rule id (`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`); empty → `R` + row number, 4 digits |
//! | 类型 | 道路 / 小区 / 社区 / 乡镇 / 地图; empty → inferred (GeoJSON → 地图, 小区 → 小区, 道路 → 道路, 社区/村 → 社区, else 乡镇) |
//! | 乡镇 | township; required except for 地图 |
//! | 社区/村 | community; required for 社区, optional for 道路, must be empty otherwise |
//! | 道路 | road; 道路 only |
//! | 起始门牌 / 终止门牌 | inclusive number range (either may be empty = open); 道路 and 小区 (building/number) |
//! | 单双号 | 单号 / 双号 / 全部 (empty = 全部); 道路 only |
//! | 小区 | compound name; 小区 only |
//! | 学校代码 / 片区代码 | exactly one of them |
//! | 优先级 | integer, empty = 0, larger wins |
//! | 备注 | free text |
//! | GeoJSON | Polygon / MultiPolygon geometry; 地图 only |
//! | 坐标系 | WGS84 (default) or GCJ02 (converted to WGS-84 on import); 地图 only |
//!
//! Row numbers in reports are spreadsheet rows: the header is row 1. Blank rows
//! are skipped. Import is all-or-nothing: any issue → `Err(report)`, no rules.
//! Export writes WGS-84 and every column, so exporting and re-importing yields
//! identical rules. CSV export starts with a UTF-8 BOM (for Excel); import
//! accepts it with or without.

use super::address::normalize_text;
use super::geo::MultiPolygon;
use super::rule::{CatchmentRule, Parity, RuleKind, Target};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;

/// Column headers, in export order.
pub const RULE_COLUMNS: [&str; 15] = [
    "规则编号",
    "类型",
    "乡镇",
    "社区/村",
    "道路",
    "起始门牌",
    "终止门牌",
    "单双号",
    "小区",
    "学校代码",
    "片区代码",
    "优先级",
    "备注",
    "GeoJSON",
    "坐标系",
];

const C_ID: usize = 0;
const C_KIND: usize = 1;
const C_TOWN: usize = 2;
const C_COMM: usize = 3;
const C_ROAD: usize = 4;
const C_FROM: usize = 5;
const C_TO: usize = 6;
const C_PARITY: usize = 7;
const C_COMPOUND: usize = 8;
const C_SCHOOL: usize = 9;
const C_ZONE: usize = 10;
const C_PREC: usize = 11;
const C_NOTE: usize = 12;
const C_GEO: usize = 13;
const C_CRS: usize = 14;

/// One problem found while importing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportIssue {
    /// Spreadsheet row number (header = 1); 0 for file-level problems.
    pub row: usize,
    /// Column header, or empty for whole-row / file problems.
    pub column: String,
    /// Chinese message.
    pub message: String,
}

impl fmt::Display for ImportIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.row, self.column.is_empty()) {
            (0, _) => write!(f, "文件：{}", self.message),
            (r, true) => write!(f, "第 {r} 行：{}", self.message),
            (r, false) => write!(f, "第 {r} 行「{}」：{}", self.column, self.message),
        }
    }
}

/// The validation report of a failed import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Number of non-blank data rows read.
    pub rows_read: usize,
    pub issues: Vec<ImportIssue>,
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "导入失败：共读取 {} 行数据，发现 {} 个问题，未导入任何规则。", self.rows_read, self.issues.len())?;
        for i in &self.issues {
            writeln!(f, "{i}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportReport {}

fn file_error(msg: String) -> ImportReport {
    ImportReport { rows_read: 0, issues: vec![ImportIssue { row: 0, column: String::new(), message: msg }] }
}

/// Identifier syntax shared with the draw (`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`).
pub fn is_valid_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// Import from CSV bytes (UTF-8, optional BOM).
pub fn import_rules_csv(data: &[u8]) -> Result<Vec<CatchmentRule>, ImportReport> {
    let data = data.strip_prefix("\u{feff}".as_bytes()).unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(data);
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        match rec {
            Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
            Err(e) => return Err(file_error(format!("第 {} 行 CSV 无法解析：{e}", i + 1))),
        }
    }
    import_rules_table(&rows)
}

/// Import from XLSX bytes (first worksheet).
pub fn import_rules_xlsx(data: &[u8]) -> Result<Vec<CatchmentRule>, ImportReport> {
    use calamine::{Data, Reader, Xlsx};
    let mut wb = Xlsx::new(std::io::Cursor::new(data.to_vec())).map_err(|e| file_error(format!("无法读取 Excel 文件：{e}")))?;
    let range = match wb.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(file_error(format!("无法读取第一个工作表：{e}"))),
        None => return Err(file_error("Excel 文件中没有工作表".into())),
    };
    let (start_row, start_col) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<String>> = vec![Vec::new(); start_row as usize];
    for r in range.rows() {
        let mut cells: Vec<String> = vec![String::new(); start_col as usize];
        cells.extend(r.iter().map(|d| match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Int(i) => i.to_string(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Bool(b) => b.to_string(),
            other => other.to_string(),
        }));
        rows.push(cells);
    }
    import_rules_table(&rows)
}

fn header_key(s: &str) -> String {
    normalize_text(s).to_ascii_lowercase()
}

/// Import from a table of cells (first non-blank row = headers). The CSV and
/// XLSX importers call this; row numbers are 1-based positions in `rows`.
pub fn import_rules_table(rows: &[Vec<String>]) -> Result<Vec<CatchmentRule>, ImportReport> {
    let blank = |r: &Vec<String>| r.iter().all(|c| c.trim().is_empty());
    let Some(header_idx) = rows.iter().position(|r| !blank(r)) else {
        return Err(file_error("文件为空，缺少表头".into()));
    };
    let header = &rows[header_idx];
    let header_row = header_idx + 1;
    let mut issues = Vec::new();
    // map column position → our column index
    let mut pos: [Option<usize>; 15] = [None; 15];
    for (i, h) in header.iter().enumerate() {
        let hk = header_key(h);
        if hk.is_empty() {
            continue;
        }
        match RULE_COLUMNS.iter().position(|c| header_key(c) == hk) {
            Some(c) if pos[c].is_some() => {
                issues.push(ImportIssue { row: header_row, column: h.clone(), message: format!("表头「{h}」重复") })
            }
            Some(c) => pos[c] = Some(i),
            None => issues.push(ImportIssue {
                row: header_row,
                column: h.clone(),
                message: format!("无法识别的表头「{h}」，应为：{}", RULE_COLUMNS.join("、")),
            }),
        }
    }
    if pos[C_TOWN].is_none() {
        issues.push(ImportIssue { row: header_row, column: "乡镇".into(), message: "缺少必需的列「乡镇」".into() });
    }
    if pos[C_SCHOOL].is_none() && pos[C_ZONE].is_none() {
        issues.push(ImportIssue {
            row: header_row,
            column: "学校代码".into(),
            message: "缺少必需的列「学校代码」或「片区代码」（至少需要其中一列）".into(),
        });
    }
    if !issues.is_empty() {
        return Err(ImportReport { rows_read: 0, issues });
    }

    let mut rules = Vec::new();
    let mut seen_ids: HashSet<String> = HashSet::new();
    let mut rows_read = 0;
    for (i, raw) in rows.iter().enumerate().skip(header_idx + 1) {
        if blank(raw) {
            continue;
        }
        rows_read += 1;
        let row = i + 1;
        let cell = |c: usize| -> String { pos[c].and_then(|p| raw.get(p)).map(|s| s.trim().to_string()).unwrap_or_default() };
        let before = issues.len();
        if let Some(rule) = parse_row(row, &cell, &mut issues) {
            if !seen_ids.insert(rule.id.clone()) {
                issues.push(ImportIssue {
                    row, column: "规则编号".into(), message: format!("规则编号「{}」与前面的行重复", rule.id)
                });
            } else if issues.len() == before {
                rules.push(rule);
            }
        }
    }
    if rows_read == 0 {
        issues.push(ImportIssue { row: 0, column: String::new(), message: "文件中没有任何规则数据行".into() });
    }
    if issues.is_empty() {
        Ok(rules)
    } else {
        Err(ImportReport { rows_read, issues })
    }
}

fn parse_row(row: usize, cell: &dyn Fn(usize) -> String, issues: &mut Vec<ImportIssue>) -> Option<CatchmentRule> {
    let start = issues.len();
    let mut err = |c: usize, msg: String| {
        issues.push(ImportIssue { row, column: RULE_COLUMNS[c].into(), message: msg });
    };
    let id = {
        let v = cell(C_ID);
        if v.is_empty() {
            format!("R{row:04}")
        } else {
            if !is_valid_id(&v) {
                err(C_ID, format!("规则编号「{v}」只能包含字母、数字、点、下划线和连字符，且以字母或数字开头，最长 64 位"));
            }
            v
        }
    };
    let kind_text = cell(C_KIND);
    let kind_name = if kind_text.is_empty() {
        if !cell(C_GEO).is_empty() {
            "地图"
        } else if !cell(C_COMPOUND).is_empty() {
            "小区"
        } else if !cell(C_ROAD).is_empty() {
            "道路"
        } else if !cell(C_COMM).is_empty() {
            "社区"
        } else {
            "乡镇"
        }
    } else {
        match normalize_text(&kind_text).as_str() {
            "道路" | "街道门牌" | "门牌" | "路" => "道路",
            "小区" | "楼盘" => "小区",
            "社区" | "村" | "社区/村" | "社区村" => "社区",
            "乡镇" | "镇" | "乡" | "街道" => "乡镇",
            "地图" | "地图范围" | "多边形" | "polygon" => "地图",
            _ => {
                err(C_KIND, format!("类型「{kind_text}」无效，应为 道路、小区、社区、乡镇 或 地图"));
                return None;
            }
        }
    };
    let township = cell(C_TOWN);
    let community = cell(C_COMM);
    let road = cell(C_ROAD);
    let compound = cell(C_COMPOUND);
    let geo = cell(C_GEO);
    let crs = cell(C_CRS);
    let parity_text = cell(C_PARITY);
    let num = |c: usize, err: &mut dyn FnMut(usize, String)| -> Option<u32> {
        let v = cell(c);
        if v.is_empty() {
            return None;
        }
        let n = normalize_text(&v);
        let n = n.strip_suffix('号').unwrap_or(&n);
        match n.parse::<u32>() {
            Ok(x) if x > 0 => Some(x),
            _ => {
                err(c, format!("{}「{v}」应为正整数门牌号", RULE_COLUMNS[c]));
                None
            }
        }
    };
    let from = num(C_FROM, &mut err);
    let to = num(C_TO, &mut err);
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            err(C_TO, format!("终止门牌 {b} 小于起始门牌 {a}"));
        }
    }
    let must_be_empty = |c: usize, v: &str, err: &mut dyn FnMut(usize, String)| {
        if !v.is_empty() {
            err(c, format!("类型为「{kind_name}」的规则不使用「{}」列，请留空", RULE_COLUMNS[c]));
        }
    };
    if kind_name != "地图" && township.is_empty() {
        err(C_TOWN, "乡镇不能为空".into());
    }
    if kind_name != "地图" {
        must_be_empty(C_GEO, &geo, &mut err);
        must_be_empty(C_CRS, &crs, &mut err);
    }
    if kind_name != "道路" {
        must_be_empty(C_ROAD, &road, &mut err);
        must_be_empty(C_PARITY, &parity_text, &mut err);
    }
    if kind_name != "小区" {
        must_be_empty(C_COMPOUND, &compound, &mut err);
    }
    if !matches!(kind_name, "道路" | "小区") {
        must_be_empty(C_FROM, &cell(C_FROM), &mut err);
        must_be_empty(C_TO, &cell(C_TO), &mut err);
    }
    if !matches!(kind_name, "道路" | "社区") {
        must_be_empty(C_COMM, &community, &mut err);
    }
    let kind = match kind_name {
        "道路" => {
            if road.is_empty() {
                err(C_ROAD, "道路规则必须填写道路名称".into());
            }
            let parity = Parity::parse(&parity_text).unwrap_or_else(|| {
                err(C_PARITY, format!("单双号「{parity_text}」无效，应为 单号、双号 或 全部"));
                Parity::All
            });
            RuleKind::Street {
                township: township.clone(),
                community: if community.is_empty() { None } else { Some(community.clone()) },
                road,
                from,
                to,
                parity,
            }
        }
        "小区" => {
            if compound.is_empty() {
                err(C_COMPOUND, "小区规则必须填写小区名称".into());
            }
            RuleKind::Compound { township: township.clone(), name: compound, from, to }
        }
        "社区" => {
            if community.is_empty() {
                err(C_COMM, "社区规则必须填写社区/村名称".into());
            }
            RuleKind::Community { township: township.clone(), community }
        }
        "乡镇" => RuleKind::Township { township: township.clone() },
        _ => {
            if !township.is_empty() {
                err(C_TOWN, "地图规则不使用「乡镇」列，请留空".into());
            }
            let gcj = match normalize_text(&crs).to_ascii_uppercase().replace('-', "").as_str() {
                "" | "WGS84" => false,
                "GCJ02" | "火星坐标" => true,
                _ => {
                    err(C_CRS, format!("坐标系「{crs}」无效，应为 WGS84 或 GCJ02"));
                    false
                }
            };
            if geo.is_empty() {
                err(C_GEO, "地图规则必须填写 GeoJSON".into());
                None
            } else {
                match MultiPolygon::from_geojson(&geo, gcj) {
                    Ok(area) => Some(RuleKind::Polygon { area }),
                    Err(e) => {
                        err(C_GEO, e);
                        None
                    }
                }
            }
            .unwrap_or(RuleKind::Township { township: String::new() })
        }
    };
    let school = cell(C_SCHOOL);
    let zone = cell(C_ZONE);
    let target = match (school.is_empty(), zone.is_empty()) {
        (false, true) => Target::School(school),
        (true, false) => Target::Zone(zone),
        (true, true) => {
            err(C_SCHOOL, "学校代码与片区代码必须填写其中之一".into());
            Target::School(String::new())
        }
        (false, false) => {
            err(C_ZONE, "学校代码与片区代码只能填写其中之一".into());
            Target::School(school)
        }
    };
    if !target.id().is_empty() && !is_valid_id(target.id()) {
        let c = if matches!(target, Target::School(_)) { C_SCHOOL } else { C_ZONE };
        err(c, format!("代码「{}」只能包含字母、数字、点、下划线和连字符", target.id()));
    }
    let prec_text = cell(C_PREC);
    let precedence = if prec_text.is_empty() {
        0
    } else {
        normalize_text(&prec_text).parse::<i32>().unwrap_or_else(|_| {
            err(C_PREC, format!("优先级「{prec_text}」应为整数"));
            0
        })
    };
    let note = cell(C_NOTE);
    if issues.len() > start {
        return None;
    }
    Some(CatchmentRule { id, kind, target, precedence, note: if note.is_empty() { None } else { Some(note) } })
}

/// The row of cells for one rule, in [`RULE_COLUMNS`] order.
pub fn rule_to_row(r: &CatchmentRule) -> Vec<String> {
    let mut row = vec![String::new(); RULE_COLUMNS.len()];
    let n = |x: &Option<u32>| x.map(|v| v.to_string()).unwrap_or_default();
    row[C_ID] = r.id.clone();
    match &r.kind {
        RuleKind::Street { township, community, road, from, to, parity } => {
            row[C_KIND] = "道路".into();
            row[C_TOWN] = township.clone();
            row[C_COMM] = community.clone().unwrap_or_default();
            row[C_ROAD] = road.clone();
            row[C_FROM] = n(from);
            row[C_TO] = n(to);
            row[C_PARITY] = parity.label().into();
        }
        RuleKind::Compound { township, name, from, to } => {
            row[C_KIND] = "小区".into();
            row[C_TOWN] = township.clone();
            row[C_COMPOUND] = name.clone();
            row[C_FROM] = n(from);
            row[C_TO] = n(to);
        }
        RuleKind::Community { township, community } => {
            row[C_KIND] = "社区".into();
            row[C_TOWN] = township.clone();
            row[C_COMM] = community.clone();
        }
        RuleKind::Township { township } => {
            row[C_KIND] = "乡镇".into();
            row[C_TOWN] = township.clone();
        }
        RuleKind::Polygon { area } => {
            row[C_KIND] = "地图".into();
            row[C_GEO] = area.to_geojson();
            row[C_CRS] = "WGS84".into();
        }
    }
    match &r.target {
        Target::School(s) => row[C_SCHOOL] = s.clone(),
        Target::Zone(z) => row[C_ZONE] = z.clone(),
    }
    row[C_PREC] = r.precedence.to_string();
    row[C_NOTE] = r.note.clone().unwrap_or_default();
    row
}

/// Export as CSV (UTF-8 with BOM, header row first).
pub fn export_rules_csv(rules: &[CatchmentRule]) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(RULE_COLUMNS).expect("write to Vec");
        for r in rules {
            w.write_record(rule_to_row(r)).expect("write to Vec");
        }
        w.flush().expect("flush Vec");
    }
    out
}

/// Export as XLSX bytes (one worksheet 划片规则, all cells as text).
pub fn export_rules_xlsx(rules: &[CatchmentRule]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("划片规则").map_err(|e| format!("生成 Excel 失败：{e}"))?;
    let bold = Format::new().set_bold();
    for (c, h) in RULE_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold).map_err(|e| format!("生成 Excel 失败：{e}"))?;
        ws.set_column_width(c as u16, if c == C_GEO { 40 } else { 12 }).map_err(|e| format!("生成 Excel 失败：{e}"))?;
    }
    for (i, r) in rules.iter().enumerate() {
        for (c, v) in rule_to_row(r).iter().enumerate() {
            if !v.is_empty() {
                ws.write_string((i + 1) as u32, c as u16, v).map_err(|e| format!("生成 Excel 失败：{e}"))?;
            }
        }
    }
    wb.save_to_buffer().map_err(|e| format!("生成 Excel 失败：{e}"))
}
