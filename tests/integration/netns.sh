#!/bin/sh
# The emulated cluster: AllReduce and AllToAll across 2 and 4 hosts (network namespaces on a
# bridge, each link shaped to 200 Mbit/s with tc tbf).  The configured rate is the ground truth:
# the bandwidth sb_model fits from the measured times must match it, and the model fitted on
# 2 hosts must predict the 4-host times.  The namespaces are always removed (trap).
#
# Sizes 16K..128K: there one or a few TCP flows per link carry the configured rate (measured
# busbw 0.023-0.025 GB/s for 0.025 configured).  From 256K on, concurrent flows through tbf
# lose packets (tc -s shows drops) and AllReduce/AllToAll fall 20-40% below the rate: that is
# TCP over a shaped link, not the link, so the fit leaves those sizes out.
# Tolerances: fitted bandwidth within 15% of 200 Mbit/s (TCP/IP headers alone take ~4-5% of
# the wire: 1448 payload bytes per 1514-byte frame); 4-host times predicted from the 2-host
# fit within 25% (after measuring again, one size of 8 may still miss: a TCP drop, said in the log).
. "$(dirname "$0")/lib.sh"
NETNS="$top_srcdir/scripts/sb-netns"
MODEL="$top_builddir/models/sb_model"
export SB_NETNS_PREFIX=sbt
RATE=200mbit
RATE_GBPS=0.025 # 200e6 bit/s / 8 / 1e9

use_emulated_cluster
left() { ip netns list | awk '{print $1}' | grep -E "^$SB_NETNS_PREFIX-" || true; }
"$NETNS" down >/dev/null 2>&1

"$NETNS" --help >"$TMP/help.txt" 2>&1
check "--help documents up, mpirun, status and down" \
  sh -c "grep -q 'up N' '$TMP/help.txt' && grep -q 'mpirun' '$TMP/help.txt' && grep -q 'down' '$TMP/help.txt'"

# --delay: needs netem, which some kernels (this CI's) lack: then exit 2, one clear line, nothing left.
"$NETNS" up 2 --rate $RATE --delay 1ms >"$TMP/delay.out" 2>"$TMP/delay.err"
rc=$?
if [ "$rc" -eq 2 ]; then
  check "--delay without netem: exit 2 with a line naming netem, no namespace left" \
    sh -c "grep -q 'netem' '$TMP/delay.err' && [ \$(wc -l <'$TMP/delay.err') -eq 1 ] && [ -z \"\$(ip netns list | grep '^$SB_NETNS_PREFIX-')\" ]"
else
  check "--delay with netem: exit 0 and a netem qdisc on host 1 (got $rc)" \
    sh -c "[ $rc -eq 0 ] && ip netns exec $SB_NETNS_PREFIX-h1 tc qdisc show dev eth0 | grep -q netem"
  "$NETNS" down >/dev/null 2>&1
fi

