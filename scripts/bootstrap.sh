#!/usr/bin/env bash
# Create the project's virtualenv and install the project with its pinned dependencies.
# Works on a fresh Debian machine: installs python3-venv when the interpreter lacks it.
set -euo pipefail
venv="${1:-.venv}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Innsyn needs Python 3.11 (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
if ! "$python" -m venv --help >/dev/null 2>&1 || ! "$python" -c 'import ensurepip' 2>/dev/null; then
  echo "installing python3-venv from Debian's packages" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3.11-venv || \
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[dev]'
# The example third-party connector, installed through its own entry point (tests use it).
"$venv/bin/python" -m pip install --quiet -e examples/innsyn-connector-newsletter
# The loopback stand-ins the tests and the demo run against (not part of the service).
"$venv/bin/python" -m pip install --quiet -e support/innsyn-peers
