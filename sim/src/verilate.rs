//! Verilating a design at run time: Verilog text in, loaded shared library out.
//!
//! The steps, all inside a fresh cache entry (see [`crate::cache`]):
//! 1. `verilator --cc [--trace] -O3 --output-split-cfuncs 4000 … --top-module <top>
//!    --prefix V<top>` on `<top>.v`, with `WIDTH` waived on the lines of its casts only
//!    (`<top>.vlt`, [`hgf_hdl::width_waiver`]);
//! 2. read the C++ file list and the `VM_*` switches from the generated `V<top>_classes.mk`;
//! 3. read the ports from `V<top>.h` and generate the `extern "C"` shim;
//! 4. compile the Verilator runtime (`VM_GLOBAL_*`) once per toolchain and flag set, in an
//!    entry of its own that every design shares;
//! 5. compile the model and the shim (two unity files, as Verilator's own makefile does,
//!    several `g++` at a time) and link `libV<top>.so`.
//!
//! Every tool's output is kept in the entry's `logs/`. Doing this at run time rather than in
//! a `build.rs` lets each test or command verilate exactly the designs (and configurations) it
//! needs, and the cache makes the second run cost only a `dlopen`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hgf_hdl::width_waiver::{waiver_file, waiver_file_name};

use crate::cache::{default_cache_root, ensure_entry, CacheOutcome};
use crate::error::SimError;
use crate::ffi::{library_path, Loaded};
use crate::hash::Fnv128;
use crate::mk;
use crate::ports::{parse_header, Port};
use crate::shim;
use crate::toolchain::{toolchain, Step, Toolchain, CXX};

/// Changes whenever the layout of a cache entry or the build recipe changes, so old entries
/// are not reused.
const CACHE_FORMAT: &str = "hgf-sim cache format 3";

/// How to verilate and compile a design. Everything except `jobs` and `cache_root` is part of
/// the cache key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildOptions {
    /// Verilate with `--trace` so that [`crate::Model::trace_open`] can write a VCD. Only
    /// ask for it when a VCD is wanted: tracing support makes every `eval` do more work even
    /// while no trace is open (about 30 % more instructions per cycle on the generated
    /// core, `cargo bench -p hgf-sim --bench core_cycles`). Default `false`.
    pub trace: bool,
    /// Extra arguments for `verilator`, placed after the bridge's own (for example
    /// `-GDEPTH=4` or `-Wno-UNUSED`). Default none.
    pub verilator_args: Vec<String>,
    /// Optimisation flags for `g++` (split at whitespace, so `-O2 -g` for a profile), for the
    /// model, the shim and the runtime. `-O2` keeps a build at a few seconds while simulating
    /// about as fast as `-O3`. Default `-O2`.
    pub cxx_opt: String,
    /// How many `g++` processes run at once. Default: the number of CPUs.
    pub jobs: usize,
    /// Cache root; `None` means [`default_cache_root`] (`$HGF_SIM_CACHE`, else
    /// `target/hgf-sim-cache`). Default `None`.
    pub cache_root: Option<PathBuf>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            trace: false,
            verilator_args: Vec::new(),
            cxx_opt: "-O2".into(),
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            cache_root: None,
        }
    }
}

/// A verilated design, loaded and ready to instantiate [`crate::Model`]s.
///
/// It is `Send + Sync`: several threads may create models from one library (each model then
/// stays on its thread).
pub struct VerilatedLib {
    entry: PathBuf,
    library: PathBuf,
    outcome: CacheOutcome,
    elapsed: Duration,
    pub(crate) loaded: Arc<Loaded>,
}

impl std::fmt::Debug for VerilatedLib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerilatedLib")
            .field("top", &self.loaded.top)
            .field("entry", &self.entry)
            .field("outcome", &self.outcome)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

