#!/bin/sh
# --mem-node: the placement sb_topo reports (move_pages on sampled pages) is what the kernel
# says in /proc/PID/numa_maps for that buffer, read from inside the rank through --exec-check;
# the policy is the one asked for, also under an inherited numactl policy.
. "$(dirname "$0")/lib.sh"
SBT="$top_builddir/benchmarks/sb_topo"
command -v jq >/dev/null || { skip "jq not installed"; done_testing; }
if ! command -v numactl >/dev/null || ! numactl --show >/dev/null 2>&1; then
  skip "no numactl or no NUMA support here"; done_testing
fi
# the buffer: 64 MiB = 16384 pages of 4 KiB; its numa_maps line is the one with that anon= count
MAPS='grep "anon=16384 " /proc/$PPID/numa_maps'
jqe() { jq -e "$@" >/dev/null; }
last=$(numactl --hardware | sed -n 's/^node \([0-9]*\) size: \([1-9][0-9]*\) MB$/\1/p' | tail -n 1)

# maps_ok FILE POLICY_WORD: for every rank, numa_maps shows POLICY_WORD (bind/prefer/interleave/local)
# and per-node page counts in the same proportions as the reported sample.
maps_ok() {
  jq -r '.ranks[] | [(.memory.pages_by_node | to_entries | map("N\(.key)=\(.value)") | join(" ")), .memory.sampled_pages, .exec_check] | @tsv' "$1" |
  while IFS="$(printf '\t')" read -r sample sampled maps; do
    case "$maps" in *" $2"*) ;; *) echo "# policy '$2' not in: $maps" >&2; return 1 ;; esac
    for kv in $sample; do
      node=${kv%%=*}; n=${kv#*=}
      got=$(printf '%s\n' "$maps" | tr ' ' '\n' | sed -n "s/^$node=//p")
      # the sample is 4096 of 16384 pages: scale, allow 1% for pages between samples
      want=$((n * 16384 / sampled))
      [ -n "$got" ] && [ $((got - want)) -le 164 ] && [ $((want - got)) -le 164 ] || {
        echo "# $node: sampled $n/$sampled, numa_maps $got of 16384: $maps" >&2; return 1; }
    done
  done
}

"$SBT" --mem-node "$last" --json --exec-check "$MAPS" >"$TMP/node.json" 2>"$TMP/err"; rc=$?
check "--mem-node $last: exit 0" [ "$rc" -eq 0 ]
check "--mem-node $last: every sampled page on node $last (move_pages)" \
  jqe ".ranks[0].memory | .node == $last and .sampled_pages == 4096 and (.report | startswith(\"node $last: 100% \"))" "$TMP/node.json"
check "--mem-node $last: numa_maps agrees (preferred node $last, pages on N$last)" maps_ok "$TMP/node.json" "prefer:$last"

"$SBT" --mem-node interleave --json --exec-check "$MAPS" >"$TMP/il.json" 2>"$TMP/err"; rc=$?
check "--mem-node interleave: exit 0" [ "$rc" -eq 0 ]
check "--mem-node interleave: numa_maps agrees" maps_ok "$TMP/il.json" "interleave:"

numactl --interleave=all "$SBT" --mem-node local --json --exec-check "$MAPS" >"$TMP/local.json" 2>"$TMP/err"; rc=$?
check "--mem-node local under numactl --interleave=all: exit 0" [ "$rc" -eq 0 ]
check "--mem-node local overrides the inherited interleave policy (numa_maps: local)" maps_ok "$TMP/local.json" "local"
check "--mem-node local: pages on the rank's own NUMA node" \
  jqe '.ranks[0] | .memory.node == .numa_nodes[0]' "$TMP/local.json"

mpi 2 "$SBT" --mem-node local --mem-bytes 64M --json --exec-check "$MAPS" >"$TMP/mpi.json" 2>"$TMP/err"; rc=$?
check "np 2 --mem-node local: exit 0, one record per rank" \
  sh -c "[ $rc -eq 0 ] && [ \$(jq '.ranks | length' '$TMP/mpi.json') -eq 2 ]"
check "np 2 --mem-node local: each rank's pages on its own node, as numa_maps says" \
  sh -c "jq -e 'all(.ranks[]; .memory.node == .numa_nodes[0])' '$TMP/mpi.json' >/dev/null"
check "np 2: numa_maps agrees for every rank" maps_ok "$TMP/mpi.json" "local"

"$SBT" --mem-node 1000 >"$TMP/out" 2>"$TMP/err"; rc=$?
check "--mem-node 1000 (absent): exit 2, one line naming the node" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ] && grep -q -- '--mem-node 1000: no such NUMA node' '$TMP/err' && [ ! -s '$TMP/out' ]"
"$SBT" --mem-node 0 --mem-bytes 1M >"$TMP/text" 2>&1; rc=$?
check "text output: a memory line per rank with the verified placement" \
  sh -c "[ $rc -eq 0 ] && grep -q 'memory (node 0, 1048576 bytes): node 0: 100% of 256 sampled pages' '$TMP/text'"
done_testing
