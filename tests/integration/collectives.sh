#!/bin/sh
# AllReduce and AllToAll on 1-4 ranks, every dtype (and every op), in-place and out-of-place:
# exit 0, wrong == 0 everywhere, the JSON schema fields present, one record per point.
. "$(dirname "$0")/lib.sh"

for np in 1 2 3 4; do
  out="$TMP/ar$np.jsonl"
  mpi "$np" "$BENCH/sb_allreduce" -d all -o all --sizes 4,100,4K,96K -n 3 -w 1 --json "$out" >"$TMP/ar$np.txt" 2>&1
  rc=$?
  check "allreduce np=$np: exit 0" [ "$rc" -eq 0 ]
  # 10 dtypes x 4 ops x (sizes that hold >= 1 element) x 2 placements
  n=$(jq_count "$out")
  # 4-byte size: int8/uint8/half/bf16/float/int32/uint32 hold it, 8-byte types do not (3 types skip it)
  want=$(( (7 * 4 + 3 * 3) * 4 * 2 ))
  check "allreduce np=$np: $want result records (got $n)" [ "$n" -eq "$want" ]
  check "allreduce np=$np: wrong == 0 in every record" jq_all "$out" '.wrong == 0'
  check "allreduce np=$np: ranks field" jq_all "$out" ".ranks == $np and .nodes == 1 and .ranks_per_node == $np"
  check "allreduce np=$np: time and bandwidth fields" jq_all "$out" \
    '(.time_us | has("min") and has("median") and has("mean") and has("p99") and has("max") and has("stddev")) and
     (.time_us_rank_mean | has("median")) and .algbw_gbps >= 0 and .busbw_gbps >= 0 and .iterations == 3 and .warmup == 1'
  check "allreduce np=$np: busbw = algbw * 2(n-1)/n" jq_all "$out" \
    "((.busbw_gbps - .algbw_gbps * 2 * ($np - 1) / $np) | fabs) <= 1e-5 * (.algbw_gbps + 1e-9)"
  check "allreduce np=$np: header, results, summary in order" \
    sh -c "head -1 '$out' | jq -e '.type == \"run\" and .schema == \"scalebench/1\"' >/dev/null && tail -1 '$out' | jq -e '.type == \"summary\" and .result == \"pass\"' >/dev/null"
  check "allreduce np=$np: a rounded size is reported" grep -q "size 100 rounded down to 96 bytes" "$TMP/ar$np.txt"
done

for np in 1 2 3 4; do
  out="$TMP/a2a$np.jsonl"
  mpi "$np" "$BENCH/sb_alltoall" -d all --sizes 64,1000,64K -n 3 -w 1 --json "$out" >"$TMP/a2a$np.txt" 2>&1
  rc=$?
  check "alltoall np=$np: exit 0" [ "$rc" -eq 0 ]
  check "alltoall np=$np: wrong == 0 in every record (in-place too)" jq_all "$out" '.wrong == 0'
  check "alltoall np=$np: in-place and out-of-place both measured" \
    sh -c "jq -s -e '[.[] | select(.type == \"result\") | .in_place] | unique == [false, true]' '$out' >/dev/null"
  check "alltoall np=$np: bytes_per_peer * ranks == bytes" jq_all "$out" ".bytes_per_peer * $np == .bytes and .op == \"none\""
  check "alltoall np=$np: busbw = algbw * (n-1)/n" jq_all "$out" \
    "((.busbw_gbps - .algbw_gbps * ($np - 1) / $np) | fabs) <= 1e-5 * (.algbw_gbps + 1e-9)"
done

# CSV output: a header and one row per point
mpi 2 "$BENCH/sb_alltoall" --sizes 1K,2K -n 2 --csv "$TMP/a.csv" >/dev/null 2>&1
check "csv: header plus 4 rows" [ "$(wc -l <"$TMP/a.csv")" -eq 5 ]
check "csv: header names the columns" grep -q '^collective,backend,memory,dtype,op,in_place,ranks' "$TMP/a.csv"

# JSON on stdout, table on stderr
mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 2 --json - >"$TMP/stdout.jsonl" 2>"$TMP/stderr.txt"
check "json to stdout is pure JSON Lines" sh -c "jq -e . '$TMP/stdout.jsonl' >/dev/null"
check "the table moves to stderr then" grep -q "busbw" "$TMP/stderr.txt"

# Adaptive iteration count: stops on precision or budget, records which
mpi 2 "$BENCH/sb_allreduce" --sizes 8,64K --max-time 0.2 --json "$TMP/adapt.jsonl" >/dev/null 2>&1
check "adaptive: at least --min-iters iterations" jq_all "$TMP/adapt.jsonl" '.iterations >= 10'
check "adaptive: precision_reached recorded" jq_all "$TMP/adapt.jsonl" '(.precision_reached | type) == "boolean"'

# --samples keeps every iteration
mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 7 --samples --json "$TMP/s.jsonl" >/dev/null 2>&1
check "--samples: 7 per-iteration times (max over ranks) in the record" jq_all "$TMP/s.jsonl" \
  '(.samples_us | length) == 7 and (.samples_us_rank_mean | length) == 7'

# A singleton without mpirun
"$BENCH/sb_allreduce" --sizes 1K -n 3 --json "$TMP/single.jsonl" >/dev/null 2>&1
rc=$?
check "singleton without mpirun: exit 0, 1 rank" sh -c "[ $rc -eq 0 ] && jq -s -e '.[0].ranks == 1' '$TMP/single.jsonl' >/dev/null"
"$BENCH/sb_allreduce" -b 8 -e 16 -n 1 --json "$TMP/range.jsonl" >/dev/null 2>&1
check "the run header's options hold the --sizes list (null for a -b/-e range)" \
  sh -c "jq -s -e '.[0].options.sizes == [1024]' '$TMP/single.jsonl' >/dev/null &&
         jq -s -e '.[0].options.sizes == null and .[0].options.maxbytes == 16' '$TMP/range.jsonl' >/dev/null"

# -c 0: not checked is said, not faked
mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 2 -c 0 --json "$TMP/nc.jsonl" >/dev/null 2>&1
check "--check 0: wrong is null, not 0" jq_all "$TMP/nc.jsonl" '.wrong == null'
check "--check 0: the summary has no wrong count either, and says unchecked" \
  jqs '.[-1] | .type == "summary" and .wrong_total == null and .checked == false' "$TMP/nc.jsonl"
mpi 2 "$BENCH/sb_allreduce" --sizes 1K -n 2 -c 0 >"$TMP/nc.out" 2>&1
check "--check 0: the table says not checked, not 0 wrong" \
  sh -c "grep -q 'wrong elements: not checked' '$TMP/nc.out' && grep -q 'result: pass (results not checked' '$TMP/nc.out'"

done_testing
