//! Export tables with Chinese headers, written as CSV (UTF-8 with BOM so
//! Excel opens it correctly) or XLSX. Pure: the caller builds the rows,
//! already masked for the role that asked.

use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    pub sheet: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(sheet: &str, headers: &[&str]) -> Self {
        Table { sheet: sheet.into(), headers: headers.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
    }
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

/// Cells a spreadsheet would read as a formula are prefixed with `'`.
fn defuse(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

pub fn to_csv(t: &Table) -> Result<Vec<u8>, String> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&t.headers).map_err(|e| e.to_string())?;
        for r in &t.rows {
            w.write_record(r.iter().map(|c| defuse(c))).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

pub fn to_xlsx(t: &Table) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(&t.sheet).map_err(|e| e.to_string())?;
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold).map_err(|e| e.to_string())?;
        ws.set_column_width(c as u16, 16).map_err(|e| e.to_string())?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            // Text cells are never evaluated as formulas by rust_xlsxwriter.
            ws.write_string((r + 1) as u32, c as u16, cell).map_err(|e| e.to_string())?;
        }
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

/// One applicant's line in a draw result (spec `ruxue-draw-v1`): roster id,
/// lottery number, outcome label, school id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawLine {
    pub id: String,
    pub number: String,
    pub outcome: &'static str,
    pub school: String,
}

/// Reads the `result` of a draw record: assignments, waitlists (with their
/// position) and the unassigned, each with its lottery number. A record
/// without a result yields nothing.
pub fn draw_lines(record_json: &str) -> Vec<DrawLine> {
    use serde_json::Value;
    let Ok(doc) = serde_json::from_str::<Value>(record_json) else { return Vec::new() };
    let result = &doc["result"];
    let number = |id: &str| match &result["lottery_numbers"][id] {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let ids = |v: &Value| -> Vec<String> {
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let mut out = Vec::new();
    if let Some(m) = result["assignments"].as_object() {
        for (school, list) in m {
            for id in ids(list) {
                out.push(DrawLine { number: number(&id), id, outcome: "录取", school: school.clone() });
            }
        }
    }
    if let Some(m) = result["waitlists"].as_object() {
        for (school, list) in m {
            for id in ids(list) {
                out.push(DrawLine { number: number(&id), id, outcome: "候补", school: school.clone() });
            }
        }
    }
    for id in ids(&result["unassigned"]) {
        out.push(DrawLine { number: number(&id), id, outcome: "未录取", school: String::new() });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_xlsx() {
        let mut t = Table::new("申请", &["报名号", "姓名"]);
        t.push(vec!["2027-G1-00001".into(), "=HYPERLINK()".into()]);
        let csv = String::from_utf8(to_csv(&t).unwrap()).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("报名号,姓名") && csv.contains("'=HYPERLINK()"));
        let x = to_xlsx(&t).unwrap();
        assert_eq!(&x[..2], b"PK");
    }

    #[test]
    fn draw_result_lines() {
        let rec = r#"{"result":{"lottery_numbers":{"a":3,"b":1,"c":2},"assignments":{"S01":["b"]},"waitlists":{"S01":["c"]},"unassigned":["a"]}}"#;
        let l = draw_lines(rec);
        assert_eq!(l.len(), 3);
        assert_eq!((l[0].id.as_str(), l[0].number.as_str(), l[0].outcome, l[0].school.as_str()), ("b", "1", "录取", "S01"));
        assert_eq!((l[1].outcome, l[2].outcome), ("候补", "未录取"));
        assert!(draw_lines("{}").is_empty() && draw_lines("not json").is_empty());
    }
}
