#!/usr/bin/env bash
# Smoke-fuzzes every parser of untrusted bytes (style item 10): builds the targets in fuzz/
# with cargo-fuzz, then runs each one for FUZZ_SECONDS (default 20) from a temporary copy
# of its committed seeds (fuzz/seeds/<target>), so the repository is not modified.
# Exits 1 if any target crashes (panic, sanitizer report, timeout, out of memory); the
# crashing input is kept in fuzz/artifacts/<target>/ (git-ignored) and its path printed.
#
#   scripts/fuzz-smoke.sh                  all targets, 20 s each
#   FUZZ_SECONDS=300 scripts/fuzz-smoke.sh event_log ima_list
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz_dir="$root/fuzz"
seconds="${FUZZ_SECONDS:-20}"
# Separate from the main build (the Makefile exports CARGO_TARGET_DIR for that one): the
# fuzz build uses other RUSTFLAGS and would otherwise evict it.
target_dir="${FUZZ_TARGET_DIR:-/var/cache/ironroot/fuzz-target}"
tools="${CARGO_TOOLS_DIR:-/var/cache/ironroot/cargo-tools}"
cargo_fuzz_version="0.13.2"

export PATH="$tools/bin:$PATH"
# cargo-fuzz passes -Z flags (sanitizer, coverage options); only a stable toolchain is
# installed, and RUSTC_BOOTSTRAP makes it accept them.
export RUSTC_BOOTSTRAP=1
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz $cargo_fuzz_version into $tools"
  mkdir -p "$tools"
  cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked --root "$tools"
fi

host="$(rustc -vV | sed -n 's/^host: //p')"
echo "building fuzz targets into $target_dir"
cargo fuzz build -O --fuzz-dir "$fuzz_dir" --target "$host" --target-dir "$target_dir"
bin_dir="$target_dir/$host/release"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
  [ ${#targets[@]} -gt 0 ] || { echo "cargo fuzz list found no targets" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=()
printf '%-16s %12s  %s\n' target executions result
for t in "${targets[@]}"; do
  [ -d "$fuzz_dir/seeds/$t" ] || { echo "$t: no seeds in fuzz/seeds/$t" >&2; exit 1; }
  corpus="$work/corpus/$t"
  artifacts="$fuzz_dir/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  cp "$fuzz_dir/seeds/$t"/* "$corpus/"
  log="$work/$t.log"
  status=0
  "$bin_dir/$t" "$corpus" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  if [ "$status" -eq 0 ]; then
    result="ok"
    rmdir "$artifacts" 2>/dev/null || true
  else
    input="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    result="CRASH (exit $status) input: ${input:-see log below}"
    failed+=("$t")
    # The panic or sanitizer message and libFuzzer's verdict, then how to reproduce.
    grep -E -A3 'panicked at|ERROR: |SUMMARY: ' "$log" | grep -Ev '^[[:space:]]*#[0-9]+ ' >&2 || true
    [ -z "$input" ] || echo "reproduce: $bin_dir/$t $input" >&2
  fi
  printf '%-16s %12s  %s\n' "$t" "${runs:-?}" "$result"
done

rmdir "$fuzz_dir/artifacts" 2>/dev/null || true
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz smoke run failed: ${failed[*]}" >&2
  exit 1
fi
