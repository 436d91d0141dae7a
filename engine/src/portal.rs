//! The city's public record for a period (the transparency portal): the flow figures of the city, its
//! districts and towns, read from the same reports as the wall, with every small count withheld with its
//! complements along the tree (`disclosure`), column by column.
use crate::Engine;
use app::model::{Cell, Period, PublicRecord, RecordRow};

impl Engine {
    pub fn public_record(&self, period: Period) -> PublicRecord {
        let tree = &*self.tree;
        let root = tree.root();
        let city = self.flow_report(root, period);
        // The city, then each district with its towns (from the district's own report).
        let mut order: Vec<(usize, app::model::FlowFigures, Option<app::model::FlowFigures>, Option<app::model::FlowFigures>)> =
            vec![(root, city.figures.clone(), city.previous.clone(), city.year_ago.clone())];
        for &d in &tree.get(root).children {
            let r = self.flow_report(d, period);
            order.push((d, r.figures.clone(), r.previous.clone(), r.year_ago.clone()));
            for row in &r.by_region {
                if let Some(t) = tree.find(&row.key) {
                    order.push((t, row.figures.clone(), None, None));
                }
            }
        }
        let pos = |idx: usize| order.iter().position(|o| o.0 == idx);
        let parent: Vec<Option<usize>> = order.iter().map(|o| tree.get(o.0).parent.and_then(pos)).collect();
        let column = |f: &dyn Fn(&app::model::FlowFigures) -> u32| {
            let values: Vec<u32> = order.iter().map(|o| f(&o.1)).collect();
            crate::disclosure::cells(&values, &crate::disclosure::suppress(&parent, &values))
        };
        let reported = column(&|f| f.reported);
        let closed = column(&|f| f.closed);
        let due = column(&|f| f.due);
        let on_time = column(&|f| f.on_time);
        // Comparisons exist for the city and districts only: a tree of two levels.
        let compared = |pick: &dyn Fn(&(usize, app::model::FlowFigures, Option<app::model::FlowFigures>, Option<app::model::FlowFigures>)) -> Option<u32>| {
            let values: Vec<u32> = order.iter().map(|o| pick(o).unwrap_or(0)).collect();
            let hidden = crate::disclosure::suppress(&parent, &values);
            order.iter().enumerate().map(|(k, o)| pick(o).map(|v| if hidden[k] { Cell::Suppressed } else { Cell::Count(v) })).collect::<Vec<_>>()
        };
        let previous = compared(&|o| o.2.as_ref().map(|f| f.reported));
        let year_ago = compared(&|o| o.3.as_ref().map(|f| f.reported));
        let mut close_error = 0.0f64;
        let medians: Vec<Option<i64>> = order
            .iter()
            .map(|o| {
                let (t, e) = self.time_to_close(o.0, period);
                close_error = close_error.max(e);
                t.filter(|t| t.count >= 5).map(|t| t.median_ms)
            })
            .collect();
        let rows = order
            .iter()
            .enumerate()
            .map(|(k, o)| {
                let r = tree.get(o.0);
                RecordRow {
                    code: r.row.code.clone(),
                    name: r.row.name.clone(),
                    level: r.row.level,
                    parent: r.parent.map(|p| tree.get(p).row.code.clone()),
                    reported: reported[k],
                    closed: closed[k],
                    due: due[k],
                    on_time: on_time[k],
                    reported_previous: previous[k],
                    reported_year_ago: year_ago[k],
                    close_median_ms: medians[k],
                }
            })
            .collect();
        let small = |n: u32| if (1..5).contains(&n) { Cell::Suppressed } else { Cell::Count(n) };
        let mediation = city.mediation.iter().map(|m| (m.tier, small(m.attempts), small(m.settled))).collect();
        // Twelve calendar months back from the period's last day.
        let last = app::model::date_time((city.to - 1).max(city.from));
        let (y, m): (i64, i64) = (last[0..4].parse().unwrap_or(1970), last[5..7].parse().unwrap_or(1));
        let month_start = |months: i64| app::model::parse_day(&format!("{:04}-{:02}-01", months.div_euclid(12), months.rem_euclid(12) + 1));
        let trend = (0..12)
            .rev()
            .filter_map(|back| {
                let months = y * 12 + m - 1 - back;
                let (start, end) = (month_start(months)?, month_start(months + 1)?);
                let f = self.flow_report(root, Period::Dates { from: start, to: end });
                Some((start, small(f.figures.reported)))
            })
            .collect();
        let (court, court_by_district) = match &city.court {
            None => (None, Vec::new()),
            Some(c) => {
                // The city and each district, one table withheld column by column like the flow rows.
                let districts = &tree.get(root).children;
                let of = |d: usize| c.by_region.iter().find(|(code, _, _)| *code == tree.get(d).row.code).map(|(_, _, f)| f.clone()).unwrap_or_default();
                let figures: Vec<app::model::CourtFigures> = std::iter::once(c.figures.clone()).chain(districts.iter().map(|&d| of(d))).collect();
                let parent: Vec<Option<usize>> = std::iter::once(None).chain(districts.iter().map(|_| Some(0))).collect();
                let columns: [fn(&app::model::CourtFigures) -> u32; 4] = [|f| f.referred, |f| f.mediated, |f| f.settled, |f| f.confirmed];
                let mut table = vec![[Cell::Count(0); 4]; figures.len()];
                for (j, col) in columns.iter().enumerate() {
                    let values: Vec<u32> = figures.iter().map(col).collect();
                    let hidden = crate::disclosure::suppress(&parent, &values);
                    for (row, cell) in table.iter_mut().zip(crate::disclosure::cells(&values, &hidden)) {
                        row[j] = cell;
                    }
                }
                let by_district = districts
                    .iter()
                    .zip(&table[1..])
                    .filter(|(_, cells)| cells.iter().any(|c| *c != Cell::Count(0)))
                    .map(|(&d, cells)| (tree.get(d).row.code.clone(), tree.get(d).row.name.clone(), *cells))
                    .collect();
                (Some(table[0]), by_district)
            }
        };
        PublicRecord { city: tree.get(root).row.name.clone(), from: city.from, to: city.to, rows, mediation, trend, court, court_by_district, close_error, as_of: self.now() }
    }
}
