//! Exact fixed-point arithmetic for formulas: numbers are `i128` units at a scale of 8 digits.
//! Every operation is checked; `None` means overflow (the formula then yields null).

/// Digits after the point of every number while a formula is evaluated.
pub(super) const SCALE_DIGITS: u8 = 8;
/// One, in internal units.
pub(super) const ONE: i128 = 100_000_000;

/// `n / d` rounded half away from zero; `None` when `d` is zero or on overflow.
pub(super) fn div_round(n: i128, d: i128) -> Option<i128> {
    let q = n.checked_div(d)?;
    let r = n.checked_rem(d)?;
    if r == 0 {
        return Some(q);
    }
    let (r_abs, d_abs) = (r.unsigned_abs(), d.unsigned_abs());
    if r_abs >= d_abs - r_abs {
        let away = if (n < 0) == (d < 0) { 1 } else { -1 };
        q.checked_add(away)
    } else {
        Some(q)
    }
}

fn pow10(exp: u32) -> Option<i128> {
    10_i128.checked_pow(exp)
}

/// Converts units at `scale` to internal units (rounding when `scale` exceeds the internal one).
pub(super) fn from_units(units: i128, scale: u8) -> Option<i128> {
    if scale <= SCALE_DIGITS {
        units.checked_mul(pow10(u32::from(SCALE_DIGITS - scale))?)
    } else {
        div_round(units, pow10(u32::from(scale - SCALE_DIGITS))?)
    }
}

/// Converts internal units to units at `scale`, rounding half away from zero.
pub(super) fn to_units(internal: i128, scale: u8) -> Option<i128> {
    if scale <= SCALE_DIGITS {
        div_round(internal, pow10(u32::from(SCALE_DIGITS - scale))?)
    } else {
        internal.checked_mul(pow10(u32::from(scale - SCALE_DIGITS))?)
    }
}

/// `a × b` at the internal scale, rounded half away from zero.
pub(super) fn mul(a: i128, b: i128) -> Option<i128> {
    // a = q·ONE + r, so a·b/ONE = q·b + r·b/ONE; both terms share a sign, so rounding the
    // second alone rounds the sum. This keeps `a·b` itself from having to fit.
    let q = a / ONE;
    let r = a % ONE;
    let high = q.checked_mul(b)?;
    let low = div_round(r.checked_mul(b)?, ONE)?;
    high.checked_add(low)
}

/// `a ÷ b` at the internal scale, rounded half away from zero; `None` for `b = 0`.
pub(super) fn div(a: i128, b: i128) -> Option<i128> {
    if b == 0 {
        return None;
    }
    // a = q·b + r, so a·ONE/b = q·ONE + r·ONE/b, both terms sharing a sign.
    let q = a.checked_div(b)?;
    let r = a.checked_rem(b)?;
    let high = q.checked_mul(ONE)?;
    let low = div_round(r.checked_mul(ONE)?, b)?;
    high.checked_add(low)
}

/// Rounds to `digits` decimal places (negative: to tens, hundreds, ...), half away from zero.
pub(super) fn round(x: i128, digits: i128) -> Option<i128> {
    if digits >= i128::from(SCALE_DIGITS) {
        return Some(x);
    }
    let exp = i128::from(SCALE_DIGITS).checked_sub(digits)?;
    // 10^38 is the largest power of ten an i128 holds, and exceeds every value's magnitude
    // but the extremes; anything coarser rounds to zero.
    if exp > 38 {
        return Some(0);
    }
    // An exponent past u32 has no decimal form here: the value is refused.
    let factor = pow10(u32::try_from(exp).ok()?)?;
    div_round(x, factor)?.checked_mul(factor)
}

/// The shortest exact decimal form: `3`, `-0.5`, `1234.56`.
pub(super) fn format(x: i128) -> String {
    let sign = if x < 0 { "-" } else { "" };
    let abs = x.unsigned_abs();
    let one = ONE.unsigned_abs();
    let (int, frac) = (abs / one, abs % one);
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let digits = format!("{frac:0width$}", width = usize::from(SCALE_DIGITS));
    format!("{sign}{int}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> i128 {
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let neg = i.starts_with('-');
        let i: i128 = i.trim_start_matches('-').parse().unwrap();
        let mut f = f.to_string();
        while f.len() < 8 {
            f.push('0');
        }
        let v = i * ONE + f.parse::<i128>().unwrap();
        if neg {
            -v
        } else {
            v
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 2), Some(3));
        assert_eq!(div_round(-5, 2), Some(-3));
        assert_eq!(div_round(5, -2), Some(-3));
        assert_eq!(div_round(4, 3), Some(1));
        assert_eq!(div_round(-4, 3), Some(-1));
        assert_eq!(div_round(1, 0), None);
        assert_eq!(div_round(i128::MIN, -1), None);
        assert_eq!(div_round(i128::MAX, i128::MAX), Some(1));
        assert_eq!(div_round(i128::MAX - 1, i128::MAX), Some(1));
        assert_eq!(div_round(1, i128::MIN), Some(0));
    }

    #[test]
    fn mul_and_div_are_exact() {
        assert_eq!(mul(n("1.5"), n("1.5")), Some(n("2.25")));
        assert_eq!(mul(n("-0.00000001"), n("0.5")), Some(n("-0.00000001")));
        assert_eq!(mul(n("0.00000001"), n("0.4")), Some(0));
        assert_eq!(div(n("10"), n("3")), Some(n("3.33333333")));
        assert_eq!(div(n("2"), n("3")), Some(n("0.66666667")));
        assert_eq!(div(n("-2"), n("3")), Some(n("-0.66666667")));
        assert_eq!(div(n("1"), 0), None);
        assert_eq!(mul(i128::MAX, n("2")), None);
        assert_eq!(div(i128::MAX, n("0.5")), None);
        assert_eq!(mul(i128::MIN, -ONE), None);
    }

    #[test]
    fn scaling_and_formatting() {
        assert_eq!(from_units(12345, 2), Some(n("123.45")));
        assert_eq!(to_units(n("3.33333333"), 2), Some(333));
        assert_eq!(to_units(n("-0.125"), 2), Some(-13));
        assert_eq!(to_units(n("0.125"), 0), Some(0));
        assert_eq!(round(n("1234.5"), 0), Some(n("1235")));
        assert_eq!(round(n("1250"), -2), Some(n("1300")));
        assert_eq!(round(n("-2.345"), 2), Some(n("-2.35")));
        assert_eq!(round(n("5"), -100), Some(0));
        assert_eq!(round(n("5.123"), 100), Some(n("5.123")));
        assert_eq!(format(n("1234.5")), "1234.5");
        assert_eq!(format(n("-0.05")), "-0.05");
        assert_eq!(format(n("3")), "3");
        assert_eq!(
            format(i128::MIN),
            "-1701411834604692317316873037158.84105728"
        );
    }
}