/// `verilog` from its first line that is neither blank nor a `//` comment: the cache key leaves out
/// the header of an emitted file, which names the git commit (`hgf_hdl::verilog::header`), so
/// that a new commit with the same design reuses the verilated build.
fn without_header(verilog: &str) -> &str {
    let mut offset = 0;
    for line in verilog.split_inclusive('\n') {
        let text = line.trim();
        if !text.is_empty() && !text.starts_with("//") {
            break;
        }
        offset += line.len();
    }
    &verilog[offset..]
}

impl VerilatedLib {
    /// Verilates `verilog` with top module `top` (or reuses the cached build of the same
    /// text, top, options and toolchain) and loads it.
    ///
    /// `top` must be a plain identifier: it names the C++ class `V<top>` and the files.
    /// Fails with [`SimError::ToolMissing`] if `verilator` or `g++` is not installed, and with
    /// [`SimError::ToolFailed`] (log path and excerpt included) if either rejects the design.
    pub fn build(verilog: &str, top: &str, opts: &BuildOptions) -> Result<Self, SimError> {
        let start = Instant::now();
        validate_top(top)?;
        let tc = toolchain()?;
        let root = opts.cache_root.clone().unwrap_or_else(default_cache_root);
        let mut key = Fnv128::new();
        key.field(CACHE_FORMAT);
        key.field(shim::ABI_VERSION.to_le_bytes());
        key.field(without_header(verilog));
        key.field(top);
        key.field([u8::from(opts.trace)]);
        key.field((opts.verilator_args.len() as u64).to_le_bytes());
        for arg in &opts.verilator_args {
            key.field(arg);
        }
        key.field(&opts.cxx_opt);
        key.field(&tc.verilator_version);
        key.field(tc.root.to_string_lossy().as_bytes());
        key.field(&tc.cxx_version);
        let (entry, outcome) = ensure_entry(&root, &key.hex(), |dir| {
            build_entry(dir, &root, verilog, top, opts, tc)
        })?;
        let library = library_path(&entry, top);
        let loaded = Loaded::open(&library, top, key.finish())?;
        Ok(Self {
            entry,
            library,
            outcome,
            elapsed: start.elapsed(),
            loaded: Arc::new(loaded),
        })
    }

    /// The top module.
    pub fn top(&self) -> &str {
        &self.loaded.top
    }

    /// The top's ports, in the order of Verilator's header (port indices).
    pub fn ports(&self) -> &[Port] {
        &self.loaded.ports
    }

    /// Whether this call built the design or found it in the cache.
    pub fn outcome(&self) -> CacheOutcome {
        self.outcome
    }

    /// `true` if this call ran Verilator and g++.
    pub fn was_built(&self) -> bool {
        self.outcome == CacheOutcome::Built
    }

    /// Wall-clock time of [`VerilatedLib::build`]: verilating and compiling on a miss,
    /// hashing and loading on a hit.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The cache entry: the Verilog, Verilator's output in `obj/`, the shim, the tool logs in
    /// `logs/`, `build.txt` and the library.
    pub fn cache_dir(&self) -> &Path {
        &self.entry
    }

    /// The loaded shared library.
    pub fn library_path(&self) -> &Path {
        &self.library
    }

    /// Whether the design was built with `--trace` (VCD output possible).
    pub fn traced(&self) -> bool {
        self.loaded.traced
    }
}

fn validate_top(top: &str) -> Result<(), SimError> {
    let invalid = |reason| {
        Err(SimError::InvalidTop {
            top: top.to_string(),
            reason,
        })
    };
    // The config's rule, so that every name a config accepts builds (issue 17).
    if !hgf_golden::config::is_module_name(top) {
        return invalid(hgf_golden::config::MODULE_NAME_RULE);
    }
    Ok(())
}

/// One `g++ -c`.
struct Unit {
    src: PathBuf,
    obj: PathBuf,
    log: PathBuf,
}

impl Unit {
    fn new(src: PathBuf, obj_dir: &Path, log_dir: &Path) -> Self {
        let stem = src
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self {
            obj: obj_dir.join(format!("{stem}.o")),
            log: log_dir.join(format!("g++-{stem}.log")),
            src,
        }
    }
}

