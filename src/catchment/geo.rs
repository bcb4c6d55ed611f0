//! Map zones: polygons in WGS-84, point-in-polygon, and GCJ-02 → WGS-84.
//!
//! Boundary rule: a polygon is a **closed** set. A point on the outer ring (on an
//! edge or a vertex) is inside; a point strictly inside a hole is outside; a point
//! on a hole's ring is inside (the hole's boundary belongs to the polygon). "On"
//! means within [`BOUNDARY_EPS`] degrees (≈0.1 mm) of a segment. When a point lies
//! on the shared edge of two polygon rules, both match; the usual ordering
//! (precedence, then specificity, then smaller area, then rule id) decides.
//!
//! GCJ-02 ("Mars coordinates", used by Chinese web maps such as AMap/Tencent) is
//! converted with the standard published offset formula (Krasovsky ellipsoid);
//! the inverse is computed by fixed-point iteration to below 1e-9 degrees.
//! Points outside China's bounding box are not offset.

use serde::{Deserialize, Serialize};

/// Tolerance, in degrees, for "on the boundary".
pub const BOUNDARY_EPS: f64 = 1e-9;

/// A WGS-84 point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lon: f64,
    pub lat: f64,
}

impl GeoPoint {
    pub fn new(lon: f64, lat: f64) -> Self {
        GeoPoint { lon, lat }
    }
}

/// A ring: `[lon, lat]` positions, closed (first == last) as in GeoJSON.
pub type Ring = Vec<[f64; 2]>;
/// A polygon: the outer ring followed by holes.
pub type Polygon = Vec<Ring>;

/// One or more polygons (a GeoJSON MultiPolygon's coordinates), WGS-84.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiPolygon(pub Vec<Polygon>);

/// Where a point lies relative to an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PointLocation {
    Inside,
    OnBoundary,
    Outside,
}

impl MultiPolygon {
    /// Parse a GeoJSON `Polygon` or `MultiPolygon` geometry (also accepted wrapped
    /// in a `Feature`). With `gcj02`, every position is converted GCJ-02 → WGS-84.
    /// Errors are Chinese.
    pub fn from_geojson(text: &str, gcj02: bool) -> Result<MultiPolygon, String> {
        // Numbers are quoted before parsing and then read with `str::parse::<f64>`
        // (correctly rounded), so export → import reproduces coordinates exactly.
        let v: serde_json::Value = serde_json::from_str(&quote_numbers(text)).map_err(|e| format!("GeoJSON 格式错误：{e}"))?;
        let geom = if v.get("type").and_then(|t| t.as_str()) == Some("Feature") {
            v.get("geometry").cloned().ok_or("GeoJSON Feature 缺少 geometry")?
        } else {
            v
        };
        let ty = geom.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let coords = geom.get("coordinates").ok_or("GeoJSON 缺少 coordinates")?;
        let polys: Vec<Polygon> = match ty {
            "Polygon" => vec![parse_polygon(coords)?],
            "MultiPolygon" => {
                coords.as_array().ok_or("MultiPolygon 的 coordinates 应为数组")?.iter().map(parse_polygon).collect::<Result<_, _>>()?
            }
            other => return Err(format!("不支持的 GeoJSON 类型「{other}」，仅支持 Polygon 或 MultiPolygon")),
        };
        if polys.is_empty() {
            return Err("MultiPolygon 不能为空".into());
        }
        let mut mp = MultiPolygon(polys);
        if gcj02 {
            for poly in &mut mp.0 {
                for ring in poly {
                    for p in ring.iter_mut() {
                        let w = gcj02_to_wgs84(GeoPoint::new(p[0], p[1]));
                        *p = [w.lon, w.lat];
                    }
                }
            }
        }
        Ok(mp)
    }

    /// GeoJSON text: a `Polygon` when there is one polygon, else a `MultiPolygon`.
    pub fn to_geojson(&self) -> String {
        let v = if self.0.len() == 1 {
            serde_json::json!({"type": "Polygon", "coordinates": self.0[0]})
        } else {
            serde_json::json!({"type": "MultiPolygon", "coordinates": self.0})
        };
        v.to_string()
    }

    /// Where `p` lies (see the module's boundary rule).
    pub fn locate(&self, p: GeoPoint) -> PointLocation {
        let mut best = PointLocation::Outside;
        for poly in &self.0 {
            match locate_polygon(poly, p) {
                PointLocation::Inside => return PointLocation::Inside,
                PointLocation::OnBoundary => best = PointLocation::OnBoundary,
                PointLocation::Outside => {}
            }
        }
        best
    }

    /// True when `p` is inside or on the boundary.
    pub fn contains(&self, p: GeoPoint) -> bool {
        self.locate(p) != PointLocation::Outside
    }

    /// Planar area in square degrees (outer rings minus holes), used only to order
    /// overlapping polygons (smaller is more specific).
    pub fn area(&self) -> f64 {
        self.0
            .iter()
            .map(|poly| poly.iter().enumerate().map(|(i, r)| if i == 0 { ring_area(r).abs() } else { -ring_area(r).abs() }).sum::<f64>())
            .sum()
    }
}

