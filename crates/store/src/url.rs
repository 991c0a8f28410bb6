//! Database URLs: `sqlite://PATH` (created on first run) or `postgres://…`. Anything else is
//! refused with the accepted forms, never turned into a fresh empty database.

use crate::StoreError;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed, accepted database URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

const ACCEPTED: &str = "accepted forms: sqlite://PATH (for example sqlite://bangfu.db) or postgres://USER@HOST:PORT/DB";

impl DatabaseUrl {
    pub fn parse(text: &str) -> Result<DatabaseUrl, StoreError> {
        let text = text.trim();
        let Some((scheme, rest)) = text.split_once("://").or_else(|| text.split_once(':').filter(|(s, _)| *s == "sqlite")) else {
            return Err(StoreError::BadUrl(format!("database URL {text:?} has no scheme — {ACCEPTED}")));
        };
        match scheme {
            "sqlite" => {
                let path = rest.split('?').next().unwrap_or("");
                if path.is_empty() {
                    return Err(StoreError::BadUrl(format!("database URL {text:?} names no file — {ACCEPTED}")));
                }
                if path == ":memory:" {
                    return Err(StoreError::BadUrl(
                        "sqlite::memory: would lose everything on exit — give a file, for example sqlite:///tmp/bangfu.db".into(),
                    ));
                }
                let path = PathBuf::from(path);
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Err(StoreError::BadUrl(format!(
                        "directory {} does not exist — create it first, or check the path in {text:?}",
                        parent.display()
                    )));
                }
                Ok(DatabaseUrl::Sqlite { path })
            }
            "postgres" | "postgresql" => Ok(DatabaseUrl::Postgres { url: text.to_string() }),
            other => Err(StoreError::BadUrl(format!("unknown database URL scheme {other:?} in {text:?} — {ACCEPTED}"))),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite { .. } => Backend::Sqlite,
            DatabaseUrl::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The URL without a password, for messages.
    pub fn display(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => match (url.find("://"), url.rfind('@')) {
                (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
                    Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                    None => url.clone(),
                },
                _ => url.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_a_file() {
        assert_eq!(DatabaseUrl::parse("sqlite://bangfu.db").unwrap(), DatabaseUrl::Sqlite { path: "bangfu.db".into() });
        assert_eq!(DatabaseUrl::parse("sqlite:bangfu.db").unwrap(), DatabaseUrl::Sqlite { path: "bangfu.db".into() });
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_the_accepted_ones() {
        let err = DatabaseUrl::parse("mysql://localhost/bangfu").unwrap_err().to_string();
        assert!(err.contains("unknown database URL scheme \"mysql\""), "{err}");
        assert!(err.contains("sqlite://PATH") && err.contains("postgres://"), "{err}");
    }

    #[test]
    fn a_url_without_a_scheme_is_refused() {
        assert!(DatabaseUrl::parse("bangfu.db").unwrap_err().to_string().contains("has no scheme"));
    }

    #[test]
    fn a_file_in_a_missing_directory_is_refused() {
        let err = DatabaseUrl::parse("sqlite:///no/such/dir/bangfu.db").unwrap_err().to_string();
        assert!(err.contains("directory /no/such/dir does not exist"), "{err}");
    }

    #[test]
    fn passwords_are_hidden_in_messages() {
        let url = DatabaseUrl::parse("postgres://bangfu:secret@127.0.0.1:5432/bangfu").unwrap();
        assert_eq!(url.display(), "postgres://bangfu:***@127.0.0.1:5432/bangfu");
    }
}
