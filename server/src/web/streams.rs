//! How many live streams may be open: at most `per_viewer` for one principal (a person's tabs, a wall's
//! screens) and `total` in all, set below the process's descriptor limit with a reserve, so that health
//! checks, sign-in, feeds and the store always have descriptors left. A stream holds a `Permit` for its
//! whole life; dropping it gives the place back.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Descriptors kept for everything that is not a live stream: the store, feeds, brokers, sign-in,
/// health checks and ordinary requests.
pub const RESERVE: u64 = 256;

#[derive(Default)]
struct Open {
    total: usize,
    by_principal: HashMap<String, usize>,
}

pub struct Streams {
    total: usize,
    per_viewer: usize,
    open: Arc<Mutex<Open>>,
}

/// Why a stream was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Full {
    Viewer,
    Server,
}

pub struct Permit {
    principal: String,
    open: Arc<Mutex<Open>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut o = self.open.lock().expect("streams lock");
        o.total -= 1;
        if let Some(n) = o.by_principal.get_mut(&self.principal) {
            *n -= 1;
            if *n == 0 {
                o.by_principal.remove(&self.principal);
            }
        }
    }
}

impl Streams {
    /// `total` is also held under the descriptor limit `fd_limit` less the reserve, when one is known.
    pub fn new(total: usize, per_viewer: usize, fd_limit: Option<u64>) -> Streams {
        let under_fds = fd_limit.map_or(usize::MAX, |l| l.saturating_sub(RESERVE) as usize);
        Streams { total: total.min(under_fds).max(1), per_viewer: per_viewer.max(1), open: Default::default() }
    }

    pub fn limit(&self) -> usize {
        self.total
    }

    pub fn open(&self) -> usize {
        self.open.lock().expect("streams lock").total
    }

    pub fn acquire(&self, principal: &str) -> Result<Permit, Full> {
        let mut o = self.open.lock().expect("streams lock");
        if o.by_principal.get(principal).copied().unwrap_or(0) >= self.per_viewer {
            return Err(Full::Viewer);
        }
        if o.total >= self.total {
            return Err(Full::Server);
        }
        o.total += 1;
        *o.by_principal.entry(principal.to_string()).or_default() += 1;
        Ok(Permit { principal: principal.to_string(), open: self.open.clone() })
    }
}

/// Raises the process's soft limit on open descriptors to its hard limit where the OS allows, and
/// returns the soft limit now in force (None where it cannot be read).
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    unsafe {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return None;
        }
        if l.rlim_cur < l.rlim_max {
            let raised = libc::rlimit { rlim_cur: l.rlim_max, rlim_max: l.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                l.rlim_cur = l.rlim_max;
            }
        }
        Some(l.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_viewer_and_in_all_and_places_come_back() {
        let s = Streams::new(3, 2, None);
        let a1 = s.acquire("a").unwrap();
        let _a2 = s.acquire("a").unwrap();
        assert_eq!(s.acquire("a").err(), Some(Full::Viewer));
        let _b = s.acquire("b").unwrap();
        assert_eq!(s.acquire("c").err(), Some(Full::Server));
        drop(a1);
        assert_eq!(s.open(), 2);
        assert!(s.acquire("c").is_ok());
    }

    #[test]
    fn the_total_stays_under_the_descriptor_limit() {
        assert_eq!(Streams::new(10_000, 8, Some(1024)).limit(), 1024 - RESERVE as usize);
        assert_eq!(Streams::new(100, 8, Some(1_048_576)).limit(), 100);
        assert_eq!(Streams::new(100, 8, Some(10)).limit(), 1, "never zero");
        assert!(raise_descriptor_limit().is_some_and(|l| l > 0));
    }
}
