#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL and a throwaway Dovecot IMAP server.
#
#   bash scripts/with-services.sh CMD [ARGS...]
#   e.g. bash scripts/with-services.sh .venv/bin/pytest -q
#        bash scripts/with-services.sh python3 scripts/smoke-services.py
#
# Both servers listen on 127.0.0.1 only, on free ports, with all their files in
# one fresh temp folder. They are stopped and the folder is removed when CMD
# ends, fails or is interrupted (Ctrl-C / SIGTERM). The exit code is CMD's.
# Needs the Debian packages from scripts/system-packages.sh.
#
# Exported to CMD:
#   INNSYN_TEST_PG_URL        postgresql+asyncpg://postgres@127.0.0.1:PORT/innsyn_test
#   INNSYN_TEST_PG_ADMIN_URL  postgresql://postgres@127.0.0.1:PORT/postgres
#                             (libpq form; for CREATE/DROP DATABASE per worker)
#   INNSYN_TEST_IMAP_HOST     127.0.0.1
#   INNSYN_TEST_IMAP_PORT     PORT (plain IMAP, no TLS, plaintext LOGIN allowed)
#   INNSYN_TEST_IMAP_USERS    "user:password,..." (maildir mailboxes, empty at start)
#
# Works as root (PostgreSQL then runs as the `postgres` user, IMAP mailboxes as
# a system user `innsyn-imap` created on first use) and as an ordinary user
# (everything runs as that user).
set -euo pipefail

if (($# == 0)); then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

log() { echo "with-services: $*" >&2; }
die() {
    log "$*"
    exit 1
}

imap_users="alice@example.test:secret,bob@example.test:secret,archive@example.test:secret"
imap_mail_user=innsyn-imap # system user owning the maildirs when run as root

start_time=$EPOCHREALTIME

# --- locate binaries -------------------------------------------------------

find_pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n "$dir" && -x "$dir/initdb" ]]; then
            echo "$dir"
            return
        fi
    fi
    # Debian layout without libpq-dev's pg_config: newest version wins.
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
        if [[ -x "$dir/initdb" ]]; then
            echo "$dir"
            return
        fi
    done
    return 1
}
pg_bin=$(find_pg_bindir) ||
    die "PostgreSQL server binaries (initdb) not found; run scripts/system-packages.sh"
dovecot_bin=$(PATH="$PATH:/usr/sbin:/sbin" command -v dovecot) ||
    die "dovecot not found; run scripts/system-packages.sh"
case "$("$dovecot_bin" --version)" in
2.3.*) ;; # the config below uses 2.3 syntax (Debian 12); 2.4 renamed many settings
*) die "unsupported Dovecot version $("$dovecot_bin" --version) (need 2.3.x)" ;;
esac

# Run as the PostgreSQL user: initdb/pg_ctl refuse to run as root. The cd
# avoids "could not change directory" when the caller's cwd is private.
if ((EUID == 0)); then
    pg_user=postgres
    getent passwd "$pg_user" >/dev/null || die "user $pg_user missing; run scripts/system-packages.sh"
    as_pg() { (cd "$tmp" && runuser -u "$pg_user" -- "$@"); }
else
    pg_user=$(id -un)
    as_pg() { (cd "$tmp" && "$@"); }
fi

show_log() { # show_log FILE: last lines of a server log, for failures
    if [[ -f "$1" ]]; then
        log "--- tail of $1 ---"
        tail -n 30 "$1" >&2
    fi
}

# --- temp folder and cleanup -----------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/innsyn-services.XXXXXX")
chmod 0755 "$tmp" # the postgres / dovecot users must be able to enter it
pg_dir=$tmp/pg           # data dir, socket and log; owned by the PostgreSQL user
pg_data=$pg_dir/data
dc_dir=$tmp/dovecot      # config, users file, log
dc_run=$dc_dir/run       # base_dir: master.pid and unix sockets
dc_mail=$dc_dir/mail     # one home (with ~/Maildir) per user; owned by the mail user

is_running() { # is_running PID: alive and not a zombie
    # The daemons are reparented to PID 1, which may reap them late (some
    # container inits do), so `kill -0` alone would also wait for zombies.
    local state
    [[ -r "/proc/$1/stat" ]] || return 1
    read -r _ _ state _ <"/proc/$1/stat" || return 1
    [[ "$state" != Z ]]
}

cleanup() {
    local rc=$?
    set +e
    trap '' INT TERM # a second Ctrl-C must not abort the cleanup half-way
    local pid i
    # Interrupted during startup: a daemon that was just forked may not have
    # written its pid file yet; give it a moment so it gets stopped too.
    ((ready)) || sleep 0.3
    if [[ -s "$dc_run/master.pid" ]]; then
        pid=$(<"$dc_run/master.pid")
        kill -TERM "$pid" 2>/dev/null
        # The master stops its children before it exits (takes about 1 s);
        # wait for that, at most 5 s.
        for ((i = 0; i < 50; i++)); do
            is_running "$pid" || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null
    fi
    if [[ -s "$pg_data/postmaster.pid" ]]; then
        as_pg "$pg_bin/pg_ctl" stop -D "$pg_data" -m immediate -w -t 10 >/dev/null 2>&1 ||
            log "warning: pg_ctl stop failed"
    fi
    rm -rf "$tmp"
    exit "$rc"
}
ready=0 # set once both servers answer
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap does the cleanup (once).
trap 'exit 130' INT
trap 'exit 143' TERM

