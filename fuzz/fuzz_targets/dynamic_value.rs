//! Terraform's `DynamicValue` decoder on arbitrary bytes: the msgpack path
//! (what Terraform sends), the JSON fallback, and `decode` itself. Whatever
//! decodes must survive a round trip through our own encoder.
#![no_main]

use hwjobs::protocol::tfplugin6::DynamicValue;
use hwjobs::protocol::value::{decode, decode_dynamic, encode, Number, Value};
use libfuzzer_sys::fuzz_target;

fn has_nan(v: &Value) -> bool {
    match v {
        Value::Number(Number::Float(f)) => f.is_nan(),
        Value::List(l) => l.iter().any(has_nan),
        Value::Map(m) => m.values().any(has_nan),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let from_msgpack = decode_dynamic(&DynamicValue {
        msgpack: data.to_vec(),
        json: Vec::new(),
    });
    assert_eq!(
        from_msgpack.is_ok(),
        data.is_empty() || decode(data).is_ok()
    );
    if let Ok(v) = &from_msgpack {
        if !has_nan(v) {
            assert_eq!(decode(&encode(v)).as_ref(), Ok(v));
        }
    }
    let _ = decode_dynamic(&DynamicValue {
        msgpack: Vec::new(),
        json: data.to_vec(),
    });
});
