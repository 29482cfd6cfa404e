//! Model files (`hgf estimate --model-file`, `hgf explore --model-file`) on arbitrary text
//! and on mutations of a valid file: a model or an error, never a panic, and a model that
//! loads can be estimated without one. Inputs are bounded; the cases take seconds.
// See: issue #17.

#[path = "../../golden/tests/common/mutate.rs"]
mod mutate;

use hgf_estimate::{estimate_each, Board, Model};
use hgf_golden::HgfConfig;
use mutate::{arbitrary_bytes, mutated, mutations, toml_value, with_value};
use proptest::prelude::*;
use proptest::sample::Index;

const VALID: &str = "name = \"m\"\ndescription = \"fuzz seed\"\nlayers = 2\n\
                     [q]\nd_in = 64\nd_out = 64\nrank = 4\n\
                     [k]\nd_in = 64\nd_out = 32\n\
                     [v]\nd_in = 64\nd_out = 32\n\
                     [o]\nd_in = 64\nd_out = 64\nrank = 4\n\
                     [gate]\nd_in = 64\nd_out = 128\n\
                     [up]\nd_in = 64\nd_out = 128\n\
                     [down]\nd_in = 128\nd_out = 64\n";

fn model_parses(text: &str) {
    if let Ok(model) = Model::from_toml_str(text) {
        let core = HgfConfig::default();
        let _ = estimate_each(&core, &[model], &[Board::preset("ulx3s").unwrap()]);
    }
}

#[test]
fn the_valid_seed_parses() {
    assert!(Model::from_toml_str(VALID).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn model_files_never_panic(
        noise in arbitrary_bytes(256),
        changes in mutations(),
        line in any::<Index>(),
        value in toml_value(),
    ) {
        model_parses(&String::from_utf8_lossy(&noise));
        model_parses(&String::from_utf8_lossy(&mutated(VALID.as_bytes(), &changes)));
        model_parses(&with_value(VALID, line, &value));
    }
}
