//! The rules of a flash sale, with no IO and no async.
//!
//! Everything that can be decided without the outside world is decided here:
//! what a valid SKU, discount, quantity, price or time window is, which status
//! changes are allowed and by whom, and the session rules (exactly six items, no
//! duplicate SKU, the approval deadline, four eyes). `app` asks; this module
//! answers with a value or with an error that tells a marketer what is allowed.
//!
//! Layout:
//! - `sku`, `discount`, `quantity`, `money`, `window`: parsed value types.
//! - `number`: the one parser for positive whole numbers typed as text (ids).
//! - `status`: the status machine (one transition function).
//! - `actor`: who acts and which roles they hold.
//! - `activity`: the kinds of activity-log entries.
//! - `title`: a session's title; `reason`: why a session was rejected, cancelled,
//!   revoked or stopped; `text`: the one rule for free text (titles, notes, reasons).
//! - `schedule`: the future actions (jobs) a session has in each status.
//! - `policy`: the business settings (`Policy`) the rules and the schedule are tuned by.
//! - `rules`: the session rules that need more than one value.
//! - `guards`: the money guards: a real discount against the 30-day low, the
//!   margin floor, the minimum advertised price, recent raises, budgets.
//! - `slot`: recurring slots in wall-clock time, their occurrences across
//!   daylight saving, the week a plan covers, when the coverage alarm speaks.
//! - `template`: a saved set of lines' name.
//! - `sale`: what the storefront must show for a session, and what its one
//!   writer (publish, end, repair) decides from the state it reads.

pub mod activity;
pub mod actor;
pub mod discount;
pub mod guards;
pub mod money;
pub mod number;
pub mod policy;
pub mod quantity;
pub mod reason;
pub mod rules;
pub mod sale;
pub mod schedule;
pub mod sku;
pub mod slot;
pub mod status;
pub mod template;
pub mod text;
pub mod title;
pub mod window;

pub use activity::ActivityKind;
pub use actor::{Actor, ActorId, Roles};
pub use discount::{DiscountError, DiscountPercent};
pub use money::{Currency, CurrencyError, Money};
pub use policy::{approval_deadline, Policy, SchedulePolicy, ShopCapabilities};
pub use quantity::{Quantity, QuantityError};
pub use reason::{Reason, ReasonError};
pub use rules::{RuleViolation, StockFacts, MAX_ITEMS};
pub use schedule::JobKind;
pub use sku::{Sku, SkuError, SkuRules};
pub use slot::{Occurrence, PlanRange, SlotDays, SlotError, SlotSpec};
pub use status::{Action, Role, Status, TransitionRefused};
pub use template::{TemplateName, TemplateNameError};
pub use text::{HiddenCharacter, Notes, NotesError};
pub use title::{Title, TitleError};
pub use window::{Window, WindowError, WindowPart, WindowRules};
