//! CSV and XLSX exports dropped in a folder (government data exchange runs on Excel): the folder is looked
//! at every `interval_seconds`; each `*.csv` / `*.xlsx` file is read row by row, each row a JSON object of
//! column name (from the header row) to cell, and taken in batches.
//!
//! When a file is complete: only once its size and modification time are the same on two looks in a row,
//! so a file still being copied in is never read half-written. Files ending in `.tmp`, hidden files and
//! Excel's `~$` lock files are never read, so a writer that writes `x.csv.tmp` and renames it to `x.csv`
//! is safe however slow it writes (the renamed file is still taken on the second look).
//!
//! After every row of a file is stored, the file moves to `processed/` inside the drop folder; a file that
//! cannot be read at all (not CSV/XLSX, neither UTF-8 nor GBK, no header, too big) moves to `failed/` with
//! `<name>.error.txt` beside it saying why. A row that cannot be read is quarantined with a reason naming
//! the file, row and column; the rest of the file is taken.
//!
//! Restart safety: the cursor stored with each batch is `<file name>|<size>|<mtime ms>|<last row>`. If
//! the server stops mid-file, the file is still in the folder; it is read again and the rows up to the
//! cursor are skipped (a file with the same name but other contents has another size or time and is read
//! in full). Rows read twice anyway (the cursor lost) are duplicates of the take, never stored twice.
use super::backoff::{sleep_or_stop, Backoff};
use super::record::Input;
use super::registry::FeedCtx;
use calamine::{Data, Reader, Xlsx};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The drop folder; `processed/` and `failed/` are made inside it.
    pub dir: String,
    /// Seconds between looks at the folder (fractions allowed); a file is taken on the second look that
    /// finds it unchanged.
    #[serde(default = "default_interval")]
    pub interval_seconds: f64,
    /// Rows per batch; each batch is stored in one transaction, with the cursor after it.
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// CSV field separator: one ASCII character (`,` or `;` or a tab).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Larger files are not read but moved to `failed/` (XLSX: the compressed size).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// An XLSX workbook whose parts inflate past this is not read (a zip bomb fits in a few kilobytes).
    #[serde(default = "default_max_unzipped_bytes")]
    pub max_unzipped_bytes: u64,
}

fn default_interval() -> f64 {
    10.0
}
fn default_batch_rows() -> usize {
    500
}
fn default_delimiter() -> char {
    ','
}
fn default_max_file_bytes() -> u64 {
    200 * 1024 * 1024
}
fn default_max_unzipped_bytes() -> u64 {
    1024 * 1024 * 1024
}

impl Config {
    /// The config if it is valid (as `[[feeds]]` parsing wants it).
    pub fn check(self) -> Result<Config, String> {
        self.validate()?;
        Ok(self)
    }

    /// Checks what serde cannot; the error names the key.
    pub fn validate(&self) -> Result<(), String> {
        if self.dir.trim().is_empty() {
            return Err("dir: give the drop folder".into());
        }
        if !(self.interval_seconds.is_finite() && self.interval_seconds >= 0.05 && self.interval_seconds <= 86_400.0) {
            return Err("interval_seconds must be between 0.05 and 86400".into());
        }
        if self.batch_rows == 0 || self.batch_rows > 100_000 {
            return Err("batch_rows must be between 1 and 100000".into());
        }
        if self.max_file_bytes == 0 || self.max_unzipped_bytes == 0 {
            return Err("max_file_bytes and max_unzipped_bytes must be above 0".into());
        }
        if !self.delimiter.is_ascii() || self.delimiter == '"' || self.delimiter == '\n' || self.delimiter == '\r' {
            return Err("delimiter must be one ASCII character other than a quote or a line break".into());
        }
        Ok(())
    }
}

/// Excel-style column name of a 0-based index: A, B, …, Z, AA, AB, …
pub fn column_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// A column in a reason: `C ("状态")`, or just `C` when it has no name.
fn column_label(i: usize, name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("{} ({n:?})", column_name(i)),
        _ => column_name(i),
    }
}

