-- Installed software, normalized: each distinct package (name, version, architecture,
-- source, publisher) once in `software_packages` with an integer id, and each machine's
-- packages as (asset, package) pairs. A machine's rows are about 15 bytes each instead
-- of 78, and a first inventory appends to one asset's range plus each package's tail in
-- the (package, asset) index, instead of ~1,000 text-keyed random inserts with triggers.
--
-- The catalog counts (software_titles, software_versions) are no longer kept by per-row
-- triggers: db::packages counts what each report changes and, in the writer, adds the
-- counts of a whole batch once before its commit. Packages are never deleted in normal
-- operation (the writer caches their ids); a package no machine has any more is harmless.

CREATE TABLE software_packages (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    version   TEXT NOT NULL,
    arch      TEXT NOT NULL,
    source    TEXT NOT NULL,
    publisher TEXT NOT NULL,
    UNIQUE (name, version, arch, source, publisher)
);

-- One row per machine and package. A machine has at most one package per
-- (name, version, arch, source): db::packages keeps the last publisher reported.
CREATE TABLE asset_packages (
    asset_id     INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
    package_id   INTEGER NOT NULL REFERENCES software_packages(id),
    install_date INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (asset_id, package_id)
) WITHOUT ROWID;

-- "Which machines have this package", in asset order.
CREATE INDEX asset_packages_package ON asset_packages(package_id, asset_id);

INSERT INTO software_packages (name, version, arch, source, publisher)
    SELECT DISTINCT name, version, arch, source, publisher FROM asset_software
    ORDER BY name, version, arch, source, publisher;

INSERT INTO asset_packages (asset_id, package_id, install_date)
    SELECT s.asset_id, p.id, s.install_date
    FROM asset_software s JOIN software_packages p
      ON p.name = s.name AND p.version = s.version AND p.arch = s.arch
     AND p.source = s.source AND p.publisher = s.publisher
    ORDER BY s.asset_id, p.id;

DROP TRIGGER asset_software_counts_insert;
DROP TRIGGER asset_software_counts_delete;
DROP TRIGGER asset_software_counts_rekey;
DROP INDEX asset_software_name_version;
DROP TABLE asset_software;

-- db::packages::digest of the machine's rows as its last full report left them; NULL
-- when unknown (before a full report, or after a delta). A full report with the same
-- digest changes no software row and is not compared row by row.
ALTER TABLE assets ADD COLUMN software_digest TEXT;

-- The old table's shape, read-only, for reports and ad-hoc SQL.
CREATE VIEW asset_software AS
    SELECT a.asset_id, p.source, p.name, p.arch, p.version, p.publisher, a.install_date
    FROM asset_packages a JOIN software_packages p ON p.id = a.package_id;

-- Deleting an asset releases its titles and versions in the catalog counts, once per
-- asset (set-based), then removes its rows (the cascade would do it without counting).
CREATE TRIGGER assets_release_software BEFORE DELETE ON assets
BEGIN
    UPDATE software_titles SET installs = installs - 1
        WHERE name IN (SELECT p.name FROM asset_packages a JOIN software_packages p ON p.id = a.package_id
                       WHERE a.asset_id = OLD.id);
    UPDATE software_versions SET installs = installs - 1
        WHERE (name, version) IN (SELECT p.name, p.version FROM asset_packages a
                                  JOIN software_packages p ON p.id = a.package_id
                                  WHERE a.asset_id = OLD.id);
    UPDATE software_titles SET versions = versions -
            (SELECT count(*) FROM software_versions v WHERE v.name = software_titles.name AND v.installs <= 0)
        WHERE name IN (SELECT name FROM software_versions WHERE installs <= 0);
    DELETE FROM software_versions WHERE installs <= 0;
    DELETE FROM software_titles WHERE installs <= 0;
    DELETE FROM asset_packages WHERE asset_id = OLD.id;
END;
