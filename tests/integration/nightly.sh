#!/bin/sh
# sb-nightly on this machine: a baseline run, a run against that baseline that passes, an
# injected slowdown on large calls (PMPI wrapper) that fails with JUnit failures naming exactly
# those sizes, a corrupted result that fails, a missing or malformed baseline (exit 2, one line),
# and the programs found on PATH when there is no build tree.
#
# Tolerances here are wide on purpose: on a shared 2-core VM two back-to-back runs differ by up
# to ~70% at 1-4 KiB and ~20% at large sizes, with tight intervals each time (run-to-run
# variation the intervals cannot see).  The injected delay (2 ms per call from 256 KiB on)
# slows those sizes 10-50x, far beyond these tolerances; sb_compare's unit and integration
# tests check a 10% drop against the default 5%.
. "$(dirname "$0")/lib.sh"
NIGHTLY="$top_srcdir/scripts/sb-nightly"
lib="$top_builddir/tests/integration/libsbfault.so"
export SB_BUILDDIR="$top_builddir"
[ -f "$lib" ] || { not_ok "fault library $lib was not built"; done_testing; }
have_xmllint=0; command -v xmllint >/dev/null 2>&1 && have_xmllint=1
have_gnuplot=0; command -v gnuplot >/dev/null 2>&1 && have_gnuplot=1

# nightly ARGS...: the job, bounded in time, with the suite used throughout.
nightly() {
  timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$NIGHTLY" --np 2 -b 1K -e 1M -f 4 -n 30 --label t \
    --tolerance 60 --latency-tolerance 400 --model-tolerance 70 "$@"
}
# junit_ok FILE: well-formed XML (when xmllint is there) and a <testsuites> root.
junit_ok() { if [ $have_xmllint = 1 ]; then xmllint --noout "$1"; fi && grep -q '^<testsuites ' "$1"; }
# failing_sizes FILE COLLECTIVE TYPE: the sizes named by failures of that type, sorted.
failing_sizes() {
  grep -o "<failure type=\"$3\" message=\"$2 [^\"]* at [0-9]*[KMG]\\{0,1\\}:" "$1" |
    sed 's/.* at \([0-9]*[KMG]\{0,1\}\):$/\1/' | sort -u | tr '\n' ' '
}

"$NIGHTLY" --help >"$TMP/help.txt" 2>&1
rc=$?
check "--help: exit 0, documents --baseline, --launcher-args and --out" \
  sh -c "[ $rc -eq 0 ] && grep -q -- --baseline '$TMP/help.txt' && grep -q -- --launcher-args '$TMP/help.txt' && grep -q -- '--out DIR' '$TMP/help.txt'"

# 1. baseline run.  The model checks below fit alpha/beta on the baseline; with 4 sizes per
# collective on this noisy 2-core VM the fit finds no linear range now and then: record the
# baseline once more then (the model check of a real job says "not checked" in that case).
# record_baseline DIR: the baseline run into DIR, saved as $TMP/baseline.jsonl; sets rc.
record_baseline() {
  for attempt in 1 2; do
    nightly --launcher-args "--oversubscribe" --out "$1" --save-baseline "$TMP/baseline.jsonl" >"$1.out" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && break
    "$top_builddir/models/sb_model" fit "$TMP/baseline.jsonl" >/dev/null 2>"$TMP/basefit.err" && break
    echo "# attempt $attempt: the baseline does not fit ($(head -c 160 "$TMP/basefit.err")); recording it again"
  done
}
record_baseline "$TMP/base"
check "baseline run: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "baseline run: results.jsonl has the run headers and 12 result records" \
  jqs '([.[] | select(.type == "run")] | length) == 2 and ([.[] | select(.type == "result")] | length) == 12' \
  "$TMP/base/results.jsonl"
check "--save-baseline wrote the same records" cmp -s "$TMP/base/results.jsonl" "$TMP/baseline.jsonl"
junit_ok "$TMP/base/junit.xml" && [ "$(grep -c '<testcase ' "$TMP/base/junit.xml")" -eq 14 ] &&
  ! grep -q '<failure' "$TMP/base/junit.xml" && ok "baseline run: JUnit at DIR/junit.xml, well-formed, 14 testcases (12 sizes + 2 runs), 0 failures" ||
  not_ok "baseline run: JUnit at DIR/junit.xml, well-formed, 14 testcases (12 sizes + 2 runs), 0 failures"
