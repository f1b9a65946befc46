#!/bin/sh
# sb_model on the shipped catalog: systems, predictions near published 8 x H100 busbw, sizing,
# and the seed's rules (R8 contradicted, exit 1).
. "$(dirname "$0")/lib.sh"
M="$top_builddir/models/sb_model"

"$M" systems --json >"$TMP/systems" 2>"$TMP/err"; rc=$?
check "systems: exit 0" [ "$rc" -eq 0 ]
for s in dgx-h100 dgx-h200 hgx-b200 gb200-nvl72 gb200-nvl36x2 gb200-nvl576 gh200-nvl32 gh200-nvl256 cloudmatrix-384; do
  check "systems lists $s" jq -e -s "any(.[]; .system == \"$s\")" "$TMP/systems"
done

predict() { "$M" predict --system dgx-h100 --collective allreduce --ranks 8 --bytes 8G --json "$@"; }
ring=$(predict --algorithm ring | jq '.busbw_gbps')
nvls=$(predict --algorithm nvls | jq '.busbw_gbps')
best=$(predict | jq -r '.algorithm')
check "8 x H100 ring busbw $ring GB/s within 5% of the published 370" \
  awk -v v="$ring" 'BEGIN { exit !(v > 351.5 && v < 388.5) }'
check "8 x H100 nvls busbw $nvls GB/s within 5% of the published 475-480" \
  awk -v v="$nvls" 'BEGIN { exit !(v > 451 && v < 504) }'
check "best algorithm at 8G on dgx-h100 is nvls" [ "$best" = nvls ]
check "predict --json has the documented fields" sh -c \
  "'$M' predict --system gb200-nvl72 --collective alltoall --ranks 72 --bytes 1M --json | jq -e 'has(\"time_us\") and has(\"algbw_gbps\") and has(\"busbw_gbps\") and has(\"algorithm\")' >/dev/null"
n=$("$M" predict --system dgx-h100 --collective allreduce --ranks 16 --nodes 2 --sweep -b 8 -e 1G -f 4 --json | wc -l)
check "a sweep 8..1G by 4 gives 14 points (got $n)" [ "$n" -eq 14 ]
check "two DGX H100 nodes: hierarchical applies" sh -c \
  "'$M' predict --system dgx-h100 --collective allreduce --ranks 16 --algorithm hierarchical --bytes 1G >/dev/null"

"$M" rules --json >"$TMP/rules"; rc=$?
check "rules: exit 1 because a rule is contradicted" [ "$rc" -eq 1 ]
check "R8 (8 optical modules per GPU) is contradicted, derived 9" \
  jq -e -s 'any(.[]; .id == "R8" and .verdict == "contradicted" and .derived == 9 and .claimed == 8)' "$TMP/rules"
check "R1-R7, R9 and R13 hold" jq -e -s \
  '[.[] | select(.id | test("^R([1-79]|13)b?$"))] | length >= 14 and all(.verdict == "holds")' "$TMP/rules"
check "R10-R12 are unverifiable here" jq -e -s \
  '[.[] | select(.id == "R10" or .id == "R11" or .id == "R12")] | length == 3 and all(.verdict == "unverifiable")' "$TMP/rules"
check "rule records carry id, claim, claimed, derived, unit, arithmetic, verdict" jq -e -s \
  'all(.[]; has("id") and has("claim") and has("claimed") and has("derived") and has("unit") and has("arithmetic") and has("verdict"))' "$TMP/rules"
"$M" rules --rule R4 >/dev/null; rc=$?
check "rules --rule R4 alone: exit 0" [ "$rc" -eq 0 ]

"$M" size --system gb200-nvl576 --json >"$TMP/size"; rc=$?
check "size gb200-nvl576: exit 0" [ "$rc" -eq 0 ]
check "size: 144 tier-2 chips, 9 x 1.6T per GPU, optics between racks" jq -e -s \
  'any(.[]; .key == "l2_chips" and .value == 144) and any(.[]; .key == "t2_modules_1600g_per_gpu" and .value == 9) and any(.[]; .key == "medium_t2" and .medium == "optics")' "$TMP/size"
for s in dgx-h100 hgx-b200 gb200-nvl72 gb200-nvl36x2 gh200-nvl32 gh200-nvl256 cloudmatrix-384; do
  check "size --system $s: exit 0" sh -c "'$M' size --system $s >/dev/null"
