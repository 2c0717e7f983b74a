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
#   chain2..chain5: forward chaining over temporal/train.tsv, per group in
#            five chunks by file name: chainK trains on chunks 1..K-1 and
#            tests on chunk K (every training message but the first fifth
#            is held out once, each by a model that never saw later mail)
#   cv1..cv5: five-fold cross-validation of random/train.tsv, folds by
#            sha256("tune-cv:" + path)
# Pooled over chain2..5 and cv1..5 that is about 5,000 held-out ham, enough
# to see the spammiest ham a model makes (tempo and random alone show ~2,000).
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
# chain2..chain5: per group, chunk i (1-based) of 5 is lines (i-1)n/5+1 .. in/5.
for k in 2 3 4 5; do
  out=$T/chain$k; mkdir -p "$out"; : > "$out/train.tsv"; : > "$out/test.tsv"
  for g in easy-ham-1 hard-ham-1 spam-1; do
    grep "/$g/" "$WORK/splits/temporal/train.tsv" | LC_ALL=C sort -t$'\t' -k2 > "$out/g.tsv" || true
    n=$(wc -l < "$out/g.tsv"); a=$((n*(k-1)/5)); b=$((n*k/5))
    head -n "$a" "$out/g.tsv" >> "$out/train.tsv"
    sed -n "$((a+1)),${b}p" "$out/g.tsv" >> "$out/test.tsv"
  done
  rm -f "$out/g.tsv"
done
# cv1..cv5: hash-ordered, fold i is every line whose rank mod 5 is i-1.
while IFS=$'\t' read -r label path; do
  printf '%s\t%s\t%s\n' "$(printf 'tune-cv:%s' "$path" | sha256sum | cut -c1-16)" "$label" "$path"
done < "$WORK/splits/random/train.tsv" | LC_ALL=C sort | cut -f2- > "$T/cv.all"
for i in 1 2 3 4 5; do
  out=$T/cv$i; mkdir -p "$out"
  awk -v i="$i" '(NR-1)%5==i-1' "$T/cv.all" > "$out/test.tsv"
  awk -v i="$i" '(NR-1)%5!=i-1' "$T/cv.all" > "$out/train.tsv"
done
rm -f "$T/cv.all"
wc -l "$T"/*/*.tsv
