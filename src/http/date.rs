//! HTTP dates (RFC 9110 §5.6.7), for `Retry-After` and `Date`: read in all
//! three forms a server may send, as Python's `parsedate_to_datetime`
//! (which contree-client uses) reads them, and written for people.

/// Seconds since the Unix epoch of an HTTP-date: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37
/// GMT`) or asctime (`Sun Nov  6 08:49:37 1994`); the time is UTC.
pub fn parse(text: &str) -> Option<i64> {
    let tokens: Vec<&str> = text
        .split([' ', ',', '-', '\t'])
        .filter(|t| !t.is_empty())
        .collect();
    let month = tokens.iter().find_map(|t| month_number(t))?;
    let time = tokens.iter().find(|t| t.contains(':'))?;
    let mut numbers = tokens
        .iter()
        .filter(|t| t.chars().all(|c| c.is_ascii_digit()))
        .map(|t| (t.len(), t.parse::<i64>()));
    let (_, day) = numbers.next()?;
    let (year_digits, year) = numbers.next()?;
    let (day, mut year) = (day.ok()?, year.ok()?);
    if year_digits <= 2 {
        // RFC 850's two-digit year, read as Python's email.utils reads it.
        year += if year < 69 { 2000 } else { 1900 };
    }
    let mut clock = time.split(':').map(str::parse::<i64>);
    let hour = clock.next()?.ok()?;
    let minute = clock.next()?.ok()?;
    let second = clock.next().unwrap_or(Ok(0)).ok()?;
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// `YYYY-MM-DD HH:MM:SS UTC` of seconds since the Unix epoch.
pub fn format_utc(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn month_number(token: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let token = token.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| token == *m)
        .map(|i| i as i64 + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9110's own example, in its three forms.
    #[test]
    fn the_three_forms_of_an_http_date_read_alike() {
        let want = 784_111_777;
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(want));
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT"), Some(want));
        assert_eq!(parse("Sun Nov  6 08:49:37 1994"), Some(want));
        assert_eq!(parse("Tue, 08 Dec 2026 03:23:00 GMT"), Some(1_796_700_180));
        assert_eq!(format_utc(want), "1994-11-06 08:49:37 UTC");
        assert_eq!(format_utc(1_796_700_180), "2026-12-08 03:23:00 UTC");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        for bad in [
            "",
            "soon",
            "3600",
            "Sun, 06 Nov 1994",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
