//! Chinese map datums to WGS-84. Map vendors in China publish GCJ-02 (国测局, "Mars" coordinates:
//! WGS-84 shifted by a published non-linear offset of a few hundred metres) and Baidu publishes BD-09
//! (GCJ-02 with a further rotation and shift). Feeds that carry points from those maps are converted
//! here before a point is placed in its grid. Outside mainland China's rough bounding box no offset is
//! applied, as the vendors do. Points are (longitude, latitude) in degrees.

use std::f64::consts::PI;

/// Semi-major axis and eccentricity² of the Krasovsky 1940 ellipsoid the GCJ-02 offset is defined on.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;
/// BD-09's angular factor.
const X_PI: f64 = PI * 3000.0 / 180.0;

/// Whether the vendors shift this point at all.
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

/// The GCJ-02 offset (Δlon, Δlat) in degrees at a WGS-84 point.
fn offset(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 105.0, lat - 35.0);
    let wave = (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    let mut dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt() + wave;
    dlat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt() + wave;
    dlon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    dlon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    (dlon * 180.0 / (A / sqrt_magic * rad.cos() * PI), dlat * 180.0 / (A * (1.0 - EE) / (magic * sqrt_magic) * PI))
}

/// WGS-84 → GCJ-02 (the published forward transform).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (dlon, dlat) = offset(lon, lat);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS-84. The offset has no closed-form inverse: iterate the forward transform until the
/// point maps back to within 1e-9° (about 0.1 mm); a handful of rounds suffice.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (elon, elat) = (glon - lon, glat - lat);
        wlon -= elon;
        wlat -= elat;
        if elon.abs().max(elat.abs()) < 1e-9 {
            break;
        }
    }
    (wlon, wlat)
}

/// BD-09 → GCJ-02.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    (z * theta.cos(), z * theta.sin())
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000_003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → WGS-84.
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (g, t) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(g, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn close(a: (f64, f64), b: (f64, f64), tol: f64) -> bool {
        (a.0 - b.0).abs() <= tol && (a.1 - b.1).abs() <= tol
    }

    /// Reference points published with the widely used open implementations: WGS-84 → GCJ-02 in
    /// Shanghai, Shenzhen and Beijing (eviltransform's table), GCJ-02 → BD-09 in Beijing (hutool's).
    #[test]
    fn published_reference_points() {
        let wgs_gcj = [
            ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
            ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
            ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
        ];
        for (wgs, gcj) in wgs_gcj {
            assert!(close(wgs84_to_gcj02(wgs.0, wgs.1), gcj, 1e-6), "{wgs:?} → {:?}", wgs84_to_gcj02(wgs.0, wgs.1));
            assert!(close(gcj02_to_wgs84(gcj.0, gcj.1), wgs, 1e-6), "{gcj:?} back");
        }
        // GCJ-02 → BD-09 (hutool's test table).
        assert!(close(gcj02_to_bd09(116.404, 39.915), (116.41036949371029, 39.92133699351021), 1e-9));
        // BD-09 → WGS-84 is the exact inverse: it maps forward onto its input.
        for bd in [(120.019809, 29.199786), (120.036455, 29.210504)] {
            let ours = bd09_to_wgs84(bd.0, bd.1);
            let g = wgs84_to_gcj02(ours.0, ours.1);
            assert!(close(gcj02_to_bd09(g.0, g.1), bd, 1e-5), "{bd:?} back to BD-09");
        }
    }

    /// Random points over China: WGS-84 ↔ GCJ-02 returns to within 1e-7° (about 1 cm), BD-09's own pair of
    /// formulas (each the other's approximate inverse) to within 1e-5° (about 1 m); the GCJ-02 offset is
    /// the few hundred metres it is known to be; outside China nothing moves.
    #[test]
    fn round_trips_and_offset_size() {
        let mut rng = SplitMix64::new(7);
        for _ in 0..5_000 {
            let lon = 73.0 + rng.next_f64() * 62.0;
            let lat = 18.0 + rng.next_f64() * 35.0;
            let g = wgs84_to_gcj02(lon, lat);
            assert!(close(gcj02_to_wgs84(g.0, g.1), (lon, lat), 1e-7), "({lon}, {lat})");
            let b = gcj02_to_bd09(g.0, g.1);
            assert!(close(bd09_to_gcj02(b.0, b.1), g, 1e-5), "BD-09 round trip at ({lon}, {lat})");
            let metres = ((g.0 - lon) * lat.to_radians().cos()).hypot(g.1 - lat) * 111_320.0;
            assert!((10.0..1_500.0).contains(&metres), "offset {metres} m at ({lon}, {lat})");
        }
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85), "Paris is not shifted");
        assert_eq!(gcj02_to_wgs84(-74.0, 40.7), (-74.0, 40.7));
    }

    /// Any input, however wrong, gives an answer without panicking (NaN in, NaN or the input out).
    #[test]
    fn no_panic_on_any_input() {
        let odd = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0, 1e308, -1e308, f64::MIN_POSITIVE, 120.5, 30.0];
        for &a in &odd {
            for &b in &odd {
                let _ = (wgs84_to_gcj02(a, b), gcj02_to_wgs84(a, b), bd09_to_gcj02(a, b), gcj02_to_bd09(a, b), bd09_to_wgs84(a, b));
            }
        }
    }
}
