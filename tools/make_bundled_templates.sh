#!/usr/bin/env bash
# Regenerate the bundled templates from the real scans in ../shared/samples (TCIA, see NOTICE).
set -euo pipefail
cd "$(dirname "$0")/.."
samples=../shared/samples
out=nipype_vinci/data/templates
nipype-vinci make-template "$samples/pet-ge-discovery-st/1-001.dcm" -o "$out/ge-discovery-st-pet.dump" \
  --name ge-discovery-st-pet --overwrite \
  --source "TCIA Soft-tissue-Sarcoma collection, FDG PET" --licence "CC BY 3.0"
nipype-vinci make-template "$samples/ct-ge-lightspeed16.dcm" -o "$out/ge-lightspeed16-ct.dump" \
  --name ge-lightspeed16-ct --overwrite \
  --source "TCIA Colorectal-Liver-Metastases collection, CT" --licence "CC BY 4.0"
nipype-vinci make-template "$samples/mr-siemens-avanto.dcm" -o "$out/siemens-avanto-mr.dump" \
  --name siemens-avanto-mr --overwrite \
  --source "TCIA Soft-tissue-Sarcoma collection, MR T1" --licence "CC BY 3.0"
