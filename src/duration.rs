//! Go duration syntax, because Terraform users already write timeouts that way
//! (`timeouts { read = "30m" }` in every official provider) and expect the same
//! strings to work here.
//!
//! Parsing follows Go's `time.ParseDuration` with two deliberate differences:
//! negative durations are rejected (a negative wait is always a mistake in this
//! provider) and the result is a [`std::time::Duration`]. As in Go, the bare
//! string `"0"` is accepted without a unit; callers that need a positive value
//! check for zero themselves.
//!
//! Two formatters are offered:
//! - [`format_go_duration`] reproduces Go's `Duration.String()` exactly
//!   (`30m0s`, `1h30m0s`, `1.5s`, `300ms`), so anything we print can be pasted
//!   back into a configuration and means the same thing to Go tooling.
//! - [`format_compact`] drops zero components (`30m`, `1h30m`, `1.5s`) for
//!   sentences such as "timed out after 30m", which read like what the user wrote.
//!
//! Both outputs parse back with [`parse_go_duration`].

use std::time::Duration;

/// Go's `time.Duration` is an `int64` of nanoseconds; staying inside that range
/// means a duration accepted here is also valid for Terraform's own Go code.
const MAX_NANOS: u128 = i64::MAX as u128;

const NANOS_PER_MICRO: u128 = 1_000;
const NANOS_PER_MILLI: u128 = 1_000_000;
const NANOS_PER_SEC: u128 = 1_000_000_000;
const NANOS_PER_MIN: u128 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u128 = 60 * NANOS_PER_MIN;

const VALID_UNITS: &str = "ns, us, µs, ms, s, m, h";

/// Why a duration string was rejected. Every message quotes the input so the
/// user can find the offending attribute value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error(
        "invalid duration \"\": a duration must not be empty (for example \"30s\" or \"1h30m\")"
    )]
    Empty,
    #[error("invalid duration \"{input}\": negative durations are not allowed")]
    Negative { input: String },
    #[error("invalid duration \"{input}\": missing unit after \"{number}\" (valid units are {VALID_UNITS})")]
    MissingUnit { input: String, number: String },
    #[error(
        "invalid duration \"{input}\": unknown unit \"{unit}\" (valid units are {VALID_UNITS})"
    )]
    UnknownUnit { input: String, unit: String },
    #[error("invalid duration \"{input}\": expected a number before the unit (for example \"30s\" or \"1.5h\")")]
    ExpectedNumber { input: String },
    #[error("invalid duration \"{input}\": too large (the maximum is about 2562047h)")]
    Overflow { input: String },
}

/// Parses a Go duration such as `"90s"`, `"1h30m"`, `"1.5h"` or `"300ms"`.
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    if input.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut rest = input;
    if let Some(r) = rest.strip_prefix('-') {
        // Go accepts "-0"; a negative zero is still not a sensible wait, but it is
        // harmless, so only reject values that are really below zero.
        if parse_unsigned(input, r)? == 0 {
            return Ok(Duration::ZERO);
        }
        return Err(DurationError::Negative {
            input: input.to_owned(),
        });
    }
    if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    let nanos = parse_unsigned(input, rest)?;
    Ok(nanos_to_duration(nanos))
}

fn nanos_to_duration(nanos: u128) -> Duration {
    // `nanos` is at most i64::MAX, so both parts fit.
    let secs = (nanos / NANOS_PER_SEC) as u64;
    let sub = (nanos % NANOS_PER_SEC) as u32;
    Duration::new(secs, sub)
}

/// Parses the part after an optional sign, returning nanoseconds.
fn parse_unsigned(input: &str, s: &str) -> Result<u128, DurationError> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(DurationError::ExpectedNumber {
            input: input.to_owned(),
        });
    }
    let overflow = || DurationError::Overflow {
        input: input.to_owned(),
    };
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        // Integer part.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_digits, after_int) = rest.split_at(int_len);
        // Optional fraction.
        let (frac_digits, after_num) = match after_int.strip_prefix('.') {
            Some(f) => {
                let frac_len = f.bytes().take_while(u8::is_ascii_digit).count();
                f.split_at(frac_len)
            }
            None => ("", after_int),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(DurationError::ExpectedNumber {
                input: input.to_owned(),
            });
        }
        // Unit: everything up to the next digit or '.'.
        let unit_len = after_num
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit() || *c == '.')
            .map_or(after_num.len(), |(i, _)| i);
        let (unit, next) = after_num.split_at(unit_len);
        if unit.is_empty() {
            let number = rest
                .get(..rest.len() - after_num.len())
                .unwrap_or(rest)
                .to_owned();
            return Err(DurationError::MissingUnit {
                input: input.to_owned(),
                number,
            });
        }
        let unit_nanos = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => NANOS_PER_MICRO,
            "ms" => NANOS_PER_MILLI,
            "s" => NANOS_PER_SEC,
            "m" => NANOS_PER_MIN,
            "h" => NANOS_PER_HOUR,
            other => {
                return Err(DurationError::UnknownUnit {
                    input: input.to_owned(),
                    unit: other.to_owned(),
                })
            }
        };

        let mut int_value: u128 = 0;
        for b in int_digits.bytes() {
            int_value = int_value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u128::from(b - b'0')))
                .filter(|v| *v <= MAX_NANOS)
                .ok_or_else(overflow)?;
        }
        let mut component = int_value.checked_mul(unit_nanos).ok_or_else(overflow)?;

        // Fraction: digits beyond the 18th cannot change the result by a whole
        // nanosecond even for hours, so they are ignored (Go does the same).
        let mut frac_value: u128 = 0;
        let mut scale: u128 = 1;
        for b in frac_digits.bytes().take(18) {
            frac_value = frac_value * 10 + u128::from(b - b'0');
            scale *= 10;
        }
        // Truncate towards zero, as Go does.
        component = component
            .checked_add(frac_value * unit_nanos / scale)
            .ok_or_else(overflow)?;

        total = total
            .checked_add(component)
            .filter(|v| *v <= MAX_NANOS)
            .ok_or_else(overflow)?;
        rest = next;
    }
    Ok(total)
}

