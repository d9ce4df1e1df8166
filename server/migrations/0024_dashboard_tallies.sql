-- The staff dashboard's figures kept on write (db::dashboard), so that computing them
-- reads a few hundred rows instead of scanning ~100,000 open tickets, 80,000 ticket links
-- and 100,000 assets (~230 ms with 1,000,000 tickets, bench/ui-bench.sh).

-- Open tickets by priority, and open tickets past their SLA, beside the counts by status,
-- assignee and group that 0004 keeps.
INSERT INTO ticket_counts (key, n)
    SELECT 'priority:' || priority, count(*) FROM tickets
    WHERE status IN ('new', 'open', 'pending') GROUP BY priority;
INSERT INTO ticket_counts (key, n)
    SELECT 'breached', count(*) FROM tickets
    WHERE status IN ('new', 'open', 'pending') AND breached_at IS NOT NULL;

CREATE TRIGGER ticket_counts_dashboard_insert AFTER INSERT ON tickets
WHEN NEW.status IN ('new', 'open', 'pending') BEGIN
    INSERT INTO ticket_counts (key, n) VALUES ('priority:' || NEW.priority, 1)
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO ticket_counts (key, n) SELECT 'breached', 1 WHERE NEW.breached_at IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_dashboard_delete AFTER DELETE ON tickets
WHEN OLD.status IN ('new', 'open', 'pending') BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE key = 'priority:' || OLD.priority;
    UPDATE ticket_counts SET n = n - 1 WHERE key = 'breached' AND OLD.breached_at IS NOT NULL;
END;

CREATE TRIGGER ticket_counts_dashboard_update AFTER UPDATE OF status, priority, breached_at ON tickets
WHEN (OLD.status IN ('new', 'open', 'pending')) IS NOT (NEW.status IN ('new', 'open', 'pending'))
    OR OLD.priority IS NOT NEW.priority
    OR (OLD.breached_at IS NULL) IS NOT (NEW.breached_at IS NULL)
BEGIN
    UPDATE ticket_counts SET n = n - 1
        WHERE OLD.status IN ('new', 'open', 'pending') AND key = 'priority:' || OLD.priority;
    UPDATE ticket_counts SET n = n - 1
        WHERE OLD.status IN ('new', 'open', 'pending') AND OLD.breached_at IS NOT NULL
          AND key = 'breached';
    INSERT INTO ticket_counts (key, n) SELECT 'priority:' || NEW.priority, 1
        WHERE NEW.status IN ('new', 'open', 'pending')
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
    INSERT INTO ticket_counts (key, n) SELECT 'breached', 1
        WHERE NEW.status IN ('new', 'open', 'pending') AND NEW.breached_at IS NOT NULL
        ON CONFLICT (key) DO UPDATE SET n = n + 1;
END;

-- Tickets at risk: running, not breached, with under a fifth of their resolution time
-- left: now <= due and due - now < (due - created) / 5, that is
-- 4 * due + created < 5 * now. Only tickets at risk or just overdue fall in the range.
CREATE INDEX tickets_at_risk ON tickets(4 * resolution_due_at + created_at, resolution_due_at)
    WHERE status IN ('new', 'open') AND breached_at IS NULL AND sla_paused = 0;

-- Mean time to resolve per week, from the index alone.
DROP INDEX tickets_resolved;
CREATE INDEX tickets_resolved ON tickets(resolved_at, created_at) WHERE resolved_at IS NOT NULL;

-- Tickets per 100 devices: each link records the ticket's day and the asset's model and
-- site when it was made (a device moved later leaves its tickets where they happened),
-- and distinct tickets are counted per day and model, and per day and site.
ALTER TABLE ticket_assets ADD COLUMN day INTEGER;
ALTER TABLE ticket_assets ADD COLUMN model TEXT;
ALTER TABLE ticket_assets ADD COLUMN site_id INTEGER;

CREATE TABLE ticket_link_models (
    day     INTEGER NOT NULL,
    model   TEXT NOT NULL,
    tickets INTEGER NOT NULL,
    PRIMARY KEY (day, model)
) WITHOUT ROWID;

