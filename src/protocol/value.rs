//! Terraform values as they travel in `DynamicValue`.
//!
//! Terraform encodes values with cty's msgpack scheme: null is nil, objects
//! and maps are msgpack maps, lists/sets/tuples are arrays, numbers are ints,
//! floats or (when too big or precise) decimal strings, and values not yet
//! known at plan time are msgpack extension values. We decode without the
//! schema, so the type system is flattened: callers that know an attribute
//! is a number use [`Value::as_number`], which also accepts the string form.

use std::collections::BTreeMap;

use super::tfplugin6::DynamicValue;
use super::ProtocolError;

/// Deepest object/list nesting accepted from the wire. Real schemas stay far
/// below this; the bound exists so that corrupt input cannot exhaust the
/// stack of a tokio worker thread.
pub const MAX_NESTING: usize = 128;

/// Extension type cty uses for a plain unknown value.
const UNKNOWN_EXT: i8 = 0;

/// A Terraform number, kept in the form it arrived in so that nothing is
/// lost by a round trip (e.g. a 30-digit decimal must not become a float).
#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    /// Only for positive integers beyond `i64::MAX`.
    UInt(u64),
    Float(f64),
    /// Decimal text, as cty sends numbers that do not fit int64/float64.
    Text(String),
}

impl Number {
    /// Reads the decimal text form; `None` if it is not a number at all,
    /// so a string attribute is never mistaken for a number.
    pub fn parse(text: &str) -> Option<Number> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        if let Ok(i) = t.parse::<i64>() {
            return Some(Number::Int(i));
        }
        if let Ok(u) = t.parse::<u64>() {
            return Some(Number::UInt(u));
        }
        // f64 parsing also accepts "inf"/"NaN"; Terraform's text form is
        // plain decimal, so require a digit before accepting it.
        if t.bytes().any(|b| b.is_ascii_digit()) && t.parse::<f64>().is_ok() {
            return Some(Number::Text(t.to_string()));
        }
        None
    }

    /// The value as an `i64` when it is an integer that fits, e.g. for
    /// counts and timeouts given in seconds.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::UInt(u) => i64::try_from(*u).ok(),
            Number::Float(f) => float_to_i64(*f),
            Number::Text(t) => t
                .trim()
                .parse::<i64>()
                .ok()
                .or_else(|| t.trim().parse::<f64>().ok().and_then(float_to_i64)),
        }
    }

    /// The value as an `f64`, possibly rounded.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Number::Int(i) => Some(*i as f64),
            Number::UInt(u) => Some(*u as f64),
            Number::Float(f) => Some(*f),
            Number::Text(t) => t.trim().parse::<f64>().ok(),
        }
    }
}

fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable; anything at or above it overflows.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// A decoded Terraform value, without its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// Not known until apply (plain or refined unknown on the wire).
    Unknown,
    Bool(bool),
    Number(Number),
    String(String),
    /// Lists, sets and tuples.
    List(Vec<Value>),
    /// Objects and maps.
    Map(BTreeMap<String, Value>),
}

impl Value {
    /// Builds an object/map from pairs; handy when assembling state.
    pub fn object<K, I>(pairs: I) -> Value
    where
        K: Into<String>,
        I: IntoIterator<Item = (K, Value)>,
    {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Attribute or map element lookup; `None` for non-maps and missing keys.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value as a number. Also accepts decimal text, because without the
    /// schema a big number sent as a msgpack string decodes as a string.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(n.clone()),
            Value::String(s) => Number::parse(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(|n| n.as_i64())
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(|n| n.as_f64())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this value itself is known (its elements may still not be).
    pub fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown)
    }

