#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets) for SECONDS each
# [default 180] and keeps what libFuzzer finds under fuzz/artifacts/.
#
# cargo-fuzz wants nightly compiler flags; the machine has one stable
# toolchain, so the script sets RUSTC_BOOTSTRAP=1 (the stable compiler then
# accepts them) and fuzzes without a sanitizer (safe Rust: the bugs to find
# are panics, overflows caught by debug assertions, hangs and blow-ups).
# Installs cargo-fuzz on first use.
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
  qpe behavior_import behavior_model run_meta)
# Seeds: the project's own fixtures (real files of every format).
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  case $t in
    model_yaml) cp ../models/*.yaml ../tests/fixtures/bad/*.yaml "corpus/$t/" ;;
    model_expr) printf '%s' '-max(1, 2 ^ -m) / (sqrt(4) - 1e-3)' > "corpus/$t/seed" ;;
    study_yaml) for f in ../traces/*/*.yaml; do
        cp "$f" "corpus/$t/$(basename "$(dirname "$f")")-$(basename "$f")"
      done ;;
    qpe) find ../tests/fixtures /work/shared/third-party/qpme -name '*.qpe' 2>/dev/null |
        while read -r f; do cp "$f" "corpus/$t/$(echo "$f" | tr / _)"; done ;;
    behavior_import) find ../tests/fixtures/bad -name 'm4j-*' -o -name 'wessbas-*' |
        xargs -I{} cp {} "corpus/$t/"
      cp ../tests/fixtures/import/wessbas-sessions.dat "corpus/$t/"
      find /work/shared/third-party/wessbas -type f \( -name '*.csv' -o -name '*.txt' -o -name '*.dat' \) \
        -size -64k 2>/dev/null | while read -r f; do cp "$f" "corpus/$t/$(echo "$f" | tr / _)"; done ;;
    behavior_model) cp ../traces/real/behavior.json "corpus/$t/" ;;
    run_meta) find ../traces ../tests/fixtures -name 'run.yaml' -o -name 'run.json' 2>/dev/null |
        while read -r f; do cp "$f" "corpus/$t/$(echo "$f" | tr / _)"; done
      printf 'workload: {type: closed, users: 5, think_time_s: 1}\nservers: 2\ncpu_limit: 0.5\n' > "corpus/$t/seed.yaml" ;;
    *) find ../tests/fixtures -type f ! -name '*.yaml' -exec cp {} "corpus/$t/" \; ;;
  esac
done
for t in "${targets[@]}"; do
  echo "== $t ($secs s)"
  cargo fuzz run --sanitizer none --debug-assertions "$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 2>&1 |
    grep -E "^(#[0-9]+[[:space:]]+(DONE|INITED)|==|SUMMARY|artifact_prefix|Test unit written|.*panicked)" || true
done
found=$(find artifacts -type f 2>/dev/null || true)
if [ -n "$found" ]; then
  echo "$found" | sed 's/^/finding: fuzz\//'
  echo "replay one: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none TARGET FILE"
else
  echo "no findings"
fi
