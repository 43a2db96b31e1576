# Writes the bench's large models (run with Debian's /usr/bin/python3, which has onnx 1.12 and numpy):
#
#   python3 bench/make_models.py OUT_DIR [--layers 96] [--dim 2048] [--vocab 4096] [--big-vocab 131072]
#
# One model, four storage layouts, each in its own folder under OUT_DIR:
#   single/model.onnx            weights inside the file (raw_data)
#   ext-one/model.onnx           weights in one external data file, model.weights
#   ext-per-tensor/model.onnx    one external data file per tensor
#   ext-2gb/model.onnx           one external data file over 2 GiB: a zero-filled position table
#                                (big-vocab x dim float32, a hole of the sparse file) comes first, so every
#                                other tensor lies past the 1 GiB mark and most past 2 GiB
#
# The graph: ids -> Gather(emb) -> layers x (MatMul W_i, Add b_i) -> MatMul(head) -> logits, with
# head = emb transposed (stored again, like PyTorch's constant folding of a tied output head), and two
# layers exact copies of earlier ones (W_30 = W_10, W_70 = W_50, when there are that many layers).
#
# Weights are written straight from numpy into the files (the ONNX framing around them is written by
# hand, so the whole model is never one Python object): memory stays one tensor, time is the disk's.
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload_length):
    """A length-delimited field's header: tag and length."""
    return varint(number << 3 | 2) + varint(payload_length)


GRAPH_FIELD, INITIALIZER_FIELD, RAW_DATA_FIELD = 7, 5, 9


def tensor_specs(layers, dim, vocab):
    """(name, shape, maker) in file order; makers return float32 arrays, duplicates reuse an earlier one."""
    rng = np.random.default_rng(6)
    made = {}

    def random(name, shape):
        def make():
            made[name] = rng.random(shape, dtype=np.float32)
            made[name] -= 0.5
            return made[name]

        return make

    copies = {30: 10, 70: 50}
    specs = [("emb.weight", (vocab, dim), random("emb.weight", (vocab, dim)))]
    for i in range(layers):
        source = copies.get(i)
        if source is not None and source < layers:
            specs.append((f"layers.{i}.weight", (dim, dim), lambda s=source: made[f"layers.{s}.weight"]))
        else:
            specs.append((f"layers.{i}.weight", (dim, dim), random(f"layers.{i}.weight", (dim, dim))))
        specs.append((f"layers.{i}.bias", (dim,), random(f"layers.{i}.bias", (dim,))))
    specs.append(("onnx::MatMul_head", (dim, vocab), lambda: np.ascontiguousarray(made["emb.weight"].T)))
    return specs, made


def graph_without_weights(layers, dim, vocab, big_vocab):
    nodes = [helper.make_node("Gather", ["emb.weight", "ids"], ["x0"], name="/emb/Gather")]
    inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 8])]
    x = "x0"
    if big_vocab:
        inputs.append(helper.make_tensor_value_info("positions", TensorProto.INT64, [1, 8]))
        nodes.append(helper.make_node("Gather", ["pos.weight", "positions"], ["p0"], name="/pos/Gather"))
        nodes.append(helper.make_node("Add", ["x0", "p0"], ["xp"], name="/pos/Add"))
        x = "xp"
    for i in range(layers):
        nodes.append(helper.make_node("MatMul", [x, f"layers.{i}.weight"], [f"m{i}"], name=f"/layers.{i}/MatMul"))
        nodes.append(helper.make_node("Add", [f"m{i}", f"layers.{i}.bias"], [f"h{i}"], name=f"/layers.{i}/Add"))
        x = f"h{i}"
    nodes.append(helper.make_node("MatMul", [x, "onnx::MatMul_head"], ["logits"], name="/head/MatMul"))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 8, vocab])]
    return helper.make_graph(nodes, "bench", inputs, outputs)


def tensor_header(name, shape, external=None):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(shape)
    if external is not None:
        t.data_location = TensorProto.EXTERNAL
        for key, value in external:
            entry = t.external_data.add()
            entry.key = key
            entry.value = str(value)
    return t


def model_of(graph):
    model = helper.make_model(graph, producer_name="paramtrace-bench", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--layers", type=int, default=96)
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--big-vocab", type=int, default=131072)
    args = parser.parse_args()
    folders = {k: os.path.join(args.out, k) for k in ["single", "ext-one", "ext-per-tensor", "ext-2gb"]}
    for f in folders.values():
        os.makedirs(f, exist_ok=True)

    specs, made = tensor_specs(args.layers, args.dim, args.vocab)
    sizes = [int(np.prod(shape)) * 4 for _, shape, _ in specs]
    big_bytes = args.big_vocab * args.dim * 4

    # single: ModelProto without its graph, then the graph field by hand with the initializers inside.
    graph = graph_without_weights(args.layers, args.dim, args.vocab, 0)
    model = model_of(onnx.GraphProto())
    model.ClearField("graph")
    rest = graph.SerializeToString()
    entries = []
    for (name, shape, _), size in zip(specs, sizes):
        head = tensor_header(name, shape).SerializeToString() + field(RAW_DATA_FIELD, size)
        entries.append(field(INITIALIZER_FIELD, len(head) + size) + head)
    graph_length = len(rest) + sum(len(e) + s for e, s in zip(entries, sizes))
    single = open(os.path.join(folders["single"], "model.onnx"), "wb")
    single.write(model.SerializeToString() + field(GRAPH_FIELD, graph_length) + rest)

    one = open(os.path.join(folders["ext-one"], "model.weights"), "wb")
    big = open(os.path.join(folders["ext-2gb"], "model.weights"), "wb")
    big.truncate(big_bytes)  # the position table: a hole, read as zeros
    big.seek(big_bytes)
    one_offset, big_offset = 0, big_bytes
    ext_one, ext_per, ext_big = [], [], []
    for (name, shape, make), entry, size in zip(specs, entries, sizes):
        data = memoryview(make()).cast("B")
        single.write(entry)
        single.write(data)
        one.write(data)
        big.write(data)
        file_name = name.replace(":", "_") + ".bin"
        with open(os.path.join(folders["ext-per-tensor"], file_name), "wb") as per:
            per.write(data)
        ext_one.append(tensor_header(name, shape, [("location", "model.weights"), ("offset", one_offset), ("length", size)]))
        ext_per.append(tensor_header(name, shape, [("location", file_name), ("length", size)]))
        ext_big.append(tensor_header(name, shape, [("location", "model.weights"), ("offset", big_offset), ("length", size)]))
        one_offset += size
        big_offset += size
        if not name.startswith("layers.") or name.endswith(".bias"):
            continue
        # Keep only what a later copy needs.
        for key in [k for k in made if k.startswith("layers.") and k.endswith(".weight") and k != name]:
            if key not in ("layers.10.weight", "layers.50.weight"):
                del made[key]
    for f in (single, one, big):
        f.close()

    for folder, tensors, big_vocab in [
        ("ext-one", ext_one, 0),
        ("ext-per-tensor", ext_per, 0),
        ("ext-2gb", ext_big, args.big_vocab),
    ]:
        g = graph_without_weights(args.layers, args.dim, args.vocab, big_vocab)
        if big_vocab:
            g.initializer.append(
                tensor_header("pos.weight", (big_vocab, args.dim), [("location", "model.weights"), ("offset", 0), ("length", big_bytes)])
            )
        g.initializer.extend(tensors)
        with open(os.path.join(folders[folder], "model.onnx"), "wb") as f:
            f.write(model_of(g).SerializeToString())
    print(" ".join(f"{k}={os.path.join(v, 'model.onnx')}" for k, v in folders.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
