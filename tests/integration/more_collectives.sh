#!/bin/sh
# AllGather, ReduceScatter, Broadcast and SendRecv on 1-4 ranks: every dtype (and op where it
# reduces), in place and out of place, exact results, busbw factors, and a corrupted byte caught.
. "$(dirname "$0")/lib.sh"
lib="$top_builddir/tests/integration/libsbfault.so"

for np in 1 2 3 4; do
  for b in allgather reduce_scatter broadcast sendrecv; do
    ops=""; [ "$b" = reduce_scatter ] && ops="-o all"
    # shellcheck disable=SC2086
    mpi $np "$BENCH/sb_$b" --sizes 96,4K,100K -n 3 -w 1 -d all $ops --json "$TMP/$b.jsonl" >"$TMP/$b.txt" 2>&1
    rc=$?
    check "sb_$b np=$np, all dtypes: exit 0 (got $rc)" [ "$rc" -eq 0 ]
    check "sb_$b np=$np: every point checked, wrong == 0, ranks == $np" \
      jq_all "$TMP/$b.jsonl" ".wrong == 0 and .ranks == $np and .collective == \"$b\""
    case $b in
      allgather|reduce_scatter) f="($np - 1) / $np"; per="(.bytes / $np)" ;;
      *) f=1; per=".bytes" ;;
    esac
    check "sb_$b np=$np: busbw factor $f, bytes_per_peer" \
      jq_all "$TMP/$b.jsonl" "(.busbw_factor - ($f) | fabs) < 1e-8 and .bytes_per_peer == $per"
  done
done

# The table header says what `bytes` is for each of them (as README's table of collectives)
for pair in "allgather:the whole receive buffer (n blocks" "reduce_scatter:the whole send buffer of one rank (n blocks" \
            "broadcast:the buffer the root sends" "sendrecv:what each rank sends"; do
  b=${pair%%:*} says=${pair#*:}
  check "sb_$b: the header says bytes = $says ...)" grep -qF "bytes = $says" "$TMP/$b.txt"
done
check "reduce_scatter: every dtype x op measured (10 x 4 combinations)" \
  jqs '[.[] | select(.type == "result") | "\(.dtype) \(.op)"] | unique | length == 40' "$TMP/reduce_scatter.jsonl"
check "broadcast: only in-place points, and the table says why" \
  sh -c "jq -s -e '[.[] | select(.type == \"result\")] | all(.in_place)' '$TMP/broadcast.jsonl' >/dev/null &&
         grep -q 'in-place points only' '$TMP/broadcast.txt'"
mpi 2 "$BENCH/sb_broadcast" --sizes 1K --inplace 0 >"$TMP/o.txt" 2>"$TMP/o.err"
rc=$?
check "broadcast --inplace 0: exit 2 (got $rc) with one line saying why" \
  sh -c "[ $rc -eq 2 ] && [ \$(grep -c 'inplace 0: Broadcast has one buffer' '$TMP/o.err') -eq 1 ]"
mpi 3 "$BENCH/sb_allgather" --sizes 100 -n 2 -d int32 --json "$TMP/r.jsonl" >/dev/null 2>&1
check "allgather: 100 bytes on 3 ranks of int32 rounds down to 96 and says so" \
  jq_all "$TMP/r.jsonl" '.bytes == 96 and .bytes_requested == 100 and .count_per_peer == 8'

# The check catches a corrupted byte on rank 1 in each of them, in place and out of place
for b in allgather reduce_scatter broadcast sendrecv; do
  for place in 0 1; do
    [ "$b" = broadcast ] && [ "$place" = 0 ] && continue
    mpi 3 -x LD_PRELOAD="$lib" -x SB_FAULT=corrupt -x SB_FAULT_RANK=1 "$BENCH/sb_$b" --sizes 1K,48K --inplace $place \
      -n 2 -d float,int8 --json "$TMP/c.jsonl" >/dev/null 2>&1
    rc=$?
    check "sb_$b inplace=$place, one corrupted byte on rank 1: exit 1 (got $rc) and wrong >= 1 at every point" \
      sh -c "[ $rc -eq 1 ] && jq -s -e '[.[] | select(.type == \"result\")] | length > 0 and all(.wrong >= 1)' '$TMP/c.jsonl' >/dev/null"
  done
done

# The progress line: drawn when a person watches (a terminal, here through `script`), never in logs
if command -v script >/dev/null 2>&1; then
  script -qc "$BENCH/sb_allgather --sizes 1K,2K,4K -n 2" "$TMP/tty.txt" >/dev/null 2>&1
  check "stderr a terminal: a progress line '[k/n points] ... s left'" grep -aq '\[2/6 points\] .* s left' "$TMP/tty.txt"
else
  skip "no script(1) to give the benchmark a terminal"
fi
mpi 2 "$BENCH/sb_allgather" --sizes 1K,2K,4K -n 2 >"$TMP/p.out" 2>"$TMP/p.err"
check "under mpirun into files: no progress line in stdout or stderr" \
  sh -c "! grep -q 'points\]' '$TMP/p.out' '$TMP/p.err'"
mpi 2 "$BENCH/sb_allgather" --sizes 1K,2K,4K -n 2 --progress 1 >"$TMP/p.out" 2>"$TMP/p.err"
check "--progress 1 under mpirun: the line is on stderr, the table untouched" \
  sh -c "grep -q '\[5/6 points\]' '$TMP/p.err' && ! grep -q 'points\]' '$TMP/p.out'"

done_testing
