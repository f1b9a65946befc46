#!/bin/sh
# --off-cache: every call runs on the next slot of a region of buffers (IMB's -off_cache). A
# PMPI wrapper (SB_FAULT=trace) writes, per call, the buffers' addresses and a hash of the
# result: the calls must cycle through exactly the slots the record says, one stride apart, and
# out of place every call must give the same answer (every slot holds the same input: garbage in
# a slot would change the hash). Without the option, one buffer. Records, header and refusals.
. "$(dirname "$0")/lib.sh"
lib="$top_builddir/tests/integration/libsbfault.so"
[ -f "$lib" ] || { not_ok "fault library $lib was not built"; done_testing; }

# trace_of BENCH PLACE ARGS...: runs 2 ranks with the trace; rank 0's lines in $TMP/t.0
trace_of() {
  bench=$1 place=$2; shift 2
  rm -f "$TMP"/t.*
  mpi 2 -x LD_PRELOAD="$lib" -x SB_FAULT=trace -x SB_FAULT_RANK=-1 -x SB_FAULT_TRACE="$TMP/t" "$BENCH/$bench" \
    --sizes 4K --inplace "$place" -n 50 -w 5 --json "$TMP/r.jsonl" "$@" >"$TMP/r.txt" 2>&1
}
distinct() { awk "{print \$$1}" "$TMP/t.0" | sort -u | wc -l; }
# the addresses of the calls step by STRIDE from the first and stay inside SLOTS (shell
# arithmetic reads the 0x addresses; mawk has no strtonum)
steps_ok() {
  base=""
  while read -r send _; do
    a=$((send))
    [ -n "$base" ] || base=$a
    d=$((a - base))
    [ $((d % $1)) -eq 0 ] && [ $((d / $1)) -lt "$2" ] && [ "$d" -ge 0 ] || return 1
  done <"$TMP/t.0"
}
hashes() { awk '{print $3}' "$TMP/t.0" | sort -u | wc -l; }

# 1. AllReduce out of place, 4K (stride 4096) in a 64K region: 64K / (2 x 4096) = 8 slots
trace_of sb_allreduce 0 --off-cache 64K -d int32
rc=$?
check "sb_allreduce --off-cache 64K out of place: exit 0 (got $rc), wrong 0" sh -c \
  "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 1 and all(.wrong == 0)' '$TMP/r.jsonl' >/dev/null"
check "the record says 8 slots of 4096 bytes, 2 buffers, a 64K region" jq_all "$TMP/r.jsonl" \
  '.off_cache == {"slots": 8, "slot_bytes": 4096, "buffers": 2, "region_bytes": 65536}'
check "56 calls (5 warm-up + 50 timed + 1 check) on rank 0: $(wc -l <"$TMP/t.0")" [ "$(wc -l <"$TMP/t.0")" -eq 56 ]
check "the calls used 8 distinct send and 8 distinct receive buffers (got $(distinct 1), $(distinct 2))" \
  sh -c "[ $(distinct 1) -eq 8 ] && [ $(distinct 2) -eq 8 ]"
check "consecutive calls step by 4096 bytes, inside the 8 slots" steps_ok 4096 8
check "every call gave the same result (every slot holds the same input): $(hashes) hash(es)" [ "$(hashes)" -eq 1 ]
check "run header: off_cache_bytes 65536, options.off_cache 65536; the table says the region" sh -c \
  "jq -s -e '.[0].off_cache_bytes == 65536 and .[0].options.off_cache == 65536' '$TMP/r.jsonl' >/dev/null &&
   grep -q '^# Buffers: --off-cache: each call runs on the next slot of a 0.0625 MiB region' '$TMP/r.txt'"

# 2. In place: one buffer holds the region, 64K / 4096 = 16 slots
trace_of sb_allreduce 1 --off-cache 64K
check "in place: 16 slots of one buffer, 16 distinct buffers used, exit 0, wrong 0 (got $(distinct 1))" sh -c \
  "jq -s -e '[.[] | select(.type == \"result\")] | all(.wrong == 0 and .off_cache.slots == 16 and .off_cache.buffers == 1)' '$TMP/r.jsonl' >/dev/null && [ $(distinct 1) -eq 16 ]"

# 3. AllToAll out of place: the same answer from every slot (the blocks encode rank, peer, index)
trace_of sb_alltoall 0 --off-cache 64K
check "sb_alltoall --off-cache: 8 slots used ($(distinct 1)), one result hash ($(hashes))" \
  sh -c "[ $(distinct 1) -eq 8 ] && [ $(hashes) -eq 1 ]"
check "sb_alltoall --off-cache: wrong 0, the record says 8 slots" jq_all "$TMP/r.jsonl" '.wrong == 0 and .off_cache.slots == 8'

# 4. Without the option: the same buffers every call, off_cache null, the table says so
trace_of sb_allreduce 0
check "default: one send and one receive buffer for all $(wc -l <"$TMP/t.0") calls" \
  sh -c "[ $(distinct 1) -eq 1 ] && [ $(distinct 2) -eq 1 ]"
