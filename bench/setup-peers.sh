#!/usr/bin/env bash
# Makes the venv that bench/peers.py runs in: .cache/peers (git-ignored), idempotent.
# Usage: bash bench/setup-peers.sh        (PYTHON=python3.11 to pick another interpreter)
# Falls back to torch==2.13.0 without torchvision when the 2.14.1/0.29.1 pair cannot be installed
# (peers.py then builds resnet18 by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/peers
PY=${PYTHON:-python3}
PEERS="torchinfo torchsummary fvcore thop onnx-tool onnx onnxscript onnxruntime"
start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
if "$VENV/bin/python" - <<'PY' 2>/dev/null; then
import importlib, sys
for m in ("torch", "torchinfo", "torchsummary", "fvcore", "thop", "onnx_tool", "onnx", "onnxscript", "onnxruntime"):
    importlib.import_module(m)
PY
  echo "setup-peers: $VENV already complete"
else
  if ! "$VENV/bin/pip" install torch==2.14.1 torchvision==0.29.1 $PEERS; then
    echo "setup-peers: torch 2.14.1 + torchvision 0.29.1 failed; falling back to torch 2.13.0 without torchvision" >&2
    "$VENV/bin/pip" install torch==2.13.0 $PEERS
  fi
fi
echo "setup-peers: done in $(( $(date +%s) - start )) s; venv size $(du -sh "$VENV" | cut -f1)"
"$VENV/bin/python" -c 'import torch; print("torch", torch.__version__)'
"$VENV/bin/python" -c 'import torchvision; print("torchvision", torchvision.__version__)' 2>/dev/null || echo "torchvision: not installed"
