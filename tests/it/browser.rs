//! The Flash Sale page in a real browser: the dev storefront on loopback gets a signed publish of a
//! six-item sale that is live now, then Debian's headless Chromium loads `/`, lets the page's script
//! run (its countdown and its 5-second refresh of the section), and prints the DOM it ended up with.
//! The test reads the `#flash-sale` section out of that DOM and checks the six tiles a shopper sees:
//! SKU, name, discount badge, struck-through price and flash price. A second Chromium run saves a
//! screenshot to `target/test-artifacts/flash-sale.png` for people to look at. A third test holds
//! the bot's picture of the same sale (`flashsale_bot::render`) against the page: the SVG's text of
//! each tile must be the DOM's.
//!
//! The browser is a real dependency, not an optional one: when it is missing the test fails and says
//! that `scripts/test.sh` installs it (Debian's `chromium` package). Each Chromium run has a fresh
//! profile folder and a timeout, so a hung browser fails the test instead of blocking CI.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use flashsale_bot::app::{pictures, SessionView};
use flashsale_bot::devstore::{self, DevProduct, DevStore, DevStoreConfig};
use flashsale_bot::domain::Status;
use flashsale_bot::render::{Painter, Picture, DEFAULT_FONT_DIR};
use reqwest::StatusCode;
use serde_json::{json, Value};
use standardwebhooks::Webhook;
use tokio::process::Command;

use crate::support::pictures::{item_view, session_view, svg_tiles, unescape};

/// A cold Chromium start on a busy 2-core CI machine takes seconds; a hung one is cut off here.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// Virtual milliseconds the page may run before the DOM is taken: past the section's 5-second
/// refresh, so the tiles checked are the ones the script fetched from `/fragment/flash-sale` (virtual
/// time: the run does not really take this long).
const VIRTUAL_TIME_BUDGET_MS: u32 = 6_000;

/// The sale under test: FS-001..FS-006 with the quick start's discounts and quantities.
const ITEMS: [(&str, i64, i64); 6] = [
    ("FS-001", 30, 50),
    ("FS-002", 25, 10),
    ("FS-003", 40, 5),
    ("FS-004", 20, 10),
    ("FS-005", 15, 5),
    ("FS-006", 10, 1),
];

/// What one tile shows, as read from the DOM (or as expected).
#[derive(Debug, PartialEq, Eq)]
struct Tile {
    sku: String,
    name: String,
    badge: String,
    was: String,
    now: String,
}

#[tokio::test]
async fn the_flash_sale_page_shows_the_six_published_products_in_chromium() {
    let chromium = chromium();
    // Live now, plus one scheduled for tomorrow so the page's "Next:" line has a time for the
    // script to localise.
    let (catalog, store, _) = lunch_flash_live().await;
    let tomorrow = Utc::now() + chrono::Duration::days(1);
    let next_items = [
        ("FS-007", 10, 5),
        ("FS-008", 10, 5),
        ("FS-009", 10, 5),
        ("FS-010", 10, 5),
        ("FS-011", 10, 5),
        ("FS-012", 10, 5),
    ];
    publish(
        &store,
        &catalog,
        42,
        "Midnight Deals",
        tomorrow,
        1,
        &next_items,
    )
    .await;

    let page = format!("{}/", store.url());
    let dom = run_chromium(
        &chromium,
        "dump-dom",
        &[
            &format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}"),
            "--dump-dom",
            &page,
        ],
    )
    .await;

    let section = flash_sale_section(&dom);
    let tiles = tiles(section);
    let expected: Vec<Tile> = ITEMS
        .iter()
        .map(|&(sku, discount, _)| {
            let product = catalog
                .iter()
                .find(|p| p.sku == sku)
                .expect("in the sample catalog");
            Tile {
                sku: sku.to_owned(),
                name: product.name.clone(),
                badge: format!("-{discount}%"),
                was: idr(product.price_minor),
                now: idr(flash_price(product.price_minor, discount)),
            }
        })
        .collect();
    assert_eq!(
        tiles, expected,
        "the #flash-sale section should show exactly the six published products; section:\n{section}"
    );
    assert!(
        section.contains("Lunch Flash") && section.contains("id=\"countdown\""),
        "the section should name the live sale and count down to its end; section:\n{section}"
    );
    // The server writes the next start as `YYYY-MM-DD HH:MM UTC`; the script replaces it with the
    // browser's local format, so a different text proves the page's script ran without errors.
    let next_time = between(section, "<time", "</time>").unwrap_or_else(|| {
        panic!("the section should show the next sale's start; section:\n{section}")
    });
    let shown = next_time
        .split_once('>')
        .map_or("", |(_, text)| text)
        .trim();
    assert!(
        section.contains("Midnight Deals") && !shown.is_empty() && !shown.ends_with(" UTC"),
        "the page's script should have localised the next sale's start (shown: {shown:?}); section:\n{section}"
    );

    // The screenshot: a PNG a person can open, kept under target/ as a test artifact.
    let png = artifacts_dir().join("flash-sale.png");
    let _ = std::fs::remove_file(&png);
    let screenshot = format!("--screenshot={}", png.display());
    let budget = format!("--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}");
    run_chromium(
        &chromium,
        "screenshot",
        &[
            &budget,
            "--window-size=1280,900",
            "--hide-scrollbars",
            &screenshot,
            &page,
        ],
    )
    .await;
    let bytes = std::fs::read(&png)
        .unwrap_or_else(|e| panic!("Chromium should have saved {}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    // A blank 1280x900 page compresses to a few kB; six tiles with text and colours are far larger.
    assert!(
        bytes.len() > 20_000,
        "{} is only {} bytes: the page looks empty",
        png.display(),
        bytes.len()
    );

    store.shutdown().await;
}

/// The dev storefront with the sample catalog and `ITEMS` published as #41 "Lunch Flash", live
/// since ten minutes ago for two hours: the catalog, the store and the start.
async fn lunch_flash_live() -> (Vec<DevProduct>, DevStore, chrono::DateTime<Utc>) {
    let catalog = devstore::sample_catalog().expect("sample catalog");
    let store = start_store(&catalog).await;
    let started = Utc::now() - chrono::Duration::minutes(10);
    publish(&store, &catalog, 41, "Lunch Flash", started, 2, &ITEMS).await;
    (catalog, store, started)
}

/// Debian's Chromium: `chromium` on PATH, else `/usr/bin/chromium`. Missing is a failure, never a skip.
fn chromium() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    let fallback = PathBuf::from("/usr/bin/chromium");
    on_path
        .or_else(|| fallback.is_file().then_some(fallback))
        .unwrap_or_else(|| {
            panic!(
                "the browser test needs Debian's Chromium, and no `chromium` was found on PATH or at \
                 /usr/bin/chromium. scripts/test.sh installs it when missing (scripts/chromium.sh); \
                 or run `apt-get install chromium` yourself (sudo when not root)."
            )
        })
}

