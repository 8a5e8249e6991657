//! When a deployment's schedules fire: the slots of a [`Schedule`].
//!
//! A schedule is one of three kinds, read in its time zone (UTC when it has
//! none), as in Prefect:
//!
//! - **cron** (`*/5 * * * *`, five fields, parsed by `croner`): slots are
//!   the wall-clock times the expression matches in the zone. Across a DST
//!   change it follows Vixie cron (and croner's OCPS rules): a fixed-time
//!   job (`30 2 * * *`) whose time is skipped in spring runs right after the
//!   gap, and once only in the repeated hour in autumn; a wildcard or step
//!   job (`*/15 * * * *`) skips the missing times and runs at each matching
//!   wall-clock time of the repeated hour. `day_or = false` makes a
//!   day-of-month and a day-of-week field both required (fcron's AND).
//! - **interval** (whole seconds, counted from an anchor date): slots are
//!   `anchor + k * interval` for every integer `k` (before the anchor too).
//!   An interval of whole days in a time zone keeps the anchor's local
//!   wall-clock time across DST changes (a daily 09:00 stays 09:00); any
//!   other interval is absolute time (an hourly schedule fires every UTC
//!   hour).
//! - **rrule** (RFC 5545, parsed by `rrule`): the rule's occurrences. A rule
//!   without a `DTSTART` starts at 2020-01-01 00:00 in the schedule's zone
//!   (Prefect's default anchor). Since occurrences are enumerated from the
//!   start, a rule with more than [`MAX_RRULE_SKIPPED`] occurrences before
//!   the requested window is refused ([`ScheduleError::TooDense`]): give it
//!   a later `DTSTART`.
//!
//! [`CompiledSchedule::slots`] gives the slots of a window `[from, to)`;
//! [`CompiledSchedule::plan`] applies Prefect's scheduler rule
//! ([`SchedulePolicy`]) to decide how far ahead runs are created.

use std::str::FromStr;

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::deployment::Schedule;

/// The most occurrences of an RRule enumerated before the requested window.
pub const MAX_RRULE_SKIPPED: usize = 200_000;

/// The smallest interval, in seconds.
pub const MIN_INTERVAL_SECS: u64 = 1;

/// Why a schedule is not valid (untrusted input: every message says what to
/// fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// None, or more than one, of cron, interval and rrule is set.
    #[error("a schedule needs exactly one of `cron`, `interval` and `rrule`")]
    Kind,
    /// The cron expression does not parse.
    #[error(
        "invalid cron expression {expr:?}: {reason} (expected five fields: minute hour day-of-month month day-of-week)"
    )]
    Cron {
        /// The expression.
        expr: String,
        /// What the parser said.
        reason: String,
    },
    /// The time zone is not an IANA name.
    #[error("unknown time zone {0:?}: use an IANA name such as `Europe/Paris` or `UTC`")]
    Timezone(String),
    /// The interval is zero or too large.
    #[error("invalid interval {0}: it must be a whole number of seconds, at least 1")]
    Interval(String),
    /// The RRule does not parse.
    #[error("invalid rrule {rule:?}: {reason}")]
    RRule {
        /// The rule.
        rule: String,
        /// What the parser said.
        reason: String,
    },
    /// The RRule has too many occurrences before the window to enumerate.
    #[error(
        "the rrule {0:?} has more than {MAX_RRULE_SKIPPED} occurrences before the requested time: give it a later DTSTART"
    )]
    TooDense(String),
    /// The schedule's parameters are not a JSON object.
    #[error("a schedule's `parameters` must be a JSON object")]
    Parameters,
    /// A time outside chrono's range.
    #[error("a schedule time is out of range")]
    OutOfRange,
}

