#!/usr/bin/env bash
# Private PostgreSQL and MariaDB instances for the SQL-source tests.
#
#   scripts/test_services.sh start   install packages if missing, start both servers
#   scripts/test_services.sh env     print `export KPI_TEST_PG_URL=...` / `export KPI_TEST_MYSQL_URL=...`
#   scripts/test_services.sh stop    stop only the servers that `start` started
#
#   eval "$(scripts/test_services.sh env)"
#
# Environment:
#   KPI_SERVICES_DIR      state dir (data, sockets, logs, bookkeeping); default /tmp/kpi-test-services
#   KPI_TEST_PG_PORT      PostgreSQL port; default 54329 (if the default is taken by a
#                         foreign process the next free port is used; an explicit one must be free)
#   KPI_TEST_MYSQL_PORT   MariaDB port; default 33069 (same rule)
#   KPI_SERVICES_TIMEOUT  seconds to wait for a server to accept connections; default 60
#
# Both servers listen on 127.0.0.1 only. Each gets a database kpi_test and a user
# kpi/kpi with full rights on it. As root the servers run as the `postgres` and
# `mysql` system users; as any other user they run as that user.
# Bookkeeping: <state>/pg.started and <state>/mysql.started hold the pid of a server
# that `start` launched; `stop` stops only those (and only if the pid still matches).
set -euo pipefail

STATE_DIR="${KPI_SERVICES_DIR:-/tmp/kpi-test-services}"
TIMEOUT="${KPI_SERVICES_TIMEOUT:-60}"
DB_NAME=kpi_test
DB_USER=kpi
DB_PASS=kpi

log() { printf '[test_services] %s\n' "$*" >&2; }
die() { printf '[test_services] ERROR: %s\n' "$*" >&2; exit 1; }

IS_ROOT=0
[ "$(id -u)" -eq 0 ] && IS_ROOT=1

# ---------------------------------------------------------------- helpers

# Run a command as another OS user (from /, so no "cannot change directory" noise).
run_as() {
    local user="$1"; shift
    if [ "$IS_ROOT" -eq 1 ]; then
        (cd / && runuser -u "$user" -- "$@")
    else
        (cd / && "$@")
    fi
}

as_root() {
    if [ "$IS_ROOT" -eq 1 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        die "need root (or passwordless sudo) to run: $*"
    fi
}

# True if something accepts TCP connections on 127.0.0.1:$1.
tcp_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True if pid $1 exists and is not a zombie (an orphaned server that exited may stay
# a zombie until its new parent reaps it).
pid_alive() {
    local state
    [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true)
    [ "$state" != Z ]
}

validate_port() {
    case "$1" in
        ''|*[!0-9]*) die "invalid port '$1'" ;;
    esac
    if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then die "invalid port '$1'"; fi
}

# choose_port NAME DEFAULT EXPLICIT_VALUE
# Prints a port that nothing listens on. An explicitly requested port must be free;
# the default may be bumped to the next free one.
choose_port() {
    local name="$1" default="$2" explicit="$3" port
    if [ -n "$explicit" ]; then
        validate_port "$explicit"
        tcp_open "$explicit" && die "$name: port $explicit (from the environment) is already in use by another process"
        echo "$explicit"; return
    fi
    for port in $(seq "$default" $((default + 50))); do
        if ! tcp_open "$port"; then
            [ "$port" != "$default" ] && log "$name: port $default is in use by another process, using $port"
            echo "$port"; return
        fi
    done
    die "$name: no free port in $default..$((default + 50))"
}

wait_tcp() {
    local name="$1" port="$2" pid="$3" logfile="$4" waited=0
    while ! tcp_open "$port"; do
        if [ -n "$pid" ] && ! pid_alive "$pid"; then
            log "$name exited during startup; last lines of $logfile:"
            tail -n 25 "$logfile" >&2 2>/dev/null || true
            die "$name failed to start"
        fi
        if [ "$waited" -ge $((TIMEOUT * 2)) ]; then
            log "last lines of $logfile:"
            tail -n 25 "$logfile" >&2 2>/dev/null || true
            die "$name did not accept TCP connections on 127.0.0.1:$port within ${TIMEOUT}s"
        fi
        sleep 0.5; waited=$((waited + 1))   # half-seconds
    done
}

# ---------------------------------------------------------------- binaries

find_pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/psql" ]; then
        echo "$d"
    fi
}

