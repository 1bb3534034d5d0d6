//! SQL text (a `.sql` file, a yoyo step string, an `op.execute` argument)
//! read into schema operations.
//!
//! Statements are split on sqlparser's tokens (trigger bodies keep their
//! inner semicolons) and parsed one at a time, so one bad statement never
//! hides the others. When sqlparser cannot read a statement, real SQLite is
//! asked whether the statement is valid: if it is (a vec0 virtual table, a
//! `CREATE TRIGGER IF NOT EXISTS`, a `PRAGMA`), the statement is kept as a
//! shallow operation instead of being reported as a parse error.

use std::cell::RefCell;
use std::sync::LazyLock;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, ObjectName, ObjectType, Statement,
    TableConstraint as SqlConstraint,
};
use sqlparser::dialect::{Dialect as SqlDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::load::suppression::parse_suppression;
use crate::migration::{
    Column, ColumnChanges, ConstraintKind, ForeignKeyRef, IndexDef, LoadProblem, Online, OpKind,
    OpaqueKind, Operation, Reach, SqlInfo, SuppressionComment, TableConstraint,
};
use crate::project::config::Dialect;
use crate::source::{FileId, SourceFile, Span};

/// Maps byte offsets in a SQL string back to byte offsets in its file.
///
/// A string literal without escapes maps as one segment; every escape
/// sequence starts a new one, so offsets stay exact around `\n` or `\'`.
#[derive(Clone, Debug, Default)]
pub struct OffsetMap {
    /// (offset in SQL text, offset in file), sorted by the first.
    segments: Vec<(u32, u32)>,
}

impl OffsetMap {
    pub fn identity_at(file_offset: usize) -> Self {
        OffsetMap {
            segments: vec![(0, file_offset as u32)],
        }
    }

    pub fn push(&mut self, sql_offset: usize, file_offset: usize) {
        self.segments.push((sql_offset as u32, file_offset as u32));
    }

    pub fn to_file(&self, sql_offset: usize) -> usize {
        let i = match self
            .segments
            .binary_search_by_key(&(sql_offset as u32), |s| s.0)
        {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        };
        match self.segments.get(i) {
            Some(&(sql, file)) => file as usize + sql_offset.saturating_sub(sql as usize),
            None => sql_offset,
        }
    }
}

/// SQL text together with where it sits in its file.
pub struct SqlSource<'a> {
    pub text: &'a str,
    pub map: &'a OffsetMap,
    pub file: FileId,
}

impl SqlSource<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.map.to_file(start), self.map.to_file(end))
    }
}

/// What reading one SQL text produced.
#[derive(Debug, Default)]
pub struct SqlOutput {
    pub ops: Vec<Operation>,
    pub problems: Vec<LoadProblem>,
    pub suppressions: Vec<SuppressionComment>,
    /// Number of statements found (0: empty or only comments).
    pub statements: usize,
}

