#!/usr/bin/env bash
# Shows how this directory differs from pristine tiny_http 0.12.0: the published crate, checked
# against its SHA-256, unpacked from cargo's registry cache (fetched into the cache first if it is
# not there yet, which needs the registry once; after that this works offline).
#
#   vendor/tiny_http/diff-upstream.sh          the differences, as `diff -ru` (exits 0)
#   vendor/tiny_http/diff-upstream.sh --check  fails unless every difference is accounted for:
#                                              no file added or dropped beyond those listed here,
#                                              and every hunk adds a `metrics-generator patch N`
#                                              comment
#
# The published crate's Cargo.toml is cargo's normalized rewrite; the file written by upstream,
# which is the one vendored, is its Cargo.toml.orig, so that is what the vendored one is compared
# with. PATCHES.md says what each patch is.
set -euo pipefail

VERSION=0.12.0
# The checksum that cargo records for tiny_http 0.12.0 in lock files.
SHA256=389915df6413a2e74fb181895f933386023c71110878cd0825588928e64cdc82

here=$(cd "$(dirname "$0")" && pwd)
check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

cargo_home=${CARGO_HOME:-$HOME/.cargo}
find_crate() {
    compgen -G "$cargo_home/registry/cache/*/tiny_http-$VERSION.crate" | head -n 1 || true
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

crate=$(find_crate)
if [ -z "$crate" ]; then
    # A throwaway package that only depends on the exact version: `cargo fetch` downloads it into
    # the cache without building anything.
    mkdir -p "$tmp/fetch/src"
    : > "$tmp/fetch/src/lib.rs"
    cat > "$tmp/fetch/Cargo.toml" <<EOF
[package]
name = "fetch-pristine-tiny-http"
version = "0.0.0"
edition = "2021"

[dependencies]
tiny_http = "=$VERSION"

[workspace]
EOF
    cargo fetch --quiet --manifest-path "$tmp/fetch/Cargo.toml"
    crate=$(find_crate)
    [ -n "$crate" ] || { echo "error: cargo fetch did not cache tiny_http $VERSION" >&2; exit 1; }
fi

echo "$SHA256  $crate" | sha256sum --check --quiet - || {
    echo "error: $crate is not the published tiny_http $VERSION" >&2
    exit 1
}

# The pristine crate laid out as vendored: what was left out is removed, Cargo.toml is upstream's.
tar -xzf "$crate" -C "$tmp"
mv "$tmp/tiny_http-$VERSION" "$tmp/upstream"
(
    cd "$tmp/upstream"
    # Left out when vendoring: packaging and repository files, the changelog, and the examples and
    # benchmarks, which are not built here (the benchmarks need a nightly compiler).
    rm -rf .cargo_vcs_info.json .gitattributes .github .gitignore CHANGELOG.md Cargo.lock benches examples
    mv Cargo.toml.orig Cargo.toml
)
ln -s "$here" "$tmp/vendored"

# Files of this directory that are not upstream's: these two, and the files that patches 11 and 13
# added (`src/util/connections.rs`, `src/util/layered.rs`, whose every line is their patch's; each
# opens with its marker).
ours=(-x PATCHES.md -x diff-upstream.sh -x connections.rs -x layered.rs)

cd "$tmp"
status=0
diff -ru "${ours[@]}" upstream vendored > diff.txt || status=$?
if [ "$status" -gt 1 ]; then
    exit "$status"
fi
if [ "$check" -eq 0 ]; then
    cat diff.txt
    exit 0
fi

# --check: no file only on one side, and a marker among the added lines of every hunk.
awk '
    /^Only in / { print "not accounted for: " $0; bad = 1; next }
    /^diff / { file = $NF; next }
    /^@@/ { if (hunk != "" && !marked) { print "no patch marker: " hunk; bad = 1 }
            hunk = file " " $2 " " $3; marked = 0; next }
    /^\+.*metrics-generator patch [0-9]+/ { marked = 1 }
    END { if (hunk != "" && !marked) { print "no patch marker: " hunk; bad = 1 }
          exit bad }
' diff.txt || { echo "error: differences from pristine tiny_http $VERSION not marked as patches" >&2; exit 1; }
hunks=$(grep -c '^@@' diff.txt || true)
echo "ok: $hunks hunks differ from pristine tiny_http $VERSION, each marked as a patch"
