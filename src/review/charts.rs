//! Server-rendered SVG charts: no scripts, readable without JavaScript. Pure.

use super::dashboard::Unit;

/// Escapes text for SVG/XML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Rough rendered width of a label at 12px: CJK characters are square.
fn text_width(s: &str) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 7.0 } else { 12.0 }).sum()
}

const PALETTE: [&str; 8] = ["#0b5cad", "#2f9e44", "#e8590c", "#7048e8", "#c2255c", "#1098ad", "#868e96", "#f08c00"];

/// Colour of a category code, stable across charts.
pub fn category_colour(code: &str, categories: &[String]) -> &'static str {
    let i = categories.iter().position(|c| c == code).unwrap_or(PALETTE.len() - 2);
    PALETTE[i % PALETTE.len()]
}

/// Horizontal stacked bars: approved applications by category, then pending
/// (hatched grey), with a red mark at the number of seats.
pub fn seats_chart(units: &[Unit], categories: &[String], labels: &[(String, String)]) -> String {
    let row_h = 22.0;
    let label_w = 150.0;
    let chart_w = 420.0;
    let total_w = label_w + chart_w + 70.0;
    // Legend items, wrapped onto as many lines as they need.
    let mut items: Vec<(String, String)> = categories
        .iter()
        .map(|code| {
            let name = labels.iter().find(|(c, _)| c == code).map(|(_, l)| l.as_str()).unwrap_or(code);
            (category_colour(code, categories).to_string(), format!("{code} {name}"))
        })
        .collect();
    items.push(("url(#hatch)".into(), "待审".into()));
    let mut legend = String::new();
    let (mut x, mut line) = (0.0, 0.0);
    for (fill, text) in &items {
        let w = 13.0 + text_width(text) + 12.0;
        if x + w > total_w {
            x = 0.0;
            line += 1.0;
        }
        let y = 4.0 + line * 16.0;
        legend.push_str(&format!(
            r#"<rect x="{x}" y="{y}" width="10" height="10" fill="{fill}"/><text x="{}" y="{}">{}</text>"#,
            x + 13.0,
            y + 9.0,
            esc(text)
        ));
        x += w;
    }
    if x + 60.0 > total_w {
        x = 0.0;
        line += 1.0;
    }
    legend.push_str(&format!(
        r##"<rect x="{x}" y="{}" width="2" height="14" fill="#d6336c"/><text x="{}" y="{}">学位数</text>"##,
        2.0 + line * 16.0,
        x + 6.0,
        13.0 + line * 16.0
    ));
    let legend_h = 22.0 + line * 16.0;
    let height = legend_h + row_h * units.len() as f64 + 24.0;
    let max = units.iter().map(|u| u.applications.max(u.seats)).max().unwrap_or(1).max(1) as f64;
    let scale = chart_w / max;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="各校（片区）申请与学位" font-size="12" font-family="sans-serif">"#,
        w = total_w,
        h = height
    );
    s.push_str(r##"<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#dee2e6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#adb5bd" stroke-width="3"/></pattern></defs>"##);
    s.push_str(&legend);
    for (i, u) in units.iter().enumerate() {
        let y = legend_h + row_h * i as f64;
        let name = if u.kind == "zone" { format!("{}（片区）", u.name) } else { u.name.clone() };
        s.push_str(&format!(r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, label_w - 6.0, y + 15.0, esc(&name)));
        let mut bx = label_w;
        for (code, n) in &u.by_category {
            let w = *n as f64 * scale;
            s.push_str(&format!(
                r#"<rect x="{bx:.1}" y="{:.1}" width="{w:.1}" height="{}" fill="{}"><title>{}</title></rect>"#,
                y + 3.0,
                row_h - 6.0,
                category_colour(code, categories),
                esc(&format!("{code}：{n} 人"))
            ));
            bx += w;
        }
        if u.pending > 0 {
            let w = u.pending as f64 * scale;
            s.push_str(&format!(
                r#"<rect x="{bx:.1}" y="{:.1}" width="{w:.1}" height="{}" fill="url(#hatch)"><title>待审：{} 人</title></rect>"#,
                y + 3.0,
                row_h - 6.0,
                u.pending
            ));
        }
        let sx = label_w + u.seats as f64 * scale;
        s.push_str(&format!(r##"<rect x="{:.1}" y="{y:.1}" width="2" height="{row_h}" fill="#d6336c"/>"##, sx - 1.0));
        let colour = if u.class_size_flag { "#c92a2a" } else { "#1f2328" };
        s.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" fill="{colour}">{}/{}</text>"#,
            label_w + chart_w + 6.0,
            y + 15.0,
            u.approved + u.pending,
            u.seats
        ));
    }
    s.push_str("</svg>");
    s
}

