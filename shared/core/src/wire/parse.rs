//! From raw request bytes to a checked message, or a [`ParamIllegal`] naming the field.

use super::{ParamIllegal, Validate, MAX_BODY_BYTES};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use std::collections::HashSet;
use std::fmt;

/// The `field` of errors about the body as a whole (size, encoding, syntax at the top level).
pub const BODY_FIELD: &str = "body";

/// Parses and validates a message body.
///
/// Order: size (at most [`MAX_BODY_BYTES`]), UTF-8, then a structural pass (well-formed JSON,
/// an object at the top level, no duplicate key in any object, nothing after the value), then
/// the typed pass (every field's rule, with its JSON path), then [`Validate::validate`]. Depth
/// is bounded by serde_json's recursion limit (128), so no input can exhaust the stack.
pub fn parse_request<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ParamIllegal> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ParamIllegal::new(
            BODY_FIELD,
            format!(
                "must be at most {MAX_BODY_BYTES} bytes (got {})",
                body.len()
            ),
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|e| ParamIllegal::new(BODY_FIELD, format!("must be UTF-8 ({e})")))?;
    check_structure(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(from_path_error)?;
    de.end()
        .map_err(|e| ParamIllegal::new(BODY_FIELD, strip_position(&e)))?;
    value.validate()?;
    Ok(value)
}

/// The structural pass: a JSON object at the top, no duplicate keys anywhere.
fn check_structure(text: &str) -> Result<(), ParamIllegal> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, TopLevel>(&mut de).map_err(from_path_error)?;
    de.end()
        .map_err(|e| ParamIllegal::new(BODY_FIELD, strip_position(&e)))
}

/// serde_json appends " at line L column C"; the rule reads better without it.
fn strip_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) if e.line() != 0 => msg[..i].to_string(),
        _ => msg,
    }
}

/// Turns a typed-pass error into a field path and a rule. Errors that serde raises on the
/// containing object (a missing or duplicate field) are moved onto the field they name.
fn from_path_error(e: serde_path_to_error::Error<serde_json::Error>) -> ParamIllegal {
    // `.` is the root; `?` is a key that could not be read (broken JSON): name its parent.
    let path = e.path().to_string();
    let path = match path.as_str() {
        "." | "?" => String::new(),
        p => p.strip_suffix(".?").unwrap_or(p).to_string(),
    };
    let msg = strip_position(e.inner());
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    for (prefix, rule) in [
        ("missing field `", "is required"),
        ("duplicate field `", "must appear only once"),
        ("duplicate key `", "must appear only once"),
    ] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some(name) = rest.strip_suffix('`') {
                return ParamIllegal::new(join(name), rule);
            }
        }
    }
    let field = if path.is_empty() {
        BODY_FIELD.to_string()
    } else {
        path
    };
    ParamIllegal::new(field, msg)
}

/// The top level: must be an object.
struct TopLevel;

impl<'de> de::Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TopLevel, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object at the top level")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TopLevel, A::Error> {
                check_map(map).map(|()| TopLevel)
            }
        }
        d.deserialize_any(V)
    }
}

/// Any JSON value, walked only to find duplicate keys.
struct AnyValue;

impl<'de> DeserializeSeed<'de> for AnyValue {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

impl<'de> de::Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<AnyValue, D::Error> {
        d.deserialize_any(AnyVisitor).map(|()| AnyValue)
    }
}

struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<AnyValue>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        check_map(map)
    }
}

fn check_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    let mut seen = HashSet::new();
    while let Some(key) = map.next_key::<String>()? {
        if !seen.insert(key.clone()) {
            return Err(de::Error::custom(format!("duplicate key `{key}`")));
        }
        map.next_value_seed(AnyValue)?;
    }
    Ok(())
}
