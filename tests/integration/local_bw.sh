#!/bin/sh
# sb_local: host memcpy and reduction run, verify and write scalebench/1 records that
# `sb_model fit` reads as the gamma ("local") curve; bad input exits 2 with one line; the device
# tests SKIP where no GPU can be used.
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

# ---- threads and k: still exact
"$L" --test reduce -b 64K -e 64K -d int8,double -k 4 --threads 2 $FAST --json "$TMP/k4.jsonl" >/dev/null 2>&1
rc=$?
check "--threads 2 -k 4 int8,double: exit 0, wrong 0, buffers 4 (exit $rc)" sh -c \
  "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 2 and all(.wrong == 0 and .buffers == 4 and .threads == 2)' '$TMP/k4.jsonl' >/dev/null"

# ---- the point of the tool: sb_model fit reads the reduction as the gamma ("local") curve
# (in the DRAM regime: across the cache sizes the time is not one line, and fit rightly refuses)
for attempt in 1 2 3; do
  "$L" --test reduce -b 2M -e 16M -f 2 --max-time 0.05 --json "$TMP/gamma.jsonl" >/dev/null 2>&1
  "$M" fit "$TMP/gamma.jsonl" --json >"$TMP/fit.json" 2>"$TMP/fit.err"; rc=$?
  [ "$rc" -eq 0 ] && break
  echo "# attempt $attempt: fit failed ($(head -c 200 "$TMP/fit.err")); measuring again"
done
check "sb_model fit accepts sb_local's reduce records (exit $rc)" [ "$rc" -eq 0 ]
check "the fit is a local curve with gamma_gbps > 0 (= its bandwidth)" jqs \
  'map(select(.collective == "local" and .memory == "host" and .dtype == "float")) | length == 1 and
   (.[0].gamma_gbps > 0) and .[0].gamma_gbps == .[0].bandwidth_gbps' "$TMP/fit.json"

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
bad "cannot write --json" --test memcpy -b 4K -e 4K -n 2 --json "$TMP/no/such/dir/out.jsonl"

# ---- device tests: run on a GPU; here, without one, SKIP (and exit 2 when asked alone)
"$L" --test d2d,h2d,d2h -b 4K -e 64K -f 16 -n 5 --json "$TMP/dev.jsonl" >"$TMP/do" 2>"$TMP/de"; rc=$?
if [ "$rc" -eq 2 ]; then
  check "device tests alone without a usable GPU: exit 2, one clear line ($(cat "$TMP/de"))" sh -c \
    "[ \$(wc -l <'$TMP/de') -eq 1 ] && grep -q -E 'no CUDA device visible|no CUDA support|unusable' '$TMP/de'"
  skip "device tests h2d, d2h, d2d: $(sed 's/^sb_local: //' "$TMP/de")"
  "$L" -b 4K -e 4K -n 3 --json "$TMP/all.jsonl" >"$TMP/ao" 2>&1; rc=$?
  check "--test all without a GPU: host tests run (exit $rc), device ones skipped with a note" sh -c \
    "[ $rc -eq 0 ] && grep -q 'device tests (h2d, d2h, d2d) skipped' '$TMP/ao' && jq -s -e '(.[0].gpu.available == false) and ([.[] | select(.type == \"result\")] | length == 2)' '$TMP/all.jsonl' >/dev/null"
else
  check "device tests on a GPU: exit 0 (exit $rc)" [ "$rc" -eq 0 ]
  check "device copies verified: wrong 0, backend cuda, memory pinned/device" jq_all "$TMP/dev.jsonl" \
    '.wrong == 0 and .backend == "cuda" and (.memory | IN("pinned", "device"))'
fi
done_testing
