//! The map a resident places a report on without JavaScript: an SVG of the city (its districts) or of one
//! district (its towns and communities), drawn to a fixed size, so that the pixel a click lands on
//! (`<input type="image">` sends it) converts back to a longitude and latitude.
use crate::city::RegionTree;
use app::model::Level;

/// The map's side in CSS pixels; the page shows it at exactly this size.
pub const SIZE: f64 = 360.0;
const PAD: f64 = 6.0;

/// How one region's bounding box maps to the square.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    min_lon: f64,
    max_lat: f64,
    /// Pixels per degree of latitude; longitude is shrunk by cos(latitude).
    scale: f64,
    kx: f64,
}

impl Frame {
    pub fn of(tree: &RegionTree, idx: usize) -> Frame {
        let shape = &tree.get(idx).row.shape;
        let pts = shape.iter().flatten();
        let (mut a, mut b, mut c, mut d) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in pts {
            a = a.min(p[0]);
            b = b.max(p[0]);
            c = c.min(p[1]);
            d = d.max(p[1]);
        }
        let kx = ((c + d) / 2.0).to_radians().cos();
        let span = ((b - a) * kx).max(d - c).max(1e-6);
        Frame { min_lon: a, max_lat: d, scale: (SIZE - 2.0 * PAD) / span, kx }
    }

    pub fn to_px(&self, lon: f64, lat: f64) -> (f64, f64) {
        (PAD + (lon - self.min_lon) * self.kx * self.scale, PAD + (self.max_lat - lat) * self.scale)
    }

    pub fn to_lon_lat(&self, x: f64, y: f64) -> (f64, f64) {
        (self.min_lon + (x - PAD) / (self.kx * self.scale), self.max_lat - (y - PAD) / self.scale)
    }
}

/// The regions a map shows, thick (the ones a click chooses between) and thin (finer lines for
/// orientation): the city shows districts; a district shows its towns, with communities thin.
fn layers(tree: &RegionTree, idx: usize) -> (Vec<usize>, Vec<usize>) {
    let region = tree.get(idx);
    match region.row.level {
        Level::City => (region.children.clone(), Vec::new()),
        _ => {
            let thin = region.children.iter().flat_map(|&t| tree.get(t).children.iter().copied()).collect();
            (region.children.clone(), thin)
        }
    }
}

/// The SVG path of region `idx`'s outline in `frame`.
pub fn path(tree: &RegionTree, frame: &Frame, idx: usize) -> String {
    let mut d = String::new();
    for ring in &tree.get(idx).row.shape {
        for (i, p) in ring.iter().enumerate() {
            let (x, y) = frame.to_px(p[0], p[1]);
            d.push_str(&format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }));
        }
        d.push('Z');
    }
    d
}

/// The SVG of region `idx` with a marker at `at` (lon, lat) if given.
pub fn svg(tree: &RegionTree, idx: usize, at: Option<(f64, f64)>) -> String {
    let frame = Frame::of(tree, idx);
    let (thick, thin) = layers(tree, idx);
    let mut out = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{SIZE}\" height=\"{SIZE}\" viewBox=\"0 0 {SIZE} {SIZE}\"><rect width=\"100%\" height=\"100%\" fill=\"#f4f6f8\"/>");
    for &i in &thin {
        out.push_str(&format!("<path d=\"{}\" fill=\"none\" stroke=\"#b8c4cf\" stroke-width=\"0.5\"/>", path(tree, &frame, i)));
    }
    for &i in &thick {
        out.push_str(&format!("<path d=\"{}\" fill=\"#dfe8f1\" fill-opacity=\"0.35\" stroke=\"#3d5a80\" stroke-width=\"1.2\"/>", path(tree, &frame, i)));
    }
    for &i in &thick {
        let [lon, lat] = geom::label_point(&tree.get(i).row.shape);
        let (x, y) = frame.to_px(lon, lat);
        let name = super::open311::escape(&tree.get(i).row.name);
        out.push_str(&format!("<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#1d3557\">{name}</text>"));
    }
    if let Some((lon, lat)) = at {
        let (x, y) = frame.to_px(lon, lat);
        out.push_str(&format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"#d62828\" stroke=\"#fff\" stroke-width=\"2\"/>"));
    }
    out.push_str("</svg>");
    out
}

/// What a click at (x, y) on the map of `idx` chooses: on the city's map, the district under it (to
/// zoom into); on a district's, the point itself. None outside every region shown.
pub enum Click {
    Zoom(usize),
    Point(f64, f64),
}

pub fn click(tree: &RegionTree, idx: usize, x: f64, y: f64) -> Option<Click> {
    let (lon, lat) = Frame::of(tree, idx).to_lon_lat(x, y);
    let region = tree.get(idx);
    let under = region.children.iter().copied().find(|&c| geom::contains(&tree.get(c).row.shape, [lon, lat]))?;
    Some(if region.row.level == Level::City { Click::Zoom(under) } else { Click::Point(lon, lat) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_on_a_districts_map_finds_the_point_drawn_there() {
        let tree = RegionTree::new(crate::city::shaoxing::build()).unwrap();
        let city = tree.find("330600").unwrap();
        let district = tree.get(city).children[0];
        let [lon, lat] = geom::label_point(&tree.get(district).row.shape);
        let (x, y) = Frame::of(&tree, city).to_px(lon, lat);
        assert!(matches!(click(&tree, city, x, y), Some(Click::Zoom(d)) if d == district));
        // Inside the district: the pixel of a grid's label point comes back within a pixel of it.
        let grid = (0..tree.len()).find(|&i| tree.get(i).row.level == Level::Grid && tree.is_within(i, district)).unwrap();
        let [glon, glat] = geom::label_point(&tree.get(grid).row.shape);
        let f = Frame::of(&tree, district);
        let (x, y) = f.to_px(glon, glat);
        let Some(Click::Point(lon, lat)) = click(&tree, district, x.round(), y.round()) else { panic!("no point") };
        let (bx, by) = f.to_px(lon, lat);
        assert!((bx - x).abs() <= 0.51 && (by - y).abs() <= 0.51, "{x},{y} → {bx},{by}");
        assert!(click(&tree, district, 0.0, 0.0).is_none() || click(&tree, district, SIZE - 1.0, SIZE - 1.0).is_none(), "a corner is outside the district");
        let s = svg(&tree, district, Some((lon, lat)));
        assert!(s.starts_with("<svg") && s.contains("<circle") && s.ends_with("</svg>"));
    }
}
