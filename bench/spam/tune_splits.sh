#!/usr/bin/env bash
# Held-out tuning splits made from the TRAINING files only, as used to choose
# gdprkit's spam defaults (the test files are for reporting, never tuning).
#
# Usage: tune_splits.sh [WORK]   (WORK as for make_splits.sh; run that first)
# Writes $WORK/tune/{random,tempo,tempo30}/{train,test}.tsv:
#   random : random/train.tsv, 70/30 ordered by sha256("tune:" + path)
#   tempo  : temporal/train.tsv, per group (easy-ham-1, hard-ham-1, spam-1)
#            the first 60% by file name train, the last 40% test
#   tempo30: the same with the first 30% training (more unseen vocabulary,
#            closer to the drift of the temporal test)
set -euo pipefail
WORK=${1:-${TMPDIR:-/tmp}/gdprkit-spam}
T=$WORK/tune
mkdir -p "$T/random" "$T/tempo" "$T/tempo30"
while IFS=$'\t' read -r label path; do
  printf '%s\t%s\t%s\n' "$(printf 'tune:%s' "$path" | sha256sum | cut -c1-16)" "$label" "$path"
done < "$WORK/splits/random/train.tsv" | LC_ALL=C sort | cut -f2- > "$T/random/all"
n=$(wc -l < "$T/random/all")
head -n $((n*7/10)) "$T/random/all" > "$T/random/train.tsv"
tail -n +$((n*7/10+1)) "$T/random/all" > "$T/random/test.tsv"
rm -f "$T/random/all"
for cut in 6:tempo 3:tempo30; do
  tenths=${cut%%:*}; out=$T/${cut#*:}
  : > "$out/train.tsv"; : > "$out/test.tsv"
  for g in easy-ham-1 hard-ham-1 spam-1; do
    grep "/$g/" "$WORK/splits/temporal/train.tsv" | LC_ALL=C sort -t$'\t' -k2 > "$out/g.tsv" || true
    n=$(wc -l < "$out/g.tsv"); k=$((n*tenths/10))
    head -n "$k" "$out/g.tsv" >> "$out/train.tsv"
    tail -n +$((k+1)) "$out/g.tsv" >> "$out/test.tsv"
  done
  rm -f "$out/g.tsv"
done
wc -l "$T"/*/*.tsv
