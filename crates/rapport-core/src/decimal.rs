//! Exact decimals as scaled integers. A decimal, percent or currency field has a fixed scale
//! (digits after the point); its values are stored as `units = value × 10^scale` in a 64-bit
//! integer, so arithmetic, comparison and sorting are exact and identical on every backend.

use std::fmt;

pub const MAX_SCALE: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal {
    pub units: i64,
    pub scale: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecimalError {
    Malformed,
    TooPrecise { scale: u8 },
    OutOfRange,
}

impl fmt::Display for DecimalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecimalError::Malformed => write!(f, "not a decimal number"),
            DecimalError::TooPrecise { scale } => {
                write!(f, "more than {scale} digits after the decimal point")
            }
            DecimalError::OutOfRange => write!(f, "number out of range"),
        }
    }
}

fn pow10(scale: u8) -> i64 {
    10_i64.pow(u32::from(scale))
}

impl Decimal {
    pub fn new(units: i64, scale: u8) -> Self {
        Self { units, scale }
    }

    pub fn from_integer(value: i64, scale: u8) -> Result<Self, DecimalError> {
        value
            .checked_mul(pow10(scale))
            .map(|units| Self { units, scale })
            .ok_or(DecimalError::OutOfRange)
    }

    /// Parses `-123.45`, `+7`, `0.5`, `1e3` is refused (no exponents), at most `scale` fraction
    /// digits (trailing zeros beyond the scale are accepted: `1.2300` at scale 2 is `1.23`).
    pub fn parse(text: &str, scale: u8) -> Result<Self, DecimalError> {
        let text = text.trim();
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(DecimalError::Malformed);
        }
        let frac_trimmed = frac_part.trim_end_matches('0');
        if frac_trimmed.len() > usize::from(scale) {
            return Err(DecimalError::TooPrecise { scale });
        }
        let mut units: i64 = 0;
        for b in int_part.bytes() {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i64::from(b - b'0')))
                .ok_or(DecimalError::OutOfRange)?;
        }
        units = units
            .checked_mul(pow10(scale))
            .ok_or(DecimalError::OutOfRange)?;
        let mut frac_units: i64 = 0;
        for (i, b) in frac_trimmed.bytes().enumerate() {
            let place = scale - 1 - i as u8;
            frac_units += i64::from(b - b'0') * pow10(place);
        }
        units = units
            .checked_add(frac_units)
            .ok_or(DecimalError::OutOfRange)?;
        Ok(Self {
            units: if negative { -units } else { units },
            scale,
        })
    }

    /// Converts a JSON number or string to a decimal of the given scale.
    pub fn from_json(value: &serde_json::Value, scale: u8) -> Result<Self, DecimalError> {
        match value {
            serde_json::Value::String(s) => Self::parse(s, scale),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Self::from_integer(i, scale)
                } else {
                    Self::parse(&n.to_string(), scale)
                }
            }
            _ => Err(DecimalError::Malformed),
        }
    }

    pub fn to_f64(self) -> f64 {
        self.units as f64 / pow10(self.scale) as f64
    }

    /// Rescales (rounding half away from zero when reducing the scale).
    pub fn rescale(self, scale: u8) -> Result<Self, DecimalError> {
        if scale >= self.scale {
            let factor = pow10(scale - self.scale);
            self.units
                .checked_mul(factor)
                .map(|units| Self { units, scale })
                .ok_or(DecimalError::OutOfRange)
        } else {
            let factor = pow10(self.scale - scale);
            let half = factor / 2;
            let adjusted = if self.units >= 0 {
                self.units.checked_add(half)
            } else {
                self.units.checked_sub(half)
            }
            .ok_or(DecimalError::OutOfRange)?;
            Ok(Self {
                units: adjusted / factor,
                scale,
            })
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let factor = pow10(self.scale).unsigned_abs();
        let abs = self.units.unsigned_abs();
        let sign = if self.units < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / factor,
            abs % factor,
            width = usize::from(self.scale)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        let d = Decimal::parse("-1234.5", 2).unwrap();
        assert_eq!(d.units, -123450);
        assert_eq!(d.to_string(), "-1234.50");
        assert_eq!(Decimal::parse("0.10", 1).unwrap().to_string(), "0.1");
        assert_eq!(Decimal::parse(".5", 2).unwrap().units, 50);
        assert_eq!(Decimal::parse("-0.05", 2).unwrap().to_string(), "-0.05");
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(
            Decimal::parse("1.234", 2),
            Err(DecimalError::TooPrecise { scale: 2 })
        );
        assert_eq!(Decimal::parse("1e3", 2), Err(DecimalError::Malformed));
        assert_eq!(Decimal::parse("", 2), Err(DecimalError::Malformed));
        assert_eq!(Decimal::parse("٣", 2), Err(DecimalError::Malformed));
        assert_eq!(
            Decimal::parse("99999999999999999999", 2),
            Err(DecimalError::OutOfRange)
        );
    }

    #[test]
    fn from_json_numbers() {
        let d = Decimal::from_json(&serde_json::json!(12.25), 2).unwrap();
        assert_eq!(d.units, 1225);
        assert_eq!(
            Decimal::from_json(&serde_json::json!(3), 2).unwrap().units,
            300
        );
        assert!(Decimal::from_json(&serde_json::json!(true), 2).is_err());
    }

    #[test]
    fn rescale_rounds_half_away_from_zero() {
        assert_eq!(Decimal::new(125, 2).rescale(1).unwrap().units, 13);
        assert_eq!(Decimal::new(-125, 2).rescale(1).unwrap().units, -13);
        assert_eq!(Decimal::new(5, 0).rescale(2).unwrap().units, 500);
    }
}
