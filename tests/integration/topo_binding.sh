#!/bin/sh
# Binding: what sb_topo reports for each rank is what `hwloc-bind --get`, `numactl --show` and
# `taskset -p` see from inside that rank (run through --exec-check once the rank is bound);
# a launcher binding is kept by default and replaced only by an explicit --bind.
. "$(dirname "$0")/lib.sh"
SBT="$top_builddir/benchmarks/sb_topo"
CHECK='hwloc-bind --get; numactl --show; taskset -cp $PPID'
for tool in hwloc-bind hwloc-calc numactl taskset jq; do
  command -v "$tool" >/dev/null || { skip "$tool not installed"; done_testing; }
done
cores=$(hwloc-calc -N core all)
nodes=$(hwloc-calc -N numa all)

# labelled LABEL OUTPUT: what follows "LABEL" in the " | "-separated piece of a rank's
# --exec-check output that starts with it (first piece for an empty label), spaces trimmed.
labelled() {
  printf '%s\n' "$2" | awk -v l="$1" 'BEGIN { FS = " [|] " } {
    for (i = 1; i <= NF; i++) if (index($i, l) == 1) { v = substr($i, length(l) + 1); gsub(/^ +| +$/, "", v); print v; exit } }'
}

# expand "0-2,8": "0 1 2 8" (lists as hwloc, taskset and numactl write them)
expand() {
  printf '%s\n' "$1" | tr ', ' '\n\n' | awk -F- 'NF == 2 { for (i = $1; i <= $2; i++) printf "%d ", i; next }
                                           NF == 1 && $1 != "" { printf "%d ", $1 }'
}

# agrees FILE: for every rank, the reported cpuset is what hwloc-bind --get printed, the PUs
# are numactl's physcpubind and taskset's list, the NUMA nodes are numactl's cpubind.
agrees() {
  n=$(jq '.ranks | length' "$1") || return 1
  i=0
  while [ "$i" -lt "$n" ]; do
    r=$(jq -c ".ranks[$i]" "$1")
    out=$(printf '%s' "$r" | jq -r .exec_check)
    cpuset=$(printf '%s' "$r" | jq -r .cpuset)
    pus=$(printf '%s' "$r" | jq -r .pus)
    numa=$(printf '%s' "$r" | jq -r '.numa_nodes | map(tostring) | join(" ")')
    got_set=$(labelled "" "$out")
    got_phys=$(labelled "physcpubind:" "$out")
    got_numa=$(labelled "cpubind:" "$out")
    got_list=$(labelled "pid " "$out" | sed 's/.*current affinity list: //')
    want=$(expand "$pus")
    if [ "$got_set" != "$cpuset" ] || [ "$(expand "$got_phys")" != "$want" ] || [ "$(expand "$got_list")" != "$want" ] \
       || [ "$(expand "$got_numa")" != "$(expand "$numa")" ]; then
      echo "# rank $i: reported cpuset $cpuset PUs $pus NUMA $numa; inside: $out" >&2
      return 1
    fi
    i=$((i + 1))
  done
}

# bind_is FILE HOW: every rank's "bind" field
bind_is() { jq -e --arg h "$2" 'all(.ranks[]; .bind == $h)' "$1" >/dev/null; }
distinct_cpusets() { [ "$(jq '[.ranks[].cpuset] | unique | length' "$1")" -eq "$2" ]; }

"$SBT" --json --exec-check "$CHECK" >"$TMP/one.json" 2>"$TMP/err"; rc=$?
check "singleton: exit 0" [ "$rc" -eq 0 ]
check "singleton: reported binding = hwloc-bind --get, numactl --show, taskset -p" agrees "$TMP/one.json"
check "singleton: bound by scalebench auto to one core" \
  sh -c "jq -e '.ranks[0].bind == \"scalebench auto\"' '$TMP/one.json' >/dev/null && [ \$(hwloc-calc -N core \$(jq -r '.ranks[0].cpuset' '$TMP/one.json')) -eq 1 ]"

mpi 2 "$SBT" --json --exec-check "$CHECK" >"$TMP/auto.json" 2>"$TMP/err"; rc=$?
check "np 2, launcher unbound, default auto: exit 0" [ "$rc" -eq 0 ]
check "np 2 auto: reports match hwloc-bind/numactl/taskset inside each rank" agrees "$TMP/auto.json"
check "np 2 auto: bind is 'scalebench auto'" bind_is "$TMP/auto.json" "scalebench auto"
if [ "$cores" -ge 2 ]; then
  check "np 2 auto: two ranks on two different cores" distinct_cpusets "$TMP/auto.json" 2
