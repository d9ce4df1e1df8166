//! Files on tickets over HTTP: upload and download of the same bytes with safe headers,
//! type and size checks, streamed uploads, deduplication on disk and sanitised names.
//! Who may see which file is in `attachment_access`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use steward_server::domain::roles::Role;

/// A real 2x2 RGB PNG.
pub(crate) const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x02\x08\x02\0\0\0\xfd\xd4\x9as\0\0\0\x13IDATx\x9cc\xf8\xcf\xc0\xc0\0\xc2@\xe2\xff\xff\xff\0\"\xec\x05\xfbf\n\x11~\0\0\0\0IEND\xaeB`\x82";

const BOUNDARY: &str = "----stewardtestboundary7MA4YWxkTrZu0gW";

/// Uploads `bytes` as the raw body; `query` is e.g. `filename=a.png&internal=true`.
pub(crate) async fn upload(
    s: &TestServer,
    token: &str,
    ticket: i64,
    query: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(s.url(&format!("/api/v1/tickets/{ticket}/attachments?{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Uploads `file` (name, content type, bytes) as a multipart form with a bearer token.
pub(crate) async fn upload_form(
    s: &TestServer,
    token: &str,
    ticket: i64,
    file: (&str, &str, &[u8]),
) -> reqwest::Response {
    s.http
        .post(s.url(&format!("/api/v1/tickets/{ticket}/attachments")))
        .bearer_auth(token)
        .header("content-type", multipart_type())
        .body(multipart_body(&[], file))
        .send()
        .await
        .unwrap()
}

/// GET `url` with a bearer token.
pub(crate) async fn download(s: &TestServer, token: &str, url: &str) -> reqwest::Response {
    s.http
        .get(s.url(url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Stored attachment files (not counting unfinished uploads in `tmp/`).
pub(crate) fn stored_files(s: &TestServer) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let root = data_dir(s.dir.path()).join("attachments");
    let mut out = Vec::new();
    walk(&root, &mut out);
    out.into_iter()
        .filter(|p| !p.starts_with(root.join("tmp")))
        .collect()
}

fn unfinished_uploads(s: &TestServer) -> usize {
    std::fs::read_dir(data_dir(s.dir.path()).join("attachments").join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A multipart form body with text `fields` and one `file` (name, content type, bytes).
pub(crate) fn multipart_body(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    let (filename, content_type, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The `Content-Type` of a body from [`multipart_body`].
pub(crate) fn multipart_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

#[tokio::test]
async fn employee_uploads_a_png_and_downloads_the_same_bytes() {
    let s = TestServer::spawn().await;
    let (ann_id, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let id = file_ticket(&s, &ann, "Screen flickers").await;

    let (status, a) = upload(
        &s,
        &ann,
        id,
        "filename=Bildschirm%20gr%C3%BCn.png",
        "image/png",
        PNG.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["filename"], "Bildschirm grün.png");
    assert_eq!(a["content_type"], "image/png");
    assert_eq!(a["size"], PNG.len());
    assert_eq!(a["internal"], false);
    assert_eq!(a["uploader"]["id"], ann_id);
    assert_eq!(a["ticket_id"], id);
    let url = a["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/api/v1/attachments/{}", a["id"]));

    let resp = download(&s, &ann, &url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let disposition = h["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Bildschirm%20gr%C3%BCn.png"),
        "{disposition}"
    );
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);

    // The ticket shows it, the list has it, staff see it too, and the log says so.
    let (_, t) = s.get_json(&format!("/api/v1/tickets/{id}"), &ann).await;
    assert_eq!(t["attachments"][0]["id"], a["id"], "{t}");
    let (status, list) = s
        .get_json(&format!("/api/v1/tickets/{id}/attachments"), &tech)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, events) = s
        .get_json("/api/v1/events?kind=ticket.attachment_added", &tech)
        .await;
    let added: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "ticket.attachment_added")
        .collect();
    assert_eq!(added.len(), 1, "{events}");
    assert_eq!(added[0]["ticket_id"], id);
    assert_eq!(added[0]["payload"]["attachment_id"], a["id"]);
    assert_eq!(added[0]["payload"]["filename"], "Bildschirm grün.png");
    s.stop().await;
}

#[tokio::test]
async fn wrong_types_and_oversized_files_are_refused() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let id = file_ticket(&s, &ann, "Screen flickers").await;

    // A text file that says it is a PNG.
    let (status, e) = upload(
        &s,
        &ann,
        id,
        "filename=cat.png",
        "image/png",
        b"this is not a picture".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert_eq!(e["error"]["code"], "content_mismatch");

    // Types outside attachments.allowed_types, declared or not.
    for ct in ["text/html", "image/svg+xml", "application/octet-stream"] {
        let (status, e) = upload(&s, &ann, id, "filename=x", ct, b"<b>hi</b>".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}: {e}");
        assert_eq!(e["error"]["code"], "type_not_allowed");
    }

    // 11 MiB is over the default 10 MiB, raw or as a form.
    let big = vec![b'x'; 11 * 1024 * 1024];
    let (status, e) = upload(&s, &ann, id, "filename=big.txt", "text/plain", big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");
    let resp = upload_form(&s, &ann, id, ("big.txt", "text/plain", &big)).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "payload_too_large");

    // Between server.max_body_bytes (8 MiB) and attachments.max_bytes is fine.
    let (status, a) = upload(
        &s,
        &ann,
        id,
        "filename=log.txt",
        "text/plain; charset=utf-8",
        vec![b'y'; 9 * 1024 * 1024],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["content_type"], "text/plain");

    // Nothing of the refused uploads is left behind.
    let (_, list) = s
        .get_json(&format!("/api/v1/tickets/{id}/attachments"), &ann)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(stored_files(&s).len(), 1);
    assert_eq!(unfinished_uploads(&s), 0);
    s.stop().await;
}

/// Sends a request with a chunked body (no Content-Length) over a plain socket; returns
/// the status and the JSON body.
async fn chunked(
    s: &TestServer,
    path: &str,
    token: &str,
    content_type: &str,
    chunks: &[&[u8]],
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.url.trim_start_matches("http://");
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for c in chunks {
        req.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        req.extend_from_slice(c);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(&req).await.unwrap();
    let mut resp = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        conn.read_to_end(&mut resp),
    )
    .await
    .unwrap()
    .unwrap();
    let text = String::from_utf8_lossy(&resp);
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn streamed_uploads_stop_at_max_bytes() {
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.attachments.max_bytes = 1000;
    })
    .await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let id = file_ticket(&s, &ann, "Screen flickers").await;
    let path = format!("/api/v1/tickets/{id}/attachments?filename=notes.txt");
    let part = [b'z'; 600];

    let (status, a) = chunked(&s, &path, &ann, "text/plain", &[&part[..300], &part[..300]]).await;
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["size"], 600);

    // No Content-Length to refuse by: the count while streaming stops it.
    let (status, e) = chunked(&s, &path, &ann, "text/plain", &[&part, &part, &part]).await;
    assert_eq!(status, 413, "{e}");
    assert_eq!(e["error"]["code"], "payload_too_large");

    // A form must say how long it is.
    let form = multipart_body(&[], ("a.txt", "text/plain", b"hi"));
    let (status, e) = chunked(
        &s,
        &format!("/api/v1/tickets/{id}/attachments"),
        &ann,
        &multipart_type(),
        &[&form],
    )
    .await;
    assert_eq!(status, 411, "{e}");
    assert_eq!(e["error"]["code"], "length_required");

    assert_eq!(stored_files(&s).len(), 1);
    assert_eq!(unfinished_uploads(&s), 0);
    s.stop().await;
}

#[tokio::test]
async fn same_content_is_stored_once_and_names_are_sanitised() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let id = file_ticket(&s, &ann, "Screen flickers").await;
    let other = file_ticket(&s, &ann, "Screen flickers").await;

    let (_, first) = upload(&s, &ann, id, "filename=one.png", "image/png", PNG.to_vec()).await;
    let (_, second) = upload(
        &s,
        &tech,
        other,
        "filename=two.png",
        "image/png",
        PNG.to_vec(),
    )
    .await;
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    let files = stored_files(&s);
    assert_eq!(files.len(), 1, "{files:?}");
    let sha = first["sha256"].as_str().unwrap();
    assert_eq!(files[0].file_name().unwrap().to_str().unwrap(), sha);
    assert_eq!(
        files[0]
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap(),
        &sha[..2]
    );
    assert_eq!(unfinished_uploads(&s), 0);

    // Both rows download the one file.
    for a in [&first, &second] {
        let resp = download(&s, &tech, a["url"].as_str().unwrap()).await;
        assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);
    }

    let (status, a) = upload(
        &s,
        &ann,
        id,
        "filename=..%2F..%2Fetc%2Fpasswd",
        "text/plain",
        b"root:x:0:0".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    assert_eq!(a["filename"], "passwd");
    let resp = download(&s, &ann, a["url"].as_str().unwrap()).await;
    let disposition = resp.headers()["content-disposition"].to_str().unwrap();
    assert_eq!(
        disposition,
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    );
    assert_eq!(stored_files(&s).len(), 2);

    // A raw upload needs a name.
    let (status, e) = upload(&s, &ann, id, "", "text/plain", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"]["code"], "missing_filename");
    s.stop().await;
}