/// How far ahead the scheduler creates runs (Prefect's scheduler settings
/// and defaults): for each active schedule, slots from now on, at most
/// `max_runs` (or the schedule's `max_scheduled_runs`) and none later than
/// `max_time` ahead; within those, stop as soon as there are at least
/// `min_runs` *and* the last one is at least `min_time` ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulePolicy {
    /// Create at least this many runs (default 3).
    pub min_runs: usize,
    /// Create at most this many runs (default 100).
    pub max_runs: usize,
    /// Create runs until at least this far ahead (default 1 hour).
    pub min_time: Duration,
    /// Create no run further ahead than this (default 100 days).
    pub max_time: Duration,
}

impl Default for SchedulePolicy {
    fn default() -> Self {
        SchedulePolicy {
            min_runs: 3,
            max_runs: 100,
            min_time: Duration::hours(1),
            max_time: Duration::days(100),
        }
    }
}

/// A schedule parsed once, ready to give its slots.
#[derive(Debug, Clone)]
pub struct CompiledSchedule {
    kind: Kind,
    tz: Tz,
}

#[derive(Debug, Clone)]
enum Kind {
    Cron(Box<croner::Cron>),
    Interval {
        secs: u64,
        anchor: DateTime<Utc>,
    },
    RRule {
        set: Box<rrule::RRuleSet>,
        text: String,
    },
}

/// Parses an IANA time zone name; `None` or empty is UTC.
pub fn parse_timezone(name: Option<&str>) -> Result<Tz, ScheduleError> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(Tz::UTC),
        Some(n) => Tz::from_str(n).map_err(|_| ScheduleError::Timezone(n.to_string())),
    }
}

/// Prefect's default anchor (2020-01-01 00:00) in `tz`.
fn default_start(tz: Tz) -> DateTime<Tz> {
    let naive = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    resolve_local(tz, naive).unwrap_or_else(|| Utc.from_utc_datetime(&naive).with_timezone(&tz))
}

/// A wall-clock time in `tz`: the earlier of a repeated time, and a time
/// skipped by a DST change moved forward past the gap.
fn resolve_local(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Tz>> {
    let mut t = naive;
    // Gaps are at most a few hours; step forward a minute at a time.
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&t) {
            LocalResult::Single(d) => return Some(d),
            LocalResult::Ambiguous(a, _) => return Some(a),
            LocalResult::None => t += Duration::minutes(1),
        }
    }
    None
}

impl Schedule {
    /// Parses the schedule: its kind, expression and time zone. Also checks
    /// its parameters are an object.
    pub fn compile(&self) -> Result<CompiledSchedule, ScheduleError> {
        if !self.parameters.is_object() && !self.parameters.is_null() {
            return Err(ScheduleError::Parameters);
        }
        let tz = parse_timezone(self.timezone.as_deref())?;
        let cron = self.cron.as_deref().map(str::trim);
        let rrule = self.rrule.as_deref().map(str::trim);
        let kind = match (cron, self.interval_secs, rrule) {
            (Some(expr), None, None) => Kind::Cron(Box::new(parse_cron(expr, self.day_or)?)),
            (None, Some(secs), None) => {
                if secs < MIN_INTERVAL_SECS || secs > i64::MAX as u64 / 1_000_000 {
                    return Err(ScheduleError::Interval(secs.to_string()));
                }
                let anchor = self
                    .anchor_date
                    .unwrap_or_else(|| default_start(tz).with_timezone(&Utc));
                Kind::Interval { secs, anchor }
            }
            (None, None, Some(text)) => Kind::RRule {
                set: Box::new(parse_rrule(text, tz)?),
                text: text.to_string(),
            },
            _ => return Err(ScheduleError::Kind),
        };
        Ok(CompiledSchedule { kind, tz })
    }

    /// Checks the schedule parses ([`Schedule::compile`]).
    pub fn validate(&self) -> Result<(), ScheduleError> {
        self.compile().map(|_| ())
    }

