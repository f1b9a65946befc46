#!/bin/sh
# --per-rank: every record carries each rank's own min/median/p99, and the summary names a rank
# that is slow to finish (test-only PMPI wrapper: rank 2 sleeps 300 us after each call) and
# nobody when no rank is.
. "$(dirname "$0")/lib.sh"
lib="$top_builddir/tests/integration/libsbfault.so"
[ -f "$lib" ] || { not_ok "fault library $lib was not built"; done_testing; }

for bench in sb_allreduce sb_alltoall; do
  mpi 4 -x LD_PRELOAD="$lib" -x SB_FAULT=slow -x SB_FAULT_RANK=2 -x SB_FAULT_DELAY_US=300 "$BENCH/$bench" \
    --sizes 1K,4K,16K,64K -n 20 --inplace 0 --per-rank --json "$TMP/s.jsonl" >"$TMP/s.txt" 2>&1
  rc=$?
  check "$bench, rank 2 slow to finish: exit 0 (got $rc; slowness is not an error)" [ "$rc" -eq 0 ]
  check "$bench: every record has 4 per-rank entries, rank 2's median the largest" \
    jq_all "$TMP/s.jsonl" '(.time_us_per_rank | length == 4) and
      (.time_us_per_rank | max_by(.median) | .rank == 2)'
  check "$bench: the summary names rank 2, and only rank 2" \
    jqs '.[-1].stragglers.ranks | map(.rank) == [2]' "$TMP/s.jsonl"
  check "$bench: the text says so" grep -q '^# straggler (--per-rank): rank 2 (' "$TMP/s.txt"

  mpi 4 "$BENCH/$bench" --sizes 1K,4K,16K,64K -n 20 --inplace 0 --per-rank --json "$TMP/n.jsonl" \
    >"$TMP/n.txt" 2>&1
  check "$bench without a slow rank: no straggler named" \
    sh -c "jq -s -e '.[-1].stragglers.ranks == []' '$TMP/n.jsonl' >/dev/null && grep -q 'stragglers (--per-rank): none' '$TMP/n.txt'"
done
mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 3 --json "$TMP/plain.jsonl" >/dev/null 2>&1
check "without --per-rank: no per-rank fields, no stragglers in the summary" \
  jqs '([.[] | select(.type == "result")] | all(has("time_us_per_rank") | not)) and (.[-1] | has("stragglers") | not)' "$TMP/plain.jsonl"
done_testing
