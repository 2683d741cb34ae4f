//! Opaque global IDs (`node(id:)`): base64url of `Kind:uuid`. Clients must not parse them.
use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// The kinds of object that have global IDs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Organization,
    User,
    Member,
    ApiKey,
    RespondentAttribute,
    Form,
    FormVersion,
    Section,
    Question,
    Respondent,
    Response,
    Report,
}

impl NodeKind {
    const ALL: [NodeKind; 12] = [
        NodeKind::Organization,
        NodeKind::User,
        NodeKind::Member,
        NodeKind::ApiKey,
        NodeKind::RespondentAttribute,
        NodeKind::Form,
        NodeKind::FormVersion,
        NodeKind::Section,
        NodeKind::Question,
        NodeKind::Respondent,
        NodeKind::Response,
        NodeKind::Report,
    ];

    fn tag(self) -> &'static str {
        match self {
            NodeKind::Organization => "Organization",
            NodeKind::User => "User",
            NodeKind::Member => "Member",
            NodeKind::ApiKey => "ApiKey",
            NodeKind::RespondentAttribute => "RespondentAttribute",
            NodeKind::Form => "Form",
            NodeKind::FormVersion => "FormVersion",
            NodeKind::Section => "Section",
            NodeKind::Question => "Question",
            NodeKind::Respondent => "Respondent",
            NodeKind::Response => "Response",
            NodeKind::Report => "Report",
        }
    }
}

pub fn encode(kind: NodeKind, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.tag(), id)))
}

/// Any global ID; `field` names the argument in errors.
pub fn decode_any(id: &ID, field: &str) -> AppResult<(NodeKind, Uuid)> {
    let invalid = || AppError::bad_input(field, "is not a valid ID");
    let text = URL_SAFE_NO_PAD
        .decode(id.as_str())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let (tag, uuid) = text.split_once(':').ok_or_else(invalid)?;
    let kind = NodeKind::ALL.into_iter().find(|k| k.tag() == tag).ok_or_else(invalid)?;
    Ok((kind, Uuid::parse_str(uuid).map_err(|_| invalid())?))
}

/// A global ID that must be of `kind`.
pub fn decode(id: &ID, kind: NodeKind, field: &str) -> AppResult<Uuid> {
    match decode_any(id, field)? {
        (found, uuid) if found == kind => Ok(uuid),
        _ => Err(AppError::bad_input(field, format!("is not the ID of a {}", kind.tag()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_kind_check() {
        let uuid = Uuid::now_v7();
        let id = encode(NodeKind::Member, uuid);
        assert_eq!(decode(&id, NodeKind::Member, "id").unwrap(), uuid);
        assert!(decode(&id, NodeKind::ApiKey, "id").is_err());
        assert!(decode_any(&ID("not-an-id".into()), "id").is_err());
        assert!(decode_any(&ID(URL_SAFE_NO_PAD.encode("Member:xyz")), "id").is_err());
    }
}
