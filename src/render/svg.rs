//! The SVG-writing helpers the layouts share: escaping user text, and fitting text into a width.
//!
//! resvg shapes text itself, but a layout must decide before that whether a name fits, so widths
//! are estimated from DejaVu Sans's advance widths by character class, erring wide: an estimate
//! that is too wide cuts a little early, one that is too narrow would run text out of its tile.

use std::fmt::Write as _;

pub const SANS: &str = "DejaVu Sans";
pub const MONO: &str = "DejaVu Sans Mono";

/// The storefront's colours (`src/devstore/assets/page.css`).
pub const ACCENT: &str = "#e4372c";
pub const INK: &str = "#1d1d1f";
pub const MUTED: &str = "#6b6b70";
pub const CARD: &str = "#ffffff";
pub const BACKGROUND: &str = "#f4f4f6";

/// Escapes text for element content and quoted attributes alike, in SVG and in HTML (the dev
/// storefront's page uses it too).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML at all.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Regular,
    Bold,
    Mono,
}

/// Estimated advance of `c` in ems.
fn advance(c: char, face: Face) -> f32 {
    if face == Face::Mono {
        return 0.61;
    }
    let em = match c {
        'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'I' | ' ' => 0.33,
        'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' => 0.45,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 1.0,
        c if c.is_ascii_uppercase() => 0.76,
        c if c.is_ascii() => 0.64,
        // Wide scripts (CJK) are about one em; other letters as an upper-case Latin one.
        c if c as u32 >= 0x2E80 => 1.0,
        _ => 0.76,
    };
    match face {
        Face::Bold => em * 1.1,
        _ => em,
    }
}

/// Estimated width of `text` at `size` pixels.
pub fn width(text: &str, size: f32, face: Face) -> f32 {
    text.chars().map(|c| advance(c, face)).sum::<f32>() * size
}

/// `text` cut (ending in `…`) so it fits `max` pixels at `size`.
pub fn fit(text: &str, size: f32, face: Face, max: f32) -> String {
    if width(text, size, face) <= max {
        return text.to_owned();
    }
    let room = max - width("…", size, face);
    let mut used = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        used += advance(c, face) * size;
        if used > room {
            break;
        }
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

/// The font size, at most `size`, at which `text` fits `max` pixels (prices are shrunk, never cut).
pub fn fit_size(text: &str, size: f32, face: Face, max: f32) -> f32 {
    let at_size = width(text, size, face);
    if at_size <= max || at_size == 0.0 {
        size
    } else {
        (size * max / at_size).floor()
    }
}

/// Up to `lines` lines of at most `max` pixels, broken at spaces; the last one cut if needed.
pub fn wrap(text: &str, size: f32, face: Face, max: f32, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let filled = out.len();
        let Some(line) = out.last_mut() else {
            out.push(word.to_owned());
            continue;
        };
        let joined = format!("{line} {word}");
        if width(&joined, size, face) <= max {
            *line = joined;
        } else if filled < lines {
            out.push(word.to_owned());
        } else {
            // No room for more lines: the rest goes on the last one, cut to fit.
            let rest: Vec<&str> = std::iter::once(word).chain(words.by_ref()).collect();
            *line = format!("{line} {}", rest.join(" "));
            break;
        }
    }
    out.into_iter().map(|l| fit(&l, size, face, max)).collect()
}

/// A `<text>` element; `attrs` go in as written (trusted, ours), `text` is escaped.
pub fn text(out: &mut String, x: f32, y: f32, attrs: &str, content: &str) {
    let _ = write!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" {attrs}>{}</text>"#,
        escape(content)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_control_characters_dropped() {
        assert_eq!(
            escape("<b>\"Kopi\" & 'teh'\u{7}</b>"),
            "&lt;b&gt;&quot;Kopi&quot; &amp; &#39;teh&#39; &lt;/b&gt;"
        );
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis_and_short_text_kept() {
        assert_eq!(fit("Kopi", 20.0, Face::Regular, 200.0), "Kopi");
        let cut = fit(&"Kopi Susu ".repeat(10), 20.0, Face::Bold, 200.0);
        assert!(
            cut.ends_with('…') && width(&cut, 20.0, Face::Bold) <= 200.0,
            "{cut}"
        );
    }

    #[test]
    fn prices_shrink_to_fit_instead_of_being_cut() {
        assert_eq!(fit_size("IDR 104,650", 32.0, Face::Bold, 320.0), 32.0);
        let size = fit_size("USD 12,345,678,901.00", 32.0, Face::Bold, 320.0);
        assert!(size < 32.0);
        assert!(width("USD 12,345,678,901.00", size, Face::Bold) <= 320.0);
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_cuts_the_last_line() {
        assert_eq!(
            wrap("Kopi Susu Gula Aren 1L", 20.0, Face::Bold, 170.0, 2),
            vec!["Kopi Susu", "Gula Aren 1L"]
        );
        let lines = wrap(&"word ".repeat(40), 20.0, Face::Bold, 150.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
    }
}
