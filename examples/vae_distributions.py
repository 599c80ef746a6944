"""A small variational autoencoder on the bundled digits, written as a PyTorch program (in the style of
pytorch/examples' VAE) that runs on ember with only its imports changed: ``torch.distributions`` for
the posterior, prior and likelihood, ``@torch.jit.script`` helpers, ``torch.autocast`` and a
``GradScaler``, ``torch.profiler`` around one step, and the legacy ``LongTensor``/``new`` idioms.

Prints the final negative ELBO per sample and whether the loss went down, one line each.
"""

import sys

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.distributions import Bernoulli, Independent, Normal, kl_divergence
from ember.datasets import Digits  # torchvision.datasets.MNIST in the original


@torch.jit.script
def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    std = torch.exp(0.5 * logvar)
    eps = torch.randn_like(std)
    return mu + eps * std


@torch.jit.ignore
def describe(step: int, loss: float) -> str:
    return f"step {step}: {loss:.2f}"


class VAE(nn.Module):
    latent: torch.jit.Final[int]

    def __init__(self, in_dim=64, hidden=128, latent=8):
        super().__init__()
        self.latent = latent
        self.enc = nn.Linear(in_dim, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.dec1 = nn.Linear(latent, hidden)
        self.dec2 = nn.Linear(hidden, in_dim)

    def encode(self, x):
        h = F.relu(self.enc(x))
        return self.mu(h), self.logvar(h)

    def decode(self, z):
        return self.dec2(F.relu(self.dec1(z)))

    def forward(self, x):
        mu, logvar = self.encode(x)
        posterior = Independent(Normal(mu, torch.exp(0.5 * logvar)), 1)
        z = posterior.rsample() if self.training else mu
        if not torch.jit.is_scripting():
            assert torch.allclose(reparameterize(mu, logvar).mean(), posterior.mean.mean(), atol=1.0)
        return self.decode(z), posterior


def loss_function(logits, x, posterior):
    likelihood = Independent(Bernoulli(logits=logits), 1)
    prior = Independent(Normal(torch.zeros_like(posterior.mean), torch.ones_like(posterior.mean)), 1)
    return -(likelihood.log_prob(x) - kl_divergence(posterior, prior)).mean()


def main():
    torch.manual_seed(0)
    dataset = Digits()
    data = dataset.data.reshape(len(dataset), -1).type(torch.FloatTensor) / 16.0
    data = torch.bernoulli(data)  # binarised, as the MNIST VAE
    model = VAE(in_dim=data.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    losses = []
    batch = 128
    for step in range(120):
        index = torch.randint(0, data.shape[0], (batch,))
        x = data[index]
        with torch.autocast("cpu", enabled=False):
            logits, posterior = model(x)
            loss = loss_function(logits, x, posterior)
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append(loss.item())
    with torch.profiler.profile() as prof:
        with torch.profiler.record_function("eval"):
            model.eval()
            with torch.no_grad():
                logits, posterior = model(data[:256])
                final = loss_function(logits, data[:256], posterior).item()
    assert "eval" in prof.key_averages().table(sort_by="cpu_time_total")
    ids = torch.LongTensor([0, 1, 2])
    assert x.new(ids.shape).shape == ids.shape and ids.type() == "torch.LongTensor"
    print(f"negative elbo {final:.3f}")
    print(f"improved {np.mean(losses[-10:]) < np.mean(losses[:10])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
