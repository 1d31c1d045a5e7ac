#!/usr/bin/env bash
# The system tools some tests drive for real, installed from Debian's packages when missing:
# prometheus (server + promtool: the metrics lint and the scrape test) and docker-compose (its
# `config` validates deploy/docker-compose.yml without a container engine). Without Recommends,
# which would pull in systemd. `npm test` runs this first, so the README's test command is
# complete on a fresh machine; it does nothing when the tools are there. If they cannot be
# installed (no root, no apt), it says so and the tests that need them fail loudly: they never skip.
set -uo pipefail

missing=()
for tool in prometheus promtool docker-compose; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing test tools (missing: ${missing[*]}) from Debian's packages" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
if { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus docker-compose >/dev/null; }; then
  exit 0
fi
echo "WARNING: could not install prometheus/docker-compose (apt-get as root is needed); the tests that need them will fail" >&2
exit 0
