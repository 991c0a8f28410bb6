//! Embedded migrations, one folder per backend with the same names, applied in order at start.
//! Applied names are kept in `schema_migrations`; the region and department tables are seeded
//! from the embedded region tree the first time.

use crate::db::{query, query_owned};
use crate::{Backend, Store, StoreError, StoreResult, WriteTx};
use bangfu_core::model::Tier;
use bangfu_core::region::RegionTree;
use bangfu_core::routing::department_name;

/// (name, SQLite script, PostgreSQL script)
const MIGRATIONS: &[(&str, &str, &str)] = &[
    ("0001_init", include_str!("../migrations/sqlite/0001_init.sql"), include_str!("../migrations/postgres/0001_init.sql")),
    ("0002_scale", include_str!("../migrations/sqlite/0002_scale.sql"), include_str!("../migrations/postgres/0002_scale.sql")),
    ("0003_lists", include_str!("../migrations/sqlite/0003_lists.sql"), include_str!("../migrations/postgres/0003_lists.sql")),
    ("0004_access", include_str!("../migrations/sqlite/0004_access.sql"), include_str!("../migrations/postgres/0004_access.sql")),
    ("0005_attention", include_str!("../migrations/sqlite/0005_attention.sql"), include_str!("../migrations/postgres/0005_attention.sql")),
    ("0006_queue", include_str!("../migrations/sqlite/0006_queue.sql"), include_str!("../migrations/postgres/0006_queue.sql")),
    ("0007_figures", include_str!("../migrations/sqlite/0007_figures.sql"), include_str!("../migrations/postgres/0007_figures.sql")),
    ("0008_outbox", include_str!("../migrations/sqlite/0008_outbox.sql"), include_str!("../migrations/postgres/0008_outbox.sql")),
    ("0009_participation", include_str!("../migrations/sqlite/0009_participation.sql"), include_str!("../migrations/postgres/0009_participation.sql")),
    ("0011_figures2", include_str!("../migrations/sqlite/0011_figures2.sql"), include_str!("../migrations/postgres/0011_figures2.sql")),
    ("0012_outbox2", include_str!("../migrations/sqlite/0012_outbox2.sql"), include_str!("../migrations/postgres/0012_outbox2.sql")),
];

pub(crate) async fn run(store: &Store) -> StoreResult<()> {
    for (name, sqlite, postgres) in MIGRATIONS {
        let script = match store.backend() {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        // A write, so that servers starting together on one PostgreSQL database migrate one
        // after the other (and do not race on creating schema_migrations).
        store
            .write(move |tx| {
                tx.exec().batch("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")?;
                let applied = tx
                    .exec()
                    .optional(query("SELECT name FROM schema_migrations WHERE name = $1").bind(*name), |r| r.try_get::<String>("name"))?;
                if applied.is_some() {
                    return Ok(());
                }
                tx.exec().batch(script)?;
                tx.exec()
                    .execute(query("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)").bind(*name).bind(env!("CARGO_PKG_VERSION")))?;
                if *name == "0001_init" {
                    seed_regions(tx)?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
    }
    Ok(())
}

/// Regions and one department per region, from the embedded tree; many rows per statement
/// (a parent comes before its children in the tree's order, which the references need).
fn seed_regions(tx: &mut WriteTx) -> StoreResult<()> {
    const ROWS_PER_STATEMENT: usize = 500;
    let tree = RegionTree::embedded();
    let regions: Vec<_> = tree.iter().collect();
    for chunk in regions.chunks(ROWS_PER_STATEMENT) {
        let mut stmt =
            query_owned(format!("INSERT INTO regions (code, name, level, parent_code, lon, lat) VALUES {}", placeholders(chunk.len(), 6)));
        for region in chunk {
            stmt = stmt
                .bind(region.code.to_string())
                .bind(region.name.clone())
                .bind(region.level.as_str())
                .bind(region.parent.map(|p| p.to_string()))
                .bind(region.lon)
                .bind(region.lat);
        }
        tx.exec().execute(stmt)?;
        let mut stmt = query_owned(format!("INSERT INTO departments (region_code, tier, name) VALUES {}", placeholders(chunk.len(), 3)));
        for region in chunk {
            stmt = stmt.bind(region.code.to_string()).bind(Tier::of_level(region.level).as_str()).bind(department_name(tree, region.code));
        }
        tx.exec().execute(stmt)?;
    }
    Ok(())
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column + 1));
        }
        sql.push(')');
    }
    sql
}