/// Line starts of a SQL string as sqlparser counts them (`\n` only).
struct SqlLines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> SqlLines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SqlLines { text, starts }
    }

    /// Byte offset of a sqlparser location (1-based line, 1-based char column).
    fn offset(&self, loc: Location) -> usize {
        if loc.line == 0 {
            return 0;
        }
        let Some(&start) = self.starts.get(loc.line as usize - 1) else {
            return self.text.len();
        };
        let col = loc.column.saturating_sub(1) as usize;
        self.text[start..]
            .char_indices()
            .nth(col)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

fn dialect_impl(dialect: Dialect) -> Box<dyn SqlDialect> {
    match dialect {
        Dialect::Sqlite => Box::new(SQLiteDialect {}),
        Dialect::Postgresql => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
    }
}

/// Reads a whole SQL file (a `.sql` migration, its rollback, a schema dump).
pub fn read_sql_file(file: &SourceFile, id: FileId, dialect: Dialect) -> SqlOutput {
    read_sql_range(file, id, 0..file.text.len(), dialect)
}

/// Reads the statements in one part of a file (a dbmate section), with
/// spans in the file.
pub fn read_sql_range(
    file: &SourceFile,
    id: FileId,
    range: std::ops::Range<usize>,
    dialect: Dialect,
) -> SqlOutput {
    let map = OffsetMap::identity_at(range.start);
    let mut out = SqlOutput::default();
    read_sql(
        &SqlSource {
            text: &file.text[range],
            map: &map,
            file: id,
        },
        dialect,
        file,
        &mut out,
    );
    out
}

/// Reads every statement of `src` into operations.
pub fn read_sql(src: &SqlSource, dialect: Dialect, file: &SourceFile, out: &mut SqlOutput) {
    let sql_dialect = dialect_impl(dialect);
    let lines = SqlLines::new(src.text);
    let tokens = match Tokenizer::new(sql_dialect.as_ref(), src.text).tokenize_with_location() {
        Ok(t) => t,
        Err(e) => {
            let at = lines.offset(e.location);
            out.problems.push(LoadProblem {
                span: src.span(at, at + 1),
                message: format!("SQL does not parse: {}", e.message),
            });
            out.statements += 1;
            return;
        }
    };

    for tok in &tokens {
        if let Token::Whitespace(Whitespace::SingleLineComment { comment, prefix }) = &tok.token
            && comment.contains("miglint:")
        {
            let start = lines.offset(tok.span.start);
            let end = lines.offset(tok.span.end);
            let span = src.span(start, end);
            let text = format!("{prefix}{comment}");
            if let Some(s) = parse_suppression(&text, span, file) {
                out.suppressions.push(s);
            }
        }
    }

    for stmt in split_statements(&tokens) {
        out.statements += 1;
        let start = lines.offset(stmt[0].span.start);
        let end = lines.offset(stmt[stmt.len() - 1].span.end);
        let span = src.span(start, end);
        let stmt_text = &src.text[start..end];
        let mut parser =
            Parser::new(sql_dialect.as_ref()).with_tokens_with_locations(stmt.to_vec());
        let parsed = parser.parse_statement().and_then(|s| {
            if parser.peek_token_ref().token == Token::EOF {
                Ok(s)
            } else {
                let t = parser.peek_token();
                Err(sqlparser::parser::ParserError::ParserError(format!(
                    "Expected: end of statement, found: {}{}",
                    t.token, t.span.start
                )))
            }
        });
        match parsed {
            Ok(statement) => statement_ops(&statement, stmt_text, span, src, &lines, &mut out.ops),
            Err(err) => {
                let (message, at) = split_location(&err.to_string(), &lines);
                let syntax_ok = dialect == Dialect::Sqlite && sqlite_accepts(stmt_text);
                if dialect != Dialect::Sqlite {
                    // No server here to say whether the statement is
                    // valid: read what can be read, never report it.
                    out.ops
                        .push(unparsed_unchecked(stmt, stmt_text, span, &message));
                } else if syntax_ok {
                    out.ops.push(shallow_op(stmt, stmt_text, span));
                } else {
                    let at = at.unwrap_or(start);
                    // Underline the whole token the parser stopped at.
                    let end = stmt
                        .iter()
                        .find(|t| lines.offset(t.span.start) == at)
                        .map(|t| lines.offset(t.span.end))
                        .filter(|&e| e > at)
                        .unwrap_or((at + 1).min(src.text.len()).max(at));
                    out.problems.push(LoadProblem {
                        span: src.span(at, end),
                        message: format!("SQL does not parse: {message}"),
                    });
                    out.ops.push(Operation {
                        kind: OpKind::Opaque {
                            what: OpaqueKind::Sql,
                            note: "statement that does not parse".into(),
                        },
                        span,
                        in_batch: false,
                        sql: Some(SqlInfo {
                            guarded: false,
                            statement: stmt_text.to_string(),
                            parses: false,
                        }),
                        call: None,
                        reach: Reach::Always,
                        if_exists: false,
                        online: Online::default(),
                    });
                }
            }
        }
    }
}

/// Splits tokens into statements (whitespace and comments trimmed off each).
/// A `CREATE TRIGGER` body keeps its semicolons until the matching `END`.
fn split_statements(tokens: &[TokenWithSpan]) -> Vec<&[TokenWithSpan]> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut last_real = 0;
    let mut words: Vec<Keyword> = Vec::new();
    let mut depth = 0i32;
    for (i, tok) in tokens.iter().enumerate() {
        match &tok.token {
            Token::Whitespace(_) | Token::EOF => continue,
            Token::SemiColon if depth <= 0 => {
                if let Some(s) = start.take() {
                    out.push(&tokens[s..=last_real]);
                }
                words.clear();
                depth = 0;
                continue;
            }
            Token::Word(w) => {
                if words.len() < 4 {
                    words.push(w.keyword);
                }
                let is_trigger = words.first() == Some(&Keyword::CREATE)
                    && words.iter().take(3).any(|k| *k == Keyword::TRIGGER);
                if is_trigger {
                    match w.keyword {
                        Keyword::BEGIN | Keyword::CASE => depth += 1,
                        Keyword::END => depth -= 1,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if start.is_none() {
            start = Some(i);
        }
        last_real = i;
    }
    if let Some(s) = start {
        out.push(&tokens[s..=last_real]);
    }
    out
}

/// Splits sqlparser's " at Line: L, Column: C" suffix off a message and
/// turns it into an offset.
fn split_location(message: &str, lines: &SqlLines) -> (String, Option<usize>) {
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(message);
    if let Some(idx) = message.rfind(" at Line: ") {
        let tail = &message[idx + " at Line: ".len()..];
        let mut parts = tail.split(", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse::<u64>().ok());
        let column = parts.next().and_then(|c| c.trim().parse::<u64>().ok());
        if let (Some(line), Some(column)) = (line, column) {
            let at = lines.offset(Location { line, column });
            return (message[..idx].to_string(), Some(at));
        }
    }
    (message.to_string(), None)
}

thread_local! {
    static SQLITE: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
}

/// Whether SQLite's own grammar accepts a statement. Errors about missing
/// tables, modules or columns mean the syntax was fine.
pub fn sqlite_accepts(statement: &str) -> bool {
    SQLITE.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            crate::sqlite::configure();
            *cell = rusqlite::Connection::open_in_memory().ok();
        }
        let Some(conn) = cell.as_ref() else {
            return false;
        };
        match conn.prepare(statement) {
            Ok(_) => true,
            Err(e) => {
                let msg = e.to_string();
                !(msg.contains("syntax error")
                    || msg.contains("incomplete input")
                    || msg.contains("unrecognized token"))
            }
        }
    })
}

/// A `CREATE TABLE` SQLite accepts and sqlparser cannot read (a type of
/// several words such as `UNSIGNED BIG INT`, say), read back from SQLite
/// itself: the statement runs in the loader's private in-memory database,
/// its columns, keys and unique constraints come from the `PRAGMA`s, and
/// the table is dropped again. `None` when SQLite will not create it alone
/// (`AS SELECT` from other tables): the statement stays unmodelled.
fn sqlite_table(
    statement: &str,
    name: &str,
    span: Span,
) -> Option<(Vec<Column>, Vec<TableConstraint>)> {
    SQLITE.with(|cell| {
        let cell = cell.borrow();
        let conn = cell.as_ref()?;
        conn.execute_batch(statement).ok()?;
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let read = || -> rusqlite::Result<(Vec<Column>, Vec<TableConstraint>)> {
            let mut columns = Vec::new();
            let mut pk: Vec<(i64, String)> = Vec::new();
            let mut stmt = conn.prepare(&format!("PRAGMA table_info({quoted})"))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let column: String = r.get(1)?;
                let declared: String = r.get(2)?;
                let pk_at: i64 = r.get(5)?;
                if pk_at > 0 {
                    pk.push((pk_at, column.clone()));
                }
                columns.push(Column {
                    name: column,
                    type_name: (!declared.is_empty()).then_some(declared),
                    nullable: r.get::<_, i64>(3)? == 0,
                    default: r.get(4)?,
                    primary_key: false,
                    unique: false,
                    references: None,
                    foreign_key_name: None,
                    generated: false,
                    span,
                });
            }
            pk.sort();
            let mut constraints = Vec::new();
            match pk.as_slice() {
                [(_, only)] => {
                    if let Some(c) = columns.iter_mut().find(|c| c.name == *only) {
                        c.primary_key = true;
                    }
                }
                [] => {}
                many => constraints.push(TableConstraint {
                    name: None,
                    kind: ConstraintKind::PrimaryKey,
                    columns: many.iter().map(|(_, c)| c.clone()).collect(),
                }),
            }
            let mut unique: Vec<String> = Vec::new();
            let mut stmt = conn.prepare(&format!("PRAGMA index_list({quoted})"))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                if r.get::<_, String>(3)? == "u" {
                    unique.push(r.get(1)?);
                }
            }
            for index in unique {
                let index = format!("\"{}\"", index.replace('"', "\"\""));
                let mut stmt = conn.prepare(&format!("PRAGMA index_info({index})"))?;
                let cols: Vec<String> = stmt
                    .query_map([], |r| r.get(2))?
                    .collect::<rusqlite::Result<_>>()?;
                match cols.as_slice() {
                    [only] => {
                        if let Some(c) = columns.iter_mut().find(|c| c.name == *only) {
                            c.unique = true;
                        }
                    }
                    _ => constraints.push(TableConstraint {
                        name: None,
                        kind: ConstraintKind::Unique,
                        columns: cols,
                    }),
                }
            }
            let mut keys: Vec<(i64, String, String, Option<String>)> = Vec::new();
            let mut stmt = conn.prepare(&format!("PRAGMA foreign_key_list({quoted})"))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                keys.push((r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?));
            }
            let mut ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
            ids.dedup();
            for id in ids {
                let parts: Vec<_> = keys.iter().filter(|k| k.0 == id).collect();
                let target = ForeignKeyRef {
                    table: parts[0].1.clone(),
                    columns: parts.iter().filter_map(|k| k.3.clone()).collect(),
                };
                let from: Vec<String> = parts.iter().map(|k| k.2.clone()).collect();
                match from.as_slice() {
                    [only] if columns.iter().any(|c| c.name == *only) => {
                        let c = columns.iter_mut().find(|c| c.name == *only).expect("found");
                        c.references = Some(target);
                    }
                    _ => constraints.push(TableConstraint {
                        name: None,
                        kind: ConstraintKind::ForeignKey(target),
                        columns: from,
                    }),
                }
            }
            Ok((columns, constraints))
        };
        let out = read();
        let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {quoted}"));
        out.ok().filter(|(columns, _)| !columns.is_empty())
    })
}

