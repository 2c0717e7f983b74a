#!/usr/bin/env bash
# bogofilter's verdicts on the held-out tuning splits (made by tune_splits.sh),
# the yardstick for gdprkit's cutoffs (see README.md).
#
# Usage: tune_bogofilter.sh [WORK]   (WORK as for make_splits.sh)
# Prints one line per split: "<split> label:Verdict=n …" (bogofilter 1.2.5
# defaults, -C, batch mode, as compare.sh runs it), and writes each test
# message's "label<TAB>spamicity" to WORK/tune/<split>/bogofilter.scores.
set -euo pipefail
WORK=${1:-${TMPDIR:-/tmp}/gdprkit-spam}
command -v bogofilter >/dev/null || { echo "tune_bogofilter.sh: bogofilter not installed" >&2; exit 1; }
for T in "$WORK"/tune/*/; do
  s=$(basename "$T"); d=$(mktemp -d)
  awk -F'\t' '$1=="ham"{print $2}' "$T/train.tsv" | bogofilter -C -d "$d" -n -b
  awk -F'\t' '$1=="spam"{print $2}' "$T/train.tsv" | bogofilter -C -d "$d" -s -b
  # bogofilter exits with the last message's verdict (0 spam, 1 ham,
  # 2 unsure); 3 is an error.
  rc=0; cut -f2 "$T/test.tsv" | bogofilter -C -d "$d" -b -v --spamicity-formats='%.10e,%.10e,%.10e' > "$d/out" || rc=$?
  [ "$rc" -le 2 ] || { echo "tune_bogofilter.sh: bogofilter failed ($rc)" >&2; exit 1; }
  awk -F'\t' 'NR==FNR{label[$2]=$1; next}
    { split($0, f, " "); cls=f[3]; sub(/,$/, "", cls); n[label[f[1]] ":" cls]++ }
    END { printf "%s", split_name; for (k in n) printf " %s=%d", k, n[k]; print "" }' split_name="$s" "$T/test.tsv" "$d/out"
  awk -F'\t' 'NR==FNR{label[$2]=$1; next}
    { split($0, f, " "); p=$0; sub(/.*spamicity=/,"",p); sub(/,.*/,"",p); printf "%s\t%.10g\n", label[f[1]], p+0 }' \
    "$T/test.tsv" "$d/out" > "$T/bogofilter.scores"
  rm -rf "$d"
done
