-- The asset list filters compare kind, vendor and OS case-insensitively; these indexes
-- match that collation, so a filter reads only its own assets (in id order, as the list
-- pages) instead of walking the whole table when few or no assets match.
CREATE INDEX assets_kind_nocase ON assets(kind COLLATE NOCASE, id);
CREATE INDEX assets_vendor_nocase ON assets(vendor COLLATE NOCASE, id);
CREATE INDEX assets_os_nocase ON assets(os_name COLLATE NOCASE, id);
CREATE INDEX assets_criticality ON assets(criticality COLLATE NOCASE, id);
