# Shared by the model fetch scripts (sourced, not run).

# verified FILE: FILE and FILE.sha256 beside it exist and agree.
verified() { [ -f "$1" ] && [ -f "$1.sha256" ] && (cd "$(dirname "$1")" && sha256sum -c --status "$(basename "$1").sha256"); }

# exit_if_verified FILE...: when every FILE is verified, says so and ends the script.
exit_if_verified() {
  for f in "$@"; do verified "$f" || return 0; done
  echo "$1$(printf ', %s' "${@:2}"): present and verified"
  exit 0
}

# record_sha256 FILE: writes FILE.sha256 beside FILE.
record_sha256() { (cd "$(dirname "$1")" && sha256sum "$(basename "$1")" > "$(basename "$1").sha256"); }
