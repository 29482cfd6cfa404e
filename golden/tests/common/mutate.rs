//! Mutations of valid files for the parsers' fuzz tests (golden/tests/parsers_fuzz.rs and
//! estimate/tests/model_file_fuzz.rs): a valid file with a few bytes flipped, set, inserted
//! or deleted, or cut short, which is how corrupted and truncated files look.

// Each test crate that includes this file uses a part of it.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;

/// One change to a file's bytes; positions are scaled to the file's length.
#[derive(Clone, Debug)]
pub enum Mutation {
    FlipBit { at: Index, bit: u8 },
    Set { at: Index, byte: u8 },
    Insert { at: Index, bytes: Vec<u8> },
    Delete { at: Index, len: usize },
    Truncate { at: Index },
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        (
            any::<Index>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<Index>(), 1usize..32).prop_map(|(at, len)| Mutation::Delete { at, len }),
        any::<Index>().prop_map(|at| Mutation::Truncate { at }),
    ]
}

/// `valid` with every mutation applied in turn.
pub fn mutated(valid: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::FlipBit { at, bit } => {
                let i = at.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
            Mutation::Set { at, byte } => {
                let i = at.index(bytes.len());
                bytes[i] = *byte;
            }
            Mutation::Insert { at, bytes: new } => {
                let i = at.index(bytes.len() + 1);
                bytes.splice(i..i, new.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let i = at.index(bytes.len());
                let end = (i + len).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Truncate { at } => {
                let i = at.index(bytes.len());
                bytes.truncate(i);
            }
        }
    }
    bytes
}

/// One to four mutations.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    proptest::collection::vec(mutation(), 1..5)
}

/// Arbitrary bytes, up to `max` of them.
pub fn arbitrary_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// Values that a TOML field can be given and that a parser must handle: out of range,
/// negative, huge, of another type, malformed.
pub fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551615".to_string()),
        Just("99999999999999999999999".to_string()),
        Just("1e300".to_string()),
        Just("nan".to_string()),
        Just("\"\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        any::<u64>().prop_map(|v| v.to_string()),
        any::<u32>().prop_map(|v| v.to_string()),
        (0u32..2048).prop_map(|v| v.to_string()),
        "[a-z0-9_\"-]{0,12}",
    ]
}

/// `text` with the value of its `line`-th `key = value` line replaced by `value`.
pub fn with_value(text: &str, line: Index, value: &str) -> String {
    let assignments: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(" = "))
        .map(|(i, _)| i)
        .collect();
    if assignments.is_empty() {
        return text.to_string();
    }
    let target = assignments[line.index(assignments.len())];
    text.lines()
        .enumerate()
        .map(|(i, l)| match (i == target, l.split_once(" = ")) {
            (true, Some((key, _))) => format!("{key} = {value}"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
