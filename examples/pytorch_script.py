"""A typical PyTorch training script (CNN, BatchNorm, Dropout, Adam, StepLR, gradient clipping,
checkpoint save/load) running on ember: only the imports differ from the PyTorch original.
"""

import sys

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.utils.data import DataLoader, TensorDataset

CHECKPOINT = sys.argv[1] if len(sys.argv) > 1 else "ckpt.pt"
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)
X = torch.randn(256, 1, 8, 8)
y = (X.mean(dim=(1, 2, 3)) > 0).long()
loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 2)
        self.drop = nn.Dropout(0.1)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)
        x = x.view(x.size(0), -1)
        return self.fc(self.drop(x))

model = Net().to(device)
optimizer = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
for epoch in range(4):
    model.train()
    total = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        total += loss.item() * xb.size(0)
    scheduler.step()
model.eval()
correct = 0
with torch.no_grad():
    for xb, yb in loader:
        pred = model(xb.to(device)).argmax(dim=1)
        correct += (pred == yb.to(device)).sum().item()
acc = correct / len(loader.dataset)
torch.save({"model": model.state_dict(), "opt": optimizer.state_dict(), "epoch": 4}, CHECKPOINT)
state = torch.load(CHECKPOINT, map_location="cpu")
model.load_state_dict(state["model"])
optimizer.load_state_dict(state["opt"])
print(f"accuracy {acc:.3f} lr {scheduler.get_last_lr()[0]:.5f} epoch {state['epoch']}")
