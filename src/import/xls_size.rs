//! How much an `.xls` asks calamine to allocate, measured before calamine
//! opens it.
//!
//! An `.xls` is a compound document (a small FAT file system) holding the
//! `Workbook` stream of BIFF records. Nothing in it is compressed, so its
//! strings and records are bounded by the 2 MiB upload. What is not bounded
//! is what calamine allocates from a few numbers, for every sheet as soon as
//! the file is opened: room for every cell the sheet's DIMENSIONS record
//! declares (up to 2^32 rows: enough to abort the process), and a dense grid
//! from the first to the last used cell, for the values and again for the
//! formulas (two cells at A1 and IV65536 make 16.7 million). This finds the
//! stream the way calamine does, walks the same records, and adds those
//! areas up over all sheets.

/// Cells calamine may lay out over all sheets (declared, values and formulas):
/// a real sheet's used area counts about twice. About 32 bytes each.
pub const MAX_SHEET_CELLS: u64 = 2_000_000;

#[derive(Debug, PartialEq, Eq)]
pub enum XlsSize {
    Fits,
    /// The sheets would be laid out over `cells` cells.
    TooBig {
        cells: u64,
    },
    /// Not a compound document with a workbook stream (left to calamine).
    Unreadable,
}

pub fn measure(file: &[u8]) -> XlsSize {
    match workbook_stream(file) {
        Some(stream) => measure_stream(&stream),
        None => XlsSize::Unreadable,
    }
}

/// Sector ids at or above this are markers (end of chain, free, FAT, DIFAT).
const MAX_REGULAR_SECTOR: u32 = 0xFFFF_FFFA;
/// calamine reads a stream shorter than this from the mini stream.
const MINI_CUTOFF: u64 = 4096;
const MINI_SECTOR: usize = 64;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The compound document's sectors and their allocation table.
struct Cfb<'a> {
    file: &'a [u8],
    sector: usize,
    fat: Vec<u32>,
}

impl Cfb<'_> {
    fn sector(&self, id: u32) -> Option<&[u8]> {
        let start = (id as usize).checked_add(1)?.checked_mul(self.sector)?;
        self.file.get(start..start.checked_add(self.sector)?)
    }

    /// Sectors in the file: no chain can be longer without looping.
    fn sectors(&self) -> usize {
        self.file.len() / self.sector
    }

    /// The bytes of the chain from `start`, at most `len`.
    fn chain(&self, start: u32, len: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut id = start;
        for _ in 0..self.sectors() {
            if id >= MAX_REGULAR_SECTOR || out.len() as u64 >= len {
                break;
            }
            let Some(bytes) = self.sector(id) else { break };
            out.extend_from_slice(bytes);
            id = self.fat.get(id as usize).copied().unwrap_or(u32::MAX);
        }
        out.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        out
    }
}

