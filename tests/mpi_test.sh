#!/usr/bin/env bash
# The MPI mode (docs/mpi.md), registered by tests/CMakeLists.txt when MPI is found. Checks that
# `mpirun -np P otgen train` ends with the checkpoint and metrics (time column aside) of the
# plain run, byte for byte, for P = 1, 2, 4 (oversubscribed) on two 2-D runs (one with
# --data-batch) and a Fashion-MNIST run,
# and so do the plain run with --threads 2 and -np 2 with --threads 2;
# that a run resumed with another P is the plain resumed run; that `otgen sw` prints and writes
# the same; that a killed rank ends the job; and that bad combinations exit 2.
#   usage: mpi_test.sh BUILD_DIR
set -euo pipefail
B="$(cd "$1" && pwd)/otgen"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$W"
MPI=(mpirun --oversubscribe --allow-run-as-root)
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# Same checkpoint and metrics (without time_s, column 2) in run directories $1 and $2.
same_run() {
    cmp -s "$1/checkpoint.otg" "$2/checkpoint.otg" || { fail "$3: checkpoints differ"; return; }
    cmp -s <(cut -d, -f1,3- "$1/metrics.csv") <(cut -d, -f1,3- "$2/metrics.csv") ||
        fail "$3: metrics differ"
    cmp -s <(sed 's/"time_s":[^,]*,//' "$1/metrics.jsonl") \
        <(sed 's/"time_s":[^,]*,//' "$2/metrics.jsonl") || fail "$3: metrics.jsonl differ"
    echo "ok: $3"
}

identity() { # name, then the train flags
    local name=$1
    shift
    "$B" train "$@" --threads 1 --out "$name.plain" >/dev/null 2>&1 || fail "$name: plain run"
    for P in 1 2 4; do
        timeout 120 "${MPI[@]}" -np $P "$B" train "$@" --out "$name.$P" >"$name.$P.log" 2>&1 ||
            { fail "$name: mpirun -np $P (log: $(tail -3 "$name.$P.log"))"; continue; }
        same_run "$name.plain" "$name.$P" "$name -np $P"
    done
    # any thread count gives the bits of 1 thread (src/core/gemm.c): plain and hybrid runs
    "$B" train "$@" --threads 2 --out "$name.plain2" >/dev/null 2>&1 || fail "$name: --threads 2"
    same_run "$name.plain" "$name.plain2" "$name --threads 2"
    timeout 120 "${MPI[@]}" -np 2 "$B" train "$@" --threads 2 --out "$name.2t2" >"$name.2t2.log" \
        2>&1 || fail "$name: mpirun -np 2 --threads 2 (log: $(tail -3 "$name.2t2.log"))"
    same_run "$name.plain" "$name.2t2" "$name -np 2 --threads 2"
}

identity moons --data moons --steps 40 --checkpoint-every 20 --val-every 10
# more data points than generated ones per step (SW between clouds of 192 and 448 points)
identity moons-db --data moons --steps 40 --checkpoint-every 20 --val-every 10 --batch 192 \
    --data-batch 448
if [ -d /usr/share/datasets/fashion-mnist ]; then
    # 300 directions: two 256-direction blocks, split inside a block for P = 4
    identity fmnist --data fashion-mnist --steps 4 --checkpoint-every 2 --val-every 2 \
        --val-n 512 --projections 300 --val-projections 256 --hidden 128,256
else
    echo "skip: Fashion-MNIST not installed"
fi

# Resume with another P: 20 steps on 2 ranks, then to 40 on 3, against the same in one process
# (--schedule constant: extending --steps keeps the rates of a horizon-free schedule).
R=(--data moons --schedule constant --checkpoint-every 20 --val-every 10 --threads 1)
"$B" train "${R[@]}" --steps 20 --out res.plain >/dev/null 2>&1
"$B" train --resume res.plain --steps 40 --threads 1 >/dev/null 2>&1
timeout 120 "${MPI[@]}" -np 2 "$B" train "${R[@]}" --steps 20 --out res.mpi >/dev/null 2>&1 &&
    timeout 120 "${MPI[@]}" -np 3 "$B" train --resume res.mpi --steps 40 >/dev/null 2>&1 ||
    fail "resume under mpirun"
same_run res.plain res.mpi "resume -np 2 then -np 3"

# otgen sw: two clouds from the moons generator, 600 directions, value, gradient, per-direction.
"$B" sample --checkpoint moons.plain/checkpoint.otg --n 700 --out a.npy --seed 1 >/dev/null
"$B" sample --checkpoint res.plain/checkpoint.otg --n 500 --out b.npy --seed 2 >/dev/null
"$B" sw a.npy b.npy --projections 600 --grad g.npy --per-direction w.npy --threads 1 >sw.plain
for P in 2 4; do
    timeout 60 "${MPI[@]}" -np $P "$B" sw a.npy b.npy --projections 600 --grad g$P.npy \
        --per-direction w$P.npy >sw.$P 2>sw.$P.log || fail "sw -np $P"
    cmp -s sw.plain sw.$P && cmp -s g.npy g$P.npy && cmp -s w.npy w$P.npy &&
        echo "ok: sw -np $P" || fail "sw -np $P: output differs"
done

# A rank killed mid-run ends the job (non-zero status) instead of hanging it.
start=$(date +%s)
timeout 60 "${MPI[@]}" -np 2 "$B" train --data moons --steps 1000000 --out killed \
    >killed.log 2>&1 &
tpid=$!
victim=""
for _ in $(seq 1 100); do
    sleep 0.1
    mp=$(pgrep -P $tpid mpirun || true)
    [ -n "$mp" ] && victim=$(pgrep -P "$mp" otgen | tail -1 || true)
    [ -n "$victim" ] && [ -s killed/config.json ] && break
done
[ -n "$victim" ] && kill -9 "$victim"
rc=0
wait $tpid || rc=$?
took=$(($(date +%s) - start))
if [ -z "$victim" ] || [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $took -ge 60 ]; then
    fail "killed rank: status $rc after ${took}s (victim '$victim')"
else
    echo "ok: killed rank ends the job (status $rc, ${took}s)"
fi

# Bad combinations: exit 2 with a message.
expect2() { # name, then the command
    local name=$1 rc=0
    shift
    timeout 60 "$@" >bad.log 2>&1 || rc=$?
    if [ $rc -eq 2 ] && grep -q "$name" bad.log; then echo "ok: exit 2 ($name)"; else
        fail "expected exit 2 naming '$name', got $rc: $(head -2 bad.log)"
    fi
}
expect2 "too small for 4 ranks" "${MPI[@]}" -np 4 "$B" train --data moons --batch 64 --out bad1
expect2 "supports mlp only" "${MPI[@]}" -np 2 "$B" train --data moons --model deq --out bad2
expect2 "one process only" "${MPI[@]}" -np 2 "$B" train --data moons --loss energy --out bad3
expect2 "mc under mpirun" "${MPI[@]}" -np 2 "$B" train --data moons --estimator lcv --out bad4
expect2 "quantile-bank 64: one process only" "${MPI[@]}" -np 2 "$B" train --data moons \
    --quantile-bank 64 --out bad5
expect2 "not available under mpirun" "${MPI[@]}" -np 2 "$B" sw a.npy b.npy --max sampled
expect2 "runs in one process" "${MPI[@]}" -np 2 "$B" sample --checkpoint res.plain/checkpoint.otg \
    --out c.npy

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "all MPI checks passed"
