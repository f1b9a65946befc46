#!/bin/sh
# sb_compare on real runs: a run against itself passes; a synthetic 10% busbw drop with tight
# intervals fails on exactly the sizes it touches; the same drop inside wide intervals is noise;
# wrong results and missing points fail; bad input is one line and exit 2.
. "$(dirname "$0")/lib.sh"
CMP="$top_builddir/models/sb_compare"
[ -x "$CMP" ] || { not_ok "sb_compare was not built ($CMP)"; done_testing; }

"$CMP" --help >"$TMP/help.txt" 2>&1
check "--help exits 0 and documents the tolerances" grep -q -- "--latency-tolerance" "$TMP/help.txt"

mpi 2 "$BENCH/sb_allreduce" -b 1K -e 1M -f 4 -n 30 --inplace 0 --json "$TMP/a.jsonl" >/dev/null 2>&1
rc=$?
check "reference run recorded (exit $rc)" [ "$rc" -eq 0 ]
n=$(jq_count "$TMP/a.jsonl")

"$CMP" "$TMP/a.jsonl" "$TMP/a.jsonl" >"$TMP/self.txt" 2>&1
rc=$?
check "a run against itself: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "the table has one line per size and a passing verdict" \
  sh -c "[ \$(grep -c -E '^ +[0-9]+[KM]? +(lat_us|busbw) ' '$TMP/self.txt') -eq $n ] && tail -1 '$TMP/self.txt' | grep -q ': pass$'"

# B = A 10% slower (busbw -9.1%) from 64K on, with +-1% intervals around every median.
jq -c 'if .type == "result" then
         (if .bytes >= 65536 then 1 / 0.9 else 1 end) as $s |
         .time_us.median *= $s | .busbw_gbps /= $s |
         .time_us.median_ci_lo = .time_us.median * 0.99 | .time_us.median_ci_hi = .time_us.median * 1.01
       else . end' "$TMP/a.jsonl" >"$TMP/slow.jsonl"
jq -c 'if .type == "result" then .time_us.median_ci_lo = .time_us.median * 0.99 |
         .time_us.median_ci_hi = .time_us.median * 1.01 else . end' "$TMP/a.jsonl" >"$TMP/tight.jsonl"
"$CMP" --json "$TMP/tight.jsonl" "$TMP/slow.jsonl" >"$TMP/slow.json" 2>"$TMP/slow.err"
rc=$?
check "10% slower from 64K, tight intervals: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "exactly the sizes >= 64K regress, on busbw, each naming measured, expected and tolerance" jqs \
  '[.[] | select(.type == "row")] as $r |
   ($r | map(select(.verdict == "regression")) | map(.bytes)) == ($r | map(select(.bytes >= 65536)) | map(.bytes))
   and ($r | map(select(.verdict == "regression")) | all(.metric == "busbw" and .measured < .expected and .tolerance == 0.05))
   and ($r | map(select(.bytes < 65536)) | all(.verdict == "ok"))' "$TMP/slow.json"
check "the JSON ends with a failing summary" sh -c "tail -1 '$TMP/slow.json' | jq -e '.type == \"summary\" and .verdict == \"fail\"' >/dev/null"

"$CMP" --tolerance 15 "$TMP/tight.jsonl" "$TMP/slow.jsonl" >/dev/null 2>&1
rc=$?
check "the same drop with --tolerance 15: exit 0 (got $rc)" [ "$rc" -eq 0 ]
"$CMP" --crossover 2M --latency-tolerance 5 "$TMP/tight.jsonl" "$TMP/slow.jsonl" >"$TMP/lat.txt" 2>&1
rc=$?
check "--crossover 2M judges latency everywhere: exit 1 and lat_us rows (got $rc)" \
  sh -c "[ $rc -eq 1 ] && ! grep -q -E '^ +[0-9]+[KM]? +busbw' '$TMP/lat.txt' && grep -q 'REGRESSION' '$TMP/lat.txt'"

# The same medians inside +-10% intervals: within noise, not a failure.
jq -c 'if .type == "result" then .time_us.median_ci_lo = .time_us.median * 0.9 |
         .time_us.median_ci_hi = .time_us.median * 1.1 else . end' "$TMP/slow.jsonl" >"$TMP/noisy.jsonl"
