//! Who sees which ticket files: other employees and internal files are 404, files on
//! internal notes stay internal; and the ticket page's upload form with its CSRF token.

use crate::attachments::{
    PNG, download, multipart_body, multipart_type, stored_files, upload, upload_form,
};
use crate::browser::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

#[tokio::test]
async fn other_employees_and_internal_files_are_404() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, bob) = person(&s, Role::Employee, "bob@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let id = file_ticket(&s, &ann, "Screen flickers").await;
    let (_, public) = upload(&s, &ann, id, "filename=a.png", "image/png", PNG.to_vec()).await;
    let public_url = public["url"].as_str().unwrap().to_owned();

    // Bob sees nothing of Ann's ticket.
    let (status, _) = s
        .get_json(&format!("/api/v1/tickets/{id}/attachments"), &bob)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        download(&s, &bob, &public_url).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = upload(&s, &bob, id, "filename=b.txt", "text/plain", b"hi".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Staff add an internal file; the requester never sees it.
    let (status, internal) = upload(
        &s,
        &tech,
        id,
        "filename=diagnosis.txt&internal=true",
        "text/plain",
        b"fuser worn".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{internal}");
    assert_eq!(internal["internal"], true);
    let internal_url = internal["url"].as_str().unwrap().to_owned();
    let (_, list) = s
        .get_json(&format!("/api/v1/tickets/{id}/attachments"), &ann)
        .await;
    let ids: Vec<&Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["id"])
        .collect();
    assert_eq!(ids, [&public["id"]], "{list}");
    let (_, t) = s.get_json(&format!("/api/v1/tickets/{id}"), &ann).await;
    assert_eq!(t["attachments"].as_array().unwrap().len(), 1, "{t}");
    assert_eq!(
        download(&s, &ann, &internal_url).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, list) = s
        .get_json(&format!("/api/v1/tickets/{id}/attachments"), &tech)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        download(&s, &tech, &internal_url).await.status(),
        StatusCode::OK
    );

    // Employees cannot make a file internal; a file on a note is as internal as the note.
    let (status, e) = upload(
        &s,
        &ann,
        id,
        "filename=c.txt&internal=true",
        "text/plain",
        b"hi".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    let (_, t) = post(
        &s,
        &format!("/api/v1/tickets/{id}/comments"),
        &tech,
        json!({"body": "see log", "internal": true}),
    )
    .await;
    let note = t["comments"].as_array().unwrap().last().unwrap()["id"].clone();
    let (status, on_note) = upload(
        &s,
        &tech,
        id,
        &format!("filename=log.txt&comment_id={note}"),
        "text/plain",
        b"log".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{on_note}");
    assert_eq!(on_note["internal"], true);
    assert_eq!(on_note["comment_id"], note);
    let (status, _) = upload(
        &s,
        &ann,
        id,
        &format!("filename=log.txt&comment_id={note}"),
        "text/plain",
        b"log".to_vec(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the note is not Ann's to see"
    );

    // The event for the internal file does not name it.
    let (_, events) = s
        .get_json("/api/v1/events?kind=ticket.attachment_added", &tech)
        .await;
    let internal_event = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["payload"]["attachment_id"] == internal["id"])
        .unwrap();
    assert_eq!(internal_event["payload"]["internal"], true);
    assert!(internal_event["payload"].get("filename").is_none());
    s.stop().await;
}

#[tokio::test]
async fn the_ticket_page_uploads_with_its_csrf_token() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let id = file_ticket(&s, &ann, "Screen flickers").await;
    let login = submit_login(&s, "ann@example.test", USER_PASSWORD, Some("/tickets")).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&login);
    let page_path = format!("/tickets/{id}");
    let page = page_text(&s, &cookie, &page_path).await;
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(page.contains("No files yet."));
    let csrf = hidden_field(&page, "csrf");

    let post_form = |fields: Vec<(&'static str, String)>, name: &'static str| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = multipart_body(&fields, (name, "image/png", PNG));
        s.http
            .post(s.url(&format!("/tickets/{id}/attachments")))
            .header("cookie", &cookie)
            .header("content-type", multipart_type())
            .body(body)
            .send()
    };

    // Without the token, or with a wrong one: refused, nothing stored.
    let resp = post_form(Vec::new(), "forged.png").await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.text().await.unwrap().contains("Form expired"));
    let resp = post_form(vec![("csrf", "0".repeat(csrf.len()))], "forged.png")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(stored_files(&s).is_empty());

    let resp = post_form(vec![("csrf", csrf.clone())], "from the form.png")
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        resp.headers()["location"],
        format!("/tickets/{id}#attachments")
    );
    let (_, list) = s
        .get_json(&format!("/api/v1/tickets/{id}/attachments"), &ann)
        .await;
    let a = &list["items"][0];
    assert_eq!(a["filename"], "from the form.png", "{list}");
    assert_eq!(a["internal"], false);

    // The page links the file; the session downloads it.
    let page = page_text(&s, &cookie, &page_path).await;
    let url = a["url"].as_str().unwrap();
    assert!(page.contains(&format!("href=\"{url}\"")), "{page}");
    assert!(page.contains("from the form.png"));
    let resp = get_page(&s, &cookie, url).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), PNG);

    // The API's multipart form works with a token (no CSRF needed) ...
    let resp = upload_form(&s, &ann, id, ("api.png", "image/png", PNG)).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    // ... but with the session cookie it needs the X-CSRF-Token header.
    let resp = s
        .http
        .post(s.url(&format!("/api/v1/tickets/{id}/attachments?filename=x.png")))
        .header("cookie", &cookie)
        .header("content-type", "image/png")
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    s.stop().await;
}
