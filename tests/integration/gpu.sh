#!/bin/sh
# The NCCL backend: on a machine without a GPU it must refuse clearly (exit 2, one line); on a
# machine with GPUs it must run every collective exactly, checked on the GPU where nvcc built the
# kernels (record `check`), and a corrupted result must be caught. Never passes for lack of a
# GPU: the GPU runs are reported as SKIP then. (MPI on device and pinned memory: mpi_device.sh.)
. "$(dirname "$0")/lib.sh"
AR="$BENCH/sb_allreduce"

"$AR" --backend nccl --memory host >/dev/null 2>"$TMP/e1"; rc=$?
check "--backend nccl --memory host: exit 2 (got $rc), one line" sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/e1') -eq 1 ] && grep -q 'use --memory device' '$TMP/e1'"
"$AR" --backend gloo >/dev/null 2>"$TMP/e3"; rc=$?
check "--backend gloo: exit 2 (got $rc) naming the accepted ones" sh -c "[ $rc -eq 2 ] && grep -q 'accepted: mpi, nccl' '$TMP/e3'"
"$AR" --backend nccl --device x >/dev/null 2>"$TMP/e4"; rc=$?
check "--device x: exit 2 (got $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'invalid --device' '$TMP/e4'"

# The one-command GPU baseline refuses a machine without a GPU with one line (on a GPU machine it
# is the measurement itself, run by hand: see README).
if ! nvidia-smi -L >/dev/null 2>&1; then
  "$top_srcdir/scripts/sb-gpu-baseline" --out "$TMP/baseline" --builddir "$top_builddir" >/dev/null 2>"$TMP/e6"; rc=$?
  check "sb-gpu-baseline without a GPU: exit 2 (got $rc), one line saying so" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/e6') -eq 1 ] && grep -q 'GPU' '$TMP/e6'"
  # installed (make install): the benchmarks beside the script, no build tree above it
  mkdir -p "$TMP/inst/bin"
  cp "$top_srcdir/scripts/sb-gpu-baseline" "$TMP/inst/bin/"
  for p in sb_allreduce sb_alltoall sb_local sb_topo; do ln -s "$BENCH/$p" "$TMP/inst/bin/$p"; done
  "$TMP/inst/bin/sb-gpu-baseline" --out "$TMP/baseline-inst" >/dev/null 2>"$TMP/e8"; rc=$?
  check "installed sb-gpu-baseline finds the programs beside it: without a GPU exit 2 (got $rc), the GPU line" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/e8') -eq 1 ] && grep -q 'GPU' '$TMP/e8' && ! grep -q 'no built benchmarks' '$TMP/e8'"
fi
"$top_srcdir/scripts/sb-gpu-baseline" --max-ranks x --out "$TMP/b" >/dev/null 2>"$TMP/e7"; rc=$?
check "sb-gpu-baseline --max-ranks x: exit 2 (got $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'max-ranks' '$TMP/e7'"

if ! grep -q '^#define SB_HAVE_NCCL 1' "$top_builddir/config.h"; then
  "$AR" --backend nccl >/dev/null 2>"$TMP/e5"; rc=$?
  check "a build without NCCL: --backend nccl exits 2 saying so" sh -c "[ $rc -eq 2 ] && grep -q 'no NCCL' '$TMP/e5'"
  skip "GPU runs: this build has no NCCL"
  skip "device check (check == device) and a corrupted result caught: this build has no NCCL"
  done_testing
fi

mpi 2 "$AR" --backend nccl --sizes 8,1M -n 5 --json "$TMP/g.jsonl" >"$TMP/g.out" 2>"$TMP/g.err"; rc=$?
if grep -q 'needs a GPU: no CUDA device visible' "$TMP/g.err"; then
  check "no GPU here: --backend nccl exits 2 (got $rc) with one line saying so (from rank 0 only)" \
    sh -c "[ $rc -eq 2 ] && [ \$(grep -c 'needs a GPU' '$TMP/g.err') -eq 1 ]"
  skip "GPU runs of the NCCL backend: no CUDA device on this machine"
  skip "device check (check == device) and a corrupted result caught: no CUDA device on this machine"
  done_testing
fi

