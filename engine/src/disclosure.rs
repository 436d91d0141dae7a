//! Statistical disclosure control for everything the public sees: counts from 1 to 4 are withheld
//! ("<5"), and complementary cells are withheld too, so that no withheld count can be worked back out
//! from a published total and its published siblings.
use app::model::Cell;

/// A table of counts over a tree: `parent[i]` is the row whose total row `i` is part of (or None).
/// `values[i]` is one column. Returns which cells to withhold.
pub fn suppress(parent: &[Option<usize>], values: &[u32]) -> Vec<bool> {
    let n = values.len();
    let mut hidden: Vec<bool> = values.iter().map(|&v| (1..5).contains(&v)).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = *p {
            children[p].push(i);
        }
    }
    // Repeat until stable: withholding one cell can expose another group.
    loop {
        let mut changed = false;
        for p in 0..n {
            let kids = &children[p];
            if kids.is_empty() {
                continue;
            }
            let hidden_kids = kids.iter().filter(|&&k| hidden[k]).count();
            if !hidden[p] && hidden_kids == 1 {
                // Total minus the visible siblings would give the hidden one: hide one more sibling,
                // the smallest non-zero one (zeros tell nothing new), or else the total itself.
                let partner = kids.iter().copied().filter(|&k| !hidden[k] && values[k] > 0).min_by_key(|&k| values[k]);
                match partner {
                    Some(k) => hidden[k] = true,
                    None => hidden[p] = true,
                }
                changed = true;
            }
            if hidden[p] && kids.iter().all(|&k| !hidden[k]) && kids.iter().any(|&k| values[k] > 0) {
                // A hidden total whose parts are all visible is just their sum.
                let partner = kids.iter().copied().filter(|&k| values[k] > 0).min_by_key(|&k| values[k]);
                if let Some(k) = partner {
                    hidden[k] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return hidden;
        }
    }
}

pub fn cells(values: &[u32], hidden: &[bool]) -> Vec<Cell> {
    values.iter().zip(hidden).map(|(&v, &h)| if h { Cell::Suppressed } else { Cell::Count(v) }).collect()
}

/// True when no withheld cell can be derived: for every total, either nothing under it is withheld, or at
/// least two parts are (and a withheld total has at least one withheld part unless all parts are zero).
pub fn is_safe(parent: &[Option<usize>], values: &[u32], hidden: &[bool]) -> bool {
    let n = values.len();
    for (i, &v) in values.iter().enumerate() {
        if (1..5).contains(&v) && !hidden[i] {
            return false;
        }
    }
    for p in 0..n {
        let kids: Vec<usize> = (0..n).filter(|&k| parent[k] == Some(p)).collect();
        if kids.is_empty() {
            continue;
        }
        let hk = kids.iter().filter(|&&k| hidden[k]).count();
        if !hidden[p] && hk == 1 {
            return false;
        }
        if hidden[p] && hk == 0 && kids.iter().any(|&k| values[k] > 0) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::mix;

    #[test]
    fn a_lone_small_cell_takes_a_partner() {
        // City 0 → districts 1, 2 → towns 3, 4 (under 1) and 5 (under 2).
        let parent = [None, Some(0), Some(0), Some(1), Some(1), Some(2)];
        let values = [130, 103, 27, 3, 100, 27];
        let h = suppress(&parent, &values);
        assert_eq!(h, [false, false, false, true, true, false], "town 4 hides with town 3");
        assert!(is_safe(&parent, &values, &h));
        assert!(!is_safe(&parent, &values, &[false, false, false, true, false, false]), "the check can fail");
    }

    #[test]
    fn an_only_child_hides_its_parent_and_the_parent_a_sibling() {
        let parent = [None, Some(0), Some(0), Some(1), Some(2)];
        let values = [40, 2, 38, 2, 38];
        let h = suppress(&parent, &values);
        assert!(h[3] && h[1], "the town and its district (the town's total)");
        assert!(h[2], "then the other district, or the city total would give it away");
        assert!(is_safe(&parent, &values, &h));
    }

    #[test]
    fn zeros_and_large_counts_stay_visible() {
        let parent = [None, Some(0), Some(0)];
        let h = suppress(&parent, &[500, 0, 500]);
        assert_eq!(h, [false, false, false]);
    }

    #[test]
    fn random_tables_are_always_safe() {
        for seed in 0..500u64 {
            let mut h = seed;
            let mut parent = vec![None];
            for i in 1..(3 + seed % 30) as usize {
                h = mix(h);
                parent.push(Some((h % i as u64) as usize));
            }
            let n = parent.len();
            let mut values = vec![0u32; n];
            for (i, v) in values.iter_mut().enumerate() {
                h = mix(h ^ i as u64);
                *v = match h % 4 {
                    0 => 0,
                    1 => (h >> 8) as u32 % 5,
                    _ => (h >> 8) as u32 % 60,
                };
            }
            // Totals are at least the sum of their parts, as in real tables.
            for i in (1..n).rev() {
                let p = parent[i].unwrap();
                values[p] += values[i];
            }
            let hidden = suppress(&parent, &values);
            assert!(is_safe(&parent, &values, &hidden), "seed {seed}: {parent:?} {values:?} {hidden:?}");
        }
    }
}
