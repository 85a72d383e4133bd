//! How messages show what a user wrote: strings quoted and cut to a readable length, JSON values
//! cut and with invisible characters escaped, so that every error stays one readable line
//! whatever the config holds.

use serde_json::Value;
use std::borrow::Cow;

/// A string as messages quote it: `"name"`, or for a very long one its first 60 characters and
/// its length, so that a message stays one readable line whatever the config holds.
pub fn quoted(s: &str) -> String {
    if s.chars().nth(QUOTED_IN_FULL).is_none() {
        format!("{s:?}")
    } else {
        let start: String = s.chars().take(QUOTED_PREFIX).collect();
        format!("{start:?}… ({} characters)", s.chars().count())
    }
}

/// Names up to this many characters are shown whole in messages.
const QUOTED_IN_FULL: usize = 80;
/// How much of a longer name is shown.
const QUOTED_PREFIX: usize = 60;

/// A name as messages show it unquoted: itself, or for a very long one its first 60 characters
/// and its length.
pub fn shortened(s: &str) -> Cow<'_, str> {
    if s.chars().nth(QUOTED_IN_FULL).is_none() {
        Cow::Borrowed(s)
    } else {
        let start: String = s.chars().take(QUOTED_PREFIX).collect();
        Cow::Owned(format!("{start}… ({} characters)", s.chars().count()))
    }
}

/// A JSON value as messages show it: its text, cut after 40 characters.
pub fn brief(v: &Value) -> String {
    const SHOWN: usize = 40;
    let shown = match v {
        // A long string is cut before it is written out, not after.
        Value::String(s) if s.chars().nth(SHOWN).is_some() => {
            Value::String(s.chars().take(SHOWN + 1).collect()).to_string()
        }
        _ => v.to_string(),
    };
    // JSON strings may hold DEL, C1 controls and invisible characters as they are; a message
    // shows them escaped, as `{:?}` does.
    let mut visible = String::with_capacity(shown.len());
    for c in shown.chars() {
        if c.is_control() || (c.escape_debug().len() > 1 && !matches!(c, '\'' | '"' | '\\')) {
            visible.extend(c.escape_debug());
        } else {
            visible.push(c);
        }
    }
    let shown = visible;
    if shown.chars().nth(SHOWN).is_some() {
        format!("{}…", shown.chars().take(SHOWN).collect::<String>())
    } else {
        shown
    }
}
