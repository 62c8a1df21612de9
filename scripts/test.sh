#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: installs what the tests need from the OS packages
# (redis-server, chromium for the page tests, Node.js if missing; the tests start their own servers on free
# loopback ports) and the third-party JSON-RPC clients of the interop tests from the npm registry
# (Tests/Interop/clients, exact versions from its package-lock.json), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${need[*]} from the OS packages..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The interop tests' clients (rpc-websockets, ethers, the MCP SDK), unmodified, as the lock file pins them; again
# only when the lock file changed since the last install.
clients=Tests/Interop/clients
if [ ! -f "$clients/node_modules/.package-lock.json" ] || [ "$clients/package-lock.json" -nt "$clients/node_modules/.package-lock.json" ]; then
  echo "Installing the interop tests' JSON-RPC clients (npm ci in $clients)..."
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Load tests open thousands of loopback sockets.
ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Orleans.sln -c Release --blame-hang-timeout 5m --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line for whoever reads only the end of the log (sums the per-assembly summaries).
count() { { grep -E "^ +$1: +[0-9]+ *$" "$log" || true; } | awk '{s+=$2} END {print s+0}'; }
passed=$(count 'Passed')
failed=$(count 'Failed')
skipped=$(count 'Skipped')
# A failure is printed where it happened, possibly thousands of lines up; repeat each failed test with the first
# lines of its message at the end, where a reader of the log's tail looks.
if [ "${failed:-0}" -gt 0 ]; then
  echo "Failed tests (the first lines of each; the whole message is above):"
  awk '/^  Failed [A-Za-z]/ {n=12} /^(  Passed |Test Run |Total tests)/ {n=0} n>0 {print; n--}' "$log"
fi
echo "Tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "$status" -eq 0 ] && [ "${passed:-0}" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
