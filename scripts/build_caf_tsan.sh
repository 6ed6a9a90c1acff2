#!/usr/bin/env bash
# CAF 0.17.6 built with ThreadSanitizer into .deps/caf-tsan, for
#   bash scripts/sanitize.sh thread
# Debian's libcaf is not instrumented: TSan cannot see the atomics of its
# mailboxes, so every object one actor hands another in a message shows as
# a race, and the reports that matter drown. This builds the same release
# (Debian's source archive of its package, pinned by checksum) with
# -fsanitize=thread; sanitize.sh links it when it is there. Takes about
# half an hour on two cores, once.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$PWD/.deps/caf-tsan
if [[ -f $prefix/include/caf/config.hpp ]]; then
  echo "$prefix is there already"
  exit 0
fi
version=0.17.6
sha256=e2bf5bd243f08bb7d8adde197cfe3e6d71314ed3378fe0692f8932f4c3b3928c
url=http://deb.debian.org/debian/pool/main/a/actor-framework/actor-framework_$version.orig.tar.gz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL -o "$work/caf.tar.gz" "$url"
echo "$sha256  $work/caf.tar.gz" | sha256sum -c -
tar -xzf "$work/caf.tar.gz" -C "$work"
# -include limits: 0.17.6's receive_buffer.hpp needs <limits> and does not
# include it, which GCC 12 refuses (Debian's package patches that).
cmake -S "$work/actor-framework-$version" -B "$work/build" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -include limits" \
  -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
  -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_TOOLS=yes \
  -DCAF_NO_PYTHON=yes -DCAF_NO_OPENCL=yes -DCAF_NO_OPENSSL=yes
cmake --build "$work/build" -j "$(nproc)"
cmake --install "$work/build"
