//! Keyset pagination, forward and backward, over a list sorted by id (UUIDv7: creation order)
//! or by a timestamp then id: stable under inserts, no offsets. A page may also count the whole
//! list (when the client asks for `totalCount`).
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ModelTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::LikeExpr,
};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Default and largest page size of every list.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

/// Where an item stands in its list: the time the list is sorted by (none when it is sorted by
/// id alone) and its id, which breaks ties.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub at: Option<DateTime<Utc>>,
    pub id: Uuid,
}

/// A request for one page: the first `size` items after `after`, or (`from_end`) the last
/// `size` items before `before`; both bounds may be given.
#[derive(Copy, Clone, Debug)]
pub struct PageRequest {
    pub size: u64,
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    pub from_end: bool,
    /// Count the whole list too.
    pub count: bool,
}

/// How a list is sorted: by a timestamp column then id, or by id alone; up or down.
#[derive(Copy, Clone, Debug)]
pub struct Order<C> {
    pub by: Option<C>,
    pub id: C,
    pub descending: bool,
}

impl<C> Order<C> {
    /// By id (creation order), oldest first.
    pub fn by_id(id: C) -> Self {
        Order {
            by: None,
            id,
            descending: false,
        }
    }
}

/// Which time a list of forms or responses is sorted by, and which way.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Sort {
    /// By last update; otherwise by creation (id order).
    pub by_update: bool,
    pub descending: bool,
}

impl Sort {
    /// The order of a list whose ids are `id` and update times `updated`.
    pub fn order<C>(self, id: C, updated: C) -> Order<C> {
        Order {
            by: self.by_update.then_some(updated),
            id,
            descending: self.descending,
        }
    }
}

/// One page of items in list order, each with its cursor.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<(Cursor, T)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// The whole list's length, when it was asked for.
    pub total_count: Option<u64>,
}

impl<T> Page<T> {
    /// The items without their cursors, in order.
    pub fn rows(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, item)| item)
    }

    /// The same page with its items replaced by `items`, in order (one for each).
    pub fn with_items<U>(self, items: Vec<U>) -> Page<U> {
        debug_assert_eq!(self.items.len(), items.len());
        Page {
            items: self.items.into_iter().map(|(c, _)| c).zip(items).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }

    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(|(c, t)| (c, f(t))).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }
}

/// Items on the far side of `cursor`: greater than it in the sort order, or smaller.
fn beyond<C: ColumnTrait>(order: &Order<C>, cursor: Cursor, greater: bool, field: &str) -> AppResult<Condition> {
    let past = |column: C, value: sea_orm::Value| {
        if greater { column.gt(value) } else { column.lt(value) }
    };
    match (order.by, cursor.at) {
        (None, None) => Ok(Condition::all().add(past(order.id, cursor.id.into()))),
        (Some(by), Some(at)) => Ok(Condition::any()
            .add(past(by, at.into()))
            .add(Condition::all().add(by.eq(at)).add(past(order.id, cursor.id.into())))),
        _ => Err(AppError::bad_input(
            field,
            "is a cursor of this list in another order; ask again without it",
        )),
    }
}

fn cursor_of<M: ModelTrait>(model: &M, order: &Order<<M::Entity as EntityTrait>::Column>) -> Cursor {
    let id = match model.get(order.id) {
        sea_orm::Value::Uuid(Some(id)) => id,
        _ => Uuid::nil(),
    };
    let at = order.by.and_then(|by| match model.get(by) {
        sea_orm::Value::ChronoDateTimeUtc(Some(at)) => Some(at),
        _ => None,
    });
    Cursor { at, id }
}

/// Fetches one page of `select` in `order`.
pub async fn fetch<E, C>(
    conn: &C,
    select: Select<E>,
    order: Order<E::Column>,
    page: PageRequest,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total_count = if page.count {
        Some(select.clone().count(conn).await?)
    } else {
        None
    };
    let mut select = select;
    if let Some(after) = page.after {
        select = select.filter(beyond(&order, after, !order.descending, "after")?);
    }
    if let Some(before) = page.before {
        select = select.filter(beyond(&order, before, order.descending, "before")?);
    }
    // From the end, the page is read in reverse and turned around.
    let descending = order.descending != page.from_end;
    let direction = if descending {
        sea_orm::Order::Desc
    } else {
        sea_orm::Order::Asc
    };
    if let Some(by) = order.by {
        select = select.order_by(by, direction.clone());
    }
    let mut rows = select
        .order_by(order.id, direction)
        .limit(page.size + 1)
        .all(conn)
        .await?;
    let more = rows.len() as u64 > page.size;
    rows.truncate(page.size as usize);
    if page.from_end {
        rows.reverse();
    }
    let (has_next_page, has_previous_page) = if page.from_end {
        (page.before.is_some(), more)
    } else {
        (more, page.after.is_some())
    };
    Ok(Page {
        items: rows.into_iter().map(|m| (cursor_of(&m, &order), m)).collect(),
        has_next_page,
        has_previous_page,
        total_count,
    })
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
