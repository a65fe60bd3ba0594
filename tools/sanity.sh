#!/usr/bin/env bash
# Run `ansible-test sanity` on osce.patching without the internet pip bootstrap.
#
# ansible-test insists on running from .../ansible_collections/<namespace>/<name>, and the
# repository root *is* the collection, so we copy the collection's files (git-tracked plus
# untracked-but-not-ignored, minus the simulated lab which is never shipped) into
# .build/sanity/ansible_collections/osce/patching and run there.
#
# ansible-test bootstraps pip in each per-test venv by downloading get-pip from
# ci-files.testing.ansible.com, which is unreachable here. A stand-in at
# $HOME/.ansible/test/cache/get_pip_<ver>.py that runs ensurepip does the same job; the
# per-test venvs then install their pinned requirements from PyPI. HOME points to
# .build/sanity-home, so those venvs (and pip's cache) survive reruns: only the first
# run pays for them.
#
# Usage: tools/sanity.sh [extra ansible-test sanity args, e.g. --test pylint]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYVER="${SANITY_PYTHON:-$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}"
BUILD="$ROOT/.build"
DEST="$BUILD/sanity/ansible_collections/osce/patching"
export HOME="$BUILD/sanity-home"

# The pip version ansible-test wants (24.2 for ansible-core 2.19), read from ansible-test itself.
PIP_VER="$("$VENV/bin/python" - <<'PY'
import re, pathlib, ansible_test
src = pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
print(re.search(r"pip='([0-9.]+)'", src.read_text()).group(1))
PY
)"
GET_PIP="$HOME/.ansible/test/cache/get_pip_${PIP_VER//./_}.py"
mkdir -p "$(dirname "$GET_PIP")"
printf 'import ensurepip\nensurepip.bootstrap(upgrade=True)\n' > "$GET_PIP"

# Fresh copy of the collection content (the venvs in $HOME are kept).
rm -rf "$BUILD/sanity"
mkdir -p "$DEST"
cd "$ROOT"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files plus new files nobody has committed yet, honouring .gitignore.
    git ls-files -z --cached --others --exclude-standard \
        | grep -zv '^tests/lab/' \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf - | tar -xf - -C "$DEST"
else
    tar --exclude=./.venv --exclude=./.build --exclude=./.git --exclude=./tests/lab \
        --exclude=./tests/output --exclude='__pycache__' --exclude='*.pyc' -cf - . \
        | tar -xf - -C "$DEST"
fi

cd "$DEST"
# ansible-test lists content with git when it finds a .git walking up; without one here it
# would find the outer repository (where .build/ is ignored) and see no files at all.
git init -q .
export PATH="$VENV/bin:$PATH"
export ANSIBLE_TEST_PREFER_PODMAN=""
exec "$VENV/bin/ansible-test" sanity --python "$PYVER" --requirements --color no "$@"
