# Exports the LoRA fixtures of fixtures/lora/ (issue 18, item 7): two small PyTorch models (a transformer block `xf`
# and a conv net `cnn`), PEFT and kohya adapters for them, the models merged with those adapters exactly as PEFT
# merges, each base/merged model exported two ways (names kept; anonymised and transposed), and onnxruntime's
# outputs of the merged models. Run on the GPU machine (it has PyTorch, onnx, onnxruntime; see
# ../shared/device/README.md):
#   python3 scripts/export-lora-fixtures.py OUTDIR
# Everything runs on the CPU. Seeded: the files are the same on every run of the same library versions.
# fixtures/lora/lora.json (written here as OUTDIR/lora.json) describes every file; the tests read it.
import copy, json, math, os, struct, sys, traceback
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx
from onnx import numpy_helper
import onnxruntime as ort

try:
    import safetensors
    import safetensors.numpy as st_numpy
except ImportError:  # write the format by hand
    safetensors = None

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
OPSET = 17
torch.manual_seed(0)
torch.set_num_threads(1)
meta = {
    "generator": "scripts/export-lora-fixtures.py",
    "versions": {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__,
                 "safetensors": safetensors.__version__ if safetensors else "none (written by hand)",
                 "numpy": np.__version__, "python": sys.version.split()[0]},
    "opset_requested": OPSET,
    "merge_rule": "W' = W + sum over adapters of scale * (alpha / r) * (B @ A), float32, in the listed order; "
                  "conv k x k: delta = (B.view(out, r) @ A.view(r, -1)).view(out, in, kh, kw); conv 1x1 likewise "
                  "(PEFT's merge_and_unload; kohya: alpha from the module's .alpha tensor, r = lora_down rows)",
    "tolerances": {"ort_anon_vs_ort_named": 1e-5, "ort_named_vs_torch": 1e-4},
    "problems": [],
    "models": {},
}
problems = meta["problems"]


# ---------------------------------------------------------------------------------------------------- models
D, NH, FF, NOUT = 32, 4, 64, 16


class Attention(nn.Module):  # separate q/k/v/o projections, attention by hand (matmul, softmax)
    def __init__(self):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(D, D) for _ in range(4))

    def forward(self, x):
        b, t = x.shape[0], x.shape[1]
        dh = D // NH
        q = self.q_proj(x).reshape(b, t, NH, dh).transpose(1, 2)
        k = self.k_proj(x).reshape(b, t, NH, dh).transpose(1, 2)
        v = self.v_proj(x).reshape(b, t, NH, dh).transpose(1, 2)
        a = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(dh)), dim=-1)
        return self.o_proj(torch.matmul(a, v).transpose(1, 2).reshape(b, t, D))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.up_proj = nn.Linear(D, FF)
        self.down_proj = nn.Linear(FF, D)

    def forward(self, x):
        return self.down_proj(F.gelu(self.up_proj(x)))


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(D)
        self.self_attn = Attention()
        self.mlp = Mlp()

    def forward(self, x):
        h = x + self.self_attn(self.input_layernorm(x))
        return h + self.mlp(h)


class Xf(nn.Module):  # x [2, 8, 32] -> [2, 8, 16]
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([Layer()])
        self.head = nn.Linear(D, NOUT)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


class Cnn(nn.Module):  # x [2, 3, 16, 16] -> [2, 10]
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 16, 1, bias=False)
        self.conv3 = nn.Conv2d(16, 24, 3, padding=1)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.conv2(x))
        x = self.conv3(x).mean(dim=(2, 3))
        return self.fc(x)


def make_xf():
    m = Xf()
    with torch.no_grad():
        ln = m.layers[0].input_layernorm
        ln.weight.copy_(1 + 0.1 * torch.randn(D))
        ln.bias.copy_(0.1 * torch.randn(D))
    return m.eval()


def make_cnn():
    m = Cnn()
    with torch.no_grad():
        m.bn1.weight.copy_(1 + 0.2 * torch.randn(16))
        m.bn1.bias.copy_(0.1 * torch.randn(16))
        m.bn1.running_mean.uniform_(-0.5, 0.5)
        m.bn1.running_var.uniform_(0.5, 1.5)
    return m.eval()


