#!/usr/bin/python3
"""PyTorch reference of @tessera/dalle's generate, loading the same model bundle (a directory whose
manifest.json has format 'tessera-bundle'): a second opinion on the samples and the speed peer of
`pnpm tessera generate`. Nothing here is a copy of a model: the prior, the dVAE, CLIP and the BPE are
the packages' own PyTorch / Python references, imported.

    /usr/bin/python3 packages/dalle/scripts/generate_torch.py "a red heart" --count 8 --keep 4 --json

The same steps as Tessera's generate (packages/dalle/src/generate.ts):
  prompt → the bundle's BPE ids, padded with its pad token to the prior's textLength (too long: an
  error unless --truncate) → `count` candidates drawn token by token with the prior's KV cache
  (tessera_torch.prior.KVCacheDecoder); with guidance the batch carries each candidate twice, the second
  under the null caption (all pads), and the logits mix as uncond + scale·(cond − uncond); then the
  stages temperature → top-k (ties with the k-th kept) → top-p (the smallest set holding p, ties of
  the last kept) → a draw from the softmax, or the argmax with --sampler greedy → the dVAE decodes
  the tokens → CLIP scores exp(logit_scale)·cos(image, prompt) (when the bundle has CLIP) → the best
  `keep`, ties in sampling order. The bundle manifest's `sampling` settings apply where a flag is
  left out, as generate does. Random numbers are torch's, not Tessera's counter-based draws: the same
  seed gives the same images here, not the same images as Tessera (greedy gives the same tokens).

Writes STEM-1.png … STEM-K.png and STEM-grid.png (as the tessera CLI lays them out) to --out;
--json prints one object with the files, scores and timings (seconds per image, image tokens per
second); --dump FILE.safetensors writes the text ids, every candidate's tokens, the guided logits of
every step, the decoded images and the scores (packages/dalle/test/torch-reference.test.ts reads it).
"""
import argparse
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGES = os.path.normpath(os.path.join(HERE, '..', '..'))
REPO = os.path.dirname(PACKAGES)
sys.path.insert(0, os.path.join(REPO, 'python'))  # tessera_torch: the one PyTorch definition of each model

from tessera_torch.bpe import BpeTokenizer, ClipTextTokenizer  # noqa: E402
from tessera_torch.clip import build as build_clip  # noqa: E402
from tessera_torch.dvae import Decoder, images_of  # noqa: E402
from tessera_torch.prior import KVCacheDecoder, Prior  # noqa: E402
from tessera_torch.safetensors import read_safetensors, write_safetensors  # noqa: E402

BUNDLE_FORMAT = 'tessera-bundle'
BUNDLE_VERSION = 1
PAD_TOKEN = '<|pad|>'
# CLIP's per-channel normalisation (OpenAI's _transform), as @tessera/clip-rerank's preprocess.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
SAMPLERS = ('greedy',)


class BundleError(Exception):
    """A bundle this script cannot use, or input it cannot take; main prints the message alone."""


# ---------------------------------------------------------------------------------------------
# The bundle
# ---------------------------------------------------------------------------------------------

def read_manifest(directory):
    path = os.path.join(directory, 'manifest.json')
    if not os.path.exists(path):
        raise BundleError(f'no manifest.json in {directory}: not a model bundle')
    with open(path, encoding='utf-8') as f:
        manifest = json.load(f)
    if manifest.get('format') != BUNDLE_FORMAT or manifest.get('version') != BUNDLE_VERSION:
        raise BundleError(f"{directory} is format {manifest.get('format')!r} version {manifest.get('version')!r}; this reads {BUNDLE_FORMAT!r} version {BUNDLE_VERSION}")
    return manifest


def load_weights(module, path):
    """A safetensors file into a module, every name required (the packages keep PyTorch's names)."""
    tensors = {name: torch.from_numpy(np.array(value)) for name, value in read_safetensors(path).items()}
    module.load_state_dict(tensors, strict=True)
    return module.eval()


def dvae_decoder(config):
    return Decoder(config['groupCount'], config['nInit'], config['nHid'], config['nBlkPerGroup'], config['channels'], config['vocabSize'])


