//! Fetching an import attachment: against real loopback servers that send too
//! much without saying so, or nothing at all.

use std::time::{Duration, Instant};

use flashsale_bot::import::FileError;
use flashsale_bot::platforms::discord::download::{download, DownloadError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers every request with `head`, then sends `chunk`
/// forever in chunked encoding (or nothing at all when `chunk` is empty).
async fn server(head: &'static str, chunk: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                if chunk.is_empty() {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
                while socket.write_all(&frame).await.is_ok() {}
            });
        }
    });
    format!("http://{addr}/attachments/1/2/plan.xlsx")
}

async fn fetch(url: &str, timeout: Duration) -> DownloadError {
    download(&reqwest::Client::new(), url, "plan.xlsx", timeout)
        .await
        .expect_err("the download should be refused")
}

#[tokio::test]
async fn a_body_that_never_ends_is_cut_off_just_past_the_cap() {
    static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];
    let url = server(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        &CHUNK,
    )
    .await;

    let err = fetch(&url, Duration::from_secs(10)).await;

    match err {
        DownloadError::File(FileError::TooLarge { size, max, .. }) => {
            assert!(size > max && size <= max + CHUNK.len() as u64, "{size}");
        }
        other => panic!("expected the size refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_that_stalls_is_given_up_on_after_the_timeout() {
    let url = server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", b"").await;
    let started = Instant::now();

    let err = fetch(&url, Duration::from_millis(300)).await;

    assert!(matches!(err, DownloadError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let url = server("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", b"").await;

    let err = fetch(&url, Duration::from_secs(10)).await;

    assert_eq!(
        err.to_string(),
        "\"plan.xlsx\" is 97657 KB: an import file may be at most 2048 KB. A session's sheet is much smaller: remove pictures and other sheets, or save it as .csv."
    );
}
