#!/usr/bin/env bash
# Proves a user can install and use the packages, and that the repository builds from any checkout path:
#   1. packs every library into a local folder (scripts/pack.sh: no warning, README, icon, XML docs, .snupkg);
#   2. creates console apps with `dotnet new console` outside the repository, adds the packages from that folder only
#      (package source mapping: Tinybatch* from the folder, everything else from nuget.org), and builds and runs them:
#      a net10.0 app on Tinybatch, and a net8.0 app on Tinybatch.Extensions.Hosting with Microsoft.Extensions.Hosting
#      8.0.x, which must resolve to the 8.0 Microsoft.Extensions.* line (self-contained on the 8.0 runtime pack when no
#      8.0 runtime is installed);
#   3. clones the repository into a path containing /src/, builds a test project there and runs its tests.
# Prints "packages: N packed, smoke apps passed" and exits 0, or says what failed and exits 1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
hosting_version=8.0.1 # the newest Microsoft.Extensions.Hosting 8.0.x

work=$(mktemp -d /tmp/tinybatch-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "smoke: $*" >&2; exit 1; }
run() { # runs a command quietly; on failure prints its output and stops
  local log=$work/last.log
  "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "failed: $*"; }
}

# 1. Pack.
feed=$work/feed
mapfile -t packages < <("$repo/scripts/pack.sh" "$feed") || fail "pack failed"
[ "${#packages[@]}" -gt 0 ] || fail "no package was packed"
version=$(basename "${packages[0]}" .nupkg | sed -E 's/^Tinybatch(\.[A-Za-z]+)*\.//')
echo "smoke: packed ${#packages[@]} packages, version $version"

# A version packed before with other contents (same commit height) must not be served from the machine's cache.
cache=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
for p in "${packages[@]}"; do
  id=$(basename "$p" ".$version.nupkg" | tr '[:upper:]' '[:lower:]')
  rm -rf "${cache%/}/$id/$version"
done

# 2. The apps, outside the repository.
apps=$work/apps
mkdir -p "$apps"
cat >"$apps/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local">
      <package pattern="Tinybatch" />
      <package pattern="Tinybatch.*" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
XML

new_app() { # new_app NAME FRAMEWORK SOURCE
  local dir=$apps/$1
  run dotnet new console -o "$dir" -n "$1"
  if [ "$2" != net10.0 ]; then
    sed -i "s:<TargetFramework>net10.0</TargetFramework>:<TargetFramework>$2</TargetFramework>:" "$dir/$1.csproj"
    local major=${2#net}
    major=${major%%.*}
    if ! dotnet --list-runtimes | grep -q "^Microsoft.NETCore.App $major\."; then
      # No runtime of that version here: run on its runtime pack instead.
      sed -i "s:<TargetFramework>$2</TargetFramework>:&<RuntimeIdentifier>linux-x64</RuntimeIdentifier><SelfContained>true</SelfContained>:" "$dir/$1.csproj"
    fi
  fi
  cp "$repo/scripts/smoke/$3" "$dir/Program.cs"
}

new_app CoreApp net10.0 CoreApp.cs
run dotnet add "$apps/CoreApp" package Tinybatch --version "$version"

new_app HostingApp net8.0 HostingApp.cs
run dotnet add "$apps/HostingApp" package Microsoft.Extensions.Hosting --version "$hosting_version"
run dotnet add "$apps/HostingApp" package Tinybatch.Extensions.Hosting --version "$version"

for app in CoreApp HostingApp; do
  run dotnet build "$apps/$app" -c Release
  assets=$apps/$app/obj/project.assets.json
  grep -q "\"Tinybatch/$version\"" "$assets" || fail "$app did not restore Tinybatch $version from the local feed"
  if grep -E '"(Tinybatch|Tinybatch\.[A-Za-z.]+)/' "$assets" | grep -q '"type": "project"'; then fail "$app references a project"; fi
  output=$(dotnet run --project "$apps/$app" -c Release --no-build 2>&1) || { echo "$output" >&2; fail "$app failed"; }
  echo "$output"
done
# The net8.0 app keeps the 8.0 line of Microsoft.Extensions.*: the package's floors did not lift it to 10.0.
if grep -oE '"Microsoft\.Extensions\.[A-Za-z.]+/[0-9]+\.' "$apps/HostingApp/obj/project.assets.json" | grep -v '/8\.' >&2; then
  fail "the net8.0 app resolved Microsoft.Extensions.* outside 8.0.x (above)"
fi

# 3. A clone under a path containing /src/, built and tested there.
clone=$work/src/tinybatch
run git clone -q "$repo" "$clone"
run dotnet test "$clone/tests/Tinybatch.Extensions.Hosting.Tests" -c Release
echo "smoke: $(grep -E '^\s*Passed!' "$work/last.log" | sed 's/^ *//') (clone in $clone)"

echo "packages: ${#packages[@]} packed, smoke apps passed"