@dataclass
class TorchBundle:
    """The bundle's parts as PyTorch modules: what generate needs."""
    directory: str
    manifest: dict
    tokenizer: BpeTokenizer
    pad_id: int
    prior: Prior
    decoder: Decoder
    dvae_config: dict
    clip: Optional[torch.nn.Module]
    clip_tokenizer: Optional[ClipTextTokenizer]

    @property
    def grid(self):
        return tuple(self.prior.config['gridSize'])


def load_bundle(directory):
    manifest = read_manifest(directory)
    parts = manifest['components']
    path = lambda component, role: os.path.join(directory, parts[component]['files'][role])  # noqa: E731
    tokenizer = BpeTokenizer.from_file(path('textTokenizer', 'tokenizer'))
    pad_token = parts['textTokenizer']['config'].get('padToken', PAD_TOKEN)
    pad_id = tokenizer.token_id(pad_token)
    prior_config = parts['prior']['config']
    if pad_id is None or pad_id != prior_config.get('padId', 0):
        raise BundleError(f"the tokenizer's {pad_token} is id {pad_id}; the prior pads with {prior_config.get('padId', 0)}")
    prior = load_weights(Prior(prior_config), path('prior', 'weights'))
    dvae_config = parts['dvae']['config']
    decoder = load_weights(dvae_decoder(dvae_config), path('dvae', 'decoder'))
    clip = clip_tokenizer = None
    if 'clip' in parts:
        clip = load_weights(build_clip(parts['clip']['config']), path('clip', 'weights'))
        if 'tokenizer' not in parts['clip']['files']:
            raise BundleError("the bundle's CLIP has no tokenizer file (OpenAI's merges are not read here): use --reranker none")
        clip_tokenizer = ClipTextTokenizer(BpeTokenizer.from_file(path('clip', 'tokenizer')))
    return TorchBundle(directory, manifest, tokenizer, pad_id, prior, decoder, dvae_config, clip, clip_tokenizer)


def encode_prompt(bundle, prompt, truncate=False):
    """The prompt as the prior's text input: textLength ids padded with the pad id (generate's encodePrompt)."""
    ids = bundle.tokenizer.encode(prompt)
    T = bundle.prior.T
    if len(ids) > T and not truncate:
        raise BundleError(f'the prompt is {len(ids)} tokens; this model takes at most {T}: shorten it, or pass --truncate')
    return torch.tensor(ids[:T] + [bundle.pad_id] * max(0, T - len(ids)), dtype=torch.long)


# ---------------------------------------------------------------------------------------------
# Sampling: the stages of @tessera/plugins' samplers, on host logits [rows, V]
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sampling:
    guidance: Optional[float] = None
    top_k: Optional[int] = None
    top_p: Optional[float] = None
    temperature: Optional[float] = None
    greedy: bool = False


def with_bundle_defaults(sampling, manifest):
    """The manifest's recommended settings where the caller left an option out (DalleBundle.generate)."""
    recommended = manifest.get('sampling') or {}
    names = {'guidance': 'guidance', 'topK': 'top_k', 'topP': 'top_p', 'temperature': 'temperature'}
    return replace(sampling, **{ours: recommended[key] for key, ours in names.items() if getattr(sampling, ours) is None and key in recommended})


def guided(cond, uncond, scale):
    """Classifier-free guidance (the cfg sampler): uncond + scale·(cond − uncond)."""
    return uncond + (cond - uncond) * scale


def filter_top_k(logits, k):
    """Keeps the k largest logits per row and any tied with the k-th (ops.filterTopK)."""
    kth = logits.topk(min(k, logits.shape[-1]), dim=-1).values[:, -1:]
    return logits.masked_fill(logits < kth, float('-inf'))


def filter_top_p(logits, p):
    """Keeps the smallest set of largest logits whose softmax mass reaches p, plus ties of the last
    kept one (ops.filterTopP)."""
    ordered = logits.sort(dim=-1, descending=True).values
    mass = torch.softmax(ordered, dim=-1).cumsum(-1)
    last = (mass < p * mass[:, -1:]).sum(-1, keepdim=True).clamp(max=logits.shape[-1] - 1)  # first index reaching p
    return logits.masked_fill(logits < ordered.gather(-1, last), float('-inf'))