# ---------------------------------------------------------------------------------------------------- safetensors
def save_safetensors(tensors, path, metadata=None):
    """tensors: name -> float32 numpy array (a 0-d array for a scalar)."""
    tensors = {k: np.array(v, dtype=np.float32, order="C") for k, v in tensors.items()}  # keeps 0-d scalars
    if safetensors:
        st_numpy.save_file(tensors, path, metadata=metadata)
        return
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k in sorted(tensors):
        b = tensors[k].astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def float_sd(model):  # the floating-point state_dict as numpy (num_batches_tracked left out)
    return {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()
            if v.is_floating_point()}


# ---------------------------------------------------------------------------------------------------- adapters
def module_of(model, name):
    return dict(model.named_modules())[name]


def lora_factors(mod, r):
    """Random A, B for a Linear or Conv2d: A [r, in(, kh, kw)], B [out, r(, 1, 1)]; B not tiny."""
    w = mod.weight
    if w.dim() == 2:
        out_f, in_f = w.shape
        a = torch.randn(r, in_f) / math.sqrt(in_f)
        b = torch.randn(out_f, r) * 0.05
    else:
        out_c, in_c, kh, kw = w.shape
        a = torch.randn(r, in_c, kh, kw) / math.sqrt(in_c * kh * kw)
        b = torch.randn(out_c, r, 1, 1) * 0.05
    return a.float(), b.float()


def kind_of(mod):
    w = mod.weight
    return "linear" if w.dim() == 2 else ("conv1x1" if w.shape[2:] == (1, 1) else f"conv{w.shape[2]}x{w.shape[3]}")


def make_peft(model, mname, aname, r, alpha, targets, modules, rank_pattern=None, alpha_pattern=None):
    folder = f"{mname}_{aname}"
    os.makedirs(os.path.join(out, folder), exist_ok=True)
    tensors, mods = {}, {}
    for m in modules:
        short = m.split(".")[-1]
        mr = (rank_pattern or {}).get(short, (rank_pattern or {}).get(m, r))
        ma = (alpha_pattern or {}).get(short, (alpha_pattern or {}).get(m, alpha))
        a, b = lora_factors(module_of(model, m), mr)
        ka, kb = f"base_model.model.{m}.lora_A.weight", f"base_model.model.{m}.lora_B.weight"
        tensors[ka], tensors[kb] = a.numpy(), b.numpy()
        mods[m] = {"rank": mr, "alpha": float(ma), "scaling": float(ma) / mr, "kind": kind_of(module_of(model, m)),
                   "A": ka, "B": kb, "A_shape": list(a.shape), "B_shape": list(b.shape), "_a": a, "_b": b}
    save_safetensors(tensors, os.path.join(out, folder, "adapter_model.safetensors"), {"format": "pt"})
    config = {"peft_type": "LORA", "task_type": None, "base_model_name_or_path": None, "r": r, "lora_alpha": alpha,
              "lora_dropout": 0.0, "target_modules": targets, "bias": "none", "fan_in_fan_out": False,
              "use_rslora": False, "use_dora": False, "init_lora_weights": True, "inference_mode": True,
              "modules_to_save": None, "rank_pattern": rank_pattern or {}, "alpha_pattern": alpha_pattern or {}}
    with open(os.path.join(out, folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=1)
    return {"format": "peft", "file": f"{folder}/adapter_model.safetensors", "config": f"{folder}/adapter_config.json",
            "folder": folder, "r": r, "lora_alpha": alpha, "target_modules": targets,
            "rank_pattern": rank_pattern or {}, "alpha_pattern": alpha_pattern or {}, "modules": mods}


def make_kohya(model, mname, aname, spec):
    """spec: module -> (rank, alpha). Keys lora_unet_<module with dots as underscores>.lora_down/.lora_up/.alpha."""
    fname = f"{mname}_{aname}.safetensors"
    tensors, mods = {}, {}
    for m, (r, alpha) in spec.items():
        a, b = lora_factors(module_of(model, m), r)
        p = "lora_unet_" + m.replace(".", "_")
        tensors[p + ".lora_down.weight"], tensors[p + ".lora_up.weight"] = a.numpy(), b.numpy()
        tensors[p + ".alpha"] = np.array(alpha, dtype=np.float32)
        mods[m] = {"rank": r, "alpha": float(alpha), "scaling": float(alpha) / r, "kind": kind_of(module_of(model, m)),
                   "prefix": p, "A": p + ".lora_down.weight", "B": p + ".lora_up.weight", "alpha_key": p + ".alpha",
                   "A_shape": list(a.shape), "B_shape": list(b.shape), "_a": a, "_b": b}
    save_safetensors(tensors, os.path.join(out, fname), {"ss_network_module": "networks.lora"})
    return {"format": "kohya", "file": fname, "targets": list(spec), "modules": mods}


def merge(model, parts):
    """parts: [(adapter, scale)]. Returns a merged copy (PEFT's rule, float32)."""
    m = copy.deepcopy(model)
    sd = m.state_dict()
    with torch.no_grad():
        for ad, scale in parts:
            for name, info in ad["modules"].items():
                a, b, w = info["_a"], info["_b"], sd[name + ".weight"]
                if w.dim() == 2:
                    delta = b @ a
                else:
                    delta = (b.reshape(b.shape[0], -1) @ a.reshape(a.shape[0], -1)).reshape(w.shape)
                w += delta * (info["alpha"] / info["rank"] * scale)
    return m


# ---------------------------------------------------------------------------------------------------- exports
def ort_run(path, x):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0], sess.get_inputs()[0].name, sess.get_outputs()[0].name


