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

# converter_venv ONNXRUNTIME: the python venv the model converters run in
# ($CALLSCOPE_MODELS_VENV, default target/models-venv): numpy, onnx 1.23.2 and
# ONNXRUNTIME (a wheel file, or a requirement such as 'onnxruntime==1.32.0'),
# created when missing or incomplete. Sets VENV. Needs ROOT.
converter_venv() {
  VENV=${CALLSCOPE_MODELS_VENV:-$ROOT/target/models-venv}
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import numpy, onnx, onnxruntime' 2>/dev/null; then
    echo "==> python venv for the converter ($VENV)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'numpy>=1.24' 'onnx==1.23.2' "$1"
  fi
}
