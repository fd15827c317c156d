//! The console's line parser: quoting, options, refusals, `as`, `press` and
//! the framing of a paste. Pure: no database, no server.

use flashsale_bot::app::command_line::parser::{
    parse_line, tokenize, ButtonRef, Command, Input, ParseError, PasteBuffer, PasteStep, Press,
    RoleChoice, Token,
};
use flashsale_bot::app::ListRange;

fn command(line: &str) -> Command {
    match parse_line(line) {
        Ok(Input::Flashsale(command)) => command,
        other => panic!("{line:?} parsed as {other:?}"),
    }
}

fn refusal(line: &str) -> ParseError {
    match parse_line(line) {
        Err(e) => e,
        Ok(input) => panic!("{line:?} was accepted as {input:?}"),
    }
}

fn option(key: &str, value: &str) -> Token {
    Token {
        key: Some(key.to_owned()),
        value: value.to_owned(),
        quoted: true,
    }
}

#[test]
fn quoted_values_keep_their_spaces_and_escaped_quotes() {
    assert_eq!(
        tokenize(r#"draft title:"Midnight \"Mega\" Deals" notes:"a \\ b""#).unwrap(),
        vec![
            Token {
                key: None,
                value: "draft".into(),
                quoted: false
            },
            option("title", r#"Midnight "Mega" Deals"#),
            option("notes", r"a \ b"),
        ]
    );
}

#[test]
fn a_draft_reads_every_option_bare_or_quoted() {
    assert_eq!(
        command(
            r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 00:00" end:12:00 notes:"""#
        ),
        Command::Draft {
            title: "Midnight Deals".into(),
            start: "tomorrow 00:00".into(),
            end: "12:00".into(),
            notes: Some(String::new()),
        }
    );
}

#[test]
fn a_space_after_the_colon_is_forgiven_and_option_names_ignore_case() {
    assert_eq!(
        command("/flashsale add-sku Session: 3 SKU:FS-001 discount: 30% quantity:50"),
        Command::AddSku {
            session: 3,
            sku: "FS-001".into(),
            discount: "30%".into(),
            quantity: "50".into(),
        }
    );
}

#[test]
fn the_flashsale_prefix_may_be_left_out() {
    assert_eq!(command("submit session:#7"), Command::Submit { session: 7 });
    assert_eq!(
        command("list range:week"),
        Command::List {
            range: ListRange::Week,
            page: 1
        }
    );
    assert_eq!(
        command("list"),
        Command::List {
            range: ListRange::Upcoming,
            page: 1
        }
    );
    assert_eq!(
        command("list page:3"),
        Command::List {
            range: ListRange::Upcoming,
            page: 3
        }
    );
}

#[test]
fn add_sku_without_a_sku_starts_a_paste_but_a_half_item_is_refused() {
    assert_eq!(
        command("/flashsale add-sku session:3"),
        Command::PasteSkus { session: 3 }
    );
    assert!(matches!(
        refusal("/flashsale add-sku session:3 discount:30"),
        ParseError::PartialItem(_)
    ));
    assert!(matches!(
        refusal("/flashsale add-sku session:3 sku:FS-001 discount:30"),
        ParseError::MissingOption {
            option: "quantity",
            ..
        }
    ));
}

#[test]
fn unknown_options_name_the_ones_accepted() {
    let e = refusal("/flashsale submit session:3 price:10");
    assert_eq!(
        e.to_string(),
        "/flashsale submit has no option \"price\": it takes session."
    );
    let e = refusal("/flashsale cancel session:3 why:late");
    assert!(e.to_string().ends_with("it takes session, reason."), "{e}");
}

#[test]
fn a_missing_option_is_named_with_an_example() {
    let e = refusal(r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 00:00""#);
    assert_eq!(
        e,
        ParseError::MissingOption {
            command: "draft",
            option: "end",
            example: r#"/flashsale draft title:"Midnight Deals" start:"tomorrow 00:00" end:"tomorrow 12:00""#,
        }
    );
    assert!(e
        .to_string()
        .starts_with("/flashsale draft needs end: e.g. /flashsale draft title:"));
}

#[test]
fn a_duplicated_option_is_refused() {
    assert_eq!(
        refusal("/flashsale view session:3 session:4"),
        ParseError::DuplicateOption {
            option: "session".into()
        }
    );
}

#[test]
fn sessions_and_pages_must_be_whole_numbers_above_zero() {
    for bad in ["abc", "0", "-3", "+3", "3.5", "", "99999999999999999999"] {
        let e = refusal(&format!("/flashsale view session:\"{bad}\""));
        assert!(
            matches!(
                e,
                ParseError::NotANumber {
                    option: "session",
                    ..
                }
            ),
            "{bad:?}: {e:?}"
        );
    }
    assert_eq!(
        refusal("view session:x").to_string(),
        "session:\"x\" is not a session number: give a whole number above 0, e.g. session:3."
    );
    assert!(matches!(
        refusal("log session:3 page:two"),
        ParseError::NotANumber { option: "page", .. }
    ));
    assert_eq!(
        command("log session:3 page:2"),
        Command::Log {
            session: 3,
            page: 2
        }
    );
}

#[test]
fn an_unquoted_value_with_a_space_is_explained() {
    let e = refusal("/flashsale draft title:Sale start:tomorrow 00:00 end:\"tomorrow 12:00\"");
    assert!(
        matches!(&e, ParseError::UnexpectedValue { value, .. } if value == "00:00"),
        "{e:?}"
    );
    assert!(e.to_string().contains("quote values with spaces"));
}

#[test]
fn unknown_commands_and_unclosed_quotes_are_refused() {
    assert!(matches!(
        refusal("frobnicate now"),
        ParseError::UnknownCommand(c) if c == "frobnicate"
    ));
    assert!(matches!(
        refusal("/flashsale approve session:3"),
        ParseError::UnknownSubcommand(c) if c == "approve"
    ));
    assert_eq!(refusal("/flashsale"), ParseError::MissingSubcommand);
    assert_eq!(
        refusal(r#"draft title:"Midnight"#),
        ParseError::UnclosedQuote
    );
    assert!(matches!(
        refusal("list range:month"),
        ParseError::BadRange(r) if r == "month"
    ));
    assert_eq!(
        refusal("list page:0").to_string(),
        "page:\"0\" is not a page number: give a whole number above 0, e.g. page:3."
    );
    assert_eq!(
        refusal("list range:week page:two").to_string(),
        "page:\"two\" is not a page number: give a whole number above 0, e.g. page:3."
    );
}

#[test]
fn blank_lines_and_comments_do_nothing() {
    assert_eq!(parse_line("   "), Ok(Input::Nothing));
    assert_eq!(parse_line("# bob approves next"), Ok(Input::Nothing));
}

#[test]
fn as_switches_the_person_and_optionally_the_roles() {
    assert_eq!(
        parse_line("as bob approver"),
        Ok(Input::As {
            name: "bob".into(),
            roles: Some(RoleChoice::Approver)
        })
    );
    assert_eq!(
        parse_line("AS alice"),
        Ok(Input::As {
            name: "alice".into(),
            roles: None
        })
    );
    assert_eq!(refusal("as"), ParseError::AsUsage);
    assert_eq!(refusal("as bob boss"), ParseError::BadRole("boss".into()));
    assert_eq!(
        refusal(r#"as "bob smith""#),
        ParseError::BadName("bob smith".into())
    );
    assert_eq!(parse_line("whoami"), Ok(Input::WhoAmI));
    assert_eq!(
        refusal("whoami now"),
        ParseError::TakesNothing { command: "whoami" }
    );
}

#[test]
fn press_takes_a_label_or_a_number_and_an_optional_session() {
    let press = |button, session| Ok(Input::Press(Press { button, session }));
    assert_eq!(
        parse_line("press approve 3"),
        press(ButtonRef::Label("approve".into()), Some(3))
    );
    assert_eq!(
        parse_line("press Reject #12"),
        press(ButtonRef::Label("reject".into()), Some(12))
    );
    assert_eq!(
        parse_line("press approve session:4"),
        press(ButtonRef::Label("approve".into()), Some(4))
    );
    assert_eq!(parse_line("press 1"), press(ButtonRef::Index(1), None));
    assert_eq!(refusal("press"), ParseError::PressUsage);
    assert_eq!(refusal("press 0"), ParseError::PressUsage);
    assert_eq!(refusal("press approve 3 now"), ParseError::PressUsage);
    assert!(matches!(
        refusal("press approve three"),
        ParseError::NotANumber { .. }
    ));
}

#[test]
fn quit_help_and_their_aliases() {
    assert_eq!(parse_line("quit"), Ok(Input::Quit));
    assert_eq!(parse_line("exit"), Ok(Input::Quit));
    assert_eq!(parse_line("help"), Ok(Input::Help));
    assert_eq!(command("/flashsale help"), Command::Help);
}

#[test]
fn a_paste_ends_at_an_empty_line_or_a_dot() {
    let mut paste = PasteBuffer::new();
    assert_eq!(paste.push("FS-001\t30%\t50"), PasteStep::More);
    assert_eq!(paste.push("FS-002, 25, 10\r"), PasteStep::More);
    assert_eq!(
        paste.push(" . "),
        PasteStep::Done("FS-001\t30%\t50\nFS-002, 25, 10".into())
    );
    // The buffer starts over for the next paste.
    assert_eq!(paste.push("FS-003 10 1"), PasteStep::More);
    assert_eq!(paste.push(""), PasteStep::Done("FS-003 10 1".into()));
    assert_eq!(
        PasteBuffer::new().push("   "),
        PasteStep::Done(String::new())
    );
}
