//! Cursor connections: `first`/`after`, `pageInfo`, a capped page size. One way for every list.
use async_graphql::SimpleObject;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::{
    error::{AppError, AppResult},
    service::page::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest},
};

/// Complexity of a list field: its children's cost times the page size asked for.
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let size = first.map_or(DEFAULT_PAGE_SIZE as usize, |f| {
        f.clamp(0, MAX_PAGE_SIZE as i32) as usize
    });
    size.max(1).saturating_mul(child_complexity.max(1))
}

/// Reads `first` and `after` into a page request.
pub fn page_request(first: Option<i32>, after: Option<String>) -> AppResult<PageRequest> {
    let first = match first {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if (1..=MAX_PAGE_SIZE as i32).contains(&n) => n as u64,
        Some(_) => {
            return Err(AppError::bad_input(
                "first",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
    };
    let after = after.map(|cursor| decode_cursor(&cursor)).transpose()?;
    Ok(PageRequest { first, after })
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> AppResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::bad_input("after", "is not a cursor from this list"))
}

/// Where a page stands in its list.
#[derive(SimpleObject, Debug)]
pub struct PageInfo {
    /// Whether more items follow this page.
    pub has_next_page: bool,
    /// The cursor of the last item of this page: pass it as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// Declares the connection and edge types of one list, with `from_page` to build it.
macro_rules! connection {
    ($connection:ident, $edge:ident, $node:ty, $what:literal) => {
        #[doc = concat!("One ", $what, " with its cursor.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Pass as `after` to continue after this item.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        #[doc = concat!("One page of ", $what, "s in a stable order (oldest first). Ask for the next page with `after: pageInfo.endCursor` until `pageInfo.hasNextPage` is false.")]
        #[derive(async_graphql::SimpleObject)]
        pub struct $connection {
            /// The items with their cursors.
            pub edges: Vec<$edge>,
            /// The items alone, for clients that need no cursors.
            pub nodes: Vec<$node>,
            /// Where this page stands.
            pub page_info: $crate::graphql::pagination::PageInfo,
        }

        impl $connection {
            /// Builds the connection from a page of items, each with the id its cursor is made of.
            pub fn from_page(page: $crate::service::page::Page<(uuid::Uuid, $node)>) -> Self {
                let (edges, page_info) = $crate::graphql::pagination::edges(page, |cursor, node| $edge { cursor, node });
                $connection { nodes: edges.iter().map(|e| e.node.clone()).collect(), edges, page_info }
            }
        }
    };
}
pub(crate) use connection;

/// The edges of a page and its page info; `edge` builds one edge from a cursor and an item.
pub fn edges<T, E>(page: Page<(Uuid, T)>, edge: impl Fn(String, T) -> E) -> (Vec<E>, PageInfo) {
    let end_cursor = page.items.last().map(|(id, _)| encode_cursor(*id));
    let edges = page
        .items
        .into_iter()
        .map(|(id, node)| edge(encode_cursor(id), node))
        .collect();
    (
        edges,
        PageInfo {
            has_next_page: page.has_next_page,
            end_cursor,
        },
    )
}
