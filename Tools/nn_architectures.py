"""The depth networks StrataNN must run, rebuilt in PyTorch with the public repositories'
layer types and forward passes, in any width and depth: MiDaS v2.1 small (EfficientNet-Lite
backbone and the "scratch" fusion decoder), DPT (a ViT with readout tokens and the
reassemble/fusion head) and Depth Anything V2 (DINOv2 with layer scale and interpolated
position embeddings, under the DPT head it uses).

Used by Tools/make_nn_fixtures.py (small random-weight models, committed) and
Benchmarks/nn_peers.py (full-size random-weight graphs, built at benchmark time).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- shared DPT decoder parts

class ResidualConvUnit(nn.Module):
    """MiDaS/DPT's ResidualConvUnit_custom: ReLU, conv, (BN), ReLU, conv, skip."""

    def __init__(self, features, bn=False):
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1, bias=not bn)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1, bias=not bn)
        self.bn = bn
        if bn:
            self.bn1, self.bn2 = nn.BatchNorm2d(features), nn.BatchNorm2d(features)

    def forward(self, x):
        out = self.conv1(F.relu(x))
        if self.bn:
            out = self.bn1(out)
        out = self.conv2(F.relu(out))
        if self.bn:
            out = self.bn2(out)
        return out + x


class FeatureFusionBlock(nn.Module):
    """FeatureFusionBlock_custom: add the skip through a residual unit, refine, upsample ×2
    (bilinear, align_corners=True), project 1×1."""

    def __init__(self, features, bn=False, size_from_skip=False):
        super().__init__()
        self.res1 = ResidualConvUnit(features, bn)
        self.res2 = ResidualConvUnit(features, bn)
        self.out_conv = nn.Conv2d(features, features, 1)
        self.size_from_skip = size_from_skip

    def forward(self, x, skip=None, size=None):
        if skip is not None:
            x = x + self.res1(skip)
        x = self.res2(x)
        if size is not None:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        else:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
        return self.out_conv(x)


