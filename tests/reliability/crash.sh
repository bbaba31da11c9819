#!/usr/bin/env bash
# Crash consistency: runs of train (some with a checkpoint every step), game and particles killed
# with SIGKILL at random times, resumed the way docs/reliability.md tells a user to, and compared
# byte for byte with the uninterrupted run; then a disk-full run on a small tmpfs (skipped with a
# message where mounting is not allowed). usage: crash.sh OTGEN_BINARY [KILLS [SEED]]
set -u
B=${1:?usage: crash.sh OTGEN_BINARY [KILLS [SEED]]}
KILLS=${2:-20}
RANDOM=${3:-20261201}
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d)
MNT=
cleanup() {
    kill $(jobs -p) 2>/dev/null
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
cd "$D" || exit 1
fails=0 done_kills=0 mid=0

now() { date +%s.%N; }
# the kinds of run: NAME|COMMAND (without --out)|how to resume
TRAIN="train --data moons --hidden 32,32 --steps 1500 --val-every 100 --threads 1 --seed 3"
KINDS=(
    "train|$TRAIN --checkpoint-every 200"
    "train1|$TRAIN --steps 400 --checkpoint-every 1"
    "game|game --game bilinear --method simgd,optimistic,anchored --steps 60000 --repeat 2 --noise 0.1 --every 500"
    "particles|particles --problem relu2 --steps 20000 --threads 1"
)

# outputs equal: train through same_run.sh, the others file by file (checkpoints aside)
same() {
    local kind=$1 a=$2 b=$3
    case $kind in
    train*) "$HERE/same_run.sh" "$a" "$b" ;;
    *)
        local f st=0
        for f in $(ls "$a"); do
            case $f in checkpoint.*) continue ;; esac
            cmp -s "$a/$f" "$b/$f" || {
                echo "  $f differs" >&2
                st=1
            }
        done
        return $st
        ;;
    esac
}

# resume as a user would: train --resume DIR (or, without config.json or without the directory,
# killed before the run made it, the command again);
# game and particles: the command with --resume
resume() {
    local kind=$1 cmd=$2 dir=$3
    case $kind in
    train*)
        $B train --resume "$dir" >/dev/null 2>err.txt && return 0
        grep -q "no config.json\|cannot open the run directory" err.txt &&
            $B $cmd --out "$dir" >/dev/null 2>>err.txt
        ;;
    *) $B $cmd --out "$dir" --resume >/dev/null 2>err.txt ;;
    esac
}

declare -A secs
for k in "${KINDS[@]}"; do
    name=${k%%|*} cmd=${k#*|}
    t0=$(now)
    $B $cmd --out "ref_$name" >/dev/null 2>&1 || {
        echo "FAIL reference run $name"
        exit 1
    }
    secs[$name]=$(echo "$(now) - $t0" | bc)
    echo "reference $name: ${secs[$name]} s"
done

for i in $(seq 1 "$KILLS"); do
    k=${KINDS[$((i % ${#KINDS[@]}))]}
    name=${k%%|*} cmd=${k#*|}
    # a kill time uniform in (0, 1.1 x the reference duration): some after the end
    at=$(echo "scale=3; ${secs[$name]} * 1.1 * $((RANDOM % 1000 + 1)) / 1000" | bc)
    dir=k${i}_$name
    $B $cmd --out "$dir" >/dev/null 2>&1 &
    P=$!
    sleep "$at"
    if kill -9 $P 2>/dev/null; then mid=$((mid + 1)); fi
    wait $P 2>/dev/null
    done_kills=$((done_kills + 1))
    if resume "$name" "$cmd" "$dir" && same "$name" "ref_$name" "$dir"; then
        echo "ok   kill $i: $name at ${at}s: resumed identical"
    else
        echo "FAIL kill $i: $name at ${at}s: $(tail -1 err.txt 2>/dev/null)"
        fails=$((fails + 1))
    fi
done
echo "crash: $done_kills kills ($mid during the run), $((done_kills - fails)) resumed identical"

# ---- disk full: a 1 MiB tmpfs with 48 KiB left; the run stops with exit 1, the disk is freed,
# the resumed run equals the uninterrupted one ----
MNT=$D/tiny
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=1m tmpfs "$MNT" 2>/dev/null; then
    MNT=
    echo "skip disk-full: cannot mount a tmpfs here (needs root)"
else
    F="train --data moons --hidden 8 --steps 600 --checkpoint-every 100 --threads 1"
    $B $F --out ref_full >/dev/null 2>&1
    avail=$(($(stat -f -c '%a*%S' "$MNT")))
    head -c $((avail - 48 * 1024)) /dev/zero >"$MNT/filler" 2>/dev/null
    $B $F --out "$MNT/r" >/dev/null 2>err.txt
    rc=$?
    if [ $rc -eq 1 ] && grep -q "No space left on device.*last good checkpoint" err.txt &&
        awk -F, 'NF != 11 { bad = 1 } END { exit bad }' "$MNT/r/metrics.csv"; then
        echo "ok   disk full: exit 1, every row whole: $(tail -1 err.txt | cut -c1-100)"
    else
        echo "FAIL disk full: exit $rc: $(tail -1 err.txt)"
        fails=$((fails + 1))
    fi
    rm -f "$MNT/filler"
    if $B train --resume "$MNT/r" >/dev/null 2>err.txt && "$HERE/same_run.sh" ref_full "$MNT/r"; then
        echo "ok   disk full: resumed identical"
    else
        echo "FAIL disk full: resume: $(tail -1 err.txt)"
        fails=$((fails + 1))
    fi
fi
echo "crash.sh: $fails failure(s)"
[ $fails -eq 0 ]
