#!/bin/sh
# sb_topo as a tool: usage errors (exit 2, one stderr line, once under mpirun), the saved
# machines of tests/fixtures (GPU-NIC matrix, planned ranks, "no GPU found"), this machine's
# counts against hwloc-calc, and one line per rank under mpirun.
. "$(dirname "$0")/lib.sh"
SBT="$top_builddir/benchmarks/sb_topo"
FIX="$top_srcdir/tests/fixtures"
jqe() { jq -e "$@" >/dev/null; }

# refuse NEEDLE ARGS...: exit 2, exactly one stderr line containing NEEDLE, nothing on stdout.
refuse() {
  needle=$1; shift
  "$SBT" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q -- "$needle" "$TMP/err" && [ ! -s "$TMP/out" ]; then
    ok "refused: $* -> $(cat "$TMP/err")"
  else
    not_ok "refused: $* (rc=$rc: $(head -c 300 "$TMP/err"))"
  fi
}
refuse "unknown option '--bogus'" --bogus
refuse "unknown option '-z'" -z
refuse "invalid --bind 'socket'" --bind socket
refuse "option '--bind' needs a value" --bind
refuse "invalid --mem-node 'far'" --mem-node far
refuse "invalid --mem-bytes '0'" --mem-node local --mem-bytes 0
refuse "invalid --plan '0'" --plan 0
refuse "unexpected argument 'extra'" extra
refuse "cannot read hwloc XML topology '/nonexistent.xml'" --input /nonexistent.xml
refuse "--mem-node needs real ranks" --plan 2 --mem-node 0

mpi 2 "$SBT" --bind nope >"$TMP/out" 2>"$TMP/err"; rc=$?
check "under mpirun -np 2: exit 2, the error comes once" \
  sh -c "[ $rc -eq 2 ] && [ \$(grep -c \"invalid --bind 'nope'\" '$TMP/err') -eq 1 ]"
check "--help exits 0 and documents --bind and --mem-node" \
  sh -c "'$SBT' --help | grep -q -- '--bind MODE' && '$SBT' --help | grep -q -- '--mem-node POLICY'"
check "--version exits 0" sh -c "'$SBT' --version | grep -q scalebench"

# the 2-package, 4-node, 8-GPU machine
"$SBT" --input "$FIX/dgx-h100.xml" --plan 8 --gpus >"$TMP/dgx.txt" 2>"$TMP/err"; rc=$?
check "dgx fixture: exit 0, 8 GPUs and 5 NICs listed" \
  sh -c "[ $rc -eq 0 ] && grep -q '^GPUs: 8$' '$TMP/dgx.txt' && grep -q '^NICs: 5$' '$TMP/dgx.txt'"
check "dgx fixture: affinity matrix rows (GPU0: NODE PIX SYS SYS SYS, GPU6: ... PHB)" \
  sh -c "grep -Eq '^GPU0 +NODE +PIX +SYS +SYS +SYS +0-7,32-39 +0$' '$TMP/dgx.txt' && grep -Eq '^GPU6 +SYS +SYS +SYS +SYS +PHB ' '$TMP/dgx.txt'"
check "dgx fixture: 8 planned rank lines, rank 5 on NUMA node 2 near cuda5 and mlx5_2" \
  sh -c "[ \$(grep -c '^  rank ' '$TMP/dgx.txt') -eq 8 ] && grep -q '^  rank 5 .*NUMA node 2, cores 16-23 .*GPU cuda5 .*near NICs: mlx5_2' '$TMP/dgx.txt'"
"$SBT" --input "$FIX/dgx-h100.xml" --plan 4 --json >"$TMP/dgx.json" 2>"$TMP/err"; rc=$?
check "dgx fixture --json: auto places 4 ranks on NUMA nodes 0, 2, 1, 3 (cores 0, 16, 8, 24)" \
  sh -c "[ $rc -eq 0 ] && jq -e '[.ranks[] | .cores] == [\"0\",\"16\",\"8\",\"24\"] and [.ranks[] | .numa_nodes[0]] == [0,2,1,3] and .ranks_are == \"planned\"' '$TMP/dgx.json' >/dev/null"

"$SBT" --input "$FIX/vm-1n.xml" >"$TMP/vm.txt" 2>"$TMP/err"; rc=$?
check "machine without GPU: says 'no GPU found' for GPUs and for the affinity matrix" \
  sh -c "[ $rc -eq 0 ] && grep -q '^GPUs: no GPU found$' '$TMP/vm.txt' && grep -q '^GPU-NIC affinity: no GPU found$' '$TMP/vm.txt'"

# this machine
"$SBT" --json >"$TMP/here.json" 2>"$TMP/err"; rc=$?
check "this machine --json: exit 0, valid JSON of type topology" sh -c "[ $rc -eq 0 ] && jq -e '.type == \"topology\"' '$TMP/here.json' >/dev/null"
if command -v hwloc-calc >/dev/null; then
  for t in package:package_count numa:numa_node_count core:core_count pu:pu_count; do
    check "this machine: ${t%%:*} count = hwloc-calc -N ${t%%:*} all" \
      jqe ".machine.${t#*:} == $(hwloc-calc -N "${t%%:*}" all)" "$TMP/here.json"
  done
else
  skip "hwloc-calc not installed"
fi

mpi 3 "$SBT" >"$TMP/np3.txt" 2>"$TMP/err"; rc=$?
check "np 3: exit 0, the machine printed once, one line per rank (0, 1, 2)" \
  sh -c "[ $rc -eq 0 ] && [ \$(grep -c '^Machine: ' '$TMP/np3.txt') -eq 1 ] && \
         [ \"\$(sed -n 's/^  rank \([0-9]*\) .*/\1/p' '$TMP/np3.txt' | tr '\n' ' ')\" = '0 1 2 ' ]"
done_testing