def bn_folds(model):  # (conv, bn) pairs where a Conv feeds a BatchNorm2d directly
    return [("conv1", "bn1")] if isinstance(model, Cnn) else []


def map_initializers(proto, model):
    """ONNX initializer name -> what state_dict entry it holds and how (as-is, transposed, BN-folded, other)."""
    sd = float_sd(model)
    folded = {}
    for conv, bn in bn_folds(model):
        g, beta = sd[bn + ".weight"], sd[bn + ".bias"]
        mu, var = sd[bn + ".running_mean"], sd[bn + ".running_var"]
        s = g / np.sqrt(var + module_of(model, bn).eps)
        folded[conv + ".weight"] = (sd[conv + ".weight"] * s[:, None, None, None], bn)
        b0 = sd.get(conv + ".bias", np.zeros_like(mu))
        folded[conv + ".bias"] = ((b0 - mu) * s + beta, bn)
    res, used = {}, set()
    for init in proto.graph.initializer:
        arr = numpy_helper.to_array(init)
        e = {"shape": list(arr.shape), "dtype": str(arr.dtype), "state_dict": None, "stored": "other"}
        if arr.dtype == np.float32:
            cands = [init.name] + [k for k in sd if k != init.name]
            for k in cands:
                if k not in sd:
                    continue
                if arr.shape == sd[k].shape and np.array_equal(arr, sd[k]):
                    e.update(state_dict=k, stored="as-is", equal_to_checkpoint=True)
                    break
                if arr.ndim == 2 and arr.shape == sd[k].T.shape and np.array_equal(arr, sd[k].T):
                    e.update(state_dict=k, stored="transposed", equal_to_checkpoint=False,
                             equal_to_checkpoint_transposed=True)
                    break
            else:
                for k, (ref, bn) in folded.items():
                    if arr.shape == ref.shape and np.allclose(arr, ref, rtol=1e-5, atol=1e-6):
                        e.update(state_dict=k, stored="bn_folded", folded_with=bn, equal_to_checkpoint=False,
                                 max_abs_diff_vs_fold=float(np.abs(arr - ref).max()),
                                 max_abs_diff_vs_checkpoint=float(np.abs(arr - sd[k]).max()))
                        break
        if e["state_dict"]:
            used.add(e["state_dict"])
        e["name_kept"] = e["state_dict"] == init.name
        res[init.name] = e
    return res, sorted(set(sd) - used)