const RAW_LIMIT: usize = 4_000;

fn clip(s: String) -> String {
    if s.len() <= RAW_LIMIT {
        return s;
    }
    let mut end = RAW_LIMIT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The header row's names: trimmed; empty names are allowed (such a column must stay empty), repeated
/// names are not (two columns would fight over one key).
fn check_header(file: &str, names: &[String]) -> Result<(), String> {
    for (i, n) in names.iter().enumerate() {
        if n.is_empty() {
            continue;
        }
        if let Some(j) = names[..i].iter().position(|m| m == n) {
            return Err(format!("{file}: the header row names column {n:?} twice ({} and {})", column_name(j), column_name(i)));
        }
    }
    if names.iter().all(|n| n.is_empty()) {
        return Err(format!("{file}: the header row (row 1) is empty"));
    }
    Ok(())
}

/// Which text encoding a CSV file is in: UTF-8 (a BOM is dropped) unless the bytes are mostly not UTF-8
/// and read as GBK without a single error. A UTF-8 file with a few bad bytes stays UTF-8 (its bad rows
/// are quarantined), so one stray byte never turns a whole file into mojibake. Ok(None): read the bytes
/// as they are (mostly UTF-8).
fn decode_csv(file: &str, bytes: &[u8]) -> Result<Option<String>, String> {
    if std::str::from_utf8(bytes).is_ok() {
        return Ok(None);
    }
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    if bad <= good {
        return Ok(None);
    }
    match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(s) => Ok(Some(s.into_owned())),
        None => Err(format!("{file}: the file is neither UTF-8 nor GBK text")),
    }
}

/// Reads one dropped file into its rows: (row number as a spreadsheet shows it, input). The header is row
/// 1; blank rows are left out. Err: the file cannot be read at all (it goes to `failed/`).
pub fn read_file(file: &str, bytes: &[u8], delimiter: u8, max_unzipped_bytes: u64) -> Result<Vec<(u32, Input)>, String> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        read_csv(file, bytes, delimiter)
    } else if lower.ends_with(".xlsx") {
        check_unzipped(file, bytes, max_unzipped_bytes)?;
        read_xlsx(file, bytes)
    } else {
        Err(format!("{file}: only .csv and .xlsx files are read"))
    }
}

/// CSV: a header row, then one record a row; quoted fields may hold the separator and line breaks.
pub fn read_csv(file: &str, bytes: &[u8], delimiter: u8) -> Result<Vec<(u32, Input)>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let decoded = decode_csv(file, bytes)?;
    let raw: &[u8] = decoded.as_deref().map(str::as_bytes).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(raw);
    let mut header: Option<Vec<String>> = None;
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut row: u32 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(format!("{file}: row {}: {e}", row + 1)),
        }
        // The line the row starts on: the row number a spreadsheet shows, unless a cell above holds a line break.
        row = record.position().map(|p| u32::try_from(p.line()).unwrap_or(u32::MAX)).unwrap_or(row.saturating_add(1));
        let Some(names) = &header else {
            let mut names = Vec::with_capacity(record.len());
            for (i, cell) in record.iter().enumerate() {
                let s = std::str::from_utf8(cell).map_err(|_| format!("{file}: header row column {} is not UTF-8 text", column_name(i)))?;
                names.push(s.trim().to_string());
            }
            check_header(file, &names)?;
            header = Some(names);
            continue;
        };
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        let mut object = Map::new();
        let mut problem = None;
        for (i, cell) in record.iter().enumerate() {
            let name = names.get(i).map(String::as_str);
            let Ok(s) = std::str::from_utf8(cell) else {
                problem = Some(format!("{file} row {row} column {}: the cell is not UTF-8 text", column_label(i, name)));
                break;
            };
            match name {
                Some(n) if !n.is_empty() => {
                    object.insert(n.to_string(), Value::String(s.to_string()));
                }
                _ if s.trim().is_empty() => {}
                None => {
                    problem = Some(format!("{file} row {row} column {}: a value beyond the header's {} columns", column_name(i), names.len()));
                    break;
                }
                Some(_) => {
                    problem = Some(format!("{file} row {row} column {}: a value in a column with no name in the header row", column_name(i)));
                    break;
                }
            }
        }
        out.push((
            row,
            match problem {
                None => Input::Record(Value::Object(object)),
                Some(reason) => {
                    let raw = record.iter().map(String::from_utf8_lossy).collect::<Vec<_>>().join(&char::from(delimiter).to_string());
                    Input::Unreadable { reason, raw: clip(raw) }
                }
            },
        ));
    }
    if header.is_none() {
        return Err(format!("{file}: the file is empty (no header row)"));
    }
    Ok(out)
}