CREATE TABLE ticket_link_sites (
    day     INTEGER NOT NULL,
    site_id INTEGER NOT NULL,
    tickets INTEGER NOT NULL,
    PRIMARY KEY (day, site_id)
) WITHOUT ROWID;

-- Locations nest four deep at most (site, building, floor, room: db::locations::child_kind).
UPDATE ticket_assets SET
    day = (SELECT created_at / 86400 FROM tickets WHERE id = ticket_assets.ticket_id),
    model = (SELECT nullif(model, '') FROM assets WHERE id = ticket_assets.asset_id),
    site_id = (SELECT CASE WHEN l1.parent_id IS NULL THEN l1.id
                           WHEN l2.parent_id IS NULL THEN l2.id
                           WHEN l3.parent_id IS NULL THEN l3.id
                           ELSE l3.parent_id END
               FROM assets a JOIN locations l1 ON l1.id = a.location_id
               LEFT JOIN locations l2 ON l2.id = l1.parent_id
               LEFT JOIN locations l3 ON l3.id = l2.parent_id
               WHERE a.id = ticket_assets.asset_id);

INSERT INTO ticket_link_models (day, model, tickets)
    SELECT day, model, count(DISTINCT ticket_id) FROM ticket_assets
    WHERE day IS NOT NULL AND model IS NOT NULL GROUP BY day, model;
INSERT INTO ticket_link_sites (day, site_id, tickets)
    SELECT day, site_id, count(DISTINCT ticket_id) FROM ticket_assets
    WHERE day IS NOT NULL AND site_id IS NOT NULL GROUP BY day, site_id;

CREATE TRIGGER ticket_assets_tally_insert AFTER INSERT ON ticket_assets BEGIN
    UPDATE ticket_assets SET
        day = (SELECT created_at / 86400 FROM tickets WHERE id = NEW.ticket_id),
        model = (SELECT nullif(model, '') FROM assets WHERE id = NEW.asset_id),
        site_id = (SELECT CASE WHEN l1.parent_id IS NULL THEN l1.id
                               WHEN l2.parent_id IS NULL THEN l2.id
                               WHEN l3.parent_id IS NULL THEN l3.id
                               ELSE l3.parent_id END
                   FROM assets a JOIN locations l1 ON l1.id = a.location_id
                   LEFT JOIN locations l2 ON l2.id = l1.parent_id
                   LEFT JOIN locations l3 ON l3.id = l2.parent_id
                   WHERE a.id = NEW.asset_id)
        WHERE ticket_id = NEW.ticket_id AND asset_id = NEW.asset_id;
    INSERT INTO ticket_link_models (day, model, tickets)
        SELECT t.day, t.model, 1 FROM ticket_assets t
        WHERE t.ticket_id = NEW.ticket_id AND t.asset_id = NEW.asset_id
          AND t.day IS NOT NULL AND t.model IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ticket_assets o WHERE o.ticket_id = NEW.ticket_id
                          AND o.asset_id <> NEW.asset_id AND o.model = t.model)
        ON CONFLICT (day, model) DO UPDATE SET tickets = tickets + 1;
    INSERT INTO ticket_link_sites (day, site_id, tickets)
        SELECT t.day, t.site_id, 1 FROM ticket_assets t
        WHERE t.ticket_id = NEW.ticket_id AND t.asset_id = NEW.asset_id
          AND t.day IS NOT NULL AND t.site_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ticket_assets o WHERE o.ticket_id = NEW.ticket_id
                          AND o.asset_id <> NEW.asset_id AND o.site_id = t.site_id)
        ON CONFLICT (day, site_id) DO UPDATE SET tickets = tickets + 1;
END;

CREATE TRIGGER ticket_assets_tally_delete AFTER DELETE ON ticket_assets BEGIN
    UPDATE ticket_link_models SET tickets = tickets - 1
        WHERE day = OLD.day AND model = OLD.model
          AND NOT EXISTS (SELECT 1 FROM ticket_assets o
                          WHERE o.ticket_id = OLD.ticket_id AND o.model = OLD.model);
    UPDATE ticket_link_sites SET tickets = tickets - 1
        WHERE day = OLD.day AND site_id = OLD.site_id
          AND NOT EXISTS (SELECT 1 FROM ticket_assets o
                          WHERE o.ticket_id = OLD.ticket_id AND o.site_id = OLD.site_id);
