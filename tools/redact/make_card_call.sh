#!/bin/sh
# Builds crates/cli/tests/data/card-call.ogg: a 16 s stereo call (seller left,
# customer right) in which the customer reads out the card number
# 4539 1488 0343 6467, for the redacted-audio-copy test
# (crates/cli/tests/audio_copies.rs). Needs espeak-ng and sox (with Vorbis).
set -eu
out="$(cd "$(dirname "$0")/../.." && pwd)/crates/cli/tests/data/card-call.ogg"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
espeak-ng -v en-us -s 150 -w seller.wav "Hello, this is Anna from Northwind. Can I have your card number, please?"
espeak-ng -v en-gb -s 140 -p 30 -w cust.wav \
  "Sure. It is four five three nine, one four eight eight, zero three four three, six four six seven. Thanks a lot."
sox seller.wav -r 16000 s16.wav
sox cust.wav -r 16000 c16.wav
sox s16.wav left.wav pad 0 10.5
sox c16.wav right.wav pad 5.9 0
sox -M left.wav right.wav -r 16000 call.wav
sox call.wav -C 0 "$out"
echo "wrote $out"
