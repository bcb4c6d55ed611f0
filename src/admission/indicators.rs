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

#[derive(Debug, Clone, Serialize)]
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

#[derive(Debug, Clone, Serialize)]
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
