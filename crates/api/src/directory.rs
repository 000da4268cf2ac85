//! Who may see what: users, their roles and teams, from a TOML file.
//!
//! ```toml
//! [[team]]
//! id = "crm"
//! name = "CRM mid-market"
//!
//! [[user]]
//! id = "m-maria"            # the login / the JWT subject
//! name = "Maria Lopez"
//! email = "maria@example.com"
//! role = "manager"          # seller | manager | admin
//! teams = ["crm"]           # the teams a manager leads
//!
//! [[user]]
//! id = "s-daniel"           # for a seller, also the seller_id of their calls
//! name = "Daniel Price"
//! email = "daniel@example.com"
//! role = "seller"
//! team = "crm"
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A user's role in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppRole {
    /// Sees only their own calls.
    Seller,
    /// Sees the sellers of the teams they lead; comments and coaches.
    Manager,
    /// Sees everything.
    Admin,
}

/// A team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Team {
    /// Stable id; calls carry it.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A user of the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login id, JWT subject, and for sellers the `seller_id` of their calls.
    pub id: String,
    /// Display name.
    pub name: String,
    /// E-mail, for the "contact the seller" buttons.
    #[serde(default)]
    pub email: String,
    /// Role.
    pub role: AppRole,
    /// A seller's team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The teams a manager leads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

/// Why a directory file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// Not TOML or the wrong shape (the message names line and field).
    #[error("{0}")]
    Syntax(String),
    /// A semantic problem.
    #[error("user {user:?}: {reason}")]
    Invalid {
        /// The user at fault.
        user: String,
        /// What is wrong.
        reason: String,
    },
}

/// Users and teams.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directory {
    /// Teams by id.
    #[serde(default, rename = "team")]
    pub teams: Vec<Team>,
    /// Users.
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
}

impl Directory {
    /// Parses and checks a directory file.
    pub fn from_toml_str(source: &str) -> Result<Self, DirectoryError> {
        let dir: Directory = toml::from_str(source).map_err(|e| DirectoryError::Syntax(e.to_string()))?;
        let mut seen = BTreeMap::new();
        for u in &dir.users {
            if seen.insert(u.id.as_str(), ()).is_some() {
                return Err(DirectoryError::Invalid { user: u.id.clone(), reason: "defined twice".into() });
            }
            let known = |t: &String| dir.teams.iter().any(|team| &team.id == t);
            match u.role {
                AppRole::Seller => match &u.team {
                    Some(t) if known(t) => {}
                    Some(t) => {
                        return Err(DirectoryError::Invalid {
                            user: u.id.clone(),
                            reason: format!("unknown team {t:?}"),
                        });
                    }
                    None => {
                        return Err(DirectoryError::Invalid {
                            user: u.id.clone(),
                            reason: "a seller needs a team".into(),
                        });
                    }
                },
                AppRole::Manager => {
                    if let Some(t) = u.teams.iter().find(|t| !known(t)) {
                        return Err(DirectoryError::Invalid {
                            user: u.id.clone(),
                            reason: format!("unknown team {t:?}"),
                        });
                    }
                }
                AppRole::Admin => {}
            }
        }
        Ok(dir)
    }

    /// A user by id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The team of a seller, per the directory.
    pub fn team_of(&self, seller_id: &str) -> Option<&str> {
        self.user(seller_id).filter(|u| u.role == AppRole::Seller).and_then(|u| u.team.as_deref())
    }

    /// Every seller of a team.
    pub fn sellers_of(&self, team: &str) -> Vec<&User> {
        self.users.iter().filter(|u| u.role == AppRole::Seller && u.team.as_deref() == Some(team)).collect()
    }

    /// Whether `viewer` may see `seller_id`'s calls and figures. Server-side,
    /// for every endpoint: a seller only themselves, a manager the sellers of
    /// the teams they lead, an admin everyone.
    pub fn can_view_seller(&self, viewer: &User, seller_id: &str) -> bool {
        match viewer.role {
            AppRole::Admin => true,
            AppRole::Seller => viewer.id == seller_id,
            AppRole::Manager => self.team_of(seller_id).is_some_and(|t| viewer.teams.iter().any(|m| m == t)),
        }
    }

    /// Whether `viewer` may see a team's figures and coaching.
    pub fn can_view_team(&self, viewer: &User, team: &str) -> bool {
        match viewer.role {
            AppRole::Admin => true,
            AppRole::Manager => viewer.teams.iter().any(|t| t == team),
            AppRole::Seller => false,
        }
    }

    /// The sellers `viewer` may pick.
    pub fn visible_sellers(&self, viewer: &User) -> Vec<&User> {
        self.users
            .iter()
            .filter(|u| u.role == AppRole::Seller && self.can_view_seller(viewer, &u.id))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = r#"
[[team]]
id = "crm"
name = "CRM"
[[team]]
id = "sec"
name = "Security"
[[user]]
id = "m-maria"
name = "Maria"
role = "manager"
teams = ["crm"]
[[user]]
id = "s-daniel"
name = "Daniel"
role = "seller"
team = "crm"
[[user]]
id = "s-rachel"
name = "Rachel"
role = "seller"
team = "sec"
[[user]]
id = "a-root"
name = "Admin"
role = "admin"
"#;

    #[test]
    fn access_rules() {
        let d = Directory::from_toml_str(DIR).expect("valid");
        let maria = d.user("m-maria").expect("maria");
        let daniel = d.user("s-daniel").expect("daniel");
        let admin = d.user("a-root").expect("admin");
        assert!(d.can_view_seller(maria, "s-daniel"));
        assert!(!d.can_view_seller(maria, "s-rachel"));
        assert!(d.can_view_seller(daniel, "s-daniel"));
        assert!(!d.can_view_seller(daniel, "s-rachel"));
        assert!(d.can_view_seller(admin, "s-rachel"));
        assert!(!d.can_view_seller(maria, "s-unknown"), "unknown sellers belong to no team");
        assert!(
            d.can_view_team(maria, "crm")
                && !d.can_view_team(maria, "sec")
                && !d.can_view_team(daniel, "crm")
        );
        assert_eq!(d.visible_sellers(maria).len(), 1);
    }

    #[test]
    fn bad_directories_are_rejected() {
        let err = Directory::from_toml_str("[[user]]\nid = \"x\"\nname = \"X\"\nrole = \"seller\"\n")
            .expect_err("no team");
        assert!(err.to_string().contains("needs a team"), "{err}");
        let err = Directory::from_toml_str("[[user]]\nid = \"x\"\nname = \"X\"\nrole = \"boss\"\n")
            .expect_err("role");
        assert!(err.to_string().contains("boss") && err.to_string().contains("line 4"), "{err}");
    }
}
