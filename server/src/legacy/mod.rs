//! Legacy inventory protocols: existing FusionInventory, OCS Inventory and GLPI agents
//! report here unchanged.

pub mod body;
pub mod glpi;
pub mod report;
pub mod xml;