async fn start_store(catalog: &[DevProduct]) -> DevStore {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback port");
    let config = DevStoreConfig {
        products: catalog.to_vec(),
        webhook_secret: devstore::test_secret(),
        schedules_sales: true,
        state_file: None,
    };
    devstore::spawn(listener, config)
        .await
        .expect("dev storefront starts")
}

/// `PUT /api/flash-sales/{session_id}` signed the Standard Webhooks way, as the bot publishes.
async fn publish(
    store: &DevStore,
    catalog: &[DevProduct],
    session_id: i64,
    title: &str,
    starts_at: chrono::DateTime<Utc>,
    hours: i64,
    items: &[(&str, i64, i64)],
) {
    let items: Vec<Value> = items
        .iter()
        .map(|&(sku, discount, quantity)| {
            let product = catalog
                .iter()
                .find(|p| p.sku == sku)
                .expect("in the sample catalog");
            json!({"sku": sku, "name": product.name, "discount_percent": discount,
                   "base_price_minor": product.price_minor,
                   "flash_price_minor": flash_price(product.price_minor, discount),
                   "quantity": quantity})
        })
        .collect();
    let body = serde_json::to_vec(&json!({
        "session_id": session_id, "title": title, "starts_at": starts_at,
        "ends_at": starts_at + chrono::Duration::hours(hours), "currency": "IDR", "items": items,
        "revision": 1,
    }))
    .expect("JSON");
    let id = format!("browser-test-{session_id}");
    let timestamp = Utc::now().timestamp();
    let signature = Webhook::new(&devstore::test_secret())
        .expect("valid secret")
        .sign(&id, timestamp, &body)
        .expect("UTF-8 body");
    let response = reqwest::Client::new()
        .put(format!("{}/api/flash-sales/{session_id}", store.url()))
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("storefront answers");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(
        status == StatusCode::OK || status == StatusCode::CREATED,
        "publishing #{session_id} should succeed, got {status}: {text}"
    );
}

/// Runs headless Chromium with the flags that work on this machine kind (no sandbox: CI runs as
/// root; no background networking: the network is closed) and `args`, in a fresh profile folder.
/// Returns stdout; fails the test on a timeout or a non-zero exit, with Chromium's stderr.
async fn run_chromium(chromium: &Path, label: &str, args: &[&str]) -> String {
    let profile = TempDir::new(label);
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium.display()));
    let output = match tokio::time::timeout(BROWSER_TIMEOUT, child.wait_with_output()).await {
        Ok(result) => result.unwrap_or_else(|e| panic!("waiting for Chromium ({label}): {e}")),
        // Dropping the future drops the child, which kills it (kill_on_drop).
        Err(_) => panic!(
            "headless Chromium ({label}) did not finish within {BROWSER_TIMEOUT:?}; killed it"
        ),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "headless Chromium ({label}) failed with {}; its stderr:\n{stderr}",
        output.status
    );
    String::from_utf8(output.stdout).expect("Chromium prints UTF-8")
}