    /// Whether no unknown hides anywhere inside; a data source can only be
    /// read when its configuration is wholly known.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(l) => l.iter().all(Value::is_wholly_known),
            Value::Map(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Number(Number::Int(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Number(Number::Float(f))
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    /// `None` becomes null, which is how optional attributes are left unset.
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

/// Decodes one msgpack-encoded Terraform value occupying all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.value(0)?;
    let trailing = bytes.len() - reader.pos;
    if trailing > 0 {
        return Err(ProtocolError::TrailingBytes(trailing));
    }
    Ok(value)
}

/// A msgpack decoder straight into [`Value`]. It reads a value in a single
/// pass over the buffer, so a config object costs one allocation per string
/// and collection, and nothing is built only to be converted. Lengths come
/// from the wire, so no allocation is sized by them beyond what the
/// remaining bytes could hold.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Error text for input that ends early; it never quotes the input.
const TRUNCATED: &str = "unexpected end of input";

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| ProtocolError::Msgpack(TRUNCATED.into()))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.array::<1>()?[0])
    }

    /// A big-endian length of `width` bytes (1, 2 or 4).
    fn len(&mut self, width: usize) -> Result<usize, ProtocolError> {
        let n = match width {
            1 => u32::from(self.u8()?),
            2 => u32::from(u16::from_be_bytes(self.array()?)),
            _ => u32::from_be_bytes(self.array()?),
        };
        usize::try_from(n).map_err(|_| ProtocolError::Msgpack("length too large".into()))
    }

    fn string(&mut self, len: usize) -> Result<String, ProtocolError> {
        let raw = self.take(len)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| ProtocolError::InvalidUtf8)
    }

    /// Skips an extension's payload: any extension means "not known yet".
    fn ext(&mut self, len: usize) -> Result<Value, ProtocolError> {
        self.take(1)?; // the type
        self.take(len)?;
        Ok(Value::Unknown)
    }

    /// At most as many elements as bytes remain, since each takes at least one.
    fn capacity(&self, len: usize) -> usize {
        len.min(self.bytes.len() - self.pos)
    }

    fn list(&mut self, len: usize, depth: usize) -> Result<Value, ProtocolError> {
        let mut items = Vec::with_capacity(self.capacity(len));
        for _ in 0..len {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::List(items))
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<Value, ProtocolError> {
        let mut map = BTreeMap::new();
        for _ in 0..len {
            let key = match self.u8()? {
                m @ 0xa0..=0xbf => self.string(usize::from(m & 0x1f))?,
                0xd9 => {
                    let n = self.len(1)?;
                    self.string(n)?
                }
                0xda => {
                    let n = self.len(2)?;
                    self.string(n)?
                }
                0xdb => {
                    let n = self.len(4)?;
                    self.string(n)?
                }
                _ => return Err(ProtocolError::NonStringKey),
            };
            let value = self.value(depth + 1)?;
            map.insert(key, value);
        }
        Ok(Value::Map(map))
    }

    fn value(&mut self, depth: usize) -> Result<Value, ProtocolError> {
        if depth > MAX_NESTING {
            return Err(ProtocolError::TooDeep(MAX_NESTING));
        }
        let int = |i: i64| Value::Number(Number::Int(i));
        Ok(match self.u8()? {
            m @ 0x00..=0x7f => int(i64::from(m)),
            m @ 0x80..=0x8f => return self.map(usize::from(m & 0x0f), depth),
            m @ 0x90..=0x9f => return self.list(usize::from(m & 0x0f), depth),
            m @ 0xa0..=0xbf => Value::String(self.string(usize::from(m & 0x1f))?),
            0xc0 => Value::Null,
            0xc1 => return Err(ProtocolError::Msgpack("reserved marker 0xc1".into())),
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4..=0xc6 => return Err(ProtocolError::UnexpectedBinary),
            0xc7 => {
                let n = self.len(1)?;
                return self.ext(n);
            }
            0xc8 => {
                let n = self.len(2)?;
                return self.ext(n);
            }
            0xc9 => {
                let n = self.len(4)?;
                return self.ext(n);
            }
            0xca => Value::Number(Number::Float(f64::from(f32::from_be_bytes(self.array()?)))),
            0xcb => Value::Number(Number::Float(f64::from_be_bytes(self.array()?))),
            0xcc => int(i64::from(self.u8()?)),
            0xcd => int(i64::from(u16::from_be_bytes(self.array()?))),
            0xce => int(i64::from(u32::from_be_bytes(self.array()?))),
            0xcf => {
                let u = u64::from_be_bytes(self.array()?);
                match i64::try_from(u) {
                    Ok(i) => int(i),
                    Err(_) => Value::Number(Number::UInt(u)),
                }
            }
            0xd0 => int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => int(i64::from_be_bytes(self.array()?)),
            // fixext 1, 2, 4, 8, 16. Ext 0 is a plain unknown; ext 12 is an
            // unknown refined with constraints (prefix, range, not-null)
            // that we have no use for. Any other extension is treated the
            // same: it can only mean "not known yet", never a concrete value.
            m @ 0xd4..=0xd8 => return self.ext(1 << (m - 0xd4)),
            0xd9 => {
                let n = self.len(1)?;
                Value::String(self.string(n)?)
            }
            0xda => {
                let n = self.len(2)?;
                Value::String(self.string(n)?)
            }
            0xdb => {
                let n = self.len(4)?;
                Value::String(self.string(n)?)
            }
            0xdc => {
                let n = self.len(2)?;
                return self.list(n, depth);
            }
            0xdd => {
                let n = self.len(4)?;
                return self.list(n, depth);
            }
            0xde => {
                let n = self.len(2)?;
                return self.map(n, depth);
            }
            0xdf => {
                let n = self.len(4)?;
                return self.map(n, depth);
            }
            m @ 0xe0..=0xff => int(i64::from(m as i8)),
        })
    }
}