/// The campaign's phases on one line, with today marked.
pub fn timeline(phases: &[(String, chrono::NaiveDateTime)], now: chrono::NaiveDateTime) -> String {
    let w = 640.0;
    let pad = 50.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} 62" width="{w}" height="62" role="img" aria-label="招生日程" font-size="11" font-family="sans-serif">"#
    );
    if phases.is_empty() {
        s.push_str("</svg>");
        return s;
    }
    let first = phases.iter().map(|p| p.1).min().unwrap_or(now);
    let last = phases.iter().map(|p| p.1).max().unwrap_or(now);
    let span = (last - first).num_seconds().max(1) as f64;
    let xof = |t: chrono::NaiveDateTime| pad + (w - 2.0 * pad) * ((t - first).num_seconds() as f64 / span).clamp(0.0, 1.0);
    s.push_str(&format!(r##"<line x1="{pad}" y1="30" x2="{}" y2="30" stroke="#adb5bd" stroke-width="3"/>"##, w - pad));
    for (i, (name, t)) in phases.iter().enumerate() {
        let x = xof(*t);
        let done = *t <= now;
        let (ty, dy) = if i % 2 == 0 { (18.0, 52.0) } else { (52.0, 18.0) };
        let _ = dy;
        s.push_str(&format!(
            r##"<circle cx="{x:.1}" cy="30" r="6" fill="{}"/><text x="{x:.1}" y="{ty}" text-anchor="middle">{}</text>"##,
            if done { "#2f9e44" } else { "#0b5cad" },
            esc(&format!("{} {}", name, t.format("%m-%d")))
        ));
    }
    if now >= first && now <= last {
        let x = xof(now);
        s.push_str(&format!(r##"<line x1="{x:.1}" y1="20" x2="{x:.1}" y2="40" stroke="#d6336c" stroke-width="2"/><text x="{x:.1}" y="60" text-anchor="middle" fill="#d6336c">今天</text>"##));
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
#[allow(clippy::items_after_test_module)] // dry_run_chart below belongs above this module
mod tests {
    use super::*;

    #[test]
    fn svg_is_escaped_and_scriptless() {
        let u = Unit {
            kind: "school",
            id: "P01".into(),
            name: "<script>".into(),
            classes: 1,
            seats: 45,
            applications: 50,
            approved: 40,
            pending: 10,
            rejected: 0,
            by_category: vec![("A".into(), 40)],
            ratio: 0.9,
            oversubscribed: false,
            admitted: 40,
            admitted_basis: "approved",
            class_size_flag: false,
            flags: vec![],
        };
        let s = seats_chart(&[u], &["A".into()], &[("A".into(), "房户一致".into())]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(!s.contains("<script>") && s.contains("&lt;script&gt;"));
        let t0 = chrono::NaiveDate::from_ymd_opt(2027, 7, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let t = timeline(&[("报名".into(), t0), ("派位".into(), t0 + chrono::Duration::days(30))], t0 + chrono::Duration::days(3));
        assert!(t.contains("今天") && t.contains("报名 07-01"));
    }
}

/// The dry run per school: applicants admitted for certain (green), in the
/// lottery (orange) and certainly not admitted (grey), with the seats marked.
pub fn dry_run_chart(report: &crate::policy::DryRunReport) -> String {
    let row_h = 22.0;
    let label_w = 150.0;
    let chart_w = 420.0;
    let total_w = label_w + chart_w + 90.0;
    let legend_h = 24.0;
    let height = legend_h + row_h * report.schools.len() as f64 + 8.0;
    let max = report.schools.iter().map(|s| s.applicants.max(s.seats)).max().unwrap_or(1).max(1) as f64;
    let scale = chart_w / max;
    let parts = [("#2f9e44", "确定录取"), ("#e8590c", "参加派位"), ("#adb5bd", "不能录取")];
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="招生方案预演：各校录取分界" font-size="12" font-family="sans-serif">"#,
        w = total_w,
        h = height
    );
    let mut x = 0.0;
    for (fill, text) in parts {
        s.push_str(&format!(
            r#"<rect x="{x}" y="4" width="10" height="10" fill="{fill}"/><text x="{}" y="13">{}</text>"#,
            x + 13.0,
            esc(text)
        ));
        x += 13.0 + text_width(text) + 14.0;
    }
    s.push_str(&format!(r##"<rect x="{x}" y="2" width="2" height="14" fill="#d6336c"/><text x="{}" y="13">学位数</text>"##, x + 6.0));
    for (i, school) in report.schools.iter().enumerate() {
        let y = legend_h + row_h * i as f64;
        s.push_str(&format!(r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#, label_w - 6.0, y + 15.0, esc(&school.school_name)));
        let sum = |f: fn(&crate::policy::CategoryCount) -> u32| school.categories.iter().map(f).sum::<u32>();
        let values = [sum(|c| c.admitted), sum(|c| c.in_lottery), sum(|c| c.not_admitted)];
        let mut bx = label_w;
        for ((fill, text), n) in parts.iter().zip(values) {
            if n == 0 {
                continue;
            }
            let w = f64::from(n) * scale;
            s.push_str(&format!(
                r#"<rect x="{bx:.1}" y="{:.1}" width="{w:.1}" height="{}" fill="{fill}"><title>{}</title></rect>"#,
                y + 3.0,
                row_h - 6.0,
                esc(&format!("{text}：{n} 人"))
            ));
            bx += w;
        }
        let sx = label_w + f64::from(school.seats) * scale;
        s.push_str(&format!(r##"<rect x="{:.1}" y="{y:.1}" width="2" height="{row_h}" fill="#d6336c"/>"##, sx - 1.0));
        let odds = school.lottery.as_ref().map(|l| format!(" 中签 {}", l.percent)).unwrap_or_default();
        s.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}">{}/{}{}</text>"#,
            label_w + chart_w + 6.0,
            y + 15.0,
            school.applicants,
            school.seats,
            esc(&odds)
        ));
    }
    s.push_str("</svg>");
    s
}
