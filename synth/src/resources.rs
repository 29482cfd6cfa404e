//! From yosys's cell counts to the resources a device has, and how much of each is used.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::device::{Device, Family, UsePercent};

/// What a synthesised design uses, by kind of site.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Resources {
    /// LUT4 cells (`SB_LUT4`, `LUT4`).
    pub lut4: u64,
    /// Carry cells: `SB_CARRY` (beside a LUT in the same logic cell) on iCE40, `CCU2C` (two
    /// LUT4s with their carry) on ECP5.
    pub carry: u64,
    /// Flip-flops (`SB_DFF*`, `TRELLIS_FF`).
    pub ff: u64,
    /// Multiplier blocks (`SB_MAC16`, `MULT18X18D`).
    pub dsp: u64,
    /// Block RAMs (`SB_RAM40_4K`, `DP16KD`).
    pub bram: u64,
    /// Single-port RAMs (`SB_SPRAM256KA`).
    pub spram: u64,
    /// ECP5 distributed RAM (`TRELLIS_DPR16X4`).
    pub lutram: u64,
    /// Top-level pins (port bits of the top module).
    pub io: u64,
    /// Every other cell type (ECP5 `PFUMX`/`L6MUX21` wide-function muxes, ...).
    pub other: BTreeMap<String, u64>,
}

impl Resources {
    /// Sorts yosys's `num_cells_by_type` into kinds of site.
    pub fn from_cells(family: Family, cells: &BTreeMap<String, u64>, io: u64) -> Resources {
        let mut r = Resources {
            io,
            ..Resources::default()
        };
        for (cell, &n) in cells {
            let slot = match (family, cell.as_str()) {
                (Family::Ice40, "SB_LUT4") | (Family::Ecp5, "LUT4") => &mut r.lut4,
                (Family::Ice40, "SB_CARRY") | (Family::Ecp5, "CCU2C") => &mut r.carry,
                (Family::Ice40, c) if c.starts_with("SB_DFF") => &mut r.ff,
                (Family::Ecp5, "TRELLIS_FF") => &mut r.ff,
                (Family::Ice40, "SB_MAC16") | (Family::Ecp5, "MULT18X18D") => &mut r.dsp,
                (Family::Ice40, c) if c.starts_with("SB_RAM40_4K") => &mut r.bram,
                (Family::Ecp5, "DP16KD" | "PDPW16KD") => &mut r.bram,
                (Family::Ice40, "SB_SPRAM256KA") => &mut r.spram,
                (Family::Ecp5, "TRELLIS_DPR16X4") => &mut r.lutram,
                _ => r.other.entry(cell.clone()).or_default(),
            };
            *slot += n;
        }
        r
    }

    /// LUT4 sites the logic needs: on ECP5 a `CCU2C` takes two LUT4 sites; on iCE40 a
    /// `SB_CARRY` sits beside the LUT of its logic cell. A lower bound: nextpnr may add
    /// route-through LUTs, and ECP5 distributed RAM is not counted.
    pub fn lut4_sites(&self, family: Family) -> u64 {
        match family {
            Family::Ice40 => self.lut4,
            Family::Ecp5 => self.lut4 + 2 * self.carry,
        }
    }

    /// Use of each resource the device has (or that the design needs).
    pub fn utilisation(&self, device: &Device) -> Vec<Use> {
        let c = &device.capacity;
        [
            ("LUT4", self.lut4_sites(device.family), c.lut4),
            ("FF", self.ff, c.ff),
            ("DSP", self.dsp, c.dsp),
            ("BRAM", self.bram, c.bram),
            ("SPRAM", self.spram, c.spram),
            ("I/O", self.io, c.io),
        ]
        .into_iter()
        .filter(|&(_, used, available)| used > 0 || available > 0)
        .map(|(resource, used, available)| Use::new(resource, used, available))
        .collect()
    }
}

/// How much of one resource is used.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Use {
    pub resource: &'static str,
    pub used: u64,
    pub available: u64,
    /// `used / available` in percent (none when the device has none and the design uses some).
    pub percent: UsePercent,
}

impl Use {
    pub fn new(resource: &'static str, used: u64, available: u64) -> Use {
        Use {
            resource,
            used,
            available,
            percent: UsePercent::of(used, available),
        }
    }

    pub fn fits(&self) -> bool {
        self.used <= self.available
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hgf_golden::Target;

    fn cells(list: &[(&str, u64)]) -> BTreeMap<String, u64> {
        list.iter().map(|&(c, n)| (c.to_string(), n)).collect()
    }

    #[test]
    fn ice40_cells_are_sorted_into_sites() {
        let r = Resources::from_cells(
            Family::Ice40,
            &cells(&[
                ("SB_LUT4", 100),
                ("SB_CARRY", 20),
                ("SB_DFF", 5),
                ("SB_DFFESR", 7),
                ("SB_MAC16", 3),
                ("SB_RAM40_4K", 2),
                ("SB_GB", 1),
            ]),
            19,
        );
        assert_eq!((r.lut4, r.carry, r.ff, r.dsp, r.bram), (100, 20, 12, 3, 2));
        assert_eq!(r.other["SB_GB"], 1);
        let up5k = Device::of(Target::Ice40Up5k);
        let u = r.utilisation(&up5k);
        assert_eq!(u[0], Use::new("LUT4", 100, 5280));
        assert!(u.iter().all(Use::fits));
        assert!(u.iter().any(|x| x.resource == "SPRAM"));
    }

    #[test]
    fn ecp5_carry_cells_take_two_lut_sites_and_overuse_is_seen() {
        let r = Resources::from_cells(
            Family::Ecp5,
            &cells(&[("LUT4", 10), ("CCU2C", 4), ("MULT18X18D", 30), ("PFUMX", 2)]),
            3,
        );
        assert_eq!(r.lut4_sites(Family::Ecp5), 18);
        let u = r.utilisation(&Device::of(Target::Ecp5_25k));
        let dsp = u.iter().find(|x| x.resource == "DSP").unwrap();
        assert!(!dsp.fits());
        assert!(!u.iter().any(|x| x.resource == "SPRAM"));
    }
}
