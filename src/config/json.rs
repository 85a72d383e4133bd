//! Reading the config's JSON: a tree that refuses duplicate keys, and syntax and encoding errors
//! with the line and the column as an editor counts them.

use crate::text::brief;
use crate::text::quoted;
use serde_json::{Map, Value};

/// A JSON tree as serde_json's `Value` holds it, read with one more rule: an object may not have
/// the same key twice. `Value` would keep the last one silently, hiding a mistake such as two
/// `"name"`s in one entry; here it is an error at the position of the second one.
pub(super) struct Tree(pub(super) Value);

impl<'de> serde::Deserialize<'de> for Tree {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TreeVisitor).map(Tree)
    }
}

struct TreeVisitor;

impl<'de> serde::de::Visitor<'de> for TreeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json's parser yields only finite floats (it rejects 1e999), so this is never Null.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Tree(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key {} in one object", quoted(&key))));
            }
            let Tree(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The deepest nesting of arrays and objects serde_json reads before it gives up (its recursion
/// limit, which keeps a hostile file from exhausting the stack).
const JSON_DEPTH_LIMIT: usize = 128;

/// `line 3, column 14: invalid JSON: expected ',' or ']'`: serde_json's message with the position
/// first, the column counted in characters as editors count it (serde_json counts bytes), and a
/// word of explanation where its own message is terse.
pub(super) fn json_message(e: &serde_json::Error, text: &str) -> String {
    let full = e.to_string();
    let message = full.rsplit_once(" at line ").map_or(full.as_str(), |(m, _)| m);
    // The line's text, and the byte offset of its start in `text`.
    let (line_start, line_text) = text
        .split('\n')
        .scan(0, |start, line| {
            let here = *start;
            *start += line.len() + 1;
            Some((here, line))
        })
        .nth(e.line().saturating_sub(1))
        .unwrap_or((text.len(), ""));
    // serde_json says column 0 for the end of a file that ends with a newline; editors say 1.
    let column = line_text.char_indices().take_while(|&(i, _)| i < e.column()).count().max(1);
    let mut position = format!("line {}, column {column}", e.line());
    // serde_json notices a trailing comma at the bracket after it; the mistake is the comma.
    if message == "trailing comma" {
        let before = text.get(..line_start + e.column().saturating_sub(1)).unwrap_or(text);
        if let Some(comma) = before.trim_end().strip_suffix(',') {
            let line = comma.matches('\n').count() + 1;
            let column = comma.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            position = format!("line {line}, column {column}");
        }
    }
    if e.classify() == serde_json::error::Category::Data {
        // Only `Tree` raises data errors: the JSON is well formed and the message is ours.
        return format!("{position}: {message}");
    }
    let explained = match message {
        "recursion limit exceeded" => {
            format!("arrays and objects nested more than {JSON_DEPTH_LIMIT} levels deep (a config needs at most four)")
        }
        "number out of range" => "number out of range (it must fit in a 64-bit float: at most about 1.8e308)".into(),
        "trailing comma" => "trailing comma (JSON allows none after the last item of an array or object)".into(),
        _ if is_non_finite_word(word_at(text, line_start + e.column().saturating_sub(1))) => {
            format!("{message} (NaN and Infinity are not JSON numbers; JSON has no way to write them)")
        }
        // An invisible or look-alike character (a second byte-order mark, a no-break space, a
        // curly quote) is named, since the user cannot see what is wrong at that column.
        _ => match text.get(line_start + e.column().saturating_sub(1)..).and_then(|rest| rest.chars().next()) {
            Some(c) if !c.is_ascii() || c.is_ascii_control() => format!("{message} (found U+{:04X})", u32::from(c)),
            _ => message.to_string(),
        },
    };
    format!("{position}: invalid JSON: {explained}")
}

/// The run of letters, digits, signs and dots around byte `at`: the token a syntax error points at.
fn word_at(text: &str, at: usize) -> &str {
    let bytes = text.as_bytes();
    let part = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    let at = at.min(bytes.len());
    let start = at - bytes[..at].iter().rev().take_while(|b| part(b)).count();
    let end = at + bytes[at..].iter().take_while(|b| part(b)).count();
    // Both ends sit next to ASCII bytes or at the ends of the text, so they are char boundaries;
    // `get` keeps that from ever being a panic.
    text.get(start..end).unwrap_or("")
}

/// `NaN`, `Infinity`, `-inf` and the like, which JavaScript and Python write but JSON lacks.
fn is_non_finite_word(word: &str) -> bool {
    let word = word.trim_start_matches(['+', '-']).to_ascii_lowercase();
    matches!(word.as_str(), "nan" | "inf" | "infinity")
}

/// `line 3, column 7: not valid UTF-8 (byte 0xff at offset 52)`: where the first bad byte is.
pub(super) fn not_utf8(e: &std::string::FromUtf8Error) -> String {
    let offset = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    // The bytes before the bad one are valid UTF-8, so they can be counted in characters.
    let valid = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let utf16 = if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        "; it starts like UTF-16, which has to be saved as UTF-8"
    } else {
        ""
    };
    format!("line {line}, column {column}: not valid UTF-8 (byte {:#04x} at offset {offset}){utf16}", bytes[offset])
}

pub(super) fn type_name(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("a boolean ({})", brief(v)),
        Value::Number(_) => format!("a number ({})", brief(v)),
        Value::String(_) => format!("a string ({})", brief(v)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}
