"""Exports a trained hgf or bitnet run to the checkpoint of docs/model.md §M10, and writes the
PyTorch reference logits of the exported model on a fixed validation snippet (the round trip
that golden/tests/model_trained.rs checks without Python).

    export.py --run out/shakespeare-hgf --out models/shakespeare-hgf.safetensors \\
              --logits models/shakespeare-hgf.logits.safetensors

Per projection: beta = mean|W| (binary32, floor 1e-5), T = clip(round(W / beta), -1, 1) as I8,
A and B as binary16 and the effective gate g = sigmoid(logit) as binary32 (hybrid kinds only);
norms binary32, embedding and head binary16; for differential attention the evaluated lambda,
lambda_init and subln. The logits file holds `tokens` (I32 [n]) and `logits` (F32 [n, vocab]):
the §M11 reference (binary64 between the binary16 storage points) of the exported weights.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys

import warnings

# torch warns at import when NumPy is absent; nothing here uses NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hgf_model import REFERENCE, TRAINING, HgfTransformer, ModelConfig, absmean_ternary  # noqa: E402

FORMAT = "hgf-model-1"
DTYPES = {torch.float16: "F16", torch.float32: "F32", torch.int8: "I8", torch.int32: "I32"}


def fail(msg: str) -> "None":
    print(f"export.py: {msg}", file=sys.stderr)
    sys.exit(2)


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    if sys.byteorder != "little":
        fail("safetensors is little-endian; this machine is not")
    """The safetensors layout (u64 header length, JSON header, raw little-endian data), written
    to a temporary file beside `path` and renamed, so no half-written file is ever left."""
    header: dict = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous().cpu()
        raw = bytes(t.reshape(-1).view(torch.uint8).tolist())  # native order: little-endian here
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def export_tensors(model: HgfTransformer) -> dict[str, torch.Tensor]:
    """The §M10 tensors of a trained ternary model, and the exported values set on its modules
    (so that the model then runs as the reference of the checkpoint)."""
    cfg = model.cfg
    out: dict[str, torch.Tensor] = {
        "embed": model.embed.detach().to(torch.float16),
        "head": model.head.detach().to(torch.float16),
        "final_norm": model.final_norm.weight.detach().float(),
    }
    for l, blk in enumerate(model.layers):
        out[f"layers.{l}.attn_norm"] = blk.attn_norm.weight.detach().float()
        out[f"layers.{l}.ffn_norm"] = blk.ffn_norm.weight.detach().float()
        if cfg.attention == "differential":
            out[f"layers.{l}.attn.lambda"] = blk.attn.lam().detach().float().reshape(())
            out[f"layers.{l}.attn.lambda_init"] = torch.tensor(blk.attn.lambda_init, dtype=torch.float32)
            out[f"layers.{l}.attn.subln"] = blk.attn.subln.weight.detach().float()
    for l, kind, proj in model.projections():
        prefix = f"layers.{l}.{'attn' if kind in ('q', 'k', 'v', 'o') else 'ffn'}.{kind}"
        t, beta = absmean_ternary(proj.weight.detach().float())
        out[f"{prefix}.T"] = t.to(torch.int8)
        out[f"{prefix}.beta"] = beta.reshape(())
        if proj.rank:
            out[f"{prefix}.A"] = proj.A.detach().to(torch.float16)
            out[f"{prefix}.B"] = proj.B.detach().to(torch.float16)
            out[f"{prefix}.gate"] = proj.gate().detach().float().reshape(())
    for name, t in out.items():
        if t.dtype == torch.float32 and not torch.isfinite(t).all():
            fail(f"tensor {name} is not finite; the run diverged")
    return out


def as_reference(model: HgfTransformer, tensors: dict[str, torch.Tensor]) -> HgfTransformer:
    """The model in binary64 with exactly the exported values (the §M11 reference)."""
    f64 = lambda name: tensors[name].to(torch.float64)  # noqa: E731
    model = model.double()
    with torch.no_grad():
        model.embed.copy_(f64("embed"))
        model.head.copy_(f64("head"))
        model.final_norm.weight.copy_(f64("final_norm"))
        for l, blk in enumerate(model.layers):
            blk.attn_norm.weight.copy_(f64(f"layers.{l}.attn_norm"))
            blk.ffn_norm.weight.copy_(f64(f"layers.{l}.ffn_norm"))
            if model.cfg.attention == "differential":
                blk.attn.exported_lambda = float(tensors[f"layers.{l}.attn.lambda"])
                blk.attn.lambda_init = float(tensors[f"layers.{l}.attn.lambda_init"])
                blk.attn.subln.weight.copy_(f64(f"layers.{l}.attn.subln"))
    for l, kind, proj in model.projections():
        prefix = f"layers.{l}.{'attn' if kind in ('q', 'k', 'v', 'o') else 'ffn'}.{kind}"
        proj.exported = {"T": f64(f"{prefix}.T"), "beta": tensors[f"{prefix}.beta"].float()}
        if proj.rank:
            proj.exported.update(A=f64(f"{prefix}.A"), B=f64(f"{prefix}.B"), g=float(tensors[f"{prefix}.gate"]))
    return model


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--run", required=True, help="a train.py output directory (holds model.pt)")
    p.add_argument("--out", required=True, help="the checkpoint to write (.safetensors)")
    p.add_argument("--logits", help="also write the reference logits on the validation snippet here")
    p.add_argument("--snippet-len", type=int, default=0, help="snippet tokens (default: context_len)")
    a = p.parse_args(argv)
    path = os.path.join(a.run, "model.pt")
    try:
        run = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, RuntimeError, EOFError) as e:
        fail(f"cannot read {path}: {e}")
    if not run["ternary"]:
        fail(f"{path} is a {run['variant']} run with dense projections; only hgf and bitnet runs export "
             "to the ternary checkpoint format")
    cfg = ModelConfig.from_dict(run["config"])
    model = HgfTransformer(cfg, True)
    model.load_state_dict(run["state"])
    model.eval()
    vocab = run["vocab"]
    tensors = export_tensors(model)
    metadata = {
        "hgf.format": FORMAT,
        "hgf.model_config": json.dumps(cfg.to_json_dict()),
        "hgf.tokenizer": json.dumps({"kind": "char", "vocab": vocab}, ensure_ascii=False),
    }
    write_safetensors(a.out, tensors, metadata)
    n_params = sum(t.numel() for t in tensors.values())
    print(f"export: wrote {a.out} ({os.path.getsize(a.out):,} bytes, {n_params:,} values)")
    gates = [float(t) for n, t in tensors.items() if n.endswith(".gate")]
    if gates:
        print(f"export: gates g min {min(gates):.4f} mean {sum(gates) / len(gates):.4f} max {max(gates):.4f}")
    zeros = [float((t == 0).float().mean()) for n, t in tensors.items() if n.endswith(".T")]
    print(f"export: share of zero trits {sum(zeros) / len(zeros):.3f}")

    if a.logits:
        n = a.snippet_len or cfg.context_len
        if not 2 <= n <= cfg.context_len:
            fail(f"--snippet-len must be in 2..={cfg.context_len}, not {n}")
        index = {ch: i for i, ch in enumerate(vocab)}
        snippet = run["val_text_head"][:n]
        if len(snippet) < n:
            fail(f"the run kept only {len(snippet)} validation characters; --snippet-len {n} is too long")
        tokens = torch.tensor([[index[ch] for ch in snippet]])
        with torch.no_grad():
            trained = model(tokens, TRAINING)[0]
            ref = as_reference(model, tensors)(tokens, REFERENCE)[0]
        ce = lambda lg: torch.nn.functional.cross_entropy(lg[:-1].double(), tokens[0, 1:]).item()  # noqa: E731
        agree = (trained.argmax(-1) == ref.argmax(-1)).float().mean().item()
        print(f"export: snippet of {n} characters: loss {ce(trained):.4f} as trained (binary32), "
              f"{ce(ref):.4f} as exported (reference); greedy agreement {agree:.3f}")
        if not torch.isfinite(ref).all() or not math.isfinite(ce(ref)):
            fail("the reference logits are not finite")
        write_safetensors(
            a.logits,
            {"tokens": tokens[0].to(torch.int32), "logits": ref.to(torch.float32)},
            {"hgf.snippet": snippet, "hgf.model": os.path.basename(a.out)},
        )
        print(f"export: wrote {a.logits}")


if __name__ == "__main__":
    main()
