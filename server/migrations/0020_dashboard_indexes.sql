-- The dashboard's windows: tickets resolved per week and created in the last 90 days,
-- warranties ending soon (work orders already have work_orders_due).
CREATE INDEX tickets_resolved ON tickets(resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX assets_warranty_end ON assets(warranty_end) WHERE warranty_end IS NOT NULL;
