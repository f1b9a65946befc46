#!/bin/sh
# -T/--timeout and --preflight: a stalled rank (test-only PMPI wrapper sleeping 60 s in rank 1's
# collective) must end the job within the deadline, with exit 1, a message naming that rank and
# an error record; a rank its peers cannot hear from must fail the preflight by name.
. "$(dirname "$0")/lib.sh"
lib="$top_builddir/tests/integration/libsbfault.so"
[ -f "$lib" ] || { not_ok "fault library $lib was not built"; done_testing; }
stall="-x LD_PRELOAD=$lib -x SB_FAULT=stall -x SB_FAULT_RANK=1 -x SB_FAULT_DELAY_US=60000000 -x SB_FAULT_MIN_BYTES=65536"

for bench in sb_allreduce sb_alltoall; do
  for np in 2 4; do
    start=$(date +%s)
    # shellcheck disable=SC2086
    mpi $np $stall "$BENCH/$bench" --sizes 1K,64K,1M --inplace 0 -n 5 -T 2 --json "$TMP/h.jsonl" \
      >"$TMP/h.out" 2>"$TMP/h.err"
    rc=$? took=$(($(date +%s) - start))
    what="$bench np=$np, rank 1 stalls at 64K, -T 2"
    check "$what: exit 1 (got $rc)" [ "$rc" -eq 1 ]
    check "$what: ended within 15 s (took $took s), not after the 60 s stall" [ "$took" -lt 15 ]
    check "$what: stderr names rank 1 as the idle one" grep -q "likely the cause): 1 (" "$TMP/h.err"
    check "$what: stderr lists the ranks not finished with host and size" \
      grep -q "not finished: rank 0 ([^,]*, 65536 bytes" "$TMP/h.err"
    check "$what: the 1K record was kept (flushed before the hang)" \
      jqs '[.[] | select(.type == "result" and .bytes == 1024)] | length == 1' "$TMP/h.jsonl"
    check "$what: an error record: timeout, size 65536, idle_ranks [1], $np ranks not finished" \
      jqs --argjson np "$np" '[.[] | select(.type == "error")][0]
        | .error == "timeout" and .bytes == 65536 and .idle_ranks == [1]
          and (.not_finished | length) == $np and .timeout_s == 2' "$TMP/h.jsonl"
  done
done

# -T with nothing stuck: no effect on the result
mpi 2 "$BENCH/sb_allreduce" --sizes 1K,64K -n 5 -T 5 --json "$TMP/ok.jsonl" >/dev/null 2>&1
rc=$?
check "-T 5 on a healthy run: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "-T 5 on a healthy run: no error record, the option recorded" \
  jqs '([.[] | select(.type == "error")] | length == 0) and .[0].options.timeout_s == 5' "$TMP/ok.jsonl"

# Preflight: on by request on one node; a healthy job passes and records it
mpi 3 "$BENCH/sb_allreduce" --sizes 1K -n 2 --preflight 1 --json "$TMP/pf.jsonl" >/dev/null 2>&1
rc=$?
check "--preflight 1, healthy: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "--preflight 1, healthy: header says pass with 6 pairs" \
  jqs '.[0].preflight | .ran and .result == "pass" and .pairs == 6' "$TMP/pf.jsonl"
mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 2 --json "$TMP/nopf.jsonl" >/dev/null 2>&1
check "single node, default: preflight not run, and the header says why" \
  jqs '.[0].preflight | (.ran | not) and (.why | test("single node"))' "$TMP/nopf.jsonl"

# Preflight: rank 2 sends nothing (SB_FAULT=mute): named, exit 1, within the deadline
start=$(date +%s)
mpi 4 -x LD_PRELOAD="$lib" -x SB_FAULT=mute -x SB_FAULT_RANK=2 "$BENCH/sb_alltoall" --sizes 1K -n 2 -T 3 \
  --preflight 1 --json "$TMP/mute.jsonl" >"$TMP/mute.out" 2>"$TMP/mute.err"
rc=$? took=$(($(date +%s) - start))
check "preflight with rank 2 muted: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "preflight with rank 2 muted: ended within 12 s (took $took s)" [ "$took" -lt 12 ]
check "preflight with rank 2 muted: stderr names rank 2" grep -q "unreachable from some peer: rank 2 (" "$TMP/mute.err"
check "preflight with rank 2 muted: error record lists rank 2, no result records" \
  jqs '([.[] | select(.type == "error")][0] | .error == "preflight" and .unreachable_ranks == [2]
    and (.ranks | length) == 3) and ([.[] | select(.type == "result")] | length == 0)' "$TMP/mute.jsonl"

done_testing
