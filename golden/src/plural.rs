//! Counts in words: "1 mismatch", "2 mismatches", "0 tokens".

/// `n` and the noun, singular for exactly one.
pub fn count(n: impl Into<u128>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1u32, "mismatch", "mismatches"), "1 mismatch");
        assert_eq!(count(0u32, "mismatch", "mismatches"), "0 mismatches");
        assert_eq!(count(2usize as u64, "FP lane", "FP lanes"), "2 FP lanes");
    }
}
