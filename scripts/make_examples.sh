#!/usr/bin/env bash
# Regenerates examples/base.onnx and examples/head.onnx (the pair `npm start` compares) with Debian's
# PyTorch and the paramtrace export helper, exactly as a repository's build step would.
set -euo pipefail
cd "$(dirname "$0")/.."
for side in base head; do
  /usr/bin/python3 python/paramtrace_torch.py --model "examples.models:$side" --input 1x1x512x512 -o "examples/$side.onnx"
done
