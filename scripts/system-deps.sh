#!/usr/bin/env bash
# System libraries msptui needs beyond Python packages: Pango for WeasyPrint
# (PDF export) and, for the tests, poppler-utils (pdftotext). Installs them
# with apt-get when running as root; otherwise says exactly what to install.
set -euo pipefail
need=()
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so' || need+=(libharfbuzz-subset0)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${need[*]}"
  (apt-get install -y -q "${need[@]}" >/dev/null 2>&1) || { apt-get update -q >/dev/null && apt-get install -y -q "${need[@]}" >/dev/null; }
else
  echo "msptui needs these system packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