/// The column definition of `ALTER TABLE t ADD [COLUMN] <definition>`.
fn added_column(statement: &str) -> Option<&str> {
    static ADD: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?is)^\s*ALTER\s+TABLE\s+.+?\s+ADD\s+(?:COLUMN\s+)?(.+?)[\s;]*$")
            .expect("valid regex")
    });
    ADD.captures(statement)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// A column definition SQLite accepts and sqlparser cannot read (a type of
/// several words), read back from SQLite through a table holding it alone.
fn sqlite_column(definition: &str, span: Span) -> Option<Column> {
    let probe = "miglint_probe_column";
    let (mut columns, constraints) = sqlite_table(
        &format!("CREATE TABLE {probe} ({definition}\n)"),
        probe,
        span,
    )?;
    (columns.len() == 1 && constraints.is_empty()).then(|| columns.remove(0))
}

fn word(tok: &TokenWithSpan) -> Option<Keyword> {
    match &tok.token {
        Token::Word(w) => Some(w.keyword),
        _ => None,
    }
}

fn ident_text(tok: &TokenWithSpan) -> String {
    match &tok.token {
        Token::Word(w) => w.value.clone(),
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Reads the kind, name and guard of a statement SQLite accepts but
/// sqlparser cannot read, from its leading keywords.
fn shallow_op(stmt: &[TokenWithSpan], text: &str, span: Span) -> Operation {
    let toks: Vec<&TokenWithSpan> = stmt
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .collect();
    let mut i = 0;
    let kw = |i: usize| toks.get(i).and_then(|t| word(t));
    let mut guarded = false;
    let mut concurrently = false;
    // Reads a possibly schema-qualified name starting at `i`.
    let name_at = |mut i: usize| -> (String, usize) {
        let mut name = toks.get(i).map(|t| ident_text(t)).unwrap_or_default();
        while toks.get(i + 1).map(|t| &t.token) == Some(&Token::Period) {
            name = toks.get(i + 2).map(|t| ident_text(t)).unwrap_or_default();
            i += 2;
        }
        (name, i + 1)
    };
    let kind = match kw(0) {
        Some(Keyword::CREATE) => {
            i += 1;
            while matches!(
                kw(i),
                Some(Keyword::TEMP | Keyword::TEMPORARY | Keyword::UNIQUE | Keyword::VIRTUAL)
            ) {
                i += 1;
            }
            let object = kw(i);
            i += 1;
            if kw(i) == Some(Keyword::IF) && kw(i + 1) == Some(Keyword::NOT) {
                guarded = true;
                i += 3;
            }
            let (name, next) = name_at(i);
            match object {
                Some(Keyword::TABLE) if kw(next) == Some(Keyword::USING) => {
                    OpKind::CreateVirtualTable {
                        name,
                        module: toks
                            .get(next + 1)
                            .map(|t| ident_text(t))
                            .unwrap_or_default(),
                    }
                }
                Some(Keyword::TRIGGER) => OpKind::CreateTrigger { name },
                Some(Keyword::VIEW) => OpKind::CreateView { name },
                Some(Keyword::TABLE) => match sqlite_table(text, &name, span) {
                    Some((columns, constraints)) => OpKind::CreateTable {
                        name,
                        columns,
                        constraints,
                    },
                    None => opaque_sql(),
                },
                _ => opaque_sql(),
            }
        }
        Some(Keyword::ALTER) if kw(1) == Some(Keyword::TABLE) => {
            let (table, next) = name_at(2);
            match (kw(next), added_column(text)) {
                (Some(Keyword::ADD), Some(def)) => match sqlite_column(def, span) {
                    Some(column) => OpKind::AddColumn { table, column },
                    None => opaque_sql(),
                },
                _ => opaque_sql(),
            }
        }
        Some(Keyword::DROP) => {
            let object = kw(1);
            i = 2;
            if kw(i) == Some(Keyword::CONCURRENTLY) {
                concurrently = true;
                i += 1;
            }
            if kw(i) == Some(Keyword::IF) && kw(i + 1) == Some(Keyword::EXISTS) {
                guarded = true;
                i += 2;
            }
            let (name, _) = name_at(i);
            match object {
                Some(Keyword::TABLE) => OpKind::DropTable { name },
                Some(Keyword::INDEX) => OpKind::DropIndex { name, table: None },
                Some(Keyword::VIEW) => OpKind::DropView { name },
                Some(Keyword::TRIGGER) => OpKind::DropTrigger { name },
                _ => opaque_sql(),
            }
        }
        Some(
            Keyword::PRAGMA
            | Keyword::INSERT
            | Keyword::UPDATE
            | Keyword::DELETE
            | Keyword::SELECT
            | Keyword::REPLACE
            | Keyword::WITH,
        ) => OpKind::Data {
            statement: toks
                .first()
                .map(|t| ident_text(t))
                .unwrap_or_default()
                .to_uppercase(),
        },
        _ => opaque_sql(),
    };
    Operation {
        kind,
        span,
        in_batch: false,
        sql: Some(SqlInfo {
            guarded,
            statement: text.to_string(),
            parses: true,
        }),
        call: None,
        reach: Reach::Always,
        if_exists: false,
        online: Online {
            concurrently,
            ..Online::default()
        },
    }
}

/// A PostgreSQL or MySQL statement the parser does not read. Its kind, when the
/// first words say (`DROP INDEX CONCURRENTLY ix`); else a function, type,
/// extension or grant, which leaves tables as they are; else (a `DO` block,
/// an `ALTER TABLE` form the parser lacks) the tables it names, or every
/// table, become uncertain, with a note.
fn unparsed_unchecked(stmt: &[TokenWithSpan], text: &str, span: Span, why: &str) -> Operation {
    let mut op = shallow_op(stmt, text, span);
    if let Some(sql) = op.sql.as_mut() {
        sql.parses = false;
    }
    if !matches!(op.kind, OpKind::Opaque { .. }) {
        return op;
    }
    let words: Vec<Keyword> = stmt
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .take(4)
        .map(|t| word(t).unwrap_or(Keyword::NoKeyword))
        .collect();
    let leaves_tables = match words.as_slice() {
        [Keyword::CREATE, Keyword::OR, Keyword::REPLACE, object, ..]
        | [Keyword::CREATE, object, ..] => !matches!(
            object,
            Keyword::TABLE | Keyword::INDEX | Keyword::UNIQUE | Keyword::VIEW | Keyword::RULE
        ),
        [Keyword::DROP | Keyword::ALTER, object, ..] => !matches!(
            object,
            Keyword::TABLE | Keyword::INDEX | Keyword::VIEW | Keyword::SCHEMA
        ),
        [
            Keyword::COMMENT | Keyword::GRANT | Keyword::REVOKE | Keyword::SET | Keyword::RESET,
            ..,
        ] => true,
        _ => false,
    };
    if leaves_tables {
        op.kind = OpKind::Opaque {
            what: OpaqueKind::Sql,
            note: "statement miglint does not model".into(),
        };
        return op;
    }
    let table = match words.as_slice() {
        [Keyword::ALTER, Keyword::TABLE, ..] => {
            let toks: Vec<&TokenWithSpan> = stmt
                .iter()
                .filter(|t| !matches!(t.token, Token::Whitespace(_)))
                .collect();
            let mut i = 2;
            while matches!(
                toks.get(i).and_then(|t| word(t)),
                Some(Keyword::IF | Keyword::EXISTS | Keyword::ONLY)
            ) {
                i += 1;
            }
            while toks.get(i + 1).map(|t| &t.token) == Some(&Token::Period) {
                i += 2;
            }
            toks.get(i).map(|t| ident_text(t))
        }
        _ => None,
    };
    let first_line = why.lines().next().unwrap_or(why);
    op.kind = OpKind::Unread {
        tables: table.into_iter().collect(),
        note: format!("SQL miglint's parser does not read ({first_line})"),
    };
    op
}

fn opaque_sql() -> OpKind {
    OpKind::Opaque {
        what: OpaqueKind::Sql,
        note: "SQLite accepts this statement but miglint does not model it".into(),
    }
}

/// The unqualified, unquoted last part of a name.
pub fn object_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(|p| p.as_ident())
        .map(|i| i.value.clone())
        .unwrap_or_else(|| name.to_string())
}

fn statement_ops(
    statement: &Statement,
    text: &str,
    span: Span,
    src: &SqlSource,
    lines: &SqlLines,
    ops: &mut Vec<Operation>,
) {
    // What the next operation pushed does to keep the table usable.
    let online = std::cell::Cell::new(Online::default());
    let mut push = |kind: OpKind, guarded: bool| {
        ops.push(Operation {
            kind,
            span,
            in_batch: false,
            sql: Some(SqlInfo {
                guarded,
                statement: text.to_string(),
                parses: true,
            }),
            call: None,
            reach: Reach::Always,
            if_exists: false,
            online: online.take(),
        })
    };
    let ident_span = |ident: &sqlparser::ast::Ident| {
        if ident.span.start.line == 0 {
            span
        } else {
            src.span(lines.offset(ident.span.start), lines.offset(ident.span.end))
        }
    };
    // A literal default as written (`FALSE`, `1.0`): SQLite keeps its text.
    let written = |e: &sqlparser::ast::Expr| -> Option<String> {
        use sqlparser::ast::Spanned;
        let sqlparser::ast::Expr::Value(_) = e else {
            return None;
        };
        let at = e.span();
        (at.start.line > 0)
            .then(|| src.text.get(lines.offset(at.start)..lines.offset(at.end)))
            .flatten()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    match statement {
        Statement::CreateTable(ct) => {
            let mut columns = Vec::new();
            for def in &ct.columns {
                let col = column_from_def(def, ident_span(&def.name), &written);
                columns.push(col);
            }
            let constraints = ct.constraints.iter().filter_map(table_constraint).collect();
            push(
                OpKind::CreateTable {
                    name: object_name(&ct.name),
                    columns,
                    constraints,
                },
                ct.if_not_exists,
            );
        }
        Statement::CreateVirtualTable {
            name,
            if_not_exists,
            module_name,
            ..
        } => push(
            OpKind::CreateVirtualTable {
                name: object_name(name),
                module: module_name.value.clone(),
            },
            *if_not_exists,
        ),
        Statement::CreateIndex(ix) => {
            online.set(Online {
                concurrently: ix.concurrently,
                ..Online::default()
            });
            push(
                OpKind::CreateIndex(IndexDef {
                    name: ix.name.as_ref().map(object_name),
                    table: object_name(&ix.table_name),
                    columns: ix.columns.iter().map(index_column).collect(),
                    unique: ix.unique,
                    where_clause: ix.predicate.as_ref().map(|p| p.to_string()),
                    from_column: false,
                }),
                ix.if_not_exists,
            )
        }
        Statement::CreateView(v) => push(
            OpKind::CreateView {
                name: object_name(&v.name),
            },
            v.if_not_exists,
        ),
        Statement::CreateTrigger(t) => push(
            OpKind::CreateTrigger {
                name: object_name(&t.name),
            },
            false,
        ),
        Statement::DropTrigger(t) => push(
            OpKind::DropTrigger {
                name: object_name(&t.trigger_name),
            },
            t.if_exists,
        ),
        Statement::Drop {
            object_type,
            if_exists,
            names,
            table,
            ..
        } => {
            for name in names {
                let name = object_name(name);
                let kind = match object_type {
                    ObjectType::Table => OpKind::DropTable { name },
                    ObjectType::Index => OpKind::DropIndex {
                        name,
                        table: table.as_ref().map(object_name),
                    },
                    ObjectType::View => OpKind::DropView { name },
                    _ => opaque_sql(),
                };
                push(kind, *if_exists);
            }
        }
        Statement::AlterIndex {
            name,
            operation: sqlparser::ast::AlterIndexOperation::RenameIndex { index_name },
        } => push(
            OpKind::RenameIndex {
                from: object_name(name),
                to: object_name(index_name),
            },
            false,
        ),
        Statement::AlterTable(alter) => {
            let table = object_name(&alter.name);
            for op in &alter.operations {
                if let AlterTableOperation::AddConstraint { not_valid, .. } = op {
                    online.set(Online {
                        not_valid: *not_valid,
                        ..Online::default()
                    });
                }
                // `ALTER TABLE IF EXISTS`, or the operation's own guard:
                // `ADD COLUMN IF NOT EXISTS`, `DROP COLUMN IF EXISTS`.
                let guarded = alter.if_exists
                    || matches!(
                        op,
                        AlterTableOperation::AddColumn {
                            if_not_exists: true,
                            ..
                        } | AlterTableOperation::DropColumn {
                            if_exists: true,
                            ..
                        } | AlterTableOperation::DropConstraint {
                            if_exists: true,
                            ..
                        }
                    );
                push(alter_op(&table, op, &ident_span, &written), guarded);
            }
        }
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Query(_)
        | Statement::Pragma { .. } => {
            let text = statement.to_string();
            let head = text.split_whitespace().next().unwrap_or("").to_uppercase();
            push(OpKind::Data { statement: head }, false)
        }
        _ => push(opaque_sql(), false),
    }
}

fn alter_op(
    table: &str,
    op: &AlterTableOperation,
    ident_span: &dyn Fn(&sqlparser::ast::Ident) -> Span,
    written: &dyn Fn(&sqlparser::ast::Expr) -> Option<String>,
) -> OpKind {
    let table = table.to_string();
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            let col = column_from_def(column_def, ident_span(&column_def.name), written);
            OpKind::AddColumn { table, column: col }
        }
        AlterTableOperation::DropColumn { column_names, .. } => OpKind::DropColumn {
            table,
            column: column_names
                .first()
                .map(|c| c.value.clone())
                .unwrap_or_default(),
        },
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => OpKind::RenameColumn {
            table,
            from: old_column_name.value.clone(),
            to: new_column_name.value.clone(),
        },
        AlterTableOperation::RenameTable { table_name } => {
            let to = match table_name {
                sqlparser::ast::RenameTableNameKind::As(n)
                | sqlparser::ast::RenameTableNameKind::To(n) => object_name(n),
            };
            OpKind::RenameTable { from: table, to }
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let mut changes = ColumnChanges::default();
            match op {
                AlterColumnOperation::SetNotNull => changes.nullable = Some(false),
                AlterColumnOperation::DropNotNull => changes.nullable = Some(true),
                AlterColumnOperation::SetDefault { value } => {
                    changes.default = Some(Some(value.to_string()))
                }
                AlterColumnOperation::DropDefault => changes.default = Some(None),
                AlterColumnOperation::SetDataType { data_type, .. } => {
                    changes.type_name = Some(data_type.to_string())
                }
                _ => {}
            }
            OpKind::AlterColumn {
                table,
                column: column_name.value.clone(),
                changes,
            }
        }
        AlterTableOperation::AddConstraint { constraint, .. } => match table_constraint(constraint)
        {
            Some(constraint) => OpKind::AddConstraint { table, constraint },
            None => opaque_sql(),
        },
        AlterTableOperation::DropConstraint { name, .. } => OpKind::DropConstraint {
            convention: Vec::new(),
            table,
            name: name.value.clone(),
        },
        _ => opaque_sql(),
    }
}

