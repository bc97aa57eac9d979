"""CLIP with a ViT image tower in the structure of openai/CLIP's model.py, written for PyTorch
from its published description (module and parameter names as in OpenAI's released state
dicts), at any size. The one PyTorch definition of CLIP: the parity fixtures, the converter's test, the benchmark,
the generate reference and python/train.py import it. Only the ViT variant: OpenAI's ModifiedResNet towers are not supported."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# build_model's argument names, camelCased as Tessera's ClipConfig spells them.
CONFIG_KEYS = ['embedDim', 'imageResolution', 'visionLayers', 'visionWidth', 'visionPatchSize',
               'contextLength', 'vocabSize', 'transformerWidth', 'transformerHeads', 'transformerLayers']


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: x + attn(ln_1(x)), then x + mlp(ln_2(x)); attention is torch's
    MultiheadAttention (in_proj_weight/in_proj_bias, out_proj) on sequence-first input."""

    def __init__(self, width, heads, causal=False):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module('c_fc', nn.Linear(width, 4 * width))
        self.mlp.add_module('gelu', QuickGELU())
        self.mlp.add_module('c_proj', nn.Linear(4 * width, width))
        self.ln_2 = nn.LayerNorm(width)
        self.causal = causal

    def forward(self, x):  # x: [L, N, D]
        mask = None
        if self.causal:
            n = x.shape[0]
            mask = torch.full((n, n), float('-inf'), device=x.device).triu(1)
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, causal=False):
        super().__init__()
        self.width, self.layers = width, layers
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, causal) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, resolution, patch, width, layers, heads, output_dim):
        super().__init__()
        scale = width ** -0.5
        grid = resolution // patch
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x)                                   # [N, W, g, g]
        x = x.flatten(2).transpose(1, 2)                    # [N, g·g, W]
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.ln_pre(x)
        x = self.transformer(x.transpose(0, 1)).transpose(0, 1)
        return self.ln_post(x[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, embedDim, imageResolution, visionLayers, visionWidth, visionPatchSize,
                 contextLength, vocabSize, transformerWidth, transformerHeads, transformerLayers, visionHeads=None):
        super().__init__()
        self.visual = VisionTransformer(imageResolution, visionPatchSize, visionWidth, visionLayers,
                                        visionHeads or visionWidth // 64, embedDim)
        self.transformer = Transformer(transformerWidth, transformerLayers, transformerHeads, causal=True)
        self.token_embedding = nn.Embedding(vocabSize, transformerWidth)
        self.positional_embedding = nn.Parameter(torch.empty(contextLength, transformerWidth))
        self.ln_final = nn.LayerNorm(transformerWidth)
        self.text_projection = nn.Parameter(torch.empty(transformerWidth, embedDim))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self.init_parameters()

    def init_parameters(self):
        """OpenAI's initialisation of the text side and of every residual block."""
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        for tower in (self.transformer, self.visual.transformer):
            width, layers = tower.width, tower.layers
            proj_std = width ** -0.5 * (2 * layers) ** -0.5
            for block in tower.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=width ** -0.5)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=self.transformer.width ** -0.5)

    def encode_image(self, images):
        return self.visual(images)

    def encode_text(self, tokens):
        x = self.token_embedding(tokens) + self.positional_embedding
        x = self.transformer(x.transpose(0, 1)).transpose(0, 1)
        x = self.ln_final(x)
        # The end-of-text token has the highest id: its position carries the text's feature.
        return x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)] @ self.text_projection

    def forward(self, images, tokens, gather=None, features=False):
        """(logits per image, logits per text). With `gather` (a distributed all-gather of a rank's
        rows, gradients flowing back to their rank), the logits are those of the global batch: every
        rank's images against every rank's texts, as one process would compute them. features=True:
        the L2-normalised (image, text) features instead."""
        img = self.encode_image(images)
        txt = self.encode_text(tokens)
        img = img / img.norm(dim=1, keepdim=True)
        txt = txt / txt.norm(dim=1, keepdim=True)
        if features:
            return img, txt
        if gather is not None:
            img, txt = gather(img), gather(txt)
        logits_per_image = self.logit_scale.exp() * img @ txt.t()
        return logits_per_image, logits_per_image.t()


def contrastive_loss(logits_per_image, logits_per_text):
    """Symmetric InfoNCE: the i-th image matches the i-th text."""
    labels = torch.arange(logits_per_image.shape[0], device=logits_per_image.device)
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


def build(config):
    return CLIP(**{k: config[k] for k in CONFIG_KEYS}, visionHeads=config.get('visionHeads'))


def config_from_state_dict(sd):
    """OpenAI's build_model inference of the sizes from a ViT state dict (camelCased);
    visionHeads is width/64 there, which a converted state dict cannot reveal otherwise."""
    if 'visual.proj' not in sd:
        raise ValueError('not a ViT CLIP state dict (no visual.proj): ResNet image towers are not supported')
    vision_width = sd['visual.conv1.weight'].shape[0]
    patch = sd['visual.conv1.weight'].shape[-1]
    grid = round((sd['visual.positional_embedding'].shape[0] - 1) ** 0.5)
    width = sd['ln_final.weight'].shape[0]
    return {
        'embedDim': sd['text_projection'].shape[1],
        'imageResolution': patch * grid,
        'visionLayers': len({k.split('.')[3] for k in sd if k.startswith('visual.transformer.resblocks.')}),
        'visionWidth': vision_width,
        'visionPatchSize': patch,
        'contextLength': sd['positional_embedding'].shape[0],
        'vocabSize': sd['token_embedding.weight'].shape[0],
        'transformerWidth': width,
        'transformerHeads': width // 64,
        'transformerLayers': len({k.split('.')[2] for k in sd if k.startswith('transformer.resblocks.')}),
        'visionHeads': vision_width // 64,
    }