    /// The schedule's slots in `[from, to)`, oldest first, at most `limit`.
    pub fn slots(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DateTime<Utc>>, ScheduleError> {
        self.compile()?.slots(from, to, limit)
    }

    /// A short human description: `cron */5 * * * * (Europe/Paris)`.
    pub fn describe(&self) -> String {
        let tz = self
            .timezone
            .as_deref()
            .filter(|t| !t.is_empty())
            .unwrap_or("UTC");
        if let Some(c) = &self.cron {
            format!("cron {c} ({tz})")
        } else if let Some(i) = self.interval_secs {
            match self.anchor_date {
                Some(a) => format!("every {i}s from {} ({tz})", a.to_rfc3339()),
                None => format!("every {i}s ({tz})"),
            }
        } else if let Some(r) = &self.rrule {
            format!("rrule {} ({tz})", r.replace('\n', " "))
        } else {
            "none".to_string()
        }
    }
}

fn parse_cron(expr: &str, day_or: bool) -> Result<croner::Cron, ScheduleError> {
    let err = |reason: String| ScheduleError::Cron {
        expr: expr.to_string(),
        reason,
    };
    if expr.split_whitespace().count() != 5 && !expr.starts_with('@') {
        return Err(err(format!("{} fields", expr.split_whitespace().count())));
    }
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .dom_and_dow(!day_or)
        .build()
        .parse(expr)
        .map_err(|e| err(e.to_string()))
}

fn parse_rrule(text: &str, tz: Tz) -> Result<rrule::RRuleSet, ScheduleError> {
    let err = |reason: String| ScheduleError::RRule {
        rule: text.to_string(),
        reason,
    };
    if text.is_empty() {
        return Err(err("it is empty".into()));
    }
    // Prefect accepts a bare `FREQ=...` line.
    let full = if text.to_ascii_uppercase().starts_with("FREQ=") {
        format!("RRULE:{text}")
    } else {
        text.to_string()
    };
    let start = default_start(tz).with_timezone(&rrule::Tz::Tz(tz));
    let set = rrule::RRuleSet::new(start)
        .set_from_string(&full)
        .map_err(|e| err(e.to_string()))?;
    if set.get_rrule().is_empty() && set.get_rdate().is_empty() {
        return Err(err("it has no RRULE or RDATE".into()));
    }
    Ok(set)
}

impl CompiledSchedule {
    /// The time zone the schedule is read in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The slots in `[from, to)`, oldest first, at most `limit`.
    pub fn slots(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<DateTime<Utc>>, ScheduleError> {
        let mut out = Vec::new();
        if from >= to || limit == 0 {
            return Ok(out);
        }
        match &self.kind {
            Kind::Cron(cron) => {
                let start = from.with_timezone(&self.tz);
                for t in cron.iter_from(start, croner::Direction::Forward) {
                    let t = t.with_timezone(&Utc);
                    if t >= to || out.len() >= limit {
                        break;
                    }
                    if t >= from {
                        out.push(t);
                    }
                }
            }
            Kind::Interval { secs, anchor } => {
                self.interval_slots(*secs, *anchor, from, to, limit, &mut out)?;
            }
            Kind::RRule { set, text } => {
                let mut skipped = 0usize;
                for t in set.as_ref() {
                    let t = t.with_timezone(&Utc);
                    if t < from {
                        skipped += 1;
                        if skipped > MAX_RRULE_SKIPPED {
                            return Err(ScheduleError::TooDense(text.clone()));
                        }
                        continue;
                    }
                    if t >= to || out.len() >= limit {
                        break;
                    }
                    out.push(t);
                }
            }
        }
        Ok(out)
    }

    fn interval_slots(
        &self,
        secs: u64,
        anchor: DateTime<Utc>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        out: &mut Vec<DateTime<Utc>>,
    ) -> Result<(), ScheduleError> {
        let step = secs as i64;
        let since = (from - anchor).num_seconds();
        let local_days = secs.is_multiple_of(86_400) && self.tz != Tz::UTC;
        // One step early, so a slot moved by a DST change is not missed.
        let mut k = since.div_euclid(step) - 1;
        let local_anchor = anchor.with_timezone(&self.tz).naive_local();
        let days = step / 86_400;
        let slot = |k: i64| -> Result<DateTime<Utc>, ScheduleError> {
            if local_days {
                let n = k.checked_mul(days).ok_or(ScheduleError::OutOfRange)?;
                let naive = local_anchor
                    .checked_add_signed(Duration::try_days(n).ok_or(ScheduleError::OutOfRange)?)
                    .ok_or(ScheduleError::OutOfRange)?;
                resolve_local(self.tz, naive)
                    .map(|t| t.with_timezone(&Utc))
                    .ok_or(ScheduleError::OutOfRange)
            } else {
                let n = k.checked_mul(step).ok_or(ScheduleError::OutOfRange)?;
                anchor
                    .checked_add_signed(Duration::try_seconds(n).ok_or(ScheduleError::OutOfRange)?)
                    .ok_or(ScheduleError::OutOfRange)
            }
        };
        loop {
            let t = slot(k)?;
            k += 1;
            if t < from {
                continue;
            }
            if t >= to || out.len() >= limit {
                return Ok(());
            }
            out.push(t);
        }
    }

    /// The slots to create runs for at `start`, by Prefect's rule (see
    /// [`SchedulePolicy`]), none at or after `end` (default: the policy's
    /// `max_time` ahead); `max_runs` overrides the policy's when given.
    pub fn plan(
        &self,
        start: DateTime<Utc>,
        end: Option<DateTime<Utc>>,
        policy: &SchedulePolicy,
        max_runs: Option<usize>,
    ) -> Result<Vec<DateTime<Utc>>, ScheduleError> {
        let max = max_runs.unwrap_or(policy.max_runs);
        let end = end.unwrap_or(start + policy.max_time);
        let mut dates = self.slots(start, end, max)?;
        let enough = start + policy.min_time;
        if let Some(i) = dates
            .iter()
            .enumerate()
            .position(|(i, t)| i + 1 >= policy.min_runs && *t >= enough)
        {
            dates.truncate(i + 1);
        }
        Ok(dates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn cron(expr: &str, tz: Option<&str>) -> Schedule {
        Schedule {
            cron: Some(expr.into()),
            timezone: tz.map(str::to_string),
            ..Schedule::default()
        }
    }

    fn strs(v: &[DateTime<Utc>]) -> Vec<String> {
        v.iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn cron_every_five_minutes_in_a_window() {
        let s = cron("*/5 * * * *", Some("Europe/Paris"));
        let got = s
            .slots(
                utc("2025-06-01T10:02:00Z"),
                utc("2025-06-01T10:20:00Z"),
                100,
            )
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-06-01T10:05:00+00:00",
                "2025-06-01T10:10:00+00:00",
                "2025-06-01T10:15:00+00:00"
            ]
        );
        // `from` is inclusive, `to` exclusive; `limit` caps.
        let got = s
            .slots(utc("2025-06-01T10:05:00Z"), utc("2025-06-01T10:15:00Z"), 1)
            .expect("slots");
        assert_eq!(strs(&got), ["2025-06-01T10:05:00+00:00"]);
    }

    #[test]
    fn cron_daily_keeps_local_time_across_dst_in_paris() {
        // 09:00 in Paris: 08:00 UTC in winter, 07:00 UTC in summer (DST
        // starts 2025-03-30).
        let s = cron("0 9 * * *", Some("Europe/Paris"));
        let got = s
            .slots(utc("2025-03-29T00:00:00Z"), utc("2025-04-01T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-03-29T08:00:00+00:00",
                "2025-03-30T07:00:00+00:00",
                "2025-03-31T07:00:00+00:00"
            ]
        );
    }

    #[test]
    fn cron_in_the_spring_gap_and_the_autumn_overlap() {
        // 02:30 does not exist in Paris on 2025-03-30 (02:00 -> 03:00): a
        // fixed-time job runs right after the gap, at 03:00 CEST = 01:00 UTC.
        let s = cron("30 2 * * *", Some("Europe/Paris"));
        let got = s
            .slots(utc("2025-03-29T00:00:00Z"), utc("2025-04-01T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-03-29T01:30:00+00:00",
                "2025-03-30T01:00:00+00:00",
                "2025-03-31T00:30:00+00:00"
            ]
        );
        // 02:30 happens twice on 2025-10-26 (03:00 CEST -> 02:00 CET): a
        // fixed-time job runs once, at the first.
        let got = s
            .slots(utc("2025-10-25T12:00:00Z"), utc("2025-10-27T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(strs(&got), ["2025-10-26T00:30:00+00:00"]);
        // A step job runs at each wall-clock match of the repeated hour.
        let s = cron("*/30 * * * *", Some("Europe/Paris"));
        let got = s
            .slots(utc("2025-10-25T23:45:00Z"), utc("2025-10-26T02:15:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-10-26T00:00:00+00:00", // 02:00 CEST
                "2025-10-26T00:30:00+00:00", // 02:30 CEST
                "2025-10-26T01:00:00+00:00", // 02:00 CET
                "2025-10-26T01:30:00+00:00", // 02:30 CET
                "2025-10-26T02:00:00+00:00", // 03:00 CET
            ]
        );
        // And skips the times of the spring gap.
        let got = s
            .slots(utc("2025-03-30T00:15:00Z"), utc("2025-03-30T01:45:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-03-30T00:30:00+00:00", // 01:30 CET
                "2025-03-30T01:00:00+00:00", // 03:00 CEST
                "2025-03-30T01:30:00+00:00", // 03:30 CEST
            ]
        );
    }

    #[test]
    fn cron_day_or() {
        // The 13th, or any Friday (cron's OR) ...
        let mut s = cron("0 0 13 * 5", None);
        let got = s
            .slots(utc("2025-06-01T00:00:00Z"), utc("2025-06-15T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            ["2025-06-06T00:00:00+00:00", "2025-06-13T00:00:00+00:00"]
        );
        // ... or Friday the 13th only.
        s.day_or = false;
        let got = s
            .slots(utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(strs(&got), ["2025-06-13T00:00:00+00:00"]);
    }

    #[test]
    fn interval_counts_from_its_anchor() {
        let s = Schedule {
            interval_secs: Some(600),
            anchor_date: Some(utc("2025-01-01T00:03:00Z")),
            ..Schedule::default()
        };
        let got = s
            .slots(utc("2025-06-01T10:00:00Z"), utc("2025-06-01T10:30:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-06-01T10:03:00+00:00",
                "2025-06-01T10:13:00+00:00",
                "2025-06-01T10:23:00+00:00"
            ]
        );
        // Slots before the anchor exist too.
        let got = s
            .slots(utc("2024-12-31T23:40:00Z"), utc("2025-01-01T00:04:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2024-12-31T23:43:00+00:00",
                "2024-12-31T23:53:00+00:00",
                "2025-01-01T00:03:00+00:00"
            ]
        );
    }

    #[test]
    fn interval_of_days_keeps_local_time_hours_do_not() {
        // Daily at 09:00 Paris, anchored in winter.
        let daily = Schedule {
            interval_secs: Some(86_400),
            anchor_date: Some(utc("2025-01-01T08:00:00Z")),
            timezone: Some("Europe/Paris".into()),
            ..Schedule::default()
        };
        let got = daily
            .slots(utc("2025-03-29T00:00:00Z"), utc("2025-04-01T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-03-29T08:00:00+00:00",
                "2025-03-30T07:00:00+00:00",
                "2025-03-31T07:00:00+00:00"
            ]
        );
        // Hourly is absolute time, whatever the zone.
        let hourly = Schedule {
            interval_secs: Some(3600),
            anchor_date: Some(utc("2025-01-01T00:00:00Z")),
            timezone: Some("Europe/Paris".into()),
            ..Schedule::default()
        };
        let got = hourly
            .slots(utc("2025-03-30T00:00:00Z"), utc("2025-03-30T03:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-03-30T00:00:00+00:00",
                "2025-03-30T01:00:00+00:00",
                "2025-03-30T02:00:00+00:00"
            ]
        );
    }

    #[test]
    fn rrule_with_and_without_dtstart() {
        let s = Schedule {
            rrule: Some("DTSTART:20250601T090000Z\nRRULE:FREQ=DAILY;COUNT=3".into()),
            ..Schedule::default()
        };
        let got = s
            .slots(utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-06-01T09:00:00+00:00",
                "2025-06-02T09:00:00+00:00",
                "2025-06-03T09:00:00+00:00"
            ]
        );
        // No DTSTART: from 2020-01-01 00:00 in the zone; Mondays and
        // Wednesdays at 10:00 Paris time, across the spring DST change.
        let s = Schedule {
            rrule: Some("FREQ=WEEKLY;BYDAY=MO,WE;BYHOUR=10;BYMINUTE=0;BYSECOND=0".into()),
            timezone: Some("Europe/Paris".into()),
            ..Schedule::default()
        };
        let got = s
            .slots(utc("2025-03-24T00:00:00Z"), utc("2025-04-03T00:00:00Z"), 10)
            .expect("slots");
        assert_eq!(
            strs(&got),
            [
                "2025-03-24T09:00:00+00:00",
                "2025-03-26T09:00:00+00:00",
                "2025-03-31T08:00:00+00:00",
                "2025-04-02T08:00:00+00:00"
            ]
        );
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let bad = [
            cron("not a cron", None),
            cron("* * * *", None),
            cron("61 * * * *", None),
            cron("* * * * * *", None),
            cron("0 9 * * *", Some("Mars/Olympus")),
            Schedule {
                interval_secs: Some(0),
                ..Schedule::default()
            },
            Schedule {
                rrule: Some("FREQ=SOMETIMES".into()),
                ..Schedule::default()
            },
            Schedule {
                rrule: Some("".into()),
                ..Schedule::default()
            },
            Schedule::default(),
            Schedule {
                cron: Some("* * * * *".into()),
                interval_secs: Some(5),
                ..Schedule::default()
            },
            Schedule {
                cron: Some("* * * * *".into()),
                parameters: serde_json::json!([1]),
                ..Schedule::default()
            },
        ];
        for s in bad {
            let e = s.validate().expect_err("invalid");
            assert!(!e.to_string().is_empty());
        }
        let e = cron("0 9 * * *", Some("Mars/Olympus"))
            .validate()
            .expect_err("tz");
        assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn dense_rrule_far_from_its_start_is_refused() {
        let s = Schedule {
            rrule: Some("FREQ=SECONDLY".into()),
            ..Schedule::default()
        };
        let e = s
            .slots(utc("2025-01-01T00:00:00Z"), utc("2025-01-02T00:00:00Z"), 10)
            .expect_err("too dense");
        assert!(matches!(e, ScheduleError::TooDense(_)), "{e}");
    }

    #[test]
    fn plan_follows_prefects_rule() {
        let p = SchedulePolicy::default();
        let start = utc("2025-06-01T10:02:00Z");
        // Every 5 minutes: until at least an hour ahead (13 runs, the last
        // at 11:05).
        let got = cron("*/5 * * * *", None)
            .compile()
            .expect("compile")
            .plan(start, None, &p, None)
            .expect("plan");
        assert_eq!(got.len(), 13);
        assert_eq!(got[0], utc("2025-06-01T10:05:00Z"));
        assert_eq!(got[12], utc("2025-06-01T11:05:00Z"));
        // Daily: at least three runs, though they go beyond an hour.
        let got = cron("0 3 * * *", None)
            .compile()
            .expect("compile")
            .plan(start, None, &p, None)
            .expect("plan");
        assert_eq!(got.len(), 3);
        // Every minute, capped by max_runs.
        let got = cron("* * * * *", None)
            .compile()
            .expect("compile")
            .plan(start, None, &p, Some(10))
            .expect("plan");
        assert_eq!(got.len(), 10);
    }
}