/// Formats like Go's `Duration.String()`: `0s`, `300ms`, `1.5s`, `30m0s`, `1h30m0s`.
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    if nanos < NANOS_PER_SEC {
        let (unit_nanos, unit) = if nanos < NANOS_PER_MICRO {
            (1, "ns")
        } else if nanos < NANOS_PER_MILLI {
            (NANOS_PER_MICRO, "µs")
        } else {
            (NANOS_PER_MILLI, "ms")
        };
        return format!("{}{unit}", with_fraction(nanos, unit_nanos));
    }
    let hours = nanos / NANOS_PER_HOUR;
    let minutes = (nanos % NANOS_PER_HOUR) / NANOS_PER_MIN;
    let sec_nanos = nanos % NANOS_PER_MIN;
    let seconds = with_fraction(sec_nanos, NANOS_PER_SEC);
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

/// Formats for prose, leaving out zero components: `30m`, `1h30m`, `1m30.5s`, `300ms`.
pub fn format_compact(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < NANOS_PER_SEC {
        return format_go_duration(d);
    }
    let hours = nanos / NANOS_PER_HOUR;
    let minutes = (nanos % NANOS_PER_HOUR) / NANOS_PER_MIN;
    let sec_nanos = nanos % NANOS_PER_MIN;
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    if sec_nanos > 0 {
        out.push_str(&format!("{}s", with_fraction(sec_nanos, NANOS_PER_SEC)));
    }
    out
}

