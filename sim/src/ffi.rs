//! Loading a verilated shared library and resolving its shim functions.
//!
//! The function pointers are copied out of the library once and kept next to the
//! [`libloading::Library`] that owns them; [`crate::Model`] holds an `Arc` of this struct, so
//! a library stays loaded while any model of it lives.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::{Path, PathBuf};

use libloading::Library;

use crate::error::SimError;
use crate::ports::{Direction, Port};
use crate::shim::ABI_VERSION;

type NewFn = unsafe extern "C" fn() -> *mut c_void;
type HandleFn = unsafe extern "C" fn(*mut c_void);
type TraceOpenFn = unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int;
type TraceDumpFn = unsafe extern "C" fn(*mut c_void, u64);
type SetFn = unsafe extern "C" fn(*mut c_void, u32, *const u32) -> c_int;
type GetFn = unsafe extern "C" fn(*mut c_void, u32, *mut u32) -> c_int;
type PortAddrFn = unsafe extern "C" fn(*mut c_void, u32) -> *mut c_void;
type CountFn = unsafe extern "C" fn() -> u32;
type IndexFn = unsafe extern "C" fn(u32) -> u32;
type NameFn = unsafe extern "C" fn(u32) -> *const c_char;

/// The shim functions that drive a model (see `shim.rs` for their contracts).
#[derive(Clone, Copy)]
pub(crate) struct Fns {
    pub new: NewFn,
    pub delete: HandleFn,
    pub eval: HandleFn,
    pub trace_open: TraceOpenFn,
    pub trace_dump: TraceDumpFn,
    pub trace_flush: HandleFn,
    pub trace_close: HandleFn,
    pub set: SetFn,
    pub get: GetFn,
    pub port_addr: PortAddrFn,
}

/// A loaded design library: its port table and shim functions.
pub(crate) struct Loaded {
    /// The top module.
    pub top: String,
    /// The library file.
    pub path: PathBuf,
    /// Identifies the design (its cache key); [`crate::PortId`]s carry it.
    pub design: u128,
    /// The ports, by index.
    pub ports: Vec<Port>,
    /// The size of each port's C++ member (1, 2, 4 or 8 bytes: `CData` .. `QData`), by
    /// index; 0 for a port of more than 64 bits (`VlWide`, set and read through the shim).
    pub member_bytes: Vec<u32>,
    /// Built with `--trace`.
    pub traced: bool,
    pub fns: Fns,
    /// Declared last: dropped after everything that points into it.
    _lib: Library,
}

/// Resolves `name` as a `T` (a function pointer type) in `lib`.
///
/// # Safety
/// `T` must be the true type of the symbol.
unsafe fn symbol<T: Copy>(lib: &Library, path: &Path, name: &str) -> Result<T, SimError> {
    let mut cname = name.as_bytes().to_vec();
    cname.push(0);
    lib.get::<T>(&cname)
        .map(|s| *s)
        .map_err(|error| SimError::Load {
            path: path.to_path_buf(),
            error,
        })
}

impl Loaded {
    /// Loads the library at `path`, built by this crate's shim for `top`.
    pub(crate) fn open(path: &Path, top: &str, design: u128) -> Result<Self, SimError> {
        let load_err = |error| SimError::Load {
            path: path.to_path_buf(),
            error,
        };
        // SAFETY: the library was built by this crate from Verilator output; its static
        // initialisers only set up the Verilator runtime.
        let lib = unsafe { Library::new(path) }.map_err(load_err)?;
        // SAFETY (all `symbol` calls): the types match the shim's declarations, guarded by
        // the ABI version check below, which itself has had the same signature since ABI 1.
        let abi: CountFn = unsafe { symbol(&lib, path, "hgf_sim_abi_version")? };
        let found = unsafe { abi() };
        if found != ABI_VERSION {
            return Err(SimError::AbiMismatch {
                path: path.to_path_buf(),
                found,
                expected: ABI_VERSION,
            });
        }
        let traced: CountFn = unsafe { symbol(&lib, path, "hgf_sim_traced")? };
        let count: CountFn = unsafe { symbol(&lib, path, "hgf_sim_port_count")? };
        let name: NameFn = unsafe { symbol(&lib, path, "hgf_sim_port_name")? };
        let width: IndexFn = unsafe { symbol(&lib, path, "hgf_sim_port_width")? };
        let dir: IndexFn = unsafe { symbol(&lib, path, "hgf_sim_port_dir")? };
        let bytes: IndexFn = unsafe { symbol(&lib, path, "hgf_sim_port_bytes")? };
        let mut ports = Vec::new();
        let mut member_bytes = Vec::new();
        // SAFETY: the table functions take any index and return static data.
        for i in 0..unsafe { count() } {
            let bad = |reason: String| SimError::ToolOutput {
                tool: "verilator",
                what: "port table of the shim",
                path: path.to_path_buf(),
                reason,
            };
            let name_ptr = unsafe { name(i) };
            if name_ptr.is_null() {
                return Err(bad(format!("port {i} has no name")));
            }
            // SAFETY: non-null names point to NUL-terminated literals in the library.
            let port_name = unsafe { CStr::from_ptr(name_ptr) }
                .to_string_lossy()
                .into_owned();
            let direction = Direction::from_code(unsafe { dir(i) })
                .ok_or_else(|| bad(format!("port `{port_name}` has an unknown direction")))?;
            let w = unsafe { width(i) };
            if w == 0 {
                return Err(bad(format!("port `{port_name}` has width 0")));
            }
            let b = unsafe { bytes(i) };
            let fits = match b {
                0 => w > 64,
                1 | 2 | 4 | 8 => w <= 8 * b,
                _ => false,
            };
            if !fits {
                return Err(bad(format!(
                    "port `{port_name}` ({w} bits) has a member of {b} bytes"
                )));
            }
            member_bytes.push(b);
            ports.push(Port {
                name: port_name,
                width: w,
                direction,
            });
        }
        let fns = unsafe {
            Fns {
                new: symbol(&lib, path, "hgf_sim_new")?,
                delete: symbol(&lib, path, "hgf_sim_delete")?,
                eval: symbol(&lib, path, "hgf_sim_eval")?,
                trace_open: symbol(&lib, path, "hgf_sim_trace_open")?,
                trace_dump: symbol(&lib, path, "hgf_sim_trace_dump")?,
                trace_flush: symbol(&lib, path, "hgf_sim_trace_flush")?,
                trace_close: symbol(&lib, path, "hgf_sim_trace_close")?,
                set: symbol(&lib, path, "hgf_sim_set")?,
                get: symbol(&lib, path, "hgf_sim_get")?,
                port_addr: symbol(&lib, path, "hgf_sim_port_addr")?,
            }
        };
        Ok(Self {
            top: top.to_string(),
            path: path.to_path_buf(),
            design,
            ports,
            member_bytes,
            traced: unsafe { traced() } != 0,
            fns,
            _lib: lib,
        })
    }
}

/// The path of the shared library inside a cache entry.
pub(crate) fn library_path(entry: &Path, top: &str) -> PathBuf {
    entry.join(format!("libV{top}.so"))
}
