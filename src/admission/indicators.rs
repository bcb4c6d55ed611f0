//! The inspectors' indicators (督导, from the county's plan): class sizes
//! against the caps (no 大班额), children with disabilities enrolled in
//! ordinary classes (随班就读) against those registered, migrant workers'
//! children (随迁子女) placed in public schools, and left-behind children
//! (留守儿童) recorded. Pure: counts in, figures out.

use serde::Serialize;

/// The plan's target for 随班就读: 96% or more of the registered children.
pub const DISABILITY_TARGET_PERMILLE: i64 = 960;

#[derive(Debug, Clone)]
pub struct SchoolCount {
    pub school_id: String,
    pub name: String,
    /// `primary` or `junior`.
    pub kind: String,
    pub classes: i32,
    /// The county's cap for this kind (45 primary, 50 junior).
    pub cap: i32,
    /// Children holding or having accepted a seat.
    pub pupils: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchoolFigures {
    pub school_id: String,
    pub name: String,
    pub kind: String,
    pub classes: i32,
    pub cap: i32,
    pub pupils: i64,
    /// The largest class when pupils are spread as evenly as possible.
    pub largest_class: i64,
    /// Classes above the cap (大班额) in that even spread.
    pub oversize_classes: i64,
    pub ok: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ChildCounts {
    pub disability_registered: i64,
    pub disability_enrolled: i64,
    pub migrant_registered: i64,
    pub migrant_placed_public: i64,
    pub left_behind: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Indicators {
    pub schools: Vec<SchoolFigures>,
    pub classes: i64,
    pub pupils: i64,
    pub oversize_classes: i64,
    pub schools_failing: usize,
    pub disability_registered: i64,
    pub disability_enrolled: i64,
    /// Per mille, rounded down; None when nobody registered.
    pub disability_rate_permille: Option<i64>,
    pub disability_target_met: bool,
    pub migrant_registered: i64,
    pub migrant_placed_public: i64,
    pub migrant_rate_permille: Option<i64>,
    pub left_behind: i64,
}

/// `a / b` in per mille, rounded down.
pub fn permille(a: i64, b: i64) -> Option<i64> {
    (b > 0).then(|| a * 1000 / b)
}

/// `962‰` as `96.2%`.
pub fn percent_text(p: Option<i64>) -> String {
    match p {
        Some(p) => format!("{}.{}%", p / 10, p % 10),
        None => "—".into(),
    }
}

pub fn school_figures(s: &SchoolCount) -> SchoolFigures {
    let classes = i64::from(s.classes.max(0));
    let (largest, over) = if classes == 0 {
        (s.pupils, if s.pupils > 0 { 1 } else { 0 })
    } else {
        let base = s.pupils / classes;
        let rem = s.pupils % classes;
        let largest = base + i64::from(rem > 0);
        let cap = i64::from(s.cap);
        // `rem` classes hold base + 1, the others base.
        let over = if base > cap {
            classes
        } else if largest > cap {
            rem
        } else {
            0
        };
        (largest, over)
    };
    SchoolFigures {
        school_id: s.school_id.clone(),
        name: s.name.clone(),
        kind: s.kind.clone(),
        classes: s.classes,
        cap: s.cap,
        pupils: s.pupils,
        largest_class: largest,
        oversize_classes: over,
        ok: over == 0,
    }
}

pub fn compute(schools: &[SchoolCount], c: &ChildCounts) -> Indicators {
    let figures: Vec<SchoolFigures> = schools.iter().map(school_figures).collect();
    let rate = permille(c.disability_enrolled, c.disability_registered);
    Indicators {
        classes: figures.iter().map(|f| i64::from(f.classes)).sum(),
        pupils: figures.iter().map(|f| f.pupils).sum(),
        oversize_classes: figures.iter().map(|f| f.oversize_classes).sum(),
        schools_failing: figures.iter().filter(|f| !f.ok).count(),
        schools: figures,
        disability_registered: c.disability_registered,
        disability_enrolled: c.disability_enrolled,
        disability_rate_permille: rate,
        disability_target_met: rate.map_or(true, |r| r >= DISABILITY_TARGET_PERMILLE),
        migrant_registered: c.migrant_registered,
        migrant_placed_public: c.migrant_placed_public,
        migrant_rate_permille: permille(c.migrant_placed_public, c.migrant_registered),
        left_behind: c.left_behind,
    }
}

/// The class-size chart (server-rendered SVG): each school's largest class
/// against its cap; red bars are 大班额.
pub fn class_chart(i: &Indicators) -> String {
    let esc = crate::review::charts::esc;
    let row = 26.0;
    let left = 170.0;
    let width = 420.0;
    let max = i.schools.iter().map(|s| s.largest_class.max(i64::from(s.cap))).max().unwrap_or(1).max(1) as f64;
    let h = 30.0 + row * i.schools.len() as f64;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="各校最大班额与班额上限"><style>text{{font-size:12px;font-family:sans-serif}}</style>"#,
        w = left + width + 80.0
    );
    for (k, s) in i.schools.iter().enumerate() {
        let y = 10.0 + row * k as f64;
        let bw = width * s.largest_class as f64 / max;
        let cap_x = left + width * f64::from(s.cap) / max;
        let colour = if s.ok { "#2e7d32" } else { "#c62828" };
        out.push_str(&format!(
            r##"<text x="{tx}" y="{ty}" text-anchor="end">{name}</text><rect x="{left}" y="{y}" width="{bw:.1}" height="16" fill="{colour}"/><line x1="{cap_x:.1}" x2="{cap_x:.1}" y1="{y0}" y2="{y1}" stroke="#333" stroke-dasharray="3,2"/><text x="{vx:.1}" y="{ty}">{v} / {cap}</text>"##,
            tx = left - 6.0,
            ty = y + 12.0,
            name = esc(&s.name),
            y0 = y - 2.0,
            y1 = y + 18.0,
            vx = left + bw + 6.0,
            v = s.largest_class,
            cap = s.cap,
        ));
    }
    out.push_str("</svg>");
    out
}

/// A share as a horizontal bar against a target line (SVG).
pub fn share_chart(label: &str, permille: Option<i64>, target_permille: Option<i64>) -> String {
    let esc = crate::review::charts::esc;
    let p = permille.unwrap_or(0) as f64 / 1000.0;
    let mut out = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 500 44" width="100%" role="img" aria-label="{l}"><style>text{{font-size:12px;font-family:sans-serif}}</style><rect x="0" y="8" width="400" height="18" fill="#e5e7eb"/><rect x="0" y="8" width="{w:.1}" height="18" fill="#0b5cad"/><text x="408" y="22">{t}</text>"##,
        l = esc(label),
        w = 400.0 * p,
        t = percent_text(permille)
    );
    if let Some(t) = target_permille {
        let x = 400.0 * t as f64 / 1000.0;
        out.push_str(&format!(r##"<line x1="{x:.1}" x2="{x:.1}" y1="2" y2="32" stroke="#c62828" stroke-width="2"/><text x="{x:.1}" y="42" text-anchor="middle" fill="#c62828">目标 {}</text>"##, percent_text(Some(t))));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(classes: i32, cap: i32, pupils: i64) -> SchoolCount {
        SchoolCount { school_id: "S".into(), name: "S".into(), kind: "primary".into(), classes, cap, pupils }
    }

    #[test]
    fn class_sizes() {
        let f = school_figures(&s(2, 45, 90));
        assert_eq!((f.largest_class, f.oversize_classes, f.ok), (45, 0, true));
        let f = school_figures(&s(2, 45, 91));
        assert_eq!((f.largest_class, f.oversize_classes, f.ok), (46, 1, false));
        let f = school_figures(&s(2, 45, 100));
        assert_eq!((f.largest_class, f.oversize_classes), (50, 2));
        let f = school_figures(&s(0, 45, 3));
        assert!(!f.ok);
    }

    #[test]
    fn rates() {
        let c = ChildCounts {
            disability_registered: 25,
            disability_enrolled: 24,
            migrant_registered: 10,
            migrant_placed_public: 9,
            left_behind: 3,
        };
        let i = compute(&[s(2, 45, 80), s(1, 45, 46)], &c);
        assert_eq!(i.disability_rate_permille, Some(960));
        assert!(i.disability_target_met);
        assert_eq!(percent_text(i.migrant_rate_permille), "90.0%");
        assert_eq!((i.classes, i.pupils, i.oversize_classes, i.schools_failing), (3, 126, 1, 1));
        let c2 = ChildCounts { disability_registered: 26, disability_enrolled: 24, ..c };
        assert!(!compute(&[], &c2).disability_target_met);
    }
}
