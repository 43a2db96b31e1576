#!/usr/bin/env bash
# The CLI on every Node.js major that package.json's `engines` supports, not only the one running npm:
# for each version, a real Node binary from the npm registry (the `node-<platform>-<arch>` package, the
# one the `node` package's install script fetches) is installed into .cache/node-<major>/, then
#   1. the CLI as the npm package ships it (`npm run build`, bin/paramtrace.js) analyzes and compares the
#      example pair, tracing both with onnxruntime-node, and the counts are checked, and
#   2. a subset of the tests runs with that Node: the CLI's commands and help, the trace, user errors, the
#      GitHub client behind a proxy.
# One line per version: `node 22.x.y: ok (cli 1.2 s, tests 30.1 s)` or what failed. Exit 1 when any failed.
#
#   bash scripts/test-node-versions.sh            # the majors below
#   bash scripts/test-node-versions.sh 24         # only these majors
set -uo pipefail
cd "$(dirname "$0")/.."

# Node 20 reached its end of life in April 2026 and a dependency needs 22 (package.json `engines`).
if [ $# -gt 0 ]; then MAJORS=("$@"); else MAJORS=(22 24); fi
TESTS=(test/cli-help.test.ts test/trace-units.test.ts test/user-errors.test.ts test/proxy.test.ts)

platform=$(node -p 'process.platform + "-" + process.arch')
log_dir=.cache/node-versions-logs
mkdir -p "$log_dir"

seconds() { node -e 'console.log(((Date.now() - Number(process.argv[1])) / 1000).toFixed(1))' "$1"; }
now() { node -e 'console.log(Date.now())'; }

# The shipped CLI, built once with the Node running this script (the bundle targets all supported majors).
if ! npm run --silent build > "$log_dir/build.log" 2>&1; then
  echo "build: failed (see $log_dir/build.log)"
  exit 1
fi

failed=0
for major in "${MAJORS[@]}"; do
  prefix=.cache/node-$major
  node_bin=$prefix/node_modules/node-$platform/bin/node
  if [ ! -x "$node_bin" ]; then
    rm -rf "$prefix"
    mkdir -p "$prefix"
    if ! ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$prefix" --no-save --no-package-lock --no-audit \
      --no-fund "node-$platform@$major" > "$log_dir/install-$major.log" 2>&1; then
      echo "node $major: install of node-$platform@$major failed (see $log_dir/install-$major.log)"
      failed=1
      continue
    fi
  fi
  version=$("$node_bin" --version)
  if [ "${version%%.*}" != "v$major" ]; then
    echo "node $major: the installed binary is $version"
    failed=1
    continue
  fi

  # 1. The shipped CLI: the example pair, traced (seed case 1 -> seed case 3: unique 18 -> 9).
  started=$(now)
  cli_log=$log_dir/cli-$major.log
  if ! "$node_bin" bin/paramtrace.js analyze examples/head.onnx --json > "$cli_log" 2>&1 ||
    ! "$node_bin" -e '
      const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const ok = r.counts.unique === 9 && r.counts.declared === 18 && r.trace.mode === "onnxruntime";
      if (!ok) { console.error("unexpected report:", JSON.stringify({ counts: r.counts, trace: r.trace.mode })); process.exit(1); }
    ' "$cli_log" >> "$cli_log.check" 2>&1; then
    echo "node ${version#v}: the CLI's analyze failed (see $cli_log, $cli_log.check)"
    failed=1
    continue
  fi
  if ! "$node_bin" bin/paramtrace.js compare examples/base.onnx examples/head.onnx > "$cli_log.compare" 2>&1 ||
    ! grep -q '18 → 9' "$cli_log.compare"; then
    echo "node ${version#v}: the CLI's compare failed (see $cli_log.compare)"
    failed=1
    continue
  fi
  cli_s=$(seconds "$started")

  # 2. The tests, run by this Node (the test runner starts each file with the same binary).
  started=$(now)
  tests_log=$log_dir/tests-$major.log
  if ! "$node_bin" --import tsx --test --test-reporter=tap "${TESTS[@]}" > "$tests_log" 2>&1; then
    echo "node ${version#v}: tests failed: $(grep -E '^# (pass|fail) ' "$tests_log" | tr '\n' ' ')(see $tests_log)"
    failed=1
    continue
  fi
  echo "node ${version#v}: ok (cli ${cli_s} s, tests $(seconds "$started") s: $(grep -E '^# pass ' "$tests_log" | cut -c3-))"
done
exit "$failed"