/// An Excel date as a serial day number of the 1900 system (what `time_format = "excel"` reads), also for
/// workbooks saved in the 1904 system.
fn excel_serial(d: &calamine::ExcelDateTime) -> f64 {
    if d.is_duration() {
        return d.as_f64();
    }
    let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
    let day0 = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0));
    let at = chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(da))
        .and_then(|d| d.and_hms_milli_opt(u32::from(h), u32::from(mi), u32::from(s), u32::from(ms)));
    match (day0, at) {
        (Some(day0), Some(at)) if y >= 1901 => (at - day0).num_milliseconds() as f64 / 86_400_000.0,
        // Before March 1900 the 1900 system counts a day that never was; leave the number as stored.
        _ => d.as_f64(),
    }
}

fn header_name(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_string(),
        other => other.to_string().trim().to_string(),
    }
}

/// Inflates every part of the zip into nothing, counting, before the workbook is parsed: the sizes a
/// zip declares can lie, and the parser would hold a bomb's cells in memory.
pub fn check_unzipped(file: &str, bytes: &[u8], limit: u64) -> Result<(), String> {
    use std::io::Read;
    let unreadable = |e: &dyn std::fmt::Display| format!("{file}: not a readable XLSX workbook: {e}");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(|e| unreadable(&e))?;
        total += std::io::copy(&mut part.take(limit - total + 1), &mut std::io::sink()).map_err(|e| unreadable(&e))?;
        if total > limit {
            return Err(format!("{file}: unzipped, the workbook is larger than max_unzipped_bytes ({limit})"));
        }
    }
    Ok(())
}

/// XLSX: the first sheet; its first used row is the header. Numbers stay numbers, dates become Excel
/// serial numbers, error cells (`#N/A`, `#DIV/0!`) make their rows unreadable.
pub fn read_xlsx(file: &str, bytes: &[u8]) -> Result<Vec<(u32, Input)>, String> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| format!("{file}: not a readable XLSX workbook: {e}"))?;
    let range = match book.worksheet_range_at(0) {
        None => return Err(format!("{file}: the workbook has no sheet")),
        Some(Err(e)) => return Err(format!("{file}: its first sheet cannot be read: {e}")),
        Some(Ok(r)) => r,
    };
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let (row0, col0) = (row0 as usize, col0 as usize);
    let mut rows = range.rows();
    let Some(first) = rows.next() else { return Err(format!("{file}: the first sheet is empty (no header row)")) };
    let names: Vec<String> = first.iter().map(header_name).collect();
    check_header(file, &names)?;
    let mut out = Vec::new();
    for (k, cells) in rows.enumerate() {
        let row = u32::try_from(row0 + k + 2).unwrap_or(u32::MAX);
        if cells.iter().all(|c| matches!(c, Data::Empty) || matches!(c, Data::String(s) if s.trim().is_empty())) {
            continue;
        }
        let mut object = Map::new();
        let mut problem = None;
        for (i, cell) in cells.iter().enumerate() {
            let name = names.get(i).map(String::as_str).filter(|n| !n.is_empty());
            let value = match cell {
                Data::Empty => continue,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Value::String(s.clone()),
                Data::Int(n) => Value::from(*n),
                Data::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
                Data::Bool(b) => Value::Bool(*b),
                Data::DateTime(d) => serde_json::Number::from_f64(excel_serial(d)).map(Value::Number).unwrap_or(Value::Null),
                Data::Error(e) => {
                    problem = Some(format!("{file} row {row} column {}: the cell holds the error {e}", column_label(col0 + i, name)));
                    break;
                }
            };
            match name {
                Some(n) => {
                    object.insert(n.to_string(), value);
                }
                None if matches!(&value, Value::String(s) if s.trim().is_empty()) => {}
                None => {
                    problem = Some(format!("{file} row {row} column {}: a value in a column with no name in the header row", column_name(col0 + i)));
                    break;
                }
            }
        }
        out.push((
            row,
            match problem {
                None => Input::Record(Value::Object(object)),
                Some(reason) => Input::Unreadable { reason, raw: clip(cells.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("\t")) },
            },
        ));
    }
    Ok(out)
}

