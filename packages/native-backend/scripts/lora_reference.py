#!/usr/bin/env python3
"""PyTorch's LoRA merge of the data scripts/lora-device-check.mjs wrote, compared with the merge trt-refit did on the
device: python3 lora_reference.py DIR. Per case: W (as stored, read in its type) + sum(scale_i * B_i @ A_i), computed in
float32 (on CUDA when there is one, TF32 off; a conv as conv weights: up [out, r, 1, 1], down [r, in, kh, kw]), then
.to(dtype) once, and stored in the case's layout; reported: max abs and rel error, max difference in ulps (units
in the last place of the stored type), and how many elements differ. Also the same merge in float64, rounded once to
the type ("exact"): the error of ours and of PyTorch's float32 merge against it (FP32 results differ from PyTorch's
in the order of the float32 sums, so for FLOAT the comparison that matters is the distance to the exact result).
Exits 1 when a HALF / BF16 result differs from PyTorch's by more than 1 ulp, or when a FLOAT result is farther from
the exact one than twice PyTorch's own distance (plus one ulp of the largest value)."""
import json
import sys
from pathlib import Path

import numpy as np
import torch

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
dev = "cuda" if torch.cuda.is_available() else "cpu"
out = Path(sys.argv[1])
cases = json.loads((out / "manifest.json").read_text())
DT = {"FLOAT": torch.float32, "HALF": torch.float16, "BF16": torch.bfloat16}
print(f"torch {torch.__version__} on {dev} ({torch.cuda.get_device_name() if dev == 'cuda' else 'cpu'})")


def load(name, dtype, shape):
    raw = np.fromfile(out / name, dtype=np.uint8)
    if dtype == torch.float32:
        return torch.from_numpy(raw.view(np.float32).copy()).reshape(shape)
    return torch.from_numpy(raw.view(np.int16).copy()).view(dtype).reshape(shape)


def ulps(x, dtype):
    """Ordered integer codes of a float tensor, so that neighbouring values differ by 1."""
    bits = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}[dtype]
    i = x.view(bits).to(torch.int64)
    top = 1 << (32 if dtype == torch.float32 else 16) - 1
    return torch.where(i < 0, -(i + top), i)


worst = 0
failed = []
print(f"{'case':5} {'type':5} {'layout':9} {'shape':8} {'ad':>2} {'variant':9} {'max abs':>10} {'max rel':>10} {'max ulp':>7} {'differ':>7} / {'n':6} | {'ours-exact':>10} {'torch-exact':>11} {'ulp(max)':>9}")
for c in cases:
    dtype = DT[c["type"]]
    rows, cols = c["rows"], c["cols"]
    stored = (rows, cols) if c["layout"] == "rows-cols" else (cols, rows)
    base = load(f"{c['tag']}-base.bin", dtype, stored).to(dev)
    w = base.float() if c["layout"] == "rows-cols" else base.float().t()
    delta = torch.zeros(rows, cols, dtype=torch.float32, device=dev)
    delta64 = torch.zeros(rows, cols, dtype=torch.float64, device=dev)
    for k, (r, s) in enumerate(zip(c["ranks"], c["scales"])):
        a = load(f"{c['tag']}-a{k}.bin", torch.float32, (r, cols)).to(dev)
        b = load(f"{c['tag']}-b{k}.bin", torch.float32, (rows, r)).to(dev)
        if c["shape"] == "conv3x3":
            o, i, kh, kw = c["dims"]
            down = a.reshape(r, i, kh, kw)
            up = b.reshape(o, r, 1, 1)
            delta = delta + s * (up.flatten(1) @ down.flatten(1)).reshape(o, i * kh * kw)
        else:
            delta = delta + s * (b @ a)
        delta64 = delta64 + s * (b.double() @ a.double())
    ref = (w + delta).to(dtype)
    ref = ref if c["layout"] == "rows-cols" else ref.t().contiguous()
    exact = (w.double() + delta64).to(dtype)
    exact = exact if c["layout"] == "rows-cols" else exact.t().contiguous()
    torch_exact = float((ref.double() - exact.double()).abs().max())
    top = float(exact.double().abs().max())
    ulp_top = float(torch.finfo(dtype).eps) * 2.0 ** (0 if top == 0 else int(torch.floor(torch.log2(torch.tensor(top)))))
    for variant, name in c["results"].items():
        got = load(name, dtype, stored).to(dev)
        d = (got.float() - ref.float()).abs()
        rel = d / ref.float().abs().clamp_min(1e-30)
        du = (ulps(got.contiguous(), dtype) - ulps(ref.contiguous(), dtype)).abs()
        mu = int(du.max())
        ours_exact = float((got.double() - exact.double()).abs().max())
        if c["type"] == "FLOAT":
            ok = ours_exact <= 2 * torch_exact + ulp_top
        else:
            worst = max(worst, mu)
            ok = mu <= 1
        if not ok:
            failed.append(f"{c['tag']} {variant}")
        print(f"{c['tag']:5} {c['type']:5} {c['layout']:9} {c['shape']:8} {c['adapters']:>2} {variant:9} {float(d.max()):10.3e} {float(rel.max()):10.3e} {mu:7d} {int((du > 0).sum()):7d} / {du.numel():6d} | {ours_exact:10.3e} {torch_exact:11.3e} {ulp_top:9.3e}")
print(f"HALF / BF16: worst difference from PyTorch {worst} ulp; FLOAT: see ours-exact against torch-exact; failed: {failed or 'none'}; base never modified: {all(c['baseUnchanged'] for c in cases)}")
sys.exit(0 if not failed else 1)
