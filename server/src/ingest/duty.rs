//! Rosters in: checked, stored, then held by the engine; on a shared store the other instances are told
//! to read the roster again.
use super::Ingest;
use crate::duty::{Duty, ROSTER_AHEAD_MS, ROSTER_BEHIND_MS};
use crate::store::StoreError;

impl Ingest {
    /// Stores roster lines and puts them in the engine; lines that fail `Duty::check` or name a grid the
    /// city does not have are refused with why (nothing of them is stored). How many lines were new or
    /// changed, and the refusals by position.
    pub async fn submit_duties(&self, lines: Vec<Duty>) -> Result<(u64, Vec<(usize, String)>), StoreError> {
        let mut refused = Vec::new();
        let mut good = Vec::with_capacity(lines.len());
        for (i, d) in lines.into_iter().enumerate() {
            match d.check().and_then(|()| self.is_grid(&d.grid)) {
                Ok(()) => good.push(d),
                Err(why) => refused.push((i, why)),
            }
        }
        if good.is_empty() {
            return Ok((0, refused));
        }
        // Stored and held under the writer's lock, so a reading of the whole roster (`load_roster`)
        // never replaces lines stored after it read.
        let _one_writer = self.writer.lock().await;
        let changed = self.store.append_duties(&good).await?;
        if changed > 0 {
            let version = {
                let mut e = self.engine.write().expect("engine lock");
                e.add_duties(good.iter().map(Duty::line));
                e.version()
            };
            self.changed.send_replace(version);
            if let Some(shared) = &self.shared {
                shared.announce_in_background(crate::cluster::Change { duties: true, ..Default::default() });
            }
        }
        Ok((changed, refused))
    }

    fn is_grid(&self, code: &str) -> Result<(), String> {
        match self.tree.find(code).map(|i| self.tree.get(i).row.level) {
            Some(app::model::Level::Grid) => Ok(()),
            Some(_) => Err(format!("{code} is not a grid")),
            None => Err(format!("no grid {code} in this city")),
        }
    }

    /// Reads the roster around now from the store into the engine (at start, at each local midnight, and
    /// when another instance stored lines).
    pub async fn load_roster(&self) -> Result<usize, StoreError> {
        let _one_writer = self.writer.lock().await;
        let now = self.clock.now_ms();
        let lines = self.store.duties_between(now - ROSTER_BEHIND_MS, now + ROSTER_AHEAD_MS).await?;
        let n = lines.len();
        let version = {
            let mut e = self.engine.write().expect("engine lock");
            let unknown = e.set_roster(lines.iter().map(Duty::line));
            if unknown > 0 {
                tracing::warn!(unknown, "roster lines of grids this city does not have were skipped");
            }
            e.version()
        };
        self.changed.send_replace(version);
        Ok(n)
    }
}
