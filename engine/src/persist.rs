//! The snapshot file: what the engine holds (cases and their events, the per-day cells, the ticker,
//! last patrols, the safety figures, the horizon) and where in the store's history it stands, so that
//! a restart loads it and takes only the events stored after it. The live counters are counted again
//! from the cases on load; the cells are read (counting a city-year's cases again takes seconds), and
//! the tests hold read cells equal to counted ones.
//!
//! Layout: the magic `CKPTENG\0`, the format version (u32), the body, then the body's CRC-32 and length.
//! Everything little-endian. A file that is truncated, of another version, counted on another region
//! tree or whose checksum does not match is refused with the reason; the caller rebuilds from the store.
use crate::cases::{Case, Ev, Names};
use crate::engine::{Engine, Tick};
use crate::tree::RegionTree;
use std::io::{self, Read, Write};
use std::sync::Arc;

pub const MAGIC: &[u8; 8] = b"CKPTENG\0";
/// Bump on any change of what is written or of what the counters mean.
pub const VERSION: u32 = 5;

#[derive(Debug)]
pub enum LoadError {
    Io(io::Error),
    NotASnapshot,
    Version { found: u32, want: u32 },
    OtherTree,
    Checksum,
    Corrupt(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof => f.write_str("the file ends too soon (truncated)"),
            LoadError::Io(e) => write!(f, "cannot read it: {e}"),
            LoadError::NotASnapshot => f.write_str("not an engine snapshot"),
            LoadError::Version { found, want } => write!(f, "format version {found}, this server reads {want}"),
            LoadError::OtherTree => f.write_str("counted on another region tree"),
            LoadError::Checksum => f.write_str("checksum mismatch (damaged)"),
            LoadError::Corrupt(w) => write!(f, "inconsistent: {w}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<io::Error> for LoadError {
    fn from(e: io::Error) -> Self {
        LoadError::Io(e)
    }
}

pub struct Writer<W: Write> {
    w: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Writer<W> {
    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.crc.update(b);
        self.len += b.len() as u64;
        self.w.write_all(b)
    }
    pub fn u8(&mut self, v: u8) -> io::Result<()> {
        self.bytes(&[v])
    }
    pub fn u16(&mut self, v: u16) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    pub fn u32(&mut self, v: u32) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    pub fn u64(&mut self, v: u64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    pub fn i64(&mut self, v: i64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    pub fn f64(&mut self, v: f64) -> io::Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    pub fn str(&mut self, s: &str) -> io::Result<()> {
        self.u32(s.len() as u32)?;
        self.bytes(s.as_bytes())
    }
    pub fn opt_i64(&mut self, v: Option<i64>) -> io::Result<()> {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1)?;
                self.i64(x)
            }
        }
    }
}

pub struct Reader<R: Read> {
    r: R,
    crc: crc32fast::Hasher,
    /// Bytes the body may still hold: no count or length read from a damaged file may ask for more.
    left: u64,
}

impl<R: Read> Reader<R> {
    pub fn bytes(&mut self, n: usize) -> Result<Vec<u8>, LoadError> {
        if n as u64 > self.left {
            return Err(LoadError::Corrupt(format!("a length of {n} bytes runs past the end")));
        }
        let mut b = vec![0; n];
        self.r.read_exact(&mut b)?;
        self.crc.update(&b);
        self.left -= n as u64;
        Ok(b)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], LoadError> {
        if N as u64 > self.left {
            return Err(LoadError::Corrupt("a value runs past the end".into()));
        }
        let mut b = [0u8; N];
        self.r.read_exact(&mut b)?;
        self.crc.update(&b);
        self.left -= N as u64;
        Ok(b)
    }
    pub fn u8(&mut self) -> Result<u8, LoadError> {
        Ok(self.array::<1>()?[0])
    }
    pub fn u16(&mut self) -> Result<u16, LoadError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, LoadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, LoadError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn i64(&mut self) -> Result<i64, LoadError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    pub fn f64(&mut self) -> Result<f64, LoadError> {
        Ok(f64::from_le_bytes(self.array()?))
    }
    pub fn str(&mut self) -> Result<String, LoadError> {
        let n = self.u32()? as usize;
        String::from_utf8(self.bytes(n)?).map_err(|_| LoadError::Corrupt("text that is not UTF-8".into()))
    }
    /// Bytes the body still holds.
    pub fn left(&self) -> u64 {
        self.left
    }

