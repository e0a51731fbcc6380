"""ONNX export for ONNX Runtime, with the one generic graph clean-up (no-op Slices)."""

from __future__ import annotations

import contextlib
import io
import warnings

import torch
from torch import nn


def quiet() -> contextlib.AbstractContextManager:
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    return stack


def export_onnx(model: nn.Module, x: torch.Tensor) -> bytes:
    """ONNX bytes via the TorchScript-based ``torch.onnx.export`` (static shapes; quicker
    than the dynamo exporter and ORT folds the same graph), no-op Slices removed."""
    buffer = io.BytesIO()
    with quiet(), torch.no_grad():
        torch.onnx.export(
            model, (x,), buffer, dynamo=False, opset_version=17, input_names=["input"], output_names=["output"]
        )
    return drop_noop_slices(buffer.getvalue())


def drop_noop_slices(model_bytes: bytes) -> bytes:
    """Remove Slice nodes that keep their whole input (GhostModule's ``out[:, :out_chs]``
    when out_chs is even): ORT copies the tensor for them. Generic: every model gains."""
    import onnx
    from onnx import numpy_helper, shape_inference

    proto = shape_inference.infer_shapes(onnx.load_from_string(model_bytes))
    graph = proto.graph
    shapes = {
        v.name: [d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim]
        for v in list(graph.value_info) + list(graph.input)
    }
    consts = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            consts[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    outputs = {o.name for o in graph.output}
    rename: dict[str, str] = {}
    kept = []
    for node in graph.node:
        if (
            node.op_type == "Slice"
            and node.output[0] not in outputs
            and node.input[0] in shapes
            and all(i in consts for i in node.input[1:])
            and len(node.input) >= 4
        ):
            starts, ends, axes = (consts[i].tolist() for i in node.input[1:4])
            steps = consts[node.input[4]].tolist() if len(node.input) > 4 else [1] * len(starts)
            shape = shapes[node.input[0]]
            if all(
                s == 0 and st == 1 and shape[a] > 0 and e >= shape[a] for s, e, a, st in zip(starts, ends, axes, steps)
            ):
                rename[node.output[0]] = node.input[0]
                continue
        kept.append(node)
    if not rename:
        return model_bytes
    for node in kept:
        for index, name in enumerate(node.input):
            while name in rename:
                name = rename[name]
            node.input[index] = name
    del graph.node[:]
    graph.node.extend(kept)
    del graph.value_info[:]
    return proto.SerializeToString()
