//! Keyset pagination over time-ordered (UUIDv7) ids: stable under inserts, no offsets.
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::LikeExpr,
};
use uuid::Uuid;

use crate::error::AppResult;

/// Default and largest page size of every list.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// A request for one page: the items after `after`, at most `first` of them.
#[derive(Copy, Clone, Debug)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Uuid>,
}

/// One page of items in id order.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
        }
    }
}

/// Fetches one page of `select`, ordered by `id`.
pub async fn fetch<E, C>(conn: &C, select: Select<E>, id: E::Column, page: PageRequest) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut select = select.order_by_asc(id).limit(page.first + 1);
    if let Some(after) = page.after {
        select = select.filter(id.gt(after));
    }
    let mut items = select.all(conn).await?;
    let has_next_page = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next_page })
}

/// Every word of `search` (at most 8, normalised for search) appears in `column`, which holds
/// normalised text.
pub fn words_in(column: impl ColumnTrait, search: &str) -> Condition {
    let mut condition = Condition::all();
    for word in crate::form::text::normalize_for_search(search)
        .split(' ')
        .filter(|w| !w.is_empty())
        .take(8)
    {
        let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        condition = condition.add(column.like(LikeExpr::new(format!("%{escaped}%")).escape('\\')));
    }
    condition
}