"$CMP" --json "$TMP/tight.jsonl" "$TMP/noisy.jsonl" >"$TMP/noisy.json" 2>&1
rc=$?
check "the same drop inside +-10% intervals: exit 0, reported as noise (got $rc)" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"row\" and .bytes >= 65536)] | all(.verdict == \"noise\")' '$TMP/noisy.json' >/dev/null"

jq -c 'if .type == "result" and .bytes == 4096 then .wrong = 2 else . end' "$TMP/a.jsonl" >"$TMP/wrong.jsonl"
"$CMP" --json "$TMP/a.jsonl" "$TMP/wrong.jsonl" >"$TMP/wrong.json" 2>&1
rc=$?
check "wrong elements in B: exit 1 with verdict wrong at 4K (got $rc)" \
  sh -c "[ $rc -eq 1 ] && jq -s -e '[.[] | select(.verdict == \"wrong\")] | map(.bytes) == [4096]' '$TMP/wrong.json' >/dev/null"

jq -c 'select(.type != "result" or .bytes != 1048576)' "$TMP/a.jsonl" >"$TMP/short.jsonl"
"$CMP" "$TMP/a.jsonl" "$TMP/short.jsonl" >"$TMP/short.txt" 2>&1
rc=$?
check "a point of A missing from B: exit 1, listed as MISSING (got $rc)" \
  sh -c "[ $rc -eq 1 ] && grep -q 'MISSING' '$TMP/short.txt'"
"$CMP" --allow-missing "$TMP/a.jsonl" "$TMP/short.jsonl" >/dev/null 2>&1
rc=$?
check "--allow-missing: exit 0 (got $rc)" [ "$rc" -eq 0 ]

# Bad input: exit 2, one line on stderr, naming the file and line.
{ sed -n 1,2p "$TMP/a.jsonl"; echo '{"type":"result", "bytes": 8,'; } >"$TMP/bad.jsonl"
"$CMP" "$TMP/a.jsonl" "$TMP/bad.jsonl" >/dev/null 2>"$TMP/bad.err"
rc=$?
check "malformed JSON: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "one line naming bad.jsonl:3" sh -c "[ \$(wc -l <'$TMP/bad.err') -eq 1 ] && grep -q 'bad.jsonl:3: invalid JSON' '$TMP/bad.err'"
echo '{"type":"result","collective":"allreduce","dtype":"float","in_place":false,"ranks":2,"bytes":8,"busbw_gbps":1}' >"$TMP/nofield.jsonl"
"$CMP" "$TMP/a.jsonl" "$TMP/nofield.jsonl" >/dev/null 2>"$TMP/nofield.err"
rc=$?
check "a result without time_us: exit 2, naming line and field" \
  sh -c "[ $rc -eq 2 ] && grep -q \"nofield.jsonl:1: result record lacks a valid 'time_us.median'\" '$TMP/nofield.err'"
"$CMP" "$TMP/a.jsonl" "$TMP/none.jsonl" >/dev/null 2>"$TMP/none.err"
rc=$?
check "a missing file: exit 2 with one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/none.err') -eq 1 ] && grep -q 'none.jsonl: cannot open' '$TMP/none.err'"
mpi 2 "$BENCH/sb_alltoall" --sizes 1K -n 5 --json "$TMP/t.jsonl" >/dev/null 2>&1
"$CMP" "$TMP/a.jsonl" "$TMP/t.jsonl" >/dev/null 2>"$TMP/disjoint.err"
rc=$?
check "two runs with no point in common: exit 2 (got $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'no point in common' '$TMP/disjoint.err'"
"$CMP" --tolerance abc "$TMP/a.jsonl" "$TMP/a.jsonl" >/dev/null 2>"$TMP/opt.err"
rc=$?
check "--tolerance abc: exit 2 (got $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'tolerance' '$TMP/opt.err'"
"$CMP" "$TMP/a.jsonl" >/dev/null 2>&1
rc=$?
check "one file only: exit 2 (got $rc)" [ "$rc" -eq 2 ]
"$CMP" --check "$TMP/a.jsonl" >/dev/null 2>&1 && ok "--check accepts a good run" || not_ok "--check accepts a good run"
"$CMP" --check "$TMP/bad.jsonl" >/dev/null 2>&1
rc=$?
check "--check rejects a malformed run with exit 2 (got $rc)" [ "$rc" -eq 2 ]

done_testing