/// A file in the drop folder as one look saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    len: u64,
    mtime_ms: i64,
}

fn mtime_ms(m: &std::fs::Metadata) -> i64 {
    m.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Whether a name in the drop folder is an export to read (not a temporary, hidden or lock file).
pub fn is_export(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    !(name.starts_with('.') || name.starts_with("~$")) && (lower.ends_with(".csv") || lower.ends_with(".xlsx"))
}

/// The cursor after `row` of a file: `<name>|<size>|<mtime ms>|<row>`.
pub fn cursor_for(name: &str, len: u64, mtime_ms: i64, row: u32) -> String {
    format!("{name}|{len}|{mtime_ms}|{row}")
}

/// Where a file that already moved somewhere goes: its own name, or one with a time stamp in front.
fn free_name(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(name);
    if !p.exists() {
        return p;
    }
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let mut n = 0u32;
    loop {
        let p = dir.join(if n == 0 { format!("{ms}-{name}") } else { format!("{ms}-{n}-{name}") });
        if !p.exists() {
            return p;
        }
        n += 1;
    }
}

async fn move_to(dir: &Path, sub: &str, path: &Path, name: &str) -> Result<PathBuf, String> {
    let target_dir = dir.join(sub);
    tokio::fs::create_dir_all(&target_dir).await.map_err(|e| format!("cannot make {sub}/: {e}"))?;
    let target = free_name(&target_dir, name);
    tokio::fs::rename(path, &target).await.map_err(|e| format!("{name}: cannot move it to {sub}/: {e}"))?;
    Ok(target)
}

/// Moves a file that cannot be read to `failed/` with `<name>.error.txt` beside it.
async fn fail_file(ctx: &FeedCtx, dir: &Path, path: &Path, name: &str, why: &str) -> Result<(), String> {
    ctx.failed(why.to_string());
    let target = move_to(dir, "failed", path, name).await?;
    let mut note = target.clone().into_os_string();
    note.push(".error.txt");
    tokio::fs::write(&note, format!("{why}\n")).await.map_err(|e| format!("{name}: cannot write its error note: {e}"))?;
    Ok(())
}

enum Outcome {
    Done,
    /// Stopped between batches; the file stays and is read again on the next start.
    Stopped,
}

async fn take_file(cfg: &Config, ctx: &FeedCtx, dir: &Path, path: &Path, name: &str, seen: Seen, stop: &watch::Receiver<bool>) -> Result<Outcome, String> {
    if seen.len > cfg.max_file_bytes {
        fail_file(ctx, dir, path, name, &format!("{name}: the file has {} bytes, more than max_file_bytes ({})", seen.len, cfg.max_file_bytes)).await?;
        return Ok(Outcome::Done);
    }
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::Done),
        Err(e) => return Err(format!("{name}: cannot read it: {e}")),
    };
    let (file, delimiter, max_unzipped) = (name.to_string(), cfg.delimiter as u8, cfg.max_unzipped_bytes);
    // Reading is CPU work (XLSX is zipped XML); a panic in a reader ends as this file's failure.
    let rows = match tokio::task::spawn_blocking(move || read_file(&file, &bytes, delimiter, max_unzipped)).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(why)) => {
            fail_file(ctx, dir, path, name, &why).await?;
            return Ok(Outcome::Done);
        }
        Err(_) => {
            fail_file(ctx, dir, path, name, &format!("{name}: reading the file failed unexpectedly")).await?;
            return Ok(Outcome::Done);
        }
    };
    let key = cursor_for(name, seen.len, seen.mtime_ms, 0);
    let key = key.strip_suffix('0').expect("ends with the row");
    let done: u32 = match ctx.cursor().await {
        Ok(Some(c)) => c.strip_prefix(key).and_then(|r| r.parse().ok()).unwrap_or(0),
        Ok(None) => 0,
        Err(e) => return Err(format!("reading the cursor failed: {e}")),
    };
    let todo: Vec<(u32, Input)> = rows.into_iter().filter(|(r, _)| *r > done).collect();
    for chunk in todo.chunks(cfg.batch_rows) {
        if *stop.borrow() {
            return Ok(Outcome::Stopped);
        }
        let last = chunk.last().map(|(r, _)| *r).unwrap_or(0);
        let inputs = chunk.iter().map(|(_, i)| i.clone()).collect();
        ctx.take(inputs, Some(cursor_for(name, seen.len, seen.mtime_ms, last))).await.map_err(|e| format!("{name}: storing rows failed: {e}"))?;
    }
    move_to(dir, "processed", path, name).await?;
    tracing::info!(feed = %ctx.name, file = %name, rows = todo.len(), "file taken");
    Ok(Outcome::Done)
}

