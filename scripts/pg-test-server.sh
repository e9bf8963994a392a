#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and benchmarks, on a free 127.0.0.1 port.
#   scripts/pg-test-server.sh install        installs Debian's postgresql when missing (root; apt-get)
#   scripts/pg-test-server.sh start <dir>    installs if needed, creates a cluster in <dir>, starts it and
#                                            prints its URL (postgres://postgres@127.0.0.1:<port>/postgres)
#   scripts/pg-test-server.sh stop <dir>     stops the cluster and removes <dir>
# PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user (runuser).
set -euo pipefail

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$d" && -x "$d/pg_ctl" ]]; then echo "$d"; fi
}

install() {
  if [[ -n "$(pg_bin)" ]]; then return 0; fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "pg-test-server: PostgreSQL is not installed and this is not root; run 'sudo apt-get install postgresql' or set TEST_DATABASE_URL" >&2
    exit 1
  fi
  echo "pg-test-server: installing Debian's postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
  # The package starts a system cluster; tests use their own.
  if command -v pg_ctlcluster >/dev/null; then
    for c in $(pg_lsclusters -h 2>/dev/null | awk '{print $1"/"$2}'); do pg_ctlcluster "${c%/*}" "${c#*/}" stop 2>/dev/null || true; done
  fi
  [[ -n "$(pg_bin)" ]] || { echo "pg-test-server: postgresql installed but pg_ctl not found" >&2; exit 1; }
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local dir=${1:?usage: start <dir>}
  install
  local bin port
  bin=$(pg_bin)
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$dir"; fi
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir=${1:?usage: stop <dir>}
  local bin
  bin=$(pg_bin)
  if [[ -n "$bin" && -d "$dir/data" ]]; then as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 install | start <dir> | stop <dir>" >&2; exit 2 ;;
esac
