//! File uploads as Discord takes them: a `multipart/form-data` body whose
//! `payload_json` part is the message and whose `files[N]` parts are the
//! files, matched to the message's `attachments` entries by `id` N. Stored
//! messages get attachment objects, and an embed image `attachment://<name>`
//! is resolved to the attachment's URL the way Discord does; one that names
//! no attachment of the message is a problem (Discord would show no image).

use serde_json::{json, Value};

/// Discord's upload limit for a bot without boosts.
const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// One uploaded file.
#[derive(Clone, Debug)]
pub struct Upload {
    /// The form field, `files[0]`.
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<&str> {
    let rest = content_type.strip_prefix("multipart/form-data")?;
    rest.split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .next()
}

/// Splits a multipart body into its JSON payload and its files.
pub fn parse(body: &[u8], boundary: &str) -> Result<(Value, Vec<Upload>), String> {
    let delimiter = format!("--{boundary}");
    let mut payload = Value::Null;
    let mut uploads = Vec::new();
    for part in split(body, delimiter.as_bytes()).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let end = find(part, b"\r\n\r\n").ok_or("a part without headers")?;
        let headers = String::from_utf8_lossy(&part[..end]).to_string();
        let content = &part[end + 4..];
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = attribute(line, "name");
                filename = attribute(line, "filename");
            } else if lower.starts_with("content-type:") {
                content_type = line.split_once(':').map(|(_, v)| v.trim().to_owned());
            }
        }
        match (name.as_deref(), filename) {
            (Some("payload_json"), _) => {
                payload = serde_json::from_slice(content)
                    .map_err(|e| format!("payload_json is not JSON: {e}"))?;
            }
            (Some(field), Some(filename)) => uploads.push(Upload {
                field: field.to_owned(),
                filename,
                content_type,
                bytes: content.to_vec(),
            }),
            (field, _) => return Err(format!("an unexpected form part {field:?}")),
        }
    }
    Ok((payload, uploads))
}

fn attribute(header: &str, key: &str) -> Option<String> {
    header.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        (k == key).then(|| v.trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(body, delimiter) {
        parts.push(&body[..at]);
        body = &body[at + delimiter.len()..];
    }
    parts.push(body);
    parts
}

/// What uploading `uploads` with `body` does to `message` (a new one or one being edited):
/// its attachments become those `body` lists, kept or new; problems are returned.
pub fn apply(
    message: &mut Value,
    body: &Value,
    uploads: &[Upload],
    mut next_id: impl FnMut() -> u64,
) -> Vec<String> {
    let mut problems = Vec::new();
    for upload in uploads {
        if upload.bytes.len() > MAX_FILE_BYTES {
            problems.push(format!(
                "{} is {} bytes (at most {MAX_FILE_BYTES})",
                upload.filename,
                upload.bytes.len()
            ));
        }
    }
    let Some(listed) = body.get("attachments").and_then(Value::as_array) else {
        if !uploads.is_empty() {
            problems.push("files uploaded without an attachments list".to_owned());
        }
        return problems;
    };
    let existing = message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let channel = message["channel_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut attachments = Vec::new();
    for entry in listed {
        let id = entry["id"]
            .as_u64()
            .map(|n| n.to_string())
            .or_else(|| entry["id"].as_str().map(str::to_owned));
        if entry.get("filename").is_none() {
            match existing.iter().find(|a| a["id"].as_str() == id.as_deref()) {
                Some(kept) => attachments.push(kept.clone()),
                None => problems.push(format!(
                    "keeps an attachment {id:?} the message does not have"
                )),
            }
            continue;
        }
        let field = format!("files[{}]", id.unwrap_or_default());
        let Some(upload) = uploads.iter().find(|u| u.field == field) else {
            problems.push(format!("lists {field} but sends no such file"));
            continue;
        };
        let id = next_id();
        let url = format!(
            "https://cdn.discordapp.invalid/attachments/{channel}/{id}/{}",
            upload.filename
        );
        attachments.push(json!({
            "id": id.to_string(),
            "filename": upload.filename,
            "size": upload.bytes.len(),
            "url": url,
            "proxy_url": url,
            "content_type": upload.content_type,
        }));
    }
    message["attachments"] = json!(attachments);
    problems
}

/// Resolves `attachment://` embed images against the message's attachments.
pub fn resolve_images(message: &mut Value) -> Vec<String> {
    let mut problems = Vec::new();
    let attachments = message["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(embeds) = message["embeds"].as_array_mut() {
        for embed in embeds {
            let Some(url) = embed["image"]["url"].as_str().map(str::to_owned) else {
                continue;
            };
            let Some(name) = url.strip_prefix("attachment://") else {
                continue;
            };
            match attachments.iter().find(|a| a["filename"] == name) {
                Some(a) => embed["image"] = json!({ "url": a["url"], "proxy_url": a["proxy_url"] }),
                None => problems.push(format!(
                    "an embed shows {url}, which the message does not have"
                )),
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_splits_into_payload_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"sale-1.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n{\"content\":\"hi\"}\r\n--XyZ--\r\n";
        assert_eq!(boundary("multipart/form-data; boundary=XyZ"), Some("XyZ"));
        let (payload, files) = parse(body, "XyZ").unwrap();
        assert_eq!(payload["content"], "hi");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].field, "files[0]");
        assert_eq!(files[0].filename, "sale-1.png");
        assert_eq!(files[0].bytes, b"\x89PNG\r\n\x1a\n");
    }
}
