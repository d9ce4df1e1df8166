-- The software catalog: every title and version across the fleet with its install count,
-- kept on write by triggers on asset_software; installs and removals per title and day;
-- licenses with seats assigned to machines or people.

-- "Which machines have this title in these versions": one index range per version,
-- already in asset order.
CREATE INDEX asset_software_name_version ON asset_software(name, version, asset_id);

-- Machines with each title (any version) and how many distinct versions are installed.
CREATE TABLE software_titles (
    name     TEXT PRIMARY KEY,
    installs INTEGER NOT NULL,
    versions INTEGER NOT NULL
) WITHOUT ROWID;

-- Machines with each version of a title. A machine with one version in two architectures
-- or from two sources counts once. Rows leave when their count reaches 0.
CREATE TABLE software_versions (
    name     TEXT NOT NULL,
    version  TEXT NOT NULL,
    installs INTEGER NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

INSERT INTO software_versions (name, version, installs)
    SELECT name, version, count(DISTINCT asset_id) FROM asset_software GROUP BY name, version;
INSERT INTO software_titles (name, installs, versions)
    SELECT name, count(DISTINCT asset_id), count(DISTINCT version) FROM asset_software GROUP BY name;

-- The counts follow every insert and delete of asset_software (check-ins, deleted assets
-- through ON DELETE CASCADE, importers). Inserts are counted BEFORE the row lands, so an
-- INSERT OR REPLACE of a row that is already there (the replaced row is deleted without
-- firing delete triggers while recursive_triggers is off, as Steward runs) counts nothing.
-- A machine's first row of a title (or of a title's version) adds one; its last removes one.
CREATE TRIGGER asset_software_counts_insert BEFORE INSERT ON asset_software
BEGIN
    INSERT INTO software_titles (name, installs, versions) VALUES (
        NEW.name,
        NOT EXISTS (SELECT 1 FROM asset_software WHERE asset_id = NEW.asset_id AND name = NEW.name),
        NOT EXISTS (SELECT 1 FROM software_versions WHERE name = NEW.name AND version = NEW.version))
    ON CONFLICT (name) DO UPDATE SET installs = installs + excluded.installs,
                                     versions = versions + excluded.versions
        WHERE excluded.installs + excluded.versions > 0;
    INSERT INTO software_versions (name, version, installs)
        SELECT NEW.name, NEW.version, 1
        WHERE NOT EXISTS (SELECT 1 FROM asset_software
                          WHERE asset_id = NEW.asset_id AND name = NEW.name AND version = NEW.version)
    ON CONFLICT (name, version) DO UPDATE SET installs = installs + 1;
END;

CREATE TRIGGER asset_software_counts_delete AFTER DELETE ON asset_software
BEGIN
    UPDATE software_versions SET installs = installs - 1
        WHERE name = OLD.name AND version = OLD.version
          AND NOT EXISTS (SELECT 1 FROM asset_software
                          WHERE asset_id = OLD.asset_id AND name = OLD.name AND version = OLD.version);
    DELETE FROM software_versions WHERE name = OLD.name AND version = OLD.version AND installs <= 0;
    UPDATE software_titles SET
        installs = installs - NOT EXISTS (SELECT 1 FROM asset_software
                                          WHERE asset_id = OLD.asset_id AND name = OLD.name),
        versions = versions - NOT EXISTS (SELECT 1 FROM software_versions
                                          WHERE name = OLD.name AND version = OLD.version)
        WHERE name = OLD.name;
    DELETE FROM software_titles WHERE name = OLD.name AND installs <= 0;
END;

-- Re-keying a row in place (no Steward code does) is judged after the update: the new
-- key is counted first, then the old one released, so a count never passes through 0.
-- An UPDATE OR IGNORE that skips a row fires nothing; UPDATE OR REPLACE on this table
-- would delete the row it collides with silently, so it must not be used.
CREATE TRIGGER asset_software_counts_rekey AFTER UPDATE OF asset_id, name, version ON asset_software
    WHEN OLD.asset_id IS NOT NEW.asset_id OR OLD.name IS NOT NEW.name OR OLD.version IS NOT NEW.version
