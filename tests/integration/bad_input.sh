#!/bin/sh
# Bad input: exit 2 and exactly one line on stderr naming the bad value (run as a singleton,
# so no launcher banner is mixed in), and under mpirun -np 2 the line comes once (rank 0).
. "$(dirname "$0")/lib.sh"

# refuse NEEDLE ARGS...: exit 2, one stderr line containing NEEDLE, nothing on stdout.
refuse() {
  needle=$1; shift
  "$BENCH/sb_allreduce" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  lines=$(wc -l <"$TMP/err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$needle" "$TMP/err" && [ ! -s "$TMP/out" ]; then
    ok "refused: $* -> $(cat "$TMP/err")"
  else
    not_ok "refused: $* (rc=$rc, $lines stderr lines: $(head -c 300 "$TMP/err"))"
  fi
}

refuse "unknown option '--bogus'" --bogus
refuse "unknown option '-z'" -z
refuse "invalid --minbytes 'abc'" -b abc
refuse "invalid --maxbytes '-8'" -e -8
refuse "invalid --minbytes '1X'" -b 1X
refuse "larger than --maxbytes" -b 1M -e 1K
refuse "invalid --stepfactor '1'" -f 1
refuse "invalid --stepfactor '1.5'" -f 1.5
refuse "is more than 1024 sizes" -b 1 -e 2000 -i 1
refuse "invalid --datatype 'float8'" -d float8
refuse "invalid --precision '0'" --precision 0
refuse "-n fixes the iteration count" -n 5 --max-time 1
refuse "-n fixes the iteration count" --precision 0.01 -n 20
refuse "invalid --op 'mean'" -o mean
refuse "invalid --inplace '5'" --inplace 5
refuse "invalid --check 'yes'" -c yes
refuse "invalid --iters '-3'" -n -3
refuse "invalid size 'x'" --sizes 8,x
refuse "needs a value" --json
refuse "cannot write --json '/nonexistent-dir/r.jsonl'" --json /nonexistent-dir/r.jsonl
refuse "Is a directory" --json "$TMP"
refuse "cannot write --csv" --csv "$TMP"
refuse "unexpected argument 'extra'" extra

# A write that fails mid-run (a full disk: /dev/full) is said once and makes the exit code 2;
# the table on stdout still shows what was measured.
if [ -w /dev/full ]; then
  for f in --json --csv; do
    mpi 2 "$BENCH/sb_allreduce" $f /dev/full -b 8 -e 64 -n 3 -w 1 >"$TMP/out" 2>"$TMP/err"; rc=$?
    check "$f to a full disk: exit 2 (got $rc), one line saying so, the table still printed" \
      sh -c "[ $rc -eq 2 ] && [ \$(grep -c \"^sb_allreduce: cannot write $f '/dev/full': No space left\" '$TMP/err') -eq 1 ] && grep -q '^ *64 ' '$TMP/out'"
  done
  "$BENCH/sb_allreduce" -b 8 -e 64 -n 3 -w 1 >/dev/full 2>"$TMP/err"; rc=$?
  check "the table to a full disk: exit 2 (got $rc), said on stderr" \
    sh -c "[ $rc -eq 2 ] && grep -q 'cannot write the standard output' '$TMP/err'"
else
  skip "no /dev/full on this system: the full-disk write error is untested"
fi

"$BENCH/sb_alltoall" -o sum >/dev/null 2>"$TMP/err"; rc=$?
check "alltoall refuses --op (it reduces nothing)" sh -c "[ $rc -eq 2 ] && grep -q 'does not apply' '$TMP/err'"

# avg is NCCL's: on MPI an explicit --op avg is refused before anything is measured, and
# --op all means the four ops MPI has, with a note saying avg was left out.
refused "MPI has no average reduction" 2 "$BENCH/sb_allreduce" -o sum,avg -b 8 -e 64 -n 3 -w 1
mpi 2 "$BENCH/sb_reduce_scatter" -o all -d int32,half -b 8 -e 64 -n 3 -w 1 --json "$TMP/all.jsonl" >"$TMP/out" 2>"$TMP/err"; rc=$?
check "--op all on MPI: exit 0 (got $rc), a note that avg was left out" \
  sh -c "[ $rc -eq 0 ] && grep -q 'left out of --op all: avg on mpi' '$TMP/out'"
check "--op all on MPI: sum, prod, min and max measured for both dtypes, no avg" \
  sh -c "[ \"\$(jq -c -s '[.[] | select(.type == \"result\") | .op] | unique' '$TMP/all.jsonl')\" = '[\"max\",\"min\",\"prod\",\"sum\"]' ]"

mpi 2 "$BENCH/sb_allreduce" -d nope >"$TMP/out" 2>"$TMP/err"; rc=$?
check "under mpirun -np 2: exit 2" [ "$rc" -eq 2 ]
check "under mpirun -np 2: the error comes once (rank 0 only)" [ "$(grep -c "invalid --datatype 'nope'" "$TMP/err")" -eq 1 ]

# MPI counts are int: a size of more than 2^31 - 1 elements is skipped with a note (before any
# allocation), not passed to MPI as a negative count.
"$BENCH/sb_allreduce" --sizes 1K,3G -d int8 -n 2 --json "$TMP/count.jsonl" >"$TMP/out" 2>&1; rc=$?
if grep -q 'size 3221225472 skipped: .*available per rank' "$TMP/out"; then
  skip "this machine has less than 8 GiB available: 3 GiB buffers are skipped for memory first"
else
check "3 GiB of int8 on MPI: exit 0 (got $rc), a note naming MPI's limit, the 1K points measured" \
  sh -c "[ $rc -eq 0 ] && grep -q 'size 3221225472 skipped: 3221225472 int8 elements in one call, more than mpi takes (2147483647)' '$TMP/out' && [ \$(jq -s '[.[] | select(.type == \"result\")] | length' '$TMP/count.jsonl') -eq 2 ]"
fi

# Sizes that cannot fit in memory are capped with a note, not attempted.
"$BENCH/sb_allreduce" --sizes 1K,64T -n 2 --json "$TMP/cap.jsonl" >"$TMP/out" 2>&1; rc=$?
check "64 TiB request: exit 0" [ "$rc" -eq 0 ]
check "64 TiB request: note says it was skipped for memory" grep -q "size 70368744177664 skipped: .*available per rank" "$TMP/out"
check "64 TiB request: the 1K point was measured" [ "$(jq_count "$TMP/cap.jsonl")" -eq 2 ]
# The cap counts what is allocated: a send and a receive buffer at the larger one's size, in
# place and for Broadcast's one buffer too (counting one let a size through that then took twice).
"$BENCH/sb_allreduce" --sizes 64T --inplace 1 -n 2 >"$TMP/out" 2>&1
check "64 TiB in place: the note counts both buffers (2 x 64 TiB)" \
  grep -q "size 70368744177664 skipped: 1 ranks on a node need 140737488355328 bytes each" "$TMP/out"
"$BENCH/sb_broadcast" --sizes 64T -n 2 >"$TMP/out" 2>&1
check "64 TiB Broadcast: the note counts both buffers (2 x 64 TiB)" \
  grep -q "size 70368744177664 skipped: 1 ranks on a node need 140737488355328 bytes each" "$TMP/out"

# Every size skipped (too small for one element per peer, or too big): nothing measured is an error
mpi 3 "$BENCH/sb_alltoall" -b 1 -e 3 --json "$TMP/none.jsonl" >/dev/null 2>"$TMP/err"; rc=$?
check "all sizes below one element per peer: exit 2 (got $rc), 'nothing was measured'" \
  sh -c "[ $rc -eq 2 ] && grep -q 'nothing was measured' '$TMP/err'"
check "all sizes skipped: the summary record says error with 0 points" \
  sh -c "tail -1 '$TMP/none.jsonl' | jq -e '.result == \"error\" and .points == 0' >/dev/null"
"$BENCH/sb_allreduce" --sizes 64T -n 2 >/dev/null 2>"$TMP/err"; rc=$?
check "only a size beyond memory: exit 2 (got $rc)" [ "$rc" -eq 2 ]

# N copies of a 1-rank job (a binary from another MPI than the launcher) are refused.
OMPI_COMM_WORLD_SIZE=4 "$BENCH/sb_allreduce" --sizes 8 -n 1 >/dev/null 2>"$TMP/err"; rc=$?
check "a launcher's N separate 1-rank jobs: exit 2 with the reason" \
  sh -c "[ $rc -eq 2 ] && grep -q 'each is a 1-rank MPI job' '$TMP/err'"

# --help and --version succeed
check "--help exits 0 and documents --json" sh -c "'$BENCH/sb_allreduce' --help | grep -q -- '--json FILE'"
check "--version exits 0" sh -c "'$BENCH/sb_alltoall' --version | grep -q scalebench"

done_testing
