//! A resident's photo: a JPEG or PNG of at most `MAX_BYTES`, recognised by its bytes (never by the name
//! or type the browser declares), walked segment by segment and rewritten without what a camera or an
//! editor adds about the picture: EXIF (with its GPS position, time and device), XMP, IPTC, ICC profiles,
//! comments, PNG text chunks and times, and anything after the image's end. The pixels are not decoded
//! or re-encoded: the image data is copied as it came, so nothing a decoder would trip on is produced
//! here, and a file whose structure does not hold is refused rather than half-kept.

/// Largest photo taken (bytes).
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Largest side taken (pixels): beyond it a phone photo is not what was sent.
const MAX_SIDE: u32 = 12_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Photo {
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
    /// The image without its metadata.
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoError {
    TooLarge,
    /// Not a JPEG or PNG, or one whose structure does not hold.
    NotAnImage,
}

/// Whether `t` has the shape of a held photo's token (`auth::token::new_token`: 64 hex digits).
pub fn is_token(t: &str) -> bool {
    t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks and cleans an uploaded photo.
pub fn clean(bytes: &[u8]) -> Result<Photo, PhotoError> {
    if bytes.len() > MAX_BYTES {
        return Err(PhotoError::TooLarge);
    }
    let photo = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        jpeg(bytes)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        png(bytes)
    } else {
        None
    };
    photo.filter(|p| (1..=MAX_SIDE).contains(&p.width) && (1..=MAX_SIDE).contains(&p.height)).ok_or(PhotoError::NotAnImage)
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]) as usize)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Segments kept: the ones a decoder needs (tables, frame, scan, restart interval) and the two whose
/// absence changes how the pixels read (JFIF's APP0, Adobe's APP14 colour transform).
fn jpeg_keeps(marker: u8) -> Option<bool> {
    match marker {
        0xC0..=0xCF | 0xDB | 0xDD | 0xE0 | 0xEE => Some(true),
        // APP1..APP13, APP15 (EXIF, XMP, ICC, IPTC, makers' notes) and comments.
        0xE1..=0xED | 0xEF | 0xFE => Some(false),
        // DNL, DHP, EXP and anything else: not what a camera writes; refused rather than guessed.
        _ => None,
    }
}

fn jpeg(b: &[u8]) -> Option<Photo> {
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2;
    let mut size = None;
    loop {
        // A marker: 0xFF, possibly padded with more 0xFF, then its code.
        if *b.get(at)? != 0xFF {
            return None;
        }
        while *b.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at)?;
        at += 1;
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            let (width, height) = size?;
            return Some(Photo { mime: "image/jpeg", width, height, bytes: out });
        }
        let len = be16(b, at)?;
        if len < 2 {
            return None;
        }
        let segment = b.get(at..at + len)?;
        at += len;
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            // Precision, height, width.
            size = Some((be16(segment, 5)? as u32, be16(segment, 3)? as u32));
        }
        if marker == 0xDA {
            size?;
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
            // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
            let start = at;
            loop {
                if *b.get(at)? == 0xFF {
                    let next = *b.get(at + 1)?;
                    if next != 0x00 && !(0xD0..=0xD7).contains(&next) && next != 0xFF {
                        break;
                    }
                }
                at += 1;
            }
            out.extend_from_slice(&b[start..at]);
            continue;
        }
        if jpeg_keeps(marker)? {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(segment);
        }
    }
}

