#!/bin/sh
# sb_local: host memcpy and reduction run, verify and write scalebench/1 records that
# `sb_model fit` reads as the gamma ("local") curve (device reduction records make a curve of their
# own and leave the host one alone); bad input exits 2 with one line; the device tests, the device
# reduction dreduce among them, SKIP where no GPU can be used.
. "$(dirname "$0")/lib.sh"
L="$BENCH/sb_local"
M="$top_builddir/models/sb_model"
if [ ! -x "$L" ]; then
  not_ok "benchmarks/sb_local is not built"
  done_testing
fi
FAST="--max-time 0.02 -w 2"

# ---- a host run over four dtypes
out="$TMP/host.jsonl"
"$L" --test memcpy,reduce -b 4K -e 256K -f 4 -d float,int32,half,bfloat16 $FAST --json "$out" >"$TMP/table" 2>"$TMP/err"
rc=$?
check "host memcpy + reduce run exits 0 (exit $rc: $(head -c 200 "$TMP/err"))" [ "$rc" -eq 0 ]
check "run header: schema, benchmark, host, cpu_model, command_line, start_time" jqs \
  '.[0] | .schema == "scalebench/1" and .type == "run" and .benchmark == "sb_local" and (.host | length > 0)
   and (.cpu_model | type == "string") and (.command_line | test("sb_local")) and (.start_time | test("Z$"))' "$out"
check "one result per (test, dtype, size): 4 memcpy + 16 reduce" jqs \
  '[.[] | select(.type == "result")] | (map(select(.test == "memcpy")) | length) == 4 and (map(select(.test == "reduce")) | length) == 16' "$out"
check "every point verified: wrong == 0, error null" jq_all "$out" '.wrong == 0 and .error == null'
check "reduce records are what sb_model reads: collective local, ranks 1, nodes 1, host/host, op sum, out-of-place" \
  jq_all "$out" 'if .test == "reduce" then .collective == "local" and .ranks == 1 and .nodes == 1 and .backend == "host"
    and .memory == "host" and .op == "sum" and .in_place == false and (.dtype | IN("float", "int32", "half", "bfloat16")) else true end'
check "memcpy records: collective memcpy, dtype none, bytes = count" \
  jq_all "$out" 'if .test == "memcpy" then .collective == "memcpy" and .dtype == "none" and .bytes == .count else true end'
check "time_us has min <= median <= p99 <= max, mean, stddev; iterations >= 10" jq_all "$out" \
  '.time_us as $t | $t.min <= $t.median and $t.median <= $t.p99 and $t.p99 <= $t.max and ($t.mean > 0) and ($t | has("stddev")) and .iterations >= 10'
check "bandwidth_gbps = bytes / median (G = 1e9); nominal_peak_gbps null on the host" jq_all "$out" \
  '((.bandwidth_gbps - .bytes / .time_us.median / 1e3) | fabs) < 1e-6 * .bandwidth_gbps and .nominal_peak_gbps == null'
check "summary: pass, no wrong, no failed" jqs '.[-1] | .type == "summary" and .result == "pass" and .wrong_total == 0 and .failed_points == 0' "$out"
check "table lists the reduce dtypes and the GB/s column" sh -c "grep -q '# reduce, dtype half' '$TMP/table' && grep -q 'GB/s' '$TMP/table'"
check "run header: last_level_cache is {level, bytes} from hwloc or null; the table says it" sh -c \
  "jq -s -e '.[0].last_level_cache | . == null or ((.level | . >= 1 and . <= 4) and .bytes >= 4096)' '$out' >/dev/null &&
   grep -q '^# Last-level cache: ' '$TMP/table'"

# ---- threads and k: still exact
"$L" --test reduce -b 64K -e 64K -d int8,double -k 4 --threads 2 $FAST --json "$TMP/k4.jsonl" >/dev/null 2>&1
rc=$?
check "--threads 2 -k 4 int8,double: exit 0, wrong 0, buffers 4 (exit $rc)" sh -c \
  "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 2 and all(.wrong == 0 and .buffers == 4 and .threads == 2)' '$TMP/k4.jsonl' >/dev/null"

# ---- the point of the tool: sb_model fit reads the reduction as the gamma ("local") curve.
# Fit in the DRAM regime: buffers from the last-level cache's size (16M where hwloc reports
# none) up 8x (4 sizes).  Inside the cache the time is no line (on this VM's 32 MiB L3, 1M..32M
# ran 10 GB/s falling to 5: three CI attempts found no 3 sizes in line).
llc=$(jq -s -r '.[0].last_level_cache.bytes // 0' "$out")
lo=16777216
while [ "$lo" -lt "$llc" ] && [ "$lo" -lt 268435456 ]; do lo=$((lo * 2)); done
for attempt in 1 2 3; do
  "$L" --test reduce -b "$lo" -e $((lo * 8)) -f 2 --max-time 0.1 --json "$TMP/gamma.jsonl" >/dev/null 2>&1
  "$M" fit "$TMP/gamma.jsonl" --json >"$TMP/fit.json" 2>"$TMP/fit.err"; rc=$?
  [ "$rc" -eq 0 ] && break
  echo "# attempt $attempt: fit failed ($(head -c 200 "$TMP/fit.err")); measuring again"
