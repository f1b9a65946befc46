#!/bin/sh
# --per-rank: every record carries each rank's own min/median/p99, and the summary names a rank
# that is slow to finish (test-only PMPI wrapper: rank 2 sleeps 300 us after each call) and
# nobody when no rank is.
. "$(dirname "$0")/lib.sh"
lib="$top_builddir/tests/integration/libsbfault.so"
[ -f "$lib" ] || { not_ok "fault library $lib was not built"; done_testing; }

for bench in sb_allreduce sb_alltoall; do
  # As below: the scheduler of this 2-core VM may starve a second rank for a whole run (then it is
  # named too); measure once more before failing.
  for attempt in 1 2; do
    mpi 4 -x LD_PRELOAD="$lib" -x SB_FAULT=slow -x SB_FAULT_RANK=2 -x SB_FAULT_DELAY_US=300 "$BENCH/$bench" \
      --sizes 1K,4K,16K,64K -n 20 --inplace 0 --per-rank --json "$TMP/s.jsonl" >"$TMP/s.txt" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && break
    jqs '.[-1].stragglers.ranks | map(.rank) == [2]' "$TMP/s.jsonl" && break
    echo "# attempt $attempt: $(grep '^# straggler' "$TMP/s.txt" | head -1); measuring again"
  done
  check "$bench, rank 2 slow to finish: exit 0 (got $rc; slowness is not an error)" [ "$rc" -eq 0 ]
  check "$bench: every record has 4 per-rank entries, rank 2's median the largest" \
    jq_all "$TMP/s.jsonl" '(.time_us_per_rank | length == 4) and
      (.time_us_per_rank | max_by(.median) | .rank == 2)'
  check "$bench: the summary names rank 2, and only rank 2" \
    jqs '.[-1].stragglers.ranks | map(.rank) == [2]' "$TMP/s.jsonl"
  check "$bench: the text says so" grep -q '^# straggler (--per-rank): rank 2 (' "$TMP/s.txt"

  # Four ranks share this machine's two cores: now and then the scheduler starves one of them for
  # a whole run (seen in CI: rank 0 at 1.43x twice in a row), which is a real straggler of this
  # machine; measure again before failing.  Still named after three runs, a rank under 2x the
  # others is that scheduler, said in the log; the injected slow rank above is 20x and more.
  for attempt in 1 2 3; do
    mpi 4 "$BENCH/$bench" --sizes 1K,4K,16K,64K -n 20 --inplace 0 --per-rank --json "$TMP/n.jsonl" \
      >"$TMP/n.txt" 2>&1
    jqs '.[-1].stragglers.ranks == []' "$TMP/n.jsonl" && break
    echo "# attempt $attempt: $(grep '^# straggler' "$TMP/n.txt" | head -1); measuring again"
  done
  if jqs '.[-1].stragglers.ranks == []' "$TMP/n.jsonl"; then
    check "$bench without a slow rank: no straggler named" grep -q 'stragglers (--per-rank): none' "$TMP/n.txt"
  else
    check "$bench without a slow rank: none named above 2x the others (the 2-core scheduler's skew, three runs in a row)" \
      jqs '.[-1].stragglers.ranks | all(.mean_ratio < 2)' "$TMP/n.jsonl"
  fi
done
# Arrival skew, the other reading: rank 2 sleeps 300 us after each barrier, so it reaches every
# call late; its own time is short while the others wait for it.  It must be named a late arrival,
# and nobody a straggler.
mpi 4 -x LD_PRELOAD="$lib" -x SB_FAULT=late -x SB_FAULT_RANK=2 -x SB_FAULT_DELAY_US=300 "$BENCH/sb_allreduce" \
  --sizes 1K,4K,16K,64K -n 20 --inplace 0 --per-rank --json "$TMP/l.jsonl" >"$TMP/l.txt" 2>&1
rc=$?
check "sb_allreduce, rank 2 late to every call: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "late rank 2: named a late arrival, alone; no straggler" \
  jqs '.[-1].stragglers | (.late_ranks | map(.rank) == [2]) and .ranks == [] and (.late_ranks[0].mean_ratio < 0.5)' "$TMP/l.jsonl"
check "late rank 2: the text says so" grep -q '^# late arrival (--per-rank): rank 2 (' "$TMP/l.txt"
check "a slow rank (above) is not a late arrival" jqs '.[-1].stragglers.late_ranks == []' "$TMP/s.jsonl"

mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 3 --json "$TMP/plain.jsonl" >/dev/null 2>&1
check "without --per-rank: no per-rank fields, no stragglers in the summary" \
  jqs '([.[] | select(.type == "result")] | all(has("time_us_per_rank") | not)) and (.[-1] | has("stragglers") | not)' "$TMP/plain.jsonl"
done_testing