fn parse_polygon(v: &serde_json::Value) -> Result<Polygon, String> {
    let rings = v.as_array().ok_or("Polygon 的坐标应为环的数组")?;
    if rings.is_empty() {
        return Err("Polygon 至少需要一个外环".into());
    }
    let mut out = Vec::new();
    for ring in rings {
        let pts = ring.as_array().ok_or("环应为坐标点数组")?;
        let mut r: Ring = Vec::new();
        for p in pts {
            let a = p.as_array().ok_or("坐标点应为 [经度, 纬度]")?;
            if a.len() < 2 {
                return Err("坐标点应为 [经度, 纬度]".into());
            }
            let lon = num(&a[0]).ok_or("经度应为数字")?;
            let lat = num(&a[1]).ok_or("纬度应为数字")?;
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(format!("坐标 [{lon}, {lat}] 超出经纬度范围"));
            }
            r.push([lon, lat]);
        }
        if r.len() >= 2 && r.first() != r.last() {
            let first = r[0];
            r.push(first);
        }
        if r.len() < 4 {
            return Err("每个环至少需要 3 个不同的顶点".into());
        }
        out.push(r);
    }
    Ok(out)
}

fn num(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::String(s) => s.parse::<f64>().ok().filter(|f| f.is_finite()),
        other => other.as_f64(),
    }
}

/// Wrap every JSON number token (outside strings) in quotes.
fn quote_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if c == '-' || c.is_ascii_digit() {
            out.push('"');
            out.push(c);
            while let Some(&n) = chars.peek() {
                if n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-') {
                    out.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push('"');
        } else {
            out.push(c);
        }
    }
    out
}

fn ring_area(r: &Ring) -> f64 {
    r.windows(2).map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1]).sum::<f64>() / 2.0
}

fn on_segment(p: GeoPoint, a: [f64; 2], b: [f64; 2]) -> bool {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return (p.lon - a[0]).hypot(p.lat - a[1]) <= BOUNDARY_EPS;
    }
    let t = ((p.lon - a[0]) * dx + (p.lat - a[1]) * dy) / len2;
    let t = t.clamp(0.0, 1.0);
    let (cx, cy) = (a[0] + t * dx, a[1] + t * dy);
    (p.lon - cx).hypot(p.lat - cy) <= BOUNDARY_EPS
}

fn locate_ring(r: &Ring, p: GeoPoint) -> PointLocation {
    let mut inside = false;
    for w in r.windows(2) {
        let (a, b) = (w[0], w[1]);
        if on_segment(p, a, b) {
            return PointLocation::OnBoundary;
        }
        if (a[1] > p.lat) != (b[1] > p.lat) {
            let x = a[0] + (p.lat - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
            if p.lon < x {
                inside = !inside;
            }
        }
    }
    if inside {
        PointLocation::Inside
    } else {
        PointLocation::Outside
    }
}

fn locate_polygon(poly: &Polygon, p: GeoPoint) -> PointLocation {
    match locate_ring(&poly[0], p) {
        PointLocation::Outside => PointLocation::Outside,
        PointLocation::OnBoundary => PointLocation::OnBoundary,
        PointLocation::Inside => {
            for hole in &poly[1..] {
                match locate_ring(hole, p) {
                    PointLocation::Inside => return PointLocation::Outside,
                    PointLocation::OnBoundary => return PointLocation::OnBoundary,
                    PointLocation::Outside => {}
                }
            }
            PointLocation::Inside
        }
    }
}

// ---------------------------------------------------------------- GCJ-02

const GCJ_A: f64 = 6378245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;

fn out_of_china(p: GeoPoint) -> bool {
    !(72.004..=137.8347).contains(&p.lon) || !(0.8293..=55.8271).contains(&p.lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02 (the standard offset formula).
pub fn wgs84_to_gcj02(p: GeoPoint) -> GeoPoint {
    use std::f64::consts::PI;
    if out_of_china(p) {
        return p;
    }
    let mut dlat = transform_lat(p.lon - 105.0, p.lat - 35.0);
    let mut dlon = transform_lon(p.lon - 105.0, p.lat - 35.0);
    let radlat = p.lat / 180.0 * PI;
    let magic = 1.0 - GCJ_EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrt_magic * radlat.cos() * PI);
    GeoPoint::new(p.lon + dlon, p.lat + dlat)
}

/// GCJ-02 → WGS-84, by iterating `w ← w + (g − gcj(w))` from `w = g` until the
/// step is below 1e-10 degrees (at most 30 rounds; converges in a handful).
pub fn gcj02_to_wgs84(g: GeoPoint) -> GeoPoint {
    if out_of_china(g) {
        return g;
    }
    let mut w = g;
    for _ in 0..30 {
        let c = wgs84_to_gcj02(w);
        let (dlon, dlat) = (g.lon - c.lon, g.lat - c.lat);
        w = GeoPoint::new(w.lon + dlon, w.lat + dlat);
        if dlon.abs() < 1e-10 && dlat.abs() < 1e-10 {
            break;
        }
    }
    w
}

/// Great-circle distance in metres (haversine, mean Earth radius).
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.lat.to_radians(), b.lat.to_radians());
    let dla = la2 - la1;
    let dlo = (b.lon - a.lon).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}