done
check "sb_model fit accepts sb_local's reduce records (exit $rc)" [ "$rc" -eq 0 ]
check "the fit is a local curve with gamma_gbps > 0 (= its bandwidth)" jqs \
  'map(select(.collective == "local" and .memory == "host" and .dtype == "float")) | length == 1 and
   (.[0].gamma_gbps > 0) and .[0].gamma_gbps == .[0].bandwidth_gbps' "$TMP/fit.json"

# Device reduction records (as dreduce writes them: collective local, backend cuda, memory device;
# here made from the host ones at a tenth of the time, since no GPU is needed to check the fit's
# selection) must give a device gamma curve of their own and leave the host gamma as it was.
jq -c 'if .type == "result" then .test = "dreduce" | .backend = "cuda" | .memory = "device"
  | .time_us |= map_values(. / 10) else . end' "$TMP/gamma.jsonl" >"$TMP/dev-gamma.jsonl"
cat "$TMP/gamma.jsonl" "$TMP/dev-gamma.jsonl" >"$TMP/mixed.jsonl"
"$M" fit "$TMP/mixed.jsonl" --json >"$TMP/fit-mixed.json" 2>"$TMP/fit-mixed.err"; rc=$?
check "sb_model fit on host + device reduction records: exit 0 (exit $rc: $(head -c 200 "$TMP/fit-mixed.err"))" [ "$rc" -eq 0 ]
split_ok() {
  jq -n -e --slurpfile a "$TMP/fit.json" --slurpfile b "$TMP/fit-mixed.json" '
    ($a | map(select(.collective == "local" and .memory == "host"))) as $h0 |
    ($b | map(select(.collective == "local" and .memory == "host"))) as $h1 |
    ($b | map(select(.collective == "local" and .memory == "device" and .backend == "cuda"))) as $d |
    ($h1 | length) == 1 and $h1[0].gamma_gbps == $h0[0].gamma_gbps and $h1[0].backend == "host" and
    ($d | length) == 1 and ((($d[0].gamma_gbps / $h0[0].gamma_gbps) - 10) | fabs) < 1e-6' >/dev/null
}
check "host gamma unchanged by device records; device records fit as their own local cuda/device curve" split_ok

# ---- --json -: records on stdout, the table on stderr
"$L" --test memcpy -b 4K -e 4K -n 3 --json - >"$TMP/stdout" 2>"$TMP/stderr"
check "--json - puts only JSON on stdout and the table on stderr" sh -c \
  "jq -s -e 'length == 3' '$TMP/stdout' >/dev/null && grep -q 'memcpy, dtype none' '$TMP/stderr'"

# ---- bad input: exit 2, one line
bad_ok() { [ "$1" -eq 2 ] && [ "$2" -eq 1 ] && grep -q -F -- "$3" "$TMP/be" && [ ! -s "$TMP/bo" ]; }
bad() {
  want=$1; shift
  "$L" "$@" >"$TMP/bo" 2>"$TMP/be"; rc=$?
  lines=$(wc -l <"$TMP/be")
  check "sb_local $* -> exit 2, one line naming \"$want\" (exit $rc, $lines lines: $(head -c 120 "$TMP/be"))" \
    bad_ok "$rc" "$lines" "$want"
}
bad "invalid --test 'bogus'" --test bogus
bad "invalid --minbytes" -b 12Q
bad "is larger than --maxbytes" -b 1M -e 1K
bad "invalid --buffers '1'" -k 1
bad "invalid --datatype" -d quad
bad "invalid --threads" --threads 0
bad "unknown option" --frobnicate
bad "-n fixes the iteration count" -n 5 --max-time 0.1
bad "cannot write --json" --test memcpy -b 4K -e 4K -n 2 --json "$TMP/no/such/dir/out.jsonl"
if [ -w /dev/full ]; then
  "$L" --test memcpy -b 4K -e 4K -n 2 --json /dev/full >/dev/null 2>"$TMP/full"; rc=$?
  check "--json to a full disk: exit 2 (got $rc), said once" \
    sh -c "[ $rc -eq 2 ] && [ \$(grep -c 'No space left' '$TMP/full') -eq 1 ]"
fi

# ---- sizes that cannot be measured are skipped with a note, never silently, and a run that
# measured nothing is an error (it exited 0 "pass" with 0 points)
"$L" --test reduce -d double -b 1 -e 4 -n 2 --json "$TMP/none.jsonl" >"$TMP/no" 2>"$TMP/ne"; rc=$?
check "sizes below one element: exit 2 (got $rc), a note per size, one line 'nothing was measured'" sh -c \
  "[ $rc -eq 2 ] && grep -q 'size 1 skipped: smaller than one 8-byte element' '$TMP/no' &&
   [ \$(grep -c '^sb_local:' '$TMP/ne') -eq 1 ] && grep -q 'nothing was measured' '$TMP/ne' &&
   tail -1 '$TMP/none.jsonl' | jq -e '.result == \"error\" and .exit_code == 2 and .points == 0' >/dev/null"