def describe(path, model, exporter, options):
    proto = onnx.load(path)
    onnx.checker.check_model(proto)
    inits, unmapped = map_initializers(proto, model)
    ops = sorted({n.op_type for n in proto.graph.node})
    sd_names = set(float_sd(model))
    weight_inits = {k: v for k, v in inits.items() if v["state_dict"]}
    return {
        "file": os.path.basename(path), "exporter": exporter, "options": options,
        "opset": next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None),
        "ir_version": proto.ir_version, "ops": ops,
        "initializers": inits,
        # every state_dict tensor is an initializer of the same name holding the same values, and nothing else is
        "names_equal_state_dict": set(weight_inits) == sd_names and all(v["name_kept"] and v["stored"] == "as-is"
                                                                          for v in weight_inits.values()),
        "state_dict_not_in_onnx": unmapped,
        "batchnorm_node": "BatchNormalization" in ops,
    }


def export_named(model, x, path, prefer):
    """Names kept: the dynamo exporter (optimize=False: its optimizer would fold the weights' Transposes into new
    initializers `val_N` and BN into conv1.weight under the old name) if its initializers are the state_dict names
    and its model is opset 17, else TorchScript without constant folding (training=PRESERVE: BatchNormalization
    stays a node)."""
    if prefer == "dynamo":
        try:
            kw = dict(dynamo=True, opset_version=OPSET, input_names=["x"], output_names=["y"], optimize=False)
            try:
                prog = torch.onnx.export(model, (x,), **kw)
            except TypeError:
                kw.pop("optimize")
                prog = torch.onnx.export(model, (x,), **kw)
            onnx.save(prog.model_proto, path, save_as_external_data=False)
            d = describe(path, model, "dynamo", {k: v for k, v in kw.items() if k not in ("input_names", "output_names")})
            if d["names_equal_state_dict"] and (d["batchnorm_node"] or not bn_folds(model)) and d["opset"] == OPSET:
                return d, "dynamo"
            why = "initializer names differ from the state_dict names" if not d["names_equal_state_dict"] else \
                "BatchNormalization folded" if not (d["batchnorm_node"] or not bn_folds(model)) else \
                f"opset {d['opset']}: its conversion to opset {OPSET} failed (fixtures are opset {OPSET})"
            bad = {k: v["state_dict"] for k, v in d["initializers"].items() if v["state_dict"] and not v["name_kept"]}
            print(f"dynamo export of {os.path.basename(path)} not usable ({why}: {bad}, "
                  f"missing {d['state_dict_not_in_onnx']}); falling back to TorchScript")
            meta.setdefault("dynamo_rejected", {})[os.path.basename(path)] = {
                "why": why, "renamed": bad, "missing": d["state_dict_not_in_onnx"], "opset": d["opset"]}
        except Exception as e:  # noqa: BLE001
            print(f"dynamo export of {os.path.basename(path)} failed: {e!r}; falling back to TorchScript")
            meta.setdefault("dynamo_rejected", {})[os.path.basename(path)] = {"why": repr(e)[:500]}
    opts = dict(opset_version=OPSET, do_constant_folding=False, training="PRESERVE", dynamo=False)
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], opset_version=OPSET,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE, dynamo=False)
    d = describe(path, model, "torchscript", opts)
    if not d["names_equal_state_dict"]:
        problems.append(f"{os.path.basename(path)}: TorchScript names-kept export does not keep the state_dict names")
    return d, "torchscript"


def export_anon(model, x, path):
    """Anonymised and transposed: TorchScript with constant folding (training EVAL): the Transpose of each 3-D
    Linear's weight is folded into an initializer named like onnx::MatMul_123; Conv+BN may be folded."""
    torch.onnx.export(model, (x,), path, input_names=["x"], output_names=["y"], opset_version=OPSET,
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL, dynamo=False)
    return describe(path, model, "torchscript",
                    dict(opset_version=OPSET, do_constant_folding=True, training="EVAL", dynamo=False))


