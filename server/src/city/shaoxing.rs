//! The demo city, Shaoxing (绍兴市): real district boundaries and the real lists of towns/streets and
//! villages/communities with their statistical codes (see server/data/shaoxing/PROVENANCE.md); below the
//! district, schematic cells and generated grids. Deterministic: the same build every time.
use super::{GridAttrs, RegionRow};
use app::model::{GridKind, Level};
use geom::MultiPolygon;

const DISTRICTS: &str = include_str!("../../data/shaoxing/districts.geojson");
const TOWNS: &str = include_str!("../../data/shaoxing/towns.csv");
const VILLAGES: &str = include_str!("../../data/shaoxing/villages.csv");

pub const CITY_CODE: &str = "330600";
pub const CITY_NAME: &str = "绍兴市";

/// Every region of the demo city, parents before children.
pub fn build() -> Vec<RegionRow> {
    let districts = districts();
    let towns = csv_rows(TOWNS);
    let villages = csv_rows(VILLAGES);
    let mut rows = vec![RegionRow {
        code: CITY_CODE.into(),
        name: CITY_NAME.into(),
        level: Level::City,
        parent: None,
        shape: districts.iter().flat_map(|(_, _, s)| s.clone()).collect(),
        schematic: false,
        grid: None,
    }];
    let mut below = Vec::new();
    for (code, name, shape) in districts {
        let my_towns: Vec<&Vec<String>> = towns.iter().filter(|t| t[3] == code).collect();
        let cells = geom::partition(&shape, my_towns.len(), hash(&code, 1));
        rows.push(row(&code, &name, Level::District, CITY_CODE, shape, false));
        for (t, cell) in my_towns.into_iter().zip(cells) {
            town(&mut below, t, cell, &villages);
        }
    }
    // Parents first: districts, then towns, villages and grids in level order.
    below.sort_by_key(|r: &RegionRow| r.level);
    rows.extend(below);
    rows
}

fn town(out: &mut Vec<RegionRow>, t: &[String], shape: MultiPolygon, villages: &[Vec<String>]) {
    let (code, name, district) = (&t[0], &t[2], &t[3]);
    let mine: Vec<&Vec<String>> = villages.iter().filter(|v| &v[2] == code).collect();
    let cells = geom::partition(&shape, mine.len(), hash(code, 2));
    out.push(row(code, name, Level::Town, district, shape, true));
    // Dedicated grids (专属网格) sit in one village of the town: parks, schools, hospitals.
    let dedicated: Vec<GridKind> = [(GridKind::IndustrialPark, 45), (GridKind::School, 70), (GridKind::Hospital, 30)]
        .into_iter()
        .filter(|(k, pct)| hash(code, 10 + *k as u64) % 100 < *pct)
        .map(|(k, _)| k)
        .collect();
    let host = (hash(code, 3) as usize) % mine.len().max(1);
    let mut names = Vec::new();
    for (i, (v, cell)) in mine.into_iter().zip(cells).enumerate() {
        let vname = unique(&mut names, village_name(&v[1]), &v[0]);
        let extra: &[GridKind] = if i == host { &dedicated } else { &[] };
        village(out, &v[0], &vname, code, name, cell, extra);
    }
}

fn village(out: &mut Vec<RegionRow>, code: &str, name: &str, town: &str, town_name: &str, shape: MultiPolygon, dedicated: &[GridKind]) {
    let community = name.ends_with("社区");
    let h = hash(code, 4);
    let comprehensive = if community { 3 + (h % 4) as usize } else { 1 + (h % 3) as usize };
    let cells = geom::partition(&shape, comprehensive + dedicated.len(), hash(code, 5));
    out.push(row(code, name, Level::Village, town, shape, true));
    for (i, cell) in cells.into_iter().enumerate() {
        let (kind, suffix, gname) = match dedicated.get(i.wrapping_sub(comprehensive)) {
            Some(&k) if i >= comprehensive => {
                let label = match k {
                    GridKind::IndustrialPark => "工业园区",
                    GridKind::School => "中小学校",
                    GridKind::Hospital => "卫生院",
                    GridKind::Comprehensive => "",
                };
                (k, 900 + i - comprehensive + 1, format!("{town_name}{label}专属网格"))
            }
            _ => (GridKind::Comprehensive, i + 1, format!("{name}第{}网格", i + 1)),
        };
        let gcode = format!("{code}{suffix:03}");
        let g = hash(&gcode, 6);
        let households = match kind {
            GridKind::Comprehensive if community => 300 + (g % 300) as u32,
            GridKind::Comprehensive => 120 + (g % 260) as u32,
            _ => 0,
        };
        let population = match kind {
            GridKind::Comprehensive => households * (26 + (g >> 16) as u32 % 6) / 10,
            _ => 400 + (g >> 16) as u32 % 2600,
        };
        // About one post in twelve is vacant, as in the articles' complaints about grid staffing.
        let worker = (g >> 32) % 12 != 0;
        let mut r = row(&gcode, &gname, Level::Grid, code, cell, true);
        r.grid = Some(GridAttrs { kind, worker: worker.then(|| person_name(g >> 8)), households, population, base_updated: None });
        out.push(r);
    }
}

