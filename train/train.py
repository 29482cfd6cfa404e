"""Trains one variant of the HGF transformer (docs/model.md) on the Shakespeare corpus.

    train.py --variant hgf --config train/configs/shakespeare.toml --steps 1500 --out out/hgf

Variants (same architecture, data, steps and seed): fp16 (dense), bitnet (ternary b1.58 with
the straight-through estimator), hgf (ternary + low-rank correction + per-projection gate,
differential attention), diff_only (dense differential attention). See ModelConfig.for_variant.
Writes OUT/model.pt (weights, config, tokenizer, metrics) and OUT/summary.json; export.py turns
an hgf or bitnet run into a docs/model.md checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import warnings

# torch warns at import when NumPy is absent; nothing here uses NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hgf_model import VARIANTS, ConfigError, HgfTransformer, ModelConfig, shakespeare_texts, split_corpus  # noqa: E402


def fail(msg: str) -> "None":
    print(f"train.py: {msg}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--variant", required=True, choices=VARIANTS)
    p.add_argument("--config", required=True, help="model config TOML (docs/model.md §M1; vocab_size optional)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=16, help="sequences per step")
    p.add_argument("--seq", type=int, default=0, help="tokens per sequence (default: context_len)")
    p.add_argument("--lr", type=float, default=2e-3, help="peak AdamW learning rate")
    p.add_argument("--warmup", type=int, default=100, help="learning-rate warm-up steps")
    p.add_argument("--gate-warmup", type=float, default=0.25,
                   help="share of the steps during which the gates learn; frozen after")
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-windows", type=int, default=64, help="fixed validation windows")
    p.add_argument("--max-chars", type=int, default=0, help="train on the first N characters only (smoke tests)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (default: torch's choice)")
    a = p.parse_args(argv)
    for name in ("steps", "batch", "eval_every", "eval_windows"):
        if getattr(a, name) < 1:
            fail(f"--{name.replace('_', '-')} must be >= 1, not {getattr(a, name)}")
    if not 0.0 <= a.gate_warmup <= 1.0:
        fail(f"--gate-warmup must be in [0, 1], not {a.gate_warmup}")
    if not (a.lr > 0 and math.isfinite(a.lr)):
        fail(f"--lr must be a positive number, not {a.lr}")
    return a


def windows(data: torch.Tensor, seq: int, n: int) -> torch.Tensor:
    """n fixed windows of seq+1 tokens spread evenly over data."""
    last = len(data) - seq - 1
    starts = torch.linspace(0, last, n).long()
    return torch.stack([data[s : s + seq + 1] for s in starts])


@torch.no_grad()
def evaluate(model, val_windows, batch) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(val_windows), batch):
        w = val_windows[i : i + batch]
        logits = model(w[:, :-1])
        total += torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1), reduction="sum"
        ).item()
        count += w[:, 1:].numel()
    model.train()
    return total / count


def main(argv=None) -> None:
    a = parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    texts = shakespeare_texts()
    vocab = sorted(set("".join(t for _, t in texts)))
    try:
        base = ModelConfig.from_toml(a.config, len(vocab))
        cfg, ternary = base.for_variant(a.variant)
    except (ConfigError, OSError, ValueError) as e:
        fail(str(e))
    seq = a.seq or cfg.context_len
    if seq > cfg.context_len:
        fail(f"--seq {seq} exceeds the model's context_len {cfg.context_len}")
    index = {ch: i for i, ch in enumerate(vocab)}
    train_text, val_text = split_corpus(texts)
    if a.max_chars:
        train_text, val_text = train_text[: a.max_chars], val_text[: max(a.max_chars // 9, 2 * seq + 2)]
    train_data = torch.tensor([index[ch] for ch in train_text], dtype=torch.long)
    val_data = torch.tensor([index[ch] for ch in val_text], dtype=torch.long)
    if len(train_data) <= seq + 1 or len(val_data) <= seq + 1:
        fail(f"the corpus slice is shorter than one window of {seq + 1} tokens")
    val_windows = windows(val_data, seq, a.eval_windows).to(device)

    model = HgfTransformer(cfg, ternary).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    gates = [p for n, p in model.named_parameters() if n.endswith("gate_logit")]
    # No weight decay: it would pull the ternary master weights (and so beta) towards zero.
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
    gate_freeze = round(a.gate_warmup * a.steps)
    gen = torch.Generator().manual_seed(a.seed)

    def lr_at(step):  # linear warm-up, cosine decay to a tenth
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        t = (step - a.warmup) / max(1, a.steps - a.warmup)
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    print(
        f"train: variant {a.variant}, {cfg.attention} attention, {'ternary' if ternary else 'dense'}, "
        f"{n_params:,} parameters, vocab {len(vocab)}, {len(train_data):,} train / {len(val_data):,} val "
        f"characters, {a.steps} steps of {a.batch}x{seq} tokens, seed {a.seed}, {device}, "
        f"{torch.get_num_threads()} threads",
        flush=True,
    )
    history = []
    start = time.time()
    model.train()
    for step in range(a.steps):
        if step == gate_freeze:
            for p in gates:  # the gates' warm-up ends: g is frozen from here on
                p.requires_grad_(False)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        starts = torch.randint(0, len(train_data) - seq - 1, (a.batch,), generator=gen)
        batch = torch.stack([train_data[s : s + seq + 1] for s in starts]).to(device)
        logits = model(batch[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        if not math.isfinite(loss.item()):
            print(f"train: step {step + 1}: the loss is {loss.item()}; stopping", flush=True)
            break
        if (step + 1) % 50 == 0 and (step + 1) % a.eval_every:
            print(f"train: step {step + 1}/{a.steps}: train loss {loss.item():.4f}, {time.time() - start:.0f} s", flush=True)
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            val = evaluate(model, val_windows, a.batch)
            elapsed = time.time() - start
            g = [round(torch.sigmoid(p).item(), 4) for p in gates]
            history.append({"step": step + 1, "train_loss": loss.item(), "val_loss": val, "seconds": elapsed})
            gate_note = f", gate mean {sum(g) / len(g):.4f}" if g else ""
            print(
                f"train: step {step + 1}/{a.steps}: train loss {loss.item():.4f}, val loss {val:.4f}, "
                f"{elapsed:.0f} s{gate_note}",
                flush=True,
            )
    wall = time.time() - start
    final_val = history[-1]["val_loss"] if history else float("nan")
    summary = {
        "variant": a.variant,
        "seed": a.seed,
        "steps": a.steps,
        "batch": a.batch,
        "seq": seq,
        "parameters": n_params,
        "val_loss": final_val,
        "wall_seconds": wall,
        "threads": torch.get_num_threads(),
        "device": device,
        "history": history,
        "args": vars(a),
    }
    os.makedirs(a.out, exist_ok=True)
    tmp = os.path.join(a.out, "model.pt.tmp")
    torch.save(
        {"variant": a.variant, "config": cfg.to_json_dict(), "ternary": ternary, "vocab": vocab,
         "state": model.state_dict(), "summary": summary, "val_text_head": val_text[: 4 * seq]},
        tmp,
    )
    os.replace(tmp, os.path.join(a.out, "model.pt"))
    with open(os.path.join(a.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print(f"train: done in {wall:.0f} s, final val loss {final_val:.4f}, wrote {a.out}/model.pt", flush=True)


if __name__ == "__main__":
    main()
