//! Business calendars: when the SLA clock runs. A calendar is either around the clock or a set
//! of opening hours per weekday in an IANA time zone, minus a list of holidays. All arithmetic
//! is done on real instants (UTC), so nights, weekends, holidays and daylight-saving changes
//! are counted exactly: a business day that loses an hour to DST is an hour shorter.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// How far ahead [`add_business_time`] looks for business hours before giving up.
const SEARCH_DAYS: i64 = 3 * 366;

/// Minutes in a day; an interval may end at 24:00.
const DAY_MINUTES: u32 = 24 * 60;

/// Why a calendar cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("`{0}` is not an IANA time zone (e.g. Europe/Helsinki)")]
    UnknownZone(String),
    #[error("`{0}` is not an interval of the form HH:MM-HH:MM")]
    BadInterval(String),
    #[error("`{0}` is empty or ends before it starts")]
    EmptyInterval(String),
    #[error("{day}: {first} overlaps {second}")]
    Overlap {
        day: String,
        first: String,
        second: String,
    },
    #[error("no business hours on any weekday")]
    NoHours,
}

/// Opening hours of one day: `[start, end)` in minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Parses `09:00-17:30` (`24:00` is allowed as an end).
    pub fn parse(text: &str) -> Result<Span, CalendarError> {
        let bad = || CalendarError::BadInterval(text.to_string());
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let span = Span {
            start: minutes(a).ok_or_else(bad)?,
            end: minutes(b).ok_or_else(bad)?,
        };
        if span.end <= span.start || span.start >= DAY_MINUTES {
            return Err(CalendarError::EmptyInterval(text.to_string()));
        }
        Ok(span)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// When the clock runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Calendar {
    /// Every moment counts.
    Always,
    Business(BusinessHours),
}

/// Opening hours per weekday in a time zone, with holidays (local dates) closed all day.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    zone: Tz,
    /// Monday first.
    week: [Vec<Span>; 7],
    holidays: BTreeSet<NaiveDate>,
}

