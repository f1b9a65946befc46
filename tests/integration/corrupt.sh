#!/bin/sh
# The check must catch corrupted results: a PMPI wrapper flips one byte of one rank's
# receive buffer; the benchmark must report wrong > 0 and exit 1.  Without the fault, 0 and 0.
. "$(dirname "$0")/lib.sh"
lib="$top_builddir/tests/integration/libsbfault.so"
[ -f "$lib" ] || { not_ok "fault library $lib was not built"; done_testing; }

for bench in sb_allreduce sb_alltoall; do
  for place in 0 1; do
    mpi 2 -x LD_PRELOAD="$lib" -x SB_FAULT=corrupt -x SB_FAULT_RANK=1 "$BENCH/$bench" --sizes 1K,64K \
      --inplace $place -n 3 -d int32,half --json "$TMP/c.jsonl" >"$TMP/c.txt" 2>&1
    rc=$?
    check "$bench inplace=$place with one corrupted byte on rank 1: exit 1 (got $rc)" [ "$rc" -eq 1 ]
    check "$bench inplace=$place: every point reports wrong >= 1" jq_all "$TMP/c.jsonl" '.wrong >= 1'
    check "$bench inplace=$place: the summary says fail" \
      sh -c "tail -1 '$TMP/c.jsonl' | jq -e '.result == \"fail\" and .wrong_total > 0' >/dev/null"
  done
  mpi 2 -x LD_PRELOAD="$lib" "$BENCH/$bench" --sizes 1K -n 3 --json "$TMP/n.jsonl" >/dev/null 2>&1
  rc=$?
  check "$bench with the wrapper loaded but no fault: exit 0, wrong 0" sh -c "[ $rc -eq 0 ] && jq -s -e '[.[]|select(.type==\"result\")]|all(.wrong==0)' '$TMP/n.jsonl' >/dev/null"
done

# Only rank 1 corrupts, on 3 ranks: the count is exactly one element per corrupted call
mpi 3 -x LD_PRELOAD="$lib" -x SB_FAULT=corrupt -x SB_FAULT_RANK=1 "$BENCH/sb_allreduce" --sizes 4K \
  --inplace 0 -n 2 -d float --json "$TMP/one.jsonl" >/dev/null 2>&1
check "one flipped element on one rank counts as exactly 1 wrong" jq_all "$TMP/one.jsonl" '.wrong == 1'

done_testing