    pub fn opt_i64(&mut self) -> Result<Option<i64>, LoadError> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.i64()?)),
            x => Err(LoadError::Corrupt(format!("option tag {x}"))),
        }
    }
    /// A count of items of at least `min_size` bytes each.
    pub fn count(&mut self, min_size: u64) -> Result<usize, LoadError> {
        let n = self.u64()?;
        if n.saturating_mul(min_size.max(1)) > self.left {
            return Err(LoadError::Corrupt(format!("{n} items cannot fit in what is left")));
        }
        Ok(n as usize)
    }
}

fn enum_index<T: PartialEq + Copy>(all: &[T], v: T) -> u8 {
    all.iter().position(|&x| x == v).expect("every value is listed") as u8
}

fn enum_at<T: Copy>(all: &[T], i: u8, what: &str) -> Result<T, LoadError> {
    all.get(usize::from(i)).copied().ok_or_else(|| LoadError::Corrupt(format!("unknown {what} {i}")))
}

impl Engine {
    /// Writes the snapshot with the store `positions` it stands at (name, last id taken).
    pub fn save<W: Write>(&self, w: W, positions: &[(String, i64)]) -> io::Result<()> {
        use app::flow::{Action, Priority};
        use app::model::{Category, Source};
        let mut w = w;
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_le_bytes())?;
        let mut b = Writer { w, crc: crc32fast::Hasher::new(), len: 0 };
        b.u64(self.tree.fingerprint())?;
        b.i64(self.swept_to)?;
        b.opt_i64(self.first_report)?;
        b.u64(positions.len() as u64)?;
        for (name, at) in positions {
            b.str(name)?;
            b.i64(*at)?;
        }
        for names in [&self.cases.feeds, &self.cases.departments] {
            b.u64(names.len() as u64)?;
            for n in names.all() {
                b.str(n)?;
            }
        }
        b.u64(self.cases.len() as u64)?;
        for c in &self.cases.all {
            b.u16(c.feed)?;
            b.str(&c.id)?;
            b.u32(c.grid)?;
            b.u8(c.category.index() as u8)?;
            b.u8(enum_index(&Source::ALL, c.source))?;
            b.u8(enum_index(&Priority::ALL, c.priority))?;
            b.u16(c.department)?;
            b.i64(c.reported_at)?;
            b.i64(c.warn_at)?;
            b.i64(c.deadline)?;
            b.u32(c.events.len() as u32)?;
            for e in &c.events {
                b.i64(e.at)?;
                b.u32(e.seq)?;
                b.u16(e.code())?;
            }
        }
        let _ = Category::ALL;
        b.u64(self.ticker.len() as u64)?;
        for t in &self.ticker {
            b.u32(t.case)?;
            b.u8(enum_index(&Action::ALL, t.action))?;
            b.i64(t.at)?;
        }
        b.u64(self.last_patrol.len() as u64)?;
        for p in &self.last_patrol {
            b.opt_i64(*p)?;
        }
        self.safety.save(&mut b)?;
        self.cells.save(&mut b)?;
        let (crc, len) = (b.crc.clone().finalize(), b.len);
        let mut w = b.w;
        w.write_all(&crc.to_le_bytes())?;
        w.write_all(&len.to_le_bytes())?;
        w.flush()
    }

    /// Reads a snapshot of `size` bytes for `tree`; the engine and the store positions it stands at.
    pub fn load<R: Read>(tree: Arc<RegionTree>, r: R, size: u64) -> Result<(Engine, Vec<(String, i64)>), LoadError> {
        use app::flow::{Action, Priority};
        use app::model::{Category, Source};
        let mut r = r;
        let mut head = [0u8; 12];
        r.read_exact(&mut head).map_err(|_| LoadError::NotASnapshot)?;
        if &head[..8] != MAGIC {
            return Err(LoadError::NotASnapshot);
        }
        let found = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        if found != VERSION {
            return Err(LoadError::Version { found, want: VERSION });
        }
        let body = size.saturating_sub(12 + 12);
        let mut b = Reader { r, crc: crc32fast::Hasher::new(), left: body };
        if b.u64()? != tree.fingerprint() {
            return Err(LoadError::OtherTree);
        }
        let swept_to = b.i64()?;
        let first_report = b.opt_i64()?;
        let mut positions = Vec::new();
        for _ in 0..b.count(12)? {
            positions.push((b.str()?, b.i64()?));
        }
        let mut names = || -> Result<Names, LoadError> {
            let mut n = Names::new();
            let count = b.count(4)?;
            for i in 0..count {
                let s = b.str()?;
                if i > 0 && n.intern(&s) as usize != i {
                    return Err(LoadError::Corrupt("a name twice".into()));
                }
            }
            Ok(n)
        };
        let feeds = names()?;
        let departments = names()?;
        let ncases = b.count(40)?;
        let mut cases = Vec::with_capacity(ncases);
        for _ in 0..ncases {
            let feed = b.u16()?;
            let id = b.str()?;
            let grid = b.u32()?;
            if grid as usize >= tree.len() || tree.get(grid as usize).row.grid.is_none() {
                return Err(LoadError::Corrupt(format!("case {id} in region {grid}, not a grid")));
            }
            let category = enum_at(&Category::ALL, b.u8()?, "category")?;
            let source = enum_at(&Source::ALL, b.u8()?, "source")?;
            let priority = enum_at(&Priority::ALL, b.u8()?, "priority")?;
            let department = b.u16()?;
            if usize::from(feed) >= feeds.len() || usize::from(department) >= departments.len() {
                return Err(LoadError::Corrupt(format!("case {id} names an unknown feed or department")));
            }
            let (reported_at, warn_at, deadline) = (b.i64()?, b.i64()?, b.i64()?);
            let nev = b.u32()? as usize;
            if nev as u64 * 14 > b.left {
                return Err(LoadError::Corrupt("more events than the file holds".into()));
            }
            let mut events = crate::cases::Events::with_capacity(nev);
            for _ in 0..nev {
                let (at, seq, code) = (b.i64()?, b.u32()?, b.u16()?);
                let e = Ev::from_parts(at, seq, code);
                if usize::from(code >> 1 & 0xf) >= Action::ALL.len() || usize::from(code >> 5 & 7) >= 7 || (code >> 8) > 12 {
                    return Err(LoadError::Corrupt(format!("case {id}: an event code {code}")));
                }
                events.push(e);
            }
            cases.push(Case { feed, id: id.into(), grid, category, source, priority, department, reported_at, warn_at, deadline, events });
        }
        let mut ticker = Vec::new();
        for _ in 0..b.count(13)? {
            let case = b.u32()?;
            let action = enum_at(&Action::ALL, b.u8()?, "action")?;
            let at = b.i64()?;
            if case as usize >= ncases {
                return Err(LoadError::Corrupt("a ticker line of no case".into()));
            }
            ticker.push(Tick { case, action, at });
        }
        let n = b.count(1)?;
        if n != tree.len() {
            return Err(LoadError::OtherTree);
        }
        let mut last_patrol = Vec::with_capacity(n);
        for _ in 0..n {
            last_patrol.push(b.opt_i64()?);
        }
        let safety = crate::safety::Safety::load(&mut b, &tree)?;
        let cells = crate::cells::Cells::load(&mut b, &tree)?;
        let crc = b.crc.clone().finalize();
        let mut tail = [0u8; 12];
        b.r.read_exact(&mut tail)?;
        if b.left != 0 || u32::from_le_bytes(tail[..4].try_into().expect("4")) != crc || u64::from_le_bytes(tail[4..].try_into().expect("8")) != body {
            return Err(LoadError::Checksum);
        }
        let mut e = Engine::new(tree);
        e.restore(feeds, departments, cases, ticker, last_patrol, safety, swept_to, first_report, cells)?;
        Ok((e, positions))
    }
}
