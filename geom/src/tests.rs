//! Property tests of the whole pipeline on realistic, non-convex parents.

use crate::*;

/// ~42-vertex irregular district near 120.6°E 30.0°N, ~0.38° × 0.36°, with a
/// long, narrow inlet from the north: cells straddling it fall apart into
/// several pieces, the case plain Sutherland–Hodgman gets wrong.
fn district() -> MultiPolygon {
    vec![vec![
        [120.7951, 29.9970],
        [120.7939, 30.0292],
        [120.7901, 30.0541],
        [120.7827, 30.0720],
        [120.7650, 30.0941],
        [120.7389, 30.1104],
        [120.6300, 30.0700],
        [120.6180, 30.0100],
        [120.6100, 29.9400],
        [120.6030, 29.9450],
        [120.6050, 30.0150],
        [120.6000, 30.0800],
        [120.5951, 30.0888],
        [120.5765, 30.1042],
        [120.5628, 30.1125],
        [120.5165, 30.1489],
        [120.4773, 30.1566],
        [120.4307, 30.1426],
        [120.4188, 30.1129],
        [120.4161, 30.0902],
        [120.4316, 30.0445],
        [120.4420, 30.0243],
        [120.4609, 30.0006],
        [120.4575, 29.9767],
        [120.4616, 29.9644],
        [120.4627, 29.9390],
        [120.4858, 29.9246],
        [120.5028, 29.9073],
        [120.5022, 29.8854],
        [120.5159, 29.8686],
        [120.5297, 29.8383],
        [120.5700, 29.8023],
        [120.6087, 29.8002],
        [120.6393, 29.8091],
        [120.6610, 29.8417],
        [120.6766, 29.8801],
        [120.6748, 29.9103],
        [120.6773, 29.9269],
        [120.7026, 29.9374],
        [120.7248, 29.9493],
        [120.7583, 29.9537],
        [120.7790, 29.9678],
    ]]
}

/// The district plus a separate, itself non-convex, island to the east.
fn two_parts() -> MultiPolygon {
    let mut mp = district();
    mp.push(vec![
        [120.8300, 29.9500],
        [120.8900, 29.9400],
        [120.9300, 29.9700],
        [120.9150, 30.0000],
        [120.8800, 29.9850],
        [120.8650, 30.0250],
        [120.8900, 30.0550],
        [120.8450, 30.0700],
        [120.8150, 30.0300],
    ]);
    mp
}

/// A U opening north: a seed in the left arm also owns the right arm's tip.
fn u_shape() -> MultiPolygon {
    vec![vec![
        [120.0, 30.0],
        [120.3, 30.0],
        [120.3, 30.3],
        [120.2, 30.3],
        [120.2, 30.1],
        [120.1, 30.1],
        [120.1, 30.3],
        [120.0, 30.3],
    ]]
}

const NS: [usize; 5] = [1, 2, 7, 30, 80];

fn sample_in_bbox(rng: &mut SplitMix64, b: &[f64; 4]) -> Point {
    [rng.range(b[0], b[2]), rng.range(b[1], b[3])]
}

fn segments_touch(a: Point, b: Point, c: Point, d: Point) -> bool {
    let orient = |p: Point, q: Point, r: Point| {
        let v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]);
        (v > 0.0) as i32 - (v < 0.0) as i32
    };
    let on = |p: Point, q: Point, r: Point| {
        r[0] >= p[0].min(q[0])
            && r[0] <= p[0].max(q[0])
            && r[1] >= p[1].min(q[1])
            && r[1] <= p[1].max(q[1])
    };
    let (o1, o2, o3, o4) = (
        orient(a, b, c),
        orient(a, b, d),
        orient(c, d, a),
        orient(c, d, b),
    );
    if o1 != o2 && o3 != o4 && o1 * o2 <= 0 && o3 * o4 <= 0 && (o1 != 0 || o2 != 0) {
        return true;
    }
    (o1 == 0 && on(a, b, c))
        || (o2 == 0 && on(a, b, d))
        || (o3 == 0 && on(c, d, a))
        || (o4 == 0 && on(c, d, b))
}

/// Non-adjacent edges never meet: catches bridged rings (two pieces joined
/// by a doubled edge) as well as plain self-intersections.
fn assert_simple(r: &Ring) {
    let n = r.len();
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue;
            }
            let (a, b, c, d) = (r[i], r[(i + 1) % n], r[j], r[(j + 1) % n]);
            assert!(!segments_touch(a, b, c, d), "ring edges {i} and {j} meet");
        }
    }
}

fn check_partition(parent: &MultiPolygon, n: usize, seed: u64) {
    let seeds = seed_points(parent, n, seed);
    let cells = voronoi_partition(parent, &seeds);
    assert_eq!(
        cells,
        partition(parent, n, seed),
        "partition = seed_points + voronoi_partition"
    );
    assert_eq!(seeds.len(), n);
    check_cells(parent, &seeds, &cells);
}