/// The table and columns a foreign key points at.
fn fk_ref(fk: &sqlparser::ast::ForeignKeyConstraint) -> ForeignKeyRef {
    ForeignKeyRef {
        table: object_name(&fk.foreign_table),
        columns: fk
            .referred_columns
            .iter()
            .map(|c| c.value.clone())
            .collect(),
    }
}

/// An index or key column: its name, or the expression as written.
fn index_column(c: &sqlparser::ast::IndexColumn) -> String {
    match &c.column.expr {
        sqlparser::ast::Expr::Identifier(i) => i.value.clone(),
        e => e.to_string(),
    }
}

/// A column as declared in CREATE TABLE or ADD COLUMN.
fn column_from_def(
    def: &sqlparser::ast::ColumnDef,
    span: Span,
    written: &dyn Fn(&sqlparser::ast::Expr) -> Option<String>,
) -> Column {
    let mut col = Column {
        name: def.name.value.clone(),
        type_name: match def.data_type {
            sqlparser::ast::DataType::Unspecified => None,
            ref t => Some(t.to_string()),
        },
        nullable: true,
        default: None,
        primary_key: false,
        unique: false,
        references: None,
        foreign_key_name: None,
        generated: false,
        span,
    };
    for opt in &def.options {
        match &opt.option {
            ColumnOption::NotNull => col.nullable = false,
            ColumnOption::Default(e) => {
                col.default = Some(written(e).unwrap_or_else(|| e.to_string()))
            }
            ColumnOption::PrimaryKey(_) => col.primary_key = true,
            ColumnOption::Unique(_) => col.unique = true,
            ColumnOption::ForeignKey(fk) => {
                col.references = Some(fk_ref(fk));
                col.foreign_key_name = opt.name.as_ref().map(|n| n.value.clone());
            }
            ColumnOption::Generated {
                generation_expr: Some(_),
                ..
            } => col.generated = true,
            _ => {}
        }
    }
    col
}