# A GPU machine: one rank per GPU (at least one), every collective, exact.  Checked on the GPU
# (no copy to the host) where nvcc built the kernels, else on the host.  SB_TEST_GPU_SIZES replaces
# the sweep's sizes (fakegpu.sh: the CPU test doubles would take minutes at 64M).
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
[ "$gpus" -ge 1 ] || gpus=1
where=host
grep -q '^#define SB_HAVE_NVCC 1' "$top_builddir/config.h" && where=device
for b in allreduce alltoall allgather reduce_scatter broadcast sendrecv; do
  ops=""; [ "$b" = allreduce ] || [ "$b" = reduce_scatter ] && ops="-o all"
  # shellcheck disable=SC2086
  mpi "$gpus" "$BENCH/sb_$b" --backend nccl --sizes "${SB_TEST_GPU_SIZES:-8,4K,1M,64M}" -n 5 -d all $ops --json "$TMP/$b.jsonl" \
    >"$TMP/$b.out" 2>&1
  rc=$?
  check "nccl sb_$b on $gpus GPU(s): exit 0 (got $rc)" [ "$rc" -eq 0 ]
  check "nccl sb_$b: wrong == 0 everywhere, backend nccl, memory device, check $where" \
    jq_all "$TMP/$b.jsonl" ".wrong == 0 and .backend == \"nccl\" and .memory == \"device\" and .check == \"$where\""
done
for b in allreduce reduce_scatter; do
  check "nccl sb_$b -o all: ncclAvg measured for every dtype, exact" \
    sh -c "[ \"\$(jq -s '[.[] | select(.type == \"result\" and .op == \"avg\" and .wrong == 0) | .dtype] | unique | length' '$TMP/$b.jsonl')\" -eq 10 ]"
done
# Both timings by default on device memory: CUDA events per call, and pipelined batches of 20.
check "nccl: per-call (CUDA events) and batch timings in every record" \
  jq_all "$TMP/allreduce.jsonl" '.batch_calls == 20 and (.time_us_batch.median > 0) and (.timing | test("CUDA events"))
    and (.timing_batch | test("back to back")) and .busbw_gbps_batch > 0'
mpi "$gpus" "$AR" --backend nccl --sizes 8,1M -n 5 --graph 10 --json "$TMP/graph.jsonl" >"$TMP/graph.out" 2>&1
rc=$?
check "nccl --graph 10: exit 0, the batch is a CUDA graph of 10 calls, exact (got $rc)" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length > 0 and all(.batch_graph and .batch_calls == 10 and .wrong == 0 and (.timing_batch | test(\"CUDA graph\")))' '$TMP/graph.jsonl' >/dev/null"

# A corrupted result is caught: an NCCL wrapper sets the first byte of rank 0's AllReduce result
# after every call (tests/integration/nccl_fault.c), so every point has exactly one wrong element.
lib="$top_builddir/tests/integration/libsbncclfault.so"
mpi "$gpus" -x LD_PRELOAD="$lib" -x SB_FAULT=corrupt -x SB_FAULT_RANK=0 "$AR" --backend nccl --sizes 4K,1M \
  --inplace 2 -n 3 -d int32,float --json "$TMP/c.jsonl" >"$TMP/c.out" 2>&1
rc=$?
check "nccl sb_allreduce with one corrupted byte on rank 0: exit 1 (got $rc)" [ "$rc" -eq 1 ]
check "nccl sb_allreduce corrupted: every point (in and out of place) has wrong == 1, check $where" \
  jq_all "$TMP/c.jsonl" ".wrong == 1 and .check == \"$where\""
check "nccl sb_allreduce corrupted: both places measured" \
  jqs '[.[] | select(.type == "result") | .in_place] | unique == [false, true]' "$TMP/c.jsonl"
# sb_pairs and --background on NCCL (ncclCommSplit per round or half): 2 and 4 GPUs at least.
if [ "$gpus" -ge 2 ]; then
  mpi "$gpus" "$BENCH/sb_pairs" --backend nccl --sizes 8,1M -n 5 --json "$TMP/pairs.jsonl" >"$TMP/pairs.out" 2>&1
  rc=$?
  check "nccl sb_pairs on $gpus GPUs: exit 0, every pair once, exact (got $rc)" \
    sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == $((gpus * (gpus - 1))) and all(.wrong == 0 and .backend == \"nccl\" and .bidir_gbps > 0)' '$TMP/pairs.jsonl' >/dev/null"
else
  skip "nccl sb_pairs: needs 2 GPUs (NCCL refuses two ranks on one GPU), this node has $gpus"
fi
if [ "$gpus" -ge 4 ]; then
  mpi "$gpus" "$AR" --backend nccl --sizes 8,1M -n 5 --inplace 0 --background alltoall --json "$TMP/bg.jsonl" >"$TMP/bg.out" 2>&1
  rc=$?
  check "nccl --background alltoall on $gpus GPUs: exit 0, impact recorded, exact (got $rc)" \
    sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 2 and all(.wrong == 0 and .congestion.impact > 0)' '$TMP/bg.jsonl' >/dev/null"
else
  skip "nccl --background: needs 4 GPUs, this node has $gpus"
fi
done_testing
