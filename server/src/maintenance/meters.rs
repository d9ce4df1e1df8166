//! Meter readings, by hand or from agents, and the work orders a crossing makes due.

use super::{Ctx, generate, load_plan};
use crate::db::{self, DbResult};
use crate::domain::maintenance::{Cause, Due, meter_crossing};
use rusqlite::Connection;

/// Records a meter reading and generates the work orders it makes due (once per
/// threshold crossed). A reading older than the latest is stored but triggers nothing.
/// Returns the reading's id and the work orders generated.
#[allow(clippy::too_many_arguments)]
pub fn record_reading(
    c: &Connection,
    ctx: &Ctx<'_>,
    asset_id: i64,
    meter: &str,
    value: f64,
    read_at: i64,
    source: &str,
    now: i64,
) -> DbResult<(i64, Vec<i64>)> {
    let latest = db::maintenance::latest_reading(c, asset_id, meter)?;
    let id = db::maintenance::insert_reading(c, asset_id, meter, value, read_at, source)?;
    let mut made = Vec::new();
    if latest.is_some_and(|l| l.read_at > read_at) {
        return Ok((id, made));
    }
    for s in db::maintenance::metered(c, asset_id, meter)? {
        let Some(plan) = load_plan(c, s.plan_id)? else {
            continue;
        };
        let Some(rule) = &plan.compiled.meter else {
            continue;
        };
        let (fire, next) = meter_crossing(rule, s.meter_next, value);
        if fire {
            let due = Due {
                at: read_at,
                cause: Cause::Meter,
            };
            if let Some(w) = generate(c, ctx, &plan, asset_id, due, None, Some(value), now)? {
                made.push(w);
            }
        }
        c.execute(
            "UPDATE maintenance_schedules SET meter_next = ?3 WHERE plan_id = ?1 AND asset_id = ?2",
            rusqlite::params![s.plan_id, asset_id, next],
        )?;
    }
    Ok((id, made))
}

/// The meter agents report with every check-in: hours since the machine booted (a plan
/// on it fires when a machine has run that long without a reboot).
pub const UPTIME_METER: &str = "uptime_hours";

/// Records the meters an agent reported, when a plan meters them on this asset: at most
/// one stored reading an hour, unless the reading crosses a threshold. Returns the work
/// orders generated. Costs one indexed lookup when no plan meters the asset.
pub fn record_agent_meters(
    c: &Connection,
    ctx: &Ctx<'_>,
    asset_id: i64,
    uptime_secs: u64,
    now: i64,
) -> DbResult<Vec<i64>> {
    let schedules = db::maintenance::metered(c, asset_id, UPTIME_METER)?;
    if schedules.is_empty() {
        return Ok(Vec::new());
    }
    let value = (uptime_secs as f64 / 3600.0 * 100.0).round() / 100.0;
    let crosses = schedules
        .iter()
        .any(|s| s.meter_next.is_none_or(|next| value >= next));
    let recent = db::maintenance::latest_reading(c, asset_id, UPTIME_METER)?
        .is_some_and(|l| (0..3600).contains(&(now - l.read_at)));
    if recent && !crosses {
        return Ok(Vec::new());
    }
    let (_, made) = record_reading(c, ctx, asset_id, UPTIME_METER, value, now, "agent", now)?;
    Ok(made)
}
