#!/usr/bin/env bash
# The Debian packages the test suite runs against (real servers and tools, started by the tests on free ports,
# never as services). Run by `npm test` before the suite: installs what is missing when it can (root, or
# passwordless sudo), and otherwise stops with one line naming the command to run.
set -euo pipefail

# command on PATH → the package that provides it
declare -A PACKAGE_OF=(
  [kcat]=kcat
  [zstd]=zstd
  [openssl]=openssl
  [prometheus]=prometheus
  [prometheus-node-exporter]=prometheus-node-exporter
  [prometheus-alertmanager]=prometheus-alertmanager
  # systemd-analyze verify/security, systemd-sysusers and systemd-tmpfiles check deploy/systemd
  [systemd-analyze]=systemd
  [systemd-sysusers]=systemd
  [systemd-tmpfiles]=systemd
  # headless browser for the status page test (driven by playwright-core)
  [chromium]=chromium
  # The container image test: builds with buildah; mmdebstrap assembles its base image (no registry here).
  [buildah]=buildah
  [mmdebstrap]=mmdebstrap
  # The Kubernetes manifests test renders with `kubectl kustomize` (kubectl 1.22+). Debian's own
  # kubernetes-client (1.20) is too old; the `kubectl` package is the Google Cloud SDK's apt repository's.
  [kubectl]=kubectl
)

missing=()
for command in "${!PACKAGE_OF[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$command]}")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

IFS=$'\n' missing=($(sort -u <<<"${missing[*]}")); unset IFS
install="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "tests need: ${missing[*]} (not a Debian-based system: install them with your package manager)" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "tests need: ${missing[*]}; run: sudo sh -c '$install'" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's packages (needed by the test suite)" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
