#!/bin/sh
# sb_model infer and demand: curves in every format, the seed's claims, fitted collectives
# in the whole computation, malformed LLM files and bad options refused with exit 2.
. "$(dirname "$0")/lib.sh"
M="$top_builddir/models/sb_model"
LLMS="$top_srcdir/models/llms"

# refuse NEEDLE ARGS...: exit 2, one stderr line containing NEEDLE, nothing on stdout.
refuse() {
  needle=$1; shift
  "$M" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
  lines=$(wc -l <"$TMP/err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$needle" "$TMP/err" && [ ! -s "$TMP/out" ]; then
    ok "refused: $(cat "$TMP/err")"
  else
    not_ok "refused: $* (rc=$rc, $lines stderr lines: $(head -c 300 "$TMP/err"))"
  fi
}

"$M" infer --list-models --json >"$TMP/models.jsonl"
check "four LLMs listed, each within 1% of its published size" jqs \
  'length >= 4 and all(((.params_b - .published_params_b) | fabs) <= 0.01 * .published_params_b)' "$TMP/models.jsonl"

"$M" infer --json >"$TMP/curve.jsonl"
check "default: four systems side by side" jqs '[.[].system] | unique | length == 4' "$TMP/curve.jsonl"
check "every point has the issue's fields" jqs 'all(has("system") and has("model") and has("tp") and has("ep")
  and has("pp") and has("batch") and has("tok_s_per_user") and has("tok_s_per_gpu") and has("step_ms")
  and has("compute_ms") and has("memory_ms") and has("tp_comm_ms") and has("ep_comm_ms"))' "$TMP/curve.jsonl"
check "the step is the sum of its parts" jqs 'all((.step_ms - (.compute_ms + .memory_ms + .tp_comm_ms
  + .ep_comm_ms + .pp_comm_ms) | fabs) < 1e-6 * .step_ms)' "$TMP/curve.jsonl"
check "per system, faster per user means slower per GPU" jqs 'group_by(.system) | all(
  . as $c | [range(1; length)] | all($c[.].tok_s_per_user > $c[. - 1].tok_s_per_user
  and $c[.].tok_s_per_gpu < $c[. - 1].tok_s_per_gpu))' "$TMP/curve.jsonl"
check "tok_s_per_gpu = batch x tok_s_per_user / gpus" jqs \
  'all((.tok_s_per_gpu - .batch * .tok_s_per_user / .gpus | fabs) < 1e-6 * .tok_s_per_gpu)' "$TMP/curve.jsonl"

"$M" infer --csv --systems gb200-nvl72 --model llama-3.1-70b >"$TMP/curve.csv"
check "CSV: a header and rows of 23 fields" sh -c "head -1 '$TMP/curve.csv' | grep -q '^system,model,' &&
  [ \$(wc -l <'$TMP/curve.csv') -gt 5 ] && awk -F, 'NF != 23 { exit 1 }' '$TMP/curve.csv'"
"$M" infer --systems gb200-nvl72 --model llama-3.1-70b >"$TMP/table.txt"
check "table names the memory wall" grep -q "memory wall: weights + KV of one sequence need 1 GPUs" "$TMP/table.txt"

"$M" infer --claims --json >"$TMP/claims.jsonl"; rc=$?
check "claims: exit 1 when the model contradicts a claim" [ "$rc" -eq 1 ]
check "claims: R10, R11 and R12 each with a verdict and a number" jqs '([.[].id | .[0:3]] | unique) == ["R10", "R11", "R12"]
  and all(.verdict == "holds" or .verdict == "contradicted" or .verdict == "unverifiable")' "$TMP/claims.jsonl"

# Fitted collectives (a fit --save file) replace the catalog's in the whole computation.
cat >"$TMP/params.json" <<'JSON'
{"schema": "scalebench-model-params/1", "fitted_from": "test", "fits": [
 {"collective": "allreduce", "backend": "nccl", "memory": "device", "ranks": 8, "nodes": 1,
  "algorithm": "ring", "alpha_us": 100, "bandwidth_gbps": 1, "intercept_us": 1400, "slope_us_per_byte": 0.00175, "r2": 1},
 {"collective": "alltoall", "backend": "nccl", "memory": "device", "ranks": 8, "nodes": 1,
  "algorithm": "pairwise", "alpha_us": 100, "bandwidth_gbps": 1, "intercept_us": 700, "slope_us_per_byte": 0.000875, "r2": 1}]}
JSON
"$M" infer --json --systems hgx-b200 --model llama-3.1-70b --all >"$TMP/cat.jsonl"
"$M" infer --json --systems hgx-b200 --model llama-3.1-70b --all --params "$TMP/params.json" >"$TMP/fit.jsonl"
check "fitted: every point says so" jqs 'all(.collectives == "fitted")' "$TMP/fit.jsonl"
# 80 layers x 2 AllReduces of 8192 x 2 bytes at 1400 us + 0.00175 us/B = 228.5875 ms
check "fitted: TP time is 160 fitted AllReduces (228.59 ms at tp 8, batch 1)" jqs \
  '[.[] | select(.tp == 8 and .pp == 1 and .batch == 1)][0].tp_comm_ms | . > 228.587 and . < 228.588' "$TMP/fit.jsonl"
