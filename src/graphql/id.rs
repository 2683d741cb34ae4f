//! Opaque global IDs (`node(id:)`): base64url of `Kind:uuid`. Clients must not parse them.
use async_graphql::ID;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

pub use crate::ids::NodeKind;

pub fn encode(kind: NodeKind, id: Uuid) -> ID {
    ID(crate::ids::global(kind, id))
}

/// The ID of something that exists once per version of a form (a section, a question): unique
/// to that version, so clients' normalized caches never mix two versions' contents, and
/// carrying the stable identity the copies in every version share.
pub fn encode_versioned(kind: NodeKind, version: Uuid, uid: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{}:{}", kind.tag(), version, uid)))
}

/// What a global ID names: its kind, its id (for a versioned ID, the stable identity) and, for
/// a versioned ID, the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub kind: NodeKind,
    pub id: Uuid,
    pub version: Option<Uuid>,
}

/// Any global ID; `field` names the argument in errors.
pub fn decode_any(id: &ID, field: &str) -> AppResult<Decoded> {
    let invalid = || AppError::bad_input(field, "is not a valid ID");
    let text = URL_SAFE_NO_PAD
        .decode(id.as_str())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(invalid)?;
    let (tag, rest) = text.split_once(':').ok_or_else(invalid)?;
    let kind = NodeKind::ALL.into_iter().find(|k| k.tag() == tag).ok_or_else(invalid)?;
    let versioned = matches!(kind, NodeKind::Section | NodeKind::Question);
    let parse = |s: &str| Uuid::parse_str(s).map_err(|_| invalid());
    match (versioned, rest.split_once(':')) {
        (true, Some((version, uid))) => Ok(Decoded {
            kind,
            id: parse(uid)?,
            version: Some(parse(version)?),
        }),
        (false, None) => Ok(Decoded {
            kind,
            id: parse(rest)?,
            version: None,
        }),
        _ => Err(invalid()),
    }
}

/// A global ID that must be of `kind`: its id (for a section or question of any version, the
/// stable identity its copies share).
pub fn decode(id: &ID, kind: NodeKind, field: &str) -> AppResult<Uuid> {
    match decode_any(id, field)? {
        found if found.kind == kind => Ok(found.id),
        _ => Err(AppError::bad_input(field, format!("is not the ID of a {}", kind.tag()))),
    }
}

/// Declares the input of a mutation that acts on one object named by its ID (every mutation
/// takes one `input` object, so each can grow fields of its own later).
macro_rules! id_input {
    ($name:ident, $doc:literal, $what:literal) => {
        #[doc = $doc]
        #[derive(async_graphql::InputObject)]
        pub struct $name {
            #[doc = concat!("The ", $what, "'s ID.")]
            pub id: async_graphql::ID,
        }
    };
}
pub(crate) use id_input;

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

    #[test]
    fn a_versioned_id_names_its_version_and_its_stable_identity() {
        let (v1, v2, uid) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let first = encode_versioned(NodeKind::Question, v1, uid);
        assert_ne!(first, encode_versioned(NodeKind::Question, v2, uid));
        let decoded = decode_any(&first, "id").unwrap();
        assert_eq!(
            (decoded.kind, decoded.id, decoded.version),
            (NodeKind::Question, uid, Some(v1))
        );
        assert_eq!(decode(&first, NodeKind::Question, "id").unwrap(), uid);
        assert!(decode(&first, NodeKind::Section, "id").is_err());
        // Sections and questions only come versioned; nothing else does.
        assert!(decode_any(&encode(NodeKind::Question, uid), "id").is_err());
        assert!(decode_any(&encode_versioned(NodeKind::Form, v1, uid), "id").is_err());
    }
}
