# .ci/lib.sh: helpers for the extra CI stages (sourced by them, not run).
#
# The stages run inside the virtual environment .ci/run made for the main stage
# (fastnn[test] installed). Each can also be run by hand from any environment that
# has the test extras: `. venv/bin/activate && .ci/sanitize`.

ci_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The tests of the compiled kernels and their bindings.
KERNEL_TESTS=(tests/test_gemm.py tests/test_activations.py tests/test_linear.py
              tests/test_losses.py tests/test_dropout.py tests/test_optim.py)

# build_package OUT [CMAKE_ARGS...]: builds fastnn._core with the given CMake options
# and lays out an importable copy of the package in OUT (run with PYTHONPATH=OUT).
build_package() {
  local out=$1
  shift
  python -m pip install --quiet cmake ninja "pybind11>=2.12"
  cmake -S "$ci_root" -B "$out.build" -G Ninja -DPython_EXECUTABLE="$(command -v python)" \
    "$@" >"$out.cmake.log" 2>&1 || { cat "$out.cmake.log"; return 1; }
  cmake --build "$out.build" -j"$(nproc)" >"$out.build.log" 2>&1 \
    || { tail -n 50 "$out.build.log"; return 1; }
  mkdir -p "$out"
  cp -r "$ci_root/python/fastnn" "$out/"
  rm -f "$out"/fastnn/_core*.so "$out"/fastnn/_core*.pyd
  cp "$out.build"/_core*.so "$out/fastnn/"
}

# in_package OUT CMD...: runs CMD (from the repository root) with OUT's fastnn first on
# the path, after checking that this is the fastnn that gets imported.
in_package() {
  local out=$1
  shift
  (
    cd "$ci_root"
    export PYTHONPATH="$out"
    python - "$out" <<'PY'
import sys
import fastnn
assert fastnn.__file__.startswith(sys.argv[1]), fastnn.__file__
PY
    "$@"
  )
}

# stage NAME CMD...: runs one stage and prints its wall time.
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "=== ci: stage $name"
  "$@"
  echo "=== ci: stage $name passed in $((SECONDS - start)) s"
}
