//! Console input: one typed line into one command, and the framing of a paste.
//!
//! The commands and options are Discord's (`/flashsale add-sku session:3
//! sku:FS-001 discount:30 quantity:50`), plus the console's own `as`,
//! `whoami`, `press` and `quit`. Values are bare words or double-quoted
//! (`title:"Midnight Deals"`, `\"` for a quote inside). Everything here is
//! pure: a refusal says what is wrong and what is accepted, and nothing runs
//! until the whole line parsed. Domain values (SKU, discount, times) stay text
//! here: the use cases parse them and word their own refusals.
//!
//! `flashsale` holds the `/flashsale` commands and their options; this file
//! the words, the console's own commands and the paste framing.

mod flashsale;

pub use flashsale::{examples, Command};

use flashsale::{find_spec, subcommand, GROUPS, SUBCOMMANDS};

/// One word of a line: `value`, or `key:value` for an option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The option name, lower-cased, when the word was `name:value`.
    pub key: Option<String>,
    /// Quotes removed and `\"` unescaped.
    pub value: String,
    /// True when any part was quoted, so `notes:""` is an explicit empty value.
    pub quoted: bool,
}

/// What a line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A blank line or a `#` comment.
    Nothing,
    Flashsale(Command),
    /// Act as someone else from now on; `None` keeps the roles they had.
    As {
        name: String,
        roles: Option<RoleChoice>,
    },
    WhoAmI,
    Press(Press),
    Help,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleChoice {
    Editor,
    Approver,
    Both,
}

/// `press approve 3` or `press 1`: a button of the latest card (of a session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Press {
    pub button: ButtonRef,
    pub session: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonRef {
    /// 1-based, as printed under the card: `[1 Approve]`.
    Index(usize),
    /// A label, compared case-insensitively: `approve`.
    Label(String),
}

const AS_USAGE: &str = "as <name> [editor|approver|both], e.g. `as bob approver`";
const PRESS_USAGE: &str =
    "press <button> [session], e.g. `press approve 3` or `press 1` (the numbers shown under the latest card)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error(
        "A quote is not closed: end the value with \" (write \\\" for a quote inside a value)."
    )]
    UnclosedQuote,
    #[error("Unknown command \"{0}\". Type `help` for the list: /flashsale <command> ..., as, whoami, press, quit.")]
    UnknownCommand(String),
    #[error("/flashsale needs a command: {SUBCOMMANDS}.")]
    MissingSubcommand,
    #[error("Unknown command /flashsale {0}: the commands are {SUBCOMMANDS}.")]
    UnknownSubcommand(String),
    #[error("/flashsale {command} has no option \"{option}\": it takes {accepted}.")]
    UnknownOption {
        command: &'static str,
        option: String,
        accepted: String,
    },
    #[error("/flashsale {command} needs {option}: e.g. {example}")]
    MissingOption {
        command: &'static str,
        option: &'static str,
        example: &'static str,
    },
    #[error("{option}: is given twice: give each option once.")]
    DuplicateOption { option: String },
    #[error("\"{value}\" is not an option: write options as name:value and quote values with spaces, e.g. {example}")]
    UnexpectedValue {
        value: String,
        example: &'static str,
    },
    #[error("{option}:\"{value}\" is not a {what}: give a whole number above 0, e.g. {option}:3.")]
    NotANumber {
        option: &'static str,
        value: String,
        what: &'static str,
    },
    #[error("{option}:\"{value}\" is not true or false: write {option}:true to turn it on.")]
    NotAFlag { option: &'static str, value: String },
    #[error("range:\"{0}\" is not a range: use upcoming, today or week.")]
    BadRange(String),
    #[error("/flashsale add-sku without sku pastes several lines; to add one SKU give sku, discount and quantity together, e.g. {0}")]
    PartialItem(&'static str),
    #[error("Usage: {AS_USAGE}.")]
    AsUsage,
    #[error("\"{0}\" is not a name: use 1-32 letters, digits, '.', '-' or '_'.")]
    BadName(String),
    #[error("\"{0}\" is not a role: use editor, approver or both.")]
    BadRole(String),
    #[error("Usage: {PRESS_USAGE}.")]
    PressUsage,
    #[error("{command} takes nothing after it.")]
    TakesNothing { command: &'static str },
}

/// Splits a line into words; `name:value` words become options.
///
/// `key: value` (a space after the colon, as Discord users type it) reads as
/// `key:value` unless the next word is itself an option.
pub fn tokenize(line: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut token = Token {
            key: None,
            value: String::new(),
            quoted: false,
        };
        let mut in_quote = false;
        while let Some(c) = chars.next_if(|c| in_quote || !c.is_whitespace()) {
            match c {
                '"' => {
                    in_quote = !in_quote;
                    token.quoted = true;
                }
                '\\' if in_quote => match chars.next() {
                    Some(escaped @ ('"' | '\\')) => token.value.push(escaped),
                    Some(other) => {
                        token.value.push('\\');
                        token.value.push(other);
                    }
                    None => return Err(ParseError::UnclosedQuote),
                },
                ':' if !in_quote
                    && !token.quoted
                    && token.key.is_none()
                    && is_option_name(&token.value) =>
                {
                    token.key = Some(std::mem::take(&mut token.value).to_ascii_lowercase());
                }
                _ => token.value.push(c),
            }
        }
        if in_quote {
            return Err(ParseError::UnclosedQuote);
        }
        let previous_waits =
            matches!(tokens.last(), Some(t) if t.key.is_some() && t.value.is_empty() && !t.quoted);
        match tokens.last_mut() {
            Some(previous) if previous_waits && token.key.is_none() => {
                previous.value = token.value;
                previous.quoted = token.quoted;
            }
            _ => tokens.push(token),
        }
    }
    Ok(tokens)
}

fn is_option_name(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parses one line typed at the console prompt.
pub fn parse_line(line: &str) -> Result<Input, ParseError> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(Input::Nothing);
    }
    let tokens = tokenize(trimmed)?;
    let Some((first, rest)) = tokens.split_first() else {
        return Ok(Input::Nothing);
    };
    if first.key.is_some() || first.quoted {
        return Err(ParseError::UnknownCommand(
            trimmed.chars().take(40).collect(),
        ));
    }
    let word = first.value.to_ascii_lowercase();
    match word.as_str() {
        "/flashsale" | "flashsale" => {
            let Some((sub, options)) = rest.split_first() else {
                return Err(ParseError::MissingSubcommand);
            };
            if sub.key.is_some() {
                return Err(ParseError::MissingSubcommand);
            }
            let (name, options) = grouped(&sub.value.to_ascii_lowercase(), options);
            subcommand(&name, options).map(Input::Flashsale)
        }
        "as" => parse_as(rest),
        "press" => parse_press(rest),
        "whoami" => nothing_after("whoami", rest, Input::WhoAmI),
        "help" | "?" => nothing_after("help", rest, Input::Help),
        "quit" | "exit" => nothing_after("quit", rest, Input::Quit),
        // The subcommands also work without `/flashsale` in front: less to type.
        other if find_spec(other).is_some() || GROUPS.contains(&other) => {
            let (name, options) = grouped(other, rest);
            subcommand(&name, options).map(Input::Flashsale)
        }
        _ => Err(ParseError::UnknownCommand(
            first.value.chars().take(40).collect(),
        )),
    }
}

