#!/usr/bin/env bash
# Runs the fault-injection suite alone (one test per scenario; it also runs in
# tools/test.sh, label "fault"). --soak MINUTES then repeats every scenario but
# the mutation controls, a fresh seed each pass, for that long (the Soak test).
# TXMSG_FAULT_SEED=N replays a printed seed; TXMSG_FAULT_ONLY=storage,network
# runs only those scenarios. Usage:
#   bash tools/fault.sh              # the suite, about a minute
#   bash tools/fault.sh --soak 30    # and 30 minutes of passes
set -euo pipefail
cd "$(dirname "$0")/.."
soak=0
while [ $# -gt 0 ]; do
  case $1 in
    --soak) soak=${2:?--soak takes MINUTES}; shift 2 ;;
    --soak=*) soak=${1#--soak=}; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "fault.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bash tools/setup-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j2
TXMSG_SOAK_MINUTES=$soak "$BUILD_DIR/tests/fault_suite_test" 2>"$BUILD_DIR/fault-suite.log" | grep -v '^\[' || true
echo "report: $BUILD_DIR/fault-report.json"
cat "$BUILD_DIR/fault-report.json"
grep -q '"violations": 0' "$BUILD_DIR/fault-report.json"