# find_bin NAME... : first executable found in PATH, /usr/sbin, /usr/bin
find_bin() {
    local n d
    for n in "$@"; do
        if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return; fi
        for d in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
            if [ -x "$d/$n" ]; then echo "$d/$n"; return; fi
        done
    done
}

find_mysqld() { find_bin mariadbd mysqld; }

ensure_packages() {
    local pkgs=()
    [ -n "$(find_pg_bindir)" ] || pkgs+=(postgresql)
    [ -n "$(find_mysqld)" ] || pkgs+=(mariadb-server)
    [ "${#pkgs[@]}" -eq 0 ] && return 0

    command -v apt-get >/dev/null 2>&1 || die "missing ${pkgs[*]} and no apt-get to install them"
    log "installing ${pkgs[*]} (apt-get update + install; servers' own init is blocked)"

    # Block the packages' init scripts from starting system-wide services during the
    # install: a policy-rc.d that exits 101. An existing one that already denies is
    # left alone; any other one is set aside and put back afterwards.
    local policy=/usr/sbin/policy-rc.d backup="" created=0 rc=0
    if [ -e "$policy" ]; then
        "$policy" postgresql start >/dev/null 2>&1 || rc=$?
        if [ "$rc" -ne 101 ]; then
            backup="$policy.kpi-test-services.$$"
            as_root mv "$policy" "$backup"
        fi
    fi
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > '$policy' && chmod 755 '$policy'"
        created=1
    fi
    # shellcheck disable=SC2064
    trap "restore_policy '$policy' '$created' '$backup'" EXIT

    local t0=$SECONDS status=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q </dev/null >/tmp/kpi-test-services-apt.log 2>&1 \
        && as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${pkgs[@]}" </dev/null >>/tmp/kpi-test-services-apt.log 2>&1 \
        || status=$?
    restore_policy "$policy" "$created" "$backup"
    trap - EXIT
    if [ "$status" -ne 0 ]; then
        tail -n 30 /tmp/kpi-test-services-apt.log >&2 || true
        die "apt-get failed (exit $status) installing ${pkgs[*]}; full log: /tmp/kpi-test-services-apt.log"
    fi
    log "installed ${pkgs[*]} in $((SECONDS - t0))s"
    [ -n "$(find_pg_bindir)" ] || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
    [ -n "$(find_mysqld)" ] || die "mariadb-server installed but no mariadbd/mysqld found"
}

restore_policy() {
    local policy="$1" created="$2" backup="$3"
    if [ "$created" = 1 ]; then as_root rm -f "$policy" || true; fi
    if [ -n "$backup" ] && [ -e "$backup" ]; then as_root mv "$backup" "$policy" || true; fi
}

# ---------------------------------------------------------------- PostgreSQL

PG_DIR="$STATE_DIR/pg"
PG_DATA="$PG_DIR/data"
PG_RUN="$PG_DIR/run"
PG_LOG="$PG_DIR/postgres.log"
PG_MARK="$STATE_DIR/pg.started"
PG_PORTFILE="$STATE_DIR/pg.port"

pg_os_user() { if [ "$IS_ROOT" -eq 1 ]; then echo postgres; else id -un; fi; }

# pid of the postmaster running on $PG_DATA, or nothing
pg_running_pid() {
    local bindir="$1" pid
    [ -f "$PG_DATA/postmaster.pid" ] || return 0
    run_as "$(pg_os_user)" "$bindir/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1 || return 0
    pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
    pid_alive "$pid" && echo "$pid"
    return 0
}

