//! A government data exchange's side of a file drop: CSV and XLSX exports written into a folder, each
//! written as `<name>.tmp` and renamed when complete (the way the `file_drop` feed expects). The XLSX is a
//! real, minimal workbook (one sheet, shared strings, a date style) zipped with the `zip` crate that the
//! XLSX reader already brings.
use std::io::Write;
use std::path::{Path, PathBuf};

/// One XLSX cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// An Excel serial day number (1900 system) shown with a date format, as Excel stores dates.
    Date(f64),
    /// An error value such as `#N/A` or `#DIV/0!`.
    Error(String),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Cell {
        Cell::Number(n)
    }
}

/// Unix milliseconds as an Excel serial day number in Beijing time (what `time_format = "excel"` reads).
pub fn excel_serial(ms: i64) -> f64 {
    (ms + 8 * 3_600_000) as f64 / 86_400_000.0 + 25_569.0
}

/// Writes `bytes` to `dir/name` through `dir/name.tmp` and a rename, so a reader never sees half a file.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let tmp = dir.join(format!("{name}.tmp"));
    let target = dir.join(name);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}

/// CSV text (UTF-8, quoted where needed) of a header and rows.
pub fn csv_text(header: &[&str], rows: &[Vec<String>]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

/// Writes a UTF-8 CSV export.
pub fn write_csv(dir: &Path, name: &str, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<PathBuf> {
    write_atomic(dir, name, &csv_text(header, rows)?)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // XML 1.0 has no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn column(mut i: usize) -> String {
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

/// The parts (path in the package, contents) of a one-sheet workbook: the header row, then the rows.
pub fn xlsx_parts(header: &[&str], rows: &[Vec<Cell>]) -> Vec<(String, Vec<u8>)> {
    let mut strings: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut sheet = String::from(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#);
    let all = std::iter::once(header.iter().map(|h| Cell::from(*h)).collect::<Vec<_>>()).chain(rows.iter().cloned());
    for (r, cells) in all.enumerate() {
        sheet.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in cells.iter().enumerate() {
            let at = format!("{}{}", column(c), r + 1);
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    let i = *index.entry(s.clone()).or_insert_with(|| {
                        strings.push(s.clone());
                        strings.len() - 1
                    });
                    sheet.push_str(&format!(r#"<c r="{at}" t="s"><v>{i}</v></c>"#));
                }
                Cell::Number(n) => sheet.push_str(&format!(r#"<c r="{at}"><v>{n}</v></c>"#)),
                Cell::Date(n) => sheet.push_str(&format!(r#"<c r="{at}" s="1"><v>{n}</v></c>"#)),
                Cell::Error(e) => sheet.push_str(&format!(r#"<c r="{at}" t="e"><v>{}</v></c>"#, escape(e))),
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let mut shared = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{0}" uniqueCount="{0}">"#,
        strings.len()
    );
    for s in &strings {
        shared.push_str(&format!(r#"<si><t xml:space="preserve">{}</t></si>"#, escape(s)));
    }
    shared.push_str("</sst>");
    let parts: [(&str, String); 7] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#.into(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="数据" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#.into(),
        ),
        // Style 1 is a built-in date-time format (22: m/d/yy h:mm), so its numbers read as dates.
        (
            "xl/styles.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#.into(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", shared),
    ];
    parts.into_iter().map(|(p, s)| (p.to_string(), s.into_bytes())).collect()
}

/// Zips package parts (deflated, as Excel does).
pub fn zip_parts(parts: &[(String, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (path, bytes) in parts {
        z.start_file(path.as_str(), options).map_err(std::io::Error::other)?;
        z.write_all(bytes)?;
    }
    Ok(z.finish().map_err(std::io::Error::other)?.into_inner())
}

/// The bytes of an XLSX workbook with one sheet.
pub fn xlsx_bytes(header: &[&str], rows: &[Vec<Cell>]) -> std::io::Result<Vec<u8>> {
    zip_parts(&xlsx_parts(header, rows))
}

/// Writes an XLSX export.
pub fn write_xlsx(dir: &Path, name: &str, header: &[&str], rows: &[Vec<Cell>]) -> std::io::Result<PathBuf> {
    write_atomic(dir, name, &xlsx_bytes(header, rows)?)
}