END;

-- Devices per model and per location (the rates' denominators), and per state and
-- purchase date (assets by state and by age). 0 stands for no state, '' for no date.
CREATE TABLE asset_model_counts (
    model TEXT PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE asset_location_counts (
    location_id INTEGER PRIMARY KEY,
    n           INTEGER NOT NULL
);

CREATE TABLE asset_age_counts (
    state_id      INTEGER NOT NULL,
    purchase_date TEXT NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (state_id, purchase_date)
) WITHOUT ROWID;

INSERT INTO asset_model_counts (model, n)
    SELECT model, count(*) FROM assets WHERE model <> '' GROUP BY model;
INSERT INTO asset_location_counts (location_id, n)
    SELECT location_id, count(*) FROM assets WHERE location_id IS NOT NULL GROUP BY location_id;
INSERT INTO asset_age_counts (state_id, purchase_date, n)
    SELECT coalesce(state_id, 0), coalesce(purchase_date, ''), count(*) FROM assets GROUP BY 1, 2;

CREATE TRIGGER asset_counts_insert AFTER INSERT ON assets BEGIN
    INSERT INTO asset_model_counts (model, n) SELECT NEW.model, 1 WHERE NEW.model <> ''
        ON CONFLICT (model) DO UPDATE SET n = n + 1;
    INSERT INTO asset_location_counts (location_id, n)
        SELECT NEW.location_id, 1 WHERE NEW.location_id IS NOT NULL
        ON CONFLICT (location_id) DO UPDATE SET n = n + 1;
    INSERT INTO asset_age_counts (state_id, purchase_date, n)
        VALUES (coalesce(NEW.state_id, 0), coalesce(NEW.purchase_date, ''), 1)
        ON CONFLICT (state_id, purchase_date) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER asset_counts_delete AFTER DELETE ON assets BEGIN
    UPDATE asset_model_counts SET n = n - 1 WHERE model = OLD.model;
    UPDATE asset_location_counts SET n = n - 1 WHERE location_id = OLD.location_id;
    UPDATE asset_age_counts SET n = n - 1
        WHERE state_id = coalesce(OLD.state_id, 0) AND purchase_date = coalesce(OLD.purchase_date, '');
END;

CREATE TRIGGER asset_counts_model AFTER UPDATE OF model ON assets
WHEN OLD.model IS NOT NEW.model BEGIN
    UPDATE asset_model_counts SET n = n - 1 WHERE model = OLD.model;
    INSERT INTO asset_model_counts (model, n) SELECT NEW.model, 1 WHERE NEW.model <> ''
        ON CONFLICT (model) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER asset_counts_location AFTER UPDATE OF location_id ON assets
WHEN OLD.location_id IS NOT NEW.location_id BEGIN
    UPDATE asset_location_counts SET n = n - 1 WHERE location_id = OLD.location_id;
    INSERT INTO asset_location_counts (location_id, n)
        SELECT NEW.location_id, 1 WHERE NEW.location_id IS NOT NULL
        ON CONFLICT (location_id) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER asset_counts_age AFTER UPDATE OF state_id, purchase_date ON assets
WHEN OLD.state_id IS NOT NEW.state_id OR OLD.purchase_date IS NOT NEW.purchase_date BEGIN
    UPDATE asset_age_counts SET n = n - 1
        WHERE state_id = coalesce(OLD.state_id, 0) AND purchase_date = coalesce(OLD.purchase_date, '');
    INSERT INTO asset_age_counts (state_id, purchase_date, n)
        VALUES (coalesce(NEW.state_id, 0), coalesce(NEW.purchase_date, ''), 1)
        ON CONFLICT (state_id, purchase_date) DO UPDATE SET n = n + 1;
END;

-- The counts above replace the scan this index served.
DROP INDEX assets_dashboard;
