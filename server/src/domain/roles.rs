//! User roles and what each may do.

use serde::{Deserialize, Serialize};

/// A user's role. Ordered by privilege: employee < technician < admin.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Employee,
    Technician,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Technician => "technician",
            Role::Admin => "admin",
        }
    }

    /// Whether a user with this role may act where `needed` is required.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }

    /// IT staff see the whole fleet; employees see only their own things.
    pub fn is_staff(self) -> bool {
        self.allows(Role::Technician)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "employee" => Ok(Role::Employee),
            "technician" => Ok(Role::Technician),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: use admin, technician or employee"
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privilege_order() {
        assert!(Role::Admin.allows(Role::Technician));
        assert!(Role::Technician.allows(Role::Technician));
        assert!(!Role::Employee.allows(Role::Technician));
        assert!(!Role::Technician.allows(Role::Admin));
        assert!(Role::Technician.is_staff() && !Role::Employee.is_staff());
    }

    #[test]
    fn parse_roundtrip() {
        for r in [Role::Employee, Role::Technician, Role::Admin] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
