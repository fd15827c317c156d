//! Several items at once: lines pasted from a spreadsheet, and cloning a session.
//!
//! Each line goes through `add_item` on its own, so a refused line changes
//! nothing and the good lines still land; the report says per line what
//! happened. The catalog is asked once, live, for every SKU up front, and
//! every line is checked against that one answer; a catalog that is down
//! refuses the whole paste at once.

use super::input::PasteError;
use super::intake::{DraftText, When};
use super::{AppError, Desk, ItemInput, NewItem, SessionView};
use crate::catalog::Freshness;
use crate::domain::{Actor, Sku, Window, MAX_ITEMS};

/// One pasted line, split into its three values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastedLine {
    /// 1-based, counting blank lines too, as the person sees their paste.
    pub line_no: usize,
    pub input: ItemInput,
}

/// Splits pasted text into lines of `SKU discount quantity`, separated by
/// tabs, commas, semicolons or spaces, with `%` allowed (also as `30 %`).
/// Blank lines and a header line (first line mentioning "sku") are skipped.
pub fn parse_paste(text: &str) -> Result<Vec<PastedLine>, PasteError> {
    let mut lines = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let values: Vec<&str> = line
            .split(|c: char| c == '\t' || c == ',' || c == ';' || c.is_whitespace())
            .filter(|v| !v.is_empty())
            .collect();
        // "30 %" arrives as two values; the percent sign belongs to the discount.
        let mut merged: Vec<String> = Vec::with_capacity(values.len());
        for value in values {
            match merged.last_mut() {
                Some(prev) if value == "%" => prev.push('%'),
                _ => merged.push(value.to_owned()),
            }
        }
        if lines.is_empty() && is_header(&merged) {
            continue;
        }
        let [sku, discount, quantity] =
            <[String; 3]>::try_from(merged.clone()).map_err(|_| PasteError::WrongColumnCount {
                line_no: index + 1,
                raw: line.chars().take(80).collect(),
                found: merged.len(),
            })?;
        lines.push(PastedLine {
            line_no: index + 1,
            input: ItemInput {
                sku,
                discount,
                quantity,
            },
        });
    }
    match lines.len() {
        0 => Err(PasteError::Empty),
        n if n > MAX_ITEMS => Err(PasteError::TooManyLines {
            count: n,
            max: MAX_ITEMS,
        }),
        _ => Ok(lines),
    }
}

fn is_header(values: &[String]) -> bool {
    values
        .iter()
        .any(|v| v.to_ascii_lowercase().contains("sku"))
        && !values
            .iter()
            .skip(1)
            .any(|v| v.trim_end_matches('%').parse::<f64>().is_ok())
}

/// One line of a multi-item add, parsed (or refused) before anything is written.
pub(super) struct BatchLine {
    pub line_no: usize,
    /// As the person wrote it, for the report.
    pub sku: String,
    pub item: Result<NewItem, AppError>,
}

/// What happened to one line of a multi-item add.
#[derive(Debug)]
pub struct LineOutcome {
    pub line_no: usize,
    pub sku: String,
    /// `Ok` when the item was added; otherwise why it was refused.
    pub result: Result<(), AppError>,
}

#[derive(Debug)]
pub struct BatchReport {
    pub lines: Vec<LineOutcome>,
    /// The session after all lines, as it is now.
    pub session: SessionView,
}

impl BatchReport {
    pub fn added(&self) -> usize {
        self.lines.iter().filter(|l| l.result.is_ok()).count()
    }
}

impl Desk {
    /// Adds pasted lines one by one; each refused line changes nothing.
    #[tracing::instrument(skip_all, fields(session = session_id, actor = %actor.id))]
    pub async fn add_pasted(
        &self,
        actor: &Actor,
        session_id: i64,
        text: &str,
    ) -> Result<BatchReport, AppError> {
        let lines = parse_paste(text).map_err(AppError::Paste)?;
        let lines = lines
            .into_iter()
            .map(|l| BatchLine {
                line_no: l.line_no,
                item: l.input.parse(&self.core.policy),
                sku: l.input.sku,
            })
            .collect();
        self.add_lines(actor, session_id, lines).await
    }

