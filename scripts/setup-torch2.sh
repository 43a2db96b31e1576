#!/usr/bin/env bash
# A virtual environment with current PyTorch (2.14.1) and torchvision (0.29.1), and the ONNX tools from PyPI, for
# the tests and fixtures that cover the dynamo exporter and torchvision models in PyTorch 2.x: .cache/torch2 (or
# $PARAMTRACE_TORCH2_VENV). Idempotent: a venv that already imports all of them is kept. pip takes the wheels from
# the machine's local index; torch 2.14.1 there is the CUDA build (about 5.6 GB installed), which runs on the CPU.
# Debian's PyTorch 1.13 (/usr/bin/python3) stays the other world the tests run in.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PARAMTRACE_TORCH2_VENV:-.cache/torch2}"
python="${PARAMTRACE_TORCH2_BASE_PYTHON:-python3}"
check='import torch, torchvision, onnx, onnxscript, onnxruntime'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check torch==2.14.1 torchvision==0.29.1 onnx onnxscript onnxruntime numpy
"$venv/bin/python" -c "$check"'
print("torch", torch.__version__, "torchvision", torchvision.__version__, "onnx", onnx.__version__,
      "onnxscript", onnxscript.__version__, "onnxruntime", onnxruntime.__version__)'
