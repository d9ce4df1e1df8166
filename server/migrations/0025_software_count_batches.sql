-- The catalog-count log of a wave of inventories, one encoded row per batch instead of
-- one row per title and version (~4,500 rows for 64 first inventories): the writer keeps
-- the same changes added up in memory and folds them without reading the log back; the
-- rows are read only when the database opens after a crash (db::package_counts).
CREATE TABLE software_count_batches (
    id     INTEGER PRIMARY KEY,
    counts BLOB NOT NULL
);
