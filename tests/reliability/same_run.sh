#!/usr/bin/env bash
# same_run.sh A B: two run directories hold the same run: metrics.csv and metrics.jsonl equal
# byte for byte but for time_s, config.json equal, and checkpoint.otg equal but for the header
# members that name the writer (schema, config_hash, threads). Exit 1 naming what differs.
set -u
a=$1 b=$2 st=0
cmp -s <(cut -d, -f1,3- "$a/metrics.csv") <(cut -d, -f1,3- "$b/metrics.csv") || {
    echo "same_run: metrics.csv differs" >&2
    st=1
}
cmp -s <(sed 's/"time_s":[^,]*,//' "$a/metrics.jsonl") <(sed 's/"time_s":[^,]*,//' "$b/metrics.jsonl") || {
    echo "same_run: metrics.jsonl differs" >&2
    st=1
}
cmp -s "$a/config.json" "$b/config.json" || {
    echo "same_run: config.json differs" >&2
    st=1
}
/usr/bin/python3 - "$a/checkpoint.otg" "$b/checkpoint.otg" <<'P' || st=1
import json, struct, sys
def parts(p):
    b = open(p, 'rb').read()
    n = struct.unpack('<I', b[12:16])[0]
    h = json.loads(b[16:16 + n])
    for k in ('schema', 'config_hash', 'threads'):
        h.pop(k, None)
    return h, b[16 + n:-4]
(h1, t1), (h2, t2) = parts(sys.argv[1]), parts(sys.argv[2])
if h1 != h2 or t1 != t2:
    print('same_run: checkpoint.otg differs (%s)' % ('header' if h1 != h2 else 'parameters or state'), file=sys.stderr)
    sys.exit(1)
P
exit $st
