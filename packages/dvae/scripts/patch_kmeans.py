"""What V codes per 4x4 patch can reach without any learning of context: k-means on the
training images' non-overlapping patches, held-out PSNR of replacing each patch by its nearest
centroid. A dVAE's decoder also sees neighbouring tokens, so a well-trained one should beat this;
it is the yardstick for choosing the codebook size and for reading a dVAE's PSNR.

    node ../datasets/scripts/pack-emoji.mjs --size 32 --out /tmp/emoji-32
    /usr/bin/python3 scripts/patch_kmeans.py --data /tmp/emoji-32 --codes 512 1024 8192
"""
import argparse
import json
import math
import os

import numpy as np
import torch


def load(base):
    header = json.load(open(base + '.json'))
    size = header['imageSize']
    pixels = np.fromfile(base + '.u8', dtype=np.uint8).astype(np.float32) / 255
    return torch.from_numpy(pixels.reshape(header['length'], 3, size, size))


def patches(images, p):
    """[N, C, H, W] -> [N * (H/p) * (W/p), C * p * p]."""
    return images.unfold(2, p, p).unfold(3, p, p).permute(0, 2, 3, 1, 4, 5).reshape(-1, images.shape[1] * p * p)


def nearest(x, centroids):
    return torch.cat([torch.cdist(chunk, centroids).argmin(1) for chunk in x.split(65536)])


def kmeans(x, k, iterations, generator):
    centroids = x[torch.randperm(len(x), generator=generator)[:k]].clone()
    for _ in range(iterations):
        assigned = nearest(x, centroids)
        sums = torch.zeros_like(centroids).index_add_(0, assigned, x)
        counts = torch.bincount(assigned, minlength=k).float()
        # An empty cluster restarts at a random patch rather than staying dead.
        restart = x[torch.randint(0, len(x), (k,), generator=generator)]
        centroids = torch.where((counts == 0)[:, None], restart, sums / counts.clamp_min(1)[:, None])
    return centroids


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='directory with emoji-train.{u8,json} and emoji-heldout.{u8,json}')
    p.add_argument('--codes', type=int, nargs='+', default=[512])
    p.add_argument('--patch', type=int, default=4, help='patch side: the image side over the token grid side')
    p.add_argument('--iterations', type=int, default=25)
    p.add_argument('--threads', type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    train = patches(load(os.path.join(a.data, 'emoji-train')), a.patch)
    held_out = patches(load(os.path.join(a.data, 'emoji-heldout')), a.patch)
    for k in a.codes:
        centroids = kmeans(train, k, a.iterations, torch.Generator().manual_seed(0))
        mse = ((centroids[nearest(held_out, centroids)] - held_out) ** 2).mean().item()
        print(f'{k} codes, {a.patch}x{a.patch} patches: held-out PSNR {10 * math.log10(1 / mse):.2f} dB', flush=True)


if __name__ == '__main__':
    main()
