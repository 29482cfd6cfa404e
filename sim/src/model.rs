//! [`Model`]: one instance of a verilated design, driven port by port from Rust.

use std::ffi::{c_void, CString};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Arc;

use crate::error::SimError;
use crate::ffi::Loaded;
use crate::ports::{words_for, Direction, Port};
use crate::verilate::VerilatedLib;

/// Simulation time units per half clock period (a period is 10 units; Verilator's VCD
/// timescale is 1 ps, so a trace shows a 100 GHz clock: only the order of events matters).
pub const HALF_PERIOD: u64 = 5;

/// A port of one design, looked up once by name with [`Model::port`] and then used for fast
/// access. It remembers its design, so using it with a model of another design is caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortId {
    index: u32,
    width: u32,
    direction: Direction,
    design: u128,
}

impl PortId {
    /// Width in bits.
    pub fn width(self) -> u32 {
        self.width
    }

    /// Direction.
    pub fn direction(self) -> Direction {
        self.direction
    }

    /// Index in the port table ([`Model::ports`]).
    pub fn index(self) -> usize {
        self.index as usize
    }
}

/// Several inputs of at most 32 bits of one design, checked once by [`Model::input_group`]
/// and then set together by [`Model::set_group`], checks done once: for a driver that
/// writes many narrow ports per cycle, such as the lanes of a stream beat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputGroup {
    design: u128,
    indices: Vec<u32>,
    widths: Vec<u32>,
}

impl InputGroup {
    /// Number of ports.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the group has no port.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
}

/// One instance of a verilated design, with its own `VerilatedContext`.
///
/// Set inputs with [`Model::set`] / [`Model::set_wide`], propagate with [`Model::eval`] or
/// apply a clock cycle with [`Model::tick`], read with [`Model::get`] / [`Model::get_wide`].
/// Values are raw bits: a signed port reads back as its two's complement bits
/// ([`Model::get_signed`] sign-extends).
///
/// A model owns a C++ object that is not thread-safe, and the Verilator runtime keeps
/// per-thread state, so `Model` is neither `Send` nor `Sync`: create each model on the thread
/// that drives it (several threads may share one [`VerilatedLib`]). Any number of models of
/// any designs can be alive at once.
///
/// ```compile_fail,E0277
/// fn needs_send<T: Send>(_: T) {}
/// fn check(m: hgf_sim::Model) { needs_send(m) }
/// ```
pub struct Model {
    lib: Arc<Loaded>,
    handle: NonNull<c_void>,
    /// The C++ member of each port of at most 64 bits, by port index (`None` for wider
    /// ports): setting and reading a port is then a store or a load, not a call into the
    /// shim, which the co-simulation does several times per cycle.
    members: Vec<Option<Member>>,
    time: u64,
    cycles: u64,
    /// [`Model::clock_low`] was the last clock call: the next [`Model::clock_high`] is an edge.
    clock_low: bool,
    trace: Option<PathBuf>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("top", &self.lib.top)
            .field("time", &self.time)
            .field("cycles", &self.cycles)
            .field("trace", &self.trace)
            .finish_non_exhaustive()
    }
}

impl Model {
    /// A new instance of `lib`'s design, in its power-up state (Verilog `initial` blocks run
    /// at the first [`Model::eval`]). It keeps the library loaded for as long as it lives.
    pub fn new(lib: &VerilatedLib) -> Result<Self, SimError> {
        let loaded = Arc::clone(&lib.loaded);
        // SAFETY: `new` has no preconditions; it returns null if the constructor threw.
        let raw = unsafe { (loaded.fns.new)() };
        let handle = NonNull::new(raw).ok_or_else(|| SimError::Create {
            top: loaded.top.clone(),
        })?;
        let ports = loaded.ports.len();
        // Owned from here on: an error below deletes the C++ object on drop.
        let mut model = Self {
            lib: loaded,
            handle,
            members: Vec::with_capacity(ports),
            time: 0,
            cycles: 0,
            clock_low: false,
            trace: None,
        };
        for i in 0..ports {
            let bytes = model.lib.member_bytes[i];
            // SAFETY: the handle is live; any index is accepted.
            let addr = unsafe { (model.lib.fns.port_addr)(model.handle.as_ptr(), i as u32) };
            // Every port of at most 64 bits must have its member: reading one without it
            // would fall back to the shim's getter, which has no case for it.
            let member = Member::new(addr, bytes).map_err(|reason| SimError::ToolOutput {
                tool: "verilator",
                what: "port addresses of the shim",
                path: model.lib.path.clone(),
                reason: format!("port `{}`: {reason}", model.lib.ports[i].name),
            })?;
            model.members.push(member);
        }
        Ok(model)
    }