/// Every property a partition must have, for any seeds inside the parent.
fn check_cells(parent: &MultiPolygon, seeds: &[Point], cells: &[MultiPolygon]) {
    let n = seeds.len();
    assert_eq!(cells.len(), n);
    let pa = area(parent);
    let pb = bbox(parent);

    let mut rng = SplitMix64::new(0xC0FFEE ^ n as u64);
    for (i, cell) in cells.iter().enumerate() {
        assert!(!cell.is_empty(), "n={n}: cell {i} empty");
        assert!(contains(cell, seeds[i]), "n={n}: seed {i} outside its cell");
        for ring in cell {
            assert!(ring.len() >= 3);
            assert!(
                ring_area(ring) > 0.0,
                "n={n}: cell {i} has a clockwise ring"
            );
            assert_simple(ring);
            for &v in ring {
                assert!(
                    contains(parent, v) || distance_to_boundary(parent, v) <= 1e-9,
                    "n={n}: cell {i} vertex {v:?} outside parent"
                );
            }
        }
        let cb = bbox(cell);
        let mut hits = 0;
        let mut tries = 0;
        while hits < 2000 {
            tries += 1;
            assert!(tries < 2_000_000, "n={n}: cell {i} too thin to sample");
            let p = sample_in_bbox(&mut rng, &cb);
            if contains(cell, p) {
                hits += 1;
                assert!(
                    contains(parent, p),
                    "n={n}: cell {i} point {p:?} outside parent"
                );
            }
        }
    }

    let total: f64 = cells.iter().map(area).sum();
    assert!(
        ((total - pa) / pa).abs() < 1e-3,
        "n={n}: area sum {total} vs parent {pa}"
    );

    // Distances as the partition measures them: longitude scaled by
    // cos(centre latitude).
    let kx = (0.5 * (pb[1] + pb[3])).to_radians().cos();
    let nearest = |p: Point| {
        let d = |s: &Point| (kx * (p[0] - s[0])).powi(2) + (p[1] - s[1]).powi(2);
        (0..n)
            .min_by(|&a, &b| d(&seeds[a]).total_cmp(&d(&seeds[b])))
            .unwrap()
    };
    let samples = 20_000;
    let (mut overlaps, mut misses, mut outside_hits, mut wrong_owner) = (0, 0, 0, 0);
    for _ in 0..samples {
        let p = sample_in_bbox(&mut rng, &pb);
        let owners: Vec<usize> = (0..n).filter(|&i| contains(&cells[i], p)).collect();
        if owners.len() > 1 {
            overlaps += 1;
        }
        if contains(parent, p) {
            if owners.len() != 1 {
                misses += 1;
            } else if owners[0] != nearest(p) {
                wrong_owner += 1;
            }
        } else if !owners.is_empty() {
            outside_hits += 1;
        }
    }
    let allowed = samples / 2000; // 0.05 %
    assert!(
        overlaps <= allowed,
        "n={n}: {overlaps} sample points in two cells"
    );
    assert!(
        misses <= allowed,
        "n={n}: {misses} parent points not in exactly one cell"
    );
    assert!(
        outside_hits <= allowed,
        "n={n}: {outside_hits} cell points outside the parent"
    );
    assert!(
        wrong_owner <= allowed,
        "n={n}: {wrong_owner} points owned by a seed that is not the nearest"
    );
}

#[test]
fn district_partitions_are_exact() {
    for n in NS {
        check_partition(&district(), n, 2024);
    }
}

#[test]
fn two_part_partitions_are_exact() {
    for n in NS {
        check_partition(&two_parts(), n, 77);
    }
}

#[test]
fn nested_levels_stay_inside_their_parents() {
    let towns = partition(&district(), 7, 1);
    for (t, town) in towns.iter().enumerate() {
        let villages = partition(town, 6, 100 + t as u64);
        let sum: f64 = villages.iter().map(area).sum();
        assert!(((sum - area(town)) / area(town)).abs() < 1e-3);
        for (v, village) in villages.iter().enumerate() {
            assert!(!village.is_empty());
            check_partition(village, 4, 1000 * t as u64 + v as u64);
        }
    }
}

#[test]
fn disconnected_cell_is_split_into_simple_parts() {
    let u = u_shape();
    // Seed 1 sits in the left arm; the right arm's tip is nearer to it than
    // to the bottom seed, so its cell is two separate pieces.
    let seeds = [[120.15, 30.03], [120.05, 30.25]];
    let cells = voronoi_partition(&u, &seeds);
    assert_eq!(cells[0].len(), 1);
    assert_eq!(cells[1].len(), 2, "{:?}", cells[1]);
    for r in cells.iter().flatten() {
        assert_simple(r);
        assert!(ring_area(r) > 0.0);
    }
    assert!(((area(&cells[0]) + area(&cells[1])) - area(&u)).abs() < 1e-12);
}

