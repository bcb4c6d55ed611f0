//! Which schools staff are offered first when they place a child (统筹):
//! the nearest schools with free seats. Pure: the schools, their free seats
//! and coordinates come in, an order comes out.
//!
//! - Where the child's point is known (the home address's location, else
//!   the location of the child's own catchment school) and a school has
//!   coordinates, schools are ordered by great-circle distance from it.
//! - Schools without coordinates follow, by catchment neighbours: the
//!   child's own township first, then the most free seats.
//! - Ties, and every comparison above, end on the school id, so the order
//!   is deterministic.

use crate::catchment::{distance_m, GeoPoint};
use std::cmp::Ordering;

/// A school with free seats, as the ranking sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub school_id: &'a str,
    pub township_id: &'a str,
    pub free: i64,
    pub point: Option<GeoPoint>,
}

/// How a proposal was chosen, for the staff page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// By great-circle distance (metres, rounded).
    Distance(i64),
    /// In the child's own township (no coordinates to compare).
    SameTownship,
    /// Elsewhere in the county (no coordinates to compare).
    Elsewhere,
}

impl Basis {
    /// The line the staff page shows beside a proposal.
    pub fn label(self) -> String {
        match self {
            Basis::Distance(m) if m < 1000 => format!("距离约 {m} 米"),
            Basis::Distance(m) => format!("距离约 {:.1} 公里", m as f64 / 1000.0),
            Basis::SameTownship => "同一乡镇".into(),
            Basis::Elsewhere => "其他乡镇".into(),
        }
    }
}

/// The candidates' indices nearest first, with how each was ranked.
/// Candidates with no free seats are left out.
pub fn rank(home_township: Option<&str>, home_point: Option<GeoPoint>, candidates: &[Candidate<'_>]) -> Vec<(usize, Basis)> {
    let mut out: Vec<(usize, Basis, f64)> = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.free > 0)
        .map(|(i, c)| match (home_point, c.point) {
            (Some(h), Some(p)) => {
                let d = distance_m(h, p);
                (i, Basis::Distance(d.round() as i64), d)
            }
            _ if home_township.is_some_and(|t| t == c.township_id) => (i, Basis::SameTownship, 0.0),
            _ => (i, Basis::Elsewhere, 0.0),
        })
        .collect();
    let group = |b: &Basis| match b {
        Basis::Distance(_) => 0,
        Basis::SameTownship => 1,
        Basis::Elsewhere => 2,
    };
    out.sort_by(|(i, a, da), (j, b, db)| {
        let (x, y) = (&candidates[*i], &candidates[*j]);
        group(a)
            .cmp(&group(b))
            .then(da.partial_cmp(db).unwrap_or(Ordering::Equal))
            .then(y.free.cmp(&x.free))
            .then(x.school_id.cmp(y.school_id))
    });
    out.into_iter().map(|(i, b, _)| (i, b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c<'a>(id: &'a str, town: &'a str, free: i64, point: Option<(f64, f64)>) -> Candidate<'a> {
        Candidate { school_id: id, township_id: town, free, point: point.map(|(lon, lat)| GeoPoint::new(lon, lat)) }
    }

    fn ids(r: &[(usize, Basis)], cs: &[Candidate<'_>]) -> Vec<String> {
        r.iter().map(|(i, _)| cs[*i].school_id.to_string()).collect()
    }

    #[test]
    fn by_distance_where_both_points_exist() {
        // 凤城 (home), a school ~1.1 km north, one ~5.5 km east, one ~22 km south.
        let home = GeoPoint::new(118.186, 25.056);
        let cs = [
            c("FAR", "HX", 90, Some((118.186, 24.856))),
            c("EAST", "CX", 5, Some((118.240, 25.056))),
            c("NEAR", "FC", 1, Some((118.186, 25.066))),
        ];
        let r = rank(Some("FC"), Some(home), &cs);
        assert_eq!(ids(&r, &cs), ["NEAR", "EAST", "FAR"]);
        match r[0].1 {
            Basis::Distance(m) => assert!((1_050..1_150).contains(&m), "{m}"),
            b => panic!("{b:?}"),
        }
        assert_eq!(Basis::Distance(1112).label(), "距离约 1.1 公里");
        assert_eq!(Basis::Distance(640).label(), "距离约 640 米");
    }

    #[test]
    fn schools_without_coordinates_follow_by_neighbours() {
        let home = GeoPoint::new(118.186, 25.056);
        let cs = [
            c("B-OTHER", "HX", 40, None),
            c("A-SAME", "FC", 3, None),
            c("C-SAME", "FC", 9, None),
            c("GEO", "HX", 1, Some((118.3, 25.2))),
            c("FULL", "FC", 0, Some((118.186, 25.056))),
        ];
        let r = rank(Some("FC"), Some(home), &cs);
        assert_eq!(ids(&r, &cs), ["GEO", "C-SAME", "A-SAME", "B-OTHER"], "full schools are never proposed");
        assert_eq!(r[1].1, Basis::SameTownship);
        assert_eq!(r[3].1, Basis::Elsewhere);
    }

    #[test]
    fn without_a_home_point_neighbours_then_seats_then_id() {
        let cs = [c("Z", "HX", 10, Some((118.0, 25.0))), c("Y", "FC", 2, Some((118.1, 25.0))), c("X", "HX", 10, None)];
        let r = rank(Some("FC"), None, &cs);
        assert_eq!(ids(&r, &cs), ["Y", "X", "Z"]);
        let r = rank(None, None, &cs);
        assert_eq!(ids(&r, &cs), ["X", "Z", "Y"]);
        // Deterministic whatever the input order.
        let rev: Vec<Candidate<'_>> = cs.iter().rev().cloned().collect();
        assert_eq!(ids(&rank(Some("FC"), None, &rev), &rev), ["Y", "X", "Z"]);
    }
}