done
check "size --tiers 3 for 20000 GPUs on Q3400" sh -c "'$M' size --system gb200-nvl72 --gpus 20000 --tiers 3 | grep -q 'fat-tree tiers .* 3 tiers'"
# A fit holds on its sizes only: predict --params says which rows lie outside them.
cat >"$TMP/params.json" <<'JSON'
{"schema": "scalebench-model-params/1", "fitted_from": "test", "fits": [
 {"collective": "allreduce", "backend": "mpi", "memory": "host", "ranks": 4, "nodes": 1,
  "algorithm": "ring", "alpha_us": 2, "bandwidth_gbps": 2, "r2": 0.99, "min_bytes": 65536, "max_bytes": 1048576}]}
JSON
"$M" predict --params "$TMP/params.json" --collective allreduce --ranks 4 --sweep -b 16K -e 4M -f 4 --json >"$TMP/extra.jsonl"
check "predict --params: sizes outside the fit's 64K..1M are extrapolated, the others not" jqs \
  'map(select(.extrapolated) | .bytes) == [16384, 4194304] and length == 5' "$TMP/extra.jsonl"
check "predict --params: the text rows say so" sh -c \
  "'$M' predict --params '$TMP/params.json' --collective allreduce --ranks 4 --bytes 4M | grep -q 'extrapolated: the fit holds on 64K..1M'"

# 400G NICs on 800G switch ports: the half port per GPU says it assumes breakout cables
cp -r "$top_srcdir/models/systems" "$TMP/cat"
sed -i 's/"switch": "qm9700"/"switch": "q3400"/' "$TMP/cat/hopper.json"
check "size: 400G NICs on 800G ports share a port through a breakout cable, said beside 0.5 ports" sh -c \
  "'$M' size --catalog '$TMP/cat' --system dgx-h100 --gpus 1024 | grep 'switch ports per GPU' | grep -q '0.5 ports.*2 NICs share one port through a breakout cable'"

# fit: a curve that cannot be fitted (1-rank in-place AllReduce: no work, flat times) is said and
# left out, the others are still fitted; a 1-rank line is "linear" (no algorithm on one rank)
"$BENCH/sb_allreduce" -b 64K -e 1M -n 6 -w 1 --json "$TMP/one.jsonl" >/dev/null 2>&1
jq -c 'if .type == "result" then .time_us.median = (if .in_place then 1.0 else 2 + .bytes / 10000 end) else . end' \
  "$TMP/one.jsonl" >"$TMP/one-shaped.jsonl"
"$M" fit "$TMP/one-shaped.jsonl" --json >"$TMP/one-fit.jsonl" 2>"$TMP/one-fit.err"
rc=$?
check "fit: one curve unfittable, the other fitted: exit 0 (got $rc), the unfitted one named on stderr" sh -c \
  "[ $rc -eq 0 ] && grep -q 'not fitted: allreduce .* in-place p=1' '$TMP/one-fit.err' && grep -q '1 of 2 curves not fitted' '$TMP/one-fit.err'"
check "fit: the out-of-place curve is fitted, as a linear (1-rank) line" \
  jqs 'length == 1 and .[0].algorithm == "linear" and (.[0].bandwidth_gbps > 9 and .[0].bandwidth_gbps < 11)' "$TMP/one-fit.jsonl"
jq -c 'select(.type != "result" or .in_place)' "$TMP/one-shaped.jsonl" >"$TMP/flat.jsonl"
"$M" fit "$TMP/flat.jsonl" >/dev/null 2>&1
rc=$?
check "fit: nothing fittable at all: exit 2 (got $rc)" [ "$rc" -eq 2 ]

# validate --params: a curve the parameters have no fit of its placement for is named and left
# out, the others are validated (an out-of-place fit says nothing of in-place calls)
"$M" fit "$TMP/one-shaped.jsonl" --save "$TMP/one-params.json" >/dev/null 2>&1
"$M" validate "$TMP/one-shaped.jsonl" --params "$TMP/one-params.json" --json >"$TMP/one-val.jsonl" 2>"$TMP/one-val.err"
rc=$?
check "validate --params: the in-place curve without a fit is named, the out-of-place one validated (exit $rc)" sh -c \
  "[ $rc -eq 0 ] && grep -q 'not validated: .* has no fit for allreduce .* in-place p=1' '$TMP/one-val.err' &&
   jq -s -e '[.[] | select(.type == \"row\")] | length > 0 and all(.in_place == false)' '$TMP/one-val.jsonl' >/dev/null &&
   jq -s -e '.[-1].curves_not_validated == 1' '$TMP/one-val.jsonl' >/dev/null"
done_testing