def transformed(logits, sampling):
    """The stages after guidance, in generate's order: temperature, top-k, top-p."""
    if sampling.temperature is not None and sampling.temperature != 1:
        logits = logits / sampling.temperature
    if sampling.top_k is not None:
        logits = filter_top_k(logits, sampling.top_k)
    if sampling.top_p is not None:
        logits = filter_top_p(logits, sampling.top_p)
    return logits


def pick(logits, sampling, generator):
    if sampling.greedy:
        return logits.argmax(-1)  # the first of tied maxima, as ops.argmax
    return torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator).squeeze(1)


@torch.no_grad()
def sample_tokens(prior, text, count, sampling, generator, record_logits=False):
    """`count` candidates' image tokens [count, H·W] in raster order, with the KV cache. With
    guidance the batch is [cond rows; null-caption rows] and both rows of a candidate take its token.
    Returns (tokens, per-step guided logits [H·W, count, V] when record_logits, else None)."""
    HW = prior.H * prior.W
    rows = text.reshape(1, -1).repeat(count, 1)
    is_guided = sampling.guidance is not None
    if is_guided:
        rows = torch.cat([rows, torch.full_like(rows, prior.config['padId'])], dim=0)
    decoder = KVCacheDecoder(prior, rows)
    tokens = torch.zeros(count, HW, dtype=torch.long)
    steps = []
    for i in range(HW):
        logits = decoder.logits.float()
        if is_guided:
            logits = guided(logits[:count], logits[count:], sampling.guidance)
        if record_logits:
            steps.append(logits.clone())
        tokens[:, i] = pick(transformed(logits, sampling), sampling, generator)
        if i < HW - 1:
            decoder.push(tokens[:, i].repeat(2) if is_guided else tokens[:, i])
    return tokens, (torch.stack(steps) if record_logits else None)


# ---------------------------------------------------------------------------------------------
# Decoding and reranking
# ---------------------------------------------------------------------------------------------

@torch.no_grad()
def decode_images(bundle, tokens):
    """Tokens [N, H·W] → images [N, C, S, S] in [0, 1] (the dVAE's logit-Laplace means, unmapped)."""
    H, W = bundle.grid
    return images_of(bundle.decoder, tokens.reshape(-1, H, W).long(), bundle.dvae_config['vocabSize'], bundle.dvae_config['channels'])


def fit_to_resolution(images, resolution):
    """OpenAI's preprocessing of square images of another size: PIL bicubic (antialiased) resize, as
    @tessera/clip-rerank's resizeAndCrop (square in, square out: no crop needed)."""
    if images.shape[-1] == resolution:
        return images
    from PIL import Image
    planes = images.detach().numpy()
    out = np.stack([np.stack([np.asarray(Image.fromarray(plane, mode='F').resize((resolution, resolution), Image.BICUBIC)) for plane in image]) for image in planes])
    return torch.from_numpy(out)


