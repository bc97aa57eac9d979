"""Tessera's model directories, read and written as they are (no conversion step: the weights are
safetensors under the PyTorch modules' own state-dict names):

- a bundle (manifest format 'tessera-bundle', @tessera/dalle): components textTokenizer, dvae,
  prior and optionally clip, each {kind, config, files: {role: path}, provenance};
- a component directory: 'tessera-prior' (prior.safetensors, tokenizer.json beside it as
  train-prior.mjs writes it), 'tessera-dvae' (encoder.safetensors, decoder.safetensors) or
  'tessera-clip' (clip.safetensors, tokenizer.json).

`locate(path, component)` finds a component's config and files in either; `write_trained` writes
the trained weights into a copy of that directory (the rest copied unchanged, the run recorded in
the manifests), replacing the output directory atomically, so Tessera loads it unchanged.
"""
import json
import os
import shutil

from .safetensors import read_safetensors, write_safetensors

COMPONENT_FILES = {
    'prior': {'weights': 'prior.safetensors'},
    'dvae': {'encoder': 'encoder.safetensors', 'decoder': 'decoder.safetensors'},
    'clip': {'weights': 'clip.safetensors'},
}
NOT_COPIED = {'checkpoints'}  # training state never travels inside a model directory


class Located:
    """A component found in a directory: its config, weight files by role, its text tokenizer file."""

    def __init__(self, root, component, manifest, config, files, tokenizer, bundle):
        self.root, self.component, self.manifest, self.config = root, component, manifest, config
        self.files, self.tokenizer, self.bundle = files, tokenizer, bundle

    def weights(self, role):
        import torch
        return {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(os.path.join(self.root, self.files[role])).items()}


def read_manifest(path):
    file = os.path.join(path, 'manifest.json')
    if not os.path.exists(file):
        raise FileNotFoundError(f'{path} has no manifest.json: give a Tessera bundle or a prior / dvae / clip directory')
    with open(file, encoding='utf-8') as f:
        return json.load(f)


def locate(path, component):
    manifest = read_manifest(path)
    fmt = manifest.get('format')
    if fmt == 'tessera-bundle':
        entry = manifest['components'].get(component)
        if entry is None:
            raise ValueError(f'the bundle {path} has no {component} component (it has {", ".join(manifest["components"])})')
        tokenizer = None
        if component == 'prior':
            tokenizer = manifest['components']['textTokenizer']['files']['tokenizer']
        elif component == 'clip':
            tokenizer = entry['files'].get('tokenizer')
        return Located(path, component, manifest, entry['config'], dict(entry['files']), tokenizer, True)
    if fmt == f'tessera-{component}':
        tokenizer = manifest.get('tokenizer', 'tokenizer.json') if component in ('prior', 'clip') else None
        if tokenizer is not None and not os.path.exists(os.path.join(path, tokenizer)):
            tokenizer = None
        return Located(path, component, manifest, manifest['config'], dict(COMPONENT_FILES[component]), tokenizer, False)
    raise ValueError(f"{path}/manifest.json has format {fmt!r}: give a 'tessera-bundle' or a 'tessera-{component}' directory")


def _copy_tree(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name in NOT_COPIED or name.startswith('.'):
            continue
        s, d = os.path.join(src, name), os.path.join(dst, name)
        if os.path.isdir(s):
            _copy_tree(s, d)
        else:
            shutil.copy2(s, d)


def _write_json(path, value):
    with open(path, 'w', encoding='utf-8') as f:
        f.write(json.dumps(value, indent=2, ensure_ascii=False) + '\n')


def write_trained(out, component, weights, run, located=None, config=None, tokenizer_file=None):
    """Writes `weights` ({role: {name: tensor}}) as `component` into OUT: a copy of `located`'s
    directory (a bundle or a component directory) with those files replaced, or, from scratch, a
    new component directory with `config` (and `tokenizer_file` copied beside it). `run` (command,
    steps, recipe, metrics, ...) is appended to the component's `torchTraining` list in its
    manifest(s). OUT is replaced atomically: written beside it, then renamed over it."""
    out = out.rstrip('/')
    staging, previous = out + '.saving', out + '.previous'
    shutil.rmtree(staging, ignore_errors=True)
    if located is not None:
        _copy_tree(located.root, staging)
        files = located.files
        manifest = json.loads(json.dumps(located.manifest))
    else:
        os.makedirs(staging)
        files = dict(COMPONENT_FILES[component])
        manifest = {'format': f'tessera-{component}', 'version': 1, 'config': config}
        if tokenizer_file is not None:
            shutil.copy2(tokenizer_file, os.path.join(staging, 'tokenizer.json'))
            if component == 'clip':
                manifest['tokenizer'] = 'tokenizer.json'
    for role, tensors in weights.items():
        path = os.path.join(staging, files[role])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_safetensors(path, {k: v.detach().float().cpu() for k, v in tensors.items()})
    if located is not None and located.bundle:
        entry = manifest['components'][component]
        provenance = entry.setdefault('provenance', {})
        provenance['torchTraining'] = [*provenance.get('torchTraining', []), run]
        # The component's own directory manifest (prior/manifest.json, dvae/manifest.json), when there is one.
        own = os.path.join(staging, os.path.dirname(files[next(iter(files))]), 'manifest.json')
        if os.path.dirname(files[next(iter(files))]) and os.path.exists(own):
            with open(own, encoding='utf-8') as f:
                sub = json.load(f)
            sub['torchTraining'] = [*sub.get('torchTraining', []), run]
            _write_json(own, sub)
    else:
        manifest['torchTraining'] = [*manifest.get('torchTraining', []), run]
    _write_json(os.path.join(staging, 'manifest.json'), manifest)
    shutil.rmtree(previous, ignore_errors=True)
    if os.path.exists(out):
        os.rename(out, previous)
    os.rename(staging, out)
    shutil.rmtree(previous, ignore_errors=True)