else
  skip "one core: ranks cannot get distinct cores"
fi
if [ "$nodes" -ge 2 ]; then
  check "np 2 auto: ranks on two NUMA nodes" [ "$(jq '[.ranks[].numa_nodes[0]] | unique | length' "$TMP/auto.json")" -eq 2 ]
else
  skip "one NUMA node here: spreading over nodes not observable"
fi

mpi 2 --bind-to core "$SBT" --json --exec-check "$CHECK" >"$TMP/launcher.json" 2>"$TMP/err"; rc=$?
check "mpirun --bind-to core: exit 0" [ "$rc" -eq 0 ]
check "mpirun --bind-to core: the launcher's binding is kept and reported as such" bind_is "$TMP/launcher.json" launcher
check "mpirun --bind-to core: reports match inside each rank" agrees "$TMP/launcher.json"

mpi 2 --bind-to core "$SBT" --bind numa --json --exec-check "$CHECK" >"$TMP/numa.json" 2>"$TMP/err"; rc=$?
check "explicit --bind numa over mpirun --bind-to core: exit 0" [ "$rc" -eq 0 ]
check "explicit --bind numa replaces the launcher binding" bind_is "$TMP/numa.json" "scalebench numa"
check "--bind numa: each rank holds exactly the cores of its NUMA node" sh -c "
  for i in 0 1; do
    set=\$(jq -r \".ranks[\$i].cpuset\" '$TMP/numa.json'); node=\$(jq -r \".ranks[\$i].numa_nodes[0]\" '$TMP/numa.json')
    [ \"\$(hwloc-calc --physical-input node:\$node)\" = \"\$set\" ] || exit 1
  done"
check "--bind numa: reports match inside each rank" agrees "$TMP/numa.json"

mpi 2 "$SBT" --bind core --json --exec-check "$CHECK" >"$TMP/core.json" 2>"$TMP/err"; rc=$?
check "--bind core: exit 0, one core per rank" sh -c "[ $rc -eq 0 ] && jq -r '.ranks[].cpuset' '$TMP/core.json' | while read s; do [ \$(hwloc-calc -N core \$s) -eq 1 ] || exit 1; done"
check "--bind core: reports match inside each rank" agrees "$TMP/core.json"

mpi 2 --bind-to none "$SBT" --bind none --json --exec-check "$CHECK" >"$TMP/none.json" 2>"$TMP/err"; rc=$?
check "--bind none: exit 0, not bound, every allowed PU" sh -c "[ $rc -eq 0 ] && jq -e 'all(.ranks[]; .bind == \"none\") and ([.ranks[].pus] | unique | length == 1)' '$TMP/none.json' >/dev/null && [ \"\$(jq -r '.ranks[0].pus' '$TMP/none.json')\" = \"\$(jq -r '.machine.allowed_pus' '$TMP/none.json')\" ]"
check "--bind none: reports match inside each rank" agrees "$TMP/none.json"

taskset -c 0 "$SBT" --json >"$TMP/taskset.json" 2>"$TMP/err"; rc=$?
check "under taskset -c 0: the inherited binding is kept (bind: launcher)" \
  sh -c "[ $rc -eq 0 ] && jq -e '.ranks[0].bind == \"launcher\" and .ranks[0].pus == \"0\"' '$TMP/taskset.json' >/dev/null"

mpi 2 "$SBT" --gpus --json >"$TMP/gpus.json" 2>"$TMP/err"; rc=$?
if [ "$(jq '.machine.gpus | length' "$TMP/gpus.json" 2>/dev/null)" = 0 ]; then
  check "--gpus without a GPU: exit 0, placed as without GPU, says no GPU found" \
    sh -c "[ $rc -eq 0 ] && jq -e '.machine.gpu_note == \"no GPU found\" and all(.ranks[]; .gpu == null and .bind == \"scalebench auto\")' '$TMP/gpus.json' >/dev/null"
else
  check "--gpus: each rank bound to cores local to its GPU" \
    sh -c "[ $rc -eq 0 ] && jq -e 'all(.ranks[]; .gpu != null and .bind == \"scalebench auto, GPU-local\" and .pus == .gpu.local_pus)' '$TMP/gpus.json' >/dev/null"
fi
done_testing
