#!/usr/bin/env bash
# Installs the Debian 12 packages ActorRT builds and tests with; skips what is
# already installed, and fetches ONNX Runtime's CPU library. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake g++ make clang-format
  pkg-config            # the install test builds a pkg-config user too
  libcaf-dev            # CAF 0.17: the actor framework
  libonnx-dev libprotobuf-dev protobuf-compiler  # loading and checking ONNX
  libopencv-dnn-dev     # the CPU executor
  catch2                # C++ tests (v2)
  pybind11-dev python3-dev python3-numpy python3-pytest  # the Python module
  python3-onnx          # generating the test and benchmark models
  python3-prometheus-client  # parses the metrics endpoint in its test
  python3-pil           # reads the rendered benchmark report in its test
  libcli11-dev          # command-line parsing of tools and benchmarks
  nlohmann-json3-dev    # JSON written by the tools (run_model --json)
  libboost-dev          # Boost.Beast: the Prometheus metrics endpoint
  libssl-dev            # worker nodes' gates: TLS, the token's HMAC-SHA256
  chromium              # renders dxbenchmark's HTML report in its test
  libonnx-testdata      # ONNX's own test models (conformance test)
  openssl               # certificates for the TLS test of worker nodes
  tmux                  # runs dxtop in its test, as a person would
  libjemalloc2          # benchmarks: the same jobs with jemalloc preloaded
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime's CPU library (MIT, licenses/onnxruntime.txt) from the npm
# package onnxruntime-node, pinned by version and checksum. Only the .so is
# kept, in .deps/onnxruntime (git ignores it); ActorRT loads it at run time
# and runs without it (OpenCV DNN lanes) when it is missing. --ignore-scripts:
# the package's post-install step downloads GPU packages from elsewhere.
ort_version=1.30.0
ort_sha256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ort_dir=.deps/onnxruntime
ort_lib=$ort_dir/libonnxruntime.so.1
if [[ "$(uname -m)" != x86_64 ]]; then
  echo "ONNX Runtime: no x86_64 host, skipped (OpenCV DNN lanes only)"
elif [[ "$(sha256sum "$ort_lib" 2>/dev/null | cut -d' ' -f1)" != "$ort_sha256" ]]; then
  if ! command -v npm > /dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends nodejs npm
  fi
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack --silent "onnxruntime-node@$ort_version" \
        --ignore-scripts > /dev/null \
      && tar xzf "onnxruntime-node-$ort_version.tgz" \
        package/bin/napi-v6/linux/x64/libonnxruntime.so.1); then
    got=$(sha256sum "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" \
      | cut -d' ' -f1)
    if [[ "$got" == "$ort_sha256" ]]; then
      mkdir -p "$ort_dir"
      mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ort_lib"
      cp licenses/onnxruntime.txt "$ort_dir/LICENSE"
      echo "$ort_sha256  libonnxruntime.so.1" > "$ort_dir/SHA256SUMS"
      echo "ONNX Runtime $ort_version: $ort_lib"
    else
      echo "ONNX Runtime: checksum mismatch ($got), not installed" >&2
    fi
  else
    echo "ONNX Runtime: npm could not fetch onnxruntime-node@$ort_version;" \
      "running without it" >&2
  fi
  rm -rf "$tmp"
fi
