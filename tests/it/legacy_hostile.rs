//! Hostile and wrong requests to the legacy endpoints: each gets a 4xx, nothing is
//! stored, and the server stays healthy.

use crate::helpers::*;
use crate::legacy::{PASSWORD, USER, legacy_server};
use reqwest::StatusCode;
use serde_json::Value;
use std::io::Write;

fn zlib(doc: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(doc).unwrap();
    e.finish().unwrap()
}

const PROLOG: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REQUEST>\n  <DEVICEID>pc-042-2026-11-25-10-00-00</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n  <TOKEN>12345678</TOKEN>\n</REQUEST>\n";

async fn nothing_stored(s: &TestServer) {
    let (assets, agents): (i64, i64) = s
        .with_db(|db| {
            db.read_blocking(|c| {
                Ok(c.query_row(
                    "SELECT (SELECT count(*) FROM assets), (SELECT count(*) FROM agents)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?)
            })
            .unwrap()
        })
        .await;
    assert_eq!((assets, agents), (0, 0));
    let health = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn hostile_documents_are_refused_and_change_nothing() {
    let s = legacy_server().await;
    let billion_laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<REQUEST><DEVICEID>&lol9;</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><REQUEST><DEVICEID>&x;</DEVICEID><QUERY>PROLOG</QUERY></REQUEST>"#;
    let bomb = zlib(&vec![b' '; 200 << 20]);
    let whole = zlib(PROLOG.as_bytes());
    let truncated = whole[..whole.len() - 8].to_vec();
    let mut bad_utf8 = PROLOG.as_bytes().to_vec();
    bad_utf8.splice(60..60, [0xff, 0xfe, 0xc3]);
    let huge = vec![b'<'; 50 << 20];
    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "zlib bomb",
            bomb,
            StatusCode::PAYLOAD_TOO_LARGE,
            "document_too_big",
        ),
        (
            "billion laughs",
            billion_laughs.as_bytes().to_vec(),
            StatusCode::BAD_REQUEST,
            "forbidden_construct",
        ),
        (
            "external entity",
            external.as_bytes().to_vec(),
            StatusCode::BAD_REQUEST,
            "forbidden_construct",
        ),
        ("50 MB body", huge, StatusCode::PAYLOAD_TOO_LARGE, ""),
        (
            "truncated zlib",
            truncated,
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            "invalid UTF-8",
            bad_utf8,
            StatusCode::BAD_REQUEST,
            "invalid_document",
        ),
        (
            "not XML nor JSON",
            b"PROLOG please".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_document",
        ),
        (
            "broken JSON",
            b"{\"action\": \"inventory\", \"deviceid\": ".to_vec(),
            StatusCode::BAD_REQUEST,
            "",
        ),
    ];
    for (what, body, status, code) in cases {
        let resp = s
            .http
            .post(s.url("/ocsinventory"))
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", "application/x-compress")
            .body(body)
            .send()
            .await;
        // A server may close the connection on a body over the limit before reading it.
        let Ok(resp) = resp else {
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{what}");
            continue;
        };
        assert_eq!(resp.status(), status, "{what}");
        if !code.is_empty() {
            let e: Value = resp.json().await.unwrap();
            assert_eq!(e["error"]["code"], code, "{what}: {e}");
        }
    }
    nothing_stored(&s).await;
}

#[tokio::test]
async fn credentials_networks_and_the_switch_are_enforced() {
    let s = legacy_server().await;
    // No credentials, then wrong ones: 401 with the realm the OCS agent needs.
    for auth in [None, Some("wrong password")] {
        let mut req = s.http.post(s.url("/plugins/fusioninventory/")).body(PROLOG);
        if let Some(p) = auth {
            req = req.basic_auth(USER, Some(p));
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()["www-authenticate"].to_str().unwrap(),
            "Basic realm=\"Steward\""
        );
    }
    // The right ones: a PROLOG gets its reply, compressed like the request.
    let resp = s
        .http
        .post(s.url("/plugins/fusioninventory/"))
        .basic_auth(USER, Some(PASSWORD))
        .body(zlib(PROLOG.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x78, 0x9c], "zlib with the default header");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::ZlibDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    assert!(text.contains("<RESPONSE>SEND</RESPONSE>"), "{text}");
    assert!(text.contains("<PROLOG_FREQ>24</PROLOG_FREQ>"), "{text}");
    s.stop().await;

    // Only from allowed networks.
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.legacy_inventory.enabled = true;
        c.legacy_inventory.username = USER.into();
        c.legacy_inventory.password = Some(PASSWORD.into());
        c.legacy_inventory.allowed_networks = vec!["10.0.0.0/8".into()];
    })
    .await;
    let resp = s
        .http
        .post(s.url("/ocsinventory"))
        .basic_auth(USER, Some(PASSWORD))
        .body(PROLOG)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    nothing_stored(&s).await;
    s.stop().await;

    // Off by default.
    let s = TestServer::spawn().await;
    let resp = s
        .http
        .post(s.url("/ocsinventory"))
        .basic_auth(USER, Some(PASSWORD))
        .body(PROLOG)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    nothing_stored(&s).await;
}

#[tokio::test]
async fn a_revoked_legacy_device_is_refused() {
    let s = legacy_server().await;
    let admin = s.admin_token().await;
    let prolog = || {
        s.http
            .post(s.url("/ocsinventory"))
            .basic_auth(USER, Some(PASSWORD))
            .header("User-Agent", "OCS-NG_unified_unix_agent_v2.10.0")
            .body(PROLOG)
            .send()
    };
    assert_eq!(prolog().await.unwrap().status(), StatusCode::OK);
    let (status, body) = post(
        &s,
        "/api/v1/agents/ocs:pc-042-2026-11-25-10-00-00/revoke",
        &admin,
        serde_json::json!({}),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    let resp = prolog().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "agent_revoked");
}
