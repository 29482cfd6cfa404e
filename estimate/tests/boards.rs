//! Board presets, overrides and custom boards.

use hgf_estimate::boards::{DRAM_EFFICIENCY, PRESETS};
use hgf_estimate::{Board, EstimateError};

#[test]
fn presets_state_their_figures() {
    let boards = Board::presets();
    assert_eq!(boards.len(), PRESETS.len());
    for b in &boards {
        assert!(
            b.sustained_mb_s > 0.0 && b.sustained_mb_s <= b.peak_mb_s,
            "{b:?}"
        );
        assert!(b.clock_mhz > 0.0, "{b:?}");
        assert!(b.capacity_bytes.unwrap_or(0) > 0, "{b:?}");
        assert!(
            b.sustained_basis.starts_with("assumed:") || b.sustained_basis.starts_with("measured:"),
            "{b:?}"
        );
    }
    let arty = Board::preset("arty-a7").unwrap();
    assert_eq!(arty.sustained_mb_s, 1423.0);
    assert!(arty.sustained_basis.starts_with("measured:"));
    // The efficiency the other DRAM boards assume is the Arty's measured share of its peak.
    assert!((DRAM_EFFICIENCY * arty.peak_mb_s - 1423.0).abs() < 1e-9);
    let ulx3s = Board::preset("ulx3s").unwrap();
    assert_eq!(ulx3s.capacity_bytes, Some(32 << 20));
    let e = Board::preset("zcu104").unwrap_err();
    assert!(matches!(e, EstimateError::UnknownBoard { .. }));
    assert!(
        e.to_string()
            .contains("icebreaker, ulx3s, orangecrab, arty-a7, kv260"),
        "{e}"
    );
}

#[test]
fn overrides_replace_bandwidth_and_clock_and_say_so() {
    let base = Board::preset("orangecrab").unwrap();
    let b = base.clone().with_overrides(Some(800.0), None).unwrap();
    assert_eq!(b.sustained_mb_s, 800.0);
    assert_eq!(b.sustained_basis, "given: --bandwidth");
    assert_eq!(
        (b.clock_mhz, &b.clock_basis),
        (base.clock_mhz, &base.clock_basis)
    );
    let b = base.clone().with_overrides(None, Some(75.0)).unwrap();
    assert_eq!(
        (b.clock_mhz, b.clock_basis.as_str()),
        (75.0, "given: --clock")
    );
    assert_eq!(b.sustained_mb_s, base.sustained_mb_s);
    // Peak and capacity are the board's whatever the overrides.
    let b = base.clone().with_overrides(Some(1.0), Some(1.0)).unwrap();
    assert_eq!(
        (b.peak_mb_s, b.capacity_bytes),
        (base.peak_mb_s, base.capacity_bytes)
    );
}

#[test]
fn bad_overrides_are_refused_naming_the_option() {
    let base = Board::preset("kv260").unwrap();
    for bw in [0.0, -5.0, f64::NAN, f64::INFINITY, 2.0e6] {
        let e = base.clone().with_overrides(Some(bw), None).unwrap_err();
        assert_eq!(e.field(), Some("--bandwidth"), "{e}");
        assert!(e.to_string().contains("MB/s"), "{e}");
    }
    for clock in [0.0, -1.0, f64::NAN, 1.0e5] {
        let e = base.clone().with_overrides(None, Some(clock)).unwrap_err();
        assert_eq!(e.field(), Some("--clock"), "{e}");
        assert!(e.to_string().contains("MHz"), "{e}");
    }
    assert_eq!(
        Board::custom(100.0, 0.0).unwrap_err().field(),
        Some("--clock")
    );
    assert_eq!(
        Board::custom(-1.0, 50.0).unwrap_err().field(),
        Some("--bandwidth")
    );
}

#[test]
fn a_custom_board_has_no_capacity() {
    let b = Board::custom(250.0, 60.0).unwrap();
    assert_eq!(
        (b.sustained_mb_s, b.peak_mb_s, b.clock_mhz),
        (250.0, 250.0, 60.0)
    );
    assert_eq!(b.capacity_bytes, None);
    assert_eq!(b.bytes_per_second(), 250.0e6);
    assert_eq!(b.cycles_per_second(), 60.0e6);
}
