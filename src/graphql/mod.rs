//! The GraphQL API: one module per area, merged into one schema.
//!
//! [`schema_builder`] needs no database, so printing the SDL and schema tests run without one;
//! the server adds its [`AppState`](crate::app::AppState) with `.data(...)`.
// A field's GraphQL arguments are its resolver's parameters: lists take their filters, order and
// the four Relay arguments.
#![allow(clippy::too_many_arguments)]

mod analytics;
mod api_key;
mod attribute;
mod auth;
pub mod context;
pub mod cost;
pub mod form;
pub mod guard;
pub mod id;
pub mod live;
mod member;
mod node;
pub mod order;
mod organization;
mod pagination;
pub mod public;
mod report;
mod respondent;
mod response;
mod webhook;

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
    analytics::AnalyticsQuery,
    webhook::WebhookQuery,
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
    webhook::WebhookMutation,
    public::PublicMutation,
);

pub type AppSchema = Schema<Query, Mutation, live::LiveSubscription>;

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
    fn apply<Q, M, S>(self, builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S>
    where
        Q: async_graphql::ObjectType + 'static,
        M: async_graphql::ObjectType + 'static,
        S: async_graphql::SubscriptionType + 'static,
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
pub fn schema_builder(limits: QueryLimits) -> SchemaBuilder<Query, Mutation, live::LiveSubscription> {
    limits.apply(Schema::build(
        Query::default(),
        Mutation::default(),
        live::LiveSubscription,
    ))
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

/// A schema as served: outside production with a twin that answers documents asking for
/// introspection alone. Tools' standard introspection query (GraphiQL, GraphQL Codegen, Apollo,
/// Postman) nests deeper than any depth limit fit for data, so the twin has room for it; every
/// other document, and every document in production (where introspection is off), meets the
/// configured limits.
pub struct Served<Q, M, S = EmptySubscription> {
    schema: Schema<Q, M, S>,
    introspection: Option<Schema<Q, M, S>>,
}

impl<Q, M, S> Clone for Served<Q, M, S> {
    fn clone(&self) -> Self {
        Served {
            schema: self.schema.clone(),
            introspection: self.introspection.clone(),
        }
    }
}

/// Depth a document asking only for introspection may reach (graphql-js's standard query
/// reaches 13 through its type references).
const INTROSPECTION_DEPTH: usize = 32;

impl<Q, M, S> Served<Q, M, S>
where
    Q: async_graphql::ObjectType + 'static,
    M: async_graphql::ObjectType + 'static,
    S: async_graphql::SubscriptionType + 'static,
{
    /// Builds the schema (and its twin outside production) with `limits` and runtime `data`.
    pub fn build(
        builder: impl Fn(QueryLimits) -> SchemaBuilder<Q, M, S>,
        limits: QueryLimits,
        data: impl Fn(SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S>,
    ) -> Self {
        let introspection = (!limits.production).then(|| {
            let roomy = QueryLimits {
                max_depth: limits.max_depth.max(INTROSPECTION_DEPTH),
                ..limits
            };
            data(builder(roomy)).finish()
        });
        Served {
            schema: data(builder(limits)).finish(),
            introspection,
        }
    }

    /// The schema a document runs on: the twin when it asks for introspection alone.
    pub fn for_document(&self, introspection_only: bool) -> &Schema<Q, M, S> {
        match (&self.introspection, introspection_only) {
            (Some(twin), true) => twin,
            _ => &self.schema,
        }
    }
}

/// The staff API as served.
pub type StaffApi = Served<Query, Mutation, live::LiveSubscription>;
/// The public API as served.
pub type PublicApi = Served<public::PublicQuery, public::PublicMutation>;

/// The SDL that `schema.graphql` holds: `nazar schema` prints it.
pub fn sdl() -> String {
    schema_builder(QueryLimits::default()).finish().sdl()
}

/// The SDL that `public.graphql` holds: `nazar schema --public` prints it.
pub fn public_sdl() -> String {
    public_schema_builder(QueryLimits::default()).finish().sdl()
}