/// The inside of `<section id="flash-sale" ...>` in the dumped DOM.
fn flash_sale_section(dom: &str) -> &str {
    let start = dom
        .find("<section id=\"flash-sale\"")
        .unwrap_or_else(|| panic!("the page has no <section id=\"flash-sale\">; DOM:\n{dom}"));
    let rest = &dom[start..];
    let open_end = rest.find('>').expect("the section tag closes") + 1;
    let close = rest
        .find("</section>")
        .unwrap_or_else(|| panic!("the #flash-sale section is not closed; DOM:\n{dom}"));
    &rest[open_end..close]
}

/// Every `class="tile"` element in `section`, in page order.
fn tiles(section: &str) -> Vec<Tile> {
    section
        .split("<li class=\"tile\"")
        .skip(1)
        .map(|tile| {
            let tile = tile.split("</li>").next().unwrap_or(tile);
            let field = |open: &str, close: &str| {
                between(tile, open, close)
                    .map(|inner| unescape(inner.split_once('>').map_or(inner, |(_, t)| t)))
                    .unwrap_or_else(|| panic!("a tile has no {open}...{close}: {tile}"))
            };
            Tile {
                sku: between(tile, "data-sku=\"", "\"")
                    .map(unescape)
                    .unwrap_or_else(|| panic!("a tile has no data-sku: {tile}")),
                name: field("<h3 class=\"name\"", "</h3>"),
                badge: field("<span class=\"badge\"", "</span>"),
                was: field("<s class=\"was\"", "</s>"),
                now: field("<strong class=\"now\"", "</strong>"),
            }
        })
        .collect()
}

/// The text after the first `open` up to the next `close`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// `base` less `discount` %, rounded half up to a whole rupiah (the storefront accepts either way).
fn flash_price(base: i64, discount: i64) -> i64 {
    (base * (100 - discount) + 50) / 100
}

/// `IDR 149,500`: how the page writes rupiah.
fn idr(minor: i64) -> String {
    let digits = minor.to_string();
    let mut grouped = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(d);
    }
    format!("IDR {grouped}")
}

/// `target/test-artifacts/` (next to cargo's `target/tmp`, so a custom target folder is honoured).
fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-artifacts");
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// A fresh, empty folder, removed on drop (Chromium's profile).
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "flashsale-chromium-{label}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The same sale as the bot sees it before publishing: a session view of `ITEMS` priced from the
/// catalog, as `app` builds it.
fn session_of_items(catalog: &[DevProduct], starts_at: chrono::DateTime<Utc>) -> SessionView {
    let items = ITEMS
        .iter()
        .zip(1..)
        .map(|(&(sku, discount, quantity), slot)| {
            let product = catalog
                .iter()
                .find(|p| p.sku == sku)
                .expect("in the sample catalog");
            let quantity = u32::try_from(quantity).expect("a small quantity");
            item_view(
                slot,
                sku,
                &product.name,
                product.price_minor,
                discount,
                quantity,
            )
        })
        .collect();
    session_view(41, "Lunch Flash", Status::Approved, starts_at, items)
}

#[tokio::test]
async fn the_sale_picture_and_the_page_in_chromium_agree_on_every_tile() {
    let chromium = chromium();
    let (catalog, store, started) = lunch_flash_live().await;
    let page = format!("{}/", store.url());
    let dom = run_chromium(&chromium, "dump-dom-picture", &["--dump-dom", &page]).await;
    let on_page: Vec<(String, [String; 4])> = tiles(flash_sale_section(&dom))
        .into_iter()
        .map(|t| (t.sku, [t.name, t.was, t.now, t.badge]))
        .collect();

    let picture = Picture::Sale(Arc::new(pictures::sale_sheet(&session_of_items(
        &catalog, started,
    ))));
    let svg = Painter::new(chrono_tz::Asia::Jakarta, DEFAULT_FONT_DIR).svg(&picture);
    let in_picture: Vec<(String, [String; 4])> = svg_tiles(&svg)
        .into_iter()
        .map(|(sku, texts)| {
            let text = |class: &str| texts.get(class).cloned().unwrap_or_default();
            (sku, [text("name"), text("was"), text("now"), text("badge")])
        })
        .collect();

    assert_eq!(on_page.len(), 6, "the page shows six tiles:\n{dom}");
    assert_eq!(
        in_picture, on_page,
        "the picture's tiles (name, was, now, badge) differ from the page's"
    );
    store.shutdown().await;
}