fn table_constraint(c: &SqlConstraint) -> Option<TableConstraint> {
    let index_cols = |cols: &[sqlparser::ast::IndexColumn]| -> Vec<String> {
        cols.iter().map(index_column).collect()
    };
    Some(match c {
        SqlConstraint::PrimaryKey(pk) => TableConstraint {
            name: pk.name.as_ref().map(|n| n.value.clone()),
            kind: ConstraintKind::PrimaryKey,
            columns: index_cols(&pk.columns),
        },
        SqlConstraint::Unique(u) => TableConstraint {
            name: u.name.as_ref().map(|n| n.value.clone()),
            kind: ConstraintKind::Unique,
            columns: index_cols(&u.columns),
        },
        SqlConstraint::ForeignKey(fk) => TableConstraint {
            name: fk.name.as_ref().map(|n| n.value.clone()),
            kind: ConstraintKind::ForeignKey(fk_ref(fk)),
            columns: fk.columns.iter().map(|c| c.value.clone()).collect(),
        },
        SqlConstraint::Check(chk) => TableConstraint {
            name: chk.name.as_ref().map(|n| n.value.clone()),
            kind: ConstraintKind::Check,
            columns: Vec::new(),
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn read(sql: &str) -> SqlOutput {
        let file = SourceFile::from_bytes(Path::new("t.sql"), "t.sql".into(), sql.as_bytes());
        let map = OffsetMap::identity_at(0);
        let src = SqlSource {
            text: sql,
            map: &map,
            file: FileId(0),
        };
        let mut out = SqlOutput::default();
        read_sql(&src, Dialect::Sqlite, &file, &mut out);
        out
    }

    /// A type of several words is valid SQLite that sqlparser rejects:
    /// the table and the added column are read back from SQLite.
    #[test]
    fn tables_and_columns_sqlparser_cannot_read_come_from_sqlite() {
        let out = read(
            "CREATE TABLE IF NOT EXISTS pb (\n  c BLOB NOT NULL REFERENCES containers (\n id\n ) ON DELETE CASCADE,\n  idx UNSIGNED BIG INT NOT NULL,\n  port TEXT UNIQUE,\n  PRIMARY KEY (c, idx)\n);\nALTER TABLE pb ADD COLUMN memory UNSIGNED BIG INT -- bytes\n;",
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let OpKind::CreateTable {
            name,
            columns,
            constraints,
        } = &out.ops[0].kind
        else {
            panic!("a table: {:?}", out.ops[0].kind);
        };
        assert_eq!(name, "pb");
        let idx = columns.iter().find(|c| c.name == "idx").unwrap();
        assert_eq!(idx.type_name.as_deref(), Some("UNSIGNED BIG INT"));
        assert!(!idx.nullable);
        assert!(columns.iter().find(|c| c.name == "port").unwrap().unique);
        let c = columns.iter().find(|c| c.name == "c").unwrap();
        assert_eq!(c.references.as_ref().unwrap().table, "containers");
        assert_eq!(constraints[0].kind, ConstraintKind::PrimaryKey);
        assert_eq!(constraints[0].columns, ["c", "idx"]);
        assert!(out.ops[0].sql.as_ref().unwrap().guarded);
        let OpKind::AddColumn { table, column } = &out.ops[1].kind else {
            panic!("an added column: {:?}", out.ops[1].kind);
        };
        assert_eq!((table.as_str(), column.name.as_str()), ("pb", "memory"));
        assert_eq!(column.type_name.as_deref(), Some("UNSIGNED BIG INT"));
    }

    /// SQLite keeps a literal default as written: `FALSE`, not `false`.
    #[test]
    fn literal_defaults_keep_their_written_text() {
        let out = read("CREATE TABLE u (a BOOL NOT NULL DEFAULT FALSE, b REAL DEFAULT 1.50);");
        let OpKind::CreateTable { columns, .. } = &out.ops[0].kind else {
            panic!("a table");
        };
        assert_eq!(columns[0].default.as_deref(), Some("FALSE"));
        assert_eq!(columns[1].default.as_deref(), Some("1.50"));
    }

    #[test]
    fn splits_statements_and_keeps_trigger_bodies_whole() {
        let sql = "CREATE TABLE a (x INTEGER);\nCREATE TRIGGER IF NOT EXISTS t AFTER UPDATE ON a BEGIN UPDATE a SET x = 1; SELECT CASE WHEN 1 THEN 2 END; END;\nDROP TABLE a";
        let out = read(sql);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert_eq!(out.statements, 3);
        assert!(matches!(out.ops[1].kind, OpKind::CreateTrigger { ref name } if name == "t"));
        assert!(out.ops[1].sql.as_ref().unwrap().guarded);
        assert_eq!(&sql[out.ops[2].span.range()], "DROP TABLE a");
    }

    #[test]
    fn valid_sqlite_that_sqlparser_rejects_is_not_a_parse_error() {
        let out = read(
            "CREATE VIRTUAL TABLE IF NOT EXISTS v USING vec0(embedding float[384]); PRAGMA foreign_keys = ON; REINDEX",
        );
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert!(
            matches!(out.ops[0].kind, OpKind::CreateVirtualTable { ref module, .. } if module == "vec0")
        );
        assert!(matches!(out.ops[1].kind, OpKind::Data { .. }));
    }

    #[test]
    fn real_syntax_errors_are_reported_at_their_token() {
        let sql = "CREATE TABLE ok (a TEXT);\nCREATE TABEL broken (a TEXT);";
        let out = read(sql);
        assert_eq!(out.problems.len(), 1);
        let p = &out.problems[0];
        assert!(sql[p.span.start as usize..].starts_with("TABEL"), "{p:?}");
        assert_eq!(out.ops.len(), 2);
    }

    #[test]
    fn create_table_columns_are_modelled() {
        let out = read(
            "CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, u TEXT NOT NULL REFERENCES users(id), created_at TEXT NOT NULL DEFAULT (strftime('%s','now')))",
        );
        let OpKind::CreateTable { name, columns, .. } = &out.ops[0].kind else {
            panic!("{:?}", out.ops)
        };
        assert_eq!(name, "t");
        assert!(columns[0].primary_key);
        assert!(!columns[1].nullable);
        assert_eq!(columns[1].references.as_ref().unwrap().table, "users");
        assert!(columns[2].default.is_some());
        assert!(out.ops[0].sql.as_ref().unwrap().guarded);
    }

    #[test]
    fn offset_map_follows_segments() {
        let mut m = OffsetMap::identity_at(10);
        m.push(5, 20);
        assert_eq!(m.to_file(0), 10);
        assert_eq!(m.to_file(4), 14);
        assert_eq!(m.to_file(6), 21);
    }

    #[test]
    fn comment_only_text_has_no_statements() {
        let out = read("-- SQLite doesn't support DROP COLUMN before 3.35.0\n");
        assert_eq!(out.statements, 0);
    }
}
