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
--
-- 3. The catalog counts' log (db::package_counts). While first inventories keep the
--    writer busy, each batch appends its count changes here instead of updating
--    software_titles and software_versions all over, and the log is folded into them at
--    least every second and whenever the wave pauses. `version` NULL: the title's count
--    of machines; otherwise that version's. Deleting an asset logs its titles and versions
--    as lost; whoever deletes folds the log before committing.

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

CREATE TABLE software_count_log (
    name    TEXT NOT NULL,
    version TEXT,
    d       INTEGER NOT NULL
);

-- As 0016 made it.
CREATE VIEW asset_software AS
    SELECT a.asset_id, p.source, p.name, p.arch, p.version, p.publisher, a.install_date
    FROM asset_packages a JOIN software_packages p ON p.id = a.package_id;

-- Deleting an asset releases its titles and versions: logged, then folded (with the
-- rule that a title or version no machine has leaves) by db::package_counts::fold_log.
CREATE TRIGGER assets_release_software BEFORE DELETE ON assets
BEGIN
    INSERT INTO software_count_log (name, version, d)
        SELECT DISTINCT p.name, NULL, -1 FROM asset_packages a
        JOIN software_packages p ON p.id = a.package_id WHERE a.asset_id = OLD.id;
    INSERT INTO software_count_log (name, version, d)
        SELECT DISTINCT p.name, p.version, -1 FROM asset_packages a
        JOIN software_packages p ON p.id = a.package_id WHERE a.asset_id = OLD.id;
    DELETE FROM asset_packages WHERE asset_id = OLD.id;
END;
