-- The dashboard's tickets per 100 devices by model and by site (db::dashboard): each
-- linked asset's model and location, and every asset's, from a narrow index instead of
-- the asset rows (which carry the inventory JSON). With 100,000 assets and 1,000,000
-- tickets (bench/ui-bench.sh), the two charts took ~340 ms to compute.
CREATE INDEX assets_dashboard ON assets(id, model, location_id);
