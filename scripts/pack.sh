#!/usr/bin/env bash
# Packs every shipped library (each project under src/) into one folder, and checks what a user gets:
#
#   scripts/pack.sh [OUT [MSBUILD-ARGS...]]   # OUT defaults to artifacts/packages; `make pack` runs it
#
# Fails if a pack prints a warning, or if a package lacks its README, icon or XML docs for a target framework, or has
# no .snupkg (symbols) beside it. Prints the packages' paths, one a line, on success.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/packages}
shift $(($# > 0 ? 1 : 0))
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for project in src/*/*.csproj; do
  if ! dotnet pack "$project" -c Release -o "$out" "$@" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "pack: $project failed" >&2
    exit 1
  fi
done
if grep -E ": warning |missing a readme" "$log" >&2; then
  echo "pack: the warnings above must be fixed" >&2
  exit 1
fi

frameworks=$(sed -n 's:.*<LibraryTargetFrameworks>\(.*\)</LibraryTargetFrameworks>.*:\1:p' Directory.Build.props | tr ';' ' ')
status=0
for project in src/*/*.csproj; do
  id=$(basename "$project" .csproj)
  nupkg=$(ls "$out/$id".[0-9]*.nupkg 2>/dev/null | head -1)
  if [ -z "$nupkg" ]; then echo "pack: no package for $id" >&2; status=1; continue; fi
  listing=$(unzip -l "$nupkg")
  for entry in README.md icon.png $(for tfm in $frameworks; do echo "lib/$tfm/$id.xml"; done); do
    grep -q " $entry\$" <<<"$listing" || { echo "pack: $(basename "$nupkg") lacks $entry" >&2; status=1; }
  done
  [ -f "${nupkg%.nupkg}.snupkg" ] || { echo "pack: no ${nupkg%.nupkg}.snupkg" >&2; status=1; }
  echo "$nupkg"
done
exit "$status"
