//! The FPGA parts behind each [`Target`]: how yosys and nextpnr address them, and what they
//! hold (the capacities are `hgf_estimate::device`'s, shared with the area model).

pub use hgf_estimate::device::{Capacity, Family, UsePercent};
use hgf_golden::Target;
use serde::Serialize;

/// One part in one package, as the flow uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Device {
    pub target: Target,
    pub family: Family,
    /// The vendor's part name.
    pub part: &'static str,
    /// The package nextpnr places into.
    pub package: &'static str,
    /// nextpnr's option that selects the part.
    pub nextpnr_part: &'static str,
    pub capacity: Capacity,
}

impl Device {
    /// The device of `target`. iCE40 UP5K in the SG48 package (iCEBreaker), HX8K in CT256
    /// (breakout board), ECP5-25k in CABGA256 and ECP5-85k in CABGA381 (the 85k part does not
    /// come in CABGA256).
    pub fn of(target: Target) -> Device {
        match target {
            Target::Ice40Up5k => Device {
                target,
                family: Family::Ice40,
                part: "iCE40UP5K",
                package: "sg48",
                nextpnr_part: "--up5k",
                capacity: Capacity::of(target),
            },
            Target::Ice40Hx8k => Device {
                target,
                family: Family::Ice40,
                part: "iCE40HX8K",
                package: "ct256",
                nextpnr_part: "--hx8k",
                capacity: Capacity::of(target),
            },
            Target::Ecp5_25k => Device {
                target,
                family: Family::Ecp5,
                part: "LFE5U-25F",
                package: "CABGA256",
                nextpnr_part: "--25k",
                capacity: Capacity::of(target),
            },
            Target::Ecp5_85k => Device {
                target,
                family: Family::Ecp5,
                part: "LFE5U-85F",
                package: "CABGA381",
                nextpnr_part: "--85k",
                capacity: Capacity::of(target),
            },
        }
    }

    /// The yosys synthesis command for the device and `top`. The UP5K's DSPs are inferred
    /// with `-dsp`; the HX8K has none, so its multipliers stay in LUTs. iCE40 logic is mapped
    /// by ABC9 with the part's timing model (`-device u` / `hx`) and with the flip-flops
    /// visible to it (`-dff`): on the up5k core this packs into about 10% fewer logic cells
    /// than the default ABC mapping (6,862 -> 6,187 ICESTORM_LC, docs/results.md).
    pub fn synth_command(&self, top: &str) -> String {
        let ice40_mapping = match self.target {
            Target::Ice40Up5k => "-abc9 -dff -device u",
            _ => "-abc9 -dff -device hx",
        };
        match self.family {
            Family::Ice40 if self.capacity.dsp > 0 => {
                format!("synth_ice40 -dsp {ice40_mapping} -top {top}")
            }
            Family::Ice40 => format!("synth_ice40 {ice40_mapping} -top {top}"),
            Family::Ecp5 => format!("synth_ecp5 -top {top}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_device_of_its_family() {
        for target in Target::ALL {
            let d = Device::of(target);
            assert_eq!(d.target, target);
            let ice40 = target.name().starts_with("ice40");
            assert_eq!(d.family == Family::Ice40, ice40);
            assert!(d.capacity.lut4 > 0 && d.capacity.ff > 0 && d.capacity.io > 0);
        }
        assert!(Device::of(Target::Ice40Up5k)
            .synth_command("t")
            .contains("-dsp"));
        assert!(!Device::of(Target::Ice40Hx8k)
            .synth_command("t")
            .contains("-dsp"));
        assert!(Device::of(Target::Ice40Up5k)
            .synth_command("t")
            .contains("-abc9 -dff -device u"));
        assert!(Device::of(Target::Ice40Hx8k)
            .synth_command("t")
            .contains("-abc9 -dff -device hx"));
        assert_eq!(
            Device::of(Target::Ecp5_25k).synth_command("t"),
            "synth_ecp5 -top t"
        );
    }
}