pg_psql() {
    local bindir="$1" port="$2"; shift 2
    run_as "$(pg_os_user)" "$bindir/psql" -h "$PG_RUN" -p "$port" -U "$(pg_os_user)" -d postgres \
        -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

pg_start() {
    local bindir user pid port
    bindir=$(find_pg_bindir)
    user=$(pg_os_user)
    if [ "$IS_ROOT" -eq 1 ]; then id postgres >/dev/null 2>&1 || die "system user 'postgres' does not exist"; fi

    mkdir -p "$PG_DIR"
    [ "$IS_ROOT" -eq 1 ] && chown "$user:" "$PG_DIR"
    run_as "$user" test -w "$PG_DIR" || die "user $user cannot write $PG_DIR (is every parent of $STATE_DIR traversable?)"

    pid=$(pg_running_pid "$bindir")
    if [ -n "$pid" ]; then
        port=$(sed -n 4p "$PG_DATA/postmaster.pid")
        log "postgres: already running (pid $pid, port $port), reusing it"
    else
        [ -f "$PG_MARK" ] && { log "postgres: stale bookkeeping (server not running), clearing it"; rm -f "$PG_MARK"; }
        port=$(choose_port postgres 54329 "${KPI_TEST_PG_PORT:-}")
        local sock="$PG_RUN/.s.PGSQL.$port"
        [ "${#sock}" -lt 100 ] || die "socket path $sock is too long; use a shorter KPI_SERVICES_DIR"
        if [ ! -f "$PG_DATA/PG_VERSION" ]; then
            log "postgres: initdb $PG_DATA ($(basename "$(dirname "$bindir")"))"
            rm -rf "$PG_DATA"
            run_as "$user" "$bindir/initdb" -D "$PG_DATA" -U "$user" -E UTF8 --locale=C \
                --auth-local=peer --auth-host=scram-sha-256 -N >"$PG_DIR/initdb.log" 2>&1 \
                || { tail -n 20 "$PG_DIR/initdb.log" >&2; die "postgres: initdb failed"; }
            cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- kpi test instance (scripts/test_services.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_RUN'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
        fi
        mkdir -p "$PG_RUN"
        [ "$IS_ROOT" -eq 1 ] && chown "$user:" "$PG_RUN" "$PG_DATA/postgresql.conf"
        chmod 700 "$PG_RUN"
        log "postgres: starting on 127.0.0.1:$port"
        run_as "$user" "$bindir/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -o "-p $port" -w -t "$TIMEOUT" start \
            </dev/null >/dev/null 2>&1 9>&- \
            || { log "last lines of $PG_LOG:"; tail -n 25 "$PG_LOG" >&2 2>/dev/null || true; die "postgres: pg_ctl start failed"; }
        pid=$(head -n 1 "$PG_DATA/postmaster.pid")
        echo "$pid" >"$PG_MARK"
        STARTED_NOW+=(pg)
    fi
    wait_tcp postgres "$port" "$pid" "$PG_LOG"
    echo "$port" >"$PG_PORTFILE"

    pg_psql "$bindir" "$port" >/dev/null <<SQL || die "postgres: creating database/user failed"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') THEN
    CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS';
  ELSE
    ALTER ROLE $DB_USER LOGIN PASSWORD '$DB_PASS';
  END IF;
END \$\$;
SELECT 'CREATE DATABASE $DB_NAME OWNER $DB_USER ENCODING ''UTF8'' TEMPLATE template0'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
ALTER DATABASE $DB_NAME OWNER TO $DB_USER;
SQL
    log "postgres: ready on 127.0.0.1:$port (pid $pid)"
}

pg_stop() {
    local bindir pid marked
    [ -f "$PG_MARK" ] || { log "postgres: no server recorded as started by start, nothing to stop"; return 0; }
    marked=$(cat "$PG_MARK")
    bindir=$(find_pg_bindir)
    pid=""
    [ -n "$bindir" ] && pid=$(pg_running_pid "$bindir")
    if [ -z "$pid" ]; then
        log "postgres: not running"
    elif [ "$pid" != "$marked" ]; then
        log "postgres: running pid $pid is not the one start launched ($marked), leaving it alone"
    else
        log "postgres: stopping pid $pid"
        run_as "$(pg_os_user)" "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1 \
            || die "postgres: pg_ctl stop failed (pid $pid)"
        rm -f "$PG_PORTFILE"
    fi
    rm -f "$PG_MARK"
}

# ---------------------------------------------------------------- MariaDB

MY_DIR="$STATE_DIR/mysql"
MY_DATA="$MY_DIR/data"
MY_RUN="$MY_DIR/run"
MY_SOCK="$MY_RUN/mysqld.sock"
MY_PIDFILE="$MY_RUN/mysqld.pid"
MY_LOG="$MY_DIR/mysqld.log"
MY_CNF="$MY_DIR/my.cnf"
MY_MARK="$STATE_DIR/mysql.started"
MY_PORTFILE="$STATE_DIR/mysql.port"

my_os_user() { if [ "$IS_ROOT" -eq 1 ]; then echo mysql; else id -un; fi; }
# DB account used over the socket: unix_socket auth maps the OS user running the client.
my_admin_user() { if [ "$IS_ROOT" -eq 1 ]; then echo root; else id -un; fi; }

my_running_pid() {
    local pid comm
    [ -f "$MY_PIDFILE" ] || return 0
    pid=$(cat "$MY_PIDFILE" 2>/dev/null || true)
    pid_alive "$pid" || return 0
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    case "$comm" in mariadbd|mysqld) echo "$pid" ;; esac
    return 0
}

write_my_cnf() {
    local port="$1"
    cat >"$MY_CNF" <<EOF
# generated by scripts/test_services.sh
[mysqld]
datadir = $MY_DATA
socket = $MY_SOCK
pid-file = $MY_PIDFILE
port = $port
bind-address = 127.0.0.1
skip-name-resolve
log-error = $MY_LOG
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
innodb_buffer_pool_size = 64M
innodb_log_file_size = 48M
innodb_flush_log_at_trx_commit = 2
innodb_doublewrite = 0
skip-log-bin
$([ "$IS_ROOT" -eq 1 ] && echo "user = mysql")

[client]
socket = $MY_SOCK
EOF
    chmod 644 "$MY_CNF"
}

my_client() {
    local client
    client=$(find_bin mariadb mysql)
    [ -n "$client" ] || die "mariadb: no mariadb/mysql client found"
    "$client" --defaults-file="$MY_CNF" --protocol=socket -u "$(my_admin_user)" "$@"
}

my_start() {
    local mysqld installdb user pid port
    mysqld=$(find_mysqld)
    installdb=$(find_bin mariadb-install-db mysql_install_db)
    [ -n "$installdb" ] || die "mariadb: mariadb-install-db not found"
    user=$(my_os_user)
    if [ "$IS_ROOT" -eq 1 ]; then id mysql >/dev/null 2>&1 || die "system user 'mysql' does not exist"; fi

    mkdir -p "$MY_DIR"
    [ "$IS_ROOT" -eq 1 ] && chown "$user:" "$MY_DIR"
    run_as "$user" test -w "$MY_DIR" || die "user $user cannot write $MY_DIR (is every parent of $STATE_DIR traversable?)"

    pid=$(my_running_pid)
    if [ -n "$pid" ]; then
        port=$(sed -n 's/^port = //p' "$MY_CNF" 2>/dev/null || true)
        [ -n "$port" ] || die "mariadb: running (pid $pid) but $MY_CNF has no port"
        log "mariadb: already running (pid $pid, port $port), reusing it"
    else
        [ -f "$MY_MARK" ] && { log "mariadb: stale bookkeeping (server not running), clearing it"; rm -f "$MY_MARK"; }
        port=$(choose_port mariadb 33069 "${KPI_TEST_MYSQL_PORT:-}")
        [ "${#MY_SOCK}" -lt 100 ] || die "socket path $MY_SOCK is too long; use a shorter KPI_SERVICES_DIR"
        mkdir -p "$MY_RUN"
        write_my_cnf "$port"
        rm -f "$MY_PIDFILE" "$MY_SOCK"
        [ "$IS_ROOT" -eq 1 ] && chown "$user:" "$MY_RUN"
        if [ ! -d "$MY_DATA/mysql" ]; then
            log "mariadb: install-db $MY_DATA"
            rm -rf "$MY_DATA"
            mkdir -p "$MY_DATA"
            [ "$IS_ROOT" -eq 1 ] && chown "$user:" "$MY_DATA"
            chmod 700 "$MY_DATA"
            "$installdb" --defaults-file="$MY_CNF" --skip-test-db --auth-root-authentication-method=socket \
                </dev/null >"$MY_DIR/install-db.log" 2>&1 \
                || { tail -n 20 "$MY_DIR/install-db.log" >&2; die "mariadb: mariadb-install-db failed"; }
        fi
        log "mariadb: starting on 127.0.0.1:$port"
        # Fully detached: no inherited stdin/stdout/stderr or lock fd 9, own session.
        setsid "$mysqld" --defaults-file="$MY_CNF" </dev/null >>"$MY_LOG.stdout" 2>&1 9>&- &
        pid=$!
        # The server writes its pid file once up; our $! is that very process (setsid execs).
        echo "$pid" >"$MY_MARK"
        STARTED_NOW+=(mysql)
    fi
    wait_tcp mariadb "$port" "$pid" "$MY_LOG"
    local waited=0
    until [ -S "$MY_SOCK" ] && my_client -e 'SELECT 1' >/dev/null 2>&1; do
        [ "$waited" -lt "$TIMEOUT" ] || die "mariadb: socket $MY_SOCK not usable within ${TIMEOUT}s"
        sleep 1; waited=$((waited + 1))
    done
    if [ -f "$MY_MARK" ]; then
        local filepid
        filepid=$(cat "$MY_PIDFILE" 2>/dev/null || true)
        [ -z "$filepid" ] || [ "$filepid" = "$(cat "$MY_MARK")" ] || echo "$filepid" >"$MY_MARK"
    fi
    echo "$port" >"$MY_PORTFILE"

    my_client <<SQL || die "mariadb: creating database/user failed"
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON $DB_NAME.* TO '$DB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL
    log "mariadb: ready on 127.0.0.1:$port (pid $(my_running_pid))"
}

my_stop() {
    local pid marked waited=0
    [ -f "$MY_MARK" ] || { log "mariadb: no server recorded as started by start, nothing to stop"; return 0; }
    marked=$(cat "$MY_MARK")
    pid=$(my_running_pid)
    if [ -z "$pid" ]; then
        log "mariadb: not running"
    elif [ "$pid" != "$marked" ]; then
        log "mariadb: running pid $pid is not the one start launched ($marked), leaving it alone"
    else
        log "mariadb: stopping pid $pid"
        local admin
        admin=$(find_bin mariadb-admin mysqladmin)
        if [ -z "$admin" ] || ! "$admin" --defaults-file="$MY_CNF" --protocol=socket -u "$(my_admin_user)" \
                shutdown >/dev/null 2>&1; then
            log "mariadb: admin shutdown failed, sending SIGTERM to $pid"
            kill -TERM "$pid" 2>/dev/null || true
        fi
        while pid_alive "$pid"; do
            if [ "$waited" -ge $((TIMEOUT * 2)) ]; then
                log "mariadb: pid $pid still alive after ${TIMEOUT}s, sending SIGKILL"
                kill -KILL "$pid" 2>/dev/null || true
                sleep 1
                break
            fi
            sleep 0.5; waited=$((waited + 1))
        done
        pid_alive "$pid" && die "mariadb: could not stop pid $pid"
        rm -f "$MY_PORTFILE"
    fi
    rm -f "$MY_MARK"
}

# ---------------------------------------------------------------- commands

with_lock() {
    mkdir -p "$STATE_DIR"
    chmod 755 "$STATE_DIR" 2>/dev/null || true
    exec 9>"$STATE_DIR/.lock"
    # Servers are launched with 9>&- so they never hold this lock.
    flock -w 300 9 || die "another test_services.sh holds $STATE_DIR/.lock"
}

# Servers launched by this very `start`; if it fails part-way they are stopped again so
# a failed start leaves nothing running that the caller would not know to stop.
STARTED_NOW=()
rollback_start() {
    local status=$? s
    [ "$status" -ne 0 ] || return 0
    for s in "${STARTED_NOW[@]}"; do
        log "start failed: stopping the $s server this call launched"
        case "$s" in pg) (pg_stop) || true ;; mysql) (my_stop) || true ;; esac
    done
    exit "$status"
}

cmd_start() {
    local t0=$SECONDS
    ensure_packages
    with_lock
    trap rollback_start EXIT
    pg_start
    my_start
    trap - EXIT
    log "started in $((SECONDS - t0))s; state in $STATE_DIR"
}

cmd_stop() {
    [ -d "$STATE_DIR" ] || { log "nothing to stop ($STATE_DIR does not exist)"; return 0; }
    with_lock
    local status=0
    (pg_stop) || status=1
    (my_stop) || status=1
    [ "$status" -eq 0 ] || die "stop finished with errors"
}

cmd_env() {
    local pg_port my_port
    pg_port=$(cat "$PG_PORTFILE" 2>/dev/null || echo "${KPI_TEST_PG_PORT:-54329}")
    my_port=$(cat "$MY_PORTFILE" 2>/dev/null || echo "${KPI_TEST_MYSQL_PORT:-33069}")
    echo "export KPI_TEST_PG_URL=postgresql+psycopg://$DB_USER:$DB_PASS@127.0.0.1:$pg_port/$DB_NAME"
    echo "export KPI_TEST_MYSQL_URL=mysql+pymysql://$DB_USER:$DB_PASS@127.0.0.1:$my_port/$DB_NAME"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    env) cmd_env ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
