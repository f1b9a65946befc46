#!/bin/sh
# Binding and memory placement of the benchmarks themselves: the run header's per-rank record
# must match what hwloc-bind, taskset and numactl say from inside that rank (sb_topo applies the
# same code path and runs the check inside the rank), and --mem-node must be honoured.
. "$(dirname "$0")/lib.sh"
SBT="$top_builddir/benchmarks/sb_topo"
AR="$BENCH/sb_allreduce"
header() { head -n 1 "$1"; }

for mode in auto core numa none; do
  mpi 2 "$AR" --sizes 1K -n 2 --bind "$mode" --json "$TMP/b.jsonl" >/dev/null 2>"$TMP/err"
  rc=$?
  check "--bind $mode: exit 0 (got $rc)" [ "$rc" -eq 0 ]
  mpi 2 "$SBT" --bind "$mode" --json --exec-check 'hwloc-bind --get' >"$TMP/t.json" 2>/dev/null
  for r in 0 1; do
    mine=$(header "$TMP/b.jsonl" | jq -r ".rank_placement[$r].cpuset")
    inside=$(jq -r ".ranks[$r].exec_check" "$TMP/t.json" | tr -d ' \n')
    check "--bind $mode, rank $r: header cpuset $mine = hwloc-bind --get inside the rank ($inside)" \
      [ -n "$mine" ] && [ "$mine" = "$inside" ]
  done
  check "--bind $mode: the header says the mode and that it was asked for" \
    jqs --arg m "$mode" '.[0] | .options.bind == $m and .options.bind_explicit and
      all(.rank_placement[]; .bind_mode == $m)' "$TMP/b.jsonl"
done

# The launcher's binding is kept unless --bind is given, and reported as such
mpi 2 --bind-to core "$AR" --sizes 1K -n 2 --json "$TMP/l.jsonl" >/dev/null 2>&1
check "mpirun --bind-to core, no --bind: every rank reports bind: launcher" \
  jqs '.[0].rank_placement | length == 2 and all(.[]; .bind == "launcher")' "$TMP/l.jsonl"

# Every rank record: host, cores, NUMA node, memory placement, nearby devices; the machine too
mpi 2 "$AR" --sizes 1K -n 2 --json "$TMP/h.jsonl" >"$TMP/h.txt" 2>&1
check "header: per-rank host, cpuset, cores, numa_nodes, memory, near_nics; machine with packages" \
  jqs '.[0] | (.rank_placement | length == 2 and all(.[]; has("host") and has("cpuset") and has("cores")
    and has("numa_nodes") and has("near_nics") and .memory.sampled_pages > 0))
    and (.machine.packages | length >= 1) and .machine.gpu_note == "no GPU found"' "$TMP/h.jsonl"
check "text header: one line per rank with its cores and memory" \
  sh -c "[ \$(grep -c '^#   rank [01]: .*cores .*memory local: node' '$TMP/h.txt') -eq 2 ]"

# --mem-node: node 0 (exists everywhere), interleave, and a node that does not exist
nodes=$(numactl --hardware 2>/dev/null | awk '/^available:/ {print $2}')
mpi 2 "$AR" --sizes 1K -n 2 --mem-node 0 --json "$TMP/m0.jsonl" >/dev/null 2>&1
check "--mem-node 0: every rank's probe buffer is 100% on node 0" \
  jqs '.[0].rank_placement | all(.[]; .memory.policy == "node 0" and .memory.node == 0)' "$TMP/m0.jsonl"
mpi 2 "$AR" --sizes 1K -n 2 --mem-node interleave --json "$TMP/mi.jsonl" >/dev/null 2>&1
check "--mem-node interleave: recorded as the policy, pages found on the nodes" \
  jqs '.[0].rank_placement | all(.[]; .memory.policy == "interleave" and .memory.sampled_pages > 0)' "$TMP/mi.jsonl"
if [ "${nodes:-1}" -ge 2 ]; then
  mpi 2 "$AR" --sizes 1K -n 2 --mem-node 1 --json "$TMP/m1.jsonl" >/dev/null 2>&1
  check "--mem-node 1 on a $nodes-node machine: pages on node 1" \
    jqs '.[0].rank_placement | all(.[]; .memory.node == 1)' "$TMP/m1.jsonl"
else
  skip "--mem-node 1: this machine has one NUMA node"
fi
mpi 2 "$AR" --sizes 1K -n 2 --mem-node 63 >"$TMP/bad.out" 2>"$TMP/bad.err"
rc=$?
check "--mem-node 63 (no such node): exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "--mem-node 63: one clear line naming the nodes that exist" \
  sh -c "[ \$(grep -c 'mem-node 63: no such NUMA node' '$TMP/bad.err') -eq 1 ]"

done_testing
