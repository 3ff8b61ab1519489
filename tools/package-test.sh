#!/usr/bin/env bash
# Builds the Debian package from an already built tree and checks what can
# be checked without systemd: the file list, the maintainer scripts, that
# each unit starts a binary the package holds (and parses, where
# systemd-analyze exists), and that every installed binary runs --help.
# Run by CTest (label package) and by hand:
#   bash tools/package-test.sh [BUILD_DIR]      (default: ./build)
# Prints what it checks; exits 1 on the first thing missing or wrong.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)

binaries=(txmsg-broker order-service stock-service txmsgctl txmsg-bench)
units=(txmsg-broker txmsg-order txmsg-stock)
scripts=(postinst prerm postrm)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
  echo "package-test: FAIL: $*" >&2
  exit 1
}

# 1. The package, built into the temp dir (no rebuild: cpack only installs
# the built tree and strips it).
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$tmp"/out/txmsg_*.deb)
[ -f "${debs[0]}" ] || fail "cpack made no txmsg_*.deb (see above)"
deb=${debs[0]}
echo "package-test: built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# 2. Its file list: the five binaries, the three units and their
# environment files; no test tool.
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$tmp/files"
expect=()
for b in "${binaries[@]}"; do expect+=("/usr/bin/$b"); done
for u in "${units[@]}"; do expect+=("/lib/systemd/system/$u.service" "/etc/default/$u"); done
for f in "${expect[@]}"; do
  grep -qx -- "$f" "$tmp/files" || fail "$f is not in the package"
done
if grep -q chaos "$tmp/files"; then fail "the chaos proxy (a test tool) is in the package"; fi
echo "package-test: file list has the ${#binaries[@]} binaries, ${#units[@]} units and their /etc/default files"

# 3. Control data: name, dependencies from dpkg-shlibdeps, the maintainer
# scripts (executable, valid sh), the environment files as conffiles.
dpkg-deb -e "$deb" "$tmp/control"
grep -qx "Package: txmsg" "$tmp/control/control" || fail "the package is not named txmsg"
for d in adduser libc6 libprotobuf; do
  grep -q "^Depends:.*$d" "$tmp/control/control" || fail "Depends lacks $d"
done
for s in "${scripts[@]}"; do
  [ -x "$tmp/control/$s" ] || fail "maintainer script $s missing or not executable"
  sh -n "$tmp/control/$s" || fail "maintainer script $s is not valid sh"
done
grep -q "adduser --system" "$tmp/control/postinst" || fail "postinst does not create the txmsg user"
for u in "${units[@]}"; do
  grep -qx "/etc/default/$u" "$tmp/control/conffiles" || fail "/etc/default/$u is not a conffile"
done
echo "package-test: txmsg depends on $(sed -n 's/^Depends: //p' "$tmp/control/control")"
echo "package-test: maintainer scripts ${scripts[*]} present"

# 4. Extracted: every unit runs a binary of the package as the txmsg user
# with its state in /var/lib/txmsg, and every binary answers --help.
dpkg-deb -x "$deb" "$tmp/root"
for u in "${units[@]}"; do
  unit="$tmp/root/lib/systemd/system/$u.service"
  exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
  [ -x "$tmp/root$exe" ] || fail "$u.service starts $exe, which the package does not hold"
  for line in User=txmsg StateDirectory=txmsg Restart=on-failure "EnvironmentFile=-/etc/default/$u"; do
    grep -qx -- "$line" "$unit" || fail "$u.service lacks $line"
  done
  grep -q -- "--bind=127.0.0.1" "$tmp/root/etc/default/$u" || fail "/etc/default/$u does not bind loopback"
done
if command -v systemd-analyze >/dev/null; then
  # Point the units at the extracted tree, then let systemd parse them.
  mkdir -p "$tmp/units"
  for u in "${units[@]}"; do
    sed "s|/usr/bin/|$tmp/root/usr/bin/|; s|=-/etc/|=-$tmp/root/etc/|" \
      "$tmp/root/lib/systemd/system/$u.service" >"$tmp/units/$u.service"
  done
  systemd-analyze verify --man=no "$tmp"/units/*.service >"$tmp/verify.log" 2>&1 || true
  if [ -s "$tmp/verify.log" ]; then
    cat "$tmp/verify.log" >&2
    fail "systemd-analyze verify complains about the units"
  fi
  echo "package-test: systemd-analyze verify accepts the units"
fi
for b in "${binaries[@]}"; do
  rc=0
  "$tmp/root/usr/bin/$b" --help >"$tmp/help.out" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    cat "$tmp/help.out" >&2
    fail "/usr/bin/$b --help exited $rc"
  fi
done
echo "package-test: ${binaries[*]} run --help (exit 0)"
echo "package-test: ok"
