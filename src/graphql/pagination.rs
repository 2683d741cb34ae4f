//! Cursor connections as Relay specifies them: `first`/`after` forward, `last`/`before`
//! backward, `pageInfo` with both ends, opaque cursors that stay valid while items are added,
//! a capped page size, and `totalCount` (counted only when asked for). One way for every list.
use async_graphql::{Context, Enum, InputObject, SimpleObject};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    service::page::{Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest, Sort},
};

/// Complexity of a list field: its children's cost times the page size asked for.
pub fn page_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).map_or(DEFAULT_PAGE_SIZE as usize, |n| {
        n.clamp(0, MAX_PAGE_SIZE as i32) as usize
    });
    size.max(1).saturating_mul(child_complexity.max(1))
}

/// Reads the connection arguments into a page request; `totalCount` is counted only when the
/// selection asks for it.
pub fn page_request(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> AppResult<PageRequest> {
    let size = |n: i32, field: &str| {
        if (1..=MAX_PAGE_SIZE as i32).contains(&n) {
            Ok(n as u64)
        } else {
            Err(AppError::bad_input(
                field,
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ))
        }
    };
    let (size, from_end) = match (first, last) {
        (Some(_), Some(_)) => {
            return Err(AppError::bad_input(
                "last",
                "pass `first` (with `after`) or `last` (with `before`), not both",
            ));
        }
        (Some(n), None) => (size(n, "first")?, false),
        (None, Some(n)) => (size(n, "last")?, true),
        (None, None) => (DEFAULT_PAGE_SIZE, false),
    };
    Ok(PageRequest {
        size,
        after: after.map(|c| decode_cursor(&c, "after")).transpose()?,
        before: before.map(|c| decode_cursor(&c, "before")).transpose()?,
        from_end,
        count: ctx.look_ahead().field("totalCount").exists(),
    })
}

/// A cursor: a tag byte (0: id only, 1: time and id), the time in microseconds, the id.
pub fn encode_cursor(cursor: Cursor) -> String {
    let mut bytes = Vec::with_capacity(25);
    match cursor.at {
        None => bytes.push(0),
        Some(at) => {
            bytes.push(1);
            bytes.extend_from_slice(&at.timestamp_micros().to_be_bytes());
        }
    }
    bytes.extend_from_slice(cursor.id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_cursor(cursor: &str, field: &str) -> AppResult<Cursor> {
    let invalid = || AppError::bad_input(field, "is not a cursor from this list");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    match bytes.as_slice() {
        [0, id @ ..] if id.len() == 16 => Ok(Cursor {
            at: None,
            id: Uuid::from_slice(id).map_err(|_| invalid())?,
        }),
        [1, rest @ ..] if rest.len() == 24 => {
            let micros = i64::from_be_bytes(rest[..8].try_into().map_err(|_| invalid())?);
            Ok(Cursor {
                at: Some(DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(invalid)?),
                id: Uuid::from_slice(&rest[8..]).map_err(|_| invalid())?,
            })
        }
        _ => Err(invalid()),
    }
}

/// Where a page stands in its list.
#[derive(SimpleObject, Debug)]
pub struct PageInfo {
    /// Whether more items follow this page (when paging backward: whether a `before` cursor
    /// was given).
    pub has_next_page: bool,
    /// Whether items precede this page (when paging forward: whether an `after` cursor was
    /// given).
    pub has_previous_page: bool,
    /// The cursor of the first item of this page: pass it as `before` for the page before.
    pub start_cursor: Option<String>,
    /// The cursor of the last item of this page: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// Which way a list runs.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OrderDirection {
    /// Oldest (smallest) first.
    #[default]
    Asc,
    /// Newest (largest) first.
    Desc,
}

/// Which time a list of forms or responses is sorted by.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum OrderField {
    /// When it was created (for a response: when the server took its first answers).
    #[default]
    CreatedAt,
    /// When it last changed: a partner syncing incrementally pages by this with
    /// `updatedSince`.
    UpdatedAt,
}

/// The order of a list of forms or responses.
#[derive(InputObject, Copy, Clone, Debug, Default)]
pub struct ListOrder {
    /// The time to sort by (default: CREATED_AT).
    #[graphql(default)]
    pub field: OrderField,
    /// Which way (default: ASC, oldest first).
    #[graphql(default)]
    pub direction: OrderDirection,
}

impl From<ListOrder> for Sort {
    fn from(order: ListOrder) -> Sort {
        Sort {
            by_update: order.field == OrderField::UpdatedAt,
            descending: order.direction == OrderDirection::Desc,
        }
    }
}

/// Declares the connection and edge types of one list, with `from_page` to build it.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` (or `before`) to continue from this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[doc = concat!("One page of ", $what, "s, a Relay connection: page forward with `first` and `after: pageInfo.endCursor` while `pageInfo.hasNextPage`, backward with `last` and `before: pageInfo.startCursor` while `pageInfo.hasPreviousPage`.")]
        pub struct $connection {
            edges: Vec<$edge>,
            page_info: $crate::graphql::pagination::PageInfo,
            total_count: Option<u64>,
        }

        #[doc = concat!("One page of ", $what, "s, a Relay connection: page forward with `first` and `after: pageInfo.endCursor` while `pageInfo.hasNextPage`, backward with `last` and `before: pageInfo.startCursor` while `pageInfo.hasPreviousPage`.")]
        #[async_graphql::Object]
        impl $connection {
            /// The items with their cursors.
            async fn edges(&self) -> &[$edge] {
                &self.edges
            }
            /// The items alone, for clients that need no cursors.
            async fn nodes(&self) -> Vec<&$node> {
                self.edges.iter().map(|e| &e.node).collect()
            }
            /// Where this page stands.
            async fn page_info(&self) -> &$crate::graphql::pagination::PageInfo {
                &self.page_info
            }
            /// How many items the whole list holds (all pages, with the list's filters).
            /// Counted only when asked for.
            async fn total_count(&self) -> u64 {
                self.total_count.unwrap_or_default()
            }
        }

        impl $connection {
            /// Builds the connection from a page of items.
            pub fn from_page(page: $crate::service::page::Page<$node>) -> Self {
                let (edges, page_info, total_count) =
                    $crate::graphql::pagination::edges(page, |cursor, node| $edge { cursor, node });
                $connection { edges, page_info, total_count }
            }
        }
    };
}
pub(crate) use connection;

/// The edges of a page, its page info and its total; `edge` builds one edge from a cursor and
/// an item.
pub fn edges<T, E>(page: Page<T>, edge: impl Fn(String, T) -> E) -> (Vec<E>, PageInfo, Option<u64>) {
    let start_cursor = page.items.first().map(|(c, _)| encode_cursor(*c));
    let end_cursor = page.items.last().map(|(c, _)| encode_cursor(*c));
    let edges = page
        .items
        .into_iter()
        .map(|(cursor, node)| edge(encode_cursor(cursor), node))
        .collect();
    let info = PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor,
        end_cursor,
    };
    (edges, info, page.total_count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let id = Uuid::now_v7();
        let at = DateTime::<Utc>::from_timestamp_micros(1_790_000_000_123_456).unwrap();
        for cursor in [Cursor { at: None, id }, Cursor { at: Some(at), id }] {
            assert_eq!(decode_cursor(&encode_cursor(cursor), "after").unwrap(), cursor);
        }
        for bad in [
            "",
            "abc",
            &URL_SAFE_NO_PAD.encode([2u8; 17]),
            &URL_SAFE_NO_PAD.encode(id.as_bytes()),
        ] {
            assert!(decode_cursor(bad, "after").is_err(), "{bad}");
        }
    }
}
