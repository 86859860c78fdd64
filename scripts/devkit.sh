#!/usr/bin/env bash
# Packages for a lent GPU machine that has PyTorch but not Ray (see docs/benchmarks.md#on-a-lent-gpu-machine).
#
#   bash scripts/devkit.sh build [PYTHON_VERSION]   # here, where PyPI is reachable: fills .devkit/
#   source scripts/devkit.sh install                # there, in the repo root: puts them on PYTHONPATH
#
# Such a machine cannot reach PyPI and takes at most 64 MiB of working tree per call, and Ray's
# wheel alone is 79 MB. `build` therefore repacks Ray without its Java jars as a .tar.xz
# (about 32 MB) and downloads, without their dependencies, the wheels of the packages that the
# machine's image lacks (its list: ../.library/device/KINDS.md), each at the version this
# checkout's .venv has. `install` unpacks them into /tmp/site and exports PYTHONPATH with the
# repository root on it, so `python3 benchmarks/...` and `python3 -m pytest` run there.
# (No shell options are set at the top: `install` is sourced and must leave the caller's shell as it was.)

KIT=.devkit
# Packages Ray[rllib] and rllib_qmix need that the GPU image does not have (2026-11-17 list).
MISSING=(jsonschema jsonschema-specifications referencing rpds-py tensorboardX pydantic pydantic-core
  annotated-types typing-inspection dm-tree gymnasium farama-notifications lz4 ormsgpack pettingzoo)

build() (  # a subshell: its strict options and trap end with it
  set -euo pipefail
  local pyver=${1:-3.12} venv_py=.venv/bin/python
  [ -x "$venv_py" ] || { echo "devkit build: no .venv here; run 'make install' first" >&2; exit 1; }
  local ray_version tmp
  ray_version=$("$venv_py" -c 'import ray; print(ray.__version__)')
  rm -rf "$KIT" && mkdir -p "$KIT/wheels"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  local plat=(--only-binary=:all: --python-version "$pyver" --implementation cp
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64)
  python3 -m pip download -q --no-deps "${plat[@]}" -d "$tmp" "ray==$ray_version"
  (cd "$tmp" && unzip -q ray-*.whl -d unpacked && rm -rf unpacked/ray/jars \
    && tar -C unpacked -cf - . | xz -6 -T0 >ray.tar.xz)
  mv "$tmp/ray.tar.xz" "$KIT/"
  local specs=() name version
  for name in "${MISSING[@]}"; do
    version=$("$venv_py" -c "import importlib.metadata as m; print(m.version('$name'))")
    specs+=("$name==$version")
  done
  python3 -m pip download -q --no-deps "${plat[@]}" -d "$KIT/wheels" "${specs[@]}"
  # .devkit/ must travel with `run`'s carry but never be committed.
  grep -qx "/$KIT/" .git/info/exclude 2>/dev/null || echo "/$KIT/" >>.git/info/exclude
  du -sh "$KIT" "$KIT"/* | sed 's/^/devkit: /'
)

install() {
  [ -f "$KIT/ray.tar.xz" ] || { echo "devkit install: no $KIT/ray.tar.xz; carry .devkit built with 'bash scripts/devkit.sh build'" >&2; return 1; }
  mkdir -p /tmp/site && tar -C /tmp/site -xJf "$KIT/ray.tar.xz" &&
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$KIT"/wheels/*.whl ||
    { echo "devkit install: unpacking into /tmp/site failed (above)" >&2; return 1; }
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  python3 -c 'import ray, torch, rllib_qmix; print("devkit: ray", ray.__version__, "torch", torch.__version__, "cuda", torch.cuda.is_available())'
}

case "${1:-}" in
  build) build "${2:-3.12}" ;;
  install) install ;;
  *) echo "usage: bash scripts/devkit.sh build [PYTHON_VERSION] | source scripts/devkit.sh install" >&2; return 2 2>/dev/null || exit 2 ;;
esac