    /// The top module.
    pub fn top(&self) -> &str {
        &self.lib.top
    }

    /// The ports.
    pub fn ports(&self) -> &[Port] {
        &self.lib.ports
    }

    /// Looks up a port by its Verilog name (`$` included, as in `accs$0`).
    pub fn port(&self, name: &str) -> Result<PortId, SimError> {
        let found = self.lib.ports.iter().position(|p| p.name == name);
        match found {
            Some(i) => {
                let p = &self.lib.ports[i];
                Ok(PortId {
                    index: i as u32,
                    width: p.width,
                    direction: p.direction,
                    design: self.lib.design,
                })
            }
            None => Err(SimError::UnknownPort {
                top: self.lib.top.clone(),
                name: name.to_string(),
                available: self
                    .lib
                    .ports
                    .iter()
                    .map(|p| format!("{}[{}] {}", p.name, p.width, p.direction.as_str()))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }

    fn port_name(&self, port: PortId) -> String {
        self.port_name_at(port.index)
    }

    fn port_name_at(&self, index: u32) -> String {
        self.lib
            .ports
            .get(index as usize)
            .map_or_else(|| format!("#{index}"), |p| p.name.clone())
    }

    fn check_settable(&self, port: PortId) -> Result<(), SimError> {
        if port.design != self.lib.design {
            return Err(SimError::ForeignPort {
                top: self.lib.top.clone(),
                port: format!("#{}", port.index),
            });
        }
        if !port.direction.is_settable() {
            return Err(SimError::NotAnInput {
                top: self.lib.top.clone(),
                port: self.port_name(port),
            });
        }
        Ok(())
    }

    /// Sets an input to `value` (zero-extended to the port's width).
    ///
    /// A `value` with a one bit at or above the port's width is rejected with
    /// [`SimError::ValueTooWide`] (never truncated), as is an output port
    /// ([`SimError::NotAnInput`]) or a port of another design ([`SimError::ForeignPort`]).
    /// The new value takes effect at the next [`Model::eval`] or [`Model::tick`].
    pub fn set(&mut self, port: PortId, value: u64) -> Result<(), SimError> {
        self.check_settable(port)?;
        let needed = 64 - value.leading_zeros();
        if needed > port.width {
            return Err(SimError::ValueTooWide {
                port: self.port_name(port),
                width: port.width,
                needed,
            });
        }
        let words = words_for(port.width);
        let mut buf = [0u32; 4];
        buf[0] = value as u32;
        buf[1] = (value >> 32) as u32;
        if words <= buf.len() {
            self.raw_set(port, &buf)
        } else {
            let mut wide = vec![0u32; words];
            wide[..2].copy_from_slice(&buf[..2]);
            self.raw_set(port, &wide)
        }
    }

    /// Sets an input of any width from 32-bit words, least significant first. Missing words
    /// are zero; a one bit at or above the port's width is rejected with
    /// [`SimError::ValueTooWide`].
    pub fn set_wide(&mut self, port: PortId, words: &[u32]) -> Result<(), SimError> {
        self.check_settable(port)?;
        let needed = words
            .iter()
            .rposition(|&w| w != 0)
            .map_or(0, |i| 32 * i as u32 + 32 - words[i].leading_zeros());
        if needed > port.width {
            return Err(SimError::ValueTooWide {
                port: self.port_name(port),
                width: port.width,
                needed,
            });
        }
        let n = words_for(port.width);
        if words.len() >= n {
            self.raw_set(port, &words[..n])
        } else {
            let mut padded = vec![0u32; n];
            padded[..words.len()].copy_from_slice(words);
            self.raw_set(port, &padded)
        }
    }

    /// Checks `ports` once for [`Model::set_group`]: each must be an input of this design
    /// and at most 32 bits wide ([`SimError::NotAnInput`], [`SimError::ForeignPort`], or
    /// [`SimError::Driver`] naming a wider port).
    pub fn input_group(&self, ports: &[PortId]) -> Result<InputGroup, SimError> {
        for &port in ports {
            self.check_settable(port)?;
            if port.width > 32 {
                return Err(SimError::Driver(format!(
                    "port `{}` is {} bits wide; an input group holds ports of at most 32 bits \
                     (set it with set_wide)",
                    self.port_name(port),
                    port.width
                )));
            }
        }
        Ok(InputGroup {
            design: self.lib.design,
            indices: ports.iter().map(|p| p.index).collect(),
            widths: ports.iter().map(|p| p.width).collect(),
        })
    }

    /// Sets the inputs of `group`, `values[i]` to its `i`-th port, each a store into the
    /// model. As [`Model::set`], a value with a one bit at or above its port's width is
    /// rejected with [`SimError::ValueTooWide`] (and nothing is set); a group of another
    /// design with [`SimError::ForeignPort`], and a wrong number of values with
    /// [`SimError::Driver`].
    pub fn set_group(&mut self, group: &InputGroup, values: &[u32]) -> Result<(), SimError> {
        if group.design != self.lib.design {
            return Err(SimError::ForeignPort {
                top: self.lib.top.clone(),
                port: format!("group of {} ports", group.indices.len()),
            });
        }
        if values.len() != group.indices.len() {
            return Err(SimError::Driver(format!(
                "set_group: {} ports but {} values",
                group.indices.len(),
                values.len()
            )));
        }
        let too_wide = group
            .widths
            .iter()
            .zip(values)
            .position(|(&width, &value)| width < 32 && value >> width != 0);
        if let Some(k) = too_wide {
            return Err(SimError::ValueTooWide {
                port: self.port_name_at(group.indices[k]),
                width: group.widths[k],
                needed: 32 - values[k].leading_zeros(),
            });
        }
        for (&index, &value) in group.indices.iter().zip(values) {
            match self.members[index as usize] {
                // SAFETY: the member belongs to this live model (the group was checked
                // against this design's port table by `input_group`).
                Some(member) => unsafe { member.write(u64::from(value)) },
                None => {
                    return Err(SimError::NotAnInput {
                        top: self.lib.top.clone(),
                        port: self.port_name_at(index),
                    })
                }
            }
        }
        Ok(())
    }

    /// `words` holds at least the port's word count (checked by the callers).
    fn raw_set(&mut self, port: PortId, words: &[u32]) -> Result<(), SimError> {
        debug_assert!(words.len() >= words_for(port.width));
        if let Some(member) = self.members[port.index as usize] {
            let value = u64::from(words[0]) | words.get(1).map_or(0, |&w| u64::from(w) << 32);
            // SAFETY: the member belongs to this live model; the callers checked that the
            // port is an input of this design and that the value fits its width.
            unsafe { member.write(value) };
            return Ok(());
        }
        // SAFETY: the handle is live; `words` holds the port's word count; the index is in
        // range for this design (checked via `design`).
        let rc = unsafe { (self.lib.fns.set)(self.handle.as_ptr(), port.index, words.as_ptr()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(SimError::NotAnInput {
                top: self.lib.top.clone(),
                port: self.port_name(port),
            })
        }
    }

    /// Reads `port` into `out` (its word count).
    fn raw_get(&self, port: PortId, out: &mut [u32]) {
        assert!(
            port.design == self.lib.design,
            "port #{} was looked up in another design than `{}`",
            port.index,
            self.lib.top
        );
        debug_assert!(out.len() >= words_for(port.width));
        if let Some(member) = self.members[port.index as usize] {
            // SAFETY: the member belongs to this live model.
            let value = unsafe { member.read() };
            out[0] = value as u32;
            if let Some(high) = out.get_mut(1) {
                *high = (value >> 32) as u32;
            }
            return;
        }
        // SAFETY: as in `raw_set`; `get` writes exactly the port's word count.
        let rc = unsafe { (self.lib.fns.get)(self.handle.as_ptr(), port.index, out.as_mut_ptr()) };
        debug_assert_eq!(rc, 0, "the shim has no getter for port #{}", port.index);
    }

    /// The current value of a port of at most 64 bits (inputs read back what was set).
    ///
    /// # Panics
    /// If the port is wider than 64 bits (use [`Model::get_wide`]) or belongs to another
    /// design: both are errors in the calling code, not in data.
    pub fn get(&self, port: PortId) -> u64 {
        assert!(
            port.width <= 64,
            "port `{}` is {} bits wide; read it with get_wide",
            self.port_name(port),
            port.width
        );
        let mut buf = [0u32; 2];
        self.raw_get(port, &mut buf);
        u64::from(buf[0]) | (u64::from(buf[1]) << 32)
    }

    /// [`Model::get`], sign-extended from the port's width (for `signed` ports).
    ///
    /// # Panics
    /// As [`Model::get`].
    pub fn get_signed(&self, port: PortId) -> i64 {
        let bits = self.get(port);
        let shift = 64 - port.width;
        ((bits << shift) as i64) >> shift
    }

    /// The current value of a port of any width, as 32-bit words, least significant first
    /// (`ceil(width / 32)` of them).
    ///
    /// # Panics
    /// If the port belongs to another design.
    pub fn get_wide(&self, port: PortId) -> Vec<u32> {
        let mut out = vec![0u32; words_for(port.width)];
        self.raw_get(port, &mut out);
        out
    }

    /// Propagates the inputs through the design (Verilator's `eval`).
    pub fn eval(&mut self) {
        // SAFETY: the handle is live and used on its own thread.
        unsafe { (self.lib.fns.eval)(self.handle.as_ptr()) }
    }

    fn dump(&mut self) {
        if self.trace.is_some() {
            // SAFETY: the handle is live; the shim ignores dumps without an open trace.
            unsafe { (self.lib.fns.trace_dump)(self.handle.as_ptr(), self.time) }
        }
    }

    /// One clock cycle on `clock`: [`Model::clock_low`] then [`Model::clock_high`]. Inputs
    /// set before the call are sampled at the rising edge; outputs read after it show the
    /// state after the edge.
    ///
    /// `clock` must be a 1-bit input ([`SimError::NotAClock`]).
    pub fn tick(&mut self, clock: PortId) -> Result<(), SimError> {
        self.clock_low(clock)?;
        self.clock_high(clock)
    }

    /// The first half of a cycle: clock low, eval, dump, and time advances by
    /// [`HALF_PERIOD`]. Outputs read after it show the combinational response to the inputs
    /// set before it, with the registers unchanged: what a testbench samples just before the
    /// rising edge. A driver that reads outputs before each edge calls this, reads, and then
    /// [`Model::clock_high`]: two evals per cycle, as for [`Model::tick`].
    ///
    /// `clock` must be a 1-bit input ([`SimError::NotAClock`]).
    pub fn clock_low(&mut self, clock: PortId) -> Result<(), SimError> {
        self.check_clock(clock)?;
        self.set(clock, 0)?;
        self.step();
        self.clock_low = true;
        Ok(())
    }

    /// The second half of a cycle: clock high (registers load on the rising edge), eval,
    /// dump, time advances by [`HALF_PERIOD`], and [`Model::cycles`] counts one more.
    /// Without a [`Model::clock_low`] since the last rising edge the clock is already high:
    /// no register loads and no cycle is counted (the eval still settles changed inputs).
    ///
    /// `clock` must be a 1-bit input ([`SimError::NotAClock`]).
    pub fn clock_high(&mut self, clock: PortId) -> Result<(), SimError> {
        self.check_clock(clock)?;
        self.set(clock, 1)?;
        self.step();
        if std::mem::take(&mut self.clock_low) {
            self.cycles += 1;
        }
        Ok(())
    }

    fn check_clock(&self, clock: PortId) -> Result<(), SimError> {
        if clock.width != 1 || !clock.direction.is_settable() {
            return Err(SimError::NotAClock {
                top: self.lib.top.clone(),
                port: self.port_name(clock),
                width: clock.width,
                direction: clock.direction.as_str(),
            });
        }
        Ok(())
    }

    /// Eval, dump (if tracing), and advance time by [`HALF_PERIOD`]: a time step for
    /// designs without a clock, or a half cycle of a hand-driven one.
    pub fn step(&mut self) {
        self.eval();
        self.dump();
        self.time += HALF_PERIOD;
    }

    /// Clock cycles applied with [`Model::tick`] (or [`Model::clock_low`] then
    /// [`Model::clock_high`]).
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    /// Current simulation time: the VCD time stamp of the next dump. A clock cycle is
    /// `2 * HALF_PERIOD` units.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// Starts writing a VCD of every signal to `path` (created or truncated). Later
    /// [`Model::tick`]s and [`Model::step`]s are dumped. The library must have been built
    /// with [`crate::BuildOptions::trace`]; one trace at a time per model.
    pub fn trace_open(&mut self, path: impl AsRef<Path>) -> Result<(), SimError> {
        let path = path.as_ref();
        let fail = |reason: &str| SimError::Trace {
            top: self.lib.top.clone(),
            path: path.to_path_buf(),
            reason: reason.to_string(),
        };
        if let Some(open) = &self.trace {
            return Err(fail(&format!(
                "a trace to {} is already open",
                open.display()
            )));
        }
        let cpath = path_to_cstring(path).ok_or_else(|| fail("the path contains a NUL byte"))?;
        // SAFETY: the handle is live; `cpath` is NUL-terminated and outlives the call.
        let rc = unsafe { (self.lib.fns.trace_open)(self.handle.as_ptr(), cpath.as_ptr()) };
        match rc {
            0 => {
                self.trace = Some(path.to_path_buf());
                Ok(())
            }
            1 => Err(fail(
                "the design was built without tracing (BuildOptions::trace)",
            )),
            2 => Err(fail("the model already has an open trace")),
            _ => Err(fail("Verilator could not open the file for writing")),
        }
    }

    /// Writes buffered trace data to the file.
    pub fn trace_flush(&mut self) {
        // SAFETY: the handle is live; the shim ignores a model without a trace.
        unsafe { (self.lib.fns.trace_flush)(self.handle.as_ptr()) }
    }

    /// Finishes and closes the VCD (also done on drop). Returns its path, if one was open.
    pub fn trace_close(&mut self) -> Option<PathBuf> {
        // SAFETY: the handle is live; the shim ignores a model without a trace.
        unsafe { (self.lib.fns.trace_close)(self.handle.as_ptr()) }
        self.trace.take()
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle came from `new` and is deleted exactly once; `delete` closes an
        // open trace. The library stays loaded until `self.lib` drops after this.
        unsafe { (self.lib.fns.delete)(self.handle.as_ptr()) }
    }
}

/// A port's C++ member in a model: `CData`, `SData`, `IData` or `QData`, as the shim's port
/// table states it (from Verilator's header; the shim's `static_assert`s check the member's
/// type against it), at an address [`Member::new`] checked for null and alignment.
#[derive(Clone, Copy)]
enum Member {
    U8(*mut u8),
    U16(*mut u16),
    U32(*mut u32),
    U64(*mut u64),
}

impl Member {
    /// The member of `bytes` bytes at `addr`; `None` for a port without one (`bytes` 0:
    /// more than 64 bits, set and read through the shim). An address that cannot hold such
    /// a member (null or misaligned) is an error: the loads and stores would be undefined.
    fn new(addr: *mut c_void, bytes: u32) -> Result<Option<Self>, String> {
        if bytes == 0 {
            return Ok(None);
        }
        if addr.is_null() {
            return Err(format!("no address for its {bytes}-byte member"));
        }
        if addr as usize % bytes as usize != 0 {
            return Err(format!(
                "its {bytes}-byte member at {addr:p} is not aligned to {bytes} bytes"
            ));
        }
        match bytes {
            1 => Ok(Some(Member::U8(addr.cast()))),
            2 => Ok(Some(Member::U16(addr.cast()))),
            4 => Ok(Some(Member::U32(addr.cast()))),
            8 => Ok(Some(Member::U64(addr.cast()))),
            _ => Err(format!("a member of {bytes} bytes")),
        }
    }

    /// Stores `value`.
    ///
    /// # Safety
    /// The model that holds the member must be alive, and used by no other thread. `value`
    /// must fit the port's width: this is not memory safety, but Verilator's code assumes
    /// the bits above a port's width are zero.
    unsafe fn write(self, value: u64) {
        match self {
            Member::U8(p) => p.write(value as u8),
            Member::U16(p) => p.write(value as u16),
            Member::U32(p) => p.write(value as u32),
            Member::U64(p) => p.write(value),
        }
    }

    /// Loads the member.
    ///
    /// # Safety
    /// As [`Member::write`].
    unsafe fn read(self) -> u64 {
        match self {
            Member::U8(p) => u64::from(p.read()),
            Member::U16(p) => u64::from(p.read()),
            Member::U32(p) => u64::from(p.read()),
            Member::U64(p) => p.read(),
        }
    }
}

#[cfg(unix)]
fn path_to_cstring(path: &Path) -> Option<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).ok()
}

#[cfg(not(unix))]
fn path_to_cstring(path: &Path) -> Option<CString> {
    CString::new(path.to_string_lossy().into_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_need_an_aligned_address() {
        let mut word = 0u64;
        let addr: *mut c_void = (&mut word as *mut u64).cast();
        assert!(matches!(Member::new(addr, 8), Ok(Some(Member::U64(_)))));
        assert!(matches!(Member::new(addr, 1), Ok(Some(Member::U8(_)))));
        // A port of more than 64 bits has no member, whatever the address.
        assert!(matches!(Member::new(std::ptr::null_mut(), 0), Ok(None)));
        assert!(Member::new(std::ptr::null_mut(), 4).is_err());
        let odd = addr.wrapping_byte_add(1);
        assert!(Member::new(odd, 2).is_err());
        assert!(Member::new(odd, 1).is_ok());
        assert!(Member::new(addr, 3).is_err());
    }
}