/// `slot add ...` is one command of two words: joins a group's word with
/// the bare word after it (`slot` alone is then an unknown command).
fn grouped<'t>(word: &str, rest: &'t [Token]) -> (String, &'t [Token]) {
    match rest.split_first() {
        Some((next, options)) if GROUPS.contains(&word) && next.key.is_none() && !next.quoted => (
            format!("{word} {}", next.value.to_ascii_lowercase()),
            options,
        ),
        _ => (word.to_owned(), rest),
    }
}

fn nothing_after(command: &'static str, rest: &[Token], input: Input) -> Result<Input, ParseError> {
    if rest.is_empty() {
        Ok(input)
    } else {
        Err(ParseError::TakesNothing { command })
    }
}

/// Digits only, above zero; `#3` is accepted because cards show sessions that way.
fn number(option: &'static str, raw: &str, what: &'static str) -> Result<i64, ParseError> {
    let digits = raw.trim().strip_prefix('#').unwrap_or(raw.trim());
    let valid =
        !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit());
    match digits.parse::<i64>() {
        Ok(n) if valid && n > 0 => Ok(n),
        _ => Err(ParseError::NotANumber {
            option,
            value: raw.chars().take(40).collect(),
            what,
        }),
    }
}

fn parse_as(rest: &[Token]) -> Result<Input, ParseError> {
    if rest.iter().any(|t| t.key.is_some()) {
        return Err(ParseError::AsUsage);
    }
    let (name, roles) = match rest {
        [name] => (name, None),
        [name, role] => (name, Some(role_choice(&role.value)?)),
        _ => return Err(ParseError::AsUsage),
    };
    let valid = (1..=32).contains(&name.value.chars().count())
        && name
            .value
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if !valid {
        return Err(ParseError::BadName(name.value.chars().take(40).collect()));
    }
    Ok(Input::As {
        name: name.value.clone(),
        roles,
    })
}

fn role_choice(raw: &str) -> Result<RoleChoice, ParseError> {
    match raw.to_ascii_lowercase().as_str() {
        "editor" => Ok(RoleChoice::Editor),
        "approver" => Ok(RoleChoice::Approver),
        "both" => Ok(RoleChoice::Both),
        _ => Err(ParseError::BadRole(raw.chars().take(40).collect())),
    }
}

fn parse_press(rest: &[Token]) -> Result<Input, ParseError> {
    let (button, session) = match rest {
        [button] => (button, None),
        [button, session] => (button, Some(session)),
        _ => return Err(ParseError::PressUsage),
    };
    if button.key.is_some() || button.value.is_empty() {
        return Err(ParseError::PressUsage);
    }
    let session = match session {
        // `press approve 3`, `press approve #3` and `press approve session:3` all read the same.
        Some(t) if t.key.is_none() || t.key.as_deref() == Some("session") => {
            Some(number("session", &t.value, "session number")?)
        }
        Some(_) => return Err(ParseError::PressUsage),
        None => None,
    };
    let button = match button.value.parse::<usize>() {
        Ok(n) if n > 0 && button.value.bytes().all(|b| b.is_ascii_digit()) => ButtonRef::Index(n),
        Ok(_) => return Err(ParseError::PressUsage),
        Err(_) => ButtonRef::Label(button.value.to_lowercase()),
    };
    Ok(Input::Press(Press { button, session }))
}

/// Collects pasted lines after `/flashsale add-sku session:N` until an empty line or `.`.
#[derive(Debug, Default)]
pub struct PasteBuffer {
    lines: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasteStep {
    /// Keep reading.
    More,
    /// The paste ended; the text holds every line before the end marker.
    Done(String),
}

impl PasteBuffer {
    pub fn new() -> PasteBuffer {
        PasteBuffer::default()
    }

    pub fn push(&mut self, line: &str) -> PasteStep {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed == "." {
            PasteStep::Done(std::mem::take(&mut self.lines).join("\n"))
        } else {
            self.lines
                .push(line.trim_end_matches(['\r', '\n']).to_owned());
            PasteStep::More
        }
    }
}