/// Compiles `units` with `flags`, `jobs` at a time; the first failure stops the rest.
fn compile(units: &[Unit], flags: &[String], jobs: usize, top: &str) -> Result<(), SimError> {
    let next = AtomicUsize::new(0);
    let failure: Mutex<Option<SimError>> = Mutex::new(None);
    let failed = || {
        failure
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some()
    };
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, units.len().max(1)) {
            s.spawn(|| {
                while !failed() {
                    let Some(unit) = units.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let mut cmd = Command::new(CXX);
                    cmd.args(flags)
                        .arg("-c")
                        .arg(&unit.src)
                        .arg("-o")
                        .arg(&unit.obj);
                    let file = unit.src.file_name().unwrap_or_default().to_string_lossy();
                    let step = Step {
                        tool: "g++",
                        package: "g++",
                        stage: format!("compiling {file} for"),
                        top,
                        log: unit.log.clone(),
                    };
                    if let Err(e) = step.run(&mut cmd) {
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        slot.get_or_insert(e);
                        break;
                    }
                }
            });
        }
    });
    match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Fills the empty cache entry `dir` (see the module doc for the steps).
fn build_entry(
    dir: &Path,
    root: &Path,
    verilog: &str,
    top: &str,
    opts: &BuildOptions,
    tc: &Toolchain,
) -> Result<(), SimError> {
    let start = Instant::now();
    let prefix = format!("V{top}");
    let mdir = dir.join("obj");
    let logs = dir.join("logs");
    let vfile = dir.join(format!("{top}.v"));
    fs::write(&vfile, verilog).map_err(SimError::io("writing", &vfile))?;
    // `WIDTH` is waived on the lines of rust-hdl's casts only (docs/lint-waivers.md).
    let waivers = waiver_file_name(top);
    let wfile = dir.join(&waivers);
    let waiver_text = waiver_file(&[(&format!("{top}.v"), verilog)]);
    fs::write(&wfile, waiver_text).map_err(SimError::io("writing", &wfile))?;

    // 1. Verilate.
    let mut cmd = Command::new("verilator");
    cmd.current_dir(dir).arg("--cc");
    if opts.trace {
        cmd.arg("--trace");
    }
    cmd.args([
        "-O3",
        // Verilator writes the clocked logic of a design as one C++ function per region;
        // for the default core that is some 8,000 lines, which g++ compiles poorly (spills).
        // Pieces of about 4,000 statements simulate the default core about 20 % faster
        // (0.52 -> 0.63 M cycles per CPU second, `cargo bench -p hgf-sim --bench
        // core_cycles`); 300 is much slower, 10,000 loses half the gain.
        "--output-split-cfuncs",
        "4000",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        "--noassert",
        "-Wno-fatal",
        "-Wno-DECLFILENAME",
        "--top-module",
        top,
        "--prefix",
        &prefix,
        "--Mdir",
        "obj",
    ])
    .args(&opts.verilator_args)
    .arg(&waivers)
    .arg(format!("{top}.v"));
    Step {
        tool: "verilator",
        package: "verilator",
        stage: "verilating".into(),
        top,
        log: logs.join("verilator.log"),
    }
    .run(&mut cmd)?;
    let t_verilate = start.elapsed().as_secs_f64();

    // 2. What to compile, and with which switches, as Verilator states it.
    let read = |path: PathBuf| fs::read_to_string(&path).map_err(SimError::io("reading", &path));
    let mut vars = mk::parse_vars(&read(mdir.join(format!("{prefix}.mk")))?);
    vars.extend(mk::parse_vars(&read(
        mdir.join(format!("{prefix}_classes.mk")),
    )?));
    let list = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .flat_map(|n| vars.get(*n).cloned().unwrap_or_default())
            .collect()
    };
    let scalar = |name: &str| -> String {
        vars.get(name)
            .and_then(|v| v.first().cloned())
            .unwrap_or_else(|| "0".into())
    };
    let bad_output = |what, path: PathBuf, reason: String| SimError::ToolOutput {
        tool: "verilator",
        what,
        path,
        reason,
    };
    let classes_mk = mdir.join(format!("{prefix}_classes.mk"));
    if scalar("VM_SC") != "0" {
        return Err(bad_output(
            "VM_SC",
            classes_mk,
            "SystemC models are not supported".into(),
        ));
    }
    let fast_files = list(&["VM_CLASSES_FAST", "VM_SUPPORT_FAST"]);
    let slow_files = list(&["VM_CLASSES_SLOW", "VM_SUPPORT_SLOW"]);
    if fast_files.is_empty() && slow_files.is_empty() {
        return Err(bad_output(
            "model classes",
            classes_mk,
            "VM_CLASSES_* list no file".into(),
        ));
    }
    let globals = list(&["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"]);
    let include = tc.include_dir();
    let mut flags: Vec<String> = opts.cxx_opt.split_whitespace().map(String::from).collect();
    flags.extend([
        "-fPIC".into(),
        "-std=c++17".into(),
        "-w".into(),
        // Only the shim's functions are exported: two designs in one process keep their own
        // copies of the Verilator runtime.
        "-fvisibility=hidden".into(),
        "-fvisibility-inlines-hidden".into(),
    ]);
    for name in [
        "VM_COVERAGE",
        "VM_SC",
        "VM_TRACE",
        "VM_TRACE_FST",
        "VM_TRACE_VCD",
    ] {
        flags.push(format!("-D{name}={}", scalar(name)));
    }
    flags.extend(tc.cxx_flags.iter().cloned());
    if scalar("VM_TIMING") != "0" {
        flags.extend(tc.coroutine_flags.iter().cloned());
    }
    flags.push(format!("-I{}", include.display()));
    flags.push(format!("-I{}", include.join("vltstd").display()));

    // 3. Ports and shim.
    let header_path = mdir.join(format!("{prefix}.h"));
    let ports = parse_header(&read(header_path.clone())?)
        .map_err(|reason| bad_output("port declarations", header_path, reason))?;
    let shim_path = mdir.join("hgf_shim.cpp");
    fs::write(&shim_path, shim::generate(top, &ports))
        .map_err(SimError::io("writing", &shim_path))?;

    // 4. The Verilator runtime, shared by every design with the same toolchain and flags.
    let mut rt_key = Fnv128::new();
    rt_key.field(CACHE_FORMAT);
    rt_key.field(&tc.verilator_version);
    rt_key.field(tc.root.to_string_lossy().as_bytes());
    rt_key.field(&tc.cxx_version);
    for f in flags.iter().chain(&globals) {
        rt_key.field(f);
    }
    let runtime_units = |obj_dir: &Path| -> Vec<Unit> {
        globals
            .iter()
            .map(|g| {
                Unit::new(
                    include.join(format!("{g}.cpp")),
                    obj_dir,
                    &obj_dir.join("logs"),
                )
            })
            .collect()
    };
    let t_runtime = Instant::now();
    let (runtime, runtime_outcome) =
        ensure_entry(root, &format!("runtime-{}", rt_key.hex()), |rt| {
            compile(&runtime_units(rt), &flags, opts.jobs, top)
        })?;
    let t_runtime = t_runtime.elapsed().as_secs_f64();

    // 5. The model and the shim, then the library.
    let mut model_flags = flags.clone();
    model_flags.extend(list(&["VM_USER_CFLAGS"]));
    model_flags.push(format!("-I{}", mdir.display()));
    let mut units: Vec<Unit> = Vec::new();
    if scalar("VM_PARALLEL_BUILDS") == "1" {
        // `--output-split`: Verilator split a large model on purpose; compile each file.
        units.extend(
            fast_files
                .iter()
                .chain(&slow_files)
                .map(|f| Unit::new(mdir.join(format!("{f}.cpp")), &mdir, &logs)),
        );
        units.push(Unit::new(shim_path, &mdir, &logs));
    } else {
        // Otherwise Verilator's own makefile compiles one `__ALL.cpp` that includes every
        // file: parsing the Verilator headers once instead of once per file is most of the
        // time for small designs. Two such files (evaluation code, and set-up code with the
        // shim) keep two cores busy.
        let shim_file = "hgf_shim".to_string();
        for (name, files) in [
            ("hgf_all_fast.cpp", fast_files.iter().collect::<Vec<_>>()),
            (
                "hgf_all_slow.cpp",
                slow_files.iter().chain([&shim_file]).collect(),
            ),
        ] {
            let mut text = String::from("// Generated by hgf-sim: one compilation unit.\n");
            for f in files {
                let _ = writeln!(text, "#include \"{f}.cpp\"");
            }
            let path = mdir.join(name);
            fs::write(&path, text).map_err(SimError::io("writing", &path))?;
            units.push(Unit::new(path, &mdir, &logs));
        }
    }
    let t_model = Instant::now();
    compile(&units, &model_flags, opts.jobs, top)?;
    let t_model = t_model.elapsed().as_secs_f64();

    let t_link = Instant::now();
    let library = library_path(dir, top);
    let mut link = Command::new(CXX);
    link.arg("-shared")
        .arg("-fPIC")
        .arg("-o")
        .arg(&library)
        .args(units.iter().map(|u| &u.obj))
        .args(runtime_units(&runtime).iter().map(|u| u.obj.clone()))
        // Unresolved symbols fail here, with a log, rather than at dlopen.
        .arg("-Wl,-z,defs")
        .args(list(&["VM_USER_LDLIBS"]))
        .args(&tc.ldlibs);
    Step {
        tool: "g++",
        package: "g++",
        stage: "linking".into(),
        top,
        log: logs.join("link.log"),
    }
    .run(&mut link)?;
    let t_link = t_link.elapsed().as_secs_f64();
    for unit in &units {
        // The objects are inside the library now; the sources stay for reading.
        let _ = fs::remove_file(&unit.obj);
    }

    let mut manifest = format!(
        "top: {top}\nverilator: {}\nVERILATOR_ROOT: {}\ng++: {}\n\
         options: trace={} verilator_args={:?} cxx_opt={}\nruntime: {} ({:?})\n\
         build seconds: {:.2} (verilator {:.2}, runtime {:.2}, model {:.2}, link {:.2})\nports:\n",
        tc.verilator_version,
        tc.root.display(),
        tc.cxx_version,
        opts.trace,
        opts.verilator_args,
        opts.cxx_opt,
        runtime.display(),
        runtime_outcome,
        start.elapsed().as_secs_f64(),
        t_verilate,
        t_runtime,
        t_model,
        t_link,
    );
    for (i, p) in ports.iter().enumerate() {
        let _ = writeln!(
            manifest,
            "  {i:4} {:5} {:4} {} (C++ member {})",
            p.port.direction.as_str(),
            p.port.width,
            p.port.name,
            p.member
        );
    }
    let manifest_path = dir.join("build.txt");
    fs::write(&manifest_path, manifest).map_err(SimError::io("writing", &manifest_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_key_leaves_out_the_header_only() {
        let a =
            "// x: generated by hgf-hw (git 1)\n// more\n\nmodule x(a);\n// inside\nendmodule\n";
        let b = a.replace("git 1", "git 2");
        assert_eq!(without_header(a), without_header(&b));
        assert!(without_header(a).starts_with("module x(a);"));
        assert!(without_header(a).contains("// inside"));
    }

    #[test]
    fn top_names_are_checked() {
        assert!(validate_top("acc8").is_ok());
        assert!(validate_top("Top_1").is_ok());
        for bad in ["", "1x", "_x", "a$b", "a-b", "a b"] {
            assert!(
                matches!(validate_top(bad), Err(SimError::InvalidTop { .. })),
                "{bad}"
            );
        }
    }
}
