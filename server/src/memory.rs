//! Giving the heap's free pages back to the system: after the engine's load, once everything has
//! started, then every minute. glibc's malloc keeps what the program freed for reuse: after loading a
//! city-year that was about 100 MB the process held and never used again, and starting the rest (the
//! simulated systems' files, warnings, accounts) left as much again, enough to carry the server past its
//! 1 GiB budget. Elsewhere (musl, other systems) nothing is done.
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Returns free heap pages to the system; says how much the process holds afterwards (its resident
/// set, bytes) where the system tells.
pub fn give_back() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks; 0 keeps no extra padding.
    unsafe {
        libc::malloc_trim(0);
    }
    resident()
}

/// `give_back` every `every` until `stop` turns true, off the async workers (it walks the whole heap).
pub async fn give_back_every(every: Duration, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! { _ = tick.tick() => {}, _ = stop.wait_for(|s| *s) => return }
        let t = Instant::now();
        let resident_mib = tokio::task::spawn_blocking(give_back).await.ok().flatten().map(|b| b >> 20);
        tracing::debug!(?resident_mib, us = t.elapsed().as_micros() as u64, "free heap pages given back");
    }
}

/// The process's resident set in bytes (Linux: /proc/self/statm), or None where it cannot be read.
pub fn resident() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(page).ok().map(|p| pages * p)
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn free_pages_under_a_block_still_held_go_back() {
        // 100 MB in small blocks, then one more above them that stays: freeing the rest leaves a hole
        // malloc keeps for itself (only a free top of the heap goes back by itself).
        let blocks: Vec<Box<[u8; 1000]>> = (0..100_000).map(|i| Box::new([i as u8 | 1; 1000])).collect();
        let kept = Box::new([7u8; 1000]);
        drop(blocks);
        let before = super::resident().expect("Linux tells the resident set");
        let after = super::give_back().expect("Linux tells the resident set");
        assert!(before.saturating_sub(after) > 50 << 20, "{} MiB held before, {} MiB after", before >> 20, after >> 20);
        assert_eq!(kept[999], 7);
    }
}
