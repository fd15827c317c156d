//! Workbooks built in memory: a minimal `.xlsx` with a table, optionally
//! padded into a decompression bomb. The tests and `flashsale-bench import`
//! use the same files, so the figures the bench reports are for the files the
//! tests refuse. Not used by the bot itself.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// A session's sheet: title, times and six good rows (the SKUs of the sample
/// catalog), as a bomb hides it so that only the size guards can refuse it.
pub const SESSION_TABLE: [&[&str]; 10] = [
    &["Title", "Sample sale"],
    &["Start", "tomorrow 12:00"],
    &["End", "tomorrow 14:00"],
    &["SKU", "Discount", "Qty"],
    &["FS-001", "30", "5"],
    &["FS-002", "30", "5"],
    &["FS-003", "30", "5"],
    &["FS-004", "30", "5"],
    &["FS-005", "30", "5"],
    &["FS-006", "30", "5"],
];

/// `SESSION_TABLE` as .xls cells: (row, column, text).
pub fn session_cells() -> Vec<(u16, u16, &'static str)> {
    (0u16..)
        .zip(SESSION_TABLE)
        .flat_map(|(row, cells)| (0u16..).zip(cells.iter()).map(move |(c, t)| (row, c, *t)))
        .collect()
}

/// How a workbook is made to unzip to far more than its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bomb {
    /// One cell (A1) of this many characters, then the table.
    HugeCell,
    /// This many bytes of empty row elements, then the table.
    EmptyRows,
    /// This many bytes of whitespace in the sheet's XML, then the table.
    Whitespace,
}

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
const DOC_RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
/// Bombs are written in chunks of this size, so building one holds only its zipped bytes.
const CHUNK: usize = 64 * 1024;

/// An `.xlsx` whose one sheet, "Plan", holds `rows` (as inline strings) after
/// `padding` bytes of `bomb`, if any.
pub fn xlsx(rows: &[&[&str]], padding: Option<(Bomb, u64)>) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .large_file(true);
    let part = |zip: &mut ZipWriter<_>, name: &str, xml: &str| -> zip::result::ZipResult<()> {
        zip.start_file(name, options)?;
        zip.write_all(xml.as_bytes())?;
        Ok(())
    };
    part(
        &mut zip,
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    )?;
    part(
        &mut zip,
        "_rels/.rels",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        ),
    )?;
    part(
        &mut zip,
        "xl/workbook.xml",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets><sheet name="Plan" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        ),
    )?;
    part(
        &mut zip,
        "xl/_rels/workbook.xml.rels",
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
        ),
    )?;
    zip.start_file("xl/worksheets/sheet1.xml", options)?;
    write!(
        zip,
        r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>"#
    )?;
    let mut next_row = 1u64;
    if let Some((bomb, bytes)) = padding {
        next_row = pad(&mut zip, bomb, bytes)?;
    }
    for cells in rows {
        write!(zip, r#"<row r="{next_row}">"#)?;
        for (column, text) in cells.iter().enumerate() {
            let letter = char::from(b'A' + (column % 26) as u8);
            write!(
                zip,
                r#"<c r="{letter}{next_row}" t="inlineStr"><is><t>{text}</t></is></c>"#
            )?;
        }
        write!(zip, "</row>")?;
        next_row += 1;
    }
    write!(zip, "</sheetData></worksheet>")?;
    Ok(zip.finish()?.into_inner())
}

