//! The one clock of a test binary: pinned to Wednesday 2026-12-02 10:00 in Shanghai when first asked
//! for, then running at real speed. Servers, feeds and the tests' own timestamps all read it, so no test
//! depends on the date or time of the machine that runs it.
#![allow(dead_code)]
use server::clock::Clock;

pub const PINNED_MS: i64 = 1_796_176_800_000;

pub fn clock() -> Clock {
    static C: std::sync::OnceLock<Clock> = std::sync::OnceLock::new();
    C.get_or_init(|| Clock::pinned(PINNED_MS, 1.0)).clone()
}

pub fn now() -> i64 {
    clock().now_ms()
}
