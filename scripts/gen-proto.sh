#!/usr/bin/env bash
# Regenerates src/pb/ from proto/ with protoc + ts-proto. The output is checked
# in; run this after editing any .proto file (npm run gen:proto).
# Options are explained in docs/decisions/0001-protobuf.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC="${PROTOC:-protoc}"
PLUGIN="node_modules/.bin/protoc-gen-ts_proto"
OUT="${PB_OUT:-src/pb}"

command -v "$PROTOC" >/dev/null || { echo "protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
[ -x "$PLUGIN" ] || { echo "$PLUGIN missing (npm ci)" >&2; exit 1; }

OPTS=(
  esModuleInterop=true
  importSuffix=.js
  forceLong=bigint
  useJsTypeOverride=true
  outputServices=generic-definitions
  env=node
  useOptionals=messages
  oneof=unions
  useExactTypes=false
)
OPT_STRING="$(IFS=,; echo "${OPTS[*]}")"

rm -rf "$OUT"
mkdir -p "$OUT"
# Sorted file list keeps the output byte-identical across machines.
mapfile -t FILES < <(cd proto && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
"$PROTOC" \
  --plugin="protoc-gen-ts_proto=$PLUGIN" \
  --ts_proto_out="$OUT" \
  --ts_proto_opt="$OPT_STRING" \
  -I proto \
  "${FILES[@]}"
echo "generated $(find "$OUT" -name '*.ts' | wc -l) files into $OUT"
