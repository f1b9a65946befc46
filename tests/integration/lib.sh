# TAP helpers for the integration tests (sourced).  Each script prints "ok N - ..." lines and
# a closing plan; `top_srcdir`, `top_builddir` and `MPIRUN` come from `make check`.
set -u
: "${top_builddir:=$(pwd)}" "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}" "${MPIRUN:=mpirun}"
BENCH="$top_builddir/benchmarks"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sbtest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
done_testing() { echo "1..$tap_n"; exit 0; }

# Test-only launcher settings: root in a container, more ranks than cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_hwloc_base_binding_policy=none
# Every run is bounded (SB_TEST_TIMEOUT seconds, default 180) so a hang fails the test, not CI.
mpi() { np=$1; shift; timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$MPIRUN" --oversubscribe -np "$np" "$@"; }

# jq_all FILE FILTER: true when FILTER is true for every result record of FILE.
jq_all() { jq -s -e "[.[] | select(.type == \"result\")] | length > 0 and all($2)" "$1" >/dev/null; }
# jqs ARGS...: jq -s -e over a file, quiet; true when the filter is.
jqs() { jq -s -e "$@" >/dev/null; }
# refused NEEDLE NP PROGRAM ARGS...: PROGRAM refuses ARGS: exit 2, exactly one line of its own on
# stderr containing NEEDLE (a fixed string), no table row on stdout.  NP 0 runs it alone (a
# singleton, no launcher); else under mpirun -np NP, whose own banner about the exit code is
# not counted.
refused() {
  needle=$1 np=$2; shift 2
  prog=$(basename "$1")
  if [ "$np" -eq 0 ]; then "$@" >"$TMP/refused.out" 2>"$TMP/refused.err"; else mpi "$np" "$@" >"$TMP/refused.out" 2>"$TMP/refused.err"; fi
  rc=$?
  lines=$(grep -c "^$prog:" "$TMP/refused.err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -qF -- "$needle" "$TMP/refused.err" && ! grep -q '^ ' "$TMP/refused.out"; then
    ok "refused ($np ranks): $prog ${*#"$1"} -> $(grep -m1 "^$prog:" "$TMP/refused.err")"
  else
    not_ok "refused ($np ranks): $prog ${*#"$1"} (exit $rc, $lines lines of its own: $(head -c 300 "$TMP/refused.err"))"
  fi
}
jq_count() { jq -s "[.[] | select(.type == \"result\")] | length" "$1"; }

# use_emulated_cluster: skips the whole script unless this machine can make network namespaces
# (root, ip netns, tc); else makes sure no namespace of $SB_NETNS_PREFIX stays behind, whatever
# happens (NETNS names scripts/sb-netns).
use_emulated_cluster() {
  if [ "$(id -u)" -ne 0 ]; then
    skip "not root: network namespaces need root (run make check as root for the emulated cluster)"
    done_testing
  fi
  if ! ip netns list >/dev/null 2>&1 || ! command -v tc >/dev/null 2>&1; then
    skip "'ip netns' or tc unavailable: no emulated cluster on this system"
    done_testing
  fi
  trap '"$NETNS" down >/dev/null 2>&1; rm -rf "$TMP"' EXIT
  trap 'exit 1' INT TERM HUP
}
