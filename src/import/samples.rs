//! Workbooks built in memory: a minimal `.xlsx` with a table, optionally
//! padded into a decompression bomb. The tests and `flashsale-bench import`
//! use the same files, so the figures the bench reports are for the files the
//! tests refuse. Not used by the bot itself.

use std::io::{Cursor, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

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