check "catalog: the same layout's TP time is far below" jqs \
  '[.[] | select(.tp == 8 and .pp == 1 and .batch == 1)][0].tp_comm_ms < 5' "$TMP/cat.jsonl"

"$M" demand --system gb200-nvl576 --json >"$TMP/demand.json"
check "demand: NVL576 needs 9 x 1.6T per GPU on its one optical tier" jqs \
  '.[0].modules_per_chip == 9 and .[0].optical_tiers == 1 and .[0].literal_modules_per_chip == 18 and .[0].chips == 576' "$TMP/demand.json"
"$M" demand --system gb200-nvl72 --json >"$TMP/demand72.json"
check "demand: NVL72 (copper only) needs no modules" jqs '.[0].modules_per_chip == 0' "$TMP/demand72.json"
"$M" demand --system gb200-nvl576 --capex 1e9 --chip-share 0.5 --usd-per-chip 50000 --json >"$TMP/capex.json"
check "demand: CapEx x share / price = 10000 chips, 90000 modules" jqs \
  '.[0].chips == 10000 and .[0].modules_total == 90000' "$TMP/capex.json"

mkdir -p "$TMP/bad1" "$TMP/bad2" "$TMP/bad3" "$TMP/bad4"
cp "$LLMS/serving.json" "$TMP/bad1/"; cp "$TMP/bad1/serving.json" "$TMP/bad2/"; cp "$TMP/bad1/serving.json" "$TMP/bad3/"
jq '.llms["llama-3.1-70b"].layers = 80' "$LLMS/llama-3.1-70b.json" >"$TMP/bad1/m.json"
jq 'del(.llms["llama-3.1-70b"].hidden)' "$LLMS/llama-3.1-70b.json" >"$TMP/bad2/m.json"
jq '.llms["llama-3.1-70b"].heads.value = -4' "$LLMS/llama-3.1-70b.json" >"$TMP/bad3/m.json"
printf '{"llms": {\n "x": {,}\n}}\n' >"$TMP/bad4/m.json"
refuse "bad1/m.json: llms.llama-3.1-70b.layers: missing or not" infer --llms "$TMP/bad1" --model llama-3.1-70b
refuse "bad2/m.json: llms.llama-3.1-70b.hidden: missing" infer --llms "$TMP/bad2" --model llama-3.1-70b
refuse "bad3/m.json: llms.llama-3.1-70b.heads: -4 is out of range" infer --llms "$TMP/bad3" --model llama-3.1-70b
refuse "bad4/m.json:2: invalid JSON" infer --llms "$TMP/bad4"
mkdir -p "$TMP/bad5"; cp "$LLMS/llama-3.1-70b.json" "$TMP/bad5/"
refuse "serving.decode-hbm-efficiency: missing" infer --llms "$TMP/bad5" --model llama-3.1-70b
refuse "unknown model 'nope'" infer --model nope
refuse "unknown system 'nope'" infer --systems gb200-nvl72,nope --csv
refuse "lacks 'dense_tflops_fp4'" infer --systems dgx-h200 --precision fp4
refuse "invalid --precision 'fp2'" infer --precision fp2
refuse "invalid --context '0'" infer --context 0
refuse "at most one of --json and --csv" infer --json --csv
refuse "models.jsonl:2: invalid JSON" infer --params "$TMP/models.jsonl"
refuse "not a parameters file" infer --params "$TMP/demand.json"
refuse "cannot open LLM directory" infer --llms "$TMP/none"
refuse "--system NAME is required" demand
refuse "invalid --chip-share (0 to 1) '2'" demand --system gb200-nvl576 --capex 1e9 --chip-share 2 --usd-per-chip 1
refuse "go together" demand --system gb200-nvl576 --capex 1e9
refuse "gpt-moe-1.8t does not fit in the memory of dgx-h100 (80 GB per GPU)" infer --systems dgx-h100 --model gpt-moe-1.8t --within-domain --json
"$M" infer --systems dgx-h100,gb200-nvl72 --model gpt-moe-1.8t --within-domain >"$TMP/fitsnot.txt" 2>/dev/null; rc=$?
check "a system the model does not fit: exit 2 (got $rc), no table for it, the others' still printed" \
  sh -c "[ $rc -eq 2 ] && ! grep -q 'on dgx-h100' '$TMP/fitsnot.txt' && grep -q 'on gb200-nvl72' '$TMP/fitsnot.txt'"
check "infer --help exits 0" sh -c "'$M' infer --help | grep -q -- --claims"
done_testing
