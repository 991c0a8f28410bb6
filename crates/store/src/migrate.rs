//! Embedded migrations, one folder per backend with the same names, applied in order at start.
//! Applied names are kept in `schema_migrations`; the region and department tables are seeded
//! from the embedded region tree the first time.

use crate::{Backend, Store, StoreResult};
use bangfu_core::model::Tier;
use bangfu_core::region::RegionTree;
use bangfu_core::routing::department_name;

/// (name, SQLite script, PostgreSQL script)
const MIGRATIONS: &[(&str, &str, &str)] = &[(
    "0001_init",
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/postgres/0001_init.sql"),
)];

pub(crate) async fn run(store: &Store) -> StoreResult<()> {
    sqlx::raw_sql("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        .execute(&store.write)
        .await?;
    for (name, sqlite, postgres) in MIGRATIONS {
        let mut tx = store.begin_write().await?;
        let applied: Option<(String,)> = sqlx::query_as("SELECT name FROM schema_migrations WHERE name = $1")
            .bind(*name)
            .fetch_optional(tx.conn())
            .await?;
        if applied.is_some() {
            tx.rollback().await?;
            continue;
        }
        let script = match store.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(*script)).execute(tx.conn()).await?;
        sqlx::query("INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)")
            .bind(*name)
            .bind(env!("CARGO_PKG_VERSION"))
            .execute(tx.conn())
            .await?;
        if *name == "0001_init" {
            seed_regions(&mut tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Regions and one department per region, from the embedded tree.
async fn seed_regions(tx: &mut crate::WriteTx) -> StoreResult<()> {
    let tree = RegionTree::embedded();
    for region in tree.iter() {
        sqlx::query("INSERT INTO regions (code, name, level, parent_code, lon, lat) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(region.code.to_string())
            .bind(&region.name)
            .bind(region.level.as_str())
            .bind(region.parent.map(|p| p.to_string()))
            .bind(region.lon)
            .bind(region.lat)
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO departments (region_code, tier, name) VALUES ($1, $2, $3)")
            .bind(region.code.to_string())
            .bind(Tier::of_level(region.level).as_str())
            .bind(department_name(tree, region.code))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}
