//! The GraphQL API: one module per area, merged into one schema.
//!
//! [`schema_builder`] needs no database, so printing the SDL and schema tests run without one;
//! the server adds its [`AppState`](crate::app::AppState) with `.data(...)`.
mod api_key;
mod attribute;
mod auth;
pub mod context;
pub mod cost;
pub mod form;
pub mod guard;
pub mod id;
mod member;
mod node;
mod organization;
mod pagination;
pub mod public;
mod report;
mod respondent;
mod response;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

/// Every query field of the API.
#[derive(MergedObject, Default)]
pub struct Query(
    auth::AuthQuery,
    organization::OrganizationQuery,
    member::MemberQuery,
    api_key::ApiKeyQuery,
    node::NodeQuery,
    attribute::AttributeQuery,
    form::FormQuery,
    form::EvaluateQuery,
    form::DocumentQuery,
    respondent::RespondentQuery,
    response::ResponseQuery,
    report::ReportQuery,
    public::PublicQuery,
);

/// Every mutation of the API.
#[derive(MergedObject, Default)]
pub struct Mutation(
    auth::AuthMutation,
    organization::OrganizationMutation,
    member::MemberMutation,
    api_key::ApiKeyMutation,
    attribute::AttributeMutation,
    form::FormMutation,
    form::DocumentMutation,
    respondent::RespondentMutation,
    response::ResponseMutation,
    report::ReportMutation,
    public::PublicMutation,
);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The respondents' API alone, served on `/public/graphql` to any origin without credentials.
pub type PublicSchema = Schema<public::PublicQuery, public::PublicMutation, EmptySubscription>;

/// Limits that protect the server from abusive queries.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Production: no introspection, no field suggestions.
    pub production: bool,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_depth: 12,
            max_complexity: 5000,
            production: false,
        }
    }
}

impl QueryLimits {
    /// `builder` with these limits.
    fn apply<Q, M>(self, builder: SchemaBuilder<Q, M, EmptySubscription>) -> SchemaBuilder<Q, M, EmptySubscription>
    where
        Q: async_graphql::ObjectType + 'static,
        M: async_graphql::ObjectType + 'static,
    {
        let builder = builder
            .limit_depth(self.max_depth)
            .limit_complexity(self.max_complexity)
            .limit_recursive_depth(32)
            .limit_directives(20);
        if self.production {
            builder.disable_introspection().disable_suggestions()
        } else {
            builder
        }
    }
}

/// The schema with its limits but without runtime data.
pub fn schema_builder(limits: QueryLimits) -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    limits.apply(Schema::build(Query::default(), Mutation::default(), EmptySubscription))
}

/// The public schema with its limits but without runtime data.
pub fn public_schema_builder(
    limits: QueryLimits,
) -> SchemaBuilder<public::PublicQuery, public::PublicMutation, EmptySubscription> {
    limits.apply(Schema::build(
        public::PublicQuery,
        public::PublicMutation,
        EmptySubscription,
    ))
}

/// The SDL that `schema.graphql` holds: `nazar schema` prints it.
pub fn sdl() -> String {
    schema_builder(QueryLimits::default()).finish().sdl()
}

/// The SDL that `public.graphql` holds: `nazar schema --public` prints it.
pub fn public_sdl() -> String {
    public_schema_builder(QueryLimits::default()).finish().sdl()
}
