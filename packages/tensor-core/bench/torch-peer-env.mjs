// How the benchmarks start their PyTorch CPU peer.
export const torchPython = process.env.TORCH_PYTHON ?? '/usr/bin/python3'

/**
 * torch runs its own 2 intra-op threads; OpenBLAS (Debian's torch calls it for GEMMs) must
 * not start its own pool under them: nested, the two oversubscribed 2 cores and a small
 * transformer step took 439 ms instead of 24 ms, while a lone 1024³ matmul ran at 88 GFLOP/s
 * either way.
 */
export const torchEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1' }
