#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (CUDA 12 and cuDNN 9 installed): make sure onnxruntime-node has its CUDA
# provider, then trace the seed fixtures and a larger model on CUDA and on the CPU and compare the traces.
# onnxruntime-node's installer downloads the CUDA provider from NuGet at install time when
# ONNXRUNTIME_NODE_INSTALL=cuda12 is set (see scripts/gpu-check.ts). Extra arguments are more models.
set -euo pipefail
cd "$(dirname "$0")/.."
provider=node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so
if [ ! -e "$provider" ]; then
  echo "installing onnxruntime-node with the CUDA provider (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci)"
  ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader || true
exec npx tsx scripts/gpu-check.ts "$@"