check "baseline run: Markdown summary says PASS and has a table per collective" \
  sh -c "grep -q '^\*\*PASS\*\*' '$TMP/base/summary.md' && [ \$(grep -c '^## all' '$TMP/base/summary.md') -eq 2 ]"
if [ $have_gnuplot = 1 ]; then
  check "baseline run: plots, PNG and SVG" sh -c "ls '$TMP/base/plots/run-latency.png' '$TMP/base/plots/run-busbw.svg' >/dev/null"
else
  skip "gnuplot not installed: no plots to check"
fi

# 2. against its own baseline.  On this shared 2-core VM a baseline measured in a slow moment can
# be 2-3x off at 16K-64K, which the model check (a fit of that baseline) reports as prediction
# misses although nothing regressed: then the baseline is recorded again and the run repeated (up
# to 3 tries: seen failing twice in a row in a CI run on a loaded machine).
for attempt in 1 2 3; do
  nightly --launcher-args "--oversubscribe" --out "$TMP/same" --baseline "$TMP/baseline.jsonl" >"$TMP/same.out" 2>&1
  rc=$?
  [ "$rc" -eq 1 ] && [ "$attempt" -lt 3 ] && jq -e '.baseline_comparison == "pass" and .wrong_or_failed_points == 0 and
      .model_check == "fail"' "$TMP/same/nightly.json" >/dev/null 2>&1 || break
  echo "# attempt $attempt: only the model check missed (the baseline's fit is off on this noisy VM); recording it again"
  record_baseline "$TMP/base2"
done
check "a run against its own baseline: exit 0 (got $rc)" [ "$rc" -eq 0 ]
[ "$rc" -eq 0 ] || sed -n '/## Failures/,/^## all/p' "$TMP/same/summary.md" | sed 's/^/# /'
check "... every one of the 12 points was compared, none failed" \
  jqs '[.[] | select(.type == "summary")][0] | .points == 12 and .failures == 0' "$TMP/same/compare.jsonl"
check "... and the model (a fit of the baseline) was checked and held" \
  sh -c "jq -e '.model_check == \"pass\"' '$TMP/same/nightly.json' >/dev/null && jq -s -e '[.[] | select(.type == \"row\" and .checked)] | length > 0' '$TMP/same/validate.jsonl' >/dev/null"
junit_ok "$TMP/same/junit.xml" && ! grep -q '<failure' "$TMP/same/junit.xml" &&
  ok "... JUnit well-formed without failures" || not_ok "... JUnit well-formed without failures"
check "... the tuning environment is the baseline's (nightly.json, summary.md)" \
  sh -c "jq -e '.environment_changes == []' '$TMP/same/nightly.json' >/dev/null && grep -q 'same as the baseline' '$TMP/same/summary.md'"

# 3. injected slowdown: +2 ms in every call moving >= 256 KiB, on every rank.  A size below
# 256 KiB that this shared 2-core VM happened to run slowly (seen once in CI at 64K) is noise, not
# the fault: then the slowed run is measured again (up to 3 tries).
slowed_exactly() {
  for c in allreduce alltoall; do
    [ "$(failing_sizes "$TMP/slow/junit.xml" "$c" regression)" = "1M 256K " ] || return 1
  done
}
for attempt in 1 2 3; do
  nightly --launcher-args "--oversubscribe -x LD_PRELOAD=$lib -x SB_FAULT=delay -x SB_FAULT_RANK=-1 -x SB_FAULT_MIN_BYTES=262144 -x SB_FAULT_DELAY_US=2000" \
    --out "$TMP/slow" --baseline "$TMP/baseline.jsonl" >"$TMP/slow.out" 2>&1
  rc=$?
  slowed_exactly && break
  [ "$attempt" -lt 3 ] && echo "# attempt $attempt: regressions other than the slowed sizes (noise on this VM); measuring once more"
done
check "injected slowdown on large calls: exit 1 (got $rc)" [ "$rc" -eq 1 ]
for c in allreduce alltoall; do
  got=$(failing_sizes "$TMP/slow/junit.xml" "$c" regression)
  check "$c: JUnit regression failures name exactly 256K and 1M (got: $got)" [ "$got" = "1M 256K " ]