# Two distinct free ports. Another process could take one before the server
# binds it; unlikely enough on a test machine.
ports=$(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
') || die "could not find free ports"
read -r pg_port imap_port <<<"$ports"

# --- PostgreSQL --------------------------------------------------------------

mkdir -p "$pg_dir"
chown "$pg_user:" "$pg_dir"
chmod 0700 "$pg_dir"

# The superuser is always called "postgres" (also when not run as root) so the
# URLs below are the same everywhere. C.UTF-8 keeps sorting byte-wise but lets
# lower()/upper() handle æøå.
as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$pg_dir/initdb.log" 2>&1 || {
    show_log "$pg_dir/initdb.log"
    die "initdb failed"
}
# Settings go into the config file rather than `pg_ctl -o` to avoid quoting
# trouble with paths. Durability is off: the data is thrown away anyway.
cat >>"$pg_data/postgresql.conf" <<EOF

# --- added by scripts/with-services.sh (throwaway test server) ---
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
as_pg "$pg_bin/pg_ctl" start -D "$pg_data" -l "$pg_dir/postgres.log" -w -t 30 >/dev/null || {
    show_log "$pg_dir/postgres.log"
    die "PostgreSQL did not start"
}
"$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres innsyn_test ||
    die "createdb innsyn_test failed"

# --- Dovecot IMAP ------------------------------------------------------------

mkdir -p "$dc_dir" "$dc_mail"
if ((EUID == 0)); then
    if ! getent passwd "$imap_mail_user" >/dev/null; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$imap_mail_user"
    fi
    mail_user=$imap_mail_user
    # Dovecot's own defaults (dovecot / dovenull, made by dovecot-core) for
    # its internal and login processes.
    non_root_settings=""
else
    mail_user=$(id -un)
    # Without root every process runs as us and nothing can chroot.
    non_root_settings="default_internal_user = $mail_user
default_internal_group = $(id -gn)
default_login_user = $mail_user
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
service auth-worker {
  user = $mail_user
}"
fi
mail_uid=$(id -u "$mail_user")
mail_gid=$(id -g "$mail_user")
chown "$mail_uid:$mail_gid" "$dc_mail"

# passwd-file: user:{PLAIN}password (other fields unused; userdb is static)
IFS=, read -r -a user_entries <<<"$imap_users"
for entry in "${user_entries[@]}"; do
    printf '%s:{PLAIN}%s::::::\n' "${entry%%:*}" "${entry#*:}"
done >"$dc_dir/users"
chmod 0644 "$dc_dir/users" # read by the auth process (user dovecot)

cat >"$dc_dir/dovecot.conf" <<EOF
# Throwaway test IMAP server, written by scripts/with-services.sh.
# Standalone: none of /etc/dovecot is read.
instance_name = innsyn-test
base_dir = $dc_run
state_dir = $dc_dir/state
log_path = $dc_dir/dovecot.log
auth_verbose = yes

protocols = imap
listen = 127.0.0.1
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}

# Plain IMAP with cleartext LOGIN: test only, loopback only.
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No 2 s delay on a wrong password, and no growing per-IP penalty after
# failures (both would only slow tests down). A failed login still takes
# about 0.5 s: Dovecot sends failure replies from a 500 ms timer.
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dc_dir/users
}
userdb {
  driver = static
  args = uid=$mail_uid gid=$mail_gid home=$dc_mail/%u
}
# System users get uids below Dovecot's default minimum of 500.
first_valid_uid = $mail_uid
first_valid_gid = $mail_gid

mail_location = maildir:~/Maildir
mail_fsync = never
namespace inbox {
  inbox = yes
  separator = /
}

$non_root_settings
EOF

# Starts in the background (the master daemonizes and writes master.pid).
"$dovecot_bin" -c "$dc_dir/dovecot.conf" || {
    show_log "$dc_dir/dovecot.log"
    die "Dovecot did not start"
}

# Ready when the IMAP greeting arrives (bounded: 10 s).
wait_for_imap='
import socket, sys, time
deadline = time.monotonic() + 10
while True:
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1) as s:
            if s.recv(64).startswith(b"* OK"):
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.05)
'
python3 -c "$wait_for_imap" "$imap_port" || {
    show_log "$dc_dir/dovecot.log"
    die "Dovecot IMAP is not answering on 127.0.0.1:$imap_port"
}

# --- run the command ---------------------------------------------------------

ready=1
export INNSYN_TEST_PG_URL="postgresql+asyncpg://postgres@127.0.0.1:$pg_port/innsyn_test"
export INNSYN_TEST_PG_ADMIN_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export INNSYN_TEST_IMAP_HOST=127.0.0.1
export INNSYN_TEST_IMAP_PORT=$imap_port
export INNSYN_TEST_IMAP_USERS=$imap_users

log "PostgreSQL on 127.0.0.1:$pg_port, IMAP on 127.0.0.1:$imap_port," \
    "ready in $(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $start_time }") s ($tmp)"

set +e
"$@"
rc=$?
set -e
exit "$rc"
