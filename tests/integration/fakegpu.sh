#!/bin/sh
# fakegpu: the benchmarks' GPU code paths, run here against CPU test doubles of libcudart.so.13,
# libnccl.so.2, NVML and nvidia-smi (tests/fakegpu: every value they report is invented, and no
# time measured here says anything about a GPU).  The real binaries load the doubles through
# LD_LIBRARY_PATH; device memory is unreadable by the host (a host dereference is a SIGSEGV),
# stream work is queued until something waits for it, and copies, kernels, events, stream capture
# and NCCL calls follow CUDA's and NCCL's rules; a kernel runs a host reimplementation of
# common/kernels.cu and local_kernels.cu.  Checked: the doubles themselves (fakegpu_probe), the
# error paths they provoke (injected CUDA and NCCL failures, one rank failing alone, no GPU, one
# GPU for two ranks), the run header, and the existing GPU tests, unchanged, with their GPU parts
# active: gpu.sh (NCCL), mpi_device.sh (MPI on device memory: staged with the protection on;
# SB_MPI_CUDA_AWARE=1 with it off, since the MPI library then reads device buffers itself), or in a
# build without MPI nompi.sh (-g N), and local_bw.sh (sb_local's device tests); their results are
# re-emitted as "fakegpu: NAME: ...", and the doubles must have said nothing during them (no misuse,
# no race between streams, no leak at exit).  What the doubles cannot show: the CUDA code of the
# kernels, work running concurrently with the host (queued work runs when it is waited for), and
# any speed (no assertion of these tests is about speed).
. "$(dirname "$0")/lib.sh"
LIBS="$top_builddir/tests/fakegpu/lib"
PROBE="$top_builddir/tests/fakegpu/fakegpu_probe"
AR="$BENCH/sb_allreduce"
if [ ! -f "$LIBS/libcudart.so.13" ] || [ ! -f "$LIBS/libnccl.so.2" ] || [ ! -x "$PROBE" ]; then
  skip "the CPU test doubles are not built (they are built with CUDA and NCCL: make check)"
  done_testing
fi
export LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PATH="$top_srcdir/tests/fakegpu:$PATH"
export SB_NVML_LIBRARY="$top_builddir/tests/unit/libsbfakenvml.so"
export FAKEGPU_DEVICES=4
unset FAKEGPU_PROTECT FAKEGPU_NCCL_FAIL FAKEGPU_CUDA_FAIL FAKEGPU_FAIL_RANK FAKEGPU_MEMORY_MB FAKEGPU_LOG SB_MPI_CUDA_AWARE
# 4 ranks on 2 cores: waiting ranks yield the core (busy-polling ones make every call ~10 ms).
export OMPI_MCA_mpi_yield_when_idle=1
# The GPU tests' sweeps, smaller: the doubles' host loops would take minutes at 64M.
export SB_TEST_GPU_SIZES=8,4K,64K

# ---- the doubles are what the benchmarks load
check "sb_allreduce loads the doubles (ldd: libcudart.so.13 and libnccl.so.2 from tests/fakegpu/lib)" \
  sh -c "ldd '$AR' | grep -q 'libcudart.so.13 => $LIBS/libcudart.so.13' && ldd '$AR' | grep -q 'libnccl.so.2 => $LIBS/libnccl.so.2'"
check "nvidia-smi -L is the double's: $FAKEGPU_DEVICES GPUs" sh -c "[ \$(nvidia-smi -L | grep -c '^GPU [0-9]*: FAKEGPU') -eq $FAKEGPU_DEVICES ]"

# ---- the doubles themselves: protection, and CUDA's and NCCL's rules
sh -c '"$1" touch' sh "$PROBE" >"$TMP/touch.out" 2>"$TMP/touch.err"; rc=$?
check "a host write to device memory dies of SIGSEGV (exit $rc) with the double's line saying so" \
  sh -c "[ $rc -eq 139 ] && grep -q 'fakegpu: SIGSEGV: host code touched device memory' '$TMP/touch.err'"
FAKEGPU_PROTECT=0 "$PROBE" touch >"$TMP/touch0.out" 2>&1; rc=$?
check "FAKEGPU_PROTECT=0: the host may touch device memory (exit $rc)" [ "$rc" -eq 0 ]
FAKEGPU_DEVICES=2 "$PROBE" rules >"$TMP/rules.out" 2>"$TMP/rules.err"; rc=$?
while IFS= read -r line; do
  case $line in
  "PASS "*) ok "fakegpu: probe: ${line#PASS }" ;;
  "FAIL "*) not_ok "fakegpu: probe: ${line#FAIL }" ;;
  esac
