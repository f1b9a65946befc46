#!/bin/sh
# sb-plot: two runs overlaid (latency and busbw, PNG and SVG, log size axis, units), measured
# vs predicted from sb_model validate --json, and bad input as one line with exit 2.
. "$(dirname "$0")/lib.sh"
PLOT="$top_srcdir/scripts/sb-plot"
MODEL="$top_builddir/models/sb_model"

"$PLOT" --help >"$TMP/help.txt" 2>&1
rc=$?
check "--help: exit 0, documents --validate and --format" \
  sh -c "[ $rc -eq 0 ] && grep -q -- --validate '$TMP/help.txt' && grep -q -- --format '$TMP/help.txt'"
"$PLOT" >/dev/null 2>"$TMP/noarg.err"
rc=$?
check "no input: exit 2 with one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/noarg.err') -eq 1 ]"

if ! command -v gnuplot >/dev/null 2>&1; then
  skip "gnuplot not installed: charts not checked (install gnuplot-nox)"
  done_testing
fi

mpi 2 "$BENCH/sb_allreduce" -b 1K -e 1M -f 4 -n 20 --inplace 0 --json "$TMP/a.jsonl" >/dev/null 2>&1
mpi 2 "$BENCH/sb_allreduce" -b 1K -e 1M -f 4 -n 20 --inplace 0 --json "$TMP/b.jsonl" >/dev/null 2>&1
"$PLOT" --out "$TMP/run" --title "two runs" "$TMP/a.jsonl=monday" "$TMP/b.jsonl=tuesday" >"$TMP/list.txt" 2>"$TMP/err.txt"
rc=$?
check "two runs overlaid: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "four charts listed: latency and busbw, PNG and SVG" \
  sh -c "[ \$(wc -l <'$TMP/list.txt') -eq 4 ] && for f in run-latency.png run-latency.svg run-busbw.png run-busbw.svg; do [ -s '$TMP/'\$f ] || exit 1; done"
check "the PNGs are PNG images" sh -c "for f in '$TMP/run-latency.png' '$TMP/run-busbw.png'; do head -c 8 \"\$f\" | od -An -c | grep -q 'P   N   G' || exit 1; done"
check "the SVG names both runs in its key" sh -c "grep -q 'monday: allreduce float sum out-of-place np=2' '$TMP/run-latency.svg' && grep -q 'tuesday: allreduce' '$TMP/run-latency.svg'"
check "axes carry units: us on the latency chart, GB/s on busbw, bytes with binary prefixes" \
  sh -c "grep -q 'time per call (us' '$TMP/run-latency.svg' && grep -q 'GB/s' '$TMP/run-busbw.svg' && grep -q 'message size (bytes' '$TMP/run-busbw.svg' && grep -q '1 MiB' '$TMP/run-busbw.svg'"
check "the latency axis is logarithmic (decade ticks 1, 10, 100)" \
  sh -c "grep -q '>1</tspan>\|> 1</tspan>\|>1<' '$TMP/run-latency.svg' && grep -q '>100<\|> 100<' '$TMP/run-latency.svg'"

"$PLOT" --format svg --out "$TMP/only" "$TMP/a.jsonl" >/dev/null 2>&1
check "--format svg writes SVG only" sh -c "[ -s '$TMP/only-busbw.svg' ] && [ ! -e '$TMP/only-busbw.png' ]"

# a path with '=' in it (sb-nightly --out /data/run=3 passes DIR/results.jsonl=LABEL), and spaces
mkdir -p "$TMP/run=3 x"
cp "$TMP/a.jsonl" "$TMP/run=3 x/r.jsonl"
"$PLOT" --format svg --out "$TMP/run=3 x/p" "$TMP/run=3 x/r.jsonl" "$TMP/run=3 x/r.jsonl=it=s" >/dev/null 2>"$TMP/eq.err"
rc=$?
check "a path holding '=' and spaces, bare and as FILE=LABEL (label 'it=s'): exit 0 (got $rc: $(head -c 200 "$TMP/eq.err"))" \
  sh -c "[ $rc -eq 0 ] && grep -q '>r: allreduce' '$TMP/run=3 x/p-latency.svg' && grep -q '>it=s: allreduce' '$TMP/run=3 x/p-latency.svg'"

"$MODEL" validate "$TMP/a.jsonl" --fit-on 16K:1M --json >"$TMP/v.jsonl" 2>/dev/null
"$PLOT" --validate "$TMP/v.jsonl" --out "$TMP/m" >/dev/null 2>"$TMP/m.err"
rc=$?
check "measured vs predicted from sb_model validate --json: exit 0 (got $rc)" \
  sh -c "[ $rc -eq 0 ] && [ -s '$TMP/m-model.png' ] && grep -q 'predicted' '$TMP/m-model.svg' && grep -q 'measured' '$TMP/m-model.svg'"

