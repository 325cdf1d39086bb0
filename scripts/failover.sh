#!/usr/bin/env bash
# The failover test: three PostgreSQL nodes under Patroni in synchronous mode, over etcd, the
# service reaching the primary through HAProxy on Patroni's health checks (the configuration
# files are scripts/failover/patroni.yml and haproxy.cfg), a load of submissions, then SIGKILL
# of the primary's postmaster. It checks that every acknowledged submission is on the new
# primary exactly once, the hash chain verifies, the read models converge and the old primary
# rejoins; it prints the time without a primary (docs/scaling.md §3 records the last run).
#
#   scripts/failover.sh            the failover test
#   scripts/failover.sh --bench    the benchmark on a single server and on the cluster
#
# Installs Debian's patroni, etcd-server and haproxy when missing (network once); runs as root
# or as a user who may run PostgreSQL. Everything runs on this machine, on free ports, in a
# temporary folder removed afterwards; the machine's own PostgreSQL is not touched.
set -euo pipefail

cd "$(dirname "$0")/.."
. scripts/lib.sh

if ! command -v patroni >/dev/null || ! command -v etcd >/dev/null || ! command -v haproxy >/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends patroni etcd-server haproxy
fi

# Debian starts etcd and haproxy as services when it installs them where systemd runs; the
# test starts its own, on ports of its own, so those can stay as they are.
if [ "${1:-}" = "--bench" ]; then
    # `koordynator bench` on a single server, then on the synchronous cluster (the release
    # binary; JSON in docs/benchmarks-ha/). Takes a few minutes.
    cargo build --release -p service --bin koordynator
    KOORDYNATOR_BENCH_BIN="$(target_dir)/release/koordynator" cargo test --workspace --test process -- --ignored --exact \
        failover::benchmark_of_a_single_server_beside_the_synchronous_cluster --nocapture
    exit
fi
cargo test --workspace --test process -- --ignored --exact \
    failover::failover_to_the_synchronous_standby_loses_no_acknowledged_submission --nocapture
