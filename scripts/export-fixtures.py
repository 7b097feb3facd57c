# Exports the real-model fixtures of fixtures/models/ with PyTorch (and onnx.helper for the Q/DQ net), and their
# onnxruntime outputs. Run on the GPU machine (it has PyTorch, onnx, onnxruntime; see ../shared/device/README.md):
#   python3 scripts/export-fixtures.py "$OUT"
# Seeded: the files are the same on every run of the same library versions.
import json, os, sys
import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
rng = np.random.default_rng(0)
meta = {"torch": torch.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__, "models": {}}


def export(name, model, args, input_names, output_names, dynamic_axes=None, opset=17, script=False):
    model.eval()
    path = os.path.join(out, f"{name}.onnx")
    m = torch.jit.script(model) if script else model
    torch.onnx.export(m, args, path, input_names=input_names, output_names=output_names, opset_version=opset,
                      do_constant_folding=False, dynamo=False, dynamic_axes=dynamic_axes)
    finish(name, path, args, input_names)


def finish(name, path, args, input_names):
    onnx.checker.check_model(onnx.load(path))
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {n: a.numpy() if isinstance(a, torch.Tensor) else a for n, a in zip(input_names, args)}
    for n, a in feeds.items():
        np.save(os.path.join(out, f"{name}.{n}.npy"), a)
    res = sess.run(None, feeds)
    for o, r in zip(sess.get_outputs(), res):
        np.save(os.path.join(out, f"{name}.out.{o.name}.npy"), r)
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    meta["models"][name] = {"inputs": input_names, "outputs": [o.name for o in sess.get_outputs()], "ops": ops}


class XfBlock(nn.Module):  # pre-LN transformer block: LayerNorm, attention, GELU MLP
    def __init__(self, d=16, h=4):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, 32)
        self.ff2 = nn.Linear(32, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, self.h, d // self.h).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-1, -2) / (d // self.h) ** 0.5, dim=-1) @ v
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, d))
        return x + self.ff2(torch.nn.functional.gelu(self.ff1(self.ln2(x))))


class UNetBlock(nn.Module):  # encoder conv, stride-2 down, ConvTranspose up, bilinear Resize, skip Concat
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(16, 8, 2, stride=2)
        self.resize = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.head = nn.Conv2d(16, 4, 1)

    def forward(self, x):
        e = torch.relu(self.bn(self.enc(x)))
        u = self.up(torch.relu(self.down(e)))
        return self.resize(self.head(torch.cat([e, u], dim=1)))


class Recurrent(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(4, 6, batch_first=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


class Control(nn.Module):  # data-dependent If and a Loop (TorchScript)
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.w = nn.Parameter(torch.randn(4) * 0.5)

    def forward(self, x):
        if bool(x.sum() > 0):
            y = self.a(x)
        else:
            y = self.b(x)
        for _ in range(x.size(0) + 1):  # a trip count computed from the input: an ONNX Loop
            y = torch.tanh(y * self.w + 0.1)
        return y


if True:
    ub = UNetBlock()
    with torch.no_grad():
        ub.bn.running_mean.uniform_(-0.5, 0.5)
        ub.bn.running_var.uniform_(0.5, 1.5)
    export("xfblock", XfBlock(), (torch.randn(2, 5, 16),), ["x"], ["y"])
    export("unet", ub, (torch.randn(1, 3, 8, 8),), ["x"], ["y"])
    export("lstm", Recurrent("lstm"), (torch.randn(2, 5, 4),), ["x"], ["y"])
    export("gru", Recurrent("gru"), (torch.randn(2, 5, 4),), ["x"], ["y"])
    xpos = torch.randn(2, 4).abs()
    export("control", Control(), (xpos,), ["x"], ["y"], script=True)

# A Q/DQ-quantized conv net as quantization tools write it: INT8 weights with per-channel scales (DequantizeLinear,
# axis 0), activations quantized per tensor (QuantizeLinear -> DequantizeLinear), zero points 0 (TensorRT's rule).
w1 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
s1 = (np.abs(w1).reshape(8, -1).max(1) / 127).astype(np.float32)
q1 = np.clip(np.round(w1 / s1[:, None, None, None]), -127, 127).astype(np.int8)
w2 = rng.standard_normal((4, 8, 1, 1)).astype(np.float32) * 0.3
s2 = (np.abs(w2).reshape(4, -1).max(1) / 127).astype(np.float32)
q2 = np.clip(np.round(w2 / s2[:, None, None, None]), -127, 127).astype(np.int8)
inits = [
    numpy_helper.from_array(q1, "conv1.weight_q"), numpy_helper.from_array(s1, "conv1.weight_scale"),
    numpy_helper.from_array(np.zeros(8, np.int8), "conv1.weight_zp"),
    numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "conv1.bias"),
    numpy_helper.from_array(q2, "conv2.weight_q"), numpy_helper.from_array(s2, "conv2.weight_scale"),
    numpy_helper.from_array(np.zeros(4, np.int8), "conv2.weight_zp"),
    numpy_helper.from_array(np.array(0.02, np.float32), "act_scale"), numpy_helper.from_array(np.array(0, np.int8), "act_zp"),
]
nodes = [
    helper.make_node("QuantizeLinear", ["x", "act_scale", "act_zp"], ["xq"], name="quant_in"),
    helper.make_node("DequantizeLinear", ["xq", "act_scale", "act_zp"], ["xdq"], name="dequant_in"),
    helper.make_node("DequantizeLinear", ["conv1.weight_q", "conv1.weight_scale", "conv1.weight_zp"], ["w1"], name="dq_w1", axis=0),
    helper.make_node("Conv", ["xdq", "w1", "conv1.bias"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
    helper.make_node("QuantizeLinear", ["r1", "act_scale", "act_zp"], ["r1q"], name="quant_r1"),
    helper.make_node("DequantizeLinear", ["r1q", "act_scale", "act_zp"], ["r1dq"], name="dequant_r1"),
    helper.make_node("DequantizeLinear", ["conv2.weight_q", "conv2.weight_scale", "conv2.weight_zp"], ["w2"], name="dq_w2", axis=0),
    helper.make_node("Conv", ["r1dq", "w2"], ["y"], name="conv2"),
]
g = helper.make_graph(nodes, "qdq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], inits)
qm = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="trt-refit export-fixtures")
qm.ir_version = 8
qpath = os.path.join(out, "qdqconv.onnx")
onnx.save(qm, qpath)
finish("qdqconv", qpath, (rng.standard_normal((1, 3, 6, 6)).astype(np.float32),), ["x"])

with open(os.path.join(out, "models.json"), "w") as f:
    json.dump(meta, f, indent=1)
print(json.dumps(meta, indent=1))
