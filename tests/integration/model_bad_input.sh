#!/bin/sh
# Bad input to sb_model: exit 2 and one line on stderr that names what is wrong.
. "$(dirname "$0")/lib.sh"
M="$top_builddir/models/sb_model"

# refuse NEEDLE ARGS...: exit 2, exactly one stderr line containing NEEDLE, nothing on stdout.
refuse() {
  needle=$1; shift
  "$M" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
  lines=$(wc -l <"$TMP/err")
  if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$needle" "$TMP/err" && [ ! -s "$TMP/out" ]; then
    ok "refused: $* -> $(cat "$TMP/err")"
  else
    not_ok "refused: $* (rc=$rc, $lines stderr lines: $(head -c 300 "$TMP/err"))"
  fi
}

mkdir -p "$TMP/cat-syntax" "$TMP/cat-bare" "$TMP/cat-empty"
printf '{"gpus": {\n  "x": {,}\n}}\n' >"$TMP/cat-syntax/a.json"
printf '{"gpus": {"x": {"links": 18}}}\n' >"$TMP/cat-bare/a.json"
printf '{"type":"run"}\n{"type":"result","collective":"allreduce","ranks":2,"bytes":8,"time_us":{"median":1}}\n{"type":"result",\n' >"$TMP/bad.jsonl"
printf '{"type":"result","collective":"allreduce","ranks":2,"bytes":8,"time_us":{}}\n' >"$TMP/nomedian.jsonl"
printf '{"schema":"nope"}\n' >"$TMP/params.json"

