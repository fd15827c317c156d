//! How much a zipped spreadsheet (.xlsx, .ods) becomes once unzipped,
//! measured before calamine reads it.
//!
//! A 2 MiB upload can unzip to gigabytes: XML that is one huge cell, millions
//! of empty rows, or whitespace in front of a valid table. calamine reads the
//! parts it needs whole or as one event (a shared string, a text node), so a
//! bomb costs minutes of CPU and gigabytes of memory before anything says no.
//! This reads every XML part once as a stream, through a meter that stops at
//! the cap, and counts what the parsers would hold: bytes, cells, rows and
//! the characters of each cell. Memory stays at one XML event (at most the
//! byte cap) whatever the file says about itself; sizes the zip declares are
//! only used to refuse early, never trusted to pass.

use std::fmt;
use std::io::{BufReader, Cursor, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

/// Unzipped bytes of all XML parts together. A session's sheet is tens of
/// kilobytes unzipped; a stray export of a few thousand rows a few MB.
/// Reading this much takes well under a second.
pub const MAX_UNZIPPED_BYTES: u64 = 16 * 1024 * 1024;
/// Unzipped size over file size, once the parts exceed [`RATIO_FLOOR`]:
/// spreadsheet XML compresses 5-20 times, 200 only when it repeats itself.
pub const MAX_RATIO: u64 = 200;
/// Small packages compress as they like: the ratio says nothing below this.
const RATIO_FLOOR: u64 = 1024 * 1024;
/// Cell elements (and shared strings) in the whole package. Each costs the
/// parser a few dozen bytes; a session sheet has a few hundred.
pub const MAX_CELLS: u64 = 500_000;
/// Row elements in the whole package; Excel writes one per row with content
/// or a custom format, so a real sheet has hundreds.
pub const MAX_ROWS: u64 = 200_000;
/// Characters in one cell: Excel's own limit.
pub const MAX_CELL_CHARS: u64 = 32_767;

/// What was too big, in words for the person who uploaded the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oversize {
    /// The XML parts unzip to more than `max` bytes.
    Unzipped { max: u64 },
    /// `unzipped` bytes out of a `file`-byte upload.
    Ratio { unzipped: u64, file: u64 },
    /// More than `max` cells.
    Cells { max: u64 },
    /// More than `max` rows.
    Rows { max: u64 },
    /// One cell (of `part`) holds more than `max` characters.
    CellText { part: String, max: u64 },
    /// An .xls sheet spans more than `max` cells once its extent is
    /// allocated (first to last cell, or its declared dimensions).
    SheetExtent { cells: u64, max: u64 },
}

impl fmt::Display for Oversize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Oversize::Unzipped { max } => write!(
                f,
                "its sheets unzip to more than {} MB, and an import reads at most {} MB",
                max / (1024 * 1024),
                max / (1024 * 1024)
            ),
            Oversize::Ratio { unzipped, file } => write!(
                f,
                "it unzips to {} times its size ({} KB from {} KB), and an import allows at most {MAX_RATIO} times",
                unzipped / (*file).max(1),
                unzipped.div_ceil(1024),
                file.div_ceil(1024)
            ),
            Oversize::Cells { max } => write!(f, "it has more than {max} cells, and an import reads at most {max}"),
            Oversize::Rows { max } => write!(f, "it has more than {max} rows, and an import reads at most {max}"),
            Oversize::CellText { part, max } => write!(
                f,
                "a cell in {part} holds more than {max} characters, the most a cell may hold"
            ),
            Oversize::SheetExtent { cells, max } => write!(
                f,
                "its sheets span {cells} cells from the first to the last used one, and an import reads at most {max}"
            ),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum PackageSize {
    Fits,
    TooBig(Oversize),
    /// Not a zip (calamine will say so in its own way).
    Unreadable,
}

