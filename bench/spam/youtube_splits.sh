#!/usr/bin/env bash
# The short-message splits: the YouTube Spam Collection (1,956 comments,
# CC BY 4.0) as shipped outside the repository with its split tool, one
# comment per file.
#
# Usage: youtube_splits.sh [WORK]   (WORK as for make_splits.sh)
#   GDPRKIT_SPAM_SHORT names the folder holding split.go and data/
#   (default: ../shared/bench/spam-short beside the repository's checkout).
# Writes $WORK/youtube/{cross,random}/{train,test}.tsv (see that folder's
# README.md). Never commit the data.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-${TMPDIR:-/tmp}/gdprkit-spam}
SHORT=${GDPRKIT_SPAM_SHORT:-$HERE/../../../shared/bench/spam-short}
[ -f "$SHORT/split.go" ] || { echo "youtube_splits.sh: no split.go in $SHORT (set GDPRKIT_SPAM_SHORT)" >&2; exit 1; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
if [ ! -s "$WORK/youtube/random/test.tsv" ]; then
  (cd "$SHORT" && go run split.go "$WORK")
fi
