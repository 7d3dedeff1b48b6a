#!/bin/sh
# The production install of the server, written once: the Dockerfile's runtime stage runs it, and
# test/package/production.system.test.ts runs it in a temporary folder, so the recipe cannot rot.
#
#   sh scripts/production-install.sh <tarball> <folder>
#
# installs the packed mobile-oidc-provider (`npm pack`) and ioredis (its optional peer, for
# REDIS_URL) into <folder>, production dependencies only. <folder>/node_modules/.bin then holds
# the `mobile-oidc-provider` command; `mobile-oidc-provider serve` runs the example server.
set -eu
if [ "$#" -ne 2 ]; then
  echo "usage: $0 <tarball> <folder>" >&2
  exit 2
fi
case "$1" in
  /*) tarball=$1 ;;
  *) tarball=$(pwd)/$1 ;;
esac
mkdir -p "$2"
cd "$2"
if [ ! -f package.json ]; then
  printf '{ "name": "mobile-oidc-provider-server", "private": true }\n' > package.json
fi
npm install --omit=dev --no-audit --no-fund --prefer-offline "$tarball" 'ioredis@^6'
