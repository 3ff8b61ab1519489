#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, then runs the
# whole system on loopback - txmsg-broker, order-service, stock-service, each
# with its data in a temp dir - places orders that succeed and orders that
# exceed the stock, waits until every order settles, prints each order's final
# status and the stock left, and stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
# Only the three binaries the demo runs (the tests and benchmarks are
# tools/test.sh's); the build prints its progress as [done/total] lines.
# The build directory's options are left as they are, so tools/test.sh can
# share it.
echo "demo: configuring $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "demo: building txmsg-broker, order-service, stock-service (a few minutes the first time)"
cmake --build "$BUILD_DIR" -j2 --target txmsg-broker order-service stock-service

work=$(mktemp -d)
pids=()
# Stops every process the demo started and waits until each has exited.
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT # Ctrl-C: exit, so the EXIT trap stops everything
trap 'exit 143' TERM

# start NAME CMD...: runs CMD in the background with stdout to
# $work/NAME.out, records its PID in pids, waits for its "listening on
# HOST:PORT" line and sets PORT. Called directly, never as $(start ...): a
# command substitution is a subshell, and the PID would be recorded there.
start() {
  local name=$1
  shift
  "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 1 200); do
    if grep -q "listening on" "$work/$name.out" 2>/dev/null; then
      PORT=$(sed -n 's/.*listening on [^:]*:\([0-9]*\).*/\1/p' "$work/$name.out")
      return 0
    fi
    sleep 0.05
  done
  echo "demo: $name did not start; its log:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

field() { sed -n "s/.*\"$1\": *\"\\([^\"]*\\)\".*/\\1/p"; }

echo
echo "== txmsg demo: broker, order-service and stock-service on 127.0.0.1 (data in $work) =="
start broker "$BUILD_DIR/broker/txmsg-broker" --port 0 --data_dir "$work/broker"
broker="127.0.0.1:$PORT"
start order "$BUILD_DIR/order/order-service" --port 0 --broker "$broker" --db "$work/order.db"
order_port=$PORT
start stock "$BUILD_DIR/stock/stock-service" --port 0 --broker "$broker" --db "$work/stock.db" --seed_stock 1:5,2:3
stock_port=$PORT
echo "broker $broker, order-service :$order_port, stock-service :$stock_port"
echo "stock at start: product 1 = 5 units, product 2 = 3 units"
echo

# product:units for each order: 7 x 1 unit of product 1 (2 too many),
# 2 x 2 units of product 2 (1 too many), 1 order for a product that does not exist.
orders="1:1 1:1 1:1 1:1 1:1 1:1 1:1 2:2 2:2 3:1"
order_nos=()
for o in $orders; do
  body="{\"productId\": ${o%%:*}, \"payCount\": ${o##*:}}"
  reply=$(curl -s -X POST "http://127.0.0.1:$order_port/order/submitOrder" -d "$body")
  no=$(echo "$reply" | field orderNo)
  if [ -z "$no" ]; then
    echo "submit $body -> $reply" >&2
    exit 1
  fi
  order_nos+=("$no")
  echo "submitted $body -> order $no PENDING"
done

echo
echo "waiting for every order to settle..."
for _ in $(seq 1 300); do
  pending=$(curl -s "http://127.0.0.1:$order_port/order/orders?status=PENDING&limit=1")
  if ! echo "$pending" | grep -q orderNo; then break; fi
  sleep 0.05
done

echo
printf "%-38s %-8s %-6s %-10s %s\n" ORDER PRODUCT UNITS STATUS REASON
confirmed=0
cancelled=0
for no in "${order_nos[@]}"; do
  o=$(curl -s "http://127.0.0.1:$order_port/order/orders/$no")
  status=$(echo "$o" | field status)
  product=$(echo "$o" | sed -n 's/.*"productId": *\([0-9]*\).*/\1/p')
  units=$(echo "$o" | sed -n 's/.*"payCount": *\([0-9]*\).*/\1/p')
  printf "%-38s %-8s %-6s %-10s %s\n" "$no" "$product" "$units" "$status" "$(echo "$o" | field reason)"
  case $status in
    CONFIRMED) confirmed=$((confirmed + 1)) ;;
    CANCELLED) cancelled=$((cancelled + 1)) ;;
  esac
done
echo
for p in 1 2; do
  left=$(curl -s "http://127.0.0.1:$stock_port/stock/products/$p" | sed -n 's/.*"totalCount": *\([0-9]*\).*/\1/p')
  echo "stock left: product $p = $left units"
done
echo "orders: $confirmed confirmed, $cancelled cancelled, $(( ${#order_nos[@]} - confirmed - cancelled )) pending"
echo
cleanup
trap - EXIT
echo "Everything is stopped now. To run it yourself, see README.md (txmsg-broker, order-service,"
echo "stock-service, and txmsgctl to look inside the broker)."
