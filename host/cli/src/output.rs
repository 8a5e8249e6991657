//! Formatting for people: Prefect-style log lines, state labels, times,
//! durations and plain-text tables.

use chrono::{DateTime, Local, TimeDelta, Utc};
use weft_core::{LogLevel, State};

/// A state as Prefect prints it: `Completed()`, `Failed('boom')`.
pub fn state_label(state: &State) -> String {
    match &state.message {
        Some(message) if !message.is_empty() => format!("{}('{}')", state.name, message),
        _ => format!("{}()", state.name),
    }
}

/// A time of day in local time, with milliseconds: `08:01:02.123`.
pub fn clock(ts: DateTime<Utc>) -> String {
    ts.with_timezone(&Local).format("%H:%M:%S%.3f").to_string()
}

/// A date and time in local time: `2025-12-01 08:01:02`.
pub fn datetime(ts: DateTime<Utc>) -> String {
    ts.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A date and time in local time, with milliseconds:
/// `2025-12-01 08:01:02.123`.
pub fn datetime_ms(ts: DateTime<Utc>) -> String {
    ts.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// An optional date and time, `-` when absent.
pub fn opt_datetime(ts: Option<DateTime<Utc>>) -> String {
    ts.map(datetime).unwrap_or_else(|| "-".into())
}

/// A duration for people: `850ms`, `12.3s`, `4m 05s`, `2h 03m`.
pub fn duration(d: TimeDelta) -> String {
    let ms = d.num_milliseconds().max(0);
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m {:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h {:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// The duration between a start and an end (or now, while running).
pub fn run_duration(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> String {
    match start {
        Some(start) => duration(end.unwrap_or_else(Utc::now) - start),
        None => "-".into(),
    }
}

/// Who a log line is about: `Flow run 'crimson-fox'`, `Task run 'get-0'`.
pub fn flow_subject(name: &str) -> String {
    format!("Flow run '{name}'")
}

/// See [`flow_subject`].
pub fn task_subject(name: &str) -> String {
    format!("Task run '{name}'")
}

/// One Prefect-style line:
/// `08:01:02.123 | INFO    | Flow run 'crimson-fox' - Hello from weft!`.
pub fn log_line(ts: DateTime<Utc>, level: LogLevel, subject: &str, message: &str) -> String {
    format!(
        "{} | {:<7} | {} - {}",
        clock(ts),
        level.as_str(),
        subject,
        message
    )
}

/// A plain-text table with left-aligned columns, two spaces apart.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row (as many cells as headers).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Renders the table, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    let pad = widths
                        .get(i)
                        .copied()
                        .unwrap_or(0)
                        .saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Replaces known secret values in text shown to people.
///
/// The runtime already redacts secrets from what it records; this is a
/// second line of defence for everything the CLI prints about a run.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

/// What a redacted secret value is replaced with: the runtime's marker.
pub use weft_runtime::REDACTED;

impl Redactor {
    /// A redactor for these secret values (empty ones are ignored).
    pub fn new(mut values: Vec<String>) -> Redactor {
        values.retain(|v| !v.is_empty());
        // Longest first, so a value containing another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactor { values }
    }

    /// `text` with every secret value replaced.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for value in &self.values {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), REDACTED);
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_labels_look_like_prefect() {
        assert_eq!(
            state_label(&State::completed(serde_json::Value::Null)),
            "Completed()"
        );
        assert_eq!(state_label(&State::failed("boom")), "Failed('boom')");
        assert_eq!(
            state_label(&State::cached(serde_json::json!(1))),
            "Cached()"
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(TimeDelta::milliseconds(850)), "850ms");
        assert_eq!(duration(TimeDelta::milliseconds(12_340)), "12.3s");
        assert_eq!(duration(TimeDelta::seconds(245)), "4m 05s");
        assert_eq!(duration(TimeDelta::seconds(7380)), "2h 03m");
        assert_eq!(duration(TimeDelta::seconds(-5)), "0ms");
    }

    #[test]
    fn tables_align_columns() {
        let mut t = Table::new(&["A", "LONG"]);
        t.row(vec!["xyz".into(), "1".into()]);
        assert_eq!(t.render(), "A    LONG\nxyz  1\n");
    }

    #[test]
    fn redactor_replaces_longest_first() {
        let r = Redactor::new(vec!["abc".into(), "abcdef".into(), String::new()]);
        assert_eq!(
            r.redact("x abcdef y abc"),
            format!("x {REDACTED} y {REDACTED}")
        );
        assert_eq!(r.redact("nothing"), "nothing");
    }

    #[test]
    fn log_lines_pad_levels() {
        let ts = Utc::now();
        let line = log_line(ts, LogLevel::Info, &flow_subject("a-b"), "hi");
        assert!(line.ends_with(" | INFO    | Flow run 'a-b' - hi"), "{line}");
    }
}