/// One look at the folder: takes the files that were unchanged since the last look. Returns whether the
/// feed was stopped meanwhile.
async fn look(cfg: &Config, ctx: &FeedCtx, dir: &Path, last: &mut HashMap<String, Seen>, given_up: &mut HashMap<String, Seen>, stop: &watch::Receiver<bool>) -> Result<bool, String> {
    let mut entries = tokio::fs::read_dir(dir).await.map_err(|e| format!("cannot list the drop folder {}: {e}", dir.display()))?;
    let mut now: HashMap<String, Seen> = HashMap::new();
    loop {
        let entry = match entries.next_entry().await {
            Ok(Some(e)) => e,
            Ok(None) => break,
            Err(e) => return Err(format!("cannot list the drop folder {}: {e}", dir.display())),
        };
        let Ok(name) = entry.file_name().into_string() else { continue };
        if !is_export(&name) {
            continue;
        }
        let Ok(meta) = entry.metadata().await else { continue };
        if meta.is_file() {
            now.insert(name, Seen { len: meta.len(), mtime_ms: mtime_ms(&meta) });
        }
    }
    let mut ready: Vec<(String, Seen)> = now.iter().filter(|(n, s)| last.get(*n) == Some(s) && given_up.get(*n) != Some(s)).map(|(n, s)| (n.clone(), *s)).collect();
    given_up.retain(|n, s| now.get(n) == Some(s));
    *last = now;
    // Older exports first.
    ready.sort_by(|a, b| (a.1.mtime_ms, &a.0).cmp(&(b.1.mtime_ms, &b.0)));
    let mut first_error = None;
    for (name, seen) in ready {
        if *stop.borrow() {
            return Ok(true);
        }
        match take_file(cfg, ctx, dir, &dir.join(&name), &name, seen, stop).await {
            Ok(Outcome::Done) => {
                last.remove(&name);
            }
            Ok(Outcome::Stopped) => return Ok(true),
            Err(why) => {
                // A file that cannot even be moved is left alone until it changes.
                if why.contains("cannot move") || why.contains("error note") || why.contains("cannot make") {
                    given_up.insert(name.clone(), seen);
                }
                first_error.get_or_insert(why);
            }
        }
    }
    match first_error {
        Some(why) => Err(why),
        None => Ok(false),
    }
}

