#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every C++ and
# Python test through CTest, and checks formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
# Again as on a machine without ONNX Runtime: every CPU lane on OpenCV DNN,
# and the tests that need ORT skip.
ACTORRT_ORT_LIBRARY=/nonexistent/libonnxruntime.so.1 \
  ctest --test-dir build --output-on-failure -j "$(nproc)"
bash scripts/check_format.sh
/usr/bin/python3 scripts/check_layering.py
