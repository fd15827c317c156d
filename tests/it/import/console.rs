//! Import and export from the console: files by path, exports into a folder.

use std::time::Duration;

use sqlx::PgPool;

/// The console writes the export where it is told and imports a file by path.
#[sqlx::test]
async fn the_console_exports_to_a_folder_and_imports_from_a_path(pool: PgPool) {
    use crate::console_session::{dev_storefront, draft_with_six_skus, Console};
    let step = Duration::from_secs(30);
    let dir = std::env::temp_dir().join(format!("flashsale-export-{}", uuid::Uuid::new_v4()));
    let store = dev_storefront().await;
    let mut console = Console::start(&pool, &store, &[]).await;
    let id = draft_with_six_skus(&mut console).await;

    console
        .send(&format!(
            "/flashsale export session:{id} dir:\"{}\"",
            dir.display()
        ))
        .await;
    let exported = console.expect(&format!("Exported #{id}"), step).await;
    let paths = console.expect(".xlsx", step).await;
    let csv = dir.join(format!("flashsale-{id}-midnight-deals.csv"));
    assert!(csv.is_file(), "{exported:?} {paths:?}");
    assert!(dir
        .join(format!("flashsale-{id}-midnight-deals.xlsx"))
        .is_file());

    console
        .send(&format!("/flashsale import path:\"{}\"", csv.display()))
        .await;
    let imported = console.expect("Imported 6 SKUs from", step).await;
    assert!(
        imported
            .last()
            .is_some_and(|l| l.contains("into new draft #")),
        "{imported:?}"
    );

    console
        .send(&format!(
            "/flashsale log session:{id} export:true dir:\"{}\"",
            dir.display()
        ))
        .await;
    console
        .expect(&format!("The activity log of #{id}"), step)
        .await;
    assert!(dir.join(format!("flashsale-{id}-log.csv")).is_file());

    console.send("/flashsale import path:nowhere.xlsx").await;
    console
        .expect("✗ Could not read \"nowhere.xlsx\"", step)
        .await;
    console.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_console_reads_import_export_and_log_export_options() {
    use flashsale_bot::app::command_line::parser::{parse_line, Command, Input, ParseError};
    let command = |line: &str| match parse_line(line) {
        Ok(Input::Flashsale(command)) => command,
        other => panic!("{line}: {other:?}"),
    };
    assert_eq!(
        command(r#"/flashsale import path:"Flash sale.xlsx" session:#3 sheet:Friday"#),
        Command::Import {
            path: "Flash sale.xlsx".into(),
            session: Some(3),
            title: None,
            start: None,
            end: None,
            sheet: Some("Friday".into()),
        }
    );
    assert_eq!(
        command("export session:3 dir:out"),
        Command::Export {
            session: 3,
            dir: Some("out".into())
        }
    );
    assert_eq!(
        command("log session:3 export:true"),
        Command::LogExport {
            session: 3,
            dir: None
        }
    );
    assert_eq!(
        command("log session:3 export:no page:2"),
        Command::Log {
            session: 3,
            page: 2
        }
    );
    assert_eq!(
        parse_line("log session:3 export:maybe"),
        Err(ParseError::NotAFlag {
            option: "export",
            value: "maybe".into()
        })
    );
    assert!(matches!(
        parse_line("/flashsale import session:3"),
        Err(ParseError::MissingOption { option: "path", .. })
    ));
}
