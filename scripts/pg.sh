#!/usr/bin/env bash
# A throw-away PostgreSQL server for the test suite.
#
#   scripts/pg.sh start DIR   create DIR afresh, run a server in it, print its URL (also kept in DIR/url)
#   scripts/pg.sh stop DIR    stop that server and remove DIR
#
# The server trusts every local connection and runs with fsync off: it is for tests only.
# Only the URL goes to stdout; progress and errors go to stderr.
set -Eeuo pipefail

readonly DBNAME=tdcflow_test
readonly MARKER=.tdcflow-pg          # marks a DIR this script made, so a wrong DIR is never wiped
readonly FIRST_PORT=55432
export PATH="$PATH:/usr/sbin:/sbin"  # runuser, useradd

PROG=pg.sh
LOGFILE=""                           # server log of the current run, shown when something fails

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }

show_log() {
    if [[ -n "$LOGFILE" && -s "$LOGFILE" ]]; then
        say "last lines of $LOGFILE:"
        tail -n 40 "$LOGFILE" | sed 's/^/    /' >&2
    fi
}

die() {
    say "error: $*"
    show_log
    exit 1
}

on_error() {
    local rc=$? line=$1 cmd=$2
    trap - ERR
    say "error: command failed with status $rc at line $line: $cmd"
    show_log
    exit "$rc"
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR

usage() {
    cat >&2 <<EOF
usage: $0 start DIR    start a throw-away PostgreSQL server in DIR (made afresh) and print its URL
       $0 stop DIR     stop the server in DIR and remove DIR
EOF
    exit 2
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# ---------------------------------------------------------------------------------------------
# Finding (or installing) the PostgreSQL programs

BINDIR=""

find_bindir() {
    local initdb dir
    if initdb=$(command -v initdb) && command -v pg_ctl >/dev/null; then
        dir=$(dirname "$(readlink -f "$initdb")")
        if [[ -x "$dir/pg_ctl" ]]; then
            BINDIR=$dir
        else
            BINDIR=$(dirname "$initdb")
        fi
        return 0
    fi
    # Debian keeps the server programs off PATH, one directory per major version.
    local candidates=() d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/initdb" && -x "$d/pg_ctl" ]] && candidates+=("$d")
    done
    if ((${#candidates[@]})); then
        BINDIR=$(printf '%s\n' "${candidates[@]}" | sort -V | tail -n 1)
        return 0
    fi
    return 1
}

install_postgres() {
    if ! is_root; then
        die "PostgreSQL server programs (initdb, pg_ctl) not found on PATH nor in /usr/lib/postgresql/*/bin.
    Install them (Debian/Ubuntu: sudo apt-get install postgresql) or run this script as root."
    fi
    command -v apt-get >/dev/null || die "initdb/pg_ctl not found and apt-get is not available to install PostgreSQL"
    say "PostgreSQL not found; installing the Debian package (apt-get install postgresql)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2 || die "apt-get update failed"
    apt-get install -y -q postgresql </dev/null >&2 || die "apt-get install postgresql failed"
}

# A client program: from BINDIR when there, else from PATH.
tool() {
    if [[ -x "$BINDIR/$1" ]]; then
        printf '%s\n' "$BINDIR/$1"
    elif command -v "$1" >/dev/null; then
        command -v "$1"
    else
        die "PostgreSQL program '$1' not found (looked in $BINDIR and on PATH)"
    fi
}

# ---------------------------------------------------------------------------------------------
# Running server programs as the right user: postgres refuses to run as root.

ensure_postgres_user() {
    getent passwd postgres >/dev/null && return 0
    say "creating system user 'postgres'"
    useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
        --shell /bin/sh --comment "PostgreSQL administrator" postgres \
        || die "could not create the 'postgres' system user"
}

# Runs "$@" as the server's owner, from / so an unreadable working directory does not matter.
as_owner() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && "$@")
    fi
}

# ---------------------------------------------------------------------------------------------
# Layout.  DIR holds the marker, `url`, and (normally) the cluster itself:
#   RUN/data        the data directory
#   RUN/server.log  the server log
#   RUN/.s.PGSQL.*  the Unix socket
# where RUN is DIR, unless the server's owner cannot reach DIR (say a repository under /root) or
# the socket path would be too long; then RUN is a fresh directory under /tmp, named in DIR/rundir.

DIR=""
RUN=""

resolve_dir() {
    [[ -n "${1:-}" ]] || usage
    DIR=$(realpath -m -- "$1")
    case "$DIR" in
        / | /bin | /boot | /dev | /etc | /home | /lib | /lib64 | /opt | /proc | /root | /run | /sbin | /srv | /sys | /tmp | /usr | /var)
            die "refusing to use $DIR as the server directory" ;;
    esac
}

rundir_of() {
    if [[ -f "$DIR/rundir" ]]; then
        cat "$DIR/rundir"
    else
        printf '%s\n' "$DIR"
    fi
}

# True unless /proc says the process is something other than a postgres server (a reused pid).
is_postgres_pid() {
    local comm
    comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 0
    [[ "$comm" == postgres* ]]
}

# Stop whatever server runs in DIR (if any) and remove DIR and its RUN directory.
stop_and_remove() {
    [[ -e "$DIR" ]] || return 0
    [[ -d "$DIR" ]] || die "$DIR exists and is not a directory; not touching it"
    if [[ ! -e "$DIR/$MARKER" ]] && [[ -n "$(ls -A -- "$DIR")" ]]; then
        die "$DIR is not empty and was not made by $PROG (no $MARKER file); not removing it"
    fi

    local run data pidfile pid
    run=$(rundir_of)
    data=$run/data
    pidfile=$data/postmaster.pid
    LOGFILE=$run/server.log

    if [[ -f "$pidfile" ]]; then
        pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
        if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && is_postgres_pid "$pid"; then
            say "stopping the server in $data (pid $pid)"
            if find_bindir; then
                as_owner "$BINDIR/pg_ctl" stop -D "$data" -m fast -w -t 60 >&2 \
                    || as_owner "$BINDIR/pg_ctl" stop -D "$data" -m immediate -w -t 30 >&2 \
                    || die "could not stop the server in $data (pid $pid)"
            else
                # No pg_ctl at hand: ask the postmaster for a fast shutdown directly.
                kill -INT "$pid" 2>/dev/null || true
                local i
                for ((i = 0; i < 60; i++)); do
                    kill -0 "$pid" 2>/dev/null || break
                    sleep 0.5
                done
                ! kill -0 "$pid" 2>/dev/null || die "server pid $pid did not stop"
            fi
        fi
    fi

    LOGFILE=""
    if [[ "$run" != "$DIR" && -e "$run/$MARKER" ]]; then
        rm -rf -- "$run"
    fi
    rm -rf -- "$DIR"
}

# ---------------------------------------------------------------------------------------------
# Ports

free_port() {
    if command -v python3 >/dev/null; then
        python3 - <<'PY' && return 0
import socket
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
    fi
    local p
    for ((p = FIRST_PORT; p < FIRST_PORT + 200; p++)); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    die "no free TCP port found in $FIRST_PORT-$((FIRST_PORT + 199))"
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
    resolve_dir "${1:-}"

    find_bindir || { install_postgres; find_bindir; } \
        || die "PostgreSQL was installed but initdb/pg_ctl are still not found"
    say "using PostgreSQL programs in $BINDIR ($("$BINDIR/pg_ctl" --version))"

    if [[ -e "$DIR" ]]; then
        say "removing the stale $DIR"
        stop_and_remove
    fi

    if is_root; then
        ensure_postgres_user
        command -v runuser >/dev/null || die "runuser (util-linux) is needed to run PostgreSQL as 'postgres'"
    fi

    mkdir -p -- "$DIR"
    chmod 0755 "$DIR"
    : >"$DIR/$MARKER"
    if is_root; then chown postgres: "$DIR" "$DIR/$MARKER"; fi

    # Unix socket paths are limited to 107 bytes; ".s.PGSQL.NNNNN.lock" is the longest name.
    RUN=$DIR
    if ((${#DIR} + 20 > 100)) || ! as_owner test -w "$DIR" -a -x "$DIR"; then
        RUN=$(mktemp -d /tmp/tdcflow-pg.XXXXXX)
        chmod 0755 "$RUN"
        : >"$RUN/$MARKER"
        if is_root; then chown postgres: "$RUN" "$RUN/$MARKER"; fi
        printf '%s\n' "$RUN" >"$DIR/rundir"
        say "$DIR is not usable by the server's owner (or too long for a socket path); the cluster lives in $RUN"
    fi

    local data=$RUN/data
    LOGFILE=$RUN/server.log
    local initlog=$RUN/initdb.log
    as_owner touch "$LOGFILE" "$initlog"

    # initdb: C.UTF-8 when the system has it, else plain C.
    local locale
    for locale in C.UTF-8 C; do
        if as_owner "$BINDIR/initdb" -D "$data" --auth=trust -U postgres --encoding=UTF8 \
            --locale="$locale" --no-sync >"$initlog" 2>&1; then
            break
        fi
        if [[ "$locale" == C ]]; then
            LOGFILE=$initlog
            die "initdb failed"
        fi
        say "initdb with --locale=C.UTF-8 failed; retrying with --locale=C"
        as_owner rm -rf -- "$data"
    done

    local sockdir_sql=${RUN//\'/\'\'}
    cat >>"$data/postgresql.conf" <<EOF

# --- throw-away test server settings (scripts/pg.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir_sql'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

    # Start on a free port; another process may grab the port first, so retry a few times.
    local port attempt started=0
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        say "starting the server on 127.0.0.1:$port"
        if as_owner "$BINDIR/pg_ctl" start -D "$data" -l "$LOGFILE" -o "-p $port" -w -t 60 >&2; then
            started=1
            break
        fi
        if grep -qiE 'could not (bind|create listen socket)|address already in use' "$LOGFILE"; then
            say "port $port was taken (attempt $attempt); trying another"
            as_owner "$BINDIR/pg_ctl" stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1 || true
            continue
        fi
        break
    done
    if ((!started)); then
        as_owner "$BINDIR/pg_ctl" stop -D "$data" -m immediate -w -t 10 >/dev/null 2>&1 || true
        die "the PostgreSQL server did not start"
    fi

    local pg_isready i
    pg_isready=$(tool pg_isready)
    for ((i = 0; i < 60; i++)); do
        "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres && break
        sleep 0.5
    done
    "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        || die "the server started but does not accept connections on 127.0.0.1:$port"

    "$(tool createdb)" -h 127.0.0.1 -p "$port" -U postgres "$DBNAME" \
        || die "could not create database $DBNAME"

    local url="postgresql+psycopg://postgres@127.0.0.1:$port/$DBNAME"
    printf '%s\n' "$url" >"$DIR/url"
    printf '%s\n' "$port" >"$DIR/port"
    say "ready: $url (stop with: $0 stop $DIR)"
    printf '%s\n' "$url"
}

cmd_stop() {
    resolve_dir "${1:-}"
    if [[ ! -e "$DIR" ]]; then
        say "$DIR does not exist; nothing to stop"
        return 0
    fi
    stop_and_remove
    say "stopped and removed $DIR"
}

main() {
    (($# == 2)) || usage
    case "$1" in
        start) cmd_start "$2" ;;
        stop) cmd_stop "$2" ;;
        *) usage ;;
    esac
}

main "$@"
