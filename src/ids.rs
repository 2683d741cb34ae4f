//! Opaque global IDs: base64url of `Kind:uuid`, the same in the API and in webhook bodies, so a
//! partner finds an event's response with `node(id:)`. Clients must not parse them.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

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
    WebhookEndpoint,
    WebhookDelivery,
}

impl NodeKind {
    pub const ALL: [NodeKind; 14] = [
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
        NodeKind::WebhookEndpoint,
        NodeKind::WebhookDelivery,
    ];

    pub fn tag(self) -> &'static str {
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
            NodeKind::WebhookEndpoint => "WebhookEndpoint",
            NodeKind::WebhookDelivery => "WebhookDelivery",
        }
    }
}

/// The global ID of `id` of `kind`.
pub fn global(kind: NodeKind, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", kind.tag(), id))
}