class Scratch(nn.Module):
    """The decoder: 3×3 convs bring four feature maps to one width, fusion from coarse to
    fine, and the depth head (conv, upsample ×2, conv, ReLU, 1×1 conv, ReLU)."""

    def __init__(self, in_channels, features, head_features=32, bn=False, sized_fusion=False):
        super().__init__()
        self.layer_rn = nn.ModuleList(nn.Conv2d(c, features, 3, padding=1, bias=False) for c in in_channels)
        self.refine = nn.ModuleList(FeatureFusionBlock(features, bn) for _ in in_channels)
        self.sized_fusion = sized_fusion
        self.head = nn.Sequential(
            nn.Conv2d(features, features // 2, 3, padding=1),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
            nn.Conv2d(features // 2, head_features, 3, padding=1),
            nn.ReLU(True),
            nn.Conv2d(head_features, 1, 1),
            nn.ReLU(True),
        )

    def forward(self, layers):
        rn = [conv(x) for conv, x in zip(self.layer_rn, layers)]
        # Depth Anything V2 upsamples each fusion to the next skip's size; MiDaS ×2.
        size = rn[2].shape[2:] if self.sized_fusion else None
        path = self.refine[3](rn[3], size=size)
        size = rn[1].shape[2:] if self.sized_fusion else None
        path = self.refine[2](path, rn[2], size=size)
        size = rn[0].shape[2:] if self.sized_fusion else None
        path = self.refine[1](path, rn[1], size=size)
        path = self.refine[0](path, rn[0])
        return self.head(path)


# ---------------------------------------------------------------- MiDaS v2.1 small

class MBConv(nn.Module):
    """EfficientNet-Lite's inverted residual: 1×1 expand, depthwise k×k, 1×1 project, each
    with BatchNorm; ReLU6 (Lite drops squeeze-excitation and swish)."""

    def __init__(self, cin, cout, kernel, stride, expand):
        super().__init__()
        mid = cin * expand
        layers = []
        if expand != 1:
            layers += [nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(True)]
        layers += [nn.Conv2d(mid, mid, kernel, stride, kernel // 2, groups=mid, bias=False), nn.BatchNorm2d(mid), nn.ReLU6(True),
                   nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.body = nn.Sequential(*layers)
        self.skip = stride == 1 and cin == cout

    def forward(self, x):
        y = self.body(x)
        return x + y if self.skip else y


class MidasSmall(nn.Module):
    """MiDaS v2.1 small: EfficientNet-Lite3 stages at strides 4, 8, 16, 32 feed the scratch
    decoder (64 features, 32 head features at full size)."""

    def __init__(self, widths=(32, 48, 136, 384), stem=32, blocks=(2, 3, 5, 6), features=64, expand=6, head_features=32):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, stem, 3, 2, 1, bias=False), nn.BatchNorm2d(stem), nn.ReLU6(True),
                                  MBConv(stem, stem // 2, 3, 1, 1))
        stages, cin = [], stem // 2
        kernels = (3, 5, 5, 3)
        for i, (w, n) in enumerate(zip(widths, blocks)):
            layers = [MBConv(cin, w, kernels[i], 2, expand)] + [MBConv(w, w, kernels[i], 1, expand) for _ in range(n - 1)]
            stages.append(nn.Sequential(*layers))
            cin = w
        self.stages = nn.ModuleList(stages)
        self.scratch = Scratch(widths, features, head_features=head_features)

    def forward(self, x):
        x = self.stem(x)
        layers = []
        for stage in self.stages:
            x = stage(x)
            layers.append(x)
        return self.scratch(layers).squeeze(1)


# ---------------------------------------------------------------- ViT (DPT) and DINOv2 (Depth Anything V2)

class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """A pre-norm transformer block; DINOv2 adds LayerScale on both branches."""

    def __init__(self, dim, heads, mlp_ratio=4, layer_scale=None):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * mlp_ratio), nn.GELU(), nn.Linear(dim * mlp_ratio, dim))
        self.ls1 = nn.Parameter(torch.full((dim,), layer_scale)) if layer_scale else None
        self.ls2 = nn.Parameter(torch.full((dim,), layer_scale)) if layer_scale else None

    def forward(self, x):
        a = self.attn(self.norm1(x))
        x = x + (a * self.ls1 if self.ls1 is not None else a)
        m = self.mlp(self.norm2(x))
        return x + (m * self.ls2 if self.ls2 is not None else m)


class Reassemble(nn.Module):
    """DPT's reassemble: tokens → feature map, 1×1 projection, then resampled to strides 4,
    8, 16, 32 (ConvTranspose ×4, ×2, identity, conv stride 2)."""

    def __init__(self, dim, out_channels, readout="project"):
        super().__init__()
        self.readout = readout
        if readout == "project":
            self.readout_proj = nn.ModuleList(nn.Sequential(nn.Linear(2 * dim, dim), nn.GELU()) for _ in out_channels)
        self.projects = nn.ModuleList(nn.Conv2d(dim, c, 1) for c in out_channels)
        self.resize = nn.ModuleList([
            nn.ConvTranspose2d(out_channels[0], out_channels[0], 4, 4),
            nn.ConvTranspose2d(out_channels[1], out_channels[1], 2, 2),
            nn.Identity(),
            nn.Conv2d(out_channels[3], out_channels[3], 3, 2, 1),
        ])

    def forward(self, features, h, w):
        out = []
        for i, x in enumerate(features):
            cls, tokens = x[:, :1], x[:, 1:]
            if self.readout == "project":
                tokens = self.readout_proj[i](torch.cat([tokens, cls.expand_as(tokens)], -1))
            elif self.readout == "add":
                tokens = tokens + cls
            x = tokens.permute(0, 2, 1).reshape(tokens.shape[0], tokens.shape[-1], h, w)
            out.append(self.resize[i](self.projects[i](x)))
        return out


class DPT(nn.Module):
    """DPT-Hybrid/Large's structure on a plain ViT: patch embedding (16×16 conv), class
    token, position embedding, blocks tapped at four depths, readout projection,
    reassemble and the fusion decoder with BatchNorm-free residual units."""

    def __init__(self, dim=768, depth=12, heads=12, patch=16, taps=(2, 5, 8, 11), out_channels=(256, 512, 1024, 1024),
                 features=256, grid=24, head_features=32):
        super().__init__()
        self.patch = patch
        self.embed = nn.Conv2d(3, dim, patch, patch)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, grid * grid + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.taps = taps
        self.reassemble = Reassemble(dim, out_channels, readout="project")
        self.scratch = Scratch(out_channels, features, head_features=head_features)

    def forward(self, x):
        h, w = x.shape[2] // self.patch, x.shape[3] // self.patch
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        taps = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                taps.append(x)
        return self.scratch(self.reassemble(taps, h, w)).squeeze(1)


class DepthAnythingV2(nn.Module):
    """Depth Anything V2: DINOv2 (patch 14, LayerScale, position embeddings interpolated
    bicubically to the input's grid, final LayerNorm on the tapped tokens) under its DPT
    head (class token dropped, sized fusion, ReLU output)."""

    def __init__(self, dim=384, depth=12, heads=6, taps=(2, 5, 8, 11), out_channels=(48, 96, 192, 384), features=64, grid=37,
                 head_features=32):
        super().__init__()
        self.patch = 14
        self.embed = nn.Conv2d(3, dim, 14, 14)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, grid * grid + 1, dim) * 0.02)
        self.grid = grid
        self.blocks = nn.ModuleList(Block(dim, heads, layer_scale=1.0) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.taps = taps
        self.reassemble = Reassemble(dim, out_channels, readout="ignore")
        self.scratch = Scratch(out_channels, features, head_features=head_features, sized_fusion=True)

    def interpolate_pos(self, h, w):
        cls, grid = self.pos[:, :1], self.pos[:, 1:]
        dim = grid.shape[-1]
        grid = grid.reshape(1, self.grid, self.grid, dim).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        return torch.cat([cls, grid.permute(0, 2, 3, 1).reshape(1, h * w, dim)], 1)

    def forward(self, x):
        h, w = x.shape[2] // self.patch, x.shape[3] // self.patch
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.interpolate_pos(h, w)
        taps = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                taps.append(self.norm(x))
        features = self.reassemble(taps, h, w)
        depth = self.scratch(features)
        depth = F.interpolate(depth, size=(h * 14, w * 14), mode="bilinear", align_corners=True)
        return F.relu(depth).squeeze(1)


def randomize(model, seed):
    """Random weights everywhere, BatchNorm statistics included, so every parameter matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))
            elif "ls" in name:
                p.copy_(torch.rand(p.shape, generator=g) * 0.5 + 0.5)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model.eval()
