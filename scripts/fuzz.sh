#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets) for SECONDS each
# [default 180] and keeps what libFuzzer finds under fuzz/artifacts/.
#
# cargo-fuzz wants nightly compiler flags; the script sets
# RUSTC_BOOTSTRAP=1 (the stable compiler then accepts them) and fuzzes
# without a sanitizer (safe Rust: the bugs to find are panics, overflows
# caught by debug assertions, hangs and blow-ups). Installs cargo-fuzz on
# first use. All targets are built first, then each binary is run
# directly (one job: -jobs=1), so editing the sources during a long run
# does not rebuild anything. Prints, per target, libFuzzer's last status
# line: runs executed (#N), coverage and corpus size (corp: files/bytes).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${1:-180}
shift || true
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(canonical load_testers monitors model_yaml model_expr study_yaml
  qpe behavior_import behavior_model run_meta otlp)
# Seeds: the project's own fixtures (real files of every format) and the
# third-party models and logs where they are.
third=/work/shared/third-party
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  case $t in
    model_yaml) cp ../models/*.yaml ../tests/fixtures/bad/*.yaml "corpus/$t/" ;;
    model_expr) printf '%s' '-max(1, 2 ^ -m) / (sqrt(4) - 1e-3)' > "corpus/$t/seed" ;;
    study_yaml) for f in ../traces/*/*.yaml; do
        cp "$f" "corpus/$t/$(basename "$(dirname "$f")")-$(basename "$f")"
      done ;;
    qpe) find ../tests/fixtures "$third/qpme" -name '*.qpe' -size -64k 2>/dev/null |
        while read -r f; do cp "$f" "corpus/$t/$(echo "$f" | tr / _)"; done ;;
    behavior_import) find ../tests/fixtures/bad \( -name 'm4j-*' -o -name 'wessbas-*' \) \
        -exec cp {} "corpus/$t/" \;
      cp ../tests/fixtures/import/wessbas-sessions.dat "corpus/$t/"
      find "$third/wessbas" -type f \( -name '*.csv' -o -name '*.txt' -o -name '*.dat' \) \
        -size -64k 2>/dev/null | while read -r f; do cp "$f" "corpus/$t/$(echo "$f" | tr / _)"; done ;;
    behavior_model) cp ../traces/real/behavior.json "corpus/$t/" ;;
    otlp) cp ../tests/fixtures/otlp/*.json ../tests/fixtures/otlp/*.jsonl \
        ../tests/fixtures/bad/otlp-* "corpus/$t/" ;;
    run_meta) find ../traces ../tests/fixtures \( -name run.yaml -o -name run.json \) |
        while read -r f; do cp "$f" "corpus/$t/$(echo "$f" | tr / _)"; done ;;
    *) find ../tests/fixtures -type f ! -name '*.yaml' -exec cp {} "corpus/$t/" \; ;;
  esac
done
cargo fuzz build --sanitizer none --debug-assertions
bin=target/$(rustc -vV | sed -n 's/^host: //p')/release
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  mkdir -p "artifacts/$t"
  "$bin/$t" "corpus/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 2>&1 |
    grep -E "^(#[0-9]+[[:space:]]+(DONE|INITED)|==[0-9]+== ERROR|SUMMARY|stat::number_of_executed_units|Test unit written|.*panicked)" || true
  echo "corpus: $(find "corpus/$t" -type f | wc -l) files"
done
found=$(find artifacts -type f 2>/dev/null || true)
if [ -n "$found" ]; then
  echo "$found" | sed 's/^/finding: fuzz\//'
  echo "replay one: fuzz/$bin/TARGET FILE"
else
  echo "no findings"
fi