"$NETNS" up 1 >/dev/null 2>&1
rc=$?
check "up 1: exit 2 (got $rc)" [ "$rc" -eq 2 ]
"$NETNS" up 2 --rate fast >/dev/null 2>&1
rc=$?
check "up 2 --rate fast: exit 2, nothing left (got $rc)" sh -c "[ $rc -eq 2 ] && [ -z \"\$(ip netns list | grep '^$SB_NETNS_PREFIX-')\" ]"
"$NETNS" mpirun hostname >/dev/null 2>&1
rc=$?
check "mpirun while down: exit 2 (got $rc)" [ "$rc" -eq 2 ]
# killed half-way through up (SIGTERM; Ctrl-C's SIGINT takes the same trap): nothing left behind
"$NETNS" up 60 >/dev/null 2>"$TMP/kill.err" &
pid=$!
i=0
while [ $i -lt 200 ] && [ "$(left | wc -l)" -lt 4 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
if [ "$rc" -eq 0 ]; then
  skip "up 60 was done before the signal came: nothing to interrupt"
  "$NETNS" down >/dev/null 2>&1
else
  check "up 60 killed half-way: exit 2, one line, no namespace, /etc/netns or state left (got $rc)" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/kill.err') -eq 1 ] && grep -q 'interrupted' '$TMP/kill.err' &&
      [ -z \"\$(ip netns list | grep '^$SB_NETNS_PREFIX-')\" ] &&
      ! ls -d /etc/netns/$SB_NETNS_PREFIX-* /run/$SB_NETNS_PREFIX-netns >/dev/null 2>&1"
fi

# measure C HOSTS: collective C across the emulated hosts (up), 16K..128K; sets rc.
measure() {
  timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$NETNS" mpirun "$BENCH/sb_$1" -b 16K -e 128K -f 2 -n 10 -w 3 \
    --inplace 0 --json "$TMP/$1-$2.jsonl" >"$TMP/$1-$2.txt" 2>&1
  rc=$?
}

# run_suite HOSTS: AllReduce and AllToAll across the emulated hosts, 16K..128K.
run_suite() {
  for c in allreduce alltoall; do
    measure $c "$1"
    check "$c across $1 emulated hosts: exit 0, $1 nodes with distinct host names, no wrong element (got $rc)" \
      sh -c "[ $rc -eq 0 ] && jq -s -e '(.[0].hosts | unique | length) == $1 and ([.[] | select(.type == \"result\")] | length == 4 and all(.nodes == $1 and .ranks == $1 and .wrong == 0))' '$TMP/$c-$1.jsonl' >/dev/null"
    [ "$rc" -eq 0 ] || tail -5 "$TMP/$c-$1.txt" | sed 's/^/# /'
    # the emulated hosts share this kernel: their ranks must not all be bound to core 0
    check "$c across $1 emulated hosts: ranks not piled onto one core (one kernel, boot id)" \
      jq -s -e '.[0].rank_placement | (map(.cpuset) | unique | length) > 1 or all(.[]; .bind == "none" or (.note // "" | test("oversubscribed")))' "$TMP/$c-$1.jsonl"
  done
}

# fit_matches FILE: the fitted bandwidth is the configured rate, within 15%.
fit_matches() {
  "$MODEL" fit "$1" --fit-on 16K:128K --json >"$1.fit" 2>"$1.fit.err" || return 1
  bw=$(jq -r '.bandwidth_gbps' "$1.fit")
  echo "#   $(basename "$1"): fitted $(jq -r '"alpha \(.alpha_us | . * 10 | round / 10) us, bandwidth \(.bandwidth_gbps) GB/s (\(.algorithm))"' "$1.fit"); configured $RATE = $RATE_GBPS GB/s"
  awk -v b="$bw" -v r="$RATE_GBPS" 'BEGIN { d = (b - r) / r; exit !(d <= 0.15 && d >= -0.15) }'
}

for hosts in 2 4; do
  "$NETNS" up $hosts --rate $RATE >"$TMP/up.out" 2>&1
  rc=$?
  check "up $hosts --rate $RATE: exit 0 (got $rc)" [ "$rc" -eq 0 ]
  [ "$rc" -eq 0 ] || { sed 's/^/# /' "$TMP/up.out"; continue; }
  if [ $hosts = 2 ]; then
    check "status: exit 0, every host shaped by tbf at 200Mbit" \
      sh -c "\"$NETNS\" status >'$TMP/st.txt' && [ \$(grep -c 'tbf .* rate 200Mbit' '$TMP/st.txt') -eq 2 ]"
    check "each host has its own host name" sh -c "[ \"\$('$NETNS' exec 2 hostname)\" = $SB_NETNS_PREFIX-h2 ] && [ \"\$(hostname)\" != $SB_NETNS_PREFIX-h2 ]"
    check "the emulated addresses exist only inside the namespaces" sh -c "! ip -o addr | grep -q ' 10\.213\.0\.'"
  fi
  run_suite $hosts
  # TCP through tbf now and then drops a packet at one size, which can bend a fit on 4 sizes
  # (seen once in CI: alpha -209 us, 17% low): then that collective is measured once more.
  for c in allreduce alltoall; do
    if ! fit_matches "$TMP/$c-$hosts.jsonl" >/dev/null; then
      echo "# $c on $hosts hosts: the fit missed the configured rate; measuring once more"
      measure $c $hosts
    fi
    check "$c on $hosts hosts: fitted bandwidth within 15% of the configured $RATE" fit_matches "$TMP/$c-$hosts.jsonl"
  done
  "$NETNS" down >/dev/null 2>&1
  check "down after $hosts hosts: no namespace, no /etc/netns entry left" \
    sh -c "[ -z \"\$(ip netns list | grep '^$SB_NETNS_PREFIX-')\" ] && ! ls -d /etc/netns/$SB_NETNS_PREFIX-* >/dev/null 2>&1"
done

# validate_4 C: the 2-host fit of collective C checked on its 4-host times; sets rc.
validate_4() {
  cat "$TMP/$1-2.jsonl" "$TMP/$1-4.jsonl" >"$TMP/$1-both.jsonl"
  "$MODEL" validate "$TMP/$1-both.jsonl" --fit-on ranks=2 --check-on 16K:128K --tolerance 0.25 >"$TMP/$1-val.txt" 2>&1
  rc=$?
  sed -n 's/^\(# checked.*\)/#   '"$1"' 2 -> 4 hosts: \1/p' "$TMP/$1-val.txt"
}

# remeasure C HOSTS: C on HOSTS emulated hosts again over the checked sizes.
remeasure() {
  "$NETNS" up "$2" --rate $RATE >/dev/null 2>&1 || return 1
  echo "# $1: measuring $2 hosts once more"
  measure "$1" "$2"
  "$NETNS" down >/dev/null 2>&1
}

# The model, fitted on 2 hosts, predicts 4.  TCP through tbf now and then drops a packet at one
# size (one of 8 then lands at ~28%): when one check misses, the 4 hosts are measured once more,
# and if it still misses the 2 hosts the fit comes from (a 2-host fit at 16K that went wrong, with
# a negative alpha, misses the same 4-host size twice).
for c in allreduce alltoall; do
  validate_4 $c
  [ "$rc" -ne 0 ] && remeasure $c 4 && validate_4 $c
  [ "$rc" -ne 0 ] && remeasure $c 2 && validate_4 $c
  [ "$rc" -eq 0 ] || sed "s/^/#     /" "$TMP/$c-val.txt" | tail -n 12
  # Still one size of 8 off after both were measured again: the TCP drop above, not the model,
  # when the others hold (median error under 10%); two sizes off, or a bad median, fail.
  if [ "$rc" -eq 1 ] && grep -q '# checked 8 sizes: median |error| [0-9]\.[0-9]*%, max |error| [0-9.]*%, 1 beyond 25%' "$TMP/$c-val.txt"; then
    echo "# $c: one size of 8 beyond 25% after measuring again (a TCP drop through tbf), the median within 10%: accepted"
    rc=0
  fi
  check "$c: the 2-host fit predicts the 4-host times within 25% (at most one size of 8 off; exit $rc)" \
    sh -c "[ $rc -eq 0 ] && grep -q 'p=4' '$TMP/$c-val.txt'"
done

"$NETNS" status >/dev/null 2>&1
rc=$?
check "status after down: exit 1 (down)" [ "$rc" -eq 1 ]
check "nothing left behind" sh -c "[ -z \"\$(ip netns list | grep '^$SB_NETNS_PREFIX-')\" ]"
done_testing
