#!/usr/bin/env bash
# Runs every package's benchmark in turn (JSON lines on stdout), so one command reproduces the
# README's performance table. Benchmarks are never part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in packages/*/; do
  if node -e "process.exit(require('./${pkg}package.json').scripts?.bench ? 0 : 1)"; then
    echo "# ${pkg}" >&2
    (cd "$pkg" && npx -y pnpm@10.34.9 run --silent bench)
  fi
done