fn row(code: &str, name: &str, level: Level, parent: &str, shape: MultiPolygon, schematic: bool) -> RegionRow {
    RegionRow {
        code: code.into(),
        name: name.into(),
        level,
        parent: Some(parent.into()),
        shape: geom::round_coords(&shape, 5),
        schematic,
        grid: None,
    }
}

/// "XX社区居委会" → "XX社区", "XX村委会" → "XX村": the names people use.
pub fn village_name(official: &str) -> String {
    for (suffix, short) in [("社区居民委员会", "社区"), ("社区居委会", "社区"), ("居委会", "社区"), ("村民委员会", "村"), ("村委会", "村")] {
        if let Some(stem) = official.strip_suffix(suffix) {
            return format!("{stem}{short}");
        }
    }
    official.to_string()
}

/// Map areas are keyed by name, so siblings need distinct names.
fn unique(seen: &mut Vec<String>, name: String, code: &str) -> String {
    let name = if seen.contains(&name) { format!("{name}({})", &code[code.len().saturating_sub(3)..]) } else { name };
    seen.push(name.clone());
    name
}

/// A plausible Chinese name from a hash (generated people only).
/// Dates each grid's base data (households, population) as the grid system last updated it, before
/// `now`: most within the last 80 days, about one grid in seven 3 to 13 months ago (stale, as cities
/// find), deterministic by grid code.
pub fn date_base_data(rows: &mut [RegionRow], now: i64) {
    const DAY: i64 = 86_400_000;
    for r in rows {
        let h = hash(&r.code, 0xba5e);
        if let Some(g) = r.grid.as_mut() {
            let days = if h % 7 == 0 { 91 + (h >> 8) % 300 } else { (h >> 8) % 80 };
            g.base_updated = Some(now - days as i64 * DAY - ((h >> 32) % DAY as u64) as i64);
        }
    }
}

pub fn person_name(h: u64) -> String {
    const SURNAMES: [&str; 30] = [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗",
        "高", "金", "钱", "沈", "俞", "傅", "蒋", "宣", "楼", "斯", "屠",
    ];
    const GIVEN: [&str; 30] = [
        "建", "国", "伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀",
        "霞", "平", "刚", "桂", "英", "华", "红", "燕", "琴", "海", "萍",
    ];
    let s = SURNAMES[(h % 30) as usize];
    let a = GIVEN[((h >> 8) % 30) as usize];
    if (h >> 16) % 3 == 0 {
        format!("{s}{a}")
    } else {
        format!("{s}{a}{}", GIVEN[((h >> 24) % 30) as usize])
    }
}

fn districts() -> Vec<(String, String, MultiPolygon)> {
    let fc: serde_json::Value = serde_json::from_str(DISTRICTS).expect("embedded districts.geojson is valid JSON");
    let mut out: Vec<(String, String, MultiPolygon)> = fc["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let g = &f["geometry"];
            let polys: Vec<&serde_json::Value> = match g["type"].as_str() {
                Some("MultiPolygon") => g["coordinates"].as_array().expect("coordinates").iter().collect(),
                _ => vec![&g["coordinates"]],
            };
            let shape: MultiPolygon = polys
                .into_iter()
                .map(|poly| {
                    let mut ring: Vec<[f64; 2]> = poly[0]
                        .as_array()
                        .expect("exterior ring")
                        .iter()
                        .map(|pt| [pt[0].as_f64().expect("lon"), pt[1].as_f64().expect("lat")])
                        .collect();
                    if ring.len() > 1 && ring.first() == ring.last() {
                        ring.pop();
                    }
                    if geom::ring_area(&ring) < 0.0 {
                        ring.reverse();
                    }
                    ring
                })
                .collect();
            (p["adcode"].as_str().expect("adcode").to_string(), p["name"].as_str().expect("name").to_string(), shape)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split(',').map(|s| s.trim().to_string()).collect()).collect()
}