BEGIN
    INSERT INTO software_titles (name, installs, versions) VALUES (
        NEW.name,
        (SELECT count(*) FROM asset_software WHERE asset_id = NEW.asset_id AND name = NEW.name)
            - 1 + (OLD.asset_id = NEW.asset_id AND OLD.name = NEW.name) = 0,
        NOT EXISTS (SELECT 1 FROM software_versions WHERE name = NEW.name AND version = NEW.version))
    ON CONFLICT (name) DO UPDATE SET installs = installs + excluded.installs,
                                     versions = versions + excluded.versions
        WHERE excluded.installs + excluded.versions > 0;
    INSERT INTO software_versions (name, version, installs)
        SELECT NEW.name, NEW.version, 1
        WHERE (SELECT count(*) FROM asset_software
               WHERE asset_id = NEW.asset_id AND name = NEW.name AND version = NEW.version) = 1
    ON CONFLICT (name, version) DO UPDATE SET installs = installs + 1;
    UPDATE software_versions SET installs = installs - 1
        WHERE name = OLD.name AND version = OLD.version
          AND NOT EXISTS (SELECT 1 FROM asset_software
                          WHERE asset_id = OLD.asset_id AND name = OLD.name AND version = OLD.version);
    DELETE FROM software_versions WHERE name = OLD.name AND version = OLD.version AND installs <= 0;
    UPDATE software_titles SET
        installs = installs - NOT EXISTS (SELECT 1 FROM asset_software
                                          WHERE asset_id = OLD.asset_id AND name = OLD.name),
        versions = versions - NOT EXISTS (SELECT 1 FROM software_versions
                                          WHERE name = OLD.name AND version = OLD.version)
        WHERE name = OLD.name;
    DELETE FROM software_titles WHERE name = OLD.name AND installs <= 0;
END;

-- Installs, removals, upgrades and downgrades of each title per UTC day (days since
-- 1970-01-01), counted once per machine and report by db::inventory when a known
-- machine's software changes. A machine's first report and a deleted asset are fleet
-- changes, not installs or removals, and are not counted here.
CREATE TABLE software_daily (
    name       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    installed  INTEGER NOT NULL DEFAULT 0,
    removed    INTEGER NOT NULL DEFAULT 0,
    upgraded   INTEGER NOT NULL DEFAULT 0,
    downgraded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, day)
) WITHOUT ROWID;

-- A license: seats for the software titles it covers (exact names as agents report them).
-- `assigned` is kept by the triggers on license_seats.
CREATE TABLE licenses (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    seats      INTEGER NOT NULL CHECK (seats >= 0),
    assigned   INTEGER NOT NULL DEFAULT 0,
    expires_on TEXT,
    cost_cents INTEGER CHECK (cost_cents >= 0),
    notes      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE license_titles (
    license_id INTEGER NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    PRIMARY KEY (license_id, name)
) WITHOUT ROWID;
CREATE INDEX license_titles_name ON license_titles(name);

-- A seat held by one machine or one person.
CREATE TABLE license_seats (
    id          INTEGER PRIMARY KEY,
    license_id  INTEGER NOT NULL REFERENCES licenses(id) ON DELETE CASCADE,
    asset_id    INTEGER REFERENCES assets(id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users(id) ON DELETE CASCADE,
    assigned_at INTEGER NOT NULL,
    assigned_by TEXT NOT NULL,
    CHECK ((asset_id IS NULL) <> (user_id IS NULL))
);
CREATE UNIQUE INDEX license_seats_asset ON license_seats(license_id, asset_id) WHERE asset_id IS NOT NULL;
CREATE UNIQUE INDEX license_seats_user ON license_seats(license_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX license_seats_asset_any ON license_seats(asset_id) WHERE asset_id IS NOT NULL;
CREATE INDEX license_seats_user_any ON license_seats(user_id) WHERE user_id IS NOT NULL;

CREATE TRIGGER license_seats_count_insert AFTER INSERT ON license_seats
BEGIN
    UPDATE licenses SET assigned = assigned + 1 WHERE id = NEW.license_id;
END;
CREATE TRIGGER license_seats_count_delete AFTER DELETE ON license_seats
BEGIN
    UPDATE licenses SET assigned = assigned - 1 WHERE id = OLD.license_id;
END;