#[test]
fn district_cells_include_multi_piece_ones() {
    // The inlet is there to produce disconnected cells; make sure it does, so
    // the property tests above really exercise the piece-splitting path.
    let any_multi = [7usize, 30, 80]
        .iter()
        .any(|&n| partition(&district(), n, 2024).iter().any(|c| c.len() > 1));
    assert!(any_multi);
}

#[test]
fn symmetric_seeds_with_four_way_corners() {
    // A 3×3 grid of seeds in a square: every inner Voronoi vertex is shared
    // by four cells and the parent's edges are cut exactly at bisectors, the
    // degenerate ties that random seeds never produce.
    let sq: MultiPolygon = vec![vec![
        [120.0, 30.0],
        [120.3, 30.0],
        [120.3, 30.3],
        [120.0, 30.3],
    ]];
    let mut seeds = Vec::new();
    for i in 0..3 {
        for j in 0..3 {
            seeds.push([120.05 + 0.1 * j as f64, 30.05 + 0.1 * i as f64]);
        }
    }
    let cells = voronoi_partition(&sq, &seeds);
    check_cells(&sq, &seeds, &cells);
    for c in &cells {
        assert_eq!(c.len(), 1);
        assert!((area(c) - 0.01).abs() < 1e-12, "{c:?}");
    }
    // The same with the seeds in reverse order (other tie-breaking paths).
    seeds.reverse();
    check_cells(&sq, &seeds, &voronoi_partition(&sq, &seeds));
}

#[test]
fn single_cell_is_the_parent() {
    let cells = partition(&district(), 1, 5);
    assert_eq!(cells, vec![district()]);
}

#[test]
fn deterministic_and_seed_sensitive() {
    for parent in [district(), two_parts()] {
        for n in [2, 30] {
            let a = partition(&parent, n, 9);
            let b = partition(&parent, n, 9);
            assert_eq!(a, b);
            assert_eq!(seed_points(&parent, n, 9), seed_points(&parent, n, 9));
            assert_ne!(a, partition(&parent, n, 10));
        }
    }
}

#[test]
fn seeds_are_inside_and_spread() {
    for parent in [district(), two_parts()] {
        let kx = lon_scale(&bbox(&parent));
        for n in [2, 7, 30, 80] {
            let pts = seed_points(&parent, n, 31);
            assert_eq!(pts.len(), n);
            for &p in &pts {
                assert!(contains(&parent, p));
                assert!(distance_to_boundary(&parent, p) > 0.0);
            }
            let mut min = f64::INFINITY;
            for i in 0..n {
                for j in i + 1..n {
                    let dx = kx * (pts[i][0] - pts[j][0]);
                    let dy = pts[i][1] - pts[j][1];
                    min = min.min((dx * dx + dy * dy).sqrt());
                }
            }
            let spacing = (kx * area(&parent) / n as f64).sqrt();
            assert!(
                min > 0.3 * spacing,
                "n={n}: min distance {min} vs spacing {spacing}"
            );
        }
    }
}

#[test]
fn clockwise_closed_input_is_accepted() {
    let mut r = district()[0].clone();
    r.reverse();
    r.push(r[0]);
    let cells = partition(&vec![r], 7, 3);
    let sum: f64 = cells.iter().map(area).sum();
    assert!(((sum - area(&district())) / area(&district())).abs() < 1e-9);
    assert!(cells.iter().flatten().all(|r| ring_area(r) > 0.0));
}

#[test]
fn rounded_cells_stay_simple() {
    for cell in partition(&district(), 30, 8) {
        let r = round_coords(&cell, 5);
        assert!(!r.is_empty());
        for ring in &r {
            assert_simple(ring);
            assert!(ring_area(ring) > 0.0);
        }
        assert!(((area(&r) - area(&cell)) / area(&cell)).abs() < 1e-3);
    }
}

#[test]
fn many_partitions_run_clean() {
    // Smoke run at dashboard scale (times nothing; see examples/bench.rs):
    // three levels deep, varied n, checking only the cheap invariants.
    let mut count = 0;
    for (t, town) in partition(&two_parts(), 12, 42).iter().enumerate() {
        for (v, village) in partition(town, 9, t as u64).iter().enumerate() {
            let grids = partition(village, 1 + (t * 7 + v) % 15, (t * 100 + v) as u64);
            count += 1;
            let sum: f64 = grids.iter().map(area).sum();
            assert!(((sum - area(village)) / area(village)).abs() < 1e-6);
            assert!(grids.iter().all(|g| !g.is_empty()));
        }
    }
    assert_eq!(count, 12 * 9);
}
