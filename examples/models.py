"""The bundled example pair that `npm start` compares: seed-cases.md's case 1 as the base branch's model and
case 3 as the pull request's (conv1 now called twice, conv2 declared but never called).

Each `build` function is what a repository's export command would run; `scripts/make_examples.sh` runs them
with Debian's PyTorch and the paramtrace export helper, so the files carry the declared-parameter manifest.
"""
import torch
from torch import nn


def _conv():
    return nn.Conv2d(in_channels=1, out_channels=1, kernel_size=3, stride=1, padding=1, bias=False)


class Base(nn.Module):
    """Case 1: conv2(conv1(x))."""

    def __init__(self):
        super().__init__()
        self.conv1 = _conv()
        self.conv2 = _conv()

    def forward(self, x):
        return self.conv2(self.conv1(x))


class Head(Base):
    """Case 3: conv1(conv1(x)); conv2 stays declared."""

    def forward(self, x):
        return self.conv1(self.conv1(x))


def base():
    torch.manual_seed(0)
    return Base()


def head():
    torch.manual_seed(0)
    return Head()
