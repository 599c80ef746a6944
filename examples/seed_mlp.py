"""The mission's seed program, unchanged but for its imports, on a small synthetic data set.

The data: ten fixed random 28x28 "prototype" images, one per class; each sample is its class's
prototype plus noise. ``trainloader`` is a list of (inputs, labels) batches, as a DataLoader yields.
Run: ``python examples/seed_mlp.py``.
"""

import numpy as np

import ember as torch
import ember.nn as nn
import ember.optim as optim


def make_trainloader(n_samples=640, batch_size=64, seed=0):
    """Batches of (inputs [B, 1, 28, 28] float32, labels [B] int64) from a seeded synthetic task."""
    rng = np.random.default_rng(seed)
    prototypes = rng.standard_normal((10, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, n_samples)
    images = prototypes[labels] + 2.0 * rng.standard_normal((n_samples, 1, 28, 28)).astype(np.float32)
    return [(torch.from_numpy(images[i:i + batch_size]), torch.from_numpy(labels[i:i + batch_size]))
            for i in range(0, n_samples, batch_size)]


torch.manual_seed(0)
trainloader = make_trainloader()

# ---- the seed program, verbatim ----
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(28 * 28, 512)
        self.fc2 = nn.Linear(512, 10)
    def forward(self, x):
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = self.fc2(x)
        return x
model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model.parameters(), lr=0.01)
for epoch in range(10):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels = data
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    print('Epoch %d, Loss: %.3f' % (epoch + 1, running_loss / len(trainloader)))
print('Finished Training')
