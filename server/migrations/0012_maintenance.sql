-- Preventive maintenance: plans, the assets they apply to (each with its own schedule),
-- meter readings, and work orders (tickets of type maintenance) with their evidence.
-- The rules are in server/src/domain/maintenance.rs; the evaluator in
-- server/src/maintenance.rs.

-- What to do and when. `trigger` is JSON (domain::maintenance::Trigger): a calendar rule
-- (cron, n-th weekday of the month, or an interval fixed to the schedule or floating from
-- the last completion), a meter threshold, and a maximum interval between completions;
-- whichever falls due first. `meter` repeats the trigger's meter name for lookups.
CREATE TABLE maintenance_plans (
    id                  INTEGER PRIMARY KEY,
    title               TEXT NOT NULL,
    instructions        TEXT NOT NULL DEFAULT '',
    -- JSON array of checklist item texts.
    checklist           TEXT NOT NULL DEFAULT '[]',
    -- JSON array of {"name": .., "quantity": ..}.
    parts               TEXT NOT NULL DEFAULT '[]',
    estimated_minutes   INTEGER,
    trigger             TEXT NOT NULL,
    meter               TEXT,
    -- Overrides the time zone of the asset's site.
    timezone            TEXT,
    -- Work orders are generated this long before they are due.
    lead_secs           INTEGER NOT NULL DEFAULT 0 CHECK (lead_secs >= 0),
    assignee_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    group_id            INTEGER REFERENCES groups(id) ON DELETE SET NULL,
    priority            INTEGER NOT NULL DEFAULT 4 CHECK (priority BETWEEN 1 AND 5),
    -- An open work order this long past due is escalated (once) to escalate_group_id.
    escalate_after_secs INTEGER CHECK (escalate_after_secs >= 0),
    escalate_group_id   INTEGER REFERENCES groups(id) ON DELETE SET NULL,
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX maintenance_plans_meter ON maintenance_plans(meter) WHERE meter IS NOT NULL;

-- What a plan applies to: single assets, every asset of a type, every asset at a place
-- (and the places below it).
CREATE TABLE maintenance_targets (
    plan_id INTEGER NOT NULL REFERENCES maintenance_plans(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('asset', 'type', 'location')),
    ref_id  INTEGER NOT NULL,
    PRIMARY KEY (plan_id, kind, ref_id)
) WITHOUT ROWID;

-- One row per plan and asset: that asset's own schedule.
--   anchor_at     when the plan started applying to the asset; occurrences before it are
--                 never generated (a new plan does not backfill)
--   cursor_at     due date of the last work order generated from the calendar
--   next_due_at   the next due date to generate, and its cause; NULL when nothing is
--                 due until a completion (a floating interval waiting for its work order)
--   generate_at   next_due_at minus the plan's lead time: when the evaluator acts
--   waiting       1 while the work order at cursor_at is open (a floating interval waits
--                 for its completion)
--   stale         1 when next_due_at must be computed again (new pair, plan edited)
--   meter_next    the meter value at which a meter work order is due
CREATE TABLE maintenance_schedules (
    plan_id      INTEGER NOT NULL REFERENCES maintenance_plans(id) ON DELETE CASCADE,
    asset_id     INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    anchor_at    INTEGER NOT NULL,
    cursor_at    INTEGER,
    waiting      INTEGER NOT NULL DEFAULT 0,
    last_done_at INTEGER,
    next_due_at  INTEGER,
    next_cause   TEXT,
    generate_at  INTEGER,
    stale        INTEGER NOT NULL DEFAULT 1,
    meter_next   REAL,
    PRIMARY KEY (plan_id, asset_id)
) WITHOUT ROWID;
CREATE INDEX maintenance_schedules_generate ON maintenance_schedules(generate_at)
    WHERE generate_at IS NOT NULL;
CREATE INDEX maintenance_schedules_stale ON maintenance_schedules(plan_id) WHERE stale = 1;
CREATE INDEX maintenance_schedules_asset ON maintenance_schedules(asset_id);

-- Readings of an asset's meters (pages printed, running hours), by hand or from an agent.
CREATE TABLE meter_readings (
    id       INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    meter    TEXT NOT NULL,
    value    REAL NOT NULL,
    read_at  INTEGER NOT NULL,
    source   TEXT NOT NULL
);
CREATE INDEX meter_readings_asset ON meter_readings(asset_id, meter, read_at);

-- One per plan, asset and due date (the unique key makes generation idempotent, even
-- with two servers on one database). The ticket carries queue, SLA and notifications.
--   state        open, done, missed (a later occurrence came due first) or cancelled
--   cause        schedule, meter, max_interval or manual
--   late_reason  why it was generated after it was due (the server was not running)
CREATE TABLE work_orders (
    id            INTEGER PRIMARY KEY,
    ticket_id     INTEGER UNIQUE REFERENCES tickets(id) ON DELETE SET NULL,
    plan_id       INTEGER NOT NULL REFERENCES maintenance_plans(id) ON DELETE CASCADE,
    asset_id      INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    due_at        INTEGER NOT NULL,
    cause         TEXT NOT NULL CHECK (cause IN ('schedule', 'meter', 'max_interval', 'manual')),
    state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done', 'missed', 'cancelled')),
    generated_at  INTEGER NOT NULL,
    late_reason   TEXT,
    meter_value   REAL,
    -- JSON array of {"item": .., "done": bool}
    checklist     TEXT NOT NULL DEFAULT '[]',
    notes         TEXT NOT NULL DEFAULT '',
    minutes_spent INTEGER,
    -- JSON array of {"name": .., "quantity": ..}
    parts_used    TEXT NOT NULL DEFAULT '[]',
    cost_cents    INTEGER,
    completed_at  INTEGER,
    completed_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    missed_at     INTEGER,
    missed_reason TEXT,
    escalated_at  INTEGER,
    UNIQUE (plan_id, asset_id, due_at)
);
CREATE INDEX work_orders_open ON work_orders(due_at) WHERE state = 'open';
CREATE INDEX work_orders_asset ON work_orders(asset_id, due_at);
CREATE INDEX work_orders_due ON work_orders(due_at);

-- When the evaluator last ran (any server process): a work order generated after its due
-- date says whether the server was down at the time.
CREATE TABLE maintenance_runs (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    last_run_at INTEGER NOT NULL
);
