"""PyTorch models with known parameter-count truths, for paramtrace's ground-truth tests.

MODELS = {name: (factory, example_inputs_factory)}: factory() builds the model (seed the RNG first for fixed
weights), example_inputs_factory() returns a tuple of example input tensors. torch_truth.py builds, measures and
exports them. Runs on /usr/bin/python3 (PyTorch 1.13) and .cache/torch2/bin/python (PyTorch 2.x). Needs torch,
and torchvision for resnet18 (both worlds have it).
"""

from __future__ import annotations

import weakref

import torch
import torch.nn as nn


def _conv():
    # The seed cases' layer: 1 -> 1 channel, 3x3, padding 1, no bias: 9 weights.
    return nn.Conv2d(in_channels=1, out_channels=1, kernel_size=3, stride=1, padding=1, bias=False)


def _seed_input():
    return (torch.randn(1, 1, 512, 512),)


class SeedCase1(nn.Module):
    """Case 1, no sharing: declares conv1 and conv2, runs conv2(conv1(x))."""

    def __init__(self):
        super().__init__()
        self.conv1 = _conv()
        self.conv2 = _conv()

    def forward(self, x):
        return self.conv2(self.conv1(x))


class SeedCase2(nn.Module):
    """Case 2, sharing: declares conv1, runs conv1(conv1(x))."""

    def __init__(self):
        super().__init__()
        self.conv1 = _conv()

    def forward(self, x):
        return self.conv1(self.conv1(x))


class SeedCase3(nn.Module):
    """Case 3, unused layer: declares conv1 and conv2, runs conv1(conv1(x))."""

    def __init__(self):
        super().__init__()
        self.conv1 = _conv()
        self.conv2 = _conv()

    def forward(self, x):
        return self.conv1(self.conv1(x))


def _resnet18():
    import torchvision

    return torchvision.models.resnet18(weights=None)


class TiedEmbedding(nn.Module):
    """An Embedding(100, 16) whose weight is also the output head's weight (one tensor, two names)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.head = nn.Linear(16, 100)
        self.head.weight = self.emb.weight

    def forward(self, tokens):
        return self.head(self.emb(tokens))


class RepeatedLayer(nn.Module):
    """One Linear(16, 16) applied three times."""

    def __init__(self, repeats=3):
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.repeats = repeats

    def forward(self, x):
        for _ in range(self.repeats):
            x = torch.relu(self.fc(x))
        return x


class UnusedModule(nn.Module):
    """An encoder and a decoder that forward runs, and an auxiliary head it never calls."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(16, 32)
        self.decoder = nn.Linear(32, 4)
        self.aux_head = nn.Linear(32, 10)

    def forward(self, x):
        return self.decoder(torch.relu(self.encoder(x)))


class FrozenBackbone(nn.Module):
    """A small convolutional backbone with requires_grad=False and a trainable Linear head."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        return self.head(self.backbone(x))


class LstmAttention(nn.Module):
    """nn.LSTM then nn.MultiheadAttention (parameters weight_ih_l0, in_proj_weight, out_proj.weight, ...)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=16, hidden_size=32, num_layers=1)
        self.attn = nn.MultiheadAttention(embed_dim=32, num_heads=4)

    def forward(self, x):  # x: (seq, batch, 16)
        h, _ = self.lstm(x)
        out, _ = self.attn(h, h, h, need_weights=False)
        return out


class FreshBN(nn.Module):
    """Conv -> BN -> ReLU -> Conv -> BN, freshly initialised: many equal-valued tensors.

    bn*.weight and bn*.running_var are all ones, bn*.bias, bn*.running_mean and conv2.bias all zeros; an
    exporter that merges by value makes them look shared.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        nn.init.zeros_(self.conv2.bias)
        self.bn2 = nn.BatchNorm2d(8)

    def forward(self, x):
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))


class IfModel(nn.Module):
    """Data-dependent control flow; scripted, so that the ONNX graph has an If node."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, x):
        if x.sum() > 0:
            y = self.a(x)
        else:
            y = self.b(x)
        return y


# A scripted module accepts no forward hooks; torch_truth.py measures calls on the eager module it was scripted
# from (torch.jit.script shares the parameter tensors).
_EAGER = weakref.WeakKeyDictionary()


def eager_twin(model):
    """The eager module a scripted model of this registry was made from (the model itself otherwise)."""
    return _EAGER.get(model, model)


def _scripted_if():
    eager = IfModel()
    scripted = torch.jit.script(eager)
    _EAGER[scripted] = eager
    return scripted


MODELS = {
    'seed1': (SeedCase1, _seed_input),
    'seed2': (SeedCase2, _seed_input),
    'seed3': (SeedCase3, _seed_input),
    'resnet18': (_resnet18, lambda: (torch.randn(1, 3, 224, 224),)),
    'tied_embedding': (TiedEmbedding, lambda: (torch.randint(0, 100, (1, 8), dtype=torch.int64),)),
    'repeated_layer': (RepeatedLayer, lambda: (torch.randn(1, 16),)),
    'unused_module': (UnusedModule, lambda: (torch.randn(1, 16),)),
    'frozen_backbone': (FrozenBackbone, lambda: (torch.randn(1, 3, 32, 32),)),
    'lstm_attention': (LstmAttention, lambda: (torch.randn(5, 1, 16),)),
    'fresh_bn': (FreshBN, lambda: (torch.randn(1, 3, 16, 16),)),
    # torch.rand is in [0, 1): the sum is positive, so the trace runs branch `a` and not `b`.
    'scripted_if': (_scripted_if, lambda: (torch.rand(1, 8),)),
}
