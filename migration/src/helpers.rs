//! Small builders shared by the migrations.
use sea_orm_migration::prelude::*;

/// A foreign key `from.0(from.1) -> to(id)` that cascades deletes.
pub fn fk(name: &str, from: (&'static str, &'static str), to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

/// An index on `cols` of `table`, unique or not.
pub fn index(name: &str, table: &'static str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).take();
    for col in cols {
        stmt.col(*col);
    }
    if unique {
        stmt.unique();
    }
    stmt
}
