"""The lesson's circle-v2 as a learner would run it by hand: one script, nothing saved.

The baseline of `cold_train.py`. The same work as `zoo train circle-v2` with its defaults:
the lesson's data and split, seed 42, SGD at lr 0.1 with momentum 0.9, 1000 full-batch
epochs, both splits evaluated and a log line printed every 100 epochs, one torch thread.
"""

import torch
from sklearn.datasets import make_circles
from sklearn.model_selection import train_test_split
from torch import nn

torch.set_num_threads(1)
X, y = make_circles(n_samples=1000, noise=0.03, random_state=42)
X = torch.from_numpy(X).type(torch.float)
y = torch.from_numpy(y).type(torch.float)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

torch.manual_seed(42)
model = nn.Sequential(nn.Linear(2, 10), nn.ReLU(), nn.Linear(10, 10), nn.ReLU(), nn.Linear(10, 1))
loss_fn = nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return torch.eq(torch.round(torch.sigmoid(logits)), labels).sum().item() / len(labels) * 100


for epoch in range(1, 1001):
    model.train()
    loss = loss_fn(model(X_train).squeeze(1), y_train)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0:
        model.eval()
        with torch.inference_mode():
            train_logits, test_logits = model(X_train).squeeze(1), model(X_test).squeeze(1)
            print(
                f"Epoch: {epoch} | Loss: {loss_fn(train_logits, y_train):.5f}, "
                f"Accuracy: {accuracy(train_logits, y_train):.2f}% | "
                f"Test loss: {loss_fn(test_logits, y_test):.5f}, "
                f"Test acc: {accuracy(test_logits, y_test):.2f}%"
            )
