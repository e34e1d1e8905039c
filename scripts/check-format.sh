#!/bin/sh
# Fails if a C++ file of the tree is not in the house style (.clang-format):
# prints the files and how to fix them. Run by the tests.
#   scripts/check-format.sh          check
#   scripts/check-format.sh --fix    rewrite the files in place
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files 'service/*.cc' 'service/*.h' 'plugin/*.cc' 'plugin/*.h' 'tests/*.cc' \
        'tests/*.h' 'bench/*.cc' 'bench/*.h' 2>/dev/null ||
        find service plugin tests bench -name '*.cc' -o -name '*.h')
if [ "${1:-}" = "--fix" ]; then
  clang-format-14 -i $files
  exit 0
fi
bad=""
for f in $files; do
  clang-format-14 --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
  echo "not in the house style (scripts/check-format.sh --fix):$bad"
  exit 1
fi
echo "format: ok"
