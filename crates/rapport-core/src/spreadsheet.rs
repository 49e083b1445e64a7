//! CSV meant for people's spreadsheets: every export (records, segment members, snapshots) is
//! written here, through the `csv` crate (RFC 4180 quoting, CRLF line ends), with one guard
//! against formula injection: a text cell that a spreadsheet would read as a formula gets a
//! leading `'`, so `=HYPERLINK(…)` sent as a contact's name is shown, never run. Numbers, dates
//! and ids written by Rapport itself are not text cells and are kept as they are (`-5` stays a
//! number).

use std::borrow::Cow;

/// One cell of a row.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// Text that came from a user or an event: guarded.
    Text(&'a str),
    /// A value Rapport formatted itself (number, date, id): written as it is.
    Value(&'a str),
}

/// A CSV document built row by row; `take` hands out what is written so far, so a large export
/// streams in chunks.
pub struct CsvRows {
    writer: csv::Writer<Vec<u8>>,
}

impl Default for CsvRows {
    fn default() -> Self {
        Self {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .flexible(true)
                .from_writer(Vec::new()),
        }
    }
}

impl CsvRows {
    /// Writes one row.
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) -> Result<(), CsvError> {
        let fields = cells.into_iter().map(|cell| match cell {
            Cell::Text(text) => guard_formula(text),
            Cell::Value(value) => Cow::Borrowed(value),
        });
        self.writer
            .write_record(fields.collect::<Vec<_>>().iter().map(|f| f.as_bytes()))
            .map_err(|e| CsvError(e.to_string()))
    }

    /// The rows written since the last call, as text.
    pub fn take(&mut self) -> Result<String, CsvError> {
        let full = std::mem::replace(&mut self.writer, Self::default().writer);
        let bytes = full.into_inner().map_err(|e| CsvError(e.to_string()))?;
        // Every cell went in as a `&str`, so the bytes are UTF-8.
        String::from_utf8(bytes).map_err(|e| CsvError(e.to_string()))
    }
}

/// Writing a CSV row failed (an internal error: rows are written to memory).
#[derive(Debug, Clone, thiserror::Error)]
#[error("writing CSV failed: {0}")]
pub struct CsvError(String);

/// The formula guard: a text starting with a character a spreadsheet reads as the start of a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return — OWASP's list — and the fullwidth
/// `＝＋－＠` that WPS and Excel's East Asian input convert) gets a leading `'`.
pub fn guard_formula(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[Cell<'_>]) -> String {
        let mut rows = CsvRows::default();
        rows.row(cells.iter().copied()).expect("row");
        rows.take().expect("take")
    }

    #[test]
    fn text_is_quoted_as_needed_and_guarded() {
        assert_eq!(line(&[Cell::Text("plain"), Cell::Text("")]), "plain,\r\n");
        assert_eq!(line(&[Cell::Text("a,b")]), "\"a,b\"\r\n");
        assert_eq!(line(&[Cell::Text("say \"hi\"")]), "\"say \"\"hi\"\"\"\r\n");
        assert_eq!(line(&[Cell::Text("two\nlines")]), "\"two\nlines\"\r\n");
        assert_eq!(line(&[Cell::Text("=1+1")]), "'=1+1\r\n");
        assert_eq!(line(&[Cell::Text("+8613800138000")]), "'+8613800138000\r\n");
        assert_eq!(line(&[Cell::Text("-2")]), "'-2\r\n");
        assert_eq!(line(&[Cell::Text("@SUM(A1)")]), "'@SUM(A1)\r\n");
        assert_eq!(line(&[Cell::Text("\tx")]), "'\tx\r\n");
        assert_eq!(line(&[Cell::Text("＝1+1")]), "'＝1+1\r\n");
        assert_eq!(
            line(&[Cell::Text("=HYPERLINK(\"x\",\"y\")")]),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"\r\n"
        );
        assert_eq!(
            line(&[Cell::Text("王小明@例子.中国")]),
            "王小明@例子.中国\r\n"
        );
    }

    #[test]
    fn values_are_kept_and_rows_stream() {
        let mut rows = CsvRows::default();
        rows.row([Cell::Value("-5"), Cell::Value("2026-01-01T00:00:00.000Z")])
            .expect("row");
        assert_eq!(
            rows.take().expect("take"),
            "-5,2026-01-01T00:00:00.000Z\r\n"
        );
        assert_eq!(rows.take().expect("take"), "");
        rows.row([Cell::Value("1 234.50 CNY"), Cell::Value("a,b")])
            .expect("row");
        assert_eq!(rows.take().expect("take"), "1 234.50 CNY,\"a,b\"\r\n");
    }
}
