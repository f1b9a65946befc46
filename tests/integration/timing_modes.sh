#!/bin/sh
# --timing per-call|batch|both, --batch N, --graph N on the MPI backend (host clock; the NCCL
# backend's CUDA-event and graph versions are checked by gpu.sh on a GPU): the records carry
# what was timed, the batches' statistics beside the per-call ones, and the checks stay exact;
# what does not apply is refused with one line and exit 2.
. "$(dirname "$0")/lib.sh"
AR="$BENCH/sb_allreduce"

mpi 2 "$AR" --sizes 8,64K,1M --inplace 2 --timing both --json "$TMP/both.jsonl" >"$TMP/both.txt" 2>&1
rc=$?
check "--timing both: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "--timing both: every record has per-call time_us and the batches' (20 calls a sample), exact" \
  jq_all "$TMP/both.jsonl" '.wrong == 0 and .batch_calls == 20 and .batch_graph == false and .time_us.median > 0
    and .time_us_batch.median > 0 and .iterations_batch >= 10 and .busbw_gbps_batch > 0
    and (.timing | startswith("per-call")) and (.timing_batch | test("20 calls back to back"))'
check "--timing both: busbw_gbps_batch = bytes / time_us_batch.median x the busbw factor" \
  jq_all "$TMP/both.jsonl" '(.busbw_gbps_batch - .bytes / .time_us_batch.median / 1e3 * .busbw_factor | fabs) < 1e-6 * .busbw_gbps_batch + 1e-12'
check "--timing both: the header says so, the table has batch_us and b_busbw" \
  sh -c "jq -s -e '.[0].timing_mode == \"both\" and (.[0].timing_batch | test(\"pipelined\"))' '$TMP/both.jsonl' >/dev/null && grep -q 'batch_us *b_busbw' '$TMP/both.txt' && grep -q '^# Timing both: pipelined' '$TMP/both.txt'"

mpi 2 "$AR" --sizes 8,4K -n 20 --inplace 0 --timing batch --batch 50 --json "$TMP/batch.jsonl" >/dev/null 2>&1
rc=$?
check "--timing batch --batch 50 -n 20: exit 0, time_us is the batch's (20 samples of 50 calls), exact (got $rc)" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 2 and all(.wrong == 0 and .iterations == 20 and .batch_calls == 50 and (has(\"time_us_batch\") | not) and (.timing | test(\"50 calls back to back\")))' '$TMP/batch.jsonl' >/dev/null"

mpi 2 "$AR" --sizes 8 -n 5 --json "$TMP/default.jsonl" >/dev/null 2>&1
check "host memory by default: per-call only, no batch fields" \
  jqs '(.[0].timing_mode == "per-call") and ([.[] | select(.type == "result")] | all(has("batch_calls") | not))' "$TMP/default.jsonl"

refused "invalid --timing 'fast'" 0 "$AR" --timing fast
refused "invalid --batch '0'" 0 "$AR" --batch 0
refused "invalid --graph 'x'" 0 "$AR" --graph x
refused "does not go with --timing per-call" 0 "$AR" --graph 4 --timing per-call
refused "--graph needs --backend nccl" 0 "$AR" --graph 4 --sizes 8
refused "do not apply to sb_pairs" 0 "$BENCH/sb_pairs" --timing both
refused "do not apply to --background" 0 "$AR" --background alltoall --batch 10
done_testing
