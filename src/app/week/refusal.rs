//! Why a week-planning command was refused (`app::week`): its own file so
//! that `AppError` can name it without importing the use cases.

use crate::domain::{ReasonError, SlotError, TemplateNameError};

/// Why a week-planning command was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeekError {
    #[error(transparent)]
    Slot(#[from] SlotError),
    #[error(transparent)]
    TemplateName(#[from] TemplateNameError),
    #[error(transparent)]
    Reason(ReasonError),
    #[error("A reason is required to skip a slot: say why it stays empty, e.g. reason:\"no stock this week\".")]
    SkipReasonRequired,
    #[error("Only approvers can declare, remove or skip slots: ask an approver.")]
    NotApprover,
    #[error("Only editors can plan sessions and keep templates: ask an editor.")]
    NotEditor,
    #[error("The slot {0} is declared already.")]
    SlotExists(String),
    #[error("Slot {0} does not exist: /flashsale slots lists them with their numbers.")]
    SlotNotFound(i64),
    #[error("Slot {slot} ({spec}) does not run on {date}: it runs {days}.")]
    NoOccurrence {
        slot: i64,
        spec: String,
        date: String,
        days: String,
    },
    #[error("\"{0}\" is not a date: give the day the slot starts as YYYY-MM-DD.")]
    BadDate(String),
    #[error("The slot on {0} has already started: only a slot still ahead can be skipped.")]
    SkipTooLate(String),
    #[error("The slot on {0} is skipped already.")]
    AlreadySkipped(String),
    #[error("No slots are declared, so there is nothing to plan: an approver declares them with /flashsale slot add, e.g. days:daily start:00:00 end:02:00.")]
    NoSlots,
    #[error("Say what to fill the drafts with: template:<name> (see /flashsale templates) or from:last-week, not both.")]
    PlanSource,
    #[error("from:\"{0}\" is not a source: the only one is last-week (or use template:<name>).")]
    BadPlanSource(String),
    #[error("Someone else is planning right now: try again in a moment, and the slots they drafted will show as taken.")]
    PlanBusy,
    #[error("There is no template \"{0}\": /flashsale templates lists them.")]
    TemplateNotFound(String),
    #[error("A template \"{0}\" exists already: delete it first or pick another name.")]
    TemplateExists(String),
    #[error("#{0} has no SKUs: a template needs at least one line.")]
    EmptySession(i64),
    #[error("Nothing was saved from \"{file}\":{}", .problems.iter().map(|p| format!("\n- {p}")).collect::<String>())]
    TemplateFile { file: String, problems: Vec<String> },
}
