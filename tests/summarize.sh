#!/bin/sh
# Counts the TAP results of every test under the build tree and prints the closing line
# "N passed, N failed" (after a line counting the skipped cases); exits 1 when anything failed or nothing ran.
set -u
dir=${1:-.}
pass=0; fail=0; skip=0
for trs in $(find "$dir" -name '*.trs' 2>/dev/null); do
  p=$(grep -c '^:test-result: PASS' "$trs"); f=$(grep -c -E '^:test-result: (FAIL|ERROR|XPASS)' "$trs")
  s=$(grep -c '^:test-result: SKIP' "$trs")
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  if [ "$f" -gt 0 ]; then
    echo "failed in ${trs%.trs}.log:"; grep -E '^(not ok|Bail out)' "${trs%.trs}.log" | sed 's/^/  /'
  fi
done
echo "$skip skipped (need a GPU, a second NUMA node or another missing feature; see the logs)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
