//! An address in words, placed by the region names in it: the community or village it names, within the
//! town or district it names when it names one. That is as fine as words place anything here (grids have
//! no names a resident or a hotline operator would know), and it is what a dispatcher does by hand: the
//! case goes to the community's first grid, the words go to the officials as typed.
use crate::city::RegionTree;
use app::model::Level;

/// Why an address places nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressMiss {
    /// No district, town, community or village of the city is named.
    Unknown,
    /// Only this district or town is named: too coarse to send anyone.
    Vague(String),
    /// Several communities or villages fit (their town and name): the town must be named too.
    Ambiguous(Vec<String>),
}

struct Entry {
    idx: usize,
    /// Forms of the name a person writes: as registered, and without the committee suffix.
    names: Vec<String>,
}

pub struct Gazetteer {
    entries: Vec<Entry>,
}

/// Registered village names carry the committee (塔山村委会, 渡东社区居委会); people write the place.
fn forms(name: &str) -> Vec<String> {
    let mut out = vec![name.to_string()];
    for (suffix, with) in [("村民委员会", "村"), ("居民委员会", ""), ("村委会", "村"), ("居委会", "")] {
        if let Some(stem) = name.strip_suffix(suffix) {
            out.push(format!("{stem}{with}"));
            break;
        }
    }
    // Two characters (新村, 东村) are part of too many street and estate names to be taken alone.
    out.retain(|n| n.chars().count() >= 3);
    out
}

impl Gazetteer {
    pub fn new(tree: &RegionTree) -> Gazetteer {
        let entries = tree
            .iter()
            .filter(|(_, r)| matches!(r.row.level, Level::District | Level::Town | Level::Village))
            .map(|(idx, r)| Entry { idx, names: forms(&r.row.name) })
            .filter(|e| !e.names.is_empty())
            .collect();
        Gazetteer { entries }
    }

    /// The grid an address places a report in (the first grid of the community or village it names).
    pub fn place(&self, tree: &RegionTree, address: &str) -> Result<usize, AddressMiss> {
        // Every region named, by the longest of its forms found; a name inside a longer name found
        // (花园社区 in 新花园社区) is that other place's, not its own.
        let found: Vec<(usize, &str)> = self
            .entries
            .iter()
            .filter_map(|e| e.names.iter().filter(|n| address.contains(n.as_str())).max_by_key(|n| n.len()).map(|n| (e.idx, n.as_str())))
            .collect();
        let found: Vec<usize> = found.iter().filter(|(_, n)| !found.iter().any(|(_, m)| m.len() > n.len() && m.contains(n))).map(|&(i, _)| i).collect();
        let at = |level: Level| found.iter().copied().filter(move |&i| tree.get(i).row.level == level);
        let ancestor = |i: usize, level: Level| {
            let mut a = Some(i);
            while let Some(x) = a.filter(|&x| tree.get(x).row.level != level) {
                a = tree.get(x).parent;
            }
            a
        };
        let towns: Vec<usize> = at(Level::Town).collect();
        let districts: Vec<usize> = at(Level::District).collect();
        let villages: Vec<usize> = at(Level::Village)
            .filter(|&v| towns.is_empty() || ancestor(v, Level::Town).is_some_and(|t| towns.contains(&t)))
            .filter(|&v| districts.is_empty() || ancestor(v, Level::District).is_some_and(|d| districts.contains(&d)))
            .collect();
        match villages.as_slice() {
            [v] => tree.grids_under(*v).iter().copied().min().ok_or(AddressMiss::Unknown),
            [] => match towns.first().or(districts.first()) {
                Some(&r) => Err(AddressMiss::Vague(tree.get(r).row.name.clone())),
                None => Err(AddressMiss::Unknown),
            },
            many => Err(AddressMiss::Ambiguous(
                many.iter()
                    .take(3)
                    .map(|&v| {
                        let town = ancestor(v, Level::Town).map(|t| tree.get(t).row.name.as_str()).unwrap_or_default();
                        format!("{town}{}", tree.get(v).row.name)
                    })
                    .collect(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> RegionTree {
        RegionTree::new(crate::city::shaoxing::build()).unwrap()
    }

    fn name_of(tree: &RegionTree, grid: usize, level: Level) -> String {
        let mut i = grid;
        while tree.get(i).row.level != level {
            i = tree.get(i).parent.unwrap();
        }
        tree.get(i).row.name.clone()
    }

    #[test]
    fn a_community_named_places_the_report_in_one_of_its_grids() {
        let t = tree();
        let g = Gazetteer::new(&t);
        let grid = g.place(&t, "越城区塔山街道府山横街 花园社区 12幢").unwrap();
        assert_eq!(t.get(grid).row.level, Level::Grid);
        assert_eq!(name_of(&t, grid, Level::Village), "花园社区");
        assert_eq!(name_of(&t, grid, Level::Town), "塔山街道");
        // The committee suffix (塔山村委会 in the register) is not needed, and the same words place the
        // same grid every time.
        let village = g.place(&t, "塔山街道塔山村3组").unwrap();
        assert_eq!(t.get(village).row.code.get(..12), Some("330602001200"));
        assert_eq!(name_of(&t, village, Level::Village), "塔山村");
        assert_eq!(g.place(&t, "塔山街道塔山村3组").unwrap(), village);
        assert_eq!(t.get(g.place(&t, "渡东社区门口").unwrap()).row.code.get(..12), Some("330602001022"));
    }

    #[test]
    fn too_coarse_unknown_or_ambiguous_addresses_say_why() {
        let t = tree();
        let g = Gazetteer::new(&t);
        assert_eq!(g.place(&t, "塔山街道解放北路").unwrap_err(), AddressMiss::Vague("塔山街道".into()));
        assert_eq!(g.place(&t, "越城区某路").unwrap_err(), AddressMiss::Vague("越城区".into()));
        assert_eq!(g.place(&t, "北京市朝阳区").unwrap_err(), AddressMiss::Unknown);
        assert_eq!(g.place(&t, "").unwrap_err(), AddressMiss::Unknown);
        // A community name several towns have: which one is not guessed; naming the town settles it.
        let shared = ambiguous_name(&t);
        match g.place(&t, &shared) {
            Err(AddressMiss::Ambiguous(list)) => assert!(list.len() >= 2 && list.iter().all(|l| l.ends_with(&shared)), "{list:?}"),
            other => panic!("{shared}: {other:?}"),
        }
        let town = t.iter().find(|(_, r)| r.row.level == Level::Village && r.row.name == shared).map(|(i, _)| name_of(&t, i, Level::Town)).unwrap();
        let grid = g.place(&t, &format!("{town}{shared}")).unwrap();
        assert_eq!((name_of(&t, grid, Level::Town), name_of(&t, grid, Level::Village)), (town, shared));
    }

    /// A community or village name found in more than one town of the demo city.
    fn ambiguous_name(t: &RegionTree) -> String {
        let mut seen = std::collections::HashMap::<&str, usize>::new();
        for (_, r) in t.iter().filter(|(_, r)| r.row.level == Level::Village && r.row.name.chars().count() >= 3) {
            *seen.entry(r.row.name.as_str()).or_default() += 1;
        }
        let mut names: Vec<&str> = seen.into_iter().filter(|&(_, n)| n > 1).map(|(k, _)| k).collect();
        names.sort();
        names.first().expect("the demo city has a repeated village name").to_string()
    }
}
