//! Variable assignments of the makefiles Verilator writes and ships.
//!
//! Which C++ files make up a model changed between Verilator 4.x, 5.006 and 5.04x (`__Slow`,
//! `__DepSet_h…`, `__ConstPool`, …), and so did the runtime files it needs. Verilator states
//! both in `V<top>_classes.mk`, and its compiler flags in `verilated.mk`; reading those keeps
//! the bridge independent of the layout of any one version.

use std::collections::BTreeMap;

/// Variables of a makefile: `NAME = a b`, `NAME += a`, `NAME := a`, `NAME ?= a`, with `\`
/// continuations and `#` comments. Conditionals are not evaluated (every assignment counts),
/// which is right for the generated files and for the unconditional `CFG_*` lines of
/// `verilated.mk` read here.
pub(crate) fn parse_vars(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut vars: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = match raw.find('#') {
            Some(i) => &raw[..i],
            None => raw,
        };
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            logical.push_str(head);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        assign(&mut vars, &logical);
        logical.clear();
    }
    assign(&mut vars, &logical);
    vars
}

fn assign(vars: &mut BTreeMap<String, Vec<String>>, line: &str) {
    let Some(eq) = line.find('=') else {
        return;
    };
    let (lhs, value) = (&line[..eq], &line[eq + 1..]);
    let (name, op) = match lhs.as_bytes().last() {
        Some(b'+') => (&lhs[..lhs.len() - 1], '+'),
        Some(b':') => (&lhs[..lhs.len() - 1], ':'),
        Some(b'?') => (&lhs[..lhs.len() - 1], '?'),
        _ => (lhs, '='),
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return;
    }
    let words = value.split_whitespace().map(str::to_string);
    match op {
        '+' => vars.entry(name.to_string()).or_default().extend(words),
        '?' => {
            vars.entry(name.to_string())
                .or_insert_with(|| words.collect());
        }
        _ => {
            vars.insert(name.to_string(), words.collect());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_and_scalars() {
        let text = "# comment\nVM_TRACE = 1\nVM_CLASSES_FAST += \\\n\tVt \\\n\tVt__DepSet \\\n\n\
                    VM_CLASSES_FAST += Vextra\nVM_GLOBAL_SLOW += \\\n\n\ninclude x.mk\n\
                    default: all\nCFG = -a -b # trailing\nCFG ?= ignored\n";
        let v = parse_vars(text);
        assert_eq!(v["VM_TRACE"], vec!["1"]);
        assert_eq!(v["VM_CLASSES_FAST"], vec!["Vt", "Vt__DepSet", "Vextra"]);
        assert!(v["VM_GLOBAL_SLOW"].is_empty());
        assert_eq!(v["CFG"], vec!["-a", "-b"]);
        assert!(!v.contains_key("default"));
    }
}
