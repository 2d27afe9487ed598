# A throwaway PostgreSQL for the tests that need one (sourced by .ci/run).
#
# `start_throwaway_postgres` initialises a cluster in a temporary folder as
# an unprivileged user (the server refuses to run as root), trusts local
# connections, listens on 127.0.0.1 on a free port, and exports
# KIT_DATABASE_URL. An EXIT trap stops the server and removes the folder,
# whether CI passes or fails. Without PostgreSQL binaries it says so and
# returns 1: the postgres tests then print that they were skipped.

pg_bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

# A port nobody listens on right now: the kernel picks it where python3 is
# there; otherwise a random high port that `ss` does not show in use.
pg_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    ss -ltn 2>/dev/null | grep -q ":$port " || { echo "$port"; return; }
  done
}

start_throwaway_postgres() {
  local bin port user
  bin="$(pg_bindir)" || { echo "no PostgreSQL binaries: the postgres tests will be skipped"; return 1; }
  user="${KIT_PG_USER:-nobody}"
  [ "$(id -u)" = 0 ] || user="$(id -un)"
  port="$(pg_free_port)"
  PG_BIN="$bin"
  PG_USER="$user"
  PG_TMP="$(mktemp -d /tmp/kit-pg.XXXXXX)"
  chown "$user" "$PG_TMP" 2>/dev/null || true
  chmod 700 "$PG_TMP"
  trap stop_throwaway_postgres EXIT
  as_pg_user() { if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi; }
  as_pg_user "$bin/initdb" -D "$PG_TMP/data" -U "$user" --auth=trust -E UTF8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log"; return 1; }
  # Enough connections for the tests (pools of 10 and 100, blocking servers
  # with one connection per thread), the socket in the temp folder.
  as_pg_user "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_TMP -c max_connections=300 -c fsync=off" \
    start >/dev/null || { cat "$PG_TMP/server.log"; return 1; }
  export KIT_DATABASE_URL="postgres://$user@127.0.0.1:$port/postgres"
  echo "throwaway PostgreSQL at $KIT_DATABASE_URL (data in $PG_TMP)"
}

stop_throwaway_postgres() {
  [ -n "${PG_TMP:-}" ] || return 0
  if [ -f "$PG_TMP/data/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then
      runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    else
      "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$PG_TMP"
  PG_TMP=
}
