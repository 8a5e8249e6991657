//! SQL shared by every backend: a small query builder that writes each
//! dialect's placeholders and idioms, the bind values it collects, and the
//! read connection pool that runs the result.
//!
//! Backends differ in a handful of spots only (placeholders, "no limit",
//! JSON tags, case-insensitive matching, lists of texts bound as one array
//! on Postgres); everything else — the filters, the
//! sort orders, the row mapping in `rows` — is written once.

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, FromRow, PgPool, SqlitePool};

use crate::StoreError;

/// Which SQL dialect a query is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a query.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Time(DateTime<Utc>),
    OptTime(Option<DateTime<Utc>>),
    Bytes(Vec<u8>),
    /// A `text[]` (Postgres only).
    TextList(Vec<String>),
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Arg {
        Arg::OptText(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::OptInt(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(v)
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Arg {
        Arg::Time(v)
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(v: Option<DateTime<Utc>>) -> Arg {
        Arg::OptTime(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Arg {
        Arg::Bytes(v)
    }
}

/// A query being built: its text and its bind values, in order.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub dialect: Dialect,
    pub text: String,
    pub args: Vec<Arg>,
    has_where: bool,
}

impl Sql {
    pub fn new(dialect: Dialect, text: &str) -> Sql {
        Sql {
            dialect,
            text: text.to_string(),
            args: Vec::new(),
            has_where: false,
        }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Arg>) -> &mut Sql {
        self.args.push(value.into());
        let n = self.args.len();
        match self.dialect {
            Dialect::Sqlite => self.text.push_str(&format!("?{n}")),
            Dialect::Postgres => self.text.push_str(&format!("${n}")),
        }
        self
    }

    /// Starts the next `WHERE`/`AND` condition.
    pub fn cond(&mut self) -> &mut Sql {
        let kw = if self.has_where { " AND " } else { " WHERE " };
        self.has_where = true;
        self.push(kw)
    }

    /// `column IN (values)` when `values` is given; an empty list matches nothing.
    pub fn any_of<T: Into<Arg>>(&mut self, column: &str, values: Option<Vec<T>>) {
        let Some(values) = values else { return };
        if values.is_empty() {
            self.cond().push("1 = 0");
            return;
        }
        let values = match self.text_list(values) {
            Ok(list) => {
                self.cond()
                    .push(column)
                    .push(" = ANY(")
                    .bind(list)
                    .push(")");
                return;
            }
            Err(values) => values,
        };
        self.cond().push(column).push(" IN (");
        self.bind_list(values);
        self.push(")");
    }

    /// On Postgres, texts as one `text[]` value (so that a query has one
    /// text, and one prepared statement, whatever the list's length);
    /// otherwise the values as they are.
    fn text_list(&self, values: Vec<impl Into<Arg>>) -> Result<Arg, Vec<Arg>> {
        let values: Vec<Arg> = values.into_iter().map(Into::into).collect();
        if self.dialect != Dialect::Postgres || !values.iter().all(|v| matches!(v, Arg::Text(_))) {
            return Err(values);
        }
        Ok(Arg::TextList(
            values
                .into_iter()
                .filter_map(|v| match v {
                    Arg::Text(t) => Some(t),
                    _ => None,
                })
                .collect(),
        ))
    }

    /// Binds `values`, separated by commas.
    fn bind_list(&mut self, values: Vec<Arg>) {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
    }

    /// `column NOT IN (values)` when `values` is given (a null `column`
    /// passes); an empty list excludes nothing.
    pub fn none_of<T: Into<Arg>>(&mut self, column: &str, values: Option<Vec<T>>) {
        let Some(values) = values else { return };
        if values.is_empty() {
            return;
        }
        self.cond().push("(").push(column).push(" IS NULL OR ");
        match self.text_list(values) {
            Ok(list) => {
                self.push(column).push(" <> ALL(").bind(list).push("))");
            }
            Err(values) => {
                self.push(column).push(" NOT IN (");
                self.bind_list(values);
                self.push("))");
            }
        }
    }

    /// `column IS NULL` (`Some(true)`) or `IS NOT NULL` (`Some(false)`).
    pub fn is_null(&mut self, column: &str, null: Option<bool>) {
        match null {
            Some(true) => {
                self.cond().push(column).push(" IS NULL");
            }
            Some(false) => {
                self.cond().push(column).push(" IS NOT NULL");
            }
            None => {}
        }
    }

    /// `column` within `[after, before]`, each bound optional.
    pub fn time_range(
        &mut self,
        column: &str,
        after: Option<DateTime<Utc>>,
        before: Option<DateTime<Utc>>,
    ) {
        if let Some(t) = after {
            self.cond().push(column).push(" >= ").bind(t);
        }
        if let Some(t) = before {
            self.cond().push(column).push(" <= ").bind(t);
        }
    }

    /// The JSON array of text in `column` holds one of `tags` (none when
    /// `tags` is empty).
    pub fn has_any_tag(&mut self, column: &str, tags: &[String]) {
        if tags.is_empty() {
            self.cond().push("1 = 0");
            return;
        }
        self.cond().push("(");
        for (i, tag) in tags.iter().enumerate() {
            if i > 0 {
                self.push(" OR ");
            }
            self.tag_test(column, tag);
        }
        self.push(")");
    }

    /// The JSON array of text in `column` is empty (`true`) or not.
    pub fn tags_empty(&mut self, column: &str, empty: bool) {
        let op = if empty { " = " } else { " > " };
        match self.dialect {
            Dialect::Sqlite => self.cond().push("json_array_length(").push(column),
            Dialect::Postgres => self
                .cond()
                .push("jsonb_array_length((")
                .push(column)
                .push(")::jsonb"),
        };
        self.push(")").push(op).push("0");
    }

    /// The JSON array of text in `column` holds `tag`.
    pub fn has_tag(&mut self, column: &str, tag: &str) {
        self.cond();
        self.tag_test(column, tag);
    }

    /// The test of [`Sql::has_tag`], without its `WHERE`/`AND`.
    fn tag_test(&mut self, column: &str, tag: &str) {
        match self.dialect {
            Dialect::Sqlite => {
                self.push("EXISTS (SELECT 1 FROM json_each(")
                    .push(column)
                    .push(") WHERE json_each.value = ")
                    .bind(tag)
                    .push(")");
            }
            Dialect::Postgres => {
                self.push("(")
                    .push(column)
                    .push(")::jsonb @> jsonb_build_array(")
                    .bind(tag)
                    .push("::text)");
            }
        }
    }

    /// `column` contains `needle`, ignoring ASCII case (Prefect's `like_`).
    pub fn contains(&mut self, column: &str, needle: &str) {
        let (op, end) = match self.dialect {
            Dialect::Sqlite => (" LIKE ", " || '%'"),
            Dialect::Postgres => (" ILIKE ", "::text || '%'"),
        };
        self.cond()
            .push(column)
            .push(op)
            .push("'%' || ")
            .bind(needle)
            .push(end);
    }

    /// `column` starts with `prefix` (case-sensitive; no wildcards).
    pub fn starts_with(&mut self, column: &str, prefix: &str) {
        let f = match self.dialect {
            Dialect::Sqlite => "substr(",
            Dialect::Postgres => "left(",
        };
        let len = i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX);
        self.cond().push(f).push(column);
        match self.dialect {
            Dialect::Sqlite => self.push(", 1, ").bind(len),
            Dialect::Postgres => self.push(", ").bind(len).push("::int"),
        };
        self.push(") = ").bind(prefix);
    }

    /// `LIMIT`/`OFFSET`; no limit when `limit` is `None`.
    pub fn page(&mut self, limit: Option<u32>, offset: u32) {
        match (limit, self.dialect) {
            (Some(l), _) => {
                self.push(" LIMIT ").bind(i64::from(l));
            }
            (None, Dialect::Sqlite) => {
                self.push(" LIMIT -1");
            }
            (None, Dialect::Postgres) => {
                self.push(" LIMIT ALL");
            }
        }
        self.push(" OFFSET ").bind(i64::from(offset));
    }
}

macro_rules! add_all {
    ($args:expr, $values:expr, $list:expr) => {{
        for v in $values {
            match v {
                Arg::Text(x) => $args.add(x.clone()),
                Arg::OptText(x) => $args.add(x.clone()),
                Arg::Int(x) => $args.add(*x),
                Arg::OptInt(x) => $args.add(*x),
                Arg::Bool(x) => $args.add(*x),
                Arg::Time(x) => $args.add(*x),
                Arg::OptTime(x) => $args.add(*x),
                Arg::Bytes(x) => $args.add(x.clone()),
                Arg::TextList(x) => $list(&mut $args, x),
            }
            .map_err(|e| StoreError::Invalid(format!("cannot bind a value: {e}")))?;
        }
    }};
}

/// The bind values of a SQLite query.
pub(crate) fn sqlite_args(values: &[Arg]) -> Result<SqliteArguments<'static>, StoreError> {
    let mut args = SqliteArguments::default();
    add_all!(args, values, |_: &mut SqliteArguments,
                            _: &Vec<String>|
     -> Result<(), sqlx::error::BoxDynError> {
        Err("SQLite takes no list values".into())
    });
    Ok(args)
}

/// The bind values of a Postgres query.
pub(crate) fn pg_args(values: &[Arg]) -> Result<PgArguments, StoreError> {
    let mut args = PgArguments::default();
    add_all!(args, values, |a: &mut PgArguments, x: &Vec<String>| a
        .add(x.clone()));
    Ok(args)
}

/// A row type both backends decode.
pub(crate) trait Row:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Row for T where T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{}

/// The pool reads run on.
#[derive(Debug, Clone)]
pub(crate) enum Reader {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Reader {
    /// A new query in this reader's dialect.
    pub fn sql(&self, text: &str) -> Sql {
        Sql::new(self.dialect(), text)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Reader::Sqlite(_) => Dialect::Sqlite,
            Reader::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Every row of `q`.
    pub async fn all<T: Row>(&self, q: &Sql) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Reader::Sqlite(p) => {
                sqlx::query_as_with::<_, T, _>(&q.text, sqlite_args(&q.args)?)
                    .fetch_all(p)
                    .await?
            }
            Reader::Postgres(p) => {
                sqlx::query_as_with::<_, T, _>(&q.text, pg_args(&q.args)?)
                    .fetch_all(p)
                    .await?
            }
        })
    }

    /// The first row of `q`, if any.
    pub async fn optional<T: Row>(&self, q: &Sql) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Reader::Sqlite(p) => {
                sqlx::query_as_with::<_, T, _>(&q.text, sqlite_args(&q.args)?)
                    .fetch_optional(p)
                    .await?
            }
            Reader::Postgres(p) => {
                sqlx::query_as_with::<_, T, _>(&q.text, pg_args(&q.args)?)
                    .fetch_optional(p)
                    .await?
            }
        })
    }

    pub async fn close(&self) {
        match self {
            Reader::Sqlite(p) => p.close().await,
            Reader::Postgres(p) => p.close().await,
        }
    }
}

/// One text column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct TextRow {
    pub value: String,
}

/// A `COUNT(*) AS value`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CountRow {
    pub value: i64,
}

/// One bytes column.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BytesRow {
    pub value: Vec<u8>,
}
