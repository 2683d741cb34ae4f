//! What a response is, apart from its answers: where it stands and how it reached us.
use serde::{Deserialize, Serialize};

/// Where a response stands.
#[derive(async_graphql::Enum, Serialize, Deserialize, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ResponseStatus {
    /// Started, answers being saved; counts as started, in no metric.
    InProgress,
    /// Completed: the response enters every metric.
    Completed,
    /// A disqualify rule ended it: counted apart, in no metric.
    Disqualified,
}

impl ResponseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseStatus::InProgress => "IN_PROGRESS",
            ResponseStatus::Completed => "COMPLETED",
            ResponseStatus::Disqualified => "DISQUALIFIED",
        }
    }

    pub const ALL: [ResponseStatus; 3] = [
        ResponseStatus::InProgress,
        ResponseStatus::Completed,
        ResponseStatus::Disqualified,
    ];

    pub fn parse(value: &str) -> Option<ResponseStatus> {
        ResponseStatus::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// How the response reached us.
#[derive(async_graphql::Enum, Serialize, Deserialize, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    /// A shared link.
    Link,
    /// A link in an email.
    Email,
    /// A link in a text message.
    Sms,
    /// A form embedded in a web page.
    WebEmbed,
    /// A pop-up on a web site.
    Popup,
    /// Inside a mobile app.
    InApp,
    /// Sent by a partner's system.
    Api,
    /// A call, recorded by a member of staff.
    Phone,
    /// An interview in person, recorded by a member of staff.
    InPerson,
}

impl Channel {
    pub const ALL: [Channel; 9] = [
        Channel::Link,
        Channel::Email,
        Channel::Sms,
        Channel::WebEmbed,
        Channel::Popup,
        Channel::InApp,
        Channel::Api,
        Channel::Phone,
        Channel::InPerson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Link => "LINK",
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
            Channel::WebEmbed => "WEB_EMBED",
            Channel::Popup => "POPUP",
            Channel::InApp => "IN_APP",
            Channel::Api => "API",
            Channel::Phone => "PHONE",
            Channel::InPerson => "IN_PERSON",
        }
    }

    pub fn parse(value: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// Interviews: recorded by members of staff only.
    pub fn is_interview(self) -> bool {
        matches!(self, Channel::Phone | Channel::InPerson)
    }
}
