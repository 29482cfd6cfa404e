#!/usr/bin/env python3
"""Soak test: random configs through `hgf cosim`, exactly as a user runs it.

    cargo build --release && python3 scripts/soak.py [CONFIGS] [SEED]

Draws CONFIGS (default 50) valid configs from SEED (default 1): d_in up to 700, d_out up to
400, rank up to 32, 1-8 array rows, 1-8 bytes of trits per row, 1-8 FP lanes, both gates,
both packings; for each, a random layer and 1-5 random tokens, without stalls (then the
cycles must equal the cycle model) or with random stalls up to 90%. Every output must be
bit-exact. Prints one line per config and exits 1 if any failed. The suite's proptests
(sim/tests/cosim.rs) cover fewer, smaller configs with edge tokens; this is the long run.
Draws the config fields independently, so some combinations are invalid: those are skipped
(counted) after `hgf` refuses them. Uses $HGF_SIM_CACHE like every hgf command.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HGF = os.path.join(ROOT, "target", "release", "hgf")


def draw(rng):
    d_in = rng.choice([rng.randint(2, 64), rng.randint(65, 700)])
    d_out = rng.choice([rng.randint(1, 48), rng.randint(49, 400)])
    packing = rng.choice(["base3", "2bit"])
    trits_per_byte = 5 if packing == "base3" else 4
    return (
        f'name = "soak_core"\nmax_d_in = {d_in}\nmax_d_out = {d_out}\n'
        f"max_rank = {rng.randint(1, min(32, d_in, d_out))}\n"
        f"array_rows = {rng.randint(1, min(8, d_out))}\n"
        f"array_inputs = {trits_per_byte * rng.randint(1, 8)}\n"
        f"fp_lanes = {rng.choice([1, 2, 4, 8])}\n"
        f"gate_multipliers = {rng.choice([1, 2])}\n"
        f"gate_shares_adder = {rng.choice(['true', 'false'])}\n"
        f'packing = "{packing}"\n'
    )


def main():
    configs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    if not os.access(HGF, os.X_OK):
        sys.exit(f"soak: {HGF} not found; run `cargo build --release` first")
    done = failed = skipped = 0
    start = time.time()
    while done < configs:
        text = draw(rng)
        stall = rng.choice([0.0, 0.0, round(rng.uniform(0.1, 0.9), 3)])
        seed, tokens = rng.randint(1, 1 << 40), rng.randint(1, 5)
        with tempfile.TemporaryDirectory(prefix="hgf-soak") as d:
            with open(os.path.join(d, "c.toml"), "w") as f:
                f.write(text)
            args = [HGF, "cosim", "--config", "c.toml", "--tokens", str(tokens),
                    "--seed", str(seed), "--stall", str(stall), "--json"]
            p = subprocess.run(args, capture_output=True, text=True, cwd=d)
        if p.returncode == 2 and "out of range" in p.stderr:
            skipped += 1
            continue
        done += 1
        try:
            v = json.loads(p.stdout)
        except ValueError:
            v = None
        ok = (p.returncode == 0 and v is not None and v["mismatches"] == 0
              and (stall > 0 or v["cycles_as_expected"]))
        shape = text.strip().replace("\n", "; ")
        if ok:
            print(f"ok {done}/{configs} ({time.time() - start:.0f} s): {shape}; stall {stall}; "
                  f"{tokens} tokens, {v['outputs_compared']} outputs", flush=True)
        else:
            failed += 1
            print(f"FAILED {done}/{configs}: {shape}; seed {seed}; stall {stall}; {tokens} "
                  f"tokens; exit {p.returncode}\n{p.stderr[-2000:]}", flush=True)
    print(f"soak: {done} configs, {failed} failed, {skipped} invalid draws skipped")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