"$L" --test reduce -b 7 -e 7 -n 2 >"$TMP/ro" 2>&1
check "a size that is not whole elements: a note says it was rounded down" \
  grep -q 'size 7 rounded down to 4 bytes' "$TMP/ro"
# host buffers are touched when allocated: a size beyond memory is skipped with a note (it was
# attempted: a failed point and exit 1, or the OOM killer once it fit in the address space)
"$L" --test memcpy -b 64 -e 64T -f 1048576 -n 2 --json "$TMP/cap.jsonl" >"$TMP/co" 2>&1; rc=$?
check "64, 64M, 64T memcpy: exit 0 (got $rc), 64T skipped with a note, the smaller sizes measured" sh -c \
  "[ $rc -eq 0 ] && grep -q 'size 70368744177664 skipped: 2 buffers of it need more than' '$TMP/co' &&
   jq -s -e '[.[] | select(.type == \"result\")] | length == 2 and all(.error == null)' '$TMP/cap.jsonl' >/dev/null"

# ---- device tests: run on a GPU; here, without one, SKIP (and exit 2 when asked alone)
"$L" --test d2d,h2d,d2h -b 4K -e 64K -f 16 -n 5 --json "$TMP/dev.jsonl" >"$TMP/do" 2>"$TMP/de"; rc=$?
if [ "$rc" -eq 2 ]; then
  check "device tests alone without a usable GPU: exit 2, one clear line ($(cat "$TMP/de"))" sh -c \
    "[ \$(wc -l <'$TMP/de') -eq 1 ] && grep -q -E 'no CUDA device visible|no CUDA support|unusable' '$TMP/de'"
  skip "device tests h2d, d2h, d2d: $(sed 's/^sb_local: //' "$TMP/de")"
  "$L" -b 4K -e 4K -n 3 --json "$TMP/all.jsonl" >"$TMP/ao" 2>&1; rc=$?
  check "--test all without a GPU: host tests run (exit $rc), device ones skipped with a note" sh -c \
    "[ $rc -eq 0 ] && grep -q 'device tests (h2d, d2h, d2d, dreduce) skipped' '$TMP/ao' && jq -s -e '(.[0].gpu.available == false) and ([.[] | select(.type == \"result\")] | length == 2)' '$TMP/all.jsonl' >/dev/null"
  check "run header says whether this build has the device reduction (device_reduce; why when not)" jqs \
    '.[0].gpu | (.device_reduce | type == "boolean") and (.device_reduce or (.device_reduce_why | test("built without nvcc")))' \
    "$TMP/all.jsonl"
else
  check "device tests on a GPU: exit 0 (exit $rc)" [ "$rc" -eq 0 ]
  check "device copies verified: wrong 0, backend cuda, memory pinned/device" jq_all "$TMP/dev.jsonl" \
    '.wrong == 0 and .backend == "cuda" and (.memory | IN("pinned", "device"))'
fi

# ---- the device reduction dreduce (gamma on the GPU): every dtype, k 2 and 5, sizes that leave a
# tail after the 16-byte vectors; SKIP without a GPU, or on a GPU when the build has no nvcc.
dred() { "$L" --test dreduce -b 1000 -e 1000000 -f 10 -d all -k "$1" -n 5 -w 1 --json "$TMP/dred$1.jsonl" \
  >"$TMP/dro" 2>"$TMP/dre"; }
dred 2; rc=$?
if [ "$rc" -eq 2 ]; then
  check "dreduce alone where it cannot run: exit 2, one clear line ($(cat "$TMP/dre"))" sh -c \
    "[ \$(wc -l <'$TMP/dre') -eq 1 ] && grep -q -E 'no CUDA device visible|no CUDA support|unusable|built without nvcc' '$TMP/dre'"
  skip "device reduction dreduce: $(sed 's/^sb_local: //' "$TMP/dre")"
else
  dred 5; rc5=$?
  check "dreduce on a GPU, all dtypes, k 2 and 5: exit 0 (exit $rc, $rc5: $(head -c 200 "$TMP/dre"))" \
    [ "$rc$rc5" = 00 ]
  for k in 2 5; do
    check "dreduce k=$k: 10 dtypes x 4 sizes, all verified (wrong 0), local cuda/device records" jqs \
      "[.[] | select(.type == \"result\")] | length == 40 and all(.wrong == 0 and .error == null and
       .test == \"dreduce\" and .collective == \"local\" and .backend == \"cuda\" and .memory == \"device\"
       and .op == \"sum\" and .buffers == $k)" "$TMP/dred$k.jsonl"
    check "dreduce k=$k: memory traffic (k+1) x bytes, GB/s = bytes / median, the DRAM peak alongside" \
      jq_all "$TMP/dred$k.jsonl" ".memory_traffic_bytes == ($k + 1) * .bytes and
        ((.bandwidth_gbps - .bytes / .time_us.median / 1e3) | fabs) <= 1e-6 * .bandwidth_gbps and
        (.nominal_peak_gbps == null or .nominal_peak_gbps > 0)"
  done
fi
done_testing