/// The `Workbook` (or older `Book`) stream, read as calamine reads it.
fn workbook_stream(file: &[u8]) -> Option<Vec<u8>> {
    let header = file.get(..512)?;
    let version = u16_at(header, 0x1A)?;
    let shift = u16_at(header, 0x1E)?;
    if !(7..=16).contains(&shift) {
        return None;
    }
    let mut cfb = Cfb {
        file,
        sector: 1 << shift,
        fat: Vec::new(),
    };
    // The FAT's own sectors: 109 in the header, the rest in the DIFAT chain.
    let mut fat_sectors: Vec<u32> = (0..109)
        .filter_map(|i| u32_at(header, 0x4C + 4 * i))
        .collect();
    let mut difat = u32_at(header, 0x44)?;
    for _ in 0..cfb.sectors() {
        if difat >= MAX_REGULAR_SECTOR {
            break;
        }
        let sector = cfb.sector(difat)?;
        let entries = cfb.sector / 4 - 1;
        fat_sectors.extend((0..entries).filter_map(|i| u32_at(sector, 4 * i)));
        difat = u32_at(sector, cfb.sector - 4)?;
    }
    let mut fat = Vec::new();
    for id in fat_sectors
        .into_iter()
        .filter(|id| *id < MAX_REGULAR_SECTOR)
    {
        // Entries past the file's last sector point nowhere.
        if fat.len() >= cfb.sectors() {
            break;
        }
        let sector = cfb.sector(id)?;
        fat.extend((0..cfb.sector / 4).filter_map(|i| u32_at(sector, 4 * i)));
    }
    cfb.fat = fat;
    let directory = cfb.chain(u32_at(header, 0x30)?, u64::MAX);
    let entries: Vec<(String, u32, u64)> = directory
        .chunks_exact(128)
        .map(|e| {
            let units: Vec<u16> = (0..32).filter_map(|i| u16_at(e, 2 * i)).collect();
            let name = String::from_utf16_lossy(&units);
            let name = name.split('\0').next().unwrap_or_default().to_owned();
            let size = u32_at(e, 120).map(u64::from).unwrap_or(0)
                | if version == 3 {
                    0
                } else {
                    u32_at(e, 124).map(|hi| u64::from(hi) << 32).unwrap_or(0)
                };
            (name, u32_at(e, 116).unwrap_or(u32::MAX), size)
        })
        .collect();
    let (root_start, root_size) = entries.first().map(|(_, s, l)| (*s, *l))?;
    let find = |wanted: &str| {
        entries
            .iter()
            .find(|(name, _, _)| name.eq_ignore_ascii_case(wanted))
    };
    let (_, start, size) = find("Workbook").or_else(|| find("Book"))?;
    // Nothing in the file can make a stream longer than the file.
    let size = (*size).min(file.len() as u64);
    if size >= MINI_CUTOFF {
        return Some(cfb.chain(*start, size));
    }
    let mini_stream = cfb.chain(root_start, root_size.min(file.len() as u64));
    let mini_fat: Vec<u32> = cfb
        .chain(u32_at(header, 0x3C)?, file.len() as u64)
        .chunks_exact(4)
        .filter_map(|c| u32_at(c, 0))
        .collect();
    let mut out = Vec::new();
    let mut id = *start;
    for _ in 0..mini_stream.len() / MINI_SECTOR {
        if id >= MAX_REGULAR_SECTOR || out.len() as u64 >= size {
            break;
        }
        let at = id as usize * MINI_SECTOR;
        out.extend_from_slice(mini_stream.get(at..at + MINI_SECTOR)?);
        id = mini_fat.get(id as usize).copied().unwrap_or(u32::MAX);
    }
    out.truncate(size as usize);
    Some(out)
}

/// One BIFF record: type and data.
fn records(stream: &[u8], from: usize) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = from;
    std::iter::from_fn(move || {
        let typ = u16_at(stream, at)?;
        let len = usize::from(u16_at(stream, at + 2)?);
        let data = stream.get(at + 4..at + 4 + len)?;
        at += 4 + len;
        Some((typ, data))
    })
}

/// The rectangle from the first to the last cell seen.
#[derive(Default)]
struct Extent(Option<(u32, u32, u32, u32)>);

impl Extent {
    fn add(&mut self, row: u32, column: u32) {
        let (r0, r1, c0, c1) = self.0.unwrap_or((row, row, column, column));
        self.0 = Some((r0.min(row), r1.max(row), c0.min(column), c1.max(column)));
    }

    fn cells(&self) -> u64 {
        self.0.map_or(0, |(r0, r1, c0, c1)| {
            u64::from(r1 - r0 + 1) * u64::from(c1 - c0 + 1)
        })
    }
}

/// Row and column of a cell record (both lead every BIFF cell record).
fn position(data: &[u8]) -> Option<(u32, u32)> {
    Some((u32::from(u16_at(data, 0)?), u32::from(u16_at(data, 2)?)))
}

/// calamine's reservation for a DIMENSIONS record (BIFF8's row bounds are 32-bit).
fn declared(data: &[u8]) -> u64 {
    let (first_row, last_row, first_column, last_column) = match data.len() {
        10 => (
            u16_at(data, 0).map(u32::from),
            u16_at(data, 2).map(u32::from),
            u16_at(data, 4),
            u16_at(data, 6),
        ),
        14 | 16 => (
            u32_at(data, 0),
            u32_at(data, 4),
            u16_at(data, 8),
            u16_at(data, 10),
        ),
        _ => return 0,
    };
    let (Some(first_row), Some(last_row), Some(mut first_column), Some(last_column)) =
        (first_row, last_row, first_column, last_column)
    else {
        return 0;
    };
    if first_column > 0xFF || last_column < first_column {
        first_column = 0;
    }
    if last_row < 1 || last_column < 1 {
        return 1;
    }
    let rows = u64::from(last_row.saturating_sub(first_row));
    let columns = u64::from(last_column.saturating_sub(first_column));
    rows.saturating_mul(columns)
}

