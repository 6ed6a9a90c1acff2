#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every C++ and
# Python test through CTest, and checks formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
bash scripts/check_format.sh
/usr/bin/python3 scripts/check_layering.py