@torch.no_grad()
def clip_scores(bundle, prompt, images):
    """exp(logit_scale)·cos(image, prompt) per image (@tessera/clip-rerank's clipRerank)."""
    clip = bundle.clip
    config = bundle.manifest['components']['clip']['config']
    row = torch.tensor([bundle.clip_tokenizer.tokenize(prompt, config['contextLength'], truncate=True)], dtype=torch.long)
    pixels = fit_to_resolution(images, config['imageResolution']).clamp(0, 1)
    pixels = (pixels - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    image_features = clip.encode_image(pixels)
    text_features = clip.encode_text(row)
    image_features = image_features / image_features.norm(dim=-1, keepdim=True)
    text_features = text_features / text_features.norm(dim=-1, keepdim=True)
    return (image_features @ text_features.t()).squeeze(1) * clip.logit_scale.exp()


def rank_order(scores):
    """Candidates best first; ties (and NaNs, last) keep sampling order (generate's rankOrder)."""
    key = [-math.inf if math.isnan(s) else s for s in scores]
    return sorted(range(len(key)), key=lambda i: (-key[i], i))


def reranker_name(bundle, requested):
    if requested is None:
        return 'clip' if bundle.clip is not None else 'none'
    if requested not in ('clip', 'none'):
        raise BundleError(f"unknown reranker '{requested}'; this reference has: clip, none")
    if requested == 'clip' and bundle.clip is None:
        raise BundleError('the bundle has no clip component to rerank with')
    return requested


# ---------------------------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------------------------

def generate(bundle, prompt, count=1, keep=None, sampling=Sampling(), seed=0, reranker=None, truncate=False, record_logits=False):
    """Prompt → `count` candidates → decoded → reranked → the best `keep` (all by default), with the
    seconds each stage took."""
    keep = count if keep is None else keep
    if not (1 <= keep <= count):
        raise BundleError(f'keep ({keep}) must be in [1, count ({count})]: it picks the best of the candidates')
    sampling = with_bundle_defaults(sampling, bundle.manifest)
    reranker = reranker_name(bundle, reranker)
    generator = torch.Generator().manual_seed(seed)
    clock = Stopwatch()
    text = encode_prompt(bundle, prompt, truncate)
    clock.lap('encode')
    tokens, logits = sample_tokens(bundle.prior, text, count, sampling, generator, record_logits)
    clock.lap('sample')
    images = decode_images(bundle, tokens)
    clock.lap('decode')
    scores = clip_scores(bundle, prompt, images) if reranker == 'clip' else torch.zeros(count)
    clock.lap('rerank')
    order = rank_order(scores.tolist())[:keep]
    return {
        'text': text, 'tokens': tokens, 'logits': logits, 'images': images, 'scores': scores,
        'order': order, 'reranker': reranker, 'sampling': sampling, 'seconds': clock.laps,
    }


class Stopwatch:
    def __init__(self):
        self.last = time.perf_counter()
        self.laps = {}

    def lap(self, name):
        now = time.perf_counter()
        self.laps[name] = now - self.last
        self.last = now


# ---------------------------------------------------------------------------------------------
# Files: PNGs laid out as the tessera CLI writes them
# ---------------------------------------------------------------------------------------------

def to_bytes(image):
    """[C, S, S] in [0, 1] → uint8 [S, S, 3], rounded half up as planesToRgba's Math.round."""
    pixels = np.floor(np.clip(image.detach().numpy(), 0, 1) * 255 + 0.5).astype(np.uint8)
    if pixels.shape[0] == 1:
        pixels = np.repeat(pixels, 3, axis=0)
    return pixels.transpose(1, 2, 0)


def enlarge(pixels, scale):
    return pixels.repeat(scale, axis=0).repeat(scale, axis=1)


def grid_image(images, scale):
    """Rows of ⌈√n⌉ images with 2-pixel white gutters (the CLI's gridImage)."""
    n = len(images)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    size = images[0].shape[0] * scale
    cell = size + 2
    canvas = np.full((rows * cell + 2, cols * cell + 2, 3), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        y, x = 2 + (i // cols) * cell, 2 + (i % cols) * cell
        canvas[y:y + size, x:x + size] = enlarge(image, scale)
    return canvas


def write_png(path, pixels):
    from PIL import Image
    Image.fromarray(pixels, mode='RGB').save(path)


def slug(text, fallback='image'):
    """A file-name stem from a prompt: "A red heart!" → "a-red-heart" (the CLI's slug)."""
    stem = re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')[:48].rstrip('-')
    return stem or fallback


def write_images(out, stem, images, scale):
    os.makedirs(out, exist_ok=True)
    pixels = [to_bytes(image) for image in images]
    files = []
    for i, image in enumerate(pixels):
        files.append(os.path.join(out, f'{stem}-{i + 1}.png'))
        write_png(files[-1], enlarge(image, scale))
    grid = os.path.join(out, f'{stem}-grid.png')
    write_png(grid, grid_image(pixels, scale))
    return files, grid


def write_dump(path, result):
    """What the parity test compares: text ids, every candidate's tokens, the guided logits of every
    step, the decoded images and the scores, in sampling order."""
    tensors = {
        'text': result['text'].to(torch.int32),
        'tokens': result['tokens'].to(torch.int32),
        'images': result['images'].float(),
        'scores': result['scores'].float().reshape(-1),
    }
    if result['logits'] is not None:
        tensors['logits'] = result['logits'].float()
    write_safetensors(path, tensors)


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

def model_dir(name):
    """--model: a bundle directory, or a name under models/ (TESSERA_MODELS_DIR moves it), as the CLI."""
    models = os.environ.get('TESSERA_MODELS_DIR', os.path.join(REPO, 'models'))
    if name is None:
        return os.path.join(models, 'emoji')
    return name if os.path.isdir(name) else os.path.join(models, name)


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch reference of Tessera's generate on a Tessera model bundle")
    p.add_argument('prompt')
    p.add_argument('-n', '--count', type=int, default=8, help='candidates to sample (8)')
    p.add_argument('-k', '--keep', type=int, default=4, help='images kept, best first by the reranker (4)')
    p.add_argument('-s', '--seed', type=int, default=0)
    p.add_argument('--guidance', type=float, help='classifier-free guidance scale (default: the bundle\'s)')
    p.add_argument('--top-k', type=int)
    p.add_argument('--top-p', type=float)
    p.add_argument('--temperature', type=float)
    p.add_argument('--sampler', choices=SAMPLERS, help='greedy: the argmax instead of a draw')
    p.add_argument('--reranker', help='clip or none (default: clip when the bundle has it)')
    p.add_argument('--truncate', action='store_true', help='cut a prompt longer than the model takes')
    p.add_argument('-m', '--model', help='bundle directory or a name under models/ (default models/emoji)')
    p.add_argument('-o', '--out', default='tessera-torch-out')
    p.add_argument('--scale', type=int, default=1, help='enlarge the PNGs n times')
    p.add_argument('--json', action='store_true', help='print one JSON object: files, scores, timings')
    p.add_argument('--dump', help='write text ids, tokens, logits, images and scores to this safetensors file')
    p.add_argument('--threads', type=int, help="torch's CPU threads (default: torch's own)")
    return p.parse_args(argv)


def main(argv):
    started = time.perf_counter()
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    directory = model_dir(args.model)
    bundle = load_bundle(directory)
    loaded = time.perf_counter() - started
    sampling = Sampling(args.guidance, args.top_k, args.top_p, args.temperature, args.sampler == 'greedy')
    result = generate(bundle, args.prompt, args.count, min(args.keep, args.count), sampling, args.seed, args.reranker, args.truncate, record_logits=args.dump is not None)
    order = result['order']
    files, grid = write_images(args.out, slug(args.prompt), [result['images'][c] for c in order], args.scale)
    if args.dump:
        write_dump(args.dump, result)
    seconds = sum(result['seconds'].values())
    HW = bundle.grid[0] * bundle.grid[1]
    scores = [round(result['scores'][c].item(), 4) for c in order]
    if args.json:
        report = {
            'prompt': args.prompt, 'model': directory, 'files': files, 'grid': grid, 'scores': scores,
            'candidates': order, 'reranker': result['reranker'], 'count': args.count, 'keep': len(order), 'seed': args.seed,
            'sampling': {k: v for k, v in vars(result['sampling']).items() if v is not None},
            'seconds': round(seconds, 3),
            'secondsPerImage': round(seconds / args.count, 4),
            'tokensPerSecond': round(args.count * HW / result['seconds']['sample'], 1),
            'stages': {k: round(v, 4) for k, v in result['seconds'].items()},
            'loadSeconds': round(loaded, 3),
            'threads': torch.get_num_threads(),
            'torch': torch.__version__,
        }
        print(json.dumps(report))
        return
    print(f'"{args.prompt}": kept {len(order)} of {args.count} (reranker {result["reranker"]}) in {seconds:.2f} s '
          f'({seconds / args.count:.3f} s per image, {args.count * HW / result["seconds"]["sample"]:.0f} image tokens/s)')
    for file, score in zip(files, scores):
        print(f'  {file}  score {score}')
    print(f'  {grid}')


if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except BundleError as error:
        sys.stderr.write(f'generate_torch: {error}\n')
        sys.exit(1)
