#!/usr/bin/env bash
# The README's commands (`npm test`, `npm run demo`, `npm run bench -- <name>`) come here.
# Each first makes sure this machine has what it needs (a fresh Debian 12 with only Node 20 and
# npm is enough): apt packages, then `npm ci` when node_modules is missing or stale, then it runs
# everything on the project's own Node 26 (node_modules/.bin/node).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
cmd=${1:?usage: run.sh test|demo|bench [args]}; shift || true

APT_PACKAGES=(iproute2 nftables libnftables1 iptables conntrack etcd-server etcd-client bird2 gobgpd
  containernetworking-plugins podman runc busybox-static iperf3 hyperfine procps psmisc openssl)

ensure_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [ "$(id -u)" != 0 ]; then
      echo "calico-ts: missing apt packages (${missing[*]}); run as root or install them" >&2; exit 1
    fi
    echo "calico-ts: installing apt packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # etcd-server's package starts a system etcd on the default ports; ours start their own.
    if systemctl is-active --quiet etcd 2>/dev/null; then systemctl stop etcd || true; fi
  fi
}

ensure_npm() {
  local stamp=node_modules/.calico-ts-lock-hash
  # The lockfile changes whenever dependencies do; package.json edits to scripts or exports
  # need no reinstall.
  local want; want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -x node_modules/.bin/node ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "calico-ts: npm ci" >&2
    npm ci --no-fund --no-audit --loglevel=error
    echo "$want" > "$stamp"
  fi
  case "$(node_modules/.bin/node --version)" in
    v26.*) ;;
    *) echo "calico-ts: node_modules/.bin/node is not Node 26" >&2; exit 1 ;;
  esac
}

ensure_apt
ensure_npm
export PATH="$ROOT/node_modules/.bin:$PATH"

case "$cmd" in
  test)  exec node scripts/test.ts "$@" ;;
  demo)  exec node scripts/demo.ts "$@" ;;
  bench) exec node bench/run.ts "$@" ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