def maxdiff(a, b):
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return {"max_abs": float(d.max()), "max_rel": float(d.max() / max(np.abs(b).max(), 1e-30))}


def peft_check(model, ad, merged):
    """Merge the PEFT adapter with PEFT itself (if installed) and compare its weights with ours."""
    try:
        from peft import PeftModel
        pm = PeftModel.from_pretrained(copy.deepcopy(model), os.path.join(out, ad["folder"]))
        pmerged = pm.merge_and_unload()
        ours, theirs = merged.state_dict(), pmerged.state_dict()
        import peft
        worst = max(float((ours[k] - theirs[k]).abs().max()) for k in ours if ours[k].is_floating_point())
        return {"peft": peft.__version__, "max_abs_weight_diff": worst}
    except Exception as e:  # noqa: BLE001
        return {"error": repr(e)[:500]}


# ---------------------------------------------------------------------------------------------------- driver
def run_model(mname, model, x, adapters, combos):
    x_np = x.numpy()
    np.save(os.path.join(out, f"{mname}_input.npy"), x_np)
    sd = float_sd(model)
    save_safetensors(sd, os.path.join(out, f"{mname}_base.safetensors"), {"format": "pt"})
    info = {
        "input": {"file": f"{mname}_input.npy", "shape": list(x_np.shape), "dtype": "float32"},
        "state_dict": {k: list(v.shape) for k, v in sd.items()},
        "state_dict_left_out_of_safetensors": [k for k, v in model.state_dict().items() if not v.is_floating_point()],
        "base_safetensors": f"{mname}_base.safetensors",
        "bn_folds": [{"conv": c, "bn": b} for c, b in bn_folds(model)],
        "adapters": {},
        "combinations": {},
    }
    for aname, ad in adapters.items():
        info["adapters"][aname] = {k: v for k, v in ad.items() if k != "modules"}
        info["adapters"][aname]["modules"] = {m: {k: v for k, v in e.items() if not k.startswith("_")}
                                              for m, e in ad["modules"].items()}
    prefer = "dynamo"
    for cname, parts in [("base", [])] + combos:
        merged = merge(model, [(adapters[a], s) for a, s in parts])
        tag = f"{mname}_{cname}"
        named, used = export_named(merged, x, os.path.join(out, f"{tag}_named.onnx"), prefer)
        if cname == "base":
            prefer = used  # the exporter the base needed, for every merged model of this model
        anon = export_anon(merged, x, os.path.join(out, f"{tag}_anon.onnx"))
        y_named, in_name, out_name = ort_run(os.path.join(out, f"{tag}_named.onnx"), x_np)
        y_anon, in_anon, _ = ort_run(os.path.join(out, f"{tag}_anon.onnx"), x_np)
        with torch.no_grad():
            y_torch = merged(x).numpy()
        np.save(os.path.join(out, f"{tag}_out.npy"), y_named)
        d_anon, d_torch = maxdiff(y_anon, y_named), maxdiff(y_named, y_torch)
        base_out = np.load(os.path.join(out, f"{mname}_base_out.npy")) if cname != "base" else y_named
        c = {
            "adapters": [{"adapter": a, "scale": s} for a, s in parts],
            "out": f"{tag}_out.npy", "out_shape": list(y_named.shape), "input_name": in_name, "output_name": out_name,
            "named": named, "anon": anon,
            "ort_anon_vs_ort_named": d_anon, "ort_named_vs_torch": d_torch,
            "max_abs_change_vs_base": float(np.abs(y_named - base_out).max()),
        }
        if d_anon["max_abs"] > 1e-5:
            problems.append(f"{tag}: onnxruntime anon vs named differ by {d_anon['max_abs']:.3g} > 1e-5")
        if d_torch["max_abs"] > 1e-4:
            problems.append(f"{tag}: onnxruntime vs PyTorch differ by {d_torch['max_abs']:.3g} > 1e-4")
        if len(parts) == 1 and parts[0][1] == 1.0 and adapters[parts[0][0]]["format"] == "peft":
            c["peft_merge_check"] = peft_check(model, adapters[parts[0][0]], merged)
        if cname == "base":
            os.replace(os.path.join(out, f"{tag}_out.npy"), os.path.join(out, f"{mname}_base_out.npy"))
            c["out"] = f"{mname}_base_out.npy"
            info["base"] = c
        else:
            info["combinations"][cname] = c
        print(f"{tag}: named={used} anon-vs-named {d_anon['max_abs']:.2e}, named-vs-torch {d_torch['max_abs']:.2e}, "
              f"change vs base {c['max_abs_change_vs_base']:.3g}", flush=True)
    meta["models"][mname] = info


