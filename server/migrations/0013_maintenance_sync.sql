-- Which assets a maintenance plan applies to changes only when assets, targets, plans,
-- places, states or types change. Those changes set a flag; the evaluator rebuilds the
-- plan-asset schedules only when it is set (an idle pass over 100,000 schedules costs
-- nothing instead of ~300 ms). Check-ins that change none of these columns leave it alone.
CREATE TABLE maintenance_sync (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    dirty INTEGER NOT NULL
);
INSERT INTO maintenance_sync (id, dirty) VALUES (1, 1);

CREATE TRIGGER maintenance_sync_asset_added AFTER INSERT ON assets
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_asset_moved AFTER UPDATE OF kind, location_id, state_id ON assets
WHEN OLD.kind IS NOT NEW.kind OR OLD.location_id IS NOT NEW.location_id
    OR OLD.state_id IS NOT NEW.state_id
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_target_added AFTER INSERT ON maintenance_targets
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_target_removed AFTER DELETE ON maintenance_targets
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_plan_added AFTER INSERT ON maintenance_plans
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_plan_switched AFTER UPDATE OF active ON maintenance_plans
WHEN OLD.active IS NOT NEW.active
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_place_moved AFTER UPDATE OF parent_id ON locations
WHEN OLD.parent_id IS NOT NEW.parent_id
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_place_removed AFTER DELETE ON locations
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_state_rekinded AFTER UPDATE OF kind ON asset_states
WHEN OLD.kind IS NOT NEW.kind
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_type_rekeyed AFTER UPDATE OF key ON asset_types
WHEN OLD.key IS NOT NEW.key
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;

CREATE TRIGGER maintenance_sync_type_removed AFTER DELETE ON asset_types
BEGIN
    UPDATE maintenance_sync SET dirty = 1 WHERE id = 1 AND dirty = 0;
END;
