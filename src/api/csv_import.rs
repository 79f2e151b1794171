//! CSV uploads (agents, quick replies): one `text/csv` file per request, a fixed header,
//! every row read before anything is imported, and every bad cell reported by line and
//! column.

use std::collections::HashMap;

use axum::extract::{FromRequest, Request};
use axum::http::header;

use super::error::{ApiError, MAX_CSV_BYTES, RowError, read_body};

/// Most rows one upload may hold.
pub const MAX_IMPORT_ROWS: usize = 2_000;

/// A CSV request body (`Content-Type: text/csv`), at most [`MAX_CSV_BYTES`].
pub struct CsvBody(pub Vec<u8>);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let mime = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase());
        if !matches!(mime.as_deref(), Some("text/csv" | "application/csv")) {
            return Err(ApiError::UnsupportedMediaType(
                "only CSV files can be imported: send one file with Content-Type: text/csv"
                    .to_owned(),
            ));
        }
        Ok(CsvBody(read_body(req, MAX_CSV_BYTES).await?.to_vec()))
    }
}

/// One data row: its line in the file and its cells by column name.
#[derive(Debug)]
pub struct Row {
    /// The line (1 is the header).
    pub line: usize,
    /// Cells by column.
    pub cells: HashMap<&'static str, String>,
}

impl Row {
    /// A cell, trimmed.
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", |v| v.trim())
    }
}

/// Collects bad cells across a whole file.
#[derive(Default)]
pub struct RowErrors(pub Vec<RowError>);

impl RowErrors {
    /// Records a bad cell.
    pub fn push(&mut self, line: usize, column: &str, message: impl Into<String>) {
        self.0.push(RowError {
            row: line,
            column: column.to_owned(),
            message: message.into(),
        });
    }

    /// `Ok` when no cell was bad.
    pub fn finish(self, rows: usize) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let bad_rows = {
            let mut lines: Vec<usize> = self.0.iter().map(|e| e.row).collect();
            lines.dedup();
            lines.len()
        };
        Err(ApiError::InvalidRows {
            message: format!("{bad_rows} of {rows} rows are invalid; nothing was imported"),
            rows: self.0,
        })
    }
}

/// Reads a file whose header holds exactly `columns` (in any order).
pub fn read(bytes: &[u8], columns: &[&'static str]) -> Result<Vec<Row>, ApiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::invalid("file", "is not UTF-8 text"));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| ApiError::invalid("file", format!("unreadable header: {e}")))?
        .clone();
    let mut errors = RowErrors::default();
    let mut order = Vec::with_capacity(header.len());
    for name in header.iter() {
        match columns.iter().find(|c| c.eq_ignore_ascii_case(name.trim())) {
            Some(c) if order.contains(c) => errors.push(1, name, "column appears twice"),
            Some(c) => order.push(*c),
            None => errors.push(
                1,
                name,
                format!("unknown column; expected {}", columns.join(",")),
            ),
        }
    }
    for c in columns {
        if !order.contains(c) {
            errors.push(1, c, "column is missing");
        }
    }
    if !errors.0.is_empty() {
        return Err(ApiError::InvalidRows {
            message: "the header does not match the template; nothing was imported".to_owned(),
            rows: errors.0,
        });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                return Err(ApiError::InvalidRows {
                    message: "the file is not well-formed CSV; nothing was imported".to_owned(),
                    rows: vec![RowError {
                        row: line,
                        column: String::new(),
                        message: e.to_string(),
                    }],
                });
            }
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_IMPORT_ROWS {
            return Err(ApiError::invalid(
                "file",
                format!("more than {MAX_IMPORT_ROWS} rows: split the file"),
            ));
        }
        let line = record
            .position()
            .map_or(rows.len() + 2, |p| p.line() as usize);
        let cells = order
            .iter()
            .copied()
            .zip(record.iter().map(str::to_owned))
            .collect();
        rows.push(Row { line, cells });
    }
    if rows.is_empty() {
        return Err(ApiError::invalid("file", "has no data rows"));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[&str] = &["group", "title", "content"];

    fn rows_of(err: ApiError) -> Vec<RowError> {
        match err {
            ApiError::InvalidRows { rows, .. } => rows,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_rows_in_any_column_order_with_a_bom() {
        let file = "\u{feff}title,Group,content\nHi,greetings,\"Hello, how can I help?\"\n\n";
        let rows = read(file.as_bytes(), COLUMNS).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].get("group"), "greetings");
        assert_eq!(rows[0].get("content"), "Hello, how can I help?");
    }

    #[test]
    fn a_wrong_header_names_the_columns() {
        let rows = rows_of(read(b"group,titel\nx,y\n", COLUMNS).unwrap_err());
        let cols: Vec<&str> = rows.iter().map(|r| r.column.as_str()).collect();
        assert_eq!(cols, ["titel", "title", "content"]);
        assert!(rows.iter().all(|r| r.row == 1));
    }

    #[test]
    fn ragged_rows_and_bad_bytes_are_refused() {
        let rows = rows_of(read(b"group,title,content\na,b\n", COLUMNS).unwrap_err());
        assert_eq!(rows[0].row, 2);
        assert!(matches!(
            read(b"group,title,content\n\xff,b,c\n", COLUMNS),
            Err(ApiError::Invalid { .. })
        ));
        assert!(matches!(
            read(b"group,title,content\n", COLUMNS),
            Err(ApiError::Invalid { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any bytes a client sends are read or refused with a row or field error, never a panic.
        #[test]
        fn any_upload_is_read_or_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            match read(&bytes, COLUMNS) {
                Ok(rows) => proptest::prop_assert!(!rows.is_empty() && rows.len() <= MAX_IMPORT_ROWS),
                Err(ApiError::InvalidRows { rows, .. }) => proptest::prop_assert!(!rows.is_empty()),
                Err(ApiError::Invalid { field, .. }) => proptest::prop_assert_eq!(field, "file"),
                Err(other) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }

        /// CSV-shaped text with quotes, commas and newlines in cells round-trips its cells.
        #[test]
        fn quoted_cells_round_trip(cells in proptest::collection::vec("[a-z ,\"\n]{1,12}", 3)) {
            let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
            let file = format!("group,title,content\n{}\n", cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
            let blank = cells.iter().all(|c| c.trim().is_empty());
            match read(file.as_bytes(), COLUMNS) {
                Ok(rows) => {
                    proptest::prop_assert_eq!(rows[0].cells["group"].as_str(), cells[0].as_str());
                    proptest::prop_assert_eq!(rows[0].cells["content"].as_str(), cells[2].as_str());
                }
                Err(e) => proptest::prop_assert!(blank, "{e:?}"),
            }
        }
    }
}
