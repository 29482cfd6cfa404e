//! How values appear in summaries (text) and reports (JSON): always the exact bit pattern,
//! then the decimal reading.

use half::f16;
use serde_json::json;

/// A binary32 value as text: bits and decimal.
pub fn f32_text(v: f32) -> String {
    format!("{:#010x} ({v:e})", v.to_bits())
}

/// A binary16 value as text: bits and decimal.
pub fn f16_text(v: f16) -> String {
    format!("{:#06x} ({})", v.to_bits(), v)
}

/// A binary32 value as its bit pattern and its decimal reading; the hex is exact even where
/// JSON has no number (NaN and infinities become null).
pub fn f32_json(v: f32) -> serde_json::Value {
    json!({ "hex": format!("{:#010x}", v.to_bits()), "value": v })
}

/// A binary16 value, as [`f32_json`].
pub fn f16_json(v: f16) -> serde_json::Value {
    json!({ "hex": format!("{:#06x}", v.to_bits()), "value": v.to_f32() })
}
