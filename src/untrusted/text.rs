//! Escaping and length bounds for server text.
//!
//! Escaped characters are written `\u{1b}`: visible, unambiguous about which
//! character it was, and never interpreted by a terminal. A literal
//! backslash is left alone, so a server could make text *look* escaped; it
//! cannot make it act.

use std::fmt::Write as _;

/// Whether a text may keep its line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One line: ids, statuses, codes, messages quoted inside a sentence.
    /// Every line break is escaped like any other control character.
    Line,
    /// A reason the report lays out over several lines: `\n` is kept (a
    /// `\r\n` pair becomes `\n`); every other control character is escaped.
    Lines,
}

/// Characters that must never reach a terminal as they are: C0 controls,
/// DEL and C1 controls (`char::is_control`), and the invisible formatting
/// characters used to hide or reorder text: the soft hyphen, zero-width
/// characters, bidirectional marks, embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069), the line and paragraph separators that
/// some terminals treat as line breaks, the byte-order mark, interlinear
/// annotation marks and the tag characters (U+E0000–U+E007F) that can carry
/// invisible ASCII.
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// `text` with every hidden character escaped; `Shape::Lines` keeps line
/// breaks (normalised to `\n`).
pub fn escape(text: &str, shape: Shape) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' if shape == Shape::Lines => out.push('\n'),
            '\r' if shape == Shape::Lines && chars.peek() == Some(&'\n') => {}
            c if is_hidden(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// `n` with thousands separators, as the cut markers show it: `98,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn cut_marker(more: usize) -> String {
    format!(
        "… {} more character{}",
        count(more),
        if more == 1 { "" } else { "s" }
    )
}

/// At most `max` characters of `text`, the marker included: when `text` is
/// longer it is cut and ends with "… 98,000 more characters". An escape
/// sequence (`\u{1b}`) is never cut in half. A `max` too small for any
/// marker still holds: the text is then cut without one.
pub fn bound(text: &str, max: usize) -> String {
    let total = text.chars().count();
    if total <= max {
        return text.to_owned();
    }
    // The marker for `total` is at least as long as the real one, which
    // counts fewer characters, so the result fits.
    let reserve = cut_marker(total).chars().count();
    let Some(keep) = max.checked_sub(reserve) else {
        return text.chars().take(max).collect();
    };
    let mut end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    // Step back over a partial `\u{...}` so the cut never invents one.
    if let Some(start) = text[..end].rfind("\\u{") {
        if end - start <= "\\u{10ffff}".len() && !text[start..end].contains('}') {
            end = start;
        }
    }
    let kept = &text[..end];
    let more = total - kept.chars().count();
    format!("{kept}{}", cut_marker(more))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn terminal_controls_are_shown_escaped() {
        let ansi = "\u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}";
        assert_eq!(
            escape(ansi, Shape::Line),
            "\\u{1b}[31mred\\u{1b}[0m \\u{1b}]0;title\\u{7}"
        );
        assert_eq!(
            escape("a\u{202E}cba\u{2066}x\u{2069}\u{200B}", Shape::Line),
            "a\\u{202e}cba\\u{2066}x\\u{2069}\\u{200b}"
        );
        assert_eq!(
            escape("\u{7f}\u{85}\u{9b}", Shape::Line),
            "\\u{7f}\\u{85}\\u{9b}"
        );
        assert_eq!(escape("tag\u{E0041}", Shape::Line), "tag\\u{e0041}");
        // Ordinary text, accents and CJK pass unchanged.
        assert_eq!(
            escape("磁盘 /dev/vdb é ✓", Shape::Line),
            "磁盘 /dev/vdb é ✓"
        );
    }

    #[test]
    fn line_breaks_depend_on_the_shape() {
        let text = "one\r\ntwo\nthree\rfour\u{2028}five";
        assert_eq!(
            escape(text, Shape::Line),
            "one\\u{d}\\u{a}two\\u{a}three\\u{d}four\\u{2028}five"
        );
        assert_eq!(
            escape(text, Shape::Lines),
            "one\ntwo\nthree\\u{d}four\\u{2028}five"
        );
    }

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(98_000), "98,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn a_long_text_says_how_much_was_cut() {
        let text = "x".repeat(100_000);
        let out = bound(&text, 2_000);
        // The marker's room is reserved for the longest count, so the
        // result may fall a digit or two short of the bound.
        assert!(
            (1_990..=2_000).contains(&out.chars().count()),
            "{}",
            out.len()
        );
        assert!(out.ends_with("more characters"), "{}", &out[1_900..]);
        let kept = out.chars().take_while(|c| *c == 'x').count();
        assert!(out.ends_with(&format!("… {} more characters", count(100_000 - kept))));
        assert_eq!(bound("short", 2_000), "short");
        assert_eq!(bound("abcdef", 3), "abc");
    }

    #[test]
    fn a_cut_never_splits_an_escape() {
        let text = escape(&"\u{1b}".repeat(500), Shape::Line);
        let out = bound(&text, 100);
        let kept = out.split('…').next().unwrap_or_default();
        assert!(kept.ends_with('}'), "{out}");
        assert_eq!(kept.matches("\\u{1b}").count() * 6, kept.len(), "{out}");
    }

    proptest! {
        /// Whatever the server sends, the result holds no hidden character
        /// (bar `\n` where lines are kept) and never exceeds its bound.
        #[test]
        fn escaped_and_bounded_text_is_safe(
            text in prop_oneof![
                any::<String>(),
                proptest::collection::vec(
                    prop_oneof![
                        Just('\u{1b}'), Just('\n'), Just('\r'), Just('\u{202e}'),
                        Just('\u{85}'), Just('a'), Just('é'), Just('\\'), Just('{'), Just('}'),
                    ],
                    0..400,
                ).prop_map(|v| v.into_iter().collect::<String>()),
            ],
            max in 0usize..300,
            lines in any::<bool>(),
        ) {
            let shape = if lines { Shape::Lines } else { Shape::Line };
            let out = bound(&escape(&text, shape), max);
            prop_assert!(out.chars().count() <= max, "{} > {}", out.chars().count(), max);
            for c in out.chars() {
                prop_assert!(!is_hidden(c) || (lines && c == '\n'), "{:?} in {:?}", c, out);
            }
        }
    }
}
