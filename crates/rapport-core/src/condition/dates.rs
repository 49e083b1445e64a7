//! Relative dates: the local period an operator names, and its UTC instant bounds.

use super::{DateContext, Op};
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc};

/// The workspace's local date at `ctx.now`.
pub(super) fn local_today(ctx: &DateContext) -> Option<NaiveDate> {
    ctx.now
        .checked_add_signed(Duration::minutes(i64::from(ctx.utc_offset_minutes)))
        .map(|local| local.date_naive())
}

/// The inclusive local day range `[first, last]` of a relative-date operator (`n` is the day
/// count of `last_n_days` / `next_n_days`). `None` for other operators or out-of-range dates.
pub(super) fn local_range(op: Op, n: u64, ctx: &DateContext) -> Option<(NaiveDate, NaiveDate)> {
    let d = local_today(ctx)?;
    match op {
        Op::Today => Some((d, d)),
        Op::LastNDays => Some((d.checked_sub_days(Days::new(n))?, d)),
        Op::NextNDays => Some((d, d.checked_add_days(Days::new(n))?)),
        Op::ThisWeek => {
            let first =
                d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday())))?;
            Some((first, first.checked_add_days(Days::new(6))?))
        }
        Op::ThisMonth => {
            let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?;
            let next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year().checked_add(1)?, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)?
            };
            Some((first, next.pred_opt()?))
        }
        Op::ThisQuarter => {
            let first_month = (d.month() - 1) / 3 * 3 + 1;
            let first = NaiveDate::from_ymd_opt(d.year(), first_month, 1)?;
            let next = if first_month == 10 {
                NaiveDate::from_ymd_opt(d.year().checked_add(1)?, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(d.year(), first_month + 3, 1)?
            };
            Some((first, next.pred_opt()?))
        }
        _ => None,
    }
}

/// The UTC instant at which local day `day` begins.
pub(super) fn local_midnight_utc(day: NaiveDate, ctx: &DateContext) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)?
        .checked_sub_signed(Duration::minutes(i64::from(ctx.utc_offset_minutes)))
        .map(|naive| naive.and_utc())
}

/// The half-open instant range `[start of first, start of the day after last)`.
pub(super) fn instant_range(
    first: NaiveDate,
    last: NaiveDate,
    ctx: &DateContext,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = local_midnight_utc(first, ctx)?;
    let end = local_midnight_utc(last.succ_opt()?, ctx)?;
    Some((start, end))
}
