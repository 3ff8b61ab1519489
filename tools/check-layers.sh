#!/usr/bin/env bash
# Checks that layers point down (docs/design.md): every #include "..." in a
# layer names only that layer or a layer below it. Run by CTest (label unit)
# and by hand: bash tools/check-layers.sh [ROOT]. Prints each offending line
# and exits 1 if there is one.
#
#   base/     -> base/
#   proto/    -> base/ proto/
#   broker/   -> base/ proto/ broker/
#   client/   -> base/ proto/ client/            (the SDK; txmsg/ is its public include dir)
#   service/  -> base/ proto/ txmsg/ service/    (the SDK through its public headers only)
#   order/    -> base/ proto/ txmsg/ service/ order/
#   stock/    -> base/ proto/ txmsg/ service/ stock/
#   tools/    -> anything but tests/; nothing but tools/ and tests/ may include tools/
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

declare -A allowed=(
  [base]="base"
  [proto]="base proto txmsg"
  [broker]="base proto broker txmsg"
  [client]="base proto client txmsg"
  [service]="base proto txmsg service"
  [order]="base proto txmsg service order"
  [stock]="base proto txmsg service stock"
)
bad=0
for layer in "${!allowed[@]}"; do
  [ -d "$layer" ] || continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(sed -n 's/.*#include "\([^"]*\)".*/\1/p' <<<"${line#*:}")
    top=${inc%%/*}
    [ "$top" = "$inc" ] && continue  # same-folder include without a path
    case $top in absl | google | gtest | gmock | benchmark | boost) continue ;; esac  # libraries
    ok=0
    for a in ${allowed[$layer]}; do
      if [ "$top" = "$a" ]; then ok=1; fi
    done
    # Generated protobuf headers are txmsg/*.pb.h; the SDK's public headers
    # are txmsg/*.h: the broker may use the first kind only.
    if [ "$layer" = broker ] && [ "$top" = txmsg ] && [[ "$inc" != *.pb.h ]]; then ok=0; fi
    if [ $ok -eq 0 ]; then
      echo "layering: $file includes \"$inc\" ($layer/ may include only: ${allowed[$layer]})"
      bad=1
    fi
  done < <(grep -rn --include='*.h' --include='*.cc' '^#include "' "$layer")
done
if grep -rn --include='*.h' --include='*.cc' '"tools/' base proto broker client service order stock; then
  echo "layering: the lines above include tools/ from below (nothing may import tools/)"
  bad=1
fi
[ $bad -eq 0 ] && echo "layering: every include points down"
exit $bad
