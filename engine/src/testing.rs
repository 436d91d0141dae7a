//! A small region tree for the engine's own tests: city 1 → districts 11, 12 → towns 111, 121 →
//! villages 1111, 1211 → grids 11111, 12111 (vacant), 12112.
use crate::tree::{GridAttrs, RegionRow, RegionTree};
use app::model::{GridKind, Level};
use std::sync::Arc;

pub fn row(code: &str, level: Level, parent: Option<&str>, worker: bool) -> RegionRow {
    RegionRow {
        code: code.into(),
        name: format!("R{code}"),
        level,
        parent: parent.map(Into::into),
        shape: vec![vec![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]],
        schematic: false,
        grid: (level == Level::Grid).then(|| GridAttrs { kind: GridKind::Comprehensive, worker: worker.then(|| "王伟".into()), households: 10, population: 30, base_updated: None }),
    }
}

pub fn tree() -> Arc<RegionTree> {
    Arc::new(
        RegionTree::new(vec![
            row("1", Level::City, None, false),
            row("11", Level::District, Some("1"), false),
            row("12", Level::District, Some("1"), false),
            row("111", Level::Town, Some("11"), false),
            row("121", Level::Town, Some("12"), false),
            row("1111", Level::Village, Some("111"), false),
            row("1211", Level::Village, Some("121"), false),
            row("11111", Level::Grid, Some("1111"), true),
            row("12111", Level::Grid, Some("1211"), false),
            row("12112", Level::Grid, Some("1211"), true),
        ])
        .unwrap(),
    )
}

/// SplitMix64: a quick deterministic mixer for test data.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
