//! The region tree lives in the engine (`engine::tree`); the demo city's data and geometry are here.
pub mod shaoxing;

pub use engine::tree::*;
