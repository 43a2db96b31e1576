#!/usr/bin/env bash
# A virtual environment with current PyTorch (2.13, CPU) and the ONNX tools from PyPI, for the tests and
# fixtures that cover the dynamo exporter: .cache/torch2 (or $PARAMTRACE_TORCH2_VENV). Idempotent.
# Debian's PyTorch 1.13 (/usr/bin/python3) stays the other world the tests run in.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PARAMTRACE_TORCH2_VENV:-.cache/torch2}"
python="${PARAMTRACE_TORCH2_BASE_PYTHON:-python3}"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch, onnx, onnxscript, onnxruntime' 2>/dev/null; then
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check torch==2.13.0 onnx onnxscript onnxruntime numpy
"$venv/bin/python" -c 'import torch, onnx, onnxscript; print("torch", torch.__version__, "onnx", onnx.__version__, "onnxscript", onnxscript.__version__)'