check "default: off_cache null in the records; the table says the buffers are reused" sh -c \
  "jq -s -e '[.[] | select(.type == \"result\")] | all(.off_cache == null)' '$TMP/r.jsonl' >/dev/null &&
   grep -q '^# Buffers: the same every call' '$TMP/r.txt'"

# 5. A buffer larger than the region: one slot, said as such
mpi 2 "$BENCH/sb_allreduce" --sizes 1M --inplace 0 -n 5 --off-cache 1M --json "$TMP/big.jsonl" >/dev/null 2>&1
check "a 1M point in a 1M region: slots 1 (the buffers alone outgrow it)" jq_all "$TMP/big.jsonl" \
  '.off_cache.slots == 1 and .off_cache.slot_bytes == 1048576 and .wrong == 0'

# 5b. sb_pairs builds its records from the pairs' gathered statistics: the slots are said there too
mpi 2 "$BENCH/sb_pairs" --sizes 4K --inplace 0 -n 5 --off-cache 64K --json "$TMP/pairs.jsonl" >/dev/null 2>&1
check "sb_pairs --off-cache 64K: its record says 8 slots, wrong 0" jq_all "$TMP/pairs.jsonl" \
  '.off_cache.slots == 8 and .off_cache.buffers == 2 and .wrong == 0'

# 6. auto: twice the largest last-level cache hwloc reports, or a clear refusal without one
llc=$("$BENCH/sb_local" --test memcpy -b 4K -e 4K -n 2 --json - 2>/dev/null | jq -s -r '.[0].last_level_cache.bytes // 0')
mpi 2 "$BENCH/sb_allreduce" --sizes 8 -n 5 --off-cache auto --json "$TMP/auto.jsonl" >"$TMP/auto.txt" 2>&1
rc=$?
if [ "$llc" -gt 0 ]; then
  check "--off-cache auto: region = 2 x the last-level cache ($llc bytes), options say auto (exit $rc)" sh -c \
    "[ $rc -eq 0 ] && jq -s -e '.[0].off_cache_bytes == 2 * $llc and .[0].options.off_cache == \"auto\"' '$TMP/auto.jsonl' >/dev/null"
else
  check "--off-cache auto without a cache size from hwloc: exit 2, one line" sh -c \
    "[ $rc -eq 2 ] && grep -q 'hwloc reports no cache size' '$TMP/auto.txt'"
fi

# 6b. Points timed another way are other curves: sb_model fit fits them apart (named by their
# method), and sb_compare never judges a cold-cache or window-started point against a default one
M="$top_builddir/models/sb_model" C="$top_builddir/models/sb_compare"
mpi 2 "$BENCH/sb_allreduce" --sizes 64K,128K,256K,512K --inplace 0 -n 20 --json "$TMP/m-def.jsonl" >/dev/null 2>&1
mpi 2 "$BENCH/sb_allreduce" --sizes 64K,128K,256K,512K --inplace 0 -n 20 --off-cache 8M --json "$TMP/m-oc.jsonl" >/dev/null 2>&1
mpi 2 "$BENCH/sb_allreduce" --sizes 64K,128K,256K,512K --inplace 0 -n 20 --sync window --json "$TMP/m-w.jsonl" >/dev/null 2>&1
cat "$TMP/m-def.jsonl" "$TMP/m-oc.jsonl" "$TMP/m-w.jsonl" >"$TMP/mixed.jsonl"
"$M" fit "$TMP/mixed.jsonl" --tolerance 1 --json >"$TMP/mfit.json" 2>"$TMP/mfit.err"
rc=$?
check "sb_model fit on default + off-cache + window records: 3 curves, methods '', off-cache, window (exit $rc)" \
  jqs 'length == 3 and (map(.method) | sort) == ["", "off-cache", "window"] and all(.sizes_used | length == 4)' "$TMP/mfit.json"
"$M" fit "$TMP/mixed.jsonl" --tolerance 1 2>/dev/null | grep -q 'p=2 nodes=1 \[off-cache\]'
check "the fit's text names the method of the curve: '... p=2 nodes=1 [off-cache]'" [ $? -eq 0 ]
"$C" "$TMP/m-def.jsonl" "$TMP/mixed.jsonl" --json >"$TMP/mcmp.jsonl" 2>/dev/null
check "sb_compare default baseline vs the mixed run: the 8 other-method points are new, never judged against the default ones" \
  jqs '[.[] | select(.type == "row")] | (map(select(.verdict == "new")) | length) == 8 and (map(select(.verdict != "new")) | length) == 4' "$TMP/mcmp.jsonl"

# 7. refusals: one line, exit 2
# A region beyond memory is refused before anything is measured (every size was skipped, and
# the run ended 'nothing was measured ... choose larger or smaller sizes', which no size cures).
refused "--off-cache: a region of 70368744177664 bytes needs 140737488355328 per rank" 2 "$BENCH/sb_allreduce" \
  --sizes 8 -n 2 --off-cache 64T
refused "invalid --off-cache 'lots'" 0 "$BENCH/sb_allreduce" --off-cache lots
refused "does not go with --timing batch|both" 0 "$BENCH/sb_allreduce" --off-cache 1M --timing batch
refused "not device memory" 0 "$BENCH/sb_alltoall" --off-cache 1M --memory device

done_testing
