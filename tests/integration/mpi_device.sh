#!/bin/sh
# The MPI backend on device and pinned memory (--backend mpi --memory device|pinned).  Without
# CUDA in the build, or without a GPU, each must refuse with exit 2 and one line; on a GPU it
# must run AllReduce and AllToAll exactly, staged and (where MPI is CUDA-aware) direct, on 1 and
# 2 ranks sharing one GPU.  Never passes for lack of a GPU: the GPU runs are SKIP then.
. "$(dirname "$0")/lib.sh"
AR="$BENCH/sb_allreduce"

# refuses CODE FILE PATTERN: the exit code was 2 and FILE (stderr) is one line matching PATTERN.
refuses() { [ "$1" -eq 2 ] && [ "$(wc -l <"$2")" -eq 1 ] && grep -q "$3" "$2"; }

if ! grep -q '^#define SB_HAVE_CUDA 1' "$top_builddir/config.h"; then
  for m in device pinned; do
    "$AR" --memory "$m" >/dev/null 2>"$TMP/nc.$m"; rc=$?
    check "a build without CUDA: --memory $m exits 2 (got $rc), one line saying so" \
      refuses "$rc" "$TMP/nc.$m" 'needs a CUDA build: this build has no CUDA'
  done
  skip "GPU runs of --backend mpi --memory device|pinned: this build has no CUDA"
  done_testing
fi

# Usage errors, refused before any GPU is looked for.
SB_MPI_CUDA_AWARE=yes "$AR" --memory device >/dev/null 2>"$TMP/u1"; rc=$?
check "SB_MPI_CUDA_AWARE=yes: exit 2 (got $rc), one line naming 0 and 1" \
  refuses "$rc" "$TMP/u1" "SB_MPI_CUDA_AWARE='yes': accepted: 1"
"$AR" --memory pinned --mem-node interleave >/dev/null 2>"$TMP/u2"; rc=$?
check "--memory pinned --mem-node interleave: exit 2 (got $rc), one line" \
  refuses "$rc" "$TMP/u2" 'pinned with --mem-node interleave'
"$AR" --backend nccl --memory pinned >/dev/null 2>"$TMP/u3"; rc=$?
check "--backend nccl --memory pinned: exit 2 (got $rc), use --memory device" \
  refuses "$rc" "$TMP/u3" 'use --memory device'

# No GPU here: one line, exit 2, from one rank only.
"$AR" --memory device --sizes 8 -n 1 >/dev/null 2>"$TMP/probe"; rc=$?
if grep -q 'no CUDA device visible' "$TMP/probe"; then
  check "no GPU: --memory device exits 2 (got $rc), one line" \
    refuses "$rc" "$TMP/probe" 'mpi --memory device needs a GPU: no CUDA device visible'
  "$AR" --memory pinned >/dev/null 2>"$TMP/p1"; rc=$?
  check "no GPU: --memory pinned exits 2 (got $rc), one line" \
    refuses "$rc" "$TMP/p1" 'memory pinned needs a GPU: no CUDA device visible'
  mpi 2 "$BENCH/sb_alltoall" --memory device >/dev/null 2>"$TMP/p2"; rc=$?
  check "no GPU, 2 ranks: exit 2 (got $rc), the line once (rank 0 only)" \
    sh -c "[ $rc -eq 2 ] && [ \$(grep -c 'needs a GPU' '$TMP/p2') -eq 1 ]"
  skip "GPU runs of --backend mpi --memory device|pinned: no CUDA device on this machine"
  done_testing
fi

# A GPU machine.  run_gpu NP COLL MODE: MODE staged (SB_MPI_CUDA_AWARE=0), auto (the library
# decides), aware (SB_MPI_CUDA_AWARE=1: only where MPI takes device buffers) or pinned; 2 ranks
# share GPU 0 (allowed for MPI).  Every dtype, every op, both places.  SB_TEST_MPI_MODES picks the
# modes (default: staged auto pinned), SB_TEST_GPU_SIZES the sizes.
run_gpu() {
  np=$1 b=$2 mode=$3 f="$TMP/$1.$2.$3"
  ops=""; [ "$b" = allreduce ] && ops="-o all"
  mem=device; [ "$mode" = pinned ] && mem=pinned
  dev=""; [ "$np" -gt 1 ] && dev="--device 0"
  # shellcheck disable=SC2086
  (case $mode in staged) export SB_MPI_CUDA_AWARE=0 ;; aware) export SB_MPI_CUDA_AWARE=1 ;; *) unset SB_MPI_CUDA_AWARE ;; esac
   mpi "$np" "$BENCH/sb_$b" --memory "$mem" $dev --sizes "${SB_TEST_GPU_SIZES:-8,4K,1M}" -n 3 -w 1 -d all $ops --inplace 2 \
     --json "$f.jsonl" >"$f.out" 2>&1)
  rc=$?
  what="mpi sb_$b --memory $mem ($mode), $np rank(s)"
  check "$what: exit 0 (got $rc)" [ "$rc" -eq 0 ]
  check "$what: wrong == 0 everywhere" jq_all "$f.jsonl" '.wrong == 0 and .error == null'
  where=host  # device memory is checked on the GPU where nvcc built the kernels; pinned on the host
  [ "$mem" = device ] && grep -q '^#define SB_HAVE_NVCC 1' "$top_builddir/config.h" && where=device
  check "$what: checked on the $where" jq_all "$f.jsonl" ".check == \"$where\""
  check "$what: every dtype, in place and out of place" \
    jqs '[.[] | select(.type == "result")] | ([.[].dtype] | unique | length) == 10 and ([.[].in_place] | unique) == [false, true]' "$f.jsonl"
  [ "$b" = allreduce ] && check "$what: every op" \
    jqs '[.[] | select(.type == "result") | .op] | unique | length == 4' "$f.jsonl"
  case $mode in
  staged) check "$what: backend mpi-staged, memory device, staging copies in the timing" \
            jq_all "$f.jsonl" '.backend == "mpi-staged" and .memory == "device" and (.timing | test("staging copies are included"))' ;;
  aware) check "$what: backend mpi-cuda (device buffers to MPI), memory device" \
           jq_all "$f.jsonl" '.backend == "mpi-cuda" and .memory == "device" and (.timing | test("CUDA-aware"))' ;;
  auto) be=$(jq -r 'select(.type == "result") | .backend' "$f.jsonl" | head -1)
        check "$what: backend mpi-cuda or mpi-staged (got $be), memory device" \
          jq_all "$f.jsonl" '(.backend == "mpi-cuda" or .backend == "mpi-staged") and .memory == "device"' ;;
  pinned) check "$what: backend mpi, memory pinned" jq_all "$f.jsonl" '.backend == "mpi" and .memory == "pinned"' ;;
  esac
}
for np in 1 2; do
  for b in allreduce alltoall; do
    for mode in ${SB_TEST_MPI_MODES:-staged auto pinned}; do
      run_gpu "$np" "$b" "$mode"
    done
  done
done
done_testing
