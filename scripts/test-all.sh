#!/usr/bin/env bash
# The one test command: installs what the tests need when missing, then runs typecheck, lint and every test tier.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# The page's screenshots show Chinese labels: without a CJK font Chromium draws them as empty boxes.
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing: ${need[*]}; install them (Debian: apt-get install ${need[*]}) or run this as root" >&2
    exit 1
  fi
  echo "installing ${need[*]}"
  # Keep the packages' own services (ports 1883, 8086) from starting; the tests start their own on random ports.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

echo "== typecheck"; npx tsc --noEmit -p tsconfig.json
echo "== lint"; npx eslint .
# dependency-cruiser follows package.json "imports" into dist/ when a build exists; check the sources instead.
rm -rf dist
npx depcruise apps libs simulators --config .dependency-cruiser.cjs
echo "== docker-compose.yml (+ InfluxDB 1.8 override)"
docker-compose -f docker-compose.yml config -q
docker-compose -f docker-compose.yml -f docker-compose.influxdb1.yml config -q
echo "== tests"
mkdir -p .tmp
status=0
TZ=UTC CI="${CI:-}" npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json || status=$?
# A plain closing line: "tests: N passed, N failed", then every test that did not run, by name: the only one
# expected is the InfluxDB 2.x suite, which needs INFLUX2_TEST_URL or a Docker engine.
node -e '
const r = JSON.parse(require("fs").readFileSync(".tmp/vitest.json", "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} not run` : ""));
for (const file of r.testResults) for (const t of file.assertionResults) {
  if (t.status !== "passed" && t.status !== "failed") console.log(`  not run: ${t.fullName}`);
}
if (r.numTotalTests === 0) process.exit(1);
' || status=1
exit $status
