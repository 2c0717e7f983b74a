#!/usr/bin/env bash
# bogofilter's verdicts on the held-out tuning splits (made by tune_splits.sh),
# the yardstick for choosing gdprkit's cutoffs: its defaults keep the unsure
# verdicts on every tuning split at most half of bogofilter's (see README.md).
#
# Usage: tune_bogofilter.sh [WORK]   (WORK as for make_splits.sh)
# Prints per split: ham/spam verdict counts as "label:Verdict=n".
set -euo pipefail
WORK=${1:-${TMPDIR:-/tmp}/gdprkit-spam}
command -v bogofilter >/dev/null || { echo "tune_bogofilter.sh: bogofilter not installed" >&2; exit 1; }
for s in random tempo tempo30 chain2 chain3 chain4 chain5 cv1 cv2 cv3 cv4 cv5; do
  T=$WORK/tune/$s; d=$(mktemp -d)
  awk -F'\t' '$1=="ham"{print $2}' "$T/train.tsv" | bogofilter -C -d "$d" -n -b
  awk -F'\t' '$1=="spam"{print $2}' "$T/train.tsv" | bogofilter -C -d "$d" -s -b
  # bogofilter exits with the last message's verdict (0 spam, 1 ham,
  # 2 unsure); 3 is an error.
  rc=0; cut -f2 "$T/test.tsv" | bogofilter -C -d "$d" -b -v > "$d/out" || rc=$?
  [ "$rc" -le 2 ] || { echo "tune_bogofilter.sh: bogofilter failed ($rc)" >&2; exit 1; }
  awk -F'\t' 'NR==FNR{label[$2]=$1; next}
    { split($0, f, " "); cls=f[3]; sub(/,$/, "", cls); n[label[f[1]] ":" cls]++ }
    END { printf "%s", split_name; for (k in n) printf " %s=%d", k, n[k]; print "" }' split_name="$s" "$T/test.tsv" "$d/out"
  rm -rf "$d"
done
