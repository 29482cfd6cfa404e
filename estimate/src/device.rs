//! What each [`Target`] part holds, and its FPGA family: the one table of device capacities,
//! used by the area model here and by the synthesis flow (`hgf-synth`'s `Device`), and the one
//! rule for how much of a capacity a design uses ([`UsePercent`]).

use std::fmt;

use hgf_golden::Target;
use serde::Serialize;

/// FPGA family: decides the cell library, the yosys script and the nextpnr binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Ice40,
    Ecp5,
}

impl Family {
    /// The family of `target`.
    pub fn of(target: Target) -> Family {
        match target {
            Target::Ice40Up5k | Target::Ice40Hx8k => Family::Ice40,
            Target::Ecp5_25k | Target::Ecp5_85k => Family::Ecp5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Family::Ice40 => "ice40",
            Family::Ecp5 => "ecp5",
        }
    }
}

/// What one part holds, from the vendors' data sheets (nextpnr's report gives the same
/// numbers for the sites it knows: logic cells, flip-flops, DSPs and block RAMs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Capacity {
    /// 4-input LUTs (iCE40 logic cells, ECP5 `TRELLIS_COMB` sites).
    pub lut4: u64,
    /// Flip-flops.
    pub ff: u64,
    /// Multiplier blocks: `SB_MAC16` (16x16) on iCE40, `MULT18X18D` (18x18) on ECP5.
    pub dsp: u64,
    /// Block RAMs: `SB_RAM40_4K` (4 kbit) on iCE40, `DP16KD` (18 kbit) on ECP5.
    pub bram: u64,
    /// Single-port RAMs `SB_SPRAM256KA` (256 kbit, UP5K only).
    pub spram: u64,
    /// User I/O pins of the package.
    pub io: u64,
}

impl Capacity {
    /// The capacity of `target`'s part: iCE40 UP5K (SG48), HX8K (CT256), ECP5-25k
    /// (CABGA256), ECP5-85k (CABGA381).
    pub fn of(target: Target) -> Capacity {
        match target {
            Target::Ice40Up5k => Capacity {
                lut4: 5280,
                ff: 5280,
                dsp: 8,
                bram: 30,
                spram: 4,
                io: 39,
            },
            Target::Ice40Hx8k => Capacity {
                lut4: 7680,
                ff: 7680,
                dsp: 0,
                bram: 32,
                spram: 0,
                io: 206,
            },
            Target::Ecp5_25k => Capacity {
                lut4: 24288,
                ff: 24288,
                dsp: 28,
                bram: 56,
                spram: 0,
                io: 197,
            },
            Target::Ecp5_85k => Capacity {
                lut4: 83640,
                ff: 83640,
                dsp: 156,
                bram: 208,
                spram: 0,
                io: 205,
            },
        }
    }
}

/// How much of a device resource a design uses: `used / available` in percent, rounded to
/// 0.1. None used of none available is 0 %. Any used of none available is over capacity
/// with no finite percentage: [`UsePercent::value`] is `None`, JSON shows `null`, text
/// shows `inf%` (the margin, or `used` against `available`, says by how much).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct UsePercent(Option<f64>);

impl UsePercent {
    /// The use of `available` units by `used`.
    pub fn of(used: u64, available: u64) -> UsePercent {
        UsePercent(match (used, available) {
            (0, 0) => Some(0.0),
            (_, 0) => None,
            _ => Some((1000.0 * used as f64 / available as f64).round() / 10.0),
        })
    }

    /// The percentage; `None` when something is used of nothing available.
    pub fn value(self) -> Option<f64> {
        self.0
    }
}

impl fmt::Display for UsePercent {
    /// `12.3%`, or `inf%` over nothing available; padded to the width the format asks for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => f.pad(&format!("{p:.1}%")),
            None => f.pad("inf%"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_is_rounded_to_a_tenth_of_a_percent() {
        assert_eq!(UsePercent::of(100, 5280).value(), Some(1.9));
        assert_eq!(UsePercent::of(5280, 5280).value(), Some(100.0));
        assert_eq!(UsePercent::of(30, 28).value(), Some(107.1));
        assert_eq!(format!("[{:>7}]", UsePercent::of(1, 3)), "[  33.3%]");
    }

    #[test]
    fn nothing_of_nothing_is_zero_and_something_of_nothing_has_no_percentage() {
        assert_eq!(UsePercent::of(0, 0).value(), Some(0.0));
        assert_eq!(UsePercent::of(0, 8).value(), Some(0.0));
        let over = UsePercent::of(4, 0);
        assert_eq!(over.value(), None);
        assert_eq!(format!("[{over:>7}]"), "[   inf%]");
        // Valid JSON: null, never a non-finite number.
        assert_eq!(serde_json::to_string(&over).unwrap(), "null");
        assert_eq!(serde_json::to_string(&UsePercent::of(0, 0)).unwrap(), "0.0");
    }
}