/// Encodes a value the way Terraform expects to read it back, in the
/// smallest msgpack form of each value.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    // rmp's errors are its writer's, and writing into a Vec cannot fail.
    let _ = try_write_value(out, value);
}

/// Each value in the smallest msgpack form `rmp` picks for it.
fn try_write_value(out: &mut Vec<u8>, value: &Value) -> std::io::Result<()> {
    use rmp::encode;
    match value {
        Value::Null => encode::write_nil(out)?,
        // fixext1, type 0, one zero byte: `d4 00 00`, cty's plain unknown.
        Value::Unknown => {
            encode::write_ext_meta(out, 1, UNKNOWN_EXT)?;
            out.push(0x00);
        }
        Value::Bool(b) => encode::write_bool(out, *b)?,
        Value::Number(Number::Int(i)) => {
            encode::write_sint(out, *i)?;
        }
        Value::Number(Number::UInt(u)) => {
            encode::write_uint(out, *u)?;
        }
        Value::Number(Number::Float(f)) => encode::write_f64(out, *f)?,
        // cty reads a msgpack string where a number is due as decimal text.
        Value::Number(Number::Text(t)) => encode::write_str(out, t)?,
        Value::String(s) => encode::write_str(out, s)?,
        Value::List(items) => {
            encode::write_array_len(out, len32(items.len()))?;
            for item in items {
                try_write_value(out, item)?;
            }
        }
        Value::Map(map) => {
            encode::write_map_len(out, len32(map.len()))?;
            for (k, v) in map {
                encode::write_str(out, k)?;
                try_write_value(out, v)?;
            }
        }
    }
    Ok(())
}

/// A Terraform value is far below 4 Gi elements; saturate rather than wrap.
fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Decodes a `DynamicValue` from Terraform. Terraform sends msgpack; the
/// JSON field is a fallback for callers that only fill that in. Neither set
/// means the value is absent, which Terraform treats as null.
pub fn decode_dynamic(dv: &DynamicValue) -> Result<Value, ProtocolError> {
    if !dv.msgpack.is_empty() {
        return decode(&dv.msgpack);
    }
    if !dv.json.is_empty() {
        return decode_json(&dv.json);
    }
    Ok(Value::Null)
}

/// Decodes a value in Terraform's JSON form, as it stores managed resource
/// state and hands it back to `UpgradeResourceState` in `RawState.json`.
pub fn decode_json(bytes: &[u8]) -> Result<Value, ProtocolError> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ProtocolError::Json(e.to_string()))?;
    from_json(json, 0)
}

/// Wraps a value for a response; we always answer in msgpack.
pub fn to_dynamic(value: &Value) -> DynamicValue {
    DynamicValue {
        msgpack: encode(value),
        json: Vec::new(),
    }
}

