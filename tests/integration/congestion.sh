#!/bin/sh
# --background alltoall: half of the ranks measure, the other half runs all-to-all back to back;
# each record carries the point measured alone, the background's size and call count, and the
# ratio; the results stay exact; what cannot be run is refused with one line and exit 2.
. "$(dirname "$0")/lib.sh"

for bench in sb_allreduce sb_alltoall; do
  mpi 4 "$BENCH/$bench" --sizes 8,64K -n 20 -w 3 --inplace 0 --background alltoall --background-bytes 256K \
    --json "$TMP/c.jsonl" >"$TMP/c.txt" 2>&1
  rc=$?
  check "$bench --background alltoall on 4 ranks: exit 0 (got $rc)" [ "$rc" -eq 0 ]
  check "$bench: 2 records on the 2 measuring ranks, exact, each with the isolated time, the traffic and the impact" \
    jq_all "$TMP/c.jsonl" '.ranks == 2 and .wrong == 0 and .congestion.background == "alltoall" and
      .congestion.background_ranks == 2 and .congestion.background_bytes == 262144 and
      .congestion.background_calls >= 1 and .congestion.isolated_time_us.median > 0 and
      (.congestion.impact - (.time_us.median / .congestion.isolated_time_us.median) | fabs < 1e-6)'
  check "$bench: the summary gives the median and largest impact" \
    jqs '.[-1].congestion | .points == 2 and .impact_max >= .impact_median and .impact_median > 0' "$TMP/c.jsonl"
  check "$bench: the text has the alone_us and impact columns and the summary line" \
    sh -c "grep -q 'alone_us *impact' '$TMP/c.txt' && grep -q '^# congestion impact (--background alltoall, 2 ranks, 262144 bytes)' '$TMP/c.txt'"
done
mpi 5 "$BENCH/sb_allreduce" --sizes 1K -n 5 --background alltoall --json "$TMP/odd.jsonl" >/dev/null 2>&1
rc=$?
check "5 ranks: 3 measure, 2 make traffic (got $rc)" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | all(.ranks == 3 and .congestion.background_ranks == 2 and .wrong == 0)' '$TMP/odd.jsonl' >/dev/null"
mpi 4 "$BENCH/sb_allreduce" --sizes 1K -n 5 --json "$TMP/plain.jsonl" >/dev/null 2>&1
check "without --background: no congestion fields" \
  jqs '([.[] | select(.type == "result")] | all(has("congestion") | not) and all(.ranks == 4)) and (.[-1] | has("congestion") | not)' "$TMP/plain.jsonl"

refused "needs at least 4 ranks" 2 "$BENCH/sb_allreduce" --background alltoall
refused "invalid --background 'allgather'" 1 "$BENCH/sb_allreduce" --background allgather
refused "invalid --background-bytes '0'" 1 "$BENCH/sb_allreduce" --background alltoall --background-bytes 0
refused "together are not supported" 4 "$BENCH/sb_allreduce" --background alltoall --per-rank
done_testing
