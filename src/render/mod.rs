//! Pictures for chat: a session's Flash Sale section drawn as shoppers will see it, and the day's
//! sessions as a timeline for the digest.
//!
//! This module owns the picture models ([`SaleSheet`], [`DaySheet`]), their layout as SVG, and the
//! rasterising of that SVG to PNG with resvg and the fonts we load ourselves (Debian's DejaVu, see
//! [`DEFAULT_FONT_DIR`]). It is pure: a model and a time zone in, an SVG string or PNG bytes out; no
//! browser, no network, no clock. Drawing text needs fonts, so [`Painter`] loads them once, lazily,
//! and a missing font is a [`RenderError`] like any other.
//!
//! The chat port carries a [`Picture`] (the model, cheap to clone), not pixels: adapters draw it off
//! the hot path with [`Painter::png_in_background`], which also logs and counts a failure, because a
//! sale is never held back by its picture.
//!
//! Layout:
//! - `sale`: the six tiles of one session, in the storefront's look (`src/devstore/page.rs`), with
//!   what the money guards saw drawn apart for approvers.
//! - `day`: sessions as bars in their windows over today and tomorrow, the free time visible.
//! - `svg`: the few SVG-writing helpers both share (escaping, fitting text to a width).

mod day;
mod sale;
mod svg;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono_tz::Tz;
use resvg::tiny_skia;
use resvg::usvg;
use serde::{Deserialize, Serialize};

pub use day::{Bar, BarTone, DaySheet, Held};
pub use sale::{
    band_area, guard_area, price_area, tile_area, Area, BudgetLeft, SaleSheet, SheetMoney, Tile,
    TileGuard, TileProblem,
};
pub use svg::escape;

/// Every picture has this size: what Discord and link previews show best (about 1.9 : 1).
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 630;
/// A bigger PNG would mean something went wrong (e.g. noise); Discord and the console need no more.
pub const MAX_PNG_BYTES: usize = 300 * 1024;
/// Debian's `fonts-dejavu-core` (`scripts/fonts.sh` and the Dockerfile install it).
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/truetype/dejavu";
/// The faces the layouts use; each must load, or no picture is drawn at all.
const FONT_FILES: [&str; 3] = [
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono.ttf",
];

/// A picture to attach to a chat message, as a model: adapters draw it when and if they can.
/// It stores as JSON with the message (the outbox), and draws the same after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Picture {
    /// One session's Flash Sale section.
    Sale(Arc<SaleSheet>),
    /// The digest's timeline.
    Day(Arc<DaySheet>),
}

impl Picture {
    /// `sale-12.png`, `digest-2026-11-27.png`: stable per subject, so a redrawn picture replaces the old one.
    pub fn file_name(&self) -> String {
        match self {
            Picture::Sale(sheet) => format!("sale-{}.png", sheet.session_id),
            Picture::Day(sheet) => format!("digest-{}.png", sheet.first_day),
        }
    }

    /// The metric label: which kind of picture.
    pub fn kind(&self) -> &'static str {
        match self {
            Picture::Sale(_) => "sale",
            Picture::Day(_) => "day",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("could not load the font {path}: {reason} (install Debian's fonts-dejavu-core or set PICTURE_FONT_DIR)")]
    Font { path: PathBuf, reason: String },
    #[error("the picture's SVG could not be read: {0}")]
    Svg(String),
    #[error("could not make a {WIDTH}x{HEIGHT} canvas")]
    Canvas,
    #[error("could not encode the PNG: {0}")]
    Encode(String),
    #[error("the PNG is {bytes} bytes; at most {MAX_PNG_BYTES} are allowed")]
    TooLarge { bytes: usize },
    #[error("the drawing task did not finish: {0}")]
    Task(String),
}

/// Draws pictures in one business time zone with the fonts of one folder. Cheap to clone; clones
/// share the fonts, which load on the first picture.
#[derive(Debug, Clone)]
pub struct Painter {
    /// Times on pictures are in the business zone, as people type them.
    pub time_zone: Tz,
    font_dir: Arc<Path>,
    /// Loaded once; an error is kept too, so a missing font fails fast every time after.
    fonts: Arc<OnceLock<Result<Arc<usvg::fontdb::Database>, RenderError>>>,
}

impl Painter {
    pub fn new(time_zone: Tz, font_dir: impl Into<PathBuf>) -> Painter {
        Painter {
            time_zone,
            font_dir: Arc::from(font_dir.into()),
            fonts: Arc::default(),
        }
    }

    /// The picture as SVG text (what is rasterised; tests read its text nodes).
    pub fn svg(&self, picture: &Picture) -> String {
        match picture {
            Picture::Sale(sheet) => sale::svg(sheet, self.time_zone),
            Picture::Day(sheet) => day::svg(sheet, self.time_zone),
        }
    }