done <"$TMP/rules.out"
check "fakegpu: probe rules: exit 0 (got $rc), every misuse said on stderr" \
  sh -c "[ $rc -eq 0 ] && [ \$(grep -c '^fakegpu' '$TMP/rules.err') -ge 10 ]"

# ---- error paths the doubles provoke.  job N PROGRAM ARGS...: N ranks, under mpirun in an MPI build,
# else one process of N threads (-g N).
if grep -q '^#define SB_HAVE_MPI 1' "$top_builddir/config.h"; then
  with_mpi=1
  job() { n=$1; shift; mpi "$n" "$@"; }
  jobrefused() { needle=$1 n=$2; shift 2; refused "$needle" "$n" "$@"; }
  sharing="--backend nccl: ranks 0 and 1 would drive the same GPU (CUDA device 0 of the 1 this one sees)"
else
  with_mpi=0
  job() { n=$1; shift; timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$@" -g "$n"; }
  jobrefused() { needle=$1 n=$2; shift 2; refused "$needle" 0 "$@" -g "$n"; }
  sharing="--backend nccl: threads 0 and 1 would drive the same GPU (CUDA device 0 of the 1 this one sees): NCCL needs a GPU per rank: use -g 1 or fewer"
fi
export FAKEGPU_NCCL_FAIL=ncclAllReduce
job 2 "$AR" --backend nccl --sizes 8 -n 2 -d float --json "$TMP/fail.jsonl" >"$TMP/fail.out" 2>"$TMP/fail.err"; rc=$?
check "ncclAllReduce failing (FAKEGPU_NCCL_FAIL): exit 1 (got $rc), each point FAILED with one line naming NCCL's error" \
  sh -c "[ $rc -eq 1 ] && [ \$(grep -c '^# error: AllReduce failed on 2 rank(s): NCCL: unhandled system error' '$TMP/fail.out') -eq 2 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 2 and all(.error | test(\"NCCL: unhandled system error\"))' '$TMP/fail.jsonl' >/dev/null"
FAKEGPU_NCCL_FAIL=ncclCommInitRank
jobrefused "ncclCommInitRank failed on some rank: unhandled system error" 2 "$AR" --backend nccl --sizes 8 -n 2
unset FAKEGPU_NCCL_FAIL
FAKEGPU_DEVICES=1 # the same-GPU check: NCCL would refuse two ranks of a communicator on one GPU
jobrefused "$sharing" 2 "$AR" --backend nccl --sizes 8 -n 2
# One GPU per rank through CUDA_VISIBLE_DEVICES (Slurm's --gpus-per-task=1): every rank sees one
# device, its device 0, and they are different GPUs (the UUIDs say so): it runs.  Two ranks given
# the same GPU that way are refused although neither sees more than one device.
if [ "$with_mpi" = 1 ]; then
  FAKEGPU_DEVICES=2
  timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$MPIRUN" --oversubscribe -np 1 -x CUDA_VISIBLE_DEVICES=0 "$AR" --backend nccl \
    --sizes 8,64K -n 2 --json "$TMP/cvd.jsonl" : -np 1 -x CUDA_VISIBLE_DEVICES=1 "$AR" --backend nccl --sizes 8,64K -n 2 \
    >"$TMP/cvd.out" 2>&1; rc=$?
  check "CUDA_VISIBLE_DEVICES=0 and =1 on two ranks: exit 0 (got $rc), exact, two ranks of nccl" \
    sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 4 and all(.wrong == 0 and .ranks == 2 and .backend == \"nccl\")' '$TMP/cvd.jsonl' >/dev/null"
  export CUDA_VISIBLE_DEVICES=1
  refused "ranks 0 and 1 would drive the same GPU" 2 "$AR" --backend nccl --sizes 8 -n 2
  unset CUDA_VISIBLE_DEVICES
  FAKEGPU_DEVICES=1
fi
FAKEGPU_DEVICES=0 # cudaGetDeviceCount: cudaErrorNoDevice, as on a machine without a GPU
jobrefused "--backend nccl needs a GPU: no CUDA device visible here (no CUDA-capable device is detected)" \
  2 "$AR" --backend nccl --sizes 8 -n 2
[ "$with_mpi" = 1 ] && refused "needs a GPU: no CUDA device visible" 0 "$AR" --memory pinned --sizes 8 -n 2
FAKEGPU_DEVICES=4

# ncclAvg on 3 ranks (1/3 is inexact in every floating dtype: the data must average exactly
# through NCCL's pre-multiplication all the same), AllReduce and ReduceScatter, every dtype.
for b in allreduce reduce_scatter; do
  job 3 "$BENCH/sb_$b" --backend nccl -o avg -d all --sizes 4K,64K -n 2 --json "$TMP/avg3-$b.jsonl" \
    >"$TMP/avg3-$b.out" 2>&1; rc=$?
  check "ncclAvg on 3 ranks, sb_$b, every dtype: exit 0 (got $rc), exact" \
    sh -c "[ $rc -eq 0 ] && jq -s -e '[.[] | select(.type == \"result\")] | length >= 20 and all(.wrong == 0 and .op == \"avg\")' '$TMP/avg3-$b.jsonl' >/dev/null"
done

# An NCCL older than the headers (lib-old: no ncclAlltoAll, no ncclCommSplit, version 2.17): the
# binaries still start (weak references), AllToAll runs as grouped ncclSend/ncclRecv, exactly,
# and what needs ncclCommSplit fails clearly.
OLDLIBS="$top_builddir/tests/fakegpu/lib-old"
LD_LIBRARY_PATH="$OLDLIBS:$LD_LIBRARY_PATH" job 2 "$BENCH/sb_alltoall" --backend nccl --sizes 8,4K,64K -n 2 -d int32,half \
  --json "$TMP/old.jsonl" >"$TMP/old.out" 2>&1; rc=$?
check "an NCCL without ncclAlltoAll: sb_alltoall starts, exit 0 (got $rc), exact, on NCCL 2.17" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '([.[] | select(.type == \"result\")] | length == 6 and all(.wrong == 0)) and ([.[] | select(.type == \"run\")][0].gpus.nccl_version | test(\"^2[.]17\"))' '$TMP/old.jsonl' >/dev/null"
if [ "$with_mpi" = 1 ]; then
  LD_LIBRARY_PATH="$OLDLIBS:$LD_LIBRARY_PATH"
  refused "--backend nccl with NCCL 2.18 or later (ncclCommSplit)" 2 "$BENCH/sb_pairs" --backend nccl --sizes 8 -n 2
  LD_LIBRARY_PATH="$LIBS${LD_LIBRARY_PATH#"$OLDLIBS:$LIBS"}"
fi

# A runtime call that fails and is handled (the DRAM peak's attribute; the header's device
# properties) leaves cudaGetLastError set: the kernels' launch checks must not take it for theirs.
FAKEGPU_CUDA_FAIL=cudaDeviceGetAttribute:0:1 "$BENCH/sb_local" --test dreduce -b 4K -e 4K -n 2 -d float \
  --json "$TMP/attr.jsonl" >"$TMP/attr.out" 2>&1; rc=$?
if grep -q '^#define SB_HAVE_NVCC 1' "$top_builddir/config.h"; then
  check "dreduce with the DRAM peak's cudaDeviceGetAttribute failing: exit 0 (got $rc), peak unknown, reduction verified" \
    sh -c "[ $rc -eq 0 ] && jq -s -e '.[0].gpu.dram_peak_gbps == 0 and ([.[] | select(.type == \"result\")] | length == 1 and all(.wrong == 0 and .error == null))' '$TMP/attr.jsonl' >/dev/null"
else
  skip "dreduce with a failed cudaDeviceGetAttribute: built without nvcc (no device kernels)"
fi
export FAKEGPU_CUDA_FAIL=cudaGetDeviceProperties
job 2 "$AR" --backend nccl --sizes 8,4K -n 2 -d float --json "$TMP/prop.jsonl" >"$TMP/prop.out" 2>&1; rc=$?
unset FAKEGPU_CUDA_FAIL
check "cudaGetDeviceProperties failing for the header: exit 0 (got $rc), the header says so, every point exact" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '(.[0].gpus.cuda.devices[0].error == \"unknown error\") and ([.[] | select(.type == \"result\")] | length == 4 and all(.wrong == 0 and .error == null))' '$TMP/prop.jsonl' >/dev/null"

# A check that cannot run (the copy of the count, or of the result, failing) fails the point with
# the reason; it is not a count of wrong elements.
# With the kernels the first cudaMemcpyAsync is the count's; without, the result's download comes after
# two input uploads (per-call and batch timing) and the poison's.  Twice: -g 2 ranks share a process.
n=0; grep -q '^#define SB_HAVE_NVCC 1' "$top_builddir/config.h" || n=3
export FAKEGPU_CUDA_FAIL=cudaMemcpyAsync:$n:2
job 2 "$AR" --backend nccl --sizes 8 -n 1 -w 0 -d float --inplace 0 --json "$TMP/chk.jsonl" >"$TMP/chk.out" 2>&1; rc=$?
unset FAKEGPU_CUDA_FAIL
check "the check's copy failing: exit 1 (got $rc), the point failed saying why, wrong null (not a count)" \
  sh -c "[ $rc -eq 1 ] && jq -s -e '[.[] | select(.type == \"result\")] | length == 1 and all(.wrong == null and (.error | test(\"the check failed on [12] rank.s. .reading the result.: CUDA: unknown error\")))' '$TMP/chk.jsonl' >/dev/null"

# One rank failing alone (FAKEGPU_FAIL_RANK, MPI builds): it must still make every collective call
# the others make, or they wait for it forever; the point fails, the job ends.
if [ "$with_mpi" = 1 ]; then
  export FAKEGPU_FAIL_RANK=1
  for f in "cudaEventRecord:0:1 nccl" "cudaGraphLaunch:0:1 nccl --graph 3" "cudaStreamBeginCapture:0:1 nccl --graph 3" \
           "cudaMemsetAsync:0:1 nccl" "cudaMemcpy:0:1 mpi --memory device"; do
    set -- $f
    export FAKEGPU_CUDA_FAIL=$1
    fn=$1; shift
    SB_TEST_TIMEOUT=40 mpi 2 "$AR" --backend "$@" --sizes 8 -n 2 -d float --json "$TMP/one.jsonl" >"$TMP/one.out" 2>&1; rc=$?
    check "$fn failing on rank 1 alone (--backend $*): exit 1, no hang (got $rc), a point failed" \
      sh -c "[ $rc -eq 1 ] && jq -s -e '[.[] | select(.type == \"result\")] | any(.error != null)' '$TMP/one.jsonl' >/dev/null"
  done
  unset FAKEGPU_FAIL_RANK FAKEGPU_CUDA_FAIL
fi

# ---- the run header sees the fake GPUs (CUDA runtime, NVML by bus id, NCCL)
job 4 "$AR" --backend nccl --sizes 8 -n 2 -d int32 --json "$TMP/h.jsonl" >"$TMP/h.out" 2>&1; rc=$?
check "4 ranks on 4 fake GPUs: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "run header gpus: 4 CUDA devices named FAKEGPU with distinct bus ids, NCCL's version, NVML's GPU 0 is CUDA device 0" \
  jqs '.[0].gpus | (.cuda.devices | length == 4 and all(.name == "FAKEGPU (CPU test double)") and
    ([.[].pci_bus_id] | unique | length == 4)) and (.nccl_version | test("^2\\.")) and .nvml.gpus[0].cuda_index == 0' \
  "$TMP/h.jsonl"

# ---- the existing GPU tests, unchanged, on the doubles: sub NAME [VAR=VALUE...] runs
# tests/integration/NAME and says each of its results as ours; it must run to its plan, and the
# doubles must have had nothing to say (no misuse, no race between streams: FAKEGPU_LOG).
sub() {
  name=$1; shift
  label=$name${1:+ ($*)}
  : >"$TMP/said.log"
  env FAKEGPU_LOG="$TMP/said.log" "$@" sh "$top_srcdir/tests/integration/$name" >"$TMP/sub.tap" 2>"$TMP/sub.err"
  rc=$?
  n=0 plan=
  while IFS= read -r line; do
    case $line in
    "ok "*"# SKIP"*) n=$((n + 1)); skip "fakegpu: $label: ${line#*# SKIP }" ;;
    "ok "*) n=$((n + 1)); ok "fakegpu: $label: ${line#ok * - }" ;;
    "not ok "*) n=$((n + 1)); not_ok "fakegpu: $label: ${line#not ok * - }" ;;
    1..*) plan=${line#1..} ;;
    *) echo "# $label: $line" ;;
    esac
  done <"$TMP/sub.tap"
  if [ "$rc" -eq 0 ] && [ "$plan" = "$n" ]; then
    ok "fakegpu: $label ran to its end (exit 0, $n results)"
  else
    not_ok "fakegpu: $label ran to its end (exit $rc, $n results, plan ${plan:-none}; stderr: $(head -c 300 "$TMP/sub.err" | tr '\n' ' '))"
  fi
  said=$(wc -l <"$TMP/said.log")
  check "fakegpu: $label: the doubles said nothing (no misuse, no race; $said lines: $(head -c 300 "$TMP/said.log" | tr '\n' ' '))" \
    [ "$said" -eq 0 ]
}
if [ "$with_mpi" = 1 ]; then
  sub gpu.sh
  sub mpi_device.sh
  sub mpi_device.sh SB_TEST_MPI_MODES=aware FAKEGPU_PROTECT=0
else
  sub nompi.sh
fi
sub local_bw.sh
done_testing