/// Writes about `bytes` of `bomb`; returns the row the table starts on.
fn pad<W: Write + std::io::Seek>(
    zip: &mut ZipWriter<W>,
    bomb: Bomb,
    bytes: u64,
) -> zip::result::ZipResult<u64> {
    let mut written = 0u64;
    let mut row = 1u64;
    match bomb {
        Bomb::HugeCell => {
            write!(zip, r#"<row r="1"><c r="A1" t="inlineStr"><is><t>"#)?;
            let chunk = vec![b'x'; CHUNK];
            while written < bytes {
                zip.write_all(&chunk)?;
                written += CHUNK as u64;
            }
            write!(zip, "</t></is></c></row>")?;
            row = 2;
        }
        Bomb::Whitespace => {
            let chunk = vec![b' '; CHUNK];
            while written < bytes {
                zip.write_all(&chunk)?;
                written += CHUNK as u64;
            }
        }
        Bomb::EmptyRows => {
            let mut chunk = String::with_capacity(CHUNK + 32);
            while written < bytes {
                chunk.clear();
                while chunk.len() < CHUNK {
                    chunk.push_str(&format!(r#"<row r="{row}"/>"#));
                    row += 1;
                }
                zip.write_all(chunk.as_bytes())?;
                written += chunk.len() as u64;
            }
        }
    }
    Ok(row)
}

/// An `.xls` (BIFF8 in a version-3 compound document) whose one sheet,
/// "Plan", holds `cells` as (row, column, text); text that parses as a number
/// is written as a number. Small: the stream must fit 125 sectors.
pub fn xls(cells: &[(u16, u16, &str)]) -> Vec<u8> {
    let record = |typ: u16, data: &[u8]| -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    };
    let bof = |kind: u16| {
        let mut data = 0x0600u16.to_le_bytes().to_vec();
        data.extend(kind.to_le_bytes());
        data.extend([0u8; 12]);
        record(0x0809, &data)
    };
    let eof = record(0x000A, &[]);
    let name = b"Plan";
    let bound_sheet_len = 4 + 6 + 2 + name.len();
    let globals_len = bof(5).len() + bound_sheet_len + eof.len();
    let mut bound_sheet = (globals_len as u32).to_le_bytes().to_vec();
    bound_sheet.extend([0, 0, name.len() as u8, 0]);
    bound_sheet.extend(name);
    let mut stream = [bof(0x0005), record(0x0085, &bound_sheet), eof.clone()].concat();
    stream.extend(bof(0x0010));
    for (row, column, text) in cells {
        let mut data = row.to_le_bytes().to_vec();
        data.extend(column.to_le_bytes());
        data.extend(0u16.to_le_bytes());
        match text.parse::<f64>() {
            Ok(number) => {
                data.extend(number.to_le_bytes());
                stream.extend(record(0x0203, &data));
            }
            Err(_) => {
                data.extend((text.len() as u16).to_le_bytes());
                data.push(0);
                data.extend(text.bytes());
                stream.extend(record(0x0204, &data));
            }
        }
    }
    stream.extend(eof);
    compound_document(&stream)
}

/// A compound document with one stream, "Workbook": header, one FAT sector,
/// one directory sector, then the stream (padded past the mini-stream cutoff).
fn compound_document(stream: &[u8]) -> Vec<u8> {
    const SECTOR: usize = 512;
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    let mut stream = stream.to_vec();
    stream.resize(stream.len().max(4096).next_multiple_of(SECTOR), 0);
    let sectors = stream.len() / SECTOR;
    let mut header = vec![0u8; SECTOR];
    header[..8].copy_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    let mut put = |at: usize, bytes: &[u8]| header[at..at + bytes.len()].copy_from_slice(bytes);
    put(0x18, &0x3Eu16.to_le_bytes());
    put(0x1A, &3u16.to_le_bytes());
    put(0x1C, &0xFFFEu16.to_le_bytes());
    put(0x1E, &9u16.to_le_bytes());
    put(0x20, &6u16.to_le_bytes());
    put(0x2C, &1u32.to_le_bytes());
    put(0x30, &1u32.to_le_bytes());
    put(0x38, &4096u32.to_le_bytes());
    put(0x3C, &END.to_le_bytes());
    put(0x44, &END.to_le_bytes());
    put(0x4C, &0u32.to_le_bytes());
    for i in 1..109 {
        put(0x4C + 4 * i, &FREE.to_le_bytes());
    }
    // FAT: itself, the directory, then the stream's chain.
    let mut fat = vec![0xFFFF_FFFDu32, END];
    fat.extend((0..sectors as u32).map(|i| if i + 1 == sectors as u32 { END } else { i + 3 }));
    fat.resize(SECTOR / 4, FREE);
    let entry = |name: &str, kind: u8, child: u32, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        e[..units.len()].copy_from_slice(&units);
        e[64..66].copy_from_slice(&((units.len() + 2) as u16).to_le_bytes());
        e[66] = kind;
        e[67] = 1;
        e[68..72].copy_from_slice(&FREE.to_le_bytes());
        e[72..76].copy_from_slice(&FREE.to_le_bytes());
        e[76..80].copy_from_slice(&child.to_le_bytes());
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
        e
    };
    let mut directory = [
        entry("Root Entry", 5, 1, END, 0),
        entry("Workbook", 2, FREE, 2, stream.len() as u32),
    ]
    .concat();
    directory.resize(SECTOR, 0);
    for unused in directory[256..].chunks_mut(128) {
        unused[68..80].copy_from_slice(&[0xFF; 12]);
    }
    let mut out = header;
    out.extend(fat.iter().flat_map(|e| e.to_le_bytes()));
    out.extend(directory);
    out.extend(stream);
    out
}
