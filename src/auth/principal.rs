//! Who is calling and what they may do: the one place where roles and scopes are checked.
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// A member's role in an organization. Each role includes every right of the roles below it.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads responses and reports.
    Analyst,
    /// Builds forms, and everything an analyst does.
    Editor,
    /// Manages members and API keys, and everything an editor does.
    Admin,
    /// Owns the organization: may make and remove other owners. An organization always has one.
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "ANALYST",
            Role::Editor => "EDITOR",
            Role::Admin => "ADMIN",
            Role::Owner => "OWNER",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Some(match value {
            "ANALYST" => Role::Analyst,
            "EDITOR" => Role::Editor,
            "ADMIN" => Role::Admin,
            "OWNER" => Role::Owner,
            _ => return None,
        })
    }
}

/// What an API key may do. A key has only the scopes it was created with.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `forms:read`: read forms and their versions.
    FormsRead,
    /// `forms:write`: create and change forms.
    FormsWrite,
    /// `respondents:read`: read respondents (personal data).
    RespondentsRead,
    /// `respondents:write`: create, update and erase respondents.
    RespondentsWrite,
    /// `responses:read`: read individual responses, open texts included (personal data).
    ResponsesRead,
    /// `responses:write`: submit and delete responses.
    ResponsesWrite,
    /// `reports:read`: read reports; open texts only together with `responses:read`.
    ReportsRead,
    /// `webhooks:write`: manage webhook endpoints (URLs, events, secrets), read their
    /// deliveries, replay and ping.
    WebhooksWrite,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::FormsRead,
        Scope::FormsWrite,
        Scope::RespondentsRead,
        Scope::RespondentsWrite,
        Scope::ResponsesRead,
        Scope::ResponsesWrite,
        Scope::ReportsRead,
        Scope::WebhooksWrite,
    ];

    /// The stored and documented name, e.g. `forms:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::FormsRead => "forms:read",
            Scope::FormsWrite => "forms:write",
            Scope::RespondentsRead => "respondents:read",
            Scope::RespondentsWrite => "respondents:write",
            Scope::ResponsesRead => "responses:read",
            Scope::ResponsesWrite => "responses:write",
            Scope::ReportsRead => "reports:read",
            Scope::WebhooksWrite => "webhooks:write",
        }
    }

    pub fn parse(value: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// Everything a caller can ask to do that needs a right. Each action names the least role a
/// member needs and what an API key needs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the organization's name and settings.
    ReadOrganization,
    /// Change the organization's name and settings.
    ManageOrganization,
    /// List members.
    ReadMembers,
    /// Invite, change roles, remove members.
    ManageMembers,
    /// Create, list and revoke API keys.
    ManageApiKeys,
    /// Save, change and delete report definitions (members only; keys read reports).
    ManageReports,
    /// An action an API key with this scope may do; members need the given role.
    Scoped(Scope, Role),
}

/// What an API key needs for an action.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum KeyRule {
    /// Any valid key of the organization.
    Any,
    /// A key with this scope.
    Scope(Scope),
    /// Members only.
    Never,
}

impl Action {
    fn requirements(self) -> (Role, KeyRule) {
        match self {
            Action::ReadOrganization => (Role::Analyst, KeyRule::Any),
            Action::ManageOrganization => (Role::Admin, KeyRule::Never),
            Action::ReadMembers => (Role::Analyst, KeyRule::Never),
            Action::ManageMembers => (Role::Admin, KeyRule::Never),
            Action::ManageApiKeys => (Role::Admin, KeyRule::Never),
            Action::ManageReports => (Role::Analyst, KeyRule::Never),
            Action::Scoped(scope, role) => (role, KeyRule::Scope(scope)),
        }
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A staff member signed in to one organization.
    Member {
        user_id: Uuid,
        organization_id: Uuid,
        role: Role,
        session_id: Uuid,
    },
    /// A partner's API key.
    ApiKey {
        key_id: Uuid,
        organization_id: Uuid,
        scopes: Vec<Scope>,
    },
}

impl Principal {
    pub fn organization_id(&self) -> Uuid {
        match self {
            Principal::Member { organization_id, .. } | Principal::ApiKey { organization_id, .. } => *organization_id,
        }
    }

    /// Whether the caller may do `action`; on success, the tenant every query must stay in.
    pub fn authorize(&self, action: Action) -> AppResult<Tenant> {
        let (least_role, key_rule) = action.requirements();
        let allowed = match (self, key_rule) {
            (Principal::Member { role, .. }, _) => *role >= least_role,
            (Principal::ApiKey { .. }, KeyRule::Any) => true,
            (Principal::ApiKey { scopes, .. }, KeyRule::Scope(scope)) => scopes.contains(&scope),
            (Principal::ApiKey { .. }, KeyRule::Never) => false,
        };
        if !allowed {
            let needed = match (self, key_rule) {
                (Principal::ApiKey { .. }, KeyRule::Scope(scope)) => {
                    format!("this API key lacks the {} scope", scope.as_str())
                }
                (Principal::ApiKey { .. }, _) => "API keys may not do this; sign in as a member".to_owned(),
                (Principal::Member { .. }, _) => format!("this needs the {} role or higher", least_role.as_str()),
            };
            return Err(AppError::Forbidden(needed));
        }
        Ok(Tenant {
            organization_id: self.organization_id(),
        })
    }
}

/// Proof that the caller may act in this organization. Services take it, and every query on a
/// tenant-owned table filters by its `organization_id`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub organization_id: Uuid,
}

impl Tenant {
    /// For flows that establish the tenant themselves (sign-up, sign-in, token refresh).
    pub(crate) fn trusted(organization_id: Uuid) -> Self {
        Tenant { organization_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: Role) -> Principal {
        Principal::Member {
            user_id: Uuid::nil(),
            organization_id: Uuid::nil(),
            role,
            session_id: Uuid::nil(),
        }
    }

    #[test]
    fn roles_are_ordered_and_checked() {
        assert!(member(Role::Admin).authorize(Action::ManageMembers).is_ok());
        assert!(member(Role::Owner).authorize(Action::ManageApiKeys).is_ok());
        assert!(matches!(
            member(Role::Editor).authorize(Action::ManageMembers),
            Err(AppError::Forbidden(_))
        ));
        assert!(member(Role::Analyst).authorize(Action::ReadMembers).is_ok());
        let editor_action = Action::Scoped(Scope::FormsWrite, Role::Editor);
        assert!(member(Role::Editor).authorize(editor_action).is_ok());
        assert!(member(Role::Analyst).authorize(editor_action).is_err());
    }

    #[test]
    fn api_keys_need_the_scope() {
        let key = Principal::ApiKey {
            key_id: Uuid::nil(),
            organization_id: Uuid::nil(),
            scopes: vec![Scope::FormsRead],
        };
        assert!(key.authorize(Action::Scoped(Scope::FormsRead, Role::Analyst)).is_ok());
        assert!(key.authorize(Action::Scoped(Scope::FormsWrite, Role::Editor)).is_err());
        assert!(key.authorize(Action::ManageApiKeys).is_err());
        assert!(key.authorize(Action::ReadOrganization).is_ok());
        assert!(key.authorize(Action::ReadMembers).is_err());
    }

    #[test]
    fn names_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        for role in [Role::Analyst, Role::Editor, Role::Admin, Role::Owner] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }
}