done
check "a failure carries measured, expected and tolerance" \
  grep -q '<failure type="regression" message="allreduce busbw regression at 1M: measured [0-9.]* GB/s, expected [0-9.]* GB/s (baseline), tolerance 60%' "$TMP/slow/junit.xml"
# The model check sees the slowdown only where the baseline's fit (its linear range, which this
# noisy VM sometimes ends below 256 KiB) checks the slowed sizes.
if jq -s -e '[.[] | select(.type == "row" and .checked and .bytes >= 262144)] | length > 0' "$TMP/slow/validate.jsonl" >/dev/null; then
  check "the model check misses too (prediction failures)" grep -q '<failure type="prediction"' "$TMP/slow/junit.xml"
else
  skip "the baseline's fitted range ends below 256 KiB this time: the model check cannot see the slowed sizes"
fi
check "the summary says FAIL and lists the regressions" \
  sh -c "grep -q '^\*\*FAIL\*\*' '$TMP/slow/summary.md' && grep -q '^- allreduce 1M float out-of-place: busbw measured' '$TMP/slow/summary.md'"
junit_ok "$TMP/slow/junit.xml" && ok "... JUnit still well-formed" || not_ok "... JUnit still well-formed"
check "... and names the environment that differs from the baseline's (the fault's SB_FAULT=delay)" \
  sh -c "jq -e '.environment_changes | any(.name == \"SB_FAULT\" and .baseline == null and .now == \"delay\")' '$TMP/slow/nightly.json' >/dev/null && grep -q 'differs from the baseline.*SB_FAULT (unset) -> delay' '$TMP/slow/summary.md'"

# 4. corrupted result: one flipped byte on rank 1
nightly --collectives allreduce --launcher-args "--oversubscribe -x LD_PRELOAD=$lib -x SB_FAULT=corrupt -x SB_FAULT_RANK=1" \
  --out "$TMP/corrupt" --baseline "$TMP/baseline.jsonl" --save-baseline "$TMP/corrupt-baseline.jsonl" >"$TMP/corrupt.out" 2>&1
rc=$?
check "corrupted result: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "... JUnit failures of type wrong, expected 0" \
  grep -q '<failure type="wrong" message="allreduce at 1K: wrong results: measured [1-9][0-9]* wrong elements, expected 0' "$TMP/corrupt/junit.xml"
check "... and a failed run testcase" grep -q '<failure type="run" message="sb_allreduce exited 1' "$TMP/corrupt/junit.xml"
check "... no baseline saved from a corrupted run" [ ! -e "$TMP/corrupt-baseline.jsonl" ]

# 5. missing and malformed baselines: exit 2 with one line, before anything runs
nightly --launcher-args "--oversubscribe" --out "$TMP/m1" --baseline "$TMP/no-such.jsonl" >/dev/null 2>"$TMP/m1.err"
rc=$?
check "missing baseline: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "... one clear line naming it, nothing run" \
  sh -c "[ \$(wc -l <'$TMP/m1.err') -eq 1 ] && grep -q 'baseline .*no-such.jsonl: not found' '$TMP/m1.err' && [ ! -e '$TMP/m1' ]"
{ head -2 "$TMP/baseline.jsonl"; echo '{"type":"result","collective":'; } >"$TMP/broken.jsonl"
nightly --launcher-args "--oversubscribe" --out "$TMP/m2" --baseline "$TMP/broken.jsonl" >/dev/null 2>"$TMP/m2.err"
rc=$?
check "malformed baseline: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "... one line naming broken.jsonl:3" \
  sh -c "[ \$(wc -l <'$TMP/m2.err') -eq 1 ] && grep -q 'broken.jsonl:3: invalid JSON' '$TMP/m2.err'"
echo '{"type":"run","ranks":2}' >"$TMP/empty.jsonl"
nightly --out "$TMP/m3" --baseline "$TMP/empty.jsonl" >/dev/null 2>"$TMP/m3.err"
rc=$?
check "a baseline without results: exit 2 (got $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'no result records' '$TMP/m3.err'"