# bad input
{ head -1 "$TMP/a.jsonl"; echo '{"type":"result",'; } >"$TMP/bad.jsonl"
"$PLOT" --out "$TMP/x" "$TMP/bad.jsonl" >/dev/null 2>"$TMP/bad.err"
rc=$?
check "malformed JSON: exit 2, one line naming bad.jsonl:2" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/bad.err') -eq 1 ] && grep -q 'bad.jsonl:2: invalid JSON' '$TMP/bad.err'"
"$PLOT" --out "$TMP/x" "$TMP/missing.jsonl" >/dev/null 2>"$TMP/miss.err"
rc=$?
check "missing file: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'missing.jsonl: not found' '$TMP/miss.err'"
head -1 "$TMP/a.jsonl" >"$TMP/header.jsonl"
"$PLOT" --out "$TMP/x" "$TMP/header.jsonl" >/dev/null 2>"$TMP/hdr.err"
rc=$?
check "no result records: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'no result records' '$TMP/hdr.err'"
"$PLOT" --validate "$TMP/a.jsonl" --out "$TMP/x" >/dev/null 2>"$TMP/val.err"
rc=$?
check "--validate on a results file: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'sb_model validate' '$TMP/val.err'"
"$PLOT" --format gif "$TMP/a.jsonl" >/dev/null 2>&1
rc=$?
check "--format gif: exit 2 (got $rc)" [ "$rc" -eq 2 ]
"$PLOT" --out "$TMP/nodir/x" "$TMP/a.jsonl" >/dev/null 2>&1
rc=$?
check "output folder missing: exit 2 (got $rc)" [ "$rc" -eq 2 ]
# /proc: root may write the folder (test -w) but not create files in it; gnuplot says why
"$PLOT" --out /proc/sb-plot-test "$TMP/a.jsonl" >"$TMP/proc.out" 2>"$TMP/proc.err"
rc=$?
check "output gnuplot cannot create (/proc): exit 2, one line saying why (got $rc: $(head -c 200 "$TMP/proc.err"))" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/proc.err') -eq 1 ] && grep -q 'not writable\|cannot open file' '$TMP/proc.err' && [ ! -s '$TMP/proc.out' ]"

# --infer: the throughput-interactivity curves of sb_model infer --csv
"$MODEL" infer --csv --systems hgx-b200,gb200-nvl72 >"$TMP/curves.csv"
"$PLOT" --infer "$TMP/curves.csv" --out "$TMP/inf" >/dev/null 2>&1; rc=$?
check "--infer: exit 0 (got $rc), PNG and SVG written and not empty" \
  sh -c "[ $rc -eq 0 ] && [ -s '$TMP/inf-infer.png' ] && grep -q '<svg' '$TMP/inf-infer.svg'"
"$PLOT" --infer "$TMP/curves.csv" --out "$TMP/infsvg" --format svg >/dev/null 2>&1; rc=$?
check "--infer --format svg: exit 0 (got $rc), the SVG only" \
  sh -c "[ $rc -eq 0 ] && grep -q '<svg' '$TMP/infsvg-infer.svg' && [ ! -e '$TMP/infsvg-infer.png' ]"
"$PLOT" --infer "$TMP/curves.csv" --out "$TMP/infbad" --format jpg >/dev/null 2>"$TMP/err"; rc=$?
check "--infer --format jpg: exit 2 (got $rc), one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ]"
"$PLOT" --infer "$TMP/curves.csv" extra.jsonl >/dev/null 2>"$TMP/err"; rc=$?
check "--infer with a results file too: exit 2 (got $rc), one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/err') -eq 1 ]"
"$PLOT" --infer "$TMP/curves.csv" --out "$TMP/inf2" --title "Llama's decode" >/dev/null 2>&1; rc=$?
check "--infer --title with an apostrophe: exit 0 (got $rc), the title in the SVG" \
  sh -c "[ $rc -eq 0 ] && grep -q \"Llama's decode\" '$TMP/inf2-infer.svg'"
"$PLOT" --infer "$TMP/curves.csv" --out /proc/sb-plot-test >"$TMP/inf.out" 2>"$TMP/inf.err"; rc=$?
check "--infer to a place gnuplot cannot create (/proc): exit 2, one line, no image on stdout (got $rc)" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/inf.err') -eq 1 ] && grep -q 'not writable\|cannot open file' '$TMP/inf.err' && [ ! -s '$TMP/inf.out' ]"

done_testing