refuse "unknown subcommand 'bogus'" bogus
refuse "unknown system 'nope'" predict --system nope --collective allreduce --ranks 8 --bytes 1M
refuse "invalid --bytes '1X'" predict --system dgx-h100 --collective allreduce --ranks 8 --bytes 1X
refuse "invalid --collective 'bcast'" predict --system dgx-h100 --collective bcast --ranks 8 --bytes 1M
refuse "does not apply to alltoall" predict --system dgx-h100 --collective alltoall --algorithm ring --ranks 8 --bytes 1M
refuse "exceed dgx-h100's domain of 8" predict --system dgx-h100 --collective allreduce --ranks 16 --nodes 1 --bytes 1M
refuse "65544 ranks need 65544 scale-out ports: more than a 3-tier fat tree of qm9700" predict --system dgx-h100 --collective allreduce --ranks 65544 --bytes 1M
refuse "more than a 3-tier fat tree of qm9700" predict --system dgx-h200 --collective alltoall --ranks 1000000000 --bytes 1M
refuse "invalid --chips (a whole number >= 1) '2.5'" demand --system dgx-h100 --chips 2.5
refuse "= 0.00167: buys no chip" demand --system gb200-nvl576 --capex 100 --chip-share 0.5 --usd-per-chip 30000
refuse "exactly one of --bytes" predict --system dgx-h100 --collective allreduce --ranks 8
refuse "invalid -f '2abc'" predict --system dgx-h100 --collective allreduce --ranks 8 --sweep -f 2abc
refuse "invalid -f 'inf'" predict --system dgx-h100 --collective allreduce --ranks 8 --sweep -f inf
refuse "invalid -f 'nan'" predict --system dgx-h100 --collective allreduce --ranks 8 --sweep -f nan
refuse "-b must be at least 1 byte" predict --system dgx-h100 --collective allreduce --ranks 8 --sweep -b 0 -e 1K
refuse "cat-syntax/a.json:2: invalid JSON" systems --catalog "$TMP/cat-syntax"
refuse "gpus.x.links: number without a source" systems --catalog "$TMP/cat-bare"
refuse "has no \*.json file" systems --catalog "$TMP/cat-empty"
refuse "cannot open catalog directory" rules --catalog "$TMP/none"
# badcat NAME FILE FILTER: a copy of the catalog with jq FILTER applied to FILE.
badcat() {
  mkdir -p "$TMP/cat-$1" && cp "$top_srcdir"/models/systems/*.json "$TMP/cat-$1/" &&
    jq "$3" "$top_srcdir/models/systems/$2" >"$TMP/cat-$1/$2"
}
badcat negbw components.json '.gpus["h100-sxm"].link_gbytes_s.value = -25'
badcat eff components.json '.efficiencies["nccl-nvlink4-planned"].value = 8.24'
badcat tray components.json '.switches["nvswitch-gen3"].chips_per_tray.value = 0'
badcat lat components.json '.latencies["nccl-launch"].value = -6.6'
badcat nics hopper.json '.systems["dgx-h100"].scale_out.nics_per_gpu.value = 0'
badcat typo hopper.json '.systems["gh200-nvl256"].scale_up |= (.l2_swtich = .l2_switch | del(.l2_switch))'
refuse "gpu 'h100-sxm'.link_gbytes_s is -25: must be > 0" systems --catalog "$TMP/cat-negbw"
refuse "efficiencies 'nccl-nvlink4-planned' is 8.24: must be in (0, 1]" systems --catalog "$TMP/cat-eff"
refuse "switch 'nvswitch-gen3'.chips_per_tray is 0: must be a whole number >= 1" size --system dgx-h100 --catalog "$TMP/cat-tray"
refuse "latencies 'nccl-launch' is -6.6: must be >= 0" predict --system dgx-h100 --collective allreduce --ranks 8 --bytes 1M --catalog "$TMP/cat-lat"
refuse "nics_per_gpu is 0: must be a whole number >= 1" systems --catalog "$TMP/cat-nics"
refuse "systems.gh200-nvl256.scale_up: unknown field 'l2_swtich'" rules --catalog "$TMP/cat-typo"
refuse "bad.jsonl:3: invalid JSON" fit "$TMP/bad.jsonl"
refuse "nomedian.jsonl:1: result record lacks a valid 'time_us.median'" fit "$TMP/nomedian.jsonl"
refuse "cannot read results file" fit "$TMP/missing.jsonl"
refuse "bad.jsonl:3: invalid JSON" validate "$TMP/bad.jsonl" --system dgx-h100
refuse "exactly one of --params, --system and --fit-on" validate "$TMP/nomedian.jsonl"
refuse "cannot read parameters file '$TMP/none.json'" predict --params "$TMP/none.json" --collective allreduce --ranks 2 --bytes 1M
refuse "not a parameters file" predict --params "$TMP/params.json" --collective allreduce --ranks 2 --bytes 1M
refuse "invalid --tolerance '0'" validate "$TMP/bad.jsonl" --system dgx-h100 --tolerance 0
refuse "unknown rule 'R99'" rules --rule R99
refuse "--system NAME is required" size
refuse "--gpus 1: a single GPU needs no fabric" size --system dgx-h100 --gpus 1
refuse "do not fit a 2-tier fat tree" size --system gb200-nvl72 --gpus 20000 --tiers 2
refuse "invalid --gpus '0'" size --system gb200-nvl72 --gpus 0
refuse "1000000 GPUs need more than 3 tiers of qm9700" size --system dgx-h100 --gpus 1000000
refuse "invalid --fit-on '4M:1M'" validate "$TMP/nomedian.jsonl" --fit-on 4M:1M
"$M" fit "$TMP/bad.jsonl" --save "$TMP/p.json" >/dev/null 2>&1
check "a failed fit writes no parameters file" [ ! -e "$TMP/p.json" ]
check "--help exits 0" sh -c "'$M' --help | grep -q predict"
check "predict --help exits 0" sh -c "'$M' predict --help | grep -q -- --sweep"
if [ -w /dev/full ]; then
  "$M" systems --json >/dev/full 2>"$TMP/full"; rc=$?
  check "output to a full disk: exit 2 (got $rc), said on stderr" \
    sh -c "[ $rc -eq 2 ] && grep -q 'cannot write the standard output' '$TMP/full'"
fi
done_testing
