//! Auto-number formats (`HT-{YYYY}-{0000}` → `HT-2026-0001`): reading a format, the period its
//! sequence counts within (the date tokens, so a format with the year restarts every year) and
//! the number a record gets.
use chrono::NaiveDate;

/// The longest format accepted, in characters.
pub const MAX_FORMAT_CHARS: usize = 64;
const MAX_SEQUENCE_WIDTH: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Year,
    ShortYear,
    Month,
    Day,
    /// The sequence, zero-padded to this many digits.
    Sequence(usize),
}

/// A checked auto-number format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    parts: Vec<Part>,
}

impl Format {
    /// Reads a format: literal text with `{YYYY}`, `{YY}`, `{MM}`, `{DD}` and exactly one
    /// sequence token of zeros (`{0000}`). Says what is wrong otherwise.
    pub fn parse(text: &str) -> Result<Format, String> {
        if text.chars().count() > MAX_FORMAT_CHARS {
            return Err(format!("longer than {MAX_FORMAT_CHARS} characters"));
        }
        if text.chars().any(char::is_control) {
            return Err("holds a control character".into());
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                if rest.contains('}') {
                    return Err("has a '}' without its '{'".into());
                }
                parts.push(Part::Literal(rest.to_string()));
                break;
            };
            if open > 0 {
                let literal = &rest[..open];
                if literal.contains('}') {
                    return Err("has a '}' without its '{'".into());
                }
                parts.push(Part::Literal(literal.to_string()));
            }
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                return Err("has a '{' without its '}'".into());
            };
            let token = &after[..close];
            parts.push(match token {
                "YYYY" => Part::Year,
                "YY" => Part::ShortYear,
                "MM" => Part::Month,
                "DD" => Part::Day,
                zeros if !zeros.is_empty() && zeros.bytes().all(|b| b == b'0') => {
                    if zeros.len() > MAX_SEQUENCE_WIDTH {
                        return Err(format!(
                            "pads the sequence to more than {MAX_SEQUENCE_WIDTH} digits"
                        ));
                    }
                    Part::Sequence(zeros.len())
                }
                other => {
                    return Err(format!(
                        "has an unknown token {{{other}}}; use {{YYYY}}, {{YY}}, {{MM}}, {{DD}} and one {{0000}}"
                    ))
                }
            });
            rest = &after[close + 1..];
        }
        match parts
            .iter()
            .filter(|p| matches!(p, Part::Sequence(_)))
            .count()
        {
            1 => Ok(Format { parts }),
            0 => Err("has no sequence token such as {0000}".into()),
            _ => Err("has more than one sequence token".into()),
        }
    }

    /// The period a record created on `day` numbers within: the date tokens it fills in
    /// (empty when the format has none, so the sequence never restarts).
    pub fn period(&self, day: NaiveDate) -> String {
        let mut period = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(_) | Part::Sequence(_) => continue,
                date => {
                    if !period.is_empty() {
                        period.push('-');
                    }
                    period.push_str(&date_part(date, day));
                }
            }
        }
        period
    }

    /// The number of the `sequence`-th record of the period `day` lies in.
    pub fn render(&self, day: NaiveDate, sequence: u64) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => text.clone(),
                Part::Sequence(width) => format!("{sequence:0width$}"),
                date => date_part(date, day),
            })
            .collect()
    }
}

fn date_part(part: &Part, day: NaiveDate) -> String {
    match part {
        Part::Year => day.format("%Y").to_string(),
        Part::ShortYear => day.format("%y").to_string(),
        Part::Month => day.format("%m").to_string(),
        Part::Day => day.format("%d").to_string(),
        Part::Literal(_) | Part::Sequence(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn formats_render_and_restart_by_their_date_tokens() {
        let f = Format::parse("HT-{YYYY}-{0000}").unwrap();
        assert_eq!(f.render(day(2026, 3, 9), 1), "HT-2026-0001");
        assert_eq!(f.render(day(2026, 3, 9), 123_456), "HT-2026-123456");
        assert_eq!(f.period(day(2026, 3, 9)), "2026");
        assert_eq!(f.period(day(2027, 1, 1)), "2027");
        let monthly = Format::parse("{YY}{MM}{DD}-{000}号").unwrap();
        assert_eq!(monthly.render(day(2026, 12, 7), 7), "261207-007号");
        assert_eq!(monthly.period(day(2026, 12, 7)), "26-12-07");
        let plain = Format::parse("CASE-{00000}").unwrap();
        assert_eq!(plain.period(day(2026, 1, 1)), "");
        assert_eq!(plain.render(day(2026, 1, 1), 42), "CASE-00042");
    }

    #[test]
    fn bad_formats_say_what_is_wrong() {
        for bad in [
            "HT-{YYYY}",
            "{000}-{000}",
            "HT-{YYYY",
            "HT}-{000}",
            "{Q}-{000}",
            "{0000000000000}",
            "",
            "a\u{7}{0}",
        ] {
            assert!(Format::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Format::parse(&format!("{}{{0}}", "x".repeat(70))).is_err());
    }
}