fn measure_stream(stream: &[u8]) -> XlsSize {
    let mut sheets = Vec::new();
    for (typ, data) in records(stream, 0) {
        match typ {
            // BoundSheet8: where the sheet's records start.
            0x0085 => sheets.extend(u32_at(data, 0)),
            0x000A => break,
            _ => {}
        }
    }
    let mut total = 0u64;
    for at in sheets {
        let (mut values, mut formulas, mut reserved) = (Extent::default(), Extent::default(), 0u64);
        // Embedded charts carry cell-like records that calamine skips.
        let (mut seen_bof, mut depth) = (false, 0usize);
        for (typ, data) in records(stream, at as usize) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            match typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x0200 => reserved = reserved.saturating_add(declared(data)),
                // Number, Label, RString, BoolErr, Rk, LabelSst.
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD => {
                    if let Some((row, column)) = position(data) {
                        values.add(row, column);
                    }
                }
                // MulRk: a run of cells in one row.
                0x00BD => {
                    if let (Some((row, first)), Some(last)) =
                        (position(data), u16_at(data, data.len().saturating_sub(2)))
                    {
                        values.add(row, first);
                        values.add(row, u32::from(last).max(first));
                    }
                }
                0x0006 => {
                    if let Some((row, column)) = position(data) {
                        values.add(row, column);
                        formulas.add(row, column);
                    }
                }
                0x000A => break,
                _ => {}
            }
        }
        total = total
            .saturating_add(reserved)
            .saturating_add(values.cells())
            .saturating_add(formulas.cells());
        if total > MAX_SHEET_CELLS {
            return XlsSize::TooBig { cells: total };
        }
    }
    XlsSize::Fits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    fn number(row: u16, column: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend(column.to_le_bytes());
        data.extend([0u8; 10]);
        record(0x0203, &data)
    }

    fn dimensions(last_row: u32, last_column: u16) -> Vec<u8> {
        let mut data = 0u32.to_le_bytes().to_vec();
        data.extend(last_row.to_le_bytes());
        data.extend(0u16.to_le_bytes());
        data.extend(last_column.to_le_bytes());
        data.extend([0u8; 2]);
        record(0x0200, &data)
    }

    /// Globals naming one sheet, then the sheet's `cells`.
    fn stream(cells: &[Vec<u8>]) -> Vec<u8> {
        let bof = record(0x0809, &[0u8; 16]);
        let eof = record(0x000A, &[]);
        let globals_len = bof.len() + 4 + 8 + eof.len();
        let mut sheet_name = (globals_len as u32).to_le_bytes().to_vec();
        sheet_name.extend([0, 0, 1, 0]);
        let mut out = [bof.clone(), record(0x0085, &sheet_name), eof.clone()].concat();
        assert_eq!(out.len(), globals_len);
        out.extend(bof);
        for cell in cells {
            out.extend(cell);
        }
        out.extend(eof);
        out
    }

    #[test]
    fn a_small_sheet_fits() {
        let cells = [dimensions(7, 3), number(0, 0), number(6, 2)];
        assert_eq!(measure_stream(&stream(&cells)), XlsSize::Fits);
    }

    #[test]
    fn two_cells_in_opposite_corners_span_the_whole_grid() {
        let cells = [number(0, 0), number(65_535, 255)];
        assert_eq!(
            measure_stream(&stream(&cells)),
            XlsSize::TooBig {
                cells: 65_536 * 256
            }
        );
    }

    #[test]
    fn a_declared_extent_of_four_billion_rows_is_too_big() {
        let cells = [dimensions(u32::MAX, 256), number(0, 0)];
        assert!(matches!(
            measure_stream(&stream(&cells)),
            XlsSize::TooBig { cells } if cells > 1 << 39
        ));
    }

    #[test]
    fn what_is_no_compound_document_is_left_to_calamine() {
        assert_eq!(measure(b"not an xls"), XlsSize::Unreadable);
        assert_eq!(measure(&[0u8; 1024]), XlsSize::Unreadable);
    }
}