const PNG_SIGNATURE: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Ancillary chunks kept: how the pixels are to be shown, nothing about who, where or when.
const PNG_KEEPS: &[&[u8; 4]] = &[b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD", b"pHYs"];

fn png(b: &[u8]) -> Option<Photo> {
    let mut out = PNG_SIGNATURE.to_vec();
    let mut at = PNG_SIGNATURE.len();
    let mut size = None;
    loop {
        let len = be32(b, at)? as usize;
        let kind: [u8; 4] = b.get(at + 4..at + 8)?.try_into().ok()?;
        let data = b.get(at + 8..at + 8 + len)?;
        let crc = be32(b, at + 8 + len)?;
        let whole = &b[at..at + 12 + len];
        at += 12 + len;
        if crc32fast::hash(&whole[4..8 + len]) != crc {
            return None;
        }
        match &kind {
            b"IHDR" => {
                if size.is_some() || len != 13 {
                    return None;
                }
                size = Some((be32(data, 0)?, be32(data, 4)?));
            }
            _ if size.is_none() => return None,
            b"IEND" => {
                out.extend_from_slice(whole);
                let (width, height) = size?;
                return Some(Photo { mime: "image/png", width, height, bytes: out });
            }
            _ => {}
        }
        let critical = kind[0].is_ascii_uppercase();
        if critical {
            if !matches!(&kind, b"IHDR" | b"PLTE" | b"IDAT") {
                return None;
            }
            out.extend_from_slice(whole);
        } else if PNG_KEEPS.contains(&&kind) {
            out.extend_from_slice(whole);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    /// A JPEG as a phone writes one: JFIF, EXIF with a GPS position, XMP, a comment, the tables, a
    /// frame of 640×480, a scan whose data holds stuffed bytes and a restart marker, and bytes after
    /// the end.
    fn phone_jpeg() -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        j.extend(segment(0xE1, b"Exif\0\0GPS 30.0023N 120.5821E Xiaomi 14 2026:12:01 08:00"));
        j.extend(segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>owner</x:xmpmeta>"));
        j.extend(segment(0xFE, b"taken by Zhang San"));
        j.extend(segment(0xDB, &[0u8; 65]));
        j.extend(segment(0xC0, &[8, 0x01, 0xE0, 0x02, 0x80, 1, 1, 0x11, 0]));
        j.extend(segment(0xC4, &[0u8; 20]));
        j.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        j.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78]);
        j.extend_from_slice(&[0xFF, 0xD9]);
        j.extend_from_slice(b"trailing: Zhang San 13800000000");
        j
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_jpeg_keeps_its_pixels_and_loses_what_the_camera_wrote_about_it() {
        let j = phone_jpeg();
        let p = clean(&j).unwrap();
        assert_eq!((p.mime, p.width, p.height), ("image/jpeg", 640, 480));
        for secret in [&b"GPS"[..], b"xmpmeta", b"Zhang San", b"Exif", b"13800000000"] {
            assert!(contains(&j, secret) && !contains(&p.bytes, secret), "{}", String::from_utf8_lossy(secret));
        }
        // The scan data, stuffed bytes and restart marker included, is copied as it came.
        assert!(contains(&p.bytes, &[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78, 0xFF, 0xD9]));
        assert!(p.bytes.starts_with(&[0xFF, 0xD8, 0xFF, 0xE0]) && p.bytes.ends_with(&[0xFF, 0xD9]));
        // Cleaning what is clean changes nothing.
        assert_eq!(clean(&p.bytes).unwrap(), p);
    }

    #[test]
    fn a_broken_or_foreign_file_is_refused() {
        let j = phone_jpeg();
        let end = j.len() - b"trailing: Zhang San 13800000000".len();
        // Cut inside the scan, before the end marker.
        assert_eq!(clean(&j[..end - 4]), Err(PhotoError::NotAnImage));
        // A segment length running past the end.
        let mut bad = j.clone();
        bad[4] = 0xFF;
        assert_eq!(clean(&bad), Err(PhotoError::NotAnImage));
        // No frame before the scan.
        let mut no_frame = vec![0xFF, 0xD8];
        no_frame.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
        no_frame.extend_from_slice(&[0xFF, 0xD9]);
        assert_eq!(clean(&no_frame), Err(PhotoError::NotAnImage));
        for other in [&b"GIF89a\x01\0\x01\0"[..], b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"%PDF-1.7", b""] {
            assert_eq!(clean(other), Err(PhotoError::NotAnImage));
        }
        let mut big = j.clone();
        big.resize(MAX_BYTES + 1, 0);
        assert_eq!(clean(&big), Err(PhotoError::TooLarge));
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&crc32fast::hash(&c[4..]).to_be_bytes());
        c
    }

    fn png_with(chunks: &[Vec<u8>]) -> Vec<u8> {
        let mut p = PNG_SIGNATURE.to_vec();
        for c in chunks {
            p.extend_from_slice(c);
        }
        p
    }

    #[test]
    fn a_png_loses_its_text_and_time_and_keeps_how_it_is_drawn() {
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        let idat = chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3]);
        let p = png_with(&[
            ihdr.clone(),
            chunk(b"tEXt", b"Author\0Li Si"),
            chunk(b"eXIf", b"MM\0*GPS 30.0N"),
            chunk(b"tIME", &[7, 234, 12, 1, 8, 0, 0]),
            chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]),
            idat.clone(),
            chunk(b"iTXt", b"Comment\0\0\0\0\0Wang Wu"),
            chunk(b"IEND", &[]),
        ]);
        let c = clean(&p).unwrap();
        assert_eq!((c.mime, c.width, c.height), ("image/png", 3, 2));
        assert_eq!(c.bytes, png_with(&[ihdr, chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]), idat, chunk(b"IEND", &[])]));
        for secret in [&b"Li Si"[..], b"GPS", b"Wang Wu", b"tIME"] {
            assert!(!contains(&c.bytes, secret));
        }
    }

    #[test]
    fn a_png_with_a_bad_checksum_a_missing_end_or_an_unknown_critical_chunk_is_refused() {
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        let idat = chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3]);
        let mut corrupt = idat.clone();
        corrupt[9] ^= 1;
        let huge = chunk(b"IHDR", &[0, 0, 0x2F, 0, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
        for bad in [
            png_with(&[ihdr.clone(), corrupt, chunk(b"IEND", &[])]),
            png_with(&[ihdr.clone(), idat.clone()]),
            png_with(&[ihdr.clone(), chunk(b"ZZZZ", &[1]), idat.clone(), chunk(b"IEND", &[])]),
            png_with(&[idat.clone(), chunk(b"IEND", &[])]),
            png_with(&[huge, idat, chunk(b"IEND", &[])]),
        ] {
            assert_eq!(clean(&bad), Err(PhotoError::NotAnImage));
        }
    }
}