# 5b. a baseline with other sizes: tonight measures 2K, which the baseline lacks (verdict new),
# and not the baseline's 16K..1M (missing, a failure); the reports are still written
nightly --collectives allreduce -b 1K -e 4K -f 2 --no-model --no-plots --launcher-args "--oversubscribe" \
  --out "$TMP/other" --baseline "$TMP/baseline.jsonl" >/dev/null 2>"$TMP/other.err"
rc=$?
check "a baseline with other sizes: exit 1 (baseline points not measured), no internal error (got $rc)" \
  sh -c "[ $rc -eq 1 ] && ! grep -q 'internal error' '$TMP/other.err'"
junit_ok "$TMP/other/junit.xml" && grep -q 'name="2K float sum out-of-place np=2"' "$TMP/other/junit.xml" &&
  grep -q '>2K: median .*baseline: none (a point the baseline lacks), verdict new<' "$TMP/other/junit.xml" &&
  grep -q '<failure type="missing" message="allreduce at 16K' "$TMP/other/junit.xml" &&
  ok "... JUnit well-formed: the new 2K point a testcase, the unmeasured 16K a failure" ||
  not_ok "... JUnit well-formed: the new 2K point a testcase, the unmeasured 16K a failure"
check "... nightly.json holds the whole command line (its last argument too) and every setting" \
  jqs --arg b "$TMP/baseline.jsonl" '.[0] | .command_line[-1] == $b and .command_line[0] == "'"$NIGHTLY"'" and
    .settings.baseline == $b and (.settings | has("model_system") and has("np") and all(.[]; type == "string"))' \
  "$TMP/other/nightly.json"

# 5c. an output folder on a read-only file system (root only: a tmpfs mounted read-only)
if [ "$(id -u)" -eq 0 ] && mkdir -p "$TMP/ro" && mount -t tmpfs -o size=1m tmpfs "$TMP/ro" 2>/dev/null; then
  mkdir -p "$TMP/ro/out/plots" && mount -o remount,ro "$TMP/ro"
  nightly --out "$TMP/ro/out" >/dev/null 2>"$TMP/ro.err"
  rc=$?
  umount "$TMP/ro"
  check "a read-only output folder: exit 2, one line (got $rc: $(head -c 200 "$TMP/ro.err"))" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/ro.err') -eq 1 ] && grep -q 'cannot write' '$TMP/ro.err'"
else
  skip "a read-only output folder: needs root and a tmpfs mount"
fi

