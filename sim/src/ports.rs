//! The top module's ports, read from the header Verilator generates.
//!
//! Verilator declares every port of the top as a public member of `V<top>` with a macro that
//! states the direction, the storage and the bit range: `VL_IN8(&clock,0,0);`,
//! `VL_OUT64(&sum,39,0);`, `VL_INW(&beat,255,0,8);`. Reading those lines, rather than
//! parsing the Verilog, gives exactly the names, widths and C++ types the compiler will see,
//! whatever front-end quirks (parameters, `signed`, non-ANSI headers) the source has. The
//! member names are Verilator's encoding of the Verilog names (`a$b` becomes `a__024b`, `a__b`
//! becomes `a___05Fb`, a C++ keyword `delete` becomes `__SYM__delete`); [`decode_name`]
//! undoes it so callers use the Verilog names.

/// Which way a port carries data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Driven by the caller ([`crate::Model::set`]).
    Input,
    /// Driven by the design ([`crate::Model::get`]).
    Output,
    /// Bidirectional; readable and settable.
    InOut,
}

impl Direction {
    /// `in`, `out` or `inout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Input => "in",
            Direction::Output => "out",
            Direction::InOut => "inout",
        }
    }

    /// The code the shim's port table uses.
    pub(crate) fn code(self) -> u32 {
        match self {
            Direction::Input => 0,
            Direction::Output => 1,
            Direction::InOut => 2,
        }
    }

    pub(crate) fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(Direction::Input),
            1 => Some(Direction::Output),
            2 => Some(Direction::InOut),
            _ => None,
        }
    }

    /// Whether [`crate::Model::set`] may drive it.
    pub fn is_settable(self) -> bool {
        self != Direction::Output
    }
}

/// One port of a verilated top module.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Port {
    /// The Verilog name, `$` included (`accs$0`).
    pub name: String,
    /// Width in bits (1 for a scalar).
    pub width: u32,
    /// Direction.
    pub direction: Direction,
}

impl Port {
    /// Number of 32-bit words that hold a value of this port, least significant first.
    pub fn words(&self) -> usize {
        words_for(self.width)
    }
}

/// 32-bit words needed for `width` bits.
pub(crate) fn words_for(width: u32) -> usize {
    (width as usize).div_ceil(32)
}

/// The C++ type Verilator stores a port in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Storage {
    /// `CData`, 1 to 8 bits.
    U8,
    /// `SData`, 9 to 16 bits.
    U16,
    /// `IData`, 17 to 32 bits.
    U32,
    /// `QData`, 33 to 64 bits.
    U64,
    /// `VlWide<words>`, 65 bits and up.
    Wide(u32),
}

impl Storage {
    /// The C++ type of a member of this storage in Verilator's header.
    pub(crate) fn cpp_type(self) -> String {
        match self {
            Storage::U8 => "CData".into(),
            Storage::U16 => "SData".into(),
            Storage::U32 => "IData".into(),
            Storage::U64 => "QData".into(),
            Storage::Wide(words) => format!("VlWide<{words}>"),
        }
    }

    /// Size in bytes of a member of this storage, 0 for `VlWide` (an array of words).
    pub(crate) fn member_bytes(self) -> u32 {
        match self {
            Storage::U8 => 1,
            Storage::U16 => 2,
            Storage::U32 => 4,
            Storage::U64 => 8,
            Storage::Wide(_) => 0,
        }
    }
}

/// A port as the shim generator needs it: the C++ member name and storage too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeaderPort {
    pub port: Port,
    /// The C++ member of `V<top>` (Verilator-encoded name).
    pub member: String,
    pub storage: Storage,
}

