#!/usr/bin/env bash
# The GPU pretraining recipe, run as is on a machine with an NVIDIA GPU, from the project folder:
#   experiments/gpu_pretrain/run.sh            (the corpus: PARATYPE_CORPUS_DIR or .cache/saudinewsnet)
# Then copy models/mini-bert-gpu back to the CPU machine and fine-tune it like any checkpoint:
#   paratype-train model=mini_bert model.pretrained=models/mini-bert-gpu
set -euo pipefail
cd "$(dirname "$0")/../.."
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
[ -x .venv/bin/paratype-pretrain ] || (python3 -m venv .venv && .venv/bin/pip install -q -e .)
.venv/bin/python -c "import torch; assert torch.cuda.is_available(), 'torch sees no GPU: install a CUDA build of torch'"
start=$(date +%s)
.venv/bin/paratype-pretrain --config-name pretrain_gpu "$@"
echo "wall clock: $(( $(date +%s) - start )) s"
ls -l models/mini-bert-gpu/*.safetensors