# 6. config file, and its errors
printf '# nightly\nnp = 2\ncollectives = alltoall\nminbytes = 1K\nmaxbytes = 4K\niters = 5\nlauncher_args = --oversubscribe\nlabel = cfg\n' >"$TMP/n.conf"
(cd "$TMP" && timeout -k 10 120 "$NIGHTLY" --config n.conf --no-plots --no-model -e 16K >/dev/null 2>&1)
rc=$?
d="$TMP/results/$(date +%Y-%m-%d)-cfg"
check "config file + a flag overriding it (-e 16K): exit 0, results/<date>-<label>/ (got $rc)" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | (map(.bytes) == [1024, 4096, 16384]) and all(.collective == \"alltoall\")' '$d/results.jsonl' >/dev/null"
printf 'np = 2\nfrobnicate = 3\n' >"$TMP/bad.conf"
"$NIGHTLY" --config "$TMP/bad.conf" >/dev/null 2>"$TMP/bad.err"
rc=$?
check "unknown config key: exit 2 naming file:line" sh -c "[ $rc -eq 2 ] && grep -q 'bad.conf:2: unknown key' '$TMP/bad.err'"
"$NIGHTLY" --np 2 --launcher pbs >/dev/null 2>"$TMP/l.err"
rc=$?
check "--launcher pbs: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'mpirun or srun' '$TMP/l.err'"
"$NIGHTLY" --np 2 --pairs --pairs-sizes 8,big >/dev/null 2>"$TMP/p.err"
rc=$?
check "--pairs-sizes 8,big: exit 2 with one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/p.err') -eq 1 ] && grep -q 'pairs-sizes' '$TMP/p.err'"
printf 'np = 2\npairs = maybe\n' >"$TMP/p.conf"
"$NIGHTLY" --config "$TMP/p.conf" >/dev/null 2>"$TMP/p.err"
rc=$?
check "config pairs = maybe: exit 2" sh -c "[ $rc -eq 2 ] && grep -q 'pairs must be 0 or 1' '$TMP/p.err'"

# 6a. settings that cannot work are refused before anything runs: exit 2, one line, no output folder
refused_early() {
  needle=$1; shift
  rm -rf "$TMP/early"
  nightly --collectives allreduce -e 4K --no-plots --out "$TMP/early" "$@" >/dev/null 2>"$TMP/early.err"
  rc=$?
  check "refused before running: $* -> exit 2, one line naming '$needle' (got $rc: $(head -c 200 "$TMP/early.err"))" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/early.err') -eq 1 ] && grep -qF -- \"$needle\" '$TMP/early.err' && [ ! -e '$TMP/early' ]"
}
echo '{"fits": [' >"$TMP/params-broken.json"
refused_early "lists 'allreduce' twice" --collectives allreduce,alltoall,allreduce
refused_early "--timeout must be seconds" --timeout 5%
refused_early "unknown system 'no-such-system'" --model-system no-such-system
refused_early "params-broken.json: not the JSON of sb_model fit --save" --model-params "$TMP/params-broken.json"
refused_early "is a directory" --save-baseline "$TMP"
refused_early "--np needs a value, got an empty one" --np ''
refused_early "--baseline needs a value, got an empty one" --baseline ''
printf 'np =\n' >"$TMP/empty.conf"
refused_early "empty.conf:1: 'np' needs a value" --config "$TMP/empty.conf"
# the switches in a config file, as --help says: the flag names without the dashes
printf 'no_plots = 1\nno-model = yes\n' >"$TMP/switches.conf"
nightly --config "$TMP/switches.conf" --collectives allreduce -e 4K -n 3 --out "$TMP/switches" >/dev/null 2>"$TMP/switches.err"
rc=$?
check "config no_plots = 1, no-model = yes: exit 0, no plots, model not checked (got $rc: $(head -c 200 "$TMP/switches.err"))" \
  sh -c "[ $rc -eq 0 ] && jq -e '.settings.plots == \"0\" and .model_note == \"not checked (--no-model)\"' '$TMP/switches/nightly.json' >/dev/null &&
    ! ls '$TMP/switches/plots/'*.png >/dev/null 2>&1"
touch "$TMP/a-file"
refused_early "cannot write in $TMP/a-file/sub" --save-baseline "$TMP/a-file/sub/b.jsonl"

# 6b. the pairwise stage on this machine (rank level): the verdict and its JUnit suite exist, and
# a pass/fail of the stage follows sb_model pairs (the emulated cluster, netns_pairs.sh, checks
# that a slow host is named; here 2 ranks give one pair, where nobody can be named)
nightly --collectives allreduce -e 4K --no-model --no-plots --pairs --pairs-sizes 8,64K --out "$TMP/pairs" \
  >/dev/null 2>&1
rc=$?
check "--pairs on 2 ranks: exit 0, pairs.jsonl and the verdict written (got $rc)" \
  sh -c "[ $rc -eq 0 ] && [ -s '$TMP/pairs/pairs.jsonl' ] && jq -e '.suspects == [] and .measured_pairs == 1' '$TMP/pairs/pairs-verdict.json' >/dev/null"
check "--pairs: a JUnit suite for the stage, one testcase per rank, no failure" \
  grep -q 'testsuite name="scalebench.t.pairs" tests="3" failures="0"' "$TMP/pairs/junit.xml"
check "--pairs: the JUnit file is well-formed" junit_ok "$TMP/pairs/junit.xml"
check "--pairs: the sb_pairs records are kept out of results.jsonl, the summary has the stage" \
  sh -c "! grep -q '\"collective\":\"pairs\"' '$TMP/pairs/results.jsonl' && grep -q '^## Pairwise sweep' '$TMP/pairs/summary.md' && jq -e '.pairs_check == \"pass\"' '$TMP/pairs/nightly.json' >/dev/null"

# 6c. broadcast has one buffer: with the default --inplace 0 it is measured in place, not refused
nightly --collectives allreduce,broadcast -e 4K -n 3 --no-model --no-plots --out "$TMP/bcast" >/dev/null 2>"$TMP/bcast.err"
rc=$?
check "broadcast with the default --inplace 0: exit 0, measured in place (got $rc: $(grep -m1 -v 'exit 0' "$TMP/bcast.err"))" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\" and .collective == \"broadcast\")] | length == 2 and all(.in_place)' '$TMP/bcast/results.jsonl' >/dev/null"

if [ "$(id -u)" -eq 0 ]; then
  check "as root: says it passes --allow-run-as-root to mpirun" grep -q '^sb-nightly: running as root: passing --allow-run-as-root to mpirun' "$TMP/bcast.err"
else
  check "not root: no --allow-run-as-root" sh -c "! grep -q 'allow-run-as-root' '$TMP/bcast.err'"
fi

# 6c2. an --out folder with an older run's files: none of them is left to be taken for tonight's
mkdir -p "$TMP/reused/plots"
for f in alltoall.log sendrecv.log model-fit.txt plots/sb-plot.err plots/run-busbw.png validate.txt; do echo old >"$TMP/reused/$f"; done
nightly --collectives allreduce -e 4K -n 3 --no-model --no-plots --out "$TMP/reused" >/dev/null 2>&1
rc=$?
check "an --out with an older run's files: exit 0, only tonight's files remain (got $rc: $(cd "$TMP/reused" && ls | tr '\n' ' '))" \
  sh -c "[ $rc -eq 0 ] && ! grep -rlx old '$TMP/reused' >/dev/null && [ -s '$TMP/reused/allreduce.log' ]"

# 6d. errors once measuring has begun, and interruptions: exit 2, the records measured are kept
# and every report is written (nightly.json says why; JUnit has an <error>)
# reports_ok DIR RESULT: nightly.json valid with that result and exit code 2, JUnit well-formed
# with one <error>, the summary headed by RESULT in capitals, no .part left
reports_ok() {
  jq -e --arg r "$2" '.result == $r and .exit_code == 2' "$1/nightly.json" >/dev/null &&
    python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); sys.exit(len(d.getElementsByTagName("error")) != 1)' "$1/junit.xml" &&
    grep -qi "^\*\*$2\*\*" "$1/summary.md" && ! ls "$1"/*.part >/dev/null 2>&1
}
nightly --collectives allreduce -e 4K -n 3 --no-model --no-plots --out "$TMP/elsewhere" >/dev/null 2>&1
jq -c 'if .type == "result" or .type == "run" then .ranks = 64 else . end' "$TMP/elsewhere/results.jsonl" >"$TMP/base64.jsonl"
nightly --collectives allreduce -e 4K -n 3 --no-plots --out "$TMP/nocommon" --baseline "$TMP/base64.jsonl" >/dev/null 2>"$TMP/nocommon.err"
rc=$?
check "a baseline of 64 ranks (another machine), no point in common: exit 2 (got $rc: $(tail -1 "$TMP/nocommon.err"))" \
  sh -c "[ $rc -eq 2 ] && tail -1 '$TMP/nocommon.err' | grep -q 'no point in common'"
check "... the records are kept, nightly.json says error with the reason, JUnit has the error, summary says ERROR" \
  sh -c "jq -s -e '[.[] | select(.type == \"result\")] | length == 2' '$TMP/nocommon/results.jsonl' >/dev/null &&
    jq -e '.error | test(\"no point in common\")' '$TMP/nocommon/nightly.json' >/dev/null" && reports_ok "$TMP/nocommon" error
# a baseline with a collective tonight's suite does not run: its points are missing, failures
# in JUnit as in the summary and compare.jsonl (there was no JUnit suite for it: 0 failures, exit 1)
{ cat "$TMP/elsewhere/results.jsonl"; jq -c 'select(.type == "result") | .collective = "alltoall"' "$TMP/elsewhere/results.jsonl"; } >"$TMP/base-more.jsonl"
nightly --collectives allreduce -e 4K -n 3 --no-model --no-plots --tolerance 900 --latency-tolerance 900 --out "$TMP/fewer" \
  --baseline "$TMP/base-more.jsonl" >/dev/null 2>&1
rc=$?
junit_ok "$TMP/fewer/junit.xml" &&
check "a baseline with one more collective: exit 1, JUnit has its 2 points as missing failures, as many as compare.jsonl (got $rc)" \
  sh -c "[ $rc -eq 1 ] && [ \$(grep -c '<failure type=\"missing\" message=\"alltoall at' '$TMP/fewer/junit.xml') -eq 2 ] &&
    grep -q 'testsuites [^>]*failures=\"2\"' '$TMP/fewer/junit.xml' &&
    jq -s -e '[.[] | select(.type == \"summary\")][0].failures == 2' '$TMP/fewer/compare.jsonl' >/dev/null"
(unset OMPI_MCA_rmaps_base_oversubscribe; nightly --np 4096 --collectives allreduce,alltoall -e 4K --no-plots \
  --out "$TMP/noslots" >/dev/null 2>"$TMP/noslots.err")
rc=$?
check "--np above the launcher's slots (mpirun starts nothing): exit 2, not a failed run (got $rc: $(tail -1 "$TMP/noslots.err"))" \
  sh -c "[ $rc -eq 2 ] && tail -1 '$TMP/noslots.err' | grep -q 'did not start sb_allreduce'"
check "... nightly.json names alltoall as not run" \
  sh -c "jq -e '.not_run == [\"alltoall\"]' '$TMP/noslots/nightly.json' >/dev/null" && reports_ok "$TMP/noslots" error
# SIGTERM (a CI timeout) while sb_allreduce is at 4K (delayed 0.5 s a call), after 1K was recorded
nightly --collectives allreduce,alltoall -e 64K -n 3 --no-plots --out "$TMP/term" --save-baseline "$TMP/term-base.jsonl" \
  --launcher-args "--oversubscribe -x LD_PRELOAD=$lib -x SB_FAULT=delay -x SB_FAULT_RANK=-1 -x SB_FAULT_MIN_BYTES=4096 -x SB_FAULT_DELAY_US=500000" \
  >/dev/null 2>"$TMP/term.err" &
job=$!
for i in $(seq 1 300); do grep -q '"type":"result"' "$TMP/term/allreduce.part" 2>/dev/null && break; sleep 0.1; done
# the job runs under the timeout in nightly(), which passes the signal on
pid=$(pgrep -P "$job" || echo "$job")
kill -TERM "$pid"
wait "$job"
rc=$?
check "SIGTERM mid-run: exit 2 at once (got $rc: $(tail -1 "$TMP/term.err"))" \
  sh -c "[ $rc -eq 2 ] && grep -q 'interrupted (SIGTERM)' '$TMP/term.err'"
# the ranks end a moment after mpirun (both got the signal): give them 10 s
for i in $(seq 1 100); do left=$(pgrep -f "$TMP/term/allreduce[.]part" | tr '\n' ' '); [ -z "$left" ] && break; sleep 0.1; done
check "... the 1K record measured before it is in results.jsonl, no benchmark left running (${left:-none})" \
  sh -c "jq -s -e '[.[] | select(.type == \"result\")] | map(.bytes) == [1024]' '$TMP/term/results.jsonl' >/dev/null && [ -z '$left' ]"
check "... nightly.json: interrupted, SIGTERM, alltoall not run; JUnit and summary say so; no baseline saved" \
  sh -c "jq -e '.interrupted == \"SIGTERM\" and .not_run == [\"alltoall\"]' '$TMP/term/nightly.json' >/dev/null && [ ! -e '$TMP/term-base.jsonl' ]" &&
  reports_ok "$TMP/term" interrupted

# 7. installed layout: no build tree, everything on PATH
mkdir -p "$TMP/bin"
cp "$NIGHTLY" "$top_srcdir/scripts/sb-plot" "$TMP/bin/"
(unset SB_BUILDDIR; PATH="$TMP/bin:$top_builddir/models:$top_builddir/benchmarks:$PATH" timeout -k 10 120 \
  sb-nightly --np 2 -b 1K -e 4K -n 5 --collectives allreduce --launcher-args --oversubscribe --out "$TMP/path" \
  --no-model >/dev/null 2>&1)
rc=$?
check "programs found on PATH (no build tree): exit 0 (got $rc)" [ "$rc" -eq 0 ]

done_testing