try:
    xf = make_xf()
    x_xf = torch.randn(2, 8, D)
    A, M = "layers.0.self_attn.", "layers.0.mlp."
    xf_ads = {
        "peft_a": make_peft(xf, "xf", "peft_a", 4, 8, ["q_proj", "v_proj", "up_proj"],
                            [A + "q_proj", A + "v_proj", M + "up_proj"]),
        "peft_b": make_peft(xf, "xf", "peft_b", 8, 4, ["q_proj", "k_proj", "o_proj", "down_proj", "head"],
                            [A + "q_proj", A + "k_proj", A + "o_proj", M + "down_proj", "head"],
                            rank_pattern={"head": 2}, alpha_pattern={"down_proj": 16}),
        "kohya_a": make_kohya(xf, "xf", "kohya_a", {A + "q_proj": (4, 2.0), A + "k_proj": (4, 8.0),
                                                   M + "down_proj": (8, 8.0), "head": (2, 2.0)}),
    }
    xf_combos = [("peft_a", [("peft_a", 1.0)]), ("peft_b", [("peft_b", 1.0)]), ("kohya_a", [("kohya_a", 1.0)]),
                 ("peft_a_half", [("peft_a", 0.5)]), ("peft_b_half", [("peft_b", 0.5)]),
                 ("peft_a_kohya_a07", [("peft_a", 1.0), ("kohya_a", 0.7)]),
                 ("peft_a_peft_b05", [("peft_a", 1.0), ("peft_b", 0.5)])]
    run_model("xf", xf, x_xf, xf_ads, xf_combos)

    cnn = make_cnn()
    x_cnn = torch.randn(2, 3, 16, 16)
    cnn_ads = {
        "peft_a": make_peft(cnn, "cnn", "peft_a", 4, 8, ["conv1", "conv2", "fc"], ["conv1", "conv2", "fc"],
                            rank_pattern={"conv2": 2}, alpha_pattern={"fc": 16}),
        "kohya_a": make_kohya(cnn, "cnn", "kohya_a", {"conv1": (4, 2.0), "conv3": (8, 8.0), "fc": (4, 8.0)}),
    }
    cnn_combos = [("peft_a", [("peft_a", 1.0)]), ("kohya_a", [("kohya_a", 1.0)]), ("peft_a_half", [("peft_a", 0.5)]),
                  ("peft_a_kohya_a07", [("peft_a", 1.0), ("kohya_a", 0.7)])]
    run_model("cnn", cnn, x_cnn, cnn_ads, cnn_combos)
except Exception:  # write what there is, so one device run tells all
    problems.append("script failed: " + traceback.format_exc()[-3000:])
    traceback.print_exc()

with open(os.path.join(out, "lora.json"), "w") as f:
    json.dump(meta, f, indent=1)
print("problems:", json.dumps(problems, indent=1))
for mname, info in meta["models"].items():
    for cname, c in [("base", info.get("base"))] + list(info["combinations"].items()):
        if c:
            print(mname, cname, c["named"]["exporter"], "names_equal", c["named"]["names_equal_state_dict"],
                  "anon:", {k: (v["state_dict"], v["stored"]) for k, v in c["anon"]["initializers"].items()
                            if not v["name_kept"]} if cname == "base" else "")
sys.exit(1 if problems else 0)