/// `value / unit` as a decimal with trailing zeros (and a bare point) removed.
fn with_fraction(value: u128, unit: u128) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Duration {
        match parse_go_duration(s) {
            Ok(d) => d,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    #[test]
    fn parses_common_forms() {
        assert_eq!(p("90s"), Duration::from_secs(90));
        assert_eq!(p("1h30m"), Duration::from_secs(5400));
        assert_eq!(p("1.5h"), Duration::from_secs(5400));
        assert_eq!(p("300ms"), Duration::from_millis(300));
        assert_eq!(p("30m"), Duration::from_secs(1800));
        assert_eq!(p("0"), Duration::ZERO);
        assert_eq!(p("+5s"), Duration::from_secs(5));
        assert_eq!(p(".5s"), Duration::from_millis(500));
        assert_eq!(p("1.s"), Duration::from_secs(1));
        assert_eq!(p("2h45m10.25s"), Duration::new(9910, 250_000_000));
    }

    #[test]
    fn parses_every_unit() {
        assert_eq!(p("7ns"), Duration::from_nanos(7));
        assert_eq!(p("7us"), Duration::from_micros(7));
        assert_eq!(p("7µs"), Duration::from_micros(7));
        assert_eq!(p("7μs"), Duration::from_micros(7));
        assert_eq!(p("7ms"), Duration::from_millis(7));
        assert_eq!(p("7s"), Duration::from_secs(7));
        assert_eq!(p("7m"), Duration::from_secs(420));
        assert_eq!(p("7h"), Duration::from_secs(25200));
    }

    #[test]
    fn fractions_truncate_to_nanoseconds() {
        assert_eq!(p("1.0000000019s"), Duration::from_nanos(1_000_000_001));
        assert_eq!(p("0.1ns"), Duration::ZERO);
        assert_eq!(
            p("1.123456789012345678901234h"),
            Duration::from_nanos(4_044_444_440_444)
        );
    }

    #[test]
    fn rejects_bad_input_with_clear_messages() {
        assert_eq!(parse_go_duration(""), Err(DurationError::Empty));

        let e = parse_go_duration("-5s").unwrap_err();
        assert!(matches!(e, DurationError::Negative { .. }));
        assert!(e.to_string().contains("negative"), "{e}");

        let e = parse_go_duration("10").unwrap_err();
        assert!(matches!(e, DurationError::MissingUnit { ref number, .. } if number == "10"));
        assert!(e.to_string().contains("missing unit"), "{e}");
        assert!(e.to_string().contains("ms, s, m, h"), "{e}");

        let e = parse_go_duration("1h30").unwrap_err();
        assert!(matches!(e, DurationError::MissingUnit { ref number, .. } if number == "30"));

        let e = parse_go_duration("5d").unwrap_err();
        assert!(matches!(e, DurationError::UnknownUnit { ref unit, .. } if unit == "d"));
        assert!(e.to_string().contains("\"5d\""), "{e}");

        for bad in ["s", "h1", ".s", "+", "-", "1..5s", " 5s", "5 s", "5S"] {
            assert!(
                parse_go_duration(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn rejects_overflow() {
        // Go's limit is 2562047h47m16.854775807s.
        assert_eq!(
            p("2562047h47m16.854775807s"),
            Duration::from_nanos(i64::MAX as u64)
        );
        for big in [
            "2562048h",
            "2562047h47m16.854775808s",
            "99999999999999999999999999999999999999999h",
            "9223372036854775808ns",
        ] {
            let e = parse_go_duration(big).unwrap_err();
            assert!(matches!(e, DurationError::Overflow { .. }), "{big}: {e:?}");
            assert!(e.to_string().contains("too large"), "{e}");
        }
    }

    #[test]
    fn negative_zero_is_zero() {
        assert_eq!(p("-0s"), Duration::ZERO);
    }

    #[test]
    fn go_string_matches_go() {
        let cases = [
            (Duration::ZERO, "0s"),
            (Duration::from_nanos(1), "1ns"),
            (Duration::from_nanos(1_100), "1.1µs"),
            (Duration::from_micros(2_200), "2.2ms"),
            (Duration::from_millis(300), "300ms"),
            (Duration::from_millis(1_500), "1.5s"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_secs(1800), "30m0s"),
            (Duration::from_secs(5400), "1h30m0s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::new(3661, 1), "1h1m1.000000001s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_go_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn compact_drops_zero_components() {
        assert_eq!(format_compact(Duration::from_secs(1800)), "30m");
        assert_eq!(format_compact(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_compact(Duration::from_secs(3601)), "1h1s");
        assert_eq!(format_compact(Duration::from_millis(90_500)), "1m30.5s");
        assert_eq!(format_compact(Duration::from_millis(300)), "300ms");
        assert_eq!(format_compact(Duration::ZERO), "0s");
    }

    #[test]
    fn formatted_values_parse_back() {
        for nanos in [
            0u64,
            1,
            999,
            1_500,
            2_000_000,
            1_500_000_000,
            90_000_000_000,
            5_400_000_000_000,
            3_661_000_000_001,
        ] {
            let d = Duration::from_nanos(nanos);
            assert_eq!(p(&format_go_duration(d)), d);
            assert_eq!(p(&format_compact(d)), d);
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,24}") {
            let _ = parse_go_duration(&s);
        }

        /// Any string, and number/unit soup that reaches the overflow and
        /// fraction paths: never a panic; an accepted value fits Go's
        /// `time.Duration`; a rejection quotes the input.
        #[test]
        fn parse_is_total_and_bounded(
            s in proptest::prop_oneof![
                proptest::prelude::any::<String>(),
                "([+-]?[0-9.]{0,22}(ns|us|µs|μs|ms|s|m|h|d|)){1,4}",
            ]
        ) {
            match parse_go_duration(&s) {
                Ok(d) => proptest::prop_assert!(d.as_nanos() <= MAX_NANOS, "{:?} -> {:?}", s, d),
                Err(DurationError::Empty) => proptest::prop_assert!(s.is_empty()),
                Err(e) => proptest::prop_assert!(e.to_string().contains(&format!("\"{s}\"")), "{}", e),
            }
        }

        #[test]
        fn go_format_round_trips(nanos in 0u64..=i64::MAX as u64) {
            let d = Duration::from_nanos(nanos);
            proptest::prop_assert_eq!(parse_go_duration(&format_go_duration(d)), Ok(d));
            proptest::prop_assert_eq!(parse_go_duration(&format_compact(d)), Ok(d));
        }

        #[test]
        fn unit_strings_parse_to_their_value(n in 0u64..1_000_000, unit in 0usize..6) {
            let (suffix, nanos) = [("ns", 1u64), ("us", 1_000), ("ms", 1_000_000),
                ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000)][unit];
            proptest::prop_assert_eq!(
                parse_go_duration(&format!("{n}{suffix}")),
                Ok(Duration::from_nanos(n * nanos))
            );
        }
    }
}
