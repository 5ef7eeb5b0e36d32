#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if any are missing.
#
#   bash scripts/system-packages.sh
#
# Idempotent: when everything is installed already it only runs dpkg-query and
# exits. Otherwise it runs `apt-get update` once and installs what is missing
# (as root, or through sudo when not root).
#
# The packages' own services are not wanted: scripts/with-services.sh starts a
# throwaway PostgreSQL and Dovecot on free loopback ports. So the install runs
# with a policy-rc.d that forbids starting services (the Debian way to say "do
# not start daemons from maintainer scripts"; honoured by invoke-rc.d and by
# deb-systemd-invoke), so no system Dovecot grabs port 143 and no default
# PostgreSQL cluster is started. Whether that cluster runs does not matter to
# the tests either way.
set -euo pipefail

# Package -> why:
#   postgresql     initdb/pg_ctl/postgres (/usr/lib/postgresql/<ver>/bin), psql
#   dovecot-imapd  dovecot master + imap (pulls in dovecot-core)
#   chromium, chromium-driver  the headless browser the report's browser tests drive
#                  (Playwright with executable_path=/usr/bin/chromium; never a downloaded one)
#   libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0  what WeasyPrint (the PDF answer)
#                  loads at run time
#   fonts-dejavu-core  a font with Norwegian letters for the PDF, from Debian, never fetched
packages=(postgresql dovecot-imapd chromium chromium-driver libpango-1.0-0 libpangoft2-1.0-0
    libharfbuzz-subset0 fonts-dejavu-core)

is_installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == installed ]]
}

missing=()
for pkg in "${packages[@]}"; do
    is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "system-packages: all present (${packages[*]})"
    exit 0
fi

if ((EUID == 0)); then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "system-packages: missing ${missing[*]}; run this script as root (no sudo found)" >&2
    exit 1
fi

# Forbid service starts during the install, unless a policy-rc.d exists
# already (e.g. Docker images ship one that exits 101); then leave it alone.
policy=/usr/sbin/policy-rc.d
created_policy=0
remove_policy() {
    if ((created_policy)); then
        "${as_root[@]}" rm -f "$policy"
    fi
}
trap remove_policy EXIT
if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\n# temporary, from innsyn scripts/system-packages.sh\nexit 101\n' |
        "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 0755 "$policy"
    created_policy=1
fi

echo "system-packages: installing ${missing[*]}"
"${as_root[@]}" apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"

for pkg in "${missing[@]}"; do
    if ! is_installed "$pkg"; then
        echo "system-packages: $pkg is still not installed" >&2
        exit 1
    fi
done
echo "system-packages: done"
