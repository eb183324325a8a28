#!/usr/bin/env bash
# The system packages `make run` and `make test` need on a Debian or Ubuntu machine, in one place.
# Installs what is missing when run as root; otherwise prints the one command to run. Silent when
# nothing is missing, so a second run says nothing.
set -euo pipefail

PYTHON=${PYTHON:-python3.11}
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! command -v dpkg-query >/dev/null 2>&1; then
  exit 0  # not Debian or Ubuntu: the README lists what to install by hand
fi

# Python 3.11 with venv and ensurepip (Debian splits them out of the interpreter).
command -v "$PYTHON" >/dev/null 2>&1 || need+=(python3.11)
"$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3.11-venv)
# Services: Redis (Celery broker), Java + Maven (Elasticsearch from Maven Central), PostgreSQL
# (the second application-database backend the tests run against).
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || need+=(redis-server)
command -v javac >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
# Browser tests (tests/browser): Playwright drives Debian's Chromium; CJK fonts make pages legible.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# 查新报告 PDF: WeasyPrint's Pango and HarfBuzz, the CJK serif (宋体 stand-in) and the Times-metric
# Latin serif; poppler's pdftotext/pdffonts read the PDFs back in tests.
for pkg in fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation poppler-utils; do
  have_pkg "$pkg" || need+=("$pkg")
done

[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "缺少系统软件包，请先运行：" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "安装系统软件包：${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
