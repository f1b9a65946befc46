#!/bin/sh
# scripts/sb-run, the main job: both benchmarks into one file, benchmark options after --, and
# bad usage, an unwritable --out or a launcher that starts nothing as one line with exit 2.
. "$(dirname "$0")/lib.sh"
RUN="$top_srcdir/scripts/sb-run"

# run_refused NEEDLE ARGS...: sb-run ARGS exits 2 with one stderr line of its own containing NEEDLE.
run_refused() {
  needle=$1; shift
  "$RUN" --builddir "$top_builddir" "$@" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  lines=$(grep -c '^sb-run:' "$TMP/err")
  others=$(grep -v '^sb-run: running as root' "$TMP/err" | grep -c -v '^sb-run:')
  if [ "$rc" -eq 2 ] && [ "$lines" -ge 1 ] && [ "$others" -eq 0 ] && grep -q -- "$needle" "$TMP/err"; then
    ok "sb-run $* -> exit 2: $(grep -v 'running as root' "$TMP/err" | tail -1)"
  else
    not_ok "sb-run $* (exit $rc, stderr: $(head -c 300 "$TMP/err"))"
  fi
}

"$RUN" --help >"$TMP/help.txt" 2>&1
rc=$?
check "--help: exit 0, documents --np, --out and options after --" \
  sh -c "[ $rc -eq 0 ] && grep -q -- '--np N' '$TMP/help.txt' && grep -q -- '--out FILE' '$TMP/help.txt' && grep -q -- '-- -b 8' '$TMP/help.txt'"
run_refused "unknown argument '--bogus'" --bogus
run_refused "--np must be a positive integer, got '0'" --np 0
# /proc exists but takes no new file, even for root
run_refused "cannot write /proc/sb-run-test.jsonl" --np 2 --out /proc/sb-run-test.jsonl
run_refused "did not start sb_allreduce" --np 2 --mpirun false --out "$TMP/false.jsonl"

"$RUN" --builddir "$top_builddir" --np 2 --out "$TMP/r.jsonl" -- -b 1K -e 4K -n 5 >"$TMP/r.out" 2>"$TMP/r.err"
rc=$?
check "sb-run --np 2 -- -b 1K -e 4K -n 5: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "... both benchmarks' records in one file, the options passed on, no .part left" \
  sh -c "jq -s -e '([.[] | select(.type == \"run\") | .collective] == [\"allreduce\", \"alltoall\"]) and
    ([.[] | select(.type == \"result\") | .bytes] | unique == [1024, 2048, 4096])' '$TMP/r.jsonl' >/dev/null &&
    ! ls '$TMP'/r.jsonl.*.part >/dev/null 2>&1"
"$RUN" --builddir "$top_builddir" --np 2 --out "$TMP/bad.jsonl" -- -d bogus >/dev/null 2>"$TMP/bad.err"
rc=$?
check "a benchmark option it refuses (-- -d bogus): exit 2 with the benchmark's line (got $rc)" \
  sh -c "[ $rc -eq 2 ] && grep -q \"^sb_allreduce: invalid --datatype 'bogus'\" '$TMP/bad.err'"

# SIGTERM while sb_allreduce is at 4K (each call delayed 0.5 s), after 1K was recorded (in and
# out of place, then 2K): the
# records measured are appended (they stayed in a .part, the file empty), sb_alltoall not started
lib="$top_builddir/tests/integration/libsbfault.so"
printf '#!/bin/sh\nexec %s -x LD_PRELOAD=%s -x SB_FAULT=delay -x SB_FAULT_RANK=-1 -x SB_FAULT_MIN_BYTES=4096 -x SB_FAULT_DELAY_US=500000 "$@"\n' \
  "$MPIRUN" "$lib" >"$TMP/slow-mpirun"
chmod +x "$TMP/slow-mpirun"
"$RUN" --builddir "$top_builddir" --np 2 --mpirun "$TMP/slow-mpirun" --out "$TMP/term.jsonl" -- -b 1K -e 64K -n 3 \
  >/dev/null 2>"$TMP/term.err" &
job=$!
for i in $(seq 1 300); do grep -q '"type":"result"' "$TMP/term.jsonl.sb_allreduce.part" 2>/dev/null && break; sleep 0.1; done
kill -TERM "$job"
wait "$job"
rc=$?
check "SIGTERM mid-run: exit 2, the 1K record in FILE, no .part left, sb_alltoall not started (got $rc: $(tail -1 "$TMP/term.err"))" \
  sh -c "[ $rc -eq 2 ] && grep -q 'interrupted (SIGTERM) during sb_allreduce' '$TMP/term.err' &&
    jq -s -e '[.[] | select(.type == \"result\")] | (map(.collective) | unique == [\"allreduce\"]) and any(.bytes == 1024)' '$TMP/term.jsonl' >/dev/null &&
    ! ls '$TMP'/term.jsonl.*.part >/dev/null 2>&1"

# scripts/install-deps: --help and a bad argument install nothing (apt-get and sudo are fakes here)
mkdir -p "$TMP/fakebin"
for t in apt-get sudo; do printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$t" "$TMP/apt.calls" >"$TMP/fakebin/$t"; chmod +x "$TMP/fakebin/$t"; done
PATH="$TMP/fakebin:$PATH" "$top_srcdir/scripts/install-deps" --help >"$TMP/deps.out" 2>&1
rc=$?
check "install-deps --help: exit 0, a usage, apt-get not run (got $rc)" \
  sh -c "[ $rc -eq 0 ] && grep -q '^Usage: scripts/install-deps' '$TMP/deps.out' && [ ! -e '$TMP/apt.calls' ]"
PATH="$TMP/fakebin:$PATH" "$top_srcdir/scripts/install-deps" --yes-please >/dev/null 2>"$TMP/deps.err"
rc=$?
check "install-deps --yes-please: exit 2, one line, apt-get not run (got $rc)" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/deps.err') -eq 1 ] && [ ! -e '$TMP/apt.calls' ]"

done_testing