fn from_json(json: serde_json::Value, depth: usize) -> Result<Value, ProtocolError> {
    use serde_json::Value as J;
    if depth > MAX_NESTING {
        return Err(ProtocolError::TooDeep(MAX_NESTING));
    }
    Ok(match json {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => Value::Number(if let Some(i) = n.as_i64() {
            Number::Int(i)
        } else if let Some(u) = n.as_u64() {
            Number::UInt(u)
        } else if let Some(f) = n.as_f64() {
            Number::Float(f)
        } else {
            Number::Text(n.to_string())
        }),
        J::String(s) => Value::String(s),
        J::Array(items) => Value::List(
            items
                .into_iter()
                .map(|v| from_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        J::Object(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| Ok((k, from_json(v, depth + 1)?)))
                .collect::<Result<_, ProtocolError>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(v: Value) {
        let bytes = encode(&v);
        assert_eq!(decode(&bytes), Ok(v));
    }

    #[test]
    fn every_variant_round_trips() {
        roundtrip(Value::Null);
        roundtrip(Value::Unknown);
        roundtrip(Value::Bool(true));
        roundtrip(Value::Bool(false));
        roundtrip(Value::from(0));
        roundtrip(Value::from(-1));
        roundtrip(Value::from(i64::MIN));
        roundtrip(Value::from(i64::MAX));
        roundtrip(Value::Number(Number::UInt(u64::MAX)));
        roundtrip(Value::from(1.5));
        roundtrip(Value::from("héllo"));
        roundtrip(Value::from(""));
        roundtrip(Value::List(vec![]));
        roundtrip(Value::List(vec![
            Value::from(1),
            Value::Null,
            Value::Unknown,
        ]));
        roundtrip(Value::Map(BTreeMap::new()));
        roundtrip(Value::object([
            ("id", Value::from("job-1")),
            ("nested", Value::object([("n", Value::from(3))])),
            ("list", Value::List(vec![Value::from(true)])),
        ]));
    }

    #[test]
    fn big_number_text_encodes_as_string_and_reads_back_as_number() {
        let big = Value::Number(Number::Text("123456789012345678901234567890".into()));
        let bytes = encode(&big);
        assert_eq!(bytes.first(), Some(&0xbe)); // fixstr of 30 bytes
        let back = decode(&bytes).unwrap();
        assert_eq!(back.as_str(), Some("123456789012345678901234567890"));
        assert_eq!(
            back.as_number(),
            Some(Number::Text("123456789012345678901234567890".into()))
        );
        assert_eq!(back.as_i64(), None);
        assert!(back.as_f64().is_some_and(|f| f > 1.2e29));
    }

    #[test]
    fn unknown_encodes_as_fixext1_type_zero() {
        assert_eq!(encode(&Value::Unknown), vec![0xd4, 0x00, 0x00]);
    }

    #[test]
    fn plain_and_refined_unknowns_decode_inside_object() {
        // {"a": d4 00 00, "b": ext12 with map payload {"\x02": true}}
        let refined_payload = [0x81, 0x02, 0xc3];
        let mut bytes = vec![0x82, 0xa1, b'a', 0xd4, 0x00, 0x00, 0xa1, b'b'];
        bytes.extend_from_slice(&[0xc7, refined_payload.len() as u8, 0x0c]);
        bytes.extend_from_slice(&refined_payload);
        let v = decode(&bytes).unwrap();
        assert_eq!(v.get("a"), Some(&Value::Unknown));
        assert_eq!(v.get("b"), Some(&Value::Unknown));
        assert!(!v.is_wholly_known());
        assert!(v.is_known());
    }

    #[test]
    fn numbers_arrive_as_int_float_or_string() {
        // positive fixint, int8, uint16, int64, float32, float64
        assert_eq!(decode(&[0x07]).unwrap().as_i64(), Some(7));
        assert_eq!(decode(&[0xd0, 0x9c]).unwrap().as_i64(), Some(-100));
        assert_eq!(decode(&[0xcd, 0x01, 0x00]).unwrap().as_i64(), Some(256));
        let mut i64_bytes = vec![0xd3];
        i64_bytes.extend_from_slice(&(-5_000_000_000i64).to_be_bytes());
        assert_eq!(decode(&i64_bytes).unwrap().as_i64(), Some(-5_000_000_000));
        let mut f32_bytes = vec![0xca];
        f32_bytes.extend_from_slice(&2.5f32.to_be_bytes());
        assert_eq!(decode(&f32_bytes).unwrap(), Value::from(2.5));
        let mut f64_bytes = vec![0xcb];
        f64_bytes.extend_from_slice(&30.0f64.to_be_bytes());
        let thirty = decode(&f64_bytes).unwrap();
        assert_eq!(thirty.as_i64(), Some(30));
        assert_eq!(thirty.as_f64(), Some(30.0));
        // "42" as a msgpack string, as cty may send a number
        assert_eq!(decode(&[0xa2, b'4', b'2']).unwrap().as_i64(), Some(42));
        assert_eq!(Value::from(0.5).as_i64(), None);
        assert_eq!(Value::from("abc").as_number(), None);
        assert_eq!(Value::from("inf").as_number(), None);
        let big = Value::Number(Number::UInt(u64::MAX));
        assert_eq!(big.as_i64(), None);
    }

    #[test]
    fn wholly_known_looks_through_collections() {
        let known = Value::object([("l", Value::List(vec![Value::from(1), Value::Null]))]);
        assert!(known.is_wholly_known());
        let deep = Value::object([(
            "l",
            Value::List(vec![Value::object([("x", Value::Unknown)])]),
        )]);
        assert!(deep.is_known());
        assert!(!deep.is_wholly_known());
        assert!(!Value::Unknown.is_known());
        assert!(Value::Null.is_null());
    }

    #[test]
    fn garbage_and_truncated_input_are_errors() {
        assert!(matches!(decode(&[]), Err(ProtocolError::Msgpack(_))));
        // str8 claiming 10 bytes, only 2 present
        assert!(matches!(
            decode(&[0xd9, 10, b'a', b'b']),
            Err(ProtocolError::Msgpack(_))
        ));
        // map of 2 with only one entry
        assert!(matches!(
            decode(&[0x82, 0xa1, b'a', 0x01]),
            Err(ProtocolError::Msgpack(_))
        ));
        // array32 claiming 4 billion elements with nothing after it
        assert!(decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        // truncated ext
        assert!(decode(&[0xc7, 5, 0x0c, 0x81]).is_err());
        // Text that is not msgpack: 'h' reads as fixint 104, the rest trails.
        assert_eq!(
            decode(b"hello world"),
            Err(ProtocolError::TrailingBytes(10))
        );
        // Array of 3 with one element.
        assert!(matches!(
            decode(&[0x93, 0x01]),
            Err(ProtocolError::Msgpack(_))
        ));
        // The reserved marker is never valid.
        assert!(matches!(decode(&[0xc1]), Err(ProtocolError::Msgpack(_))));
    }

    #[test]
    fn errors_never_echo_the_payload() {
        // A truncated string whose visible part looks like a secret key.
        let mut bytes = vec![0x81, 0xaa];
        bytes.extend_from_slice(b"secret_key");
        bytes.extend_from_slice(&[0xd9, 40]);
        bytes.extend_from_slice(b"SK-TOPSECRET");
        let err = decode(&bytes).unwrap_err().to_string();
        assert!(!err.contains("SK-TOPSECRET") && !err.contains("secret_key"));
        let bad_json = DynamicValue {
            msgpack: vec![],
            json: br#"{"secret_key":"SK-TOPSECRET""#.to_vec(),
        };
        let err = decode_dynamic(&bad_json).unwrap_err().to_string();
        assert!(!err.contains("SK-TOPSECRET"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert_eq!(
            decode(&[0xc0, 0xc0, 0x01]),
            Err(ProtocolError::TrailingBytes(2))
        );
    }

    #[test]
    fn non_string_keys_invalid_utf8_and_binary_are_rejected() {
        assert_eq!(
            decode(&[0x81, 0x01, 0x02]),
            Err(ProtocolError::NonStringKey)
        );
        assert_eq!(decode(&[0xa2, 0xff, 0xfe]), Err(ProtocolError::InvalidUtf8));
        assert_eq!(
            decode(&[0xc4, 0x01, 0x00]),
            Err(ProtocolError::UnexpectedBinary)
        );
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflowing_the_stack() {
        // 100k nested single-element arrays, then nil.
        let mut bytes = vec![0x91; 100_000];
        bytes.push(0xc0);
        assert_eq!(decode(&bytes), Err(ProtocolError::TooDeep(MAX_NESTING)));
        // Also through maps.
        let mut bytes = Vec::new();
        for _ in 0..10_000 {
            bytes.extend_from_slice(&[0x81, 0xa1, b'k']);
        }
        bytes.push(0xc0);
        assert_eq!(decode(&bytes), Err(ProtocolError::TooDeep(MAX_NESTING)));
    }

    #[test]
    fn nesting_up_to_the_limit_is_accepted() {
        let mut v = Value::from("leaf");
        for _ in 0..MAX_NESTING {
            v = Value::List(vec![v]);
        }
        roundtrip(v.clone());
        let too_deep = Value::List(vec![v]);
        assert_eq!(
            decode(&encode(&too_deep)),
            Err(ProtocolError::TooDeep(MAX_NESTING))
        );
    }

    #[test]
    fn dynamic_value_prefers_msgpack_then_json_then_null() {
        let both = DynamicValue {
            msgpack: encode(&Value::from("mp")),
            json: br#""js""#.to_vec(),
        };
        assert_eq!(decode_dynamic(&both), Ok(Value::from("mp")));

        let json_only = DynamicValue {
            msgpack: vec![],
            json: br#"{"job_id":"abc","n":3,"f":1.5,"l":[true,null]}"#.to_vec(),
        };
        let v = decode_dynamic(&json_only).unwrap();
        assert_eq!(v.get("job_id").and_then(Value::as_str), Some("abc"));
        assert_eq!(v.get("n").and_then(Value::as_i64), Some(3));
        assert_eq!(v.get("f"), Some(&Value::from(1.5)));
        assert_eq!(
            v.get("l"),
            Some(&Value::List(vec![Value::Bool(true), Value::Null]))
        );

        assert_eq!(decode_dynamic(&DynamicValue::default()), Ok(Value::Null));

        let bad_json = DynamicValue {
            msgpack: vec![],
            json: b"{not json".to_vec(),
        };
        assert!(matches!(
            decode_dynamic(&bad_json),
            Err(ProtocolError::Json(_))
        ));
    }

    #[test]
    fn to_dynamic_fills_msgpack_only() {
        let v = Value::object([("a", Value::from(1))]);
        let dv = to_dynamic(&v);
        assert!(dv.json.is_empty());
        assert_eq!(decode_dynamic(&dv), Ok(v));
    }

    #[test]
    fn object_keys_encode_sorted_as_terraform_does() {
        let v = Value::object([("b", Value::Null), ("a", Value::Bool(true))]);
        assert_eq!(encode(&v), vec![0x82, 0xa1, b'a', 0xc3, 0xa1, b'b', 0xc0]);
    }

    #[test]
    fn option_converts_to_null_or_value() {
        assert_eq!(Value::from(None::<&str>), Value::Null);
        assert_eq!(Value::from(Some("x")), Value::from("x"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use rmpv::Value as M;

        /// Any msgpack value rmpv can write, including what Terraform never
        /// sends: binary, odd extensions, non-string keys, duplicate keys,
        /// NaN, and nesting a little past our limit.
        fn arb_msgpack() -> impl Strategy<Value = M> {
            let leaf = prop_oneof![
                Just(M::Nil),
                any::<bool>().prop_map(M::from),
                any::<i64>().prop_map(M::from),
                any::<u64>().prop_map(M::from),
                any::<f32>().prop_map(M::F32),
                any::<f64>().prop_map(M::F64),
                any::<String>().prop_map(M::from),
                proptest::collection::vec(any::<u8>(), 0..8).prop_map(M::Binary),
                (any::<i8>(), proptest::collection::vec(any::<u8>(), 0..8))
                    .prop_map(|(t, d)| M::Ext(t, d)),
            ];
            leaf.prop_recursive(6, 48, 5, |inner| {
                let key = prop_oneof![
                    8 => "[a-z_]{0,6}".prop_map(M::from),
                    1 => any::<i64>().prop_map(M::from),
                    1 => Just(M::Nil),
                ];
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..5).prop_map(M::Array),
                    proptest::collection::vec((key, inner), 0..5).prop_map(M::Map),
                ]
            })
        }

        /// Values as our decoder produces them: a `UInt` only above
        /// `i64::MAX`, no `Text` (it travels as a string), no NaN.
        fn arb_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                Just(Value::Unknown),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                (i64::MAX as u64 + 1..=u64::MAX).prop_map(|u| Value::Number(Number::UInt(u))),
                any::<f64>()
                    .prop_filter("NaN is not equal to itself", |f| !f.is_nan())
                    .prop_map(Value::from),
                any::<String>().prop_map(Value::from),
            ];
            leaf.prop_recursive(6, 48, 5, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::List),
                    proptest::collection::btree_map(any::<String>(), inner, 0..5)
                        .prop_map(Value::Map),
                ]
            })
        }

        /// What cty means by a msgpack value, or `None` where it cannot be a
        /// Terraform value (binary, non-string keys, too deep).
        fn expected_value(raw: &M, depth: usize) -> Option<Value> {
            if depth > MAX_NESTING {
                return None;
            }
            Some(match raw {
                M::Nil => Value::Null,
                M::Boolean(b) => Value::Bool(*b),
                M::Integer(i) => match (i.as_i64(), i.as_u64()) {
                    (Some(v), _) => Value::Number(Number::Int(v)),
                    (None, Some(v)) => Value::Number(Number::UInt(v)),
                    (None, None) => return None,
                },
                M::F32(f) => Value::Number(Number::Float(f64::from(*f))),
                M::F64(f) => Value::Number(Number::Float(*f)),
                M::String(s) => Value::String(s.as_str()?.to_string()),
                M::Binary(_) => return None,
                M::Array(items) => Value::List(
                    items
                        .iter()
                        .map(|v| expected_value(v, depth + 1))
                        .collect::<Option<_>>()?,
                ),
                M::Map(entries) => {
                    let mut map = BTreeMap::new();
                    for (k, v) in entries {
                        map.insert(k.as_str()?.to_string(), expected_value(v, depth + 1)?);
                    }
                    Value::Map(map)
                }
                M::Ext(_, _) => Value::Unknown,
            })
        }

        fn as_rmpv(v: &Value) -> M {
            match v {
                Value::Null => M::Nil,
                Value::Unknown => M::Ext(0, vec![0]),
                Value::Bool(b) => M::Boolean(*b),
                Value::Number(Number::Int(i)) => M::from(*i),
                Value::Number(Number::UInt(u)) => M::from(*u),
                Value::Number(Number::Float(f)) => M::F64(*f),
                Value::Number(Number::Text(t)) => M::from(t.as_str()),
                Value::String(s) => M::from(s.as_str()),
                Value::List(items) => M::Array(items.iter().map(as_rmpv).collect()),
                Value::Map(map) => M::Map(
                    map.iter()
                        .map(|(k, v)| (M::from(k.as_str()), as_rmpv(v)))
                        .collect(),
                ),
            }
        }

        fn has_nan(v: &Value) -> bool {
            match v {
                Value::Number(Number::Float(f)) => f.is_nan(),
                Value::List(l) => l.iter().any(has_nan),
                Value::Map(m) => m.values().any(has_nan),
                _ => false,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn decoders_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
                let _ = decode(&bytes);
                let _ = decode_dynamic(&DynamicValue { msgpack: bytes.clone(), json: vec![] });
                let _ = decode_dynamic(&DynamicValue { msgpack: vec![], json: bytes });
            }

            /// Well-formed msgpack of any shape: never a panic, and whatever
            /// decodes re-encodes to itself.
            #[test]
            fn any_msgpack_decodes_or_fails_cleanly(raw in arb_msgpack(), cut in any::<proptest::sample::Index>()) {
                let mut bytes = Vec::new();
                rmpv::encode::write_value(&mut bytes, &raw).unwrap();
                if let Ok(v) = decode(&bytes) {
                    if !has_nan(&v) {
                        prop_assert_eq!(decode(&encode(&v)), Ok(v));
                    }
                }
                // The same bytes truncated anywhere: an error, never a panic.
                let at = cut.index(bytes.len());
                prop_assert!(decode(&bytes[..at]).is_err());
            }

            /// rmpv is the oracle for the decoder: what it reads from any
            /// well-formed msgpack, mapped the way cty means it, is what we
            /// read, and where that mapping refuses, we refuse too.
            #[test]
            fn decoder_agrees_with_rmpv(raw in arb_msgpack()) {
                let mut bytes = Vec::new();
                rmpv::encode::write_value(&mut bytes, &raw).unwrap();
                let expected = expected_value(&raw, 0);
                let got = decode(&bytes);
                match expected {
                    Some(v) if !has_nan(&v) => prop_assert_eq!(got, Ok(v)),
                    Some(_) => prop_assert!(got.is_ok()),
                    None => prop_assert!(got.is_err(), "{:?} decoded as {:?}", raw, got),
                }
            }

            /// rmpv is the oracle for the encoder too: the same value in
            /// rmpv's model encodes to the same bytes.
            #[test]
            fn encoder_writes_what_rmpv_writes(v in arb_value()) {
                let mut oracle = Vec::new();
                rmpv::encode::write_value(&mut oracle, &as_rmpv(&v)).unwrap();
                prop_assert_eq!(encode(&v), oracle);
            }

            #[test]
            fn our_encoding_round_trips(v in arb_value()) {
                prop_assert_eq!(decode(&encode(&v)), Ok(v.clone()));
                prop_assert_eq!(decode_dynamic(&to_dynamic(&v)), Ok(v));
            }

            #[test]
            fn number_text_reads_back_as_its_string(t in "-?[0-9]{1,40}(\\.[0-9]{1,10})?") {
                let v = Value::Number(Number::Text(t.clone()));
                prop_assert_eq!(decode(&encode(&v)), Ok(Value::String(t)));
            }

            /// Nesting through lists and objects is accepted up to the limit
            /// and refused, as TooDeep, one level past it.
            #[test]
            fn nesting_limit_is_exact(levels in proptest::collection::vec(any::<bool>(), 0..MAX_NESTING + 40)) {
                let mut bytes = Vec::new();
                for list in &levels {
                    if *list {
                        bytes.push(0x91);
                    } else {
                        bytes.extend_from_slice(&[0x81, 0xa1, b'k']);
                    }
                }
                bytes.push(0xc0);
                let got = decode(&bytes);
                if levels.len() <= MAX_NESTING {
                    prop_assert!(got.is_ok(), "{} levels: {:?}", levels.len(), got);
                } else {
                    prop_assert_eq!(got, Err(ProtocolError::TooDeep(MAX_NESTING)));
                }
            }

            /// The JSON fallback reads back what was written, where JSON can
            /// say it (unknowns and non-finite floats become null). serde_json
            /// parses floats fast rather than exactly, so they may differ in
            /// the last bit; Terraform itself always sends msgpack.
            #[test]
            fn json_fallback_round_trips(v in arb_value()) {
                let json = serde_json::to_vec(&to_json(&v)).unwrap();
                let got = decode_dynamic(&DynamicValue { msgpack: vec![], json }).unwrap();
                prop_assert!(nearly_equal(&got, &json_image(&v)), "{:?} != {:?}", got, v);
            }
        }

        fn nearly_equal(a: &Value, b: &Value) -> bool {
            match (a, b) {
                (Value::Number(Number::Float(x)), Value::Number(Number::Float(y))) => {
                    x == y || (x - y).abs() <= x.abs().max(y.abs()) * 4.0 * f64::EPSILON
                }
                (Value::List(x), Value::List(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| nearly_equal(p, q))
                }
                (Value::Map(x), Value::Map(y)) => {
                    x.len() == y.len()
                        && x.iter()
                            .zip(y)
                            .all(|((k, p), (l, q))| k == l && nearly_equal(p, q))
                }
                _ => a == b,
            }
        }

        fn json_image(v: &Value) -> Value {
            match v {
                Value::Unknown => Value::Null,
                Value::Number(Number::Float(f)) if !f.is_finite() => Value::Null,
                Value::List(l) => Value::List(l.iter().map(json_image).collect()),
                Value::Map(m) => {
                    Value::Map(m.iter().map(|(k, v)| (k.clone(), json_image(v))).collect())
                }
                other => other.clone(),
            }
        }

        fn to_json(v: &Value) -> serde_json::Value {
            match v {
                Value::Null | Value::Unknown => serde_json::Value::Null,
                Value::Bool(b) => (*b).into(),
                Value::Number(Number::Int(i)) => (*i).into(),
                Value::Number(Number::UInt(u)) => (*u).into(),
                Value::Number(Number::Float(f)) => serde_json::Number::from_f64(*f)
                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                Value::Number(Number::Text(t)) | Value::String(t) => t.clone().into(),
                Value::List(l) => l.iter().map(to_json).collect(),
                Value::Map(m) => m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect(),
            }
        }
    }
}
