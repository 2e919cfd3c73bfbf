#!/usr/bin/env bash
# The first edit after a cold build in a fresh store (issue 22 item 3): a Node-style app
# (a big dependency layer from RUN, then `COPY . .`) and a Go-style one (`COPY main.go`).
# Prints the wall time of the cold build and of the first two edit rebuilds, replay off.
#   usage: bench/edit-loop.sh [TSBUILD_CLI]   (default: this checkout's dist/tsbuild.cjs)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$here/dist/tsbuild.cjs}
work=$(mktemp -d /var/tmp/tsbuild-edit-loop.XXXXXX)
# The last build's detached extractor may still write into the store: let it finish first.
cleanup() {
  for _ in $(seq 300); do compgen -G "$work/store/locks/layer-*" >/dev/null || break; sleep 0.2; done
  rm -rf "$work"
}
trap cleanup EXIT
export TSBUILD_ROOT=$work/store TSBUILD_REPLAY=off
tsb() { node "$cli" "$@"; }
"$here/fixtures/debian/make.sh" >/dev/null
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }

mkdir -p "$work/node" "$work/go"
cat > "$work/node/Dockerfile" <<'DF'
FROM debian:bookworm
WORKDIR /app
COPY package.json .
# stands in for `npm ci`: a dependency tree of ~20,000 files
RUN mkdir -p node_modules && cp -a /usr/share/. node_modules/ && cp -a /usr/lib/x86_64-linux-gnu node_modules/lib
COPY . .
CMD ["node", "index.js"]
DF
echo '{"name":"app"}' > "$work/node/package.json"
for i in $(seq 1 20); do echo "console.log($i)" > "$work/node/src$i.js"; done
cat > "$work/go/Dockerfile" <<'DF'
FROM debian:bookworm AS build
RUN mkdir -p /root/go/pkg && cp -a /usr/share/. /root/go/pkg/
WORKDIR /src
COPY main.go .
RUN cp main.go main.bin
FROM scratch
COPY --from=build /src/main.bin /app
DF
echo 'package main // 0' > "$work/go/main.go"

for app in node go; do
  f=$([ $app = node ] && echo src1.js || echo main.go)
  echo "$app cold: $(secs tsb build --progress quiet -t $app "$work/$app")"
  for n in 1 2; do
    echo "// edit $n" >> "$work/$app/$f"
    echo "$app edit $n: $(secs tsb build --progress quiet -t $app "$work/$app")"
  done
done
echo "store: $(du -sh "$work/store" | cut -f1)  oci: $(du -sh "$work/store/oci" | cut -f1)  layers: $(du -sh "$work/store/layers" | cut -f1)"
# The tars of extracted layers go after a flush of the filesystem (store/layer-settle.ts): at
# an open once the kernel has written the dirs back, or at prune; settled here to show the size.
settle=$(dirname "$cli")/store/index.js
if [ -f "$settle" ] && grep -q settleSplitLayers "$settle"; then
  node -e 'import(process.argv[1]).then((m) => m.settleSplitLayers(process.argv[2]))' "$settle" "$work/store"
  echo "settled store: $(du -sh "$work/store" | cut -f1)  oci: $(du -sh "$work/store/oci" | cut -f1)  layers: $(du -sh "$work/store/layers" | cut -f1)"
fi
