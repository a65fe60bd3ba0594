#!/usr/bin/env bash
# Collection documentation with antsibull-docs, offline.
#
#   tools/docs.sh lint    antsibull-docs lint-collection-docs --plugin-docs (make tooling)
#   tools/docs.sh build   a static docs site (Sphinx, the Ansible theme) in .build/docs/html (make docs)
#
# antsibull-docs copies the collection with `git ls-files` when it sits in a git repository. The
# repository root is the collection, and its untracked .venv (a symlink in worktrees) would be copied
# with it, so we lint a copy instead, like tools/sanity.sh: git-tracked plus new, not-ignored files,
# minus the simulated lab, in .build/docs/collections/ansible_collections/osce/patching with its own
# `git init`. ansible.windows / community.windows (dependencies, for reference checks) come from the
# `ansible` package in the venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
BUILD="$ROOT/.build/docs"
COLLECTIONS="$BUILD/collections"
DEST="$COLLECTIONS/ansible_collections/osce/patching"
export PATH="$VENV/bin:$PATH"

copy_collection() {
    rm -rf "$COLLECTIONS"
    mkdir -p "$DEST"
    cd "$ROOT"
    git ls-files -z --cached --others --exclude-standard \
        | grep -zv -e '^tests/lab/' -e '^\.venv$' \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf - | tar -xf - -C "$DEST"
    git -C "$DEST" init -q .
}

case "${1:-}" in
    lint)
        copy_collection
        cd "$DEST"
        antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs self .
        ;;
    build)
        copy_collection
        SITE="$BUILD/site"
        rm -rf "$SITE"
        mkdir -p "$SITE"
        # --use-current: document the collection found on ANSIBLE_COLLECTIONS_PATH (our copy) only.
        # No intersphinx: the build must not reach docs.ansible.com or docs.python.org.
        ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" antsibull-docs sphinx-init --use-current \
            --dest-dir "$SITE" --project "osce.patching" --copyright "osce.patching maintainers" \
            --title "osce.patching" --lenient --fail-on-error osce.patching
        # sphinx-init writes intersphinx mappings to docs.ansible.com; an offline build drops them.
        printf '\n# tools/docs.sh: offline build, no intersphinx inventories.\nintersphinx_mapping = {}\n' >> "$SITE/conf.py"
        (cd "$SITE" && ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS" ./build.sh)
        rm -rf "$BUILD/html"
        cp -r "$SITE/build/html" "$BUILD/html"
        echo "docs: $BUILD/html/index.html"
        ;;
    *)
        echo "usage: tools/docs.sh lint|build" >&2
        exit 2
        ;;
esac