/// Measures every XML part of a zipped spreadsheet.
pub fn measure(bytes: &[u8]) -> PackageSize {
    let Ok(mut zip) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return PackageSize::Unreadable;
    };
    let file = bytes.len() as u64;
    // What the zip declares: enough to refuse, never to accept.
    let declared: u64 = (0..zip.len())
        .filter_map(|i| zip.by_index_raw(i).ok().map(|e| (part_path(&e), e.size())))
        .filter(|(name, _)| is_xml(name))
        .fold(0u64, |sum, (_, size)| sum.saturating_add(size));
    if declared > MAX_UNZIPPED_BYTES {
        return PackageSize::TooBig(Oversize::Unzipped {
            max: MAX_UNZIPPED_BYTES,
        });
    }
    let mut count = Count::default();
    for i in 0..zip.len() {
        let Ok(entry) = zip.by_index(i) else {
            return PackageSize::Unreadable;
        };
        let name = part_path(&entry);
        if !is_xml(&name) {
            continue;
        }
        let left = MAX_UNZIPPED_BYTES - count.bytes;
        let mut meter = Meter {
            inner: entry,
            read: 0,
            limit: left,
        };
        let outcome = count.part(&name, &mut meter);
        // A part the XML reader gave up on is still read to its end: calamine
        // may be more lenient, and its size must be known either way.
        if outcome == Ok(Parsed::Broken) {
            let _ = std::io::copy(&mut meter, &mut std::io::sink());
        }
        // Checked first: a part cut off at the cap also looks like broken XML.
        if meter.read > left {
            return PackageSize::TooBig(Oversize::Unzipped {
                max: MAX_UNZIPPED_BYTES,
            });
        }
        count.bytes += meter.read;
        if let Err(too_big) = outcome {
            return PackageSize::TooBig(too_big);
        }
    }
    if count.bytes > RATIO_FLOOR && count.bytes / file.max(1) > MAX_RATIO {
        return PackageSize::TooBig(Oversize::Ratio {
            unzipped: count.bytes,
            file,
        });
    }
    PackageSize::Fits
}

/// The part's path as calamine looks it up (names are UTF-8 in OOXML and ODS).
fn part_path<R: Read>(entry: &zip::read::ZipFile<'_, R>) -> String {
    String::from_utf8_lossy(entry.name_raw()).into_owned()
}

/// The parts calamine parses: workbook, sheets, shared strings, styles, relations.
fn is_xml(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with(".xml") || name.ends_with(".rels")
}

/// A reader that ends one byte past `limit`, counting what it gave out.
struct Meter<R> {
    inner: R,
    read: u64,
    limit: u64,
}

impl<R: Read> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = (self.limit + 1).saturating_sub(self.read);
        if room == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Running totals over the package.
#[derive(Default)]
struct Count {
    bytes: u64,
    cells: u64,
    rows: u64,
}

/// How far the XML reader followed a part.
#[derive(PartialEq, Eq)]
enum Parsed {
    Whole,
    /// Not XML it could follow: left to calamine, which says so its own way.
    Broken,
}

impl Count {
    fn part(&mut self, name: &str, source: impl Read) -> Result<Parsed, Oversize> {
        let mut reader = Reader::from_reader(BufReader::new(source));
        let mut buf = Vec::new();
        // Characters of the open cell (xlsx `c`, shared string `si`, ods `table-cell`).
        let mut cell: Option<u64> = None;
        loop {
            let Ok(event) = reader.read_event_into(&mut buf) else {
                return Ok(Parsed::Broken);
            };
            let added = match event {
                Event::Eof => return Ok(Parsed::Whole),
                Event::Start(e) => {
                    if self.element(e.local_name().into_inner())? {
                        cell = Some(0);
                    }
                    0
                }
                Event::Empty(e) => {
                    self.element(e.local_name().into_inner())?;
                    0
                }
                Event::End(e) => {
                    if is_cell(e.local_name().into_inner()) {
                        cell = None;
                    }
                    0
                }
                Event::Text(t) => chars(&t.into_inner()),
                Event::CData(t) => chars(&t.into_inner()),
                Event::GeneralRef(_) => 1,
                _ => 0,
            };
            if let Some(open) = cell.as_mut() {
                *open += added;
                if *open > MAX_CELL_CHARS {
                    return Err(Oversize::CellText {
                        part: part_name(name),
                        max: MAX_CELL_CHARS,
                    });
                }
            }
            buf.clear();
        }
    }

    /// Counts a row or cell element; true for a cell.
    fn element(&mut self, local: &str) -> Result<bool, Oversize> {
        if is_row(local) {
            self.rows += 1;
            if self.rows > MAX_ROWS {
                return Err(Oversize::Rows { max: MAX_ROWS });
            }
        }
        if !is_cell(local) {
            return Ok(false);
        }
        self.cells += 1;
        if self.cells > MAX_CELLS {
            return Err(Oversize::Cells { max: MAX_CELLS });
        }
        Ok(true)
    }
}

/// xlsx `row`, ods `table-row`.
fn is_row(local: &str) -> bool {
    local == "row" || local == "table-row"
}

/// xlsx `c` and shared string `si`, ods `table-cell` and `covered-table-cell`.
fn is_cell(local: &str) -> bool {
    matches!(local, "c" | "si" | "table-cell" | "covered-table-cell")
}

fn chars(text: &str) -> u64 {
    text.chars().count() as u64
}

/// A part as a person knows it: `xl/worksheets/sheet1.xml` is "sheet1".
fn part_name(name: &str) -> String {
    let file = name.rsplit('/').next().unwrap_or(name);
    match file.strip_suffix(".xml").unwrap_or(file) {
        "sharedStrings" => "the shared text of the workbook".to_owned(),
        "content" => "the sheets".to_owned(),
        stem => format!("part {stem}"),
    }
}