    /// The picture as PNG bytes, `WIDTH` x `HEIGHT`. CPU-bound (tens of milliseconds): call it off
    /// the async runtime, as `png_in_background` does.
    pub fn png(&self, picture: &Picture) -> Result<Vec<u8>, RenderError> {
        rasterise(&self.svg(picture), self.fonts()?)
    }

    /// Draws on the blocking pool and records the outcome; `None` when it failed (logged and
    /// counted), so the caller sends its message without the picture.
    pub async fn png_in_background(&self, picture: &Picture) -> Option<Arc<[u8]>> {
        let started = Instant::now();
        let drawn = self.png_off_runtime(picture).await;
        crate::metrics::picture(picture.kind(), started.elapsed(), drawn.is_ok());
        match drawn {
            Ok(png) => Some(Arc::from(png)),
            Err(e) => {
                tracing::warn!(picture = %picture.file_name(), error = %e, "could not draw the picture; the message goes without it");
                None
            }
        }
    }

    /// Draws on the blocking pool without logging or counting: for an adapter whose message can
    /// still go without the picture after drawing (Slack's upload), which counts the outcome itself.
    pub async fn png_off_runtime(&self, picture: &Picture) -> Result<Vec<u8>, RenderError> {
        let (painter, owned) = (self.clone(), picture.clone());
        tokio::task::spawn_blocking(move || painter.png(&owned))
            .await
            .unwrap_or_else(|e| Err(RenderError::Task(e.to_string())))
    }

    fn fonts(&self) -> Result<Arc<usvg::fontdb::Database>, RenderError> {
        self.fonts
            .get_or_init(|| load_fonts(&self.font_dir))
            .clone()
    }
}

fn load_fonts(dir: &Path) -> Result<Arc<usvg::fontdb::Database>, RenderError> {
    let mut fonts = usvg::fontdb::Database::new();
    for file in FONT_FILES {
        let path = dir.join(file);
        let data = std::fs::read(&path).map_err(|e| RenderError::Font {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let before = fonts.len();
        fonts.load_font_data(data);
        if fonts.len() == before {
            return Err(RenderError::Font {
                path,
                reason: "not a font file".to_owned(),
            });
        }
    }
    Ok(Arc::new(fonts))
}

fn rasterise(svg: &str, fonts: Arc<usvg::fontdb::Database>) -> Result<Vec<u8>, RenderError> {
    let options = usvg::Options {
        fontdb: fonts,
        font_family: svg::SANS.to_owned(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| RenderError::Svg(e.to_string()))?;
    let mut pixmap = tiny_skia::Pixmap::new(WIDTH, HEIGHT).ok_or(RenderError::Canvas)?;
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    let png = encode(&pixmap).map_err(|e| RenderError::Encode(e.to_string()))?;
    if png.len() > MAX_PNG_BYTES {
        return Err(RenderError::TooLarge { bytes: png.len() });
    }
    Ok(png)
}

/// RGB PNG with light compression: the layouts paint an opaque background first, so alpha is
/// always 255 (premultiplied equals straight) and can go; resvg's `encode_png` compresses at the
/// default level, which took most of the drawing time.
fn encode(pixmap: &tiny_skia::Pixmap) -> Result<Vec<u8>, png::EncodingError> {
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|px| [px[0], px[1], px[2]])
        .collect();
    let mut out = Vec::with_capacity(128 * 1024);
    let mut encoder = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    // Level 2 instead of the default 6: a few milliseconds for about the same size. fdeflate's
    // fastest mode is faster still but leaves a picture with broken (hatched) tiles over 300 KB.
    encoder.set_deflate_compression(png::DeflateCompression::Level(2));
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_font_folder_is_a_named_error_not_a_blank_picture() {
        let painter = Painter::new(chrono_tz::UTC, "/nonexistent/fonts");
        let picture = Picture::Day(Arc::new(DaySheet {
            first_day: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("a date"),
            bars: Vec::new(),
        }));
        match painter.png(&picture) {
            Err(RenderError::Font { path, .. }) => {
                assert_eq!(path, Path::new("/nonexistent/fonts/DejaVuSans.ttf"))
            }
            other => panic!("expected a font error, got {other:?}"),
        }
    }

    #[test]
    fn a_file_that_is_not_a_font_is_refused() {
        let dir = std::env::temp_dir().join(format!("fonts-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        for file in FONT_FILES {
            std::fs::write(dir.join(file), b"not a font").unwrap();
        }
        let error = load_fonts(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            matches!(&error, RenderError::Font { reason, .. } if reason == "not a font file"),
            "{error:?}"
        );
    }

    #[test]
    fn file_names_are_stable_per_subject() {
        let day = DaySheet {
            first_day: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            bars: Vec::new(),
        };
        assert_eq!(
            Picture::Day(Arc::new(day)).file_name(),
            "digest-2026-11-27.png"
        );
    }
}
