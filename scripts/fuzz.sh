#!/usr/bin/env bash
# Fuzzes model loading with libFuzzer (clang, ASan + UBSan) from a seed
# corpus of the test models, then prints executions and crashes:
#   bash scripts/fuzz.sh [RUNS]        (default 1000000)
# Findings land in build-fuzz/findings/. Not a CI step: it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1000000}
command -v clang++ >/dev/null || sudo apt-get install -y clang libclang-rt-14-dev
dir=build-fuzz
CXX=clang++ cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DACTORRT_ENABLE_PYTHON=OFF -DACTORRT_ENABLE_TESTING=OFF -DACTORRT_FUZZ=ON \
  -DACTORRT_SANITIZERS=address,undefined,fuzzer-no-link >/dev/null
cmake --build "$dir" -j "$(nproc)" --target model_fuzz models
corpus=$dir/corpus
mkdir -p "$corpus" "$dir/findings"
cp "$dir"/models/*.onnx "$corpus"/
# ONNX's checker and protobuf print their complaints: keep stderr for
# libFuzzer's own report only (-close_fd_mask=1 closes the target's stdout).
export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1"
set +e
"$dir"/tests/fuzz/model_fuzz "$corpus" -runs="$runs" -max_len=65536 \
  -timeout=10 -rss_limit_mb=4096 -close_fd_mask=1 \
  -artifact_prefix="$dir/findings/" -print_final_stats=1 2>"$dir/fuzz.log"
status=$?
set -e
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)" "$dir/fuzz.log" || true
crashes=$(find "$dir/findings" -type f | wc -l)
echo "fuzz: exit $status, crash/timeout/oom artifacts: $crashes (log: $dir/fuzz.log)"
exit "$status"