    pub(super) async fn add_lines(
        &self,
        actor: &Actor,
        session_id: i64,
        lines: Vec<BatchLine>,
    ) -> Result<BatchReport, AppError> {
        // Refuse an unknown session once, not once per line.
        self.core.view(session_id).await?;
        let skus: Vec<Sku> = lines
            .iter()
            .filter_map(|l| l.item.as_ref().ok().map(|i| i.sku.clone()))
            .collect();
        // One live call for all lines, and the only one: each line is checked
        // against this answer. When the catalog is down the paste is refused
        // as a whole, once, within the catalog's timeout, rather than each
        // line waiting for the catalog again.
        let products = if skus.is_empty() {
            Default::default()
        } else {
            self.core.products(&skus, Freshness::Live).await?
        };
        let mut outcomes = Vec::with_capacity(lines.len());
        for line in lines {
            let added = match line.item {
                Ok(item) => {
                    let product = products.get(&item.sku).cloned();
                    self.add_item_known(actor, session_id, &item, product).await
                }
                Err(unparsed) => Err(unparsed),
            };
            let result = match added {
                Ok(_) => Ok(()),
                // An internal failure is not the line's fault: stop and say so.
                Err(e @ AppError::Unexpected { .. }) => return Err(e),
                Err(refused) => Err(refused),
            };
            outcomes.push(LineOutcome {
                line_no: line.line_no,
                sku: line.sku,
                result,
            });
        }
        Ok(BatchReport {
            lines: outcomes,
            session: self.core.view(session_id).await?,
        })
    }

    /// A new draft with another session's items, at a new start (same length
    /// unless `end` is given). Every item is validated again, as if typed.
    #[tracing::instrument(skip_all, fields(source = source_id, actor = %actor.id))]
    pub async fn clone_session(
        &self,
        actor: &Actor,
        source_id: i64,
        start: &str,
        end: Option<&str>,
        title: Option<&str>,
    ) -> Result<BatchReport, AppError> {
        let source = self.core.view(source_id).await?;
        let when = match end {
            Some(end) => When::Typed {
                start: Some(start),
                end: Some(end),
            },
            None => {
                // Resolve the start the same way a typed draft's is, then keep
                // the length as a duration: the end stays an instant, never
                // wall-clock text that daylight saving could make doubled.
                let starts_at =
                    Window::parse_start(start, self.core.policy.time_zone, self.core.clock.now())?;
                let ends_at = starts_at
                    .checked_add_signed(source.window.duration())
                    .ok_or_else(|| {
                        AppError::unexpected(anyhow::anyhow!(
                            "#{}'s length does not fit after {starts_at}",
                            source.id
                        ))
                    })?;
                When::Instants { starts_at, ends_at }
            }
        };
        let notes = format!("Cloned from #{}", source.id);
        let draft = self
            .draft_from(
                actor,
                DraftText {
                    title: title.unwrap_or(&source.title),
                    when,
                    notes: Some(&notes),
                },
            )
            .await?;
        let lines = source
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| BatchLine {
                line_no: i + 1,
                sku: item.sku.to_string(),
                item: Ok(NewItem {
                    sku: item.sku.clone(),
                    discount: item.discount,
                    quantity: item.quantity,
                }),
            })
            .collect();
        self.add_lines(actor, draft.id, lines).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<(usize, String, String, String)> {
        parse_paste(text)
            .unwrap()
            .into_iter()
            .map(|l| (l.line_no, l.input.sku, l.input.discount, l.input.quantity))
            .collect()
    }

    #[test]
    fn spreadsheet_lines_with_tabs_commas_and_spaces_are_split() {
        assert_eq!(
            parsed("FS-001\t30%\t50\nFS-002, 25, 10\nFS-003   40 %   5\nFS-004;10;1"),
            vec![
                (1, "FS-001".into(), "30%".into(), "50".into()),
                (2, "FS-002".into(), "25".into(), "10".into()),
                (3, "FS-003".into(), "40%".into(), "5".into()),
                (4, "FS-004".into(), "10".into(), "1".into()),
            ]
        );
    }

    #[test]
    fn blank_lines_and_a_header_are_skipped_but_counted() {
        assert_eq!(
            parsed("SKU\tDiscount %\tFlash Qty\n\n  \nFS-001\t30\t5\n"),
            vec![(4, "FS-001".into(), "30".into(), "5".into())]
        );
    }

    #[test]
    fn seven_lines_are_refused() {
        let text = (1..=7)
            .map(|i| format!("FS-00{i} 10 1"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            parse_paste(&text),
            Err(PasteError::TooManyLines { count: 7, max: 6 })
        );
    }

    #[test]
    fn a_line_with_the_wrong_number_of_values_is_refused_by_number() {
        assert_eq!(
            parse_paste("FS-001 30 5\nFS-002 30"),
            Err(PasteError::WrongColumnCount {
                line_no: 2,
                raw: "FS-002 30".into(),
                found: 2
            })
        );
        // A decimal comma splits into an extra value, which is refused, not guessed.
        assert!(matches!(
            parse_paste("FS-001 50,5 5"),
            Err(PasteError::WrongColumnCount { found: 4, .. })
        ));
    }

    #[test]
    fn an_empty_paste_is_refused() {
        assert_eq!(parse_paste(" \n\t\n"), Err(PasteError::Empty));
    }
}
