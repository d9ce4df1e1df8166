//! Canned responses over HTTP: shared by staff, hidden from employees, deleted by their
//! author or an admin, and checked on the way in.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use steward_server::domain::roles::Role;

#[tokio::test]
async fn canned_responses_are_shared_by_staff_and_deleted_by_author_or_admin() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (tess_id, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let (_, tom) = person(&s, Role::Technician, "tom@example.test").await;
    let employee = s.token_for(Role::Employee).await;
    let path = "/api/v1/canned-responses";

    let (status, r) = post(
        &s,
        path,
        &tess,
        json!({"title": " Password reset ", "body": "Go to https://id.example/reset"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{r}");
    assert_eq!(r["title"], "Password reset");
    assert_eq!(r["created_by"]["id"], tess_id);
    let first = r["id"].as_i64().unwrap();
    let (_, r) = post(
        &s,
        path,
        &tess,
        json!({"title": "VPN", "body": "Reinstall the client"}),
    )
    .await;
    let second = r["id"].as_i64().unwrap();

    let (status, list) = s.get_json(path, &tom).await;
    assert_eq!(status, StatusCode::OK);
    let titles: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Password reset", "VPN"]);

    // Employees neither read nor write them.
    assert_eq!(s.get_json(path, &employee).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        post(&s, path, &employee, json!({"title": "t", "body": "b"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&s, &format!("{path}/{first}"), &employee).await,
        StatusCode::FORBIDDEN
    );

    // Another technician may not delete Tess's; Tess and the admin may.
    assert_eq!(
        delete(&s, &format!("{path}/{first}"), &tom).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        delete(&s, &format!("{path}/{first}"), &tess).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&s, &format!("{path}/{second}"), &admin).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete(&s, &format!("{path}/{second}"), &admin).await,
        StatusCode::NOT_FOUND
    );
    let (_, list) = s.get_json(path, &tom).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");

    for (body, code) in [
        (json!({"title": "", "body": "b"}), "invalid_title"),
        (
            json!({"title": "x".repeat(201), "body": "b"}),
            "invalid_title",
        ),
        (
            json!({"title": "t", "body": "b".repeat(20_001)}),
            "invalid_body_text",
        ),
        (json!({"title": "t", "body": "  "}), "invalid_body_text"),
        (json!({"title": "t"}), "invalid_body"),
    ] {
        let (status, err) = post(&s, path, &tess, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        assert_eq!(err["error"]["code"], code);
    }
    s.stop().await;
}
