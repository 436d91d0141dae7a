//! What feeds deliver: case events (事件流转) in one canonical form, shared with the engine
//! (`engine::case`), which counts them.
pub use engine::case::*;
