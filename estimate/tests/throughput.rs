//! Tokens/s: the memory and compute bounds, which one binds, and whether the weights fit.

use hgf_estimate::{estimate, Board, Bound, Model};
use hgf_golden::HgfConfig;

/// The core of the hand calculations in tests/bandwidth.rs (R = 4, C = 40), with maxima
/// that hold every projection of the built-in models (hgf-3b's FFN, 3200 -> 8640, and its
/// rank 100).
fn core_c40() -> HgfConfig {
    HgfConfig {
        max_d_in: 8640,
        max_d_out: 8640,
        max_rank: 100,
        array_rows: 4,
        array_inputs: 40,
        ..HgfConfig::default()
    }
}

#[test]
fn the_binding_bound_switches_with_bandwidth() {
    // BitNet 2B4T on the R = 4, C = 40 core: 416,936,880 bytes and 14,405,370 cycles per token
    // in base3 (tests/bandwidth.rs). At 100 MHz the compute bound is 6.942 tokens/s; it
    // meets the memory bound at 6.942 * 416.93688 MB = 2,894 MB/s.
    let model = Model::preset("bitnet-2b4t").unwrap();
    let arty = Board::preset("arty-a7").unwrap();
    let fast = arty.clone().with_overrides(Some(10_000.0), None).unwrap();
    let est = estimate(&core_c40(), &[model], &[arty, fast]).unwrap();
    let runs = &est.models[0].boards;

    let slow = &runs[0];
    assert_eq!(slow.bound, Bound::Memory);
    assert!((slow.memory_bound_tokens_per_s - 1423e6 / 416_936_880.0).abs() < 1e-9);
    assert!((slow.compute_bound_tokens_per_s - 100e6 / 14_405_370.0).abs() < 1e-9);
    assert_eq!(slow.tokens_per_s, slow.memory_bound_tokens_per_s);
    assert!((slow.balance_mb_s - 100.0 * 416_936_880.0 / 14_405_370.0).abs() < 1e-6);
    // 417 MB of weights do not fit the Arty's 256 MiB.
    assert_eq!(slow.fits_in_memory, Some(false));

    let quick = &runs[1];
    assert_eq!(quick.bound, Bound::Compute);
    assert_eq!(quick.tokens_per_s, quick.compute_bound_tokens_per_s);
    assert!(quick.memory_bound_tokens_per_s > quick.compute_bound_tokens_per_s);
}

#[test]
fn a_faster_clock_moves_the_bound_back_to_memory() {
    let model = Model::preset("hgf-25m").unwrap();
    let kv260 = Board::preset("kv260").unwrap();
    let faster = kv260.clone().with_overrides(None, Some(400.0)).unwrap();
    let est = estimate(&HgfConfig::default(), &[model], &[kv260, faster]).unwrap();
    let runs = &est.models[0].boards;
    assert_eq!(runs[0].bound, Bound::Compute);
    assert_eq!(runs[1].bound, Bound::Memory);
    assert_eq!(runs[0].fits_in_memory, Some(true));
    assert!(
        (runs[1].compute_bound_tokens_per_s / runs[0].compute_bound_tokens_per_s - 4.0).abs()
            < 1e-12
    );
}

#[test]
fn a_custom_board_does_not_say_whether_the_model_fits() {
    let est = estimate(
        &core_c40(),
        &[Model::preset("hgf-3b").unwrap()],
        &[Board::custom(1000.0, 100.0).unwrap()],
    )
    .unwrap();
    assert_eq!(est.models[0].boards[0].fits_in_memory, None);
}

#[test]
fn text_and_json_carry_the_same_figures() {
    let est = estimate(&core_c40(), &Model::presets(), &Board::presets()).unwrap();
    let text = est.to_text();
    assert!(text.contains("416,936,880 bytes per token"), "{text}");
    for name in [
        "hgf-25m",
        "bitnet-2b4t",
        "hgf-1.2b",
        "hgf-3b",
        "icebreaker",
        "kv260",
    ] {
        assert!(text.contains(name), "{name}");
    }
    // The core is named with its maxima, and the summary is a Markdown table in its
    // packing, with the legend.
    assert!(
        text.starts_with("core: up to 8640x8640 rank 100, array 4x40"),
        "{text}"
    );
    assert!(text.contains("| model (base3) |"), "{text}");
    assert!(!text.contains("| model (2bit) |"), "{text}");
    assert!(text.contains("M: memory-bound, C: compute-bound"));
    let json = serde_json::to_value(&est).unwrap();
    assert_eq!(json["models"][1]["packing"], "base3");
    assert_eq!(
        json["models"][1]["bytes"]["per_token"]["total"],
        416_936_880u64
    );
    assert_eq!(json["models"][1]["cycles"]["per_token"], 14_405_370u64);
    assert_eq!(json["models"][1]["boards"][3]["bound"], "memory");
    assert_eq!(json["core"]["max_d_in"], 8640);
}
