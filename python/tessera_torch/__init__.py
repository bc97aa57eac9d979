"""tessera_torch: Tessera's models in PyTorch, with Tessera's state-dict names, and their training at
scale under torchrun (DDP/FSDP). Needs only PyTorch and numpy.

  tessera_torch.prior, .dvae, .clip   the one PyTorch definition of each model
  tessera_torch.bpe                   @tessera/bpe's encode (and BPE-dropout) in plain Python
  tessera_torch.safetensors           safetensors read/write (no pip package needed)
  python/train.py                     the trainers: prior, dvae, clip (see python/README.md)
"""
