"""torchvision's ResNet-50 (v1.5: stride on the 3x3 conv) in plain torch, for the torchinfo baseline.

torchvision cannot be installed here, so the network is written out; module names follow torchvision's, so the
state_dict keys, parameter count (25,557,032) and torchinfo's mult-adds match torchvision.models.resnet50().
Torch runs on one thread (torch.set_num_threads(1); the benchmarks also set OMP_NUM_THREADS=1), as cnncalc does.
Run as a script it is the cold-process baseline: import torch and torchinfo, build, summarize, print the table.
With --serve it is the warm baseline: it builds the model once, then times one torchinfo.summary per line read
from standard input (CPU and wall seconds) and answers with a line of JSON, so that the benchmark can interleave its
own runs.
"""

from __future__ import annotations

import gc
import json
import sys
import time

from torch import Tensor, nn


class Bottleneck(nn.Module):
    def __init__(self, in_channels: int, width: int, stride: int) -> None:
        super().__init__()
        out = width * 4
        self.conv1 = nn.Conv2d(in_channels, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample: nn.Module | None = None
        if stride != 1 or in_channels != out:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)
            )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + identity)


class ResNet50(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        channels = 64
        for index, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
            stage = []
            for block in range(blocks):
                stage.append(Bottleneck(channels, width, stride if block == 0 else 1))
                channels = width * 4
            setattr(self, f"layer{index}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def serve() -> None:
    import torch
    from torchinfo import summary

    torch.set_num_threads(1)  # as cnncalc: one thread (the benchmarks also set OMP_NUM_THREADS=1)
    model = ResNet50().eval()
    summary(model, input_size=(1, 3, 224, 224), verbose=0)  # warm-up: the first forward pass allocates
    print(json.dumps({"threads": torch.get_num_threads()}), flush=True)
    for _ in sys.stdin:
        gc.collect()  # as the benchmark does before each of its own calls
        start, cpu = time.perf_counter(), time.process_time()
        stats = summary(model, input_size=(1, 3, 224, 224), verbose=0)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(
            json.dumps(
                {"seconds": seconds, "cpu": cpu, "params": stats.total_params, "mult_adds": stats.total_mult_adds}
            ),
            flush=True,
        )


def main() -> None:
    import torch
    from torchinfo import summary

    torch.set_num_threads(1)
    model = ResNet50().eval()
    print(summary(model, input_size=(1, 3, 224, 224), verbose=0))


if __name__ == "__main__":
    if "--serve" in sys.argv[1:]:
        serve()
    else:
        main()
