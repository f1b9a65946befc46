#!/bin/sh
# Closing the loop on this machine: measure sb_allreduce on 2 and 4 ranks (shared memory),
# fit on every other size, validate on the sizes in between. Stated tolerance for shared
# memory: 25% per size, inside the linear range the fit finds on the fitted sizes alone.
. "$(dirname "$0")/lib.sh"
M="$top_builddir/models/sb_model"
TOL=0.25
# 64K..8M in steps of sqrt(2): the even entries are fitted, the odd ones held out.
SIZES=65536,98304,131072,196608,262144,393216,524288,786432,1048576,1572864,2097152,3145728,4194304,6291456,8388608

if [ ! -x "$BENCH/sb_allreduce" ]; then
  not_ok "benchmarks/sb_allreduce is not built: nothing to measure"
  done_testing
fi

# measure_fit_validate NP: one measurement on NP ranks, the fit on its even sizes, the check on
# the odd sizes inside the fitted range; sets mrc (measure), frc (fit), vrc (validate), fit_on,
# check_on.
measure_fit_validate() {
  np=$1 out="$TMP/ar$1.jsonl" frc=1 vrc=1 fit_on="" check_on=""
  mpi "$np" "$BENCH/sb_allreduce" --sizes "$SIZES" --inplace 0 --max-time 0.3 --json "$out" >/dev/null 2>"$TMP/err"
  mrc=$?
  [ "$mrc" -eq 0 ] || return
  jq -c --arg even "$even" 'select(.type != "result" or (.bytes | tostring | IN($even | split(",")[])))' \
    "$out" >"$TMP/even$np.jsonl"
  "$M" fit "$TMP/even$np.jsonl" --json >"$TMP/fit$np.json"; frc=$?
  [ "$frc" -eq 0 ] || return
  lo=$(jq '.min_bytes' "$TMP/fit$np.json"); hi=$(jq '.max_bytes' "$TMP/fit$np.json")
  fit_on=$(echo "$even" | tr ',' '\n' | awk -v lo="$lo" -v hi="$hi" '$1 >= lo && $1 <= hi' | paste -sd, -)
  check_on=$(echo "$SIZES" | tr ',' '\n' | awk 'NR % 2 == 0' | awk -v lo="$lo" -v hi="$hi" '$1 > lo && $1 < hi' | paste -sd, -)
  [ -n "$check_on" ] || return
  "$M" validate "$out" --fit-on "$fit_on" --check-on "$check_on" --tolerance "$TOL" --json >"$TMP/val$np.json"; vrc=$?
}

even=$(echo "$SIZES" | tr ',' '\n' | awk 'NR % 2 == 1' | paste -sd, -)
for np in 2 4; do
  # A 2-core machine running 4 ranks (and whatever else runs beside the tests) is noisy: when one
  # measurement finds no linear range, or one held-out size strays past the tolerance, measure
  # once more before calling it a failure (both measurements are reported).
  for attempt in 1 2; do
    measure_fit_validate $np
    [ "$mrc" -eq 0 ] || break
    [ "$vrc" -eq 0 ] && break
    echo "# attempt $attempt on $np ranks: fit exit $frc, validation exit $vrc ($(jq -c 'select(.type == "summary")' "$TMP/val$np.json" 2>/dev/null)); measuring again"
  done
  check "measured allreduce on $np ranks (exit $mrc)" [ "$mrc" -eq 0 ]
  [ "$mrc" -eq 0 ] || continue
  check "fit on the even sizes of $np ranks (exit $frc)" [ "$frc" -eq 0 ]
  if [ -z "$check_on" ]; then
    not_ok "$np ranks: the fitted range holds no held-out size"
    continue
  fi
  summary=$(jq -c 'select(.type == "summary")' "$TMP/val$np.json")
  check "$np ranks: fit on $fit_on, held-out sizes $check_on within $TOL ($summary)" [ "$vrc" -eq 0 ]
  check "$np ranks: validation rows carry bytes, measured_us, predicted_us, relative_error" jq -e -s \
    '[.[] | select(.type == "row")] | length > 0 and all(has("bytes") and has("measured_us") and has("predicted_us") and has("relative_error"))' "$TMP/val$np.json"
done

# fit --save then predict --params and validate --params use the same numbers.
if [ -s "$TMP/even2.jsonl" ]; then
  "$M" fit "$TMP/even2.jsonl" --save "$TMP/params.json" >/dev/null; rc=$?
  check "fit --save writes PARAMS.json" [ "$rc" -eq 0 ] && [ -s "$TMP/params.json" ]
  check "predict --params for 8 ranks through the ring model" sh -c \
    "'$M' predict --params '$TMP/params.json' --collective allreduce --ranks 8 --bytes 1M --json | jq -e '.algorithm == \"ring\" and .time_us > 0' >/dev/null"
  "$M" validate "$TMP/ar2.jsonl" --params "$TMP/params.json" --tolerance "$TOL" >/dev/null; rc=$?
  check "validate --params on 2 ranks (all sizes in the fitted range): exit $rc" [ "$rc" -eq 0 ]
fi
done_testing