/// A stable 64-bit hash of a code and a purpose, so every generated figure is reproducible.
pub fn hash(s: &str, salt: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::city::RegionTree;
    use std::collections::HashSet;
    use std::sync::OnceLock;

    fn city() -> &'static RegionTree {
        static TREE: OnceLock<RegionTree> = OnceLock::new();
        TREE.get_or_init(|| RegionTree::new(build()).expect("demo city builds a valid tree"))
    }

    #[test]
    fn base_data_dates_are_in_the_past_mostly_current_and_the_same_every_time() {
        let now = 1_796_176_800_000;
        let (mut a, mut b) = (build(), build());
        date_base_data(&mut a, now);
        date_base_data(&mut b, now + 1);
        let dates: Vec<i64> = a.iter().filter_map(|r| r.grid.as_ref()).map(|g| g.base_updated.expect("every grid dated")).collect();
        assert!(dates.iter().all(|&d| d <= now && d > now - 400 * 86_400_000));
        let stale = dates.iter().filter(|&&d| d < now - 90 * 86_400_000).count() as f64 / dates.len() as f64;
        assert!((0.10..0.20).contains(&stale), "about one grid in seven is stale: {stale}");
        let shifted: Vec<i64> = b.iter().filter_map(|r| r.grid.as_ref()).map(|g| g.base_updated.unwrap() - 1).collect();
        assert_eq!(shifted, dates, "by grid code, relative to the time the city was created");
        assert!(a.iter().filter(|r| r.grid.is_none()).all(|r| r.level != Level::Grid));
    }

    #[test]
    fn real_lists_are_all_there() {
        let t = city();
        let count = |l: Level| t.iter().filter(|(_, r)| r.row.level == l).count();
        assert_eq!(count(Level::District), 6);
        assert_eq!(count(Level::Town), 103);
        assert_eq!(count(Level::Village), VILLAGES.lines().count() - 1);
        let grids = count(Level::Grid);
        assert!((4_000..9_000).contains(&grids), "several thousand grids, got {grids}");
        let fengqiao = t.find("330681109").expect("枫桥镇 is in 诸暨市");
        assert_eq!(t.get(fengqiao).row.name, "枫桥镇");
        assert_eq!(t.get(fengqiao).children.len(), 31);
    }

    #[test]
    fn codes_are_unique_and_extend_their_parents() {
        let t = city();
        let mut seen = HashSet::new();
        for (_, r) in t.iter() {
            assert!(seen.insert(r.row.code.clone()), "duplicate code {}", r.row.code);
            let want = match r.row.level {
                Level::City | Level::District => 6,
                Level::Town => 9,
                Level::Village => 12,
                Level::Grid => 15,
            };
            assert_eq!(r.row.code.len(), want, "{}", r.row.code);
            if let (Some(p), Level::Town | Level::Village | Level::Grid) = (r.parent, r.row.level) {
                let pc = &t.get(p).row.code;
                assert!(r.row.code.starts_with(pc.as_str()), "{} under {pc}", r.row.code);
            }
        }
    }

    #[test]
    fn every_child_lies_inside_its_parent_and_siblings_do_not_overlap() {
        let t = city();
        for (i, r) in t.iter() {
            if r.children.is_empty() || r.row.level == Level::City {
                continue;
            }
            let parent = &r.row.shape;
            let parent_area = geom::area(parent);
            let child_area: f64 = r.children.iter().map(|&c| geom::area(&t.get(c).row.shape)).sum();
            // Rounding to 5 decimals (about a metre) moves areas a little; overlaps or gaps would move them a lot.
            let rel = (child_area - parent_area).abs() / parent_area;
            assert!(rel < 0.01, "children of {} cover {child_area} of {parent_area}", t.get(i).row.code);
            for &c in &r.children {
                let lp = geom::label_point(&t.get(c).row.shape);
                assert!(geom::contains(parent, lp), "{} label point outside {}", t.get(c).row.code, r.row.code);
            }
        }
    }

    #[test]
    fn sample_points_fall_in_exactly_one_child() {
        let t = city();
        let parents: Vec<usize> = t
            .iter()
            .filter(|(_, r)| r.row.level == Level::District || (r.row.level == Level::Town && r.row.code.ends_with('1')))
            .map(|(i, _)| i)
            .collect();
        for p in parents {
            let r = t.get(p);
            let [x0, y0, x1, y1] = geom::bbox(&r.row.shape);
            let (mut inside, mut bad) = (0, 0);
            for k in 0..1500u64 {
                let h = mix(k ^ (p as u64) << 20);
                let pt = [x0 + (x1 - x0) * (h % 10_007) as f64 / 10_007.0, y0 + (y1 - y0) * ((h >> 32) % 10_007) as f64 / 10_007.0];
                if !geom::contains(&r.row.shape, pt) {
                    continue;
                }
                inside += 1;
                let hits = r.children.iter().filter(|&&c| geom::contains(&t.get(c).row.shape, pt)).count();
                bad += usize::from(hits != 1);
            }
            // Points within a metre of a boundary may land in none or two after rounding.
            assert!(bad * 200 <= inside, "{}: {bad} of {inside} points not in exactly one child", r.row.code);
        }
    }

    #[test]
    fn names_are_the_ones_people_use_and_unique_among_siblings() {
        assert_eq!(village_name("渡东社区居委会"), "渡东社区");
        assert_eq!(village_name("江家溇居委会"), "江家溇社区");
        assert_eq!(village_name("枫源村委会"), "枫源村");
        let t = city();
        for (_, r) in t.iter() {
            let mut names: Vec<&str> = r.children.iter().map(|&c| t.get(c).row.name.as_str()).collect();
            let n = names.len();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), n, "duplicate child names under {}", r.row.code);
        }
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(build(), build());
    }
}
