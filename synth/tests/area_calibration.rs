//! The area model against yosys on the calibration sweep's two smallest configs, for iCE40
//! UP5K (`synth_ice40 -dsp`) and ECP5-25k (`synth_ecp5`): LUT4 sites, flip-flops, DSPs and
//! block RAMs of the wrapped core within 10% of the synthesis counts on every one (and
//! iCE40's logic cells after nextpnr's packing pass). The full
//! 25-config sweep: `cargo run --release -p hgf-synth --example calibrate` (docs/results.md).

use hgf_estimate::area::{coefficients, Resource};
use hgf_synth::calibration::{
    compare, measure, quick_sweep, Comparison, TARGETS, TOLERANCE_PERCENT,
};
use hgf_synth::{Device, Toolbox};

#[test]
fn the_area_estimate_is_within_ten_percent_of_yosys() {
    let dir = tempfile::tempdir().unwrap();
    let points = quick_sweep();
    assert_eq!(points.len(), 2);
    let tools = Toolbox::from_env();
    // One family per thread: the two syntheses of a config run side by side.
    let comparisons: Vec<Comparison> = std::thread::scope(|s| {
        let handles: Vec<_> = TARGETS
            .iter()
            .map(|&target| {
                let (points, tools, dir) = (&points, &tools, dir.path());
                s.spawn(move || {
                    points
                        .iter()
                        .map(|p| {
                            let run = dir.join(format!("{}-{target}", p.label));
                            let m = measure(p, target, &run, tools, false)
                                .unwrap_or_else(|e| panic!("{} on {target}: {e}", p.label));
                            compare(&m, coefficients(Device::of(target).family))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(comparisons.len(), 4);
    let mut failures = Vec::new();
    for c in &comparisons {
        // The structural counts are exact, not merely close.
        assert_eq!(
            c.estimate.dsp, c.yosys.dsp,
            "{} on {}: DSP",
            c.label, c.target
        );
        assert_eq!(
            c.estimate.bram, c.yosys.bram,
            "{} on {}: BRAM",
            c.label, c.target
        );
        // iCE40: the packed logic cells too (nextpnr's packing pass).
        if c.target == hgf_golden::Target::Ice40Up5k {
            let e = c.logic_cell_error_percent.expect("iCE40 runs are packed");
            if e.abs() > TOLERANCE_PERCENT {
                failures.push(format!(
                    "{} on {}: LC estimate {:?} against nextpnr {:?} ({e:+.1}%)",
                    c.label, c.target, c.estimate.logic_cells, c.yosys.logic_cells
                ));
            }
        }
        for (r, e) in Resource::ALL.iter().zip(c.error_percent) {
            if e.abs() > TOLERANCE_PERCENT {
                failures.push(format!(
                    "{} on {}: {} estimate {} against yosys {} ({e:+.1}%)",
                    c.label,
                    c.target,
                    r.name(),
                    c.estimate.get(*r),
                    c.yosys.get(*r)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "area estimate off by more than {TOLERANCE_PERCENT}%:\n{}",
        failures.join("\n")
    );
}