/// Reads the port declarations of a Verilator model header (`V<top>.h`), in declaration order.
pub(crate) fn parse_header(text: &str) -> Result<Vec<HeaderPort>, String> {
    let mut ports = Vec::new();
    for (lineno, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let Some(open) = line.find("(&") else {
            continue;
        };
        let macro_name = &line[..open];
        // INOUT before IN: "VL_INOUT8" also starts with "VL_IN".
        let (direction, suffix) = if let Some(s) = macro_name.strip_prefix("VL_INOUT") {
            (Direction::InOut, s)
        } else if let Some(s) = macro_name.strip_prefix("VL_IN") {
            (Direction::Input, s)
        } else if let Some(s) = macro_name.strip_prefix("VL_OUT") {
            (Direction::Output, s)
        } else {
            continue;
        };
        let context = || format!("line {}: `{line}`", lineno + 1);
        let args = line[open + 2..]
            .strip_suffix(");")
            .ok_or_else(|| format!("{}: expected `);` at the end", context()))?;
        let args: Vec<&str> = args.split(',').map(str::trim).collect();
        let number = |i: usize| -> Result<u32, String> {
            args.get(i)
                .and_then(|a| a.parse::<u32>().ok())
                .ok_or_else(|| format!("{}: argument {} is not a number", context(), i + 1))
        };
        let member = args[0].to_string();
        if member.is_empty()
            || !member
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(format!("{}: `{member}` is not a C++ identifier", context()));
        }
        let (msb, lsb) = (number(1)?, number(2)?);
        let width = msb.abs_diff(lsb) + 1;
        let storage = match suffix {
            "8" => Storage::U8,
            "16" => Storage::U16,
            "" => Storage::U32,
            "64" => Storage::U64,
            "W" => {
                let words = number(3)?;
                if words as usize != words_for(width) {
                    return Err(format!(
                        "{}: {words} words cannot hold exactly {width} bits",
                        context()
                    ));
                }
                Storage::Wide(words)
            }
            other => {
                return Err(format!(
                    "{}: unknown port macro suffix `{other}`",
                    context()
                ))
            }
        };
        let capacity = match storage {
            Storage::U8 => 8,
            Storage::U16 => 16,
            Storage::U32 => 32,
            Storage::U64 => 64,
            Storage::Wide(words) => words * 32,
        };
        if width > capacity {
            return Err(format!(
                "{}: {width} bits do not fit the storage",
                context()
            ));
        }
        ports.push(HeaderPort {
            port: Port {
                name: decode_name(&member),
                width,
                direction,
            },
            member,
            storage,
        });
    }
    Ok(ports)
}

/// Undoes Verilator's name encoding: every `__0` followed by two hex digits stands for the
/// character with that code (`__024` is `$`, `__05F` is `_`), and names that are C++
/// keywords get a `__SYM__` prefix (`delete` becomes `__SYM__delete`). Verilator encodes
/// every double underscore of a user name, so neither form can occur literally and decoding
/// is exact.
pub fn decode_name(member: &str) -> String {
    let member = member.strip_prefix("__SYM__").unwrap_or(member);
    let bytes = member.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"__0") && i + 5 <= bytes.len() {
            let hex = &member[i + 3..i + 5];
            if hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                if let Ok(code) = u8::from_str_radix(hex, 16) {
                    out.push(code);
                    i += 5;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    // Decoded codes outside ASCII would not be valid UTF-8 on their own; keep them lossy
    // rather than fail (Verilog identifiers are ASCII).
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_verilator_member_names() {
        assert_eq!(decode_name("clock"), "clock");
        assert_eq!(decode_name("accs__0240"), "accs$0");
        assert_eq!(decode_name("q__024x"), "q$x");
        assert_eq!(decode_name("a___05Fb"), "a__b");
        assert_eq!(decode_name("x__0"), "x__0");
        assert_eq!(decode_name("x__0zz"), "x__0zz");
        assert_eq!(decode_name("__SYM__delete"), "delete");
    }

    #[test]
    fn parses_every_port_macro() {
        let header = "
    // PORTS
    VL_IN8(&clock,0,0);
    VL_IN8(&a___05Fb,2,0);
    VL_IN16(&s,15,0);
    VL_IN(&word,31,0);
    VL_OUT64(&o,39,0);
    VL_INW(&w,129,0,5);
    VL_OUTW(&ow,255,0,8);
    VL_INOUT8(&pad,0,0);
    VL_UNCOPYABLE(Vt);
";
        let ports = parse_header(header).unwrap();
        let summary: Vec<(String, u32, Direction, Storage)> = ports
            .iter()
            .map(|p| {
                (
                    p.port.name.clone(),
                    p.port.width,
                    p.port.direction,
                    p.storage,
                )
            })
            .collect();
        use Direction::*;
        assert_eq!(
            summary,
            vec![
                ("clock".into(), 1, Input, Storage::U8),
                ("a__b".into(), 3, Input, Storage::U8),
                ("s".into(), 16, Input, Storage::U16),
                ("word".into(), 32, Input, Storage::U32),
                ("o".into(), 40, Output, Storage::U64),
                ("w".into(), 130, Input, Storage::Wide(5)),
                ("ow".into(), 256, Output, Storage::Wide(8)),
                ("pad".into(), 1, InOut, Storage::U8),
            ]
        );
        assert_eq!(ports[5].member, "w");
        assert_eq!(ports[5].port.words(), 5);
    }

    #[test]
    fn rejects_malformed_port_lines() {
        assert!(parse_header("VL_INW(&w,129,0,4);").is_err());
        assert!(parse_header("VL_IN8(&w,15,0);").is_err());
        assert!(parse_header("VL_INX(&w,1,0);").is_err());
        assert!(parse_header("VL_IN8(&w,a,0);").is_err());
    }
}