impl BusinessHours {
    /// `week` is Monday first; each day's spans may come in any order but must not overlap.
    pub fn new(
        zone: &str,
        week: [Vec<Span>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, CalendarError> {
        let zone: Tz = zone
            .parse()
            .map_err(|_| CalendarError::UnknownZone(zone.to_string()))?;
        let mut week = week;
        for (i, day) in week.iter_mut().enumerate() {
            day.sort();
            for pair in day.windows(2) {
                if pair[1].start < pair[0].end {
                    return Err(CalendarError::Overlap {
                        day: WEEKDAYS[i].to_string(),
                        first: pair[0].to_string(),
                        second: pair[1].to_string(),
                    });
                }
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoHours);
        }
        Ok(Self {
            zone,
            week,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// [`BusinessHours::new`] from configuration text: each weekday's spans as written
    /// (`"09:00-17:00"`), Monday first. Errors name `key` (e.g. `web.business_hours`), and the
    /// weekday of a bad span.
    pub fn from_config(
        key: &str,
        zone: &str,
        week: [&[String]; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<Self, String> {
        let mut spans: [Vec<Span>; 7] = Default::default();
        for ((texts, day), out) in week.iter().zip(WEEKDAYS).zip(spans.iter_mut()) {
            for text in texts.iter() {
                out.push(Span::parse(text).map_err(|e| format!("{key}.{day}: {e}"))?);
            }
        }
        Self::new(zone, spans, holidays).map_err(|e| format!("{key}: {e}"))
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The business intervals of one local date, as instants.
    fn day(&self, date: NaiveDate) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let closed = self.holidays.contains(&date);
        let spans: &[Span] = if closed {
            &[]
        } else {
            &self.week[date.weekday().num_days_from_monday() as usize]
        };
        spans.iter().filter_map(move |span| {
            let start = self.instant(date, span.start)?;
            let end = self.instant(date, span.end)?;
            (end > start).then_some((start, end))
        })
    }

    /// The instant a local wall-clock time happens. A time skipped by a DST change means the
    /// first moment after the gap; a time that happens twice means its first occurrence.
    fn instant(&self, date: NaiveDate, minutes: u32) -> Option<DateTime<Utc>> {
        let local = if minutes >= DAY_MINUTES {
            date.succ_opt()?.and_time(NaiveTime::MIN)
        } else {
            date.and_hms_opt(minutes / 60, minutes % 60, 0)?
        };
        first_existing(self.zone, local)
    }
}

fn first_existing(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // DST gaps are at most a few hours; step through them minute by minute.
    for step in 0..=(4 * 60) {
        let candidate = local + Duration::minutes(step);
        if let Some(t) = zone.from_local_datetime(&candidate).earliest() {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Calendar {
    /// Whether `at` lies within business hours.
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        business_time_between(self, at, at + Duration::seconds(1)) > Duration::zero()
    }

    /// Business intervals overlapping `[from, ..)`, in order, clipped to start at `from`, for
    /// at most `days` local days.
    fn intervals_from(
        &self,
        from: DateTime<Utc>,
        days: i64,
    ) -> Box<dyn Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_> {
        match self {
            Calendar::Always => Box::new(std::iter::once((from, DateTime::<Utc>::MAX_UTC))),
            Calendar::Business(hours) => {
                let first = from.with_timezone(&hours.zone).date_naive();
                Box::new(
                    first
                        .iter_days()
                        .take(usize::try_from(days).unwrap_or(0))
                        .flat_map(move |date| hours.day(date))
                        .filter(move |(_, end)| *end > from)
                        .map(move |(start, end)| (start.max(from), end)),
                )
            }
        }
    }
}

/// Business time between two instants (zero when `to` is not after `from`).
pub fn business_time_between(
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Duration {
    if to <= from {
        return Duration::zero();
    }
    let days = (to - from).num_days() + 2;
    let mut total = Duration::zero();
    for (start, end) in calendar.intervals_from(from, days) {
        if start >= to {
            break;
        }
        total += end.min(to) - start;
    }
    total
}

/// The instant at which `duration` of business time has passed since `start`. `None` when the
/// calendar has no business hours within about three years (e.g. every day a holiday).
pub fn add_business_time(
    calendar: &Calendar,
    start: DateTime<Utc>,
    duration: Duration,
) -> Option<DateTime<Utc>> {
    if duration <= Duration::zero() {
        return Some(start);
    }
    let mut left = duration;
    for (from, to) in calendar.intervals_from(start, SEARCH_DAYS) {
        let length = to - from;
        if length >= left {
            return Some(from + left);
        }
        left -= length;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn local(zone: &str, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        let tz: Tz = zone.parse().unwrap();
        tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn office(zone: &str, holidays: &[NaiveDate]) -> Calendar {
        let day = || vec![Span::parse("09:00-17:00").unwrap()];
        Calendar::Business(
            BusinessHours::new(
                zone,
                [day(), day(), day(), day(), day(), vec![], vec![]],
                holidays.iter().copied(),
            )
            .unwrap(),
        )
    }

    fn all_day(zone: &str) -> Calendar {
        let day = || vec![Span::parse("00:00-24:00").unwrap()];
        Calendar::Business(
            BusinessHours::new(zone, [day(), day(), day(), day(), day(), day(), day()], [])
                .unwrap(),
        )
    }

    #[test]
    fn around_the_clock_counts_everything() {
        let from = utc(2026, 3, 28, 22, 0);
        let to = utc(2026, 3, 29, 6, 30);
        assert_eq!(
            business_time_between(&Calendar::Always, from, to),
            Duration::minutes(510)
        );
        assert_eq!(
            add_business_time(&Calendar::Always, from, Duration::hours(3)),
            Some(utc(2026, 3, 29, 1, 0))
        );
        assert_eq!(
            business_time_between(&Calendar::Always, to, from),
            Duration::zero()
        );
    }

    #[test]
    fn nights_and_weekends_do_not_count_in_helsinki() {
        let cal = office("Europe/Helsinki", &[]);
        // Friday 2026-11-20 16:00 local to Monday 10:00: 1 h on Friday, 1 h on Monday.
        let from = local("Europe/Helsinki", 2026, 11, 20, 16, 0);
        let to = local("Europe/Helsinki", 2026, 11, 23, 10, 0);
        assert_eq!(business_time_between(&cal, from, to), Duration::hours(2));
        // 4 h from Friday 15:00 is Monday 11:00.
        let start = local("Europe/Helsinki", 2026, 11, 20, 15, 0);
        assert_eq!(
            add_business_time(&cal, start, Duration::hours(4)),
            Some(local("Europe/Helsinki", 2026, 11, 23, 11, 0))
        );
        // Starting at night: the clock starts at 09:00.
        let night = local("Europe/Helsinki", 2026, 11, 24, 2, 0);
        assert_eq!(
            add_business_time(&cal, night, Duration::minutes(30)),
            Some(local("Europe/Helsinki", 2026, 11, 24, 9, 30))
        );
        // Exactly at closing time: the rest happens the next morning.
        let closing = local("Europe/Helsinki", 2026, 11, 24, 9, 0);
        assert_eq!(
            add_business_time(&cal, closing, Duration::hours(8)),
            Some(local("Europe/Helsinki", 2026, 11, 24, 17, 0))
        );
        assert_eq!(
            add_business_time(&cal, closing, Duration::hours(8) + Duration::minutes(1)),
            Some(local("Europe/Helsinki", 2026, 11, 25, 9, 1))
        );
    }

    #[test]
    fn holidays_are_closed_all_day_in_new_york() {
        let thanksgiving = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let cal = office("America/New_York", &[thanksgiving]);
        // Wednesday 16:00 + 2 h skips Thursday: Friday 10:00.
        let start = local("America/New_York", 2026, 11, 25, 16, 0);
        assert_eq!(
            add_business_time(&cal, start, Duration::hours(2)),
            Some(local("America/New_York", 2026, 11, 27, 10, 0))
        );
        let to = local("America/New_York", 2026, 11, 27, 12, 0);
        assert_eq!(business_time_between(&cal, start, to), Duration::hours(4));
        // Without the holiday the same span holds 8 hours more.
        let plain = office("America/New_York", &[]);
        assert_eq!(
            business_time_between(&plain, start, to),
            Duration::hours(12)
        );
    }

    #[test]
    fn spring_forward_days_are_an_hour_shorter() {
        // Helsinki: 2026-03-29 03:00 → 04:00. New York: 2026-03-08 02:00 → 03:00.
        for (zone, (y, m, d)) in [
            ("Europe/Helsinki", (2026, 3, 29)),
            ("America/New_York", (2026, 3, 8)),
        ] {
            let cal = all_day(zone);
            let from = local(zone, y, m, d, 0, 0);
            let to = local(zone, y, m, d + 1, 0, 0);
            assert_eq!(
                business_time_between(&cal, from, to),
                Duration::hours(23),
                "{zone}"
            );
            assert_eq!(to - from, Duration::hours(23), "{zone}");
            // 24 h of business time from midnight ends at 01:00 the next day.
            assert_eq!(
                add_business_time(&cal, from, Duration::hours(24)),
                Some(local(zone, y, m, d + 1, 1, 0)),
                "{zone}"
            );
        }
    }

    #[test]
    fn fall_back_days_are_an_hour_longer_and_office_hours_stay_local() {
        // Helsinki: 2026-10-25 04:00 → 03:00. New York: 2026-11-01 02:00 → 01:00.
        for (zone, (y, m, d)) in [
            ("Europe/Helsinki", (2026, 10, 25)),
            ("America/New_York", (2026, 11, 1)),
        ] {
            let cal = all_day(zone);
            let from = local(zone, y, m, d, 0, 0);
            let to = local(zone, y, m, d + 1, 0, 0);
            assert_eq!(
                business_time_between(&cal, from, to),
                Duration::hours(25),
                "{zone}"
            );
        }
        // Friday before the Helsinki change 16:00 + 2 h office time → Monday 10:00 local,
        // which is 08:00 UTC (EET) instead of 07:00 (EEST).
        let cal = office("Europe/Helsinki", &[]);
        let start = local("Europe/Helsinki", 2026, 10, 23, 16, 0);
        assert_eq!(start, utc(2026, 10, 23, 13, 0));
        assert_eq!(
            add_business_time(&cal, start, Duration::hours(2)),
            Some(utc(2026, 10, 26, 8, 0))
        );
    }

    #[test]
    fn a_gap_in_local_time_starts_when_the_clock_jumps() {
        // Opening at 03:30 on the Helsinki spring-forward day: 03:30 never happens, the
        // day's hours start at 04:00 EEST (01:00 UTC).
        let span = || vec![Span::parse("03:30-05:00").unwrap()];
        let cal = Calendar::Business(
            BusinessHours::new(
                "Europe/Helsinki",
                [span(), span(), span(), span(), span(), span(), span()],
                [],
            )
            .unwrap(),
        );
        let day_start = utc(2026, 3, 28, 23, 0);
        let next_day = utc(2026, 3, 29, 21, 0);
        assert_eq!(
            business_time_between(&cal, day_start, next_day),
            Duration::hours(1)
        );
        assert_eq!(
            add_business_time(&cal, day_start, Duration::minutes(1)),
            Some(utc(2026, 3, 29, 1, 1))
        );
    }

    #[test]
    fn bad_calendars_are_refused_with_reasons() {
        let none = || Vec::new();
        let week = |spans: Vec<Span>| [spans, none(), none(), none(), none(), none(), none()];
        let nine_five = Span::parse("09:00-17:00").unwrap();
        assert_eq!(
            BusinessHours::new("Europe/Helsinky", week(vec![nine_five]), []),
            Err(CalendarError::UnknownZone("Europe/Helsinky".into()))
        );
        let err = BusinessHours::new(
            "UTC",
            week(vec![nine_five, Span::parse("12:00-13:00").unwrap()]),
            [],
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "mon: 09:00-17:00 overlaps 12:00-13:00");
        assert_eq!(
            BusinessHours::new("UTC", week(vec![]), []),
            Err(CalendarError::NoHours)
        );
        assert!(matches!(
            Span::parse("17:00-09:00"),
            Err(CalendarError::EmptyInterval(_))
        ));
        assert!(matches!(
            Span::parse("9-5"),
            Err(CalendarError::BadInterval(_))
        ));
        assert!(matches!(
            Span::parse("09:00-24:30"),
            Err(CalendarError::BadInterval(_))
        ));
        assert_eq!(
            Span::parse("00:00-24:00").unwrap().to_string(),
            "00:00-24:00"
        );
    }

    #[test]
    fn a_calendar_of_holidays_only_never_reaches_a_due_time() {
        let day = || vec![Span::parse("09:00-10:00").unwrap()];
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let holidays: Vec<NaiveDate> = start.iter_days().take(4 * 366).collect();
        let cal = Calendar::Business(
            BusinessHours::new(
                "UTC",
                [day(), day(), day(), day(), day(), day(), day()],
                holidays,
            )
            .unwrap(),
        );
        assert_eq!(
            add_business_time(&cal, utc(2026, 1, 1, 0, 0), Duration::minutes(1)),
            None
        );
    }
}
