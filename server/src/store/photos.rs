//! Stored rows of residents' photos: held from the upload until their report is taken, then the case's.
use super::StoreError;
use futures::future::BoxFuture;

/// A photo as stored: already cleaned of its metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredPhoto {
    pub mime: String,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// How long a held photo waits for its report (ms).
pub const HOLD_MS: i64 = 24 * 3_600_000;

pub trait PhotoStore {
    /// Holds a photo under `token` at `at`, deleting held photos older than `HOLD_MS`.
    fn hold_photo<'a>(&'a self, token: &'a str, photo: &'a StoredPhoto, at: i64) -> BoxFuture<'a, Result<(), StoreError>>;
    /// The size in bytes of the photo held under `token`, if it is still held.
    fn held_photo<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Option<usize>, StoreError>>;
    /// Deletes the photo held under `token` (a case's photo stays).
    fn release_photo<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Gives the held photo to the case; false when the token holds nothing or the case has a photo.
    fn attach_photo<'a>(&'a self, token: &'a str, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn has_photo<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn photo<'a>(&'a self, feed: &'a str, case_id: &'a str) -> BoxFuture<'a, Result<Option<StoredPhoto>, StoreError>>;
}
