//! Which assets a plan applies to follows the assets: new ones of a targeted type join,
//! ones moved out of a targeted place or retired leave, and nothing else is rebuilt.

use crate::asset_records::{new_asset, place};
use crate::helpers::*;
use crate::maintenance::{now, pass, plan};
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

async fn assets_of(s: &TestServer, token: &str, plan_id: &Value) -> Vec<String> {
    let (_, page) = s
        .get_json(
            &format!("/api/v1/maintenance/plans/{plan_id}/assets"),
            token,
        )
        .await;
    let mut names: Vec<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["asset_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn schedules_follow_assets_as_they_arrive_move_and_retire() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let plant = place(&s, &admin, None, "Plant").await;
    let hall = place(&s, &admin, Some(plant), "Hall").await;
    let office = place(&s, &admin, None, "Office").await;
    let a = new_asset(
        &s,
        &tech,
        json!({"type": "hvac", "name": "AHU 1", "location_id": hall}),
    )
    .await;
    new_asset(
        &s,
        &tech,
        json!({"type": "hvac", "name": "AHU 2", "location_id": office}),
    )
    .await;
    let p = plan(
        &s,
        &tech,
        json!({
            "title": "Plant rounds",
            "trigger": {"calendar": {"kind": "cron", "expr": "0 8 * * 1"}},
            "targets": [{"kind": "location", "id": plant}],
        }),
    )
    .await;
    assert_eq!(
        assets_of(&s, &tech, &p["id"]).await,
        ["AHU 1"],
        "places below count"
    );

    // Nothing changed: a pass rebuilds nothing.
    let idle = pass(&s, now()).await;
    assert_eq!((idle.schedules_added, idle.schedules_removed), (0, 0));

    // A new asset in the hall joins; AHU 1 moving to the office leaves.
    new_asset(
        &s,
        &tech,
        json!({"type": "hvac", "name": "AHU 3", "location_id": hall}),
    )
    .await;
    let (status, moved) = patch(
        &s,
        &format!("/api/v1/assets/{}", a["id"]),
        &tech,
        json!({"location_id": office}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let step = pass(&s, now()).await;
    assert_eq!(
        (step.schedules_added, step.schedules_removed),
        (1, 1),
        "{step:?}"
    );
    assert_eq!(assets_of(&s, &tech, &p["id"]).await, ["AHU 3"]);

    // Retiring the asset (an archived state) takes it off the plan.
    let (_, ahu3) = s.get_json("/api/v1/assets?q=AHU%203", &tech).await;
    let id = ahu3["items"][0]["id"].clone();
    let (status, retired) = patch(
        &s,
        &format!("/api/v1/assets/{id}"),
        &tech,
        json!({"state_id": 4}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{retired}");
    pass(&s, now()).await;
    assert!(assets_of(&s, &tech, &p["id"]).await.is_empty());
}
