#!/usr/bin/env bash
# check_banned.sh: fail when C sources use functions we ban (unbounded or unchecked), as curl does.
# Usage: scripts/check_banned.sh [DIR...]   (default: layers importers server)
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=("$@")
[ ${#dirs[@]} -eq 0 ] && dirs=(layers importers server)
pattern='\b(sprintf|vsprintf|strcpy|strcat|strncat|gets|atoi|atol|atoll|atof|strtok|tmpnam|mktemp)\s*\('
if grep -rnE "$pattern" --include='*.c' --include='*.h' "${dirs[@]}"; then
  echo "banned functions found (use snprintf, msh_buf, strtol/strtod with checks)"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "no banned functions in ${dirs[*]}"
echo "1 passed, 0 failed"