pub async fn run(cfg: Config, ctx: FeedCtx, mut stop: watch::Receiver<bool>) {
    if let Err(e) = cfg.validate() {
        return ctx.bad_config(e, &mut stop).await;
    }
    let dir = PathBuf::from(&cfg.dir);
    let interval = Duration::from_secs_f64(cfg.interval_seconds);
    let mut backoff = Backoff::new(interval.max(Duration::from_millis(500)), Duration::from_secs(300).max(interval));
    let (mut last, mut given_up) = (HashMap::new(), HashMap::new());
    loop {
        let wait = match look(&cfg, &ctx, &dir, &mut last, &mut given_up, &stop).await {
            Ok(true) => return,
            Ok(false) => {
                backoff.reset();
                interval
            }
            Err(why) => {
                ctx.failed(why);
                backoff.step()
            }
        };
        if sleep_or_stop(wait, &mut stop).await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(rows: &[(u32, Input)]) -> Vec<(u32, Value)> {
        rows.iter().filter_map(|(r, i)| if let Input::Record(v) = i { Some((*r, v.clone())) } else { None }).collect()
    }

    fn reasons(rows: &[(u32, Input)]) -> Vec<String> {
        rows.iter().filter_map(|(_, i)| if let Input::Unreadable { reason, .. } = i { Some(reason.clone()) } else { None }).collect()
    }

    #[test]
    fn both_kinds_parse_as_feeds_and_bad_keys_are_named() {
        use crate::feeds::kinds::KindConfig;
        use crate::feeds::registry::FeedSpec;
        let mapping = "[mapping]\nrecord = \"observation\"\nid = \"a\"\ntime = \"t\"\nindicator = \"criminal_filed\"\nregion = \"r\"\n";
        let parse = |head: &str| FeedSpec::parse(0, &toml::from_str(&format!("{head}\n{mapping}")).unwrap());
        let s = parse("name = \"drop\"\ntype = \"file_drop\"\ndir = \"/srv/drop\"").unwrap();
        assert_eq!(s.kind.as_str(), "file_drop");
        let KindConfig::FileDrop(c) = s.kind else { panic!("file_drop") };
        assert_eq!((c.interval_seconds, c.batch_rows, c.delimiter), (10.0, 500, ','));
        let s = parse("name = \"pg\"\ntype = \"sql_pull\"\nurl = \"postgres://u@h/db\"\ntable = \"x.y\"").unwrap();
        assert_eq!(s.kind.as_str(), "sql_pull");
        let e = parse("name = \"pg\"\ntype = \"sql_pull\"\nurl = \"postgres://u@h/db\"\ntable = \"y; drop table z\"").unwrap_err();
        assert!(e.contains("table:"), "{e}");
        let e = parse("name = \"drop\"\ntype = \"file_drop\"\ndir = \"d\"\ninterval_seconds = 0").unwrap_err();
        assert!(e.contains("interval_seconds"), "{e}");
        let e = parse("name = \"drop\"\ntype = \"file_drop\"\ndir = \"d\"\nfolder = \"d\"").unwrap_err();
        assert!(e.contains("unknown field `folder`"), "{e}");
    }

    #[test]
    fn column_names_count_like_excel() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702].iter().map(|i| column_name(*i)).collect();
        assert_eq!(got, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn csv_reads_utf8_with_and_without_bom_and_gbk() {
        let text = "编号,状态,内容\nA1,已受理,\"路灯, 不亮\"\n\n,,\nA2,办理中,\"两行\n内容\"\n";
        for bytes in [text.as_bytes().to_vec(), [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(), encoding_rs::GBK.encode(text).0.into_owned()] {
            let rows = read_csv("a.csv", &bytes, b',').unwrap();
            let recs = records(&rows);
            assert_eq!(recs.len(), 2, "{rows:?}");
            assert_eq!(recs[0].0, 2);
            assert_eq!(recs[0].1["编号"], "A1");
            assert_eq!(recs[0].1["内容"], "路灯, 不亮");
            assert_eq!(recs[1].0, 5, "blank rows count as rows");
            assert_eq!(recs[1].1["内容"], "两行\n内容");
        }
    }

    #[test]
    fn bad_rows_and_files_are_named() {
        let mut bytes = "编号,状态,内容,\nA1,已受理,好,\nA2,已受理,x,y\nA3,已受理,x,,z\n".as_bytes().to_vec();
        bytes.extend_from_slice(b"A4,\xff\xfe,x\n");
        let rows = read_csv("b.csv", &bytes, b',').unwrap();
        assert_eq!(records(&rows).len(), 1);
        let r = reasons(&rows);
        assert_eq!(r.len(), 3, "{r:?}");
        assert!(r[0].contains("b.csv row 3 column D") && r[0].contains("no name"), "{}", r[0]);
        assert!(r[1].contains("b.csv row 4 column E") && r[1].contains("beyond"), "{}", r[1]);
        assert!(r[2].contains("b.csv row 5 column B (\"状态\")") && r[2].contains("UTF-8"), "{}", r[2]);
        assert!(read_csv("c.csv", b"a,b,a\n1,2,3\n", b',').unwrap_err().contains("twice"));
        assert!(read_csv("d.csv", b"", b',').unwrap_err().contains("empty"));
        assert!(read_xlsx("e.xlsx", b"PK\x03\x04 not really").unwrap_err().contains("e.xlsx"));
        assert!(read_file("f.txt", b"a\n1", b',', 1 << 20).is_err());
        assert!(is_export("x.CSV") && is_export("y.xlsx") && !is_export("x.csv.tmp") && !is_export("~$y.xlsx") && !is_export(".x.csv"));
    }

    #[test]
    fn xlsx_rows_keep_numbers_dates_and_name_error_cells() {
        use crate::sim::files::{xlsx_bytes, Cell};
        let header = ["编号", "更新时间", "数量", "备注"];
        let rows = vec![
            vec![Cell::from("C1"), Cell::Date(45_982.395_833_333_3), Cell::Number(3.0), Cell::Empty],
            vec![Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty],
            vec![Cell::from("C2"), Cell::Date(45_982.5), Cell::Error("#N/A".into()), Cell::from("x")],
        ];
        let bytes = xlsx_bytes(&header, &rows).unwrap();
        let got = read_xlsx("g.xlsx", &bytes).unwrap();
        let recs = records(&got);
        assert_eq!(recs.len(), 1, "{got:?}");
        assert_eq!(recs[0].0, 2);
        assert_eq!(recs[0].1["编号"], "C1");
        assert_eq!(recs[0].1["数量"].as_f64(), Some(3.0));
        let t = recs[0].1["更新时间"].as_f64().unwrap();
        assert!((t - 45_982.395_833_333_3).abs() < 1e-6, "{t}");
        let ms = crate::feeds::time::TimeFormat::Excel.parse(&recs[0].1["更新时间"].to_string()).unwrap();
        assert!((ms - 1_763_688_600_000).abs() < 1000, "{ms}");
        let r = reasons(&got);
        assert!(r[0].contains("g.xlsx row 4 column C (\"数量\")") && r[0].contains("#N/A"), "{r:?}");
    }

    #[test]
    fn a_workbook_that_inflates_past_the_limit_is_not_parsed() {
        use crate::sim::files::{xlsx_bytes, xlsx_parts, zip_parts, Cell};
        let mut parts = xlsx_parts(&["编号"], &[vec![Cell::from("x")]]);
        // 64 MB of blanks inside the sheet's XML: a few tens of kilobytes zipped.
        let sheet = parts.iter_mut().find(|(name, _)| name.contains("sheet1")).expect("a sheet part");
        let end = sheet.1.len() - 12;
        sheet.1.splice(end..end, std::iter::repeat_n(b' ', 64 << 20));
        let bomb = zip_parts(&parts).unwrap();
        assert!(bomb.len() < 1 << 20, "{} bytes zipped", bomb.len());
        let err = read_file("bomb.xlsx", &bomb, b',', 16 << 20).unwrap_err();
        assert_eq!(err, "bomb.xlsx: unzipped, the workbook is larger than max_unzipped_bytes (16777216)");
        let ok = xlsx_bytes(&["编号"], &[vec![Cell::from("x")]]).unwrap();
        assert_eq!(records(&read_file("ok.xlsx", &ok, b',', 16 << 20).unwrap()).len(), 1);
        assert!(check_unzipped("ok.xlsx", &ok, 100).is_err(), "the limit counts every part");
    }

    /// Any bytes at all, as a CSV or an XLSX file: rows or a reason, never a panic.
    #[test]
    fn no_bytes_make_the_readers_panic() {
        use crate::sim::files::{xlsx_bytes, xlsx_parts, zip_parts, Cell};
        let mut rng = geom::SplitMix64::new(7);
        let csv_seed = "编号,状态,内容\nA1,已受理,\"a,b\"\nA2,\"x\"\"y\",z\n".as_bytes().to_vec();
        let xlsx_seed = xlsx_bytes(&["a", "b"], &[vec![Cell::from("x"), Cell::Number(1.5)], vec![Cell::Date(45_000.25), Cell::Error("#DIV/0!".into())]]).unwrap();
        let alphabet = b",\"\n\r;\t \xEF\xBB\xBF\xff\xfeaZ0<>/=PK\x03\x04";
        for i in 0..3_000u32 {
            // Random bytes, random bytes over a useful alphabet, and valid files with bytes changed.
            let mut bytes = match i % 3 {
                0 => (0..rng.next_u64() % 300).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>(),
                1 => (0..rng.next_u64() % 300).map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize]).collect(),
                _ => if i % 2 == 0 { csv_seed.clone() } else { xlsx_seed.clone() },
            };
            if i % 3 == 2 && !bytes.is_empty() {
                for _ in 0..1 + rng.next_u64() % 4 {
                    let at = (rng.next_u64() % bytes.len() as u64) as usize;
                    bytes[at] = rng.next_u64() as u8;
                }
                if rng.next_u64().is_multiple_of(4) {
                    bytes.truncate((rng.next_u64() % bytes.len() as u64) as usize);
                }
            }
            let _ = read_csv("p.csv", &bytes, b',');
            let _ = read_csv("p.csv", &bytes, b';');
            let _ = read_xlsx("p.xlsx", &bytes);
            let _ = check_unzipped("p.xlsx", &bytes, 1 << 20);
        }
        // Well-zipped workbooks whose XML parts are damaged: the zip opens, the XML does not add up.
        let parts = xlsx_parts(&["编号", "b", ""], &[vec![Cell::from("x"), Cell::Number(2.0), Cell::Empty], vec![Cell::Date(45_000.5), Cell::Error("#REF!".into()), Cell::from("z")]]);
        let xml = b"<>/=\"' crstv0123456789ABx:&;#";
        for i in 0..1_500u32 {
            let mut parts = parts.clone();
            let k = [3usize, 4, 5, 6][i as usize % 4];
            let body = &mut parts[k].1;
            for _ in 0..1 + rng.next_u64() % 6 {
                let at = (rng.next_u64() % body.len() as u64) as usize;
                match rng.next_u64() % 3 {
                    0 => body[at] = xml[(rng.next_u64() % xml.len() as u64) as usize],
                    1 => {
                        body.remove(at);
                    }
                    _ => body.insert(at, xml[(rng.next_u64() % xml.len() as u64) as usize]),
                }
            }
            if let Ok(bytes) = zip_parts(&parts) {
                let _ = read_xlsx("q.xlsx", &bytes);
            }
        }
    }
}
