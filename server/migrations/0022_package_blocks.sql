-- Installed software rows written faster (issue 8: first inventories at 500/s with
-- 100,000 machines), measured with bench/ingest-bench.sh.
--
-- 1. "Which machines have this package". The (package, asset) index of 0016 took each new
--    machine's ~500 packages at ~500 places, one per package, all over an index that
--    grows with the fleet: each commit of a few dozen first inventories dirtied tens of
--    thousands of its pages. The first-inventory rate fell from 287/s to 102/s over the
--    first 10,000 machines, writing 1.4 MB per machine for ~20 KB of rows. Keyed by
--    (asset block, package) instead, a block being 256 consecutive asset ids
--    (db::packages::HOLDER_BLOCK; queries must spell the expression `asset_id / 256` for
--    SQLite to use the index), a new machine's entries all land in the newest block's
--    small part of the index. db::packages::holders reads a package's machines block by
--    block, in asset order, and stops once it has a page.
--
-- 2. No foreign keys on asset_packages. Checking both parents of every row took a sixth of
--    the writer's time. Nothing relied on them: a machine's rows are deleted with it by
--    the assets_release_software trigger (which already did it before the cascade could),
--    and packages are never deleted. SQLite cannot drop a constraint, so the table is
--    copied (in key order) into one without them.

DROP VIEW asset_software;
DROP TRIGGER assets_release_software;

CREATE TABLE asset_packages_new (
    asset_id     INTEGER NOT NULL,
    package_id   INTEGER NOT NULL,
    install_date INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (asset_id, package_id)
) WITHOUT ROWID;
INSERT INTO asset_packages_new (asset_id, package_id, install_date)
    SELECT asset_id, package_id, install_date FROM asset_packages ORDER BY asset_id, package_id;
DROP TABLE asset_packages;
ALTER TABLE asset_packages_new RENAME TO asset_packages;

CREATE INDEX asset_packages_block ON asset_packages(asset_id / 256, package_id);

-- As 0016 made them.
CREATE VIEW asset_software AS
    SELECT a.asset_id, p.source, p.name, p.arch, p.version, p.publisher, a.install_date
    FROM asset_packages a JOIN software_packages p ON p.id = a.package_id;

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
