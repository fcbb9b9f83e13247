#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, only those missing. Needs root (or
# sudo); without it, says what is missing and the tests that need them are skipped.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v msgfmt >/dev/null 2>&1 || need+=(gettext)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# the CID maps poppler needs to show the labels' non-embedded Chinese font (STSong-Light)
[ -d /usr/share/poppler/cMap/Adobe-GB1 ] || need+=(poppler-data)
command -v go >/dev/null 2>&1 || need+=(golang-go)
[ -d /usr/share/gocode/src/golang.org/x/mod ] || need+=(golang-golang-x-mod-dev)
fonts=$(fc-list 2>/dev/null || true)
grep -qi "cjk\|wqy\|droid sans fallback" <<<"$fonts" || need+=(fonts-wqy-microhei)
# Optional, benchmarks only (benchmarks/bench_reports.py drives load with wrk):
# INSPECTA_BENCH_DEPS=1 bash scripts/system-deps.sh
if [ -n "${INSPECTA_BENCH_DEPS:-}" ]; then command -v wrk >/dev/null 2>&1 || need+=(wrk); fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "not root: install ${need[*]} yourself; the tests that need them will be skipped" >&2; exit 0; fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
