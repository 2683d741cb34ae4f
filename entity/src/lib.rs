//! sea-orm entities: one module per table. Tenant-owned tables carry `organization_id`.
pub mod api_key;
pub mod form;
pub mod form_question;
pub mod form_section;
pub mod form_version;
pub mod invitation;
pub mod membership;
pub mod organization;
pub mod question_option;
pub mod refresh_token;
pub mod respondent;
pub mod respondent_attribute;
pub mod respondent_attribute_value;
pub mod session;
pub mod user;
