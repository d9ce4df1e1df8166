-- Agents that report over the legacy protocols (FusionInventory, OCS Inventory, GLPI
-- Agent) get an agents row too, keyed "<kind>:<device id>", with no secret: they
-- authenticate with the shared HTTP basic credentials of [legacy_inventory]. `kind` says
-- which agent it is; clone detection compares agents of the same kind only, so our agent
-- and a legacy agent on one machine make one asset.
ALTER TABLE agents ADD COLUMN kind TEXT NOT NULL DEFAULT 'steward'
    CHECK (kind IN ('steward', 'fusioninventory', 'ocs', 'glpi'));
